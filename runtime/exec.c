#include "exec.h"
#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "boxmath.h"
#include "convert.h"

static void geom_of(const sw_plan *p, const sw_plan_xfer *x, sw_box_geom *g) {
    g->ndim = p->tensors[x->tensor].ndim;
    for (int k = 0; k < g->ndim; k++) g->size[k] = x->size[k];
}

static void side_of(const sw_plan *p, const sw_plan_xfer *x, const sw_plan_side *sd, sw_box_side *s) {
    const sw_plan_local *l = &p->locals[sd->local];
    sw_box_side_init(s, l->ndim, l->shape, sd->map, sd->base, p->tensors[x->tensor].ndim, x->start);
}

size_t sw_exec_pack(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, uint8_t *out) {
    const sw_plan_xfer *x = &p->xfers[g->xfer];
    const uint8_t *src = ptrs[x->src.local];
    size_t es = (size_t)sw_dtype_size(p->locals[x->src.local].dtype);
    sw_box_geom geo;
    sw_box_side s;
    geom_of(p, x, &geo);
    side_of(p, x, &x->src, &s);
    int64_t stride = sw_box_inner_stride(&geo, &s);
    uint8_t *o = out;
    for (uint64_t e = g->elem0, left = g->nelem; left;) {
        uint64_t run = sw_box_row(&geo, e, left);
        int64_t off = sw_box_offset(&geo, &s, e);
        if (stride == 1) {
            memcpy(o, src + (size_t)off * es, (size_t)run * es);
        } else {
            for (uint64_t i = 0; i < run; i++) memcpy(o + i * es, src + (size_t)(off + (int64_t)i * stride) * es, es);
        }
        o += run * es;
        e += run;
        left -= run;
    }
    return (size_t)(o - out);
}

/* Writes run elements of type st from in to out (type dt) with element stride ostride. */
static int put_run(uint8_t *out, sw_dtype dt, int64_t ostride, const uint8_t *in, sw_dtype st, int64_t istride,
                   uint64_t run, sw_error *err) {
    size_t ds = (size_t)sw_dtype_size(dt), ss = (size_t)sw_dtype_size(st);
    if (ostride == 1 && istride == 1) {
        if (dt == st) {
            memcpy(out, in, (size_t)run * ds);
            return SW_OK;
        }
        return sw_convert(out, dt, in, st, (size_t)run, err);
    }
    for (uint64_t i = 0; i < run; i++)
        if (sw_convert_elem(out + (size_t)((int64_t)i * ostride) * ds, dt, in + (size_t)((int64_t)i * istride) * ss, st))
            return sw__err(err, SW_UNSUPPORTED, "conversion from %s to %s is not supported", sw_dtype_name(st),
                           sw_dtype_name(dt));
    return SW_OK;
}

int sw_exec_unpack(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, const uint8_t *in, sw_error *err) {
    const sw_plan_xfer *x = &p->xfers[g->xfer];
    uint8_t *dst = ptrs[x->dst.local];
    sw_dtype st = p->locals[x->src.local].dtype, dt = p->locals[x->dst.local].dtype;
    size_t ss = (size_t)sw_dtype_size(st), ds = (size_t)sw_dtype_size(dt);
    sw_box_geom geo;
    sw_box_side d;
    geom_of(p, x, &geo);
    side_of(p, x, &x->dst, &d);
    int64_t stride = sw_box_inner_stride(&geo, &d);
    for (uint64_t e = g->elem0, left = g->nelem; left;) {
        uint64_t run = sw_box_row(&geo, e, left);
        int64_t off = sw_box_offset(&geo, &d, e);
        SW_CHECK(put_run(dst + (size_t)off * ds, dt, stride, in, st, 1, run, err));
        in += run * ss;
        e += run;
        left -= run;
    }
    return SW_OK;
}

