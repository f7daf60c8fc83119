/* test_twins.c - every example ships as YAML and as the DSL (examples/X.yaml and
 * examples/X.sw): both elaborate to the same IR and every sync compiles to a
 * byte-identical plan.  And YAML -> DSL -> YAML (the doc writers) keeps the IR of every
 * example, every conformance case and every valid YAML/DSL input under tests/.
 *
 * The big examples are elaborated and compiled at a reduced size (-D defines, see
 * `twins` below) so that the whole program stays well under a few seconds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "doc_write.h"
#include "dsl_load.h"
#include "load.h"
#include "place.h"
#include "plan_io.h"
#include "yaml_load.h"

#define MAX_DEFINES 20

/* Per example: the -D defines it is tested with (none: full size) and how many ranks of
 * each layout get their rank views compared (0: all). */
typedef struct twin {
    const char *name;
    int sample;
    sw_define d[MAX_DEFINES];
} twin;

static const twin twins[] = {
    {"llama3-8b", 0, {{NULL, 0}}},
    {"llama3-70b", 0, {{"layers", 8}}}, /* 160 ranks: pp 4, so two layers per stage */
    {"qwen3-30b-a3b", 0, {{"layers", 4}}}, /* all 128 experts, two layers per stage */
    /* the tiny run of the file's header */
    {"deepseek-v3",
     0,
     {{"hidden", 64},
      {"layers", 4},
      {"dense", 1},
      {"experts", 64},
      {"moe_ffn", 16},
      {"ffn", 64},
      {"heads", 8},
      {"q_lora", 32},
      {"kv_lora", 16},
      {"nope", 8},
      {"rope", 8},
      {"v_head", 8},
      {"vocab", 1024},
      {"pp_train", 2},
      {"ep_train", 4},
      {"ep_inf", 2},
      {"tp_inf", 2},
      {"block", 8}}},
    /* the tiny run of the file's header */
    {"deepseek-v3-bf16",
     0,
     {{"hidden", 64},
      {"layers", 4},
      {"dense", 1},
      {"experts", 16},
      {"moe_ffn", 16},
      {"ffn", 64},
      {"heads", 8},
      {"q_lora", 32},
      {"kv_lora", 16},
      {"nope", 8},
      {"rope", 8},
      {"v_head", 8},
      {"vocab", 1024},
      {"pp_train", 2},
      {"ep_train", 4},
      {"dp_inf", 4},
      {"tp_inf", 2}}},
    {"llama_tiny", 0, {{NULL, 0}}},
    {"pipeline_tiny", 0, {{NULL, 0}}},
};

static sw_load_opts opts_of(const twin *t) {
    sw_load_opts o = {t->d, 0};
    while (o.ndefines < MAX_DEFINES && t->d[o.ndefines].name) o.ndefines++;
    return o;
}

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

static void load_file(const char *path, const sw_load_opts *o, sw_ir *ir) {
    sw_error err;
    if (sw_load_file(path, o, ir, &err)) {
        char m[1400];
        fail_msg("%s", sw_error_format(&err, m, sizeof m));
    }
}

/* Reads text (with the front end path's extension picks) and writes it back as the DSL or
 * YAML; NULL when the text does not parse or the tree has no DSL form (*rc says why). */
static char *convert(const char *path, const char *text, size_t len, int to_dsl, int *rc) {
    sw_arena a;
    sw_arena_init(&a);
    sw_doc *root;
    sw_error err;
    char *out = NULL;
    *rc = sw_is_dsl(path, text, len) ? sw_dsl_load(&a, path, text, len, &root, &err)
                                     : sw_yaml_load(&a, path, text, len, &root, &err);
    if (!*rc) {
        *rc = sw_doc_to_string(root, to_dsl, &out, &err);
        if (*rc) out = NULL;
    }
    sw_arena_free(&a);
    return out;
}

/* ---- IR equality ------------------------------------------------------------------ */

static void same_tensors(const sw_ir *a, const sw_ir *b, const char *what) {
    assert_string_equal(a->model_name, b->model_name);
    assert_int_equal(a->dtype, b->dtype);
    if (a->ntensors != b->ntensors) fail_msg("%s: %zu vs %zu logical tensors", what, a->ntensors, b->ntensors);
    for (size_t t = 0; t < a->ntensors; t++) {
        const sw_tensor *x = &a->tensors[t], *y = &b->tensors[t];
        if (strcmp(x->name, y->name)) fail_msg("%s: tensor %zu: '%s' vs '%s'", what, t, x->name, y->name);
        assert_int_equal(x->dtype, y->dtype);
        assert_int_equal(x->ndim, y->ndim);
        assert_memory_equal(x->shape, y->shape, sizeof x->shape[0] * (size_t)x->ndim);
    }
}

