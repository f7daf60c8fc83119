/*
 * bench_compile.c - compile scale: DeepSeek-V3 (examples/deepseek-v3.yaml) from Megatron
 * TP1 EP64 PP16 (1,024 ranks) to vLLM TP8 x EP32 (256 ranks), and a scaling series of
 * smaller variants (-D overrides of layers, experts and ranks).  Each configuration runs
 * in a child process so that its peak RSS is its own (wait4).  Prints a markdown table
 * (load, compile, verify and write wall seconds, CPU seconds, peak RSS, the plan file's
 * size, one rank's load of it: bytes read and time over 64 ranks and the biggest
 * section, plan counts), the issue-16 goals met or not, and writes an SVG plot of time
 * against tensors x ranks.
 *
 *   bench_compile [EXAMPLES_DIR] [--svg FILE] [--quick]
 * Reports only; asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include "compile.h"
#include "clock.h"
#include "load.h"
#include "plan_io.h"
#include "plan_verify.h"

typedef struct config {
    const char *name;
    int64_t layers, experts, pp, ep, ep_inf;
} config;

/* What a child reports. */
typedef struct result {
    int ok;
    double load_s, compile_s, verify_s, write_s;
    double cpu_s;              /* user + system seconds of load, compile, verify and write */
    long rss_compile_kb;       /* peak after load + compile */
    long rss_all_kb;           /* peak at the end (verify and write included) */
    uint64_t tensors, ranks, xfers, tasks, waves;
    double predicted_s, bound_s;
    uint64_t plan_bytes;       /* the plan file */
    double rank_load_max_s, rank_load_med_s; /* one rank's sw_plan_read, sampled ranks (warm page cache) */
    uint64_t rank_read_max;    /* bytes that read takes, at most */
    int rank_worst;
} result;

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double cpu_now(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* One rank's part read back from the plan file: time and bytes for 64 ranks spread over
 * the plan plus the rank with the most transfers (the biggest section). */
static void rank_loads(const char *file, const sw_plan *p, result *r) {
    uint32_t *cnt = calloc(p->nranks + 1, sizeof *cnt), worst = 0;
    if (!cnt) return;
    for (uint32_t x = 0; x < p->nxfers; x++) {
        cnt[sw_plan_rank_index(p, p->xfers[x].src_rank)]++;
        cnt[sw_plan_rank_index(p, p->xfers[x].dst_rank)]++;
    }
    for (uint32_t i = 1; i < p->nranks; i++)
        if (cnt[i] > cnt[worst]) worst = i;
    free(cnt);
    enum { SAMPLES = 64 };
    double t[SAMPLES + 1];
    int n = 0;
    for (int k = 0; k <= SAMPLES && p->nranks; k++) {
        uint32_t ri = k == SAMPLES ? worst : (uint32_t)((uint64_t)k * p->nranks / SAMPLES);
        sw_plan q;
        sw_plan_file_info info;
        sw_error err;
        double a = sw_now_s();
        if (sw_plan_read_ex(&q, file, p->ranks[ri].rank, &info, &err)) {
            fprintf(stderr, "rank %d: %s\n", p->ranks[ri].rank, err.msg);
            continue;
        }
        t[n] = sw_now_s() - a;
        if (t[n] > r->rank_load_max_s) {
            r->rank_load_max_s = t[n];
            r->rank_worst = p->ranks[ri].rank;
        }
        if (info.bytes_read > r->rank_read_max) r->rank_read_max = info.bytes_read;
        n++;
        sw_plan_free(&q);
    }
    qsort(t, (size_t)n, sizeof *t, cmp_dbl);
    r->rank_load_med_s = n ? t[n / 2] : 0;
}

static void run_child(const char *path, const config *c, int fd) {
    result r;
    memset(&r, 0, sizeof r);
    sw_define d[] = {{"layers", c->layers}, {"experts", c->experts}, {"pp_train", c->pp}, {"ep_train", c->ep},
                     {"ep_inf", c->ep_inf}};
    sw_load_opts lo = {d, 5};
    sw_ir ir;
    sw_error err;
    double c0 = cpu_now();
    double t0 = sw_now_s();
    if (sw_load_file(path, &lo, &ir, &err)) {
        fprintf(stderr, "%s: %s\n", c->name, err.msg);
        goto done;
    }
    double t1 = sw_now_s();
    sw_compile_params o = {0};
    sw_plan p;
    if (sw_compile(&ir, &o, &p, &err)) {
        fprintf(stderr, "%s: compile: %s\n", c->name, err.msg);
        sw_ir_free(&ir);
        goto done;
    }
    double t2 = sw_now_s();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r.rss_compile_kb = ru.ru_maxrss;
    r.tensors = ir.ntensors;
    sw_ir_free(&ir);
    int vrc = sw_plan_verify(&p, &err);
    double t3 = sw_now_s();
    if (vrc) fprintf(stderr, "%s: verify: %s\n", c->name, err.msg);
    r.ok = !vrc;
    char file[64];
    snprintf(file, sizeof file, "/tmp/bench_compile_%d.swp", (int)getpid());
    if (sw_plan_write(&p, file, &err)) fprintf(stderr, "%s: write: %s\n", c->name, err.msg);
    double t4 = sw_now_s();
    r.cpu_s = cpu_now() - c0;
    getrusage(RUSAGE_SELF, &ru);
    r.rss_all_kb = ru.ru_maxrss;
    struct stat st;
    if (!stat(file, &st)) r.plan_bytes = (uint64_t)st.st_size;
    rank_loads(file, &p, &r);
    unlink(file);
    r.load_s = t1 - t0;
    r.compile_s = t2 - t1;
    r.verify_s = t3 - t2;
    r.write_s = t4 - t3;
    r.ranks = p.nranks;
    r.xfers = p.nxfers;
    r.tasks = p.ntasks;
    r.waves = (uint64_t)p.nwaves;
    r.predicted_s = p.stats.predicted_s;
    r.bound_s = p.stats.lower_bound_s;
    sw_plan_free(&p);
done:
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) fprintf(stderr, "bench_compile: pipe write failed\n");
}

