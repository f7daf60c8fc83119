/*
 * presets.c - the per-framework conventions of `shardwave init`, in one place.
 *
 * Every rule below is a placement rule of the layout language written as data (emit.h):
 * the strings are names and expressions exactly as they appear in the generated file.
 * The comment of each rule is written into the file too, naming the framework source and
 * version it follows.  Versions read (the installed packages' own source):
 *
 *   Megatron-Core 0.19.2 (megatron/core/...), Megatron-Bridge 0.6.2 (megatron/bridge/...)
 *   vLLM 0.33.0 (vllm/model_executor/...); FusedMoE names before 0.24 with version=0.N
 *   SGLang 0.5.23 (sglang/srt/...)
 *   PyTorch FSDP2 (torch.distributed.fsdp.fully_shard, torch 2.14) on transformers 5.20.2 models (4.x with
 *   fsdp2:transformers=4)
 */
#include "presets.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define S(...) sw_init_fmt(x->a, __VA_ARGS__)

/* ---- helpers ------------------------------------------------------------------------- */

typedef struct axes {
    const char *list; /* for split: "tp" or "[dp, tp]"; NULL when the group has no axis */
    const char *size; /* expression: "tp" or "dp * tp"; "1" when no axis */
    int n;            /* number of mesh axes */
    const char *names[4];
} axes;

static axes axes_of(sw_preset_ctx *x, const char **names, int n) {
    axes g = {0};
    g.n = n;
    for (int i = 0; i < n && i < 4; i++) g.names[i] = names[i];
    if (!n) {
        g.size = "1";
        return g;
    }
    if (n == 1) {
        g.list = names[0];
        g.size = names[0];
        return g;
    }
    char l[256] = "[", s[256] = "";
    for (int i = 0; i < n; i++) {
        snprintf(l + strlen(l), sizeof l - strlen(l), "%s%s", i ? ", " : "", names[i]);
        snprintf(s + strlen(s), sizeof s - strlen(s), "%s%s", i ? " * " : "", names[i]);
    }
    strcat(l, "]");
    g.list = S("%s", l);
    g.size = S("%s", s);
    return g;
}

static int add(sw_preset_ctx *x, const sw_ir_rule *r) {
    if (sw_ir_add_rule(x->L, r)) return sw__err(x->err, SW_NOMEM, "out of memory");
    return SW_OK;
}

static int usage(sw_preset_ctx *x, const char *fmt, ...) SW_PRINTF(2, 3);
static int usage(sw_preset_ctx *x, const char *fmt, ...) {
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return sw__err(x->err, SW_USAGE, "%s %s: %s", x->role, x->s->text, m);
}

static void set_split(sw_ir_rule *r, const char *dim, const axes *g) {
    if (!g->list) return;
    int k = 0;
    while (k < 2 && r->splits[k].k) k++;
    r->splits[k].k = dim;
    r->splits[k].v = g->list;
}

/* "model.layers.{i}.<suffix>" */
static const char *H(sw_preset_ctx *x, const char *suffix) { return S("model.layers.{i}.%s", suffix); }

/* fp8: a split of an fp8 weight's dim of size n over T ranks keeps whole blocks only when
 * n is a multiple of T * block (vLLM's Fp8LinearMethod checks the same). */
static int fp8_split_ok(sw_preset_ctx *x, const char *what, int64_t n, int64_t T, int64_t block) {
    if (!x->c->fp8 || T <= 1) return SW_OK;
    if (n % (T * block))
        return usage(x, "fp8 %s: %lld rows/columns over %lld ranks is not a whole number of %lld-blocks per rank",
                     what, (long long)n, (long long)T, (long long)block);
    return SW_OK;
}

/* The fp8 block scale of a weight rule: the same placement with "_scale_inv" appended to
 * every name (X.weight -> X.weight_scale_inv, w13_weight -> w13_weight_scale_inv). */
static int add_scale(sw_preset_ctx *x, const sw_ir_rule *w) {
    sw_ir_rule r = *w;
    r.comment = NULL;
    if (r.tensor) r.tensor = S("%s_scale_inv", r.tensor);
    if (r.as) r.as = S("%s_scale_inv", r.as);
    if (r.item_tensor) r.item_tensor = S("%s_scale_inv", r.item_tensor);
    for (int k = 0; k < 4 && r.parts[k].tensor; k++) r.parts[k].tensor = S("%s_scale_inv", r.parts[k].tensor);
    r.dtype = NULL;
    return add(x, &r);
}

/* A weight rule, and its scale when the model is fp8 and fp8 is set. */
static int add_w(sw_preset_ctx *x, const sw_ir_rule *r, int fp8) {
    SW_CHECK(add(x, r));
    if (fp8 && x->c->fp8) SW_CHECK(add_scale(x, r));
    return SW_OK;
}

/* Layer ranges of the model. */
static const char *range_all(void) { return "layers"; }
static const char *range_dense(const sw_hf_config *c) {
    if (c->family == SW_HF_DEEPSEEK_V3) return c->first_dense ? "dense" : NULL;
    return c->experts ? NULL : "layers";
}
static const char *range_moe(const sw_hf_config *c) {
    if (!c->experts) return NULL;
    if (c->family == SW_HF_DEEPSEEK_V3) return c->first_dense ? "dense..layers" : "layers";
    return "layers";
}

/* HF names of the MoE block. */
typedef struct moe_names {
    const char *block;            /* "mlp" or "block_sparse_moe" */
    const char *gate, *up, *down; /* per-expert projections */
} moe_names;
static moe_names moe_of(const sw_hf_config *c) {
    if (c->family == SW_HF_MIXTRAL) return (moe_names){"block_sparse_moe", "w1", "w3", "w2"};
    return (moe_names){"mlp", "gate_proj", "up_proj", "down_proj"};
}
static const char *expert(sw_preset_ctx *x, const char *proj) {
    moe_names m = moe_of(x->c);
    return S("model.layers.{i}.%s.experts.{e}.%s.weight", m.block, proj);
}

/* ---- Megatron-Core ------------------------------------------------------------------------ */

typedef struct mg {
    axes tp, ep, etp;
    sw_ir_kv lets[5];   /* the layer-placement lets of every per-layer rule */
    const char *stage;  /* pp coordinate of layer i */
    const char *local;  /* the local layer index of layer i */
    const char *prefix; /* "" or "model{...}." (virtual pipeline chunk) */
    const char *first_prefix, *last_prefix;
} mg;

/* A per-layer Megatron rule: for i in range, placed on its stage under its local name. */
static void mg_layer(sw_preset_ctx *x, const mg *m, sw_ir_rule *r, const char *range, const char *local_suffix) {
    r->fors[0].k = "i";
    r->fors[0].v = range;
    int k = 0;
    while (m->lets[k].k) {
        r->lets[k] = m->lets[k];
        k++;
    }
    r->as = S("%sdecoder.layers.{%s}.%s", m->prefix, m->local, local_suffix);
    r->wheres[0].k = "pp";
    r->wheres[0].v = m->stage;
}

