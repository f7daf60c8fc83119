/*
 * bench_nccl_pack - throughput of the nccl backend's pack / unpack kernels against
 * cudaMemcpy (device to device) of the same bytes.  Goal: ratio >= 0.8.
 *
 *   contiguous pack     a [8192, 8192] bf16 tensor, whole rows, 1 MiB segments
 *   strided pack        its left half of columns (a TP shard of the inner dim), row by
 *                       row, and element by element (the path of converting moves)
 *   unpack bf16->fp32   staging into a [8192, 8192] fp32 tensor (converting)
 *   many small          the contiguous pack cut into 4 KiB and 16 KiB descriptors (a small
 *                       bucket, many tensors: the descriptor search of each block, review
 *                       F10)
 *
 * Every CUDA call and launch is checked: a faulting kernel stops the benchmark with the
 * error (exit 1) instead of printing timings of nothing (review F12).
 * Prints one line per case.  Skips (exit 0; 77 with --ctest, CTest's skip code) without a
 * CUDA build or a device.  Reports; asserts nothing about the ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SW_HAVE_NCCL
#include <cuda_runtime_api.h>

#include "backend_nccl.h"
#include "kernels.h"

enum { ROWS = 8192, COLS = 8192, ITERS = 10 };

/* A failed CUDA call or launch ends the benchmark, naming it. */
#define CK(call)                                                                                       \
    do {                                                                                               \
        int ck_ = (int)(call);                                                                         \
        if (ck_) {                                                                                     \
            fprintf(stderr, "bench_nccl_pack: %s failed: %s\n", #call, cudaGetErrorString((cudaError_t)ck_)); \
            exit(1);                                                                                   \
        }                                                                                              \
    } while (0)

static int cmp(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Descriptors of a [rows, cols] box of a [ROWS, COLS] local at column col0, cut into
 * segments of seg elements; staging on side `staged` (0: unpack, 1: pack). */
static size_t make_descs(sw_seg_desc *out, int64_t cols, int64_t col0, uint64_t seg, int staged, sw_dtype st,
                         sw_dtype dt) {
    int64_t shape[2] = {ROWS, COLS}, start[2] = {0, col0}, base[2] = {0, 0};
    int8_t map[2] = {0, 1};
    uint64_t nelem = (uint64_t)ROWS * (uint64_t)cols, n = 0, off = 0;
    for (uint64_t e = 0; e < nelem; e += seg, n++) {
        sw_seg_desc *d = &out[n];
        memset(d, 0, sizeof *d);
        d->geo.ndim = 2;
        d->geo.size[0] = ROWS;
        d->geo.size[1] = cols;
        d->elem0 = e;
        d->nelem = nelem - e < seg ? nelem - e : seg;
        d->buf_off = off;
        d->dtype[0] = (int32_t)st;
        d->dtype[1] = (int32_t)dt;
        d->local[staged] = SW_SEG_STAGING;
        d->local[1 - staged] = 0;
        sw_box_side_init(&d->side[1 - staged], 2, shape, map, base, 2, start);
        if (st == dt && sw_seg_side_linear(d, 0) && sw_seg_side_linear(d, 1)) d->flags |= SW_SEG_BYTECOPY;
        else if (st == dt && cols >= SW_SEG_MIN_ROW) d->flags |= SW_SEG_ROWCOPY; /* as exec.c decides */
        off += d->nelem * (uint64_t)sw_dtype_size(st);
    }
    return (size_t)n;
}

static float time_move(const sw_seg_desc *h, size_t n, void **ptrs_dev, uint8_t *staging) {
    uint64_t *pre = calloc(n + 1, sizeof *pre);
    for (size_t j = 0; j < n; j++) pre[j + 1] = pre[j] + sw_k_chunks(&h[j]);
    sw_seg_desc *d;
    uint64_t *dp;
    CK(cudaMalloc((void **)&d, n * sizeof *d));
    CK(cudaMalloc((void **)&dp, (n + 1) * sizeof *dp));
    CK(cudaMemcpy(d, h, n * sizeof *d, cudaMemcpyHostToDevice));
    CK(cudaMemcpy(dp, pre, (n + 1) * sizeof *dp, cudaMemcpyHostToDevice));
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    float t[ITERS];
    for (int i = 0; i < ITERS + 1; i++) {
        CK(cudaEventRecord(a, NULL));
        CK(sw_k_move(d, dp, (uint32_t)n, pre[n], ptrs_dev, staging, NULL));
        CK(cudaEventRecord(b, NULL));
        CK(cudaEventSynchronize(b)); /* a fault of the kernel surfaces here */
        if (i) CK(cudaEventElapsedTime(&t[i - 1], a, b));
    }
    qsort(t, ITERS, sizeof *t, cmp);
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    CK(cudaFree(d));
    CK(cudaFree(dp));
    free(pre);
    return t[ITERS / 2];
}

static float time_memcpy(void *dst, const void *src, size_t bytes) {
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    float t[ITERS];
    for (int i = 0; i < ITERS + 1; i++) {
        CK(cudaEventRecord(a, NULL));
        CK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, NULL));
        CK(cudaEventRecord(b, NULL));
        CK(cudaEventSynchronize(b));
        if (i) CK(cudaEventElapsedTime(&t[i - 1], a, b));
    }
    qsort(t, ITERS, sizeof *t, cmp);
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    return t[ITERS / 2];
}

