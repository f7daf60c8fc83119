#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct sw_arena_block {
    sw_arena_block *next;
    size_t cap;
    _Alignas(16) unsigned char data[];
};

struct sw_arena_owned {
    sw_arena_owned *next;
    void *block;
};

enum { SW_ARENA_BLOCK = 64 * 1024 };

void sw_arena_init(sw_arena *a) { memset(a, 0, sizeof *a); }

void sw_arena_free(sw_arena *a) {
    if (!a) return;
    for (sw_arena_owned *o = a->owned; o; o = o->next) free(o->block); /* the records live in blocks */
    sw_arena_block *b = a->head;
    while (b) {
        sw_arena_block *n = b->next;
        free(b);
        b = n;
    }
    memset(a, 0, sizeof *a);
}

void *sw_arena_alloc(sw_arena *a, size_t size) {
    size_t need = (size + 15) & ~(size_t)15;
    if (need < size) return NULL;
    if (!a->head || a->cap - a->used < need) {
        size_t cap = need > SW_ARENA_BLOCK / 2 ? need : SW_ARENA_BLOCK;
        if (cap > SIZE_MAX - sizeof(sw_arena_block)) return NULL;
        int big = a->head && cap != SW_ARENA_BLOCK;
        /* a big block comes zeroed from calloc (fresh pages from the OS need no memset) */
        sw_arena_block *b = big ? calloc(1, sizeof *b + cap) : malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->cap = cap;
        a->total += cap;
        if (big) {
            /* a big one-off block: keep the current head for small allocations */
            b->next = a->head->next;
            a->head->next = b;
            return b->data;
        }
        b->next = a->head;
        a->head = b;
        a->cap = cap;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += need;
    memset(p, 0, need);
    return p;
}

void *sw_arena_array(sw_arena *a, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    return sw_arena_alloc(a, (n * size) != 0 ? n * size : 1);
}

int sw_arena_adopt(sw_arena *a, void *block) {
    if (!block) return 0;
    sw_arena_owned *o = sw_arena_alloc(a, sizeof *o);
    if (!o) return -1;
    o->block = block;
    o->next = a->owned;
    a->owned = o;
    return 0;
}

char *sw_arena_strndup(sw_arena *a, const char *s, size_t n) {
    char *p = sw_arena_alloc(a, n + 1);
    if (!p) return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *sw_arena_strdup(sw_arena *a, const char *s) { return sw_arena_strndup(a, s, strlen(s)); }

int sw_grow(void **ptr, size_t *cap, size_t need, size_t esize) {
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return -1;
        ncap *= 2;
    }
    if (esize && ncap > SIZE_MAX / esize) return -1;
    void *p = realloc(*ptr, ncap * esize);
    if (!p) return -1;
    *ptr = p;
    *cap = ncap;
    return 0;
}
