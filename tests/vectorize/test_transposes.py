"""Transposes and static slices moved through the elementwise ops they
read (vectorize/transposes.py), so a product a loop's
batching made in a permuted layout is made in its reader's, and a part of a
broadcast difference is computed from the parts of its operands. Values are
the plain function's; the program after the pass has no transpose left where
two cancel (numba-benchmark's nbody_numpy: 0.40x NumPy before, at 4096
bodies three arrays of 4096 x 4096 x 2 floats were made)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.physics import spring_chain
from looptrace.ir.core import walk

EPS = np.float32(1e-6)


def nbody_numpy(positions, weights):
    """numba-benchmark's run_numpy_nbody."""
    accelerations = np.zeros_like(positions)
    n = weights.size
    for j in range(n):
        r = positions[j] - positions
        rx = r[:, 0]
        ry = r[:, 1]
        sqr_dist = rx * rx + ry * ry + EPS
        sixth_dist = sqr_dist * sqr_dist * sqr_dist
        inv_dist_cube = 1.0 / np.sqrt(sixth_dist)
        s = weights[j] * inv_dist_cube
        accelerations += (r.transpose() * s).transpose()
    return accelerations


def permuted_products(a, b, c):
    out = (a.T * b.T).T + np.transpose(np.transpose(c, (1, 2, 0)) * 2.0, (2, 0, 1))
    return out, (a.T + 1.0).T[1:, ::2], np.exp(b.T).T


def sliced_differences(x, y):
    d = x[:, None, :] - y  # (n, m, k) from (n, 1, k) and (m, k)
    return d[:, :, 0] * d[:, :, 1], d[::2, 1:, :].sum(axis=1)


def reshaped_chain(x, w):
    s = np.sqrt(x * x + 1.0) * w[:, None]
    return (s[:, :, None] * x[:, :, None] + 1.0).sum(axis=0)


CASES = [
    (nbody_numpy, lambda r: (r.uniform(-1, 1, (24, 2)).astype(np.float32), r.uniform(1, 2, 24).astype(np.float32))),
    (permuted_products, lambda r: (r.standard_normal((4, 5)), r.standard_normal((4, 5)), r.standard_normal((3, 4, 5)))),
    (sliced_differences, lambda r: (r.standard_normal((5, 3)), r.standard_normal((6, 3)))),
    (reshaped_chain, lambda r: (r.standard_normal((5, 4)), r.standard_normal(5))),
]


def _close(got, want, rtol):
    for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,make", CASES, ids=[c[0].__name__ for c in CASES])
def test_like_the_plain_function(backend, fn, make, rng):
    args = make(rng)
    rtol = 2e-5 if args[0].dtype == np.float32 else 1e-12
    _close(looptrace.jit(fn, backend=backend)(*args), fn(*args), rtol)


def test_the_permuted_product_is_made_in_its_readers_layout(rng):
    args = CASES[0][1](rng)
    e = looptrace.explain(nbody_numpy, *args)
    names = [op.prim.name for op in walk(e.program.body)]
    assert "transpose" not in names and [l.kind for l in e.loops] == ["reduction"]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5), m=st.integers(1, 5), k=st.integers(2, 4), seed=st.integers(0, 2 ** 16))
def test_generated_shapes(n, m, k, seed):
    r = np.random.default_rng(seed)
    x, y = r.standard_normal((n, k)), r.standard_normal((m, k))
    _close(looptrace.jit(sliced_differences, backend="interpret")(x, y), sliced_differences(x, y), 1e-12)
    a, b, c = r.standard_normal((n, m)), r.standard_normal((n, m)), r.standard_normal((k, n, m))
    _close(looptrace.jit(permuted_products, backend="interpret")(a, b, c), permuted_products(a, b, c), 1e-12)
    w = r.standard_normal(n)
    _close(looptrace.jit(reshaped_chain, backend="interpret")(a, w), reshaped_chain(a, w), 1e-12)


def contour_integral(NR, NM, slab_per_bc, Ham, int_pts, Y):
    """npbench's contour_integral."""
    P0 = np.zeros((NR, NM), dtype=np.complex128)
    P1 = np.zeros((NR, NM), dtype=np.complex128)
    for z in int_pts:
        Tz = np.zeros((NR, NR), dtype=np.complex128)
        for n in range(slab_per_bc + 1):
            zz = np.power(z, slab_per_bc / 2 - n)
            Tz += zz * Ham[n]
        X = np.linalg.solve(Tz, Y)
        if abs(z) < 1.0:
            X = -X
        P0 += X
        P1 += z * X
    return P0, P1


# cpu: slow, what is tested is the program (below); the file's first backend-parametrized test keeps its cpu
# kernel, tests/codegen the complex power's and solve's lowering
@pytest.mark.parametrize("backend", ["interpret", pytest.param("cpu", marks=pytest.mark.slow)])
def test_a_costly_op_is_not_reshaped_into_a_broadcast(backend, rng):
    """Unit-axis reshapes stay where they are: the complex power of
    contour_integral, lined up as (n, 1, 1) against Ham[n], stays one value
    per point (a version of the pass that moved the reshape into it made the
    cpu kernel compute it again for each of the 50 x 50 elements it
    multiplies: 2.4x slower)."""
    ham = rng.random((3, 6, 6)) + 1j * rng.random((3, 6, 6)) + 4 * np.eye(6)
    pts, y = rng.random(5) + 1j * rng.random(5), rng.random((6, 4)) + 1j * rng.random((6, 4))
    args = (6, 4, 2, ham, pts, y)
    _close(looptrace.jit(contour_integral, backend=backend)(*args), contour_integral(*args), 1e-10)
    powers = [op for op in walk(looptrace.explain(contour_integral, *args).program.body) if op.prim.name == "power"]
    assert powers and all(op.out.ndim == 1 for op in powers)


def test_slices_of_computed_operands_keep_the_values(rng):
    """spring_chain, whose np.roll reads slices of a computed step: the pass
    leaves slices of computed operands alone (their cost, 4.9 -> 9.2 ms
    when it did not, is measured by bench/corpus.py, not asserted here)."""
    x, v = rng.standard_normal(64), rng.standard_normal(64)
    for backend in ("interpret", "cpu"):
        _close(looptrace.jit(spring_chain, backend=backend)(x, v, 0.7, 0.01, 5), spring_chain(x, v, 0.7, 0.01, 5),
               1e-12)


def normalized_products(A, B):
    An = A / np.linalg.norm(A, axis=1, keepdims=True)
    Bn = B / np.linalg.norm(B, axis=1, keepdims=True)
    return An @ Bn.T, (2.0 * B).T @ A


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_product_operand_is_made_in_its_inputs_layout(backend, rng):
    """A transposed operand of a product stays a transpose of the value made
    in its inputs' layout (BLAS takes the F-ordered view), not a value made
    by reading its inputs down their columns."""
    A, B = rng.standard_normal((40, 7)), rng.standard_normal((40, 7))
    f = looptrace.jit(normalized_products, backend=backend)
    for got, want in zip(f(A, B), normalized_products(A, B)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    program = f.explain(A, B).program
    args = {v.id for v in program.body.args}
    transposed_args = [op for op in walk(program.body) if op.prim.name == "transpose" and op.inputs[0].id in args]
    assert not transposed_args
