"""Calls to helper functions and to other jitted functions, argument kinds
(arrays, traced Python scalars, static arguments, generators) and what
`explain` reports about loops."""

import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk
from ._loopcheck import check


# --- helpers traced through ---------------------------------------------------------------
def _step(h, x, W):
    return np.tanh(W @ h + x)


def _cumsum_loop(x):
    out = np.empty_like(x)
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i]
        out[i] = s
    return out


def _scale_inplace(v, a):
    v *= a


def calls_helper(X, h0, W):
    h = h0
    for t in range(X.shape[0]):
        h = _step(h, X[t], W)
    return h


def calls_helper_with_loop(X):
    out = np.zeros_like(X)
    for i in range(X.shape[0]):
        out[i] = _cumsum_loop(X[i])
    return out


def calls_helper_writing(x):
    y = x * 1.0
    _scale_inplace(y, 3.0)
    _scale_inplace(x, 2.0)
    return y


def calls_nested_def(x):
    def inner(v, k):
        return v * k + 1

    return inner(x, 2) + inner(x, 3)


def calls_closure(x):
    scale = 2.5

    def inner(v):
        return v * scale

    s = 0.0
    for i in range(x.shape[0]):
        s = s + inner(x[i])
    return s


def calls_kwargs(x):
    return _kw(x, b=3.0) + _kw(x)


def _kw(x, a=1.0, *, b=2.0):
    return x * a + b


def test_helpers_traced_through(rng):
    check(calls_helper, rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal((3, 3)))
    check(calls_helper_with_loop, rng.standard_normal((3, 4)))
    check(calls_helper_writing, rng.standard_normal(4))
    check(calls_nested_def, rng.standard_normal(4))
    check(calls_closure, rng.standard_normal(4))
    check(calls_kwargs, rng.standard_normal(4))


def test_helper_loops_are_one_loop_op(rng):
    f = looptrace.jit(calls_helper_with_loop, backend="interpret")
    prog = f.trace([rng.standard_normal((3, 4))])
    loops = [op for op in walk(prog.body) if op.prim.name == "for_loop"]
    assert len(loops) == 2  # the outer loop and the helper's loop, each traced once


# --- other jitted functions ------------------------------------------------------------------
@looptrace.jit(backend="interpret")
def jitted_cumsum(x):
    return _cumsum_loop(x)


@looptrace.jit(backend="interpret", static_argnames=("k",))
def jitted_power(x, k):
    y = x
    for _ in range(k - 1):
        y = y * x
    return y


def calls_jitted(X):
    out = np.zeros_like(X)
    for i in range(X.shape[0]):
        out[i] = jitted_cumsum(X[i]) + jitted_power(X[i], 3)
    return out


def test_calls_to_jitted(rng):
    X = rng.standard_normal((3, 4))
    want = np.stack([np.cumsum(X[i]) + X[i] ** 3 for i in range(3)])
    got = looptrace.jit(calls_jitted, backend="interpret")(X)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    np.testing.assert_allclose(jitted_cumsum(X[0]), np.cumsum(X[0]), rtol=1e-9)


# --- argument kinds ----------------------------------------------------------------------------
def scalar_args(x, a, n, flag):
    s = x * a
    for i in range(n):
        s = s + i
    if flag:
        s = -s
    return s


def test_python_scalars_are_traced(rng):
    x = rng.standard_normal(3)
    f = check(scalar_args, x, 1.5, 2, True)
    check(scalar_args, x, -0.5, 4, False, jitted=f)
    check(scalar_args, x, 2.0, 0, True, jitted=f)
    assert len(f._cache) == 1


def test_scalar_kinds_and_dtypes(rng):
    x = rng.standard_normal(3).astype(np.float32)
    f = check(scalar_args, x, 1.5, 2, True, rtol=1e-6)
    check(scalar_args, x, 2, 1, 0, jitted=f, rtol=1e-6)  # an int where a float was: a new signature
    check(scalar_args, rng.standard_normal(3), np.float32(0.5), np.int32(3), np.bool_(True))


def static_shape(x, n):
    out = np.zeros((n, x.shape[0]))
    for i in range(n):
        out[i] = x * i
    return out


def test_static_argnames(rng):
    x = rng.standard_normal(3)
    f = check(static_shape, x, 2, static_argnames=("n",))
    check(static_shape, x, 4, jitted=f)
    check(static_shape, x, 2, jitted=f)
    assert len(f._cache) == 2


def test_static_argnames_string_form(rng):
    f = looptrace.jit(static_shape, backend="interpret", static_argnames="n")
    check(static_shape, rng.standard_normal(2), 3, jitted=f)


def static_none(x, w=None):
    if w is None:
        return x * 2
    return x * w


def test_none_and_defaults(rng):
    x = rng.standard_normal(3)
    f = check(static_none, x)
    check(static_none, x, rng.standard_normal(3), jitted=f)


def test_kwargs_call(rng):
    x = rng.standard_normal(3)
    f = looptrace.jit(scalar_args, backend="interpret")
    np.testing.assert_allclose(f(x, n=2, a=0.5, flag=False), scalar_args(x, 0.5, 2, False))


