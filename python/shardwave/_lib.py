"""Finding and declaring the C library (libshardwave) through ctypes.

The library is looked up, in order:
  1. $SHARDWAVE_LIBRARY, when set (an explicit override wins: a build tree, a test);
  2. the copy inside this package (what ``pip install .`` puts next to these files);
  3. the system: the dynamic loader's path and ldconfig (``cmake --install`` into a prefix).
No compiled Python extension is involved: every call below is a plain C function of
include/shardwave.h, and every struct here mirrors one of that header (the tests compare
their sizes and field offsets with the C compiler's).
"""

import ctypes
import ctypes.util
import glob
import os
import threading

c_int = ctypes.c_int
c_int8 = ctypes.c_int8
c_int32 = ctypes.c_int32
c_int64 = ctypes.c_int64
c_uint64 = ctypes.c_uint64
c_size_t = ctypes.c_size_t
c_double = ctypes.c_double
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
POINTER = ctypes.POINTER

NCCL_UNIQUE_ID_BYTES = 128  # SW_NCCL_UNIQUE_ID_BYTES
MAXDIM = 8

# sw_status
STATUS = {
    0: "OK", -1: "INPUT", -2: "USAGE", -3: "NOMEM", -4: "IO", -5: "CORRUPT",
    -6: "UNSUPPORTED", -7: "RUNTIME", -8: "TIMEOUT", -9: "MISMATCH", -10: "MPI",
    -11: "CUDA", -12: "NCCL", -13: "INTERNAL",
}
BACKENDS = {"local": 0, "mpi": 1, "nccl": 2}
MEM_UNCHECKED, MEM_HOST, MEM_CUDA = 0, 1, 2


class sw_error(ctypes.Structure):
    _fields_ = [("status", c_int), ("line", c_int), ("col", c_int),
                ("file", ctypes.c_char * 512), ("msg", ctypes.c_char * 1536)]


class sw_plan_info(ctypes.Structure):
    _fields_ = [("model", c_char_p), ("sync", c_char_p), ("from_", c_char_p), ("to", c_char_p),
                ("nranks", c_int), ("max_rank", c_int), ("only_rank", c_int), ("nwaves", c_int),
                ("ntasks", c_uint64), ("predicted_s", c_double), ("lower_bound_s", c_double)]


class sw_tensor_info(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("layout", c_char_p), ("is_source", c_int), ("rank", c_int),
                ("dtype", c_char_p), ("ndim", c_int), ("shape", c_int64 * MAXDIM), ("nbytes", c_size_t)]


class sw_piece_info(ctypes.Structure):
    _fields_ = [("tensor", c_char_p), ("dtype", c_char_p), ("ndim", c_int),
                ("shape", c_int64 * MAXDIM), ("start", c_int64 * MAXDIM), ("size", c_int64 * MAXDIM),
                ("local_ndim", c_int), ("map", c_int * MAXDIM), ("base", c_int64 * MAXDIM),
                ("skipped", c_int)]


class sw_define(ctypes.Structure):
    _fields_ = [("name", c_char_p), ("value", c_int64)]


class sw_compile_options(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("sync", c_char_p), ("defines", POINTER(sw_define)),
                ("ndefines", c_size_t), ("bucket", c_int64), ("scheduler", c_char_p), ("no_relay", c_int)]


class sw_session_opts(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("timeout_s", c_double), ("zero_padding", c_int),
                ("mpi_comm", c_void_p), ("nccl_comm", c_void_p), ("cuda_stream", c_void_p),
                ("nccl_unique_id", c_void_p), ("comm_size", c_int), ("comm_rank_of", POINTER(c_int32)),
                ("ncomm_rank_of", c_size_t)]


class sw_tensor_desc(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("data", c_void_p), ("dtype", c_char_p), ("ndim", c_int),
                ("shape", POINTER(c_int64)), ("strides", POINTER(c_int64)), ("mem", c_int),
                ("device_index", c_int)]


P = c_void_p  # sw_plan *, sw_session * (opaque)
E = POINTER(sw_error)

