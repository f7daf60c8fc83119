/*
 * session.c - the embedding API of include/shardwave.h: plans, sessions, bind, sync.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "backend_local.h"
#include "diag.h"
#include "exec.h"
#include "plan_io.h"
#include "shardwave.h"
#include "strmap.h"
#include "data_validate.h"
#include "plugin.h"
#include "agree.h"
#include "bounds.h"

struct sw_session {
    const sw_plan *plan;
    sw_backend_kind kind;
    int32_t rank;           /* -1: every rank (local backend) */
    sw_session_opts opts;
    void **ptrs;            /* per plan local */
    sw_arena names;         /* keys of `index` */
    sw_strmap index;        /* "RANK/NAME" and "RANK/LAYOUT/NAME" -> plan local (AMBIGUOUS: both layouts) */
    sw_local_group *local;
    sw_exec exec;
    sw_backend backend;
    sw_plugin_ref plugin;   /* mpi, nccl: the backend's plugin (plugin.h) */
    void *bctx;             /* its context */
};

#define AMBIGUOUS UINT32_MAX

/* Indexes the local tensors of the session's rank(s) by "RANK/NAME" and
 * "RANK/LAYOUT/NAME", so that a bind is a hash lookup (a model has thousands). */
static int build_index(sw_session *s, sw_error *err) {
    const sw_plan *p = s->plan;
    sw_arena_init(&s->names);
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        if (s->rank >= 0 && l->rank != s->rank) continue;
        const char *layout = l->role == SW_ROLE_SRC ? p->from : p->to;
        size_t cap = strlen(l->name) + strlen(layout) + 16;
        char *k1 = sw_arena_alloc(&s->names, cap), *k2 = sw_arena_alloc(&s->names, cap);
        if (!k1 || !k2) return sw__err(err, SW_NOMEM, "out of memory");
        snprintf(k1, cap, "%d/%s", (int)l->rank, l->name);
        snprintf(k2, cap, "%d/%s/%s", (int)l->rank, layout, l->name);
        uint32_t old;
        int r1 = sw_strmap_put(&s->index, k1, i, &old);
        /* a name in both layouts of this rank (a sync inside one process) needs LAYOUT/ */
        if (r1 == 1) r1 = sw_strmap_set(&s->index, k1, AMBIGUOUS);
        if (r1 < 0 || sw_strmap_put(&s->index, k2, i, NULL) < 0) return sw__err(err, SW_NOMEM, "out of memory");
    }
    return SW_OK;
}

/* The plan local of (rank, name); "LAYOUT/NAME" picks the layout when both have it. */
static int find_local(const sw_session *s, int32_t rank, const char *name, uint32_t *out, sw_error *err) {
    const sw_plan *p = s->plan;
    char small[512], *key = small;
    size_t need = strlen(name) + 16;
    if (need > sizeof small && !(key = malloc(need))) return sw__err(err, SW_NOMEM, "out of memory");
    snprintf(key, need > sizeof small ? need : sizeof small, "%d/%s", (int)rank, name);
    uint32_t hit;
    int found = sw_strmap_get(&s->index, key, &hit);
    if (key != small) free(key);
    if (!found) return sw__err(err, SW_USAGE, "rank %d has no local tensor '%s' in plan '%s'", rank, name, p->sync);
    if (hit == AMBIGUOUS)
        return sw__err(err, SW_USAGE,
                       "'%s' is a local tensor of rank %d in both layouts '%s' and '%s': bind '%s/%s' or '%s/%s'", name,
                       rank, p->from, p->to, p->from, name, p->to, name);
    *out = hit;
    return SW_OK;
}

/* Reports that the MPI bootstrap of the nccl backend could not start (err says why). */
static int boot_failed(int rc, sw_error *err) {
    if (!err) return rc;
    char why[sizeof err->msg];
    snprintf(why, sizeof why, "%s", err->msg);
    return sw__err(err, rc, "the nccl backend bootstraps through MPI when sw_session_opts has neither nccl_comm nor "
                                "nccl_unique_id: %s", why);
}

