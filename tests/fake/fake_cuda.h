/*
 * fake_cuda.h - a fake CUDA runtime and NCCL for the CPU tests of the nccl backend
 * (tests/test_nccl_fake.c).  fake_cuda.c defines, with the signatures of the real
 * headers, every CUDA runtime and NCCL function the backend calls, and fake_kernels.c
 * the launchers of kernels.h.  The test program exports them (ENABLE_EXPORTS) and a copy
 * of the nccl plugin built without libcudart, libnccl and the kernels
 * (libshardwave-nccl.so in build/fake-nccl/) resolves its calls to them, so the real
 * backend code runs on the CPU through the public API.
 *
 * What it models (the semantics the review's findings are about):
 *  - devices: fake_devices() of them, "device memory" is host memory; the current device
 *    is per thread (cudaSetDevice); streams, events and allocations belong to the device
 *    current when they were made; a kernel launched into a stream of another device, or
 *    an event recorded on a stream of another device, fails with "invalid resource
 *    handle", as on a GPU (F4);
 *  - streams run in order, asynchronously: an operation may run only `lag` progress ticks
 *    after it was queued (fake_set_lag), so cudaEventQuery says cudaErrorNotReady;
 *    progress happens whenever any thread queries or synchronizes; non-blocking streams
 *    do not wait for the legacy stream;
 *  - events: a wait waits for the record that was the event's latest when the wait was
 *    queued (a wait on a never-recorded event is a no-op), also for IPC events opened in
 *    another "process";
 *  - the per-thread last error: every failing call sets it (cudaErrorNotReady from
 *    cudaEventQuery too), cudaGetLastError returns and clears it; a kernel launcher
 *    clears it, launches, returns cudaGetLastError() (kernels.cu) and counts the launches
 *    that found one left behind (F1);
 *  - sticky errors: a faulting kernel (fake_fault_kernel, or a misaligned element access:
 *    F2) poisons its device, every later call on it fails with that error;
 *  - cudaMemcpy from pageable host memory to the device: the data is taken at once but
 *    lands on the legacy stream later, unordered with non-blocking streams (F7);
 *  - NCCL: communicators from a unique id (ranks of one communicator are threads),
 *    blocking or not (ncclInProgress, then ncclSuccess a few ticks later), grouped
 *    ncclSend/ncclRecv matched in order per pair on the streams, with bytes copied; the
 *    duplicate-GPU refusal of init; ncclCommAbort; failures injected into ncclSend and
 *    ncclGroupEnd (F8); ncclGetVersion settable;
 *  - CUDA IPC: memory and event handles of another rank (thread) opened and used.
 */
#ifndef SW_FAKE_CUDA_H
#define SW_FAKE_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FAKE_API __attribute__((visibility("default")))

typedef struct fake_stats {
    uint64_t launches, preloads, group_ends, sends, recvs, ipc_mem_opened, ipc_ev_opened;
    uint64_t stale_launches;    /* launches that found an error left in their thread (which the
                                 * launcher clears first, as kernels.cu does) */
    uint64_t bytes_p2p;         /* bytes NCCL moved */
    uint64_t bytes_ipc_copied;  /* bytes device-to-device copies moved from another rank's memory */
    uint64_t event_queries_not_ready;
    uint64_t max_groups_queued; /* most NCCL groups one communicator had queued, not complete */
    uint64_t alloc_bytes[8];    /* bytes allocated now, per device */
    uint64_t alloc_peak[8];
    /* zero-copy: bytes NCCL moved from / into a watched range (fake_watch: the tensors),
     * and bytes the move kernels packed into / unpacked from staging */
    uint64_t bytes_sent_watched, bytes_recv_watched;
    uint64_t bytes_kernel_packed, bytes_kernel_unpacked;
} fake_stats;

/* Back to the start: n devices, no lag, no faults, version NCCL_VERSION_CODE.  Every
 * object of a previous test must be gone. */
FAKE_API void fake_reset(int ndevices);
FAKE_API void fake_set_lag(unsigned ticks);
/* The k-th pack/unpack/copy kernel run from now (1: the next) faults with an illegal
 * address (the validation kernels do not count). */
FAKE_API void fake_fault_kernel(unsigned k);
/* The k-th ncclSend from now returns ncclInvalidArgument; ncclGroupEnd returns r once. */
FAKE_API void fake_fail_send(unsigned k);
FAKE_API void fake_fail_group_end(int nccl_result);
FAKE_API void fake_set_nccl_version(int code);
/* The PCI bus id of device dev (default "0000:%02x:00.0" of dev). */
FAKE_API void fake_set_bus(int dev, const char *bus);
/* A thread that stops making progress for its streams (a stuck peer): its NCCL
 * operations are never matched while stalled. */
FAKE_API void fake_stall_rank(int comm_rank, int on);
FAKE_API fake_stats fake_get_stats(void);
/* Watches n bytes at p (a tensor) until fake_reset or its cudaFree: NCCL bytes sent from
 * or received into it count in bytes_sent_watched / bytes_recv_watched. */
FAKE_API void fake_watch(const void *p, size_t n);
/* Live streams, events, allocations, communicators (0 after a clean close). */
FAKE_API int fake_live_objects(void);
/* The per-thread last error, without clearing it. */
FAKE_API int fake_peek_last_error(void);

#ifdef __cplusplus
}
#endif
#endif
