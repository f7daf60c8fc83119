/*
 * check.h - whole-input checks that need the pieces: the coverage of every sync
 * (spec rule 13), and the numbers of `shardwave check`'s summary.
 */
#ifndef SW_COVERAGE_H
#define SW_COVERAGE_H

#include "ir.h"

/* A box of a logical tensor, in logical dim order. */
typedef struct sw_box {
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
} sw_box;

/* Every logical tensor that the destination of a sync places and does not skip must be
 * covered by the union of the source layout's pieces: else SW_INPUT at the sync entry,
 * naming the tensor and a missing box. */
int sw_coverage_check(const sw_ir *ir, sw_error *err);

/* 1 when the union of boxes covers [0, shape) entirely; else 0 and *missing is a box
 * that no box covers.  -1 when out of memory. */
int sw_coverage_boxes(const sw_box *boxes, size_t n, int ndim, const int64_t *shape, sw_box *missing);

typedef struct sw_layout_stats {
    int64_t nhosts;
    int64_t min_bytes, max_bytes;  /* local bytes per rank */
    int64_t total_bytes;           /* over all ranks */
    int64_t nlocals;               /* local tensors over all ranks */
} sw_layout_stats;

/* Bytes per rank of a layout, without building every rank's pieces. */
int sw_layout_stats_compute(const sw_layout *L, sw_layout_stats *st, sw_error *err);

#endif
