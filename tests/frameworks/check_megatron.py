#!/usr/bin/env python3
"""check_megatron.py: compare a layout's Megatron ranks with Megatron-Bridge and Megatron-Core.

For every rank of one layout (a Megatron-Core trainer layout) this script asks the
frameworks' own code what the rank holds and compares it, element for element, with
`shardwave layout FILE --layout NAME --rank R --json`:

- ranks: megatron.core.parallel_state.RankGenerator (order tp-cp-ep-dp-pp) gives the rank's
  tp, dp and pp coordinates, and the expert generator its ep and etp coordinates;
- layers: megatron.core.transformer.transformer_layer.get_transformer_layer_offset and
  transformer_block.get_num_layers_to_build give the global layer of every local layer
  (uneven first/last stages, virtual pipeline chunks `model{v}.`);
- vocabulary: megatron.core.tokenizers.utils.build_tokenizer.vocab_size_with_padding gives
  the padded size of embedding / output layer;
- values: the model's Megatron-Bridge mapping registry (e.g. Qwen3MoEBridge.mapping_registry)
  resolves each local parameter's global name to its Hugging Face tensors and runs the
  mapping's own `hf_to_megatron` (QKV interleave, gated MLP, column / row / replicated
  split, vocab padding); the list of per-rank tensors it would scatter is captured and this
  rank's entry compared.  Experts: global index = ep_rank * local_experts + local index.

The mappings decide column / row / replicated from the Megatron module class; the classes
come from Megatron-Core's Transformer Engine GPT layer spec (MODULE_CLASS below), since
building the TE model itself needs a GPU.  Every Hugging Face tensor that belongs on a rank
(its layer on the rank's stage, its expert on the rank's ep rank) and appears in no local
tensor is a mismatch too.

Prints `framework match: M/N local tensors`; exits 0 when all match.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_vllm import layout_ranks, logical_shapes, sw_layout, unique_tensors, expected_local  # noqa: E402

# Megatron-Core 0.19.2 TE GPT layer spec (megatron/core/models/gpt/gpt_layer_specs.py,
# moe_module_specs.py, experimental MLA spec): the module class of each parameter.
MODULE_CLASS = [
    (r"embedding\.word_embeddings\.weight$", "VocabParallelEmbedding"),
    (r"output_layer\.weight$", "ColumnParallelLinear"),
    (r"self_attention\.linear_qkv\.(weight|bias|layer_norm_weight)$", "TELayerNormColumnParallelLinear"),
    (r"self_attention\.linear_q_up_proj\.(weight|layer_norm_weight)$", "TELayerNormColumnParallelLinear"),
    (r"self_attention\.linear_kv_up_proj\.(weight|layer_norm_weight)$", "TELayerNormColumnParallelLinear"),
    (r"self_attention\.linear_q_proj\.weight$", "TEColumnParallelLinear"),
    (r"self_attention\.linear_(q|kv)_down_proj\.weight$", "TELinear:duplicated"),
    (r"self_attention\.linear_proj\.weight$", "TERowParallelLinear"),
    (r"self_attention\.(q|k)_layernorm\.weight$", "TENorm"),
    (r"mlp\.linear_fc1\.(weight|layer_norm_weight)$", "TELayerNormColumnParallelLinear"),
    (r"mlp\.linear_fc2\.weight$", "TERowParallelLinear"),
    (r"mlp\.shared_experts\.linear_fc1\.weight$", "TEColumnParallelLinear"),
    (r"mlp\.shared_experts\.linear_fc2\.weight$", "TERowParallelLinear"),
    (r"mlp\.experts\.linear_fc1\.weight\d+$", "TEColumnParallelGroupedLinear"),
    (r"mlp\.experts\.linear_fc2\.weight\d+$", "TERowParallelGroupedLinear"),
    (r"mlp\.experts\.local_experts\.\d+\.linear_fc1\.weight$", "TEColumnParallelLinear"),
    (r"mlp\.experts\.local_experts\.\d+\.linear_fc2\.weight$", "TERowParallelLinear"),
    (r"mlp\.router\.(weight|expert_bias)$", "TopKRouter"),
    (r"(input_layernorm|pre_mlp_layernorm|final_layernorm)\.weight$", "TENorm"),
]

class _StubFinder:
    """transformer_engine (a CUDA build) is imported at module level by Megatron-Bridge's
    LoRA layers; the conversion code checked here never calls it.  Any transformer_engine.*
    import gets an empty module whose attributes are placeholder classes."""

    def find_spec(self, name, path=None, target=None):
        if name != "transformer_engine" and not name.startswith("transformer_engine."):
            return None
        import importlib.machinery
        return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        m = types.ModuleType(spec.name)
        m.__path__ = []
        m.__version__ = "2.9.0"

        class _Meta(type):
            def __getattr__(cls, attr):
                if attr.startswith("__"):
                    raise AttributeError(attr)
                return _Meta(attr, (object,), {"__init__": lambda self, *a, **k: None})

        def getattr_(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return _Meta(attr, (object,), {"__init__": lambda self, *a, **k: None})
        m.__getattr__ = getattr_
        return m

    def exec_module(self, module):
        pass


def stub_transformer_engine():
    try:
        import transformer_engine  # noqa: F401  (a real install wins)
    except ImportError:
        sys.meta_path.insert(0, _StubFinder())
        import importlib.metadata as md
        real = md.version
        md.version = lambda name: "2.9.0" if name in ("transformer-engine", "transformer_engine") else real(name)


BRIDGES = {
    "llama": ("megatron.bridge.models.llama.llama_bridge", "LlamaBridge"),
    "qwen2": ("megatron.bridge.models.qwen.qwen2_bridge", "Qwen2Bridge"),
    "qwen3": ("megatron.bridge.models.qwen.qwen3_bridge", "Qwen3Bridge"),
    "qwen3_moe": ("megatron.bridge.models.qwen.qwen3_moe_bridge", "Qwen3MoEBridge"),
    "deepseek_v3": ("megatron.bridge.models.deepseek.deepseek_v3_bridge", "DeepSeekV3Bridge"),
}


def mixtral_registry():
    """Megatron-Bridge 0.6.2 has no Mixtral bridge: Qwen3MoEBridge.mapping_registry's entries
    (the same Megatron GPT model with MoE, no shared expert) with Mixtral's Hugging Face names
    (block_sparse_moe.gate, experts.*.w1 / w3 / w2), built from Bridge's own mapping classes."""
    from megatron.bridge.models.conversion.mapping_registry import MegatronMappingRegistry
    from megatron.bridge.models.conversion.param_mapping import AutoMapping, GatedMLPMapping, QKVMapping
    auto = {
        "embedding.word_embeddings.weight": "model.embed_tokens.weight",
        "output_layer.weight": "lm_head.weight",
        "decoder.final_layernorm.weight": "model.norm.weight",
        "decoder.layers.*.self_attention.linear_qkv.layer_norm_weight": "model.layers.*.input_layernorm.weight",
        "decoder.layers.*.mlp.router.weight": "model.layers.*.block_sparse_moe.gate.weight",
        "decoder.layers.*.pre_mlp_layernorm.weight": "model.layers.*.post_attention_layernorm.weight",
        "decoder.layers.*.self_attention.linear_proj.weight": "model.layers.*.self_attn.o_proj.weight",
        "decoder.layers.*.mlp.experts.linear_fc2.weight*": "model.layers.*.block_sparse_moe.experts.*.w2.weight",
        "decoder.layers.*.mlp.experts.local_experts.*.linear_fc2.weight": "model.layers.*.block_sparse_moe.experts.*.w2.weight",
    }
    ms = [AutoMapping(megatron_param=k, hf_param=v) for k, v in auto.items()]
    ms.append(QKVMapping(megatron_param="decoder.layers.*.self_attention.linear_qkv.weight",
                         q="model.layers.*.self_attn.q_proj.weight", k="model.layers.*.self_attn.k_proj.weight",
                         v="model.layers.*.self_attn.v_proj.weight"))
    for mg in ("decoder.layers.*.mlp.experts.linear_fc1.weight*", "decoder.layers.*.mlp.experts.local_experts.*.linear_fc1.weight"):
        ms.append(GatedMLPMapping(megatron_param=mg, gate="model.layers.*.block_sparse_moe.experts.*.w1.weight",
                                  up="model.layers.*.block_sparse_moe.experts.*.w3.weight"))
    return MegatronMappingRegistry(*ms)


