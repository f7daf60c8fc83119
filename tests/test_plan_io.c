#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plan_fixture.h"
#include "plan_io.h"
#include "plan_verify.h"

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void build(sw_plan *p) { assert_int_equal(fx_build(p), 0); }

static void eq_side(const sw_plan_side *a, const sw_plan_side *b, int nd) {
    assert_int_equal(a->local, b->local);
    for (int j = 0; j < nd; j++) {
        assert_int_equal(a->map[j], b->map[j]);
        assert_int_equal(a->base[j], b->base[j]);
    }
}

/* Deep equality of two plans (only the meaningful dims of every array). */
static void plan_eq(const sw_plan *a, const sw_plan *b) {
    assert_string_equal(a->model, b->model);
    assert_string_equal(a->sync, b->sync);
    assert_string_equal(a->from, b->from);
    assert_string_equal(a->to, b->to);
    assert_int_equal(a->scheduler, b->scheduler);
    assert_memory_equal(&a->topo.link, &b->topo.link, sizeof a->topo.link);
    assert_int_equal(a->topo.gpus_per_nic, b->topo.gpus_per_nic);
    assert_int_equal(a->bucket, b->bucket);
    assert_memory_equal(a->chunk, b->chunk, sizeof a->chunk);
    assert_int_equal(a->nwaves, b->nwaves);
    assert_memory_equal(&a->stats, &b->stats, sizeof a->stats);
    assert_int_equal(a->ntensors, b->ntensors);
    for (uint32_t i = 0; i < a->ntensors; i++) {
        assert_string_equal(a->tensors[i].name, b->tensors[i].name);
        assert_int_equal(a->tensors[i].dtype, b->tensors[i].dtype);
        assert_int_equal(a->tensors[i].ndim, b->tensors[i].ndim);
        assert_memory_equal(a->tensors[i].shape, b->tensors[i].shape, (size_t)a->tensors[i].ndim * 8);
    }
    assert_int_equal(a->nranks, b->nranks);
    if (a->nranks) assert_memory_equal(a->ranks, b->ranks, a->nranks * sizeof *a->ranks);
    assert_int_equal(a->nlocals, b->nlocals);
    for (uint32_t i = 0; i < a->nlocals; i++) {
        const sw_plan_local *x = &a->locals[i], *y = &b->locals[i];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->rank, y->rank);
        assert_int_equal(x->role, y->role);
        assert_int_equal(x->dtype, y->dtype);
        assert_int_equal(x->ndim, y->ndim);
        assert_memory_equal(x->shape, y->shape, (size_t)x->ndim * 8);
        assert_int_equal(x->piece0, y->piece0);
        assert_int_equal(x->npieces, y->npieces);
        for (uint32_t q = x->piece0; q < x->piece0 + x->npieces; q++) {
            const sw_plan_piece *u = &a->pieces[q], *v = &b->pieces[q];
            assert_int_equal(u->tensor, v->tensor);
            int tn = a->tensors[u->tensor].ndim;
            assert_memory_equal(u->start, v->start, (size_t)tn * 8);
            assert_memory_equal(u->size, v->size, (size_t)tn * 8);
            assert_memory_equal(u->map, v->map, (size_t)x->ndim);
            assert_memory_equal(u->base, v->base, (size_t)x->ndim * 8);
        }
    }
    assert_int_equal(a->npieces, b->npieces);
    assert_int_equal(a->nxfers, b->nxfers);
    for (uint32_t i = 0; i < a->nxfers; i++) {
        const sw_plan_xfer *x = &a->xfers[i], *y = &b->xfers[i];
        int tn = a->tensors[x->tensor].ndim;
        assert_int_equal(x->tensor, y->tensor);
        assert_memory_equal(x->start, y->start, (size_t)tn * 8);
        assert_memory_equal(x->size, y->size, (size_t)tn * 8);
        assert_int_equal(x->nelem, y->nelem);
        assert_int_equal(x->src_rank, y->src_rank);
        assert_int_equal(x->dst_rank, y->dst_rank);
        eq_side(&x->src, &y->src, a->locals[x->src.local].ndim);
        eq_side(&x->dst, &y->dst, a->locals[x->dst.local].ndim);
    }
    assert_int_equal(a->nsegs, b->nsegs);
    if (a->nsegs) assert_memory_equal(a->segs, b->segs, a->nsegs * sizeof *a->segs);
    assert_int_equal(a->ntasks, b->ntasks);
    for (uint32_t i = 0; i < a->ntasks; i++) {
        const sw_plan_task *x = &a->tasks[i], *y = &b->tasks[i];
        assert_int_equal(x->src, y->src);
        assert_int_equal(x->dst, y->dst);
        assert_int_equal(x->cls, y->cls);
        assert_int_equal(x->relay, y->relay);
        assert_int_equal(x->wave, y->wave);
        assert_int_equal(x->seg0, y->seg0);
        assert_int_equal(x->nseg, y->nseg);
        assert_int_equal(x->bytes, y->bytes);
        assert_int_equal(x->dep0, y->dep0);
        assert_int_equal(x->ndep, y->ndep);
    }
    assert_int_equal(a->ndeps, b->ndeps);
    if (a->ndeps) assert_memory_equal(a->deps, b->deps, a->ndeps * sizeof *a->deps);
}

