/*
 * test_convert.c - element conversions (runtime/convert.h) against hand-computed bit
 * patterns, against an independent brute-force reference, and the validation fill.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fenv.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"

#define F32(u) sw_bits_as_f32(u)
#define F64(u) sw_bits_as_f64(u)

/* ---- an independent reference (doubles and <math.h>, no bit tricks) --------------- */

static uint64_t rng_state = 12345;
static uint64_t rng(void) { /* SplitMix64, local to the test */
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Value of magnitude code c of a format with E exponent and M mantissa bits, by the
 * plain formula (no specials): c = e.m, e == 0 subnormal. */
static double ref_val(uint32_t c, int E, int M) {
    int bias = (1 << (E - 1)) - 1;
    uint32_t e = c >> M, m = c & ((1u << M) - 1);
    if (e == 0) return ldexp((double)m, 1 - bias - M);
    return ldexp(1.0 + ldexp((double)m, -M), (int)e - bias);
}

/* Reference narrowing of the double x: nearest code by binary search, ties to the even
 * code; overflow (a code past maxcode) gives infcode; Inf gives infcode. */
static uint32_t ref_narrow(double x, int E, int M, uint32_t maxcode, uint32_t infcode,
                           uint32_t nancode) {
    if (isnan(x)) return nancode;
    uint32_t sign = signbit(x) ? 1u << (E + M) : 0;
    double a = fabs(x);
    if (isinf(a)) return sign | infcode;
    uint32_t lo = 0, hi = maxcode + 1; /* find the largest c <= maxcode+1 with val(c) <= a */
    if (a >= ref_val(hi, E, M)) return sign | infcode;
    while (hi - lo > 1) {
        uint32_t mid = (lo + hi) / 2;
        if (ref_val(mid, E, M) <= a) lo = mid; else hi = mid;
    }
    /* now val(lo) <= a < val(lo+1); the midpoint is exact in double */
    double midv = (ref_val(lo, E, M) + ref_val(lo + 1, E, M)) / 2;
    uint32_t c = a < midv ? lo : a > midv ? lo + 1 : ((lo & 1) ? lo + 1 : lo);
    if (c > maxcode) c = infcode;
    return sign | c;
}

/* Reference decoding of an 8-bit code to double (NaN as NAN). */
static double ref_fp8(uint32_t c, int e4m3) {
    int E = e4m3 ? 4 : 5, M = e4m3 ? 3 : 2;
    double s = (c & 0x80) ? -1.0 : 1.0;
    uint32_t mag = c & 0x7F;
    if (e4m3 && mag == 0x7F) return NAN;
    if (!e4m3 && (mag >> 2) == 31) return (mag & 3) ? NAN : s * INFINITY;
    return s * ref_val(mag, E, M);
}

/* fp32 bits of a double that is exactly a float, NaN -> canonical */
static uint32_t f32_of(double d) { return isnan(d) ? SW_NAN_FP32 : sw_f32_as_bits((float)d); }

/* ---- bf16 -------------------------------------------------------------------------- */

static void test_bf16(void **state) {
    (void)state;
    /* RNE: 0x3F80_8000 is exactly half way between 0x3F80 and 0x3F81; 0x3F80 is even */
    assert_int_equal(sw_f32_bits_to_bf16(0x3F808000u), 0x3F80);
    /* 0x3F81_8000: half way between 0x3F81 (odd) and 0x3F82 -> 0x3F82 */
    assert_int_equal(sw_f32_bits_to_bf16(0x3F818000u), 0x3F82);
    /* just above half -> up; just below -> down */
    assert_int_equal(sw_f32_bits_to_bf16(0x3F808001u), 0x3F81);
    assert_int_equal(sw_f32_bits_to_bf16(0x3F807FFFu), 0x3F80);
    /* 1.0f */
    assert_int_equal(sw_f32_to_bf16(1.0f), 0x3F80);
    assert_int_equal(sw_f32_to_bf16(-2.0f), 0xC000);
    /* NaN: any payload/sign -> canonical 0x7FFF (quiet), never Inf */
    assert_int_equal(sw_f32_bits_to_bf16(0x7F800001u), SW_NAN_BF16); /* sNaN, low payload */
    assert_int_equal(sw_f32_bits_to_bf16(0xFFC12345u), SW_NAN_BF16);
    assert_int_equal(sw_f32_bits_to_bf16(0x7FFFFFFFu), SW_NAN_BF16);
    /* Inf */
    assert_int_equal(sw_f32_bits_to_bf16(0x7F800000u), 0x7F80);
    assert_int_equal(sw_f32_bits_to_bf16(0xFF800000u), 0xFF80);
    /* overflow: 0x7F7FFFFF is above the midpoint 0x7F7F8000 between 0x7F7F and 2^128 */
    assert_int_equal(sw_f32_bits_to_bf16(0x7F7FFFFFu), 0x7F80);
    assert_int_equal(sw_f32_bits_to_bf16(0x7F7F7FFFu), 0x7F7F);
    /* subnormals pass through: 0x0001_0000 = 2^-133 is bf16 0x0001 */
    assert_int_equal(sw_f32_bits_to_bf16(0x00010000u), 0x0001);
    assert_int_equal(sw_f32_bits_to_bf16(0x00008000u), 0x0000); /* tie -> even 0 */
    assert_int_equal(sw_f32_bits_to_bf16(0x80018000u), 0x8002); /* tie, 1 odd -> 2 */
    assert_int_equal(sw_f32_bits_to_bf16(0x80000000u), 0x8000); /* -0 */
    /* decode: a shift, NaN canonical */
    assert_int_equal(sw_bf16_to_f32_bits(0x0001), 0x00010000u);
    assert_int_equal(sw_bf16_to_f32_bits(0xFF80), 0xFF800000u);
    assert_int_equal(sw_bf16_to_f32_bits(0x7F81), SW_NAN_FP32);
    assert_int_equal(sw_bf16_to_f32_bits(0xFFC0), SW_NAN_FP32);
    assert_true(sw_bf16_to_f32(0x3FC0) == 1.5f);
}

/* ---- fp16 -------------------------------------------------------------------------- */

static void test_fp16(void **state) {
    (void)state;
    /* 65504 = (2 - 2^-10) * 2^15: exp 30, mantissa 0x3FF */
    assert_int_equal(sw_f32_to_fp16(65504.0f), 0x7BFF);
    assert_int_equal(sw_f32_to_fp16(65519.0f), 0x7BFF); /* below the midpoint 65520 */
    /* 65520 is half way between 65504 (mantissa 0x3FF, odd) and 65536 -> Inf */
    assert_int_equal(sw_f32_to_fp16(65520.0f), 0x7C00);
    assert_int_equal(sw_f32_to_fp16(-1e10f), 0xFC00);
    assert_int_equal(sw_f32_bits_to_fp16(0x7F800000u), 0x7C00);
    /* 2^-24 = smallest subnormal, code 1 */
    assert_int_equal(sw_f32_to_fp16(ldexpf(1.0f, -24)), 0x0001);
    /* 2^-25 is half of it: tie between 0 (even) and 1 -> 0 */
    assert_int_equal(sw_f32_to_fp16(ldexpf(1.0f, -25)), 0x0000);
    assert_int_equal(sw_f32_to_fp16(-ldexpf(1.0f, -25)), 0x8000);
    /* just above 2^-25 -> 1 */
    assert_int_equal(sw_f32_bits_to_fp16(0x33000001u), 0x0001);
    /* 3 * 2^-25 = 1.5 quanta: tie between 1 (odd) and 2 -> 2 */
    assert_int_equal(sw_f32_to_fp16(3.0f * ldexpf(1.0f, -25)), 0x0002);
    /* 2^-14 smallest normal: exp 1 -> 0x0400; 1023 * 2^-24 largest subnormal 0x03FF */
    assert_int_equal(sw_f32_to_fp16(ldexpf(1.0f, -14)), 0x0400);
    assert_int_equal(sw_f32_to_fp16(1023.0f * ldexpf(1.0f, -24)), 0x03FF);
    /* 1.0 = exp 15 -> 0x3C00; 1 + 2^-11 is a tie with 1.0 even -> 0x3C00 */
    assert_int_equal(sw_f32_to_fp16(1.0f), 0x3C00);
    assert_int_equal(sw_f32_to_fp16(1.0f + ldexpf(1.0f, -11)), 0x3C00);
    assert_int_equal(sw_f32_to_fp16(1.0f + 3 * ldexpf(1.0f, -11)), 0x3C02);
    /* fp32 subnormals are far below 2^-25 -> signed zero */
    assert_int_equal(sw_f32_bits_to_fp16(0x007FFFFFu), 0x0000);
    assert_int_equal(sw_f32_bits_to_fp16(0x80000001u), 0x8000);
    /* NaN -> canonical 0x7FFF */
    assert_int_equal(sw_f32_bits_to_fp16(0x7FC00000u), SW_NAN_FP16);
    assert_int_equal(sw_f32_bits_to_fp16(0xFF800001u), SW_NAN_FP16);
    /* decode: 0x0001 -> 2^-24 = fp32 exp 103 = 0x67 -> 0x33800000 */
    assert_int_equal(sw_fp16_to_f32_bits(0x0001), 0x33800000u);
    /* 0x03FF -> 1023 * 2^-24 = 1.111111111b (nine ones) * 2^-15: exp 112 = 0x70,
     * mantissa 0x1FF << (23 - 9) */
    assert_int_equal(sw_fp16_to_f32_bits(0x03FF), (0x70u << 23) | (0x1FFu << 14));
    /* 0x3555: exp 13 -> fp32 exp 125 = 0x7D, mantissa 0x155 << 13 = 0x2AA000 */
    assert_int_equal(sw_fp16_to_f32_bits(0x3555), 0x3EAAA000u);
    assert_int_equal(sw_fp16_to_f32_bits(0x7C00), 0x7F800000u);
    assert_int_equal(sw_fp16_to_f32_bits(0xFC00), 0xFF800000u);
    assert_int_equal(sw_fp16_to_f32_bits(0x7C01), SW_NAN_FP32);
    assert_int_equal(sw_fp16_to_f32_bits(0x8000), 0x80000000u);
}

/* ---- fp8 --------------------------------------------------------------------------- */

static void test_e4m3(void **state) {
    (void)state;
    /* 448 = 1.75 * 2^8: exp 8+7 = 15 = 1111, mantissa 110 -> 0x7E */
    assert_int_equal(sw_f32_to_e4m3(448.0f), 0x7E);
    /* 480 = 1.875 * 2^8 would be 1111.111 = NaN: saturates to 448 */
    assert_int_equal(sw_f32_to_e4m3(480.0f), 0x7E);
    /* 464 is half way between 448 (mantissa 110, even) and 480 -> 448 */
    assert_int_equal(sw_f32_to_e4m3(464.0f), 0x7E);
    assert_int_equal(sw_f32_to_e4m3(465.0f), 0x7E); /* rounds to 480 -> saturated */
    assert_int_equal(sw_f32_to_e4m3(1e30f), 0x7E);
    assert_int_equal(sw_f32_to_e4m3(-1000.0f), 0xFE);
    /* Inf saturates too (SATFINITE) */
    assert_int_equal(sw_f32_bits_to_e4m3(0x7F800000u), 0x7E);
    assert_int_equal(sw_f32_bits_to_e4m3(0xFF800000u), 0xFE);
    /* 2^-9 = smallest subnormal (quantum 2^(1-7-3)) -> 0x01 */
    assert_int_equal(sw_f32_to_e4m3(ldexpf(1.0f, -9)), 0x01);
    /* 2^-10: tie between 0 (even) and 0x01 -> 0 */
    assert_int_equal(sw_f32_to_e4m3(ldexpf(1.0f, -10)), 0x00);
    /* 3 * 2^-10 = 1.5 quanta: tie, 1 odd -> 2 */
    assert_int_equal(sw_f32_to_e4m3(3.0f * ldexpf(1.0f, -10)), 0x02);
    /* 7 * 2^-9 largest subnormal; 2^-6 smallest normal (exp 1) */
    assert_int_equal(sw_f32_to_e4m3(7.0f * ldexpf(1.0f, -9)), 0x07);
    assert_int_equal(sw_f32_to_e4m3(ldexpf(1.0f, -6)), 0x08);
    /* 1.0: exp 7 = 0111 -> 0x38; -2.0: exp 8, sign -> 0xC0 */
    assert_int_equal(sw_f32_to_e4m3(1.0f), 0x38);
    assert_int_equal(sw_f32_to_e4m3(-2.0f), 0xC0);
    /* 1 + 1/16: tie between 1.0 (0x38, even) and 1.125 (0x39) -> 0x38;
     * 1 + 3/16: tie between 0x39 (odd) and 1.25 (0x3A) -> 0x3A */
    assert_int_equal(sw_f32_to_e4m3(1.0625f), 0x38);
    assert_int_equal(sw_f32_to_e4m3(1.1875f), 0x3A);
    /* NaN -> 0x7F; -0.0 -> 0x80 */
    assert_int_equal(sw_f32_bits_to_e4m3(0xFFC00000u), 0x7F);
    assert_int_equal(sw_f32_bits_to_e4m3(0x7F800001u), 0x7F);
    assert_int_equal(sw_f32_to_e4m3(-0.0f), 0x80);
    /* decode specials: 0x7E = 448, 0xFF NaN, 0x78 = 256 (exp 1111 is normal) */
    assert_true(sw_e4m3_to_f32(0x7E) == 448.0f);
    assert_true(sw_e4m3_to_f32(0x78) == 256.0f);
    assert_int_equal(sw_e4m3_to_f32_bits(0xFF), SW_NAN_FP32);
    assert_int_equal(sw_e4m3_to_f32_bits(0x80), 0x80000000u);
}

static void test_e5m2(void **state) {
    (void)state;
    /* 57344 = 1.75 * 2^15: exp 30 = 11110, mantissa 11 -> 0x7B */
    assert_int_equal(sw_f32_to_e5m2(57344.0f), 0x7B);
    assert_int_equal(sw_f32_to_e5m2(60000.0f), 0x7B); /* below midpoint 61440 */
    /* 61440 half way between 57344 (odd) and 65536 -> 65536 = overflow -> saturated */
    assert_int_equal(sw_f32_to_e5m2(61440.0f), 0x7B);
    assert_int_equal(sw_f32_to_e5m2(-1e20f), 0xFB);
    /* Inf -> max finite (SATFINITE), so e5m2 never gets Inf from a conversion */
    assert_int_equal(sw_f32_bits_to_e5m2(0x7F800000u), 0x7B);
    assert_int_equal(sw_f32_bits_to_e5m2(0xFF800000u), 0xFB);
    /* 2^-16 = smallest subnormal (quantum 2^(1-15-2)) -> 0x01; 2^-17 tie -> 0 */
    assert_int_equal(sw_f32_to_e5m2(ldexpf(1.0f, -16)), 0x01);
    assert_int_equal(sw_f32_to_e5m2(ldexpf(1.0f, -17)), 0x00);
    assert_int_equal(sw_f32_to_e5m2(ldexpf(1.0f, -14)), 0x04); /* smallest normal */
    assert_int_equal(sw_f32_to_e5m2(1.0f), 0x3C);              /* exp 15 = 01111 */
    assert_int_equal(sw_f32_to_e5m2(-0.0f), 0x80);
    /* NaN -> 0x7F (S.11111.11) */
    assert_int_equal(sw_f32_bits_to_e5m2(0x7FC00000u), 0x7F);
    assert_int_equal(sw_f32_bits_to_e5m2(0xFF800001u), 0x7F);
    /* decode: Inf stays Inf, 0x7D NaN */
    assert_int_equal(sw_e5m2_to_f32_bits(0x7C), 0x7F800000u);
    assert_int_equal(sw_e5m2_to_f32_bits(0xFC), 0xFF800000u);
    assert_int_equal(sw_e5m2_to_f32_bits(0x7D), SW_NAN_FP32);
    assert_true(sw_e5m2_to_f32(0x7B) == 57344.0f);
    assert_true(sw_e5m2_to_f32(0x01) == ldexpf(1.0f, -16));
}

/* All 256 codes of both fp8 formats against the formula, and back (identity but NaN). */
static void test_fp8_all_codes(void **state) {
    (void)state;
    for (uint32_t c = 0; c < 256; c++) {
        double v4 = ref_fp8(c, 1), v5 = ref_fp8(c, 0);
        assert_int_equal(sw_e4m3_to_f32_bits((uint8_t)c), f32_of(v4));
        assert_int_equal(sw_e5m2_to_f32_bits((uint8_t)c), f32_of(v5));
        uint8_t b4 = sw_f32_bits_to_e4m3(sw_e4m3_to_f32_bits((uint8_t)c));
        uint8_t b5 = sw_f32_bits_to_e5m2(sw_e5m2_to_f32_bits((uint8_t)c));
        assert_int_equal(b4, isnan(v4) ? SW_NAN_E4M3 : c);
        /* e5m2: NaN canonical, Inf saturates to max finite */
        assert_int_equal(b5, isnan(v5) ? SW_NAN_E5M2 : isinf(v5) ? (c & 0x80) | 0x7B : c);
        /* via fp64, same results */
        assert_int_equal(sw_convert_bits(SW_DT_FP8_E4M3, SW_DT_FP64, c),
                         isnan(v4) ? SW_NAN_FP64 : sw_f64_as_bits(v4));
        assert_int_equal(sw_convert_bits(SW_DT_FP8_E5M2, SW_DT_FP64, c),
                         isnan(v5) ? SW_NAN_FP64 : sw_f64_as_bits(v5));
    }
}

/* ---- fp64 -------------------------------------------------------------------------- */

static void test_fp64(void **state) {
    (void)state;
    /* fp32 -> fp64 is exact */
    assert_int_equal(sw_f32_bits_to_f64_bits(0x3F800000u), UINT64_C(0x3FF0000000000000));
    /* 2^-149 (fp32 0x00000001): exp -149 + 1023 = 874 = 0x36A */
    assert_int_equal(sw_f32_bits_to_f64_bits(0x00000001u), UINT64_C(0x36A0000000000000));
    /* 0x00400000 = 2^-127: exp 896 = 0x380 */
    assert_int_equal(sw_f32_bits_to_f64_bits(0x00400000u), UINT64_C(0x3800000000000000));
    /* 0x807FFFFF = -(2^23-1) * 2^-149 = -1.11..1b (22 ones after the point) * 2^-127 */
    assert_int_equal(sw_f32_bits_to_f64_bits(0x807FFFFFu),
                     UINT64_C(0x8000000000000000) | (UINT64_C(0x380) << 52) |
                         (UINT64_C(0x3FFFFF) << 30));
    assert_int_equal(sw_f32_bits_to_f64_bits(0xFF800000u), UINT64_C(0xFFF0000000000000));
    assert_int_equal(sw_f32_bits_to_f64_bits(0x80000000u), UINT64_C(0x8000000000000000));
    assert_int_equal(sw_f32_bits_to_f64_bits(0xFFC00001u), SW_NAN_FP64);
    assert_true(sw_f32_to_f64(0.1f) == (double)0.1f);
    /* fp64 -> fp32: the fp32 ulp at 1 is 2^-23 = fp64 mantissa bit 29, so half an ulp is
     * 0x10000000.  1 + 2^-24 is a tie -> 1.0 (even); 1 + 3*2^-24 tie -> 1 + 2^-22;
     * 1 + 2^-24 + 2^-52 above the tie -> 1 + 2^-23; 1 + 2^-28 -> 1.0 */
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x3FF0000010000000)), 0x3F800000u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x3FF0000030000000)), 0x3F800002u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x3FF0000010000001)), 0x3F800001u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x3FF0000001000000)), 0x3F800000u);
    /* FLT_MAX; (2 - 2^-24) * 2^127 half way to 2^128 -> Inf; just below -> FLT_MAX */
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x47EFFFFFE0000000)), 0x7F7FFFFFu);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x47EFFFFFF0000000)), 0x7F800000u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x47EFFFFFEFFFFFFF)), 0x7F7FFFFFu);
    assert_int_equal(sw_f64_bits_to_f32_bits(sw_f64_as_bits(-1e300)), 0xFF800000u);
    /* 2^-149 (exp 874 = 0x36A) -> 1; 2^-150 (0x369) tie -> 0; a hair above -> 1;
     * 3 * 2^-150 = 1.5 * 2^-149 (0x36A, mantissa .1b) is a tie between 1 and 2 -> 2 */
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x36A0000000000000)), 0x00000001u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x3690000000000000)), 0x00000000u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x3690000000000001)), 0x00000001u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x36A8000000000000)), 0x00000002u);
    /* fp64 subnormals -> signed zero */
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x8000000000000001)), 0x80000000u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0x7FF0000000000000)), 0x7F800000u);
    assert_int_equal(sw_f64_bits_to_f32_bits(UINT64_C(0xFFF8000000000001)), SW_NAN_FP32);
    assert_true(sw_f64_to_f32(0.1) == 0.1f);
    /* one rounding from fp64: 1 + 2^-11 + 2^-40 is above the fp16 midpoint -> 0x3C01,
     * whereas via fp32 it would first become the tie 1 + 2^-11 and then 0x3C00 */
    double x = 1.0 + ldexp(1.0, -11) + ldexp(1.0, -40);
    assert_int_equal(sw_f64_bits_to_fp16(sw_f64_as_bits(x)), 0x3C01);
    assert_int_equal(sw_f32_to_fp16((float)x), 0x3C00);
    /* likewise bf16: 1 + 2^-8 + 2^-30 -> 0x3F81 */
    x = 1.0 + ldexp(1.0, -8) + ldexp(1.0, -30);
    assert_int_equal(sw_f64_bits_to_bf16(sw_f64_as_bits(x)), 0x3F81);
    assert_int_equal(sw_f64_bits_to_bf16(SW_NAN_FP64 ^ 1), SW_NAN_BF16);
    assert_int_equal(sw_f64_bits_to_e4m3(sw_f64_as_bits(-INFINITY)), 0xFE);
    assert_int_equal(sw_f64_bits_to_e5m2(sw_f64_as_bits(ldexp(1.0, -16))), 0x01);
    /* bf16 subnormal 2^-133 from fp64 */
    assert_int_equal(sw_f64_bits_to_bf16(sw_f64_as_bits(ldexp(1.0, -133))), 0x0001);
}

