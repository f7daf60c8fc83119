"""The local backend from numpy: every example of the repository at a tiny size, synced
with run_local and checked element by element against the layouts' pieces (in numpy),
and the count of checked elements compared with the C library's own validation."""

import os

import numpy as np
import pytest

from conftest import EXAMPLES, TINY_EXAMPLES, example_id


def _alloc_all(plan):
    from shardwave import validate
    return {r: validate.allocate(plan, r) for r in plan.ranks}


@pytest.mark.parametrize("example", TINY_EXAMPLES, ids=example_id)
def test_example_local_numpy(sw, example):
    from shardwave import validate
    f, sync, defines = example
    plan = sw.compile(os.path.join(EXAMPLES, f), sync=sync, defines=defines)
    tensors = _alloc_all(plan)
    seed = 7
    for r, ts in tensors.items():
        validate.fill_sources(plan, r, ts, seed=seed)
        validate.poison_destinations(plan, r, ts)
    sw.run_local(plan, tensors)
    checked = sum(validate.check_destinations(plan, r, ts, seed=seed) for r, ts in tensors.items())
    assert checked > 0
    # the C library's validation of the same plan checks exactly as many elements
    with sw.Session(plan, backend="local") as s:
        s.bind_all(_alloc_all(plan), strict=True)
        s.validation_fill()
        s.sync()
        assert s.validation_check() == checked


def test_values_are_the_layouts(sw):
    """Independent of validate: rebuild each logical tensor from the source ranks' pieces,
    then every destination piece must be its slice (llama_tiny: fused QKV, padded
    vocabulary, transposed down projection)."""
    from shardwave import validate
    plan = sw.compile(os.path.join(EXAMPLES, "llama_tiny.yaml"), sync="refit")
    tensors = _alloc_all(plan)
    rng = np.random.default_rng(1)
    for r, ts in tensors.items():
        for name, a in ts.items():
            if plan._local(r, name).role == "src":  # any bits for bf16 (uint16), integers for fp32
                a[...] = rng.integers(0, 1 << 16, a.shape).astype(a.dtype)
    logical = {}
    for r, ts in tensors.items():
        for name, a in ts.items():
            if plan._local(r, name).role != "src":
                continue
            for pc in plan.pieces(r, name):
                full = logical.setdefault(pc.tensor, np.zeros(pc.shape, a.dtype))
                idx, kept, axes = validate._piece_index(pc)
                box = tuple(slice(s, s + n) for s, n in zip(pc.start, pc.size))
                full[box] = a[idx].transpose(np.argsort(axes)).reshape(pc.size)  # the last replica wins
    # make every replica of a box hold the same bits, so that any replica may be the source
    for r, ts in tensors.items():
        for name, a in ts.items():
            if plan._local(r, name).role != "src":
                continue
            for pc in plan.pieces(r, name):
                idx, kept, axes = validate._piece_index(pc)
                box = tuple(slice(s, s + n) for s, n in zip(pc.start, pc.size))
                a[idx] = logical[pc.tensor][box].reshape([pc.size[k] for k in kept]).transpose(axes)
    sw.run_local(plan, tensors)
    n = 0
    for r, ts in tensors.items():
        for name, a in ts.items():
            if plan._local(r, name).role != "dst":
                continue
            for pc in plan.pieces(r, name):
                idx, kept, axes = validate._piece_index(pc)
                box = tuple(slice(s, s + k) for s, k in zip(pc.start, pc.size))
                want = logical[pc.tensor][box].reshape([pc.size[k] for k in kept]).transpose(axes)
                np.testing.assert_array_equal(a[idx], want, err_msg=f"rank {r} {name} piece of {pc.tensor}")
                n += want.size
    # as many as the C library's validation (from the transfers, not the pieces) checks
    with sw.Session(plan, backend="local") as s:
        s.bind_all(_alloc_all(plan), strict=True)
        s.validation_fill()
        s.sync()
        assert n == s.validation_check() > 10192  # > the model's 10192 elements: replicas (vLLM KV heads, norms)


def test_wrong_element_is_named(sw, tiny_plan):
    from shardwave import validate
    tensors = _alloc_all(tiny_plan)
    for r, ts in tensors.items():
        validate.fill_sources(tiny_plan, r, ts, seed=3)
        validate.poison_destinations(tiny_plan, r, ts)
    sw.run_local(tiny_plan, tensors)
    emb = tensors[5]["model.embed_tokens.weight"]
    emb[2, 3] ^= 1
    with pytest.raises(sw.Error) as e:
        validate.check_destinations(tiny_plan, 5, tensors[5], seed=3)
    assert e.value.status_name == "MISMATCH"
    assert "1 destination elements are wrong" in str(e.value)
    assert "rank 5, model.embed_tokens.weight[2, 3] (bf16)" in str(e.value)
    emb[2, 3] ^= 1
    # padding (rows 14, 15 of rank 5's embedding) must not be written
    emb[15, 0] = 0
    with pytest.raises(sw.Error, match=r"model.embed_tokens.weight\[15, 0\]"):
        validate.check_destinations(tiny_plan, 5, tensors[5], seed=3)
    # another seed's values are not these
    emb[15, 0] = 0xA5A5
    with pytest.raises(sw.Error, match="destination elements are wrong"):
        validate.check_destinations(tiny_plan, 5, tensors[5], seed=4)


