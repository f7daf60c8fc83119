/*
 * bench_schedule.c - schedule quality: for each example sync, every scheduler (optimal,
 * optimal without relays, greedy, naive, broadcast) compiled in one run and simulated:
 * waves, predicted makespan (full model, and communication only: pack/unpack free), the
 * plan's own lower bound, the ratio to it, and the slowdown against optimal; the small,
 * latency-bound syncs; the peers' schedules (peers.h) in the same model as ratios to
 * shardwave; the issue-16 goals, met or not.  Prints markdown tables and writes an SVG
 * bar chart of predicted / optimal's lower bound.
 *
 *   bench_schedule [EXAMPLES_DIR] [--svg FILE] [--deepseek]
 * --deepseek adds DeepSeek-V3 fp8 and bf16 (1,280 ranks each; naive and broadcast are
 * not run there).  Reports only; asserts nothing but that every plan verifies.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compile.h"
#include "clock.h"
#include "load.h"
#include "sim.h"
#include "peers.h"
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

/* Compiles, verifies and simulates one variant; keeps the plan in *keep when asked. */
static row run(const sw_ir *ir, int sync, const variant *v, sw_plan *keep) {
    row r;
    memset(&r, 0, sizeof r);
    sw_compile_params o = {.sync = sync, .scheduler = v->sched, .no_relay = v->no_relay};
    sw_plan p;
    sw_error err;
    double t0 = sw_now_s();
    if (sw_compile(ir, &o, &p, &err)) {
        fprintf(stderr, "%s: %s: %s\n", ir->path, v->label, err.msg);
        return r;
    }
    r.compile_s = sw_now_s() - t0;
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
    if (keep) *keep = p;
    else sw_plan_free(&p);
    return r;
}

#define NEX 6
#define MAX_DEFS 20

typedef struct small_cfg {
    const char *label, *file;
    sw_define d[MAX_DEFS];
} small_cfg;

/* Latency-bound refits: the demo's small plan and tiny sizes of the examples. */
static const small_cfg smalls[] = {
    {"llama3-8b demo small", "llama3-8b.yaml", {{"hidden", 512}, {"layers", 4}, {"vocab", 4096}, {"multiple_of", 64}}},
    {"llama3-8b 5 MiB", "llama3-8b.yaml", {{"hidden", 128}, {"layers", 2}, {"vocab", 1024}, {"multiple_of", 64}}},
    {"llama3-8b 17 MiB", "llama3-8b.yaml", {{"hidden", 256}, {"layers", 2}, {"vocab", 1000}, {"multiple_of", 64}}},
    {"llama3-8b 84 MiB", "llama3-8b.yaml", {{"hidden", 512}, {"layers", 2}, {"vocab", 4096}, {"multiple_of", 64}}},
    {"llama3-70b 59 MiB", "llama3-70b.yaml", {{"hidden", 256}, {"layers", 4}, {"vocab", 1024}, {"multiple_of", 64}}},
    {"qwen3-30b-a3b 2.3 MiB", "qwen3-30b-a3b.yaml",
     {{"hidden", 64}, {"head_dim", 16}, {"layers", 4}, {"experts", 16}, {"moe_ffn", 64}, {"vocab", 1024}}},
    {"qwen3-30b-a3b 9.4 MiB", "qwen3-30b-a3b.yaml",
     {{"hidden", 256}, {"head_dim", 16}, {"layers", 4}, {"experts", 16}, {"moe_ffn", 64}, {"vocab", 1024}}},
    {"deepseek-v3 tiny (fp8)", "deepseek-v3.yaml",
     {{"hidden", 64}, {"layers", 4}, {"dense", 1}, {"experts", 64}, {"moe_ffn", 16}, {"ffn", 64}, {"heads", 8},
      {"q_lora", 32}, {"kv_lora", 16}, {"nope", 8}, {"rope", 8}, {"v_head", 8}, {"vocab", 1024}, {"pp_train", 2},
      {"ep_train", 4}, {"ep_inf", 2}, {"tp_inf", 2}, {"block", 8}}},
};

