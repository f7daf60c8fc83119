/* shardwave run PLAN --backend local|mpi|nccl [--validate] [--iters N] [--timeout S] [--zero-padding] */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "exec.h"
#include "plan_io.h"
#include "shardwave.h"
#include "data_validate.h"
#ifdef SW_HAVE_MPI
#include <mpi.h>
#endif
#ifdef SW_HAVE_NCCL
#include <cuda_runtime_api.h>
#include "backend_nccl.h"
#endif

static const char run_help[] =
    "usage: shardwave run PLAN --backend local|mpi|nccl [--validate] [--iters N] [--timeout S]\n"
    "                          [--zero-padding]\n"
    "\n"
    "Executes a compiled plan.  local: every rank is a thread of this process.  mpi: one\n"
    "process per rank, `mpirun -np N shardwave run PLAN --backend mpi`, MPI world rank k is\n"
    "global rank k (N = the plan's highest rank + 1).  nccl: one process per GPU, launched the\n"
    "same way, tensors in device memory, --validate fills and checks on the device (builds\n"
    "with CUDA and NCCL only; rank k uses the plan's device of rank k, else its local rank).\n"
    "\n"
    "  --validate       fill every source element from (logical tensor, index), run, check every\n"
    "                   destination element; exit 0 only if all of them match\n"
    "  --iters N        run N syncs: the first is timed separately (warm-up), then the median\n"
    "  --timeout S      a rank that waits longer than S seconds on a peer fails (default 60)\n"
    "  --zero-padding   zero the padding rows of destination tensors after each sync\n"
    "\n"
    "Exit status: 0 success, 1 bad plan, 2 bad usage, 3 runtime failure or mismatches.\n";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct run_opts {
    const char *plan;
    sw_backend_kind backend;
    int validate, zero_padding;
    long iters;
    double timeout;
} run_opts;

/* Allocates every local tensor of `rank` (-1: all) and binds it. */
static int alloc_and_bind(const sw_plan *p, int32_t rank, sw_session *s, void **ptrs, sw_error *err) {
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if (rank >= 0 && l->rank != rank) continue;
        size_t n = sw_plan_local_nbytes(l);
        ptrs[i] = malloc(n ? n : 1);
        if (!ptrs[i]) return sw__err(err, SW_NOMEM, "cannot allocate %zu bytes for '%s' of rank %d", n, l->name, l->rank);
        memset(ptrs[i], 0, n);
        char qual[1024];
        snprintf(qual, sizeof qual, "%s/%s", l->role == SW_ROLE_SRC ? p->from : p->to, l->name);
        SW_CHECK(sw_bind_rank(s, l->rank, qual, ptrs[i], n, err));
    }
    return SW_OK;
}

static void print_times(const run_opts *o, const sw_plan *p, const double *t, long n, FILE *f) {
    char b[32];
    double gb = (double)p->stats.unique_bytes / 1e9;
    fprintf(f, "  sync 1 (warm-up): %.3f ms\n", t[0] * 1e3);
    if (n > 1) {
        double *s = malloc((size_t)(n - 1) * sizeof *s);
        if (!s) return;
        memcpy(s, t + 1, (size_t)(n - 1) * sizeof *s);
        qsort(s, (size_t)(n - 1), sizeof *s, cmp_double);
        double med = (n - 1) % 2 ? s[(n - 1) / 2] : (s[(n - 1) / 2 - 1] + s[(n - 1) / 2]) / 2;
        fprintf(f, "  steady state: median %.3f ms over %ld syncs (min %.3f, max %.3f), %.2f GB/s of destination bytes (%s)\n",
                med * 1e3, n - 1, s[0] * 1e3, s[n - 2] * 1e3, med > 0 ? gb / med : 0,
                sw_fmt_bytes((int64_t)p->stats.unique_bytes, b, sizeof b));
        free(s);
    } else {
        fprintf(f, "  %.2f GB/s of destination bytes (%s)\n", t[0] > 0 ? gb / t[0] : 0,
                sw_fmt_bytes((int64_t)p->stats.unique_bytes, b, sizeof b));
    }
    (void)o;
}

static void report_mismatches(const sw_plan *p, const sw_data_report *rep) {
    for (size_t i = 0; i < rep->nshown; i++) {
        char buf[1024];
        sw_data_describe(p, &rep->shown[i], buf, sizeof buf);
        fprintf(stderr, "shardwave: mismatch: %s\n", buf);
    }
}

