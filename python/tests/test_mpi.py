"""The mpi backend from Python under `mpirun -np N python ...` (skipped when mpirun or the
library's MPI is missing): element-by-element checks on every rank, and the RL-loop
example as two MPI jobs (trainer and engine) in one world."""

import os
import re
import subprocess
import sys

import pytest

from conftest import EXAMPLES, REPO, child_env, have_mpi_build

pytestmark = [pytest.mark.mpi,
              pytest.mark.skipif(not have_mpi_build(), reason="no mpirun, or libshardwave built without MPI")]

HERE = os.path.dirname(os.path.abspath(__file__))


def _mpirun(np_, args, timeout=180):
    cmd = ["mpirun", "--oversubscribe", "-np", str(np_), sys.executable] + args
    r = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


@pytest.mark.parametrize("layout,sync,np_", [("llama_tiny.yaml", "refit", 8), ("pipeline_tiny.yaml", "pp2_to_pp3", 7)])
def test_mpi_backend_checked(sw, layout, sync, np_):
    from shardwave import validate
    plan = sw.compile(os.path.join(EXAMPLES, layout), sync=sync)
    assert plan.max_rank + 1 == np_
    out = _mpirun(np_, [os.path.join(HERE, "mpi_worker.py"), os.path.join(EXAMPLES, layout), sync, "2"])
    got = {int(m.group(1)): (int(m.group(2)), int(m.group(3)))
           for m in re.finditer(r"rank (\d+): (\d+) tensors, 2 syncs, (\d+) elements checked", out)}
    assert sorted(got) == list(range(np_)), out
    # as many elements as the local backend's run of the same plan writes, twice
    with sw.Session(plan) as s:
        s.bind_all({r: validate.allocate(plan, r) for r in plan.ranks}, strict=True)
        s.validation_fill()
        s.sync()
        assert sum(c for _, c in got.values()) == 2 * s.validation_check()
    for r, (n, _) in got.items():
        assert n == len(plan.local_tensors(r))


def test_rl_loop_two_mpi_jobs():
    ex = os.path.join(REPO, "examples", "python", "rl_loop.py")
    cmd = ["mpirun", "--oversubscribe", "-np", "4", sys.executable, ex, "--backend", "mpi", "--role", "trainer",
           "--numpy", "--steps", "3", ":", "-np", "4", sys.executable, ex, "--backend", "mpi", "--role", "engine",
           "--numpy", "--steps", "3"]
    r = subprocess.run(cmd, env=child_env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    # non-greedy: mpirun may join two ranks' lines ("... all matchengine rank 7: ...")
    engines = re.findall(r"engine rank (\d+): 3 steps, backend mpi, numpy arrays, .*? (\d+) elements checked after "
                         r"each: all match", r.stdout)
    trainers = re.findall(r"trainer rank (\d+): 3 steps, backend mpi", r.stdout)
    assert sorted(int(e[0]) for e in engines) == [4, 5, 6, 7], r.stdout
    assert sorted(int(t) for t in trainers) == [0, 1, 2, 3], r.stdout
    assert sum(int(e[1]) for e in engines) == 11264
