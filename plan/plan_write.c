/*
 * plan_write.c - serializing a plan (docs/plan-format.md) and the plan checksum.
 */
#include "plan_io.h"
#include "plan_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "sort.h"

/* The little-endian 64-bit word at p: one load (the checksum reads every byte of a plan). */
static inline uint64_t le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The plan's checksum: four FNV-style lanes over little-endian 64-bit words (32 bytes a
 * step), the tail byte by byte, the lanes folded at the end.  Each step is a bijection
 * of the lane for a fixed word and of the word for a fixed lane, so a change of any one
 * byte always changes the result.  About 8x faster than byte-wise FNV-1a. */
uint64_t sw__plan_checksum(const void *data, size_t n) {
    const uint8_t *b = data;
    const uint64_t P = 0x100000001b3ULL;
    uint64_t h[4] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL, 0x9e3779b97f4a7c15ULL, 0xd6e8feb86659fd93ULL};
    uint64_t h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3]; /* four lanes in registers */
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        h0 = (h0 ^ le64(b + i)) * P;
        h1 = (h1 ^ le64(b + i + 8)) * P;
        h2 = (h2 ^ le64(b + i + 16)) * P;
        h3 = (h3 ^ le64(b + i + 24)) * P;
    }
    h[1] = h1;
    h[2] = h2;
    h[3] = h3;
    uint64_t r = h0;
    for (int l = 1; l < 4; l++) r = (r ^ (h[l] ^ (h[l] >> 29))) * P;
    for (; i < n; i++) r = (r ^ b[i]) * P;
    return r ^ (uint64_t)n;
}

typedef sw_buf wbuf;

/* Appends n bytes: straight into the buffer when it has room (the common case once it is
 * reserved), else through sw_buf_put (which grows it, or records out of memory). */
static inline void w_bytes(wbuf *b, const void *src, size_t n) {
    if (!b->oom && b->n + n < b->cap) {
        memcpy(b->d + b->n, src, n);
        b->n += n;
        return;
    }
    sw_buf_put(b, src, n);
}
static inline void w_u8(wbuf *b, uint8_t v) {
    if (!b->oom && b->n + 1 < b->cap) {
        b->d[b->n++] = (char)v;
        return;
    }
    sw_buf_put(b, &v, 1);
}
static void w_u32(wbuf *b, uint32_t v) {
    uint8_t x[4];
    for (int i = 0; i < 4; i++) x[i] = (uint8_t)(v >> (8 * i));
    w_bytes(b, x, 4);
}
static void w_u64(wbuf *b, uint64_t v) {
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(v >> (8 * i));
    w_bytes(b, x, 8);
}
static void w_i32(wbuf *b, int32_t v) { w_u32(b, (uint32_t)v); }
static void w_i64(wbuf *b, int64_t v) { w_u64(b, (uint64_t)v); }
static void w_f64(wbuf *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    w_u64(b, u);
}
static void w_str(wbuf *b, const char *s) {
    if (!s) s = "";
    size_t n = strlen(s);
    w_u32(b, (uint32_t)n);
    w_bytes(b, s, n);
    w_u8(b, 0);
}

