/*
 * emit.h - the layout file that `shardwave init` writes, as data, and its two writers.
 *
 * The presets (presets.c) describe each placement rule as an sw_ir_rule of strings in the
 * layout language's own syntax (names, expressions, axis lists); the writers turn the
 * whole file into YAML or into the DSL, with the same comments in both.  Every string is
 * borrowed (arena or literal) and must outlive the writer call.
 */
#ifndef SW_INIT_EMIT_H
#define SW_INIT_EMIT_H

#include <stddef.h>
#include "arena.h"
#include "shardwave.h"

#define SW_IR_MAX 8

typedef struct sw_ir_kv {
    const char *k, *v;
} sw_ir_kv;

typedef struct sw_ir_part {
    const char *tensor;
    const char *unit; /* NULL: none */
} sw_ir_part;

/* One placement rule.  Fields left NULL / zero are not written. */
typedef struct sw_ir_rule {
    const char *comment;            /* lines separated by '\n', written as `# ...` above the rule */
    const char *tensor;             /* plain rule: the logical tensor */
    sw_ir_kv fors[2];               /* var -> count; range given as "lo..hi" is [lo, hi) */
    sw_ir_kv lets[SW_IR_MAX];
    const char *as;
    sw_ir_kv wheres[SW_IR_MAX];
    const char *fuse_dim;           /* fuse: dim, parts, groups */
    sw_ir_part parts[4];
    const char *groups;
    const char *stack_var, *stack_count; /* stack over var in count; the item is the fuse, or item_tensor */
    const char *item_tensor;
    sw_ir_kv splits[3];             /* dim -> axis or "[a, b]" */
    sw_ir_kv pads[2];
    int uneven;
    const char *dtype;
} sw_ir_rule;

typedef struct sw_ir_tensor {
    const char *comment;
    const char *name;
    sw_ir_kv fors[2];
    const char *shape[3];
    const char *dtype;
} sw_ir_tensor;

typedef struct sw_ir_layout {
    const char *name;
    const char *comment;
    long long first_rank;
    sw_ir_kv mesh[8];               /* axis -> size, slowest first */
    long long gpus_per_host;
    long long rank_base;            /* < 0: not written */
    sw_ir_rule *rules;
    size_t nrules, caprules;
} sw_ir_layout;

typedef struct sw_ir_sync {
    const char *name, *from, *to;
    const char *comment;
} sw_ir_sync;

typedef struct sw_ir_file {
    const char *header;             /* comment lines at the top */
    const char *model_name, *dtype;
    sw_ir_kv lets[48];
    const char *let_comments[48];   /* trailing comment of each let entry (may be NULL) */
    size_t nlets;
    sw_ir_tensor *tensors;
    size_t ntensors, captensors;
    sw_ir_layout layouts[8];
    size_t nlayouts;
    sw_ir_sync syncs[8];
    size_t nsyncs;
} sw_ir_file;

/* Appends a copy of *r to l (rules array on malloc).  Returns SW_OK or SW_NOMEM. */
int sw_ir_add_rule(sw_ir_layout *l, const sw_ir_rule *r);
int sw_ir_add_tensor(sw_ir_file *f, const sw_ir_tensor *t);
/* Frees the malloc'ed arrays of f (not the strings). */
void sw_ir_file_free(sw_ir_file *f);

/* printf into the arena; NULL when out of memory. */
char *sw_init_fmt(sw_arena *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Writes f as YAML (dsl = 0) or the DSL into *out (malloc'ed).  SW_OK or SW_NOMEM. */
int sw_ir_write(const sw_ir_file *f, int dsl, char **out, sw_error *err);

#endif
