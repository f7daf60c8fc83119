/*
 * plan.h - a compiled sync: what every rank copies, sends and receives, in which wave.
 *
 * The compiler (compiler/compile.h) builds a plan from the IR; plan_io.h writes and
 * reads it; the verifier, show, dot, the simulator and the runtime read only this
 * structure.  plan/ is the contract between compiler and runtime: it includes only the
 * ground floor (base/), nothing of the layout language, the IR or the compiler.
 *
 * Coordinates.  A *box* is a hyper-rectangle of one logical tensor in LOGICAL dim order
 * (start[k], size[k], k < ndim).  Its elements are visited in row-major order of the
 * logical dims: that order defines element numbers 0 .. nelem-1 of a box, used by
 * segments and by the packed message layout.  A *side* maps a logical index x of a box
 * into a local tensor: local index j = base[j] + (map[j] >= 0 ? x[map[j]] : 0) for each
 * local dim j (map[j] = -1 for a stacked dim, whose index is base[j]).
 *
 * Ownership: an sw_plan owns one arena; every pointer inside points into it.
 */
#ifndef SW_PLAN_H
#define SW_PLAN_H

#include <stdint.h>
#include "arena.h"
#include "dtype.h"
#include "bounds.h"
#include "shardwave.h"
#include "topology.h"

enum { SW_ROLE_SRC = 1, SW_ROLE_DST = 2 };

typedef struct sw_plan_side {
    uint32_t local;            /* index into plan->locals */
    int8_t map[SW_MAXDIM];     /* local dim -> logical dim, -1 for a stacked dim */
    int64_t base[SW_MAXDIM];
} sw_plan_side;

typedef struct sw_plan_tensor { /* a logical tensor */
    const char *name;
    sw_dtype dtype;
    int ndim;
    int64_t shape[SW_MAXDIM];
    uint8_t skipped;            /* the sync does not transfer it (`skip:`): its pieces stay as they are */
} sw_plan_tensor;

typedef struct sw_plan_piece {  /* a box of a logical tensor stored in a local tensor */
    uint32_t tensor;
    int64_t start[SW_MAXDIM], size[SW_MAXDIM]; /* logical order */
    int8_t map[SW_MAXDIM];
    int64_t base[SW_MAXDIM];
} sw_plan_piece;

typedef struct sw_plan_local {  /* a local tensor that the plan reads or writes */
    const char *name;
    int32_t rank;               /* global rank */
    uint8_t role;               /* SW_ROLE_SRC (layout `from`) or SW_ROLE_DST (layout `to`) */
    sw_dtype dtype;
    int ndim;
    int64_t shape[SW_MAXDIM];
    uint32_t piece0, npieces;   /* plan->pieces[piece0 ..): every piece it stores */
    uint8_t remote;             /* a partial plan's stand-in for another rank's local that one of
                                   its transfers reads or writes: rank, role and dtype only (name
                                   "", no dims, no pieces) */
} sw_plan_local;

typedef struct sw_plan_xfer {   /* one box from one local tensor to another */
    uint32_t tensor;
    int64_t start[SW_MAXDIM], size[SW_MAXDIM]; /* the box, logical order */
    uint64_t nelem;
    int32_t src_rank, dst_rank;
    sw_plan_side src, dst;      /* src.local may be a DST local: a relay forwards what it received */
} sw_plan_xfer;

typedef struct sw_plan_seg {    /* elements [elem0, elem0 + nelem) of a transfer's box */
    uint32_t xfer;
    uint64_t elem0, nelem;
} sw_plan_seg;

typedef struct sw_plan_task {   /* one message (or one local copy) in one wave */
    int32_t src, dst;           /* global ranks; equal for a copy inside one process */
    uint8_t cls;                /* sw_link_class */
    uint8_t relay;              /* forwards data that src received earlier in this plan */
    int32_t wave;
    uint32_t seg0, nseg;        /* plan->segs[seg0 ..): the message, in this order */
    uint64_t bytes;             /* message bytes: elements in the source dtype, each segment
                                 * at a multiple of its element size (sw_plan_seg_start) */
    uint32_t dep0, ndep;        /* plan->deps[dep0 ..): tasks that must finish first */
} sw_plan_task;

typedef struct sw_plan_rank {   /* a global rank that takes part */
    int32_t rank;
    int32_t host, device;
} sw_plan_rank;

typedef enum sw_scheduler {
    SW_SCHED_OPTIMAL,   /* chunks and waves built together, busiest ports first (compiler/rounds.c) */
    SW_SCHED_GREEDY,    /* first-fit in task order, as existing synchronizers do */
    SW_SCHED_NAIVE,     /* one task per tensor, sequential */
    SW_SCHED_BROADCAST, /* one source rank sends every full tensor; receivers slice */
    SW_SCHED_COUNT
} sw_scheduler;

