/*
 * Unit tests of the address -> name table (src/hosttab.c): the most recent
 * lookup wins, IPv4 and its v4-mapped form are one key, the oldest entries
 * go once the table is full and the newest stay (in one bucket: the oldest
 * goes, and an address recorded again is the newest), a forked child starts
 * with its parent's table and keeps its own, and threads writing and
 * reading at once never see a name torn between two writes, and a reader
 * never misses an address whose entry is being rewritten at that moment.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hosttab.h"

static struct ss_addr v4(uint32_t x)
{
	struct ss_addr a = { .family = 4 };
	a.ip[0] = (uint8_t)(x >> 24), a.ip[1] = (uint8_t)(x >> 16), a.ip[2] = (uint8_t)(x >> 8), a.ip[3] = (uint8_t)x;
	return a;
}

static void recent_wins(void **state)
{
	(void)state;
	ss_hosttab_reset();
	char n[SS_HOST_MAX];
	struct ss_addr a, m;
	assert_true(ss_addr_parse_ip(&a, "93.184.216.34"));
	assert_false(ss_hosttab_used());
	assert_false(ss_hosttab_get(&a, n));
	ss_hosttab_put(&a, "one.test");
	assert_true(ss_hosttab_used());
	assert_true(ss_hosttab_get(&a, n));
	assert_string_equal(n, "one.test");
	ss_hosttab_put(&a, "two.test");
	assert_true(ss_hosttab_get(&a, n));
	assert_string_equal(n, "two.test");
	/* the port plays no part; the v4-mapped spelling is the same key */
	a.port = 443;
	assert_true(ss_hosttab_get(&a, n));
	assert_true(ss_addr_parse_ip(&m, "::ffff:93.184.216.34"));
	assert_true(ss_hosttab_get(&m, n));
	assert_string_equal(n, "two.test");
	assert_true(ss_addr_parse_ip(&m, "2001:db8::1"));
	assert_false(ss_hosttab_get(&m, n));
	ss_hosttab_put(&m, "six.test");
	assert_true(ss_hosttab_get(&m, n));
	assert_string_equal(n, "six.test");
	/* a name of the longest length comes back whole */
	char longest[SS_HOST_MAX];
	memset(longest, 'x', SS_HOST_MAX - 1);
	longest[SS_HOST_MAX - 1] = '\0';
	ss_hosttab_put(&m, longest);
	assert_true(ss_hosttab_get(&m, n));
	assert_string_equal(n, longest);
}

/* Far more addresses than entries: the last ones written are all there,
 * the first ones are gone, and no bucket holds more than its ways. */
static void oldest_go(void **state)
{
	(void)state;
	ss_hosttab_reset();
	const uint32_t total = SS_HOSTTAB_BUCKETS * SS_HOSTTAB_WAYS * 8;
	char want[64], n[SS_HOST_MAX];
	for (uint32_t i = 0; i < total; i++) {
		struct ss_addr a = v4(0x0a000000u + i);
		snprintf(want, sizeof(want), "h%u.test", i);
		ss_hosttab_put(&a, want);
	}
	unsigned kept_first = 0, kept_last = 0;
	for (uint32_t i = 0; i < 256; i++) {
		struct ss_addr a = v4(0x0a000000u + i);
		kept_first += ss_hosttab_get(&a, n);
		struct ss_addr b = v4(0x0a000000u + total - 1 - i);
		snprintf(want, sizeof(want), "h%u.test", total - 1 - i);
		if (ss_hosttab_get(&b, n)) {
			assert_string_equal(n, want);
			kept_last++;
		}
	}
	assert_int_equal(kept_first, 0);
	/* the newest 256 of 16384 land in buckets that each keep their 4 newest */
	assert_true(kept_last >= 250);
	unsigned found = 0;
	for (uint32_t i = 0; i < total; i++) {
		struct ss_addr a = v4(0x0a000000u + i);
		found += ss_hosttab_get(&a, n);
	}
	assert_true(found <= SS_HOSTTAB_BUCKETS * SS_HOSTTAB_WAYS);
}

/* Within one bucket: the entry that goes is the oldest, and recording an
 * address again makes it the newest. Which addresses share a bucket is
 * found by watching: the put that evicts the target is the fifth of its
 * bucket. */
static void bucket_oldest_goes(void **state)
{
	(void)state;
	char n[SS_HOST_MAX];
	struct ss_addr t = v4(0x7f000005u);
	ss_hosttab_reset();
	ss_hosttab_put(&t, "target.test");
	uint32_t i = 0;
	for (; i < 100000; i++) {
		struct ss_addr a = v4(0x0a000000u + i);
		ss_hosttab_put(&a, "fill.test");
		if (!ss_hosttab_get(&t, n))
			break;
	}
	assert_true(i < 100000);
	/* again, with the target recorded anew just before that put */
	ss_hosttab_reset();
	ss_hosttab_put(&t, "target.test");
	for (uint32_t k = 0; k < i; k++) {
		struct ss_addr a = v4(0x0a000000u + k);
		ss_hosttab_put(&a, "fill.test");
	}
	ss_hosttab_put(&t, "again.test");
	struct ss_addr e = v4(0x0a000000u + i);
	ss_hosttab_put(&e, "fill.test");
	assert_true(ss_hosttab_get(&t, n));
	assert_string_equal(n, "again.test");
	assert_true(ss_hosttab_get(&e, n));
	/* more of that bucket's addresses push the target out before e, which
	 * was recorded after it */
	uint32_t k = i + 1;
	for (; k < 200000 && ss_hosttab_get(&t, n); k++) {
		struct ss_addr a = v4(0x0a000000u + k);
		ss_hosttab_put(&a, "fill.test");
	}
	assert_false(ss_hosttab_get(&t, n));
	assert_true(ss_hosttab_get(&e, n));
}

