"""Binding arrays: dtype, shape, contiguity, memory and name checks with errors that name
the tensor; bind_all and its report; the session's life cycle."""

import numpy as np
import pytest

from test_plan import TWO


@pytest.fixture
def two(sw):
    return sw.compile_text(TWO, name="two.yaml")  # w [4, 6] fp32: rows over tp in a, columns in b


def test_bind_checks(sw, two):
    with sw.Session(two, backend="local") as s:
        ok = np.zeros((2, 6), np.float32)
        with pytest.raises(sw.Error, match="in both layouts 'a' and 'b': bind 'a/w' or 'b/w'"):
            s.bind("w", ok, rank=0)
        with pytest.raises(sw.Error, match="rank 0 has no local tensor 'q'"):
            s.bind("q", ok, rank=0)
        with pytest.raises(sw.Error, match="every rank: bind\\('a/w', array, rank=R\\)"):
            s.bind("a/w", ok)
        with pytest.raises(sw.Error, match=r"'a/w' of rank 0 is fp32 \[2, 6\]; a fp64 tensor was given"):
            s.bind("a/w", np.zeros((2, 6)), rank=0)
        with pytest.raises(sw.Error, match=r"'a/w' of rank 0 is fp32 \[2, 6\]; a uint16 tensor was given"):
            s.bind("a/w", np.zeros((2, 6), np.uint16), rank=0)
        with pytest.raises(sw.Error, match=r"is fp32 \[2, 6\]; a tensor of shape \[6, 2\] was given"):
            s.bind("a/w", np.zeros((6, 2), np.float32), rank=0)
        with pytest.raises(sw.Error, match="dense row-major"):
            s.bind("a/w", np.zeros((6, 2), np.float32).T, rank=0)
        with pytest.raises(sw.Error, match="dense row-major"):
            s.bind("a/w", np.zeros((2, 12), np.float32)[:, ::2], rank=0)
        ro = np.zeros((4, 3), np.float32)
        ro.flags.writeable = False
        with pytest.raises(sw.Error, match="'b/w' of rank 0 is written by the sync, but the array given is read-only"):
            s.bind("b/w", ro, rank=0)
        with pytest.raises(sw.Error, match="rank 0: 'a/w': cannot bind a builtins.list"):
            s.bind("a/w", [[0.0] * 6] * 2, rank=0)
        s.bind("a/w", ok, rank=0)
        s.bind("a/w", ro.reshape(2, 6), rank=1)  # a source may be read-only
        with pytest.raises(sw.Error, match="'w' \\(b\\) of rank 0 is not bound"):
            s.sync()


def test_bf16_fp8_stand_ins(sw):
    text = TWO.replace("dtype: fp32", "dtype: bf16").replace("place: [{tensor: w, split: {1: tp}}]",
                                                               "place: [{tensor: w, split: {1: tp}, dtype: fp8_e5m2}]")
    p = sw.compile_text(text, name="bf.yaml")
    with sw.Session(p, backend="local") as s:
        s.bind("a/w", np.zeros((2, 6), np.uint16), rank=0)  # uint16 stands for bf16
        s.bind("b/w", np.zeros((4, 3), np.uint8), rank=0)  # uint8 for fp8
        with pytest.raises(sw.Error, match=r"is fp8_e5m2 \[4, 3\]; a uint16 tensor was given"):
            s.bind("b/w", np.zeros((4, 3), np.uint16), rank=1)
        with pytest.raises(sw.Error, match=r"is bf16 \[2, 6\]; a fp16 tensor was given"):
            s.bind("a/w", np.zeros((2, 6), np.float16), rank=1)


def test_bind_all_report(sw, tiny_plan):
    from shardwave import validate
    with sw.Session(tiny_plan, backend="local") as s:
        ts = {r: validate.allocate(tiny_plan, r) for r in tiny_plan.ranks}
        first = dict(list(ts[5].items())[:3])
        rep = s.bind_all({5: dict(first, **{"extra.bias": np.zeros(3)})})
        assert sorted(rep.bound) == sorted((5, n) for n in first)
        assert rep.unexpected == [(5, "extra.bias")]
        assert len(rep.missing) == sum(len(tiny_plan.local_tensors(r)) for r in tiny_plan.ranks) - 3
        assert "rank 5: extra.bias" in str(rep) and "3 bound" in str(rep)
        with pytest.raises(sw.Error, match="bind_all: 0 bound; .* the plan expects but were not given"):
            s.bind_all({}, strict=True)
        rep = s.bind_all(ts, strict=True)
        assert rep.missing == [] and rep.unexpected == []
        s.sync()


