"""Folds over every axis of a 2-d or 3-d array (codegen/cpu/nest.py
`Fuser._fold_flat`): a float sum, max or min of an elementwise term of arrays
of one shape runs over the flattened elements in lanes; a long max or min of
an array is extrema.py's helper, of a fused term an array of accumulators
(`Fuser._extreme_in_array`); argmax and argmin of a long vector find their
blocks' bests so (reductions.py `_blocked_arg`). Against the plain function: NaN propagates, integers wrap, dtypes as NumPy's, arrays that are
not C-contiguous read right, a term that broadcasts a row keeps its nest."""
import numpy as np
import pytest

import looptrace as lt


def _sum(x):
    return x.sum()


def _max(x):
    return x.max()


def _min(x):
    return np.min(x)


def _mean(x):
    return x.mean()


def _exp_sum(x):
    return np.exp(x).sum()


def _tanh_sum(x):
    return np.tanh(x).sum()


def _logsumexp(x):
    m = x.max()
    return m + np.log(np.sum(np.exp(x - m)))


def _two_arrays(x, y):
    return (x * y + 1.0).sum() + np.maximum(x, y).max()


def _row_broadcast(x, r):
    return (x - r).sum() + (x * r).max()


SHAPES = [(37, 13), (3, 5, 7), (300, 41), (20, 30, 17)]  # tails of n % 8, and long enough for lanes


