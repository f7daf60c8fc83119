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