/* A forked child has the parent's table as it was; what the child records
 * stays the child's. */
static void fork_copies(void **state)
{
	(void)state;
	char n[SS_HOST_MAX];
	struct ss_addr a = v4(0x7f000005u);
	ss_hosttab_reset();
	ss_hosttab_put(&a, "parent.test");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool ok = ss_hosttab_get(&a, n) && strcmp(n, "parent.test") == 0;
		ss_hosttab_put(&a, "child.test");
		ok = ok && ss_hosttab_get(&a, n) && strcmp(n, "child.test") == 0;
		_exit(ok ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(ss_hosttab_get(&a, n));
	assert_string_equal(n, "parent.test");
}

#define THREADS 4
#define ROUNDS 20000

static _Atomic int torn;

/* Each writer writes names that spell the address they are for; a reader
 * must only ever see such a name for the address it asked. */
static void *writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	char name[SS_HOST_MAX];
	for (unsigned r = 0; r < ROUNDS; r++) {
		uint32_t x = (r * 7 + id) % 64;
		struct ss_addr a = v4(0xc0a80000u + x);
		/* lengths vary, so a torn copy would show a wrong tail */
		int len = snprintf(name, sizeof(name), "w%u-a%u.", id, x);
		for (unsigned k = 0; k < (r % 50); k++)
			name[len++] = (char)('a' + (char)(x % 26));
		name[len] = '\0';
		ss_hosttab_put(&a, name);
		char got[SS_HOST_MAX];
		struct ss_addr b = v4(0xc0a80000u + (r % 64));
		if (ss_hosttab_get(&b, got)) {
			unsigned wid, wx;
			char dot;
			if (sscanf(got, "w%u-a%u%c", &wid, &wx, &dot) != 3 || wx != r % 64 || dot != '.')
				atomic_fetch_add(&torn, 1);
			for (const char *t = strchr(got, '.') + 1; *t; t++)
				if (*t != (char)('a' + (char)(wx % 26)))
					atomic_fetch_add(&torn, 1);
		}
	}
	return NULL;
}

static void threads(void **state)
{
	(void)state;
	ss_hosttab_reset();
	pthread_t t[THREADS];
	for (unsigned i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, writer, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&torn), 0);
	char n[SS_HOST_MAX];
	unsigned found = 0;
	for (uint32_t x = 0; x < 64; x++) {
		struct ss_addr a = v4(0xc0a80000u + x);
		found += ss_hosttab_get(&a, n);
	}
	assert_true(found >= 60); /* 64 addresses in 2048 entries: all but a collision's loss */
}

/* Writers re-record a few addresses (same names) as fast as they can while
 * readers look them up: every lookup must find its name, though an entry
 * is often half-way through a rewrite. A reader that gives up on a busy
 * entry after a few spins misses thousands here (2 CPUs). */
#define HOT 2
#define HOT_READS 200000
#define HOT_WRITERS 2
static _Atomic int hot_stop, hot_miss;

/* a name of the longest length, so that a write takes its longest */
static void hot_name(char *out, unsigned i)
{
	int n = snprintf(out, SS_HOST_MAX, "hot-%u.", i);
	memset(out + n, 'h', SS_HOST_MAX - 1 - (size_t)n);
	out[SS_HOST_MAX - 1] = '\0';
}

static void *hot_writer(void *arg)
{
	(void)arg;
	char name[SS_HOST_MAX];
	for (unsigned r = 0; !atomic_load(&hot_stop); r++) {
		struct ss_addr a = v4(0x0a000000u + r % HOT);
		hot_name(name, r % HOT);
		ss_hosttab_put(&a, name);
	}
	return NULL;
}

static void *hot_reader(void *arg)
{
	(void)arg;
	char got[SS_HOST_MAX], want[SS_HOST_MAX];
	for (unsigned r = 0; r < HOT_READS; r++) {
		struct ss_addr a = v4(0x0a000000u + r % HOT);
		hot_name(want, r % HOT);
		if (!ss_hosttab_get(&a, got) || strcmp(got, want))
			atomic_fetch_add(&hot_miss, 1);
	}
	return NULL;
}

static void rewrite_never_hides(void **state)
{
	(void)state;
	ss_hosttab_reset();
	char name[SS_HOST_MAX];
	for (unsigned i = 0; i < HOT; i++) {
		struct ss_addr a = v4(0x0a000000u + i);
		hot_name(name, i);
		ss_hosttab_put(&a, name);
	}
	pthread_t w[HOT_WRITERS], r[2];
	for (unsigned i = 0; i < HOT_WRITERS; i++)
		assert_int_equal(pthread_create(&w[i], NULL, hot_writer, NULL), 0);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&r[i], NULL, hot_reader, NULL), 0);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	atomic_store(&hot_stop, 1);
	for (unsigned i = 0; i < HOT_WRITERS; i++)
		pthread_join(w[i], NULL);
	assert_int_equal(atomic_load(&hot_miss), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(recent_wins),
		cmocka_unit_test(oldest_go),
		cmocka_unit_test(bucket_oldest_goes),
		cmocka_unit_test(fork_copies),
		cmocka_unit_test(threads),
		cmocka_unit_test(rewrite_never_hides),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
