/*
 * diag.h - filling sw_error: with a source position (input errors) or without.
 *
 * A source position is a (file, line, col) triple; file is the path as the user gave
 * it and must outlive the error only until sw__err_at returns (it is copied).
 */
#ifndef SW_DIAG_H
#define SW_DIAG_H

#include <stdarg.h>
#include "shardwave.h"

typedef struct sw_loc {
    const char *file; /* path as given on the command line; NULL for none */
    int line, col;    /* 1-based; 0 when unknown */
} sw_loc;

#if defined(__GNUC__)
#define SW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SW_PRINTF(a, b)
#endif

/* Fills err (if not NULL) with status and a message at loc; returns status. */
int sw__err_at(sw_error *err, int status, sw_loc loc, const char *fmt, ...) SW_PRINTF(4, 5);
/* Fills err (if not NULL) with status and a message without position; returns status. */
int sw__err(sw_error *err, int status, const char *fmt, ...) SW_PRINTF(3, 4);
int sw__verr(sw_error *err, int status, sw_loc loc, const char *fmt, va_list ap);
/* Clears err to SW_OK. */
void sw__err_clear(sw_error *err);

/* Evaluates a status-returning call, returns its status from the caller on failure. */
#define SW_CHECK(call)                                                               \
    do {                                                                             \
        int sw__rc = (call);                                                         \
        if (sw__rc != SW_OK) return sw__rc;                                          \
    } while (0)
/* Same, but stores the status in `rc` and jumps to `label` (cleanup). */
#define SW_CHECK_GOTO(call, rc, label)                                               \
    do {                                                                             \
        (rc) = (call);                                                               \
        if ((rc) != SW_OK) goto label;                                               \
    } while (0)

#endif
