/* baseline.c - naive and broadcast schedules (see baseline.h). */
#include "baseline.h"
#include "stats.h"
#include "waves.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* A source piece: (tensor, rank) sort key and where it is. */
typedef struct spiece {
    uint32_t tensor;
    int32_t rank;
    uint32_t piece, local;
} spiece;

static int cmp_spiece(const void *a, const void *b) {
    const spiece *x = a, *y = b;
    if (x->tensor != y->tensor) return x->tensor < y->tensor ? -1 : 1;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    if (x->local != y->local) return x->local < y->local ? -1 : 1;
    return (x->piece > y->piece) - (x->piece < y->piece);
}

static int contains(const sw_plan_piece *pc, int nd, const int64_t *s, const int64_t *z) {
    for (int d = 0; d < nd; d++)
        if (s[d] < pc->start[d] || s[d] + z[d] > pc->start[d] + pc->size[d]) return 0;
    return 1;
}

/* The first source piece (lowest rank) of tensor t in sp[lo, hi) that holds box (s, z);
 * -1 when none. */
static int64_t first_holder(const sw_plan *p, const spiece *sp, size_t lo, size_t hi, int nd, const int64_t *s,
                            const int64_t *z) {
    for (size_t k = lo; k < hi; k++)
        if (contains(&p->pieces[sp[k].piece], nd, s, z)) return (int64_t)k;
    return -1;
}

typedef struct bstate {
    sw_plan_task *T;
    size_t nT, capT;
    sw_plan_seg *G;
    size_t nG, capG;
} bstate;

/* Appends the segments of transfer xi to the current task (tasks of src->dst), opening a
 * new task whenever the current one reaches the chunk cap. */
static int add_xfer(bstate *B, const sw_plan *p, uint32_t xi, int *open) {
    const sw_plan_xfer *x = &p->xfers[xi];
    uint64_t es = (uint64_t)sw_plan_xfer_esize(p, x), cap = (uint64_t)p->chunk[sw_plan_link(p, x->src_rank, x->dst_rank)];
    if (cap < es) cap = es;
    for (uint64_t e0 = 0; e0 < x->nelem;) {
        sw_plan_task *t = *open ? &B->T[B->nT - 1] : NULL;
        /* each segment at a multiple of its element size (plan.h) */
        if (!t || sw_plan_seg_start(t->bytes, es) + es > cap) {
            if (SW_GROW(B->T, B->capT, B->nT + 1)) return SW_NOMEM;
            t = &B->T[B->nT++];
            memset(t, 0, sizeof *t);
            t->src = x->src_rank;
            t->dst = x->dst_rank;
            t->cls = (uint8_t)sw_plan_link(p, t->src, t->dst);
            t->seg0 = (uint32_t)B->nG;
            *open = 1;
        }
        uint64_t at = sw_plan_seg_start(t->bytes, es);
        uint64_t take = (cap - at) / es;
        if (take > x->nelem - e0) take = x->nelem - e0;
        if (SW_GROW(B->G, B->capG, B->nG + 1)) return SW_NOMEM;
        B->G[B->nG++] = (sw_plan_seg){xi, e0, take};
        t->nseg++;
        t->bytes = at + take * es;
        e0 += take;
    }
    return SW_OK;
}

typedef struct okey {
    uint32_t tensor;
    int32_t dst, src;
    uint32_t xfer;
} okey;

static int cmp_okey(const void *a, const void *b) {
    const okey *x = a, *y = b;
    if (x->tensor != y->tensor) return x->tensor < y->tensor ? -1 : 1;
    if (x->dst != y->dst) return x->dst < y->dst ? -1 : 1;
    if (x->src != y->src) return x->src < y->src ? -1 : 1;
    return (x->xfer > y->xfer) - (x->xfer < y->xfer);
}

