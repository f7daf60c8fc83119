/*
 * elab.c - the document tree to IR (see elab.h and the layout language spec).
 *
 * Every check reports at the node the spec's rule 17 names: the offending value (a let
 * value, a shape entry, a split entry, a name template, a fuse part, groups), an unknown
 * key at the key, a duplicate local tensor at the later rule's `as` (else `tensor`).
 */
#include "elab.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dsl_load.h"
#include "expr.h"
#include "yaml_load.h"

#define MAX_VARS 16
#define MAX_LETS 128
#define MAX_PARTS 512
#define MAX_INSTANCES ((size_t)100000000)

typedef struct elab {
    sw_ir *ir;
    sw_arena *a;
    sw_error *err;
    const char *path;
    const sw_load_opts *opts;
    const char *let_names[MAX_LETS];
    int64_t let_vals[MAX_LETS];
    sw_scope model_scope;
    size_t cap_tensors;
    sw_layout *L;
    const char *axis_names[SW_MAXAXES];
    sw_scope mesh_scope;
    size_t cap_insts;
    size_t total_insts;
    char name[1024];
} elab;

/* ---- small helpers ------------------------------------------------------------------ */

static int nomem(elab *E) { return sw__err(E->err, SW_NOMEM, "out of memory while elaborating %s", E->path); }

static int is_bool(const sw_doc *d) {
    static const char *const b[] = {"true", "false", "True", "False", "TRUE", "FALSE"};
    if (d->kind != SW_DOC_SCALAR || d->style != SW_DOC_PLAIN) return 0;
    for (size_t i = 0; i < sizeof b / sizeof *b; i++)
        if (!strcmp(d->text, b[i])) return 1;
    return 0;
}

static int is_null(const sw_doc *d) {
    return d->kind == SW_DOC_SCALAR && d->style == SW_DOC_PLAIN &&
           (!d->text[0] || !strcmp(d->text, "~") || !strcmp(d->text, "null") || !strcmp(d->text, "Null") ||
            !strcmp(d->text, "NULL"));
}

static int is_ident(const char *s) {
    if (!(isalpha((unsigned char)*s) || *s == '_')) return 0;
    for (s++; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return 0;
    return 1;
}

static int need(elab *E, const sw_doc *d, sw_doc_kind k, const char *what) {
    if (d->kind == k && !(k == SW_DOC_SCALAR && is_null(d))) return SW_OK;
    if (is_null(d)) return sw__err_at(E->err, SW_INPUT, d->loc, "%s has no value: expected %s", what, sw_doc_kind_name(k));
    return sw__err_at(E->err, SW_INPUT, d->loc, "%s must be %s, not %s", what, sw_doc_kind_name(k),
                      sw_doc_kind_name(d->kind));
}

/* Unknown keys are errors, at the key. allowed is NULL-terminated. */
static int check_keys(elab *E, const sw_doc *map, const char *const *allowed, const char *what) {
    for (size_t i = 0; i < map->n; i++) {
        const char *k = map->keys[i]->text;
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (!strcmp(k, *a)) ok = 1;
        if (ok) continue;
        char known[512];
        size_t len = 0;
        known[0] = '\0';
        for (const char *const *a = allowed; *a; a++)
            len += (size_t)snprintf(known + len, len < sizeof known ? sizeof known - len : 0, "%s%s",
                                    a == allowed ? "" : ", ", *a);
        return sw__err_at(E->err, SW_INPUT, map->keys[i]->loc, "unknown key '%s' in %s (known keys: %s)", k, what,
                          known);
    }
    return SW_OK;
}

/* Evaluates an integer expression node (a plain integer or an expression string). */
static int eval_int(elab *E, sw_doc *d, const sw_scope *s, const char *what, int64_t *out) {
    if (d->kind != SW_DOC_SCALAR)
        return sw__err_at(E->err, SW_INPUT, d->loc, "%s must be an integer expression, not %s", what,
                          sw_doc_kind_name(d->kind));
    if (is_bool(d))
        return sw__err_at(E->err, SW_INPUT, d->loc, "%s must be an integer, not the boolean '%s'", what, d->text);
    if (is_null(d)) return sw__err_at(E->err, SW_INPUT, d->loc, "%s has no value: expected an integer", what);
    if (!d->cache) {
        sw_expr *e;
        int rc = sw_expr_parse(E->a, d->text, d->loc, &e, E->err);
        if (rc) return rc;
        d->cache = e;
    }
    return sw_expr_eval(d->cache, s, d->loc, out, E->err);
}

static int eval_int_min(elab *E, sw_doc *d, const sw_scope *s, const char *what, int64_t min, int64_t *out) {
    SW_CHECK(eval_int(E, d, s, what, out));
    if (*out < min)
        return sw__err_at(E->err, SW_INPUT, d->loc, "%s must be at least %lld, got %lld", what, (long long)min,
                          (long long)*out);
    return SW_OK;
}

/* Expands a name template node into E->name. */
static int eval_name(elab *E, sw_doc *d, const sw_scope *s, const char *what) {
    SW_CHECK(need(E, d, SW_DOC_SCALAR, what));
    if (!d->cache) {
        sw_tmpl *t;
        int rc = sw_tmpl_parse(E->a, d->text, d->loc, &t, E->err);
        if (rc) return rc;
        d->cache = t;
    }
    SW_CHECK(sw_tmpl_eval(d->cache, s, d->loc, E->name, sizeof E->name, E->err));
    if (!E->name[0]) return sw__err_at(E->err, SW_INPUT, d->loc, "%s is empty", what);
    return SW_OK;
}

static int parse_dtype(elab *E, sw_doc *d, sw_dtype *out) {
    SW_CHECK(need(E, d, SW_DOC_SCALAR, "dtype"));
    if (sw_dtype_parse(d->text, out))
        return sw__err_at(E->err, SW_INPUT, d->loc,
                          "unknown dtype '%s' (known: bf16, fp16, fp32, fp64, fp8_e4m3, fp8_e5m2, int8, uint8, int32, "
                          "int64)",
                          d->text);
    return SW_OK;
}

static int parse_bool(elab *E, sw_doc *d, const char *what, int *out) {
    if (d->kind == SW_DOC_SCALAR && is_bool(d)) {
        *out = d->text[0] == 't' || d->text[0] == 'T';
        return SW_OK;
    }
    return sw__err_at(E->err, SW_INPUT, d->loc, "%s must be true or false", what);
}

/* "256MiB", "50GB/s", "2us", "1.5 GB".  kind: 's' size, 'b' bandwidth, 't' time. */
static int parse_quantity(elab *E, sw_doc *d, int kind, const char *what, double *out) {
    SW_CHECK(need(E, d, SW_DOC_SCALAR, what));
    const char *s = d->text;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0) goto bad;
    while (*end == ' ') end++;
    double mul = 1;
    if (kind == 't') {
        if (!strcmp(end, "s")) mul = 1;
        else if (!strcmp(end, "ms")) mul = 1e-3;
        else if (!strcmp(end, "us")) mul = 1e-6;
        else if (!strcmp(end, "ns")) mul = 1e-9;
        else goto bad;
    } else {
        static const struct { const char *u; double m; } units[] = {
            {"B", 1},         {"KB", 1e3},          {"MB", 1e6},          {"GB", 1e9},
            {"TB", 1e12},     {"KiB", 1024.0},      {"MiB", 1048576.0},   {"GiB", 1073741824.0},
            {"TiB", 1099511627776.0}, {"", 1}};
        char unit[16];
        size_t n = strcspn(end, "/");
        if (n >= sizeof unit) goto bad;
        memcpy(unit, end, n);
        unit[n] = '\0';
        const char *rest = end + n;
        if (kind == 'b' ? (*rest && strcmp(rest, "/s")) : *rest != '\0') goto bad;
        size_t i;
        for (i = 0; i < sizeof units / sizeof *units; i++)
            if (!strcmp(unit, units[i].u)) break;
        if (i == sizeof units / sizeof *units) goto bad;
        mul = units[i].m;
    }
    *out = v * mul;
    return SW_OK;
bad:
    return sw__err_at(E->err, SW_INPUT, d->loc, "bad %s '%s' (write e.g. %s)", what, d->text,
                      kind == 't' ? "2us, 1.5ms or 0.01s" : kind == 'b' ? "50GB/s or 400Gb... in B/s: 50GB/s"
                                                                         : "256MiB or 1GiB");
}

