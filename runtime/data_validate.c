#include "data_validate.h"
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boxmath.h"
#include "convert.h"
#include "exec.h"

/* Row-major strides of a logical tensor. */
static void tensor_strides(const sw_plan_tensor *t, int64_t *st) {
    int64_t s = 1;
    for (int k = t->ndim - 1; k >= 0; k--) {
        st[k] = s;
        s *= t->shape[k];
    }
}

static int mine(const sw_plan_local *l, int32_t rank) { return rank < 0 || l->rank == rank; }

/* The logical linear index (tensor strides ts) of element e of the box at start. */
static int64_t box_linear(const sw_box_geom *g, const int64_t *start, const int64_t *ts, uint64_t e) {
    int64_t lin = 0;
    for (int d = g->ndim - 1; d >= 0; d--) {
        uint64_t y = e % (uint64_t)g->size[d];
        e /= (uint64_t)g->size[d];
        lin += (start[d] + (int64_t)y) * ts[d];
    }
    return lin;
}

enum { RUN = 4096 };

int sw_data_fill(const sw_plan *p, int32_t rank, void *const *ptrs, sw_error *err) {
    uint8_t *tmp = malloc(RUN * 8);
    if (!tmp) return sw__err(err, SW_NOMEM, "out of memory");
    for (uint32_t li = 0; li < p->nlocals; li++) {
        const sw_plan_local *l = &p->locals[li];
        if (l->role != SW_ROLE_SRC || !mine(l, rank) || !ptrs[li]) continue;
        memset(ptrs[li], 0, sw_plan_local_nbytes(l));
        size_t es = (size_t)sw_dtype_size(l->dtype);
        for (uint32_t k = 0; k < l->npieces; k++) {
            const sw_plan_piece *pc = &p->pieces[l->piece0 + k];
            const sw_plan_tensor *t = &p->tensors[pc->tensor];
            uint64_t key = sw_val_key(t->name);
            int64_t ts[SW_MAXDIM];
            tensor_strides(t, ts);
            sw_box_geom g = {t->ndim, {0}};
            uint64_t n = 1;
            for (int d = 0; d < t->ndim; d++) {
                g.size[d] = pc->size[d];
                n *= (uint64_t)pc->size[d];
            }
            sw_box_side s;
            sw_box_side_init(&s, l->ndim, l->shape, pc->map, pc->base, t->ndim, pc->start);
            int64_t stride = sw_box_inner_stride(&g, &s);
            for (uint64_t e = 0; e < n;) {
                uint64_t run = sw_box_row(&g, e, n - e);
                if (run > RUN) run = RUN;
                int64_t lin = box_linear(&g, pc->start, ts, e);
                uint8_t *dst = (uint8_t *)ptrs[li] + (size_t)sw_box_offset(&g, &s, e) * es;
                if (stride == 1) {
                    sw_val_fill(dst, l->dtype, key, (uint64_t)lin, (size_t)run);
                } else {
                    sw_val_fill(tmp, l->dtype, key, (uint64_t)lin, (size_t)run);
                    for (uint64_t i = 0; i < run; i++) memcpy(dst + (size_t)((int64_t)i * stride) * es, tmp + i * es, es);
                }
                e += run;
            }
        }
    }
    free(tmp);
    return SW_OK;
}

void sw_data_poison(const sw_plan *p, int32_t rank, void *const *ptrs) {
    for (uint32_t li = 0; li < p->nlocals; li++) {
        const sw_plan_local *l = &p->locals[li];
        if (l->role == SW_ROLE_DST && mine(l, rank) && ptrs[li]) memset(ptrs[li], 0xA5, sw_plan_local_nbytes(l));
    }
}

