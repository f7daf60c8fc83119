/*
 * doc_write_dsl.c - the document tree as the textual DSL (see doc_write.h).  The writer
 * knows the layout language's schema: each section has its clause emitters.
 */
#include "doc_write.h"
#include "dsl_load.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

static const char *const dsl_keywords[] = {
    "shardwave", "model", "dtype", "let", "tensor", "for", "in", "shape", "layout", "first_rank", "mesh",
    "hosts", "place", "as", "where", "split", "over", "uneven", "pad", "to", "fuse", "dim", "groups", "unit",
    "perm", "stack", "sync", "from", "skip", "bucket", "topology", "bandwidth", "latency", "gpus_per_nic",
    "true", "false", NULL};

typedef struct dw {
    sw_buf out;
    sw_error *err;
    int failed;
} dw;

static int dw_fail(dw *w, const sw_doc *at, const char *fmt, ...) SW_PRINTF(3, 4);
static int dw_fail(dw *w, const sw_doc *at, const char *fmt, ...) {
    if (w->failed) return -1;
    w->failed = 1;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sw__err_at(w->err, SW_INPUT, at->loc, "cannot write this in the DSL: %s", msg);
    return -1;
}

static int is_identifier(const char *s) {
    if (!(isalpha((unsigned char)*s) || *s == '_')) return 0;
    for (s++; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_')) return 0;
    return 1;
}

static int need_scalar(dw *w, const sw_doc *d, const char *what) {
    if (d->kind == SW_DOC_SCALAR) return 0;
    return dw_fail(w, d, "%s must be a scalar, not %s", what, sw_doc_kind_name(d->kind));
}

static int dsl_string(dw *w, sw_buf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    sw_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)d->text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            sw_buf_putc(b, '\\');
            sw_buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            sw_buf_puts(b, "\\n");
        } else if (*p == '\t') {
            sw_buf_puts(b, "\\t");
        } else if (*p < 0x20) {
            return dw_fail(w, d, "%s holds a control character", what);
        } else {
            sw_buf_putc(b, (char)*p);
        }
    }
    sw_buf_putc(b, '"');
    return 0;
}

/* A name: bare when it is an identifier and no keyword, else quoted. */
static int dsl_name(dw *w, sw_buf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    if (is_identifier(d->text) && !sw__doc_is_word(d->text, dsl_keywords)) {
        sw_buf_puts(b, d->text);
        return 0;
    }
    return dsl_string(w, b, d, what);
}

/* A variable, constant or axis name: must be an identifier (keywords are fine). */
static int dsl_ident(dw *w, sw_buf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    if (!is_identifier(d->text) || !strcmp(d->text, "true") || !strcmp(d->text, "false"))
        return dw_fail(w, d, "%s '%s' is not an identifier", what, d->text);
    sw_buf_puts(b, d->text);
    return 0;
}

/* Does the DSL read text, where a value is expected, back as one PLAIN scalar with the
 * same text?  (Asks the parser itself, so the writer and the grammar cannot disagree.) */
static int bare_value_ok(const char *text) {
    static const char pre[] = "shardwave 1 model { let x = ", post[] = " }";
    size_t n = strlen(text);
    if (!n || strchr(text, '#') || strchr(text, '\n') || strchr(text, '"')) return 0;
    char *buf = malloc(sizeof pre + n + sizeof post);
    if (!buf) return 0;
    memcpy(buf, pre, sizeof pre - 1);
    memcpy(buf + sizeof pre - 1, text, n);
    memcpy(buf + sizeof pre - 1 + n, post, sizeof post);
    sw_arena a;
    sw_arena_init(&a);
    sw_doc *root;
    sw_error err;
    int ok = 0;
    if (!sw_dsl_load(&a, "<value>", buf, strlen(buf), &root, &err)) {
        const sw_doc *let = sw_doc_get(sw_doc_get(root, "model"), "let");
        ok = let && let->n == 1 && let->vals[0]->kind == SW_DOC_SCALAR && let->vals[0]->style == SW_DOC_PLAIN &&
             !strcmp(let->vals[0]->text, text);
    }
    sw_arena_free(&a);
    free(buf);
    return ok;
}