static void serialize(const sw_plan *p, uint8_t **buf, size_t *len) {
    sw_error err;
    if (sw_plan_write_mem(p, buf, len, &err) != SW_OK) fail_msg("write: %s", err.msg);
}

static void test_round_trip_mem(void **state) {
    (void)state;
    sw_plan p, q;
    build(&p);
    uint8_t *buf;
    size_t len;
    serialize(&p, &buf, &len);
    assert_memory_equal(buf, SW_PLAN_MAGIC, 8);
    sw_error err;
    sw_plan_file_info info;
    if (sw_plan_read_mem_ex(&q, buf, len, "t.swp", -1, &info, &err)) fail_msg("read: %s", err.msg);
    plan_eq(&p, &q);
    assert_int_equal(info.ntasks, 5);
    assert_int_equal(info.size, len);
    assert_int_equal(sw_plan_verify(&q, &err), SW_OK);
    /* writing the read plan gives the same bytes */
    uint8_t *buf2;
    size_t len2;
    serialize(&q, &buf2, &len2);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf);
    free(buf2);
    sw_plan_free(&p);
    sw_plan_free(&q);
}

static void test_round_trip_file(void **state) {
    (void)state;
    sw_plan p, q;
    build(&p);
    char path[] = "/tmp/sw_plan_io_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sw_error err;
    if (sw_plan_write(&p, path, &err)) fail_msg("write: %s", err.msg);
    if (sw_plan_read(&q, path, -1, &err)) fail_msg("read: %s", err.msg);
    plan_eq(&p, &q);
    sw_plan_free(&q);
    /* one rank, read from the file by seeking */
    sw_plan_file_info info;
    if (sw_plan_read_ex(&q, path, 3, &info, &err)) fail_msg("read rank 3: %s", err.msg);
    assert_int_equal(q.ntasks, 3); /* T1 1->3, T2 0->3, T4 2->3 */
    assert_int_equal(info.ntasks, 5);
    assert_int_equal(info.only_rank, 3);
    assert_int_equal(q.tasks[2].src, 2);
    assert_int_equal(q.tasks[2].ndep, 0); /* its dep (T0, 0->2) is not rank 3's */
    sw_plan_free(&q);
    assert_int_equal(sw_plan_read(&q, "/nonexistent/x.swp", -1, &err), SW_IO);
    unlink(path);
    /* leave the fixture in the build folder for tests/e2e/plan_tools.sh */
    if (sw_plan_write(&p, SW_BINARY_DIR "/tiny_plan.swp", &err)) fail_msg("write: %s", err.msg);
    sw_plan_free(&p);
}

