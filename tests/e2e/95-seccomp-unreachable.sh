#!/bin/bash
# 95: a target the kernel refuses the supervisor access to. pidfd_getfd and
# process_vm_readv need ptrace access: a process that made itself
# non-dumpable (PR_SET_DUMPABLE 0) refuses it to a supervisor without
# CAP_SYS_PTRACE (as do Yama's ptrace_scope 2 and 3). Its calls then go on
# untouched, and the supervisor says so once, at warn level, instead of
# silently. Controls: the same supervisor without CAP_SYS_PTRACE on a
# dumpable client applies the rule; with the capability, on the
# non-dumpable client, too.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"
. "$TOP/tests/helpers/seccomp.sh"

if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "skipped: needs root and setpriv (util-linux) to run the supervisor without CAP_SYS_PTRACE"
	exit 77
fi
static_c nodump "$TOP/tests/helpers/nodump.c"
serve tcp tcp 127.0.0.1 9000 || exit 1
P=$(policy pin.ini <<'INI'
[pin]
on = connect
source = 127.0.0.2
INI
)
# the supervisor, and so its target, without CAP_SYS_PTRACE
noptrace() { setpriv --bounding-set=-sys_ptrace -- "$@"; }
check "setpriv can drop CAP_SYS_PTRACE here" noptrace true

out=$(noptrace env SOCKSHIM_POLICY="$P" timeout 30 "${SUP[@]}" "$T/nodump" 127.0.0.1 9000 2>"$T/ctl.log")
expect_eq "control, dumpable client: the rule applies" "$out" "connect rc=0 errno=0 local=127.0.0.2"
wait_peers tcp 1
expect_eq "control: the server sees 127.0.0.2" "$(peers tcp | tail -1 | cut -d' ' -f1)" 127.0.0.2
check "control: no warning" bash -c "! grep -q ' warn ' '$T/ctl.log'"

out=$(noptrace env SOCKSHIM_POLICY="$P" timeout 30 "${SUP[@]}" "$T/nodump" -d -n 3 127.0.0.1 9000 2>"$T/nd.log")
expect_eq "non-dumpable client: its connects go on untouched (from 127.0.0.1)" "$out" "connect rc=0 errno=0 local=127.0.0.1
connect rc=0 errno=0 local=127.0.0.1
connect rc=0 errno=0 local=127.0.0.1"
wait_peers tcp 4
expect_eq "non-dumpable client: the server sees 127.0.0.1" "$(peers tcp | tail -3 | cut -d' ' -f1 | sort -u)" 127.0.0.1
expect_eq "non-dumpable client: one warning for three calls" "$(grep -c ' warn unreachable ' "$T/nd.log")" 1
expect_match "the warning names the refused call, the errno and the reason" "$(cat "$T/nd.log")" \
	' warn unreachable target=[0-9]+ call=(process_vm_readv|pidfd_getfd) errno=EPERM msg=.*non-dumpable.*continue untouched'
check "non-dumpable client: no decision logged" bash -c "! grep -q ' connect fd=' '$T/nd.log'"

out=$(sup "$P" "$T/nodump" -d 127.0.0.1 9000 2>"$T/cap.log")
expect_eq "with CAP_SYS_PTRACE: the non-dumpable client's connect gets the rule" "$out" "connect rc=0 errno=0 local=127.0.0.2"
check "with CAP_SYS_PTRACE: no warning" bash -c "! grep -q ' warn ' '$T/cap.log'"
finish
