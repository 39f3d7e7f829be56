# Shared start of the examples' run.sh scripts. A script sets
#   here=$(cd "$(dirname "$0")" && pwd)
# then sources this file, which sets
#   top        the source tree
#   sockshim   the launcher: $SOCKSHIM, else the build tree's, else the installed one
# and offers:
#   in_private_netns "$@"   re-run the script in a network namespace of its
#                           own (loopback only, up), so nothing leaves the
#                           machine and earlier runs leave nothing behind;
#                           with EXAMPLE_MOUNTS=1 set first, in a mount
#                           namespace of its own too (a private /etc/hosts
#                           can then be bind-mounted: private_hosts FILE)
#   find_python             set py to the interpreter itself, not a wrapper
#                           script (pyenv): one process, one log start line
#   private_policy DIR      copy the example's policy.ini to DIR, mode 0644:
#                           sockshim refuses a policy that group or others may
#                           write to, and a checkout made with umask 002 has such files
top=$(cd "$here/../.." && pwd)
sockshim=${SOCKSHIM:-$top/build/sockshim}
[ -x "$sockshim" ] || sockshim=$(command -v sockshim) ||
	{ echo "sockshim not found: run make first (in $top)"; exit 1; }

in_private_netns() {
	if [ "${SOCKSHIM_EXAMPLE_NETNS:-}" != 1 ]; then
		local ns
		if [ "$(id -u)" = 0 ]; then ns=(unshare -n); else ns=(unshare -rn); fi
		[ "${EXAMPLE_MOUNTS:-}" = 1 ] && ns+=(-m)
		"${ns[@]}" true 2>/dev/null ||
			{ echo "cannot create a network namespace here (${ns[*]}): run as root"; exit 1; }
		SOCKSHIM_EXAMPLE_NETNS=1 exec "${ns[@]}" -- "$BASH" "$0" "$@"
	fi
	ip link set lo up
}

find_python() {
	py=$(python3 -c 'import sys; print(sys.executable)') || { echo "python3 not found"; exit 1; }
}

private_policy() {
	install -m 0644 "$here/policy.ini" "$1/policy.ini"
}

# private_hosts FILE: FILE is /etc/hosts for this script and what it runs
# (after in_private_netns with EXAMPLE_MOUNTS=1), the only source of names
# (nsswitch.conf: hosts: files), so no lookup is ever sent anywhere
private_hosts() {
	# a copy of /etc with both, mounted over it (a minimal system may have
	# neither file)
	local etc="$1.etc"
	rm -rf "$etc" && mkdir "$etc" || return 1
	cp -a /etc/. "$etc/" 2>/dev/null
	cp "$1" "$etc/hosts" && printf 'hosts: files\n' >"$etc/nsswitch.conf" && mount --bind "$etc" /etc
}
