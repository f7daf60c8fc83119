/*
 * dot.h - the task DAG of a plan in Graphviz DOT.
 *
 * Waves are clusters (`subgraph cluster_w3 { label="wave 3 ..." }`), tasks are nodes
 * labelled "r3→r17 12.50 MiB", filled by link class (a legend cluster explains the
 * colors), deps are edges.  A plan of more than SW_DOT_MAX_TASKS tasks is aggregated so
 * it stays renderable: one node per (wave, link class) with its task count and bytes,
 * and one edge per pair of groups joined by deps (labelled with the number of deps).
 */
#ifndef SW_DOT_H
#define SW_DOT_H

#include <stdio.h>
#include "plan.h"
#include "shardwave.h"

#define SW_DOT_MAX_TASKS 2000

/* Writes the DOT of p to f; aggregate < 0 chooses by size, 0 never, 1 always.
 * SW_IO when writing fails, SW_NOMEM. */
int sw_plan_dot(const sw_plan *p, FILE *f, int aggregate, sw_error *err);

#endif