/* ---- round trips and reference comparisons ---------------------------------------- */

static void test_roundtrip_16bit(void **state) {
    (void)state;
    for (uint32_t h = 0; h < 65536; h++) {
        uint32_t b = sw_bf16_to_f32_bits((uint16_t)h);
        int bnan = (h & 0x7FFF) > 0x7F80;
        assert_int_equal(sw_f32_bits_to_bf16(b), bnan ? SW_NAN_BF16 : h);
        assert_int_equal(b, bnan ? SW_NAN_FP32 : h << 16);

        uint32_t f = sw_fp16_to_f32_bits((uint16_t)h);
        int fnan = (h & 0x7FFF) > 0x7C00;
        assert_int_equal(sw_f32_bits_to_fp16(f), fnan ? SW_NAN_FP16 : h);
        /* fp16 decode matches the formula */
        double v = fnan ? NAN
                   : ((h & 0x7FFF) == 0x7C00) ? ((h & 0x8000) ? -INFINITY : INFINITY)
                   : ((h & 0x8000) ? -1.0 : 1.0) * ref_val(h & 0x7FFF, 5, 10);
        assert_int_equal(f, f32_of(v));
        /* and through fp64 */
        uint64_t d = sw_convert_bits(SW_DT_FP16, SW_DT_FP64, h);
        assert_int_equal(sw_convert_bits(SW_DT_FP64, SW_DT_FP16, d), fnan ? SW_NAN_FP16 : h);
    }
}

