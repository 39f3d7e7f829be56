# The fd table (src/act/fdtab.c) must not trust an entry whose fd was closed where
# no hook saw it. A C program closes a socket with fclose(fdopen(fd)) (glibc
# closes it internally) and a new, unbound TCP socket then arrives on the
# same fd number where no hook sees it either: fcntl(F_DUPFD) or
# recvmsg(SCM_RIGHTS) (a supervisor handing out sockets). Its connect must be
# pinned like any other (rule: source = 127.0.0.2), whatever the number held
# before (a connected TCP socket, or an AF_UNIX socket).
# Kernel truth: getsockname after connect, and the bare server's peers.
#   control  close() + socket(), both hooked: pinned
. "$TOP/tests/lib.sh"

PORT=9680
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
pol=$(policy pin.ini <<EOF
[pin]
on = connect
port = $PORT
source = 127.0.0.2
EOF
)

for mode in control dupfd scm dupfd-unix scm-unix; do
	case $mode in *-unix) n=1 ;; *) n=2 ;; esac
	"$BUILD/tests/rob_server" 127.0.0.1 $PORT $n 10 > "$T/$mode.srv" &
	spid=$!; pids="$pids $spid"
	wait_port $PORT
	out=$(timeout 10 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$BUILD/tests/rob_stale" $mode $PORT 2> "$T/$mode.err"); rc=$?
	wait $spid
	expect_eq "$mode: exit 0" "$rc" "0"
	expect_match "$mode: the shim ran" "$(cat "$T/$mode.err")" ' info start .*program=rob_stale '
	case $mode in *-unix) ;; *)
		expect_match "$mode: the first connect was pinned" "$out" '^first fd=[0-9]+ connect rc=0 local=127\.0\.0\.2$' ;;
	esac
	expect_match "$mode: the new socket got the old fd number" "$out" '^reused fd=[0-9]+ same-number=1 '
	expect_match "$mode: the new socket's connect is pinned (getsockname)" "$out" \
		'^reused fd=[0-9]+ same-number=1 connect rc=0 errno=0 local=127\.0\.0\.2$'
	expect_eq "$mode: the server saw only 127.0.0.2" \
		"$(grep -c '^peer 127\.0\.0\.2:' "$T/$mode.srv")/$(grep -c '^peer ' "$T/$mode.srv")" "$n/$n"
	expect_eq "$mode: every connect logged" "$(grep -c ' info connect .* rule=pin ' "$T/$mode.err")" "$n"
done

finish