int sw_exec_copy(const sw_plan *p, const sw_plan_seg *g, void *const *ptrs, sw_error *err) {
    const sw_plan_xfer *x = &p->xfers[g->xfer];
    const uint8_t *src = ptrs[x->src.local];
    uint8_t *dst = ptrs[x->dst.local];
    sw_dtype st = p->locals[x->src.local].dtype, dt = p->locals[x->dst.local].dtype;
    size_t ss = (size_t)sw_dtype_size(st), ds = (size_t)sw_dtype_size(dt);
    sw_box_geom geo;
    sw_box_side s, d;
    geom_of(p, x, &geo);
    side_of(p, x, &x->src, &s);
    side_of(p, x, &x->dst, &d);
    int64_t sstr = sw_box_inner_stride(&geo, &s), dstr = sw_box_inner_stride(&geo, &d);
    for (uint64_t e = g->elem0, left = g->nelem; left;) {
        uint64_t run = sw_box_row(&geo, e, left);
        SW_CHECK(put_run(dst + (size_t)sw_box_offset(&geo, &d, e) * ds, dt, dstr,
                         src + (size_t)sw_box_offset(&geo, &s, e) * ss, st, sstr, run, err));
        e += run;
        left -= run;
    }
    return SW_OK;
}

static size_t align_up(size_t n) { return (n + SW_STAGING_ALIGN - 1) / SW_STAGING_ALIGN * SW_STAGING_ALIGN; }

void sw_exec_free(sw_exec *x) {
    if (!x) return;
    free(x->tasks);
    free(x->wave0);
    free(x->fwd_mark);
    free(x->segrun);
    free(x->parts);
    for (int k = 0; k < 2; k++) {
        free(x->iovs[k][0]);
        free(x->iovs[k][1]);
    }
    free(x->send_at);
    free(x->recv_at);
    for (int k = 0; k < 2; k++) {
        free(x->sendbuf[k]);
        free(x->recvbuf[k]);
        free(x->sends[k]);
        free(x->recvs[k]);
    }
    memset(x, 0, sizeof *x);
}

int sw_exec_init(sw_exec *x, const sw_plan *p, int32_t rank, sw_error *err) {
    memset(x, 0, sizeof *x);
    x->plan = p;
    x->rank = rank;
    /* a rank outside the plan has nothing to do: its runs return at once */
    size_t n = 0, cap = 0, capw = 0, maxmsgs = 0, msgs = 0;
    int32_t lastw = -1;
    size_t send = 0, recv = 0;
    for (uint32_t i = 0; i <= p->ntasks; i++) {
        if (i == p->ntasks || p->tasks[i].wave != lastw) {
            if (send > x->max_send) x->max_send = send;
            if (recv > x->max_recv) x->max_recv = recv;
            if (msgs > maxmsgs) maxmsgs = msgs;
            send = recv = msgs = 0;
            if (i == p->ntasks) break;
        }
        const sw_plan_task *t = &p->tasks[i];
        if (t->src != rank && t->dst != rank) continue;
        if (t->wave != lastw || x->nwaves == 0) {
            if (SW_GROW(x->wave0, capw, x->nwaves + 2)) goto nomem;
            x->wave0[x->nwaves++] = n;
            lastw = t->wave;
        }
        if (SW_GROW(x->tasks, cap, n + 1)) goto nomem;
        x->tasks[n++] = i;
        if (t->src == rank && t->dst != rank) send += align_up(t->bytes), msgs++;
        if (t->dst == rank && t->src != rank) recv += align_up(t->bytes), msgs++;
    }
    x->ntasks = n;
    if (x->wave0) x->wave0[x->nwaves] = n;
    if (!(x->fwd_mark = calloc((size_t)p->ntasks + 1, 1))) goto nomem;
    for (int k = 0; k < 2; k++)
        if (!(x->sendbuf[k] = malloc(x->max_send + 1)) || !(x->recvbuf[k] = malloc(x->max_recv + 1)) ||
            !(x->sends[k] = malloc((maxmsgs + 1) * sizeof *x->sends[k])) ||
            !(x->recvs[k] = malloc((maxmsgs + 1) * sizeof *x->recvs[k])))
            goto nomem;
    return SW_OK;
nomem:
    sw_exec_free(x);
    return sw__err(err, SW_NOMEM, "out of memory preparing rank %d", rank);
}

