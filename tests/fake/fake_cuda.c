/*
 * fake_cuda.c - the fake CUDA runtime and NCCL of fake_cuda.h (test code: its state is
 * global, behind one mutex; every rank of a test is a thread).
 */
#define _GNU_SOURCE
#pragma GCC visibility push(default)
#include <cuda_runtime_api.h>
#include <nccl.h>
#pragma GCC visibility pop

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_cuda.h"
#include "fake_int.h"

#define API __attribute__((visibility("default")))
#define MAXDEV 8

/* ---- state ------------------------------------------------------------------------------ */

pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;
static __thread int tl_dev;
static __thread cudaError_t tl_last;

typedef struct alloc {
    struct alloc *next;
    uint8_t *p;
    size_t n;
    int dev, host, exported;
} alloc;

struct CUevent_st {
    struct CUevent_st *target; /* an IPC-opened handle: the exporter's event */
    int dev, interprocess, timing_disabled;
    uint64_t rec, done;        /* records made, the latest completed */
};

typedef enum { OP_RECORD, OP_WAIT, OP_FN, OP_COPY, OP_GROUP, OP_WAITSTREAM } op_kind;

typedef struct p2p {
    int send, peer;
    void *buf;
    size_t n;
    int posted, done;
} p2p;

typedef struct op {
    struct op *next;
    op_kind kind;
    uint64_t tick;
    struct CUevent_st *ev;
    uint64_t gen;
    void (*fn)(void *arg, int dev);
    void *arg;
    void *dst;
    const void *src;
    void *own; /* a copy of the source taken at the call (pageable memcpy) */
    size_t n;
    struct ncclComm *comm;
    p2p *parts;
    int nparts;
    struct CUstream_st *stream;
    uint64_t seq;
} op;

struct CUstream_st {
    struct CUstream_st *next_live;
    int dev, nonblocking, legacy, destroyed;
    op *head, *tail;
    uint64_t enq, done;
};

typedef struct world {
    struct world *next;
    ncclUniqueId id;
    int nranks, joined;
    ncclResult_t error;
    struct ncclComm **comms;
} world;

struct ncclComm {
    world *w;
    int rank, dev, blocking, aborted, destroyed;
    int groups_queued; /* groups on its streams, not complete */
    ncclResult_t async;
    uint64_t ready_at;
    char bus[32];
};

/* a send posted by a group at the head of its stream, waiting for its receive */
typedef struct chan_msg {
    struct chan_msg *next;
    world *w;
    int src, dst;
    p2p *part;
} chan_msg;

static struct {
    int ndev;
    unsigned lag;
    uint64_t tick;
    unsigned fault_kernel, fail_send;
    int fail_group_end;
    int nccl_version;
    char bus[MAXDEV][32];
    int sticky[MAXDEV];
    int stalled[64];
    alloc *allocs;
    struct CUstream_st *streams; /* live streams, legacy ones included */
    struct CUstream_st legacy[MAXDEV];
    world *worlds;
    chan_msg *chan;
    int live_streams, live_events, live_allocs, live_comms;
    uint64_t uid_counter;
    fake_stats st;
    struct {
        const uint8_t *p;
        size_t n;
    } watch[4096];
    int nwatch;
} F = {.ndev = 2, .nccl_version = NCCL_VERSION_CODE};

static __thread struct {
    int depth;
    struct {
        struct ncclComm *comm;
        struct CUstream_st *s;
        p2p part;
    } *parts;
    int n, cap;
} tl_group;

/* Freed objects are kept until fake_reset: a "process" (thread) may still hold an IPC
 * handle of another's event, or a queued wait on it, as separate processes could. */
typedef struct grave {
    struct grave *next;
    void *p;
} grave;
static grave *graves;
static void bury(void *p) {
    grave *g = malloc(sizeof *g);
    g->p = p;
    g->next = graves;
    graves = g;
}

static cudaError_t ret(cudaError_t e) {
    if (e != cudaSuccess) tl_last = e;
    return e;
}

static void lock(void) { pthread_mutex_lock(&fake_mu); }
static void unlock(void) { pthread_mutex_unlock(&fake_mu); }

static struct CUstream_st *stream_of(cudaStream_t s) { return s ? s : &F.legacy[tl_dev]; }
static struct CUevent_st *ev_of(cudaEvent_t e) { return e && e->target ? e->target : e; }

static alloc *find_alloc(const void *p) {
    for (alloc *a = F.allocs; a; a = a->next)
        if ((const uint8_t *)p >= a->p && (const uint8_t *)p < a->p + (a->n ? a->n : 1)) return a;
    return NULL;
}

/* ---- streams and progress ----------------------------------------------------------------- */

static void enqueue(struct CUstream_st *s, op *o) {
    o->tick = F.tick;
    o->stream = s;
    o->next = NULL;
    if (s->tail) s->tail->next = o;
    else s->head = o;
    s->tail = o;
    s->enq++;
}

