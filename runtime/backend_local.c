#include "backend_local.h"
#include "diag.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct slot {
    const void *buf;
    size_t bytes;
    const sw_iov *iov; /* zero-copy messages (sw_local_group_use_iov) */
    size_t niov;
    uint8_t ready, consumed;
} slot;

typedef struct pending {
    int32_t wave;
    sw_msg *sends, *recvs;
    size_t ns, nr;
} pending;

struct sw_local_group {
    const sw_plan *plan;
    double timeout_s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot *slots;         /* per task */
    pending *pend;       /* per plan rank index */
    sw_exec *execs;      /* per plan rank index */
    int aborted;
    int descs;           /* pack/unpack/copy through segment descriptors (sw_local_group_use_descs) */
    int staged;          /* messages through staging buffers (sw_local_group_use_staging) */
    int iov;             /* zero-copy messages, iov lists (sw_local_group_use_iov) */
    sw_error first;      /* the first failure */
    void *const *ptrs;
};

typedef struct worker {
    sw_local_group *g;
    uint32_t ri;
    int rc;
    sw_error err;
} worker;

static void deadline(struct timespec *ts, double s) {
    clock_gettime(CLOCK_REALTIME, ts);
    double whole = (double)(time_t)s;
    ts->tv_sec += (time_t)s;
    ts->tv_nsec += (long)((s - whole) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static int lpost(void *ctx, int32_t rank, int32_t wave, sw_msg *sends, size_t ns, sw_msg *recvs, size_t nr,
                 sw_error *err) {
    sw_local_group *g = ctx;
    int32_t ri = sw_plan_rank_index(g->plan, rank);
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < ns; i++) {
        slot *s = &g->slots[sends[i].task];
        s->buf = sends[i].buf;
        s->bytes = sends[i].bytes;
        s->iov = sends[i].iov;
        s->niov = sends[i].niov;
        s->ready = 1;
    }
    g->pend[ri] = (pending){wave, sends, recvs, ns, nr};
    pthread_cond_broadcast(&g->cv);
    int aborted = g->aborted;
    pthread_mutex_unlock(&g->mu);
    if (aborted) return sw__err(err, SW_RUNTIME, "rank %d stopped: another rank failed", rank);
    return SW_OK;
}

/* Waits under the lock until *flag or abort; SW_TIMEOUT after the group's timeout. */
static int await(sw_local_group *g, const uint8_t *flag, const struct timespec *until) {
    while (!*flag && !g->aborted) {
        if (pthread_cond_timedwait(&g->cv, &g->mu, until) == ETIMEDOUT && !*flag) return SW_TIMEOUT;
    }
    return g->aborted && !*flag ? SW_RUNTIME : SW_OK;
}

static int lwait(void *ctx, int32_t rank, int32_t wave, sw_error *err) {
    sw_local_group *g = ctx;
    int32_t ri = sw_plan_rank_index(g->plan, rank);
    pending *pd = &g->pend[ri];
    struct timespec until;
    deadline(&until, g->timeout_s);
    int rc = SW_OK;
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < pd->nr && rc == SW_OK; i++) {
        slot *s = &g->slots[pd->recvs[i].task];
        rc = await(g, &s->ready, &until);
        if (rc == SW_TIMEOUT) {
            sw__err(err, SW_TIMEOUT, "rank %d: wave %d: nothing from rank %d within %g s", rank, wave,
                    pd->recvs[i].peer, g->timeout_s);
        } else if (rc) {
            sw__err(err, SW_RUNTIME, "rank %d: wave %d: stopped, another rank failed", rank, wave);
        } else if (s->bytes != pd->recvs[i].bytes) {
            rc = sw__err(err, SW_RUNTIME, "rank %d: wave %d: rank %d sent %zu bytes, %zu expected", rank, wave,
                         pd->recvs[i].peer, s->bytes, pd->recvs[i].bytes);
        } else if (s->iov || pd->recvs[i].iov) {
            /* zero-copy: from the sender's iov list (its tensors and staging) into ours */
            const sw_iov *a = s->iov, *b = pd->recvs[i].iov;
            size_t na = s->iov ? s->niov : 1, nb = pd->recvs[i].iov ? pd->recvs[i].niov : 1;
            sw_iov one_a = {(void *)s->buf, s->bytes}, one_b = {pd->recvs[i].buf, pd->recvs[i].bytes};
            if (!a) a = &one_a;
            if (!b) b = &one_b;
            size_t ia = 0, ib = 0, oa = 0, ob = 0;
            while (ia < na && ib < nb) {
                size_t n = a[ia].bytes - oa < b[ib].bytes - ob ? a[ia].bytes - oa : b[ib].bytes - ob;
                memcpy((uint8_t *)b[ib].addr + ob, (const uint8_t *)a[ia].addr + oa, n);
                oa += n;
                ob += n;
                if (oa == a[ia].bytes) ia++, oa = 0;
                if (ob == b[ib].bytes) ib++, ob = 0;
            }
            s->ready = 0;
            s->consumed = 1;
            pthread_cond_broadcast(&g->cv);
        } else if (g->descs || g->staged) {
            /* the descriptor path stages: a memcpy between the staging buffers */
            memcpy(pd->recvs[i].buf, s->buf, s->bytes);
            s->ready = 0;
            s->consumed = 1;
            pthread_cond_broadcast(&g->cv);
        } else {
            /* one copy, straight from the sender's tensors into ours, outside the lock:
             * the sender posted, so what it forwards is complete, and it waits for
             * `consumed` before it moves on */
            pthread_mutex_unlock(&g->mu);
            const sw_plan_task *t = &g->plan->tasks[pd->recvs[i].task];
            for (uint32_t k = 0; k < t->nseg && rc == SW_OK; k++)
                rc = sw_exec_copy(g->plan, &g->plan->segs[t->seg0 + k], g->ptrs, err);
            pthread_mutex_lock(&g->mu);
            s->ready = 0;
            s->consumed = 1;
            pthread_cond_broadcast(&g->cv);
        }
    }
    for (size_t i = 0; i < pd->ns && rc == SW_OK; i++) {
        slot *s = &g->slots[pd->sends[i].task];
        rc = await(g, &s->consumed, &until);
        if (rc == SW_TIMEOUT)
            sw__err(err, SW_TIMEOUT, "rank %d: wave %d: rank %d did not receive within %g s", rank, wave,
                    pd->sends[i].peer, g->timeout_s);
        else if (rc)
            sw__err(err, SW_RUNTIME, "rank %d: wave %d: stopped, another rank failed", rank, wave);
        else
            s->consumed = 0;
    }
    pthread_mutex_unlock(&g->mu);
    return rc;
}

