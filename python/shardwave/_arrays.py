"""What an array is, for sw_bind_tensor: address, dtype name, shape, strides in elements,
where it lives.  numpy arrays, torch tensors, and objects with __cuda_array_interface__
(CuPy, Numba) are understood; nothing is copied (binding a copy would sync into memory
nobody reads)."""

import sys

from . import _lib

# numpy has no bf16 or fp8: uint16 stands for bf16 and uint8 for fp8 (same shape).  The
# ml_dtypes types (bfloat16, float8_*) are accepted by their own names.
NUMPY_NAMES = {
    "float16": "fp16", "float32": "fp32", "float64": "fp64", "int8": "int8", "uint8": "uint8",
    "int32": "int32", "int64": "int64", "uint16": "uint16",
    "bfloat16": "bf16", "float8_e4m3fn": "fp8_e4m3", "float8_e5m2": "fp8_e5m2",
}
# what a numpy dtype may stand for besides its own name
NUMPY_STANDS_FOR = {"uint16": ("bf16",), "uint8": ("fp8_e4m3", "fp8_e5m2")}

TORCH_NAMES = {
    "torch.bfloat16": "bf16", "torch.float16": "fp16", "torch.float32": "fp32", "torch.float64": "fp64",
    "torch.float8_e4m3fn": "fp8_e4m3", "torch.float8_e5m2": "fp8_e5m2", "torch.int8": "int8",
    "torch.uint8": "uint8", "torch.int32": "int32", "torch.int64": "int64",
}

# the layout language's dtypes: (bytes, numpy dtype that holds them)
DTYPES = {
    "bf16": (2, "uint16"), "fp16": (2, "float16"), "fp32": (4, "float32"), "fp64": (8, "float64"),
    "fp8_e4m3": (1, "uint8"), "fp8_e5m2": (1, "uint8"), "int8": (1, "int8"), "uint8": (1, "uint8"),
    "int32": (4, "int32"), "int64": (8, "int64"),
}


def numpy_dtype(dtype):
    """The numpy dtype that holds a layout dtype ("bf16" -> uint16, "fp8_e4m3" -> uint8)."""
    import numpy as np
    try:
        return np.dtype(DTYPES[dtype][1])
    except KeyError:
        raise ValueError(f"unknown dtype '{dtype}' (known: {', '.join(DTYPES)})") from None


class Described:
    __slots__ = ("data", "dtype", "stands_for", "shape", "strides", "mem", "device", "writable", "kind")

    def __init__(self, data, dtype, stands_for, shape, strides, mem, device, writable, kind):
        self.data, self.dtype, self.stands_for = data, dtype, stands_for
        self.shape, self.strides, self.mem, self.device = shape, strides, mem, device
        self.writable, self.kind = writable, kind


def _is_torch_tensor(x):
    t = sys.modules.get("torch")
    return t is not None and isinstance(x, t.Tensor)


def describe(x, name):
    """A Described for array x (bound as local tensor `name`); TypeError when x is not an
    array this package understands."""
    np = sys.modules.get("numpy")
    if np is not None and isinstance(x, np.ndarray):
        nd = x.dtype.name
        dt = NUMPY_NAMES.get(nd, nd)
        isz = x.itemsize
        strides = tuple(s // isz if s % isz == 0 else -1 for s in x.strides)
        return Described(x.ctypes.data, dt, NUMPY_STANDS_FOR.get(nd, ()), tuple(x.shape), strides,
                         _lib.MEM_HOST, 0, bool(x.flags.writeable), "numpy")
    if _is_torch_tensor(x):
        dt = TORCH_NAMES.get(str(x.dtype), str(x.dtype).replace("torch.", ""))
        dev = x.device
        if dev.type == "cuda":
            mem, idx = _lib.MEM_CUDA, dev.index if dev.index is not None else 0
        elif dev.type == "cpu":
            mem, idx = _lib.MEM_HOST, 0
        else:
            raise TypeError(f"'{name}': a torch tensor on device '{dev}' (shardwave binds CPU or CUDA tensors)")
        if x.layout != sys.modules["torch"].strided:
            raise TypeError(f"'{name}': a torch tensor with layout {x.layout} (a dense, strided one is needed)")
        return Described(x.data_ptr(), dt, (), tuple(x.shape), tuple(x.stride()), mem, idx, True, "torch")
    cai = getattr(x, "__cuda_array_interface__", None)
    if cai is not None:
        import numpy as np  # the typestr needs it
        npd = np.dtype(cai["typestr"])
        dt = NUMPY_NAMES.get(npd.name, npd.name)
        shape = tuple(cai["shape"])
        st = cai.get("strides")
        strides = None if st is None else tuple(s // npd.itemsize if s % npd.itemsize == 0 else -1 for s in st)
        dev = getattr(getattr(x, "device", None), "id", 0) or 0
        return Described(cai["data"][0], dt, NUMPY_STANDS_FOR.get(npd.name, ()), shape, strides,
                         _lib.MEM_CUDA, int(dev), not cai["data"][1], "cuda_array_interface")
    raise TypeError(f"'{name}': cannot bind a {type(x).__module__}.{type(x).__name__} "
                    "(a numpy array, a torch tensor or an object with __cuda_array_interface__ is needed; "
                    "nothing is copied, so lists and other sequences are refused)")