/* Unsigned LEB128 varint; signed values zig-zag first. */
static void w_vu(wbuf *b, uint64_t v) {
    if (!b->oom && b->n + 10 < b->cap) { /* room for the longest: straight into the buffer */
        uint8_t *d = (uint8_t *)b->d + b->n, *d0 = d;
        for (; v >= 0x80; v >>= 7) *d++ = (uint8_t)(v | 0x80);
        *d++ = (uint8_t)v;
        b->n += (size_t)(d - d0);
        return;
    }
    uint8_t x[10];
    int n = 0;
    do {
        uint8_t c = (uint8_t)(v & 0x7f);
        v >>= 7;
        x[n++] = (uint8_t)(c | (v ? 0x80 : 0));
    } while (v);
    w_bytes(b, x, (size_t)n);
}
static void w_vs(wbuf *b, int64_t v) { w_vu(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }

/* A name front-coded against the previous one of its list: the length of the prefix
 * they share, the length of the rest, the rest. */
static void w_name(wbuf *b, const char *prev, const char *s) {
    if (!s) s = "";
    size_t k = 0;
    if (prev)
        while (prev[k] && prev[k] == s[k]) k++;
    size_t n = strlen(s + k);
    w_vu(b, k);
    w_vu(b, n);
    w_bytes(b, s + k, n);
}

static void w_box(wbuf *b, int nd, const int64_t *start, const int64_t *size) {
    for (int k = 0; k < nd; k++) {
        w_vu(b, (uint64_t)start[k]);
        w_vu(b, (uint64_t)size[k]);
    }
}

static void w_map(wbuf *b, int nd, const int8_t *map, const int64_t *base) {
    for (int j = 0; j < nd; j++) {
        w_u8(b, (uint8_t)map[j]);
        w_vs(b, base[j]);
    }
}

/* Per-rank lists the writer builds once: tasks and transfers of each rank (as source or
 * destination, in index order), and scratch for one section. */
typedef struct wlists {
    uint32_t *t0, *tl; /* tasks of rank index r: tl[t0[r] .. t0[r+1]) */
    uint32_t *x0, *xl; /* transfers */
    uint32_t *xord;    /* per transfer: its ordinal in the section being written */
    uint32_t *lstub;   /* per local: 1 + its stub ordinal in the section being written, 0 */
    uint32_t *stubs;   /* the section's stubs (global local indices, sorted) */
    uint32_t *lrank;   /* per rank index: its first local; [nranks] = nlocals */
} wlists;

static void wlists_free(wlists *w) {
    free(w->t0);
    free(w->tl);
    free(w->x0);
    free(w->xl);
    free(w->xord);
    free(w->lstub);
    free(w->stubs);
    free(w->lrank);
}

/* Lists each item under the rank indices a and b (b < 0 or b == a: once). */
static int bucket_by_rank(uint32_t nr, uint32_t n, const int32_t *ra, const int32_t *rb, uint32_t **off, uint32_t **list) {
    *off = calloc((size_t)nr + 2, sizeof **off);
    *list = malloc(((size_t)n * 2 + 1) * sizeof **list);
    uint32_t *fill = calloc((size_t)nr + 1, sizeof *fill);
    if (!*off || !*list || !fill) {
        free(fill);
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        (*off)[ra[i] + 1]++;
        if (rb[i] != ra[i]) (*off)[rb[i] + 1]++;
    }
    for (uint32_t r = 0; r < nr; r++) (*off)[r + 1] += (*off)[r];
    for (uint32_t i = 0; i < n; i++) {
        (*list)[(*off)[ra[i]] + fill[ra[i]]++] = i;
        if (rb[i] != ra[i]) (*list)[(*off)[rb[i]] + fill[rb[i]]++] = i;
    }
    free(fill);
    return 0;
}

static inline int u32_before(const uint32_t *x, const uint32_t *y) { return *x < *y; }
SW_SORT_DEFINE(sort_u32, uint32_t, u32_before)

/* The section of rank index r (docs/plan-format.md). */
static void w_section(wbuf *b, const sw_plan *p, wlists *w, uint32_t r) {
    int32_t rank = p->ranks[r].rank;
    uint32_t l0 = w->lrank[r], l1 = w->lrank[r + 1];
    w_i32(b, rank);
    /* local tensors and their pieces */
    const char *prev = NULL;
    for (uint32_t i = l0; i < l1; i++) {
        const sw_plan_local *l = &p->locals[i];
        w_name(b, prev, l->name);
        prev = l->name;
        w_u8(b, l->role);
        w_u8(b, (uint8_t)l->dtype);
        w_u8(b, (uint8_t)l->ndim);
        for (int k = 0; k < l->ndim; k++) w_vu(b, (uint64_t)l->shape[k]);
        w_vu(b, l->npieces);
        for (uint32_t q = l->piece0; q < l->piece0 + l->npieces; q++) {
            const sw_plan_piece *pc = &p->pieces[q];
            w_vu(b, pc->tensor);
            w_box(b, p->tensors[pc->tensor].ndim, pc->start, pc->size);
            w_map(b, l->ndim, pc->map, pc->base);
        }
    }
    /* stand-ins for the other ranks' locals that its transfers reference */
    uint32_t nstub = 0;
    for (uint32_t k = w->x0[r]; k < w->x0[r + 1]; k++) {
        const sw_plan_xfer *x = &p->xfers[w->xl[k]];
        uint32_t ls[2] = {x->src.local, x->dst.local};
        for (int s = 0; s < 2; s++)
            if ((ls[s] < l0 || ls[s] >= l1) && !w->lstub[ls[s]]) {
                w->lstub[ls[s]] = 1;
                w->stubs[nstub++] = ls[s];
            }
    }
    if (sort_u32(w->stubs, nstub)) {
        b->oom = 1; /* reported as out of memory by the caller */
        return;
    }
    w_vu(b, nstub);
    uint32_t last = 0;
    for (uint32_t k = 0; k < nstub; k++) {
        const sw_plan_local *l = &p->locals[w->stubs[k]];
        w->lstub[w->stubs[k]] = k + 1;
        w_vu(b, w->stubs[k] - last);
        last = w->stubs[k];
        w_vs(b, (int64_t)l->rank - rank);
        w_u8(b, (uint8_t)(l->role | (uint8_t)l->dtype << 2));
    }
    /* transfers: where the rank is the source or the destination, with that side */
    w_vu(b, w->x0[r + 1] - w->x0[r]);
    last = 0;
    for (uint32_t k = w->x0[r]; k < w->x0[r + 1]; k++) {
        uint32_t xi = w->xl[k];
        const sw_plan_xfer *x = &p->xfers[xi];
        w->xord[xi] = k - w->x0[r];
        w_vu(b, xi - last);
        last = xi;
        w_vu(b, x->tensor);
        w_box(b, p->tensors[x->tensor].ndim, x->start, x->size);
        w_vs(b, (int64_t)x->src_rank - rank);
        w_vs(b, (int64_t)x->dst_rank - rank);
        const sw_plan_side *sd[2] = {&x->src, &x->dst};
        int32_t owner[2] = {x->src_rank, x->dst_rank};
        for (int s = 0; s < 2; s++) {
            if (owner[s] == rank) {
                w_vu(b, sd[s]->local - l0);
                w_map(b, p->locals[sd[s]->local].ndim, sd[s]->map, sd[s]->base);
            } else {
                w_vu(b, w->lstub[sd[s]->local] - 1);
            }
        }
    }
    for (uint32_t k = 0; k < nstub; k++) w->lstub[w->stubs[k]] = 0;
    /* tasks, with their segments (transfers by ordinal in this section) and deps */
    w_vu(b, w->t0[r + 1] - w->t0[r]);
    last = 0;
    int32_t lastw = 0;
    for (uint32_t k = w->t0[r]; k < w->t0[r + 1]; k++) {
        uint32_t ti = w->tl[k];
        const sw_plan_task *t = &p->tasks[ti];
        w_vu(b, ti - last);
        last = ti;
        w_vs(b, (int64_t)t->src - rank);
        w_vs(b, (int64_t)t->dst - rank);
        w_u8(b, (uint8_t)(t->cls | (t->relay ? 0x80 : 0)));
        w_vs(b, (int64_t)t->wave - lastw);
        lastw = t->wave;
        w_vu(b, t->bytes);
        w_vu(b, t->seg0);
        w_vu(b, t->nseg);
        for (uint32_t s = 0; s < t->nseg; s++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + s];
            w_vu(b, w->xord[g->xfer]);
            w_vu(b, g->elem0);
            w_vu(b, g->nelem);
        }
        w_vu(b, t->dep0);
        w_vu(b, t->ndep);
        for (uint32_t d = 0; d < t->ndep; d++) w_vu(b, p->deps[t->dep0 + d]);
    }
}