def test_skipped_tensor_stays(sw):
    """llama_tiny's `back` sync skips lm_head.weight: its destination keeps what it held."""
    from shardwave import validate
    plan = sw.compile(os.path.join(EXAMPLES, "llama_tiny.yaml"), sync="back")
    tensors = _alloc_all(plan)
    for r, ts in tensors.items():
        validate.fill_sources(plan, r, ts)
        validate.poison_destinations(plan, r, ts)
    sw.run_local(plan, tensors)
    skipped = [(r, t.name) for r in plan.ranks for t in plan.local_tensors(r)
               if t.role == "dst" and any(p.skipped for p in plan.pieces(r, t.name))]
    assert skipped and all(n == "output_layer.weight" for _, n in skipped)
    for r, n in skipped:
        assert (tensors[r][n] == 0xA5A5).all()
    for r, ts in tensors.items():
        validate.check_destinations(plan, r, ts)


def test_zero_padding(sw, tiny_plan):
    from shardwave import validate
    tensors = _alloc_all(tiny_plan)
    for r, ts in tensors.items():
        validate.fill_sources(tiny_plan, r, ts)
        validate.poison_destinations(tiny_plan, r, ts)
    with sw.Session(tiny_plan, backend="local", zero_padding=True) as s:
        s.bind_all(tensors, strict=True)
        s.sync()
    assert (tensors[5]["model.embed_tokens.weight"][14:] == 0).all()
    for r, ts in tensors.items():
        validate.check_destinations(tiny_plan, r, ts, padding="zero")
    with pytest.raises(sw.Error, match="wrong"):
        validate.check_destinations(tiny_plan, 5, tensors[5], padding="poison")


def test_repeated_syncs_see_new_values(sw, tiny_plan):
    """One session, a sync per step, new source values every step (what an RL loop does)."""
    from shardwave import validate
    tensors = _alloc_all(tiny_plan)
    with sw.Session(tiny_plan, backend="local") as s:
        s.bind_all(tensors, strict=True)
        for r, ts in tensors.items():
            validate.poison_destinations(tiny_plan, r, ts)
        for step in range(3):
            for r, ts in tensors.items():
                validate.fill_sources(tiny_plan, r, ts, seed=step)
            s.sync()
            for r, ts in tensors.items():
                validate.check_destinations(tiny_plan, r, ts, seed=step)


def test_dtype_conversions(sw):
    """fp32 sources into bf16, fp16 and fp8 destinations; uint8 stands for fp8 in numpy."""
    from shardwave import validate
    text = """shardwave: 1
model:
  name: conv
  dtype: fp32
  tensors:
    - {name: a, shape: [8, 4]}
    - {name: b, shape: [6]}
    - {name: c, shape: [4, 4]}
layouts:
  train:
    mesh: {tp: 2}
    place:
      - {tensor: a, split: {0: tp}}
      - {tensor: b}
      - {tensor: c, split: {1: tp}}
  infer:
    first_rank: 2
    mesh: {tp: 2}
    place:
      - {tensor: a, dtype: bf16, split: {1: tp}}
      - {tensor: b, dtype: fp16}
      - {tensor: c, dtype: fp8_e4m3, split: {0: tp}}
"""
    plan = sw.compile_text(text, name="conv.yaml")
    assert {t.dtype for t in plan.local_tensors(2)} == {"bf16", "fp16", "fp8_e4m3"}
    tensors = _alloc_all(plan)
    assert tensors[2]["c"].dtype == np.uint8 and tensors[2]["a"].dtype == np.uint16
    for r, ts in tensors.items():
        validate.fill_sources(plan, r, ts, seed=11)
        validate.poison_destinations(plan, r, ts)
    sw.run_local(plan, tensors)
    assert sum(validate.check_destinations(plan, r, ts, seed=11) for r, ts in tensors.items()) == 32 + 12 + 16
    # the fp8 values really are the fp32 values (e4m3: 1.mmm x 2^(e-7))
    (pc,) = plan.pieces(2, "c")
    src = np.concatenate([tensors[0]["c"], tensors[1]["c"]], axis=1)
    got = tensors[2]["c"].astype(np.int64)
    sign = np.where(got & 0x80, -1.0, 1.0)
    e, m = (got >> 3) & 0xF, got & 0x7
    val = np.where((e == 0) & (m == 0), 0.0, sign * (1 + m / 8.0) * 2.0 ** (e - 7))
    np.testing.assert_array_equal(val, src[0:2])
