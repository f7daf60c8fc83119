/*
 * backend_nccl.c - the nccl backend (see backend_nccl.h for the stream/event protocol).
 */
#include "backend_nccl.h"
#include "diag.h"

#include <cuda_runtime_api.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels.h"

/* One kind of descriptor table (pack, copy, unpack) for all waves of the rank. */
typedef struct table {
    size_t *first;       /* host: descriptors of wave i are [first[i], first[i+1]) */
    uint64_t *nchunks;   /* host: chunks of wave i */
    sw_seg_desc *d;      /* device */
    uint64_t *chunk0;    /* device: wave i's prefix sums at chunk0[first[i] + i ..], n_i + 1 of them */
} table;

struct sw_nccl_ctx {
    ncclComm_t comm;
    int own_comm, aborted;
    int32_t rank;
    double timeout_s;
    const sw_exec *x;
    cudaStream_t pack_s, comm_s, unpack_s;
    cudaEvent_t pack_ev[2], comm_ev[2], unpack_ev, start_ev, end_pack_ev, end_unpack_ev;
    int inflight[2];
    size_t nposted, nwaited;  /* waves posted / waited in this sync */
    uint8_t *sendbuf[2], *recvbuf[2];
    table tab[3];             /* by sw_segs_kind */
    uint8_t *forwards;        /* per wave: it sends or copies what an earlier wave brought */
    void **ptrs_dev, **ptrs_host;
    uint32_t nlocals;
    sw_msg *posted;           /* the wave in flight, for timeout messages */
    uint8_t *posted_send;
    size_t nposted_msgs, posted_cap, posted_send_cap;
    int32_t posted_wave;
    double warmup_s;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void pause_us(long us) {
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

int sw_cuda_error(int code, const char *what, sw_error *err) {
    return sw__err(err, SW_CUDA, "%s failed: %s (%s)", what, cudaGetErrorString((cudaError_t)code),
                   cudaGetErrorName((cudaError_t)code));
}

int sw_nccl_error(int code, const char *what, sw_error *err) {
    return sw__err(err, SW_NCCL, "%s failed: %s", what, ncclGetErrorString((ncclResult_t)code));
}

int sw_nccl_have_device(sw_error *err) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess)
        return sw__err(err, SW_CUDA, "no CUDA device: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
    if (n <= 0) return sw__err(err, SW_CUDA, "no CUDA device: cudaGetDeviceCount found none");
    return SW_OK;
}

double sw_nccl_warmup_s(const sw_nccl_ctx *c) { return c ? c->warmup_s : 0; }

/* Aborts the communicator (after a timeout or an asynchronous error): every NCCL
 * operation of it returns, on every rank that aborts too. */
static void abort_comm(sw_nccl_ctx *c) {
    if (c->comm && !c->aborted) ncclCommAbort(c->comm);
    c->aborted = 1;
}

/* Polls a nonblocking communicator until its last call completed.  what: for messages. */
static int comm_ready(sw_nccl_ctx *c, double deadline, const char *what, sw_error *err) {
    long us = 1;
    for (;;) {
        ncclResult_t st = ncclSuccess;
        ncclResult_t r = ncclCommGetAsyncError(c->comm, &st);
        if (r != ncclSuccess) return sw_nccl_error((int)r, "ncclCommGetAsyncError", err);
        if (st == ncclSuccess) return SW_OK;
        if (st != ncclInProgress) {
            abort_comm(c);
            return sw__err(err, SW_NCCL, "rank %d: %s: %s (communicator aborted)", c->rank, what, ncclGetErrorString(st));
        }
        if (now_s() > deadline) {
            abort_comm(c);
            return sw__err(err, SW_TIMEOUT, "rank %d: %s: not done after %.0f s (communicator aborted)", c->rank, what,
                           c->timeout_s);
        }
        pause_us(us);
        if (us < 100) us *= 2;
    }
}

/* "send to rank 3 (4096 bytes), receive from rank 5 (...)" for the messages in flight. */
static void describe_posted(const sw_nccl_ctx *c, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (size_t k = 0; k < c->nposted_msgs && n < cap; k++) {
        if (k == 4) {
            snprintf(buf + n, cap - n, ", and %zu more", c->nposted_msgs - 4);
            break;
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s%s rank %d (%zu bytes)", k ? ", " : "",
                              c->posted_send[k] ? "send to" : "receive from", c->posted[k].peer, c->posted[k].bytes);
    }
}

static int remember(sw_nccl_ctx *c, int32_t wave, const sw_msg *sends, size_t ns, const sw_msg *recvs, size_t nr,
                    sw_error *err) {
    if (SW_GROW(c->posted, c->posted_cap, ns + nr + 1) || SW_GROW(c->posted_send, c->posted_send_cap, ns + nr + 1))
        return sw__err(err, SW_NOMEM, "out of memory");
    c->nposted_msgs = 0;
    for (size_t k = 0; k < nr; k++) c->posted[c->nposted_msgs] = recvs[k], c->posted_send[c->nposted_msgs++] = 0;
    for (size_t k = 0; k < ns; k++) c->posted[c->nposted_msgs] = sends[k], c->posted_send[c->nposted_msgs++] = 1;
    c->posted_wave = wave;
    return SW_OK;
}

/* One group of sends and receives on the comm stream; records comm_ev[slot]. */
static int group(sw_nccl_ctx *c, int slot, const sw_msg *sends, size_t ns, const sw_msg *recvs, size_t nr,
                 const char *what, sw_error *err) {
    double deadline = now_s() + c->timeout_s;
    SW_NCCL_CHECK(ncclGroupStart(), err);
    for (size_t k = 0; k < nr; k++)
        ncclRecv(recvs[k].buf, recvs[k].bytes, ncclUint8, recvs[k].peer, c->comm, c->comm_s);
    for (size_t k = 0; k < ns; k++)
        ncclSend(sends[k].buf, sends[k].bytes, ncclUint8, sends[k].peer, c->comm, c->comm_s);
    /* errors inside a group surface here; a nonblocking communicator says "in progress" */
    ncclResult_t r = ncclGroupEnd();
    if (r != ncclSuccess && r != ncclInProgress) {
        char m[600];
        snprintf(m, sizeof m, "rank %d: %s: ncclGroupEnd", c->rank, what);
        return sw_nccl_error((int)r, m, err);
    }
    SW_CHECK(comm_ready(c, deadline, what, err));
    SW_CUDA_CHECK(cudaEventRecord(c->comm_ev[slot], c->comm_s), err);
    c->inflight[slot] = 1;
    return SW_OK;
}

/* Waits for comm_ev[slot] with the timeout; on expiry aborts and names what was in flight. */
static int wait_slot(sw_nccl_ctx *c, int slot, const char *what, sw_error *err) {
    if (!c->inflight[slot]) return SW_OK;
    double deadline = now_s() + c->timeout_s;
    long us = 1;
    for (;;) {
        cudaError_t q = cudaEventQuery(c->comm_ev[slot]);
        if (q == cudaSuccess) break;
        if (q != cudaErrorNotReady) return sw_cuda_error((int)q, "cudaEventQuery (a wave's send/recv)", err);
        ncclResult_t st = ncclSuccess;
        if (ncclCommGetAsyncError(c->comm, &st) == ncclSuccess && st != ncclSuccess && st != ncclInProgress) {
            abort_comm(c);
            return sw__err(err, SW_NCCL, "rank %d: %s: %s (communicator aborted)", c->rank, what, ncclGetErrorString(st));
        }
        if (now_s() > deadline) {
            char peers[512];
            describe_posted(c, peers, sizeof peers);
            abort_comm(c);
            return sw__err(err, SW_TIMEOUT, "rank %d: %s: %s not done after %.0f s (NCCL communicator aborted)", c->rank,
                           what, peers[0] ? peers : "the group", c->timeout_s);
        }
        pause_us(us);
        if (us < 200) us *= 2;
    }
    c->inflight[slot] = 0;
    return SW_OK;
}

static int npost(void *vctx, int32_t rank, int32_t wave, sw_msg *sends, size_t ns, sw_msg *recvs, size_t nr,
                 sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)rank;
    int slot = (int)(c->nposted++ & 1);
    if (c->aborted) return sw__err(err, SW_NCCL, "rank %d: the NCCL communicator was aborted by an earlier failure", c->rank);
    c->inflight[slot] = 0;
    SW_CHECK(remember(c, wave, sends, ns, recvs, nr, err));
    if (!ns && !nr) return SW_OK;
    /* the wave's pack is done; the receive slot's previous unpack is done */
    SW_CUDA_CHECK(cudaStreamWaitEvent(c->comm_s, c->pack_ev[slot], 0), err);
    SW_CUDA_CHECK(cudaStreamWaitEvent(c->comm_s, c->unpack_ev, 0), err);
    char what[64];
    snprintf(what, sizeof what, "wave %d", wave);
    return group(c, slot, sends, ns, recvs, nr, what, err);
}

