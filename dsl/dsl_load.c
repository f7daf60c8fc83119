#include "dsl_load.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "dsl_internal.h"
#include "parser.h"
/* lexer.h names the bison types by their unprefixed names */
#define YYSTYPE SW_DSL_YYSTYPE
#define YYLTYPE sw_dsl_span
#include "lexer.h"

sw_loc sw__dsl_loc(const sw_dsl_ctx *c, const sw_dsl_span *s) {
    sw_loc loc = {c->path, s->line, s->col};
    return loc;
}

int sw__dsl_error(sw_dsl_ctx *c, const sw_dsl_span *s, const char *fmt, ...) {
    if (c->failed) return SW_INPUT;
    c->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    sw__verr(c->err, SW_INPUT, sw__dsl_loc(c, s), fmt, ap);
    va_end(ap);
    return SW_INPUT;
}

int sw_dsl_load(sw_arena *a, const char *path, const char *text, size_t len, sw_doc **out, sw_error *err) {
    sw_dsl_ctx c;
    memset(&c, 0, sizeof c);
    c.a = a;
    c.path = path;
    c.text = text;
    c.len = len;
    c.err = err;
    c.line = c.col = 1;
    *out = NULL;
    if (memchr(text, '\0', len)) {
        const char *z = memchr(text, '\0', len);
        sw_dsl_span s = {1, 1, 0, 0};
        for (const char *p = text; p < z; p++) {
            if (*p == '\n') s.line++, s.col = 1;
            else s.col++;
        }
        return sw__dsl_error(&c, &s, "a NUL byte in the input");
    }
    if (len > (size_t)INT_MAX) return sw__err(err, SW_INPUT, "%s: the file is too large (2 GiB at most)", path);
    yyscan_t scanner;
    if (sw_dsl_yylex_init_extra(&c, &scanner)) return sw__err(err, SW_NOMEM, "cannot initialise the DSL scanner");
    YY_BUFFER_STATE buf = sw_dsl_yy_scan_bytes(text, (int)len, scanner);
    int rc = sw_dsl_yyparse(scanner, &c);
    sw_dsl_yy_delete_buffer(buf, scanner);
    sw_dsl_yylex_destroy(scanner);
    if (rc || c.failed) {
        if (!c.failed) {
            sw_dsl_span s = {c.line, c.col, c.off, c.off};
            sw__dsl_error(&c, &s, rc == 2 ? "out of memory while parsing" : "syntax error");
        }
        return err ? err->status : SW_INPUT;
    }
    *out = c.root;
    return SW_OK;
}

/* Skips blanks and # comments. */
static size_t skip_space(const char *t, size_t i, size_t len) {
    for (;;) {
        while (i < len && isspace((unsigned char)t[i])) i++;
        if (i < len && t[i] == '#') {
            while (i < len && t[i] != '\n') i++;
            continue;
        }
        return i;
    }
}

int sw_dsl_sniff(const char *text, size_t len) {
    size_t i = skip_space(text, 0, len);
    if (len - i < 9 || memcmp(text + i, "shardwave", 9)) return 0;
    i += 9;
    if (i < len && (isalnum((unsigned char)text[i]) || text[i] == '_')) return 0;
    i = skip_space(text, i, len);
    return i < len && isdigit((unsigned char)text[i]);
}
