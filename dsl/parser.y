/*
 * parser.y - the grammar of the textual layout language (pure, reentrant).
 *
 * Builds the located document tree (doc.h) with exactly the keys of the YAML form, in
 * the order they are written.  Accumulating nonterminals (model_hdr, rule, ...) carry
 * the map being filled, so every clause is one production and adds one key.
 * Expressions are not evaluated here: an `expr` has no value, only its span, and the
 * scalar holds the source text of that span (elaboration parses it with expr.c).
 * Everything is allocated in the parse arena: no %destructor is needed, an aborted
 * parse leaves nothing to free but the arena.
 */
%require "3.8"
%define api.pure full
%define api.prefix {sw_dsl_yy}
%define api.location.type {sw_dsl_span}
%define parse.error detailed
%locations
%expect 0
%initial-action {
    @$.line = 1;
    @$.col = 1;
    @$.off = @$.end = 0;
}
%param {yyscan_t scanner}
%parse-param {sw_dsl_ctx *c}

%code requires {
#include "bounds.h"
#include "dsl_internal.h"
typedef void *yyscan_t;
}

%code provides {
int sw_dsl_yylex(SW_DSL_YYSTYPE *yylval, sw_dsl_span *yylloc, yyscan_t scanner);
}

%code {
#include <stdio.h>
#include <string.h>

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                                      \
    do {                                                                                 \
        if (N) {                                                                         \
            (Cur).line = YYRHSLOC(Rhs, 1).line;                                          \
            (Cur).col = YYRHSLOC(Rhs, 1).col;                                            \
            (Cur).off = YYRHSLOC(Rhs, 1).off;                                            \
            (Cur).end = YYRHSLOC(Rhs, N).end;                                            \
        } else {                                                                         \
            (Cur).line = YYRHSLOC(Rhs, 0).line;                                          \
            (Cur).col = YYRHSLOC(Rhs, 0).col;                                            \
            (Cur).off = (Cur).end = YYRHSLOC(Rhs, 0).end;                                \
        }                                                                                \
    } while (0)

static void sw_dsl_yyerror(const sw_dsl_span *loc, yyscan_t scanner, sw_dsl_ctx *c, const char *msg);

/* A new map or sequence at s. */
static sw_doc *coll(sw_dsl_ctx *c, sw_doc_kind k, const sw_dsl_span *s) {
    sw_doc *d = sw_doc_new(c->a, k, sw__dsl_loc(c, s));
    if (!d) sw__dsl_error(c, s, "out of memory");
    return d;
}

/* A PLAIN scalar holding the source text of span s (an expression or a keyword). */
static sw_doc *src_text(sw_dsl_ctx *c, const sw_dsl_span *s) {
    sw_doc *d = sw_doc_scalar(c->a, sw__dsl_loc(c, s), c->text + s->off, s->end - s->off, SW_DOC_PLAIN);
    if (!d) sw__dsl_error(c, s, "out of memory");
    return d;
}

static sw_doc *plain(sw_dsl_ctx *c, const sw_dsl_span *s, const char *text) {
    sw_doc *d = sw_doc_scalar(c->a, sw__dsl_loc(c, s), text, strlen(text), SW_DOC_PLAIN);
    if (!d) sw__dsl_error(c, s, "out of memory");
    return d;
}

/* map[key] = val, the key at span s; a second `key` in one map is an error there. */
static int put_key(sw_dsl_ctx *c, sw_doc *map, sw_doc *key, sw_doc *val, const char *what) {
    if (!map || !key || !val) return -1;
    if (map->n >= SW_MAX_MAP_KEYS) {
        sw__dsl_error(c, &(sw_dsl_span){key->loc.line, key->loc.col, 0, 0},
                      "more than %d entries in %s (the input limit)", SW_MAX_MAP_KEYS, what);
        return -1;
    }
    sw_doc *prev = sw_doc_key(map, key->text);
    if (prev) {
        sw_dsl_span s = {key->loc.line, key->loc.col, 0, 0};
        sw__dsl_error(c, &s, "duplicate '%s' in %s (first given at line %d, column %d)", key->text, what,
                      prev->loc.line, prev->loc.col);
        return -1;
    }
    if (sw_doc_put(c->a, map, key, val)) {
        sw__dsl_error(c, &(sw_dsl_span){key->loc.line, key->loc.col, 0, 0}, "out of memory");
        return -1;
    }
    return 0;
}

static int put(sw_dsl_ctx *c, sw_doc *map, const char *key, const sw_dsl_span *s, sw_doc *val, const char *what) {
    return put_key(c, map, plain(c, s, key), val, what);
}

/* The map or seq under key, created at s when absent. */
static sw_doc *sub(sw_dsl_ctx *c, sw_doc *map, const char *key, const sw_dsl_span *s, sw_doc_kind k) {
    if (!map) return NULL;
    sw_doc *d = sw_doc_get(map, key);
    if (d) return d;
    d = coll(c, k, s);
    if (put(c, map, key, s, d, "this section")) return NULL;
    return d;
}

/* Adds every pair of `from` to the map under key (created at s). */
static int merge(sw_dsl_ctx *c, sw_doc *map, const char *key, const sw_dsl_span *s, sw_doc *from, const char *what) {
    if (!from) return -1;
    if (!sw_doc_get(map, key)) return put(c, map, key, s, from, what);
    sw_doc *m = sw_doc_get(map, key);
    for (size_t i = 0; i < from->n; i++)
        if (put_key(c, m, from->keys[i], from->vals[i], what)) return -1;
    return 0;
}

static int push(sw_dsl_ctx *c, sw_doc *seq, sw_doc *item) {
    if (!seq || !item) return -1;
    if (sw_doc_push(c->a, seq, item)) {
        sw__dsl_error(c, &(sw_dsl_span){item->loc.line, item->loc.col, 0, 0}, "out of memory");
        return -1;
    }
    return 0;
}

static sw_doc *flow(sw_doc *d) {
    if (d) d->flow = 1;
    return d;
}

#define CK(x)                                                                            \
    do {                                                                                 \
        if (x) YYABORT;                                                                  \
    } while (0)
#define NN(x)                                                                            \
    do {                                                                                 \
        if (!(x)) YYABORT;                                                               \
    } while (0)
}

