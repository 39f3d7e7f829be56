#!/bin/bash
# 29 (table use): the host table is filled only when a `host` rule could
# ask it. The same lookup and connect (api.example.test, rewritten to
# 127.0.0.1, then a connect that a rule without host allows: the server
# accepts it) under three policies; a connect's log line names the host
# only when the table holds it:
# - no host rule, reload = off: nothing is remembered (no host= on the
#   connect line);
# - no host rule, reload on (the default): remembered, since a reloaded
#   file may bring a host rule, which then matches this earlier lookup;
# - a host rule, reload = off: remembered, and the rule matches.
. "$TOP/tests/lib.sh"
. "$TOP/tests/helpers/names.sh"
names_preload_only
PORT=19160
names_tcp srv 127.0.0.1 $PORT || exit 1

run() { # NAME RELOAD EXTRA-RULE: the connect's log line
	local p
	p=$(policy "$1.ini" <<INI
[global]
log = file:$T/$1.log
reload = $2
[api]
on = resolve
host = api.example.test
rewrite = 127.0.0.1
$3
[any]
on = connect
port = $PORT
INI
)
	SOCKSHIM_POLICY="$p" LD_PRELOAD="$SHIM" "$NAMEPROBE" connect api.example.test $PORT >"$T/$1.out"
	grep ' connect fd=' "$T/$1.log"
}

line=$(run off off "")
expect_match "no host rule, reload = off: the connect is made" "$(cat "$T/off.out")" 'rc=0'
expect_match "... and the lookup was not remembered (no host= on its line)" "$line" " 127\.0\.0\.1:$PORT rule=any "
line=$(run on on "")
expect_match "no host rule, reload = on: remembered for a reload to come" "$line" " host=api\.example\.test rule=any "
line=$(run host off $'[h]\non = connect\nhost = api.example.test\nport = 1')
expect_match "a host rule, reload = off: remembered" "$line" " host=api\.example\.test rule=any "
sleep 0.3
expect_eq "the server accepted the three connects" "$(names_npeers srv)" 3
finish
