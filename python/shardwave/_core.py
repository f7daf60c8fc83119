"""Plans, sessions and errors: the C API of include/shardwave.h, one Python call each."""

import ctypes
import os
import re
import sys
from typing import NamedTuple, Tuple

from . import _arrays, _lib
from ._lib import c_int, c_int32, c_int64, c_size_t, c_uint64, c_void_p


class Error(Exception):
    """A shardwave error.  ``str(e)`` is what the CLI prints: ``FILE:LINE:COL: error: MSG``
    when the input caused it, else ``shardwave: error: MSG``.

    Attributes: ``status`` (the negative sw_status code), ``status_name`` ("INPUT", "USAGE",
    "UNSUPPORTED", ...), ``file``, ``line``, ``col`` (``""``/0 when there is no position) and
    ``message`` (the message alone)."""

    def __init__(self, status, message, file="", line=0, col=0, formatted=None):
        self.status = int(status)
        self.status_name = _lib.STATUS.get(self.status, str(self.status))
        self.message = message
        self.file, self.line, self.col = file, line, col
        if formatted is None:
            formatted = (f"{file}:{line}:{col}: error: {message}" if file and line
                         else f"shardwave: error: {message}")
        super().__init__(formatted)


def _error_from(err):
    buf = ctypes.create_string_buffer(4096)
    _lib.load().sw_error_format(ctypes.byref(err), buf, len(buf))
    return Error(err.status or -13, err.msg.decode(errors="replace"), err.file.decode(errors="replace"),
                 err.line, err.col, buf.value.decode(errors="replace"))


def _check(rc, err):
    if rc != 0:
        if err.status == 0:  # a call that failed without filling the error
            err.status = rc
            err.msg = _lib.STATUS.get(rc, "error").lower().encode()
        raise _error_from(err)


def _usage(msg):
    return Error(-2, msg)


def _s(b):
    return None if b is None else b.decode()


# ---- plans ----------------------------------------------------------------------------

class LocalTensor(NamedTuple):
    """A local tensor one rank binds: its name, shape, dtype (the layout language's:
    "bf16", "fp32", ...) and role: "src" (read by the sync) or "dst" (written)."""
    name: str
    shape: Tuple[int, ...]
    dtype: str
    role: str

    @property
    def nbytes(self):
        n = _arrays.DTYPES[self.dtype][0]
        for d in self.shape:
            n *= d
        return n


class Piece(NamedTuple):
    """A box of a logical tensor stored in a local tensor: logical index x (x[k] in
    start[k] .. start[k] + size[k] - 1) sits at local index base[j] + x[map[j]] for each
    local dim j (map[j] == -1: a stacked dim, whose index is base[j]).  ``skipped``: the
    sync does not transfer this tensor."""
    tensor: str
    dtype: str
    shape: Tuple[int, ...]
    start: Tuple[int, ...]
    size: Tuple[int, ...]
    map: Tuple[int, ...]
    base: Tuple[int, ...]
    skipped: bool