%union {
    sw_doc *doc;
}

%token <doc> IDENT "identifier" INT "integer" QUANTITY "quantity (like 256MiB or 50GB/s)" STRING "string"
%token KW_SHARDWAVE "'shardwave'" KW_MODEL "'model'" KW_DTYPE "'dtype'" KW_LET "'let'"
%token KW_TENSOR "'tensor'" KW_FOR "'for'" KW_IN "'in'" KW_SHAPE "'shape'" KW_LAYOUT "'layout'"
%token KW_FIRST_RANK "'first_rank'" KW_MESH "'mesh'" KW_HOSTS "'hosts'" KW_PLACE "'place'"
%token KW_AS "'as'" KW_WHERE "'where'" KW_SPLIT "'split'" KW_OVER "'over'" KW_UNEVEN "'uneven'"
%token KW_PAD "'pad'" KW_TO "'to'" KW_FUSE "'fuse'" KW_DIM "'dim'" KW_GROUPS "'groups'"
%token KW_UNIT "'unit'" KW_PERM "'perm'" KW_STACK "'stack'" KW_SYNC "'sync'" KW_FROM "'from'"
%token KW_SKIP "'skip'" KW_BUCKET "'bucket'" KW_TOPOLOGY "'topology'" KW_BANDWIDTH "'bandwidth'"
%token KW_LATENCY "'latency'" KW_GPUS_PER_NIC "'gpus_per_nic'" KW_TRUE "'true'" KW_FALSE "'false'"
%token DOTDOT "'..'"

%type <doc> ident name tname qty
%type <doc> model_hdr model_lets model_tensors tensor
%type <doc> pairs for_list range split_list axes idents pad_list hpairs hval hvals
%type <doc> expr_list exprs str_list strs value
%type <doc> layout_hdr layout_body rule fuse parts_list parts part part_map stack_item
%type <doc> sync topo_body link

%left '+' '-'
%left '*' '/' '%'
%precedence UMINUS

%%

file:
    header items
    ;