/* Marks the elements of a local covered by its pieces. */
void sw_data_zero_padding(const sw_plan *p, int32_t rank, void *const *ptrs) {
    for (uint32_t li = 0; li < p->nlocals; li++) {
        const sw_plan_local *l = &p->locals[li];
        if (l->role != SW_ROLE_DST || !mine(l, rank) || !ptrs[li]) continue;
        size_t es = (size_t)sw_dtype_size(l->dtype), n = sw_plan_local_nbytes(l) / (es ? es : 1);
        uint8_t *covered = calloc(n + 1, 1);
        if (!covered) continue;
        for (uint32_t k = 0; k < l->npieces; k++) {
            const sw_plan_piece *pc = &p->pieces[l->piece0 + k];
            const sw_plan_tensor *t = &p->tensors[pc->tensor];
            sw_box_geom g = {t->ndim, {0}};
            uint64_t m = 1;
            for (int d = 0; d < t->ndim; d++) m *= (uint64_t)(g.size[d] = pc->size[d]);
            sw_box_side s;
            sw_box_side_init(&s, l->ndim, l->shape, pc->map, pc->base, t->ndim, pc->start);
            for (uint64_t e = 0; e < m; e++) covered[sw_box_offset(&g, &s, e)] = 1;
        }
        for (size_t e = 0; e < n; e++)
            if (!covered[e]) memset((uint8_t *)ptrs[li] + e * es, 0, es);
        free(covered);
    }
}

/* A transfer by what it writes: (destination local, logical tensor, box).  The tensor is
 * part of the key: a fused local holds pieces of several tensors, whose boxes can have the
 * same coordinates. */
typedef struct xref {
    uint32_t local, tensor;
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    uint32_t xfer;
} xref;

static int cmp_xref(const void *a, const void *b) {
    const xref *x = a, *y = b;
    if (x->local != y->local) return x->local < y->local ? -1 : 1;
    if (x->tensor != y->tensor) return x->tensor < y->tensor ? -1 : 1;
    int c = memcmp(x->start, y->start, sizeof x->start);
    return c ? c : memcmp(x->size, y->size, sizeof x->size);
}

/* The transfer that wrote the relay source of x (same destination local, tensor and box). */
static int32_t leader_of(const xref *idx, uint32_t n, const sw_plan_xfer *x) {
    xref key;
    memset(&key, 0, sizeof key);
    key.local = x->src.local;
    key.tensor = x->tensor;
    memcpy(key.start, x->start, sizeof key.start);
    memcpy(key.size, x->size, sizeof key.size);
    const xref *hit = bsearch(&key, idx, n, sizeof *idx, cmp_xref);
    return hit ? (int32_t)hit->xfer : -1;
}

static uint64_t bits_of(const uint8_t *e, size_t es) {
    uint64_t v = 0;
    memcpy(&v, e, es); /* little-endian hosts */
    return v;
}

