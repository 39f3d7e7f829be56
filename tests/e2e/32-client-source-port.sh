#!/bin/bash
# frontends: preload, seccomp
# 32: `source_port = 41000-41009` on connect (rotate = sequential, the
# default), with and without `source`: consecutive connections of one process
# reach the server from successive ports of the window (41000+k in order,
# starting anywhere, wrapping). A busy port (bound by another process without
# SO_REUSEADDR) is skipped transparently; a whole busy window makes connect
# fail with EADDRNOTAVAIL, as the kernel's own exhausted port range does,
# logged. Control: without the shim the ports are
# ephemeral, outside the window.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1

# sequential LO N: stdin is one port per line; all inside [LO, LO+N) and each
# the successor (mod N) of the one before.
sequential() {
	awk -v lo="$1" -v n="$2" 'BEGIN { ok = 1 }
		{ if ($1 < lo || $1 >= lo + n) ok = 0
		  if (NR > 1 && $1 != lo + (prev - lo + 1) % n) ok = 0
		  prev = $1 }
		END { exit !(ok && NR > 0) }'
}
in_window() { awk -v lo="$1" -v hi="$2" '$1 < lo || $1 > hi { bad = 1 } END { exit bad || NR == 0 }'; }
# run_batch NAME POLICY N: N connections from one python3 process under POLICY;
# sets $client (its output) and leaves the server's new peers in $T/NAME.peers.
run_batch() {
	before=$(npeers tcp)
	client=$(shim "$2" "$PY" "$PW" connect 127.0.0.1 9000 "$3" 2>"$T/$1.log")
	peers tcp | tail -n +$((before + 1)) >"$T/$1.peers"
}

# ---- control: no shim ----
pyc 127.0.0.1 9000 12 >/dev/null
peers tcp >"$T/bare.peers"
expect_eq "bare: 12 connections" "$(wc -l <"$T/bare.peers")" 12
check "bare: ports are NOT a sequential walk of 41000-41009" bash -c "! sequential 41000 10 < '$T/bare.peers'" 2>/dev/null
check "bare: ports are not in the window" bash -c "! awk '\$2 >= 41000 && \$2 <= 41009 { f = 1 } END { exit !f }' '$T/bare.peers'"

# ---- source + source_port ----
P=$(policy sp.ini <<'INI'
[win]
on = connect
addr = 127.0.0.1
port = 9000
source = 127.0.0.2
source_port = 41000-41009
INI
)
run_batch seq "$P" 12
expect_eq "source+window: all 12 connections succeed" "$(grep -c '^local ' <<<"$client")" 12
expect_eq "source+window: server sees only 127.0.0.2" "$(cut -d' ' -f1 "$T/seq.peers" | sort -u)" 127.0.0.2
check "source+window: server sees successive window ports, wrapping ($(cut -d' ' -f2 "$T/seq.peers" | tr '\n' ' '))" \
	sequential 41000 10 < <(cut -d' ' -f2 "$T/seq.peers")
expect_eq "source+window: getsockname agrees with the server" \
	"$(sed -n 's/^local //p' <<<"$client")" "$(cat "$T/seq.peers")"
expect_match "source+window: log names the port" "$(cat "$T/seq.log")" 'rule=win actions=source=127\.0\.0\.2:410[0-9]{2} rc=(0|-1 errno=EINPROGRESS)'

# ---- source_port alone: the address stays the kernel's ----
pol2=$(policy sp2.ini <<'INI'
[win]
on = connect
port = 9000
source_port = 41000-41009
INI
)
run_batch seq2 "$pol2" 12
expect_eq "window only: all 12 connections succeed" "$(grep -c '^local ' <<<"$client")" 12
expect_eq "window only: server sees 127.0.0.1 (kernel's address)" "$(cut -d' ' -f1 "$T/seq2.peers" | sort -u)" 127.0.0.1
check "window only: successive window ports ($(cut -d' ' -f2 "$T/seq2.peers" | tr '\n' ' '))" \
	sequential 41000 10 < <(cut -d' ' -f2 "$T/seq2.peers")

# ---- a busy port of the window is skipped ----
hold busy tcp 127.0.0.2 41003 || exit 1
run_batch busy "$P" 12
expect_eq "busy 41003: all 12 connections still succeed" "$(grep -c '^local ' <<<"$client")" 12
check "busy 41003: server never sees port 41003" bash -c "! grep -q ' 41003\$' '$T/busy.peers'"
check "busy 41003: all ports inside the window" in_window 41000 41009 < <(cut -d' ' -f2 "$T/busy.peers")
expect_eq "busy 41003: the other nine ports are all used" \
	"$(cut -d' ' -f2 "$T/busy.peers" | sort -u | wc -l | tr -d ' ')" 9
# Skipping a busy port should not make the next connection reuse the port
# just used: the walk goes ...41002, 41004, 41005... (strictly sequential with
# 41003 left out).
walk=$(cut -d' ' -f2 "$T/busy.peers" | tr '\n' ' ')
check "busy 41003: no port used twice in a row ($walk)" \
	awk 'NR > 1 && $2 == prev { bad = 1 } { prev = $2 } END { exit bad }' "$T/busy.peers"

# ---- the whole window busy: EADDRNOTAVAIL, as from an exhausted port range ----
pol3=$(policy sp3.ini <<'INI'
[small]
on = connect
port = 9000
source = 127.0.0.2
source_port = 41000-41003
INI
)
hold allbusy tcp 127.0.0.2 41000 41001 41002 || exit 1   # 41003 is held already
n0=$(npeers tcp)
out=$(shim "$pol3" "$PROBE" tcp4 connect=127.0.0.1:9000 name 2>"$T/full.log")
expect_match "window full: connect fails with EADDRNOTAVAIL" "$out" '^connect=127\.0\.0\.1:9000 rc=-1 errno=EADDRNOTAVAIL$'
expect_match "window full: log says so" "$(cat "$T/full.log")" 'rule=small actions=.*retries=4,failed=source:EADDRNOTAVAIL rc=-1 errno=EADDRNOTAVAIL'
sleep 0.2
expect_eq "window full: server got no connection" "$(npeers tcp)" "$n0"
out=$(shim "$pol3" "$PY" "$PW" connect 127.0.0.1 9000 1 2>/dev/null)
expect_eq "window full: python sees EADDRNOTAVAIL too" "$out" "error EADDRNOTAVAIL"
finish
