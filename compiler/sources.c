/*
 * sources.c - compile stages 1-3: source classes, needs (destination pieces intersected
 * with source boxes, per tensor), and source selection with relays (see compile.h).
 */
#include "compile_int.h"
#include "diag.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sort.h"


static void side_from_piece(const sw_inst *in, const sw_piece *pc, int8_t *map, int64_t *base, int64_t *start,
                            int64_t *size) {
    for (int j = 0; j < SW_MAXDIM; j++) {
        map[j] = -1;
        base[j] = 0;
    }
    if (in->stacked) base[0] = pc->off[0];
    for (int k = 0; k < pc->ndim; k++) {
        int j = k + in->stacked, L = pc->perm[k];
        map[j] = (int8_t)L;
        base[j] = pc->off[j] - pc->start[k];
        start[L] = pc->start[k];
        size[L] = pc->size[k];
    }
}

static int cmp_cls(const void *a, const void *b) {
    const srccls *x = a, *y = b;
    if (x->tensor != y->tensor) return x->tensor < y->tensor ? -1 : 1;
    int c = memcmp(x->start, y->start, sizeof x->start);
    if (c) return c;
    if ((c = memcmp(x->size, y->size, sizeof x->size))) return c;
    if (x->inst != y->inst) return x->inst < y->inst ? -1 : 1;
    return memcmp(x->fixed, y->fixed, sizeof x->fixed);
}

/* Stage 1: every box the source layout stores, once per split-coordinate combination. */
int sw__compile_classes(cstate *C) {
    const sw_layout *S = C->S;
    sw_pieces pcs = {0};
    int rc = SW_OK;
    for (size_t i = 0; i < S->ninsts && rc == SW_OK; i++) {
        const sw_inst *in = &S->insts[i];
        int axes[SW_MAXAXES], nax = 0;
        for (int d = 0; d < in->ndim; d++)
            for (int k = 0; k < in->dims[d].naxes; k++) axes[nax++] = in->dims[d].axes[k];
        int64_t coords[SW_MAXAXES];
        for (int a = 0; a < S->naxes; a++) coords[a] = in->where[a] >= 0 ? in->where[a] : 0;
        for (;;) {
            int64_t shape[SW_MAXDIM];
            pcs.n = 0;
            if ((rc = sw_inst_pieces(S, in, coords, shape, &pcs, C->err))) break;
            for (size_t p = 0; p < pcs.n; p++) {
                if (SW_GROW(C->cls, C->capcls, C->ncls + 1)) {
                    rc = sw__compile_nomem(C);
                    break;
                }
                srccls *c = &C->cls[C->ncls++];
                memset(c, 0, sizeof *c);
                c->tensor = pcs.v[p].tensor;
                c->inst = (uint32_t)i;
                side_from_piece(in, &pcs.v[p], c->map, c->base, c->start, c->size);
                for (int a = 0; a < S->naxes; a++) c->fixed[a] = in->where[a];
                for (int k = 0; k < nax; k++) c->fixed[axes[k]] = coords[axes[k]];
            }
            int k = nax - 1;
            while (k >= 0 && ++coords[axes[k]] == S->size[axes[k]]) coords[axes[k--]] = 0;
            if (k < 0 || rc) break;
        }
    }
    sw_pieces_free(&pcs);
    if (rc) return rc;
    if (C->ncls > 1) qsort(C->cls, C->ncls, sizeof *C->cls, cmp_cls);
    for (size_t i = 0; i < C->ncls;) {
        size_t e = i + 1;
        while (e < C->ncls && C->cls[e].tensor == C->cls[i].tensor &&
               !memcmp(C->cls[e].start, C->cls[i].start, sizeof C->cls[i].start) &&
               !memcmp(C->cls[e].size, C->cls[i].size, sizeof C->cls[i].size))
            e++;
        if (SW_GROW(C->grp, C->capgrp, C->ngrp + 1)) return sw__compile_nomem(C);
        srcgrp *g = &C->grp[C->ngrp++];
        g->tensor = C->cls[i].tensor;
        memcpy(g->start, C->cls[i].start, sizeof g->start);
        memcpy(g->size, C->cls[i].size, sizeof g->size);
        g->c0 = (uint32_t)i;
        g->nc = (uint32_t)(e - i);
        i = e;
    }
    C->grp_begin = calloc(C->ir->ntensors + 1, sizeof *C->grp_begin);
    if (!C->grp_begin) return sw__compile_nomem(C);
    size_t j = 0;
    for (uint32_t t = 0; t <= C->ir->ntensors; t++) {
        while (j < C->ngrp && C->grp[j].tensor < t) j++;
        C->grp_begin[t] = (uint32_t)j;
    }
    return SW_OK;
}

