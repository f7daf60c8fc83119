/*
 * peers.h - the schedules other weight synchronizers use, timed in this cost model
 * (sim.h: alpha + bytes / beta per message, one send and one receive port per rank and
 * link class; communication only), from a compiled plan's layouts.  For bench_schedule's
 * side-by-side comparison (issue 16); docs/performance.md, "Peers", says what each models.
 */
#ifndef SW_PEERS_H
#define SW_PEERS_H

#include "plan.h"
#include "shardwave.h"

typedef struct sw_peer_times {
    /* OpenRLHF / veRL / slime: one tensor after another, the lowest rank holding part of
     * it gathers the rest, then broadcasts the whole tensor over a pipelined ring to every
     * rank that holds part of it in the destination layout (which slices). */
    double gather_bcast;
    /* checkpoint-engine: each box of the model from its lowest holder (the owner); each
     * owner's boxes in buckets of the plan's bucket size; one bucket after another, each
     * broadcast over a pipelined ring to every destination rank. */
    double bucketed;
    /* Megatron-Core reshard: one message per (source, destination) pair of the relay-free
     * routing, all posted at once (one batch_isend_irecv, no waves); a message moves at
     * its link's bandwidth divided by the messages sharing its busier port. */
    double one_batch;
    int one_batch_exact; /* 0: too many messages to replay: one_batch is then its busiest
                            port's time, a lower bound (it favours the peer) */
} sw_peer_times;

/* Times the peers' schedules for the layouts of plan p (any scheduler: its tensors,
 * locals and pieces) and the pairs of norelay (a relay-free compile of the same sync). */
int sw_peer_times_of(const sw_plan *p, const sw_plan *norelay, sw_peer_times *out, sw_error *err);

/* A pipelined ring broadcast of `bytes` along ranks ring[0] -> ring[1] -> ... -> ring[n-1]
 * in k chunks of bytes / k: sum over hops of (alpha + C / beta) + (k - 1) times the
 * slowest hop's (alpha + C / beta), with the best k of 1, 2, 4, ... (chunks of at least
 * 4 KiB): NCCL's ring broadcast in the alpha-beta model.  0 for n < 2. */
double sw_peer_ring_time(const sw_plan *p, const int32_t *ring, size_t n, double bytes);

#endif
