/*
 * u64map.h - uint64 -> uint32 hash map (open addressing, linear probing).
 *
 * Zero-initialise an sw_u64map to get an empty map; sw_u64map_free releases it.  Every
 * key is allowed (keys are stored plus one internally).
 */
#ifndef SW_U64MAP_H
#define SW_U64MAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_u64map {
    uint64_t *keys; /* key + 1; 0 = empty */
    uint32_t *vals;
    size_t cap, n;
} sw_u64map;

/* A 64-bit mixer (the murmur3 finaliser): spreads keys over the table. */
uint64_t sw_mix64(uint64_t x);
/* Inserts or replaces key -> val.  Returns 0, or -1 when out of memory (map unchanged). */
int sw_u64map_put(sw_u64map *m, uint64_t key, uint32_t val);
/* Returns 1 and sets *val when key is present, else 0. */
int sw_u64map_get(const sw_u64map *m, uint64_t key, uint32_t *val);
void sw_u64map_free(sw_u64map *m);

#endif
