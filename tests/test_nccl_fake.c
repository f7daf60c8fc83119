/*
 * The nccl backend on the CPU, over a fake CUDA runtime and NCCL (tests/fake/fake_cuda.h):
 * the real backend code (runtime/nccl/ (its .c files)) in a copy of the plugin whose CUDA and NCCL
 * calls resolve to this program's fakes, every rank a thread, sessions through the
 * public API.  What the review's findings need on the CPU:
 *   F1  no cudaErrorNotReady left in a thread's error slot by the backend's polling;
 *   F2  mixed-dtype plans through the device path (the fake faults on a misaligned
 *       element, as a GPU does);
 *   F3  routes (who shares a GPU, NCCL or CUDA IPC, the duplicate-GPU check naming both
 *       ranks), colocated plans served through CUDA IPC (the rendezvous, its order, a
 *       peer that never comes), the MPI bootstrap's gathers with a fake group;
 *   F4  the session's device made current in every call and the caller's restored; an
 *       adopted communicator on another device refused;
 *   F5  the host posts waves ahead (several groups queued per communicator), one wait at
 *       the end;
 *   F7  a changed pointer table reaches the kernels on a caller's non-blocking stream;
 *   F8  ncclSend / ncclGroupEnd failures named and the communicator aborted; an old NCCL
 *       refused; timeouts name the wave and the peer;
 *   F11 a kernel fault reported as this device's CUDA error, not NCCL's;
 *   F12 pack -> send -> receive -> unpack with real messages, validated element by
 *       element (on the "device": the validation kernels' fakes);
 * and issue 12's bootstrap without MPI: sw_nccl_unique_id, comm_size and comm_rank_of,
 * checked with clear messages before any NCCL call.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "fake_cuda.h"
#include "nccl_route.h"
#include "plan.h"
#include "plugin.h"
#include "data_validate.h"
#include "shardwave.h"

static sw_plan *compile_d(const char *path, const char *sync, int64_t bucket, const sw_define *defs, size_t ndefs) {
    sw_compile_options o = {.struct_size = sizeof o, .sync = sync, .bucket = bucket, .defines = defs, .ndefines = ndefs};
    sw_plan *p = NULL;
    sw_error err;
    char full[512];
    snprintf(full, sizeof full, "%s/%s", SW_SOURCE_DIR, path);
    if (sw_compile_file(&p, full, &o, &err)) fail_msg("%s: %s", full, err.msg);
    return p;
}

static sw_plan *compile(const char *path, const char *sync, int64_t bucket) {
    return compile_d(path, sync, bucket, NULL, 0);
}

/* norms_bf16 at 390 rows and 4 layers: 29 waves at the smallest bucket (4 KiB), messages
 * of odd sizes mixing element sizes 1, 2, 4 and 8 */
static const sw_define many_waves[] = {{"rows", 390}, {"layers", 4}};

/* ---- ranks as threads ----------------------------------------------------------------- */

typedef enum { DEV_RANK, DEV_PLAN, DEV_PLAN_HOSTS } dev_rule;

typedef struct job {
    const sw_plan *plan;
    int rank, device, other_device; /* other_device >= 0: made current before every call (F4) */
    int iters;
    double timeout;
    const uint8_t *uid;
    const int32_t *map;
    size_t nmap;
    int comm_size;
    int nonblocking_stream, rebind; /* F7 */
    int leave_not_ready;            /* F1: the caller leaves cudaErrorNotReady behind */
    /* results */
    int rc_open, rc_sync, rc_check, dev_after;
    uint64_t checked;
    int last_error;
    char msg[1536];
} job;

static int device_for(const sw_plan *p, int rank, dev_rule rule) {
    int32_t i = sw_plan_rank_index(p, rank);
    if (rule == DEV_RANK || i < 0) return rank;
    if (rule == DEV_PLAN) return p->ranks[i].device;
    return p->ranks[i].host * 2 + p->ranks[i].device;
}

/* Device tensors of the rank, bound by "LAYOUT/NAME". */
static void **bind_all(sw_session *s, const sw_plan *p, int rank, sw_error *err, int *rc) {
    void **mem = calloc(p->nlocals + 1, sizeof *mem);
    for (uint32_t i = 0; i < p->nlocals && *rc == SW_OK; i++) {
        const sw_plan_local *l = &p->locals[i];
        if (l->rank != rank) continue;
        size_t n = sw_plan_local_nbytes(l);
        if (cudaMalloc(&mem[i], n ? n : 1) != cudaSuccess) {
            *rc = SW_CUDA;
            break;
        }
        fake_watch(mem[i], n); /* zero-copy: NCCL bytes from / into the tensors count */
        char q[600];
        snprintf(q, sizeof q, "%s/%s", l->role == SW_ROLE_SRC ? p->from : p->to, l->name);
        *rc = sw_bind_rank(s, rank, q, mem[i], n, err);
    }
    return mem;
}

static void free_all(const sw_plan *p, void **mem) {
    for (uint32_t i = 0; i < p->nlocals; i++)
        if (mem[i]) cudaFree(mem[i]);
    free(mem);
}

