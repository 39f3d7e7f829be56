#!/bin/bash
# 26: threads resolving and connecting at once. Eight threads of one process
# (tests/helpers/nameprobe.c threads) each look up a name of their own,
# svc-T.test, rewritten to an address of its own, 127.0.0.(10+T), and
# connect to it, 50 times, concurrently. A host rule refuses the odd names.
# The kernel's answers: every even thread's connects reached its own server
# (getpeername is 127.0.0.(10+T):19100+T, and that server accepted exactly 50),
# every odd thread's were refused (ECONNREFUSED) and its server accepted
# nothing; no lookup failed. Control: bare, every lookup fails (no DNS).
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only
N=50

{
	echo "[global]"
	echo "log = file:$T/threads.log"
	for t in 0 1 2 3 4 5 6 7; do
		printf '\n[svc-%d]\non = resolve\nhost = svc-%d.test\nrewrite = 127.0.0.%d\n' $t $t $((10 + t))
	done
	printf '\n[deny-odd]\non = connect\nhost = svc-1.test, svc-3.test, svc-5.test, svc-7.test\ndeny = ECONNREFUSED\n'
} >"$T/threads.ini"
chmod 0644 "$T/threads.ini"
P=$T/threads.ini

for t in 0 1 2 3 4 5 6 7; do names_tcp "s$t" "127.0.0.$((10 + t))" $((19100 + t)) || exit 1; done

out=$("$NAMEPROBE" threads 8 2 19100)
expect_eq "control: bare, every lookup fails (no DNS here)" "$(grep -c 'lookupfail=2$' <<<"$out")" 8

out=$(timeout 60 env SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" "$NAMEPROBE" threads 8 $N 19100)
printf '%s\n' "$out" | sed 's/^/# /'
for t in 0 1 2 3 4 5 6 7; do
	if [ $((t % 2)) = 0 ]; then
		want="thread $t ok=$N refused=0 wrong=0 lookupfail=0"
	else
		want="thread $t ok=0 refused=$N wrong=0 lookupfail=0"
	fi
	expect_eq "thread $t: $(cut -d' ' -f3- <<<"$want")" "$(grep "^thread $t " <<<"$out")" "$want"
done
sleep 0.5
for t in 0 1 2 3 4 5 6 7; do
	want=$N; [ $((t % 2)) = 1 ] && want=0
	expect_eq "server 127.0.0.$((10 + t)):$((19100 + t)) accepted $want (from its own thread only)" "$(names_npeers "s$t")" $want
done
expect_eq "log: every refused connect carries its thread's name" \
	"$(grep -c 'connect .*host=svc-[1357]\.test.*rule=deny-odd' "$T/threads.log")" $((4 * N))
finish
