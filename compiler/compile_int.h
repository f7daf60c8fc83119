/*
 * compile_int.h - private to the compiler's stages (sources.c, tasks.c, schedule.c,
 * compile.c): the working state of one compile and the stage functions.  Each stage
 * reads what the earlier ones left in the state and adds its own part; compile.c runs
 * them in order and assembles the plan (see compile.h for what each stage does).
 */
#ifndef SW_COMPILE_INT_H
#define SW_COMPILE_INT_H

#include "compile.h"
#include "diag.h"
#include "place.h"
#include "u64map.h"


/* A box some source instance stores, and the replicas (a sub-mesh) that hold it. */
typedef struct srccls {
    uint32_t tensor, inst;
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    int8_t map[SW_MAXDIM];
    int64_t base[SW_MAXDIM];
    int64_t fixed[SW_MAXAXES]; /* required coordinate, -1 = free */
} srccls;

/* Source classes with identical boxes (replicas from several instances or split
 * coordinates, e.g. KV heads replicated over tp): one candidate set. */
typedef struct srcgrp {
    uint32_t tensor;
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    uint32_t c0, nc; /* cls[c0 .. c0 + nc) */
} srcgrp;

/* What one destination piece needs from one group of source classes. */
typedef struct need {
    int32_t dst;
    uint32_t dst_local;
    uint32_t grp;         /* candidates */
    uint32_t cls;         /* the class of the chosen source */
    int64_t start[SW_MAXDIM], size[SW_MAXDIM];
    int8_t dmap[SW_MAXDIM];
    int64_t dbase[SW_MAXDIM];
    uint64_t nelem, bytes;
    int32_t src;          /* chosen source rank */
    uint32_t src_local;
    int32_t leader;       /* need index this one is forwarded from, -1 when none */
    uint8_t link;         /* link class of the chosen route */
    int32_t dst_host;
} need;

typedef struct cstate {
    const sw_ir *ir;
    const sw_syncdef *sync;
    const sw_layout *S, *D;
    sw_plan *p;
    sw_error *err;
    srccls *cls;
    size_t ncls, capcls;
    srcgrp *grp;
    size_t ngrp, capgrp;
    uint32_t *cand0;     /* [ncls + 1]: the replicas of class c are cand[cand0[c] .. cand0[c+1]) */
    uint32_t *cand;      /* plan rank indices */
    uint32_t *grp_begin; /* [ntensors + 1] into grp, sorted by tensor */
    need *needs;
    size_t nneeds, capneeds;
    sw_u64map locals; /* (SW_ROLE_SRC, rank, inst) -> local id of a source local */
    sw_u64map link_memo; /* (group, host, device) -> best link class */
    /* plan arrays while building */
    sw_plan_local *L;
    size_t nL, capL;
    sw_plan_piece *P;
    size_t nP, capP;
    sw_u64map names; /* local names interned by the IR name's address -> first local */
    size_t *s_off, *d_off;     /* per layout rank: its instances (sw_layout_rank_insts) */
    uint32_t *s_insts, *d_insts;
    double *load;    /* [nranks * SW_LINK_COUNT] send seconds */
    double *rload;   /* [nranks * SW_LINK_COUNT] receive seconds */
    /* (source rank index, destination rank index) pairs chosen so far -> pair_bytes index:
     * pair_dense[s * nranks + d] (index + 1, 0 = none) up to 4096 ranks, else pairs */
    uint32_t *pair_dense;
    sw_u64map pairs;
    double *pair_bytes; /* bytes chosen so far per pair */
    size_t npair, cappair;
    void (*progress)(void *ctx, const char *stage, long done, long total); /* sw_compile_params' */
    void *progress_ctx;
    double sticky[SW_LINK_COUNT]; /* a source already sending to a destination is kept while
                                     its send load stays within this (0: never) */
} cstate;


typedef struct build {
    sw_plan_xfer *X;
    size_t nX;
    uint8_t *stage;     /* per transfer: 1 = relay forward */
    int32_t *leader;    /* per transfer: the transfer it forwards, -1 */
    sw_plan_seg *G;
    size_t nG, capG;
    sw_plan_task *T;
    size_t nT, capT;
    uint32_t *D;
    size_t nD, capD;
    uint32_t *xseg0, *xnseg; /* per transfer: its segments (contiguous) */
    uint32_t *seg_task;      /* per segment: its task */
} build;

/* Reports a stage (done < 0) or its advance to the caller's progress callback, if any. */
static inline void sw__compile_progress(const cstate *C, const char *stage, long done, long total) {
    if (C->progress) C->progress(C->progress_ctx, stage, done, total);
}

static inline int sw__compile_nomem(cstate *C) { return sw__err(C->err, SW_NOMEM, "out of memory while compiling"); }

/* Key of a local tensor in cstate.locals: (role, global rank, instance). */
static inline uint64_t sw__compile_local_key(int role, int32_t rank, uint32_t inst) {
    return ((uint64_t)(uint32_t)rank << 33) | ((uint64_t)(role == SW_ROLE_DST) << 32) | inst;
}

/* sources.c: stages 1-3 */
int sw__compile_classes(cstate *C);     /* source classes and their groups */
int sw__compile_candidates(cstate *C);  /* the replicas of each class */
int sw__compile_needs(cstate *C);       /* destination pieces x source groups */
int sw__compile_select(cstate *C, int no_relay, int dissolve); /* a source per need, relays */
/* tasks.c: stage 4 */
int sw__compile_chunk_caps(cstate *C, int64_t bucket);
int sw__compile_xfers(cstate *C, build *B);
int sw__compile_tasks(cstate *C, build *B);
int sw__compile_forwards(cstate *C, build *B);
void sw__compile_build_free(build *B);
/* schedule.c: stage 5 of the greedy scheduler */
int sw__compile_schedule(cstate *C, build *B);
/* rounds.c: stage 4+5 of the optimal scheduler: chunks and waves built together */
int sw__compile_rounds(cstate *C, build *B);

#endif
