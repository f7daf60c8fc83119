/*
 * nccl_ipc.c - CUDA IPC messages between processes of one host (see nccl_ipc.h).
 */
#include "nccl_ipc.h"
#include "clock.h"
#include "diag.h"

#include <cuda_runtime_api.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IPC_MAGIC 0x3130637069777373ull /* "sswipc01" */

/* One IPC message as published in a record. */
typedef struct ipc_msg {
    int32_t wave, peer; /* global wave, the other plan rank */
    uint32_t send;      /* 1: this process sends it, 0: receives it */
    uint32_t ev;        /* index of the record's event: "packed" (send) or "copied" (recv) */
    uint64_t off, bytes; /* send: where it lies in the sender's arena */
} ipc_msg;

/* The head of a record; then nmsg ipc_msg, nev event handles, nev sequence numbers. */
typedef struct ipc_hdr {
    uint64_t magic, token, host;
    char bus[24];
    int32_t rank, pid;
    uint32_t nmsg, nev;
    uint32_t ready; /* written last (release), read first (acquire) */
    uint32_t pad_;
    cudaIpcMemHandle_t mem; /* the staging arena */
} ipc_hdr;

typedef struct record {
    ipc_hdr *h;
    size_t size;
    ipc_msg *msg;
    cudaIpcEventHandle_t *evh;
    uint64_t *seq;
} record;

/* A peer's event this process waits for, and the sync whose record it needs. */
typedef struct pending {
    uint32_t peer; /* index into ipc->peers */
    uint32_t ev;   /* index into that peer's events */
    uint64_t seq;
} pending;

typedef struct peer {
    int32_t rank;
    record rec;
    uint8_t *base;      /* its arena, mapped (receivers only) */
    cudaEvent_t *ev;    /* [rec.h->nev] opened lazily: those this process needs */
} peer;

/* Per executor wave: its IPC sends and receives. */
typedef struct wave_ipc {
    int32_t packed_ev, copied_ev;  /* this process's events (-1: none) */
    uint32_t recv0, nrecv;         /* into ipc->rx */
    uint32_t send0, nsend;         /* into ipc->tx */
} wave_ipc;

/* An IPC receive of this process: from peer (its packed event, its offset). */
typedef struct rx {
    uint32_t task;
    uint32_t peer, ev;
    uint64_t off, bytes;
} rx;

/* An IPC send: the receiver's copied event. */
typedef struct tx {
    uint32_t peer, ev;
} tx;

struct sw_nccl_ipc {
    char name[96];
    record mine;
    cudaEvent_t *ev;          /* [mine.h->nev] */
    peer *peers;
    size_t npeers;
    wave_ipc *w;              /* [x->nwaves] */
    rx *rx;
    tx *tx;
    pending *todo[2];         /* copies to wait for before packing into each half */
    size_t ntodo[2], captodo[2];
    double timeout_s;
    int32_t rank;
    const sw_exec *x;
};