static int nwait(void *vctx, int32_t rank, int32_t wave, sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)rank;
    int slot = (int)(c->nwaited++ & 1);
    if (!err) return SW_OK; /* the executor failed before: nothing to report, do not block */
    char what[64];
    snprintf(what, sizeof what, "wave %d", wave);
    return wait_slot(c, slot, what, err);
}

static int launch(sw_nccl_ctx *c, sw_segs_kind kind, size_t i, uint8_t *staging, cudaStream_t s, sw_error *err) {
    const table *t = &c->tab[kind];
    size_t n = t->first[i + 1] - t->first[i];
    if (!n) return SW_OK;
    SW_CUDA_CHECK(sw_k_move(t->d + t->first[i], t->chunk0 + t->first[i] + i, (uint32_t)n, t->nchunks[i], c->ptrs_dev,
                            staging, s),
                  err);
    return SW_OK;
}

static int hpack(void *vctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)x, (void)ptrs;
    int slot = (int)(i & 1);
    /* a relay forwards what an unpack wrote; the slot's previous send must be done */
    if (c->forwards[i]) SW_CUDA_CHECK(cudaStreamWaitEvent(c->pack_s, c->unpack_ev, 0), err);
    SW_CUDA_CHECK(cudaStreamWaitEvent(c->pack_s, c->comm_ev[slot], 0), err);
    SW_CHECK(launch(c, SW_SEGS_PACK, i, c->sendbuf[slot], c->pack_s, err));
    SW_CUDA_CHECK(cudaEventRecord(c->pack_ev[slot], c->pack_s), err);
    return SW_OK;
}

