/*
 * backend_nccl.c - the nccl backend (see backend_nccl.h for the stream/event protocol).
 */
#include "backend_nccl.h"
#include "clock.h"
#include "diag.h"

#include <cuda_runtime_api.h>
#include <fcntl.h>
#include <nccl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernels.h"
#include "nccl_ipc.h"
#include "nccl_route.h"

_Static_assert(sizeof(ncclUniqueId) == SW_NCCL_UNIQUE_ID_BYTES, "SW_NCCL_UNIQUE_ID_BYTES is NCCL's");

/* The oldest NCCL with every call this backend makes (ncclCommInitRankConfig,
 * ncclCommFinalize, ncclCommGetAsyncError, ncclConfig_t.blocking). */
#define SW_NCCL_MIN_VERSION 21400

/* One kind of descriptor table (pack, copy, unpack) for all waves of the rank. */
typedef struct table {
    size_t *first;       /* host: descriptors of wave i are [first[i], first[i+1]) */
    uint64_t *nchunks;   /* host: chunks of wave i */
    sw_seg_desc *d;      /* device */
    uint64_t *chunk0;    /* device: wave i's prefix sums at chunk0[first[i] + i ..], n_i + 1 of them */
} table;

/* One NCCL operation of a message cut for zero-copy (sw_backend.iov's contract): `bytes`
 * bytes at `at` in the message's staging, or in place at byte `off` of local `local`. */
typedef struct zc_op {
    uint64_t at, bytes, off;
    int32_t local; /* -1: staged */
} zc_op;

/* One executor wave as posted in this sync: for the final wait and its messages. */
typedef struct wave_rec {
    int32_t wave;        /* global wave */
    int posted;          /* its transfers are on the comm stream: wave_ev recorded */
    uint32_t nmsg;
    int32_t peer[4];
    uint8_t send[4], ipc[4];
    size_t bytes[4];
} wave_rec;

struct sw_nccl_ctx {
    /* who and where */
    int32_t rank, comm_rank, comm_size; /* plan rank; its rank and size in the NCCL communicator (-1, 0: none) */
    int device;                /* the CUDA device current at open: every entry point runs on it */
    int prev_device, depth;    /* enter/leave */
    double timeout_s;
    const sw_exec *x;
    int sync_debug;            /* SHARDWAVE_NCCL_SYNC_DEBUG=1: synchronize after each kernel */
    int nccl_version;
    /* the communicator */
    ncclComm_t comm;
    int own_comm, aborted;
    int healthy;               /* opened, and no sync left unfinished: close may wait for the streams */
    int32_t *comm_of;          /* [plan nranks] communicator rank of each plan rank (-1: not in it) */
    sw_nccl_route route;
    sw_nccl_ipc *ipc;
    /* streams and events */
    cudaStream_t pack_s, comm_s, unpack_s;
    cudaEvent_t pack_ev[2], unpack_ev, start_ev, end_pack_ev, end_unpack_ev, end_comm_ev, table_ev, flush_ev, debug_ev;
    cudaEvent_t *wave_ev;      /* [nwaves]: wave i's transfers done (recorded on comm_s) */
    size_t nwaves;             /* the executor's (which the session frees before closing this) */
    int32_t last_ev[2];        /* per half of the arena: the last wave whose transfers used it (-1) */
    /* staging and descriptors */
    uint8_t *arena;
    size_t arena_bytes;
    table tab[3];              /* by sw_segs_kind */
    uint8_t *forwards;         /* per wave: it sends or copies what an earlier wave brought */
    void **ptrs_dev, **ptrs_pinned;
    uint32_t nlocals;
    int ptrs_set, table_pending;
    /* one sync */
    uint64_t seq;              /* syncs begun */
    size_t nposted;            /* executor waves posted in this sync */
    wave_rec *rec;             /* [nwaves] */
    sw_msg *nccl_msgs;         /* scratch: a wave's NCCL messages (sends, then receives) */
    sw_msg *wave_recvs;        /* scratch: a wave's incoming messages */
    /* zero-copy (NCCL messages; CUDA IPC ones stay staged whole): */
    int64_t *segrun;           /* [plan nsegs]: element offset in this rank's tensor of a segment
                                * sent or received in place, -1: packed / unpacked by the kernels */
    size_t *op0;               /* [plan ntasks + 1]: task t's operations are ops[op0[t] .. op0[t + 1]);
                                * none: the message goes whole */
    zc_op *ops;
    size_t max_msgs;
    double warmup_s;
};

/* Spins about 50 us before it yields, then sleeps 20..100 us: a wave's enqueue or
 * transfer that ends within microseconds is seen at once (review F5: a first nanosleep
 * costs 70-90 us on Linux). */
static void backoff(unsigned *k) {
    if (*k < 1000) {
        (*k)++;
    } else if (*k < 2000) {
        (*k)++;
        sched_yield();
    } else {
        struct timespec ts = {0, *k < 2100 ? 20000 : 100000};
        (*k)++;
        nanosleep(&ts, NULL);
    }
}

int sw_cuda_error(int code, const char *what, sw_error *err) {
    /* a failed call leaves its code as the thread's last error: clear it, so that the next
     * kernel launch does not report it as its own (review F1) */
    (void)cudaGetLastError();
    return sw__err(err, SW_CUDA, "%s failed: %s (%s)", what, cudaGetErrorString((cudaError_t)code),
                   cudaGetErrorName((cudaError_t)code));
}

int sw_nccl_error(int code, const char *what, sw_error *err) {
    return sw__err(err, SW_NCCL, "%s failed: %s", what, ncclGetErrorString((ncclResult_t)code));
}

int sw_nccl_have_device(sw_error *err) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return sw__err(err, SW_CUDA, "no CUDA device: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
    }
    if (n <= 0) return sw__err(err, SW_CUDA, "no CUDA device: cudaGetDeviceCount found none");
    return SW_OK;
}

double sw_nccl_warmup_s(const sw_nccl_ctx *c) { return c ? c->warmup_s : 0; }
size_t sw_nccl_staging_bytes(const sw_nccl_ctx *c) { return c ? c->arena_bytes : 0; }

/* ---- the device guard (review F4) ------------------------------------------------------ */

int sw_nccl_enter(sw_nccl_ctx *c, sw_error *err) {
    if (c->depth++) return SW_OK;
    int cur = -1;
    cudaError_t e = cudaGetDevice(&cur);
    if (e == cudaSuccess && cur != c->device) e = cudaSetDevice(c->device);
    if (e != cudaSuccess) {
        c->depth--;
        char what[96];
        snprintf(what, sizeof what, "rank %d: making its device %d current (cudaSetDevice)", c->rank, c->device);
        return sw_cuda_error((int)e, what, err);
    }
    c->prev_device = cur;
    return SW_OK;
}

void sw_nccl_leave(sw_nccl_ctx *c) {
    if (!c->depth || --c->depth) return;
    if (c->prev_device >= 0 && c->prev_device != c->device && cudaSetDevice(c->prev_device) != cudaSuccess)
        (void)cudaGetLastError();
}

/* ---- the communicator ------------------------------------------------------------------ */

/* Aborts the communicator (after a timeout or an asynchronous error): every NCCL
 * operation of it returns, on every rank that aborts too. */
static void abort_comm(sw_nccl_ctx *c) {
    if (c->comm && !c->aborted) ncclCommAbort(c->comm);
    c->aborted = 1;
}

/* Polls a nonblocking communicator until its last call completed: a short spin first,
 * since an enqueue ends within microseconds.  what: for messages. */
static int comm_ready(sw_nccl_ctx *c, double deadline, const char *what, sw_error *err) {
    unsigned k = 0;
    for (;;) {
        ncclResult_t st = ncclSuccess;
        ncclResult_t r = ncclCommGetAsyncError(c->comm, &st);
        if (r != ncclSuccess) {
            abort_comm(c);
            return sw_nccl_error((int)r, "ncclCommGetAsyncError", err);
        }
        if (st == ncclSuccess) return SW_OK;
        if (st != ncclInProgress) {
            abort_comm(c);
            return sw__err(err, SW_NCCL, "rank %d: %s: %s (communicator aborted)", c->rank, what, ncclGetErrorString(st));
        }
        if (sw_now_s() > deadline) {
            abort_comm(c);
            return sw__err(err, SW_TIMEOUT, "rank %d: %s: not done after %g s (communicator aborted)", c->rank, what,
                           c->timeout_s);
        }
        backoff(&k);
    }
}

