#include "place.h"

#include <stdlib.h>
#include <string.h>

#include "sort.h"

void sw_pieces_free(sw_pieces *p) {
    if (!p) return;
    free(p->v);
    memset(p, 0, sizeof *p);
}

void sw_chunk(int64_t n, int64_t T, int64_t t, int uneven, int64_t *a, int64_t *b) {
    if (T <= 1) {
        *a = 0;
        *b = n;
        return;
    }
    if (!uneven || n % T == 0) {
        int64_t c = n / T;
        *a = t * c;
        *b = (t + 1) * c;
        return;
    }
    int64_t c = (n + T - 1) / T;
    *a = t * c < n ? t * c : n;
    *b = (t + 1) * c < n ? (t + 1) * c : n;
}

int64_t sw_dim_coord(const sw_layout *L, const sw_dim *d, const int64_t *coords) {
    int64_t t = 0;
    for (int i = 0; i < d->naxes; i++) t = t * L->size[d->axes[i]] + coords[d->axes[i]];
    return t;
}

/* A run of a local dim that comes from one source: part (fused dim), item (stack dim)
 * or the dim's only source (src = 0). */
typedef struct seg {
    int64_t loff, len, lstart;
    int32_t src;
} seg;

typedef struct segs {
    seg *v;
    size_t n, cap;
    seg one; /* storage for plain dims */
} segs;

static int push_seg(segs *s, int64_t loff, int64_t len, int64_t lstart, int32_t src, const sw_inst *in,
                    int fused) {
    if (len <= 0) return 0;
    if (s->n) {
        seg *p = &s->v[s->n - 1];
        /* merge a run that continues the same logical tensor contiguously */
        if (fused && p->loff + p->len == loff && p->lstart + p->len == lstart &&
            (p->src == src || (in->nitems == 1 && in->tensor[p->src] == in->tensor[src] &&
                               !memcmp(in->parts[p->src].perm, in->parts[src].perm, SW_MAXDIM)))) {
            p->len += len;
            return 0;
        }
    }
    if (SW_GROW(s->v, s->cap, s->n + 1)) return -1;
    s->v[s->n++] = (seg){loff, len, lstart, src};
    return 0;
}

static void part_chunk(const sw_inst *in, const sw_part *pt, int64_t T, int64_t t, int64_t *a, int64_t *b);

/* Segments of the fused dim for split coordinate t of T. Returns the local length. */
static int fused_segs(const sw_inst *in, const sw_dim *d, int64_t t, segs *s, int64_t *len) {
    int64_t T = d->T, off = 0;
    if (in->groups > 0) {
        int64_t G = in->groups, per = G / T;
        for (int64_t g = t * per; g < (t + 1) * per; g++)
            for (int p = 0; p < in->nparts; p++) {
                int64_t gl = in->parts[p].len / G;
                if (push_seg(s, off, gl, g * gl, p, in, 1)) return -1;
                off += gl;
            }
        *len = off;
        return 0;
    }
    for (int p = 0; p < in->nparts; p++) {
        int64_t a, b;
        part_chunk(in, &in->parts[p], T, t, &a, &b);
        if (push_seg(s, off, b - a, a, p, in, 1)) return -1;
        off += b - a;
    }
    *len = off;
    return 0;
}

/* [a, b) of part pt along the fused dim for split coordinate t of T (part-major). */
static void part_chunk(const sw_inst *in, const sw_part *pt, int64_t T, int64_t t, int64_t *a, int64_t *b) {
    if (pt->unit > 0) {
        int64_t U = pt->unit, units = pt->len / U;
        if (units > 0 && units < T && T % units == 0) {
            int64_t k = t * units / T;
            *a = k;
            *b = k + 1;
        } else {
            sw_chunk(units, T, t, in->uneven, a, b);
        }
        *a *= U;
        *b *= U;
    } else {
        sw_chunk(pt->len, T, t, in->uneven, a, b);
    }
}

