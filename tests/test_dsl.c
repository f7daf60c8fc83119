/* test_dsl.c - the textual DSL: equivalence with the YAML form, fmt round trips, golden
 * diagnostics (tests/dsl, *.sw files) and the examples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc_write.h"
#include "dsl_load.h"
#include "load.h"
#include "place.h"
#include "yaml_load.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Converts text (read as YAML or DSL by path) to the other syntax (dsl) or to YAML. */
static char *convert(const char *path, const char *text, size_t len, int to_dsl) {
    sw_arena a;
    sw_arena_init(&a);
    sw_doc *root;
    sw_error err;
    int rc = sw_is_dsl(path, text, len) ? sw_dsl_load(&a, path, text, len, &root, &err)
                                        : sw_yaml_load(&a, path, text, len, &root, &err);
    if (rc) {
        char m[1400];
        fail_msg("%s", sw_error_format(&err, m, sizeof m));
    }
    char *out;
    rc = sw_doc_to_string(root, to_dsl, &out, &err);
    if (rc) {
        char m[1400];
        fail_msg("%s: %s", path, sw_error_format(&err, m, sizeof m));
    }
    sw_arena_free(&a);
    return out;
}

static void load(const char *path, const char *text, sw_ir *ir) {
    sw_error err;
    if (sw_load_text(path, text, strlen(text), NULL, ir, &err)) {
        char m[1400];
        fail_msg("%s", sw_error_format(&err, m, sizeof m));
    }
}

/* Every rank of every layout stores the same local tensors and pieces in a and b. */
static void same_ranks(const sw_ir *a, const sw_ir *b, const char *what) {
    assert_int_equal(a->nlayouts, b->nlayouts);
    for (size_t l = 0; l < a->nlayouts; l++) {
        const sw_layout *La = &a->layouts[l], *Lb = &b->layouts[l];
        assert_string_equal(La->name, Lb->name);
        assert_int_equal(La->first_rank, Lb->first_rank);
        assert_int_equal(La->nranks, Lb->nranks);
        for (int64_t r = La->first_rank; r < La->first_rank + La->nranks; r++) {
            sw_rank_view va, vb;
            sw_error err;
            assert_int_equal(sw_rank_view_build(La, r, &va, &err), SW_OK);
            assert_int_equal(sw_rank_view_build(Lb, r, &vb, &err), SW_OK);
            assert_int_equal(va.host, vb.host);
            assert_int_equal(va.device, vb.device);
            if (va.nlocals != vb.nlocals) fail_msg("%s: layout %s rank %lld: %zu vs %zu local tensors", what,
                                                   La->name, (long long)r, va.nlocals, vb.nlocals);
            for (size_t t = 0; t < va.nlocals; t++) {
                const sw_local *x = &va.locals[t], *y = &vb.locals[t];
                assert_string_equal(x->inst->name, y->inst->name);
                assert_int_equal(x->inst->dtype, y->inst->dtype);
                assert_int_equal(x->inst->ndim, y->inst->ndim);
                assert_memory_equal(x->shape, y->shape, sizeof x->shape[0] * (size_t)x->inst->ndim);
                assert_int_equal(x->npieces, y->npieces);
                for (size_t p = 0; p < x->npieces; p++) {
                    const sw_piece *pa = &va.pieces.v[x->first + p], *pb = &vb.pieces.v[y->first + p];
                    assert_string_equal(a->tensors[pa->tensor].name, b->tensors[pb->tensor].name);
                    assert_int_equal(pa->ndim, pb->ndim);
                    assert_memory_equal(pa->off, pb->off, sizeof pa->off);
                    assert_memory_equal(pa->start, pb->start, sizeof pa->start);
                    assert_memory_equal(pa->size, pb->size, sizeof pa->size);
                }
            }
            sw_rank_view_free(&va);
            sw_rank_view_free(&vb);
        }
    }
}

static void test_conformance_cases_in_dsl(void **state) {
    (void)state;
    glob_t g;
    assert_int_equal(glob(SW_SOURCE_DIR "/tests/conformance/cases/*.yaml", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 10);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        size_t len;
        char *yaml = slurp(path, &len);
        assert_non_null(yaml);
        /* yaml -> dsl -> IR equals yaml -> IR, rank by rank */
        char *dsl = convert(path, yaml, len, 1);
        sw_ir a, b;
        load(path, yaml, &a);
        load("case.sw", dsl, &b);
        same_ranks(&a, &b, path);
        assert_int_equal(a.ntensors, b.ntensors);
        assert_int_equal(a.nsyncs, b.nsyncs);
        sw_ir_free(&a);
        sw_ir_free(&b);
        /* yaml -> yaml (canonical) -> dsl -> yaml is the canonical yaml; fmt is idempotent */
        char *y1 = convert(path, yaml, len, 0);
        char *d1 = convert("y1.yaml", y1, strlen(y1), 1);
        char *y2 = convert("d1.sw", d1, strlen(d1), 0);
        char *d2 = convert("d1.sw", d1, strlen(d1), 1);
        char *y3 = convert("y1.yaml", y1, strlen(y1), 0);
        assert_string_equal(y1, y2);
        assert_string_equal(y1, y3);
        assert_string_equal(d1, d2);
        assert_string_equal(d1, dsl);
        free(y1), free(d1), free(y2), free(d2), free(y3), free(dsl), free(yaml);
    }
    globfree(&g);
}

