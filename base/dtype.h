/*
 * dtype.h - element types of logical and local tensors.
 *
 * Usable from host C and from CUDA device code (only macros, an enum and inline
 * functions without library calls).
 */
#ifndef SW_DTYPE_H
#define SW_DTYPE_H

#include <stdint.h>
#include <string.h>

#define SW_DTYPE_MAP(X)            \
    X(BF16, "bf16", 2, 1)          \
    X(FP16, "fp16", 2, 1)          \
    X(FP32, "fp32", 4, 1)          \
    X(FP64, "fp64", 8, 1)          \
    X(FP8_E4M3, "fp8_e4m3", 1, 1)  \
    X(FP8_E5M2, "fp8_e5m2", 1, 1)  \
    X(INT8, "int8", 1, 0)          \
    X(UINT8, "uint8", 1, 0)        \
    X(INT32, "int32", 4, 0)        \
    X(INT64, "int64", 8, 0)

typedef enum sw_dtype {
#define SW__DT_ENUM(e, name, size, isfloat) SW_DT_##e,
    SW_DTYPE_MAP(SW__DT_ENUM)
#undef SW__DT_ENUM
    SW_DT_COUNT
} sw_dtype;

/* bytes per element */
static inline int sw_dtype_size(sw_dtype t) {
    switch (t) {
#define SW__DT_SIZE(e, name, size, isfloat) case SW_DT_##e: return size;
        SW_DTYPE_MAP(SW__DT_SIZE)
#undef SW__DT_SIZE
    default: return 0;
    }
}

static inline int sw_dtype_is_float(sw_dtype t) {
    switch (t) {
#define SW__DT_FLT(e, name, size, isfloat) case SW_DT_##e: return isfloat;
        SW_DTYPE_MAP(SW__DT_FLT)
#undef SW__DT_FLT
    default: return 0;
    }
}

static inline const char *sw_dtype_name(sw_dtype t) {
    switch (t) {
#define SW__DT_NAME(e, name, size, isfloat) case SW_DT_##e: return name;
        SW_DTYPE_MAP(SW__DT_NAME)
#undef SW__DT_NAME
    default: return "?";
    }
}

/* 1 when elements of `from` can be converted to `to` (the runtime's rule, runtime/convert.h
 * sw_convert_supported, which tests/test_convert.c checks against this): the same type,
 * float -> float, and the lossless integer widenings int8/uint8 -> int32/int64 and
 * int32 -> int64.  Int <-> float, integer narrowings and signedness changes are not. */
static inline int sw_dtype_convertible(sw_dtype from, sw_dtype to) {
    if (sw_dtype_size(from) == 0 || sw_dtype_size(to) == 0) return 0;
    if (from == to) return 1;
    if (sw_dtype_is_float(from) && sw_dtype_is_float(to)) return 1;
    if (from == SW_DT_INT8 || from == SW_DT_UINT8) return to == SW_DT_INT32 || to == SW_DT_INT64;
    return from == SW_DT_INT32 && to == SW_DT_INT64;
}

/* Parses a dtype name ("bf16", ...); returns 0 and sets *out, or -1. */
static inline int sw_dtype_parse(const char *s, sw_dtype *out) {
#define SW__DT_PARSE(e, name, size, isfloat) \
    if (!strcmp(s, name)) { *out = SW_DT_##e; return 0; }
    SW_DTYPE_MAP(SW__DT_PARSE)
#undef SW__DT_PARSE
    return -1;
}

#endif
