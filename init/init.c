/* init.c - `shardwave init`: framework specs, the model section, and the whole file. */
#include "init.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "diag.h"
#include "emit.h"
#include "presets.h"

/* ---- FW:key=val,... ------------------------------------------------------------------------ */

typedef struct key {
    const char *name;
    size_t off;   /* offset of the int64_t field */
    int64_t min;  /* smallest accepted value */
} key;

#define K(n, field, mn) {n, offsetof(sw_fw_spec, field), mn}
static const key common_keys[] = {K("first_rank", first_rank, 0), K("gpus_per_host", gpus_per_host, 1), K("rank_base", rank_base, 0)};
static const key megatron_keys[] = {K("tp", tp, 1),   K("pp", pp, 1),   K("dp", dp, 1),
                                    K("ep", ep, 1),   K("etp", etp, 1), K("vpp", vpp, 1),
                                    K("first_stage_layers", first_stage_layers, 1),
                                    K("last_stage_layers", last_stage_layers, 1),
                                    K("vocab_pad", vocab_pad, 0)};
static const key fsdp2_keys[] = {K("shard", shard, 1), K("replicate", replicate, 1), K("transformers", transformers, 4)};
static const key vllm_keys[] = {K("tp", tp, 1), K("dp", dp, 1), K("ep", ep, 0)};
static const key sglang_keys[] = {K("tp", tp, 1), K("dp", dp, 1), K("ep", ep, 1)};
#undef K

static const struct {
    const char *name;
    sw_fw fw;
    const key *keys;
    size_t nkeys;
    const char *list; /* for messages */
} fws[] = {
    {"megatron", SW_FW_MEGATRON, megatron_keys, sizeof megatron_keys / sizeof *megatron_keys,
     "tp, pp, dp, ep, etp, vpp, first_stage_layers, last_stage_layers, vocab_pad, grouped_gemm"},
    {"fsdp2", SW_FW_FSDP2, fsdp2_keys, sizeof fsdp2_keys / sizeof *fsdp2_keys, "shard, replicate, transformers"},
    {"vllm", SW_FW_VLLM, vllm_keys, sizeof vllm_keys / sizeof *vllm_keys, "tp, dp, ep, version"},
    {"sglang", SW_FW_SGLANG, sglang_keys, sizeof sglang_keys / sizeof *sglang_keys, "tp, dp, ep"},
};

static int parse_int(const char *v, int64_t *out) {
    if (!*v) return -1;
    char *end;
    long long x = strtoll(v, &end, 10);
    if (*end || x < 0 || x > (1LL << 40)) return -1;
    *out = x;
    return 0;
}

