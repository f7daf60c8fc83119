/*
 * convert.h - element conversion between dtypes, and the validation fill (spec §7).
 *
 * Everything marked SW_HD is a `static inline` function usable from host C and from
 * CUDA device code: bit manipulation only, no libc, no <math.h>, no tables, no global
 * state.  The host-only bulk functions are at the end (convert.c).
 *
 * Semantics (the same on host and device, bit for bit):
 *
 *  - Float -> float conversions are exact when the target can hold the value, else
 *    round to nearest, ties to even (one rounding: conversions from fp64 round directly,
 *    never through fp32).
 *  - bf16, fp16, fp32, fp64 are IEEE-like: finite overflow and Inf give Inf; subnormals
 *    are kept (never flushed), in the input and in the output.
 *  - fp8_e4m3 (OCP FP8 E4M3: bias 7, max 448, no Inf, NaN = S.1111.111) and fp8_e5m2
 *    (bias 15, max 57344, Inf = S.11111.00) are written in SATURATING mode, as NVIDIA's
 *    __nv_cvt_float_to_fp8(.., __NV_SATFINITE, ..) and PTX cvt.rn.satfinite do: a finite
 *    value beyond the largest finite value after rounding, and +-Inf, become +-max
 *    finite (e4m3: +-448 = 0x7E/0xFE; e5m2: +-57344 = 0x7B/0xFB, so e5m2 never receives
 *    Inf from a conversion).  Reading fp8 is exact (e5m2 Inf reads as Inf).
 *  - NaN: a NaN input gives the target's canonical NaN, always the same bits whatever
 *    the input's sign and payload: sign 0 and every other bit 1, i.e. the canonical
 *    NaN of PTX and of CUDA's cuda_fp16/cuda_bf16/cuda_fp8 headers:
 *        fp32 0x7FFFFFFF  fp64 0x7FFFFFFFFFFFFFFF  bf16 0x7FFF  fp16 0x7FFF
 *        fp8_e4m3 0x7F    fp8_e5m2 0x7F
 *    All are quiet NaNs.  A conversion to the SAME dtype is a plain bit copy (NaN
 *    payloads survive); it is the only case that keeps a non-canonical NaN.
 *  - Integers: only identity and lossless widenings are supported
 *    (int8 -> int32/int64, uint8 -> int32/int64, int32 -> int64).  int <-> float and
 *    every narrowing or signedness change that can lose values are unsupported; the
 *    compiler rejects them at plan time with sw_convert_supported().
 *
 * Hence every conversion is a pure function of the input bits, and validation
 * (sw_val_check) can compare expected and actual elements bitwise.
 */
#ifndef SW_CONVERT_H
#define SW_CONVERT_H

#include <stddef.h>
#include <stdint.h>
#include "shardwave.h"
#include "dtype.h"

#if defined(__CUDACC__)
#define SW_HD __host__ __device__
#else
#define SW_HD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Canonical NaN of each float dtype (see above). */
#define SW_NAN_FP32 UINT32_C(0x7FFFFFFF)
#define SW_NAN_FP64 UINT64_C(0x7FFFFFFFFFFFFFFF)
#define SW_NAN_BF16 UINT16_C(0x7FFF)
#define SW_NAN_FP16 UINT16_C(0x7FFF)
#define SW_NAN_E4M3 UINT8_C(0x7F)
#define SW_NAN_E5M2 UINT8_C(0x7F)

/* ---- bit casts -------------------------------------------------------------------- */

SW_HD static inline uint32_t sw_f32_as_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    union { float f; uint32_t u; } c;
    c.f = f;
    return c.u;
#endif
}

SW_HD static inline float sw_bits_as_f32(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    union { float f; uint32_t u; } c;
    c.u = u;
    return c.f;
#endif
}

SW_HD static inline uint64_t sw_f64_as_bits(double d) {
#if defined(__CUDA_ARCH__)
    return (uint64_t)__double_as_longlong(d);
#else
    union { double d; uint64_t u; } c;
    c.d = d;
    return c.u;
#endif
}

SW_HD static inline double sw_bits_as_f64(uint64_t u) {
#if defined(__CUDA_ARCH__)
    return __longlong_as_double((long long)u);
#else
    union { double d; uint64_t u; } c;
    c.u = u;
    return c.d;
#endif
}

