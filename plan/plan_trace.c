/* plan_trace.c - following relay chains back to the source locals (see plan_trace.h). */
#include "plan_trace.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

struct sw_plan_trace {
    const sw_plan *p;
    uint32_t *first; /* [nlocals + 1]: xs[first[l] .. first[l+1]) write local l */
    uint32_t *xs;    /* [nxfers] transfer indices by destination local */
};

int sw_plan_trace_init(sw_plan_trace **out, const sw_plan *p, sw_error *err) {
    *out = NULL;
    sw_plan_trace *t = calloc(1, sizeof *t);
    if (!t) return sw__err(err, SW_NOMEM, "out of memory");
    t->p = p;
    t->first = calloc((size_t)p->nlocals + 2, sizeof *t->first);
    t->xs = malloc(((size_t)p->nxfers + 1) * sizeof *t->xs);
    if (!t->first || !t->xs) {
        sw_plan_trace_free(t);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    /* counting sort by destination local (struct-checked plans: dst.local < nlocals) */
    for (uint32_t i = 0; i < p->nxfers; i++) t->first[p->xfers[i].dst.local + 1]++;
    for (uint32_t l = 0; l < p->nlocals; l++) t->first[l + 1] += t->first[l];
    uint32_t *at = malloc(((size_t)p->nlocals + 1) * sizeof *at);
    if (!at) {
        sw_plan_trace_free(t);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    memcpy(at, t->first, (size_t)p->nlocals * sizeof *at);
    for (uint32_t i = 0; i < p->nxfers; i++) t->xs[at[p->xfers[i].dst.local]++] = i;
    free(at);
    *out = t;
    return SW_OK;
}

void sw_plan_trace_free(sw_plan_trace *t) {
    if (!t) return;
    free(t->first);
    free(t->xs);
    free(t);
}

typedef struct tctx {
    const sw_plan_trace *t;
    uint32_t xi;
    sw_plan_origin_fn fn;
    void *ctx;
    int status;
    sw_error *err;
} tctx;

/* 1 when the two sides place the tensor's elements identically in one local. */
static int same_side(const sw_plan_side *a, const sw_plan_side *b, int ndim) {
    for (int j = 0; j < ndim; j++)
        if (a->map[j] != b->map[j] || a->base[j] != b->base[j]) return 0;
    return 1;
}

static uint64_t volume(const int64_t *size, int ndim) {
    uint64_t v = 1;
    for (int k = 0; k < ndim; k++) v *= (uint64_t)size[k];
    return v;
}

/* o holds a part of x's box and the chain up to x's destination; follows x's source. */
static int trace(const tctx *c, const sw_plan_xfer *x, uint32_t xidx, const sw_plan_origin *o, int depth) {
    const sw_plan *p = c->t->p;
    const sw_plan_local *sl = &p->locals[x->src.local], *dl = &p->locals[x->dst.local];
    if (!sw_dtype_convertible(sl->dtype, dl->dtype))
        return sw__err(c->err, c->status, "plan: transfer %u converts '%s' from %s to %s, which is not supported", xidx,
                       p->tensors[x->tensor].name, sw_dtype_name(sl->dtype), sw_dtype_name(dl->dtype));
    sw_plan_origin here = *o;
    if (here.chain[here.nchain - 1] != sl->dtype) {
        if (here.nchain == SW_PLAN_MAXCHAIN)
            return sw__err(c->err, c->status,
                           "plan: the elements of transfer %u change dtype more than %d times on their way (relays)",
                           c->xi, SW_PLAN_MAXCHAIN - 1);
        here.chain[here.nchain++] = sl->dtype;
    }
    int nd = p->tensors[x->tensor].ndim;
    uint64_t want = volume(here.size, nd);
    if (sl->role == SW_ROLE_SRC || want == 0) return c->fn(c->ctx, c->xi, &here, c->err);
    if (depth >= SW_PLAN_MAXHOPS)
        return sw__err(c->err, c->status, "plan: transfer %u is behind more than %d relays", c->xi, SW_PLAN_MAXHOPS);
    here.hops = depth + 1;
    uint64_t got = 0;
    const sw_plan_trace *t = c->t;
    for (uint32_t j = t->first[x->src.local]; j < t->first[x->src.local + 1]; j++) {
        const sw_plan_xfer *w = &p->xfers[t->xs[j]];
        if (w->tensor != x->tensor || !same_side(&w->dst, &x->src, sl->ndim)) continue;
        sw_plan_origin part = here;
        int empty = 0;
        for (int k = 0; k < nd; k++) {
            int64_t lo = here.start[k] > w->start[k] ? here.start[k] : w->start[k];
            int64_t a = here.start[k] + here.size[k], b = w->start[k] + w->size[k];
            int64_t hi = a < b ? a : b;
            if (hi <= lo) empty = 1;
            part.start[k] = lo;
            part.size[k] = hi > lo ? hi - lo : 0;
        }
        if (empty) continue;
        got += volume(part.size, nd);
        SW_CHECK(trace(c, w, t->xs[j], &part, depth + 1));
    }
    if (got != want)
        return sw__err(c->err, c->status,
                       "plan: transfer %u forwards %llu elements of '%s' from '%s' of rank %d, but the plan%s brings "
                       "%llu of them there",
                       xidx, (unsigned long long)want, p->tensors[x->tensor].name, sl->name, sl->rank,
                       p->partial ? " (the part loaded for one rank)" : "", (unsigned long long)got);
    return SW_OK;
}

int sw_plan_trace_xfer(const sw_plan_trace *t, uint32_t xi, sw_plan_origin_fn fn, void *ctx, int status,
                       sw_error *err) {
    const sw_plan *p = t->p;
    if (xi >= p->nxfers) return sw__err(err, SW_USAGE, "transfer %u of %u", xi, p->nxfers);
    const sw_plan_xfer *x = &p->xfers[xi];
    sw_plan_origin o;
    memset(&o, 0, sizeof o);
    memcpy(o.start, x->start, sizeof o.start);
    memcpy(o.size, x->size, sizeof o.size);
    o.chain[0] = p->locals[x->dst.local].dtype;
    o.nchain = 1;
    tctx c = {t, xi, fn, ctx, status, err};
    return trace(&c, x, xi, &o, 0);
}
