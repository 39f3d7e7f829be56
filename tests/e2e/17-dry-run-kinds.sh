#!/bin/bash
# 17 (kinds): under mode = dry-run no action changes a call: for each kind
# (rewrite, an IPv6 rewrite or source on an IPv4 socket, source,
# source_port, deny, reuseaddr, sockopt) on bind, connect and send, the
# kernel's answer (rc, errno) and view of the socket afterwards
# (getsockname, SO_REUSEADDR, SO_KEEPALIVE) are the ones of the bare run.
# Control: the same rules enforcing change them.
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"

P=$TOP/tests/helpers/dryprobe.py
rules='
[rw6]
on = connect, send
port = 9721-9722
rewrite = [::1]:1
[src6]
on = connect
port = 9723
source = ::1
[sport]
on = connect
port = 9724
source = 127.0.0.1
source_port = 40000-40099
[deny]
on = connect, send
port = 9725-9726
deny = ENETUNREACH
[usrc]
on = send
proto = udp
port = 9727
source = 127.0.0.3
[bind6]
on = bind
port = 9728
rewrite = [::1]:1
[bind4]
on = bind
port = 9729
rewrite = 127.0.0.9:9799
[bdeny]
on = bind
port = 9730
deny = EACCES
[breuse]
on = bind
port = 9731
reuseaddr = force
sockopt = SO_KEEPALIVE=1
[copt]
on = connect
port = 9732
sockopt = SO_KEEPALIVE=1
'
dry=$(policy dry.ini <<EOF
[global]
mode = dry-run
log = file:$T/dry.log
$rules
EOF
)
enf=$(policy enf.ini <<EOF
[global]
log = file:$T/enf.log
$rules
EOF
)
bare=$(python3 "$P" 2>&1)
again=$(python3 "$P" 2>&1)
expect_eq "bare run is deterministic" "$again" "$bare"
expect_eq "bare run made every case" "$(printf '%s\n' "$bare" | grep -c ' rc=')" 12
under=$(shim "$dry" python3 "$P" 2>&1)
expect_eq "dry-run: every call as bare" "$under" "$bare"
check "dry-run: the rules were decided (log)" grep -q 'rw6' "$T/dry.log"
enforced=$(shim "$enf" python3 "$P" 2>&1)
for c in connect-rewrite-v6 connect-deny bind-rewrite bind-deny bind-reuse-sockopt connect-sockopt send-source; do
	b=$(printf '%s\n' "$bare" | grep "^$c ")
	e=$(printf '%s\n' "$enforced" | grep "^$c ")
	if [ -n "$e" ] && [ "$e" != "$b" ]; then ok "control: enforcing changes $c"; else not_ok "control: enforcing changes $c"; echo "#   bare: $b"; echo "#   enf:  $e"; fi
done
finish
