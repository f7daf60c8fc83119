#!/usr/bin/env python3
"""run_all.py SHARDWAVE: the framework checks of `make test-frameworks`.

Every shipped example and the output of `shardwave init` over a matrix of the public model
configs (tests/init/*.json) and parallel settings, each at a tiny size (-D), checked
against vLLM's own loading code (check_vllm.py), Megatron-Bridge / Megatron-Core
(check_megatron.py) and transformers + FSDP2 (check_fsdp2.py).  A model name with "+bf16"
is its config without quantization_config (the bf16 checkpoint).  Prints each check's `framework match: M/N local tensors` line and a
table at the end; exits 1 when any check did not match completely.

    run_all.py build/shardwave [--only SUBSTRING] [--jobs N]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CFG = os.path.join(ROOT, "tests", "init")


def defs(s):
    return [x for kv in s.split() for x in ("-D", kv)]


TINY = {
    "llama3.1-8b": "hidden=64 heads=4 kv_heads=2 ffn=128 layers=4 vocab=1000",
    "qwen2.5-7b": "hidden=64 heads=4 kv_heads=2 ffn=128 layers=4 vocab=1000",
    "qwen2.5-0.5b": "hidden=64 heads=4 kv_heads=2 ffn=128 layers=4 vocab=1000",
    "qwen3-8b": "hidden=64 heads=4 kv_heads=2 head_dim=16 ffn=128 layers=4 vocab=1000",
    "qwen3-30b-a3b": "hidden=64 heads=4 kv_heads=2 head_dim=16 layers=4 vocab=1000 experts=8 moe_ffn=32",
    "mixtral-8x7b": "hidden=64 heads=4 kv_heads=2 layers=4 vocab=1000 experts=8 moe_ffn=32",
    "deepseek-v3": "hidden=64 layers=5 dense=1 experts=8 moe_ffn=32 ffn=64 heads=4 q_lora=32 kv_lora=16 "
                   "nope=8 rope=8 v_head=8 vocab=1000 block_n=8 block_k=8",
}

# (model, --from, --to, extra -D[, side expected to differ]): the init matrix
INIT = [
    ("llama3.1-8b", "megatron:tp=2,pp=2", "vllm:tp=2", ""),
    ("llama3.1-8b", "megatron:tp=2,pp=2,vpp=2", "vllm:tp=4", "layers=8"),
    ("qwen2.5-7b", "megatron:tp=2,pp=2,dp=2", "vllm:tp=2,dp=2", ""),
    ("qwen2.5-7b", "fsdp2:shard=4", "vllm:tp=1,dp=2", ""),
    ("qwen2.5-0.5b", "fsdp2:shard=3,replicate=2", "vllm:tp=2", ""),
    ("qwen2.5-0.5b", "megatron:tp=2,pp=2,vocab_pad=0", "vllm:tp=2", ""),
    ("qwen3-8b", "megatron:tp=2,pp=3,first_stage_layers=1,last_stage_layers=1", "vllm:tp=2", ""),
    ("qwen3-30b-a3b", "megatron:tp=2,pp=2,dp=4,ep=8,etp=1", "vllm:tp=2,dp=2", ""),
    ("qwen3-30b-a3b", "megatron:tp=2,pp=2,dp=2,ep=2,grouped_gemm=0", "vllm:tp=2,dp=2,ep=1", ""),
    ("qwen3-30b-a3b", "megatron:tp=1,pp=2,dp=4,ep=4", "vllm:tp=4", ""),
    # the names of vLLM before 0.24 must NOT load into 0.33 (expected: the MoE tensors differ)
    ("qwen3-30b-a3b", "fsdp2:shard=2", "vllm:tp=2,version=0.23", "", "infer"),
    ("qwen3-30b-a3b", "fsdp2:shard=3", "vllm:tp=2,dp=2,ep=1", ""),
    # transformers 4's per-expert names are not the modules of transformers 5 (expected to differ)
    ("qwen3-30b-a3b", "fsdp2:shard=2,transformers=4", "vllm:tp=2", "", "train"),
    ("mixtral-8x7b", "megatron:tp=2,pp=2,dp=2,ep=2", "vllm:tp=2,ep=1", ""),
    ("mixtral-8x7b", "fsdp2:shard=3,replicate=2", "vllm:tp=2", ""),
    ("deepseek-v3", "megatron:tp=2,pp=2,dp=2,ep=4,etp=1,first_stage_layers=1", "vllm:tp=2,dp=2,ep=1", ""),
    ("deepseek-v3", "megatron:tp=1,pp=1,dp=4,ep=4", "vllm:tp=2,dp=2", ""),
    ("deepseek-v3+bf16", "fsdp2:shard=3", "vllm:tp=2,dp=2,ep=1", ""),
]

# the shipped examples: (file, layout, framework, checker arguments, -D)
EX_LLAMA8 = "hidden=256 layers=2 vocab=1000 multiple_of=64"
EX_LLAMA70 = "hidden=512 layers=4 vocab=1000 multiple_of=64"
EX_QWEN = "hidden=64 head_dim=8 layers=2 experts=16 moe_ffn=16 vocab=1000"
EX_DS = ("hidden=64 layers=4 dense=1 experts=64 moe_ffn=16 ffn=64 heads=8 q_lora=32 kv_lora=16 nope=8 rope=8 "
         "v_head=8 vocab=1024 pp_train=2 ep_train=4 ep_inf=2 tp_inf=2 block=8")
EXAMPLES = [
    ("llama3-8b.yaml", "train", "megatron", "llama3.1-8b", ["--tp", "4", "--pp", "2", "--dp", "2"], EX_LLAMA8),
    ("llama3-8b.yaml", "infer", "vllm", "llama3.1-8b", [], EX_LLAMA8),
    ("llama3-70b.yaml", "train", "megatron", "llama3.1-8b", ["--tp", "8", "--pp", "4", "--dp", "4"], EX_LLAMA70 + " heads=64"),
    ("llama3-70b.yaml", "infer", "vllm", "llama3.1-8b", [], EX_LLAMA70 + " heads=64"),
    ("qwen3-30b-a3b.yaml", "train", "megatron", "qwen3-30b-a3b", ["--tp", "1", "--pp", "2", "--dp", "8", "--ep", "8"], EX_QWEN),
    ("qwen3-30b-a3b.yaml", "infer", "vllm", "qwen3-30b-a3b", [], EX_QWEN),
    ("qwen3-30b-a3b.yaml", "infer_dp2", "vllm", "qwen3-30b-a3b", [], EX_QWEN),
    ("deepseek-v3.yaml", "train", "megatron", "deepseek-v3", ["--tp", "1", "--pp", "2", "--dp", "4", "--ep", "4"], EX_DS),
    ("deepseek-v3.yaml", "infer", "vllm", "deepseek-v3", ["--expert-parallel"], EX_DS),
]


def megatron_args(spec):
    kv = dict(x.split("=") for x in spec.split(":", 1)[1].split(",") if "=" in x)
    out = []
    for k, flag in (("tp", "--tp"), ("pp", "--pp"), ("dp", "--dp"), ("ep", "--ep"), ("etp", "--etp"),
                    ("vpp", "--vpp"), ("first_stage_layers", "--first"), ("last_stage_layers", "--last"),
                    ("vocab_pad", "--vocab-pad")):
        if k in kv:
            out += [flag, kv[k]]
    return out


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    lines = [l for l in p.stdout.splitlines() if l.startswith(("framework match:", "  mismatch:", "  ..."))]
    if not any(l.startswith("framework match:") for l in lines):
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        lines.append("framework match: 0/1 local tensors (%s: the check failed: %s)" % (cmd[-1], " | ".join(tail)))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("sw")
    ap.add_argument("--only", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    sw = os.path.abspath(a.sw)
    py = sys.executable
    tmp = tempfile.mkdtemp(prefix="sw-fw-run-")
    jobs = []
    for f, layout, fw, model, extra, d in EXAMPLES:
        path = os.path.join(ROOT, "examples", f)
        label = "examples/%s %s" % (f, layout)
        checker = "check_megatron.py" if fw == "megatron" else "check_vllm.py"
        cmd = [py, os.path.join(HERE, checker), "--sw", sw, "--file", path, "--layout", layout,
               "--hf-config", os.path.join(CFG, model + ".json")] + extra + defs(d) + ["--label", label]
        jobs.append((label, cmd))
    expected_bad = set()
    for k, case in enumerate(INIT):
        model, frm, to, extra = case[:4]
        out = os.path.join(tmp, "init%d.yaml" % k)
        cfg = os.path.join(CFG, model.split("+")[0] + ".json")
        d = TINY[model.split("+")[0]] + " " + extra
        if model.endswith("+bf16"):
            c = json.load(open(cfg))
            c.pop("quantization_config", None)
            cfg = os.path.join(tmp, "init%d-config.json" % k)
            json.dump(c, open(cfg, "w"), indent=1)
            d = " ".join(x for x in d.split() if not x.startswith("block_"))
        subprocess.run([sw, "init", "--hf", cfg, "--from", frm, "--to", to, "-o", out], check=True)
        base = "init %s %s -> %s" % (model, frm, to)
        if frm.startswith("megatron"):
            jobs.append((base + " [train]", [py, os.path.join(HERE, "check_megatron.py"), "--sw", sw, "--file", out,
                                            "--layout", "train", "--hf-config", cfg] + megatron_args(frm) + defs(d)
                         + ["--label", base + " [train]"]))
        if frm.startswith("fsdp2"):
            jobs.append((base + " [train]", [py, os.path.join(HERE, "check_fsdp2.py"), "--sw", sw, "--file", out,
                                            "--layout", "train", "--hf-config", cfg] + defs(d)
                         + ["--label", base + " [train]"]))
        ep = ["--expert-parallel"] if "ep=1" in to else []
        if len(case) > 4:
            expected_bad.add(base + " [%s]" % case[4])
        jobs.append((base + " [infer]", [py, os.path.join(HERE, "check_vllm.py"), "--sw", sw, "--file", out, "--layout",
                                        "infer", "--hf-config", cfg] + ep + defs(d) + ["--label", base + " [infer]"]))
    if a.only:
        jobs = [j for j in jobs if a.only in j[0]]
    results = []
    with ThreadPoolExecutor(max_workers=a.jobs) as ex:
        for label, lines in zip([j[0] for j in jobs], ex.map(lambda j: run(j[1]), jobs)):
            for l in lines:
                print(l, flush=True)
            results.append((label, [l for l in lines if l.startswith("framework match:")][-1]))
    print("\n%-100s %s" % ("check", "matched"))
    bad = 0
    for label, line in results:
        mn = line.split("framework match: ", 1)[1].split(" local", 1)[0]
        m, n = (int(x) for x in mn.split("/"))
        note = ""
        if label in expected_bad:
            note = "  (expected to differ: %s)" % ("it does" if m != n else "IT DID NOT")
            bad += m == n
        else:
            bad += m != n
        print("%-100s %s%s" % (label, mn, note))
    counted = [(lb, l) for lb, l in results if lb not in expected_bad]
    mt = sum(int(l.split("framework match: ")[1].split("/")[0]) for _, l in counted)
    nt = sum(int(l.split("framework match: ")[1].split("/")[1].split()[0]) for _, l in counted)
    print("framework match: %d/%d local tensors in all (%d checks, %d not as expected)" % (mt, nt, len(counted), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
