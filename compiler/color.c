/*
 * color.c - bipartite edge coloring with exactly Δ colors (see color.h).
 *
 * Algorithm (Euler splits on a regularized, weighted multigraph):
 *
 *  1. Regularize.  Ports on each side are merged, in index order, into bins whose total
 *     degree stays <= Δ (next-fit: two consecutive bins together exceed Δ, so there
 *     are n <= 2M/Δ + 1 bins per side, M = edges or chunks).  Both sides are padded to
 *     n bins, and padding edges between bins with spare degree make every bin's degree
 *     exactly Δ.  A proper coloring of the merged graph is one of the original (a
 *     port's edges are a subset of its bin's), and padding edges are dropped at the
 *     end.  Edges are kept as weighted groups (bin u, bin v, multiplicity w, origin):
 *     parallel edges and chunks between the same bins are one group, and the padding
 *     is O(n) groups, so the work is proportional to the number of distinct bin pairs.
 *
 *  2. Recurse on a d-regular graph (d = Δ at the top):
 *     - d odd: find a perfect matching (it exists: regular bipartite), give it one
 *       color, subtract it: the rest is (d-1)-regular.
 *     - d even: Euler split.  Each group keeps floor(w/2) in each half; the groups of
 *       odd w form a graph of even degrees, whose edges are paired at every bin and
 *       then go alternately to the two halves around the cycles the pairs form (even
 *       cycles: the graph is bipartite).  Both halves are (d/2)-regular; recurse on each.
 *     - d == 1: the groups are a perfect matching: one color.
 *     Every node of degree d spends exactly d colors, so the total is Δ.
 *
 *  3. Perfect matching in a d-regular graph: greedy start, then for each free left
 *     vertex the truncated random walk of Goel, Kapralov and Khanna (2010): from a left
 *     vertex take a uniformly random unit of non-matched degree to the right, follow
 *     the right vertex's matched edge back left, erase loops, stop at a free right
 *     vertex and augment.  Expected O(n log n) steps per matching, independent of the
 *     number of edges.  The walk's random numbers come from a splitmix64 seeded with a
 *     constant, so the result is deterministic.  A step budget (about 64x the expected
 *     total) bounds the walk; past it, the remaining augmenting paths are found by BFS
 *     (O(groups) each), so the worst case stays polynomial.
 *
 * Cost: the groups of one recursion level sum to at most the groups of the top, so the
 * splits cost O(G log Δ) for G <= M + 2n groups; the matchings cost O(G + n log n) per
 * odd node, O(M log n) over all nodes (there are at most 2Δ nodes with n bins each and
 * nΔ <= 2M + Δ).  Total O(M (log Δ + log n)) time expected, O(M + nu + nv) memory.
 */
#include "color.h"

#include <stdlib.h>
#include <string.h>

#include "diag.h"

typedef struct cgrp {
    int32_t u, v; /* bins */
    int32_t w;    /* multiplicity (units) */
    int32_t o;    /* origin (run of sorted edges), -1 for padding */
} cgrp;

typedef struct cctx {
    int32_t n;            /* bins per side */
    /* origin o owns the edges ids[ocur[o]...] (count[e] units each, in order) */
    const int32_t *ids;
    int32_t *ocur, *ounit;
    const int32_t *count; /* NULL: one unit per edge */
    const int64_t *uoff;  /* first unit of each edge when count != NULL */
    int32_t *color;
    int32_t next_color;
    uint64_t rng;
    int64_t walk;         /* walk steps per matching: < 0 automatic, 0 none */
    /* workspaces: k = groups at the top, n = bins */
    uint8_t *side;        /* k: half that got the odd unit of the t-th odd group */
    int32_t *adj;         /* 2k: split: partners; match: adjacency */
    int32_t *head, *ptr;  /* 2n+1, 2n */
    int32_t *cum;         /* k: weight prefix within a left vertex's list */
    int32_t *mate_l;      /* n: adjacency index of the left vertex's matched group */
    int32_t *mate_r;      /* n: same, by right vertex */
    int32_t *pos, *stack, *queue, *seen, *prevp; /* n each */
} cctx;

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, range) for 0 < range < 2^32 (multiply-shift). */
static uint32_t rand_below(uint64_t *s, uint32_t range) {
    return (uint32_t)(((splitmix64(s) >> 32) * (uint64_t)range) >> 32);
}

