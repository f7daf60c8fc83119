#include "coverage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "place.h"

/* ---- union-of-boxes coverage: a sweep per dim, recursing into slabs ------------------- */

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

typedef struct box_key {
    int64_t at;
    size_t box;
} box_key;

static int cmp_box_key(const void *a, const void *b) {
    const box_key *x = a, *y = b;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return (x->box > y->box) - (x->box < y->box);
}

/* Covers region [lo, hi) in dims d.. with the boxes listed in idx (all of which cover the
 * region in dims < d).  Sweeps dim d over the boxes' boundaries with the set of boxes
 * that span each slab (added at their start, removed at their end, swap-remove), and
 * recurses into each slab with that set: O(n log n) per level plus the sizes of the
 * active sets.  Returns 1, 0 (missing set), or -1. */
static int cover_rec(const sw_box *boxes, const size_t *idx, size_t n, int ndim, int d, int64_t *lo, int64_t *hi,
                     sw_box *missing) {
    if (d == ndim) return n > 0 ? 1 : 0;
    int64_t *cuts = malloc((2 * n + 2) * sizeof *cuts);
    box_key *starts = malloc((n + 1) * sizeof *starts), *ends = malloc((n + 1) * sizeof *ends);
    size_t *act = malloc((n + 1) * sizeof *act), *pos = malloc((n + 1) * sizeof *pos);
    int rc = 1;
    if (!cuts || !starts || !ends || !act || !pos) {
        rc = -1;
        goto out;
    }
    size_t nc = 0;
    cuts[nc++] = lo[d];
    cuts[nc++] = hi[d];
    for (size_t i = 0; i < n; i++) {
        const sw_box *b = &boxes[idx[i]];
        int64_t s = b->start[d], e = b->start[d] + b->size[d];
        if (s > lo[d] && s < hi[d]) cuts[nc++] = s;
        if (e > lo[d] && e < hi[d]) cuts[nc++] = e;
        starts[i] = (box_key){s, i};
        ends[i] = (box_key){e, i};
    }
    qsort(cuts, nc, sizeof *cuts, cmp_i64);
    qsort(starts, n, sizeof *starts, cmp_box_key);
    qsort(ends, n, sizeof *ends, cmp_box_key);
    int64_t save_lo = lo[d], save_hi = hi[d];
    size_t na = 0, si = 0, ei = 0;
    for (size_t c = 0; c + 1 < nc && rc == 1; c++) {
        if (cuts[c] == cuts[c + 1]) continue;
        /* the boxes spanning [cuts[c], cuts[c+1]): started at or before it, not ended */
        while (si < n && starts[si].at <= cuts[c]) {
            pos[starts[si].box] = na;
            act[na++] = starts[si].box;
            si++;
        }
        while (ei < n && ends[ei].at <= cuts[c]) {
            size_t k = ends[ei].box, p = pos[k];
            if (p < na && act[p] == k) {
                act[p] = act[--na];
                pos[act[p]] = p;
            }
            ei++;
        }
        lo[d] = cuts[c];
        hi[d] = cuts[c + 1];
        if (na == 0) {
            for (int k = 0; k < ndim; k++) {
                missing->start[k] = lo[k];
                missing->size[k] = hi[k] - lo[k];
            }
            rc = 0;
            break;
        }
        if (d + 1 == ndim) continue;
        size_t *sub = malloc(na * sizeof *sub);
        if (!sub) {
            rc = -1;
            break;
        }
        for (size_t k = 0; k < na; k++) sub[k] = idx[act[k]];
        rc = cover_rec(boxes, sub, na, ndim, d + 1, lo, hi, missing);
        free(sub);
    }
    if (rc != 0) {
        lo[d] = save_lo;
        hi[d] = save_hi;
    }
out:
    free(cuts);
    free(starts);
    free(ends);
    free(act);
    free(pos);
    return rc;
}

