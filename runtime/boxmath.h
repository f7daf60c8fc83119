/*
 * boxmath.h - where the elements of a transfer live in memory: the index math that
 * pack, unpack, copy and validation share, on the host and in CUDA kernels.
 *
 * A transfer's box has its elements numbered 0 .. nelem-1 in row-major order of the
 * logical dims (plan.h).  Through a side (local tensor, map, base) element y of the box
 * sits at linear element offset
 *     off(y) = off0 + sum_k y[k] * lstride[k]
 * of the local tensor, where lstride[k] is the row-major stride of the local dim that
 * holds logical dim k and off0 the offset of the box's first element.
 *
 * Only static inline functions without library calls: usable from host C and device
 * code (SW_HD).
 */
#ifndef SW_BOXMATH_H
#define SW_BOXMATH_H

#include <stdint.h>

#ifndef SW_HD
#ifdef __CUDACC__
#define SW_HD __host__ __device__
#else
#define SW_HD
#endif
#endif

#define SW_BOX_MAXDIM 8

/* One side of a transfer, resolved to strides. */
typedef struct sw_box_side {
    int64_t off0;                    /* element offset of the box's first element */
    int64_t lstride[SW_BOX_MAXDIM];  /* per logical dim of the box */
} sw_box_side;

/* A box: its logical dims and sizes, with the innermost dims that are contiguous on both
 * sides folded into runs. */
typedef struct sw_box_geom {
    int ndim;
    int64_t size[SW_BOX_MAXDIM];
} sw_box_geom;

/* Resolves a side: map/base as in plan.h (local dim j holds logical dim map[j], or a
 * fixed index base[j] when map[j] < 0), the local tensor's shape, the box start. */
SW_HD static inline void sw_box_side_init(sw_box_side *s, int local_ndim, const int64_t *local_shape,
                                          const int8_t *map, const int64_t *base, int box_ndim,
                                          const int64_t *box_start) {
    int64_t stride = 1;
    for (int k = 0; k < SW_BOX_MAXDIM; k++) s->lstride[k] = 0;
    s->off0 = 0;
    for (int j = local_ndim - 1; j >= 0; j--) {
        int64_t idx = base[j];
        if (map[j] >= 0 && map[j] < box_ndim) {
            s->lstride[map[j]] = stride;
            idx += box_start[map[j]];
        }
        s->off0 += idx * stride;
        stride *= local_shape[j];
    }
}

/* Offset of element e (row-major in the box) through side s. */
SW_HD static inline int64_t sw_box_offset(const sw_box_geom *g, const sw_box_side *s, uint64_t e) {
    int64_t off = s->off0;
    for (int k = g->ndim - 1; k >= 0; k--) {
        uint64_t sz = (uint64_t)g->size[k];
        uint64_t y = sz ? e % sz : 0;
        e = sz ? e / sz : 0;
        off += (int64_t)y * s->lstride[k];
    }
    return off;
}

/* Elements e, e+1, ... that stay in the innermost box dim (a row), capped at left: the
 * caller copies them with the sides' lstride[ndim-1] as strides. */
SW_HD static inline uint64_t sw_box_row(const sw_box_geom *g, uint64_t e, uint64_t left) {
    if (g->ndim == 0) return left < 1 ? left : 1;
    uint64_t sz = (uint64_t)g->size[g->ndim - 1];
    uint64_t in_row = sz - e % sz;
    return in_row < left ? in_row : left;
}

/* Stride of the innermost box dim through side s (0 for a 0-dim box). */
SW_HD static inline int64_t sw_box_inner_stride(const sw_box_geom *g, const sw_box_side *s) {
    return g->ndim ? s->lstride[g->ndim - 1] : 0;
}

#endif
