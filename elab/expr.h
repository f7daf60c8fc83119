/*
 * expr.h - integer expressions and name templates of the layout language.
 *
 * Expressions: integer literals, names, unary minus (binds tighter than * / %),
 * + - * / % with floor semantics (-7 / 2 = -4, -7 % 2 = 1), parentheses, and
 * min(a,b) max(a,b) cdiv(a,b) round_up(a,b).  Arithmetic is int64; overflow and a zero
 * divisor are errors.  A template is text with {expr} holes: "layers.{i % 4}.w".
 *
 * Names are resolved at evaluation time through a chain of scopes, innermost first.
 * Parsed forms live in the arena given to the parser.
 */
#ifndef SW_EXPR_H
#define SW_EXPR_H

#include <stdint.h>
#include "arena.h"
#include "diag.h"

typedef struct sw_expr sw_expr;

typedef struct sw_scope {
    const struct sw_scope *up;
    size_t n;
    const char *const *names;
    const int64_t *vals;
} sw_scope;

/* Looks name up through the chain; returns 1 and sets *v when found. */
int sw_scope_lookup(const sw_scope *s, const char *name, int64_t *v);

/* Parses text as one expression.  Errors (SW_INPUT) are reported at loc, with the text
 * quoted. */
int sw_expr_parse(sw_arena *a, const char *text, sw_loc loc, sw_expr **out, sw_error *err);
/* Evaluates; an undefined name, overflow or zero divisor is SW_INPUT at loc. */
int sw_expr_eval(const sw_expr *e, const sw_scope *s, sw_loc loc, int64_t *out, sw_error *err);
/* 1 when the expression mentions name. */
int sw_expr_uses(const sw_expr *e, const char *name);

typedef struct sw_tmpl sw_tmpl;
int sw_tmpl_parse(sw_arena *a, const char *text, sw_loc loc, sw_tmpl **out, sw_error *err);
/* Expands into buf (cap bytes, NUL-terminated); a result longer than cap-1 is an error. */
int sw_tmpl_eval(const sw_tmpl *t, const sw_scope *s, sw_loc loc, char *buf, size_t cap, sw_error *err);
/* 1 when the template has no holes (its text is its value). */
int sw_tmpl_is_literal(const sw_tmpl *t);

/* Floor division and modulo; return -1 on a zero divisor or overflow. */
int sw_floordiv(int64_t a, int64_t b, int64_t *q);
int sw_floormod(int64_t a, int64_t b, int64_t *r);
int sw_cdiv(int64_t a, int64_t b, int64_t *q);

#endif