int sw_coverage_boxes(const sw_box *boxes, size_t n, int ndim, const int64_t *shape, sw_box *missing) {
    int64_t lo[SW_MAXDIM] = {0}, hi[SW_MAXDIM];
    for (int k = 0; k < ndim; k++) {
        if (shape[k] == 0) return 1; /* an empty tensor is always covered */
        hi[k] = shape[k];
    }
    if (ndim == 0) {
        memset(missing, 0, sizeof *missing);
        return n > 0;
    }
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return -1;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    int rc = cover_rec(boxes, idx, n, ndim, 0, lo, hi, missing);
    free(idx);
    return rc;
}

/* ---- the boxes a layout holds, per logical tensor --------------------------------------- */

typedef struct tboxes {
    uint32_t tensor;
    sw_box box;
    int64_t mult; /* ranks that hold it (replicas along the axes the instance does not split) */
} tboxes;

typedef struct boxset {
    tboxes *v;
    size_t n, cap;
    uint8_t *full;   /* [ntensors]: some piece is the whole tensor */
    uint8_t *placed; /* [ntensors]: some instance places it */
} boxset;

static int cmp_tboxes(const void *a, const void *b) {
    const tboxes *x = a, *y = b;
    return (x->tensor > y->tensor) - (x->tensor < y->tensor);
}

/* Enumerates every combination of the split coordinates of each instance (not every
 * rank: replicas along free axes are the same boxes, counted in mult).  keep_full: also
 * list the boxes of tensors some piece holds whole (else they are only marked full). */
static int collect(const sw_ir *ir, const sw_layout *L, boxset *bs, int keep_full, sw_error *err) {
    sw_pieces pcs = {0};
    int rc = SW_OK;
    for (size_t i = 0; i < L->ninsts && rc == SW_OK; i++) {
        const sw_inst *in = &L->insts[i];
        int axes[SW_MAXAXES], nax = 0;
        for (int d = 0; d < in->ndim; d++)
            for (int k = 0; k < in->dims[d].naxes; k++) axes[nax++] = in->dims[d].axes[k];
        int64_t coords[SW_MAXAXES];
        for (int a = 0; a < L->naxes; a++) coords[a] = in->where[a] >= 0 ? in->where[a] : 0;
        for (size_t k = 0; k < (size_t)in->nitems * (size_t)in->nparts; k++) bs->placed[in->tensor[k]] = 1;
        /* ranks per combination: those matching `where`, over the split axes' sizes */
        int64_t mult = L->nranks;
        for (int a = 0; a < L->naxes; a++) {
            int split = 0;
            for (int k = 0; k < nax; k++) split |= axes[k] == a;
            if (in->where[a] >= 0 || split) mult /= L->size[a];
        }
        if (mult < 1) mult = 1;
        for (;;) {
            int64_t shape[SW_MAXDIM];
            pcs.n = 0;
            rc = sw_inst_pieces(L, in, coords, shape, &pcs, err);
            if (rc) break;
            for (size_t p = 0; p < pcs.n; p++) {
                const sw_piece *pc = &pcs.v[p];
                const sw_tensor *t = &ir->tensors[pc->tensor];
                if (bs->full[pc->tensor] && !keep_full) continue;
                sw_box b;
                memset(&b, 0, sizeof b);
                int whole = 1;
                for (int k = 0; k < pc->ndim; k++) {
                    b.start[pc->perm[k]] = pc->start[k];
                    b.size[pc->perm[k]] = pc->size[k];
                }
                for (int k = 0; k < t->ndim; k++)
                    if (b.start[k] != 0 || b.size[k] != t->shape[k]) whole = 0;
                if (whole) {
                    bs->full[pc->tensor] = 1;
                    if (!keep_full) continue;
                }
                if (SW_GROW(bs->v, bs->cap, bs->n + 1)) {
                    rc = sw__err(err, SW_NOMEM, "out of memory");
                    break;
                }
                bs->v[bs->n].tensor = pc->tensor;
                bs->v[bs->n].mult = mult;
                bs->v[bs->n++].box = b;
            }
            int k = nax - 1;
            while (k >= 0 && ++coords[axes[k]] == L->size[axes[k]]) coords[axes[k--]] = 0;
            if (k < 0 || rc) break;
        }
    }
    sw_pieces_free(&pcs);
    if (rc == SW_OK && bs->n > 1) qsort(bs->v, bs->n, sizeof *bs->v, cmp_tboxes);
    return rc;
}

