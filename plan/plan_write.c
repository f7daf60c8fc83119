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


/* The plan's checksum: four FNV-style lanes over little-endian 64-bit words (32 bytes a
 * step), the tail byte by byte, the lanes folded at the end.  Each step is a bijection
 * of the lane for a fixed word and of the word for a fixed lane, so a change of any one
 * byte always changes the result.  About 8x faster than byte-wise FNV-1a. */
uint64_t sw__plan_checksum(const void *data, size_t n) {
    const uint8_t *b = data;
    const uint64_t P = 0x100000001b3ULL;
    uint64_t h[4] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL, 0x9e3779b97f4a7c15ULL, 0xd6e8feb86659fd93ULL};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int l = 0; l < 4; l++) {
            uint64_t w = 0;
            for (int k = 7; k >= 0; k--) w = (w << 8) | b[i + 8 * (size_t)l + (size_t)k];
            h[l] = (h[l] ^ w) * P;
        }
    uint64_t r = h[0];
    for (int l = 1; l < 4; l++) r = (r ^ (h[l] ^ (h[l] >> 29))) * P;
    for (; i < n; i++) r = (r ^ b[i]) * P;
    return r ^ (uint64_t)n;
}

typedef sw_buf wbuf;

static void w_bytes(wbuf *b, const void *src, size_t n) { sw_buf_put(b, src, n); }
static void w_u8(wbuf *b, uint8_t v) { w_bytes(b, &v, 1); }
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

static void w_side(wbuf *b, const sw_plan *p, const sw_plan_side *s) {
    w_u32(b, s->local);
    for (int j = 0; j < p->locals[s->local].ndim; j++) {
        w_u8(b, (uint8_t)s->map[j]);
        w_i64(b, s->base[j]);
    }
}

static void w_xfer(wbuf *b, const sw_plan *p, uint32_t i) {
    const sw_plan_xfer *x = &p->xfers[i];
    w_u32(b, i);
    w_u32(b, x->tensor);
    for (int k = 0; k < p->tensors[x->tensor].ndim; k++) {
        w_i64(b, x->start[k]);
        w_i64(b, x->size[k]);
    }
    w_u64(b, x->nelem);
    w_i32(b, x->src_rank);
    w_i32(b, x->dst_rank);
    w_side(b, p, &x->src);
    w_side(b, p, &x->dst);
}

