/*
 * test_api.c - the public C API as a user calls it (include/shardwave.h only): compile in
 * process, plan info, serialize / load from memory / load one rank, save, sessions,
 * sw_bind_tensor's checks and its name index, and errors that are reset on success.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shardwave.h"

/* One fp32 [4, 6] tensor on the same two ranks in both layouts: rows over tp in `a`,
 * columns over tp in `b`.  Each rank holds "w" in both layouts. */
static const char two_layouts[] =
    "shardwave: 1\n"
    "model:\n"
    "  name: t\n"
    "  dtype: fp32\n"
    "  tensors:\n"
    "    - {name: w, shape: [4, 6]}\n"
    "layouts:\n"
    "  a:\n"
    "    mesh: {tp: 2}\n"
    "    place: [{tensor: w, split: {0: tp}}]\n"
    "  b:\n"
    "    mesh: {tp: 2}\n"
    "    place: [{tensor: w, split: {1: tp}}]\n";

static sw_plan *compile_two(void) {
    sw_plan *p = NULL;
    sw_error err;
    int rc = sw_compile_text(&p, "two.yaml", two_layouts, strlen(two_layouts), NULL, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, SW_OK);
    assert_int_equal(err.status, SW_OK);
    assert_non_null(p);
    return p;
}

static void test_compile_text_info(void **state) {
    (void)state;
    sw_plan *p = compile_two();
    sw_plan_info info;
    assert_int_equal(sw_plan_get_info(p, &info, NULL), SW_OK);
    assert_string_equal(info.model, "t");
    assert_string_equal(info.sync, "default"); /* rule 15: two layouts, no syncs */
    assert_string_equal(info.from, "a");
    assert_string_equal(info.to, "b");
    assert_int_equal(info.nranks, 2);
    assert_int_equal(info.max_rank, 1);
    assert_int_equal(info.only_rank, -1);
    assert_true(info.nwaves >= 1);
    assert_true(info.ntasks >= 2); /* each rank keeps a quarter and sends a quarter */
    assert_true(info.lower_bound_s > 0 && info.predicted_s >= info.lower_bound_s * 0.999);
    int ranks[4] = {-1, -1, -1, -1};
    assert_int_equal(sw_plan_ranks(p, ranks, 4), 2);
    assert_int_equal(ranks[0], 0);
    assert_int_equal(ranks[1], 1);
    assert_int_equal(ranks[2], -1);
    sw_plan_free(p);
}

static void test_compile_file_example(void **state) {
    (void)state;
    sw_plan *p = NULL;
    sw_error err;
    sw_define defs[] = {{"layers", 2}};
    sw_compile_options o = {.struct_size = sizeof o, .sync = "refit", .defines = defs, .ndefines = 1, .bucket = 4096, .scheduler = "greedy"};
    assert_int_equal(sw_compile_file(&p, "examples/llama_tiny.yaml", &o, &err), SW_OK);
    sw_plan_info info;
    assert_int_equal(sw_plan_get_info(p, &info, &err), SW_OK);
    assert_string_equal(info.sync, "refit");
    assert_string_equal(info.from, "train");
    assert_string_equal(info.to, "infer");
    assert_int_equal(info.nranks, 8);
    sw_plan_free(p);
    /* a DSL twin, picked by its extension */
    assert_int_equal(sw_compile_file(&p, "examples/llama_tiny.sw", NULL, &err), SW_OK);
    sw_plan_free(p);
}