/* Where this process runs. */
static int where_am_i(sw_nccl_ctx *c, sw_nccl_where *w, sw_error *err) {
    memset(w, 0, sizeof *w);
    w->host = sw_nccl_host_hash();
    w->device = c->device;
    cudaError_t e = cudaDeviceGetPCIBusId(w->bus, (int)sizeof w->bus, c->device);
    if (e != cudaSuccess) return sw_cuda_error((int)e, "cudaDeviceGetPCIBusId", err);
    w->bus[sizeof w->bus - 1] = 0;
    return SW_OK;
}

/* What the MPI bootstrap gathers of every process. */
typedef struct boot_rec {
    sw_nccl_where where;
    int32_t plan_rank; /* the session's rank */
    int32_t member;    /* it has NCCL messages */
} boot_rec;

/* The communicator when the caller gave one: its rank, size and device must be this
 * session's (review F4, F8c). */
static int adopt_comm(sw_nccl_ctx *c, const sw_session_opts *o, sw_error *err) {
    ncclComm_t comm = (ncclComm_t)o->nccl_comm;
    /* a nonblocking communicator may still be initialising (nccl4py: poll until success
     * before any other call); one in error is the caller's to abort */
    double deadline = sw_now_s() + c->timeout_s;
    unsigned k = 0;
    for (;;) {
        ncclResult_t st = ncclSuccess;
        SW_NCCL_CHECK(ncclCommGetAsyncError(comm, &st), err);
        if (st == ncclSuccess) break;
        if (st != ncclInProgress)
            return sw__err(err, SW_NCCL, "the NCCL communicator given is in error: %s", ncclGetErrorString(st));
        if (sw_now_s() > deadline)
            return sw__err(err, SW_TIMEOUT, "the NCCL communicator given is still initialising after %g s",
                           c->timeout_s);
        backoff(&k);
    }
    c->comm = comm;
    int r = -1, n = 0, dev = -1;
    SW_NCCL_CHECK(ncclCommUserRank(c->comm, &r), err);
    SW_NCCL_CHECK(ncclCommCount(c->comm, &n), err);
    SW_NCCL_CHECK(ncclCommCuDevice(c->comm, &dev), err);
    if (r != c->comm_rank)
        return sw__err(err, SW_USAGE,
                       "the NCCL communicator given is rank %d's, but plan rank %d is communicator rank %d%s", r,
                       c->rank, c->comm_rank, o->comm_rank_of ? " (comm_rank_of)" : ": NCCL rank k must be plan rank k");
    if (o->comm_size && n != o->comm_size)
        return sw__err(err, SW_USAGE, "the NCCL communicator given has %d ranks, comm_size says %d", n, o->comm_size);
    if (dev != c->device)
        return sw__err(err, SW_USAGE,
                       "the NCCL communicator given is on CUDA device %d, but the session opens on device %d (the "
                       "current one): make device %d current before sw_session_open",
                       dev, c->device, dev);
    c->comm_size = n;
    return SW_OK;
}

/* ncclCommInitRankConfig, nonblocking (the timeout holds while peers connect), then
 * polled until ready.  NCCL's "invalid usage" at init is most often two processes on one
 * GPU: say so. */
static int init_comm(sw_nccl_ctx *c, int nranks, const ncclUniqueId *id, int me, sw_error *err) {
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclResult_t r = ncclCommInitRankConfig(&c->comm, nranks, *id, me, &cfg);
    if (r != ncclSuccess && r != ncclInProgress) {
        c->comm = NULL;
        char m[160];
        snprintf(m, sizeof m, "rank %d: ncclCommInitRankConfig (communicator rank %d of %d)", c->rank, me, nranks);
        return sw_nccl_error((int)r, m, err);
    }
    c->own_comm = 1;
    c->comm_rank = me;
    c->comm_size = nranks;
    int rc = comm_ready(c, sw_now_s() + c->timeout_s, "creating the NCCL communicator", err);
    if (rc == SW_NCCL && err && strstr(err->msg, "invalid usage")) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        rc = sw__err(err, SW_NCCL,
                     "%s: NCCL refuses two processes on one GPU in one communicator (\"Duplicate GPU detected\"): "
                     "check that every process of the communicator has a GPU of its own (CUDA_VISIBLE_DEVICES, "
                     "LOCAL_RANK), or bootstrap through MPI, which routes same-host messages of GPU-sharing processes "
                     "through CUDA IPC",
                     why);
    }
    return rc;
}

/* Rank 0 of the bootstrap group makes the session's token (the CUDA IPC record names):
 * random, so that sessions never meet by accident. */
static uint64_t random_token(void) {
    uint64_t t = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &t, sizeof t) != (ssize_t)sizeof t) t = 0;
        close(fd);
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return t ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ ((uint64_t)getpid() << 16);
}

static uint64_t hash_bytes(const void *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ ((const uint8_t *)p)[i]) * 1099511628211ull;
    return h;
}

/* Communicator rank of every plan rank: the session's map, or -1 for every rank outside a
 * communicator of members only. */
static int fill_comm_of(sw_nccl_ctx *c, const sw_plan *p, const sw_session_opts *o, sw_error *err) {
    c->comm_of = malloc(((size_t)p->nranks + 1) * sizeof *c->comm_of);
    if (!c->comm_of) return sw__err(err, SW_NOMEM, "out of memory");
    for (uint32_t i = 0; i < p->nranks; i++) c->comm_of[i] = sw_nccl_comm_rank(o, p->ranks[i].rank);
    return SW_OK;
}

/*
 * The MPI bootstrap: every process gathers where every other runs (host, GPU), decides
 * the routes with that, gathers who needs NCCL, refuses two members on one GPU (before
 * any NCCL call), and makes a communicator of the members (of every process when nobody
 * shares a GPU, as before).  Collective over the group in this order: gather, gather,
 * broadcast (token), broadcast (unique id).
 */
