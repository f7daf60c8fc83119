/* plan_verify.c - the static plan verifier (see plan_verify.h for the rules). */
#include "plan_verify.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "sort.h"
#include "plan_io.h"
#include "plan_trace.h"

#define BAD(...) sw__err(err, SW_INTERNAL, __VA_ARGS__)
#define NOMEM() sw__err(err, SW_NOMEM, "out of memory verifying a plan")

static const char *const cls_name[SW_LINK_COUNT] = {"device", "host", "network"};

/* A box in local coordinates: [lo, lo + sz) per local dim. */
typedef struct lbox {
    int64_t lo[SW_MAXDIM], sz[SW_MAXDIM];
} lbox;

/* Maps the logical box start/size through a side (map/base over nd local dims). */
static void map_box(const int8_t *map, const int64_t *base, int nd, const int64_t *start, const int64_t *size,
                    lbox *out) {
    for (int j = 0; j < nd; j++) {
        out->lo[j] = base[j] + (map[j] >= 0 ? start[map[j]] : 0);
        out->sz[j] = map[j] >= 0 ? size[map[j]] : 1;
    }
}

static int overlap(const lbox *a, const lbox *b, int nd) {
    for (int j = 0; j < nd; j++)
        if (a->lo[j] >= b->lo[j] + b->sz[j] || b->lo[j] >= a->lo[j] + a->sz[j] || !a->sz[j] || !b->sz[j]) return 0;
    return 1;
}

static uint64_t volume(const lbox *b, int nd) {
    uint64_t v = 1;
    for (int j = 0; j < nd; j++) v *= (uint64_t)b->sz[j];
    return v;
}

/* 1 when a side maps its box one-to-one: each logical dim used at most once, and every
 * logical dim of size > 1 used. */
static int one_to_one(const int8_t *map, int lnd, const int64_t *size, int tnd) {
    int used[SW_MAXDIM] = {0};
    for (int j = 0; j < lnd; j++)
        if (map[j] >= 0 && used[map[j]]++) return 0;
    for (int k = 0; k < tnd; k++)
        if (!used[k] && size[k] > 1) return 0;
    return 1;
}

/* ---- pairwise disjointness by a sweep along one dim ------------------------------- */

typedef struct sweep_ctx {
    const lbox *b;
    int dim;
} sweep_ctx;

typedef struct sitem {
    int64_t key;
    uint32_t i;
} sitem;

static int cmp_sitem(const void *a, const void *b) {
    const sitem *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Finds two overlapping boxes among n (nd dims).  Returns 1 and sets *ia < *ib when
 * found, 0 when disjoint, -1 when out of memory.  Sweeps along the dim where boxes
 * cover the smallest fraction of the extent, so the active set stays small. */
static int find_overlap(const lbox *b, uint32_t n, int nd, uint32_t *ia, uint32_t *ib) {
    if (n < 2 || nd == 0) {
        if (n >= 2 && nd == 0) {
            *ia = 0;
            *ib = 1;
            return 1;
        }
        return 0;
    }
    int dim = 0;
    double best = 1e300;
    for (int j = 0; j < nd; j++) {
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        double sum = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (b[i].lo[j] < lo) lo = b[i].lo[j];
            if (b[i].lo[j] + b[i].sz[j] > hi) hi = b[i].lo[j] + b[i].sz[j];
            sum += (double)b[i].sz[j];
        }
        double frac = hi > lo ? sum / (double)(hi - lo) : 1e299;
        if (frac < best) best = frac, dim = j;
    }
    sitem *it = malloc((size_t)n * sizeof *it);
    uint32_t *act = malloc((size_t)n * sizeof *act);
    if (!it || !act) {
        free(it);
        free(act);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) it[i] = (sitem){b[i].lo[dim], i};
    qsort(it, n, sizeof *it, cmp_sitem);
    uint32_t na = 0;
    int found = 0;
    for (uint32_t k = 0; k < n && !found; k++) {
        const lbox *cur = &b[it[k].i];
        if (volume(cur, nd) == 0) continue;
        uint32_t w = 0;
        for (uint32_t a = 0; a < na; a++) {
            const lbox *o = &b[act[a]];
            if (o->lo[dim] + o->sz[dim] <= cur->lo[dim]) continue; /* retired */
            act[w++] = act[a];
            if (!found && overlap(o, cur, nd)) {
                found = 1;
                *ia = act[a] < it[k].i ? act[a] : it[k].i;
                *ib = act[a] < it[k].i ? it[k].i : act[a];
            }
        }
        na = w;
        act[na++] = it[k].i;
    }
    free(it);
    free(act);
    return found;
}

