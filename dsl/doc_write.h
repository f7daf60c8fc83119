/*
 * doc_write.h - the document tree back to text: canonical YAML or the textual DSL.
 *
 * Both writers are deterministic functions of the tree (keys in tree order), so writing
 * what was read from their own output changes nothing.  The YAML writer uses block
 * style, and flow style for collections at most two levels deep that fit on the line;
 * it quotes a scalar only when YAML would misread it (indicators, `: `, ` #`, flow
 * characters inside flow collections, strings that look like numbers or booleans).
 * The DSL writer knows the schema of the layout language: a key it does not know, or a
 * value of the wrong kind, is SW_INPUT at that node (the DSL has no spelling for it).
 */
#ifndef SW_DOC_WRITE_H
#define SW_DOC_WRITE_H

#include <stdio.h>
#include "doc.h"

/* Writes root as YAML to f.  Returns SW_OK or SW_IO. */
int sw_doc_write_yaml(FILE *f, const sw_doc *root, sw_error *err);
/* Writes root (a layout document) as DSL to f.  SW_INPUT when the tree has no DSL form. */
int sw_doc_write_dsl(FILE *f, const sw_doc *root, sw_error *err);

/* Both into a malloc'ed NUL-terminated string (*out, freed by the caller). */
int sw_doc_to_string(const sw_doc *root, int dsl, char **out, sw_error *err);

/* Shared by the two writers (doc_write_yaml.c, doc_write_dsl.c). */
#define SW_DOC_LINE_WIDTH 100
/* 1 when s is one of the NULL-terminated words. */
int sw__doc_is_word(const char *s, const char *const *words);

#endif
