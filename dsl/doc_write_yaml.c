/*
 * doc_write_yaml.c - the document tree as canonical YAML (see doc_write.h).
 */
#include "doc_write.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int sw__doc_is_word(const char *s, const char *const *words) {
    for (; *words; words++)
        if (!strcmp(s, *words)) return 1;
    return 0;
}

/* Would a plain scalar with this text be read back as something other than a string? */
static int looks_typed(const char *s) {
    static const char *const w[] = {"true", "false", "True", "False", "TRUE", "FALSE", "yes", "no", "Yes", "No",
                                    "YES", "NO", "on", "off", "On", "Off", "ON", "OFF", "y", "n", "Y", "N",
                                    "null", "Null", "NULL", "~", NULL};
    if (!*s || sw__doc_is_word(s, w)) return 1;
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

static void yaml_quoted(sw_buf *b, const char *s) {
    sw_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char tmp[8];
        if (*p == '"' || *p == '\\') {
            sw_buf_putc(b, '\\');
            sw_buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            sw_buf_puts(b, "\\n");
        } else if (*p == '\t') {
            sw_buf_puts(b, "\\t");
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", *p);
            sw_buf_puts(b, tmp);
        } else {
            sw_buf_putc(b, (char)*p);
        }
    }
    sw_buf_putc(b, '"');
}

static void yaml_scalar(sw_buf *b, const sw_doc *d, int in_flow) {
    if (d->style == SW_DOC_PLAIN && !d->text[0]) { /* an empty value (null) stays null */
        sw_buf_puts(b, "null");
        return;
    }
    int plain = plain_ok(d->text, in_flow) && (d->style == SW_DOC_PLAIN || !looks_typed(d->text));
    if (plain) sw_buf_puts(b, d->text);
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

static void yaml_flow(sw_buf *b, const sw_doc *d) {
    if (d->kind == SW_DOC_SCALAR) {
        yaml_scalar(b, d, 1);
        return;
    }
    int map = d->kind == SW_DOC_MAP;
    sw_buf_putc(b, map ? '{' : '[');
    for (size_t i = 0; i < d->n; i++) {
        if (i) sw_buf_puts(b, ", ");
        if (map) {
            yaml_scalar(b, d->keys[i], 1);
            sw_buf_puts(b, ": ");
            yaml_flow(b, d->vals[i]);
        } else {
            yaml_flow(b, d->items[i]);
        }
    }
    sw_buf_putc(b, map ? '}' : ']');
}

/* The flow form of d when it is short and shallow enough for one line of `room`. */
static int try_flow(sw_buf *b, const sw_doc *d, int room) {
    if (d->kind == SW_DOC_SCALAR) {
        yaml_scalar(b, d, 0);
        return 1;
    }
    if (depth(d) > 2 && d->n) return 0;
    if (d->kind == SW_DOC_SEQ) /* lists of mappings (tensors, rules, syncs) stay in block style */
        for (size_t i = 0; i < d->n; i++)
            if (d->items[i]->kind == SW_DOC_MAP) return 0;
    sw_buf t = {0};
    yaml_flow(&t, d);
    int ok = !t.oom && (int)t.n <= room;
    if (ok) sw_buf_puts(b, t.d);
    sw_buf_free(&t);
    return ok;
}

static void yaml_block(sw_buf *b, const sw_doc *d, int indent, int first_inline);

/* The value after "key:" or "- ", at column col, of a block node at indent. */
static void yaml_value(sw_buf *b, const sw_doc *v, int indent, int col) {
    sw_buf_putc(b, ' ');
    if (try_flow(b, v, SW_DOC_LINE_WIDTH - col - 1)) {
        sw_buf_putc(b, '\n');
        return;
    }
    b->n--; /* the space */
    sw_buf_putc(b, '\n');
    yaml_block(b, v, indent, 0);
}

/* A block collection whose lines start at indent; when first_inline, the first line
 * continues a "- " already written. */
static void yaml_block(sw_buf *b, const sw_doc *d, int indent, int first_inline) {
    for (size_t i = 0; i < d->n; i++) {
        if (!(first_inline && i == 0)) sw_buf_indent(b, indent);
        if (d->kind == SW_DOC_MAP) {
            size_t at = b->n;
            yaml_scalar(b, d->keys[i], 0);
            sw_buf_putc(b, ':');
            int col = indent + (int)(b->n - at);
            const sw_doc *v = d->vals[i];
            yaml_value(b, v, v->kind == SW_DOC_SEQ ? indent : indent + 2, col);
        } else {
            const sw_doc *v = d->items[i];
            sw_buf_putc(b, '-');
            if (v->kind == SW_DOC_MAP && v->n) {
                sw_buf_putc(b, ' ');
                if (try_flow(b, v, SW_DOC_LINE_WIDTH - indent - 2)) sw_buf_putc(b, '\n');
                else yaml_block(b, v, indent + 2, 1);
            } else {
                yaml_value(b, v, indent + 2, indent + 1);
            }
        }
    }
}

int sw_doc_write_yaml(FILE *f, const sw_doc *root, sw_error *err) {
    sw_buf b = {0};
    if (root->kind == SW_DOC_SCALAR) {
        yaml_scalar(&b, root, 0);
        sw_buf_putc(&b, '\n');
    } else if (!root->n) {
        sw_buf_puts(&b, root->kind == SW_DOC_MAP ? "{}\n" : "[]\n");
    } else {
        yaml_block(&b, root, 0, 0);
    }
    int rc = SW_OK;
    if (b.oom) rc = sw__err(err, SW_NOMEM, "out of memory writing YAML");
    else if (fwrite(b.d, 1, b.n, f) != b.n) rc = sw__err(err, SW_IO, "cannot write the output");
    sw_buf_free(&b);
    return rc;
}

/* ---- DSL -------------------------------------------------------------------------- */
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

