#!/bin/bash
# frontends: preload, seccomp
# 76: a running program picks up a changed policy file (reload = on, the
# default), judged by what the kernel reports to the program itself: the
# connect's errno (a deny rule) and SO_REUSEPORT read back with getsockopt on
# a socket it bound (reuseport = force). Threads keep making calls meanwhile.
#   replaced by rename       -> the next calls follow the new rules; a
#                               `reload` line carries old and new rule counts
#   broken file              -> FILE:LINE at error, the old rules still apply
#   written in place, slowly -> the first half (itself a valid policy that
#                               would allow the connect) is never loaded
#   reload = off             -> a change is ignored
#   at exit                  -> the old policy's rules are summarised too
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
PORT=9750
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait 2>/dev/null' EXIT

"$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1024)
while True:
    c, _ = s.accept(); c.close()
' $PORT &
pids="$pids $!"
wait_port $PORT || exit 1

# $BUILD/tests/reload_loop: four threads, each: bind 127.0.0.5:0 and read
# SO_REUSEPORT back, then connect to the server; one line per round. (A
# round that straddles a reload shows the bind's policy, then the
# connect's: connect=OK with reuseport=0 comes only from the half file.)
LOOP=$BUILD/tests/reload_loop

# wait_for REGEX: the loop's latest lines show REGEX (at most 12 s).
wait_for() {
	for _ in $(seq 120); do
		tail -n 4 "$T/out" 2>/dev/null | grep -Eq "$1" && return 0
		sleep 0.1
	done
	return 1
}
# swap NAME: replace the policy file by a rename
swap() { cp "$T/$1" "$T/p.tmp"; chmod 0644 "$T/p.tmp"; mv -f "$T/p.tmp" "$T/policy.ini"; }

policy deny.ini >/dev/null <<INI
[deny-old]
on = connect
port = $PORT
deny = EACCES
INI
policy reuse.ini >/dev/null <<INI
[rp]
on = bind
addr = 127.0.0.5
reuseport = force

[other]
on = connect
port = 1
deny = EPERM
INI
policy broken.ini >/dev/null <<INI
[rp]
on = bind
addr = 127.0.0.5
reuseprot = force
INI
cp "$T/deny.ini" "$T/policy.ini"; chmod 0644 "$T/policy.ini"

SOCKSHIM_LOG="file:$T/log" shim "$T/policy.ini" "$LOOP" "$T/out" $PORT "$T/stop" 2>"$T/err" &
pid=$!
pids="$pids $pid"
check "start: the deny rule refuses the connect (EACCES), no reuseport" wait_for 'connect=EACCES reuseport=0'

swap reuse.ini
check "renamed in: the connect goes through and the bound socket has SO_REUSEPORT" wait_for 'connect=OK reuseport=1'
expect_match "the reload line has the old and the new rule counts" "$(grep reload "$T/log")" 'reload .*old_rules=1 new_rules=2'

swap broken.ini
sleep 4
expect_match "broken file: FILE:LINE logged at error" "$(cat "$T/log")" " error .*policy\.ini:4: .*reuseprot"
check "broken file: the old rules still apply" wait_for 'connect=OK reuseport=1'
expect_eq "broken file: not one round lost SO_REUSEPORT" "$(tail -n 8 "$T/out" | grep -c 'reuseport=0')" 0

# In place, in two writes 1.5 s apart. The first half alone is a valid
# policy that allows the connect and forces nothing: loaded, it would show
# as connect=OK reuseport=0.
mark=$(wc -l < "$T/out")
printf '[deny-new]\non = connect\nport = %s\n' $PORT > "$T/policy.ini"
sleep 1.5
printf 'deny = ECONNREFUSED\n' >> "$T/policy.ini"
check "written in place: the whole file is loaded (ECONNREFUSED)" wait_for 'connect=ECONNREFUSED reuseport=0'
expect_eq "written in place: the half-written file was never loaded" "$(tail -n +$((mark + 1)) "$T/out" | grep -c 'connect=OK reuseport=0')" 0

touch "$T/stop"
wait $pid
expect_eq "the program ran to its end" "$?" 0
expect_match "exit summary: the first policy's rule is summarised" "$(grep summary "$T/log")" 'summary rule=deny-old .*matched=[1-9]'
expect_match "exit summary: the reloaded rule is summarised" "$(grep summary "$T/log")" 'summary rule=rp .*matched=[1-9]'
expect_eq "no reload line counts the broken or half file" "$(grep -c ' reload ' "$T/log")" 2

# reload = off: the file changes, the rules do not.
rm -f "$T/stop" "$T/out"
policy off.ini >/dev/null <<INI
[global]
reload = off

[deny-old]
on = connect
port = $PORT
deny = EACCES
INI
cp "$T/off.ini" "$T/policy.ini"; chmod 0644 "$T/policy.ini"
SOCKSHIM_LOG="file:$T/log2" shim "$T/policy.ini" "$LOOP" "$T/out" $PORT "$T/stop" 2>"$T/err2" &
pid=$!
pids="$pids $pid"
check "reload = off: the deny rule applies" wait_for 'connect=EACCES reuseport=0'
swap reuse.ini
sleep 4.5
check "reload = off: the renamed-in file is ignored" wait_for 'connect=EACCES reuseport=0'
expect_eq "reload = off: nothing reloaded" "$(grep -c ' reload ' "$T/log2")" 0
touch "$T/stop"
wait $pid
# A program that writes its process title over argv and the environment
# (redis-server does, as nginx does) still reloads: the shim keeps its own
# copy of the policy path. A replica connects about once a second; the
# rule's rewrite moves from port 18101 to 18102 with the renamed-in file.
if command -v redis-server >/dev/null; then
	for n in 1 2; do
		policy "rd$n.ini" >/dev/null <<INI
[up]
on = connect
addr = 127.0.0.1
port = 18100
rewrite = 127.0.0.1:1810$n
INI
	done
	cp "$T/rd1.ini" "$T/rdpol.ini"; chmod 0644 "$T/rdpol.ini"
	timeout 12 env SOCKSHIM_LOG="file:$T/rdlog" SOCKSHIM_POLICY="$T/rdpol.ini" \
		LD_PRELOAD="$SHIM" redis-server --port 18199 --bind 127.0.0.1 --save '' --replicaof 127.0.0.1 18100 \
		--dir "$T" >/dev/null 2>&1 &
	rpid=$!
	sleep 3
	cp "$T/rd2.ini" "$T/rd.tmp"; mv "$T/rd.tmp" "$T/rdpol.ini"
	sleep 6
	kill $rpid 2>/dev/null; wait $rpid 2>/dev/null
	expect_match "a program that rewrites its title reloads (reload line)" "$(cat "$T/rdlog")" ' reload .*old_rules=1 new_rules=1'
	expect_match "... and its later connects follow the new rewrite" "$(cat "$T/rdlog")" 'rewrite=127.0.0.1:18102'
fi
finish
