/*
 * elab.h - elaboration: a document tree (from YAML or the DSL) to the IR.
 *
 * Checks everything the spec asks of an input (keys, types, expressions, templates,
 * meshes, hosts, rules, splits, fuses, stacks, duplicate local tensors, syncs,
 * topology) and reports the first defect as SW_INPUT at the offending key or value.
 * Coverage of the syncs is checked separately (sw_coverage_check), since it needs the
 * pieces.
 */
#ifndef SW_ELAB_H
#define SW_ELAB_H

#include "doc.h"
#include "ir.h"

/* sw_define (include/shardwave.h): -D NAME=VALUE, a let constant overridden. */
typedef struct sw_load_opts {
    const sw_define *defines;
    size_t ndefines;
} sw_load_opts;

/* Elaborates root into ir (which must be zeroed, its arena initialised: the doc tree may
 * live in it).  On failure ir holds partial state: free it with sw_ir_free. */
int sw_elaborate(const sw_doc *root, const char *path, const sw_load_opts *opts, sw_ir *ir, sw_error *err);

#endif
