/*
 * rounds.c - compile stages 4 and 5 of the optimal scheduler together: the messages are
 * cut into chunks while the waves are built, one wave (a round) at a time.
 *
 * Each (source, destination, stage) pair of ranks is one stream of transfer elements;
 * a relay forward's stream grows as its leader receives what it forwards.  A round gives
 * every port (rank, link class, direction) at most one chunk, ports in order of their
 * projected finish (the rank's estimated time plus the port's remaining work, latencies
 * included), each taking the pair whose partner port is free, waits least and has most
 * left to do.  Chunks are the pair's remaining bytes in equal parts within the class's
 * cap (no short remainder), so the chunks of one round are alike and the critical ports
 * never idle behind a small task; the busy ports of a class are cut into about as many
 * chunks each (equal_pace), so that ranks coupled by forwards keep one pace.  The times are the simulator's communication-only
 * model (sim.h) without NIC sharing: a task starts when both ranks have finished their
 * previous rounds and its inputs have arrived.
 */
#include "compile_int.h"

#include <stdlib.h>
#include <string.h>

#include "sort.h"

/* One range of a stream: elements [elem0, elem0 + nelem) of a transfer; for a forward,
 * the task that brings them to the leader and its round. */
typedef struct rent {
    uint32_t xfer, dep;
    int32_t round;
    uint64_t elem0, nelem;
} rent;

typedef struct rpair {
    uint32_t si, di;      /* rank indices */
    uint8_t cls, fwd;
    uint64_t rem;         /* bytes not yet in a chunk */
    uint64_t avail;       /* forward: bytes that have arrived at the leader (before this round) */
    uint64_t fresh;       /* forward: bytes arriving in this round */
    rent *e;
    uint32_t ne, head;
    size_t cap;
    uint64_t head_done;   /* elements of e[head] already in chunks */
    double fwd_t;         /* time of the forwards of what is left (bytes x followers / their bandwidth) */
    uint64_t kleft;       /* chunks it is still to be cut into (at least what the cap needs): equal_pace */
} rpair;

typedef struct rport {
    double rem_t;         /* remaining time: bytes / bandwidth + a latency per pending pair */
    uint32_t p0, np;      /* its pairs not known to be done: pidx[p0 .. p0 + np) */
    int32_t taken;        /* round in which it is busy */
} rport;

typedef struct pkey {
    double prio;
    uint32_t port;
} pkey;

static inline int pkey_before(const pkey *x, const pkey *y) {
    if (x->prio != y->prio) return x->prio > y->prio;
    return x->port < y->port;
}
SW_SORT_DEFINE(sort_pkey, pkey, pkey_before)

typedef struct pairkey {
    uint32_t si, di, fwd, idx;
} pairkey;

static inline int pairkey_before(const pairkey *x, const pairkey *y) {
    if (x->si != y->si) return x->si < y->si;
    if (x->di != y->di) return x->di < y->di;
    if (x->fwd != y->fwd) return x->fwd < y->fwd;
    return x->idx < y->idx;
}
SW_SORT_DEFINE(sort_pairkey, pairkey, pairkey_before)

typedef struct rstate {
    cstate *C;
    build *B;
    rpair *P;
    size_t nP;
    rport *ports;
    uint32_t *pidx;
    uint32_t *xpair;      /* per transfer: its pair */
    uint32_t *f0, *fl;    /* per transfer: its followers' transfers fl[f0[x] .. f0[x+1]) */
    double *t;            /* per rank: end of its last round (estimate) */
    double *tnew;
    double *tend;         /* per task: estimated end */
    uint32_t *touched;    /* forward pairs with fresh bytes this round */
    size_t ntouched;
    uint32_t *deptmp;
    size_t capdep;
    uint8_t *es;          /* per transfer: bytes of its source element (read often: a byte
                             array stays in cache where the records it comes from do not) */
    uint64_t cap[SW_LINK_COUNT]; /* chunk cap per class (at most the plan's) */
} rstate;

static size_t port_of(uint32_t ri, int cls, int dir) { return ((size_t)ri * SW_LINK_COUNT + (size_t)cls) * 2 + (size_t)dir; }

static uint64_t xfer_es(const rstate *R, uint32_t x) { return R->es[x]; }