size_t sw_exec_arena_layout(const sw_exec *x, uint64_t *send_at, uint64_t *recv_at) {
    const sw_plan *p = x->plan;
    uint64_t arena = 0, prev = 0;
    for (size_t i = 0; i < x->nwaves; i++) {
        uint64_t send = 0, recv = 0;
        for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
            const sw_plan_task *t = &p->tasks[x->tasks[k]];
            if (t->src == t->dst) continue;
            if (t->src == x->rank) send += align_up((size_t)t->bytes);
            else recv += align_up((size_t)t->bytes);
        }
        uint64_t s = send + recv;
        if (s > arena) arena = s;
        if (i && prev + s > arena) arena = prev + s;
        prev = s;
        if (send_at) send_at[i] = send, recv_at[i] = recv; /* sizes for now */
    }
    if (send_at)
        for (size_t i = 0; i < x->nwaves; i++) {
            uint64_t send = send_at[i], recv = recv_at[i];
            send_at[i] = i % 2 ? arena - send - recv : 0; /* even waves from the start, odd from the end */
            recv_at[i] = send_at[i] + send;
        }
    return (size_t)arena;
}

int sw_exec_set_arena(sw_exec *x, uint8_t *arena, sw_error *err) {
    free(x->send_at);
    free(x->recv_at);
    x->send_at = malloc((x->nwaves + 1) * sizeof *x->send_at);
    x->recv_at = malloc((x->nwaves + 1) * sizeof *x->recv_at);
    if (!x->send_at || !x->recv_at) {
        free(x->send_at);
        free(x->recv_at);
        x->send_at = x->recv_at = NULL;
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    sw_exec_arena_layout(x, x->send_at, x->recv_at);
    x->arena = arena;
    for (int k = 0; k < 2; k++) { /* the host slots are not used any more */
        free(x->sendbuf[k]);
        free(x->recvbuf[k]);
        x->sendbuf[k] = x->recvbuf[k] = NULL;
    }
    return SW_OK;
}

/* Staging of wave i's outgoing (recv 0) or incoming (1) messages. */
static uint8_t *stage_of(const sw_exec *x, size_t i, int recv) {
    if (x->send_at) return x->arena + (recv ? x->recv_at[i] : x->send_at[i]);
    return recv ? x->recvbuf[i & 1] : x->sendbuf[i & 1];
}

size_t sw_exec_wave_msgs(const sw_exec *x, size_t i, int recv, sw_msg *out) {
    const sw_plan *p = x->plan;
    uint8_t *buf = stage_of(x, i, recv);
    size_t n = 0, off = 0;
    for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
        const sw_plan_task *t = &p->tasks[x->tasks[k]];
        if (t->src == t->dst || (recv ? t->dst : t->src) != x->rank) continue;
        if (out) out[n] = (sw_msg){x->tasks[k], recv ? t->src : t->dst, buf + off, (size_t)t->bytes, NULL, 0};
        n++;
        off = align_up(off + (size_t)t->bytes);
    }
    return n;
}

/* Element size of a segment in a message (its source dtype). */
static uint64_t seg_es(const sw_plan *p, const sw_plan_seg *g) {
    return (uint64_t)sw_dtype_size(p->locals[p->xfers[g->xfer].src.local].dtype);
}

/* Bytes of a segment in its source dtype: what it takes in a message. */
static uint64_t seg_bytes(const sw_plan *p, const sw_plan_seg *g) { return g->nelem * seg_es(p, g); }

int64_t sw_exec_seg_in_place(const sw_plan *p, uint32_t g, int recv) {
    const sw_plan_seg *sg = &p->segs[g];
    const sw_plan_xfer *xf = &p->xfers[sg->xfer];
    if (recv && p->locals[xf->src.local].dtype != p->locals[xf->dst.local].dtype) return -1; /* converts */
    if (seg_bytes(p, sg) < SW_PLAN_ZC_MIN) return -1; /* small: staged with its neighbours */
    return sw_plan_seg_run(p, sg, recv);
}

