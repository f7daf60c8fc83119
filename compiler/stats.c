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

/* One (sender, receiver, link class) pair of ranks and its bytes over the whole plan. */
typedef struct bpair {
    int32_t s, d;     /* rank indices */
    uint8_t cls, relay;
    uint64_t bytes;
    uint32_t task;    /* a task of the pair (for the relay chain: a forward's first) */
} bpair;

static int cmp_bpair(const void *a, const void *b) {
    const bpair *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    return (x->relay > y->relay) - (x->relay < y->relay);
}

/* Source-dtype bytes per element of the data a forward transfer y carries, as its leader
 * received it: the transfer into y's source local with y's box (the leader's inbound);
 * the forward's own element size when there is none.  idx/nidx: transfers sorted by
 * (dst local, tensor). */
static int lead_esize(const sw_plan *p, const uint32_t *idx, uint32_t nidx, const sw_plan_xfer *y) {
    uint32_t lo = 0, hi = nidx;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const sw_plan_xfer *m = &p->xfers[idx[mid]];
        if (m->dst.local < y->src.local || (m->dst.local == y->src.local && m->tensor < y->tensor)) lo = mid + 1;
        else hi = mid;
    }
    int nd = p->tensors[y->tensor].ndim;
    for (uint32_t k = lo; k < nidx; k++) {
        const sw_plan_xfer *x = &p->xfers[idx[k]];
        if (x->dst.local != y->src.local || x->tensor != y->tensor) break;
        int inside = 1;
        for (int d = 0; d < nd && inside; d++)
            inside = x->start[d] <= y->start[d] && y->start[d] + y->size[d] <= x->start[d] + x->size[d];
        if (inside) return sw_plan_xfer_esize(p, x);
    }
    return sw_plan_xfer_esize(p, y);
}

static const sw_plan *g_sort_plan; /* qsort has no context: set around the one call */
static int cmp_xdst(const void *a, const void *b) {
    const sw_plan_xfer *x = &g_sort_plan->xfers[*(const uint32_t *)a], *y = &g_sort_plan->xfers[*(const uint32_t *)b];
    if (x->dst.local != y->dst.local) return x->dst.local < y->dst.local ? -1 : 1;
    if (x->tensor != y->tensor) return x->tensor < y->tensor ? -1 : 1;
    return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

/* The lower bound of any plan that moves the same bytes between the same pairs of ranks
 * (its routing), whatever its chunks and waves (docs/performance.md, "Lower bound"):
 *   port  max over (rank, class, direction) of  bytes / bandwidth + latency * messages,
 *         messages = the sum over the port's partners of ceil(pair bytes / bucket) (at
 *         least one message per partner; a staged message fits in the bucket): a rank's
 *         waves run one after another, and a port carries one task per wave;
 *   relay max over forwarding pairs (leader l -> follower f) of
 *         latency_in + latency_fwd + max(F / bandwidth_fwd, F_in / bandwidth_in), where F
 *         is what l forwards to f and F_in the same elements as l receives them: the
 *         forward of the last element starts after it has arrived at l, and nothing is
 *         forwarded before the first element has. */
static double routing_bound(const sw_plan *p) {
    uint32_t nt = p->ntasks;
    bpair *v = malloc(((size_t)nt + 1) * sizeof *v);
    uint32_t *xidx = malloc(((size_t)p->nxfers + 1) * sizeof *xidx);
    size_t cells = (size_t)p->nranks * SW_LINK_COUNT * 2 + 1;
    double *port = calloc(cells, sizeof *port);
    double bound = 0;
    if (!v || !xidx || !port) goto out;
    uint32_t n = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const sw_plan_task *t = &p->tasks[i];
        int32_t s = sw_plan_rank_index(p, t->src), d = sw_plan_rank_index(p, t->dst);
        if (s < 0 || d < 0 || t->cls >= SW_LINK_COUNT) continue;
        v[n++] = (bpair){s, d, t->cls, t->relay, t->bytes, i};
    }
    qsort(v, n, sizeof *v, cmp_bpair);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (m && v[m - 1].s == v[i].s && v[m - 1].d == v[i].d && v[m - 1].cls == v[i].cls && v[m - 1].relay == v[i].relay)
            v[m - 1].bytes += v[i].bytes;
        else
            v[m++] = v[i];
    }
    /* ports: a direct and a forwarded message between the same ranks could be one */
    uint64_t bucket = p->bucket > 0 ? (uint64_t)p->bucket : UINT64_MAX;
    for (uint32_t i = 0; i < m;) {
        uint32_t e = i;
        uint64_t b = 0;
        while (e < m && v[e].s == v[i].s && v[e].d == v[i].d && v[e].cls == v[i].cls) b += v[e++].bytes;
        const sw_link *l = &p->topo.link[v[i].cls];
        uint64_t msgs = v[i].s == v[i].d || !b ? 1 : b / bucket + (b % bucket != 0);
        double tt = (double)b / l->bandwidth + (double)msgs * l->latency;
        port[((size_t)v[i].s * SW_LINK_COUNT + v[i].cls) * 2] += tt;
        port[((size_t)v[i].d * SW_LINK_COUNT + v[i].cls) * 2 + 1] += tt;
        i = e;
    }
    for (size_t c = 0; c + 1 < cells; c++)
        if (port[c] > bound) bound = port[c];
    /* relay chains */
    uint32_t nx = 0;
    for (uint32_t x = 0; x < p->nxfers; x++) xidx[nx++] = x;
    g_sort_plan = p;
    qsort(xidx, nx, sizeof *xidx, cmp_xdst);
    g_sort_plan = NULL;
    double *acc = calloc((size_t)m * 4 + 1, sizeof *acc); /* per pair: F, F_in, latency in, bandwidth in */
    if (!acc) goto out;
    for (uint32_t ti = 0; ti < nt; ti++) {
        const sw_plan_task *t = &p->tasks[ti];
        if (!t->relay || t->cls >= SW_LINK_COUNT) continue;
        bpair key = {sw_plan_rank_index(p, t->src), sw_plan_rank_index(p, t->dst), t->cls, 1, 0, 0};
        const bpair *hit = bsearch(&key, v, m, sizeof *v, cmp_bpair);
        if (!hit) continue;
        double *q = &acc[(size_t)(hit - v) * 4];
        for (uint32_t g = 0; g < t->nseg; g++) {
            const sw_plan_seg *sg = &p->segs[t->seg0 + g];
            const sw_plan_xfer *y = &p->xfers[sg->xfer];
            q[0] += (double)sg->nelem * sw_plan_xfer_esize(p, y);
            q[1] += (double)sg->nelem * lead_esize(p, xidx, nx, y);
        }
        for (uint32_t k = 0; k < t->ndep; k++) {
            const sw_plan_task *dt = &p->tasks[p->deps[t->dep0 + k]];
            const sw_link *li = &p->topo.link[dt->cls < SW_LINK_COUNT ? dt->cls : SW_LINK_NETWORK];
            if (!q[2] || li->latency < q[2]) q[2] = li->latency;
            if (!q[3] || li->bandwidth > q[3]) q[3] = li->bandwidth;
        }
    }
    for (uint32_t i = 0; i < m; i++) {
        const double *q = &acc[(size_t)i * 4];
        if (!v[i].relay || !q[3]) continue;
        const sw_link *lf = &p->topo.link[v[i].cls];
        double a = q[0] / lf->bandwidth, b2 = q[1] / q[3];
        double c = q[2] + lf->latency + (a > b2 ? a : b2);
        if (c > bound) bound = c;
    }
    free(acc);