/*
 * The nccl options that say who is in the communicator, checked before anything is
 * loaded or created (collective calls must not start for a session that cannot work):
 * a unique id or a communicator, not both; comm_rank_of[r] (plan rank r's communicator
 * rank, -1: none) in 0 .. comm_size - 1, two plan ranks never on one communicator rank,
 * every rank the plan uses (and the session's own) on one; without a map, plan rank r is
 * communicator rank r, so every plan rank must be below comm_size.  Other backends ignore
 * these options.
 */
static int check_comm_opts(sw_session *s, sw_error *err) {
    sw_session_opts *o = &s->opts;
    const sw_plan *p = s->plan;
    if (s->kind != SW_BACKEND_NCCL) return SW_OK; /* the nccl options mean nothing there */
    if (o->nccl_unique_id && o->nccl_comm)
        return sw__err(err, SW_USAGE, "give nccl_unique_id or nccl_comm, not both: with a communicator of yours "
                                      "there is nothing to create");
    if (o->comm_size < 0) return sw__err(err, SW_USAGE, "comm_size is %d: it counts processes", o->comm_size);
    if (!o->comm_rank_of != !o->ncomm_rank_of)
        return sw__err(err, SW_USAGE, "comm_rank_of and ncomm_rank_of go together (%s without %s)",
                       o->comm_rank_of ? "comm_rank_of" : "ncomm_rank_of",
                       o->comm_rank_of ? "its length ncomm_rank_of" : "comm_rank_of");
    int32_t size = o->comm_size;
    if (!size) { /* the default: every rank the plan uses, and the map's largest */
        size = sw_plan_max_rank(p) + 1;
        if (o->comm_rank_of) {
            size = 0;
            for (size_t r = 0; r < o->ncomm_rank_of; r++)
                if (o->comm_rank_of[r] >= size) size = o->comm_rank_of[r] + 1;
        }
    }
    if (o->comm_rank_of) {
        for (size_t r = 0; r < o->ncomm_rank_of; r++) {
            int32_t v = o->comm_rank_of[r];
            if (v < -1 || v >= size)
                return sw__err(err, SW_USAGE, "comm_rank_of[%zu] = %d is out of range: communicator ranks are 0 .. %d "
                                              "(comm_size %d), -1 for none",
                               r, v, size - 1, size);
        }
        /* two plan ranks on one communicator rank: sort-free, with a table by rank */
        int32_t *who = malloc((size_t)size * sizeof *who);
        if (!who) return sw__err(err, SW_NOMEM, "out of memory");
        for (int32_t k = 0; k < size; k++) who[k] = -1;
        int rc = SW_OK;
        for (size_t r = 0; r < o->ncomm_rank_of && rc == SW_OK; r++) {
            int32_t v = o->comm_rank_of[r];
            if (v < 0) continue;
            if (who[v] >= 0)
                rc = sw__err(err, SW_USAGE, "comm_rank_of: plan ranks %d and %zu both map to communicator rank %d",
                             who[v], r, v);
            who[v] = (int32_t)r;
        }
        free(who);
        SW_CHECK(rc);
    }
    for (uint32_t i = 0; i < p->nranks; i++) {
        int32_t r = p->ranks[i].rank;
        if (o->comm_rank_of && ((size_t)r >= o->ncomm_rank_of || o->comm_rank_of[r] < 0))
            return sw__err(err, SW_USAGE, "plan rank %d has no communicator rank: comm_rank_of (%zu entries) must map "
                                          "every rank the plan uses",
                           r, o->ncomm_rank_of);
        if (!o->comm_rank_of && r >= size)
            return sw__err(err, SW_USAGE, "the plan uses rank %d but comm_size is %d (without comm_rank_of plan rank "
                                          "k is communicator rank k)",
                           r, size);
    }
    if (o->comm_rank_of && (s->rank < 0 || (size_t)s->rank >= o->ncomm_rank_of || o->comm_rank_of[s->rank] < 0))
        return sw__err(err, SW_USAGE, "this session's rank %d has no communicator rank in comm_rank_of", s->rank);
    if (!o->comm_rank_of && (s->rank < 0 || s->rank >= size))
        return sw__err(err, SW_USAGE, "this session's rank %d is not a rank of a communicator of %d (comm_size)", s->rank,
                       size);
    if (o->nccl_unique_id) o->comm_size = size; /* what every process of it computes the same way */
    return SW_OK;
}