/* The parts (exec.h): a segment of at least SW_PLAN_ZC_MIN bytes is a part of its own, in
 * place when it is one run of this side's tensor, else staged; each maximal run of
 * smaller segments is one staged part.  A staged segment lies where pack_wave would put
 * it: at its offset in the packed message (each segment at a multiple of its element
 * size, sw_plan_seg_start), so parts are sub-ranges of the packed message, alignment
 * padding inside a run of small segments included. */
size_t sw_exec_task_parts(const sw_plan *p, const sw_plan_task *t, int recv, const int64_t *segrun, sw_msg_part *out) {
    size_t n = 0;
    uint64_t at = 0; /* offset in the packed message */
    for (uint32_t s = 0; s < t->nseg;) {
        uint32_t gi = t->seg0 + s;
        const sw_plan_seg *g = &p->segs[gi];
        uint64_t nb = seg_bytes(p, g), a = sw_plan_seg_start(at, seg_es(p, g));
        if (nb >= SW_PLAN_ZC_MIN) {
            if (out) out[n] = (sw_msg_part){a, nb, gi, 1, segrun ? segrun[gi] : sw_exec_seg_in_place(p, gi, recv)};
            n++;
            at = a + nb;
            s++;
            continue;
        }
        uint64_t r0 = a; /* a run of small segments: one part */
        uint32_t s0 = s;
        for (; s < t->nseg && (nb = seg_bytes(p, g = &p->segs[t->seg0 + s])) < SW_PLAN_ZC_MIN; s++)
            at = sw_plan_seg_start(at, seg_es(p, g)) + nb;
        if (at > r0) {
            if (out) out[n] = (sw_msg_part){r0, at - r0, t->seg0 + s0, s - s0, -1};
            n++;
        }
    }
    return n;
}

/* Zero-copy (sw_backend.iov): where each segment of this rank's messages lies in its
 * tensor (-1: staged), and room for a wave's iov entries. */
static int prepare_iov(sw_exec *x, sw_error *err) {
    const sw_plan *p = x->plan;
    if (x->segrun) return SW_OK;
    if (!(x->segrun = malloc(((size_t)p->nsegs + 1) * sizeof *x->segrun)))
        return sw__err(err, SW_NOMEM, "out of memory preparing rank %d", x->rank);
    for (uint32_t s = 0; s < p->nsegs; s++) x->segrun[s] = -1;
    size_t most[2] = {0, 0}, maxseg = 0;
    for (size_t i = 0; i < x->nwaves; i++) {
        size_t n[2] = {0, 0};
        for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
            const sw_plan_task *t = &p->tasks[x->tasks[k]];
            if (t->src == t->dst) continue;
            int dir = t->dst == x->rank;
            n[dir] += t->nseg;
            if (t->nseg > maxseg) maxseg = t->nseg;
            for (uint32_t g = t->seg0; g < t->seg0 + t->nseg; g++) x->segrun[g] = sw_exec_seg_in_place(p, g, dir);
        }
        for (int d = 0; d < 2; d++)
            if (n[d] > most[d]) most[d] = n[d];
    }
    for (int k = 0; k < 2; k++)
        for (int d = 0; d < 2; d++)
            if (!(x->iovs[k][d] = malloc((most[d] + 1) * sizeof *x->iovs[k][d])))
                return sw__err(err, SW_NOMEM, "out of memory preparing rank %d", x->rank);
    if (!(x->parts = malloc((maxseg + 1) * sizeof *x->parts)))
        return sw__err(err, SW_NOMEM, "out of memory preparing rank %d", x->rank);
    x->max_iov[0] = most[0];
    x->max_iov[1] = most[1];
    return SW_OK;
}

/* The parts of task t's message on this rank's side (sw_exec_task_parts) as iov entries,
 * from stage + *off: in place in the tensor, or staged at their offsets in the packed
 * message.  Both ends cut the same boundaries at the same offsets, so part k of the
 * sender is part k of the receiver.  Packs (when this rank sends: recv = 0) what is
 * staged, the padding between small segments zeroed; *off ends past the message.
 * Returns how many parts went to v. */