out:
    free(v);
    free(xidx);
    free(port);
    return bound;
}

/* Fills p->stats.
 *  - bytes, loads and staging by summing tasks;
 *  - predicted: the simulator's makespan (sim.h: the one cost model, with NIC sharing and
 *    pack/unpack);
 *  - lower bound: routing_bound (above). */
void sw_plan_compute_stats(sw_plan *p) {
    sw_plan_stats *st = &p->stats;
    memset(st, 0, sizeof *st);
    uint32_t n = p->nranks;
    size_t cells = (size_t)n * SW_LINK_COUNT + 1;
    uint64_t *send = calloc(cells, sizeof *send), *recv = calloc(cells, sizeof *recv);
    /* staging per rank: bytes of its last wave and of the wave before */
    int32_t *lastw = malloc(((size_t)n + 1) * sizeof *lastw), *prevw = malloc(((size_t)n + 1) * sizeof *prevw);
    uint64_t *lastb = calloc((size_t)n + 1, sizeof *lastb), *prevb = calloc((size_t)n + 1, sizeof *prevb);
    if (!send || !recv || !lastw || !prevw || !lastb || !prevb) goto out;
    for (uint32_t r = 0; r < n; r++) lastw[r] = prevw[r] = -2;
    for (uint32_t x = 0; x < p->nxfers; x++)
        st->unique_bytes += p->xfers[x].nelem * (uint64_t)sw_dtype_size(p->locals[p->xfers[x].dst.local].dtype);
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
    }
    for (uint32_t r = 0; r < n; r++) {
        uint64_t s2 = lastb[r] + (prevw[r] == lastw[r] - 1 ? prevb[r] : 0);
        if (s2 > st->max_staging) st->max_staging = s2;
    }
    double sim = sw_sim_makespan(p);
    st->predicted_s = sim > 0 ? sim : 0;
    for (size_t c = 0; c + 1 < cells; c++) {
        int cls = (int)(c % SW_LINK_COUNT);
        if (send[c] > st->max_send[cls]) st->max_send[cls] = send[c];
        if (recv[c] > st->max_recv[cls]) st->max_recv[cls] = recv[c];
    }
    st->lower_bound_s = routing_bound(p);
out:
    free(send);
    free(recv);
    free(lastw);
    free(prevw);
    free(lastb);
    free(prevb);
}
