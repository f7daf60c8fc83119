/*
 * plan_trace.h - where the elements of a transfer came from: through the relays that
 * forwarded them, back to the source locals that hold them.
 *
 * A relay transfer reads from a destination local of another rank what earlier transfers
 * brought there; those may be relays too.  The verifier (compiler/plan_verify.c) and the
 * data validation (runtime/data_validate.c, the nccl backend's check) follow these chains
 * with this one function, so that what the verifier accepts is exactly what validation
 * can check: a plan whose chains cannot be traced here is refused by both.
 *
 * An element travels through the dtypes of the locals it is stored in, converted at each
 * hop; consecutive equal dtypes are folded (a conversion to the same dtype is a copy).
 */
#ifndef SW_PLAN_TRACE_H
#define SW_PLAN_TRACE_H

#include "plan.h"
#include "shardwave.h"

/* At most this many relay hops behind a transfer, and this many dtypes (folded) on the
 * way, origin and destination included. */
#define SW_PLAN_MAXHOPS 64
#define SW_PLAN_MAXCHAIN 4

typedef struct sw_plan_trace sw_plan_trace;

/* One part of a transfer's box (logical coordinates) and the dtypes its elements
 * travelled through: chain[0] the transfer's destination local's, chain[nchain-1] the
 * source local's they were read from first (the origin). */
typedef struct sw_plan_origin {
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    sw_dtype chain[SW_PLAN_MAXCHAIN];
    int nchain;
    int hops; /* relays behind the transfer (0: it reads a source local) */
} sw_plan_origin;

typedef int (*sw_plan_origin_fn)(void *ctx, uint32_t xfer, const sw_plan_origin *o, sw_error *err);

/* Indexes the plan's transfers by destination local (the plan must stay alive and
 * unchanged).  SW_NOMEM on failure. */
int sw_plan_trace_init(sw_plan_trace **t, const sw_plan *p, sw_error *err);
void sw_plan_trace_free(sw_plan_trace *t);

/* Calls fn for every part of transfer xi's box with the chain it came through (once with
 * the whole box when xi reads a source local).  Fails with `status` naming the transfer
 * when an element of a relay's box was brought by no transfer of the plan (or of the
 * part of the plan that was loaded), when the chain is longer than SW_PLAN_MAXHOPS relays
 * or SW_PLAN_MAXCHAIN dtypes, or when a hop converts between dtypes that cannot be
 * converted (sw_dtype_convertible).  Returns fn's status when fn fails. */
int sw_plan_trace_xfer(const sw_plan_trace *t, uint32_t xi, sw_plan_origin_fn fn, void *ctx, int status,
                       sw_error *err);

#endif
