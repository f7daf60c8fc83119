/* shardwave verify PLAN: the static proof of a compiled plan (compiler/plan_verify.h) */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "plan_io.h"
#include "plan_verify.h"

static const char verify_help[] =
    "usage: shardwave verify PLAN\n"
    "\n"
    "Statically verifies a compiled plan: every destination element written exactly once\n"
    "by the right source element, every transfer element carried by exactly one task,\n"
    "waves free of port conflicts, deps and relays ordered by waves, staging within the\n"
    "bucket.  Exit 0 when it holds, 1 with the first violation otherwise.\n";

int cmd_verify(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(verify_help, stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("verify: unknown option '%s' (see shardwave verify --help)", a);
        } else if (path) {
            return cli_usage_error("verify: one PLAN only");
        } else {
            path = a;
        }
    }
    if (!path) return cli_usage_error("verify: missing PLAN (see shardwave verify --help)");
    sw_plan p;
    sw_error err;
    if (sw_plan_read(&p, path, -1, &err)) return cli_fail(&err);
    int rc = sw_plan_verify(&p, &err);
    if (rc == SW_OK) {
        printf("plan OK: %u tasks, %d waves, every destination element written once\n", p.ntasks, p.nwaves);
    } else {
        char buf[sizeof err.msg + 64];
        snprintf(buf, sizeof buf, "%s '%s': %s", "invalid plan", path, err.msg);
        fprintf(stderr, "shardwave: error: %s\n", buf);
        rc = rc == SW_INTERNAL ? 1 : cli_exit_code(rc);
        sw_plan_free(&p);
        return rc;
    }
    sw_plan_free(&p);
    return 0;
}