header:
    KW_SHARDWAVE INT {
        NN(c->root = coll(c, SW_DOC_MAP, &@1));
        CK(put(c, c->root, "shardwave", &@1, $2, "the file"));
    }
    ;

items:
    %empty
  | items section
  ;

section:
    model_tensors '}'
  | layout_hdr
  | layout_body '}'
  | sync
  | topo_body '}'
  ;

/* ---- model ------------------------------------------------------------------------ */

model_hdr:
    KW_MODEL {
        NN($$ = coll(c, SW_DOC_MAP, &@1));
        CK(put(c, c->root, "model", &@1, $$, "the file"));
    }
  | model_hdr name { $$ = $1; CK(put(c, $$, "name", &@2, $2, "the model")); }
  | model_hdr KW_DTYPE name { $$ = $1; CK(put(c, $$, "dtype", &@2, $3, "the model")); }
  ;

model_lets:
    model_hdr '{' { $$ = $1; }
  | model_lets KW_LET pairs { $$ = $1; CK(merge(c, $$, "let", &@2, $3, "let")); }
  ;

model_tensors:
    model_lets
  | model_tensors tensor {
        $$ = $1;
        CK(push(c, sub(c, $$, "tensors", &@2, SW_DOC_SEQ), $2));
    }
  ;

tensor:
    KW_TENSOR tname {
        NN($$ = coll(c, SW_DOC_MAP, &@2));
        CK(put(c, $$, "name", &@2, $2, "the tensor"));
    }
  | tensor KW_FOR for_list { $$ = $1; CK(put(c, $$, "for", &@2, $3, "the tensor")); }
  | tensor KW_LET pairs { $$ = $1; CK(merge(c, $$, "let", &@2, $3, "let")); }
  | tensor KW_SHAPE expr_list { $$ = $1; CK(put(c, $$, "shape", &@2, $3, "the tensor")); }
  | tensor KW_DTYPE name { $$ = $1; CK(put(c, $$, "dtype", &@2, $3, "the tensor")); }
  ;

/* ---- layouts ---------------------------------------------------------------------- */

layout_hdr:
    KW_LAYOUT name {
        NN($$ = coll(c, SW_DOC_MAP, &@2));
        CK(put_key(c, sub(c, c->root, "layouts", &@1, SW_DOC_MAP), $2, $$, "the layouts"));
    }
  | layout_hdr KW_FIRST_RANK value {
        $$ = $1;
        CK(put(c, $$, "first_rank", &@2, $3, "the layout"));
    }
  | layout_hdr KW_MESH '(' pairs ')' { $$ = $1; CK(put(c, $$, "mesh", &@2, flow($4), "the layout")); }
  | layout_hdr KW_HOSTS '(' hpairs ')' { $$ = $1; CK(put(c, $$, "hosts", &@2, flow($4), "the layout")); }
  ;

layout_body:
    layout_hdr '{' {
        $$ = $1;
        CK(put(c, $$, "place", &@2, coll(c, SW_DOC_SEQ, &@2), "the layout"));
    }
  | layout_body rule { $$ = $1; CK(push(c, sw_doc_get($$, "place"), $2)); }
  ;

hpairs:
    ident '=' hval { NN($$ = coll(c, SW_DOC_MAP, &@1)); CK(put_key(c, $$, $1, $3, "hosts")); }
  | hpairs ',' ident '=' hval { $$ = $1; CK(put_key(c, $$, $3, $5, "hosts")); }
  ;

hval:
    value
  | '[' ']' { NN($$ = flow(coll(c, SW_DOC_SEQ, &@1))); }
  | '[' hvals ']' { $$ = $2; }
  ;

hvals:
    hval { NN($$ = flow(coll(c, SW_DOC_SEQ, &@1))); CK(push(c, $$, $1)); }
  | hvals ',' hval { $$ = $1; CK(push(c, $$, $3)); }
  ;

/* ---- placement rules -------------------------------------------------------------- */