# name: (restype, argtypes)
_SIGNATURES = {
    "sw_status_str": (c_char_p, [c_int]),
    "sw_error_format": (c_char_p, [E, ctypes.c_char_p, c_size_t]),
    "sw_plan_load": (c_int, [POINTER(P), c_char_p, E]),
    "sw_plan_load_rank": (c_int, [POINTER(P), c_char_p, c_int, E]),
    "sw_plan_load_mem": (c_int, [POINTER(P), c_void_p, c_size_t, c_int, E]),
    "sw_plan_save": (c_int, [P, c_char_p, E]),
    "sw_plan_serialize": (c_int, [P, POINTER(c_void_p), POINTER(c_size_t), E]),
    "sw_plan_free": (None, [P]),
    "sw_free": (None, [c_void_p]),
    "sw_plan_get_info": (c_int, [P, POINTER(sw_plan_info), E]),
    "sw_plan_ranks": (c_size_t, [P, POINTER(c_int), c_size_t]),
    "sw_plan_max_rank": (c_int, [P]),
    "sw_plan_tensors": (c_int, [P, c_int, POINTER(sw_tensor_info), c_size_t, POINTER(c_size_t), E]),
    "sw_plan_pieces": (c_int, [P, c_int, c_char_p, POINTER(sw_piece_info), c_size_t, POINTER(c_size_t), E]),
    "sw_compile_file": (c_int, [POINTER(P), c_char_p, POINTER(sw_compile_options), E]),
    "sw_compile_text": (c_int, [POINTER(P), c_char_p, c_char_p, c_size_t, POINTER(sw_compile_options), E]),
    "sw_nccl_unique_id": (c_int, [c_void_p, c_size_t, E]),
    "sw_session_open": (c_int, [POINTER(P), P, c_int, c_int, POINTER(sw_session_opts), E]),
    "sw_bind_rank": (c_int, [P, c_int, c_char_p, c_void_p, c_size_t, E]),
    "sw_bind_tensor": (c_int, [P, c_int, c_char_p, POINTER(sw_tensor_desc), E]),
    "sw_sync": (c_int, [P, c_void_p, E]),
    "sw_session_close": (None, [P]),
    "sw_session_warmup_s": (c_double, [P]),
    "sw_validation_fill": (c_int, [P, E]),
    "sw_validation_check": (c_int, [P, POINTER(c_uint64), E]),
}

_lock = threading.Lock()
_lib = None
_lib_path = None


def _candidates():
    """Where the library may be, in the order they are tried: (path or name, where)."""
    env = os.environ.get("SHARDWAVE_LIBRARY")
    if env:
        yield env, "$SHARDWAVE_LIBRARY"
    here = os.path.dirname(os.path.abspath(__file__))
    for pat in ("libshardwave.so", "libshardwave.so.*", "libshardwave.dylib", "libshardwave*.dylib"):
        for p in sorted(glob.glob(os.path.join(here, pat))):
            yield p, "the package"
    for name in ("libshardwave.so", "libshardwave.so.0"):
        yield name, "the system"
    found = ctypes.util.find_library("shardwave")
    if found:
        yield found, "the system"


def load():
    """The loaded library (declared), loading it on first use; raises OSError saying
    where it looked."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        tried = []
        for path, where in _candidates():
            try:
                lib = ctypes.CDLL(path)
            except OSError as e:
                tried.append(f"{path} ({where}): {e}")
                if where == "$SHARDWAVE_LIBRARY":
                    break  # an explicit override that does not load is an error, not a fallback
                continue
            missing = [n for n in _SIGNATURES if not hasattr(lib, n)]
            if missing:
                tried.append(f"{path} ({where}): lacks {', '.join(missing[:3])}"
                             f"{' ...' if len(missing) > 3 else ''} (an older libshardwave?)")
                if where == "$SHARDWAVE_LIBRARY":
                    break
                continue
            for name, (res, args) in _SIGNATURES.items():
                f = getattr(lib, name)
                f.restype = res
                f.argtypes = args
            _lib, _lib_path = lib, path
            return lib
        raise OSError("shardwave: cannot load libshardwave; tried:\n  " + "\n  ".join(tried) +
                      "\n(pip install . builds it into the package; or set SHARDWAVE_LIBRARY to a "
                      "libshardwave.so, e.g. build/libshardwave.so after `make build`)")


def path():
    """The path of the loaded library."""
    load()
    return _lib_path