/* Narrowing to fp16/bf16/e4m3/e5m2/fp32 from random fp32 and fp64 against ref_narrow. */
static void test_narrow_vs_reference(void **state) {
    (void)state;
    rng_state = 42;
    for (int i = 0; i < 300000; i++) {
        uint64_t r = rng();
        uint32_t u;
        if (i % 3 == 0) u = (uint32_t)r; /* any pattern */
        else { /* exponents around the narrow formats' ranges */
            uint32_t ex = (uint32_t)(127 - 30 + (r >> 40) % 52);
            u = (uint32_t)(r & 0x807FFFFFu) | (ex << 23);
            if (i % 7 == 0) u &= ~0xFFFu; /* more ties */
        }
        double x = (double)F32(u);
        assert_int_equal(sw_f32_bits_to_fp16(u), ref_narrow(x, 5, 10, 0x7BFF, 0x7C00, SW_NAN_FP16));
        assert_int_equal(sw_f32_bits_to_bf16(u), ref_narrow(x, 8, 7, 0x7F7F, 0x7F80, SW_NAN_BF16));
        assert_int_equal(sw_f32_bits_to_e4m3(u), ref_narrow(x, 4, 3, 0x7E, 0x7E, SW_NAN_E4M3));
        assert_int_equal(sw_f32_bits_to_e5m2(u), ref_narrow(x, 5, 2, 0x7B, 0x7B, SW_NAN_E5M2));

        uint64_t d;
        if (i % 3 == 0) d = rng();
        else {
            uint64_t ex = 1023 - 160 + (r >> 40) % 300;
            d = (rng() & UINT64_C(0x800FFFFFFFFFFFFF)) | (ex << 52);
            if (i % 5 == 0) d &= ~UINT64_C(0xFFFFFFF); /* ties for fp32 */
        }
        x = F64(d);
        assert_int_equal(sw_f64_bits_to_fp16(d), ref_narrow(x, 5, 10, 0x7BFF, 0x7C00, SW_NAN_FP16));
        assert_int_equal(sw_f64_bits_to_bf16(d), ref_narrow(x, 8, 7, 0x7F7F, 0x7F80, SW_NAN_BF16));
        assert_int_equal(sw_f64_bits_to_e4m3(d), ref_narrow(x, 4, 3, 0x7E, 0x7E, SW_NAN_E4M3));
        assert_int_equal(sw_f64_bits_to_e5m2(d), ref_narrow(x, 5, 2, 0x7B, 0x7B, SW_NAN_E5M2));
        /* fp32: the hardware conversion (RNE, IEEE) is the reference, NaN canonicalised */
        assert_int_equal(sw_f64_bits_to_f32_bits(d), f32_of(x));
        /* fp32 -> fp64 exact */
        assert_int_equal(sw_f32_bits_to_f64_bits(u),
                         isnan(F32(u)) ? SW_NAN_FP64 : sw_f64_as_bits((double)F32(u)));
    }
}