/* Adds the local tensors of one rank of one layout to the plan (with their pieces). */
static int add_locals(cstate *C, const sw_layout *L, int role, int32_t rank, sw_rank_view *v) {
    const size_t *off = role == SW_ROLE_SRC ? C->s_off : C->d_off;
    const uint32_t *list = role == SW_ROLE_SRC ? C->s_insts : C->d_insts;
    size_t l = (size_t)(rank - L->first_rank);
    SW_CHECK(sw_rank_view_build_from(L, rank, list + off[l], off[l + 1] - off[l], v, C->err));
    for (size_t i = 0; i < v->nlocals; i++) {
        const sw_local *lt = &v->locals[i];
        uint32_t inst = (uint32_t)(lt->inst - L->insts);
        if (SW_GROW(C->L, C->capL, C->nL + 1)) return sw__compile_nomem(C);
        sw_plan_local *pl = &C->L[C->nL];
        memset(pl, 0, sizeof *pl);
        pl->name = lt->inst->name; /* re-pointed into the plan arena when finishing */
        pl->rank = rank;
        pl->role = (uint8_t)role;
        pl->dtype = lt->inst->dtype;
        pl->ndim = lt->inst->ndim;
        memcpy(pl->shape, lt->shape, sizeof pl->shape);
        pl->piece0 = (uint32_t)C->nP;
        pl->npieces = (uint32_t)lt->npieces;
        for (size_t k = 0; k < lt->npieces; k++) {
            const sw_piece *pc = &v->pieces.v[lt->first + k];
            if (SW_GROW(C->P, C->capP, C->nP + 1)) return sw__compile_nomem(C);
            sw_plan_piece *pp = &C->P[C->nP++];
            memset(pp, 0, sizeof *pp);
            pp->tensor = pc->tensor;
            side_from_piece(lt->inst, pc, pp->map, pp->base, pp->start, pp->size);
        }
        /* only sources are looked up (choose_source) */
        if (role == SW_ROLE_SRC && sw_u64map_put(&C->locals, sw__compile_local_key(role, rank, inst), (uint32_t)C->nL))
            return sw__compile_nomem(C);
        C->nL++;
    }
    return SW_OK;
}

static int add_need(cstate *C, int32_t r, uint32_t dst_local, int32_t host, uint32_t g, int nd, const int64_t *s,
                    const int64_t *z, const int8_t *dmap, const int64_t *dbase) {
    if (SW_GROW(C->needs, C->capneeds, C->nneeds + 1)) return sw__compile_nomem(C);
    need *n = &C->needs[C->nneeds++];
    memset(n, 0, sizeof *n);
    n->dst = r;
    n->dst_local = dst_local;
    n->grp = g;
    n->cls = C->grp[g].c0;
    uint64_t ne = 1;
    for (int d = 0; d < nd; d++) {
        n->start[d] = s[d];
        n->size[d] = z[d];
        ne *= (uint64_t)z[d];
    }
    memcpy(n->dmap, dmap, sizeof n->dmap);
    memcpy(n->dbase, dbase, sizeof n->dbase);
    n->nelem = ne;
    n->bytes = ne * (uint64_t)sw_dtype_size(C->S->insts[C->cls[n->cls].inst].dtype);
    n->leader = -1;
    n->dst_host = host;
    return SW_OK;
}

