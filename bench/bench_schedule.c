/*
 * bench_schedule.c - schedule quality: for each example sync, every scheduler (optimal,
 * optimal without relays, greedy, naive, broadcast) compiled in one run and simulated:
 * waves, predicted makespan (full model, and communication only: pack/unpack free), the
 * plan's own lower bound, the ratio to it, and the slowdown against optimal.  Prints a
 * markdown table and writes an SVG bar chart of predicted / optimal's lower bound.
 *
 *   bench_schedule [EXAMPLES_DIR] [--svg FILE] [--deepseek]
 * Reports only; asserts nothing but that every plan verifies.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "load.h"
#include "sim.h"
#include "plan_verify.h"

typedef struct ex {
    const char *label, *file, *sync;
} ex;

typedef struct variant {
    const char *label;
    sw_scheduler sched;
    int no_relay;
} variant;

#define NV 5
static const variant variants[NV] = {{"optimal", SW_SCHED_OPTIMAL, 0},
                                     {"optimal --no-relay", SW_SCHED_OPTIMAL, 1},
                                     {"greedy", SW_SCHED_GREEDY, 0},
                                     {"naive", SW_SCHED_NAIVE, 0},
                                     {"broadcast", SW_SCHED_BROADCAST, 0}};

typedef struct row {
    int ok;
    int32_t waves;
    uint32_t tasks;
    double pred, comm, bound, compile_s;
} row;

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static row run(const sw_ir *ir, int sync, const variant *v) {
    row r;
    memset(&r, 0, sizeof r);
    sw_compile_params o = {.sync = sync, .scheduler = v->sched, .no_relay = v->no_relay};
    sw_plan p;
    sw_error err;
    double t0 = now_s();
    if (sw_compile(ir, &o, &p, &err)) {
        fprintf(stderr, "%s: %s: %s\n", ir->path, v->label, err.msg);
        return r;
    }
    r.compile_s = now_s() - t0;
    if (sw_plan_verify(&p, &err)) {
        fprintf(stderr, "%s: %s: verify: %s\n", ir->path, v->label, err.msg);
        sw_plan_free(&p);
        return r;
    }
    sw_sim_opts comm = {-1};
    sw_sim_result s;
    if (sw_sim_run(&p, &comm, &s, &err) == SW_OK) {
        r.comm = s.makespan;
        sw_sim_free(&s);
    }
    r.ok = 1;
    r.waves = p.nwaves;
    r.tasks = p.ntasks;
    r.pred = p.stats.predicted_s;
    r.bound = p.stats.lower_bound_s;
    sw_plan_free(&p);
    return r;
}

int main(int argc, char **argv) {
    const char *dir = "examples", *svg = "bench_schedule.svg";
    int deepseek = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--svg") && i + 1 < argc) svg = argv[++i];
        else if (!strcmp(argv[i], "--deepseek")) deepseek = 1;
        else dir = argv[i];
    }
    ex exs[] = {{"llama3-8b", "llama3-8b.yaml", "refit"},
                {"llama3-70b", "llama3-70b.yaml", "refit"},
                {"qwen3-30b-a3b refit", "qwen3-30b-a3b.yaml", "refit"},
                {"qwen3-30b-a3b refit_dp2", "qwen3-30b-a3b.yaml", "refit_dp2"},
                {"deepseek-v3", "deepseek-v3.yaml", "refit"}};
    int nex = deepseek ? 5 : 4;
    row rows[5][NV];
    memset(rows, 0, sizeof rows);
    printf("| example | scheduler | tasks | waves | predicted ms | comm-only ms | own bound ms | pred / own bound | "
           "comm / own bound | pred / optimal's bound | vs optimal | compile s |\n");
    printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int e = 0; e < nex; e++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, exs[e].file);
        sw_ir ir;
        sw_error err;
        if (sw_load_file(path, NULL, &ir, &err)) {
            fprintf(stderr, "%s: %s\n", path, err.msg);
            continue;
        }
        int sync = sw_ir_sync(&ir, exs[e].sync);
        for (int v = 0; v < NV && sync >= 0; v++) {
            row *r = &rows[e][v];
            *r = run(&ir, sync, &variants[v]);
            if (!r->ok) {
                printf("| %s | %s | failed |\n", exs[e].label, variants[v].label);
                continue;
            }
            double ob = rows[e][0].bound > 0 ? rows[e][0].bound : r->bound;
            printf("| %s | %s | %u | %d | %.2f | %.2f | %.2f | %.3f | %.3f | %.3f | %.2fx | %.2f |\n", exs[e].label,
                   variants[v].label, r->tasks, r->waves, r->pred * 1e3, r->comm * 1e3, r->bound * 1e3,
                   r->bound > 0 ? r->pred / r->bound : 1, r->bound > 0 ? r->comm / r->bound : 1, r->pred / ob,
                   rows[e][0].pred > 0 ? r->pred / rows[e][0].pred : 0, r->compile_s);
            fflush(stdout);
        }
        sw_ir_free(&ir);
    }
    /* chart: predicted / optimal's lower bound, log scale, grouped by example */
    FILE *f = fopen(svg, "w");
    if (!f) {
        fprintf(stderr, "bench_schedule: cannot write %s\n", svg);
        return 0;
    }
    const char *col[NV] = {"#2a9d8f", "#8ab17d", "#e9c46a", "#e76f51", "#8e6cc9"};
    double W = 900, H = 440, L = 70, R = 20, T = 50, B = 80, pw = W - L - R, ph = H - T - B;
    double maxr = 1;
    for (int e = 0; e < nex; e++)
        for (int v = 0; v < NV; v++)
            if (rows[e][v].ok && rows[e][0].bound > 0 && rows[e][v].pred / rows[e][0].bound > maxr)
                maxr = rows[e][v].pred / rows[e][0].bound;
    double lmax = ceil(log10(maxr) * 2) / 2;
    if (lmax < 0.5) lmax = 0.5;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
               "height=\"%.0f\" font-family=\"Helvetica, Arial, sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" "
               "fill=\"#fff\"/>\n<text x=\"%.0f\" y=\"28\" font-size=\"16\" font-weight=\"bold\">Predicted sync time / lower "
               "bound (log scale; 1 = optimal's bound)</text>\n",
            W, H, L);
    static const double ticks[] = {1, 1.5, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000};
    for (size_t k = 0; k < sizeof ticks / sizeof *ticks; k++) {
        if (log10(ticks[k]) > lmax + 1e-9) break;
        double y = T + ph - ph * log10(ticks[k]) / lmax;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/><text x=\"%.0f\" y=\"%.1f\" "
                   "font-size=\"11\" text-anchor=\"end\">%gx</text>\n", L, y, L + pw, y, L - 6, y + 4, ticks[k]);
    }
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n", L, T + ph, L + pw, T + ph);
    double gw = pw / nex, bw = gw * 0.8 / NV;
    for (int e = 0; e < nex; e++) {
        for (int v = 0; v < NV; v++) {
            const row *r = &rows[e][v];
            if (!r->ok || rows[e][0].bound <= 0) continue;
            double ratio = r->pred / rows[e][0].bound, h = ph * (ratio > 1 ? log10(ratio) : 0) / lmax;
            double x = L + e * gw + gw * 0.1 + v * bw;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %s: %.3fx</title>"
                       "</rect>\n", x, T + ph - h, bw - 2, h < 1 ? 1 : h, col[v], exs[e].label, variants[v].label, ratio);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"middle\">%.2f</text>\n", x + bw / 2 - 1,
                    T + ph - h - 3, ratio);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n", L + e * gw + gw / 2,
                T + ph + 18, exs[e].label);
    }
    for (int v = 0; v < NV; v++)
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\" "
                   "font-size=\"11\">%s</text>\n", L + v * 160, H - 30, col[v], L + v * 160 + 16, H - 21, variants[v].label);
    fprintf(f, "</svg>\n");
    fclose(f);
    printf("\nwrote %s\n", svg);
    return 0;
}
