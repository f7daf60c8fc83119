#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_fixture.h"
#include "plan_verify.h"

/* Verifies p and expects failure with a message containing want (or success when NULL). */
static void expect(sw_plan *p, const char *want) {
    sw_error err;
    memset(&err, 0, sizeof err);
    int rc = sw_plan_verify(p, &err);
    if (!want) {
        if (rc != SW_OK) fail_msg("expected OK, got: %s", err.msg);
        return;
    }
    if (rc != SW_INTERNAL) fail_msg("expected SW_INTERNAL with '%s', got %d (%s)", want, rc, err.msg);
    if (!strstr(err.msg, want)) fail_msg("expected '%s' in: %s", want, err.msg);
}

static void build(sw_plan *p) { assert_int_equal(fx_build(p), 0); }

static void test_fixture_ok(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    expect(&p, NULL);
    sw_plan_free(&p);
}

/* A self copy (src == dst) in the same wave as the rank's sends does not conflict. */
static void test_ok_without_relay(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    /* X5: b from rank 2's copy (relay) -> the relay is legal; now drop the dep: still OK,
     * the relay order is by waves, not by deps */
    p.tasks[4].ndep = 0;
    expect(&p, NULL);
    /* unlimited bucket */
    p.bucket = 0;
    expect(&p, NULL);
    sw_plan_free(&p);
}

static void test_empty_plan_ok(void **state) {
    (void)state;
    sw_plan p;
    memset(&p, 0, sizeof p);
    expect(&p, NULL);
}

/* (a) two transfers write the same destination elements */
static void test_a_overlap(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    sw_plan_xfer *x = &p.xfers[1]; /* rows 2-3 from rank 1 -> rows 0-1 from rank 0, like X0 */
    x->start[0] = 0;
    x->src_rank = 0;
    x->src = p.xfers[0].src;
    expect(&p, "transfers 0 and 1 both write elements of destination local 'w' on rank 2");
    sw_plan_free(&p);
}

/* (a) a destination element nobody writes */
static void test_a_missing(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.xfers[1].size[0] = 1;
    p.xfers[1].nelem = 2;
    p.segs[4].nelem = 1;
    p.segs[5].elem0 = 1;
    p.segs[5].nelem = 1;
    p.tasks[3].bytes = 8;
    expect(&p, "destination local 'w' on rank 2: transfers write 6 of the 8 elements");
    sw_plan_free(&p);
}

/* (b) a transfer mapped differently from the piece that holds it */
static void test_b_mapping(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.xfers[0].dst.map[0] = 0;
    p.xfers[0].dst.map[1] = 1;
    expect(&p, "transfer 0 (tensor 'w', rank 0 -> 2): no piece of destination local 'w' on rank 2");
    sw_plan_free(&p);
}

/* (b) a transfer whose source does not hold its box */
static void test_b_source(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.xfers[2].src.local = 2; /* rank 1's w holds rows 2-3, not 0-1 */
    p.xfers[2].src.base[0] = 0; /* inside the local, but not the piece's mapping */
    p.xfers[2].src_rank = 1;
    p.tasks[2].src = 1;
    expect(&p, "transfer 2 (tensor 'w', rank 1 -> 3): no piece of source local 'w' on rank 1");
    sw_plan_free(&p);
}

/* (c) an element carried by no segment */
static void test_c_gap(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.segs[5].nelem = 1;
    p.tasks[3].bytes = 12;
    expect(&p, "transfer 1: elements 3..3 are carried by no task");
    sw_plan_free(&p);
}

/* (c) an element carried twice */
static void test_c_twice(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.segs[5].elem0 = 1;
    p.segs[5].nelem = 3;
    p.tasks[3].bytes = 20;
    expect(&p, "transfer 1: element 1 is carried twice (tasks 3 and 3)");
    sw_plan_free(&p);
}

/* (c) task bytes do not match its segments */
static void test_c_bytes(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.tasks[0].bytes = 25;
    expect(&p, "task 0 (rank 0 -> 2, wave 0) has 25 bytes but its segments hold 24");
    sw_plan_free(&p);
}

/* (c) a task carrying a transfer of other ranks */
static void test_c_ranks(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.tasks[1].dst = 2;
    p.tasks[1].cls = SW_LINK_NETWORK;
    expect(&p, "task 1 (rank 1 -> 2, wave 0) carries transfer 3 of rank 1 -> 3");
    sw_plan_free(&p);
}

/* (d) a rank sends twice in one wave */
static void test_d_conflict(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.tasks[2].wave = 0;
    expect(&p, "wave 0: rank 0 sends twice on its network link (tasks 0 and 2)");
    sw_plan_free(&p);
}

/* (d) a task labelled with the wrong link class */
static void test_d_class(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.tasks[4].cls = SW_LINK_NETWORK;
    expect(&p, "task 4 (rank 2 -> 3, wave 1) has link class network, the ranks are linked by host");
    sw_plan_free(&p);
}

/* (e) a dep on a task of the same wave */
static void test_e_dep(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.deps[0] = 3;
    expect(&p, "task 4 (rank 2 -> 3, wave 1) depends on task 3 of wave 1, not an earlier wave");
    sw_plan_free(&p);
}

/* (e) a relay that forwards before its data arrived */
static void test_e_relay_order(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    sw_plan_task t4 = p.tasks[4];
    p.tasks[4] = p.tasks[3];
    p.tasks[3] = p.tasks[2];
    p.tasks[2] = t4;
    p.tasks[2].wave = 0;
    p.tasks[2].ndep = 0;
    expect(&p, "task 2 (rank 2 -> 3, wave 0) relays transfer 5 from destination local 'b' on rank 2, but task 0 "
               "writes those elements in wave 0");
    sw_plan_free(&p);
}

