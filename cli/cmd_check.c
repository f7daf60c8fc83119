/* shardwave check FILE: parse, validate and summarise a layout file */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "coverage.h"

static const char check_help[] =
    "usage: shardwave check FILE [-D NAME=VALUE]...\n"
    "\n"
    "Parses and validates a layout file (YAML, or the DSL: .sw) and prints a summary: logical tensors and\n"
    "bytes, per layout its ranks, hosts and bytes per rank, and per sync what it covers.\n"
    "Every defect is reported as FILE:LINE:COL: error: MESSAGE (exit 1).\n"
    "\n"
    "  -D NAME=VALUE   override the model's let constant NAME (repeatable)\n";

static void free_defines(cli_common *c) {
    for (size_t i = 0; i < c->ndefines; i++) free((char *)c->defines[i].name);
}

int cmd_check(int argc, char **argv) {
    cli_common c = {0};
    const char *path = NULL;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        int d = cli_take_define(&c, argc, argv, &i);
        if (d < 0) {
            rc = 2;
            goto out;
        }
        if (d) continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(check_help, stdout);
            goto out;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            rc = cli_usage_error("check: unknown option '%s' (see shardwave check --help)", argv[i]);
            goto out;
        }
        if (path) {
            rc = cli_usage_error("check: one FILE only");
            goto out;
        }
        path = argv[i];
    }
    if (!path) {
        rc = cli_usage_error("check: missing FILE (see shardwave check --help)");
        goto out;
    }
    sw_ir ir;
    if ((rc = cli_load(&c, path, &ir))) goto out;
    int64_t total = ir.model_bytes;
    char b1[32], b2[32], b3[32];
    printf("%s: ok; model %s: %zu logical tensors, %lld bytes (%s)", path, ir.model_name, ir.ntensors,
           (long long)total, sw_fmt_bytes(total, b1, sizeof b1));
    for (size_t l = 0; l < ir.nlayouts; l++) {
        const sw_layout *L = &ir.layouts[l];
        sw_layout_stats st;
        sw_error err;
        if (sw_layout_stats_compute(L, &st, &err)) {
            putchar('\n');
            rc = cli_fail(&err);
            sw_ir_free(&ir);
            goto out;
        }
        printf("; layout %s: %lld ranks (%lld..%lld) on %lld host%s, mesh ", L->name, (long long)L->nranks,
               (long long)L->first_rank, (long long)(L->first_rank + L->nranks - 1), (long long)st.nhosts,
               st.nhosts == 1 ? "" : "s");
        for (int a = 0; a < L->naxes; a++) printf("%s%s=%lld", a ? " x " : "", L->axis[a], (long long)L->size[a]);
        printf(", %zu local tensor templates, %s to %s per rank (%s in all)", L->ninsts,
               sw_fmt_bytes(st.min_bytes, b1, sizeof b1), sw_fmt_bytes(st.max_bytes, b2, sizeof b2),
               sw_fmt_bytes(st.total_bytes, b3, sizeof b3));
    }
    for (size_t s = 0; s < ir.nsyncs; s++) {
        const sw_syncdef *S = &ir.syncs[s];
        size_t covered = 0;
        uint8_t *placed = calloc(ir.ntensors + 1, 1);
        const sw_layout *D = &ir.layouts[S->to];
        for (size_t i = 0; placed && i < D->ninsts; i++)
            for (size_t k = 0; k < (size_t)D->insts[i].nitems * (size_t)D->insts[i].nparts; k++)
                placed[D->insts[i].tensor[k]] = 1;
        for (size_t t = 0; placed && t < ir.ntensors; t++) covered += placed[t] && !S->skip[t];
        free(placed);
        printf("; sync %s%s: %s -> %s, %zu tensors covered", S->name, ir.implicit_sync ? " (implicit)" : "",
               ir.layouts[S->from].name, D->name, covered);
        if (S->nskip) printf(" (%zu skipped)", S->nskip);
    }
    printf(".\n");
    sw_ir_free(&ir);
out:
    free_defines(&c);
    return rc;
}
