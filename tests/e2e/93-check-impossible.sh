# sockshim check: rules that can never apply as written get a warning naming
# FILE:LINE and the rule (check still exits 0), and a rule that can apply
# gets none. explain agrees: such a rule never decides.
. "$TOP/tests/lib.sh"
S=$BUILD/sockshim

P=$(policy never.ini <<'EOF'
[src6]
on = connect
family = ipv4
addr = 10.1.0.0/16
source = ::1

[addr6]
on = connect
family = ipv4
addr = fd00::/8

[udplisten]
on = listen
proto = udp
port = 53

[fine]
on = connect
family = ipv4
addr = ::ffff:10.9.0.0/112
rewrite = 127.0.0.1
EOF
)
out=$("$S" check "$P" 2>&1); rc=$?
expect_eq "check exits 0 (warnings only)" "$rc" 0
expect_match "an IPv6 source with family = ipv4" "$out" "never\.ini:5: warning: rule 'src6': an IPv6 source with 'family = ipv4' can never be bound"
expect_match "family = ipv4 with only IPv6 addr" "$out" "never\.ini:7: warning: rule 'addr6' can never match: 'family = ipv4' with only IPv6"
expect_match "listen on UDP" "$out" "never\.ini:12: warning: rule 'udplisten' can never match: listen is never called on a UDP socket"
if printf '%s\n' "$out" | grep -q "rule 'fine'"; then not_ok "a v4-mapped addr with family = ipv4 gets no warning"; else ok "a v4-mapped addr with family = ipv4 gets no warning"; fi
expect_match "check counts 3 warnings" "$out" 'OK, 4 rules, 3 warnings'
out=$("$S" explain "$P" connect tcp '[fd00::1]:80' --family ipv6)
expect_match "explain: addr6 never decides an IPv6 call" "$out" '^no rule matches'
out=$("$S" explain "$P" connect tcp 10.9.0.1:80)
expect_match "explain: fine decides 10.9.0.1 on an AF_INET socket" "$out" "^rule 'fine' "

finish