/* A blocking stream waits for the legacy stream and the legacy stream for every blocking
 * stream of its device (the legacy default stream's implicit synchronization). */
static void implicit_sync(struct CUstream_st *s) {
    if (s->nonblocking) return;
    if (s->legacy) {
        for (struct CUstream_st *t = F.streams; t; t = t->next_live)
            if (t != s && !t->legacy && !t->nonblocking && t->dev == s->dev && t->enq > t->done) {
                op *o = calloc(1, sizeof *o);
                o->kind = OP_WAITSTREAM, o->ev = NULL, o->seq = t->enq, o->arg = t;
                enqueue(s, o);
            }
    } else {
        struct CUstream_st *l = &F.legacy[s->dev];
        if (l->enq > l->done) {
            op *o = calloc(1, sizeof *o);
            o->kind = OP_WAITSTREAM, o->seq = l->enq, o->arg = l;
            enqueue(s, o);
        }
    }
}

static void push(struct CUstream_st *s, op *o) {
    implicit_sync(s);
    enqueue(s, o);
}

static int stalled_comm(const struct ncclComm *c) { return c && c->rank < 64 && F.stalled[c->rank]; }

static int watched(const void *p, size_t n);

static chan_msg *find_send(world *w, int src, int dst) {
    for (chan_msg *m = F.chan; m; m = m->next)
        if (m->w == w && m->src == src && m->dst == dst && !m->part->done) return m;
    return NULL;
}

static void drop_chan(chan_msg *m) {
    for (chan_msg **pp = &F.chan; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            free(m);
            return;
        }
}

/* Advances a group at the head of its stream; 1 when it is complete. */
static int run_group(op *o) {
    struct ncclComm *c = o->comm;
    if (c->aborted || c->destroyed) return 1; /* an aborted communicator's kernels return */
    if (stalled_comm(c)) return 0;
    int done = 1;
    for (int k = 0; k < o->nparts; k++) {
        p2p *p = &o->parts[k];
        if (p->done) continue;
        if (p->send && !p->posted) {
            chan_msg *m = calloc(1, sizeof *m);
            m->w = c->w, m->src = c->rank, m->dst = p->peer, m->part = p;
            chan_msg **pp = &F.chan; /* in order: at the end */
            while (*pp) pp = &(*pp)->next;
            *pp = m;
            p->posted = 1;
        }
        if (!p->send) {
            chan_msg *m = find_send(c->w, p->peer, c->rank);
            if (m && !stalled_comm(c->w->comms[p->peer])) {
                if (m->part->n != p->n) {
                    fprintf(stderr, "fake nccl: rank %d receives %zu bytes from rank %d, which sends %zu\n", c->rank, p->n,
                            p->peer, m->part->n);
                    c->async = ncclInvalidUsage;
                }
                memcpy(p->buf, m->part->buf, p->n < m->part->n ? p->n : m->part->n);
                F.st.bytes_p2p += p->n;
                if (watched(m->part->buf, m->part->n)) F.st.bytes_sent_watched += m->part->n;
                if (watched(p->buf, p->n)) F.st.bytes_recv_watched += p->n;
                m->part->done = p->done = 1;
                drop_chan(m);
            }
        }
        if (!p->done) done = 0;
    }
    return done;
}

/* Runs what can run; 1 when something ran. */
static int pump(void) {
    F.tick++;
    int any = 0, progress = 1;
    while (progress) {
        progress = 0;
        for (struct CUstream_st *s = F.streams; s; s = s->next_live) {
            while (s->head) {
                op *o = s->head;
                if (F.tick < o->tick + F.lag) break;
                if (F.sticky[s->dev]) break; /* a dead context runs nothing more */
                int ok = 1;
                switch (o->kind) {
                case OP_RECORD:
                    if (o->gen > o->ev->done) o->ev->done = o->gen;
                    break;
                case OP_WAIT:
                    ok = o->ev->done >= o->gen;
                    break;
                case OP_WAITSTREAM:
                    ok = ((struct CUstream_st *)o->arg)->done >= o->seq;
                    break;
                case OP_FN:
                    if (F.sticky[s->dev]) break;
                    if (getenv("DBG")) fprintf(stderr, "kernel on stream %p dev %d\n", (void*)s, s->dev); /* a dead context runs nothing */
                    o->fn(o->arg, s->dev);
                    break;
                case OP_COPY:
                    if (F.sticky[s->dev]) break;
                    if (getenv("DBG")) fprintf(stderr, "copy %p <- %p (%zu) first bytes %02x %02x\n", o->dst, o->own ? o->own : o->src, o->n, ((uint8_t*)(o->own ? o->own : o->src))[0], ((uint8_t*)(o->own ? o->own : o->src))[1]);
                    memmove(o->dst, o->own ? o->own : o->src, o->n);
                    break;
                case OP_GROUP:
                    ok = run_group(o);
                    if (ok) o->comm->groups_queued--;
                    break;
                }
                if (!ok) break;
                s->head = o->next;
                if (!s->head) s->tail = NULL;
                s->done++;
                free(o->own);
                if (o->kind == OP_FN) free(o->arg);
                free(o->parts);
                free(o);
                progress = any = 1;
            }
        }
    }
    return any;
}