static int hcopy(void *vctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)x, (void)ptrs;
    if (c->forwards[i]) SW_CUDA_CHECK(cudaStreamWaitEvent(c->pack_s, c->unpack_ev, 0), err);
    return launch(c, SW_SEGS_COPY, i, NULL, c->pack_s, err);
}

static int hunpack(void *vctx, const sw_exec *x, size_t i, void *const *ptrs, sw_error *err) {
    sw_nccl_ctx *c = vctx;
    (void)x, (void)ptrs;
    int slot = (int)(i & 1);
    SW_CUDA_CHECK(cudaStreamWaitEvent(c->unpack_s, c->comm_ev[slot], 0), err);
    SW_CHECK(launch(c, SW_SEGS_UNPACK, i, c->recvbuf[slot], c->unpack_s, err));
    SW_CUDA_CHECK(cudaEventRecord(c->unpack_ev, c->unpack_s), err);
    return SW_OK;
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
            t->first[i + 1] = t->first[i] + sw_exec_wave_descs(x, i, (sw_segs_kind)kind, NULL);
        size_t n = t->first[x->nwaves];
        sw_seg_desc *h = malloc((n + 1) * sizeof *h);
        uint64_t *pre = malloc((n + x->nwaves + 1) * sizeof *pre);
        int rc = SW_OK;
        if (!h || !pre) rc = sw__err(err, SW_NOMEM, "out of memory");
        for (size_t i = 0; i < x->nwaves && rc == SW_OK; i++) {
            size_t f = t->first[i], m = t->first[i + 1] - f;
            sw_exec_wave_descs(x, i, (sw_segs_kind)kind, h + f);
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
        if (rc == SW_OK && cudaMalloc((void **)&t->d, (n + 1) * sizeof *h) != cudaSuccess)
            rc = sw__err(err, SW_CUDA, "cannot allocate %zu bytes of device memory for descriptors", (n + 1) * sizeof *h);
        if (rc == SW_OK && cudaMalloc((void **)&t->chunk0, (n + x->nwaves + 1) * sizeof *pre) != cudaSuccess)
            rc = sw__err(err, SW_CUDA, "cannot allocate device memory for descriptors");
        if (rc == SW_OK && n) {
            cudaError_t e = cudaMemcpy(t->d, h, n * sizeof *h, cudaMemcpyHostToDevice);
            if (e == cudaSuccess) e = cudaMemcpy(t->chunk0, pre, (n + x->nwaves) * sizeof *pre, cudaMemcpyHostToDevice);
            if (e != cudaSuccess) rc = sw_cuda_error((int)e, "cudaMemcpy (descriptors)", err);
        }
        free(h);
        free(pre);
        if (rc) return rc;
    }
    return SW_OK;
}