static size_t task_parts(sw_exec *x, const sw_plan_task *t, int recv, void *const *ptrs, uint8_t *stage, size_t *off,
                         sw_iov *v) {
    const sw_plan *p = x->plan;
    uint8_t *msg = stage + *off;
    size_t np = sw_exec_task_parts(p, t, recv, x->segrun, x->parts);
    uint64_t end = 0;
    for (size_t k = 0; k < np; k++) {
        const sw_msg_part *q = &x->parts[k];
        if (q->run >= 0) {
            const sw_plan_xfer *xf = &p->xfers[p->segs[q->seg0].xfer];
            const sw_plan_side *sd = recv ? &xf->dst : &xf->src;
            v[k] = (sw_iov){(uint8_t *)ptrs[sd->local] + (size_t)q->run * (size_t)sw_dtype_size(p->locals[sd->local].dtype),
                            (size_t)q->bytes};
        } else {
            uint64_t at = q->at;
            for (uint32_t s = q->seg0; s < q->seg0 + q->nseg; s++) {
                const sw_plan_seg *g = &p->segs[s];
                uint64_t a = sw_plan_seg_start(at, seg_es(p, g));
                if (!recv) {
                    if (a > at) memset(msg + at, 0, (size_t)(a - at));
                    sw_exec_pack(p, g, ptrs, msg + a);
                }
                at = a + seg_bytes(p, g);
                x->bytes_staged += seg_bytes(p, g); /* the payload, as unpack_wave counts it */
            }
            v[k] = (sw_iov){msg + q->at, (size_t)q->bytes};
        }
        end = q->at + q->bytes;
    }
    *off += (size_t)end;
    return np;
}

/* Packs wave i's outgoing messages into staging buffer i % 2 (by the backend when it
 * packs itself; not at all for a direct backend, whose messages carry no buffer; only
 * the strided segments for a zero-copy backend, whose messages are iov lists);
 * *ns: how many. */
static int pack_wave(sw_exec *x, const sw_backend *b, size_t i, void *const *ptrs, size_t *ns_out, sw_error *err) {
    const sw_plan *p = x->plan;
    uint8_t *buf = stage_of(x, i, 0);
    sw_msg *out = x->sends[i & 1];
    size_t ns = 0, off = 0, used = 0;
    int zc = b->iov && !b->direct && !b->pack;
    for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
        const sw_plan_task *t = &p->tasks[x->tasks[k]];
        if (t->src != x->rank || t->dst == x->rank) continue;
        if (b->direct) {
            out[ns++] = (sw_msg){x->tasks[k], t->dst, NULL, (size_t)t->bytes, NULL, 0};
            continue;
        }
        if (zc) {
            sw_iov *v = x->iovs[i & 1][0] + used;
            size_t start = off, nv = task_parts(x, t, 0, ptrs, buf, &off, v);
            out[ns++] = (sw_msg){x->tasks[k], t->dst, buf + start, (size_t)t->bytes, v, nv};
            used += nv;
            off = align_up(off);
            continue;
        }
        size_t start = off;
        for (uint32_t s = 0; s < t->nseg; s++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + s];
            /* each segment at a multiple of its element size (plan.h); padding zeroed */
            size_t at = start + (size_t)sw_plan_seg_start(off - start, seg_es(p, g));
            if (!b->pack && at > off) memset(buf + off, 0, at - off);
            off = at + (b->pack ? (size_t)seg_bytes(p, g) : sw_exec_pack(p, g, ptrs, buf + at));
        }
        out[ns++] = (sw_msg){x->tasks[k], t->dst, buf + start, off - start, NULL, 0};
        x->bytes_staged += off - start;
        off = align_up(off);
    }
    *ns_out = ns;
    return b->pack ? b->pack(b->ctx, x, i, ptrs, err) : SW_OK;
}

