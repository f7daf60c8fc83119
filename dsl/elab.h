/*
 * elab.h - elaboration: a document tree (from YAML or the DSL) to the IR.
 *
 * Checks everything the spec asks of an input (keys, types, expressions, templates,
 * meshes, hosts, rules, splits, fuses, stacks, duplicate local tensors, syncs,
 * topology) and reports the first defect as SW_INPUT at the offending key or value.
 * Coverage of the syncs is checked separately (sw_check_coverage), since it needs the
 * pieces.
 */
#ifndef SW_ELAB_H
#define SW_ELAB_H

#include "doc.h"
#include "ir.h"

/* -D NAME=VALUE: overrides the model's let constant NAME before anything is evaluated. */
typedef struct sw_define {
    const char *name;
    int64_t value;
} sw_define;

typedef struct sw_load_opts {
    const sw_define *defines;
    size_t ndefines;
} sw_load_opts;

/* Elaborates root into ir (which must be zeroed, its arena initialised: the doc tree may
 * live in it).  On failure ir holds partial state: free it with sw_ir_free. */
int sw_elaborate(const sw_doc *root, const char *path, const sw_load_opts *opts, sw_ir *ir, sw_error *err);

/* Which front end reads a file: the DSL for `.sw`, YAML for `.yaml`/`.yml`, else the DSL
 * when the text starts with `shardwave N` (no colon), YAML otherwise. */
int sw_is_dsl(const char *path, const char *text, size_t len);

/* Reads and elaborates a layout file (YAML or the DSL, see sw_is_dsl), and checks the
 * coverage of every sync.  On failure *ir is freed. */
int sw_load_file(const char *path, const sw_load_opts *opts, sw_ir *ir, sw_error *err);
/* The same from text in memory. */
int sw_load_text(const char *path, const char *text, size_t len, const sw_load_opts *opts, sw_ir *ir,
                 sw_error *err);

#endif
