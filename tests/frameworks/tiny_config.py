#!/usr/bin/env python3
"""tiny_config.py SRC.json OUTDIR NAME=VALUE...: a tiny Hugging Face config.json.

Writes OUTDIR/config.json: SRC with the sizes that `shardwave init` names as let constants
replaced by the -D values given (hidden=64 -> hidden_size 64, ...), float32, and without
quantization_config (the frameworks' CPU paths load plain float weights), so that the
framework builds the same model the layout file describes at that size.
"""
import json
import os
import sys

# let constant -> config.json key(s), per model_type where they differ
KEYS = {
    "hidden": ["hidden_size"],
    "layers": ["num_hidden_layers"],
    "heads": ["num_attention_heads"],
    "kv_heads": ["num_key_value_heads"],
    "head_dim": ["head_dim"],
    "ffn": ["intermediate_size"],
    "vocab": ["vocab_size"],
    "experts": ["num_experts", "num_local_experts", "n_routed_experts"],
    "moe_ffn": ["moe_intermediate_size"],
    "shared_experts": ["n_shared_experts"],
    "dense": ["first_k_dense_replace"],
    "q_lora": ["q_lora_rank"],
    "kv_lora": ["kv_lora_rank"],
    "nope": ["qk_nope_head_dim"],
    "rope": ["qk_rope_head_dim"],
    "v_head": ["v_head_dim"],
}


def derive(shapes):
    """Config sizes read off the logical tensors' shapes (the layout's own numbers)."""
    d = {}
    def rows(name):
        return shapes[name][0] if name in shapes else None
    d["hidden"] = rows("model.norm.weight")
    d["vocab"] = rows("model.embed_tokens.weight")
    d["layers"] = len([n for n in shapes if n.startswith("model.layers.") and n.endswith(".input_layernorm.weight")])
    layer_ids = sorted({int(n.split(".")[2]) for n in shapes if n.startswith("model.layers.")})
    for i in layer_ids:
        if rows("model.layers.%d.mlp.gate_proj.weight" % i):
            d["ffn"] = rows("model.layers.%d.mlp.gate_proj.weight" % i)
            break
    for i in layer_ids:
        for blk, proj in (("mlp", "gate_proj"), ("block_sparse_moe", "w1")):
            e = [n for n in shapes if n.startswith("model.layers.%d.%s.experts." % (i, blk)) and n.endswith(".%s.weight" % proj)]
            if e:
                d["experts"] = len(e)
                d["moe_ffn"] = shapes[e[0]][0]
        if "experts" in d:
            break
    if layer_ids and "model.layers.%d.self_attn.q_norm.weight" % layer_ids[0] in shapes:
        d["head_dim"] = rows("model.layers.%d.self_attn.q_norm.weight" % layer_ids[0])
    return {k: v for k, v in d.items() if v}


def tiny(src, out, defines, shapes=None):
    c = json.load(open(src))
    mt = c["model_type"]
    defines = dict(defines)
    if shapes:
        defines.update(derive(shapes))
    for k, v in defines.items():
        if k == "moe_ffn" and mt == "mixtral":
            c["intermediate_size"] = v
            continue
        for key in KEYS.get(k, []):
            if key in c:
                c[key] = v
    if mt == "deepseek_v3":
        c["num_key_value_heads"] = c["num_attention_heads"]
        c["n_group"] = 1
        c["topk_group"] = 1
        c["num_experts_per_tok"] = min(c.get("num_experts_per_tok", 2), c["n_routed_experts"])
        c.pop("auto_map", None)
        c["num_nextn_predict_layers"] = 0
    for k in ("num_experts_per_tok",):
        n = c.get("num_experts") or c.get("num_local_experts") or c.get("n_routed_experts")
        if k in c and n:
            c[k] = min(c[k], n)
    c.pop("quantization_config", None)
    c["torch_dtype"] = "float32"
    for k in ("bos_token_id", "eos_token_id", "pad_token_id"):
        if isinstance(c.get(k), int) and c[k] >= c["vocab_size"]:
            c[k] = 0
    os.makedirs(out, exist_ok=True)
    json.dump(c, open(os.path.join(out, "config.json"), "w"), indent=1)


if __name__ == "__main__":
    tiny(sys.argv[1], sys.argv[2], {k: int(v) for k, v in (a.split("=", 1) for a in sys.argv[3:])})
