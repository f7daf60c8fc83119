/*
 * backend_local.h - the `local` backend: every rank of a plan is a thread of this
 * process; a message is one copy (with dtype conversion) straight from the sender's
 * tensors into the receiver's, made by the receiver once the sender has posted the wave.
 * The embedded default: no MPI, no GPU.
 */
#ifndef SW_BACKEND_LOCAL_H
#define SW_BACKEND_LOCAL_H

#include "exec.h"

typedef struct sw_local_group sw_local_group;

/* Prepares an executor per rank of the plan.  timeout_s bounds every wait. */
int sw_local_group_open(sw_local_group **g, const sw_plan *p, double timeout_s, sw_error *err);
/* Runs one sync of every rank, one thread each.  ptrs[l] is the memory of plan local l
 * (every local of every rank).  The first failure of any rank stops all of them and is
 * returned (naming rank, wave and peer). */
int sw_local_group_run(sw_local_group *g, void *const *ptrs, sw_error *err);
/* Bytes moved by the last run: sent between ranks, and copied inside a rank. */
void sw_local_group_bytes(const sw_local_group *g, uint64_t *sent, uint64_t *copied);
/* Bytes the last run packed plus unpacked (staged), summed over the ranks. */
uint64_t sw_local_group_staged(const sw_local_group *g);
void sw_local_group_close(sw_local_group *g);
/* on = 1: pack, unpack and copy through the segment descriptors that the nccl kernels run
 * (sw_exec_wave_descs, sw_seg_run_host) instead of memcpy runs: the CPU tests of the
 * device path's wave grouping, staging layout and index math. */
void sw_local_group_use_descs(sw_local_group *g, int on);
/* on = 1: messages go through staging buffers as with the mpi backend (pack, hand-over,
 * unpack) instead of one direct copy: the CPU tests of the executor's staged path
 * (double buffering, relays unpacked first). */
void sw_local_group_use_staging(sw_local_group *g, int on);
/* on = 1: messages as the mpi backend sends them under the zero-copy contract
 * (sw_backend.iov): iov lists over the tensors' contiguous runs and staging for the
 * strided segments, gathered and scattered by the receiver; the CPU tests of that path. */
void sw_local_group_use_iov(sw_local_group *g, int on);

#endif
