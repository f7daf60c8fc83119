/*
 * compile.c - a sync of the IR to a plan: runs the stages (sources.c, tasks.c,
 * schedule.c) and assembles the plan (see compile.h).
 */
#include "compile_int.h"
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "waves.h"
#include "stats.h"

/* ---- assembling the plan --------------------------------------------------------------------- */

/* Hands an array built with SW_GROW (n elements of size) over to the plan's arena, trimmed to
 * its length, without copying it: the arena's then (*arr is NULL after).  NULL when out of
 * memory (then *arr is still the caller's). */
static void *arena_take(sw_arena *a, void **arr, size_t n, size_t size) {
    if (!n || !*arr) return sw_arena_alloc(a, 1);
    void *t = realloc(*arr, n * size); /* shrinking; the old block stays valid if it fails */
    if (t) *arr = t;
    if (sw_arena_adopt(a, *arr)) return NULL;
    t = *arr;
    *arr = NULL;
    return t;
}

static int finish(cstate *C, build *B) {
    sw_plan *p = C->p;
    sw_arena *a = &p->arena;
    SW_CHECK(sw_plan_set_tasks(p, B->T, B->nT, B->D, B->nD, C->err));
    p->nxfers = (uint32_t)B->nX;
    p->nsegs = (uint32_t)B->nG;
    p->nlocals = (uint32_t)C->nL;
    p->npieces = (uint32_t)C->nP;
    p->xfers = B->X;
    if (!(p->segs = arena_take(a, (void **)&B->G, B->nG, sizeof *B->G)) ||
        !(p->locals = arena_take(a, (void **)&C->L, C->nL, sizeof *C->L)) ||
        !(p->pieces = arena_take(a, (void **)&C->P, C->nP, sizeof *C->P)))
        return sw__compile_nomem(C);
    /* names into the plan's arena, one copy per IR instance name (the locals of one
     * instance on every rank share its name's pointer: a pointer map, no hashing of text) */
    for (size_t i = 0; i < C->nL; i++) {
        uint32_t id;
        uint64_t key = (uint64_t)(uintptr_t)p->locals[i].name; /* still the IR's name */
        if (sw_u64map_get(&C->names, key, &id)) {
            p->locals[i].name = p->locals[id].name;
            continue;
        }
        if (!(p->locals[i].name = sw_arena_strdup(a, p->locals[i].name))) return sw__compile_nomem(C);
        if (sw_u64map_put(&C->names, key, (uint32_t)i)) return sw__compile_nomem(C);
    }
    return SW_OK;
}

static int setup(cstate *C, const sw_compile_params *o) {
    const sw_ir *ir = C->ir;
    sw_plan *p = C->p;
    sw_arena *a = &p->arena;
    p->model = sw_arena_strdup(a, ir->model_name);
    p->sync = sw_arena_strdup(a, C->sync->name);
    p->from = sw_arena_strdup(a, C->S->name);
    p->to = sw_arena_strdup(a, C->D->name);
    p->scheduler = o->scheduler;
    p->topo = ir->topo;
    p->bucket = o->bucket > 0 ? o->bucket : C->sync->bucket;
    p->ntensors = (uint32_t)ir->ntensors;
    p->tensors = sw_arena_array(a, ir->ntensors, sizeof *p->tensors);
    if (!p->model || !p->sync || !p->from || !p->to || !p->tensors) return sw__compile_nomem(C);
    for (size_t t = 0; t < ir->ntensors; t++) {
        sw_plan_tensor *pt = &p->tensors[t];
        pt->name = sw_arena_strdup(a, ir->tensors[t].name);
        if (!pt->name) return sw__compile_nomem(C);
        pt->dtype = ir->tensors[t].dtype;
        pt->skipped = C->sync->skip[t];
        pt->ndim = ir->tensors[t].ndim;
        memcpy(pt->shape, ir->tensors[t].shape, sizeof pt->shape);
    }
    /* ranks: every rank of both layouts, sorted */
    const sw_layout *Ls[2] = {C->S, C->D};
    int64_t lo = C->S->first_rank < C->D->first_rank ? C->S->first_rank : C->D->first_rank;
    int64_t hi = C->S->first_rank + C->S->nranks > C->D->first_rank + C->D->nranks ? C->S->first_rank + C->S->nranks
                                                                                     : C->D->first_rank + C->D->nranks;
    p->ranks = sw_arena_array(a, (size_t)(hi - lo), sizeof *p->ranks);
    if (!p->ranks) return sw__compile_nomem(C);
    for (int64_t g = lo; g < hi; g++)
        for (int k = 0; k < 2; k++) {
            const sw_layout *L = Ls[k];
            if (g < L->first_rank || g >= L->first_rank + L->nranks) continue;
            int64_t h, d;
            sw_layout_place(L, g - L->first_rank, &h, &d);
            p->ranks[p->nranks++] = (sw_plan_rank){(int32_t)g, (int32_t)h, (int32_t)d};
            break;
        }
    C->load = calloc((size_t)p->nranks * SW_LINK_COUNT + 1, sizeof *C->load);
    C->rload = calloc((size_t)p->nranks * SW_LINK_COUNT + 1, sizeof *C->rload);
    if (!C->load || !C->rload) return sw__compile_nomem(C);
    return SW_OK;
}

