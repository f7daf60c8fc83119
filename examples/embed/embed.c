/*
 * embed.c - shardwave embedded in a C program, with the public API only (shardwave.h).
 *
 *   shardwave compile examples/pipeline_tiny.sw --sync pp2_to_pp3 -o pp.swp
 *   build/shardwave_embed pp.swp                       # local backend: every rank a thread
 *   mpirun -np 7 build/shardwave_embed pp.swp --mpi    # mpi backend: one process per rank
 *
 * The program owns the memory: it asks the plan which tensors a rank holds
 * (sw_plan_tensors), allocates them, binds them (sw_bind_rank for the local backend, where
 * one session holds every rank; sw_bind for mpi, where each process is one rank) and
 * syncs three times.  Before each sync sw_validation_fill writes a recognisable pattern
 * into the sources (and poison into the destinations); after it sw_validation_check
 * checks every destination element.  Exit status 0 only if every element matched.
 *
 * Error handling: every call returns a status (0 = SW_OK) and fills an sw_error; print it
 * with sw_error_format and clean up.  The library never exits or aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shardwave.h"
#ifdef EMBED_WITH_MPI
#include <mpi.h>
#endif

enum { SYNCS = 3 };

/* The program's own buffers, freed at the end. */
typedef struct buffers {
    void **ptr;
    size_t n, cap;
    size_t bytes;
} buffers;

static int fail(sw_error *err, int status, const char *msg) {
    memset(err, 0, sizeof *err);
    err->status = status;
    snprintf(err->msg, sizeof err->msg, "%s", msg);
    return status;
}

/* Allocates and binds every tensor of `rank`.  all_ranks: the session holds every rank
 * (local backend), so say whose tensor it is with sw_bind_rank. */
static int alloc_and_bind(sw_session *s, const sw_plan *plan, int rank, int all_ranks, buffers *b, sw_error *err) {
    size_t count = 0;
    int rc = sw_plan_tensors(plan, rank, NULL, 0, &count, err);
    if (rc) return rc;
    sw_tensor_info *info = calloc(count + 1, sizeof *info);
    if (!info) return fail(err, SW_NOMEM, "out of memory");
    if ((rc = sw_plan_tensors(plan, rank, info, count, &count, err))) goto out;
    for (size_t i = 0; i < count && !rc; i++) {
        const sw_tensor_info *t = &info[i];
        if (b->n == b->cap) {
            size_t cap = b->cap ? 2 * b->cap : 64;
            void **p = realloc(b->ptr, cap * sizeof *p);
            if (!p) {
                rc = fail(err, SW_NOMEM, "out of memory");
                break;
            }
            b->ptr = p;
            b->cap = cap;
        }
        void *mem = malloc(t->nbytes ? t->nbytes : 1);
        if (!mem) {
            rc = fail(err, SW_NOMEM, "out of memory allocating a tensor");
            break;
        }
        b->ptr[b->n++] = mem;
        b->bytes += t->nbytes;
        /* "LAYOUT/NAME" is unambiguous also when a rank holds the name in both layouts */
        char name[1024];
        snprintf(name, sizeof name, "%s/%s", t->layout, t->name);
        rc = all_ranks ? sw_bind_rank(s, rank, name, mem, t->nbytes, err) : sw_bind(s, name, mem, t->nbytes, err);
    }
out:
    free(info);
    return rc;
}

/* SYNCS times: fill, sync, check.  *checked: elements checked by the last sync. */
static int sync_and_check(sw_session *s, uint64_t *checked, sw_error *err) {
    for (int i = 0; i < SYNCS; i++) {
        int rc;
        if ((rc = sw_validation_fill(s, err)) || (rc = sw_sync(s, NULL, err)) ||
            (rc = sw_validation_check(s, checked, err)))
            return rc;
    }
    return SW_OK;
}

static void free_buffers(buffers *b) {
    for (size_t i = 0; i < b->n; i++) free(b->ptr[i]);
    free(b->ptr);
}

static int run_local(const char *path) {
    sw_plan *plan = NULL;
    sw_session *s = NULL;
    buffers b = {0};
    sw_error err;
    uint64_t checked = 0;
    int rc;
    if ((rc = sw_plan_load(&plan, path, &err))) goto out;
    if ((rc = sw_session_open(&s, plan, -1, SW_BACKEND_LOCAL, NULL, &err))) goto out;
    for (int r = 0; r <= sw_plan_max_rank(plan) && !rc; r++) rc = alloc_and_bind(s, plan, r, 1, &b, &err);
    if (rc || (rc = sync_and_check(s, &checked, &err))) goto out;
    printf("embed (local): %d ranks, %zu tensors, %zu bytes bound; %d syncs, each checked: %llu destination "
           "elements, all match\n",
           sw_plan_max_rank(plan) + 1, b.n, b.bytes, SYNCS, (unsigned long long)checked);
out:
    if (rc) {
        char msg[2200];
        fprintf(stderr, "embed: %s\n", sw_error_format(&err, msg, sizeof msg));
    }
    sw_session_close(s); /* close the session before freeing the plan and the memory */
    sw_plan_free(plan);
    free_buffers(&b);
    return rc ? 1 : 0;
}

#ifdef EMBED_WITH_MPI
static int run_mpi(const char *path) {
    int me = 0, world = 0;
    MPI_Init(NULL, NULL); /* the caller initialises MPI, not shardwave */
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    sw_plan *plan = NULL;
    sw_session *s = NULL;
    buffers b = {0};
    sw_error err;
    uint64_t checked = 0;
    int rc;
    if ((rc = sw_plan_load(&plan, path, &err))) goto out;
    if (world != sw_plan_max_rank(plan) + 1) {
        char msg[256];
        snprintf(msg, sizeof msg, "the plan needs %d processes (mpirun -np %d), not %d", sw_plan_max_rank(plan) + 1,
                 sw_plan_max_rank(plan) + 1, world);
        rc = fail(&err, SW_USAGE, msg);
        goto out;
    }
    /* collective: every process opens one, also a rank the plan leaves idle */
    if ((rc = sw_session_open(&s, plan, me, SW_BACKEND_MPI, NULL, &err))) goto out;
    if ((rc = alloc_and_bind(s, plan, me, 0, &b, &err))) goto out;
    rc = sync_and_check(s, &checked, &err);
out:
    if (rc) {
        /* one failed rank cannot finish a sync the others wait on: stop the job */
        char msg[2200];
        fprintf(stderr, "embed [rank %d]: %s\n", me, sw_error_format(&err, msg, sizeof msg));
        fflush(stderr);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    unsigned long long mine[2] = {checked, b.n}, all[2] = {0, 0};
    MPI_Reduce(mine, all, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (me == 0)
        printf("embed (mpi): %d processes, %llu tensors; %d syncs, each checked: %llu destination elements, "
               "all match\n",
               world, all[1], SYNCS, all[0]);
    sw_session_close(s);
    sw_plan_free(plan);
    free_buffers(&b);
    MPI_Finalize();
    return 0;
}
#endif

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--mpi"))) {
        fprintf(stderr, "usage: shardwave_embed PLAN [--mpi]\n");
        return 2;
    }
    if (argc == 2) return run_local(argv[1]);
#ifdef EMBED_WITH_MPI
    return run_mpi(argv[1]);
#else
    fprintf(stderr, "embed: this build has no MPI\n");
    return 2;
#endif
}