static int run_local(const run_opts *o) {
    sw_plan *p = NULL;
    sw_session *s = NULL;
    sw_error err;
    void **ptrs = NULL;
    double *t = NULL;
    int rc;
    if ((rc = sw_plan_load(&p, o->plan, &err))) return cli_fail(&err);
    sw_session_opts so = {.struct_size = sizeof so, .timeout_s = o->timeout, .zero_padding = o->zero_padding};
    ptrs = calloc((size_t)p->nlocals + 1, sizeof *ptrs);
    t = calloc((size_t)o->iters, sizeof *t);
    if (!ptrs || !t) {
        rc = cli_usage_error("out of memory");
        goto out;
    }
    if ((rc = sw_session_open(&s, p, -1, SW_BACKEND_LOCAL, &so, &err)) || (rc = alloc_and_bind(p, -1, s, ptrs, &err))) {
        rc = cli_fail(&err);
        goto out;
    }
    printf("run %s: %s -> %s, backend local, %u ranks as threads, %u tasks in %d waves\n", p->sync, p->from, p->to,
           p->nranks, p->ntasks, p->nwaves);
    if (o->validate) {
        if ((rc = sw_data_fill(p, -1, ptrs, &err))) {
            rc = cli_fail(&err);
            goto out;
        }
        sw_data_poison(p, -1, ptrs);
    }
    double t0 = now_s();
    for (long i = 0; i < o->iters; i++) {
        double a = now_s();
        if ((rc = sw_sync(s, NULL, &err))) {
            fprintf(stderr, "shardwave: error: sync %ld of %ld failed: %s\n", i + 1, o->iters, err.msg);
            rc = 3;
            goto out;
        }
        t[i] = now_s() - a;
        if (o->iters > 1 && now_s() - t0 > 2) fprintf(stderr, "  sync %ld/%ld: %.3f ms\n", i + 1, o->iters, t[i] * 1e3);
    }
    print_times(o, p, t, o->iters, stdout);
    if (o->validate) {
        sw_data_report rep;
        if ((rc = sw_data_check(p, -1, ptrs, &rep, &err))) {
            rc = cli_fail(&err);
            goto out;
        }
        if (rep.bad) {
            report_mismatches(p, &rep);
            fprintf(stderr, "shardwave: error: validation failed: %llu of %llu destination elements are wrong\n",
                    (unsigned long long)rep.bad, (unsigned long long)rep.checked);
            rc = 3;
            goto out;
        }
        printf("validate: %llu destination elements checked on %u ranks, all match\n",
               (unsigned long long)rep.checked, p->nranks);
    }
    rc = 0;
out:
    sw_session_close(s);
    if (ptrs && p)
        for (uint32_t i = 0; i < p->nlocals; i++) free(ptrs[i]);
    free(ptrs);
    free(t);
    sw_plan_free(p);
    return rc;
}

#ifdef SW_HAVE_MPI
/* A rank that the launcher stops (another rank failed) still says what happened. */
static void on_term(int sig) {
    static const char msg[] = "shardwave: error: this rank was stopped (another rank failed or the job was cancelled)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    (void)sig;
    _exit(3);
}

/* Waits for a collective of the run loop (MPI_Ibarrier, MPI_Iallreduce) for at most the
 * timeout: a rank that never arrives (stopped, stuck) makes this one say so and abort the
 * job, which stops every process, instead of waiting forever. */
