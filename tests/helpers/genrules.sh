#!/bin/bash
# genrules.sh N [SEED]: print a valid policy of N rules in the shapes large
# policies have, the same file for the same N and SEED on every machine:
#   1/4 different addresses: one IPv4 host each, one port, deny
#   1/4 the same address, different ports (10.200.0.1, ports 1000 + k)
#   1/4 mixed ops (bind, listen, connect, send; tcp or udp), an IPv6 /64 each
#   1/8 nested CIDRs: /16s of 172.16/12, each followed by /24s inside it
#   1/8 port ranges without an address, and programs
# Each rule a few lines; names are r1, r2, ...; every 1,000th rule repeats
# the one before it exactly (a rule check must report as shadowed).
n=${1:?usage: genrules.sh N [SEED]}
seed=${2:-1}
# No rand(): mawk and gawk differ in it, so the file would too. h(i, salt)
# is a multiplicative hash in [0, 1), exact in awk's doubles.
awk -v n="$n" -v seed="$seed" '
function h(i, salt) { return ((i * 2654435761 + (salt + seed) * 40503) % 4294967296) / 4294967296 }
BEGIN {
	split("bind listen connect send", ops, " ")
	for (i = 1; i <= n; i++) {
		k = i % 8
		if (i % 1000 == 0) {
			print "[r" i "]"
			print last
			print ""
			continue
		}
		if (k == 0 || k == 1) {
			body = sprintf("on = connect\naddr = 10.%d.%d.%d\nport = %d\ndeny = EACCES",
				int(i / 65536) % 256, int(i / 256) % 256, i % 256, 1 + int(h(i, 1) * 65535))
		} else if (k == 2 || k == 3) {
			body = sprintf("on = connect\nproto = tcp\naddr = 10.200.0.1\nport = %d\nsource = 127.0.0.%d",
				1000 + i % 60000, 2 + i % 200)
		} else if (k == 4 || k == 5) {
			op = ops[1 + int(h(i, 2) * 4)]
			body = sprintf("on = %s\nproto = %s\nfamily = ipv6\naddr = fd00:%x:%x::/64\nport = %d",
				op, h(i, 3) < 0.5 ? "tcp" : "udp", int(i / 65536), i % 65536, 1 + i % 65535)
			if (op == "bind" || op == "listen")
				body = body "\nreuseaddr = force"
			else
				body = body "\nsockopt = SO_KEEPALIVE=1"
		} else if (k == 6) {
			b = int(i / 8) % 4096
			if (int(i / 8) % 16 == 0)
				body = sprintf("on = connect, send\naddr = 172.%d.0.0/16\ndeny = ENETUNREACH", 16 + int(b / 256) % 16)
			else
				body = sprintf("on = connect\naddr = 172.%d.%d.0/24, 172.%d.%d.128/25\nport = 443, 8000-8099",
					16 + int(b / 256) % 16, b % 256, 16 + int(b / 256) % 16, (b + 1) % 256)
		} else {
			lo = 20000 + int(h(i, 4) * 40000)
			body = sprintf("on = connect\nport = %d-%d\nprogram = app%d, worker-*\nsockopt = TCP_NODELAY=1", lo, lo + int(h(i, 5) * 50), i % 997)
		}
		last = body
		print "[r" i "]"
		print body
		print ""
	}
}'
