#!/bin/bash
# 95: 300 blocking connects that a rule rewrites to an address that never
# answers (veth neighbours whose MAC nobody has), with SO_SNDTIMEO 3 s, do
# not hold up an unrelated connect to a live listener made 1 s later, and
# the whole run lasts as long as bare (each connect times out once). The
# supervisor makes such connects (SO_SNDTIMEO keeps them off the continue
# path) in at most SUPCALL_MAX_WORKERS (256) worker threads; it made the
# 257th in the receiving thread, which then answered no other call until
# one ended (here the probe waited 5.1 s and the run took 9.2 s). Now
# those beyond the workers continue in the program's thread: they time out
# on time, but with EALREADY where bare says EINPROGRESS (README).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"
. "$TOP/tests/helpers/seccomp.sh"

if ! ip link add slw0 type veth peer name slw1 2>/dev/null; then
	echo "skipped: cannot make a veth pair here"
	exit 77
fi
ip link set slw0 up && ip link set slw1 up
ip addr add 10.9.0.1/24 dev slw0
ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev slw0 nud permanent
ip neigh add 10.9.0.5 lladdr 02:00:00:00:00:05 dev slw0 nud permanent
serve tcp tcp 127.0.0.1 9000 || exit 1
P=$(policy rw.ini <<'INI'
[global]
log_level = warn
[rw]
on = connect
addr = 10.9.0.2
rewrite = 10.9.0.5:80
INI
)
out=$(timeout 30 "$BUILD/tests/stall_probe" 300 3 10.9.0.2 80 9000)
expect_match "bare: the probe connects at once (control)" "$out" '^probe rc=0 t=0\.[0-2]$'
expect_match "bare: 300 x EINPROGRESS (control)" "$out" '^EINPROGRESS=300$'

start=$(date +%s%N)
out=$(sup "$P" "$BUILD/tests/stall_probe" 300 3 10.9.0.2 80 9000 2>"$T/sndtimeo.log")
ms=$((($(date +%s%N) - start) / 1000000))
expect_match "SO_SNDTIMEO: the probe connects at once" "$out" '^probe rc=0 t=0\.[0-2]$'
check "SO_SNDTIMEO: the run lasts under 5 s ($ms ms), as bare" test $ms -lt 5000
expect_match "SO_SNDTIMEO: every connect ends in a timeout" "$out" '^(EALREADY=[0-9]+ )?EINPROGRESS=[0-9]+$'
finish
