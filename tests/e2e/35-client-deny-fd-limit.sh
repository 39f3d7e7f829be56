#!/bin/bash
# frontends: preload, seccomp
# 35: a deny holds when the program (and so, under --seccomp, its
# supervisor) runs under a low descriptor limit: `ulimit -n 12`, 8 threads x
# 50 blocking connects under `deny = EACCES`. Every connect fails with
# EACCES and the server sees none. The supervisor needs a descriptor per
# call for its duplicate of the socket: a pidfd cache sized above the limit
# took them all, and a call whose socket it could not take went on
# untouched, the rule unapplied (connects that reached the server).
# Control: the same program bare connects.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
out=$(cd "$T" && ulimit -n 12 && "$BUILD/tests/thr_connect" 2 5 127.0.0.1 9000)
expect_eq "bare, ulimit -n 12: the program connects (control)" "$out" "OK=10"
wait_peers tcp 10
P=$(policy deny.ini <<'INI'
[global]
log_level = warn
[block]
on = connect
addr = 127.0.0.1
port = 9000
deny = EACCES
INI
)
n0=$(npeers tcp)
for run in 1 2 3; do
	out=$(ulimit -n 12 && shim "$P" timeout 30 "$BUILD/tests/thr_connect" 8 50 127.0.0.1 9000 2>"$T/deny$run.log")
	expect_eq "ulimit -n 12, run $run: all 400 connects fail with EACCES" "$out" "EACCES=400"
done
sleep 0.3
expect_eq "the server received no connection" "$(npeers tcp)" "$n0"
finish
