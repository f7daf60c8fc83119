/*
 * load.c - a layout file (YAML or the DSL) to a checked IR: read, parse with the front
 * end the file calls for, elaborate, check coverage (see load.h).
 */
#include "load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coverage.h"
#include "dsl_load.h"
#include "yaml_load.h"

int sw_is_dsl(const char *path, const char *text, size_t len) {
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && strchr(dot, '/')) dot = NULL;
    if (dot && !strcmp(dot, ".sw")) return 1;
    if (dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml"))) return 0;
    return sw_dsl_sniff(text, len);
}

int sw_load_text(const char *path, const char *text, size_t len, const sw_load_opts *opts, sw_ir *ir,
                 sw_error *err) {
    memset(ir, 0, sizeof *ir);
    sw_arena_init(&ir->arena);
    sw_doc *root;
    int rc = sw_is_dsl(path, text, len) ? sw_dsl_load(&ir->arena, path, text, len, &root, err)
                                        : sw_yaml_load(&ir->arena, path, text, len, &root, err);
    if (!rc) rc = sw_elaborate(root, path, opts, ir, err);
    if (!rc) rc = sw_coverage_check(ir, err);
    if (rc) sw_ir_free(ir);
    return rc;
}

int sw_load_file(const char *path, const sw_load_opts *opts, sw_ir *ir, sw_error *err) {
    memset(ir, 0, sizeof *ir);
    FILE *f = fopen(path, "rb");
    if (!f) return sw__err(err, SW_IO, "cannot open '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (SW_GROW(buf, cap, len + 65536)) {
            fclose(f);
            free(buf);
            return sw__err(err, SW_NOMEM, "out of memory reading '%s'", path);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return sw__err(err, SW_IO, "cannot read '%s'", path);
    }
    int rc = sw_load_text(path, buf, len, opts, ir, err);
    free(buf);
    return rc;
}

