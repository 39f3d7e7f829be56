/*
 * arena: mmap-backed allocation for policies (see arena.h).
 */
#include "arena.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SIZE (64 * 1024)

struct chunk {
	struct chunk *next;
	size_t size, used;
};

struct arena {
	struct chunk *head;
	size_t mapped;
};

static void *map(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static size_t align16(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

struct arena *arena_new(void)
{
	struct chunk *c = map(CHUNK_SIZE);
	if (!c)
		return NULL;
	c->next = NULL;
	c->size = CHUNK_SIZE;
	c->used = align16(sizeof(*c));
	struct arena *a = (struct arena *)((char *)c + c->used);
	c->used += align16(sizeof(*a));
	a->head = c;
	a->mapped = CHUNK_SIZE;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	/* The arena itself lives in its first chunk, which is the list's tail. */
	struct chunk *c = a->head;
	while (c) {
		struct chunk *next = c->next;
		munmap(c, c->size);
		c = next;
	}
}

void *arena_alloc(struct arena *a, size_t size)
{
	size = align16(size ? size : 1);
	struct chunk *c = a->head;
	if (c->size - c->used < size) {
		size_t hdr = align16(sizeof(*c));
		size_t want = size + hdr > CHUNK_SIZE ? size + hdr : CHUNK_SIZE;
		struct chunk *n = map(want);
		if (!n)
			return NULL;
		n->size = want;
		n->used = hdr;
		/* Keep filling the roomier chunk first; big blocks go behind it. */
		if (want > CHUNK_SIZE) {
			n->next = c->next;
			c->next = n;
			c = n;
		} else {
			n->next = c;
			a->head = n;
			c = n;
		}
		a->mapped += want;
	}
	void *p = (char *)c + c->used;
	c->used += size;
	return p; /* fresh anonymous mappings are zeroed and never reused */
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

size_t arena_mapped(const struct arena *a)
{
	return a->mapped;
}

void vec_init(struct vec *v, size_t elem)
{
	v->data = NULL;
	v->len = v->cap = v->bytes = 0;
	v->elem = elem;
}

/*
 * Scratch: the short-lived buffers of a load (each vec's first 8 KiB, a small
 * policy file's text) come from a few static buffers, not from an mmap and a
 * munmap each. A policy's builders are many short vecs, a few per rule; and
 * under a hypervisor, unmapping pages once touched costs tens of
 * microseconds, more than parsing a small policy. Only the pages a load
 * touches ever become resident. A buffer is taken and given back with an
 * atomic bit, so concurrent loads (none in the shim, but a program may link
 * the engine) fall back to mmap rather than share one.
 */
#define SCRATCH_SIZE 8192
#define SCRATCH_BUFS 8

static char scratch[SCRATCH_BUFS][SCRATCH_SIZE] __attribute__((aligned(64)));
static _Atomic unsigned scratch_used;

static bool is_scratch(const void *p)
{
	return (const char *)p >= scratch[0] && (const char *)p < scratch[SCRATCH_BUFS - 1] + SCRATCH_SIZE;
}

void *scratch_get(size_t n)
{
	for (unsigned i = 0; n <= SCRATCH_SIZE && i < SCRATCH_BUFS; i++) {
		unsigned bit = 1u << i;
		if (!(atomic_fetch_or_explicit(&scratch_used, bit, memory_order_acquire) & bit))
			return scratch[i];
	}
	void *p = mmap(NULL, n ? n : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void scratch_put(void *p, size_t n)
{
	if (!p)
		return;
	if (is_scratch(p))
		atomic_fetch_and_explicit(&scratch_used, ~(1u << ((size_t)((char *)p - scratch[0]) / SCRATCH_SIZE)),
					  memory_order_release);
	else
		munmap(p, n ? n : 1);
}

void *vec_push(struct vec *v)
{
	if (v->len == v->cap) {
		void *p;
		size_t nbytes;
		if (v->data && is_scratch(v->data)) { /* out of scratch: a mapping of its own */
			nbytes = v->bytes * 2;
			p = mmap(NULL, nbytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED) {
				memcpy(p, v->data, v->bytes);
				scratch_put(v->data, v->bytes);
			}
		} else if (v->data) {
			nbytes = v->bytes * 2;
			p = mremap(v->data, v->bytes, nbytes, MREMAP_MAYMOVE);
		} else {
			nbytes = v->elem <= SCRATCH_SIZE ? SCRATCH_SIZE : v->elem;
			p = scratch_get(nbytes);
			if (!p)
				p = MAP_FAILED;
		}
		if (p == MAP_FAILED)
			return NULL;
		v->data = p;
		v->bytes = nbytes;
		v->cap = nbytes / v->elem;
	}
	void *e = (char *)v->data + v->len++ * v->elem;
	memset(e, 0, v->elem);
	return e;
}

void vec_free(struct vec *v)
{
	scratch_put(v->data, v->bytes);
	vec_init(v, v->elem);
}

static void swap_bytes(char *a, char *b, size_t n)
{
	unsigned char t[64];
	while (n) {
		size_t k = n < sizeof(t) ? n : sizeof(t);
		memcpy(t, a, k);
		memcpy(a, b, k);
		memcpy(b, t, k);
		a += k;
		b += k;
		n -= k;
	}
}

/* The element at root moves down to its place: the larger child moves up
 * into the hole each step, and the element is written once at the end (a
 * swap a level costs three copies, this one). An index's cut points are
 * hundreds of thousands of elements: this is most of a large load. */
#define SIFT_HOLD 512
static void sift_down(char *base, size_t root, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char hold[SIFT_HOLD];
	if (size > sizeof(hold)) {
		for (;;) {
			size_t child = 2 * root + 1;
			if (child >= n)
				return;
			if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
				child++;
			if (cmp(base + root * size, base + child * size) >= 0)
				return;
			swap_bytes(base + root * size, base + child * size, size);
			root = child;
		}
	}
	memcpy(hold, base + root * size, size);
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			break;
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(hold, base + child * size) >= 0)
			break;
		memcpy(base + root * size, base + child * size, size);
		root = child;
	}
	memcpy(base + root * size, hold, size);
}

void sort_elems(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *b = base;
	if (n < 2)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}