/* Colors one unit of group g with col: the next uncolored unit of its origin. */
static void emit(cctx *c, const cgrp *g, int32_t col) {
    if (g->o < 0) return;
    int32_t o = g->o;
    int32_t e = c->ids[c->ocur[o]];
    if (!c->count) {
        c->color[e] = col;
        c->ocur[o]++;
        return;
    }
    c->color[c->uoff[e] + c->ounit[o]] = col;
    if (++c->ounit[o] == c->count[e]) {
        c->ounit[o] = 0;
        c->ocur[o]++;
    }
}

/* BFS for an augmenting path from the free left vertex u0 (groups indexed through
 * c->adj/c->head as built by match).  Augments and returns 1, or returns 0 when there
 * is none (impossible in a regular graph). */
static int augment_bfs(cctx *c, const cgrp *g, int32_t u0) {
    int32_t *head = c->head, *adj = c->adj;
    int32_t qh = 0, qt = 0;
    c->queue[qt++] = u0;
    while (qh < qt) {
        int32_t x = c->queue[qh++];
        for (int32_t p = head[x]; p < head[x + 1]; p++) {
            if (p == c->mate_l[x]) continue;
            int32_t v = g[adj[p]].v;
            if (c->seen[v] == u0) continue;
            c->seen[v] = u0;
            c->prevp[v] = p;
            if (c->mate_r[v] < 0) {
                /* Walk back: each left vertex on the path takes the edge that reached
                 * the right vertex, freeing its old mate for the previous step. */
                for (;;) {
                    int32_t q = c->prevp[v];
                    int32_t u = g[adj[q]].u;
                    int32_t old = c->mate_l[u];
                    c->mate_l[u] = q;
                    c->mate_r[v] = q;
                    if (u == u0) return 1;
                    v = g[adj[old]].v;
                }
            }
            c->queue[qt++] = g[adj[c->mate_r[v]]].u;
        }
    }
    return 0;
}

/* Truncated random walk (Goel-Kapralov-Khanna) from the free left vertex u0 in a
 * d-regular graph, d >= 3.  Augments and returns 1, or returns 0 when *budget steps ran
 * out (the matching is then unchanged). */
static int augment_walk(cctx *c, const cgrp *g, int32_t d, int32_t u0, int64_t *budget) {
    int32_t *head = c->head, *adj = c->adj, *cum = c->cum;
    int32_t top = 0, x = u0;
    for (;;) {
        if (--*budget < 0) {
            for (int32_t i = 0; i < top; i++) c->pos[g[adj[c->stack[i]]].u] = -1;
            return 0;
        }
        c->pos[x] = top;
        /* A uniform unit among the non-matched units of x (skip one unit of its match). */
        int32_t mp = c->mate_l[x];
        int32_t r;
        if (mp >= 0) {
            r = (int32_t)rand_below(&c->rng, (uint32_t)(d - 1));
            if (r >= cum[mp]) r++;
        } else {
            r = (int32_t)rand_below(&c->rng, (uint32_t)d);
        }
        int32_t lo = head[x], hi = head[x + 1] - 1; /* largest p with cum[p] <= r */
        while (lo < hi) {
            int32_t mid = lo + (hi - lo + 1) / 2;
            if (cum[mid] <= r) lo = mid; else hi = mid - 1;
        }
        c->stack[top++] = lo;
        int32_t v = g[adj[lo]].v;
        if (c->mate_r[v] < 0) {
            for (int32_t i = 0; i < top; i++) {
                int32_t p = c->stack[i];
                c->mate_l[g[adj[p]].u] = p;
                c->mate_r[g[adj[p]].v] = p;
                c->pos[g[adj[p]].u] = -1;
            }
            return 1;
        }
        int32_t y = g[adj[c->mate_r[v]]].u;
        if (c->pos[y] >= 0) { /* loop: erase it */
            int32_t keep = c->pos[y];
            for (int32_t i = keep; i < top; i++) c->pos[g[adj[c->stack[i]]].u] = -1;
            top = keep;
        }
        x = y;
    }
}

