#!/bin/bash
# Build the libFuzzer targets of tests/fuzz/ and run each for its share of
# SECONDS (default 120: 60 s each), one job at a time.
#
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     targets: policy engine report
#
# Everything goes under ${BUILD:-build}/fuzz/: the binaries, the seed corpus
# (made here from conf/sockshim.ini, examples/*/policy.ini, the README's
# policies and the end-to-end tests' policies), the growing corpus of each
# target (kept between runs), its log, and crash/leak/timeout artifacts.
# FUZZ_ARGS adds libFuzzer flags. Prints one line per target and ends with
# "fuzz: N executions, M crashes"; exits non-zero on any crash, leak or
# timeout, or when the toolchain is missing (with the command to install it).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
out=$build/fuzz
total=${1:-120}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(policy engine report)
case $total in '' | *[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS] [TARGET...]" >&2; exit 2 ;; esac

CLANG=${CLANG:-clang}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
mkdir -p "$out/obj" "$out/seeds" || exit 1

# ---- toolchain: clang, its libFuzzer/ASan/UBSan runtime, inih ----
probe_fuzzer() {
	printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' |
		"$CLANG" -x c -fsanitize=fuzzer,address,undefined -o "$out/.probe" - >/dev/null 2>&1
	local rc=$?
	rm -f "$out/.probe"
	return $rc
}
toolchain_missing() {
	local v="" pkgs=""
	if command -v "$CLANG" >/dev/null 2>&1; then
		v=$("$CLANG" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -1)
	elif command -v apt-cache >/dev/null 2>&1; then
		v=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\)$/\1/p' | head -1)
	fi
	command -v "$CLANG" >/dev/null 2>&1 || pkgs="$pkgs clang"
	# Debian's clang only recommends the runtime: without recommends,
	# -fsanitize=fuzzer finds no libclang_rt.fuzzer-*.a
	probe_fuzzer || pkgs="$pkgs libclang-rt-${v:-14}-dev"
	command -v "$PKG_CONFIG" >/dev/null 2>&1 || pkgs="$pkgs pkg-config"
	"$PKG_CONFIG" --exists inih 2>/dev/null || pkgs="$pkgs libinih-dev"
	echo "$pkgs"
}
missing=$(toolchain_missing)
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "fuzz: installing:$missing"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 ||
			{ apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
		missing=$(toolchain_missing)
	fi
	if [ -n "$missing" ]; then
		echo "fuzz: missing packages:$missing" >&2
		echo "fuzz: run: sudo apt-get install -y --no-install-recommends$missing" >&2
		exit 1
	fi
fi

# ---- build: the engine's sources, instrumented, with mmap going through the ledger ----
WARN="-Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2"
[ "${CI:-}" = true ] && WARN="$WARN -Werror" # as the Makefile does
CFLAGS_FUZZ="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all $WARN $("$PKG_CONFIG" --cflags inih)"
inih_libdir=$("$PKG_CONFIG" --variable=libdir inih 2>/dev/null)
inih_static=${inih_libdir:+$inih_libdir/libinih.a}
[ -f "${inih_static:-/nonexistent}" ] || inih_static=-l:libinih.a
engine_src=$(cd "$top" && echo src/engine/*.c) # the engine is its folder, as in the Makefile
engine_src="$engine_src src/launcher/report_parse.c" # the log reader of `sockshim report`
objs=()
for s in $engine_src; do
	o=$out/obj/$(basename "$s" .c).o
	$CLANG $CFLAGS_FUZZ -fsanitize=fuzzer-no-link -Dmmap=fuzz_mmap -Dmunmap=fuzz_munmap -Dmremap=fuzz_mremap \
		-c -o "$o" "$top/$s" || { echo "fuzz: cannot build $s" >&2; exit 1; }
	objs+=("$o")
done
# The harness is built without coverage instrumentation: its reference
# code would only add noise to what guides the fuzzer, and cost time.
$CLANG $CFLAGS_FUZZ -I"$top/src/engine" -I"$top/src/launcher" -c -o "$out/obj/fuzz-common.o" "$top/tests/fuzz/common.c" ||
	{ echo "fuzz: cannot build tests/fuzz/common.c" >&2; exit 1; }
for t in "${targets[@]}"; do
	[ -f "$top/tests/fuzz/$t.c" ] || { echo "fuzz: no target '$t' (tests/fuzz/$t.c)" >&2; exit 2; }
	$CLANG $CFLAGS_FUZZ -I"$top/src/engine" -I"$top/src/launcher" -c -o "$out/obj/fuzz-$t.o" "$top/tests/fuzz/$t.c" &&
		$CLANG -fsanitize=fuzzer,address,undefined -o "$out/$t" "$out/obj/fuzz-$t.o" "$out/obj/fuzz-common.o" \
			"${objs[@]}" $inih_static || { echo "fuzz: cannot build $t" >&2; exit 1; }
done

# ---- seeds, from the policies in the tree ----
pol=$out/seeds/policy eng=$out/seeds/engine
rm -rf "$pol" "$eng" && mkdir -p "$pol" "$eng"
cp "$top/conf/sockshim.ini" "$pol/conf-sockshim.ini"
# the commented reference of every key, switched on
sed 's/^; \{0,1\}//' "$top/conf/sockshim.ini" >"$pol/conf-reference.ini"
for f in "$top"/examples/*/policy.ini; do
	[ -f "$f" ] && cp "$f" "$pol/example-$(basename "$(dirname "$f")").ini"
done
awk -v dir="$pol" '/^```ini/ { n++; f = sprintf("%s/readme-%d.ini", dir, n); on = 1; next }
	/^```/ { on = 0 } on { print > f }' "$top/README.md"
# heredocs fed to `policy NAME` in the end-to-end tests
for s in "$top"/tests/e2e/*.sh; do
	awk -v dir="$pol" -v name="$(basename "$s" .sh)" -v q="'" '
		!on && /policy .*<</ { tag = $0; sub(/.*<</, "", tag); sub(/^-/, "", tag); gsub(q, "", tag); gsub(/"/, "", tag)
			sub(/[ )].*/, "", tag)
			if (tag != "") { n++; f = sprintf("%s/e2e-%s-%d.ini", dir, name, n); on = 1; printf "" > f }; next }
		on { t = $0; sub(/^\t+/, "", t); if (t == tag) { on = 0; close(f); next } print > f }' "$s"
done

# Policies of many rules, so that the rule index (8 rules or more) is built:
# the rules of several seeds one after the other, renamed apart, without
# their [global]. The examples' and the README's are clean, so this one is
# too; the tests' include broken ones on purpose.
combine() {
	awk 'FNR == 1 { f++ } /^\[global\]/ { skip = 1; next } /^\[/ { skip = 0; sub(/\]/, "-" f "]") } !skip' "$@"
}
combine "$pol"/conf-sockshim.ini "$pol"/example-*.ini "$pol"/readme-*.ini >"$pol/combined-examples.ini"
combine "$pol"/e2e-*.ini >"$pol/combined-e2e.ini"

# engine inputs: a 40-byte header (engine.c), "ARGV0\nEXE", NUL, policy text
hdr() { # FLAGS PICK MODE PORTMODE, in hex
	printf "\\x$1\\x$2"                                                 # flags, pick
	printf '\x7f\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'  # address
	printf "\\x1f\\x90\\x$4"                                            # port 8080, port mode
	printf '\x00\x00\x00\x00\x65\x43\x21\x00\x00\x00\x00\x00\x10'       # seed/time, nsec, fmt cap
	printf "\\x$3\\x00\\x00\\x00\\x00\\x05"                              # mode, scope id, draws
}
i=0
for f in "$pol"/*.ini; do
	{ hdr 32 00 00 01; printf 'fuzz\nfuzz-exe\0'; cat "$f"; } >"$eng/text-$(basename "$f")"
	pick=$(printf '%02x' $((i % 256)))
	for flags in 30 32 33 3a 02 72 b2; do
		{ hdr $flags "$pick" 00 01; printf 'nginx\nredis-server'; } >"$eng/op-$pick-$flags"
	done
	i=$((i + 1))
done
{ hdr 30 00 03 00; printf 'x\0'; printf '10.0.0.0/8, ::ffff:10.0.0.0/104, 2001:db8::/32, 80, 8000-8999; 10.1.0.0/16, 8080, 0.0.0.0/0'; } >"$eng/netset-1"
{ hdr 30 00 03 00; printf 'x\0'; printf '::/0,1-65535\n0.0.0.0,255.255.255.255/32;::ffff:0:0/96,0-0'; } >"$eng/netset-2"

# report inputs: log lines of each kind, text and JSON, whole and cut
rep=$out/seeds/report
rm -rf "$rep" && mkdir -p "$rep"
cat >"$rep/text.log" <<'LOG'
2026-11-23T12:04:06.746166Z sockshim[5855] info start version=0.1.0 program=curl exe=curl policy=/p.ini rules=3 mode=enforce
2026-11-23T12:04:06.746166Z sockshim[5855] info bind fd=3 tcp 127.0.0.1:8766 rule=listeners actions=reuseaddr=force rc=0
2026-11-23T12:04:06.746166Z sockshim[5855] info connect fd=5 tcp 10.1.2.3:5432 rule=no actions=deny=ENETUNREACH dry-run rc=-1 errno=ENETUNREACH via=seccomp
2026-11-23T12:04:06.746166Z sockshim[5855] warn log-dropped dropped=12 msg=lines the log sink did not take
2026-11-23T12:04:06.746166Z sockshim[5855] info summary rule=no line=10 matched=1 applied=1 failed=0
<14>sockshim[77]: 2026-11-23T12:04:06.746166Z info connect fd=4 udp [::1]:53 rule=- rc=0
LOG
cat >"$rep/json.log" <<'LOG'
{"ts":"2026-12-02T05:56:48.217053Z","pid":13043,"level":"info","event":"start","version":"0.1.0","program":"curl","exe":"curl","policy":"/tmp/p.ini","rules":3,"mode":"enforce"}
{"ts":"2026-12-02T05:56:48.218657Z","pid":13043,"level":"info","event":"decision","op":"connect","fd":5,"proto":"tcp","family":"ipv4","addr":"127.0.0.9:80","rule":"rw","actions":["rewrite=127.0.0.1:1","x\u00e9\"y"],"dry_run":false,"rc":-1,"errno":"EINPROGRESS"}
{"ts":"2026-12-02T05:56:48.218772Z","pid":13043,"level":"info","op":"connect","fd":5,"proto":null,"family":null,"addr":null,"rule":null,"actions":[],"dry_run":true,"rc":0,"errno":null}
{"ts":"2026-12-02T05:56:48.218885Z","pid":13043,"level":"warn","event":"warning","rule":"rw","count":4,"msg":"window exhausted"}
{"ts":"2026-12-02T05:56:48.2188
LOG

per=$((total / ${#targets[@]}))
[ $per -ge 1 ] || per=1
sum_exec=0 sum_crash=0 failed=0
for t in "${targets[@]}"; do
	corpus=$out/corpus/$t art=$out/artifacts/$t/ log=$out/$t.log
	mkdir -p "$corpus" "$art"
	stamp=$out/.stamp-$t
	: >"$stamp"
	SOCKSHIM_FUZZ_POLICIES=$pol "$out/$t" -max_total_time=$per -print_final_stats=1 -timeout=10 \
		-dict="$top/tests/fuzz/policy.dict" -artifact_prefix="$art" ${FUZZ_ARGS:-} \
		"$corpus" "$out/seeds/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 | sed -n 's/.*\(cov: [0-9]* ft: [0-9]*\).*/\1/p')
	crashes=$(find "$art" -maxdepth 1 -type f -newer "$stamp" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	[ $rc -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1
	corp=$(grep -E '^#[0-9]+.*corp: ' "$log" | tail -1 | sed -n 's|.*corp: \([0-9]*\)/\([0-9a-zA-Z]*\).*|\1 inputs, \2|p')
	echo "fuzz $t: ${execs:-0} executions in ${per} s (${rate:-0}/s), ${cov:-cov: ?}, corpus ${corp:-?}, $crashes crashes"
	# keep the corpus directory to the inputs that matter (new files pile up otherwise)
	if [ "$crashes" -eq 0 ] && [ -n "$(ls -A "$corpus")" ]; then
		rm -rf "$corpus.merge" && mkdir "$corpus.merge" &&
			SOCKSHIM_FUZZ_POLICIES=$pol "$out/$t" -merge=1 -timeout=10 -artifact_prefix="$art" "$corpus.merge" "$corpus" >"$out/$t.merge.log" 2>&1 &&
			rm -rf "$corpus" && mv "$corpus.merge" "$corpus"
		rm -rf "$corpus.merge"
	fi
	if [ "$crashes" -gt 0 ]; then
		failed=1
		grep -E '^==[0-9]+==ERROR|invariant broken|runtime error|^ +#[0-9]+ ' "$log" | head -30 | sed "s/^/fuzz $t: /"
		find "$art" -maxdepth 1 -type f -newer "$stamp" | while read -r a; do
			echo "fuzz $t: reproduce: SOCKSHIM_FUZZ_POLICIES=$pol $out/$t $a"
		done
		echo "fuzz $t: log: $log"
	fi
	sum_exec=$((sum_exec + ${execs:-0}))
	sum_crash=$((sum_crash + crashes))
	rm -f "$stamp"
done
echo "fuzz: $sum_exec executions, $sum_crash crashes"
[ $failed -eq 0 ]