/* A value where an integer is expected: the expression bare when the DSL reads it back
 * as the same PLAIN scalar, else a string (elaboration reads both as in YAML). */
static int dsl_expr(dw *w, sw_buf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    if (d->style == SW_DOC_PLAIN && (!d->text[0] || !strcmp(d->text, "~") || !strcmp(d->text, "Null") ||
                                     !strcmp(d->text, "NULL"))) {
        sw_buf_puts(b, "null"); /* YAML's empty value: the DSL spells it null, read back as PLAIN null */
        return 0;
    }
    int typed = !strcmp(d->text, "true") || !strcmp(d->text, "false");
    if ((d->style == SW_DOC_PLAIN || !typed) && bare_value_ok(d->text)) {
        sw_buf_puts(b, d->text);
        return 0;
    }
    return dsl_string(w, b, d, what);
}

/* Is s the lexeme of an integer or a quantity (256MiB, 1.5GB/s, 10us)? */
static int qty_lexeme(const char *p) {
    if (!isdigit((unsigned char)*p)) return 0;
    while (isdigit((unsigned char)*p)) p++;
    if (!*p) return 1;
    if (*p == '.') {
        if (!isdigit((unsigned char)p[1])) return 0;
        for (p++; isdigit((unsigned char)*p);) p++;
    }
    if (!isalpha((unsigned char)*p)) return 0;
    while (isalpha((unsigned char)*p)) p++;
    return !*p || !strcmp(p, "/s");
}

static int dsl_qty(dw *w, sw_buf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    if (d->style == SW_DOC_PLAIN && qty_lexeme(d->text)) {
        sw_buf_puts(b, d->text);
        return 0;
    }
    return dsl_string(w, b, d, what);
}

static int need_kind(dw *w, const sw_doc *d, sw_doc_kind k, const char *what) {
    if (d->kind == k) return 0;
    return dw_fail(w, d, "%s must be %s, not %s", what, sw_doc_kind_name(k), sw_doc_kind_name(d->kind));
}

/* [e, e, ...] */
static int dsl_expr_list(dw *w, sw_buf *b, const sw_doc *d, const char *what) {
    if (need_kind(w, d, SW_DOC_SEQ, what)) return -1;
    sw_buf_putc(b, '[');
    for (size_t i = 0; i < d->n; i++) {
        if (i) sw_buf_puts(b, ", ");
        if (dsl_expr(w, b, d->items[i], what)) return -1;
    }
    sw_buf_putc(b, ']');
    return 0;
}

/* k = e, k = e */
static int dsl_pairs(dw *w, sw_buf *b, const sw_doc *d, const char *what) {
    if (need_kind(w, d, SW_DOC_MAP, what)) return -1;
    if (!d->n) return dw_fail(w, d, "%s is empty", what);
    for (size_t i = 0; i < d->n; i++) {
        if (i) sw_buf_puts(b, ", ");
        if (dsl_ident(w, b, d->keys[i], what)) return -1;
        sw_buf_puts(b, " = ");
        if (dsl_expr(w, b, d->vals[i], what)) return -1;
    }
    return 0;
}

/* i in R, j in a .. b */
static int dsl_for(dw *w, sw_buf *b, const sw_doc *d, const char *what) {
    if (need_kind(w, d, SW_DOC_MAP, what)) return -1;
    if (!d->n) return dw_fail(w, d, "%s is empty", what);
    for (size_t i = 0; i < d->n; i++) {
        if (i) sw_buf_puts(b, ", ");
        if (dsl_ident(w, b, d->keys[i], what)) return -1;
        sw_buf_puts(b, " in ");
        const sw_doc *r = d->vals[i];
        if (r->kind == SW_DOC_SEQ) {
            if (r->n != 2) return dw_fail(w, r, "a range of %s must be [from, to]", what);
            if (dsl_expr(w, b, r->items[0], what)) return -1;
            sw_buf_puts(b, " .. ");
            if (dsl_expr(w, b, r->items[1], what)) return -1;
        } else if (dsl_expr(w, b, r, what)) {
            return -1;
        }
    }
    return 0;
}