/* (e) a relay task not marked relay */
static void test_e_relay_flag(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.tasks[4].relay = 0;
    expect(&p, "task 4 (rank 2 -> 3, wave 1) forwards transfer 5 from destination local 'b' but is not marked relay");
    sw_plan_free(&p);
}

/* (f) staging above the bucket in two consecutive waves */
static void test_f_staging(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.bucket = 30;
    expect(&p, "rank 0 stages 40 bytes in waves 0 and 1, above its bucket of 30 bytes");
    p.bucket = 20;
    expect(&p, "rank 0 stages 40 bytes in waves 0 and 1");
    sw_plan_free(&p);
}

/* structure: indices out of range are reported, not followed */
static void test_structure(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.tasks[3].nseg = 9000;
    expect(&p, "plan: task 3 references segment 9003 of 7");
    sw_plan_free(&p);
    build(&p);
    p.segs[2].xfer = 77;
    expect(&p, "segment 2 references transfer 77 of 6");
    sw_plan_free(&p);
    build(&p);
    p.xfers[0].dst.map[0] = 5;
    expect(&p, "transfer 0 has a map entry out of range on its destination side");
    sw_plan_free(&p);
    build(&p);
    p.tasks[1].wave = 2;
    expect(&p, "task 1 is in wave 2 of 2");
    sw_plan_free(&p);
}

/* A bigger generated plan: one destination local of n x 64 rows written by n transfers,
 * each split in two segments in two tasks; must verify quickly and catch one overlap. */
static void test_many_transfers(void **state) {
    (void)state;
    enum { N = 3000 };
    sw_plan p;
    memset(&p, 0, sizeof p);
    sw_arena_init(&p.arena);
    sw_arena *a = &p.arena;
    p.model = p.sync = p.from = p.to = "gen";
    for (int c = 0; c < SW_LINK_COUNT; c++) p.topo.link[c] = (sw_link){1e9, 1e-6};
    p.bucket = 0;
    p.ntensors = 1;
    p.tensors = sw_arena_array(a, 1, sizeof *p.tensors);
    p.tensors[0] = (sw_plan_tensor){"t", SW_DT_FP32, 2, {N * 4, 64}, 0};
    p.nranks = 2;
    p.ranks = sw_arena_array(a, 2, sizeof *p.ranks);
    p.ranks[0] = (sw_plan_rank){0, 0, 0};
    p.ranks[1] = (sw_plan_rank){1, 1, 0};
    p.nlocals = 2;
    p.locals = sw_arena_array(a, 2, sizeof *p.locals);
    p.npieces = 2;
    p.pieces = sw_arena_array(a, 2, sizeof *p.pieces);
    for (int i = 0; i < 2; i++) {
        p.locals[i] = (sw_plan_local){"t", i, (uint8_t)(i ? SW_ROLE_DST : SW_ROLE_SRC), SW_DT_FP32, 2, {N * 4, 64},
                                      (uint32_t)i, 1, 0};
        sw_plan_piece *pc = &p.pieces[i];
        pc->tensor = 0;
        pc->size[0] = N * 4;
        pc->size[1] = 64;
        pc->map[0] = 0;
        pc->map[1] = 1;
    }
    p.nxfers = N;
    p.xfers = sw_arena_array(a, N, sizeof *p.xfers);
    p.nsegs = 2 * N;
    p.segs = sw_arena_array(a, 2 * N, sizeof *p.segs);
    p.ntasks = 2;
    p.tasks = sw_arena_array(a, 2, sizeof *p.tasks);
    p.nwaves = 2;
    for (uint32_t i = 0; i < N; i++) {
        sw_plan_xfer *x = &p.xfers[i];
        x->start[0] = 4 * (int64_t)i;
        x->size[0] = 4;
        x->size[1] = 64;
        x->nelem = 256;
        x->src_rank = 0;
        x->dst_rank = 1;
        fx_side(&x->src, 0, 2, p.pieces[0].map, p.pieces[0].base);
        fx_side(&x->dst, 1, 2, p.pieces[1].map, p.pieces[1].base);
        p.segs[i] = (sw_plan_seg){i, 0, 100};
        p.segs[N + i] = (sw_plan_seg){i, 100, 156};
    }
    p.tasks[0] = (sw_plan_task){0, 1, SW_LINK_NETWORK, 0, 0, 0, N, (uint64_t)N * 400, 0, 0};
    p.tasks[1] = (sw_plan_task){0, 1, SW_LINK_NETWORK, 0, 1, N, N, (uint64_t)N * 624, 0, 0};
    expect(&p, NULL);
    p.xfers[N - 1].start[0] -= 2;
    char want[96];
    snprintf(want, sizeof want, "transfers %d and %d both write", N - 2, N - 1);
    expect(&p, want);
    sw_plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_ok),     cmocka_unit_test(test_ok_without_relay),
        cmocka_unit_test(test_empty_plan_ok),  cmocka_unit_test(test_a_overlap),
        cmocka_unit_test(test_a_missing),      cmocka_unit_test(test_b_mapping),
        cmocka_unit_test(test_b_source),       cmocka_unit_test(test_c_gap),
        cmocka_unit_test(test_c_twice),        cmocka_unit_test(test_c_bytes),
        cmocka_unit_test(test_c_ranks),        cmocka_unit_test(test_d_conflict),
        cmocka_unit_test(test_d_class),        cmocka_unit_test(test_e_dep),
        cmocka_unit_test(test_e_relay_order),  cmocka_unit_test(test_e_relay_flag),
        cmocka_unit_test(test_f_staging),      cmocka_unit_test(test_structure),
        cmocka_unit_test(test_many_transfers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
