"""One MPI process of test_mpi.py: the mpi backend from Python, MPI initialised by the
package (no mpi4py), this process's rank the MPI world rank, its tensors numpy arrays
checked element by element after every sync."""

import os
import sys

import shardwave as sw
from shardwave import validate

layout, sync, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
defines = dict((k, int(v)) for k, v in (a.split("=") for a in sys.argv[4:]))
plan = sw.compile(layout, sync=sync, defines=defines)
part = sw.Plan.from_bytes(plan.to_bytes(), rank=int(os.environ["OMPI_COMM_WORLD_RANK"]))  # one rank's part
with sw.Session(part, backend="mpi", timeout=60) as s:
    rank = s.rank
    ts = validate.allocate(part, rank)
    rep = s.bind_all(ts, strict=True)
    validate.poison_destinations(part, rank, ts)
    checked = 0
    for step in range(steps):
        validate.fill_sources(part, rank, ts, seed=step)
        s.sync()
        checked += validate.check_destinations(part, rank, ts, seed=step)
print(f"rank {rank}: {len(rep.bound)} tensors, {steps} syncs, {checked} elements checked", flush=True)
