/* hfconfig.c - Hugging Face config.json -> sw_hf_config (jansson). */
#include "hfconfig.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

typedef struct reader {
    const char *path;
    const char *text;
    size_t len;
    json_t *root;
    sw_error *err;
} reader;

/* The position of the value of the first `"key":` in the text (jansson keeps no
 * positions), else of the start of the file. */
static sw_loc key_loc(const reader *r, const char *key) {
    sw_loc loc = {r->path, 1, 1};
    size_t kl = strlen(key);
    for (size_t i = 0; i + kl + 2 <= r->len; i++) {
        if (r->text[i] != '"' || strncmp(r->text + i + 1, key, kl) || r->text[i + 1 + kl] != '"') continue;
        size_t j = i + kl + 2;
        while (j < r->len && (r->text[j] == ' ' || r->text[j] == '\t' || r->text[j] == '\r' || r->text[j] == '\n')) j++;
        if (j >= r->len || r->text[j] != ':') continue;
        j++;
        while (j < r->len && (r->text[j] == ' ' || r->text[j] == '\t' || r->text[j] == '\r' || r->text[j] == '\n')) j++;
        int line = 1, col = 1;
        for (size_t k = 0; k < j; k++) {
            if (r->text[k] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        loc.line = line;
        loc.col = col;
        return loc;
    }
    return loc;
}

/* An integer key: required (missing is an error) or optional (*out = def). */
static int get_int(const reader *r, const char *key, int required, int64_t def, int64_t *out) {
    json_t *v = json_object_get(r->root, key);
    if (!v || json_is_null(v)) {
        if (required) return sw__err_at(r->err, SW_INPUT, key_loc(r, key), "config has no '%s'", key);
        *out = def;
        return SW_OK;
    }
    if (!json_is_integer(v))
        return sw__err_at(r->err, SW_INPUT, key_loc(r, key), "'%s' must be an integer", key);
    json_int_t x = json_integer_value(v);
    if (x < 0) return sw__err_at(r->err, SW_INPUT, key_loc(r, key), "'%s' must not be negative (is %lld)", key, (long long)x);
    *out = (int64_t)x;
    return SW_OK;
}

/* A positive integer key. */
static int get_pos(const reader *r, const char *key, int64_t *out) {
    SW_CHECK(get_int(r, key, 1, 0, out));
    if (*out <= 0) return sw__err_at(r->err, SW_INPUT, key_loc(r, key), "'%s' must be positive", key);
    return SW_OK;
}

static int get_bool(const reader *r, const char *key, int def, int *out) {
    json_t *v = json_object_get(r->root, key);
    if (!v || json_is_null(v)) {
        *out = def;
        return SW_OK;
    }
    if (!json_is_boolean(v)) return sw__err_at(r->err, SW_INPUT, key_loc(r, key), "'%s' must be true or false", key);
    *out = json_is_true(v);
    return SW_OK;
}

static const char *get_str(const reader *r, const char *key) {
    json_t *v = json_object_get(r->root, key);
    return v && json_is_string(v) ? json_string_value(v) : NULL;
}

/* A key that no preset expresses when it has this value: refused with the reason. */
static int refuse_true(const reader *r, const char *key, const char *why) {
    int b;
    SW_CHECK(get_bool(r, key, 0, &b));
    if (b) return sw__err_at(r->err, SW_INPUT, key_loc(r, key), "'%s: true' is not supported by shardwave init (%s)", key, why);
    return SW_OK;
}

static const struct {
    const char *name;
    sw_hf_family family;
} families[] = {
    {"llama", SW_HF_LLAMA},         {"qwen2", SW_HF_QWEN2},     {"qwen3", SW_HF_QWEN3},
    {"qwen3_moe", SW_HF_QWEN3_MOE}, {"mixtral", SW_HF_MIXTRAL}, {"deepseek_v3", SW_HF_DEEPSEEK_V3},
};

const char *sw_hf_family_name(sw_hf_family f) {
    for (size_t i = 0; i < sizeof families / sizeof *families; i++)
        if (families[i].family == f) return families[i].name;
    return "?";
}

static int read_dtype(const reader *r, sw_hf_config *c) {
    const char *key = json_object_get(r->root, "torch_dtype") ? "torch_dtype" : "dtype";
    const char *s = get_str(r, key);
    if (!s || !strcmp(s, "bfloat16")) {
        snprintf(c->dtype, sizeof c->dtype, "bf16");
    } else if (!strcmp(s, "float16")) {
        snprintf(c->dtype, sizeof c->dtype, "fp16");
    } else if (!strcmp(s, "float32")) {
        snprintf(c->dtype, sizeof c->dtype, "fp32");
    } else {
        return sw__err_at(r->err, SW_INPUT, key_loc(r, key), "'%s' \"%s\" is not one of bfloat16, float16, float32", key, s);
    }
    return SW_OK;
}

/* quantization_config: only fp8 with a 2-d weight_block_size (DeepSeek-V3's checkpoint). */
static int read_quant(const reader *r, sw_hf_config *c) {
    json_t *q = json_object_get(r->root, "quantization_config");
    if (!q || json_is_null(q)) return SW_OK;
    const char *m = json_string_value(json_object_get(q, "quant_method"));
    if (!m || strcmp(m, "fp8"))
        return sw__err_at(r->err, SW_INPUT, key_loc(r, "quant_method"),
                          "quantization_config.quant_method \"%s\" is not supported (only fp8 with weight_block_size)", m ? m : "");
    const char *fmt = json_string_value(json_object_get(q, "fmt"));
    if (fmt && strcmp(fmt, "e4m3"))
        return sw__err_at(r->err, SW_INPUT, key_loc(r, "fmt"), "quantization_config.fmt \"%s\" is not supported (only e4m3)", fmt);
    json_t *b = json_object_get(q, "weight_block_size");
    if (!json_is_array(b) || json_array_size(b) != 2 || !json_is_integer(json_array_get(b, 0)) ||
        !json_is_integer(json_array_get(b, 1)) || json_integer_value(json_array_get(b, 0)) <= 0 ||
        json_integer_value(json_array_get(b, 1)) <= 0)
        return sw__err_at(r->err, SW_INPUT, key_loc(r, "weight_block_size"),
                          "quantization_config.weight_block_size must be [N, K] (per-tensor fp8 is not supported)");
    c->fp8 = 1;
    c->block_n = json_integer_value(json_array_get(b, 0));
    c->block_k = json_integer_value(json_array_get(b, 1));
    return SW_OK;
}

static int read_common(const reader *r, sw_hf_config *c) {
    SW_CHECK(get_pos(r, "hidden_size", &c->hidden));
    SW_CHECK(get_pos(r, "num_hidden_layers", &c->layers));
    SW_CHECK(get_pos(r, "num_attention_heads", &c->heads));
    SW_CHECK(get_pos(r, "vocab_size", &c->vocab));
    SW_CHECK(get_int(r, "num_key_value_heads", 0, c->heads, &c->kv_heads));
    if (c->kv_heads <= 0 || c->heads % c->kv_heads)
        return sw__err_at(r->err, SW_INPUT, key_loc(r, "num_key_value_heads"),
                          "num_attention_heads (%lld) must be a multiple of num_key_value_heads (%lld)",
                          (long long)c->heads, (long long)c->kv_heads);
    json_t *hd = json_object_get(r->root, "head_dim");
    if (hd && !json_is_null(hd)) {
        SW_CHECK(get_pos(r, "head_dim", &c->head_dim));
        c->head_dim_given = 1;
    } else {
        if (c->hidden % c->heads)
            return sw__err_at(r->err, SW_INPUT, key_loc(r, "num_attention_heads"),
                              "hidden_size (%lld) is not a multiple of num_attention_heads (%lld) and the config gives no head_dim",
                              (long long)c->hidden, (long long)c->heads);
        c->head_dim = c->hidden / c->heads;
    }
    SW_CHECK(get_bool(r, "tie_word_embeddings", 0, &c->tied));
    return read_dtype(r, c);
}

static int read_family(const reader *r, sw_hf_config *c) {
    switch (c->family) {
    case SW_HF_LLAMA:
        SW_CHECK(read_common(r, c));
        SW_CHECK(get_pos(r, "intermediate_size", &c->ffn));
        SW_CHECK(refuse_true(r, "attention_bias", "biases on q/k/v/o_proj"));
        SW_CHECK(refuse_true(r, "mlp_bias", "biases on the MLP"));
        return SW_OK;
    case SW_HF_QWEN2:
        SW_CHECK(read_common(r, c));
        SW_CHECK(get_pos(r, "intermediate_size", &c->ffn));
        c->qkv_bias = 1; /* Qwen2Attention: q/k/v_proj bias=True, o_proj bias=False */
        return SW_OK;
    case SW_HF_QWEN3:
        SW_CHECK(read_common(r, c));
        SW_CHECK(get_pos(r, "intermediate_size", &c->ffn));
        SW_CHECK(refuse_true(r, "attention_bias", "biases on q/k/v/o_proj"));
        c->qk_norm = 1;
        return SW_OK;
    case SW_HF_QWEN3_MOE: {
        SW_CHECK(read_common(r, c));
        SW_CHECK(refuse_true(r, "attention_bias", "biases on q/k/v/o_proj"));
        c->qk_norm = 1;
        SW_CHECK(get_pos(r, "num_experts", &c->experts));
        SW_CHECK(get_pos(r, "moe_intermediate_size", &c->moe_ffn));
        SW_CHECK(get_int(r, "num_experts_per_tok", 0, 0, &c->topk));
        SW_CHECK(get_int(r, "intermediate_size", 0, 0, &c->ffn));
        int64_t step;
        SW_CHECK(get_int(r, "decoder_sparse_step", 0, 1, &step));
        if (step != 1)
            return sw__err_at(r->err, SW_INPUT, key_loc(r, "decoder_sparse_step"),
                              "decoder_sparse_step %lld (dense layers between MoE layers) is not supported: only every layer MoE",
                              (long long)step);
        json_t *only = json_object_get(r->root, "mlp_only_layers");
        if (only && !json_is_null(only) && (!json_is_array(only) || json_array_size(only)))
            return sw__err_at(r->err, SW_INPUT, key_loc(r, "mlp_only_layers"),
                              "mlp_only_layers (dense layers in a MoE model) is not supported: only every layer MoE");
        return SW_OK;
    }
    case SW_HF_MIXTRAL:
        SW_CHECK(read_common(r, c));
        SW_CHECK(get_pos(r, "num_local_experts", &c->experts));
        SW_CHECK(get_pos(r, "intermediate_size", &c->moe_ffn));
        SW_CHECK(get_int(r, "num_experts_per_tok", 0, 0, &c->topk));
        return SW_OK;
    case SW_HF_DEEPSEEK_V3: {
        SW_CHECK(read_common(r, c));
        c->mla = 1;
        c->kv_heads = c->heads;
        SW_CHECK(get_int(r, "q_lora_rank", 0, 0, &c->q_lora));
        SW_CHECK(get_pos(r, "kv_lora_rank", &c->kv_lora));
        SW_CHECK(get_pos(r, "qk_nope_head_dim", &c->qk_nope));
        SW_CHECK(get_pos(r, "qk_rope_head_dim", &c->qk_rope));
        SW_CHECK(get_pos(r, "v_head_dim", &c->v_head));
        SW_CHECK(get_pos(r, "intermediate_size", &c->ffn));
        SW_CHECK(get_pos(r, "n_routed_experts", &c->experts));
        SW_CHECK(get_pos(r, "moe_intermediate_size", &c->moe_ffn));
        SW_CHECK(get_int(r, "n_shared_experts", 0, 0, &c->shared_experts));
        SW_CHECK(get_int(r, "first_k_dense_replace", 0, 0, &c->first_dense));
        SW_CHECK(get_int(r, "num_experts_per_tok", 0, 0, &c->topk));
        SW_CHECK(get_int(r, "num_nextn_predict_layers", 0, 0, &c->mtp_layers));
        int64_t freq;
        SW_CHECK(get_int(r, "moe_layer_freq", 0, 1, &freq));
        if (freq != 1)
            return sw__err_at(r->err, SW_INPUT, key_loc(r, "moe_layer_freq"),
                              "moe_layer_freq %lld is not supported: only 1 (every layer after first_k_dense_replace is MoE)",
                              (long long)freq);
        if (c->first_dense > c->layers)
            return sw__err_at(r->err, SW_INPUT, key_loc(r, "first_k_dense_replace"),
                              "first_k_dense_replace (%lld) exceeds num_hidden_layers (%lld)", (long long)c->first_dense,
                              (long long)c->layers);
        const char *tm = get_str(r, "topk_method");
        c->router_bias = tm && !strcmp(tm, "noaux_tc");
        SW_CHECK(refuse_true(r, "attention_bias", "biases on the attention projections"));
        return read_quant(r, c);
    }
    }
    return SW_OK;
}

int sw_hf_config_parse(const char *path, const char *text, size_t len, sw_hf_config *cfg, sw_error *err) {
    memset(cfg, 0, sizeof *cfg);
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        sw_loc loc = {path, je.line > 0 ? je.line : 1, je.column > 0 ? je.column : 1};
        return sw__err_at(err, SW_INPUT, loc, "not valid JSON: %s", je.text);
    }
    reader r = {path, text, len, root, err};
    int rc = SW_OK;
    if (!json_is_object(root)) {
        sw_loc loc = {path, 1, 1};
        rc = sw__err_at(err, SW_INPUT, loc, "a config.json is a JSON object");
        goto done;
    }
    const char *mt = get_str(&r, "model_type");
    if (!mt) {
        rc = sw__err_at(err, SW_INPUT, key_loc(&r, "model_type"), "config has no 'model_type' (a string)");
        goto done;
    }
    size_t f = 0, nf = sizeof families / sizeof *families;
    while (f < nf && strcmp(families[f].name, mt)) f++;
    if (f == nf) {
        rc = sw__err_at(err, SW_INPUT, key_loc(&r, "model_type"),
                        "unknown model_type '%s' (shardwave init knows llama, qwen2, qwen3, qwen3_moe, mixtral, deepseek_v3)", mt);
        goto done;
    }
    cfg->family = families[f].family;
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", mt);
    json_t *arch = json_object_get(root, "architectures");
    if (json_is_array(arch) && json_is_string(json_array_get(arch, 0)))
        snprintf(cfg->arch, sizeof cfg->arch, "%s", json_string_value(json_array_get(arch, 0)));
    const char *nm = get_str(&r, "_name_or_path");
    if (nm && *nm) {
        const char *slash = strrchr(nm, '/');
        snprintf(cfg->name, sizeof cfg->name, "%s", slash ? slash + 1 : nm);
    } else { /* .../Qwen2.5-7B/config.json -> Qwen2.5-7B; qwen2.5-7b.json -> qwen2.5-7b */
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t bl = strlen(base);
        if (!strcmp(base, "config.json") && base > path + 1) {
            const char *end = base - 1, *start = end;
            while (start > path && start[-1] != '/') start--;
            snprintf(cfg->name, sizeof cfg->name, "%.*s", (int)(end - start), start);
        } else if (bl > 5 && !strcmp(base + bl - 5, ".json") && strcmp(base, "config.json")) {
            snprintf(cfg->name, sizeof cfg->name, "%.*s", (int)(bl - 5), base);
        }
        if (!cfg->name[0]) snprintf(cfg->name, sizeof cfg->name, "%s", mt);
    }
    for (char *p = cfg->name; *p; p++) /* a model name is one word of the layout file */
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
              *p == '_' || *p == '.'))
            *p = '-';
    rc = read_family(&r, cfg);
done:
    json_decref(root);
    return rc;
}

int sw_hf_config_load(const char *path, sw_hf_config *cfg, sw_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return sw__err(err, SW_IO, "cannot open '%s'", path);
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 > cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *p = realloc(buf, nc);
            if (!p) {
                free(buf);
                fclose(f);
                return sw__err(err, SW_NOMEM, "out of memory reading '%s'", path);
            }
            buf = p;
            cap = nc;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (!k) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return sw__err(err, SW_IO, "cannot read '%s'", path);
    }
    int rc = sw_hf_config_parse(path, buf, n, cfg, err);
    free(buf);
    return rc;
}