void sw_inst_shape(const sw_layout *L, const sw_inst *in, const int64_t *coords, int64_t *shape) {
    for (int d = 0; d < in->ndim; d++) {
        const sw_dim *dm = &in->dims[d];
        int64_t a, b, t = sw_dim_coord(L, dm, coords);
        if (d == in->fuse_dim) {
            shape[d] = 0;
            for (int p = 0; p < in->nparts; p++) {
                if (in->groups > 0) {
                    a = 0;
                    b = in->parts[p].len / dm->T;
                } else {
                    part_chunk(in, &in->parts[p], dm->T, t, &a, &b);
                }
                shape[d] += b - a;
            }
        } else {
            sw_chunk(d == 0 && in->stacked ? dm->full : dm->padded, dm->T, t, in->uneven, &a, &b);
            shape[d] = b - a;
        }
    }
}

int64_t sw_local_bytes(const sw_inst *in, const int64_t *shape) {
    int64_t n = sw_dtype_size(in->dtype);
    for (int d = 0; d < in->ndim; d++) n *= shape[d];
    return n;
}

int sw_inst_pieces(const sw_layout *L, const sw_inst *in, const int64_t *coords, int64_t *shape, sw_pieces *out,
                   sw_error *err) {
    segs S[SW_MAXDIM];
    int rc = SW_OK;
    memset(S, 0, sizeof S);
    for (int d = 0; d < in->ndim; d++) {
        const sw_dim *dim = &in->dims[d];
        int64_t t = sw_dim_coord(L, dim, coords);
        if (in->stacked && d == 0) {
            int64_t a, b;
            sw_chunk(dim->full, dim->T, t, in->uneven, &a, &b);
            for (int64_t i = a; i < b; i++)
                if (push_seg(&S[d], i - a, 1, 0, (int32_t)i, in, 0)) goto nomem;
            shape[d] = b - a;
        } else if (d == in->fuse_dim) {
            if (fused_segs(in, dim, t, &S[d], &shape[d])) goto nomem;
        } else {
            int64_t a, b;
            sw_chunk(dim->padded, dim->T, t, in->uneven, &a, &b);
            shape[d] = b - a;
            if (a < dim->full) {
                S[d].one = (seg){0, (b < dim->full ? b : dim->full) - a, a, 0};
                S[d].v = &S[d].one;
                S[d].n = 1;
            }
        }
    }
    /* the cartesian product of the segments, dim 0 outermost: sorted by offset */
    size_t idx[SW_MAXDIM] = {0};
    for (int d = 0; d < in->ndim; d++)
        if (S[d].n == 0) goto done;
    for (;;) {
        if (SW_GROW(out->v, out->cap, out->n + 1)) goto nomem;
        sw_piece *pc = &out->v[out->n++];
        memset(pc, 0, sizeof *pc);
        int item = in->stacked ? S[0].v[idx[0]].src : 0;
        int part = in->fuse_dim >= 0 ? S[in->fuse_dim].v[idx[in->fuse_dim]].src : 0;
        pc->tensor = in->tensor[(size_t)item * (size_t)in->nparts + (size_t)part];
        pc->perm = in->parts[part].perm;
        pc->ndim = (int8_t)(in->ndim - in->stacked);
        for (int d = 0; d < in->ndim; d++) {
            const seg *sg = &S[d].v[idx[d]];
            pc->off[d] = sg->loff;
            if (in->stacked && d == 0) continue;
            pc->start[d - in->stacked] = sg->lstart;
            pc->size[d - in->stacked] = sg->len;
        }
        int d = in->ndim - 1;
        while (d >= 0 && ++idx[d] == S[d].n) idx[d--] = 0;
        if (d < 0) break;
    }
    goto done;
nomem:
    rc = sw__err(err, SW_NOMEM, "out of memory computing pieces of '%s'", in->name);
done:
    for (int d = 0; d < in->ndim; d++)
        if (S[d].v != &S[d].one) free(S[d].v);
    return rc;
}

static inline int local_before(const sw_local *x, const sw_local *y) { return strcmp(x->inst->name, y->inst->name) < 0; }
SW_SORT_DEFINE(sort_locals, sw_local, local_before)

/* Builds the view from instances chosen by list (n of them) or, when list is NULL, from
 * every instance whose `where` matches. */