int sw_fw_spec_parse(const char *arg, sw_fw_spec *s, sw_error *err) {
    memset(s, 0, sizeof *s);
    snprintf(s->text, sizeof s->text, "%s", arg);
    s->tp = s->pp = s->dp = s->ep = s->vpp = s->shard = s->replicate = 1;
    s->etp = 0; /* = tp unless given */
    s->vocab_pad = 128;
    s->transformers = 5;
    s->grouped_gemm = 1;
    s->gpus_per_host = 8;
    snprintf(s->version, sizeof s->version, "0.33");
    const char *colon = strchr(arg, ':');
    size_t fl = colon ? (size_t)(colon - arg) : strlen(arg);
    size_t f = 0, nf = sizeof fws / sizeof *fws;
    while (f < nf && (strlen(fws[f].name) != fl || strncmp(fws[f].name, arg, fl))) f++;
    if (f == nf) return sw__err(err, SW_USAGE, "'%.*s' is not a framework (megatron, fsdp2, vllm, sglang)", (int)fl, arg);
    s->fw = fws[f].fw;
    if (s->fw == SW_FW_VLLM) s->ep = 0;
    if (s->fw == SW_FW_SGLANG) snprintf(s->version, sizeof s->version, "0.5.23");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", colon ? colon + 1 : "");
    int etp_given = 0;
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) return sw__err(err, SW_USAGE, "%s: '%s' is not key=value", fws[f].name, kv);
        *eq = '\0';
        const char *k = kv, *v = eq + 1;
        if (s->fw == SW_FW_VLLM && !strcmp(k, "version")) {
            int maj, min, n = 0;
            if (sscanf(v, "%d.%d%n", &maj, &min, &n) != 2 || maj != 0 || (v[n] && v[n] != '.') || strlen(v) >= sizeof s->version)
                return sw__err(err, SW_USAGE, "vllm: version '%s' is not a vLLM release like 0.33 or 0.11", v);
            if (min > 33) return sw__err(err, SW_USAGE, "vllm: version %s is newer than the presets (0.33)", v);
            snprintf(s->version, sizeof s->version, "0.%d", min);
            continue;
        }
        if (s->fw == SW_FW_MEGATRON && !strcmp(k, "grouped_gemm")) {
            if (strcmp(v, "0") && strcmp(v, "1")) return sw__err(err, SW_USAGE, "megatron: grouped_gemm must be 0 or 1, not '%s'", v);
            s->grouped_gemm = v[0] == '1';
            continue;
        }
        const key *hit = NULL;
        for (size_t i = 0; i < fws[f].nkeys; i++)
            if (!strcmp(fws[f].keys[i].name, k)) hit = &fws[f].keys[i];
        for (size_t i = 0; !hit && i < sizeof common_keys / sizeof *common_keys; i++)
            if (!strcmp(common_keys[i].name, k)) hit = &common_keys[i];
        if (!hit)
            return sw__err(err, SW_USAGE, "%s: unknown key '%s' (keys: %s, first_rank, gpus_per_host, rank_base)", fws[f].name, k,
                           fws[f].list);
        int64_t x;
        if (parse_int(v, &x) || x < hit->min)
            return sw__err(err, SW_USAGE, "%s: %s=%s: expected an integer >= %lld", fws[f].name, k, v, (long long)hit->min);
        *(int64_t *)((char *)s + hit->off) = x;
        if (!strcmp(k, "first_rank")) s->has_first_rank = 1;
        if (!strcmp(k, "rank_base")) s->has_rank_base = 1;
        if (!strcmp(k, "etp")) etp_given = 1;
    }
    if (s->fw == SW_FW_VLLM && s->ep > 1) return sw__err(err, SW_USAGE, "vllm: ep must be 0 or 1 (enable_expert_parallel), not %lld", (long long)s->ep);
    if (s->transformers > 5)
        return sw__err(err, SW_USAGE, "fsdp2: transformers=%lld: the presets know transformers 4 and 5", (long long)s->transformers);
    if (!etp_given) s->etp = s->tp;
    return SW_OK;
}

int64_t sw_fw_spec_ranks(const sw_fw_spec *s) {
    switch (s->fw) {
    case SW_FW_MEGATRON: return s->pp * s->dp * s->tp;
    case SW_FW_FSDP2: return s->replicate * s->shard;
    case SW_FW_VLLM:
    case SW_FW_SGLANG: return s->dp * s->tp;
    }
    return 0;
}

static const char *fw_name(sw_fw f) {
    for (size_t i = 0; i < sizeof fws / sizeof *fws; i++)
        if (fws[i].fw == f) return fws[i].name;
    return "?";
}

/* ---- the model section ------------------------------------------------------------------------ */

typedef struct mctx {
    sw_arena *a;
    sw_ir_file *F;
    const sw_hf_config *c;
    sw_error *err;
} mctx;

static int let(mctx *m, const char *k, const char *v, const char *comment) {
    sw_ir_file *F = m->F;
    if (F->nlets >= sizeof F->lets / sizeof *F->lets) return sw__err(m->err, SW_INTERNAL, "too many let constants");
    F->lets[F->nlets] = (sw_ir_kv){k, v};
    F->let_comments[F->nlets++] = comment;
    return SW_OK;
}
static int leti(mctx *m, const char *k, int64_t v, const char *comment) {
    const char *s = sw_init_fmt(m->a, "%lld", (long long)v);
    if (!s) return sw__err(m->err, SW_NOMEM, "out of memory");
    return let(m, k, s, comment);
}