static void boxset_free(boxset *b) {
    free(b->v);
    free(b->full);
    free(b->placed);
}

static void box_str(char *buf, size_t cap, int ndim, const sw_box *b) {
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < ndim && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, "%s[%lld, %lld)", k ? " x " : "", (long long)b->start[k],
                              (long long)(b->start[k] + b->size[k]));
}

/* Every tensor the sync moves arrives in a dtype it can be converted to from every dtype
 * the source layout holds it in (sw_dtype_convertible); else an input error at the
 * destination rule. */
static int check_dtypes(const sw_ir *ir, const sw_syncdef *s, sw_error *err) {
    const sw_layout *src = &ir->layouts[s->from], *dst = &ir->layouts[s->to];
    uint16_t *held = calloc(ir->ntensors + 1, sizeof *held); /* bit per dtype the source holds */
    if (!held) return sw__err(err, SW_NOMEM, "out of memory");
    for (size_t i = 0; i < src->ninsts; i++) {
        const sw_inst *in = &src->insts[i];
        for (size_t k = 0; k < (size_t)in->nitems * (size_t)in->nparts; k++)
            held[in->tensor[k]] |= (uint16_t)(1u << in->dtype);
    }
    int rc = SW_OK;
    for (size_t i = 0; i < dst->ninsts && rc == SW_OK; i++) {
        const sw_inst *in = &dst->insts[i];
        for (size_t k = 0; k < (size_t)in->nitems * (size_t)in->nparts && rc == SW_OK; k++) {
            uint32_t t = in->tensor[k];
            if (s->skip[t]) continue;
            for (int d = 0; d < SW_DT_COUNT; d++)
                if ((held[t] >> d & 1) && !sw_dtype_convertible((sw_dtype)d, in->dtype)) {
                    rc = sw__err_at(err, SW_INPUT, in->loc,
                                    "sync '%s': '%s' is %s in layout '%s' and %s in layout '%s': converting %s to %s "
                                    "is not supported (only the same type, float to float, and the lossless integer "
                                    "widenings int8/uint8 to int32/int64 and int32 to int64)",
                                    s->name, ir->tensors[t].name, sw_dtype_name((sw_dtype)d), src->name,
                                    sw_dtype_name(in->dtype), dst->name, sw_dtype_name((sw_dtype)d),
                                    sw_dtype_name(in->dtype));
                    break;
                }
        }
    }
    free(held);
    return rc;
}

/* How many transfers a sync makes, at most: every destination box (each rank that holds
 * it) is cut by the boundaries of the source boxes of its tensor into cells, and each cell
 * comes from one source piece.  src: the source layout's boxes (no whole ones), dst: the
 * destination's with multiplicities, both sorted by tensor.  Saturates at INT64_MAX. */