/* Runs one configuration in a child; fills *r and the child's peak RSS (KiB). */
static int measure(const char *path, const config *c, result *r, long *rss_kb) {
    int fds[2];
    if (pipe(fds)) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        run_child(path, c, fds[1]);
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    memset(r, 0, sizeof *r);
    ssize_t n = read(fds[0], r, sizeof *r);
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0) return -1;
    *rss_kb = r->rss_all_kb;
    return n == (ssize_t)sizeof *r ? 0 : -1;
}

static void plot(const char *svg, const config *cs, const result *rs, const long *rss, int n) {
    FILE *f = fopen(svg, "w");
    if (!f) {
        fprintf(stderr, "bench_compile: cannot write %s\n", svg);
        return;
    }
    double W = 760, H = 420, L = 80, R = 30, T = 50, B = 60, maxt = 0, maxx = 0;
    for (int i = 0; i < n; i++) {
        double t = rs[i].load_s + rs[i].compile_s + rs[i].verify_s, x = (double)rs[i].tensors * (double)rs[i].ranks;
        if (t > maxt) maxt = t;
        if (x > maxx) maxx = x;
    }
    if (maxt <= 0) maxt = 1;
    if (maxx <= 0) maxx = 1;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
               "height=\"%.0f\" font-family=\"Helvetica, Arial, sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
            W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"28\" font-size=\"16\" font-weight=\"bold\">Compile scale: DeepSeek-V3 variants "
               "(load + compile + verify)</text>\n", L);
    double pw = W - L - R, ph = H - T - B;
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n", L, T + ph, L + pw, T + ph);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#333\"/>\n", L, T, L, T + ph);
    for (int k = 0; k <= 4; k++) {
        double y = T + ph - ph * k / 4;
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#eee\"/><text x=\"%.0f\" y=\"%.1f\" "
                   "font-size=\"11\" text-anchor=\"end\">%.2f s</text>\n", L, y, L + pw, y, L - 6, y + 4, maxt * k / 4);
    }
    const char *col[3] = {"#4c78a8", "#f58518", "#54a24b"};
    const char *lab[3] = {"load", "compile", "verify"};
    double bwid = pw / (n * 1.6 + 0.6);
    for (int i = 0; i < n; i++) {
        double x = L + bwid * 0.6 + i * bwid * 1.6, y = T + ph;
        double parts[3] = {rs[i].load_s, rs[i].compile_s, rs[i].verify_s};
        for (int k = 0; k < 3; k++) {
            double h = ph * parts[k] / maxt;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", x, y - h, bwid, h,
                    col[k]);
            y -= h;
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%.2f s, %.0f MiB</text>\n",
                x + bwid / 2, y - 5, parts[0] + parts[1] + parts[2], rss[i] / 1024.0);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n", x + bwid / 2,
                T + ph + 16, cs[i].name);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\" fill=\"#666\">%llu t x %llu r</text>\n",
                x + bwid / 2, T + ph + 30, (unsigned long long)rs[i].tensors, (unsigned long long)rs[i].ranks);
    }
    for (int k = 0; k < 3; k++)
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"10\" fill=\"%s\"/><text x=\"%.0f\" y=\"%.0f\" "
                   "font-size=\"11\">%s</text>\n", L + k * 90, H - 18, col[k], L + k * 90 + 16, H - 9, lab[k]);
    fprintf(f, "</svg>\n");
    fclose(f);
}