static int boot_mpi(sw_nccl_ctx *c, const sw_exec *x, const sw_session_opts *o, const sw_boot *boot,
                    uint64_t *token, sw_error *err) {
    const sw_plan *p = x ? x->plan : NULL;
    int me = boot->rank, size = boot->size;
    boot_rec mine, *all = calloc((size_t)size + 1, sizeof *all);
    sw_nccl_where *w = p ? calloc((size_t)p->nranks + 1, sizeof *w) : NULL;
    if (!all || (p && !w)) { /* (the only early return: the gathers need the buffer) */
        free(all);
        free(w);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    int rc = SW_OK;
    /* no early return: the other processes are in the collectives below already */
    if (me != c->comm_rank)
        rc = sw__err(err, SW_USAGE, "plan rank %d opened on MPI rank %d: MPI rank k must be %s", c->rank, me,
                     o->comm_rank_of ? "comm_rank_of[plan rank] (comm_rank_of)" : "plan rank k");
    else if (o->comm_size && o->comm_size != size)
        rc = sw__err(err, SW_USAGE, "comm_size is %d but the MPI group has %d processes", o->comm_size, size);
    memset(&mine, 0, sizeof mine);
    mine.plan_rank = c->rank;
    /* a failure travels in the gather (every process must reach each collective) */
    if (rc == SW_OK) rc = where_am_i(c, &mine.where, err);
    if (rc) mine.member = -1;
    int rc2 = boot->allgather(boot->ctx, &mine, all, sizeof mine, err);
    if (rc == SW_OK) rc = rc2;
    int failed = 0;
    for (int k = 0; k < size; k++)
        if (all && all[k].member < 0) failed = 1;
    /* where each plan rank runs: from the process that is its communicator rank */
    for (uint32_t i = 0; p && rc == SW_OK && i < p->nranks; i++) {
        int32_t k = c->comm_of[i];
        if (k < 0 || k >= size)
            rc = sw__err(err, SW_USAGE, "plan rank %d has no MPI rank (the MPI group has %d processes)", p->ranks[i].rank,
                         size);
        else
            w[i] = all[k].where;
    }
    if (p && rc == SW_OK && !failed) rc = sw_nccl_route_make(p, c->rank, w, 1, &c->route, err);
    /* second gather: who needs the communicator (-1: this process failed) */
    mine.member = rc || failed ? -1 : c->route.member;
    rc2 = boot->allgather(boot->ctx, &mine, all, sizeof mine, err);
    if (rc == SW_OK) rc = rc2;
    int colocated = 0, nmembers = 0, first_fail = -1;
    int32_t *prank = calloc((size_t)size + 1, sizeof *prank);
    uint8_t *mem = calloc((size_t)size + 1, 1);
    sw_nccl_where *wall = calloc((size_t)size + 1, sizeof *wall);
    if (!prank || !mem || !wall || !all) {
        if (rc == SW_OK) rc = sw__err(err, SW_NOMEM, "out of memory");
    } else {
        /* every process computes the same from the same gathered records (also one that
         * failed itself): who is a member, whether anybody shares a GPU, the root */
        for (int k = 0; k < size; k++) {
            if (all[k].member < 0) {
                if (first_fail < 0) first_fail = k;
                continue;
            }
            prank[k] = all[k].plan_rank;
            mem[k] = (uint8_t)all[k].member;
            wall[k] = all[k].where;
            nmembers += mem[k];
            for (int j = 0; j < k; j++)
                if (all[j].member >= 0 && sw_nccl_same_gpu(&all[j].where, &all[k].where)) colocated = 1;
        }
    }
    if (rc == SW_OK && first_fail >= 0)
        rc = sw__err(err, SW_RUNTIME, "rank %d: the NCCL bootstrap failed on MPI rank %d (it says why)", c->rank,
                     first_fail);
    /* the duplicate-GPU check (review F3), before NCCL sees them */
    if (rc == SW_OK && colocated) rc = sw_nccl_check_members(wall, prank, mem, (size_t)size, err);
    /* the token of the CUDA IPC records, and the unique id of the members' communicator;
     * a failure travels with them so that no process waits for nothing */
    struct {
        int32_t ok;
        uint32_t pad_;
        uint64_t token;
        ncclUniqueId id;
    } msg;
    memset(&msg, 0, sizeof msg);
    /* root: the first member (process 0 when nobody shares a GPU: every process joins) */
    int root = 0;
    if (colocated && mem)
        for (root = 0; root < size && !mem[root]; root++) continue;
    if (root >= size) root = 0;
    if (me == root) {
        msg.ok = rc == SW_OK;
        msg.token = random_token();
        if (msg.ok && (colocated ? nmembers > 0 : 1)) {
            ncclResult_t r = ncclGetUniqueId(&msg.id);
            if (r != ncclSuccess) msg.ok = 0, rc = sw_nccl_error((int)r, "ncclGetUniqueId", err);
        }
    }
    rc2 = boot->bcast(boot->ctx, &msg, sizeof msg, root, err);
    if (rc == SW_OK) rc = rc2;
    if (rc == SW_OK && !msg.ok)
        rc = sw__err(err, SW_RUNTIME, "rank %d: the NCCL bootstrap failed on MPI rank %d (it says why)", c->rank, root);
    *token = msg.token;
    if (rc == SW_OK) {
        if (!colocated) {
            rc = init_comm(c, size, &msg.id, me, err);
        } else if (mem[me]) {
            /* a communicator of the members, in MPI rank order */
            int32_t cr = 0;
            for (int k = 0; k < me; k++) cr += mem[k];
            for (uint32_t i = 0; p && i < p->nranks; i++) {
                int32_t k = sw_nccl_comm_rank(o, p->ranks[i].rank), idx = -1;
                if (k >= 0 && k < size && mem[k]) {
                    idx = 0;
                    for (int j = 0; j < k; j++) idx += mem[j];
                }
                c->comm_of[i] = idx;
            }
            rc = init_comm(c, nmembers, &msg.id, cr, err);
        } else {
            c->comm_rank = -1; /* no NCCL messages: no communicator */
            c->comm_size = 0;
        }
    }
    free(all);
    free(w);
    free(prank);
    free(mem);
    free(wall);
    return rc;
}

/* With a unique id (no MPI): the routes come from the plan's (host, device) of each
 * rank; nobody shares a GPU -> one communicator of comm_size processes; some do -> no
 * communicator at all (every message of the session through CUDA IPC; a message that
 * would need NCCL was refused by the routes). */
static int boot_unique(sw_nccl_ctx *c, const sw_exec *x, const sw_session_opts *o, uint64_t *token, sw_error *err) {
    ncclUniqueId id;
    memcpy(&id, o->nccl_unique_id, sizeof id);
    *token = hash_bytes(&id, sizeof id);
    if (x) SW_CHECK(sw_nccl_route_make(x->plan, c->rank, NULL, 0, &c->route, err));
    if (x && c->route.colocated) {
        c->comm_rank = -1;
        c->comm_size = 0;
        return SW_OK;
    }
    const sw_plan *p = x ? x->plan : NULL; /* comm_size: sw_session_open sets it */
    int n = o->comm_size ? o->comm_size : p && p->nranks ? p->ranks[p->nranks - 1].rank + 1 : 1;
    return init_comm(c, n, &id, c->comm_rank, err);
}

/* ---- messages of a wave ------------------------------------------------------------------ */

/* "send to rank 3 (4096 bytes), receive from rank 5 (... , CUDA IPC)" for wave record r. */
static void describe(const wave_rec *r, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (uint32_t k = 0; k < r->nmsg && n < cap; k++) {
        if (k == 4) {
            snprintf(buf + n, cap - n, ", and %u more", r->nmsg - 4);
            break;
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s%s rank %d (%zu bytes%s)", k ? ", " : "",
                              r->send[k] ? "send to" : "receive from", r->peer[k], r->bytes[k], r->ipc[k] ? ", CUDA IPC" : "");
    }
}

static void remember(wave_rec *r, const sw_msg *m, int send, int ipc) {
    if (r->nmsg < 4) {
        r->peer[r->nmsg] = m->peer;
        r->send[r->nmsg] = (uint8_t)send;
        r->ipc[r->nmsg] = (uint8_t)ipc;
        r->bytes[r->nmsg] = m->bytes;
    }
    r->nmsg++;
}

/* A CUDA error while the device runs a sync: a kernel or a copy of this process faulted
 * (asynchronous errors surface at a later call: review F11), not NCCL.  The communicator
 * is aborted: peers waiting on this rank fail instead of waiting out their timeout. */
static int device_fault(sw_nccl_ctx *c, int code, const char *when, sw_error *err) {
    (void)cudaGetLastError();
    abort_comm(c);
    return sw__err(err, SW_CUDA,
                   "rank %d: a CUDA error on device %d (a kernel or a copy of this process faulted) %s: %s (%s)%s%s",
                   c->rank, c->device, when, cudaGetErrorString((cudaError_t)code), cudaGetErrorName((cudaError_t)code),
                   c->comm ? "; NCCL communicator aborted" : "",
                   c->sync_debug ? "" : " (SHARDWAVE_NCCL_SYNC_DEBUG=1 synchronizes after each kernel to name it)");
}

static int poll_event(sw_nccl_ctx *c, cudaEvent_t ev, int32_t wave, const char *what, sw_error *err);

/* A CUDA call while a sync runs: a failure is most often an earlier kernel's fault that
 * this call reports (asynchronous errors surface later: review F11). */
#define SYNC_CHECK(c, call, err)                                                              \
    do {                                                                                      \
        cudaError_t sw__e = (call);                                                           \
        if (sw__e != cudaSuccess) return device_fault((c), (int)sw__e, "(seen by " #call ")", (err)); \
    } while (0)

/* The route of a message's peer. */
static int via_of(const sw_nccl_ctx *c, int32_t peer) {
    int32_t q = sw_plan_rank_index(c->x->plan, peer);
    return q < 0 ? SW_VIA_NONE : c->route.via[q];
}

/* One group of NCCL sends and receives on the comm stream (peers: plan ranks). */
static int group(sw_nccl_ctx *c, const sw_msg *sends, size_t ns, const sw_msg *recvs, size_t nr, const char *what,
                 sw_error *err) {
    if (!c->comm) return sw__err(err, SW_INTERNAL, "rank %d: %s: an NCCL message but no communicator", c->rank, what);
    double deadline = sw_now_s() + c->timeout_s;
    SW_NCCL_CHECK(ncclGroupStart(), err);
    ncclResult_t first = ncclSuccess;
    const sw_msg *bad = NULL;
    int bad_send = 0;
    /* every call is made (ncclGroupEnd must follow ncclGroupStart); the first failure is
     * remembered with its message (review F8) */
    for (size_t k = 0; k < nr + ns; k++) {
        int send = k >= nr;
        const sw_msg *m = send ? &sends[k - nr] : &recvs[k];
        int32_t peer = m->peer; /* a raw backend (no executor): communicator ranks */
        if (c->x) {
            int32_t q = sw_plan_rank_index(c->x->plan, m->peer);
            peer = q >= 0 ? c->comm_of[q] : -1;
        }
        ncclResult_t r = send ? ncclSend(m->buf, m->bytes, ncclUint8, peer, c->comm, c->comm_s)
                              : ncclRecv(m->buf, m->bytes, ncclUint8, peer, c->comm, c->comm_s);
        if (r != ncclSuccess && r != ncclInProgress && first == ncclSuccess) first = r, bad = m, bad_send = send;
    }
    ncclResult_t r = ncclGroupEnd();
    if (first != ncclSuccess || (r != ncclSuccess && r != ncclInProgress)) {
        /* the communicator is in error: abort it, so that close does not wait on it */
        abort_comm(c);
        char m[320];
        if (bad)
            snprintf(m, sizeof m, "rank %d: %s: %s rank %d (%zu bytes)", c->rank, what, bad_send ? "ncclSend to" : "ncclRecv from",
                     bad->peer, bad->bytes);
        else
            snprintf(m, sizeof m, "rank %d: %s: ncclGroupEnd", c->rank, what);
        int rc = sw_nccl_error((int)(first != ncclSuccess ? first : r), m, err);
        if (err) snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg), " (communicator aborted)");
        return rc;
    }
    /* a nonblocking communicator enqueues in the background: poll (spinning first) */
    return comm_ready(c, deadline, what, err);
}

