#!/bin/bash
# 29 (report): what the log and `sockshim report` say of lookups.
# - a resolve rule's rewrite list: an AF_INET lookup gets its IPv4 address
#   (what the program sees), and the report names the whole list
#   ("rewritten to 127.0.0.1, ::1"), not its last address;
# - a looked-up name's bytes are the program's: a name with U+202E and a
#   byte that is no UTF-8 still decides (its connect is denied: EACCES), and
#   the text log and the report (of a text and of a JSON log) write them as
#   \xHH, never raw (a JSON log holds them as JSON escapes, U+FFFD for the
#   byte);
# - dry-run counts a resolve rule's decisions: the program gets libc's own
#   answer, the summary says would_apply=1 (as a connect rule's does), and
#   the report's APPLIED agrees with its summary lines.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only
S="$BUILD/sockshim"
odd=$(printf 'a\xe2\x80\xaeb\xff.odd.test')
raw() { LC_ALL=C grep -c $'\xe2\x80\xae\|\xff' "$@"; }

P=$(policy names.ini <<INI
[global]
log = file:$T/text.log
[api]
on = resolve
host = api.example.test
rewrite = 127.0.0.1, ::1
[odd]
on = resolve
host = *.odd.test
rewrite = 127.0.0.1
[deny-odd]
on = connect
host = *.odd.test
deny = EACCES
INI
)
expect_eq "rewrite list: an AF_INET lookup gets its IPv4 address" \
	"$(SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" "$NAMEPROBE" gai api.example.test 80 inet stream)" "inet stream 6 127.0.0.1 80"
expect_eq "a name with U+202E and a stray byte decides: its connect is denied" \
	"$(SOCKSHIM_POLICY="$P" LD_PRELOAD="$SHIM" "$NAMEPROBE" connect "$odd" 80 | LC_ALL=C sed 's/^.* rc=/rc=/')" "rc=-1 errno=EACCES peer=-"
sed 's/^/# /' "$T/text.log"
"$S" report "$T/text.log" >"$T/text.report" 2>&1
expect_match "report: the whole rewrite list" "$(grep 'resolve  *api.example.test' "$T/text.report")" 'rewritten to 127\.0\.0\.1, ::1 rule=api'
expect_eq "text log: the name's bytes written as \\xHH (resolve and connect lines)" \
	"$(grep -cF 'host=a\xe2\x80\xaeb\xff.odd.test ' "$T/text.log")" 2
expect_eq "text log: no raw U+202E or 0xff" "$(raw "$T/text.log")" 0
expect_eq "report of the text log: no raw U+202E or 0xff" "$(raw "$T/text.report")" 0
expect_match "report of the text log: the name as the log writes it" "$(cat "$T/text.report")" 'a\\xe2\\x80\\xaeb\\xff\.odd\.test: 1 lookup'

D=$(policy dry.ini <<INI
[global]
log = file:$T/dry.log
log_format = json
mode = dry-run
[local]
on = resolve
host = localhost, *.odd.test
rewrite = 127.0.0.9
INI
)
# libc's own answer for localhost, whatever this system's hosts file holds
bare_localhost=$("$NAMEPROBE" gai localhost 80 inet stream)
expect_match "bare: libc answers localhost with 127.0.0.1" "$bare_localhost" '^inet stream 6 127\.0\.0\.1 80$'
expect_eq "dry-run: the lookup gets libc's answer, not the rewrite" \
	"$(SOCKSHIM_POLICY="$D" LD_PRELOAD="$SHIM" "$NAMEPROBE" gai localhost 80 inet stream)" "$bare_localhost"
SOCKSHIM_POLICY="$D" LD_PRELOAD="$SHIM" "$NAMEPROBE" gai "$odd" 80 inet stream >/dev/null
sed 's/^/# /' "$T/dry.log"
expect_eq "dry-run: each process's summary counts its lookup as would_apply=1" \
	"$(grep -c '"event":"summary","rule":"local","line":[0-9]*,"matched":1,"would_apply":1,' "$T/dry.log")" 2
"$S" report "$T/dry.log" >"$T/dry.report" 2>&1
expect_match "report: APPLIED agrees with the summary lines" "$(grep '^  local ' "$T/dry.report")" \
	'^  local +2 +2 +0 +0 +2 +\(summary lines: matched=2 applied=2 failed=0\)$'
expect_eq "report of the JSON log: no raw U+202E or 0xff" "$(raw "$T/dry.report")" 0
# (the JSON log holds U+FFFD, \xef\xbf\xbd, where the name had a byte that is no UTF-8)
expect_match "report of the JSON log: the name as the text log writes it" "$(cat "$T/dry.report")" 'a\\xe2\\x80\\xaeb\\xef\\xbf\\xbd\.odd\.test: 1 lookup'
finish
