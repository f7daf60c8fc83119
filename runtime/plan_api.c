/*
 * plan_api.c - the plan calls of include/shardwave.h: load (whole, one rank, from
 * memory), save, serialize, and what a plan is (info, ranks, tensors).
 */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "plan_io.h"
#include "shardwave.h"

/* A heap plan read from a file (path) or from bytes; *out is NULL on failure. */
static int load_with(sw_plan **out, const char *path, const void *buf, size_t len, int rank, sw_error *err) {
    if (!out) return sw__err(err, SW_USAGE, "sw_plan_load: NULL plan pointer");
    *out = NULL;
    if (!path && !buf) return sw__err(err, SW_USAGE, "sw_plan_load: no path and no bytes");
    if (rank < -1) return sw__err(err, SW_USAGE, "sw_plan_load: rank %d is not a rank (-1: every rank)", rank);
    sw_plan *p = calloc(1, sizeof *p);
    if (!p) return sw__err(err, SW_NOMEM, "out of memory");
    int rc = path ? sw_plan_read(p, path, rank, err) : sw_plan_read_mem(p, buf, len, "<memory>", rank, err);
    if (rc) {
        free(p);
        return rc;
    }
    p->heap = 1;
    *out = p;
    sw__err_clear(err);
    return SW_OK;
}

int sw_plan_load(sw_plan **out, const char *path, sw_error *err) {
    if (out) *out = NULL;
    if (!path) return sw__err(err, SW_USAGE, "sw_plan_load: NULL path");
    return load_with(out, path, NULL, 0, -1, err);
}

int sw_plan_load_rank(sw_plan **out, const char *path, int rank, sw_error *err) {
    if (out) *out = NULL;
    if (!path) return sw__err(err, SW_USAGE, "sw_plan_load_rank: NULL path");
    if (rank < 0) return sw__err(err, SW_USAGE, "sw_plan_load_rank: rank %d is not a rank", rank);
    return load_with(out, path, NULL, 0, rank, err);
}

int sw_plan_load_mem(sw_plan **out, const void *buf, size_t len, int rank, sw_error *err) {
    if (out) *out = NULL;
    if (!buf) return sw__err(err, SW_USAGE, "sw_plan_load_mem: NULL buffer");
    return load_with(out, NULL, buf, len, rank, err);
}

int sw_plan_save(const sw_plan *p, const char *path, sw_error *err) {
    if (!p || !path) return sw__err(err, SW_USAGE, "sw_plan_save: %s", !p ? "no plan" : "NULL path");
    if (p->partial)
        return sw__err(err, SW_USAGE, "sw_plan_save: this plan holds rank %d's part only (sw_plan_load_rank); "
                                      "save the whole plan", p->only_rank);
    SW_CHECK(sw_plan_write(p, path, err));
    sw__err_clear(err);
    return SW_OK;
}

int sw_plan_serialize(const sw_plan *p, void **buf, size_t *len, sw_error *err) {
    if (!buf || !len) return sw__err(err, SW_USAGE, "sw_plan_serialize: NULL buffer or length pointer");
    *buf = NULL;
    *len = 0;
    if (!p) return sw__err(err, SW_USAGE, "sw_plan_serialize: no plan");
    if (p->partial)
        return sw__err(err, SW_USAGE, "sw_plan_serialize: this plan holds rank %d's part only (sw_plan_load_rank)",
                       p->only_rank);
    uint8_t *b;
    SW_CHECK(sw_plan_write_mem(p, &b, len, err));
    *buf = b;
    sw__err_clear(err);
    return SW_OK;
}

void sw_free(void *ptr) { free(ptr); }

int sw_plan_get_info(const sw_plan *p, sw_plan_info *info, sw_error *err) {
    if (!p || !info) return sw__err(err, SW_USAGE, "sw_plan_get_info: %s", !p ? "no plan" : "NULL info pointer");
    memset(info, 0, sizeof *info);
    info->model = p->model;
    info->sync = p->sync;
    info->from = p->from;
    info->to = p->to;
    info->nranks = (int)p->nranks;
    info->max_rank = sw_plan_max_rank(p);
    info->only_rank = p->partial ? p->only_rank : -1;
    info->nwaves = p->nwaves;
    info->ntasks = p->ntasks_total;
    info->predicted_s = p->stats.predicted_s;
    info->lower_bound_s = p->stats.lower_bound_s;
    sw__err_clear(err);
    return SW_OK;
}

