/* shardwave compile FILE [--sync NAME] [--bucket SIZE] [--scheduler S] [--no-relay] [--quiet] -o PLAN */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "compile.h"
#include "plan_io.h"
#include "plan_verify.h"

static const char compile_help[] =
    "usage: shardwave compile FILE [--sync NAME] [--bucket SIZE] [--scheduler NAME] [--no-relay]\n"
    "                         [-D NAME=VALUE]... [--quiet] -o PLAN\n"
    "\n"
    "Compiles one sync of a layout file into a plan: the transfers between local tensors,\n"
    "grouped into one message per (source rank, destination rank), cut into chunks, and\n"
    "colored into conflict-free waves.  Prints transfers, tasks, waves, bytes per link class,\n"
    "the largest per-rank load, the staging memory, and the predicted time next to a lower\n"
    "bound.  The plan is verified before it is written.\n"
    "\n"
    "  --sync NAME        the sync to compile (default: the first one)\n"
    "  --bucket SIZE      staging memory per rank per wave, e.g. 256MiB (default: the sync's)\n"
    "  --scheduler NAME   optimal (default: chunks and waves built together, busiest ports\n"
    "                     first, chunks no smaller than a latency's worth); baselines for\n"
    "                     comparison: greedy (equal chunks placed first-fit),\n"
    "                     naive (one task per transfer from the first holder, one wave each),\n"
    "                     broadcast (one source per full tensor to every receiver; sim charges\n"
    "                     the whole tensor per receiver)\n"
    "  --no-relay         every destination pulls over its own link (no forwarding inside hosts)\n"
    "  -o PLAN            where to write the plan\n"
    "  -D NAME=VALUE      override the model's let constant NAME (repeatable)\n"
    "  --quiet            no progress on stderr (printed for compiles longer than a second)\n";

void cli_print_plan_summary(const struct sw_plan *p) {
    char b1[32], b2[32], b3[32], b4[32], b5[32];
    uint32_t relayed = 0, relay_tasks = 0;
    for (uint32_t i = 0; i < p->ntasks; i++) relay_tasks += p->tasks[i].relay;
    for (uint32_t i = 0; i < p->nxfers; i++) relayed += p->locals[p->xfers[i].src.local].role == SW_ROLE_DST;
    const sw_plan_stats *st = &p->stats;
    printf("sync %s: %s -> %s, %u ranks, scheduler %s\n", p->sync, p->from, p->to, p->nranks,
           sw_scheduler_name(p->scheduler));
    printf("  transfers  %u (%u forwarded inside a host)\n", p->nxfers, relayed);
    printf("  tasks      %u (%u relay forwards) in %d waves\n", p->ntasks, relay_tasks, p->nwaves);
    printf("  bytes      device %s, host %s, network %s; unique %s\n", sw_fmt_bytes((int64_t)st->bytes[0], b1, sizeof b1),
           sw_fmt_bytes((int64_t)st->bytes[1], b2, sizeof b2), sw_fmt_bytes((int64_t)st->bytes[2], b3, sizeof b3),
           sw_fmt_bytes((int64_t)st->unique_bytes, b4, sizeof b4));
    printf("  max load   send: network %s, host %s; receive: network %s, host %s\n",
           sw_fmt_bytes((int64_t)st->max_send[SW_LINK_NETWORK], b1, sizeof b1),
           sw_fmt_bytes((int64_t)st->max_send[SW_LINK_HOST], b2, sizeof b2),
           sw_fmt_bytes((int64_t)st->max_recv[SW_LINK_NETWORK], b3, sizeof b3),
           sw_fmt_bytes((int64_t)st->max_recv[SW_LINK_HOST], b4, sizeof b4));
    printf("  chunks     network %s, host %s, device %s; staging at most %s per rank in two waves (bucket %s)\n",
           sw_fmt_bytes(p->chunk[SW_LINK_NETWORK], b1, sizeof b1), sw_fmt_bytes(p->chunk[SW_LINK_HOST], b2, sizeof b2),
           sw_fmt_bytes(p->chunk[SW_LINK_DEVICE], b3, sizeof b3), sw_fmt_bytes((int64_t)st->max_staging, b4, sizeof b4),
           sw_fmt_bytes(p->bucket, b5, sizeof b5));
    printf("  time       predicted %.3f ms, lower bound %.3f ms (%.3fx)\n", st->predicted_s * 1e3,
           st->lower_bound_s * 1e3, st->lower_bound_s > 0 ? st->predicted_s / st->lower_bound_s : 1.0);
}

