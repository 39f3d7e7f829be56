#!/bin/bash
# examples/systemd: the drop-in's environment, applied to a server.
#
# The Environment= lines of sockshim.conf are parsed (systemd's quoting, via
# shlex) and a server (the probe: it binds, listens, connects to itself and
# reports getsockopt) is started the way systemd starts a service: a clean
# environment with only those variables (the build's library and a copy of
# policy.ini in place of the install paths), stdout and stderr on a socket
# (the journal's stream). policy.ini's `log = syslog` goes to a syslog socket
# of the test's own (syslog:$T/devlog) instead of /dev/log.
# Kernel facts: SO_REUSEADDR on the listener and SO_KEEPALIVE on the
# connected socket (getsockopt). Control: the same server without the
# drop-in's variables. Also: the start line arrives through syslog, nothing
# of the log goes to the stream, a broken policy leaves the service running
# unchanged (on_error = passthrough) with the error in syslog, and
# systemd-analyze accepts the drop-in.
. "$TOP/tests/lib.sh"

PY=$(python3 -c 'import sys; print(sys.executable)')
D=$TOP/examples/systemd
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT

# ---- the drop-in's environment ----
env_lines=$("$PY" - "$D/sockshim.conf" <<'PY'
import shlex, sys
section = None
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("["):
        section = line
    elif section == "[Service]" and line.startswith("Environment="):
        for kv in shlex.split(line[len("Environment="):]):
            print(kv)
PY
)
expect_eq "drop-in: Environment= sets LD_PRELOAD and SOCKSHIM_POLICY, to the install paths" "$env_lines" \
	"LD_PRELOAD=/usr/local/lib/libsockshim.so
SOCKSHIM_POLICY=/etc/sockshim/sockshim.ini"
expect_eq "drop-in: nothing else in [Service]" "$(grep -vE '^(#|$|\[Service\]$|Environment=)' "$D/sockshim.conf")" ""

sed "s|^log = syslog\$|log = syslog:$T/devlog|" "$D/policy.ini" >"$T/sockshim.ini"
expect_eq "policy.ini: one 'log = syslog' line, pointed at the test's socket" \
	"$(diff "$D/policy.ini" "$T/sockshim.ini" | grep -c '^>')" 1
