"""shardwave: move model weights between parallel layouts (trainer -> inference engine).

    import shardwave as sw
    plan = sw.compile("layout.yaml", sync="refit", defines={"hidden": 256})
    with sw.Session(plan, rank, backend="nccl", unique_id=uid) as s:
        s.bind_all(dict(model.named_parameters()))
        s.sync()                      # once per RL step

The C library (libshardwave) does the work; this package binds it with ctypes.  See
docs/python.md.  ``shardwave.torch`` has the PyTorch helpers (imported on demand),
``shardwave.validate`` checks tensors element by element against a plan's pieces.
"""

from ._core import (BindReport, Error, LocalTensor, Piece, Plan, Session, compile, compile_text,
                    nccl_unique_id, run_local)
from ._lib import NCCL_UNIQUE_ID_BYTES

__version__ = "0.1.0"

DTYPES = ("bf16", "fp16", "fp32", "fp64", "fp8_e4m3", "fp8_e5m2", "int8", "uint8", "int32", "int64")


def library_path():
    """The path of the libshardwave this package loaded."""
    from . import _lib
    return _lib.path()


__all__ = ["BindReport", "Error", "LocalTensor", "Piece", "Plan", "Session", "compile", "compile_text",
           "nccl_unique_id", "run_local", "NCCL_UNIQUE_ID_BYTES", "DTYPES", "library_path", "__version__"]