/* A clause list: clauses joined by spaces, wrapped before a clause past the width. */
typedef struct clauses {
    sw_buf c[32];
    int n;
} clauses;

static sw_buf *clause(dw *w, clauses *cl, const sw_doc *at) {
    if (cl->n == 32) {
        dw_fail(w, at, "too many clauses");
        return NULL;
    }
    return &cl->c[cl->n++];
}

static void emit_clauses(dw *w, clauses *cl, int indent) {
    size_t total = (size_t)indent;
    for (int i = 0; i < cl->n; i++) total += cl->c[i].n + 1;
    int col = indent;
    sw_buf_indent(&w->out, indent);
    for (int i = 0; i < cl->n; i++) {
        if (cl->c[i].oom) w->out.oom = 1;
        if (!cl->c[i].d) continue;
        const char *nl = strchr(cl->c[i].d, '\001');
        int width = nl ? (int)(nl - cl->c[i].d) : (int)cl->c[i].n;
        if (i > 1 && total > SW_DOC_LINE_WIDTH && col + 1 + width > SW_DOC_LINE_WIDTH) {
            sw_buf_putc(&w->out, '\n');
            sw_buf_indent(&w->out, indent + 4);
            col = indent + 4;
        } else if (i) {
            sw_buf_putc(&w->out, ' ');
            col++;
        }
        /* \001 breaks a long list: the next item goes under the first, after its '[' */
        int open_col = -1;
        for (const char *q = cl->c[i].d; *q; q++) {
            if (*q == '\001') {
                sw_buf_putc(&w->out, '\n');
                sw_buf_indent(&w->out, open_col);
                col = open_col;
                continue;
            }
            sw_buf_putc(&w->out, *q);
            col++;
            if (*q == '[' && open_col < 0) open_col = col;
        }
    }
    sw_buf_putc(&w->out, '\n');
}

static void free_clauses(clauses *cl) {
    for (int i = 0; i < cl->n; i++) sw_buf_free(&cl->c[i]);
    cl->n = 0;
}

static int dsl_parts(dw *w, sw_buf *b, const sw_doc *d) {
    if (need_kind(w, d, SW_DOC_SEQ, "fuse parts")) return -1;
    size_t total = 0;
    for (size_t i = 0; i < d->n; i++) {
        const sw_doc *p = d->items[i]->kind == SW_DOC_MAP ? sw_doc_get(d->items[i], "tensor") : d->items[i];
        total += (p && p->kind == SW_DOC_SCALAR ? strlen(p->text) : 0) + 4 + 8 * (d->items[i]->kind == SW_DOC_MAP);
    }
    int one_per_line = total > 70 && d->n > 1;
    sw_buf_putc(b, '[');
    for (size_t i = 0; i < d->n; i++) {
        const sw_doc *p = d->items[i];
        if (i) sw_buf_puts(b, one_per_line ? ",\001" : ", ");
        if (p->kind != SW_DOC_MAP) {
            if (dsl_string(w, b, p, "a fuse part")) return -1;
            continue;
        }
        const sw_doc *t = sw_doc_get(p, "tensor");
        if (!t) return dw_fail(w, p, "a fuse part needs 'tensor'");
        if (dsl_string(w, b, t, "a fuse part")) return -1;
        for (size_t k = 0; k < p->n; k++) {
            const char *key = p->keys[k]->text;
            if (!strcmp(key, "tensor")) continue;
            if (!strcmp(key, "unit")) {
                sw_buf_puts(b, " unit ");
                if (dsl_expr(w, b, p->vals[k], "unit")) return -1;
            } else if (!strcmp(key, "perm")) {
                sw_buf_puts(b, " perm ");
                if (dsl_expr_list(w, b, p->vals[k], "perm")) return -1;
            } else {
                return dw_fail(w, p->keys[k], "unknown key '%s' in a fuse part", key);
            }
        }
    }
    sw_buf_putc(b, ']');
    return 0;
}

