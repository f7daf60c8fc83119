#include "diag.h"

#include <stdio.h>
#include <string.h>

const char *sw_status_str(int status) {
    switch (status) {
#define SW__STATUS_CASE(name, value, msg) case value: return msg;
        SW_STATUS_MAP(SW__STATUS_CASE)
#undef SW__STATUS_CASE
    }
    return "unknown status";
}

void sw__err_clear(sw_error *err) {
    if (!err) return;
    err->status = SW_OK;
    err->line = err->col = 0;
    err->file[0] = '\0';
    err->msg[0] = '\0';
}

int sw__verr(sw_error *err, int status, sw_loc loc, const char *fmt, va_list ap) {
    if (!err) return status;
    err->status = status;
    err->line = loc.file ? loc.line : 0;
    err->col = loc.file ? loc.col : 0;
    if (loc.file)
        snprintf(err->file, sizeof err->file, "%s", loc.file);
    else
        err->file[0] = '\0';
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return status;
}

int sw__err_at(sw_error *err, int status, sw_loc loc, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sw__verr(err, status, loc, fmt, ap);
    va_end(ap);
    return status;
}

int sw__err(sw_error *err, int status, const char *fmt, ...) {
    va_list ap;
    sw_loc none = {0};
    va_start(ap, fmt);
    sw__verr(err, status, none, fmt, ap);
    va_end(ap);
    return status;
}

/* err may come from a caller that never initialised it: every field is read within its
 * bounds (%.*s), never past the end of its array. */
char *sw_error_format(const sw_error *err, char *buf, size_t cap) {
    if (!buf || !cap) return buf;
    if (!err || err->status == SW_OK) {
        snprintf(buf, cap, "shardwave: no error");
        return buf;
    }
    int fl = (int)strnlen(err->file, sizeof err->file), ml = (int)strnlen(err->msg, sizeof err->msg);
    if (fl && err->line > 0)
        snprintf(buf, cap, "%.*s:%d:%d: error: %.*s", fl, err->file, err->line, err->col > 0 ? err->col : 1, ml,
                 err->msg);
    else if (ml)
        snprintf(buf, cap, "shardwave: error: %.*s", ml, err->msg);
    else
        snprintf(buf, cap, "shardwave: error: %s", sw_status_str(err->status));
    return buf;
}
