/*
 * plugin_nccl.c - libshardwave-nccl.so: the nccl backend, device validation and the
 * device calls `shardwave run` needs, as one plugin table (see plugin.h).
 */
#include <cuda_runtime_api.h>
#include <stdio.h>

#include "backend_nccl.h"
#include "diag.h"
#include "plugin.h"

static int nc_open(void **ctx, sw_backend *b, sw_exec *x, int32_t rank, const sw_session_opts *o, const sw_boot *boot,
                   sw_error *err) {
    sw_nccl_ctx *c = NULL;
    SW_CHECK(sw_nccl_open(&c, b, x, rank, o, boot, err));
    *ctx = c;
    return SW_OK;
}

static void nc_close(void *ctx) { sw_nccl_close(ctx); }
static double nc_warmup_s(const void *ctx) { return sw_nccl_warmup_s(ctx); }
static int nc_begin(void *ctx, void *stream, void *const *ptrs, sw_error *err) {
    return sw_nccl_begin(ctx, stream, ptrs, err);
}
static int nc_end(void *ctx, void *stream, sw_error *err) { return sw_nccl_end(ctx, stream, err); }
static int nc_enter(void *ctx, sw_error *err) { return sw_nccl_enter(ctx, err); }
static void nc_leave(void *ctx) { sw_nccl_leave(ctx); }

static int nc_device_count(int *n, sw_error *err) {
    *n = 0;
    SW_CUDA_CHECK(cudaGetDeviceCount(n), err);
    return SW_OK;
}

static int nc_set_device(int dev, sw_error *err) {
    cudaError_t e = cudaSetDevice(dev);
    if (e != cudaSuccess) {
        char what[64];
        snprintf(what, sizeof what, "cudaSetDevice(%d)", dev);
        return sw_cuda_error((int)e, what, err);
    }
    return SW_OK;
}

static int nc_alloc(void **p, size_t n, sw_error *err) {
    *p = NULL;
    cudaError_t e = cudaMalloc(p, n ? n : 1);
    if (e != cudaSuccess)
        return sw__err(err, SW_CUDA, "cannot allocate %zu bytes of device memory: %s", n, cudaGetErrorString(e));
    e = cudaMemset(*p, 0, n);
    if (e != cudaSuccess) {
        cudaFree(*p);
        *p = NULL;
        return sw_cuda_error((int)e, "cudaMemset", err);
    }
    return SW_OK;
}

static void nc_free(void *p) {
    if (p) cudaFree(p);
}

static int nc_sync(sw_error *err) {
    SW_CUDA_CHECK(cudaStreamSynchronize(NULL), err);
    return SW_OK;
}

static const sw_plugin table = {
    SW_PLUGIN_HEADER("nccl"),
    .open = nc_open,
    .close = nc_close,
    .warmup_s = nc_warmup_s,
    .have_device = sw_nccl_have_device,
    .device_count = nc_device_count,
    .set_device = nc_set_device,
    .dev_alloc = nc_alloc,
    .dev_free = nc_free,
    .dev_sync = nc_sync,
    .begin = nc_begin,
    .end = nc_end,
    .validate_fill = sw_nccl_validate_fill,
    .validate_check = sw_nccl_validate_check,
    .unique_id = sw_nccl_make_unique_id,
    .enter = nc_enter,
    .leave = nc_leave,
};

/* The one symbol the plugin exports (runtime/plugin.map). */
__attribute__((visibility("default"))) const sw_plugin *sw_plugin_entry_v1(void);
const sw_plugin *sw_plugin_entry_v1(void) { return &table; }