/* What the format needs of the in-memory plan beyond the structural check: locals grouped
 * by rank in rank order, pieces in local order, every task's transfers between its ranks. */
static int w_layout_check(const sw_plan *p, wlists *w, sw_error *err) {
    uint32_t q = 0, li = 0;
    for (uint32_t r = 0; r < p->nranks; r++) {
        w->lrank[r] = li;
        while (li < p->nlocals && p->locals[li].rank == p->ranks[r].rank) {
            if (p->locals[li].piece0 != q)
                return sw__err(err, SW_INTERNAL, "cannot write plan: the pieces of local %u are not in local order", li);
            q += p->locals[li++].npieces;
        }
    }
    w->lrank[p->nranks] = li;
    if (li != p->nlocals)
        return sw__err(err, SW_INTERNAL, "cannot write plan: local %u (rank %d) is not grouped with its rank's", li,
                       p->locals[li].rank);
    if (q != p->npieces)
        return sw__err(err, SW_INTERNAL, "cannot write plan: %u pieces, %u of them in locals", p->npieces, q);
    for (uint32_t i = 0; i < p->nxfers; i++) {
        const sw_plan_xfer *x = &p->xfers[i];
        if (p->locals[x->src.local].rank != x->src_rank || p->locals[x->dst.local].rank != x->dst_rank)
            return sw__err(err, SW_INTERNAL, "cannot write plan: transfer %u (%d -> %d) has a side in a local of another rank",
                           i, x->src_rank, x->dst_rank);
    }
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        for (uint32_t s = 0; s < t->nseg; s++) {
            const sw_plan_xfer *x = &p->xfers[p->segs[t->seg0 + s].xfer];
            if (x->src_rank != t->src || x->dst_rank != t->dst)
                return sw__err(err, SW_INTERNAL, "cannot write plan: task %u (%d -> %d) carries transfer %u (%d -> %d)",
                               i, t->src, t->dst, p->segs[t->seg0 + s].xfer, x->src_rank, x->dst_rank);
        }
        if (i && t->wave < p->tasks[i - 1].wave)
            return sw__err(err, SW_INTERNAL, "cannot write plan: task %u is not in wave order", i);
    }
    return SW_OK;
}