static void test_only_rank(void **state) {
    (void)state;
    sw_plan p, q;
    build(&p);
    uint8_t *buf;
    size_t len;
    serialize(&p, &buf, &len);
    sw_error err;
    if (sw_plan_read_mem(&q, buf, len, "t.swp", 2, &err)) fail_msg("read: %s", err.msg);
    /* rank 2: T0 (0->2), T3 (1->2), T4 (2->3) in wave order */
    assert_int_equal(q.ntasks, 3);
    assert_int_equal(q.tasks[0].src, 0);
    assert_int_equal(q.tasks[1].src, 1);
    assert_int_equal(q.tasks[2].src, 2);
    assert_int_equal(q.tasks[1].nseg, 2);
    assert_int_equal(q.nsegs, 5); /* T0 2, T3 2, T4 1 */
    assert_int_equal(q.tasks[2].ndep, 1);
    assert_int_equal(q.deps[q.tasks[2].dep0], 0); /* renumbered: T0 is task 0 here */
    /* its own locals (b, w) then stand-ins for the locals of other ranks that its
     * transfers reference: ranks 0 (b, w) and 1 (w) send to it, it forwards to 3 (b) */
    assert_int_equal(q.nlocals, 6);
    assert_int_equal(q.npieces, 2);
    assert_string_equal(q.locals[0].name, "b");
    assert_int_equal(q.locals[1].rank, 2);
    assert_int_equal(q.locals[1].remote, 0);
    static const int32_t stub_rank[4] = {0, 0, 1, 3};
    for (int k = 0; k < 4; k++) {
        assert_int_equal(q.locals[2 + k].remote, 1);
        assert_int_equal(q.locals[2 + k].rank, stub_rank[k]);
        assert_int_equal(q.locals[2 + k].npieces, 0);
    }
    assert_int_equal(q.locals[5].dtype, SW_DT_BF16); /* what a receiver needs: the source dtype */
    assert_int_equal(q.dtypes, 1u << SW_DT_FP32 | 1u << SW_DT_BF16);
    for (uint32_t i = 0; i < q.ntasks; i++)
        for (uint32_t k = 0; k < q.tasks[i].nseg; k++) {
            const sw_plan_xfer *x = &q.xfers[q.segs[q.tasks[i].seg0 + k].xfer];
            assert_int_equal(x->src_rank, q.tasks[i].src);
            assert_int_equal(x->dst_rank, q.tasks[i].dst);
        }
    assert_memory_equal(&q.stats, &p.stats, sizeof p.stats);
    sw_plan_free(&q);
    /* rank 0 only sends */
    if (sw_plan_read_mem(&q, buf, len, "t.swp", 0, &err)) fail_msg("read: %s", err.msg);
    assert_int_equal(q.ntasks, 2);
    sw_plan_free(&q);
    assert_int_equal(sw_plan_read_mem(&q, buf, len, "t.swp", 9, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "rank 9 takes no part"));
    free(buf);
    sw_plan_free(&p);
}

static void test_empty_plan(void **state) {
    (void)state;
    sw_plan p, q;
    memset(&p, 0, sizeof p);
    p.model = "m";
    uint8_t *buf;
    size_t len;
    serialize(&p, &buf, &len);
    sw_error err;
    if (sw_plan_read_mem(&q, buf, len, "e.swp", -1, &err)) fail_msg("read: %s", err.msg);
    assert_string_equal(q.model, "m");
    assert_string_equal(q.sync, "");
    assert_int_equal(q.ntasks, 0);
    free(buf);
    sw_plan_free(&q);
}

static void test_write_invalid(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.segs[0].xfer = 99;
    uint8_t *buf;
    size_t len;
    sw_error err;
    assert_int_equal(sw_plan_write_mem(&p, &buf, &len, &err), SW_INTERNAL);
    assert_non_null(strstr(err.msg, "segment 0 references transfer 99 of 6"));
    sw_plan_free(&p);
}

/* Locals sorted by (rank, role, name) and unique (found by fuzz_plan: a plan with one
 * rank's local renamed onto another's read and verified, then that tensor could not be
 * bound: the index of names keeps one of them). */
static void test_locals_order(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    sw_error err;
    assert_int_equal(sw__plan_struct_check(&p, "plan", SW_INTERNAL, &err), SW_OK);
    p.locals[4].name = "b"; /* rank 2's destination 'w' becomes a second 'b' */
    assert_int_equal(sw__plan_struct_check(&p, "plan", SW_CORRUPT, &err), SW_CORRUPT);
    assert_non_null(strstr(err.msg, "plan: local 4: rank 2 holds two destination tensors named 'b'"));
    uint8_t *buf;
    size_t len;
    assert_int_equal(sw_plan_write_mem(&p, &buf, &len, &err), SW_INTERNAL); /* the writer refuses it too */
    p.locals[4].name = "a"; /* 'a' after 'b' */
    assert_int_equal(sw__plan_struct_check(&p, "plan", SW_CORRUPT, &err), SW_CORRUPT);
    assert_non_null(strstr(err.msg, "local 4 'a' of rank 2 is out of order"));
    sw_plan_free(&p);
}