static int push_ent(rstate *R, rpair *q, rent e) {
    if (SW_GROW(q->e, q->cap, q->ne + 1)) return sw__compile_nomem(R->C);
    q->e[q->ne++] = e;
    return SW_OK;
}

/* The number of chunks pair q's remaining bytes are cut into: as planned (equal_pace),
 * at least what the class's cap needs. */
static uint64_t chunk_count(const rstate *R, const rpair *q) {
    uint64_t cap = R->cap[q->cls];
    if (cap < 1) cap = 1;
    uint64_t k = q->rem / cap + (q->rem % cap != 0);
    if (k < q->kleft) k = q->kleft;
    return k ? k : 1;
}

/* The size of the next chunk of pair q: its remaining bytes in equal parts within the cap. */
static uint64_t chunk_target(const rstate *R, const rpair *q) {
    uint64_t k = chunk_count(R, q);
    return q->rem / k + (q->rem % k != 0);
}

/* Whether pair q can send in round w: a forward once a whole chunk (or all that is left)
 * has arrived, or at least what its link moves in its latency (the break-even of
 * pipelining the forward behind its inputs). */
static int ready(const rstate *R, const rpair *q) {
    if (!q->rem) return 0;
    if (!q->fwd) return 1;
    uint64_t tgt = chunk_target(R, q);
    const sw_link *l = &R->C->p->topo.link[q->cls];
    double brk = l->latency * l->bandwidth;
    if (brk < (double)tgt * 0.5) brk = (double)tgt * 0.5;
    if (chunk_count(R, q) > 1) return q->avail >= tgt;
    return q->avail >= tgt || q->avail >= q->rem || (double)q->avail >= brk;
}

/* Cuts the next chunk of pair qi into a task of round w. */
static int cut(rstate *R, uint32_t qi, int32_t w) {
    cstate *C = R->C;
    build *B = R->B;
    rpair *q = &R->P[qi];
    sw_plan *p = C->p;
    uint64_t tgt = chunk_target(R, q);
    q->kleft = chunk_count(R, q) - 1;
    /* the last chunk takes all that is left, also the padding of aligned segments (at most
     * 7 bytes each), instead of leaving a few bytes to a chunk of their own */
    if (q->fwd && tgt > q->avail) tgt = q->avail;
    if (tgt >= q->rem) tgt = q->rem + 7 * (uint64_t)(q->ne - q->head);
    if (SW_GROW(B->T, B->capT, B->nT + 1)) return sw__compile_nomem(C);
    uint32_t ti = (uint32_t)B->nT++;
    sw_plan_task *t = &B->T[ti];
    memset(t, 0, sizeof *t);
    t->src = p->ranks[q->si].rank;
    t->dst = p->ranks[q->di].rank;
    t->cls = q->cls;
    t->relay = q->fwd;
    t->wave = w;
    t->seg0 = (uint32_t)B->nG;
    size_t nd = 0;
    uint64_t cur = 0, pay = 0; /* the message's bytes (with the padding of aligned segments), its payload */
    while (q->head < q->ne) {
        rent *e = &q->e[q->head];
        if (q->fwd && e->round >= w) break;
        uint64_t es = xfer_es(R, e->xfer), left = e->nelem - q->head_done;
        uint64_t at = sw_plan_seg_start(cur, es); /* each segment at a multiple of its element size (plan.h) */
        uint64_t room = tgt > at ? tgt - at : 0;
        if (room < es && cur > 0) break;
        uint64_t take = room / es;
        if (take < 1) take = 1;
        if (take > left) take = left;
        if (SW_GROW(B->G, B->capG, B->nG + 1)) return sw__compile_nomem(C);
        uint64_t e0 = e->elem0 + q->head_done;
        B->G[B->nG++] = (sw_plan_seg){e->xfer, e0, take};
        cur = at + take * es;
        pay += take * es;
        if (q->fwd) {
            if (SW_GROW(R->deptmp, R->capdep, nd + 1)) return sw__compile_nomem(C);
            R->deptmp[nd++] = e->dep;
        } else {
            /* what the leader will forward: its followers' streams grow */
            uint32_t x = e->xfer;
            for (uint32_t k = R->f0[x]; k < R->f0[x + 1]; k++) {
                uint32_t fx = R->fl[k];
                rpair *fq = &R->P[R->xpair[fx]];
                q->fwd_t -= (double)(take * xfer_es(R, fx)) / p->topo.link[fq->cls].bandwidth;
                SW_CHECK(push_ent(R, fq, (rent){fx, ti, w, e0, take}));
                uint64_t fb = take * xfer_es(R, fx);
                if (!fq->fresh) R->touched[R->ntouched++] = R->xpair[fx];
                fq->fresh += fb;
            }
        }
        q->head_done += take;
        if (q->head_done == e->nelem) {
            q->head++;
            q->head_done = 0;
        }
    }
    t = &B->T[ti];
    t->nseg = (uint32_t)(B->nG - t->seg0);
    t->bytes = cur;
    q->rem -= pay < q->rem ? pay : q->rem;
    if (q->fwd) q->avail -= pay < q->avail ? pay : q->avail;
    /* deps: the distinct tasks that brought the forwarded elements */
    t->dep0 = (uint32_t)B->nD;
    for (size_t i = 1; i < nd; i++)
        for (size_t j = i; j > 0 && R->deptmp[j - 1] > R->deptmp[j]; j--) {
            uint32_t s = R->deptmp[j];
            R->deptmp[j] = R->deptmp[j - 1];
            R->deptmp[j - 1] = s;
        }
    for (size_t i = 0; i < nd; i++) {
        if (i && R->deptmp[i] == R->deptmp[i - 1]) continue;
        if (SW_GROW(B->D, B->capD, B->nD + 1)) return sw__compile_nomem(C);
        B->D[B->nD++] = R->deptmp[i];
    }
    B->T[ti].ndep = (uint32_t)(B->nD - B->T[ti].dep0);
    /* the estimated times */
    const sw_link *l = &p->topo.link[q->cls];
    double start = R->t[q->si] > R->t[q->di] ? R->t[q->si] : R->t[q->di];
    for (uint32_t k = 0; k < B->T[ti].ndep; k++) {
        double de = R->tend[B->D[B->T[ti].dep0 + k]];
        if (de > start) start = de;
    }
    double end = start + l->latency + (double)cur / l->bandwidth;
    R->tend[ti] = end;
    if (end > R->tnew[q->si]) R->tnew[q->si] = end;
    if (end > R->tnew[q->di]) R->tnew[q->di] = end;
    /* the ports' remaining time */
    double dt = (double)cur / l->bandwidth + (q->rem ? 0 : l->latency);
    R->ports[port_of(q->si, q->cls, 0)].rem_t -= dt;
    R->ports[port_of(q->di, q->cls, 1)].rem_t -= dt;
    return SW_OK;
}