int sw__plan_io_reseal(uint8_t *buf, size_t len) {
    if (len < SW_PLAN_PREAMBLE) return -1;
    uint64_t hoff = sw__get_u64_at(buf + 32), hlen = sw__get_u64_at(buf + 40);
    if (hoff > len || hlen > len - hoff) return -1;
    /* section checksums: the directory is the header's last nranks * DIR_ENTRY + 4 bytes */
    if (hlen >= 4) {
        const uint8_t *h = buf + hoff;
        uint32_t nr = sw__get_u32_at(h + hlen - 4);
        if ((uint64_t)nr * DIR_ENTRY <= hlen - 4) {
            uint8_t *dir = buf + hoff + hlen - 4 - (uint64_t)nr * DIR_ENTRY;
            for (uint32_t r = 0; r < nr; r++) {
                uint64_t so = sw__get_u64_at(dir + r * DIR_ENTRY + 16), sl = sw__get_u64_at(dir + r * DIR_ENTRY + 24);
                if (so <= len && sl <= len - so) sw__put_u64_at(dir + r * DIR_ENTRY + 32, sw__plan_checksum(buf + so, sl));
            }
        }
    }
    sw__put_u64_at(buf + 48, sw__plan_checksum(buf + hoff, hlen));
    sw__put_u64_at(buf + 24, sw__plan_checksum(buf + 32, len - 32));
    return 0;
}

