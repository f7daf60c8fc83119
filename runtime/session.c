/*
 * session.c - the embedding API of include/shardwave.h: plans, sessions, bind, sync.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_local.h"
#include "diag.h"
#include "exec.h"
#include "plan_io.h"
#include "shardwave.h"
#include "data_validate.h"
#ifdef SW_HAVE_MPI
#include "backend_mpi.h"
#endif
#ifdef SW_HAVE_NCCL
#include "backend_nccl.h"
#endif

struct sw_session {
    const sw_plan *plan;
    sw_backend_kind kind;
    int32_t rank;           /* -1: every rank (local backend) */
    sw_session_opts opts;
    void **ptrs;            /* per plan local */
    sw_local_group *local;
    sw_exec exec;
    sw_backend backend;
#ifdef SW_HAVE_MPI
    sw_mpi_ctx *mpi;
#endif
#ifdef SW_HAVE_NCCL
    sw_nccl_ctx *nccl;
#endif
};

int sw_plan_load(sw_plan **out, const char *path, sw_error *err) {
    *out = NULL;
    sw_plan *p = calloc(1, sizeof *p);
    if (!p) return sw__err(err, SW_NOMEM, "out of memory");
    int rc = sw_plan_read(p, path, -1, err);
    if (rc) {
        free(p);
        return rc;
    }
    p->heap = 1;
    *out = p;
    return SW_OK;
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

int sw_session_open(sw_session **out, const sw_plan *p, int rank, sw_backend_kind kind, const sw_session_opts *opts,
                    sw_error *err) {
    *out = NULL;
    if (!p) return sw__err(err, SW_USAGE, "sw_session_open: no plan");
    sw_session *s = calloc(1, sizeof *s);
    if (!s) return sw__err(err, SW_NOMEM, "out of memory");
    s->plan = p;
    s->kind = kind;
    s->rank = rank;
    if (opts) memcpy(&s->opts, opts, opts->struct_size && opts->struct_size < sizeof s->opts ? opts->struct_size : sizeof s->opts);
    if (s->opts.timeout_s <= 0) s->opts.timeout_s = 60;
    s->ptrs = calloc((size_t)p->nlocals + 1, sizeof *s->ptrs);
    int rc = SW_OK;
    if (!s->ptrs) {
        rc = sw__err(err, SW_NOMEM, "out of memory");
        goto fail;
    }
    switch (kind) {
    case SW_BACKEND_LOCAL:
        if (rank != -1) {
            rc = sw__err(err, SW_USAGE, "the local backend runs every rank of the plan in one session: open it with rank -1");
            goto fail;
        }
        rc = sw_local_group_open(&s->local, p, s->opts.timeout_s, err);
        break;
    case SW_BACKEND_MPI:
#ifdef SW_HAVE_MPI
        /* collective over the communicator: every rank opens, also one the plan does not use */
        if ((rc = sw_mpi_open(&s->mpi, &s->backend, (const MPI_Comm *)s->opts.mpi_comm, s->opts.timeout_s, err)))
            goto fail;
        rc = sw_exec_init(&s->exec, p, rank, err);
#else
        rc = sw__err(err, SW_UNSUPPORTED, "this build of shardwave has no MPI: the mpi backend is not available");
#endif
        break;
    case SW_BACKEND_NCCL:
#ifdef SW_HAVE_NCCL
        if (s->opts.zero_padding) {
            rc = sw__err(err, SW_UNSUPPORTED, "zero_padding is not supported by the nccl backend yet");
            break;
        }
        /* collective over the communicator: every rank opens, also one the plan does not use */
        if ((rc = sw_exec_init(&s->exec, p, rank, err))) break;
        rc = sw_nccl_open(&s->nccl, &s->backend, &s->exec, rank, s->opts.mpi_comm, s->opts.nccl_comm, s->opts.timeout_s,
                          err);
#else
        rc = sw__err(err, SW_UNSUPPORTED, "this build of shardwave has no CUDA/NCCL: the nccl backend is not available");
#endif
        break;
    default:
        rc = sw__err(err, SW_USAGE, "unknown backend %d", (int)kind);
    }
    if (rc) goto fail;
    *out = s;
    return SW_OK;
fail:
    sw_session_close(s);
    return rc;
}

/* The plan local of (rank, name); "LAYOUT/NAME" picks the layout when both have it. */
static int find_local(const sw_plan *p, int32_t rank, const char *name, uint32_t *out, sw_error *err) {
    int want_role = 0;
    const char *n = name;
    size_t lf = strlen(p->from), lt = strlen(p->to);
    if (!strncmp(name, p->from, lf) && name[lf] == '/') want_role = SW_ROLE_SRC, n = name + lf + 1;
    else if (!strncmp(name, p->to, lt) && name[lt] == '/') want_role = SW_ROLE_DST, n = name + lt + 1;
    int found = 0;
    uint32_t hit = 0;
    for (int pass = 0; pass < 2 && !found; pass++) {
        for (uint32_t i = 0; i < p->nlocals; i++) {
            const sw_plan_local *l = &p->locals[i];
            if (l->rank != rank || strcmp(l->name, pass ? name : n)) continue;
            if (pass == 0 && want_role && l->role != want_role) continue;
            if (found)
                return sw__err(err, SW_USAGE,
                               "'%s' is a local tensor of rank %d in both layouts '%s' and '%s': bind '%s/%s' or '%s/%s'",
                               name, rank, p->from, p->to, p->from, name, p->to, name);
            found = 1;
            hit = i;
        }
        if (!want_role) break;
    }
    if (!found) return sw__err(err, SW_USAGE, "rank %d has no local tensor '%s' in plan '%s'", rank, name, p->sync);
    *out = hit;
    return SW_OK;
}

int sw_bind_rank(sw_session *s, int rank, const char *name, void *ptr, size_t nbytes, sw_error *err) {
    if (!s || !name) return sw__err(err, SW_USAGE, "sw_bind: no session or no name");
    if (s->rank >= 0 && rank != s->rank)
        return sw__err(err, SW_USAGE, "this session is rank %d's; cannot bind a tensor of rank %d", s->rank, rank);
    uint32_t li = 0;
    SW_CHECK(find_local(s->plan, rank, name, &li, err));
    const sw_plan_local *l = &s->plan->locals[li];
    size_t want = sw_plan_local_nbytes(l);
    if (nbytes != want)
        return sw__err(err, SW_USAGE, "'%s' of rank %d is %s with %d dims (%zu bytes); %zu bytes were given", name, rank,
                       sw_dtype_name(l->dtype), l->ndim, want, nbytes);
    if (!ptr && want) return sw__err(err, SW_USAGE, "sw_bind: NULL memory for '%s' of rank %d", name, rank);
    s->ptrs[li] = ptr;
    return SW_OK;
}

int sw_bind(sw_session *s, const char *name, void *ptr, size_t nbytes, sw_error *err) {
    if (!s) return sw__err(err, SW_USAGE, "sw_bind: no session");
    if (s->rank < 0)
        return sw__err(err, SW_USAGE, "a local-backend session holds every rank: use sw_bind_rank to say whose '%s' it is",
                       name ? name : "tensor");
    return sw_bind_rank(s, s->rank, name, ptr, nbytes, err);
}

int sw_sync(sw_session *s, void *stream, sw_error *err) {
    if (!s) return sw__err(err, SW_USAGE, "sw_sync: no session");
    const sw_plan *p = s->plan;
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if ((s->rank < 0 || l->rank == s->rank) && !s->ptrs[i] && sw_plan_local_nbytes(l))
            return sw__err(err, SW_USAGE, "'%s' (%s) of rank %d is not bound", l->name,
                           l->role == SW_ROLE_SRC ? p->from : p->to, l->rank);
    }
    int rc;
    if (s->kind == SW_BACKEND_LOCAL) {
        rc = sw_local_group_run(s->local, s->ptrs, err);
#ifdef SW_HAVE_NCCL
    } else if (s->kind == SW_BACKEND_NCCL) {
        /* device work is ordered after `stream`, and `stream` after the last unpack */
        if (!stream) stream = s->opts.cuda_stream;
        rc = sw_nccl_begin(s->nccl, stream, s->ptrs, err);
        if (rc == SW_OK) rc = sw_exec_run(&s->exec, &s->backend, s->ptrs, err);
        if (rc == SW_OK) rc = sw_nccl_end(s->nccl, stream, err);
        return rc;
#endif
    } else {
        rc = sw_exec_run(&s->exec, &s->backend, s->ptrs, err);
    }
    if (rc == SW_OK && s->opts.zero_padding) sw_data_zero_padding(p, s->rank, s->ptrs);
    return rc;
}