class Plan:
    """A compiled sync plan (``sw.compile``, ``Plan.load``).  Sessions keep their plan
    alive; ``close()`` (or garbage collection) frees it."""

    def __init__(self, handle):
        if not handle:
            raise _usage("Plan: no plan (use shardwave.compile or Plan.load)")
        self._h = c_void_p(handle)
        self._locals_cache = {}
        info = _lib.sw_plan_info()
        err = _lib.sw_error()
        _check(_lib.load().sw_plan_get_info(self._h, ctypes.byref(info), ctypes.byref(err)), err)
        self.model = _s(info.model)
        self.sync = _s(info.sync)
        self.from_layout = _s(info.from_)
        self.to_layout = _s(info.to)
        self.nranks = info.nranks
        self.max_rank = info.max_rank
        self.only_rank = None if info.only_rank < 0 else info.only_rank
        self.nwaves = info.nwaves
        self.ntasks = int(info.ntasks)
        self.predicted_s = info.predicted_s
        self.lower_bound_s = info.lower_bound_s
        n = _lib.load().sw_plan_ranks(self._h, None, 0)
        arr = (c_int * max(n, 1))()
        _lib.load().sw_plan_ranks(self._h, arr, n)
        self._ranks = [arr[i] for i in range(n)]

    @classmethod
    def load(cls, path, rank=None):
        """Reads a plan file; ``rank=R`` reads only the header and rank R's section (such a
        plan opens sessions of rank R only)."""
        lib, h, err = _lib.load(), c_void_p(), _lib.sw_error()
        p = os.fsencode(path)
        if rank is None:
            rc = lib.sw_plan_load(ctypes.byref(h), p, ctypes.byref(err))
        else:
            rc = lib.sw_plan_load_rank(ctypes.byref(h), p, int(rank), ctypes.byref(err))
        _check(rc, err)
        return cls(h.value)

    @classmethod
    def from_bytes(cls, data, rank=None):
        """A plan from the bytes of a plan file (e.g. what rank 0 compiled and broadcast)."""
        data = bytes(data)
        lib, h, err = _lib.load(), c_void_p(), _lib.sw_error()
        _check(lib.sw_plan_load_mem(ctypes.byref(h), data, len(data), -1 if rank is None else int(rank),
                                    ctypes.byref(err)), err)
        return cls(h.value)

    def _handle(self):
        if self._h is None or not self._h.value:
            raise _usage("this plan is closed")
        return self._h

    def save(self, path):
        err = _lib.sw_error()
        _check(_lib.load().sw_plan_save(self._handle(), os.fsencode(path), ctypes.byref(err)), err)

    def to_bytes(self):
        """The plan file's bytes."""
        buf, n, err = c_void_p(), c_size_t(), _lib.sw_error()
        lib = _lib.load()
        _check(lib.sw_plan_serialize(self._handle(), ctypes.byref(buf), ctypes.byref(n), ctypes.byref(err)), err)
        try:
            return ctypes.string_at(buf.value, n.value)
        finally:
            lib.sw_free(buf)

    @property
    def ranks(self):
        """The sorted global ranks the plan uses."""
        return list(self._ranks)

    def _tensor_infos(self, rank):
        """(LocalTensor, layout) of every local tensor of `rank`, cached."""
        got = self._locals_cache.get(rank)
        if got is not None:
            return got
        lib, n, err = _lib.load(), c_size_t(), _lib.sw_error()
        _check(lib.sw_plan_tensors(self._handle(), int(rank), None, 0, ctypes.byref(n), ctypes.byref(err)), err)
        arr = (_lib.sw_tensor_info * max(n.value, 1))()
        _check(lib.sw_plan_tensors(self._handle(), int(rank), arr, n.value, ctypes.byref(n), ctypes.byref(err)), err)
        out = []
        for t in arr[:n.value]:
            lt = LocalTensor(t.name.decode(), tuple(t.shape[:t.ndim]), t.dtype.decode(),
                             "src" if t.is_source else "dst")
            out.append((lt, t.layout.decode()))
        index = {}
        for lt, layout in out:
            index.setdefault(lt.name, []).append(lt)
            index[f"{layout}/{lt.name}"] = [lt]
        got = (out, index)
        self._locals_cache[rank] = got
        return got

    def local_tensors(self, rank):
        """The local tensors global rank `rank` binds (sources first, then destinations,
        each sorted by name); [] for a rank the plan does not use."""
        return [lt for lt, _ in self._tensor_infos(rank)[0]]

    def _local(self, rank, name):
        """The LocalTensor `name` ("NAME" or "LAYOUT/NAME") of `rank`, None when unknown or
        ambiguous."""
        hit = self._tensor_infos(rank)[1].get(name)
        return hit[0] if hit and len(hit) == 1 else None

    def _binding_names(self, rank):
        """The names a caller binds `rank`'s tensors by: NAME, or LAYOUT/NAME for a name
        the rank holds in both layouts."""
        out, index = self._tensor_infos(rank)
        return [lt.name if len(index[lt.name]) == 1 else f"{layout}/{lt.name}" for lt, layout in out]

    def pieces(self, rank, name):
        """The pieces of local tensor `name` of `rank` (list of Piece)."""
        lib, n, err = _lib.load(), c_size_t(), _lib.sw_error()
        nm = name.encode()
        _check(lib.sw_plan_pieces(self._handle(), int(rank), nm, None, 0, ctypes.byref(n), ctypes.byref(err)), err)
        arr = (_lib.sw_piece_info * max(n.value, 1))()
        _check(lib.sw_plan_pieces(self._handle(), int(rank), nm, arr, n.value, ctypes.byref(n),
                                  ctypes.byref(err)), err)
        out = []
        for p in arr[:n.value]:
            out.append(Piece(p.tensor.decode(), p.dtype.decode(), tuple(p.shape[:p.ndim]),
                             tuple(p.start[:p.ndim]), tuple(p.size[:p.ndim]), tuple(p.map[:p.local_ndim]),
                             tuple(p.base[:p.local_ndim]), bool(p.skipped)))
        return out

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h is not None and h.value and _lib is not None and _lib._lib is not None:
            _lib._lib.sw_plan_free(h)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        part = "" if self.only_rank is None else f", rank {self.only_rank} only"
        return (f"<shardwave.Plan {self.sync}: {self.from_layout} -> {self.to_layout}, model {self.model}, "
                f"{self.nranks} ranks, {self.ntasks} tasks in {self.nwaves} waves{part}>")