/* ---- row-major element ranges as boxes -------------------------------------------- */

typedef struct rbox {
    int64_t lo[SW_MAXDIM], sz[SW_MAXDIM]; /* relative to the transfer box, logical dims */
} rbox;

/* Decomposes elements [a, b) of a row-major box of sizes size[0..nd) into at most
 * 2*nd boxes appended to out. */
static void decompose(const int64_t *size, int nd, int k, rbox *cur, uint64_t a, uint64_t b, rbox *out, int *nout) {
    if (a >= b) return;
    if (k == nd) {
        out[(*nout)++] = *cur;
        return;
    }
    uint64_t inner = 1;
    for (int j = k + 1; j < nd; j++) inner *= (uint64_t)size[j];
    uint64_t V = inner * (uint64_t)size[k];
    if (a == 0 && b == V) {
        rbox c = *cur;
        for (int j = k; j < nd; j++) c.lo[j] = 0, c.sz[j] = size[j];
        out[(*nout)++] = c;
        return;
    }
    uint64_t i0 = a / inner, i1 = (b - 1) / inner;
    if (i0 == i1) {
        cur->lo[k] = (int64_t)i0, cur->sz[k] = 1;
        decompose(size, nd, k + 1, cur, a - i0 * inner, b - i0 * inner, out, nout);
        return;
    }
    uint64_t m0 = i0, m1 = i1 + 1, tail = b % inner;
    if (a % inner) {
        cur->lo[k] = (int64_t)i0, cur->sz[k] = 1;
        decompose(size, nd, k + 1, cur, a % inner, inner, out, nout);
        m0 = i0 + 1;
    }
    if (tail) m1 = i1;
    if (m1 > m0) {
        rbox c = *cur;
        c.lo[k] = (int64_t)m0, c.sz[k] = (int64_t)(m1 - m0);
        for (int j = k + 1; j < nd; j++) c.lo[j] = 0, c.sz[j] = size[j];
        out[(*nout)++] = c;
    }
    if (tail) {
        cur->lo[k] = (int64_t)i1, cur->sz[k] = 1;
        decompose(size, nd, k + 1, cur, 0, tail, out, nout);
    }
}

/* The local boxes (through side) of segment elements [e0, e0 + n) of transfer x. */
static int seg_boxes(const sw_plan *p, const sw_plan_xfer *x, const sw_plan_side *side, uint64_t e0, uint64_t n,
                     lbox *out) {
    const sw_plan_tensor *t = &p->tensors[x->tensor];
    rbox rb[2 * SW_MAXDIM + 2], cur;
    memset(&cur, 0, sizeof cur);
    int nr = 0;
    decompose(x->size, t->ndim, 0, &cur, e0, e0 + n, rb, &nr);
    int nd = p->locals[side->local].ndim;
    for (int i = 0; i < nr; i++) {
        int64_t st[SW_MAXDIM];
        for (int k = 0; k < t->ndim; k++) st[k] = x->start[k] + rb[i].lo[k];
        map_box(side->map, side->base, nd, st, rb[i].sz, &out[i]);
    }
    return nr;
}

/* ---- (b) transfers inside pieces ---------------------------------------------------- */

/* Piece indices by (tensor, index). */
static int cmp_piece_tensor(const void *ctx, uint32_t x, uint32_t y) {
    const sw_plan *p = ctx;
    uint32_t tx = p->pieces[x].tensor, ty = p->pieces[y].tensor;
    if (tx != ty) return tx < ty ? -1 : 1;
    return (x > y) - (x < y);
}

/* 1 when transfer x's box lies inside one piece of local l (sorted piece list ps) with
 * the same tensor and identical mapping. */
