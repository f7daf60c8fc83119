/*
 * segdesc.h - one segment of a wave as a self-contained descriptor: what a pack, unpack
 * or copy kernel needs to move it, with no pointer into the plan.
 *
 * A descriptor moves elements elem0 .. elem0 + nelem - 1 of a transfer's box from side 0
 * (the source) to side 1 (the destination), converting dtype[0] -> dtype[1].  A side is
 * either a plan local (local[k] = its index; element e of the box sits at
 * sw_box_offset(geo, side[k], e) of that local) or the staging buffer of the wave
 * (local[k] = SW_SEG_STAGING; element elem0 + i sits at byte buf_off + i * size).
 *   pack:   local -> staging (dtype[1] = dtype[0], staged in the source dtype)
 *   unpack: staging -> local (converting)
 *   copy:   local -> local (converting; a same-process transfer)
 *
 * sw_exec_wave_descs (exec.h) builds them from the executor's waves; the CPU runs them
 * with sw_seg_run_host, the nccl backend's kernels with the same SW_HD functions below,
 * so the CPU tests cover the index math the GPU uses.
 */
#ifndef SW_SEGDESC_H
#define SW_SEGDESC_H

#include <stddef.h>
#include <stdint.h>

#include "boxmath.h"
#include "convert.h"

#define SW_SEG_STAGING UINT32_MAX

enum {
    SW_SEG_BYTECOPY = 1, /* same dtype, both sides linear: a plain byte copy */
    SW_SEG_ROWCOPY = 2,  /* same dtype, unit inner stride on both sides, long rows: byte
                          * copies row by row (a column shard of a row-major tensor) */
};

/* Rows shorter than this are moved element by element. */
#define SW_SEG_MIN_ROW 32

typedef struct sw_seg_desc {
    sw_box_geom geo;
    sw_box_side side[2]; /* 0 source, 1 destination (unused for a staging side) */
    uint64_t elem0, nelem;
    uint64_t buf_off;    /* staging byte offset of element elem0 */
    uint32_t local[2];   /* plan locals, or SW_SEG_STAGING */
    int32_t dtype[2];    /* sw_dtype of each side */
    int32_t flags;       /* SW_SEG_* */
    int32_t pad_;
} sw_seg_desc;

/* 1 when elements elem0 .. elem0 + nelem - 1 lie at consecutive element offsets on side
 * k (a staging side always does). */
SW_HD static inline int sw_seg_side_linear(const sw_seg_desc *d, int k) {
    if (d->local[k] == SW_SEG_STAGING || d->nelem <= 1) return 1;
    const sw_box_geom *g = &d->geo;
    const sw_box_side *s = &d->side[k];
    if (g->ndim == 0) return 1;
    /* inside one row with unit stride */
    if (s->lstride[g->ndim - 1] == 1 && sw_box_row(g, d->elem0, d->nelem) == d->nelem) return 1;
    /* the whole box is row-major compact on this side */
    int64_t want = 1;
    for (int j = g->ndim - 1; j >= 0; j--) {
        if (g->size[j] > 1 && s->lstride[j] != want) return 0;
        want *= g->size[j];
    }
    return 1;
}

/* 1 when side k keeps the innermost box dim at unit stride (staging always does). */
SW_HD static inline int sw_seg_side_unit_rows(const sw_seg_desc *d, int k) {
    if (d->local[k] == SW_SEG_STAGING) return 1;
    return d->geo.ndim > 0 && d->side[k].lstride[d->geo.ndim - 1] == 1;
}

/* Elements i, i+1, ... (of at most left) that stay in one row of the box. */
SW_HD static inline uint64_t sw_seg_row(const sw_seg_desc *d, uint64_t i, uint64_t left) {
    return sw_box_row(&d->geo, d->elem0 + i, left);
}

/* Address of element elem0 + i on side k. */
SW_HD static inline uint8_t *sw_seg_addr(const sw_seg_desc *d, int k, uint64_t i, void *const *ptrs,
                                         uint8_t *staging) {
    uint64_t es = (uint64_t)sw__dt_bytes((sw_dtype)d->dtype[k]);
    if (d->local[k] == SW_SEG_STAGING) return staging + d->buf_off + i * es;
    return (uint8_t *)ptrs[d->local[k]] + (uint64_t)sw_box_offset(&d->geo, &d->side[k], d->elem0 + i) * es;
}

/* Moves element elem0 + i; returns 0, -1 for an unsupported conversion. */
SW_HD static inline int sw_seg_move_elem(const sw_seg_desc *d, uint64_t i, void *const *ptrs, uint8_t *staging) {
    return sw_convert_elem(sw_seg_addr(d, 1, i, ptrs, staging), (sw_dtype)d->dtype[1], sw_seg_addr(d, 0, i, ptrs, staging),
                           (sw_dtype)d->dtype[0]);
}

/* Bytes of the segment on side k. */
SW_HD static inline uint64_t sw_seg_bytes(const sw_seg_desc *d, int k) {
    return d->nelem * (uint64_t)sw__dt_bytes((sw_dtype)d->dtype[k]);
}

#endif
