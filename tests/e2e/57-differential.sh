#!/bin/bash
# 57: differential correctness. tests/helpers/diffcalls.c runs a table of
# ~120 edge-case and bad socket calls (bad, closed and non-socket fds; NULL,
# unreadable and guard-page pointers; short, zero and oversized lengths;
# addresses of the wrong family; unix, netlink, raw and packet sockets;
# bind/connect/listen/accept in the wrong state; non-blocking connect
# repeated; bad setsockopt, socket, close, dup and shutdown arguments), each
# in its own child, one "ROW rc=R errno=E" (or "ROW killed=SIG") line each.
# The same table runs:
#   bare, twice        the rows must be deterministic
#   empty policy       no rule: every call must pass through untouched
#   dry-run policy     rules match every bind, listen, connect and send, with
#                      actions that would change things (reuseaddr/reuseport,
#                      sockopt, source, source_port, rewrite, deny), under
#                      mode = dry-run: nothing may change
#   enforcing policy   harmless actions enforced: SO_REUSEADDR forced before
#                      bind, SO_KEEPALIVE set before bind, listen, connect, send
# and every row must give the bare (rc, errno) under the empty and the
# dry-run policy. Under the enforcing policy only the rows listed in
# ENFORCED_ROWS are compared: those the kernel rejects before it looks at the
# address or the socket's state (bad fd, ENOTSOCK, EFAULT, bad lengths,
# wrong family, bad flags and option arguments), and calls the policy never
# acts on (unix, netlink, raw and packet sockets; socket(), accept, close,
# dup, shutdown). Rows whose outcome depends on the socket's options or on
# the bind/connect itself (a port in use, a refused or repeated connect,
# a send that goes out) are left out: forcing SO_REUSEADDR may legitimately
# change whether a bind conflicts, so no single answer is right for them.
# The shim must have really run in each case (its start line in the log),
# and under the dry-run policy rules must have matched with dry_run true.
. "$TOP/tests/lib.sh"
# its checks that the shim ran read the start line of processes that log nothing else
export SOCKSHIM_LOG_START=always

H=$BUILD/tests/diffcalls

timeout 30 "$H" >"$T/bare.txt" 2>"$T/bare.err"
timeout 30 "$H" >"$T/bare2.txt" 2>>"$T/bare.err"
check "bare: two runs give the same output (rows are deterministic)" cmp -s "$T/bare.txt" "$T/bare2.txt"
rows=$(cut -d' ' -f1 "$T/bare.txt")
nrows=$(printf '%s\n' "$rows" | grep -c .)
check "bare: at least 60 rows ($nrows)" test "$nrows" -ge 60
check "bare: no row failed its setup" bash -c "! grep -q ' setup=' '$T/bare.txt'"
expect_eq "bare: only the SIGPIPE row was killed" "$(grep -c 'killed=' "$T/bare.txt")" "1"
expect_eq "bare: the SIGPIPE row was killed by SIGPIPE" \
	"$(grep '^sendto-tcp-unconnected-sigpipe ' "$T/bare.txt")" "sendto-tcp-unconnected-sigpipe killed=SIGPIPE"

# load VAR FILE: the associative array VAR maps each row name to its line
load() {
	local -n _rows=$1
	local name rest
	while read -r name rest; do _rows[$name]="$name $rest"; done <"$2"
}
declare -A BARE
load BARE "$T/bare.txt"

# compare LABEL FILE ROW...: each row's line in FILE against the bare one.
compare() {
	local label=$1 r
	local -A got=()
	load got "$2"
	shift 2
	for r in "$@"; do
		if [ -z "${BARE[$r]:-}" ]; then
			not_ok "$label: $r as bare (no such row in the bare run)"
			continue
		fi
		expect_eq "$label: $r as bare" "${got[$r]:-}" "${BARE[$r]}"
	done
}

# under NAME POLICY: run the table under the shim, logging to $T/NAME.log
# (timeout runs preloaded too; the checks look for diffcalls' own lines)
under() {
	SOCKSHIM_LOG=file:$T/$1.log shim "$2" timeout 30 "$H" >"$T/$1.txt" 2>"$T/$1.err"
}

# ---- no rule at all ----
empty=$(policy empty.ini </dev/null)
under empty "$empty"
expect_eq "empty: the shim ran (one start line)" "$(grep -c ' start .*program=diffcalls ' "$T/empty.log")" "1"
compare empty "$T/empty.txt" $rows

