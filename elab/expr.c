#include "expr.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "bounds.h"

typedef enum { EX_NUM, EX_NAME, EX_NEG, EX_ADD, EX_SUB, EX_MUL, EX_DIV, EX_MOD, EX_MIN, EX_MAX, EX_CDIV, EX_RUP } ex_op;

struct sw_expr {
    ex_op op;
    int depth;  /* of the tree below, this node included: at most SW_MAX_EXPR_DEPTH */
    int64_t v;
    const char *name;
    sw_expr *a, *b;
};

int sw_scope_lookup(const sw_scope *s, const char *name, int64_t *v) {
    for (; s; s = s->up)
        for (size_t i = s->n; i-- > 0;)
            if (!strcmp(s->names[i], name)) {
                *v = s->vals[i];
                return 1;
            }
    return 0;
}

int sw_floordiv(int64_t a, int64_t b, int64_t *q) {
    if (b == 0 || (a == INT64_MIN && b == -1)) return -1;
    int64_t r = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) r--;
    *q = r;
    return 0;
}

int sw_floormod(int64_t a, int64_t b, int64_t *r) {
    if (b == 0) return -1;
    if (b == -1) {
        *r = 0;
        return 0;
    }
    int64_t m = a % b;
    if (m != 0 && ((m < 0) != (b < 0))) m += b;
    *r = m;
    return 0;
}

/* cdiv(a, b) = -((-a) / b) with floor division */
int sw_cdiv(int64_t a, int64_t b, int64_t *q) {
    int64_t t;
    if (a == INT64_MIN || sw_floordiv(-a, b, &t) || t == INT64_MIN) return -1;
    *q = -t;
    return 0;
}

/* ---- parser: recursive descent over the text ------------------------------------ */

typedef struct parser {
    sw_arena *a;
    const char *text, *p;
    sw_loc loc;
    sw_error *err;
    int nest; /* recursion depth of the parse (parentheses, calls, signs) */
} parser;

static void skip_ws(parser *P) {
    while (*P->p == ' ' || *P->p == '\t' || *P->p == '\n' || *P->p == '\r') P->p++;
}

static int perr(parser *P, const char *what) {
    int col = (int)(P->p - P->text) + 1;
    if (*P->p)
        return sw__err_at(P->err, SW_INPUT, P->loc, "bad expression '%s': %s at character %d ('%c')", P->text, what,
                          col, *P->p);
    return sw__err_at(P->err, SW_INPUT, P->loc, "bad expression '%s': %s at its end", P->text, what);
}

static sw_expr *mk(parser *P, ex_op op, sw_expr *a, sw_expr *b) {
    sw_expr *e = sw_arena_alloc(P->a, sizeof *e);
    if (!e) return NULL;
    e->op = op;
    e->a = a;
    e->b = b;
    e->depth = 1 + (a && (!b || a->depth >= b->depth) ? a->depth : b ? b->depth : 0);
    return e;
}

static int nomem(parser *P) { return sw__err(P->err, SW_NOMEM, "out of memory"); }

static int too_deep(parser *P) {
    return sw__err_at(P->err, SW_INPUT, P->loc,
                      "expression nested more than %d deep at character %d (parentheses, signs and operators; the "
                      "input limit)",
                      SW_MAX_EXPR_DEPTH, (int)(P->p - P->text) + 1);
}

/* Makes a node, refusing a tree deeper than the limit (evaluation recurses per level). */
static int mk_checked(parser *P, ex_op op, sw_expr *a, sw_expr *b, sw_expr **out) {
    if (!(*out = mk(P, op, a, b))) return nomem(P);
    return (*out)->depth > SW_MAX_EXPR_DEPTH ? too_deep(P) : SW_OK;
}

static int parse_sum(parser *P, sw_expr **out);

