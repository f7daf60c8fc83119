"""The torch helpers on CPU (skipped, visibly, when torch is not installed)."""

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is not installed: the torch helpers are not tested")

from conftest import EXAMPLES  # noqa: E402


def _module_for(plan, rank, names=None, dtype_of=None):
    """A module whose named_parameters() are the rank's local tensor names."""
    import shardwave.torch as swt
    root = torch.nn.Module()
    for name in names or plan._binding_names(rank):
        lt = plan._local(rank, name)
        *path, leaf = name.split(".")
        m = root
        for part in path:
            if not hasattr(m, part):
                m.add_module(part, torch.nn.Module())
            m = getattr(m, part)
        m.register_parameter(leaf, torch.nn.Parameter(torch.zeros(lt.shape, dtype=swt.torch_dtype(lt.dtype))))
    return root


def test_bind_module_and_sync(sw, tiny_plan):
    import shardwave.torch as swt
    from shardwave import validate
    models = {r: _module_for(tiny_plan, r) for r in tiny_plan.ranks}
    with sw.Session(tiny_plan, backend="local") as s:
        for r, m in models.items():
            rep = swt.bind_module(s, m, rank=r, strict=True)
            assert rep.missing == [] and rep.unexpected == [] and len(rep.bound) == len(tiny_plan.local_tensors(r))
        for r, m in models.items():
            validate.poison_destinations(tiny_plan, r, swt.module_tensors(m))
        for step in (1, 2):
            with torch.no_grad():
                for r, m in models.items():
                    validate.fill_sources(tiny_plan, r, swt.module_tensors(m), seed=step)
            s.sync()
            n = sum(validate.check_destinations(tiny_plan, r, swt.module_tensors(m), seed=step)
                    for r, m in models.items())
            assert n == 11264
    # bf16 parameters hold what the numpy pattern says, read through torch's own dtype
    w = models[5].model.embed_tokens.weight
    assert w.dtype == torch.bfloat16
    want, _ = validate.expected(tiny_plan, 5, "model.embed_tokens.weight", seed=2)
    got = w.detach().view(torch.int16).numpy().view(np.uint16)
    np.testing.assert_array_equal(got[:14], want[:14])
    as_f32 = (np.array([want[0, 0]], np.uint16).astype(np.uint32) << 16).view(np.float32)[0]
    assert float(w.detach()[0, 0]) == float(as_f32)


def test_module_report(sw, tiny_plan):
    import shardwave.torch as swt
    names = tiny_plan._binding_names(5)
    m = _module_for(tiny_plan, 5, names[1:])  # lacks the first name
    m.register_buffer("rotary_emb_inv_freq", torch.zeros(4))
    m.extra = torch.nn.Linear(2, 2)
    rep = swt.check_module(tiny_plan, 5, m)
    assert rep.missing == [names[0]]
    assert sorted(rep.unexpected) == ["extra.bias", "extra.weight", "rotary_emb_inv_freq"]
    assert swt.check_module(tiny_plan, 5, m, buffers=False).unexpected == ["extra.weight", "extra.bias"]
    with sw.Session(tiny_plan) as s:
        rep2 = swt.bind_module(s, m, rank=5)
        assert rep2.missing == [names[0]] and len(rep2.bound) == len(names) - 1
        with pytest.raises(sw.Error, match="rank=R"):
            swt.bind_module(s, m)
        with pytest.raises(sw.Error, match=f"the plan expects but were not given: {names[0]}"):
            swt.bind_module(s, m, rank=5, strict=True)


def test_tied_and_prefixed_names(sw):
    """A tied lm_head (the same Parameter under two names) binds under both; prefix= maps
    an inner module's names onto the layout's."""
    import shardwave.torch as swt
    text = """shardwave: 1
model:
  name: tied
  dtype: bf16
  tensors:
    - {name: model.embed_tokens.weight, shape: [8, 4]}
    - {name: lm_head.weight, shape: [8, 4]}
layouts:
  train:
    mesh: {tp: 1}
    place: [{tensor: model.embed_tokens.weight}, {tensor: lm_head.weight}]
  infer:
    first_rank: 1
    mesh: {tp: 1}
    place: [{tensor: model.embed_tokens.weight}, {tensor: lm_head.weight}]
"""
    plan = sw.compile_text(text, name="tied.yaml")

    class Inner(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = torch.nn.Embedding(8, 4, dtype=torch.bfloat16)

    class Causal(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = Inner()
            self.lm_head = torch.nn.Linear(4, 8, bias=False, dtype=torch.bfloat16)
            self.lm_head.weight = self.model.embed_tokens.weight  # tied

    src, dst = Causal(), Causal()
    with torch.no_grad():
        src.model.embed_tokens.weight.copy_(torch.arange(32, dtype=torch.bfloat16).reshape(8, 4))
    assert "lm_head.weight" not in dict(src.named_parameters())  # torch drops the tied name
    assert "lm_head.weight" in swt.module_tensors(src)  # shardwave keeps it
    with sw.Session(plan) as s:
        assert swt.bind_module(s, src, rank=0, strict=True).missing == []
        rep = swt.bind_module(s, dst.model, rank=1, prefix="model.")
        assert rep.bound == ["model.embed_tokens.weight"] and rep.missing == ["lm_head.weight"]
        s.bind("lm_head.weight", dst.lm_head.weight, rank=1)
        s.sync()
    assert torch.equal(dst.lm_head.weight, src.lm_head.weight)


def test_torch_bind_checks(sw, tiny_plan):
    import shardwave.torch as swt
    with sw.Session(tiny_plan) as s:
        with pytest.raises(sw.Error, match=r"is fp32 \[16\]; a bf16 tensor was given"):
            s.bind("model.norm.weight", torch.zeros(16, dtype=torch.bfloat16), rank=5)
        with pytest.raises(sw.Error, match="dense row-major"):
            s.bind("model.embed_tokens.weight", torch.zeros(16, 16, dtype=torch.bfloat16).t(), rank=5)
        with pytest.raises(sw.Error, match=r"a tensor of shape \[15, 16\] was given"):
            s.bind("model.embed_tokens.weight", torch.zeros(16, 16, dtype=torch.bfloat16)[1:], rank=5)
        with pytest.raises(sw.Error, match="on device 'meta'"):
            s.bind("model.norm.weight", torch.zeros(16, device="meta"), rank=5)
        s.bind("model.norm.weight", torch.zeros(16), rank=5)
    t = swt.allocate(tiny_plan, 5)
    assert t["model.embed_tokens.weight"].dtype == torch.bfloat16 and t["model.norm.weight"].dtype == torch.float32
    assert swt.torch_dtype("fp8_e4m3") == torch.float8_e4m3fn


def test_stream_and_device_helpers(sw):
    from shardwave import _core
    import shardwave.torch as swt

    class FakeStream:
        cuda_stream = 0xABC

    assert _core._stream_handle(FakeStream()) == 0xABC
    assert _core._stream_handle(7) == 7 and _core._stream_handle(None) is None
    if not torch.cuda.is_available():
        assert _core._torch_current_stream() is None  # no CUDA: nothing to order against
        with swt.cuda_device(None):
            pass
        with swt.cuda_device(torch.device("cuda")):  # "the current one": nothing to set
            pass