size_t sw_plan_ranks(const sw_plan *p, int *out, size_t cap) {
    if (!p) return 0;
    for (uint32_t i = 0; out && i < p->nranks && i < cap; i++) out[i] = p->ranks[i].rank;
    return p->nranks;
}

int sw_plan_max_rank(const sw_plan *p) { return p && p->nranks ? p->ranks[p->nranks - 1].rank : -1; }

int sw_plan_tensors(const sw_plan *p, int rank, sw_tensor_info *out, size_t cap, size_t *count, sw_error *err) {
    size_t n = 0;
    if (!p) return sw__err(err, SW_USAGE, "sw_plan_tensors: no plan");
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if (l->rank != rank) continue;
        if (n < cap && out) {
            sw_tensor_info *t = &out[n];
            memset(t, 0, sizeof *t);
            t->name = l->name;
            t->layout = l->role == SW_ROLE_SRC ? p->from : p->to;
            t->is_source = l->role == SW_ROLE_SRC;
            t->rank = l->rank;
            t->dtype = sw_dtype_name(l->dtype);
            t->ndim = l->ndim;
            for (int d = 0; d < l->ndim; d++) t->shape[d] = l->shape[d];
            t->nbytes = sw_plan_local_nbytes(l);
        }
        n++;
    }
    if (count) *count = n;
    return SW_OK;
}


/* The plan local of (rank, name) where name is "NAME" or "LAYOUT/NAME"; *li = UINT32_MAX
 * when none, *ambiguous = 1 when NAME alone names one in each layout. */
static void find_plan_local(const sw_plan *p, int rank, const char *name, uint32_t *li, int *ambiguous) {
    *li = UINT32_MAX;
    *ambiguous = 0;
    size_t nf = strlen(p->from), nt = strlen(p->to);
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if (l->rank != rank) continue;
        const char *layout = l->role == SW_ROLE_SRC ? p->from : p->to;
        size_t nl = l->role == SW_ROLE_SRC ? nf : nt;
        if (!strcmp(l->name, name)) {
            if (*li != UINT32_MAX) *ambiguous = 1;
            *li = i;
        } else if (!strncmp(name, layout, nl) && name[nl] == '/' && !strcmp(name + nl + 1, l->name)) {
            *li = i;
            *ambiguous = 0;
            return;
        }
    }
}

int sw_plan_pieces(const sw_plan *p, int rank, const char *name, sw_piece_info *out, size_t cap, size_t *count,
                   sw_error *err) {
    if (count) *count = 0;
    if (!p || !name) return sw__err(err, SW_USAGE, "sw_plan_pieces: no %s", !p ? "plan" : "name");
    uint32_t li;
    int ambiguous;
    find_plan_local(p, rank, name, &li, &ambiguous);
    if (li == UINT32_MAX)
        return sw__err(err, SW_USAGE, "rank %d has no local tensor '%s' in plan '%s'", rank, name, p->sync);
    if (ambiguous)
        return sw__err(err, SW_USAGE, "'%s' is a local tensor of rank %d in both layouts '%s' and '%s': ask for '%s/%s' or '%s/%s'",
                       name, rank, p->from, p->to, p->from, name, p->to, name);
    const sw_plan_local *l = &p->locals[li];
    for (uint32_t k = 0; out && k < l->npieces && k < cap; k++) {
        const sw_plan_piece *pc = &p->pieces[l->piece0 + k];
        const sw_plan_tensor *t = &p->tensors[pc->tensor];
        sw_piece_info *o = &out[k];
        memset(o, 0, sizeof *o);
        o->tensor = t->name;
        o->dtype = sw_dtype_name(t->dtype);
        o->ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++) {
            o->shape[d] = t->shape[d];
            o->start[d] = pc->start[d];
            o->size[d] = pc->size[d];
        }
        o->local_ndim = l->ndim;
        for (int j = 0; j < l->ndim; j++) {
            o->map[j] = pc->map[j];
            o->base[j] = pc->base[j];
        }
        o->skipped = t->skipped;
    }
    if (count) *count = l->npieces;
    sw__err_clear(err);
    return SW_OK;
}