static int held_by_piece(const sw_plan *p, const sw_plan_xfer *x, const sw_plan_side *s, const uint32_t *ps,
                         uint32_t n) {
    const sw_plan_local *l = &p->locals[s->local];
    int tnd = p->tensors[x->tensor].ndim;
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->pieces[ps[mid]].tensor < x->tensor) lo = mid + 1;
        else hi = mid;
    }
    for (uint32_t i = lo; i < n && p->pieces[ps[i]].tensor == x->tensor; i++) {
        const sw_plan_piece *pc = &p->pieces[ps[i]];
        int ok = 1;
        for (int j = 0; j < l->ndim && ok; j++)
            if (pc->map[j] != s->map[j] || pc->base[j] != s->base[j]) ok = 0;
        for (int k = 0; k < tnd && ok; k++)
            if (x->start[k] < pc->start[k] || x->start[k] + x->size[k] > pc->start[k] + pc->size[k]) ok = 0;
        if (ok) return 1;
    }
    return 0;
}

static int check_b(const sw_plan *p, const uint32_t *pl, sw_error *err) {
    for (uint32_t i = 0; i < p->nxfers; i++) {
        const sw_plan_xfer *x = &p->xfers[i];
        const sw_plan_local *ls = &p->locals[x->src.local], *ld = &p->locals[x->dst.local];
        const sw_plan_tensor *t = &p->tensors[x->tensor];
        if (ls->rank != x->src_rank)
            return BAD("plan: transfer %u (tensor '%s', rank %d -> %d) reads local '%s' of rank %d", i, t->name,
                       x->src_rank, x->dst_rank, ls->name, ls->rank);
        if (ld->rank != x->dst_rank)
            return BAD("plan: transfer %u (tensor '%s', rank %d -> %d) writes local '%s' of rank %d", i, t->name,
                       x->src_rank, x->dst_rank, ld->name, ld->rank);
        if (ld->role != SW_ROLE_DST)
            return BAD("plan: transfer %u (tensor '%s', rank %d -> %d) writes source local '%s'", i, t->name,
                       x->src_rank, x->dst_rank, ld->name);
        if (t->skipped)
            return BAD("plan: transfer %u writes tensor '%s', which the sync skips", i, t->name);
        if (!one_to_one(x->src.map, ls->ndim, x->size, t->ndim) || !one_to_one(x->dst.map, ld->ndim, x->size, t->ndim))
            return BAD("plan: transfer %u (tensor '%s', rank %d -> %d) has a side map that is not one-to-one", i,
                       t->name, x->src_rank, x->dst_rank);
        if (!held_by_piece(p, x, &x->dst, pl + ld->piece0, ld->npieces))
            return BAD("plan: transfer %u (tensor '%s', rank %d -> %d): no piece of destination local '%s' on rank %d "
                       "holds its box with the same tensor and mapping",
                       i, t->name, x->src_rank, x->dst_rank, ld->name, ld->rank);
        if (!held_by_piece(p, x, &x->src, pl + ls->piece0, ls->npieces))
            return BAD("plan: transfer %u (tensor '%s', rank %d -> %d): no piece of source local '%s' on rank %d "
                       "holds its box with the same tensor and mapping",
                       i, t->name, x->src_rank, x->dst_rank, ls->name, ls->rank);
    }
    return SW_OK;
}

/* ---- (a) every destination element written once ------------------------------------ */

/* Counting sort of transfer indices by destination local. */
static uint32_t *xfers_by_dst(const sw_plan *p, uint32_t *start /* [nlocals + 1] */) {
    uint32_t *v = malloc(((size_t)p->nxfers + 1) * sizeof *v);
    if (!v) return NULL;
    memset(start, 0, ((size_t)p->nlocals + 1) * sizeof *start);
    for (uint32_t i = 0; i < p->nxfers; i++) start[p->xfers[i].dst.local + 1]++;
    for (uint32_t l = 0; l < p->nlocals; l++) start[l + 1] += start[l];
    uint32_t *fill = calloc((size_t)p->nlocals + 1, sizeof *fill);
    if (!fill) {
        free(v);
        return NULL;
    }
    for (uint32_t i = 0; i < p->nxfers; i++) {
        uint32_t l = p->xfers[i].dst.local;
        v[start[l] + fill[l]++] = i;
    }
    free(fill);
    return v;
}

