# log = file: the application closes or replaces the shim's log fd behind its
# back (PITFALLS 32), then opens its own file, which lands on a low fd (or,
# for dup2high, is dup2()ed over every fd it has, the shim's among them):
#   closerange  close_range(3, ~0U, 0)   (hooked)
#   closefrom   closefrom(3)             (hooked; glibc calls close_range inside)
#   closeloop   close() of every fd 3..1023
#   rawclose    syscall(SYS_close_range) (no hook sees it)
#   dup2high    dup2(app file, fd) for every fd >= 3
#   rawdup2     the same by syscall(SYS_dup3) (no hook sees it), then the
#               app waits for the clock's next second
# Then 5 connects that a rule logs, and the app writes its own line.
# Never a byte of ours in the app's file; the shim reopens its log (log.c
# promises it) and the 5 decisions are there; nothing on stderr; exit 0.
# How the shim knows (log.c, emit): the hooks touch the fd's entry in its fd
# table (closerange, closefrom, closeloop, dup2high); a write fails with
# EBADF (rawclose); its once-a-second check (rawdup2: a raw dup2 is the one
# case a line in the same second as the takeover could still miss).
. "$TOP/tests/lib.sh"

PORT=9610
H=$BUILD/tests/rob_log

for mode in closerange closefrom closeloop rawclose dup2high rawdup2; do
	log=$T/$mode.shim.log
	pol=$(policy $mode.ini <<EOF
[global]
log = file:$log
log_level = info

[pin]
on = connect
port = $PORT
source = 127.0.0.2
EOF
)
	out=$(timeout 10 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$H" $mode $PORT "$T/$mode.app" 2> "$T/$mode.err")
	rc=$?
	expect_eq "$mode: exit 0" "$rc" "0"
	expect_match "$mode: 5 connects" "$out" '^connects ok=5$'
	case $mode in
	dup2high | rawdup2) expect_match "$mode: dup2()ed over the shim's fd too" "$out" '^dup2-over fd=' ;;
	*) expect_match "$mode: the app's file landed on fd 3" "$out" '^takeover fd=3$' ;;
	esac
	expect_eq "$mode: the app's file holds only the app's own line" "$(cat "$T/$mode.app")" "app-own-line"
	expect_eq "$mode: the shim's log has its start line" "$(grep -c ' info start .*program=rob_log ' "$log")" "1"
	expect_eq "$mode: the shim reopened its log: the 5 connects are there" \
		"$(grep -c " info connect fd=[0-9]* tcp 127\\.0\\.0\\.1:$PORT rule=pin actions=source=127\\.0\\.0\\.2 rc=0\$" "$log")" "5"
	expect_eq "$mode: nothing on stderr" "$(cat "$T/$mode.err")" ""
done

finish
