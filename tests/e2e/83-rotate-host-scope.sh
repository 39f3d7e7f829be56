#!/bin/bash
# frontends: preload, seccomp
# 83: `rotate_scope = host` shares the rotation cursor between every process
# that loads the same policy file, through a small System V shared memory
# segment.
# - Three processes, one after the other, each holding 5 connections: the
#   ports form one sequential walk of the window, 15 distinct ports, none
#   skipped as busy. Control: `rotate_scope = process` (the default), four
#   processes in a 100-port window each start at their own random offset, so
#   the walk breaks (a chance of about one in a million to pass by luck).
# - A process killed with SIGKILL in the middle of connecting leaves nothing
#   held: the next process goes on rotating from where the cursor was.
# - The segment is private to the user who created it (0600, as
#   /proc/sysvipc/shm says) and keyed by the policy's device and inode; no
#   file is left in /dev/shm. A segment under that key that others may read
#   or write, or one too small for the policy, is refused with a
#   rotate-scope warning and the process rotates on its own, still inside
#   its window. `rotate_scope` with a bad value is a FILE:LINE error.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
PY=$(python3 -c 'import sys; print(sys.executable)')

serve tcp 127.0.0.1 9100 "$T/peers" || exit 1
serve tcp 127.0.0.1 9101 "$T/peers2" -c || exit 1
pol() { # NAME WINDOW SCOPE
	policy "$1.ini" <<INI
[$1]
on = connect
source = 127.0.0.2
source_port = $2
rotate_scope = $3
INI
}
# segs: "PERMS UID CUID" of this user's System V segments (the test has an
# IPC namespace of its own)
segs() { awk -v me="$(id -u)" 'NR > 1 && $8 == me { print $3, $8, $10 }' /proc/sysvipc/shm; }

# walk N PROCS: PROCS processes in turn, each holding N connections until all are done
walk() {
	local pol=$1 n=$2 procs=$3 out=$4 i
	rm -f "$out"
	for i in $(seq 1 "$procs"); do
		later shim "$pol" "$RC" -n "$n" -w 5 -f "$out" 127.0.0.1 9100 >/dev/null 2>>"$out.log"
		wait_lines "$out" $((i * n)) || return 1
	done
}
# is_walk LO N: stdin is ports in order; each the successor (mod N) of the one before
is_walk() {
	awk -v lo="$1" -v n="$2" 'BEGIN { ok = 1 } { if (NR > 1 && $2 != lo + (prev - lo + 1) % n) ok = 0; prev = $2 } END { exit !ok }'
}

HOST=$(pol host 44000-44019 host)
walk "$HOST" 5 3 "$T/host.ports"
expect_eq "host: 15 connections from 3 processes, 15 distinct ports" "$(cut -d' ' -f2 "$T/host.ports" | sort -u | wc -l)" 15
check "host: one sequential walk across the processes ($(cut -d' ' -f2 "$T/host.ports" | tr '\n' ' '))" is_walk 44000 20 <"$T/host.ports"
expect_eq "host: no port was found busy" "$(grep -c busy-ports "$T/host.ports.log")" 0
expect_eq "host: one shared cursor segment, private to this user" "$(segs)" "600 $(id -u) $(id -u)"
expect_eq "host: no file in /dev/shm" "$(ls /dev/shm | grep -c sockshim)" 0

PROC=$(pol proc 45000-45099 process)
walk "$PROC" 5 4 "$T/proc.ports"
check "control, process scope: no single walk across processes" bash -c "! is_walk 45000 100 <'$T/proc.ports'" 2>/dev/null
expect_eq "control, process scope: no other segment" "$(segs | wc -l)" 1

# ---- a process dies mid-connect ----
KILL=$(pol kill 46000-46099 host)
later shim "$KILL" "$RC" -t 4 -n 1000000 -x 127.0.0.1 9101 >/dev/null 2>&1
victim=$!
sleep 0.5
kill -KILL "$victim"
wait "$victim" 2>/dev/null
out=$(shim "$KILL" "$RC" -n 5 -w 1 -f "$T/after.ports" 127.0.0.1 9100 2>"$T/after.log")
expect_eq "after SIGKILL: the next process connects" "$(field ok "$out")/$(field fail "$out")" "5/0"
expect_eq "after SIGKILL: 5 distinct ports inside the window" \
	"$(awk '$2 >= 46000 && $2 <= 46099 { print $2 }' "$T/after.ports" | sort -u | wc -l)" 5
# (the dead process's connections that were not closed yet sit in TIME_WAIT:
# those ports may be skipped as busy, the walk goes on around them)

# ---- a segment that is not private, or too small, is refused ----
# remake SIZE MODE: this test's segments removed and made again under their key
remake() {
	"$PY" - "$1" "$2" <<'PYEOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
for l in open("/proc/sysvipc/shm").readlines()[1:]:
    r = l.split()
    if int(r[7]) == os.geteuid():
        libc.shmctl(int(r[1]), 0, None)  # IPC_RMID
        libc.shmget(int(r[0]), int(sys.argv[1]), 0o1000 | int(sys.argv[2], 8))
PYEOF
}
SEG=$(pol seg 46200-46209 host)
shim "$SEG" "$RC" -n 1 127.0.0.1 9100 >/dev/null 2>&1 # makes the segment: 3 of them now
for c in "4096 0644:not a private one" "8 0600:smaller than this policy needs"; do
	remake ${c%%:*}
	out=$(shim "$SEG" "$RC" -n 3 -f "$T/seg.ports" 127.0.0.1 9100 2>"$T/seg.log")
	expect_match "segment ${c%%:*}: refused with a warning" "$(cat "$T/seg.log")" "rotate-scope .*${c#*:}.*fallback=rotate_scope = process"
	expect_eq "segment ${c%%:*}: the connects succeed" "$(field ok "$out")/$(field fail "$out")" "3/0"
done
expect_eq "refused segments: every port inside the window" \
	"$(awk '$2 < 46200 || $2 > 46209' "$T/seg.ports" | wc -l)/$(wc -l <"$T/seg.ports")" "0/6"

# ---- bad value ----
bad=$(policy bad.ini <<'INI'
[x]
on = connect
source = 127.0.0.2
rotate_scope = cluster
INI
)
out=$(shim "$bad" /bin/true 2>&1); rc=$?
expect_eq "bad rotate_scope: exit 78" "$rc" 78
expect_match "bad rotate_scope: FILE:LINE error" "$out" "bad\.ini:4: .*rotate_scope.*process or host"

finish
