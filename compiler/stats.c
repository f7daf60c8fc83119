/*
 * stats.c - the statistics of a compiled plan: bytes per link class, per-rank loads,
 * staging, the predicted time (the simulator's, sim.h) and the lower bound.
 */
#include "stats.h"

#include <stdlib.h>
#include <string.h>

#include "sim.h"

double sw_plan_task_time(const sw_plan *p, const sw_plan_task *t) {
    const sw_link *l = &p->topo.link[t->cls < SW_LINK_COUNT ? t->cls : SW_LINK_NETWORK];
    return l->latency + (double)t->bytes / l->bandwidth;
}

/* Tasks inside one process move no bytes through staging. */
static int staged(const sw_plan_task *t) { return t->src != t->dst; }

/* Fills p->stats.
 *  - bytes, loads and staging by summing tasks;
 *  - predicted: the simulator's makespan (sim.h: the one cost model, with NIC sharing and
 *    pack/unpack);
 *  - lower bound: the busiest port (rank x link class x direction: its bytes over the
 *    link's bandwidth, plus one latency), the busiest shared NIC, and the DAG's critical
 *    path, whichever is largest. */
void sw_plan_compute_stats(sw_plan *p) {
    sw_plan_stats *st = &p->stats;
    memset(st, 0, sizeof *st);
    uint32_t n = p->nranks;
    size_t cells = (size_t)n * SW_LINK_COUNT + 1;
    uint64_t *send = calloc(cells, sizeof *send), *recv = calloc(cells, sizeof *recv);
    double *cpf = calloc((size_t)p->ntasks + 1, sizeof *cpf);
    /* staging per rank: bytes of its last wave and of the wave before */
    int32_t *lastw = malloc(((size_t)n + 1) * sizeof *lastw), *prevw = malloc(((size_t)n + 1) * sizeof *prevw);
    uint64_t *lastb = calloc((size_t)n + 1, sizeof *lastb), *prevb = calloc((size_t)n + 1, sizeof *prevb);
    if (!send || !recv || !cpf || !lastw || !prevw || !lastb || !prevb) goto out;
    for (uint32_t r = 0; r < n; r++) lastw[r] = prevw[r] = -2;
    for (uint32_t x = 0; x < p->nxfers; x++)
        st->unique_bytes += p->xfers[x].nelem * (uint64_t)sw_dtype_size(p->locals[p->xfers[x].dst.local].dtype);
    double cp = 0;
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        int32_t s = sw_plan_rank_index(p, t->src), d = sw_plan_rank_index(p, t->dst);
        if (s < 0 || d < 0 || t->cls >= SW_LINK_COUNT) continue;
        st->bytes[t->cls] += t->bytes;
        send[(size_t)s * SW_LINK_COUNT + t->cls] += t->bytes;
        recv[(size_t)d * SW_LINK_COUNT + t->cls] += t->bytes;
        if (staged(t))
            for (int side = 0; side < 2; side++) {
                int32_t r = side ? d : s;
                if (lastw[r] != t->wave) {
                    uint64_t s2 = lastb[r] + (prevw[r] == lastw[r] - 1 ? prevb[r] : 0);
                    if (s2 > st->max_staging) st->max_staging = s2;
                    prevw[r] = lastw[r];
                    prevb[r] = lastb[r];
                    lastw[r] = t->wave;
                    lastb[r] = 0;
                }
                lastb[r] += t->bytes;
            }
        double start = 0; /* tasks are in wave order: predecessors come first */
        for (uint32_t k = 0; k < t->ndep; k++) {
            uint32_t dep = p->deps[t->dep0 + k];
            if (dep < i && cpf[dep] > start) start = cpf[dep];
        }
        cpf[i] = start + sw_plan_task_time(p, t);
        if (cpf[i] > cp) cp = cpf[i];
    }
    for (uint32_t r = 0; r < n; r++) {
        uint64_t s2 = lastb[r] + (prevw[r] == lastw[r] - 1 ? prevb[r] : 0);
        if (s2 > st->max_staging) st->max_staging = s2;
    }
    double sim = sw_sim_makespan(p);
    st->predicted_s = sim > 0 ? sim : 0;
    double port = 0;
    for (size_t c = 0; c + 1 < cells; c++) {
        int cls = (int)(c % SW_LINK_COUNT);
        const sw_link *l = &p->topo.link[cls];
        if (send[c] > st->max_send[cls]) st->max_send[cls] = send[c];
        if (recv[c] > st->max_recv[cls]) st->max_recv[cls] = recv[c];
        double ts = send[c] ? (double)send[c] / l->bandwidth + l->latency : 0;
        double tr = recv[c] ? (double)recv[c] / l->bandwidth + l->latency : 0;
        if (ts > port) port = ts;
        if (tr > port) port = tr;
    }
    /* NICs shared by gpus_per_nic devices of one host */
    int64_t g = p->topo.gpus_per_nic > 0 ? p->topo.gpus_per_nic : 1;
    if (g > 1)
        for (uint32_t a = 0; a < n; a++) {
            uint64_t ns = 0, nr = 0;
            for (uint32_t b = 0; b < n; b++)
                if (p->ranks[b].host == p->ranks[a].host && p->ranks[b].device / g == p->ranks[a].device / g) {
                    ns += send[(size_t)b * SW_LINK_COUNT + SW_LINK_NETWORK];
                    nr += recv[(size_t)b * SW_LINK_COUNT + SW_LINK_NETWORK];
                }
            const sw_link *l = &p->topo.link[SW_LINK_NETWORK];
            double t = (double)(ns > nr ? ns : nr) / l->bandwidth + l->latency;
            if ((ns || nr) && t > port) port = t;
        }
    st->lower_bound_s = port > cp ? port : cp;
out:
    free(send);
    free(recv);
    free(cpf);
    free(lastw);
    free(prevw);
    free(lastb);
    free(prevb);
}
