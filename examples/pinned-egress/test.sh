#!/bin/bash
# examples/pinned-egress: run.sh as written, then the facts from its output.
# Kernel fact: the peer address the server's accepted socket reports.
# Control: bare, the same commands arrive from 127.0.0.1.
. "$TOP/tests/lib.sh"

out=$(SOCKSHIM=$BUILD/sockshim timeout 60 "$TOP/examples/pinned-egress/run.sh" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
expect_eq "run.sh exits 0" "$rc" 0

part() { sed -n "/^== $1/,/^\$/p" <<<"$out"; }
bare=$(part without) shim=$(part 'under sockshim') server=$(part "the server")

for c in curl python3; do
	expect_match "bare $c: the server saw 127.0.0.1" "$bare" "^$c: +you came from 127\.0\.0\.1 port [0-9]+\$"
	expect_match "shim $c: the server saw 127.0.0.2" "$shim" "^$c: +you came from 127\.0\.0\.2 port [0-9]+\$"
done
# what the clients were told is what the server logged, in order
told=$(grep -hoE 'came from [0-9.]+ port [0-9]+' <<<"$bare$shim" | sed 's/came from //')
logged=$(grep -oE 'connection from [0-9.]+ port [0-9]+' <<<"$server" | sed 's/connection from //')
expect_eq "server log: four connections, the same addresses and ports" "$(tr '\n' ' ' <<<"$logged")" "$(tr '\n' ' ' <<<"$told")"
expect_eq "server log: from 127.0.0.1 twice, then 127.0.0.2 twice" \
	"$(cut -d' ' -f1 <<<"$logged" | tr '\n' ' ')" "127.0.0.1 127.0.0.1 127.0.0.2 127.0.0.2 "
expect_eq "the shim logged two pinned connects" \
	"$(grep -cE 'connect fd=[0-9]+ tcp 127\.0\.0\.1:7090 rule=pinned actions=source=127\.0\.0\.2 ' <<<"$out")" 2

finish