static int dsl_fuse(dw *w, sw_buf *b, const sw_doc *f) {
    if (need_kind(w, f, SW_DOC_MAP, "fuse")) return -1;
    if (!f->n) return dw_fail(w, f, "fuse is empty");
    sw_buf_puts(b, "fuse");
    for (size_t k = 0; k < f->n; k++) {
        const char *key = f->keys[k]->text;
        sw_buf_putc(b, ' ');
        if (!strcmp(key, "dim")) {
            sw_buf_puts(b, "dim ");
            if (dsl_expr(w, b, f->vals[k], "fuse dim")) return -1;
        } else if (!strcmp(key, "groups")) {
            sw_buf_puts(b, "groups ");
            if (dsl_expr(w, b, f->vals[k], "groups")) return -1;
        } else if (!strcmp(key, "parts")) {
            if (dsl_parts(w, b, f->vals[k])) return -1;
        } else {
            return dw_fail(w, f->keys[k], "unknown key '%s' in fuse", key);
        }
    }
    return 0;
}

static int dsl_stack(dw *w, sw_buf *b, const sw_doc *s) {
    if (need_kind(w, s, SW_DOC_MAP, "stack")) return -1;
    const sw_doc *over = sw_doc_get(s, "over"), *item = sw_doc_get(s, "item");
    for (size_t k = 0; k < s->n; k++)
        if (strcmp(s->keys[k]->text, "over") && strcmp(s->keys[k]->text, "item"))
            return dw_fail(w, s->keys[k], "unknown key '%s' in stack", s->keys[k]->text);
    if (!over || !item) return dw_fail(w, s, "stack needs 'over' and 'item'");
    sw_buf_puts(b, "stack ");
    if (dsl_for(w, b, over, "stack over")) return -1;
    sw_buf_puts(b, " { ");
    if (need_kind(w, item, SW_DOC_MAP, "stack item")) return -1;
    if (!item->n) return dw_fail(w, item, "the stack item is empty");
    for (size_t k = 0; k < item->n; k++) {
        const char *key = item->keys[k]->text;
        if (k) sw_buf_putc(b, ' ');
        if (!strcmp(key, "tensor")) {
            if (k) sw_buf_puts(b, "tensor ");
            if (dsl_string(w, b, item->vals[k], "the stack item")) return -1;
        } else if (!strcmp(key, "fuse")) {
            if (dsl_fuse(w, b, item->vals[k])) return -1;
        } else if (!strcmp(key, "perm")) {
            sw_buf_puts(b, "perm ");
            if (dsl_expr_list(w, b, item->vals[k], "perm")) return -1;
        } else {
            return dw_fail(w, item->keys[k], "unknown key '%s' in the stack item", key);
        }
    }
    sw_buf_puts(b, " }");
    return 0;
}