static void *rank_main(void *arg) {
    job *j = arg;
    sw_error err;
    memset(&err, 0, sizeof err);
    cudaSetDevice(j->device);
    sw_session_opts o = {.struct_size = sizeof o, .timeout_s = j->timeout > 0 ? j->timeout : 20,
                         .nccl_unique_id = j->uid, .comm_size = j->comm_size, .comm_rank_of = j->map,
                         .ncomm_rank_of = j->nmap};
    sw_session *s = NULL;
    j->rc_open = sw_session_open(&s, j->plan, j->rank, SW_BACKEND_NCCL, &o, &err);
    if (j->rc_open) {
        snprintf(j->msg, sizeof j->msg, "%s", err.msg);
        return NULL;
    }
    if (j->other_device >= 0) cudaSetDevice(j->other_device);
    int rc = SW_OK;
    void **mem = bind_all(s, j->plan, j->rank, &err, &rc);
    cudaStream_t st = NULL;
    if (j->nonblocking_stream) cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking);
    for (int it = 0; it < j->iters && rc == SW_OK; it++) {
        if (j->rebind && it == j->iters - 1) { /* new tensors: the pointer table changes (F7) */
            void **old = mem;
            mem = bind_all(s, j->plan, j->rank, &err, &rc);
            free_all(j->plan, old);
        }
        if (rc == SW_OK) rc = sw_validation_fill(s, &err);
        if (rc == SW_OK && j->leave_not_ready) {
            cudaEvent_t ev;
            cudaSetDevice(j->device);
            cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
            cudaEventRecord(ev, st);
            (void)cudaEventQuery(ev); /* may leave cudaErrorNotReady (lag) */
            cudaEventDestroy(ev);
            if (j->other_device >= 0) cudaSetDevice(j->other_device);
        }
        if (rc == SW_OK) rc = sw_sync(s, st, &err);
        if (rc == SW_OK) cudaStreamSynchronize(st);
    }
    j->rc_sync = rc;
    if (rc) snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    j->last_error = fake_peek_last_error();
    if (rc == SW_OK) {
        j->rc_check = sw_validation_check(s, &j->checked, &err);
        if (j->rc_check) snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    }
    cudaGetDevice(&j->dev_after);
    sw_session_close(s);
    free_all(j->plan, mem);
    if (st) cudaStreamDestroy(st);
    return NULL;
}

/* Runs every rank of the plan (or the n ranks given) as threads; the jobs stay for checks. */
static job *run_ranks(const sw_plan *p, const int *ranks, int n, dev_rule rule, const job *proto) {
    int all[64];
    if (!ranks) { /* every process of the communicator: 0 .. the plan's highest rank */
        n = sw_plan_max_rank(p) + 1;
        for (int r = 0; r < n; r++) all[r] = r;
        ranks = all;
    }
    if (n < 1 || n > 64) fail_msg("%d ranks", n);
    job *jobs = calloc((size_t)n, sizeof *jobs);
    pthread_t *t = calloc((size_t)n, sizeof *t);
    for (int k = 0; k < n; k++) {
        jobs[k] = *proto;
        jobs[k].plan = p;
        jobs[k].rank = ranks[k];
        jobs[k].device = device_for(p, ranks[k], rule);
        assert_int_equal(pthread_create(&t[k], NULL, rank_main, &jobs[k]), 0);
    }
    for (int k = 0; k < n; k++) pthread_join(t[k], NULL);
    free(t);
    return jobs;
}

static void expect_all_ok(const job *jobs, int n, const char *what) {
    for (int k = 0; k < n; k++) {
        const job *j = &jobs[k];
        if (j->rc_open || j->rc_sync || j->rc_check)
            fail_msg("%s: rank %d: open %d sync %d check %d: %s", what, j->rank, j->rc_open, j->rc_sync, j->rc_check,
                     j->msg);
    }
}

static uint64_t expected_checks(const sw_plan *p, int rank) {
    uint64_t n = 0;
    for (uint32_t x = 0; x < p->nxfers; x++)
        if (p->locals[p->xfers[x].dst.local].rank == rank) n += p->xfers[x].nelem;
    return n;
}

static job proto(const uint8_t *uid) {
    job j;
    memset(&j, 0, sizeof j);
    j.iters = 3;
    j.uid = uid;
    j.other_device = -1;
    return j;
}

static void new_uid(uint8_t *uid) {
    sw_error err;
    if (sw_nccl_unique_id(uid, SW_NCCL_UNIQUE_ID_BYTES, &err)) fail_msg("sw_nccl_unique_id: %s", err.msg);
}

/* ---- issue 12: the bootstrap without MPI, up to the NCCL call ------------------------------ */

static void test_unique_id(void **state) {
    (void)state;
    fake_reset(2);
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES], uid2[SW_NCCL_UNIQUE_ID_BYTES];
    sw_error err;
    assert_int_equal(sw_nccl_unique_id(uid, 64, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "needs a buffer of 128 bytes (SW_NCCL_UNIQUE_ID_BYTES), 64 given"));
    assert_int_equal(sw_nccl_unique_id(NULL, 128, &err), SW_USAGE);
    assert_int_equal(sw_nccl_unique_id(uid, sizeof uid, &err), SW_OK);
    assert_memory_equal(uid, "fakeid", 6); /* through the plugin, from ncclGetUniqueId */
    assert_int_equal(sw_nccl_unique_id(uid2, sizeof uid2, NULL), SW_OK);
    assert_memory_not_equal(uid, uid2, sizeof uid);
    /* an NCCL older than what the backend calls is refused, naming both versions */
    fake_set_nccl_version(21304);
    assert_int_equal(sw_nccl_unique_id(uid, sizeof uid, &err), SW_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "runs NCCL 2.13.4, older than 2.14"));
}

/* comm_size / comm_rank_of checked before anything is loaded: duplicates, out of range,
 * missing plan ranks, the session's own rank; other backends ignore them. */