/* Syncs of at most this many transfers are compiled twice (below). */
#define SW_COMPILE_TWICE_MAX 100000

static int compile_once(const sw_ir *ir, const sw_compile_params *o, sw_plan *p, sw_error *err, int dissolve);

int sw_compile(const sw_ir *ir, const sw_compile_params *o, sw_plan *p, sw_error *err) {
    memset(p, 0, sizeof *p);
    sw_arena_init(&p->arena);
    if (o->sync < 0 || (size_t)o->sync >= ir->nsyncs) return sw__err(err, SW_USAGE, "no such sync");
    if (o->scheduler == SW_SCHED_NAIVE || o->scheduler == SW_SCHED_BROADCAST) {
        /* baselines: the needed boxes of a relay-free compile, rescheduled (baseline.h) */
        sw_compile_params o2 = *o;
        o2.scheduler = SW_SCHED_OPTIMAL;
        o2.no_relay = 1;
        int brc = sw_compile(ir, &o2, p, err);
        if (!brc) brc = sw_baseline_schedule(p, o->scheduler, err);
        if (brc) sw_plan_free(p);
        return brc;
    }
    if (o->scheduler != SW_SCHED_OPTIMAL && o->scheduler != SW_SCHED_GREEDY)
        return sw__err(err, SW_UNSUPPORTED, "scheduler '%s' is not implemented yet", sw_scheduler_name(o->scheduler));
    int rc = compile_once(ir, o, p, err, 1);
    /* A relay forward of less than the network moves in its latency may cost more (a
     * message on two host ports, a second hop) or less (a network message a follower
     * already receives grows) than the follower receiving it itself: for a small sync,
     * where that decides, the plan is compiled both ways and the faster one kept. */
    if (rc == SW_OK && o->scheduler == SW_SCHED_OPTIMAL && !o->no_relay && p->nxfers <= SW_COMPILE_TWICE_MAX) {
        sw_plan q;
        if (compile_once(ir, o, &q, err, 0) == SW_OK) {
            if (q.stats.predicted_s < p->stats.predicted_s) {
                sw_plan t = *p;
                *p = q;
                q = t;
            }
            sw_plan_free(&q);
        }
        sw__err_clear(err);
    }
    return rc;
}

/* The pipeline: stages 1-5, the plan, its statistics.  dissolve: small relay forwards are
 * received directly instead (sw__compile_select). */
static int compile_once(const sw_ir *ir, const sw_compile_params *o, sw_plan *p, sw_error *err, int dissolve) {
    memset(p, 0, sizeof *p);
    sw_arena_init(&p->arena);
    cstate C;
    memset(&C, 0, sizeof C);
    C.ir = ir;
    C.sync = &ir->syncs[o->sync];
    C.S = &ir->layouts[C.sync->from];
    C.D = &ir->layouts[C.sync->to];
    C.p = p;
    C.err = err;
    build B;
    memset(&B, 0, sizeof B);
    C.progress = o->progress;
    C.progress_ctx = o->progress_ctx;
    sw__compile_progress(&C, "source classes", -1, 0);
    int rc = setup(&C, o);
    if (!rc) rc = sw_layout_rank_insts(C.S, &C.s_off, &C.s_insts, err);
    if (!rc) rc = sw_layout_rank_insts(C.D, &C.d_off, &C.d_insts, err);
    if (!rc) rc = sw__compile_classes(&C);
    if (!rc) rc = sw__compile_candidates(&C);
    if (!rc) sw__compile_progress(&C, "needs", -1, 0);
    if (!rc) rc = sw__compile_needs(&C);
    if (!rc) sw__compile_progress(&C, "source selection", -1, 0);
    if (!rc) rc = sw__compile_select(&C, o->no_relay, dissolve);
    if (!rc) rc = sw__compile_chunk_caps(&C, p->bucket);
    if (!rc) sw__compile_progress(&C, "transfers", -1, 0);
    if (!rc) rc = sw__compile_xfers(&C, &B);
    if (!rc) sw__compile_progress(&C, "waves", -1, 0);
    if (o->scheduler == SW_SCHED_OPTIMAL) {
        if (!rc) rc = sw__compile_rounds(&C, &B);
    } else {
        if (!rc) rc = sw__compile_tasks(&C, &B);
        if (!rc) rc = sw__compile_schedule(&C, &B);
    }
    if (!rc) sw__compile_progress(&C, "plan", -1, 0);
    if (!rc) rc = finish(&C, &B);
    if (!rc) sw__compile_progress(&C, "statistics and simulation", -1, 0);
    if (!rc) sw_plan_compute_stats(p);
    sw__compile_build_free(&B);
    free(C.cls);
    free(C.grp);
    free(C.grp_begin);
    free(C.cand0);
    free(C.cand);
    free(C.needs);
    sw_u64map_free(&C.locals);
    sw_u64map_free(&C.link_memo);
    sw_u64map_free(&C.pairs);
    free(C.pair_dense);
    free(C.pair_bytes);
    free(C.L);
    free(C.P);
    sw_u64map_free(&C.names);
    free(C.load);
    free(C.rload);
    free(C.s_off);
    free(C.d_off);
    free(C.s_insts);
    free(C.d_insts);
    if (rc) sw_plan_free(p);
    return rc;
}

