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
#include "segdesc.h"

/* One part of a message: `bytes` bytes at `addr`, in a tensor's memory or in staging. */
typedef struct sw_iov {
    void *addr;
    size_t bytes;
} sw_iov;

/* One message of a wave, as the backend sees it.  Without iov (niov == 0) the message is
 * `bytes` bytes at buf (staging).  With iov (a backend that sets sw_backend.iov) it is
 * the parts iov[0 .. niov) in that order, `bytes` in all; buf is then where its staged
 * parts start. */
typedef struct sw_msg {
    uint32_t task;   /* plan task index (unique per (src, dst) in one wave) */
    int32_t peer;    /* the other rank */
    void *buf;
    size_t bytes;
    const sw_iov *iov;
    size_t niov;
} sw_msg;

struct sw_exec;

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
    /* Returns when everything rank posted for the wave is done (or failed).  A backend
     * with the device hooks below may return at once: its streams order every later step
     * after the wave, and it waits for the waves itself before the sync ends (nccl). */
    int (*wait)(void *ctx, int32_t rank, int32_t wave, sw_error *err);
    /* Optional, for a backend whose tensors and staging live on a device (nccl): when
     * set, the executor calls them instead of moving bytes on the host.  i is the
     * executor's wave index (x->wave0); wave i uses staging slot i % 2.  They may return
     * before the work is done, as long as the backend orders it (pack before the wave's
     * post, unpack after its wait).  The segments of each are those of
     * sw_exec_wave_descs(x, i, SW_SEGS_PACK / SW_SEGS_COPY / SW_SEGS_UNPACK). */
    int (*pack)(void *ctx, const struct sw_exec *x, size_t i, void *const *ptrs, sw_error *err);
    int (*copy)(void *ctx, const struct sw_exec *x, size_t i, void *const *ptrs, sw_error *err);
    int (*unpack)(void *ctx, const struct sw_exec *x, size_t i, void *const *ptrs, sw_error *err);
    /* 1: the backend takes messages in parts (sw_msg.iov), the zero-copy contract.  The
     * executor cuts every message into the same parts at both ends, from the segment
     * sizes alone: a segment of at least SW_PLAN_ZC_MIN bytes is a part of its own, each
     * maximal run of smaller segments one part.  A part of one segment lies in place,
     * in the tensor, when the segment is one contiguous run of it on that rank's side
     * (sw_plan_seg_run; on the receiving side also the same dtype); every other part is
     * staged where a whole packed message would hold it (each segment at a multiple of
     * its element size from the message's staging start, sw_plan_seg_start; a run of
     * small segments with the padding between them), packed before the post and
     * unpacked after the wait.  The backend moves part k of the
     * sender into part k of the receiver: the mpi backend posts one MPI message per part
     * (same pair and tag: MPI keeps them in order); a device backend that packs itself
     * (pack/unpack above) honours it by leaving the in-place segments out of its
     * kernels and sending / receiving those parts in place within its group. */
    int iov;
} sw_backend;

typedef struct sw_exec {
    const sw_plan *plan;
    int32_t rank;
    uint32_t *tasks;      /* tasks of this rank, in wave order */
    size_t ntasks;
    size_t *wave0;        /* tasks[wave0[i] .. wave0[i+1]) are its i-th wave */
    size_t nwaves;
    size_t max_send, max_recv; /* staging bytes of one wave */
    uint8_t *sendbuf[2], *recvbuf[2]; /* messages start at multiples of SW_STAGING_ALIGN */
    /* Or one arena (sw_exec_set_arena, a device backend's): wave i's outgoing messages at
     * arena + send_at[i], its incoming ones at arena + recv_at[i]. */
    uint8_t *arena;
    uint64_t *send_at, *recv_at;
    sw_msg *sends[2], *recvs[2];
    uint8_t *fwd_mark;    /* per plan task, scratch: forwarded by this rank in the next wave */
    /* zero-copy (sw_backend.iov), prepared on the first run with such a backend: per plan
     * segment of this rank's messages, the element offset of its run in this rank's
     * tensor (source side when it sends, destination when it receives), or -1: staged */
    int64_t *segrun;
    struct sw_msg_part *parts; /* scratch: one task's parts */
    sw_iov *iovs[2][2];   /* [slot][0 send, 1 receive]: the iov entries of a wave */
    size_t max_iov[2];
    uint64_t bytes_staged; /* of the last run: bytes packed and unpacked (zero-copy: strided or converted only) */
    uint64_t bytes_sent, bytes_recv, bytes_copied; /* of the last run */
} sw_exec;

/* Prepares rank's schedule and staging buffers (none for a rank outside the plan). */
int sw_exec_init(sw_exec *x, const sw_plan *p, int32_t rank, sw_error *err);
/* Runs one sync.  ptrs[l] is the memory of plan local l for every local of this rank
 * (others are ignored).  Every failure is returned with a message naming the wave and
 * the peer; a failed run never reports success. */
