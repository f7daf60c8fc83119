"""PyTorch helpers: bind a module's parameters and buffers by name, open an nccl session
whose communicator meets through a torch.distributed store or process group (no MPI),
pass torch's current CUDA stream, set and restore the CUDA device.

    import shardwave as sw, shardwave.torch as swt
    plan = sw.Plan.load("refit.swp", rank=rank)
    s = swt.connect(plan, rank, host=master_addr, port=master_port, world_size=n, device=local_rank)
    report = swt.bind_module(s, model)        # names the plan expects but the model lacks, and v.v.
    for step in ...:
        train_step()
        s.sync()                              # ordered on torch.cuda.current_stream()

The pattern is vLLM's (StatelessProcessGroup + PyNcclCommunicator) and SGLang's
(init_weights_update_group): the process with communicator rank 0 makes the NCCL unique
id, the others receive its 128 bytes through the store (or a broadcast), and every process
creates the communicator with them.  See docs/python.md.
"""

import contextlib
import datetime

import torch
import torch.distributed as dist

from . import _core, _cuda
from ._core import BindReport, Error, Session

DTYPES = {
    "bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32, "fp64": torch.float64,
    "fp8_e4m3": getattr(torch, "float8_e4m3fn", None), "fp8_e5m2": getattr(torch, "float8_e5m2", None),
    "int8": torch.int8, "uint8": torch.uint8, "int32": torch.int32, "int64": torch.int64,
}

UNIQUE_ID_KEY = "shardwave/{sync}/nccl_unique_id"


def torch_dtype(dtype):
    """The torch dtype of a layout dtype ("bf16" -> torch.bfloat16)."""
    t = DTYPES.get(dtype)
    if t is None:
        raise Error(-6, f"this torch has no dtype for '{dtype}'")
    return t


def module_tensors(module, buffers=True, prefix=""):
    """{name: tensor} of a module's parameters (tied ones under every name they have) and,
    with buffers=True, its buffers; `prefix` is put before every name."""
    out = {}
    for n, p in module.named_parameters(remove_duplicate=False):
        out[prefix + n] = p
    if buffers:
        for n, b in module.named_buffers(remove_duplicate=False):
            if b is not None:
                out.setdefault(prefix + n, b)
    return out


def check_module(plan, rank, module, buffers=True, prefix=""):
    """Compares a module's names with the local tensors the plan gives `rank`, binding
    nothing: BindReport(bound=names in both, missing=names the plan expects but the module
    lacks, unexpected=names the module has but the plan does not)."""
    have = module_tensors(module, buffers, prefix)
    want = plan._binding_names(rank)
    both = [n for n in have if plan._local(rank, n) is not None]
    got = {plan._local(rank, n) for n in both}
    missing = [n for n in want if plan._local(rank, n) not in got]
    unexpected = [n for n in have if plan._local(rank, n) is None]
    return BindReport(both, missing, unexpected)


def bind_module(session, module, buffers=True, prefix="", strict=False, rank=None):
    """Binds every parameter (and buffer) of `module` whose name the plan gives the
    session's rank.  Returns a BindReport: `missing` lists the names the plan expects but
    the module lacks, `unexpected` those the module has but the plan does not; strict=True
    raises Error when either is not empty.  With a local-backend session say whose module
    it is with rank=.  The tensors are bound in place: keep them where they are (a
    parameter replaced by `p.data = ...` must be bound again)."""
    tensors = module_tensors(module, buffers, prefix)
    if session.rank < 0:
        if rank is None:
            raise Error(-2, "bind_module: a local-backend session holds every rank: say whose module it is (rank=R)")
        tensors = {int(rank): tensors}
        rep = session.bind_all(tensors, strict=False)
        rep = BindReport([n for r, n in rep.bound], [n for r, n in rep.missing if r == rank],
                         [n for r, n in rep.unexpected])
    else:
        rep = session.bind_all(tensors, strict=False)
    if strict and (rep.missing or rep.unexpected):
        raise Error(-2, f"bind_module: {rep}")
    return rep


