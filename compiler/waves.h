/*
 * waves.h - what every scheduler shares: port occupancy per wave, first-fit placement,
 * and putting the tasks of a plan in wave order.
 *
 * A port is (rank, link class, direction): a rank sends at most once and receives at most
 * once per link class in one wave.  Occupancy is a bit per wave per port.
 */
#ifndef SW_WAVES_H
#define SW_WAVES_H

#include "plan.h"

typedef struct sw_ports {
    uint64_t **bits; /* per port, a bit per wave */
    size_t *cap;     /* words per port */
    size_t n;
} sw_ports;

int sw_ports_init(sw_ports *P, uint32_t nranks);
void sw_ports_free(sw_ports *P);
/* The send and receive ports of a task (ranks must be in the plan). */
size_t sw_port_send(const sw_plan *p, const sw_plan_task *t);
size_t sw_port_recv(const sw_plan *p, const sw_plan_task *t);
/* Marks port busy in wave w; -1 when out of memory. */
int sw_ports_take(sw_ports *P, size_t port, int32_t w);
/* The first wave >= from in which ports a and b are both free (a word at a time). */
int32_t sw_ports_first_free(const sw_ports *P, size_t a, size_t b, int32_t from);
/* First-fit: each task of order[0..n) (indices into T) goes to the first wave after its
 * predecessors' (deps D, indices into T) where both its ports are free. */
int sw_first_fit(const sw_plan *p, sw_plan_task *T, const uint32_t *D, sw_ports *P, const uint32_t *order, size_t n,
                 sw_error *err);

/* Sorts T[0..nT) by (wave, src, dst), renumbers waves densely (empty waves dropped) and
 * the task indices in D[0..nD); copies tasks and deps into the plan's arena and sets
 * p->tasks, ntasks, deps, ndeps, nwaves. */
int sw_plan_set_tasks(sw_plan *p, const sw_plan_task *T, size_t nT, uint32_t *D, size_t nD, sw_error *err);

#endif
