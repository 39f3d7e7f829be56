# The man pages doc/sockshim.1, doc/sockshim.ini.5 and doc/sockshim-log.5:
#   all render with `man -l` at 80 columns, in the C and C.UTF-8 locales,
#       without a single groff warning (man --warnings=w: every category);
#   sockshim.ini.5 has a "KEY = ..." entry for every key of src/engine/policy_keys.c's
#       pp_keys[] table and every [global] key, and names every socket option
#       of src/engine/names.c;
#   sockshim.1 names every option and subcommand src/launcher/launcher.c and src/launcher/run.c accept
#       (-p -l -v -n check explain --help --version at least), and its
#       ENVIRONMENT section every SOCKSHIM_* variable that src/ reads;
#   sockshim-log.5 has a section for every kind tests/helpers/logschema.py
#       checks, and names each kind's keys;
#   the policies of sockshim.ini.5's EXAMPLES pass `sockshim check`, and
#       sockshim.1's explain example prints what it shows.
# Skipped (77) when man or groff is not installed (man-db, groff-base).
. "$TOP/tests/lib.sh"

if ! command -v man >/dev/null 2>&1 || ! command -v groff >/dev/null 2>&1; then
	echo "man or groff missing (install man-db and groff-base): man pages not checked"
	exit 77
fi

MAN1=$TOP/doc/sockshim.1
MAN5=$TOP/doc/sockshim.ini.5
MANLOG=$TOP/doc/sockshim-log.5
SOCKSHIM=$BUILD/sockshim
# No pager, no kept formatting, no sandbox that a container may refuse.
unset MAN_KEEP_FORMATTING MANOPT MANPAGER PAGER
export MAN_DISABLE_SECCOMP=1

# missing WORDS... < TEXT: the words that do not appear in TEXT as a whole word
missing() {
	local text w out=""
	text=$(cat)
	for w in "$@"; do
		printf '%s\n' "$text" | grep -Eq -- "(^|[^-[:alnum:]_])$w([^-[:alnum:]_]|\$)" || out="$out $w"
	done
	echo "${out# }"
}

# section NAME < TEXT: the lines of a rendered section, without its heading
section() {
	sed -n "/^$1\$/,/^[A-Z]/p" | sed '1d;$d'
}

for page in "$MAN1" "$MAN5" "$MANLOG"; do
	page_name=${page#"$TOP"/}
	check "$page_name exists" test -s "$page"
	for loc in C C.UTF-8; do
		warnings=$(LC_ALL=$loc MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null); rc=$?
		expect_eq "$page_name: man -l renders it in $loc without a groff warning" "$rc:$warnings" "0:"
	done
done

# Wide, so that no entry is folded.
text1=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$MAN1" 2>/dev/null)
text5=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$MAN5" 2>/dev/null)
expect_match "sockshim.1 renders its NAME" "$text1" '^NAME$'
expect_match "sockshim.ini.5 renders its NAME" "$text5" '^NAME$'

# ---- sockshim.ini.5: every key ----
mapfile -t keys < <(sed -n '/pp_keys\[K_COUNT\] = {/,/^};/p' "$TOP/src/engine/policy_keys.c" |
	sed -n 's/^[[:space:]]*\[K_[A-Z_]*\] = { "\([a-z_]*\)".*/\1/p')
mapfile -t globals < <(sed -n 's/.*global_keys\[\] = {\(.*\)};.*/\1/p' "$TOP/src/engine/policy_keys.c" | tr -d ' "' | tr ',' '\n')
check "keys[] of src/engine/policy_keys.c parsed (${#keys[@]} keys)" test "${#keys[@]}" -ge 15
check "global_keys[] of src/engine/policy_keys.c parsed (${#globals[@]} keys)" test "${#globals[@]}" -ge 5
# the entries, not the examples
entries5=$(printf '%s\n' "$text5" | sed '/^EXAMPLES$/,/^SEE ALSO$/d')
absent=""
for k in "${keys[@]}" "${globals[@]}"; do
	printf '%s\n' "$entries5" | grep -Eq "^[[:space:]]+$k = " || absent="$absent $k"
done
expect_eq "sockshim.ini.5 has a 'KEY = ...' entry for every rule and [global] key" "${absent# }" ""
expect_match "sockshim.ini.5 documents dry-run as a mode value" "$text5" 'mode = enforce \| dry-run'

mapfile -t opts < <(sed -n 's/^[[:space:]]*{ "\([A-Z0-9_]*\)", .*/\1/p' "$TOP/src/engine/names.c")
check "socket options of src/engine/names.c parsed (${#opts[@]})" test "${#opts[@]}" -ge 20
expect_eq "sockshim.ini.5 names every socket option of src/engine/names.c" "$(missing "${opts[@]}" <<<"$text5")" ""

# ---- sockshim-log.5: every kind and key the schema checker knows ----
textlog=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$MANLOG" 2>/dev/null)
kinds=$(section KINDS <<<"$textlog")
mapfile -t schema < <(python3 -c '
import importlib.util, sys
spec = importlib.util.spec_from_file_location("ls", sys.argv[1]); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
for k, (req, opt, lv) in m.KINDS.items():
    print(k, *sorted(set(req) | set(opt)))' "$TOP/tests/helpers/logschema.py")
check "kinds of tests/helpers/logschema.py read (${#schema[@]})" test "${#schema[@]}" -ge 8
absent=""
for row in "${schema[@]}"; do
	read -r kind keys <<<"$row"
	printf '%s\n' "$kinds" | grep -Eq "^   (.*, )?$kind( |,|\$)" || absent="$absent $kind"
	# shellcheck disable=SC2086 # one word per key
	m=$(missing $keys <<<"$kinds"); [ -z "$m" ] || absent="$absent $kind:{$m}"
done
expect_eq "sockshim-log.5 has a section for each kind, naming its keys" "${absent# }" ""
expect_match "sockshim-log.5 names the keys of every line" "$textlog" '^       ts \(string\)'

# ---- sockshim.1: every option, subcommand and variable ----
# what src/launcher/launcher.c and its run mode (src/launcher/run.c) compare their arguments
# with, and what the brief names
mapfile -t accepted < <({ grep -hoE '(strcmp|eq)\((a|w|argv\[[14]\]), "[^"]+"\)' "$TOP/src/launcher/launcher.c" "$TOP/src/launcher/run.c" |
	sed -E 's/.*"([^"]+)"\)$/\1/'; printf '%s\n' -p -l -v -n check explain --help --version; } | sort -u)
check "options of src/launcher/launcher.c and src/launcher/run.c parsed (${#accepted[@]})" test "${#accepted[@]}" -ge 11
expect_eq "sockshim.1 names every launcher option and subcommand" "$(missing "${accepted[@]}" <<<"$text1")" ""
options=$(section OPTIONS <<<"$text1")
commands=$(section COMMANDS <<<"$text1")
absent=""
for o in "${accepted[@]}"; do
	case $o in
	--program) printf '%s\n' "$commands" | grep -Eq -- "^ +explain .*\[--program NAME\]" ;;
	--family) printf '%s\n' "$commands" | grep -Eq -- "^ +explain .*\[--family ipv4\|ipv6\|dual\]" ;;
	--host) printf '%s\n' "$commands" | grep -Eq -- "^ +explain .*\[--host NAME\]" ;;
	report) printf '%s\n' "$commands" | grep -Eq -- "^ +report \[--json\] LOG" ;;
	-*) printf '%s\n' "$options" | grep -Eq -- "^ +(-[a-z], )?$o( |,|\$)" ;;
	*) printf '%s\n' "$commands" | grep -Eq -- "^ +$o POLICY" ;;
	esac || absent="$absent $o"
