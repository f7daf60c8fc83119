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
} bpair;

static int cmp_bpair(const void *a, const void *b) {
    const bpair *x = a, *y = b;
    if (x->s != y->s) return x->s < y->s ? -1 : 1;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    return (x->relay > y->relay) - (x->relay < y->relay);
}

/* Fewest messages that can carry b bytes between two ranks: a staged message fits in
 * the bucket (the verifier checks it); a copy inside one process is one. */
static uint64_t min_msgs(uint64_t b, uint64_t bucket, int same) {
    if (same || !b) return 1;
    return b / bucket + (b % bucket != 0);
}

/* The transfer that forwarded transfer y reads from: the transfer into y's source local
 * (a destination local of the relay rank) of the same tensor whose box holds y's box.
 * in0/inl: transfers by destination local.  -1 when there is none. */
static int64_t leader_of(const sw_plan *p, const uint32_t *in0, const uint32_t *inl, const sw_plan_xfer *y) {
    int nd = p->tensors[y->tensor].ndim;
    for (uint32_t k = in0[y->src.local]; k < in0[y->src.local + 1]; k++) {
        const sw_plan_xfer *x = &p->xfers[inl[k]];
        if (x->tensor != y->tensor || x == y) continue;
        int inside = 1;
        for (int d = 0; d < nd && inside; d++)
            inside = x->start[d] <= y->start[d] && y->start[d] + y->size[d] <= x->start[d] + x->size[d];
        if (inside) return inl[k];
    }
    return -1;
}

/* What a relay rank receives of what it forwards, per sending partner and link class. */
typedef struct ledin {
    int32_t l, s;     /* relay rank index, its sending partner */
    uint8_t cls;
    uint64_t bytes;
    double tail;      /* the least time the forwards of one element of it take */
} ledin;

static int cmp_ledin(const void *a, const void *b) {
    const ledin *x = a, *y = b;
    if (x->l != y->l) return x->l < y->l ? -1 : 1;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    return (x->s > y->s) - (x->s < y->s);
}

/* The lower bound of any plan that moves the same bytes between the same pairs of ranks
 * and forwards the same boxes through the same relay ranks (its routing), whatever its
 * chunks and waves, under the communication-only model (pack and unpack free, no NIC
 * sharing: both only add time).  docs/performance.md, "Lower bound", has the proofs.
 *   port   max over (rank, class, direction): sum over the port's partners of
 *          msgs * latency + bytes / bandwidth, msgs = ceil(pair bytes / bucket);
 *   relay  for a relay rank l and its forward class c: nothing is forwarded before
 *          something has arrived (at least the least latency of the links it receives
 *          forwarded data on), then the port carries all of l's forwards of class c;
 *   tail   for a relay rank l and the class c_in it receives forwarded data on: the port
 *          carries all of it (messages and bytes as for a port), and the elements of the
 *          last message still have to be forwarded to each of their followers: at least
 *          max over forward classes of (followers of that class) * latency, the least
 *          such over l's forwarded transfers. */