/* Intersection of box (s, z) with group g; 0 when empty. */
static int intersect(const srcgrp *g, int nd, const int64_t *s, const int64_t *z, int64_t *os, int64_t *oz) {
    for (int d = 0; d < nd; d++) {
        int64_t a = s[d] > g->start[d] ? s[d] : g->start[d];
        int64_t b1 = s[d] + z[d], b2 = g->start[d] + g->size[d];
        int64_t b = b1 < b2 ? b1 : b2;
        if (b <= a) return 0;
        os[d] = a;
        oz[d] = b - a;
    }
    return 1;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The needs of one destination piece (box ds/dz of tensor t).  When the source groups
 * it overlaps are disjoint (the volumes of the intersections add up to the box: the
 * usual case), one need per group; otherwise the box is cut into the cells of the
 * groups' boundaries and each cell comes from the first group that covers it, so that
 * every destination element is written exactly once. */
static int piece_needs(cstate *C, int32_t r, uint32_t dst_local, int32_t host, uint32_t t, int nd, const int64_t *ds,
                       const int64_t *dz, const int8_t *dmap, const int64_t *dbase) {
    uint64_t vol = 1, sum = 0;
    for (int d = 0; d < nd; d++) vol *= (uint64_t)dz[d];
    uint32_t g0 = C->grp_begin[t], g1 = C->grp_begin[t + 1];
    int64_t s[SW_MAXDIM], z[SW_MAXDIM];
    for (uint32_t g = g0; g < g1; g++) {
        if (!intersect(&C->grp[g], nd, ds, dz, s, z)) continue;
        uint64_t v = 1;
        for (int d = 0; d < nd; d++) v *= (uint64_t)z[d];
        sum += v;
    }
    if (sum <= vol) {
        for (uint32_t g = g0; g < g1; g++)
            if (intersect(&C->grp[g], nd, ds, dz, s, z)) SW_CHECK(add_need(C, r, dst_local, host, g, nd, s, z, dmap, dbase));
        return SW_OK;
    }
    /* overlapping source boxes: cut into cells */
    int64_t *cuts[SW_MAXDIM] = {0};
    size_t ncut[SW_MAXDIM] = {0}, idx[SW_MAXDIM] = {0};
    int rc = SW_OK;
    for (int d = 0; d < nd && rc == SW_OK; d++) {
        cuts[d] = malloc((2 * (size_t)(g1 - g0) + 2) * sizeof **cuts);
        if (!cuts[d]) {
            rc = sw__compile_nomem(C);
            break;
        }
        cuts[d][ncut[d]++] = ds[d];
        cuts[d][ncut[d]++] = ds[d] + dz[d];
        for (uint32_t g = g0; g < g1; g++) {
            if (!intersect(&C->grp[g], nd, ds, dz, s, z)) continue;
            if (s[d] > ds[d]) cuts[d][ncut[d]++] = s[d];
            if (s[d] + z[d] < ds[d] + dz[d]) cuts[d][ncut[d]++] = s[d] + z[d];
        }
        qsort(cuts[d], ncut[d], sizeof **cuts, cmp_i64);
        size_t u = 0;
        for (size_t k = 0; k < ncut[d]; k++)
            if (!u || cuts[d][k] != cuts[d][u - 1]) cuts[d][u++] = cuts[d][k];
        ncut[d] = u;
    }
    while (rc == SW_OK) {
        int64_t cs[SW_MAXDIM], cz[SW_MAXDIM];
        for (int d = 0; d < nd; d++) {
            cs[d] = cuts[d][idx[d]];
            cz[d] = cuts[d][idx[d] + 1] - cs[d];
        }
        uint32_t g;
        for (g = g0; g < g1; g++) {
            int inside = 1;
            for (int d = 0; d < nd && inside; d++)
                inside = C->grp[g].start[d] <= cs[d] && cs[d] + cz[d] <= C->grp[g].start[d] + C->grp[g].size[d];
            if (inside) break;
        }
        if (g == g1) rc = sw__err(C->err, SW_INTERNAL, "a destination box of '%s' has no source", C->ir->tensors[t].name);
        else rc = add_need(C, r, dst_local, host, g, nd, cs, cz, dmap, dbase);
        int d = nd - 1;
        while (d >= 0 && ++idx[d] == ncut[d] - 1) idx[d--] = 0;
        if (d < 0) break;
    }
    for (int d = 0; d < nd; d++) free(cuts[d]);
    return rc;
}

/* Stage 2: the needs of every destination rank, and the plan's local tensors. */
int sw__compile_needs(cstate *C) {
    const sw_ir *ir = C->ir;
    sw_plan *p = C->p;
    for (uint32_t ri = 0; ri < p->nranks; ri++) {
        int32_t r = p->ranks[ri].rank;
        sw_rank_view v;
        if (r >= C->S->first_rank && r < C->S->first_rank + C->S->nranks) {
            SW_CHECK(add_locals(C, C->S, SW_ROLE_SRC, r, &v));
            sw_rank_view_free(&v);
        }
        if (!(r >= C->D->first_rank && r < C->D->first_rank + C->D->nranks)) continue;
        size_t first_local = C->nL;
        SW_CHECK(add_locals(C, C->D, SW_ROLE_DST, r, &v));
        for (size_t i = 0; i < v.nlocals; i++) {
            const sw_local *lt = &v.locals[i];
            for (size_t k = 0; k < lt->npieces; k++) {
                const sw_piece *pc = &v.pieces.v[lt->first + k];
                if (C->sync->skip[pc->tensor]) continue;
                int8_t dmap[SW_MAXDIM];
                int64_t dbase[SW_MAXDIM], ds[SW_MAXDIM] = {0}, dz[SW_MAXDIM] = {0};
                side_from_piece(lt->inst, pc, dmap, dbase, ds, dz);
                int nd = ir->tensors[pc->tensor].ndim;
                int rc = piece_needs(C, r, (uint32_t)(first_local + i), p->ranks[ri].host, pc->tensor, nd, ds, dz, dmap,
                                     dbase);
                if (rc) {
                    sw_rank_view_free(&v);
                    return rc;
                }
            }
        }
        sw_rank_view_free(&v);
    }
    return SW_OK;
}

/* ---- stage 3: source selection and relays ----------------------------------------------- */

/* The replicas of every class (the ranks whose coordinates match its fixed ones), as
 * plan rank indices: computed once, read for every need. */
int sw__compile_candidates(cstate *C) {
    const sw_layout *S = C->S;
    size_t cap = 0, n = 0;
    C->cand0 = malloc((C->ncls + 1) * sizeof *C->cand0);
    if (!C->cand0) return sw__compile_nomem(C);
    for (size_t c = 0; c < C->ncls; c++) {
        const srccls *sc = &C->cls[c];
        C->cand0[c] = (uint32_t)n;
        int64_t coords[SW_MAXAXES];
        for (int a = 0; a < S->naxes; a++) coords[a] = sc->fixed[a] >= 0 ? sc->fixed[a] : 0;
        for (;;) {
            int64_t l = 0;
            for (int a = 0; a < S->naxes; a++) l += coords[a] * S->stride[a];
            if (SW_GROW(C->cand, cap, n + 1)) return sw__compile_nomem(C);
            C->cand[n++] = (uint32_t)sw_plan_rank_index(C->p, (int32_t)(S->first_rank + l));
            int a = S->naxes - 1;
            while (a >= 0 && (sc->fixed[a] >= 0 || ++coords[a] == S->size[a])) {
                if (sc->fixed[a] < 0) coords[a] = 0;
                a--;
            }
            if (a < 0) break;
        }
    }
    C->cand0[C->ncls] = (uint32_t)n;
    return SW_OK;
}

/* Link class between two plan rank indices. */
static int link_of(const sw_plan *p, uint32_t a, uint32_t b) {
    const sw_plan_rank *x = &p->ranks[a], *y = &p->ranks[b];
    if (x->host != y->host) return SW_LINK_NETWORK;
    return x->device == y->device ? SW_LINK_DEVICE : SW_LINK_HOST;
}

static double *load_of(cstate *C, double *arr, int32_t rank, int cls) {
    return &arr[(size_t)sw_plan_rank_index(C->p, rank) * SW_LINK_COUNT + (size_t)cls];
}

static uint64_t pair_key(uint32_t s, uint32_t d) { return (uint64_t)s << 32 | d; }

/* The (source, destination) pair's index + 1 in pair_bytes, 0 when none yet: a dense
 * table up to SW_DENSE_PAIRS ranks, a hash map beyond. */
#define SW_DENSE_PAIRS 4096
static uint32_t pair_get(const cstate *C, uint32_t s, uint32_t d) {
    if (C->pair_dense) return C->pair_dense[(size_t)s * C->p->nranks + d];
    uint32_t v;
    return sw_u64map_get(&C->pairs, pair_key(s, d), &v) ? v + 1 : 0;
}
static int pair_put(cstate *C, uint32_t s, uint32_t d, uint32_t idx) {
    if (C->pair_dense) {
        C->pair_dense[(size_t)s * C->p->nranks + d] = idx + 1;
        return SW_OK;
    }
    return sw_u64map_put(&C->pairs, pair_key(s, d), idx) ? sw__compile_nomem(C) : SW_OK;
}

/* Chooses the source replica of need n: the best link class, then a replica that already
 * sends to the destination while its load stays within C->sticky (fewer, larger messages:
 * each message costs a latency and a wave on both ports), else the least loaded. */
static int choose_source(cstate *C, need *n, int32_t to_rank, int final) {
    uint32_t to = (uint32_t)sw_plan_rank_index(C->p, to_rank);
    const srcgrp *g = &C->grp[n->grp];
    int32_t best = -1, paired = -1;
    uint32_t best_cls = 0, paired_cls = 0;
    int best_link = SW_LINK_COUNT, paired_link = SW_LINK_COUNT;
    double best_load = 0, paired_load = 0, paired_bytes = 0;
    for (uint32_t c = g->c0; c < g->c0 + g->nc; c++)
        for (uint32_t k = C->cand0[c]; k < C->cand0[c + 1]; k++) {
            uint32_t ri = C->cand[k], v;
            int link = link_of(C->p, ri, to);
            double ld = C->load[(size_t)ri * SW_LINK_COUNT + (size_t)link];
            if (link < best_link || (link == best_link && ld < best_load)) {
                best = (int32_t)ri;
                best_cls = c;
                best_link = link;
                best_load = ld;
            }
            if (C->sticky[link] > 0 && link <= paired_link && (v = pair_get(C, ri, to)) &&
                (link < paired_link || C->pair_bytes[v - 1] < paired_bytes)) {
                paired = (int32_t)ri;
                paired_cls = c;
                paired_link = link;
                paired_load = ld;
                paired_bytes = C->pair_bytes[v - 1];
            }
        }
    if (best < 0) return sw__err(C->err, SW_INTERNAL, "a source class without replicas");
    uint32_t bcls = best_cls;
    if (paired >= 0 && paired_link == best_link) {
        const srccls *pc = &C->cls[paired_cls];
        double t = (double)(n->nelem * (uint64_t)sw_dtype_size(C->S->insts[pc->inst].dtype)) /
                   C->p->topo.link[best_link].bandwidth;
        if (paired_load + t <= C->sticky[best_link]) {
            best = paired;
            bcls = paired_cls;
        }
    }
    const srccls *sc = &C->cls[bcls];
    uint32_t bi = (uint32_t)best;
    best = C->p->ranks[bi].rank;
    n->cls = bcls;
    n->bytes = n->nelem * (uint64_t)sw_dtype_size(C->S->insts[sc->inst].dtype);
    n->src = best;
    n->link = (uint8_t)best_link;
    double t = (double)n->bytes / C->p->topo.link[best_link].bandwidth;
    C->load[(size_t)bi * SW_LINK_COUNT + (size_t)best_link] += t;
    C->rload[(size_t)to * SW_LINK_COUNT + (size_t)best_link] += t;
    if (!final) return SW_OK; /* the first pass only measures the loads */
    uint32_t lid;
    if (!sw_u64map_get(&C->locals, sw__compile_local_key(SW_ROLE_SRC, best, sc->inst), &lid))
        return sw__err(C->err, SW_INTERNAL, "source local of rank %d not found", best);
    n->src_local = lid;
    uint32_t pv = pair_get(C, bi, to);
    if (!pv) {
        if (SW_GROW(C->pair_bytes, C->cappair, C->npair + 1)) return sw__compile_nomem(C);
        C->pair_bytes[C->npair++] = 0;
        pv = (uint32_t)C->npair;
        SW_CHECK(pair_put(C, bi, to, pv - 1));
    }
    C->pair_bytes[pv - 1] += (double)n->bytes;
    return SW_OK;
}

/* The best link class any replica of a need's class offers to rank `to`. */
static int best_link_scan(cstate *C, const need *n, int32_t to_rank) {
    uint32_t to = (uint32_t)sw_plan_rank_index(C->p, to_rank);
    const srcgrp *g = &C->grp[n->grp];
    int best = SW_LINK_NETWORK;
    for (uint32_t c = g->c0; c < g->c0 + g->nc; c++)
        for (uint32_t k = C->cand0[c]; k < C->cand0[c + 1]; k++) {
            int l = link_of(C->p, C->cand[k], to);
            if (l < best) best = l;
            if (best == SW_LINK_DEVICE) return best;
        }
    return best;
}

/* best_link_scan, remembered per (group, destination host, device): the replicas of a
 * group are the same for every destination on that device. */
static int best_link(cstate *C, const need *n, int32_t to) {
    int32_t ri = sw_plan_rank_index(C->p, to);
    const sw_plan_rank *pr = &C->p->ranks[ri];
    if (pr->host < 0 || pr->host >= (1 << 20) || pr->device < 0 || pr->device >= (1 << 11))
        return best_link_scan(C, n, to);
    uint64_t key = ((uint64_t)n->grp << 31) | ((uint64_t)pr->host << 11) | (uint64_t)pr->device;
    uint32_t v;
    if (sw_u64map_get(&C->link_memo, key, &v)) return (int)v;
    int l = best_link_scan(C, n, to);
    if (sw_u64map_put(&C->link_memo, key, (uint32_t)l)) return l; /* out of memory: just not remembered */
    return l;
}


/* Network-only needs, in the order that puts each (source group, destination host, box)
 * together: a relay group is a run of equal (group, host, box).  Sorted by integer keys
 * (the box as a 64-bit hash; equal boxes are checked when the runs are cut, so a
 * collision can only split a group). */
typedef struct relay_key {
    uint64_t gh, box;
    int32_t dst;
    uint32_t idx;
} relay_key;

static inline int relay_before(const relay_key *x, const relay_key *y) {
    if (x->gh != y->gh) return x->gh < y->gh;
    if (x->box != y->box) return x->box < y->box;
    if (x->dst != y->dst) return x->dst < y->dst;
    return x->idx < y->idx;
}
SW_SORT_DEFINE(sort_relay, relay_key, relay_before)

static uint64_t box_hash(const need *n) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int d = 0; d < SW_MAXDIM; d++) {
        h = (h ^ (uint64_t)n->start[d]) * 0x100000001b3ULL;
        h = (h ^ (uint64_t)n->size[d]) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return h;
}