/* ---- iteration: for / let ---------------------------------------------------------- */

typedef int (*body_fn)(elab *E, const sw_scope *s, void *ctx);

typedef struct iter {
    elab *E;
    sw_doc *forn, *letn;
    const sw_scope *outer;
    body_fn fn;
    void *ctx;
    const char *vnames[MAX_VARS];
    int64_t vvals[MAX_VARS];
    const char *snames[MAX_LETS];
    int64_t svals[MAX_LETS];
    sw_scope static_scope;
    const char *lnames[MAX_LETS];
    int64_t lvals[MAX_LETS];
} iter;

static int iter_rec(iter *I, int k) {
    elab *E = I->E;
    int nvars = I->forn ? (int)I->forn->n : 0;
    if (k == nvars) {
        sw_scope let_scope = {I->outer, 0, I->lnames, I->lvals};
        sw_scope loop_scope = {&let_scope, (size_t)nvars, I->vnames, I->vvals};
        if (I->letn)
            for (size_t j = 0; j < I->letn->n; j++) {
                I->lnames[j] = I->letn->keys[j]->text;
                SW_CHECK(eval_int(E, I->letn->vals[j], &loop_scope, "a let value", &I->lvals[j]));
                let_scope.n = j + 1;
            }
        if (++E->total_insts > MAX_INSTANCES) {
            sw_loc none = {0};
            return sw__err_at(E->err, SW_INPUT, I->forn ? I->forn->loc : none,
                              "more than %zu iterations: is a range too large?", MAX_INSTANCES);
        }
        return I->fn(E, &loop_scope, I->ctx);
    }
    sw_scope range_scope = {&I->static_scope, (size_t)k, I->vnames, I->vvals};
    sw_doc *r = I->forn->vals[k];
    int64_t a = 0, b;
    if (r->kind == SW_DOC_SEQ) {
        if (r->n != 2)
            return sw__err_at(E->err, SW_INPUT, r->loc, "a range is [first, end) with two entries, got %zu", r->n);
        SW_CHECK(eval_int(E, r->items[0], &range_scope, "a range start", &a));
        SW_CHECK(eval_int(E, r->items[1], &range_scope, "a range end", &b));
    } else {
        SW_CHECK(eval_int(E, r, &range_scope, "a loop count", &b));
    }
    if (b < a)
        return sw__err_at(E->err, SW_INPUT, r->loc, "negative count: '%s' ranges over %lld .. %lld",
                          I->vnames[k], (long long)a, (long long)(b - 1));
    for (int64_t v = a; v < b; v++) {
        I->vvals[k] = v;
        SW_CHECK(iter_rec(I, k + 1));
    }
    return SW_OK;
}

/* Runs fn once per iteration of `for` (cartesian, first variable outermost), with the
 * rule's `let` evaluated per iteration.  Ranges may use the let entries that do not
 * depend on loop variables. */
static int iterate(elab *E, sw_doc *forn, sw_doc *letn, const sw_scope *outer, body_fn fn, void *ctx) {
    iter *I = calloc(1, sizeof *I);
    if (!I) return nomem(E);
    int rc = SW_OK;
    I->E = E;
    I->forn = forn;
    I->letn = letn;
    I->outer = outer;
    I->fn = fn;
    I->ctx = ctx;
    if (forn) {
        SW_CHECK_GOTO(need(E, forn, SW_DOC_MAP, "'for'"), rc, out);
        if (forn->n > MAX_VARS) {
            rc = sw__err_at(E->err, SW_INPUT, forn->loc, "at most %d loop variables", MAX_VARS);
            goto out;
        }
        for (size_t i = 0; i < forn->n; i++) {
            if (!is_ident(forn->keys[i]->text)) {
                rc = sw__err_at(E->err, SW_INPUT, forn->keys[i]->loc, "'%s' is not a valid loop variable name",
                                forn->keys[i]->text);
                goto out;
            }
            I->vnames[i] = forn->keys[i]->text;
        }
    }
    I->static_scope.up = outer;
    I->static_scope.names = I->snames;
    I->static_scope.vals = I->svals;
    if (letn) {
        SW_CHECK_GOTO(need(E, letn, SW_DOC_MAP, "'let'"), rc, out);
        if (letn->n > MAX_LETS) {
            rc = sw__err_at(E->err, SW_INPUT, letn->loc, "at most %d let entries", MAX_LETS);
            goto out;
        }
        for (size_t j = 0; j < letn->n; j++) {
            if (!is_ident(letn->keys[j]->text)) {
                rc = sw__err_at(E->err, SW_INPUT, letn->keys[j]->loc, "'%s' is not a valid name",
                                letn->keys[j]->text);
                goto out;
            }
            /* entries that do not depend on loop variables are visible to the ranges */
            int64_t v;
            if (eval_int(E, letn->vals[j], &I->static_scope, "a let value", &v) == SW_OK) {
                I->snames[I->static_scope.n] = letn->keys[j]->text;
                I->svals[I->static_scope.n++] = v;
            } else if (E->err && E->err->status == SW_NOMEM) {
                rc = SW_NOMEM;
                goto out;
            }
        }
        sw__err_clear(E->err);
    }
    rc = iter_rec(I, 0);
out:
    free(I);
    return rc;
}

/* ---- model ------------------------------------------------------------------------------ */

static int model_tensor(elab *E, const sw_scope *s, void *ctx) {
    sw_doc *tn = ctx;
    sw_doc *name = sw_doc_get(tn, "name"), *shape = sw_doc_get(tn, "shape"), *dt = sw_doc_get(tn, "dtype");
    SW_CHECK(eval_name(E, name, s, "a tensor name"));
    sw_ir *ir = E->ir;
    if (SW_GROW(ir->tensors, E->cap_tensors, ir->ntensors + 1)) return nomem(E);
    sw_tensor *t = &ir->tensors[ir->ntensors];
    memset(t, 0, sizeof *t);
    if (!(t->name = sw_arena_strdup(E->a, E->name))) return nomem(E);
    t->loc = name->loc;
    t->dtype = ir->dtype;
    if (dt) SW_CHECK(parse_dtype(E, dt, &t->dtype));
    SW_CHECK(need(E, shape, SW_DOC_SEQ, "'shape'"));
    if (shape->n > SW_MAXDIM)
        return sw__err_at(E->err, SW_INPUT, shape->loc, "'%s' has %zu dims; at most %d are supported", t->name,
                          shape->n, SW_MAXDIM);
    t->ndim = (int)shape->n;
    for (size_t i = 0; i < shape->n; i++)
        SW_CHECK(eval_int_min(E, shape->items[i], s, "a shape entry", 0, &t->shape[i]));
    int64_t bytes = sw_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++)
        if (sw_mul64(bytes, t->shape[d] ? t->shape[d] : 1, &bytes))
            return sw__err_at(E->err, SW_INPUT, shape->loc, "'%s' is too large", t->name);
    uint32_t old;
    int r = sw_strmap_put(&ir->tensor_index, t->name, (uint32_t)ir->ntensors, &old);
    if (r < 0) return nomem(E);
    if (r == 1)
        return sw__err_at(E->err, SW_INPUT, name->loc, "logical tensor '%s' is declared twice (first at line %d)",
                          t->name, ir->tensors[old].loc.line);
    ir->ntensors++;
    return SW_OK;
}

