/* The nccl backend on one GPU (CTest label `gpu`): skips, exit 77, without a CUDA device.
 *  - the pack / unpack / copy kernels against the CPU's sw_exec_pack / sw_exec_unpack /
 *    sw_exec_copy on every rank of compiled conformance plans: bitwise equal;
 *  - a 1-rank communicator with a send to itself through the backend's post/wait;
 *  - a colocated plan (trainer and engine on the same rank and GPU: device copies only)
 *    through the public API, validated on the device, several syncs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cuda_runtime_api.h>
#include <glob.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_nccl.h"
#include "compile.h"
#include "load.h"
#include "exec.h"
#include "kernels.h"
#include "shardwave.h"
#include "data_validate.h"

#define CU(call) assert_int_equal((int)(call), 0)

static int compile_first(const char *path, int sync, sw_plan *p) {
    sw_ir ir;
    sw_error err;
    sw_load_opts lo = {NULL, 0};
    if (sw_load_file(path, &lo, &ir, &err)) fail_msg("%s: %s", path, err.msg);
    int n = (int)ir.nsyncs;
    if (sync < n) {
        sw_compile_params o = {.sync = sync, .bucket = 4096, .scheduler = SW_SCHED_OPTIMAL}; /* small chunks: many segments */
        if (sw_compile(&ir, &o, p, &err)) fail_msg("%s: compile: %s", path, err.msg);
    }
    sw_ir_free(&ir);
    return n;
}

static ncclComm_t one_rank_comm(void) {
    ncclUniqueId id;
    ncclComm_t c = NULL;
    assert_int_equal(ncclGetUniqueId(&id), ncclSuccess);
    assert_int_equal(ncclCommInitRank(&c, 1, id, 0), ncclSuccess);
    return c;
}

/* Device copies of every local of the plan (host contents), and their pointer table. */
static void **to_device(const sw_plan *p, void *const *host) {
    void **d = calloc(p->nlocals + 1, sizeof *d);
    assert_non_null(d);
    for (uint32_t i = 0; i < p->nlocals; i++) {
        size_t n = sw_plan_local_nbytes(&p->locals[i]);
        CU(cudaMalloc(&d[i], n + 1));
        CU(cudaMemcpy(d[i], host[i], n, cudaMemcpyHostToDevice));
    }
    return d;
}