/* ---- the executor's hooks --------------------------------------------------------------- */

/* The NCCL operations of message m (1 when it goes whole). */
static size_t ops_of(const sw_nccl_ctx *c, const sw_msg *m) {
    size_t n = c->op0 ? c->op0[m->task + 1] - c->op0[m->task] : 0;
    return n ? n : 1;
}

static size_t wave_ops(const sw_nccl_ctx *c, const sw_msg *m, size_t n) {
    size_t k = 0;
    for (size_t j = 0; j < n; j++) k += ops_of(c, &m[j]);
    return k;
}

/* Message m as NCCL operations into out, in part order (NCCL matches the sends and
 * receives between one pair in the order they are posted): in place in the tensors
 * (the session's pointers) or sub-ranges of its staging; returns how many. */
static size_t msg_ops(const sw_nccl_ctx *c, const sw_msg *m, sw_msg *out) {
    size_t a = c->op0 ? c->op0[m->task] : 0, b = c->op0 ? c->op0[m->task + 1] : 0;
    if (a == b) {
        out[0] = *m;
        return 1;
    }
    for (size_t k = a; k < b; k++) {
        const zc_op *o = &c->ops[k];
        uint8_t *buf = o->local >= 0 ? (uint8_t *)c->ptrs_pinned[o->local] + o->off : (uint8_t *)m->buf + o->at;
        out[k - a] = (sw_msg){m->task, m->peer, buf, (size_t)o->bytes, NULL, 0};
    }
    return b - a;
}

/* Posts wave i: its CUDA IPC receives (copies from the senders' staging), then one NCCL
 * group; records wave_ev[i].  Does not wait (review F5): the host goes on with the next
 * waves, ordered by the events, and sw_nccl_end waits for all. */
static int npost(void *vctx, int32_t rank, int32_t wave, sw_msg *sends, size_t ns, sw_msg *recvs, size_t nr,
                 sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)rank;
    if (c->aborted)
        return sw__err(err, SW_NCCL, "rank %d: the NCCL communicator was aborted by an earlier failure", c->rank);
    if (!c->x) { /* a raw backend (tests): one group, waited at once */
        if (!ns && !nr) return SW_OK;
        SW_CHECK(group(c, sends, ns, recvs, nr, "a raw group", err));
        SYNC_CHECK(c, cudaEventRecord(c->end_pack_ev, c->comm_s), err);
        c->nposted++;
        return SW_OK;
    }
    size_t i = c->nposted++;
    wave_rec *r = &c->rec[i];
    memset(r, 0, sizeof *r);
    r->wave = wave;
    if (!ns && !nr) return SW_OK;
    if (wave_ops(c, sends, ns) + wave_ops(c, recvs, nr) > c->max_msgs)
        return sw__err(err, SW_INTERNAL, "rank %d: wave %d: more messages than laid out", c->rank, wave);
    /* the wave's pack is done; the receive region's previous unpack is done */
    SYNC_CHECK(c, cudaStreamWaitEvent(c->comm_s, c->pack_ev[i & 1], 0), err);
    SYNC_CHECK(c, cudaStreamWaitEvent(c->comm_s, c->unpack_ev, 0), err);
    size_t ncopied = 0, nn_s = 0, nn_r = 0;
    char what[64];
    snprintf(what, sizeof what, "wave %d", wave);
    SW_CHECK(sw_nccl_ipc_recv(c->ipc, i, c->comm_s, c->seq, recvs, nr, &ncopied, err));
    for (size_t k = 0; k < ns; k++) {
        int ipc = via_of(c, sends[k].peer) == SW_VIA_IPC;
        remember(r, &sends[k], 1, ipc);
        if (!ipc) nn_s += msg_ops(c, &sends[k], c->nccl_msgs + nn_s);
    }
    for (size_t k = 0; k < nr; k++) {
        int ipc = via_of(c, recvs[k].peer) == SW_VIA_IPC;
        remember(r, &recvs[k], 0, ipc);
        if (!ipc) nn_r += msg_ops(c, &recvs[k], c->nccl_msgs + nn_s + nn_r);
    }
    if (nn_s + nn_r) SW_CHECK(group(c, c->nccl_msgs, nn_s, c->nccl_msgs + nn_s, nn_r, what, err));
    SYNC_CHECK(c, cudaEventRecord(c->wave_ev[i], c->comm_s), err);
    r->posted = 1;
    c->last_ev[i & 1] = (int32_t)i;
    return SW_OK;
}

/* The executor's wait: nothing on the host (review F5); see npost. */
static int nwait(void *vctx, int32_t rank, int32_t wave, sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)rank, (void)wave, (void)err;
    if (!c->x && err && c->nposted) /* a raw backend: its one group */
        return poll_event(c, c->end_pack_ev, wave, "a raw group", err);
    return SW_OK;
}

/* SHARDWAVE_NCCL_SYNC_DEBUG=1: waits for the kernel just launched, so that a fault is
 * named with its kernel and wave (review F11). */
static int debug_sync(sw_nccl_ctx *c, cudaStream_t s, const char *kind, size_t i, sw_error *err) {
    if (!c->sync_debug) return SW_OK;
    char what[96];
    snprintf(what, sizeof what, "the %s kernel of wave %d", kind, c->x ? c->rec[i].wave : -1);
    cudaError_t e = cudaEventRecord(c->debug_ev, s);
    if (e != cudaSuccess) {
        char when[128];
        snprintf(when, sizeof when, "in %s", what);
        return device_fault(c, (int)e, when, err);
    }
    /* polled with the timeout: the kernel may wait for peers' transfers */
    int rc = poll_event(c, c->debug_ev, c->x ? c->rec[i].wave : -1, what, err);
    if (rc == SW_CUDA && err) {
        char m[sizeof err->msg];
        snprintf(m, sizeof m, "%s", err->msg);
        rc = sw__err(err, SW_CUDA, "%s [in %s]", m, what);
    }
    return rc;
}

static int launch(sw_nccl_ctx *c, sw_segs_kind kind, size_t i, uint8_t *staging, cudaStream_t s, sw_error *err) {
    const table *t = &c->tab[kind];
    size_t n = t->first[i + 1] - t->first[i];
    if (!n) return SW_OK;
    int e = sw_k_move(t->d + t->first[i], t->chunk0 + t->first[i] + i, (uint32_t)n, t->nchunks[i], c->ptrs_dev, staging, s);
    if (e) {
        static const char *names[] = {"pack", "copy", "unpack"};
        char what[96];
        snprintf(what, sizeof what, "rank %d: launching the %s kernel of wave %zu", c->rank, names[kind], i);
        return sw_cuda_error(e, what, err);
    }
    return debug_sync(c, s, kind == SW_SEGS_PACK ? "pack" : kind == SW_SEGS_COPY ? "copy" : "unpack", i, err);
}

