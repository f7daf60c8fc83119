/*
 * kernels.h - the nccl backend's CUDA kernels, behind a C interface (kernels.cu).
 *
 * Every launcher enqueues on `stream` (a cudaStream_t) and returns a cudaError_t as int
 * (0: launched).  It clears the calling thread's last CUDA error before the launch, so
 * what it returns is the launch's own result, not an error an earlier call left behind
 * (a cudaEventQuery's cudaErrorNotReady: review F1).  Descriptor tables live in device memory; ptrs_dev is a device array of
 * the plan locals' device pointers (NULL for locals of other ranks).
 */
#ifndef SW_NCCL_KERNELS_H
#define SW_NCCL_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "segdesc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Work split of the move kernel: a descriptor is cut into chunks of this many bytes
 * (byte copies) or elements (converting moves); blocks take chunks. */
#define SW_K_CHUNK_BYTES 16384u
#define SW_K_CHUNK_ELEMS 1024u

/* Chunks of one descriptor under the split above. */
static inline uint64_t sw_k_chunks(const sw_seg_desc *d) {
    if (d->flags & (SW_SEG_BYTECOPY | SW_SEG_ROWCOPY)) return (sw_seg_bytes(d, 0) + SW_K_CHUNK_BYTES - 1) / SW_K_CHUNK_BYTES;
    return (d->nelem + SW_K_CHUNK_ELEMS - 1) / SW_K_CHUNK_ELEMS;
}

/* The descriptor of chunk c in a table with prefix sums chunk0[0 .. n] (chunk0[0] = 0,
 * c < chunk0[n]): the last j < n with chunk0[j] <= c (descriptors of no chunks are
 * skipped).  hint: a descriptor at or before the answer (the previous chunk's), whence it
 * steps forward; UINT32_MAX: none, binary search.  The move kernel's thread 0 runs it. */
SW_HD static inline uint32_t sw_k_desc_of(const uint64_t *chunk0, uint32_t n, uint64_t c, uint32_t hint) {
    uint32_t j = hint;
    if (j == UINT32_MAX) {
        uint32_t lo = 0, hi = n; /* chunk0[lo] <= c < chunk0[hi] */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (chunk0[mid] <= c) lo = mid;
            else hi = mid;
        }
        j = lo;
    }
    while (j + 1 < n && chunk0[j + 1] <= c) j++;
    return j;
}

/* Loads the kernels' module now (cudaFuncGetAttributes on each kernel): under CUDA's lazy
 * loading (the default since 12.2) a kernel loads at its first launch, which may need a
 * context synchronization while other kernels (NCCL's) run.  Returns a cudaError_t. */
int sw_k_preload(void);

/* One launch for a whole table: moves descriptors descs[0 .. n) (pack, unpack or copy:
 * segdesc.h).  chunk0[j] is the first chunk of descriptor j (prefix sums of sw_k_chunks,
 * chunk0[n] the total).  staging: the wave's staging buffer (may be NULL for copies). */
int sw_k_move(const sw_seg_desc *descs, const uint64_t *chunk0, uint32_t n, uint64_t nchunks, void *const *ptrs_dev,
              uint8_t *staging, void *stream);

/* Validation (run --validate on the device): one descriptor per piece (fill) or per
 * transfer (check). */
typedef struct sw_val_desc {
    sw_box_geom geo;
    sw_box_side side;
    uint64_t nelem;
    uint64_t key;              /* sw_val_key of the logical tensor */
    int64_t start[SW_BOX_MAXDIM];   /* the box in the logical tensor */
    int64_t tstride[SW_BOX_MAXDIM]; /* row-major strides of the logical tensor */
    uint32_t local;
    int32_t dtype;             /* of the local */
    int32_t chain[4];          /* check: dtypes travelled, chain[nchain-1] the origin, chain[0] = dtype */
    int32_t nchain;
    int32_t pad_;
} sw_val_desc;

/* Linear index, in the whole logical tensor, of element e of descriptor d's box (what
 * the validation hash is keyed on).  The kernels and the CPU fake run this one. */
SW_HD static inline uint64_t sw_k_logical_index(const sw_val_desc *d, uint64_t e) {
    int64_t lin = 0;
    for (int k = d->geo.ndim - 1; k >= 0; k--) {
        uint64_t sz = (uint64_t)d->geo.size[k];
        uint64_t y = sz ? e % sz : 0;
        e = sz ? e / sz : 0;
        lin += (d->start[k] + (int64_t)y) * d->tstride[k];
    }
    return (uint64_t)lin;
}

#define SW_K_MAXBAD 8
typedef struct sw_val_result {
    unsigned long long bad;
    struct {
        uint32_t local;
        int64_t off;           /* element offset in the local */
        uint64_t expected, got;
    } shown[SW_K_MAXBAD];
} sw_val_result;

int sw_k_fill(const sw_val_desc *descs, uint32_t n, void *const *ptrs_dev, void *stream);
/* Adds mismatches to *res (device memory, zeroed by the caller). */
int sw_k_check(const sw_val_desc *descs, uint32_t n, void *const *ptrs_dev, sw_val_result *res, void *stream);

#ifdef __cplusplus
}
#endif
#endif
