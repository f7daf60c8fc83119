/*
 * compile_api.c - the compile calls of include/shardwave.h (libshardwave only): a layout
 * file or text to a verified plan, as `shardwave compile` does.  The top floor of the
 * library: it sees the front end, elaboration, the compiler and the plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "diag.h"
#include "load.h"
#include "plan_verify.h"
#include "shardwave.h"

/* opts (may be NULL, or an older, shorter struct) into a full one. */
static void take_opts(const sw_compile_options *in, sw_compile_options *o) {
    memset(o, 0, sizeof *o);
    if (in) memcpy(o, in, in->struct_size && in->struct_size < sizeof *o ? in->struct_size : sizeof *o);
}

/* The IR (loaded) to a heap plan, verified. */
static int compile_ir(sw_plan **out, const sw_ir *ir, const sw_compile_options *o, sw_error *err) {
    sw_compile_params cp;
    memset(&cp, 0, sizeof cp);
    if (o->sync) {
        cp.sync = sw_ir_sync(ir, o->sync);
        if (cp.sync < 0) {
            char names[512] = "";
            size_t n = 0;
            for (size_t i = 0; i < ir->nsyncs && n + 2 < sizeof names; i++)
                n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", ir->syncs[i].name);
            return sw__err(err, SW_USAGE, "%s has no sync named '%s' (it has: %s)", ir->path, o->sync,
                           ir->nsyncs ? names : "none");
        }
    } else if (ir->nsyncs == 0) {
        return sw__err(err, SW_INPUT, "%s has no sync (add `syncs:`, or give exactly two layouts)", ir->path);
    }
    if (o->scheduler && sw_scheduler_parse(o->scheduler, &cp.scheduler))
        return sw__err(err, SW_USAGE, "unknown scheduler '%s' (optimal, greedy, naive, broadcast)", o->scheduler);
    if (o->bucket != 0 && o->bucket < SW_MIN_BUCKET)
        return sw__err(err, SW_USAGE, "bucket %lld is below the minimum of %lld bytes (0: the sync's own)",
                       (long long)o->bucket, SW_MIN_BUCKET);
    cp.bucket = o->bucket;
    cp.no_relay = o->no_relay;
    sw_plan *p = calloc(1, sizeof *p);
    if (!p) return sw__err(err, SW_NOMEM, "out of memory");
    int rc = sw_compile(ir, &cp, p, err);
    if (rc) {
        free(p);
        return rc;
    }
    p->heap = 1;
    sw_error verr;
    if (sw_plan_verify(p, &verr)) {
        sw_plan_free(p);
        return sw__err(err, SW_INTERNAL, "the compiled plan fails verification (a compiler bug): %s", verr.msg);
    }
    *out = p;
    return SW_OK;
}

static int compile_any(sw_plan **out, const char *path, const char *text, size_t len,
                       const sw_compile_options *opts, sw_error *err) {
    if (!out) return sw__err(err, SW_USAGE, "sw_compile: NULL plan pointer");
    *out = NULL;
    if (!path) return sw__err(err, SW_USAGE, "sw_compile: NULL %s", text ? "name" : "path");
    sw_compile_options o;
    take_opts(opts, &o);
    if (o.ndefines && !o.defines) return sw__err(err, SW_USAGE, "sw_compile: %zu defines but no array", o.ndefines);
    for (size_t i = 0; i < o.ndefines; i++)
        if (!o.defines[i].name) return sw__err(err, SW_USAGE, "sw_compile: define %zu has no name", i);
    sw_load_opts lo = {o.defines, o.ndefines};
    sw_ir ir;
    int rc = text ? sw_load_text(path, text, len, &lo, &ir, err) : sw_load_file(path, &lo, &ir, err);
    if (rc) return rc;
    rc = compile_ir(out, &ir, &o, err);
    sw_ir_free(&ir);
    if (!rc) sw__err_clear(err);
    return rc;
}

int sw_compile_file(sw_plan **out, const char *path, const sw_compile_options *opts, sw_error *err) {
    return compile_any(out, path, NULL, 0, opts, err);
}

int sw_compile_text(sw_plan **out, const char *name, const char *text, size_t len, const sw_compile_options *opts,
                    sw_error *err) {
    if (!text) {
        if (out) *out = NULL;
        return sw__err(err, SW_USAGE, "sw_compile_text: NULL text");
    }
    return compile_any(out, name, text, len, opts, err);
}