static void mpi_bounded(MPI_Request *req, int me, double timeout, const char *what) {
    double deadline = MPI_Wtime() + timeout;
    long pause_ns = 1000;
    for (;;) {
        int done = 0;
        if (MPI_Test(req, &done, MPI_STATUS_IGNORE) != MPI_SUCCESS || done) return;
        if (MPI_Wtime() > deadline) {
            fprintf(stderr,
                    "[rank %d] shardwave: error: rank %d: %s: not every rank arrived within %g s (one was stopped, "
                    "is stuck, or failed: see its message)\n",
                    me, me, what, timeout);
            fflush(stderr);
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
        struct timespec ts = {0, pause_ns};
        nanosleep(&ts, NULL);
        if (pause_ns < 1000000) pause_ns *= 2;
    }
}

static void mpi_barrier_bounded(int me, double timeout, const char *what) {
    MPI_Request r;
    MPI_Ibarrier(MPI_COMM_WORLD, &r);
    mpi_bounded(&r, me, timeout, what);
}

static void mpi_max_bounded(double *mine, double *all, int me, double timeout, const char *what) {
    MPI_Request r;
    MPI_Iallreduce(mine, all, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD, &r);
    mpi_bounded(&r, me, timeout, what);
}

/* Sums every rank's validation report; each rank prints its own first mismatches, rank 0
 * the verdict.  Returns 0 when every element matched, else 3.  Collective. */
static int mpi_validation_result(const sw_plan *p, int me, int world, const sw_data_report *rep,
                                 const char *where, double timeout) {
    unsigned long long mine[2] = {rep->checked, rep->bad}, tot[2] = {0, 0};
    MPI_Request r;
    MPI_Iallreduce(mine, tot, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD, &r);
    mpi_bounded(&r, me, timeout, "summing the validation");
    if (rep->bad) report_mismatches(p, rep);
    fflush(stderr);
    mpi_barrier_bounded(me, timeout, "after the validation");
    if (tot[1]) {
        if (me == 0)
            fprintf(stderr, "shardwave: error: validation failed: %llu of %llu destination elements are wrong\n", tot[1],
                    tot[0]);
        return 3;
    }
    if (me == 0) printf("validate: %llu destination elements checked%s on %d ranks, all match\n", tot[0], where, world);
    return 0;
}

/* An open that failed on every process alike (agreed: rank 0 prints the one message,
 * every process exits with its status), or that timed out (not every process took part:
 * this one says so and aborts the job, which stops the others). */
static int mpi_open_failed(int me, const sw_error *err) {
    if (err->status == SW_TIMEOUT) {
        char buf[2200];
        fprintf(stderr, "[rank %d] %s\n", me, sw_error_format(err, buf, sizeof buf));
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 3);
        return 3;
    }
    if (me == 0) cli_fail(err);
    fflush(stderr);
    MPI_Finalize();
    return cli_exit_code(err->status);
}

/* MPI start of `run --backend mpi|nccl`: MPI_Init, a message on SIGTERM, the plan (every
 * rank loads it).  A rank whose plan does not load still takes part in the agreement at
 * session open (sw_session_fail_open), so that every rank stops at once with one message
 * naming it.  Returns 0, or an exit status after MPI_Finalize. */
static int mpi_begin(const run_opts *o, sw_backend_kind kind, const sw_session_opts *so, int *me, int *world,
                     sw_plan **p) {
    int provided = 0;
    MPI_Init_thread(NULL, NULL, MPI_THREAD_SINGLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, me);
    MPI_Comm_size(MPI_COMM_WORLD, world);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sw_error why, err;
    if (sw_plan_load(p, o->plan, &why)) {
        sw_session_fail_open(*me, kind, so, &why, &err);
        return mpi_open_failed(*me, &err);
    }
    return 0;
}

/* After an agreed open every rank holds the same plan: MPI world rank k is global rank k,
 * so the world is the plan's highest rank + 1 (a larger one would leave ranks idle). */
static int mpi_check_world(const run_opts *o, const sw_plan *p, int me, int world, sw_session *s) {
    int32_t maxr = sw_plan_max_rank(p);
    if (world == maxr + 1) return 0;
    if (me == 0)
        cli_usage_error("run: plan '%s' uses global ranks up to %d and MPI world rank k is global rank k: launch "
                        "%d processes (mpirun -np %d), not %d",
                        o->plan, maxr, maxr + 1, maxr + 1, world);
    sw_session_close(s);
    MPI_Finalize();
    return 2;
}

static int mpi_fail(int rank, const sw_error *err) {
    char buf[2200];
    fprintf(stderr, "[rank %d] %s\n", rank, sw_error_format(err, buf, sizeof buf));
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 3);
    return 3;
}

