#!/bin/bash
# frontends: preload, seccomp
# 45: every connect the kernel acts on as a new attempt is decided. A TCP
# socket whose non-blocking connect failed can connect again (Linux: the
# first call after the failure reports it, ECONNREFUSED, or ECONNABORTED
# once SO_ERROR was read; the next call really connects). So can a socket
# disconnected with AF_UNSPEC, a UDP socket connected to a new peer, and a
# new socket on a closed socket's fd number. The first attempt goes to a
# port no rule names (nothing listens on 9450, or a server on 9452); the
# new attempt goes to 9451, which a rule denies (EACCES) or pins to the
# source 127.0.0.2. Kernel truth: the probe's (rc, errno) for every call,
# getsockname, and the peer address the server on 9451 saw. The calls that
# only report the failed attempt, and the repeats of an attempt in progress,
# give exactly what they give bare; the new attempt is logged once.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve s51 tcp 127.0.0.1 9451 || exit 1
serve s52 tcp 127.0.0.1 9452 || exit 1
L=127.0.0.1
deny=$(policy deny.ini <<'INI'
[deny-9451]
on = connect
addr = 127.0.0.1
port = 9451
deny = EACCES
INI
)
pin=$(policy pin.ini <<'INI'
[pin-9451]
on = connect
addr = 127.0.0.1
port = 9451
source = 127.0.0.2
INI
)
errnos() { sed 's/ local=.*//; s/ remote=.*//'; }

# The ways a socket comes to connect anew (SOCKET STEPS...; the last
# connect is the new attempt to 9451).
declare -A CASES=(
	[poll-unread]="tcp4 nonblock connect=$L:9450 poll connect=$L:9451 connect=$L:9451"
	[so-error-read]="tcp4 nonblock connect=$L:9450 wait connect=$L:9451 connect=$L:9451"
	[repeat-reports]="tcp4 nonblock connect=$L:9450 poll connect=$L:9450 connect=$L:9451"
	[blocking-refused]="tcp4 connect=$L:9450 connect=$L:9451"
	[tcp-disconnect]="tcp4 nonblock connect=$L:9452 wait disconnect connect=$L:9451"
	[fd-reused]="tcp4 nonblock connect=$L:9452 fd close new=tcp4 fd connect=$L:9451"
	[udp-new-peer]="udp4 connect=$L:9452 connect=$L:9451"
	[udp-disconnect]="udp4 connect=$L:9452 disconnect connect=$L:9451"
)
ORDER="poll-unread so-error-read repeat-reports blocking-refused tcp-disconnect fd-reused udp-new-peer udp-disconnect"

# ---- deny: the new attempt gets the policy's errno ----
for c in $ORDER; do
	bare=$("$PROBE" ${CASES[$c]} | errnos)
	out=$(SOCKSHIM_LOG=file:$T/deny-$c.log shim "$deny" "$PROBE" ${CASES[$c]} | errnos)
	want=$(sed '$ s/rc=.*/rc=-1 errno=EACCES/' <<<"$bare")
	expect_match "deny $c: bare (control) makes the new attempt" "$(tail -1 <<<"$bare")" "^connect=$L:9451 rc=(0|-1 errno=EINPROGRESS)"
	expect_eq "deny $c: every call as bare, the new attempt denied" "$out" "$want"
	expect_eq "deny $c: one decision logged, deny=EACCES" \
		"$(grep -c 'connect .*rule=deny-9451 .*deny=EACCES' "$T/deny-$c.log")" 1
done

# ---- source: the new attempt leaves from the pinned address ----
for c in poll-unread so-error-read repeat-reports blocking-refused tcp-disconnect fd-reused; do
	steps="${CASES[$c]} wait name"
	bare=$("$PROBE" $steps)
	before=$(npeers s51)
	out=$(SOCKSHIM_LOG=file:$T/pin-$c.log shim "$pin" "$PROBE" $steps)
	expect_eq "source $c: every call as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
	expect_match "source $c: bare (control) leaves from 127.0.0.1" "$(tail -1 <<<"$bare")" 'local=127\.0\.0\.1:'
	expect_match "source $c: getsockname shows the pinned source" "$(tail -1 <<<"$out")" 'local=127\.0\.0\.2:[0-9]+$'
	wait_peers s51 $((before + 2))
	expect_eq "source $c: the server saw the pinned source" "$(peers s51 | tail -1 | cut -d' ' -f1)" 127.0.0.2
	expect_eq "source $c: one decision logged, source=127.0.0.2" \
		"$(grep -c 'connect .*rule=pin-9451 .*source=127\.0\.0\.2' "$T/pin-$c.log")" 1
done

# ---- repeats of an attempt in progress still pass straight through ----
steps="tcp4 nonblock connect=$L:9451 connect=$L:9451 wait connect=$L:9451 connect=$L:9451 name"
bare=$("$PROBE" $steps)
out=$(SOCKSHIM_LOG=file:$T/pin-repeat.log shim "$pin" "$PROBE" $steps)
expect_eq "source repeat: EINPROGRESS, EALREADY/0, EISCONN as bare" "$(errnos <<<"$out")" "$(errnos <<<"$bare")"
expect_match "source repeat: from the pinned source" "$(tail -1 <<<"$out")" 'local=127\.0\.0\.2:'
expect_eq "source repeat: one decision for four calls" "$(grep -c 'connect .*rule=pin-9451' "$T/pin-repeat.log")" 1
finish
