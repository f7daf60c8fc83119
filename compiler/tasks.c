/*
 * tasks.c - compile stage 4: transfers grouped into messages, chunk sizes per link
 * class, chunks, and the relay forwards (see compile.h).
 */
#include "compile_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- stage 4: transfers, tasks and chunks ------------------------------------------------ */

/* Messages: transfers grouped by (source rank, destination rank, stage), each message's
 * transfers in the order the needs were made (destination local by name, then piece). */
typedef struct xkey {
    int32_t src, dst;
    uint32_t stage;
    uint32_t idx;
} xkey;

static int cmp_xkey(const void *a, const void *b) {
    const xkey *x = a, *y = b;
    if (x->src != y->src) return x->src < y->src ? -1 : 1;
    if (x->dst != y->dst) return x->dst < y->dst ? -1 : 1;
    if (x->stage != y->stage) return x->stage < y->stage ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}



void sw__compile_build_free(build *B) {
    free(B->stage);
    free(B->leader);
    free(B->G);
    free(B->T);
    free(B->D);
    free(B->xseg0);
    free(B->xnseg);
    free(B->seg_task);
}

/* Chunk size per link class.  The bottleneck class b (largest port time bytes/bw)
 * gets chunks of time tau; a class c whose busiest port needs only a fraction
 * T_c / T_b of that time gets chunks that are smaller by that fraction (with 25% slack),
 * so it never needs more waves than b.  tau is the largest that keeps every rank's
 * staging (one chunk per port it uses, double-buffered) within the bucket. */
int sw__compile_chunk_caps(cstate *C, int64_t bucket) {
    sw_plan *p = C->p;
    size_t nports = (size_t)p->nranks * SW_LINK_COUNT * 2;
    double *bytes = calloc(nports + 1, sizeof *bytes);
    if (!bytes) return sw__compile_nomem(C);
    double T[SW_LINK_COUNT] = {0};
    for (size_t i = 0; i < C->nneeds; i++) {
        const need *n = &C->needs[i];
        size_t s = (size_t)sw_plan_rank_index(p, n->src), d = (size_t)sw_plan_rank_index(p, n->dst);
        bytes[(s * SW_LINK_COUNT + n->link) * 2] += (double)n->bytes;
        bytes[(d * SW_LINK_COUNT + n->link) * 2 + 1] += (double)n->bytes;
    }
    for (size_t q = 0; q < nports; q++) {
        int c = (int)((q / 2) % SW_LINK_COUNT);
        double t = bytes[q] / p->topo.link[c].bandwidth;
        if (t > T[c]) T[c] = t;
    }
    int b = 0;
    for (int c = 1; c < SW_LINK_COUNT; c++)
        if (T[c] > T[b]) b = c;
    double f[SW_LINK_COUNT];
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        f[c] = T[b] > 0 ? 1.25 * T[c] / T[b] : 1;
        if (f[c] > 1) f[c] = 1;
        if (f[c] < 1e-6) f[c] = 1e-6;
    }
    /* staging per rank: the ports it uses for messages between processes */
    memset(bytes, 0, (nports + 1) * sizeof *bytes);
    for (size_t i = 0; i < C->nneeds; i++) {
        const need *n = &C->needs[i];
        if (n->src == n->dst) continue;
        size_t s = (size_t)sw_plan_rank_index(p, n->src), d = (size_t)sw_plan_rank_index(p, n->dst);
        bytes[(s * SW_LINK_COUNT + n->link) * 2] = 1;
        bytes[(d * SW_LINK_COUNT + n->link) * 2 + 1] = 1;
    }
    double worst = 0;
    for (uint32_t r = 0; r < p->nranks; r++) {
        double sr = 0;
        for (int c = 0; c < SW_LINK_COUNT; c++)
            for (int dir = 0; dir < 2; dir++)
                if (bytes[((size_t)r * SW_LINK_COUNT + (size_t)c) * 2 + (size_t)dir] > 0)
                    sr += p->topo.link[c].bandwidth * f[c];
        if (sr > worst) worst = sr;
    }
    if (worst <= 0) worst = p->topo.link[b].bandwidth;
    double tau = (double)bucket / (2.0 * worst);
    /* a floor against tiny messages, but never above what six ports (send and receive per
     * class), double-buffered, can stage within the bucket (a floor per class raised to the
     * latency break-even was tried: it breaks the staging sum above for the greedy
     * scheduler, and the optimal one never cuts a pair below its remaining bytes' equal
     * parts anyway) */
    int64_t lo = 64 * 1024, room = bucket / (2 * 2 * SW_LINK_COUNT);
    if (lo > room) lo = room > 1 ? room : 1;
    int64_t hi = bucket / 2 > lo ? bucket / 2 : lo;
    /* the floor raises a class's chunks above its share of tau: then a rank's ports may
     * stage more than half the bucket in a wave.  Shrink tau until no rank does (at tau
     * -> 0 every chunk is the floor, and six floors fit: lo <= room). */
    for (int iter = 0;; iter++) {
        for (int c = 0; c < SW_LINK_COUNT; c++) {
            double v = tau * p->topo.link[c].bandwidth * f[c];
            int64_t cap = v > 9e18 ? INT64_MAX : (int64_t)v;
            if (cap < lo) cap = lo;
            if (cap > hi) cap = hi;
            p->chunk[c] = cap;
        }
        double most = 0; /* the most a rank stages in one wave: a chunk per port it uses */
        for (uint32_t r = 0; r < p->nranks; r++) {
            double sr = 0;
            for (int c = 0; c < SW_LINK_COUNT; c++)
                for (int dir = 0; dir < 2; dir++)
                    if (bytes[((size_t)r * SW_LINK_COUNT + (size_t)c) * 2 + (size_t)dir] > 0)
                        sr += (double)p->chunk[c];
            if (sr > most) most = sr;
        }
        if (most <= (double)(bucket / 2) || iter == 200) break;
        tau *= 0.95;
    }
    free(bytes);
    return SW_OK;
}