/* checked: p passed sw__plan_struct_check already (else it is run here) */
static int write_mem(const sw_plan *p, int checked, uint8_t **out, size_t *len, sw_error *err) {
    *out = NULL;
    *len = 0;
    int rc = checked ? SW_OK : sw__plan_struct_check(p, "cannot write plan", SW_INTERNAL, err);
    if (rc) return rc;
    sw_buf b = {0};
    uint32_t nr = p->nranks;
    wlists w;
    memset(&w, 0, sizeof w);
    uint64_t *dir = calloc((size_t)nr * 3 + 1, sizeof *dir);
    int32_t *ra = malloc(((size_t)(p->ntasks > p->nxfers ? p->ntasks : p->nxfers) + 1) * sizeof *ra);
    int32_t *rb = malloc(((size_t)(p->ntasks > p->nxfers ? p->ntasks : p->nxfers) + 1) * sizeof *rb);
    w.lrank = malloc(((size_t)nr + 1) * sizeof *w.lrank);
    w.xord = malloc(((size_t)p->nxfers + 1) * sizeof *w.xord);
    w.lstub = calloc((size_t)p->nlocals + 1, sizeof *w.lstub);
    w.stubs = malloc(((size_t)p->nxfers * 2 + 1) * sizeof *w.stubs);
    if (!dir || !ra || !rb || !w.lrank || !w.xord || !w.lstub || !w.stubs) goto nomem;
    if ((rc = w_layout_check(p, &w, err))) goto out;
    for (uint32_t i = 0; i < p->ntasks; i++) {
        ra[i] = sw_plan_rank_index(p, p->tasks[i].src);
        rb[i] = sw_plan_rank_index(p, p->tasks[i].dst);
    }
    if (bucket_by_rank(nr, p->ntasks, ra, rb, &w.t0, &w.tl)) goto nomem;
    for (uint32_t i = 0; i < p->nxfers; i++) {
        ra[i] = sw_plan_rank_index(p, p->xfers[i].src_rank);
        rb[i] = sw_plan_rank_index(p, p->xfers[i].dst_rank);
    }
    if (bucket_by_rank(nr, p->nxfers, ra, rb, &w.x0, &w.xl)) goto nomem;

    /* about what the sections take (varints: a few bytes a number), so that the buffer
     * grows once rather than by copies */
    sw_buf_reserve(&b, 4096 + (size_t)p->ntensors * 96 + (size_t)nr * 64 + (size_t)p->nlocals * 48 +
                           (size_t)p->npieces * 32 + (size_t)p->nxfers * 2 * 32 + (size_t)p->nsegs * 2 * 12 +
                           (size_t)p->ntasks * 2 * 24 + (size_t)p->ndeps * 2 * 4);
    /* preamble (patched at the end) */
    w_bytes(&b, SW_PLAN_MAGIC, 8);
    w_u32(&b, SW_PLAN_VERSION);
    w_u32(&b, SW_PLAN_PREAMBLE);
    for (int i = 0; i < 6; i++) w_u64(&b, 0);
    size_t hoff = b.n;
    /* header */
    w_str(&b, p->model);
    w_str(&b, p->sync);
    w_str(&b, p->from);
    w_str(&b, p->to);
    w_u32(&b, (uint32_t)p->scheduler);
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        w_f64(&b, p->topo.link[c].bandwidth);
        w_f64(&b, p->topo.link[c].latency);
    }
    w_i64(&b, p->topo.gpus_per_nic);
    w_i64(&b, p->bucket);
    for (int c = 0; c < SW_LINK_COUNT; c++) w_i64(&b, p->chunk[c]);
    w_i32(&b, p->nwaves);
    for (int c = 0; c < SW_LINK_COUNT; c++) w_u64(&b, p->stats.bytes[c]);
    w_u64(&b, p->stats.unique_bytes);
    for (int c = 0; c < SW_LINK_COUNT; c++) w_u64(&b, p->stats.max_send[c]);
    for (int c = 0; c < SW_LINK_COUNT; c++) w_u64(&b, p->stats.max_recv[c]);
    w_u64(&b, p->stats.max_staging);
    w_f64(&b, p->stats.predicted_s);
    w_f64(&b, p->stats.lower_bound_s);
    w_u32(&b, p->ntensors);
    w_u32(&b, p->nranks);
    w_u32(&b, p->nlocals);
    w_u32(&b, p->npieces);
    w_u32(&b, p->nxfers);
    w_u32(&b, p->nsegs);
    w_u32(&b, p->ntasks);
    w_u32(&b, p->ndeps);
    uint32_t dtypes = 0;
    for (uint32_t i = 0; i < p->nlocals; i++) dtypes |= 1u << p->locals[i].dtype;
    w_u32(&b, dtypes);
    const char *prev = NULL;
    for (uint32_t i = 0; i < p->ntensors; i++) {
        const sw_plan_tensor *t = &p->tensors[i];
        w_name(&b, prev, t->name);
        prev = t->name;
        w_u8(&b, (uint8_t)t->dtype);
        w_u8(&b, t->skipped ? 1 : 0); /* flags: bit 0 = skipped by the sync */
        w_u8(&b, (uint8_t)t->ndim);
        for (int k = 0; k < t->ndim; k++) w_vu(&b, (uint64_t)t->shape[k]);
    }
    for (uint32_t i = 0; i < nr; i++) {
        w_i32(&b, p->ranks[i].rank);
        w_i32(&b, p->ranks[i].host);
        w_i32(&b, p->ranks[i].device);
    }
    size_t dir_at = b.n;
    for (uint32_t r = 0; r < nr; r++) {
        w_i32(&b, p->ranks[r].rank);
        w_u32(&b, w.lrank[r + 1] - w.lrank[r]);
        uint32_t np = 0;
        for (uint32_t l = w.lrank[r]; l < w.lrank[r + 1]; l++) np += p->locals[l].npieces;
        w_u32(&b, np);
        w_u32(&b, 0);
        w_u64(&b, 0);
        w_u64(&b, 0);
        w_u64(&b, 0);
    }
    w_u32(&b, nr);
    size_t hlen = b.n - hoff;
    /* sections */
    for (uint32_t r = 0; r < nr; r++) {
        size_t so = b.n;
        w_section(&b, p, &w, r);
        dir[3 * r] = so;
        dir[3 * r + 1] = b.n - so;
    }
    if (b.oom) goto nomem;
    for (uint32_t r = 0; r < nr; r++) {
        sw__put_u64_at((uint8_t *)b.d + dir_at + (size_t)r * DIR_ENTRY + 16, dir[3 * r]);
        sw__put_u64_at((uint8_t *)b.d + dir_at + (size_t)r * DIR_ENTRY + 24, dir[3 * r + 1]);
    }
    sw__put_u64_at((uint8_t *)b.d + 16, b.n);
    sw__put_u64_at((uint8_t *)b.d + 32, hoff);
    sw__put_u64_at((uint8_t *)b.d + 40, hlen);
    sw__plan_io_reseal((uint8_t *)b.d, b.n);
    *out = (uint8_t *)b.d;
    *len = b.n;
    b.d = NULL;
    goto out;
