/* Backend plugins (runtime/plugin.h): the mpi and nccl backends load when a session of
 * them opens, from next to the program (build/) or SHARDWAVE_PLUGIN_DIR; a missing plugin
 * is an error that names the backend and every place tried; a loaded one runs (the mpi
 * backend without MPI_Init says so, the nccl one without a device says so). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"
#include "shardwave.h"

static const char two_ranks[] =
    "shardwave: 1\n"
    "model:\n"
    "  name: t\n"
    "  dtype: fp32\n"
    "  tensors:\n"
    "    - {name: w, shape: [4, 6]}\n"
    "layouts:\n"
    "  a:\n"
    "    mesh: {tp: 2}\n"
    "    place: [{tensor: w, split: {0: tp}}]\n"
    "  b:\n"
    "    mesh: {tp: 2}\n"
    "    place: [{tensor: w, split: {1: tp}}]\n";

static sw_plan *compile_two(void) {
    sw_plan *p = NULL;
    sw_error err;
    if (sw_compile_text(&p, "two.yaml", two_ranks, strlen(two_ranks), NULL, &err)) fail_msg("compile: %s", err.msg);
    return p;
}

/* SHARDWAVE_PLUGIN_DIR at an empty folder (and no plugin on the loader path): opening an
 * mpi or nccl session fails with SW_UNSUPPORTED naming the plugin and where it looked;
 * no session comes back.  A build without the backend says that instead. */
static void test_missing_plugin(void **state) {
    (void)state;
    char dir[] = "/tmp/sw_test_plugin_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(setenv("SHARDWAVE_PLUGIN_DIR", dir, 1), 0);
    sw_plan *p = compile_two();
    static const struct {
        sw_backend_kind kind;
        const char *name;
        int built;
        const char *not_built;
    } cases[] = {
#ifdef SW_HAVE_MPI
        {SW_BACKEND_MPI, "mpi", 1, NULL},
#else
        {SW_BACKEND_MPI, "mpi", 0, "this build of shardwave has no MPI"},
#endif
#ifdef SW_HAVE_NCCL
        {SW_BACKEND_NCCL, "nccl", 1, NULL},
#else
        {SW_BACKEND_NCCL, "nccl", 0, "this build of shardwave has no CUDA/NCCL"},
#endif
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sw_session *s = (sw_session *)p; /* must come back NULL */
        sw_error err;
        assert_int_equal(sw_session_open(&s, p, 0, cases[i].kind, NULL, &err), SW_UNSUPPORTED);
        assert_null(s);
        assert_int_equal(err.status, SW_UNSUPPORTED);
        if (!cases[i].built) {
            assert_non_null(strstr(err.msg, cases[i].not_built));
            continue;
        }
        char want[256], where[512];
        snprintf(want, sizeof want, "the %s backend needs its plugin libshardwave-%s.so, which is not installed",
                 cases[i].name, cases[i].name);
        snprintf(where, sizeof where, "not in %s/libshardwave-%s.so (SHARDWAVE_PLUGIN_DIR)", dir, cases[i].name);
        if (!strstr(err.msg, want) || !strstr(err.msg, where)) fail_msg("unexpected message: %s", err.msg);
        assert_non_null(strstr(err.msg, "nor on the loader path"));
        /* the loader itself: the same, and an empty ref */
        sw_plugin_ref ref = {(const sw_plugin *)&ref, &ref};
        assert_int_equal(sw_plugin_load(cases[i].name, &ref, &err), SW_UNSUPPORTED);
        assert_null(ref.api);
        assert_null(ref.dl);
    }
    sw_plan_free(p);
    unsetenv("SHARDWAVE_PLUGIN_DIR");
    rmdir(dir);
}

/* The plugins built next to this program load and run: mpi without MPI_Init says so (from
 * inside the plugin), nccl without a device says so; the table is this build's. */
static void test_plugins_load(void **state) {
    (void)state;
    unsetenv("SHARDWAVE_PLUGIN_DIR");
    sw_error err;
#ifdef SW_HAVE_MPI
    sw_plugin_ref mpi;
    if (sw_plugin_load("mpi", &mpi, &err)) fail_msg("load mpi: %s", err.msg);
    assert_string_equal(mpi.api->name, "mpi");
    assert_string_equal(mpi.api->version, SW_VERSION_STRING);
    assert_non_null(mpi.api->comm_boot);
    assert_null(mpi.api->dev_alloc); /* not a device plugin */
    sw_boot boot;
    assert_int_equal(mpi.api->comm_boot(NULL, &boot, &err), SW_USAGE);
    assert_non_null(strstr(err.msg, "MPI is not initialised: call MPI_Init first"));
    sw_plugin_unload(&mpi);
    assert_null(mpi.api);
    sw_plan *p = compile_two();
    sw_session *s = NULL;
    assert_int_equal(sw_session_open(&s, p, 0, SW_BACKEND_MPI, NULL, &err), SW_USAGE);
    assert_null(s);
    assert_non_null(strstr(err.msg, "the mpi backend needs MPI_Init first"));
    sw_plan_free(p);
#endif
#ifdef SW_HAVE_NCCL
    sw_plugin_ref nccl;
    if (sw_plugin_load("nccl", &nccl, &err)) fail_msg("load nccl: %s", err.msg);
    assert_string_equal(nccl.api->name, "nccl");
    assert_null(nccl.api->comm_boot); /* not a communicator plugin */
    int rc = nccl.api->have_device(&err);
    if (rc) {
        assert_int_equal(rc, SW_CUDA);
        assert_non_null(strstr(err.msg, "no CUDA device"));
    }
    sw_plugin_unload(&nccl);
#endif
    /* names that are not a backend's */
    sw_plugin_ref ref;
    assert_int_equal(sw_plugin_load("../mpi", &ref, &err), SW_USAGE);
    assert_int_equal(sw_plugin_load("", &ref, &err), SW_USAGE);
    assert_int_equal(sw_plugin_load("tcp", &ref, &err), SW_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "libshardwave-tcp.so"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_plugin),
        cmocka_unit_test(test_plugins_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
