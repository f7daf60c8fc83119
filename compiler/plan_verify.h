/*
 * verify.h - the static verifier of a compiled plan (design.md: "every destination
 * element is written exactly once, by the right source element, waves conflict-free").
 *
 * Works on boxes, never on elements, so it is fast on real model sizes.  Checks, in
 * order (the first violation is reported, SW_INTERNAL, naming task / transfer / rank /
 * wave / local):
 *   structure: every index, count and range in bounds (sw__plan_struct_check);
 *   (b) each transfer's box lies inside one piece of its destination local and one piece
 *       of its source local, same tensor, identical side mapping (map and base), the
 *       locals on the transfer's ranks, the destination local of role DST, sides one-to-one;
 *   (a) per DST local: its pieces pairwise disjoint, the transfers writing it pairwise
 *       disjoint (in local coordinates), and together they cover exactly its pieces;
 *   (c) every element of every transfer carried by exactly one segment of exactly one
 *       task, whose ranks are the transfer's; task bytes = sum of segments x source
 *       element size;
 *   (d) per wave, no (rank, link class) sends or receives twice (local copies, src == dst,
 *       use no port and are exempt); task.cls == sw_plan_link(src, dst);
 *   (e) deps point to tasks of earlier waves; a relay (a transfer read from a DST local)
 *       reads each element only in a wave after every task writing it into that local,
 *       and the task carrying it is marked relay;
 *   (f) staging: per rank, bytes of its non-self tasks in waves w and w+1 <= bucket
 *       (no limit when bucket <= 0);
 *   (g) every transfer's elements trace back through its relays to source locals
 *       (plan_trace.h, what validation follows): each element brought by a transfer, at
 *       most SW_PLAN_MAXHOPS relays and SW_PLAN_MAXCHAIN dtypes, each hop a supported
 *       conversion.
 */
#ifndef SW_PLAN_VERIFY_H
#define SW_PLAN_VERIFY_H

#include "plan.h"
#include "shardwave.h"

/* SW_OK, or SW_INTERNAL (SW_NOMEM) with the first violation in err. */
int sw_plan_verify(const sw_plan *p, sw_error *err);

#endif
