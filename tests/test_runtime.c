/* The runtime end to end, in one process: compile every sync of every conformance case
 * and of the examples (at a tiny size), run it on the local backend with validation,
 * and require every destination element to match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_local.h"
#include "boxmath.h"
#include "compile.h"
#include "load.h"
#include "exec.h"
#include "data_validate.h"
#include "plan_verify.h"

/* Descriptors seen by compare_packs, by path: byte copy, row copy, per element (the test
 * requires each path to be exercised). */
static unsigned long long seen_paths[3];

/* Every staging side of every descriptor of wave i (pack, unpack) starts at a multiple
 * of its element size: a device faults on a misaligned 2/4/8-byte access (review F2), and
 * UBSan stops this test on the host path. */
static unsigned long long aligned_checked;
static void check_staging_alignment(const sw_exec *x, size_t i) {
    for (int kind = 0; kind < 3; kind++) {
        size_t n = sw_exec_wave_descs(x, i, (sw_segs_kind)kind, NULL);
        sw_seg_desc *d = calloc(n + 1, sizeof *d);
        assert_non_null(d);
        sw_exec_wave_descs(x, i, (sw_segs_kind)kind, d);
        for (size_t j = 0; j < n; j++)
            for (int side = 0; side < 2; side++) {
                if (d[j].local[side] != SW_SEG_STAGING) continue;
                uint64_t es = (uint64_t)sw_dtype_size((sw_dtype)d[j].dtype[side]);
                if (d[j].buf_off % es)
                    fail_msg("%s: rank %d wave %zu kind %d descriptor %zu: %s staging at byte %llu", x->plan->sync,
                             x->rank, i, kind, j, sw_dtype_name((sw_dtype)d[j].dtype[side]),
                             (unsigned long long)d[j].buf_off);
                aligned_checked++;
            }
        free(d);
    }
}

/* The device path's pack on the host (segment descriptors, SW_HD index math) writes the
 * same staging bytes as the CPU pack, wave by wave, on every rank. */
static void compare_packs(const sw_plan *p, void *const *ptrs) {
    for (uint32_t r = 0; r < p->nranks; r++) {
        sw_exec x;
        sw_error err;
        assert_int_equal(sw_exec_init(&x, p, p->ranks[r].rank, &err), SW_OK);
        uint8_t *a = calloc(x.max_send + 1, 1), *b = calloc(x.max_send + 1, 1);
        assert_true(a && b);
        for (size_t i = 0; i < x.nwaves; i++) {
            size_t off = 0;
            for (size_t k = x.wave0[i]; k < x.wave0[i + 1]; k++) {
                const sw_plan_task *t = &p->tasks[x.tasks[k]];
                if (t->src != x.rank || t->dst == x.rank) continue;
                size_t start = off;
                for (uint32_t s = 0; s < t->nseg; s++) {
                    const sw_plan_seg *g = &p->segs[t->seg0 + s];
                    size_t es = (size_t)sw_plan_xfer_esize(p, &p->xfers[g->xfer]);
                    off = start + (size_t)sw_plan_seg_start(off - start, es);
                    off += sw_exec_pack(p, g, ptrs, a + off);
                }
                /* the message is as long as the plan says (the receiver unpacks by it) */
                if (off - start != t->bytes)
                    fail_msg("rank %d wave %zu: a message packs %zu bytes, its task says %llu", x.rank, i, off - start,
                             (unsigned long long)t->bytes);
                off = (off + SW_STAGING_ALIGN - 1) / SW_STAGING_ALIGN * SW_STAGING_ALIGN;
            }
            assert_true(off <= x.max_send);
            size_t n = sw_exec_wave_descs(&x, i, SW_SEGS_PACK, NULL);
            sw_seg_desc *d = calloc(n + 1, sizeof *d);
            assert_non_null(d);
            assert_int_equal(sw_exec_wave_descs(&x, i, SW_SEGS_PACK, d), n);
            for (size_t j = 0; j < n; j++)
                seen_paths[d[j].flags & SW_SEG_BYTECOPY ? 0 : d[j].flags & SW_SEG_ROWCOPY ? 1 : 2]++;
            assert_int_equal(sw_seg_run_host(d, n, ptrs, b, &err), SW_OK);
            /* padding between segments is not written by the descriptors: compare the
             * segments' bytes only (sw_exec_pack's padding is zero) */
            for (size_t j = 0; j < n; j++)
                if (memcmp(a + d[j].buf_off, b + d[j].buf_off, (size_t)sw_seg_bytes(&d[j], 1)))
                    fail_msg("rank %d wave %zu: descriptor %zu packs other bytes than sw_exec_pack", x.rank, i, j);
            free(d);
            check_staging_alignment(&x, i);
        }
        free(a);
        free(b);
        sw_exec_free(&x);
    }
}

