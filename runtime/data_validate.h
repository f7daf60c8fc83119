/*
 * validate.h - `run --validate`: fill every source element with a value that is a pure
 * function of (logical tensor, logical index), run the plan, check every destination
 * element against the same function (converted through the dtypes it travelled).
 */
#ifndef SW_DATA_VALIDATE_H
#define SW_DATA_VALIDATE_H

#include "plan.h"

/* rank = -1: every rank of the plan (the local backend); else that rank only. */

/* Zeroes every source local of the rank(s) (padding), then fills its pieces. */
int sw_data_fill(const sw_plan *p, int32_t rank, void *const *ptrs, sw_error *err);
/* Fills every destination local of the rank(s) with a poison pattern, so that an
 * element nobody writes cannot pass. */
void sw_data_poison(const sw_plan *p, int32_t rank, void *const *ptrs);
/* Zeroes the padding of every destination local: what --zero-padding does. */
void sw_data_zero_padding(const sw_plan *p, int32_t rank, void *const *ptrs);

typedef struct sw_data_mismatch {
    uint32_t local;                /* plan local */
    int64_t index[SW_MAXDIM];      /* local index */
    uint64_t expected, got;        /* element bits */
} sw_data_mismatch;

#define SW_DATA_REPORT 8

typedef struct sw_data_report {
    uint64_t checked, bad;
    size_t nshown;
    sw_data_mismatch shown[SW_DATA_REPORT]; /* the first mismatches */
} sw_data_report;

/* Checks every element every transfer wrote on the rank(s).  Returns SW_OK (look at
 * rep->bad) or an error that stopped the check. */
int sw_data_check(const sw_plan *p, int32_t rank, void *const *ptrs, sw_data_report *rep, sw_error *err);
/* "rank 17, model.layers.0.mlp.down_proj.weight[3, 1]: expected 0x3f80, got 0x0000" */
void sw_data_describe(const sw_plan *p, const sw_data_mismatch *m, char *buf, size_t cap);

#endif
