/*
 * compile.c - see compile.h for the stages.
 */
#include "compile.h"
#include "baseline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "color.h"
#include "waves.h"
#include "place.h"

/* ---- a u64 -> u32 hash map ------------------------------------------------------------- */

typedef struct u64map {
    uint64_t *keys; /* key + 1; 0 = empty */
    uint32_t *vals;
    size_t cap, n;
} u64map;

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static int u64map_put(u64map *m, uint64_t key, uint32_t val) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        uint64_t *k = calloc(ncap, sizeof *k);
        uint32_t *v = calloc(ncap, sizeof *v);
        if (!k || !v) {
            free(k);
            free(v);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = mix64(m->keys[i]) & (ncap - 1);
                while (k[j]) j = (j + 1) & (ncap - 1);
                k[j] = m->keys[i];
                v[j] = m->vals[i];
            }
        free(m->keys);
        free(m->vals);
        m->keys = k;
        m->vals = v;
        m->cap = ncap;
    }
    size_t j = mix64(key + 1) & (m->cap - 1);
    while (m->keys[j] && m->keys[j] != key + 1) j = (j + 1) & (m->cap - 1);
    if (!m->keys[j]) m->n++;
    m->keys[j] = key + 1;
    m->vals[j] = val;
    return 0;
}

static int u64map_get(const u64map *m, uint64_t key, uint32_t *val) {
    if (!m->cap) return 0;
    size_t j = mix64(key + 1) & (m->cap - 1);
    while (m->keys[j]) {
        if (m->keys[j] == key + 1) {
            *val = m->vals[j];
            return 1;
        }
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

static void u64map_free(u64map *m) {
    free(m->keys);
    free(m->vals);
}

static uint64_t local_key(int role, int32_t rank, uint32_t inst) {
    return ((uint64_t)(uint32_t)rank << 33) | ((uint64_t)(role == SW_ROLE_DST) << 32) | inst;
}

/* ---- working state -------------------------------------------------------------------- */

/* A box some source instance stores, and the replicas (a sub-mesh) that hold it. */
typedef struct srccls {
    uint32_t tensor, inst;
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    int8_t map[SW_MAXDIM];
    int64_t base[SW_MAXDIM];
    int64_t fixed[SW_MAXAXES]; /* required coordinate, -1 = free */
} srccls;

/* Source classes with identical boxes (replicas from several instances or split
 * coordinates, e.g. KV heads replicated over tp): one candidate set. */
typedef struct srcgrp {
    uint32_t tensor;
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    uint32_t c0, nc; /* cls[c0 .. c0 + nc) */
} srcgrp;

/* What one destination piece needs from one group of source classes. */
typedef struct need {
    int32_t dst;
    uint32_t dst_local;
    uint32_t grp;         /* candidates */
    uint32_t cls;         /* the class of the chosen source */
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    int8_t dmap[SW_MAXDIM];
    int64_t dbase[SW_MAXDIM];
    uint64_t nelem, bytes;
    int32_t src;          /* chosen source rank */
    uint32_t src_local;
    int32_t leader;       /* need index this one is forwarded from, -1 when none */
    uint8_t link;         /* link class of the chosen route */
    int32_t dst_host;
} need;

typedef struct cstate {
    const sw_ir *ir;
    const sw_syncdef *sync;
    const sw_layout *S, *D;
    sw_plan *p;
    sw_error *err;
    srccls *cls;
    size_t ncls, capcls;
    srcgrp *grp;
    size_t ngrp, capgrp;
    uint32_t *cand0;     /* [ncls + 1]: the replicas of class c are cand[cand0[c] .. cand0[c+1]) */
    uint32_t *cand;      /* plan rank indices */
    uint32_t *grp_begin; /* [ntensors + 1] into grp, sorted by tensor */
    need *needs;
    size_t nneeds, capneeds;
    u64map locals; /* (role, rank, inst) -> local id */
    u64map link_memo; /* (group, host, device) -> best link class */
    /* plan arrays while building */
    sw_plan_local *L;
    size_t nL, capL;
    sw_plan_piece *P;
    size_t nP, capP;
    sw_strmap names; /* interned local names */
    size_t *s_off, *d_off;     /* per layout rank: its instances (sw_layout_rank_insts) */
    uint32_t *s_insts, *d_insts;
    double *load;    /* [nranks * SW_LINK_COUNT] send seconds */
    double *rload;   /* [nranks * SW_LINK_COUNT] receive seconds */
} cstate;

static int nomem(cstate *C) { return sw__err(C->err, SW_NOMEM, "out of memory while compiling"); }

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
static int build_classes(cstate *C) {
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
                    rc = nomem(C);
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
        if (SW_GROW(C->grp, C->capgrp, C->ngrp + 1)) return nomem(C);
        srcgrp *g = &C->grp[C->ngrp++];
        g->tensor = C->cls[i].tensor;
        memcpy(g->start, C->cls[i].start, sizeof g->start);
        memcpy(g->size, C->cls[i].size, sizeof g->size);
        g->c0 = (uint32_t)i;
        g->nc = (uint32_t)(e - i);
        i = e;
    }
    C->grp_begin = calloc(C->ir->ntensors + 1, sizeof *C->grp_begin);
    if (!C->grp_begin) return nomem(C);
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
        if (SW_GROW(C->L, C->capL, C->nL + 1)) return nomem(C);
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
            if (SW_GROW(C->P, C->capP, C->nP + 1)) return nomem(C);
            sw_plan_piece *pp = &C->P[C->nP++];
            memset(pp, 0, sizeof *pp);
            pp->tensor = pc->tensor;
            side_from_piece(lt->inst, pc, pp->map, pp->base, pp->start, pp->size);
        }
        if (u64map_put(&C->locals, local_key(role, rank, inst), (uint32_t)C->nL)) return nomem(C);
        C->nL++;
    }
    return SW_OK;
}

