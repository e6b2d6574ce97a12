"""Numba's OpenMP threads sleep at once when idle (OMP_WAIT_POLICY=passive),
set before the first kernel with a prange is built, unless the user chose a
wait policy or an OpenMP runtime is already loaded (threading_policy.py).
Speed is measured in bench/busy_core.py, not here."""

import os
import subprocess
import sys
import textwrap

import pytest

from looptrace.codegen.cpu import threading_policy as tp


@pytest.fixture
def fresh_policy(monkeypatch):
    monkeypatch.setattr(tp, "_done", False)
    for k in tp.USER_CHOICES:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setattr(tp, "openmp_loaded", lambda: False)
    yield
    os.environ.pop("OMP_WAIT_POLICY", None)


def test_sets_passive_once(fresh_policy):
    assert tp.prepare_threads() == "passive"
    assert os.environ["OMP_WAIT_POLICY"] == "passive"
    os.environ["OMP_WAIT_POLICY"] = "active"  # changed later by the user: left alone
    assert tp.prepare_threads() is None
    assert os.environ["OMP_WAIT_POLICY"] == "active"


@pytest.mark.parametrize("var,value", [("OMP_WAIT_POLICY", "active"), ("GOMP_SPINCOUNT", "300000")])
def test_user_choice_is_kept(fresh_policy, monkeypatch, var, value):
    monkeypatch.setenv(var, value)
    assert tp.prepare_threads() is None
    assert os.environ.get("OMP_WAIT_POLICY") == (value if var == "OMP_WAIT_POLICY" else None)


def test_nothing_changes_once_openmp_is_loaded(fresh_policy, monkeypatch):
    monkeypatch.setattr(tp, "openmp_loaded", lambda: True)
    assert tp.prepare_threads() is None
    assert "OMP_WAIT_POLICY" not in os.environ


def test_a_parallel_kernel_applies_it_before_numba_loads_its_threads(tmp_path):
    """In a fresh process: no OpenMP before the first prange kernel, passive
    after it, and the threaded row norms match NumPy."""
    code = textwrap.dedent("""
        import os
        import numpy as np
        import looptrace
        from looptrace.codegen.cpu.threading_policy import openmp_loaded
        assert not openmp_loaded()
        def row_norms(a):
            return np.sqrt((a * a).sum(axis=1))
        a = np.random.default_rng(0).standard_normal((1100, 1000))
        f = looptrace.jit(row_norms, backend="cpu", parallel=True)
        assert "numba.prange(" in f.explain(a).kernel_source
        np.testing.assert_allclose(f(a), row_norms(a), rtol=1e-12)
        print(os.environ.get("OMP_WAIT_POLICY"))
    """)
    env = {k: v for k, v in os.environ.items() if k not in tp.USER_CHOICES}
    env["LOOPTRACE_CACHE_DIR"] = str(tmp_path)
    env["PYTHONPATH"] = os.getcwd()
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "passive"