/* Perfect matching of the d-regular graph g[0..k) (d odd, >= 3) on c->n + c->n bins.
 * On SW_OK, c->mate_l[u] is, for every left bin u, an index p with c->adj[p] the
 * matched group. */
static int match(cctx *c, const cgrp *g, size_t k, int32_t d, sw_error *err) {
    int32_t n = c->n;
    int32_t *head = c->head, *adj = c->adj;
    memset(head, 0, (size_t)(n + 1) * sizeof *head);
    for (size_t i = 0; i < k; i++) head[g[i].u + 1]++;
    for (int32_t u = 0; u < n; u++) head[u + 1] += head[u];
    memcpy(c->ptr, head, (size_t)n * sizeof *head);
    for (size_t i = 0; i < k; i++) adj[c->ptr[g[i].u]++] = (int32_t)i;
    for (int32_t u = 0; u < n; u++) {
        int32_t s = 0;
        for (int32_t p = head[u]; p < head[u + 1]; p++) {
            c->cum[p] = s;
            s += g[adj[p]].w;
        }
        if (s != d) return sw__err(err, SW_INTERNAL, "color: bin %d has degree %d, not %d", u, s, d);
    }
    for (int32_t i = 0; i < n; i++) {
        c->mate_l[i] = c->mate_r[i] = -1;
        c->pos[i] = c->seen[i] = -1;
    }
    for (int32_t u = 0; u < n; u++) /* greedy start */
        for (int32_t p = head[u]; p < head[u + 1]; p++)
            if (c->mate_r[g[adj[p]].v] < 0) {
                c->mate_l[u] = c->mate_r[g[adj[p]].v] = p;
                break;
            }
    int64_t lg = 1;
    while (((int64_t)1 << lg) < n) lg++;
    int64_t budget = c->walk < 0 ? 64 * ((int64_t)n + 16) * (lg + 2) : c->walk;
    for (int32_t u = 0; u < n; u++) {
        if (c->mate_l[u] >= 0) continue;
        if (budget > 0 && augment_walk(c, g, d, u, &budget)) continue;
        if (!augment_bfs(c, g, u))
            return sw__err(err, SW_INTERNAL, "color: no perfect matching in a %d-regular graph", d);
    }
    return SW_OK;
}

/* Euler split of the d-regular graph g[0..k) (d even) into two (d/2)-regular halves,
 * returned as new malloc'd arrays *a[0..*ka), *b[0..*kb) (caller frees; group order
 * follows g).  g is not modified.
 *
 * Every group keeps floor(w/2) units in each half.  The odd groups (numbered t in the
 * order of g) have even degree at every bin, so at each bin they are paired up, in
 * order; each odd group then has one partner at its left bin and one at its right bin,
 * and following partners alternately right, left, right... runs around even cycles.
 * Alternating halves along each cycle splits every pair, hence every bin, evenly.
 * This is an Euler partition with one dependent memory access per odd group. */