static int hpack(void *vctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)ptrs;
    /* wave i's part of the arena (sw_exec_arena_layout) is the half of waves i - 2, i - 4,
     * ...: what they received may still be unpacked, what they sent still in flight.  So
     * before packing: the last unpack (in
     * stream order after every earlier one), the transfers of the last wave that used
     * this half, and the copies CUDA IPC receivers made of what this rank sent from it */
    SYNC_CHECK(c, cudaStreamWaitEvent(c->pack_s, c->unpack_ev, 0), err);
    if (c->last_ev[i & 1] >= 0) SYNC_CHECK(c, cudaStreamWaitEvent(c->pack_s, c->wave_ev[c->last_ev[i & 1]], 0), err);
    if (i == 0 && c->last_ev[1] >= 0) /* the last wave of the sync before, at the other end */
        SYNC_CHECK(c, cudaStreamWaitEvent(c->pack_s, c->wave_ev[c->last_ev[1]], 0), err);
    SW_CHECK(sw_nccl_ipc_before_pack(c->ipc, i, c->pack_s, err));
    SW_CHECK(launch(c, SW_SEGS_PACK, i, x->arena + x->send_at[i], c->pack_s, err));
    SYNC_CHECK(c, cudaEventRecord(c->pack_ev[i & 1], c->pack_s), err);
    return sw_nccl_ipc_after_pack(c->ipc, i, c->pack_s, c->seq, err);
}

static int hcopy(void *vctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)x, (void)ptrs;
    if (c->forwards[i]) SYNC_CHECK(c, cudaStreamWaitEvent(c->pack_s, c->unpack_ev, 0), err);
    return launch(c, SW_SEGS_COPY, i, NULL, c->pack_s, err);
}

static int hunpack(void *vctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)ptrs;
    if (!c->rec[i].posted) return SW_OK; /* nothing came */
    SYNC_CHECK(c, cudaStreamWaitEvent(c->unpack_s, c->wave_ev[i], 0), err);
    SW_CHECK(launch(c, SW_SEGS_UNPACK, i, x->arena + x->recv_at[i], c->unpack_s, err));
    SYNC_CHECK(c, cudaEventRecord(c->unpack_ev, c->unpack_s), err);
    return SW_OK;
}

/* Waits for every wave posted in this sync, in order.  The timeout counts from the last
 * progress: a wave not done timeout_s after the one before it was (or after the wait
 * began) fails, naming it; the communicator is aborted.  A CUDA error is this device's
 * (review F11), an NCCL asynchronous error NCCL's. */
static int cuda_ok(cudaError_t e, const char *what, sw_error *err) {
    return e == cudaSuccess ? SW_OK : sw_cuda_error((int)e, what, err);
}

/* Polls ev (on the comm stream) until done, timeout_s from now: a CUDA error is this
 * device's, an asynchronous NCCL error NCCL's, the timeout names `what`. */
static int poll_event(sw_nccl_ctx *c, cudaEvent_t ev, int32_t wave, const char *what, sw_error *err) {
    double deadline = sw_now_s() + c->timeout_s;
    unsigned k = 0;
    for (;;) {
        cudaError_t q = cudaEventQuery(ev);
        if (q == cudaSuccess) return SW_OK;
        if (q != cudaErrorNotReady) {
            char when[96];
            snprintf(when, sizeof when, "while %s was in flight", what);
            return device_fault(c, (int)q, when, err);
        }
        (void)cudaGetLastError(); /* cudaErrorNotReady stays the thread's last error (review F1) */
        ncclResult_t st = ncclSuccess;
        if (c->comm && ncclCommGetAsyncError(c->comm, &st) == ncclSuccess && st != ncclSuccess && st != ncclInProgress) {
            abort_comm(c);
            return sw__err(err, SW_NCCL, "rank %d: %s: %s (communicator aborted)", c->rank, what, ncclGetErrorString(st));
        }
        if (sw_now_s() > deadline) {
            int had = c->comm != NULL;
            abort_comm(c);
            if (wave >= 0)
                return sw__err(err, SW_TIMEOUT, "rank %d: wave %d: %s not done after %g s%s", c->rank, wave, what,
                               c->timeout_s, had ? " (NCCL communicator aborted)" : "");
            return sw__err(err, SW_TIMEOUT, "rank %d: %s: not done after %g s%s", c->rank, what, c->timeout_s,
                           had ? " (NCCL communicator aborted)" : "");
        }
        backoff(&k);
    }
}

static int wait_all(sw_nccl_ctx *c, sw_error *err) {
    if (!c->x) return SW_OK;
    /* the CUDA IPC receivers of this rank's messages: their copies, then one more event */
    int flush = c->ipc != NULL;
    if (flush) {
        SW_CHECK(sw_nccl_ipc_flush(c->ipc, c->comm_s, err));
        SYNC_CHECK(c, cudaEventRecord(c->flush_ev, c->comm_s), err);
    }
    for (size_t i = 0; i < c->nposted + (size_t)flush; i++) {
        int last = i == c->nposted;
        if (!last && !c->rec[i].posted) continue;
        char what[600];
        if (last) snprintf(what, sizeof what, "the copies of its CUDA IPC receivers");
        else describe(&c->rec[i], what, sizeof what);
        int32_t wave = last ? (c->nposted ? c->rec[c->nposted - 1].wave : -1) : c->rec[i].wave;
        /* the timeout counts from the last progress: wave by wave */
        SW_CHECK(poll_event(c, last ? c->flush_ev : c->wave_ev[i], wave, what[0] ? what : "the transfers", err));
    }
    return SW_OK;
}

/* ---- open ----------------------------------------------------------------------------------- */

/* Every conversion the rank's unpacks and copies make is supported (checked before the
 * collective bootstrap, so that a refusal does not leave the peers waiting). */
static int check_conversions(const sw_exec *x, sw_error *err) {
    const sw_plan *p = x->plan;
    for (size_t k = 0; k < x->ntasks; k++) {
        const sw_plan_task *t = &p->tasks[x->tasks[k]];
        if (t->dst != x->rank) continue;
        for (uint32_t g = t->seg0; g < t->seg0 + t->nseg; g++) {
            const sw_plan_xfer *xf = &p->xfers[p->segs[g].xfer];
            sw_dtype st = p->locals[xf->src.local].dtype, dt = p->locals[xf->dst.local].dtype;
            if (!sw_convert_supported(st, dt))
                return sw__err(err, SW_UNSUPPORTED, "conversion from %s to %s is not supported", sw_dtype_name(st),
                               sw_dtype_name(dt));
        }
    }
    return SW_OK;
}

/* The zero-copy contract (exec.h, sw_backend.iov) for the NCCL messages, once the routes
 * are known: both ends list a message's parts (sw_exec_task_parts: the same boundaries
 * and staging offsets at both) for both sides, and cut it into the same operations: one
 * per part that lies in place at either end (sent from / received into the tensor where
 * it is in place, else from / into its staging range), one per maximal stretch of parts
 * staged at both ends (a sub-range of the packed message).  A message with no part in
 * place at either end stays one operation.  Segments in place on this side are left out
 * of the pack / unpack descriptors (c->segrun).  CUDA IPC messages stay staged whole. */
