# A call that no rule matches costs no extra system call: strace counts the
# socket-related system calls of the same probe run bare, under an empty
# policy and under a policy whose rules never match; the counts are equal.
. "$TOP/tests/lib.sh"
command -v strace >/dev/null || { echo "strace not installed"; exit 77; }

empty=$(policy empty.ini </dev/null)
nomatch=$(policy nomatch.ini <<'INI'
[global]
log = none
[far-bind]
on = bind
addr = 10.0.0.0/8
reuseaddr = force
[far-listen]
on = listen
port = 1
[far-connect]
on = connect, send
addr = 192.0.2.0/24, 2001:db8::/32
source = 127.0.0.9
INI
)
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 7000)); s.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 7001))
time.sleep(10)' &
srv=$!
trap 'kill $srv 2>/dev/null' EXIT
wait_port 7000

steps="set=keepalive:1 bind=127.0.0.1:0 connect=127.0.0.1:7000 name close new=udp4 sendto=127.0.0.1:7001 sendmsg=127.0.0.1:7001 sendmmsg=127.0.0.1:7001,127.0.0.1:7001 close new=tcp6 connect=[::ffff:127.0.0.1]:7000 close new=tcp4 bind=127.0.0.1:7100 listen close"
calls=socket,bind,listen,connect,setsockopt,getsockopt,getsockname,sendto,sendmsg,sendmmsg,close,fstat,newfstatat

count() { # label, env...: the sorted syscall names made after main started
	env "$@" strace -f -qq -o "$T/trace" -e trace=$calls "$BUILD/tests/probe" tcp4 $steps >/dev/null 2>&1
	# keep only the calls the probe's steps make: from its first socket() on
	sed -n '/socket(AF_INET, SOCK_STREAM/,$p' "$T/trace" | sed -E 's/^[0-9]+ +//; s/\(.*//' | sort | uniq -c
}
bare=$(count X=1)
echo "$bare" | sed 's/^/# bare: /'
expect_eq "no extra syscalls with an empty policy" "$(count SOCKSHIM_POLICY=$empty LD_PRELOAD=$SHIM)" "$bare"
expect_eq "no extra syscalls when no rule matches" "$(count SOCKSHIM_POLICY=$nomatch LD_PRELOAD=$SHIM)" "$bare"

# and the shim really was loaded in those runs (a rule that matches changes the count)
match=$(policy match.ini <<'INI'
[global]
log = none
[pin]
on = connect
addr = 127.0.0.1
source = 127.0.0.2
INI
)
m=$(count SOCKSHIM_POLICY=$match LD_PRELOAD=$SHIM)
check "a matching rule does add its bind (the shim was loaded)" test "$m" != "$bare"
finish