static int dsl_rule(dw *w, const sw_doc *r) {
    if (need_kind(w, r, SW_DOC_MAP, "a placement rule")) return -1;
    clauses cl = {0};
    int rc = -1;
    sw_buf *b = clause(w, &cl, r);
    sw_buf_puts(b, "place");
    for (size_t k = 0; k < r->n; k++) {
        const char *key = r->keys[k]->text;
        const sw_doc *v = r->vals[k];
        if (!(b = clause(w, &cl, r->keys[k]))) goto out;
        if (!strcmp(key, "tensor")) {
            if (k) sw_buf_puts(b, "tensor ");
            if (dsl_string(w, b, v, "tensor")) goto out;
            if (!k) { /* "place" and the tensor stay together */
                sw_buf *head = &cl.c[0];
                sw_buf_putc(head, ' ');
                sw_buf_puts(head, b->d);
                sw_buf_free(b);
                cl.n--;
            }
        } else if (!strcmp(key, "for")) {
            sw_buf_puts(b, "for ");
            if (dsl_for(w, b, v, "for")) goto out;
        } else if (!strcmp(key, "let")) {
            sw_buf_puts(b, "let ");
            if (dsl_pairs(w, b, v, "let")) goto out;
        } else if (!strcmp(key, "as")) {
            sw_buf_puts(b, "as ");
            if (dsl_string(w, b, v, "as")) goto out;
        } else if (!strcmp(key, "where")) {
            sw_buf_puts(b, "where ");
            if (dsl_pairs(w, b, v, "where")) goto out;
        } else if (!strcmp(key, "split") || !strcmp(key, "pad")) {
            int split = key[0] == 's';
            if (need_kind(w, v, SW_DOC_MAP, key)) goto out;
            if (!v->n) {
                dw_fail(w, v, "%s is empty", key);
                goto out;
            }
            sw_buf_puts(b, key);
            for (size_t i = 0; i < v->n; i++) {
                sw_buf_puts(b, i ? ", " : " ");
                if (dsl_expr(w, b, v->keys[i], split ? "a split dim" : "a pad dim")) goto out;
                sw_buf_puts(b, split ? " over " : " to ");
                const sw_doc *x = v->vals[i];
                if (!split) {
                    if (dsl_expr(w, b, x, "a pad multiple")) goto out;
                } else if (x->kind == SW_DOC_SEQ) {
                    sw_buf_putc(b, '[');
                    for (size_t j = 0; j < x->n; j++) {
                        if (j) sw_buf_puts(b, ", ");
                        if (dsl_ident(w, b, x->items[j], "a split axis")) goto out;
                    }
                    sw_buf_putc(b, ']');
                    if (!x->n) {
                        dw_fail(w, x, "an empty list of split axes");
                        goto out;
                    }
                } else if (dsl_ident(w, b, x, "a split axis")) {
                    goto out;
                }
            }
        } else if (!strcmp(key, "uneven")) {
            if (need_scalar(w, v, "uneven")) goto out;
            if (!strcmp(v->text, "true") && v->style == SW_DOC_PLAIN) sw_buf_puts(b, "uneven");
            else if (!strcmp(v->text, "false") && v->style == SW_DOC_PLAIN) sw_buf_puts(b, "uneven false");
            else {
                dw_fail(w, v, "uneven must be true or false");
                goto out;
            }
        } else if (!strcmp(key, "fuse")) {
            if (dsl_fuse(w, b, v)) goto out;
        } else if (!strcmp(key, "stack")) {
            if (dsl_stack(w, b, v)) goto out;
        } else if (!strcmp(key, "perm")) {
            sw_buf_puts(b, "perm ");
            if (dsl_expr_list(w, b, v, "perm")) goto out;
        } else if (!strcmp(key, "dtype")) {
            sw_buf_puts(b, "dtype ");
            if (dsl_name(w, b, v, "dtype")) goto out;
        } else {
            dw_fail(w, r->keys[k], "unknown key '%s' in a placement rule", key);
            goto out;
        }
    }
    emit_clauses(w, &cl, 2);
    rc = 0;
out:
    free_clauses(&cl);
    return rc;
}

static int dsl_hval(dw *w, sw_buf *b, const sw_doc *v) {
    if (v->kind == SW_DOC_MAP) return dw_fail(w, v, "a hosts value cannot be a mapping");
    if (v->kind == SW_DOC_SCALAR) return dsl_expr(w, b, v, "a hosts value");
    sw_buf_putc(b, '[');
    for (size_t i = 0; i < v->n; i++) {
        if (i) sw_buf_puts(b, ", ");
        if (dsl_hval(w, b, v->items[i])) return -1;
    }
    sw_buf_putc(b, ']');
    return 0;
}