/* Spins, then yields, then sleeps a little: most waits here end within microseconds. */
static void backoff(unsigned *k) {
    if (*k < 2000) {
        (*k)++;
    } else if (*k < 4000) {
        (*k)++;
        sched_yield();
    } else {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

static int cuda_fail(cudaError_t e, const char *what, int32_t rank, sw_error *err) {
    (void)cudaGetLastError(); /* not left behind for the next launch (review F1) */
    return sw__err(err, SW_CUDA, "rank %d: %s failed: %s (%s)", rank, what, cudaGetErrorString(e), cudaGetErrorName(e));
}

static size_t record_size(uint32_t nmsg, uint32_t nev) {
    return sizeof(ipc_hdr) + nmsg * sizeof(ipc_msg) + nev * sizeof(cudaIpcEventHandle_t) + nev * sizeof(uint64_t);
}

static void record_bind(record *r) {
    uint8_t *b = (uint8_t *)r->h;
    r->msg = (ipc_msg *)(b + sizeof(ipc_hdr));
    r->evh = (cudaIpcEventHandle_t *)(b + sizeof(ipc_hdr) + r->h->nmsg * sizeof(ipc_msg));
    r->seq = (uint64_t *)((uint8_t *)r->evh + r->h->nev * sizeof(cudaIpcEventHandle_t));
}

static void seg_name(char *buf, size_t cap, uint64_t token, int32_t rank) {
    snprintf(buf, cap, "/shardwave-%016llx-%d", (unsigned long long)token, rank);
}

/* Creates this process's record (every field but the events' handles and `ready`). */
static int make_record(sw_nccl_ipc *ipc, const sw_nccl_ipc_setup *s, uint32_t nmsg, uint32_t nev, sw_error *err) {
    seg_name(ipc->name, sizeof ipc->name, s->token, s->rank);
    shm_unlink(ipc->name); /* a record left by a process of the same session that died */
    int fd = shm_open(ipc->name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0)
        return sw__err(err, SW_RUNTIME, "rank %d: cannot create the shared-memory record %s for CUDA IPC: %s", s->rank,
                       ipc->name, strerror(errno));
    size_t size = record_size(nmsg, nev);
    void *m = MAP_FAILED;
    if (ftruncate(fd, (off_t)size) == 0) m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) {
        shm_unlink(ipc->name);
        ipc->name[0] = 0;
        return sw__err(err, SW_RUNTIME, "rank %d: cannot map %zu bytes of shared memory for CUDA IPC: %s", s->rank,
                       size, strerror(e));
    }
    memset(m, 0, size);
    ipc->mine.h = m;
    ipc->mine.size = size;
    ipc->mine.h->magic = IPC_MAGIC;
    ipc->mine.h->token = s->token;
    ipc->mine.h->host = s->where.host;
    memcpy(ipc->mine.h->bus, s->where.bus, sizeof ipc->mine.h->bus);
    ipc->mine.h->rank = s->rank;
    ipc->mine.h->pid = (int32_t)getpid();
    ipc->mine.h->nmsg = nmsg;
    ipc->mine.h->nev = nev;
    record_bind(&ipc->mine);
    return SW_OK;
}

/* Maps peer rank's record once it is ready (until the timeout). */
static int open_record(sw_nccl_ipc *ipc, const sw_nccl_ipc_setup *s, int32_t rank, record *r, sw_error *err) {
    char name[96];
    seg_name(name, sizeof name, s->token, rank);
    double deadline = sw_now_s() + s->timeout_s;
    unsigned k = 0;
    int fd = -1;
    for (;;) {
        if (fd < 0) fd = shm_open(name, O_RDONLY, 0);
        if (fd >= 0) {
            struct stat st;
            if (fstat(fd, &st) == 0 && (size_t)st.st_size >= sizeof(ipc_hdr)) {
                void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
                if (m != MAP_FAILED) {
                    const ipc_hdr *h = m;
                    if (__atomic_load_n(&h->ready, __ATOMIC_ACQUIRE)) {
                        close(fd);
                        r->h = m;
                        r->size = (size_t)st.st_size;
                        break;
                    }
                    munmap(m, (size_t)st.st_size);
                }
            }
        }
        if (sw_now_s() > deadline) {
            if (fd >= 0) close(fd);
            return sw__err(err, SW_TIMEOUT,
                           "rank %d: rank %d did not appear on this host within %.0f s: it exchanges data with rank %d "
                           "through CUDA IPC, which needs both on one host (the plan puts them on host %llu's GPUs; "
                           "launch them there, or compile the plan for the hosts they run on)",
                           ipc->rank, rank, s->timeout_s, ipc->rank, (unsigned long long)s->where.host);
        }
        backoff(&k);
    }
    const ipc_hdr *h = r->h;
    if (h->magic != IPC_MAGIC || h->token != s->token || h->rank != rank ||
        r->size < record_size(h->nmsg, h->nev))
        return sw__err(err, SW_RUNTIME, "rank %d: the CUDA IPC record of rank %d (%s) is not this session's", ipc->rank,
                       rank, name);
    if (h->host != s->where.host)
        return sw__err(err, SW_RUNTIME,
                       "rank %d: rank %d runs on another host (its record says %llu, this host is %llu): CUDA IPC needs "
                       "one host",
                       ipc->rank, rank, (unsigned long long)h->host, (unsigned long long)s->where.host);
    record_bind(r);
    return SW_OK;
}

static int32_t find_peer(const sw_nccl_ipc *ipc, int32_t rank) {
    for (size_t k = 0; k < ipc->npeers; k++)
        if (ipc->peers[k].rank == rank) return (int32_t)k;
    return -1;
}

/* The peer's message (wave, to or from this rank, the other direction), or NULL. */
static const ipc_msg *peer_msg(const peer *q, int32_t wave, int32_t me, uint32_t send) {
    for (uint32_t k = 0; k < q->rec.h->nmsg; k++) {
        const ipc_msg *m = &q->rec.msg[k];
        if (m->wave == wave && m->peer == me && m->send == send) return m;
    }
    return NULL;
}

/* Opens peer event ev (once). */
static int peer_event(sw_nccl_ipc *ipc, uint32_t p, uint32_t ev, sw_error *err) {
    peer *q = &ipc->peers[p];
    if (q->ev[ev]) return SW_OK;
    cudaError_t e = cudaIpcOpenEventHandle(&q->ev[ev], q->rec.evh[ev]);
    if (e != cudaSuccess) {
        q->ev[ev] = NULL;
        char what[96];
        snprintf(what, sizeof what, "cudaIpcOpenEventHandle (an event of rank %d)", q->rank);
        return cuda_fail(e, what, ipc->rank, err);
    }
    return SW_OK;
}

int sw_nccl_ipc_open(sw_nccl_ipc **out, const sw_nccl_ipc_setup *s, sw_error *err) {
    *out = NULL;
    const sw_exec *x = s->x;
    const sw_plan *p = x->plan;
    /* this rank's IPC messages, wave by wave, as the executor lays them out */
    size_t maxm = 0;
    for (size_t i = 0; i < x->nwaves; i++) {
        size_t a = sw_exec_wave_msgs(x, i, 0, NULL), b = sw_exec_wave_msgs(x, i, 1, NULL);
        if (a + b > maxm) maxm = a + b;
    }
    sw_msg *m = malloc((maxm + 1) * sizeof *m);
    sw_nccl_ipc *ipc = calloc(1, sizeof *ipc);
    if (!m || !ipc) {
        free(m);
        free(ipc);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    ipc->rank = s->rank;
    ipc->x = x;
    ipc->timeout_s = s->timeout_s;
    uint32_t nmsg = 0, nev = 0, nrx = 0, ntx = 0;
    int rc = SW_OK;
    ipc->w = calloc(x->nwaves + 1, sizeof *ipc->w);
    int32_t *peer_rank = calloc((size_t)p->nranks + 1, sizeof *peer_rank);
    if (!ipc->w || !peer_rank) rc = sw__err(err, SW_NOMEM, "out of memory");
    for (size_t i = 0; i < x->nwaves && rc == SW_OK; i++) {
        wave_ipc *w = &ipc->w[i];
        w->packed_ev = w->copied_ev = -1;
        for (int dir = 0; dir < 2; dir++) {
            size_t n = sw_exec_wave_msgs(x, i, dir, m);
            for (size_t k = 0; k < n; k++) {
                int32_t q = sw_plan_rank_index(p, m[k].peer);
                if (q < 0 || s->via[q] != SW_VIA_IPC) continue;
                nmsg++;
                if (dir == 0) ntx++, w->packed_ev = 0;
                else nrx++, w->copied_ev = 0;
                if (!peer_rank[q]) peer_rank[q] = 1, ipc->npeers++;
            }
        }
        if (w->packed_ev == 0) w->packed_ev = (int32_t)nev++;
        if (w->copied_ev == 0) w->copied_ev = (int32_t)nev++;
    }
    if (rc == SW_OK && nmsg == 0) { /* nothing through IPC */
        free(m);
        free(peer_rank);
        free(ipc->w);
        free(ipc);
        return SW_OK;
    }
    ipc->peers = calloc(ipc->npeers + 1, sizeof *ipc->peers);
    ipc->rx = calloc((size_t)nrx + 1, sizeof *ipc->rx);
    ipc->tx = calloc((size_t)ntx + 1, sizeof *ipc->tx);
    ipc->ev = calloc((size_t)nev + 1, sizeof *ipc->ev);
    if (rc == SW_OK && (!ipc->peers || !ipc->rx || !ipc->tx || !ipc->ev)) rc = sw__err(err, SW_NOMEM, "out of memory");
    if (rc == SW_OK) {
        size_t np = 0;
        for (uint32_t q = 0; q < p->nranks; q++)
            if (peer_rank[q]) ipc->peers[np++].rank = p->ranks[q].rank;
    }
    /* 1-2: the record, its events and their handles, then `ready` */
    if (rc == SW_OK) rc = make_record(ipc, s, nmsg, nev, err);
    if (rc == SW_OK) {
        cudaError_t e = cudaIpcGetMemHandle(&ipc->mine.h->mem, x->arena);
        if (e != cudaSuccess) rc = cuda_fail(e, "cudaIpcGetMemHandle (the staging arena)", s->rank, err);
    }
    for (uint32_t k = 0; k < nev && rc == SW_OK; k++) {
        cudaError_t e = cudaEventCreateWithFlags(&ipc->ev[k], cudaEventDisableTiming | cudaEventInterprocess);
        if (e == cudaSuccess) e = cudaIpcGetEventHandle(&ipc->mine.evh[k], ipc->ev[k]);
        if (e != cudaSuccess) rc = cuda_fail(e, "an interprocess event (cudaEventCreateWithFlags, cudaIpcGetEventHandle)", s->rank, err);
    }
    uint32_t km = 0;
    for (size_t i = 0; i < x->nwaves && rc == SW_OK; i++) {
        int32_t wave = p->tasks[x->tasks[x->wave0[i]]].wave;
        for (int dir = 0; dir < 2; dir++) {
            size_t n = sw_exec_wave_msgs(x, i, dir, m);
            for (size_t k = 0; k < n; k++) {
                int32_t q = sw_plan_rank_index(p, m[k].peer);
                if (q < 0 || s->via[q] != SW_VIA_IPC) continue;
                ipc_msg *r = &ipc->mine.msg[km++];
                r->wave = wave;
                r->peer = m[k].peer;
                r->send = dir == 0;
                r->ev = (uint32_t)(dir == 0 ? ipc->w[i].packed_ev : ipc->w[i].copied_ev);
                r->off = (uint64_t)((uint8_t *)m[k].buf - x->arena);
                r->bytes = m[k].bytes;
            }
        }
    }
    if (rc == SW_OK) __atomic_store_n(&ipc->mine.h->ready, 1u, __ATOMIC_RELEASE);
    /* 3: the peers' records, their arenas (receivers), the events this rank waits for */
    for (size_t k = 0; k < ipc->npeers && rc == SW_OK; k++) {
        peer *q = &ipc->peers[k];
        rc = open_record(ipc, s, q->rank, &q->rec, err);
        if (rc == SW_OK && !(q->ev = calloc((size_t)q->rec.h->nev + 1, sizeof *q->ev)))
            rc = sw__err(err, SW_NOMEM, "out of memory");
    }
    uint32_t irx = 0, itx = 0;
    for (size_t i = 0; i < x->nwaves && rc == SW_OK; i++) {
        int32_t wave = p->tasks[x->tasks[x->wave0[i]]].wave;
        wave_ipc *w = &ipc->w[i];
        w->recv0 = irx, w->send0 = itx;
        for (int dir = 0; dir < 2 && rc == SW_OK; dir++) {
            size_t n = sw_exec_wave_msgs(x, i, dir, m);
            for (size_t k = 0; k < n && rc == SW_OK; k++) {
                int32_t q = sw_plan_rank_index(p, m[k].peer);
                if (q < 0 || s->via[q] != SW_VIA_IPC) continue;
                uint32_t pk = (uint32_t)find_peer(ipc, m[k].peer);
                peer *pp = &ipc->peers[pk];
                const ipc_msg *pm = peer_msg(pp, wave, s->rank, dir == 1);
                if (!pm || (dir == 1 && pm->bytes != m[k].bytes)) {
                    rc = sw__err(err, SW_RUNTIME,
                                 "rank %d: wave %d: rank %d's CUDA IPC record has no matching %s of %zu bytes: the two "
                                 "processes did not load the same plan",
                                 s->rank, wave, m[k].peer, dir == 1 ? "send" : "receive", m[k].bytes);
                    break;
                }
                if (pm->ev >= pp->rec.h->nev) {
                    rc = sw__err(err, SW_RUNTIME, "rank %d: rank %d's CUDA IPC record is corrupted", s->rank, m[k].peer);
                    break;
                }
                rc = peer_event(ipc, pk, pm->ev, err);
                if (dir == 1) {
                    if (rc == SW_OK && !pp->base) {
                        void *base = NULL;
                        cudaError_t e = cudaIpcOpenMemHandle(&base, pp->rec.h->mem, cudaIpcMemLazyEnablePeerAccess);
                        if (e != cudaSuccess) {
                            char what[192];
                            snprintf(what, sizeof what,
                                     "cudaIpcOpenMemHandle (rank %d's staging, GPU %s; this GPU %s: another GPU needs "
                                     "peer access)",
                                     m[k].peer, pp->rec.h->bus, s->where.bus);
                            rc = cuda_fail(e, what, s->rank, err);
                        }
                        pp->base = base;
                    }
                    ipc->rx[irx++] = (rx){m[k].task, pk, pm->ev, pm->off, pm->bytes};
                    w->nrecv++;
                } else {
                    ipc->tx[itx++] = (tx){pk, pm->ev};
                    w->nsend++;
                }
            }
        }
    }
    free(m);
    free(peer_rank);
    if (rc) {
        sw_nccl_ipc_close(ipc);
        return rc;
    }
    *out = ipc;
    return SW_OK;
}

void sw_nccl_ipc_close(sw_nccl_ipc *ipc) {
    if (!ipc) return;
    for (size_t k = 0; k < ipc->npeers; k++) {
        peer *q = &ipc->peers[k];
        if (q->base) cudaIpcCloseMemHandle(q->base);
        for (uint32_t e = 0; q->ev && e < q->rec.h->nev; e++)
            if (q->ev[e]) cudaEventDestroy(q->ev[e]);
        free(q->ev);
        if (q->rec.h) munmap(q->rec.h, q->rec.size);
    }
    for (uint32_t e = 0; ipc->ev && ipc->mine.h && e < ipc->mine.h->nev; e++)
        if (ipc->ev[e]) cudaEventDestroy(ipc->ev[e]);
    if (ipc->mine.h) munmap(ipc->mine.h, ipc->mine.size);
    if (ipc->name[0]) shm_unlink(ipc->name);
    (void)cudaGetLastError();
    free(ipc->ev);
    free(ipc->peers);
    free(ipc->w);
    free(ipc->rx);
    free(ipc->tx);
    free(ipc->todo[0]);
    free(ipc->todo[1]);
    free(ipc);
}

/* Waits on the host until peer p published seq for its event ev, then on the device. */
static int wait_peer(sw_nccl_ipc *ipc, uint32_t p, uint32_t ev, uint64_t seq, void *stream, const char *what,
                     int32_t wave, sw_error *err) {
    peer *q = &ipc->peers[p];
    double deadline = 0;
    unsigned k = 0;
    while (__atomic_load_n(&q->rec.seq[ev], __ATOMIC_ACQUIRE) < seq) {
        double t = sw_now_s();
        if (!deadline) deadline = t + ipc->timeout_s;
        else if (t > deadline)
            return sw__err(err, SW_TIMEOUT, "rank %d: wave %d: rank %d (CUDA IPC, this host) has not %s after %g s",
                           ipc->rank, wave, q->rank, what, ipc->timeout_s);
        backoff(&k);
    }
    cudaError_t e = cudaStreamWaitEvent((cudaStream_t)stream, q->ev[ev], 0);
    if (e != cudaSuccess) return cuda_fail(e, "cudaStreamWaitEvent (a peer's interprocess event)", ipc->rank, err);
    return SW_OK;
}

int sw_nccl_ipc_before_pack(sw_nccl_ipc *ipc, size_t i, void *stream, sw_error *err) {
    if (!ipc) return SW_OK;
    const sw_plan *p = ipc->x->plan;
    int32_t wave = p->tasks[ipc->x->tasks[ipc->x->wave0[i]]].wave;
    /* wave i reuses the half of the arena of waves i - 2, i - 4, ...; the first wave of a
     * sync may also reach into the other half (the last wave of the sync before) */
    for (int h = 0; h < 2; h++) {
        if (h != (int)(i & 1) && i != 0) continue;
        for (size_t k = 0; k < ipc->ntodo[h]; k++) {
            const pending *t = &ipc->todo[h][k];
            SW_CHECK(wait_peer(ipc, t->peer, t->ev, t->seq, stream, "copied what this rank sent it before", wave, err));
        }
        ipc->ntodo[h] = 0;
    }
    return SW_OK;
}

int sw_nccl_ipc_after_pack(sw_nccl_ipc *ipc, size_t i, void *stream, uint64_t seq, sw_error *err) {
    if (!ipc || ipc->w[i].packed_ev < 0) return SW_OK;
    wave_ipc *w = &ipc->w[i];
    cudaError_t e = cudaEventRecord(ipc->ev[w->packed_ev], (cudaStream_t)stream);
    if (e != cudaSuccess) return cuda_fail(e, "cudaEventRecord (an interprocess event)", ipc->rank, err);
    __atomic_store_n(&ipc->mine.seq[w->packed_ev], seq, __ATOMIC_RELEASE);
    int h = (int)(i & 1);
    for (uint32_t k = 0; k < w->nsend; k++) {
        const tx *t = &ipc->tx[w->send0 + k];
        if (SW_GROW(ipc->todo[h], ipc->captodo[h], ipc->ntodo[h] + 1)) return sw__err(err, SW_NOMEM, "out of memory");
        ipc->todo[h][ipc->ntodo[h]++] = (pending){t->peer, t->ev, seq};
    }
    return SW_OK;
}

int sw_nccl_ipc_recv(sw_nccl_ipc *ipc, size_t i, void *stream, uint64_t seq, const sw_msg *recvs, size_t nr,
                     size_t *ncopied, sw_error *err) {
    *ncopied = 0;
    if (!ipc || ipc->w[i].copied_ev < 0) return SW_OK;
    wave_ipc *w = &ipc->w[i];
    const sw_plan *p = ipc->x->plan;
    int32_t wave = p->tasks[ipc->x->tasks[ipc->x->wave0[i]]].wave;
    for (uint32_t k = 0; k < w->nrecv; k++) {
        const rx *r = &ipc->rx[w->recv0 + k];
        const sw_msg *to = NULL;
        for (size_t j = 0; j < nr && !to; j++)
            if (recvs[j].task == r->task) to = &recvs[j];
        if (!to || to->bytes != r->bytes)
            return sw__err(err, SW_INTERNAL, "rank %d: wave %d: an IPC receive the executor did not post", ipc->rank, wave);
        SW_CHECK(wait_peer(ipc, r->peer, r->ev, seq, stream, "packed its message", wave, err));
        cudaError_t e = cudaMemcpyAsync(to->buf, ipc->peers[r->peer].base + r->off, (size_t)r->bytes,
                                        cudaMemcpyDeviceToDevice, (cudaStream_t)stream);
        if (e != cudaSuccess) return cuda_fail(e, "cudaMemcpyAsync (a CUDA IPC message)", ipc->rank, err);
        (*ncopied)++;
    }
    cudaError_t e = cudaEventRecord(ipc->ev[w->copied_ev], (cudaStream_t)stream);
    if (e != cudaSuccess) return cuda_fail(e, "cudaEventRecord (an interprocess event)", ipc->rank, err);
    __atomic_store_n(&ipc->mine.seq[w->copied_ev], seq, __ATOMIC_RELEASE);
    return SW_OK;
}

int sw_nccl_ipc_flush(sw_nccl_ipc *ipc, void *stream, sw_error *err) {
    if (!ipc) return SW_OK;
    for (int h = 0; h < 2; h++)
        for (size_t k = 0; k < ipc->ntodo[h]; k++) {
            const pending *t = &ipc->todo[h][k];
            SW_CHECK(wait_peer(ipc, t->peer, t->ev, t->seq, stream, "copied what this rank sent it", -1, err));
        }
    return SW_OK;
}