static int add_need(cstate *C, int32_t r, uint32_t dst_local, int32_t host, uint32_t g, int nd, const int64_t *s,
                    const int64_t *z, const int8_t *dmap, const int64_t *dbase) {
    if (SW_GROW(C->needs, C->capneeds, C->nneeds + 1)) return nomem(C);
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
            rc = nomem(C);
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
static int build_needs(cstate *C) {
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
static int build_candidates(cstate *C) {
    const sw_layout *S = C->S;
    size_t cap = 0, n = 0;
    C->cand0 = malloc((C->ncls + 1) * sizeof *C->cand0);
    if (!C->cand0) return nomem(C);
    for (size_t c = 0; c < C->ncls; c++) {
        const srccls *sc = &C->cls[c];
        C->cand0[c] = (uint32_t)n;
        int64_t coords[SW_MAXAXES];
        for (int a = 0; a < S->naxes; a++) coords[a] = sc->fixed[a] >= 0 ? sc->fixed[a] : 0;
        for (;;) {
            int64_t l = 0;
            for (int a = 0; a < S->naxes; a++) l += coords[a] * S->stride[a];
            if (SW_GROW(C->cand, cap, n + 1)) return nomem(C);
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

/* Chooses the source replica of need n: the best link class, then the least loaded. */
static int choose_source(cstate *C, need *n, int32_t to_rank) {
    uint32_t to = (uint32_t)sw_plan_rank_index(C->p, to_rank);
    const srcgrp *g = &C->grp[n->grp];
    int32_t best = -1;
    uint32_t best_cls = 0;
    int best_link = SW_LINK_COUNT;
    double best_load = 0;
    for (uint32_t c = g->c0; c < g->c0 + g->nc; c++)
        for (uint32_t k = C->cand0[c]; k < C->cand0[c + 1]; k++) {
            uint32_t ri = C->cand[k];
            int link = link_of(C->p, ri, to);
            double ld = C->load[(size_t)ri * SW_LINK_COUNT + (size_t)link];
            if (link < best_link || (link == best_link && ld < best_load)) {
                best = C->p->ranks[ri].rank;
                best_cls = c;
                best_link = link;
                best_load = ld;
            }
        }
    if (best < 0) return sw__err(C->err, SW_INTERNAL, "a source class without replicas");
    const srccls *sc = &C->cls[best_cls];
    n->cls = best_cls;
    n->bytes = n->nelem * (uint64_t)sw_dtype_size(C->S->insts[sc->inst].dtype);
    n->src = best;
    n->link = (uint8_t)best_link;
    uint32_t lid;
    if (!u64map_get(&C->locals, local_key(SW_ROLE_SRC, best, sc->inst), &lid))
        return sw__err(C->err, SW_INTERNAL, "source local of rank %d not found", best);
    n->src_local = lid;
    double t = (double)n->bytes / C->p->topo.link[best_link].bandwidth;
    *load_of(C, C->load, best, best_link) += t;
    *load_of(C, C->rload, to_rank, best_link) += t;
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
    if (u64map_get(&C->link_memo, key, &v)) return (int)v;
    int l = best_link_scan(C, n, to);
    if (u64map_put(&C->link_memo, key, (uint32_t)l)) return l; /* out of memory: just not remembered */
    return l;
}

/* Stable merge sort of indices with a comparator that takes a context (qsort has none):
 * moves 4-byte indices instead of wide keys. */
typedef int (*idx_cmp)(const void *ctx, uint32_t a, uint32_t b);

static int sort_idx(uint32_t *v, size_t n, idx_cmp cmp, const void *ctx) {
    uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) return -1;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n, i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = cmp(ctx, v[j], v[i]) < 0 ? v[j++] : v[i++];
            while (i < mid) tmp[k++] = v[i++];
            while (j < hi) tmp[k++] = v[j++];
        }
        memcpy(v, tmp, n * sizeof *v);
    }
    free(tmp);
    return 0;
}

/* Network-only needs, in the order that puts each (source group, destination host, box)
 * together: a relay group is a run of equal (group, host, box). */
static int cmp_relay(const void *ctx, uint32_t a, uint32_t b) {
    const need *x = &((const need *)ctx)[a], *y = &((const need *)ctx)[b];
    if (x->grp != y->grp) return x->grp < y->grp ? -1 : 1;
    if (x->dst_host != y->dst_host) return x->dst_host < y->dst_host ? -1 : 1;
    int c = memcmp(x->start, y->start, sizeof x->start);
    if (c) return c;
    if ((c = memcmp(x->size, y->size, sizeof x->size))) return c;
    return (x->dst > y->dst) - (x->dst < y->dst);
}

static int same_box(const need *a, const need *b) {
    return !memcmp(a->start, b->start, sizeof a->start) && !memcmp(a->size, b->size, sizeof a->size);
}

typedef struct unit_key {
    uint64_t bytes;
    uint32_t first, count; /* a relay group: rk[first .. first+count) (need indices); or,
                              when first >= nneeds, the single need first - nneeds */
} unit_key;

static int cmp_unit(const void *a, const void *b) {
    const unit_key *x = a, *y = b;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

/* Stage 3.  Units are single needs or relay groups (network-only needs of one source
 * class and box on one destination host); biggest first, each group's receiver is the
 * member with the least network receive load so far, then its source the least-loaded
 * replica of the best class. */
static int select_sources(cstate *C, int no_relay) {
    size_t n = C->nneeds;
    uint32_t *rk = malloc((n ? n : 1) * sizeof *rk);
    unit_key *units = malloc((n ? n : 1) * sizeof *units);
    int rc = SW_OK;
    if (!rk || !units) {
        rc = nomem(C);
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
    if (sort_idx(rk, m, cmp_relay, C->needs)) {
        rc = nomem(C);
        goto out;
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
    qsort(units, nunits, sizeof *units, cmp_unit);
    for (size_t u = 0; u < nunits && rc == SW_OK; u++) {
        const unit_key *uk = &units[u];
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
        if ((rc = choose_source(C, L, L->dst))) break;
        for (uint32_t k = 0; !single && k < uk->count; k++) {
            uint32_t mi = rk[uk->first + k];
            if (mi == lead) continue;
            need *f = &C->needs[mi];
            f->leader = (int32_t)lead;
            f->src = L->dst;
            f->src_local = L->dst_local;
            f->link = (uint8_t)sw_plan_link(C->p, L->dst, f->dst);
            /* a forward carries the receiver's element type */
            f->bytes = f->nelem * (uint64_t)sw_dtype_size(C->L[L->dst_local].dtype);
            double t = (double)f->bytes / C->p->topo.link[f->link].bandwidth;
            *load_of(C, C->load, f->src, f->link) += t;
            *load_of(C, C->rload, f->dst, f->link) += t;
        }
    }
out:
    free(rk);
    free(units);
    return rc;
}

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

typedef struct build {
    sw_plan_xfer *X;
    size_t nX;
    uint8_t *stage;     /* per transfer: 1 = relay forward */
    int32_t *leader;    /* per transfer: the transfer it forwards, -1 */
    sw_plan_seg *G;
    size_t nG, capG;
    sw_plan_task *T;
    size_t nT, capT;
    uint32_t *D;
    size_t nD, capD;
    uint32_t *xseg0, *xnseg; /* per transfer: its segments (contiguous) */
    uint32_t *seg_task;      /* per segment: its task */
} build;

static void build_free(build *B) {
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
static int chunk_caps(cstate *C, int64_t bucket) {
    sw_plan *p = C->p;
    size_t nports = (size_t)p->nranks * SW_LINK_COUNT * 2;
    double *bytes = calloc(nports + 1, sizeof *bytes);
    if (!bytes) return nomem(C);
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
    free(bytes);
    if (worst <= 0) worst = p->topo.link[b].bandwidth;
    double tau = (double)bucket / (2.0 * worst);
    /* a floor against tiny messages, but never above what six ports (send and receive per
     * class), double-buffered, can stage within the bucket */
    int64_t lo = 64 * 1024, room = bucket / (2 * 2 * SW_LINK_COUNT);
    if (lo > room) lo = room > 1 ? room : 1;
    int64_t hi = bucket / 2 > lo ? bucket / 2 : lo;
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        double v = tau * p->topo.link[c].bandwidth * f[c];
        int64_t cap = v > 9e18 ? INT64_MAX : (int64_t)v;
        if (cap < lo) cap = lo;
        if (cap > hi) cap = hi;
        p->chunk[c] = cap;
    }
    return SW_OK;
}

static int new_task(cstate *C, build *B, int32_t src, int32_t dst, uint8_t cls, uint8_t relay) {
    if (SW_GROW(B->T, B->capT, B->nT + 1)) return nomem(C);
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

static int build_tasks(cstate *C, build *B) {
    sw_plan *p = C->p;
    size_t n = C->nneeds;
    B->nX = n;
    /* the transfers go straight into the plan's arena: no copy at the end */
    B->X = sw_arena_array(&C->p->arena, n ? n : 1, sizeof *B->X);
    B->stage = calloc(n ? n : 1, 1);
    B->leader = malloc((n ? n : 1) * sizeof *B->leader);
    B->xseg0 = calloc(n ? n : 1, sizeof *B->xseg0);
    B->xnseg = calloc(n ? n : 1, sizeof *B->xnseg);
    xkey *keys = malloc((n ? n : 1) * sizeof *keys);
    int rc = SW_OK;
    if (!B->X || !B->stage || !B->leader || !B->xseg0 || !B->xnseg || !keys) {
        free(keys);
        return nomem(C);
    }
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
        keys[i] = (xkey){x->src_rank, x->dst_rank, B->stage[i], (uint32_t)i};
    }
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
                uint64_t room = target > cur ? target - cur : 0;
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
                    rc = nomem(C);
                    break;
                }
                B->G[B->nG++] = (sw_plan_seg){xi, e0, take};
                cur += take * es;
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
static int build_forwards(cstate *C, build *B) {
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
        return nomem(C);
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
                    rc = nomem(C);
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
        uint64_t total = 0;
        for (size_t k = 0; k < np; k++) total += fp[k].nelem * (uint64_t)sw_dtype_size(C->L[B->X[fp[k].xfer].src.local].dtype);
        uint64_t cap = (uint64_t)p->chunk[cls], nchunks = total / cap + (total % cap != 0);
        if (!nchunks) nchunks = 1;
        uint64_t target = total / nchunks + (total % nchunks != 0), cur = 0;
        if ((rc = new_task(C, B, keys[s].src, keys[s].dst, cls, 1))) break;
        for (size_t k = 0; k < np && rc == SW_OK; k++) {
            uint64_t es = (uint64_t)sw_dtype_size(C->L[B->X[fp[k].xfer].src.local].dtype);
            uint64_t e0 = fp[k].elem0, end = fp[k].elem0 + fp[k].nelem;
            while (e0 < end) {
                uint64_t room = target > cur ? target - cur : 0;
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
                    rc = nomem(C);
                    break;
                }
                B->G[B->nG++] = (sw_plan_seg){fp[k].xfer, e0, take};
                cur += take * es;
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
                    rc = nomem(C);
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
                rc = nomem(C);
                break;
            }
            B->D[B->nD++] = tmp[i];
        }
        T->ndep = (uint32_t)(B->nD - T->dep0);
    }
    free(tmp);
    return rc;
}

/* ---- stage 5: waves ----------------------------------------------------------------------- */

typedef struct fwd_key {
    int32_t earliest;
    uint64_t bytes;
    uint32_t idx;
} fwd_key;

static int cmp_fwd(const void *a, const void *b) {
    const fwd_key *x = a, *y = b;
    if (x->earliest != y->earliest) return x->earliest < y->earliest ? -1 : 1;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

typedef struct color_key {
    uint64_t relayed; /* bytes in this color that other ranks wait for */
    int32_t color;
} color_key;

static int cmp_color_key(const void *a, const void *b) {
    const color_key *x = a, *y = b;
    if (x->relayed != y->relayed) return x->relayed > y->relayed ? -1 : 1;
    return (x->color > y->color) - (x->color < y->color);
}

/* Any permutation of a proper coloring is proper: put first the colors whose tasks carry
 * data that will be forwarded, so that relay forwards start early and do not trail. */
static int relays_first(cstate *C, build *B, const uint32_t *idx, size_t m, int32_t *color, int32_t ncolors) {
    uint8_t *led = calloc(B->nX + 1, 1);
    color_key *ck = calloc((size_t)ncolors + 1, sizeof *ck);
    int32_t *perm = malloc(((size_t)ncolors + 1) * sizeof *perm);
    if (!led || !ck || !perm) {
        free(led);
        free(ck);
        free(perm);
        return nomem(C);
    }
    for (size_t i = 0; i < B->nX; i++)
        if (B->leader[i] >= 0) led[B->leader[i]] = 1;
    for (int32_t c = 0; c < ncolors; c++) ck[c].color = c;
    for (size_t i = 0; i < m; i++) {
        const sw_plan_task *t = &B->T[idx[i]];
        for (uint32_t k = 0; k < t->nseg; k++) {
            const sw_plan_seg *g = &B->G[t->seg0 + k];
            if (led[g->xfer]) ck[color[i]].relayed += g->nelem;
        }
    }
    qsort(ck, (size_t)ncolors, sizeof *ck, cmp_color_key);
    for (int32_t c = 0; c < ncolors; c++) perm[ck[c].color] = c;
    for (size_t i = 0; i < m; i++) color[i] = perm[color[i]];
    free(led);
    free(ck);
    free(perm);
    return SW_OK;
}

/* Waves: the tasks without predecessors are colored (optimal) or placed first-fit
 * (greedy); then the relay forwards are built and placed first-fit after their inputs. */
static int schedule(cstate *C, build *B, sw_scheduler sched) {
    size_t nports = (size_t)C->p->nranks * SW_LINK_COUNT;
    sw_ports P;
    int pok = sw_ports_init(&P, C->p->nranks);
    uint32_t *order = malloc((B->nT ? B->nT : 1) * sizeof *order);
    sw_color_edge *edges = NULL;
    int32_t *color = NULL, ncolors = 0;
    fwd_key *fk = NULL;
    int rc = SW_OK;
    size_t m = B->nT;
    if (pok || !order) {
        rc = nomem(C);
        goto out;
    }
    for (size_t i = 0; i < m; i++) order[i] = (uint32_t)i;
    if (sched == SW_SCHED_GREEDY) {
        rc = sw_first_fit(C->p, B->T, B->D, &P, order, m, C->err);
    } else {
        /* The chunks of at least half the size of their class's chunk set the waves:
         * colored with exactly as many colors as the busiest port has of them.  The
         * small messages (one chunk each, whatever their size) then go first-fit into
         * those waves' free ports: they must not multiply the waves the big ones need. */
        size_t nb = 0, ns = 0;
        uint32_t *small = malloc((m ? m : 1) * sizeof *small);
        edges = malloc((m ? m : 1) * sizeof *edges);
        color = malloc((m ? m : 1) * sizeof *color);
        if (!edges || !color || !small) {
            free(small);
            rc = nomem(C);
            goto out;
        }
        for (size_t k = 0; k < m; k++) {
            const sw_plan_task *t = &B->T[k];
            if (2 * t->bytes >= (uint64_t)C->p->chunk[t->cls]) order[nb++] = (uint32_t)k;
            else small[ns++] = (uint32_t)k;
        }
        for (size_t k = 0; k < nb; k++) { /* ports of one direction, numbered rank * classes + class */
            edges[k].u = (int32_t)(sw_port_send(C->p, &B->T[order[k]]) / 2);
            edges[k].v = (int32_t)(sw_port_recv(C->p, &B->T[order[k]]) / 2);
        }
        rc = sw_color_bipartite(edges, nb, (int32_t)nports, (int32_t)nports, color, &ncolors, C->err);
        if (rc == SW_OK) rc = relays_first(C, B, order, nb, color, ncolors);
        for (size_t k = 0; k < nb && rc == SW_OK; k++) {
            B->T[order[k]].wave = color[k];
            if (sw_ports_take(&P, (size_t)edges[k].u * 2, color[k]) ||
                sw_ports_take(&P, (size_t)edges[k].v * 2 + 1, color[k]))
                rc = nomem(C);
        }
        if (rc == SW_OK) rc = sw_first_fit(C->p, B->T, B->D, &P, small, ns, C->err);
        free(small);
    }
    if (rc || (rc = build_forwards(C, B))) goto out;
    size_t nf = B->nT - m;
    if (!nf) goto out;
    fk = malloc(nf * sizeof *fk);
    uint32_t *o2 = realloc(order, nf * sizeof *order);
    if (!fk || !o2) {
        rc = nomem(C);
        goto out;
    }
    order = o2;
    for (size_t i = m; i < B->nT; i++) {
        const sw_plan_task *t = &B->T[i];
        int32_t w = 0;
        for (uint32_t d = 0; d < t->ndep; d++) {
            int32_t dw = B->T[B->D[t->dep0 + d]].wave;
            if (dw + 1 > w) w = dw + 1;
        }
        fk[i - m] = (fwd_key){w, t->bytes, (uint32_t)i};
    }
    qsort(fk, nf, sizeof *fk, cmp_fwd);
    for (size_t k = 0; k < nf; k++) order[k] = fk[k].idx;
    rc = sw_first_fit(C->p, B->T, B->D, &P, order, nf, C->err);
out:
    sw_ports_free(&P);
    free(order);
    free(edges);
    free(color);
    free(fk);
    return rc;
}

/* ---- assembling the plan --------------------------------------------------------------------- */

static void *arena_copy(sw_arena *a, const void *src, size_t n, size_t size) {
    void *d = sw_arena_array(a, n, size);
    if (d && n) memcpy(d, src, n * size);
    return d;
}

static int finish(cstate *C, build *B) {
    sw_plan *p = C->p;
    sw_arena *a = &p->arena;
    SW_CHECK(sw_plan_set_tasks(p, B->T, B->nT, B->D, B->nD, C->err));
    p->nxfers = (uint32_t)B->nX;
    p->nsegs = (uint32_t)B->nG;
    p->nlocals = (uint32_t)C->nL;
    p->npieces = (uint32_t)C->nP;
    p->xfers = B->X;
    if (!(p->segs = arena_copy(a, B->G, B->nG, sizeof *B->G)) ||
        !(p->locals = arena_copy(a, C->L, C->nL, sizeof *C->L)) ||
        !(p->pieces = arena_copy(a, C->P, C->nP, sizeof *C->P)))
        return nomem(C);
    /* names into the plan's arena, interned */
    for (size_t i = 0; i < C->nL; i++) {
        uint32_t id;
        if (sw_strmap_get(&C->names, C->L[i].name, &id)) {
            p->locals[i].name = p->locals[id].name;
            continue;
        }
        if (!(p->locals[i].name = sw_arena_strdup(a, C->L[i].name))) return nomem(C);
        if (sw_strmap_put(&C->names, C->L[i].name, (uint32_t)i, NULL) < 0) return nomem(C);
    }
    return SW_OK;
}

static int setup(cstate *C, const sw_compile_opts *o) {
    const sw_ir *ir = C->ir;
    sw_plan *p = C->p;
    sw_arena *a = &p->arena;
    p->model = sw_arena_strdup(a, ir->model_name);
    p->sync = sw_arena_strdup(a, C->sync->name);
    p->from = sw_arena_strdup(a, C->S->name);
    p->to = sw_arena_strdup(a, C->D->name);
    p->scheduler = o->scheduler;
    p->topo = ir->topo;
    p->bucket = o->bucket > 0 ? o->bucket : C->sync->bucket;
    p->ntensors = (uint32_t)ir->ntensors;
    p->tensors = sw_arena_array(a, ir->ntensors, sizeof *p->tensors);
    if (!p->model || !p->sync || !p->from || !p->to || !p->tensors) return nomem(C);
    for (size_t t = 0; t < ir->ntensors; t++) {
        sw_plan_tensor *pt = &p->tensors[t];
        pt->name = sw_arena_strdup(a, ir->tensors[t].name);
        if (!pt->name) return nomem(C);
        pt->dtype = ir->tensors[t].dtype;
        pt->skipped = C->sync->skip[t];
        pt->ndim = ir->tensors[t].ndim;
        memcpy(pt->shape, ir->tensors[t].shape, sizeof pt->shape);
    }
    /* ranks: every rank of both layouts, sorted */
    const sw_layout *Ls[2] = {C->S, C->D};
    int64_t lo = C->S->first_rank < C->D->first_rank ? C->S->first_rank : C->D->first_rank;
    int64_t hi = C->S->first_rank + C->S->nranks > C->D->first_rank + C->D->nranks ? C->S->first_rank + C->S->nranks
                                                                                     : C->D->first_rank + C->D->nranks;
    p->ranks = sw_arena_array(a, (size_t)(hi - lo), sizeof *p->ranks);
    if (!p->ranks) return nomem(C);
    for (int64_t g = lo; g < hi; g++)
        for (int k = 0; k < 2; k++) {
            const sw_layout *L = Ls[k];
            if (g < L->first_rank || g >= L->first_rank + L->nranks) continue;
            int64_t h, d;
            sw_layout_place(L, g - L->first_rank, &h, &d);
            p->ranks[p->nranks++] = (sw_plan_rank){(int32_t)g, (int32_t)h, (int32_t)d};
            break;
        }
    C->load = calloc((size_t)p->nranks * SW_LINK_COUNT + 1, sizeof *C->load);
    C->rload = calloc((size_t)p->nranks * SW_LINK_COUNT + 1, sizeof *C->rload);
    if (!C->load || !C->rload) return nomem(C);
    return SW_OK;
}

int sw_compile(const sw_ir *ir, const sw_compile_opts *o, sw_plan *p, sw_error *err) {
    memset(p, 0, sizeof *p);
    sw_arena_init(&p->arena);
    if (o->sync < 0 || (size_t)o->sync >= ir->nsyncs) return sw__err(err, SW_USAGE, "no such sync");
    if (o->scheduler == SW_SCHED_NAIVE || o->scheduler == SW_SCHED_BROADCAST) {
        /* baselines: the needed boxes of a relay-free compile, rescheduled (baseline.h) */
        sw_compile_opts o2 = *o;
        o2.scheduler = SW_SCHED_OPTIMAL;
        o2.no_relay = 1;
        int brc = sw_compile(ir, &o2, p, err);
        if (!brc) brc = sw_baseline_schedule(p, o->scheduler, err);
        if (brc) sw_plan_free(p);
        return brc;
    }
    if (o->scheduler != SW_SCHED_OPTIMAL && o->scheduler != SW_SCHED_GREEDY)
        return sw__err(err, SW_UNSUPPORTED, "scheduler '%s' is not implemented yet", sw_scheduler_name(o->scheduler));
    cstate C;
    memset(&C, 0, sizeof C);
    C.ir = ir;
    C.sync = &ir->syncs[o->sync];
    C.S = &ir->layouts[C.sync->from];
    C.D = &ir->layouts[C.sync->to];
    C.p = p;
    C.err = err;
    build B;
    memset(&B, 0, sizeof B);
    int rc = setup(&C, o);
    if (!rc) rc = sw_layout_rank_insts(C.S, &C.s_off, &C.s_insts, err);
    if (!rc) rc = sw_layout_rank_insts(C.D, &C.d_off, &C.d_insts, err);
    if (!rc) rc = build_classes(&C);
    if (!rc) rc = build_candidates(&C);
    if (!rc) rc = build_needs(&C);
    if (!rc) rc = select_sources(&C, o->no_relay);
    if (!rc) rc = chunk_caps(&C, p->bucket);
    if (!rc) rc = build_tasks(&C, &B);
    if (!rc) rc = schedule(&C, &B, o->scheduler);
    if (!rc) rc = finish(&C, &B);
    if (!rc) sw_plan_compute_stats(p);
    build_free(&B);
    free(C.cls);
    free(C.grp);
    free(C.grp_begin);
    free(C.cand0);
    free(C.cand);
    free(C.needs);
    u64map_free(&C.locals);
    u64map_free(&C.link_memo);
    free(C.L);
    free(C.P);
    sw_strmap_free(&C.names);
    free(C.load);
    free(C.rload);
    free(C.s_off);
    free(C.d_off);
    free(C.s_insts);
    free(C.d_insts);
    if (rc) sw_plan_free(p);
    return rc;
}
