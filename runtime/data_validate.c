#include "data_validate.h"
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boxmath.h"
#include "convert.h"
#include "exec.h"
#include "plan_trace.h"

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

static uint64_t bits_of(const uint8_t *e, size_t es) {
    uint64_t v = 0;
    memcpy(&v, e, es); /* little-endian hosts */
    return v;
}

typedef struct check_ctx {
    const sw_plan *p;
    sw_data_report *rep;
    void *const *ptrs;
    uint8_t *a, *b, *got;
} check_ctx;

/* Checks the elements of one part of a transfer's box (its destination side) against the
 * fill of their origin, converted through the dtypes of the chain. */
static int check_part(void *vctx, uint32_t xi, const sw_plan_origin *o, sw_error *err) {
    check_ctx *c = vctx;
    const sw_plan *p = c->p;
    const sw_plan_xfer *x = &p->xfers[xi];
    const sw_plan_local *dl = &p->locals[x->dst.local];
    const sw_plan_tensor *t = &p->tensors[x->tensor];
    uint64_t key = sw_val_key(t->name);
    int64_t ts[SW_MAXDIM];
    tensor_strides(t, ts);
    sw_box_geom g = {t->ndim, {0}};
    uint64_t nelem = 1;
    for (int d = 0; d < t->ndim; d++) nelem *= (uint64_t)(g.size[d] = o->size[d]);
    sw_box_side s;
    sw_box_side_init(&s, dl->ndim, dl->shape, x->dst.map, x->dst.base, t->ndim, o->start);
    int64_t stride = sw_box_inner_stride(&g, &s);
    size_t es = (size_t)sw_dtype_size(dl->dtype);
    for (uint64_t e = 0; e < nelem;) {
        uint64_t run = sw_box_row(&g, e, nelem - e);
        if (run > RUN) run = RUN;
        int64_t lin = box_linear(&g, o->start, ts, e);
        /* expected: fill in the origin dtype, then convert hop by hop */
        uint8_t *a = c->a, *b = c->b;
        sw_val_fill(a, o->chain[o->nchain - 1], key, (uint64_t)lin, (size_t)run);
        for (int h = o->nchain - 1; h > 0; h--) {
            SW_CHECK(sw_convert(b, o->chain[h - 1], a, o->chain[h], (size_t)run, err));
            uint8_t *sw = a;
            a = b;
            b = sw;
        }
        const uint8_t *base = (const uint8_t *)c->ptrs[x->dst.local];
        int64_t off = sw_box_offset(&g, &s, e);
        for (uint64_t i = 0; i < run; i++)
            memcpy(c->got + i * es, base + (size_t)(off + (int64_t)i * stride) * es, es);
        c->rep->checked += run;
        if (memcmp(c->got, a, (size_t)run * es)) {
            for (uint64_t i = 0; i < run; i++) {
                if (!memcmp(c->got + i * es, a + i * es, es)) continue;
                c->rep->bad++;
                if (c->rep->nshown < SW_DATA_REPORT) {
                    sw_data_mismatch *m = &c->rep->shown[c->rep->nshown++];
                    m->local = x->dst.local;
                    int64_t q = off + (int64_t)i * stride;
                    for (int j = dl->ndim - 1; j >= 0; j--) {
                        m->index[j] = q % dl->shape[j];
                        q /= dl->shape[j];
                    }
                    m->expected = bits_of(a + i * es, es);
                    m->got = bits_of(c->got + i * es, es);
                }
            }
        }
        e += run;
    }
    return SW_OK;
}

int sw_data_check(const sw_plan *p, int32_t rank, void *const *ptrs, sw_data_report *rep, sw_error *err) {
    memset(rep, 0, sizeof *rep);
    check_ctx c = {p, rep, ptrs, malloc(RUN * 8), malloc(RUN * 8), malloc(RUN * 8)};
    sw_plan_trace *t = NULL;
    int rc = SW_OK;
    if (!c.a || !c.b || !c.got) rc = sw__err(err, SW_NOMEM, "out of memory");
    if (rc == SW_OK) rc = sw_plan_trace_init(&t, p, err);
    /* every transfer into a destination local of the rank(s), through the relays that
     * brought its elements (the same chains the verifier accepts) */
    for (uint32_t xi = 0; xi < p->nxfers && rc == SW_OK; xi++) {
        const sw_plan_xfer *x = &p->xfers[xi];
        if (!mine(&p->locals[x->dst.local], rank) || !ptrs[x->dst.local]) continue;
        rc = sw_plan_trace_xfer(t, xi, check_part, &c, SW_CORRUPT, err);
    }
    sw_plan_trace_free(t);
    free(c.a);
    free(c.b);
    free(c.got);
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