static int same_box(const need *a, const need *b) {
    return !memcmp(a->start, b->start, sizeof a->start) && !memcmp(a->size, b->size, sizeof a->size);
}

typedef struct unit_key {
    uint64_t bytes;
    uint32_t first, count; /* a relay group: rk[first .. first+count) (need indices); or,
                              when first >= nneeds, the single need first - nneeds */
} unit_key;

static inline int unit_before(const unit_key *x, const unit_key *y) {
    if (x->bytes != y->bytes) return x->bytes > y->bytes;
    return x->first < y->first;
}
SW_SORT_DEFINE(sort_unit, unit_key, unit_before)

/* 1 when the needs of a unit have a single source replica. */
static int single_replica(const cstate *C, const unit_key *uk, const uint32_t *rk, size_t n) {
    uint32_t lead = uk->first >= n ? (uint32_t)(uk->first - n) : rk[uk->first];
    const srcgrp *g = &C->grp[C->needs[lead].grp];
    return C->cand0[g->c0 + g->nc] - C->cand0[g->c0] == 1;
}

static uint64_t fpair_key(int32_t l, int32_t f) { return (uint64_t)(uint32_t)l << 32 | (uint32_t)f; }

/* Makes need f a follower of need lead (forwarded inside the host). */
static int follow(cstate *C, uint32_t lead, uint32_t mi) {
    need *L = &C->needs[lead], *f = &C->needs[mi];
    f->leader = (int32_t)lead;
    f->src = L->dst;
    f->src_local = L->dst_local;
    f->link = (uint8_t)sw_plan_link(C->p, L->dst, f->dst);
    /* a forward carries the receiver's element type */
    f->bytes = f->nelem * (uint64_t)sw_dtype_size(C->L[L->dst_local].dtype);
    double t = (double)f->bytes / C->p->topo.link[f->link].bandwidth;
    *load_of(C, C->load, f->src, f->link) += t;
    *load_of(C, C->rload, f->dst, f->link) += t;
    return SW_OK;
}