static void test_compile_errors(void **state) {
    (void)state;
    sw_plan *p = (sw_plan *)&p; /* must be set to NULL on failure */
    sw_error err;
    static const char bad[] = "shardwave: 1\nmodel:\n  name: t\n  tensors: []\n  colour: red\nlayouts: {}\n";
    assert_int_equal(sw_compile_text(&p, "bad.yaml", bad, strlen(bad), NULL, &err), SW_INPUT);
    assert_null(p);
    assert_string_equal(err.file, "bad.yaml");
    assert_int_equal(err.line, 5);
    assert_int_equal(err.col, 3);
    assert_non_null(strstr(err.msg, "colour"));

    sw_compile_options o = {.struct_size = sizeof o, .sync = "nope"};
    assert_int_equal(sw_compile_text(&p, "two.yaml", two_layouts, strlen(two_layouts), &o, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "no sync named 'nope' (it has: default)"));
    o.sync = NULL;
    o.scheduler = "fast";
    assert_int_equal(sw_compile_text(&p, "two.yaml", two_layouts, strlen(two_layouts), &o, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "unknown scheduler 'fast'"));
    assert_int_equal(sw_compile_file(&p, "/nonexistent/x.yaml", NULL, &err), SW_IO);
    assert_int_equal(sw_compile_file(NULL, "x.yaml", NULL, &err), SW_USAGE);
    assert_int_equal(sw_compile_file(&p, NULL, NULL, &err), SW_USAGE);
    assert_int_equal(sw_compile_text(&p, "x.yaml", NULL, 0, NULL, &err), SW_USAGE);
    /* a success after a failure resets the error */
    assert_int_equal(sw_compile_text(&p, "two.yaml", two_layouts, strlen(two_layouts), NULL, &err), SW_OK);
    assert_int_equal(err.status, SW_OK);
    assert_string_equal(err.msg, "");
    sw_plan_free(p);
}

static void test_serialize_load_rank(void **state) {
    (void)state;
    sw_plan *p = compile_two(), *q = NULL;
    sw_error err;
    void *buf = NULL;
    size_t len = 0;
    assert_int_equal(sw_plan_serialize(p, &buf, &len, &err), SW_OK);
    assert_true(len > 64);
    assert_int_equal(memcmp(buf, "SWPLAN\0\1", 8), 0);

    sw_plan_info a, b;
    assert_int_equal(sw_plan_load_mem(&q, buf, len, -1, &err), SW_OK);
    sw_plan_get_info(p, &a, NULL);
    sw_plan_get_info(q, &b, NULL);
    assert_int_equal(a.ntasks, b.ntasks);
    assert_int_equal(a.nwaves, b.nwaves);
    assert_int_equal(b.only_rank, -1);
    sw_plan_free(q);

    /* one rank's part: it opens that rank's session only, and cannot be written */
    assert_int_equal(sw_plan_load_mem(&q, buf, len, 1, &err), SW_OK);
    sw_plan_get_info(q, &b, NULL);
    assert_int_equal(b.only_rank, 1);
    assert_int_equal(b.ntasks, a.ntasks); /* the whole plan's count */
    sw_session *s = NULL;
    assert_int_equal(sw_session_open(&s, q, -1, SW_BACKEND_LOCAL, NULL, &err), SW_USAGE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "loaded for rank 1 only"));
    void *b2 = NULL;
    size_t l2 = 0;
    assert_int_equal(sw_plan_serialize(q, &b2, &l2, &err), SW_USAGE);
    assert_null(b2);
    char path[] = "/tmp/sw_test_api_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sw_plan_save(q, path, &err), SW_USAGE);
    sw_plan_free(q);

    /* the file: whole, then one rank, then a rank the plan does not use */
    assert_int_equal(sw_plan_save(p, path, &err), SW_OK);
    assert_int_equal(sw_plan_load_rank(&q, path, 0, &err), SW_OK);
    sw_plan_get_info(q, &b, NULL);
    assert_int_equal(b.only_rank, 0);
    sw_plan_free(q);
    assert_int_equal(sw_plan_load_rank(&q, path, 7, &err), SW_USAGE);
    assert_null(q);
    assert_int_equal(sw_plan_load_rank(&q, path, -3, &err), SW_USAGE);
    /* a truncated buffer is a corrupt plan, never a crash */
    assert_int_equal(sw_plan_load_mem(&q, buf, len / 2, -1, &err), SW_CORRUPT);
    assert_null(q);
    unlink(path);
    sw_free(buf);
    sw_free(NULL);
    sw_plan_free(p);
}