/* ---- internal helpers ------------------------------------------------------------- */

/* Number of leading zero bits of x != 0. */
SW_HD static inline int sw__clz32(uint32_t x) {
#if defined(__CUDA_ARCH__)
    return __clz((int)x);
#elif defined(__GNUC__)
    return __builtin_clz(x);
#else
    int n = 0;
    while (!(x & 0x80000000u)) { x <<= 1; n++; }
    return n;
#endif
}

/* Bytes per element; 0 for an invalid dtype (a device-usable sw_dtype_size). */
SW_HD static inline int sw__dt_bytes(sw_dtype t) {
    switch (t) {
    case SW_DT_FP8_E4M3: case SW_DT_FP8_E5M2: case SW_DT_INT8: case SW_DT_UINT8: return 1;
    case SW_DT_BF16: case SW_DT_FP16: return 2;
    case SW_DT_FP32: case SW_DT_INT32: return 4;
    case SW_DT_FP64: case SW_DT_INT64: return 8;
    default: return 0;
    }
}

SW_HD static inline int sw__dt_isfloat(sw_dtype t) {
    return t == SW_DT_BF16 || t == SW_DT_FP16 || t == SW_DT_FP32 || t == SW_DT_FP64 ||
           t == SW_DT_FP8_E4M3 || t == SW_DT_FP8_E5M2;
}

/* Mask of the low bits an element of t occupies (0 for an invalid dtype). */
SW_HD static inline uint64_t sw__dt_mask(sw_dtype t) {
    int b = sw__dt_bytes(t);
    return b == 8 ? ~UINT64_C(0) : (UINT64_C(1) << (8 * b)) - 1;
}

/* v >> s rounded to nearest, ties to even; 1 <= s <= 63. */
SW_HD static inline uint64_t sw__rne_shr(uint64_t v, unsigned s) {
    uint64_t q = v >> s, rem = v & ((UINT64_C(1) << s) - 1), half = UINT64_C(1) << (s - 1);
    return q + (uint64_t)(rem > half || (rem == half && (q & 1)));
}

/*
 * Narrows the binary float x (se exponent bits, sm mantissa bits, IEEE specials: fp32 or
 * fp64) to a format of e exponent and m < sm mantissa bits (bias 2^(e-1)-1), rounding
 * to nearest even.  maxcode is the largest finite magnitude code; a rounded magnitude
 * above it, and Inf, give infcode (pass maxcode for saturation); NaN gives nancode.
 * Source subnormals become +-0: callers only use this where every source subnormal is
 * below half the target's smallest subnormal (fp32 -> fp16/fp8, fp64 -> anything).
 */
SW_HD static inline uint64_t sw__narrow(uint64_t x, int se, int sm, int e, int m,
                                         uint64_t maxcode, uint64_t infcode, uint64_t nancode) {
    uint64_t sign = (x >> (se + sm)) & 1;
    uint64_t sexp = (x >> sm) & ((UINT64_C(1) << se) - 1);
    uint64_t frac = x & ((UINT64_C(1) << sm) - 1);
    uint64_t code;
    if (sexp == (UINT64_C(1) << se) - 1) {
        if (frac) return nancode;
        code = infcode;
    } else if (sexp == 0) {
        code = 0;
    } else {
        int64_t ex = (int64_t)sexp - ((INT64_C(1) << (se - 1)) - 1); /* unbiased */
        int64_t bias = (INT64_C(1) << (e - 1)) - 1, emin = 1 - bias;
        uint64_t sig = (UINT64_C(1) << sm) | frac; /* value = sig * 2^(ex - sm) */
        if (ex > bias + 2) {
            code = infcode; /* far beyond any finite code */
        } else if (ex >= emin) {
            /* normal: rounded significand in [2^m, 2^(m+1)]; a carry bumps the exponent */
            code = ((uint64_t)(ex + bias - 1) << m) + sw__rne_shr(sig, (unsigned)(sm - m));
        } else {
            /* subnormal: code = sig * 2^(ex - sm) / 2^(emin - m), rounded; a shift past
             * sm + 1 means value < 2^(ex+1) <= half the smallest subnormal -> 0 */
            int64_t sh = sm - m + (emin - ex);
            code = sh > sm + 1 ? 0 : sw__rne_shr(sig, (unsigned)sh);
        }
        if (code > maxcode) code = infcode;
    }
    return code | (sign << (e + m));
}