/* Mesh of the Megatron layout: pp, then the common refinement of the dense (dp, tp) and
 * expert (edp, ep, etp) decompositions of each stage's ranks (Megatron-Core
 * parallel_state.py: RankGenerator order "tp-cp-ep-dp-pp" for both; "MoE parallel
 * folding").  Returns SW_USAGE when they have no common refinement. */
static int mg_mesh(sw_preset_ctx *x, mg *m) {
    const sw_fw_spec *s = x->s;
    sw_ir_layout *L = x->L;
    int a = 0;
    L->mesh[a].k = "pp";
    L->mesh[a++].v = S("%lld", (long long)s->pp);
    if (!x->c->experts || (s->ep == 1 && s->etp == s->tp)) {
        L->mesh[a].k = "dp";
        L->mesh[a++].v = S("%lld", (long long)s->dp);
        L->mesh[a].k = "tp";
        L->mesh[a++].v = S("%lld", (long long)s->tp);
        const char *tpn[] = {"tp"};
        m->tp = axes_of(x, tpn, 1);
        m->etp = m->tp;
        m->ep = axes_of(x, NULL, 0);
        return SW_OK;
    }
    int64_t world = s->tp * s->dp;
    if (world % (s->ep * s->etp))
        return usage(x, "ep (%lld) x etp (%lld) must divide tp x dp (%lld) (Megatron-Core expert parallel groups)",
                     (long long)s->ep, (long long)s->etp, (long long)world);
    /* fastest first */
    const char *dn[2] = {"tp", "dp"};
    int64_t dsz[2] = {s->tp, s->dp};
    int64_t esz[3] = {s->etp, s->ep, world / (s->ep * s->etp)};
    struct {
        int d, e;
        int64_t size;
    } ax[8];
    int nax = 0, i = 0, j = 0;
    int64_t rd = dsz[0], re = esz[0];
    while (i < 2 && j < 3) {
        if (rd == 1) {
            if (++i < 2) rd = dsz[i];
            continue;
        }
        if (re == 1) {
            if (++j < 3) re = esz[j];
            continue;
        }
        int64_t g = rd < re ? rd : re, h = rd < re ? re : rd;
        if (h % g)
            return usage(x, "the dense (dp %lld, tp %lld) and expert (ep %lld, etp %lld) rank decompositions have no "
                            "common refinement that shardwave can name",
                         (long long)s->dp, (long long)s->tp, (long long)s->ep, (long long)s->etp);
        ax[nax].d = i;
        ax[nax].e = j;
        ax[nax++].size = g;
        rd /= g;
        re /= g;
    }
    /* names: by (dense, expert) pair; a dense group of one axis keeps its own name */
    static const char *pair[2][3] = {{"tp", "tp_ep", "tp_edp"}, {"dp_etp", "ep", "edp"}};
    const char *name[8];
    int nd[2] = {0, 0};
    for (int k = 0; k < nax; k++) nd[ax[k].d]++;
    for (int k = 0; k < nax; k++) name[k] = nd[ax[k].d] == 1 ? dn[ax[k].d] : pair[ax[k].d][ax[k].e];
    /* slowest first: dp group (or dp: 1), then tp group (or tp: 1) */
    const char *tpn[4], *epn[4], *etpn[4];
    int ntp = 0, nep = 0, netp = 0;
    if (!nd[1]) {
        L->mesh[a].k = "dp";
        L->mesh[a++].v = "1";
    }
    for (int k = nax - 1; k >= 0; k--) {
        L->mesh[a].k = name[k];
        L->mesh[a++].v = S("%lld", (long long)ax[k].size);
        if (ax[k].d == 0) tpn[ntp++] = name[k];
        if (ax[k].e == 1) epn[nep++] = name[k];
        if (ax[k].e == 0) etpn[netp++] = name[k];
    }
    if (!nd[0]) {
        L->mesh[a].k = "tp";
        L->mesh[a++].v = "1";
        tpn[ntp++] = "tp";
    }
    m->tp = axes_of(x, tpn, ntp);
    m->ep = axes_of(x, epn, nep);
    m->etp = axes_of(x, etpn, netp);
    return SW_OK;
}

/* The stage and local index of layer i (Megatron-Core 0.19.2
 * megatron/core/transformer/transformer_layer.py get_transformer_layer_offset;
 * transformer_block.py renumbers each stage's layers from 0). */
static int mg_stages(sw_preset_ctx *x, mg *m) {
    const sw_fw_spec *s = x->s;
    const sw_hf_config *c = x->c;
    const char *ln = x->L->name;
    m->prefix = m->first_prefix = m->last_prefix = "";
    if (s->vpp > 1) {
        if (s->pp < 2) return usage(x, "vpp needs pp > 1");
        if (s->first_stage_layers || s->last_stage_layers)
            return usage(x, "vpp together with first_stage_layers/last_stage_layers is not supported by shardwave init");
        if (c->layers % (s->pp * s->vpp))
            return usage(x, "num_hidden_layers (%lld) must be divisible by pp x vpp (%lld) (Megatron-Core)",
                         (long long)c->layers, (long long)(s->pp * s->vpp));
        /* layer i: chunk of `chunk` layers number b = i / chunk; virtual stage b / pp on
         * pipeline rank b % pp; model chunk v is `model{v}` (the key Megatron's checkpoints
         * give each virtual chunk). */
        m->lets[0] = (sw_ir_kv){"chunk", S("layers / (pp * %s_vpp)", ln)};
        m->lets[1] = (sw_ir_kv){"b", "i / chunk"};
        m->stage = "b % pp";
        m->local = "i % chunk";
        m->prefix = "model{b / pp}.";
        m->first_prefix = "model0.";
        m->last_prefix = S("model%lld.", (long long)(s->vpp - 1));
        return SW_OK;
    }
    if (!s->first_stage_layers && !s->last_stage_layers) {
        if (c->layers % s->pp)
            return usage(x, "num_hidden_layers (%lld) must be divisible by pp (%lld) (Megatron-Core); give "
                            "first_stage_layers= or last_stage_layers= for uneven stages",
                         (long long)c->layers, (long long)s->pp);
        m->lets[0] = (sw_ir_kv){"per", "layers / pp"};
        m->stage = "i / per";
        m->local = "i % per";
        return SW_OK;
    }
    int64_t F = s->first_stage_layers, Lst = s->last_stage_layers;
    int64_t middle = s->pp - (F ? 1 : 0) - (Lst ? 1 : 0);
    int64_t rest = c->layers - F - Lst;
    if (s->pp < 2 || rest < 0 || (middle ? rest % middle != 0 : rest != 0) || (middle && !rest))
        return usage(x, "first_stage_layers %lld and last_stage_layers %lld leave %lld layers for %lld middle stages "
                        "(Megatron-Core needs an even split of the rest)",
                     (long long)F, (long long)Lst, (long long)rest, (long long)middle);
    const char *fn = F ? S("%s_first_stage_layers", ln) : "0";
    const char *lname = Lst ? S("%s_last_stage_layers", ln) : "0";
    if (!middle) { /* two stages, both given */
        m->lets[0] = (sw_ir_kv){"s", S("min(i / %s, 1)", fn)};
        m->lets[1] = (sw_ir_kv){"l", S("i - s * %s", fn)};
    } else {
        m->lets[0] = (sw_ir_kv){"mid", S("(layers - %s - %s) / (pp - %d)", fn, lname, (F ? 1 : 0) + (Lst ? 1 : 0))};
        if (F) {
            m->lets[1] = (sw_ir_kv){"s", S("min(pp - 1, max(0, (i - %s) / mid + 1))", fn)};
            m->lets[2] = (sw_ir_kv){"l", S("i - min(s, 1) * %s - max(s - 1, 0) * mid", fn)};
        } else {
            m->lets[1] = (sw_ir_kv){"s", "min(pp - 1, i / mid)"};
            m->lets[2] = (sw_ir_kv){"l", "i - s * mid"};
        }
    }
    m->stage = "s";
    m->local = "l";
    return SW_OK;
}

