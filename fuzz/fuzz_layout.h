/*
 * fuzz_layout.h - the body of the two layout-file harnesses (fuzz_yaml.c, fuzz_dsl.c):
 * what `shardwave check` and `compile` do with a file, on bytes from libFuzzer.
 *
 * The input is loaded as `name` (".yaml" or ".sw" picks the front end), elaborated and
 * checked for coverage; a file that loads gets its layout statistics, and when it is small
 * (the harness must stay fast) every sync is compiled and the plan verified.  Oracles
 * (a violation aborts: libFuzzer reports it as a crash with the input):
 *   - a failure has a known status and a message, an input error a position when it
 *     names a file (line and column >= 1);
 *   - the compiler never reports an internal error, and a plan it returns verifies
 *     (sw_plan_verify), and serializes and reads back.
 * Plus whatever ASan and UBSan catch on the way.
 */
#ifndef SW_FUZZ_LAYOUT_H
#define SW_FUZZ_LAYOUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "coverage.h"
#include "load.h"
#include "plan_io.h"
#include "plan_verify.h"

static void fz_die(const char *what, const sw_error *err) {
    fprintf(stderr, "fuzz oracle: %s: status %d, %s:%d:%d: %s\n", what, err ? err->status : 0,
            err ? err->file : "", err ? err->line : 0, err ? err->col : 0, err ? err->msg : "");
    abort();
}

/* A failed call: a known status, a message, a position for an input error in a file. */
static void fz_check_error(int rc, const sw_error *err, const char *what) {
    if (rc >= 0 || rc < SW_INTERNAL || err->status != rc) fz_die(what, err);
    if (rc == SW_INTERNAL) fz_die(what, err); /* "a bug": never for an input */
    if (!err->msg[0]) fz_die(what, err);
    if (rc == SW_INPUT && err->file[0] && (err->line < 1 || err->col < 1)) fz_die(what, err);
}

static int fz_layout(const char *name, const uint8_t *data, size_t size) {
    sw_ir ir;
    sw_error err;
    sw_load_opts lo = {NULL, 0};
    int rc = sw_load_text(name, (const char *)data, size, &lo, &ir, &err);
    if (rc) {
        fz_check_error(rc, &err, "load");
        return 0;
    }
    int64_t ranks = 0;
    for (size_t l = 0; l < ir.nlayouts; l++) {
        sw_layout_stats st;
        if ((rc = sw_layout_stats_compute(&ir.layouts[l], &st, &err))) fz_check_error(rc, &err, "layout stats");
        ranks += ir.layouts[l].nranks;
    }
    /* compile only what compiles in milliseconds */
    size_t insts = 0;
    for (size_t l = 0; l < ir.nlayouts; l++) insts += ir.layouts[l].ninsts;
    if (ranks <= 32 && ir.ntensors <= 64 && insts <= 256) {
        for (size_t s = 0; s < ir.nsyncs; s++) {
            sw_compile_params o;
            memset(&o, 0, sizeof o);
            o.sync = (int)s;
            sw_plan plan;
            rc = sw_compile(&ir, &o, &plan, &err);
            if (rc) {
                fz_check_error(rc, &err, "compile");
                continue;
            }
            if ((rc = sw_plan_verify(&plan, &err))) fz_die("a compiled plan fails verification", &err);
            uint8_t *buf = NULL;
            size_t len = 0;
            if ((rc = sw_plan_write_mem(&plan, &buf, &len, &err))) fz_check_error(rc, &err, "serialize");
            if (buf) {
                sw_plan back;
                if ((rc = sw_plan_read_mem(&back, buf, len, "fuzz.swp", -1, &err))) fz_die("a written plan does not read", &err);
                sw_plan_free(&back);
                free(buf);
            }
            sw_plan_free(&plan);
        }
    }
    sw_ir_free(&ir);
    return 0;
}

#endif
