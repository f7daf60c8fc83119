#include "doc_write.h"
#include "dsl_load.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define LINE_WIDTH 100

/* ---- a growable string ------------------------------------------------------------ */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_putn(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (SW_GROW(b->p, b->cap, b->n + n + 1)) {
        b->oom = 1;
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void sb_puts(sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_putc(sbuf *b, char ch) { sb_putn(b, &ch, 1); }
static void sb_indent(sbuf *b, int n) {
    for (int i = 0; i < n; i++) sb_putc(b, ' ');
}
static void sb_free(sbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- YAML ------------------------------------------------------------------------- */

static int is_word(const char *s, const char *const *words) {
    for (; *words; words++)
        if (!strcmp(s, *words)) return 1;
    return 0;
}

/* Would a plain scalar with this text be read back as something other than a string? */
static int looks_typed(const char *s) {
    static const char *const w[] = {"true", "false", "True", "False", "TRUE", "FALSE", "yes", "no", "Yes", "No",
                                    "YES", "NO", "on", "off", "On", "Off", "ON", "OFF", "y", "n", "Y", "N",
                                    "null", "Null", "NULL", "~", NULL};
    if (!*s || is_word(s, w)) return 1;
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    if (*p == '.') p++;
    return isdigit((unsigned char)*p);
}

/* Can text be written as a plain scalar (in a flow collection when in_flow)? */
static int plain_ok(const char *s, int in_flow) {
    size_t n = strlen(s);
    if (!n || s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':') return 0;
    if (strchr("?:,[]{}#&*!|>'\"%@`", s[0])) return 0;
    if (s[0] == '-' && (n == 1 || s[1] == ' ')) return 0;
    for (const char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20 || ch == 0x7f) return 0;
        if (ch == ':' && (p[1] == ' ' || in_flow)) return 0;
        if (ch == '#' && p > s && p[-1] == ' ') return 0;
        if (in_flow && strchr(",[]{}", ch)) return 0;
    }
    return 1;
}

static void yaml_quoted(sbuf *b, const char *s) {
    sb_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char tmp[8];
        if (*p == '"' || *p == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)*p);
        } else if (*p == '\n') {
            sb_puts(b, "\\n");
        } else if (*p == '\t') {
            sb_puts(b, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", *p);
            sb_puts(b, tmp);
        } else {
            sb_putc(b, (char)*p);
        }
    }
    sb_putc(b, '"');
}

static void yaml_scalar(sbuf *b, const sw_doc *d, int in_flow) {
    if (d->style == SW_DOC_PLAIN && !d->text[0]) { /* an empty value (null) stays null */
        sb_puts(b, "null");
        return;
    }
    int plain = plain_ok(d->text, in_flow) && (d->style == SW_DOC_PLAIN || !looks_typed(d->text));
    if (plain) sb_puts(b, d->text);
    else yaml_quoted(b, d->text);
}

static int depth(const sw_doc *d) {
    if (d->kind == SW_DOC_SCALAR) return 0;
    int m = 0;
    for (size_t i = 0; i < d->n; i++) {
        int k = depth(d->kind == SW_DOC_MAP ? d->vals[i] : d->items[i]);
        if (k > m) m = k;
    }
    return m + 1;
}

static void yaml_flow(sbuf *b, const sw_doc *d) {
    if (d->kind == SW_DOC_SCALAR) {
        yaml_scalar(b, d, 1);
        return;
    }
    int map = d->kind == SW_DOC_MAP;
    sb_putc(b, map ? '{' : '[');
    for (size_t i = 0; i < d->n; i++) {
        if (i) sb_puts(b, ", ");
        if (map) {
            yaml_scalar(b, d->keys[i], 1);
            sb_puts(b, ": ");
            yaml_flow(b, d->vals[i]);
        } else {
            yaml_flow(b, d->items[i]);
        }
    }
    sb_putc(b, map ? '}' : ']');
}

/* The flow form of d when it is short and shallow enough for one line of `room`. */
static int try_flow(sbuf *b, const sw_doc *d, int room) {
    if (d->kind == SW_DOC_SCALAR) {
        yaml_scalar(b, d, 0);
        return 1;
    }
    if (depth(d) > 2 && d->n) return 0;
    if (d->kind == SW_DOC_SEQ) /* lists of mappings (tensors, rules, syncs) stay in block style */
        for (size_t i = 0; i < d->n; i++)
            if (d->items[i]->kind == SW_DOC_MAP) return 0;
    sbuf t = {0};
    yaml_flow(&t, d);
    int ok = !t.oom && (int)t.n <= room;
    if (ok) sb_puts(b, t.p);
    sb_free(&t);
    return ok;
}

static void yaml_block(sbuf *b, const sw_doc *d, int indent, int first_inline);

/* The value after "key:" or "- ", at column col, of a block node at indent. */
static void yaml_value(sbuf *b, const sw_doc *v, int indent, int col) {
    sb_putc(b, ' ');
    if (try_flow(b, v, LINE_WIDTH - col - 1)) {
        sb_putc(b, '\n');
        return;
    }
    b->n--; /* the space */
    sb_putc(b, '\n');
    yaml_block(b, v, indent, 0);
}

/* A block collection whose lines start at indent; when first_inline, the first line
 * continues a "- " already written. */
static void yaml_block(sbuf *b, const sw_doc *d, int indent, int first_inline) {
    for (size_t i = 0; i < d->n; i++) {
        if (!(first_inline && i == 0)) sb_indent(b, indent);
        if (d->kind == SW_DOC_MAP) {
            size_t at = b->n;
            yaml_scalar(b, d->keys[i], 0);
            sb_putc(b, ':');
            int col = indent + (int)(b->n - at);
            const sw_doc *v = d->vals[i];
            yaml_value(b, v, v->kind == SW_DOC_SEQ ? indent : indent + 2, col);
        } else {
            const sw_doc *v = d->items[i];
            sb_putc(b, '-');
            if (v->kind == SW_DOC_MAP && v->n) {
                sb_putc(b, ' ');
                if (try_flow(b, v, LINE_WIDTH - indent - 2)) sb_putc(b, '\n');
                else yaml_block(b, v, indent + 2, 1);
            } else {
                yaml_value(b, v, indent + 2, indent + 1);
            }
        }
    }
}

int sw_doc_write_yaml(FILE *f, const sw_doc *root, sw_error *err) {
    sbuf b = {0};
    if (root->kind == SW_DOC_SCALAR) {
        yaml_scalar(&b, root, 0);
        sb_putc(&b, '\n');
    } else if (!root->n) {
        sb_puts(&b, root->kind == SW_DOC_MAP ? "{}\n" : "[]\n");
    } else {
        yaml_block(&b, root, 0, 0);
    }
    int rc = SW_OK;
    if (b.oom) rc = sw__err(err, SW_NOMEM, "out of memory writing YAML");
    else if (fwrite(b.p, 1, b.n, f) != b.n) rc = sw__err(err, SW_IO, "cannot write the output");
    sb_free(&b);
    return rc;
}

/* ---- DSL -------------------------------------------------------------------------- */

static const char *const dsl_keywords[] = {
    "shardwave", "model", "dtype", "let", "tensor", "for", "in", "shape", "layout", "first_rank", "mesh",
    "hosts", "place", "as", "where", "split", "over", "uneven", "pad", "to", "fuse", "dim", "groups", "unit",
    "perm", "stack", "sync", "from", "skip", "bucket", "topology", "bandwidth", "latency", "gpus_per_nic",
    "true", "false", NULL};

typedef struct dw {
    sbuf out;
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

static int dsl_string(dw *w, sbuf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    sb_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)d->text; *p; p++) {
        if (*p == '"' || *p == '\\') {
            sb_putc(b, '\\');
            sb_putc(b, (char)*p);
        } else if (*p == '\n') {
            sb_puts(b, "\\n");
        } else if (*p == '\t') {
            sb_puts(b, "\\t");
        } else if (*p < 0x20) {
            return dw_fail(w, d, "%s holds a control character", what);
        } else {
            sb_putc(b, (char)*p);
        }
    }
    sb_putc(b, '"');
    return 0;
}