int sw_data_check(const sw_plan *p, int32_t rank, void *const *ptrs, sw_data_report *rep, sw_error *err) {
    memset(rep, 0, sizeof *rep);
    xref *idx = malloc(((size_t)p->nxfers + 1) * sizeof *idx);
    uint8_t *a = malloc(RUN * 8), *b = malloc(RUN * 8), *got = malloc(RUN * 8);
    int rc = SW_OK;
    if (!idx || !a || !b || !got) {
        rc = sw__err(err, SW_NOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < p->nxfers; i++) {
        memset(&idx[i], 0, sizeof idx[i]);
        idx[i].local = p->xfers[i].dst.local;
        idx[i].tensor = p->xfers[i].tensor;
        memcpy(idx[i].start, p->xfers[i].start, sizeof idx[i].start);
        memcpy(idx[i].size, p->xfers[i].size, sizeof idx[i].size);
        idx[i].xfer = i;
    }
    qsort(idx, p->nxfers, sizeof *idx, cmp_xref);
    for (uint32_t xi = 0; xi < p->nxfers && rc == SW_OK; xi++) {
        const sw_plan_xfer *x = &p->xfers[xi];
        const sw_plan_local *dl = &p->locals[x->dst.local];
        if (!mine(dl, rank) || !ptrs[x->dst.local]) continue;
        /* the dtypes the elements travelled through: origin (filled) ... destination */
        /* a relay may forward what another relay brought: follow up to RELAY_HOPS of them */
        enum { RELAY_HOPS = 16 };
        sw_dtype chain[RELAY_HOPS + 2];
        int nchain = 0;
        const sw_plan_xfer *cur = x;
        chain[nchain++] = dl->dtype;
        for (int hops = 0; hops < RELAY_HOPS; hops++) {
            const sw_plan_local *sl = &p->locals[cur->src.local];
            chain[nchain++] = sl->dtype;
            if (sl->role == SW_ROLE_SRC) break;
            int32_t L = leader_of(idx, p->nxfers, cur);
            if (L < 0) {
                rc = sw__err(err, SW_INTERNAL, "transfer %u forwards data that no transfer brings", xi);
                break;
            }
            cur = &p->xfers[L];
        }
        if (rc) break;
        if (p->locals[cur->src.local].role != SW_ROLE_SRC) {
            rc = sw__err(err, SW_INTERNAL, "transfer %u: relay chain too long", xi);
            break;
        }
        const sw_plan_tensor *t = &p->tensors[x->tensor];
        uint64_t key = sw_val_key(t->name);
        int64_t ts[SW_MAXDIM];
        tensor_strides(t, ts);
        sw_box_geom g = {t->ndim, {0}};
        for (int d = 0; d < t->ndim; d++) g.size[d] = x->size[d];
        sw_box_side s;
        sw_box_side_init(&s, dl->ndim, dl->shape, x->dst.map, x->dst.base, t->ndim, x->start);
        int64_t stride = sw_box_inner_stride(&g, &s);
        size_t es = (size_t)sw_dtype_size(dl->dtype);
        for (uint64_t e = 0; e < x->nelem && rc == SW_OK;) {
            uint64_t run = sw_box_row(&g, e, x->nelem - e);
            if (run > RUN) run = RUN;
            int64_t lin = box_linear(&g, x->start, ts, e);
            /* expected: fill in the origin dtype, then convert hop by hop */
            sw_val_fill(a, chain[nchain - 1], key, (uint64_t)lin, (size_t)run);
            for (int h = nchain - 1; h > 0 && rc == SW_OK; h--) {
                rc = sw_convert(b, chain[h - 1], a, chain[h], (size_t)run, err);
                uint8_t *sw = a;
                a = b;
                b = sw;
            }
            if (rc) break;
            const uint8_t *base = (const uint8_t *)ptrs[x->dst.local];
            int64_t off = sw_box_offset(&g, &s, e);
            for (uint64_t i = 0; i < run; i++) memcpy(got + i * es, base + (size_t)(off + (int64_t)i * stride) * es, es);
            rep->checked += run;
            if (memcmp(got, a, (size_t)run * es)) {
                for (uint64_t i = 0; i < run; i++) {
                    if (!memcmp(got + i * es, a + i * es, es)) continue;
                    rep->bad++;
                    if (rep->nshown < SW_DATA_REPORT) {
                        sw_data_mismatch *m = &rep->shown[rep->nshown++];
                        m->local = x->dst.local;
                        int64_t o = off + (int64_t)i * stride;
                        for (int j = dl->ndim - 1; j >= 0; j--) {
                            m->index[j] = o % dl->shape[j];
                            o /= dl->shape[j];
                        }
                        m->expected = bits_of(a + i * es, es);
                        m->got = bits_of(got + i * es, es);
                    }
                }
            }
            e += run;
        }
    }
out:
    free(idx);
    free(a);
    free(b);
    free(got);
    return rc;
}

void sw_data_describe(const sw_plan *p, const sw_data_mismatch *m, char *buf, size_t cap) {
    const sw_plan_local *l = &p->locals[m->local];
    size_t n = (size_t)snprintf(buf, cap, "rank %d, %s[", l->rank, l->name);
    for (int j = 0; j < l->ndim && n < cap; j++) n += (size_t)snprintf(buf + n, cap - n, "%s%lld", j ? ", " : "", (long long)m->index[j]);
    int w = sw_dtype_size(l->dtype) * 2;
    if (n < cap)
        snprintf(buf + n, cap - n, "] (%s): expected 0x%0*llx, got 0x%0*llx", sw_dtype_name(l->dtype), w,
                 (unsigned long long)m->expected, w, (unsigned long long)m->got);
}