static void desc_of(const sw_plan *p, const sw_plan_seg *g, int staged_src, int staged_dst, uint64_t buf_off,
                    sw_seg_desc *d) {
    const sw_plan_xfer *x = &p->xfers[g->xfer];
    memset(d, 0, sizeof *d);
    geom_of(p, x, &d->geo);
    d->elem0 = g->elem0;
    d->nelem = g->nelem;
    d->buf_off = buf_off;
    sw_dtype st = p->locals[x->src.local].dtype, dt = p->locals[x->dst.local].dtype;
    d->dtype[0] = (int32_t)st;
    d->dtype[1] = (int32_t)(staged_dst ? st : dt);
    d->local[0] = staged_src ? SW_SEG_STAGING : x->src.local;
    d->local[1] = staged_dst ? SW_SEG_STAGING : x->dst.local;
    if (!staged_src) side_of(p, x, &x->src, &d->side[0]);
    if (!staged_dst) side_of(p, x, &x->dst, &d->side[1]);
    if (d->dtype[0] == d->dtype[1] && sw_seg_side_linear(d, 0) && sw_seg_side_linear(d, 1))
        d->flags |= SW_SEG_BYTECOPY;
    else if (d->dtype[0] == d->dtype[1] && sw_seg_side_unit_rows(d, 0) && sw_seg_side_unit_rows(d, 1) &&
             d->geo.size[d->geo.ndim - 1] >= SW_SEG_MIN_ROW)
        d->flags |= SW_SEG_ROWCOPY;
}

size_t sw_exec_wave_descs(const sw_exec *x, size_t i, sw_segs_kind kind, sw_seg_desc *out) {
    return sw_exec_wave_descs_staged(x, i, kind, NULL, out);
}

size_t sw_exec_wave_descs_staged(const sw_exec *x, size_t i, sw_segs_kind kind, const int64_t *in_place,
                                 sw_seg_desc *out) {
    const sw_plan *p = x->plan;
    size_t n = 0;
    uint64_t off = 0;
    for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
        const sw_plan_task *t = &p->tasks[x->tasks[k]];
        int mine;
        if (kind == SW_SEGS_PACK) mine = t->src == x->rank && t->dst != x->rank;
        else if (kind == SW_SEGS_UNPACK) mine = t->dst == x->rank && t->src != x->rank;
        else mine = t->src == x->rank && t->dst == x->rank;
        if (!mine) continue;
        uint64_t start = off;
        for (uint32_t s = 0; s < t->nseg; s++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + s];
            off = start + sw_plan_seg_start(off - start, seg_es(p, g)); /* as pack_wave lays it out */
            if (!(in_place && in_place[t->seg0 + s] >= 0)) {
                if (out) desc_of(p, g, kind == SW_SEGS_UNPACK, kind == SW_SEGS_PACK, off, &out[n]);
                n++;
            }
            off += seg_bytes(p, g);
        }
        /* receives are laid out by the task's bytes, as sw_exec_run posts them */
        if (kind == SW_SEGS_UNPACK) off = start + t->bytes;
        off = align_up((size_t)off);
    }
    return n;
}

int sw_seg_run_host(const sw_seg_desc *d, size_t n, void *const *ptrs, uint8_t *staging, sw_error *err) {
    for (size_t j = 0; j < n; j++) {
        if (d[j].flags & SW_SEG_BYTECOPY) {
            if (d[j].nelem)
                memmove(sw_seg_addr(&d[j], 1, 0, ptrs, staging), sw_seg_addr(&d[j], 0, 0, ptrs, staging),
                        (size_t)sw_seg_bytes(&d[j], 0));
            continue;
        }
        if (d[j].flags & SW_SEG_ROWCOPY) {
            size_t es = (size_t)sw_dtype_size((sw_dtype)d[j].dtype[0]);
            for (uint64_t e = 0, run; e < d[j].nelem; e += run) {
                run = sw_seg_row(&d[j], e, d[j].nelem - e);
                memcpy(sw_seg_addr(&d[j], 1, e, ptrs, staging), sw_seg_addr(&d[j], 0, e, ptrs, staging), (size_t)run * es);
            }
            continue;
        }
        for (uint64_t e = 0; e < d[j].nelem; e++)
            if (sw_seg_move_elem(&d[j], e, ptrs, staging))
                return sw__err(err, SW_UNSUPPORTED, "conversion from %s to %s is not supported",
                               sw_dtype_name((sw_dtype)d[j].dtype[0]), sw_dtype_name((sw_dtype)d[j].dtype[1]));
    }
    return SW_OK;
}

