#!/usr/bin/env python3
"""An RL post-training loop, reduced to its weight sync: a trainer job updates its shards
of the model every step and an inference job must see exactly the new weights before it
generates again.  Each side binds its model's named_parameters() (a torch module whose
names are the layout's: Megatron-Core's on the trainer, vLLM's on the engine) or, without
torch, a dict of numpy arrays; after every step one sync moves the weights, and the engine
checks every element against the layouts (shardwave.validate).

On CPU:
  # one process: every trainer and engine rank a thread (the local backend)
  python examples/python/rl_loop.py --backend local --steps 3
  # two jobs in one MPI world: 4 trainer processes and 4 engine processes
  mpirun -np 4 python examples/python/rl_loop.py --backend mpi --role trainer : \\
         -np 4 python examples/python/rl_loop.py --backend mpi --role engine
On GPUs (nccl): two jobs launched separately that meet at host:port, as with vLLM's
StatelessProcessGroup or SGLang's init_weights_update_group(master_address, master_port,
rank_offset, world_size):
  torchrun --nproc-per-node 4 examples/python/rl_loop.py --backend nccl --role trainer --master HOST:29555
  torchrun --nproc-per-node 4 examples/python/rl_loop.py --backend nccl --role engine --master HOST:29555 --rank-offset 4
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

import shardwave as sw  # noqa: E402
from shardwave import validate  # noqa: E402

torch = swt = None  # imported in main() unless --numpy


def import_torch():
    global torch, swt
    try:
        import torch as t
        import shardwave.torch as st
    except ImportError:
        return
    torch, swt = t, st


def build_model(plan, rank, device):
    """A torch module whose named_parameters() are `rank`'s local tensors (the names the
    layout gives them), zeroed; or a dict of numpy arrays without torch."""
    if torch is None:
        return validate.allocate(plan, rank)
    root = torch.nn.Module()
    for name in plan._binding_names(rank):
        lt = plan._local(rank, name)
        *path, leaf = name.split(".")
        m = root
        for part in path:
            if not hasattr(m, part):
                m.add_module(part, torch.nn.Module())
            m = getattr(m, part)
        p = torch.zeros(lt.shape, dtype=swt.torch_dtype(lt.dtype), device=device)
        m.register_parameter(leaf, torch.nn.Parameter(p, requires_grad=lt.dtype in ("bf16", "fp16", "fp32")))
    return root


def tensors_of(model):
    return swt.module_tensors(model) if torch is not None else model


def role_of(plan, rank):
    roles = {lt.role for lt in plan.local_tensors(rank)}
    return "trainer" if roles == {"src"} else "engine" if roles == {"dst"} else "both" if roles else "idle"


def train_step(plan, rank, model, step):
    """Stands for forward, backward and the optimizer: the weights become step's values."""
    if torch is not None:
        with torch.no_grad():
            validate.fill_sources(plan, rank, tensors_of(model), seed=step)
    else:
        validate.fill_sources(plan, rank, model, seed=step)