static int elab_model(elab *E, sw_doc *m) {
    static const char *const keys[] = {"name", "dtype", "let", "tensors", NULL};
    static const char *const tkeys[] = {"name", "for", "let", "shape", "dtype", NULL};
    sw_ir *ir = E->ir;
    SW_CHECK(need(E, m, SW_DOC_MAP, "'model'"));
    SW_CHECK(check_keys(E, m, keys, "model"));
    sw_doc *n = sw_doc_get(m, "name"), *dt = sw_doc_get(m, "dtype"), *let = sw_doc_get(m, "let"),
           *tensors = sw_doc_get(m, "tensors");
    ir->model_name = "model";
    if (n) {
        SW_CHECK(need(E, n, SW_DOC_SCALAR, "'name'"));
        ir->model_name = n->text;
    }
    ir->dtype = SW_DT_BF16;
    if (dt) SW_CHECK(parse_dtype(E, dt, &ir->dtype));
    E->model_scope.names = E->let_names;
    E->model_scope.vals = E->let_vals;
    size_t ndef = E->opts ? E->opts->ndefines : 0;
    if (let) {
        SW_CHECK(need(E, let, SW_DOC_MAP, "'let'"));
        if (let->n > MAX_LETS) return sw__err_at(E->err, SW_INPUT, let->loc, "at most %d let entries", MAX_LETS);
        for (size_t i = 0; i < let->n; i++) {
            const char *k = let->keys[i]->text;
            if (!is_ident(k)) return sw__err_at(E->err, SW_INPUT, let->keys[i]->loc, "'%s' is not a valid name", k);
            int64_t v;
            size_t j;
            for (j = 0; j < ndef; j++)
                if (!strcmp(E->opts->defines[j].name, k)) break;
            if (j < ndef) v = E->opts->defines[j].value; /* -D: the input's expression is not evaluated */
            else SW_CHECK(eval_int(E, let->vals[i], &E->model_scope, "a let value", &v));
            E->let_names[i] = k;
            E->let_vals[i] = v;
            E->model_scope.n = i + 1;
        }
    }
    for (size_t j = 0; j < ndef; j++) {
        size_t i;
        for (i = 0; i < E->model_scope.n; i++)
            if (!strcmp(E->let_names[i], E->opts->defines[j].name)) break;
        if (i == E->model_scope.n)
            return sw__err(E->err, SW_USAGE, "-D %s: the model has no let constant '%s'", E->opts->defines[j].name,
                           E->opts->defines[j].name);
    }
    if (!tensors) return sw__err_at(E->err, SW_INPUT, m->loc, "the model has no 'tensors'");
    SW_CHECK(need(E, tensors, SW_DOC_SEQ, "'tensors'"));
    for (size_t i = 0; i < tensors->n; i++) {
        sw_doc *t = tensors->items[i];
        SW_CHECK(need(E, t, SW_DOC_MAP, "a tensor"));
        SW_CHECK(check_keys(E, t, tkeys, "a tensor"));
        if (!sw_doc_get(t, "name")) return sw__err_at(E->err, SW_INPUT, t->loc, "a tensor needs a 'name'");
        if (!sw_doc_get(t, "shape")) return sw__err_at(E->err, SW_INPUT, t->loc, "a tensor needs a 'shape'");
        SW_CHECK(iterate(E, sw_doc_get(t, "for"), sw_doc_get(t, "let"), &E->model_scope, model_tensor, t));
    }
    return SW_OK;
}

/* ---- placement rules ------------------------------------------------------------------ */

/* A resolved source: one logical tensor with its own perm. */
typedef struct src {
    uint32_t tid;
    int8_t perm[SW_MAXDIM]; /* stored dim -> logical dim */
    int ndim;
    int64_t shape[SW_MAXDIM]; /* stored order */
    int64_t unit;
    sw_doc *node;
} src;

/* An item: a plain source or a fuse of sources. */
typedef struct item {
    int nparts;
    int fused;
    int dim;          /* fuse dim (in the item's stored order) */
    int64_t groups;
    sw_doc *groups_node;
    int ndim;
    int64_t shape[SW_MAXDIM]; /* the item's shape */
    src parts[MAX_PARTS];     /* last: resolve_item clears all but the unused parts */
} item;

static int parse_perm(elab *E, sw_doc *d, int ndim, int8_t *perm) {
    SW_CHECK(need(E, d, SW_DOC_SEQ, "'perm'"));
    if ((int)d->n != ndim)
        return sw__err_at(E->err, SW_INPUT, d->loc, "perm has %zu entries for a tensor of %d dims", d->n, ndim);
    int seen[SW_MAXDIM] = {0};
    for (int k = 0; k < ndim; k++) {
        int64_t v;
        SW_CHECK(eval_int(E, d->items[k], &E->mesh_scope, "a perm entry", &v));
        if (v < 0 || v >= ndim || seen[v])
            return sw__err_at(E->err, SW_INPUT, d->loc, "perm is not a permutation of 0..%d", ndim - 1);
        seen[v] = 1;
        perm[k] = (int8_t)v;
    }
    return SW_OK;
}

