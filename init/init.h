/*
 * init.h - `shardwave init`: a layout file for a Hugging Face model and framework presets.
 *
 * A framework spec is the text of one --from/--to flag, `FW:key=val,...`:
 *
 *   megatron  tp pp dp ep etp vpp first_stage_layers last_stage_layers vocab_pad (128|0)
 *             grouped_gemm (1|0)
 *   fsdp2     shard replicate transformers (5|4)
 *   vllm      tp dp ep (0|1) version (0.33 default; below 0.24 the FusedMoE names before RoutedExperts)
 *   sglang    tp dp ep
 *   every FW  first_rank gpus_per_host rank_base
 *
 * The generator writes the model section from the config (its `let` constants are the
 * config's numbers), one layout per spec (`train`, `infer`, `infer1`, ...) from the presets
 * (presets.h), and one sync per --to (`refit`, `refit1`, ...).  It depends only on the
 * ground floor; the output is YAML, or the DSL with the same comments.
 */
#ifndef SW_INIT_H
#define SW_INIT_H

#include <stdint.h>
#include "hfconfig.h"
#include "shardwave.h"

typedef enum sw_fw { SW_FW_MEGATRON, SW_FW_FSDP2, SW_FW_VLLM, SW_FW_SGLANG } sw_fw;

typedef struct sw_fw_spec {
    sw_fw fw;
    char text[256];          /* the flag's value, for the header and messages */
    int64_t tp, pp, dp, ep, etp, vpp;
    int64_t first_stage_layers, last_stage_layers; /* megatron; 0 = even split */
    int64_t vocab_pad;       /* megatron make_vocab_size_divisible_by: 128 (Megatron-LM) or 0 (Bridge import) */
    int grouped_gemm;        /* megatron MoE experts: 1 TEGroupedMLP (weight{j}), 0 SequentialMLP */
    int64_t shard, replicate;/* fsdp2 */
    int64_t transformers;    /* fsdp2: the transformers major version whose modules are wrapped: 5 (default;
                              * MoE experts fused into 3D parameters) or 4 (per-expert modules) */
    char version[16];        /* vllm: "0.33" (default) or another "0.N"; sglang: "0.5.23" */
    int64_t first_rank, gpus_per_host, rank_base;
    int has_first_rank, has_rank_base;
} sw_fw_spec;

/* Parses "FW:key=val,...".  A bad spec is SW_USAGE with a message naming the key. */
int sw_fw_spec_parse(const char *arg, sw_fw_spec *out, sw_error *err);

/* The number of ranks of the spec's layout. */
int64_t sw_fw_spec_ranks(const sw_fw_spec *s);

typedef struct sw_init_opts {
    const char *config_path; /* named in the header comment */
    const char *command;     /* the command line, for the header comment (may be NULL) */
    int dsl;                 /* write the DSL instead of YAML */
} sw_init_opts;

/* Writes the layout file for cfg, layout `train` from *from and one layout per to[k]
 * into *out (malloc'ed, NUL-terminated; the caller frees it).  Sizes a framework itself
 * rejects (heads % tp, experts % ep, ...) are SW_USAGE naming the flag. */
int sw_init_generate(const sw_hf_config *cfg, const sw_fw_spec *from, const sw_fw_spec *to, size_t nto,
                     const sw_init_opts *opts, char **out, sw_error *err);

#endif
