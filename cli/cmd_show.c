/* shardwave show PLAN [--rank R] [--json] */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan_io.h"

static const char show_help[] =
    "usage: shardwave show PLAN [--rank R] [--json]\n"
    "\n"
    "Prints a compiled plan: a header (sync, layouts, scheduler, counts, bytes per link\n"
    "class, predicted time against the lower bound), then every wave and its tasks.\n"
    "\n"
    "  --rank R   only the tasks where global rank R sends or receives (reads only the\n"
    "             header and that rank's section of the file)\n"
    "  --json     the plan as JSON (keys documented in docs/plan-format.md)\n";

static const char *const cls_name[SW_LINK_COUNT] = {"device", "host", "network"};

static const char *cls_str(uint8_t c) { return c < SW_LINK_COUNT ? cls_name[c] : "?"; }

/* "1.23 ms" */
static const char *seconds(double s, char *buf, size_t cap) {
    if (s >= 1) snprintf(buf, cap, "%.3f s", s);
    else if (s >= 1e-3) snprintf(buf, cap, "%.3f ms", s * 1e3);
    else snprintf(buf, cap, "%.3f us", s * 1e6);
    return buf;
}

/* Transfers a task carries (consecutive segments of one transfer count once). */
static uint32_t task_xfers(const sw_plan *p, const sw_plan_task *t) {
    uint32_t n = 0;
    for (uint32_t k = 0; k < t->nseg; k++)
        if (k == 0 || p->segs[t->seg0 + k].xfer != p->segs[t->seg0 + k - 1].xfer) n++;
    return n;
}

static void show_text(const sw_plan *p, const sw_plan_file_info *info, const char *path, int32_t rank) {
    char b1[32], b2[32], b3[32], b4[32];
    printf("plan '%s' (format %u, %llu bytes)\n", path, info->version, (unsigned long long)info->size);
    printf("  sync %s: %s -> %s (model %s), scheduler %s\n", p->sync, p->from, p->to, p->model,
           sw_scheduler_name(p->scheduler));
    printf("  %u ranks, %u tensors, %u local tensors, %u transfers, %u tasks, %d waves, bucket %s\n", p->nranks,
           p->ntensors, p->nlocals, info->nxfers, info->ntasks, p->nwaves, sw_fmt_bytes(p->bucket, b1, sizeof b1));
    printf("  bytes: device %s, host %s, network %s; destination bytes %s\n",
           sw_fmt_bytes((int64_t)p->stats.bytes[SW_LINK_DEVICE], b1, sizeof b1),
           sw_fmt_bytes((int64_t)p->stats.bytes[SW_LINK_HOST], b2, sizeof b2),
           sw_fmt_bytes((int64_t)p->stats.bytes[SW_LINK_NETWORK], b3, sizeof b3),
           sw_fmt_bytes((int64_t)p->stats.unique_bytes, b4, sizeof b4));
    printf("  predicted %s, lower bound %s", seconds(p->stats.predicted_s, b1, sizeof b1),
           seconds(p->stats.lower_bound_s, b2, sizeof b2));
    if (p->stats.lower_bound_s > 0) printf(" (%.2fx)", p->stats.predicted_s / p->stats.lower_bound_s);
    printf(", max staging %s\n", sw_fmt_bytes((int64_t)p->stats.max_staging, b1, sizeof b1));
    if (rank >= 0) printf("  rank %d: %u tasks\n", rank, p->ntasks);
    int32_t w = -1;
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        if (t->wave != w) {
            w = t->wave;
            uint32_t n = 0;
            uint64_t bytes = 0;
            for (uint32_t j = i; j < p->ntasks && p->tasks[j].wave == w; j++) n++, bytes += p->tasks[j].bytes;
            printf("wave %d: %u tasks, %s\n", w, n, sw_fmt_bytes((int64_t)bytes, b1, sizeof b1));
        }
        uint32_t nx = task_xfers(p, t);
        printf("  w%-3d r%d -> r%-4d %-8s %10s  (%u transfer%s)%s\n", t->wave, t->src, t->dst, cls_str(t->cls),
               sw_fmt_bytes((int64_t)t->bytes, b1, sizeof b1), nx, nx == 1 ? "" : "s", t->relay ? "  relay" : "");
    }
}

static void json_i64s(const int64_t *v, int n) {
    putchar('[');
    for (int k = 0; k < n; k++) printf("%s%lld", k ? ", " : "", (long long)v[k]);
    putchar(']');
}

