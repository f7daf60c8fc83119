/* shardwave dot PLAN [-o FILE] [--aggregate|--no-aggregate] */
#include <errno.h>
#include <string.h>

#include "cli.h"
#include "dot.h"
#include "plan_io.h"

static const char dot_help[] =
    "usage: shardwave dot PLAN [-o FILE] [--aggregate | --no-aggregate]\n"
    "\n"
    "Writes the task DAG of a plan in Graphviz DOT (render with dot -Tsvg): waves are\n"
    "clusters, tasks are nodes labelled with their ranks and bytes and colored by link\n"
    "class, deps (relay order) are edges.  A plan of more than 2000 tasks is aggregated\n"
    "to one node per (wave, link class) with its task count and bytes.\n"
    "\n"
    "  -o FILE          write to FILE instead of stdout\n"
    "  --aggregate      always aggregate\n"
    "  --no-aggregate   never aggregate\n";

int cmd_dot(int argc, char **argv) {
    const char *path = NULL, *out = NULL;
    int aggregate = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(dot_help, stdout);
            return 0;
        } else if (!strcmp(a, "-o")) {
            if (i + 1 >= argc) return cli_usage_error("dot: -o needs a FILE");
            out = argv[++i];
        } else if (!strcmp(a, "--aggregate")) {
            aggregate = 1;
        } else if (!strcmp(a, "--no-aggregate")) {
            aggregate = 0;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("dot: unknown option '%s' (see shardwave dot --help)", a);
        } else if (path) {
            return cli_usage_error("dot: one PLAN only");
        } else {
            path = a;
        }
    }
    if (!path) return cli_usage_error("dot: missing PLAN (see shardwave dot --help)");
    sw_plan p;
    sw_error err;
    memset(&err, 0, sizeof err);
    if (sw_plan_read(&p, path, -1, &err)) return cli_fail(&err);
    FILE *f = stdout;
    if (out && !(f = fopen(out, "w"))) {
        sw__err(&err, SW_IO, "cannot write '%s': %s", out, strerror(errno));
        sw_plan_free(&p);
        return cli_fail(&err);
    }
    int rc = sw_plan_dot(&p, f, aggregate, &err);
    if (f != stdout && fclose(f) != 0 && rc == SW_OK) rc = SW_IO;
    sw_plan_free(&p);
    if (rc) {
        if (err.status == SW_OK) err.status = rc;
        return cli_fail(&err);
    }
    return 0;
}
