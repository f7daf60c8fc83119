/*
 * convert.c - host bulk conversion and validation fill/check (see convert.h).
 *
 * The hot pairs (same type, bf16 <-> fp32, bf16 <-> fp16, fp16 <-> fp32, integer
 * widenings) have their own loops without calls or data-dependent control flow beyond
 * selects, so the compiler can vectorise them; everything else goes element by element
 * through sw_convert_bits.  All paths give the same bits as sw_convert_bits.
 */
#include <fenv.h>
#include <string.h>

#include "convert.h"
#include "diag.h"

static int valid_dtype(sw_dtype t) { return (unsigned)t < (unsigned)SW_DT_COUNT; }

/*
 * Branch-free (selects only, so vectorisable) fp32 <-> fp16 for the host loops, bit for
 * bit equal to sw_f32_bits_to_fp16 / sw_fp16_to_f32_bits (the tests compare them on every
 * 16-bit pattern and on random fp32).  The subnormal cases use one fp32 addition, exact
 * or rounded to nearest even in the default rounding mode; sw_convert only takes these
 * paths when fegetround() == FE_TONEAREST.  DAZ/FTZ do not matter: the only subnormal
 * operand is an fp32 subnormal input, whose correct fp16 result is 0 anyway, and no
 * result is subnormal.
 */
/* c ? a : b without a branch */
static inline uint32_t sel(int c, uint32_t a, uint32_t b) {
    uint32_t m = (uint32_t)0 - (uint32_t)c;
    return (a & m) | (b & ~m);
}

static inline uint16_t f32_to_fp16_fast(uint32_t u) {
    uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7FFFFFFFu;
    /* normal range: rebias the exponent (127 -> 15) and round off 13 bits to even */
    uint32_t nrm = (a - (112u << 23) + 0xFFFu + ((a >> 13) & 1u)) >> 13;
    /* |x| < 2^-14: in |x| + 0.5 the fp32 ulp is 2^-24, the fp16 subnormal quantum, so
     * the addition rounds |x| to a subnormal code (RNE), left in the low bits */
    uint32_t sub = sw_f32_as_bits(sw_bits_as_f32(a) + 0.5f) - 0x3F000000u;
    uint32_t r = sel(a < 0x38800000u, sub, nrm);
    r = sel(a >= 0x477FF000u, 0x7C00u, r); /* >= 65520 (the tie above 65504) and Inf */
    return (uint16_t)sel(a > 0x7F800000u, SW_NAN_FP16, r | sign);
}

static inline uint32_t fp16_to_f32_fast(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, a = h & 0x7FFFu;
    uint32_t nrm = (a << 13) + (112u << 23);
    /* subnormal a * 2^-24: (0.5 + a * 2^-24) - 0.5, both steps exact */
    uint32_t sub = sw_f32_as_bits(sw_bits_as_f32(0x3F000000u + a) - 0.5f);
    uint32_t r = sel(a < 0x0400u, sub, nrm);
    r = sel(a >= 0x7C00u, 0x7F800000u, r);
    return sel(a > 0x7C00u, SW_NAN_FP32, r | sign);
}

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
    int fast_fp16 = fegetround() == FE_TONEAREST;
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
        /* a bf16 NaN shifted is an fp32 NaN, so no canonicalisation is needed first */
        if (fast_fp16) SW__LOOP(uint16_t, uint16_t, f32_to_fp16_fast((uint32_t)x << 16));
        else SW__LOOP(uint16_t, uint16_t, sw_f32_bits_to_fp16(sw_bf16_to_f32_bits(x)));
        break;
    case SW__PAIR(SW_DT_FP16, SW_DT_BF16):
        if (fast_fp16) SW__LOOP(uint16_t, uint16_t, sw_f32_bits_to_bf16(fp16_to_f32_fast(x)));
        else SW__LOOP(uint16_t, uint16_t, sw_f32_bits_to_bf16(sw_fp16_to_f32_bits(x)));
        break;
    case SW__PAIR(SW_DT_FP16, SW_DT_FP32):
        if (fast_fp16) SW__LOOP(uint32_t, uint16_t, fp16_to_f32_fast(x));
        else SW__LOOP(uint32_t, uint16_t, sw_fp16_to_f32_bits(x));
        break;
    case SW__PAIR(SW_DT_FP32, SW_DT_FP16):
        if (fast_fp16) SW__LOOP(uint16_t, uint32_t, f32_to_fp16_fast(x));
        else SW__LOOP(uint16_t, uint32_t, sw_f32_bits_to_fp16(x));
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

/*
 * Checks in chunks: fill the source values, convert them with sw_convert (the same bits
 * as sw_convert_bits, through the fast loops), memcmp, and only on a difference compare
 * element by element.
 */
size_t sw_val_check(const void *got, sw_dtype got_t, sw_dtype src_t, uint64_t key,
                    uint64_t first_index, size_t n, size_t *first_bad) {
    enum { CHUNK = 512 };
    uint64_t srcbuf[CHUNK], expbuf[CHUNK]; /* 8 bytes per element at most */
    size_t bad = 0, fb = n;
    if (!valid_dtype(got_t) || !valid_dtype(src_t) || !sw_convert_supported(src_t, got_t) ||
        (!got && n > 0)) {
        if (first_bad) *first_bad = 0;
        return n;
    }
    size_t gs = (size_t)sw__dt_bytes(got_t);
    const char *g = (const char *)got;
    for (size_t off = 0; off < n; off += CHUNK) {
        size_t m = n - off < CHUNK ? n - off : CHUNK;
        const char *want = (const char *)srcbuf;
        sw_val_fill(srcbuf, src_t, key, first_index + off, m);
        if (src_t != got_t) {
            (void)sw_convert(expbuf, got_t, srcbuf, src_t, m, NULL); /* supported: cannot fail */
            want = (const char *)expbuf;
        }
        if (!memcmp(want, g + off * gs, m * gs)) continue;
        for (size_t i = 0; i < m; i++)
            if (sw__load_bits(got_t, want + i * gs) != sw__load_bits(got_t, g + (off + i) * gs)) {
                if (!bad) fb = off + i;
                bad++;
            }
    }
    if (first_bad) *first_bad = bad ? fb : n;
    return bad;
}
