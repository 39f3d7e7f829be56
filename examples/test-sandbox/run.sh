#!/bin/bash
# test-sandbox: run a test suite against the real code, sandboxed.
#
# suite.py is a small test suite: it starts the app's API server on its
# usual port, 127.0.0.1:8080, queries the database its configuration names
# (production, db.prod.example.com:5432), calls a payment provider's API by
# name (api.payments.example.com:443), and sends telemetry to an address
# written into the code, 192.0.2.1:443.
#
# The script runs in private network and mount namespaces of its own, where
# stand-ins play the outside world: a "production database" at 10.20.0.7, a
# "payment API" at 192.0.2.2 and a "telemetry endpoint" at 192.0.2.1
# (addresses on this namespace's lo, so nothing real is ever reached; the
# two names are in this namespace's own /etc/hosts, so no DNS server is
# asked), next to the mock database on 127.0.0.1:15432. Two runs of the
# suite start at once:
#
#   bare: run B cannot listen (run A holds 127.0.0.1:8080), and run A
#         writes to the production database, calls the payment API and
#         sends telemetry out;
#   under sockshim, each run with its own copy of policy.ini: each run's
#         server listens on the run's own address (127.0.0.11, 127.0.0.12),
#         so both pass; the database's name is answered with 127.0.0.1 and
#         the connect to it goes to the mock; the payment API's name does
#         not resolve (EAI_NONAME, at once) and the telemetry connect fails
#         at once with ENETUNREACH, so the stand-ins see nothing; each run's
#         JSON decision log lists every lookup and call it tried.
#
# Needs python3 and ss (iproute2), and root or user namespaces.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"

EXAMPLE_MOUNTS=1 in_private_netns "$@"
ip addr add 10.20.0.7/32 dev lo && ip addr add 192.0.2.1/32 dev lo && ip addr add 192.0.2.2/32 dev lo ||
	{ echo "cannot add the stand-in addresses in the namespace"; exit 1; }

find_python
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
# the names the app's configuration uses, as the outside world would answer them
printf '127.0.0.1 localhost\n10.20.0.7 db.prod.example.com\n192.0.2.2 api.payments.example.com\n' >"$tmp/hosts"
private_hosts "$tmp/hosts" || { echo "cannot give the namespace its own /etc/hosts"; exit 1; }

# wait_line FILE REGEX: until a line of FILE matches (5 s at most)
wait_line() { for _ in $(seq 100); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# the stand-ins, outside the sandbox; their log is what reached them
standin() { "$py" "$here/standin.py" "$@" >>"$tmp/standins" 2>&1 & pids+=($!); wait_line "$tmp/standins" "^$1: listening"; }
standin production 10.20.0.7 5432 "PRODUCTION db: 1 row"
standin telemetry 192.0.2.1 443 "telemetry: thanks"
standin payments 192.0.2.2 443 "payments: up"
standin mock 127.0.0.1 15432 "mock db: 1 row"
echo "namespace: production db db.prod.example.com = 10.20.0.7:5432, payment API api.payments.example.com = 192.0.2.2:443,"
echo "           telemetry 192.0.2.1:443 (stand-ins); mock db 127.0.0.1:15432"
seen() { grep -c "^$1: connection" "$tmp/standins"; }

# suite NAME [sockshim ... --]: one run in the background, its output in $tmp/NAME
suite() {
	local name=$1; shift
	SUITE_RUN=$name SUITE_GATE=$tmp/go "$@" "$py" "$here/suite.py" >"$tmp/$name" 2>&1 &
	pids+=($!)
}
go() { touch "$tmp/go"; wait "${pids[@]:4}" 2>/dev/null; pids=("${pids[@]:0:4}"); rm -f "$tmp/go"; }

echo
echo "== without sockshim: two runs at once"
suite A; wait_line "$tmp/A" server
suite B; wait_line "$tmp/B" server
go
cat "$tmp/A" "$tmp/B"
echo "reached: production db $(seen production) time(s), payments $(seen payments), telemetry $(seen telemetry), mock db $(seen mock)"
before_prod=$(seen production) before_pay=$(seen payments) before_tele=$(seen telemetry) before_mock=$(seen mock)

echo
echo "== under sockshim: two runs at once, each with its own copy of policy.ini"
for n in 1 2; do
	sed "s/^rewrite = 127\.0\.0\.10\b/rewrite = 127.0.0.1$n/" "$here/policy.ini" >"$tmp/policy-$n.ini"
	chmod 0644 "$tmp/policy-$n.ini"   # sockshim refuses a policy others may write to
done
suite A "$sockshim" -p "$tmp/policy-1.ini" -l "$tmp/A.json" --
suite B "$sockshim" -p "$tmp/policy-2.ini" -l "$tmp/B.json" --
wait_line "$tmp/A" server && wait_line "$tmp/B" server
echo "ss -ltn: $(ss -Hltn 'sport = :8080' | awk '{print $4}' | sort | tr '\n' ' ')"
go
cat "$tmp/A" "$tmp/B"
echo "reached: production db $(($(seen production) - before_prod)) time(s), payments $(($(seen payments) - before_pay)), telemetry $(($(seen telemetry) - before_tele)), mock db $(($(seen mock) - before_mock))"

echo
echo "== the decision log of run A (log_format = json, -l): what the suite tried"
"$py" - "$tmp/A.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "op" in e:
        err = f" errno={e['errno']}" if e.get("errno") else f" error={e['error']}" if e.get("error") else ""
        # a lookup has a name, no address; a connect to an address a lookup gave carries the name
        where = e["host"] if e["op"] == "resolve" else e["addr"] + (f" host={e['host']}" if e.get("host") else "")
        print(f"  {e['op']:8} {where:40} rule={e['rule']:15} {','.join(e['actions']):24} rc={e['rc']}{err}")
PY
echo "one object per line, e.g.:"
grep -m1 '"op":"connect".*"rule":"no-egress"' "$tmp/A.json"
echo "(rc=-1 errno=EINPROGRESS: python's connect with a timeout is non-blocking; it completed)"