def _data(shape, dtype, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _close(got, want, dtype):
    assert np.asarray(got).dtype == np.asarray(want).dtype, (got, want)
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


# cpu kernels with -m slow (1-2.3 s of CPU each in session 54's CI) where another default cpu kernel
# lowers the same fold: _mean is _sum's fold divided (both dtypes run _sum); _min is _max's mirror in the
# same code (both dtypes run _max, and test_nan_anywhere_propagates and test_extremes_at_every_place
# compile _min); _logsumexp in float64 is _max and _exp_sum's folds (float32 runs it). _exp_sum in float64
# and _tanh_sum in float32 (1.2 and 1.1 s at e17f737) are the same fold of a libm map as _tanh_sum in
# float64 and _exp_sum in float32, which run.
SLOW_CPU_FOLDS = {("_mean", np.float64), ("_mean", np.float32), ("_min", np.float64), ("_min", np.float32),
                  ("_logsumexp", np.float64), ("_exp_sum", np.float64), ("_tanh_sum", np.float32)}


def _fold_cases():
    return [pytest.param(f, dtype, backend, marks=pytest.mark.slow)
            if backend == "cpu" and (f.__name__, dtype) in SLOW_CPU_FOLDS else (f, dtype, backend)
            for f in (_sum, _max, _min, _mean, _exp_sum, _tanh_sum, _logsumexp)
            for dtype in (np.float64, np.float32) for backend in ("interpret", "cpu")]


# cpu kernels of the 2-d shapes only but for _sum in float64: each shape is a compile of its own (~0.5-1 s of
# CPU), and a 3-d shape's kernel is the 2-d one of as many elements (explain's sources of (3, 5, 7) and (37, 13),
# (20, 30, 17) and (300, 41) differ in the integers and the shape check only); _sum in float64 runs every shape
CPU_2D_SHAPES = [(37, 13), (300, 41)]


@pytest.mark.parametrize("f, dtype, backend", _fold_cases(), ids=lambda v: getattr(v, "__name__", str(v)))
def test_full_fold_matches_numpy(f, dtype, backend):
    jf = lt.jit(f, backend=backend)
    for seed, shape in enumerate(SHAPES):
        if backend == "cpu" and (dtype == np.float32 or f is not _sum) and shape not in CPU_2D_SHAPES:
            continue
        x = _data(shape, dtype, seed)
        _close(jf(x.copy()), f(x.copy()), dtype)


# each fold in one dtype by default (the other dtype's kernel is the same code with -m slow): _max in float64,
# _min in float32 (its float64 kernel of this shape is test_extremes_at_every_place[_min]'s), _sum in float64,
# _exp_sum in float32
NAN_SLOW = {("_max", np.float32), ("_min", np.float64), ("_sum", np.float32), ("_exp_sum", np.float64)}


@pytest.mark.parametrize("dtype, f", [
    pytest.param(dtype, f, marks=pytest.mark.slow) if (f.__name__, dtype) in NAN_SLOW else (dtype, f)
    for dtype in (np.float64, np.float32) for f in (_max, _min, _sum, _exp_sum)],
    ids=lambda v: getattr(v, "__name__", str(v)))
def test_nan_anywhere_propagates(dtype, f):
    jf = lt.jit(f, backend="cpu")
    shape = (97, 61)  # 5917 elements: more than EXTREME_MIN, with a tail
    for at in (0, 7, 4095, 4096, 5900, 5916):
        x = _data(shape, dtype, at)
        x.reshape(-1)[at] = np.nan
        assert np.isnan(jf(x.copy())), (f.__name__, at)


@pytest.mark.parametrize("f", [_max, _min], ids=lambda f: f.__name__)
def test_extremes_at_every_place(f):
    jf = lt.jit(f, backend="cpu")
    x0 = _data((97, 61), np.float64, 3)
    for at in (0, 1, 127, 128, 4095, 5888, 5916):
        x = x0.copy()
        x.reshape(-1)[at] = 1e300 if f is _max else -1e300
        assert jf(x.copy()) == f(x.copy())
    inf = np.full((97, 61), -np.inf if f is _max else np.inf)
    assert jf(inf.copy()) == f(inf.copy())


def test_integer_sums_wrap_and_keep_their_dtype():
    jf = lt.jit(_sum, backend="cpu")
    big = np.full((40, 30), np.iinfo(np.int64).max // 600, dtype=np.int64)
    big[3, 4] = np.iinfo(np.int64).max
    got, want = jf(big.copy()), _sum(big.copy())
    assert got == want and np.asarray(got).dtype == np.asarray(want).dtype
    small = np.random.default_rng(1).integers(-100, 100, (40, 30)).astype(np.int8)
    got, want = lt.jit(_max, backend="cpu")(small.copy()), _max(small.copy())
    assert got == want and np.asarray(got).dtype == np.int8


def test_arrays_not_c_contiguous():
    jf = lt.jit(_max, backend="cpu")
    js = lt.jit(_exp_sum, backend="cpu")
    base = _data((300, 82), np.float64, 5)
    # (np.asfortranarray(base) until session 55: column-major as base.T is, two more kernels of the same types)
    for x in (base[:, ::2], base.T):
        assert jf(x) == _max(x)
        np.testing.assert_allclose(js(x), _exp_sum(x), rtol=1e-12)
    assert np.isnan(jf(np.where(base == base[7, 78], np.nan, base)[:, ::2][:, :40]))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_two_arrays_and_a_broadcast_row(backend):
    x, y = _data((300, 41), np.float64, 1), _data((300, 41), np.float64, 2)
    np.testing.assert_allclose(lt.jit(_two_arrays, backend=backend)(x, y), _two_arrays(x, y), rtol=1e-12)
    r = _data((41,), np.float64, 3)
    np.testing.assert_allclose(lt.jit(_row_broadcast, backend=backend)(x, r), _row_broadcast(x, r), rtol=1e-12)


def test_effects_on_arguments_stay():
    def scaled_then_max(x):
        x *= 2.0
        return x.max() + np.exp(x).sum()

    x = _data((200, 50), np.float64, 4)
    a, b = x.copy(), x.copy()
    got, want = lt.jit(scaled_then_max, backend="cpu")(a), scaled_then_max(b)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.array_equal(a, b)


def _kernel(f, *args):
    """The cpu kernel's source, planned and emitted without a Numba compile."""
    return lt.explain(lt.jit(f, backend="cpu"), *args).kernel_source


def test_full_folds_run_over_the_flat_elements():
    """The kernel text: a 1-d view, lanes for the sum, extrema.py's helper for the
    max of an array, an array of accumulators for the max of a fused term, and
    no nest of loops with one accumulator."""
    x = _data((400, 300), np.float64, 0)
    src = _kernel(_logsumexp, x)
    assert ".reshape((120000, ))" in src and "lane_add(" in src and "max_lanes(" in src
    assert "max_nan(acc" not in src
    assert "min_lanes(" in _kernel(_min, x.astype(np.float32))
    src = _kernel(lambda x, y: np.abs(x - y).max(), x, x[::-1].copy())
    assert "alloc(128, np.float64)" in src and "max_nan(ext" in src  # 1024 bytes of accumulators


# --- argmax and argmin: along rows (the serial loop), and of a long vector in blocks --------------
def _argmax_rows(x):
    return x.argmax(axis=-1)


def _argmin_rows(x):
    return np.argmin(x, axis=-1)


def _rows_with_specials(shape, dtype, seed):
    """Random rows, some holding NaNs (one or several), repeated bests, signed zeros as bests,
    infinities, and rows of a single repeated value."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1, shape[-1])
    n = shape[-1]
    for i in range(0, flat.shape[0], 7):
        flat[i, rng.integers(0, n)] = np.nan
    for i in range(1, flat.shape[0], 11):
        flat[i, rng.integers(0, n, 2)] = np.nan
    for i in range(2, flat.shape[0], 5):  # the best twice (or more): the first counts
        flat[i, rng.integers(0, n, 3)] = 9.0
        flat[i, rng.integers(0, n, 3)] = -9.0
    for i in range(3, flat.shape[0], 9):  # zeros of both signs are the best and the worst
        flat[i] = -np.abs(flat[i]) - 1.0
        flat[i, rng.integers(0, n, 4)] = np.where(rng.random(4) < 0.5, 0.0, -0.0)
    for i in range(4, flat.shape[0], 13):
        flat[i, rng.integers(0, n)] = np.inf
        flat[i, rng.integers(0, n)] = -np.inf
    flat[5 % flat.shape[0]] = 3.0
    return x


def _row_args(f, dtype, backends, cpu_shapes=None):
    """f against the plain function on rows of four shapes, on the cpu backend only those of
    cpu_shapes where given (each shape is a kernel of its own: ~0.5-1 s of CPU)."""
    for seed, shape in enumerate([(60, 64), (45, 65), (40, 300), (6, 5, 1000)]):
        x = _rows_with_specials(shape, dtype, seed)
        want = f(x.copy())
        for backend in backends:
            if backend == "cpu" and cpu_shapes is not None and shape not in cpu_shapes:
                continue
            got = lt.jit(f, backend=backend)(x.copy())
            assert got.dtype == want.dtype and np.array_equal(got, want), (backend, shape)


# cpu kernels of argmax in float64 and argmin in float32 by default (each fold and each dtype once; the
# mirrored pairs compile the same code in the other dtype: test_row_args_ties_nans_and_zeros_cpu, -m slow).
# argmin in float32 on two of the shapes (rows with a tail, and 3-d), argmax in float64 on three: (40, 300)'s
# kernel is (45, 65)'s with other sizes (explain's sources equal but for the integers; ~0.7 s of CPU).
CPU_ROW_ARGS = {("_argmax_rows", np.float64): [(60, 64), (45, 65), (6, 5, 1000)],
                ("_argmin_rows", np.float32): [(45, 65), (6, 5, 1000)]}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("f", [_argmax_rows, _argmin_rows], ids=lambda f: f.__name__)
def test_row_args_ties_nans_and_zeros(f, dtype):
    key = (f.__name__, dtype)
    _row_args(f, dtype, ("interpret", "cpu") if key in CPU_ROW_ARGS else ("interpret",), CPU_ROW_ARGS.get(key))


@pytest.mark.slow
@pytest.mark.parametrize("f, dtype", [(_argmax_rows, np.float32), (_argmin_rows, np.float64)],
                         ids=["argmax-float32", "argmin-float64"])
def test_row_args_ties_nans_and_zeros_cpu(f, dtype):
    _row_args(f, dtype, ("cpu",))


# -m slow (5.1 s of CPU in session 55's CI at 0278d5f): its two float64 kernels call argext's argmax_rows on a
# column-strided view (Numba layout A) and on rows split over threads, as test_argext.py's default
# test_operands_not_c_contiguous[cpu] (x[:, ::2].argmax(axis=1), NaNs, ties and signed zeros) and
# test_large_operands_on_threads[cpu] (x.argmax(axis=1) of 1200 rows on threads) do
@pytest.mark.slow
def test_row_args_of_a_strided_view_and_on_threads():
    x = _rows_with_specials((2000, 1200), np.float64, 9)
    jf = lt.jit(_argmax_rows, backend="cpu")
    assert np.array_equal(jf(x[:, ::2]), _argmax_rows(x[:, ::2]))
    assert np.array_equal(jf(x), _argmax_rows(x))  # 2.4M elements: rows on threads


def test_blocks_of_a_long_argmin_are_found_in_lanes():
    x = _data((50000,), np.float32, 1)
    x[[7, 30001, 40000]] = x.min() - 1.0  # three times the least: the first counts
    src = _kernel(_argmin_rows, x)
    assert "min_blocks(" in src and "arg_of_blocks(" in src  # extrema.py's helpers (s51)
    # the value on the interpreter (the cpu kernel: ~1.7 s of CPU in 3eb5406's CI): explain gives this
    # kernel the text of test_cpu_reductions_s38.py's float32 np.argmin of a vector but for its sizes, which
    # runs on cpu against the plain function with ties (the first counts) and NaNs across its blocks
    assert lt.jit(_argmin_rows, backend="interpret")(x) == 7