/* opts (NULL, or an older and shorter struct) into a full one; the timeout in (0,
 * SW_MAX_TIMEOUT_S] (0, negative or NaN: 60 s; a NaN deadline would never pass). */
static void take_session_opts(const sw_session_opts *in, sw_session_opts *o) {
    memset(o, 0, sizeof *o);
    if (in) memcpy(o, in, in->struct_size && in->struct_size < sizeof *o ? in->struct_size : sizeof *o);
    if (!(o->timeout_s > 0)) o->timeout_s = 60;
    if (o->timeout_s > SW_MAX_TIMEOUT_S) o->timeout_s = SW_MAX_TIMEOUT_S;
}

/* ---- the agreement at open (agree.h) over MPI, through the mpi plugin ---- */

/* The MPI group an open agrees over: the caller's communicator (NULL: MPI_COMM_WORLD). */
typedef struct mpi_group {
    sw_plugin_ref ref; /* the mpi plugin */
    const void *comm;
    double timeout_s;
    int timed_out; /* a collective over comm timed out: it is still pending */
} mpi_group;

static int g_allgather(void *ctx, const void *mine, void *all, size_t bytes, double timeout_s, sw_error *err) {
    mpi_group *g = ctx;
    int rc = g->ref.api->comm_allgather(g->comm, mine, all, bytes, timeout_s, "agreeing on the plan at session open",
                                        err);
    if (rc == SW_TIMEOUT) g->timed_out = 1;
    return rc;
}

static int g_bcast(void *ctx, void *buf, size_t bytes, int root, double timeout_s, sw_error *err) {
    mpi_group *g = ctx;
    int rc = g->ref.api->comm_bcast_within(g->comm, buf, bytes, root, timeout_s,
                                           "agreeing on the plan at session open", err);
    if (rc == SW_TIMEOUT) g->timed_out = 1;
    return rc;
}

/* sw_boot's broadcast (the nccl bootstrap), bounded by the session's timeout. */
static int g_boot_bcast(void *ctx, void *buf, size_t n, int root, sw_error *err) {
    mpi_group *g = ctx;
    int rc = g->ref.api->comm_bcast_within(g->comm, buf, n, root, g->timeout_s,
                                           "broadcasting the NCCL unique id", err);
    if (rc == SW_TIMEOUT) g->timed_out = 1;
    return rc;
}

/* sw_boot's all-gather (the nccl bootstrap's routes: every process's GPU), bounded too. */
static int g_boot_allgather(void *ctx, const void *mine, void *all, size_t n, sw_error *err) {
    mpi_group *g = ctx;
    int rc = g->ref.api->comm_allgather(g->comm, mine, all, n, g->timeout_s, "gathering every process's GPU", err);
    if (rc == SW_TIMEOUT) g->timed_out = 1;
    return rc;
}

