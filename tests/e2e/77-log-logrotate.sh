#!/bin/bash
# 77: a log file renamed away is followed to the new file at its path.
# - A real logrotate run (create mode, no copytruncate) and its plain `mv`
#   equivalent (the shim creates the new file itself, 0640): a long-running
#   client under the shim, and the forked children of a socat proxy under
#   the shim (started before the rotation), write to the new file a second
#   or two after the rotation, and the renamed file stops growing.
# - No line is lost: decision lines in old + new file = decisions made.
#   Each decision really happened: the client counts, by getsockname, the
#   connections that got the pinned source 127.0.0.2.
# - A symbolic link planted at the path after the rename is not followed:
#   the file it points to stays untouched, lines go on in the renamed file.
. "$TOP/tests/lib.sh"
command -v logrotate >/dev/null || { echo "# logrotate not installed"; exit 77; }

pol=$(policy pin.ini <<'INI'
[pin]
on = connect
port = 9000
source = 127.0.0.2
INI
)
cat > "$T/client.py" <<'PY'
import os, socket, sys, time
port, stop, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
n = pinned = 0
end = time.time() + 30
while not os.path.exists(stop) and time.time() < end:
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    pinned += s.getsockname()[0] == "127.0.0.2"
    s.close()
    n += 1
    time.sleep(0.02)
with open(out, "w") as f:
    f.write("%d %d %d\n" % (os.getpid(), n, pinned))
PY
# the backend, not under the shim: accepts and closes
python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9000)); s.listen(512)
while True: s.accept()[0].close()' &
backend=$!
wait_port 9000

proxy_request() { timeout 5 socat -u /dev/null TCP:127.0.0.1:8000 2>/dev/null; sleep 0.3; }
decisions() { grep -c ' connect fd=.* rule=pin ' "$@" 2>/dev/null | awk -F: '{ s += $NF } END { print s + 0 }'; }

# run_case NAME ROTATE_COMMAND...: the rotation runs while both programs log
run_case() {
	local tag=$1; shift
	local log=$T/$tag.log
	rm -f "$T/stop" "$T/client.out"
	# not through shim(): $! must be socat itself, to stop it
	SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY=$pol LD_PRELOAD=$SHIM socat TCP-LISTEN:8000,fork,reuseaddr TCP:127.0.0.1:9000 &
	local proxy=$!
	wait_port 8000
	SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY=$pol LD_PRELOAD=$SHIM python3 "$T/client.py" 9000 "$T/stop" "$T/client.out" &
	local client=$!
	for i in 1 2 3; do proxy_request; done
	"$@"
	sleep 2.5 # every process looks at the path once a second
	local old_then
	old_then=$(decisions "$log.1")
	for i in 1 2 3; do proxy_request; done
	sleep 0.5
	touch "$T/stop"
	wait "$client"
	kill "$proxy"; wait "$proxy" 2>/dev/null
	read -r cpid n pinned < "$T/client.out"
	expect_eq "$tag: every client connection got the pinned source (getsockname)" "$pinned" "$n"
	expect_eq "$tag: decision lines in old + new file = decisions made" "$(decisions "$log.1" "$log")" $((n + 6))
	expect_eq "$tag: the renamed file stopped growing 2.5 s after the rotation" "$(decisions "$log.1")" "$old_then"
	local new_client new_proxy
	new_client=$(grep -c " sockshim\[$cpid\] info connect fd=.* rule=pin " "$log")
	new_proxy=$(grep ' connect fd=.* rule=pin ' "$log" | grep -vc " sockshim\[$cpid\] ")
	check "$tag: the long-running client logs into the new file ($new_client lines)" test "$new_client" -ge 10
	expect_eq "$tag: the proxy's children forked after the rotation log into the new file" "$new_proxy" 3
	expect_eq "$tag: the new file is 0640" "$(stat -c %a "$log")" 640
}

cat > "$T/conf" <<EOF2
$T/lr.log {
	rotate 2
	create 0640 root root
	missingok
}
EOF2
run_case lr logrotate -f -s "$T/state" "$T/conf"
check "logrotate: the rotated file is there" test -s "$T/lr.log.1"

run_case mv mv "$T/mv.log" "$T/mv.log.1"

# a symbolic link planted at the path is never followed
echo precious > "$T/victim"
log=$T/sym.log
rm -f "$T/stop"
SOCKSHIM_LOG=file:$log SOCKSHIM_POLICY=$pol LD_PRELOAD=$SHIM python3 "$T/client.py" 9000 "$T/stop" "$T/client.out" &
client=$!
sleep 1
# (in one step, renameat2 RENAME_EXCHANGE: with a plain mv then ln -s, the
# shim's once-a-second check may fall between the two and create the file)
ln -s "$T/victim" "$T/sym.tmp"
python3 - "$T/sym.tmp" "$log" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
nr = {"x86_64": 316, "aarch64": 276, "i686": 353}[os.uname().machine]
if libc.syscall(nr, AT_FDCWD, sys.argv[1].encode(), AT_FDCWD, sys.argv[2].encode(), RENAME_EXCHANGE):
    sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
PY
mv "$T/sym.tmp" "$log.1"
sleep 3
touch "$T/stop"
wait "$client"
read -r cpid n pinned < "$T/client.out"
expect_eq "symlink: the file it points to is untouched" "$(cat "$T/victim")" precious
expect_eq "symlink: every line went on into the renamed file" "$(decisions "$log.1")" "$n"

kill "$backend"; wait "$backend" 2>/dev/null
finish
