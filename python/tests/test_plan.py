"""Compiling, saving, loading and reading plans from Python."""

import os

import pytest

from conftest import CLI, EXAMPLES, TINY8

LLAMA_TINY = os.path.join(EXAMPLES, "llama_tiny.yaml")

TWO = """shardwave: 1
model:
  name: t
  dtype: fp32
  tensors:
    - {name: w, shape: [4, 6]}
layouts:
  a:
    mesh: {tp: 2}
    place: [{tensor: w, split: {0: tp}}]
  b:
    mesh: {tp: 2}
    place: [{tensor: w, split: {1: tp}}]
"""


def test_compile_info(sw, tiny_plan):
    p = tiny_plan
    assert isinstance(p, sw.Plan)
    assert (p.model, p.sync, p.from_layout, p.to_layout) == ("llama-tiny", "refit", "train", "infer")
    assert p.ranks == list(range(8))
    assert p.nranks == 8 and p.max_rank == 7 and p.only_rank is None
    assert p.nwaves >= 1 and p.ntasks >= 1
    assert p.predicted_s >= p.lower_bound_s * 0.999 > 0
    assert "refit: train -> infer" in repr(p)


def test_local_tensors(sw, tiny_plan):
    # rank 0 is train tp0 pp0: sources only; rank 5 is an engine rank: destinations only
    lts = tiny_plan.local_tensors(0)
    assert lts and all(isinstance(t, sw.LocalTensor) and t.role == "src" for t in lts)
    assert all(t.role == "dst" for t in tiny_plan.local_tensors(5))
    by = {t.name: t for t in tiny_plan.local_tensors(5)}
    # vLLM tp=4 pads the 30-row vocabulary to 64 -> 16 rows per rank; hidden 16
    t = by["model.embed_tokens.weight"]
    assert t == sw.LocalTensor("model.embed_tokens.weight", (16, 16), "bf16", "dst")
    assert t.nbytes == 16 * 16 * 2
    # rank 5 (tp 1) holds rows 16..29 at local rows 0..13; rows 14 and 15 are padding
    (pc,) = tiny_plan.pieces(5, "model.embed_tokens.weight")
    assert (pc.start, pc.size, pc.map, pc.base) == ((16, 0), (14, 16), (0, 1), (-16, 0))
    name, shape, dtype, role = t  # a 4-tuple, as the contract says
    assert isinstance(shape, tuple)
    assert tiny_plan.local_tensors(99) == []


def test_pieces(sw, tiny_plan):
    # train: pp=2 tp=2; the embedding on stage 0 is split over tp with a padded vocabulary
    pcs = tiny_plan.pieces(1, "embedding.word_embeddings.weight")
    assert len(pcs) == 1
    pc = pcs[0]
    assert pc.tensor == "model.embed_tokens.weight" and pc.shape == (30, 16) and not pc.skipped
    lt = {t.name: t for t in tiny_plan.local_tensors(1)}["embedding.word_embeddings.weight"]
    # rank 1 (tp 1) holds rows 16..29 of the vocabulary at local row 0
    assert lt.shape == (16, 16)
    assert (pc.start, pc.size, pc.map, pc.base) == ((16, 0), (14, 16), (0, 1), (-16, 0))
    with pytest.raises(sw.Error) as e:
        tiny_plan.pieces(1, "no.such.tensor")
    assert "rank 1 has no local tensor 'no.such.tensor'" in str(e.value)


