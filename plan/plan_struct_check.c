/*
 * plan_struct_check.c - the structural check of an in-memory plan: every count, index
 * and range in bounds (see plan_io.h).  Run by the reader on every plan it builds and by
 * the verifier (compiler/plan_verify.c) before its proofs.
 */
#include "plan_io.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "diag.h"


/* 1 when the box start/size (n dims) lies inside shape. */
static int box_inside(const int64_t *start, const int64_t *size, const int64_t *shape, int n) {
    for (int k = 0; k < n; k++) {
        int64_t end;
        if (start[k] < 0 || size[k] < 0 || sw_add64(start[k], size[k], &end) || end > shape[k]) return 0;
    }
    return 1;
}

/* Checks a side mapping (map/base over the local's dims) of a logical box of tensor t
 * into local l: map entries in [-1, t.ndim) and the mapped box inside the local's shape
 * (bases may be negative: they are relative to logical coordinates).  Returns NULL or a static description. */
static const char *side_problem(const sw_plan_tensor *t, const sw_plan_local *l, const int8_t *map,
                                const int64_t *base, const int64_t *start, const int64_t *size) {
    for (int j = 0; j < l->ndim; j++) {
        int m = map[j];
        if (m < -1 || m >= t->ndim) return "a map entry out of range";
        int64_t lo, hi;
        if (m >= 0) {
            if (sw_add64(base[j], start[m], &lo) || sw_add64(lo, size[m], &hi)) return "an overflowing offset";
        } else {
            lo = base[j];
            hi = lo + (lo < INT64_MAX ? 1 : 0);
        }
        if (lo < 0 || hi > l->shape[j] || (m < 0 && lo >= l->shape[j]))
            return "a box outside the local tensor";
    }
    return NULL;
}