static int new_task(cstate *C, build *B, int32_t src, int32_t dst, uint8_t cls, uint8_t relay) {
    if (SW_GROW(B->T, B->capT, B->nT + 1)) return sw__compile_nomem(C);
    sw_plan_task *t = &B->T[B->nT++];
    memset(t, 0, sizeof *t);
    t->src = src;
    t->dst = dst;
    t->cls = cls;
    t->relay = relay;
    t->wave = -1;
    t->seg0 = (uint32_t)B->nG;
    return SW_OK;
}

/* The transfers (one per need, in need order) into the plan's arena, with their stage
 * (1 = relay forward) and leader. */
int sw__compile_xfers(cstate *C, build *B) {
    size_t n = C->nneeds;
    B->nX = n;
    /* the transfers go straight into the plan's arena: no copy at the end */
    B->X = sw_arena_array(&C->p->arena, n ? n : 1, sizeof *B->X);
    B->stage = calloc(n ? n : 1, 1);
    B->leader = malloc((n ? n : 1) * sizeof *B->leader);
    if (!B->X || !B->stage || !B->leader) return sw__compile_nomem(C);
    for (size_t i = 0; i < n; i++) {
        const need *nd = &C->needs[i];
        const srccls *sc = &C->cls[nd->cls];
        sw_plan_xfer *x = &B->X[i];
        x->tensor = sc->tensor;
        memcpy(x->start, nd->start, sizeof x->start);
        memcpy(x->size, nd->size, sizeof x->size);
        x->nelem = nd->nelem;
        x->src_rank = nd->src;
        x->dst_rank = nd->dst;
        x->src.local = nd->src_local;
        if (nd->leader >= 0) {
            const need *l = &C->needs[nd->leader];
            memcpy(x->src.map, l->dmap, sizeof x->src.map);
            memcpy(x->src.base, l->dbase, sizeof x->src.base);
        } else {
            memcpy(x->src.map, sc->map, sizeof x->src.map);
            memcpy(x->src.base, sc->base, sizeof x->src.base);
        }
        x->dst.local = nd->dst_local;
        memcpy(x->dst.map, nd->dmap, sizeof x->dst.map);
        memcpy(x->dst.base, nd->dbase, sizeof x->dst.base);
        B->stage[i] = nd->leader >= 0;
        B->leader[i] = nd->leader;
    }
    return SW_OK;
}

/* Messages of the first-fit scheduler: the transfers of one (source, destination, stage)
 * cut into chunks of the class's cap (relay forwards come later, sw__compile_forwards). */
