#!/bin/bash
# frontends: preload, seccomp
# 45: a blocking connect bounded by the program's SO_SNDTIMEO (1 s) to an
# address that never answers (a veth neighbour whose MAC nobody has: the
# SYNs vanish) fails as it does bare: EINPROGRESS after 1 s (Linux's
# answer to a timed-out blocking connect), from one source, a window of
# source ports and a pool of two sources alike. The supervisor's own
# connect on a window or pool, continued in the program's thread, found
# the attempt under way and gave EALREADY.
. "$TOP/tests/lib.sh"

if ! ip link add sst0 type veth peer name sst1 2>/dev/null; then
	echo "skipped: cannot make a veth pair here"
	exit 77
fi
ip link set sst0 up && ip link set sst1 up
ip addr add 10.9.0.1/24 dev sst0
ip addr add 10.9.0.3/24 dev sst0
ip neigh add 10.9.0.2 lladdr 02:00:00:00:00:02 dev sst0 nud permanent

out=$("$BUILD/tests/sndtimeo_connect" 10.9.0.2 80 1000)
expect_match "bare: EINPROGRESS after 1 s (control)" "$out" '^connect rc=-1 errno=EINPROGRESS t=1\.[0-2]$'

policy one.ini >/dev/null <<'INI'
[one]
on = connect
addr = 10.9.0.2
source = 10.9.0.3
INI
policy window.ini >/dev/null <<'INI'
[window]
on = connect
addr = 10.9.0.2
source = 10.9.0.3
source_port = 41000-41009
INI
policy pool.ini >/dev/null <<'INI'
[pool]
on = connect
addr = 10.9.0.2
source = 10.9.0.1, 10.9.0.3
INI
for name in one window pool; do
	out=$(shim "$T/$name.ini" timeout 20 "$BUILD/tests/sndtimeo_connect" 10.9.0.2 80 1000 2>"$T/$name.log")
	expect_match "$name: EINPROGRESS after 1 s, as bare" "$out" '^connect rc=-1 errno=EINPROGRESS t=1\.[0-2]$'
done
finish
