# Only the hooks are exported (PITFALLS 9): `nm -D --defined-only` lists
# exactly the 26 hook names (21 socket and descriptor calls, 5 name
# lookups), nothing from inih (ini_*) or the engine.
# A program that defines its own ini_parse* and functions named like the
# shim's internals (exported with -rdynamic, so they would interpose) keeps
# its own, and the shim keeps its own: the policy still loads and pins the
# connect (kernel truth: getsockname and the server's peer). A program linked
# with the system's libinih.so parses with it, undisturbed, under the shim.
. "$TOP/tests/lib.sh"

PORT=9640
want="_Fork accept accept4 bind close close_range closefrom connect dup dup2 dup3 fclose fcntl fcntl64 getaddrinfo gethostbyname gethostbyname2 gethostbyname2_r gethostbyname_r listen sendmmsg sendmsg sendto setsockopt socket socketpair"
got=$(nm -D --defined-only "$SHIM" | awk '{print $NF}' | sed 's/@.*//' | sort | tr '\n' ' ' | sed 's/ $//')
expect_eq "nm -D --defined-only lists exactly the hooks" "$got" "$want"
expect_eq "no ini_* symbol in the dynamic table" "$(nm -D "$SHIM" | grep -c ' ini_')" "0"
expect_eq "every exported symbol is a function (T)" "$(nm -D --defined-only "$SHIM" | awk '$2 != "T"' | wc -l)" "0"

pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done' EXIT
pol=$(policy pin.ini <<EOF
[pin]
on = connect
port = $PORT
source = 127.0.0.2
EOF
)

# Connect code shared by both programs.
cat > "$T/conn.h" <<EOF
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static void connect_and_print(void)
{
	struct sockaddr_in a, me;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons($PORT);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	socklen_t len = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &len);
	printf("connect rc=%d local=%s\n", rc, inet_ntoa(me.sin_addr));
	close(fd);
}
EOF

cat > "$T/own-inih.c" <<'EOF'
#include <stdlib.h>
#include "conn.h"
/* Same names as inih's and the shim's internals; any call from the shim is a bug. */
static void trap(const char *n) { fprintf(stderr, "TRAP: the shim called the program's %s\n", n); abort(); }
int ini_parse(const char *f, void *h, void *u) { (void)h; (void)u; return f && strcmp(f, "mine") == 0 ? 4242 : -1; }
int ini_parse_file(void *f, void *h, void *u) { (void)f; (void)h; (void)u; trap("ini_parse_file"); return 0; }
int ini_parse_stream(void *r, void *s, void *h, void *u) { (void)r; (void)s; (void)h; (void)u; trap("ini_parse_stream"); return 0; }
int ini_parse_string(const char *s, void *h, void *u) { (void)s; (void)h; (void)u; trap("ini_parse_string"); return 0; }
int ss_policy_load(void) { trap("ss_policy_load"); return 0; }
int ss_policy_parse(void) { trap("ss_policy_parse"); return 0; }
int ss_decide(void) { trap("ss_decide"); return 0; }
int ss_log_event(void) { trap("ss_log_event"); return 0; }
int ss_log_decision(void) { trap("ss_log_decision"); return 0; }
int shim_init(void) { trap("shim_init"); return 0; }
int shim_connect(void) { trap("shim_connect"); return 0; }
int real_connect(void) { trap("real_connect"); return 0; }
int real_resolve_all(void) { trap("real_resolve_all"); return 0; }
int fdtab_get(void) { trap("fdtab_get"); return 0; }
int fmt_str(void) { trap("fmt_str"); return 0; }
int arena_alloc(void) { trap("arena_alloc"); return 0; }
int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("own ini_parse=%d\n", ini_parse("mine", NULL, NULL));
	connect_and_print();
	return 0;
}
EOF
cc -Wall -O1 -rdynamic -I"$T" -o "$T/own-inih" "$T/own-inih.c" || { not_ok "build own-inih"; finish; }
check "own-inih exports its ini_parse (it could interpose)" sh -c "nm -D --defined-only '$T/own-inih' | grep -qw ini_parse"

cat > "$T/sys-inih.c" <<'EOF'
#include <ini.h>
#include "conn.h"
static int handler(void *u, const char *s, const char *k, const char *v)
{
	(void)u;
	printf("ini %s.%s=%s\n", s, k, v);
	return 1;
}
int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ini_parse_string=%d\n", ini_parse_string("[app]\nname = demo\n; c\nport = 99\n", handler, NULL));
	connect_and_print();
	return 0;
}
EOF
cc -Wall -O1 $(pkg-config --cflags inih 2>/dev/null) -I"$T" -o "$T/sys-inih" "$T/sys-inih.c" $(pkg-config --libs inih 2>/dev/null || echo -linih) ||
	{ not_ok "build sys-inih"; finish; }
check "sys-inih uses the shared libinih" sh -c "ldd '$T/sys-inih' | grep -q libinih"

for prog in own-inih sys-inih; do
	"$BUILD/tests/rob_server" 127.0.0.1 $PORT 1 10 > "$T/$prog.srv" &
	spid=$!; pids="$pids $spid"
	wait_port $PORT
	timeout 10 env SOCKSHIM_POLICY="$pol" LD_PRELOAD="$SHIM" "$T/$prog" > "$T/$prog.out" 2> "$T/$prog.err"; rc=$?
	out=$(cat "$T/$prog.out")
	wait $spid
	expect_eq "$prog: exit 0, no trap" "$rc/$(grep -c TRAP "$T/$prog.err")" "0/0"
	expect_match "$prog: the shim ran (start line, 1 rule)" "$(cat "$T/$prog.err")" " info start .*program=$prog .*rules=1 "
	expect_match "$prog: connect pinned (getsockname)" "$out" '^connect rc=0 local=127\.0\.0\.2$'
	expect_match "$prog: the server saw 127.0.0.2" "$(cat "$T/$prog.srv")" '^peer 127\.0\.0\.2:'
done
expect_match "own-inih: its own ini_parse answered" "$(cat "$T/own-inih.out")" '^own ini_parse=4242$'
expect_eq "sys-inih: libinih parsed the program's INI as without the shim" \
	"$(grep -v '^connect' "$T/sys-inih.out")" "$(printf 'ini app.name=demo\nini app.port=99\nini_parse_string=0')"

finish