/* Loads the mpi plugin and checks that MPI is up; g->ref empty on failure. */
static int group_open(mpi_group *g, sw_backend_kind kind, const sw_session_opts *o, sw_error *err) {
    memset(g, 0, sizeof *g);
    g->comm = o->mpi_comm;
    g->timeout_s = o->timeout_s;
    SW_CHECK(sw_plugin_load("mpi", &g->ref, err));
    sw_boot b;
    int rc = SW_OK;
    if (!g->ref.api->comm_allgather || !g->ref.api->comm_bcast_within)
        rc = sw__err(err, SW_UNSUPPORTED, "the mpi plugin has no bounded collectives (another build)");
    else if ((rc = g->ref.api->comm_boot(g->comm, &b, err)) == SW_USAGE && kind == SW_BACKEND_MPI)
        rc = sw__err(err, SW_USAGE, "the mpi backend needs MPI_Init first"); /* MPI is not initialised */
    if (rc) sw_plugin_unload(&g->ref);
    return rc;
}

/* One round of the agreement over g: p and id this process's plan (NULL and `why` when
 * it cannot open). */
static int group_agree(mpi_group *g, const sw_plan *p, uint64_t id, int32_t rank, const sw_error *why,
                       sw_error *err) {
    sw_agree_ops ops;
    memset(&ops, 0, sizeof ops);
    sw_boot b;
    SW_CHECK(g->ref.api->comm_boot(g->comm, &b, err));
    ops.ctx = g;
    ops.size = b.size;
    ops.me = b.rank;
    ops.allgather = g_allgather;
    ops.bcast = g_bcast;
    return sw_agree_plan(&ops, why && why->status != SW_OK ? NULL : p, id, rank, why, g->timeout_s, err);
}

/* The process-local part of an open: the plan and the rank's part of it, the bind index,
 * the plan's identity (mpi and nccl agree on it). */
static int prepare(sw_session *s, uint64_t *id, sw_error *err) {
    const sw_plan *p = s->plan;
    if (!p) return sw__err(err, SW_USAGE, "sw_session_open: no plan");
    if (p->partial && s->rank != p->only_rank)
        return sw__err(err, SW_USAGE, "this plan was loaded for rank %d only (sw_plan_load_rank); %s", p->only_rank,
                       s->rank < 0 ? "the local backend runs every rank: load the whole plan" : "open that rank's session");
    if (s->kind == SW_BACKEND_NCCL && s->opts.zero_padding)
        return sw__err(err, SW_UNSUPPORTED, "zero_padding is not supported by the nccl backend yet");
    s->ptrs = calloc((size_t)p->nlocals + 1, sizeof *s->ptrs);
    if (!s->ptrs) return sw__err(err, SW_NOMEM, "out of memory");
    SW_CHECK(build_index(s, err));
    SW_CHECK(check_comm_opts(s, err));
    return s->kind == SW_BACKEND_LOCAL ? SW_OK : sw_plan_identity(p, id, err);
}

/* Whether an mpi or nccl open agrees over MPI: mpi always; nccl when it bootstraps
 * through MPI (no communicator or unique id of the caller's). */
static int agrees_over_mpi(sw_backend_kind kind, const sw_session_opts *o) {
#ifdef SW_HAVE_MPI
    if (kind == SW_BACKEND_MPI) return 1;
    if (kind == SW_BACKEND_NCCL) return !o->nccl_comm && !o->nccl_unique_id;
#endif
    (void)kind, (void)o;
    return 0;
}

/* The backend proper, after the first round: the backend's plugin, the executor, the
 * backend's open (collective over its communicator); nccl through MPI bootstraps over g. */
/* What a process checks before the agreement, so that a rank without it says so to every
 * rank: the backend's plugin, and for nccl a CUDA device. */
static int load_backend(sw_session *s, sw_error *err) {
    int nccl = s->kind == SW_BACKEND_NCCL;
    SW_CHECK(sw_plugin_load(nccl ? "nccl" : "mpi", &s->plugin, err));
    if (nccl && s->plugin.api->have_device) return s->plugin.api->have_device(err);
    return SW_OK;
}