static int check_a(const sw_plan *p, const uint32_t *byl, const uint32_t *lstart, sw_error *err) {
    uint32_t maxn = 1;
    for (uint32_t l = 0; l < p->nlocals; l++) {
        uint32_t n = lstart[l + 1] - lstart[l];
        if (n > maxn) maxn = n;
        if (p->locals[l].npieces > maxn) maxn = p->locals[l].npieces;
    }
    lbox *bx = malloc((size_t)maxn * sizeof *bx);
    if (!bx) return NOMEM();
    int rc = SW_OK;
    for (uint32_t l = 0; l < p->nlocals && !rc; l++) {
        const sw_plan_local *L = &p->locals[l];
        if (L->role != SW_ROLE_DST) continue;
        uint64_t pv = 0, xv = 0;
        for (uint32_t q = 0; q < L->npieces; q++) {
            const sw_plan_piece *pc = &p->pieces[L->piece0 + q];
            map_box(pc->map, pc->base, L->ndim, pc->start, pc->size, &bx[q]);
            if (!p->tensors[pc->tensor].skipped) pv += volume(&bx[q], L->ndim); /* skipped: not written */
        }
        uint32_t a, b;
        int f = find_overlap(bx, L->npieces, L->ndim, &a, &b);
        if (f < 0) {
            rc = NOMEM();
            break;
        }
        if (f) {
            rc = BAD("plan: pieces %u and %u of destination local '%s' on rank %d overlap", L->piece0 + a,
                     L->piece0 + b, L->name, L->rank);
            break;
        }
        uint32_t n = lstart[l + 1] - lstart[l];
        for (uint32_t k = 0; k < n; k++) {
            const sw_plan_xfer *x = &p->xfers[byl[lstart[l] + k]];
            map_box(x->dst.map, x->dst.base, L->ndim, x->start, x->size, &bx[k]);
            xv += x->nelem;
        }
        f = find_overlap(bx, n, L->ndim, &a, &b);
        if (f < 0) {
            rc = NOMEM();
            break;
        }
        if (f) {
            uint32_t xa = byl[lstart[l] + a], xb = byl[lstart[l] + b];
            if (xa > xb) {
                uint32_t t = xa;
                xa = xb;
                xb = t;
            }
            rc = BAD("plan: transfers %u and %u both write elements of destination local '%s' on rank %d", xa, xb,
                     L->name, L->rank);
            break;
        }
        if (xv != pv)
            rc = BAD("plan: destination local '%s' on rank %d: transfers write %llu of the %llu elements of its pieces",
                     L->name, L->rank, (unsigned long long)xv, (unsigned long long)pv);
    }
    free(bx);
    return rc;
}

/* ---- (c) every transfer element carried once ---------------------------------------- */

typedef struct carry {
    uint32_t xfer, task;
    uint64_t elem0, nelem;
} carry;

static inline int carry_before(const carry *x, const carry *y) {
    if (x->xfer != y->xfer) return x->xfer < y->xfer;
    if (x->elem0 != y->elem0) return x->elem0 < y->elem0;
    return x->task < y->task;
}
SW_SORT_DEFINE(sort_carry, carry, carry_before)

static int check_c(const sw_plan *p, sw_error *err) {
    size_t n = 0;
    for (uint32_t i = 0; i < p->ntasks; i++) n += p->tasks[i].nseg;
    carry *c = malloc((n + 1) * sizeof *c);
    if (!c) return NOMEM();
    int rc = SW_OK;
    size_t m = 0;
    for (uint32_t i = 0; i < p->ntasks && !rc; i++) {
        const sw_plan_task *t = &p->tasks[i];
        uint64_t bytes = 0;
        for (uint32_t k = 0; k < t->nseg; k++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + k];
            const sw_plan_xfer *x = &p->xfers[g->xfer];
            if (x->src_rank != t->src || x->dst_rank != t->dst) {
                rc = BAD("plan: task %u (rank %d -> %d, wave %d) carries transfer %u of rank %d -> %d", i, t->src, t->dst,
                         t->wave, g->xfer, x->src_rank, x->dst_rank);
                break;
            }
            uint64_t es = (uint64_t)sw_plan_xfer_esize(p, x);
            bytes = sw_plan_seg_start(bytes, es) + g->nelem * es; /* aligned segments (plan.h) */
            if (g->nelem) c[m++] = (carry){g->xfer, i, g->elem0, g->nelem};
        }
        if (!rc && bytes != t->bytes)
            rc = BAD("plan: task %u (rank %d -> %d, wave %d) has %llu bytes but its segments hold %llu", i, t->src,
                     t->dst, t->wave, (unsigned long long)t->bytes, (unsigned long long)bytes);
    }
    if (!rc && sort_carry(c, m)) rc = NOMEM();
    if (!rc) {
        size_t k = 0;
        for (uint32_t x = 0; x < p->nxfers && !rc; x++) {
            uint64_t at = 0;
            uint32_t last = UINT32_MAX;
            for (; k < m && c[k].xfer == x; k++) {
                if (c[k].elem0 > at) {
                    rc = BAD("plan: transfer %u: elements %llu..%llu are carried by no task", x, (unsigned long long)at,
                             (unsigned long long)c[k].elem0 - 1);
                    break;
                }
                if (c[k].elem0 < at) {
                    rc = BAD("plan: transfer %u: element %llu is carried twice (tasks %u and %u)", x,
                             (unsigned long long)c[k].elem0, last, c[k].task);
                    break;
                }
                at = c[k].elem0 + c[k].nelem;
                last = c[k].task;
            }
            if (!rc && at != p->xfers[x].nelem)
                rc = BAD("plan: transfer %u: elements %llu..%llu are carried by no task", x, (unsigned long long)at,
                         (unsigned long long)p->xfers[x].nelem - 1);
        }
    }
    free(c);
    return rc;
}