/* Creates (or adopts) the communicator. */
static int make_comm(sw_nccl_ctx *c, const sw_boot *boot, void *nccl_comm, sw_error *err) {
    if (nccl_comm) {
        c->comm = (ncclComm_t)nccl_comm;
        int r = -1;
        SW_NCCL_CHECK(ncclCommUserRank(c->comm, &r), err);
        if (r != c->rank)
            return sw__err(err, SW_USAGE, "the NCCL communicator given is rank %d's, the session rank %d's: NCCL rank k "
                                          "must be global rank k", r, c->rank);
        return SW_OK;
    }
    if (!boot)
        return sw__err(err, SW_UNSUPPORTED, "no MPI to bootstrap NCCL: pass an ncclComm_t in "
                                            "sw_session_opts.nccl_comm");
    /* the group to bootstrap over: MPI (the mpi plugin's, runtime/plugin.h) */
    int me = boot->rank, size = boot->size;
    if (me != c->rank)
        return sw__err(err, SW_USAGE, "session rank %d opened on MPI rank %d: MPI rank k must be global rank k", c->rank, me);
    /* rank 0 makes the id; a failure travels with it, so no rank waits for nothing */
    struct {
        int ok;
        ncclUniqueId id;
    } msg;
    memset(&msg, 0, sizeof msg);
    if (me == 0) msg.ok = ncclGetUniqueId(&msg.id) == ncclSuccess;
    SW_CHECK(boot->bcast(boot->ctx, &msg, sizeof msg, 0, err));
    if (!msg.ok) return sw__err(err, SW_NCCL, "rank 0 could not create an ncclUniqueId (ncclGetUniqueId failed)");
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclResult_t r = ncclCommInitRankConfig(&c->comm, size, msg.id, me, &cfg);
    if (r != ncclSuccess && r != ncclInProgress) return sw_nccl_error((int)r, "ncclCommInitRankConfig", err);
    c->own_comm = 1;
    return comm_ready(c, now_s() + c->timeout_s, "creating the NCCL communicator", err);
}

/* A tiny grouped send/recv with every peer the plan uses: NCCL connects lazily, and the
 * first sync would otherwise pay for it. */