static void same_layout_shape(const sw_layout *La, const sw_layout *Lb, const char *what) {
    if (strcmp(La->name, Lb->name)) fail_msg("%s: layout '%s' vs '%s'", what, La->name, Lb->name);
    assert_int_equal(La->first_rank, Lb->first_rank);
    assert_int_equal(La->nranks, Lb->nranks);
    assert_int_equal(La->naxes, Lb->naxes);
    for (int k = 0; k < La->naxes; k++) {
        assert_string_equal(La->axis[k], Lb->axis[k]);
        assert_int_equal(La->size[k], Lb->size[k]);
        assert_int_equal(La->stride[k], Lb->stride[k]);
    }
    assert_int_equal(La->hosts_mode, Lb->hosts_mode);
    assert_int_equal(La->gpus_per_host, Lb->gpus_per_host);
    assert_int_equal(La->rank_base, Lb->rank_base);
    if (La->hosts_mode == SW_HOSTS_DEVICES) {
        assert_memory_equal(La->dev_host, Lb->dev_host, sizeof La->dev_host[0] * (size_t)La->nranks);
        assert_memory_equal(La->dev_index, Lb->dev_index, sizeof La->dev_index[0] * (size_t)La->nranks);
    }
    if (La->ninsts != Lb->ninsts)
        fail_msg("%s: layout %s: %zu vs %zu local tensors", what, La->name, La->ninsts, Lb->ninsts);
}

/* What global rank r of layouts La (in a) and Lb (in b) stores is the same. */
static void same_rank(const sw_ir *a, const sw_ir *b, const sw_layout *La, const sw_layout *Lb, int64_t r,
                      const char *what) {
    sw_rank_view va, vb;
    sw_error err;
    assert_int_equal(sw_rank_view_build(La, r, &va, &err), SW_OK);
    assert_int_equal(sw_rank_view_build(Lb, r, &vb, &err), SW_OK);
    assert_memory_equal(va.coords, vb.coords, sizeof va.coords[0] * (size_t)La->naxes);
    assert_int_equal(va.host, vb.host);
    assert_int_equal(va.device, vb.device);
    if (va.nlocals != vb.nlocals)
        fail_msg("%s: layout %s rank %lld: %zu vs %zu local tensors", what, La->name, (long long)r, va.nlocals,
                 vb.nlocals);
    for (size_t t = 0; t < va.nlocals; t++) {
        const sw_local *x = &va.locals[t], *y = &vb.locals[t];
        if (strcmp(x->inst->name, y->inst->name))
            fail_msg("%s: layout %s rank %lld: local '%s' vs '%s'", what, La->name, (long long)r, x->inst->name,
                     y->inst->name);
        assert_int_equal(x->inst->dtype, y->inst->dtype);
        assert_int_equal(x->inst->ndim, y->inst->ndim);
        assert_memory_equal(x->shape, y->shape, sizeof x->shape[0] * (size_t)x->inst->ndim);
        if (x->npieces != y->npieces)
            fail_msg("%s: layout %s rank %lld, %s: %zu vs %zu pieces", what, La->name, (long long)r, x->inst->name,
                     x->npieces, y->npieces);
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

/* a and b are the same IR: model, logical tensors, layouts (every rank, or `sample`
 * ranks spread over each layout, first and last included), syncs and topology. */
static void same_ir(const sw_ir *a, const sw_ir *b, int sample, const char *what) {
    same_tensors(a, b, what);
    if (a->nlayouts != b->nlayouts) fail_msg("%s: %zu vs %zu layouts", what, a->nlayouts, b->nlayouts);
    for (size_t l = 0; l < a->nlayouts; l++) {
        const sw_layout *La = &a->layouts[l], *Lb = &b->layouts[l];
        same_layout_shape(La, Lb, what);
        int64_t n = La->nranks, k = sample > 0 && sample < n ? sample : n;
        for (int64_t i = 0; i < k; i++) {
            int64_t idx = k == n ? i : (k == 1 ? 0 : i * (n - 1) / (k - 1));
            same_rank(a, b, La, Lb, La->first_rank + idx, what);
        }
    }
    if (a->nsyncs != b->nsyncs) fail_msg("%s: %zu vs %zu syncs", what, a->nsyncs, b->nsyncs);
    assert_int_equal(a->implicit_sync, b->implicit_sync);
    for (size_t s = 0; s < a->nsyncs; s++) {
        const sw_syncdef *x = &a->syncs[s], *y = &b->syncs[s];
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->from, y->from);
        assert_int_equal(x->to, y->to);
        assert_int_equal(x->bucket, y->bucket);
        assert_int_equal(x->nskip, y->nskip);
        for (size_t t = 0; t < a->ntensors; t++) assert_int_equal(x->skip ? x->skip[t] : 0, y->skip ? y->skip[t] : 0);
    }
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        assert_true(a->topo.link[c].bandwidth == b->topo.link[c].bandwidth);
        assert_true(a->topo.link[c].latency == b->topo.link[c].latency);
    }
    assert_int_equal(a->topo.gpus_per_nic, b->topo.gpus_per_nic);
}

