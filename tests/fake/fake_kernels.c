/*
 * fake_kernels.c - the launchers of runtime/nccl/kernels.h on the fake device
 * (fake_cuda.h): each queues a host function on the stream that does what the kernel
 * does, with the same SW_HD functions, split the same way (chunks, blocks taking
 * contiguous chunk ranges found with sw_k_desc_of), and that faults like a GPU on a
 * misaligned 2/4/8-byte element access (review F2).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime_api.h>

#include "fake_int.h"
#include "kernels.h"

#define API __attribute__((visibility("default")))

/* The fake's grid: few blocks, so that blocks take several chunks and descriptors. */
#define FAKE_BLOCKS 7u

typedef struct move_args {
    const sw_seg_desc *descs;
    const uint64_t *chunk0;
    uint32_t n;
    uint64_t nchunks;
    void *const *ptrs;
    uint8_t *staging;
} move_args;

/* 1 when an element access of side k at element i would be misaligned. */
static int misaligned(const sw_seg_desc *d, int k, uint64_t i, void *const *ptrs, uint8_t *staging) {
    uint64_t es = (uint64_t)sw__dt_bytes((sw_dtype)d->dtype[k]);
    return es > 1 && (uintptr_t)sw_seg_addr(d, k, i, ptrs, staging) % es != 0;
}

static void run_move(void *arg, int dev) {
    move_args *a = arg;
    if (fake_kernel_faults(dev)) return;
    uint64_t packed = 0, unpacked = 0;
    for (uint32_t j = 0; j < a->n; j++) {
        if (a->descs[j].local[1] == SW_SEG_STAGING) packed += sw_seg_bytes(&a->descs[j], 0);
        if (a->descs[j].local[0] == SW_SEG_STAGING) unpacked += sw_seg_bytes(&a->descs[j], 0);
    }
    fake_note_moved(packed, unpacked);
    uint64_t blocks = a->nchunks < FAKE_BLOCKS ? a->nchunks : FAKE_BLOCKS;
    uint64_t per = (a->nchunks + blocks - 1) / blocks;
    for (uint64_t b = 0; b < blocks; b++) {
        uint32_t j = UINT32_MAX;
        uint64_t c1 = (b + 1) * per < a->nchunks ? (b + 1) * per : a->nchunks;
        for (uint64_t c = b * per; c < c1; c++) {
            j = sw_k_desc_of(a->chunk0, a->n, c, j);
            const sw_seg_desc *d = &a->descs[j];
            uint64_t cc = c - a->chunk0[j];
            if (d->flags & SW_SEG_BYTECOPY) {
                uint64_t total = sw_seg_bytes(d, 0), b0 = cc * SW_K_CHUNK_BYTES;
                uint64_t b1 = b0 + SW_K_CHUNK_BYTES < total ? b0 + SW_K_CHUNK_BYTES : total;
                memmove(sw_seg_addr(d, 1, 0, a->ptrs, a->staging) + b0, sw_seg_addr(d, 0, 0, a->ptrs, a->staging) + b0,
                        b1 - b0);
            } else if (d->flags & SW_SEG_ROWCOPY) {
                uint64_t es = (uint64_t)sw__dt_bytes((sw_dtype)d->dtype[0]), pe = SW_K_CHUNK_BYTES / es;
                uint64_t e = cc * pe, e1 = e + pe < d->nelem ? e + pe : d->nelem;
                while (e < e1) {
                    uint64_t run = sw_seg_row(d, e, e1 - e);
                    memmove(sw_seg_addr(d, 1, e, a->ptrs, a->staging), sw_seg_addr(d, 0, e, a->ptrs, a->staging),
                            run * es);
                    e += run;
                }
            } else {
                uint64_t e0 = cc * SW_K_CHUNK_ELEMS;
                uint64_t e1 = e0 + SW_K_CHUNK_ELEMS < d->nelem ? e0 + SW_K_CHUNK_ELEMS : d->nelem;
                for (uint64_t i = e0; i < e1; i++) {
                    if (misaligned(d, 0, i, a->ptrs, a->staging) || misaligned(d, 1, i, a->ptrs, a->staging)) {
                        fake_device_fault(dev, cudaErrorMisalignedAddress);
                        return;
                    }
                    (void)sw_seg_move_elem(d, i, a->ptrs, a->staging);
                }
            }
        }
    }
}