static int plan_zero_copy(sw_nccl_ctx *c, const sw_exec *x, sw_error *err) {
    const sw_plan *p = x->plan;
    size_t maxseg = 0, nops = 0, cap = 0;
    for (size_t k = 0; k < x->ntasks; k++)
        if (p->tasks[x->tasks[k]].nseg > maxseg) maxseg = p->tasks[x->tasks[k]].nseg;
    c->segrun = malloc(((size_t)p->nsegs + 1) * sizeof *c->segrun);
    c->op0 = calloc((size_t)p->ntasks + 2, sizeof *c->op0);
    sw_msg_part *mine = malloc((maxseg + 1) * sizeof *mine), *theirs = malloc((maxseg + 1) * sizeof *theirs);
    int rc = SW_OK;
    if (!c->segrun || !c->op0 || !mine || !theirs) rc = sw__err(err, SW_NOMEM, "out of memory");
    for (uint32_t g = 0; rc == SW_OK && g < p->nsegs; g++) c->segrun[g] = -1;
    /* op0 counts first (op0[t + 1]: task t's operations), prefix sums after */
    for (size_t k = 0; rc == SW_OK && k < x->ntasks; k++) {
        uint32_t ti = x->tasks[k];
        const sw_plan_task *t = &p->tasks[ti];
        if (t->src == t->dst) continue;
        int recv = t->dst == x->rank;
        if (via_of(c, recv ? t->src : t->dst) != SW_VIA_NCCL) continue;
        size_t np = sw_exec_task_parts(p, t, recv, NULL, mine);
        if (sw_exec_task_parts(p, t, !recv, NULL, theirs) != np) {
            rc = sw__err(err, SW_INTERNAL, "rank %d: task %u: the two ends cut different parts", c->rank, ti);
            break;
        }
        int any = 0;
        for (size_t j = 0; j < np; j++) any |= mine[j].run >= 0 || theirs[j].run >= 0;
        if (!any) continue; /* whole */
        size_t n0 = nops;
        int stretch = 0; /* the last operation is a stretch of parts staged at both ends */
        for (size_t j = 0; j < np; j++) {
            int both_staged = mine[j].run < 0 && theirs[j].run < 0;
            if (both_staged && stretch) {
                c->ops[nops - 1].bytes = mine[j].at + mine[j].bytes - c->ops[nops - 1].at;
                continue;
            }
            if (SW_GROW(c->ops, cap, nops + 1)) {
                rc = sw__err(err, SW_NOMEM, "out of memory");
                break;
            }
            zc_op o = {mine[j].at, mine[j].bytes, 0, -1};
            if (mine[j].run >= 0) {
                const sw_plan_xfer *xf = &p->xfers[p->segs[mine[j].seg0].xfer];
                const sw_plan_side *sd = recv ? &xf->dst : &xf->src;
                o.local = (int32_t)sd->local;
                o.off = (uint64_t)mine[j].run * (uint64_t)sw_dtype_size(p->locals[sd->local].dtype);
                c->segrun[mine[j].seg0] = mine[j].run;
            }
            c->ops[nops++] = o;
            stretch = both_staged;
        }
        c->op0[ti + 1] = nops - n0;
    }
    for (uint32_t t = 0; rc == SW_OK && t < p->ntasks; t++) c->op0[t + 1] += c->op0[t];
    /* the scratch of a wave's operations */
    for (size_t i = 0; rc == SW_OK && i < x->nwaves; i++) {
        size_t n = 0;
        for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
            uint32_t ti = x->tasks[k];
            if (p->tasks[ti].src == p->tasks[ti].dst) continue;
            size_t m = c->op0[ti + 1] - c->op0[ti];
            n += m ? m : 1;
        }
        if (n > c->max_msgs) c->max_msgs = n;
    }
    if (rc == SW_OK) {
        sw_msg *m = realloc(c->nccl_msgs, (c->max_msgs + 1) * sizeof *m);
        if (!m) rc = sw__err(err, SW_NOMEM, "out of memory");
        else c->nccl_msgs = m;
    }
    free(mine);
    free(theirs);
    return rc;
}

/* Builds and uploads the descriptor tables of every wave. */
static int build_tables(sw_nccl_ctx *c, const sw_exec *x, sw_error *err) {
    c->forwards = calloc(x->nwaves + 1, 1);
    if (!c->forwards) return sw__err(err, SW_NOMEM, "out of memory");
    for (size_t i = 0; i < x->nwaves; i++)
        for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
            const sw_plan_task *t = &x->plan->tasks[x->tasks[k]];
            if (t->src == x->rank && t->relay) c->forwards[i] = 1;
        }
    for (int kind = 0; kind < 3; kind++) {
        table *t = &c->tab[kind];
        t->first = calloc(x->nwaves + 1, sizeof *t->first);
        t->nchunks = calloc(x->nwaves + 1, sizeof *t->nchunks);
        if (!t->first || !t->nchunks) return sw__err(err, SW_NOMEM, "out of memory");
        for (size_t i = 0; i < x->nwaves; i++)
            t->first[i + 1] = t->first[i] + sw_exec_wave_descs_staged(x, i, (sw_segs_kind)kind, c->segrun, NULL);
        size_t n = t->first[x->nwaves];
        sw_seg_desc *h = malloc((n + 1) * sizeof *h);
        uint64_t *pre = malloc((n + x->nwaves + 1) * sizeof *pre);
        int rc = SW_OK;
        if (!h || !pre) rc = sw__err(err, SW_NOMEM, "out of memory");
        for (size_t i = 0; i < x->nwaves && rc == SW_OK; i++) {
            size_t f = t->first[i], m = t->first[i + 1] - f;
            sw_exec_wave_descs_staged(x, i, (sw_segs_kind)kind, c->segrun, h + f);
            uint64_t acc = 0;
            for (size_t j = 0; j < m; j++) {
                const sw_seg_desc *d = &h[f + j];
                if (!sw_convert_supported((sw_dtype)d->dtype[0], (sw_dtype)d->dtype[1])) {
                    rc = sw__err(err, SW_UNSUPPORTED, "conversion from %s to %s is not supported",
                                 sw_dtype_name((sw_dtype)d->dtype[0]), sw_dtype_name((sw_dtype)d->dtype[1]));
                    break;
                }
                pre[f + i + j] = acc;
                acc += sw_k_chunks(d);
            }
            pre[f + i + m] = acc;
            t->nchunks[i] = acc;
            if (m > UINT32_MAX) rc = sw__err(err, SW_UNSUPPORTED, "a wave of %zu segments", m);
        }
        cudaError_t e = cudaSuccess;
        if (rc == SW_OK && (e = cudaMalloc((void **)&t->d, (n + 1) * sizeof *h)) == cudaSuccess)
            e = cudaMalloc((void **)&t->chunk0, (n + x->nwaves + 1) * sizeof *pre);
        if (rc == SW_OK && e == cudaSuccess && n) {
            e = cudaMemcpy(t->d, h, n * sizeof *h, cudaMemcpyHostToDevice);
            if (e == cudaSuccess) e = cudaMemcpy(t->chunk0, pre, (n + x->nwaves) * sizeof *pre, cudaMemcpyHostToDevice);
        }
        if (rc == SW_OK && e != cudaSuccess) rc = sw_cuda_error((int)e, "the descriptor tables (cudaMalloc, cudaMemcpy)", err);
        free(h);
        free(pre);
        if (rc) return rc;
    }
    return SW_OK;
}

/* A tiny grouped send/recv with every NCCL peer the plan uses (NCCL connects lazily,
 * and the first sync would otherwise pay for it); then the kernels' module is loaded
 * (review F6: the no-op launch it used to make loaded nothing). */
static int warm_up(sw_nccl_ctx *c, const sw_exec *x, sw_error *err) {
    double t0 = sw_now_s();
    const sw_plan *p = x->plan;
    int rc = SW_OK;
    if (c->comm) {
        uint8_t *peer = calloc((size_t)p->nranks * 2 + 2, 1); /* [0..n): sends to, [n..2n): receives from */
        sw_msg *m = calloc((size_t)p->nranks * 2 + 2, sizeof *m);
        uint8_t *buf = NULL;
        if (!peer || !m) rc = sw__err(err, SW_NOMEM, "out of memory");
        for (size_t k = 0; rc == SW_OK && k < x->ntasks; k++) {
            const sw_plan_task *t = &p->tasks[x->tasks[k]];
            if (t->src == t->dst) continue;
            int send = t->src == x->rank;
            int32_t q = sw_plan_rank_index(p, send ? t->dst : t->src);
            if (q >= 0 && c->route.via[q] == SW_VIA_NCCL) peer[(size_t)q + (send ? 0 : p->nranks)] = 1;
        }
        size_t ns = 0, nr = 0;
        for (uint32_t q = 0; rc == SW_OK && q < p->nranks; q++) ns += peer[q], nr += peer[p->nranks + q];
        if (rc == SW_OK && ns + nr) {
            cudaError_t e = cudaMalloc((void **)&buf, ns + nr);
            if (e != cudaSuccess) rc = sw_cuda_error((int)e, "the warm-up buffer (cudaMalloc)", err);
        }
        if (rc == SW_OK && ns + nr) {
            size_t a = 0, b = 0;
            for (uint32_t q = 0; q < p->nranks; q++) {
                if (peer[q]) m[a] = (sw_msg){0, p->ranks[q].rank, buf + a, 1, NULL, 0}, a++;
                if (peer[p->nranks + q]) m[ns + b] = (sw_msg){0, p->ranks[q].rank, buf + ns + b, 1, NULL, 0}, b++;
            }
            rc = group(c, m, ns, m + ns, nr, "warm-up", err);
            if (rc == SW_OK) rc = cuda_ok(cudaEventRecord(c->end_pack_ev, c->comm_s), "cudaEventRecord", err);
            /* with the timeout: a peer that never comes must not hang the open */
            if (rc == SW_OK) rc = poll_event(c, c->end_pack_ev, -1, "the warm-up's send/recv with every peer", err);
        }
        if (buf) cudaFree(buf);
        free(m);
        free(peer);
    }
    if (rc == SW_OK) {
        int e = sw_k_preload();
        if (e) rc = sw_cuda_error(e, "loading the kernels (cudaFuncGetAttributes)", err);
    }
    c->warmup_s = sw_now_s() - t0;
    return rc;
}