/* ---- (a) + (b): the twins --------------------------------------------------------- */

static uint8_t *plan_bytes(const sw_ir *ir, int sync, size_t *len, const char *what) {
    sw_compile_params co;
    memset(&co, 0, sizeof co);
    co.sync = sync;
    co.scheduler = SW_SCHED_OPTIMAL;
    sw_plan plan;
    sw_error err;
    char m[1400];
    if (sw_compile(ir, &co, &plan, &err)) fail_msg("%s: %s", what, sw_error_format(&err, m, sizeof m));
    uint8_t *buf = NULL;
    if (sw_plan_write_mem(&plan, &buf, len, &err)) fail_msg("%s: %s", what, sw_error_format(&err, m, sizeof m));
    sw_plan_free(&plan);
    return buf;
}

static void test_every_example_has_both_forms(void **state) {
    (void)state;
    const char *pats[] = {SW_SOURCE_DIR "/examples/*.yaml", SW_SOURCE_DIR "/examples/*.sw"};
    size_t total = 0;
    for (int p = 0; p < 2; p++) {
        glob_t g;
        assert_int_equal(glob(pats[p], 0, NULL, &g), 0);
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *base = strrchr(g.gl_pathv[i], '/') + 1;
            size_t n = strlen(base) - (p ? 3 : 5);
            size_t k;
            for (k = 0; k < sizeof twins / sizeof twins[0]; k++)
                if (strlen(twins[k].name) == n && !strncmp(twins[k].name, base, n)) break;
            if (k == sizeof twins / sizeof twins[0]) fail_msg("%s: not in test_twins.c's list of twins", g.gl_pathv[i]);
            total++;
        }
        globfree(&g);
    }
    assert_int_equal(total, 2 * (sizeof twins / sizeof twins[0]));
}

static void test_twins_same_ir_same_plans(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof twins / sizeof twins[0]; k++) {
        const twin *t = &twins[k];
        sw_load_opts o = opts_of(t);
        char yp[512], dp[512];
        snprintf(yp, sizeof yp, SW_SOURCE_DIR "/examples/%s.yaml", t->name);
        snprintf(dp, sizeof dp, SW_SOURCE_DIR "/examples/%s.sw", t->name);
        sw_ir a, b;
        load_file(yp, &o, &a);
        load_file(dp, &o, &b);
        same_ir(&a, &b, t->sample, t->name);
        assert_true(a.nsyncs >= 1);
        for (size_t s = 0; s < a.nsyncs; s++) {
            char what[600];
            snprintf(what, sizeof what, "%s, sync %s", t->name, a.syncs[s].name);
            size_t la, lb;
            uint8_t *pa = plan_bytes(&a, (int)s, &la, what), *pb = plan_bytes(&b, (int)s, &lb, what);
            if (la != lb) fail_msg("%s: plans of %zu and %zu bytes", what, la, lb);
            if (memcmp(pa, pb, la)) fail_msg("%s: the plans differ", what);
            free(pa);
            free(pb);
        }
        sw_ir_free(&a);
        sw_ir_free(&b);
    }
}

/* ---- (c): YAML -> DSL -> YAML keeps the IR -------------------------------------------- */

/* msg with the numbers after "line " and "column " blanked: positions in messages differ
 * between the two syntaxes. */