rule:
    KW_PLACE { NN($$ = coll(c, SW_DOC_MAP, &@1)); }
  | KW_PLACE tname {
        NN($$ = coll(c, SW_DOC_MAP, &@1));
        CK(put(c, $$, "tensor", &@2, $2, "the rule"));
    }
  | rule KW_TENSOR tname { $$ = $1; CK(put(c, $$, "tensor", &@2, $3, "the rule")); }
  | rule KW_FOR for_list { $$ = $1; CK(put(c, $$, "for", &@2, $3, "the rule")); }
  | rule KW_LET pairs { $$ = $1; CK(merge(c, $$, "let", &@2, $3, "let")); }
  | rule KW_AS tname { $$ = $1; CK(put(c, $$, "as", &@2, $3, "the rule")); }
  | rule KW_WHERE pairs { $$ = $1; CK(merge(c, $$, "where", &@2, flow($3), "where")); }
  | rule KW_SPLIT split_list { $$ = $1; CK(merge(c, $$, "split", &@2, $3, "split")); }
  | rule KW_UNEVEN { $$ = $1; CK(put(c, $$, "uneven", &@2, plain(c, &@2, "true"), "the rule")); }
  | rule KW_UNEVEN KW_TRUE { $$ = $1; CK(put(c, $$, "uneven", &@2, src_text(c, &@3), "the rule")); }
  | rule KW_UNEVEN KW_FALSE { $$ = $1; CK(put(c, $$, "uneven", &@2, src_text(c, &@3), "the rule")); }
  | rule KW_PAD pad_list { $$ = $1; CK(merge(c, $$, "pad", &@2, $3, "pad")); }
  | rule KW_FUSE fuse { $$ = $1; CK(put(c, $$, "fuse", &@2, $3, "the rule")); }
  | rule KW_STACK for_list '{' stack_item '}' {
        $$ = $1;
        sw_doc *st = coll(c, SW_DOC_MAP, &@2);
        CK(put(c, $$, "stack", &@2, st, "the rule"));
        CK(put(c, st, "over", &@3, $3, "the stack"));
        CK(put(c, st, "item", &@5, $5, "the stack"));
    }
  | rule KW_PERM expr_list { $$ = $1; CK(put(c, $$, "perm", &@2, $3, "the rule")); }
  | rule KW_DTYPE name { $$ = $1; CK(put(c, $$, "dtype", &@2, $3, "the rule")); }
  ;

split_list:
    value KW_OVER axes {
        NN($$ = flow(coll(c, SW_DOC_MAP, &@1)));
        CK(put_key(c, $$, $1, $3, "split"));
    }
  | split_list ',' value KW_OVER axes { $$ = $1; CK(put_key(c, $$, $3, $5, "split")); }
  ;

axes:
    ident
  | '[' idents ']' { $$ = $2; }
  ;

idents:
    ident { NN($$ = flow(coll(c, SW_DOC_SEQ, &@1))); CK(push(c, $$, $1)); }
  | idents ',' ident { $$ = $1; CK(push(c, $$, $3)); }
  ;

pad_list:
    value KW_TO value {
        NN($$ = flow(coll(c, SW_DOC_MAP, &@1)));
        CK(put_key(c, $$, $1, $3, "pad"));
    }
  | pad_list ',' value KW_TO value { $$ = $1; CK(put_key(c, $$, $3, $5, "pad")); }
  ;

fuse:
    KW_DIM value { NN($$ = coll(c, SW_DOC_MAP, &@1)); CK(put(c, $$, "dim", &@1, $2, "the fuse")); }
  | parts_list { NN($$ = coll(c, SW_DOC_MAP, &@1)); CK(put(c, $$, "parts", &@1, $1, "the fuse")); }
  | KW_GROUPS value { NN($$ = coll(c, SW_DOC_MAP, &@1)); CK(put(c, $$, "groups", &@1, $2, "the fuse")); }
  | fuse KW_DIM value { $$ = $1; CK(put(c, $$, "dim", &@2, $3, "the fuse")); }
  | fuse parts_list { $$ = $1; CK(put(c, $$, "parts", &@2, $2, "the fuse")); }
  | fuse KW_GROUPS value { $$ = $1; CK(put(c, $$, "groups", &@2, $3, "the fuse")); }
  ;

parts_list:
    '[' ']' { NN($$ = coll(c, SW_DOC_SEQ, &@1)); }
  | '[' parts ']' { $$ = $2; }
  | '[' parts ',' ']' { $$ = $2; }
  ;