def parse_defines(ds):
    out = {}
    for d in ds or []:
        k, _, v = d.partition("=")
        out[k] = int(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layout", default=os.path.join(REPO, "examples", "llama_tiny.yaml"))
    ap.add_argument("--sync", default="refit")
    ap.add_argument("-D", dest="defines", action="append", metavar="NAME=VALUE")
    ap.add_argument("--backend", choices=["local", "mpi", "nccl"], default="local")
    ap.add_argument("--role", choices=["trainer", "engine", "both"], default=None)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--master", default=None, help="HOST:PORT where the nccl jobs meet (the trainer's rank 0 hosts it)")
    ap.add_argument("--rank", type=int, default=None, help="this process's global rank (default: $RANK + --rank-offset)")
    ap.add_argument("--rank-offset", type=int, default=0)
    ap.add_argument("--numpy", action="store_true", help="numpy arrays even when torch is there")
    args = ap.parse_args()
    if not args.numpy:
        import_torch()

    # every process compiles the same plan (or loads a .swp); compiling is deterministic
    if args.layout.endswith(".swp"):
        plan = sw.Plan.load(args.layout)
    else:
        plan = sw.compile(args.layout, sync=args.sync, defines=parse_defines(args.defines))
    kind = "torch modules" if torch is not None else "numpy arrays"

    if args.backend == "local":
        # one process holds every rank: the trainer's and the engine's modules
        models = {r: build_model(plan, r, "cpu") for r in plan.ranks}
        with sw.Session(plan, backend="local") as s:
            if torch is not None:
                for r, m in models.items():
                    swt.bind_module(s, m, rank=r, strict=True)
            else:
                s.bind_all(models, strict=True)
            for r, m in models.items():
                if role_of(plan, r) == "engine":
                    validate.poison_destinations(plan, r, tensors_of(m))
            times = []
            for step in range(1, args.steps + 1):
                for r, m in models.items():
                    if role_of(plan, r) == "trainer":
                        train_step(plan, r, m, step)
                t0 = time.perf_counter()
                s.sync()
                times.append(time.perf_counter() - t0)
                checked = sum(validate.check_destinations(plan, r, tensors_of(m), seed=step)
                              for r, m in models.items() if role_of(plan, r) == "engine")
                print(f"step {step}/{args.steps}: synced {plan.from_layout} -> {plan.to_layout} "
                      f"({len(plan.ranks)} ranks, {kind}) in {times[-1] * 1e3:.3f} ms; "
                      f"engine checked {checked} elements: all match", flush=True)
        print(f"rl_loop: {args.steps} steps, backend local, validated after every step")
        return 0

    # one process per rank: the trainer's and the engine's
    if args.rank is not None:
        rank = args.rank
    elif args.backend == "nccl":
        rank = int(os.environ.get("RANK", "0")) + args.rank_offset
    else:
        rank = None  # the MPI world rank
    device = "cpu"
    if args.backend == "nccl":
        if torch is None:
            sys.exit("rl_loop: the nccl backend needs torch")
        local = int(os.environ.get("LOCAL_RANK", rank % max(torch.cuda.device_count(), 1)))
        device = f"cuda:{local}"
        if not args.master:
            sys.exit("rl_loop: --backend nccl needs --master HOST:PORT")
        host, port = args.master.rsplit(":", 1)
        s = swt.connect(plan, rank, host=host, port=int(port), world_size=plan.max_rank + 1, device=local)
    else:
        s = sw.Session(plan, rank, backend=args.backend)
        rank = s.rank
    role = role_of(plan, rank)
    if args.role and role not in (args.role, "idle"):
        sys.exit(f"rl_loop: rank {rank} holds {role} tensors in plan {plan.sync}, but was started as --role {args.role}")
    model = build_model(plan, rank, device)
    with s:
        rep = swt.bind_module(s, model) if torch is not None else s.bind_all(model)
        if rep.missing or rep.unexpected:
            sys.exit(f"rl_loop: rank {rank}: {rep}")
        if role == "engine":
            validate.poison_destinations(plan, rank, tensors_of(model))
        times, checked = [], 0
        for step in range(1, args.steps + 1):
            if role == "trainer":
                train_step(plan, rank, model, step)
            t0 = time.perf_counter()
            s.sync()
            if args.backend == "nccl":
                torch.cuda.current_stream().synchronize()
            times.append(time.perf_counter() - t0)
            if role == "engine":
                checked = validate.check_destinations(plan, rank, tensors_of(model), seed=step)
        what = f"{checked} elements checked after each: all match" if role == "engine" else "weights updated before each"
        print(f"{role} rank {rank}: {args.steps} steps, backend {args.backend}, {kind}, "
              f"sync median {statistics.median(times) * 1e3:.3f} ms; {what}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