API int sw_k_move(const sw_seg_desc *descs, const uint64_t *chunk0, uint32_t n, uint64_t nchunks, void *const *ptrs_dev,
                  uint8_t *staging, void *stream) {
    if (!n || !nchunks) return 0;
    pthread_mutex_lock(&fake_mu);
    struct CUstream_st *s;
    if (fake_kernel_begin(stream, &s) == cudaSuccess) {
        move_args *a = malloc(sizeof *a);
        *a = (move_args){descs, chunk0, n, nchunks, ptrs_dev, staging};
        fake_kernel_enqueue(s, run_move, a);
    }
    int e = fake_kernel_end();
    pthread_mutex_unlock(&fake_mu);
    return e;
}

typedef struct val_args {
    const sw_val_desc *descs;
    uint32_t n;
    void *const *ptrs;
    sw_val_result *res;
} val_args;


static void run_val(void *arg, int dev) {
    val_args *a = arg;
    (void)dev; /* injected faults hit the move kernels (the backend's) only */
    for (uint32_t j = 0; j < a->n; j++) {
        const sw_val_desc *d = &a->descs[j];
        uint8_t *base = (uint8_t *)a->ptrs[d->local];
        uint64_t es = (uint64_t)sw__dt_bytes((sw_dtype)d->dtype);
        for (uint64_t e = 0; e < d->nelem; e++) {
            int64_t off = sw_box_offset(&d->geo, &d->side, e);
            uint64_t h = sw_val_hash(d->key, sw_k_logical_index(d, e));
            if (!a->res) {
                sw_val_fill_elem((sw_dtype)d->dtype, h, base + (uint64_t)off * es);
                continue;
            }
            uint64_t want = h & sw__dt_mask((sw_dtype)d->chain[d->nchain - 1]);
            for (int k = d->nchain - 1; k > 0; k--)
                want = sw_convert_bits((sw_dtype)d->chain[k], (sw_dtype)d->chain[k - 1], want);
            uint64_t got = sw__load_bits((sw_dtype)d->dtype, base + (uint64_t)off * es);
            if (got != want) {
                unsigned long long k = a->res->bad++;
                if (k < SW_K_MAXBAD) {
                    a->res->shown[k].local = d->local;
                    a->res->shown[k].off = off;
                    a->res->shown[k].expected = want;
                    a->res->shown[k].got = got;
                }
            }
        }
    }
}

static int launch_val(const sw_val_desc *descs, uint32_t n, void *const *ptrs, sw_val_result *res, void *stream) {
    if (!n) return 0;
    pthread_mutex_lock(&fake_mu);
    struct CUstream_st *s;
    if (fake_kernel_begin(stream, &s) == cudaSuccess) {
        val_args *a = malloc(sizeof *a);
        *a = (val_args){descs, n, ptrs, res};
        fake_kernel_enqueue(s, run_val, a);
    }
    int e = fake_kernel_end();
    pthread_mutex_unlock(&fake_mu);
    return e;
}

API int sw_k_fill(const sw_val_desc *descs, uint32_t n, void *const *ptrs_dev, void *stream) {
    return launch_val(descs, n, ptrs_dev, NULL, stream);
}

API int sw_k_check(const sw_val_desc *descs, uint32_t n, void *const *ptrs_dev, sw_val_result *res, void *stream) {
    return launch_val(descs, n, ptrs_dev, res, stream);
}

API int sw_k_preload(void) {
    pthread_mutex_lock(&fake_mu);
    fake_note_preload();
    pthread_mutex_unlock(&fake_mu);
    return 0;
}
