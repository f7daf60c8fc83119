/*
 * convert_compile.cu - checks that runtime/convert.h compiles as CUDA device code.
 * Compiled (not linked, not run) by CMake when the nccl backend is built (target
 * sw_cuda_compile_check); by hand:  nvcc -x cu -c -I include -I base \
 *        -o /tmp/convert_compile.o tests/cuda/convert_compile.cu
 * The kernels call every SW_HD function a convert kernel or a validation kernel needs.
 */
#include <stdint.h>
#include "../../runtime/convert.h"

/* Per-element conversion by dtype, as the unpack/convert kernel will do it. */
__global__ void sw_test_convert_kernel(void *dst, sw_dtype dt, const void *src, sw_dtype st,
                                       size_t n, int *unsupported) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int db = sw__dt_bytes(dt), sb = sw__dt_bytes(st);
    if (sw_convert_elem((char *)dst + i * db, dt, (const char *)src + i * sb, st) != 0)
        *unsupported = 1;
}

/* The scalar functions one by one, on 16-bit inputs. */
__global__ void sw_test_scalar_kernel(const uint16_t *in, uint64_t *out, size_t n) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    uint16_t h = in[i];
    float f = sw_bf16_to_f32(h);
    uint64_t acc = sw_f32_to_bf16(f);
    acc ^= (uint64_t)sw_f32_to_fp16(sw_fp16_to_f32(h)) << 16;
    acc ^= (uint64_t)sw_f32_to_e4m3(sw_e4m3_to_f32((uint8_t)h)) << 32;
    acc ^= (uint64_t)sw_f32_to_e5m2(sw_e5m2_to_f32((uint8_t)h)) << 40;
    double d = sw_f32_to_f64(f);
    acc ^= sw_f32_as_bits(sw_f64_to_f32(d));
    acc ^= sw_f64_bits_to_bf16(sw_f64_as_bits(d)) ^ sw_f64_bits_to_fp16(sw_f64_as_bits(d));
    acc ^= sw_f64_bits_to_e4m3(sw_f64_as_bits(d)) ^ sw_f64_bits_to_e5m2(sw_f64_as_bits(d));
    acc ^= sw_convert_bits(SW_DT_FP16, SW_DT_FP8_E4M3, h) + sw_convert_supported(SW_DT_INT8, SW_DT_INT64);
    out[i] = acc;
}

/* The validation fill and check on the device. */
__global__ void sw_test_val_kernel(void *buf, sw_dtype t, sw_dtype src_t, uint64_t key,
                                   uint64_t first, size_t n, unsigned long long *bad) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    uint64_t h = sw_val_hash(key, first + i);
    char *p = (char *)buf + i * sw__dt_bytes(t);
    if (t == src_t) {
        sw_val_fill_elem(t, h, p);
    } else {
        uint64_t want = sw_convert_bits(src_t, t, h);
        if (sw__load_bits(t, p) != want) atomicAdd(bad, 1ull);
    }
}
