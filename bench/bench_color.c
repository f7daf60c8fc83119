/*
 * bench_color.c - wave coloring: optimal (Euler splits) vs greedy first-fit, side by
 * side.  Prints one line per graph: edges, ports, Δ, colors and milliseconds of each.
 * Reports only; asserts nothing but validity.  `bench_color quick` runs the small ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "color.h"

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int32_t below(uint64_t *s, int32_t n) { return (int32_t)(splitmix(s) % (uint64_t)n); }

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

enum shape { UNIFORM, SKEWED, REGULAR, CHUNKED };

typedef struct bcase {
    const char *name;
    enum shape shape;
    size_t m;
    int32_t nu, nv;
    int big;
} bcase;

/* Fills e[0..m) for the case; REGULAR makes every sender degree m/nu, receivers too
 * (a random permutation per round); CHUNKED is an all-to-all between nu x nv ranks in
 * task order (sender-major), each task split into a random number of chunks expanded
 * into parallel edges: the structured case where first-fit is far from Δ. */
static void make(const bcase *b, sw_color_edge *e, uint64_t *s) {
    size_t m = b->m;
    if (b->shape == REGULAR) {
        int32_t *perm = malloc((size_t)b->nv * sizeof *perm);
        size_t i = 0;
        while (i < m) {
            for (int32_t x = 0; x < b->nv; x++) perm[x] = x;
            for (int32_t x = b->nv - 1; x > 0; x--) {
                int32_t y = below(s, x + 1), t = perm[x];
                perm[x] = perm[y];
                perm[y] = t;
            }
            for (int32_t u = 0; u < b->nu && i < m; u++) e[i++] = (sw_color_edge){u, perm[u]};
        }
        free(perm);
        return;
    }
    if (b->shape == CHUNKED) { /* all-to-all, each pair 1..2c chunks, in task order */
        size_t i = 0;
        int32_t avg = (int32_t)(m / ((size_t)b->nu * (size_t)b->nv)), c = avg > 0 ? avg : 1;
        for (int32_t u = 0; u < b->nu && i < m; u++)
            for (int32_t v = 0; v < b->nv && i < m; v++)
                for (int32_t j = 0, k = 1 + below(s, 2 * c); j < k && i < m; j++)
                    e[i++] = (sw_color_edge){u, v};
        for (; i < m; i++) e[i] = (sw_color_edge){below(s, b->nu), below(s, b->nv)};
        return;
    }
    for (size_t i = 0; i < m; i++) {
        int32_t u = below(s, b->nu), v = below(s, b->nv);
        if (b->shape == SKEWED && below(s, 4) == 0) {
            u = below(s, 1 + b->nu / 50);
            v = below(s, 1 + b->nv / 20);
        }
        e[i] = (sw_color_edge){u, v};
    }
}

/* Largest port degree, counted here independently of the library. */
static int32_t max_degree(const sw_color_edge *e, size_t m, int32_t nu, int32_t nv) {
    int32_t *d = calloc((size_t)nu + (size_t)nv, sizeof *d), best = 0;
    if (!d) return -1;
    for (size_t i = 0; i < m; i++) {
        int32_t a = ++d[e[i].u], b = ++d[(size_t)nu + (size_t)e[i].v];
        best = a > best ? a : best;
        best = b > best ? b : best;
    }
    free(d);
    return best;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && strcmp(argv[1], "quick") == 0;
    const bcase cases[] = {
        {"uniform", UNIFORM, 10000, 100, 100, 0},
        {"uniform", UNIFORM, 200000, 1000, 1000, 0},
        {"skewed", SKEWED, 200000, 1000, 1000, 0},
        {"regular-odd", REGULAR, 1023 * 1000, 1000, 1000, 1},
        {"uniform", UNIFORM, 1000000, 5000, 5000, 1},
        {"skewed", SKEWED, 1000000, 5000, 5000, 1},
        {"a2a-chunks", CHUNKED, 200000, 256, 256, 0},
        {"a2a-chunks", CHUNKED, 1000000, 512, 512, 1},
        {"uniform", UNIFORM, 5000000, 10000, 10000, 1},
        {"uniform-dense", UNIFORM, 5000000, 2000, 2000, 1},
        {"skewed", SKEWED, 5000000, 10000, 10000, 1},
        {"regular-odd", REGULAR, (size_t)4095 * 1200, 1200, 1200, 1},
        {"a2a-chunks", CHUNKED, 5000000, 1024, 1024, 1},
    };
    printf("%-14s %9s %6s %6s | %7s %9s | %7s %9s | %6s\n", "graph", "edges", "ports", "delta",
           "optimal", "opt ms", "greedy", "greedy ms", "g/opt");
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const bcase *b = &cases[c];
        if (quick && b->big) continue;
        uint64_t s = 42 + c;
        sw_color_edge *e = malloc(b->m * sizeof *e);
        int32_t *col = malloc(b->m * sizeof *col);
        if (!e || !col) return 1;
        make(b, e, &s);
        sw_error err;
        int32_t nopt = 0, ngr = 0;
        double t0 = now_ms();
        int rc = sw_color_bipartite(e, b->m, b->nu, b->nv, col, &nopt, &err);
        double t1 = now_ms();
        if (rc == SW_OK) rc = sw_color_verify(e, b->m, b->nu, b->nv, col, nopt, &err);
        if (rc != SW_OK) {
            fprintf(stderr, "optimal: %s\n", err.msg);
            return 1;
        }
        double t2 = now_ms();
        rc = sw_color_greedy(e, b->m, b->nu, b->nv, col, &ngr, &err);
        double t3 = now_ms();
        if (rc == SW_OK) rc = sw_color_verify(e, b->m, b->nu, b->nv, col, ngr, &err);
        if (rc != SW_OK) {
            fprintf(stderr, "greedy: %s\n", err.msg);
            return 1;
        }
        printf("%-14s %9zu %6d %6d | %7d %9.1f | %7d %9.1f | %6.3f\n", b->name, b->m,
               b->nu + b->nv, max_degree(e, b->m, b->nu, b->nv), nopt, t1 - t0, ngr, t3 - t2, (double)ngr / nopt);
        if (b->shape == CHUNKED) { /* the same tasks through the chunk-count API */
            size_t nt = 0;
            for (size_t i = 0; i < b->m; i++)
                if (i == 0 || e[i].u != e[i - 1].u || e[i].v != e[i - 1].v) nt++;
            sw_color_edge *te = malloc(nt * sizeof *te);
            int32_t *cnt = malloc(nt * sizeof *cnt);
            if (!te || !cnt) return 1;
            nt = 0;
            for (size_t i = 0; i < b->m; i++) {
                if (i == 0 || e[i].u != e[i - 1].u || e[i].v != e[i - 1].v) {
                    te[nt] = e[i];
                    cnt[nt++] = 0;
                }
                cnt[nt - 1]++;
            }
            int32_t nch = 0;
            t0 = now_ms();
            rc = sw_color_bipartite_chunks(te, cnt, nt, b->nu, b->nv, col, &nch, &err);
            t1 = now_ms();
            if (rc != SW_OK || nch != nopt) {
                fprintf(stderr, "chunks: %s\n", err.msg);
                return 1;
            }
            printf("  same as %zu tasks with chunk counts: %d colors in %.1f ms\n", nt, nch, t1 - t0);
            free(te);
            free(cnt);
        }
        free(e);
        free(col);
    }
    return 0;
}