/*
 * Widens a small float h (e exponent, m mantissa bits, bias 2^(e-1)-1) to fp32 bits,
 * exactly.  ieee: exponent all ones is Inf/NaN; else (e4m3) only S.1111.111 is NaN.
 */
SW_HD static inline uint32_t sw__widen_f32(uint32_t h, int e, int m, int ieee) {
    uint32_t sign = (h >> (e + m)) & 1u;
    uint32_t a = h & ((1u << (e + m)) - 1u);
    uint32_t ex = a >> m, frac = a & ((1u << m) - 1u);
    int bias = (1 << (e - 1)) - 1;
    uint32_t r;
    if (ieee ? ex == (1u << e) - 1u : a == (1u << (e + m)) - 1u) {
        if (!ieee || frac) return SW_NAN_FP32;
        r = 0x7F800000u;
    } else if (ex == 0) {
        if (frac == 0) {
            r = 0;
        } else {
            /* value = frac * 2^(1-bias-m) = 1.f * 2^(p+1-bias-m), p = top bit of frac */
            int p = 31 - sw__clz32(frac);
            r = ((uint32_t)(p + 1 - bias - m + 127) << 23) | ((frac << (23 - p)) & 0x7FFFFFu);
        }
    } else {
        r = ((uint32_t)((int)ex - bias + 127) << 23) | (frac << (23 - m));
    }
    return r | (sign << 31);
}

/* ---- bf16 ------------------------------------------------------------------------- */

/* bf16 -> fp32, exact; NaN -> SW_NAN_FP32. */
SW_HD static inline uint32_t sw_bf16_to_f32_bits(uint16_t h) {
    return (h & 0x7FFFu) > 0x7F80u ? SW_NAN_FP32 : (uint32_t)h << 16;
}
SW_HD static inline float sw_bf16_to_f32(uint16_t h) { return sw_bits_as_f32(sw_bf16_to_f32_bits(h)); }

/* fp32 -> bf16, round to nearest even (overflow -> Inf, subnormals kept); NaN -> 0x7FFF. */
SW_HD static inline uint16_t sw_f32_bits_to_bf16(uint32_t u) {
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return SW_NAN_BF16;
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}
SW_HD static inline uint16_t sw_f32_to_bf16(float f) { return sw_f32_bits_to_bf16(sw_f32_as_bits(f)); }

/* ---- fp16 ------------------------------------------------------------------------- */

/* fp16 -> fp32, exact; NaN -> SW_NAN_FP32. */
SW_HD static inline uint32_t sw_fp16_to_f32_bits(uint16_t h) { return sw__widen_f32(h, 5, 10, 1); }
SW_HD static inline float sw_fp16_to_f32(uint16_t h) { return sw_bits_as_f32(sw_fp16_to_f32_bits(h)); }

/* fp32 -> fp16, RNE, subnormals kept, overflow -> Inf (|x| >= 65520); NaN -> 0x7FFF. */
SW_HD static inline uint16_t sw_f32_bits_to_fp16(uint32_t u) {
    return (uint16_t)sw__narrow(u, 8, 23, 5, 10, 0x7BFFu, 0x7C00u, SW_NAN_FP16);
}
SW_HD static inline uint16_t sw_f32_to_fp16(float f) { return sw_f32_bits_to_fp16(sw_f32_as_bits(f)); }

/* ---- fp8 -------------------------------------------------------------------------- */

/* e4m3 -> fp32, exact; 0x7F/0xFF -> SW_NAN_FP32. */
SW_HD static inline uint32_t sw_e4m3_to_f32_bits(uint8_t h) { return sw__widen_f32(h, 4, 3, 0); }
SW_HD static inline float sw_e4m3_to_f32(uint8_t h) { return sw_bits_as_f32(sw_e4m3_to_f32_bits(h)); }

/* fp32 -> e4m3, RNE, saturating: |x| > 464 and Inf -> +-448; NaN -> 0x7F. */
SW_HD static inline uint8_t sw_f32_bits_to_e4m3(uint32_t u) {
    return (uint8_t)sw__narrow(u, 8, 23, 4, 3, 0x7Eu, 0x7Eu, SW_NAN_E4M3);
}
SW_HD static inline uint8_t sw_f32_to_e4m3(float f) { return sw_f32_bits_to_e4m3(sw_f32_as_bits(f)); }

