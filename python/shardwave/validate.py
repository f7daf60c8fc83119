"""Checking tensors against the layout, element by element, in numpy.

What ``shardwave run --validate`` does in C, done here from the plan's pieces
(Plan.pieces), so that a program can check its own tensors: every source element gets a
value that is a function of (logical tensor, logical index, seed), every destination
element that a piece covers must hold that value after a sync, and every element no piece
covers (padding) must still hold what it held before (the poison, or zero with
zero_padding).  The values are small integers, exact in every dtype of the plan, so that
dtype conversions on the way (fp32 -> bf16, bf16 -> fp8) change nothing.

Arrays are numpy arrays (uint16 for bf16, uint8 for fp8) or torch tensors (any device).
"""

import sys

import numpy as np

from . import _arrays
from ._core import Error

POISON = 0xA5  # every byte of a poisoned destination

# the largest integer each dtype holds exactly (and with its sign)
_EXACT = {"bf16": 256, "fp16": 2048, "fp32": 1 << 24, "fp64": 1 << 53, "fp8_e4m3": 16, "fp8_e5m2": 8,
          "int8": 127, "uint8": 255, "int32": (1 << 31) - 1, "int64": (1 << 62)}


def _domain(plan):
    """(lo, hi): the integers every dtype of the plan's local tensors holds exactly."""
    dom = getattr(plan, "_validate_domain", None)
    if dom is None:
        dts = {lt.dtype for r in plan.ranks for lt in plan.local_tensors(r)}
        hi = min([_EXACT[d] for d in dts] + [4096])
        lo = 0 if "uint8" in dts else -hi
        dom = plan._validate_domain = (lo, hi)
    return dom


def _key(name, seed):
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return (h ^ ((seed * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)) & 0xFFFFFFFFFFFFFFFF


def values(plan, tensor, lin, seed=0):
    """The value of the elements at logical linear indices `lin` (an int array) of logical
    tensor `tensor`, as float64."""
    lo, hi = _domain(plan)
    with np.errstate(over="ignore"):
        x = lin.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(_key(tensor, seed))
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x % np.uint64(hi - lo + 1)).astype(np.int64).astype(np.float64) + lo


def _encode_fp8(v, mbits, bias):
    out = np.zeros(v.shape, np.uint8)
    nz = v != 0
    m, e = np.frexp(np.abs(v[nz]))  # |v| = m * 2**e, m in [0.5, 1)
    mant = ((m * 2 - 1) * (1 << mbits)).astype(np.uint8)
    exp = (e - 1 + bias).astype(np.uint8)
    out[nz] = (exp << mbits) | mant
    out[nz & (v < 0)] |= 0x80
    return out