int sw__plan_struct_check(const sw_plan *p, const char *what, int status, sw_error *err) {
    if (p->nwaves < 0) return sw__err(err, status, "%s: %d waves", what, p->nwaves);
    if ((unsigned)p->scheduler >= SW_SCHED_COUNT)
        return sw__err(err, status, "%s: unknown scheduler %u", what, (unsigned)p->scheduler);
    for (uint32_t i = 0; i < p->ntensors; i++) {
        const sw_plan_tensor *t = &p->tensors[i];
        if (!t->name) return sw__err(err, status, "%s: tensor %u has no name", what, i);
        if (t->ndim < 0 || t->ndim > SW_MAXDIM)
            return sw__err(err, status, "%s: tensor %u has %d dims (at most %d)", what, i, t->ndim, SW_MAXDIM);
        if ((unsigned)t->dtype >= SW_DT_COUNT)
            return sw__err(err, status, "%s: tensor %u has unknown dtype %u", what, i, (unsigned)t->dtype);
        int64_t bytes = sw_dtype_size(t->dtype);
        for (int k = 0; k < t->ndim; k++) {
            if (t->shape[k] < 0) return sw__err(err, status, "%s: tensor %u has a negative dim", what, i);
            /* every size product fits in int64, as the compiler guarantees (strides, offsets) */
            if (sw_mul64(bytes, t->shape[k] ? t->shape[k] : 1, &bytes))
                return sw__err(err, status, "%s: tensor %u '%s' has more than 2^63 bytes", what, i, t->name);
        }
    }
    for (uint32_t i = 1; i < p->nranks; i++)
        if (p->ranks[i].rank <= p->ranks[i - 1].rank)
            return sw__err(err, status, "%s: ranks not sorted (rank %d after %d)", what, p->ranks[i].rank,
                           p->ranks[i - 1].rank);
    uint32_t prev = 0;
    int have_prev = 0;
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if (!l->name) return sw__err(err, status, "%s: local %u has no name", what, i);
        /* sorted by (rank, role, name) and unique: a rank binds its tensors by name.  A
         * partial plan's stand-ins (`remote`, nameless, after its rank's locals) are not
         * bound and take no part in the order */
        if (!l->remote && have_prev) {
            const sw_plan_local *q = &p->locals[prev];
            int c = l->rank != q->rank ? (l->rank > q->rank ? 1 : -1)
                    : l->role != q->role ? (l->role > q->role ? 1 : -1)
                                         : strcmp(l->name, q->name);
            if (c == 0)
                return sw__err(err, status, "%s: local %u: rank %d holds two %s tensors named '%s'", what, i, l->rank,
                               l->role == SW_ROLE_SRC ? "source" : "destination", l->name);
            if (c < 0)
                return sw__err(err, status, "%s: local %u '%s' of rank %d is out of order (locals are sorted by rank, "
                               "role and name)", what, i, l->name, l->rank);
        }
        if (!l->remote) prev = i, have_prev = 1;
        if (sw_plan_rank_index(p, l->rank) < 0)
            return sw__err(err, status, "%s: local %u '%s' is on unknown rank %d", what, i, l->name, l->rank);
        if (l->role != SW_ROLE_SRC && l->role != SW_ROLE_DST)
            return sw__err(err, status, "%s: local %u '%s' has role %u", what, i, l->name, l->role);
        if ((unsigned)l->dtype >= SW_DT_COUNT)
            return sw__err(err, status, "%s: local %u '%s' has unknown dtype %u", what, i, l->name, (unsigned)l->dtype);
        if (l->ndim < 0 || l->ndim > SW_MAXDIM)
            return sw__err(err, status, "%s: local %u '%s' has %d dims (at most %d)", what, i, l->name, l->ndim,
                           SW_MAXDIM);
        int64_t lbytes = sw_dtype_size(l->dtype);
        for (int k = 0; k < l->ndim; k++) {
            if (l->shape[k] < 0) return sw__err(err, status, "%s: local %u '%s' has a negative dim", what, i, l->name);
            if (sw_mul64(lbytes, l->shape[k] ? l->shape[k] : 1, &lbytes))
                return sw__err(err, status, "%s: local %u '%s' has more than 2^63 bytes", what, i, l->name);
        }
        if ((uint64_t)l->piece0 + l->npieces > p->npieces)
            return sw__err(err, status, "%s: local %u '%s' references pieces %u..%llu of %u", what, i, l->name,
                           l->piece0, (unsigned long long)l->piece0 + l->npieces, p->npieces);
        for (uint32_t q = l->piece0; q < l->piece0 + l->npieces; q++) {
            const sw_plan_piece *pc = &p->pieces[q];
            if (pc->tensor >= p->ntensors)
                return sw__err(err, status, "%s: piece %u references tensor %u of %u", what, q, pc->tensor, p->ntensors);
            const sw_plan_tensor *t = &p->tensors[pc->tensor];
            if (!box_inside(pc->start, pc->size, t->shape, t->ndim))
                return sw__err(err, status, "%s: piece %u is outside the shape of tensor '%s'", what, q, t->name);
            const char *why = side_problem(t, l, pc->map, pc->base, pc->start, pc->size);
            if (why) return sw__err(err, status, "%s: piece %u of local %u '%s' has %s", what, q, i, l->name, why);
        }
    }
    for (uint32_t q = 0; q < p->npieces; q++)
        if (p->pieces[q].tensor >= p->ntensors)
            return sw__err(err, status, "%s: piece %u references tensor %u of %u", what, q, p->pieces[q].tensor,
                           p->ntensors);
    for (uint32_t i = 0; i < p->nxfers; i++) {
        const sw_plan_xfer *x = &p->xfers[i];
        if (x->tensor >= p->ntensors)
            return sw__err(err, status, "%s: transfer %u references tensor %u of %u", what, i, x->tensor, p->ntensors);
        const sw_plan_tensor *t = &p->tensors[x->tensor];
        if (!box_inside(x->start, x->size, t->shape, t->ndim))
            return sw__err(err, status, "%s: transfer %u is outside the shape of tensor '%s'", what, i, t->name);
        uint64_t n = 1;
        for (int k = 0; k < t->ndim; k++)
            if (__builtin_mul_overflow(n, (uint64_t)x->size[k], &n))
                return sw__err(err, status, "%s: transfer %u has an overflowing size", what, i);
        if (n != x->nelem)
            return sw__err(err, status, "%s: transfer %u has nelem %llu but its box holds %llu", what, i,
                           (unsigned long long)x->nelem, (unsigned long long)n);
        if (sw_plan_rank_index(p, x->src_rank) < 0 || sw_plan_rank_index(p, x->dst_rank) < 0)
            return sw__err(err, status, "%s: transfer %u is between unknown ranks %d -> %d", what, i, x->src_rank,
                           x->dst_rank);
        const sw_plan_side *sd[2] = {&x->src, &x->dst};
        for (int s = 0; s < 2; s++) {
            if (sd[s]->local >= p->nlocals)
                return sw__err(err, status, "%s: transfer %u references %s local %u of %u", what, i,
                               s ? "destination" : "source", sd[s]->local, p->nlocals);
            const sw_plan_local *l = &p->locals[sd[s]->local];
            const char *why = side_problem(t, l, sd[s]->map, sd[s]->base, x->start, x->size);
            if (why)
                return sw__err(err, status, "%s: transfer %u has %s on its %s side (local '%s')", what, i, why,
                               s ? "destination" : "source", l->name);
        }
    }
    for (uint32_t i = 0; i < p->nsegs; i++) {
        const sw_plan_seg *g = &p->segs[i];
        if (g->xfer >= p->nxfers)
            return sw__err(err, status, "%s: segment %u references transfer %u of %u", what, i, g->xfer, p->nxfers);
        uint64_t end;
        if (__builtin_add_overflow(g->elem0, g->nelem, &end) || end > p->xfers[g->xfer].nelem)
            return sw__err(err, status, "%s: segment %u (elements %llu+%llu) is outside transfer %u of %llu elements",
                           what, i, (unsigned long long)g->elem0, (unsigned long long)g->nelem, g->xfer,
                           (unsigned long long)p->xfers[g->xfer].nelem);
    }
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        if (sw_plan_rank_index(p, t->src) < 0 || sw_plan_rank_index(p, t->dst) < 0)
            return sw__err(err, status, "%s: task %u is between unknown ranks %d -> %d", what, i, t->src, t->dst);
        if (t->cls >= SW_LINK_COUNT) return sw__err(err, status, "%s: task %u has link class %u", what, i, t->cls);
        if (t->wave < 0 || t->wave >= p->nwaves)
            return sw__err(err, status, "%s: task %u is in wave %d of %d", what, i, t->wave, p->nwaves);
        if ((uint64_t)t->seg0 + t->nseg > p->nsegs)
            return sw__err(err, status, "%s: task %u references segment %llu of %u", what, i,
                           (unsigned long long)t->seg0 + t->nseg - 1, p->nsegs);
        if ((uint64_t)t->dep0 + t->ndep > p->ndeps)
            return sw__err(err, status, "%s: task %u references dep %llu of %u", what, i,
                           (unsigned long long)t->dep0 + t->ndep - 1, p->ndeps);
        /* the message layout every runtime uses: segments at multiples of their element
         * size (plan.h); a task's bytes are where its last segment ends */
        uint64_t at = 0;
        for (uint32_t k = 0; k < t->nseg; k++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + k];
            uint64_t es = (uint64_t)sw_plan_xfer_esize(p, &p->xfers[g->xfer]), n;
            if (__builtin_mul_overflow(g->nelem, es, &n) || __builtin_add_overflow(sw_plan_seg_start(at, es), n, &at))
                return sw__err(err, status, "%s: task %u has an overflowing size", what, i);
        }
        if (at != t->bytes)
            return sw__err(err, status,
                           "%s: task %u (rank %d -> %d, wave %d) has %llu bytes but its segments hold %llu (each "
                           "at a multiple of its element size: a plan from before segments were aligned? compile it "
                           "again)",
                           what, i, t->src, t->dst, t->wave, (unsigned long long)t->bytes, (unsigned long long)at);
    }
    for (uint32_t i = 0; i < p->ndeps; i++)
        if (p->deps[i] >= p->ntasks)
            return sw__err(err, status, "%s: dep %u references task %u of %u", what, i, p->deps[i], p->ntasks);
    return SW_OK;
}

