/*
 * kernels.cu - pack, unpack+convert, copy, fill and check kernels of the nccl backend.
 *
 * Index math and conversions are the SW_HD functions of boxmath.h, convert.h and
 * segdesc.h: the same code the CPU runs in sw_seg_run_host (tests/test_runtime.c runs
 * every conformance plan through it).
 */
#include <cuda_runtime.h>

#include "kernels.h"

#define SW_K_THREADS 256

/* Copies len bytes with loads of T once dst is aligned to T (src is congruent). */
template <typename T>
__device__ static void copy_vec(uint8_t *dst, const uint8_t *src, uint64_t len) {
    const uint64_t w = sizeof(T);
    uint64_t head = (w - ((uintptr_t)dst & (w - 1))) & (w - 1);
    if (head > len) head = len;
    uint64_t nv = (len - head) / w;
    for (uint64_t i = threadIdx.x; i < head; i += blockDim.x) dst[i] = src[i];
    T *dv = (T *)(dst + head);
    const T *sv = (const T *)(src + head);
    for (uint64_t i = threadIdx.x; i < nv; i += blockDim.x) dv[i] = sv[i];
    for (uint64_t i = head + nv * w + threadIdx.x; i < len; i += blockDim.x) dst[i] = src[i];
}

__device__ static void copy_range(uint8_t *dst, const uint8_t *src, uint64_t len) {
    uintptr_t mis = (uintptr_t)dst ^ (uintptr_t)src;
    if (!(mis & 15)) copy_vec<uint4>(dst, src, len);
    else if (!(mis & 7)) copy_vec<uint2>(dst, src, len);
    else if (!(mis & 3)) copy_vec<uint32_t>(dst, src, len);
    else if (!(mis & 1)) copy_vec<uint16_t>(dst, src, len);
    else copy_vec<uint8_t>(dst, src, len);
}

/* Block b takes the contiguous chunks [b * per, (b + 1) * per) (per = ceil(nchunks /
 * gridDim.x)); chunk c belongs to the last descriptor j with chunk0[j] <= c.  Thread 0
 * finds the first chunk's descriptor by binary search, then steps forward: consecutive
 * chunks mostly share a descriptor, which stays in shared memory (review F10). */
__global__ static void move_kernel(const sw_seg_desc *descs, const uint64_t *chunk0, uint32_t n, uint64_t nchunks,
                                   void *const *ptrs, uint8_t *staging) {
    __shared__ sw_seg_desc d;
    __shared__ uint32_t sj;
    uint64_t per = (nchunks + gridDim.x - 1) / gridDim.x;
    uint64_t c0 = (uint64_t)blockIdx.x * per, c1 = c0 + per < nchunks ? c0 + per : nchunks;
    uint32_t cur = UINT32_MAX, j = 0;
    for (uint64_t c = c0; c < c1; c++) {
        __syncthreads();
        if (threadIdx.x == 0) {
            j = sw_k_desc_of(chunk0, n, c, cur == UINT32_MAX ? UINT32_MAX : j);
            sj = j;
        }
        __syncthreads();
        j = sj;
        if (j != cur) {
            const uint32_t *from = (const uint32_t *)&descs[j];
            uint32_t *to = (uint32_t *)&d;
            for (uint32_t k = threadIdx.x; k < sizeof(sw_seg_desc) / 4; k += blockDim.x) to[k] = from[k];
            cur = j;
            __syncthreads();
        }
        uint64_t cc = c - chunk0[j];
        if (d.flags & SW_SEG_BYTECOPY) {
            uint64_t total = sw_seg_bytes(&d, 0), b0 = cc * SW_K_CHUNK_BYTES;
            uint64_t b1 = b0 + SW_K_CHUNK_BYTES < total ? b0 + SW_K_CHUNK_BYTES : total;
            copy_range(sw_seg_addr(&d, 1, 0, ptrs, staging) + b0, sw_seg_addr(&d, 0, 0, ptrs, staging) + b0, b1 - b0);
        } else if (d.flags & SW_SEG_ROWCOPY) {
            /* the chunk's bytes, row piece by row piece (offsets once per row piece) */
            uint64_t es = (uint64_t)sw__dt_bytes((sw_dtype)d.dtype[0]), pe = SW_K_CHUNK_BYTES / es;
            uint64_t e = cc * pe, e1 = e + pe < d.nelem ? e + pe : d.nelem;
            while (e < e1) {
                uint64_t run = sw_seg_row(&d, e, e1 - e);
                copy_range(sw_seg_addr(&d, 1, e, ptrs, staging), sw_seg_addr(&d, 0, e, ptrs, staging), run * es);
                e += run;
            }
        } else {
            uint64_t e0 = cc * SW_K_CHUNK_ELEMS;
            uint64_t e1 = e0 + SW_K_CHUNK_ELEMS < d.nelem ? e0 + SW_K_CHUNK_ELEMS : d.nelem;
            for (uint64_t i = e0 + threadIdx.x; i < e1; i += blockDim.x) (void)sw_seg_move_elem(&d, i, ptrs, staging);
        }
    }
}

