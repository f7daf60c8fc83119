#include "strmap.h"

#include <stdlib.h>
#include <string.h>

uint64_t sw_hash_str(const char *s) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

void sw_strmap_free(sw_strmap *m) {
    if (!m) return;
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static int rehash(sw_strmap *m, size_t cap) {
    const char **keys = calloc(cap, sizeof *keys);
    uint32_t *vals = calloc(cap, sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = sw_hash_str(m->keys[i]) & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int sw_strmap_put(sw_strmap *m, const char *key, uint32_t val, uint32_t *old_val) {
    if ((m->n + 1) * 2 > m->cap && rehash(m, m->cap ? m->cap * 2 : 64)) return -1;
    size_t j = sw_hash_str(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (!strcmp(m->keys[j], key)) {
            if (old_val) *old_val = m->vals[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
    return 0;
}

int sw_strmap_get(const sw_strmap *m, const char *key, uint32_t *val) {
    if (!m->cap) return 0;
    size_t j = sw_hash_str(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (!strcmp(m->keys[j], key)) {
            *val = m->vals[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

int sw_strmap_set(sw_strmap *m, const char *key, uint32_t val) {
    uint32_t old;
    int r = sw_strmap_put(m, key, val, &old);
    if (r != 1) return r < 0 ? -1 : 0;
    size_t j = sw_hash_str(key) & (m->cap - 1);
    while (strcmp(m->keys[j], key)) j = (j + 1) & (m->cap - 1);
    m->vals[j] = val;
    return 0;
}
