"""Static values without ceremony: int arguments that decide a shape are
specialized on automatically (one compiled version per value, and explain
says so), defaults the caller did not pass are constants, a default computed
from an enclosing function's local works, and grad keeps non-differentiated
ints concrete."""

import numpy as np
import pytest

import looptrace
from looptrace.autodiff.check import assert_close, numerical_grad

from ._loopcheck import check


def shaped_by_n(x, n):
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i % x.shape[0]] * i
    grid = np.empty((n, 2))
    grid[:, 0] = np.linspace(0.0, 1.0, n)
    grid[:, 1] = out
    return out.reshape(n // 2, -1), grid, np.ones(n * 2 + 1).sum()


def test_an_int_that_decides_a_shape_is_specialized(rng):
    x = rng.standard_normal(3)
    f = looptrace.jit(shaped_by_n, backend="interpret")
    for n in (4, 6, 4, 8, 6):
        check(shaped_by_n, x, n, jitted=f)
    assert len(f._cache) == 3  # one compiled version per value
    e = looptrace.explain(f, x, 6)
    assert any("specialized on `n` = 6" in note and "np.zeros(n)" in note for note in e.notes)
    assert "specialized on `n` = 6" in str(e)


def test_specialization_on_the_cpu_backend(rng):
    f = looptrace.jit(shaped_by_n, backend="cpu")
    x = rng.standard_normal(5)
    for n in (4, 10):
        check(shaped_by_n, x, n, jitted=f)


def shaped_in_loop(x, n):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += np.sum(np.ones(n) * x[i])  # n read inside a loop body
    return acc, [x[j] for j in range(n)]


def test_specialized_from_inside_a_loop_and_a_comprehension(rng):
    check(shaped_in_loop, rng.standard_normal(5), 3)


def test_numpy_integer_scalars_are_specialized_too(rng):
    check(shaped_by_n, rng.standard_normal(3), np.int64(4))


def shaped_by_data(x):
    return np.zeros(int(x[0] > 0) + 2)


def shaped_by_float(x, s):
    return np.zeros(s) + x[0]


def test_shapes_from_data_still_fail_clearly(rng):
    with pytest.raises(looptrace.TraceError, match="static"):
        looptrace.jit(shaped_by_data, backend="interpret")(rng.standard_normal(3))


def grid_of(lo, hi, n, scale):
    """numpy-benchmarks' mandelbrot types its counts as floats: int(n) sizes the grid."""
    xs = np.linspace(lo, hi, int(n))
    return xs[:, None] * scale + xs[None, :]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_float_that_decides_a_shape_is_specialized(backend, rng):
    """Only the float a shape needs: `scale` keeps one version for all its
    values, `n` compiles one per value, on the plain call path too."""
    jf = looptrace.jit(grid_of, backend=backend)
    lo = float(rng.uniform(-1, 0))
    for n, scale in [(5.0, 0.5), (7.0, 1.5), (5.0, 2.5), (np.float64(3.0), 0.25), (7.0, 3.0)]:
        check(grid_of, lo, 1.0, n, scale, jitted=jf)
    assert set(jf._auto_static) == {"n"}
    assert len(jf._cache) == 3  # n = 5.0, 7.0, 3.0
    notes = looptrace.explain(jf, lo, 1.0, 4.0, 0.5).notes
    assert any("specialized on `n` = 4.0" in note for note in notes)
    x = rng.standard_normal(3)
    with pytest.raises(TypeError):  # a float given as the count itself: NumPy's TypeError, as plain
        shaped_by_float(x, 3.0)
    with pytest.raises(TypeError):
        looptrace.jit(shaped_by_float, backend=backend)(x, 3.0)


def test_an_int_used_as_a_value_is_not_specialized(rng):
    def f(x, k):
        return x * k + x[k % 3]

    jf = looptrace.jit(f, backend="interpret")
    for k in (1, 2, 5):
        check(f, rng.standard_normal(3), k, jitted=jf)
    assert len(jf._cache) == 1 and not looptrace.explain(jf, rng.standard_normal(3), 1).notes


# --- defaults ------------------------------------------------------------------------------------
def wrap(i, n):
    return i % n


def clamp(i, n):
    return min(max(i, 0), n - 1)


def with_defaults(x, mask=(1, 0, 1), mode=wrap, weights=[0.5, 2.0], how="sum", scale=2.0, n=3):  # noqa: B006
    acc = np.zeros(n)
    for k in range(len(mask)):
        acc[k % n] += x[mode(k + 4, x.shape[0])] * mask[k] * weights[k % 2] * scale
    return acc.sum() if how == "sum" else acc.max()


def test_defaults_the_caller_did_not_pass_are_constants(rng):
    x = rng.standard_normal(5)
    f = check(with_defaults, x)
    check(with_defaults, x, jitted=f)
    assert len(f._cache) == 1
    check(with_defaults, x, mode=clamp, jitted=f)  # a function passed explicitly is a constant too
    check(with_defaults, x, scale=0.25, jitted=f)  # a number passed explicitly is an argument


def test_an_explicit_tuple_is_an_argument_leaf_by_leaf(rng):
    """Passed, the tuple is a container argument (looptrace/pytree.py): its
    ints are traced; the defaults not passed stay constants."""
    x = rng.standard_normal(5)
    f = looptrace.jit(with_defaults, backend="interpret")
    for mask in [(1, 1), (2, -1), (1, 0, 3)]:
        assert np.isclose(f(x, mask), with_defaults(x, mask))
    assert len(f._flats) == 2  # one structure per tuple length


def test_array_default_is_read_at_call_time(rng):
    base = np.arange(3.0)

    def f(x, b=base):
        return x + b

    jf = looptrace.jit(f, backend="interpret")
    check(f, rng.standard_normal(3), jitted=jf)
    base[:] = 7.0
    check(f, rng.standard_normal(3), jitted=jf)


def make_scaled(k):
    def scaled(x, c=k * 2, shift=-k):
        return x * c + shift
    return scaled


def test_default_computed_from_an_enclosing_local(rng):
    check(make_scaled(3), rng.standard_normal(4))
    check(make_scaled(5), rng.standard_normal(4), 1.5)


# --- grad keeps ints concrete -------------------------------------------------------------------
def histogram_loss(idx, w, nbins):
    h = np.zeros(nbins)
    for i in range(idx.shape[0]):
        h[idx[i]] += w[i] * w[i]
    return np.sum(h * np.arange(nbins)) + h.reshape(nbins, 1).max()


@pytest.mark.parametrize("jitted", [False, True])
def test_grad_keeps_non_differentiated_ints_concrete(jitted, rng):
    idx, w = rng.integers(0, 4, 7), rng.standard_normal(7)
    fn = looptrace.jit(histogram_loss, backend="interpret") if jitted else histogram_loss
    backend = None if jitted else "interpret"
    for nbins in (4, 6):
        g = looptrace.grad(fn, argnums=1, backend=backend)(idx, w, nbins)
        want = numerical_grad(lambda w, nbins=nbins: histogram_loss(idx, w, nbins), [w], 0)
        assert_close(g, want, 1e-6, f"nbins={nbins}")
        value, g2 = looptrace.value_and_grad(fn, argnums=1, backend=backend)(idx, w, nbins)
        assert np.isclose(value, histogram_loss(idx, w, nbins))
        np.testing.assert_allclose(g2, g)
    out, vjp_fn = looptrace.vjp(fn, idx, w, 5, backend=backend)
    assert np.isclose(out, histogram_loss(idx, w, 5))
    assert_close(vjp_fn(1.0)[1], numerical_grad(lambda w: histogram_loss(idx, w, 5), [w], 0), 1e-6, "vjp")


# --- slices whose length is constant, however spelled -------------------------------------------------
from hypothesis import given, settings
from hypothesis import strategies as st

SPELLINGS = [  # start = a*i + b, written in different ways (the stop repeats it, plus k)
    "{a}*i + {b}", "i*{a} + {b}", "{b} + i*{a}", "(i + 1)*{a} + {b} - {a}", "-(-{a}*i - {b})",
    "{a}*(i + {b}) - {b}*{a} + {b}", "i*{a} - (-{b})",
]


def _slice_program(start: str, stop: str, n_iter: int):
    src = (f"def prog(E):\n    out = np.zeros({n_iter})\n    for i in range({n_iter}):\n"
           f"        out[i] = E[{start}:{stop}].sum() * (i + 1)\n    return out\n")
    ns = {"np": np}
    import linecache

    name = f"<slices {abs(hash(src))}>"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    exec(compile(src, name, "exec"), ns)
    return ns["prog"]


@settings(max_examples=20, deadline=None)
@given(a=st.integers(1, 3), b=st.integers(0, 3), k=st.integers(1, 3), n_iter=st.integers(1, 4),
       s1=st.sampled_from(SPELLINGS), s2=st.sampled_from(SPELLINGS))
def test_constant_length_slices_however_spelled(a, b, k, n_iter, s1, s2):
    start = s1.format(a=a, b=b)
    stop = "(" + s2.format(a=a, b=b) + f") + {k}"
    prog = _slice_program(start, stop, n_iter)
    E = np.random.default_rng(a * 100 + b * 10 + k).standard_normal(a * n_iter + b + k + 2)
    check(prog, E)


def shifted_halves(E, n):
    out = np.zeros(3)
    for i in range(3):
        out[i] = E[n // 2 + i:n // 2 + i + 2].sum() + E[i * 2:i * 2 + 3].max()
    return out


def test_constant_length_slices_around_a_traced_offset(rng):
    check(shifted_halves, rng.standard_normal(12), np.int64(3) * 0 + 4)  # n traced (a NumPy int in an array)
    check(shifted_halves, rng.standard_normal(12), 5)


def varying_window(x):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += x[i:].sum()
    return acc


def varying_first(x):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += np.flip(x[i:])[0]
    return acc


def window_of_args(x, a, b):
    return x[a:b] * 2.0


def test_a_slice_of_varying_length_gets_a_rewrite_hint(rng):
    check(varying_window, rng.standard_normal(100))  # a reduction: masked (test_varying_slices.py)
    check(varying_first, rng.standard_normal(5))  # a short static range: unrolled while tracing
    with pytest.raises(looptrace.TraceError, match="length of this slice") as e:
        looptrace.jit(varying_first, backend="interpret")(rng.standard_normal(100))
    assert "np.where((k >= start) & (k < stop), x, 0)" in str(e.value)
    assert "acc += np.flip(x[i:])[0]" in str(e.value)
    check(window_of_args, rng.standard_normal(6), 1, 4)  # int arguments: specialized on


def weighted_taps(w, x, taps, mode):
    s = 0.0
    for k in range(len(taps)):
        v = x[taps[k]] * w[k]
        s += v * v if mode == "square" else v
    return s


def test_grad_keeps_tuples_and_strings_concrete(rng):
    w, x = rng.standard_normal(3), rng.standard_normal(6)
    for taps, mode in (((0, 2, 5), "square"), ((1, 1, 4), "plain")):
        g = looptrace.grad(weighted_taps, backend="interpret")(w, x, taps, mode)
        want = numerical_grad(lambda w, taps=taps, mode=mode: weighted_taps(w, x, taps, mode), [w], 0)
        assert_close(g, want, 1e-6, f"{taps} {mode}")
    out, vjp_fn = looptrace.vjp(weighted_taps, w, x, [0, 1, 2], "square", backend="interpret")
    assert np.isclose(out, weighted_taps(w, x, [0, 1, 2], "square"))
    cts = vjp_fn(1.0)
    assert cts[2] is None and cts[3] is None
    assert_close(cts[0], numerical_grad(lambda w: weighted_taps(w, x, [0, 1, 2], "square"), [w], 0), 1e-6, "vjp")


def test_scipy_special_on_traced_arrays(rng):
    import scipy.special as sp

    def f(x):
        return sp.erf(x) + sp.erfc(x / 2) * sp.gamma(x + 3) + sp.gammaln(x + 3) + sp.psi(x + 3)

    check(f, rng.uniform(-1, 1, 7))
    check(f, rng.uniform(-1, 1, 7).astype(np.float32), rtol=1e-5)


def test_functions_and_dtypes_passed_as_arguments_are_constants(rng):
    def f(x, op, dtype):
        return op(x).astype(dtype)

    jf = looptrace.jit(f, backend="interpret")
    x = rng.standard_normal(4)
    for op, dtype in ((np.sin, np.float32), (np.cos, np.dtype(np.float64)), (np.sin, np.float32), (abs, float)):
        check(f, x, op, dtype, jitted=jf)
    assert len(jf._cache) == 3


# --- counts, bounds and axes given by int arguments, wherever NumPy takes them ------------------------
def ranges_and_grids(x, n, m):
    i, j = np.mgrid[0:n, 1:m + 1]  # the npbench stockham_fft spelling
    col, row = np.ogrid[0:n, 0:m]
    return (np.arange(n) * x[0], np.arange(1, n + 2, 2), np.arange(0.5, n, 0.25) + x[1],
            np.arange(n, dtype=np.float32), i * x[2] + j, col + row * 10,
            np.mgrid[0:1:n * 1j] * x[3], np.mgrid[0:n], np.mgrid[-1.0:1.0:m * 1j, 0:n:2])


def test_arange_and_grids_with_int_arguments(rng):
    x = rng.standard_normal(4)
    f = looptrace.jit(ranges_and_grids, backend="interpret")
    for n, m in ((3, 5), (6, 2), (3, 5)):
        check(ranges_and_grids, x, n, m, jitted=f)
    assert len(f._cache) == 2
    e = looptrace.explain(f, x, 3, 5)
    assert any("specialized on `n` = 3" in note and "np.mgrid[0:n, 1:m + 1]" in note for note in e.notes)


def long_grid(x):
    a, b = np.mgrid[0.1:1.0:4097j, 0.5:0.9:0.2]  # an axis past 4096: `iota * step + start`, not a constant
    c = np.ogrid[3:9000:2][None]
    return a * x[0], b, c


def test_long_grid_axes_are_numpys_bits(rng):
    x = rng.standard_normal(1)
    got = looptrace.jit(long_grid, backend="interpret")(x)
    for g, e in zip(got, long_grid(x)):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


def counts_elsewhere(x, n, k):
    return (np.indices((n, 2))[0] * x[0, 0], np.tri(n, n, k - 2) * x[1, 0], np.hanning(n) * x[2, 1],
            x.sum(axis=k - 1), np.expand_dims(x, k) + 1.0, np.concatenate([x] * n),
            np.stack(n * [x[:2]]), np.repeat(x, n), np.ones((n, 2)).cumsum(axis=k - 1))


def test_counts_and_axes_from_int_arguments(rng):
    x = rng.standard_normal((3, 2))
    f = looptrace.jit(counts_elsewhere, backend="interpret")
    check(counts_elsewhere, x, 4, 1, jitted=f)
    check(counts_elsewhere, x, 2, 2, jitted=f)
    notes = looptrace.explain(f, x, 4, 1).notes
    assert any("specialized on `n` = 4" in note for note in notes)
    assert any("specialized on `k` = 1" in note for note in notes)


def arange_in_short_loop(x, n):
    s = 0.0
    for i in range(3):  # the index decides a length: the three iterations are traced one by one
        s += (np.arange(i + n) * x[i]).sum()
    return s


def test_arange_of_a_loop_index_and_an_argument(rng):
    check(arange_in_short_loop, rng.standard_normal(3), 4)


@pytest.mark.parametrize("fn, what", [
    (lambda x: np.arange(int(x.argmax()) + 1), "np.arange with traced bounds"),
    (lambda x: np.mgrid[0:x.argmax(), 0:2], "np.mgrid[...]"),
    (lambda x: np.indices((x.argmax(), 2)), "np.indices is not supported on traced values"),
    (lambda x: np.repeat(x, x.argmax()), "np.repeat with traced repeat counts"),
])
def test_counts_read_from_data_are_clear_errors(fn, what, rng):
    x = rng.standard_normal(5)
    with pytest.raises(looptrace.TraceError if "arange" in what or "mgrid" in what
                       else looptrace.UnsupportedError, match=what.replace("[", r"\[").replace("]", r"\]")):
        looptrace.jit(fn, backend="interpret")(x)


def test_a_float_argument_to_an_unsupported_function_is_not_specialized(rng):
    def f(x, hi):  # (np.logspace and np.histogram_bin_edges are supported now: tracer/np_breadth.py, np_numeric.py)
        return np.polydiv(x, np.array([1.0, hi]))[0] * x[0]

    jf = looptrace.jit(f, backend="interpret")
    with pytest.raises(looptrace.UnsupportedError, match="np.polydiv of a traced array"):
        jf(rng.standard_normal(2), 1.5)
    assert not jf._auto_static


def stockham_like(x, R, K):
    i_coord, j_coord = np.mgrid[0:R, 0:R]
    dft = np.exp(-2.0j * np.pi * i_coord * j_coord / R)
    y = x.copy()
    for i in range(K):  # R**i decides shapes: a short loop traced iteration by iteration
        yv = np.reshape(y, (R**i, R, R**(K - i - 1)))
        perm = np.transpose(yv, axes=(1, 0, 2)).reshape(R, R**(K - 1))
        y = np.reshape(dft @ perm, (R**K,))
    return y


# slow (2.3 s of session 55's CI, a complex kernel of its own): the cpu backend's versions per specialized value
# run by default in test_specialization_on_the_cpu_backend and test_a_float_that_decides_a_shape_is_specialized
# [cpu]; stockham_like's values on the interpreter in test_explain_names_the_loop_bound_specialized_for_a_shape
@pytest.mark.slow
def test_shapes_from_powers_of_arguments_on_cpu(rng):
    R, K = 2, 4
    x = rng.standard_normal(R**K) + 1j * rng.standard_normal(R**K)
    check(stockham_like, x, R, K, jitted=looptrace.jit(stockham_like, backend="cpu"))


def test_explain_names_the_loop_bound_specialized_for_a_shape(rng):
    R, K = 2, 3
    x = rng.standard_normal(R**K) + 0j
    f = looptrace.jit(stockham_like, backend="interpret")
    check(stockham_like, x, R, K, jitted=f)
    notes = looptrace.explain(f, x, R, K).notes
    assert any("specialized on `K` = 3" in note for note in notes)
    assert any("unrolled" in str(loop) for loop in looptrace.explain(f, x, R, K).loops)


def test_a_long_loop_whose_index_decides_a_shape_is_still_an_error(rng):
    def f(x, n):
        s = 0.0
        for i in range(n):
            s += np.zeros(i + 1).sum() + x[0]
        return s

    with pytest.raises(looptrace.TraceError, match="not unrolled|array shapes must be static"):
        looptrace.jit(f, backend="interpret")(rng.standard_normal(2), 500)


def _neighbour_list(ptr, x):
    nbr = np.empty(ptr[-1])
    for i in range(nbr.shape[0]):
        nbr[i] = x[i % x.shape[0]]
    return nbr


def test_a_size_from_array_contents_gets_a_hint_that_fits_it():
    """`np.empty(ptr[-1])`: no argument to specialize on, so the hint says how
    to allocate a bound and return the filled part (probe W), not static_argnames."""
    with pytest.raises(looptrace.TraceError, match=r"array shapes must be static") as info:
        looptrace.jit(_neighbour_list, backend="interpret")(np.array([0, 2, 5]), np.ones(3))
    assert "out[:count]" in str(info.value) and "static_argnames" not in str(info.value)