_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def _bytes(v):
    if isinstance(v, int):
        return v
    m = re.fullmatch(r"\s*(\d+)\s*([A-Za-z]*)\s*", str(v))
    if not m or m.group(2).lower() not in _UNITS:
        raise _usage(f"bucket: '{v}' is not a size (e.g. 67108864, '64MiB')")
    return int(m.group(1)) * _UNITS[m.group(2).lower()]


def _compile_options(sync, defines, bucket, scheduler, no_relay, keep):
    o = _lib.sw_compile_options()
    o.struct_size = ctypes.sizeof(o)
    o.sync = sync.encode() if sync else None
    if defines:
        arr = (_lib.sw_define * len(defines))()
        for i, (k, v) in enumerate(defines.items()):
            if isinstance(v, bool) or not isinstance(v, int):
                raise _usage(f"define {k}={v!r}: let constants are integers")
            kb = str(k).encode()
            keep.append(kb)
            arr[i].name, arr[i].value = kb, v
        keep.append(arr)
        o.defines, o.ndefines = arr, len(defines)
    o.bucket = 0 if bucket is None else _bytes(bucket)
    o.scheduler = scheduler.encode() if scheduler else None
    o.no_relay = 1 if no_relay else 0
    return o


def compile(path, sync=None, defines=None, bucket=None, scheduler=None, no_relay=False):
    """Compiles a layout file (YAML or the DSL) into a Plan: what ``shardwave compile``
    does.  ``sync``: the sync to compile (None: the file's first); ``defines``: overrides of
    ``let`` constants ({"hidden": 256}); ``bucket``: staging bytes per rank per wave (int or
    "64MiB"); ``scheduler``: "optimal" (default), "greedy", "naive", "broadcast".  Input
    errors raise Error with the file, line and column."""
    keep = []
    o = _compile_options(sync, defines, bucket, scheduler, no_relay, keep)
    h, err = c_void_p(), _lib.sw_error()
    _check(_lib.load().sw_compile_file(ctypes.byref(h), os.fsencode(path), ctypes.byref(o), ctypes.byref(err)), err)
    return Plan(h.value)


def compile_text(text, name="layout.yaml", sync=None, defines=None, bucket=None, scheduler=None, no_relay=False):
    """The same from text; ``name`` stands for the file in messages and picks the syntax
    (".sw": the DSL, ".yaml": YAML)."""
    keep = []
    o = _compile_options(sync, defines, bucket, scheduler, no_relay, keep)
    data = text.encode() if isinstance(text, str) else bytes(text)
    h, err = c_void_p(), _lib.sw_error()
    _check(_lib.load().sw_compile_text(ctypes.byref(h), name.encode(), data, len(data), ctypes.byref(o),
                                       ctypes.byref(err)), err)
    return Plan(h.value)


def nccl_unique_id():
    """A new NCCL unique id (ncclGetUniqueId) as SW_NCCL_UNIQUE_ID_BYTES (128) bytes, to
    ship to every process of the communicator (a TCPStore, a broadcast).  Raises Error
    (UNSUPPORTED) in a build or on a machine without NCCL."""
    buf = ctypes.create_string_buffer(_lib.NCCL_UNIQUE_ID_BYTES)
    err = _lib.sw_error()
    _check(_lib.load().sw_nccl_unique_id(buf, len(buf), ctypes.byref(err)), err)
    return buf.raw


# ---- sessions --------------------------------------------------------------------------

