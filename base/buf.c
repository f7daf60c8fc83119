/* buf.c - a growable byte buffer (see buf.h). */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

void sw_buf_put(sw_buf *b, const void *src, size_t n) {
    if (b->oom) return;
    if (n + 1 < n || SW_GROW(b->d, b->cap, b->n + n + 1)) {
        b->oom = 1;
        return;
    }
    if (n) memcpy(b->d + b->n, src, n);
    b->n += n;
    b->d[b->n] = '\0';
}

void sw_buf_reserve(sw_buf *b, size_t n) {
    if (b->oom) return;
    if (n + 1 < n || b->n + n + 1 < b->n || SW_GROW(b->d, b->cap, b->n + n + 1)) b->oom = 1;
}

void sw_buf_puts(sw_buf *b, const char *s) { sw_buf_put(b, s, strlen(s)); }
void sw_buf_putc(sw_buf *b, char ch) { sw_buf_put(b, &ch, 1); }

void sw_buf_indent(sw_buf *b, int n) {
    for (int i = 0; i < n; i++) sw_buf_putc(b, ' ');
}

void sw_buf_printf(sw_buf *b, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        sw_buf_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sw_buf_put(b, big, (size_t)n);
    free(big);
}

void sw_buf_free(sw_buf *b) {
    free(b->d);
    b->d = NULL;
    b->n = b->cap = 0;
    b->oom = 0;
}
