/*
 * consumer.c - a program outside the tree that links the installed libshardwave (the
 * whole library: compile and run), built by tests/e2e/install.sh with pkg-config and with
 * find_package(shardwave).  It compiles a layout file given on the command line (with -D
 * values), sends the plan through its bytes as rank 0 would (sw_plan_serialize,
 * sw_plan_load_mem), runs it on the local backend over its own memory, and checks every
 * destination element.  Prints one line; exit status 0 only if everything matched.
 *
 *   consumer LAYOUT SYNC [NAME=VALUE ...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shardwave.h>

static int report(const sw_error *err) {
    char buf[2200];
    fprintf(stderr, "consumer: %s\n", sw_error_format(err, buf, sizeof buf));
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: consumer LAYOUT SYNC [NAME=VALUE ...]\n");
        return 2;
    }
    sw_define defs[16];
    size_t nd = 0;
    for (int i = 3; i < argc && nd < 16; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) return 2;
        *eq = 0;
        defs[nd++] = (sw_define){argv[i], strtoll(eq + 1, NULL, 10)};
    }
    sw_compile_options co = {.struct_size = sizeof co, .sync = argv[2], .defines = defs, .ndefines = nd};
    sw_error err;
    sw_plan *compiled = NULL, *plan = NULL;
    sw_session *s = NULL;
    void *bytes = NULL, **mem = NULL;
    size_t len = 0, nmem = 0;
    uint64_t checked = 0;
    int rc = 1;
    if (sw_compile_file(&compiled, argv[1], &co, &err) || sw_plan_serialize(compiled, &bytes, &len, &err) ||
        sw_plan_load_mem(&plan, bytes, len, -1, &err) || sw_session_open(&s, plan, -1, SW_BACKEND_LOCAL, NULL, &err)) {
        rc = report(&err);
        goto out;
    }
    int ranks[4096];
    size_t nr = sw_plan_ranks(plan, ranks, 4096);
    for (size_t r = 0; r < nr && r < 4096; r++) {
        size_t count = 0;
        sw_tensor_info info[256];
        if (sw_plan_tensors(plan, ranks[r], info, 256, &count, &err) || count > 256) {
            rc = count > 256 ? 1 : report(&err);
            goto out;
        }
        void **m = realloc(mem, (nmem + count + 1) * sizeof *m);
        if (!m) goto out;
        mem = m;
        for (size_t i = 0; i < count; i++) {
            char name[1024];
            snprintf(name, sizeof name, "%s/%s", info[i].layout, info[i].name);
            if (!(mem[nmem] = malloc(info[i].nbytes ? info[i].nbytes : 1))) goto out;
            if (sw_bind_rank(s, ranks[r], name, mem[nmem++], info[i].nbytes, &err)) {
                rc = report(&err);
                goto out;
            }
        }
    }
    if (sw_validation_fill(s, &err) || sw_sync(s, NULL, &err) || sw_validation_check(s, &checked, &err)) {
        rc = report(&err);
        goto out;
    }
    sw_plan_info pi;
    sw_plan_get_info(plan, &pi, NULL);
    printf("consumer: shardwave %s: compiled %s (%s -> %s, %d ranks, %d waves), %zu plan bytes, synced: %llu "
           "destination elements checked, all match\n",
           SW_VERSION_STRING, pi.sync, pi.from, pi.to, pi.nranks, pi.nwaves, len, (unsigned long long)checked);
    rc = 0;
out:
    sw_session_close(s);
    for (size_t i = 0; i < nmem; i++) free(mem[i]);
    free(mem);
    sw_free(bytes);
    sw_plan_free(plan);
    sw_plan_free(compiled);
    return rc;
}