/* Equal pace.  Ranks are coupled: a rank's round ends when all its tasks of the round end,
 * and a relay forward between two ranks of a host runs when both have reached its round.
 * When two busy ports of a class need different numbers of rounds for about the same
 * bytes (pairs cut in equal parts: 7 chunks of 42 MiB on one, 6 of 47 MiB on the other),
 * the one with fewer, longer chunks sets the pace of the rounds they share and the other
 * still needs its more rounds: it drifts ahead, waits at every forward between the two,
 * and ends about (its rounds) x (the other's chunk time) (DeepSeek-V3 fp8: 101 against
 * 109 rounds on the 256 inference ranks' network receive ports, 1.069x).  So the busy
 * ports of a class (within 10% of its busiest port's time, latencies included) set a
 * pace, the smallest mean chunk among them (never below half the cap: equal parts never
 * are), and a busy port whose mean chunk is more than 2% above the pace is cut into as
 * many chunks as its bytes need at the pace, one more chunk at a time to its pair of
 * largest chunks.  Ports with more slack keep their chunks (a pace for every port cut the
 * senders' pairs, and so the busy receivers', finer for nothing); a 2% margin keeps ports
 * that differ by a few bytes as they are.  The caps only shrink: staging stays within
 * the bucket. */
static int equal_pace(rstate *R, size_t nports) {
    const sw_plan *p = R->C->p;
    const double theta = 0.9, eps = 0.02;
    uint32_t *k = malloc((R->nP + 1) * sizeof *k);
    if (!k) return sw__compile_nomem(R->C);
    for (size_t i = 0; i < R->nP; i++) {
        uint64_t cap = R->cap[R->P[i].cls] ? R->cap[R->P[i].cls] : 1, b = R->P[i].rem;
        k[i] = (uint32_t)(b / cap + (b % cap != 0));
    }
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        const sw_link *l = &p->topo.link[c];
        double tmax = 0, pace = 0;
        for (int pass = 0; pass < 2; pass++)
            for (size_t o = (size_t)c * 2; o < nports; o += 2 * SW_LINK_COUNT)
                for (size_t pk = o; pk < o + 2; pk++) {
                    const rport *pt = &R->ports[pk];
                    double b = 0, n = 0;
                    for (uint32_t j = 0; j < pt->np; j++) {
                        b += (double)R->P[R->pidx[pt->p0 + j]].rem;
                        n += k[R->pidx[pt->p0 + j]];
                    }
                    if (!n) continue;
                    double t = b / l->bandwidth + n * l->latency;
                    if (!pass && t > tmax) tmax = t;
                    if (pass && t >= theta * tmax && (pace == 0 || b / n < pace)) pace = b / n;
                }
        if (tmax <= 0) continue;
        if (pace < 0.5 * (double)R->cap[c]) pace = 0.5 * (double)R->cap[c];
        for (size_t o = (size_t)c * 2; o < nports; o += 2 * SW_LINK_COUNT)
            for (size_t pk = o; pk < o + 2; pk++) {
                const rport *pt = &R->ports[pk];
                double b = 0;
                uint64_t n = 0;
                for (uint32_t j = 0; j < pt->np; j++) {
                    b += (double)R->P[R->pidx[pt->p0 + j]].rem;
                    n += k[R->pidx[pt->p0 + j]];
                }
                if (!n || b / l->bandwidth + (double)n * l->latency < theta * tmax) continue; /* slack enough */
                if (b / (double)n <= pace * (1 + eps)) continue; /* close enough to the pace */
                double want = b / pace - 1e-9;
                uint64_t nneed = want > 0 ? (uint64_t)want + ((double)(uint64_t)want < want) : 0;
                if (nneed <= n) continue;
                if ((nneed - n) * pt->np > ((uint64_t)1 << 22)) { /* many pairs: each within the pace */
                    for (uint32_t j = 0; j < pt->np; j++) {
                        uint32_t qi = R->pidx[pt->p0 + j];
                        double kk = (double)R->P[qi].rem / pace;
                        uint32_t want_k = (uint32_t)kk + ((double)(uint32_t)kk < kk);
                        if (want_k > k[qi]) k[qi] = want_k;
                    }
                    continue;
                }
                for (; n < nneed; n++) {
                    long best = -1;
                    double bs = 0;
                    for (uint32_t j = 0; j < pt->np; j++) {
                        uint32_t qi = R->pidx[pt->p0 + j];
                        double cs = (double)R->P[qi].rem / k[qi];
                        if (best < 0 || cs > bs) {
                            best = (long)qi;
                            bs = cs;
                        }
                    }
                    if (best < 0) break;
                    k[best]++;
                }
            }
    }
    for (size_t i = 0; i < R->nP; i++) R->P[i].kleft = k[i];
    free(k);
    return SW_OK;
}