static int split(cctx *c, const cgrp *g, size_t k, cgrp **a, size_t *ka, cgrp **b, size_t *kb,
                 sw_error *err) {
    int32_t n = c->n;
    int32_t *pendl = c->head, *pendr = c->head + n, *pair = c->adj; /* pair[2t]: left, [2t+1]: right */
    uint8_t *side = c->side;
    for (int32_t x = 0; x < 2 * n; x++) pendl[x] = -1;
    int32_t q = 0;
    for (size_t i = 0; i < k; i++) {
        if (!(g[i].w & 1)) continue;
        int32_t t = q++, *pu = &pendl[g[i].u], *pv = &pendr[g[i].v];
        if (*pu < 0) {
            *pu = t;
        } else {
            pair[2 * t] = *pu;
            pair[2 * *pu] = t;
            *pu = -1;
        }
        if (*pv < 0) {
            *pv = t;
        } else {
            pair[2 * t + 1] = *pv;
            pair[2 * *pv + 1] = t;
            *pv = -1;
        }
    }
    for (int32_t x = 0; x < 2 * n; x++)
        if (pendl[x] >= 0) return sw__err(err, SW_INTERNAL, "color: odd degree at bin %d in an Euler split", x);
    memset(side, 2, (size_t)q);
    for (int32_t t0 = 0; t0 < q; t0++) {
        if (side[t0] != 2) continue;
        int32_t t = t0, via = 1; /* leave t0 through its right partner */
        do {
            side[t] = (uint8_t)(via ^ 1); /* alternate: 0 on leaving right, 1 on leaving left */
            t = pair[2 * t + via];
            via ^= 1;
        } while (t != t0);
        if (via != 1) return sw__err(err, SW_INTERNAL, "color: odd cycle in an Euler split");
    }
    size_t na = 0, nb = 0;
    for (size_t i = 0, t = 0; i < k; i++) {
        int32_t h = g[i].w / 2, o = g[i].w & 1, sd = o ? side[t++] : 2;
        na += (h + (sd == 0)) > 0;
        nb += (h + (sd == 1)) > 0;
    }
    *a = malloc((na ? na : 1) * sizeof **a);
    *b = malloc((nb ? nb : 1) * sizeof **b);
    if (!*a || !*b) {
        free(*a);
        free(*b);
        *a = *b = NULL;
        return sw__err(err, SW_NOMEM, "color: out of memory splitting %zu groups", k);
    }
    na = nb = 0;
    for (size_t i = 0, t = 0; i < k; i++) {
        int32_t h = g[i].w / 2, o = g[i].w & 1, sd = o ? side[t++] : 2;
        int32_t wa = h + (sd == 0), wb = h + (sd == 1);
        if (wa) { (*a)[na] = g[i]; (*a)[na++].w = wa; }
        if (wb) { (*b)[nb] = g[i]; (*b)[nb++].w = wb; }
    }
    *ka = na;
    *kb = nb;
    return SW_OK;
}

/* Colors the d-regular graph g[0..k) with colors c->next_color .. + d - 1.  Takes
 * ownership of g (malloc'd) and frees it. */
static int solve(cctx *c, cgrp *g, size_t k, int32_t d, sw_error *err) {
    int rc = SW_OK;
    while (d > 0 && (d & 1)) {
        int32_t col = c->next_color++;
        if (d == 1) {
            for (size_t i = 0; i < k; i++) emit(c, &g[i], col);
            free(g);
            return SW_OK;
        }
        SW_CHECK_GOTO(match(c, g, k, d, err), rc, done);
        for (int32_t u = 0; u < c->n; u++) {
            cgrp *e = &g[c->adj[c->mate_l[u]]];
            emit(c, e, col);
            e->w--;
        }
        size_t j = 0;
        for (size_t i = 0; i < k; i++)
            if (g[i].w > 0) g[j++] = g[i];
        k = j;
        d--;
    }
    if (d == 0) goto done;
    cgrp *a = NULL, *b = NULL;
    size_t ka = 0, kb = 0;
    SW_CHECK_GOTO(split(c, g, k, &a, &ka, &b, &kb, err), rc, done);
    free(g);
    g = NULL;
    rc = solve(c, a, ka, d / 2, err);
    if (rc != SW_OK) {
        free(b);
        return rc;
    }
    return solve(c, b, kb, d / 2, err);
done:
    free(g);
    return rc;
}

/* Checks the arguments shared by every entry point. */
static int check_args(const sw_color_edge *edges, size_t m, int32_t nu, int32_t nv,
                      const void *color, sw_error *err) {
    if (nu < 0 || nv < 0) return sw__err(err, SW_USAGE, "color: negative port count (%d, %d)", nu, nv);
    if (m > 0 && (!edges || !color)) return sw__err(err, SW_USAGE, "color: NULL edge or color array");
    if (m > SW_COLOR_MAX_UNITS) return sw__err(err, SW_USAGE, "color: %zu edges, more than %zu", m, SW_COLOR_MAX_UNITS);
    for (size_t i = 0; i < m; i++) {
        if (edges[i].u < 0 || edges[i].u >= nu)
            return sw__err(err, SW_USAGE, "color: edge %zu has send port %d outside [0, %d)", i, edges[i].u, nu);
        if (edges[i].v < 0 || edges[i].v >= nv)
            return sw__err(err, SW_USAGE, "color: edge %zu has receive port %d outside [0, %d)", i, edges[i].v, nv);
    }
    return SW_OK;
}

