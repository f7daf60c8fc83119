"""MPI for the mpi backend (and the nccl backend's MPI bootstrap) without mpi4py.

libshardwave's mpi backend needs MPI initialised.  When mpi4py is imported it did that;
otherwise MPI_Init is called here (and MPI_Finalize at exit).  The MPI library is opened
with RTLD_GLOBAL first: Open MPI's own plugins need its symbols global."""

import atexit
import ctypes
import ctypes.util
import os
import sys
import threading

_lock = threading.Lock()
_mpi = None
_inited_here = False


def _lib():
    global _mpi
    if _mpi is not None:
        return _mpi
    names = [os.environ.get("SHARDWAVE_MPI_LIBRARY"), ctypes.util.find_library("mpi"), "libmpi.so.40", "libmpi.so.12",
             "libmpi.so"]
    errors = []
    for n in names:
        if not n:
            continue
        try:
            _mpi = ctypes.CDLL(n, mode=ctypes.RTLD_GLOBAL)
            return _mpi
        except OSError as e:
            errors.append(f"{n}: {e}")
    raise OSError("shardwave: the mpi backend needs an MPI library (libmpi); tried " + "; ".join(errors))


def _finalize():
    lib = _mpi
    if lib is None:
        return
    fin = ctypes.c_int(0)
    lib.MPI_Finalized(ctypes.byref(fin))
    if not fin.value:
        lib.MPI_Finalize()


def ensure_init():
    """Initialises MPI unless it is already (by mpi4py, by the caller)."""
    global _inited_here
    with _lock:
        if "mpi4py.MPI" in sys.modules:
            return
        lib = _lib()
        flag = ctypes.c_int(0)
        lib.MPI_Initialized(ctypes.byref(flag))
        if flag.value:
            return
        provided = ctypes.c_int(0)
        rc = lib.MPI_Init_thread(None, None, 1, ctypes.byref(provided))  # MPI_THREAD_FUNNELED
        if rc != 0:
            raise OSError(f"shardwave: MPI_Init_thread failed ({rc})")
        _inited_here = True
        atexit.register(_finalize)


def comm_address(comm):
    """The address of an MPI_Comm handle, for sw_session_opts.mpi_comm: from an mpi4py
    communicator, or an int that already is one."""
    if isinstance(comm, int):
        return comm
    try:
        from mpi4py import MPI
    except ImportError:
        raise TypeError("mpi_comm: an mpi4py communicator or the address of an MPI_Comm (int) is needed") from None
    return MPI._addressof(comm)


def world_rank(comm=None):
    """This process's rank in `comm` (None: MPI_COMM_WORLD)."""
    if comm is not None and not isinstance(comm, int):
        return comm.Get_rank()
    if "mpi4py.MPI" in sys.modules and comm is None:
        return sys.modules["mpi4py.MPI"].COMM_WORLD.Get_rank()
    lib = _lib()
    r = ctypes.c_int(-1)
    if comm is not None:
        # an address of an MPI_Comm: Open MPI's handle is a pointer, MPICH's an int
        h = ctypes.c_void_p.from_address(comm).value
        if lib.MPI_Comm_rank(ctypes.c_void_p(h), ctypes.byref(r)) == 0:
            return r.value
    for env in ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"):
        if os.environ.get(env, "").isdigit():
            return int(os.environ[env])
    try:  # Open MPI: MPI_COMM_WORLD is &ompi_mpi_comm_world
        world = ctypes.addressof(ctypes.c_char.in_dll(lib, "ompi_mpi_comm_world"))
        if lib.MPI_Comm_rank(ctypes.c_void_p(world), ctypes.byref(r)) == 0:
            return r.value
    except ValueError:
        pass
    raise RuntimeError("shardwave: cannot tell this process's MPI rank: pass rank=")
