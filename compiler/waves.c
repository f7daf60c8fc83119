#include "waves.h"
#include "diag.h"

#include <stdlib.h>
#include <string.h>

int sw_ports_init(sw_ports *P, uint32_t nranks) {
    P->n = (size_t)nranks * SW_LINK_COUNT * 2;
    P->bits = calloc(P->n + 1, sizeof *P->bits);
    P->cap = calloc(P->n + 1, sizeof *P->cap);
    return P->bits && P->cap ? 0 : -1;
}

void sw_ports_free(sw_ports *P) {
    if (P->bits)
        for (size_t i = 0; i < P->n; i++) free(P->bits[i]);
    free(P->bits);
    free(P->cap);
    memset(P, 0, sizeof *P);
}

size_t sw_port_send(const sw_plan *p, const sw_plan_task *t) {
    return ((size_t)sw_plan_rank_index(p, t->src) * SW_LINK_COUNT + t->cls) * 2;
}

size_t sw_port_recv(const sw_plan *p, const sw_plan_task *t) {
    return ((size_t)sw_plan_rank_index(p, t->dst) * SW_LINK_COUNT + t->cls) * 2 + 1;
}

int sw_ports_take(sw_ports *P, size_t port, int32_t w) {
    size_t word = (size_t)w / 64;
    if (word >= P->cap[port]) {
        size_t ncap = P->cap[port] ? P->cap[port] : 4;
        while (ncap <= word) ncap *= 2;
        uint64_t *nb = realloc(P->bits[port], ncap * sizeof *nb);
        if (!nb) return -1;
        memset(nb + P->cap[port], 0, (ncap - P->cap[port]) * sizeof *nb);
        P->bits[port] = nb;
        P->cap[port] = ncap;
    }
    P->bits[port][word] |= (uint64_t)1 << (w % 64);
    return 0;
}

static uint64_t word_of(const sw_ports *P, size_t port, size_t w) { return w < P->cap[port] ? P->bits[port][w] : 0; }

int32_t sw_ports_first_free(const sw_ports *P, size_t a, size_t b, int32_t from) {
    size_t w = (size_t)from / 64;
    uint64_t busy = word_of(P, a, w) | word_of(P, b, w) | (((uint64_t)1 << (from % 64)) - 1);
    while (!~busy) {
        w++;
        busy = word_of(P, a, w) | word_of(P, b, w);
    }
    int bit = 0;
    while (busy >> bit & 1) bit++;
    return (int32_t)(w * 64 + (size_t)bit);
}

int sw_first_fit(const sw_plan *p, sw_plan_task *T, const uint32_t *D, sw_ports *P, const uint32_t *order, size_t n,
                 sw_error *err) {
    for (size_t k = 0; k < n; k++) {
        sw_plan_task *t = &T[order[k]];
        int32_t w = 0;
        for (uint32_t d = 0; d < t->ndep; d++) {
            int32_t dw = T[D[t->dep0 + d]].wave;
            if (dw < 0) return sw__err(err, SW_INTERNAL, "a task is placed before its predecessor");
            if (dw + 1 > w) w = dw + 1;
        }
        size_t sp = sw_port_send(p, t), rp = sw_port_recv(p, t);
        w = sw_ports_first_free(P, sp, rp, w);
        if (sw_ports_take(P, sp, w) || sw_ports_take(P, rp, w)) return sw__err(err, SW_NOMEM, "out of memory");
        t->wave = w;
    }
    return SW_OK;
}

typedef struct tkey {
    int32_t wave, src, dst;
    uint32_t idx;
} tkey;

static int cmp_tkey(const void *a, const void *b) {
    const tkey *x = a, *y = b;
    if (x->wave != y->wave) return x->wave < y->wave ? -1 : 1;
    if (x->src != y->src) return x->src < y->src ? -1 : 1;
    if (x->dst != y->dst) return x->dst < y->dst ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

int sw_plan_set_tasks(sw_plan *p, const sw_plan_task *T, size_t nT, uint32_t *D, size_t nD, sw_error *err) {
    tkey *keys = malloc((nT + 1) * sizeof *keys);
    uint32_t *newidx = malloc((nT + 1) * sizeof *newidx);
    sw_plan_task *out = sw_arena_array(&p->arena, nT, sizeof *out);
    uint32_t *deps = sw_arena_array(&p->arena, nD, sizeof *deps);
    if (!keys || !newidx || !out || !deps) {
        free(keys);
        free(newidx);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < nT; i++) keys[i] = (tkey){T[i].wave, T[i].src, T[i].dst, (uint32_t)i};
    qsort(keys, nT, sizeof *keys, cmp_tkey);
    int32_t nw = 0;
    for (size_t i = 0; i < nT; i++) {
        if (i && keys[i].wave != keys[i - 1].wave) nw++;
        newidx[keys[i].idx] = (uint32_t)i;
        out[i] = T[keys[i].idx];
        out[i].wave = nw;
    }
    for (size_t i = 0; i < nD; i++) deps[i] = newidx[D[i]];
    p->tasks = out;
    p->ntasks = (uint32_t)nT;
    p->ntasks_total = p->ntasks;
    p->deps = deps;
    p->ndeps = (uint32_t)nD;
    p->nwaves = nT ? nw + 1 : 0;
    free(keys);
    free(newidx);
    return SW_OK;
}