/* The backend (its plugin loaded): the executor and the backend's open. */
static int open_backend(sw_session *s, mpi_group *g, sw_error *err) {
    int nccl = s->kind == SW_BACKEND_NCCL;
    const sw_plugin *pl = s->plugin.api;
    if (!nccl) {
        SW_CHECK(pl->open(&s->bctx, &s->backend, NULL, s->rank, &s->opts, NULL, err));
        return sw_exec_init(&s->exec, s->plan, s->rank, err);
    }
    SW_CHECK(sw_exec_init(&s->exec, s->plan, s->rank, err));
    sw_boot boot, *bp = NULL;
    if (g) {
        int rc = g->ref.api->comm_boot(g->comm, &boot, err);
        if (rc) return boot_failed(rc, err);
        boot.ctx = g;
        boot.bcast = g_boot_bcast;
        boot.allgather = g_boot_allgather;
        bp = &boot;
    }
    return pl->open(&s->bctx, &s->backend, &s->exec, s->rank, &s->opts, bp, err);
}

/* The mpi and nccl backends.  Over MPI (agrees_over_mpi) the open is agreed in two
 * rounds: before the backend exists (every process's plan, rank and whether it could
 * prepare: lrc, why) and after it (whether every process's open worked), so that every
 * process returns SW_OK or the same error naming the rank and the cause.  A collective
 * that timed out is still pending: then no second round (the caller stops the job). */
static int open_plugin_backend(sw_session *s, uint64_t id, int lrc, const sw_error *why, sw_error *err) {
    int nccl = s->kind == SW_BACKEND_NCCL;
#ifndef SW_HAVE_MPI
    if (!nccl) return sw__err(err, SW_UNSUPPORTED, "this build of shardwave has no MPI: the mpi backend is not available");
#endif
#ifndef SW_HAVE_NCCL
    if (nccl)
        return sw__err(err, SW_UNSUPPORTED, "this build of shardwave has no CUDA/NCCL: the nccl backend is not available");
#endif
    sw_error perr;
    sw__err_clear(&perr);
    int prc = lrc ? SW_OK : load_backend(s, &perr);
    if (lrc == SW_OK && prc) { /* the first reason this process cannot open */
        lrc = prc;
        why = &perr;
    }
    if (!agrees_over_mpi(s->kind, &s->opts)) {
        if (lrc) {
            if (err) *err = *why;
            return lrc;
        }
        return open_backend(s, NULL, err);
    }
    mpi_group g;
    int rc = group_open(&g, s->kind, &s->opts, err);
    if (rc) { /* this process cannot take part: its own reason first */
        if (lrc) {
            if (err) *err = *why;
            return lrc;
        }
        return nccl ? boot_failed(rc, err) : rc;
    }
    rc = group_agree(&g, s->plan, id, s->rank, lrc ? why : NULL, err);
    if (rc == SW_OK) {
        sw_error mine;
        sw__err_clear(&mine);
        int orc = open_backend(s, &g, &mine);
        if (orc == SW_TIMEOUT && (g.timed_out || !nccl)) {
            /* a collective of MPI is pending (the mpi backend's duplicate, the bootstrap's
             * broadcast): not another round */
            if (err) *err = mine;
            rc = orc;
        } else {
            rc = group_agree(&g, s->plan, id, s->rank, orc ? &mine : NULL, err);
        }
    }
    sw_plugin_unload(&g.ref);
    return rc;
}