static void test_comm_map_checks(void **state) {
    (void)state;
    fake_reset(8);
    sw_plan *p = compile("tests/mixed/norms_bf16.yaml", NULL, 0); /* ranks 0..7 */
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(uid);
    struct {
        int32_t map[10];
        size_t n;
        int comm_size, rank;
        const char *want;
    } cases[] = {
        {{0, 1, 2, 3, 4, 5, 6, 6}, 8, 0, 0, "comm_rank_of: plan ranks 6 and 7 both map to communicator rank 6"},
        {{0, 1, 2, 3, 4, 5, 6, 9}, 8, 8, 0, "comm_rank_of[7] = 9 is out of range: communicator ranks are 0 .. 7 (comm_size 8)"},
        {{0, 1, 2, 3, 4, 5, 6, -2}, 8, 0, 0, "comm_rank_of[7] = -2 is out of range"},
        {{0, 1, 2, 3, 4, 5, 6}, 7, 0, 0, "plan rank 7 has no communicator rank: comm_rank_of (7 entries)"},
        {{0, 1, 2, 3, 4, 5, -1, 7}, 8, 0, 0, "plan rank 6 has no communicator rank"},
        {{0}, 0, 4, 0, "the plan uses rank 4 but comm_size is 4 (without comm_rank_of plan rank k is communicator rank k)"},
        {{0}, 0, 0, 9, "this session's rank 9 is not a rank of a communicator of 8 (comm_size)"},
        {{7, 6, 5, 4, 3, 2, 1, 0}, 8, 0, 9, "this session's rank 9 has no communicator rank in comm_rank_of"},
        {{0}, 0, -1, 0, "comm_size is -1"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        sw_session_opts o = {.struct_size = sizeof o, .nccl_unique_id = uid, .comm_size = cases[k].comm_size,
                             .comm_rank_of = cases[k].n ? cases[k].map : NULL, .ncomm_rank_of = cases[k].n};
        sw_session *s = NULL;
        sw_error err;
        assert_int_equal(sw_session_open(&s, p, cases[k].rank, SW_BACKEND_NCCL, &o, &err), SW_USAGE);
        if (!strstr(err.msg, cases[k].want)) fail_msg("case %zu: '%s' lacks '%s'", k, err.msg, cases[k].want);
        assert_null(s);
    }
    sw_session_opts o = {.struct_size = sizeof o, .nccl_unique_id = uid, .nccl_comm = (void *)1};
    sw_session *s = NULL;
    sw_error err;
    assert_int_equal(sw_session_open(&s, p, 0, SW_BACKEND_NCCL, &o, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "give nccl_unique_id or nccl_comm, not both"));
    int32_t m[8] = {0};
    sw_session_opts o2 = {.struct_size = sizeof o2, .comm_rank_of = m};
    assert_int_equal(sw_session_open(&s, p, 0, SW_BACKEND_NCCL, &o2, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "comm_rank_of and ncomm_rank_of go together"));
    /* the local backend ignores them (python/tests/test_bind.py opens one so) */
    sw_session_opts o3 = {.struct_size = sizeof o3, .nccl_unique_id = uid, .comm_size = 3};
    assert_int_equal(sw_session_open(&s, p, -1, SW_BACKEND_LOCAL, &o3, &err), SW_OK);
    sw_session_close(s);
    assert_int_equal(fake_live_objects(), 0); /* nothing was created */
    sw_plan_free(p);
}

/* ---- F12, F2, F5, F1: real messages, mixed dtypes --------------------------------------------- */

/* Every rank of a plan whose ranks each have a GPU of their own: one communicator from a
 * unique id, messages through NCCL, validated on the "device", several syncs, with and
 * without lag (the device behind the host), with a permuted communicator. */
static fake_stats run_nccl_plan_p(const char *path, const sw_define *defs, size_t ndefs, int64_t bucket, unsigned lag,
                                  int permute, sw_plan **keep) {
    fake_reset(8);
    fake_set_lag(lag);
    sw_plan *p = compile_d(path, NULL, bucket, defs, ndefs);
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(uid);
    job pr = proto(uid);
    int32_t map[8];
    int n = sw_plan_max_rank(p) + 1;
    if (permute) { /* the communicator in reverse order (a Ray placement) */
        for (int r = 0; r < n; r++) map[r] = n - 1 - r;
        pr.map = map;
        pr.nmap = (size_t)n;
    }
    job *jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    expect_all_ok(jobs, n, path);
    fake_stats st = fake_get_stats();
    for (int k = 0; k < n; k++) {
        assert_int_equal(jobs[k].checked, expected_checks(p, jobs[k].rank));
        /* F1: the backend leaves no error in the caller's thread (NotReady from polling) */
        assert_int_equal(jobs[k].last_error, 0);
    }
    assert_true(st.bytes_p2p > 0 && st.bytes_ipc_copied == 0);
    assert_int_equal(st.stale_launches, 0);
    assert_true(st.preloads >= (uint64_t)n); /* F6: every rank loaded its kernels at open */
    if (lag) assert_true(st.event_queries_not_ready > 0);
    printf("  %s (bucket %lld, lag %u%s): %d ranks, %llu NCCL bytes, %llu groups, %llu not-ready polls, most groups "
           "queued on one communicator %llu\n",
           path, (long long)bucket, lag, permute ? ", reversed communicator" : "", n, (unsigned long long)st.bytes_p2p,
           (unsigned long long)st.group_ends, (unsigned long long)st.event_queries_not_ready,
           (unsigned long long)st.max_groups_queued);
    free(jobs);
    assert_int_equal(fake_live_objects(), 0); /* every stream, event, allocation, communicator freed */
    if (keep) *keep = p;
    else sw_plan_free(p);
    return st;
}

static void run_nccl_plan(const char *path, const sw_define *defs, size_t ndefs, int64_t bucket, unsigned lag,
                          int permute) {
    (void)run_nccl_plan_p(path, defs, ndefs, bucket, lag, permute, NULL);
}

static void test_nccl_messages(void **state) {
    (void)state;
    run_nccl_plan("tests/mixed/norms_bf16.yaml", NULL, 0, 0, 0, 0);   /* relays */
    run_nccl_plan("tests/mixed/norms_bf16.yaml", many_waves, 2, 4096, 3, 0); /* many waves */
    run_nccl_plan("tests/mixed/fp8_scales.sw", NULL, 0, 4096, 2, 1);
    run_nccl_plan("tests/conformance/cases/07_qkv_groups.yaml", NULL, 0, 4096, 2, 0);
    run_nccl_plan("tests/conformance/cases/09_pipeline_stages_let.yaml", NULL, 0, 4096, 1, 1);
}

/* ---- issue 16: the zero-copy contract -------------------------------------------------------- */

/* What the contract says of a plan whose messages all go through NCCL, per sync: bytes
 * sent from / received into the tensors, bytes packed / unpacked by the kernels, and
 * which kinds of part one message mixes. */
typedef struct zc_want {
    uint64_t sent_in_place, recv_in_place, packed, unpacked;
    int both_in_place, sender_only, receiver_only, staged_run, converted; /* parts of these kinds */
    int relays; /* forwarded messages with a part sent in place */
    uint64_t ops;       /* NCCL sends of a sync: per message one per part in place at either end and
                         * one per stretch of parts staged at both, or 1 (nothing in place) */
    uint64_t pairs;     /* (sender, receiver) pairs: the warm-up's sends */
    int mixed; /* one message has a part in place at both ends, one staged at the receiver only
                * (strided or converted) and a staged run of small segments */
} zc_want;

static zc_want zc_expect(const sw_plan *p) {
    zc_want w;
    memset(&w, 0, sizeof w);
    for (uint32_t ti = 0; ti < p->ntasks; ti++) {
        const sw_plan_task *t = &p->tasks[ti];
        if (t->src == t->dst) continue;
        sw_msg_part *a = calloc(t->nseg + 1, sizeof *a), *b = calloc(t->nseg + 1, sizeof *b);
        size_t n = sw_exec_task_parts(p, t, 0, NULL, a);
        assert_int_equal(sw_exec_task_parts(p, t, 1, NULL, b), n);
        int both = 0, sender = 0, run = 0;
        uint64_t ops = 0;
        int stretch = 0, any = 0;
        for (size_t k = 0; k < n; k++) {
            assert_true(a[k].at == b[k].at && a[k].bytes == b[k].bytes && a[k].seg0 == b[k].seg0);
            uint64_t payload = 0;
            for (uint32_t g = a[k].seg0; g < a[k].seg0 + a[k].nseg; g++)
                payload += p->segs[g].nelem * (uint64_t)sw_plan_xfer_esize(p, &p->xfers[p->segs[g].xfer]);
            w.packed += payload;
            w.unpacked += payload;
            if (a[k].run >= 0) w.sent_in_place += a[k].bytes, w.packed -= payload;
            if (b[k].run >= 0) w.recv_in_place += b[k].bytes, w.unpacked -= payload;
            if (a[k].run >= 0 && b[k].run >= 0) both = 1, w.both_in_place++;
            if (a[k].run >= 0 && b[k].run < 0) {
                sender = 1, w.sender_only++;
                const sw_plan_xfer *xf = &p->xfers[p->segs[a[k].seg0].xfer];
                if (p->locals[xf->src.local].dtype != p->locals[xf->dst.local].dtype) w.converted++;
            }
            if (a[k].run < 0 && b[k].run >= 0) w.receiver_only++;
            if (a[k].nseg > 1 || a[k].bytes < SW_PLAN_ZC_MIN) run = 1, w.staged_run++;
            int staged = a[k].run < 0 && b[k].run < 0;
            any |= !staged;
            if (!(staged && stretch)) ops++;
            stretch = staged;
        }
        w.ops += any ? ops : 1;
        int seen = 0;
        for (uint32_t u = 0; u < ti; u++)
            if (p->tasks[u].src == t->src && p->tasks[u].dst == t->dst) seen = 1;
        w.pairs += !seen;
        if (both && sender && run) w.mixed = 1;
        if (t->relay && w.sent_in_place && (both || sender)) w.relays++;
        free(a);
        free(b);
    }
    return w;
}

/* Plans with segments of at least SW_PLAN_ZC_MIN bytes through the nccl backend over the
 * fakes, validated element by element: the parts in place at a side go straight between
 * the tensors (the fake counts NCCL bytes from / into them), and the kernels pack and
 * unpack exactly the rest (3 syncs each). */
enum { ZC_MIXED = 1, ZC_RECEIVER_ONLY = 2, ZC_RELAYS = 4 };

static void run_zc_plan(const char *path, const sw_define *defs, size_t ndefs, unsigned lag, int permute, int want) {
    sw_plan *p = NULL;
    fake_stats st = run_nccl_plan_p(path, defs, ndefs, 64 << 20, lag, permute, &p);
    zc_want w = zc_expect(p);
    const uint64_t iters = 3;
    printf("  zero-copy %s: per sync %llu bytes sent from the tensors, %llu received into them, %llu packed, %llu "
           "unpacked; parts in place at both ends %d, at the sender only %d (%d converted), at the receiver only %d, "
           "staged runs %d, relays %d; %llu NCCL sends\n",
           path, (unsigned long long)w.sent_in_place, (unsigned long long)w.recv_in_place, (unsigned long long)w.packed,
           (unsigned long long)w.unpacked, w.both_in_place, w.sender_only, w.converted, w.receiver_only, w.staged_run,
           w.relays, (unsigned long long)w.ops);
    printf("    fake: %llu bytes sent from watched tensors, %llu received into them, %llu kernel-packed, %llu "
           "kernel-unpacked, %llu NCCL bytes, %llu sends\n",
           (unsigned long long)st.bytes_sent_watched, (unsigned long long)st.bytes_recv_watched,
           (unsigned long long)st.bytes_kernel_packed, (unsigned long long)st.bytes_kernel_unpacked,
           (unsigned long long)st.bytes_p2p, (unsigned long long)st.sends);
    assert_true(w.sent_in_place > 0 && w.recv_in_place > 0);
    assert_int_equal(st.bytes_sent_watched, iters * w.sent_in_place);
    assert_int_equal(st.bytes_recv_watched, iters * w.recv_in_place);
    assert_int_equal(st.bytes_kernel_packed, iters * w.packed);
    assert_int_equal(st.bytes_kernel_unpacked, iters * w.unpacked);
    assert_int_equal(st.sends, iters * w.ops + w.pairs);
    if (want & ZC_MIXED) assert_true(w.mixed && w.converted > 0);
    if (want & ZC_RECEIVER_ONLY) assert_true(w.receiver_only > 0);
    if (want & ZC_RELAYS) assert_true(w.relays > 0);
    sw_plan_free(p);
}

static void test_zero_copy(void **state) {
    (void)state;
    /* wide rows: the bf16 weights split by rows are runs of 64 and 128 KiB at both ends,
     * the transposed mlp.weight is strided at the receiver, the fp32 -> bf16 layer norm
     * (128 KiB) converts, codes and scalars are small: one message mixes them all; the
     * second replica gets its data forwarded (relays: received in place, sent in place) */
    static const sw_define wide[] = {{"cols", 32768}};
    run_zc_plan("tests/mixed/norms_bf16.yaml", wide, 1, 0, 0, ZC_MIXED | ZC_RELAYS);
    run_zc_plan("tests/mixed/norms_bf16.yaml", wide, 1, 3, 1, ZC_MIXED | ZC_RELAYS); /* lag, reversed communicator */
    /* every arrangement in one message: in place at both ends, strided at the sender
     * only, strided or converted at the receiver only, a staged run of small segments */
    run_zc_plan("tests/mixed/zc_wide.yaml", NULL, 0, 2, 0, ZC_MIXED | ZC_RECEIVER_ONLY);
}

/* F5: the host posts the next waves while the device is behind; one wait at the end. */
static void test_host_posts_ahead(void **state) {
    (void)state;
    fake_reset(8);
    fake_set_lag(40);
    sw_plan *p = compile_d("tests/mixed/norms_bf16.yaml", NULL, 4096, many_waves, 2);
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(uid);
    job pr = proto(uid);
    pr.iters = 1;
    job *jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    expect_all_ok(jobs, 8, "host ahead");
    fake_stats st = fake_get_stats();
    printf("  host ahead: up to %llu groups queued on one communicator (waves of a rank posted before the first is "
           "done)\n",
           (unsigned long long)st.max_groups_queued);
    assert_true(st.max_groups_queued >= 3);
    free(jobs);
    sw_plan_free(p);
}

/* F1 from the caller's side: a cudaErrorNotReady the caller left in its thread does not
 * fail the sync's launches. */
static void test_caller_left_not_ready(void **state) {
    (void)state;
    fake_reset(8);
    fake_set_lag(5);
    sw_plan *p = compile("tests/mixed/review_f2.sw", NULL, 0);
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(uid);
    job pr = proto(uid);
    pr.leave_not_ready = 1;
    job *jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    expect_all_ok(jobs, 2, "caller left NotReady");
    free(jobs);
    sw_plan_free(p);
}

/* F7: a rebound tensor reaches the kernels that run on a caller's non-blocking stream (the
 * pointer table goes up on the pack stream, ordered; a cudaMemcpy from pageable memory
 * would land on the legacy stream, after them). */
static void test_rebind_on_side_stream(void **state) {
    (void)state;
    fake_reset(8);
    fake_set_lag(4);
    sw_plan *p = compile("tests/mixed/fp8_scales.sw", NULL, 0);
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(uid);
    job pr = proto(uid);
    pr.nonblocking_stream = 1;
    pr.rebind = 1;
    job *jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    expect_all_ok(jobs, 4, "rebind on a non-blocking stream");
    free(jobs);
    sw_plan_free(p);
}

/* ---- F4: the device guard ------------------------------------------------------------------------ */

static void test_device_guard(void **state) {
    (void)state;
    fake_reset(8);
    fake_set_lag(2);
    sw_plan *p = compile("tests/mixed/norms_bf16.yaml", NULL, 0);
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(uid);
    job pr = proto(uid);
    pr.other_device = 7; /* the caller works on device 7 between calls (a PyTorch thread) */
    job *jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    expect_all_ok(jobs, 8, "device guard");
    for (int k = 0; k < 8; k++) assert_int_equal(jobs[k].dev_after, 7); /* the caller's device, restored */
    free(jobs);
    /* an adopted communicator must be on the session's device */
    uint8_t id[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(id);
    sw_plan *one = compile("tests/gpu/colocated_1gpu.sw", NULL, 0);
    ncclComm_t comm;
    ncclUniqueId nid;
    memcpy(&nid, id, sizeof nid);
    cudaSetDevice(1);
    assert_int_equal(ncclCommInitRank(&comm, 1, nid, 0), ncclSuccess);
    cudaSetDevice(0);
    sw_session_opts o = {.struct_size = sizeof o, .timeout_s = 5, .nccl_comm = comm};
    sw_session *s = NULL;
    sw_error err;
    assert_int_equal(sw_session_open(&s, one, 0, SW_BACKEND_NCCL, &o, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "the NCCL communicator given is on CUDA device 1, but the session opens on device 0"));
    cudaSetDevice(1);
    assert_int_equal(sw_session_open(&s, one, 0, SW_BACKEND_NCCL, &o, &err), SW_OK);
    sw_session_close(s);
    ncclCommDestroy(comm);
    cudaSetDevice(0);
    assert_int_equal(fake_live_objects(), 0);
    sw_plan_free(one);
    sw_plan_free(p);
}

/* ---- F8, F11, timeouts ------------------------------------------------------------------------------ */

static int any_msg(const job *jobs, int n, const char *s) {
    for (int k = 0; k < n; k++)
        if (strstr(jobs[k].msg, s)) return 1;
    return 0;
}

static void show(const job *jobs, int n) {
    for (int k = 0; k < n; k++)
        printf("    rank %d: open %d sync %d: %s\n", jobs[k].rank, jobs[k].rc_open, jobs[k].rc_sync, jobs[k].msg);
}

/* How many ranks failed with rc: at open (open = 1), in a sync (0), or either (-1). */
static int count_rc(const job *jobs, int n, int open, int rc) {
    int c = 0;
    for (int k = 0; k < n; k++)
        c += open > 0 ? jobs[k].rc_open == rc : open == 0 ? jobs[k].rc_sync == rc
                                                          : jobs[k].rc_open == rc || jobs[k].rc_sync == rc;
    return c;
}

static void test_failures_named(void **state) {
    (void)state;
    sw_plan *p = compile("tests/mixed/fp8_scales.sw", NULL, 0); /* 4 ranks, 4 GPUs, NCCL */
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    /* a failing ncclSend: named with its peer and bytes, the communicator aborted; the
     * peers fail too (what they wait for never comes: the timeout) */
    fake_reset(8);
    new_uid(uid);
    job pr = proto(uid);
    pr.timeout = 1;
    pr.iters = 1;
    fake_fail_send(6); /* a warm-up's or a wave's, as the threads go */
    job *jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    show(jobs, 4);
    assert_int_equal(count_rc(jobs, 4, -1, SW_NCCL), 1);
    assert_true(any_msg(jobs, 4, ": ncclSend to rank "));
    assert_true(any_msg(jobs, 4, "invalid argument (communicator aborted)"));
    assert_true(count_rc(jobs, 4, -1, SW_TIMEOUT) >= 1);
    assert_true(any_msg(jobs, 4, "not done after 1 s (NCCL communicator aborted)"));
    free(jobs);
    assert_int_equal(fake_live_objects(), 0);
    printf("  case: %s\n", "ncclGroupEnd failing */");
    /* ncclGroupEnd failing */
    fake_reset(8);
    new_uid(uid);
    fake_fail_group_end(ncclSystemError);
    jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    assert_true(any_msg(jobs, 4, "ncclGroupEnd failed: unhandled system error (communicator aborted)"));
    free(jobs);
    printf("  case: %s\n", "a kernel fault is this devi");
    /* a kernel fault is this device's CUDA error (F11), with the communicator aborted */
    fake_reset(8);
    new_uid(uid);
    fake_fault_kernel(2);
    jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    show(jobs, 4);
    assert_true(any_msg(jobs, 4, "a CUDA error on device"));
    assert_true(any_msg(jobs, 4, "an illegal memory access was encountered (cudaErrorIllegalAddress); NCCL communicator "
                                 "aborted"));
    assert_false(any_msg(jobs, 4, "ncclCommGetAsyncError"));
    free(jobs);
    printf("  case: %s\n", "... and with SHARDWAVE_NCCL");
    /* ... and with SHARDWAVE_NCCL_SYNC_DEBUG=1 the kernel and the wave are named */
    fake_reset(8);
    new_uid(uid);
    setenv("SHARDWAVE_NCCL_SYNC_DEBUG", "1", 1);
    fake_fault_kernel(2);
    jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    unsetenv("SHARDWAVE_NCCL_SYNC_DEBUG");
    show(jobs, 4);
    /* named where the fault was seen: the debug wait after the kernel, or its record */
    assert_true(any_msg(jobs, 4, "in the pack kernel of wave ") || any_msg(jobs, 4, "in the unpack kernel of wave "));
    free(jobs);
    printf("  case: %s\n", "a stuck peer:");
    /* a stuck peer: the others fail after the timeout naming the wave and the peer */
    fake_reset(8);
    new_uid(uid);
    fake_stall_rank(2, 1);
    jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    fake_stall_rank(2, 0);
    assert_true(count_rc(jobs, 4, -1, SW_TIMEOUT) >= 1);
    assert_true(any_msg(jobs, 4, " rank 2 (") || any_msg(jobs, 4, "warm-up"));
    assert_true(any_msg(jobs, 4, "not done after 1 s (NCCL communicator aborted)"));
    free(jobs);
    printf("  case: %s\n", "an NCCL too old");
    /* an NCCL too old for the calls made */
    fake_reset(8);
    new_uid(uid);
    fake_set_nccl_version(21200);
    jobs = run_ranks(p, NULL, 0, DEV_RANK, &pr);
    assert_int_equal(count_rc(jobs, 4, 1, SW_UNSUPPORTED), 4);
    assert_non_null(strstr(jobs[0].msg, "runs NCCL 2.12.0, older than 2.14"));
    free(jobs);
    assert_int_equal(fake_live_objects(), 0);
    sw_plan_free(p);
}

/* ---- F3: routes, the duplicate-GPU check, CUDA IPC ---------------------------------------------- */

static void test_routes(void **state) {
    (void)state;
    sw_error err;
    /* llama_tiny: trainer ranks 0-3 and engine ranks 4-7 on GPUs 0-3 of one host */
    sw_plan *p = compile("examples/llama_tiny.sw", NULL, 0);
    for (int r = 0; r < 8; r++) {
        sw_nccl_route rt;
        assert_int_equal(sw_nccl_route_make(p, r, NULL, 0, &rt, &err), SW_OK);
        assert_true(rt.colocated);
        assert_int_equal(rt.member, 0); /* one host: everything through CUDA IPC */
        assert_int_equal(rt.npeers_nccl, 0);
        assert_true(rt.npeers_ipc > 0);
        sw_nccl_route_free(&rt);
    }
    /* the same ranks on 8 GPUs (what LOCAL_RANK gives on an 8-GPU box): NCCL, no sharing */
    sw_nccl_where w[8];
    memset(w, 0, sizeof w);
    for (int i = 0; i < 8; i++) {
        w[i].host = 42;
        w[i].device = i;
        snprintf(w[i].bus, sizeof w[i].bus, "0000:%02x:00.0", i);
    }
    sw_nccl_route rt;
    assert_int_equal(sw_nccl_route_make(p, 5, w, 1, &rt, &err), SW_OK);
    assert_false(rt.colocated);
    assert_true(rt.member && rt.npeers_ipc == 0);
    sw_nccl_route_free(&rt);
    sw_plan_free(p);
    /* a rank that shares its GPU and has a peer on another host: NCCL is needed; with one
     * communicator of every process (a unique id) refused, naming the ranks */
    p = compile("tests/mixed/norms_bf16.yaml", NULL, 0); /* ranks 0-1 on host 0, 2-7 on host 1 */
    const sw_plan_task *t = NULL;
    for (uint32_t k = 0; k < p->ntasks && !t; k++)
        if (p->tasks[k].src == 0 && p->tasks[k].dst >= 2) t = &p->tasks[k];
    assert_non_null(t);
    int32_t dst = t->dst;
    for (int i = 0; i < 8; i++) {
        w[i].host = i < 2 ? 1 : 2;
        w[i].device = i;
        snprintf(w[i].bus, sizeof w[i].bus, "0000:%02x:00.0", i);
    }
    w[1] = w[0]; /* ranks 0 and 1 on one GPU of host 1 */
    w[1].device = 0;
    assert_int_equal(sw_nccl_route_make(p, 0, w, 0, &rt, &err), SW_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "ranks 0 and 1 share a GPU"));
    assert_non_null(strstr(err.msg, "NCCL refuses two processes on one GPU"));
    /* over MPI a communicator of the members: rank 0 is one; rank 0 <-> 1 through IPC */
    assert_int_equal(sw_nccl_route_make(p, 0, w, 1, &rt, &err), SW_OK);
    assert_true(rt.member);
    assert_int_equal(rt.via[sw_plan_rank_index(p, dst)], SW_VIA_NCCL);
    sw_nccl_route_free(&rt);
    /* the duplicate-GPU check among members: both ranks need NCCL -> both named */
    int32_t prank[8];
    uint8_t member[8];
    for (int i = 0; i < 8; i++) prank[i] = i, member[i] = 1;
    assert_int_equal(sw_nccl_check_members(w, prank, member, 8, &err), SW_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "ranks 0 and 1 are on the same GPU (PCI 0000:00:00.0 of one host; device 0 and 0"));
    assert_non_null(strstr(err.msg, "\"Duplicate GPU detected\""));
    member[1] = 0; /* rank 1 only talks to rank 0: not a member, fine */
    assert_int_equal(sw_nccl_check_members(w, prank, member, 8, &err), SW_OK);
    /* the same bus id on two hosts is two GPUs */
    w[1].host = 3;
    member[1] = 1;
    assert_int_equal(sw_nccl_check_members(w, prank, member, 8, &err), SW_OK);
    sw_plan_free(p);
}