/* ---- (d) waves conflict-free ----------------------------------------------------------- */

typedef struct port {
    int32_t wave, rank;
    uint8_t cls, dir;
    uint32_t task;
} port;

static int cmp_port(const void *a, const void *b) {
    const port *x = a, *y = b;
    if (x->wave != y->wave) return x->wave < y->wave ? -1 : 1;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    if (x->dir != y->dir) return x->dir < y->dir ? -1 : 1;
    return (x->task > y->task) - (x->task < y->task);
}

static int check_d(const sw_plan *p, sw_error *err) {
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        sw_link_class want = sw_plan_link(p, t->src, t->dst);
        if (t->cls != want)
            return BAD("plan: task %u (rank %d -> %d, wave %d) has link class %s, the ranks are linked by %s", i, t->src,
                       t->dst, t->wave, cls_name[t->cls], cls_name[want]);
    }
    port *v = malloc(((size_t)p->ntasks * 2 + 1) * sizeof *v);
    if (!v) return NOMEM();
    size_t n = 0;
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        if (t->src == t->dst) continue;
        v[n++] = (port){t->wave, t->src, t->cls, 0, i};
        v[n++] = (port){t->wave, t->dst, t->cls, 1, i};
    }
    qsort(v, n, sizeof *v, cmp_port);
    int rc = SW_OK;
    for (size_t k = 1; k < n; k++)
        if (v[k].wave == v[k - 1].wave && v[k].rank == v[k - 1].rank && v[k].cls == v[k - 1].cls &&
            v[k].dir == v[k - 1].dir) {
            rc = BAD("plan: wave %d: rank %d %s twice on its %s link (tasks %u and %u)", v[k].wave, v[k].rank,
                     v[k].dir ? "receives" : "sends", cls_name[v[k].cls], v[k - 1].task, v[k].task);
            break;
        }
    free(v);
    return rc;
}

/* ---- (e) deps and relay order ---------------------------------------------------------- */

typedef struct wbox {
    lbox b;
    uint32_t local, task;
    int32_t wave;
} wbox;

static int cmp_wbox(const void *a, const void *b) {
    const wbox *x = a, *y = b;
    if (x->local != y->local) return x->local < y->local ? -1 : 1;
    return (x->task > y->task) - (x->task < y->task);
}

