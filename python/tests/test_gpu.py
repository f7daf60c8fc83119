"""The nccl backend from Python on GPUs (marked gpu; skipped without torch, a CUDA device,
or a libshardwave whose sw_nccl_unique_id works)."""

import os
import socket
import subprocess
import sys

import pytest

from conftest import child_env

pytestmark = pytest.mark.gpu
torch = pytest.importorskip("torch", reason="torch is not installed")
if not torch.cuda.is_available():
    pytest.skip("no CUDA device", allow_module_level=True)

ONE = """shardwave: 1
model:
  name: one
  dtype: bf16
  tensors:
    - {name: w, shape: [64, 32]}
    - {name: n, shape: [32], dtype: fp32}
layouts:
  a:
    mesh: {tp: 1}
    place: [{tensor: w}, {tensor: n}]
  b:
    mesh: {tp: 1}
    place: [{tensor: w, dtype: fp8_e4m3}, {tensor: n}]
"""


def _uid_or_skip(sw):
    try:
        return sw.nccl_unique_id()
    except sw.Error as e:
        pytest.skip(f"no NCCL bootstrap in this libshardwave: {e}")


def test_one_process_cuda_tensors(sw):
    """A one-rank communicator from a unique id: CUDA tensors bound by torch dtype, a sync on
    torch's current stream, checked element by element."""
    import shardwave.torch as swt
    from shardwave import validate
    uid = _uid_or_skip(sw)
    plan = sw.compile_text(ONE, name="one.yaml")
    ts = swt.allocate(plan, 0, device="cuda:0")
    with sw.Session(plan, 0, backend="nccl", unique_id=uid, comm_size=1, device=0) as s:
        s.bind_all(ts, strict=True)
        with pytest.raises(sw.Error, match="host memory"):
            s.bind("a/n", torch.zeros(32))
        validate.poison_destinations(plan, 0, ts)
        for step in range(3):
            validate.fill_sources(plan, 0, ts, seed=step)
            s.sync()  # on torch.cuda.current_stream()
            torch.cuda.current_stream().synchronize()
            assert validate.check_destinations(plan, 0, ts, seed=step) == 64 * 32 + 32


def test_two_processes_two_gpus(sw, tmp_path):
    """The RL loop as two jobs launched separately that meet at 127.0.0.1:PORT."""
    _uid_or_skip(sw)
    if torch.cuda.device_count() < 2:
        pytest.skip("needs 2 GPUs")
    here = os.path.dirname(os.path.abspath(__file__))
    ex = os.path.join(os.path.dirname(os.path.dirname(here)), "examples", "python", "rl_loop.py")
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        port = so.getsockname()[1]
    text = ONE.replace("  b:\n    mesh: {tp: 1}", "  b:\n    first_rank: 1\n    mesh: {tp: 1}")
    layout = tmp_path / "two.yaml"
    layout.write_text(text)
    procs = [subprocess.Popen([sys.executable, ex, "--backend", "nccl", "--layout", str(layout), "--sync", "default",
                               "--rank", str(r), "--master", f"127.0.0.1:{port}", "--steps", "3"],
                              env=child_env(LOCAL_RANK=str(r)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for r in (0, 1)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert "all match" in outs[1], outs
