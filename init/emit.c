/* emit.c - the generated layout file as YAML or DSL text. */
#include "emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"

/* the text being written: base/buf.h's growable buffer (an allocation failure is checked
 * once at the end) */
typedef sw_buf buf;
#define put sw_buf_put
#define puts_ sw_buf_puts
#define putf sw_buf_printf

char *sw_init_fmt(sw_arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = sw_arena_alloc(a, (size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

int sw_ir_add_rule(sw_ir_layout *l, const sw_ir_rule *r) {
    if (SW_GROW(l->rules, l->caprules, l->nrules + 1)) return SW_NOMEM;
    l->rules[l->nrules++] = *r;
    return SW_OK;
}

int sw_ir_add_tensor(sw_ir_file *f, const sw_ir_tensor *t) {
    if (SW_GROW(f->tensors, f->captensors, f->ntensors + 1)) return SW_NOMEM;
    f->tensors[f->ntensors++] = *t;
    return SW_OK;
}

void sw_ir_file_free(sw_ir_file *f) {
    free(f->tensors);
    for (size_t i = 0; i < f->nlayouts; i++) free(f->layouts[i].rules);
}

/* ---- shared ---------------------------------------------------------------------------- */

/* Comment lines, each "# line", at indent. */
static void comment(buf *b, int indent, const char *text) {
    if (!text) return;
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        putf(b, "%*s#%s%.*s\n", indent, "", n ? " " : "", (int)n, s);
        s += n;
        if (*s == '\n') s++;
    }
}

/* A range "lo..hi" -> lo and hi; else lo NULL. */
static void range(const char *v, char *lo, size_t cap, const char **hi) {
    const char *dots = strstr(v, "..");
    if (!dots) {
        lo[0] = '\0';
        *hi = v;
        return;
    }
    snprintf(lo, cap, "%.*s", (int)(dots - v), v);
    *hi = dots + 2;
}

/* ---- YAML ------------------------------------------------------------------------------- */

/* A scalar, double-quoted when YAML would misread it (in_flow: inside [] or {}). */
static void yscalar(buf *b, const char *s, int in_flow) {
    int q = !*s || strchr("-?:,[]{}#&*!|>'\"%@`", s[0]) != NULL || strstr(s, ": ") || strstr(s, " #");
    if (in_flow && strpbrk(s, ",[]{}:#")) q = 1;
    if (!strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "null")) q = 1;
    if (!q) {
        puts_(b, s);
        return;
    }
    put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') put(b, "\\", 1);
        put(b, p, 1);
    }
    put(b, "\"", 1);
}

/* {k: v, ...} with v quoted as needed, or raw (axis lists). */
static void yflow_map(buf *b, const sw_ir_kv *kv, size_t max, int raw) {
    puts_(b, "{");
    for (size_t i = 0; i < max && kv[i].k; i++) {
        putf(b, "%s%s: ", i ? ", " : "", kv[i].k);
        if (raw) puts_(b, kv[i].v);
        else yscalar(b, kv[i].v, 1);
    }
    puts_(b, "}");
}

static void yfors(buf *b, const sw_ir_kv *fors, size_t max) {
    puts_(b, "{");
    for (size_t i = 0; i < max && fors[i].k; i++) {
        char lo[128];
        const char *hi;
        range(fors[i].v, lo, sizeof lo, &hi);
        putf(b, "%s%s: ", i ? ", " : "", fors[i].k);
        if (lo[0]) {
            puts_(b, "[");
            yscalar(b, lo, 1);
            puts_(b, ", ");
            yscalar(b, hi, 1);
            puts_(b, "]");
        } else {
            yscalar(b, hi, 1);
        }
    }
    puts_(b, "}");
}

