# Shared helpers for end-to-end tests. A test script sources this file, makes
# checks with check/expect_eq, and ends with `finish`. tests/run.sh runs each
# script in its own network namespace (only loopback, nothing leaves the
# machine) with these variables set:
#   SHIM      absolute path of libsockshim.so
#   BUILD     absolute path of the build directory (probes in $BUILD/tests)
#   TOP       the source tree
#   T         a fresh temporary directory, removed afterwards
# Every check prints "ok - NAME" or "not ok - NAME"; run.sh counts them.

set -u
_failed=0

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; _failed=1; }

# check NAME COMMAND...: passes when COMMAND exits 0.
check() {
	name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# expect_eq NAME ACTUAL EXPECTED
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   expected: '$3'"; echo "#   actual:   '$2'"; fi
}

# expect_match NAME ACTUAL REGEX (grep -E)
expect_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"; else not_ok "$1"; echo "#   /$3/ not in:"; printf '%s\n' "$2" | sed 's/^/#   | /' | head -20; fi
}

# policy NAME <<EOF ... EOF: write a policy file into $T with safe permissions.
policy() {
	cat > "$T/$1"
	chmod 0644 "$T/$1"
	echo "$T/$1"
}

# shim POLICY COMMAND...: run COMMAND preloaded with the shim, or, when the
# suite runs for the other front end (make test FRONTEND=seccomp), under the
# seccomp supervisor.
shim() {
	local shim_policy=$1; shift
	if [ "${SOCKSHIM_FRONTEND:-preload}" = seccomp ]; then
		SOCKSHIM_POLICY=$shim_policy "$BUILD/sockshim" --seccomp -- "$@"
	else
		SOCKSHIM_POLICY=$shim_policy LD_PRELOAD="$SHIM${LD_PRELOAD:+:$LD_PRELOAD}" "$@"
	fi
}

# wait_port PORT [ADDR]: wait (at most 5 s) until something listens on ADDR:PORT.
wait_port() {
	i=0
	while [ $i -lt 100 ]; do
		if ss -Hltn "sport = :$1" | grep -q .; then return 0; fi
		sleep 0.05; i=$((i + 1))
	done
	echo "# nothing listens on port $1" >&2
	return 1
}

# before_tsan_init WHAT: exit 77 (skipped) in a ThreadSanitizer build, for
# tests that call the shim from a constructor that runs before the shim's:
# TSan's instrumented code crashes when it runs before TSan's runtime starts,
# so such a test can say nothing about the shim there.
before_tsan_init() {
	if ldd "$SHIM" 2>/dev/null | grep -q libtsan; then
		echo "skipped under SANITIZE=thread: $1 runs the shim before TSan's runtime starts"
		exit 77
	fi
}

finish() { exit $_failed; }
