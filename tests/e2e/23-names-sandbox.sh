#!/bin/bash
# 23: a sandbox policy for names: it answers the two names the code under
# test may use and refuses every other lookup (`deny = EAI_NONAME`), so no
# query ever leaves the program. The program gets libc's error (python
# socket.gaierror with EAI_NONAME, curl exit 6, h_errno for gethostbyname),
# and strace shows no socket call towards port 53. Control: bare, the same
# lookups do try the nameserver (strace shows the attempt), so the strace
# check can fail. Also: `deny = EAI_AGAIN` and `EAI_FAIL` as the program
# sees them; names match case-insensitively and with a trailing dot; host
# globs; a numeric host is no lookup (a catch-all deny leaves 127.0.0.1
# alone); `program` and `family` on resolve rules (an AF_UNSPEC lookup
# takes only a rule without family).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only

check "no DNS here" names_no_dns api.example.test db.example.test other.example.com
names_http api 127.0.0.1 18080 || exit 1
names_http db 127.0.0.2 18080 || exit 1

P=$(policy sandbox.ini <<'INI'
[api]
on = resolve
host = api.example.test
rewrite = 127.0.0.1

[db]
on = resolve
host = db.example.test
rewrite = 127.0.0.2

[no-other-names]
on = resolve
deny = EAI_NONAME
INI
)

gai='import socket, sys
for n in sys.argv[1:]:
    try:
        print(n, sorted({a[4][0] for a in socket.getaddrinfo(n, 80, socket.AF_INET, socket.SOCK_STREAM)}))
    except socket.gaierror as e:
        print(n, "gaierror", {socket.EAI_NONAME: "EAI_NONAME", socket.EAI_AGAIN: "EAI_AGAIN", socket.EAI_FAIL: "EAI_FAIL"}.get(e.errno, e.errno))'

