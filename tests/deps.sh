#!/bin/sh
# Install what the build and the tests need on Debian/Ubuntu: with apt-get as
# root (running apt-get update first when the install fails, as it does on a
# fresh image whose package lists are empty), otherwise print the exact
# command and fail. The list: every command the tests and examples call,
# and the real programs of tests/e2e/96-real-*.sh.
set -eu
PKGS="gcc make libc6-dev pkg-config libinih-dev libcmocka-dev python3 socat curl iproute2 util-linux procps strace man-db groff-base libjemalloc2 golang-go bc nginx-light redis-server haproxy nodejs logrotate jq python3-requests netbase"
missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "sockshim: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
	exit 0
fi
echo "sockshim: missing packages:$missing" >&2
echo "sockshim: run: sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing" >&2
exit 1