/* Runs until cond(arg) or a stall of 60 s (then the test is broken: abort). */
static void wait_until(int (*cond)(void *), void *arg) {
    double t0 = 0;
    for (;;) {
        pump();
        if (cond(arg) || F.sticky[tl_dev]) return; /* a dead context returns its error at once */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double t = (double)ts.tv_sec + ts.tv_nsec * 1e-9;
        if (!t0) t0 = t;
        if (t - t0 > 60) {
            fprintf(stderr, "fake cuda: a synchronization (device %d) waited 60 s: deadlock in the test; queued:\n",
                    tl_dev);
            for (struct CUstream_st *s = F.streams; s; s = s->next_live)
                if (s->head)
                    fprintf(stderr, "  stream %p of device %d: op kind %d (event %p gen %llu done %llu; comm rank %d "
                                    "aborted %d)\n",
                            (void *)s, s->dev, (int)s->head->kind, (void *)s->head->ev,
                            (unsigned long long)s->head->gen, s->head->ev ? (unsigned long long)s->head->ev->done : 0ull,
                            s->head->comm ? s->head->comm->rank : -1, s->head->comm ? s->head->comm->aborted : -1);
            abort();
        }
        unlock();
        struct timespec d = {0, 20000};
        nanosleep(&d, NULL);
        lock();
    }
}

static int stream_empty(void *a) { return !((struct CUstream_st *)a)->head; }
static int event_done(void *a) {
    struct CUevent_st *e = a;
    return e->done >= e->rec;
}
static int device_idle(void *a) {
    int dev = *(int *)a;
    for (struct CUstream_st *s = F.streams; s; s = s->next_live)
        if (s->dev == dev && s->head) return 0;
    return 1;
}

/* ---- the test's controls -------------------------------------------------------------------- */

API void fake_reset(int ndevices) {
    lock();
    while (graves) {
        grave *g = graves;
        graves = g->next;
        free(g->p);
        free(g);
    }
    while (F.worlds) {
        world *w = F.worlds;
        F.worlds = w->next;
        free(w->comms);
        free(w);
    }
    F.live_streams = F.live_events = F.live_allocs = F.live_comms = 0;
    F.ndev = ndevices;
    F.lag = 0;
    F.fault_kernel = F.fail_send = 0;
    F.fail_group_end = 0;
    F.nccl_version = NCCL_VERSION_CODE;
    memset(F.sticky, 0, sizeof F.sticky);
    memset(F.stalled, 0, sizeof F.stalled);
    for (int d = 0; d < MAXDEV; d++) {
        snprintf(F.bus[d], sizeof F.bus[d], "0000:%02x:00.0", 0x10 + d);
        F.legacy[d].dev = d;
        F.legacy[d].legacy = 1;
    }
    /* the legacy streams are always live */
    F.streams = NULL;
    for (int d = MAXDEV - 1; d >= 0; d--) {
        F.legacy[d].next_live = F.streams;
        F.legacy[d].head = F.legacy[d].tail = NULL;
        F.streams = &F.legacy[d];
    }
    memset(&F.st, 0, sizeof F.st);
    F.nwatch = 0;
    unlock();
}

API void fake_watch(const void *p, size_t n) {
    lock();
    if (F.nwatch < (int)(sizeof F.watch / sizeof *F.watch)) {
        F.watch[F.nwatch].p = p;
        F.watch[F.nwatch].n = n;
        F.nwatch++;
    }
    unlock();
}

/* Under the lock: 1 when [p, p + n) lies in a watched range. */
static int watched(const void *p, size_t n) {
    const uint8_t *b = p;
    for (int k = 0; k < F.nwatch; k++)
        if (b >= F.watch[k].p && b + n <= F.watch[k].p + F.watch[k].n) return 1;
    return 0;
}

/* Loaded into a program that does not call fake_reset (the shardwave command, through
 * LD_PRELOAD: tests/e2e/nccl_fake_cli.sh): FAKE_DEVICES devices (default 2).
 * FAKE_TRACE=1 prints cudaSetDevice calls. */
__attribute__((constructor)) static void fake_init(void) {
    const char *n = getenv("FAKE_DEVICES");
    fake_reset(n && atoi(n) > 0 && atoi(n) <= MAXDEV ? atoi(n) : 2);
}

