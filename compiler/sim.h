/*
 * sim.h - the cost model and the plan simulator (shardwave sim, and the `predicted` time
 * of every compiled plan: sw_plan_compute_stats calls sw_sim_run, so there is one model).
 *
 * Cost model (docs/performance.md has the formulas with their sources):
 *   - a task of class c moving W wire bytes takes  alpha_c + W * share / beta_c  where
 *     alpha/beta come from the plan's topology; share = 1 except for network tasks when
 *     topology.gpus_per_nic = g > 1: the devices (host, device / g) share one NIC, and
 *     share = max(network sends in this wave through the sender's NIC, network receives
 *     in this wave through the receiver's NIC) (a per-wave fair share of the NIC);
 *   - W is the task's message bytes, except for broadcast plans, where a receiver gets the
 *     whole logical tensor: W = bytes * full tensor bytes / bytes that receiver needs of it;
 *   - each rank has one send and one receive port per link class; the plan's waves are
 *     conflict-free, so a rank's tasks of one wave run concurrently;
 *   - pack and unpack move memory at mem_bw (default SW_SIM_MEM_BW): a rank packs its
 *     outgoing messages of wave k+1 while wave k is in flight (unless wave k+1 forwards
 *     data: then after wave k is unpacked), unpacks its incoming messages of wave k after
 *     the wave's wait; copies inside one process are tasks of class device, run one after
 *     another on the rank's stream;
 *   - no global barrier: a rank posts wave k+1 once its own part of wave k (tasks,
 *     pack of the next wave when early, unpack) is done; a task starts when both its ranks
 *     have posted its wave and its DAG predecessors are finished.
 * The makespan is the largest end time of any rank.
 */
#ifndef SW_SIM_H
#define SW_SIM_H

#include <stdio.h>
#include "plan.h"
#include "shardwave.h"

/* Pack/unpack throughput: a gather copy reads and writes, ~half of an H100's 3.35 TB/s HBM. */
#define SW_SIM_MEM_BW 1.5e12

typedef struct sw_sim_opts {
    double mem_bw; /* bytes/s for pack and unpack; 0 = SW_SIM_MEM_BW; < 0 = free (no pack/unpack) */
} sw_sim_opts;

typedef struct sw_sim_wave {
    int32_t wave;
    uint32_t tasks;
    uint64_t bytes;        /* wire bytes */
    double start, end;     /* first task start, last rank end (after unpack) */
    double time;           /* end minus the largest end of the waves before it (>= 0): sums to the makespan */
    int32_t critical_rank; /* the rank that ends this wave last */
} sw_sim_wave;

typedef struct sw_sim_result {
    double makespan, lower_bound;
    uint64_t bytes[SW_LINK_COUNT]; /* wire bytes per link class */
    int32_t critical_rank;         /* the rank that ends last */
    int32_t nwaves;
    sw_sim_wave *waves;            /* [nwaves] */
    uint32_t ntasks;
    double *task_start, *task_end; /* [ntasks] */
    uint64_t *wire;                /* [ntasks] wire bytes */
    double *rank_end;              /* [plan nranks], by rank index */
} sw_sim_result;

/* Simulates plan p (opts may be NULL).  lower_bound is p->stats.lower_bound_s (compute the
 * stats first).  SW_NOMEM on allocation failure; free the result with sw_sim_free. */
int sw_sim_run(const sw_plan *p, const sw_sim_opts *opts, sw_sim_result *r, sw_error *err);
void sw_sim_free(sw_sim_result *r);

/* The makespan alone under the default model, or -1 when out of memory. */
double sw_sim_makespan(const sw_plan *p);

/* Writes a Gantt chart of a simulated plan as SVG: one lane per rank grouped by host (or,
 * above max_lanes ranks, one lane per host or group of ranks showing utilisation), task
 * bars coloured by link class, wave boundaries, the critical rank highlighted, a time
 * axis.  max_lanes 0 = 64.  SW_IO when the stream fails. */
int sw_sim_svg(const sw_plan *p, const sw_sim_result *r, FILE *f, int max_lanes, sw_error *err);

#endif