/* Colocated plans served through CUDA IPC, no NCCL communicator at all (unique id). */
static void run_ipc_plan(const char *path, dev_rule rule, int ndev, unsigned lag) {
    fake_reset(ndev);
    fake_set_lag(lag);
    sw_plan *p = compile(path, NULL, 4096);
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(uid);
    job pr = proto(uid);
    int n = sw_plan_max_rank(p) + 1;
    job *jobs = run_ranks(p, NULL, 0, rule, &pr);
    expect_all_ok(jobs, n, path);
    for (int k = 0; k < n; k++) assert_int_equal(jobs[k].checked, expected_checks(p, jobs[k].rank));
    fake_stats st = fake_get_stats();
    printf("  %s (lag %u): %d ranks on %d GPUs, %llu bytes through CUDA IPC, %llu through NCCL, %llu handles opened\n",
           path, lag, n, ndev, (unsigned long long)st.bytes_ipc_copied, (unsigned long long)st.bytes_p2p,
           (unsigned long long)st.ipc_mem_opened);
    assert_true(st.bytes_ipc_copied > 0);
    assert_int_equal(st.bytes_p2p, 0);
    assert_int_equal(st.group_ends, 0); /* no NCCL call */
    free(jobs);
    assert_int_equal(fake_live_objects(), 0);
    sw_plan_free(p);
}