API void fake_set_lag(unsigned ticks) {
    lock();
    F.lag = ticks;
    unlock();
}
API void fake_fault_kernel(unsigned k) {
    lock();
    F.fault_kernel = k;
    unlock();
}
API void fake_fail_send(unsigned k) {
    lock();
    F.fail_send = k;
    unlock();
}
API void fake_fail_group_end(int r) {
    lock();
    F.fail_group_end = r;
    unlock();
}
API void fake_set_nccl_version(int code) {
    lock();
    F.nccl_version = code;
    unlock();
}
API void fake_set_bus(int dev, const char *bus) {
    lock();
    snprintf(F.bus[dev], sizeof F.bus[dev], "%s", bus);
    unlock();
}
API void fake_stall_rank(int r, int on) {
    lock();
    F.stalled[r] = on;
    unlock();
}
API fake_stats fake_get_stats(void) {
    lock();
    fake_stats s = F.st;
    unlock();
    return s;
}
API int fake_live_objects(void) {
    lock();
    int n = F.live_streams + F.live_events + F.live_allocs + F.live_comms;
    unlock();
    return n;
}
API int fake_peek_last_error(void) { return (int)tl_last; }

/* For fake_kernels.c (under the lock). */
int fake_kernel_begin(void *stream, struct CUstream_st **s) {
    *s = stream_of(stream);
    F.st.launches++;
    /* kernels.cu clears the thread's last error before each launch (review F1); count
     * the launches that find one left behind */
    if (tl_last != cudaSuccess) F.st.stale_launches++;
    tl_last = cudaSuccess;
    if (F.sticky[tl_dev]) return ret((cudaError_t)F.sticky[tl_dev]);
    if ((*s)->dev != tl_dev || (*s)->destroyed) return ret(cudaErrorInvalidResourceHandle);
    return cudaSuccess;
}

void fake_kernel_enqueue(struct CUstream_st *s, void (*fn)(void *, int), void *arg) {
    op *o = calloc(1, sizeof *o);
    o->kind = OP_FN, o->fn = fn, o->arg = arg;
    push(s, o);
}

/* The launcher's `return cudaGetLastError()`. */
int fake_kernel_end(void) {
    cudaError_t e = tl_last;
    tl_last = cudaSuccess;
    return (int)e;
}

/* A kernel about to run on dev: 1 when it faults instead (injected). */
int fake_kernel_faults(int dev) {
    if (F.fault_kernel && --F.fault_kernel == 0) {
        F.sticky[dev] = cudaErrorIllegalAddress;
        return 1;
    }
    return 0;
}

void fake_device_fault(int dev, int code) {
    if (!F.sticky[dev]) F.sticky[dev] = code;
}

void fake_note_preload(void) { F.st.preloads++; }
void fake_note_moved(uint64_t packed, uint64_t unpacked) {
    F.st.bytes_kernel_packed += packed;
    F.st.bytes_kernel_unpacked += unpacked;
}

/* ---- the CUDA runtime ------------------------------------------------------------------------ */

#define STICKY()                                                         \
    do {                                                                 \
        if (F.sticky[tl_dev]) {                                          \
            cudaError_t e_ = (cudaError_t)F.sticky[tl_dev];              \
            unlock();                                                    \
            return ret(e_);                                              \
        }                                                                \
    } while (0)

API const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorNotReady: return "device not ready";
    case cudaErrorInvalidResourceHandle: return "invalid resource handle";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorPeerAccessUnsupported: return "peer access is not supported between these two devices";
    default: return "unknown error";
    }
}

API const char *cudaGetErrorName(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorNotReady: return "cudaErrorNotReady";
    case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    default: return "cudaErrorUnknown";
    }
}

API cudaError_t cudaGetLastError(void) {
    cudaError_t e = tl_last;
    tl_last = cudaSuccess;
    return e;
}
API cudaError_t cudaPeekAtLastError(void) { return tl_last; }

API cudaError_t cudaGetDeviceCount(int *n) {
    lock();
    *n = F.ndev;
    unlock();
    return ret(F.ndev ? cudaSuccess : cudaErrorNoDevice);
}

API cudaError_t cudaGetDevice(int *d) {
    *d = tl_dev;
    return cudaSuccess;
}

API cudaError_t cudaSetDevice(int d) {
    if (getenv("FAKE_TRACE")) fprintf(stderr, "fake cuda: cudaSetDevice(%d)\n", d);
    if (d < 0 || d >= F.ndev) return ret(cudaErrorInvalidDevice);
    tl_dev = d;
    return cudaSuccess;
}