/* e5m2 -> fp32, exact (Inf stays Inf); NaN -> SW_NAN_FP32. */
SW_HD static inline uint32_t sw_e5m2_to_f32_bits(uint8_t h) { return sw__widen_f32(h, 5, 2, 1); }
SW_HD static inline float sw_e5m2_to_f32(uint8_t h) { return sw_bits_as_f32(sw_e5m2_to_f32_bits(h)); }

/* fp32 -> e5m2, RNE, saturating: |x| >= 61440 and Inf -> +-57344; NaN -> 0x7F. */
SW_HD static inline uint8_t sw_f32_bits_to_e5m2(uint32_t u) {
    return (uint8_t)sw__narrow(u, 8, 23, 5, 2, 0x7Bu, 0x7Bu, SW_NAN_E5M2);
}
SW_HD static inline uint8_t sw_f32_to_e5m2(float f) { return sw_f32_bits_to_e5m2(sw_f32_as_bits(f)); }

/* ---- fp64 ------------------------------------------------------------------------- */

/* fp32 -> fp64, exact (subnormals normalised by bits, immune to DAZ/FTZ); NaN -> SW_NAN_FP64. */
SW_HD static inline uint64_t sw_f32_bits_to_f64_bits(uint32_t u) {
    uint64_t sign = (uint64_t)(u >> 31) << 63;
    uint32_t ex = (u >> 23) & 0xFFu, frac = u & 0x7FFFFFu;
    if (ex == 0xFFu) return frac ? SW_NAN_FP64 : sign | UINT64_C(0x7FF0000000000000);
    if (ex == 0) {
        if (!frac) return sign;
        int p = 31 - sw__clz32(frac); /* value = frac * 2^-149 = 1.f * 2^(p-149) */
        return sign | ((uint64_t)(p - 149 + 1023) << 52) |
               (((uint64_t)frac << (52 - p)) & ((UINT64_C(1) << 52) - 1));
    }
    return sign | ((uint64_t)(ex - 127 + 1023) << 52) | ((uint64_t)frac << 29);
}
SW_HD static inline double sw_f32_to_f64(float f) {
    return sw_bits_as_f64(sw_f32_bits_to_f64_bits(sw_f32_as_bits(f)));
}

/* fp64 -> fp32, RNE, subnormals kept, overflow -> Inf; NaN -> SW_NAN_FP32. */
SW_HD static inline uint32_t sw_f64_bits_to_f32_bits(uint64_t d) {
    return (uint32_t)sw__narrow(d, 11, 52, 8, 23, 0x7F7FFFFFu, 0x7F800000u, SW_NAN_FP32);
}
SW_HD static inline float sw_f64_to_f32(double d) {
    return sw_bits_as_f32(sw_f64_bits_to_f32_bits(sw_f64_as_bits(d)));
}

/* fp64 -> the narrow types with a single rounding (same rules as from fp32). */
SW_HD static inline uint16_t sw_f64_bits_to_bf16(uint64_t d) {
    return (uint16_t)sw__narrow(d, 11, 52, 8, 7, 0x7F7Fu, 0x7F80u, SW_NAN_BF16);
}
SW_HD static inline uint16_t sw_f64_bits_to_fp16(uint64_t d) {
    return (uint16_t)sw__narrow(d, 11, 52, 5, 10, 0x7BFFu, 0x7C00u, SW_NAN_FP16);
}
SW_HD static inline uint8_t sw_f64_bits_to_e4m3(uint64_t d) {
    return (uint8_t)sw__narrow(d, 11, 52, 4, 3, 0x7Eu, 0x7Eu, SW_NAN_E4M3);
}
SW_HD static inline uint8_t sw_f64_bits_to_e5m2(uint64_t d) {
    return (uint8_t)sw__narrow(d, 11, 52, 5, 2, 0x7Bu, 0x7Bu, SW_NAN_E5M2);
}

/* ---- generic, by dtype ------------------------------------------------------------ */

/*
 * 1 when elements of `from` can be converted to `to`: identical types, every float ->
 * float pair, and the lossless integer widenings int8 -> int32/int64, uint8 ->
 * int32/int64, int32 -> int64.  0 for int <-> float, integer narrowings and signedness
 * changes (int8 <-> uint8, ...), and invalid dtypes.
 */