static int check_e(const sw_plan *p, sw_error *err) {
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        for (uint32_t k = 0; k < t->ndep; k++) {
            uint32_t d = p->deps[t->dep0 + k];
            if (p->tasks[d].wave >= t->wave)
                return BAD("plan: task %u (rank %d -> %d, wave %d) depends on task %u of wave %d, not an earlier wave",
                           i, t->src, t->dst, t->wave, d, p->tasks[d].wave);
        }
    }
    /* locals read by relays */
    uint8_t *relay_src = calloc((size_t)p->nlocals + 1, 1);
    if (!relay_src) return NOMEM();
    int any = 0;
    for (uint32_t i = 0; i < p->nxfers; i++)
        if (p->locals[p->xfers[i].src.local].role == SW_ROLE_DST) relay_src[p->xfers[i].src.local] = 1, any = 1;
    /* per transfer: WRITES_READ when it writes into such a local, RELAYED when it reads
     * from one (a byte per transfer: the loops below read the big records of these only) */
    enum { WRITES_READ = 1, RELAYED = 2 };
    uint8_t *xf = any ? calloc((size_t)p->nxfers + 1, 1) : NULL;
    if (any && !xf) {
        free(relay_src);
        return NOMEM();
    }
    for (uint32_t i = 0; i < p->nxfers && any; i++) {
        const sw_plan_xfer *x = &p->xfers[i];
        xf[i] = (uint8_t)((relay_src[x->dst.local] ? WRITES_READ : 0) |
                          (relay_src[x->src.local] && p->locals[x->src.local].role == SW_ROLE_DST ? RELAYED : 0));
    }
    if (!any) {
        free(relay_src);
        return SW_OK;
    }
    /* writes into those locals, per segment, as local boxes with their wave */
    wbox *w = NULL;
    size_t nw = 0, cw = 0;
    int rc = SW_OK;
    lbox tmp[2 * SW_MAXDIM + 2];
    for (uint32_t i = 0; i < p->ntasks && !rc; i++) {
        const sw_plan_task *t = &p->tasks[i];
        for (uint32_t k = 0; k < t->nseg && !rc; k++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + k];
            if (!(xf[g->xfer] & WRITES_READ) || !g->nelem) continue;
            const sw_plan_xfer *x = &p->xfers[g->xfer];
            int nb = seg_boxes(p, x, &x->dst, g->elem0, g->nelem, tmp);
            if (SW_GROW(w, cw, nw + (size_t)nb)) {
                rc = NOMEM();
                break;
            }
            for (int b = 0; b < nb; b++) w[nw++] = (wbox){tmp[b], x->dst.local, i, t->wave};
        }
    }
    if (!rc) qsort(w, nw, sizeof *w, cmp_wbox);
    /* every relay read: after all writes of the elements it reads */
    for (uint32_t i = 0; i < p->ntasks && !rc; i++) {
        const sw_plan_task *t = &p->tasks[i];
        for (uint32_t k = 0; k < t->nseg && !rc; k++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + k];
            if (!(xf[g->xfer] & RELAYED)) continue;
            const sw_plan_xfer *x = &p->xfers[g->xfer];
            uint32_t L = x->src.local;
            if (!t->relay) {
                rc = BAD("plan: task %u (rank %d -> %d, wave %d) forwards transfer %u from destination local '%s' but "
                         "is not marked relay",
                         i, t->src, t->dst, t->wave, g->xfer, p->locals[L].name);
                break;
            }
            if (!g->nelem) continue;
            int nb = seg_boxes(p, x, &x->src, g->elem0, g->nelem, tmp);
            size_t lo = 0, hi = nw;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (w[mid].local < L) lo = mid + 1;
                else hi = mid;
            }
            for (size_t j = lo; j < nw && w[j].local == L && !rc; j++)
                for (int b = 0; b < nb; b++)
                    if (w[j].wave >= t->wave && overlap(&w[j].b, &tmp[b], p->locals[L].ndim)) {
                        rc = BAD("plan: task %u (rank %d -> %d, wave %d) relays transfer %u from destination local '%s' "
                                 "on rank %d, but task %u writes those elements in wave %d, not an earlier one",
                                 i, t->src, t->dst, t->wave, g->xfer, p->locals[L].name, p->locals[L].rank, w[j].task,
                                 w[j].wave);
                        break;
                    }
        }
    }
    free(w);
    free(xf);
    free(relay_src);
    return rc;
}

/* ---- (f) staging ------------------------------------------------------------------------ */

typedef struct stage {
    int32_t rank, wave;
    uint64_t bytes;
} stage;

static int cmp_stage(const void *a, const void *b) {
    const stage *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? -1 : 1;
    return (x->wave > y->wave) - (x->wave < y->wave);
}

