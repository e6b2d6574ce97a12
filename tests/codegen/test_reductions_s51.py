"""Reductions NumPy beat before s51 (issue 11): m.max(axis=1) and min of long
rows of an array (extrema.py `max_rows`, `min_rows`), argmax/argmin of a long
float vector (extrema.py `max_blocks`, `arg_of_blocks`), np.count_nonzero and
sums of bools in blocks of uint16 counts, any/all stopping after the first
block that decides them (nest.py `Fuser._fold_in_blocks`) only where the
terms are pure. Against the plain function: values, dtypes, NaN (max
propagates it, argmax gives the first NaN), ties (the first index), empty
rows (NumPy's ValueError), and an error in the argument of an any still
raised. Semantics on the interpreter; a few cpu kernels, each serving
several inputs."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.codegen.cpu.extrema import ARG_BLOCK
from looptrace.codegen.cpu.nest import FOLD_BLOCKED_MIN
from looptrace.codegen.cpu.reductions import ROW_HELPER_MIN


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype, got.shape, want.shape)
    assert np.array_equal(got, want, equal_nan=want.dtype.kind in "fc"), (got, want)
    if want.dtype.kind == "f":  # the sign of a zero too
        assert np.array_equal(np.signbit(got), np.signbit(want))


def _rows(dtype, seed, n=max(ROW_HELPER_MIN, 600) + 37):
    """Rows long enough for the row helpers, with a tail past a multiple of 8:
    NaN (first, last, two), infinities, all -0.0, all equal."""
    m = np.random.default_rng(seed).standard_normal((9, n)).astype(dtype)
    m[0, 0] = np.nan
    m[1, n - 1] = np.nan
    m[2, 5], m[2, 400] = np.nan, -np.nan
    m[3, 7], m[3, 9] = np.inf, -np.inf
    m[4] = -0.0
    m[5] = 2.5
    m[6, n - 3] = np.inf
    m[7, 3] = -np.inf
    return m


def _row_max(m):
    return m.max(axis=1)


def _row_min(m):
    return np.min(m, axis=1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("f", [_row_max, _row_min])
def test_row_extremes_interpret(f, dtype):
    m = _rows(dtype, 0)
    _same(lt.jit(f, backend="interpret")(m.copy()), f(m))


def _row_extremes_cpu(pairs):
    for dtype, f in pairs:
        jf = lt.jit(f, backend="cpu")
        for seed in (1, 2):
            m = _rows(dtype, seed)
            _same(jf(m.copy()), f(m))
        assert ("max_rows(" if f is _row_max else "min_rows(") in lt.explain(jf, m).kernel_source


# each helper and each dtype once by default (the other two pairs compile the same helpers in the
# other dtype: test_row_extremes_cpu_other_pairs, with -m slow; 9.2 s of CPU for all four in session 54's CI)
def test_row_extremes_cpu():
    """One kernel a dtype and fold: rows with NaN, infinities, zeros; rows
    of a view whose rows are not contiguous (a kernel of its own layout)."""
    _row_extremes_cpu([(np.float64, _row_max), (np.float32, _row_min)])
    m = np.random.default_rng(3).standard_normal((6, 2 * max(ROW_HELPER_MIN, 300) + 10))
    m[2, 8] = np.nan
    view = m[:, ::2]
    _same(lt.jit(_row_max, backend="cpu")(view), _row_max(view))
    short = np.random.default_rng(4).standard_normal((4, 2 * ROW_HELPER_MIN + 2))  # rows fewer than the lanes
    short[1, 6], short[2, 2 * ROW_HELPER_MIN] = np.nan, np.nan
    _same(lt.jit(_row_min, backend="cpu")(short[:, ::2]), _row_min(short[:, ::2]))


@pytest.mark.slow
def test_row_extremes_cpu_other_pairs():
    _row_extremes_cpu([(np.float32, _row_max), (np.float64, _row_min)])


@pytest.mark.parametrize("f, x", [(_row_max, np.zeros((3, 0))), (lambda m: m.argmax(axis=1), np.zeros((3, 0))),
                                  (lambda v: v.min(), np.zeros(0)), (lambda v: v.argmin(), np.zeros(0))])
def test_empty_raises_as_numpy(f, x):
    with pytest.raises(ValueError):
        f(x)
    with pytest.raises(ValueError):
        lt.jit(f, backend="interpret")(x)


def _argmax(v):
    return v.argmax()


def _argmin(v):
    return np.argmin(v)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("f", [_argmax, _argmin])
def test_arg_of_a_long_vector_interpret(f, dtype):
    n = 3 * ARG_BLOCK + 17
    x = np.random.default_rng(4).standard_normal(n).astype(dtype)
    jf = lt.jit(f, backend="interpret")
    _same(jf(x), f(x))
    y = x.copy()
    y[ARG_BLOCK + 5], y[2 * ARG_BLOCK] = np.nan, np.nan  # the first NaN
    _same(jf(y), f(y))
    z = np.full(n, 1.5, dtype)
    z[n - 1], z[ARG_BLOCK - 1], z[2 * ARG_BLOCK + 3] = 7, 7, 7  # ties: the first
    z[ARG_BLOCK + 1] = -7
    _same(jf(z), f(z))


@pytest.mark.parametrize("dtype", [np.bool_, np.int32, np.uint8, np.float32])
def test_arg_of_other_dtypes_interpret(dtype):
    x = (np.random.default_rng(5).random(3000) * 5).astype(dtype)
    for f in (_argmax, _argmin):
        _same(lt.jit(f, backend="interpret")(x), f(x))


def test_arg_of_a_long_vector_runs_in_blocks():
    """The kernel's source (explain: no Numba compile): extrema.py's blocks."""
    x = np.random.default_rng(6).standard_normal(3 * ARG_BLOCK + 17)
    assert "max_blocks(" in lt.explain(lt.jit(_argmax, backend="cpu"), x).kernel_source


# -m slow (0.9 s in 3eb5406's CI): explain gives this kernel the text of test_cpu_reductions_s38.py's float64
# x.argmax() of a vector but for its sizes, which runs on cpu by default against the plain function with the
# first NaN in and across blocks and in the tail, ties in different blocks, all equal, -0.0 and 0.0
# (test_first_nan_wins, test_ties_keep_the_first, test_signed_zeros_infinities_denormals)
@pytest.mark.slow
def test_arg_of_a_long_vector_cpu():
    """One kernel: the first NaN (in a block, in the tail), ties in
    different blocks and in the tail, all equal (position 0)."""
    n = 3 * ARG_BLOCK + 17
    jf = lt.jit(_argmax, backend="cpu")
    x = np.random.default_rng(6).standard_normal(n)
    cases = [x]
    for at in (0, ARG_BLOCK - 1, 2 * ARG_BLOCK + 9, n - 1):
        y = x.copy()
        y[at] = np.nan
        y[min(at + 2, n - 1)] = -np.nan
        cases.append(y)
    z = np.zeros(n)
    z[3 * ARG_BLOCK + 2], z[n - 1], z[ARG_BLOCK + 7] = 1, 1, 1
    cases += [z, np.full(n, -0.0)]
    for c in cases:
        _same(jf(c.copy()), _argmax(c))
    assert "max_blocks(" in lt.explain(jf, x).kernel_source


def _count(b):
    return np.count_nonzero(b)


def _bool_sum(b):
    return b.sum()


def _any(b):
    return b.any()


def _all(b):
    return np.all(b)


def _bools():
    """Bools with a True first, none, only in the last block, only in the
    tail after the blocks, and every one."""
    n = FOLD_BLOCKED_MIN + 123
    out = {"random": np.random.default_rng(7).random(n) > 0.5, "none": np.zeros(n, bool)}
    for name, at in (("first", 0), ("last_block", FOLD_BLOCKED_MIN - 4096 + 17), ("tail", n - 1)):
        out[name] = np.zeros(n, bool)
        out[name][at] = True
    out["all"] = np.ones(n, bool)
    return out


@pytest.mark.parametrize("f", [_count, _bool_sum, _any, _all])
def test_bool_folds_interpret(f):
    for b in _bools().values():
        _same(lt.jit(f, backend="interpret")(b), f(b))
        _same(lt.jit(f, backend="interpret")(~b), f(~b))


@pytest.mark.parametrize("dtype", [np.int16, np.float32, np.uint8])
def test_count_nonzero_of_numbers_interpret(dtype):
    x = (np.random.default_rng(8).random(9000) * 3).astype(dtype)
    _same(lt.jit(_count, backend="interpret")(x), _count(x))
    _same(lt.jit(lambda x: (x > 1).sum(axis=0), backend="interpret")(x), (x > 1).sum(axis=0))


def test_bool_folds_cpu():
    """One kernel a fold: counts past 65535 (uint16 blocks added in int64),
    any and all deciding in the first block, the last, the tail, never."""
    for f in (_count, _any, _all):
        jf = lt.jit(f, backend="cpu")
        for b in _bools().values():
            _same(jf(b), f(b))
            _same(jf(~b), f(~b))
        src = lt.explain(jf, b).kernel_source
        assert ("np.uint16(" in src) if f is _count else ("break" in src)
    big = np.random.default_rng(9).random(200_000) > 0.2  # ~160000 True: past a uint16
    jc = lt.jit(_count, backend="cpu")
    _same(jc(big), _count(big))
    jr = lt.jit(lambda m: (m > 0.5).sum(axis=1), backend="cpu")  # a count of each row in blocks
    m = np.random.default_rng(10).random((3, FOLD_BLOCKED_MIN + 5))
    _same(jr(m), (m > 0.5).sum(axis=1))


def _any_of_gathered(x, idx):
    return (x[idx] > 0).any()


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_error_in_the_argument_still_raises(backend):
    """x[idx] is gathered whole before .any() in plain NumPy: an index out of
    range past an early True raises; the fold is not cut short there."""
    x = np.random.default_rng(11).random(10000) + 0.5  # all > 0: any() is True at once
    idx = np.arange(10000)
    jf = lt.jit(_any_of_gathered, backend=backend)
    _same(jf(x, idx), _any_of_gathered(x, idx))
    bad = idx.copy()
    bad[9000] = 10 ** 6
    with pytest.raises(IndexError):
        _any_of_gathered(x, bad)
    with pytest.raises(IndexError):
        jf(x, bad)


def test_pure_any_of_a_comparison_stops_early():
    """(v > t).any() of an argument array: pure terms, blocks with a test."""
    jf = lt.jit(lambda v: (v > 0.999).any(), backend="cpu")
    v = np.random.default_rng(12).random(50_000)
    _same(jf(v), (v > 0.999).any())
    w = np.zeros(50_000)
    _same(jf(w), False)
    w[-1] = 1.0
    _same(jf(w), True)
    assert "break" in lt.explain(jf, v).kernel_source


def row_ranges(m):
    return m.max(axis=1) - m.min(axis=1), np.ptp(m, axis=1) * 2.0


def test_row_max_and_min_read_inside_another_nest_come_from_the_row_helpers(rng):
    """`m.max(axis=1) - m.min(axis=1)` folded each row inline with 8-lane
    tuples (0.43x NumPy); now the helpers compute them first and the nest
    reads them (reductions.py `rows_made_first`): 1000x1000, 0.86 -> 0.24 ms
    (NumPy 0.33), NaN rows as NumPy."""
    m = rng.standard_normal((300, 130))
    m[7, 100] = np.nan
    f = lt.jit(row_ranges, backend="cpu")
    for x in (m, -m, m[:, ::-1].copy()):
        got, want = f(x), row_ranges(x)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)
    src = lt.explain(f, m).kernel_source
    assert "max_rows(" in src and "min_rows(" in src