SW_HD static inline int sw_convert_supported(sw_dtype from, sw_dtype to) {
    if (sw__dt_bytes(from) == 0 || sw__dt_bytes(to) == 0) return 0;
    if (from == to) return 1;
    if (sw__dt_isfloat(from) && sw__dt_isfloat(to)) return 1;
    switch (from) {
    case SW_DT_INT8:
    case SW_DT_UINT8: return to == SW_DT_INT32 || to == SW_DT_INT64;
    case SW_DT_INT32: return to == SW_DT_INT64;
    default: return 0;
    }
}

/* Float element bits of type t (not fp32) -> fp32 bits, exact unless t is fp64. */
SW_HD static inline uint32_t sw__to_f32_bits(sw_dtype t, uint64_t b) {
    switch (t) {
    case SW_DT_BF16: return sw_bf16_to_f32_bits((uint16_t)b);
    case SW_DT_FP16: return sw_fp16_to_f32_bits((uint16_t)b);
    case SW_DT_FP8_E4M3: return sw_e4m3_to_f32_bits((uint8_t)b);
    case SW_DT_FP8_E5M2: return sw_e5m2_to_f32_bits((uint8_t)b);
    case SW_DT_FP64: return sw_f64_bits_to_f32_bits(b);
    default: return (uint32_t)b;
    }
}

/* fp32 bits -> element bits of float type t. */
SW_HD static inline uint64_t sw__from_f32_bits(sw_dtype t, uint32_t u) {
    switch (t) {
    case SW_DT_BF16: return sw_f32_bits_to_bf16(u);
    case SW_DT_FP16: return sw_f32_bits_to_fp16(u);
    case SW_DT_FP8_E4M3: return sw_f32_bits_to_e4m3(u);
    case SW_DT_FP8_E5M2: return sw_f32_bits_to_e5m2(u);
    case SW_DT_FP64: return sw_f32_bits_to_f64_bits(u);
    default: return u;
    }
}

/* fp64 bits -> element bits of float type t (one rounding). */
SW_HD static inline uint64_t sw__from_f64_bits(sw_dtype t, uint64_t d) {
    switch (t) {
    case SW_DT_BF16: return sw_f64_bits_to_bf16(d);
    case SW_DT_FP16: return sw_f64_bits_to_fp16(d);
    case SW_DT_FP8_E4M3: return sw_f64_bits_to_e4m3(d);
    case SW_DT_FP8_E5M2: return sw_f64_bits_to_e5m2(d);
    case SW_DT_FP32: return sw_f64_bits_to_f32_bits(d);
    default: return d;
    }
}

/*
 * Converts one element given by its bits (the low 8*size bits of `bits`; higher bits
 * are ignored) from dtype `from` to dtype `to`; returns the result in the low bits.
 * Meaningful only when sw_convert_supported(from, to); otherwise returns 0.
 * Float -> float goes through fp32 (exact for every float type but fp64) or, when
 * either side is fp64, directly, so there is always exactly one rounding.
 */
SW_HD static inline uint64_t sw_convert_bits(sw_dtype from, sw_dtype to, uint64_t bits) {
    bits &= sw__dt_mask(from);
    if (from == to) return bits;
    if (!sw_convert_supported(from, to)) return 0;
    if (sw__dt_isfloat(from)) {
        if (from == SW_DT_FP64) return sw__from_f64_bits(to, bits);
        uint32_t u = from == SW_DT_FP32 ? (uint32_t)bits : sw__to_f32_bits(from, bits);
        return sw__from_f32_bits(to, u);
    }
    /* lossless integer widening: sign- or zero-extend */
    int64_t v;
    switch (from) {
    case SW_DT_INT8: v = (int8_t)(uint8_t)bits; break;
    case SW_DT_INT32: v = (int32_t)(uint32_t)bits; break;
    default: v = (int64_t)bits; break; /* uint8 */
    }
    return (uint64_t)v & sw__dt_mask(to);
}