static void test_colocated_ipc(void **state) {
    (void)state;
    run_ipc_plan("examples/llama_tiny.sw", DEV_PLAN, 4, 0);
    run_ipc_plan("tests/mixed/review_f2.sw", DEV_PLAN, 1, 1); /* F2's repro: both ranks on one GPU */
    run_ipc_plan("examples/llama_tiny.sw", DEV_PLAN, 4, 3);
    run_ipc_plan("tests/conformance/cases/10_colocated_hosts.yaml", DEV_PLAN_HOSTS, 4, 2);
}

/* A colocated peer that never comes: the rendezvous says who and why, after the timeout. */
static void test_ipc_peer_missing(void **state) {
    (void)state;
    fake_reset(4);
    sw_plan *p = compile("examples/llama_tiny.sw", NULL, 0);
    uint8_t uid[SW_NCCL_UNIQUE_ID_BYTES];
    new_uid(uid);
    job pr = proto(uid);
    pr.timeout = 1;
    int ranks[] = {0};
    job *jobs = run_ranks(p, ranks, 1, DEV_PLAN, &pr);
    assert_int_equal(jobs[0].rc_open, SW_TIMEOUT);
    assert_non_null(strstr(jobs[0].msg, "did not appear on this host within 1 s"));
    assert_non_null(strstr(jobs[0].msg, "through CUDA IPC, which needs both on one host"));
    free(jobs);
    assert_int_equal(fake_live_objects(), 0);
    sw_plan_free(p);
}