static int view_build(const sw_layout *L, int64_t rank, const uint32_t *list, size_t n, sw_rank_view *v,
                      sw_error *err) {
    memset(v, 0, sizeof *v);
    if (rank < L->first_rank || rank >= L->first_rank + L->nranks)
        return sw__err(err, SW_USAGE, "rank %lld is not a rank of layout '%s' (ranks %lld..%lld)", (long long)rank,
                       L->name, (long long)L->first_rank, (long long)(L->first_rank + L->nranks - 1));
    v->rank = rank;
    v->index = rank - L->first_rank;
    sw_layout_coords(L, v->index, v->coords);
    sw_layout_place(L, v->index, &v->host, &v->device);
    size_t cap = 0, count = list ? n : L->ninsts;
    for (size_t i = 0; i < count; i++) {
        const sw_inst *in = &L->insts[list ? list[i] : i];
        if (!list && !sw_inst_matches(L, in, v->coords)) continue;
        if (SW_GROW(v->locals, cap, v->nlocals + 1)) {
            sw_rank_view_free(v);
            return sw__err(err, SW_NOMEM, "out of memory");
        }
        sw_local *lt = &v->locals[v->nlocals++];
        memset(lt, 0, sizeof *lt);
        lt->inst = in;
        lt->first = v->pieces.n;
        int rc = sw_inst_pieces(L, in, v->coords, lt->shape, &v->pieces, err);
        if (rc) {
            sw_rank_view_free(v);
            return rc;
        }
        lt->npieces = v->pieces.n - lt->first;
    }
    if (sort_locals(v->locals, v->nlocals)) {
        sw_rank_view_free(v);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    return SW_OK;
}

int sw_rank_view_build(const sw_layout *L, int64_t rank, sw_rank_view *v, sw_error *err) {
    return view_build(L, rank, NULL, 0, v, err);
}

int sw_rank_view_build_from(const sw_layout *L, int64_t rank, const uint32_t *insts, size_t n, sw_rank_view *v,
                            sw_error *err) {
    return view_build(L, rank, insts, n, v, err);
}

/* Calls fn for every rank index whose coordinates match the instance's `where`. */
static void each_rank(const sw_layout *L, const sw_inst *in, void (*fn)(void *, int64_t), void *ctx) {
    int64_t coords[SW_MAXAXES];
    for (int a = 0; a < L->naxes; a++) coords[a] = in->where[a] >= 0 ? in->where[a] : 0;
    for (;;) {
        int64_t l = 0;
        for (int a = 0; a < L->naxes; a++) l += coords[a] * L->stride[a];
        fn(ctx, l);
        int a = L->naxes - 1;
        while (a >= 0 && (in->where[a] >= 0 || ++coords[a] == L->size[a])) {
            if (in->where[a] < 0) coords[a] = 0;
            a--;
        }
        if (a < 0) return;
    }
}

typedef struct fill_ctx {
    size_t *off;
    uint32_t *insts;
    uint32_t inst;
} fill_ctx;

static void count_one(void *ctx, int64_t l) { ((fill_ctx *)ctx)->off[l + 1]++; }

static void put_one(void *ctx, int64_t l) {
    fill_ctx *c = ctx;
    c->insts[c->off[l]++] = c->inst;
}

int sw_layout_rank_insts(const sw_layout *L, size_t **offp, uint32_t **instsp, sw_error *err) {
    size_t nr = (size_t)L->nranks;
    size_t *off = calloc(nr + 2, sizeof *off);
    if (!off) return sw__err(err, SW_NOMEM, "out of memory");
    fill_ctx c = {off, NULL, 0};
    for (size_t i = 0; i < L->ninsts; i++) each_rank(L, &L->insts[i], count_one, &c);
    for (size_t l = 0; l < nr; l++) off[l + 1] += off[l];
    uint32_t *insts = malloc((off[nr] + 1) * sizeof *insts);
    if (!insts) {
        free(off);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    /* fill with a moving cursor per rank (off[l] advances), then shift back */
    c.insts = insts;
    for (size_t i = 0; i < L->ninsts; i++) {
        c.inst = (uint32_t)i;
        each_rank(L, &L->insts[i], put_one, &c);
    }
    for (size_t l = nr; l > 0; l--) off[l] = off[l - 1];
    off[0] = 0;
    *offp = off;
    *instsp = insts;
    return SW_OK;
}

void sw_rank_view_free(sw_rank_view *v) {
    if (!v) return;
    free(v->locals);
    sw_pieces_free(&v->pieces);
    v->locals = NULL;
    v->nlocals = 0;
}