static int dsl_layout(dw *w, const sw_doc *name, const sw_doc *l) {
    if (need_kind(w, l, SW_DOC_MAP, "a layout")) return -1;
    sw_buf *o = &w->out;
    sw_buf_puts(o, "\nlayout ");
    if (dsl_name(w, o, name, "a layout name")) return -1;
    const sw_doc *place = NULL;
    for (size_t k = 0; k < l->n; k++) {
        const char *key = l->keys[k]->text;
        const sw_doc *v = l->vals[k];
        if (!strcmp(key, "first_rank")) {
            sw_buf_puts(o, " first_rank ");
            if (dsl_expr(w, o, v, "first_rank")) return -1;
        } else if (!strcmp(key, "mesh")) {
            sw_buf_puts(o, " mesh(");
            if (dsl_pairs(w, o, v, "mesh")) return -1;
            sw_buf_putc(o, ')');
        } else if (!strcmp(key, "hosts")) {
            if (need_kind(w, v, SW_DOC_MAP, "hosts")) return -1;
            if (!v->n) return dw_fail(w, v, "hosts is empty");
            sw_buf_puts(o, " hosts(");
            for (size_t i = 0; i < v->n; i++) {
                if (i) sw_buf_puts(o, ", ");
                if (dsl_ident(w, o, v->keys[i], "a hosts key")) return -1;
                sw_buf_puts(o, " = ");
                if (dsl_hval(w, o, v->vals[i])) return -1;
            }
            sw_buf_putc(o, ')');
        } else if (!strcmp(key, "place")) {
            if (need_kind(w, v, SW_DOC_SEQ, "place")) return -1;
            place = v;
        } else {
            return dw_fail(w, l->keys[k], "unknown key '%s' in a layout", key);
        }
    }
    if (!place) {
        sw_buf_putc(o, '\n');
        return 0;
    }
    sw_buf_puts(o, " {\n");
    for (size_t i = 0; i < place->n; i++)
        if (dsl_rule(w, place->items[i])) return -1;
    sw_buf_puts(o, "}\n");
    return 0;
}

static int dsl_tensor(dw *w, const sw_doc *t) {
    if (need_kind(w, t, SW_DOC_MAP, "a model tensor")) return -1;
    const sw_doc *name = sw_doc_get(t, "name");
    if (!name) return dw_fail(w, t, "a model tensor needs 'name'");
    clauses cl = {0};
    int rc = -1;
    sw_buf *b = clause(w, &cl, t);
    sw_buf_puts(b, "tensor ");
    if (dsl_string(w, b, name, "a tensor name")) goto out;
    for (size_t k = 0; k < t->n; k++) {
        const char *key = t->keys[k]->text;
        const sw_doc *v = t->vals[k];
        if (!strcmp(key, "name")) continue;
        if (!(b = clause(w, &cl, t->keys[k]))) goto out;
        if (!strcmp(key, "for")) {
            sw_buf_puts(b, "for ");
            if (dsl_for(w, b, v, "for")) goto out;
        } else if (!strcmp(key, "let")) {
            sw_buf_puts(b, "let ");
            if (dsl_pairs(w, b, v, "let")) goto out;
        } else if (!strcmp(key, "shape")) {
            sw_buf_puts(b, "shape ");
            if (dsl_expr_list(w, b, v, "shape")) goto out;
        } else if (!strcmp(key, "dtype")) {
            sw_buf_puts(b, "dtype ");
            if (dsl_name(w, b, v, "dtype")) goto out;
        } else {
            dw_fail(w, t->keys[k], "unknown key '%s' in a model tensor", key);
            goto out;
        }
    }
    emit_clauses(w, &cl, 2);
    rc = 0;
out:
    free_clauses(&cl);
    return rc;
}

