/* shardwave run PLAN --backend local|mpi|nccl [--validate] [--iters N] [--timeout S] [--zero-padding] [--quiet]
 *
 * The run goes through the public API only (sessions, binds, sw_validation_fill/check),
 * one timing loop for every backend.  What the API does not do is the launcher's: the
 * processes of an mpi or nccl run (MPI_Init, world rank and size, a barrier and
 * reductions, stopping the job) and device memory for nccl, taken from the backends'
 * plugins (runtime/plugin.h), so that the command itself links neither MPI nor CUDA. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "diag.h"
#include "plan.h"   /* the plan's byte count and devices, for the report */
#include "plugin.h" /* the launcher's MPI and device calls */
#include "shardwave.h"

static const char run_help[] =
    "usage: shardwave run PLAN --backend local|mpi|nccl [--validate] [--iters N] [--timeout S]\n"
    "                          [--zero-padding] [--quiet]\n"
    "\n"
    "Executes a compiled plan.  local: every rank is a thread of this process.  mpi: one\n"
    "process per rank, `mpirun -np N shardwave run PLAN --backend mpi`, MPI world rank k is\n"
    "global rank k (N = the plan's highest rank + 1).  nccl: one process per GPU, launched the\n"
    "same way, tensors in device memory, --validate fills and checks on the device (rank k\n"
    "uses its local rank modulo the GPUs: LOCAL_RANK, OMPI_COMM_WORLD_LOCAL_RANK or\n"
    "MPI_LOCALRANKID; without one the plan's device of rank k; processes that share a GPU\n"
    "exchange data through CUDA IPC, not NCCL).  An mpi or nccl process reads the plan's\n"
    "header and its own rank's section only (the whole plan with --validate).  The mpi and\n"
    "nccl backends are plugins\n"
    "(libshardwave-mpi.so, libshardwave-nccl.so) loaded when asked for; SHARDWAVE_PLUGIN_DIR\n"
    "says where they are when they are not next to the program or its lib/ folder.\n"
    "\n"
    "  --validate       fill every source element from (logical tensor, index), run, check every\n"
    "                   destination element; exit 0 only if all of them match\n"
    "  --iters N        run N syncs: the first is timed separately (warm-up), then the median\n"
    "  --timeout S      a rank that waits longer than S seconds on a peer fails (default 60)\n"
    "  --zero-padding   zero the padding rows of destination tensors after each sync\n"
    "  --quiet          no progress on stderr (printed by rank 0 for runs longer than a second)\n"
    "\n"
    "Exit status: 0 success, 1 bad plan, 2 bad usage, 3 runtime failure or mismatches.\n";

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct run_opts {
    const char *plan;
    sw_backend_kind backend;
    int validate, zero_padding, quiet;
    long iters;
    double timeout;
} run_opts;

/* The watchdog of a process of an mpi or nccl run: a thread that ends the process (exit
 * status 3, with a message) when its launcher is gone (the process was re-parented:
 * mpirun or its daemon died, and nobody would ever stop this rank), or when a phase that
 * has no deadline of its own (MPI_Init, MPI_Finalize: they wait for every process)
 * outlasts --timeout, or 60 s when that is shorter (starting MPI on many processes can
 * take seconds where a sync takes milliseconds).  Everything else that waits for other processes (the agreement at
 * open, the syncs, the launcher's barrier and reductions) has its own deadline. */
typedef struct watchdog {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started, stop;
    pid_t parent;      /* at start */
    int me;            /* -1 until known */
    const char *phase; /* armed: what must end by `deadline` */
    double deadline, timeout;
} watchdog;

/* The launcher: one process (local), or one per rank over MPI (mpi, nccl; the mpi
 * plugin), and device memory (nccl; the nccl plugin). */
typedef struct launch {
    sw_backend_kind kind;
    sw_plugin_ref mpi, dev;
    int me, world;  /* 0 and 1 in one process */
    int mpi_up;     /* MPI initialised: finalize at the end */
    double timeout; /* --timeout: also bounds every collective of the launcher */
    watchdog dog;
} launch;

/* The memory the run binds, freed at the end. */
typedef struct tensors {
    void **ptr;
    size_t n, cap;
} tensors;

/* A rank that the launcher stops (another rank failed) still says what happened. */
static void on_term(int sig) {
    static const char msg[] = "shardwave: error: this rank was stopped (another rank failed or the job was cancelled)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    (void)sig;
    _exit(3);
}

/* A failure after the launch: one process prints it and exits with its status; one of
 * several says which rank it is and stops the job (the others would wait for it). */