def _stream_handle(stream):
    """A cudaStream_t as an int from None, an int, a torch.cuda.Stream (.cuda_stream) or a
    CuPy stream (.ptr)."""
    if stream is None:
        return None
    if isinstance(stream, int):
        return stream
    for attr in ("cuda_stream", "ptr", "handle"):
        v = getattr(stream, attr, None)
        if isinstance(v, int):
            return v
    raise _usage(f"stream: cannot read a cudaStream_t from a {type(stream).__name__} "
                 "(an int, a torch.cuda.Stream or a CuPy stream is needed)")


def _torch_current_stream():
    """torch's current CUDA stream when torch is imported and CUDA is initialised, else None."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return torch.cuda.current_stream().cuda_stream


def _session_open(plan_handle, rank, backend_kind, opts):
    """sw_session_open: the one place a session is opened (the tests of the store
    bootstrap replace it to see its arguments on machines without NCCL)."""
    h, err = c_void_p(), _lib.sw_error()
    _check(_lib.load().sw_session_open(ctypes.byref(h), plan_handle, int(rank), int(backend_kind),
                                       ctypes.byref(opts), ctypes.byref(err)), err)
    return h.value


class BindReport(NamedTuple):
    """What bind_all / bind_module did: ``bound`` (names bound by this call), ``missing``
    (names the plan expects of the rank that are still unbound), ``unexpected`` (names
    given that the plan does not have).  Names are strings; with a local-backend session
    (every rank) they are (rank, name) pairs."""
    bound: list
    missing: list
    unexpected: list

    def __str__(self):
        def few(xs):
            xs = [x if isinstance(x, str) else f"rank {x[0]}: {x[1]}" for x in xs]
            return ", ".join(xs[:8]) + (f" ... ({len(xs)} in all)" if len(xs) > 8 else "")
        parts = [f"{len(self.bound)} bound"]
        if self.missing:
            parts.append(f"{len(self.missing)} the plan expects but were not given: {few(self.missing)}")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} given that the plan does not have: {few(self.unexpected)}")
        return "; ".join(parts)


class Session:
    """One process's part of a sync (or, with the local backend, every rank's).

    ``rank``: the global rank of this process; None with the local backend (every rank of
    the plan, each a thread) and, with mpi, the MPI world rank.  ``backend``: "local",
    "mpi" (MPI is initialised here when nobody did) or "nccl".  nccl without MPI:
    ``unique_id`` (the 128 bytes from nccl_unique_id(), shipped to every process),
    ``comm_size`` (processes in the communicator; None: the plan's highest rank + 1) and
    ``comm_rank_of`` (plan rank -> communicator rank, a dict or a list; None: the same).
    ``stream``: the CUDA stream syncs order against (an int, a torch.cuda.Stream); without
    it a sync uses torch's current stream when torch has initialised CUDA.  ``device``:
    the CUDA device made current while opening, syncing and closing (restored after).
    ``timeout``: seconds a sync waits on a peer (None: 60).  Also a context manager."""

    def __init__(self, plan, rank=None, backend="local", unique_id=None, stream=None, *, timeout=None,
                 zero_padding=False, comm_size=None, comm_rank_of=None, mpi_comm=None, nccl_comm=None,
                 device=None):
        self._h = None
        if not isinstance(plan, Plan):
            raise _usage(f"Session: a shardwave.Plan is needed, not a {type(plan).__name__}")
        if backend not in _lib.BACKENDS:
            raise _usage(f"unknown backend '{backend}' (local, mpi or nccl)")
        self.plan, self.backend = plan, backend
        self._bound = {}
        self._keep = []
        self._device = device
        self._stream = _stream_handle(stream)
        if backend == "local":
            if rank not in (None, -1):
                raise _usage(f"the local backend runs every rank of the plan in one session: open it with "
                             f"rank=None, not {rank}")
            rank = -1
        elif backend == "mpi" or (backend == "nccl" and unique_id is None and nccl_comm is None):
            from . import _mpi
            _mpi.ensure_init()
            if rank is None:
                rank = _mpi.world_rank(mpi_comm)
        if rank is None:
            raise _usage(f"the {backend} backend needs this process's global rank: Session(plan, rank=R, ...)")
        self.rank = int(rank)
        o = _lib.sw_session_opts()
        o.struct_size = ctypes.sizeof(o)
        o.timeout_s = float(timeout or 0)
        o.zero_padding = 1 if zero_padding else 0
        if mpi_comm is not None:
            from . import _mpi
            o.mpi_comm = _mpi.comm_address(mpi_comm)
        if nccl_comm is not None:
            o.nccl_comm = int(nccl_comm)
        if self._stream is not None:
            o.cuda_stream = self._stream
        if unique_id is not None:
            uid = bytes(unique_id)
            if len(uid) != _lib.NCCL_UNIQUE_ID_BYTES:
                raise _usage(f"unique_id: {len(uid)} bytes; an NCCL unique id is {_lib.NCCL_UNIQUE_ID_BYTES} "
                             "(shardwave.nccl_unique_id())")
            ubuf = ctypes.create_string_buffer(uid, len(uid))
            self._keep.append(ubuf)
            o.nccl_unique_id = ctypes.cast(ubuf, c_void_p)
        if comm_size is not None:
            o.comm_size = int(comm_size)
        if comm_rank_of is not None:
            arr = self._rank_map(comm_rank_of, comm_size)
            self._keep.append(arr)
            o.comm_rank_of, o.ncomm_rank_of = ctypes.cast(arr, ctypes.POINTER(c_int32)), len(arr)
        self._opts = o
        from . import _cuda
        with _cuda.device(device if backend == "nccl" else None):
            self._h = c_void_p(_session_open(plan._handle(), self.rank, _lib.BACKENDS[backend], o))

    def _rank_map(self, comm_rank_of, comm_size):
        """comm_rank_of as the C array: index plan rank, value communicator rank (-1: none)."""
        if isinstance(comm_rank_of, dict):
            items = {int(k): int(v) for k, v in comm_rank_of.items()}
        else:
            items = {i: int(v) for i, v in enumerate(comm_rank_of)}
        lacking = [r for r in self.plan.ranks if r not in items]
        if lacking:
            raise _usage(f"comm_rank_of: plan rank{'s' if len(lacking) > 1 else ''} "
                         f"{', '.join(map(str, lacking[:8]))} {'have' if len(lacking) > 1 else 'has'} "
                         "no communicator rank")
        n = max(items) + 1 if items else 0
        arr = (c_int32 * max(n, 1))(*([-1] * max(n, 1)))
        seen = {}
        for k, v in items.items():
            if k < 0 or v < 0 or (comm_size is not None and v >= comm_size):
                raise _usage(f"comm_rank_of: plan rank {k} -> communicator rank {v} is out of range"
                             + (f" (comm_size {comm_size})" if comm_size is not None else ""))
            if v in seen:
                raise _usage(f"comm_rank_of: plan ranks {seen[v]} and {k} both map to communicator rank {v}")
            seen[v] = k
            arr[k] = v
        return arr

    def _handle(self):
        if self._h is None or not self._h.value:
            raise _usage("this session is closed")
        return self._h

    @property
    def warmup_s(self):
        """Seconds the backend's warm-up took at open (nccl), else 0."""
        return _lib.load().sw_session_warmup_s(self._handle())

    def bind(self, name, array, rank=None):
        """Binds local tensor `name` ("NAME", or "LAYOUT/NAME" when the rank holds NAME in
        both layouts) to `array`: a numpy array (uint16 for bf16, uint8 for fp8), a torch
        tensor or a __cuda_array_interface__ object.  Its dtype, shape, contiguity and
        device are checked against the plan; an Error names the tensor and what differs.
        The memory is used in place and must stay alive and in place while bound (the
        session keeps a reference).  ``rank``: needed with the local backend."""
        h = self._handle()
        if rank is None:
            if self.rank < 0:
                raise _usage(f"a local-backend session holds every rank: bind('{name}', array, rank=R)")
            rank = self.rank
        rank = int(rank)
        if 0 <= self.rank != rank:
            raise _usage(f"this session is rank {self.rank}'s; cannot bind a tensor of rank {rank}")
        try:
            d = _arrays.describe(array, name)
        except TypeError as e:
            raise _usage(f"rank {rank}: {e}") from None
        lt = self.plan._local(rank, name)
        dtype = d.dtype
        if lt is not None and (d.dtype == lt.dtype or lt.dtype in d.stands_for):
            dtype = lt.dtype
        if lt is not None and lt.role == "dst" and not d.writable:
            raise _usage(f"'{name}' of rank {rank} is written by the sync, but the array given is read-only")
        shape = (c_int64 * max(len(d.shape), 1))(*d.shape)
        desc = _lib.sw_tensor_desc()
        desc.struct_size = ctypes.sizeof(desc)
        desc.data = d.data
        desc.dtype = dtype.encode()
        desc.ndim = len(d.shape)
        desc.shape = shape
        if d.strides is not None:
            desc.strides = (c_int64 * max(len(d.strides), 1))(*d.strides)
        desc.mem = d.mem
        desc.device_index = d.device
        err = _lib.sw_error()
        _check(_lib.load().sw_bind_tensor(h, rank, name.encode(), ctypes.byref(desc), ctypes.byref(err)), err)
        # after a successful bind the name resolved to exactly one local tensor
        lt = lt or self.plan._local(rank, name)
        self._bound[(rank, lt.role if lt else "?", lt.name if lt else name)] = array

    def bind_all(self, mapping, strict=False):
        """Binds every array of `mapping` whose name the plan has: {name: array} for a
        session of one rank (e.g. dict(model.named_parameters())), {rank: {name: array}}
        with the local backend.  Names the plan does not have are left alone (reported);
        ``strict=True`` raises Error when a name is unexpected or a tensor of the rank stays
        unbound.  Returns a BindReport."""
        self._handle()
        if self.rank < 0:
            per_rank = {int(r): m for r, m in mapping.items()}
        else:
            per_rank = {self.rank: mapping}
        bound, missing, unexpected = [], [], []
        local = self.rank < 0
        for r, m in per_rank.items():
            for name, arr in m.items():
                if self.plan._local(r, name) is not None:
                    self.bind(name, arr, rank=r)
                    bound.append((r, name) if local else name)
                else:
                    unexpected.append((r, name) if local else name)
        ranks = self.plan.ranks if local else [self.rank]
        for r in ranks:
            for name in self.plan._binding_names(r):
                if not self._is_bound(r, name):
                    missing.append((r, name) if local else name)
        rep = BindReport(bound, missing, unexpected)
        if strict and (missing or unexpected):
            raise _usage(f"bind_all: {rep}")
        return rep

    def _is_bound(self, rank, name):
        lt = self.plan._local(rank, name)
        return lt is not None and (rank, lt.role, lt.name) in self._bound

    def sync(self, stream=None):
        """One weight sync (call once per RL step).  nccl: ordered after the work queued on
        `stream` (None: the session's stream, else torch's current stream), and work queued
        on it afterwards sees the result."""
        h = self._handle()
        s = _stream_handle(stream)
        if s is None and self.backend == "nccl" and self._stream is None:
            s = _torch_current_stream()
        err = _lib.sw_error()
        if self._device is not None and self.backend == "nccl":
            from . import _cuda
            with _cuda.device(self._device):
                rc = _lib._lib.sw_sync(h, s, ctypes.byref(err))
        else:
            rc = _lib._lib.sw_sync(h, s, ctypes.byref(err))
        _check(rc, err)

    def validation_fill(self):
        """What ``run --validate`` does before the sync: fills every source tensor of the
        session with a pattern of (logical tensor, index) and poisons every destination."""
        err = _lib.sw_error()
        _check(_lib.load().sw_validation_fill(self._handle(), ctypes.byref(err)), err)

    def validation_check(self):
        """After a sync: checks every destination element against the pattern; returns the
        number of elements checked, raises Error (MISMATCH) naming the first wrong one."""
        n, err = c_uint64(), _lib.sw_error()
        _check(_lib.load().sw_validation_check(self._handle(), ctypes.byref(n), ctypes.byref(err)), err)
        return int(n.value)

    def close(self):
        h, self._h = getattr(self, "_h", None), None
        if h is not None and h.value and _lib._lib is not None:
            if getattr(self, "_device", None) is not None and self.backend == "nccl":
                from . import _cuda
                with _cuda.device(self._device):
                    _lib._lib.sw_session_close(h)
            else:
                _lib._lib.sw_session_close(h)
        self._bound = {}

    @property
    def closed(self):
        return self._h is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        who = "every rank" if self.rank < 0 else f"rank {self.rank}"
        return f"<shardwave.Session {self.plan.sync} {self.backend} {who}{' closed' if self.closed else ''}>"


def run_local(plan, tensors):
    """One sync with the local backend, every rank a thread of this process.  tensors:
    {rank: {local name: array}} with every local tensor of every rank of the plan."""
    with Session(plan, backend="local") as s:
        s.bind_all(tensors, strict=True)
        s.sync()
