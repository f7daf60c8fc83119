#include "plan.h"

#include <stdlib.h>
#include <string.h>

static const char *const sched_names[SW_SCHED_COUNT] = {"optimal", "greedy", "naive", "broadcast"};

const char *sw_scheduler_name(sw_scheduler s) { return s < SW_SCHED_COUNT ? sched_names[s] : "?"; }

int sw_scheduler_parse(const char *s, sw_scheduler *out) {
    for (int i = 0; i < SW_SCHED_COUNT; i++)
        if (!strcmp(s, sched_names[i])) {
            *out = (sw_scheduler)i;
            return 0;
        }
    return -1;
}

void sw_plan_free(sw_plan *p) {
    if (!p) return;
    int heap = p->heap;
    sw_arena_free(&p->arena);
    memset(p, 0, sizeof *p);
    if (heap) free(p);
}

int32_t sw_plan_rank_index(const sw_plan *p, int32_t r) {
    uint32_t lo = 0, hi = p->nranks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->ranks[mid].rank < r) lo = mid + 1;
        else hi = mid;
    }
    return lo < p->nranks && p->ranks[lo].rank == r ? (int32_t)lo : -1;
}

sw_link_class sw_plan_link(const sw_plan *p, int32_t a, int32_t b) {
    int32_t ia = sw_plan_rank_index(p, a), ib = sw_plan_rank_index(p, b);
    if (ia < 0 || ib < 0) return SW_LINK_NETWORK;
    const sw_plan_rank *x = &p->ranks[ia], *y = &p->ranks[ib];
    if (x->host != y->host) return SW_LINK_NETWORK;
    return x->device == y->device ? SW_LINK_DEVICE : SW_LINK_HOST;
}

int sw_plan_xfer_esize(const sw_plan *p, const sw_plan_xfer *x) {
    return sw_dtype_size(p->locals[x->src.local].dtype);
}

double sw_plan_task_time(const sw_plan *p, const sw_plan_task *t) {
    const sw_link *l = &p->topo.link[t->cls < SW_LINK_COUNT ? t->cls : SW_LINK_NETWORK];
    return l->latency + (double)t->bytes / l->bandwidth;
}

/* Tasks inside one process move no bytes through staging. */
static int staged(const sw_plan_task *t) { return t->src != t->dst; }

/* Fills p->stats.
 *  - bytes, loads and staging by summing tasks;
 *  - predicted: an event simulation of how the runtime executes waves: each rank posts a
 *    wave's operations as one group and starts its next wave when all of them are done
 *    (no global barrier); a task starts once both its ranks have finished their previous
 *    waves and its predecessors are done;
 *  - lower bound: the busiest port (rank x link class x direction: its bytes over the
 *    link's bandwidth, plus one latency), the busiest shared NIC, and the DAG's critical
 *    path, whichever is largest. */
void sw_plan_compute_stats(sw_plan *p) {
    sw_plan_stats *st = &p->stats;
    memset(st, 0, sizeof *st);
    uint32_t n = p->nranks;
    size_t cells = (size_t)n * SW_LINK_COUNT + 1;
    uint64_t *send = calloc(cells, sizeof *send), *recv = calloc(cells, sizeof *recv);
    double *ready = calloc((size_t)n + 1, sizeof *ready), *next = calloc((size_t)n + 1, sizeof *next);
    double *finish = calloc((size_t)p->ntasks + 1, sizeof *finish), *cpf = calloc((size_t)p->ntasks + 1, sizeof *cpf);
    uint64_t *stage = calloc((size_t)n * ((size_t)p->nwaves + 1) + 1, sizeof *stage);
    if (!send || !recv || !ready || !next || !finish || !cpf || !stage) goto out;
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
        if (staged(t) && t->wave >= 0 && t->wave < p->nwaves) {
            stage[(size_t)s * (size_t)p->nwaves + (size_t)t->wave] += t->bytes;
            stage[(size_t)d * (size_t)p->nwaves + (size_t)t->wave] += t->bytes;
        }
        double start = 0; /* tasks are in wave order: predecessors come first */
        for (uint32_t k = 0; k < t->ndep; k++) {
            uint32_t dep = p->deps[t->dep0 + k];
            if (dep < i && cpf[dep] > start) start = cpf[dep];
        }
        cpf[i] = start + sw_plan_task_time(p, t);
        if (cpf[i] > cp) cp = cpf[i];
    }
    for (uint32_t i = 0, w0 = 0; i <= p->ntasks; i++) {
        if (i == p->ntasks || p->tasks[i].wave != p->tasks[w0].wave) {
            /* wave of tasks [w0, i) done: its ranks move on when their last task finishes */
            for (uint32_t k = w0; k < i; k++) {
                int32_t s = sw_plan_rank_index(p, p->tasks[k].src), d = sw_plan_rank_index(p, p->tasks[k].dst);
                if (s >= 0 && finish[k] > next[s]) next[s] = finish[k];
                if (d >= 0 && finish[k] > next[d]) next[d] = finish[k];
            }
            for (uint32_t k = w0; k < i; k++) {
                int32_t s = sw_plan_rank_index(p, p->tasks[k].src), d = sw_plan_rank_index(p, p->tasks[k].dst);
                if (s >= 0) ready[s] = next[s];
                if (d >= 0) ready[d] = next[d];
            }
            w0 = i;
            if (i == p->ntasks) break;
        }
        const sw_plan_task *t = &p->tasks[i];
        int32_t s = sw_plan_rank_index(p, t->src), d = sw_plan_rank_index(p, t->dst);
        if (s < 0 || d < 0 || t->cls >= SW_LINK_COUNT) continue;
        double start = ready[s] > ready[d] ? ready[s] : ready[d];
        for (uint32_t k = 0; k < t->ndep; k++) {
            uint32_t dep = p->deps[t->dep0 + k];
            if (dep < i && finish[dep] > start) start = finish[dep];
        }
        finish[i] = start + sw_plan_task_time(p, t);
        if (finish[i] > st->predicted_s) st->predicted_s = finish[i];
    }
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
    for (uint32_t r = 0; r < n; r++)
        for (int32_t w = 0; w < p->nwaves; w++) {
            uint64_t s2 = stage[(size_t)r * (size_t)p->nwaves + (size_t)w] +
                          (w + 1 < p->nwaves ? stage[(size_t)r * (size_t)p->nwaves + (size_t)w + 1] : 0);
            if (s2 > st->max_staging) st->max_staging = s2;
        }
out:
    free(send);
    free(recv);
    free(ready);
    free(next);
    free(finish);
    free(cpf);
    free(stage);
}
