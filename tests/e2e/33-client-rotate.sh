#!/bin/bash
# frontends: preload, seccomp
# 33: `rotate = random` and `rotate = kernel` with source_port = 41000-41009.
# random: over 100 connections of one process every port of the window shows
# up at the server, and the order is not the sequential walk.
# kernel (IP_LOCAL_PORT_RANGE, Linux 6.3+): every connection arrives from a
# port inside the window, with and without `source`.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
sequential() {
	awk -v lo="$1" -v n="$2" 'BEGIN { ok = 1 }
		{ if ($1 < lo || $1 >= lo + n) ok = 0
		  if (NR > 1 && $1 != lo + (prev - lo + 1) % n) ok = 0
		  prev = $1 }
		END { exit !(ok && NR > 0) }'
}
in_window() { awk -v lo="$1" -v hi="$2" '$1 < lo || $1 > hi { bad = 1 } END { exit bad || NR == 0 }'; }
run_batch() { # NAME POLICY N [client args]
	_name=$1 _pol=$2 _n=$3
	shift 3
	before=$(npeers tcp)
	client=$(shim "$_pol" "$PY" "$PW" connect 127.0.0.1 9000 "$_n" "$@" 2>"$T/$_name.log")
	peers tcp | tail -n +$((before + 1)) >"$T/$_name.peers"
	cut -d' ' -f2 "$T/$_name.peers" >"$T/$_name.ports"
}

# ---- random ----
P=$(policy random.ini <<'INI'
[rnd]
on = connect
port = 9000
source = 127.0.0.2
source_port = 41000-41009
rotate = random
INI
)
run_batch rnd "$P" 100
expect_eq "random: all 100 connections succeed" "$(grep -c '^local ' <<<"$client")" 100
expect_eq "random: server sees only 127.0.0.2" "$(cut -d' ' -f1 "$T/rnd.peers" | sort -u)" 127.0.0.2
check "random: all ports inside the window" in_window 41000 41009 <"$T/rnd.ports"
expect_eq "random: all ten ports of the window used" "$(sort -u "$T/rnd.ports" | tr '\n' ' ')" \
	"41000 41001 41002 41003 41004 41005 41006 41007 41008 41009 "
check "random: not the sequential walk ($(head -12 "$T/rnd.ports" | tr '\n' ' ')...)" \
	bash -c "! awk -v lo=41000 -v n=10 'BEGIN{ok=1} { if (NR>1 && \$1 != lo+(p-lo+1)%n) ok=0; p=\$1 } END{exit !ok}' '$T/rnd.ports'"
# Control for the check just above: the sequential default is recognised as such.
pol_seq=$(policy seq.ini <<'INI'
[seq]
on = connect
port = 9000
source = 127.0.0.2
source_port = 41000-41009
INI
)
run_batch seq "$pol_seq" 15
check "sequential (control): recognised as the walk" sequential 41000 10 <"$T/seq.ports"

# ---- kernel ----
kpol=$(policy kernel.ini <<'INI'
[krn]
on = connect
port = 9000
source_port = 41000-41009
rotate = kernel
INI
)
run_batch krn "$kpol" 20
expect_eq "kernel: all 20 connections succeed" "$(grep -c '^local ' <<<"$client")" 20
check "kernel: all ports inside the window ($(sort -u "$T/krn.ports" | tr '\n' ' '))" in_window 41000 41009 <"$T/krn.ports"
expect_eq "kernel, no source: server sees 127.0.0.1" "$(cut -d' ' -f1 "$T/krn.peers" | sort -u)" 127.0.0.1
expect_match "kernel: log says rotate=kernel (range available)" "$(cat "$T/krn.log")" 'rule=krn actions=rotate=kernel '
check "kernel: log never says kernel-unavailable" bash -c "! grep -q kernel-unavailable '$T/krn.log'"

kpol2=$(policy kernel2.ini <<'INI'
[krn2]
on = connect
port = 9000
source = 127.0.0.3
source_port = 41000-41009
rotate = kernel
INI
)
run_batch krn2 "$kpol2" 20
expect_eq "kernel+source: all 20 connections succeed" "$(grep -c '^local ' <<<"$client")" 20
check "kernel+source: all ports inside the window" in_window 41000 41009 <"$T/krn2.ports"
expect_eq "kernel+source: server sees 127.0.0.3" "$(cut -d' ' -f1 "$T/krn2.peers" | sort -u)" 127.0.0.3

# The window also survives busy ports: the kernel skips 41000-41007 held by
# another process and uses 41008/41009 only.
hold busy tcp 127.0.0.3 41000 41001 41002 41003 41004 41005 41006 41007 || exit 1
run_batch krn3 "$kpol2" 6
expect_eq "kernel, 8 ports busy: all 6 connections succeed" "$(grep -c '^local ' <<<"$client")" 6
check "kernel, 8 ports busy: only 41008/41009 used ($(tr '\n' ' ' <"$T/krn3.ports"))" in_window 41008 41009 <"$T/krn3.ports"

# Control: the same client without the shim arrives from outside the window.
before=$(npeers tcp)
pyc 127.0.0.1 9000 5 >/dev/null
expect_eq "bare (control): no port inside the window" \
	"$(peers tcp | tail -n +$((before + 1)) | awk '$2 >= 41000 && $2 <= 41009' | wc -l | tr -d ' ')" 0
finish
