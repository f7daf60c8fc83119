#!/usr/bin/env python3
"""Sync time from Python vs the CLI's `shardwave run` on the same plan, same backend (local),
same number of syncs: what the Python binding adds.  Runs the two alternately, ROUNDS times
each, and prints the median of each side's steady-state medians and their ratio.

  SHARDWAVE_LIBRARY=build/libshardwave.so PYTHONPATH=python python3 bench/bench_python.py
  options: --layout FILE --sync NAME -D NAME=VALUE ... --iters N --rounds R --cli build/shardwave
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
if "SHARDWAVE_LIBRARY" not in os.environ and os.path.exists(os.path.join(REPO, "build", "libshardwave.so")):
    os.environ["SHARDWAVE_LIBRARY"] = os.path.join(REPO, "build", "libshardwave.so")

import shardwave as sw  # noqa: E402
from shardwave import validate  # noqa: E402


def cli_median(cli, plan_path, iters):
    out = subprocess.run([cli, "run", plan_path, "--backend", "local", "--iters", str(iters)], check=True,
                         capture_output=True, text=True).stdout
    return float(re.search(r"steady state: median ([\d.]+) ms", out).group(1)) / 1e3


def python_median(plan_path, iters):
    """What the CLI does, from Python: load the plan, open a local session, bind zeroed
    arrays of every rank, sync `iters` times; the median of all but the first (warm-up)."""
    plan = sw.Plan.load(plan_path)
    with sw.Session(plan, backend="local") as s:
        s.bind_all({r: validate.allocate(plan, r) for r in plan.ranks}, strict=True)
        t = []
        for _ in range(iters):
            a = time.perf_counter()
            s.sync()
            t.append(time.perf_counter() - a)
    return statistics.median(t[1:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layout", default=os.path.join(REPO, "examples", "llama3-8b.yaml"))
    ap.add_argument("--sync", default="refit")
    ap.add_argument("-D", dest="defines", action="append", default=None)
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cli", default=os.path.join(REPO, "build", "shardwave"))
    a = ap.parse_args()
    defines = a.defines if a.defines is not None else ["hidden=512", "layers=4", "vocab=4096", "multiple_of=64"]
    plan = sw.compile(a.layout, sync=a.sync, defines={k: int(v) for k, v in (d.split("=") for d in defines)})
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "plan.swp")
        plan.save(path)
        print(f"plan: {os.path.basename(a.layout)} {' '.join('-D ' + d for d in defines)}: {plan}")
        print(f"backend local, {a.iters} syncs per run (the first is warm-up), {a.rounds} runs each, alternating")
        cli, py = [], []
        for r in range(a.rounds):
            cli.append(cli_median(a.cli, path, a.iters))
            py.append(python_median(path, a.iters))
            print(f"  run {r + 1}: CLI {cli[-1] * 1e3:.3f} ms, Python {py[-1] * 1e3:.3f} ms")
        c, p = statistics.median(cli), statistics.median(py)
        print(f"median sync: CLI `shardwave run` {c * 1e3:.3f} ms, Python Session.sync() {p * 1e3:.3f} ms, "
              f"ratio Python/CLI {p / c:.3f} ({(p / c - 1) * 100:+.1f}%)")


if __name__ == "__main__":
    main()