static int resolve_src(elab *E, sw_doc *p, const sw_scope *s, int allow_unit, sw_doc *perm_node, src *out) {
    static const char *const pkeys[] = {"tensor", "unit", "perm", NULL};
    sw_doc *tn = p, *unit = NULL;
    memset(out, 0, sizeof *out);
    out->node = p;
    if (p->kind == SW_DOC_MAP) {
        SW_CHECK(check_keys(E, p, pkeys, "a fuse part"));
        tn = sw_doc_get(p, "tensor");
        if (!tn) return sw__err_at(E->err, SW_INPUT, p->loc, "a fuse part needs 'tensor'");
        unit = sw_doc_get(p, "unit");
        perm_node = sw_doc_get(p, "perm");
        if (unit && !allow_unit)
            return sw__err_at(E->err, SW_INPUT, sw_doc_key(p, "unit")->loc, "'unit' is only for fuse parts");
    }
    SW_CHECK(eval_name(E, tn, s, "a tensor name"));
    uint32_t id;
    if (!sw_strmap_get(&E->ir->tensor_index, E->name, &id))
        return sw__err_at(E->err, SW_INPUT, tn->loc, "no logical tensor '%s' in the model", E->name);
    const sw_tensor *t = &E->ir->tensors[id];
    out->tid = id;
    out->ndim = t->ndim;
    for (int k = 0; k < t->ndim; k++) out->perm[k] = (int8_t)k;
    if (perm_node) SW_CHECK(parse_perm(E, perm_node, t->ndim, out->perm));
    for (int k = 0; k < t->ndim; k++) out->shape[k] = t->shape[out->perm[k]];
    if (unit) SW_CHECK(eval_int_min(E, unit, s, "'unit'", 1, &out->unit));
    return SW_OK;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t n = (size_t)snprintf(buf, cap, "[");
    for (int k = 0; k < ndim && n < cap; k++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%lld", k ? ", " : "", (long long)shape[k]);
    if (n < cap) snprintf(buf + n, cap - n, "]");
}

static int resolve_fuse(elab *E, sw_doc *f, const sw_scope *s, item *it) {
    static const char *const fkeys[] = {"dim", "parts", "groups", NULL};
    SW_CHECK(need(E, f, SW_DOC_MAP, "'fuse'"));
    SW_CHECK(check_keys(E, f, fkeys, "fuse"));
    sw_doc *dim = sw_doc_get(f, "dim"), *parts = sw_doc_get(f, "parts"), *groups = sw_doc_get(f, "groups");
    if (!parts) return sw__err_at(E->err, SW_INPUT, f->loc, "a fuse needs 'parts'");
    SW_CHECK(need(E, parts, SW_DOC_SEQ, "'parts'"));
    if (parts->n == 0) return sw__err_at(E->err, SW_INPUT, parts->loc, "a fuse needs at least one part");
    if (parts->n > MAX_PARTS) return sw__err_at(E->err, SW_INPUT, parts->loc, "at most %d fuse parts", MAX_PARTS);
    it->fused = 1;
    it->nparts = (int)parts->n;
    for (size_t i = 0; i < parts->n; i++) SW_CHECK(resolve_src(E, parts->items[i], s, 1, NULL, &it->parts[i]));
    int64_t d = 0;
    if (dim) SW_CHECK(eval_int(E, dim, s, "fuse 'dim'", &d));
    const src *p0 = &it->parts[0];
    if (d < 0 || d >= p0->ndim)
        return sw__err_at(E->err, SW_INPUT, dim ? dim->loc : f->loc, "fuse dim %lld is out of range for parts of %d dims",
                          (long long)d, p0->ndim);
    it->dim = (int)d;
    it->ndim = p0->ndim;
    memcpy(it->shape, p0->shape, sizeof it->shape);
    it->shape[d] = 0;
    for (int i = 0; i < it->nparts; i++) {
        const src *p = &it->parts[i];
        int agree = p->ndim == p0->ndim;
        for (int k = 0; agree && k < p->ndim; k++)
            if (k != d && p->shape[k] != p0->shape[k]) agree = 0;
        if (!agree) {
            char a[128], b[128];
            shape_str(a, sizeof a, p->ndim, p->shape);
            shape_str(b, sizeof b, p0->ndim, p0->shape);
            return sw__err_at(E->err, SW_INPUT, p->node->loc,
                              "fuse part '%s' has shape %s, which disagrees with the first part's %s on a dim other "
                              "than the fused dim %d",
                              E->ir->tensors[p->tid].name, a, b, it->dim);
        }
        if (sw_add64(it->shape[d], p->shape[d], &it->shape[d]))
            return sw__err_at(E->err, SW_INPUT, p->node->loc, "fused dim too large");
    }
    if (groups) {
        SW_CHECK(eval_int_min(E, groups, s, "'groups'", 1, &it->groups));
        it->groups_node = groups;
        for (int i = 0; i < it->nparts; i++) {
            const src *p = &it->parts[i];
            if (p->unit)
                return sw__err_at(E->err, SW_INPUT, p->node->loc,
                                  "'unit' together with 'groups' is an error: a group-major fuse splits by groups");
            if (p->shape[d] % it->groups)
                return sw__err_at(E->err, SW_INPUT, groups->loc,
                                  "groups = %lld does not divide dim %d of fuse part '%s' (%lld)",
                                  (long long)it->groups, it->dim, E->ir->tensors[p->tid].name,
                                  (long long)p->shape[d]);
        }
    }
    for (int i = 0; i < it->nparts; i++) {
        const src *p = &it->parts[i];
        if (p->unit && p->shape[d] % p->unit)
            return sw__err_at(E->err, SW_INPUT, p->node->loc, "unit %lld does not divide dim %d of '%s' (%lld)",
                              (long long)p->unit, it->dim, E->ir->tensors[p->tid].name, (long long)p->shape[d]);
    }
    return SW_OK;
}

/* An item of a stack, or the body of a plain / fuse rule. */
static int resolve_item(elab *E, sw_doc *tensor, sw_doc *fuse, sw_doc *perm, const sw_scope *s, item *it) {
    memset(it, 0, offsetof(item, parts) + sizeof it->parts[0]);
    it->nparts = 1;
    if (fuse) return resolve_fuse(E, fuse, s, it);
    SW_CHECK(resolve_src(E, tensor, s, 0, perm, &it->parts[0]));
    it->ndim = it->parts[0].ndim;
    memcpy(it->shape, it->parts[0].shape, sizeof it->shape);
    it->dim = -1;
    return SW_OK;
}

static int same_structure(const item *a, const item *b) {
    if (a->nparts != b->nparts || a->ndim != b->ndim || a->dim != b->dim || a->groups != b->groups) return 0;
    for (int k = 0; k < a->ndim; k++)
        if (a->shape[k] != b->shape[k]) return 0;
    for (int i = 0; i < a->nparts; i++)
        if (a->parts[i].unit != b->parts[i].unit || a->parts[i].shape[a->dim >= 0 ? a->dim : 0] !=
                                                        b->parts[i].shape[a->dim >= 0 ? a->dim : 0] ||
            memcmp(a->parts[i].perm, b->parts[i].perm, sizeof a->parts[i].perm))
            return 0;
    return 1;
}

typedef struct rule_ctx {
    sw_doc *rule;
    item *it, *it2; /* scratch */
} rule_ctx;

static const char *axis_list(const sw_layout *L, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < L->naxes && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", L->axis[i]);
    return buf;
}

static int find_axis(elab *E, sw_doc *d, int *axis) {
    SW_CHECK(need(E, d, SW_DOC_SCALAR, "a mesh axis"));
    for (int i = 0; i < E->L->naxes; i++)
        if (!strcmp(E->L->axis[i], d->text)) {
            *axis = i;
            return SW_OK;
        }
    char buf[256];
    return sw__err_at(E->err, SW_INPUT, d->loc, "no axis '%s' in the mesh of layout '%s' (axes: %s)", d->text,
                      E->L->name, axis_list(E->L, buf, sizeof buf));
}

static int split_error(elab *E, sw_doc *at, const sw_inst *in, int d, const char *what, int64_t n) {
    const sw_dim *dm = &in->dims[d];
    char axes[128];
    size_t k = 0;
    axes[0] = '\0';
    for (int i = 0; i < dm->naxes && k < sizeof axes; i++)
        k += (size_t)snprintf(axes + k, sizeof axes - k, "%s%s=%lld", i ? " x " : "", E->L->axis[dm->axes[i]],
                              (long long)E->L->size[dm->axes[i]]);
    return sw__err_at(E->err, SW_INPUT, at->loc,
                      "dim %d of '%s' (%s %lld) does not split evenly over %s (%lld ranks); give `uneven: true` for "
                      "torch.chunk-style chunks",
                      d, in->name, what, (long long)n, axes, (long long)dm->T);
}

static int rule_body(elab *E, const sw_scope *s, void *vctx) {
    rule_ctx *C = vctx;
    sw_doc *r = C->rule;
    sw_layout *L = E->L;
    sw_doc *tensor = sw_doc_get(r, "tensor"), *fuse = sw_doc_get(r, "fuse"), *stack = sw_doc_get(r, "stack"),
           *as = sw_doc_get(r, "as"), *where = sw_doc_get(r, "where"), *split = sw_doc_get(r, "split"),
           *pad = sw_doc_get(r, "pad"), *perm = sw_doc_get(r, "perm"), *dtype = sw_doc_get(r, "dtype"),
           *uneven = sw_doc_get(r, "uneven");
    int nitems = 1;
    item *it = C->it;
    int stacked = stack != NULL;
    uint32_t *tids = NULL;

    if (stacked) {
        static const char *const skeys[] = {"over", "item", NULL};
        static const char *const ikeys[] = {"tensor", "fuse", "perm", NULL};
        if (perm)
            return sw__err_at(E->err, SW_INPUT, sw_doc_key(r, "perm")->loc,
                              "'perm' on a stack rule is an error: give it to the stack's item");
        SW_CHECK(need(E, stack, SW_DOC_MAP, "'stack'"));
        SW_CHECK(check_keys(E, stack, skeys, "stack"));
        sw_doc *over = sw_doc_get(stack, "over"), *itn = sw_doc_get(stack, "item");
        if (!over || !itn) return sw__err_at(E->err, SW_INPUT, stack->loc, "a stack needs 'over' and 'item'");
        SW_CHECK(need(E, over, SW_DOC_MAP, "'over'"));
        if (over->n != 1)
            return sw__err_at(E->err, SW_INPUT, over->loc, "'over' names exactly one variable, e.g. {e: experts}");
        SW_CHECK(need(E, itn, SW_DOC_MAP, "'item'"));
        SW_CHECK(check_keys(E, itn, ikeys, "a stack item"));
        sw_doc *itensor = sw_doc_get(itn, "tensor"), *ifuse = sw_doc_get(itn, "fuse"), *iperm = sw_doc_get(itn, "perm");
        if (!!itensor + !!ifuse != 1)
            return sw__err_at(E->err, SW_INPUT, itn->loc, "a stack item needs exactly one of 'tensor' or 'fuse'");
        const char *var = over->keys[0]->text;
        if (!is_ident(var)) return sw__err_at(E->err, SW_INPUT, over->keys[0]->loc, "'%s' is not a valid name", var);
        sw_doc *rn = over->vals[0];
        int64_t a = 0, b;
        if (rn->kind == SW_DOC_SEQ) {
            if (rn->n != 2) return sw__err_at(E->err, SW_INPUT, rn->loc, "a range is [first, end)");
            SW_CHECK(eval_int(E, rn->items[0], s, "a range start", &a));
            SW_CHECK(eval_int(E, rn->items[1], s, "a range end", &b));
        } else {
            SW_CHECK(eval_int(E, rn, s, "a stack count", &b));
        }
        if (b - a < 1) return sw__err_at(E->err, SW_INPUT, rn->loc, "a stack needs at least one item");
        if (b - a > 1 << 24) return sw__err_at(E->err, SW_INPUT, rn->loc, "too many stacked items");
        nitems = (int)(b - a);
        const char *vn[1] = {var};
        int64_t vv[1];
        sw_scope inner = {s, 1, vn, vv};
        for (int e = 0; e < nitems; e++) {
            vv[0] = a + e;
            item *cur = e == 0 ? it : C->it2;
            if (ifuse && iperm)
                return sw__err_at(E->err, SW_INPUT, sw_doc_key(itn, "perm")->loc,
                                  "'perm' on a fused item: give it to the fuse parts");
            SW_CHECK(resolve_item(E, itensor, ifuse, iperm, &inner, cur));
            if (e > 0 && !same_structure(it, cur)) {
                char x[128], y[128];
                shape_str(x, sizeof x, cur->ndim, cur->shape);
                shape_str(y, sizeof y, it->ndim, it->shape);
                return sw__err_at(E->err, SW_INPUT, itn->loc,
                                  "stacked items differ: item %s=%lld is %s but item %s=%lld is %s", var,
                                  (long long)(a + e), x, var, (long long)a, y);
            }
            if (!tids && !(tids = sw_arena_array(E->a, (size_t)nitems * (size_t)it->nparts, sizeof *tids)))
                return nomem(E);
            for (int p = 0; p < cur->nparts; p++) tids[(size_t)e * (size_t)it->nparts + (size_t)p] = cur->parts[p].tid;
        }
    } else {
        if (!!tensor + !!fuse != 1)
            return sw__err_at(E->err, SW_INPUT, r->loc, "a rule needs exactly one of 'tensor', 'fuse' or 'stack'");
        if (fuse && perm) {
            /* perm applies after fusion: resolve the fuse in its own order first */
            SW_CHECK(resolve_item(E, NULL, fuse, NULL, s, it));
        } else {
            SW_CHECK(resolve_item(E, tensor, fuse, perm, s, it));
        }
        if (!(tids = sw_arena_array(E->a, (size_t)it->nparts, sizeof *tids))) return nomem(E);
        for (int p = 0; p < it->nparts; p++) tids[p] = it->parts[p].tid;
    }
    if ((fuse || stacked) && !as)
        return sw__err_at(E->err, SW_INPUT, r->loc, "a %s rule needs 'as' (the local tensor's name)",
                          fuse ? "fuse" : "stack");

    /* the rule's perm on a fused item (for a plain tensor it is the part's own perm) */
    int8_t rp[SW_MAXDIM];
    for (int k = 0; k < SW_MAXDIM; k++) rp[k] = (int8_t)k;
    if (fuse && perm) SW_CHECK(parse_perm(E, perm, it->ndim, rp));

    /* the instance */
    if (SW_GROW(L->insts, E->cap_insts, L->ninsts + 1)) return nomem(E);
    sw_inst *in = &L->insts[L->ninsts];
    memset(in, 0, sizeof *in);
    if (as) SW_CHECK(eval_name(E, as, s, "'as'"));
    else SW_CHECK(eval_name(E, tensor, s, "a tensor name"));
    if (!(in->name = sw_arena_strdup(E->a, E->name))) return nomem(E);
    in->loc = as ? as->loc : tensor ? tensor->loc : r->loc;
    in->stacked = stacked;
    in->ndim = it->ndim + stacked;
    if (in->ndim > SW_MAXDIM)
        return sw__err_at(E->err, SW_INPUT, r->loc, "'%s' would have %d dims; at most %d are supported", in->name,
                          in->ndim, SW_MAXDIM);
    in->nitems = nitems;
    in->nparts = it->nparts;
    in->tensor = tids;
    in->groups = it->groups;
    in->fuse_dim = -1;
    if (!(in->parts = sw_arena_array(E->a, (size_t)it->nparts, sizeof *in->parts)) ||
        !(in->dims = sw_arena_array(E->a, (size_t)in->ndim, sizeof *in->dims)) ||
        !(in->where = sw_arena_array(E->a, (size_t)L->naxes, sizeof *in->where)))
        return nomem(E);
    for (int p = 0; p < it->nparts; p++) {
        sw_part *pt = &in->parts[p];
        for (int k = 0; k < it->ndim; k++) pt->perm[k] = it->parts[p].perm[rp[k]];
        pt->len = it->dim >= 0 ? it->parts[p].shape[it->dim] : 0;
        pt->unit = it->parts[p].unit;
        pt->loc = it->parts[p].node->loc;
    }
    if (stacked) {
        in->dims[0].full = in->dims[0].padded = nitems;
    }
    for (int k = 0; k < it->ndim; k++) {
        in->dims[k + stacked].full = in->dims[k + stacked].padded = it->shape[rp[k]];
        if (it->fused && rp[k] == it->dim) in->fuse_dim = k + stacked;
    }
    for (int d = 0; d < in->ndim; d++) in->dims[d].T = 1;

    /* dtype (rule 10) */
    if (dtype) {
        SW_CHECK(parse_dtype(E, dtype, &in->dtype));
    } else {
        in->dtype = E->ir->tensors[tids[0]].dtype;
        for (int p = 1; p < it->nparts; p++)
            if (E->ir->tensors[tids[p]].dtype != in->dtype)
                return sw__err_at(E->err, SW_INPUT, it->parts[p].node->loc,
                                  "fuse part '%s' is %s but the first part is %s: give the rule a 'dtype'",
                                  E->ir->tensors[tids[p]].name, sw_dtype_name(E->ir->tensors[tids[p]].dtype),
                                  sw_dtype_name(in->dtype));
    }
    if (uneven) SW_CHECK(parse_bool(E, uneven, "'uneven'", &in->uneven));

    /* where and split (rule 11: an axis at most once among them) */
    sw_doc *axis_used[SW_MAXAXES] = {0};
    for (int i = 0; i < L->naxes; i++) in->where[i] = -1;
    if (where) {
        SW_CHECK(need(E, where, SW_DOC_MAP, "'where'"));
        for (size_t i = 0; i < where->n; i++) {
            int ax;
            SW_CHECK(find_axis(E, where->keys[i], &ax));
            int64_t v;
            SW_CHECK(eval_int(E, where->vals[i], s, "a where value", &v));
            if (v < 0 || v >= L->size[ax])
                return sw__err_at(E->err, SW_INPUT, where->vals[i]->loc,
                                  "where %s = %lld is outside the mesh (%s has size %lld, coordinates 0..%lld)",
                                  L->axis[ax], (long long)v, L->axis[ax], (long long)L->size[ax],
                                  (long long)L->size[ax] - 1);
            in->where[ax] = v;
            axis_used[ax] = where->keys[i];
        }
    }
    sw_doc *split_at[SW_MAXDIM] = {0};
    if (split) {
        SW_CHECK(need(E, split, SW_DOC_MAP, "'split'"));
        for (size_t i = 0; i < split->n; i++) {
            int64_t d;
            SW_CHECK(eval_int(E, split->keys[i], s, "a split dim", &d));
            if (d < 0 || d >= in->ndim)
                return sw__err_at(E->err, SW_INPUT, split->keys[i]->loc,
                                  "split dim %lld is out of range: '%s' has %d dims", (long long)d, in->name,
                                  in->ndim);
            if (split_at[d])
                return sw__err_at(E->err, SW_INPUT, split->keys[i]->loc, "dim %lld is split twice", (long long)d);
            sw_doc *v = split->vals[i];
            split_at[d] = v;
            sw_dim *dm = &in->dims[d];
            size_t nax = v->kind == SW_DOC_SEQ ? v->n : 1;
            if (v->kind == SW_DOC_SEQ && v->n == 0)
                return sw__err_at(E->err, SW_INPUT, v->loc, "a split names at least one axis");
            for (size_t j = 0; j < nax; j++) {
                sw_doc *an = v->kind == SW_DOC_SEQ ? v->items[j] : v;
                int ax;
                SW_CHECK(find_axis(E, an, &ax));
                if (axis_used[ax])
                    return sw__err_at(E->err, SW_INPUT, an->loc,
                                      "axis '%s' is used twice in this rule (also at line %d, column %d)",
                                      L->axis[ax], axis_used[ax]->loc.line, axis_used[ax]->loc.col);
                axis_used[ax] = an;
                dm->axes[dm->naxes++] = (int8_t)ax;
                dm->T *= L->size[ax];
            }
        }
    }
    if (pad) {
        SW_CHECK(need(E, pad, SW_DOC_MAP, "'pad'"));
        for (size_t i = 0; i < pad->n; i++) {
            int64_t d, m;
            SW_CHECK(eval_int(E, pad->keys[i], s, "a pad dim", &d));
            if (d < 0 || d >= in->ndim)
                return sw__err_at(E->err, SW_INPUT, pad->keys[i]->loc, "pad dim %lld is out of range: '%s' has %d dims",
                                  (long long)d, in->name, in->ndim);
            if (d == in->fuse_dim || (stacked && d == 0))
                return sw__err_at(E->err, SW_INPUT, pad->keys[i]->loc, "pad on a %s dim is an error",
                                  d == in->fuse_dim ? "fused" : "stacked");
            SW_CHECK(eval_int_min(E, pad->vals[i], s, "a pad multiple", 1, &m));
            sw_dim *dm = &in->dims[d];
            int64_t q = (dm->full + m - 1) / m;
            if (sw_mul64(q, m, &dm->padded)) return sw__err_at(E->err, SW_INPUT, pad->vals[i]->loc, "pad too large");
        }
    }

    /* every split must be possible (rules 4, 6, 7) */
    for (int d = 0; d < in->ndim; d++) {
        sw_dim *dm = &in->dims[d];
        sw_doc *at = split_at[d];
        if (d == in->fuse_dim && in->groups > 0) {
            if (in->groups % dm->T)
                return sw__err_at(E->err, SW_INPUT, at->loc,
                                  "groups = %lld is not a multiple of the %lld ranks that split dim %d of '%s' "
                                  "(a group-major fuse splits whole groups; `uneven` does not relax this)",
                                  (long long)in->groups, (long long)dm->T, d, in->name);
            continue;
        }
        if (dm->T == 1 || in->uneven) continue;
        if (d == in->fuse_dim) {
            for (int p = 0; p < in->nparts; p++) {
                const sw_part *pt = &in->parts[p];
                const char *pn = E->ir->tensors[tids[p]].name;
                if (pt->unit) {
                    int64_t units = pt->len / pt->unit;
                    if ((units < dm->T && units > 0 && dm->T % units == 0) || units % dm->T == 0) continue;
                    return sw__err_at(E->err, SW_INPUT, at->loc,
                                      "fuse part '%s' has %lld units of %lld, which do not split evenly over %lld "
                                      "ranks nor replicate onto them (%lld %% units != 0); give `uneven: true` to "
                                      "chunk whole units",
                                      pn, (long long)units, (long long)pt->unit, (long long)dm->T, (long long)dm->T);
                }
                if (pt->len % dm->T) return split_error(E, at, in, d, pn, pt->len);
            }
        } else if (dm->padded % dm->T) {
            return split_error(E, at, in, d, stacked && d == 0 ? "items" : "size", dm->padded);
        }
    }
    L->ninsts++;
    return SW_OK;
}

static int elab_rule(elab *E, sw_doc *r) {
    static const char *const rkeys[] = {"tensor", "for", "let", "as", "where", "split", "uneven", "pad",
                                        "fuse", "stack", "perm", "dtype", NULL};
    SW_CHECK(need(E, r, SW_DOC_MAP, "a placement rule"));
    SW_CHECK(check_keys(E, r, rkeys, "a placement rule"));
    rule_ctx C = {r, malloc(sizeof(item)), malloc(sizeof(item))};
    int rc = (!C.it || !C.it2) ? nomem(E) : iterate(E, sw_doc_get(r, "for"), sw_doc_get(r, "let"), &E->mesh_scope, rule_body, &C);
    free(C.it);
    free(C.it2);
    return rc;
}

/* ---- duplicates: a local tensor name produced twice on one rank ------------------------- */

typedef struct dup_ent {
    const char *name;
    uint32_t idx;
} dup_ent;

static int cmp_dup(const void *a, const void *b) {
    const dup_ent *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

static int overlap(const sw_layout *L, const sw_inst *a, const sw_inst *b) {
    for (int i = 0; i < L->naxes; i++)
        if (a->where[i] >= 0 && b->where[i] >= 0 && a->where[i] != b->where[i]) return 0;
    return 1;
}

static int check_duplicates(elab *E, sw_layout *L) {
    if (L->ninsts < 2) return SW_OK;
    dup_ent *v = malloc(L->ninsts * sizeof *v);
    if (!v) return nomem(E);
    for (size_t i = 0; i < L->ninsts; i++) v[i] = (dup_ent){L->insts[i].name, (uint32_t)i};
    qsort(v, L->ninsts, sizeof *v, cmp_dup);
    int rc = SW_OK;
    size_t best_i = SIZE_MAX, best_j = 0;
    for (size_t s = 0; s < L->ninsts;) {
        size_t e = s + 1;
        while (e < L->ninsts && !strcmp(v[e].name, v[s].name)) e++;
        /* among instances with the same name, report the pair whose later one comes first */
        for (size_t j = s + 1; j < e; j++)
            for (size_t i = s; i < j; i++)
                if (overlap(L, &L->insts[v[i].idx], &L->insts[v[j].idx])) {
                    if (v[j].idx < best_i) {
                        best_i = v[j].idx;
                        best_j = v[i].idx;
                    }
                    break;
                }
        s = e;
    }
    if (best_i != SIZE_MAX) {
        const sw_inst *later = &L->insts[best_i], *first = &L->insts[best_j];
        int64_t coords[SW_MAXAXES];
        for (int i = 0; i < L->naxes; i++)
            coords[i] = later->where[i] >= 0 ? later->where[i] : first->where[i] >= 0 ? first->where[i] : 0;
        int64_t l = 0;
        for (int i = 0; i < L->naxes; i++) l += coords[i] * L->stride[i];
        rc = sw__err_at(E->err, SW_INPUT, later->loc,
                        "local tensor '%s' is produced twice on rank %lld of layout '%s' (first by the rule at line "
                        "%d)",
                        later->name, (long long)(L->first_rank + l), L->name, first->loc.line);
    }
    free(v);
    return rc;
}

/* ---- layouts --------------------------------------------------------------------------- */

static int elab_hosts(elab *E, sw_layout *L, sw_doc *h) {
    static const char *const hkeys[] = {"gpus_per_host", "rank_base", "devices", NULL};
    L->gpus_per_host = 8;
    L->hosts_mode = SW_HOSTS_DEFAULT;
    if (!h) return SW_OK;
    SW_CHECK(need(E, h, SW_DOC_MAP, "'hosts'"));
    SW_CHECK(check_keys(E, h, hkeys, "hosts"));
    sw_doc *g = sw_doc_get(h, "gpus_per_host"), *rb = sw_doc_get(h, "rank_base"),
           *dev = sw_doc_get(h, "devices");
    if (g) SW_CHECK(eval_int_min(E, g, &E->mesh_scope, "'gpus_per_host'", 1, &L->gpus_per_host));
    if (rb && dev) return sw__err_at(E->err, SW_INPUT, h->loc, "give 'rank_base' or 'devices', not both");
    if (rb) {
        L->hosts_mode = SW_HOSTS_RANK_BASE;
        SW_CHECK(eval_int_min(E, rb, &E->mesh_scope, "'rank_base'", 0, &L->rank_base));
    }
    if (dev) {
        SW_CHECK(need(E, dev, SW_DOC_SEQ, "'devices'"));
        if ((int64_t)dev->n != L->nranks)
            return sw__err_at(E->err, SW_INPUT, dev->loc, "'devices' lists %zu (host, device) pairs for %lld ranks",
                              dev->n, (long long)L->nranks);
        L->hosts_mode = SW_HOSTS_DEVICES;
        L->dev_host = sw_arena_array(E->a, dev->n, sizeof *L->dev_host);
        L->dev_index = sw_arena_array(E->a, dev->n, sizeof *L->dev_index);
        if (!L->dev_host || !L->dev_index) return nomem(E);
        for (size_t i = 0; i < dev->n; i++) {
            sw_doc *p = dev->items[i];
            if (p->kind != SW_DOC_SEQ || p->n != 2)
                return sw__err_at(E->err, SW_INPUT, p->loc, "a device is a [host, device] pair");
            SW_CHECK(eval_int_min(E, p->items[0], &E->mesh_scope, "a host index", 0, &L->dev_host[i]));
            SW_CHECK(eval_int_min(E, p->items[1], &E->mesh_scope, "a device index", 0, &L->dev_index[i]));
            if (L->dev_index[i] >= L->gpus_per_host)
                return sw__err_at(E->err, SW_INPUT, p->items[1]->loc, "device %lld on a host of %lld GPUs",
                                  (long long)L->dev_index[i], (long long)L->gpus_per_host);
        }
    }
    return SW_OK;
}

/* Elaborates one layout.  Its instances grow on malloc; sw_ir_free frees them, also
 * after an error (the layout is counted at once). */
static int elab_layout(elab *E, sw_doc *key, sw_doc *ln) {
    static const char *const lkeys[] = {"first_rank", "mesh", "hosts", "place", NULL};
    sw_ir *ir = E->ir;
    /* Counted at once, so that sw_ir_free frees its insts even when it fails. */
    sw_layout *L = &ir->layouts[ir->nlayouts++];
    memset(L, 0, sizeof *L);
    E->L = L;
    E->cap_insts = 0;
    L->name = key->text;
    L->loc = key->loc;
    SW_CHECK(need(E, ln, SW_DOC_MAP, "a layout"));
    SW_CHECK(check_keys(E, ln, lkeys, "a layout"));
    sw_doc *mesh = sw_doc_get(ln, "mesh"), *fr = sw_doc_get(ln, "first_rank"), *hosts = sw_doc_get(ln, "hosts"),
           *place = sw_doc_get(ln, "place");
    if (!mesh) return sw__err_at(E->err, SW_INPUT, ln->loc, "layout '%s' has no 'mesh'", L->name);
    SW_CHECK(need(E, mesh, SW_DOC_MAP, "'mesh'"));
    if (mesh->n == 0) return sw__err_at(E->err, SW_INPUT, mesh->loc, "a mesh needs at least one axis");
    if (mesh->n > SW_MAXAXES) return sw__err_at(E->err, SW_INPUT, mesh->loc, "at most %d mesh axes", SW_MAXAXES);
    L->naxes = (int)mesh->n;
    L->nranks = 1;
    for (int i = 0; i < L->naxes; i++) {
        L->axis[i] = mesh->keys[i]->text;
        if (!is_ident(L->axis[i]))
            return sw__err_at(E->err, SW_INPUT, mesh->keys[i]->loc, "'%s' is not a valid axis name", L->axis[i]);
        SW_CHECK(eval_int_min(E, mesh->vals[i], &E->model_scope, "a mesh axis size", 1, &L->size[i]));
        if (sw_mul64(L->nranks, L->size[i], &L->nranks) || L->nranks > ((int64_t)1 << 24))
            return sw__err_at(E->err, SW_INPUT, mesh->vals[i]->loc, "the mesh has too many ranks (at most %d)", 1 << 24);
        E->axis_names[i] = L->axis[i];
    }
    for (int i = L->naxes; i-- > 0;) L->stride[i] = i == L->naxes - 1 ? 1 : L->stride[i + 1] * L->size[i + 1];
    E->mesh_scope = (sw_scope){&E->model_scope, (size_t)L->naxes, E->axis_names, L->size};
    if (fr) SW_CHECK(eval_int_min(E, fr, &E->mesh_scope, "'first_rank'", 0, &L->first_rank));
    if (L->first_rank + L->nranks > ((int64_t)1 << 30))
        return sw__err_at(E->err, SW_INPUT, fr ? fr->loc : mesh->loc, "ranks beyond 2^30 are not supported");
    SW_CHECK(elab_hosts(E, L, hosts));
    if (place) {
        SW_CHECK(need(E, place, SW_DOC_SEQ, "'place'"));
        for (size_t i = 0; i < place->n; i++) SW_CHECK(elab_rule(E, place->items[i]));
    }
    SW_CHECK(check_duplicates(E, L));
    return SW_OK;
}

/* Rule 3: a global rank in two layouts sits on one (host, device). */
static int check_shared_ranks(elab *E) {
    sw_ir *ir = E->ir;
    for (size_t j = 1; j < ir->nlayouts; j++)
        for (size_t i = 0; i < j; i++) {
            const sw_layout *A = &ir->layouts[i], *B = &ir->layouts[j];
            int64_t lo = A->first_rank > B->first_rank ? A->first_rank : B->first_rank;
            int64_t hi = A->first_rank + A->nranks < B->first_rank + B->nranks ? A->first_rank + A->nranks
                                                                                 : B->first_rank + B->nranks;
            for (int64_t g = lo; g < hi; g++) {
                int64_t ha, da, hb, db;
                sw_layout_place(A, g - A->first_rank, &ha, &da);
                sw_layout_place(B, g - B->first_rank, &hb, &db);
                if (ha != hb || da != db)
                    return sw__err_at(E->err, SW_INPUT, B->loc,
                                      "rank %lld is in layouts '%s' and '%s' but on different devices: (host %lld, "
                                      "device %lld) and (host %lld, device %lld)",
                                      (long long)g, A->name, B->name, (long long)ha, (long long)da, (long long)hb,
                                      (long long)db);
            }
        }
    return SW_OK;
}

/* ---- syncs and topology ------------------------------------------------------------------ */

static int layout_ref(elab *E, sw_doc *d, const char *what, int *out) {
    SW_CHECK(need(E, d, SW_DOC_SCALAR, what));
    *out = sw_ir_layout(E->ir, d->text);
    if (*out < 0) return sw__err_at(E->err, SW_INPUT, d->loc, "no layout named '%s'", d->text);
    return SW_OK;
}

static int elab_syncs(elab *E, sw_doc *syncs, sw_doc *layouts_key) {
    static const char *const skeys[] = {"name", "from", "to", "skip", "bucket", NULL};
    sw_ir *ir = E->ir;
    if (!syncs) {
        if (ir->nlayouts != 2) return SW_OK;
        if (!(ir->syncs = sw_arena_alloc(E->a, sizeof *ir->syncs))) return nomem(E);
        sw_syncdef *s = &ir->syncs[0];
        s->name = "default";
        s->loc = ir->layouts[1].loc;
        s->from = 0;
        s->to = 1;
        s->bucket = SW_DEFAULT_BUCKET;
        if (!(s->skip = sw_arena_array(E->a, ir->ntensors, 1))) return nomem(E);
        ir->nsyncs = 1;
        ir->implicit_sync = 1;
        (void)layouts_key;
        return SW_OK;
    }
    SW_CHECK(need(E, syncs, SW_DOC_SEQ, "'syncs'"));
    if (!(ir->syncs = sw_arena_array(E->a, syncs->n, sizeof *ir->syncs))) return nomem(E);
    for (size_t i = 0; i < syncs->n; i++) {
        sw_doc *sn = syncs->items[i];
        SW_CHECK(need(E, sn, SW_DOC_MAP, "a sync"));
        SW_CHECK(check_keys(E, sn, skeys, "a sync"));
        sw_syncdef *s = &ir->syncs[ir->nsyncs];
        sw_doc *name = sw_doc_get(sn, "name"), *from = sw_doc_get(sn, "from"), *to = sw_doc_get(sn, "to"),
               *skip = sw_doc_get(sn, "skip"), *bucket = sw_doc_get(sn, "bucket");
        if (!name || !from || !to) return sw__err_at(E->err, SW_INPUT, sn->loc, "a sync needs 'name', 'from' and 'to'");
        SW_CHECK(need(E, name, SW_DOC_SCALAR, "a sync name"));
        s->name = name->text;
        s->loc = sn->loc;
        if (sw_ir_sync(ir, s->name) >= 0)
            return sw__err_at(E->err, SW_INPUT, name->loc, "two syncs are named '%s'", s->name);
        SW_CHECK(layout_ref(E, from, "'from'", &s->from));
        SW_CHECK(layout_ref(E, to, "'to'", &s->to));
        if (s->from == s->to) return sw__err_at(E->err, SW_INPUT, to->loc, "a sync from a layout to itself");
        s->bucket = SW_DEFAULT_BUCKET;
        if (bucket) {
            double b;
            SW_CHECK(parse_quantity(E, bucket, 's', "bucket size", &b));
            if (b < 1 || b > 9e18) return sw__err_at(E->err, SW_INPUT, bucket->loc, "bucket size out of range");
            s->bucket = (int64_t)b;
        }
        if (!(s->skip = sw_arena_array(E->a, ir->ntensors, 1))) return nomem(E);
        if (skip) {
            SW_CHECK(need(E, skip, SW_DOC_SEQ, "'skip'"));
            for (size_t k = 0; k < skip->n; k++) {
                SW_CHECK(eval_name(E, skip->items[k], &E->model_scope, "a skipped tensor"));
                uint32_t id;
                if (!sw_strmap_get(&ir->tensor_index, E->name, &id))
                    return sw__err_at(E->err, SW_INPUT, skip->items[k]->loc,
                                      "skip names '%s', which is not a logical tensor of the model", E->name);
                if (!s->skip[id]) s->nskip++;
                s->skip[id] = 1;
            }
        }
        ir->nsyncs++;
    }
    return SW_OK;
}

static int elab_topology(elab *E, sw_doc *t) {
    static const char *const tkeys[] = {"links", "gpus_per_nic", NULL};
    static const char *const lkeys[] = {"device", "host", "network", NULL};
    static const char *const kkeys[] = {"bandwidth", "latency", NULL};
    sw_topology *T = &E->ir->topo;
    T->link[SW_LINK_DEVICE] = (sw_link){1500e9, 2e-6};
    T->link[SW_LINK_HOST] = (sw_link){450e9, 3e-6};
    T->link[SW_LINK_NETWORK] = (sw_link){50e9, 10e-6};
    T->gpus_per_nic = 1;
    if (!t) return SW_OK;
    SW_CHECK(need(E, t, SW_DOC_MAP, "'topology'"));
    SW_CHECK(check_keys(E, t, tkeys, "topology"));
    sw_doc *links = sw_doc_get(t, "links"), *gpn = sw_doc_get(t, "gpus_per_nic");
    if (gpn) SW_CHECK(eval_int_min(E, gpn, &E->model_scope, "'gpus_per_nic'", 1, &T->gpus_per_nic));
    if (!links) return SW_OK;
    SW_CHECK(need(E, links, SW_DOC_MAP, "'links'"));
    SW_CHECK(check_keys(E, links, lkeys, "links"));
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        sw_doc *l = sw_doc_get(links, lkeys[c]);
        if (!l) continue;
        SW_CHECK(need(E, l, SW_DOC_MAP, "a link"));
        SW_CHECK(check_keys(E, l, kkeys, "a link"));
        sw_doc *bw = sw_doc_get(l, "bandwidth"), *lat = sw_doc_get(l, "latency");
        if (bw) {
            SW_CHECK(parse_quantity(E, bw, 'b', "bandwidth", &T->link[c].bandwidth));
            if (T->link[c].bandwidth <= 0) return sw__err_at(E->err, SW_INPUT, bw->loc, "bandwidth must be positive");
        }
        if (lat) SW_CHECK(parse_quantity(E, lat, 't', "latency", &T->link[c].latency));
    }
    return SW_OK;
}

/* ---- the file --------------------------------------------------------------------------- */

int sw_elaborate(const sw_doc *croot, const char *path, const sw_load_opts *opts, sw_ir *ir, sw_error *err) {
    static const char *const rkeys[] = {"shardwave", "model", "layouts", "syncs", "topology", NULL};
    sw_doc *root = (sw_doc *)croot; /* elaboration caches compiled expressions in the tree */
    elab *E = calloc(1, sizeof *E);
    if (!E) return sw__err(err, SW_NOMEM, "out of memory");
    int rc = SW_OK;
    E->ir = ir;
    E->a = &ir->arena;
    E->err = err;
    E->path = path;
    E->opts = opts;
    ir->path = path;
    SW_CHECK_GOTO(need(E, root, SW_DOC_MAP, "a layout file"), rc, out);
    SW_CHECK_GOTO(check_keys(E, root, rkeys, "the file"), rc, out);
    sw_doc *ver = sw_doc_get(root, "shardwave");
    if (!ver) {
        rc = sw__err_at(err, SW_INPUT, root->loc, "missing 'shardwave: 1' (the format version) at the top of the file");
        goto out;
    }
    if (ver->kind != SW_DOC_SCALAR || ver->style != SW_DOC_PLAIN || strcmp(ver->text, "1")) {
        rc = sw__err_at(err, SW_INPUT, ver->loc, "unsupported format version '%s': this shardwave reads version 1",
                        ver->kind == SW_DOC_SCALAR ? ver->text : sw_doc_kind_name(ver->kind));
        goto out;
    }
    sw_doc *model = sw_doc_get(root, "model"), *layouts = sw_doc_get(root, "layouts");
    if (!model) {
        rc = sw__err_at(err, SW_INPUT, root->loc, "missing 'model'");
        goto out;
    }
    SW_CHECK_GOTO(elab_model(E, model), rc, out);
    if (!layouts) {
        rc = sw__err_at(err, SW_INPUT, root->loc, "missing 'layouts'");
        goto out;
    }
    SW_CHECK_GOTO(need(E, layouts, SW_DOC_MAP, "'layouts'"), rc, out);
    if (!(ir->layouts = sw_arena_array(E->a, layouts->n, sizeof *ir->layouts))) {
        rc = nomem(E);
        goto out;
    }
    for (size_t i = 0; i < layouts->n; i++) SW_CHECK_GOTO(elab_layout(E, layouts->keys[i], layouts->vals[i]), rc, out);
    SW_CHECK_GOTO(check_shared_ranks(E), rc, out);
    SW_CHECK_GOTO(elab_syncs(E, sw_doc_get(root, "syncs"), sw_doc_key(root, "layouts")), rc, out);
    SW_CHECK_GOTO(elab_topology(E, sw_doc_get(root, "topology")), rc, out);
out:
    free(E);
    return rc;
}

int sw_is_dsl(const char *path, const char *text, size_t len) {
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && strchr(dot, '/')) dot = NULL;
    if (dot && !strcmp(dot, ".sw")) return 1;
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml"))) return 0;
    return sw_dsl_sniff(text, len);
}

