/*
 * plan_int.h - private to plan/: the on-disk constants and little-endian helpers that
 * the plan writer and reader share (the byte layout is docs/plan-format.md).
 */
#ifndef SW_PLAN_INT_H
#define SW_PLAN_INT_H

#include <stdint.h>

#define MAX_STR (1u << 20)
/* smallest encodings of one record: bound hostile counts by the file size */
#define MIN_XFER 32u  /* gidx, tensor, nelem, ranks, two sides */
#define MIN_TASK 42u
#define MIN_SEG 20u
#define MIN_DEP 4u
#define DIR_ENTRY 32u

static inline void sw__put_u64_at(uint8_t *d, uint64_t v) {
    for (int i = 0; i < 8; i++) d[i] = (uint8_t)(v >> (8 * i));
}
static inline uint64_t sw__get_u64_at(const uint8_t *d) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | d[i];
    return v;
}
static inline uint32_t sw__get_u32_at(const uint8_t *d) {
    return (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
}

#endif