done
expect_eq "sockshim.1 has an OPTIONS or COMMANDS entry for each of them" "${absent# }" ""

environment=$(section ENVIRONMENT <<<"$text1")
mapfile -t vars < <(grep -ohE '"SOCKSHIM_[A-Z_]+"' "$TOP"/src/*/*.c "$TOP"/src/*/*.h | tr -d '"' | sort -u)
check "SOCKSHIM_* variables of src/ found (${#vars[@]})" test "${#vars[@]}" -ge 6
expect_eq "sockshim.1's ENVIRONMENT names every SOCKSHIM_* variable of src/" "$(missing "${vars[@]}" <<<"$environment")" ""
expect_match "sockshim.1's ENVIRONMENT says AT_SECURE ignores them" "$environment" 'AT_SECURE'

# ---- the examples are true ----
# The .EX blocks of a page's EXAMPLES section, each followed by a line "@@".
examples() {
	awk '/^\.SH EXAMPLES/ { on = 1; next } /^\.SH / { on = 0 }
	     on && /^\.EX/ { inb = 1; next } on && /^\.EE/ { inb = 0; print "@@"; next }
	     inb' "$1" | sed -e 's/\\-/-/g' -e 's/\\e/\\/g'
}
n=0
while IFS= read -r line; do
	if [ "$line" = "@@" ]; then
		n=$((n + 1)); continue
	fi
	printf '%s\n' "$line" >> "$T/ex$n.ini"
done < <(examples "$MAN5")
check "sockshim.ini.5 has example policies ($n)" test "$n" -ge 2
for i in $(seq 0 $((n - 1))); do
	chmod 0644 "$T/ex$i.ini"
	out=$("$SOCKSHIM" check "$T/ex$i.ini" 2>&1); rc=$?
	expect_eq "sockshim.ini.5 example $((i + 1)) passes sockshim check" "$rc" "0"
	[ "$rc" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
	if head -1 "$T/ex$i.ini" | grep -q '^; sandbox for the test suite'; then
		cp "$T/ex$i.ini" "$T/sandbox.ini"
	fi
done

shown=$(examples "$MAN1" | awk '/^@@$/ { if (b ~ /sockshim explain sandbox\.ini/) printf "%s", b; b = ""; next } { b = b $0 "\n" }')
check "sockshim.1 has the explain example, and sockshim.ini.5 its sandbox.ini" test -n "$shown" -a -s "$T/sandbox.ini"
printed=$(cd "$T" && printf '%s\n' "$shown" | sed -n 's/^\$ sockshim //p' | while read -r args; do
	echo "\$ sockshim $args"
	# shellcheck disable=SC2086 # the example's words are the arguments
	"$SOCKSHIM" $args 2>&1
done)
expect_eq "sockshim.1's explain example is what sockshim explain prints" "$printed" "$(printf '%s\n' "$shown" | sed '/^$/d')"

finish