int sw_load_text(const char *path, const char *text, size_t len, const sw_load_opts *opts, sw_ir *ir,
                 sw_error *err) {
    memset(ir, 0, sizeof *ir);
    sw_arena_init(&ir->arena);
    sw_doc *root;
    int rc = sw_is_dsl(path, text, len) ? sw_dsl_load(&ir->arena, path, text, len, &root, err)
                                        : sw_yaml_load(&ir->arena, path, text, len, &root, err);
    if (!rc) rc = sw_elaborate(root, path, opts, ir, err);
    if (!rc) rc = sw_check_coverage(ir, err);
    if (rc) sw_ir_free(ir);
    return rc;
}

int sw_load_file(const char *path, const sw_load_opts *opts, sw_ir *ir, sw_error *err) {
    memset(ir, 0, sizeof *ir);
    FILE *f = fopen(path, "rb");
    if (!f) return sw__err(err, SW_IO, "cannot open '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (SW_GROW(buf, cap, len + 65536)) {
            fclose(f);
            free(buf);
            return sw__err(err, SW_NOMEM, "out of memory reading '%s'", path);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return sw__err(err, SW_IO, "cannot read '%s'", path);
    }
    int rc = sw_load_text(path, buf, len, opts, ir, err);
    free(buf);
    return rc;
}