def encode(v, dtype):
    """float64 values (exact in `dtype`) as the numpy array that holds `dtype`'s bits."""
    if dtype == "bf16":
        return (v.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    if dtype == "fp8_e4m3":
        return _encode_fp8(v, 3, 7)
    if dtype == "fp8_e5m2":
        return _encode_fp8(v, 2, 15)
    return v.astype(_arrays.numpy_dtype(dtype))


def _piece_index(pc):
    """The local index (a tuple of slices and ints) of a piece, and the axes that bring its
    values from logical order into that index's order."""
    idx, order = [], []
    for j, m in enumerate(pc.map):
        if m >= 0:
            idx.append(slice(pc.base[j] + pc.start[m], pc.base[j] + pc.start[m] + pc.size[m]))
            order.append(m)
        else:
            idx.append(pc.base[j])
    kept = sorted(order)
    return tuple(idx), kept, [kept.index(m) for m in order]


def _piece_values(plan, pc, seed):
    ts = np.ones(len(pc.shape), np.int64)
    for k in range(len(pc.shape) - 2, -1, -1):
        ts[k] = ts[k + 1] * pc.shape[k + 1]
    lin = np.zeros(pc.size, np.int64)
    for k in range(len(pc.shape)):
        shp = [1] * len(pc.shape)
        shp[k] = pc.size[k]
        lin = lin + (np.arange(pc.start[k], pc.start[k] + pc.size[k], dtype=np.int64) * ts[k]).reshape(shp)
    return values(plan, pc.tensor, lin, seed)


def _place(plan, pc, seed, dtype):
    """(local index, encoded values in that index's shape) of a piece."""
    idx, kept, axes = _piece_index(pc)
    v = encode(_piece_values(plan, pc, seed), dtype)
    v = v.reshape([pc.size[k] for k in kept]).transpose(axes)
    return idx, v


def _lt(plan, rank, name):
    lt = plan._local(rank, name)
    if lt is None:
        plan.pieces(rank, name)  # raises the C error naming the tensor
        raise Error(-2, f"rank {rank}: '{name}' is ambiguous")
    return lt


def source(plan, rank, name, seed=0):
    """The content of source tensor `name` of `rank` as validate fills it (numpy, the dtype's
    bits; padding zero)."""
    lt = _lt(plan, rank, name)
    out = np.zeros(lt.shape, _arrays.numpy_dtype(lt.dtype))
    for pc in plan.pieces(rank, name):
        idx, v = _place(plan, pc, seed, lt.dtype)
        out[idx] = v
    return out


def expected(plan, rank, name, seed=0, padding="poison"):
    """(content, covered) of destination tensor `name` of `rank` after a sync of sources
    filled with `seed`: numpy arrays of the dtype's bits and of bools (elements a piece of a
    transferred tensor covers).  ``padding``: what the other elements hold, "poison" (the
    bytes 0xA5), "zero" (zero_padding) or None (not known: only covered elements count)."""
    lt = _lt(plan, rank, name)
    dt = _arrays.numpy_dtype(lt.dtype)
    if padding == "zero":
        out = np.zeros(lt.shape, dt)
    else:
        out = np.frombuffer(bytes([POISON]) * (dt.itemsize * int(np.prod(lt.shape, dtype=np.int64))),
                            dt).reshape(lt.shape).copy()
    covered = np.zeros(lt.shape, bool)
    for pc in plan.pieces(rank, name):
        if pc.skipped:
            continue
        idx, v = _place(plan, pc, seed, lt.dtype)
        out[idx] = v
        covered[idx] = True
    if padding is None:
        covered_or_all = covered
    else:
        covered_or_all = np.ones(lt.shape, bool)
    return out, covered_or_all


def _as_bits(x, dtype):
    """A numpy view (or copy from the device) of array x holding `dtype`'s bits."""
    dt = _arrays.numpy_dtype(dtype)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        flat = x.detach().reshape(-1).view(torch.uint8).cpu().numpy()
        return flat.view(dt).reshape(tuple(x.shape))
    return np.asarray(x).view(dt)


def _store(x, content):
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        content = np.ascontiguousarray(content)
        if not content.flags.writeable:
            content = content.copy()  # torch wants writable numpy memory even to read it
        src = torch.from_numpy(content.reshape(-1).view(np.uint8))
        x.detach().reshape(-1).view(torch.uint8).copy_(src)  # x is contiguous: bind checked it
        return
    x.view(content.dtype)[...] = content


def fill_sources(plan, rank, tensors, seed=0):
    """Fills every source tensor of `rank` found in `tensors` ({name: array}) with the
    pattern of `seed` (padding zeroed); returns how many were filled."""
    n = 0
    for name, arr in tensors.items():
        lt = plan._local(rank, name)
        if lt is None or lt.role != "src":
            continue
        _store(arr, source(plan, rank, name, seed))
        n += 1
    return n


def poison_destinations(plan, rank, tensors):
    """Fills every destination tensor of `rank` in `tensors` with the bytes 0xA5, so that an
    element no sync writes cannot pass."""
    for name, arr in tensors.items():
        lt = plan._local(rank, name)
        if lt is not None and lt.role == "dst":
            dt = _arrays.numpy_dtype(lt.dtype)
            n = int(np.prod(lt.shape, dtype=np.int64))
            _store(arr, np.frombuffer(bytes([POISON]) * (n * dt.itemsize), dt).reshape(lt.shape))


def check_destinations(plan, rank, tensors, seed=0, padding="poison"):
    """Checks every destination tensor of `rank` in `tensors` element by element against
    its pieces (see expected()); returns the number of elements checked that a piece
    covers.  Raises Error (MISMATCH) naming the first wrong element and counting them."""
    checked, bad, first = 0, 0, None
    for name, arr in tensors.items():
        lt = plan._local(rank, name)
        if lt is None or lt.role != "dst":
            continue
        want, mask = expected(plan, rank, name, seed, padding)
        got = _as_bits(arr, lt.dtype)
        if got.shape != want.shape:
            raise Error(-2, f"'{name}' of rank {rank}: shape {got.shape}, the plan says {want.shape}")
        wrong = (got != want) & mask
        nb = int(wrong.sum())
        checked += sum(int(np.prod(pc.size, dtype=np.int64)) for pc in plan.pieces(rank, name) if not pc.skipped)
        if nb:
            bad += nb
            if first is None:
                at = tuple(int(i) for i in np.argwhere(wrong)[0])
                w = want.dtype.itemsize * 2
                first = (f"rank {rank}, {name}[{', '.join(map(str, at))}] ({lt.dtype}): expected "
                         f"0x{int(want[at].view(np.dtype('u%d' % want.dtype.itemsize))):0{w}x}, got "
                         f"0x{int(got[at].view(np.dtype('u%d' % want.dtype.itemsize))):0{w}x}")
    if bad:
        raise Error(-9, f"{bad} destination elements are wrong (of {checked} checked); the first: {first}")
    return checked


def allocate(plan, rank):
    """Zeroed numpy arrays for every local tensor of `rank`: {name: array} with the names
    bind takes (LAYOUT/NAME for a name the rank holds in both layouts)."""
    out = {}
    for name in plan._binding_names(rank):
        lt = plan._local(rank, name)
        out[name] = np.zeros(lt.shape, _arrays.numpy_dtype(lt.dtype))
    return out
