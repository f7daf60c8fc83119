/*
 * backend_nccl.h - the `nccl` backend: one process per GPU, tensors and staging in device
 * memory, one NCCL group of ncclSend/ncclRecv per wave.
 *
 * Streams and events (per session):
 *   pack stream    copies inside the process, then wave i's pack kernel into device
 *                  staging slot i % 2; records pack_ev[slot]
 *   comm stream    waits pack_ev[slot] and the last unpack (the slot's receive buffer is
 *                  free again), then ncclGroupStart / ncclSend+ncclRecv / ncclGroupEnd;
 *                  records comm_ev[slot]
 *   unpack stream  waits comm_ev[slot], runs wave i's unpack+convert kernel; records
 *                  unpack_ev (the pack stream waits it before a relay wave's pack)
 * The executor (exec.h) decides which wave is packed, posted, unpacked when: the nccl
 * backend only fills in its hooks.  backend->wait polls comm_ev[slot] and the
 * communicator's async error until --timeout, then ncclCommAbort's the communicator and
 * names the wave and the peers.
 *
 * Global rank k is NCCL rank k (and MPI rank k of the bootstrap communicator).
 * Built into the plugin libshardwave-nccl.so (plugin_nccl.c), loaded when asked for.
 */
#ifndef SW_BACKEND_NCCL_H
#define SW_BACKEND_NCCL_H

#include "exec.h"
#include "data_validate.h"
#include "plugin.h"

typedef struct sw_nccl_ctx sw_nccl_ctx;

/* SW_OK when this process sees at least one CUDA device; else SW_CUDA with "no CUDA
 * device ..." (the driver's reason when there is one). */
int sw_nccl_have_device(sw_error *err);

/*
 * Opens the backend for rank on the current CUDA device.  x: the rank's executor (its
 * staging is replaced by device buffers owned by the backend); NULL gives a backend for
 * raw post/wait only (tests).  nccl_comm: an ncclComm_t the caller owns (its rank must be
 * `rank`); NULL: create one, bootstrapped over `boot` (rank 0's unique id broadcast to
 * every rank of it: MPI through the mpi plugin; rank k must be `rank`; collective over
 * it; NULL: no bootstrap, SW_UNSUPPORTED), nonblocking (ncclConfig_t.blocking = 0).
 * Then warms up: one tiny grouped send/recv with every peer the plan uses.
 */
int sw_nccl_open(sw_nccl_ctx **ctx, sw_backend *b, sw_exec *x, int32_t rank, const sw_boot *boot, void *nccl_comm,
                 double timeout_s, sw_error *err);
/* Frees the streams, buffers and (when created here) the communicator.  NULL is ok. */
void sw_nccl_close(sw_nccl_ctx *ctx);
/* Seconds the warm-up at open took. */
double sw_nccl_warmup_s(const sw_nccl_ctx *ctx);

/* Brackets one sw_exec_run: begin orders the backend's streams after `stream` (a
 * cudaStream_t, NULL: the default stream) and uploads the local pointers when they
 * changed; end makes `stream` wait for the last unpack and copies. */
int sw_nccl_begin(sw_nccl_ctx *ctx, void *stream, void *const *ptrs, sw_error *err);
int sw_nccl_end(sw_nccl_ctx *ctx, void *stream, sw_error *err);

/* `run --validate` on the device: ptrs are device pointers of the rank's locals.  Fill
 * zeroes and fills sources and poisons destinations; check compares every destination
 * element the plan writes (synchronous). */
int sw_nccl_validate_fill(const sw_plan *p, int32_t rank, void *const *ptrs, sw_error *err);
int sw_nccl_validate_check(const sw_plan *p, int32_t rank, void *const *ptrs, sw_data_report *rep, sw_error *err);

/* Converts CUDA / NCCL codes to SW_CUDA / SW_NCCL with the library's message. */
int sw_cuda_error(int code, const char *what, sw_error *err);
int sw_nccl_error(int code, const char *what, sw_error *err);
#define SW_CUDA_CHECK(call, err)                                                   \
    do {                                                                           \
        int sw__c = (int)(call);                                                   \
        if (sw__c != 0) return sw_cuda_error(sw__c, #call, (err));                 \
    } while (0)
#define SW_NCCL_CHECK(call, err)                                                   \
    do {                                                                           \
        int sw__n = (int)(call);                                                   \
        if (sw__n != 0) return sw_nccl_error(sw__n, #call, (err));                 \
    } while (0)

#endif