static int warm_up(sw_nccl_ctx *c, const sw_exec *x, sw_error *err) {
    double t0 = now_s();
    const sw_plan *p = x->plan;
    int32_t *peer = calloc((size_t)p->nranks * 2 + 2, sizeof *peer);
    if (!peer) return sw__err(err, SW_NOMEM, "out of memory");
    size_t ns = 0, nr = 0;
    for (size_t k = 0; k < x->ntasks; k++) {
        const sw_plan_task *t = &p->tasks[x->tasks[k]];
        if (t->src == t->dst) continue;
        int send = t->src == x->rank;
        int32_t q = send ? t->dst : t->src;
        int32_t *list = send ? peer : peer + p->nranks + 1;
        size_t *cnt = send ? &ns : &nr, j = 0;
        while (j < *cnt && list[j] != q) j++;
        if (j == *cnt) list[(*cnt)++] = q;
    }
    int rc = SW_OK;
    uint8_t *buf = NULL;
    sw_msg *m = calloc(ns + nr + 1, sizeof *m);
    if (!m) rc = sw__err(err, SW_NOMEM, "out of memory");
    if (rc == SW_OK && (ns || nr) && cudaMalloc((void **)&buf, ns + nr + 1) != cudaSuccess)
        rc = sw__err(err, SW_CUDA, "cannot allocate the warm-up buffer");
    if (rc == SW_OK && (ns || nr)) {
        for (size_t j = 0; j < ns; j++) m[j] = (sw_msg){0, peer[j], buf + j, 1};
        for (size_t j = 0; j < nr; j++) m[ns + j] = (sw_msg){0, peer[p->nranks + 1 + j], buf + ns + j, 1};
        rc = remember(c, -1, m, ns, m + ns, nr, err);
        if (rc == SW_OK) rc = group(c, 0, m, ns, m + ns, nr, "warm-up", err);
        if (rc == SW_OK) rc = wait_slot(c, 0, "warm-up", err);
    }
    /* the kernels load lazily too */
    if (rc == SW_OK) {
        int e = sw_k_move(NULL, NULL, 0, 0, NULL, NULL, c->pack_s);
        if (e) rc = sw_cuda_error(e, "the pack kernel", err);
    }
    if (buf) cudaFree(buf);
    free(m);
    free(peer);
    c->warmup_s = now_s() - t0;
    return rc;
}

static int make_streams(sw_nccl_ctx *c, sw_error *err) {
    SW_CUDA_CHECK(cudaStreamCreateWithFlags(&c->pack_s, cudaStreamNonBlocking), err);
    SW_CUDA_CHECK(cudaStreamCreateWithFlags(&c->comm_s, cudaStreamNonBlocking), err);
    SW_CUDA_CHECK(cudaStreamCreateWithFlags(&c->unpack_s, cudaStreamNonBlocking), err);
    cudaEvent_t *ev[] = {&c->pack_ev[0], &c->pack_ev[1], &c->comm_ev[0], &c->comm_ev[1], &c->unpack_ev,
                         &c->start_ev, &c->end_pack_ev, &c->end_unpack_ev};
    for (size_t k = 0; k < sizeof ev / sizeof *ev; k++)
        SW_CUDA_CHECK(cudaEventCreateWithFlags(ev[k], cudaEventDisableTiming), err);
    return SW_OK;
}

static int make_staging(sw_nccl_ctx *c, sw_exec *x, sw_error *err) {
    for (int k = 0; k < 2; k++) {
        if (cudaMalloc((void **)&c->sendbuf[k], x->max_send + SW_STAGING_ALIGN) != cudaSuccess ||
            cudaMalloc((void **)&c->recvbuf[k], x->max_recv + SW_STAGING_ALIGN) != cudaSuccess)
            return sw__err(err, SW_CUDA, "cannot allocate device staging (2 x %zu + 2 x %zu bytes)", x->max_send,
                           x->max_recv);
    }
    sw_exec_set_staging(x, c->sendbuf[0], c->sendbuf[1], c->recvbuf[0], c->recvbuf[1]);
    c->nlocals = x->plan->nlocals;
    c->ptrs_host = calloc((size_t)c->nlocals + 1, sizeof *c->ptrs_host);
    if (!c->ptrs_host) return sw__err(err, SW_NOMEM, "out of memory");
    SW_CUDA_CHECK(cudaMalloc((void **)&c->ptrs_dev, ((size_t)c->nlocals + 1) * sizeof(void *)), err);
    SW_CUDA_CHECK(cudaMemset(c->ptrs_dev, 0, ((size_t)c->nlocals + 1) * sizeof(void *)), err);
    return SW_OK;
}

int sw_nccl_open(sw_nccl_ctx **out, sw_backend *b, sw_exec *x, int32_t rank, const sw_boot *boot, void *nccl_comm,
                 double timeout_s, sw_error *err) {
    *out = NULL;
    SW_CHECK(sw_nccl_have_device(err));
    sw_nccl_ctx *c = calloc(1, sizeof *c);
    if (!c) return sw__err(err, SW_NOMEM, "out of memory");
    c->rank = rank;
    c->timeout_s = timeout_s > 0 ? timeout_s : 60;
    c->x = x;
    int rc;
    if ((rc = make_streams(c, err))) goto fail;
    if (x && ((rc = make_staging(c, x, err)) || (rc = build_tables(c, x, err)))) goto fail;
    /* collective: every rank of the communicator gets here, also one the plan leaves idle */
    if ((rc = make_comm(c, boot, nccl_comm, err))) goto fail;
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
    *out = c;
    return SW_OK;
fail:
    sw_nccl_close(c);
    return rc;
}

