"""The nccl bootstrap without MPI, up to the NCCL call: two processes launched separately
meet at 127.0.0.1:PORT through a TCPStore (or a gloo process group), the one with
communicator rank 0 makes the unique id, its 128 bytes reach the other intact, and both
open their session with the right arguments (ncclGetUniqueId and sw_session_open are
replaced: this runs on machines without a GPU)."""

import json
import os
import socket
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="torch is not installed: the torch.distributed bootstrap is not tested")

from conftest import child_env  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FAKE_ID = bytes((i * 37 + 11) % 256 for i in range(128))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode", ["store", "group"])
def test_two_processes_meet(mode, tmp_path):
    port = _free_port()
    env = child_env(PYTHONPATH=os.pathsep.join([child_env()["PYTHONPATH"], HERE]))
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "bootstrap_worker.py"), mode, str(r), str(port),
                               str(tmp_path / f"r{r}.json")], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for r in (0, 1)]  # plan rank 0 starts first but is communicator rank 1: it waits for the id
    outs = [p.communicate(timeout=120)[0] for p in procs]
    for r, p in enumerate(procs):
        assert p.returncode == 0, f"plan rank {r}:\n{outs[r]}"
    seen = [json.load(open(tmp_path / f"r{r}.json")) for r in (0, 1)]
    for r in (0, 1):
        assert seen[r]["rank"] == r and seen[r]["kind"] == 2  # SW_BACKEND_NCCL
        assert bytes.fromhex(seen[r]["uid"]) == FAKE_ID  # intact, on both sides
        assert seen[r]["comm_size"] == 2 and seen[r]["comm_rank_of"] == [1, 0]
        assert seen[r]["timeout"] == 30.0
    assert [seen[0]["made_id"], seen[1]["made_id"]] == [0, 1]  # only communicator rank 0 made it
