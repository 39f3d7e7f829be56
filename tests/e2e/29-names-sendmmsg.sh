#!/bin/bash
# 29: `host =` on send decides each message of a sendmmsg, as it decides a
# sendto or a sendmsg: the destination of each datagram is matched by the
# name the process looked it up by. Checked with what UDP receivers got:
# - one sendmmsg of ok.example.test, x.blocked.test, ok.example.test,
#   y.blocked.test (answers 127.0.0.4 and 127.0.0.3): the ok datagrams reach
#   127.0.0.4, the blocked ones are rewritten to the sink on 127.0.0.1 and
#   127.0.0.3 gets nothing; sendmmsg returns 4;
# - a batch whose first message a deny rule refuses fails with its errno,
#   and nothing arrives;
# - a batch to an address no lookup returned goes through untouched.
# Control: the same batch under a policy without the send rule reaches
# 127.0.0.3 (the host rule, not the lookup, moves the datagrams).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only

PROBE="$BUILD/tests/hostprobe"
udp() { # NAME ADDR PORT
	"$PY" "$TOP/tests/helpers/peerwatch.py" serve udp "$2" "$3" >"$T/$1.out" 2>"$T/$1.err" &
	_ns_pids="$_ns_pids $!"
	_names_ready "$1"
}
udp blocked 127.0.0.3 19060 || exit 1
udp ok 127.0.0.4 19060 || exit 1
udp sink 127.0.0.1 19061 || exit 1
got() { grep '^peer' "$T/$1.out" | awk '{print $4}' | sort | tr '\n' ' '; }
# wait until receiver $1 holds $2 datagrams (at most 3 s)
wait_got() { for _ in $(seq 60); do [ "$(grep -c '^peer' "$T/$1.out")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }

names='[blocked-names]
on = resolve
host = *.blocked.test
rewrite = 127.0.0.3

[ok-name]
on = resolve
host = ok.example.test
rewrite = 127.0.0.4
'
Pctl=$(policy ctl.ini <<<"$names")
P=$(policy mmsg.ini <<INI
$names
[sink-blocked]
on = send
host = *.blocked.test
rewrite = 127.0.0.1:19061
INI
)
Pdeny=$(policy deny.ini <<INI
$names
[deny-blocked]
on = send
host = *.blocked.test
deny = EACCES
INI
)

# ---- control: the lookups alone move nothing ----
out=$(shim "$Pctl" "$PROBE" mmsg 19060 ok.example.test x.blocked.test 2>/dev/null)
expect_eq "control: the batch is sent whole" "$out" "mmsg rc=2 errno=0"
wait_got blocked 1
expect_eq "control: without the send rule, the x.blocked.test datagram reaches 127.0.0.3" "$(got blocked)" "x.blocked.test "

# ---- each message decided by its destination's name ----
out=$(shim "$P" "$PROBE" mmsg 19060 ok.example.test x.blocked.test ok.example.test y.blocked.test 2>"$T/mmsg.log")
expect_eq "sendmmsg of 4 datagrams returns 4" "$out" "mmsg rc=4 errno=0"
wait_got sink 2
wait_got ok 3
expect_eq "the sink (rewrite of *.blocked.test) got the two blocked datagrams" "$(got sink)" "x.blocked.test y.blocked.test "
expect_eq "127.0.0.4 got the two ok.example.test ones (and the control's)" "$(got ok)" "ok.example.test ok.example.test ok.example.test "
sleep 0.2
expect_eq "127.0.0.3 got nothing more than the control's datagram" "$(got blocked)" "x.blocked.test "
# both blocked names answered 127.0.0.3 before the batch: the latest lookup names it
expect_eq "log: both rewritten sends carry host=y.blocked.test (the latest lookup of 127.0.0.3)" \
	"$(grep -c 'send .*127\.0\.0\.3:19060 host=y\.blocked\.test rule=sink-blocked actions=rewrite=127\.0\.0\.1:19061' "$T/mmsg.log")" 2

# ---- deny on the first message ----
out=$(shim "$Pdeny" "$PROBE" mmsg 19060 z.blocked.test ok.example.test 2>/dev/null)
expect_eq "a batch whose first message is denied fails with the rule's errno" "$out" "mmsg rc=-1 errno=EACCES"
out=$(shim "$Pdeny" "$PROBE" mmsg 19060 ok.example.test w.blocked.test 2>/dev/null)
expect_eq "a denied second message: the batch stops after the first (sendmmsg's partial count)" "$out" "mmsg rc=1 errno=0"
sleep 0.3
expect_eq "denied: 127.0.0.3 got nothing, the sink nothing more" "$(got blocked)/$(got sink)" "x.blocked.test /x.blocked.test y.blocked.test "

finish