sed 's/^reuseaddr = force$/reuseaddr = always/' "$T/sockshim.ini" >"$T/broken.ini"
service_env=()
while IFS= read -r kv; do
	kv=${kv/#LD_PRELOAD=\/usr\/local\/lib\/libsockshim.so/LD_PRELOAD=$SHIM}
	kv=${kv/#SOCKSHIM_POLICY=\/etc\/sockshim\/sockshim.ini/SOCKSHIM_POLICY=$T/sockshim.ini}
	service_env+=("$kv")
done <<<"$env_lines"

# ---- a syslog socket, as /dev/log ----
"$PY" - "$T/devlog" >"$T/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
try:
    while True:
        print(s.recv(4096).decode(errors="replace").rstrip("\n"), flush=True)
except socket.timeout:
    pass
PY
pids="$pids $!"
i=0; while [ ! -S "$T/devlog" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

# service VAR=VALUE...: start the probe as systemd would, with only these
# variables; prints "pid N", then what it wrote to its stdout/stderr stream.
cat >"$T/service.py" <<'PY'
import os, socket, subprocess, sys
env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
# a sanitized test build (make test SANITIZE=...) needs its runtime's settings
env.update((k, v) for k, v in os.environ.items() if k.endswith("SAN_OPTIONS"))
env.update(kv.split("=", 1) for kv in sys.argv[2:])
journal, stream = socket.socketpair()
p = subprocess.Popen([sys.argv[1], "tcp4", "bind=127.0.0.1:7200", "listen", "get=reuseaddr",
                      "new=tcp4", "connect=127.0.0.1:7200", "get=keepalive"],
                     stdin=subprocess.DEVNULL, stdout=stream, stderr=stream, env=env)
stream.close()
print("pid", p.pid)
journal.settimeout(10)
out = b""
while chunk := journal.recv(4096):
    out += chunk
print(out.decode(errors="replace"), end="")
print("exit", p.wait(timeout=10))
PY
service() { timeout 20 "$PY" "$T/service.py" "$BUILD/tests/probe" "$@"; }
# wait_syslog REGEX: until a syslog line matches (3 s at most)
wait_syslog() {
	i=0; while ! grep -Eq -- "$1" "$T/syslog" && [ $i -lt 60 ]; do sleep 0.05; i=$((i + 1)); done
	grep -E -- "$1" "$T/syslog"
}

# ---- control: the service without the drop-in ----
out=$(service)
expect_match "bare service: SO_REUSEADDR=0 on its listener (getsockopt)" "$out" '^get=reuseaddr rc=0 errno=0 value=0$'
expect_match "bare service: SO_KEEPALIVE=0 on its connection (getsockopt)" "$out" '^get=keepalive rc=0 errno=0 value=0$'

# ---- the service with the drop-in's environment ----
out=$(service "${service_env[@]}")
pid=$(sed -n 's/^pid //p' <<<"$out")
expect_match "service: it ran" "$out" '^exit 0$'
expect_match "service: SO_REUSEADDR=1 on its listener (getsockopt)" "$out" '^get=reuseaddr rc=0 errno=0 value=1$'
expect_match "service: SO_KEEPALIVE=1 on its connection (getsockopt)" "$out" '^get=keepalive rc=0 errno=0 value=1$'
expect_eq "service: nothing of the shim's log in its stdout/stderr stream" "$(grep -c sockshim <<<"$out")" 0
expect_match "syslog: the start line, with the service's pid and the policy" \
	"$(wait_syslog "^<14>sockshim\[$pid\]: .* info start .*program=probe .*policy=$T/sockshim.ini rules=2 mode=enforce$")" .
expect_match "syslog: the forced SO_REUSEADDR" \
	"$(wait_syslog "^<14>sockshim\[$pid\]: .* bind fd=[0-9]+ tcp 127\.0\.0\.1:7200 rule=listeners actions=reuseaddr=force rc=0$")" .
expect_match "syslog: the keepalive on connect" \
	"$(wait_syslog "^<14>sockshim\[$pid\]: .* connect fd=[0-9]+ tcp 127\.0\.0\.1:7200 rule=keepalive actions=.*SO_KEEPALIVE=1")" .

# ---- a broken policy: the service still runs, unchanged; the error in syslog ----
broken_env=("${service_env[@]/#SOCKSHIM_POLICY=*/SOCKSHIM_POLICY=$T/broken.ini}")
out=$(service "${broken_env[@]}")
pid=$(sed -n 's/^pid //p' <<<"$out")
expect_match "broken policy: the service runs" "$out" '^exit 0$'
expect_match "broken policy: untouched, SO_REUSEADDR=0 (getsockopt)" "$out" '^get=reuseaddr rc=0 errno=0 value=0$'
expect_match "broken policy: syslog says where the error is" \
	"$(wait_syslog "^<11>sockshim\[$pid\]: .* error policy-error msg=$T/broken.ini:[0-9]+: bad value 'always' for 'reuseaddr'")" .

# ---- systemd's own reading of the drop-in ----
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$T/units/demo.service.d" "$T/typo/demo.service.d"
	printf '[Unit]\nDescription=demo\n[Service]\nExecStart=%s\n' "$BUILD/tests/probe" >"$T/units/demo.service"
	cp "$T/units/demo.service" "$T/typo/demo.service"
	cp "$D/sockshim.conf" "$T/units/demo.service.d/sockshim.conf"
	sed 's/^Environment=/Envirnment=/' "$D/sockshim.conf" >"$T/typo/demo.service.d/sockshim.conf"
	out=$(SYSTEMD_UNIT_PATH=$T/units: timeout 20 systemd-analyze verify "$T/units/demo.service" 2>&1)
	expect_eq "systemd-analyze verify: no complaint about the drop-in" "$(grep -c sockshim.conf <<<"$out")" 0
	out=$(SYSTEMD_UNIT_PATH=$T/typo: timeout 20 systemd-analyze verify "$T/typo/demo.service" 2>&1)
	expect_match "systemd-analyze verify: reads drop-ins (a typo is reported)" "$out" "sockshim.conf:[0-9]+: Unknown key"
else
	ok "systemd-analyze verify # SKIP not installed"
fi

# ---- run.sh ----
out=$(SOCKSHIM=$BUILD/sockshim timeout 20 "$D/run.sh" web 2>&1)
expect_eq "run.sh exits 0" "$?" 0
expect_match "run.sh: the policy checks" "$out" 'policy\.ini: OK, 2 rules$'
expect_match "run.sh: prints where the drop-in goes" "$out" "install -D -m 0644 .*/sockshim\.conf /etc/systemd/system/web\.service\.d/sockshim\.conf$"

finish
