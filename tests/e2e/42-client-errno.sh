#!/bin/bash
# frontends: preload, seccomp
# 42: bad calls under a policy that matches them return exactly the (rc,
# errno) that libc alone returns: closed fd (EBADF), not a socket (ENOTSOCK),
# NULL or unreadable address (EFAULT), short/zero/oversized address length
# (EINVAL), wrong family (EAFNOSUPPORT), already connected (EISCONN), ...
# for connect, sendto, sendmsg and sendmmsg (tests/helpers/badcalls.py calls
# libc through ctypes, so the shim's hooks are the ones called). Compared
# case by case with the same program run without the shim. Under a deny
# or rewrite policy the calls the kernel would reject before looking at the
# destination (bad fd, unreadable or malformed address) must still get the
# kernel's errno.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
BC="$TOP/tests/helpers/badcalls.py"

"$PY" "$BC" 9000 >"$T/bare.txt"
check "bare run: every case reported" test "$(wc -l <"$T/bare.txt")" -ge 20
check "bare run: no case crashed" bash -c "! grep -q killed '$T/bare.txt'"

# compare LABEL FILE [CASES...]: each case's line in FILE against the bare one.
compare() {
	_label=$1 _file=$2
	shift 2
	if [ $# -eq 0 ]; then set -- $(cut -d' ' -f1 "$T/bare.txt"); fi
	for c in "$@"; do
		expect_eq "$_label: $c as without the shim" "$(grep "^$c " "$_file")" "$(grep "^$c " "$T/bare.txt")"
	done
}

P=$(policy source.ini <<'INI'
[everything]
on = connect, send
source = 127.0.0.2
sockopt = SO_KEEPALIVE=1
INI
)
shim "$P" "$PY" "$BC" 9000 >"$T/source.txt" 2>"$T/source.log"
# (the supervisor binds and lets the connect continue in the kernel: the
# line's rc is the preparation's, the program's ECONNREFUSED is compared below)
outcome=' rc=-1 errno=ECONNREFUSED'
[ "${SOCKSHIM_FRONTEND:-preload}" = seccomp ] && outcome=',continue rc=0'
check "source policy: the shim decided the valid calls" grep -q "tcp 127\.0\.0\.1:9 rule=everything actions=sockopt=SO_KEEPALIVE=1,source=127\.0\.0\.2$outcome" "$T/source.log"
compare "source policy" "$T/source.txt"

deny=$(policy deny.ini <<'INI'
[everything]
on = connect, send
deny = EACCES
INI
)
shim "$deny" "$PY" "$BC" 9000 >"$T/deny.txt" 2>"$T/deny.log"
expect_eq "deny policy (control): a valid connect is refused" "$(grep '^connect-refused ' "$T/deny.txt")" "connect-refused rc=-1 errno=EACCES"
compare "deny policy" "$T/deny.txt" connect-closed-fd connect-not-a-socket connect-null-addr connect-bad-pointer \
	connect-short-len connect-len-0 connect-len-huge connect-v6-addr-on-v4 sendto-closed-fd sendto-short-len \
	sendto-bad-pointer sendto-v6-addr-on-v4 sendmsg-short-namelen sendmmsg-closed-fd sendmmsg-bad-pointer

# A rewrite must not turn a call the kernel rejects for its address
# (unreadable, too short, too long, wrong family) into a working one.
rw=$(policy rewrite.ini <<'INI'
[everything]
on = connect, send
rewrite = 127.0.0.1:9000
INI
)
shim "$rw" "$PY" "$BC" 9000 >"$T/rewrite.txt" 2>"$T/rewrite.log"
expect_eq "rewrite policy (control): a refused connect is redirected" "$(grep '^connect-refused ' "$T/rewrite.txt")" "connect-refused rc=0 errno=0"
compare "rewrite policy" "$T/rewrite.txt" connect-closed-fd connect-not-a-socket connect-null-addr connect-bad-pointer \
	connect-short-len connect-len-0 connect-len-huge connect-v6-addr-on-v4 sendto-closed-fd sendto-short-len \
	sendto-bad-pointer sendto-v6-addr-on-v4 sendmsg-short-namelen sendmmsg-closed-fd sendmmsg-bad-pointer

# The probe's own view: connect on a closed fd.
out=$(shim "$P" "$PROBE" tcp4 close connect=127.0.0.1:9000 2>/dev/null)
expect_eq "probe: connect after close -> EBADF" "$out" "close rc=0 errno=0
connect=127.0.0.1:9000 rc=-1 errno=EBADF"
out=$(shim "$P" "$PROBE" udp4 close sendto=127.0.0.1:9000 sendmsg=127.0.0.1:9000 sendmmsg=127.0.0.1:9000 2>/dev/null)
expect_eq "probe: sends after close -> EBADF" "$out" "close rc=0 errno=0
sendto=127.0.0.1:9000 rc=-1 errno=EBADF
sendmsg=127.0.0.1:9000 rc=-1 errno=EBADF
sendmmsg rc=-1 errno=EBADF"

# A failing connect whose source the shim pinned still carries the kernel's
# errno after the shim's own bind, setsockopt and log write.
out=$(shim "$P" "$PROBE" tcp4 connect=127.0.0.1:9 2>/dev/null)
expect_eq "refused connect under source: ECONNREFUSED" "$out" "connect=127.0.0.1:9 rc=-1 errno=ECONNREFUSED"
finish