static void test_bind_tensor_checks(void **state) {
    (void)state;
    sw_plan *p = compile_two();
    sw_session *s = NULL;
    sw_error err;
    assert_int_equal(sw_session_open(&s, p, -1, SW_BACKEND_LOCAL, NULL, &err), SW_OK);
    float a0[12], a1[12], b0[12], b1[12];
    int64_t ashape[2] = {2, 6}, bshape[2] = {4, 3};
    sw_tensor_desc t = {sizeof t, a0, "fp32", 2, ashape, NULL, SW_MEM_HOST, 0};

    /* "w" is in both layouts of rank 0 */
    assert_int_equal(sw_bind_tensor(s, 0, "w", &t, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "in both layouts 'a' and 'b': bind 'a/w' or 'b/w'"));
    assert_int_equal(sw_bind_tensor(s, 0, "q", &t, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "rank 0 has no local tensor 'q'"));
    /* wrong dtype, wrong shape, transposed, wrong memory */
    t.dtype = "bf16";
    assert_int_equal(sw_bind_tensor(s, 0, "a/w", &t, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "'a/w' of rank 0 is fp32 [2, 6]; a bf16 tensor was given"));
    t.dtype = "fp32";
    int64_t wrong[2] = {6, 2};
    t.shape = wrong;
    assert_int_equal(sw_bind_tensor(s, 0, "a/w", &t, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "is fp32 [2, 6]; a tensor of shape [6, 2] was given"));
    t.shape = ashape;
    int64_t transposed[2] = {1, 2};
    t.strides = transposed;
    assert_int_equal(sw_bind_tensor(s, 0, "a/w", &t, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "dense row-major"));
    int64_t dense[2] = {6, 1};
    t.strides = dense;
    t.mem = SW_MEM_CUDA;
    assert_int_equal(sw_bind_tensor(s, 0, "a/w", &t, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "CUDA memory"));
    t.mem = SW_MEM_HOST;
    t.data = NULL;
    assert_int_equal(sw_bind_tensor(s, 0, "a/w", &t, &err), SW_USAGE);

    /* bound right, the sync validates element by element */
    t.data = a0;
    assert_int_equal(sw_bind_tensor(s, 0, "a/w", &t, &err), SW_OK);
    assert_int_equal(err.status, SW_OK);
    t.data = a1;
    assert_int_equal(sw_bind_tensor(s, 1, "a/w", &t, &err), SW_OK);
    t.shape = bshape;
    t.strides = NULL;
    t.data = b0;
    assert_int_equal(sw_bind_tensor(s, 0, "b/w", &t, &err), SW_OK);
    assert_int_equal(sw_sync(s, NULL, &err), SW_USAGE); /* b/w of rank 1 is not bound */
    assert_non_null(strstr(err.msg, "'w' (b) of rank 1 is not bound"));
    t.data = b1;
    assert_int_equal(sw_bind_tensor(s, 1, "b/w", &t, &err), SW_OK);
    uint64_t checked = 0;
    assert_int_equal(sw_validation_fill(s, &err), SW_OK);
    assert_int_equal(sw_sync(s, NULL, &err), SW_OK);
    assert_int_equal(sw_validation_check(s, &checked, &err), SW_OK);
    assert_int_equal(checked, 24);
    /* a wrong element is found (one bit flipped: the pattern may be a NaN) */
    uint32_t bits;
    memcpy(&bits, &b1[5], 4);
    bits ^= 1;
    memcpy(&b1[5], &bits, 4);
    assert_int_equal(sw_validation_check(s, &checked, &err), SW_MISMATCH);
    assert_non_null(strstr(err.msg, "1 of 24 destination elements are wrong"));
    sw_session_close(s);
    sw_plan_free(p);
}

/* The pieces of a local tensor, and a sync checked element by element through them: each
 * source element holds 1 + its logical linear index, each destination element must too. */