/* sw_plan_seg_run (O(dims)) against walking the segment element by element. */
static void check_seg_runs(const sw_plan *p) {
    for (uint32_t s = 0; s < p->nsegs; s++) {
        const sw_plan_seg *g = &p->segs[s];
        const sw_plan_xfer *x = &p->xfers[g->xfer];
        for (int side = 0; side < 2; side++) {
            const sw_plan_side *sd = side ? &x->dst : &x->src;
            const sw_plan_local *l = &p->locals[sd->local];
            sw_box_geom geo = {p->tensors[x->tensor].ndim, {0}};
            for (int k = 0; k < geo.ndim; k++) geo.size[k] = x->size[k];
            sw_box_side bs;
            sw_box_side_init(&bs, l->ndim, l->shape, sd->map, sd->base, geo.ndim, x->start);
            int64_t first = sw_box_offset(&geo, &bs, g->elem0), want = g->nelem ? first : -1;
            for (uint64_t e = 1; e < g->nelem && want >= 0; e++)
                if (sw_box_offset(&geo, &bs, g->elem0 + e) != first + (int64_t)e) want = -1;
            int64_t got = sw_plan_seg_run(p, g, side);
            if (got != want)
                fail_msg("segment %u (%llu+%llu of transfer %u) %s side: run %lld, walking says %lld", s,
                         (unsigned long long)g->elem0, (unsigned long long)g->nelem, g->xfer, side ? "destination" : "source",
                         (long long)got, (long long)want);
        }
    }
}

