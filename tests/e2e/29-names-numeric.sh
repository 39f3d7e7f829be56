#!/bin/bash
# 29: what is a numeric address and what is a name is glibc's call, per
# function. Under a policy that refuses every lookup (deny = EAI_FAIL), for
# a list of strings that look numeric (decimal, octal, hex, short forms,
# trailing dots, IPv6 with and without scope, brackets or a trailing dot,
# the root ".", the empty string) and each lookup function (getaddrinfo with
# AF_UNSPEC, AF_INET, AF_INET with AI_CANONNAME, AF_INET6; gethostbyname,
# gethostbyname2 AF_INET6, gethostbyname_r, gethostbyname2_r AF_INET6):
# - no query reaches this test's own nameserver (tests/helpers/dnswitness.py
#   on 127.0.0.1:53, named in a private /etc/resolv.conf);
# - every string glibc, bare, sent to that nameserver is refused with the
#   rule's EAI_FAIL (h_errno NO_RECOVERY) and has a log line;
# - every string glibc answers as an address gets the same answer under the
#   shim (a numeric address is no lookup).
# Control: bare, the nameserver sees the lookups of 1.2.3.4., 0x7f.1
# (gethostbyname), "." and a plain name. `sockshim explain` says name or
# address as the hooks do.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only
[ "$(id -u)" = 0 ] || { echo "skipped: needs root for a private /etc/resolv.conf and port 53"; exit 77; }

printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$T/resolv.conf"
printf 'hosts: files dns\n' >"$T/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$T/hosts"
check "a private resolv.conf, nsswitch.conf and hosts" sh -c "mount --bind '$T/resolv.conf' /etc/resolv.conf &&
	mount --bind '$T/nsswitch.conf' /etc/nsswitch.conf && mount --bind '$T/hosts' /etc/hosts"
Q="$T/queries.log"
: >"$Q"
"$PY" "$TOP/tests/helpers/dnswitness.py" "$Q" >"$T/witness.out" 2>"$T/witness.err" &
_ns_pids="$_ns_pids $!"
_names_ready witness || exit 1

P=$(policy deny.ini <<INI
[global]
log = file:$T/shim.log

[no-names]
on = resolve
deny = EAI_FAIL
INI
)
: >"$T/shim.log"

# one lookup: CALL NAME -> the probe's first line
probe() {
	case $1 in
	gai) "$NAMEPROBE" gai "$2" - unspec ;;
	gai4) "$NAMEPROBE" gai "$2" - inet ;;
	gai4c) "$NAMEPROBE" gai "$2" - inet 0 2 ;;
	gai6) "$NAMEPROBE" gai "$2" - inet6 ;;
	ghbn) "$NAMEPROBE" ghbn "$2" ;;
	ghbn6) "$NAMEPROBE" ghbn2 "$2" inet6 ;;
	ghbnr) "$NAMEPROBE" ghbn_r "$2" 1024 ;;
	ghbn6r) "$NAMEPROBE" ghbn2_r "$2" inet6 1024 ;;
	esac 2>&1 | head -1
}
shimprobe() { SOCKSHIM_POLICY=$P LD_PRELOAD="$SHIM${LD_PRELOAD:+:$LD_PRELOAD}" probe "$@"; }
lines() { wc -l <"$1"; }
refused() { case $1 in "error EAI_FAIL"|"error h_errno=NO_RECOVERY"|"rc=0 h_errno=NO_RECOVERY") return 0 ;; esac; return 1; }

cands=(1.2.3.4 1.2.3.4. 127.0.0.1. 1. 1.2. 1.2.3. 1 2130706433 2130706433. 4294967295 4294967296
	127.1 127.0.1 017.0.0.1 08.1.2.3 0x1 0x7f.1 0x0a.1 1.2.3.0x4 0x 0x7f000001 999.1.1.1 1.2.3.4.5 1e
	::1 ::1. [::1] ::ffff:1.2.3.4 fe80::1%lo fe80::1%1 fe80::1%nosuch 1:2 a:b . .. "" "*" name.example)
calls=(gai gai4 gai4c gai6 ghbn ghbn6 ghbnr ghbn6r)
leaked="" unrefused="" unlogged="" changed="" nsent=0 ncases=0
for n in "${cands[@]}"; do
	for c in "${calls[@]}"; do
		ncases=$((ncases + 1))
		q0=$(lines "$Q")
		bare=$(probe "$c" "$n")
		q1=$(lines "$Q")
		l1=$(lines "$T/shim.log")
		got=$(shimprobe "$c" "$n")
		q2=$(lines "$Q")
		l2=$(lines "$T/shim.log")
		[ "$q2" = "$q1" ] || leaked="$leaked [$n] $c;"
		if [ "$q1" != "$q0" ]; then
			nsent=$((nsent + 1))
			refused "$got" || unrefused="$unrefused [$n] $c: $got;"
			[ "$l2" != "$l1" ] || unlogged="$unlogged [$n] $c;"
		elif [ "$got" != "$bare" ] && ! { case $bare in error*|rc=*) true ;; *) false ;; esac && refused "$got"; }; then
			changed="$changed [$n] $c: bare '$bare', shim '$got';"
		fi
	done
done
sent() { local q0; q0=$(lines "$Q"); probe "$1" "$2" >/dev/null; [ "$(lines "$Q")" != "$q0" ]; }
check "control: bare, 1.2.3.4. is looked up (getaddrinfo)" sent gai 1.2.3.4.
check "control: bare, 0x7f.1 is looked up by gethostbyname" sent ghbn 0x7f.1
check "control: bare, the root '.' is looked up" sent gai .
check "control: bare, a plain name is looked up" sent ghbn name.example
not_sent() { ! sent "$@"; }
check "control: bare, 1.2.3.4 is not looked up" not_sent gai 1.2.3.4
echo "# $ncases cases, $nsent of them sent to the nameserver by glibc"
expect_eq "no query reaches the nameserver under the shim, for any string and call" "$leaked" ""
expect_eq "every string glibc looks up is refused with the rule's EAI_FAIL / NO_RECOVERY" "$unrefused" ""
expect_eq "every string glibc looks up has a log line" "$unlogged" ""
expect_eq "what glibc answers without a lookup is answered the same under the shim" "$changed" ""

# ---- explain says what the hooks do ----
ex() { "$BUILD/sockshim" explain "$P" resolve "$@" 2>&1; }
expect_match "explain: 1.2.3.4. is a name the rule refuses" "$(ex 1.2.3.4.)" "rule 'no-names'"
expect_match "explain: 1.2.3.4 is an address" "$(ex 1.2.3.4)" "not a name a rule sees"
expect_match "explain: the root '.' is a name" "$(ex .)" "rule 'no-names'"
expect_match "explain: 0x7f.1 is an address for getaddrinfo, a name for gethostbyname" "$(ex 0x7f.1 --family ipv4)" \
	"gethostbyname looks it up as a name"
finish