def allocate(plan, rank, device="cpu"):
    """Zeroed torch tensors for every local tensor of `rank` ({name: tensor}, the names
    bind takes)."""
    out = {}
    for name in plan._binding_names(rank):
        lt = plan._local(rank, name)
        out[name] = torch.zeros(lt.shape, dtype=torch_dtype(lt.dtype), device=device)
    return out


def current_stream(device=None):
    """torch's current CUDA stream (of `device`) as the cudaStream_t shardwave takes."""
    return torch.cuda.current_stream(device).cuda_stream


@contextlib.contextmanager
def cuda_device(index):
    """Makes CUDA device `index` current inside the block, restoring the previous one."""
    with _cuda.device(index):
        yield


def tcp_store(host, port, is_master, timeout=300.0):
    """A torch.distributed.TCPStore at host:port; the master process hosts it (the process
    with communicator rank 0), the others connect.  Nobody waits for the others here: a
    get() waits for its key."""
    return dist.TCPStore(host, int(port), None, bool(is_master), timeout=datetime.timedelta(seconds=timeout),
                         wait_for_workers=False)


def unique_id_from_store(store, is_source, key):
    """The NCCL unique id through a key-value store: the source makes it and sets `key`,
    every other process gets it (store.get waits for the key, up to the store's timeout)."""
    if is_source:
        uid = _core.nccl_unique_id()
        store.set(key, uid)
    else:
        uid = store.get(key)
    uid = bytes(uid)
    if len(uid) != _core._lib.NCCL_UNIQUE_ID_BYTES:
        raise Error(-7, f"the store's '{key}' holds {len(uid)} bytes, not an NCCL unique id")
    return uid


def unique_id_from_group(group=None, src=None):
    """The NCCL unique id through an existing torch.distributed process group: global rank
    `src` (None: the group's first) makes it and broadcasts it to the group."""
    if src is None:
        src = dist.get_process_group_ranks(group)[0] if group is not None else 0
    obj = [_core.nccl_unique_id() if dist.get_rank() == src else None]
    dist.broadcast_object_list(obj, src=src, group=group)
    return bytes(obj[0])


def connect(plan, rank, *, host=None, port=None, store=None, group=None, world_size=None, comm_rank_of=None,
            device=None, stream=None, key=None, timeout=None):
    """Opens the nccl session of plan rank `rank` without MPI: the processes meet through
    a TCPStore at host:port (hosted by the process with communicator rank 0), through a
    `store` the caller made, or through an existing process `group`'s broadcast.
    world_size: processes in the communicator (None: the plan's highest rank + 1);
    comm_rank_of: {plan rank: communicator rank} when the communicator is not 0..N-1 in
    plan order; device: the CUDA device (set while opening and syncing, then restored);
    stream: the stream syncs order against (None: torch's current stream at each sync).
    Collective: every process of the communicator calls it."""
    if comm_rank_of is not None:
        cmap = dict(comm_rank_of) if isinstance(comm_rank_of, dict) else dict(enumerate(comm_rank_of))
        me = cmap.get(rank)
        if me is None:
            raise Error(-2, f"connect: comm_rank_of has no communicator rank for plan rank {rank}")
    else:
        me = rank
    key = key or UNIQUE_ID_KEY.format(sync=plan.sync)
    with _cuda.device(device):
        if group is not None:
            uid = unique_id_from_group(group)
        else:
            if store is None:
                if host is None or port is None:
                    raise Error(-2, "connect: give host= and port= (or store= or group=)")
                store = tcp_store(host, port, is_master=(me == 0), timeout=timeout or 300.0)
            uid = unique_id_from_store(store, me == 0, key)
        s = Session(plan, rank, backend="nccl", unique_id=uid, stream=stream, comm_size=world_size,
                    comm_rank_of=comm_rank_of, device=device, timeout=timeout)
    s._store = store  # the store's server lives as long as the session (rank 0 hosts it)
    return s