/* ---- by dtype: support matrix, bulk conversion ------------------------------------- */

static void test_supported_matrix(void **state) {
    (void)state;
    static const sw_dtype flt[] = {SW_DT_BF16, SW_DT_FP16, SW_DT_FP32, SW_DT_FP64,
                                   SW_DT_FP8_E4M3, SW_DT_FP8_E5M2};
    static const sw_dtype itg[] = {SW_DT_INT8, SW_DT_UINT8, SW_DT_INT32, SW_DT_INT64};
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 6; j++) assert_int_equal(sw_convert_supported(flt[i], flt[j]), 1);
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 4; j++) {
            assert_int_equal(sw_convert_supported(flt[i], itg[j]), 0);
            assert_int_equal(sw_convert_supported(itg[j], flt[i]), 0);
        }
    /* integers: rows from, columns to (int8 uint8 int32 int64) */
    static const int want[4][4] = {
        {1, 0, 1, 1}, /* int8: -> uint8 loses negatives */
        {0, 1, 1, 1}, /* uint8: -> int8 loses 128..255 */
        {0, 0, 1, 1}, /* int32: narrowings lose */
        {0, 0, 0, 1}, /* int64 */
    };
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            assert_int_equal(sw_convert_supported(itg[i], itg[j]), want[i][j]);
    assert_int_equal(sw_convert_supported(SW_DT_COUNT, SW_DT_FP32), 0);
    assert_int_equal(sw_convert_supported(SW_DT_FP32, (sw_dtype)99), 0);
}