static int run_mpi(const run_opts *o) {
    int me = 0, world = 0;
    sw_plan *p = NULL;
    sw_session *s = NULL;
    sw_error err;
    void **ptrs = NULL;
    double *t = NULL;
    sw_session_opts so = {.struct_size = sizeof so, .timeout_s = o->timeout, .zero_padding = o->zero_padding};
    int rc = mpi_begin(o, SW_BACKEND_MPI, &so, &me, &world, &p);
    if (rc) return rc;
    int active = sw_plan_rank_index(p, me) >= 0;
    /* collective and agreed: every process opens a session, also one the plan leaves idle */
    if (sw_session_open(&s, p, me, SW_BACKEND_MPI, &so, &err)) return mpi_open_failed(me, &err);
    if ((rc = mpi_check_world(o, p, me, world, s))) return rc;
    ptrs = calloc((size_t)p->nlocals + 1, sizeof *ptrs);
    t = calloc((size_t)o->iters, sizeof *t);
    if (!ptrs || !t) return mpi_fail(me, (sw__err(&err, SW_NOMEM, "out of memory"), &err));
    if ((rc = alloc_and_bind(p, me, s, ptrs, &err))) return mpi_fail(me, &err);
    if (active) {
        if (o->validate) {
            if ((rc = sw_data_fill(p, me, ptrs, &err))) return mpi_fail(me, &err);
            sw_data_poison(p, me, ptrs);
        }
    }
    if (me == 0)
        printf("run %s: %s -> %s, backend mpi, %d processes, %u tasks in %d waves\n", p->sync, p->from, p->to, world,
               p->ntasks, p->nwaves);
    for (long i = 0; i < o->iters; i++) {
        mpi_barrier_bounded(me, o->timeout, "before a sync");
        double a = MPI_Wtime();
        if ((rc = sw_sync(s, NULL, &err))) return mpi_fail(me, &err);
        double mine = MPI_Wtime() - a, all = 0;
        mpi_max_bounded(&mine, &all, me, o->timeout, "after a sync");
        t[i] = all;
    }
    if (me == 0) print_times(o, p, t, o->iters, stdout);
    rc = 0;
    if (o->validate) {
        sw_data_report rep;
        memset(&rep, 0, sizeof rep);
        if (active && (rc = sw_data_check(p, me, ptrs, &rep, &err))) return mpi_fail(me, &err);
        rc = mpi_validation_result(p, me, world, &rep, "", o->timeout);
    }
    sw_session_close(s);
    for (uint32_t i = 0; i < p->nlocals; i++) free(ptrs[i]);
    free(ptrs);
    free(t);
    sw_plan_free(p);
    MPI_Finalize();
    return rc;
}
#endif

#if defined(SW_HAVE_NCCL) && defined(SW_HAVE_MPI)
/* The device of this process: the plan's device of the rank when this host has it, else
 * the launcher's local rank (modulo the devices). */
static int pick_device(const sw_plan *p, int me, int ndev) {
    int32_t ri = sw_plan_rank_index(p, me);
    if (ri >= 0 && p->ranks[ri].device >= 0 && p->ranks[ri].device < ndev) return p->ranks[ri].device;
    const char *lr = getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    if (!lr) lr = getenv("MPI_LOCALRANKID");
    int l = lr ? atoi(lr) : 0;
    return (l < 0 ? 0 : l) % ndev;
}

static int run_nccl(const run_opts *o) {
    sw_error err;
    /* before MPI: a machine without a GPU says so plainly */
    if (sw_nccl_have_device(&err)) {
        fprintf(stderr, "shardwave: error: run --backend nccl: %s\n", err.msg);
        return 3;
    }
    int me = 0, world = 0, ndev = 0;
    sw_plan *p = NULL;
    sw_session *s = NULL;
    void **ptrs = NULL;
    double *t = NULL;
    sw_session_opts so = {.struct_size = sizeof so, .timeout_s = o->timeout};
    int rc = mpi_begin(o, SW_BACKEND_NCCL, &so, &me, &world, &p);
    if (rc) return rc;
    cudaGetDeviceCount(&ndev);
    int dev = pick_device(p, me, ndev);
    if (cudaSetDevice(dev) != cudaSuccess) { /* a rank without its device still takes part in the agreement */
        sw_error why;
        sw__err(&why, SW_CUDA, "cudaSetDevice(%d) failed", dev);
        sw_session_fail_open(me, SW_BACKEND_NCCL, &so, &why, &err);
        return mpi_open_failed(me, &err);
    }
    int active = sw_plan_rank_index(p, me) >= 0;
    /* collective and agreed: every process opens a session (creates the communicator, warms up) */
    if (sw_session_open(&s, p, me, SW_BACKEND_NCCL, &so, &err)) return mpi_open_failed(me, &err);
    if ((rc = mpi_check_world(o, p, me, world, s))) return rc;
    ptrs = calloc((size_t)p->nlocals + 1, sizeof *ptrs);
    t = calloc((size_t)o->iters, sizeof *t);
    if (!ptrs || !t) return mpi_fail(me, (sw__err(&err, SW_NOMEM, "out of memory"), &err));
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if (l->rank != me) continue;
        size_t n = sw_plan_local_nbytes(l);
        if (cudaMalloc(&ptrs[i], n ? n : 1) != cudaSuccess)
            return mpi_fail(me, (sw__err(&err, SW_CUDA, "cannot allocate %zu bytes of device memory for '%s'", n, l->name),
                                 &err));
        cudaMemset(ptrs[i], 0, n);
        char qual[1024];
        snprintf(qual, sizeof qual, "%s/%s", l->role == SW_ROLE_SRC ? p->from : p->to, l->name);
        if ((rc = sw_bind_rank(s, me, qual, ptrs[i], n, &err))) return mpi_fail(me, &err);
    }
    if (active && o->validate && (rc = sw_nccl_validate_fill(p, me, ptrs, &err))) return mpi_fail(me, &err);
    double wu = sw_session_warmup_s(s), wumax = 0;
    mpi_max_bounded(&wu, &wumax, me, o->timeout, "after the warm-up");
    if (me == 0) {
        printf("run %s: %s -> %s, backend nccl, %d processes (one GPU each), %u tasks in %d waves\n", p->sync, p->from,
               p->to, world, p->ntasks, p->nwaves);
        printf("  warm-up at session open: %.3f ms (slowest rank)\n", wumax * 1e3);
    }
    for (long i = 0; i < o->iters; i++) {
        mpi_barrier_bounded(me, o->timeout, "before a sync");
        double a = MPI_Wtime();
        if ((rc = sw_sync(s, NULL, &err))) return mpi_fail(me, &err);
        cudaError_t ce = cudaStreamSynchronize(NULL);
        if (ce != cudaSuccess) return mpi_fail(me, (sw_cuda_error((int)ce, "cudaStreamSynchronize", &err), &err));
        double mine = MPI_Wtime() - a, all = 0;
        mpi_max_bounded(&mine, &all, me, o->timeout, "after a sync");
        t[i] = all;
    }
    if (me == 0) print_times(o, p, t, o->iters, stdout);
    rc = 0;
    if (o->validate) {
        sw_data_report rep;
        memset(&rep, 0, sizeof rep);
        if (active && (rc = sw_nccl_validate_check(p, me, ptrs, &rep, &err))) return mpi_fail(me, &err);
        rc = mpi_validation_result(p, me, world, &rep, " on the device", o->timeout);
    }
    sw_session_close(s);
    for (uint32_t i = 0; i < p->nlocals; i++)
        if (ptrs[i]) cudaFree(ptrs[i]);
    free(ptrs);
    free(t);
    sw_plan_free(p);
    MPI_Finalize();
    return rc;
}
#endif

