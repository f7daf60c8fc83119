/*
 * convert.c - host bulk conversion and validation fill/check (see convert.h).
 *
 * The hot pairs (same type, bf16 <-> fp32, bf16 <-> fp16, fp16 <-> fp32, integer
 * widenings) have their own loops without calls or data-dependent control flow beyond
 * selects, so the compiler can vectorise them; everything else goes element by element
 * through sw_convert_bits.  All paths give the same bits as sw_convert_bits.
 */
#include <string.h>

#include "convert.h"
#include "diag.h"

static int valid_dtype(sw_dtype t) { return (unsigned)t < (unsigned)SW_DT_COUNT; }

/* The loop over n elements for one (from, to) pair, with typed pointers. */
#define SW__LOOP(DT, ST, EXPR)                                                       \
    do {                                                                             \
        DT *restrict d_ = (DT *)dst;                                                 \
        const ST *restrict s_ = (const ST *)src;                                     \
        for (size_t i_ = 0; i_ < n; i_++) {                                          \
            ST x = s_[i_];                                                           \
            d_[i_] = (DT)(EXPR);                                                     \
        }                                                                            \
    } while (0)

#define SW__PAIR(a, b) ((int)(a) * (int)SW_DT_COUNT + (int)(b))

int sw_convert(void *dst, sw_dtype dt, const void *src, sw_dtype st, size_t n, sw_error *err) {
    if (!valid_dtype(dt) || !valid_dtype(st))
        return sw__err(err, SW_USAGE, "sw_convert: invalid dtype (%d -> %d)", (int)st, (int)dt);
    if (!sw_convert_supported(st, dt))
        return sw__err(err, SW_UNSUPPORTED, "conversion from %s to %s is not supported",
                       sw_dtype_name(st), sw_dtype_name(dt));
    if (n == 0) return SW_OK;
    if (!dst || !src) return sw__err(err, SW_USAGE, "sw_convert: NULL buffer");
    if (dt == st) {
        memcpy(dst, src, n * (size_t)sw__dt_bytes(st));
        return SW_OK;
    }
    switch (SW__PAIR(st, dt)) {
    case SW__PAIR(SW_DT_BF16, SW_DT_FP32):
        SW__LOOP(uint32_t, uint16_t, (x & 0x7FFFu) > 0x7F80u ? SW_NAN_FP32 : (uint32_t)x << 16);
        break;
    case SW__PAIR(SW_DT_FP32, SW_DT_BF16):
        SW__LOOP(uint16_t, uint32_t,
                 (x & 0x7FFFFFFFu) > 0x7F800000u ? SW_NAN_BF16
                                                 : (x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
        break;
    case SW__PAIR(SW_DT_BF16, SW_DT_FP16):
        SW__LOOP(uint16_t, uint16_t, sw_f32_bits_to_fp16(sw_bf16_to_f32_bits(x)));
        break;
    case SW__PAIR(SW_DT_FP16, SW_DT_BF16):
        SW__LOOP(uint16_t, uint16_t, sw_f32_bits_to_bf16(sw_fp16_to_f32_bits(x)));
        break;
    case SW__PAIR(SW_DT_FP16, SW_DT_FP32):
        SW__LOOP(uint32_t, uint16_t, sw_fp16_to_f32_bits(x));
        break;
    case SW__PAIR(SW_DT_FP32, SW_DT_FP16):
        SW__LOOP(uint16_t, uint32_t, sw_f32_bits_to_fp16(x));
        break;
    case SW__PAIR(SW_DT_INT8, SW_DT_INT32): SW__LOOP(int32_t, int8_t, x); break;
    case SW__PAIR(SW_DT_INT8, SW_DT_INT64): SW__LOOP(int64_t, int8_t, x); break;
    case SW__PAIR(SW_DT_UINT8, SW_DT_INT32): SW__LOOP(int32_t, uint8_t, x); break;
    case SW__PAIR(SW_DT_UINT8, SW_DT_INT64): SW__LOOP(int64_t, uint8_t, x); break;
    case SW__PAIR(SW_DT_INT32, SW_DT_INT64): SW__LOOP(int64_t, int32_t, x); break;
    default: {
        size_t ds = (size_t)sw__dt_bytes(dt), ss = (size_t)sw__dt_bytes(st);
        char *d = (char *)dst;
        const char *s = (const char *)src;
        for (size_t i = 0; i < n; i++)
            sw__store_bits(dt, d + i * ds, sw_convert_bits(st, dt, sw__load_bits(st, s + i * ss)));
        break;
    }
    }
    return SW_OK;
}

uint64_t sw_val_key(const char *name) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    if (name)
        for (const unsigned char *p = (const unsigned char *)name; *p; p++)
            h = (h ^ *p) * UINT64_C(0x100000001b3);
    return h;
}

/* The fill loop for one element width. */
#define SW__FILL(T)                                                                  \
    do {                                                                             \
        T *d_ = (T *)dst;                                                            \
        for (size_t i_ = 0; i_ < n; i_++) d_[i_] = (T)sw_val_hash(key, first_index + i_); \
    } while (0)

void sw_val_fill(void *dst, sw_dtype t, uint64_t key, uint64_t first_index, size_t n) {
    if (!dst) return;
    switch (sw__dt_bytes(t)) {
    case 1: SW__FILL(uint8_t); break;
    case 2: SW__FILL(uint16_t); break;
    case 4: SW__FILL(uint32_t); break;
    case 8: SW__FILL(uint64_t); break;
    default: break;
    }
}

/* The check loop for one received element type T and per-element expectation EXPR(h). */
#define SW__CHECK(T, EXPR)                                                           \
    do {                                                                             \
        const T *g_ = (const T *)got;                                                \
        for (size_t i_ = 0; i_ < n; i_++) {                                          \
            uint64_t h = sw_val_hash(key, first_index + i_);                         \
            if ((uint64_t)g_[i_] != (uint64_t)(T)(EXPR)) {                           \
                if (!bad) fb = i_;                                                   \
                bad++;                                                               \
            }                                                                        \
        }                                                                            \
    } while (0)

size_t sw_val_check(const void *got, sw_dtype got_t, sw_dtype src_t, uint64_t key,
                    uint64_t first_index, size_t n, size_t *first_bad) {
    size_t bad = 0, fb = n;
    if (!valid_dtype(got_t) || !valid_dtype(src_t) || !sw_convert_supported(src_t, got_t) ||
        (!got && n > 0)) {
        if (first_bad) *first_bad = 0;
        return n;
    }
    if (got_t == src_t) {
        switch (sw__dt_bytes(got_t)) {
        case 1: SW__CHECK(uint8_t, h); break;
        case 2: SW__CHECK(uint16_t, h); break;
        case 4: SW__CHECK(uint32_t, h); break;
        default: SW__CHECK(uint64_t, h); break;
        }
    } else if (src_t == SW_DT_BF16 && got_t == SW_DT_FP32) {
        SW__CHECK(uint32_t, sw_bf16_to_f32_bits((uint16_t)h));
    } else if (src_t == SW_DT_FP32 && got_t == SW_DT_BF16) {
        SW__CHECK(uint16_t, sw_f32_bits_to_bf16((uint32_t)h));
    } else {
        switch (sw__dt_bytes(got_t)) {
        case 1: SW__CHECK(uint8_t, sw_convert_bits(src_t, got_t, h)); break;
        case 2: SW__CHECK(uint16_t, sw_convert_bits(src_t, got_t, h)); break;
        case 4: SW__CHECK(uint32_t, sw_convert_bits(src_t, got_t, h)); break;
        default: SW__CHECK(uint64_t, sw_convert_bits(src_t, got_t, h)); break;
        }
    }
    if (first_bad) *first_bad = bad ? fb : n;
    return bad;
}