const char *sw_scheduler_name(sw_scheduler s);
int sw_scheduler_parse(const char *s, sw_scheduler *out);

typedef struct sw_plan_stats {
    uint64_t bytes[SW_LINK_COUNT];      /* message bytes per link class */
    uint64_t unique_bytes;              /* destination bytes written (each element once) */
    uint64_t max_send[SW_LINK_COUNT];   /* largest bytes one rank sends per class */
    uint64_t max_recv[SW_LINK_COUNT];
    uint64_t max_staging;               /* largest staging bytes of one rank in two consecutive waves */
    double predicted_s;                 /* alpha-beta makespan of the waves */
    double lower_bound_s;
} sw_plan_stats;

typedef struct sw_plan {
    sw_arena arena;
    int heap;                           /* allocated by sw_plan_load: sw_plan_free frees it too */
    const char *model, *sync, *from, *to; /* names */
    sw_scheduler scheduler;
    sw_topology topo;
    int64_t bucket;
    int64_t chunk[SW_LINK_COUNT];       /* chunk size cap per link class, bytes */
    sw_plan_tensor *tensors;  uint32_t ntensors;
    sw_plan_rank *ranks;      uint32_t nranks;   /* sorted by rank */
    sw_plan_local *locals;    uint32_t nlocals;  /* sorted by (rank, role, name) */
    sw_plan_piece *pieces;    uint32_t npieces;
    sw_plan_xfer *xfers;      uint32_t nxfers;
    sw_plan_seg *segs;        uint32_t nsegs;
    sw_plan_task *tasks;      uint32_t ntasks;   /* sorted by (wave, src, dst) */
    uint32_t *deps;           uint32_t ndeps;
    int32_t nwaves;
    sw_plan_stats stats;
    /* A plan read for one rank only (sw_plan_read with only_rank >= 0) holds that rank's
     * local tensors and pieces, then stand-ins (`remote`) for the other ranks' locals its
     * transfers reference, and its tasks, segments, transfers and deps; a transfer's side
     * in a stand-in has no map.  Tensors and ranks are whole.  ntasks_total counts the
     * tasks of the whole plan either way; dtypes has bit d set when some local tensor of
     * the whole plan has dtype d. */
    int partial;
    int32_t only_rank;                  /* with partial */
    uint32_t ntasks_total;
    uint32_t dtypes;
    /* The plan's identity: the checksum of its file's header (which holds every section's
     * checksum), the same for every process that read the file whole or one rank's part;
     * 0 for a plan not read from bytes (sw_plan_identity computes it). */
    uint64_t id;
} sw_plan;

/* Where a segment of esize-byte elements starts in its message when the previous ones
 * end at byte `end`: the next multiple of esize.  Segments sit back to back otherwise,
 * so a message of one dtype (or of dtypes whose sizes never grow) has no padding; only an
 * odd-sized smaller-dtype segment before a larger one (fp8 weights, then fp32 scales)
 * gets a few bytes.  Messages start at 16-byte boundaries in staging, so every element is
 * naturally aligned there: a device faults on a misaligned 2/4/8-byte access.  The
 * compiler, the verifier, the structural check and the executor all lay messages out
 * with this one function. */
static inline uint64_t sw_plan_seg_start(uint64_t end, uint64_t esize) {
    return esize > 1 ? (end + esize - 1) / esize * esize : end;
}

/* Frees what the plan holds; a plan from sw_plan_load is freed itself too.  NULL is ok. */
void sw_plan_free(sw_plan *p);

/* Index of global rank r in plan->ranks, or -1. */
int32_t sw_plan_rank_index(const sw_plan *p, int32_t r);
/* Link class between two ranks of the plan: same (host, device) -> device, same host ->
 * host, else network. */
sw_link_class sw_plan_link(const sw_plan *p, int32_t rank_a, int32_t rank_b);
/* Bytes of a local tensor. */
size_t sw_plan_local_nbytes(const sw_plan_local *l);
/* Bytes of one element of the source side of a transfer. */
int sw_plan_xfer_esize(const sw_plan *p, const sw_plan_xfer *x);
/* Where segment g lies in the local tensor of its transfer's source (dst = 0) or
 * destination (dst = 1) side: the element offset of its first element when its elements
 * are one contiguous run of that local tensor in box order, else -1 (strided: it must be
 * packed or unpacked).  O(dims).  A run on the destination side still needs an unpack
 * when the two locals' dtypes differ (the message carries the source dtype). */
int64_t sw_plan_seg_run(const sw_plan *p, const sw_plan_seg *g, int dst);
/* The zero-copy contract (runtime/exec.h, sw_backend.iov): segments of at least this many
 * bytes travel as messages of their own, in place where they are one run of the tensor;
 * smaller ones travel staged, with their neighbours. */
#define SW_PLAN_ZC_MIN (64 * 1024)

#endif
