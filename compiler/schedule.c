/*
 * schedule.c - compile stage 5: the chunks colored into waves (König for full-size
 * chunks, small messages first-fit, relay forwards after their inputs; see compile.h).
 */
#include "compile_int.h"

#include <stdlib.h>
#include <string.h>

#include "color.h"
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

typedef struct color_key {
    uint64_t relayed; /* bytes in this color that other ranks wait for */
    int32_t color;
} color_key;

static int cmp_color_key(const void *a, const void *b) {
    const color_key *x = a, *y = b;
    if (x->relayed != y->relayed) return x->relayed > y->relayed ? -1 : 1;
    return (x->color > y->color) - (x->color < y->color);
}

/* Any permutation of a proper coloring is proper: put first the colors whose tasks carry
 * data that will be forwarded, so that relay forwards start early and do not trail. */
static int relays_first(cstate *C, build *B, const uint32_t *idx, size_t m, int32_t *color, int32_t ncolors) {
    uint8_t *led = calloc(B->nX + 1, 1);
    color_key *ck = calloc((size_t)ncolors + 1, sizeof *ck);
    int32_t *perm = malloc(((size_t)ncolors + 1) * sizeof *perm);
    if (!led || !ck || !perm) {
        free(led);
        free(ck);
        free(perm);
        return sw__compile_nomem(C);
    }
    for (size_t i = 0; i < B->nX; i++)
        if (B->leader[i] >= 0) led[B->leader[i]] = 1;
    for (int32_t c = 0; c < ncolors; c++) ck[c].color = c;
    for (size_t i = 0; i < m; i++) {
        const sw_plan_task *t = &B->T[idx[i]];
        for (uint32_t k = 0; k < t->nseg; k++) {
            const sw_plan_seg *g = &B->G[t->seg0 + k];
            if (led[g->xfer]) ck[color[i]].relayed += g->nelem;
        }
    }
    qsort(ck, (size_t)ncolors, sizeof *ck, cmp_color_key);
    for (int32_t c = 0; c < ncolors; c++) perm[ck[c].color] = c;
    for (size_t i = 0; i < m; i++) color[i] = perm[color[i]];
    free(led);
    free(ck);
    free(perm);
    return SW_OK;
}

/* Waves: the tasks without predecessors are colored (optimal) or placed first-fit
 * (greedy); then the relay forwards are built and placed first-fit after their inputs. */
int sw__compile_schedule(cstate *C, build *B, sw_scheduler sched) {
    size_t nports = (size_t)C->p->nranks * SW_LINK_COUNT;
    sw_ports P;
    int pok = sw_ports_init(&P, C->p->nranks);
    uint32_t *order = malloc((B->nT ? B->nT : 1) * sizeof *order);
    sw_color_edge *edges = NULL;
    int32_t *color = NULL, ncolors = 0;
    fwd_key *fk = NULL;
    int rc = SW_OK;
    size_t m = B->nT;
    if (pok || !order) {
        rc = sw__compile_nomem(C);
        goto out;
    }
    for (size_t i = 0; i < m; i++) order[i] = (uint32_t)i;
    if (sched == SW_SCHED_GREEDY) {
        rc = sw_first_fit(C->p, B->T, B->D, &P, order, m, C->err);
    } else {
        /* The chunks of at least half the size of their class's chunk set the waves:
         * colored with exactly as many colors as the busiest port has of them.  The
         * small messages (one chunk each, whatever their size) then go first-fit into
         * those waves' free ports: they must not multiply the waves the big ones need. */
        size_t nb = 0, ns = 0;
        uint32_t *small = malloc((m ? m : 1) * sizeof *small);
        edges = malloc((m ? m : 1) * sizeof *edges);
        color = malloc((m ? m : 1) * sizeof *color);
        if (!edges || !color || !small) {
            free(small);
            rc = sw__compile_nomem(C);
            goto out;
        }
        for (size_t k = 0; k < m; k++) {
            const sw_plan_task *t = &B->T[k];
            if (2 * t->bytes >= (uint64_t)C->p->chunk[t->cls]) order[nb++] = (uint32_t)k;
            else small[ns++] = (uint32_t)k;
        }
        for (size_t k = 0; k < nb; k++) { /* ports of one direction, numbered rank * classes + class */
            edges[k].u = (int32_t)(sw_port_send(C->p, &B->T[order[k]]) / 2);
            edges[k].v = (int32_t)(sw_port_recv(C->p, &B->T[order[k]]) / 2);
        }
        rc = sw_color_bipartite(edges, nb, (int32_t)nports, (int32_t)nports, color, &ncolors, C->err);
        if (rc == SW_OK) rc = relays_first(C, B, order, nb, color, ncolors);
        for (size_t k = 0; k < nb && rc == SW_OK; k++) {
            B->T[order[k]].wave = color[k];
            if (sw_ports_take(&P, (size_t)edges[k].u * 2, color[k]) ||
                sw_ports_take(&P, (size_t)edges[k].v * 2 + 1, color[k]))
                rc = sw__compile_nomem(C);
        }
        if (rc == SW_OK) rc = sw_first_fit(C->p, B->T, B->D, &P, small, ns, C->err);
        free(small);
    }
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
    free(edges);
    free(color);
    free(fk);
    return rc;
}