static void fail(sw_local_group *g, int rc, const sw_error *err) {
    pthread_mutex_lock(&g->mu);
    if (!g->aborted) {
        g->aborted = 1;
        if (err) g->first = *err;
        else sw__err(&g->first, rc, "a rank failed");
    }
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* The device backends' path on the host: the wave's segment descriptors, run element by
 * element with the SW_HD functions the kernels use. */
static int run_descs(const sw_exec *x, size_t i, sw_segs_kind kind, void *const *ptrs, sw_error *err) {
    size_t n = sw_exec_wave_descs(x, i, kind, NULL);
    sw_seg_desc *d = malloc((n + 1) * sizeof *d);
    if (!d) return sw__err(err, SW_NOMEM, "out of memory");
    sw_exec_wave_descs(x, i, kind, d);
    uint8_t *staging = kind == SW_SEGS_PACK ? x->sendbuf[i & 1] : kind == SW_SEGS_UNPACK ? x->recvbuf[i & 1] : NULL;
    int rc = sw_seg_run_host(d, n, ptrs, staging, err);
    free(d);
    return rc;
}
static int dpack(void *ctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    (void)ctx;
    return run_descs(x, i, SW_SEGS_PACK, ptrs, err);
}
static int dcopy(void *ctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    (void)ctx;
    return run_descs(x, i, SW_SEGS_COPY, ptrs, err);
}
static int dunpack(void *ctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    (void)ctx;
    return run_descs(x, i, SW_SEGS_UNPACK, ptrs, err);
}

void sw_local_group_use_descs(sw_local_group *g, int on) { g->descs = on; }

void sw_local_group_use_staging(sw_local_group *g, int on) { g->staged = on; }

void sw_local_group_use_iov(sw_local_group *g, int on) { g->iov = on; }

static void *work(void *arg) {
    worker *w = arg;
    sw_local_group *g = w->g;
    /* direct copies, unless the descriptor path is under test (it stages like a device) */
    sw_backend b = {"local", g, !g->descs && !g->staged && !g->iov, lpost, lwait, NULL, NULL, NULL, g->iov && !g->descs};
    if (g->descs) {
        b.pack = dpack;
        b.copy = dcopy;
        b.unpack = dunpack;
    }
    sw__err_clear(&w->err);
    w->rc = sw_exec_run(&g->execs[w->ri], &b, g->ptrs, &w->err);
    if (w->rc) fail(g, w->rc, &w->err);
    return NULL;
}

int sw_local_group_open(sw_local_group **out, const sw_plan *p, double timeout_s, sw_error *err) {
    if (p->nranks > SW_MAX_LOCAL_RANKS)
        return sw__err(err, SW_USAGE,
                       "the local backend runs every rank as a thread of one process: this plan has %u ranks, at most "
                       "%d are run that way (use the mpi or nccl backend)",
                       p->nranks, SW_MAX_LOCAL_RANKS);
    sw_local_group *g = calloc(1, sizeof *g);
    if (!g) return sw__err(err, SW_NOMEM, "out of memory");
    g->plan = p;
    g->timeout_s = timeout_s > 0 ? timeout_s : 60;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->slots = calloc((size_t)p->ntasks + 1, sizeof *g->slots);
    g->pend = calloc((size_t)p->nranks + 1, sizeof *g->pend);
    g->execs = calloc((size_t)p->nranks + 1, sizeof *g->execs);
    if (!g->slots || !g->pend || !g->execs) {
        sw_local_group_close(g);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < p->nranks; i++) {
        int rc = sw_exec_init(&g->execs[i], p, p->ranks[i].rank, err);
        if (rc) {
            sw_local_group_close(g);
            return rc;
        }
    }
    *out = g;
    return SW_OK;
}

int sw_local_group_run(sw_local_group *g, void *const *ptrs, sw_error *err) {
    const sw_plan *p = g->plan;
    worker *w = calloc((size_t)p->nranks + 1, sizeof *w);
    pthread_t *th = calloc((size_t)p->nranks + 1, sizeof *th);
    uint8_t *started = calloc((size_t)p->nranks + 1, 1);
    if (!w || !th || !started) {
        free(w);
        free(th);
        free(started);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    g->ptrs = ptrs;
    g->aborted = 0;
    sw__err_clear(&g->first);
    for (size_t t = 0; t < p->ntasks; t++) g->slots[t] = (slot){0};
    int rc = SW_OK;
    for (uint32_t i = 0; i < p->nranks; i++) {
        w[i] = (worker){g, i, 0, {0}};
        if (g->execs[i].nwaves == 0) continue;
        if (pthread_create(&th[i], NULL, work, &w[i])) {
            rc = sw__err(err, SW_RUNTIME, "cannot start a thread for rank %d", p->ranks[i].rank);
            fail(g, rc, err);
            break;
        }
        started[i] = 1;
    }
    for (uint32_t i = 0; i < p->nranks; i++)
        if (started[i]) pthread_join(th[i], NULL);
    if (rc == SW_OK && g->aborted) {
        rc = g->first.status ? g->first.status : SW_RUNTIME;
        if (err) *err = g->first;
    }
    free(w);
    free(th);
    free(started);
    return rc;
}

void sw_local_group_bytes(const sw_local_group *g, uint64_t *sent, uint64_t *copied) {
    *sent = *copied = 0;
    for (uint32_t i = 0; i < g->plan->nranks; i++) {
        *sent += g->execs[i].bytes_sent;
        *copied += g->execs[i].bytes_copied;
    }
}

uint64_t sw_local_group_staged(const sw_local_group *g) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < g->plan->nranks; i++) n += g->execs[i].bytes_staged;
    return n;
}

void sw_local_group_close(sw_local_group *g) {
    if (!g) return;
    if (g->execs)
        for (uint32_t i = 0; i < g->plan->nranks; i++) sw_exec_free(&g->execs[i]);
    free(g->execs);
    free(g->slots);
    free(g->pend);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}