parts:
    part { NN($$ = coll(c, SW_DOC_SEQ, &@1)); CK(push(c, $$, $1)); }
  | parts ',' part { $$ = $1; CK(push(c, $$, $3)); }
  ;

part:
    tname
  | part_map
  ;

part_map:
    tname KW_UNIT value {
        NN($$ = flow(coll(c, SW_DOC_MAP, &@1)));
        CK(put(c, $$, "tensor", &@1, $1, "the part"));
        CK(put(c, $$, "unit", &@2, $3, "the part"));
    }
  | tname KW_PERM expr_list {
        NN($$ = flow(coll(c, SW_DOC_MAP, &@1)));
        CK(put(c, $$, "tensor", &@1, $1, "the part"));
        CK(put(c, $$, "perm", &@2, $3, "the part"));
    }
  | part_map KW_UNIT value { $$ = $1; CK(put(c, $$, "unit", &@2, $3, "the part")); }
  | part_map KW_PERM expr_list { $$ = $1; CK(put(c, $$, "perm", &@2, $3, "the part")); }
  ;

stack_item:
    tname { NN($$ = coll(c, SW_DOC_MAP, &@1)); CK(put(c, $$, "tensor", &@1, $1, "the stack item")); }
  | KW_TENSOR tname { NN($$ = coll(c, SW_DOC_MAP, &@1)); CK(put(c, $$, "tensor", &@1, $2, "the stack item")); }
  | KW_FUSE fuse { NN($$ = coll(c, SW_DOC_MAP, &@1)); CK(put(c, $$, "fuse", &@1, $2, "the stack item")); }
  | KW_PERM expr_list { NN($$ = coll(c, SW_DOC_MAP, &@1)); CK(put(c, $$, "perm", &@1, $2, "the stack item")); }
  | stack_item KW_TENSOR tname { $$ = $1; CK(put(c, $$, "tensor", &@2, $3, "the stack item")); }
  | stack_item KW_FUSE fuse { $$ = $1; CK(put(c, $$, "fuse", &@2, $3, "the stack item")); }
  | stack_item KW_PERM expr_list { $$ = $1; CK(put(c, $$, "perm", &@2, $3, "the stack item")); }
  ;

/* ---- syncs and topology ----------------------------------------------------------- */

sync:
    KW_SYNC {
        NN($$ = coll(c, SW_DOC_MAP, &@1));
        CK(push(c, sub(c, c->root, "syncs", &@1, SW_DOC_SEQ), $$));
    }
  | KW_SYNC name {
        NN($$ = coll(c, SW_DOC_MAP, &@2));
        CK(push(c, sub(c, c->root, "syncs", &@1, SW_DOC_SEQ), $$));
        CK(put(c, $$, "name", &@2, $2, "the sync"));
    }
  | sync KW_FROM name { $$ = $1; CK(put(c, $$, "from", &@2, $3, "the sync")); }
  | sync KW_TO name { $$ = $1; CK(put(c, $$, "to", &@2, $3, "the sync")); }
  | sync KW_SKIP str_list { $$ = $1; CK(put(c, $$, "skip", &@2, $3, "the sync")); }
  | sync KW_BUCKET qty { $$ = $1; CK(put(c, $$, "bucket", &@2, $3, "the sync")); }
  ;

topo_body:
    KW_TOPOLOGY '{' {
        NN($$ = coll(c, SW_DOC_MAP, &@1));
        CK(put(c, c->root, "topology", &@1, $$, "the file"));
    }
  | topo_body link {
        $$ = $1;
        CK(put_key(c, sub(c, $$, "links", &@2, SW_DOC_MAP), $2->items[0], $2->items[1], "the links"));
    }
  | topo_body KW_GPUS_PER_NIC value { $$ = $1; CK(put(c, $$, "gpus_per_nic", &@2, $3, "the topology")); }
  ;