/* Next-fit of ports (degrees deg[0..np)) into bins of capacity cap; writes bin[] and
 * the bins' loads into load[] (at least as long as the bin count); returns the count. */
static int32_t pack_bins(const int64_t *deg, int32_t np, int64_t cap, int32_t *bin, int64_t *load) {
    int32_t nb = 0;
    for (int32_t x = 0; x < np; x++) {
        if (nb == 0 || load[nb - 1] + deg[x] > cap) load[nb++] = 0;
        bin[x] = nb - 1;
        load[nb - 1] += deg[x];
    }
    return nb;
}

int sw__color_bipartite_opts(const sw_color_edge *edges, const int32_t *count, size_t m,
                             int32_t nu, int32_t nv, int32_t *color, int32_t *ncolors,
                             int64_t walk, sw_error *err) {
    if (!ncolors) return sw__err(err, SW_USAGE, "color: NULL ncolors");
    *ncolors = 0;
    SW_CHECK(check_args(edges, m, nu, nv, color, err));
    int rc = SW_OK;
    cctx c = {0};
    int64_t *degu = NULL, *degv = NULL, *loadu = NULL, *loadv = NULL, *uoff = NULL;
    int32_t *binu = NULL, *binv = NULL, *ids = NULL, *tmp = NULL, *cnt = NULL;
    cgrp *g = NULL;
    int64_t total = 0, delta = 0;
    size_t k = 0, mp = 0, nrun = 0;
    int32_t n = 0;

    degu = calloc((size_t)nu + 1, sizeof *degu);
    degv = calloc((size_t)nv + 1, sizeof *degv);
    if (!degu || !degv) goto nomem;
    if (count) {
        uoff = malloc((m ? m : 1) * sizeof *uoff);
        if (!uoff) goto nomem;
    }
    for (size_t i = 0; i < m; i++) {
        int32_t w = count ? count[i] : 1;
        if (w < 0) {
            rc = sw__err(err, SW_USAGE, "color: edge %zu has negative chunk count %d", i, w);
            goto out;
        }
        if (uoff) uoff[i] = total;
        total += w;
        if ((uint64_t)total > SW_COLOR_MAX_UNITS) {
            rc = sw__err(err, SW_USAGE, "color: more than %zu chunks", SW_COLOR_MAX_UNITS);
            goto out;
        }
        degu[edges[i].u] += w;
        degv[edges[i].v] += w;
    }
    for (int32_t x = 0; x < nu; x++) delta = degu[x] > delta ? degu[x] : delta;
    for (int32_t x = 0; x < nv; x++) delta = degv[x] > delta ? degv[x] : delta;
    if (delta == 0) goto out;

    /* 1. Bins, and the edges of positive count sorted by (bin u, bin v). */
    binu = malloc(((size_t)nu + 1) * sizeof *binu);
    binv = malloc(((size_t)nv + 1) * sizeof *binv);
    loadu = calloc((size_t)nu + 1, sizeof *loadu);
    loadv = calloc((size_t)nv + 1, sizeof *loadv);
    if (!binu || !binv || !loadu || !loadv) goto nomem;
    int32_t nbu = pack_bins(degu, nu, delta, binu, loadu);
    int32_t nbv = pack_bins(degv, nv, delta, binv, loadv);
    n = nbu > nbv ? nbu : nbv;
    /* Spare load arrays must cover n bins: reuse the larger port array's tail. */
    if (n > nu) {
        int64_t *t = realloc(loadu, (size_t)n * sizeof *loadu);
        if (!t) goto nomem;
        loadu = t;
    }
    if (n > nv) {
        int64_t *t = realloc(loadv, (size_t)n * sizeof *loadv);
        if (!t) goto nomem;
        loadv = t;
    }
    for (int32_t x = nbu; x < n; x++) loadu[x] = 0;
    for (int32_t x = nbv; x < n; x++) loadv[x] = 0;

    ids = malloc((m ? m : 1) * sizeof *ids);
    tmp = malloc((m ? m : 1) * sizeof *tmp);
    cnt = calloc((size_t)n + 1, sizeof *cnt);
    if (!ids || !tmp || !cnt) goto nomem;
    /* mp = edges with units */
    for (size_t i = 0; i < m; i++) /* by bin v */
        if (!count || count[i] > 0) cnt[binv[edges[i].v] + 1]++, mp++;
    for (int32_t x = 0; x < n; x++) cnt[x + 1] += cnt[x];
    for (size_t i = 0; i < m; i++)
        if (!count || count[i] > 0) tmp[cnt[binv[edges[i].v]]++] = (int32_t)i;
    memset(cnt, 0, ((size_t)n + 1) * sizeof *cnt); /* then stably by bin u */
    for (size_t t = 0; t < mp; t++) cnt[binu[edges[tmp[t]].u] + 1]++;
    for (int32_t x = 0; x < n; x++) cnt[x + 1] += cnt[x];
    for (size_t t = 0; t < mp; t++) ids[cnt[binu[edges[tmp[t]].u]]++] = tmp[t];
    free(tmp);
    tmp = NULL;

    /* Groups: one per run of equal (bin u, bin v), then the padding. */
    for (size_t t = 0; t < mp; t++)
        if (t == 0 || binu[edges[ids[t]].u] != binu[edges[ids[t - 1]].u] ||
            binv[edges[ids[t]].v] != binv[edges[ids[t - 1]].v])
            nrun++;
    size_t kmax = nrun + 2 * (size_t)n + 1;
    g = malloc(kmax * sizeof *g);
    c.ocur = malloc((nrun ? nrun : 1) * sizeof *c.ocur);
    c.ounit = calloc(nrun ? nrun : 1, sizeof *c.ounit);
    if (!g || !c.ocur || !c.ounit) goto nomem;
    for (size_t t = 0; t < mp; t++) {
        int32_t e = ids[t], w = count ? count[e] : 1;
        int32_t bu = binu[edges[e].u], bv = binv[edges[e].v];
        if (k > 0 && g[k - 1].u == bu && g[k - 1].v == bv) {
            g[k - 1].w += w;
        } else {
            c.ocur[k] = (int32_t)t;
            g[k] = (cgrp){bu, bv, w, (int32_t)k};
            k++;
        }
    }
    for (int32_t i = 0, j = 0; i < n && j < n;) { /* pad every bin to degree Δ */
        int64_t du = delta - loadu[i], dv = delta - loadv[j];
        if (du == 0) { i++; continue; }
        if (dv == 0) { j++; continue; }
        int64_t w = du < dv ? du : dv;
        g[k++] = (cgrp){i, j, (int32_t)w, -1};
        loadu[i] += w;
        loadv[j] += w;
    }

    /* 2. Workspaces sized for the top (children never have more groups). */
    c.n = n;
    c.ids = ids;
    c.count = count;
    c.uoff = uoff;
    c.color = color;
    c.rng = 0x5eed5eed5eed5eedULL;
    c.walk = walk;
    c.side = malloc(k);
    c.cum = malloc(k * sizeof *c.cum);
    c.adj = malloc(2 * k * sizeof *c.adj);
    c.head = malloc((2 * (size_t)n + 1) * sizeof *c.head);
    c.ptr = malloc(2 * (size_t)n * sizeof *c.ptr);
    int32_t **nv_arrays[] = {&c.mate_l, &c.mate_r, &c.pos, &c.stack, &c.queue, &c.seen, &c.prevp};
    for (size_t i = 0; i < sizeof nv_arrays / sizeof *nv_arrays; i++)
        if (!(*nv_arrays[i] = malloc((size_t)n * sizeof **nv_arrays[i]))) goto nomem;
    if (!c.side || !c.cum || !c.adj || !c.head || !c.ptr) goto nomem;

    cgrp *top = g;
    g = NULL; /* solve owns it */
    SW_CHECK_GOTO(solve(&c, top, k, (int32_t)delta, err), rc, out);
    if (c.next_color != delta) {
        rc = sw__err(err, SW_INTERNAL, "color: used %d colors, expected %lld", c.next_color, (long long)delta);
        goto out;
    }
    *ncolors = (int32_t)delta;
    goto out;
nomem:
    rc = sw__err(err, SW_NOMEM, "color: out of memory coloring %zu edges", m);
out:
    free(degu); free(degv); free(loadu); free(loadv); free(uoff);
    free(binu); free(binv); free(ids); free(tmp); free(cnt); free(g);
    free(c.ocur); free(c.ounit); free(c.side); free(c.cum);
    free(c.adj); free(c.head); free(c.ptr); free(c.mate_l); free(c.mate_r); free(c.pos);
    free(c.stack); free(c.queue); free(c.seen); free(c.prevp);
    if (rc != SW_OK) *ncolors = 0;
    return rc;
}