nomem:
    rc = sw__err(err, SW_NOMEM, "out of memory writing a plan");
out:
    free(b.d);
    free(dir);
    free(ra);
    free(rb);
    wlists_free(&w);
    return rc;
}

int sw_plan_write_mem(const sw_plan *p, uint8_t **out, size_t *len, sw_error *err) {
    return write_mem(p, 0, out, len, err);
}

static int write_file(const sw_plan *p, int checked, const char *path, sw_error *err) {
    uint8_t *buf;
    size_t len;
    int rc = write_mem(p, checked, &buf, &len, err);
    if (rc) return rc;
    FILE *f = fopen(path, "wb");
    if (!f) {
        rc = sw__err(err, SW_IO, "cannot write plan '%s': %s", path, strerror(errno));
        free(buf);
        return rc;
    }
    size_t w = fwrite(buf, 1, len, f);
    int e = errno;
    if (fclose(f) != 0 || w != len) rc = sw__err(err, SW_IO, "cannot write plan '%s': %s", path, strerror(e ? e : EIO));
    free(buf);
    return rc;
}

int sw_plan_write(const sw_plan *p, const char *path, sw_error *err) { return write_file(p, 0, path, err); }

int sw_plan_write_checked(const sw_plan *p, const char *path, sw_error *err) { return write_file(p, 1, path, err); }

int sw_plan_identity(const sw_plan *p, uint64_t *id, sw_error *err) {
    if (p->id) {
        *id = p->id;
        return SW_OK;
    }
    uint8_t *buf;
    size_t len;
    SW_CHECK(sw_plan_write_mem(p, &buf, &len, err));
    *id = sw__get_u64_at(buf + 48); /* the preamble's header checksum */
    free(buf);
    return SW_OK;
}