static double routing_bound(const sw_plan *p) {
    uint32_t nt = p->ntasks, nx = p->nxfers, nl = p->nlocals, nr = p->nranks;
    bpair *v = malloc(((size_t)nt + 1) * sizeof *v);
    uint32_t *in0 = calloc((size_t)nl + 2, sizeof *in0), *inl = malloc(((size_t)nx + 1) * sizeof *inl);
    uint16_t *fcount = calloc((size_t)nx * SW_LINK_COUNT + 1, sizeof *fcount); /* followers per class */
    uint8_t *seen = calloc((size_t)nx + 1, 1);
    size_t cells = (size_t)nr * SW_LINK_COUNT * 2 + 1;
    double *port = calloc(cells, sizeof *port);
    double *fwd = calloc((size_t)nr * SW_LINK_COUNT + 1, sizeof *fwd); /* relay sends per (rank, class) */
    double *ain = malloc(((size_t)nr + 1) * sizeof *ain);              /* least latency in, per relay rank */
    ledin *li = NULL;
    double bound = 0;
    uint64_t bucket = p->bucket > 0 ? (uint64_t)p->bucket : UINT64_MAX;
    if (!v || !in0 || !inl || !fcount || !seen || !port || !fwd || !ain) goto out;
    uint32_t n = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const sw_plan_task *t = &p->tasks[i];
        int32_t s = sw_plan_rank_index(p, t->src), d = sw_plan_rank_index(p, t->dst);
        if (s < 0 || d < 0 || t->cls >= SW_LINK_COUNT) continue;
        v[n++] = (bpair){s, d, t->cls, t->relay, t->bytes};
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
    for (uint32_t i = 0; i < m;) {
        uint32_t e = i;
        uint64_t b = 0;
        while (e < m && v[e].s == v[i].s && v[e].d == v[i].d && v[e].cls == v[i].cls) {
            if (v[e].relay) {
                const sw_link *l = &p->topo.link[v[e].cls];
                fwd[(size_t)v[e].s * SW_LINK_COUNT + v[e].cls] +=
                    (double)min_msgs(v[e].bytes, bucket, v[e].s == v[e].d) * l->latency + (double)v[e].bytes / l->bandwidth;
            }
            b += v[e++].bytes;
        }
        const sw_link *l = &p->topo.link[v[i].cls];
        double tt = (double)b / l->bandwidth + (double)min_msgs(b, bucket, v[i].s == v[i].d) * l->latency;
        port[((size_t)v[i].s * SW_LINK_COUNT + v[i].cls) * 2] += tt;
        port[((size_t)v[i].d * SW_LINK_COUNT + v[i].cls) * 2 + 1] += tt;
        i = e;
    }
    for (size_t c = 0; c + 1 < cells; c++)
        if (port[c] > bound) bound = port[c];
    /* relays: the followers of every forwarded transfer, by class */
    for (uint32_t x = 0; x < nx; x++) in0[p->xfers[x].dst.local + 1]++;
    for (uint32_t k = 0; k < nl; k++) in0[k + 1] += in0[k];
    {
        uint32_t *fill = malloc(((size_t)nl + 1) * sizeof *fill);
        if (!fill) goto out;
        memcpy(fill, in0, (size_t)nl * sizeof *fill);
        for (uint32_t x = 0; x < nx; x++) inl[fill[p->xfers[x].dst.local]++] = x;
        free(fill);
    }
    size_t nled = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const sw_plan_task *t = &p->tasks[i];
        if (!t->relay || t->cls >= SW_LINK_COUNT) continue;
        for (uint32_t g = 0; g < t->nseg; g++) {
            uint32_t y = p->segs[t->seg0 + g].xfer;
            if (seen[y]) continue;
            seen[y] = 1;
            int64_t x = leader_of(p, in0, inl, &p->xfers[y]);
            if (x < 0) continue;
            uint16_t *fc = &fcount[(size_t)x * SW_LINK_COUNT];
            if (!fc[0] && !fc[1] && !fc[2]) nled++;
            if (fc[t->cls] < UINT16_MAX) fc[t->cls]++;
        }
    }
    li = malloc((nled + 1) * sizeof *li);
    if (!li) goto out;
    size_t k = 0;
    for (uint32_t x = 0; x < nx && k < nled; x++) {
        const uint16_t *fc = &fcount[(size_t)x * SW_LINK_COUNT];
        if (!fc[0] && !fc[1] && !fc[2]) continue;
        const sw_plan_xfer *X = &p->xfers[x];
        int32_t l = sw_plan_rank_index(p, X->dst_rank), s = sw_plan_rank_index(p, X->src_rank);
        if (l < 0 || s < 0) continue;
        double tail = 0;
        for (int c = 0; c < SW_LINK_COUNT; c++)
            if ((double)fc[c] * p->topo.link[c].latency > tail) tail = (double)fc[c] * p->topo.link[c].latency;
        li[k++] = (ledin){l, s, (uint8_t)sw_plan_link(p, X->src_rank, X->dst_rank),
                          X->nelem * (uint64_t)sw_plan_xfer_esize(p, X), tail};
    }
    qsort(li, k, sizeof *li, cmp_ledin);
    for (uint32_t r = 0; r < nr; r++) ain[r] = -1;
    for (size_t i = 0; i < k;) { /* per (relay rank, class in) */
        size_t e = i;
        const sw_link *lk = &p->topo.link[li[i].cls];
        double t = 0, tail = li[i].tail;
        while (e < k && li[e].l == li[i].l && li[e].cls == li[i].cls) {
            size_t f = e;
            uint64_t b = 0;
            for (; f < k && li[f].l == li[e].l && li[f].cls == li[e].cls && li[f].s == li[e].s; f++) {
                b += li[f].bytes;
                if (li[f].tail < tail) tail = li[f].tail;
            }
            t += (double)min_msgs(b, bucket, li[e].s == li[e].l) * lk->latency + (double)b / lk->bandwidth;
            e = f;
        }
        if (t + tail > bound) bound = t + tail;
        if (ain[li[i].l] < 0 || lk->latency < ain[li[i].l]) ain[li[i].l] = lk->latency;
        i = e;
    }
    for (uint32_t r = 0; r < nr; r++)
        for (int c = 0; c < SW_LINK_COUNT && ain[r] >= 0; c++) {
            double f = fwd[(size_t)r * SW_LINK_COUNT + (size_t)c];
            if (f > 0 && ain[r] + f > bound) bound = ain[r] + f;
        }
out:
    free(v);
    free(in0);
    free(inl);
    free(fcount);
    free(seen);
    free(port);
    free(fwd);
    free(ain);
    free(li);
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