static int megatron(sw_preset_ctx *x) {
    const sw_hf_config *c = x->c;
    const sw_fw_spec *s = x->s;
    mg m = {0};
    if (c->heads % s->tp) return usage(x, "num_attention_heads (%lld) must be divisible by tp (%lld) (Megatron-Core)", (long long)c->heads, (long long)s->tp);
    if (!c->mla && c->kv_heads % s->tp)
        return usage(x, "num_key_value_heads (%lld) must be divisible by tp (%lld) (Megatron-Core num_query_groups; "
                        "the layout language needs whole query groups per rank)",
                     (long long)c->kv_heads, (long long)s->tp);
    if (range_dense(c) && c->ffn % s->tp)
        return usage(x, "intermediate_size (%lld) must be divisible by tp (%lld)", (long long)c->ffn, (long long)s->tp);
    if (!s->vocab_pad && c->vocab % s->tp)
        return usage(x, "vocab_size (%lld) must be divisible by tp (%lld) without vocab padding (vocab_pad=0)", (long long)c->vocab, (long long)s->tp);
    if (c->experts) {
        if (c->experts % s->ep) return usage(x, "the %lld experts must be divisible by ep (%lld)", (long long)c->experts, (long long)s->ep);
        if (c->moe_ffn % s->etp) return usage(x, "moe_intermediate_size (%lld) must be divisible by etp (%lld)", (long long)c->moe_ffn, (long long)s->etp);
    } else if (s->ep > 1 || s->etp != s->tp) {
        return usage(x, "ep/etp apply to MoE models only (%s has no experts)", c->model_type);
    }
    SW_CHECK(mg_mesh(x, &m));
    SW_CHECK(mg_stages(x, &m));
    x->L->comment = S("Megatron-Core 0.19.2 GPTModel, Transformer Engine layer spec (Megatron-Bridge 0.6.2 provider for %s):\n"
                      "names as in the model's state dict; each pipeline stage renumbers its layers from 0.",
                      c->arch[0] ? c->arch : c->model_type);
    const char *pad = s->vocab_pad ? S("megatron_vocab_multiple * %s", m.tp.size) : NULL;
    sw_ir_rule r;

    /* embedding */
    r = (sw_ir_rule){0};
    r.comment = s->vocab_pad
                    ? "VocabParallelEmbedding (megatron/core/tensor_parallel/layers.py): the vocabulary padded to a multiple of\n"
                      "make_vocab_size_divisible_by * tp (megatron/core/tokenizers/utils/build_tokenizer.py\n"
                      "vocab_size_with_padding; Megatron-LM default 128), split over tp; only the first stage holds it\n"
                      "(GPTModel pre_process)."
                    : "VocabParallelEmbedding, not padded (vocab_pad=0: Megatron-Bridge's HF import keeps vocab_size),\n"
                      "split over tp; only the first stage holds it (GPTModel pre_process).";
    r.tensor = "model.embed_tokens.weight";
    r.as = S("%sembedding.word_embeddings.weight", m.first_prefix);
    r.wheres[0] = (sw_ir_kv){"pp", "0"};
    if (pad) r.pads[0] = (sw_ir_kv){"0", pad};
    set_split(&r, "0", &m.tp);
    SW_CHECK(add(x, &r));

    /* attention */
    if (!c->mla) {
        r = (sw_ir_rule){0};
        r.comment = "TELayerNormColumnParallelLinear: the input norm is fused into linear_qkv (layer_norm_weight).";
        r.tensor = H(x, "input_layernorm.weight");
        mg_layer(x, &m, &r, range_all(), "self_attention.linear_qkv.layer_norm_weight");
        SW_CHECK(add(x, &r));
        for (int b = 0; b < 1 + c->qkv_bias; b++) {
            const char *w = b ? "bias" : "weight";
            r = (sw_ir_rule){0};
            r.comment = b ? "linear_qkv bias, interleaved like the weight (Qwen2: q/k/v biases)."
                          : "linear_qkv: q, k, v interleaved by query group (megatron/core/transformer/attention.py\n"
                            "SelfAttention.get_query_key_value_tensors; Megatron-Bridge QKVMapping), split over tp.";
            r.fuse_dim = "0";
            r.parts[0].tensor = H(x, S("self_attn.q_proj.%s", w));
            r.parts[1].tensor = H(x, S("self_attn.k_proj.%s", w));
            r.parts[2].tensor = H(x, S("self_attn.v_proj.%s", w));
            r.groups = "kv_heads";
            mg_layer(x, &m, &r, range_all(), S("self_attention.linear_qkv.%s", w));
            set_split(&r, "0", &m.tp);
            SW_CHECK(add(x, &r));
        }
        if (c->qk_norm) {
            r = (sw_ir_rule){0};
            r.comment = "qk_layernorm: q_layernorm / k_layernorm [head_dim], replicated.";
            r.tensor = H(x, "self_attn.q_norm.weight");
            mg_layer(x, &m, &r, range_all(), "self_attention.q_layernorm.weight");
            SW_CHECK(add(x, &r));
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.k_norm.weight");
            mg_layer(x, &m, &r, range_all(), "self_attention.k_layernorm.weight");
            SW_CHECK(add(x, &r));
        }
    } else {
        r = (sw_ir_rule){0};
        r.comment = "MLA (megatron/core/transformer/multi_latent_attention.py MLASelfAttention): the input norm is\n"
                    "separate; the down projections are duplicated on every tp rank, the up projections\n"
                    "column-parallel with the latent norms fused in as layer_norm_weight.";
        r.tensor = H(x, "input_layernorm.weight");
        mg_layer(x, &m, &r, range_all(), "input_layernorm.weight");
        SW_CHECK(add(x, &r));
        if (c->q_lora) {
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.q_a_proj.weight");
            mg_layer(x, &m, &r, range_all(), "self_attention.linear_q_down_proj.weight");
            SW_CHECK(add_w(x, &r, 1));
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.q_a_layernorm.weight");
            mg_layer(x, &m, &r, range_all(), "self_attention.linear_q_up_proj.layer_norm_weight");
            SW_CHECK(add(x, &r));
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.q_b_proj.weight");
            mg_layer(x, &m, &r, range_all(), "self_attention.linear_q_up_proj.weight");
            set_split(&r, "0", &m.tp);
            SW_CHECK(fp8_split_ok(x, "q_b_proj", c->heads * (c->qk_nope + c->qk_rope), s->tp, c->block_n));
            SW_CHECK(add_w(x, &r, 1));
        } else {
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.q_proj.weight");
            mg_layer(x, &m, &r, range_all(), "self_attention.linear_q_proj.weight");
            set_split(&r, "0", &m.tp);
            SW_CHECK(fp8_split_ok(x, "q_proj", c->heads * (c->qk_nope + c->qk_rope), s->tp, c->block_n));
            SW_CHECK(add_w(x, &r, 1));
        }
        r = (sw_ir_rule){0};
        r.tensor = H(x, "self_attn.kv_a_proj_with_mqa.weight");
        mg_layer(x, &m, &r, range_all(), "self_attention.linear_kv_down_proj.weight");
        SW_CHECK(add_w(x, &r, 1));
        r = (sw_ir_rule){0};
        r.tensor = H(x, "self_attn.kv_a_layernorm.weight");
        mg_layer(x, &m, &r, range_all(), "self_attention.linear_kv_up_proj.layer_norm_weight");
        SW_CHECK(add(x, &r));
        r = (sw_ir_rule){0};
        r.tensor = H(x, "self_attn.kv_b_proj.weight");
        mg_layer(x, &m, &r, range_all(), "self_attention.linear_kv_up_proj.weight");
        set_split(&r, "0", &m.tp);
        SW_CHECK(fp8_split_ok(x, "kv_b_proj", c->heads * (c->qk_nope + c->v_head), s->tp, c->block_n));
        SW_CHECK(add_w(x, &r, 1));
    }
    r = (sw_ir_rule){0};
    r.comment = "linear_proj (o_proj): row-parallel, split over tp on its input dim.";
    r.tensor = H(x, "self_attn.o_proj.weight");
    mg_layer(x, &m, &r, range_all(), "self_attention.linear_proj.weight");
    set_split(&r, "1", &m.tp);
    SW_CHECK(fp8_split_ok(x, "o_proj", c->heads * (c->mla ? c->v_head : c->head_dim), s->tp, c->block_k));
    SW_CHECK(add_w(x, &r, 1));

    /* dense MLP */
    const char *rd = range_dense(c);
    if (rd) {
        r = (sw_ir_rule){0};
        r.comment = "Dense MLP (megatron/core/transformer/mlp.py): the pre-MLP norm fused into linear_fc1 (TE\n"
                    "LayerNormLinear); linear_fc1 = [gate; up] per tp rank (SwiGLU chunk, Bridge GatedMLPMapping).";
        r.tensor = H(x, "post_attention_layernorm.weight");
        mg_layer(x, &m, &r, rd, "mlp.linear_fc1.layer_norm_weight");
        SW_CHECK(add(x, &r));
        r = (sw_ir_rule){0};
        r.fuse_dim = "0";
        r.parts[0].tensor = H(x, "mlp.gate_proj.weight");
        r.parts[1].tensor = H(x, "mlp.up_proj.weight");
        mg_layer(x, &m, &r, rd, "mlp.linear_fc1.weight");
        set_split(&r, "0", &m.tp);
        SW_CHECK(fp8_split_ok(x, "mlp.gate_proj/up_proj", c->ffn, s->tp, c->block_n));
        SW_CHECK(add_w(x, &r, 1));
        r = (sw_ir_rule){0};
        r.tensor = H(x, "mlp.down_proj.weight");
        mg_layer(x, &m, &r, rd, "mlp.linear_fc2.weight");
        set_split(&r, "1", &m.tp);
        SW_CHECK(fp8_split_ok(x, "mlp.down_proj", c->ffn, s->tp, c->block_k));
        SW_CHECK(add_w(x, &r, 1));
    }

    /* MoE */
    const char *rm = range_moe(c);
    if (rm) {
        moe_names mn = moe_of(c);
        r = (sw_ir_rule){0};
        r.comment = "MoE layer (megatron/core/transformer/moe/moe_layer.py): a separate pre_mlp_layernorm (the MoE\n"
                    "block is not a LayerNormLinear); the router weight [experts, hidden] replicated.";
        r.tensor = H(x, "post_attention_layernorm.weight");
        mg_layer(x, &m, &r, rm, "pre_mlp_layernorm.weight");
        SW_CHECK(add(x, &r));
        r = (sw_ir_rule){0};
        r.tensor = H(x, S("%s.gate.weight", mn.block));
        mg_layer(x, &m, &r, rm, "mlp.router.weight");
        SW_CHECK(add(x, &r));
        if (c->router_bias) {
            r = (sw_ir_rule){0};
            r.comment = "moe_router_enable_expert_bias: router.expert_bias <- e_score_correction_bias (fp32).";
            r.tensor = H(x, "mlp.gate.e_score_correction_bias");
            mg_layer(x, &m, &r, rm, "mlp.router.expert_bias");
            SW_CHECK(add(x, &r));
        }
        /* experts: expert e on ep rank e / local as local index e % local */
        const char *epr = "e / local";
        sw_ir_kv ew[4] = {{0}};
        for (int k = 0; k < m.ep.n; k++) {
            char rest[128] = "";
            for (int q = k + 1; q < m.ep.n; q++) snprintf(rest + strlen(rest), sizeof rest - strlen(rest), " / %s", m.ep.names[q]);
            ew[k].k = m.ep.names[k];
            ew[k].v = k ? S("%s%s %% %s", epr, rest, m.ep.names[k]) : S("%s%s", epr, rest);
        }
        const char *fc1 = s->grouped_gemm ? "mlp.experts.linear_fc1.weight{e % local}"
                                          : "mlp.experts.local_experts.{e % local}.linear_fc1.weight";
        const char *fc2 = s->grouped_gemm ? "mlp.experts.linear_fc2.weight{e % local}"
                                          : "mlp.experts.local_experts.{e % local}.linear_fc2.weight";
        for (int w = 0; w < 2; w++) {
            r = (sw_ir_rule){0};
            if (!w)
                r.comment = S("Experts (megatron/core/transformer/moe/experts.py %s): expert e lives on expert-parallel\n"
                              "rank e / local as local expert e %% local (ep over %s%s), linear_fc1 = [gate; up]\n"
                              "split over the expert tensor-parallel ranks (etp = %s).",
                              s->grouped_gemm ? "TEGroupedMLP, one weight{j} per local expert"
                                              : "SequentialMLP, local_experts.{j}",
                              m.ep.list ? m.ep.list : "no axis", m.ep.n > 1 || (m.ep.n == 1 && strcmp(m.ep.names[0], "ep")) ? ": MoE parallel folding" : "",
                              m.etp.list ? m.etp.list : "1");
            if (!w) {
                r.fuse_dim = "0";
                r.parts[0].tensor = expert(x, mn.gate);
                r.parts[1].tensor = expert(x, mn.up);
            } else {
                r.tensor = expert(x, mn.down);
            }
            mg_layer(x, &m, &r, rm, w ? fc2 : fc1);
            r.fors[1] = (sw_ir_kv){"e", "experts"};
            int k = 0;
            while (r.lets[k].k) k++;
            r.lets[k].k = "local";
            r.lets[k].v = m.ep.n == 0 ? "experts" : m.ep.n == 1 ? S("experts / %s", m.ep.size) : S("experts / (%s)", m.ep.size);
            for (int q = 0; q < m.ep.n; q++) r.wheres[1 + q] = ew[q];
            set_split(&r, w ? "1" : "0", &m.etp);
            SW_CHECK(fp8_split_ok(x, "experts", c->moe_ffn, s->etp, w ? c->block_k : c->block_n));
            SW_CHECK(add_w(x, &r, 1));
        }
        if (c->shared_experts) {
            r = (sw_ir_rule){0};
            r.comment = "Shared experts (megatron/core/transformer/moe/shared_experts.py SharedExpertMLP): a dense\n"
                        "MLP over tp, intermediate moe_intermediate_size * n_shared_experts.";
            r.fuse_dim = "0";
            r.parts[0].tensor = H(x, "mlp.shared_experts.gate_proj.weight");
            r.parts[1].tensor = H(x, "mlp.shared_experts.up_proj.weight");
            mg_layer(x, &m, &r, rm, "mlp.shared_experts.linear_fc1.weight");
            set_split(&r, "0", &m.tp);
            SW_CHECK(fp8_split_ok(x, "shared_experts", c->moe_ffn * c->shared_experts, s->tp, c->block_n));
            SW_CHECK(add_w(x, &r, 1));
            r = (sw_ir_rule){0};
            r.tensor = H(x, "mlp.shared_experts.down_proj.weight");
            mg_layer(x, &m, &r, rm, "mlp.shared_experts.linear_fc2.weight");
            set_split(&r, "1", &m.tp);
            SW_CHECK(add_w(x, &r, 1));
        }
    }

    /* final norm and output layer */
    r = (sw_ir_rule){0};
    r.comment = "The last stage holds the final norm and the output layer (GPTModel post_process).";
    r.tensor = "model.norm.weight";
    r.as = S("%sdecoder.final_layernorm.weight", m.last_prefix);
    r.wheres[0] = (sw_ir_kv){"pp", "pp - 1"};
    SW_CHECK(add(x, &r));
    if (!c->tied || s->pp > 1) {
        r = (sw_ir_rule){0};
        r.comment = c->tied ? "Tied embeddings: the last stage keeps its own copy of the embedding as output_layer.weight\n"
                              "(share_embeddings_and_output_weights; kept equal by the embedding group's all-reduce)."
                            : "output_layer: ColumnParallelLinear(hidden, padded vocab), untied (--untie-embeddings-and-output-weights).";
        r.tensor = c->tied ? "model.embed_tokens.weight" : "lm_head.weight";
        r.as = S("%soutput_layer.weight", m.last_prefix);
        r.wheres[0] = (sw_ir_kv){"pp", "pp - 1"};
        if (pad) r.pads[0] = (sw_ir_kv){"0", pad};
        set_split(&r, "0", &m.tp);
        SW_CHECK(add(x, &r));
    }
    return SW_OK;
}