/* Compiles and runs one sync; returns the number of destination elements checked. */
static uint64_t run_sync(const sw_ir *ir, int sync, sw_scheduler sched, int no_relay, int64_t bucket) {
    sw_compile_params o = {.sync = sync, .bucket = bucket, .scheduler = sched, .no_relay = no_relay};
    sw_plan p;
    sw_error err;
    int rc = sw_compile(ir, &o, &p, &err);
    if (rc) fail_msg("%s sync %s: compile: %s", ir->path, ir->syncs[sync].name, err.msg);
    /* exactly once, from the right source: validation alone cannot see a repeated write */
    if (sw_plan_verify(&p, &err)) fail_msg("%s sync %s: verify: %s", ir->path, ir->syncs[sync].name, err.msg);
    check_seg_runs(&p);
    void **ptrs = calloc(p.nlocals + 1, sizeof *ptrs);
    assert_non_null(ptrs);
    for (uint32_t i = 0; i < p.nlocals; i++) ptrs[i] = malloc(sw_plan_local_nbytes(&p.locals[i]) + 1);
    assert_int_equal(sw_data_fill(&p, -1, ptrs, &err), SW_OK);
    /* the device path (descriptors) first, on the host; then the CPU path over it */
    compare_packs(&p, ptrs);
    sw_data_poison(&p, -1, ptrs);
    sw_local_group *g;
    assert_int_equal(sw_local_group_open(&g, &p, 30, &err), SW_OK);
    sw_local_group_use_descs(g, 1);
    rc = sw_local_group_run(g, ptrs, &err);
    if (rc) fail_msg("%s sync %s: run (descriptors): %s", ir->path, ir->syncs[sync].name, err.msg);
    sw_data_report drep;
    assert_int_equal(sw_data_check(&p, -1, ptrs, &drep, &err), SW_OK);
    if (drep.bad) {
        char buf[512];
        sw_data_describe(&p, &drep.shown[0], buf, sizeof buf);
        fail_msg("%s sync %s (%s, descriptors): %llu of %llu elements wrong, first: %s", ir->path,
                 ir->syncs[sync].name, sw_scheduler_name(sched), (unsigned long long)drep.bad,
                 (unsigned long long)drep.checked, buf);
    }
    /* the staged host path (as the mpi backend runs it: pack, hand-over, unpack, relays
     * unpacked first) */
    sw_data_poison(&p, -1, ptrs);
    sw_local_group_use_descs(g, 0);
    sw_local_group_use_staging(g, 1);
    rc = sw_local_group_run(g, ptrs, &err);
    if (rc) fail_msg("%s sync %s: run (staged): %s", ir->path, ir->syncs[sync].name, err.msg);
    sw_data_report srep;
    assert_int_equal(sw_data_check(&p, -1, ptrs, &srep, &err), SW_OK);
    if (srep.bad) {
        char buf[512];
        sw_data_describe(&p, &srep.shown[0], buf, sizeof buf);
        fail_msg("%s sync %s (%s, staged): %llu of %llu elements wrong, first: %s", ir->path, ir->syncs[sync].name,
                 sw_scheduler_name(sched), (unsigned long long)srep.bad, (unsigned long long)srep.checked, buf);
    }
    uint64_t staged_all = sw_local_group_staged(g);
    /* zero-copy (as the mpi backend runs it: contiguous runs sent from and received into
     * the tensors, the rest staged): the same result, and fewer bytes through staging
     * exactly when some segment is one run on its side */
    sw_data_poison(&p, -1, ptrs);
    sw_local_group_use_staging(g, 0);
    sw_local_group_use_iov(g, 1);
    rc = sw_local_group_run(g, ptrs, &err);
    if (rc) fail_msg("%s sync %s: run (zero-copy): %s", ir->path, ir->syncs[sync].name, err.msg);
    sw_data_report zrep;
    assert_int_equal(sw_data_check(&p, -1, ptrs, &zrep, &err), SW_OK);
    if (zrep.bad) {
        char buf[512];
        sw_data_describe(&p, &zrep.shown[0], buf, sizeof buf);
        fail_msg("%s sync %s (%s, zero-copy): %llu of %llu elements wrong, first: %s", ir->path, ir->syncs[sync].name,
                 sw_scheduler_name(sched), (unsigned long long)zrep.bad, (unsigned long long)zrep.checked, buf);
    }
    {
        uint64_t staged_zc = sw_local_group_staged(g), want_zc = 0;
        for (uint32_t t = 0; t < p.ntasks; t++) {
            const sw_plan_task *tk = &p.tasks[t];
            if (tk->src == tk->dst) continue;
            for (uint32_t k = 0; k < tk->nseg; k++) {
                const sw_plan_seg *sg = &p.segs[tk->seg0 + k];
                const sw_plan_xfer *xf = &p.xfers[sg->xfer];
                uint64_t nb = sg->nelem * (uint64_t)sw_plan_xfer_esize(&p, xf);
                int small = nb < SW_PLAN_ZC_MIN;
                if (small || sw_plan_seg_run(&p, sg, 0) < 0) want_zc += nb;
                if (small || sw_plan_seg_run(&p, sg, 1) < 0 ||
                    p.locals[xf->src.local].dtype != p.locals[xf->dst.local].dtype)
                    want_zc += nb;
            }
        }
        if (staged_zc != want_zc || staged_zc > staged_all)
            fail_msg("%s sync %s: zero-copy staged %llu bytes, expected %llu (staged path: %llu)", ir->path,
                     ir->syncs[sync].name, (unsigned long long)staged_zc, (unsigned long long)want_zc,
                     (unsigned long long)staged_all);
    }
    sw_data_poison(&p, -1, ptrs);
    sw_local_group_use_iov(g, 0);
    rc = sw_local_group_run(g, ptrs, &err);
    if (rc) fail_msg("%s sync %s: run: %s", ir->path, ir->syncs[sync].name, err.msg);
    sw_data_report rep;
    assert_int_equal(sw_data_check(&p, -1, ptrs, &rep, &err), SW_OK);
    if (rep.bad) {
        char buf[512];
        sw_data_describe(&p, &rep.shown[0], buf, sizeof buf);
        fail_msg("%s sync %s (%s): %llu of %llu elements wrong, first: %s", ir->path, ir->syncs[sync].name,
                 sw_scheduler_name(sched), (unsigned long long)rep.bad, (unsigned long long)rep.checked, buf);
    }
    /* every destination element of every transfer was checked: the unique bytes */
    uint64_t want = 0;
    for (uint32_t x = 0; x < p.nxfers; x++) want += p.xfers[x].nelem;
    assert_true(rep.checked == want);
    sw_local_group_close(g);
    for (uint32_t i = 0; i < p.nlocals; i++) free(ptrs[i]);
    free(ptrs);
    uint64_t checked = rep.checked;
    sw_plan_free(&p);
    return checked;
}

