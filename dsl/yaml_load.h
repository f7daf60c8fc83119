/*
 * yaml_load.h - YAML text to a located document tree (libyaml's event API).
 *
 * Keeps the line and column of every node; rejects duplicate mapping keys; resolves
 * aliases to their anchored node.  A YAML syntax error is SW_INPUT at libyaml's
 * problem mark, with "YAML" in the message.
 */
#ifndef SW_YAML_LOAD_H
#define SW_YAML_LOAD_H

#include "doc.h"

/* Parses len bytes of text.  path is used in locations and must outlive the tree.
 * On success *out is the root (a map, seq or scalar), allocated in a. */
int sw_yaml_load(sw_arena *a, const char *path, const char *text, size_t len, sw_doc **out, sw_error *err);

#endif