int sw_session_open(sw_session **out, const sw_plan *p, int rank, sw_backend_kind kind, const sw_session_opts *opts,
                    sw_error *err) {
    if (!out) return sw__err(err, SW_USAGE, "sw_session_open: NULL session pointer");
    *out = NULL;
    sw_session *s = calloc(1, sizeof *s);
    if (!s) return sw__err(err, SW_NOMEM, "out of memory");
    s->plan = p;
    s->kind = kind;
    s->rank = rank;
    take_session_opts(opts, &s->opts);
    /* a process that cannot open still takes part in the agreement (mpi, nccl through
     * MPI): the others then fail with its reason instead of waiting for it */
    sw_error why;
    sw__err_clear(&why);
    uint64_t id = 0;
    int lrc = prepare(s, &id, &why);
    int rc = SW_OK;
    switch (kind) {
    case SW_BACKEND_LOCAL:
        if (lrc) {
            if (err) *err = why;
            rc = lrc;
        } else if (rank != -1) {
            rc = sw__err(err, SW_USAGE, "the local backend runs every rank of the plan in one session: open it with rank -1");
        } else {
            rc = sw_local_group_open(&s->local, p, s->opts.timeout_s, err);
        }
        break;
    case SW_BACKEND_MPI:
    case SW_BACKEND_NCCL:
        /* collective over the communicator: every rank opens, also one the plan does not use */
        rc = open_plugin_backend(s, id, lrc, &why, err);
        break;
    default:
        rc = sw__err(err, SW_USAGE, "unknown backend %d", (int)kind);
    }
    if (rc) goto fail;
    *out = s;
    sw__err_clear(err);
    return SW_OK;
fail:
    sw_session_close(s);
    return rc;
}

int sw_session_fail_open(int rank, sw_backend_kind kind, const sw_session_opts *opts, const sw_error *why,
                         sw_error *err) {
    sw_error reason;
    if (why && why->status < SW_OK) {
        reason = *why;
        reason.msg[sizeof reason.msg - 1] = '\0'; /* a caller's struct: keep it a string */
        reason.file[sizeof reason.file - 1] = '\0';
    } else {
        sw__err(&reason, SW_USAGE, "sw_session_fail_open: no reason given");
    }
    sw_session_opts o;
    take_session_opts(opts, &o);
    if (!agrees_over_mpi(kind, &o)) {
        if (err) *err = reason;
        return reason.status;
    }
    mpi_group g;
    int rc = group_open(&g, kind, &o, err);
    if (rc) return rc;
    rc = group_agree(&g, NULL, 0, rank, &reason, err);
    sw_plugin_unload(&g.ref);
    return rc ? rc : sw__err(err, SW_INTERNAL, "the agreement accepted a process without a plan");
}

int sw_bind_rank(sw_session *s, int rank, const char *name, void *ptr, size_t nbytes, sw_error *err) {
    if (!s || !name) return sw__err(err, SW_USAGE, "sw_bind: no session or no name");
    if (s->rank >= 0 && rank != s->rank)
        return sw__err(err, SW_USAGE, "this session is rank %d's; cannot bind a tensor of rank %d", s->rank, rank);
    uint32_t li = 0;
    SW_CHECK(find_local(s, rank, name, &li, err));
    const sw_plan_local *l = &s->plan->locals[li];
    size_t want = sw_plan_local_nbytes(l);
    if (nbytes != want)
        return sw__err(err, SW_USAGE, "'%s' of rank %d is %s with %d dims (%zu bytes); %zu bytes were given", name, rank,
                       sw_dtype_name(l->dtype), l->ndim, want, nbytes);
    if (!ptr && want) return sw__err(err, SW_USAGE, "sw_bind: NULL memory for '%s' of rank %d", name, rank);
    s->ptrs[li] = ptr;
    sw__err_clear(err);
    return SW_OK;
}

