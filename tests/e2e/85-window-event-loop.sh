#!/bin/bash
# frontends: preload, seccomp
# 85: event-loop programs around a source_port window whose first ports are
# taken. Another process holds connections from 127.0.0.2:44000-44004 to the
# server; the program registers each non-blocking socket with its loop
# BEFORE connect (epoll_ctl ADD, as nginx does; poll and select on the fd or
# on a dup taken before connect), with SO_REUSEADDR (so an exact bind of a
# taken port succeeds and the collision shows at connect) or without, then
# waits at most 3 s. It must always
# learn each outcome: connected (the server saw the peer port inside the
# window's free ports) or a visible error (EADDRNOTAVAIL once the window is
# spent), never a timeout or a "done" on a socket that is not connected.
# - a window inside net.ipv4.ip_local_port_range (the kernel checks it):
#   the taken ports are skipped on the program's own socket, 5 connects
#   succeed, the 6th fails visibly;
# - a window outside it (the shim binds exact ports): a taken 4-tuple is the
#   kernel's EADDRNOTAVAIL at once, not a retry behind the loop's back.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/rot.sh"
EV="$BUILD/tests/evloop"

serve tcp 127.0.0.1 9100 "$T/peers" || exit 1
pol() { # NAME WINDOW
	policy "$1.ini" <<INI
[$1]
on = connect
source = 127.0.0.2
source_port = $2
rotate_scope = host
INI
}
shm_of() { echo "/dev/shm/sockshim-$(id -u)-$(stat -c '%d-%i' "$1")"; }
POLS=""
trap 'for p in $POLS; do rm -f "$(shm_of "$p")"; done; _rot_cleanup' EXIT
HOG=$(policy hog.ini <<'INI'
[hog]
on = connect
source = 127.0.0.2
source_port = 44000-44004
INI
)
later shim "$HOG" "$RC" -r -n 5 -w 60 -f "$T/hog.ports" 127.0.0.1 9100 >/dev/null 2>&1
wait_lines "$T/hog.ports" 5
expect_eq "setup: 44000-44004 held towards 127.0.0.1:9100" "$(cut -d' ' -f2 "$T/hog.ports" | sort | tr '\n' ' ')" \
	"44000 44001 44002 44003 44004 "

# run NAME FREE_LO MODE [FLAGS]: a window of the 5 taken ports and 5 free ones
# from FREE_LO; 6 connects through the loop.
k=0
run() {
	local name=$1 lo=$2 mode=$3; shift 3
	local P
	P=$(pol "$name" "44000-44004, $lo-$((lo + 4))")
	POLS="$POLS $P"
	local seen
	seen=$(awk -v lo="$lo" '$1 == "127.0.0.2" && $2 >= lo && $2 <= lo + 4' "$T/peers" | wc -l)
	out=$(timeout 60 bash -c 'SOCKSHIM_FRONTEND='"${SOCKSHIM_FRONTEND:-preload}"'; . "$TOP/tests/lib.sh"; shim "$@"' _ \
		"$P" "$EV" "$mode" 6 127.0.0.1 9100 "$@" -f "$T/$name.ports" 2>"$T/$name.log")
	# the server writes its peers as it accepts them: at most 3 s for it to
	# catch up with the connections the loop reported
	local want i=0
	want=$(grep -c ' ok ' <<<"$out")
	while :; do
		got=$(awk -v lo="$lo" '$1 == "127.0.0.2" && $2 >= lo && $2 <= lo + 4' "$T/peers" | wc -l)
		served=$((got - seen))
		[ "$served" -ge "$want" ] || [ $i -ge 30 ] && break
		sleep 0.1; i=$((i + 1))
	done
}

for spec in "epoll 44010 -r" "poll 44020 -r" "select 44030 -r" "epoll 44040 -r -d" "poll 44050 -r -d" "select 44060 -r -d" \
	"epoll 44070"; do
	set -- $spec
	what="$1$([ "${4:-}" = -d ] && echo " (a dup)")$([ "${3:-}" = -r ] || echo ", no SO_REUSEADDR")"
	run "w$2" "$2" "$@"
	expect_eq "checked window, $what: every outcome learned in time" "$(tail -1 <<<"$out")" "ok=5 err=1 timeout=0 lost=0"
	expect_eq "checked window, $what: connected from the free ports" \
		"$(sed -n 's/^conn [0-9]* ok //p' <<<"$out" | sort | tr '\n' ' ')" "$(seq "$2" $(($2 + 4)) | tr '\n' ' ')"
	expect_eq "checked window, $what: the server saw the 5 peers" "$served" 5
	expect_eq "checked window, $what: the 6th is a visible EADDRNOTAVAIL" "$(grep '^conn 5 ' <<<"$out")" "conn 5 err EADDRNOTAVAIL"
done
expect_match "the shim ran (its start line)" "$(cat "$T/w44010.log")" ' info start '
expect_match "checked window: the log shows the taken ports retried" "$(cat "$T/w44010.log")" \
	'actions=taken=127\.0\.0\.2:4400[0-4]:EADDRNOTAVAIL,.*retries=5,source=127\.0\.0\.2:4401[0-4] rc=-1 errno=EINPROGRESS'

# ---- a window the kernel cannot check ----
sysctl -qw net.ipv4.ip_local_port_range="50000 60999"
chk=$("$BUILD/sockshim" check "$(pol chk "44000-44009")" 2>&1)
expect_match "sockshim check warns that the kernel cannot check the window" "$chk" \
	'chk\.ini:4: warning: the kernel cannot check this window.s ports .*non-blocking connect whose 4-tuple is taken gets EADDRNOTAVAIL'
for spec in "epoll 44110 -r" "poll 44120 -r -d" "epoll 44130"; do
	set -- $spec
	what="$1$([ "${4:-}" = -d ] && echo " (a dup)")$([ "${3:-}" = -r ] || echo ", no SO_REUSEADDR")"
	run "x$2" "$2" "$@"
	expect_match "exact ports, $what: every outcome learned in time" "$(tail -1 <<<"$out")" '^ok=[0-9] err=[0-9] timeout=0 lost=0$'
	nok=$(grep -c ' ok ' <<<"$out")
	expect_eq "exact ports, $what: a connect is made or fails visibly, each of the 6" \
		"$(grep -c ' ok \| err EADDRNOTAVAIL$' <<<"$out")" 6
	expect_eq "exact ports, $what: the server saw every connection the loop reported" "$served" "$nok"
	expect_match "exact ports, $what: a taken 4-tuple is not retried behind the loop" "$(cat "$T/x$2.log")" \
		'noretry=non-blocking,retries=1,failed=source:EADDRNOTAVAIL rc=-1 errno=EADDRNOTAVAIL'
done
finish