int cmd_run(int argc, char **argv) {
    run_opts o = {NULL, SW_BACKEND_LOCAL, 0, 0, 1, 60};
    const char *backend = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(run_help, stdout);
            return 0;
        } else if (!strcmp(a, "--validate")) {
            o.validate = 1;
        } else if (!strcmp(a, "--zero-padding")) {
            o.zero_padding = 1;
        } else if (!strcmp(a, "--backend") || !strcmp(a, "--iters") || !strcmp(a, "--timeout")) {
            if (i + 1 >= argc) return cli_usage_error("run: %s needs a value", a);
            const char *v = argv[++i];
            char *end;
            if (!strcmp(a, "--backend")) {
                backend = v;
            } else if (!strcmp(a, "--iters")) {
                o.iters = strtol(v, &end, 10);
                if (end == v || *end || o.iters < 1 || o.iters > 1000000)
                    return cli_usage_error("run: --iters must be a positive integer, got '%s'", v);
            } else {
                o.timeout = strtod(v, &end);
                if (end == v || *end || !(o.timeout > 0))
                    return cli_usage_error("run: --timeout must be a positive number of seconds, got '%s'", v);
            }
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("run: unknown option '%s' (see shardwave run --help)", a);
        } else if (o.plan) {
            return cli_usage_error("run: one PLAN only");
        } else {
            o.plan = a;
        }
    }
    if (!o.plan) return cli_usage_error("run: missing PLAN (see shardwave run --help)");
    if (!backend) return cli_usage_error("run: missing --backend local|mpi|nccl");
    if (!strcmp(backend, "local")) return run_local(&o);
    if (!strcmp(backend, "mpi")) {
#ifdef SW_HAVE_MPI
        return run_mpi(&o);
#else
        return cli_usage_error("run: this build of shardwave has no MPI: the mpi backend is not available");
#endif
    }
    if (!strcmp(backend, "nccl")) {
#if defined(SW_HAVE_NCCL) && defined(SW_HAVE_MPI)
        if (o.zero_padding) return cli_usage_error("run: --zero-padding is not supported by the nccl backend yet");
        return run_nccl(&o);
#elif defined(SW_HAVE_NCCL)
        return cli_usage_error("run: this build of shardwave has CUDA/NCCL but no MPI to launch ranks with: the nccl "
                               "backend is available to embedders only (sw_session_opts.nccl_comm)");
#else
        return cli_usage_error("run: this build of shardwave has no CUDA/NCCL: the nccl backend is not available");
#endif
    }
    return cli_usage_error("run: unknown backend '%s' (local, mpi, nccl)", backend);
}