/* The body of a fuse (dim, parts, groups), its keys at indent ind. */
static void yfuse(buf *b, const sw_ir_rule *r, int ind) {
    putf(b, "%*sdim: %s\n%*sparts:\n", ind, "", r->fuse_dim, ind, "");
    for (size_t i = 0; i < 4 && r->parts[i].tensor; i++) {
        putf(b, "%*s- ", ind + 2, "");
        if (r->parts[i].unit) {
            puts_(b, "{tensor: ");
            yscalar(b, r->parts[i].tensor, 1);
            puts_(b, ", unit: ");
            yscalar(b, r->parts[i].unit, 1);
            puts_(b, "}");
        } else {
            yscalar(b, r->parts[i].tensor, 0);
        }
        puts_(b, "\n");
    }
    if (r->groups) putf(b, "%*sgroups: %s\n", ind, "", r->groups);
}

static void yrule(buf *b, const sw_ir_rule *r) {
    const int ind = 8;
    comment(b, 6, r->comment);
    int first = 1;
#define KEY(name)                                                                  \
    do {                                                                           \
        putf(b, "%*s%s" name ": ", first ? ind - 2 : ind, "", first ? "- " : ""); \
        first = 0;                                                                 \
    } while (0)
    if (r->tensor) {
        KEY("tensor");
        yscalar(b, r->tensor, 0);
        puts_(b, "\n");
    }
    if (r->as) {
        KEY("as");
        yscalar(b, r->as, 0);
        puts_(b, "\n");
    }
    if (r->fors[0].k) {
        KEY("for");
        yfors(b, r->fors, 2);
        puts_(b, "\n");
    }
    if (r->lets[0].k) {
        KEY("let");
        yflow_map(b, r->lets, SW_IR_MAX, 0);
        puts_(b, "\n");
    }
    if (r->wheres[0].k) {
        KEY("where");
        yflow_map(b, r->wheres, SW_IR_MAX, 0);
        puts_(b, "\n");
    }
    if (r->stack_var) {
        KEY("stack");
        b->d[--b->n] = '\0';
        putf(b, "\n%*sover: {%s: %s}\n%*sitem:\n", ind + 2, "", r->stack_var, r->stack_count, ind + 2, "");
        if (r->fuse_dim) {
            putf(b, "%*sfuse:\n", ind + 4, "");
            yfuse(b, r, ind + 6);
        } else {
            putf(b, "%*stensor: ", ind + 4, "");
            yscalar(b, r->item_tensor, 0);
            puts_(b, "\n");
        }
    } else if (r->fuse_dim) {
        KEY("fuse");
        b->d[--b->n] = '\0'; /* no space before the newline */
        puts_(b, "\n");
        yfuse(b, r, ind + 2);
    }
    if (r->splits[0].k) {
        KEY("split");
        yflow_map(b, r->splits, 3, 1);
        puts_(b, "\n");
    }
    if (r->pads[0].k) {
        KEY("pad");
        yflow_map(b, r->pads, 2, 0);
        puts_(b, "\n");
    }
    if (r->uneven) {
        KEY("uneven");
        puts_(b, "true\n");
    }
    if (r->dtype) {
        KEY("dtype");
        putf(b, "%s\n", r->dtype);
    }
#undef KEY
}

