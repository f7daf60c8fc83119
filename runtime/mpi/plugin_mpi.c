/*
 * plugin_mpi.c - libshardwave-mpi.so: the mpi backend and the MPI communicator calls that
 * the nccl bootstrap and `shardwave run` need, as one plugin table (see plugin.h).
 */
#include <limits.h>
#include <stdio.h>

#include "backend_mpi.h"
#include "diag.h"
#include "plugin.h"

static MPI_Comm comm_of(const void *comm) { return comm ? *(const MPI_Comm *)comm : MPI_COMM_WORLD; }

static int mp_open(void **ctx, sw_backend *b, sw_exec *x, int32_t rank, const sw_session_opts *o, const sw_boot *boot,
                   sw_error *err) {
    (void)x, (void)rank, (void)boot;
    sw_mpi_ctx *c = NULL;
    SW_CHECK(sw_mpi_open(&c, b, (const MPI_Comm *)o->mpi_comm, o->timeout_s, err));
    *ctx = c;
    return SW_OK;
}

static void mp_close(void *ctx) { sw_mpi_close(ctx); }
static double mp_warmup_s(const void *ctx) {
    (void)ctx;
    return 0;
}

static int mp_init(int *rank, int *size, sw_error *err) {
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    /* funneled: MPI is called from the main thread only, but `run` has a watchdog thread */
    if (!inited) SW_MPI_CHECK(MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided), err);
    SW_MPI_CHECK(MPI_Comm_rank(MPI_COMM_WORLD, rank), err);
    SW_MPI_CHECK(MPI_Comm_size(MPI_COMM_WORLD, size), err);
    return SW_OK;
}

static void mp_finalize(void) {
    int inited = 0, fin = 0;
    MPI_Initialized(&inited);
    MPI_Finalized(&fin);
    if (inited && !fin) MPI_Finalize();
}

static void mp_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static int mp_bcast(void *ctx, void *buf, size_t n, int root, sw_error *err) {
    if (n > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "a broadcast of %zu bytes", n);
    SW_MPI_CHECK(MPI_Bcast(buf, (int)n, MPI_BYTE, root, comm_of(ctx)), err);
    return SW_OK;
}

static int mp_boot_allgather(void *ctx, const void *mine, void *all, size_t n, sw_error *err) {
    if (n > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "a gather of %zu bytes", n);
    SW_MPI_CHECK(MPI_Allgather(mine, (int)n, MPI_BYTE, all, (int)n, MPI_BYTE, comm_of(ctx)), err);
    return SW_OK;
}

static int mp_boot(const void *comm, sw_boot *boot, sw_error *err) {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited)
        return sw__err(err, SW_USAGE, "MPI is not initialised: call MPI_Init first, or pass an ncclComm_t in "
                                      "sw_session_opts.nccl_comm");
    MPI_Comm mc = comm_of(comm);
    SW_MPI_CHECK(MPI_Comm_rank(mc, &boot->rank), err);
    SW_MPI_CHECK(MPI_Comm_size(mc, &boot->size), err);
    boot->ctx = (void *)comm;
    boot->bcast = mp_bcast;
    boot->allgather = mp_boot_allgather;
    return SW_OK;
}

static int mp_barrier(const void *comm, sw_error *err) {
    SW_MPI_CHECK(MPI_Barrier(comm_of(comm)), err);
    return SW_OK;
}

static int mp_max(const void *comm, double *v, size_t n, sw_error *err) {
    if (n > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "a reduction of %zu values", n);
    SW_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, MPI_MAX, comm_of(comm)), err);
    return SW_OK;
}

static int mp_sum(const void *comm, uint64_t *v, size_t n, sw_error *err) {
    if (n > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "a reduction of %zu values", n);
    SW_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_SUM, comm_of(comm)), err);
    return SW_OK;
}

/* ---- the bounded collectives: nonblocking, then a wait with a deadline ---- */

static int mp_allgather(const void *comm, const void *mine, void *all, size_t n, double timeout_s, const char *what,
                        sw_error *err) {
    if (n > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "an all-gather of %zu bytes", n);
    MPI_Request r;
    SW_MPI_CHECK(MPI_Iallgather(mine, (int)n, MPI_BYTE, all, (int)n, MPI_BYTE, comm_of(comm), &r), err);
    return sw_mpi_wait(comm_of(comm), &r, timeout_s, what, err);
}

static int mp_bcast_within(const void *comm, void *buf, size_t n, int root, double timeout_s, const char *what,
                           sw_error *err) {
    if (n > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "a broadcast of %zu bytes", n);
    MPI_Request r;
    SW_MPI_CHECK(MPI_Ibcast(buf, (int)n, MPI_BYTE, root, comm_of(comm), &r), err);
    return sw_mpi_wait(comm_of(comm), &r, timeout_s, what, err);
}

static int mp_barrier_within(const void *comm, double timeout_s, const char *what, sw_error *err) {
    MPI_Request r;
    SW_MPI_CHECK(MPI_Ibarrier(comm_of(comm), &r), err);
    return sw_mpi_wait(comm_of(comm), &r, timeout_s, what, err);
}

static int mp_max_within(const void *comm, double *v, size_t n, double timeout_s, const char *what, sw_error *err) {
    if (n > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "a reduction of %zu values", n);
    MPI_Request r;
    SW_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, MPI_MAX, comm_of(comm), &r), err);
    return sw_mpi_wait(comm_of(comm), &r, timeout_s, what, err);
}

static int mp_sum_within(const void *comm, uint64_t *v, size_t n, double timeout_s, const char *what,
                         sw_error *err) {
    if (n > INT_MAX) return sw__err(err, SW_UNSUPPORTED, "a reduction of %zu values", n);
    MPI_Request r;
    SW_MPI_CHECK(MPI_Iallreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_SUM, comm_of(comm), &r), err);
    return sw_mpi_wait(comm_of(comm), &r, timeout_s, what, err);
}

static const sw_plugin table = {
    SW_PLUGIN_HEADER("mpi"),
    .open = mp_open,
    .close = mp_close,
    .warmup_s = mp_warmup_s,
    .comm_init = mp_init,
    .comm_finalize = mp_finalize,
    .comm_abort = mp_abort,
    .comm_boot = mp_boot,
    .comm_barrier = mp_barrier,
    .comm_max = mp_max,
    .comm_sum = mp_sum,
    .comm_allgather = mp_allgather,
    .comm_bcast_within = mp_bcast_within,
    .comm_barrier_within = mp_barrier_within,
    .comm_max_within = mp_max_within,
    .comm_sum_within = mp_sum_within,
};

/* The one symbol the plugin exports (runtime/plugin.map). */
__attribute__((visibility("default"))) const sw_plugin *sw_plugin_entry_v1(void);
const sw_plugin *sw_plugin_entry_v1(void) { return &table; }
