/*
 * exec.h - the wave executor, shared by every backend.
 *
 * One sw_exec runs one rank's part of a plan: for each wave it takes part in, it packs
 * its outgoing segments into a staging buffer, posts the wave's sends and receives as
 * one group (backend->post), copies what stays inside the process straight from source
 * to destination, unpacks what the previous wave received and packs the next wave while
 * this one is in flight (double buffering on both sides), then waits (backend->wait).
 * Only when the next wave forwards what this one brings (a relay) does it unpack and
 * pack after the wait.  Unpacking converts dtypes.  Backends
 * only move bytes between ranks; they know nothing of tensors.
 */
#ifndef SW_EXEC_H
#define SW_EXEC_H

#include <stddef.h>
#include "plan.h"

/* One message of a wave, as the backend sees it. */
typedef struct sw_msg {
    uint32_t task;   /* plan task index (unique per (src, dst) in one wave) */
    int32_t peer;    /* the other rank */
    void *buf;
    size_t bytes;
} sw_msg;

typedef struct sw_backend {
    const char *name;
    void *ctx;
    /* 1: every rank shares one address space and the backend copies each message itself,
     * straight from the source tensors to the destination ones, in wait (the local
     * backend): the executor neither packs nor unpacks, and messages carry no buffer. */
    int direct;
    /* Posts rank's messages of one wave without blocking. */
    int (*post)(void *ctx, int32_t rank, int32_t wave, sw_msg *sends, size_t ns, sw_msg *recvs, size_t nr,
                sw_error *err);
    /* Returns when everything rank posted for the wave is done (or failed). */
    int (*wait)(void *ctx, int32_t rank, int32_t wave, sw_error *err);
} sw_backend;

typedef struct sw_exec {
    const sw_plan *plan;
    int32_t rank;
    uint32_t *tasks;      /* tasks of this rank, in wave order */
    size_t ntasks;
    size_t *wave0;        /* tasks[wave0[i] .. wave0[i+1]) are its i-th wave */
    size_t nwaves;
    size_t max_send, max_recv; /* staging bytes of one wave */
    uint8_t *sendbuf[2], *recvbuf[2];
    sw_msg *sends[2], *recvs[2];
    uint64_t bytes_sent, bytes_recv, bytes_copied; /* of the last run */
} sw_exec;

/* Prepares rank's schedule and staging buffers (none for a rank outside the plan). */
int sw_exec_init(sw_exec *x, const sw_plan *p, int32_t rank, sw_error *err);
/* Runs one sync.  ptrs[l] is the memory of plan local l for every local of this rank
 * (others are ignored).  Every failure is returned with a message naming the wave and
 * the peer; a failed run never reports success. */
int sw_exec_run(sw_exec *x, const sw_backend *b, void *const *ptrs, sw_error *err);
void sw_exec_free(sw_exec *x);

/* Building blocks, exposed for tests and the CUDA backend's host fallback: */
/* Packs a segment (source dtype) into out; returns the bytes written. */
size_t sw_exec_pack(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, uint8_t *out);
/* Unpacks a segment from in (source dtype) into its destination, converting. */
int sw_exec_unpack(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, const uint8_t *in, sw_error *err);
/* Copies a segment from its source local to its destination local, converting. */
int sw_exec_copy(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, sw_error *err);

/* Bytes of a local tensor. */
size_t sw_local_nbytes(const sw_plan_local *l);

#endif