static int launch_fail(const launch *L, const sw_error *err) {
    if (!L->mpi_up) return cli_fail(err);
    char buf[2200];
    fprintf(stderr, "[rank %d] %s\n", L->me, sw_error_format(err, buf, sizeof buf));
    fflush(stderr);
    L->mpi.api->comm_abort(3);
    return 3;
}

/* The launcher's collectives, no-ops in one process.  Each is bounded by --timeout: a
 * rank that never arrives (stopped, stuck, dead) makes the others fail with SW_TIMEOUT
 * naming `what`, and launch_fail then stops the job, instead of waiting forever. */
static int l_barrier(const launch *L, const char *what, sw_error *err) {
    return L->mpi_up ? L->mpi.api->comm_barrier_within(NULL, L->timeout, what, err) : SW_OK;
}
static int l_max(const launch *L, double *v, const char *what, sw_error *err) {
    return L->mpi_up ? L->mpi.api->comm_max_within(NULL, v, 1, L->timeout, what, err) : SW_OK;
}
static int l_sum(const launch *L, uint64_t *v, size_t n, const char *what, sw_error *err) {
    return L->mpi_up ? L->mpi.api->comm_sum_within(NULL, v, n, L->timeout, what, err) : SW_OK;
}

/* An open of the session that failed: over MPI it was agreed (every process has the same
 * error: rank 0 prints it, every process exits with its status), except a timeout (not
 * every process took part: this one says so and stops the job). */
static int open_failed(const launch *L, const sw_error *err) {
    if (!L->mpi_up) return cli_fail(err);
    if (err->status == SW_TIMEOUT) return launch_fail(L, err);
    if (L->me == 0) cli_fail(err);
    fflush(stderr);
    return cli_exit_code(err->status);
}

/* This process cannot open its session (why): over MPI it still takes part in the
 * agreement at open, so that the others stop at once with its reason. */
static int cannot_open(const launch *L, const sw_session_opts *so, const sw_error *why) {
    if (!L->mpi_up) return cli_fail(why);
    sw_error err;
    sw_session_fail_open(L->me, L->kind, so, why, &err);
    return open_failed(L, &err);
}

/* Loads a backend's plugin for `run`; on failure prints why and returns the exit status
 * (3: this machine lacks what the backend needs). */
static int load_plugin(const char *name, sw_plugin_ref *ref, const char *backend) {
    sw_error err;
    if (sw_plugin_load(name, ref, &err) == SW_OK) return 0;
    fprintf(stderr, "shardwave: error: run --backend %s: %s\n", backend, err.msg);
    return 3;
}

