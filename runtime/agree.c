/* agree.c - the agreement at session open (see agree.h). */
#include "agree.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

/* What each process says (fixed layout: gathered as bytes). */
typedef struct rec {
    int32_t status;   /* SW_OK, or why this process cannot open */
    int32_t rank;     /* the global rank it opens */
    int32_t max_rank; /* the plan's highest rank (-1: none or no plan) */
    uint32_t has_plan;
    uint64_t id;      /* the plan's identity (0: no plan) */
} rec;

/* "2, 5, 7 (and 12 more)" of the processes i in [0, n) for which bad[i]. */
static void list_ranks(const uint8_t *bad, int n, int skip, char *buf, size_t cap) {
    size_t len = 0;
    int shown = 0, more = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (!bad[i] || i == skip) continue;
        if (shown < 8 && len < cap) {
            len += (size_t)snprintf(buf + len, cap - len, "%s%d", shown ? ", " : "", i);
            shown++;
        } else {
            more++;
        }
    }
    if (more && len < cap) snprintf(buf + len, cap - len, " and %d more", more);
}

int sw_agree_plan(const sw_agree_ops *ops, const sw_plan *p, uint64_t id, int32_t rank, const sw_error *why,
                  double timeout_s, sw_error *err) {
    rec mine;
    memset(&mine, 0, sizeof mine);
    sw_error local; /* this process's own failure, if any (broadcast when it is the first) */
    sw__err_clear(&local);
    if (why && why->status != SW_OK) local = *why;
    else if (!p) sw__err(&local, SW_USAGE, "no plan");
    mine.rank = rank;
    mine.max_rank = -1;
    if (p && local.status == SW_OK) {
        mine.has_plan = 1;
        mine.id = id;
        mine.max_rank = p->nranks ? p->ranks[p->nranks - 1].rank : -1;
    }
    mine.status = local.status;
    if (mine.status > 0 || mine.status < SW_INTERNAL) mine.status = SW_RUNTIME;
    int n = ops->size;
    rec *all = calloc((size_t)n + 1, sizeof *all);
    uint8_t *bad = calloc((size_t)n + 1, 1);
    int rc = SW_OK;
    if (!all || !bad) {
        /* cannot take part: the others time out (there is nothing better to do) */
        free(all);
        free(bad);
        return sw__err(err, SW_NOMEM, "out of memory");
    }
    SW_CHECK_GOTO(ops->allgather(ops->ctx, &mine, all, sizeof mine, timeout_s, err), rc, out);
    /* every process computes the same verdict from the same records */
    int first = -1, nfail = 0;
    for (int i = 0; i < n; i++)
        if (all[i].status != SW_OK) {
            bad[i] = 1;
            nfail++;
            if (first < 0) first = i;
        }
    if (first >= 0) {
        sw_error e = local; /* the first failing process's own error, to everyone */
        SW_CHECK_GOTO(ops->bcast(ops->ctx, &e, sizeof e, first, timeout_s, err), rc, out);
        e.msg[sizeof e.msg - 1] = '\0';
        e.file[sizeof e.file - 1] = '\0';
        char others[160];
        list_ranks(bad, n, first, others, sizeof others);
        char what[sizeof e.msg + sizeof e.file + 64];
        sw_error_format(&e, what, sizeof what);
        const char *m = what;
        if (!strncmp(m, "shardwave: error: ", 18)) m += 18;
        rc = sw__err(err, all[first].status, "rank %d cannot open its session: %s%s%s%s", all[first].rank, m,
                     nfail > 1 ? " (ranks " : "", others, nfail > 1 ? " failed too)" : "");
        goto out;
    }
    /* process k is global rank k */
    for (int i = 0; i < n; i++)
        if (all[i].rank != i) {
            rc = sw__err(err, SW_USAGE,
                         "process %d of the communicator opened the session of rank %d: process k must be global "
                         "rank k",
                         i, all[i].rank);
            goto out;
        }
    /* one plan everywhere (compared with rank 0's) */
    for (int i = 1; i < n; i++) bad[i] = all[i].id != all[0].id;
    int odd = -1, nodd = 0;
    for (int i = 1; i < n; i++)
        if (bad[i]) {
            nodd++;
            if (odd < 0) odd = i;
        }
    if (odd >= 0) {
        char others[160];
        list_ranks(bad, n, odd, others, sizeof others);
        rc = sw__err(err, SW_USAGE,
                     "rank %d opened another plan than rank 0 (plan identities %016llx and %016llx)%s%s%s: every rank "
                     "must load the same plan file",
                     odd, (unsigned long long)all[odd].id, (unsigned long long)all[0].id,
                     nodd > 1 ? "; so did ranks " : "", nodd > 1 ? others : "", "");
        goto out;
    }
    if (all[0].max_rank >= n) {
        rc = sw__err(err, SW_USAGE,
                     "the plan uses global ranks up to %d and process k of the communicator is global rank k: launch "
                     "%d processes, not %d",
                     all[0].max_rank, all[0].max_rank + 1, n);
        goto out;
    }
out:
    free(all);
    free(bad);
    return rc;
}
