/*
 * sort.h - sorting with a context (qsort has none in C11).
 */
#ifndef SW_SORT_H
#define SW_SORT_H

#include <stddef.h>
#include <stdint.h>

/* Compares the records that indices a and b stand for; ctx is passed through. */
typedef int (*sw_idx_cmp)(const void *ctx, uint32_t a, uint32_t b);

/* Stable merge sort of n indices by cmp: moves 4-byte indices instead of wide records.
 * Returns 0, or -1 when out of memory (v unchanged). */
int sw_sort_idx(uint32_t *v, size_t n, sw_idx_cmp cmp, const void *ctx);

#endif
