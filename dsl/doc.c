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

int sw_doc_put(sw_arena *a, sw_doc *map, sw_doc *key, sw_doc *val) {
    if (grow_ptrs(a, &map->keys, map->n) || grow_ptrs(a, &map->vals, map->n)) return -1;
    map->keys[map->n] = key;
    map->vals[map->n] = val;
    map->n++;
    return 0;
}

sw_doc *sw_doc_key(const sw_doc *map, const char *key) {
    if (!map || map->kind != SW_DOC_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->kind == SW_DOC_SCALAR && !strcmp(map->keys[i]->text, key)) return map->keys[i];
    return NULL;
}

sw_doc *sw_doc_get(const sw_doc *map, const char *key) {
    if (!map || map->kind != SW_DOC_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->keys[i]->kind == SW_DOC_SCALAR && !strcmp(map->keys[i]->text, key)) return map->vals[i];
    return NULL;
}

const char *sw_doc_kind_name(sw_doc_kind k) {
    switch (k) {
    case SW_DOC_SCALAR: return "a scalar";
    case SW_DOC_SEQ: return "a list";
    case SW_DOC_MAP: return "a mapping";
    }
    return "?";
}