static void write_yaml(buf *b, const sw_ir_file *f) {
    comment(b, 0, f->header);
    puts_(b, "shardwave: 1\n\nmodel:\n  name: ");
    yscalar(b, f->model_name, 0);
    putf(b, "\n  dtype: %s\n  let:\n", f->dtype);
    size_t w = 0;
    for (size_t i = 0; i < f->nlets; i++)
        if (strlen(f->lets[i].k) + strlen(f->lets[i].v) > w) w = strlen(f->lets[i].k) + strlen(f->lets[i].v);
    for (size_t i = 0; i < f->nlets; i++) {
        size_t n0 = b->n;
        putf(b, "    %s: ", f->lets[i].k);
        yscalar(b, f->lets[i].v, 0);
        if (f->let_comments[i]) putf(b, "%*s  # %s", (int)(w + 6 - (b->n - n0)), "", f->let_comments[i]);
        puts_(b, "\n");
    }
    puts_(b, "  tensors:\n");
    for (size_t i = 0; i < f->ntensors; i++) {
        const sw_ir_tensor *t = &f->tensors[i];
        comment(b, 4, t->comment);
        puts_(b, "    - name: ");
        yscalar(b, t->name, 0);
        puts_(b, "\n");
        if (t->fors[0].k) {
            puts_(b, "      for: ");
            yfors(b, t->fors, 2);
            puts_(b, "\n");
        }
        puts_(b, "      shape: [");
        for (size_t k = 0; k < 3 && t->shape[k]; k++) {
            if (k) puts_(b, ", ");
            yscalar(b, t->shape[k], 1);
        }
        puts_(b, "]\n");
        if (t->dtype) putf(b, "      dtype: %s\n", t->dtype);
    }
    puts_(b, "\nlayouts:\n");
    for (size_t i = 0; i < f->nlayouts; i++) {
        const sw_ir_layout *l = &f->layouts[i];
        if (i) puts_(b, "\n");
        comment(b, 2, l->comment);
        putf(b, "  %s:\n    first_rank: %lld\n    mesh: ", l->name, l->first_rank);
        yflow_map(b, l->mesh, 8, 1);
        putf(b, "\n    hosts: {gpus_per_host: %lld", l->gpus_per_host);
        if (l->rank_base >= 0) putf(b, ", rank_base: %lld", l->rank_base);
        puts_(b, "}\n    place:\n");
        for (size_t k = 0; k < l->nrules; k++) yrule(b, &l->rules[k]);
    }
    puts_(b, "\nsyncs:\n");
    for (size_t i = 0; i < f->nsyncs; i++) {
        comment(b, 2, f->syncs[i].comment);
        putf(b, "  - {name: %s, from: %s, to: %s}\n", f->syncs[i].name, f->syncs[i].from, f->syncs[i].to);
    }
}

/* ---- DSL -------------------------------------------------------------------------------- */

static void dstr(buf *b, const char *s) {
    put(b, "\"", 1);
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') put(b, "\\", 1);
        put(b, p, 1);
    }
    put(b, "\"", 1);
}

static void dfors(buf *b, const sw_ir_kv *fors, size_t max) {
    for (size_t i = 0; i < max && fors[i].k; i++) {
        char lo[128];
        const char *hi;
        range(fors[i].v, lo, sizeof lo, &hi);
        if (lo[0]) putf(b, "%s%s in %s .. %s", i ? ", " : "", fors[i].k, lo, hi);
        else putf(b, "%s%s in %s", i ? ", " : "", fors[i].k, hi);
    }
}

static void dpairs(buf *b, const char *kw, const sw_ir_kv *kv, size_t max, const char *sep) {
    if (!kv[0].k) return;
    putf(b, " %s ", kw);
    for (size_t i = 0; i < max && kv[i].k; i++) putf(b, "%s%s%s%s", i ? ", " : "", kv[i].k, sep, kv[i].v);
}

static void dfuse(buf *b, const sw_ir_rule *r) {
    putf(b, "fuse dim %s [", r->fuse_dim);
    for (size_t i = 0; i < 4 && r->parts[i].tensor; i++) {
        puts_(b, i ? ",\n        " : "\n        ");
        dstr(b, r->parts[i].tensor);
        if (r->parts[i].unit) putf(b, " unit %s", r->parts[i].unit);
    }
    puts_(b, "]");
    if (r->groups) putf(b, " groups %s", r->groups);
}