static void test_convert_bulk(void **state) {
    (void)state;
    sw_error err;
    enum { N = 65536 };
    uint16_t *h = malloc(N * sizeof *h), *h2 = malloc(N * sizeof *h2);
    uint32_t *f = malloc(N * sizeof *f);
    uint64_t *d = malloc(N * sizeof *d);
    uint8_t *b = malloc(N);
    assert_non_null(h); assert_non_null(h2); assert_non_null(f); assert_non_null(d);
    assert_non_null(b);
    for (uint32_t i = 0; i < N; i++) h[i] = (uint16_t)i;

    /* every 16-bit pattern through the fast loops equals sw_convert_bits */
    static const sw_dtype sixteen[] = {SW_DT_BF16, SW_DT_FP16};
    static const sw_dtype all_f[] = {SW_DT_BF16, SW_DT_FP16, SW_DT_FP32, SW_DT_FP64,
                                     SW_DT_FP8_E4M3, SW_DT_FP8_E5M2};
    for (int s = 0; s < 2; s++)
        for (int t = 0; t < 6; t++) {
            sw_dtype st = sixteen[s], dt = all_f[t];
            void *dst = sw__dt_bytes(dt) == 1 ? (void *)b : sw__dt_bytes(dt) == 2 ? (void *)h2
                        : sw__dt_bytes(dt) == 4 ? (void *)f : (void *)d;
            assert_int_equal(sw_convert(dst, dt, h, st, N, &err), SW_OK);
            for (uint32_t i = 0; i < N; i++)
                assert_int_equal(sw__load_bits(dt, (char *)dst + i * (size_t)sw__dt_bytes(dt)),
                                 sw_convert_bits(st, dt, i));
        }
    /* random fp32 through fp32 -> bf16/fp16 loops */
    rng_state = 7;
    for (uint32_t i = 0; i < N; i++) f[i] = (uint32_t)rng();
    f[0] = 0x7F7FFFFFu; f[1] = 0xFFC00001u; f[2] = 0x00008000u; f[3] = 0x477FF000u;
    assert_int_equal(sw_convert(h2, SW_DT_BF16, f, SW_DT_FP32, N, &err), SW_OK);
    for (uint32_t i = 0; i < N; i++) assert_int_equal(h2[i], sw_f32_bits_to_bf16(f[i]));
    assert_int_equal(sw_convert(h2, SW_DT_FP16, f, SW_DT_FP32, N, &err), SW_OK);
    for (uint32_t i = 0; i < N; i++) assert_int_equal(h2[i], sw_f32_bits_to_fp16(f[i]));
    assert_int_equal(h2[3], 0x7C00); /* 65520 */
    /* fp32 -> fp16 around the fp16 range (exponents 2^-27 .. 2^18), many ties */
    for (uint32_t i = 0; i < N; i++) {
        uint32_t r = (uint32_t)rng();
        f[i] = (r & 0x807FFFFFu) | ((100u + i % 46u) << 23);
        if (i % 4 == 0) f[i] &= ~0xFFFu;
    }
    assert_int_equal(sw_convert(h2, SW_DT_FP16, f, SW_DT_FP32, N, &err), SW_OK);
    for (uint32_t i = 0; i < N; i++) assert_int_equal(h2[i], sw_f32_bits_to_fp16(f[i]));
    /* the fast fp16 loops depend on round-to-nearest; another rounding mode takes the
     * exact integer path and gives the same bits */
    assert_int_equal(fesetround(FE_UPWARD), 0);
    assert_int_equal(sw_convert(h2, SW_DT_FP16, f, SW_DT_FP32, N, &err), SW_OK);
    for (uint32_t i = 0; i < N; i++) assert_int_equal(h2[i], sw_f32_bits_to_fp16(f[i]));
    assert_int_equal(sw_convert(h2, SW_DT_FP16, h, SW_DT_BF16, N, &err), SW_OK);
    for (uint32_t i = 0; i < N; i++)
        assert_int_equal(h2[i], sw_convert_bits(SW_DT_BF16, SW_DT_FP16, i));
    assert_int_equal(fesetround(FE_TONEAREST), 0);

    /* same type: a bit copy, NaN payloads kept */
    f[0] = 0xFFC12345u;
    uint32_t f2[4] = {0};
    assert_int_equal(sw_convert(f2, SW_DT_FP32, f, SW_DT_FP32, 4, &err), SW_OK);
    assert_memory_equal(f2, f, sizeof f2);

    /* integer widenings: sign- and zero-extension */
    int8_t i8[3] = {-128, -1, 127};
    uint8_t u8[3] = {0, 200, 255};
    int32_t i32[3];
    int64_t i64[3];
    assert_int_equal(sw_convert(i32, SW_DT_INT32, i8, SW_DT_INT8, 3, &err), SW_OK);
    assert_int_equal(i32[0], -128); assert_int_equal(i32[1], -1); assert_int_equal(i32[2], 127);
    assert_int_equal(sw_convert(i64, SW_DT_INT64, u8, SW_DT_UINT8, 3, &err), SW_OK);
    assert_int_equal(i64[1], 200); assert_int_equal(i64[2], 255);
    i32[0] = INT32_MIN;
    assert_int_equal(sw_convert(i64, SW_DT_INT64, i32, SW_DT_INT32, 3, &err), SW_OK);
    assert_true(i64[0] == INT32_MIN && i64[1] == -1);
    assert_int_equal(sw_convert_bits(SW_DT_INT8, SW_DT_INT64, 0x80), UINT64_C(0xFFFFFFFFFFFFFF80));
    assert_int_equal(sw_convert_bits(SW_DT_INT8, SW_DT_INT32, 0xFFFFFF80), 0xFFFFFF80u);

    /* unsupported: error naming both dtypes, nothing written */
    memset(f2, 0xAB, sizeof f2);
    assert_int_equal(sw_convert(f2, SW_DT_INT32, f, SW_DT_FP32, 4, &err), SW_UNSUPPORTED);
    assert_int_equal(err.status, SW_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "fp32"));
    assert_non_null(strstr(err.msg, "int32"));
    assert_int_equal(f2[0], 0xABABABABu);
    assert_int_equal(sw_convert(i8, SW_DT_INT8, i32, SW_DT_INT32, 3, NULL), SW_UNSUPPORTED);
    assert_int_equal(sw_convert(u8, SW_DT_UINT8, i8, SW_DT_INT8, 3, &err), SW_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "int8 to uint8"));
    assert_int_equal(sw_convert_elem(f2, SW_DT_FP32, i8, SW_DT_INT8), -1);
    /* usage errors */
    assert_int_equal(sw_convert(f2, SW_DT_COUNT, f, SW_DT_FP32, 4, &err), SW_USAGE);
    assert_int_equal(sw_convert(NULL, SW_DT_BF16, f, SW_DT_FP32, 4, &err), SW_USAGE);
    assert_int_equal(sw_convert(NULL, SW_DT_BF16, NULL, SW_DT_FP32, 0, &err), SW_OK);

    /* sw_convert_elem */
    uint16_t one_bf16 = 0x3F80;
    double one_d = 0;
    assert_int_equal(sw_convert_elem(&one_d, SW_DT_FP64, &one_bf16, SW_DT_BF16), 0);
    assert_true(one_d == 1.0);

    free(h); free(h2); free(f); free(d); free(b);
}

