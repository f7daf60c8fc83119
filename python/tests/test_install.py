"""`pip install .` into a fresh virtual environment (no site packages): the wheel builds
the C library with CMake and carries it; `import shardwave` loads that copy.  Run when
SHARDWAVE_TEST_PIP=1 (`make test` sets it): it builds the library once more (minutes)."""

import os
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.skipif(os.environ.get("SHARDWAVE_TEST_PIP") != "1",
                                reason="SHARDWAVE_TEST_PIP=1 checks pip install . (make test sets it)")


def test_pip_install_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("SHARDWAVE_LIBRARY", "PYTHONPATH")}
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", "2")  # the machine's two cores, shared
    r = subprocess.run([py, "-m", "pip", "install", "-q", REPO], env=env, capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    code = ("import shardwave as sw, os; from shardwave import validate\n"
            "p = sw.compile(os.path.join(%r, 'examples', 'llama_tiny.yaml'), sync='refit')\n"
            "t = {r: validate.allocate(p, r) for r in p.ranks}\n"
            "[validate.fill_sources(p, r, x) or validate.poison_destinations(p, r, x) for r, x in t.items()]\n"
            "sw.run_local(p, t)\n"
            "n = sum(validate.check_destinations(p, r, x) for r, x in t.items())\n"
            "print(sw.library_path()); print(n)\n" % REPO)
    r = subprocess.run([py, "-c", code], env=env, capture_output=True, text=True, cwd=str(tmp_path), timeout=300)
    assert r.returncode == 0, r.stderr
    lib, n = r.stdout.split()
    assert lib.startswith(str(venv)) and "site-packages/shardwave/libshardwave.so" in lib  # the wheel's own copy
    assert int(n) == 11264
