/*
 * presets.h - the framework conventions of `shardwave init`, one function per framework.
 *
 * Each preset fills one layout (mesh and placement rules) of the file that init.c builds,
 * for the model described by the config.  Every rule names, in its comment, the framework
 * source file and version it follows; docs/frameworks.md lists them all.  A size that the
 * framework itself rejects (heads % tp, experts % ep, ...) is SW_USAGE naming the flag.
 */
#ifndef SW_INIT_PRESETS_H
#define SW_INIT_PRESETS_H

#include "arena.h"
#include "emit.h"
#include "hfconfig.h"
#include "init.h"

typedef struct sw_preset_ctx {
    sw_arena *a;
    const sw_hf_config *c;
    const sw_fw_spec *s;
    sw_ir_layout *L;
    sw_ir_file *F;
    const char *role;  /* "--from" or "--to": for messages */
    sw_error *err;
} sw_preset_ctx;

/* Fills ctx->L (name, first_rank and hosts already set) for ctx->s->fw. */
int sw_preset_layout(sw_preset_ctx *ctx);

/* Adds the let constants a preset needs to the model (once per file), e.g. vLLM's vocab
 * padding; called for every spec before the layouts are built. */
int sw_preset_lets(sw_preset_ctx *ctx);

#endif
