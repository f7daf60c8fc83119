/*
 * buf.h - a growable byte buffer (writers of plans, YAML and DSL text).
 *
 * Zero-initialise an sw_buf to get an empty one.  An allocation failure sets `oom` and
 * makes every later append a no-op, so a writer appends freely and checks once at the
 * end.  The text is always NUL-terminated when d is not NULL.
 */
#ifndef SW_BUF_H
#define SW_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct sw_buf {
    char *d;
    size_t n, cap;
    int oom;
} sw_buf;

void sw_buf_put(sw_buf *b, const void *src, size_t n);
/* Makes room for n more bytes (one allocation instead of many for a writer that knows
 * about how much it writes). */
void sw_buf_reserve(sw_buf *b, size_t n);
void sw_buf_puts(sw_buf *b, const char *s);
void sw_buf_putc(sw_buf *b, char ch);
/* n spaces */
void sw_buf_indent(sw_buf *b, int n);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void sw_buf_printf(sw_buf *b, const char *fmt, ...);
void sw_buf_free(sw_buf *b);

#endif
