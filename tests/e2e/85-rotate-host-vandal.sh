#!/bin/bash
# frontends: preload, seccomp
# 85: the host-scope rotation cursors survive someone removing or shrinking
# them under a running program (their owner, root, a clean-up tool). A
# shared mapping of a file that is truncated raises SIGBUS on the next
# access; the cursors are a System V segment, which cannot be shrunk and
# whose removal only takes effect after the last process detached.
# While clients rotate through a host-scope window, another process in a
# loop truncates, deletes and replaces what a cursor store could be: any
# /dev/shm/sockshim-* file (the old store), and every System V segment of
# this user (removed, then created again under the same key too small, so
# the next client must refuse it and rotate per process). Every client ends
# normally with every connect succeeding, from ports inside the window (what
# getsockname says, and what the server saw).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')

serve tcp 127.0.0.1 9100 "$T/peers" -c || exit 1
POL=$(policy host.ini <<'INI'
[host]
on = connect
source = 127.0.0.2
source_port = 47000-47099
rotate_scope = host
INI
)
# the old store's name, created ahead so the vandal has a file to hit at once
touch "/dev/shm/sockshim-$(id -u)-$(stat -c '%d-%i' "$POL")"

"$PY" - "$T/stop" <<'PYEOF' >"$T/vandal.out" 2>&1 &
import ctypes, glob, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT, IPC_RMID = 0o1000, 0
me, stop, hits, end = os.geteuid(), sys.argv[1], 0, time.time() + 60
while not os.path.exists(stop) and time.time() < end:
    for f in glob.glob("/dev/shm/sockshim-*"):
        try:
            os.truncate(f, 0); os.unlink(f)
            with open(f, "wb") as o: o.write(b"x")
            hits += 1
        except OSError:
            pass
    with open("/proc/sysvipc/shm") as t:
        rows = [l.split() for l in t.readlines()[1:]]
    for r in rows:
        key, shmid, uid = int(r[0]), int(r[1]), int(r[7])
        if uid != me:
            continue
        libc.shmctl(shmid, IPC_RMID, None)
        if hits % 2 == 0:
            libc.shmget(key, 8, IPC_CREAT | 0o600)
        hits += 1
    time.sleep(0.002)
print("hits", hits)
PYEOF
vandal=$!
_rot_pids="$_rot_pids $vandal"

bad=0 rcs=""
for round in 1 2 3 4 5 6; do
	out=$(shim "$POL" "$RC" -P 2 -t 2 -n 100 -x -f "$T/ports" 127.0.0.1 9100 2>>"$T/client.log"); rc=$?
	rcs="$rcs $rc"
	[ "$rc" = 0 ] && [ "$(field ok "$out")/$(field fail "$out")" = "400/0" ] || {
		bad=$((bad + 1)); echo "# round $round: rc=$rc $(echo $out)"; }
done
touch "$T/stop"
wait "$vandal"
wait_lines "$T/peers" 2400
hits=$(awk '/^hits/ { print $2 }' "$T/vandal.out")
check "the vandal removed or shrank the store many times (${hits:-0})" test "${hits:-0}" -ge 20
expect_eq "6 rounds of 400 connects under it: every client ended well, every connect succeeded" "$bad" 0
expect_eq "every client exited 0" "$(echo $rcs)" "0 0 0 0 0 0"
expect_eq "2,400 connections recorded" "$(wc -l <"$T/ports")" 2400
expect_eq "every source port inside 47000-47099 (getsockname)" \
	"$(awk '$1 != "127.0.0.2" || $2 < 47000 || $2 > 47099' "$T/ports" | wc -l)" 0
expect_eq "the server saw them from the window" \
	"$(awk '$1 == "127.0.0.2" && $2 >= 47000 && $2 <= 47099' "$T/peers" | wc -l)" 2400
rm -f /dev/shm/sockshim-*
finish
