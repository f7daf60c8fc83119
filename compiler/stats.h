/*
 * stats.h - what the compiler reports about a plan (plan->stats) and the one-task cost
 * of the alpha-beta model.  Lives beside the simulator, not in plan/: the plan is a
 * contract of data, the cost model is the compiler's.
 */
#ifndef SW_STATS_H
#define SW_STATS_H

#include "plan.h"

/* Time of one task under the alpha-beta model of the plan's topology. */
double sw_plan_task_time(const sw_plan *p, const sw_plan_task *t);
/* Fills plan->stats (bytes, loads, staging, predicted time, lower bound). */
void sw_plan_compute_stats(sw_plan *p);

#endif