def module_class(name):
    for pat, cls in MODULE_CLASS:
        if re.search(pat, name):
            return cls
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sw", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--layout", default="train")
    ap.add_argument("--hf-config", required=True)
    ap.add_argument("--tp", type=int, default=1)
    ap.add_argument("--pp", type=int, default=1)
    ap.add_argument("--dp", type=int, default=1)
    ap.add_argument("--ep", type=int, default=1)
    ap.add_argument("--etp", type=int, default=None)
    ap.add_argument("--vpp", type=int, default=None)
    ap.add_argument("--first", type=int, default=None, help="num_layers_in_first_pipeline_stage")
    ap.add_argument("--last", type=int, default=None, help="num_layers_in_last_pipeline_stage")
    ap.add_argument("--vocab-pad", type=int, default=128, help="make_vocab_size_divisible_by (0: none)")
    ap.add_argument("-D", dest="defines", action="append", default=[])
    ap.add_argument("--label", default=None)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    etp = a.etp or a.tp
    label = a.label or "%s %s" % (os.path.basename(a.file), a.layout)
    cfg = json.load(open(a.hf_config))
    mt = cfg["model_type"]
    if mt not in BRIDGES and mt != "mixtral":
        print("framework match: 0/0 local tensors (%s: Megatron-Bridge 0.6.2 has no %s bridge; not checked)" % (label, mt))
        return 0

    ranks = layout_ranks(a.sw, a.file, a.layout, a.defines)
    jsons = [sw_layout(a.sw, a.file, a.layout, r, a.defines) for r in ranks]
    first_rank = ranks[0]
    import importlib
    import torch
    # Megatron-Core first (it takes its no-TE paths), then the stub for Bridge's imports
    from megatron.core.parallel_state import RankGenerator
    from megatron.core.tokenizers.utils.build_tokenizer import vocab_size_with_padding
    from megatron.core.transformer.transformer_block import get_num_layers_to_build
    from megatron.core.transformer.transformer_layer import get_transformer_layer_offset
    import megatron.core.models.gpt  # noqa: F401
    stub_transformer_engine()
    import megatron.bridge.models.conversion.param_mapping as pm

    shapes = logical_shapes(jsons)
    hf = unique_tensors(shapes, torch)
    layers = len([n for n in shapes if n.endswith(".input_layernorm.weight")])
    hidden = shapes["model.norm.weight"][0]
    vocab = shapes["model.embed_tokens.weight"][0]
    per_layer = {}
    for n in shapes:
        m = re.match(r"model\.layers\.(\d+)\.(mlp|block_sparse_moe)\.experts\.(\d+)\.(gate_proj|w1)\.weight$", n)
        if m:
            per_layer.setdefault(int(m.group(1)), set()).add(int(m.group(3)))
    experts = len(next(iter(per_layer.values()))) if per_layer else 0
    defs = {k: int(v) for k, v in (d.split("=", 1) for d in a.defines)}
    heads = defs.get("heads", cfg["num_attention_heads"])
    kv_heads = defs.get("kv_heads", cfg.get("num_key_value_heads", heads))
    qn = "model.layers.0.self_attn.q_proj.weight"
    head_dim = shapes[qn][0] // heads if qn in shapes else None

    mcfg = types.SimpleNamespace(
        num_layers=layers, pipeline_model_parallel_size=a.pp, pipeline_model_parallel_layout=None,
        num_layers_in_first_pipeline_stage=a.first, num_layers_in_last_pipeline_stage=a.last,
        virtual_pipeline_model_parallel_size=a.vpp, account_for_embedding_in_pipeline_split=False,
        account_for_loss_in_pipeline_split=False, mtp_num_layers=None,
        num_attention_heads=heads, num_query_groups=kv_heads, kv_channels=head_dim, hidden_size=hidden,
        attention_output_gate=False)
    world = a.tp * a.dp * a.pp
    dense_gen = RankGenerator(tp=a.tp, ep=1, dp=a.dp, pp=a.pp, cp=1, order="tp-cp-ep-dp-pp")
    edp = world // (a.pp * a.ep * etp)
    exp_gen = RankGenerator(tp=etp, ep=a.ep, dp=edp, pp=a.pp, cp=1, order="tp-cp-ep-dp-pp")

    def coord(gen, token, l):
        for g in gen.get_ranks(token):
            if l in g:
                return g.index(l)
        raise RuntimeError("rank %d in no %s group" % (l, token))

    if a.vocab_pad:
        padded = vocab_size_with_padding(vocab, types.SimpleNamespace(make_vocab_size_divisible_by=a.vocab_pad,
                                                                      tensor_model_parallel_size=a.tp, rank=1))
    else:
        padded = vocab

    if mt == "mixtral":
        registry = mixtral_registry()
    else:
        modname, clsname = BRIDGES[mt]
        bridge_cls = getattr(importlib.import_module(modname), clsname)
        bridge = bridge_cls.__new__(bridge_cls)
        bridge.hf_config = types.SimpleNamespace(num_nextn_predict_layers=0, num_hidden_layers=layers)
        registry = bridge.mapping_registry()

    # The simulated rank's groups: the mapping code asks get_pg_size / get_pg_rank.
    state = {}
    pm.get_pg_size = lambda g: state["size"][g]
    pm.get_pg_rank = lambda g: 0 if g in ("TP", "ETP") else state["rank"][g]
    captured = {}

    def scatter(self, splits, output_shape, dtype, device, src_rank=0):
        captured["splits"] = splits
        g = "ETP" if self.is_expert else "TP"
        return splits[state["rank"][g]]

    pm.MegatronParamMapping.scatter_to_tp_ranks = scatter
    init0 = pm.MegatronParamMapping.__init__

    def init(self, *args, **kw):  # every mapping (delegates too) on the simulated groups
        init0(self, *args, **kw)
        self.pp_group, self.ep_group, self._tp_group, self._etp_group = "PP", "EP", "TP", "ETP"

    pm.MegatronParamMapping.__init__ = init
    pm.MegatronParamMapping.broadcast_tensor_to_tp_ranks = lambda self, t, src_rank=0: t
    torch.cuda.current_device = lambda: None  # ReplicatedMapping moves to the GPU; here the CPU (index None)
    pm.MegatronParamMapping.broadcast_obj_from_pp_rank = lambda self, obj, cache_key=None: obj

    def fake_module(name, shape):
        cls = module_class(name)
        if cls is None:
            return None
        mode = None
        if ":" in cls:
            cls, mode = cls.split(":")
        m = type(cls, (torch.nn.Module,), {})()
        m.config = mcfg
        if mode:
            m.parallel_mode = mode
            m.tensor_model_parallel = False
        leaf = name.split(".")[-1]
        p = torch.nn.Parameter(torch.empty(shape), requires_grad=False)
        m.register_parameter(leaf, p)
        if re.match(r"weight\d+$", leaf):
            m.register_parameter("weight0", p)
        return m

    matched = total = skipped = 0
    problems = []
    for js in jsons:
        l = js["rank"] - first_rank
        tp, dp, pp = coord(dense_gen, "tp", l), coord(dense_gen, "dp", l), coord(dense_gen, "pp", l)
        ep, etpr = coord(exp_gen, "ep", l), coord(exp_gen, "tp", l)
        state["size"] = {"TP": a.tp, "ETP": etp, "PP": a.pp, "EP": a.ep}
        state["rank"] = {"TP": tp, "ETP": etpr, "PP": pp, "EP": ep}
        where0 = "rank %d (pp %d, dp %d, tp %d, ep %d, etp %d)" % (js["rank"], pp, dp, tp, ep, etpr)
        local_experts = experts // a.ep if experts else 0
        # local layer j of chunk v -> global layer (Megatron-Core's own offsets)
        chunks = range(a.vpp) if a.vpp else [None]
        to_global = {}
        stage_layers = set()
        for v in chunks:
            off = get_transformer_layer_offset(mcfg, vp_stage=v, pp_rank=pp)
            n = get_num_layers_to_build(mcfg, vp_stage=v, pp_rank=pp)
            for j in range(n):
                to_global[(v, j)] = off + j
                stage_layers.add(off + j)
        consumed = set()
        for t in js["tensors"]:
            if t["pieces"] and all(p["tensor"].endswith("_scale_inv") for p in t["pieces"]):
                skipped += 1  # fp8 block scales: buffers of the trainer's quantization step, not Megatron parameters
                continue
            total += 1
            name = t["name"]
            where = "%s %s" % (where0, name)
            for p in t["pieces"]:
                consumed.add(p["tensor"])
            v = None
            gname = name
            mch = re.match(r"model(\d+)\.(.*)$", name)
            if a.vpp:
                if not mch:
                    problems.append("%s: with vpp every local tensor needs its model{v}. chunk prefix" % where)
                    continue
                v, gname = int(mch.group(1)), mch.group(2)
            ml = re.match(r"decoder\.layers\.(\d+)\.(.*)$", gname)
            if ml:
                j = int(ml.group(1))
                if (v, j) not in to_global:
                    problems.append("%s: Megatron-Core builds no local layer %d on this stage" % (where, j))
                    continue
                gname = "decoder.layers.%d.%s" % (to_global[(v, j)], ml.group(2))
            me = re.search(r"(linear_fc[12]\.weight)(\d+)$", gname) or re.search(r"local_experts\.(\d+)\.", gname)
            if me and "local_experts" in gname:
                gname = gname.replace("local_experts.%s." % me.group(1), "local_experts.%d." % (ep * local_experts + int(me.group(1))))
            elif me:
                gname = gname[: me.start(2)] + str(ep * local_experts + int(me.group(2)))
            mapping = registry.megatron_to_hf_lookup(gname)
            if mapping is None:
                problems.append("%s: Megatron-Bridge has no mapping for %s" % (where, gname))
                continue
            mapping._tp_group, mapping._etp_group, mapping.pp_group, mapping.ep_group = "TP", "ETP", "PP", "EP"
            hfp = mapping.hf_param
            if hfp == "lm_head.weight" and hfp not in hf and gname.endswith("output_layer.weight"):
                # tied embeddings with pp > 1: the last stage's output_layer.weight is a copy of the
                # first stage's word embeddings (megatron/core/models/common/language_module/
                # language_module.py setup_embeddings_and_output_layer: filled by an all-reduce)
                hfp = "model.embed_tokens.weight"
            if any(n not in hf for n in ([hfp] if isinstance(hfp, str) else hfp.values())):
                problems.append("%s: Bridge maps it from %s, not a logical tensor of the layout" % (where, hfp))
                continue
            hw = hf[hfp] if isinstance(hfp, str) else {k: hf[n] for k, n in hfp.items()}
            shape = list(t["shape"])
            if gname.endswith(("word_embeddings.weight", "output_layer.weight")):
                shape = [padded // a.tp] + shape[1:]
            mod = fake_module(gname, shape)
            if mod is None:
                problems.append("%s: no Megatron-Core module class known for it" % where)
                continue
            try:
                got = mapping.hf_to_megatron(hw, mod)
            except Exception as e:  # the framework refused the layout's shapes
                problems.append("%s: Megatron-Bridge hf_to_megatron failed: %s: %s" % (where, type(e).__name__, (str(e).splitlines() or [""])[0][:200]))
                continue
            got = got.float()
            if (gname.endswith(("word_embeddings.weight", "output_layer.weight")) and got.dim() == 2
                    and got.shape[0] < shape[0] and list(got.shape[1:]) == shape[1:]):
                # at tp 1 the column-parallel mapping returns the HF tensor unpadded (it pads only
                # when it splits); Megatron's parameter has the padded rows: compare the real ones
                got = torch.cat([got, torch.full((shape[0] - got.shape[0],) + tuple(got.shape[1:]), float("nan"))])
            if list(got.shape) != list(t["shape"]):
                problems.append("%s: Megatron shape %s, layout shape %s" % (where, list(got.shape), t["shape"]))
                continue
            exp = expected_local(t, hf, torch)
            mask = ~torch.isnan(exp)
            bad = int((got[mask] != exp[mask]).sum())
            if bad:
                idx = (mask & (got != exp)).nonzero()[0].tolist()
                problems.append("%s: %d of %d elements differ, first at %s (Megatron %s, layout %s)" % (
                    where, bad, int(mask.sum()), idx, got[tuple(idx)].item(), exp[tuple(idx)].item()))
                continue
            matched += 1
        # every HF tensor that belongs on this rank must be somewhere in its local tensors
        first = pp == 0
        last = pp == a.pp - 1
        for n in sorted(hf):
            m = re.match(r"model\.layers\.(\d+)\.", n)
            if m:
                if int(m.group(1)) not in stage_layers:
                    continue
                e = re.search(r"\.experts\.(\d+)\.", n)
                if e and int(e.group(1)) // local_experts != ep:
                    continue
            elif n == "model.embed_tokens.weight":
                if not first and not (last and "lm_head.weight" not in hf and a.pp > 1):
                    continue
            elif not last:
                continue
            if n.endswith("_scale_inv"):
                continue
            if n not in consumed:
                total += 1
                problems.append("%s: %s belongs on this rank but is in none of its local tensors" % (where0, n))
    for pr in problems[: (len(problems) if a.verbose else 12)]:
        print("  mismatch: " + pr)
    if len(problems) > 12 and not a.verbose:
        print("  ... and %d more" % (len(problems) - 12))
    extra = ", %d fp8 scale tensors not checked" % skipped if skipped else ""
    how = "Megatron-Bridge mapping classes with Mixtral names" if mt == "mixtral" else "Megatron-Bridge hf_to_megatron"
    print("framework match: %d/%d local tensors (%s, %s + Megatron-Core offsets, %d ranks%s)" % (
        matched, total, label, how, len(jsons), extra))
    return 0 if matched == total else 1


if __name__ == "__main__":
    sys.exit(main())