/* Rewrites sources, tasks and waves (contract in baseline.h). */
int sw_baseline_schedule(sw_plan *p, sw_scheduler s, sw_error *err) {
    if (s != SW_SCHED_NAIVE && s != SW_SCHED_BROADCAST)
        return sw__err(err, SW_INTERNAL, "scheduler '%s' is not a baseline", sw_scheduler_name(s));
    size_t ns = 0;
    for (uint32_t l = 0; l < p->nlocals; l++)
        if (p->locals[l].role == SW_ROLE_SRC) ns += p->locals[l].npieces;
    spiece *sp = malloc((ns + 1) * sizeof *sp);
    size_t *tbeg = calloc((size_t)p->ntensors + 2, sizeof *tbeg);
    int64_t *full = malloc(((size_t)p->ntensors + 1) * sizeof *full); /* per tensor: piece holding it all, -1 */
    okey *ok = malloc(((size_t)p->nxfers + 1) * sizeof *ok);
    bstate B = {0};
    sw_ports P = {0};
    uint32_t *order = NULL;
    int rc = SW_OK;
    if (!sp || !tbeg || !full || !ok) goto nomem;
    ns = 0;
    for (uint32_t l = 0; l < p->nlocals; l++) {
        const sw_plan_local *L = &p->locals[l];
        if (L->role != SW_ROLE_SRC) continue;
        for (uint32_t k = 0; k < L->npieces; k++)
            sp[ns++] = (spiece){p->pieces[L->piece0 + k].tensor, L->rank, L->piece0 + k, l};
    }
    qsort(sp, ns, sizeof *sp, cmp_spiece);
    for (size_t k = 0, t = 0; t <= p->ntensors; t++) {
        while (k < ns && sp[k].tensor < t) k++;
        tbeg[t] = k;
    }
    for (uint32_t t = 0; t < p->ntensors; t++) {
        int64_t zero[SW_MAXDIM] = {0};
        full[t] = s == SW_SCHED_BROADCAST
                      ? first_holder(p, sp, tbeg[t], tbeg[t + 1], p->tensors[t].ndim, zero, p->tensors[t].shape)
                      : -1;
    }
    /* sources */
    for (uint32_t i = 0; i < p->nxfers; i++) {
        sw_plan_xfer *x = &p->xfers[i];
        int nd = p->tensors[x->tensor].ndim;
        int64_t k = full[x->tensor];
        if (k < 0) k = first_holder(p, sp, tbeg[x->tensor], tbeg[x->tensor + 1], nd, x->start, x->size);
        if (k < 0) {
            rc = sw__err(err, SW_INTERNAL, "no source rank holds a box of '%s'", p->tensors[x->tensor].name);
            goto out;
        }
        const sw_plan_piece *pc = &p->pieces[sp[k].piece];
        x->src_rank = sp[k].rank;
        x->src.local = sp[k].local;
        memcpy(x->src.map, pc->map, sizeof x->src.map);
        memcpy(x->src.base, pc->base, sizeof x->src.base);
        ok[i] = (okey){x->tensor, x->dst_rank, x->src_rank, i};
    }
    /* tasks */
    if (s == SW_SCHED_NAIVE) {
        for (uint32_t i = 0; i < p->nxfers; i++) {
            int open = 0;
            if (add_xfer(&B, p, i, &open)) goto nomem;
        }
        for (size_t t = 0; t < B.nT; t++) B.T[t].wave = (int32_t)t;
    } else {
        qsort(ok, p->nxfers, sizeof *ok, cmp_okey);
        int open = 0;
        for (uint32_t i = 0; i < p->nxfers; i++) {
            if (i && (ok[i].tensor != ok[i - 1].tensor || ok[i].dst != ok[i - 1].dst || ok[i].src != ok[i - 1].src))
                open = 0;
            if (add_xfer(&B, p, ok[i].xfer, &open)) goto nomem;
        }
        if (sw_ports_init(&P, p->nranks) || !(order = malloc((B.nT + 1) * sizeof *order))) goto nomem;
        for (size_t t = 0; t < B.nT; t++) order[t] = (uint32_t)t;
        if ((rc = sw_first_fit(p, B.T, NULL, &P, order, B.nT, err))) goto out;
    }
    /* in wave order, waves numbered densely */
    sw_plan_seg *G = sw_arena_array(&p->arena, B.nG, sizeof *G);
    if (B.nG && !G) goto nomem;
    if (B.nG) memcpy(G, B.G, B.nG * sizeof *G);
    p->segs = G;
    p->nsegs = (uint32_t)B.nG;
    if ((rc = sw_plan_set_tasks(p, B.T, B.nT, NULL, 0, err))) goto out;
    p->scheduler = s;
    sw_plan_compute_stats(p);
    goto out;
nomem:
    rc = sw__err(err, SW_NOMEM, "out of memory building the %s schedule", sw_scheduler_name(s));
out:
    free(sp);
    free(tbeg);
    free(full);
    free(ok);
    free(order);
    sw_ports_free(&P);
    free(B.T);
    free(B.G);
    return rc;
}