/* Size products fit in int64 (found by fuzz_plan: a tensor of [2^62 + 32, 16] read, and
 * validation computed its strides with a signed overflow). */
static void test_huge_tensor(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    sw_error err;
    p.tensors[1].shape[0] = ((int64_t)1 << 62) + 32; /* b bf16: 2^63 + 64 bytes */
    assert_int_equal(sw__plan_struct_check(&p, "plan", SW_CORRUPT, &err), SW_CORRUPT);
    assert_non_null(strstr(err.msg, "plan: tensor 1 'b' has more than 2^63 bytes"));
    p.tensors[1].shape[0] = 4;
    p.locals[0].shape[0] = (int64_t)1 << 62; /* local 'b' of rank 0, bf16 */
    assert_int_equal(sw__plan_struct_check(&p, "plan", SW_CORRUPT, &err), SW_CORRUPT);
    assert_non_null(strstr(err.msg, "plan: local 0 'b' has more than 2^63 bytes"));
    sw_plan_free(&p);
}

static void expect_corrupt(const uint8_t *buf, size_t len, int32_t rank, const char *want) {
    sw_plan q;
    sw_error err;
    memset(&err, 0, sizeof err);
    int rc = sw_plan_read_mem(&q, buf, len, "x.swp", rank, &err);
    if (rc != SW_CORRUPT) fail_msg("expected SW_CORRUPT, got %d (%s)", rc, err.msg);
    if (want && !strstr(err.msg, want)) fail_msg("expected '%s' in: %s", want, err.msg);
    assert_null(q.tasks);
}

static void test_header_errors(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    uint8_t *buf;
    size_t len;
    serialize(&p, &buf, &len);
    buf[0] = 'X';
    expect_corrupt(buf, len, -1, "plan 'x.swp': not a shardwave plan (bad magic)");
    buf[0] = 'S';
    buf[8] = 7;
    expect_corrupt(buf, len, -1, "format version 7, this build reads version 2");
    buf[8] = 2;
    buf[len - 1] ^= 0x40;
    expect_corrupt(buf, len, -1, "checksum mismatch");
    expect_corrupt(buf, len, 3, "checksum mismatch in the section of rank 3");
    buf[len - 1] ^= 0x40;
    expect_corrupt(buf, len - 1, -1, "truncated or extended");
    expect_corrupt(buf, 10, -1, "too short for a plan file");
    free(buf);
    sw_plan_free(&p);
}

/* Rewrites a task's segment count behind the checksum and reseals: the validator must
 * name the task and the segment. */
static void test_validator_messages(void **state) {
    (void)state;
    sw_plan p;
    build(&p);
    p.tasks[3].nseg = 1; /* T3 carries X1 in one short segment (invalid plan, valid file) */
    /* its bytes follow its one segment: a task whose bytes are not where its segments end
     * is a structural error (plan.h, sw_plan_seg_start), which this test is not about */
    p.tasks[3].bytes = p.segs[p.tasks[3].seg0].nelem * (uint64_t)sw_plan_xfer_esize(&p, &p.xfers[p.segs[p.tasks[3].seg0].xfer]);
    uint8_t *buf;
    size_t len;
    serialize(&p, &buf, &len);
    /* find T3's record in the section of rank 1 (varints, ranks relative to the section's,
     * the wave relative to the previous task's): index +2 after T1, src +0, dst +1, class,
     * wave +1, its bytes (one varint byte), seg0 4, nseg 1 */
    assert_true(p.tasks[3].bytes < 128);
    const uint8_t pat[] = {2, 0, 2, SW_LINK_NETWORK, 2, (uint8_t)p.tasks[3].bytes, 4, 1};
    size_t at = 0;
    for (size_t i = 0; i + sizeof pat < len; i++)
        if (!memcmp(buf + i, pat, sizeof pat)) {
            at = i;
            break;
        }
    assert_true(at > 0);
    size_t nseg_at = at + 7;
    buf[nseg_at] = 0x7f; /* nseg = 127: beyond the plan's segments */
    sw__plan_io_reseal(buf, len);
    expect_corrupt(buf, len, -1, "task 3 references segment 130 of 7");
    buf[nseg_at] = 1;
    /* a segment pointing at a transfer the section does not hold */
    size_t seg_xfer_at = nseg_at + 1;
    buf[seg_xfer_at] = 0x7f;
    sw__plan_io_reseal(buf, len);
    expect_corrupt(buf, len, -1, "plan 'x.swp': task 3 segment 0 references transfer 127 of the 2 of the section of rank 1");
    expect_corrupt(buf, len, 1, "task 3 segment 0 references transfer 127 of the 2 of the section of rank 1");
    free(buf);
    sw_plan_free(&p);
}

