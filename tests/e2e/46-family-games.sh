#!/bin/bash
# frontends: preload, seccomp
# 46: an address spelled in a family other than the socket's, where the
# kernel still acts on it, is decided as the kernel reads it: AF_UNSPEC on
# an IPv4 UDP send (sendto, sendmsg, sendmmsg), a sockaddr_in on an IPv6 UDP
# send or connect, AF_UNSPEC + INADDR_ANY on an IPv4 bind (TCP and UDP). A
# deny rule refuses them: the receiver gets no datagram, getsockname shows
# the socket unbound. The spellings the kernel refuses (or takes as a
# disconnect) get exactly the kernel's answer, not the rule's. Controls: bare
# runs deliver and bind. Also: at log_level=debug, the repeat connect that
# reports a failed non-blocking attempt on a rule-matched socket is logged.
. "$TOP/tests/lib.sh"

FG="$BUILD/tests/famgames"
SP=47211 # sends and connects aim at 127.0.0.1:SP
BP=47212 # binds take port BP
P=$(policy fam.ini <<INI
[global]
log = stderr
log_level = debug

[nosend]
on = send, connect
port = $SP
deny = EACCES

[nobind]
on = bind
port = $BP
deny = EACCES
INI
)

# The kernel acts on these: a rule must decide them.
for c in udp4-unspec-sendto udp4-unspec-sendmsg udp4-unspec-sendmmsg udp6-inet-sendto udp6-inet-sendmsg udp6-inet-connect; do
	bare=$("$FG" $c $SP)
	expect_match "$c: bare delivers (control)" "$bare" "^$c rc=[012] errno=0 got=[12] "
	out=$(shim "$P" "$FG" $c $SP 2>"$T/$c.log")
	expect_eq "$c: denied with the rule's errno, the receiver got nothing" "$out" "$c rc=-1 errno=EACCES got=0 port=-1"
	expect_match "$c: logged as the rule's decision" "$(cat "$T/$c.log")" \
		"(send|connect) fd=[0-9]+ udp (127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):$SP rule=nosend actions=deny=EACCES rc=-1 errno=EACCES"
done
for c in bind-tcp4-unspec-any bind-udp4-unspec-any; do
	bare=$("$FG" $c $BP)
	expect_eq "$c: bare binds (control)" "$bare" "$c rc=0 errno=0 got=-1 port=$BP"
	out=$(shim "$P" "$FG" $c $BP 2>"$T/$c.log")
	expect_eq "$c: denied, and getsockname shows no port" "$out" "$c rc=-1 errno=EACCES got=-1 port=0"
	expect_match "$c: logged as the rule's decision" "$(cat "$T/$c.log")" \
		"bind fd=[0-9]+ (tcp|udp) 0\.0\.0\.0:$BP rule=nobind actions=deny=EACCES rc=-1 errno=EACCES"
done
# the review's own rule: the wildcard named as an address
P0=$(policy fam0.ini <<INI
[nobind]
on = bind
addr = 0.0.0.0
port = $BP
deny = EACCES
INI
)
out=$(shim "$P0" "$FG" bind-tcp4-unspec-any $BP 2>/dev/null)
expect_eq "addr=0.0.0.0 rule: AF_UNSPEC + INADDR_ANY bind denied" "$out" "bind-tcp4-unspec-any rc=-1 errno=EACCES got=-1 port=0"

# The kernel refuses these, or takes them as a disconnect or as no
# destination: its answer, not the rule's.
for c in udp4-unspec-short udp6only-inet-sendto udp6-unspec-sendto udp6only-inet-connect udp4-unspec-connect \
	tcp4-unspec-connect tcp6-inet-connect; do
	bare=$("$FG" $c $SP)
	out=$(shim "$P" "$FG" $c $SP 2>/dev/null)
	expect_eq "$c: the kernel's answer ($bare)" "$out" "$bare"
done
for c in bind-tcp4-unspec-lo bind-tcp6-inet-any bind-tcp6-unspec-any; do
	bare=$("$FG" $c $BP)
	out=$(shim "$P" "$FG" $c $BP 2>/dev/null)
	expect_eq "$c: the kernel's answer ($bare)" "$out" "$bare"
done

# A repeat connect that reports a refused non-blocking attempt: a debug line.
PW=$(policy watch.ini <<'INI'
[global]
log = stderr
log_level = debug

[watch]
on = connect
port = 2
INI
)
rep='import socket, time, errno
s = socket.socket(); s.setblocking(False)
print(errno.errorcode.get(s.connect_ex(("127.0.0.1", 2)), 0)); time.sleep(0.1)
print(errno.errorcode.get(s.connect_ex(("127.0.0.1", 2)), 0))'
bare=$(python3 -c "$rep" | tr '\n' ' ')
expect_eq "repeat connect: bare reports the refusal (control)" "$bare" "EINPROGRESS ECONNREFUSED "
out=$(shim "$PW" python3 -c "$rep" 2>"$T/watch.log" | tr '\n' ' ')
expect_eq "repeat connect: the same answers under the shim" "$out" "$bare"
# (the supervisor lets a connect that a rule without source decided
# continue in the kernel: its line carries the preparation's rc)
first=' rc=-1 errno=EINPROGRESS'
[ "${SOCKSHIM_FRONTEND:-preload}" = seccomp ] && first=',continue rc=0'
expect_match "repeat connect: the first decided by the rule" "$(cat "$T/watch.log")" \
	"connect fd=[0-9]+ tcp 127\.0\.0\.1:2 rule=watch actions=allow$first"
expect_eq "repeat connect: the report has its own debug line" \
	"$(grep -cE "debug connect fd=[0-9]+ tcp 127\.0\.0\.1:2 rule=- " "$T/watch.log")" 1

finish