/* Selects the source of one unit (a single need or a relay group): the group's receiver
 * is the member with the least network receive load so far, the others its followers. */
static int select_unit(cstate *C, const unit_key *uk, const uint32_t *rk, size_t n, int final) {
    int single = uk->first >= n;
    uint32_t lead = single ? (uint32_t)(uk->first - n) : rk[uk->first];
    if (!single && uk->count > 1) {
        double bl = *load_of(C, C->rload, C->needs[lead].dst, SW_LINK_NETWORK);
        for (uint32_t k = 1; k < uk->count; k++) {
            uint32_t mi = rk[uk->first + k];
            double l = *load_of(C, C->rload, C->needs[mi].dst, SW_LINK_NETWORK);
            if (l < bl) {
                bl = l;
                lead = mi;
            }
        }
    }
    need *L = &C->needs[lead];
    L->leader = -1;
    SW_CHECK(choose_source(C, L, L->dst, final));
    for (uint32_t k = 0; !single && k < uk->count; k++) {
        uint32_t mi = rk[uk->first + k];
        if (mi != lead) SW_CHECK(follow(C, lead, mi));
    }
    return SW_OK;
}

/* A forward from one rank to another costs a message (a latency and a wave on two host
 * ports) and puts a second hop in front of its data: when all it would carry is less than
 * the network moves in its latency (relay_min bytes), its followers receive their boxes
 * themselves instead (from a source they already receive from, when there is one).
 * Whether that pays depends on the sync: sw_compile tries small syncs both ways. */