/* Runs one wave's descriptors of a kind on the device (one launch). */
static void gpu_move(const sw_exec *x, size_t i, sw_segs_kind kind, void **ptrs_dev, uint8_t *staging) {
    size_t n = sw_exec_wave_descs(x, i, kind, NULL);
    if (!n) return;
    sw_seg_desc *h = calloc(n, sizeof *h);
    uint64_t *pre = calloc(n + 1, sizeof *pre);
    assert_true(h && pre);
    sw_exec_wave_descs(x, i, kind, h);
    for (size_t j = 0; j < n; j++) pre[j + 1] = pre[j] + sw_k_chunks(&h[j]);
    sw_seg_desc *dd;
    uint64_t *dp;
    CU(cudaMalloc((void **)&dd, n * sizeof *h));
    CU(cudaMalloc((void **)&dp, (n + 1) * sizeof *pre));
    CU(cudaMemcpy(dd, h, n * sizeof *h, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(dp, pre, (n + 1) * sizeof *pre, cudaMemcpyHostToDevice));
    CU(sw_k_move(dd, dp, (uint32_t)n, pre[n], ptrs_dev, staging, NULL));
    CU(cudaDeviceSynchronize());
    cudaFree(dd);
    cudaFree(dp);
    free(h);
    free(pre);
}

static size_t up16(size_t n) { return (n + SW_STAGING_ALIGN - 1) / SW_STAGING_ALIGN * SW_STAGING_ALIGN; }

/* Every wave of every rank: the kernels' staging bytes and destination tensors equal the
 * CPU's, bit for bit. */
static void kernels_vs_cpu(const sw_plan *p) {
    sw_error err;
    void **host = calloc(p->nlocals + 1, sizeof *host);
    assert_non_null(host);
    for (uint32_t i = 0; i < p->nlocals; i++) host[i] = calloc(sw_plan_local_nbytes(&p->locals[i]) + 1, 1);
    assert_int_equal(sw_data_fill(p, -1, host, &err), SW_OK);
    sw_data_poison(p, -1, host);
    void **dev = to_device(p, host);
    void **devtab;
    CU(cudaMalloc((void **)&devtab, (p->nlocals + 1) * sizeof *devtab));
    CU(cudaMemcpy(devtab, dev, p->nlocals * sizeof *dev, cudaMemcpyHostToDevice));
    for (uint32_t r = 0; r < p->nranks; r++) {
        sw_exec x;
        assert_int_equal(sw_exec_init(&x, p, p->ranks[r].rank, &err), SW_OK);
        size_t cap = (x.max_send > x.max_recv ? x.max_send : x.max_recv) + 16;
        uint8_t *a = calloc(cap, 1), *b = calloc(cap, 1), *stg;
        CU(cudaMalloc((void **)&stg, cap));
        for (size_t i = 0; i < x.nwaves; i++) {
            /* pack */
            size_t off = 0;
            for (size_t k = x.wave0[i]; k < x.wave0[i + 1]; k++) {
                const sw_plan_task *t = &p->tasks[x.tasks[k]];
                if (t->src != x.rank || t->dst == x.rank) continue;
                size_t start = off; /* segments at multiples of their element size (plan.h) */
                for (uint32_t s = 0; s < t->nseg; s++) {
                    const sw_plan_seg *g = &p->segs[t->seg0 + s];
                    off = start + (size_t)sw_plan_seg_start(off - start, sw_plan_xfer_esize(p, &p->xfers[g->xfer]));
                    off += sw_exec_pack(p, g, host, a + off);
                }
                assert_int_equal(off - start, t->bytes);
                off = up16(off);
            }
            CU(cudaMemset(stg, 0, cap));
            memset(b, 0, cap);
            gpu_move(&x, i, SW_SEGS_PACK, devtab, stg);
            CU(cudaMemcpy(b, stg, off, cudaMemcpyDeviceToHost));
            /* the padding between segments is written by neither: compare the segments */
            size_t nd = sw_exec_wave_descs(&x, i, SW_SEGS_PACK, NULL);
            sw_seg_desc *dd = calloc(nd + 1, sizeof *dd);
            assert_non_null(dd);
            sw_exec_wave_descs(&x, i, SW_SEGS_PACK, dd);
            for (size_t j = 0; j < nd; j++)
                if (memcmp(a + dd[j].buf_off, b + dd[j].buf_off, (size_t)sw_seg_bytes(&dd[j], 1)))
                    fail_msg("rank %d wave %zu: the pack kernel differs from sw_exec_pack (descriptor %zu)", x.rank, i,
                             j);
            free(dd);
            /* unpack arbitrary bytes (NaN patterns included) and copies */
            off = 0;
            for (size_t k = 0; k < cap; k++) a[k] = (uint8_t)(k * 131u + i * 7u + 3u);
            CU(cudaMemcpy(stg, a, cap, cudaMemcpyHostToDevice));
            for (size_t k = x.wave0[i]; k < x.wave0[i + 1]; k++) {
                const sw_plan_task *t = &p->tasks[x.tasks[k]];
                if (t->dst == x.rank && t->src != x.rank) {
                    uint64_t at = 0;
                    for (uint32_t s = 0; s < t->nseg; s++) {
                        const sw_plan_seg *g = &p->segs[t->seg0 + s];
                        uint64_t es = sw_plan_xfer_esize(p, &p->xfers[g->xfer]);
                        at = sw_plan_seg_start(at, es);
                        assert_int_equal(sw_exec_unpack(p, g, host, a + off + at, &err), SW_OK);
                        at += g->nelem * es;
                    }
                    off = up16(off + t->bytes);
                }
                if (t->dst == x.rank && t->src == x.rank)
                    for (uint32_t s = 0; s < t->nseg; s++)
                        assert_int_equal(sw_exec_copy(p, &p->segs[t->seg0 + s], host, &err), SW_OK);
            }
            gpu_move(&x, i, SW_SEGS_UNPACK, devtab, stg);
            gpu_move(&x, i, SW_SEGS_COPY, devtab, NULL);
        }
        cudaFree(stg);
        free(a);
        free(b);
        sw_exec_free(&x);
    }
    for (uint32_t i = 0; i < p->nlocals; i++) {
        size_t n = sw_plan_local_nbytes(&p->locals[i]);
        uint8_t *got = malloc(n + 1);
        assert_non_null(got);
        CU(cudaMemcpy(got, dev[i], n, cudaMemcpyDeviceToHost));
        if (memcmp(got, host[i], n)) fail_msg("local %u (%s of rank %d): the kernels' result differs from the CPU's", i,
                                             p->locals[i].name, p->locals[i].rank);
        free(got);
        cudaFree(dev[i]);
        free(host[i]);
    }
    cudaFree(devtab);
    free(dev);
    free(host);
}

static void test_kernels_vs_cpu(void **state) {
    (void)state;
    glob_t g;
    /* the conformance cases (tests/conformance, a copy of the public suite's inputs) and
     * the mixed-dtype plans */
    if (glob(SW_SOURCE_DIR "/tests/conformance/cases/*.yaml", 0, NULL, &g) != 0) {
        printf("kernels_vs_cpu: no conformance cases at %s/tests/conformance: the mixed-dtype plans only\n", SW_SOURCE_DIR);
        g.gl_pathc = 0;
    }
    for (size_t i = 0; i < g.gl_pathc; i++) {
        int n = 1;
        for (int s = 0; s < n; s++) {
            sw_plan p;
            memset(&p, 0, sizeof p);
            n = compile_first(g.gl_pathv[i], s, &p);
            kernels_vs_cpu(&p);
            sw_plan_free(&p);
        }
    }
    if (g.gl_pathc) globfree(&g);
    /* messages that mix element sizes (review F2): before segments were aligned, an fp32
     * element of review_f2.sw sat at staging byte 611, a misaligned-address fault */
    static const char *mixed[] = {"review_f2.sw", "fp8_scales.sw", "norms_bf16.yaml"};
    for (size_t f = 0; f < sizeof mixed / sizeof *mixed; f++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/mixed/%s", SW_SOURCE_DIR, mixed[f]);
        int n = 1;
        for (int s = 0; s < n; s++) {
            sw_plan p;
            memset(&p, 0, sizeof p);
            n = compile_first(path, s, &p);
            kernels_vs_cpu(&p);
            sw_plan_free(&p);
        }
    }
}

static void test_self_send(void **state) {
    (void)state;
    ncclComm_t comm = one_rank_comm();
    sw_nccl_ctx *c = NULL;
    sw_backend b;
    sw_error err;
    sw_session_opts so = {.struct_size = sizeof so, .timeout_s = 20, .nccl_comm = comm};
    assert_int_equal(sw_nccl_open(&c, &b, NULL, 0, &so, NULL, &err), SW_OK);
    enum { N = 1 << 20 };
    uint8_t *h = malloc(N), *back = calloc(N, 1), *src, *dst;
    for (size_t i = 0; i < N; i++) h[i] = (uint8_t)(i * 2654435761u >> 13);
    CU(cudaMalloc((void **)&src, N));
    CU(cudaMalloc((void **)&dst, N));
    CU(cudaMemcpy(src, h, N, cudaMemcpyHostToDevice));
    CU(cudaMemset(dst, 0, N));
    assert_int_equal(sw_nccl_begin(c, NULL, NULL, &err), SW_OK);
    sw_msg send = {0, 0, src, N, NULL, 0}, recv = {0, 0, dst, N, NULL, 0};
    if (b.post(b.ctx, 0, 0, &send, 1, &recv, 1, &err) || b.wait(b.ctx, 0, 0, &err)) fail_msg("self send: %s", err.msg);
    assert_int_equal(sw_nccl_end(c, NULL, &err), SW_OK);
    CU(cudaMemcpy(back, dst, N, cudaMemcpyDeviceToHost));
    assert_memory_equal(back, h, N);
    sw_nccl_close(c);
    ncclCommDestroy(comm);
    cudaFree(src);
    cudaFree(dst);
    free(h);
    free(back);
}

static void test_colocated_session(void **state) {
    (void)state;
    sw_plan p;
    compile_first(SW_SOURCE_DIR "/tests/gpu/colocated_1gpu.sw", 0, &p);
    ncclComm_t comm = one_rank_comm();
    sw_session_opts so = {.struct_size = sizeof so, .timeout_s = 20, .nccl_comm = comm};
    sw_session *s = NULL;
    sw_error err;
    if (sw_session_open(&s, &p, 0, SW_BACKEND_NCCL, &so, &err)) fail_msg("open: %s", err.msg);
    void **ptrs = calloc(p.nlocals + 1, sizeof *ptrs);
    assert_non_null(ptrs);
    for (uint32_t i = 0; i < p.nlocals; i++) {
        const sw_plan_local *l = &p.locals[i];
        size_t n = sw_plan_local_nbytes(l);
        CU(cudaMalloc(&ptrs[i], n + 1));
        char q[512];
        snprintf(q, sizeof q, "%s/%s", l->role == SW_ROLE_SRC ? p.from : p.to, l->name);
        assert_int_equal(sw_bind(s, q, ptrs[i], n, &err), SW_OK);
    }
    assert_int_equal(sw_nccl_validate_fill(&p, 0, ptrs, &err), SW_OK);
    cudaStream_t st;
    CU(cudaStreamCreate(&st));
    for (int it = 0; it < 3; it++)
        if (sw_sync(s, st, &err)) fail_msg("sync %d: %s", it + 1, err.msg);
    CU(cudaStreamSynchronize(st));
    sw_data_report rep;
    assert_int_equal(sw_nccl_validate_check(&p, 0, ptrs, &rep, &err), SW_OK);
    uint64_t want = 0;
    for (uint32_t x = 0; x < p.nxfers; x++) want += p.xfers[x].nelem;
    assert_true(rep.checked == want && want > 0);
    if (rep.bad) {
        char buf[512];
        sw_data_describe(&p, &rep.shown[0], buf, sizeof buf);
        fail_msg("%llu of %llu elements wrong, first: %s", (unsigned long long)rep.bad,
                 (unsigned long long)rep.checked, buf);
    }
    /* the device check catches a wrong element too */
    CU(cudaMemset(ptrs[p.nlocals - 1], 0x5A, 2));
    assert_int_equal(sw_nccl_validate_check(&p, 0, ptrs, &rep, &err), SW_OK);
    assert_true(rep.bad >= 1);
    /* the public validation calls fill and check on the device with an nccl session (the
     * plugin's device validation) */
    uint64_t checked = 0;
    assert_int_equal(sw_validation_check(s, &checked, &err), SW_MISMATCH);
    assert_int_equal(sw_validation_fill(s, &err), SW_OK);
    assert_int_equal(sw_sync(s, st, &err), SW_OK);
    CU(cudaStreamSynchronize(st));
    if (sw_validation_check(s, &checked, &err)) fail_msg("sw_validation_check: %s", err.msg);
    assert_true(checked == want);
    sw_session_close(s);
    CU(cudaStreamDestroy(st));
    for (uint32_t i = 0; i < p.nlocals; i++) cudaFree(ptrs[i]);
    free(ptrs);
    ncclCommDestroy(comm);
    sw_plan_free(&p);
}

/* Review F1 on the device: a cudaEventQuery that says "not ready" leaves
 * cudaErrorNotReady as the thread's last error; the launchers must not report it as a
 * failed launch.  A 256 MiB byte copy keeps the GPU busy while the event is queried. */
static void test_not_ready_is_not_a_launch_failure(void **state) {
    (void)state;
    const size_t N = (size_t)256 << 20;
    uint8_t *a, *b;
    CU(cudaMalloc((void **)&a, N));
    CU(cudaMalloc((void **)&b, N));
    sw_seg_desc d;
    memset(&d, 0, sizeof d);
    d.geo.ndim = 1;
    d.geo.size[0] = (int64_t)N;
    d.nelem = N;
    d.local[0] = SW_SEG_STAGING;
    d.local[1] = SW_SEG_STAGING;
    d.dtype[0] = d.dtype[1] = (int32_t)SW_DT_UINT8;
    d.flags = SW_SEG_BYTECOPY;
    /* staging to staging: a byte copy within one buffer, first half to second half */
    d.nelem = N / 2;
    d.geo.size[0] = (int64_t)(N / 2);
    sw_seg_desc *dd;
    uint64_t pre[2] = {0, sw_k_chunks(&d)}, *dp;
    CU(cudaMalloc((void **)&dd, sizeof d));
    CU(cudaMalloc((void **)&dp, sizeof pre));
    CU(cudaMemcpy(dd, &d, sizeof d, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(dp, pre, sizeof pre, cudaMemcpyHostToDevice));
    cudaEvent_t ev;
    CU(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming));
    int saw_not_ready = 0;
    for (int k = 0; k < 20 && !saw_not_ready; k++) {
        CU(sw_k_move(dd, dp, 1, pre[1], NULL, a, NULL));
        CU(cudaEventRecord(ev, NULL));
        if (cudaEventQuery(ev) == cudaErrorNotReady) {
            saw_not_ready = 1;
            /* the stale NotReady is in the thread's error slot now */
            assert_int_equal((int)cudaPeekAtLastError(), (int)cudaErrorNotReady);
            /* the next launch reports its own result */
            assert_int_equal(sw_k_move(dd, dp, 1, pre[1], NULL, b, NULL), 0);
        }
        CU(cudaDeviceSynchronize());
    }
    printf("F1 probe: cudaEventQuery said not ready: %s\n", saw_not_ready ? "yes (launch afterwards: ok)" : "never");
    cudaEventDestroy(ev);
    cudaFree(dd);
    cudaFree(dp);
    cudaFree(a);
    cudaFree(b);
}

int main(void) {
    sw_error err;
    if (sw_nccl_have_device(&err)) {
        printf("SKIP: test_nccl: %s\n", err.msg);
        return 77; /* CTest SKIP_RETURN_CODE */
    }
    if (cudaSetDevice(0) != cudaSuccess) {
        printf("SKIP: test_nccl: cudaSetDevice(0) failed\n");
        return 77;
    }
    if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER")); /* tests/gpu/first-run.sh */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_ready_is_not_a_launch_failure),
        cmocka_unit_test(test_kernels_vs_cpu),
        cmocka_unit_test(test_self_send),
        cmocka_unit_test(test_colocated_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
