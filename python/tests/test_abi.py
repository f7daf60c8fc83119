"""The ctypes structs of shardwave/_lib.py against include/shardwave.h: size and the
offset of every field, as the C compiler lays them out."""

import ctypes
import os
import shutil
import subprocess

import pytest

from conftest import REPO

STRUCTS = ["sw_error", "sw_plan_info", "sw_tensor_info", "sw_piece_info", "sw_define", "sw_compile_options",
           "sw_session_opts", "sw_tensor_desc"]


def test_structs_match_header(tmp_path):
    from shardwave import _lib
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to read the header's layout")
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "shardwave.h"', "int main(void) {"]
    for name in STRUCTS:
        cls = getattr(_lib, name)
        lines.append(f'    printf("{name} sizeof %zu\\n", sizeof({name}));')
        for f, _ in cls._fields_:
            cf = "from" if f == "from_" else f
            lines.append(f'    printf("{name} {f} %zu\\n", offsetof({name}, {cf}));')
    lines += ["    printf(\"SW_NCCL_UNIQUE_ID_BYTES %d\\n\", SW_NCCL_UNIQUE_ID_BYTES);", "    return 0;", "}"]
    src = tmp_path / "abi.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "abi"
    subprocess.run([cc, "-std=c11", "-I", os.path.join(REPO, "include"), str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split("\n")
    got = {tuple(l.split()[:2]): int(l.split()[2]) for l in out if l.startswith("sw_")}
    for name in STRUCTS:
        cls = getattr(_lib, name)
        assert got[(name, "sizeof")] == ctypes.sizeof(cls), name
        for f, _ in cls._fields_:
            assert got[(name, f)] == getattr(cls, f).offset, f"{name}.{f}"
    assert int([l for l in out if l.startswith("SW_NCCL")][0].split()[1]) == _lib.NCCL_UNIQUE_ID_BYTES


def test_status_names_match_header():
    from shardwave import _lib
    lib = _lib.load()
    for code, name in _lib.STATUS.items():
        assert lib.sw_status_str(code).decode() != "", name
    assert lib.sw_status_str(-6).decode() == "not supported by this build"
    assert lib.sw_status_str(-9).decode() == "validation mismatch"
