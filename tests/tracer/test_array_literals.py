"""np.array([...]) of traced scalars (tracer/semantics.py
`array_from_sequence`): a few scalars become selects over an iota that a
consumer's loop nest computes in place; NumPy's dtype rules for array
creation (a Python number takes its default dtype, no weak promotion).
Values and dtypes are compared with the plain function."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.algorithms import rk4_lorenz

KINDS = ["f64", "f32", "i32", "i64", "py_float", "py_int", "bool"]


def _make(kinds):
    """A function of one float64, one float32 and one int32 array making
    np.array of scalars of the given kinds (elements read from the arrays,
    or Python numbers)."""
    parts = {"f64": "a[{k}] * 1.5", "f32": "b[{k}]", "i32": "c[{k}] + c[0]", "i64": "np.int64(c[{k}]) * 2",
             "py_float": "0.25", "py_int": "3", "bool": "a[{k}] > 0"}
    items = ", ".join(parts[kind].format(k=k % 3) for k, kind in enumerate(kinds))
    src = f"def literal(a, b, c):\n    v = np.array([{items}])\n    return v, v * 2 + 1\n"
    namespace = {"np": np}
    exec(compile(src, "<literal>", "exec"), namespace)
    return namespace["literal"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=10), st.integers(0, 2 ** 31))
def test_literals_have_numpys_values_and_dtype(kinds, seed):
    if all(k in ("py_float", "py_int") for k in kinds):
        kinds = kinds + ["f32"]  # at least one traced element
    rng = np.random.default_rng(seed)
    args = (rng.standard_normal(3), rng.standard_normal(3).astype(np.float32), rng.integers(-9, 9, 3, dtype=np.int32))
    fn = _make(kinds)
    want = fn(*args)
    got = looptrace.jit(fn, backend="interpret")(*args)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype, (kinds, g.dtype, w.dtype)
        np.testing.assert_array_equal(g, w)


def test_nested_literals(rng):
    def rows(x):
        return np.array([[x[0], x[1]], [x[1] * 2.0, 1.0]]) @ x[:2]

    x = rng.standard_normal(3)
    np.testing.assert_array_equal(looptrace.jit(rows, backend="interpret")(x), rows(x))


def test_a_small_literal_in_a_recurrence_allocates_nothing_per_step(rng):
    """RK4 on the Lorenz system builds four 3-element arrays a step: on the cpu
    backend they are computed in the nests that read them (no piece arrays,
    no concatenation), with the plain function's bits."""
    args = (rng.standard_normal(3), 0.001, 200)
    f = looptrace.jit(rk4_lorenz, backend="cpu")
    np.testing.assert_array_equal(f(*args), rk4_lorenz(*args))
    src = f.explain(*args).kernel_source
    assert "# joined" not in src and "filled((1, )" not in src