def test_input_error_has_position(sw, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("shardwave: 1\nmodel:\n  name: t\n  tensors: []\n  colour: red\nlayouts: {}\n")
    with pytest.raises(sw.Error) as e:
        sw.compile(str(bad))
    err = e.value
    assert err.status_name == "INPUT" and err.status == -1
    assert (err.file, err.line, err.col) == (str(bad), 5, 3)
    assert str(err).startswith(f"{bad}:5:3: error: ") and "colour" in str(err)


def test_usage_errors(sw):
    with pytest.raises(sw.Error, match="no sync named 'nope' \\(it has: refit, back\\)"):
        sw.compile(LLAMA_TINY, sync="nope")
    with pytest.raises(sw.Error, match="unknown scheduler 'fast'"):
        sw.compile(LLAMA_TINY, scheduler="fast")
    with pytest.raises(sw.Error) as e:
        sw.compile("/nonexistent/x.yaml")
    assert e.value.status_name == "IO"
    with pytest.raises(sw.Error, match="let constants are integers"):
        sw.compile(LLAMA_TINY, defines={"hidden": "big"})
    with pytest.raises(sw.Error, match="is not a size"):
        sw.compile(LLAMA_TINY, bucket="lots")


def test_defines_bucket_scheduler(sw):
    small = sw.compile(os.path.join(EXAMPLES, "llama3-8b.yaml"), sync="refit", defines=TINY8)
    assert small.nranks == 24
    emb = {t.name: t for t in small.local_tensors(16)}["model.embed_tokens.weight"]
    assert emb.shape == (512, 64)  # vocab 1000 padded to 1024, split over vLLM tp=2; hidden 64
    greedy = sw.compile(os.path.join(EXAMPLES, "llama3-8b.yaml"), defines=TINY8, scheduler="greedy", bucket="64KiB")
    assert greedy.nwaves >= small.nwaves


def test_compile_text(sw):
    p = sw.compile_text(TWO, name="two.yaml")
    assert (p.sync, p.from_layout, p.to_layout) == ("default", "a", "b")
    assert sorted(t.role for t in p.local_tensors(0)) == ["dst", "src"]
    with pytest.raises(sw.Error) as e:
        sw.compile_text(TWO.replace("split: {1: tp}", "split: {1: tq}"), name="two.yaml")
    assert e.value.file == "two.yaml" and e.value.line == 13


def test_save_load_rank_bytes(sw, tiny_plan, tmp_path):
    path = tmp_path / "refit.swp"
    tiny_plan.save(str(path))
    whole = sw.Plan.load(str(path))
    assert whole.ranks == tiny_plan.ranks and whole.ntasks == tiny_plan.ntasks
    assert whole.local_tensors(6) == tiny_plan.local_tensors(6)
    assert whole.to_bytes() == tiny_plan.to_bytes() == path.read_bytes()
    part = sw.Plan.load(str(path), rank=6)
    assert part.only_rank == 6 and part.ranks == tiny_plan.ranks
    assert part.local_tensors(6) == tiny_plan.local_tensors(6)
    with pytest.raises(sw.Error, match="rank 6's part only"):
        part.save(str(tmp_path / "x.swp"))
    with pytest.raises(sw.Error, match="loaded for rank 6 only"):
        sw.Session(part, backend="local")
    mem = sw.Plan.from_bytes(path.read_bytes(), rank=3)
    assert mem.only_rank == 3
    with pytest.raises(sw.Error) as e:
        sw.Plan.from_bytes(path.read_bytes()[:100])
    assert e.value.status_name in ("CORRUPT", "IO")
    # the CLI reads what Python wrote
    if os.path.exists(CLI):
        import subprocess
        r = subprocess.run([CLI, "verify", str(path)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_closed_plan(sw):
    p = sw.compile(LLAMA_TINY)
    p.close()
    with pytest.raises(sw.Error, match="closed"):
        p.to_bytes()
    p.close()  # twice is fine


def test_nccl_unique_id_without_nccl(sw):
    # the stub (or a build without NCCL) says so; with NCCL it is 128 bytes
    try:
        uid = sw.nccl_unique_id()
    except sw.Error as e:
        assert e.status_name == "UNSUPPORTED"
    else:
        assert isinstance(uid, bytes) and len(uid) == sw.NCCL_UNIQUE_ID_BYTES == 128


def test_library_found(sw):
    assert os.path.exists(sw.library_path()) or "libshardwave" in sw.library_path()