# ---- rules that match every call, in dry-run ----
dry=$(policy dry.ini <<'EOF'
[global]
mode = dry-run
log_format = json

[bind-v6]
on = bind
family = ipv6
reuseaddr = force
sockopt = IPV6_V6ONLY=1
rewrite = [::1]:1

[bind-tcp]
on = bind
proto = tcp
reuseaddr = force
reuseport = force
sockopt = SO_KEEPALIVE=1
rewrite = 127.0.0.9:1

[bind-udp]
on = bind
deny = EACCES

[listen-all]
on = listen
reuseaddr = deny
sockopt = SO_KEEPALIVE=1
rewrite = :1

[connect-v6]
on = connect
family = ipv6
sockopt = TCP_NODELAY=1
rewrite = [::1]:1

[connect-tcp]
on = connect
proto = tcp
source = 127.0.0.2
source_port = 40000-40999
sockopt = SO_KEEPALIVE=1, TCP_NODELAY=1
rewrite = 127.0.0.1:1

[connect-udp]
on = connect
deny = ECONNREFUSED

[send-udp4]
on = send
proto = udp
family = ipv4
source = 127.0.0.2
source_port = 41000-41999
sockopt = IP_TOS=16
rewrite = 127.0.0.1:1

[send-rest]
on = send
deny = EPERM
EOF
)
under dry "$dry"
expect_eq "dry-run: the shim ran (one start line, mode dry-run)" \
	"$(grep '"event":"start".*"program":"diffcalls"' "$T/dry.log" | grep -c '"mode":"dry-run"')" "1"
for rule in bind-tcp bind-udp listen-all connect-v6 connect-tcp connect-udp send-udp4; do
	check "dry-run: rule $rule matched a call, dry_run true" \
		grep -q "\"rule\":\"$rule\".*\"dry_run\":true" "$T/dry.log"
done
check "dry-run: no decision line says dry_run false" bash -c "! grep -q '\"dry_run\":false' '$T/dry.log'"
compare dry-run "$T/dry.txt" $rows

# ---- harmless actions, enforced ----
enf=$(policy enforce.ini <<'EOF'
[global]
log_format = json

[bind]
on = bind
reuseaddr = force
sockopt = SO_KEEPALIVE=1

[listen]
on = listen
sockopt = SO_KEEPALIVE=1

[connect]
on = connect
sockopt = SO_KEEPALIVE=1

[send]
on = send
sockopt = SO_KEEPALIVE=1
EOF
)
under enforce "$enf"
expect_eq "enforce: the shim ran (one start line, mode enforce)" \
	"$(grep '"event":"start".*"program":"diffcalls"' "$T/enforce.log" | grep -c '"mode":"enforce"')" "1"
for rule in bind listen connect send; do
	check "enforce: rule $rule applied its action" \
		grep -q "\"rule\":\"$rule\",\"actions\":\\[[^]]*\"sockopt=SO_KEEPALIVE=1\".*\"dry_run\":false" "$T/enforce.log"
done

ENFORCED_ROWS="
	connect-fd-minus1 connect-fd-huge connect-closed-fd connect-pipe connect-regular-file connect-dev-null
	bind-fd-minus1 bind-closed-fd bind-pipe bind-dev-null listen-fd-huge listen-regular-file
	setsockopt-closed-fd setsockopt-pipe sendto-fd-minus1 sendto-regular-file sendmsg-dev-null
	sendmmsg-closed-fd accept-dev-null
	connect-null-addr connect-addr-ptr-8 connect-addr-guard-page connect-len-short connect-len-0
	connect-len-4096 connect-len-7fffffff bind-null-addr bind-addr-ptr-8 bind-addr-guard-page
	bind-len-short bind-len-0 bind-len-7fffffff sendto-null-addr-len-16 sendto-addr-ptr-8
	sendto-addr-guard-page sendto-len-short sendto-len-4096 sendto-buf-ptr-8 sendmsg-msghdr-ptr-8
	sendmsg-msghdr-guard-page sendmsg-name-ptr-8 sendmsg-name-guard-page sendmsg-namelen-short
	sendmsg-iov-ptr-8 sendmmsg-vec-ptr-8 sendmmsg-vec-guard-page
	connect-v6-addr-on-tcp4 connect-v4-addr-on-tcp6 connect-unix-addr-on-tcp4 bind-v6-addr-on-tcp4
	bind-v4-addr-on-tcp6 sendto-v6-addr-on-udp4
	unix-connect-inet-addr unix-connect-missing-path unix-sendto-inet-addr unix-listen-dgram
	netlink-connect-inet-addr netlink-bind-short-len netlink-sendto-inet-addr raw-icmp-connect-loopback
	raw-icmp-bind-nonlocal raw-icmp-sendto-no-addr raw-icmp-setsockopt-bad-level packet-bind-short-len
	connect-unspec-len-1 listen-udp accept-not-listening accept-udp accept-addr-ptr-8
	accept-addr-guard-page accept-null-addrlen accept4-bad-flags accept-nonblock-empty
	sendto-udp-msg-oob sendto-udp-port-0 sendto-udp-too-long
	setsockopt-bad-level setsockopt-bad-optname setsockopt-optlen-0 setsockopt-optlen-1
	setsockopt-null-optval setsockopt-optval-guard-page setsockopt-tcp-level-on-udp
	setsockopt-reuseaddr-guard-after-bind
	socket-bad-domain socket-bad-type socket-bad-protocol socketpair-inet close-fd-minus1 close-twice
	dup-closed-fd dup2-bad-oldfd dup2-negative-newfd dup3-same-fd dup3-bad-flags shutdown-pipe
"
compare enforce "$T/enforce.txt" $ENFORCED_ROWS

finish
