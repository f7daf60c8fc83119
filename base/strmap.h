/*
 * strmap.h - string -> uint32 hash map (open addressing).  Keys are not copied: they
 * must outlive the map (arena strings).
 */
#ifndef SW_STRMAP_H
#define SW_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_strmap {
    const char **keys;
    uint32_t *vals;
    size_t cap, n;
} sw_strmap;

uint64_t sw_hash_str(const char *s);
void sw_strmap_free(sw_strmap *m);
/* Inserts key -> val.  Returns 0, 1 when the key was present (*old_val set, not
 * replaced), or -1 when out of memory. */
int sw_strmap_put(sw_strmap *m, const char *key, uint32_t val, uint32_t *old_val);
/* Inserts key -> val, replacing the value when the key is present.  0, or -1 when out of
 * memory. */
int sw_strmap_set(sw_strmap *m, const char *key, uint32_t val);
/* Returns 1 and sets *val when found. */
int sw_strmap_get(const sw_strmap *m, const char *key, uint32_t *val);

#endif
