/*
 * dsl_internal.h - state shared by the DSL scanner (lexer.l) and parser (parser.y).
 * Internal to dsl_load.c, lexer.l and parser.y; not part of the library interface.
 */
#ifndef SW_DSL_INTERNAL_H
#define SW_DSL_INTERNAL_H

#include <stddef.h>
#include "doc.h"

/* A token or rule span: line/col of its first character, byte offsets [off, end). */
typedef struct sw_dsl_span {
    int line, col;
    size_t off, end;
} sw_dsl_span;

#define SW_DSL_MAX_OPEN 64

/* One parse: the input, the arena, the error, and the scanner position. */
typedef struct sw_dsl_ctx {
    sw_arena *a;
    const char *path;
    const char *text;
    size_t len;
    sw_error *err;
    int failed;        /* an error has been recorded in err */
    /* scanner position of the next character */
    int line, col;
    size_t off;
    /* open brackets, innermost last, for "to close '[' opened at" notes */
    char open_ch[SW_DSL_MAX_OPEN];
    sw_dsl_span open_at[SW_DSL_MAX_OPEN];
    int nopen;
    sw_doc *root;
} sw_dsl_ctx;

sw_loc sw__dsl_loc(const sw_dsl_ctx *c, const sw_dsl_span *s);
/* Records an input error at s (the first one wins); returns SW_INPUT. */
int sw__dsl_error(sw_dsl_ctx *c, const sw_dsl_span *s, const char *fmt, ...) SW_PRINTF(3, 4);

#endif
