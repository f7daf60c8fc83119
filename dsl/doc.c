#include "doc.h"

#include <string.h>

sw_doc *sw_doc_new(sw_arena *a, sw_doc_kind kind, sw_loc loc) {
    sw_doc *d = sw_arena_alloc(a, sizeof *d);
    if (!d) return NULL;
    d->kind = kind;
    d->loc = loc;
    return d;
}

sw_doc *sw_doc_scalar(sw_arena *a, sw_loc loc, const char *text, size_t len, sw_doc_style style) {
    sw_doc *d = sw_doc_new(a, SW_DOC_SCALAR, loc);
    if (!d) return NULL;
    d->style = style;
    d->text = sw_arena_strndup(a, text, len);
    return d->text ? d : NULL;
}

/* capacity is implicit: the next power of two >= n (arrays are never shrunk) */
static int grow_ptrs(sw_arena *a, sw_doc ***arr, size_t n) {
    if (n && (n & (n - 1)) == 0) { /* full at a power of two: double */
        sw_doc **p = sw_arena_array(a, n * 2, sizeof *p);
        if (!p) return -1;
        memcpy(p, *arr, n * sizeof *p);
        *arr = p;
    } else if (n == 0) {
        *arr = sw_arena_array(a, 1, sizeof **arr);
        if (!*arr) return -1;
    }
    return 0;
}

int sw_doc_push(sw_arena *a, sw_doc *seq, sw_doc *item) {
    if (grow_ptrs(a, &seq->items, seq->n)) return -1;
    seq->items[seq->n++] = item;
    return 0;
}

/* Maps of more than INDEX_FROM keys are indexed (below that a scan is as fast). */
#define INDEX_FROM 8

static uint64_t hash_key(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h ^ (h >> 29);
}

/* Puts pair i (a scalar key) into the index; the first of equal keys keeps its slot. */
static void index_put(sw_doc *map, size_t i) {
    const sw_doc *k = map->keys[i];
    if (k->kind != SW_DOC_SCALAR) return;
    size_t j = hash_key(k->text) & (map->hcap - 1);
    while (map->hidx[j]) {
        if (!strcmp(map->keys[map->hidx[j] - 1]->text, k->text)) return;
        j = (j + 1) & (map->hcap - 1);
    }
    map->hidx[j] = (uint32_t)i + 1;
}

/* Keeps the index at most half full: rebuilt in the arena at four times the keys. */
static int index_grow(sw_arena *a, sw_doc *map) {
    if (map->n + 1 <= INDEX_FROM || (map->n + 1) * 2 <= map->hcap) return 0;
    if (map->n >= UINT32_MAX / 4) return -1;
    size_t cap = 64;
    while (cap < (map->n + 1) * 4) cap *= 2;
    uint32_t *h = sw_arena_array(a, cap, sizeof *h);
    if (!h) return -1;
    map->hidx = h;
    map->hcap = cap;
    for (size_t i = 0; i < map->n; i++) index_put(map, i);
    return 0;
}

int sw_doc_put(sw_arena *a, sw_doc *map, sw_doc *key, sw_doc *val) {
    if (grow_ptrs(a, &map->keys, map->n) || grow_ptrs(a, &map->vals, map->n) || index_grow(a, map)) return -1;
    map->keys[map->n] = key;
    map->vals[map->n] = val;
    map->n++;
    if (map->hcap) index_put(map, map->n - 1);
    return 0;
}

/* Index of the first pair whose key is `key`, or -1. */
static long find_key(const sw_doc *map, const char *key) {
    if (!map || map->kind != SW_DOC_MAP) return -1;
    if (map->hcap) {
        size_t j = hash_key(key) & (map->hcap - 1);
        while (map->hidx[j]) {
            size_t i = map->hidx[j] - 1;
            if (!strcmp(map->keys[i]->text, key)) return (long)i;
            j = (j + 1) & (map->hcap - 1);
        }
        return -1;
    }
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->kind == SW_DOC_SCALAR && !strcmp(map->keys[i]->text, key)) return (long)i;
    return -1;
}

sw_doc *sw_doc_key(const sw_doc *map, const char *key) {
    long i = find_key(map, key);
    return i < 0 ? NULL : map->keys[i];
}

sw_doc *sw_doc_get(const sw_doc *map, const char *key) {
    long i = find_key(map, key);
    return i < 0 ? NULL : map->vals[i];
}

const char *sw_doc_kind_name(sw_doc_kind k) {
    switch (k) {
    case SW_DOC_SCALAR: return "a scalar";
    case SW_DOC_SEQ: return "a list";
    case SW_DOC_MAP: return "a mapping";
    }
    return "?";
}
