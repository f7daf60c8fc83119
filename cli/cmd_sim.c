/* shardwave sim PLAN [--svg FILE] [--json] [--no-pack] [--lanes N] */
#include <math.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stats.h"
#include "plan_io.h"
#include "sim.h"

static const char sim_help[] =
    "usage: shardwave sim PLAN [--svg FILE] [--json] [--no-pack] [--mem-bw BYTES/S] [--lanes N]\n"
    "\n"
    "Replays a compiled plan under the cost model (docs/performance.md): per link class\n"
    "latency + bytes / bandwidth from the plan's topology, one send and one receive port per\n"
    "rank and link class, NICs shared by topology.gpus_per_nic devices, pack and unpack at\n"
    "the memory bandwidth, overlapped as the runtime overlaps them, no global barrier.\n"
    "Prints a per-wave table (tasks, wire bytes, the rank that ends the wave last, its\n"
    "time: the increase of the running makespan, so the column sums to the prediction) and\n"
    "the predicted makespan next to the lower bound.\n"
    "\n"
    "  --svg FILE        also write a Gantt chart (one lane per rank, grouped by host;\n"
    "                    above --lanes ranks, one utilisation lane per host or rank group)\n"
    "  --json            print {\"waves\", \"predicted_s\", \"lower_bound_s\", \"ratio\",\n"
    "                    \"bytes\": {device, host, network}, \"critical_rank\", \"per_wave\": [...]}\n"
    "  --no-pack         pack and unpack are free (communication only)\n"
    "  --mem-bw BYTES/S  pack/unpack throughput, e.g. 3e12 (default 1.5e12)\n"
    "  --lanes N         most lanes in the chart before ranks are aggregated (default 64)\n";

static void jnum(double d) {
    if (isfinite(d)) printf("%.9g", d);
    else fputs("null", stdout);
}

static void print_json(const sw_plan *p, const sw_sim_result *r) {
    printf("{\"sync\": ");
    cli_json_str(stdout, p->sync);
    printf(", \"scheduler\": \"%s\", \"ranks\": %u, \"tasks\": %u, \"waves\": %d, \"predicted_s\": ",
           sw_scheduler_name(p->scheduler), p->nranks, p->ntasks, r->nwaves);
    jnum(r->makespan);
    fputs(", \"lower_bound_s\": ", stdout);
    jnum(r->lower_bound);
    fputs(", \"ratio\": ", stdout);
    jnum(r->lower_bound > 0 ? r->makespan / r->lower_bound : 1.0);
    printf(", \"bytes\": {\"device\": %llu, \"host\": %llu, \"network\": %llu}", (unsigned long long)r->bytes[0],
           (unsigned long long)r->bytes[1], (unsigned long long)r->bytes[2]);
    printf(", \"unique_bytes\": %llu, \"critical_rank\": %d,\n \"per_wave\": [",
           (unsigned long long)p->stats.unique_bytes, r->critical_rank);
    for (int32_t w = 0; w < r->nwaves; w++) {
        const sw_sim_wave *v = &r->waves[w];
        printf("%s\n  {\"wave\": %d, \"tasks\": %u, \"bytes\": %llu, \"critical_rank\": %d, \"start_s\": ", w ? "," : "",
               v->wave, v->tasks, (unsigned long long)v->bytes, v->critical_rank);
        jnum(v->start);
        fputs(", \"end_s\": ", stdout);
        jnum(v->end);
        fputs(", \"time_s\": ", stdout);
        jnum(v->time);
        putchar('}');
    }
    puts("]}");
}

static const char *secs(double s, char *buf, size_t cap) {
    if (s >= 1) snprintf(buf, cap, "%.3f s", s);
    else if (s >= 1e-3) snprintf(buf, cap, "%.3f ms", s * 1e3);
    else snprintf(buf, cap, "%.3f us", s * 1e6);
    return buf;
}