static int64_t estimate_transfers(const sw_ir *ir, const sw_syncdef *s, const boxset *src, const boxset *dst) {
    uint64_t total = 0;
    size_t i = 0, j = 0;
    int64_t *cuts[SW_MAXDIM] = {0};
    size_t ncut[SW_MAXDIM], cap = 0;
    while (j < dst->n) {
        uint32_t t = dst->v[j].tensor;
        size_t je = j;
        while (je < dst->n && dst->v[je].tensor == t) je++;
        while (i < src->n && src->v[i].tensor < t) i++;
        size_t ie = i;
        while (ie < src->n && src->v[ie].tensor == t) ie++;
        if (!s->skip[t]) {
            int nd = ir->tensors[t].ndim;
            /* the source boundaries along each dim, sorted, unique */
            if (2 * (ie - i) + 1 > cap) {
                cap = 2 * (ie - i) + 1;
                for (int d = 0; d < nd || d < SW_MAXDIM; d++) {
                    int64_t *c = realloc(cuts[d], cap * sizeof *c);
                    if (!c) {
                        total = UINT64_MAX; /* cannot estimate: let the compile find out */
                        goto out;
                    }
                    cuts[d] = c;
                }
            }
            for (int d = 0; d < nd; d++) {
                size_t n = 0;
                for (size_t k = i; k < ie; k++) {
                    cuts[d][n++] = src->v[k].box.start[d];
                    cuts[d][n++] = src->v[k].box.start[d] + src->v[k].box.size[d];
                }
                qsort(cuts[d], n, sizeof *cuts[d], cmp_i64);
                size_t m = 0;
                for (size_t k = 0; k < n; k++)
                    if (!m || cuts[d][k] != cuts[d][m - 1]) cuts[d][m++] = cuts[d][k];
                ncut[d] = m;
            }
            for (size_t k = j; k < je; k++) {
                const sw_box *b = &dst->v[k].box;
                uint64_t cells = 1;
                for (int d = 0; d < nd; d++) {
                    /* boundaries strictly inside (start, end) */
                    int64_t lo = b->start[d], hi = b->start[d] + b->size[d];
                    size_t a = 0, z = ncut[d];
                    while (a < z) { /* first > lo */
                        size_t mid = a + (z - a) / 2;
                        if (cuts[d][mid] <= lo) a = mid + 1;
                        else z = mid;
                    }
                    size_t first = a;
                    z = ncut[d];
                    while (a < z) { /* first >= hi */
                        size_t mid = a + (z - a) / 2;
                        if (cuts[d][mid] < hi) a = mid + 1;
                        else z = mid;
                    }
                    uint64_t pieces = (uint64_t)(a - first) + 1;
                    cells = cells > UINT64_MAX / pieces ? UINT64_MAX : cells * pieces;
                }
                uint64_t add = cells > UINT64_MAX / (uint64_t)dst->v[k].mult ? UINT64_MAX : cells * (uint64_t)dst->v[k].mult;
                total = total > UINT64_MAX - add ? UINT64_MAX : total + add;
            }
        }
        j = je;
        i = ie;
    }
out:
    for (int d = 0; d < SW_MAXDIM; d++) free(cuts[d]);
    return total > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)total;
}

int sw_coverage_check(const sw_ir *ir, sw_error *err) {
    int rc = SW_OK;
    for (size_t si = 0; si < ir->nsyncs && rc == SW_OK; si++) {
        const sw_syncdef *s = &ir->syncs[si];
        const sw_layout *src = &ir->layouts[s->from], *dst = &ir->layouts[s->to];
        boxset bs = {0}, need = {0};
        bs.full = calloc(ir->ntensors + 1, 1);
        bs.placed = calloc(ir->ntensors + 1, 1);
        need.full = calloc(ir->ntensors + 1, 1);
        need.placed = calloc(ir->ntensors + 1, 1);
        if (!bs.full || !bs.placed || !need.full || !need.placed) {
            rc = sw__err(err, SW_NOMEM, "out of memory");
            goto next;
        }
        SW_CHECK_GOTO(check_dtypes(ir, s, err), rc, next);
        /* which tensors the destination places: its instances' parts */
        for (size_t i = 0; i < dst->ninsts; i++) {
            const sw_inst *in = &dst->insts[i];
            for (size_t k = 0; k < (size_t)in->nitems * (size_t)in->nparts; k++) need.placed[in->tensor[k]] = 1;
        }
        SW_CHECK_GOTO(collect(ir, src, &bs, 0, err), rc, next);
        size_t j = 0;
        for (uint32_t t = 0; t < ir->ntensors; t++) {
            while (j < bs.n && bs.v[j].tensor < t) j++;
            size_t e = j;
            while (e < bs.n && bs.v[e].tensor == t) e++;
            if (!need.placed[t] || s->skip[t] || bs.full[t]) continue;
            const sw_tensor *T = &ir->tensors[t];
            sw_box *boxes = malloc((e - j + 1) * sizeof *boxes), miss;
            if (!boxes) {
                rc = sw__err(err, SW_NOMEM, "out of memory");
                goto next;
            }
            for (size_t k = j; k < e; k++) boxes[k - j] = bs.v[k].box;
            int c = sw_coverage_boxes(boxes, e - j, T->ndim, T->shape, &miss);
            free(boxes);
            if (c < 0) {
                rc = sw__err(err, SW_NOMEM, "out of memory");
                goto next;
            }
            if (!c) {
                char where[256], shape[256];
                sw_box whole;
                memset(&whole, 0, sizeof whole);
                for (int k = 0; k < T->ndim; k++) whole.size[k] = T->shape[k];
                box_str(where, sizeof where, T->ndim, &miss);
                box_str(shape, sizeof shape, T->ndim, &whole);
                rc = sw__err_at(err, SW_INPUT, s->loc,
                                "sync '%s': '%s' is placed by layout '%s' but not fully available in layout '%s'%s: "
                                "no rank of '%s' holds %s of %s (list it under `skip:` if it is not to be "
                                "transferred)",
                                s->name, T->name, dst->name, src->name, bs.placed[t] ? "" : " (it places none of it)",
                                src->name, where, shape);
                goto next;
            }
        }
        /* the transfers the compile would make, bounded before it makes them */
        SW_CHECK_GOTO(collect(ir, dst, &need, 1, err), rc, next);
        int64_t est = estimate_transfers(ir, s, &bs, &need);
        if (est > SW_MAX_TRANSFERS) {
            rc = sw__err_at(err, SW_INPUT, s->loc,
                            "sync '%s' would make about %lld transfers: more than the %lld a plan may have (the input "
                            "limit); the two layouts cut the tensors into very different pieces (rows over many ranks "
                            "into columns over many ranks?)",
                            s->name, (long long)est, SW_MAX_TRANSFERS);
            goto next;
        }
    next:
        boxset_free(&bs);
        boxset_free(&need);
    }
    return rc;
}

