/*
 * test_trace.c - relay chains (plan/plan_trace.h): the verifier and the data validation
 * follow the same chains, through any number of relays and sub-boxes, and refuse the same
 * plans (issue 14, item 12: validation failed with "relay chain too long" on plans the
 * verifier accepted).
 *
 * The plan: tensor b fp32 [4]; rank 0 holds it (source); rank 1 receives b[0:2] and b[2:4]
 * from rank 0 in two transfers (waves 0 and 1); every rank m = 2..n receives the whole of
 * b from rank m-1 (a relay, wave m), so the transfer into rank m is behind m-1 relays and
 * the first relay forwards one box that two transfers brought.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "data_validate.h"
#include "plan.h"
#include "plan_trace.h"
#include "plan_verify.h"
#include "stats.h"

static void side(sw_plan_side *s, uint32_t local) {
    memset(s, 0, sizeof *s);
    s->local = local;
    for (int j = 0; j < SW_MAXDIM; j++) s->map[j] = -1;
    s->map[0] = 0;
}

/* The chain plan with ranks 0..n (n >= 2). */
static void chain_plan(sw_plan *p, int n) {
    memset(p, 0, sizeof *p);
    sw_arena_init(&p->arena);
    sw_arena *a = &p->arena;
    p->model = "chain";
    p->sync = "s";
    p->from = "train";
    p->to = "infer";
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        p->topo.link[c].bandwidth = 1e9 * (3 - c);
        p->topo.link[c].latency = 1e-6 * (c + 1);
        p->chunk[c] = 1 << 20;
    }
    p->topo.gpus_per_nic = 1;
    p->bucket = 0;
    uint32_t nr = (uint32_t)n + 1, nx = (uint32_t)n + 1;
    p->ntensors = 1;
    p->tensors = sw_arena_array(a, 1, sizeof *p->tensors);
    p->nranks = nr;
    p->ranks = sw_arena_array(a, nr, sizeof *p->ranks);
    p->nlocals = p->npieces = nr;
    p->locals = sw_arena_array(a, nr, sizeof *p->locals);
    p->pieces = sw_arena_array(a, nr, sizeof *p->pieces);
    p->nxfers = p->nsegs = p->ntasks = nx;
    p->xfers = sw_arena_array(a, nx, sizeof *p->xfers);
    p->segs = sw_arena_array(a, nx, sizeof *p->segs);
    p->tasks = sw_arena_array(a, nx, sizeof *p->tasks);
    p->ndeps = (uint32_t)n;
    p->deps = sw_arena_array(a, (size_t)n, sizeof *p->deps);
    assert_true(p->tensors && p->ranks && p->locals && p->pieces && p->xfers && p->segs && p->tasks && p->deps);
    p->tensors[0] = (sw_plan_tensor){"b", SW_DT_FP32, 1, {4}, 0};
    for (uint32_t r = 0; r < nr; r++) {
        p->ranks[r] = (sw_plan_rank){(int32_t)r, 0, (int32_t)r};
        sw_plan_local *l = &p->locals[r];
        l->name = "b";
        l->rank = (int32_t)r;
        l->role = r == 0 ? SW_ROLE_SRC : SW_ROLE_DST;
        l->dtype = SW_DT_FP32;
        l->ndim = 1;
        l->shape[0] = 4;
        l->piece0 = r;
        l->npieces = 1;
        sw_plan_piece *pc = &p->pieces[r];
        memset(pc, 0, sizeof *pc);
        pc->size[0] = 4;
        for (int j = 0; j < SW_MAXDIM; j++) pc->map[j] = -1;
        pc->map[0] = 0;
    }
    for (uint32_t i = 0; i < nx; i++) {
        sw_plan_xfer *x = &p->xfers[i];
        memset(x, 0, sizeof *x);
        /* X0 b[0:2] and X1 b[2:4] 0 -> 1; Xm b[0:4] m-1 -> m, read from m-1's destination */
        x->start[0] = i == 1 ? 2 : 0;
        x->size[0] = i < 2 ? 2 : 4;
        x->nelem = (uint64_t)x->size[0];
        x->src_rank = i < 2 ? 0 : (int32_t)i - 1;
        x->dst_rank = i < 2 ? 1 : (int32_t)i;
        side(&x->src, (uint32_t)x->src_rank);
        side(&x->dst, (uint32_t)x->dst_rank);
        p->segs[i] = (sw_plan_seg){i, 0, x->nelem};
        sw_plan_task *t = &p->tasks[i];
        memset(t, 0, sizeof *t);
        t->src = x->src_rank;
        t->dst = x->dst_rank;
        t->cls = (uint8_t)sw_plan_link(p, t->src, t->dst);
        t->relay = i >= 2;
        t->wave = (int32_t)i;
        t->seg0 = i;
        t->nseg = 1;
        t->bytes = x->nelem * 4;
    }
    /* the first relay waits for both halves, every later one for the relay before it */
    p->deps[0] = 0;
    p->deps[1] = 1;
    p->tasks[2].dep0 = 0;
    p->tasks[2].ndep = 2;
    for (uint32_t i = 3; i < nx; i++) {
        p->deps[i - 1] = i - 1;
        p->tasks[i].dep0 = i - 1;
        p->tasks[i].ndep = 1;
    }
    p->nwaves = (int32_t)nx;
    sw_plan_compute_stats(p);
}

/* Buffers for every local; the destinations get what the chain brings there (a copy of
 * the source, which sw_data_fill filled). */
