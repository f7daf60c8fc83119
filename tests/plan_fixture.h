/*
 * plan_fixture.h - a tiny hand-built plan for the plan_io and verify tests.
 *
 * Tensors: w fp32 [4,4], b bf16 [4].  Ranks 0,1 on host 0 (devices 0,1), ranks 2,3 on
 * host 1 (devices 0,1).  From: rank 0 holds w rows 0-1 and b, rank 1 w rows 2-3.
 * To: rank 2 holds w cols 0-1 transposed ([2,4], map {1,0}) and b; rank 3 holds w cols
 * 2-3 ([4,2]) and b under a stacked dim ([1,4], map {-1,0}), fed by a relay from rank 2.
 *
 * Locals (sorted by rank, role, name): 0 r0 b, 1 r0 w, 2 r1 w, 3 r2 b, 4 r2 w, 5 r3 b,
 * 6 r3 w.  Transfers: X0 w[0:2,0:2] r0->r2, X1 w[2:4,0:2] r1->r2, X2 w[0:2,2:4] r0->r3,
 * X3 w[2:4,2:4] r1->r3, X4 b r0->r2, X5 b r2->r3 (relay from local 3).
 * Tasks: wave 0: T0 r0->r2 {X0, X4} 24 B, T1 r1->r3 {X3} 16 B; wave 1: T2 r0->r3 {X2},
 * T3 r1->r2 {X1 in two segments}, T4 r2->r3 {X5} relay, 8 B, host link, dep T0.
 */
#ifndef SW_PLAN_FIXTURE_H
#define SW_PLAN_FIXTURE_H

#include <string.h>
#include "plan.h"
#include "stats.h"

/* nd: the local's dims, read from the plan, at most SW_MAXDIM (a side has no room for more). */
static void fx_side(sw_plan_side *s, uint32_t local, int nd, const int8_t *map, const int64_t *base) {
    memset(s, 0, sizeof *s);
    s->local = local;
    for (int j = 0; j < SW_MAXDIM; j++) s->map[j] = -1;
    for (int j = 0; j < nd && j < SW_MAXDIM; j++) s->map[j] = map[j], s->base[j] = base[j];
}

static void fx_box(int64_t *start, int64_t *size, int nd, const int64_t *st, const int64_t *sz) {
    for (int k = 0; k < nd; k++) start[k] = st[k], size[k] = sz[k];
}

