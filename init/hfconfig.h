/*
 * hfconfig.h - the numbers of a Hugging Face `config.json` that `shardwave init` needs.
 *
 * Reads the file with jansson and fills one flat struct: the model family (from
 * `model_type`), the sizes, and the flags that change which tensors exist (biases, tied
 * embeddings, qk norm, MoE, MLA, fp8 block quantization).  A file that is not JSON, a
 * `model_type` this reader does not know, or a size that is missing or of the wrong kind
 * is SW_INPUT at FILE:LINE:COL (of the key's value when it exists, else of the file).
 * A feature of a known family that no preset expresses (llama `attention_bias`, qwen3_moe
 * with dense layers, ...) is also refused here, with the key that asks for it.
 */
#ifndef SW_HFCONFIG_H
#define SW_HFCONFIG_H

#include <stdint.h>
#include "shardwave.h"

typedef enum sw_hf_family {
    SW_HF_LLAMA,      /* llama: LlamaForCausalLM */
    SW_HF_QWEN2,      /* qwen2: Qwen2ForCausalLM (q/k/v biases) */
    SW_HF_QWEN3,      /* qwen3: Qwen3ForCausalLM (q_norm, k_norm) */
    SW_HF_QWEN3_MOE,  /* qwen3_moe: Qwen3MoeForCausalLM (every layer MoE, no shared expert) */
    SW_HF_MIXTRAL,    /* mixtral: MixtralForCausalLM (block_sparse_moe, w1/w2/w3) */
    SW_HF_DEEPSEEK_V3 /* deepseek_v3: DeepseekV3ForCausalLM (MLA, shared expert, dense first layers) */
} sw_hf_family;

typedef struct sw_hf_config {
    sw_hf_family family;
    char model_type[32];   /* as written in the file */
    char arch[96];         /* architectures[0], "" when absent */
    char name[96];         /* a model name for the layout file: _name_or_path's last part, else model_type */

    /* every family */
    int64_t hidden;        /* hidden_size */
    int64_t layers;        /* num_hidden_layers */
    int64_t heads;         /* num_attention_heads */
    int64_t kv_heads;      /* num_key_value_heads (= heads when absent; MLA: heads) */
    int64_t head_dim;      /* head_dim, else hidden_size / num_attention_heads */
    int head_dim_given;    /* head_dim was written in the file */
    int64_t ffn;           /* intermediate_size (dense MLP; mixtral: every expert's) */
    int64_t vocab;         /* vocab_size */
    int tied;              /* tie_word_embeddings (default false) */
    int qkv_bias;          /* qwen2: q_proj/k_proj/v_proj have biases */
    int qk_norm;           /* qwen3, qwen3_moe: q_norm/k_norm [head_dim] */

    /* MoE (qwen3_moe, mixtral, deepseek_v3) */
    int64_t experts;       /* num_experts / num_local_experts / n_routed_experts; 0 for dense */
    int64_t moe_ffn;       /* moe_intermediate_size (mixtral: intermediate_size) */
    int64_t topk;          /* num_experts_per_tok (reported only) */
    int64_t shared_experts;/* n_shared_experts (deepseek_v3) */
    int64_t first_dense;   /* first_k_dense_replace (deepseek_v3); 0 otherwise */
    int router_bias;       /* deepseek_v3 topk_method noaux_tc: mlp.gate.e_score_correction_bias */

    /* MLA (deepseek_v3) */
    int mla;
    int64_t q_lora;        /* q_lora_rank; 0 when null (q_proj instead of q_a/q_b) */
    int64_t kv_lora;       /* kv_lora_rank */
    int64_t qk_nope, qk_rope, v_head;
    int64_t mtp_layers;    /* num_nextn_predict_layers (left out of the layout, reported) */

    /* fp8 block quantization (quantization_config.quant_method fp8) */
    int fp8;
    int64_t block_n, block_k; /* weight_block_size */

    char dtype[16];        /* the layout's element type from torch_dtype/dtype: bf16, fp16, fp32 */
} sw_hf_config;

/* Reads path and fills *cfg.  Returns SW_OK, SW_IO (cannot read) or SW_INPUT (bad
 * content, at FILE:LINE:COL). */
int sw_hf_config_load(const char *path, sw_hf_config *cfg, sw_error *err);

/* Same from text in memory; path names the text in errors. */
int sw_hf_config_parse(const char *path, const char *text, size_t len, sw_hf_config *cfg, sw_error *err);

/* The Hugging Face name of a family ("llama", "qwen2", ...). */
const char *sw_hf_family_name(sw_hf_family f);

#endif