/* Each tests/dsl file: the first line is  # expect: LINE:COL error contains "TEXT" */
static void test_golden_diagnostics(void **state) {
    (void)state;
    glob_t g;
    assert_int_equal(glob(SW_SOURCE_DIR "/tests/dsl/*.sw", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 8);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        size_t len;
        char *text = slurp(path, &len);
        int line, col;
        char want[512];
        if (sscanf(text, "# expect: %d:%d error contains \"%511[^\"]\"", &line, &col, want) != 3)
            fail_msg("%s: no '# expect: LINE:COL error contains \"TEXT\"' first line", path);
        sw_ir ir;
        sw_error err;
        int rc = sw_load_text(path, text, len, NULL, &ir, &err);
        if (rc != SW_INPUT) fail_msg("%s: expected an input error, got status %d", path, rc);
        if (err.line != line || err.col != col || !strstr(err.msg, want) || strcmp(err.file, path))
            fail_msg("%s: expected %d:%d \"%s\", got %d:%d \"%s\"", path, line, col, want, err.line, err.col, err.msg);
        free(text);
    }
    globfree(&g);
}

/* The examples (.sw) load, and equal their .yaml twin when there is one. */
static void test_examples(void **state) {
    (void)state;
    glob_t g;
    assert_int_equal(glob(SW_SOURCE_DIR "/examples/*.sw", 0, NULL, &g), 0);
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        /* the full-size models: test_twins.c checks them (at a reduced size) */
        if (strstr(path, "/llama3-") || strstr(path, "/qwen3-") || strstr(path, "/deepseek-")) continue;
        size_t len;
        char *text = slurp(path, &len);
        sw_ir a;
        load(path, text, &a);
        /* dsl -> yaml -> dsl is fmt's dsl, and the yaml elaborates to the same ranks */
        char *d1 = convert(path, text, len, 1);
        char *y1 = convert(path, text, len, 0);
        char *d2 = convert("y1.yaml", y1, strlen(y1), 1);
        assert_string_equal(d1, d2);
        sw_ir c;
        load("y1.yaml", y1, &c);
        same_ranks(&a, &c, path);
        sw_ir_free(&c);
        free(d1), free(y1), free(d2);
        char twin[4096];
        snprintf(twin, sizeof twin, "%.*s.yaml", (int)(strlen(path) - 3), path);
        char *yaml = slurp(twin, &len);
        if (!yaml && strstr(path, "pipeline_tiny"))
            yaml = slurp(SW_SOURCE_DIR "/tests/conformance/cases/09_pipeline_stages_let.yaml", &len);
        if (yaml) {
            sw_ir b;
            load(twin, yaml, &b);
            same_ranks(&a, &b, path);
            sw_ir_free(&b);
            free(yaml);
        }
        sw_ir_free(&a);
        free(text);
    }
    globfree(&g);
}

static void test_sniff_and_doc_shape(void **state) {
    (void)state;
    assert_true(sw_dsl_sniff("# c\n\nshardwave 1\n", 17));
    assert_false(sw_dsl_sniff("shardwave: 1\n", 13));
    assert_false(sw_dsl_sniff("shardwaves 1\n", 13));
    assert_true(sw_is_dsl("x.sw", "", 0));
    assert_false(sw_is_dsl("x.yaml", "shardwave 1", 11));
    assert_true(sw_is_dsl("x.txt", "shardwave 1", 11));
    assert_false(sw_is_dsl("x.txt", "shardwave: 1", 12));

    const char *src = "shardwave 1\nmodel m {\n  let a = 2, b = a * (3 + -1)\n"
                      "  tensor \"t.{i}\" for i in 1 .. a shape [b]\n}\n";
    sw_arena ar;
    sw_arena_init(&ar);
    sw_doc *root;
    sw_error err;
    assert_int_equal(sw_dsl_load(&ar, "m.sw", src, strlen(src), &root, &err), SW_OK);
    sw_doc *m = sw_doc_get(root, "model");
    assert_string_equal(m->keys[0]->text, "name");
    assert_string_equal(m->keys[1]->text, "let");
    sw_doc *b = sw_doc_get(sw_doc_get(m, "let"), "b");
    assert_string_equal(b->text, "a * (3 + -1)");
    assert_int_equal(b->style, SW_DOC_PLAIN);
    assert_int_equal(b->loc.line, 3);
    assert_int_equal(b->loc.col, 18);
    sw_doc *t = sw_doc_get(m, "tensors")->items[0];
    sw_doc *name = sw_doc_get(t, "name");
    assert_int_equal(name->style, SW_DOC_QUOTED);
    assert_string_equal(name->text, "t.{i}");
    assert_int_equal(name->loc.col, 10);
    sw_doc *rng = sw_doc_get(sw_doc_get(t, "for"), "i");
    assert_int_equal(rng->kind, SW_DOC_SEQ);
    assert_string_equal(rng->items[1]->text, "a");
    sw_arena_free(&ar);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sniff_and_doc_shape),
        cmocka_unit_test(test_conformance_cases_in_dsl),
        cmocka_unit_test(test_golden_diagnostics),
        cmocka_unit_test(test_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