int sw_color_bipartite(const sw_color_edge *edges, size_t m, int32_t nu, int32_t nv,
                       int32_t *color, int32_t *ncolors, sw_error *err) {
    return sw__color_bipartite_opts(edges, NULL, m, nu, nv, color, ncolors, -1, err);
}

int sw_color_bipartite_chunks(const sw_color_edge *edges, const int32_t *count, size_t m,
                              int32_t nu, int32_t nv, int32_t *color, int32_t *ncolors,
                              sw_error *err) {
    if (m > 0 && !count) return sw__err(err, SW_USAGE, "color: NULL chunk counts");
    return sw__color_bipartite_opts(edges, count, m, nu, nv, color, ncolors, -1, err);
}

/* First-fit: bitsets of used colors per active port, 2Δ-1 bits each.  O(m Δ/64). */
int sw_color_greedy(const sw_color_edge *edges, size_t m, int32_t nu, int32_t nv,
                    int32_t *color, int32_t *ncolors, sw_error *err) {
    if (!ncolors) return sw__err(err, SW_USAGE, "color: NULL ncolors");
    *ncolors = 0;
    SW_CHECK(check_args(edges, m, nu, nv, color, err));
    if (m == 0) return SW_OK;
    int rc = SW_OK;
    uint64_t *bits = NULL;
    int32_t *deg = calloc((size_t)nu + (size_t)nv, sizeof *deg); /* then: active index */
    if (!deg) goto nomem;
    for (size_t i = 0; i < m; i++) {
        deg[edges[i].u]++;
        deg[(size_t)nu + (size_t)edges[i].v]++;
    }
    int64_t delta = 0;
    size_t nact = 0;
    for (size_t x = 0; x < (size_t)nu + (size_t)nv; x++) {
        delta = deg[x] > delta ? deg[x] : delta;
        deg[x] = deg[x] ? (int32_t)nact++ : -1;
    }
    size_t words = (size_t)(2 * delta - 1 + 63) / 64;
    if (nact > ((size_t)1 << 27) / words) {
        rc = sw__err(err, SW_NOMEM, "color: greedy baseline needs %zu ports x %zu words of scratch (over 1 GiB)", nact, words);
        goto out;
    }
    bits = calloc(nact * words, sizeof *bits);
    if (!bits) goto nomem;
    int32_t maxc = -1;
    for (size_t i = 0; i < m; i++) {
        uint64_t *bu = bits + (size_t)deg[edges[i].u] * words;
        uint64_t *bv = bits + (size_t)deg[(size_t)nu + (size_t)edges[i].v] * words;
        size_t w = 0;
        uint64_t free_bits = 0;
        for (; w < words; w++)
            if ((free_bits = ~(bu[w] | bv[w])) != 0) break;
        if (w == words) { /* cannot happen: at most 2Δ-2 colors are taken */
            rc = sw__err(err, SW_INTERNAL, "color: greedy found no color for edge %zu", i);
            goto out;
        }
        int b = __builtin_ctzll(free_bits);
        int32_t col = (int32_t)(w * 64 + (size_t)b);
        bu[w] |= (uint64_t)1 << b;
        bv[w] |= (uint64_t)1 << b;
        color[i] = col;
        maxc = col > maxc ? col : maxc;
    }
    *ncolors = maxc + 1;
    goto out;
nomem:
    rc = sw__err(err, SW_NOMEM, "color: out of memory in greedy coloring of %zu edges", m);
out:
    free(deg);
    free(bits);
    return rc;
}