/* A seq [name, {bandwidth, latency}] (unpacked by topo_body). */
link:
    IDENT KW_BANDWIDTH qty {
        NN($$ = coll(c, SW_DOC_SEQ, &@1));
        sw_doc *m = flow(coll(c, SW_DOC_MAP, &@2));
        CK(push(c, $$, $1) || push(c, $$, m));
        CK(put(c, m, "bandwidth", &@2, $3, "the link"));
    }
  | IDENT KW_LATENCY qty {
        NN($$ = coll(c, SW_DOC_SEQ, &@1));
        sw_doc *m = flow(coll(c, SW_DOC_MAP, &@2));
        CK(push(c, $$, $1) || push(c, $$, m));
        CK(put(c, m, "latency", &@2, $3, "the link"));
    }
  | link KW_BANDWIDTH qty { $$ = $1; CK(put(c, $$->items[1], "bandwidth", &@2, $3, "the link")); }
  | link KW_LATENCY qty { $$ = $1; CK(put(c, $$->items[1], "latency", &@2, $3, "the link")); }
  ;

qty:
    QUANTITY
  | INT
  | STRING
  ;

/* ---- shared pieces ---------------------------------------------------------------- */

name:
    IDENT
  | STRING
  ;

tname:
    STRING
  ;

pairs:
    ident '=' value {
        NN($$ = coll(c, SW_DOC_MAP, &@1));
        CK(put_key(c, $$, $1, $3, "this list"));
    }
  | pairs ',' ident '=' value { $$ = $1; CK(put_key(c, $$, $3, $5, "this list")); }
  ;

for_list:
    ident KW_IN range { NN($$ = flow(coll(c, SW_DOC_MAP, &@1))); CK(put_key(c, $$, $1, $3, "for")); }
  | for_list ',' ident KW_IN range { $$ = $1; CK(put_key(c, $$, $3, $5, "for")); }
  ;

range:
    value
  | value DOTDOT value {
        NN($$ = flow(coll(c, SW_DOC_SEQ, &@1)));
        CK(push(c, $$, $1) || push(c, $$, $3));
    }
  ;

expr_list:
    '[' ']' { NN($$ = flow(coll(c, SW_DOC_SEQ, &@1))); }
  | '[' exprs ']' { $$ = $2; }
  ;

exprs:
    value { NN($$ = flow(coll(c, SW_DOC_SEQ, &@1))); CK(push(c, $$, $1)); }
  | exprs ',' value { $$ = $1; CK(push(c, $$, $3)); }
  ;

str_list:
    '[' ']' { NN($$ = flow(coll(c, SW_DOC_SEQ, &@1))); }
  | '[' strs ']' { $$ = $2; }
  ;

strs:
    STRING { NN($$ = flow(coll(c, SW_DOC_SEQ, &@1))); CK(push(c, $$, $1)); }
  | strs ',' STRING { $$ = $1; CK(push(c, $$, $3)); }
  ;

/* Names of variables, constants and axes: identifiers, and the keywords (which are
 * reserved only where a clause may start). */
ident:
    IDENT
  | KW_SHARDWAVE { NN($$ = src_text(c, &@1)); }
  | KW_MODEL { NN($$ = src_text(c, &@1)); }
  | KW_DTYPE { NN($$ = src_text(c, &@1)); }
  | KW_LET { NN($$ = src_text(c, &@1)); }
  | KW_TENSOR { NN($$ = src_text(c, &@1)); }
  | KW_FOR { NN($$ = src_text(c, &@1)); }
  | KW_IN { NN($$ = src_text(c, &@1)); }
  | KW_SHAPE { NN($$ = src_text(c, &@1)); }
  | KW_LAYOUT { NN($$ = src_text(c, &@1)); }
  | KW_FIRST_RANK { NN($$ = src_text(c, &@1)); }
  | KW_MESH { NN($$ = src_text(c, &@1)); }
  | KW_HOSTS { NN($$ = src_text(c, &@1)); }
  | KW_PLACE { NN($$ = src_text(c, &@1)); }
  | KW_AS { NN($$ = src_text(c, &@1)); }
  | KW_WHERE { NN($$ = src_text(c, &@1)); }
  | KW_SPLIT { NN($$ = src_text(c, &@1)); }
  | KW_OVER { NN($$ = src_text(c, &@1)); }
  | KW_UNEVEN { NN($$ = src_text(c, &@1)); }
  | KW_PAD { NN($$ = src_text(c, &@1)); }
  | KW_TO { NN($$ = src_text(c, &@1)); }
  | KW_FUSE { NN($$ = src_text(c, &@1)); }
  | KW_DIM { NN($$ = src_text(c, &@1)); }
  | KW_GROUPS { NN($$ = src_text(c, &@1)); }
  | KW_UNIT { NN($$ = src_text(c, &@1)); }
  | KW_PERM { NN($$ = src_text(c, &@1)); }
  | KW_STACK { NN($$ = src_text(c, &@1)); }
  | KW_SYNC { NN($$ = src_text(c, &@1)); }
  | KW_FROM { NN($$ = src_text(c, &@1)); }
  | KW_SKIP { NN($$ = src_text(c, &@1)); }
  | KW_BUCKET { NN($$ = src_text(c, &@1)); }
  | KW_TOPOLOGY { NN($$ = src_text(c, &@1)); }
  | KW_BANDWIDTH { NN($$ = src_text(c, &@1)); }
  | KW_LATENCY { NN($$ = src_text(c, &@1)); }
  | KW_GPUS_PER_NIC { NN($$ = src_text(c, &@1)); }
  ;

