/*
 * plan_read.c - the validating plan reader (whole plan, one rank's section, from a file
 * or from memory; see plan_io.h).
 */
#include "plan_io.h"
#include "plan_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

typedef struct rcur {
    const uint8_t *d;
    size_t n, pos;
    int bad;
} rcur;

static const uint8_t *r_take(rcur *c, size_t n) {
    if (c->bad || n > c->n - c->pos) {
        c->bad = 1;
        return NULL;
    }
    const uint8_t *p = c->d + c->pos;
    c->pos += n;
    return p;
}
static uint8_t r_u8(rcur *c) {
    const uint8_t *p = r_take(c, 1);
    return p ? p[0] : 0;
}
static uint32_t r_u32(rcur *c) {
    const uint8_t *p = r_take(c, 4);
    return p ? sw__get_u32_at(p) : 0;
}
static uint64_t r_u64(rcur *c) {
    const uint8_t *p = r_take(c, 8);
    return p ? sw__get_u64_at(p) : 0;
}
static int32_t r_i32(rcur *c) { return (int32_t)r_u32(c); }
static int64_t r_i64(rcur *c) { return (int64_t)r_u64(c); }
static double r_f64(rcur *c) {
    uint64_t u = r_u64(c);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
/* LEB128 varint of at most 10 bytes (bad beyond, or past 64 bits). */
static uint64_t r_vu(rcur *c) {
    uint64_t v = 0;
    for (int sh = 0; sh < 70; sh += 7) {
        const uint8_t *p = r_take(c, 1);
        if (!p) return 0;
        if (sh == 63 && (p[0] & 0x7e)) break;
        v |= (uint64_t)(p[0] & 0x7f) << sh;
        if (!(p[0] & 0x80)) return v;
    }
    c->bad = 1;
    return 0;
}
static int64_t r_vs(rcur *c) {
    uint64_t u = r_vu(c);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}
/* A varint that must fit in [0, INT64_MAX] (coordinates, shapes). */
static int64_t r_vpos(rcur *c) {
    uint64_t u = r_vu(c);
    if (u > (uint64_t)INT64_MAX) c->bad = 1;
    return (int64_t)u;
}
/* A varint that must fit in 32 bits. */
static uint32_t r_v32(rcur *c) {
    uint64_t u = r_vu(c);
    if (u > UINT32_MAX) c->bad = 1;
    return (uint32_t)u;
}
/* rank + delta, inside int32. */
static int32_t r_rank(rcur *c, int32_t rank) {
    int64_t v = (int64_t)rank + r_vs(c);
    if (v < INT32_MIN || v > INT32_MAX) c->bad = 1;
    return (int32_t)v;
}

typedef struct rctx {
    sw_plan *p;
    const char *name;
    sw_error *err;
    uint64_t fsize;
    uint64_t hoff, hlen;
    uint32_t tot_tasks, tot_xfers, tot_segs, tot_deps, tot_locals, tot_pieces;
    uint64_t *dir;        /* [nranks * 3]: offset, length, checksum */
    uint32_t *dlocals;    /* [nranks + 1]: first local of each rank (prefix sums); [nranks] = total */
    uint32_t *dpieces;    /* [nranks + 1]: first piece */
    char *namebuf;        /* the previous name of a front-coded list */
    size_t namecap;
} rctx;

#define CORRUPT(cx, ...) sw__err((cx)->err, SW_CORRUPT, __VA_ARGS__)

/* Reads a string (u32 length, bytes, NUL) into the plan's arena; NULL after an error
 * was reported. */
static const char *r_str(rctx *cx, rcur *c, const char *what) {
    uint32_t n = r_u32(c);
    if (c->bad) return NULL;
    if (n > MAX_STR || (size_t)n + 1 > c->n - c->pos) {
        CORRUPT(cx, "plan '%s': %s has length %u beyond the end of its section", cx->name, what, n);
        c->bad = 2;
        return NULL;
    }
    const uint8_t *s = r_take(c, (size_t)n + 1);
    if (s[n] != 0 || memchr(s, 0, n)) {
        CORRUPT(cx, "plan '%s': %s is not a NUL-terminated string", cx->name, what);
        c->bad = 2;
        return NULL;
    }
    char *out = sw_arena_strndup(&cx->p->arena, (const char *)s, n);
    if (!out) {
        sw__err(cx->err, SW_NOMEM, "out of memory reading plan '%s'", cx->name);
        c->bad = 2;
    }
    return out;
}

/* Reads a front-coded name (prefix shared with the previous one of its list, the rest):
 * *prevlen is the previous name's length (0 to start a list).  Into the arena. */
static const char *r_name(rctx *cx, rcur *c, size_t *prevlen, const char *what) {
    uint64_t k = r_vu(c), n = r_vu(c);
    if (c->bad) return NULL;
    if (k > *prevlen || n > MAX_STR || k + n > MAX_STR || n > c->n - c->pos) {
        CORRUPT(cx, "plan '%s': %s (%llu bytes shared, %llu more) does not fit", cx->name, what, (unsigned long long)k,
                (unsigned long long)n);
        c->bad = 2;
        return NULL;
    }
    const uint8_t *s = r_take(c, (size_t)n);
    if (memchr(s, 0, (size_t)n)) {
        CORRUPT(cx, "plan '%s': %s holds a NUL byte", cx->name, what);
        c->bad = 2;
        return NULL;
    }
    if (k + n + 1 > cx->namecap) {
        size_t cap = (size_t)(k + n + 1) * 2;
        char *nb = realloc(cx->namebuf, cap);
        if (!nb) {
            sw__err(cx->err, SW_NOMEM, "out of memory reading plan '%s'", cx->name);
            c->bad = 2;
            return NULL;
        }
        cx->namebuf = nb;
        cx->namecap = cap;
    }
    memcpy(cx->namebuf + k, s, (size_t)n);
    cx->namebuf[k + n] = '\0';
    *prevlen = (size_t)(k + n);
    char *out = sw_arena_strndup(&cx->p->arena, cx->namebuf, (size_t)(k + n));
    if (!out) {
        sw__err(cx->err, SW_NOMEM, "out of memory reading plan '%s'", cx->name);
        c->bad = 2;
    }
    return out;
}

/* Reports a truncated region unless an error is already set (c->bad == 2). */
static int r_fail(rctx *cx, rcur *c, const char *where) {
    if (c->bad == 2) return cx->err ? cx->err->status : SW_CORRUPT;
    return CORRUPT(cx, "plan '%s': %s is truncated or holds an invalid number (at byte %zu of %zu)", cx->name, where,
                   c->pos, c->n);
}

static int r_ndim(rctx *cx, rcur *c, const char *where, const char *what, uint32_t i, int *out) {
    uint8_t nd = r_u8(c);
    if (c->bad) return r_fail(cx, c, where);
    if (nd > SW_MAXDIM) return CORRUPT(cx, "plan '%s': %s %u has %u dims (at most %d)", cx->name, what, i, nd, SW_MAXDIM);
    *out = nd;
    return SW_OK;
}

static int r_header(rctx *cx, const uint8_t *h, size_t hlen) {
    sw_plan *p = cx->p;
    rcur c = {h, hlen, 0, 0};
    const char **names[4] = {&p->model, &p->sync, &p->from, &p->to};
    static const char *const nn[4] = {"the model name", "the sync name", "the from name", "the to name"};
    for (int i = 0; i < 4; i++) {
        *names[i] = r_str(cx, &c, nn[i]);
        if (c.bad) return r_fail(cx, &c, "the header");
    }
    uint32_t sched = r_u32(&c);
    if (!c.bad && sched >= SW_SCHED_COUNT) return CORRUPT(cx, "plan '%s': unknown scheduler %u", cx->name, sched);
    p->scheduler = (sw_scheduler)sched;
    for (int k = 0; k < SW_LINK_COUNT; k++) {
        p->topo.link[k].bandwidth = r_f64(&c);
        p->topo.link[k].latency = r_f64(&c);
    }
    p->topo.gpus_per_nic = r_i64(&c);
    p->bucket = r_i64(&c);
    for (int k = 0; k < SW_LINK_COUNT; k++) p->chunk[k] = r_i64(&c);
    p->nwaves = r_i32(&c);
    for (int k = 0; k < SW_LINK_COUNT; k++) p->stats.bytes[k] = r_u64(&c);
    p->stats.unique_bytes = r_u64(&c);
    for (int k = 0; k < SW_LINK_COUNT; k++) p->stats.max_send[k] = r_u64(&c);
    for (int k = 0; k < SW_LINK_COUNT; k++) p->stats.max_recv[k] = r_u64(&c);
    p->stats.max_staging = r_u64(&c);
    p->stats.predicted_s = r_f64(&c);
    p->stats.lower_bound_s = r_f64(&c);
    p->ntensors = r_u32(&c);
    p->nranks = r_u32(&c);
    cx->tot_locals = r_u32(&c);
    cx->tot_pieces = r_u32(&c);
    cx->tot_xfers = r_u32(&c);
    cx->tot_segs = r_u32(&c);
    cx->tot_tasks = r_u32(&c);
    cx->tot_deps = r_u32(&c);
    p->dtypes = r_u32(&c);
    if (c.bad) return r_fail(cx, &c, "the header");
    if (p->nwaves < 0) return CORRUPT(cx, "plan '%s': %d waves", cx->name, p->nwaves);
    if (p->dtypes >> SW_DT_COUNT)
        return CORRUPT(cx, "plan '%s': the dtype set 0x%x names unknown dtypes", cx->name, p->dtypes);
    /* every record takes at least these many bytes of the header / file */
    if (p->ntensors > hlen / MIN_TENSOR || p->nranks > hlen / (12 + DIR_ENTRY))
        return CORRUPT(cx, "plan '%s': header counts (%u tensors, %u ranks) exceed its %zu bytes", cx->name, p->ntensors,
                       p->nranks, hlen);
    if (cx->tot_locals > cx->fsize / MIN_LOCAL || cx->tot_pieces > cx->fsize / MIN_PIECE ||
        cx->tot_xfers > cx->fsize / MIN_XFER || cx->tot_tasks > cx->fsize / MIN_TASK ||
        cx->tot_segs > cx->fsize / MIN_SEG || cx->tot_deps > cx->fsize / MIN_DEP)
        return CORRUPT(cx,
                       "plan '%s': counts (%u locals, %u pieces, %u transfers, %u segments, %u tasks, %u deps) exceed "
                       "the file's %llu bytes",
                       cx->name, cx->tot_locals, cx->tot_pieces, cx->tot_xfers, cx->tot_segs, cx->tot_tasks,
                       cx->tot_deps, (unsigned long long)cx->fsize);
    sw_arena *a = &p->arena;
    p->tensors = sw_arena_array(a, p->ntensors + 1u, sizeof *p->tensors);
    p->ranks = sw_arena_array(a, p->nranks + 1u, sizeof *p->ranks);
    cx->dir = sw_arena_array(a, (size_t)p->nranks * 3 + 1, sizeof *cx->dir);
    cx->dlocals = sw_arena_array(a, (size_t)p->nranks + 1, sizeof *cx->dlocals);
    cx->dpieces = sw_arena_array(a, (size_t)p->nranks + 1, sizeof *cx->dpieces);
    if (!p->tensors || !p->ranks || !cx->dir || !cx->dlocals || !cx->dpieces)
        return sw__err(cx->err, SW_NOMEM, "out of memory reading plan '%s'", cx->name);
    size_t prev = 0;
    for (uint32_t i = 0; i < p->ntensors; i++) {
        sw_plan_tensor *t = &p->tensors[i];
        t->name = r_name(cx, &c, &prev, "a tensor name");
        t->dtype = (sw_dtype)r_u8(&c);
        uint8_t flags = r_u8(&c);
        if (c.bad) return r_fail(cx, &c, "the header");
        if ((unsigned)t->dtype >= SW_DT_COUNT)
            return CORRUPT(cx, "plan '%s': tensor %u has unknown dtype %u", cx->name, i, (unsigned)t->dtype);
        if (flags > 1) return CORRUPT(cx, "plan '%s': tensor %u has unknown flags 0x%02x", cx->name, i, flags);
        t->skipped = flags;
        SW_CHECK(r_ndim(cx, &c, "the header", "tensor", i, &t->ndim));
        for (int k = 0; k < t->ndim; k++) t->shape[k] = r_vpos(&c);
    }
    for (uint32_t i = 0; i < p->nranks; i++) {
        p->ranks[i].rank = r_i32(&c);
        p->ranks[i].host = r_i32(&c);
        p->ranks[i].device = r_i32(&c);
    }
    uint64_t nl = 0, np = 0;
    for (uint32_t r = 0; r < p->nranks; r++) {
        int32_t rk = r_i32(&c);
        uint32_t l = r_u32(&c), q = r_u32(&c);
        (void)r_u32(&c);
        cx->dir[3 * r] = r_u64(&c);
        cx->dir[3 * r + 1] = r_u64(&c);
        cx->dir[3 * r + 2] = r_u64(&c);
        if (c.bad) return r_fail(cx, &c, "the header");
        if (rk != p->ranks[r].rank)
            return CORRUPT(cx, "plan '%s': section directory entry %u is for rank %d, expected rank %d", cx->name, r, rk,
                           p->ranks[r].rank);
        uint64_t so = cx->dir[3 * r], sl = cx->dir[3 * r + 1];
        if (so < cx->hoff + cx->hlen || so > cx->fsize || sl > cx->fsize - so)
            return CORRUPT(cx, "plan '%s': the section of rank %d (offset %llu, %llu bytes) is outside the file (%llu bytes)",
                           cx->name, rk, (unsigned long long)so, (unsigned long long)sl, (unsigned long long)cx->fsize);
        cx->dlocals[r] = (uint32_t)(nl < UINT32_MAX ? nl : UINT32_MAX);
        cx->dpieces[r] = (uint32_t)(np < UINT32_MAX ? np : UINT32_MAX);
        nl += l;
        np += q;
        if (l > sl / MIN_LOCAL || q > sl / MIN_PIECE)
            return CORRUPT(cx, "plan '%s': the section of rank %d cannot hold %u locals and %u pieces in %llu bytes",
                           cx->name, rk, l, q, (unsigned long long)sl);
    }
    if (nl != cx->tot_locals || np != cx->tot_pieces)
        return CORRUPT(cx, "plan '%s': the sections hold %llu locals and %llu pieces, the header says %u and %u", cx->name,
                       (unsigned long long)nl, (unsigned long long)np, cx->tot_locals, cx->tot_pieces);
    cx->dlocals[p->nranks] = (uint32_t)nl;
    cx->dpieces[p->nranks] = (uint32_t)np;
    uint32_t nr2 = r_u32(&c);
    if (c.bad) return r_fail(cx, &c, "the header");
    if (nr2 != p->nranks) return CORRUPT(cx, "plan '%s': directory of %u ranks, header says %u", cx->name, nr2, p->nranks);
    if (c.pos != c.n) return CORRUPT(cx, "plan '%s': %zu stray bytes at the end of the header", cx->name, c.n - c.pos);
    return SW_OK;
}

/* Per-read state of the global arrays (full read) or the dense renumbering (one rank). */
typedef struct rfill {
    int compact;
    uint8_t *xset, *tset, *sset, *dset; /* full: slot filled (transfers: XS_* bits) */
    uint32_t *tmap;                     /* compact: global task -> dense + 1 (0 = absent) */
    uint32_t nx, nt, ns, nd;            /* compact: used so far */
    uint32_t *ord;                      /* per transfer ordinal of the section: its index in p->xfers */
    size_t capord;
    uint32_t *stub;                     /* per stub ordinal of the section: its local index in p->locals */
    size_t capstub;
    /* full: the stand-ins seen, checked against the real locals at the end */
    struct rstub {
        uint32_t local;
        int32_t rank, section;
        uint8_t role, dtype;
    } *stubs;
    size_t nstubs, capstubs;
} rfill;

enum { XS_BOX = 1, XS_SRC = 2, XS_DST = 4, XS_SRC_HINT = 8, XS_DST_HINT = 16 };

static int grow_u32(uint32_t **v, size_t *cap, size_t n) { return SW_GROW(*v, *cap, n); }

/* Reads a side's map/base over nd local dims. */
static void r_map(rcur *c, sw_plan_side *sd, int nd) {
    for (int j = 0; j < SW_MAXDIM; j++) {
        sd->map[j] = -1;
        sd->base[j] = 0;
    }
    for (int j = 0; j < nd; j++) {
        sd->map[j] = (int8_t)r_u8(c);
        sd->base[j] = r_vs(c);
    }
}

/* Parses the section of rank index r: into global slots, or appended densely. */
static int r_section(rctx *cx, rfill *f, uint32_t r, const uint8_t *d, size_t n) {
    sw_plan *p = cx->p;
    int32_t rank = p->ranks[r].rank;
    rcur c = {d, n, 0, 0};
    char where[64];
    snprintf(where, sizeof where, "the section of rank %d", rank);
    int32_t rk = r_i32(&c);
    if (c.bad) return r_fail(cx, &c, where);
    if (rk != rank) return CORRUPT(cx, "plan '%s': %s is labelled rank %d", cx->name, where, rk);
    /* its locals and their pieces */
    uint32_t nl = cx->dlocals[r + 1] - cx->dlocals[r], npc = cx->dpieces[r + 1] - cx->dpieces[r];
    uint32_t l0 = f->compact ? 0 : cx->dlocals[r], q0 = f->compact ? 0 : cx->dpieces[r], q = 0;
    size_t prev = 0;
    for (uint32_t i = 0; i < nl; i++) {
        sw_plan_local *l = &p->locals[l0 + i];
        memset(l, 0, sizeof *l);
        l->name = r_name(cx, &c, &prev, "a local tensor name");
        l->rank = rank;
        l->role = r_u8(&c);
        l->dtype = (sw_dtype)r_u8(&c);
        if (c.bad) return r_fail(cx, &c, where);
        SW_CHECK(r_ndim(cx, &c, where, "local", l0 + i, &l->ndim));
        for (int k = 0; k < l->ndim; k++) l->shape[k] = r_vpos(&c);
        uint32_t m = r_v32(&c);
        if (c.bad) return r_fail(cx, &c, where);
        if (m > npc - q)
            return CORRUPT(cx, "plan '%s': local %u '%s' has %u pieces, %s holds %u", cx->name, l0 + i, l->name, m,
                           where, npc);
        l->piece0 = q0 + q;
        l->npieces = m;
        for (uint32_t k = 0; k < m; k++, q++) {
            sw_plan_piece *pc = &p->pieces[q0 + q];
            memset(pc, 0, sizeof *pc);
            pc->tensor = r_v32(&c);
            if (c.bad) return r_fail(cx, &c, where);
            if (pc->tensor >= p->ntensors)
                return CORRUPT(cx, "plan '%s': piece %u references tensor %u of %u", cx->name, q0 + q, pc->tensor,
                               p->ntensors);
            for (int e = 0; e < p->tensors[pc->tensor].ndim; e++) {
                pc->start[e] = r_vpos(&c);
                pc->size[e] = r_vpos(&c);
            }
            sw_plan_side sd;
            r_map(&c, &sd, l->ndim);
            memcpy(pc->map, sd.map, sizeof pc->map);
            memcpy(pc->base, sd.base, sizeof pc->base);
        }
    }
    if (c.bad) return r_fail(cx, &c, where);
    if (q != npc) return CORRUPT(cx, "plan '%s': %s lists %u pieces, its locals hold %u", cx->name, where, npc, q);
    /* stand-ins for the other ranks' locals */
    uint32_t ns = r_v32(&c);
    if (c.bad) return r_fail(cx, &c, where);
    if (ns > (n - c.pos) / MIN_STUB || ns > cx->tot_locals)
        return CORRUPT(cx, "plan '%s': %s lists %u stand-in locals", cx->name, where, ns);
    if (grow_u32(&f->stub, &f->capstub, (size_t)ns + 1)) return sw__err(cx->err, SW_NOMEM, "out of memory reading plan '%s'", cx->name);
    uint64_t g = 0;
    for (uint32_t k = 0; k < ns; k++) {
        uint64_t dl = r_vu(&c);
        int32_t srank = r_rank(&c, rank);
        uint8_t rd = r_u8(&c);
        if (c.bad) return r_fail(cx, &c, where);
        g += dl;
        if ((k && !dl) || g >= cx->tot_locals || (g >= cx->dlocals[r] && g < cx->dlocals[r + 1]))
            return CORRUPT(cx, "plan '%s': %s has stand-in local %llu (of %u, its own %u..%u, in increasing order)",
                           cx->name, where, (unsigned long long)g, cx->tot_locals, cx->dlocals[r], cx->dlocals[r + 1]);
        uint8_t role = rd & 3, dt = rd >> 2;
        if ((role != SW_ROLE_SRC && role != SW_ROLE_DST) || dt >= SW_DT_COUNT)
            return CORRUPT(cx, "plan '%s': %s has stand-in local %llu with role %u and dtype %u", cx->name, where,
                           (unsigned long long)g, role, dt);
        if (f->compact) {
            sw_plan_local *l = &p->locals[nl + k];
            memset(l, 0, sizeof *l);
            l->name = "";
            l->rank = srank;
            l->role = role;
            l->dtype = (sw_dtype)dt;
            l->remote = 1;
            f->stub[k] = nl + k;
        } else {
            if (SW_GROW(f->stubs, f->capstubs, f->nstubs + 1))
                return sw__err(cx->err, SW_NOMEM, "out of memory reading plan '%s'", cx->name);
            f->stubs[f->nstubs++] = (struct rstub){(uint32_t)g, srank, rank, role, dt};
            f->stub[k] = (uint32_t)g;
        }
    }
    if (f->compact) p->nlocals = nl + ns;
    /* transfers */
    uint32_t nx = r_v32(&c);
    if (c.bad) return r_fail(cx, &c, where);
    if (nx > cx->tot_xfers || nx > (n - c.pos) / MIN_XFER)
        return CORRUPT(cx, "plan '%s': %s lists %u transfers of %u", cx->name, where, nx, cx->tot_xfers);
    if (grow_u32(&f->ord, &f->capord, (size_t)nx + 1)) return sw__err(cx->err, SW_NOMEM, "out of memory reading plan '%s'", cx->name);
    g = 0;
    for (uint32_t k = 0; k < nx; k++) {
        uint64_t dx = r_vu(&c);
        g += dx;
        if (c.bad) return r_fail(cx, &c, where);
        if ((k && !dx) || g >= cx->tot_xfers)
            return CORRUPT(cx, "plan '%s': %s holds transfer %llu of %u (in increasing order)", cx->name, where,
                           (unsigned long long)g, cx->tot_xfers);
        uint32_t xi = (uint32_t)g;
        sw_plan_xfer x;
        memset(&x, 0, sizeof x);
        x.tensor = r_v32(&c);
        if (c.bad) return r_fail(cx, &c, where);
        if (x.tensor >= p->ntensors)
            return CORRUPT(cx, "plan '%s': transfer %u references tensor %u of %u", cx->name, xi, x.tensor, p->ntensors);
        int tnd = p->tensors[x.tensor].ndim;
        x.nelem = 1;
        for (int e = 0; e < tnd; e++) {
            x.start[e] = r_vpos(&c);
            x.size[e] = r_vpos(&c);
            if (__builtin_mul_overflow(x.nelem, (uint64_t)x.size[e], &x.nelem))
                return CORRUPT(cx, "plan '%s': transfer %u has an overflowing size", cx->name, xi);
        }
        x.src_rank = r_rank(&c, rank);
        x.dst_rank = r_rank(&c, rank);
        if (c.bad) return r_fail(cx, &c, where);
        if (x.src_rank != rank && x.dst_rank != rank)
            return CORRUPT(cx, "plan '%s': transfer %u (%d -> %d) is in %s", cx->name, xi, x.src_rank, x.dst_rank, where);
        sw_plan_side *sd[2] = {&x.src, &x.dst};
        int32_t owner[2] = {x.src_rank, x.dst_rank};
        for (int s = 0; s < 2; s++) {
            uint32_t v = r_v32(&c);
            if (c.bad) return r_fail(cx, &c, where);
            if (owner[s] == rank) {
                if (v >= nl)
                    return CORRUPT(cx, "plan '%s': transfer %u references local %u of the %u of %s", cx->name, xi, v, nl,
                                   where);
                sd[s]->local = l0 + v;
                r_map(&c, sd[s], p->locals[l0 + v].ndim);
            } else {
                if (v >= ns)
                    return CORRUPT(cx, "plan '%s': transfer %u references stand-in local %u of the %u of %s", cx->name,
                                   xi, v, ns, where);
                sd[s]->local = f->stub[v];
                r_map(&c, sd[s], 0);
            }
        }
        if (c.bad) return r_fail(cx, &c, where);
        if (f->compact) {
            f->ord[k] = f->nx;
            p->xfers[f->nx++] = x;
            continue;
        }
        f->ord[k] = xi;
        sw_plan_xfer *y = &p->xfers[xi];
        uint8_t *fl = &f->xset[xi];
        if (*fl & XS_BOX) {
            if (y->tensor != x.tensor || y->nelem != x.nelem || y->src_rank != x.src_rank || y->dst_rank != x.dst_rank ||
                memcmp(y->start, x.start, sizeof x.start) || memcmp(y->size, x.size, sizeof x.size))
                return CORRUPT(cx, "plan '%s': transfer %u differs between rank sections", cx->name, xi);
        } else {
            y->tensor = x.tensor;
            y->nelem = x.nelem;
            y->src_rank = x.src_rank;
            y->dst_rank = x.dst_rank;
            memcpy(y->start, x.start, sizeof x.start);
            memcpy(y->size, x.size, sizeof x.size);
            *fl |= XS_BOX;
        }
        sw_plan_side *ys[2] = {&y->src, &y->dst};
        static const uint8_t own_bit[2] = {XS_SRC, XS_DST}, hint_bit[2] = {XS_SRC_HINT, XS_DST_HINT};
        for (int s = 0; s < 2; s++) {
            if (owner[s] == rank) {
                if (*fl & own_bit[s])
                    return CORRUPT(cx, "plan '%s': transfer %u has its %s side twice", cx->name, xi, s ? "destination" : "source");
                if ((*fl & hint_bit[s]) && ys[s]->local != sd[s]->local)
                    return CORRUPT(cx, "plan '%s': transfer %u differs between rank sections", cx->name, xi);
                *ys[s] = *sd[s];
                *fl |= own_bit[s];
            } else if (*fl & own_bit[s]) {
                if (ys[s]->local != sd[s]->local)
                    return CORRUPT(cx, "plan '%s': transfer %u differs between rank sections", cx->name, xi);
            } else {
                ys[s]->local = sd[s]->local;
                *fl |= hint_bit[s];
            }
        }
    }
    /* tasks */
    uint32_t nt = r_v32(&c);
    if (c.bad) return r_fail(cx, &c, where);
    if (nt > cx->tot_tasks || nt > (n - c.pos) / MIN_TASK)
        return CORRUPT(cx, "plan '%s': %s lists %u tasks of %u", cx->name, where, nt, cx->tot_tasks);
    int32_t last_wave = 0;
    g = 0;
    for (uint32_t k = 0; k < nt; k++) {
        uint64_t dt = r_vu(&c);
        g += dt;
        sw_plan_task t;
        memset(&t, 0, sizeof t);
        t.src = r_rank(&c, rank);
        t.dst = r_rank(&c, rank);
        uint8_t cr = r_u8(&c);
        int64_t w = (int64_t)last_wave + r_vs(&c);
        t.bytes = r_vu(&c);
        t.seg0 = r_v32(&c);
        t.nseg = r_v32(&c);
        if (c.bad) return r_fail(cx, &c, where);
        if ((k && !dt) || g >= cx->tot_tasks)
            return CORRUPT(cx, "plan '%s': %s holds task %llu of %u (in increasing order)", cx->name, where,
                           (unsigned long long)g, cx->tot_tasks);
        uint32_t ti = (uint32_t)g;
        t.cls = cr & 0x7f;
        t.relay = cr >> 7;
        if (t.src != rank && t.dst != rank)
            return CORRUPT(cx, "plan '%s': task %u (%d -> %d) is in %s", cx->name, ti, t.src, t.dst, where);
        if (w < 0 || w >= p->nwaves) return CORRUPT(cx, "plan '%s': task %u is in wave %lld of %d", cx->name, ti, (long long)w, p->nwaves);
        if (w < last_wave) return CORRUPT(cx, "plan '%s': %s is not in wave order at task %u", cx->name, where, ti);
        t.wave = (int32_t)w;
        last_wave = t.wave;
        if ((uint64_t)t.seg0 + t.nseg > cx->tot_segs)
            return CORRUPT(cx, "plan '%s': task %u references segment %llu of %u", cx->name, ti,
                           (unsigned long long)t.seg0 + t.nseg - 1, cx->tot_segs);
        if (t.nseg > (n - c.pos) / MIN_SEG) return r_fail(cx, &c, where);
        uint32_t seg_at = f->compact ? f->ns : t.seg0;
        for (uint32_t s = 0; s < t.nseg; s++) {
            sw_plan_seg sg;
            memset(&sg, 0, sizeof sg);
            uint32_t o = r_v32(&c);
            sg.elem0 = r_vu(&c);
            sg.nelem = r_vu(&c);
            if (c.bad) return r_fail(cx, &c, where);
            if (o >= nx)
                return CORRUPT(cx, "plan '%s': task %u segment %u references transfer %u of the %u of %s", cx->name, ti,
                               s, o, nx, where);
            sg.xfer = f->ord[o];
            if (f->compact) {
                p->segs[f->ns++] = sg;
            } else {
                uint32_t gi = t.seg0 + s;
                if (f->sset[gi] && memcmp(&p->segs[gi], &sg, sizeof sg))
                    return CORRUPT(cx, "plan '%s': segment %u differs between rank sections", cx->name, gi);
                memcpy(&p->segs[gi], &sg, sizeof sg);
                f->sset[gi] = 1;
            }
        }
        t.seg0 = seg_at;
        t.dep0 = r_v32(&c);
        t.ndep = r_v32(&c);
        if (c.bad) return r_fail(cx, &c, where);
        if ((uint64_t)t.dep0 + t.ndep > cx->tot_deps)
            return CORRUPT(cx, "plan '%s': task %u references dep %llu of %u", cx->name, ti,
                           (unsigned long long)t.dep0 + t.ndep - 1, cx->tot_deps);
        if (t.ndep > (n - c.pos) / MIN_DEP) return r_fail(cx, &c, where);
        uint32_t dep_at = f->compact ? f->nd : t.dep0;
        for (uint32_t s = 0; s < t.ndep; s++) {
            uint32_t dv = r_v32(&c);
            if (c.bad) return r_fail(cx, &c, where);
            if (dv >= cx->tot_tasks)
                return CORRUPT(cx, "plan '%s': task %u depends on task %u of %u", cx->name, ti, dv, cx->tot_tasks);
            if (f->compact) {
                p->deps[f->nd++] = dv; /* global for now: renumbered after the section */
            } else {
                uint32_t gi = t.dep0 + s;
                if (f->dset[gi] && p->deps[gi] != dv)
                    return CORRUPT(cx, "plan '%s': dep %u differs between rank sections", cx->name, gi);
                p->deps[gi] = dv;
                f->dset[gi] = 1;
            }
        }
        t.dep0 = dep_at;
        if (f->compact) {
            f->tmap[ti] = f->nt + 1;
            p->tasks[f->nt++] = t;
        } else {
            if (f->tset[ti] && memcmp(&p->tasks[ti], &t, sizeof t))
                return CORRUPT(cx, "plan '%s': task %u differs between rank sections", cx->name, ti);
            memcpy(&p->tasks[ti], &t, sizeof t);
            f->tset[ti] = 1;
        }
    }
    if (c.pos != c.n) return CORRUPT(cx, "plan '%s': %zu stray bytes at the end of %s", cx->name, c.n - c.pos, where);
    return SW_OK;
}

/* Reads the bytes [off, off + len) of the source: a pointer into mem, or a malloc'd
 * copy read from fd (*owned set). */
typedef struct rsrc {
    const uint8_t *mem;
    int fd;
} rsrc;

static int src_get(rctx *cx, const rsrc *s, uint64_t off, uint64_t len, const uint8_t **out, uint8_t **owned) {
    *owned = NULL;
    if (s->mem) {
        *out = s->mem + off;
        return SW_OK;
    }
    uint8_t *b = malloc(len ? len : 1);
    if (!b) return sw__err(cx->err, SW_NOMEM, "out of memory reading plan '%s'", cx->name);
    size_t got = 0;
    while (got < len) {
        ssize_t k = pread(s->fd, b + got, len - got, (off_t)(off + got));
        if (k <= 0) {
            free(b);
            if (k == 0) return CORRUPT(cx, "plan '%s': file ends inside a section", cx->name);
            return sw__err(cx->err, SW_IO, "cannot read plan '%s': %s", cx->name, strerror(errno));
        }
        got += (size_t)k;
    }
    *out = b;
    *owned = b;
    return SW_OK;
}

/* The reader proper: preamble, header, one or every section, structural check. */
static int read_plan(sw_plan *p, const rsrc *s, uint64_t fsize, const char *name, int32_t only_rank,
                     sw_plan_file_info *info, sw_error *err) {
    rctx cx = {.p = p, .name = name, .err = err, .fsize = fsize};
    memset(p, 0, sizeof *p);
    sw_arena_init(&p->arena);
    const uint8_t *pre = NULL, *hdr = NULL, *sec = NULL;
    uint8_t *pre_o = NULL, *hdr_o = NULL, *sec_o = NULL;
    rfill f;
    memset(&f, 0, sizeof f);
    int rc;
    if (fsize < SW_PLAN_PREAMBLE) {
        rc = CORRUPT(&cx, "plan '%s': %llu bytes, too short for a plan file (a plan starts with a %u-byte preamble)",
                     name, (unsigned long long)fsize, SW_PLAN_PREAMBLE);
        goto fail;
    }
    SW_CHECK_GOTO(src_get(&cx, s, 0, SW_PLAN_PREAMBLE, &pre, &pre_o), rc, fail);
    if (memcmp(pre, SW_PLAN_MAGIC, 8)) {
        rc = CORRUPT(&cx, "plan '%s': not a shardwave plan (bad magic)", name);
        goto fail;
    }
    uint32_t ver = sw__get_u32_at(pre + 8);
    if (ver != SW_PLAN_VERSION) {
        rc = CORRUPT(&cx, "plan '%s': format version %u, this build reads version %u", name, ver, SW_PLAN_VERSION);
        goto fail;
    }
    if (sw__get_u32_at(pre + 12) != SW_PLAN_PREAMBLE) {
        rc = CORRUPT(&cx, "plan '%s': preamble of %u bytes, expected %u", name, sw__get_u32_at(pre + 12), SW_PLAN_PREAMBLE);
        goto fail;
    }
    if (sw__get_u64_at(pre + 16) != fsize) {
        rc = CORRUPT(&cx, "plan '%s': the file has %llu bytes but its preamble says %llu (truncated or extended)", name,
                     (unsigned long long)fsize, (unsigned long long)sw__get_u64_at(pre + 16));
        goto fail;
    }
    if (s->mem && only_rank < 0) {
        uint64_t want = sw__get_u64_at(pre + 24), got = sw__plan_checksum(s->mem + 32, fsize - 32);
        if (want != got) {
            rc = CORRUPT(&cx, "plan '%s': checksum mismatch (stored %016llx, computed %016llx)", name,
                         (unsigned long long)want, (unsigned long long)got);
            goto fail;
        }
    }
    cx.hoff = sw__get_u64_at(pre + 32);
    cx.hlen = sw__get_u64_at(pre + 40);
    if (cx.hoff != SW_PLAN_PREAMBLE || cx.hlen > fsize - cx.hoff) {
        rc = CORRUPT(&cx, "plan '%s': header at offset %llu, %llu bytes, outside the file (%llu bytes)", name,
                     (unsigned long long)cx.hoff, (unsigned long long)cx.hlen, (unsigned long long)fsize);
        goto fail;
    }
    SW_CHECK_GOTO(src_get(&cx, s, cx.hoff, cx.hlen, &hdr, &hdr_o), rc, fail);
    if (sw__plan_checksum(hdr, cx.hlen) != sw__get_u64_at(pre + 48)) {
        rc = CORRUPT(&cx, "plan '%s': header checksum mismatch", name);
        goto fail;
    }
    SW_CHECK_GOTO(r_header(&cx, hdr, cx.hlen), rc, fail);
    sw_arena *a = &p->arena;
    if (only_rank < 0) {
        p->nlocals = cx.tot_locals;
        p->npieces = cx.tot_pieces;
        p->nxfers = cx.tot_xfers;
        p->nsegs = cx.tot_segs;
        p->ntasks = cx.tot_tasks;
        p->ndeps = cx.tot_deps;
        p->locals = sw_arena_array(a, p->nlocals + 1u, sizeof *p->locals);
        p->pieces = sw_arena_array(a, p->npieces + 1u, sizeof *p->pieces);
        p->xfers = sw_arena_array(a, p->nxfers + 1u, sizeof *p->xfers);
        p->segs = sw_arena_array(a, p->nsegs + 1u, sizeof *p->segs);
        p->tasks = sw_arena_array(a, p->ntasks + 1u, sizeof *p->tasks);
        p->deps = sw_arena_array(a, p->ndeps + 1u, sizeof *p->deps);
        f.xset = calloc(p->nxfers + 1u, 1);
        f.sset = calloc(p->nsegs + 1u, 1);
        f.tset = calloc(p->ntasks + 1u, 1);
        f.dset = calloc(p->ndeps + 1u, 1);
        if (!p->locals || !p->pieces || !p->xfers || !p->segs || !p->tasks || !p->deps || !f.xset || !f.sset ||
            !f.tset || !f.dset) {
            rc = sw__err(err, SW_NOMEM, "out of memory reading plan '%s'", name);
            goto fail;
        }
        for (uint32_t r = 0; r < p->nranks; r++) {
            const uint8_t *sd = s->mem + cx.dir[3 * r];
            uint64_t sl = cx.dir[3 * r + 1];
            if (sw__plan_checksum(sd, sl) != cx.dir[3 * r + 2]) {
                rc = CORRUPT(&cx, "plan '%s': checksum mismatch in the section of rank %d", name, p->ranks[r].rank);
                goto fail;
            }
            SW_CHECK_GOTO(r_section(&cx, &f, r, sd, sl), rc, fail);
        }
        const char *miss = NULL;
        uint32_t mi = 0;
        for (uint32_t i = 0; i < p->nxfers && !miss; i++)
            if ((f.xset[i] & (XS_BOX | XS_SRC | XS_DST)) != (XS_BOX | XS_SRC | XS_DST)) miss = "transfer (or one of its sides)", mi = i;
        for (uint32_t i = 0; i < p->ntasks && !miss; i++)
            if (!f.tset[i]) miss = "task", mi = i;
        for (uint32_t i = 0; i < p->nsegs && !miss; i++)
            if (!f.sset[i]) miss = "segment", mi = i;
        for (uint32_t i = 0; i < p->ndeps && !miss; i++)
            if (!f.dset[i]) miss = "dep", mi = i;
        if (miss) {
            rc = CORRUPT(&cx, "plan '%s': %s %u is in no rank section", name, miss, mi);
            goto fail;
        }
        for (size_t i = 0; i < f.nstubs; i++) {
            const sw_plan_local *l = &p->locals[f.stubs[i].local];
            if (l->rank != f.stubs[i].rank || l->role != f.stubs[i].role || (unsigned)l->dtype != f.stubs[i].dtype) {
                rc = CORRUPT(&cx, "plan '%s': the section of rank %d describes local %u '%s' of rank %d differently", name,
                             f.stubs[i].section, f.stubs[i].local, l->name, l->rank);
                goto fail;
            }
        }
    } else {
        int32_t ri = sw_plan_rank_index(p, only_rank);
        if (ri < 0) {
            rc = sw__err(err, SW_USAGE, "rank %d takes no part in plan '%s'", only_rank, name);
            goto fail;
        }
        uint64_t so = cx.dir[3 * ri], sl = cx.dir[3 * ri + 1];
        SW_CHECK_GOTO(src_get(&cx, s, so, sl, &sec, &sec_o), rc, fail);
        if (sw__plan_checksum(sec, sl) != cx.dir[3 * ri + 2]) {
            rc = CORRUPT(&cx, "plan '%s': checksum mismatch in the section of rank %d", name, only_rank);
            goto fail;
        }
        /* upper bounds for the dense arrays: what the section's bytes can hold */
        uint32_t own = cx.dlocals[ri + 1] - cx.dlocals[ri];
        uint64_t cl = own + (sl / MIN_STUB < cx.tot_locals ? sl / MIN_STUB : cx.tot_locals);
        uint32_t cq = cx.dpieces[ri + 1] - cx.dpieces[ri];
        uint32_t cx_ = (uint32_t)(sl / MIN_XFER < cx.tot_xfers ? sl / MIN_XFER : cx.tot_xfers);
        uint32_t ct = (uint32_t)(sl / MIN_TASK < cx.tot_tasks ? sl / MIN_TASK : cx.tot_tasks);
        uint32_t cs = (uint32_t)(sl / MIN_SEG < cx.tot_segs ? sl / MIN_SEG : cx.tot_segs);
        uint32_t cd = (uint32_t)(sl / MIN_DEP < cx.tot_deps ? sl / MIN_DEP : cx.tot_deps);
        p->locals = sw_arena_array(a, (size_t)cl + 1u, sizeof *p->locals);
        p->pieces = sw_arena_array(a, cq + 1u, sizeof *p->pieces);
        p->xfers = sw_arena_array(a, cx_ + 1u, sizeof *p->xfers);
        p->tasks = sw_arena_array(a, ct + 1u, sizeof *p->tasks);
        p->segs = sw_arena_array(a, cs + 1u, sizeof *p->segs);
        p->deps = sw_arena_array(a, cd + 1u, sizeof *p->deps);
        f.compact = 1;
        f.tmap = calloc(cx.tot_tasks + 1u, sizeof *f.tmap);
        if (!p->locals || !p->pieces || !p->xfers || !p->tasks || !p->segs || !p->deps || !f.tmap) {
            rc = sw__err(err, SW_NOMEM, "out of memory reading plan '%s'", name);
            goto fail;
        }
        p->npieces = cq;
        SW_CHECK_GOTO(r_section(&cx, &f, (uint32_t)ri, sec, sl), rc, fail);
        p->nxfers = f.nx;
        p->ntasks = f.nt;
        p->nsegs = f.ns;
        /* renumber deps densely, dropping deps on tasks of other ranks */
        uint32_t nd = 0;
        for (uint32_t i = 0; i < p->ntasks; i++) {
            sw_plan_task *t = &p->tasks[i];
            uint32_t d0 = nd;
            for (uint32_t k = 0; k < t->ndep; k++) {
                uint32_t g = p->deps[t->dep0 + k];
                if (f.tmap[g]) p->deps[nd++] = f.tmap[g] - 1;
            }
            t->dep0 = d0;
            t->ndep = nd - d0;
        }
        p->ndeps = nd;
    }
    char what[600];
    snprintf(what, sizeof what, "plan '%s'", name);
    SW_CHECK_GOTO(sw__plan_struct_check(p, what, SW_CORRUPT, err), rc, fail);
    p->partial = only_rank >= 0;
    p->only_rank = only_rank >= 0 ? only_rank : 0;
    p->id = sw__get_u64_at(pre + 48);
    p->ntasks_total = cx.tot_tasks;
    if (info) {
        info->version = ver;
        info->size = fsize;
        info->only_rank = only_rank < 0 ? -1 : only_rank;
        info->ntasks = cx.tot_tasks;
        info->nxfers = cx.tot_xfers;
        info->nsegs = cx.tot_segs;
        info->ndeps = cx.tot_deps;
        info->bytes_read = only_rank < 0 ? fsize : SW_PLAN_PREAMBLE + cx.hlen + cx.dir[3 * sw_plan_rank_index(p, only_rank) + 1];
    }
    rc = SW_OK;
    goto out;
fail:
    sw_plan_free(p);
out:
    free(pre_o);
    free(hdr_o);
    free(sec_o);
    free(f.xset);
    free(f.sset);
    free(f.tset);
    free(f.dset);
    free(f.tmap);
    free(f.ord);
    free(f.stub);
    free(f.stubs);
    free(cx.namebuf);
    return rc;
}

int sw_plan_read_mem_ex(sw_plan *p, const void *buf, size_t len, const char *name, int32_t only_rank,
                        sw_plan_file_info *info, sw_error *err) {
    static const uint8_t empty[1] = {0};
    rsrc s = {buf ? (const uint8_t *)buf : empty, -1};
    return read_plan(p, &s, len, name ? name : "<memory>", only_rank, info, err);
}

int sw_plan_read_mem(sw_plan *p, const void *buf, size_t len, const char *name, int32_t only_rank, sw_error *err) {
    return sw_plan_read_mem_ex(p, buf, len, name, only_rank, NULL, err);
}

int sw_plan_read_ex(sw_plan *p, const char *path, int32_t only_rank, sw_plan_file_info *info, sw_error *err) {
    memset(p, 0, sizeof *p);
    /* nonblocking: opening a FIFO would wait for a writer; only regular files are read */
    int fd = open(path, O_RDONLY | O_NONBLOCK);
    if (fd < 0) return sw__err(err, SW_IO, "cannot open plan '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return sw__err(err, SW_IO, "cannot read plan '%s': not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    int rc;
    if (only_rank >= 0) {
        rsrc s = {NULL, fd};
        rc = read_plan(p, &s, size, path, only_rank, info, err);
    } else {
        uint8_t *buf = malloc(size ? size : 1);
        if (!buf) {
            close(fd);
            return sw__err(err, SW_NOMEM, "out of memory reading plan '%s'", path);
        }
        size_t got = 0;
        while (got < size) {
            ssize_t k = pread(fd, buf + got, size - got, (off_t)got);
            if (k <= 0) break;
            got += (size_t)k;
        }
        if (got != size) rc = sw__err(err, SW_IO, "cannot read plan '%s': %s", path, strerror(errno ? errno : EIO));
        else {
            rsrc s = {buf, -1};
            rc = read_plan(p, &s, size, path, -1, info, err);
        }
        free(buf);
    }
    close(fd);
    return rc;
}

int sw_plan_read(sw_plan *p, const char *path, int32_t only_rank, sw_error *err) {
    return sw_plan_read_ex(p, path, only_rank, NULL, err);
}
