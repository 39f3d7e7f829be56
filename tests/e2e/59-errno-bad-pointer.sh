# An invalid address pointer: libc hands it to the kernel, which answers
# EFAULT. Under the shim the same call must also give (-1, EFAULT), not kill
# the program with SIGSEGV by reading the sockaddr (or msghdr) first.
# Each call runs in a child of rob_errno so a crash is reported, not fatal:
#   connect, bind, setsockopt, sendto (UDP), sendmsg (UDP) given (void *)8
# under: no rule (log at info), no rule (log at debug), and rules for every op.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always

H=$BUILD/tests/rob_errno
bare=$(timeout 20 "$H" badptr 2>&1)
expect_eq "bare: every call gives EFAULT" "$(printf '%s\n' "$bare" | grep -c 'rc=-1 errno=EFAULT$')" "5"

policy empty.ini > /dev/null <<'EOF'
EOF
policy rules.ini > /dev/null <<'EOF'
[out]
on = connect, send
source = 127.0.0.2

[in]
on = bind, listen
reuseaddr = force
EOF

for run in empty:info empty:debug rules:info; do
	name=${run%%:*} level=${run#*:}
	out=$(timeout 20 env SOCKSHIM_LOG=file:$T/$name.$level.log SOCKSHIM_LOG_LEVEL=$level SOCKSHIM_POLICY="$T/$name.ini" \
		LD_PRELOAD="$SHIM" "$H" badptr 2>&1)
	expect_eq "$name/$level: the shim ran" "$(grep -c ' start .*program=rob_errno ' "$T/$name.$level.log")" "1"
	for call in connect bind setsockopt sendto sendmsg; do
		expect_eq "$name/$level: $call with a bad pointer gives EFAULT like libc" \
			"$(printf '%s\n' "$out" | grep "^$call-bad-pointer ")" \
			"$(printf '%s\n' "$bare" | grep "^$call-bad-pointer ")"
	done
done

finish