static int make_streams(sw_nccl_ctx *c, sw_error *err) {
    /* the comm stream gets the highest priority: a wave's NCCL kernel is not held back by
     * the pack or unpack grids of its neighbours (review F10) */
    int lo = 0, hi = 0;
    if (cudaDeviceGetStreamPriorityRange(&lo, &hi) != cudaSuccess) lo = hi = 0, (void)cudaGetLastError();
    SW_CUDA_CHECK(cudaStreamCreateWithPriority(&c->pack_s, cudaStreamNonBlocking, lo), err);
    SW_CUDA_CHECK(cudaStreamCreateWithPriority(&c->comm_s, cudaStreamNonBlocking, hi), err);
    SW_CUDA_CHECK(cudaStreamCreateWithPriority(&c->unpack_s, cudaStreamNonBlocking, lo), err);
    cudaEvent_t *ev[] = {&c->pack_ev[0], &c->pack_ev[1], &c->unpack_ev,   &c->start_ev, &c->end_pack_ev,
                         &c->end_unpack_ev, &c->end_comm_ev, &c->table_ev, &c->flush_ev, &c->debug_ev};
    for (size_t k = 0; k < sizeof ev / sizeof *ev; k++)
        SW_CUDA_CHECK(cudaEventCreateWithFlags(ev[k], cudaEventDisableTiming), err);
    return SW_OK;
}

/* One arena of the executor's two-wave figure (review F9: was 2 x max_send + 2 x
 * max_recv), the pointer table (device, and pinned host memory for its uploads: review
 * F7), per-wave events and scratch. */
static int make_staging(sw_nccl_ctx *c, sw_exec *x, sw_error *err) {
    c->arena_bytes = sw_exec_arena_layout(x, NULL, NULL);
    cudaError_t e = cudaMalloc((void **)&c->arena, c->arena_bytes + SW_STAGING_ALIGN);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        c->arena = NULL;
        return sw__err(err, SW_CUDA, "cannot allocate %zu bytes of device staging: %s", c->arena_bytes,
                       cudaGetErrorString(e));
    }
    SW_CHECK(sw_exec_set_arena(x, c->arena, err));
    c->nlocals = x->plan->nlocals;
    size_t tb = ((size_t)c->nlocals + 1) * sizeof(void *);
    SW_CUDA_CHECK(cudaMallocHost((void **)&c->ptrs_pinned, tb), err);
    memset(c->ptrs_pinned, 0, tb);
    SW_CUDA_CHECK(cudaMalloc((void **)&c->ptrs_dev, tb), err);
    SW_CUDA_CHECK(cudaMemset(c->ptrs_dev, 0, tb), err);
    c->nwaves = x->nwaves;
    c->rec = calloc(x->nwaves + 1, sizeof *c->rec);
    c->wave_ev = calloc(x->nwaves + 1, sizeof *c->wave_ev);
    for (size_t i = 0; i < x->nwaves; i++) {
        size_t n = sw_exec_wave_msgs(x, i, 0, NULL) + sw_exec_wave_msgs(x, i, 1, NULL);
        if (n > c->max_msgs) c->max_msgs = n;
    }
    c->nccl_msgs = calloc(c->max_msgs + 1, sizeof *c->nccl_msgs);
    if (!c->rec || !c->wave_ev || !c->nccl_msgs) return sw__err(err, SW_NOMEM, "out of memory");
    for (size_t i = 0; i < x->nwaves; i++) {
        if (!sw_exec_wave_msgs(x, i, 0, NULL) && !sw_exec_wave_msgs(x, i, 1, NULL)) continue;
        SW_CUDA_CHECK(cudaEventCreateWithFlags(&c->wave_ev[i], cudaEventDisableTiming), err);
    }
    return SW_OK;
}

/* The NCCL library this process runs with must have what this build calls (review F8:
 * in a Python process torch may have loaded its own libnccl.so.2 first). */
static int check_version(sw_nccl_ctx *c, sw_error *err) {
    int v = 0;
    SW_NCCL_CHECK(ncclGetVersion(&v), err);
    c->nccl_version = v;
    if (v < SW_NCCL_MIN_VERSION)
        return sw__err(err, SW_UNSUPPORTED,
                       "this process runs NCCL %d.%d.%d, older than %d.%d (the oldest with the calls shardwave makes; "
                       "it was built with NCCL %d.%d.%d headers): load a newer libnccl.so.2 first (LD_LIBRARY_PATH, "
                       "or the one torch ships)",
                       v / 10000, v / 100 % 100, v % 100, SW_NCCL_MIN_VERSION / 10000, SW_NCCL_MIN_VERSION / 100 % 100,
                       NCCL_MAJOR, NCCL_MINOR, NCCL_PATCH);
    return SW_OK;
}

int sw_nccl_open(sw_nccl_ctx **out, sw_backend *b, sw_exec *x, int32_t rank, const sw_session_opts *o,
                 const sw_boot *boot, sw_error *err) {
    *out = NULL;
    SW_CHECK(sw_nccl_have_device(err));
    sw_nccl_ctx *c = calloc(1, sizeof *c);
    if (!c) return sw__err(err, SW_NOMEM, "out of memory");
    c->rank = rank;
    c->comm_rank = sw_nccl_comm_rank(o, rank);
    c->timeout_s = o->timeout_s > 0 ? o->timeout_s : 60;
    c->x = x;
    c->last_ev[0] = c->last_ev[1] = -1;
    c->prev_device = -1;
    const char *dbg = getenv("SHARDWAVE_NCCL_SYNC_DEBUG");
    c->sync_debug = dbg && dbg[0] == '1';
    int rc = SW_OK;
    cudaError_t e = cudaGetDevice(&c->device);
    if (e != cudaSuccess) {
        rc = sw_cuda_error((int)e, "cudaGetDevice", err);
        goto fail;
    }
    uint64_t token = 0;
    sw_nccl_where me;
    if ((rc = check_version(c, err)) || (rc = make_streams(c, err))) goto fail;
    if (x && (rc = fill_comm_of(c, x->plan, o, err))) goto fail;
    if (x && ((rc = make_staging(c, x, err)) || (rc = check_conversions(x, err)))) goto fail;
    /* collective: every rank of the communicator gets here, also one the plan leaves idle */
    if (o->nccl_comm) {
        if ((rc = adopt_comm(c, o, err))) goto fail;
        if (x && (rc = sw_nccl_route_make(x->plan, rank, NULL, 1, &c->route, err))) goto fail;
        /* the caller's communicator holds both ends of every message: NCCL for all */
        for (uint32_t q = 0; x && q < c->route.nranks; q++)
            if (c->route.via[q]) c->route.via[q] = SW_VIA_NCCL;
        c->route.npeers_nccl += c->route.npeers_ipc;
        c->route.npeers_ipc = 0;
    } else if (o->nccl_unique_id) {
        if ((rc = boot_unique(c, x, o, &token, err))) goto fail;
    } else if (boot) {
        if ((rc = boot_mpi(c, x, o, boot, &token, err))) goto fail;
    } else {
        rc = sw__err(err, SW_UNSUPPORTED, "no way to create the NCCL communicator: pass sw_session_opts.nccl_unique_id "
                                          "(sw_nccl_unique_id), an ncclComm_t in nccl_comm, or initialise MPI");
        goto fail;
    }
    /* the descriptor tables, once the routes say which messages go through NCCL */
    if (x && ((rc = plan_zero_copy(c, x, err)) || (rc = build_tables(c, x, err)))) goto fail;
    /* the tables' pageable uploads are done before any stream of ours reads them (F7) */
    if ((e = cudaDeviceSynchronize()) != cudaSuccess) {
        rc = sw_cuda_error((int)e, "cudaDeviceSynchronize (after the uploads at open)", err);
        goto fail;
    }
    if (x && c->route.npeers_ipc) {
        if ((rc = where_am_i(c, &me, err))) goto fail;
        sw_nccl_ipc_setup is = {token, rank, me, x, c->route.via, c->timeout_s};
        if ((rc = sw_nccl_ipc_open(&c->ipc, &is, err))) goto fail;
    }
    if (x && (rc = warm_up(c, x, err))) goto fail;
    memset(b, 0, sizeof *b);
    b->name = "nccl";
    b->ctx = c;
    b->post = npost;
    b->wait = nwait;
    if (x) {
        b->pack = hpack;
        b->copy = hcopy;
        b->unpack = hunpack;
    }
    c->healthy = 1;
    *out = c;
    return SW_OK;
fail:
    sw_nccl_close(c);
    return rc;
}

