/* plan.c - the plan structure's helpers (see plan.h). */
#include "plan.h"

#include <stdlib.h>
#include <string.h>

static const char *const sched_names[SW_SCHED_COUNT] = {"optimal", "greedy", "naive", "broadcast"};

const char *sw_scheduler_name(sw_scheduler s) { return s < SW_SCHED_COUNT ? sched_names[s] : "?"; }

int sw_scheduler_parse(const char *s, sw_scheduler *out) {
    for (int i = 0; i < SW_SCHED_COUNT; i++)
        if (!strcmp(s, sched_names[i])) {
            *out = (sw_scheduler)i;
            return 0;
        }
    return -1;
}

void sw_plan_free(sw_plan *p) {
    if (!p) return;
    int heap = p->heap;
    sw_arena_free(&p->arena);
    memset(p, 0, sizeof *p);
    if (heap) free(p);
}

int32_t sw_plan_rank_index(const sw_plan *p, int32_t r) {
    /* ranks are sorted and unique: when they are contiguous (the usual case) the index is
     * an offset; otherwise a binary search */
    if (p->nranks && (int64_t)p->ranks[p->nranks - 1].rank - p->ranks[0].rank == (int64_t)p->nranks - 1)
        return r >= p->ranks[0].rank && r <= p->ranks[p->nranks - 1].rank ? r - p->ranks[0].rank : -1;
    uint32_t lo = 0, hi = p->nranks;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->ranks[mid].rank < r) lo = mid + 1;
        else hi = mid;
    }
    return lo < p->nranks && p->ranks[lo].rank == r ? (int32_t)lo : -1;
}

sw_link_class sw_plan_link(const sw_plan *p, int32_t a, int32_t b) {
    int32_t ia = sw_plan_rank_index(p, a), ib = sw_plan_rank_index(p, b);
    if (ia < 0 || ib < 0) return SW_LINK_NETWORK;
    const sw_plan_rank *x = &p->ranks[ia], *y = &p->ranks[ib];
    if (x->host != y->host) return SW_LINK_NETWORK;
    return x->device == y->device ? SW_LINK_DEVICE : SW_LINK_HOST;
}

int sw_plan_xfer_esize(const sw_plan *p, const sw_plan_xfer *x) {
    return sw_dtype_size(p->locals[x->src.local].dtype);
}

size_t sw_plan_local_nbytes(const sw_plan_local *l) {
    size_t n = (size_t)sw_dtype_size(l->dtype);
    for (int d = 0; d < l->ndim; d++) n *= (size_t)l->shape[d];
    return n;
}

int64_t sw_plan_seg_run(const sw_plan *p, const sw_plan_seg *g, int dst) {
    const sw_plan_xfer *x = &p->xfers[g->xfer];
    const sw_plan_side *sd = dst ? &x->dst : &x->src;
    const sw_plan_local *l = &p->locals[sd->local];
    int nd = p->tensors[x->tensor].ndim;
    if (!g->nelem || l->remote) return -1;
    /* the local's row-major stride of each logical dim (0: not mapped) and the box's */
    int64_t ls[SW_MAXDIM] = {0}, bs[SW_MAXDIM], stride = 1, off = 0;
    for (int j = l->ndim - 1; j >= 0; j--) {
        if (sd->map[j] >= 0 && sd->map[j] < nd) ls[sd->map[j]] = stride;
        stride *= l->shape[j];
    }
    int64_t b = 1;
    for (int k = nd - 1; k >= 0; k--) {
        bs[k] = b;
        b *= x->size[k] > 0 ? x->size[k] : 1;
    }
    /* the first element's local index, and every dim the run crosses must advance the
     * local offset by exactly the box's stride */
    uint64_t e0 = g->elem0, e1 = g->elem0 + g->nelem - 1;
    int64_t first[SW_MAXDIM] = {0};
    for (int k = 0; k < nd; k++) {
        int64_t sz = x->size[k] > 0 ? x->size[k] : 1;
        first[k] = (int64_t)(e0 / (uint64_t)bs[k]) % sz;
        if (e0 / (uint64_t)bs[k] != e1 / (uint64_t)bs[k] && sz > 1 && ls[k] != bs[k]) return -1;
    }
    stride = 1;
    for (int j = l->ndim - 1; j >= 0; j--) {
        int64_t idx = sd->base[j];
        if (sd->map[j] >= 0 && sd->map[j] < nd) idx += x->start[sd->map[j]] + first[sd->map[j]];
        off += idx * stride;
        stride *= l->shape[j];
    }
    return off;
}
