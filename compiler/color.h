/*
 * color.h - wave coloring: proper edge coloring of the bipartite task multigraph.
 *
 * A sync plan's tasks are edges u -> v from a send port u in [0, nu) to a receive port
 * v in [0, nv) (the caller numbers the ports; parallel edges are allowed).  A color is
 * a wave: no send port and no receive port appears twice in one color.  By König's
 * theorem Δ colors suffice, Δ being the largest degree of any port.
 *
 * Ownership: the caller owns every array; nothing is kept after a call returns.  All
 * functions are deterministic (same input, same output) and keep no global state.
 */
#ifndef SW_COLOR_H
#define SW_COLOR_H

#include <stddef.h>
#include <stdint.h>
#include "shardwave.h"

typedef struct sw_color_edge {
    int32_t u, v; /* u in [0, nu), v in [0, nv) */
} sw_color_edge;

/* The most edges (or chunks, for sw_color_bipartite_chunks) one call accepts. */
#define SW_COLOR_MAX_UNITS ((size_t)INT32_MAX / 4)

/* Optimal coloring.  edges[0..m) with endpoints in [0,nu) x [0,nv); color[0..m) is
 * written with color[i] in [0, Δ) for edges[i], and *ncolors = Δ (0 when m == 0).
 * Returns SW_OK; SW_USAGE for a NULL array, a negative nu/nv, an endpoint out of
 * range or more than SW_COLOR_MAX_UNITS edges; SW_NOMEM.  O(m (log Δ + log n))
 * expected time (n = ports), O(m + nu + nv) memory; about 0.4-0.9 us per edge at
 * 1-5 M edges on one core (bench/bench_color.c); see color.c. */
int sw_color_bipartite(const sw_color_edge *edges, size_t m, int32_t nu, int32_t nv,
                       int32_t *color, int32_t *ncolors, sw_error *err);

/* Optimal coloring of chunked tasks: edge i stands for count[i] >= 0 equal chunks
 * (parallel edges) without the caller materializing them.  color must hold
 * sum(count) entries: chunk j of edge i gets color[off_i + j], off_i being
 * count[0] + ... + count[i-1].  *ncolors = the largest per-port chunk load (sum of the
 * counts of its edges), which is also the fewest waves any schedule can use.  Edges
 * with count 0 are ignored (their endpoints are still checked).  Errors as above, plus
 * SW_USAGE for a negative count or a total over SW_COLOR_MAX_UNITS. */
int sw_color_bipartite_chunks(const sw_color_edge *edges, const int32_t *count, size_t m,
                              int32_t nu, int32_t nv, int32_t *color, int32_t *ncolors,
                              sw_error *err);

/* Baseline: first-fit in edge order (each edge gets the smallest color free at both of
 * its ports); uses at most 2Δ-1 colors.  Same arguments and errors as
 * sw_color_bipartite; needs (active ports) x (2Δ-1) bits of scratch and returns
 * SW_NOMEM when that would exceed 1 GiB. */
int sw_color_greedy(const sw_color_edge *edges, size_t m, int32_t nu, int32_t nv,
                    int32_t *color, int32_t *ncolors, sw_error *err);

/* Checks a coloring: every color in [0, ncolors) and no port twice in one color.
 * Returns SW_OK; SW_INTERNAL with a message naming the edge(s) and the port otherwise;
 * SW_USAGE for bad arguments (as above); SW_NOMEM. */
int sw_color_verify(const sw_color_edge *edges, size_t m, int32_t nu, int32_t nv,
                    const int32_t *color, int32_t ncolors, sw_error *err);

/* Internal, for tests and benchmarks: sw_color_bipartite_chunks (count may be NULL for
 * all-ones) with a chosen budget of random-walk steps per perfect matching: walk < 0
 * is the automatic budget (what the public functions use), 0 no walk at all, so that
 * every augmenting path comes from the deterministic BFS; past the budget BFS takes
 * over. */
int sw__color_bipartite_opts(const sw_color_edge *edges, const int32_t *count, size_t m,
                             int32_t nu, int32_t nv, int32_t *color, int32_t *ncolors,
                             int64_t walk, sw_error *err);

#endif
