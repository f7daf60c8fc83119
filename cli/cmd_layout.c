/* shardwave layout FILE --layout NAME --rank R [--json] */
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "cli.h"
#include "place.h"

static const char layout_help[] =
    "usage: shardwave layout FILE --layout NAME --rank R [--json] [-D NAME=VALUE]...\n"
    "\n"
    "Prints the local tensors that global rank R of layout NAME stores, and for each the\n"
    "pieces of logical tensors it holds (a table, or JSON with --json).\n"
    "\n"
    "  --layout NAME   the layout\n"
    "  --rank R        a global rank of that layout\n"
    "  --json          the JSON of the spec: layout, rank, coords, host, device, tensors\n"
    "  -D NAME=VALUE   override the model's let constant NAME (repeatable)\n";

static void free_defines(cli_common *c) {
    for (size_t i = 0; i < c->ndefines; i++) free((char *)c->defines[i].name);
}


static void json_ints(FILE *f, const int64_t *v, int n) {
    fputc('[', f);
    for (int i = 0; i < n; i++) fprintf(f, "%s%lld", i ? ", " : "", (long long)v[i]);
    fputc(']', f);
}

static void print_json(const sw_ir *ir, const sw_layout *L, const sw_rank_view *v) {
    FILE *f = stdout;
    fputs("{\"layout\": ", f);
    cli_json_str(f, L->name);
    fprintf(f, ", \"rank\": %lld, \"coords\": {", (long long)v->rank);
    for (int a = 0; a < L->naxes; a++) {
        if (a) fputs(", ", f);
        cli_json_str(f, L->axis[a]);
        fprintf(f, ": %lld", (long long)v->coords[a]);
    }
    fprintf(f, "},\n \"host\": %lld, \"device\": %lld,\n \"tensors\": [", (long long)v->host, (long long)v->device);
    for (size_t i = 0; i < v->nlocals; i++) {
        const sw_local *lt = &v->locals[i];
        fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", f);
        cli_json_str(f, lt->inst->name);
        fprintf(f, ", \"dtype\": \"%s\", \"shape\": ", sw_dtype_name(lt->inst->dtype));
        json_ints(f, lt->shape, lt->inst->ndim);
        fputs(",\n   \"pieces\": [", f);
        for (size_t p = 0; p < lt->npieces; p++) {
            const sw_piece *pc = &v->pieces.v[lt->first + p];
            fputs(p ? ",\n    {\"local_offset\": " : "\n    {\"local_offset\": ", f);
            json_ints(f, pc->off, lt->inst->ndim);
            fputs(", \"tensor\": ", f);
            cli_json_str(f, ir->tensors[pc->tensor].name);
            fputs(", \"start\": ", f);
            json_ints(f, pc->start, pc->ndim);
            fputs(", \"size\": ", f);
            json_ints(f, pc->size, pc->ndim);
            fputc('}', f);
        }
        fputs(lt->npieces ? "\n   ]}" : "]}", f);
    }
    fputs(v->nlocals ? "\n ]}\n" : "]}\n", f);
}

static void print_table(const sw_ir *ir, const sw_layout *L, const sw_rank_view *v) {
    int64_t total = 0;
    for (size_t i = 0; i < v->nlocals; i++) total += sw_local_bytes(v->locals[i].inst, v->locals[i].shape);
    char b[32];
    printf("layout %s, rank %lld (", L->name, (long long)v->rank);
    for (int a = 0; a < L->naxes; a++) printf("%s%s=%lld", a ? ", " : "", L->axis[a], (long long)v->coords[a]);
    printf("), host %lld, device %lld: %zu local tensors, %s\n", (long long)v->host, (long long)v->device, v->nlocals,
           sw_fmt_bytes(total, b, sizeof b));
    for (size_t i = 0; i < v->nlocals; i++) {
        const sw_local *lt = &v->locals[i];
        printf("\n  %s  %s [", lt->inst->name, sw_dtype_name(lt->inst->dtype));
        for (int d = 0; d < lt->inst->ndim; d++) printf("%s%lld", d ? ", " : "", (long long)lt->shape[d]);
        printf("]  %s\n", sw_fmt_bytes(sw_local_bytes(lt->inst, lt->shape), b, sizeof b));
        if (!lt->npieces) printf("      (no pieces: padding or an empty chunk only)\n");
        for (size_t p = 0; p < lt->npieces; p++) {
            const sw_piece *pc = &v->pieces.v[lt->first + p];
            printf("      at [");
            for (int d = 0; d < lt->inst->ndim; d++) printf("%s%lld", d ? ", " : "", (long long)pc->off[d]);
            printf("]  %s[", ir->tensors[pc->tensor].name);
            for (int d = 0; d < pc->ndim; d++)
                printf("%s%lld:%lld", d ? ", " : "", (long long)pc->start[d], (long long)(pc->start[d] + pc->size[d]));
            printf("]");
            int identity = 1;
            for (int d = 0; d < pc->ndim; d++) identity &= pc->perm[d] == d;
            if (!identity) {
                printf("  (stored dims are logical dims ");
                for (int d = 0; d < pc->ndim; d++) printf("%s%d", d ? "," : "", pc->perm[d]);
                printf(")");
            }
            putchar('\n');
        }
    }
}

int cmd_layout(int argc, char **argv) {
    cli_common c = {0};
    const char *path = NULL, *layout = NULL, *rank_s = NULL;
    int json = 0, rc = 0;
    for (int i = 1; i < argc; i++) {
        int d = cli_take_define(&c, argc, argv, &i);
        if (d < 0) {
            rc = 2;
            goto out;
        }
        if (d) continue;
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(layout_help, stdout);
            goto out;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--layout") || !strcmp(a, "--rank")) {
            if (i + 1 >= argc) {
                rc = cli_usage_error("layout: %s needs a value", a);
                goto out;
            }
            *(a[2] == 'l' ? &layout : &rank_s) = argv[++i];
        } else if (!strncmp(a, "--layout=", 9)) {
            layout = a + 9;
        } else if (!strncmp(a, "--rank=", 7)) {
            rank_s = a + 7;
        } else if (a[0] == '-' && a[1]) {
            rc = cli_usage_error("layout: unknown option '%s' (see shardwave layout --help)", a);
            goto out;
        } else if (path) {
            rc = cli_usage_error("layout: one FILE only");
            goto out;
        } else {
            path = a;
        }
    }
    if (!path || !layout || !rank_s) {
        rc = cli_usage_error("layout: needs FILE, --layout NAME and --rank R (see shardwave layout --help)");
        goto out;
    }
    char *end;
    long long rank = strtoll(rank_s, &end, 10);
    if (end == rank_s || *end || rank < 0) {
        rc = cli_usage_error("layout: --rank must be a non-negative integer, got '%s'", rank_s);
        goto out;
    }
    sw_ir ir;
    if ((rc = cli_load(&c, path, &ir))) goto out;
    int li = sw_ir_layout(&ir, layout);
    if (li < 0) {
        rc = cli_usage_error("layout: no layout named '%s' in %s", layout, path);
        sw_ir_free(&ir);
        goto out;
    }
    sw_rank_view v;
    sw_error err;
    if ((rc = sw_rank_view_build(&ir.layouts[li], rank, &v, &err))) {
        rc = cli_fail(&err);
    } else {
        if (json) print_json(&ir, &ir.layouts[li], &v);
        else print_table(&ir, &ir.layouts[li], &v);
        sw_rank_view_free(&v);
    }
    sw_ir_free(&ir);
out:
    free_defines(&c);
    return rc;
}
