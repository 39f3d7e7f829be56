#!/bin/bash
# 95: the supervisor screens a call by its address before it takes the
# socket (a call no rule can match continues without pidfd_getfd): the
# screen must read the address every way the kernel may take it, whatever
# the socket's kind. At log_level = info (debug always asks the socket),
# rules that hold only one protocol and family decide a sockaddr_in sent or
# connected on an IPv6 UDP socket and an AF_UNSPEC send on an IPv4 UDP
# socket: the receiver gets no datagram, the decision is logged. Controls:
# bare runs deliver; a socket of the kind the rule does not hold delivers,
# with no line.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/seccomp.sh"

FG="$BUILD/tests/famgames"
SP=47311
rule() { # NAME FAMILY: a policy denying UDP sends and connects of FAMILY to 127.0.0.1:SP
	policy "$1" <<INI
[global]
log = stderr
log_level = info

[only]
on = send, connect
proto = udp
family = $2
addr = 127.0.0.1
port = $SP
deny = EACCES
INI
}
P6=$(rule v6.ini ipv6)
P4=$(rule v4.ini ipv4)

run_case() { # POLICY CASE: the rule decides it
	local pol=$1 c=$2 bare out
	bare=$("$FG" $c $SP)
	expect_match "$c: bare delivers (control)" "$bare" "^$c rc=[012] errno=0 got=[12] "
	out=$(sup "$pol" "$FG" $c $SP 2>"$T/$c.log")
	expect_eq "$c: denied with the rule's errno, the receiver got nothing" "$out" "$c rc=-1 errno=EACCES got=0 port=-1"
	expect_match "$c: logged as the rule's decision" "$(cat "$T/$c.log")" \
		" info (send|connect) fd=[0-9]+ udp (127\.0\.0\.1|\[::ffff:127\.0\.0\.1\]):$SP rule=only actions=deny=EACCES rc=-1 errno=EACCES via=seccomp"
}
for c in udp6-inet-sendto udp6-inet-sendmsg udp6-inet-connect; do run_case "$P6" $c; done
for c in udp4-unspec-sendto udp4-unspec-sendmsg; do run_case "$P4" $c; done

# the other family's socket is not the rule's: delivered, nothing logged
for pc in "$P6 udp4-unspec-sendto" "$P4 udp6-inet-sendto"; do
	set -- $pc
	out=$(sup "$1" "$FG" $2 $SP 2>"$T/ctl.log")
	expect_match "$2 under the other family's rule: delivered" "$out" "^$2 rc=[012] errno=0 got=[12] "
	check "$2 under the other family's rule: no decision line" bash -c "! grep -q ' info \(send\|connect\) fd=' '$T/ctl.log'"
done
finish