int sw_bind_tensor(sw_session *s, int rank, const char *name, const sw_tensor_desc *t, sw_error *err) {
    if (!s || !name || !t) return sw__err(err, SW_USAGE, "sw_bind_tensor: no %s", !s ? "session" : !name ? "name" : "tensor");
    if (s->rank >= 0 && rank != s->rank)
        return sw__err(err, SW_USAGE, "this session is rank %d's; cannot bind a tensor of rank %d", s->rank, rank);
    uint32_t li = 0;
    SW_CHECK(find_local(s, rank, name, &li, err));
    const sw_plan_local *l = &s->plan->locals[li];
    char want[128], got[128];
    int n = snprintf(want, sizeof want, "%s [", sw_dtype_name(l->dtype));
    for (int d = 0; d < l->ndim && n < (int)sizeof want; d++)
        n += snprintf(want + n, sizeof want - (size_t)n, "%s%lld", d ? ", " : "", (long long)l->shape[d]);
    if (n < (int)sizeof want) snprintf(want + n, sizeof want - (size_t)n, "]");
    if (t->dtype && strcmp(t->dtype, sw_dtype_name(l->dtype)))
        return sw__err(err, SW_USAGE, "'%s' of rank %d is %s; a %s tensor was given", name, rank, want, t->dtype);
    if (t->ndim >= 0) {
        int same = t->ndim == l->ndim && (t->ndim == 0 || t->shape);
        for (int d = 0; same && d < l->ndim; d++) same = t->shape[d] == l->shape[d];
        if (!same) {
            n = snprintf(got, sizeof got, "[");
            for (int d = 0; t->shape && d < t->ndim && n < (int)sizeof got; d++)
                n += snprintf(got + n, sizeof got - (size_t)n, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
            if (n < (int)sizeof got) snprintf(got + n, sizeof got - (size_t)n, "]");
            return sw__err(err, SW_USAGE, "'%s' of rank %d is %s; a tensor of shape %s was given", name, rank, want, got);
        }
        if (t->strides) {
            /* dense row-major: the stride of each dim is the product of the later sizes (a
             * dim of size 1 may have any stride) */
            int64_t expect = 1;
            for (int d = l->ndim - 1; d >= 0; d--) {
                if (l->shape[d] != 1 && t->strides[d] != expect)
                    return sw__err(err, SW_USAGE,
                                   "'%s' of rank %d must be dense row-major (contiguous): dim %d has stride %lld, "
                                   "expected %lld (a transposed or sliced view? pass a contiguous copy)",
                                   name, rank, d, (long long)t->strides[d], (long long)expect);
                expect *= l->shape[d];
            }
        }
    } else if (t->strides) {
        return sw__err(err, SW_USAGE, "sw_bind_tensor: strides without a shape for '%s'", name);
    }
    if (t->mem == SW_MEM_HOST && s->kind == SW_BACKEND_NCCL)
        return sw__err(err, SW_USAGE, "'%s' of rank %d is in host memory; the nccl backend needs CUDA device memory", name,
                       rank);
    if (t->mem == SW_MEM_CUDA && s->kind != SW_BACKEND_NCCL)
        return sw__err(err, SW_USAGE, "'%s' of rank %d is in CUDA memory (device %d); the %s backend needs host memory",
                       name, rank, t->device_index, s->kind == SW_BACKEND_LOCAL ? "local" : "mpi");
    if (!t->data && sw_plan_local_nbytes(l))
        return sw__err(err, SW_USAGE, "sw_bind_tensor: NULL memory for '%s' of rank %d", name, rank);
    s->ptrs[li] = t->data;
    sw__err_clear(err);
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
        if (rc == SW_OK && s->opts.zero_padding) sw_data_zero_padding(p, s->rank, s->ptrs);
    } else if (s->kind == SW_BACKEND_NCCL) {
        /* on the session's device (the caller's is restored); device work is ordered after
         * `stream`, and `stream` after the last unpack */
        const sw_plugin *pl = s->plugin.api;
        if (!stream) stream = s->opts.cuda_stream;
        SW_CHECK(pl->enter(s->bctx, err));
        rc = pl->begin(s->bctx, stream, s->ptrs, err);
        if (rc == SW_OK) rc = sw_exec_run(&s->exec, &s->backend, s->ptrs, err);
        int rc2 = pl->end(s->bctx, stream, rc ? NULL : err); /* NULL: failed before, nothing to wait for */
        if (rc == SW_OK) rc = rc2;
        pl->leave(s->bctx);
    } else {
        rc = sw_exec_run(&s->exec, &s->backend, s->ptrs, err);
        if (rc == SW_OK && s->opts.zero_padding) sw_data_zero_padding(p, s->rank, s->ptrs);
    }
    if (rc == SW_OK) sw__err_clear(err);
    return rc;
}

