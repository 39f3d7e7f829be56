# errno preservation (PITFALLS 31): a fixed table of ~75 socket calls (most
# failing: ECONNREFUSED, EADDRNOTAVAIL, EADDRINUSE, EINVAL, ENOTSOCK, EBADF,
# EFAULT, EISCONN, EINPROGRESS/0/EISCONN, ENETUNREACH, EPIPE, ...) with errno
# set to a sentinel before each call, so a success that clobbers errno shows
# too. The printed (rc, errno) sequence must be byte-for-byte the bare one
# under policies that change nothing, with the log at debug (every call
# logged) in a file and on stderr:
#   empty     no rule at all
#   allow     rules with no action keys that match every op (explicit allow)
#   dry-run   mode = dry-run, rules with source/source_port/sockopt/reuse*
#   dry-deny  mode = dry-run, deny = EACCES for every op
#   dry-rw    mode = dry-run, rewrite every op elsewhere
# Also the shim really ran (its log has the start line and dry-run lines).
. "$TOP/tests/lib.sh"

LPORT=9580
CPORT=9581
H=$BUILD/tests/rob_errno

bare=$(timeout 20 "$H" $LPORT $CPORT 2>&1)
expect_match "bare: the table ran to the end" "$bare" '^close-range-empty-ok rc=0 errno=sentinel$'
expect_match "bare: connect to a closed port is ECONNREFUSED" "$bare" '^connect-refused rc=-1 errno=ECONNREFUSED$'
expect_match "bare: bind to a foreign address is EADDRNOTAVAIL" "$bare" '^bind-foreign rc=-1 errno=EADDRNOTAVAIL$'

policy empty.ini > /dev/null <<'EOF'
; no rules
EOF
policy allow.ini > /dev/null <<'EOF'
[allow-all]
on = bind, listen, connect, send
EOF
policy dry-run.ini > /dev/null <<'EOF'
[global]
mode = dry-run

[out]
on = connect, send
source = 127.0.0.2
source_port = 45000-45999
sockopt = SO_KEEPALIVE=1

[in]
on = bind, listen
reuseaddr = force
reuseport = force
sockopt = SO_KEEPALIVE=1
EOF
policy dry-deny.ini > /dev/null <<'EOF'
[global]
mode = dry-run

[deny-all]
on = bind, listen, connect, send
deny = EACCES
EOF
policy dry-rw.ini > /dev/null <<'EOF'
[global]
mode = dry-run

[rw-all]
on = bind, listen, connect, send
rewrite = 127.0.0.9:1
EOF

# same NAME [-v]: compare the sendmmsg rows (or, with -v, all the others)
same() {
	a=$(printf '%s\n' "$bare" | grep ${2:-} '^sendmmsg-')
	b=$(printf '%s\n' "$out" | grep ${2:-} '^sendmmsg-')
	if [ "$a" = "$b" ]; then
		ok "$1"
	else
		not_ok "$1"
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | sed 's/^/#   /' | head -20
	fi
}

for name in empty allow dry-run dry-deny dry-rw; do
	for sink in file stderr; do
		log=$T/$name.$sink.log
		if [ $sink = file ]; then
			out=$(timeout 20 env SOCKSHIM_LOG=file:$log SOCKSHIM_LOG_LEVEL=debug SOCKSHIM_POLICY="$T/$name.ini" \
				LD_PRELOAD="$SHIM" "$H" $LPORT $CPORT 2>&1)
		else
			out=$(timeout 20 env SOCKSHIM_LOG=stderr SOCKSHIM_LOG_LEVEL=debug SOCKSHIM_POLICY="$T/$name.ini" \
				LD_PRELOAD="$SHIM" "$H" $LPORT $CPORT 2> "$log")
		fi
		rc=$?
		expect_eq "$name/$sink: exit 0" "$rc" "0"
		same "$name/$sink: every (rc, errno) identical to the bare run (sendmmsg aside)" -v
		same "$name/$sink: sendmmsg's (rc, errno) identical to the bare run" 
		expect_eq "$name/$sink: the shim ran (one start line)" "$(grep -c ' start .*program=rob_errno ' "$log")" "1"
		expect_match "$name/$sink: calls were logged at debug" "$(cat "$log")" ' connect fd=[0-9]+ tcp 127\.0\.0\.1:9581 '
		case $name in dry-*)
			expect_match "$name/$sink: decisions logged as dry-run" "$(cat "$log")" \
				" connect fd=[0-9]+ tcp 127\\.0\\.0\\.1:$CPORT rule=[a-z-]+ actions=.* dry-run rc=-1 errno=ECONNREFUSED" ;;
		esac
	done
done

finish