/* 1 when wave i forwards data (a relay): it must be packed after the waves before it
 * have been unpacked. */
static int forwards(const sw_exec *x, size_t i) {
    for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
        const sw_plan_task *t = &x->plan->tasks[x->tasks[k]];
        if (t->src == x->rank && t->relay) return 1;
    }
    return 0;
}

/* Unpacks the nr messages of recvs (received in wave i). */
static int unpack_wave(sw_exec *x, const sw_backend *b, size_t i, const sw_msg *recvs, size_t nr, void *const *ptrs,
                       sw_error *err) {
    const sw_plan *p = x->plan;
    if (b->unpack) {
        for (size_t k = 0; k < nr; k++) x->bytes_recv += p->tasks[recvs[k].task].bytes;
        return b->unpack(b->ctx, x, i, ptrs, err);
    }
    for (size_t k = 0; k < nr; k++) {
        const sw_plan_task *t = &p->tasks[recvs[k].task];
        const uint8_t *in = recvs[k].buf;
        uint64_t at = 0;
        for (uint32_t s = 0; s < t->nseg; s++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + s];
            at = sw_plan_seg_start(at, seg_es(p, g)); /* as pack_wave and task_parts lay it out */
            if (!(recvs[k].iov && x->segrun[t->seg0 + s] >= 0)) { /* else received in place */
                SW_CHECK(sw_exec_unpack(p, g, ptrs, in + at, err));
                if (!recvs[k].iov) x->bytes_staged += seg_bytes(p, g); /* task_parts counted the others */
            }
            at += seg_bytes(p, g);
        }
        x->bytes_recv += t->bytes;
    }
    return SW_OK;
}

/* Moves to the front of recvs the messages whose data this rank forwards in wave index
 * `next` (the predecessors of its relay sends there); returns how many. */
static size_t forwarded_first(sw_exec *x, size_t next, sw_msg *recvs, size_t nr) {
    const sw_plan *p = x->plan;
    for (size_t k = x->wave0[next]; k < x->wave0[next + 1]; k++) {
        const sw_plan_task *t = &p->tasks[x->tasks[k]];
        if (t->src != x->rank || !t->relay) continue;
        for (uint32_t d = 0; d < t->ndep; d++) x->fwd_mark[p->deps[t->dep0 + d]] = 1;
    }
    size_t nf = 0;
    for (size_t k = 0; k < nr; k++)
        if (x->fwd_mark[recvs[k].task]) {
            sw_msg tmp = recvs[nf];
            recvs[nf++] = recvs[k];
            recvs[k] = tmp;
        }
    for (size_t k = x->wave0[next]; k < x->wave0[next + 1]; k++) {
        const sw_plan_task *t = &p->tasks[x->tasks[k]];
        if (t->src != x->rank || !t->relay) continue;
        for (uint32_t d = 0; d < t->ndep; d++) x->fwd_mark[p->deps[t->dep0 + d]] = 0;
    }
    return nf;
}