int sw_nccl_begin(sw_nccl_ctx *c, void *stream, void *const *ptrs, sw_error *err) {
    if (c->aborted) return sw__err(err, SW_NCCL, "rank %d: the NCCL communicator was aborted by an earlier failure", c->rank);
    c->nposted = c->nwaited = 0;
    c->inflight[0] = c->inflight[1] = 0;
    if (ptrs && memcmp(c->ptrs_host, ptrs, (size_t)c->nlocals * sizeof *ptrs)) {
        /* the previous sync's kernels may still read the table */
        SW_CUDA_CHECK(cudaStreamSynchronize(c->pack_s), err);
        SW_CUDA_CHECK(cudaStreamSynchronize(c->unpack_s), err);
        memcpy(c->ptrs_host, ptrs, (size_t)c->nlocals * sizeof *ptrs);
        SW_CUDA_CHECK(cudaMemcpy(c->ptrs_dev, c->ptrs_host, (size_t)c->nlocals * sizeof *ptrs, cudaMemcpyHostToDevice),
                      err);
    }
    /* whatever the caller queued before (the optimizer step) comes first */
    SW_CUDA_CHECK(cudaEventRecord(c->start_ev, (cudaStream_t)stream), err);
    SW_CUDA_CHECK(cudaStreamWaitEvent(c->pack_s, c->start_ev, 0), err);
    SW_CUDA_CHECK(cudaStreamWaitEvent(c->comm_s, c->start_ev, 0), err);
    SW_CUDA_CHECK(cudaStreamWaitEvent(c->unpack_s, c->start_ev, 0), err);
    return SW_OK;
}

int sw_nccl_end(sw_nccl_ctx *c, void *stream, sw_error *err) {
    SW_CUDA_CHECK(cudaEventRecord(c->end_pack_ev, c->pack_s), err);
    SW_CUDA_CHECK(cudaEventRecord(c->end_unpack_ev, c->unpack_s), err);
    SW_CUDA_CHECK(cudaStreamWaitEvent((cudaStream_t)stream, c->end_pack_ev, 0), err);
    SW_CUDA_CHECK(cudaStreamWaitEvent((cudaStream_t)stream, c->end_unpack_ev, 0), err);
    return SW_OK;
}

void sw_nccl_close(sw_nccl_ctx *c) {
    if (!c) return;
    if (c->own_comm && c->comm && !c->aborted) {
        /* let what is queued finish, then free: a nonblocking communicator finalizes
         * asynchronously */
        sw_error e;
        ncclResult_t r = ncclCommFinalize(c->comm);
        if (r == ncclSuccess || r == ncclInProgress) (void)comm_ready(c, now_s() + c->timeout_s, "finalizing", &e);
        if (!c->aborted) ncclCommDestroy(c->comm); /* an abort (timeout) has freed it */
    }
    cudaStream_t st[] = {c->pack_s, c->comm_s, c->unpack_s};
    for (size_t k = 0; k < 3; k++)
        if (st[k]) cudaStreamDestroy(st[k]);
    cudaEvent_t ev[] = {c->pack_ev[0], c->pack_ev[1], c->comm_ev[0], c->comm_ev[1], c->unpack_ev,
                        c->start_ev, c->end_pack_ev, c->end_unpack_ev};
    for (size_t k = 0; k < sizeof ev / sizeof *ev; k++)
        if (ev[k]) cudaEventDestroy(ev[k]);
    for (int k = 0; k < 2; k++) {
        if (c->sendbuf[k]) cudaFree(c->sendbuf[k]);
        if (c->recvbuf[k]) cudaFree(c->recvbuf[k]);
    }
    for (int k = 0; k < 3; k++) {
        free(c->tab[k].first);
        free(c->tab[k].nchunks);
        if (c->tab[k].d) cudaFree(c->tab[k].d);
        if (c->tab[k].chunk0) cudaFree(c->tab[k].chunk0);
    }
    if (c->ptrs_dev) cudaFree(c->ptrs_dev);
    free(c->ptrs_host);
    free(c->forwards);
    free(c->posted);
    free(c->posted_send);
    free(c);
}

