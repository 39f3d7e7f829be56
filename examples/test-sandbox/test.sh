#!/bin/bash
# examples/test-sandbox: run.sh as written, then the facts from its output.
# Kernel facts: where each run's server listens (getsockname, and ss -ltn),
# where the database socket, connected by the database's name, is connected
# (getpeername), the lookup error of the payment API's name, the errno of
# the telemetry connect, and which stand-in servers accepted a connection.
# Control: bare, run B cannot listen, and run A reaches the "production"
# database and the payment API by their names (this namespace's own
# /etc/hosts) and the telemetry endpoint.
. "$TOP/tests/lib.sh"

out=$(SOCKSHIM=$BUILD/sockshim timeout 60 "$TOP/examples/test-sandbox/run.sh" 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
expect_eq "run.sh exits 0" "$rc" 0

part() { sed -n "/^== $1/,/^\$/p" <<<"$out"; }
bare=$(part without) shim=$(part 'under sockshim') log=$(part 'the decision log')

# ---- control: bare ----
expect_match "bare: run A listens on 127.0.0.1:8080" "$bare" '^\[run A\] server: .* listening on 127\.0\.0\.1:8080$'
expect_match "bare: run B collides (EADDRINUSE)" "$bare" '^\[run B\] server: cannot listen on 127\.0\.0\.1:8080: Address already in use$'
expect_match "bare: run A's db socket, by name, is connected to production (getpeername)" "$bare" \
	'^\[run A\] test_db: connect db\.prod\.example\.com:5432 -> getpeername 10\.20\.0\.7:5432, answer: PRODUCTION db: 1 row$'
expect_match "bare: run A reaches the payment API by its name" "$bare" \
	'^\[run A\] test_payments: connect api\.payments\.example\.com:443 -> connected, answer: payments: up '
expect_match "bare: run A's telemetry connect succeeds" "$bare" '^\[run A\] test_telemetry: .* -> connected'
expect_match "bare: the production, payment and telemetry stand-ins accepted a connection" "$bare" \
	'^reached: production db 1 time\(s\), payments 1, telemetry 1, mock db 0$'

# ---- two sandboxed runs ----
expect_eq "shim: ss -ltn shows both runs' servers on port 8080" \
	"$(sed -n 's/^ss -ltn: //p' <<<"$shim")" "127.0.0.11:8080 127.0.0.12:8080 "
for r in A:11 B:12; do
	n=${r%:*} a=127.0.0.${r#*:}
	expect_match "shim: run $n's server asked for 127.0.0.1:8080, listens on $a:8080 (getsockname)" "$shim" \
		"^\[run $n\] server: asked for 127\.0\.0\.1:8080, listening on ${a//./\\.}:8080\$"
	expect_match "shim: run $n's test_api passes" "$shim" "^\[run $n\] test_api: GET http://${a//./\\.}:8080/health -> 200 ok\$"
	expect_match "shim: run $n's db socket, by name, is connected to the mock (getpeername)" "$shim" \
		"^\[run $n\] test_db: connect db\.prod\.example\.com:5432 -> getpeername 127\.0\.0\.1:15432, answer: mock db: 1 row\$"
	ms=$(sed -n "s/^\[run $n\] test_payments: connect api\.payments\.example\.com:443 -> EAI_NONAME after \([0-9.]*\) ms.*/\1/p" <<<"$shim")
	check "shim: run $n's payment API name does not resolve (EAI_NONAME), at once (${ms:-no} ms)" \
		awk -v ms="${ms:-x}" 'BEGIN { exit !(ms ~ /^[0-9.]+$/ && ms < 50) }'
	ms=$(sed -n "s/^\[run $n\] test_telemetry: connect 192\.0\.2\.1:443 -> ENETUNREACH after \([0-9.]*\) ms.*/\1/p" <<<"$shim")
	check "shim: run $n's telemetry connect fails with ENETUNREACH at once (${ms:-no} ms)" \
		awk -v ms="${ms:-x}" 'BEGIN { exit !(ms ~ /^[0-9.]+$/ && ms < 50) }'
done
expect_match "shim: nothing reached production or telemetry; the mock saw both runs" "$shim" \
	'^reached: production db 0 time\(s\), payments 0, telemetry 0, mock db 2$'

# ---- the JSON log of run A ----
expect_match "log: the bind moved to the run's address" "$log" 'bind +127\.0\.0\.1:8080 +rule=own-loopback +rewrite=127\.0\.0\.11:8080 +rc=0$'
expect_match "log: the api connect allowed" "$log" 'connect +127\.0\.0\.11:8080 +rule=loopback +allow '
expect_match "log: the db name answered with 127.0.0.1" "$log" 'resolve +db\.prod\.example\.com +rule=db-name +rewrite=127\.0\.0\.1 +rc=0$'
expect_match "log: the db connect, by the name it came from, redirected" "$log" \
	'connect +127\.0\.0\.1:5432 host=db\.prod\.example\.com +rule=mock-db +rewrite=127\.0\.0\.1:15432 '
expect_match "log: the payment API's name refused" "$log" 'resolve +api\.payments\.example\.com +rule=no-other-names +deny=EAI_NONAME +rc=-2 error=EAI_NONAME$'
expect_match "log: the telemetry connect denied" "$log" 'connect +192\.0\.2\.1:443 +rule=no-egress +deny=ENETUNREACH +rc=-1 errno=ENETUNREACH$'
expect_eq "log: six decisions (two lookups), nothing else tried" "$(grep -cE '^  (bind|connect|listen|send|resolve)' <<<"$log")" 6

finish
