/*
 * Unit tests of src/engine/kaddr.c: which addresses the kernel acts on for each
 * socket family, type and call, and in what form the engine gets them.
 * The table is Linux's answer for each case (checked against a 6.x kernel
 * by tests/helpers/famgames.c in e2e test 46).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "kaddr.h"

static int v6only_on(void *ctx)
{
	(*(int *)ctx)++;
	return 1;
}

static int v6only_off(void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

static struct sockaddr_in in4(int family, const char *ip, int port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = (sa_family_t)family;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &a.sin_addr);
	return a;
}

static bool read4(enum ss_op op, unsigned proto, unsigned fam, const struct sockaddr_in *sa, socklen_t len,
		  struct ss_addr *a, int (*v6only)(void *), int *asked)
{
	return ss_kernel_addr(a, op, proto, fam, (const struct sockaddr *)sa, len, v6only, asked);
}

static void unspec_on_inet(void **state)
{
	(void)state;
	struct ss_addr a;
	struct sockaddr_in un = in4(AF_UNSPEC, "127.0.0.1", 53), any = in4(AF_UNSPEC, "0.0.0.0", 80);
	/* UDP send: taken as AF_INET */
	assert_true(read4(SS_OP_SEND, SS_PROTO_UDP, SS_FAM_V4, &un, sizeof(un), &a, NULL, NULL));
	assert_int_equal(a.family, 4);
	assert_int_equal(a.port, 53);
	assert_memory_equal(a.ip, "\x7f\0\0\x01", 4);
	assert_false(read4(SS_OP_SEND, SS_PROTO_UDP, SS_FAM_V4, &un, 8, &a, NULL, NULL)); /* EINVAL */
	/* TCP Fast Open: EOPNOTSUPP; connect: a disconnect */
	assert_false(read4(SS_OP_SEND, SS_PROTO_TCP, SS_FAM_V4, &un, sizeof(un), &a, NULL, NULL));
	assert_false(read4(SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V4, &un, sizeof(un), &a, NULL, NULL));
	assert_false(read4(SS_OP_CONNECT, SS_PROTO_UDP, SS_FAM_V4, &un, sizeof(un), &a, NULL, NULL));
	/* bind: only INADDR_ANY */
	assert_true(read4(SS_OP_BIND, SS_PROTO_TCP, SS_FAM_V4, &any, sizeof(any), &a, NULL, NULL));
	assert_int_equal(a.family, 4);
	assert_int_equal(a.port, 80);
	assert_memory_equal(a.ip, "\0\0\0\0", 4);
	assert_true(read4(SS_OP_BIND, SS_PROTO_UDP, SS_FAM_V4, &any, sizeof(any), &a, NULL, NULL));
	assert_false(read4(SS_OP_BIND, SS_PROTO_TCP, SS_FAM_V4, &un, sizeof(un), &a, NULL, NULL)); /* EAFNOSUPPORT */
	/* other families: EAFNOSUPPORT */
	struct sockaddr_in x = in4(AF_UNIX, "127.0.0.1", 53);
	assert_false(read4(SS_OP_SEND, SS_PROTO_UDP, SS_FAM_V4, &x, sizeof(x), &a, NULL, NULL));
}

static void inet_on_inet6(void **state)
{
	(void)state;
	struct ss_addr a;
	int asked = 0;
	struct sockaddr_in lo = in4(AF_INET, "127.0.0.1", 53);
	/* UDP send and connect: IPv4, as v4-mapped */
	assert_true(read4(SS_OP_SEND, SS_PROTO_UDP, SS_FAM_V6, &lo, sizeof(lo), &a, v6only_off, &asked));
	assert_int_equal(a.family, 6);
	assert_int_equal(a.port, 53);
	assert_memory_equal(a.ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f\0\0\x01", 16);
	assert_true(read4(SS_OP_CONNECT, SS_PROTO_UDP, SS_FAM_V6, &lo, sizeof(lo), &a, v6only_off, &asked));
	assert_int_equal(asked, 2);
	/* IPV6_V6ONLY: ENETUNREACH / EAFNOSUPPORT */
	assert_false(read4(SS_OP_SEND, SS_PROTO_UDP, SS_FAM_V6, &lo, sizeof(lo), &a, v6only_on, &asked));
	assert_false(read4(SS_OP_CONNECT, SS_PROTO_UDP, SS_FAM_V6, &lo, sizeof(lo), &a, v6only_on, &asked));
	assert_false(read4(SS_OP_SEND, SS_PROTO_UDP, SS_FAM_V6, &lo, 8, &a, v6only_off, &asked)); /* EINVAL */
	/* TCP and bind: refused, and the socket is not asked */
	asked = 0;
	assert_false(read4(SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V6, &lo, sizeof(lo), &a, v6only_off, &asked));
	assert_false(read4(SS_OP_SEND, SS_PROTO_TCP, SS_FAM_V6, &lo, sizeof(lo), &a, v6only_off, &asked));
	assert_false(read4(SS_OP_BIND, SS_PROTO_UDP, SS_FAM_V6, &lo, sizeof(lo), &a, v6only_off, &asked));
	assert_int_equal(asked, 0);
	/* AF_UNSPEC: no destination (send), a disconnect (connect) */
	struct sockaddr_in un = in4(AF_UNSPEC, "127.0.0.1", 53);
	assert_false(read4(SS_OP_SEND, SS_PROTO_UDP, SS_FAM_V6, &un, sizeof(un), &a, v6only_off, &asked));
	assert_false(read4(SS_OP_CONNECT, SS_PROTO_UDP, SS_FAM_V6, &un, sizeof(un), &a, v6only_off, &asked));
}

static void own_families(void **state)
{
	(void)state;
	struct ss_addr a;
	struct sockaddr_in6 s6;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons(443);
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	const struct sockaddr *p = (const struct sockaddr *)&s6;
	assert_true(ss_kernel_addr(&a, SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V6, p, sizeof(s6), NULL, NULL));
	assert_int_equal(a.port, 443);
	assert_true(ss_kernel_addr(&a, SS_OP_BIND, SS_PROTO_TCP, SS_FAM_V6, p, 24, NULL, NULL)); /* RFC 2133 */
	assert_false(ss_kernel_addr(&a, SS_OP_BIND, SS_PROTO_TCP, SS_FAM_V6, p, 20, NULL, NULL));
	assert_false(ss_kernel_addr(&a, SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V4, p, sizeof(s6), NULL, NULL));
	struct sockaddr_in lo = in4(AF_INET, "127.0.0.1", 80);
	assert_true(read4(SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V4, &lo, sizeof(lo), &a, NULL, NULL));
	assert_false(read4(SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V4, &lo, 15, &a, NULL, NULL));
	assert_false(ss_kernel_addr(&a, SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V4, NULL, 16, NULL, NULL));
	assert_false(read4(SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V4, &lo, 1, &a, NULL, NULL));
	assert_false(read4(SS_OP_CONNECT, SS_PROTO_TCP, SS_FAM_V4, &lo, 129, &a, NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unspec_on_inet),
		cmocka_unit_test(inet_on_inet6),
		cmocka_unit_test(own_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