/* A name: bare when it is an identifier and no keyword, else quoted. */
static int dsl_name(dw *w, sbuf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    if (is_identifier(d->text) && !is_word(d->text, dsl_keywords)) {
        sb_puts(b, d->text);
        return 0;
    }
    return dsl_string(w, b, d, what);
}

/* A variable, constant or axis name: must be an identifier (keywords are fine). */
static int dsl_ident(dw *w, sbuf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    if (!is_identifier(d->text) || !strcmp(d->text, "true") || !strcmp(d->text, "false"))
        return dw_fail(w, d, "%s '%s' is not an identifier", what, d->text);
    sb_puts(b, d->text);
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
static int dsl_expr(dw *w, sbuf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    if (d->style == SW_DOC_PLAIN && (!d->text[0] || !strcmp(d->text, "~") || !strcmp(d->text, "Null") ||
                                     !strcmp(d->text, "NULL"))) {
        sb_puts(b, "null"); /* YAML's empty value: the DSL spells it null, read back as PLAIN null */
        return 0;
    }
    int typed = !strcmp(d->text, "true") || !strcmp(d->text, "false");
    if ((d->style == SW_DOC_PLAIN || !typed) && bare_value_ok(d->text)) {
        sb_puts(b, d->text);
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

static int dsl_qty(dw *w, sbuf *b, const sw_doc *d, const char *what) {
    if (need_scalar(w, d, what)) return -1;
    if (d->style == SW_DOC_PLAIN && qty_lexeme(d->text)) {
        sb_puts(b, d->text);
        return 0;
    }
    return dsl_string(w, b, d, what);
}

static int need_kind(dw *w, const sw_doc *d, sw_doc_kind k, const char *what) {
    if (d->kind == k) return 0;
    return dw_fail(w, d, "%s must be %s, not %s", what, sw_doc_kind_name(k), sw_doc_kind_name(d->kind));
}

/* [e, e, ...] */
static int dsl_expr_list(dw *w, sbuf *b, const sw_doc *d, const char *what) {
    if (need_kind(w, d, SW_DOC_SEQ, what)) return -1;
    sb_putc(b, '[');
    for (size_t i = 0; i < d->n; i++) {
        if (i) sb_puts(b, ", ");
        if (dsl_expr(w, b, d->items[i], what)) return -1;
    }
    sb_putc(b, ']');
    return 0;
}

/* k = e, k = e */
static int dsl_pairs(dw *w, sbuf *b, const sw_doc *d, const char *what) {
    if (need_kind(w, d, SW_DOC_MAP, what)) return -1;
    if (!d->n) return dw_fail(w, d, "%s is empty", what);
    for (size_t i = 0; i < d->n; i++) {
        if (i) sb_puts(b, ", ");
        if (dsl_ident(w, b, d->keys[i], what)) return -1;
        sb_puts(b, " = ");
        if (dsl_expr(w, b, d->vals[i], what)) return -1;
    }
    return 0;
}

/* i in R, j in a .. b */
static int dsl_for(dw *w, sbuf *b, const sw_doc *d, const char *what) {
    if (need_kind(w, d, SW_DOC_MAP, what)) return -1;
    if (!d->n) return dw_fail(w, d, "%s is empty", what);
    for (size_t i = 0; i < d->n; i++) {
        if (i) sb_puts(b, ", ");
        if (dsl_ident(w, b, d->keys[i], what)) return -1;
        sb_puts(b, " in ");
        const sw_doc *r = d->vals[i];
        if (r->kind == SW_DOC_SEQ) {
            if (r->n != 2) return dw_fail(w, r, "a range of %s must be [from, to]", what);
            if (dsl_expr(w, b, r->items[0], what)) return -1;
            sb_puts(b, " .. ");
            if (dsl_expr(w, b, r->items[1], what)) return -1;
        } else if (dsl_expr(w, b, r, what)) {
            return -1;
        }
    }
    return 0;
}

/* A clause list: clauses joined by spaces, wrapped before a clause past the width. */
typedef struct clauses {
    sbuf c[32];
    int n;
} clauses;

static sbuf *clause(dw *w, clauses *cl, const sw_doc *at) {
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
    sb_indent(&w->out, indent);
    for (int i = 0; i < cl->n; i++) {
        if (cl->c[i].oom) w->out.oom = 1;
        if (!cl->c[i].p) continue;
        const char *nl = strchr(cl->c[i].p, '\001');
        int width = nl ? (int)(nl - cl->c[i].p) : (int)cl->c[i].n;
        if (i > 1 && total > LINE_WIDTH && col + 1 + width > LINE_WIDTH) {
            sb_putc(&w->out, '\n');
            sb_indent(&w->out, indent + 4);
            col = indent + 4;
        } else if (i) {
            sb_putc(&w->out, ' ');
            col++;
        }
        /* \001 breaks a long list: the next item goes under the first, after its '[' */
        int open_col = -1;
        for (const char *q = cl->c[i].p; *q; q++) {
            if (*q == '\001') {
                sb_putc(&w->out, '\n');
                sb_indent(&w->out, open_col);
                col = open_col;
                continue;
            }
            sb_putc(&w->out, *q);
            col++;
            if (*q == '[' && open_col < 0) open_col = col;
        }
    }
    sb_putc(&w->out, '\n');
}

static void free_clauses(clauses *cl) {
    for (int i = 0; i < cl->n; i++) sb_free(&cl->c[i]);
    cl->n = 0;
}

static int dsl_parts(dw *w, sbuf *b, const sw_doc *d) {
    if (need_kind(w, d, SW_DOC_SEQ, "fuse parts")) return -1;
    size_t total = 0;
    for (size_t i = 0; i < d->n; i++) {
        const sw_doc *p = d->items[i]->kind == SW_DOC_MAP ? sw_doc_get(d->items[i], "tensor") : d->items[i];
        total += (p && p->kind == SW_DOC_SCALAR ? strlen(p->text) : 0) + 4 + 8 * (d->items[i]->kind == SW_DOC_MAP);
    }
    int one_per_line = total > 70 && d->n > 1;
    sb_putc(b, '[');
    for (size_t i = 0; i < d->n; i++) {
        const sw_doc *p = d->items[i];
        if (i) sb_puts(b, one_per_line ? ",\001" : ", ");
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
                sb_puts(b, " unit ");
                if (dsl_expr(w, b, p->vals[k], "unit")) return -1;
            } else if (!strcmp(key, "perm")) {
                sb_puts(b, " perm ");
                if (dsl_expr_list(w, b, p->vals[k], "perm")) return -1;
            } else {
                return dw_fail(w, p->keys[k], "unknown key '%s' in a fuse part", key);
            }
        }
    }
    sb_putc(b, ']');
    return 0;
}

static int dsl_fuse(dw *w, sbuf *b, const sw_doc *f) {
    if (need_kind(w, f, SW_DOC_MAP, "fuse")) return -1;
    if (!f->n) return dw_fail(w, f, "fuse is empty");
    sb_puts(b, "fuse");
    for (size_t k = 0; k < f->n; k++) {
        const char *key = f->keys[k]->text;
        sb_putc(b, ' ');
        if (!strcmp(key, "dim")) {
            sb_puts(b, "dim ");
            if (dsl_expr(w, b, f->vals[k], "fuse dim")) return -1;
        } else if (!strcmp(key, "groups")) {
            sb_puts(b, "groups ");
            if (dsl_expr(w, b, f->vals[k], "groups")) return -1;
        } else if (!strcmp(key, "parts")) {
            if (dsl_parts(w, b, f->vals[k])) return -1;
        } else {
            return dw_fail(w, f->keys[k], "unknown key '%s' in fuse", key);
        }
    }
    return 0;
}

static int dsl_stack(dw *w, sbuf *b, const sw_doc *s) {
    if (need_kind(w, s, SW_DOC_MAP, "stack")) return -1;
    const sw_doc *over = sw_doc_get(s, "over"), *item = sw_doc_get(s, "item");
    for (size_t k = 0; k < s->n; k++)
        if (strcmp(s->keys[k]->text, "over") && strcmp(s->keys[k]->text, "item"))
            return dw_fail(w, s->keys[k], "unknown key '%s' in stack", s->keys[k]->text);
    if (!over || !item) return dw_fail(w, s, "stack needs 'over' and 'item'");
    sb_puts(b, "stack ");
    if (dsl_for(w, b, over, "stack over")) return -1;
    sb_puts(b, " { ");
    if (need_kind(w, item, SW_DOC_MAP, "stack item")) return -1;
    if (!item->n) return dw_fail(w, item, "the stack item is empty");
    for (size_t k = 0; k < item->n; k++) {
        const char *key = item->keys[k]->text;
        if (k) sb_putc(b, ' ');
        if (!strcmp(key, "tensor")) {
            if (k) sb_puts(b, "tensor ");
            if (dsl_string(w, b, item->vals[k], "the stack item")) return -1;
        } else if (!strcmp(key, "fuse")) {
            if (dsl_fuse(w, b, item->vals[k])) return -1;
        } else if (!strcmp(key, "perm")) {
            sb_puts(b, "perm ");
            if (dsl_expr_list(w, b, item->vals[k], "perm")) return -1;
        } else {
            return dw_fail(w, item->keys[k], "unknown key '%s' in the stack item", key);
        }
    }
    sb_puts(b, " }");
    return 0;
}

static int dsl_rule(dw *w, const sw_doc *r) {
    if (need_kind(w, r, SW_DOC_MAP, "a placement rule")) return -1;
    clauses cl = {0};
    int rc = -1;
    sbuf *b = clause(w, &cl, r);
    sb_puts(b, "place");
    for (size_t k = 0; k < r->n; k++) {
        const char *key = r->keys[k]->text;
        const sw_doc *v = r->vals[k];
        if (!(b = clause(w, &cl, r->keys[k]))) goto out;
        if (!strcmp(key, "tensor")) {
            if (k) sb_puts(b, "tensor ");
            if (dsl_string(w, b, v, "tensor")) goto out;
            if (!k) { /* "place" and the tensor stay together */
                sbuf *head = &cl.c[0];
                sb_putc(head, ' ');
                sb_puts(head, b->p);
                sb_free(b);
                cl.n--;
            }
        } else if (!strcmp(key, "for")) {
            sb_puts(b, "for ");
            if (dsl_for(w, b, v, "for")) goto out;
        } else if (!strcmp(key, "let")) {
            sb_puts(b, "let ");
            if (dsl_pairs(w, b, v, "let")) goto out;
        } else if (!strcmp(key, "as")) {
            sb_puts(b, "as ");
            if (dsl_string(w, b, v, "as")) goto out;
        } else if (!strcmp(key, "where")) {
            sb_puts(b, "where ");
            if (dsl_pairs(w, b, v, "where")) goto out;
        } else if (!strcmp(key, "split") || !strcmp(key, "pad")) {
            int split = key[0] == 's';
            if (need_kind(w, v, SW_DOC_MAP, key)) goto out;
            if (!v->n) {
                dw_fail(w, v, "%s is empty", key);
                goto out;
            }
            sb_puts(b, key);
            for (size_t i = 0; i < v->n; i++) {
                sb_puts(b, i ? ", " : " ");
                if (dsl_expr(w, b, v->keys[i], split ? "a split dim" : "a pad dim")) goto out;
                sb_puts(b, split ? " over " : " to ");
                const sw_doc *x = v->vals[i];
                if (!split) {
                    if (dsl_expr(w, b, x, "a pad multiple")) goto out;
                } else if (x->kind == SW_DOC_SEQ) {
                    sb_putc(b, '[');
                    for (size_t j = 0; j < x->n; j++) {
                        if (j) sb_puts(b, ", ");
                        if (dsl_ident(w, b, x->items[j], "a split axis")) goto out;
                    }
                    sb_putc(b, ']');
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
            if (!strcmp(v->text, "true") && v->style == SW_DOC_PLAIN) sb_puts(b, "uneven");
            else if (!strcmp(v->text, "false") && v->style == SW_DOC_PLAIN) sb_puts(b, "uneven false");
            else {
                dw_fail(w, v, "uneven must be true or false");
                goto out;
            }
        } else if (!strcmp(key, "fuse")) {
            if (dsl_fuse(w, b, v)) goto out;
        } else if (!strcmp(key, "stack")) {
            if (dsl_stack(w, b, v)) goto out;
        } else if (!strcmp(key, "perm")) {
            sb_puts(b, "perm ");
            if (dsl_expr_list(w, b, v, "perm")) goto out;
        } else if (!strcmp(key, "dtype")) {
            sb_puts(b, "dtype ");
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

static int dsl_hval(dw *w, sbuf *b, const sw_doc *v) {
    if (v->kind == SW_DOC_MAP) return dw_fail(w, v, "a hosts value cannot be a mapping");
    if (v->kind == SW_DOC_SCALAR) return dsl_expr(w, b, v, "a hosts value");
    sb_putc(b, '[');
    for (size_t i = 0; i < v->n; i++) {
        if (i) sb_puts(b, ", ");
        if (dsl_hval(w, b, v->items[i])) return -1;
    }
    sb_putc(b, ']');
    return 0;
}

static int dsl_layout(dw *w, const sw_doc *name, const sw_doc *l) {
    if (need_kind(w, l, SW_DOC_MAP, "a layout")) return -1;
    sbuf *o = &w->out;
    sb_puts(o, "\nlayout ");
    if (dsl_name(w, o, name, "a layout name")) return -1;
    const sw_doc *place = NULL;
    for (size_t k = 0; k < l->n; k++) {
        const char *key = l->keys[k]->text;
        const sw_doc *v = l->vals[k];
        if (!strcmp(key, "first_rank")) {
            sb_puts(o, " first_rank ");
            if (dsl_expr(w, o, v, "first_rank")) return -1;
        } else if (!strcmp(key, "mesh")) {
            sb_puts(o, " mesh(");
            if (dsl_pairs(w, o, v, "mesh")) return -1;
            sb_putc(o, ')');
        } else if (!strcmp(key, "hosts")) {
            if (need_kind(w, v, SW_DOC_MAP, "hosts")) return -1;
            if (!v->n) return dw_fail(w, v, "hosts is empty");
            sb_puts(o, " hosts(");
            for (size_t i = 0; i < v->n; i++) {
                if (i) sb_puts(o, ", ");
                if (dsl_ident(w, o, v->keys[i], "a hosts key")) return -1;
                sb_puts(o, " = ");
                if (dsl_hval(w, o, v->vals[i])) return -1;
            }
            sb_putc(o, ')');
        } else if (!strcmp(key, "place")) {
            if (need_kind(w, v, SW_DOC_SEQ, "place")) return -1;
            place = v;
        } else {
            return dw_fail(w, l->keys[k], "unknown key '%s' in a layout", key);
        }
    }
    if (!place) {
        sb_putc(o, '\n');
        return 0;
    }
    sb_puts(o, " {\n");
    for (size_t i = 0; i < place->n; i++)
        if (dsl_rule(w, place->items[i])) return -1;
    sb_puts(o, "}\n");
    return 0;
}

static int dsl_tensor(dw *w, const sw_doc *t) {
    if (need_kind(w, t, SW_DOC_MAP, "a model tensor")) return -1;
    const sw_doc *name = sw_doc_get(t, "name");
    if (!name) return dw_fail(w, t, "a model tensor needs 'name'");
    clauses cl = {0};
    int rc = -1;
    sbuf *b = clause(w, &cl, t);
    sb_puts(b, "tensor ");
    if (dsl_string(w, b, name, "a tensor name")) goto out;
    for (size_t k = 0; k < t->n; k++) {
        const char *key = t->keys[k]->text;
        const sw_doc *v = t->vals[k];
        if (!strcmp(key, "name")) continue;
        if (!(b = clause(w, &cl, t->keys[k]))) goto out;
        if (!strcmp(key, "for")) {
            sb_puts(b, "for ");
            if (dsl_for(w, b, v, "for")) goto out;
        } else if (!strcmp(key, "let")) {
            sb_puts(b, "let ");
            if (dsl_pairs(w, b, v, "let")) goto out;
        } else if (!strcmp(key, "shape")) {
            sb_puts(b, "shape ");
            if (dsl_expr_list(w, b, v, "shape")) goto out;
        } else if (!strcmp(key, "dtype")) {
            sb_puts(b, "dtype ");
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
    sbuf *o = &w->out;
    sb_puts(o, "\nmodel");
    const sw_doc *let = NULL, *tensors = NULL;
    for (size_t k = 0; k < m->n; k++) {
        const char *key = m->keys[k]->text;
        const sw_doc *v = m->vals[k];
        if (!strcmp(key, "name")) {
            sb_putc(o, ' ');
            if (dsl_name(w, o, v, "the model name")) return -1;
        } else if (!strcmp(key, "dtype")) {
            sb_puts(o, " dtype ");
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
    sb_puts(o, " {\n");
    /* let entries, packed into lines */
    for (size_t i = 0; let && i < let->n;) {
        sbuf line = {0};
        sb_puts(&line, "  let ");
        size_t first = i;
        for (; i < let->n; i++) {
            sbuf e = {0};
            int bad = dsl_ident(w, &e, let->keys[i], "a let name");
            sb_puts(&e, " = ");
            bad = bad || dsl_expr(w, &e, let->vals[i], "a let value");
            if (bad || (i > first && line.n + 2 + e.n > LINE_WIDTH)) {
                sb_free(&e);
                if (bad) {
                    sb_free(&line);
                    return -1;
                }
                break;
            }
            if (i > first) sb_puts(&line, ", ");
            sb_puts(&line, e.p);
            sb_free(&e);
        }
        sb_puts(o, line.p);
        sb_putc(o, '\n');
        sb_free(&line);
    }
    if (let && let->n && tensors && tensors->n) sb_putc(o, '\n');
    for (size_t i = 0; tensors && i < tensors->n; i++)
        if (dsl_tensor(w, tensors->items[i])) return -1;
    sb_puts(o, "}\n");
    return 0;
}

static int dsl_sync(dw *w, const sw_doc *s) {
    if (need_kind(w, s, SW_DOC_MAP, "a sync")) return -1;
    clauses cl = {0};
    int rc = -1;
    sbuf *b = clause(w, &cl, s);
    sb_puts(b, "sync");
    const sw_doc *name = sw_doc_get(s, "name");
    if (name) {
        sb_putc(b, ' ');
        if (dsl_name(w, b, name, "a sync name")) goto out;
    }
    for (size_t k = 0; k < s->n; k++) {
        const char *key = s->keys[k]->text;
        const sw_doc *v = s->vals[k];
        if (!strcmp(key, "name")) continue;
        if (!(b = clause(w, &cl, s->keys[k]))) goto out;
        if (!strcmp(key, "from") || !strcmp(key, "to")) {
            sb_puts(b, key);
            sb_putc(b, ' ');
            if (dsl_name(w, b, v, key)) goto out;
        } else if (!strcmp(key, "skip")) {
            if (need_kind(w, v, SW_DOC_SEQ, "skip")) goto out;
            sb_puts(b, "skip [");
            for (size_t i = 0; i < v->n; i++) {
                if (i) sb_puts(b, ", ");
                if (dsl_string(w, b, v->items[i], "a skipped tensor")) goto out;
            }
            sb_putc(b, ']');
        } else if (!strcmp(key, "bucket")) {
            sb_puts(b, "bucket ");
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
    sbuf *o = &w->out;
    sb_puts(o, "\ntopology {\n");
    for (size_t k = 0; k < t->n; k++) {
        const char *key = t->keys[k]->text;
        const sw_doc *v = t->vals[k];
        if (!strcmp(key, "gpus_per_nic")) {
            sb_puts(o, "  gpus_per_nic ");
            if (dsl_expr(w, o, v, "gpus_per_nic")) return -1;
            sb_putc(o, '\n');
        } else if (!strcmp(key, "links")) {
            if (need_kind(w, v, SW_DOC_MAP, "links")) return -1;
            for (size_t i = 0; i < v->n; i++) {
                const sw_doc *ln = v->keys[i], *lv = v->vals[i];
                if (!is_identifier(ln->text) || is_word(ln->text, dsl_keywords))
                    return dw_fail(w, ln, "the link name '%s' is not an identifier", ln->text);
                if (need_kind(w, lv, SW_DOC_MAP, "a link")) return -1;
                if (!lv->n) return dw_fail(w, lv, "the link '%s' is empty", ln->text);
                sb_puts(o, "  ");
                sb_puts(o, ln->text);
                for (size_t j = 0; j < lv->n; j++) {
                    const char *lk = lv->keys[j]->text;
                    if (strcmp(lk, "bandwidth") && strcmp(lk, "latency"))
                        return dw_fail(w, lv->keys[j], "unknown key '%s' in a link", lk);
                    sb_putc(o, ' ');
                    sb_puts(o, lk);
                    sb_putc(o, ' ');
                    if (dsl_qty(w, o, lv->vals[j], lk)) return -1;
                }
                sb_putc(o, '\n');
            }
        } else {
            return dw_fail(w, t->keys[k], "unknown key '%s' in topology", key);
        }
    }
    sb_puts(o, "}\n");
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
    sb_puts(&w->out, "shardwave ");
    sb_puts(&w->out, ver->text);
    sb_putc(&w->out, '\n');
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
                if (first_sync) sb_putc(&w->out, '\n');
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
    else if (fwrite(w.out.p, 1, w.out.n, f) != w.out.n) rc = sw__err(err, SW_IO, "cannot write the output");
    sb_free(&w.out);
    return rc;
}

int sw_doc_to_string(const sw_doc *root, int dsl, char **out, sw_error *err) {
    char *p = NULL;
    size_t n = 0;
    *out = NULL;
    FILE *f = open_memstream(&p, &n);
    if (!f) return sw__err(err, SW_NOMEM, "out of memory");
    int rc = dsl ? sw_doc_write_dsl(f, root, err) : sw_doc_write_yaml(f, root, err);
    if (fclose(f) && !rc) rc = sw__err(err, SW_NOMEM, "out of memory");
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    return SW_OK;
}