static void json_map(const int8_t *v, int n) {
    putchar('[');
    for (int k = 0; k < n; k++) printf("%s%d", k ? ", " : "", v[k]);
    putchar(']');
}

static void json_num(double d) {
    if (isfinite(d)) printf("%.17g", d);
    else fputs("null", stdout);
}

static void json_per_class(const uint64_t *v) {
    printf("{\"device\": %llu, \"host\": %llu, \"network\": %llu}", (unsigned long long)v[0], (unsigned long long)v[1],
           (unsigned long long)v[2]);
}

static void json_side(const sw_plan *p, const sw_plan_side *s, int32_t rank) {
    const sw_plan_local *l = &p->locals[s->local];
    printf("{\"rank\": %d, \"local\": %u, \"name\": ", rank, s->local);
    cli_json_str(stdout, l->name);
    fputs(", \"map\": ", stdout);
    json_map(s->map, l->ndim);
    fputs(", \"base\": ", stdout);
    json_i64s(s->base, l->ndim);
    putchar('}');
}

static void show_json(const sw_plan *p, const sw_plan_file_info *info, int32_t rank) {
    const char *names[4] = {p->model, p->sync, p->from, p->to};
    static const char *const keys[4] = {"model", "sync", "from", "to"};
    printf("{\"format\": %u", info->version);
    for (int i = 0; i < 4; i++) {
        printf(", \"%s\": ", keys[i]);
        cli_json_str(stdout, names[i]);
    }
    printf(", \"scheduler\": \"%s\"", sw_scheduler_name(p->scheduler));
    if (rank >= 0) printf(", \"rank\": %d", rank);
    else fputs(", \"rank\": null", stdout);
    printf(", \"waves\": %d, \"bucket\": %lld", p->nwaves, (long long)p->bucket);
    printf(", \"chunk\": {\"device\": %lld, \"host\": %lld, \"network\": %lld}", (long long)p->chunk[0],
           (long long)p->chunk[1], (long long)p->chunk[2]);
    fputs(",\n \"topology\": {", stdout);
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        printf("%s\"%s\": {\"bandwidth\": ", c ? ", " : "", cls_name[c]);
        json_num(p->topo.link[c].bandwidth);
        fputs(", \"latency\": ", stdout);
        json_num(p->topo.link[c].latency);
        putchar('}');
    }
    printf(", \"gpus_per_nic\": %lld}", (long long)p->topo.gpus_per_nic);
    printf(",\n \"totals\": {\"tasks\": %u, \"transfers\": %u, \"segments\": %u, \"deps\": %u}", info->ntasks,
           info->nxfers, info->nsegs, info->ndeps);
    fputs(",\n \"stats\": {\"bytes\": ", stdout);
    json_per_class(p->stats.bytes);
    printf(", \"unique_bytes\": %llu, \"max_send\": ", (unsigned long long)p->stats.unique_bytes);
    json_per_class(p->stats.max_send);
    fputs(", \"max_recv\": ", stdout);
    json_per_class(p->stats.max_recv);
    printf(", \"max_staging\": %llu, \"predicted_s\": ", (unsigned long long)p->stats.max_staging);
    json_num(p->stats.predicted_s);
    fputs(", \"lower_bound_s\": ", stdout);
    json_num(p->stats.lower_bound_s);
    fputs("},\n \"ranks\": [", stdout);
    for (uint32_t i = 0; i < p->nranks; i++)
        printf("%s{\"rank\": %d, \"host\": %d, \"device\": %d}", i ? ", " : "", p->ranks[i].rank, p->ranks[i].host,
               p->ranks[i].device);
    fputs("],\n \"tensors\": [", stdout);
    for (uint32_t i = 0; i < p->ntensors; i++) {
        const sw_plan_tensor *t = &p->tensors[i];
        fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", stdout);
        cli_json_str(stdout, t->name);
        printf(", \"dtype\": \"%s\", \"shape\": ", sw_dtype_name(t->dtype));
        json_i64s(t->shape, t->ndim);
        putchar('}');
    }
    fputs("],\n \"locals\": [", stdout);
    for (uint32_t i = 0; i < p->nlocals; i++) {
        const sw_plan_local *l = &p->locals[i];
        fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", stdout);
        cli_json_str(stdout, l->name);
        printf(", \"rank\": %d, \"role\": \"%s\", \"dtype\": \"%s\", \"shape\": ", l->rank,
               l->role == SW_ROLE_SRC ? "src" : "dst", sw_dtype_name(l->dtype));
        json_i64s(l->shape, l->ndim);
        if (l->remote) fputs(", \"remote\": true", stdout);
        fputs(", \"pieces\": [", stdout);
        for (uint32_t q = 0; q < l->npieces; q++) {
            const sw_plan_piece *pc = &p->pieces[l->piece0 + q];
            int tn = p->tensors[pc->tensor].ndim;
            fputs(q ? ", {\"tensor\": " : "{\"tensor\": ", stdout);
            cli_json_str(stdout, p->tensors[pc->tensor].name);
            fputs(", \"start\": ", stdout);
            json_i64s(pc->start, tn);
            fputs(", \"size\": ", stdout);
            json_i64s(pc->size, tn);
            fputs(", \"map\": ", stdout);
            json_map(pc->map, l->ndim);
            fputs(", \"base\": ", stdout);
            json_i64s(pc->base, l->ndim);
            putchar('}');
        }
        fputs("]}", stdout);
    }
    fputs("],\n \"transfers\": [", stdout);
    for (uint32_t i = 0; i < p->nxfers; i++) {
        const sw_plan_xfer *x = &p->xfers[i];
        int tn = p->tensors[x->tensor].ndim;
        fputs(i ? ",\n  {\"tensor\": " : "\n  {\"tensor\": ", stdout);
        cli_json_str(stdout, p->tensors[x->tensor].name);
        fputs(", \"start\": ", stdout);
        json_i64s(x->start, tn);
        fputs(", \"size\": ", stdout);
        json_i64s(x->size, tn);
        printf(", \"nelem\": %llu, \"src\": ", (unsigned long long)x->nelem);
        json_side(p, &x->src, x->src_rank);
        fputs(", \"dst\": ", stdout);
        json_side(p, &x->dst, x->dst_rank);
        putchar('}');
    }
    fputs("],\n \"tasks\": [", stdout);
    for (uint32_t i = 0; i < p->ntasks; i++) {
        const sw_plan_task *t = &p->tasks[i];
        printf("%s{\"wave\": %d, \"src\": %d, \"dst\": %d, \"class\": \"%s\", \"bytes\": %llu, \"relay\": %s, "
               "\"deps\": [",
               i ? ",\n  " : "\n  ", t->wave, t->src, t->dst, cls_str(t->cls), (unsigned long long)t->bytes,
               t->relay ? "true" : "false");
        for (uint32_t k = 0; k < t->ndep; k++) printf("%s%u", k ? ", " : "", p->deps[t->dep0 + k]);
        fputs("], \"segments\": [", stdout);
        for (uint32_t k = 0; k < t->nseg; k++) {
            const sw_plan_seg *g = &p->segs[t->seg0 + k];
            printf("%s{\"xfer\": %u, \"elem0\": %llu, \"nelem\": %llu}", k ? ", " : "", g->xfer,
                   (unsigned long long)g->elem0, (unsigned long long)g->nelem);
        }
        fputs("]}", stdout);
    }
    fputs("]}\n", stdout);
}