/* Finds a port used twice by one color: edges sorted by color (counting sort when the
 * colors are few, else by bucketing on the low and high halves), then per color a
 * stamp per port.  O(m + nu + nv + min(ncolors, 4m)). */
int sw_color_verify(const sw_color_edge *edges, size_t m, int32_t nu, int32_t nv,
                    const int32_t *color, int32_t ncolors, sw_error *err) {
    SW_CHECK(check_args(edges, m, nu, nv, color, err));
    if (ncolors < 0) return sw__err(err, SW_USAGE, "color: negative color count %d", ncolors);
    for (size_t i = 0; i < m; i++)
        if (color[i] < 0 || color[i] >= ncolors)
            return sw__err(err, SW_INTERNAL, "color: edge %zu (%d -> %d) has color %d outside [0, %d)",
                           i, edges[i].u, edges[i].v, color[i], ncolors);
    if (m == 0) return SW_OK;
    int rc = SW_OK;
    int32_t *order = malloc(m * sizeof *order), *tmp = malloc(m * sizeof *tmp);
    int32_t *cnt = NULL, *lastu = NULL, *lastv = NULL;
    /* LSD radix on the color: one pass over min(ncolors, 2^16) buckets, then, when
     * there are more colors, one over the high bits. */
    size_t nb = ncolors < (1 << 16) ? (size_t)ncolors : ((size_t)1 << 16);
    cnt = calloc(nb + 1, sizeof *cnt);
    lastu = malloc(((size_t)nu + 1) * sizeof *lastu);
    lastv = malloc(((size_t)nv + 1) * sizeof *lastv);
    if (!order || !tmp || !cnt || !lastu || !lastv) {
        rc = sw__err(err, SW_NOMEM, "color: out of memory verifying %zu edges", m);
        goto out;
    }
    for (size_t i = 0; i < m; i++) order[i] = (int32_t)i;
    for (int pass = 0; pass < (ncolors > (1 << 16) ? 2 : 1); pass++) {
        int shift = 16 * pass;
        size_t nbp = pass ? (size_t)((ncolors - 1) >> 16) + 1 : nb;
        memset(cnt, 0, (nbp + 1) * sizeof *cnt);
        for (size_t i = 0; i < m; i++) cnt[((color[order[i]] >> shift) & 0xffff) + 1]++;
        for (size_t b = 0; b < nbp; b++) cnt[b + 1] += cnt[b];
        for (size_t i = 0; i < m; i++) tmp[cnt[(color[order[i]] >> shift) & 0xffff]++] = order[i];
        int32_t *t = order;
        order = tmp;
        tmp = t;
    }
    /* last*[p] = the latest edge seen at port p; edges come grouped by color, so a
     * conflict is exactly a latest edge of the same color. */
    for (int32_t x = 0; x < nu; x++) lastu[x] = -1;
    for (int32_t x = 0; x < nv; x++) lastv[x] = -1;
    for (size_t t = 0; t < m; t++) {
        int32_t e = order[t];
        int32_t pu = lastu[edges[e].u], pv = lastv[edges[e].v];
        if (pu >= 0 && color[pu] == color[e]) {
            rc = sw__err(err, SW_INTERNAL, "color: send port %d is in color %d twice: edges %d and %d",
                         edges[e].u, color[e], pu < e ? pu : e, pu < e ? e : pu);
            goto out;
        }
        if (pv >= 0 && color[pv] == color[e]) {
            rc = sw__err(err, SW_INTERNAL, "color: receive port %d is in color %d twice: edges %d and %d",
                         edges[e].v, color[e], pv < e ? pv : e, pv < e ? e : pv);
            goto out;
        }
        lastu[edges[e].u] = e;
        lastv[edges[e].v] = e;
    }
out:
    free(order); free(tmp); free(cnt); free(lastu); free(lastv);
    return rc;
}