extern "C" int sw_k_move(const sw_seg_desc *descs, const uint64_t *chunk0, uint32_t n, uint64_t nchunks,
                         void *const *ptrs_dev, uint8_t *staging, void *stream) {
    if (!n || !nchunks) return 0;
    uint64_t blocks = nchunks < 8192 ? nchunks : 8192;
    (void)cudaGetLastError(); /* the launch's own result below, not an earlier call's (F1) */
    move_kernel<<<(unsigned)blocks, SW_K_THREADS, 0, (cudaStream_t)stream>>>(descs, chunk0, n, nchunks, ptrs_dev,
                                                                               staging);
    return (int)cudaGetLastError();
}

__global__ static void fill_kernel(const sw_val_desc *descs, uint32_t n, void *const *ptrs) {
    for (uint32_t j = blockIdx.y; j < n; j += gridDim.y) {
        const sw_val_desc *d = &descs[j];
        uint8_t *base = (uint8_t *)ptrs[d->local];
        uint64_t es = (uint64_t)sw__dt_bytes((sw_dtype)d->dtype);
        for (uint64_t e = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; e < d->nelem;
             e += (uint64_t)gridDim.x * blockDim.x)
            sw_val_fill_elem((sw_dtype)d->dtype, sw_val_hash(d->key, sw_k_logical_index(d, e)),
                             base + (uint64_t)sw_box_offset(&d->geo, &d->side, e) * es);
    }
}

__global__ static void check_kernel(const sw_val_desc *descs, uint32_t n, void *const *ptrs, sw_val_result *res) {
    for (uint32_t j = blockIdx.y; j < n; j += gridDim.y) {
        const sw_val_desc *d = &descs[j];
        const uint8_t *base = (const uint8_t *)ptrs[d->local];
        uint64_t es = (uint64_t)sw__dt_bytes((sw_dtype)d->dtype);
        for (uint64_t e = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; e < d->nelem;
             e += (uint64_t)gridDim.x * blockDim.x) {
            uint64_t want = sw_val_hash(d->key, sw_k_logical_index(d, e)) & sw__dt_mask((sw_dtype)d->chain[d->nchain - 1]);
            for (int h = d->nchain - 1; h > 0; h--)
                want = sw_convert_bits((sw_dtype)d->chain[h], (sw_dtype)d->chain[h - 1], want);
            int64_t off = sw_box_offset(&d->geo, &d->side, e);
            uint64_t got = sw__load_bits((sw_dtype)d->dtype, base + (uint64_t)off * es);
            if (got != want) {
                unsigned long long k = atomicAdd(&res->bad, 1ull);
                if (k < SW_K_MAXBAD) {
                    res->shown[k].local = d->local;
                    res->shown[k].off = off;
                    res->shown[k].expected = want;
                    res->shown[k].got = got;
                }
            }
        }
    }
}

static dim3 val_grid(uint32_t n) { return dim3(256, n < 65535 ? n : 65535); }

extern "C" int sw_k_fill(const sw_val_desc *descs, uint32_t n, void *const *ptrs_dev, void *stream) {
    if (!n) return 0;
    (void)cudaGetLastError();
    fill_kernel<<<val_grid(n), SW_K_THREADS, 0, (cudaStream_t)stream>>>(descs, n, ptrs_dev);
    return (int)cudaGetLastError();
}

extern "C" int sw_k_check(const sw_val_desc *descs, uint32_t n, void *const *ptrs_dev, sw_val_result *res,
                          void *stream) {
    if (!n) return 0;
    (void)cudaGetLastError();
    check_kernel<<<val_grid(n), SW_K_THREADS, 0, (cudaStream_t)stream>>>(descs, n, ptrs_dev, res);
    return (int)cudaGetLastError();
}

extern "C" int sw_k_preload(void) {
    cudaFuncAttributes a;
    cudaError_t e = cudaFuncGetAttributes(&a, move_kernel);
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&a, fill_kernel);
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&a, check_kernel);
    return (int)e;
}