/* One logical tensor family: name, range (NULL: one tensor; "a..b"), shape, fp8 flag. */
static int tensor(mctx *m, const char *comment, const char *name, const char *range, int per_expert, const char *d0,
                  const char *d1, int fp8) {
    sw_ir_tensor t = {0};
    t.comment = comment;
    t.name = name;
    int k = 0;
    if (range) t.fors[k++] = (sw_ir_kv){"i", range};
    if (per_expert) t.fors[k++] = (sw_ir_kv){"e", "experts"};
    t.shape[0] = d0;
    t.shape[1] = d1;
    if (fp8 && m->c->fp8) t.dtype = "fp8_e4m3";
    if (sw_ir_add_tensor(m->F, &t)) return sw__err(m->err, SW_NOMEM, "out of memory");
    if (fp8 && m->c->fp8) {
        sw_ir_tensor sc = t;
        sc.comment = NULL;
        sc.name = sw_init_fmt(m->a, "%s_scale_inv", name);
        sc.shape[0] = sw_init_fmt(m->a, "cdiv(%s, block_n)", d0);
        sc.shape[1] = sw_init_fmt(m->a, "cdiv(%s, block_k)", d1);
        sc.dtype = "fp32";
        if (!sc.name || !sc.shape[0] || !sc.shape[1] || sw_ir_add_tensor(m->F, &sc)) return sw__err(m->err, SW_NOMEM, "out of memory");
    }
    return SW_OK;
}

