"""np.convolve and np.correlate with a long kernel (more taps than
np_arrays.UNROLL_KERNEL): a sliding dot product whose positions come from
two ramps, with no (outputs, taps) table of positions baked into the
program, so neither the program nor its compile time grows with the
outputs times the taps. Values against NumPy in every mode and argument
order, on the interpreter and a representative set on the cpu backend."""
from __future__ import annotations

import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk
from looptrace.tracer.np_arrays import UNROLL_KERNEL

from ._compare import check

MODES = ["full", "same", "valid"]
LONG = UNROLL_KERNEL + 32


def _data(rng, n, dtype):
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-50, 50, n).astype(dtype)
    if np.dtype(dtype).kind == "c":
        return (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(dtype)
    return rng.standard_normal(n).astype(dtype)


def conv(a, v, mode):
    return np.convolve(a, v, mode=mode)


def corr(a, v, mode):
    return np.correlate(a, v, mode=mode)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n,m", [(200, LONG), (LONG, 200), (LONG, LONG), (LONG + 1, LONG), (3, LONG), (1, LONG)])
def test_long_convolve_matches_numpy(rng, mode, n, m):
    a, v = rng.standard_normal(n), rng.standard_normal(m)
    check(lambda x, k: (conv(x, k, mode), corr(x, k, mode)), a, v)


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32", "complex128"])
def test_long_convolve_dtypes(rng, dtype):
    a, v = _data(rng, 150, dtype), _data(rng, LONG, dtype)
    rtol = 1e-12 if dtype == "complex128" else None  # floats: NumPy's own sums associate otherwise
    check(lambda x, k: tuple(conv(x, k, mode) for mode in MODES), a, v, rtol=rtol)
    check(lambda x, k: conv(k, x.astype(np.float64), "same"), a, v, rtol=rtol)  # mixed dtypes, kernel first


def test_long_kernel_made_in_the_function(rng):
    def ewma(p):
        w = 0.9 ** np.arange(64)[::-1]
        return np.convolve(p, w / w.sum(), mode="valid")

    check(ewma, rng.standard_normal(500))


def _constant_elements(fn, *args) -> int:
    prog = looptrace.jit(fn, backend="interpret").trace(list(args))
    seen = {}
    for op in walk(prog.body):
        for x in op.inputs:
            if x.const is not None:
                seen[id(x)] = np.size(x.const)
    return sum(seen.values())


@pytest.mark.parametrize("mode", MODES)
def test_no_table_of_positions(rng, mode):
    """The program holds no constant that grows with outputs * taps (it held
    an (outputs, taps) int64 table: 1 GB at 2*10^6 outputs and 64 taps)."""
    n, m = 5000, 64
    size = _constant_elements(lambda x, k: conv(x, k, mode), rng.standard_normal(n), rng.standard_normal(m))
    assert size < n, size


def test_long_convolve_in_a_loop(rng):
    def rows(x, k):
        out = np.empty((x.shape[0], x.shape[1] + k.shape[0] - 1))
        for i in range(x.shape[0]):
            out[i] = np.convolve(x[i], k)
        return out

    check(rows, rng.standard_normal((4, 70)), rng.standard_normal(LONG))


def test_long_convolve_gradient(rng):
    a, v = rng.standard_normal(80), rng.standard_normal(LONG)
    f = looptrace.jit(lambda x, k: (np.convolve(x, k, "same") ** 2).sum(), backend="interpret")
    ga, gv = looptrace.grad(f, argnums=(0, 1))(a, v)
    eps = 1e-6
    for g, which in ((ga, 0), (gv, 1)):
        args = [a, v]
        for i in (0, 7, len(args[which]) - 1):
            up, down = [x.copy() for x in args], [x.copy() for x in args]
            up[which][i] += eps
            down[which][i] -= eps
            num = (f.py_func(*up) - f.py_func(*down)) / (2 * eps)
            assert abs(g[i] - num) <= 1e-5 * max(1.0, abs(num))


@pytest.mark.parametrize("mode", MODES)
def test_long_convolve_on_cpu(rng, mode):
    a, v = rng.standard_normal(3000), rng.standard_normal(64)
    check(lambda x, k: conv(x, k, mode), a, v, backend="cpu")


def test_long_correlate_swapped_on_cpu(rng):
    a, v = rng.integers(-9, 9, 50), rng.integers(-9, 9, 300)
    check(lambda x, k: (corr(x, k, "full"), conv(x, k, "valid")), a, v, backend="cpu")
