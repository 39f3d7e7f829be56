#!/bin/bash
# frontends: preload, seccomp
# 49: a TCP Fast Open connect made with sendmmsg (MSG_FASTOPEN, a
# destination on an unconnected TCP socket) is a `send`, as with sendto and
# sendmsg: a deny fails it with the rule's errno and the server sees no
# connection; a rewrite takes it to the rewritten address (the server there
# sees it, getpeername says so). Control: bare, the batch connects.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

sysctl -qw net.ipv4.tcp_fastopen=3 || { echo "cannot set tcp_fastopen"; exit 77; }
serve tcp tcp 127.0.0.1 9000 || exit 1
serve other tcp 127.0.0.1 9001 || exit 1

out=$("$PROBE" tcp4 fastmmsg=127.0.0.1:9000 peer)
expect_eq "bare (control): sendmmsg with MSG_FASTOPEN connects" "$out" "fastmmsg=127.0.0.1:9000 rc=1 errno=0
peer rc=0 errno=0 remote=127.0.0.1:9000"
wait_peers tcp 1
expect_eq "bare (control): the server saw it" "$(npeers tcp)" 1

D=$(policy deny.ini <<'INI'
[block]
on = send
addr = 127.0.0.0/8
deny = EACCES
INI
)
out=$(shim "$D" "$PROBE" tcp4 fastmmsg=127.0.0.1:9000 name new=tcp4 fastopen=127.0.0.1:9000 2>"$T/deny.log")
expect_eq "deny: sendmmsg with MSG_FASTOPEN gets EACCES, the socket stays unbound (as sendto)" "$out" "fastmmsg=127.0.0.1:9000 rc=-1 errno=EACCES
name rc=0 errno=0 local=0.0.0.0:0
new=tcp4 rc=0 errno=0
fastopen=127.0.0.1:9000 rc=-1 errno=EACCES"
expect_match "deny: logged" "$(cat "$T/deny.log")" 'rule=block actions=deny=EACCES rc=-1 errno=EACCES'
sleep 0.3
expect_eq "deny: the server received no connection" "$(npeers tcp)" 1

R=$(policy rewrite.ini <<'INI'
[redirect]
on = send
addr = 127.0.0.1
port = 9000
rewrite = 127.0.0.1:9001
INI
)
out=$(shim "$R" "$PROBE" tcp4 fastmmsg=127.0.0.1:9000 peer 2>"$T/rewrite.log")
expect_eq "rewrite: sendmmsg with MSG_FASTOPEN goes to 127.0.0.1:9001" "$out" "fastmmsg=127.0.0.1:9000 rc=1 errno=0
peer rc=0 errno=0 remote=127.0.0.1:9001"
wait_peers other 1
expect_eq "rewrite: the server at the rewritten address saw it" "$(npeers other)" 1
sleep 0.2
expect_eq "rewrite: the server at the program's address saw nothing new" "$(npeers tcp)" 1
finish