/* ---- validation on the device ------------------------------------------------------ */

static void tensor_strides(const sw_plan_tensor *t, int64_t *st) {
    int64_t s = 1;
    for (int k = t->ndim - 1; k >= 0; k--) {
        st[k] = s;
        s *= t->shape[k];
    }
}

static void val_desc(const sw_plan *p, uint32_t tensor, uint32_t local, const int64_t *start, const int64_t *size,
                     const int8_t *map, const int64_t *base, sw_val_desc *d) {
    const sw_plan_tensor *t = &p->tensors[tensor];
    const sw_plan_local *l = &p->locals[local];
    memset(d, 0, sizeof *d);
    d->geo.ndim = t->ndim;
    d->nelem = 1;
    for (int k = 0; k < t->ndim; k++) {
        d->geo.size[k] = size[k];
        d->start[k] = start[k];
        d->nelem *= (uint64_t)size[k];
    }
    tensor_strides(t, d->tstride);
    sw_box_side_init(&d->side, l->ndim, l->shape, map, base, t->ndim, start);
    d->key = sw_val_key(t->name);
    d->local = local;
    d->dtype = (int32_t)l->dtype;
    d->chain[0] = d->dtype;
    d->nchain = 1;
}

static int upload_ptrs(const sw_plan *p, void *const *ptrs, void ***dev, sw_error *err) {
    SW_CUDA_CHECK(cudaMalloc((void **)dev, ((size_t)p->nlocals + 1) * sizeof(void *)), err);
    SW_CUDA_CHECK(cudaMemcpy(*dev, ptrs, (size_t)p->nlocals * sizeof(void *), cudaMemcpyHostToDevice), err);
    return SW_OK;
}

static int run_val(const sw_plan *p, const sw_val_desc *h, size_t n, void *const *ptrs, sw_val_result *res_out,
                   sw_error *err) {
    sw_val_desc *d = NULL;
    void **pd = NULL;
    sw_val_result *res = NULL;
    int rc = SW_OK;
    cudaError_t e = cudaMalloc((void **)&d, (n + 1) * sizeof *d);
    if (e == cudaSuccess && n) e = cudaMemcpy(d, h, n * sizeof *d, cudaMemcpyHostToDevice);
    if (e == cudaSuccess && res_out) e = cudaMalloc((void **)&res, sizeof *res);
    if (e == cudaSuccess && res_out) e = cudaMemset(res, 0, sizeof *res);
    if (e != cudaSuccess) rc = sw_cuda_error((int)e, "validation buffers", err);
    if (rc == SW_OK) rc = upload_ptrs(p, ptrs, &pd, err);
    for (size_t f = 0; f < n && rc == SW_OK; f += UINT32_MAX) {
        uint32_t m = n - f > UINT32_MAX ? UINT32_MAX : (uint32_t)(n - f);
        int k = res_out ? sw_k_check(d + f, m, pd, res, NULL) : sw_k_fill(d + f, m, pd, NULL);
        if (k) rc = sw_cuda_error(k, res_out ? "the check kernel" : "the fill kernel", err);
    }
    if (rc == SW_OK && (e = cudaDeviceSynchronize()) != cudaSuccess) rc = sw_cuda_error((int)e, "validation", err);
    if (rc == SW_OK && res_out && (e = cudaMemcpy(res_out, res, sizeof *res, cudaMemcpyDeviceToHost)) != cudaSuccess)
        rc = sw_cuda_error((int)e, "cudaMemcpy (validation result)", err);
    if (d) cudaFree(d);
    if (pd) cudaFree(pd);
    if (res) cudaFree(res);
    return rc;
}