/* Parses a rank argument; -1 after printing a usage error. */
static int parse_rank(const char *s, int32_t *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > INT32_MAX) return cli_usage_error("show: --rank %s: expected a rank", s), -1;
    *out = (int32_t)v;
    return 0;
}

int cmd_show(int argc, char **argv) {
    const char *path = NULL;
    int32_t rank = -1;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(show_help, stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--rank")) {
            if (i + 1 >= argc) return cli_usage_error("show: --rank needs a rank");
            if (parse_rank(argv[++i], &rank)) return 2;
        } else if (!strncmp(a, "--rank=", 7)) {
            if (parse_rank(a + 7, &rank)) return 2;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("show: unknown option '%s' (see shardwave show --help)", a);
        } else if (path) {
            return cli_usage_error("show: one PLAN only");
        } else {
            path = a;
        }
    }
    if (!path) return cli_usage_error("show: missing PLAN (see shardwave show --help)");
    sw_plan p;
    sw_plan_file_info info;
    sw_error err;
    if (sw_plan_read_ex(&p, path, rank, &info, &err)) return cli_fail(&err);
    if (json) show_json(&p, &info, rank);
    else show_text(&p, &info, path, rank);
    sw_plan_free(&p);
    return fflush(stdout) ? 3 : 0;
}