static void **run_chain(const sw_plan *p) {
    void **ptrs = calloc(p->nlocals, sizeof *ptrs);
    assert_non_null(ptrs);
    for (uint32_t i = 0; i < p->nlocals; i++) assert_non_null(ptrs[i] = calloc(4, sizeof(float)));
    sw_error err;
    assert_int_equal(sw_data_fill(p, -1, ptrs, &err), SW_OK);
    for (uint32_t i = 1; i < p->nlocals; i++) memcpy(ptrs[i], ptrs[0], 4 * sizeof(float));
    return ptrs;
}

static void free_chain(const sw_plan *p, void **ptrs) {
    for (uint32_t i = 0; i < p->nlocals; i++) free(ptrs[i]);
    free(ptrs);
}

/* 40 relays behind the last transfer (the validation before followed at most 16, and the
 * first relay's box came in two transfers: it found no transfer of exactly that box). */
static void test_long_chain_verified_and_validated(void **state) {
    (void)state;
    sw_plan p;
    chain_plan(&p, 41);
    sw_error err;
    if (sw_plan_verify(&p, &err)) fail_msg("verify: %s", err.msg);
    void **ptrs = run_chain(&p);
    sw_data_report rep;
    assert_int_equal(sw_data_check(&p, -1, ptrs, &rep, &err), SW_OK);
    assert_int_equal(rep.checked, 2 + 2 + 4 * 40);
    assert_int_equal(rep.bad, 0);
    /* one wrong element at rank 20 is found there, and only there */
    ((uint32_t *)ptrs[20])[3] ^= 1u;
    assert_int_equal(sw_data_check(&p, -1, ptrs, &rep, &err), SW_OK);
    assert_int_equal(rep.bad, 1);
    assert_int_equal(rep.shown[0].local, 20);
    assert_int_equal(rep.shown[0].index[0], 3);
    /* a rank checks its own transfers only, through the chain behind them */
    assert_int_equal(sw_data_check(&p, 41, ptrs, &rep, &err), SW_OK);
    assert_int_equal(rep.checked, 4);
    assert_int_equal(rep.bad, 0);
    free_chain(&p, ptrs);
    sw_plan_free(&p);
}

static int count_origin(void *ctx, uint32_t xfer, const sw_plan_origin *o, sw_error *err) {
    (void)xfer, (void)err;
    int *hops = ctx;
    if (o->hops > *hops) *hops = o->hops;
    return SW_OK;
}

/* The tracer itself: the parts of a box and how many relays are behind them. */
static void test_trace_parts(void **state) {
    (void)state;
    sw_plan p;
    chain_plan(&p, 6);
    sw_plan_trace *t;
    sw_error err;
    assert_int_equal(sw_plan_trace_init(&t, &p, &err), SW_OK);
    int hops = -1;
    assert_int_equal(sw_plan_trace_xfer(t, 0, count_origin, &hops, SW_CORRUPT, &err), SW_OK);
    assert_int_equal(hops, 0); /* reads the source */
    hops = -1;
    assert_int_equal(sw_plan_trace_xfer(t, 6, count_origin, &hops, SW_CORRUPT, &err), SW_OK);
    assert_int_equal(hops, 5); /* into rank 6: relays from ranks 5, 4, 3, 2, 1 */
    sw_plan_trace_free(t);
    sw_plan_free(&p);
}

/* More relays than the limit: the verifier and the validation refuse it alike. */
static void test_too_long_refused_alike(void **state) {
    (void)state;
    sw_plan p;
    chain_plan(&p, SW_PLAN_MAXHOPS + 3);
    sw_error err, err2;
    assert_int_equal(sw_plan_verify(&p, &err), SW_INTERNAL);
    assert_non_null(strstr(err.msg, "is behind more than 64 relays"));
    void **ptrs = run_chain(&p);
    sw_data_report rep;
    assert_int_equal(sw_data_check(&p, -1, ptrs, &rep, &err2), SW_CORRUPT);
    assert_string_equal(err.msg, err2.msg);
    free_chain(&p, ptrs);
    sw_plan_free(&p);
}

/* A relay that forwards elements no transfer brought: both refuse it, naming them. */
static void test_unbrought_refused(void **state) {
    (void)state;
    sw_plan p;
    chain_plan(&p, 4);
    p.xfers[1].size[0] = 1; /* rank 1 gets b[0:2] and b[2:3]; the relay forwards b[0:4] */
    p.xfers[1].nelem = 1;
    p.segs[1].nelem = 1;
    p.tasks[1].bytes = 4;
    sw_error err;
    void **ptrs = run_chain(&p);
    sw_data_report rep;
    assert_int_equal(sw_data_check(&p, -1, ptrs, &rep, &err), SW_CORRUPT);
    assert_non_null(strstr(err.msg, "transfer 2 forwards 4 elements of 'b' from 'b' of rank 1, but the plan brings 3"));
    sw_plan_trace *t;
    assert_int_equal(sw_plan_trace_init(&t, &p, &err), SW_OK);
    int hops = 0;
    assert_int_equal(sw_plan_trace_xfer(t, 3, count_origin, &hops, SW_INTERNAL, &err), SW_INTERNAL);
    assert_non_null(strstr(err.msg, "but the plan brings 3 of them there"));
    sw_plan_trace_free(t);
    free_chain(&p, ptrs);
    sw_plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_chain_verified_and_validated),
        cmocka_unit_test(test_trace_parts),
        cmocka_unit_test(test_too_long_refused_alike),
        cmocka_unit_test(test_unbrought_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
