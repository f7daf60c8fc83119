/*
 * bench_mpi.c - the `mpi` backend's sync against raw MPI with the same messages, side by
 * side in one run: `mpirun -np N build/bench_mpi PLAN [--iters N]` (N = the plan's
 * highest rank + 1).
 *
 *   mpi backend: sw_sync (pack, MPI_Isend/Irecv per wave, unpack).
 *   raw MPI: the plan's messages replayed wave by wave with MPI_Irecv/MPI_Isend/MPI_Waitall
 *     between preallocated contiguous buffers: the same sizes and pairs per wave, no pack,
 *     no unpack.  mpi / raw is the goal's ratio.
 *
 * Each timing is the slowest rank's (barrier before, max-reduce after); medians of N after
 * one warm-up.  Reports only; checks the mpi run once (sw_validation_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "plan.h"
#include "shardwave.h"
#ifdef SW_HAVE_MPI
#include <mpi.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int die(int me, const sw_error *err) {
    char b[2200];
    fprintf(stderr, "bench_mpi [rank %d]: %s\n", me, sw_error_format(err, b, sizeof b));
    MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
}

/* One wave-by-wave replay of rank me's messages. */
static void raw_sync(const sw_plan *p, int me, uint8_t **buf, MPI_Request *req) {
    for (uint32_t i = 0; i < p->ntasks;) {
        int32_t w = p->tasks[i].wave;
        int n = 0;
        uint32_t j = i;
        for (; j < p->ntasks && p->tasks[j].wave == w; j++) {
            const sw_plan_task *t = &p->tasks[j];
            if (t->dst == me && t->src != me)
                MPI_Irecv(buf[j], (int)t->bytes, MPI_BYTE, t->src, w & 0x7fff, MPI_COMM_WORLD, &req[n++]);
        }
        for (j = i; j < p->ntasks && p->tasks[j].wave == w; j++) {
            const sw_plan_task *t = &p->tasks[j];
            if (t->src == me && t->dst != me)
                MPI_Isend(buf[j], (int)t->bytes, MPI_BYTE, t->dst, w & 0x7fff, MPI_COMM_WORLD, &req[n++]);
        }
        MPI_Waitall(n, req, MPI_STATUSES_IGNORE);
        i = j;
    }
}

int main(int argc, char **argv) {
    int me = 0, world = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    if (argc < 2) {
        if (me == 0) fprintf(stderr, "usage: mpirun -np N bench_mpi PLAN [--iters N]\n");
        MPI_Finalize();
        return 2;
    }
    int iters = argc > 3 && !strcmp(argv[2], "--iters") ? atoi(argv[3]) : 10;
    if (iters < 1) iters = 1;
    sw_plan *p = NULL;
    sw_session *s = NULL;
    sw_error err;
    if (sw_plan_load(&p, argv[1], &err)) return die(me, &err);
    if (world != sw_plan_max_rank(p) + 1) {
        if (me == 0) fprintf(stderr, "bench_mpi: the plan needs -np %d\n", sw_plan_max_rank(p) + 1);
        MPI_Finalize();
        return 2;
    }
    if (sw_session_open(&s, p, me, SW_BACKEND_MPI, NULL, &err)) return die(me, &err);
    void **ptrs = calloc(p->nlocals + 1, sizeof *ptrs);
    uint8_t **buf = calloc(p->ntasks + 1, sizeof *buf);
    MPI_Request *req = calloc(2 * (size_t)p->ntasks + 1, sizeof *req);
    double *t = calloc((size_t)iters + 1, sizeof *t);
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if (l->rank != me) continue;
        size_t n = sw_plan_local_nbytes(l);
        ptrs[i] = malloc(n + 1);
        char q[1024];
        snprintf(q, sizeof q, "%s/%s", l->role == SW_ROLE_SRC ? p->from : p->to, l->name);
        if (sw_bind(s, q, ptrs[i], n, &err)) return die(me, &err);
    }
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *tk = &p->tasks[i];
        if ((tk->src == me) == (tk->dst == me)) continue; /* not mine, or a copy inside a rank */
        buf[i] = malloc((size_t)tk->bytes + 1);
        memset(buf[i], 1, (size_t)tk->bytes + 1);
    }
    uint64_t checked = 0, all_checked = 0;
    if (sw_validation_fill(s, &err) || sw_sync(s, NULL, &err) || sw_validation_check(s, &checked, &err))
        return die(me, &err);
    MPI_Reduce(&checked, &all_checked, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    double tm[2];
    for (int which = 0; which < 2; which++) {
        for (int i = 0; i <= iters; i++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double a = MPI_Wtime();
            if (which == 0) {
                if (sw_sync(s, NULL, &err)) return die(me, &err);
            } else {
                raw_sync(p, me, buf, req);
            }
            double mine = MPI_Wtime() - a, slowest = 0;
            MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            t[i] = slowest;
        }
        tm[which] = median(t + 1, iters); /* t[0] is the warm-up */
    }
    if (me == 0) {
        uint64_t msg = 0;
        for (uint32_t i = 0; i < p->ntasks; i++)
            if (p->tasks[i].src != p->tasks[i].dst) msg += p->tasks[i].bytes;
        double ub = (double)p->stats.unique_bytes;
        printf("plan %s: %s -> %s, %d processes, %u tasks in %d waves, %.2f MiB unique, %.2f MiB in messages\n",
               p->sync, p->from, p->to, world, p->ntasks, p->nwaves, ub / 1048576, (double)msg / 1048576);
        printf("checked %llu destination elements; medians of %d syncs after a warm-up\n",
               (unsigned long long)all_checked, iters);
        printf("| what | ms | GB/s (unique bytes) |\n|---|---:|---:|\n");
        printf("| mpi backend sw_sync | %.3f | %.2f |\n", tm[0] * 1e3, ub / tm[0] / 1e9);
        printf("| raw MPI Isend/Irecv, same messages | %.3f | %.2f |\n", tm[1] * 1e3, ub / tm[1] / 1e9);
        printf("mpi / raw MPI = %.2f (goal >= 0.8)\n", tm[1] / tm[0]);
    }
    sw_session_close(s);
    for (uint32_t i = 0; i < p->nlocals; i++) free(ptrs[i]);
    for (uint32_t i = 0; i < p->ntasks; i++) free(buf[i]);
    free(ptrs);
    free(buf);
    free(req);
    free(t);
    sw_plan_free(p);
    MPI_Finalize();
    return 0;
}
#else
int main(void) {
    printf("bench_mpi: this build has no MPI\n");
    return 0;
}
#endif
