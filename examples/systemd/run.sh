#!/bin/bash
# systemd: preload sockshim into an existing service with a unit drop-in.
#
# It cannot start a systemd service here, so it checks the policy, shows
# what it decides, and prints the steps to install the drop-in
# (sockshim.conf) and the policy (policy.ini) for a service, and to check
# that they took. It changes nothing on this machine.
#
#   examples/systemd/run.sh [SERVICE]      (default: myapp)
#
# test.sh starts a server with exactly the drop-in's environment (the build
# paths in place of the install paths) and checks the policy applies.
set -u -o pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
svc=${1:-myapp}
lib=$(sed -n 's/^Environment=LD_PRELOAD=//p' "$here/sockshim.conf")
pol=$(sed -n 's/^Environment=SOCKSHIM_POLICY=//p' "$here/sockshim.conf")

# sockshim refuses a policy that group or others may write to (a checkout
# made with umask 002 has such files): check a copy with mode 0644, the
# mode the install step below gives it
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
private_policy "$tmp"

echo "== the policy for the service: policy.ini"
"$sockshim" check "$tmp/policy.ini" | sed "s|$tmp/||" || exit 1
"$sockshim" explain "$tmp/policy.ini" bind tcp 0.0.0.0:8080 | sed "s|$tmp/||; s/^/  /"
"$sockshim" explain "$tmp/policy.ini" connect tcp 10.0.0.5:5432 | sed "s|$tmp/||; s/^/  /"
echo "  log = syslog: the journal gets its lines through /dev/log (under systemd, stderr is a socket, and sockshim never logs to a socket on fd 2)"

echo
echo "== the drop-in: sockshim.conf"
grep -v '^#' "$here/sockshim.conf" | sed 's/^/  /'

echo
echo "== install it for $svc.service (as root)"
if [ -e "$lib" ]; then
	echo "  # $lib is installed"
else
	echo "  make -C $top install PREFIX=/usr/local        # $lib"
fi
echo "  install -D -m 0644 $here/policy.ini $pol     # or merge it into yours"
echo "  sockshim check $pol"
echo "  install -D -m 0644 $here/sockshim.conf /etc/systemd/system/$svc.service.d/sockshim.conf"
echo "  systemctl daemon-reload"
echo "  systemctl restart $svc"

echo
echo "== check that it took"
echo "  systemctl show $svc -p Environment      # LD_PRELOAD=... SOCKSHIM_POLICY=..."
echo "  grep -c libsockshim /proc/\$(systemctl show $svc -p MainPID --value)/maps    # not 0: loaded"
echo "  journalctl -u $svc -t sockshim -n 20     # a start line (program, policy, rules), then decisions"

echo
echo "== undo"
echo "  rm /etc/systemd/system/$svc.service.d/sockshim.conf && systemctl daemon-reload && systemctl restart $svc"
