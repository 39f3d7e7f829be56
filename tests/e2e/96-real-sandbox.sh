#!/bin/bash
# 96: a test sandbox on real clients: a python3 asyncio client and a node
# client whose code talks to a "production" database at 192.0.2.10:5432.
# Here that address is put on lo with a listener that records every
# connection, so a packet that got there would be seen:
#   bare (control)           the clients reach "production"
#   rewrite to a local mock  the mock on 127.0.0.1:15432 sees each client
#                            (and the client's getsockname matches the port
#                            the mock saw); production saw nothing
#   deny = EACCES            each client gets EACCES itself; production saw
#                            nothing
# frontends: preload, seccomp
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

ip addr add 192.0.2.10/32 dev lo || { not_ok "192.0.2.10 on lo (in the test's namespace)"; finish; }
serve prod tcp 192.0.2.10 5432 || exit 1
serve mock tcp 127.0.0.1 15432 || exit 1

RW=$(policy rewrite.ini <<'EOF'
[mock-db]
on = connect
addr = 192.0.2.10
port = 5432
rewrite = 127.0.0.1:15432
EOF
)
DENY=$(policy deny.ini <<'EOF'
[no-production]
on = connect
addr = 192.0.2.0/24
deny = EACCES
EOF
)

NODE=(node "$TOP/tests/helpers/nodeclient.js")
ASYNCIO=("$PY" "$TOP/tests/helpers/asyncclient.py")

# node crashes at start (a null interceptor, pc 0) when any library built
# with ASan or TSan is preloaded into it, ours or a one-line one: in such a
# build the node runs are left out under the preload front end.
clients="asyncio node"
if [ "${SOCKSHIM_FRONTEND:-preload}" = preload ] && ldd "$SHIM" 2>/dev/null | grep -Eq 'lib(asan|tsan)\.so'; then
	echo "# node left out: the shim is built with a sanitizer whose runtime node cannot take preloaded"
	clients=asyncio
fi
for who in $clients; do
	if [ $who = node ]; then c=("${NODE[@]}"); else c=("${ASYNCIO[@]}"); fi
	p0=$(npeers prod)
	out=$(timeout 20 "${c[@]}" 192.0.2.10 5432 1)
	wait_peers prod $((p0 + 1))
	expect_match "$who bare: reaches production (control)" "$out" '^local 192\.0\.2\.10 [0-9]+$'
	expect_eq "$who bare: production saw it (control)" "$(npeers prod)" $((p0 + 1))

	p0=$(npeers prod) m0=$(npeers mock)
	out=$(shim "$RW" timeout 20 "${c[@]}" 192.0.2.10 5432 2 2>"$T/$who-rw.err")
	wait_peers mock $((m0 + 2))
	expect_match "$who rewrite: two connections, from 127.0.0.1" "$out" '^local 127\.0\.0\.1 [0-9]+
local 127\.0\.0\.1 [0-9]+$'
	expect_eq "$who rewrite: the mock saw the ports the client reports" \
		"$(peers mock | tail -2)" "$(printf '%s\n' "$out" | sed -n 's/^local //p')"
	sleep 0.2
	expect_eq "$who rewrite: production saw nothing" "$(npeers prod)" "$p0"

	p0=$(npeers prod)
	out=$(shim "$DENY" timeout 20 "${c[@]}" 192.0.2.10 5432 1 2>"$T/$who-deny.err")
	expect_eq "$who deny: the client gets the policy's EACCES" "$out" "error EACCES"
	sleep 0.2
	expect_eq "$who deny: production saw nothing" "$(npeers prod)" "$p0"
done
finish
