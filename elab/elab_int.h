/*
 * elab_int.h - private to elaboration (elab.c, elab_rule.c): the state of one
 * elaboration and the helpers both files use.  Every helper reports at the node it is
 * given (spec rule 17) and returns a status.
 */
#ifndef SW_ELAB_INT_H
#define SW_ELAB_INT_H

#include "elab.h"
#include "expr.h"

#define MAX_VARS 16
#define MAX_LETS 128
#define MAX_PARTS 512

typedef struct elab {
    sw_ir *ir;
    sw_arena *a;
    sw_error *err;
    const char *path;
    const sw_load_opts *opts;
    const char *let_names[MAX_LETS];
    int64_t let_vals[MAX_LETS];
    sw_scope model_scope;
    size_t cap_tensors;
    sw_layout *L;
    const char *axis_names[SW_MAXAXES];
    sw_scope mesh_scope;
    size_t cap_insts;
    size_t total_insts;
    char name[1024];
} elab;

int sw__elab_nomem(elab *E);
/* A name usable as a variable: [A-Za-z_][A-Za-z0-9_]*. */
int sw__elab_is_ident(const char *s);
/* SW_INPUT unless d is of kind k ("WHAT must be a map", ...). */
int sw__elab_need(elab *E, const sw_doc *d, sw_doc_kind k, const char *what);
/* SW_INPUT at the first key of map not in the NULL-terminated allowed list. */
int sw__elab_check_keys(elab *E, const sw_doc *map, const char *const *allowed, const char *what);
/* An integer expression in scope s. */
int sw__elab_eval_int(elab *E, sw_doc *d, const sw_scope *s, const char *what, int64_t *out);
int sw__elab_eval_int_min(elab *E, sw_doc *d, const sw_scope *s, const char *what, int64_t min, int64_t *out);
/* A name template expanded into E->name. */
int sw__elab_eval_name(elab *E, sw_doc *d, const sw_scope *s, const char *what);
int sw__elab_parse_dtype(elab *E, sw_doc *d, sw_dtype *out);
int sw__elab_parse_bool(elab *E, sw_doc *d, const char *what, int *out);

/* Runs fn once per iteration of `for` (forn, may be NULL) with the rule's `let` (letn,
 * may be NULL) evaluated in each, in a scope inside outer. */
typedef int (*sw__elab_body_fn)(elab *E, const sw_scope *s, void *ctx);
int sw__elab_iterate(elab *E, sw_doc *forn, sw_doc *letn, const sw_scope *outer, sw__elab_body_fn fn, void *ctx);

/* elab_rule.c: one placement rule of layout E->L into instances; then the check that no
 * rank gets one local tensor name twice. */
int sw__elab_rule(elab *E, sw_doc *r);
int sw__elab_check_duplicates(elab *E, sw_layout *L);

#endif
