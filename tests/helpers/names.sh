# Shell side of the name-lookup tests (tests/e2e/22-29): source it after
# tests/lib.sh. It
#   - skips the test under the seccomp front end, which never sees libc's
#     lookups (names_preload_only);
#   - makes sure no name can be answered from outside: the names the tests
#     use are in no /etc/hosts, and the namespace has no route to any
#     nameserver /etc/resolv.conf names (only loopback), so a lookup the shim
#     does not answer fails (names_no_dns);
#   - starts servers that report what reached them (names_http, names_tcp).
# Background servers are killed when the script exits.

NAMEPROBE="$BUILD/tests/nameprobe"
PY=$(python3 -c 'import sys; print(sys.executable)')
_ns_pids=""
_ns_cleanup() {
	for p in $_ns_pids; do kill "$p" 2>/dev/null; done
	for p in $_ns_pids; do wait "$p" 2>/dev/null; done
}
trap _ns_cleanup EXIT

names_preload_only() {
	if [ "${SOCKSHIM_FRONTEND:-preload}" = seccomp ]; then
		echo "skipped under --seccomp: name lookups happen inside the program, where the supervisor cannot see them"
		exit 77
	fi
}

# names_no_dns NAME...: none of the NAMEs is in /etc/hosts, and every
# nameserver of /etc/resolv.conf is unreachable from here
names_no_dns() {
	local n bad=0 ns
	for n in "$@"; do
		if grep -qiw -- "$n" /etc/hosts; then echo "# $n is in /etc/hosts"; bad=1; fi
	done
	for ns in $(awk '$1 == "nameserver" { print $2 }' /etc/resolv.conf 2>/dev/null); do
		case $ns in 127.*|::1) echo "# nameserver $ns is on loopback"; bad=1 ;; esac
		if ip route get "$ns" >/dev/null 2>&1; then echo "# nameserver $ns is reachable"; bad=1; fi
	done
	[ $bad = 0 ]
}

# names_http NAME ADDR PORT: an HTTP server (tests/helpers/namesrv.py) whose
# lines go to $T/NAME.out: "request PATH host=HOST peer=ADDR"
names_http() {
	"$PY" "$TOP/tests/helpers/namesrv.py" "$2" "$3" >"$T/$1.out" 2>"$T/$1.err" &
	_ns_pids="$_ns_pids $!"
	_names_ready "$1"
}

# names_tcp NAME ADDR PORT: a TCP server printing "peer ADDR PORT" per connection
names_tcp() {
	"$PY" "$TOP/tests/helpers/peerwatch.py" serve tcp "$2" "$3" >"$T/$1.out" 2>"$T/$1.err" &
	_ns_pids="$_ns_pids $!"
	_names_ready "$1"
}

_names_ready() {
	local i=0
	while [ $i -lt 100 ]; do
		grep -q '^ready' "$T/$1.out" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	echo "# server $1 did not start:"
	sed 's/^/#   /' "$T/$1.err"
	return 1
}

# names_requests NAME: the request lines a names_http server saw
names_requests() { grep '^request ' "$T/$1.out"; }
# names_npeers NAME: connections a names_tcp server accepted
names_npeers() { grep -c '^peer ' "$T/$1.out"; }

# names_private_hosts FILE: this test's own /etc/hosts (and a files-only
# nsswitch.conf), bind-mounted in its own mount namespace (tests/run.sh gives
# each script one): glibc's own answers for names held there are the
# reference the shim's rewritten answers are compared with
names_private_hosts() {
	# a copy of /etc, mounted over it: a minimal system may lack either file
	rm -rf "$T/etc" && mkdir "$T/etc" || return 1
	cp -a /etc/. "$T/etc/" 2>/dev/null
	cp "$1" "$T/etc/hosts" && printf 'hosts: files\n' >"$T/etc/nsswitch.conf" && mount --bind "$T/etc" /etc
}
