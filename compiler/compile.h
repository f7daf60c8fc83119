/*
 * compile.h - a sync of the IR to a plan: transfers, source selection, relays, tasks,
 * chunks, DAG and waves.
 *
 * Stages (each a function of the previous one's output):
 *   1. source classes: every box a source layout stores, with the sub-mesh of replicas
 *      that hold it (one per instance and combination of split coordinates);
 *   2. needs: every destination piece intersected with the source classes of its tensor
 *      (per tensor; never all pairs of ranks);
 *   3. source selection: per need the best link class any replica offers (same device >
 *      same host > network), then the least-loaded replica of that class, biggest needs
 *      first (LPT), deterministic.  Needs that only the network can serve and that several
 *      ranks of one destination host share cross the network once: one rank receives,
 *      the others get it forwarded inside the host (a relay; DAG edge receive -> forward);
 *   4+5. chunks and waves (optimal, rounds.c): the transfers of one (source, destination,
 *      stage) are one stream, cut into chunks while the waves are built one round at a
 *      time: every port (rank, link class, direction) carries at most one chunk per wave,
 *      ports with the most work left first, each taking the partner it waits least for;
 *      a relay forward's stream grows as its leader receives; chunks are the remaining
 *      bytes in equal parts within the class's cap, so that no rank's staging in two
 *      consecutive waves exceeds the bucket.  greedy: equal chunks of every message
 *      (tasks.c), placed first-fit (schedule.c), relay forwards after their inputs.
 */
#ifndef SW_COMPILE_H
#define SW_COMPILE_H

#include "ir.h"
#include "plan.h"

typedef struct sw_compile_params {
    int sync;               /* index in ir->syncs */
    int64_t bucket;         /* staging bytes per rank per wave; 0 = the sync's */
    sw_scheduler scheduler;
    int no_relay;           /* 1: every destination pulls over its own link */
    /* Optional: called when a stage starts (done < 0) and as it advances (done of total,
     * total 0 when unknown), e.g. to print progress; stage is a static string. */
    void (*progress)(void *ctx, const char *stage, long done, long total);
    void *progress_ctx;
} sw_compile_params;

/* Compiles; on success *plan is filled (free it with sw_plan_free). */
int sw_compile(const sw_ir *ir, const sw_compile_params *opts, sw_plan *plan, sw_error *err);

#endif