double sw_session_warmup_s(const sw_session *s) {
#ifdef SW_HAVE_NCCL
    if (s && s->kind == SW_BACKEND_NCCL) return sw_nccl_warmup_s(s->nccl);
#endif
    (void)s;
    return 0;
}

void sw_session_close(sw_session *s) {
    if (!s) return;
    sw_local_group_close(s->local);
    sw_exec_free(&s->exec);
#ifdef SW_HAVE_NCCL
    sw_nccl_close(s->nccl); /* after sw_exec_free: the staging it lent the executor */
#endif
#ifdef SW_HAVE_MPI
    sw_mpi_close(s->mpi);
#endif
    free(s->ptrs);
    free(s);
}

/* Every local tensor of the session's rank(s) must be bound before filling or checking. */
static int all_bound(const sw_session *s, const char *what, sw_error *err) {
    const sw_plan *p = s->plan;
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if ((s->rank < 0 || l->rank == s->rank) && !s->ptrs[i] && sw_plan_local_nbytes(l))
            return sw__err(err, SW_USAGE, "%s: '%s' (%s) of rank %d is not bound", what, l->name,
                           l->role == SW_ROLE_SRC ? p->from : p->to, l->rank);
    }
    return SW_OK;
}

int sw_validation_fill(sw_session *s, sw_error *err) {
    if (!s) return sw__err(err, SW_USAGE, "sw_validation_fill: no session");
    SW_CHECK(all_bound(s, "sw_validation_fill", err));
    SW_CHECK(sw_data_fill(s->plan, s->rank, s->ptrs, err));
    sw_data_poison(s->plan, s->rank, s->ptrs);
    return SW_OK;
}

int sw_validation_check(sw_session *s, uint64_t *checked, sw_error *err) {
    if (checked) *checked = 0;
    if (!s) return sw__err(err, SW_USAGE, "sw_validation_check: no session");
    SW_CHECK(all_bound(s, "sw_validation_check", err));
    sw_data_report rep;
    memset(&rep, 0, sizeof rep);
    SW_CHECK(sw_data_check(s->plan, s->rank, s->ptrs, &rep, err));
    if (checked) *checked = rep.checked;
    if (rep.bad) {
        char first[1024];
        sw_data_describe(s->plan, &rep.shown[0], first, sizeof first);
        return sw__err(err, SW_MISMATCH, "%llu of %llu destination elements are wrong; the first: %s",
                       (unsigned long long)rep.bad, (unsigned long long)rep.checked, first);
    }
    return SW_OK;
}