static void run_file(const char *path, const sw_define *defs, size_t ndefs) {
    sw_ir ir;
    sw_error err;
    sw_load_opts lo = {defs, ndefs};
    if (sw_load_file(path, &lo, &ir, &err)) fail_msg("%s: %s", path, err.msg);
    for (size_t s = 0; s < ir.nsyncs; s++) {
        uint64_t a = run_sync(&ir, (int)s, SW_SCHED_OPTIMAL, 0, 0);
        uint64_t b = run_sync(&ir, (int)s, SW_SCHED_GREEDY, 0, 0);
        uint64_t c = run_sync(&ir, (int)s, SW_SCHED_OPTIMAL, 1, 4096); /* tiny chunks, no relays */
        assert_true(a == b && b == c && a > 0);
    }
    sw_ir_free(&ir);
}

static void test_conformance_cases(void **state) {
    (void)state;
    glob_t g;
    assert_int_equal(glob(SW_SOURCE_DIR "/tests/conformance/cases/*.yaml", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 10);
    for (size_t i = 0; i < g.gl_pathc; i++) run_file(g.gl_pathv[i], NULL, 0);
    globfree(&g);
}

/* The device staging arena (review F9): for every rank of a plan, wave i's messages lie at
 * multiples of SW_STAGING_ALIGN inside [0, A), even waves from the start and odd ones from
 * the end, two consecutive waves never overlap, A is the largest two-wave figure (no more
 * than the two slots a side the backend used to allocate), and every message the executor
 * posts lies where the layout says. */
typedef struct arena_sum {
    uint64_t arena, old, compiler, ranks, over_compiler;
} arena_sum;

static void check_arena(const sw_plan *p, arena_sum *sum) {
    sw_error err;
    for (uint32_t r = 0; r < p->nranks; r++) {
        sw_exec x;
        assert_int_equal(sw_exec_init(&x, p, p->ranks[r].rank, &err), SW_OK);
        size_t A = sw_exec_arena_layout(&x, NULL, NULL);
        uint8_t *arena = malloc(A + 1);
        assert_int_equal(sw_exec_set_arena(&x, arena, &err), SW_OK);
        uint64_t prev = 0;
        sw_msg *m = calloc(x.ntasks + 1, sizeof *m);
        for (size_t i = 0; i < x.nwaves; i++) {
            uint64_t lo = x.send_at[i], hi = lo;
            for (int dir = 0; dir < 2; dir++) {
                size_t n = sw_exec_wave_msgs(&x, i, dir, m);
                uint64_t base = dir ? x.recv_at[i] : x.send_at[i];
                assert_int_equal(base % SW_STAGING_ALIGN, 0);
                for (size_t k = 0; k < n; k++) {
                    uint64_t off = (uint64_t)((uint8_t *)m[k].buf - arena);
                    assert_int_equal(off % SW_STAGING_ALIGN, 0);
                    assert_true(off >= base && off + m[k].bytes <= A);
                    assert_int_equal(m[k].bytes, p->tasks[m[k].task].bytes);
                    if (off + m[k].bytes > hi) hi = off + m[k].bytes;
                }
            }
            assert_true(i % 2 ? hi <= A : lo == 0);
            if (i) { /* wave i - 1 sits at the other end: no overlap */
                if (i % 2) assert_true(lo >= prev);
                else assert_true(hi <= x.send_at[i - 1]);
            }
            prev = hi; /* where an even wave ends */
        }
        assert_true(A <= 2 * x.max_send + 2 * x.max_recv);
        sum->arena += A;
        sum->old += 2 * x.max_send + 2 * x.max_recv;
        sum->ranks++;
        if (A > p->stats.max_staging) sum->over_compiler++;
        free(m);
        free(arena);
        sw_exec_free(&x);
    }
    sum->compiler += p->stats.max_staging * p->nranks;
}

static void test_staging_arena(void **state) {
    (void)state;
    glob_t g;
    assert_int_equal(glob(SW_SOURCE_DIR "/tests/conformance/cases/*.yaml", 0, NULL, &g), 0);
    arena_sum sum = {0};
    for (size_t i = 0; i < g.gl_pathc; i++)
        for (int64_t bucket = 4096; bucket <= 1 << 20; bucket *= 16) {
            sw_ir ir;
            sw_error err;
            if (sw_load_file(g.gl_pathv[i], NULL, &ir, &err)) fail_msg("%s", err.msg);
            for (size_t s = 0; s < ir.nsyncs; s++) {
                sw_compile_params o = {.sync = (int)s, .bucket = bucket, .scheduler = SW_SCHED_OPTIMAL};
                sw_plan p;
                if (sw_compile(&ir, &o, &p, &err)) fail_msg("%s", err.msg);
                check_arena(&p, &sum);
                sw_plan_free(&p);
            }
            sw_ir_free(&ir);
        }
    globfree(&g);
    printf("staging arena over %llu rank plans: %llu bytes (was 2 x max_send + 2 x max_recv: %llu; the compiler's "
           "max_staging per rank: %llu); ranks above the compiler's figure: %llu\n",
           (unsigned long long)sum.ranks, (unsigned long long)sum.arena, (unsigned long long)sum.old,
           (unsigned long long)sum.compiler, (unsigned long long)sum.over_compiler);
    assert_true(sum.arena < sum.old);
}

/* Messages that mix element sizes (review F2): fp8 weights with fp32 scales, fp32 norms
 * among bf16 weights, int8 and fp64, odd shard sizes, relays that forward the mixture.
 * Runs under ASan+UBSan too (the unit pass of `make test`): a misaligned element on the
 * host path is an error there.  Also every bucket from tiny (many tasks cut mid-tensor)
 * to whole tensors. */
static void test_mixed_dtypes(void **state) {
    (void)state;
    static const char *files[] = {"review_f2.sw", "fp8_scales.sw", "norms_bf16.yaml"};
    unsigned long long before = aligned_checked;
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/mixed/%s", SW_SOURCE_DIR, files[f]);
        run_file(path, NULL, 0);
        sw_ir ir;
        sw_error err;
        if (sw_load_file(path, NULL, &ir, &err)) fail_msg("%s: %s", path, err.msg);
        for (size_t s = 0; s < ir.nsyncs; s++)
            for (int64_t bucket = 64; bucket <= 1024; bucket *= 2) {
                uint64_t a = run_sync(&ir, (int)s, SW_SCHED_OPTIMAL, 0, bucket);
                uint64_t b = run_sync(&ir, (int)s, SW_SCHED_GREEDY, 1, bucket);
                uint64_t c = run_sync(&ir, (int)s, SW_SCHED_NAIVE, 0, bucket);
                assert_true(a == b && b == c && a > 0);
            }
        sw_ir_free(&ir);
    }
    /* segments of at least SW_PLAN_ZC_MIN in every arrangement of the zero-copy contract
     * (in place at both ends, at one, strided at both, converted) among small ones */
    run_file(SW_SOURCE_DIR "/tests/mixed/zc_wide.yaml", NULL, 0);
    /* the real fp8 checkpoint at a tiny size: fp8_e4m3 linears with fp32 128x128 (here 8x8)
     * weight_scale_inv blocks, bf16 norms and embeddings */
    const sw_define ds[] = {{"hidden", 64}, {"layers", 4},   {"dense", 1},    {"experts", 64},  {"moe_ffn", 16},
                            {"ffn", 64},    {"heads", 8},    {"q_lora", 32},  {"kv_lora", 16},  {"nope", 8},
                            {"rope", 8},    {"v_head", 8},   {"vocab", 1024}, {"pp_train", 2},  {"ep_train", 4},
                            {"ep_inf", 2},  {"tp_inf", 2},   {"block", 8}};
    run_file(SW_SOURCE_DIR "/examples/deepseek-v3.yaml", ds, sizeof ds / sizeof *ds);
    printf("mixed dtypes: %llu staging sides checked aligned\n", aligned_checked - before);
    assert_true(aligned_checked - before > 100);
}

