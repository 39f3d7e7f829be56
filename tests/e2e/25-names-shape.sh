#!/bin/bash
# 25: a rewritten answer has the shape of glibc's own. For every combination
# of hints of tests/helpers/gaishape.py (family, socktype, protocol, service
# name or number, AI_NUMERICSERV, AI_PASSIVE, AI_CANONNAME, AI_V4MAPPED,
# AI_ALL, AI_NUMERICHOST, AI_ADDRCONFIG: 1,440 cases), getaddrinfo of a name the shim
# rewrites gives what glibc gives, bare, for a name held in this test's own
# /etc/hosts with the same address: the same entries (family, socktype,
# protocol, address, port) in the same order, the same canonical name, the
# same EAI_ error. A rewrite to one IPv4, one IPv6 address, and a list of
# three (IPv4, IPv6, IPv4: every address in the rule's order, the hints'
# family filtering them: the reference is the three hosts-file names one
# after the other). Then gethostbyname, gethostbyname2 and _r against the
# same reference, ERANGE for a small buffer included. Control: the diff is
# not empty for a name the shim does not rewrite.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only
[ "$(id -u)" = 0 ] || { echo "skipped: needs root for a private /etc/hosts (mount --bind)"; exit 77; }

cat >"$T/hosts" <<'HOSTS'
127.0.0.1 localhost
127.0.0.7 ref-one.test
fd00::7 ref-six.test
127.0.0.3 ref-m1.test
127.0.0.1 ref-m3.test
127.0.0.3 ref-multi.test
fd00::7 ref-multi.test
127.0.0.1 ref-multi.test
HOSTS
check "a private /etc/hosts for the reference answers" names_private_hosts "$T/hosts"
expect_eq "the reference name resolves bare" "$("$NAMEPROBE" gai ref-one.test 80 inet stream)" "inet stream 6 127.0.0.7 80"

P=$(policy shape.ini <<'INI'
[global]
log = none

[one]
on = resolve
host = one.example.test
rewrite = 127.0.0.7

[six]
on = resolve
host = six.example.test
rewrite = fd00::7

[multi]
on = resolve
host = multi.example.test
rewrite = 127.0.0.3, fd00::7, 127.0.0.1
INI
)

# shape NAME REF...: the gaishape diff, rewritten NAME against glibc's REFs
shape() {
	local name=$1; shift
	"$PY" "$TOP/tests/helpers/gaishape.py" "$@" >"$T/ref.$name" 2>&1
	shim "$P" "$PY" "$TOP/tests/helpers/gaishape.py" "$name" >"$T/got.$name" 2>&1
	diff "$T/ref.$name" "$T/got.$name" >"$T/diff.$name"
}
report() { # NAME: how many cases differ, and the first few
	local d
	d=$(grep -c '^>' "$T/diff.$1")
	echo "# $1: $(tail -1 "$T/ref.$1"), $d differ"
	grep -E '^[<>]' "$T/diff.$1" | head -12 | sed 's/^/#   /'
}

for c in "one.example.test ref-one.test" "six.example.test ref-six.test" "multi.example.test ref-m1.test ref-six.test ref-m3.test"; do
	set -- $c
	n=$1
	shape "$@"; rc=$?
	report "$n"
	check "getaddrinfo $n (rewrite to the address of ${*:2}): every case as glibc's" test $rc = 0
	check "getaddrinfo $n: the matrix ran" grep -q '^cases 1440$' "$T/got.$n"
done
ok=$(grep -c ' -> inet' "$T/got.multi.example.test")
check "the matrix has answering cases ($ok of 1440)" test "$ok" -gt 300

# control: a name the shim does not rewrite differs from the reference
shim "$P" "$PY" "$TOP/tests/helpers/gaishape.py" other.example.test >"$T/got.other" 2>&1
check "control: the diff sees a name the shim does not answer" \
	sh -c "! diff -q '$T/ref.one.example.test' '$T/got.other' >/dev/null"

# ---- the gethostbyname family against the same reference ----
ghbn_cases=("ghbn" "ghbn2 inet" "ghbn2 inet6" "ghbn_r 1024" "ghbn_r 8" "ghbn2_r inet 1024" "ghbn2_r inet6 1024" "ghbn2_r inet6 8")
for c in "one.example.test ref-one.test" "six.example.test ref-six.test" "multi.example.test ref-multi.test"; do
	set -- $c
	for k in "${ghbn_cases[@]}"; do
		set -- $k
		op=$1; shift
		ref=$("$NAMEPROBE" "$op" "${c#* }" "$@" | sed "s/name=${c#* }/name=NAME/")
		got=$(shim "$P" "$NAMEPROBE" "$op" "${c%% *}" "$@" 2>/dev/null | sed "s/name=${c%% *}/name=NAME/")
		expect_eq "$op ${c%% *} $*: as glibc's for ${c#* } ($ref)" "$got" "$ref"
	done
done
finish