int sw__compile_rounds(cstate *C, build *B) {
    sw_plan *p = C->p;
    size_t n = B->nX, nr = p->nranks, nports = nr * SW_LINK_COUNT * 2;
    rstate R;
    memset(&R, 0, sizeof R);
    R.C = C;
    R.B = B;
    for (int c = 0; c < SW_LINK_COUNT; c++) R.cap[c] = (uint64_t)p->chunk[c];
    int rc = SW_OK;
    pairkey *keys = malloc((n ? n : 1) * sizeof *keys);
    R.xpair = malloc((n ? n : 1) * sizeof *R.xpair);
    R.f0 = calloc(n + 2, sizeof *R.f0);
    R.fl = malloc((n ? n : 1) * sizeof *R.fl);
    R.ports = calloc(nports + 1, sizeof *R.ports);
    R.t = calloc(nr + 1, sizeof *R.t);
    R.tnew = calloc(nr + 1, sizeof *R.tnew);
    pkey *order = malloc((nports + 1) * sizeof *order);
    R.es = malloc(n + 1);
    size_t capP = 0, captend = 0;
    if (!keys || !R.xpair || !R.f0 || !R.fl || !R.ports || !R.t || !R.tnew || !order || !R.es) {
        rc = sw__compile_nomem(C);
        goto out;
    }
    for (size_t i = 0; i < n; i++) R.es[i] = (uint8_t)sw_dtype_size(C->L[B->X[i].src.local].dtype);
    /* followers of each leader transfer */
    for (size_t i = 0; i < n; i++)
        if (B->leader[i] >= 0) R.f0[B->leader[i] + 1]++;
    for (size_t i = 0; i < n; i++) R.f0[i + 1] += R.f0[i];
    {
        uint32_t *fill = malloc((n ? n : 1) * sizeof *fill);
        if (!fill) {
            rc = sw__compile_nomem(C);
            goto out;
        }
        memcpy(fill, R.f0, n * sizeof *fill);
        for (size_t i = 0; i < n; i++)
            if (B->leader[i] >= 0) R.fl[fill[B->leader[i]]++] = (uint32_t)i;
        free(fill);
    }
    /* pairs: transfers grouped by (source, destination, stage); in each, the transfers
     * that the destination forwards come first so that its forwards start early */
    for (size_t i = 0; i < n; i++) {
        uint32_t led = R.f0[i + 1] > R.f0[i];
        keys[i] = (pairkey){(uint32_t)sw_plan_rank_index(p, B->X[i].src_rank),
                            (uint32_t)sw_plan_rank_index(p, B->X[i].dst_rank), B->stage[i], 0};
        keys[i].idx = (uint32_t)i | (led ? 0 : 0x80000000u);
    }
    if (sort_pairkey(keys, n)) rc = sw__compile_nomem(C);
    for (size_t s = 0; s < n && rc == SW_OK;) {
        size_t e = s + 1;
        while (e < n && keys[e].si == keys[s].si && keys[e].di == keys[s].di && keys[e].fwd == keys[s].fwd) e++;
        if (SW_GROW(R.P, capP, R.nP + 1)) {
            rc = sw__compile_nomem(C);
            break;
        }
        rpair *q = &R.P[R.nP];
        memset(q, 0, sizeof *q);
        q->si = keys[s].si;
        q->di = keys[s].di;
        q->fwd = (uint8_t)keys[s].fwd;
        q->cls = (uint8_t)sw_plan_link(p, p->ranks[q->si].rank, p->ranks[q->di].rank);
        for (size_t k = s; k < e && rc == SW_OK; k++) {
            uint32_t x = keys[k].idx & 0x7fffffffu;
            R.xpair[x] = (uint32_t)R.nP;
            q->rem += B->X[x].nelem * xfer_es(&R, x);
            if (!q->fwd) rc = push_ent(&R, q, (rent){x, 0, -1, 0, B->X[x].nelem});
            for (uint32_t f = R.f0[x]; f < R.f0[x + 1]; f++) {
                uint32_t fx = R.fl[f];
                q->fwd_t += (double)(B->X[fx].nelem * xfer_es(&R, fx)) /
                            p->topo.link[sw_plan_link(p, B->X[fx].src_rank, B->X[fx].dst_rank)].bandwidth;
            }
        }
        R.nP++;
        s = e;
    }
    if (rc) goto out;
    /* ports and their pairs */
    for (size_t i = 0; i < R.nP; i++) {
        R.ports[port_of(R.P[i].si, R.P[i].cls, 0)].np++;
        R.ports[port_of(R.P[i].di, R.P[i].cls, 1)].np++;
    }
    {
        uint32_t acc = 0;
        for (size_t k = 0; k < nports; k++) {
            R.ports[k].p0 = acc;
            acc += R.ports[k].np;
            R.ports[k].np = 0;
            R.ports[k].taken = -1;
        }
        R.pidx = malloc(((size_t)acc + 1) * sizeof *R.pidx);
        R.touched = malloc((R.nP + 1) * sizeof *R.touched);
        if (!R.pidx || !R.touched) {
            rc = sw__compile_nomem(C);
            goto out;
        }
    }
    for (size_t i = 0; i < R.nP; i++) {
        const sw_link *l = &p->topo.link[R.P[i].cls];
        double tt = l->latency + (double)R.P[i].rem / l->bandwidth;
        rport *a = &R.ports[port_of(R.P[i].si, R.P[i].cls, 0)], *b = &R.ports[port_of(R.P[i].di, R.P[i].cls, 1)];
        R.pidx[a->p0 + a->np++] = (uint32_t)i;
        R.pidx[b->p0 + b->np++] = (uint32_t)i;
        a->rem_t += tt;
        b->rem_t += tt;
    }
    if ((rc = equal_pace(&R, nports)) != SW_OK) goto out;
    /* The weights of the choices (tuned on the examples, docs/performance.md): ports in
     * order of half their remaining time minus half their rank's time (critical first,
     * among equals the earliest); a port takes the pair whose partner port has most left
     * to do, less 1000 times the time one of the two would wait for the other (waiting
     * first: any wait costs more than the rest of the choice can gain; 20 let DeepSeek-V3
     * fp8's busy senders keep their receivers waiting, 0.86 ms in all), plus a
     * quarter of the pair's own remaining time (long pairs early); a receiving port also
     * adds 64 times the time of the forwards the pair's data feeds (a relay receives what
     * it forwards first: its forwards start early and what arrives last is forwarded
     * quickly). */
    const double lam = 0.5, rw = 1000, rq = 0.25, rf = 64;
    size_t left = 0;
    for (size_t i = 0; i < R.nP; i++) left += R.P[i].rem > 0;
    for (int32_t w = 0; left > 0 && rc == SW_OK; w++) {
        /* ports with work, most critical first */
        size_t no = 0;
        for (size_t k = 0; k < nports; k++)
            if (R.ports[k].np) {
                double tk = R.t[k / (2 * SW_LINK_COUNT)];
                order[no++] = (pkey){-tk + lam * (tk + R.ports[k].rem_t), (uint32_t)k};
            }
        if (sort_pkey(order, no)) {
            rc = sw__compile_nomem(C);
            break;
        }
        memcpy(R.tnew, R.t, nr * sizeof *R.tnew);
        size_t before = B->nT;
        for (size_t o = 0; o < no && rc == SW_OK; o++) {
            size_t k = order[o].port;
            rport *pt = &R.ports[k];
            if (pt->taken == w) continue;
            int dir = (int)(k & 1);
            uint32_t me = (uint32_t)(k / (2 * SW_LINK_COUNT));
            long best = -1;
            double best_s = 0;
            for (uint32_t j = 0; j < pt->np; j++) {
                uint32_t qi = R.pidx[pt->p0 + j];
                const rpair *q = &R.P[qi];
                if (!q->rem) { /* done: out of the port's list */
                    R.pidx[pt->p0 + j--] = R.pidx[pt->p0 + --pt->np];
                    continue;
                }
                if (!ready(&R, q)) continue;
                uint32_t other = dir ? q->si : q->di;
                size_t ok = port_of(other, q->cls, !dir);
                if (R.ports[ok].taken == w) continue;
                double wait = R.t[other] - R.t[me];
                if (wait < 0) wait = 0;
                const sw_link *l = &p->topo.link[q->cls];
                double s = R.ports[ok].rem_t - rw * wait + rq * (double)q->rem / l->bandwidth + (dir ? rf * q->fwd_t : 0);
                if (best < 0 || s > best_s) {
                    best = (long)qi;
                    best_s = s;
                }
            }
            if (best < 0) continue;
            rpair *q = &R.P[best];
            R.ports[port_of(q->si, q->cls, 0)].taken = w;
            R.ports[port_of(q->di, q->cls, 1)].taken = w;
            if (SW_GROW(R.tend, captend, B->nT + 1)) {
                rc = sw__compile_nomem(C);
                break;
            }
            rc = cut(&R, (uint32_t)best, w);
            if (rc == SW_OK && !q->rem) left--;
        }
        if (rc) break;
        sw__compile_progress(C, "waves", w + 1, 0);
        if (B->nT == before) {
            rc = sw__err(C->err, SW_INTERNAL, "the rounds scheduler found nothing to send in round %d", w);
            break;
        }
        memcpy(R.t, R.tnew, nr * sizeof *R.t);
        for (size_t i = 0; i < R.ntouched; i++) {
            rpair *q = &R.P[R.touched[i]];
            q->avail += q->fresh;
            q->fresh = 0;
        }
        R.ntouched = 0;
    }
out:
    if (R.P)
        for (size_t i = 0; i < R.nP; i++) free(R.P[i].e);
    free(R.P);
    free(keys);
    free(R.xpair);
    free(R.f0);
    free(R.fl);
    free(R.ports);
    free(R.pidx);
    free(R.t);
    free(R.tnew);
    free(R.tend);
    free(R.touched);
    free(R.deptmp);
    free(R.es);
    free(order);
    return rc;
}