/* The review's repro: bf16 [33, 7] (462 bytes) then fp32 [40] in one message.  The fp32
 * segment starts at 464, not 462, and the task's bytes count the 2 bytes of padding. */
static void test_mixed_layout_bytes(void **state) {
    (void)state;
    sw_ir ir;
    sw_error err;
    if (sw_load_file(SW_SOURCE_DIR "/tests/mixed/review_f2.sw", NULL, &ir, &err)) fail_msg("%s", err.msg);
    sw_compile_params o = {.sync = 0, .scheduler = SW_SCHED_OPTIMAL};
    sw_plan p;
    assert_int_equal(sw_compile(&ir, &o, &p, &err), SW_OK);
    assert_int_equal(p.ntasks, 1);
    const sw_plan_task *t = &p.tasks[0];
    uint64_t at = 0, pad = 0;
    for (uint32_t k = 0; k < t->nseg; k++) {
        const sw_plan_seg *g = &p.segs[t->seg0 + k];
        uint64_t es = (uint64_t)sw_plan_xfer_esize(&p, &p.xfers[g->xfer]);
        uint64_t start = sw_plan_seg_start(at, es);
        assert_true(start % es == 0);
        pad += start - at;
        at = start + g->nelem * es;
    }
    /* a [33,7] bf16 = 462, e fp8 [5] = 5, n fp32 [40] = 160, b [12,6] bf16 = 144: 771 bytes
     * of data and 1 of padding, whatever order the compiler chose */
    assert_int_equal(at, t->bytes);
    assert_int_equal(t->bytes - pad, 771);
    assert_true(pad > 0 && pad < 8);
    /* the structural check (every plan read) refuses a task whose bytes ignore the padding */
    p.tasks[0].bytes -= pad;
    assert_int_equal(sw_plan_verify(&p, &err), SW_INTERNAL);
    assert_non_null(strstr(err.msg, "but its segments hold"));
    sw_plan_free(&p);
    sw_ir_free(&ir);
}

