/*
 * nccl_route.h - how the nccl backend moves each message, decided in plain C (no CUDA):
 * which processes share a GPU, which pairs of plan ranks go through NCCL and which
 * through CUDA IPC, who is in the NCCL communicator and as which rank.
 *
 * Why: NCCL refuses two processes on one GPU in one communicator ("Duplicate GPU
 * detected", ncclInvalidUsage; the NCCL docs: not supported, may hang).  Colocated
 * layouts (a trainer and an inference engine on the same GPUs, examples/llama_tiny.sw)
 * put two plan ranks on every GPU.  So when some processes share a GPU ("colocated"):
 *   - a message between two processes on the same host, one of which shares its GPU,
 *     goes through CUDA IPC (the receiver copies from the sender's staging, mapped with
 *     cudaIpcOpenMemHandle; same GPU, or another GPU of the host through peer access);
 *   - every other message goes through NCCL, whose communicator then holds only the
 *     processes that have such messages ("members"), and no two members may share a GPU:
 *     that case fails before any NCCL call, naming both ranks.
 * Nothing shares a GPU: every message goes through NCCL, as before.
 *
 * Where a process runs (sw_nccl_where) comes from the processes themselves (host name
 * hash and PCI bus id, gathered over the MPI bootstrap) when there is a group to gather
 * over; with a unique id only (no MPI) it comes from the plan's (host, device) of each
 * rank, and the IPC rendezvous checks it (nccl_ipc.h).
 */
#ifndef SW_NCCL_ROUTE_H
#define SW_NCCL_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "shardwave.h"

/* Where one process runs: its host and its GPU. */
typedef struct sw_nccl_where {
    uint64_t host;  /* a hash of the host's name (NCCL_HOSTID when set, as NCCL does) */
    char bus[24];   /* the GPU's PCI bus id (cudaDeviceGetPCIBusId), "" when unknown */
    int32_t device; /* the CUDA device index in that process (for messages) */
    int32_t pad_;
} sw_nccl_where;

/* The host hash of this process: NCCL_HOSTID when set, else the host name (FNV-1a). */
uint64_t sw_nccl_host_hash(void);

/* 1 when a and b are the same GPU (same host and bus id). */
int sw_nccl_same_gpu(const sw_nccl_where *a, const sw_nccl_where *b);

enum { SW_VIA_NONE = 0, SW_VIA_NCCL = 1, SW_VIA_IPC = 2 };

/* The routes of one rank. */
typedef struct sw_nccl_route {
    uint32_t nranks;    /* plan ranks */
    int colocated;      /* some plan ranks share a GPU */
    uint8_t *shares;    /* [nranks] by rank index: shares its GPU with another plan rank */
    uint8_t *via;       /* [nranks] by rank index: how this rank moves data with that rank */
    int member;         /* this rank has NCCL messages (needs the communicator) */
    uint32_t npeers_nccl, npeers_ipc;
} sw_nccl_route;

/*
 * Decides the routes of `rank` in plan p (its tasks: a plan loaded for that rank only
 * is enough).  where: per plan rank index (p->ranks order) where it runs; NULL: the plan's
 * (host, device) of each rank stand for it.  Fails (SW_UNSUPPORTED) when a message
 * between a process that shares its GPU and one on another host would need NCCL while
 * `allow_members_sharing` is 0 (a communicator of every process, as with a unique id:
 * it would hold two processes on one GPU), naming the ranks.  Free with
 * sw_nccl_route_free.
 */
int sw_nccl_route_make(const sw_plan *p, int32_t rank, const sw_nccl_where *where, int allow_members_sharing,
                       sw_nccl_route *r, sw_error *err);
void sw_nccl_route_free(sw_nccl_route *r);

/*
 * The duplicate-GPU check, before any NCCL call: among the processes with member[k] = 1
 * (k: index into where[], n of them; plan_rank[k] their plan ranks, -1 for a process
 * the plan does not use), two on the same GPU fail with SW_UNSUPPORTED naming both ranks,
 * the host and the bus id, and saying what serves them (CUDA IPC on one host) and what
 * does not (NCCL across hosts).
 */
int sw_nccl_check_members(const sw_nccl_where *where, const int32_t *plan_rank, const uint8_t *member, size_t n,
                          sw_error *err);

/*
 * The communicator rank of plan (or process) rank r under the session's options:
 * comm_rank_of[r] when a map is given (-1 when r has none), else r.
 */
int32_t sw_nccl_comm_rank(const sw_session_opts *o, int32_t r);

#endif
