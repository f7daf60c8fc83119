/*
 * elab.c - the document tree to IR (see elab.h and the layout language spec): the model,
 * layouts, syncs and topology, and the helpers elaboration shares (elab_int.h).  The
 * placement rules are elab_rule.c.
 *
 * Every check reports at the node the spec's rule 17 names: the offending value (a let
 * value, a shape entry, a split entry, a name template, a fuse part, groups), an unknown
 * key at the key, a duplicate local tensor at the later rule's `as` (else `tensor`).
 */
#include "elab_int.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

/* ---- small helpers ------------------------------------------------------------------ */

int sw__elab_nomem(elab *E) { return sw__err(E->err, SW_NOMEM, "out of memory while elaborating %s", E->path); }

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

int sw__elab_is_ident(const char *s) {
    if (!(isalpha((unsigned char)*s) || *s == '_')) return 0;
    for (s++; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return 0;
    return 1;
}

int sw__elab_need(elab *E, const sw_doc *d, sw_doc_kind k, const char *what) {
    if (d->kind == k && !(k == SW_DOC_SCALAR && is_null(d))) return SW_OK;
    if (is_null(d)) return sw__err_at(E->err, SW_INPUT, d->loc, "%s has no value: expected %s", what, sw_doc_kind_name(k));
    return sw__err_at(E->err, SW_INPUT, d->loc, "%s must be %s, not %s", what, sw_doc_kind_name(k),
                      sw_doc_kind_name(d->kind));
}

/* Unknown keys are errors, at the key. allowed is NULL-terminated. */
int sw__elab_check_keys(elab *E, const sw_doc *map, const char *const *allowed, const char *what) {
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
int sw__elab_eval_int(elab *E, sw_doc *d, const sw_scope *s, const char *what, int64_t *out) {
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

int sw__elab_eval_int_min(elab *E, sw_doc *d, const sw_scope *s, const char *what, int64_t min, int64_t *out) {
    SW_CHECK(sw__elab_eval_int(E, d, s, what, out));
    if (*out < min)
        return sw__err_at(E->err, SW_INPUT, d->loc, "%s must be at least %lld, got %lld", what, (long long)min,
                          (long long)*out);
    return SW_OK;
}

/* Expands a name template node into E->name. */
int sw__elab_eval_name(elab *E, sw_doc *d, const sw_scope *s, const char *what) {
    SW_CHECK(sw__elab_need(E, d, SW_DOC_SCALAR, what));
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

int sw__elab_parse_dtype(elab *E, sw_doc *d, sw_dtype *out) {
    SW_CHECK(sw__elab_need(E, d, SW_DOC_SCALAR, "dtype"));
    if (sw_dtype_parse(d->text, out))
        return sw__err_at(E->err, SW_INPUT, d->loc,
                          "unknown dtype '%s' (known: bf16, fp16, fp32, fp64, fp8_e4m3, fp8_e5m2, int8, uint8, int32, "
                          "int64)",
                          d->text);
    return SW_OK;
}

int sw__elab_parse_bool(elab *E, sw_doc *d, const char *what, int *out) {
    if (d->kind == SW_DOC_SCALAR && is_bool(d)) {
        *out = d->text[0] == 't' || d->text[0] == 'T';
        return SW_OK;
    }
    return sw__err_at(E->err, SW_INPUT, d->loc, "%s must be true or false", what);
}

/* "256MiB", "50GB/s", "2us", "1.5 GB" (base/units.h).  kind: 's' size, 'b' bandwidth,
 * 't' time. */
static int parse_quantity(elab *E, sw_doc *d, int kind, const char *what, double *out) {
    SW_CHECK(sw__elab_need(E, d, SW_DOC_SCALAR, what));
    if (!sw_parse_quantity(d->text, (sw_unit_kind)kind, out)) return SW_OK;
    return sw__err_at(E->err, SW_INPUT, d->loc, "bad %s '%s' (write e.g. %s)", what, d->text,
                      kind == 't' ? "2us, 1.5ms or 0.01s" : kind == 'b' ? "50GB/s or 400Gb... in B/s: 50GB/s"
                                                                         : "256MiB or 1GiB");
}

/* ---- iteration: for / let ---------------------------------------------------------- */

typedef int (*sw__elab_body_fn)(elab *E, const sw_scope *s, void *ctx);

typedef struct iter {
    elab *E;
    sw_doc *forn, *letn;
    const sw_scope *outer;
    sw__elab_body_fn fn;
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
                SW_CHECK(sw__elab_eval_int(E, I->letn->vals[j], &loop_scope, "a let value", &I->lvals[j]));
                let_scope.n = j + 1;
            }
        if (++E->total_insts > (size_t)SW_MAX_INSTANCES) {
            sw_loc none = {0};
            return sw__err_at(E->err, SW_INPUT, I->forn ? I->forn->loc : none,
                              "more than %lld instances in all (every iteration of every 'for'; the input limit)",
                              SW_MAX_INSTANCES);
        }
        return I->fn(E, &loop_scope, I->ctx);
    }
    sw_scope range_scope = {&I->static_scope, (size_t)k, I->vnames, I->vvals};
    sw_doc *r = I->forn->vals[k];
    int64_t a = 0, b;
    if (r->kind == SW_DOC_SEQ) {
        if (r->n != 2)
            return sw__err_at(E->err, SW_INPUT, r->loc, "a range is [first, end) with two entries, got %zu", r->n);
        SW_CHECK(sw__elab_eval_int(E, r->items[0], &range_scope, "a range start", &a));
        SW_CHECK(sw__elab_eval_int(E, r->items[1], &range_scope, "a range end", &b));
    } else {
        SW_CHECK(sw__elab_eval_int(E, r, &range_scope, "a loop count", &b));
    }
    if (b < a)
        return sw__err_at(E->err, SW_INPUT, r->loc, "negative count: '%s' ranges over %lld .. %lld",
                          I->vnames[k], (long long)a, (long long)(b - 1));
    /* refused before it is iterated: each value is at least one more instance */
    if ((uint64_t)b - (uint64_t)a > (uint64_t)SW_MAX_INSTANCES - E->total_insts)
        return sw__err_at(E->err, SW_INPUT, r->loc,
                          "'%s' ranges over %llu values: more than the %lld instances allowed in all (the input limit)",
                          I->vnames[k], (unsigned long long)((uint64_t)b - (uint64_t)a), SW_MAX_INSTANCES);
    for (int64_t v = a; v < b; v++) {
        I->vvals[k] = v;
        SW_CHECK(iter_rec(I, k + 1));
    }
    return SW_OK;
}

/* Refuses a `for` whose ranges, when none depends on a loop variable, multiply to more
 * instances than the limit leaves, before anything is built (a range that depends on an
 * earlier variable is checked when it is reached, in iter_rec). */
static int estimate(iter *I) {
    elab *E = I->E;
    uint64_t total = 1;
    for (size_t k = 0; k < I->forn->n; k++) {
        sw_doc *r = I->forn->vals[k];
        int64_t a = 0, b = 0;
        int ok = r->kind == SW_DOC_SEQ
                     ? r->n == 2 && sw__elab_eval_int(E, r->items[0], &I->static_scope, "a range start", &a) == SW_OK &&
                           sw__elab_eval_int(E, r->items[1], &I->static_scope, "a range end", &b) == SW_OK
                     : sw__elab_eval_int(E, r, &I->static_scope, "a loop count", &b) == SW_OK;
        if (!ok) {
            int nomem = E->err && E->err->status == SW_NOMEM;
            sw__err_clear(E->err);
            return nomem ? SW_NOMEM : SW_OK; /* depends on a loop variable (or is wrong: said when iterated) */
        }
        if (b <= a) return SW_OK;
        uint64_t n = (uint64_t)b - (uint64_t)a;
        uint64_t want = n > (uint64_t)SW_MAX_INSTANCES ? n : total * n;
        if (want > (uint64_t)SW_MAX_INSTANCES - E->total_insts)
            return sw__err_at(E->err, SW_INPUT, I->forn->loc,
                              "this 'for' runs %s%llu iterations; at most %lld instances are allowed in all (the "
                              "input limit)",
                              k + 1 < I->forn->n ? "at least " : "", (unsigned long long)want, SW_MAX_INSTANCES);
        total = want;
    }
    return SW_OK;
}

/* Runs fn once per iteration of `for` (cartesian, first variable outermost), with the
 * rule's `let` evaluated per iteration.  Ranges may use the let entries that do not
 * depend on loop variables. */
int sw__elab_iterate(elab *E, sw_doc *forn, sw_doc *letn, const sw_scope *outer, sw__elab_body_fn fn, void *ctx) {
    iter *I = calloc(1, sizeof *I);
    if (!I) return sw__elab_nomem(E);
    int rc = SW_OK;
    I->E = E;
    I->forn = forn;
    I->letn = letn;
    I->outer = outer;
    I->fn = fn;
    I->ctx = ctx;
    if (forn) {
        SW_CHECK_GOTO(sw__elab_need(E, forn, SW_DOC_MAP, "'for'"), rc, out);
        if (forn->n > MAX_VARS) {
            rc = sw__err_at(E->err, SW_INPUT, forn->loc, "at most %d loop variables", MAX_VARS);
            goto out;
        }
        for (size_t i = 0; i < forn->n; i++) {
            if (!sw__elab_is_ident(forn->keys[i]->text)) {
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
        SW_CHECK_GOTO(sw__elab_need(E, letn, SW_DOC_MAP, "'let'"), rc, out);
        if (letn->n > MAX_LETS) {
            rc = sw__err_at(E->err, SW_INPUT, letn->loc, "at most %d let entries", MAX_LETS);
            goto out;
        }
        for (size_t j = 0; j < letn->n; j++) {
            if (!sw__elab_is_ident(letn->keys[j]->text)) {
                rc = sw__err_at(E->err, SW_INPUT, letn->keys[j]->loc, "'%s' is not a valid name",
                                letn->keys[j]->text);
                goto out;
            }
            /* entries that do not depend on loop variables are visible to the ranges */
            int64_t v;
            if (sw__elab_eval_int(E, letn->vals[j], &I->static_scope, "a let value", &v) == SW_OK) {
                I->snames[I->static_scope.n] = letn->keys[j]->text;
                I->svals[I->static_scope.n++] = v;
            } else if (E->err && E->err->status == SW_NOMEM) {
                rc = SW_NOMEM;
                goto out;
            }
        }
        sw__err_clear(E->err);
    }
    if (forn) SW_CHECK_GOTO(estimate(I), rc, out);
    rc = iter_rec(I, 0);
out:
    free(I);
    return rc;
}

/* ---- model ------------------------------------------------------------------------------ */
/* ---- model ------------------------------------------------------------------------------ */

static int model_tensor(elab *E, const sw_scope *s, void *ctx) {
    sw_doc *tn = ctx;
    sw_doc *name = sw_doc_get(tn, "name"), *shape = sw_doc_get(tn, "shape"), *dt = sw_doc_get(tn, "dtype");
    SW_CHECK(sw__elab_eval_name(E, name, s, "a tensor name"));
    sw_ir *ir = E->ir;
    if (ir->ntensors >= (size_t)SW_MAX_TENSORS)
        return sw__err_at(E->err, SW_INPUT, name->loc, "more than %lld logical tensors (the input limit)",
                          SW_MAX_TENSORS);
    if (SW_GROW(ir->tensors, E->cap_tensors, ir->ntensors + 1)) return sw__elab_nomem(E);
    sw_tensor *t = &ir->tensors[ir->ntensors];
    memset(t, 0, sizeof *t);
    if (!(t->name = sw_arena_strdup(E->a, E->name))) return sw__elab_nomem(E);
    t->loc = name->loc;
    t->dtype = ir->dtype;
    if (dt) SW_CHECK(sw__elab_parse_dtype(E, dt, &t->dtype));
    SW_CHECK(sw__elab_need(E, shape, SW_DOC_SEQ, "'shape'"));
    if (shape->n > SW_MAXDIM)
        return sw__err_at(E->err, SW_INPUT, shape->loc, "'%s' has %zu dims; at most %d are supported", t->name,
                          shape->n, SW_MAXDIM);
    t->ndim = (int)shape->n;
    for (size_t i = 0; i < shape->n; i++)
        SW_CHECK(sw__elab_eval_int_min(E, shape->items[i], s, "a shape entry", 0, &t->shape[i]));
    int64_t bytes = sw_dtype_size(t->dtype);
    for (int d = 0; d < t->ndim; d++)
        if (sw_mul64(bytes, t->shape[d] ? t->shape[d] : 1, &bytes))
            return sw__err_at(E->err, SW_INPUT, shape->loc, "'%s' is too large: more than 2^63 bytes", t->name);
    if (sw_add64(ir->model_bytes, bytes, &ir->model_bytes))
        return sw__err_at(E->err, SW_INPUT, name->loc,
                          "the model's tensors hold more than 2^63 bytes with '%s' (sizes must stay below 2^63)",
                          t->name);
    uint32_t old;
    int r = sw_strmap_put(&ir->tensor_index, t->name, (uint32_t)ir->ntensors, &old);
    if (r < 0) return sw__elab_nomem(E);
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
    SW_CHECK(sw__elab_need(E, m, SW_DOC_MAP, "'model'"));
    SW_CHECK(sw__elab_check_keys(E, m, keys, "model"));
    sw_doc *n = sw_doc_get(m, "name"), *dt = sw_doc_get(m, "dtype"), *let = sw_doc_get(m, "let"),
           *tensors = sw_doc_get(m, "tensors");
    ir->model_name = "model";
    if (n) {
        SW_CHECK(sw__elab_need(E, n, SW_DOC_SCALAR, "'name'"));
        ir->model_name = n->text;
    }
    ir->dtype = SW_DT_BF16;
    if (dt) SW_CHECK(sw__elab_parse_dtype(E, dt, &ir->dtype));
    E->model_scope.names = E->let_names;
    E->model_scope.vals = E->let_vals;
    size_t ndef = E->opts ? E->opts->ndefines : 0;
    if (let) {
        SW_CHECK(sw__elab_need(E, let, SW_DOC_MAP, "'let'"));
        if (let->n > MAX_LETS) return sw__err_at(E->err, SW_INPUT, let->loc, "at most %d let entries", MAX_LETS);
        for (size_t i = 0; i < let->n; i++) {
            const char *k = let->keys[i]->text;
            if (!sw__elab_is_ident(k)) return sw__err_at(E->err, SW_INPUT, let->keys[i]->loc, "'%s' is not a valid name", k);
            int64_t v;
            size_t j;
            for (j = 0; j < ndef; j++)
                if (!strcmp(E->opts->defines[j].name, k)) break;
            if (j < ndef) v = E->opts->defines[j].value; /* -D: the input's expression is not evaluated */
            else SW_CHECK(sw__elab_eval_int(E, let->vals[i], &E->model_scope, "a let value", &v));
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
    SW_CHECK(sw__elab_need(E, tensors, SW_DOC_SEQ, "'tensors'"));
    for (size_t i = 0; i < tensors->n; i++) {
        sw_doc *t = tensors->items[i];
        SW_CHECK(sw__elab_need(E, t, SW_DOC_MAP, "a tensor"));
        SW_CHECK(sw__elab_check_keys(E, t, tkeys, "a tensor"));
        if (!sw_doc_get(t, "name")) return sw__err_at(E->err, SW_INPUT, t->loc, "a tensor needs a 'name'");
        if (!sw_doc_get(t, "shape")) return sw__err_at(E->err, SW_INPUT, t->loc, "a tensor needs a 'shape'");
        SW_CHECK(sw__elab_iterate(E, sw_doc_get(t, "for"), sw_doc_get(t, "let"), &E->model_scope, model_tensor, t));
    }
    return SW_OK;
}

/* ---- layouts --------------------------------------------------------------------------- */

static int elab_hosts(elab *E, sw_layout *L, sw_doc *h) {
    static const char *const hkeys[] = {"gpus_per_host", "rank_base", "devices", NULL};
    L->gpus_per_host = 8;
    L->hosts_mode = SW_HOSTS_DEFAULT;
    if (!h) return SW_OK;
    SW_CHECK(sw__elab_need(E, h, SW_DOC_MAP, "'hosts'"));
    SW_CHECK(sw__elab_check_keys(E, h, hkeys, "hosts"));
    sw_doc *g = sw_doc_get(h, "gpus_per_host"), *rb = sw_doc_get(h, "rank_base"),
           *dev = sw_doc_get(h, "devices");
    if (g) SW_CHECK(sw__elab_eval_int_min(E, g, &E->mesh_scope, "'gpus_per_host'", 1, &L->gpus_per_host));
    if (rb && dev) return sw__err_at(E->err, SW_INPUT, h->loc, "give 'rank_base' or 'devices', not both");
    if (rb) {
        L->hosts_mode = SW_HOSTS_RANK_BASE;
        SW_CHECK(sw__elab_eval_int_min(E, rb, &E->mesh_scope, "'rank_base'", 0, &L->rank_base));
    }
    if (dev) {
        SW_CHECK(sw__elab_need(E, dev, SW_DOC_SEQ, "'devices'"));
        if ((int64_t)dev->n != L->nranks)
            return sw__err_at(E->err, SW_INPUT, dev->loc, "'devices' lists %zu (host, device) pairs for %lld ranks",
                              dev->n, (long long)L->nranks);
        L->hosts_mode = SW_HOSTS_DEVICES;
        L->dev_host = sw_arena_array(E->a, dev->n, sizeof *L->dev_host);
        L->dev_index = sw_arena_array(E->a, dev->n, sizeof *L->dev_index);
        if (!L->dev_host || !L->dev_index) return sw__elab_nomem(E);
        for (size_t i = 0; i < dev->n; i++) {
            sw_doc *p = dev->items[i];
            if (p->kind != SW_DOC_SEQ || p->n != 2)
                return sw__err_at(E->err, SW_INPUT, p->loc, "a device is a [host, device] pair");
            SW_CHECK(sw__elab_eval_int_min(E, p->items[0], &E->mesh_scope, "a host index", 0, &L->dev_host[i]));
            SW_CHECK(sw__elab_eval_int_min(E, p->items[1], &E->mesh_scope, "a device index", 0, &L->dev_index[i]));
            if (L->dev_index[i] >= L->gpus_per_host)
                return sw__err_at(E->err, SW_INPUT, p->items[1]->loc, "device %lld on a host of %lld GPUs",
                                  (long long)L->dev_index[i], (long long)L->gpus_per_host);
        }
    }
    return SW_OK;
}

/* The local tensors of a layout over all its ranks, from the instances alone (an instance
 * is on every rank whose coordinates match its `where`): refused beyond the limit before
 * anything is built per rank.  Reported at the rule that crosses it. */
static int count_locals(elab *E, const sw_layout *L) {
    int64_t total = 0, bytes = 0;
    for (size_t i = 0; i < L->ninsts; i++) {
        const sw_inst *in = &L->insts[i];
        int64_t n = L->nranks;
        for (int a = 0; a < L->naxes; a++)
            if (in->where[a] >= 0) n /= L->size[a];
        total += n;
        if (total > SW_MAX_LOCALS)
            return sw__err_at(E->err, SW_INPUT, in->loc,
                              "layout '%s' has more than %lld local tensors over its %lld ranks from here on (the "
                              "input limit)",
                              L->name, SW_MAX_LOCALS, (long long)L->nranks);
        /* the bytes of the layout over all its ranks fit in int64 (each rank's local is at
         * most the unsplit padded tensor; the rule checked that product) */
        int64_t b = sw_dtype_size(in->dtype);
        for (int d = 0; d < in->ndim; d++) {
            const sw_dim *dm = &in->dims[d];
            int64_t per = dm->padded / dm->T + (dm->padded % dm->T != 0);
            b *= per ? per : 1;
        }
        if (sw_mul64(b, n, &b) || sw_add64(bytes, b, &bytes))
            return sw__err_at(E->err, SW_INPUT, in->loc,
                              "layout '%s' would hold more than 2^63 bytes over its ranks from here on", L->name);
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
    SW_CHECK(sw__elab_need(E, ln, SW_DOC_MAP, "a layout"));
    SW_CHECK(sw__elab_check_keys(E, ln, lkeys, "a layout"));
    sw_doc *mesh = sw_doc_get(ln, "mesh"), *fr = sw_doc_get(ln, "first_rank"), *hosts = sw_doc_get(ln, "hosts"),
           *place = sw_doc_get(ln, "place");
    if (!mesh) return sw__err_at(E->err, SW_INPUT, ln->loc, "layout '%s' has no 'mesh'", L->name);
    SW_CHECK(sw__elab_need(E, mesh, SW_DOC_MAP, "'mesh'"));
    if (mesh->n == 0) return sw__err_at(E->err, SW_INPUT, mesh->loc, "a mesh needs at least one axis");
    if (mesh->n > SW_MAXAXES) return sw__err_at(E->err, SW_INPUT, mesh->loc, "at most %d mesh axes", SW_MAXAXES);
    L->naxes = (int)mesh->n;
    L->nranks = 1;
    for (int i = 0; i < L->naxes; i++) {
        L->axis[i] = mesh->keys[i]->text;
        if (!sw__elab_is_ident(L->axis[i]))
            return sw__err_at(E->err, SW_INPUT, mesh->keys[i]->loc, "'%s' is not a valid axis name", L->axis[i]);
        SW_CHECK(sw__elab_eval_int_min(E, mesh->vals[i], &E->model_scope, "a mesh axis size", 1, &L->size[i]));
        if (sw_mul64(L->nranks, L->size[i], &L->nranks) || L->nranks > SW_MAX_RANKS)
            return sw__err_at(E->err, SW_INPUT, mesh->vals[i]->loc,
                              "the mesh has more than %lld ranks (the input limit)", SW_MAX_RANKS);
        E->axis_names[i] = L->axis[i];
    }
    for (int i = L->naxes; i-- > 0;) L->stride[i] = i == L->naxes - 1 ? 1 : L->stride[i + 1] * L->size[i + 1];
    E->mesh_scope = (sw_scope){&E->model_scope, (size_t)L->naxes, E->axis_names, L->size};
    if (fr) SW_CHECK(sw__elab_eval_int_min(E, fr, &E->mesh_scope, "'first_rank'", 0, &L->first_rank));
    if (L->first_rank > SW_MAX_RANKS - L->nranks)
        return sw__err_at(E->err, SW_INPUT, fr ? fr->loc : mesh->loc,
                          "the layout's ranks go past rank %lld: global ranks are below %lld (the input limit)",
                          SW_MAX_RANKS - 1, SW_MAX_RANKS);
    SW_CHECK(elab_hosts(E, L, hosts));
    if (place) {
        SW_CHECK(sw__elab_need(E, place, SW_DOC_SEQ, "'place'"));
        for (size_t i = 0; i < place->n; i++) SW_CHECK(sw__elab_rule(E, place->items[i]));
    }
    SW_CHECK(count_locals(E, L));
    SW_CHECK(sw__elab_check_duplicates(E, L));
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
    SW_CHECK(sw__elab_need(E, d, SW_DOC_SCALAR, what));
    *out = sw_ir_layout(E->ir, d->text);
    if (*out < 0) return sw__err_at(E->err, SW_INPUT, d->loc, "no layout named '%s'", d->text);
    return SW_OK;
}

static int elab_syncs(elab *E, sw_doc *syncs, sw_doc *layouts_key) {
    static const char *const skeys[] = {"name", "from", "to", "skip", "bucket", NULL};
    sw_ir *ir = E->ir;
    if (!syncs) {
        if (ir->nlayouts != 2) return SW_OK;
        if (!(ir->syncs = sw_arena_alloc(E->a, sizeof *ir->syncs))) return sw__elab_nomem(E);
        sw_syncdef *s = &ir->syncs[0];
        s->name = "default";
        s->loc = ir->layouts[1].loc;
        s->from = 0;
        s->to = 1;
        s->bucket = SW_DEFAULT_BUCKET;
        if (!(s->skip = sw_arena_array(E->a, ir->ntensors, 1))) return sw__elab_nomem(E);
        ir->nsyncs = 1;
        ir->implicit_sync = 1;
        (void)layouts_key;
        return SW_OK;
    }
    SW_CHECK(sw__elab_need(E, syncs, SW_DOC_SEQ, "'syncs'"));
    if (!(ir->syncs = sw_arena_array(E->a, syncs->n, sizeof *ir->syncs))) return sw__elab_nomem(E);
    for (size_t i = 0; i < syncs->n; i++) {
        sw_doc *sn = syncs->items[i];
        SW_CHECK(sw__elab_need(E, sn, SW_DOC_MAP, "a sync"));
        SW_CHECK(sw__elab_check_keys(E, sn, skeys, "a sync"));
        sw_syncdef *s = &ir->syncs[ir->nsyncs];
        sw_doc *name = sw_doc_get(sn, "name"), *from = sw_doc_get(sn, "from"), *to = sw_doc_get(sn, "to"),
               *skip = sw_doc_get(sn, "skip"), *bucket = sw_doc_get(sn, "bucket");
        if (!name || !from || !to) return sw__err_at(E->err, SW_INPUT, sn->loc, "a sync needs 'name', 'from' and 'to'");
        SW_CHECK(sw__elab_need(E, name, SW_DOC_SCALAR, "a sync name"));
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
            if (!(b >= (double)SW_MIN_BUCKET))
                return sw__err_at(E->err, SW_INPUT, bucket->loc,
                                  "bucket '%s' is below the minimum of %lld bytes (4KiB): messages are cut into "
                                  "chunks that fit the bucket",
                                  bucket->text, SW_MIN_BUCKET);
            if (b > 9e18) return sw__err_at(E->err, SW_INPUT, bucket->loc, "bucket size out of range");
            s->bucket = (int64_t)b;
        }
        if (!(s->skip = sw_arena_array(E->a, ir->ntensors, 1))) return sw__elab_nomem(E);
        if (skip) {
            SW_CHECK(sw__elab_need(E, skip, SW_DOC_SEQ, "'skip'"));
            for (size_t k = 0; k < skip->n; k++) {
                SW_CHECK(sw__elab_eval_name(E, skip->items[k], &E->model_scope, "a skipped tensor"));
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
    SW_CHECK(sw__elab_need(E, t, SW_DOC_MAP, "'topology'"));
    SW_CHECK(sw__elab_check_keys(E, t, tkeys, "topology"));
    sw_doc *links = sw_doc_get(t, "links"), *gpn = sw_doc_get(t, "gpus_per_nic");
    if (gpn) SW_CHECK(sw__elab_eval_int_min(E, gpn, &E->model_scope, "'gpus_per_nic'", 1, &T->gpus_per_nic));
    if (!links) return SW_OK;
    SW_CHECK(sw__elab_need(E, links, SW_DOC_MAP, "'links'"));
    SW_CHECK(sw__elab_check_keys(E, links, lkeys, "links"));
    for (int c = 0; c < SW_LINK_COUNT; c++) {
        sw_doc *l = sw_doc_get(links, lkeys[c]);
        if (!l) continue;
        SW_CHECK(sw__elab_need(E, l, SW_DOC_MAP, "a link"));
        SW_CHECK(sw__elab_check_keys(E, l, kkeys, "a link"));
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
    SW_CHECK_GOTO(sw__elab_need(E, root, SW_DOC_MAP, "a layout file"), rc, out);
    SW_CHECK_GOTO(sw__elab_check_keys(E, root, rkeys, "the file"), rc, out);
    sw_doc *ver = sw_doc_get(root, "shardwave");
    if (!ver) {
        rc = sw__err_at(err, SW_INPUT, root->loc, "missing 'shardwave: 1' (the format version) at the top of the file");
        goto out;
    }
    if (ver->kind != SW_DOC_SCALAR) {
        rc = sw__err_at(err, SW_INPUT, ver->loc, "the format version must be the integer 1, not %s",
                        sw_doc_kind_name(ver->kind));
        goto out;
    }
    if (ver->style != SW_DOC_PLAIN) {
        rc = sw__err_at(err, SW_INPUT, ver->loc, "the format version must be the integer 1, not the string \"%.40s\" "
                        "(write shardwave: 1, without quotes)", ver->text);
        goto out;
    }
    if (strcmp(ver->text, "1")) {
        rc = sw__err_at(err, SW_INPUT, ver->loc, "unsupported format version '%.40s': this shardwave reads version 1",
                        ver->text);
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
    SW_CHECK_GOTO(sw__elab_need(E, layouts, SW_DOC_MAP, "'layouts'"), rc, out);
    if (!(ir->layouts = sw_arena_array(E->a, layouts->n, sizeof *ir->layouts))) {
        rc = sw__elab_nomem(E);
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