int sw_layout_stats_compute(const sw_layout *L, sw_layout_stats *st, sw_error *err) {
    memset(st, 0, sizeof *st);
    int64_t *bytes = calloc((size_t)L->nranks, sizeof *bytes);
    if (!bytes) return sw__err(err, SW_NOMEM, "out of memory");
    /* per instance: the ranks that hold it are the sub-mesh of its free axes */
    int64_t coords[SW_MAXAXES];
    for (size_t i = 0; i < L->ninsts; i++) {
        const sw_inst *in = &L->insts[i];
        for (int a = 0; a < L->naxes; a++) coords[a] = in->where[a] >= 0 ? in->where[a] : 0;
        for (;;) {
            int64_t shape[SW_MAXDIM], l = 0;
            sw_inst_shape(L, in, coords, shape);
            for (int a = 0; a < L->naxes; a++) l += coords[a] * L->stride[a];
            bytes[l] += sw_local_bytes(in, shape);
            st->nlocals++;
            int a = L->naxes - 1;
            while (a >= 0 && (in->where[a] >= 0 || ++coords[a] == L->size[a])) {
                if (in->where[a] < 0) coords[a] = 0;
                a--;
            }
            if (a < 0) break;
        }
    }
    st->min_bytes = INT64_MAX;
    for (int64_t l = 0; l < L->nranks; l++) {
        if (bytes[l] < st->min_bytes) st->min_bytes = bytes[l];
        if (bytes[l] > st->max_bytes) st->max_bytes = bytes[l];
        st->total_bytes += bytes[l];
    }
    /* distinct hosts */
    int64_t *hosts = malloc((size_t)L->nranks * sizeof *hosts);
    if (!hosts) {
        free(bytes);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    for (int64_t l = 0; l < L->nranks; l++) {
        int64_t d;
        sw_layout_place(L, l, &hosts[l], &d);
    }
    qsort(hosts, (size_t)L->nranks, sizeof *hosts, cmp_i64);
    for (int64_t l = 0; l < L->nranks; l++)
        if (l == 0 || hosts[l] != hosts[l - 1]) st->nhosts++;
    free(hosts);
    free(bytes);
    return SW_OK;
}