/* ---- validation fill ---------------------------------------------------------------- */

static void test_val_hash_and_key(void **state) {
    (void)state;
    /* FNV-1a 64 test vectors */
    assert_int_equal(sw_val_key(""), UINT64_C(0xcbf29ce484222325));
    assert_int_equal(sw_val_key("a"), UINT64_C(0xaf63dc4c8601ec8c));
    assert_int_equal(sw_val_key("foobar"), UINT64_C(0x85944171f73967e8));
    assert_int_equal(sw_val_key(NULL), sw_val_key(""));
    /* SplitMix64 seeded with 0: first outputs are the published reference values */
    assert_int_equal(sw_val_hash(0, 0), UINT64_C(0xE220A8397B1DCDAF));
    assert_int_equal(sw_val_hash(0, 1), UINT64_C(0x6E789E6AA1B965F4));
    assert_int_equal(sw_val_hash(0, 2), UINT64_C(0x06C45D188009454F));
    /* fill_elem writes the low bits */
    uint64_t h = UINT64_C(0x1122334455667788);
    uint8_t b8 = 0;
    uint16_t b16 = 0;
    uint32_t b32 = 0;
    uint64_t b64 = 0;
    sw_val_fill_elem(SW_DT_FP8_E4M3, h, &b8);
    sw_val_fill_elem(SW_DT_BF16, h, &b16);
    sw_val_fill_elem(SW_DT_INT32, h, &b32);
    sw_val_fill_elem(SW_DT_FP64, h, &b64);
    assert_int_equal(b8, 0x88);
    assert_int_equal(b16, 0x7788);
    assert_int_equal(b32, 0x55667788u);
    assert_int_equal(b64, h);
}

