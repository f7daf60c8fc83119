/*
 * arena.h - bump allocation for IR, and growable arrays.
 *
 * Ownership: everything allocated from an arena lives until sw_arena_free, which frees
 * all of it at once.  An allocation failure returns NULL (never aborts).
 */
#ifndef SW_ARENA_H
#define SW_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_arena_block sw_arena_block;
typedef struct sw_arena_owned sw_arena_owned;
typedef struct sw_arena {
    sw_arena_block *head;
    size_t used, cap;  /* of head */
    size_t total;      /* bytes obtained from malloc, for reports */
    sw_arena_owned *owned; /* malloc'd blocks handed over by sw_arena_adopt */
} sw_arena;

void sw_arena_init(sw_arena *a);
void sw_arena_free(sw_arena *a);
/* size bytes aligned to 16, zeroed; NULL when out of memory or on overflow. */
void *sw_arena_alloc(sw_arena *a, size_t size);
/* n elements of size each, with overflow checks. */
void *sw_arena_array(sw_arena *a, size_t n, size_t size);
char *sw_arena_strdup(sw_arena *a, const char *s);
/* Hands a block from malloc (or realloc) over to the arena, which frees it with the rest:
 * an array built with SW_GROW becomes the arena's without a copy.  Returns 0, or -1 when
 * out of memory (then the block is still the caller's).  NULL is ok (nothing to own). */
int sw_arena_adopt(sw_arena *a, void *block);
char *sw_arena_strndup(sw_arena *a, const char *s, size_t n);

/* Growable array on malloc: grows *ptr (holding *cap elements of esize) so that it can
 * hold need elements.  Returns 0, or -1 when out of memory or on size overflow. */
int sw_grow(void **ptr, size_t *cap, size_t need, size_t esize);
#define SW_GROW(ptr, cap, need) sw_grow((void **)&(ptr), &(cap), (need), sizeof *(ptr))

/* Overflow-checked int64 arithmetic: return 0 on success, -1 on overflow. */
static inline int sw_add64(int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r) ? -1 : 0; }
static inline int sw_sub64(int64_t a, int64_t b, int64_t *r) { return __builtin_sub_overflow(a, b, r) ? -1 : 0; }
static inline int sw_mul64(int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r) ? -1 : 0; }

#endif