static void w_task(wbuf *b, const sw_plan *p, uint32_t i) {
    const sw_plan_task *t = &p->tasks[i];
    w_u32(b, i);
    w_i32(b, t->src);
    w_i32(b, t->dst);
    w_u8(b, t->cls);
    w_u8(b, t->relay);
    w_i32(b, t->wave);
    w_u64(b, t->bytes);
    w_u32(b, t->seg0);
    w_u32(b, t->nseg);
    for (uint32_t k = 0; k < t->nseg; k++) {
        const sw_plan_seg *g = &p->segs[t->seg0 + k];
        w_u32(b, g->xfer);
        w_u64(b, g->elem0);
        w_u64(b, g->nelem);
    }
    w_u32(b, t->dep0);
    w_u32(b, t->ndep);
    for (uint32_t k = 0; k < t->ndep; k++) w_u32(b, p->deps[t->dep0 + k]);
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int sw__plan_io_reseal(uint8_t *buf, size_t len) {
    if (len < SW_PLAN_PREAMBLE) return -1;
    uint64_t hoff = sw__get_u64_at(buf + 32), hlen = sw__get_u64_at(buf + 40);
    if (hoff > len || hlen > len - hoff) return -1;
    /* section checksums: the directory is the header's last nranks * 32 bytes */
    if (hlen >= 4) {
        const uint8_t *h = buf + hoff;
        uint32_t nr = sw__get_u32_at(h + hlen - 4);
        if ((uint64_t)nr * DIR_ENTRY <= hlen - 4) {
            uint8_t *dir = buf + hoff + hlen - 4 - (uint64_t)nr * DIR_ENTRY;
            for (uint32_t r = 0; r < nr; r++) {
                uint64_t so = sw__get_u64_at(dir + r * DIR_ENTRY + 8), sl = sw__get_u64_at(dir + r * DIR_ENTRY + 16);
                if (so <= len && sl <= len - so) sw__put_u64_at(dir + r * DIR_ENTRY + 24, sw__plan_checksum(buf + so, sl));
            }
        }
    }
    sw__put_u64_at(buf + 48, sw__plan_checksum(buf + hoff, hlen));
    sw__put_u64_at(buf + 24, sw__plan_checksum(buf + 32, len - 32));
    return 0;
}

int sw_plan_write_mem(const sw_plan *p, uint8_t **out, size_t *len, sw_error *err) {
    *out = NULL;
    *len = 0;
    int rc = sw__plan_struct_check(p, "cannot write plan", SW_INTERNAL, err);
    if (rc) return rc;
    sw_buf b = {0};
    uint32_t nr = p->nranks;
    /* tasks of each rank (as src or dst), in task order: counting sort */
    uint32_t *cnt = calloc((size_t)nr + 1, sizeof *cnt);
    uint32_t *list = malloc(((size_t)p->ntasks * 2 + 1) * sizeof *list);
    uint32_t *xcnt = calloc((size_t)nr + 1, sizeof *xcnt);
    uint32_t *xlist = malloc(((size_t)p->nxfers + 1) * sizeof *xlist);
    uint32_t *stamp = calloc((size_t)p->nxfers + 1, sizeof *stamp);
    uint32_t *sel = malloc(((size_t)p->nxfers + 1) * sizeof *sel);
    uint64_t *dir = calloc((size_t)nr * 3 + 1, sizeof *dir);
    if (!cnt || !list || !xcnt || !xlist || !stamp || !sel || !dir) {
        rc = sw__err(err, SW_NOMEM, "out of memory writing a plan");
        goto out;
    }
    for (uint32_t i = 0; i < p->ntasks; i++) {
        uint32_t s = (uint32_t)sw_plan_rank_index(p, p->tasks[i].src), d = (uint32_t)sw_plan_rank_index(p, p->tasks[i].dst);
        cnt[s + 1]++;
        if (d != s) cnt[d + 1]++;
    }
    for (uint32_t r = 0; r < nr; r++) cnt[r + 1] += cnt[r];
    {
        uint32_t *fill = calloc((size_t)nr + 1, sizeof *fill);
        if (!fill) {
            rc = sw__err(err, SW_NOMEM, "out of memory writing a plan");
            goto out;
        }
        for (uint32_t i = 0; i < p->ntasks; i++) {
            uint32_t s = (uint32_t)sw_plan_rank_index(p, p->tasks[i].src), d = (uint32_t)sw_plan_rank_index(p, p->tasks[i].dst);
            list[cnt[s] + fill[s]++] = i;
            if (d != s) list[cnt[d] + fill[d]++] = i;
        }
        for (uint32_t x = 0; x < p->nxfers; x++) xcnt[(uint32_t)sw_plan_rank_index(p, p->xfers[x].dst_rank) + 1]++;
        for (uint32_t r = 0; r < nr; r++) xcnt[r + 1] += xcnt[r];
        memset(fill, 0, ((size_t)nr + 1) * sizeof *fill);
        for (uint32_t x = 0; x < p->nxfers; x++) {
            uint32_t d = (uint32_t)sw_plan_rank_index(p, p->xfers[x].dst_rank);
            xlist[xcnt[d] + fill[d]++] = x;
        }
        free(fill);
    }

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
    for (uint32_t i = 0; i < p->ntensors; i++) {
        const sw_plan_tensor *t = &p->tensors[i];
        w_str(&b, t->name);
        w_u8(&b, (uint8_t)t->dtype);
        w_u8(&b, t->skipped ? 1 : 0); /* flags: bit 0 = skipped by the sync */
        w_u8(&b, (uint8_t)t->ndim);
        for (int k = 0; k < t->ndim; k++) w_i64(&b, t->shape[k]);
    }
    for (uint32_t i = 0; i < nr; i++) {
        w_i32(&b, p->ranks[i].rank);
        w_i32(&b, p->ranks[i].host);
        w_i32(&b, p->ranks[i].device);
    }
    /* the owner's ndim of each piece (pieces of no local keep 0 map entries) */
    uint8_t *nmap = calloc((size_t)p->npieces + 1, 1);
    if (!nmap) {
        rc = sw__err(err, SW_NOMEM, "out of memory writing a plan");
        goto out;
    }
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        w_str(&b, l->name);
        w_i32(&b, l->rank);
        w_u8(&b, l->role);
        w_u8(&b, (uint8_t)l->dtype);
        w_u8(&b, (uint8_t)l->ndim);
        for (int k = 0; k < l->ndim; k++) w_i64(&b, l->shape[k]);
        w_u32(&b, l->piece0);
        w_u32(&b, l->npieces);
        for (uint32_t q = l->piece0; q < l->piece0 + l->npieces; q++)
            if (l->ndim > nmap[q]) nmap[q] = (uint8_t)l->ndim;
    }
    for (uint32_t q = 0; q < p->npieces; q++) {
        const sw_plan_piece *pc = &p->pieces[q];
        w_u32(&b, pc->tensor);
        for (int k = 0; k < p->tensors[pc->tensor].ndim; k++) {
            w_i64(&b, pc->start[k]);
            w_i64(&b, pc->size[k]);
        }
        w_u8(&b, nmap[q]);
        for (int j = 0; j < nmap[q]; j++) {
            w_u8(&b, (uint8_t)pc->map[j]);
            w_i64(&b, pc->base[j]);
        }
    }
    free(nmap);
    size_t dir_at = b.n;
    for (uint32_t r = 0; r < nr; r++) {
        w_i32(&b, p->ranks[r].rank);
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
        uint32_t nsel = 0;
        for (uint32_t k = xcnt[r]; k < xcnt[r + 1]; k++) {
            stamp[xlist[k]] = r + 1;
            sel[nsel++] = xlist[k];
        }
        for (uint32_t k = cnt[r]; k < cnt[r + 1]; k++) {
            const sw_plan_task *t = &p->tasks[list[k]];
            for (uint32_t s = 0; s < t->nseg; s++) {
                uint32_t x = p->segs[t->seg0 + s].xfer;
                if (stamp[x] != r + 1) {
                    stamp[x] = r + 1;
                    sel[nsel++] = x;
                }
            }
        }
        qsort(sel, nsel, sizeof *sel, cmp_u32);
        w_i32(&b, p->ranks[r].rank);
        w_u32(&b, nsel);
        for (uint32_t k = 0; k < nsel; k++) w_xfer(&b, p, sel[k]);
        w_u32(&b, cnt[r + 1] - cnt[r]);
        for (uint32_t k = cnt[r]; k < cnt[r + 1]; k++) w_task(&b, p, list[k]);
        dir[3 * r] = so;
        dir[3 * r + 1] = b.n - so;
    }
    if (b.oom) {
        rc = sw__err(err, SW_NOMEM, "out of memory writing a plan");
        goto out;
    }
    for (uint32_t r = 0; r < nr; r++) {
        sw__put_u64_at((uint8_t *)b.d + dir_at + (size_t)r * DIR_ENTRY + 8, dir[3 * r]);
        sw__put_u64_at((uint8_t *)b.d + dir_at + (size_t)r * DIR_ENTRY + 16, dir[3 * r + 1]);
    }
    sw__put_u64_at((uint8_t *)b.d + 16, b.n);
    sw__put_u64_at((uint8_t *)b.d + 32, hoff);
    sw__put_u64_at((uint8_t *)b.d + 40, hlen);
    sw__plan_io_reseal((uint8_t *)b.d, b.n);
    *out = (uint8_t *)b.d;
    *len = b.n;
    b.d = NULL;
out:
    free(b.d);
    free(cnt);
    free(list);
    free(xcnt);
    free(xlist);
    free(stamp);
    free(sel);
    free(dir);
    return rc;
}

int sw_plan_write(const sw_plan *p, const char *path, sw_error *err) {
    uint8_t *buf;
    size_t len;
    int rc = sw_plan_write_mem(p, &buf, &len, err);
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
