/*
 * doc.h - the located document tree: the AST that both front ends produce.
 *
 * The YAML loader (yaml_load.c) and the textual DSL parser build the same tree of
 * maps, sequences and scalars, each node carrying the position of its first character.
 * Elaboration (elab.c) reads only this tree, so it cannot tell which front end was used.
 *
 * Ownership: every node and string lives in the arena passed to the builder.
 */
#ifndef SW_DOC_H
#define SW_DOC_H

#include <stddef.h>
#include <stdint.h>
#include "arena.h"
#include "diag.h"

typedef enum sw_doc_kind { SW_DOC_SCALAR, SW_DOC_SEQ, SW_DOC_MAP } sw_doc_kind;

/* How a scalar was written: plain scalars may be integers or booleans, quoted ones are
 * always strings. */
typedef enum sw_doc_style { SW_DOC_PLAIN, SW_DOC_QUOTED } sw_doc_style;

typedef struct sw_doc sw_doc;
struct sw_doc {
    sw_doc_kind kind;
    sw_doc_style style; /* scalars */
    int flow;           /* maps and sequences written inline ({...} / [...]) */
    sw_loc loc;         /* first character of the node */
    const char *text;   /* scalars: the value, NUL-terminated */
    size_t n;           /* seq: items; map: pairs */
    sw_doc **items;     /* seq items */
    sw_doc **keys;      /* map keys (scalars), in input order */
    sw_doc **vals;      /* map values */
    void *cache;        /* elaboration's compiled form of a scalar (expression, template) */
    uint32_t *hidx;     /* maps with many keys: open-addressed index of keys (slot: pair + 1) */
    size_t hcap;        /* slots of hidx (a power of two), 0: none, keys are scanned */
};

/* Builders (for the front ends).  Return NULL when out of memory. */
sw_doc *sw_doc_scalar(sw_arena *a, sw_loc loc, const char *text, size_t len, sw_doc_style style);
sw_doc *sw_doc_new(sw_arena *a, sw_doc_kind kind, sw_loc loc);
/* Appends to a seq / map; items arrays grow by doubling inside the arena.  A map of more
 * than a few keys keeps a hash index of them, so that sw_doc_key / sw_doc_get (and the
 * front ends' duplicate-key checks through them) stay O(1): n keys cost O(n), not O(n^2). */
int sw_doc_push(sw_arena *a, sw_doc *seq, sw_doc *item);
int sw_doc_put(sw_arena *a, sw_doc *map, sw_doc *key, sw_doc *val);

/* The value of key in a map, or NULL. */
sw_doc *sw_doc_get(const sw_doc *map, const char *key);
/* The key node of key in a map, or NULL. */
sw_doc *sw_doc_key(const sw_doc *map, const char *key);

const char *sw_doc_kind_name(sw_doc_kind k);

#endif