/* Fills p with the fixture plan (its own arena); returns 0, -1 when out of memory. */
static int fx_build(sw_plan *p) {
    memset(p, 0, sizeof *p);
    sw_arena_init(&p->arena);
    sw_arena *a = &p->arena;
    p->model = "tiny";
    p->sync = "refit";
    p->from = "train";
    p->to = "infer";
    p->scheduler = SW_SCHED_OPTIMAL;
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        p->topo.link[c].bandwidth = 1e9 * (3 - c);
        p->topo.link[c].latency = 1e-6 * (c + 1);
        p->chunk[c] = 1 << 20;
    }
    p->topo.gpus_per_nic = 1;
    p->bucket = 1024;
    p->ntensors = 2;
    p->tensors = sw_arena_array(a, 2, sizeof *p->tensors);
    p->nranks = 4;
    p->ranks = sw_arena_array(a, 4, sizeof *p->ranks);
    p->nlocals = 7;
    p->locals = sw_arena_array(a, 7, sizeof *p->locals);
    p->npieces = 7;
    p->pieces = sw_arena_array(a, 7, sizeof *p->pieces);
    p->nxfers = 6;
    p->xfers = sw_arena_array(a, 6, sizeof *p->xfers);
    p->nsegs = 7;
    p->segs = sw_arena_array(a, 7, sizeof *p->segs);
    p->ntasks = 5;
    p->tasks = sw_arena_array(a, 5, sizeof *p->tasks);
    p->ndeps = 1;
    p->deps = sw_arena_array(a, 1, sizeof *p->deps);
    if (!p->tensors || !p->ranks || !p->locals || !p->pieces || !p->xfers || !p->segs || !p->tasks || !p->deps)
        return -1;
    p->tensors[0] = (sw_plan_tensor){"w", SW_DT_FP32, 2, {4, 4}, 0};
    p->tensors[1] = (sw_plan_tensor){"b", SW_DT_BF16, 1, {4}, 0};
    for (int r = 0; r < 4; r++) p->ranks[r] = (sw_plan_rank){r, r / 2, r % 2};
    static const struct {
        const char *name;
        int32_t rank;
        uint8_t role;
        sw_dtype dt;
        int nd;
        int64_t shape[2];
        uint32_t tensor;
        int64_t st[2], sz[2];
        int8_t map[2];
        int64_t base[2];
    } L[7] = {
        {"b", 0, SW_ROLE_SRC, SW_DT_BF16, 1, {4, 0}, 1, {0, 0}, {4, 0}, {0, -1}, {0, 0}},
        {"w", 0, SW_ROLE_SRC, SW_DT_FP32, 2, {2, 4}, 0, {0, 0}, {2, 4}, {0, 1}, {0, 0}},
        {"w", 1, SW_ROLE_SRC, SW_DT_FP32, 2, {2, 4}, 0, {2, 0}, {2, 4}, {0, 1}, {-2, 0}},
        {"b", 2, SW_ROLE_DST, SW_DT_BF16, 1, {4, 0}, 1, {0, 0}, {4, 0}, {0, -1}, {0, 0}},
        {"w", 2, SW_ROLE_DST, SW_DT_FP32, 2, {2, 4}, 0, {0, 0}, {4, 2}, {1, 0}, {0, 0}},
        {"b", 3, SW_ROLE_DST, SW_DT_BF16, 2, {1, 4}, 1, {0, 0}, {4, 0}, {-1, 0}, {0, 0}},
        {"w", 3, SW_ROLE_DST, SW_DT_FP32, 2, {4, 2}, 0, {0, 2}, {4, 2}, {0, 1}, {0, -2}},
    };
    for (uint32_t i = 0; i < 7; i++) {
        sw_plan_local *l = &p->locals[i];
        l->name = L[i].name;
        l->rank = L[i].rank;
        l->role = L[i].role;
        l->dtype = L[i].dt;
        l->ndim = L[i].nd;
        l->shape[0] = L[i].shape[0];
        l->shape[1] = L[i].shape[1];
        l->piece0 = i;
        l->npieces = 1;
        sw_plan_piece *pc = &p->pieces[i];
        pc->tensor = L[i].tensor;
        fx_box(pc->start, pc->size, p->tensors[pc->tensor].ndim, L[i].st, L[i].sz);
        for (int j = 0; j < SW_MAXDIM; j++) pc->map[j] = -1;
        for (int j = 0; j < L[i].nd; j++) pc->map[j] = L[i].map[j], pc->base[j] = L[i].base[j];
    }
    static const struct {
        uint32_t tensor;
        int64_t st[2], sz[2];
        int32_t sr, dr;
        uint32_t sl, dl;
    } X[6] = {
        {0, {0, 0}, {2, 2}, 0, 2, 1, 4}, {0, {2, 0}, {2, 2}, 1, 2, 2, 4}, {0, {0, 2}, {2, 2}, 0, 3, 1, 6},
        {0, {2, 2}, {2, 2}, 1, 3, 2, 6}, {1, {0, 0}, {4, 0}, 0, 2, 0, 3}, {1, {0, 0}, {4, 0}, 2, 3, 3, 5},
    };
    for (uint32_t i = 0; i < 6; i++) {
        sw_plan_xfer *x = &p->xfers[i];
        x->tensor = X[i].tensor;
        int nd = p->tensors[x->tensor].ndim;
        fx_box(x->start, x->size, nd, X[i].st, X[i].sz);
        x->nelem = 1;
        for (int k = 0; k < nd; k++) x->nelem *= (uint64_t)x->size[k];
        x->src_rank = X[i].sr;
        x->dst_rank = X[i].dr;
        const sw_plan_piece *ps = &p->pieces[X[i].sl], *pd = &p->pieces[X[i].dl];
        fx_side(&x->src, X[i].sl, p->locals[X[i].sl].ndim, ps->map, ps->base);
        fx_side(&x->dst, X[i].dl, p->locals[X[i].dl].ndim, pd->map, pd->base);
    }
    static const sw_plan_seg S[7] = {{0, 0, 4}, {4, 0, 4}, {3, 0, 4}, {2, 0, 4}, {1, 0, 2}, {1, 2, 2}, {5, 0, 4}};
    memcpy(p->segs, S, sizeof S);
    static const sw_plan_task T[5] = {
        {0, 2, SW_LINK_NETWORK, 0, 0, 0, 2, 24, 0, 0}, {1, 3, SW_LINK_NETWORK, 0, 0, 2, 1, 16, 0, 0},
        {0, 3, SW_LINK_NETWORK, 0, 1, 3, 1, 16, 0, 0}, {1, 2, SW_LINK_NETWORK, 0, 1, 4, 2, 16, 0, 0},
        {2, 3, SW_LINK_HOST, 1, 1, 6, 1, 8, 0, 1},
    };
    memcpy(p->tasks, T, sizeof T);
    p->deps[0] = 0;
    p->nwaves = 2;
    sw_plan_compute_stats(p);
    return 0;
}

#endif
