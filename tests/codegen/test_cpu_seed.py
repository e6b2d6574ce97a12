"""The seed programs on the Numba CPU backend: jitted calls match plain ones.

Same oracle as tests/test_seed_programs.py (values, argument effects, and for
`noisy_rnn` the generator's final state, from same-seed generators), on
backend "cpu". Each program compiles one kernel (seconds of Numba time), so
each is its own test and pytest-xdist spreads them over the workers; kernels
land in a per-session cache directory.
"""

import os
import subprocess
import sys

import numpy as np
import pytest

import looptrace
from looptrace.examples import PROGRAMS

RTOL, ATOL = 1e-9, 1e-12


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def twin_args(entry, rng):
    seed = int(rng.integers(2**32))
    make = entry["make_args"]
    return make(np.random.default_rng(seed)), make(np.random.default_rng(seed))


def assert_same(expected, got, what="value"):
    expected, got = np.asarray(expected), np.asarray(got)
    assert got.shape == expected.shape, what
    assert got.dtype == expected.dtype, what
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=ATOL, err_msg=what)


@pytest.mark.parametrize("name", PROGRAMS)
def test_cpu_matches_plain(name, rng):
    entry = PROGRAMS[name]
    args_plain, args_jit = twin_args(entry, rng)
    expected = entry["fn"](*args_plain)
    got = looptrace.jit(entry["fn"], backend="cpu")(*args_jit)
    assert_same(expected, got)
    for k, (a, b) in enumerate(zip(args_plain, args_jit, strict=True)):
        if isinstance(a, np.ndarray):
            assert_same(a, b, f"argument {k}")
        if isinstance(a, np.random.Generator):
            assert b.bit_generator.state == a.bit_generator.state, f"generator argument {k}"


def test_auto_backend_is_cpu():
    f = looptrace.jit(PROGRAMS["double_map"]["fn"])
    assert f.resolve_backend([np.ones(3)]) == "cpu"


def test_auto_backend_does_not_import_numba_cuda():
    """Choosing the CPU for host arrays must not pay for the CUDA probe (importing numba.cuda
    takes about 2 s, which landed in every cold call before)."""
    code = ("import sys, numpy as np, looptrace\n"
            "f = looptrace.jit(lambda x: x * 2.0)\n"
            "assert f.resolve_backend([np.ones(3)]) == 'cpu'\n"
            "print('numba.cuda' in sys.modules)\n")
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_ENABLE_CUDASIM", "LOOPTRACE_CUDA_SIM")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_second_call_reuses_the_kernel(rng):
    f = looptrace.jit(PROGRAMS["sum_reduce"]["fn"], backend="cpu")
    x = rng.standard_normal(7)
    f(x)
    (compiled,) = f._cache.values()
    assert f(x + 1.0) == pytest.approx(np.sum(x + 1.0), rel=1e-12)
    assert list(f._cache.values()) == [compiled]