def test_single_rank_session_names(sw, tiny_plan):
    """A session of one rank binds {name: array} (what dict(model.named_parameters()) is);
    opened here with a fake open of the local backend so that no MPI or NCCL is needed."""
    from shardwave import _core, validate
    calls = []
    real = _core._session_open
    try:
        _core._session_open = lambda plan, rank, kind, opts: calls.append((rank, kind)) or real(plan, -1, 0, opts)
        s = sw.Session(tiny_plan, rank=5, backend="nccl", unique_id=bytes(128))
    finally:
        _core._session_open = real
    assert calls == [(5, 2)]
    s.backend = "local"  # the session under it is a local one: bind host arrays
    arrays = validate.allocate(tiny_plan, 5)
    arrays["rotary_emb.inv_freq"] = np.zeros(4, np.float32)
    del arrays["model.norm.weight"]
    rep = s.bind_all(arrays)
    assert rep.unexpected == ["rotary_emb.inv_freq"] and rep.missing == ["model.norm.weight"]
    assert len(rep.bound) == len(tiny_plan.local_tensors(5)) - 1
    with pytest.raises(sw.Error, match="this session is rank 5's; cannot bind a tensor of rank 4"):
        s.bind("model.norm.weight", np.zeros(16, np.float32), rank=4)
    s.close()


def test_session_lifecycle(sw, tiny_plan):
    with pytest.raises(sw.Error, match="unknown backend 'tcp'"):
        sw.Session(tiny_plan, backend="tcp")
    with pytest.raises(sw.Error, match="open it with rank=None, not 3"):
        sw.Session(tiny_plan, 3, backend="local")
    with pytest.raises(sw.Error, match="a shardwave.Plan is needed"):
        sw.Session("refit.swp")
    s = sw.Session(tiny_plan)
    assert not s.closed and s.warmup_s == 0 and "every rank" in repr(s)
    s.close()
    assert s.closed
    with pytest.raises(sw.Error, match="this session is closed"):
        s.sync()
    s.close()
    with sw.Session(tiny_plan) as s2:
        pass
    assert s2.closed


def test_c_validation_from_python(sw, tiny_plan):
    from shardwave import validate
    with sw.Session(tiny_plan) as s:
        ts = {r: validate.allocate(tiny_plan, r) for r in tiny_plan.ranks}
        s.bind_all(ts, strict=True)
        s.validation_fill()
        s.sync()
        n = s.validation_check()
        assert n > 0
        ts[6]["model.norm.weight"][3] += 1
        with pytest.raises(sw.Error) as e:
            s.validation_check()
        assert e.value.status_name == "MISMATCH" and "1 of %d destination elements are wrong" % n in str(e.value)
        assert "rank 6, model.norm.weight[3]" in str(e.value)


def test_nccl_options(sw, tiny_plan):
    """What a nccl session passes to sw_session_open (no NCCL needed: the open is faked)."""
    from shardwave import _core
    seen = {}

    def fake(plan, rank, kind, opts):
        seen.update(rank=rank, kind=kind, size=opts.comm_size, stream=opts.cuda_stream, timeout=opts.timeout_s,
                    uid=bytes((ctypes_c_ubyte * 128).from_address(opts.nccl_unique_id)),
                    map=[opts.comm_rank_of[i] for i in range(opts.ncomm_rank_of)])
        return 1  # a non-NULL handle that is never used

    import ctypes
    ctypes_c_ubyte = ctypes.c_ubyte
    real, real_close = _core._session_open, _core._lib.load().sw_session_close
    _core._session_open = fake
    try:
        uid = bytes(range(128))
        s = sw.Session(tiny_plan, 6, backend="nccl", unique_id=uid, stream=0x1234, comm_size=10,
                       comm_rank_of={r: r + 2 for r in tiny_plan.ranks}, timeout=5)
        s._h = None  # never opened for real
        assert seen == dict(rank=6, kind=2, size=10, stream=0x1234, timeout=5.0, uid=uid,
                            map=[2, 3, 4, 5, 6, 7, 8, 9])
        with pytest.raises(sw.Error, match="unique_id: 16 bytes; an NCCL unique id is 128"):
            sw.Session(tiny_plan, 6, backend="nccl", unique_id=b"x" * 16)
        with pytest.raises(sw.Error, match="plan ranks 6, 7 have no communicator rank"):
            sw.Session(tiny_plan, 6, backend="nccl", unique_id=uid, comm_rank_of=[0, 1, 2, 3, 4, 5])
        with pytest.raises(sw.Error, match="plan ranks 0 and 1 both map to communicator rank 0"):
            sw.Session(tiny_plan, 6, backend="nccl", unique_id=uid, comm_rank_of=[0] * 8)
        with pytest.raises(sw.Error, match="out of range \\(comm_size 4\\)"):
            sw.Session(tiny_plan, 6, backend="nccl", unique_id=uid, comm_rank_of=list(range(8)), comm_size=4)
        with pytest.raises(sw.Error, match="the nccl backend needs this process's global rank"):
            sw.Session(tiny_plan, None, backend="nccl", unique_id=uid)
        with pytest.raises(sw.Error, match="cannot read a cudaStream_t from a str"):
            sw.Session(tiny_plan, 6, backend="nccl", unique_id=uid, stream="default")
    finally:
        _core._session_open = real