int sw_exec_run(sw_exec *x, const sw_backend *b, void *const *ptrs, sw_error *err) {
    const sw_plan *p = x->plan;
    x->bytes_sent = x->bytes_recv = x->bytes_copied = x->bytes_staged = 0;
    if (x->nwaves == 0) return SW_OK;
    int direct = b->direct, zc = b->iov && !b->direct && !b->pack && !b->unpack;
    if (zc) SW_CHECK(prepare_iov(x, err));
    size_t ns = 0, ns_next = 0, nr_pending = 0, i_pending = 0;
    SW_CHECK(pack_wave(x, b, 0, ptrs, &ns, err));
    const sw_msg *pending = NULL; /* received, not yet unpacked (the previous wave) */
    for (size_t i = 0; i < x->nwaves; i++) {
        int32_t wave = p->tasks[x->tasks[x->wave0[i]]].wave;
        sw_msg *recvs = x->recvs[i & 1];
        size_t nr = 0;
        if (zc) { /* in place where the destination is one run, else staging */
            uint8_t *rbuf = stage_of(x, i, 1);
            size_t off = 0, used = 0;
            for (size_t k = x->wave0[i]; k < x->wave0[i + 1]; k++) {
                const sw_plan_task *t = &p->tasks[x->tasks[k]];
                if (t->dst != x->rank || t->src == x->rank) continue;
                sw_iov *v = x->iovs[i & 1][1] + used;
                size_t start = off, nv = task_parts(x, t, 1, ptrs, rbuf, &off, v);
                recvs[nr++] = (sw_msg){x->tasks[k], t->src, rbuf + start, (size_t)t->bytes, v, nv};
                used += nv;
                off = align_up(off);
            }
        } else {
            nr = sw_exec_wave_msgs(x, i, 1, recvs);
            if (direct)
                for (size_t k = 0; k < nr; k++) recvs[k].buf = NULL;
        }
        for (size_t k = 0; k < ns; k++) x->bytes_sent += x->sends[i & 1][k].bytes;
        SW_CHECK(b->post(b->ctx, x->rank, wave, x->sends[i & 1], ns, recvs, nr, err));
        /* while the wave is in flight: copies inside the process, the previous wave's
         * unpack, the next wave's pack */
        int rc = SW_OK;
        int ncopy = 0;
        for (size_t k = x->wave0[i]; k < x->wave0[i + 1] && rc == SW_OK; k++) {
            const sw_plan_task *t = &p->tasks[x->tasks[k]];
            if (t->src != x->rank || t->dst != x->rank) continue;
            ncopy++;
            for (uint32_t s = 0; s < t->nseg && rc == SW_OK && !b->copy; s++)
                rc = sw_exec_copy(p, &p->segs[t->seg0 + s], ptrs, err);
            x->bytes_copied += t->bytes;
        }
        if (rc == SW_OK && ncopy && b->copy) rc = b->copy(b->ctx, x, i, ptrs, err);
        if (rc == SW_OK && pending) rc = unpack_wave(x, b, i_pending, pending, nr_pending, ptrs, err);
        pending = NULL;
        int early = i + 1 < x->nwaves && !forwards(x, i + 1);
        if (rc == SW_OK && early) rc = pack_wave(x, b, i + 1, ptrs, &ns_next, err);
        int wrc = b->wait(b->ctx, x->rank, wave, rc ? NULL : err);
        if (rc) return rc;
        if (wrc) return wrc;
        if (direct) {
            for (size_t k = 0; k < nr; k++) x->bytes_recv += recvs[k].bytes; /* the backend wrote them */
            if (!early && i + 1 < x->nwaves) SW_CHECK(pack_wave(x, b, i + 1, ptrs, &ns_next, err));
        } else if (early) {
            pending = recvs;
            nr_pending = nr;
            i_pending = i;
        } else if (i + 1 == x->nwaves || b->unpack) {
            /* the last wave, or a backend that unpacks whole waves */
            SW_CHECK(unpack_wave(x, b, i, recvs, nr, ptrs, err));
            if (i + 1 < x->nwaves) SW_CHECK(pack_wave(x, b, i + 1, ptrs, &ns_next, err));
        } else {
            /* the next wave forwards some of what this one brought: unpack that first,
             * pack the next wave, and unpack the rest while it is in flight */
            size_t nf = forwarded_first(x, i + 1, recvs, nr);
            SW_CHECK(unpack_wave(x, b, i, recvs, nf, ptrs, err));
            SW_CHECK(pack_wave(x, b, i + 1, ptrs, &ns_next, err));
            pending = recvs + nf;
            nr_pending = nr - nf;
            i_pending = i;
        }
        ns = ns_next;
    }
    if (pending) SW_CHECK(unpack_wave(x, b, i_pending, pending, nr_pending, ptrs, err));
    return SW_OK;
}
