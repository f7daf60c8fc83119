/*
 * plan_int.h - private to plan/: the on-disk constants and little-endian helpers that
 * the plan writer and reader share (the byte layout is docs/plan-format.md).
 */
#ifndef SW_PLAN_INT_H
#define SW_PLAN_INT_H

#include <stdint.h>

#define MAX_STR (1u << 20)
/* smallest encodings of one record in a section: bound hostile counts by the bytes
 * that must hold them */
#define MIN_LOCAL 5u  /* name prefix and length, role, dtype, ndim, npieces */
#define MIN_PIECE 1u
#define MIN_STUB 3u   /* index delta, rank delta, role and dtype */
#define MIN_XFER 6u   /* index delta, tensor, two ranks, two sides */
#define MIN_TASK 10u
#define MIN_SEG 3u
#define MIN_DEP 1u
#define MIN_TENSOR 5u /* in the header: name prefix and length, dtype, flags, ndim */
#define DIR_ENTRY 40u /* rank, nlocals, npieces, 0, offset, length, checksum */

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
