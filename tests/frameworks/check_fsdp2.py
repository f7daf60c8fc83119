#!/usr/bin/env python3
"""check_fsdp2.py: compare a layout's FSDP2 ranks with transformers' model and FSDP2's sharding.

For an `fsdp2` layout (mesh {replicate, shard}) of a layout file, this script:

- writes the model at the layout's (tiny) size as a Hugging Face checkpoint: config.json
  (tiny_config.py) and model.safetensors holding unique-valued tensors under the logical
  tensors' names (the checkpoint's names);
- loads it with transformers' own loading code, `AutoModelForCausalLM.from_pretrained`
  (which, in transformers 5, fuses per-expert MoE weights by conversion_mapping.py);
- for every rank and every entry of the model's state_dict: a parameter is sharded the way
  FSDP2's FSDPParam._init_sharded_param does it (torch/distributed/fsdp/_fully_shard/
  _fsdp_param.py: `_chunk_with_empty(param, shard, dim=0)[shard_rank]`, its local size from
  `_get_dim_chunked_size`), a buffer stays whole (FSDP2 shards parameters only);
- compares each, element for element, with `shardwave layout FILE --layout NAME --rank R --json`.

`fully_shard` itself needs one process per shard rank; the two functions above are what it
calls to cut a parameter, imported from the installed torch, not copied.

    check_fsdp2.py --sw build/shardwave --file F.yaml --layout train --hf-config CONFIG \
        [-D name=value ...] [--label TEXT]

Prints `framework match: M/N local tensors`; exits 0 when all match.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_vllm import expected_local, layout_ranks, logical_shapes, sw_layout, unique_tensors  # noqa: E402
from tiny_config import tiny  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sw", required=True)
    ap.add_argument("--file", required=True)
    ap.add_argument("--layout", default="train")
    ap.add_argument("--hf-config", required=True)
    ap.add_argument("-D", dest="defines", action="append", default=[])
    ap.add_argument("--label", default=None)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    label = a.label or "%s %s" % (os.path.basename(a.file), a.layout)

    ranks = layout_ranks(a.sw, a.file, a.layout, a.defines)
    jsons = [sw_layout(a.sw, a.file, a.layout, r, a.defines) for r in ranks]
    if set(jsons[0]["coords"]) != {"replicate", "shard"}:
        sys.exit("check_fsdp2: the layout's mesh must be (replicate, shard), is %s" % list(jsons[0]["coords"]))
    shard = max(js["coords"]["shard"] for js in jsons) + 1

    import torch
    import transformers
    from safetensors.torch import save_file
    from torch.distributed.fsdp._fully_shard._fsdp_common import _chunk_with_empty, _get_dim_chunked_size

    shapes = logical_shapes(jsons)
    hf = unique_tensors(shapes, torch)
    hf_dir = tempfile.mkdtemp(prefix="sw-fsdp2-")
    try:
        defs = {k: int(v) for k, v in (d.split("=", 1) for d in a.defines)}
        tiny(a.hf_config, hf_dir, defs, shapes)
        save_file({k: v.contiguous() for k, v in hf.items()}, os.path.join(hf_dir, "model.safetensors"),
                  metadata={"format": "pt"})
        model = transformers.AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
    finally:
        shutil.rmtree(hf_dir, ignore_errors=True)
    params = dict(model.named_parameters())  # tied weights once, under the first name
    aliases = set(dict(model.named_parameters(remove_duplicate=False))) - set(params)
    entries = {}
    for name, t in model.state_dict().items():
        if name in params:
            entries[name] = ("param", params[name].detach())
        elif name in aliases:
            continue  # the tied alias (lm_head.weight of a tied model): FSDP2 sees one parameter
        else:
            entries[name] = ("buffer", t.detach())

    matched = total = 0
    problems = []
    for js in jsons:
        k = js["coords"]["shard"]
        where0 = "rank %d (replicate %d, shard %d)" % (js["rank"], js["coords"]["replicate"], k)
        local = {t["name"]: t for t in js["tensors"]}
        for name in sorted(set(entries) | set(local)):
            total += 1
            where = "%s %s" % (where0, name)
            if name not in local:
                kind, full = entries[name]
                problems.append("%s: transformers %s has this %s %s, the layout has no such local tensor" % (
                    where, transformers.__version__, kind, list(full.shape)))
                continue
            if name not in entries:
                problems.append("%s: the layout has this local tensor, the transformers model has no such parameter or buffer" % where)
                continue
            kind, full = entries[name]
            if kind == "param":
                chunk = _chunk_with_empty(full, shard, dim=0)[k]
                size = list(_get_dim_chunked_size(chunk, full.size(), dim=0))
                got = chunk.reshape(size).float()
            else:
                got = full.float()
            t = local[name]
            if list(got.shape) != t["shape"]:
                problems.append("%s: FSDP2 local shape %s (%s), layout shape %s" % (where, list(got.shape), kind, t["shape"]))
                continue
            exp = expected_local(t, hf, torch)
            mask = ~torch.isnan(exp)
            bad = int((got[mask] != exp[mask]).sum())
            if bad or int(mask.sum()) != got.numel():
                if bad:
                    idx = (mask & (got != exp)).nonzero()[0].tolist()
                    problems.append("%s: %d of %d elements differ, first at %s (FSDP2 %s, layout %s)" % (
                        where, bad, int(mask.sum()), idx, got[tuple(idx)].item(), exp[tuple(idx)].item()))
                else:
                    problems.append("%s: the layout leaves %d of %d elements unset" % (where, got.numel() - int(mask.sum()), got.numel()))
                continue
            matched += 1
    for pr in problems[: (len(problems) if a.verbose else 12)]:
        print("  mismatch: " + pr)
    if len(problems) > 12 and not a.verbose:
        print("  ... and %d more" % (len(problems) - 12))
    print("framework match: %d/%d local tensors (%s, transformers %s from_pretrained + FSDP2 _chunk_with_empty, %d ranks)" % (
        matched, total, label, transformers.__version__, len(jsons)))
    return 0 if matched == total else 1


if __name__ == "__main__":
    sys.exit(main())
