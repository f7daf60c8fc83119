"""examples/python/rl_loop.py on CPU with the local backend (numpy, and torch when it is
installed); the mpi run is in test_mpi.py."""

import os
import re
import subprocess
import sys

import pytest

from conftest import REPO, child_env

EX = os.path.join(REPO, "examples", "python", "rl_loop.py")


def _run(*args):
    r = subprocess.run([sys.executable, EX, *args], env=child_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_rl_loop_local(kind):
    if kind == "torch":
        pytest.importorskip("torch", reason="torch is not installed: the RL loop runs with numpy only")
    out = _run("--backend", "local", "--steps", "3", *(["--numpy"] if kind == "numpy" else []))
    steps = re.findall(r"step (\d)/3: synced train -> infer \(8 ranks, (\w+) (?:modules|arrays)\) in [\d.]+ ms; "
                       r"engine checked 11264 elements: all match", out)
    assert steps == [("1", kind), ("2", kind), ("3", kind)], out
    assert "rl_loop: 3 steps, backend local, validated after every step" in out


def test_rl_loop_other_example():
    """Any layout file works: Qwen3-30B-A3B (Megatron EP8 -> vLLM FusedMoE) at a tiny size."""
    out = _run("--backend", "local", "--numpy", "--steps", "2", "--layout", os.path.join(REPO, "examples",
               "qwen3-30b-a3b.yaml"), "-D", "hidden=32", "-D", "head_dim=8", "-D", "layers=2", "-D", "experts=16",
               "-D", "moe_ffn=16", "-D", "vocab=500")
    assert out.count("all match") == 2, out
