#!/bin/bash
# frontends: preload, seccomp
# 34: a source pool `source = 127.0.0.2, 127.0.0.3, 127.0.0.4`: connections of
# one process spread over all three addresses (the server sees all three);
# sequential rotation cycles through them in order; random rotation covers
# them too; a pool combined with a port window pins both; IPv6 members of a
# mixed pool are never used for an IPv4 socket. Control: bare = 127.0.0.1 only.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
run_batch() { # NAME POLICY N
	before=$(npeers tcp)
	client=$(shim "$2" "$PY" "$PW" connect 127.0.0.1 9000 "$3" 2>"$T/$1.log")
	peers tcp | tail -n +$((before + 1)) >"$T/$1.peers"
	cut -d' ' -f1 "$T/$1.peers" >"$T/$1.addrs"
}

pyc 127.0.0.1 9000 6 >/dev/null
expect_eq "bare (control): one address only" "$(peer_addrs tcp)" "127.0.0.1"

P=$(policy pool.ini <<'INI'
[pool]
on = connect
source = 127.0.0.2, 127.0.0.3, 127.0.0.4
INI
)
run_batch seq "$P" 9
expect_eq "pool: all 9 connections succeed" "$(grep -c '^local ' <<<"$client")" 9
expect_eq "pool: server sees all three addresses" "$(sort -u "$T/seq.addrs" | tr '\n' ' ')" "127.0.0.2 127.0.0.3 127.0.0.4 "
expect_eq "pool: each address used three times" "$(sort "$T/seq.addrs" | uniq -c | awk '{print $1}' | sort -u)" 3
check "pool: sequential rotation cycles .2 -> .3 -> .4 -> .2 ($(tr '\n' ' ' <"$T/seq.addrs"))" \
	awk -F. 'NR > 1 && $4 != (prev - 2 + 1) % 3 + 2 { bad = 1 } { prev = $4 } END { exit bad }' "$T/seq.addrs"
expect_eq "pool: getsockname agrees with the server" "$(sed -n 's/^local //p' <<<"$client")" "$(cat "$T/seq.peers")"
check "pool: kernel-chosen ports (no window)" awk '$2 < 1024 { bad = 1 } END { exit bad }' "$T/seq.peers"

pol_r=$(policy pool-random.ini <<'INI'
[pool]
on = connect
source = 127.0.0.2, 127.0.0.3, 127.0.0.4
rotate = random
INI
)
run_batch rnd "$pol_r" 40
expect_eq "random pool: all 40 connections succeed" "$(grep -c '^local ' <<<"$client")" 40
expect_eq "random pool: server sees all three addresses" "$(sort -u "$T/rnd.addrs" | tr '\n' ' ')" "127.0.0.2 127.0.0.3 127.0.0.4 "

pol_w=$(policy pool-window.ini <<'INI'
[pool]
on = connect
source = 127.0.0.2, 127.0.0.3, 127.0.0.4
source_port = 42000-42004
INI
)
run_batch win "$pol_w" 12
expect_eq "pool+window: all 12 connections succeed" "$(grep -c '^local ' <<<"$client")" 12
expect_eq "pool+window: server sees all three addresses" "$(sort -u "$T/win.addrs" | tr '\n' ' ')" "127.0.0.2 127.0.0.3 127.0.0.4 "
check "pool+window: every port inside 42000-42004" awk '$2 < 42000 || $2 > 42004 { bad = 1 } END { exit bad || NR != 12 }' "$T/win.peers"

pol_m=$(policy pool-mixed.ini <<'INI'
[pool]
on = connect
addr = 127.0.0.1
source = ::1, 127.0.0.2, 127.0.0.3
INI
)
run_batch mix "$pol_m" 9
expect_eq "mixed pool, IPv4 socket: all 9 connections succeed" "$(grep -c '^local ' <<<"$client")" 9
expect_eq "mixed pool, IPv4 socket: only the IPv4 members" "$(sort -u "$T/mix.addrs" | tr '\n' ' ')" "127.0.0.2 127.0.0.3 "
finish
