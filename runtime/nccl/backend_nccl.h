/*
 * backend_nccl.h - the `nccl` backend: one process per GPU, tensors and staging in device
 * memory, one NCCL group of ncclSend/ncclRecv per wave.
 *
 * Streams and events (per session):
 *   pack stream    copies inside the process, then wave i's pack kernel into wave i's
 *                  part of the staging arena (sw_exec_arena_layout: even waves from its
 *                  start, odd ones from its end); waits first for the last unpack, the
 *                  transfers of the last wave that used that half, and the CUDA IPC copies
 *                  receivers made of it; records pack_ev[i % 2]
 *   comm stream    waits pack_ev[i % 2] and the last unpack (the receive region is free
 *                  again), copies the wave's CUDA IPC messages from their senders'
 *                  staging (nccl_ipc.h), then ncclGroupStart / ncclSend+ncclRecv /
 *                  ncclGroupEnd for the rest; records wave_ev[i].  The NCCL messages
 *                  honour the zero-copy contract (exec.h, sw_backend.iov): a part in
 *                  place is sent from / received into the tensor by its own ncclSend /
 *                  ncclRecv in the group, in part order, and left out of the pack and
 *                  unpack kernels (docs/nccl.md, "How messages are cut")
 *   unpack stream  waits wave_ev[i], runs wave i's unpack+convert kernel; records
 *                  unpack_ev
 * The executor (exec.h) decides which wave is packed, posted, unpacked when: the nccl
 * backend only fills in its hooks.  Its wait returns at once: the host posts wave i + 1
 * while wave i is in flight, the events order the device work, and sw_nccl_end waits for
 * every wave (polling wave_ev and the communicator's async error, spinning before it
 * sleeps), failing a wave not done timeout_s after the one before it: then it aborts the
 * communicator and names the wave and its peers.
 *
 * Which messages go through NCCL and which through CUDA IPC, and who is in the NCCL
 * communicator, is nccl_route.h's.  The communicator: the caller's (nccl_comm), one made
 * from a unique id (nccl_unique_id, comm_size, comm_rank_of), or one made over the MPI
 * bootstrap (the mpi plugin's sw_boot).  Plan rank r is communicator rank
 * comm_rank_of[r] (r without a map).
 *
 * Every entry point runs on the device that was current at open (sw_nccl_enter/leave
 * around the session's calls).
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
 * Opens the backend for plan rank `rank` on the current CUDA device.  x: the rank's
 * executor (its staging becomes a device arena owned by the backend); NULL gives a
 * backend for raw post/wait only (tests: peers are communicator ranks, one group at a
 * time).  o: the session's options (timeout_s, nccl_comm, nccl_unique_id, comm_size,
 * comm_rank_of).  boot: the MPI group to bootstrap over when neither nccl_comm nor
 * nccl_unique_id is given (NULL: none, SW_UNSUPPORTED).  Collective over the
 * communicator's processes.  Then warms up: one tiny grouped send/recv with every NCCL
 * peer, and the kernels' module loaded.
 */
int sw_nccl_open(sw_nccl_ctx **ctx, sw_backend *b, sw_exec *x, int32_t rank, const sw_session_opts *o,
                 const sw_boot *boot, sw_error *err);
/* Frees the streams, buffers and (when created here) the communicator.  NULL is ok. */
void sw_nccl_close(sw_nccl_ctx *ctx);
/* Seconds the warm-up at open took. */
double sw_nccl_warmup_s(const sw_nccl_ctx *ctx);
/* Bytes of device staging (the arena). */
size_t sw_nccl_staging_bytes(const sw_nccl_ctx *ctx);

/* Make the session's device current (remembering the caller's) / restore it; nested
 * pairs change it once. */
int sw_nccl_enter(sw_nccl_ctx *ctx, sw_error *err);
void sw_nccl_leave(sw_nccl_ctx *ctx);

/* A new ncclUniqueId into out (cap >= SW_NCCL_UNIQUE_ID_BYTES): the plugin side of sw_nccl_unique_id. */
int sw_nccl_make_unique_id(void *out, size_t cap, sw_error *err);

/* Brackets one sw_exec_run: begin orders the backend's streams after `stream` (a
 * cudaStream_t, NULL: the default stream) and uploads the local pointers when they
 * changed (asynchronously, from pinned memory, ordered with the kernels); end waits for
 * every wave's transfers (the timeout) and makes `stream` wait for the last unpack, the
 * copies and the transfers (which read and write the tensors in place).  end with err NULL: the sync failed before, nothing is waited for. */
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