/* ---- vLLM and SGLang ---------------------------------------------------------------------- */

typedef struct eng {
    int sglang;
    axes tp;        /* attention / dense tensor parallel */
    axes moe;       /* the ranks FusedMoE splits over */
    axes ep;        /* expert parallel (SGLang) */
    int moe_ep;     /* vLLM: experts over moe (enable_expert_parallel) */
    int shared_replicated; /* vLLM DeepSeek shared experts with sequence-parallel MoE */
    const char *experts_prefix; /* "mlp.experts.routed_experts." or "mlp.experts." */
    const char *ver;
} eng;

/* A per-layer rule under the HF name (vLLM and SGLang keep model.layers.{i}). */
static void hf_layer(sw_ir_rule *r, const char *range) {
    r->fors[0].k = "i";
    r->fors[0].v = range;
}

static int engine(sw_preset_ctx *x, int sglang) {
    const sw_hf_config *c = x->c;
    const sw_fw_spec *s = x->s;
    sw_ir_layout *L = x->L;
    eng g = {0};
    g.sglang = sglang;
    const char *fwn = sglang ? "SGLang 0.5.23" : "vLLM 0.33.0";
    /* vLLM's FusedMoE parameters moved into the RoutedExperts submodule in 0.24 (found in the
     * wheels 0.24.0 .. 0.33.0, absent from 0.11.2 .. 0.23.0). */
    int minor = atoi(s->version + 2);
    int old = !sglang && minor < 24;
    if (!sglang && minor != 33)
        fwn = S("vLLM 0.33.0 conventions with the FusedMoE names of %s (%s)", s->version,
                old ? "before RoutedExperts: mlp.experts.w13_weight" : "RoutedExperts");
    g.ver = fwn;
    if (sglang && c->family == SW_HF_DEEPSEEK_V3)
        return usage(x, "the sglang preset has no DeepSeek-V3 conventions yet (SGLang fuses shared experts and "
                        "fused_qkv_a_proj_with_mqa depending on server flags): use vllm");
    if (c->heads % s->tp) return usage(x, "num_attention_heads (%lld) must be divisible by tp (%lld) (%s)", (long long)c->heads, (long long)s->tp, fwn);
    if (!c->mla && c->kv_heads % s->tp && s->tp % c->kv_heads)
        return usage(x, "tp (%lld) and num_key_value_heads (%lld) must divide one another (QKVParallelLinear)", (long long)s->tp, (long long)c->kv_heads);
    if (range_dense(c) && c->ffn % s->tp) return usage(x, "intermediate_size (%lld) must be divisible by tp (%lld)", (long long)c->ffn, (long long)s->tp);

    int a = 0;
    L->mesh[a].k = "dp";
    L->mesh[a++].v = S("%lld", (long long)s->dp);
    if (!sglang || s->ep <= 1) {
        L->mesh[a].k = "tp";
        L->mesh[a++].v = S("%lld", (long long)s->tp);
        const char *t[] = {"tp"};
        g.tp = axes_of(x, t, 1);
    }
    if (!sglang) {
        /* vllm/model_executor/layers/fused_moe/config.py FusedMoEParallelConfig.make: the MoE
         * tp group is flattened across DP (flatten_tp_across_dp_and_pcp): rank dp * tp + tp */
        const char *mt[] = {"dp", "tp"};
        g.moe = s->dp > 1 ? axes_of(x, mt, 2) : g.tp;
        g.moe_ep = s->ep == 1;
        int64_t n = s->dp * s->tp;
        if (c->experts) {
            if (g.moe_ep && c->experts % n)
                return usage(x, "%lld experts over dp x tp = %lld expert-parallel ranks is uneven (vLLM's linear expert map "
                                "gives the first ranks one more; the layout language chunks like torch.chunk)",
                             (long long)c->experts, (long long)n);
            if (!g.moe_ep && c->moe_ffn % n)
                return usage(x, "moe_intermediate_size (%lld) must be divisible by dp x tp (%lld) (FusedMoE tp flattened across dp)",
                             (long long)c->moe_ffn, (long long)n);
            if (!g.moe_ep && c->family == SW_HF_QWEN3_MOE && s->tp > c->experts)
                return usage(x, "tp (%lld) exceeds the %lld experts (vLLM Qwen3MoeSparseMoeBlock)", (long long)s->tp, (long long)c->experts);
        } else if (s->ep) {
            return usage(x, "ep=1 applies to MoE models only (%s has no experts)", c->model_type);
        }
        /* vllm/config/parallel.py use_sequence_parallel_moe (default all2all backend
         * allgather_reducescatter): with EP, tp > 1 and dp > 1 DeepSeek's shared experts
         * are replicated (DeepseekV2MLP disable_tp) */
        g.shared_replicated = g.moe_ep && s->tp > 1 && s->dp > 1;
        g.experts_prefix = old ? "experts." : "experts.routed_experts.";
    } else {
        int64_t E = s->ep > 0 ? s->ep : 1;
        if (s->tp % E) return usage(x, "ep (%lld) must divide tp (%lld) (SGLang moe_ep_size within the tp group)", (long long)E, (long long)s->tp);
        if (E > 1) {
            if (!c->experts) return usage(x, "ep applies to MoE models only (%s has no experts)", c->model_type);
            /* sglang/srt/distributed/parallel_state.py: tp rank = ep_rank * moe_tp + moe_tp_rank */
            L->mesh[a].k = "ep";
            L->mesh[a++].v = S("%lld", (long long)E);
            L->mesh[a].k = "moe_tp";
            L->mesh[a++].v = S("%lld", (long long)(s->tp / E));
            const char *t[] = {"ep", "moe_tp"}, *e[] = {"ep"}, *mt[] = {"moe_tp"};
            g.tp = axes_of(x, t, 2);
            g.ep = axes_of(x, e, 1);
            g.moe = axes_of(x, mt, 1);
        } else {
            g.moe = g.tp;
            g.ep = axes_of(x, NULL, 0);
        }
        if (c->experts) {
            if (c->experts % E) return usage(x, "the %lld experts must be divisible by ep (%lld)", (long long)c->experts, (long long)E);
            if (c->moe_ffn % (s->tp / E))
                return usage(x, "moe_intermediate_size (%lld) must be divisible by tp / ep (%lld)", (long long)c->moe_ffn, (long long)(s->tp / E));
        }
        g.experts_prefix = "experts.";
    }
    L->comment = sglang ? S("SGLang 0.5.23 %s (sglang/srt/models/): names after load_weights' stacking; data-parallel\n"
                            "replicas (dp) hold everything again%s.",
                            c->arch[0] ? c->arch : c->model_type, s->ep > 1 ? "; ep x moe_tp is the tp group" : "")
                        : S("%s %s (vllm/model_executor/models/): names after load_weights' stacking\n"
                            "(stacked_params_mapping); dp engines replicate everything but the routed experts%s.",
                            fwn, c->arch[0] ? c->arch : c->model_type,
                            c->experts ? (g.moe_ep ? ", which are spread over dp x tp (enable_expert_parallel)"
                                                   : ", whose intermediate dim is split over dp x tp")
                                       : "");
    const char *padn = sglang ? "sglang_vocab_padding" : "vllm_vocab_padding";
    const char *vpe = sglang ? "sglang/srt/layers/vocab_parallel_embedding.py" : "vllm/model_executor/layers/vocab_parallel_embedding.py";
    sw_ir_rule r;

    r = (sw_ir_rule){0};
    r.comment = S("VocabParallelEmbedding (%s): padded to a multiple of 64\n"
                  "(DEFAULT_VOCAB_PADDING_SIZE), then split over tp.", vpe);
    r.tensor = "model.embed_tokens.weight";
    r.pads[0] = (sw_ir_kv){"0", padn};
    set_split(&r, "0", &g.tp);
    SW_CHECK(add(x, &r));

    r = (sw_ir_rule){0};
    r.comment = "RMSNorm weights are replicated.";
    r.tensor = H(x, "input_layernorm.weight");
    hf_layer(&r, range_all());
    SW_CHECK(add(x, &r));
    r = (sw_ir_rule){0};
    r.tensor = H(x, "post_attention_layernorm.weight");
    hf_layer(&r, range_all());
    SW_CHECK(add(x, &r));

    if (!c->mla) {
        for (int b = 0; b < 1 + c->qkv_bias; b++) {
            const char *w = b ? "bias" : "weight";
            r = (sw_ir_rule){0};
            if (!b)
                r.comment = S("QKVParallelLinear (%s/layers/linear.py): [q | k | v] per rank, whole heads; a kv head\n"
                              "is replicated on tp / kv_heads ranks when tp > kv_heads.",
                              sglang ? "sglang/srt" : "vllm/model_executor");
            r.as = H(x, S("self_attn.qkv_proj.%s", w));
            r.fuse_dim = "0";
            r.parts[0] = (sw_ir_part){H(x, S("self_attn.q_proj.%s", w)), "head_dim"};
            r.parts[1] = (sw_ir_part){H(x, S("self_attn.k_proj.%s", w)), "head_dim"};
            r.parts[2] = (sw_ir_part){H(x, S("self_attn.v_proj.%s", w)), "head_dim"};
            hf_layer(&r, range_all());
            set_split(&r, "0", &g.tp);
            SW_CHECK(add(x, &r));
        }
        if (c->qk_norm) {
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.q_norm.weight");
            hf_layer(&r, range_all());
            SW_CHECK(add(x, &r));
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.k_norm.weight");
            hf_layer(&r, range_all());
            SW_CHECK(add(x, &r));
        }
    } else {
        if (c->q_lora) {
            r = (sw_ir_rule){0};
            r.comment = "DeepseekV2MLAAttention (vllm/model_executor/models/deepseek_v2.py): q_a_proj and\n"
                        "kv_a_proj_with_mqa are loaded into one fused_qkv_a_proj (DeepSeekV2FusedQkvAProjLinear,\n"
                        "a MergedColumnParallelLinear with disable_tp), replicated.";
            r.as = H(x, "self_attn.fused_qkv_a_proj.weight");
            r.fuse_dim = "0";
            r.parts[0].tensor = H(x, "self_attn.q_a_proj.weight");
            r.parts[1].tensor = H(x, "self_attn.kv_a_proj_with_mqa.weight");
            hf_layer(&r, range_all());
            SW_CHECK(add_w(x, &r, 1));
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.q_a_layernorm.weight");
            hf_layer(&r, range_all());
            SW_CHECK(add(x, &r));
            r = (sw_ir_rule){0};
            r.comment = "q_b_proj, kv_b_proj: ColumnParallelLinear (heads over tp); o_proj row-parallel.";
            r.tensor = H(x, "self_attn.q_b_proj.weight");
            hf_layer(&r, range_all());
            set_split(&r, "0", &g.tp);
            SW_CHECK(fp8_split_ok(x, "q_b_proj", c->heads * (c->qk_nope + c->qk_rope), s->tp, c->block_n));
            SW_CHECK(add_w(x, &r, 1));
        } else {
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.q_proj.weight");
            hf_layer(&r, range_all());
            set_split(&r, "0", &g.tp);
            SW_CHECK(add_w(x, &r, 1));
            r = (sw_ir_rule){0};
            r.tensor = H(x, "self_attn.kv_a_proj_with_mqa.weight");
            hf_layer(&r, range_all());
            SW_CHECK(add_w(x, &r, 1));
        }
        r = (sw_ir_rule){0};
        r.tensor = H(x, "self_attn.kv_a_layernorm.weight");
        hf_layer(&r, range_all());
        SW_CHECK(add(x, &r));
        r = (sw_ir_rule){0};
        r.tensor = H(x, "self_attn.kv_b_proj.weight");
        hf_layer(&r, range_all());
        set_split(&r, "0", &g.tp);
        SW_CHECK(fp8_split_ok(x, "kv_b_proj", c->heads * (c->qk_nope + c->v_head), s->tp, c->block_n));
        SW_CHECK(add_w(x, &r, 1));
    }
    r = (sw_ir_rule){0};
    r.comment = c->mla ? NULL : "o_proj: RowParallelLinear, split over tp on its input dim.";
    r.tensor = H(x, "self_attn.o_proj.weight");
    hf_layer(&r, range_all());
    set_split(&r, "1", &g.tp);
    SW_CHECK(fp8_split_ok(x, "o_proj", c->heads * (c->mla ? c->v_head : c->head_dim), s->tp, c->block_k));
    SW_CHECK(add_w(x, &r, 1));

    const char *rd = range_dense(c);
    if (rd) {
        r = (sw_ir_rule){0};
        r.comment = "MergedColumnParallelLinear gate_up_proj: [gate chunk; up chunk] per rank; down_proj row-parallel.";
        r.as = H(x, "mlp.gate_up_proj.weight");
        r.fuse_dim = "0";
        r.parts[0].tensor = H(x, "mlp.gate_proj.weight");
        r.parts[1].tensor = H(x, "mlp.up_proj.weight");
        hf_layer(&r, rd);
        set_split(&r, "0", &g.tp);
        SW_CHECK(fp8_split_ok(x, "mlp.gate_proj/up_proj", c->ffn, s->tp, c->block_n));
        SW_CHECK(add_w(x, &r, 1));
        r = (sw_ir_rule){0};
        r.tensor = H(x, "mlp.down_proj.weight");
        hf_layer(&r, rd);
        set_split(&r, "1", &g.tp);
        SW_CHECK(fp8_split_ok(x, "mlp.down_proj", c->ffn, s->tp, c->block_k));
        SW_CHECK(add_w(x, &r, 1));
    }

    const char *rm = range_moe(c);
    if (rm) {
        moe_names mn = moe_of(c);
        r = (sw_ir_rule){0};
        r.comment = "Router (gate): replicated.";
        r.tensor = H(x, S("%s.gate.weight", mn.block));
        hf_layer(&r, rm);
        SW_CHECK(add(x, &r));
        if (c->router_bias) {
            r = (sw_ir_rule){0};
            r.tensor = H(x, "mlp.gate.e_score_correction_bias");
            hf_layer(&r, rm);
            SW_CHECK(add(x, &r));
        }
        for (int w = 0; w < 2; w++) {
            r = (sw_ir_rule){0};
            if (!w) {
                if (sglang)
                    r.comment = S("FusedMoE (sglang/srt/layers/moe/fused_moe_triton/layer.py): w13_weight [experts, 2 * moe_ffn, hidden]\n"
                                  "stacks [gate; up] of every expert%s; w2_weight [experts, hidden, moe_ffn].",
                                  s->ep > 1 ? ", experts over ep, the intermediate dim over moe_tp" : ", the intermediate dim over tp");
                else
                    r.comment = S("FusedMoE (vllm/model_executor/layers/fused_moe/%s): w13_weight\n"
                                  "[experts, 2 * moe_ffn, hidden] = [gate; up] per expert, w2_weight [experts, hidden, moe_ffn];\n"
                                  "%s%s.",
                                  old ? "layer.py" : "routed_experts.py RoutedExperts, module experts.routed_experts",
                                  g.moe_ep ? "whole experts over " : "the intermediate dim over ",
                                  g.moe.list ? g.moe.list : "no axis");
            }
            r.as = H(x, S("%s.%sw%s_weight", mn.block, g.experts_prefix, w ? "2" : "13"));
            r.stack_var = "e";
            r.stack_count = "experts";
            if (!w) {
                r.fuse_dim = "0";
                r.parts[0].tensor = expert(x, mn.gate);
                r.parts[1].tensor = expert(x, mn.up);
            } else {
                r.item_tensor = expert(x, mn.down);
            }
            hf_layer(&r, rm);
            if (sglang) {
                set_split(&r, "0", &g.ep);
                set_split(&r, w ? "2" : "1", &g.moe);
            } else if (g.moe_ep) {
                set_split(&r, "0", &g.moe);
            } else {
                set_split(&r, w ? "2" : "1", &g.moe);
            }
            if (!g.moe_ep)
                SW_CHECK(fp8_split_ok(x, "experts", c->moe_ffn, sglang ? s->tp / (s->ep > 1 ? s->ep : 1) : s->dp * s->tp,
                                      w ? c->block_k : c->block_n));
            SW_CHECK(add_w(x, &r, 1));
        }
        if (c->shared_experts) {
            axes sh = g.shared_replicated ? axes_of(x, NULL, 0) : g.tp;
            r = (sw_ir_rule){0};
            r.comment = g.shared_replicated
                            ? "Shared experts: DeepseekV2MLP with is_sequence_parallel (EP with tp > 1 and dp > 1): replicated."
                            : "Shared experts: DeepseekV2MLP, gate_up_proj / down_proj over tp.";
            r.as = H(x, "mlp.shared_experts.gate_up_proj.weight");
            r.fuse_dim = "0";
            r.parts[0].tensor = H(x, "mlp.shared_experts.gate_proj.weight");
            r.parts[1].tensor = H(x, "mlp.shared_experts.up_proj.weight");
            hf_layer(&r, rm);
            set_split(&r, "0", &sh);
            if (!g.shared_replicated) SW_CHECK(fp8_split_ok(x, "shared_experts", c->moe_ffn * c->shared_experts, s->tp, c->block_n));
            SW_CHECK(add_w(x, &r, 1));
            r = (sw_ir_rule){0};
            r.tensor = H(x, "mlp.shared_experts.down_proj.weight");
            hf_layer(&r, rm);
            set_split(&r, "1", &sh);
            SW_CHECK(add_w(x, &r, 1));
        }
    }

    r = (sw_ir_rule){0};
    r.tensor = "model.norm.weight";
    SW_CHECK(add(x, &r));
    if (!c->tied) {
        r = (sw_ir_rule){0};
        r.comment = "ParallelLMHead: padded like the embedding, split over tp (tied models have none).";
        r.tensor = "lm_head.weight";
        r.pads[0] = (sw_ir_kv){"0", padn};
        set_split(&r, "0", &g.tp);
        SW_CHECK(add(x, &r));
    }
    return SW_OK;
}