API cudaError_t cudaDeviceGetPCIBusId(char *buf, int len, int dev) {
    if (dev < 0 || dev >= F.ndev) return ret(cudaErrorInvalidDevice);
    lock();
    snprintf(buf, (size_t)len, "%s", F.bus[dev]);
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaDeviceGetStreamPriorityRange(int *least, int *greatest) {
    *least = 0;
    *greatest = -5;
    return cudaSuccess;
}

static cudaError_t new_stream(cudaStream_t *ps, unsigned flags) {
    lock();
    STICKY();
    struct CUstream_st *s = calloc(1, sizeof *s);
    s->dev = tl_dev;
    s->nonblocking = (flags & cudaStreamNonBlocking) != 0;
    s->next_live = F.streams;
    F.streams = s;
    F.live_streams++;
    *ps = s;
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaStreamCreate(cudaStream_t *ps) { return new_stream(ps, 0); }
API cudaError_t cudaStreamCreateWithFlags(cudaStream_t *ps, unsigned int flags) { return new_stream(ps, flags); }
API cudaError_t cudaStreamCreateWithPriority(cudaStream_t *ps, unsigned int flags, int prio) {
    (void)prio;
    return new_stream(ps, flags);
}

API cudaError_t cudaStreamDestroy(cudaStream_t s) {
    if (!s) return ret(cudaErrorInvalidResourceHandle);
    lock();
    wait_until(stream_empty, s); /* its work completes, as on a GPU */
    while (s->head) { /* a dead context's: dropped */
        op *o = s->head;
        s->head = o->next;
        free(o->own);
        if (o->kind == OP_FN) free(o->arg);
        free(o->parts);
        free(o);
    }
    s->tail = NULL;
    for (struct CUstream_st **pp = &F.streams; *pp; pp = &(*pp)->next_live)
        if (*pp == s) {
            *pp = s->next_live;
            break;
        }
    F.live_streams--;
    bury(s);
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaStreamSynchronize(cudaStream_t st) {
    lock();
    struct CUstream_st *s = stream_of(st);
    wait_until(stream_empty, s);
    int sticky = F.sticky[s->dev];
    unlock();
    return ret((cudaError_t)sticky);
}

API cudaError_t cudaDeviceSynchronize(void) {
    lock();
    int d = tl_dev;
    wait_until(device_idle, &d);
    int sticky = F.sticky[d];
    unlock();
    return ret((cudaError_t)sticky);
}

API cudaError_t cudaEventCreateWithFlags(cudaEvent_t *pe, unsigned int flags) {
    lock();
    STICKY();
    if ((flags & cudaEventInterprocess) && !(flags & cudaEventDisableTiming)) {
        unlock();
        return ret(cudaErrorInvalidValue);
    }
    struct CUevent_st *e = calloc(1, sizeof *e);
    e->dev = tl_dev;
    e->interprocess = (flags & cudaEventInterprocess) != 0;
    e->timing_disabled = (flags & cudaEventDisableTiming) != 0;
    F.live_events++;
    *pe = e;
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaEventDestroy(cudaEvent_t e) {
    if (!e) return ret(cudaErrorInvalidResourceHandle);
    lock();
    F.live_events--;
    bury(e);
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaEventRecord(cudaEvent_t ev, cudaStream_t st) {
    lock();
    STICKY();
    struct CUstream_st *s = stream_of(st);
    struct CUevent_st *e = ev_of(ev);
    if (!e || e->dev != s->dev) {
        unlock();
        return ret(cudaErrorInvalidResourceHandle);
    }
    op *o = calloc(1, sizeof *o);
    o->kind = OP_RECORD, o->ev = e, o->gen = ++e->rec;
    if (getenv("DBG") && e->interprocess) fprintf(stderr, "record ipc event %p gen %llu on stream %p\n", (void*)e, (unsigned long long)o->gen, (void*)s);
    push(s, o);
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaEventQuery(cudaEvent_t ev) {
    lock();
    pump();
    struct CUevent_st *e = ev_of(ev);
    cudaError_t r = F.sticky[tl_dev] ? (cudaError_t)F.sticky[tl_dev] : e->done >= e->rec ? cudaSuccess : cudaErrorNotReady;
    if (r == cudaErrorNotReady) F.st.event_queries_not_ready++;
    unlock();
    return ret(r); /* cudaErrorNotReady too becomes the thread's last error, as in CUDA */
}

API cudaError_t cudaEventSynchronize(cudaEvent_t ev) {
    lock();
    wait_until(event_done, ev_of(ev));
    int sticky = F.sticky[tl_dev];
    unlock();
    return ret((cudaError_t)sticky);
}

API cudaError_t cudaStreamWaitEvent(cudaStream_t st, cudaEvent_t ev, unsigned int flags) {
    (void)flags;
    lock();
    STICKY();
    struct CUevent_st *e = ev_of(ev);
    if (!e) {
        unlock();
        return ret(cudaErrorInvalidResourceHandle);
    }
    if (getenv("DBG")) fprintf(stderr, "wait on event %p (target of %p) rec %llu done %llu\n", (void*)e, (void*)ev, (unsigned long long)e->rec, (unsigned long long)e->done);
    if (e->rec) { /* the record that is its latest now */
        op *o = calloc(1, sizeof *o);
        o->kind = OP_WAIT, o->ev = e, o->gen = e->rec;
        push(stream_of(st), o);
    }
    unlock();
    return cudaSuccess;
}

static cudaError_t do_malloc(void **p, size_t n, int host) {
    lock();
    if (!host) STICKY();
    alloc *a = calloc(1, sizeof *a);
    a->n = n;
    a->p = aligned_alloc(256, (n + 255) / 256 * 256 + 256);
    memset(a->p, 0xEE, (n + 255) / 256 * 256 + 256); /* uninitialised memory is not zero */
    a->dev = tl_dev;
    a->host = host;
    a->next = F.allocs;
    F.allocs = a;
    F.live_allocs++;
    if (!host) {
        F.st.alloc_bytes[tl_dev] += n;
        if (F.st.alloc_bytes[tl_dev] > F.st.alloc_peak[tl_dev]) F.st.alloc_peak[tl_dev] = F.st.alloc_bytes[tl_dev];
    }
    *p = a->p;
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaMalloc(void **p, size_t n) { return do_malloc(p, n, 0); }
API cudaError_t cudaMallocHost(void **p, size_t n) { return do_malloc(p, n, 1); }

static cudaError_t do_free(void *p) {
    if (!p) return cudaSuccess;
    lock();
    for (alloc **pp = &F.allocs; *pp; pp = &(*pp)->next)
        if ((*pp)->p == p) {
            alloc *a = *pp;
            *pp = a->next;
            if (!a->host) F.st.alloc_bytes[a->dev] -= a->n;
            for (int k = 0; k < F.nwatch; k++)
                if (F.watch[k].p == a->p) F.watch[k--] = F.watch[--F.nwatch];
            free(a->p);
            free(a);
            F.live_allocs--;
            unlock();
            return cudaSuccess;
        }
    unlock();
    return ret(cudaErrorInvalidValue);
}

API cudaError_t cudaFree(void *p) { return do_free(p); }
API cudaError_t cudaFreeHost(void *p) { return do_free(p); }

API cudaError_t cudaMemset(void *p, int v, size_t n) {
    lock();
    STICKY();
    int d = tl_dev;
    wait_until(device_idle, &d);
    memset(p, v, n);
    unlock();
    return cudaSuccess;
}

static int is_pinned_or_device(const void *p) { return find_alloc(p) != NULL; }

API cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind) {
    lock();
    STICKY();
    struct CUstream_st *l = &F.legacy[tl_dev];
    op *o = calloc(1, sizeof *o);
    o->kind = OP_COPY, o->dst = dst, o->src = src, o->n = n;
    if (kind == cudaMemcpyHostToDevice && !is_pinned_or_device(src)) {
        /* pageable: the source is staged now, the copy lands when the legacy stream gets
         * to it (it may return before: review F7) */
        o->own = malloc(n ? n : 1);
        memcpy(o->own, src, n);
        push(l, o);
        o->tick += 4 * F.lag; /* and the DMA lands a while later (with a lag set) */
        pump();
    } else {
        push(l, o);
        wait_until(stream_empty, l);
    }
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind, cudaStream_t st) {
    lock();
    STICKY();
    op *o = calloc(1, sizeof *o);
    o->kind = OP_COPY, o->dst = dst, o->src = src, o->n = n;
    if (kind == cudaMemcpyDeviceToDevice) F.st.bytes_ipc_copied += n; /* the backend's only: CUDA IPC */
    push(stream_of(st), o);
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes *attr, const void *func) {
    (void)func;
    memset(attr, 0, sizeof *attr);
    return cudaSuccess;
}

/* ---- CUDA IPC ------------------------------------------------------------------------------ */

typedef struct ipc_payload {
    uint64_t magic;
    void *p;
} ipc_payload;

API cudaError_t cudaIpcGetMemHandle(cudaIpcMemHandle_t *h, void *p) {
    lock();
    alloc *a = find_alloc(p);
    if (!a || a->p != p || a->host) {
        unlock();
        return ret(cudaErrorInvalidValue); /* the base of a device allocation only */
    }
    a->exported = 1;
    memset(h, 0, sizeof *h);
    ipc_payload pl = {0x6d656d6970636d01ull, p};
    memcpy(h->reserved, &pl, sizeof pl);
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaIpcOpenMemHandle(void **p, cudaIpcMemHandle_t h, unsigned int flags) {
    ipc_payload pl;
    memcpy(&pl, h.reserved, sizeof pl);
    lock();
    alloc *a = pl.magic == 0x6d656d6970636d01ull ? find_alloc(pl.p) : NULL;
    if (!a || !a->exported) {
        unlock();
        return ret(cudaErrorInvalidResourceHandle);
    }
    if (a->dev != tl_dev && !(flags & cudaIpcMemLazyEnablePeerAccess)) {
        unlock();
        return ret(cudaErrorPeerAccessUnsupported);
    }
    F.st.ipc_mem_opened++;
    *p = pl.p;
    unlock();
    return cudaSuccess;
}

API cudaError_t cudaIpcCloseMemHandle(void *p) {
    (void)p;
    return cudaSuccess;
}

API cudaError_t cudaIpcGetEventHandle(cudaIpcEventHandle_t *h, cudaEvent_t ev) {
    if (!ev || !ev->interprocess || !ev->timing_disabled) return ret(cudaErrorInvalidResourceHandle);
    memset(h, 0, sizeof *h);
    ipc_payload pl = {0x6576656970636501ull, ev};
    memcpy(h->reserved, &pl, sizeof pl);
    return cudaSuccess;
}

API cudaError_t cudaIpcOpenEventHandle(cudaEvent_t *pe, cudaIpcEventHandle_t h) {
    ipc_payload pl;
    memcpy(&pl, h.reserved, sizeof pl);
    if (pl.magic != 0x6576656970636501ull) return ret(cudaErrorInvalidResourceHandle);
    lock();
    struct CUevent_st *e = calloc(1, sizeof *e);
    e->target = pl.p;
    e->dev = e->target->dev;
    F.live_events++;
    F.st.ipc_ev_opened++;
    *pe = e;
    unlock();
    return cudaSuccess;
}

/* ---- NCCL ------------------------------------------------------------------------------------- */

API const char *ncclGetErrorString(ncclResult_t r) {
    switch (r) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error";
    case ncclSystemError: return "unhandled system error";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    case ncclRemoteError: return "remote process exited or there was a network error";
    case ncclInProgress: return "NCCL operation in progress";
    default: return "unknown result code";
    }
}

API const char *ncclGetLastError(ncclComm_t c) {
    (void)c;
    return "";
}

API ncclResult_t ncclGetVersion(int *v) {
    lock();
    *v = F.nccl_version;
    unlock();
    return ncclSuccess;
}

API ncclResult_t ncclGetUniqueId(ncclUniqueId *id) {
    lock();
    memset(id, 0, sizeof *id);
    uint64_t k = ++F.uid_counter ^ 0x5a5a000000000000ull;
    memcpy(id->internal, "fakeid", 6);
    memcpy(id->internal + 8, &k, sizeof k);
    unlock();
    return ncclSuccess;
}

static int all_joined(void *a) {
    world *w = a;
    return w->joined == w->nranks || w->error != ncclSuccess;
}

API ncclResult_t ncclCommInitRankConfig(ncclComm_t *out, int n, ncclUniqueId id, int rank, ncclConfig_t *cfg) {
    if (n < 1 || rank < 0 || rank >= n) return ncclInvalidArgument;
    lock();
    world *w = F.worlds;
    while (w && memcmp(&w->id, &id, sizeof id)) w = w->next;
    if (!w) {
        w = calloc(1, sizeof *w);
        w->id = id;
        w->nranks = n;
        w->comms = calloc((size_t)n, sizeof *w->comms);
        w->next = F.worlds;
        F.worlds = w;
    }
    if (w->nranks != n || w->comms[rank]) {
        unlock();
        return ncclInvalidArgument;
    }
    struct ncclComm *c = calloc(1, sizeof *c);
    c->w = w, c->rank = rank, c->dev = tl_dev, c->blocking = !cfg || cfg->blocking != 0;
    snprintf(c->bus, sizeof c->bus, "%s", F.bus[tl_dev]);
    /* NCCL's duplicate-GPU check (one host here) */
    for (int k = 0; k < n; k++)
        if (w->comms[k] && !strcmp(w->comms[k]->bus, c->bus)) {
            fprintf(stderr, "fake nccl: Duplicate GPU detected: rank %d and rank %d both on CUDA device %s\n", k, rank,
                    c->bus);
            w->error = ncclInvalidUsage;
        }
    w->comms[rank] = c;
    w->joined++;
    F.live_comms++;
    *out = c;
    c->async = ncclInProgress;
    if (c->blocking) {
        wait_until(all_joined, w);
        c->async = w->error;
        unlock();
        return w->error;
    }
    unlock();
    return ncclInProgress;
}

API ncclResult_t ncclCommInitRank(ncclComm_t *out, int n, ncclUniqueId id, int rank) {
    return ncclCommInitRankConfig(out, n, id, rank, NULL);
}

API ncclResult_t ncclCommGetAsyncError(ncclComm_t c, ncclResult_t *st) {
    lock();
    pump();
    if (c->async == ncclInProgress) {
        if (c->w->error != ncclSuccess) c->async = c->w->error;
        else if (c->w->joined == c->w->nranks && F.tick >= c->ready_at) c->async = ncclSuccess;
    }
    *st = c->aborted ? ncclSuccess : c->async;
    unlock();
    return ncclSuccess;
}

API ncclResult_t ncclCommUserRank(const ncclComm_t c, int *r) {
    *r = c->rank;
    return ncclSuccess;
}
API ncclResult_t ncclCommCount(const ncclComm_t c, int *n) {
    *n = c->w->nranks;
    return ncclSuccess;
}
API ncclResult_t ncclCommCuDevice(const ncclComm_t c, int *d) {
    *d = c->dev;
    return ncclSuccess;
}

API ncclResult_t ncclCommAbort(ncclComm_t c) {
    lock();
    c->aborted = 1;
    /* its queued groups finish (kernels return) */
    pump();
    for (chan_msg *m = F.chan, *nx; m; m = nx) {
        nx = m->next;
        if (m->w == c->w && m->src == c->rank) drop_chan(m);
    }
    c->w->comms[c->rank] = NULL;
    c->destroyed = 1;
    F.live_comms--;
    bury(c);
    unlock();
    return ncclSuccess; /* frees it (the caller must not destroy it) */
}

API ncclResult_t ncclCommFinalize(ncclComm_t c) {
    lock();
    if (!c->blocking) {
        c->async = ncclInProgress;
        c->ready_at = F.tick + 2;
        unlock();
        return ncclInProgress;
    }
    unlock();
    return ncclSuccess;
}

API ncclResult_t ncclCommDestroy(ncclComm_t c) {
    lock();
    if (c->destroyed) { /* destroyed twice (or after an abort): the real library crashes */
        fprintf(stderr, "fake nccl: ncclCommDestroy on a freed communicator\n");
        abort();
    }
    c->destroyed = 1;
    c->w->comms[c->rank] = NULL;
    F.live_comms--;
    bury(c);
    unlock();
    return ncclSuccess;
}

API ncclResult_t ncclGroupStart(void) {
    tl_group.depth++;
    return ncclSuccess;
}

static ncclResult_t add_part(int send, const void *buf, size_t n, int peer, ncclComm_t c, cudaStream_t st) {
    if (!c || c->destroyed) return ncclInvalidArgument;
    if (peer < 0 || peer >= c->w->nranks) return ncclInvalidArgument;
    lock();
    if (send && F.fail_send && --F.fail_send == 0) {
        unlock();
        return ncclInvalidArgument;
    }
    if (send) F.st.sends++;
    else F.st.recvs++;
    unlock();
    if (tl_group.n == tl_group.cap) {
        tl_group.cap = tl_group.cap ? 2 * tl_group.cap : 16;
        tl_group.parts = realloc(tl_group.parts, (size_t)tl_group.cap * sizeof *tl_group.parts);
    }
    tl_group.parts[tl_group.n].comm = c;
    tl_group.parts[tl_group.n].s = stream_of(st);
    tl_group.parts[tl_group.n].part = (p2p){send, peer, (void *)buf, n, 0, 0};
    tl_group.n++;
    if (!tl_group.depth) {
        ncclGroupStart();
        return ncclGroupEnd();
    }
    return ncclSuccess;
}

API ncclResult_t ncclSend(const void *buf, size_t count, ncclDataType_t dt, int peer, ncclComm_t c, cudaStream_t st) {
    (void)dt;
    return add_part(1, buf, count, peer, c, st);
}

API ncclResult_t ncclRecv(void *buf, size_t count, ncclDataType_t dt, int peer, ncclComm_t c, cudaStream_t st) {
    (void)dt;
    return add_part(0, buf, count, peer, c, st);
}

API ncclResult_t ncclGroupEnd(void) {
    if (--tl_group.depth > 0) return ncclSuccess;
    lock();
    F.st.group_ends++;
    ncclResult_t r = ncclSuccess;
    if (F.fail_group_end) {
        r = (ncclResult_t)F.fail_group_end;
        F.fail_group_end = 0;
        for (int k = 0; k < tl_group.n; k++) tl_group.parts[k].comm->async = r;
        tl_group.n = 0;
        free(tl_group.parts);
        tl_group.parts = NULL;
        tl_group.cap = 0;
        unlock();
        return r;
    }
    /* one group per (communicator, stream) */
    for (int k = 0; k < tl_group.n; k++) {
        if (!tl_group.parts[k].comm) continue;
        struct ncclComm *c = tl_group.parts[k].comm;
        struct CUstream_st *s = tl_group.parts[k].s;
        if (s->dev != c->dev) r = ncclInvalidUsage;
        op *o = calloc(1, sizeof *o);
        o->kind = OP_GROUP, o->comm = c;
        o->parts = calloc((size_t)tl_group.n, sizeof *o->parts);
        for (int j = k; j < tl_group.n; j++)
            if (tl_group.parts[j].comm == c && tl_group.parts[j].s == s) {
                o->parts[o->nparts++] = tl_group.parts[j].part;
                tl_group.parts[j].comm = NULL;
            }
        push(s, o);
        if (++c->groups_queued > (int)F.st.max_groups_queued) F.st.max_groups_queued = (uint64_t)c->groups_queued;
        if (!c->blocking) {
            c->async = ncclInProgress;
            c->ready_at = F.tick + 2;
            r = r == ncclSuccess ? ncclInProgress : r;
        }
    }
    tl_group.n = 0;
    free(tl_group.parts);
    tl_group.parts = NULL;
    tl_group.cap = 0;
    unlock();
    return r;
}
