/* peers.c - the peers' schedules in the cost model (see peers.h). */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

double sw_peer_ring_time(const sw_plan *p, const int32_t *ring, size_t n, double bytes) {
    if (n < 2 || bytes <= 0) return 0;
    size_t hops[SW_LINK_COUNT] = {0};
    for (size_t i = 0; i + 1 < n; i++) hops[sw_plan_link(p, ring[i], ring[i + 1])]++;
    double best = -1;
    for (double k = 1;; k *= 2) {
        double c = bytes / k, sum = 0, slow = 0;
        for (int cl = 0; cl < SW_LINK_COUNT; cl++) {
            if (!hops[cl]) continue;
            double h = p->topo.link[cl].latency + c / p->topo.link[cl].bandwidth;
            sum += (double)hops[cl] * h;
            if (h > slow) slow = h;
        }
        double t = sum + (k - 1) * slow;
        if (best < 0 || t < best) best = t;
        if (c / 2 < 4096) break;
    }
    return best;
}

/* A box of a logical tensor held by a source rank. */
typedef struct sbox {
    uint32_t tensor;
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    int32_t rank;
    double bytes;
} sbox;

static int cmp_sbox(const void *a, const void *b) {
    const sbox *x = a, *y = b;
    if (x->tensor != y->tensor) return x->tensor < y->tensor ? -1 : 1;
    int c = memcmp(x->start, y->start, sizeof x->start);
    if (c) return c;
    if ((c = memcmp(x->size, y->size, sizeof x->size))) return c;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

static int cmp_owner(const void *a, const void *b) {
    const sbox *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return cmp_sbox(a, b);
}

typedef struct trank {
    uint32_t tensor;
    int32_t rank;
} trank;

static int cmp_trank(const void *a, const void *b) {
    const trank *x = a, *y = b;
    if (x->tensor != y->tensor) return x->tensor < y->tensor ? -1 : 1;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int same_box(const sbox *a, const sbox *b) {
    return a->tensor == b->tensor && !memcmp(a->start, b->start, sizeof a->start) &&
           !memcmp(a->size, b->size, sizeof a->size);
}

/* Megatron's one batch: every pair's message from time 0 (after its latency), each
 * moving at bandwidth / (messages on the busier of its two ports), recomputed at every
 * completion. */
typedef struct bmsg {
    size_t sport, rport;
    double left, lat, bw;
} bmsg;

enum { ONE_BATCH_EXACT_MAX = 6000 };

static double one_batch(const sw_plan *q, int *exact, int *oom) {
    uint32_t nt = q->ntasks, nr = q->nranks;
    size_t nports = (size_t)nr * SW_LINK_COUNT;
    *exact = 1;
    *oom = 0;
    /* pairs: the relay-free plan's messages merged per (src, dst) */
    trank *pr = malloc(((size_t)nt + 1) * sizeof *pr); /* (src index, dst index) as (tensor, rank) */
    double *load = calloc(nports * 2 + 1, sizeof *load);
    if (!pr || !load) {
        free(pr);
        free(load);
        *oom = 1;
        return 0;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < nt; i++) {
        const sw_plan_task *t = &q->tasks[i];
        int32_t s = sw_plan_rank_index(q, t->src), d = sw_plan_rank_index(q, t->dst);
        if (s < 0 || d < 0 || t->src == t->dst) continue;
        pr[n++] = (trank){(uint32_t)s, d};
    }
    qsort(pr, n, sizeof *pr, cmp_trank);
    size_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!m || pr[m - 1].tensor != pr[i].tensor || pr[m - 1].rank != pr[i].rank) pr[m++] = pr[i];
    bmsg *msg = calloc(m + 1, sizeof *msg);
    uint32_t *cnt = calloc(nports * 2 + 1, sizeof *cnt);
    if (!msg || !cnt) {
        free(pr);
        free(load);
        free(msg);
        free(cnt);
        *oom = 1;
        return 0;
    }
    for (size_t k = 0; k < m; k++) {
        int32_t s = (int32_t)pr[k].tensor, d = pr[k].rank;
        int cl = sw_plan_link(q, q->ranks[s].rank, q->ranks[d].rank);
        msg[k].sport = (size_t)s * SW_LINK_COUNT + (size_t)cl;
        msg[k].rport = nports + (size_t)d * SW_LINK_COUNT + (size_t)cl;
        msg[k].lat = q->topo.link[cl].latency;
        msg[k].bw = q->topo.link[cl].bandwidth;
    }
    for (uint32_t i = 0; i < nt; i++) { /* the bytes of each pair */
        const sw_plan_task *t = &q->tasks[i];
        int32_t s = sw_plan_rank_index(q, t->src), d = sw_plan_rank_index(q, t->dst);
        if (s < 0 || d < 0 || t->src == t->dst) continue;
        trank key = {(uint32_t)s, d};
        const trank *hit = bsearch(&key, pr, m, sizeof *pr, cmp_trank);
        if (hit) msg[hit - pr].left += (double)t->bytes;
    }
    double makespan = 0;
    for (size_t k = 0; k < m; k++) {
        load[msg[k].sport] += msg[k].left / msg[k].bw;
        load[msg[k].rport] += msg[k].left / msg[k].bw;
    }
    if (m > ONE_BATCH_EXACT_MAX) {
        *exact = 0;
        for (size_t k = 0; k < m; k++) {
            double t = msg[k].lat + (load[msg[k].sport] > load[msg[k].rport] ? load[msg[k].sport] : load[msg[k].rport]);
            if (t > makespan) makespan = t;
        }
    } else {
        /* every message waits its latency, then shares its ports */
        double now = 0;
        size_t active = m;
        for (size_t k = 0; k < m; k++) cnt[msg[k].sport]++, cnt[msg[k].rport]++;
        while (active) {
            double step = -1;
            for (size_t k = 0; k < m; k++) {
                if (msg[k].left <= 0) continue;
                uint32_t share = cnt[msg[k].sport] > cnt[msg[k].rport] ? cnt[msg[k].sport] : cnt[msg[k].rport];
                double t = msg[k].left * share / msg[k].bw;
                if (step < 0 || t < step) step = t;
            }
            for (size_t k = 0; k < m; k++) {
                if (msg[k].left <= 0) continue;
                uint32_t share = cnt[msg[k].sport] > cnt[msg[k].rport] ? cnt[msg[k].sport] : cnt[msg[k].rport];
                msg[k].left -= step * msg[k].bw / share;
                if (msg[k].left <= msg[k].bw * 1e-15) msg[k].left = 0;
            }
            now += step;
            for (size_t k = 0; k < m; k++)
                if (msg[k].left == 0 && msg[k].lat >= 0) {
                    cnt[msg[k].sport]--, cnt[msg[k].rport]--;
                    if (now + msg[k].lat > makespan) makespan = now + msg[k].lat;
                    msg[k].lat = -1; /* done */
                    active--;
                }
        }
    }
    free(pr);
    free(load);
    free(msg);
    free(cnt);
    return makespan;
}

int sw_peer_times_of(const sw_plan *p, const sw_plan *norelay, sw_peer_times *out, sw_error *err) {
    memset(out, 0, sizeof *out);
    size_t ns = 0, nd = 0;
    for (uint32_t l = 0; l < p->nlocals; l++) {
        if (p->locals[l].role == SW_ROLE_SRC) ns += p->locals[l].npieces;
        else nd += p->locals[l].npieces;
    }
    sbox *sb = malloc((ns + 1) * sizeof *sb);
    trank *dr = malloc((nd + 1) * sizeof *dr);
    int32_t *ring = malloc(((size_t)p->nranks + 2) * sizeof *ring), *alld = malloc((nd + 1) * sizeof *alld);
    int rc = SW_OK;
    if (!sb || !dr || !ring || !alld) goto nomem;
    ns = nd = 0;
    for (uint32_t l = 0; l < p->nlocals; l++) {
        const sw_plan_local *L = &p->locals[l];
        for (uint32_t k = 0; k < L->npieces; k++) {
            const sw_plan_piece *pc = &p->pieces[L->piece0 + k];
            if (p->tensors[pc->tensor].skipped) continue;
            if (L->role == SW_ROLE_DST) {
                dr[nd++] = (trank){pc->tensor, L->rank};
                continue;
            }
            sbox *b = &sb[ns++];
            memset(b, 0, sizeof *b);
            b->tensor = pc->tensor;
            b->rank = L->rank;
            double e = (double)sw_dtype_size(L->dtype);
            for (int d = 0; d < p->tensors[pc->tensor].ndim; d++) {
                b->start[d] = pc->start[d];
                b->size[d] = pc->size[d];
                e *= (double)pc->size[d];
            }
            b->bytes = e;
        }
    }
    qsort(sb, ns, sizeof *sb, cmp_sbox);
    qsort(dr, nd, sizeof *dr, cmp_trank);
    /* every destination rank (checkpoint-engine broadcasts to all of them) */
    size_t nall = 0;
    for (size_t i = 0; i < nd; i++) alld[nall++] = dr[i].rank;
    qsort(alld, nall, sizeof *alld, cmp_i32);
    {
        size_t m = 0;
        for (size_t i = 0; i < nall; i++)
            if (!m || alld[m - 1] != alld[i]) alld[m++] = alld[i];
        nall = m;
    }
    /* per tensor: gather to its lowest holder, ring broadcast to its destination ranks */
    size_t di = 0;
    for (size_t i = 0; i < ns;) {
        uint32_t t = sb[i].tensor;
        size_t e = i;
        int32_t g = sb[i].rank;
        double full = 0;
        while (e < ns && sb[e].tensor == t) {
            if (sb[e].rank < g) g = sb[e].rank;
            e++;
        }
        /* distinct boxes: the first of a run of equal ones is its lowest holder */
        double gin[SW_LINK_COUNT] = {0};
        for (size_t k = i; k < e; k++) {
            if (k > i && same_box(&sb[k], &sb[k - 1])) continue;
            full += sb[k].bytes;
            int held = 0; /* does g hold this box itself? */
            for (size_t j = k; j < e && same_box(&sb[j], &sb[k]) && !held; j++) held = sb[j].rank == g;
            if (held) continue;
            int cl = sw_plan_link(p, sb[k].rank, g);
            gin[cl] += p->topo.link[cl].latency + sb[k].bytes / p->topo.link[cl].bandwidth;
        }
        double gather = 0;
        for (int cl = 0; cl < SW_LINK_COUNT; cl++)
            if (gin[cl] > gather) gather = gin[cl];
        while (di < nd && dr[di].tensor < t) di++;
        size_t nring = 0;
        ring[nring++] = g;
        for (; di < nd && dr[di].tensor == t; di++)
            if (dr[di].rank != g && dr[di].rank != ring[nring - 1]) ring[nring++] = dr[di].rank;
        out->gather_bcast += gather + sw_peer_ring_time(p, ring, nring, full);
        i = e;
    }
    /* checkpoint-engine: owners' boxes in buckets, each broadcast to every destination */
    {
        /* the owner of each distinct box is its first (lowest) holder; owners in rank
         * order, each owner's boxes in tensor order */
        sbox *own = malloc((ns + 1) * sizeof *own);
        if (!own) goto nomem;
        size_t no = 0;
        for (size_t k = 0; k < ns; k++)
            if (!k || !same_box(&sb[k], &sb[k - 1])) own[no++] = sb[k];
        qsort(own, no, sizeof *own, cmp_owner);
        double cap = p->bucket > 0 ? (double)p->bucket : 256.0 * 1048576;
        for (size_t k = 0; k < no;) {
            int32_t rk = own[k].rank;
            size_t nring = 0;
            ring[nring++] = rk;
            for (size_t j = 0; j < nall; j++)
                if (alld[j] != rk) ring[nring++] = alld[j];
            double bucket = 0;
            for (; k < no && own[k].rank == rk; k++) {
                if (bucket > 0 && bucket + own[k].bytes > cap) {
                    out->bucketed += sw_peer_ring_time(p, ring, nring, bucket);
                    bucket = 0;
                }
                bucket += own[k].bytes;
            }
            if (bucket > 0) out->bucketed += sw_peer_ring_time(p, ring, nring, bucket);
        }
        free(own);
    }
    /* Megatron reshard: one batch over the relay-free routing */
    {
        int oom = 0;
        out->one_batch = one_batch(norelay, &out->one_batch_exact, &oom);
        if (oom) goto nomem;
    }
    goto out;
nomem:
    rc = sw__err(err, SW_NOMEM, "out of memory timing the peers' schedules");
out:
    free(sb);
    free(dr);
    free(ring);
    free(alld);
    return rc;
}
