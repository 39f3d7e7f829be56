#!/bin/bash
# frontends: preload, seccomp
# 28: names in the launcher, and the policy errors of resolve and host rules.
# - explain POLICY resolve NAME: the deciding rule and its answer (rewrite
#   addresses, EAI_ error), or a pass-through; explain POLICY connect tcp
#   ADDR:PORT --host NAME: a host rule decides only with --host, and only a
#   matching name;
# - check warns (FILE:LINE, exit 0) about every resolve or host rule: the
#   --seccomp front end never sees the lookups; a policy without them gets
#   no such warning;
# - the launcher with --seccomp and such a policy warns once (one line,
#   however many processes the command starts), and not without --seccomp;
# - parse errors naming FILE:LINE, exit 78: addr, port or proto on a
#   resolve rule, an EAI_ name as a connect deny, an errno as a resolve deny,
#   a bad host or glob, a rewrite with a port on resolve, host on bind/listen.
# The launcher alone: the same under both front ends' runs of the suite.
. "$TOP/tests/lib.sh"
S="$BUILD/sockshim"

P=$(policy names.ini <<'INI'
[api]
on = resolve
host = api.example.test
rewrite = 127.0.0.1, ::1

[others]
on = resolve
host = *.example.com
deny = EAI_NONAME

[deny-blocked]
on = connect
host = *.blocked.test
deny = ECONNREFUSED

[plain]
on = connect
port = 9
deny = EACCES
INI
)

# ---- explain ----
out=$("$S" explain "$P" resolve api.example.test 2>&1)
expect_match "explain resolve: rule api decides" "$out" "rule 'api' \($P:1\) decides"
expect_match "explain resolve: with its answer" "$out" '127\.0\.0\.1.*::1|127\.0\.0\.1[^:]*$'
expect_match "explain resolve: ... both addresses" "$out" '::1'
out=$("$S" explain "$P" resolve API.Example.TEST. 2>&1)
expect_match "explain resolve: case and trailing dot as the shim matches them" "$out" "rule 'api' \($P:1\) decides"
out=$("$S" explain "$P" resolve www.example.com 2>&1)
expect_match "explain resolve: a glob deny names its error" "$out" "rule 'others' \($P:6\) decides"
expect_match "explain resolve: ... EAI_NONAME" "$out" 'EAI_NONAME'
out=$("$S" explain "$P" resolve db.internal 2>&1); rc=$?
expect_match "explain resolve: no rule, the lookup passes through" "$out" 'passes through'
expect_eq "explain resolve: exit 0" "$rc" 0
out=$("$S" explain "$P" connect tcp 127.0.0.1:443 --host x.blocked.test 2>&1)
expect_match "explain --host: the host rule decides" "$out" "rule 'deny-blocked' \($P:11\) decides"
expect_match "explain --host: ... with its deny" "$out" 'ECONNREFUSED'
out=$("$S" explain "$P" connect tcp 127.0.0.1:443 2>&1)
expect_match "explain without --host: a host rule never matches" "$out" 'passes through'
out=$("$S" explain "$P" connect tcp 127.0.0.1:443 --host ok.example.test 2>&1)
expect_match "explain --host with another name: passes through" "$out" 'passes through'
out=$("$S" explain "$P" connect tcp 127.0.0.1:9 --host ok.example.test 2>&1)
expect_match "explain --host: rules without host still decide" "$out" "rule 'plain' \($P:16\) decides"

# ---- check ----
out=$("$S" check "$P" 2>&1); rc=$?
printf '%s\n' "$out" | sed 's/^/# /'
expect_eq "check: warnings only, exit 0" "$rc" 0
for r in api others deny-blocked; do
	expect_match "check: rule $r warned about --seccomp (FILE:LINE: warning: ...)" "$out" "^${P//./\\.}:[0-9]+: warning: .*'$r'.*seccomp"
done
expect_eq "check: no such warning for the plain rule" "$(grep -c "$P:16:" <<<"$out")" 0
plain=$(policy plain.ini <<'INI'
[plain]
on = connect
port = 9
deny = EACCES
INI
)
expect_eq "check: a policy without names warns about nothing" "$("$S" check "$plain" 2>&1 | grep -c warning)" 0