/* ---- FSDP2 -------------------------------------------------------------------------------- */

static int fsdp2(sw_preset_ctx *x) {
    const sw_fw_spec *s = x->s;
    const sw_hf_config *c = x->c;
    sw_ir_layout *L = x->L;
    if (c->fp8)
        return usage(x, "FSDP2 shards the parameters of the transformers model, which trains without fp8 block "
                        "scales; give the config.json of the bf16 checkpoint (without quantization_config)");
    /* transformers 5 (models/<family>/modeling_<family>.py, read in 5.20.2): the experts of an
     * MoE block are one module with two 3D parameters, loaded from the per-expert checkpoint
     * tensors by conversion_mapping.py (MergeModulelist + Concatenate(dim=1)); Mixtral's
     * block_sparse_moe is renamed mlp.  transformers 4: an nn.ModuleList of per-expert MLPs,
     * the checkpoint's own names. */
    int fused = c->experts && s->transformers >= 5;
    moe_names mn = moe_of(c);
    L->mesh[0] = (sw_ir_kv){"replicate", S("%lld", (long long)s->replicate)};
    L->mesh[1] = (sw_ir_kv){"shard", S("%lld", (long long)s->shard)};
    L->comment = S("PyTorch FSDP2 (torch/distributed/fsdp/_fully_shard/_fsdp_param.py, torch 2.14) on the transformers %s model:\n"
                   "every parameter is a DTensor Shard(0): rank k of the shard group holds torch.chunk(param, shard)[k]\n"
                   "(_chunk_with_empty: uneven, trailing ranks may be empty); HSDP replicates over replicate.%s",
                   s->transformers >= 5 ? "5.x" : "4.x",
                   fused ? "\nMoE experts: transformers 5 fuses them into mlp.experts.gate_up_proj / down_proj "
                           "(3D, experts first)."
                         : "");
    int experts_done = 0;
    for (size_t i = 0; i < x->F->ntensors; i++) {
        const sw_ir_tensor *t = &x->F->tensors[i];
        sw_ir_rule r = {0};
        if (fused && strstr(t->name, ".experts.{e}.")) {
            if (experts_done) continue;
            experts_done = 1;
            const char *rm = range_moe(c);
            for (int w = 0; w < 2; w++) {
                r = (sw_ir_rule){0};
                if (!w)
                    r.comment = S("transformers 5 %sExperts (models/%s/modeling_%s.py): gate_up_proj [experts, 2 * moe_ffn, hidden]\n"
                                  "= [gate; up] per expert (conversion_mapping.py \"%s\": MergeModulelist(dim=0), Concatenate(dim=1)),\n"
                                  "down_proj [experts, hidden, moe_ffn]; Shard(0): whole experts per rank.",
                                  c->family == SW_HF_MIXTRAL ? "Mixtral" : c->family == SW_HF_DEEPSEEK_V3 ? "DeepseekV3" : "Qwen3Moe",
                                  sw_hf_family_name(c->family), sw_hf_family_name(c->family),
                                  c->family == SW_HF_MIXTRAL ? "mixtral" : "qwen2_moe");
                r.as = H(x, w ? "mlp.experts.down_proj" : "mlp.experts.gate_up_proj");
                r.stack_var = "e";
                r.stack_count = "experts";
                if (!w) {
                    r.fuse_dim = "0";
                    r.parts[0].tensor = expert(x, mn.gate);
                    r.parts[1].tensor = expert(x, mn.up);
                } else {
                    r.item_tensor = expert(x, mn.down);
                }
                hf_layer(&r, rm);
                r.splits[0] = (sw_ir_kv){"0", "shard"};
                r.uneven = 1;
                SW_CHECK(add(x, &r));
            }
            continue;
        }
        r.tensor = t->name;
        r.fors[0] = t->fors[0];
        r.fors[1] = t->fors[1];
        size_t n = strlen(t->name);
        const char *bias = "e_score_correction_bias";
        if (n > strlen(bias) && !strcmp(t->name + n - strlen(bias), bias)) {
            r.comment = "DeepseekV3TopkRouter.e_score_correction_bias is a buffer: FSDP2 shards parameters only, every rank holds it.";
            SW_CHECK(add(x, &r));
            continue;
        }
        if (fused && c->family == SW_HF_MIXTRAL && strstr(t->name, ".block_sparse_moe.gate.")) {
            r.comment = "transformers 5: Mixtral's block_sparse_moe is mlp (conversion_mapping.py WeightRenaming).";
            r.as = H(x, "mlp.gate.weight");
        }
        r.splits[0] = (sw_ir_kv){"0", "shard"};
        r.uneven = 1;
        SW_CHECK(add(x, &r));
    }
    return SW_OK;
}