static void print_text(const sw_plan *p, const sw_sim_result *r, const char *path) {
    char b1[32], b2[32], b3[32], b4[32];
    printf("plan %s: sync %s (%s -> %s), scheduler %s, %u ranks, %u tasks, %d waves\n", path, p->sync, p->from, p->to,
           sw_scheduler_name(p->scheduler), p->nranks, p->ntasks, r->nwaves);
    printf("%6s %7s %12s %8s %12s %12s\n", "wave", "tasks", "bytes", "critical", "end", "time");
    for (int32_t w = 0; w < r->nwaves; w++) {
        const sw_sim_wave *v = &r->waves[w];
        printf("%6d %7u %12s %8d %12s %12s\n", v->wave, v->tasks, sw_fmt_bytes((int64_t)v->bytes, b1, sizeof b1),
               v->critical_rank, secs(v->end, b2, sizeof b2), secs(v->time, b3, sizeof b3));
    }
    printf("wire bytes: device %s, host %s, network %s (destination bytes %s)\n",
           sw_fmt_bytes((int64_t)r->bytes[0], b1, sizeof b1), sw_fmt_bytes((int64_t)r->bytes[1], b2, sizeof b2),
           sw_fmt_bytes((int64_t)r->bytes[2], b3, sizeof b3), sw_fmt_bytes((int64_t)p->stats.unique_bytes, b4, sizeof b4));
    printf("predicted %s, lower bound %s, ratio %.3fx; critical rank %d\n", secs(r->makespan, b1, sizeof b1),
           secs(r->lower_bound, b2, sizeof b2), r->lower_bound > 0 ? r->makespan / r->lower_bound : 1.0,
           r->critical_rank);
}

int cmd_sim(int argc, char **argv) {
    const char *path = NULL, *svg = NULL;
    int json = 0, lanes = 0;
    sw_sim_opts so = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(sim_help, stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--no-pack")) {
            so.mem_bw = -1;
        } else if (!strcmp(a, "--svg") || !strcmp(a, "--lanes") || !strcmp(a, "--mem-bw")) {
            if (i + 1 >= argc) return cli_usage_error("sim: %s needs a value", a);
            const char *v = argv[++i];
            char *end;
            if (!strcmp(a, "--svg")) {
                svg = v;
            } else if (!strcmp(a, "--lanes")) {
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 100000) return cli_usage_error("sim: --lanes '%s' is not a count", v);
                lanes = (int)n;
            } else {
                double d = strtod(v, &end);
                if (*end || !(d > 0)) return cli_usage_error("sim: --mem-bw '%s' is not bytes per second", v);
                so.mem_bw = d;
            }
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("sim: unknown option '%s' (see shardwave sim --help)", a);
        } else if (path) {
            return cli_usage_error("sim: one PLAN only");
        } else {
            path = a;
        }
    }
    if (!path) return cli_usage_error("sim: missing PLAN (see shardwave sim --help)");
    sw_plan p;
    sw_error err;
    if (sw_plan_read(&p, path, -1, &err)) return cli_fail(&err);
    sw_plan_compute_stats(&p); /* the bound of this build's model, whatever the file says */
    sw_sim_result r;
    int rc = 0;
    if (sw_sim_run(&p, &so, &r, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (json) print_json(&p, &r);
    else print_text(&p, &r, path);
    if (svg) {
        FILE *f = fopen(svg, "w");
        if (!f) {
            /* like every command's output: an I/O error, exit 1 (compile's -o, dot's -o, fmt's -o) */
            rc = cli_fail((sw__err(&err, SW_IO, "cannot write '%s': %s", svg, strerror(errno)), &err));
        } else {
            int src = sw_sim_svg(&p, &r, f, lanes, &err);
            if (fclose(f) && !src) src = sw__err(&err, SW_IO, "cannot write '%s'", svg);
            if (src) rc = cli_fail(&err);
            else if (!json) printf("wrote %s\n", svg);
        }
    }
    sw_sim_free(&r);
out:
    sw_plan_free(&p);
    return rc;
}
