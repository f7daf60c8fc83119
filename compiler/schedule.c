/*
 * schedule.c - compile stage 5 of the greedy scheduler: the chunks placed first-fit into
 * waves, relay forwards after their inputs (see compile.h).
 */
#include "compile_int.h"

#include <stdlib.h>
#include <string.h>

#include "waves.h"

/* ---- stage 5: waves ----------------------------------------------------------------------- */

typedef struct fwd_key {
    int32_t earliest;
    uint64_t bytes;
    uint32_t idx;
} fwd_key;

static int cmp_fwd(const void *a, const void *b) {
    const fwd_key *x = a, *y = b;
    if (x->earliest != y->earliest) return x->earliest < y->earliest ? -1 : 1;
    if (x->bytes != y->bytes) return x->bytes > y->bytes ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Waves of the greedy scheduler: the tasks without predecessors placed first-fit in task
 * order (as existing synchronizers do), then the relay forwards are built and placed
 * first-fit after their inputs.  (The optimal scheduler builds chunks and waves together:
 * rounds.c.) */
int sw__compile_schedule(cstate *C, build *B) {
    sw_ports P;
    int pok = sw_ports_init(&P, C->p->nranks);
    uint32_t *order = malloc((B->nT ? B->nT : 1) * sizeof *order);
    fwd_key *fk = NULL;
    int rc = SW_OK;
    size_t m = B->nT;
    if (pok || !order) {
        rc = sw__compile_nomem(C);
        goto out;
    }
    for (size_t i = 0; i < m; i++) order[i] = (uint32_t)i;
    rc = sw_first_fit(C->p, B->T, B->D, &P, order, m, C->err);
    if (rc || (rc = sw__compile_forwards(C, B))) goto out;
    size_t nf = B->nT - m;
    if (!nf) goto out;
    fk = malloc(nf * sizeof *fk);
    uint32_t *o2 = realloc(order, nf * sizeof *order);
    if (!fk || !o2) {
        rc = sw__compile_nomem(C);
        goto out;
    }
    order = o2;
    for (size_t i = m; i < B->nT; i++) {
        const sw_plan_task *t = &B->T[i];
        int32_t w = 0;
        for (uint32_t d = 0; d < t->ndep; d++) {
            int32_t dw = B->T[B->D[t->dep0 + d]].wave;
            if (dw + 1 > w) w = dw + 1;
        }
        fk[i - m] = (fwd_key){w, t->bytes, (uint32_t)i};
    }
    qsort(fk, nf, sizeof *fk, cmp_fwd);
    for (size_t k = 0; k < nf; k++) order[k] = fk[k].idx;
    rc = sw_first_fit(C->p, B->T, B->D, &P, order, nf, C->err);
out:
    sw_ports_free(&P);
    free(order);
    free(fk);
    return rc;
}