int sw_preset_layout(sw_preset_ctx *x) {
    switch (x->s->fw) {
    case SW_FW_MEGATRON: return megatron(x);
    case SW_FW_VLLM: return engine(x, 0);
    case SW_FW_SGLANG: return engine(x, 1);
    case SW_FW_FSDP2: return fsdp2(x);
    }
    return sw__err(x->err, SW_INTERNAL, "unknown framework");
}

/* Adds a let once (by name). */
static int add_let(sw_preset_ctx *x, const char *k, const char *v, const char *comment) {
    sw_ir_file *F = x->F;
    for (size_t i = 0; i < F->nlets; i++)
        if (!strcmp(F->lets[i].k, k)) return SW_OK;
    if (F->nlets >= sizeof F->lets / sizeof *F->lets) return sw__err(x->err, SW_INTERNAL, "too many let constants");
    F->lets[F->nlets] = (sw_ir_kv){k, v};
    F->let_comments[F->nlets++] = comment;
    return SW_OK;
}

int sw_preset_lets(sw_preset_ctx *x) {
    const sw_fw_spec *s = x->s;
    const char *ln = x->L->name;
    switch (s->fw) {
    case SW_FW_MEGATRON:
        if (s->vocab_pad)
            SW_CHECK(add_let(x, "megatron_vocab_multiple", S("%lld", (long long)s->vocab_pad),
                             "Megatron make_vocab_size_divisible_by (Megatron-LM default)"));
        if (s->first_stage_layers)
            SW_CHECK(add_let(x, S("%s_first_stage_layers", ln), S("%lld", (long long)s->first_stage_layers),
                             "Megatron num_layers_in_first_pipeline_stage"));
        if (s->last_stage_layers)
            SW_CHECK(add_let(x, S("%s_last_stage_layers", ln), S("%lld", (long long)s->last_stage_layers),
                             "Megatron num_layers_in_last_pipeline_stage"));
        if (s->vpp > 1)
            SW_CHECK(add_let(x, S("%s_vpp", ln), S("%lld", (long long)s->vpp), "Megatron virtual_pipeline_model_parallel_size"));
        return SW_OK;
    case SW_FW_VLLM: return add_let(x, "vllm_vocab_padding", "64", "vLLM DEFAULT_VOCAB_PADDING_SIZE");
    case SW_FW_SGLANG: return add_let(x, "sglang_vocab_padding", "64", "SGLang DEFAULT_VOCAB_PADDING_SIZE");
    case SW_FW_FSDP2: return SW_OK;
    }
    return SW_OK;
}
