#!/usr/bin/env python3
"""check_vllm.py: compare a layout's vLLM ranks with what vLLM's own loading code builds.

For every rank of one layout of a layout file, builds the real vLLM model for that rank on
vLLM's CPU platform (VLLM_TARGET_DEVICE=cpu, a one-process gloo group whose tensor- and
data-parallel rank and size are patched to the simulated rank's), feeds it unique-valued
Hugging Face tensors through `model.load_weights` (the code a checkpoint load or a refit
runs), and compares every parameter, element for element, with what
`shardwave layout FILE --layout NAME --rank R --json` says the rank holds.

    check_vllm.py --sw build/shardwave --file F.yaml --layout infer --hf-config CONFIG \
        [--expert-parallel] [-D name=value ...] [--label TEXT]

CONFIG is the model's config.json; the script writes the same model at the layout's (tiny)
size next to nothing else (tiny_config.py: the -D values and the logical tensors' shapes).  The
Hugging Face tensors are the logical tensors of the layout (their shapes from the pieces of
all ranks); tensor k's element j holds base_k + j, exact in float32, so any misplaced
element is seen.  The comparison is of what load_weights writes, before vLLM's
process_weights_after_loading (which may repack weights for a kernel, as it does on CPU).

Prints one `framework match: M/N local tensors` line; exits 0 when every local tensor
matched, 1 otherwise.
"""
import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")
os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def sw_layout(sw, path, layout, rank, defines):
    cmd = [sw, "layout", path, "--layout", layout, "--rank", str(rank), "--json"]
    for d in defines:
        cmd += ["-D", d]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def layout_ranks(sw, path, layout, defines):
    """The global ranks of a layout: first_rank .. first_rank + product(mesh) - 1 (from check)."""
    cmd = [sw, "check", path]
    for d in defines:
        cmd += ["-D", d]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    key = "layout %s: " % layout
    i = out.index(key)
    part = out[i + len(key):]
    lo, hi = part.split("(", 1)[1].split(")", 1)[0].split("..")
    return list(range(int(lo), int(hi) + 1))


def logical_shapes(rank_jsons):
    """Shapes of the logical tensors: the largest extent of any piece, over all ranks."""
    shapes = {}
    for js in rank_jsons:
        for t in js["tensors"]:
            for p in t["pieces"]:
                ext = [s + n for s, n in zip(p["start"], p["size"])]
                old = shapes.get(p["tensor"])
                shapes[p["tensor"]] = ext if old is None else [max(a, b) for a, b in zip(old, ext)]
    return shapes


def unique_tensors(shapes, torch):
    names = sorted(shapes)
    total = 0
    out = {}
    for n in names:
        numel = 1
        for d in shapes[n]:
            numel *= d
        out[n] = (torch.arange(numel, dtype=torch.float64) + total).to(torch.float32).reshape(shapes[n])
        total += numel
    if total >= (1 << 24):
        sys.exit("check_vllm: %d elements in all: too many for exact float32 values; use smaller -D sizes" % total)
    return out