int sw__compile_tasks(cstate *C, build *B) {
    sw_plan *p = C->p;
    size_t n = B->nX;
    B->xseg0 = calloc(n ? n : 1, sizeof *B->xseg0);
    B->xnseg = calloc(n ? n : 1, sizeof *B->xnseg);
    xkey *keys = malloc((n ? n : 1) * sizeof *keys);
    int rc = SW_OK;
    if (!B->xseg0 || !B->xnseg || !keys) {
        free(keys);
        return sw__compile_nomem(C);
    }
    for (size_t i = 0; i < n; i++) keys[i] = (xkey){B->X[i].src_rank, B->X[i].dst_rank, B->stage[i], (uint32_t)i};
    qsort(keys, n, sizeof *keys, cmp_xkey);
    for (size_t s = 0; s < n && rc == SW_OK;) {
        size_t e = s + 1;
        while (e < n && keys[e].src == keys[s].src && keys[e].dst == keys[s].dst && keys[e].stage == keys[s].stage) e++;
        if (keys[s].stage) { /* relay forwards are built once the waves they wait for are known */
            s = e;
            continue;
        }
        uint64_t total = 0;
        for (size_t k = s; k < e; k++) {
            const sw_plan_xfer *x = &B->X[keys[k].idx];
            total += x->nelem * (uint64_t)sw_dtype_size(C->L[x->src.local].dtype);
        }
        uint8_t cls = (uint8_t)sw_plan_link(p, keys[s].src, keys[s].dst);
        uint64_t cap = (uint64_t)p->chunk[cls];
        /* chunks of exactly the cap and one remainder: equal chunks keep waves even */
        uint64_t target = cap;
        (void)total;
        if ((rc = new_task(C, B, keys[s].src, keys[s].dst, cls, keys[s].stage))) break;
        uint64_t cur = 0;
        for (size_t k = s; k < e && rc == SW_OK; k++) {
            uint32_t xi = keys[k].idx;
            const sw_plan_xfer *x = &B->X[xi];
            uint64_t es = (uint64_t)sw_dtype_size(C->L[x->src.local].dtype), e0 = 0;
            B->xseg0[xi] = (uint32_t)B->nG;
            while (e0 < x->nelem) {
                /* each segment at a multiple of its element size (plan.h) */
                uint64_t at = sw_plan_seg_start(cur, es);
                uint64_t room = target > at ? target - at : 0;
                if (room < es && cur > 0) {
                    B->T[B->nT - 1].nseg = (uint32_t)(B->nG - B->T[B->nT - 1].seg0);
                    B->T[B->nT - 1].bytes = cur;
                    if ((rc = new_task(C, B, keys[s].src, keys[s].dst, cls, keys[s].stage))) break;
                    cur = 0;
                    continue;
                }
                uint64_t take = room / es;
                if (take < 1) take = 1;
                if (take > x->nelem - e0) take = x->nelem - e0;
                if (SW_GROW(B->G, B->capG, B->nG + 1)) {
                    rc = sw__compile_nomem(C);
                    break;
                }
                B->G[B->nG++] = (sw_plan_seg){xi, e0, take};
                cur = at + take * es;
                e0 += take;
            }
            B->xnseg[xi] = (uint32_t)(B->nG - B->xseg0[xi]);
        }
        if (rc) break;
        B->T[B->nT - 1].nseg = (uint32_t)(B->nG - B->T[B->nT - 1].seg0);
        B->T[B->nT - 1].bytes = cur;
        s = e;
    }
    free(keys);
    return rc;
}

/* A run of a forwarded transfer that arrives at its leader in one wave. */
typedef struct fpiece {
    int32_t wave;
    uint32_t xfer, dep; /* dep: the task that brings these elements to the leader */
    uint64_t elem0, nelem;
} fpiece;

static int cmp_fpiece(const void *a, const void *b) {
    const fpiece *x = a, *y = b;
    if (x->wave != y->wave) return x->wave < y->wave ? -1 : 1;
    if (x->xfer != y->xfer) return x->xfer < y->xfer ? -1 : 1;
    return (x->elem0 > y->elem0) - (x->elem0 < y->elem0);
}

/* Relay forwards, once the waves of the transfers they forward are known: for each
 * (leader, follower) pair, the forwarded elements in the order they arrive at the leader,
 * cut into equal chunks; each chunk waits for the tasks that brought its elements. */
