/*
 * nccl_validate.c - `run --validate` on the device (sw_validation_fill / check of an nccl
 * session): descriptors per piece (fill) or per transfer (check), the kernels of
 * kernels.cu, synchronous.
 */
#include "backend_nccl.h"
#include "plan_trace.h"
#include "diag.h"

#include <cuda_runtime_api.h>
#include <stdlib.h>
#include <string.h>

#include "kernels.h"

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

/* One check descriptor per part of a transfer's box, with the dtypes it travelled
 * through (plan_trace.h: the chains the verifier accepts, the same as data_validate.c's). */
typedef struct val_descs {
    const sw_plan *p;
    sw_val_desc *h;
    size_t n, cap;
    sw_data_report *rep;
} val_descs;

_Static_assert(SW_PLAN_MAXCHAIN <= sizeof(((sw_val_desc *)0)->chain) / sizeof(int32_t),
               "a check descriptor holds every dtype of a chain");

static int add_check(void *vctx, uint32_t xi, const sw_plan_origin *o, sw_error *err) {
    val_descs *v = vctx;
    const sw_plan_xfer *x = &v->p->xfers[xi];
    if (SW_GROW(v->h, v->cap, v->n + 1)) return sw__err(err, SW_NOMEM, "out of memory");
    sw_val_desc *d = &v->h[v->n++];
    val_desc(v->p, x->tensor, x->dst.local, o->start, o->size, x->dst.map, x->dst.base, d);
    for (int k = 1; k < o->nchain; k++) d->chain[d->nchain++] = (int32_t)o->chain[k];
    v->rep->checked += d->nelem;
    return SW_OK;
}

int sw_nccl_validate_check(const sw_plan *p, int32_t rank, void *const *ptrs, sw_data_report *rep, sw_error *err) {
    memset(rep, 0, sizeof *rep);
    val_descs v = {p, NULL, 0, 0, rep};
    sw_plan_trace *t = NULL;
    int rc = sw_plan_trace_init(&t, p, err);
    for (uint32_t xi = 0; xi < p->nxfers && rc == SW_OK; xi++) {
        const sw_plan_xfer *x = &p->xfers[xi];
        if (p->locals[x->dst.local].rank != rank || !ptrs[x->dst.local]) continue;
        rc = sw_plan_trace_xfer(t, xi, add_check, &v, SW_CORRUPT, err);
    }
    sw_plan_trace_free(t);
    sw_val_desc *h = v.h;
    size_t n = v.n;
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
