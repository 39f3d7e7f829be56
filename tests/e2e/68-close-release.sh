#!/bin/bash
# 68: a socket the program closes right after a call the shim decided is
# gone at once, as bare: the shim holds no reference that outlives the
# answer. Under the seccomp front end the supervisor works on a duplicate
# of the target's socket; were that duplicate closed only after the target
# was answered, a close() in the target right after the call would leave
# the socket alive a little longer: no FIN for the peer (the server reads
# no end-of-file), the port still bound (a second bind gets EADDRINUSE),
# a closed listener still taking connections. tests/helpers/close_race
# counts the rounds where one of those shows (0 bare), with rules that
# decide every bind, listen and connect, in dry-run and enforcing.
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"

H=$BUILD/tests/close_race
N=300
bare=$(unshare -n sh -c "ip link set lo up && $H $N")
expect_eq "bare: every socket gone at its close" "$bare" "fin=0 bind=0 listen=0 of $N"

for mode in enforce dry-run; do
	P=$(policy "$mode.ini" <<EOF
[global]
mode = $mode

[bind]
on = bind
sockopt = SO_KEEPALIVE=1

[listen]
on = listen
sockopt = SO_KEEPALIVE=1

[connect]
on = connect
sockopt = TCP_NODELAY=1
EOF
)
	out=$(SOCKSHIM_LOG=file:$T/$mode.log shim "$P" unshare -n sh -c "ip link set lo up && $H $N")
	expect_eq "$mode: every socket gone at its close, as bare" "$out" "$bare"
	# the rules decided the calls: each round's connect is logged
	check "$mode: the connects were decided ($(grep -c ' connect ' "$T/$mode.log" 2>/dev/null) lines)" \
		test "$(grep -c ' connect ' "$T/$mode.log")" -ge "$N"
done
finish