/* Every truncation, many byte flips (with and without resealing the checksums), random
 * garbage: SW_CORRUPT or (resealed) a plan that passes the structural check; never a
 * crash (this test also runs under ASan + UBSan). */
static void test_fuzz(void **state) {
    (void)state;
    sw_plan p, q;
    build(&p);
    uint8_t *buf;
    size_t len;
    serialize(&p, &buf, &len);
    sw_error err;
    for (size_t n = 0; n < len; n++) {
        uint8_t *t = malloc(n ? n : 1);
        memcpy(t, buf, n);
        expect_corrupt(t, n, -1, NULL);
        int rc = sw_plan_read_mem(&q, t, n, "x.swp", 2, &err);
        assert_true(rc == SW_CORRUPT);
        free(t);
    }
    uint8_t *m = malloc(len);
    uint64_t seed = 42;
    int ok_after_reseal = 0, corrupt_after_reseal = 0;
    for (size_t i = 0; i < len; i++) {
        static const uint8_t flips[] = {0x01, 0x80, 0xff, 0x10};
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(m, buf, len);
            m[i] ^= flips[f];
            expect_corrupt(m, len, -1, NULL);
            if (sw__plan_io_reseal(m, len) == 0) {
                for (int32_t r = -1; r < 4; r++) {
                    int rc = sw_plan_read_mem(&q, m, len, "x.swp", r, &err);
                    assert_true(rc == SW_OK || rc == SW_CORRUPT || rc == SW_USAGE);
                    if (rc == SW_OK) {
                        assert_int_equal(sw__plan_struct_check(&q, "plan", SW_INTERNAL, &err), SW_OK);
                        (void)sw_plan_verify(&q, &err);
                        sw_plan_free(&q);
                        ok_after_reseal++;
                    } else {
                        corrupt_after_reseal++;
                    }
                }
            }
        }
        /* a random 32-bit value at a random offset, resealed */
        memcpy(m, buf, len);
        size_t at = (size_t)(splitmix(&seed) % (len - 4));
        uint32_t v = (uint32_t)splitmix(&seed);
        memcpy(m + at, &v, 4);
        sw__plan_io_reseal(m, len);
        for (int32_t r = -1; r < 4; r++)
            if (sw_plan_read_mem(&q, m, len, "x.swp", r, &err) == SW_OK) sw_plan_free(&q);
    }
    assert_true(corrupt_after_reseal > 0);
    (void)ok_after_reseal;
    /* random garbage, with and without a valid preamble */
    for (int it = 0; it < 2000; it++) {
        size_t n = (size_t)(splitmix(&seed) % (len * 2));
        uint8_t *g = malloc(n + 1);
        for (size_t i = 0; i < n; i++) g[i] = (uint8_t)splitmix(&seed);
        if (it % 2 && n >= 64) {
            memcpy(g, buf, 64 < n ? 64 : n);
            uint64_t nn = n;
            for (int k = 0; k < 8; k++) g[16 + k] = (uint8_t)(nn >> (8 * k));
            sw__plan_io_reseal(g, n);
        }
        for (int32_t r = -1; r < 4; r++) {
            int rc = sw_plan_read_mem(&q, g, n, "g.swp", r, &err);
            if (rc == SW_OK) sw_plan_free(&q);
            else assert_true(rc == SW_CORRUPT || rc == SW_USAGE);
        }
        free(g);
    }
    free(m);
    free(buf);
    sw_plan_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_mem),  cmocka_unit_test(test_round_trip_file),
        cmocka_unit_test(test_only_rank),       cmocka_unit_test(test_empty_plan),
        cmocka_unit_test(test_write_invalid),   cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_validator_messages), cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_locals_order),     cmocka_unit_test(test_huge_tensor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