/* ---- a sync -------------------------------------------------------------------------------- */

int sw_nccl_begin(sw_nccl_ctx *c, void *stream, void *const *ptrs, sw_error *err) {
    if (c->aborted)
        return sw__err(err, SW_NCCL, "rank %d: the NCCL communicator was aborted by an earlier failure", c->rank);
    c->seq++;
    c->nposted = 0;
    c->healthy = 0;
    /* whatever the caller queued before (the optimizer step) comes first */
    SYNC_CHECK(c, cudaEventRecord(c->start_ev, (cudaStream_t)stream), err);
    SYNC_CHECK(c, cudaStreamWaitEvent(c->pack_s, c->start_ev, 0), err);
    SYNC_CHECK(c, cudaStreamWaitEvent(c->comm_s, c->start_ev, 0), err);
    SYNC_CHECK(c, cudaStreamWaitEvent(c->unpack_s, c->start_ev, 0), err);
    if (ptrs && (!c->ptrs_set || memcmp(c->ptrs_pinned, ptrs, (size_t)c->nlocals * sizeof *ptrs))) {
        /* the pinned copy may still be read by the previous upload */
        if (c->table_pending) SYNC_CHECK(c, cudaEventSynchronize(c->table_ev), err);
        memcpy(c->ptrs_pinned, ptrs, (size_t)c->nlocals * sizeof *ptrs);
        /* the previous sync's kernels may still read the table: the upload goes on the pack
         * stream after the last unpack, and the unpack stream waits for it (review F7: a
         * synchronous cudaMemcpy from pageable memory was not ordered with these
         * non-blocking streams) */
        SYNC_CHECK(c, cudaStreamWaitEvent(c->pack_s, c->unpack_ev, 0), err);
        SYNC_CHECK(c, cudaMemcpyAsync(c->ptrs_dev, c->ptrs_pinned, (size_t)c->nlocals * sizeof *ptrs,
                                      cudaMemcpyHostToDevice, c->pack_s),
                      err);
        SYNC_CHECK(c, cudaEventRecord(c->table_ev, c->pack_s), err);
        SYNC_CHECK(c, cudaStreamWaitEvent(c->unpack_s, c->table_ev, 0), err);
        c->ptrs_set = c->table_pending = 1;
    }
    return SW_OK;
}

int sw_nccl_end(sw_nccl_ctx *c, void *stream, sw_error *err) {
    if (!err) {
        /* the sync failed before: what it queued may never complete (a peer that never
         * sends): abort, so that nothing waits on it, and fail the later syncs */
        abort_comm(c);
        return SW_OK;
    }
    SW_CHECK(wait_all(c, err));
    SYNC_CHECK(c, cudaEventRecord(c->end_pack_ev, c->pack_s), err);
    SYNC_CHECK(c, cudaEventRecord(c->end_unpack_ev, c->unpack_s), err);
    /* sends from and receives into the tensors ran on the comm stream */
    SYNC_CHECK(c, cudaEventRecord(c->end_comm_ev, c->comm_s), err);
    SYNC_CHECK(c, cudaStreamWaitEvent((cudaStream_t)stream, c->end_pack_ev, 0), err);
    SYNC_CHECK(c, cudaStreamWaitEvent((cudaStream_t)stream, c->end_comm_ev, 0), err);
    SYNC_CHECK(c, cudaStreamWaitEvent((cudaStream_t)stream, c->end_unpack_ev, 0), err);
    c->healthy = 1;
    return SW_OK;
}

void sw_nccl_close(sw_nccl_ctx *c) {
    if (!c) return;
    sw_error e;
    int entered = sw_nccl_enter(c, &e) == SW_OK;
    /* an open or a sync that did not finish may have left work that never completes */
    if (!c->healthy && (c->own_comm || c->seq)) abort_comm(c); /* the caller's comm: only once we used it */
    if (c->own_comm && c->comm && !c->aborted) {
        /* let what is queued finish, then free: a nonblocking communicator finalizes
         * asynchronously */
        ncclResult_t r = ncclCommFinalize(c->comm);
        if (r == ncclSuccess || r == ncclInProgress) (void)comm_ready(c, sw_now_s() + c->timeout_s, "finalizing", &e);
        if (!c->aborted) ncclCommDestroy(c->comm); /* an abort (timeout) has freed it */
    }
    /* nothing of ours may still run when its memory goes */
    cudaStream_t st[] = {c->pack_s, c->comm_s, c->unpack_s};
    for (size_t k = 0; k < 3; k++)
        if (st[k]) cudaStreamSynchronize(st[k]);
    sw_nccl_ipc_close(c->ipc);
    for (size_t k = 0; k < 3; k++)
        if (st[k]) cudaStreamDestroy(st[k]);
    cudaEvent_t ev[] = {c->pack_ev[0],     c->pack_ev[1], c->unpack_ev,  c->start_ev, c->end_pack_ev,
                        c->end_unpack_ev, c->end_comm_ev, c->table_ev, c->flush_ev, c->debug_ev};
    for (size_t k = 0; k < sizeof ev / sizeof *ev; k++)
        if (ev[k]) cudaEventDestroy(ev[k]);
    for (size_t i = 0; c->wave_ev && i < c->nwaves; i++)
        if (c->wave_ev[i]) cudaEventDestroy(c->wave_ev[i]);
    if (c->arena) cudaFree(c->arena);
    for (int k = 0; k < 3; k++) {
        free(c->tab[k].first);
        free(c->tab[k].nchunks);
        if (c->tab[k].d) cudaFree(c->tab[k].d);
        if (c->tab[k].chunk0) cudaFree(c->tab[k].chunk0);
    }
    if (c->ptrs_dev) cudaFree(c->ptrs_dev);
    if (c->ptrs_pinned) cudaFreeHost(c->ptrs_pinned);
    (void)cudaGetLastError();
    sw_nccl_route_free(&c->route);
    free(c->comm_of);
    free(c->forwards);
    free(c->rec);
    free(c->wave_ev);
    free(c->nccl_msgs);
    free(c->segrun);
    free(c->op0);
    free(c->ops);
    if (entered) sw_nccl_leave(c);
    free(c);
}

int sw_nccl_make_unique_id(void *out, size_t cap, sw_error *err) {
    if (!out || cap < sizeof(ncclUniqueId))
        return sw__err(err, SW_USAGE, "sw_nccl_unique_id: needs a buffer of %d bytes", SW_NCCL_UNIQUE_ID_BYTES);
    int v = 0;
    SW_NCCL_CHECK(ncclGetVersion(&v), err);
    if (v < SW_NCCL_MIN_VERSION)
        return sw__err(err, SW_UNSUPPORTED, "this process runs NCCL %d.%d.%d, older than %d.%d", v / 10000,
                       v / 100 % 100, v % 100, SW_NCCL_MIN_VERSION / 10000, SW_NCCL_MIN_VERSION / 100 % 100);
    ncclUniqueId id;
    ncclResult_t r = ncclGetUniqueId(&id);
    if (r != ncclSuccess) {
        const char *last = ncclGetLastError(NULL);
        return sw__err(err, SW_NCCL, "ncclGetUniqueId failed: %s%s%s", ncclGetErrorString(r), last && last[0] ? ": " : "",
                       last ? last : "");
    }
    memcpy(out, &id, sizeof id);
    return SW_OK;
}
