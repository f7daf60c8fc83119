"""The current CUDA device, set for a while and restored: through torch when it is
imported, else through the CUDA runtime library."""

import contextlib
import ctypes
import ctypes.util
import sys


def _cudart():
    for n in (ctypes.util.find_library("cudart"), "libcudart.so", "libcudart.so.13", "libcudart.so.12"):
        if n:
            try:
                return ctypes.CDLL(n)
            except OSError:
                pass
    raise OSError("shardwave: device= needs the CUDA runtime (libcudart) or torch")


@contextlib.contextmanager
def device(index):
    """Makes CUDA device `index` current inside the block and restores the previous one
    (None: does nothing)."""
    if index is None:
        yield
        return
    if not isinstance(index, int):  # a torch.device; "cuda" alone means the current one
        index = getattr(index, "index", None)
        if index is None:
            yield
            return
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        with torch.cuda.device(index):
            yield
        return
    rt = _cudart()
    prev = ctypes.c_int(0)
    rt.cudaGetDevice(ctypes.byref(prev))
    if rt.cudaSetDevice(index) != 0:
        raise RuntimeError(f"shardwave: cudaSetDevice({index}) failed")
    try:
        yield
    finally:
        rt.cudaSetDevice(prev.value)