/* ---- the MPI bootstrap, with a group of threads ----------------------------------------------------- */

typedef struct group {
    pthread_barrier_t bar;
    int n;
    uint8_t buf[64 * 256];
} group;

typedef struct member_ctx {
    group *g;
    int rank;
} member_ctx;

static int g_bcast(void *ctx, void *buf, size_t n, int root, sw_error *err) {
    member_ctx *m = ctx;
    (void)err;
    assert_true(n <= sizeof m->g->buf);
    pthread_barrier_wait(&m->g->bar);
    if (m->rank == root) memcpy(m->g->buf, buf, n);
    pthread_barrier_wait(&m->g->bar);
    if (m->rank != root) memcpy(buf, m->g->buf, n);
    pthread_barrier_wait(&m->g->bar);
    return SW_OK;
}

static int g_allgather(void *ctx, const void *mine, void *all, size_t n, sw_error *err) {
    member_ctx *m = ctx;
    (void)err;
    assert_true(n * (size_t)m->g->n <= sizeof m->g->buf);
    pthread_barrier_wait(&m->g->bar);
    memcpy(m->g->buf + (size_t)m->rank * n, mine, n);
    pthread_barrier_wait(&m->g->bar);
    memcpy(all, m->g->buf, n * (size_t)m->g->n);
    pthread_barrier_wait(&m->g->bar);
    return SW_OK;
}