static int dissolve_small_forwards(cstate *C, double relay_min) {
    sw_u64map tot = {0};
    double *bytes = NULL;
    size_t nb = 0, capb = 0;
    int rc = SW_OK;
    for (size_t i = 0; i < C->nneeds && rc == SW_OK; i++) {
        const need *f = &C->needs[i];
        if (f->leader < 0) continue;
        uint64_t key = fpair_key(C->needs[f->leader].dst, f->dst);
        uint32_t v;
        if (!sw_u64map_get(&tot, key, &v)) {
            if (SW_GROW(bytes, capb, nb + 1) || sw_u64map_put(&tot, key, (uint32_t)nb)) {
                rc = sw__compile_nomem(C);
                break;
            }
            v = (uint32_t)nb;
            bytes[nb++] = 0;
        }
        bytes[v] += (double)f->bytes;
    }
    for (size_t i = 0; i < C->nneeds && rc == SW_OK; i++) {
        need *f = &C->needs[i];
        uint32_t v;
        if (f->leader < 0 || !sw_u64map_get(&tot, fpair_key(C->needs[f->leader].dst, f->dst), &v) ||
            bytes[v] >= relay_min)
            continue;
        f->leader = -1;
        rc = choose_source(C, f, f->dst, 1);
    }
    sw_u64map_free(&tot);
    free(bytes);
    return rc;
}