static void test_examples_tiny(void **state) {
    (void)state;
    const sw_define llama[] = {{"hidden", 64}, {"layers", 2}, {"vocab", 1000}, {"multiple_of", 64}};
    run_file(SW_SOURCE_DIR "/examples/llama3-8b.yaml", llama, 4);
    const sw_define llama70[] = {{"hidden", 64}, {"layers", 4}, {"vocab", 1000}, {"multiple_of", 64}};
    run_file(SW_SOURCE_DIR "/examples/llama3-70b.yaml", llama70, 4);
    const sw_define qwen[] = {{"hidden", 32}, {"head_dim", 8}, {"layers", 2}, {"experts", 16}, {"moe_ffn", 16}, {"vocab", 500}};
    run_file(SW_SOURCE_DIR "/examples/qwen3-30b-a3b.yaml", qwen, 6);
    printf("descriptor paths packed: %llu byte copies, %llu row copies, %llu per element\n", seen_paths[0],
           seen_paths[1], seen_paths[2]);
    assert_true(seen_paths[0] > 0 && seen_paths[1] > 0 && seen_paths[2] > 0);
}

/* Runs a plan on the local backend and returns the number of bad elements. */
static uint64_t bad_elements(const sw_plan *p) {
    sw_error err;
    void **ptrs = calloc(p->nlocals + 1, sizeof *ptrs);
    for (uint32_t i = 0; i < p->nlocals; i++) ptrs[i] = malloc(sw_plan_local_nbytes(&p->locals[i]) + 1);
    assert_int_equal(sw_data_fill(p, -1, ptrs, &err), SW_OK);
    sw_data_poison(p, -1, ptrs);
    sw_local_group *g;
    assert_int_equal(sw_local_group_open(&g, p, 30, &err), SW_OK);
    assert_int_equal(sw_local_group_run(g, ptrs, &err), SW_OK);
    sw_data_report rep;
    assert_int_equal(sw_data_check(p, -1, ptrs, &rep, &err), SW_OK);
    sw_local_group_close(g);
    for (uint32_t i = 0; i < p->nlocals; i++) free(ptrs[i]);
    free(ptrs);
    return rep.bad;
}

/* Validation must catch a plan that reads the wrong source element, and one that never
 * writes some destination elements. */