def expected_local(t, hf, torch):
    """The local tensor the layout describes: NaN where no piece (padding)."""
    exp = torch.full(t["shape"], float("nan"), dtype=torch.float32)
    for p in t["pieces"]:
        src = hf[p["tensor"]]
        sl = tuple(slice(s, s + n) for s, n in zip(p["start"], p["size"]))
        block = src[sl]
        off = p["local_offset"]
        lead = len(off) - block.dim()  # stacked dims: size 1 each
        block = block.reshape([1] * lead + list(block.shape))
        dst = tuple(slice(o, o + n) for o, n in zip(off, block.shape))
        exp[dst] = block
    return exp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sw", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--layout", default="infer")
    ap.add_argument("--hf-config", required=True, help="the model's config.json (any size)")
    ap.add_argument("--expert-parallel", action="store_true")
    ap.add_argument("--dp-axis", default="dp", help="the mesh axis that is vLLM's data-parallel rank")
    ap.add_argument("-D", dest="defines", action="append", default=[])
    ap.add_argument("--label", default=None)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    label = a.label or "%s %s" % (os.path.basename(a.file), a.layout)

    ranks = layout_ranks(a.sw, a.file, a.layout, a.defines)
    jsons = [sw_layout(a.sw, a.file, a.layout, r, a.defines) for r in ranks]

    import torch
    import vllm.distributed.parallel_state as ps
    from vllm.config import (DeviceConfig, LoadConfig, ModelConfig, ParallelConfig, VllmConfig,
                             set_current_vllm_config)
    from vllm.distributed import init_distributed_environment, initialize_model_parallel
    from vllm.model_executor.model_loader.utils import initialize_model

    # fp8 block scales: vLLM's CPU platform builds no block-quantized fp8 linears, so the
    # model is built unquantized and the *_scale_inv tensors are left out (and counted).
    shapes = {k: v for k, v in logical_shapes(jsons).items() if not k.endswith("_scale_inv")}
    hf = unique_tensors(shapes, torch)
    skipped = 0
    coords0 = jsons[0]["coords"]
    if set(coords0) - {a.dp_axis, "tp"}:
        sys.exit("check_vllm: the layout's mesh must be (%s, tp), is %s" % (a.dp_axis, list(coords0)))
    for js in jsons:
        js["coords"] = {"dp": js["coords"].get(a.dp_axis, 0), "tp": js["coords"].get("tp", 0)}
    dp_size = max(js["coords"]["dp"] for js in jsons) + 1
    tp_size = max(js["coords"]["tp"] for js in jsons) + 1

    # the same model at the layout's size: a tiny config.json next to nothing else
    import tempfile
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from tiny_config import tiny
    hf_dir = tempfile.mkdtemp(prefix="sw-fw-")
    defs = {k: int(v) for k, v in (d.split("=", 1) for d in a.defines)}
    tiny(a.hf_config, hf_dir, defs, logical_shapes(jsons))
    mc = ModelConfig(model=hf_dir, tokenizer=None, skip_tokenizer_init=True, dtype="float32",
                     enforce_eager=True, trust_remote_code=False)
    pc = ParallelConfig(tensor_parallel_size=1)
    vc = VllmConfig(model_config=mc, parallel_config=pc, device_config=DeviceConfig(device="cpu"),
                    load_config=LoadConfig(load_format="dummy"))
    port = 29500 + os.getpid() % 1000
    matched = total = 0
    problems = []
    with set_current_vllm_config(vc):
        init_distributed_environment(world_size=1, rank=0, local_rank=0, backend="gloo",
                                     distributed_init_method="tcp://127.0.0.1:%d" % port)
        initialize_model_parallel(1, 1)
        # the simulated rank's parallel sizes, as vLLM's config and groups report them
        pc.tensor_parallel_size = tp_size
        pc.data_parallel_size = dp_size
        pc.enable_expert_parallel = a.expert_parallel
        for js in jsons:
            tp, dp = js["coords"].get("tp", 0), js["coords"].get("dp", 0)
            for g, size, rank in ((ps._TP, tp_size, tp), (ps._DP, dp_size, dp)):
                g.world_size, g.rank_in_group = size, rank
            pc.data_parallel_rank = dp
            if ps._EP is not None:  # EP group = the flattened dp x tp group (FusedMoEParallelConfig)
                ps._EP.world_size, ps._EP.rank_in_group = dp_size * tp_size, dp * tp_size + tp
            vc.compilation_config.static_forward_context.clear()  # one model per simulated rank
            with torch.device("cpu"):
                model = initialize_model(vllm_config=vc)
            for p in model.parameters():
                p.data.fill_(float("nan"))
            model.load_weights(iter(sorted(hf.items())))
            params = dict(model.named_parameters())
            local = {}
            for t in js["tensors"]:
                if t["pieces"] and all(p["tensor"].endswith("_scale_inv") for p in t["pieces"]):
                    skipped += 1
                else:
                    local[t["name"]] = t
            for name in sorted(set(params) | set(local)):
                total += 1
                where = "rank %d (dp %d, tp %d) %s" % (js["rank"], dp, tp, name)
                if name not in local:
                    problems.append("%s: vLLM has this parameter %s, the layout has no such local tensor" % (where, list(params[name].shape)))
                    continue
                if name not in params:
                    problems.append("%s: the layout has this local tensor, vLLM has no such parameter" % where)
                    continue
                p = params[name].detach().float()
                t = local[name]
                if list(p.shape) != t["shape"]:
                    problems.append("%s: vLLM shape %s, layout shape %s" % (where, list(p.shape), t["shape"]))
                    continue
                exp = expected_local(t, hf, torch)
                mask = ~torch.isnan(exp)
                bad = (p[mask] != exp[mask]).sum().item()
                if bad:
                    idx = (mask & (p != exp)).nonzero()[0].tolist()
                    problems.append("%s: %d of %d elements differ, first at %s (vLLM %s, layout %s)" % (
                        where, bad, int(mask.sum()), idx, p[tuple(idx)].item(), exp[tuple(idx)].item()))
                    continue
                matched += 1
            del model
    import shutil
    shutil.rmtree(hf_dir, ignore_errors=True)
    for pr in problems[: (len(problems) if a.verbose else 12)]:
        print("  mismatch: " + pr)
    if len(problems) > 12 and not a.verbose:
        print("  ... and %d more" % (len(problems) - 12))
    extra = ", %d fp8 scale tensors not checked" % skipped if skipped else ""
    print("framework match: %d/%d local tensors (%s, vLLM load_weights, %d ranks%s)" % (matched, total, label, len(jsons), extra))
    sys.exit(0 if matched == total else 1)


if __name__ == "__main__":
    main()
