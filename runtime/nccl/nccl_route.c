/*
 * nccl_route.c - routes of the nccl backend (see nccl_route.h).  Plain C: the tests run it
 * on the CPU.
 */
#include "nccl_route.h"
#include "diag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

uint64_t sw_nccl_host_hash(void) {
    char name[256];
    const char *id = getenv("NCCL_HOSTID"); /* NCCL's own host identity, when set */
    if (!id || !id[0]) {
        if (gethostname(name, sizeof name) != 0) name[0] = 0;
        name[sizeof name - 1] = 0;
        id = name;
    }
    uint64_t h = 1469598103934665603ull;
    for (const char *s = id; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

int sw_nccl_same_gpu(const sw_nccl_where *a, const sw_nccl_where *b) {
    return a->host == b->host && a->bus[0] && !strncmp(a->bus, b->bus, sizeof a->bus);
}

/* Where rank index i runs according to the plan: host id and device (-1: a GPU of its own). */
static void plan_where(const sw_plan *p, uint32_t i, sw_nccl_where *w) {
    memset(w, 0, sizeof *w);
    w->host = (uint64_t)(uint32_t)p->ranks[i].host;
    w->device = p->ranks[i].device;
    if (p->ranks[i].device >= 0) snprintf(w->bus, sizeof w->bus, "plan:%d", p->ranks[i].device);
    else snprintf(w->bus, sizeof w->bus, "plan-rank:%d", p->ranks[i].rank);
}

int32_t sw_nccl_comm_rank(const sw_session_opts *o, int32_t r) {
    if (!o || !o->comm_rank_of) return r;
    if (r < 0 || (size_t)r >= o->ncomm_rank_of) return -1;
    return o->comm_rank_of[r];
}

void sw_nccl_route_free(sw_nccl_route *r) {
    if (!r) return;
    free(r->shares);
    free(r->via);
    memset(r, 0, sizeof *r);
}

int sw_nccl_route_make(const sw_plan *p, int32_t rank, const sw_nccl_where *where, int allow_members_sharing,
                       sw_nccl_route *r, sw_error *err) {
    memset(r, 0, sizeof *r);
    uint32_t n = p->nranks;
    r->nranks = n;
    r->shares = calloc((size_t)n + 1, 1);
    r->via = calloc((size_t)n + 1, 1);
    sw_nccl_where *w = malloc(((size_t)n + 1) * sizeof *w);
    if (!r->shares || !r->via || !w) {
        free(w);
        sw_nccl_route_free(r);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < n; i++) {
        if (where) w[i] = where[i];
        else plan_where(p, i, &w[i]);
    }
    /* who shares a GPU: sort-free O(n^2) is fine for the ranks of a plan (thousands at most) */
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = i + 1; j < n; j++)
            if (sw_nccl_same_gpu(&w[i], &w[j])) r->shares[i] = r->shares[j] = 1, r->colocated = 1;
    int32_t me = sw_plan_rank_index(p, rank);
    int rc = SW_OK;
    if (me >= 0) {
        for (uint32_t k = 0; k < p->ntasks && rc == SW_OK; k++) {
            const sw_plan_task *t = &p->tasks[k];
            if (t->src == t->dst || (t->src != rank && t->dst != rank)) continue;
            int32_t q = sw_plan_rank_index(p, t->src == rank ? t->dst : t->src);
            if (q < 0 || r->via[q]) continue;
            int same_host = w[me].host == w[q].host;
            if (same_host && (r->shares[me] || r->shares[q])) {
                r->via[q] = SW_VIA_IPC;
                r->npeers_ipc++;
                continue;
            }
            r->via[q] = SW_VIA_NCCL;
            r->npeers_nccl++;
            if (!allow_members_sharing && (r->shares[me] || r->shares[q])) {
                /* one communicator of every process would hold two processes on one GPU */
                int32_t s = r->shares[me] ? me : q, mate = -1;
                for (uint32_t j = 0; j < n && mate < 0; j++)
                    if (j != (uint32_t)s && sw_nccl_same_gpu(&w[s], &w[j])) mate = (int32_t)j;
                rc = sw__err(err, SW_UNSUPPORTED,
                             "ranks %d and %d share a GPU (device %d of host %llu%s), and rank %d also exchanges data "
                             "with rank %d on another host, which needs NCCL; with a unique id every process joins one "
                             "NCCL communicator, and NCCL refuses two processes on one GPU: bootstrap through MPI (it "
                             "builds a communicator of the ranks that need one) or give these ranks GPUs of their own",
                             p->ranks[s].rank, mate >= 0 ? p->ranks[mate].rank : -1, w[s].device,
                             (unsigned long long)w[s].host, where ? "" : " in the plan", p->ranks[me].rank,
                             p->ranks[q].rank);
            }
        }
    }
    r->member = r->npeers_nccl > 0;
    free(w);
    if (rc) sw_nccl_route_free(r);
    return rc;
}

int sw_nccl_check_members(const sw_nccl_where *where, const int32_t *plan_rank, const uint8_t *member, size_t n,
                          sw_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (!member[i]) continue;
        for (size_t j = i + 1; j < n; j++) {
            if (!member[j] || !sw_nccl_same_gpu(&where[i], &where[j])) continue;
            return sw__err(err, SW_UNSUPPORTED,
                           "ranks %d and %d are on the same GPU (PCI %s of one host; device %d and %d in their "
                           "processes) and both need the NCCL communicator (they exchange data with ranks on other "
                           "hosts), which NCCL refuses (\"Duplicate GPU detected\"): transfers between processes of one "
                           "host go through CUDA IPC, across hosts only through NCCL; give one of them a GPU of its own",
                           plan_rank[i], plan_rank[j], where[i].bus, where[i].device, where[j].device);
        }
    }
    return SW_OK;
}