int sw_nccl_unique_id(void *out, size_t cap, sw_error *err) {
    if (!out || cap < SW_NCCL_UNIQUE_ID_BYTES)
        return sw__err(err, SW_USAGE, "sw_nccl_unique_id: needs a buffer of %d bytes (SW_NCCL_UNIQUE_ID_BYTES), %zu given",
                       SW_NCCL_UNIQUE_ID_BYTES, out ? cap : 0);
#ifndef SW_HAVE_NCCL
    return sw__err(err, SW_UNSUPPORTED, "sw_nccl_unique_id: this build of shardwave has no CUDA/NCCL (the nccl "
                                        "backend was not built)");
#else
    /* the nccl plugin does it: loading it names a missing libcudart or libnccl */
    sw_plugin_ref pl;
    int rc = sw_plugin_load("nccl", &pl, err);
    if (rc) {
        char why[sizeof err->msg];
        if (!err) return rc;
        snprintf(why, sizeof why, "%s", err->msg);
        return sw__err(err, rc, "sw_nccl_unique_id: %s", why);
    }
    rc = pl.api->unique_id(out, cap, err);
    sw_plugin_unload(&pl);
    if (rc == SW_OK) sw__err_clear(err);
    return rc;
#endif
}

double sw_session_warmup_s(const sw_session *s) {
    if (s && s->plugin.api && s->plugin.api->warmup_s) return s->plugin.api->warmup_s(s->bctx);
    return 0;
}

void sw_session_close(sw_session *s) {
    if (!s) return;
    sw_local_group_close(s->local);
    sw_exec_free(&s->exec);
    /* after sw_exec_free: the nccl backend lent the executor its staging; the close
     * itself runs on the session's device (sw_nccl_close enters it) */
    if (s->plugin.api && s->bctx) s->plugin.api->close(s->bctx);
    sw_plugin_unload(&s->plugin);
    free(s->ptrs);
    sw_strmap_free(&s->index);
    sw_arena_free(&s->names);
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
    /* nccl: the tensors are device memory, filled by the device */
    if (s->kind == SW_BACKEND_NCCL) {
        /* on the session's device */
        SW_CHECK(s->plugin.api->enter(s->bctx, err));
        int rc = s->plugin.api->validate_fill(s->plan, s->rank, s->ptrs, err);
        s->plugin.api->leave(s->bctx);
        SW_CHECK(rc);
    } else {
        SW_CHECK(sw_data_fill(s->plan, s->rank, s->ptrs, err));
        sw_data_poison(s->plan, s->rank, s->ptrs);
    }
    sw__err_clear(err);
    return SW_OK;
}

int sw_validation_check(sw_session *s, uint64_t *checked, sw_error *err) {
    if (checked) *checked = 0;
    if (!s) return sw__err(err, SW_USAGE, "sw_validation_check: no session");
    SW_CHECK(all_bound(s, "sw_validation_check", err));
    sw_data_report rep;
    memset(&rep, 0, sizeof rep);
    if (s->kind == SW_BACKEND_NCCL) {
        SW_CHECK(s->plugin.api->enter(s->bctx, err));
        int rc = s->plugin.api->validate_check(s->plan, s->rank, s->ptrs, &rep, err);
        s->plugin.api->leave(s->bctx);
        SW_CHECK(rc);
    } else
        SW_CHECK(sw_data_check(s->plan, s->rank, s->ptrs, &rep, err));
    if (checked) *checked = rep.checked;
    if (rep.bad) {
        char first[1024];
        sw_data_describe(s->plan, &rep.shown[0], first, sizeof first);
        return sw__err(err, SW_MISMATCH, "%llu of %llu destination elements are wrong; the first: %s",
                       (unsigned long long)rep.bad, (unsigned long long)rep.checked, first);
    }
    sw__err_clear(err);
    return SW_OK;
}
