# AT_SECURE (PITFALLS 37, POLICY.md "Where the policy comes from"): in a
# setuid program run by another user the shim must ignore SOCKSHIM_POLICY,
# SOCKSHIM_LOG and friends (secure_getenv), or a user could make a setuid
# program write its log over any file, or apply a policy of the user's.
#
# glibc preloads into a setuid program only a library named without a slash,
# found in a system directory, with the set-user-ID bit. So, in a private
# mount namespace (nothing leaks out): a setuid-root copy of the shim is
# bind-mounted over libinih.so.1's file in the system library directory, and
# a setuid-root copy of the probe sits on a tmpfs. User nobody runs it with
# LD_PRELOAD=libinih.so.1 and SOCKSHIM_POLICY/SOCKSHIM_LOG pointing at a
# policy that pins the source and a log path:
#   setuid     the shim runs (its start line on stderr says "no policy"), the
#              connect is NOT pinned (getsockname 127.0.0.1), the log file is
#              never created
#   control    the same copy without the setuid bit: the environment counts
#              (pinned to 127.0.0.2, log file written) - proving the setup works
# Skips (77) where this cannot be arranged (not root, no mount namespace, no
# libinih.so.1 in the system directory, no user nobody).
. "$TOP/tests/lib.sh"

PORT=9660
LIBDIR=/usr/lib/x86_64-linux-gnu
[ -d $LIBDIR ] || LIBDIR=/usr/lib
VICTIM=$LIBDIR/libinih.so.1
skip() { echo "skipped: $1"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root"
[ -e "$VICTIM" ] || skip "no $VICTIM to stand in for"
id nobody > /dev/null 2>&1 || skip "no user nobody"
command -v setpriv > /dev/null || skip "no setpriv"
unshare -m --propagation private true 2>/dev/null || skip "no mount namespace"
[ -e /usr/local/etc/sockshim/sockshim.ini ] && skip "a default policy is installed here; its rules would muddle the result"

pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
chmod 711 "$T" # nobody must reach $T/m
mkdir "$T/m"

cat > "$T/inside.sh" <<'EOF'
# runs in the private mount namespace: $1 = T, $2 = SHIM, $3 = PROBE, $4 = VICTIM, $5 = PORT
set -u
T=$1 SHIM=$2 PROBE=$3 VICTIM=$4 PORT=$5
M=$T/m
mount -t tmpfs -o mode=755 tmpfs "$M" || exit 1
install -m 4755 "$SHIM" "$M/libshim.so"
mount --bind "$M/libshim.so" "$VICTIM" || exit 1
install -m 4755 -o root -g root "$PROBE" "$M/probe-suid"
install -m 0755 -o root -g root "$PROBE" "$M/probe-plain"
printf '[pin]\non = connect\nport = %s\nsource = 127.0.0.2\n' "$PORT" > "$M/user.ini"
chmod 0644 "$M/user.ini"
mkdir -m 0777 "$M/w"
for kind in suid plain; do
	timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
		env LD_PRELOAD=libinih.so.1 SOCKSHIM_POLICY="$M/user.ini" SOCKSHIM_LOG="file:$M/w/$kind.log" \
		SOCKSHIM_LOG_LEVEL=debug "$M/probe-$kind" tcp4 "connect=127.0.0.1:$PORT" name \
		> "$T/$kind.out" 2> "$T/$kind.err"
	echo "$?" > "$T/$kind.rc"
	if [ -e "$M/w/$kind.log" ]; then cp "$M/w/$kind.log" "$T/$kind.log"; else echo absent > "$T/$kind.nolog"; fi
done
EOF

"$BUILD/tests/rob_server" 127.0.0.1 $PORT 2 20 > "$T/srv" &
spid=$!; pids=$spid
wait_port $PORT
timeout 60 unshare -m --propagation private bash "$T/inside.sh" "$T" "$SHIM" "$BUILD/tests/probe" "$VICTIM" $PORT ||
	skip "could not set up the mount namespace"
wait $spid
expect_eq "the bind mount did not leak out of the namespace" "$(findmnt -n "$VICTIM" | wc -l)" "0"

expect_eq "setuid: exit 0" "$(cat "$T/suid.rc")" "0"
expect_match "setuid: the shim ran under AT_SECURE (start line on stderr)" "$(cat "$T/suid.err")" \
	' info start .*program=probe-suid .*policy=- rules=0 '
expect_match "setuid: SOCKSHIM_POLICY ignored: connect not pinned (127.0.0.1)" "$(cat "$T/suid.out")" \
	'^name rc=0 errno=0 local=127\.0\.0\.1:'
expect_eq "setuid: SOCKSHIM_LOG ignored: the log file was never created" "$(cat "$T/suid.nolog" 2>/dev/null)" "absent"
expect_eq "setuid: SOCKSHIM_LOG_LEVEL ignored: no debug lines" "$(grep -c ' debug ' "$T/suid.err")" "0"

expect_eq "control: exit 0" "$(cat "$T/plain.rc")" "0"
expect_match "control: the environment counts: connect pinned (127.0.0.2)" "$(cat "$T/plain.out")" \
	'^name rc=0 errno=0 local=127\.0\.0\.2:'
expect_match "control: the log file was written" "$(cat "$T/plain.log" 2>/dev/null)" ' info start .*program=probe-plain '
expect_eq "server: saw 127.0.0.1 (setuid) then 127.0.0.2 (control)" \
	"$(sed -n 's/^peer \([0-9.]*\):.*/\1/p' "$T/srv" | tr '\n' ' ')" "127.0.0.1 127.0.0.2 "

finish