typedef struct boot_job {
    const sw_plan *p;
    group *g;
    int rank, device, comm_size, rc;
    char msg[1536];
    uint64_t bad;
} boot_job;

/* One process of an MPI-bootstrapped session, driving the plugin's table as session.c does;
 * device memory is host memory in the fake, so the CPU's validation checks it. */
static void *boot_main(void *arg) {
    boot_job *j = arg;
    sw_error err;
    cudaSetDevice(j->device);
    member_ctx mc = {j->g, j->rank};
    sw_boot boot = {j->rank, j->g->n, &mc, g_bcast, g_allgather};
    sw_plugin_ref pl;
    if ((j->rc = sw_plugin_load("nccl", &pl, &err))) goto out;
    sw_exec x;
    if ((j->rc = sw_exec_init(&x, j->p, j->rank, &err))) goto out;
    sw_session_opts o = {.struct_size = sizeof o, .timeout_s = 20, .comm_size = j->comm_size};
    void *ctx = NULL;
    sw_backend b;
    if ((j->rc = pl.api->open(&ctx, &b, &x, j->rank, &o, &boot, &err))) {
        sw_exec_free(&x);
        goto out;
    }
    void **ptrs = calloc(j->p->nlocals + 1, sizeof *ptrs);
    for (uint32_t i = 0; i < j->p->nlocals; i++)
        if (j->p->locals[i].rank == j->rank) cudaMalloc(&ptrs[i], sw_plan_local_nbytes(&j->p->locals[i]) + 1);
    j->rc = sw_data_fill(j->p, j->rank, ptrs, &err);
    sw_data_poison(j->p, j->rank, ptrs);
    for (int it = 0; it < 2 && j->rc == SW_OK; it++) {
        j->rc = pl.api->begin(ctx, NULL, ptrs, &err);
        if (j->rc == SW_OK) j->rc = sw_exec_run(&x, &b, ptrs, &err);
        int rc2 = pl.api->end(ctx, NULL, j->rc ? NULL : &err);
        if (j->rc == SW_OK) j->rc = rc2;
    }
    cudaDeviceSynchronize();
    sw_data_report rep;
    if (j->rc == SW_OK && (j->rc = sw_data_check(j->p, j->rank, ptrs, &rep, &err)) == SW_OK) j->bad = rep.bad;
    sw_exec_free(&x);
    pl.api->close(ctx);
    for (uint32_t i = 0; i < j->p->nlocals; i++)
        if (ptrs[i]) cudaFree(ptrs[i]);
    free(ptrs);
out:
    if (j->rc) snprintf(j->msg, sizeof j->msg, "%s", err.msg);
    sw_plugin_unload(&pl);
    return NULL;
}