/* Stage 3.  Units are single needs or relay groups (network-only needs of one source
 * class and box on one destination host); biggest first, each group's receiver is the
 * member with the least network receive load so far, then its source the least-loaded
 * replica of the best class. */
int sw__compile_select(cstate *C, int no_relay, int dissolve) {
    size_t n = C->nneeds;
    uint32_t *rk = malloc((n ? n : 1) * sizeof *rk);
    unit_key *units = malloc((n ? n : 1) * sizeof *units);
    int rc = SW_OK;
    if (!rk || !units) {
        rc = sw__compile_nomem(C);
        goto out;
    }
    size_t nunits = 0, m = 0;
    /* needs that some replica serves inside the host are units of their own; the others
     * are sorted so that the same box for the same destination host comes together */
    for (size_t i = 0; i < n; i++) {
        need *nd = &C->needs[i];
        if (no_relay || best_link(C, nd, nd->dst) != SW_LINK_NETWORK)
            units[nunits++] = (unit_key){nd->bytes, (uint32_t)(n + i), 1};
        else
            rk[m++] = (uint32_t)i;
    }
    {
        relay_key *keys = malloc((m ? m : 1) * sizeof *keys);
        if (!keys) {
            rc = sw__compile_nomem(C);
            goto out;
        }
        for (size_t i = 0; i < m; i++) {
            const need *nd = &C->needs[rk[i]];
            keys[i] = (relay_key){(uint64_t)nd->grp << 32 | (uint32_t)nd->dst_host, box_hash(nd), nd->dst, rk[i]};
        }
        int srt = sort_relay(keys, m);
        for (size_t i = 0; i < m; i++) rk[i] = keys[i].idx;
        free(keys);
        if (srt) {
            rc = sw__compile_nomem(C);
            goto out;
        }
    }
    for (size_t s = 0; s < m;) {
        size_t e = s + 1;
        const need *a = &C->needs[rk[s]];
        while (e < m && C->needs[rk[e]].grp == a->grp && C->needs[rk[e]].dst_host == a->dst_host &&
               same_box(&C->needs[rk[e]], a))
            e++;
        units[nunits++] = (unit_key){a->bytes, (uint32_t)s, (uint32_t)(e - s)};
        s = e;
    }
    if (sort_unit(units, nunits)) {
        rc = sw__compile_nomem(C);
        goto out;
    }
    /* a relay saves network bytes at the price of a second hop and of forwards on the host's
     * ports: not worth a forward of its own for a box that the network carries in less
     * than its latency */
    const sw_link *net = &C->p->topo.link[SW_LINK_NETWORK];
    double relay_min = net->latency * net->bandwidth;
    /* Two passes: the first balances the loads alone; the second keeps a source that
     * already sends to the destination while its load stays within the first pass's
     * busiest port of that class, so that a destination gets fewer, larger messages. */
    for (int pass = 0; pass < 2 && rc == SW_OK; pass++) {
        if (pass == 1) {
            size_t cells = (size_t)C->p->nranks * SW_LINK_COUNT;
            for (int c = 0; c < SW_LINK_COUNT; c++) C->sticky[c] = 0;
            for (size_t q = 0; q < cells; q++) {
                int c = (int)(q % SW_LINK_COUNT);
                if (C->load[q] > C->sticky[c]) C->sticky[c] = C->load[q];
                if (C->rload[q] > C->sticky[c]) C->sticky[c] = C->rload[q];
            }
            memset(C->load, 0, cells * sizeof *C->load);
            memset(C->rload, 0, cells * sizeof *C->rload);
            if (C->p->nranks <= SW_DENSE_PAIRS &&
                !(C->pair_dense = calloc((size_t)C->p->nranks * C->p->nranks + 1, sizeof *C->pair_dense))) {
                rc = sw__compile_nomem(C);
                break;
            }
        }
        /* the second pass first places the units that have a single replica: their
         * pairs exist whatever is chosen, the others join them */
        for (int forced = 1; forced >= 0 && rc == SW_OK; forced--)
            for (size_t u = 0; u < nunits && rc == SW_OK; u++) {
                if (pass == 1 && single_replica(C, &units[u], rk, n) != forced) continue;
                if (pass == 0 && !forced) break;
                rc = select_unit(C, &units[u], rk, n, pass == 1);
            }
    }
    if (rc == SW_OK && !no_relay && dissolve) rc = dissolve_small_forwards(C, relay_min);
out:
    free(rk);
    free(units);
    return rc;
}