int sw__compile_forwards(cstate *C, build *B) {
    sw_plan *p = C->p;
    int rc = SW_OK;
    size_t nf = 0;
    for (size_t i = 0; i < B->nX; i++) nf += B->stage[i];
    if (!nf) return SW_OK;
    B->seg_task = malloc((B->nG ? B->nG : 1) * sizeof *B->seg_task);
    xkey *keys = malloc(nf * sizeof *keys);
    fpiece *fp = NULL;
    size_t capfp = 0;
    if (!B->seg_task || !keys) {
        free(keys);
        return sw__compile_nomem(C);
    }
    for (size_t t = 0; t < B->nT; t++)
        for (uint32_t k = 0; k < B->T[t].nseg; k++) B->seg_task[B->T[t].seg0 + k] = (uint32_t)t;
    size_t m = 0;
    for (size_t i = 0; i < B->nX; i++) {
        if (!B->stage[i]) continue;
        keys[m++] = (xkey){B->X[i].src_rank, B->X[i].dst_rank, 1, (uint32_t)i};
    }
    qsort(keys, m, sizeof *keys, cmp_xkey);
    for (size_t s = 0; s < m && rc == SW_OK;) {
        size_t e = s + 1, np = 0;
        while (e < m && keys[e].src == keys[s].src && keys[e].dst == keys[s].dst) e++;
        for (size_t k = s; k < e && rc == SW_OK; k++) {
            uint32_t f = keys[k].idx;
            int32_t L = B->leader[f];
            for (uint32_t j = 0; j < B->xnseg[L]; j++) {
                const sw_plan_seg *h = &B->G[B->xseg0[L] + j];
                uint32_t t = B->seg_task[B->xseg0[L] + j];
                if (SW_GROW(fp, capfp, np + 1)) {
                    rc = sw__compile_nomem(C);
                    break;
                }
                fp[np++] = (fpiece){B->T[t].wave, f, t, h->elem0, h->nelem};
            }
        }
        if (rc) break;
        qsort(fp, np, sizeof *fp, cmp_fpiece);
        uint8_t cls = (uint8_t)sw_plan_link(p, keys[s].src, keys[s].dst);
        /* element size per piece: one (leader, follower) pair may forward tensors of
         * different dtypes (e.g. an fp32 bias next to bf16 weights) */
        uint64_t total = 0; /* as one message, with the padding of aligned segments */
        for (size_t k = 0; k < np; k++) {
            uint64_t es = (uint64_t)sw_dtype_size(C->L[B->X[fp[k].xfer].src.local].dtype);
            total = sw_plan_seg_start(total, es) + fp[k].nelem * es;
        }
        uint64_t cap = (uint64_t)p->chunk[cls], nchunks = total / cap + (total % cap != 0);
        if (!nchunks) nchunks = 1;
        uint64_t target = total / nchunks + (total % nchunks != 0), cur = 0;
        if ((rc = new_task(C, B, keys[s].src, keys[s].dst, cls, 1))) break;
        for (size_t k = 0; k < np && rc == SW_OK; k++) {
            uint64_t es = (uint64_t)sw_dtype_size(C->L[B->X[fp[k].xfer].src.local].dtype);
            uint64_t e0 = fp[k].elem0, end = fp[k].elem0 + fp[k].nelem;
            while (e0 < end) {
                uint64_t at = sw_plan_seg_start(cur, es); /* aligned segments (plan.h) */
                uint64_t room = target > at ? target - at : 0;
                if (room < es && cur > 0) {
                    sw_plan_task *T = &B->T[B->nT - 1];
                    T->nseg = (uint32_t)(B->nG - T->seg0);
                    T->bytes = cur;
                    if ((rc = new_task(C, B, keys[s].src, keys[s].dst, cls, 1))) break;
                    cur = 0;
                    continue;
                }
                uint64_t take = room / es;
                if (take < 1) take = 1;
                if (take > end - e0) take = end - e0;
                if (SW_GROW(B->G, B->capG, B->nG + 1)) {
                    rc = sw__compile_nomem(C);
                    break;
                }
                B->G[B->nG++] = (sw_plan_seg){fp[k].xfer, e0, take};
                cur = at + take * es;
                e0 += take;
            }
        }
        if (rc) break;
        B->T[B->nT - 1].nseg = (uint32_t)(B->nG - B->T[B->nT - 1].seg0);
        B->T[B->nT - 1].bytes = cur;
        s = e;
    }
    free(keys);
    free(fp);
    if (rc) return rc;
    /* deps of each forward task: the tasks that carried its segments' elements */
    uint32_t *tmp = NULL;
    size_t captmp = 0;
    for (size_t t = 0; t < B->nT && rc == SW_OK; t++) {
        sw_plan_task *T = &B->T[t];
        if (!T->relay) continue;
        size_t nt = 0;
        for (uint32_t k = 0; k < T->nseg && rc == SW_OK; k++) {
            const sw_plan_seg *g = &B->G[T->seg0 + k];
            int32_t L = B->leader[g->xfer];
            for (uint32_t j = 0; j < B->xnseg[L]; j++) {
                const sw_plan_seg *h = &B->G[B->xseg0[L] + j];
                if (h->elem0 >= g->elem0 + g->nelem || h->elem0 + h->nelem <= g->elem0) continue;
                if (SW_GROW(tmp, captmp, nt + 1)) {
                    rc = sw__compile_nomem(C);
                    break;
                }
                tmp[nt++] = B->seg_task[B->xseg0[L] + j];
            }
        }
        for (size_t i = 1; i < nt; i++)
            for (size_t j = i; j > 0 && tmp[j - 1] > tmp[j]; j--) {
                uint32_t sw = tmp[j];
                tmp[j] = tmp[j - 1];
                tmp[j - 1] = sw;
            }
        T->dep0 = (uint32_t)B->nD;
        for (size_t i = 0; i < nt && rc == SW_OK; i++) {
            if (i && tmp[i] == tmp[i - 1]) continue;
            if (SW_GROW(B->D, B->capD, B->nD + 1)) {
                rc = sw__compile_nomem(C);
                break;
            }
            B->D[B->nD++] = tmp[i];
        }
        T->ndep = (uint32_t)(B->nD - T->dep0);
    }
    free(tmp);
    return rc;
}