static void run_boot(const char *path, const int *device_of_rank, int ndev, int expect_ipc, int bad_rank0) {
    fake_reset(ndev);
    fake_set_lag(1);
    sw_plan *p = compile(path, NULL, 4096);
    int n = sw_plan_max_rank(p) + 1;
    group g;
    g.n = n;
    pthread_barrier_init(&g.bar, NULL, (unsigned)n);
    boot_job *jobs = calloc((size_t)n, sizeof *jobs);
    pthread_t t[64];
    for (int r = 0; r < n; r++) {
        jobs[r] = (boot_job){p, &g, r, device_of_rank[r], r == 0 && bad_rank0 ? n + 1 : 0, 0, "", 0};
        pthread_create(&t[r], NULL, boot_main, &jobs[r]);
    }
    for (int r = 0; r < n; r++) pthread_join(t[r], NULL);
    if (bad_rank0) { /* one process's mistake: every process fails, none hangs in a collective */
        assert_int_equal(jobs[0].rc, SW_USAGE);
        assert_non_null(strstr(jobs[0].msg, "but the MPI group has"));
        for (int r = 1; r < n; r++) assert_non_null(strstr(jobs[r].msg, "the NCCL bootstrap failed on MPI rank 0 (it says why)"));
        printf("  %s over a fake MPI group: rank 0's bad comm_size fails all %d processes, none waits\n", path, n);
        pthread_barrier_destroy(&g.bar);
        free(jobs);
        assert_int_equal(fake_live_objects(), 0);
        sw_plan_free(p);
        return;
    }
    for (int r = 0; r < n; r++) {
        if (jobs[r].rc) fail_msg("%s over MPI: rank %d: %s", path, r, jobs[r].msg);
        assert_int_equal(jobs[r].bad, 0);
    }
    fake_stats st = fake_get_stats();
    printf("  %s over a fake MPI group: %d processes on %d GPUs, %llu bytes through CUDA IPC, %llu through NCCL\n", path,
           n, ndev, (unsigned long long)st.bytes_ipc_copied, (unsigned long long)st.bytes_p2p);
    if (expect_ipc) assert_true(st.bytes_ipc_copied > 0 && st.bytes_p2p == 0);
    else assert_true(st.bytes_p2p > 0 && st.bytes_ipc_copied == 0);
    pthread_barrier_destroy(&g.bar);
    free(jobs);
    assert_int_equal(fake_live_objects(), 0);
    sw_plan_free(p);
}

static void test_mpi_bootstrap(void **state) {
    (void)state;
    /* every process on a GPU of its own: one communicator of all, as before */
    static const int own[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    run_boot("examples/llama_tiny.sw", own, 8, 0, 0);
    run_boot("examples/llama_tiny.sw", own, 8, 0, 1);
    /* the colocated launch (8 processes, 4 GPUs): found by the gathered bus ids, served by
     * CUDA IPC, no NCCL communicator */
    static const int shared[8] = {0, 1, 2, 3, 0, 1, 2, 3};
    run_boot("examples/llama_tiny.sw", shared, 4, 1, 0);
    /* a plan that did not expect sharing (5 processes), launched on 2 GPUs: served too */
    static const int two[5] = {0, 0, 1, 1, 1};
    run_boot("tests/conformance/cases/07_qkv_groups.yaml", two, 2, 1, 0);
}

int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    setenv("SHARDWAVE_PLUGIN_DIR", SW_BINARY_DIR "/fake-nccl", 1);
    if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER")); /* e.g. test_routes */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique_id),      cmocka_unit_test(test_comm_map_checks),
        cmocka_unit_test(test_nccl_messages),  cmocka_unit_test(test_zero_copy),  cmocka_unit_test(test_host_posts_ahead),
        cmocka_unit_test(test_caller_left_not_ready), cmocka_unit_test(test_rebind_on_side_stream),
        cmocka_unit_test(test_device_guard),   cmocka_unit_test(test_failures_named),
        cmocka_unit_test(test_routes),         cmocka_unit_test(test_colocated_ipc),
        cmocka_unit_test(test_ipc_peer_missing), cmocka_unit_test(test_mpi_bootstrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