static void test_validation_catches_wrong_plans(void **state) {
    (void)state;
    sw_ir ir;
    sw_error err;
    assert_int_equal(sw_load_file(SW_SOURCE_DIR "/tests/conformance/cases/01_col_row_parallel.yaml", NULL,
                                  &ir, &err),
                     SW_OK);
    sw_compile_params o = {.scheduler = SW_SCHED_OPTIMAL};
    sw_plan p;
    assert_int_equal(sw_compile(&ir, &o, &p, &err), SW_OK);
    assert_true(bad_elements(&p) == 0);
    /* a transfer whose source box is read one row early: pick one whose box starts at
     * least one row into its source local tensor, so that the read stays inside it */
    uint32_t x = 0;
    int j = 0;
    for (; x < p.nxfers; x++) {
        const sw_plan_xfer *px = &p.xfers[x];
        if (p.tensors[px->tensor].ndim != 2) continue;
        for (j = 0; j < 8 && px->src.map[j] != 0; j++) {
        }
        if (j < 8 && px->src.base[j] + px->start[0] >= 1) break;
    }
    assert_true(x < p.nxfers);
    p.xfers[x].src.base[j] -= 1;
    uint64_t bad = bad_elements(&p);
    assert_true(bad > 0);
    p.xfers[x].src.base[j] += 1;
    /* a task that carries nothing: its destination elements keep the poison */
    uint32_t t = 0;
    while (t < p.ntasks && p.tasks[t].src == p.tasks[t].dst) t++;
    assert_true(t < p.ntasks);
    uint64_t lost = 0;
    for (uint32_t k = 0; k < p.tasks[t].nseg; k++) lost += p.segs[p.tasks[t].seg0 + k].nelem;
    p.tasks[t].nseg = 0;
    p.tasks[t].bytes = 0;
    assert_true(bad_elements(&p) == lost);
    sw_plan_free(&p);
    sw_ir_free(&ir);
}

/* A sync that skips a tensor: its destination pieces are not written, the plan says so,
 * the verifier accepts it, and it refuses plans that disagree with the flag. */
static void test_skip(void **state) {
    (void)state;
    static const char yaml[] =
        "shardwave: 1\n"
        "model:\n"
        "  tensors:\n"
        "    - {name: embed, shape: [8, 4]}\n"
        "    - {name: head, shape: [8, 4]}\n"
        "layouts:\n"
        "  train: {mesh: {tp: 2}, place: [{tensor: embed, split: {0: tp}}, {tensor: head, split: {0: tp}}]}\n"
        "  infer: {first_rank: 2, mesh: {tp: 2}, place: [{tensor: embed, split: {1: tp}}, {tensor: head, split: {1: tp}}]}\n"
        "syncs:\n"
        "  - {name: refit, from: train, to: infer, skip: [head]}\n";
    sw_ir ir;
    sw_error err;
    assert_int_equal(sw_load_text("skip.yaml", yaml, sizeof yaml - 1, NULL, &ir, &err), SW_OK);
    sw_compile_params o = {.scheduler = SW_SCHED_OPTIMAL};
    sw_plan p;
    assert_int_equal(sw_compile(&ir, &o, &p, &err), SW_OK);
    assert_true(p.tensors[1].skipped && !p.tensors[0].skipped);
    for (uint32_t x = 0; x < p.nxfers; x++) assert_int_equal(p.xfers[x].tensor, 0);
    assert_int_equal(sw_plan_verify(&p, &err), SW_OK);
    assert_true(bad_elements(&p) == 0);
    p.tensors[1].skipped = 0; /* then its pieces are missing */
    assert_int_equal(sw_plan_verify(&p, &err), SW_INTERNAL);
    assert_non_null(strstr(err.msg, "transfers write"));
    p.tensors[1].skipped = 1;
    p.tensors[0].skipped = 1; /* then the transfers write a skipped tensor */
    assert_int_equal(sw_plan_verify(&p, &err), SW_INTERNAL);
    assert_non_null(strstr(err.msg, "skips"));
    sw_plan_free(&p);
    sw_ir_free(&ir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conformance_cases),
        cmocka_unit_test(test_examples_tiny),
        cmocka_unit_test(test_mixed_dtypes),
        cmocka_unit_test(test_mixed_layout_bytes),
        cmocka_unit_test(test_staging_arena),
        cmocka_unit_test(test_validation_catches_wrong_plans),
        cmocka_unit_test(test_skip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