static void dog_exit(const watchdog *w, const char *why) {
    char msg[512];
    int n = w->me >= 0 ? snprintf(msg, sizeof msg, "[rank %d] shardwave: error: %s: stopping this process\n", w->me, why)
                       : snprintf(msg, sizeof msg, "shardwave: error: %s: stopping this process\n", why);
    ssize_t k = write(2, msg, n > 0 && (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    (void)k;
    _exit(3);
}

static void *dog_main(void *arg) {
    watchdog *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->stop) break;
        char why[256];
        if (getppid() != w->parent) {
            snprintf(why, sizeof why, "the launcher (parent process %d) is gone", (int)w->parent);
            dog_exit(w, why);
        }
        if (w->phase && sw_now_s() > w->deadline) {
            snprintf(why, sizeof why, "%s did not finish within %g s: another process is stuck or gone", w->phase,
                     w->timeout);
            dog_exit(w, why);
        }
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void dog_start(watchdog *w, double timeout) {
    memset(w, 0, sizeof *w);
    w->parent = getppid();
    w->me = -1;
    w->timeout = timeout > 60 ? timeout : 60;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->started = pthread_create(&w->thread, NULL, dog_main, w) == 0;
}

/* Arms the watchdog for a phase (NULL: disarms it); me: this process's rank (-1: not known). */
static void dog_arm(watchdog *w, const char *phase, int me) {
    if (!w->started) return;
    pthread_mutex_lock(&w->mu);
    w->phase = phase;
    w->deadline = sw_now_s() + w->timeout;
    w->me = me;
    pthread_mutex_unlock(&w->mu);
}

static void dog_stop(watchdog *w) {
    if (!w->started) return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    w->started = 0;
}

/* Starts the processes of an mpi or nccl run: MPI_Init (under the watchdog), world rank
 * and size, a message on SIGTERM.  nccl first checks for a device (before MPI: a machine without a GPU says
 * so plainly).  Returns 0 or an exit status. */
static int launch_start(launch *L, const char *backend) {
    sw_error err;
    int rc;
    if (L->kind == SW_BACKEND_NCCL) {
        if ((rc = load_plugin("nccl", &L->dev, backend))) return rc;
        if (L->dev.api->have_device(&err)) {
            fprintf(stderr, "shardwave: error: run --backend nccl: %s\n", err.msg);
            return 3;
        }
    }
    if (L->kind == SW_BACKEND_LOCAL) return 0;
    if ((rc = load_plugin("mpi", &L->mpi, backend))) return rc;
    if (!L->mpi.api->comm_barrier_within) {
        fprintf(stderr, "shardwave: error: run --backend %s: the mpi plugin is from another build\n", backend);
        return 3;
    }
    dog_start(&L->dog, L->timeout);
    dog_arm(&L->dog, "MPI_Init", -1);
    if (L->mpi.api->comm_init(&L->me, &L->world, &err)) {
        fprintf(stderr, "shardwave: error: run --backend %s: %s\n", backend, err.msg);
        return 3;
    }
    dog_arm(&L->dog, NULL, L->me);
    L->mpi_up = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    return 0;
}

static void launch_end(launch *L) {
    dog_arm(&L->dog, "MPI_Finalize", L->me);
    if (L->mpi_up) L->mpi.api->comm_finalize();
    dog_stop(&L->dog);
    sw_plugin_unload(&L->mpi);
    sw_plugin_unload(&L->dev);
}

/* nccl: the device of this process: the launcher's local rank (torchrun's LOCAL_RANK,
 * OpenMPI's, MPICH's) modulo the devices when the launcher gives one, else the plan's
 * device of the rank when this host has it, else device 0.  The local rank comes first:
 * `mpirun -np 8` of a plan that puts two ranks on each of 4 GPUs gets 8 GPUs on an 8-GPU
 * box (NCCL), and the plan's sharing on a 4-GPU one (CUDA IPC between the GPU's two
 * processes, docs/nccl.md). */
static int pick_device(const launch *L, const sw_plan *p, int ndev) {
    static const char *vars[] = {"LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID"};
    const char *lr = NULL;
    for (size_t i = 0; i < sizeof vars / sizeof *vars && !lr; i++) lr = getenv(vars[i]);
    if (lr && lr[0]) {
        int l = atoi(lr);
        return (l < 0 ? 0 : l) % ndev;
    }
    int32_t ri = sw_plan_rank_index(p, L->me);
    if (ri >= 0 && p->ranks[ri].device >= 0 && p->ranks[ri].device < ndev) return p->ranks[ri].device;
    return 0;
}

/* Allocates every local tensor of `rank` (zeroed; device memory with nccl) and binds it
 * as "LAYOUT/NAME", unambiguous also when the rank holds the name in both layouts. */
static int bind_rank(const launch *L, sw_session *s, const sw_plan *p, int rank, tensors *m, sw_error *err) {
    size_t count = 0;
    int rc = sw_plan_tensors(p, rank, NULL, 0, &count, err);
    if (rc) return rc;
    sw_tensor_info *info = calloc(count + 1, sizeof *info);
    if (!info) return sw__err(err, SW_NOMEM, "out of memory");
    if ((rc = sw_plan_tensors(p, rank, info, count, &count, err))) goto out;
    for (size_t i = 0; i < count && rc == SW_OK; i++) {
        const sw_tensor_info *t = &info[i];
        if (SW_GROW(m->ptr, m->cap, m->n + 1)) {
            rc = sw__err(err, SW_NOMEM, "out of memory");
            break;
        }
        void *mem = NULL;
        if (L->kind == SW_BACKEND_NCCL) {
            if ((rc = L->dev.api->dev_alloc(&mem, t->nbytes, err))) break;
        } else if (!(mem = calloc(1, t->nbytes ? t->nbytes : 1))) {
            rc = sw__err(err, SW_NOMEM, "cannot allocate %zu bytes for '%s' of rank %d", t->nbytes, t->name, rank);
            break;
        }
        m->ptr[m->n++] = mem;
        char qual[1024];
        snprintf(qual, sizeof qual, "%s/%s", t->layout, t->name);
        rc = sw_bind_rank(s, rank, qual, mem, t->nbytes, err);
    }
out:
    free(info);
    return rc;
}

static void free_tensors(const launch *L, tensors *m) {
    for (size_t i = 0; i < m->n; i++) {
        if (L->kind == SW_BACKEND_NCCL)
            L->dev.api->dev_free(m->ptr[i]);
        else
            free(m->ptr[i]);
    }
    free(m->ptr);
}

static void print_times(const sw_plan *p, const double *t, long n, FILE *f) {
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
}

/* After the syncs: every rank checks its destination elements (sw_validation_check);
 * a rank with wrong ones says how many and the first; rank 0 sums them up.  Returns 0
 * when every element of every rank matched, else 3.  Collective. */
static int validation_result(const launch *L, sw_session *s, int nranks) {
    sw_error err;
    uint64_t checked = 0;
    int rc = sw_validation_check(s, &checked, &err);
    if (rc && rc != SW_MISMATCH) return launch_fail(L, &err);
    if (rc == SW_MISMATCH) {
        if (!L->mpi_up) {
            fprintf(stderr, "shardwave: error: validation failed: %s\n", err.msg);
            return 3;
        }
        fprintf(stderr, "[rank %d] shardwave: error: validation failed: %s\n", L->me, err.msg);
        fflush(stderr);
    }
    uint64_t tot[2] = {checked, rc == SW_MISMATCH};
    if (l_sum(L, tot, 2, "summing the validation", &err) || l_barrier(L, "after the validation", &err))
        return launch_fail(L, &err);
    const char *where = L->kind == SW_BACKEND_NCCL ? " on the device" : "";
    if (tot[1]) {
        if (L->me == 0)
            fprintf(stderr, "shardwave: error: validation failed on %llu of %d ranks (%llu destination elements "
                            "checked)\n",
                    (unsigned long long)tot[1], L->world, (unsigned long long)tot[0]);
        return 3;
    }
    if (L->me == 0)
        printf("validate: %llu destination elements checked%s on %d ranks, all match\n", (unsigned long long)tot[0],
               where, nranks);
    return 0;
}

static int run(const run_opts *o, const char *backend) {
    launch L = {.kind = o->backend, .world = 1, .timeout = o->timeout};
    sw_plan *p = NULL;
    sw_session *s = NULL;
    tensors m = {NULL, 0, 0};
    double *t = NULL;
    int *ranks = NULL;
    sw_error err;
    sw_session_opts so = {.struct_size = sizeof so, .timeout_s = o->timeout, .zero_padding = o->zero_padding};
    int rc = launch_start(&L, backend);
    if (rc) goto out;
    cli_progress_t pr;
    cli_progress_init(&pr, "run", o->quiet || L.me != 0);
    cli_progress(&pr, "load the plan", -1, 0);
    /* every process loads the plan; over MPI one that cannot still takes part in the
     * agreement at open (cannot_open), and every process says or learns why.  A process of
     * an mpi or nccl run reads the plan's header and its own section only; --validate
     * follows relay chains through other ranks' transfers: the whole plan */
    int part = L.mpi_up && !o->validate;
    rc = part ? sw_plan_load_rank(&p, o->plan, L.me, &err) : sw_plan_load(&p, o->plan, &err);
    if (part && rc == SW_USAGE) rc = sw_plan_load(&p, o->plan, &err); /* a rank the plan leaves idle */
    if (rc) {
        rc = cannot_open(&L, &so, &err);
        goto out;
    }
    sw_plan_info info;
    sw_plan_get_info(p, &info, NULL);
    if (L.kind == SW_BACKEND_NCCL) {
        int ndev = 0;
        if ((rc = L.dev.api->device_count(&ndev, &err)) || (rc = L.dev.api->set_device(pick_device(&L, p, ndev), &err))) {
            rc = cannot_open(&L, &so, &err);
            goto out;
        }
    }
    t = calloc((size_t)o->iters, sizeof *t);
    size_t nr = sw_plan_ranks(p, NULL, 0);
    ranks = calloc(nr + 1, sizeof *ranks);
    if (!t || !ranks) {
        rc = cannot_open(&L, &so, (sw__err(&err, SW_NOMEM, "out of memory"), &err));
        goto out;
    }
    sw_plan_ranks(p, ranks, nr);
    /* mpi, nccl: collective and agreed (every process has the same plan, or every one
     * fails alike); every process opens a session, also one the plan leaves idle */
    cli_progress(&pr, "open the session", -1, 0);
    if ((rc = sw_session_open(&s, p, L.mpi_up ? L.me : -1, L.kind, &so, &err))) {
        rc = open_failed(&L, &err);
        goto out;
    }
    if (L.mpi_up && L.world != info.max_rank + 1) {
        /* MPI world rank k is global rank k (the agreement refused fewer processes; more
         * would leave ranks idle); the same plan everywhere: every process knows it */
        if (L.me == 0)
            cli_usage_error("run: plan '%s' uses global ranks up to %d and MPI world rank k is global rank k: launch "
                            "%d processes (mpirun -np %d), not %d",
                            o->plan, info.max_rank, info.max_rank + 1, info.max_rank + 1, L.world);
        rc = 2;
        goto out;
    }
    cli_progress(&pr, "bind the tensors", -1, 0);
    if (L.mpi_up)
        rc = bind_rank(&L, s, p, L.me, &m, &err);
    else
        for (size_t i = 0; i < nr && rc == SW_OK; i++) rc = bind_rank(&L, s, p, ranks[i], &m, &err);
    if (rc == SW_OK && o->validate) {
        cli_progress(&pr, "fill the sources", -1, 0);
        rc = sw_validation_fill(s, &err);
    }
    double warmup = sw_session_warmup_s(s);
    if (rc == SW_OK) rc = l_max(&L, &warmup, "after the warm-up", &err);
    if (rc) {
        rc = launch_fail(&L, &err);
        goto out;
    }
    if (L.me == 0) {
        if (L.kind == SW_BACKEND_LOCAL)
            printf("run %s: %s -> %s, backend local, %d ranks as threads, %llu tasks in %d waves\n", info.sync,
                   info.from, info.to, info.nranks, (unsigned long long)info.ntasks, info.nwaves);
        else
            printf("run %s: %s -> %s, backend %s, %d processes%s, %llu tasks in %d waves\n", info.sync, info.from,
                   info.to, backend, L.world, L.kind == SW_BACKEND_NCCL ? " (one GPU each)" : "",
                   (unsigned long long)info.ntasks, info.nwaves);
        if (L.kind == SW_BACKEND_NCCL) printf("  warm-up at session open: %.3f ms (slowest rank)\n", warmup * 1e3);
        fflush(stdout);
    }
    /* one timing loop for every backend: the slowest rank's time of each sync */
    for (long i = 0; i < o->iters; i++) {
        if ((rc = l_barrier(&L, "before a sync", &err))) break;
        double a = sw_now_s();
        if ((rc = sw_sync(s, NULL, &err))) {
            if (!L.mpi_up) {
                fprintf(stderr, "shardwave: error: sync %ld of %ld failed: %s\n", i + 1, o->iters, err.msg);
                rc = 3;
                goto out;
            }
            break;
        }
        /* nccl: sw_sync returns with the last unpack queued on the stream */
        if (L.kind == SW_BACKEND_NCCL && (rc = L.dev.api->dev_sync(&err))) break;
        t[i] = sw_now_s() - a;
        if ((rc = l_max(&L, &t[i], "after a sync", &err))) break;
        cli_progress(&pr, "syncs", i + 1, o->iters);
    }
    if (rc) {
        rc = launch_fail(&L, &err);
        goto out;
    }
    if (L.me == 0) print_times(p, t, o->iters, stdout);
    if (o->validate) cli_progress(&pr, "check the destinations", -1, 0);
    rc = o->validate ? validation_result(&L, s, L.mpi_up ? L.world : info.nranks) : 0;
out:
    sw_session_close(s); /* before the memory and the plan it uses */
    free_tensors(&L, &m);
    sw_plan_free(p);
    free(t);
    free(ranks);
    launch_end(&L);
    return rc;
}

int cmd_run(int argc, char **argv) {
    run_opts o = {.plan = NULL, .backend = SW_BACKEND_LOCAL, .iters = 1, .timeout = 60};
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
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = 1;
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
    if (!strcmp(backend, "local")) {
        o.backend = SW_BACKEND_LOCAL;
    } else if (!strcmp(backend, "mpi")) {
#ifndef SW_HAVE_MPI
        return cli_usage_error("run: this build of shardwave has no MPI: the mpi backend is not available");
#endif
        o.backend = SW_BACKEND_MPI;
    } else if (!strcmp(backend, "nccl")) {
#if !defined(SW_HAVE_NCCL)
        return cli_usage_error("run: this build of shardwave has no CUDA/NCCL: the nccl backend is not available");
#elif !defined(SW_HAVE_MPI)
        return cli_usage_error("run: this build of shardwave has CUDA/NCCL but no MPI to launch ranks with: the nccl "
                               "backend is available to embedders only (sw_session_opts.nccl_comm)");
#endif
        if (o.zero_padding) return cli_usage_error("run: --zero-padding is not supported by the nccl backend yet");
        o.backend = SW_BACKEND_NCCL;
    } else {
        return cli_usage_error("run: unknown backend '%s' (local, mpi, nccl)", backend);
    }
    return run(&o, backend);
}