static int model(mctx *m) {
    const sw_hf_config *c = m->c;
    SW_CHECK(leti(m, "hidden", c->hidden, "hidden_size"));
    SW_CHECK(leti(m, "layers", c->layers, "num_hidden_layers"));
    SW_CHECK(leti(m, "heads", c->heads, "num_attention_heads"));
    if (!c->mla) {
        SW_CHECK(leti(m, "kv_heads", c->kv_heads, "num_key_value_heads"));
        if (c->head_dim_given) SW_CHECK(leti(m, "head_dim", c->head_dim, "head_dim"));
        else SW_CHECK(let(m, "head_dim", "hidden / heads", "hidden_size / num_attention_heads"));
    } else {
        if (c->q_lora) SW_CHECK(leti(m, "q_lora", c->q_lora, "q_lora_rank"));
        SW_CHECK(leti(m, "kv_lora", c->kv_lora, "kv_lora_rank"));
        SW_CHECK(leti(m, "nope", c->qk_nope, "qk_nope_head_dim"));
        SW_CHECK(leti(m, "rope", c->qk_rope, "qk_rope_head_dim"));
        SW_CHECK(leti(m, "v_head", c->v_head, "v_head_dim"));
    }
    int dense_mlp = !c->experts || (c->family == SW_HF_DEEPSEEK_V3 && c->first_dense);
    if (dense_mlp) SW_CHECK(leti(m, "ffn", c->ffn, "intermediate_size"));
    if (c->experts) {
        SW_CHECK(leti(m, "experts", c->experts, c->family == SW_HF_MIXTRAL ? "num_local_experts" : c->mla ? "n_routed_experts" : "num_experts"));
        SW_CHECK(leti(m, "moe_ffn", c->moe_ffn, c->family == SW_HF_MIXTRAL ? "intermediate_size (per expert)" : "moe_intermediate_size"));
        if (c->shared_experts) SW_CHECK(leti(m, "shared_experts", c->shared_experts, "n_shared_experts"));
        if (c->family == SW_HF_DEEPSEEK_V3 && c->first_dense) SW_CHECK(leti(m, "dense", c->first_dense, "first_k_dense_replace"));
    }
    SW_CHECK(leti(m, "vocab", c->vocab, "vocab_size"));
    if (c->fp8) {
        SW_CHECK(leti(m, "block_n", c->block_n, "quantization_config.weight_block_size[0]"));
        SW_CHECK(leti(m, "block_k", c->block_k, "quantization_config.weight_block_size[1]"));
    }

    const char *L = "layers";
    SW_CHECK(tensor(m, NULL, "model.embed_tokens.weight", NULL, 0, "vocab", "hidden", 0));
    SW_CHECK(tensor(m, NULL, "model.layers.{i}.input_layernorm.weight", L, 0, "hidden", NULL, 0));
    if (!c->mla) {
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.q_proj.weight", L, 0, "heads * head_dim", "hidden", 0));
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.k_proj.weight", L, 0, "kv_heads * head_dim", "hidden", 0));
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.v_proj.weight", L, 0, "kv_heads * head_dim", "hidden", 0));
        if (c->qkv_bias) {
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.q_proj.bias", L, 0, "heads * head_dim", NULL, 0));
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.k_proj.bias", L, 0, "kv_heads * head_dim", NULL, 0));
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.v_proj.bias", L, 0, "kv_heads * head_dim", NULL, 0));
        }
        if (c->qk_norm) {
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.q_norm.weight", L, 0, "head_dim", NULL, 0));
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.k_norm.weight", L, 0, "head_dim", NULL, 0));
        }
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.o_proj.weight", L, 0, "hidden", "heads * head_dim", 0));
    } else {
        if (c->q_lora) {
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.q_a_proj.weight", L, 0, "q_lora", "hidden", 1));
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.q_a_layernorm.weight", L, 0, "q_lora", NULL, 0));
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.q_b_proj.weight", L, 0, "heads * (nope + rope)", "q_lora", 1));
        } else {
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.q_proj.weight", L, 0, "heads * (nope + rope)", "hidden", 1));
        }
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.kv_a_proj_with_mqa.weight", L, 0, "kv_lora + rope", "hidden", 1));
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.kv_a_layernorm.weight", L, 0, "kv_lora", NULL, 0));
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.kv_b_proj.weight", L, 0, "heads * (nope + v_head)", "kv_lora", 1));
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.self_attn.o_proj.weight", L, 0, "hidden", "heads * v_head", 1));
    }
    SW_CHECK(tensor(m, NULL, "model.layers.{i}.post_attention_layernorm.weight", L, 0, "hidden", NULL, 0));
    if (dense_mlp) {
        const char *rd = c->experts ? "dense" : L;
        SW_CHECK(tensor(m, c->experts ? "dense MLP layers (first_k_dense_replace)" : NULL, "model.layers.{i}.mlp.gate_proj.weight", rd, 0, "ffn", "hidden", 1));
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.mlp.up_proj.weight", rd, 0, "ffn", "hidden", 1));
        SW_CHECK(tensor(m, NULL, "model.layers.{i}.mlp.down_proj.weight", rd, 0, "hidden", "ffn", 1));
    }
    if (c->experts) {
        const char *rm = c->family == SW_HF_DEEPSEEK_V3 && c->first_dense ? "dense..layers" : L;
        int mix = c->family == SW_HF_MIXTRAL;
        const char *blk = mix ? "block_sparse_moe" : "mlp";
        SW_CHECK(tensor(m, "MoE layers: router, experts", sw_init_fmt(m->a, "model.layers.{i}.%s.gate.weight", blk), rm, 0, "experts", "hidden", 0));
        if (c->router_bias) {
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.mlp.gate.e_score_correction_bias", rm, 0, "experts", NULL, 0));
            m->F->tensors[m->F->ntensors - 1].dtype = "fp32";
        }
        SW_CHECK(tensor(m, NULL, sw_init_fmt(m->a, "model.layers.{i}.%s.experts.{e}.%s.weight", blk, mix ? "w1" : "gate_proj"), rm, 1, "moe_ffn", "hidden", 1));
        SW_CHECK(tensor(m, NULL, sw_init_fmt(m->a, "model.layers.{i}.%s.experts.{e}.%s.weight", blk, mix ? "w3" : "up_proj"), rm, 1, "moe_ffn", "hidden", 1));
        SW_CHECK(tensor(m, NULL, sw_init_fmt(m->a, "model.layers.{i}.%s.experts.{e}.%s.weight", blk, mix ? "w2" : "down_proj"), rm, 1, "hidden", "moe_ffn", 1));
        if (c->shared_experts) {
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.mlp.shared_experts.gate_proj.weight", rm, 0, "moe_ffn * shared_experts", "hidden", 1));
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.mlp.shared_experts.up_proj.weight", rm, 0, "moe_ffn * shared_experts", "hidden", 1));
            SW_CHECK(tensor(m, NULL, "model.layers.{i}.mlp.shared_experts.down_proj.weight", rm, 0, "hidden", "moe_ffn * shared_experts", 1));
        }
    }
    SW_CHECK(tensor(m, NULL, "model.norm.weight", NULL, 0, "hidden", NULL, 0));
    if (!c->tied) SW_CHECK(tensor(m, NULL, "lm_head.weight", NULL, 0, "vocab", "hidden", 0));
    return SW_OK;
}

/* ---- the file ---------------------------------------------------------------------------------- */

