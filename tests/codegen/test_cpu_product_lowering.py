"""How the CPU target lowers products (cpu/contract.py).

A batch of products whose each result is tiny (n-body's
`(d * w[:, :, None]).sum(axis=1)`: per body, a 3-vector) is written as loops,
not as one BLAS call per batch item after copying the operands into the
(batch, rows, summed) layout (cpu/contract.py `_tiny_batched`). Larger
per-item results still go to BLAS. A product with an array result is
`np.dot(a, b, out)` into an array allocated first (through templates.py's
`dot_into`, compiled once into Numba's disk cache): Numba's two-argument
np.dot adds an allocating layer that costs compile time (`_dot_into`).
The plain function is the oracle."""
import numpy as np
import pytest

import looptrace
from bench.corpus.misc import power_iteration
from bench.corpus.nbody import nbody_accel_broadcast


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def weighted_rows(d, w):
    return (d * w[:, :, None]).sum(axis=1)


def batched_matmul(a, b):
    return np.einsum("bij,bjk->bik", a, b)


def test_tiny_results_are_loops():
    rng = np.random.default_rng(5)
    d, w = rng.standard_normal((60, 90, 3)), rng.standard_normal((60, 90))
    f = looptrace.jit(weighted_rows, backend="cpu")
    np.testing.assert_allclose(f(d, w), weighted_rows(d, w), rtol=1e-12)
    src = f.explain(d, w).kernel_source
    assert "np.dot" not in src and "dot_into" not in src


def test_nbody_broadcast_matches():
    rng = np.random.default_rng(6)
    pos, mass = rng.standard_normal((70, 3)), rng.uniform(0.5, 1.5, 70)
    f = looptrace.jit(nbody_accel_broadcast, backend="cpu")
    np.testing.assert_allclose(f(pos, mass), nbody_accel_broadcast(pos, mass), rtol=1e-10)


def test_larger_results_still_use_blas():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((4, 30, 40)), rng.standard_normal((4, 40, 20))
    f = looptrace.jit(batched_matmul, backend="cpu")
    np.testing.assert_allclose(f(a, b), batched_matmul(a, b), rtol=1e-12)
    assert "dot_into(" in f.explain(a, b).kernel_source  # BLAS (codegen/cpu/templates.py)


def test_products_write_into_an_allocated_result():
    rng = np.random.default_rng(8)
    A, v = rng.standard_normal((80, 80)), rng.standard_normal(80)
    f = looptrace.jit(power_iteration, backend="cpu")
    for e, g in zip(power_iteration(A, v, 5), f(A, v, 5), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10)
    src = f.explain(A, v, 5).kernel_source
    assert "dot_into(" in src and "np.dot(" not in src, src  # never the allocating two-argument form