static int dsl_model(dw *w, const sw_doc *m) {
    if (need_kind(w, m, SW_DOC_MAP, "model")) return -1;
    sw_buf *o = &w->out;
    sw_buf_puts(o, "\nmodel");
    const sw_doc *let = NULL, *tensors = NULL;
    for (size_t k = 0; k < m->n; k++) {
        const char *key = m->keys[k]->text;
        const sw_doc *v = m->vals[k];
        if (!strcmp(key, "name")) {
            sw_buf_putc(o, ' ');
            if (dsl_name(w, o, v, "the model name")) return -1;
        } else if (!strcmp(key, "dtype")) {
            sw_buf_puts(o, " dtype ");
            if (dsl_name(w, o, v, "dtype")) return -1;
        } else if (!strcmp(key, "let")) {
            if (need_kind(w, v, SW_DOC_MAP, "let")) return -1;
            let = v;
        } else if (!strcmp(key, "tensors")) {
            if (need_kind(w, v, SW_DOC_SEQ, "tensors")) return -1;
            tensors = v;
        } else {
            return dw_fail(w, m->keys[k], "unknown key '%s' in the model", key);
        }
    }
    sw_buf_puts(o, " {\n");
    /* let entries, packed into lines */
    for (size_t i = 0; let && i < let->n;) {
        sw_buf line = {0};
        sw_buf_puts(&line, "  let ");
        size_t first = i;
        for (; i < let->n; i++) {
            sw_buf e = {0};
            int bad = dsl_ident(w, &e, let->keys[i], "a let name");
            sw_buf_puts(&e, " = ");
            bad = bad || dsl_expr(w, &e, let->vals[i], "a let value");
            if (bad || (i > first && line.n + 2 + e.n > SW_DOC_LINE_WIDTH)) {
                sw_buf_free(&e);
                if (bad) {
                    sw_buf_free(&line);
                    return -1;
                }
                break;
            }
            if (i > first) sw_buf_puts(&line, ", ");
            sw_buf_puts(&line, e.d);
            sw_buf_free(&e);
        }
        sw_buf_puts(o, line.d);
        sw_buf_putc(o, '\n');
        sw_buf_free(&line);
    }
    if (let && let->n && tensors && tensors->n) sw_buf_putc(o, '\n');
    for (size_t i = 0; tensors && i < tensors->n; i++)
        if (dsl_tensor(w, tensors->items[i])) return -1;
    sw_buf_puts(o, "}\n");
    return 0;
}

static int dsl_sync(dw *w, const sw_doc *s) {
    if (need_kind(w, s, SW_DOC_MAP, "a sync")) return -1;
    clauses cl = {0};
    int rc = -1;
    sw_buf *b = clause(w, &cl, s);
    sw_buf_puts(b, "sync");
    const sw_doc *name = sw_doc_get(s, "name");
    if (name) {
        sw_buf_putc(b, ' ');
        if (dsl_name(w, b, name, "a sync name")) goto out;
    }
    for (size_t k = 0; k < s->n; k++) {
        const char *key = s->keys[k]->text;
        const sw_doc *v = s->vals[k];
        if (!strcmp(key, "name")) continue;
        if (!(b = clause(w, &cl, s->keys[k]))) goto out;
        if (!strcmp(key, "from") || !strcmp(key, "to")) {
            sw_buf_puts(b, key);
            sw_buf_putc(b, ' ');
            if (dsl_name(w, b, v, key)) goto out;
        } else if (!strcmp(key, "skip")) {
            if (need_kind(w, v, SW_DOC_SEQ, "skip")) goto out;
            sw_buf_puts(b, "skip [");
            for (size_t i = 0; i < v->n; i++) {
                if (i) sw_buf_puts(b, ", ");
                if (dsl_string(w, b, v->items[i], "a skipped tensor")) goto out;
            }
            sw_buf_putc(b, ']');
        } else if (!strcmp(key, "bucket")) {
            sw_buf_puts(b, "bucket ");
            if (dsl_qty(w, b, v, "bucket")) goto out;
        } else {
            dw_fail(w, s->keys[k], "unknown key '%s' in a sync", key);
            goto out;
        }
    }
    emit_clauses(w, &cl, 0);
    rc = 0;
out:
    free_clauses(&cl);
    return rc;
}

