/* u64map.c - uint64 -> uint32 hash map (see u64map.h). */
#include "u64map.h"

#include <stdlib.h>

uint64_t sw_mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

int sw_u64map_put(sw_u64map *m, uint64_t key, uint32_t val) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        uint64_t *k = calloc(ncap, sizeof *k);
        uint32_t *v = calloc(ncap, sizeof *v);
        if (!k || !v) {
            free(k);
            free(v);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = sw_mix64(m->keys[i]) & (ncap - 1);
                while (k[j]) j = (j + 1) & (ncap - 1);
                k[j] = m->keys[i];
                v[j] = m->vals[i];
            }
        free(m->keys);
        free(m->vals);
        m->keys = k;
        m->vals = v;
        m->cap = ncap;
    }
    size_t j = sw_mix64(key + 1) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key + 1) j = (j + 1) & (m->cap - 1);
    if (!m->keys[j]) m->n++;
    m->keys[j] = key + 1;
    m->vals[j] = val;
    return 0;
}

int sw_u64map_get(const sw_u64map *m, uint64_t key, uint32_t *val) {
    if (!m->cap) return 0;
    size_t j = sw_mix64(key + 1) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->keys[j] == key + 1) {
            *val = m->vals[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

void sw_u64map_free(sw_u64map *m) {
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}
