/*
 * arena: memory for a loaded policy, taken straight from mmap.
 *
 * A policy may be loaded lazily from the first hooked call, which can come
 * from another library's constructor, an allocator's start-up or a signal
 * handler, so loading must not call malloc. Everything a policy owns lives
 * in its arena and is released at once by arena_free(). The vec helpers grow
 * a scratch array (static buffers first, then mremap) for the same reason.
 */
#ifndef SOCKSHIM_ARENA_H
#define SOCKSHIM_ARENA_H

#include <stddef.h>

struct arena;

/* NULL when mmap fails. */
struct arena *arena_new(void);
void arena_free(struct arena *a);
/* Zeroed memory aligned to 16 bytes, or NULL. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Bytes the arena has mapped, for memory accounting. */
size_t arena_mapped(const struct arena *a);

/* A growable array backed by its own mapping. */
struct vec {
	void *data;
	size_t len, cap, elem;
	size_t bytes; /* the mapping's length */
};
void vec_init(struct vec *v, size_t elem);
/* Pointer to a new zeroed element at the end, or NULL when out of memory. */
void *vec_push(struct vec *v);
void vec_free(struct vec *v);
/* A short-lived buffer of n bytes (NULL when out of memory): a static one
 * when one is free and n is small, else a mapping. Give it back with
 * scratch_put(p, n). */
void *scratch_get(size_t n);
void scratch_put(void *p, size_t n);

/* In-place heapsort: no allocation, no recursion, O(n log n). */
void sort_elems(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));

#endif