static void test_val_fill_check(void **state) {
    (void)state;
    enum { N = 1000 };
    uint64_t key = sw_val_key("model.layers.0.self_attn.q_proj.weight");
    uint16_t src[N];
    uint32_t got32[N];
    uint8_t got8[N];
    size_t bad = 99;

    sw_val_fill(src, SW_DT_BF16, key, 5000, N);
    for (size_t i = 0; i < N; i++)
        assert_int_equal(src[i], (uint16_t)sw_val_hash(key, 5000 + i));
    /* same dtype */
    assert_int_equal(sw_val_check(src, SW_DT_BF16, SW_DT_BF16, key, 5000, N, &bad), 0);
    assert_int_equal(bad, N);
    /* a sub-run starting elsewhere matches too */
    assert_int_equal(sw_val_check(src + 10, SW_DT_BF16, SW_DT_BF16, key, 5010, N - 10, &bad), 0);
    /* off by one index: (almost) everything mismatches, first at 0 */
    assert_true(sw_val_check(src, SW_DT_BF16, SW_DT_BF16, key, 5001, N, &bad) > N - 5);
    assert_int_equal(bad, 0);

    /* bf16 -> fp32 and bf16 -> e4m3 through sw_convert, then one corrupted element */
    assert_int_equal(sw_convert(got32, SW_DT_FP32, src, SW_DT_BF16, N, NULL), SW_OK);
    assert_int_equal(sw_val_check(got32, SW_DT_FP32, SW_DT_BF16, key, 5000, N, &bad), 0);
    got32[637] ^= 0x10000u;
    assert_int_equal(sw_val_check(got32, SW_DT_FP32, SW_DT_BF16, key, 5000, N, &bad), 1);
    assert_int_equal(bad, 637);
    got32[901] ^= 1u; /* a low bit a bf16 source can never set */
    assert_int_equal(sw_val_check(got32, SW_DT_FP32, SW_DT_BF16, key, 5000, N, &bad), 2);
    assert_int_equal(bad, 637);

    assert_int_equal(sw_convert(got8, SW_DT_FP8_E4M3, src, SW_DT_BF16, N, NULL), SW_OK);
    assert_int_equal(sw_val_check(got8, SW_DT_FP8_E4M3, SW_DT_BF16, key, 5000, N, &bad), 0);
    got8[3] ^= 0x01u;
    assert_int_equal(sw_val_check(got8, SW_DT_FP8_E4M3, SW_DT_BF16, key, 5000, N, &bad), 1);
    assert_int_equal(bad, 3);

    /* every dtype pair that is supported: fill, convert, check, corrupt the last */
    static uint8_t sbuf[N * 8], dbuf[N * 8];
    for (int s = 0; s < SW_DT_COUNT; s++)
        for (int t = 0; t < SW_DT_COUNT; t++) {
            if (!sw_convert_supported((sw_dtype)s, (sw_dtype)t)) {
                assert_int_equal(sw_val_check(dbuf, (sw_dtype)t, (sw_dtype)s, key, 0, N, &bad), N);
                continue;
            }
            sw_val_fill(sbuf, (sw_dtype)s, key, 77, N);
            assert_int_equal(sw_convert(dbuf, (sw_dtype)t, sbuf, (sw_dtype)s, N, NULL), SW_OK);
            assert_int_equal(sw_val_check(dbuf, (sw_dtype)t, (sw_dtype)s, key, 77, N, &bad), 0);
            size_t last = (size_t)(N - 1) * (size_t)sw__dt_bytes((sw_dtype)t);
            dbuf[last] ^= 0x80u; /* flip the top bit of the low byte */
            assert_int_equal(sw_val_check(dbuf, (sw_dtype)t, (sw_dtype)s, key, 77, N, &bad), 1);
            assert_int_equal(bad, N - 1);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bf16),
        cmocka_unit_test(test_fp16),
        cmocka_unit_test(test_e4m3),
        cmocka_unit_test(test_e5m2),
        cmocka_unit_test(test_fp8_all_codes),
        cmocka_unit_test(test_fp64),
        cmocka_unit_test(test_roundtrip_16bit),
        cmocka_unit_test(test_narrow_vs_reference),
        cmocka_unit_test(test_supported_matrix),
        cmocka_unit_test(test_convert_bulk),
        cmocka_unit_test(test_val_hash_and_key),
        cmocka_unit_test(test_val_fill_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