int main(int argc, char **argv) {
    const char *dir = "examples", *svg = "bench_schedule.svg";
    int deepseek = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--svg") && i + 1 < argc) svg = argv[++i];
        else if (!strcmp(argv[i], "--deepseek")) deepseek = 1;
        else dir = argv[i];
    }
    ex exs[NEX] = {{"llama3-8b", "llama3-8b.yaml", "refit"},
                   {"llama3-70b", "llama3-70b.yaml", "refit"},
                   {"qwen3-30b-a3b refit", "qwen3-30b-a3b.yaml", "refit"},
                   {"qwen3-30b-a3b refit_dp2", "qwen3-30b-a3b.yaml", "refit_dp2"},
                   {"deepseek-v3 (fp8)", "deepseek-v3.yaml", "refit"},
                   {"deepseek-v3-bf16", "deepseek-v3-bf16.yaml", "refit"}};
    int nex = deepseek ? NEX : NEX - 2;
    row rows[NEX][NV];
    sw_peer_times peers[NEX];
    memset(rows, 0, sizeof rows);
    memset(peers, 0, sizeof peers);
    printf("## Schedule quality\n\n");
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
        int big = e >= NEX - 2;
        sw_plan keep[2];
        int kept[2] = {0, 0};
        for (int v = 0; v < NV && sync >= 0; v++) {
            row *r = &rows[e][v];
            if (big && (variants[v].sched == SW_SCHED_NAIVE || variants[v].sched == SW_SCHED_BROADCAST)) {
                printf("| %s | %s | not run (a million one-transfer tasks) |\n", exs[e].label, variants[v].label);
                continue;
            }
            *r = run(&ir, sync, &variants[v], v < 2 ? &keep[v] : NULL);
            if (!r->ok) {
                printf("| %s | %s | failed |\n", exs[e].label, variants[v].label);
                continue;
            }
            if (v < 2) kept[v] = 1;
            double ob = rows[e][0].bound > 0 ? rows[e][0].bound : r->bound;
            printf("| %s | %s | %u | %d | %.2f | %.2f | %.2f | %.3f | %.3f | %.3f | %.2fx | %.2f |\n", exs[e].label,
                   variants[v].label, r->tasks, r->waves, r->pred * 1e3, r->comm * 1e3, r->bound * 1e3,
                   r->bound > 0 ? r->pred / r->bound : 1, r->bound > 0 ? r->comm / r->bound : 1, r->pred / ob,
                   rows[e][0].pred > 0 ? r->pred / rows[e][0].pred : 0, r->compile_s);
            fflush(stdout);
        }
        if (kept[0] && kept[1] && sw_peer_times_of(&keep[0], &keep[1], &peers[e], &err))
            fprintf(stderr, "%s: peers: %s\n", path, err.msg);
        for (int k = 0; k < 2; k++)
            if (kept[k]) sw_plan_free(&keep[k]);
        sw_ir_free(&ir);
    }

    /* small syncs: latency matters */
    printf("\n## Small syncs (optimal scheduler)\n\n| sync | destination MiB | tasks | waves | predicted us | "
           "comm-only us | bound us | pred / bound | comm / bound |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    double worst_small = 0;
    const char *worst_label = "";
    for (size_t k = 0; k < sizeof smalls / sizeof *smalls; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, smalls[k].file);
        sw_load_opts lo = {smalls[k].d, 0};
        while (lo.ndefines < MAX_DEFS && smalls[k].d[lo.ndefines].name) lo.ndefines++;
        sw_ir ir;
        sw_error err;
        if (sw_load_file(path, &lo, &ir, &err)) {
            fprintf(stderr, "%s: %s\n", path, err.msg);
            continue;
        }
        sw_plan p;
        row r = run(&ir, 0, &variants[0], &p);
        if (r.ok) {
            double ratio = r.bound > 0 ? r.pred / r.bound : 1;
            printf("| %s | %.2f | %u | %d | %.1f | %.1f | %.1f | %.3f | %.3f |\n", smalls[k].label,
                   (double)p.stats.unique_bytes / 1048576, r.tasks, r.waves, r.pred * 1e6, r.comm * 1e6, r.bound * 1e6,
                   ratio, r.bound > 0 ? r.comm / r.bound : 1);
            if (ratio > worst_small) {
                worst_small = ratio;
                worst_label = smalls[k].label;
            }
            sw_plan_free(&p);
        }
        sw_ir_free(&ir);
    }

    /* the peers' schedules in the same model, communication only */
    printf("\n## Peers (communication only, same cost model; ratio = peer / shardwave)\n\n| example | shardwave ms | "
           "gather + per-tensor broadcast ms | ratio | owner-bucketed broadcast ms | ratio | one batch, no waves ms | "
           "ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int e = 0; e < nex; e++) {
        const row *r = &rows[e][0];
        const sw_peer_times *pt = &peers[e];
        if (!r->ok || r->comm <= 0 || pt->gather_bcast <= 0) continue;
        printf("| %s | %.2f | %.2f | %.2fx | %.2f | %.2fx | %.2f%s | %.2fx%s |\n", exs[e].label, r->comm * 1e3,
               pt->gather_bcast * 1e3, pt->gather_bcast / r->comm, pt->bucketed * 1e3, pt->bucketed / r->comm,
               pt->one_batch * 1e3, pt->one_batch_exact ? "" : " (bound)", pt->one_batch / r->comm,
               pt->one_batch_exact ? "" : " (at least)");
    }

    /* the goals of issue 16 */
    printf("\n## Goals\n\n");
    for (int e = NEX - 2; e < nex; e++) {
        const row *r = &rows[e][0];
        if (!r->ok) continue;
        double c = r->comm / r->bound, f = r->pred / r->bound;
        printf("- %s: communication only %.3fx the bound (goal <= 1.05: %s), full model %.3fx (goal <= 1.10: %s), "
               "%d waves\n",
               exs[e].label, c, c <= 1.05 ? "met" : "not met", f, f <= 1.10 ? "met" : "not met", r->waves);
    }
    if (!deepseek) printf("- DeepSeek-V3 (both configurations): run with --deepseek\n");
    printf("- small syncs: at most %.3fx the bound (%s; goal <= 1.3: %s)\n", worst_small, worst_label,
           worst_small <= 1.3 ? "met" : "not met");
    fflush(stdout);

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