# ---- the two names answered, the rest refused ----
out=$(shim "$P" "$PY" -c "$gai" api.example.test db.example.test other.example.com 2>/dev/null)
expect_eq "python: the two names answered, any other refused with EAI_NONAME" "$out" \
"api.example.test ['127.0.0.1']
db.example.test ['127.0.0.2']
other.example.com gaierror EAI_NONAME"
out=$(shim "$P" curl -s --max-time 10 http://api.example.test:18080/a http://db.example.test:18080/d 2>/dev/null)
expect_eq "curl: both services answer" "$out" "served /a
served /d"
expect_match "curl: the api server saw its request" "$(names_requests api)" '^request /a host=api\.example\.test:18080 peer=127\.0\.0\.1$'
expect_match "curl: the db server saw its request" "$(names_requests db)" '^request /d host=db\.example\.test:18080 peer=127\.0\.0\.[12]$'
expect_eq "curl: each server saw only its own" "$(names_requests api | grep -c /d)$(names_requests db | grep -c /a)" 00
shim "$P" curl -s --max-time 10 http://other.example.com:18080/x >/dev/null 2>&1
expect_eq "curl: another name cannot be resolved (exit 6)" "$?" 6
expect_eq "curl: the servers saw nothing of it" "$(cat "$T/api.out" "$T/db.out" | grep -c ' /x ')" 0
out=$(shim "$P" "$NAMEPROBE" ghbn other.example.com 2>/dev/null)
expect_eq "gethostbyname: refused, h_errno HOST_NOT_FOUND" "$out" "error h_errno=HOST_NOT_FOUND"

# ---- strace: no packet to port 53 ----
st() { # NAME [shim POLICY]: strace the lookups of python and curl to $T/NAME.st
	local e=() v
	if [ $# -gt 1 ]; then e=(-E "SOCKSHIM_POLICY=$3" -E "LD_PRELOAD=$SHIM"); fi
	strace -f -e trace=connect,sendto,sendmsg,sendmmsg -o "$T/$1.py.st" "${e[@]}" "$PY" -c "$gai" other.example.com api.example.test >/dev/null 2>&1
	strace -f -e trace=connect,sendto,sendmsg,sendmmsg -o "$T/$1.curl.st" "${e[@]}" curl -s --max-time 10 http://other.example.com/ http://api.example.test:18080/st >/dev/null 2>&1
	strace -f -e trace=connect,sendto,sendmsg,sendmmsg -o "$T/$1.ghbn.st" "${e[@]}" "$NAMEPROBE" ghbn other.example.com >/dev/null 2>&1
	cat "$T/$1".*.st
}
to53() { grep -c 'htons(53)' <<<"$1"; }
bare=$(st bare)
check "control: bare, the lookups try the nameserver (strace shows port 53: $(to53 "$bare") calls)" \
	test "$(to53 "$bare")" -gt 0
sh=$(st shim shim "$P")
expect_eq "sandbox: strace shows no call towards port 53 (python, curl, gethostbyname)" "$(to53 "$sh")" 0
check "sandbox: strace saw curl's connect to the answered name (it traced the calls)" grep -q 'htons(18080)' <<<"$sh"

# ---- EAI_AGAIN, EAI_FAIL ----
for e in EAI_AGAIN:TRY_AGAIN EAI_FAIL:NO_RECOVERY; do
	P2=$(policy "deny-${e%:*}.ini" <<INI
[refuse]
on = resolve
host = *.example.com
deny = ${e%:*}
INI
)
	out=$(shim "$P2" "$PY" -c "$gai" other.example.com 2>/dev/null)
	expect_eq "deny = ${e%:*}: python gets gaierror ${e%:*}" "$out" "other.example.com gaierror ${e%:*}"
	out=$(shim "$P2" "$NAMEPROBE" gai other.example.com 80 inet stream)
	expect_eq "deny = ${e%:*}: getaddrinfo returns ${e%:*}" "$out" "error ${e%:*}"
	out=$(shim "$P2" "$NAMEPROBE" ghbn other.example.com)
	expect_eq "deny = ${e%:*}: gethostbyname's h_errno is ${e#*:}" "$out" "error h_errno=${e#*:}"
	out=$(shim "$P2" "$NAMEPROBE" ghbn2 other.example.com inet6)
	expect_eq "deny = ${e%:*}: gethostbyname2's h_errno is ${e#*:}" "$out" "error h_errno=${e#*:}"
	out=$(shim "$P2" "$NAMEPROBE" ghbn_r other.example.com 1024)
	expect_match "deny = ${e%:*}: gethostbyname_r's h_errno is ${e#*:}" "$out" "h_errno=${e#*:}\$"
done

# ---- how names match ----
P3=$(policy match.ini <<'INI'
[svc]
on = resolve
host = *.svc.test, Exact.Example.TEST
rewrite = 127.0.0.9
INI
)
out=$(shim "$P3" "$PY" -c "$gai" a.svc.test b.c.svc.test A.SVC.TEST a.svc.test. exact.example.test EXACT.EXAMPLE.TEST. 2>/dev/null)
expect_eq "host: globs and names, case-insensitive, a trailing dot ignored" "$out" \
"a.svc.test ['127.0.0.9']
b.c.svc.test ['127.0.0.9']
A.SVC.TEST ['127.0.0.9']
a.svc.test. ['127.0.0.9']
exact.example.test ['127.0.0.9']
EXACT.EXAMPLE.TEST. ['127.0.0.9']"
out=$(shim "$P3" "$NAMEPROBE" gai svc.test 80 inet stream)
expect_eq "host: *.svc.test does not take svc.test itself (passes through: no DNS here)" "$out" "error EAI_AGAIN"
expect_eq "control: bare, the same lookup gives the same" "$("$NAMEPROBE" gai svc.test 80 inet stream)" "error EAI_AGAIN"

# ---- a numeric host is no lookup ----
P4=$(policy all.ini <<'INI'
[no-names]
on = resolve
deny = EAI_NONAME
INI
)
out=$(shim "$P4" "$PY" -c "$gai" 127.0.0.2 2>/dev/null)
expect_eq "numeric host: a catch-all deny leaves 127.0.0.2 alone" "$out" "127.0.0.2 ['127.0.0.2']"
out=$(shim "$P4" "$NAMEPROBE" gai ::1 80 inet6 stream)
expect_eq "numeric host: ::1 too" "$out" "inet6 stream 6 ::1 80"
out=$(shim "$P4" curl -s --max-time 10 http://127.0.0.1:18080/numeric 2>/dev/null)
expect_eq "numeric host: curl http://127.0.0.1 reaches the server" "$out" "served /numeric"
out=$(shim "$P4" "$NAMEPROBE" gai localhost 80 inet stream)
expect_eq "a name in /etc/hosts is a lookup: refused" "$out" "error EAI_NONAME"

# ---- program and family on resolve ----
P5=$(policy pf.ini <<'INI'
[curl-only]
on = resolve
program = curl
host = api.example.test
rewrite = 127.0.0.1

[v6-refused]
on = resolve
family = ipv6
deny = EAI_FAIL

[v4]
on = resolve
family = ipv4
host = api.example.test
rewrite = 127.0.0.2
INI
)
out=$(shim "$P5" curl -s --max-time 10 http://api.example.test:18080/prog 2>/dev/null)
expect_eq "program = curl: curl gets the rewrite" "$out" "served /prog"
expect_eq "program = curl: the other program skips it, family = ipv6 refuses its v6 lookup" \
	"$(shim "$P5" "$NAMEPROBE" gai api.example.test 80 inet6 stream)" "error EAI_FAIL"
expect_eq "family = ipv4: its v4 lookup takes the next rule" \
	"$(shim "$P5" "$NAMEPROBE" gai api.example.test 80 inet stream)" "inet stream 6 127.0.0.2 80"
# an AF_UNSPEC lookup (curl's, getaddrinfo's default) asks for both families:
# a rule naming only ipv6 does not take it, the rule without family does
P6=$(policy pf6.ini <<'INI'
[v6-refused]
on = resolve
family = ipv6
deny = EAI_FAIL

[any]
on = resolve
host = api.example.test
rewrite = 127.0.0.1
INI
)
out=$(shim "$P6" curl -s --max-time 10 http://api.example.test:18080/unspec 2>/dev/null)
expect_eq "family = ipv6 leaves curl's AF_UNSPEC lookup to the rule without family: the server got the request" "$out" "served /unspec"
expect_eq "family = ipv6: an AF_UNSPEC lookup gets the rule without family's answer" \
	"$(shim "$P6" "$NAMEPROBE" gai api.example.test 80 any stream)" "inet stream 6 127.0.0.1 80"
expect_eq "family = ipv6 still refuses an AF_INET6 lookup" \
	"$(shim "$P6" "$NAMEPROBE" gai api.example.test 80 inet6 stream)" "error EAI_FAIL"
finish
