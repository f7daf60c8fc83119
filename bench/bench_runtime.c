/*
 * bench_runtime.c - the `local` backend's sync throughput against hand-written copies of
 * the same data, measured side by side in one run:
 *
 *   per-task memcpy: one thread per rank (as the local backend runs them), each copying,
 *     wave by wave, every task it sends as ONE memcpy of the task's bytes from a
 *     contiguous source buffer into a contiguous destination buffer.  This is the least a
 *     hand-written program does to move the same messages between the same threads (no
 *     box walking, no staging, no conversion).  local / this is the goal's ratio.
 *   plain memcpy: one memcpy of the plan's unique destination bytes on one thread.
 *
 * usage: bench_runtime PLAN [--iters N]   (default 10; medians of N after one warm-up)
 * Reports only; checks the local run once (sw_validation_*) so that a wrong result can
 * never be timed as fast.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec.h"
#include "clock.h"
#include "plan.h"
#include "shardwave.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

typedef struct copier {
    const sw_plan *p;
    int32_t rank;
    uint8_t **src, **dst; /* per task */
} copier;

static void *copy_rank(void *arg) {
    const copier *c = arg;
    for (uint32_t i = 0; i < c->p->ntasks; i++) /* tasks are in wave order */
        if (c->p->tasks[i].src == c->rank) memcpy(c->dst[i], c->src[i], (size_t)c->p->tasks[i].bytes);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_runtime PLAN [--iters N]\n");
        return 2;
    }
    int iters = argc > 3 && !strcmp(argv[2], "--iters") ? atoi(argv[3]) : 10;
    if (iters < 1) iters = 1;
    sw_plan *p = NULL;
    sw_session *s = NULL;
    sw_error err;
    char eb[2200];
    if (sw_plan_load(&p, argv[1], &err) || sw_session_open(&s, p, -1, SW_BACKEND_LOCAL, NULL, &err)) {
        fprintf(stderr, "bench_runtime: %s\n", sw_error_format(&err, eb, sizeof eb));
        return 1;
    }
    void **ptrs = calloc(p->nlocals + 1, sizeof *ptrs);
    uint8_t **src = calloc(p->ntasks + 1, sizeof *src), **dst = calloc(p->ntasks + 1, sizeof *dst);
    double *t = calloc((size_t)iters, sizeof *t);
    uint64_t task_bytes = 0;
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        size_t n = sw_plan_local_nbytes(l);
        ptrs[i] = malloc(n + 1);
        char q[1024];
        snprintf(q, sizeof q, "%s/%s", l->role == SW_ROLE_SRC ? p->from : p->to, l->name);
        if (sw_bind_rank(s, l->rank, q, ptrs[i], n, &err)) {
            fprintf(stderr, "bench_runtime: %s\n", sw_error_format(&err, eb, sizeof eb));
            return 1;
        }
    }
    for (uint32_t i = 0; i < p->ntasks; i++) {
        size_t n = (size_t)p->tasks[i].bytes;
        src[i] = malloc(n + 1);
        dst[i] = malloc(n + 1);
        memset(src[i], 1, n + 1);
        memset(dst[i], 0, n + 1);
        task_bytes += n;
    }
    uint64_t ub = p->stats.unique_bytes;
    uint8_t *a = malloc(ub + 1), *b = malloc(ub + 1);
    memset(a, 1, ub + 1);
    memset(b, 0, ub + 1);

    /* local backend: checked once, then timed */
    uint64_t checked = 0;
    if (sw_validation_fill(s, &err) || sw_sync(s, NULL, &err) || sw_validation_check(s, &checked, &err)) {
        fprintf(stderr, "bench_runtime: %s\n", sw_error_format(&err, eb, sizeof eb));
        return 1;
    }
    for (int i = 0; i < iters; i++) {
        double t0 = sw_now_s();
        if (sw_sync(s, NULL, &err)) {
            fprintf(stderr, "bench_runtime: %s\n", sw_error_format(&err, eb, sizeof eb));
            return 1;
        }
        t[i] = sw_now_s() - t0;
    }
    double t_local = median(t, iters);

    /* per-task memcpy, one thread per rank (created per sync, as the local backend does) */
    copier *cs = calloc(p->nranks + 1, sizeof *cs);
    pthread_t *th = calloc(p->nranks + 1, sizeof *th);
    for (int i = 0; i <= iters; i++) {
        double t0 = sw_now_s();
        for (uint32_t r = 0; r < p->nranks; r++) {
            cs[r] = (copier){p, p->ranks[r].rank, src, dst};
            pthread_create(&th[r], NULL, copy_rank, &cs[r]);
        }
        for (uint32_t r = 0; r < p->nranks; r++) pthread_join(th[r], NULL);
        if (i) t[i - 1] = sw_now_s() - t0; /* the first is the warm-up */
    }
    double t_tasks = median(t, iters);

    /* one plain memcpy of the unique bytes */
    for (int i = 0; i <= iters; i++) {
        double t0 = sw_now_s();
        memcpy(b, a, ub);
        if (i) t[i - 1] = sw_now_s() - t0;
    }
    double t_plain = median(t, iters);

    printf("plan %s: %s -> %s, %u ranks, %u tasks in %d waves, %.2f MiB unique, %.2f MiB in messages\n", p->sync,
           p->from, p->to, p->nranks, p->ntasks, p->nwaves, (double)ub / 1048576, (double)task_bytes / 1048576);
    printf("checked %llu destination elements; medians of %d syncs after a warm-up\n", (unsigned long long)checked,
           iters);
    printf("| what | ms | GB/s (unique bytes) |\n|---|---:|---:|\n");
    printf("| local backend sw_sync | %.3f | %.2f |\n", t_local * 1e3, (double)ub / t_local / 1e9);
    printf("| per-task memcpy, %u threads | %.3f | %.2f |\n", p->nranks, t_tasks * 1e3, (double)ub / t_tasks / 1e9);
    printf("| one plain memcpy | %.3f | %.2f |\n", t_plain * 1e3, (double)ub / t_plain / 1e9);
    printf("local / per-task memcpy = %.2f (goal >= 0.8)\n", t_tasks / t_local);
    printf("local / plain memcpy    = %.2f\n", t_plain / t_local);

    sw_session_close(s);
    for (uint32_t i = 0; i < p->nlocals; i++) free(ptrs[i]);
    for (uint32_t i = 0; i < p->ntasks; i++) {
        free(src[i]);
        free(dst[i]);
    }
    sw_plan_free(p);
    free(ptrs);
    free(src);
    free(dst);
    free(t);
    free(a);
    free(b);
    free(cs);
    free(th);
    return 0;
}
