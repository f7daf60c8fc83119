/*
 * dsl_load.h - the textual layout language (flex + bison) to the located document tree.
 *
 * The DSL is a second spelling of the YAML form: sw_dsl_load builds exactly the tree
 * that sw_yaml_load would build for the equivalent YAML (same keys, in the order they
 * are written), so elaboration cannot tell the two apart.  Expressions are kept as
 * their source text in PLAIN scalars; names and templates are QUOTED scalars.  Every
 * node carries the line and column of its first character.
 *
 * Ownership: the tree and all of its strings live in the arena; a parse error leaves
 * only arena memory behind (freed with the arena).
 */
#ifndef SW_DSL_LOAD_H
#define SW_DSL_LOAD_H

#include "doc.h"

/* Parses len bytes of DSL text.  path is used in locations and must outlive the tree.
 * On success *out is the root map.  A syntax error is SW_INPUT at the offending token. */
int sw_dsl_load(sw_arena *a, const char *path, const char *text, size_t len, sw_doc **out, sw_error *err);

/* 1 when text looks like the DSL: its first token (after comments and blank space) is
 * `shardwave` followed by a number, without a colon in between. */
int sw_dsl_sniff(const char *text, size_t len);

#endif
