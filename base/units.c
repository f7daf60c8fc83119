/* units.c - parsing and formatting quantities (see units.h). */
#include "units.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sw_parse_quantity(const char *s, sw_unit_kind kind, double *out) {
    static const struct { const char *u; double m; } bytes[] = {
        {"B", 1},     {"KB", 1e3},         {"MB", 1e6},          {"GB", 1e9},           {"TB", 1e12},
        {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}, {"", 1}};
    static const struct { const char *u; double m; } times[] = {{"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}};
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0) return -1;
    /* strtod accepts "inf", "nan" and hex floats; a quantity is plain decimal */
    for (const char *c = s; c < end; c++)
        if (!strchr("0123456789.eE+- \t", *c)) return -1;
    while (*end == ' ') end++;
    if (kind == SW_UNIT_TIME) {
        for (size_t i = 0; i < sizeof times / sizeof *times; i++)
            if (!strcmp(end, times[i].u)) {
                *out = v * times[i].m;
                return 0;
            }
        return -1;
    }
    size_t n = strcspn(end, "/");
    const char *rest = end + n;
    if (kind == SW_UNIT_BANDWIDTH ? (*rest && strcmp(rest, "/s")) : *rest != '\0') return -1;
    for (size_t i = 0; i < sizeof bytes / sizeof *bytes; i++)
        if (strlen(bytes[i].u) == n && !strncmp(end, bytes[i].u, n)) {
            *out = v * bytes[i].m;
            return 0;
        }
    return -1;
}

int sw_parse_bytes(const char *s, int64_t *out) {
    double b;
    if (sw_parse_quantity(s, SW_UNIT_BYTES, &b) || b > 9e18) return -1;
    *out = (int64_t)b;
    return 0;
}

const char *sw_fmt_bytes(uint64_t n, char *buf, size_t cap) {
    static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    int k = 0;
    while (v >= 1024 && k < 5) {
        v /= 1024;
        k++;
    }
    if (k == 0) snprintf(buf, cap, "%llu B", (unsigned long long)n);
    else snprintf(buf, cap, "%.2f %s", v, u[k]);
    return buf;
}
