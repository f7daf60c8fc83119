/*
 * units.h - byte counts, bandwidths and durations: one parser and one formatter for
 * every layer (layout files, CLI options, reports).
 */
#ifndef SW_UNITS_H
#define SW_UNITS_H

#include <stddef.h>
#include <stdint.h>

typedef enum sw_unit_kind {
    SW_UNIT_BYTES = 's',     /* "256MiB", "1.5 GB", "4096" */
    SW_UNIT_BANDWIDTH = 'b', /* "50GB/s", "450 GB/s" (bytes per second) */
    SW_UNIT_TIME = 't'       /* "2us", "1.5ms", "0.01s", "10ns" */
} sw_unit_kind;

/* Parses a non-negative quantity: a number, optional spaces, a unit (B, KB, MB, GB, TB,
 * KiB, MiB, GiB, TiB, or none, for bytes; the same with "/s" for bandwidth; s, ms, us, ns
 * for time).  Returns 0 and sets *out (bytes, bytes/s or seconds), or -1. */
int sw_parse_quantity(const char *s, sw_unit_kind kind, double *out);
/* The same for a byte count that must fit an int64: 0, or -1 (also when too large). */
int sw_parse_bytes(const char *s, int64_t *out);
/* "123 B", "12.50 MiB", "1.87 GiB" (binary units); returns buf. */
const char *sw_fmt_bytes(uint64_t n, char *buf, size_t cap);

#endif