static int parse_atom(parser *P, sw_expr **out) {
    skip_ws(P);
    const char *s = P->p;
    if (isdigit((unsigned char)*s)) {
        int64_t v = 0;
        while (isdigit((unsigned char)*P->p)) {
            if (sw_mul64(v, 10, &v) || sw_add64(v, *P->p - '0', &v))
                return sw__err_at(P->err, SW_INPUT, P->loc, "integer literal too large in '%s'", P->text);
            P->p++;
        }
        if (isalpha((unsigned char)*P->p) || *P->p == '_' || *P->p == '.') return perr(P, "unexpected character");
        if (!(*out = mk(P, EX_NUM, NULL, NULL))) return nomem(P);
        (*out)->v = v;
        return SW_OK;
    }
    if (isalpha((unsigned char)*s) || *s == '_') {
        while (isalnum((unsigned char)*P->p) || *P->p == '_') P->p++;
        size_t n = (size_t)(P->p - s);
        skip_ws(P);
        if (*P->p == '(') {
            ex_op op;
            if (n == 3 && !strncmp(s, "min", 3)) op = EX_MIN;
            else if (n == 3 && !strncmp(s, "max", 3)) op = EX_MAX;
            else if (n == 4 && !strncmp(s, "cdiv", 4)) op = EX_CDIV;
            else if (n == 8 && !strncmp(s, "round_up", 8)) op = EX_RUP;
            else {
                P->p = s;
                return sw__err_at(P->err, SW_INPUT, P->loc,
                                  "bad expression '%s': unknown function '%.*s' (known: min, max, cdiv, round_up)",
                                  P->text, (int)n, s);
            }
            P->p++;
            sw_expr *a = NULL, *b = NULL;
            if (++P->nest > SW_MAX_EXPR_DEPTH) return too_deep(P);
            SW_CHECK(parse_sum(P, &a));
            skip_ws(P);
            if (*P->p != ',') return perr(P, "expected ',' between the two arguments");
            P->p++;
            SW_CHECK(parse_sum(P, &b));
            skip_ws(P);
            if (*P->p != ')') return perr(P, "expected ')'");
            P->p++;
            P->nest--;
            return mk_checked(P, op, a, b, out);
        }
        if (!(*out = mk(P, EX_NAME, NULL, NULL))) return nomem(P);
        if (!((*out)->name = sw_arena_strndup(P->a, s, n))) return nomem(P);
        return SW_OK;
    }
    if (*s == '(') {
        P->p++;
        if (++P->nest > SW_MAX_EXPR_DEPTH) return too_deep(P);
        SW_CHECK(parse_sum(P, out));
        skip_ws(P);
        if (*P->p != ')') return perr(P, "expected ')'");
        P->p++;
        P->nest--;
        return SW_OK;
    }
    return perr(P, *s ? "expected a number, a name or '('" : "expected a number, a name or '('");
}

static int parse_unary(parser *P, sw_expr **out) {
    skip_ws(P);
    if (*P->p == '-' || *P->p == '+') {
        int neg = *P->p == '-';
        P->p++;
        sw_expr *a;
        if (++P->nest > SW_MAX_EXPR_DEPTH) return too_deep(P);
        SW_CHECK(parse_unary(P, &a));
        P->nest--;
        if (!neg) {
            *out = a;
            return SW_OK;
        }
        return mk_checked(P, EX_NEG, a, NULL, out);
    }
    return parse_atom(P, out);
}

static int parse_prod(parser *P, sw_expr **out) {
    SW_CHECK(parse_unary(P, out));
    for (;;) {
        skip_ws(P);
        ex_op op;
        if (*P->p == '*') op = EX_MUL;
        else if (*P->p == '/') op = EX_DIV;
        else if (*P->p == '%') op = EX_MOD;
        else return SW_OK;
        P->p++;
        sw_expr *b;
        SW_CHECK(parse_unary(P, &b));
        SW_CHECK(mk_checked(P, op, *out, b, out));
    }
}

static int parse_sum(parser *P, sw_expr **out) {
    SW_CHECK(parse_prod(P, out));
    for (;;) {
        skip_ws(P);
        ex_op op;
        if (*P->p == '+') op = EX_ADD;
        else if (*P->p == '-') op = EX_SUB;
        else return SW_OK;
        P->p++;
        sw_expr *b;
        SW_CHECK(parse_prod(P, &b));
        SW_CHECK(mk_checked(P, op, *out, b, out));
    }
}

int sw_expr_parse(sw_arena *a, const char *text, sw_loc loc, sw_expr **out, sw_error *err) {
    parser P = {a, text, text, loc, err, 0};
    skip_ws(&P);
    if (!*P.p) return sw__err_at(err, SW_INPUT, loc, "expected an integer expression, found nothing");
    SW_CHECK(parse_sum(&P, out));
    skip_ws(&P);
    if (*P.p) return perr(&P, "unexpected character");
    return SW_OK;
}

int sw_expr_uses(const sw_expr *e, const char *name) {
    if (!e) return 0;
    if (e->op == EX_NAME) return !strcmp(e->name, name);
    return sw_expr_uses(e->a, name) || sw_expr_uses(e->b, name);
}

static const char *op_name(ex_op op) {
    switch (op) {
    case EX_DIV: return "division";
    case EX_MOD: return "modulo";
    case EX_CDIV: return "cdiv";
    case EX_RUP: return "round_up";
    default: return "arithmetic";
    }
}

