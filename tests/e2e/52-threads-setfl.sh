#!/bin/bash
# frontends: preload, seccomp
# 52: another thread's F_SETFL on a socket while it makes a blocking
# connect through a pool of two sources stays: the supervisor sets
# O_NONBLOCK on the open file for the connect it makes itself and clears
# it afterwards, and used to write back the whole flags it had read
# before, over what the program set meanwhile (here O_APPEND, 3000 times,
# with varying timing: 40 and 41 of 3000 lost in two runs). Now only the
# O_NONBLOCK bit is cleared, the flags read again; what is left is the gap
# between each F_GETFL and its F_SETFL (fcntl has no atomic set-one-bit),
# which lost 1 to 6 of 3000 in runs here on an idle machine, 23 in one
# under the load of the whole suite, 44 in another: the count is shown, not
# checked, under the supervisor; the preload must lose none.
# Kernel truth: F_GETFL after both threads are done.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/peerwatch.sh"

serve tcp tcp 127.0.0.1 9000 || exit 1
N=3000
out=$(timeout 60 "$BUILD/tests/setfl_race" $N 127.0.0.1 9000)
expect_eq "bare: every connect made, no flag lost (control)" "$out" "n=$N ok=$N lost=0"
P=$(policy pool.ini <<'INI'
[global]
log_level = warn
[pool]
on = connect
addr = 127.0.0.1
port = 9000
source = 127.0.0.2, 127.0.0.3
INI
)
out=$(shim "$P" timeout 60 "$BUILD/tests/setfl_race" $N 127.0.0.1 9000 2>"$T/pool.log")
expect_match "pool: every connect made" "$out" "^n=$N ok=$N lost=[0-9]+\$"
lost=${out##*lost=}
if [ "${SOCKSHIM_FRONTEND:-preload}" = preload ]; then
	# the preload never touches the file's flags
	expect_eq "pool: no flag the program set was lost" "$lost" 0
else
	# how many depends on the machine's load (the README's limits of the
	# supervisor): a figure, not a check
	echo "# pool under the supervisor: the program's O_APPEND undone $lost times of $N (40 and 41 before the bit alone was cleared)"
fi
finish