/* Loads element bits of type t from p (aligned to the element size). */
SW_HD static inline uint64_t sw__load_bits(sw_dtype t, const void *p) {
    switch (sw__dt_bytes(t)) {
    case 1: return *(const uint8_t *)p;
    case 2: return *(const uint16_t *)p;
    case 4: return *(const uint32_t *)p;
    case 8: return *(const uint64_t *)p;
    default: return 0;
    }
}

/* Stores the low bits of b as an element of type t at p (aligned to the element size). */
SW_HD static inline void sw__store_bits(sw_dtype t, void *p, uint64_t b) {
    switch (sw__dt_bytes(t)) {
    case 1: *(uint8_t *)p = (uint8_t)b; break;
    case 2: *(uint16_t *)p = (uint16_t)b; break;
    case 4: *(uint32_t *)p = (uint32_t)b; break;
    case 8: *(uint64_t *)p = b; break;
    default: break;
    }
}

/* Converts the element at src (type st) to dst (type dt), both aligned to their element
 * size.  Returns 0, or -1 (nothing written) when !sw_convert_supported(st, dt). */
SW_HD static inline int sw_convert_elem(void *dst, sw_dtype dt, const void *src, sw_dtype st) {
    if (!sw_convert_supported(st, dt)) return -1;
    sw__store_bits(dt, dst, sw_convert_bits(st, dt, sw__load_bits(st, src)));
    return 0;
}

/* ---- validation fill (spec §7) ---------------------------------------------------- */

/*
 * The 64-bit value of logical element `index` of the logical tensor with key
 * `tensor_key` (sw_val_key): output number `index` of SplitMix64 seeded with the key,
 * i.e. the SplitMix64 finaliser of key + (index + 1) * 0x9E3779B97F4A7C15.  Within one
 * tensor distinct indices give distinct values (the finaliser is a bijection).
 */
SW_HD static inline uint64_t sw_val_hash(uint64_t tensor_key, uint64_t index) {
    uint64_t z = tensor_key + (index + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/*
 * Writes the low bits of h as one element of type t at out (aligned): 8 bits for
 * fp8/int8/uint8, 16 for bf16/fp16, 32 for fp32/int32, 64 for fp64/int64.  The bits are
 * used as they are, so floats may be NaN, Inf or subnormal patterns.
 */
SW_HD static inline void sw_val_fill_elem(sw_dtype t, uint64_t h, void *out) {
    sw__store_bits(t, out, h);
}

/* ---- host-only bulk functions (convert.c) ----------------------------------------- */

#ifndef __CUDA_ARCH__
/*
 * Converts n contiguous elements src (type st) to dst (type dt); dst and src must not
 * overlap and must be aligned to their element sizes.  dt == st is a memcpy.  Returns
 * SW_OK; SW_UNSUPPORTED (message names both dtypes, nothing written) when
 * !sw_convert_supported(st, dt); SW_USAGE for an invalid dtype or a NULL buffer with
 * n > 0.  Bit-identical to sw_convert_bits per element.
 */
int sw_convert(void *dst, sw_dtype dt, const void *src, sw_dtype st, size_t n, sw_error *err);

/* The key of a logical tensor for sw_val_hash: FNV-1a 64 of its name's bytes
 * (NULL hashes like ""). */
uint64_t sw_val_key(const char *logical_tensor_name);

/*
 * Fills dst[0..n) (type t) with the validation values of logical linear indices
 * first_index .. first_index + n - 1: dst[i] = low bits of sw_val_hash(key, first_index + i).
 * Does nothing for an invalid dtype.
 */
void sw_val_fill(void *dst, sw_dtype t, uint64_t key, uint64_t first_index, size_t n);

/*
 * Checks got[0..n) (type got_t), received from a source of type src_t filled with
 * sw_val_fill(.., src_t, key, first_index, n): expected[i] =
 * sw_convert_bits(src_t, got_t, sw_val_hash(key, first_index + i)), compared bitwise.
 * Returns the number of mismatching elements and sets *first_bad (if not NULL) to the
 * position (0-based, within got) of the first, or to n when all match.  An unsupported
 * (src_t, got_t) pair, or an invalid dtype, counts every element as a mismatch.
 */
size_t sw_val_check(const void *got, sw_dtype got_t, sw_dtype src_t, uint64_t key,
                    uint64_t first_index, size_t n, size_t *first_bad);
#endif

#ifdef __cplusplus
}
#endif
#endif /* SW_CONVERT_H */