static void test_plan_pieces(void **state) {
    (void)state;
    sw_plan *p = compile_two();
    sw_error err;
    sw_piece_info pc[4];
    size_t n = 99;
    assert_int_equal(sw_plan_pieces(p, 1, "w", pc, 4, &n, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "in both layouts 'a' and 'b': ask for 'a/w' or 'b/w'"));
    assert_int_equal(n, 0);
    assert_int_equal(sw_plan_pieces(p, 1, "q", pc, 4, &n, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "rank 1 has no local tensor 'q'"));
    assert_int_equal(sw_plan_pieces(p, 2, "a/w", pc, 4, &n, &err), SW_USAGE);
    assert_int_equal(sw_plan_pieces(p, 1, "a/w", NULL, 0, &n, &err), SW_OK); /* count only */
    assert_int_equal(n, 1);
    assert_int_equal(sw_plan_pieces(p, 1, "a/w", pc, 4, &n, &err), SW_OK);
    assert_int_equal(err.status, SW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(pc[0].tensor, "w");
    assert_string_equal(pc[0].dtype, "fp32");
    assert_int_equal(pc[0].ndim, 2);
    assert_int_equal(pc[0].shape[0], 4);
    assert_int_equal(pc[0].shape[1], 6);
    assert_int_equal(pc[0].start[0], 2); /* rank 1 holds rows 2..3 in `a` */
    assert_int_equal(pc[0].start[1], 0);
    assert_int_equal(pc[0].size[0], 2);
    assert_int_equal(pc[0].size[1], 6);
    assert_int_equal(pc[0].local_ndim, 2);
    assert_int_equal(pc[0].map[0], 0);
    assert_int_equal(pc[0].map[1], 1);
    assert_int_equal(pc[0].base[0], -2); /* logical row 2 is local row 0 */
    assert_int_equal(pc[0].base[1], 0);
    assert_int_equal(pc[0].skipped, 0);
    assert_int_equal(sw_plan_pieces(p, 1, "b/w", pc, 4, &n, &err), SW_OK);
    assert_int_equal(pc[0].start[0], 0); /* and columns 3..5 in `b` */
    assert_int_equal(pc[0].start[1], 3);
    assert_int_equal(pc[0].size[1], 3);
    assert_int_equal(pc[0].base[1], -3);

    /* fill the sources through their pieces, sync, check the destinations through theirs */
    float mem[4][12];
    const char *names[4] = {"a/w", "a/w", "b/w", "b/w"};
    sw_session *s = NULL;
    assert_int_equal(sw_session_open(&s, p, -1, SW_BACKEND_LOCAL, NULL, &err), SW_OK);
    for (int i = 0; i < 4; i++) {
        int rank = i % 2;
        for (int e = 0; e < 12; e++) mem[i][e] = -1;
        assert_int_equal(sw_plan_pieces(p, rank, names[i], pc, 4, &n, &err), SW_OK);
        assert_int_equal(n, 1);
        int64_t lcols = i < 2 ? 6 : 3; /* local shapes: a/w [2, 6], b/w [4, 3] */
        for (int64_t r = pc[0].start[0]; i < 2 && r < pc[0].start[0] + pc[0].size[0]; r++)
            for (int64_t c = pc[0].start[1]; c < pc[0].start[1] + pc[0].size[1]; c++)
                mem[i][(r + pc[0].base[0]) * lcols + c + pc[0].base[1]] = (float)(1 + r * 6 + c);
        assert_int_equal(sw_bind_rank(s, rank, names[i], mem[i], sizeof mem[i], &err), SW_OK);
    }
    assert_int_equal(sw_sync(s, NULL, &err), SW_OK);
    int checked = 0;
    for (int i = 2; i < 4; i++) {
        assert_int_equal(sw_plan_pieces(p, i % 2, names[i], pc, 4, &n, &err), SW_OK);
        for (int64_t r = pc[0].start[0]; r < pc[0].start[0] + pc[0].size[0]; r++)
            for (int64_t c = pc[0].start[1]; c < pc[0].start[1] + pc[0].size[1]; c++, checked++)
                assert_true(mem[i][(r + pc[0].base[0]) * 3 + c + pc[0].base[1]] == (float)(1 + r * 6 + c));
    }
    assert_int_equal(checked, 24);
    sw_session_close(s);
    sw_plan_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_text_info),  cmocka_unit_test(test_compile_file_example),
        cmocka_unit_test(test_compile_errors),     cmocka_unit_test(test_serialize_load_rank),
        cmocka_unit_test(test_bind_tensor_checks), cmocka_unit_test(test_plan_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
