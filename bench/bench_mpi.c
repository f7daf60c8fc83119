/*
 * bench_mpi.c - the `mpi` backend's sync against raw MPI with the same messages, side by
 * side in one run, for each plan given: `mpirun -np N build/bench_mpi PLAN... [--iters N]`
 * (N = the plans' highest rank + 1).
 *
 *   mpi backend: sw_sync (zero-copy: contiguous runs straight from and into the tensors,
 *     strided ones packed / unpacked; MPI_Isend/Irecv per wave).
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

/* One plan: the mpi backend's sync and the raw replay, side by side (medians of iters
 * after a warm-up, the slowest rank's time each); prints a table row pair and the ratio. */
static int bench_plan(const char *path, int me, int world, int iters) {
    sw_plan *p = NULL;
    sw_session *s = NULL;
    sw_error err;
    if (sw_plan_load(&p, path, &err)) return die(me, &err);
    if (world != sw_plan_max_rank(p) + 1) {
        if (me == 0) fprintf(stderr, "bench_mpi: %s needs -np %d\n", path, sw_plan_max_rank(p) + 1);
        sw_plan_free(p);
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
    /* what the zero-copy executor stages: segments that are not one run of their tensor */
    uint64_t msg = 0, staged = 0;
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *tk = &p->tasks[i];
        if (tk->src == tk->dst) continue;
        msg += tk->bytes;
        for (uint32_t k = 0; k < tk->nseg; k++) {
            const sw_plan_seg *g = &p->segs[tk->seg0 + k];
            const sw_plan_xfer *x = &p->xfers[g->xfer];
            uint64_t nb = g->nelem * (uint64_t)sw_plan_xfer_esize(p, x);
            int small = nb < SW_PLAN_ZC_MIN;
            if (small || sw_plan_seg_run(p, g, 0) < 0) staged += nb;
            if (small || sw_plan_seg_run(p, g, 1) < 0 || p->locals[x->src.local].dtype != p->locals[x->dst.local].dtype)
                staged += nb;
        }
    }
    if (me == 0) {
        double ub = (double)p->stats.unique_bytes;
        printf("\nplan %s (%s: %s -> %s): %d processes, %u tasks in %d waves, %.2f MiB unique, %.2f MiB in messages; "
               "the executor stages %.2f MiB (pack + unpack of small, strided or converted segments, %.0f%% of 2x the "
               "message bytes)\n",
               path, p->sync, p->from, p->to, world, p->ntasks, p->nwaves, ub / 1048576, (double)msg / 1048576,
               (double)staged / 1048576, msg ? 100.0 * (double)staged / (2.0 * (double)msg) : 0.0);
        printf("checked %llu destination elements; medians of %d syncs after a warm-up\n",
               (unsigned long long)all_checked, iters);
        printf("| what | ms | GB/s (unique bytes) |\n|---|---:|---:|\n");
        printf("| mpi backend sw_sync | %.3f | %.2f |\n", tm[0] * 1e3, ub / tm[0] / 1e9);
        printf("| raw MPI Isend/Irecv, same messages | %.3f | %.2f |\n", tm[1] * 1e3, ub / tm[1] / 1e9);
        printf("mpi / raw MPI = %.2f (goal >= 0.8: %s)\n", tm[1] / tm[0], tm[1] / tm[0] >= 0.8 ? "met" : "not met");
        fflush(stdout);
    }
    sw_session_close(s);
    for (uint32_t i = 0; i < p->nlocals; i++) free(ptrs[i]);
    for (uint32_t i = 0; i < p->ntasks; i++) free(buf[i]);
    free(ptrs);
    free(buf);
    free(req);
    free(t);
    sw_plan_free(p);
    return 0;
}

int main(int argc, char **argv) {
    int me = 0, world = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    int iters = 10, nplans = 0, rc = 0;
    const char *plans[16];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc) iters = atoi(argv[++i]);
        else if (nplans < 16) plans[nplans++] = argv[i];
    }
    if (!nplans) {
        if (me == 0) fprintf(stderr, "usage: mpirun -np N bench_mpi PLAN... [--iters N]\n");
        MPI_Finalize();
        return 2;
    }
    if (iters < 1) iters = 1;
    for (int k = 0; k < nplans && !rc; k++) rc = bench_plan(plans[k], me, world, iters);
    MPI_Finalize();
    return rc;
}
#else
int main(void) {
    printf("bench_mpi: this build has no MPI\n");
    return 0;
}
#endif
