# Shell side of the seccomp front end's tests (tests/e2e/95-seccomp-*.sh).
# Source it after tests/lib.sh (and peerwatch.sh when servers are needed):
#   . "$TOP/tests/helpers/seccomp.sh"
#
# sup POLICY COMMAND...   run COMMAND under the supervisor with POLICY: the
#                         launcher's `sockshim --seccomp --` when it has it,
#                         else $SOCKSHIM_SUP (a driver calling ss_supervise).
#                         Neither: the script is skipped (exit 77).
# static_c NAME SRC       build SRC with gcc -static into $T/NAME (skip
#                         when there is no static libc).
# is_static FILE          true when FILE has no program interpreter.

if [ -n "${SOCKSHIM_SUP:-}" ] && [ -x "$SOCKSHIM_SUP" ]; then
	SUP=("$SOCKSHIM_SUP")
elif [ -x "$BUILD/sockshim" ] && SOCKSHIM_LOG=none "$BUILD/sockshim" --seccomp -- true >/dev/null 2>&1; then
	SUP=("$BUILD/sockshim" --seccomp --)
else
	echo "skipped: no seccomp supervisor (sockshim --seccomp, or SOCKSHIM_SUP=path of a driver)"
	exit 77
fi

sup() {
	local sup_policy=$1; shift
	SOCKSHIM_POLICY=$sup_policy timeout -k 2 30 "${SUP[@]}" "$@"
}

static_c() {
	if ! gcc -static -std=c11 -D_GNU_SOURCE -O1 -o "$T/$1" "$2" 2>"$T/$1.cc.err"; then
		echo "skipped: gcc -static cannot build $2 (libc6-dev's libc.a):"
		sed 's/^/#   /' "$T/$1.cc.err" | head -5
		exit 77
	fi
}

is_static() { ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'INTERP'; }