static void no_positions(const char *msg, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = msg; *p && n + 1 < cap;) {
        if (!strncmp(p, "line ", 5) || !strncmp(p, "column ", 7)) {
            size_t k = p[0] == 'l' ? 5 : 7;
            if (p[k] >= '0' && p[k] <= '9') {
                for (size_t i = 0; i < k && n + 1 < cap; i++) out[n++] = p[i];
                p += k;
                while (*p >= '0' && *p <= '9') p++;
                if (n + 1 < cap) out[n++] = '#';
                continue;
            }
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
}

/* path's text taken through the other syntax and back (ending in YAML): the IR (or, for an
 * input that elaboration rejects, the error) is the same as the original's.  Returns 0
 * when the file does not parse (a syntax-error input) or has no DSL form (a key the
 * language does not know), 1 when it was checked. */
static int round_trip(const char *path, const sw_load_opts *o, int sample) {
    size_t len = 0;
    char *text = slurp(path, &len);
    assert_non_null(text);
    int rc;
    char *dsl = convert(path, text, len, 1, &rc);
    if (!dsl) {
        free(text);
        return 0;
    }
    char *yaml = convert("rt.sw", dsl, strlen(dsl), 0, &rc);
    assert_non_null(yaml);
    /* and once more: the writers are a fixed point */
    char *dsl2 = convert("rt.yaml", yaml, strlen(yaml), 1, &rc);
    assert_non_null(dsl2);
    assert_string_equal(dsl, dsl2);

    sw_ir a, b, c;
    sw_error ea, eb, ec;
    int ra = sw_load_text(path, text, len, o, &a, &ea);
    int rb = sw_load_text("rt.yaml", yaml, strlen(yaml), o, &b, &eb);
    int rc2 = sw_load_text("rt.sw", dsl, strlen(dsl), o, &c, &ec);
    if (ra != rb || ra != rc2)
        fail_msg("%s: status %d, after the round trip %d (yaml) and %d (dsl): %s / %s", path, ra, rb, rc2,
                 ra ? ea.msg : eb.msg, rb ? eb.msg : ec.msg);
    if (ra) { /* rejected: for the same reason */
        char ma[1600], mb[1600], mc[1600];
        no_positions(ea.msg, ma, sizeof ma);
        no_positions(eb.msg, mb, sizeof mb);
        no_positions(ec.msg, mc, sizeof mc);
        assert_string_equal(ma, mb);
        assert_string_equal(ma, mc);
    } else {
        same_ir(&a, &b, sample, path);
        same_ir(&a, &c, sample, path);
        sw_ir_free(&a);
        sw_ir_free(&b);
        sw_ir_free(&c);
    }
    free(dsl2), free(yaml), free(dsl), free(text);
    return 1;
}

static void test_round_trip_examples(void **state) {
    (void)state;
    for (size_t k = 0; k < sizeof twins / sizeof twins[0]; k++) {
        sw_load_opts o = opts_of(&twins[k]);
        char p[512];
        snprintf(p, sizeof p, SW_SOURCE_DIR "/examples/%s.yaml", twins[k].name);
        assert_int_equal(round_trip(p, &o, twins[k].sample), 1);
        snprintf(p, sizeof p, SW_SOURCE_DIR "/examples/%s.sw", twins[k].name);
        assert_int_equal(round_trip(p, &o, twins[k].sample), 1);
    }
}

static void test_round_trip_conformance(void **state) {
    (void)state;
    glob_t g;
    assert_int_equal(glob(SW_SOURCE_DIR "/tests/conformance/cases/*.yaml", 0, NULL, &g), 0);
    assert_true(g.gl_pathc >= 10);
    for (size_t i = 0; i < g.gl_pathc; i++) assert_int_equal(round_trip(g.gl_pathv[i], NULL, 0), 1);
    globfree(&g);
    /* the rejected conformance inputs are rejected for the same reason after it */
    if (!glob(SW_SOURCE_DIR "/tests/conformance/bad/*.yaml", 0, NULL, &g)) {
        for (size_t i = 0; i < g.gl_pathc; i++) round_trip(g.gl_pathv[i], NULL, 0);
        globfree(&g);
    }
}

/* Every YAML or DSL file under tests/ (two levels deep): the ones that parse keep their
 * IR, or their elaboration error, through the round trip. */
static void test_round_trip_test_inputs(void **state) {
    (void)state;
    const char *pats[] = {
        SW_SOURCE_DIR "/tests/*.yaml",   SW_SOURCE_DIR "/tests/*.yml",   SW_SOURCE_DIR "/tests/*.sw",
        SW_SOURCE_DIR "/tests/*/*.yaml", SW_SOURCE_DIR "/tests/*/*.yml", SW_SOURCE_DIR "/tests/*/*.sw",
    };
    int files = 0, checked = 0;
    for (size_t p = 0; p < sizeof pats / sizeof pats[0]; p++) {
        glob_t g;
        if (glob(pats[p], 0, NULL, &g)) continue;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            files++;
            checked += round_trip(g.gl_pathv[i], NULL, 0);
        }
        globfree(&g);
    }
    assert_true(files >= 8);
    assert_true(checked >= 3); /* tests/dsl/elab_*.sw parse and fail in elaboration */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_example_has_both_forms),
        cmocka_unit_test(test_twins_same_ir_same_plans),
        cmocka_unit_test(test_round_trip_examples),
        cmocka_unit_test(test_round_trip_conformance),
        cmocka_unit_test(test_round_trip_test_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
