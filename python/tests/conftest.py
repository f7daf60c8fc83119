"""Test setup: the package from this source tree (python/) with the library from the
build tree (build/libshardwave.so) unless SHARDWAVE_LIBRARY says otherwise, the CLI
(build/shardwave or $SHARDWAVE_CLI), and the examples at tiny sizes."""

import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples")
BUILD = os.environ.get("SHARDWAVE_BUILD", os.path.join(REPO, "build"))

if os.environ.get("SHARDWAVE_TEST_INSTALLED") != "1":
    sys.path.insert(0, os.path.join(REPO, "python"))
    if "SHARDWAVE_LIBRARY" not in os.environ and os.path.exists(os.path.join(BUILD, "libshardwave.so")):
        os.environ["SHARDWAVE_LIBRARY"] = os.path.join(BUILD, "libshardwave.so")

CLI = os.environ.get("SHARDWAVE_CLI", os.path.join(BUILD, "shardwave"))

TINY8 = {"hidden": 64, "layers": 2, "vocab": 1000, "multiple_of": 64}
QWEN = {"hidden": 32, "head_dim": 8, "layers": 2, "experts": 16, "moe_ffn": 16, "vocab": 500}
DSV3 = {"layers": 4, "dense": 1, "pp_train": 2, "ep_train": 4, "ep_inf": 2, "tp_inf": 2, "hidden": 64, "heads": 4,
        "q_lora": 32, "kv_lora": 16, "nope": 8, "rope": 8, "v_head": 8, "experts": 8, "moe_ffn": 32, "ffn": 64,
        "vocab": 300, "make_vocab_size_divisible_by": 8, "vllm_vocab_padding": 8, "block": 16}

# every example of the repository, every sync, at a size that runs in a second
TINY_EXAMPLES = [
    ("llama_tiny.yaml", "refit", {}),
    ("llama_tiny.yaml", "back", {}),
    ("llama_tiny.sw", "refit", {}),
    ("pipeline_tiny.yaml", "pp2_to_pp3", {}),
    ("pipeline_tiny.yaml", "pp3_to_pp2", {}),
    ("llama3-8b.yaml", "refit", TINY8),
    ("llama3-70b.yaml", "refit", {"hidden": 64, "layers": 4, "vocab": 1000, "multiple_of": 64}),
    ("qwen3-30b-a3b.yaml", "refit", QWEN),
    ("qwen3-30b-a3b.yaml", "refit_dp2", QWEN),
    ("deepseek-v3.yaml", "refit", DSV3),
]


def example_id(e):
    return f"{e[0]}:{e[1]}"


def have_mpi_build():
    """mpirun is there and the library was built with MPI."""
    if not shutil.which("mpirun") or not os.path.exists(CLI):
        return False
    r = subprocess.run([CLI, "run", "/dev/null", "--backend", "mpi"], capture_output=True, text=True)
    return "no MPI" not in r.stderr


MPI_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}


def child_env(**extra):
    """The environment for a child Python: this package and library, MPI allowed as root."""
    env = dict(os.environ)
    env.update(MPI_ENV)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(REPO, "python")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def sw():
    import shardwave
    return shardwave


@pytest.fixture(scope="session")
def tiny_plan(sw):
    return sw.compile(os.path.join(EXAMPLES, "llama_tiny.yaml"), sync="refit")