static const char *header(sw_arena *a, const sw_hf_config *c, const sw_fw_spec *from, const sw_fw_spec *to, size_t nto,
                          const sw_init_opts *o) {
    char h[4096];
    size_t n = 0;
#define ADD(...) n += (size_t)snprintf(h + n, n < sizeof h ? sizeof h - n : 0, __VA_ARGS__)
    ADD("Written by `shardwave init`%s%s.\n", o->command ? ": " : "", o->command ? o->command : "");
    ADD("Model: %s (model_type %s) from %s: %lld layers, hidden %lld, %lld heads",
        c->arch[0] ? c->arch : c->model_type, c->model_type, o->config_path ? o->config_path : "config.json", (long long)c->layers,
        (long long)c->hidden, (long long)c->heads);
    if (!c->mla) ADD(" (%lld kv heads, head_dim %lld)", (long long)c->kv_heads, (long long)c->head_dim);
    if (c->experts) ADD(", %lld experts", (long long)c->experts);
    ADD(", vocab %lld%s.\n", (long long)c->vocab, c->tied ? ", tied embeddings" : "");
    if (c->fp8)
        ADD("fp8 checkpoint: every linear but the router is fp8_e4m3 with a weight_scale_inv of %lldx%lld blocks (fp32);\n"
            "the trainer layout holds the buffers its quantization step fills (bf16 training keeps no scales).\n",
            (long long)c->block_n, (long long)c->block_k);
    if (c->mtp_layers) ADD("The %lld multi-token-prediction layer(s) (num_nextn_predict_layers) are left out.\n", (long long)c->mtp_layers);
    ADD("Layouts: train = %s (%s)", fw_name(from->fw), from->text);
    for (size_t k = 0; k < nto; k++) {
        if (k) ADD(", infer%zu = %s (%s)", k, fw_name(to[k].fw), to[k].text);
        else ADD("; infer = %s (%s)", fw_name(to[k].fw), to[k].text);
    }
    ADD(".\nThe comments above the rules name the framework source each convention follows (docs/frameworks.md).\n");
    ADD("Try it small: shardwave check FILE -D layers=... -D hidden=... (any let constant below).");
#undef ADD
    return sw_init_fmt(a, "%s", h);
}

int sw_init_generate(const sw_hf_config *c, const sw_fw_spec *from, const sw_fw_spec *to, size_t nto, const sw_init_opts *o,
                     char **out, sw_error *err) {
    if (nto < 1 || nto > 7) return sw__err(err, SW_USAGE, "init: give 1 to 7 --to specs");
    sw_arena a;
    sw_arena_init(&a);
    sw_ir_file F = {0};
    int rc = SW_OK;
    mctx m = {&a, &F, c, err};
    F.model_name = c->name;
    F.dtype = c->dtype;
    F.header = header(&a, c, from, to, nto, o);
    SW_CHECK_GOTO(model(&m), rc, done);

    const sw_fw_spec *specs[8];
    specs[0] = from;
    for (size_t k = 0; k < nto; k++) specs[k + 1] = &to[k];
    int64_t next_rank = 0;
    for (size_t k = 0; k <= nto; k++) {
        sw_ir_layout *L = &F.layouts[F.nlayouts++];
        L->name = k == 0 ? "train" : k == 1 ? "infer" : sw_init_fmt(&a, "infer%zu", k - 1);
        L->first_rank = specs[k]->has_first_rank ? specs[k]->first_rank : next_rank;
        L->gpus_per_host = specs[k]->gpus_per_host;
        L->rank_base = specs[k]->has_rank_base ? specs[k]->rank_base : -1;
        int64_t end = L->first_rank + sw_fw_spec_ranks(specs[k]);
        if (end > next_rank) next_rank = end;
        sw_preset_ctx x = {&a, c, specs[k], L, &F, k ? "--to" : "--from", err};
        SW_CHECK_GOTO(sw_preset_lets(&x), rc, done);
    }
    for (size_t k = 0; k <= nto; k++) {
        sw_preset_ctx x = {&a, c, specs[k], &F.layouts[k], &F, k ? "--to" : "--from", err};
        SW_CHECK_GOTO(sw_preset_layout(&x), rc, done);
    }
    for (size_t k = 0; k < nto; k++) {
        sw_ir_sync *s = &F.syncs[F.nsyncs++];
        s->name = k == 0 ? "refit" : sw_init_fmt(&a, "refit%zu", k);
        s->from = "train";
        s->to = F.layouts[k + 1].name;
    }
    rc = sw_ir_write(&F, o->dsl, out, err);
done:
    sw_ir_file_free(&F);
    sw_arena_free(&a);
    return rc;
}
