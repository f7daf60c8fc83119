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
    sw_arena_free(&p->arena);
    memset(p, 0, sizeof *p);
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

void sw_plan_compute_stats(sw_plan *p) {
    sw_plan_stats *st = &p->stats;
    memset(st, 0, sizeof *st);
    uint32_t n = p->nranks;
    size_t cells = (size_t)n * SW_LINK_COUNT;
    uint64_t *send = calloc(cells ? cells : 1, sizeof *send), *recv = calloc(cells ? cells : 1, sizeof *recv);
    double *port_send = calloc(cells ? cells : 1, sizeof *port_send),
           *port_recv = calloc(cells ? cells : 1, sizeof *port_recv);
    double *wave_t = calloc((size_t)p->nwaves + 1, sizeof *wave_t);
    double *finish = calloc((size_t)p->ntasks + 1, sizeof *finish);
    uint64_t *stage = calloc((size_t)n * ((size_t)p->nwaves + 1) + 1, sizeof *stage);
    if (!send || !recv || !port_send || !port_recv || !wave_t || !finish || !stage) goto out;
    for (uint32_t x = 0; x < p->nxfers; x++)
        st->unique_bytes += p->xfers[x].nelem * (uint64_t)sw_dtype_size(p->locals[p->xfers[x].dst.local].dtype);
    double cp = 0;
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        int32_t s = sw_plan_rank_index(p, t->src), d = sw_plan_rank_index(p, t->dst);
        if (s < 0 || d < 0 || t->cls >= SW_LINK_COUNT) continue;
        double tt = sw_plan_task_time(p, t);
        st->bytes[t->cls] += t->bytes;
        send[(size_t)s * SW_LINK_COUNT + t->cls] += t->bytes;
        recv[(size_t)d * SW_LINK_COUNT + t->cls] += t->bytes;
        port_send[(size_t)s * SW_LINK_COUNT + t->cls] += (double)t->bytes / p->topo.link[t->cls].bandwidth;
        port_recv[(size_t)d * SW_LINK_COUNT + t->cls] += (double)t->bytes / p->topo.link[t->cls].bandwidth;
        if (t->wave >= 0 && t->wave < p->nwaves) {
            if (tt > wave_t[t->wave]) wave_t[t->wave] = tt;
            if (staged(t)) {
                stage[(size_t)s * (size_t)p->nwaves + (size_t)t->wave] += t->bytes;
                stage[(size_t)d * (size_t)p->nwaves + (size_t)t->wave] += t->bytes;
            }
        }
        /* critical path: tasks are in wave order, so predecessors come first */
        double start = 0;
        for (uint32_t k = 0; k < t->ndep; k++) {
            uint32_t dep = p->deps[t->dep0 + k];
            if (dep < i && finish[dep] > start) start = finish[dep];
        }
        finish[i] = start + tt;
        if (finish[i] > cp) cp = finish[i];
    }
    double port = 0;
    for (size_t c = 0; c < cells; c++) {
        int cls = (int)(c % SW_LINK_COUNT);
        if (send[c] > st->max_send[cls]) st->max_send[cls] = send[c];
        if (recv[c] > st->max_recv[cls]) st->max_recv[cls] = recv[c];
        double lat = p->topo.link[cls].latency;
        if (send[c] && port_send[c] + lat > port) port = port_send[c] + lat;
        if (recv[c] && port_recv[c] + lat > port) port = port_recv[c] + lat;
    }
    /* NICs shared by gpus_per_nic devices of one host */
    int64_t g = p->topo.gpus_per_nic > 0 ? p->topo.gpus_per_nic : 1;
    if (g > 1) {
        for (uint32_t a = 0; a < n; a++) {
            uint64_t ns = 0, nr = 0;
            for (uint32_t b = 0; b < n; b++)
                if (p->ranks[b].host == p->ranks[a].host && p->ranks[b].device / g == p->ranks[a].device / g) {
                    ns += send[(size_t)b * SW_LINK_COUNT + SW_LINK_NETWORK];
                    nr += recv[(size_t)b * SW_LINK_COUNT + SW_LINK_NETWORK];
                }
            double t = (double)(ns > nr ? ns : nr) / p->topo.link[SW_LINK_NETWORK].bandwidth;
            if ((ns || nr) && t + p->topo.link[SW_LINK_NETWORK].latency > port)
                port = t + p->topo.link[SW_LINK_NETWORK].latency;
        }
    }
    st->lower_bound_s = port > cp ? port : cp;
    for (int32_t w = 0; w < p->nwaves; w++) st->predicted_s += wave_t[w];
    for (uint32_t r = 0; r < n; r++)
        for (int32_t w = 0; w < p->nwaves; w++) {
            uint64_t s2 = stage[(size_t)r * (size_t)p->nwaves + (size_t)w] +
                          (w + 1 < p->nwaves ? stage[(size_t)r * (size_t)p->nwaves + (size_t)w + 1] : 0);
            if (s2 > st->max_staging) st->max_staging = s2;
        }
out:
    free(send);
    free(recv);
    free(port_send);
    free(port_recv);
    free(wave_t);
    free(finish);
    free(stage);
}