static int dsl_topology(dw *w, const sw_doc *t) {
    if (need_kind(w, t, SW_DOC_MAP, "topology")) return -1;
    sw_buf *o = &w->out;
    sw_buf_puts(o, "\ntopology {\n");
    for (size_t k = 0; k < t->n; k++) {
        const char *key = t->keys[k]->text;
        const sw_doc *v = t->vals[k];
        if (!strcmp(key, "gpus_per_nic")) {
            sw_buf_puts(o, "  gpus_per_nic ");
            if (dsl_expr(w, o, v, "gpus_per_nic")) return -1;
            sw_buf_putc(o, '\n');
        } else if (!strcmp(key, "links")) {
            if (need_kind(w, v, SW_DOC_MAP, "links")) return -1;
            for (size_t i = 0; i < v->n; i++) {
                const sw_doc *ln = v->keys[i], *lv = v->vals[i];
                if (!is_identifier(ln->text) || sw__doc_is_word(ln->text, dsl_keywords))
                    return dw_fail(w, ln, "the link name '%s' is not an identifier", ln->text);
                if (need_kind(w, lv, SW_DOC_MAP, "a link")) return -1;
                if (!lv->n) return dw_fail(w, lv, "the link '%s' is empty", ln->text);
                sw_buf_puts(o, "  ");
                sw_buf_puts(o, ln->text);
                for (size_t j = 0; j < lv->n; j++) {
                    const char *lk = lv->keys[j]->text;
                    if (strcmp(lk, "bandwidth") && strcmp(lk, "latency"))
                        return dw_fail(w, lv->keys[j], "unknown key '%s' in a link", lk);
                    sw_buf_putc(o, ' ');
                    sw_buf_puts(o, lk);
                    sw_buf_putc(o, ' ');
                    if (dsl_qty(w, o, lv->vals[j], lk)) return -1;
                }
                sw_buf_putc(o, '\n');
            }
        } else {
            return dw_fail(w, t->keys[k], "unknown key '%s' in topology", key);
        }
    }
    sw_buf_puts(o, "}\n");
    return 0;
}

static int dsl_root(dw *w, const sw_doc *root) {
    if (need_kind(w, root, SW_DOC_MAP, "the document")) return -1;
    const sw_doc *ver = sw_doc_get(root, "shardwave");
    if (!ver) return dw_fail(w, root, "the document has no 'shardwave' version");
    if (need_scalar(w, ver, "shardwave") ) return -1;
    for (const char *p = ver->text; *p; p++)
        if (!isdigit((unsigned char)*p) || ver->style != SW_DOC_PLAIN)
            return dw_fail(w, ver, "the version must be an integer");
    if (!ver->text[0]) return dw_fail(w, ver, "the version must be an integer");
    sw_buf_puts(&w->out, "shardwave ");
    sw_buf_puts(&w->out, ver->text);
    sw_buf_putc(&w->out, '\n');
    int first_sync = 1;
    for (size_t k = 0; k < root->n; k++) {
        const char *key = root->keys[k]->text;
        const sw_doc *v = root->vals[k];
        if (!strcmp(key, "shardwave")) continue;
        if (!strcmp(key, "model")) {
            if (dsl_model(w, v)) return -1;
        } else if (!strcmp(key, "layouts")) {
            if (need_kind(w, v, SW_DOC_MAP, "layouts")) return -1;
            for (size_t i = 0; i < v->n; i++)
                if (dsl_layout(w, v->keys[i], v->vals[i])) return -1;
        } else if (!strcmp(key, "syncs")) {
            if (need_kind(w, v, SW_DOC_SEQ, "syncs")) return -1;
            for (size_t i = 0; i < v->n; i++) {
                if (first_sync) sw_buf_putc(&w->out, '\n');
                first_sync = 0;
                if (dsl_sync(w, v->items[i])) return -1;
            }
        } else if (!strcmp(key, "topology")) {
            if (dsl_topology(w, v)) return -1;
        } else {
            return dw_fail(w, root->keys[k], "unknown top-level key '%s'", key);
        }
    }
    return 0;
}

int sw_doc_write_dsl(FILE *f, const sw_doc *root, sw_error *err) {
    dw w;
    memset(&w, 0, sizeof w);
    w.err = err;
    int rc = SW_OK;
    if (dsl_root(&w, root)) rc = err ? err->status : SW_INPUT;
    else if (w.out.oom) rc = sw__err(err, SW_NOMEM, "out of memory writing the DSL");
    else if (fwrite(w.out.d, 1, w.out.n, f) != w.out.n) rc = sw__err(err, SW_IO, "cannot write the output");
    sw_buf_free(&w.out);
    return rc;
}