int cmd_compile(int argc, char **argv) {
    cli_common c = {0};
    const char *path = NULL, *out = NULL, *sync = NULL;
    sw_compile_params o = {0};
    int rc = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        int d = cli_take_define(&c, argc, argv, &i);
        if (d < 0) {
            rc = 2;
            goto done;
        }
        if (d) continue;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(compile_help, stdout);
            goto done;
        } else if (!strcmp(a, "--no-relay")) {
            o.no_relay = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--sync") || !strcmp(a, "--bucket") || !strcmp(a, "--scheduler")) {
            if (i + 1 >= argc) {
                rc = cli_usage_error("compile: %s needs a value", a);
                goto done;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "-o")) out = v;
            else if (!strcmp(a, "--sync")) sync = v;
            else if (!strcmp(a, "--bucket")) {
                if (sw_parse_bytes(v, &o.bucket) || o.bucket < SW_MIN_BUCKET) {
                    rc = cli_usage_error("compile: --bucket '%s' is not a size of at least 4KiB (e.g. 256MiB)", v);
                    goto done;
                }
            } else if (sw_scheduler_parse(v, &o.scheduler)) {
                rc = cli_usage_error("compile: unknown scheduler '%s' (optimal, greedy, naive, broadcast)", v);
                goto done;
            }
        } else if (a[0] == '-' && a[1]) {
            rc = cli_usage_error("compile: unknown option '%s' (see shardwave compile --help)", a);
            goto done;
        } else if (path) {
            rc = cli_usage_error("compile: one FILE only");
            goto done;
        } else {
            path = a;
        }
    }
    if (!path) {
        rc = cli_usage_error("compile: missing FILE (see shardwave compile --help)");
        goto done;
    }
    if (!out) {
        rc = cli_usage_error("compile: missing -o PLAN");
        goto done;
    }
    cli_progress_t pr;
    cli_progress_init(&pr, "compile", quiet);
    o.progress = cli_progress;
    o.progress_ctx = &pr;
    sw_ir ir;
    if ((rc = cli_load(&c, path, &ir))) goto done;
    if (sync) {
        o.sync = sw_ir_sync(&ir, sync);
        if (o.sync < 0) {
            rc = cli_usage_error("compile: no sync named '%s' in %s", sync, path);
            sw_ir_free(&ir);
            goto done;
        }
    } else if (ir.nsyncs == 0) {
        rc = cli_usage_error("compile: %s has no sync (add `syncs:`, or give exactly two layouts)", path);
        sw_ir_free(&ir);
        goto done;
    } else if (ir.nsyncs > 1) {
        fprintf(stderr, "shardwave: note: %s has %zu syncs; compiling '%s', the first (choose with --sync NAME)\n", path,
                ir.nsyncs, ir.syncs[0].name);
    }
    sw_plan plan;
    sw_error err;
    rc = sw_compile(&ir, &o, &plan, &err);
    sw_ir_free(&ir);
    if (rc) {
        rc = cli_fail(&err);
        goto done;
    }
    cli_progress(&pr, "verify", -1, 0);
    if (sw_plan_verify(&plan, &err)) {
        fprintf(stderr, "shardwave: error: the compiled plan fails verification (a compiler bug): %s\n", err.msg);
        sw_plan_free(&plan);
        rc = 3;
        goto done;
    }
    cli_progress(&pr, "write", -1, 0);
    cli_print_plan_summary(&plan);
    if (sw_plan_write_checked(&plan, out, &err)) rc = cli_fail(&err); /* verify ran the structural check */
    else printf("wrote %s\n", out);
    sw_plan_free(&plan);
done:
    for (size_t i = 0; i < c.ndefines; i++) free((char *)c.defines[i].name);
    return rc;
}
