/*
 * agree.h - the agreement at session open, for backends with one process per rank.
 *
 * Before anything else collective happens, every process of the communicator says
 * whether it could open its plan and which plan it holds (the plan's identity, its
 * highest rank), and whether it is the rank it should be.  Every process then reaches
 * the same verdict from the same records: go on together, or fail together with one
 * message that names the rank and the cause (that rank's own error, broadcast).  A
 * process whose plan could not be loaded still takes part, so that nobody waits for it;
 * a process that does not take part within the timeout makes the others fail with
 * SW_TIMEOUT instead of waiting forever.
 *
 * Backend-neutral: a backend provides the transport (sw_agree_ops: an all-gather and a
 * broadcast bounded by a timeout).  session.c builds it from the mpi plugin's bounded
 * collectives (plugin.h) over the caller's communicator, for the mpi backend and for the
 * nccl backend bootstrapped through MPI (before NCCL exists); a bootstrap without MPI can
 * provide its own.
 */
#ifndef SW_AGREE_H
#define SW_AGREE_H

#include <stddef.h>
#include "plan.h"
#include "shardwave.h"

typedef struct sw_agree_ops {
    void *ctx;
    int size, me; /* processes of the communicator, and this one's index */
    /* all (size * bytes) gets every process's `bytes` from mine, in process order.
     * SW_TIMEOUT when not every process joined within timeout_s. */
    int (*allgather)(void *ctx, const void *mine, void *all, size_t bytes, double timeout_s, sw_error *err);
    /* bytes at buf from process root to every process; SW_TIMEOUT likewise. */
    int (*bcast)(void *ctx, void *buf, size_t bytes, int root, double timeout_s, sw_error *err);
} sw_agree_ops;

/* Collective over ops' processes.  p: the plan this process opens and id its identity
 * (sw_plan_identity), or NULL when it has none, `why` saying what went wrong (its status
 * and message travel to every process).
 * rank: the global rank it opens (process k must open rank k).  Returns SW_OK on every
 * process when every one opened the same plan (same identity), its rank, in a
 * communicator big enough for the plan, and none reported a failure; else the same
 * status and message on every process: the failing rank's own error ("rank 3: cannot
 * open plan ..."), or which rank holds another plan, or the communicator's size.
 * SW_TIMEOUT (on the processes that waited) when not every process took part in time. */
int sw_agree_plan(const sw_agree_ops *ops, const sw_plan *p, uint64_t id, int32_t rank, const sw_error *why,
                  double timeout_s, sw_error *err);

#endif
