/* sim.c - the cost model and the event simulation of a plan (see sim.h). */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* One rank's part of one wave. */
typedef struct rwave {
    int32_t wave;
    uint64_t sendb, recvb; /* bytes packed / unpacked (staged) */
    uint8_t fwd;           /* the rank forwards (sends a relay task) in this wave */
    double post;           /* when the rank posts this wave */
    double local;          /* end of its in-process copies so far */
    double done;           /* last task of the rank in this wave finishes */
    double pend;           /* unpack of the previous wave, done after this one is posted */
    uint64_t fwdrecvb;     /* of recvb: what the rank forwards in its next wave */
} rwave;

/* The entry of rank x (entries E[lo..hi), sorted by wave) for wave w, or -1. */
static long entry_of(const rwave *E, size_t lo, size_t hi, int32_t w) {
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (E[mid].wave < w) lo = mid + 1;
        else hi = mid;
    }
    return (long)lo;
}

typedef struct wkey {
    uint64_t tensor_dst; /* tensor << 32 | dst rank index */
    uint64_t bytes;
} wkey;

static int cmp_wkey(const void *a, const void *b) {
    const wkey *x = a, *y = b;
    return (x->tensor_dst > y->tensor_dst) - (x->tensor_dst < y->tensor_dst);
}

static uint64_t tensor_bytes(const sw_plan *p, uint32_t t, int esize) {
    uint64_t n = (uint64_t)esize;
    for (int d = 0; d < p->tensors[t].ndim; d++) n *= (uint64_t)p->tensors[t].shape[d];
    return n;
}

/* Wire bytes per task: the message bytes, or for a broadcast plan the message bytes
 * scaled by (full tensor bytes / bytes the receiver needs of that tensor), so that each
 * receiver is charged the whole tensor once across its tasks.  Returns -1 on no memory. */
static int wire_bytes(const sw_plan *p, const int32_t *rd, uint64_t *wire) {
    for (uint32_t i = 0; i < p->ntasks; i++) wire[i] = p->tasks[i].bytes;
    if (p->scheduler != SW_SCHED_BROADCAST || !p->ntasks) return 0;
    wkey *k = malloc((size_t)p->ntasks * sizeof *k);
    if (!k) return -1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        if (!t->nseg || rd[i] < 0) continue;
        uint32_t tensor = p->xfers[p->segs[t->seg0].xfer].tensor;
        k[n++] = (wkey){(uint64_t)tensor << 32 | (uint32_t)rd[i], t->bytes};
    }
    qsort(k, n, sizeof *k, cmp_wkey);
    uint32_t m = 0; /* merge: needed bytes per (tensor, receiver) */
    for (uint32_t i = 0; i < n; i++) {
        if (m && k[m - 1].tensor_dst == k[i].tensor_dst) k[m - 1].bytes += k[i].bytes;
        else k[m++] = k[i];
    }
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        if (!t->nseg || rd[i] < 0 || !t->bytes) continue;
        const sw_plan_xfer *x = &p->xfers[p->segs[t->seg0].xfer];
        wkey key = {(uint64_t)x->tensor << 32 | (uint32_t)rd[i], 0};
        const wkey *f = bsearch(&key, k, m, sizeof *k, cmp_wkey);
        if (!f || !f->bytes) continue;
        uint64_t full = tensor_bytes(p, x->tensor, sw_plan_xfer_esize(p, x));
        if (full > f->bytes) wire[i] = (uint64_t)((double)t->bytes * (double)full / (double)f->bytes + 0.5);
    }
    free(k);
    return 0;
}

void sw_sim_free(sw_sim_result *r) {
    if (!r) return;
    free(r->waves);
    free(r->task_start);
    free(r->task_end);
    free(r->wire);
    free(r->rank_end);
    memset(r, 0, sizeof *r);
}

typedef struct nickey {
    int32_t host, nic;
    uint32_t idx;
} nickey;

