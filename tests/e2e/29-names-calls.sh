#!/bin/bash
# 29: how a rewritten or refused lookup answers the call, against glibc's
# own answer for a name in this test's /etc/hosts with the same address,
# and what reaches this test's own nameserver (tests/helpers/dnswitness.py):
# - gethostbyname's answer is the process's, as glibc's: a hostent a thread
#   got (that thread ended, another ran since) still reads the same in main;
# - each entry's ai_flags are the caller's (0x28, AI_V4MAPPED|AI_ADDRCONFIG,
#   for NULL hints), so an entry reused as hints works; AI_ADDRCONFIG in a
#   namespace with loopback only: AF_INET is EAI_NONAME, as glibc's;
# - a refused lookup with bad hints gets glibc's EAI_FAMILY, EAI_SOCKTYPE,
#   EAI_SERVICE, EAI_BADFLAGS first, as glibc does for any name;
# - AI_IDN: a rule on xn--bcher-kva.example cannot be passed by asking
#   bücher.example with AI_IDN (bare, glibc sends the xn-- name to DNS).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only
[ "$(id -u)" = 0 ] || { echo "skipped: needs root for a private /etc/hosts, resolv.conf and port 53"; exit 77; }

printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
printf 'hosts: files dns\n' >"$T/nsswitch.conf"
printf '127.0.0.1 localhost\n127.0.0.7 ref.test\n' >"$T/hosts"
check "a private resolv.conf, nsswitch.conf and hosts" sh -c "mount --bind '$T/resolv.conf' /etc/resolv.conf &&
	mount --bind '$T/nsswitch.conf' /etc/nsswitch.conf && mount --bind '$T/hosts' /etc/hosts"
Q="$T/queries.log"
: >"$Q"
"$PY" "$TOP/tests/helpers/dnswitness.py" "$Q" >"$T/witness.out" 2>"$T/witness.err" &
_ns_pids="$_ns_pids $!"
_names_ready witness || exit 1

P=$(policy calls.ini <<'INI'
[global]
log = none

[api]
on = resolve
host = api.example.test
rewrite = 127.0.0.7

[idn]
on = resolve
host = xn--bcher-kva.example
deny = EAI_FAIL

[other]
on = resolve
host = *.nx.test
deny = EAI_AGAIN
INI
)

# ---- gethostbyname's storage ----
expect_eq "reference: glibc's hostent is readable after its thread ended" "$("$NAMEPROBE" ghbn_thread ref.test 2>&1)" \
	"name=ref.test addr=127.0.0.7"
expect_eq "rewrite: the same, for the rewritten name" "$(shim "$P" "$NAMEPROBE" ghbn_thread api.example.test 2>&1)" \
	"name=api.example.test addr=127.0.0.7"

# ---- ai_flags, AI_ADDRCONFIG ----
for f in 0 0x2 0x8 null; do
	expect_eq "ai_flags ($f): each entry carries the caller's flags; reused as hints, it works" \
		"$(shim "$P" "$NAMEPROBE" reuse api.example.test $f 2>&1)" "$("$NAMEPROBE" reuse ref.test $f 2>&1)"
done
for fam in inet inet6 unspec; do
	expect_eq "AI_ADDRCONFIG, $fam, loopback only: as glibc" \
		"$(shim "$P" "$NAMEPROBE" gai api.example.test 80 $fam stream 32 2>&1)" "$("$NAMEPROBE" gai ref.test 80 $fam stream 32 2>&1)"
done

# ---- deny checks the hints first ----
# ARGS:BARE:REFUSED, BARE for a name that does not exist (no DNS answers it)
for h in "- 99 0 0:EAI_FAMILY:EAI_FAMILY" "- unspec 99 0:EAI_SOCKTYPE:EAI_SOCKTYPE" \
	"no-such-service unspec stream 0:EAI_SERVICE:EAI_SERVICE" "- unspec 0 65536:EAI_BADFLAGS:EAI_BADFLAGS" \
	"http unspec stream 1024:EAI_NONAME:EAI_NONAME" "- unspec 0 2:EAI_NONAME:EAI_AGAIN"; do
	args=${h%%:*}; rest=${h#*:}; bare=${rest%:*}; want=${rest#*:}
	# shellcheck disable=SC2086
	expect_eq "hints '$args': bare glibc says $bare for a name that does not exist" \
		"$("$NAMEPROBE" gai not-there.test $args 2>&1)" "error $bare"
	# shellcheck disable=SC2086
	expect_eq "hints '$args': a lookup the rule refuses (EAI_AGAIN) says $want" "$(shim "$P" "$NAMEPROBE" gai x.nx.test $args 2>&1)" "error $want"
done

# ---- AI_IDN ----
u=$(printf 'b\303\274cher.example')
export LC_ALL=C.UTF-8
q0=$(wc -l <"$Q")
"$NAMEPROBE" gai "$u" - unspec 0 64 >/dev/null 2>&1
expect_match "control: bare, AI_IDN sends the xn-- form to DNS" "$(tail -n +$((q0 + 1)) "$Q")" "query xn--bcher-kva\.example"
q0=$(wc -l <"$Q")
expect_eq "the xn-- name is refused by its rule" "$(shim "$P" "$NAMEPROBE" gai xn--bcher-kva.example - unspec 2>&1)" "error EAI_FAIL"
out=$(shim "$P" "$NAMEPROBE" gai "$u" - unspec 0 64 2>&1)
expect_eq "AI_IDN, non-ASCII: no query reaches the nameserver" "$(tail -n +$((q0 + 1)) "$Q")" ""
check "AI_IDN, non-ASCII: the lookup fails ($out)" test "${out#error }" != "$out"
finish
