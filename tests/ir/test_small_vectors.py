"""Small vectors made only to be taken apart (ir/small_vectors.py): an ODE's
right-hand side `np.array([dx, dy])` read back as `k[0]`, `k[1]`, and the
one-hot adjoints its gradient adds up, are computed as scalars. Values
against the plain function (and gradients against finite differences) on
interpret and cpu; the IR after the pass holds no such vector in the loop."""
import numpy as np
import pytest

import looptrace
from looptrace import pipeline
from looptrace.ir.core import walk
from looptrace.ir.small_vectors import SMALL


def _rhs(p, x, y):
    return np.array([p[0] * x - p[1] * x * y, p[1] * x * y - p[2] * y])


def rk4(p):
    x, y = 1.0, 0.5
    dt = 0.05
    for t in range(30):
        k1 = _rhs(p, x, y)
        k2 = _rhs(p, x + 0.5 * dt * k1[0], y + 0.5 * dt * k1[1])
        k3 = _rhs(p, x + 0.5 * dt * k2[0], y + 0.5 * dt * k2[1])
        k4 = _rhs(p, x + dt * k3[0], y + dt * k3[1])
        x = x + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
        y = y + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    return x + y * y


def mixed(a, s):
    """Element reads and sums through slices, concatenations, in-place
    element writes, broadcasts and constants."""
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        v = np.array([a[i], s * a[i], 2.0])
        w = np.concatenate((v[1:], np.array([a[i] - s])))  # 3 elements
        w[0] = w[0] + v[2]
        u = w * v + 1.0
        out[i] = u[0] - u[2] * w.sum() + np.sum(v[::2]) + u[1:].sum()
    return out


def wide(a):
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        v = np.ones(SMALL + 1) * a[i]
        out[i] = v[0] + v.sum()
    return out


def _fd(f, p, h=1e-6):
    g = np.empty_like(p)
    for i in range(p.size):
        e = np.zeros_like(p)
        e[i] = h
        g[i] = (f(p + e) - f(p - e)) / (2 * h)
    return g


def _loop_vectors(fn, *args):
    program = looptrace.jit(fn, backend="interpret").trace(list(args))
    program = pipeline.run_passes(program, upto="small_vectors")
    loops = [op for op in walk(program.body) if op.prim.name == "for_loop"]
    made = ("select", "concatenate", "iota", "update_slice", "dynamic_update_slice", "broadcast_to", "reduce_sum",
            "add", "multiply")
    return [op.prim.name for loop in loops for op in walk(loop.blocks[0])
            if op.prim.name in made and 1 < int(np.prod(op.out.shape)) <= SMALL]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_rk4_values_and_gradient(backend, rng):
    p = np.array([1.0, 0.5, 0.3]) + 0.1 * rng.random(3)
    np.testing.assert_allclose(looptrace.jit(rk4, backend=backend)(p), rk4(p), rtol=1e-12)
    g = looptrace.grad(looptrace.jit(rk4, backend=backend))(p)
    np.testing.assert_allclose(g, _fd(rk4, p), rtol=1e-6)


def test_rk4_loop_makes_no_vector():
    assert _loop_vectors(rk4, np.array([1.0, 0.5, 0.3])) == []


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_reads_through_slices_writes_and_concatenations(backend, rng):
    a, s = rng.standard_normal(SMALL + 3), float(rng.standard_normal())  # (out: no small vector)
    np.testing.assert_allclose(looptrace.jit(mixed, backend=backend)(a, s), mixed(a, s), rtol=1e-13)
    assert _loop_vectors(mixed, a, s) == []


def test_gradient_of_the_mixed_reads(rng):
    a, s = rng.standard_normal(5), float(rng.standard_normal())
    # (backend="interpret": the outer function's own default backend compiled a cpu kernel, 4 s of
    # the suite; the small vectors' cpu gradient is test_rk4_values_and_gradient[cpu]'s)
    g = looptrace.grad(lambda a: looptrace.jit(mixed, backend="interpret")(a, s).sum(), backend="interpret")(a)
    np.testing.assert_allclose(g, _fd(lambda a: mixed(a, s).sum(), a), rtol=1e-6, atol=1e-8)


def test_vectors_longer_than_small_stay(rng):
    a = rng.standard_normal(4)
    np.testing.assert_allclose(looptrace.jit(wide, backend="interpret")(a), wide(a), rtol=1e-13)
    assert _loop_vectors(wide, a)


def signed_zeros(a):
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        v = np.array([np.copysign(0.0, a[i]), -0.0, 0.0 * a[i]])
        out[i] = v[0] - 0.0 + v[1] if i % 2 else v[:2].sum()  # (the sign of a[i]; NumPy's sum: +0.0)
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_signed_zeros_are_numpys(backend, rng):
    a = rng.standard_normal(SMALL + 3)
    got, want = looptrace.jit(signed_zeros, backend=backend)(a), signed_zeros(a)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
    assert np.signbit(want).any() and not np.signbit(want).all()


def half_sums(x):
    a = np.float16(x[0]) * np.float16(2048)
    v = np.array([a, np.float16(1), np.float16(1), np.float16(1)])
    return v.sum(), v.mean()


def test_float16_sums_stay_numpys():
    """NumPy adds float16 in float32 and rounds once: 2048 + 1 + 1 + 1 is 2052,
    not the 2048 of adding in float16 (a fold of float16 scalars)."""
    x = np.ones(3)
    got, want = looptrace.jit(half_sums, backend="interpret")(x), half_sums(x)
    assert [float(g) for g in got] == [float(w) for w in want] == [2052.0, 513.0]
