/*
 * load.h - reading a layout file into a checked IR: the front end (YAML or the DSL) the
 * file calls for, elaboration (elab.h), then the coverage of every sync (coverage.h).
 */
#ifndef SW_LOAD_H
#define SW_LOAD_H

#include "elab.h"

/* Which front end reads a file: the DSL for `.sw`, YAML for `.yaml`/`.yml`, else the DSL
 * when the text starts with `shardwave N` (no colon), YAML otherwise. */
int sw_is_dsl(const char *path, const char *text, size_t len);

/* Reads a layout file into a malloc'd buffer (*text, *len; not NUL-terminated): only a
 * regular file (SW_IO for a directory, device or pipe) of at most SW_MAX_INPUT_BYTES
 * (SW_INPUT beyond; reading stops there). */
int sw_read_input(const char *path, char **text, size_t *len, sw_error *err);
/* Reads and elaborates a layout file (YAML or the DSL, see sw_is_dsl), and checks the
 * coverage of every sync.  On failure *ir is freed. */
int sw_load_file(const char *path, const sw_load_opts *opts, sw_ir *ir, sw_error *err);
/* The same from text in memory. */
int sw_load_text(const char *path, const char *text, size_t len, const sw_load_opts *opts, sw_ir *ir,
                 sw_error *err);

#endif