int sw_nccl_validate_fill(const sw_plan *p, int32_t rank, void *const *ptrs, sw_error *err) {
    size_t n = 0;
    for (uint32_t li = 0; li < p->nlocals; li++) {
        const sw_plan_local *l = &p->locals[li];
        if (l->rank != rank || !ptrs[li]) continue;
        SW_CUDA_CHECK(cudaMemset(ptrs[li], l->role == SW_ROLE_SRC ? 0 : 0xA5, sw_plan_local_nbytes(l)), err);
        if (l->role == SW_ROLE_SRC) n += l->npieces;
    }
    sw_val_desc *h = malloc((n + 1) * sizeof *h);
    if (!h) return sw__err(err, SW_NOMEM, "out of memory");
    n = 0;
    for (uint32_t li = 0; li < p->nlocals; li++) {
        const sw_plan_local *l = &p->locals[li];
        if (l->rank != rank || !ptrs[li] || l->role != SW_ROLE_SRC) continue;
        for (uint32_t k = 0; k < l->npieces; k++) {
            const sw_plan_piece *pc = &p->pieces[l->piece0 + k];
            val_desc(p, pc->tensor, li, pc->start, pc->size, pc->map, pc->base, &h[n++]);
        }
    }
    int rc = run_val(p, h, n, ptrs, NULL, err);
    free(h);
    return rc;
}

/* The transfer that brought what relay transfer x forwards (same local and box), or -1. */
static int32_t leader_of(const sw_plan *p, const sw_plan_xfer *x) {
    for (uint32_t i = 0; i < p->nxfers; i++) {
        const sw_plan_xfer *y = &p->xfers[i];
        if (y->dst.local == x->src.local && !memcmp(y->start, x->start, sizeof x->start) &&
            !memcmp(y->size, x->size, sizeof x->size))
            return (int32_t)i;
    }
    return -1;
}

int sw_nccl_validate_check(const sw_plan *p, int32_t rank, void *const *ptrs, sw_data_report *rep, sw_error *err) {
    memset(rep, 0, sizeof *rep);
    sw_val_desc *h = malloc(((size_t)p->nxfers + 1) * sizeof *h);
    if (!h) return sw__err(err, SW_NOMEM, "out of memory");
    size_t n = 0;
    int rc = SW_OK;
    for (uint32_t xi = 0; xi < p->nxfers && rc == SW_OK; xi++) {
        const sw_plan_xfer *x = &p->xfers[xi];
        const sw_plan_local *dl = &p->locals[x->dst.local];
        if (dl->rank != rank || !ptrs[x->dst.local]) continue;
        sw_val_desc *d = &h[n++];
        val_desc(p, x->tensor, x->dst.local, x->start, x->size, x->dst.map, x->dst.base, d);
        /* the dtypes the elements travelled through, as data_validate.c follows them */
        const sw_plan_xfer *cur = x;
        for (int hops = 0; hops < 3; hops++) {
            const sw_plan_local *sl = &p->locals[cur->src.local];
            d->chain[d->nchain++] = (int32_t)sl->dtype;
            if (sl->role == SW_ROLE_SRC) break;
            int32_t L = hops < 2 ? leader_of(p, cur) : -1;
            if (L < 0) {
                rc = sw__err(err, SW_INTERNAL, "transfer %u forwards data that no transfer brings", xi);
                break;
            }
            cur = &p->xfers[L];
        }
        rep->checked += d->nelem;
    }
    sw_val_result res;
    memset(&res, 0, sizeof res);
    if (rc == SW_OK) rc = run_val(p, h, n, ptrs, &res, err);
    free(h);
    if (rc) return rc;
    rep->bad = res.bad;
    for (size_t k = 0; k < SW_K_MAXBAD && k < SW_DATA_REPORT && k < res.bad; k++) {
        sw_data_mismatch *m = &rep->shown[rep->nshown++];
        const sw_plan_local *l = &p->locals[res.shown[k].local];
        m->local = res.shown[k].local;
        int64_t o = res.shown[k].off;
        for (int j = l->ndim - 1; j >= 0; j--) {
            m->index[j] = l->shape[j] ? o % l->shape[j] : 0;
            o = l->shape[j] ? o / l->shape[j] : 0;
        }
        m->expected = res.shown[k].expected;
        m->got = res.shown[k].got;
    }
    return SW_OK;
}