int sw_exec_run(sw_exec *x, const sw_backend *b, void *const *ptrs, sw_error *err);
void sw_exec_free(sw_exec *x);

/* Messages of a wave start at multiples of this in staging (vector loads on devices). */
#define SW_STAGING_ALIGN 16

/*
 * Staging as one arena, for a backend whose staging is device memory (nccl).  Wave i
 * needs S_i bytes (its outgoing then its incoming messages, each at a multiple of
 * SW_STAGING_ALIGN); while wave i is in flight the executor packs wave i + 1, so the
 * arena holds two consecutive waves: even waves from its start, odd waves from its end,
 * A = max over i of S_i + S_(i+1) bytes (the compiler's "staging at most" figure when the
 * rank's waves are consecutive in the plan).  Wave i + 1 overlaps wave i - 1, so a backend
 * packs wave i + 1 only after wave i - 1 was unpacked (and its sends are done).
 * sw_exec_arena_layout returns A and, when the arrays are given, fills the offsets of
 * every wave (x->nwaves each).  sw_exec_set_arena makes the executor use arena (A bytes,
 * the caller's, freed after sw_exec_free) instead of its host slots.
 */
size_t sw_exec_arena_layout(const sw_exec *x, uint64_t *send_at, uint64_t *recv_at);
int sw_exec_set_arena(sw_exec *x, uint8_t *arena, sw_error *err);

/* The messages wave i posts (recv = 0: its outgoing ones, 1: its incoming ones) into out
 * (NULL: count only), exactly as sw_exec_run posts them: task, peer, staging address and
 * bytes.  Returns how many. */
size_t sw_exec_wave_msgs(const sw_exec *x, size_t i, int recv, sw_msg *out);

/*
 * The parts of a message (the zero-copy contract, sw_backend.iov), for a backend that
 * posts them itself (nccl).  sw_exec_task_parts lists the parts of task t's message as
 * the executor cuts it, on the sending (recv = 0) or receiving (1) side: the same
 * boundaries and staging offsets at both ends (they depend on segment sizes and dtypes
 * only); only `run` differs between the sides.  segrun: per plan segment, what
 * sw_exec_seg_in_place gives for that side (x->segrun), or NULL: computed.  out: NULL
 * counts only.  Returns how many parts (at most t->nseg).
 */
typedef struct sw_msg_part {
    uint64_t at;      /* offset of the part in the task's packed message (staging) */
    uint64_t bytes;
    uint32_t seg0, nseg; /* the plan segments p->segs[seg0 .. seg0 + nseg) it holds */
    int64_t run;      /* a part of one segment in place: the element offset of its run in
                       * that side's local tensor; -1: staged */
} sw_msg_part;
/* The element offset of plan segment g in its tensor on the sending (recv 0) or receiving
 * (1) side when it travels in place there (at least SW_PLAN_ZC_MIN bytes, one run of the
 * tensor, on the receiving side also no conversion), else -1. */
int64_t sw_exec_seg_in_place(const sw_plan *p, uint32_t g, int recv);
size_t sw_exec_task_parts(const sw_plan *p, const sw_plan_task *t, int recv, const int64_t *segrun, sw_msg_part *out);

typedef enum sw_segs_kind { SW_SEGS_PACK, SW_SEGS_COPY, SW_SEGS_UNPACK } sw_segs_kind;
/* Describes the segments of wave i (an index into x->wave0) that its pack (outgoing
 * messages into staging slot i % 2), copies (inside the process) or unpack (incoming
 * messages from slot i % 2) move, in the order and at the staging offsets sw_exec_run
 * uses.  Writes them to out when out is not NULL; returns how many there are. */
size_t sw_exec_wave_descs(const sw_exec *x, size_t i, sw_segs_kind kind, sw_seg_desc *out);
/* The same, leaving out the segments g with in_place[g] >= 0 (moved in place by the
 * backend, per plan segment; NULL: none); the others keep their staging offsets. */
size_t sw_exec_wave_descs_staged(const sw_exec *x, size_t i, sw_segs_kind kind, const int64_t *in_place,
                                 sw_seg_desc *out);
/* Runs n descriptors on the host, element by element with the SW_HD functions the
 * device kernels use (slow: for tests and as a reference). */
int sw_seg_run_host(const sw_seg_desc *d, size_t n, void *const *ptrs, uint8_t *staging, sw_error *err);

/* Building blocks, exposed for tests and the CUDA backend's host fallback: */
/* Packs a segment (source dtype) into out; returns the bytes written. */
size_t sw_exec_pack(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, uint8_t *out);
/* Unpacks a segment from in (source dtype) into its destination, converting. */
int sw_exec_unpack(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, const uint8_t *in, sw_error *err);
/* Copies a segment from its source local to its destination local, converting. */
int sw_exec_copy(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, sw_error *err);


#endif