int main(int argc, char **argv) {
    const char *dir = "examples", *svg = "bench_compile.svg";
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--svg") && i + 1 < argc) svg = argv[++i];
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else dir = argv[i];
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/deepseek-v3.yaml", dir);
    static const config cs[] = {
        {"xs: 8 L, 32 E, PP2 EP16", 8, 32, 2, 16, 4},
        {"s: 16 L, 64 E, PP4 EP32", 16, 64, 4, 32, 8},
        {"m: 31 L, 128 E, PP8 EP64", 31, 128, 8, 64, 16},
        {"full: 61 L, 256 E, PP16 EP64", 61, 256, 16, 64, 32},
    };
    int n = quick ? 2 : 4;
    result rs[4];
    long rss[4];
    printf("| config | tensors | ranks | transfers | tasks | waves | load s | compile s | verify s | write s | whole s "
           "(CPU s) | peak RSS MiB (load+compile) | peak RSS MiB (all) | plan MB | one rank: MB read | one rank: ms "
           "(median, max) | predicted ms | bound ms |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    int failed = 0;
    for (int i = 0; i < n; i++) {
        if (measure(path, &cs[i], &rs[i], &rss[i]) || !rs[i].tensors) {
            printf("| %s | failed |\n", cs[i].name);
            failed++;
            memset(&rs[i], 0, sizeof rs[i]);
            continue;
        }
        const result *r = &rs[i];
        printf("| %s | %llu | %llu | %llu | %llu | %llu | %.3f | %.3f | %.3f | %.3f | %.2f (%.2f) | %.0f | %.0f | %.1f | "
               "%.2f | %.1f, %.1f | %.2f | %.2f |\n",
               cs[i].name, (unsigned long long)r->tensors, (unsigned long long)r->ranks, (unsigned long long)r->xfers,
               (unsigned long long)r->tasks, (unsigned long long)r->waves, r->load_s, r->compile_s, r->verify_s,
               r->write_s, r->load_s + r->compile_s + r->verify_s + r->write_s, r->cpu_s, r->rss_compile_kb / 1024.0,
               rss[i] / 1024.0, (double)r->plan_bytes / 1e6, (double)r->rank_read_max / 1e6, r->rank_load_med_s * 1e3,
               r->rank_load_max_s * 1e3, r->predicted_s * 1e3, r->bound_s * 1e3);
        fflush(stdout);
    }
    const result *f = &rs[n - 1];
    if (!quick && f->tensors) {
        double whole = f->load_s + f->compile_s + f->verify_s + f->write_s;
        printf("\nGoals (issue 16, DeepSeek-V3 fp8, this machine):\n");
        printf("- plan %.1f MB (goal <= 100 MB: %s)\n", (double)f->plan_bytes / 1e6,
               f->plan_bytes <= 100000000 ? "met" : "not met");
        printf("- one rank's load: at most %.2f MB read (goal <= 20 MB: %s), at most %.1f ms (rank %d; goal <= 50 ms: %s)\n",
               (double)f->rank_read_max / 1e6, f->rank_read_max <= 20000000 ? "met" : "not met",
               f->rank_load_max_s * 1e3, f->rank_worst, f->rank_load_max_s <= 0.05 ? "met" : "not met");
        printf("- whole compile (load, compile, verify, write): %.2f s wall, %.2f s CPU (goal < 3 s: %s), peak RSS %.0f MiB "
               "(goal < 1536 MiB: %s)\n",
               whole, f->cpu_s, whole < 3 ? "met" : "not met", rss[n - 1] / 1024.0,
               rss[n - 1] < 1536 * 1024 ? "met" : "not met");
    }
    plot(svg, cs, rs, rss, n);
    printf("\nwrote %s\n", svg);
    return failed ? 1 : 0; /* a configuration that no longer compiles (the example changed) */
}
