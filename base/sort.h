/*
 * sort.h - sorting with a context (qsort has none in C11).
 */
#ifndef SW_SORT_H
#define SW_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Compares the records that indices a and b stand for; ctx is passed through. */
typedef int (*sw_idx_cmp)(const void *ctx, uint32_t a, uint32_t b);

/* Stable merge sort of n indices by cmp: moves 4-byte indices instead of wide records.
 * Returns 0, or -1 when out of memory (v unchanged). */
int sw_sort_idx(uint32_t *v, size_t n, sw_idx_cmp cmp, const void *ctx);

/* SW_SORT_DEFINE(name, T, before) defines `static int name(T *v, size_t n)`: a stable merge
 * sort of n records of type T, where before(const T *a, const T *b) (an inline function or
 * a macro) is true when a sorts strictly before b.  The comparison is inlined, and runs
 * of 16 are sorted in place first: several times faster than qsort, which calls its
 * comparison through a pointer.  Equal records keep their order, as with glibc's qsort
 * (a merge sort too), so replacing one by the other keeps every output the same.
 * Returns 0, or -1 when out of memory (v unchanged then). */
#define SW_SORT_DEFINE(name, T, before)                                                                              \
    static int name(T *v, size_t n) {                                                                                \
        enum { RUN = 16 };                                                                                           \
        for (size_t lo = 0; lo < n; lo += RUN) {                                                                     \
            size_t hi = lo + RUN < n ? lo + RUN : n;                                                                 \
            for (size_t i = lo + 1; i < hi; i++) {                                                                   \
                T x = v[i];                                                                                          \
                size_t j = i;                                                                                        \
                for (; j > lo && before(&x, &v[j - 1]); j--) v[j] = v[j - 1];                                        \
                v[j] = x;                                                                                            \
            }                                                                                                        \
        }                                                                                                            \
        if (n <= RUN) return 0;                                                                                      \
        T *tmp = malloc(n * sizeof *tmp), *a = v, *b = tmp;                                                          \
        if (!tmp) return -1;                                                                                         \
        for (size_t w = RUN; w < n; w *= 2) {                                                                        \
            for (size_t lo = 0; lo < n; lo += 2 * w) {                                                               \
                size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, j = mid, k = lo; \
                while (i < mid && j < hi) b[k++] = before(&a[j], &a[i]) ? a[j++] : a[i++];                           \
                while (i < mid) b[k++] = a[i++];                                                                     \
                while (j < hi) b[k++] = a[j++];                                                                      \
            }                                                                                                        \
            T *t = a;                                                                                                \
            a = b;                                                                                                   \
            b = t;                                                                                                   \
        }                                                                                                            \
        if (a != v) memcpy(v, a, n * sizeof *v);                                                                     \
        free(tmp);                                                                                                   \
        return 0;                                                                                                    \
    }

#endif