int sw_expr_eval(const sw_expr *e, const sw_scope *s, sw_loc loc, int64_t *out, sw_error *err) {
    int64_t a = 0, b = 0, r = 0;
    switch (e->op) {
    case EX_NUM: *out = e->v; return SW_OK;
    case EX_NAME:
        if (!sw_scope_lookup(s, e->name, out))
            return sw__err_at(err, SW_INPUT, loc, "undefined name '%s'", e->name);
        return SW_OK;
    default: break;
    }
    SW_CHECK(sw_expr_eval(e->a, s, loc, &a, err));
    if (e->op == EX_NEG) {
        if (a == INT64_MIN) return sw__err_at(err, SW_INPUT, loc, "integer overflow");
        *out = -a;
        return SW_OK;
    }
    SW_CHECK(sw_expr_eval(e->b, s, loc, &b, err));
    int bad = 0;
    switch (e->op) {
    case EX_ADD: bad = sw_add64(a, b, &r); break;
    case EX_SUB: bad = sw_sub64(a, b, &r); break;
    case EX_MUL: bad = sw_mul64(a, b, &r); break;
    case EX_MIN: r = a < b ? a : b; break;
    case EX_MAX: r = a > b ? a : b; break;
    case EX_DIV:
    case EX_MOD:
    case EX_CDIV:
    case EX_RUP:
        if (b == 0)
            return sw__err_at(err, SW_INPUT, loc, "division by zero (%s of %lld by 0)", op_name(e->op), (long long)a);
        if (e->op == EX_DIV) bad = sw_floordiv(a, b, &r);
        else if (e->op == EX_MOD) bad = sw_floormod(a, b, &r);
        else if (e->op == EX_CDIV) bad = sw_cdiv(a, b, &r);
        else bad = sw_cdiv(a, b, &r) || sw_mul64(r, b, &r);
        break;
    default: return sw__err(err, SW_INTERNAL, "bad expression node");
    }
    if (bad) return sw__err_at(err, SW_INPUT, loc, "integer overflow");
    *out = r;
    return SW_OK;
}

/* ---- templates -------------------------------------------------------------------- */

typedef struct tseg {
    const char *lit; /* literal text (may be "") */
    sw_expr *e;      /* hole after it, or NULL */
} tseg;

struct sw_tmpl {
    size_t n;
    tseg *segs;
};

int sw_tmpl_parse(sw_arena *a, const char *text, sw_loc loc, sw_tmpl **out, sw_error *err) {
    size_t holes = 0;
    for (const char *p = text; *p; p++) holes += *p == '{';
    sw_tmpl *t = sw_arena_alloc(a, sizeof *t);
    if (!t || !(t->segs = sw_arena_array(a, holes + 1, sizeof *t->segs))) return sw__err(err, SW_NOMEM, "out of memory");
    const char *p = text;
    for (;;) {
        const char *q = p;
        while (*q && *q != '{' && *q != '}') q++;
        tseg *s = &t->segs[t->n++];
        if (!(s->lit = sw_arena_strndup(a, p, (size_t)(q - p)))) return sw__err(err, SW_NOMEM, "out of memory");
        if (!*q) break;
        if (*q == '}') return sw__err_at(err, SW_INPUT, loc, "bad name template '%s': '}' without '{'", text);
        const char *e = q + 1;
        while (*e && *e != '}' && *e != '{') e++;
        if (*e != '}') return sw__err_at(err, SW_INPUT, loc, "bad name template '%s': '{' without '}'", text);
        char *inner = sw_arena_strndup(a, q + 1, (size_t)(e - q - 1));
        if (!inner) return sw__err(err, SW_NOMEM, "out of memory");
        int rc = sw_expr_parse(a, inner, loc, &s->e, err);
        if (rc) {
            if (rc == SW_INPUT && err) {
                char prefix[300];
                int k = snprintf(prefix, sizeof prefix, "in name template '%.80s%s': ", text,
                                 strlen(text) > 80 ? "..." : "");
                size_t ml = strlen(err->msg), cap = sizeof err->msg;
                if ((size_t)k + ml >= cap) ml = cap - 1 - (size_t)k;
                memmove(err->msg + k, err->msg, ml);
                memcpy(err->msg, prefix, (size_t)k);
                err->msg[k + ml] = '\0';
            }
            return rc;
        }
        p = e + 1;
    }
    *out = t;
    return SW_OK;
}

int sw_tmpl_is_literal(const sw_tmpl *t) { return t->n == 1; }

int sw_tmpl_eval(const sw_tmpl *t, const sw_scope *s, sw_loc loc, char *buf, size_t cap, sw_error *err) {
    size_t len = 0;
    for (size_t i = 0; i < t->n; i++) {
        size_t l = strlen(t->segs[i].lit);
        if (len + l >= cap) return sw__err_at(err, SW_INPUT, loc, "name longer than %zu characters", cap - 1);
        memcpy(buf + len, t->segs[i].lit, l);
        len += l;
        if (t->segs[i].e) {
            int64_t v;
            SW_CHECK(sw_expr_eval(t->segs[i].e, s, loc, &v, err));
            char num[32];
            int k = snprintf(num, sizeof num, "%lld", (long long)v);
            if (len + (size_t)k >= cap) return sw__err_at(err, SW_INPUT, loc, "name longer than %zu characters", cap - 1);
            memcpy(buf + len, num, (size_t)k);
            len += (size_t)k;
        }
    }
    buf[len] = '\0';
    return SW_OK;
}