static void drule(buf *b, const sw_ir_rule *r) {
    comment(b, 2, r->comment);
    puts_(b, "  place");
    if (r->tensor) {
        puts_(b, " ");
        dstr(b, r->tensor);
    }
    if (r->as) {
        puts_(b, " as ");
        dstr(b, r->as);
    }
    if (r->fors[0].k) {
        puts_(b, "\n    for ");
        dfors(b, r->fors, 2);
    }
    dpairs(b, "let", r->lets, SW_IR_MAX, " = ");
    dpairs(b, "where", r->wheres, SW_IR_MAX, " = ");
    if (r->stack_var) {
        putf(b, "\n    stack %s in %s { ", r->stack_var, r->stack_count);
        if (r->fuse_dim) dfuse(b, r);
        else dstr(b, r->item_tensor);
        puts_(b, " }");
    } else if (r->fuse_dim) {
        puts_(b, "\n    ");
        dfuse(b, r);
    }
    if (r->splits[0].k) {
        puts_(b, r->stack_var || r->fuse_dim ? "\n   " : "");
        dpairs(b, "split", r->splits, 3, " over ");
    }
    dpairs(b, "pad", r->pads, 2, " to ");
    if (r->uneven) puts_(b, " uneven");
    if (r->dtype) putf(b, " dtype %s", r->dtype);
    puts_(b, "\n");
}

static void write_dsl(buf *b, const sw_ir_file *f) {
    comment(b, 0, f->header);
    puts_(b, "shardwave 1\n\nmodel ");
    dstr(b, f->model_name);
    putf(b, " dtype %s {\n", f->dtype);
    size_t w = 0;
    for (size_t i = 0; i < f->nlets; i++)
        if (strlen(f->lets[i].k) + strlen(f->lets[i].v) > w) w = strlen(f->lets[i].k) + strlen(f->lets[i].v);
    for (size_t i = 0; i < f->nlets; i++) {
        size_t n0 = b->n;
        putf(b, "  let %s = %s", f->lets[i].k, f->lets[i].v);
        if (f->let_comments[i]) putf(b, "%*s  # %s", (int)(w + 9 - (b->n - n0)), "", f->let_comments[i]);
        puts_(b, "\n");
    }
    for (size_t i = 0; i < f->ntensors; i++) {
        const sw_ir_tensor *t = &f->tensors[i];
        comment(b, 2, t->comment);
        puts_(b, "  tensor ");
        dstr(b, t->name);
        if (t->fors[0].k) {
            puts_(b, " for ");
            dfors(b, t->fors, 2);
        }
        puts_(b, " shape [");
        for (size_t k = 0; k < 3 && t->shape[k]; k++) putf(b, "%s%s", k ? ", " : "", t->shape[k]);
        puts_(b, "]");
        if (t->dtype) putf(b, " dtype %s", t->dtype);
        puts_(b, "\n");
    }
    puts_(b, "}\n");
    for (size_t i = 0; i < f->nlayouts; i++) {
        const sw_ir_layout *l = &f->layouts[i];
        puts_(b, "\n");
        comment(b, 0, l->comment);
        putf(b, "layout %s first_rank %lld mesh(", l->name, l->first_rank);
        for (size_t k = 0; k < 8 && l->mesh[k].k; k++) putf(b, "%s%s = %s", k ? ", " : "", l->mesh[k].k, l->mesh[k].v);
        putf(b, ") hosts(gpus_per_host = %lld", l->gpus_per_host);
        if (l->rank_base >= 0) putf(b, ", rank_base = %lld", l->rank_base);
        puts_(b, ") {\n");
        for (size_t k = 0; k < l->nrules; k++) drule(b, &l->rules[k]);
        puts_(b, "}\n");
    }
    puts_(b, "\n");
    for (size_t i = 0; i < f->nsyncs; i++) {
        comment(b, 0, f->syncs[i].comment);
        putf(b, "sync %s from %s to %s\n", f->syncs[i].name, f->syncs[i].from, f->syncs[i].to);
    }
}

int sw_ir_write(const sw_ir_file *f, int dsl, char **out, sw_error *err) {
    buf b = {0};
    if (dsl) write_dsl(&b, f);
    else write_yaml(&b, f);
    if (b.oom) {
        free(b.d);
        return sw__err(err, SW_NOMEM, "out of memory writing the layout file");
    }
    *out = b.d;
    return SW_OK;
}