static void report(const char *what, size_t bytes, float k_ms, float m_ms) {
    printf("%-22s %8.1f MiB  kernel %7.3f ms (%6.1f GB/s)  cudaMemcpy %7.3f ms (%6.1f GB/s)  ratio %.2f%s\n", what,
           (double)bytes / (1 << 20), k_ms, (double)bytes / (k_ms * 1e6), m_ms, (double)bytes / (m_ms * 1e6),
           m_ms / k_ms, m_ms / k_ms >= 0.8 ? "" : "  (below the 0.8 goal)");
}

int main(int argc, char **argv) {
    sw_error err;
    int skip = argc > 1 && !strcmp(argv[1], "--ctest") ? 77 : 0;
    if (sw_nccl_have_device(&err)) {
        printf("bench_nccl_pack: skipped: %s\n", err.msg);
        return skip;
    }
    size_t n16 = (size_t)ROWS * COLS * 2, n32 = (size_t)ROWS * COLS * 4;
    void *src = NULL, *dst32 = NULL, **tab = NULL;
    uint8_t *stg = NULL;
    if (cudaMalloc(&src, n16) || cudaMalloc(&dst32, n32) || cudaMalloc((void **)&stg, n32) ||
        cudaMalloc((void **)&tab, 2 * sizeof *tab)) {
        printf("bench_nccl_pack: skipped: cannot allocate %zu MiB of device memory\n", (n16 + n32 * 2) >> 20);
        return skip;
    }
    CK(cudaMemset(src, 0x3c, n16));
    size_t maxd = (size_t)ROWS * COLS / 2048 + 2; /* 4 KiB bf16 descriptors */
    sw_seg_desc *h = calloc(maxd, sizeof *h);
    /* pack: local 0 = src (bf16) */
    CK(cudaMemcpy(tab, &src, sizeof src, cudaMemcpyHostToDevice));
    size_t n = make_descs(h, COLS, 0, 1 << 19, 1, SW_DT_BF16, SW_DT_BF16);
    report("contiguous pack", n16, time_move(h, n, tab, stg), time_memcpy(stg, src, n16));
    n = make_descs(h, COLS / 2, 0, 1 << 19, 1, SW_DT_BF16, SW_DT_BF16);
    report("strided pack (cols/2)", n16 / 2, time_move(h, n, tab, stg), time_memcpy(stg, src, n16 / 2));
    for (size_t j = 0; j < n; j++) h[j].flags = 0;
    report("  same, per element", n16 / 2, time_move(h, n, tab, stg), time_memcpy(stg, src, n16 / 2));
    n = make_descs(h, COLS, 0, 1 << 13, 1, SW_DT_BF16, SW_DT_BF16);
    printf("(%zu descriptors of 16 KiB)\n", n);
    report("many small: 16 KiB", n16, time_move(h, n, tab, stg), time_memcpy(stg, src, n16));
    n = make_descs(h, COLS, 0, 1 << 11, 1, SW_DT_BF16, SW_DT_BF16);
    printf("(%zu descriptors of 4 KiB)\n", n);
    report("many small: 4 KiB", n16, time_move(h, n, tab, stg), time_memcpy(stg, src, n16));
    /* unpack: local 0 = dst32 (fp32), converting; compared with a copy of the bytes read */
    CK(cudaMemcpy(tab, &dst32, sizeof dst32, cudaMemcpyHostToDevice));
    n = make_descs(h, COLS, 0, 1 << 19, 0, SW_DT_BF16, SW_DT_FP32);
    /* bytes written; cudaMemcpy of as many */
    report("unpack bf16->fp32", n32, time_move(h, n, tab, stg), time_memcpy(dst32, stg, n32));
    n = make_descs(h, COLS, 0, 1 << 18, 0, SW_DT_FP32, SW_DT_FP32);
    report("unpack fp32 (bytes)", n32, time_move(h, n, tab, stg), time_memcpy(dst32, stg, n32));
    free(h);
    cudaFree(src);
    cudaFree(dst32);
    cudaFree(stg);
    cudaFree(tab);
    return 0;
}
#else
int main(int argc, char **argv) {
    printf("bench_nccl_pack: skipped: this build has no CUDA/NCCL\n");
    return argc > 1 && !strcmp(argv[1], "--ctest") ? 77 : 0;
}
#endif
