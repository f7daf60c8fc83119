/*
 * test_fuzz_inputs.c - robustness of the front end on damaged inputs.
 *
 * Every conformance input (the .yaml files under tests/conformance/cases and bad,
 * relative to SW_SOURCE_DIR) is loaded
 *   - truncated at every byte offset (every SW_FUZZ_STRIDE-th when that is set), and
 *   - with random single-byte mutations (replacements, plus some deletions and
 *     insertions), from a fixed seed.
 * Each text is passed in a heap buffer of exactly its length, with no terminating NUL,
 * so a read past the end shows under AddressSanitizer.  The only assertions: the load
 * returns SW_OK or SW_INPUT, an error has a non-empty message and a position, and a
 * loaded IR gives rank views for (a bounded number of) its ranks.  It must never crash.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "load.h"
#include "place.h"

#define MAX_FILES 64

typedef struct corpus {
    size_t n;
    char *name[MAX_FILES];
    char *text[MAX_FILES];
    size_t len[MAX_FILES];
} corpus;

static corpus C;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void add_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    char *names[MAX_FILES];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_FILES) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".yaml")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && C.n < MAX_FILES; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc(sz > 0 ? (size_t)sz : 1);
        if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
            free(buf);
            fclose(f);
            continue;
        }
        fclose(f);
        C.name[C.n] = strdup(path);
        C.text[C.n] = buf;
        C.len[C.n] = (size_t)sz;
        C.n++;
    }
}

static int setup(void **state) {
    (void)state;
    add_dir(SW_SOURCE_DIR "/tests/conformance/cases");
    add_dir(SW_SOURCE_DIR "/tests/conformance/bad");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    for (size_t i = 0; i < C.n; i++) {
        free(C.name[i]);
        free(C.text[i]);
    }
    return 0;
}

/* Counters, printed at the end of each test. */
static size_t n_loads, n_ok;

/* Loads len bytes of text (copied into an exact-size buffer) and checks the outcome. */
static void try_load(const char *what, const char *text, size_t len, size_t at) {
    char *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    memcpy(buf, text, len);
    sw_ir ir;
    sw_error err;
    memset(&err, 0, sizeof err);
    int rc = sw_load_text("fuzz.yaml", buf, len, NULL, &ir, &err);
    n_loads++;
    if (rc == SW_OK) {
        n_ok++;
        /* Exercise the pieces of a few ranks of every layout. */
        for (size_t l = 0; l < ir.nlayouts; l++) {
            const sw_layout *L = &ir.layouts[l];
            int64_t nr = L->nranks < 16 ? L->nranks : 16;
            for (int64_t r = 0; r < nr; r++) {
                sw_rank_view v;
                sw_error e2;
                int rc2 = sw_rank_view_build(L, L->first_rank + r, &v, &e2);
                if (rc2 != SW_OK)
                    fail_msg("%s @%zu: rank view of %s rank %lld failed: %s", what, at, L->name,
                             (long long)(L->first_rank + r), e2.msg);
                sw_rank_view_free(&v);
            }
            sw_layout_stats st;
            sw_error e3;
            if (L->nranks <= 4096 && sw_layout_stats_compute(L, &st, &e3) != SW_OK)
                fail_msg("%s @%zu: layout stats of %s failed: %s", what, at, L->name, e3.msg);
        }
        sw_ir_free(&ir);
    } else {
        if (rc != SW_INPUT) fail_msg("%s @%zu: status %d (%s): %s", what, at, rc, sw_status_str(rc), err.msg);
        if (!err.msg[0]) fail_msg("%s @%zu: error without a message", what, at);
        if (err.line < 1 || err.col < 1 || strcmp(err.file, "fuzz.yaml"))
            fail_msg("%s @%zu: input error without a position: '%s' at %s:%d:%d", what, at, err.msg, err.file,
                     err.line, err.col);
    }
    free(buf);
}

static void test_corpus_loads(void **state) {
    (void)state;
    assert_true(C.n >= 10);
    size_t ncases = 0;
    for (size_t i = 0; i < C.n; i++) {
        if (strstr(C.name[i], "/cases/")) {
            ncases++;
            sw_ir ir;
            sw_error err;
            if (sw_load_text(C.name[i], C.text[i], C.len[i], NULL, &ir, &err))
                fail_msg("%s: %s", C.name[i], err.msg);
            sw_ir_free(&ir);
        } else {
            try_load(C.name[i], C.text[i], C.len[i], C.len[i]);
        }
    }
    assert_true(ncases >= 10);
}

static void test_truncations(void **state) {
    (void)state;
    size_t stride = 1;
    const char *s = getenv("SW_FUZZ_STRIDE");
    if (s && atoi(s) > 0) stride = (size_t)atoi(s);
    n_loads = n_ok = 0;
    for (size_t i = 0; i < C.n; i++)
        for (size_t at = 0; at <= C.len[i]; at += stride) try_load(C.name[i], C.text[i], at, at);
    print_message("truncations: %zu loads, %zu valid\n", n_loads, n_ok);
}

/* xorshift64*: a fixed, portable sequence. */
static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

static void test_mutations(void **state) {
    (void)state;
    static const char interesting[] = ":{}[],-#\"'\n \t&*!|>%@`0123456789-+/()ab_";
    size_t per_file = 400;
    const char *s = getenv("SW_FUZZ_MUTATIONS");
    if (s && atoi(s) > 0) per_file = (size_t)atoi(s);
    n_loads = n_ok = 0;
    for (size_t i = 0; i < C.n; i++) {
        size_t len = C.len[i];
        char *buf = malloc(len + 1);
        assert_non_null(buf);
        for (size_t k = 0; k < per_file; k++) {
            memcpy(buf, C.text[i], len);
            size_t at = (size_t)(next() % (len ? len : 1));
            uint64_t kind = next() % 10;
            size_t n = len;
            char what[1100];
            if (kind < 4) { /* any byte */
                buf[at] = (char)(next() & 0xff);
            } else if (kind < 8) { /* a byte that means something to YAML or to expressions */
                buf[at] = interesting[next() % (sizeof interesting - 1)];
            } else if (kind < 9) { /* delete one byte */
                memmove(buf + at, buf + at + 1, len - at - 1);
                n = len - 1;
            } else { /* insert one byte */
                memmove(buf + at + 1, buf + at, len - at);
                buf[at] = interesting[next() % (sizeof interesting - 1)];
                n = len + 1;
            }
            snprintf(what, sizeof what, "%s (mutation %zu, kind %d)", C.name[i], k, (int)kind);
            try_load(what, buf, n, at);
        }
        free(buf);
    }
    print_message("mutations: %zu loads, %zu valid\n", n_loads, n_ok);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_loads),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
