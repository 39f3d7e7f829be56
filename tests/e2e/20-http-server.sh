# A real listener under a rule keeps working for real traffic:
# frontends: preload, seccomp
# `python3 -m http.server --bind 127.0.0.1 PORT` under reuseaddr/reuseport
# force serves files to curl; a second copy on the same port can join only
# because the shim set SO_REUSEPORT on both (bare: it fails), and then both
# copies answer curl requests correctly.
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
PORT=8080
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

mkdir -p "$T/www"
head -c 100000 /dev/urandom | base64 > "$T/www/data.txt"
echo "hello from sockshim" > "$T/www/index.html"
want=$(sha256sum < "$T/www/data.txt")

pol=$(policy http.ini <<EOF
[global]
log = file:$T/shim.log

[web]
on = bind
proto = tcp
port = $PORT
reuseaddr = force
reuseport = force
EOF
)

listeners() { ss -Hltn "sport = :$PORT" | wc -l; }

# serve NAME [POLICY]: http.server in the background; stderr has its request log
serve() {
	if [ $# -gt 1 ]; then set -- "$1" env SOCKSHIM_POLICY="$2" LD_PRELOAD="$SHIM"; fi
	name=$1; shift
	timeout 30 "$@" "$PY" -m http.server --bind 127.0.0.1 --directory "$T/www" $PORT > "$T/$name.out" 2> "$T/$name.err" &
	last=$!; pids="$pids $last"
}

# ---- bare control: a second copy cannot join ----
serve bare1
wait_port $PORT
serve bare2
wait $last; rc=$?
expect_eq "bare: second http.server exits 1" "$rc" "1"
expect_match "bare: second http.server fails with EADDRINUSE" "$(cat "$T/bare2.err")" 'Address already in use'
kill $pids 2>/dev/null; wait 2>/dev/null; pids=
i=0; while [ "$(listeners)" -gt 0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

# ---- under the shim ----
serve A "$pol"
a=$last
wait_port $PORT
body=$(timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$PORT/" 2>&1)
expect_eq "shim: curl gets index.html" "$body" "hello from sockshim"
got=$(timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$PORT/data.txt" 2>/dev/null | sha256sum)
expect_eq "shim: curl gets a 130 kB file intact" "$got" "$want"
code=$(timeout 10 curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/missing" 2>/dev/null)
expect_eq "shim: a missing file is a 404" "$code" "404"

serve B "$pol"
b=$last
i=0; while [ "$(listeners)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_eq "shim: second copy joins the port (two listeners)" "$(listeners)" "2"

okcount=0
for i in $(seq 20); do
	got=$(timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$PORT/data.txt" 2>/dev/null | sha256sum)
	[ "$got" = "$want" ] && okcount=$((okcount + 1))
done
expect_eq "shim: 20 fetches across both copies, all intact" "$okcount" "20"
ga=$(grep -c '"GET /data.txt HTTP/1.1" 200' "$T/A.err")
gb=$(grep -c '"GET /data.txt HTTP/1.1" 200' "$T/B.err")
check "shim: copy A served some of them ($ga)" test "$ga" -gt 1
check "shim: copy B served some of them ($gb)" test "$gb" -gt 0
expect_eq "shim: all 21 fetches of data.txt were served" "$((ga + gb))" "21"

log=$(cat "$T/shim.log")
expect_eq "shim: two start lines" "$(grep -c ' start .*program=python' <<<"$log")" "2"
expect_eq "shim: both binds logged with the actions" \
	"$(grep -cE "bind fd=[0-9]+ tcp 127\.0\.0\.1:$PORT rule=web actions=reuseaddr=force,reuseport=force rc=0" <<<"$log")" "2"

kill $a $b 2>/dev/null
wait $a $b 2>/dev/null
finish