static int cmp_nickey(const void *a, const void *b) {
    const nickey *x = a, *y = b;
    if (x->host != y->host) return x->host < y->host ? -1 : 1;
    if (x->nic != y->nic) return x->nic < y->nic ? -1 : 1;
    return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Event simulation (model in sim.h).  Tasks are sorted by wave, so one pass over the
 * waves in order sees every predecessor and every rank's previous wave first. */
int sw_sim_run(const sw_plan *p, const sw_sim_opts *opts, sw_sim_result *r, sw_error *err) {
    memset(r, 0, sizeof *r);
    double mem_bw = opts && opts->mem_bw != 0 ? opts->mem_bw : SW_SIM_MEM_BW;
    double inv_mem = mem_bw > 0 ? 1.0 / mem_bw : 0;
    uint32_t n = p->nranks, nt = p->ntasks;
    int64_t g = p->topo.gpus_per_nic > 1 ? p->topo.gpus_per_nic : 1;
    int32_t *rs = malloc(((size_t)nt + 1) * sizeof *rs), *rd = malloc(((size_t)nt + 1) * sizeof *rd);
    uint32_t *off = calloc((size_t)n + 2, sizeof *off), *cur = calloc((size_t)n + 1, sizeof *cur);
    uint32_t *nic = calloc((size_t)n + 1, sizeof *nic), *cs = calloc((size_t)n + 1, sizeof *cs),
             *cr = calloc((size_t)n + 1, sizeof *cr);
    uint8_t *fin = calloc((size_t)n + 1, 1);
    nickey *nk = malloc(((size_t)n + 1) * sizeof *nk);
    rwave *E = NULL;
    uint64_t *packb = NULL, *unpackb = NULL;
    r->task_start = calloc((size_t)nt + 1, sizeof *r->task_start);
    r->task_end = calloc((size_t)nt + 1, sizeof *r->task_end);
    r->wire = calloc((size_t)nt + 1, sizeof *r->wire);
    r->rank_end = calloc((size_t)n + 1, sizeof *r->rank_end);
    r->waves = calloc((size_t)(p->nwaves > 0 ? p->nwaves : 0) + 1, sizeof *r->waves);
    r->ntasks = nt;
    r->lower_bound = p->stats.lower_bound_s;
    r->critical_rank = n ? p->ranks[0].rank : -1;
    int rc = SW_OK;
    if (!rs || !rd || !off || !cur || !nic || !cs || !cr || !fin || !nk || !r->task_start || !r->task_end || !r->wire ||
        !r->rank_end || !r->waves)
        goto nomem;
    for (uint32_t i = 0; i < nt; i++) {
        rs[i] = sw_plan_rank_index(p, p->tasks[i].src);
        rd[i] = sw_plan_rank_index(p, p->tasks[i].dst);
    }
    if (wire_bytes(p, rd, r->wire)) goto nomem;
    /* what the executor stages of each message (the zero-copy contract, runtime/exec.h):
     * the sender packs the segments that are small or not one run of its tensor, the
     * receiver unpacks those small, not one run of its own or converting; scaled like the
     * wire bytes */
    packb = malloc(((size_t)nt + 1) * sizeof *packb);
    unpackb = malloc(((size_t)nt + 1) * sizeof *unpackb);
    if (!packb || !unpackb) goto nomem;
    for (uint32_t i = 0; i < nt; i++) {
        const sw_plan_task *t = &p->tasks[i];
        uint64_t ps = 0, pu = 0;
        for (uint32_t k = 0; k < t->nseg && t->src != t->dst; k++) {
            const sw_plan_seg *sg = &p->segs[t->seg0 + k];
            const sw_plan_xfer *x = &p->xfers[sg->xfer];
            uint64_t nb = sg->nelem * (uint64_t)sw_plan_xfer_esize(p, x);
            int small = nb < SW_PLAN_ZC_MIN;
            if (small || sw_plan_seg_run(p, sg, 0) < 0) ps += nb;
            if (small || sw_plan_seg_run(p, sg, 1) < 0 || p->locals[x->src.local].dtype != p->locals[x->dst.local].dtype)
                pu += nb;
        }
        if (!t->nseg) ps = pu = t->bytes; /* nothing known of its layout: staged */
        double f = t->bytes ? (double)r->wire[i] / (double)t->bytes : 1;
        packb[i] = (uint64_t)((double)ps * f + 0.5);
        unpackb[i] = (uint64_t)((double)pu * f + 0.5);
    }
    /* NICs: ranks with the same (host, device / g) share one */
    for (uint32_t a = 0; a < n; a++) nk[a] = (nickey){p->ranks[a].host, (int32_t)(p->ranks[a].device / g), a};
    qsort(nk, n, sizeof *nk, cmp_nickey);
    for (uint32_t a = 0, id = 0; a < n; a++) {
        if (a && (nk[a].host != nk[a - 1].host || nk[a].nic != nk[a - 1].nic)) id++;
        nic[nk[a].idx] = id;
    }
    /* per-rank wave entries, in wave order */
    for (uint32_t i = 0, a = 0; i < nt; i = a) {
        for (a = i; a < nt && p->tasks[a].wave == p->tasks[i].wave; a++) {
            if (rs[a] < 0 || rd[a] < 0) continue;
            fin[rs[a]] = fin[rd[a]] = 1;
        }
        for (uint32_t k = i; k < a; k++)
            for (int side = 0; side < 2; side++) {
                int32_t x = side ? rd[k] : rs[k];
                if (x >= 0 && fin[x]) off[x + 1]++, fin[x] = 0;
            }
    }
    for (uint32_t a = 0; a < n; a++) off[a + 1] += off[a];
    E = calloc((size_t)off[n] + 1, sizeof *E);
    if (!E) goto nomem;
    for (uint32_t a = 0; a < n; a++) cur[a] = off[a];
    for (uint32_t i = 0; i < nt; i++) {
        const sw_plan_task *t = &p->tasks[i];
        if (rs[i] < 0 || rd[i] < 0) continue;
        for (int side = 0; side < 2; side++) {
            int32_t x = side ? rd[i] : rs[i];
            if (cur[x] > off[x] && E[cur[x] - 1].wave == t->wave) continue;
            E[cur[x]++].wave = t->wave;
        }
        rwave *es = &E[cur[rs[i]] - 1], *ed = &E[cur[rd[i]] - 1];
        if (t->src != t->dst) {
            es->sendb += packb[i];
            ed->recvb += unpackb[i];
            if (t->relay) es->fwd = 1;
        }
    }
    /* what each rank receives in one wave and forwards in its next (runtime/exec.c unpacks
     * that first, packs the next wave, and unpacks the rest while the next is in flight) */
    {
        uint8_t *seen = calloc((size_t)nt + 1, 1);
        if (!seen) goto nomem;
        for (uint32_t i = 0; i < nt; i++) {
            const sw_plan_task *t = &p->tasks[i];
            if (!t->relay || rs[i] < 0) continue;
            size_t lo = off[rs[i]], hi = off[rs[i] + 1];
            long e = entry_of(E, lo, hi, t->wave);
            if (e <= (long)lo || e >= (long)hi || E[e].wave != t->wave) continue;
            rwave *prev = &E[e - 1];
            for (uint32_t k = 0; k < t->ndep; k++) {
                uint32_t d = p->deps[t->dep0 + k];
                if (d >= nt || seen[d] || rd[d] != rs[i] || p->tasks[d].wave != prev->wave) continue;
                seen[d] = 1;
                prev->fwdrecvb += unpackb[d];
            }
        }
        free(seen);
    }
    for (uint32_t a = 0; a < n; a++) {
        cur[a] = off[a];
        if (off[a] < off[a + 1]) E[off[a]].post = E[off[a]].local = (double)E[off[a]].sendb * inv_mem;
    }
    double lastend = 0;
    int32_t wi = 0;
    for (uint32_t i = 0, b = 0; i < nt; i = b) {
        int32_t w = p->tasks[i].wave;
        for (b = i; b < nt && p->tasks[b].wave == w; b++)
            if (g > 1 && p->tasks[b].cls == SW_LINK_NETWORK && rs[b] >= 0 && rd[b] >= 0) cs[nic[rs[b]]]++, cr[nic[rd[b]]]++;
        sw_sim_wave *sw = &r->waves[wi++];
        sw->wave = w;
        sw->start = -1;
        for (uint32_t k = i; k < b; k++) {
            const sw_plan_task *t = &p->tasks[k];
            if (rs[k] < 0 || rd[k] < 0 || t->cls >= SW_LINK_COUNT) continue;
            rwave *es = &E[cur[rs[k]]], *ed = &E[cur[rd[k]]];
            double start = es->post > ed->post ? es->post : ed->post;
            for (uint32_t d = 0; d < t->ndep; d++) {
                uint32_t dep = p->deps[t->dep0 + d];
                if (dep < nt && r->task_end[dep] > start) start = r->task_end[dep];
            }
            if (t->src == t->dst && es->local > start) start = es->local;
            double share = 1;
            if (g > 1 && t->cls == SW_LINK_NETWORK) {
                uint32_t m = cs[nic[rs[k]]] > cr[nic[rd[k]]] ? cs[nic[rs[k]]] : cr[nic[rd[k]]];
                if (m > 1) share = m;
            }
            const sw_link *l = &p->topo.link[t->cls];
            double end = start + l->latency + (double)r->wire[k] * share / l->bandwidth;
            if (t->src == t->dst) es->local = end;
            r->task_start[k] = start;
            r->task_end[k] = end;
            if (end > es->done) es->done = end;
            if (end > ed->done) ed->done = end;
            if (sw->start < 0 || start < sw->start) sw->start = start;
            sw->tasks++;
            sw->bytes += r->wire[k];
            r->bytes[t->cls] += r->wire[k];
        }
        if (sw->start < 0) sw->start = 0;
        sw->end = sw->start;
        sw->critical_rank = -1;
        /* each rank of the wave: wait, unpack, then the post of its next wave */
        for (uint32_t k = i; k < b; k++) {
            if (g > 1 && p->tasks[k].cls == SW_LINK_NETWORK && rs[k] >= 0 && rd[k] >= 0) cs[nic[rs[k]]] = cr[nic[rd[k]]] = 0;
            for (int side = 0; side < 2; side++) {
                int32_t x = side ? rd[k] : rs[k];
                if (x < 0 || cur[x] >= off[x + 1] || E[cur[x]].wave != w) continue;
                rwave *e = &E[cur[x]], *nx = cur[x] + 1 < off[x + 1] ? &E[cur[x] + 1] : NULL;
                /* as runtime/exec.c: after posting wave k a rank copies inside its process,
                 * unpacks wave k-1 and packs wave k+1 while wave k is in flight; only when
                 * wave k+1 forwards what wave k brings does it unpack and pack after the wait */
                int early = nx && !nx->fwd;
                double packn = nx ? (double)nx->sendb * inv_mem : 0, unpack = (double)e->recvb * inv_mem;
                double first = nx ? (double)e->fwdrecvb * inv_mem : unpack; /* before the next post */
                double busy = (e->local > e->post ? e->local : e->post) + e->pend + (early ? packn : 0);
                double waited = e->done > busy ? e->done : busy;
                double end = early ? waited : waited + first;
                if (nx) {
                    nx->post = nx->local = early ? waited : end + packn;
                    nx->pend = early ? unpack : unpack - first;
                }
                r->rank_end[x] = end;
                if (end > sw->end || sw->critical_rank < 0) {
                    sw->end = end;
                    sw->critical_rank = p->ranks[x].rank;
                }
                cur[x]++;
            }
        }
        sw->time = sw->end > lastend ? sw->end - lastend : 0;
        if (sw->end > lastend) lastend = sw->end;
    }
    r->nwaves = wi;
    for (uint32_t a = 0; a < n; a++)
        if (r->rank_end[a] > r->makespan) {
            r->makespan = r->rank_end[a];
            r->critical_rank = p->ranks[a].rank;
        }
    goto out;
nomem:
    rc = sw__err(err, SW_NOMEM, "out of memory simulating plan '%s'", p->sync ? p->sync : "?");
    sw_sim_free(r);
out:
    free(rs);
    free(rd);
    free(off);
    free(cur);
    free(nic);
    free(cs);
    free(cr);
    free(fin);
    free(nk);
    free(E);
    free(packb);
    free(unpackb);
    return rc;
}

double sw_sim_makespan(const sw_plan *p) {
    sw_sim_result r;
    sw_error err;
    if (sw_sim_run(p, NULL, &r, &err)) return -1;
    double m = r.makespan;
    sw_sim_free(&r);
    return m;
}