static int check_f(const sw_plan *p, sw_error *err) {
    if (p->bucket <= 0) return SW_OK;
    stage *v = malloc(((size_t)p->ntasks * 2 + 1) * sizeof *v);
    if (!v) return NOMEM();
    size_t n = 0;
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        if (t->src == t->dst) continue;
        v[n++] = (stage){t->src, t->wave, t->bytes};
        v[n++] = (stage){t->dst, t->wave, t->bytes};
    }
    qsort(v, n, sizeof *v, cmp_stage);
    /* merge equal (rank, wave) */
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (m && v[m - 1].rank == v[k].rank && v[m - 1].wave == v[k].wave) v[m - 1].bytes += v[k].bytes;
        else v[m++] = v[k];
    }
    int rc = SW_OK;
    for (size_t k = 0; k < m; k++) {
        uint64_t s = v[k].bytes;
        int two = k + 1 < m && v[k + 1].rank == v[k].rank && v[k + 1].wave == v[k].wave + 1;
        if (two) s += v[k + 1].bytes;
        if (s > (uint64_t)p->bucket) {
            if (two)
                rc = BAD("plan: rank %d stages %llu bytes in waves %d and %d, above its bucket of %lld bytes",
                         v[k].rank, (unsigned long long)s, v[k].wave, v[k].wave + 1, (long long)p->bucket);
            else
                rc = BAD("plan: rank %d stages %llu bytes in wave %d, above its bucket of %lld bytes", v[k].rank,
                         (unsigned long long)s, v[k].wave, (long long)p->bucket);
            break;
        }
    }
    free(v);
    return rc;
}

/* ---- (g) relay chains ------------------------------------------------------------------- */

static int origin_ok(void *ctx, uint32_t xfer, const sw_plan_origin *o, sw_error *err) {
    (void)ctx, (void)xfer, (void)o, (void)err;
    return SW_OK;
}

/* Every transfer traces back to source locals (plan_trace.h): what validation follows. */
static int check_g(const sw_plan *p, sw_error *err) {
    sw_plan_trace *t;
    SW_CHECK(sw_plan_trace_init(&t, p, err));
    int rc = SW_OK;
    for (uint32_t i = 0; i < p->nxfers && rc == SW_OK; i++) rc = sw_plan_trace_xfer(t, i, origin_ok, NULL, SW_INTERNAL, err);
    sw_plan_trace_free(t);
    return rc;
}

int sw_plan_verify(const sw_plan *p, sw_error *err) {
    SW_CHECK(sw__plan_struct_check(p, "plan", SW_INTERNAL, err));
    for (uint32_t i = 1; i < p->ntasks; i++)
        if (p->tasks[i].wave < p->tasks[i - 1].wave)
            return BAD("plan: task %u (wave %d) follows task %u (wave %d): tasks are not in wave order", i,
                       p->tasks[i].wave, i - 1, p->tasks[i - 1].wave);
    /* piece indices of every local, sorted by tensor */
    uint32_t *pl = malloc(((size_t)p->npieces + 1) * sizeof *pl);
    uint32_t *lstart = malloc(((size_t)p->nlocals + 1) * sizeof *lstart);
    uint32_t *byl = NULL;
    int rc = SW_OK;
    if (!pl || !lstart) {
        rc = NOMEM();
        goto out;
    }
    for (uint32_t q = 0; q < p->npieces; q++) pl[q] = q;
    for (uint32_t l = 0; l < p->nlocals; l++) {
        /* locals own disjoint piece ranges in compiled plans; sorting a shared range twice is harmless */
        if (sw_sort_idx(pl + p->locals[l].piece0, p->locals[l].npieces, cmp_piece_tensor, p)) {
            rc = NOMEM();
            goto out;
        }
    }
    SW_CHECK_GOTO(check_b(p, pl, err), rc, out);
    byl = xfers_by_dst(p, lstart);
    if (!byl) {
        rc = NOMEM();
        goto out;
    }
    SW_CHECK_GOTO(check_a(p, byl, lstart, err), rc, out);
    SW_CHECK_GOTO(check_c(p, err), rc, out);
    SW_CHECK_GOTO(check_d(p, err), rc, out);
    SW_CHECK_GOTO(check_e(p, err), rc, out);
    SW_CHECK_GOTO(check_f(p, err), rc, out);
    SW_CHECK_GOTO(check_g(p, err), rc, out);
out:
    free(pl);
    free(lstart);
    free(byl);
    return rc;
}
