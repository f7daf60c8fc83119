/*
 * baseline.h - the baseline schedulers, for side-by-side ratios (design.md "Baselines").
 *
 * Both start from a plan compiled without relays (its transfers are exactly the boxes
 * every destination needs) and replace its sources, tasks and waves:
 *   naive      every transfer comes from the lowest source rank holding its box, one task
 *              per transfer (no coalescing, no relays; cut into the plan's chunk size so
 *              staging stays within the bucket), each task its own wave, in order;
 *   broadcast  per logical tensor one source rank: the lowest holding the whole tensor
 *              (when no rank does, each box comes from its lowest holder); one task per
 *              (tensor, source, receiver) carrying the boxes the receiver needs (chunked),
 *              waves first-fit in (tensor, receiver) order.  Task bytes are the needed
 *              bytes (so the plan verifies and runs); the simulator charges each receiver
 *              the whole tensor (sim.h), as a broadcast would move it.
 * The plan stays valid: it passes sw_plan_verify and runs on every backend.
 */
#ifndef SW_BASELINE_H
#define SW_BASELINE_H

#include "plan.h"
#include "shardwave.h"

/* Rewrites plan p (compiled with no relays) for scheduler s (SW_SCHED_NAIVE or
 * SW_SCHED_BROADCAST) and recomputes its stats.  SW_NOMEM, SW_INTERNAL on failure (the
 * plan is then left unchanged or partly rewritten: free it). */
int sw_baseline_schedule(sw_plan *p, sw_scheduler s, sw_error *err);

#endif