/* A scalar where an integer is expected: an expression's source text (PLAIN), or a
 * string (QUOTED; elaboration parses it as an expression, as it does in YAML). */
value:
    expr { NN($$ = src_text(c, &@1)); }
  | STRING
  | KW_TRUE { NN($$ = src_text(c, &@1)); }
  | KW_FALSE { NN($$ = src_text(c, &@1)); }
  ;

/* An integer expression: no value, only its span (see src_text). */
expr:
    INT {}
  | ident {}
  | ident '(' ')' {}
  | ident '(' args ')' {}
  | '(' expr ')' {}
  | '-' expr %prec UMINUS {}
  | expr '+' expr {}
  | expr '-' expr {}
  | expr '*' expr {}
  | expr '/' expr {}
  | expr '%' expr {}
  ;

args:
    expr
  | args ',' expr
  ;

%%

static char closer(char open) { return open == '(' ? ')' : open == '[' ? ']' : '}'; }

/* "syntax error, unexpected X, expecting Y" -> "unexpected X, expecting Y", with a note
 * naming the bracket that an expected closing bracket would close. */
static void sw_dsl_yyerror(const sw_dsl_span *loc, yyscan_t scanner, sw_dsl_ctx *c, const char *msg) {
    (void)scanner;
    if (c->failed) return;
    if (!strcmp(msg, "memory exhausted")) { /* bison's stack (YYMAXDEPTH) is full */
        sw__dsl_error(c, loc, "the input nests too deeply here: more than %d pending tokens (a long chain of signs "
                      "or operators?)", YYMAXDEPTH);
        return;
    }
    if (!strncmp(msg, "syntax error, ", 14)) msg += 14;
    char note[160] = "";
    const char *exp = strstr(msg, "expecting");
    int eof = strstr(msg, "unexpected end of file") != NULL;
    int n = c->nopen < SW_DSL_MAX_OPEN ? c->nopen : SW_DSL_MAX_OPEN;
    char la = loc->off < c->len ? c->text[loc->off] : '\0';
    for (int i = n - 1; i >= 0; i--) {
        if (c->open_at[i].off == loc->off) continue; /* the lookahead itself opened it */
        if (la && strchr(")]}", la) && la != closer(c->open_ch[i])) { /* a closer of the wrong kind */
            snprintf(note, sizeof note, " (expected '%c' to close '%c' opened at line %d, column %d)",
                     closer(c->open_ch[i]), c->open_ch[i], c->open_at[i].line, c->open_at[i].col);
            break;
        }
        char want[4] = {'\'', closer(c->open_ch[i]), '\'', '\0'};
        if ((exp && strstr(exp, want)) || eof)
            snprintf(note, sizeof note, " (to close '%c' opened at line %d, column %d)", c->open_ch[i],
                     c->open_at[i].line, c->open_at[i].col);
        break;
    }
    sw__dsl_error(c, loc, "%s%s", msg, note);
}
