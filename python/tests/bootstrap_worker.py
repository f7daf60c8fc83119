"""One process of the store-bootstrap test (test_bootstrap.py): meets the other through a
TCPStore (or a gloo process group), gets the NCCL unique id, and opens its nccl session;
the NCCL calls are replaced (this machine may have no GPU) and what reached them is
written as JSON."""

import ctypes
import json
import sys

import shardwave as sw
import shardwave.torch as swt
from shardwave import _core
from test_plan import TWO

mode, rank, port, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
made = []
FAKE_ID = bytes((i * 37 + 11) % 256 for i in range(128))  # what ncclGetUniqueId would make


def fake_unique_id():
    made.append(1)
    return FAKE_ID


def fake_open(plan, r, kind, opts):
    seen = dict(rank=r, kind=kind, comm_size=opts.comm_size, timeout=opts.timeout_s,
                uid=bytes((ctypes.c_ubyte * 128).from_address(opts.nccl_unique_id)).hex(),
                comm_rank_of=[opts.comm_rank_of[i] for i in range(opts.ncomm_rank_of)], made_id=len(made))
    json.dump(seen, open(out, "w"))
    return 1


_core.nccl_unique_id = fake_unique_id
_core._session_open = fake_open
plan = sw.compile_text(TWO, name="two.yaml")
cmap = {0: 1, 1: 0}  # plan rank 1 is communicator rank 0: it makes the id (and hosts the store)
if mode == "store":
    s = swt.connect(plan, rank, host="127.0.0.1", port=port, world_size=2, comm_rank_of=cmap, timeout=30)
else:
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=cmap[rank], world_size=2)
    s = swt.connect(plan, rank, group=dist.group.WORLD, world_size=2, comm_rank_of=cmap, timeout=30)
    dist.barrier()
    dist.destroy_process_group()
s._h = None  # the fake handle is never closed
if mode == "store":
    s._store.set(f"done/{rank}", b"1")  # the store's host stays up until the other got the id
    s._store.wait([f"done/{1 - rank}"])