def test_cache_per_shape(rng):
    f = looptrace.jit(_cumsum_loop, backend="interpret")
    check(_cumsum_loop, rng.standard_normal(3), jitted=f)
    check(_cumsum_loop, rng.standard_normal(3), jitted=f)
    check(_cumsum_loop, rng.standard_normal(5), jitted=f)
    check(_cumsum_loop, rng.standard_normal(5).astype(np.float32), jitted=f, rtol=1e-5)
    assert len(f._cache) == 3


def test_py_func(rng):
    f = looptrace.jit(_cumsum_loop, backend="interpret")
    assert f.py_func is _cumsum_loop


def test_integer_and_bool_arrays(rng):
    check(_cumsum_loop, rng.integers(-5, 5, size=6))
    check(lambda_free_and, rng.standard_normal(5) > 0, rng.standard_normal(5) > 0)


def lambda_free_and(a, b):
    out = np.zeros(a.shape[0], dtype=np.bool_)
    for i in range(a.shape[0]):
        out[i] = a[i] & b[i]
    return out


def returns_structure(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
    return {"sum": s, "pair": (x * 2, [s, 1])}, None


def test_output_structures(rng):
    x = rng.standard_normal(4)
    got = looptrace.jit(returns_structure, backend="interpret")(x)
    want = returns_structure(x)
    assert got[1] is None
    np.testing.assert_allclose(got[0]["sum"], want[0]["sum"])
    np.testing.assert_allclose(got[0]["pair"][0], want[0]["pair"][0])
    assert got[0]["pair"][1][1] == 1
    np.testing.assert_allclose(got[0]["pair"][1][0], want[0]["pair"][1][0])


# --- explain: one LoopReport per source loop, in source order ------------------------------------
def many_loops(X, n):
    s = 0.0
    for i in range(X.shape[0]):          # loop 1
        for j in range(X.shape[1]):      # loop 2
            s = s + X[i, j]
    k = 0
    while k < n:                         # loop 3
        s = s * 0.5
        k += 1
    for row in X:                        # loop 4
        if row.sum() > 10.0:
            break
        s = s + row[0]
    return s


def test_explain_loop_list(rng):
    X = rng.standard_normal((3, 4))
    e = looptrace.jit(many_loops, backend="interpret").explain(X, 2)
    first = many_loops.__code__.co_firstlineno
    assert [l.line - first for l in e.loops] == [2, 3, 6, 9]
    kinds = [l.kind for l in e.loops]
    assert all(k in ("vectorized", "reduction", "scan", "while") for k in kinds)
    assert kinds[2:] == ["while", "while"]  # data-dependent exits
    assert "loops:" in str(e)
    e2 = looptrace.explain(many_loops, X, 2)
    assert [l.line for l in e2.loops] == [l.line for l in e.loops]
    check(many_loops, X, 2)


def test_explain_helper_loops(rng):
    e = looptrace.explain(calls_helper_with_loop, rng.standard_normal((3, 4)))
    assert len(e.loops) == 2
    assert e.loops[0].line == calls_helper_with_loop.__code__.co_firstlineno + 2


def test_eval_shape(rng):
    f = looptrace.jit(static_shape, backend="interpret", static_argnames="n")
    out = looptrace.eval_shape(f, rng.standard_normal(3), 4)
    assert out.shape == (4, 3) and out.dtype == np.float64


def test_jit_of_what_is_not_a_python_function_is_a_clear_error(rng):
    """jit traces a function's code: a ufunc, a NumPy function, a builtin or a
    partial of one has none (a partial of a Python function is jitted: test_outside_objects_2.py); a
    jitted function is jitted again from its own."""
    import functools

    for fn, name in [(np.abs, "np.absolute"), (np.sum, "np.sum"), (len, "len"),
                     (functools.partial(np.add, 1.0), "np.add")]:
        with pytest.raises(TypeError, match=f"looptrace.jit compiles Python functions.*{name}"):
            looptrace.jit(fn)
    twice = looptrace.jit(looptrace.jit(lambda a: a * 2.0), backend="interpret")
    x = rng.standard_normal(3)
    np.testing.assert_allclose(twice(x), x * 2.0)


def typed_checks(x, a, k):
    """isinstance on traced values, and np.ndarray(shape, dtype) as np.empty
    (npbench's vadv allocates so)."""
    import numbers

    out = np.ndarray(x.shape, dtype=x.dtype)
    out[:] = x * a
    return (out, isinstance(out, np.ndarray), isinstance(x[0, 0], np.floating), isinstance(a, float),
            isinstance(k, (int, np.integer)), isinstance(x.sum(), numbers.Number),
            isinstance(x, (list, tuple)), isinstance(x[0, 0], float))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_isinstance_and_the_ndarray_constructor(backend, rng):
    x = rng.standard_normal((4, 3))
    got, want = looptrace.jit(typed_checks, backend=backend)(x, 0.5, 3), typed_checks(x, 0.5, 3)
    np.testing.assert_allclose(got[0], want[0])
    assert tuple(bool(v) for v in got[1:]) == want[1:]