# ---- the launcher under --seccomp warns, once ----
out=$("$S" -p "$P" --seccomp -- sh -c 'true; sh -c true; sh -c true; exit 3' 2>&1); rc=$?
expect_eq "--seccomp with host/resolve rules: the command runs (its exit status)" "$rc" 3
expect_eq "--seccomp with host/resolve rules: one warning line" "$(grep -ci 'warn.*\(resolve\|host\|name\)\|\(resolve\|host\|name\).*warn' <<<"$out")" 1
expect_match "--seccomp: the warning says lookups are not seen" "$out" 'seccomp'
out=$("$S" -p "$plain" --seccomp -- true 2>&1)
expect_eq "--seccomp, a policy without names: no such warning" "$(grep -ci 'resolve\|host' <<<"$out")" 0
out=$("$S" -p "$P" -- true 2>&1)
expect_eq "the preload launcher with host/resolve rules: no such warning" "$(grep -ci 'warn.*\(resolve\|host\)' <<<"$out")" 0

# ---- parse errors: FILE:LINE, exit 78 ----
# bad NAME LINE BODY: a policy whose error is on LINE
bad() {
	local name=$1 line=$2 f out rc
	f=$(policy "$name.ini")
	out=$("$S" check "$f" 2>&1); rc=$?
	expect_eq "error: $name: exit 78" "$rc" 78
	expect_match "error: $name: reported at $name.ini:$line" "$out" "${name}\.ini:$line: "
	check "error: $name: the error is the one meant (resolve and host are known)" \
		sh -c "! grep -q \"unknown key 'host'\\|bad value 'resolve'\" <<'X'
$out
X"
}
bad addr-on-resolve 3 <<<$'[r]\non = resolve\naddr = 10.0.0.0/8\nrewrite = 127.0.0.1'
bad port-on-resolve 3 <<<$'[r]\non = resolve\nport = 53\nrewrite = 127.0.0.1'
bad proto-on-resolve 3 <<<$'[r]\non = resolve\nproto = udp\ndeny = EAI_NONAME'
bad eai-on-connect 3 <<<$'[r]\non = connect\ndeny = EAI_NONAME'
bad errno-on-resolve 3 <<<$'[r]\non = resolve\ndeny = ECONNREFUSED'
bad bad-eai 3 <<<$'[r]\non = resolve\ndeny = EAI_NOSUCHTHING'
bad host-space 3 <<<$'[r]\non = resolve\nhost = exa mple.test\ndeny = EAI_NONAME'
bad host-url 3 <<<$'[r]\non = connect\nhost = http://api.example.test\ndeny = EACCES'
bad host-bad-glob 3 <<<$'[r]\non = resolve\nhost = [a-z.example.test\ndeny = EAI_NONAME'
bad host-empty 3 <<<$'[r]\non = resolve\nhost =\ndeny = EAI_NONAME'
bad rewrite-port-on-resolve 3 <<<$'[r]\non = resolve\nrewrite = 127.0.0.1:8080'
bad rewrite-v6-port-on-resolve 4 <<<$'[r]\non = resolve\nhost = a.test\nrewrite = [::1]:8080'
bad rewrite-name-on-resolve 3 <<<$'[r]\non = resolve\nrewrite = other.example.test'
bad host-on-bind 3 <<<$'[r]\non = bind\nhost = api.example.test'
bad host-on-listen 3 <<<$'[r]\non = listen\nhost = api.example.test'
bad source-on-resolve 3 <<<$'[r]\non = resolve\nsource = 127.0.0.2'
# and what is fine
ok_pol=$(policy fine.ini <<'INI'
[a]
on = resolve
host = api.example.test, *.svc.test, db-1.internal.
program = curl, python3*
family = ipv6
rewrite = ::1, 127.0.0.1

[b]
on = resolve
deny = EAI_AGAIN

[c]
on = connect, send
host = *.svc.test
rewrite = 127.0.0.1:8080
INI
)
"$S" check "$ok_pol" >"$T/fine.out" 2>&1
expect_eq "a policy using every resolve and host key is valid (exit 0)" "$?" 0
sed 's/^/# /' "$T/fine.out"
finish
