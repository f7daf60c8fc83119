/*
 * nccl_ipc.h - messages between two processes of one host through CUDA IPC (the nccl
 * backend's route SW_VIA_IPC, nccl_route.h): what colocated engines do (a trainer and an
 * inference engine on the same GPUs, which NCCL cannot put in one communicator).
 *
 * Rendezvous (at open).  Each process that has IPC messages writes a record into a POSIX
 * shared-memory segment of its own, /shardwave-TOKEN-RANK (TOKEN: a hash of the NCCL
 * unique id, or a random number broadcast over the MPI bootstrap; RANK: its plan rank):
 * its host and GPU, an IPC handle of its staging arena (cudaIpcGetMemHandle), and for
 * each IPC message its wave, peer, direction, offset and bytes, and the index of an
 * interprocess event (cudaEventInterprocess) with its IPC handle.  Then it marks the
 * record ready.  In this order, so that a peer never opens a handle not yet exported:
 *   1. staging allocated, messages laid out (sw_exec_arena_layout);
 *   2. events created, handles taken, the record written, `ready` set (release);
 *   3. the records of its IPC peers opened (retrying until the timeout), `ready` read
 *      (acquire), checked (token, host), their arena mapped (cudaIpcOpenMemHandle,
 *      peer access for another GPU) and the events it needs opened.
 *
 * A sync.  For each wave with IPC messages, with seq the session's sync number:
 *   sender, pack(i):  waits (on the device) until the receivers of the waves that used
 *                     this part of the arena before have copied (their "copied" events),
 *                     then packs and records its "packed" event; publishes seq for it.
 *   receiver, post(i): waits (on the host) until the sender published seq for its
 *                     "packed" event of that wave (so that the device wait below waits
 *                     for this sync's record, not an older one: a wait on an IPC event
 *                     waits for the record issued before the wait call), waits for it on
 *                     the comm stream, copies the message (cudaMemcpyAsync, device to
 *                     device) into its own staging, records its "copied" event and
 *                     publishes seq.
 * Every process goes through the waves in plan order and every host wait is for a wave
 * no later than its own, so the host waits cannot form a cycle.  A host wait that lasts
 * longer than the timeout fails naming the peer and the wave.
 */
#ifndef SW_NCCL_IPC_H
#define SW_NCCL_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "exec.h"
#include "nccl_route.h"

typedef struct sw_nccl_ipc sw_nccl_ipc;

/* What a process brings to the rendezvous. */
typedef struct sw_nccl_ipc_setup {
    uint64_t token;            /* the same in every process of the session */
    int32_t rank;              /* plan rank */
    sw_nccl_where where;       /* this process's host and GPU */
    const sw_exec *x;          /* the rank's executor, its arena set (sw_exec_set_arena) */
    const uint8_t *via;        /* [plan nranks] the route to each rank (nccl_route.h) */
    double timeout_s;
} sw_nccl_ipc_setup;

/* The rendezvous above (collective over the IPC peers).  *out stays NULL when the rank
 * has no IPC message. */
int sw_nccl_ipc_open(sw_nccl_ipc **out, const sw_nccl_ipc_setup *s, sw_error *err);
/* Unmaps the peers, frees the events, removes this process's record.  NULL is ok. */
void sw_nccl_ipc_close(sw_nccl_ipc *ipc);

/* Before pack(i) on stream: waits for the copies that read the arena wave i reuses. */
int sw_nccl_ipc_before_pack(sw_nccl_ipc *ipc, size_t i, void *stream, sw_error *err);
/* After pack(i) on stream: records wave i's "packed" event and publishes seq; what wave
 * i sends now waits to be copied before the arena is reused. */
int sw_nccl_ipc_after_pack(sw_nccl_ipc *ipc, size_t i, void *stream, uint64_t seq, sw_error *err);
/* In post(i) on stream: the IPC receives of wave i (recvs: the wave's incoming messages,
 * as sw_exec_wave_msgs gives them; those from IPC peers are copied).  Returns how many it
 * copied in *ncopied. */
int sw_nccl_ipc_recv(sw_nccl_ipc *ipc, size_t i, void *stream, uint64_t seq, const sw_msg *recvs, size_t nr,
                     size_t *ncopied, sw_error *err);

/* At the end of a sync, on stream: waits for every receiver to have copied what this
 * rank sent it through CUDA IPC in this sync (so that the sync ends with its messages
 * delivered, and staging is never freed under a reader).  The next packs still wait for
 * them too (harmless). */
int sw_nccl_ipc_flush(sw_nccl_ipc *ipc, void *stream, sw_error *err);

#endif
