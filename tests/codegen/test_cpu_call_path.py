"""The warm call path (api.JitFunction.__call__'s plain-call cache): a call of
arrays and floats by position skips the signature objects, and must behave
exactly like the full path: new shapes, dtypes and layouts compile anew,
modified captured arrays retrace, scalars come back as scalars, and arguments
written in place are written."""

import functools
import math

import numpy as np
import pytest

import looptrace
from tests.codegen.test_cpu_direct_writes import running_max


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def decay(x, a):
    y = 0.0
    for t in range(x.shape[0]):
        y = a * y + x[t]
    return y


def test_plain_calls_follow_the_full_path():
    f = looptrace.jit(decay, backend="cpu")
    rng = np.random.default_rng(9)
    x = rng.standard_normal(10)
    for args in [(x, 0.5), (x, 0.25), (x[::2], 0.5), (x.astype(np.float32), 0.5),
                 (rng.standard_normal(7), 0.9), (x, np.float64(0.5)), (x, 1), (x, np.array(0.5))]:
        got, want = f(*args), decay(*args)
        assert type(got) is type(want) or np.isscalar(got)
        np.testing.assert_allclose(got, want, rtol=1e-6 if args[0].dtype == np.float32 else 1e-12)
    assert f(x, a=0.5) == pytest.approx(decay(x, 0.5), rel=1e-12)


SCALE = np.array([2.0, 3.0])


def scaled(x):
    return x * SCALE


def test_captured_array_changed_between_plain_calls_retraces():
    f = looptrace.jit(scaled, backend="cpu")
    x = np.random.default_rng(10).standard_normal(2)
    np.testing.assert_allclose(f(x), x * SCALE)
    SCALE[0] = -7.0
    np.testing.assert_allclose(f(x), x * SCALE)


def bump(state, k):
    for _ in range(3):
        state[0] += k
    return state.sum()


def test_plain_call_writes_arguments_in_place():
    f = looptrace.jit(bump, backend="cpu")
    s1 = np.random.default_rng(11).standard_normal(3)
    s2 = s1.copy()
    assert f(s1, 0.5) == pytest.approx(bump(s2, 0.5))
    assert f(s1, 0.5) == pytest.approx(bump(s2, 0.5))
    np.testing.assert_allclose(s1, s2)


def window_sums(x, w):  # w sizes the output: a static value, one program per value
    out = np.zeros(x.shape[0] - w + 1)
    for i in range(x.shape[0] - w + 1):
        out[i] = x[i:i + w].sum()
    return out


def powers(x, k):  # k is a traced int: one program for every value
    y = np.ones_like(x)
    for _ in range(k):
        y = y * x
    return y


def test_int_arguments_take_the_plain_path_by_value(rng):
    x = rng.standard_normal(30)
    f, g = looptrace.jit(window_sums, backend="cpu"), looptrace.jit(powers, backend="cpu")
    for w in (3, 5, 3, 7, 5):
        np.testing.assert_allclose(f(x, w), window_sums(x, w), rtol=1e-12)
    for k in (2, 4, 2, 0, 3):
        np.testing.assert_allclose(g(x, k), powers(x, k), rtol=1e-12)
    assert {key[0][1] for key in f._fast} == {int} and {key[-1] for key in f._fast} == {3, 5, 7}
    assert len(f._fast) == 3 and len(g._fast) == 4


def test_the_plain_path_stays_bounded(rng):
    from looptrace.api import _FAST_ENTRIES

    g = looptrace.jit(powers, backend="cpu")
    x = rng.standard_normal(4)
    for k in range(_FAST_ENTRIES + 10):
        assert g(x, k)[0] == pytest.approx(x[0] ** k, rel=1e-9)
    assert len(g._fast) <= _FAST_ENTRIES


def test_numpy_scalars_take_the_plain_path_by_type(rng):
    """Elements of float arrays passed as arguments (`f(y, *params)`) are NumPy
    scalars: keyed by their type (a float32 scalar keeps float32 arithmetic, a
    float64 one promotes, a Python float is weak), NumPy ints by value (one
    may size an array)."""
    x = rng.standard_normal(12).astype(np.float32)
    f, g = looptrace.jit(decay, backend="cpu"), looptrace.jit(window_sums, backend="cpu")
    params = rng.uniform(0.2, 0.8, 3)
    for a in (params[0], np.float32(params[1]), float(params[2]), params[0], np.complex128(params[1] + 0.5j)):
        for _ in range(2):  # the first call compiles, the second takes the direct runner
            got, want = f(x, a), decay(x, a)
            assert np.asarray(got).dtype == np.asarray(want).dtype
            np.testing.assert_allclose(got, want, rtol=2e-6)
    assert len(f._fast) == 4
    assert f._fast[((np.ndarray, np.float64), x.dtype, x.shape)][3] is not None  # a float32 result
    y = rng.standard_normal(20)
    for w in (np.int64(3), np.int64(5), 3):
        np.testing.assert_allclose(g(y, w), window_sums(y, w), rtol=1e-12)
    assert len(g._fast) == 3


def test_numpy_scalars_reach_the_kernel_as_python_numbers(rng, monkeypatch):
    """Numba reads a Python float, int or complex in C and a NumPy scalar
    through its generic typeof: the direct runner hands the kernel np.float64,
    np.int64 and np.complex128 as Python numbers (same Numba type, same
    compiled version), and keeps np.float32 (a float32 kernel argument)."""
    from looptrace import api

    assert api._kernel_args((np.ndarray, np.float64, np.complex128, np.float32), None, False) == \
        ["a[0]", "float(a[1])", "complex(a[2])", "a[3]"]
    assert api._kernel_args((np.ndarray, float), None, True) == ["x0", "x1"]
    assert api._kernel_args((np.ndarray, np.int64, float), (0, 2), True) == ["x0", "x2"]
    x = rng.standard_normal(9)
    f = looptrace.jit(decay, backend="cpu")
    for a in (np.float64(0.3), np.complex128(0.2 + 0.4j), np.float32(0.7)):
        for _ in range(3):
            got, want = f(x, a), decay(x, a)
            assert np.asarray(got).dtype == np.asarray(want).dtype
            np.testing.assert_allclose(got, want, rtol=1e-6)
    assert len(f._fast) == 3 and all(entry[3] is not None for entry in f._fast.values())
    g = looptrace.jit(window_sums, backend="cpu")
    y = rng.standard_normal(15)
    for w in (np.int64(4), np.int64(4), np.int64(6)):
        np.testing.assert_allclose(g(y, w), window_sums(y, w), rtol=1e-12)


# --- the direct runner: a warm call with nothing to check is the kernel's call and its outputs ---------
def _direct(f):
    return [entry[3] for entry in f._fast.values()]


def stats(x, thresh):
    n = 0
    hit = False
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > thresh:
            n += 1
            hit = True
        s += x[i] * x[i]
    return s, n, hit, np.cumsum(x)


def gather(x, idx):
    out = np.empty(idx.shape[0])
    for i in range(idx.shape[0]):
        out[i] = x[idx[i]]
    return out


def checked(x):
    s = 0.0
    for i in range(x.shape[0]):
        assert x[i] > -100.0, "a sample below -100"
        s += x[i]
    return s


def as_float32(x):
    acc = np.float32(0.0)
    for i in range(x.shape[0]):
        acc += x[i]
    return acc


def test_direct_runner_gives_what_the_plain_function_gives(rng):
    """Scalars of every Python kind, a tuple with an array, a static int, in
    the types the plain function returns, on the first and the warm calls."""
    x = rng.standard_normal(40)
    f, g, h = (looptrace.jit(fn, backend="cpu") for fn in (stats, window_sums, as_float32))
    for _ in range(3):
        got, want = f(x, 0.3), stats(x, 0.3)
        assert [type(v) for v in got] == [type(v) for v in want]
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        assert got[1:3] == want[1:3]
        np.testing.assert_allclose(got[3], want[3], rtol=1e-12)
        np.testing.assert_allclose(g(x, 4), window_sums(x, 4), rtol=1e-12)
        x32 = x.astype(np.float32)
        got32, want32 = h(x32), as_float32(x32)
        assert type(got32) is type(want32) is np.float32
        np.testing.assert_allclose(got32, want32, rtol=1e-5)
    assert all(r is not None for r in _direct(f) + _direct(g))  # g: the window offsets are ours, not captured
    assert all(r is not None for r in _direct(h))  # a float32 scalar result: built as np.float32 by the runner


def test_direct_runner_reports_errors_as_the_full_path_does(rng):
    f, c = looptrace.jit(gather, backend="cpu"), looptrace.jit(checked, backend="cpu")
    x = rng.standard_normal(8)
    idx = rng.integers(0, 8, 5)
    np.testing.assert_allclose(f(x, idx), gather(x, idx))
    assert c(x) == pytest.approx(checked(x))
    assert all(r is not None for r in _direct(f) + _direct(c))
    bad = idx.copy()
    bad[3] = 8
    with pytest.raises(IndexError, match="index 8 is out of bounds for axis 0 with size 8\n.*"
                                         "test_cpu_call_path.py.*\n    out\\[i\\] = x\\[idx\\[i\\]\\]"):
        f(x, bad)
    y = x.copy()
    y[5] = -1000.0
    with pytest.raises(AssertionError, match="a sample below -100"):
        c(y)
    np.testing.assert_allclose(f(x, idx), gather(x, idx))  # and the next call is fine


def test_direct_runner_compiles_a_new_layout(rng):
    f = looptrace.jit(gather, backend="cpu")
    x = rng.standard_normal(16)
    idx = rng.integers(0, 8, 5)
    np.testing.assert_allclose(f(x[:8], idx), gather(x[:8], idx))
    np.testing.assert_allclose(f(x[::2], idx), gather(x[::2], idx))  # same key, a strided layout
    np.testing.assert_allclose(f(x[:8], idx), gather(x[:8], idx))


COUNTER = np.zeros(1)


def counted(x):
    COUNTER[0] += 1.0
    return x * 2.0


def test_no_direct_runner_where_there_is_something_to_check(rng):
    f = looptrace.jit(counted, backend="cpu")
    x = rng.standard_normal(2)
    COUNTER[0] = 0.0
    for _ in range(3):
        np.testing.assert_array_equal(f(x), x * 2.0)
    assert COUNTER[0] == 3.0
    assert _direct(f) == [None]  # an outside array written in place: the general path checks it


class Weights:
    def __init__(self, table):
        self.table = table


BOX = Weights(np.array([0.5, 1.5, 2.5]))


def weighted(x):
    return x * SCALE + BOX.table[:2].sum()


def test_arrays_read_from_outside_are_fetched_by_the_direct_runner(rng):
    """A function reading a module's array (SCALE) and an object's attribute
    (BOX.table) keeps the direct runner and the last-signature runner,
    which fetch them on every call: a write into one, the name bound to
    another array of the same shape, of another shape or dtype, or to
    something else, each gives what the plain function gives."""
    global SCALE
    f = looptrace.jit(weighted, backend="cpu")
    x = rng.standard_normal(2)
    old, table = SCALE.copy(), BOX.table
    try:
        for _ in range(3):
            np.testing.assert_allclose(f(x), weighted(x), rtol=1e-12)
        assert all(d is not None for d in _direct(f)) and _front_of(f) is not None
        SCALE[1] = -4.0
        BOX.table[0] = 9.0
        np.testing.assert_allclose(f(x), weighted(x), rtol=1e-12)
        for scale, box in [(np.array([3.0, 5.0]), np.array([1.0, 2.0, 3.0])), (np.array([3.0]), table),
                           (np.array([1, 2]), np.array([4.0, 5.0, 6.0, 7.0])), (np.array([3.0, 5.0]), table),
                           (np.array([3.0, 5.0], dtype=np.float32), table), (2.5, table), (old, table)]:
            SCALE, BOX.table = scale, box
            for _ in range(2):
                got, want = f(x), weighted(x)
                assert got.dtype == want.dtype
                np.testing.assert_allclose(got, want, rtol=1e-6)
    finally:
        SCALE, BOX.table = np.array([2.0, 3.0]), table


def keep_old(s, k):
    v = s.copy()
    for i in range(s.shape[0]):
        s[i] += k * i
    return v, s, v.sum()


def shared_result(s, x):
    for i in range(x.shape[0]):
        s[i % s.shape[0]] += x[i]
    return s[1:] * 1.0, s[:2]


@pytest.mark.parametrize("fn,make", [
    (bump, lambda r: (r.standard_normal(3), 0.5)),
    (running_max, lambda r: (r.standard_normal(40), r.integers(-5, 5, 40), np.full(5, -np.inf))),
    (keep_old, lambda r: (r.standard_normal(6), 1.5)),
    (shared_result, lambda r: (r.standard_normal(4), r.standard_normal(9))),
])
def test_a_direct_runner_writes_into_arguments_as_plain_python_does(fn, make, rng):
    """A program that writes into its arguments runs by a direct runner too
    (api.py `_writing_runner`): the same values and argument effects as the
    plain function, call after call."""
    f = looptrace.jit(fn, backend="cpu")
    for _ in range(3):
        args = make(rng)
        plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        got, want = f(*args), fn(*plain)
        for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        for a, p in zip(args, plain):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, p)
    assert all(r is not None for r in _direct(f))


def _read_only_and_failing_runs(f, values, labels, rng):
    """running_max's `out` read-only: NumPy's ValueError, `out` unchanged; a
    label out of range: IndexError, and `out` as the plain function leaves
    it (the writes before the error: api.py `_after_failure`)."""
    frozen = np.full(5, -np.inf)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        f(values, labels, frozen)
    assert (frozen == -np.inf).all()
    before = rng.standard_normal(5)
    out = before.copy()
    bad = labels.copy()
    bad[30] = 7
    with pytest.raises(IndexError):
        f(values, bad, out)
    plain = before.copy()
    with pytest.raises(IndexError):
        running_max(values, bad, plain)
    np.testing.assert_array_equal(out, plain)


def test_a_writing_direct_runner_leaves_the_checks_to_the_general_path(rng):
    """Aliasing arguments, a read-only written argument and a failing run
    behave as on the general path: ValueError, NumPy's ValueError, and the
    arguments left as they were."""
    f = looptrace.jit(running_max, backend="cpu")
    values, labels = rng.standard_normal(40), rng.integers(-5, 5, 40)
    out = np.full(5, -np.inf)
    f(values, labels, out)
    assert _direct(f)[0] is not None
    shared = rng.standard_normal(45)
    with pytest.raises(ValueError, match="share memory"):
        f(shared[:40], labels, shared[35:40])
    _read_only_and_failing_runs(f, values, labels, rng)
    out = np.full(5, -np.inf)
    np.testing.assert_array_equal(f(values, labels, out), running_max(values, labels, np.full(5, -np.inf)))


def nanmean(a):  # numba-benchmark's (numbagg's) nanmean
    total, count = 0.0, 0
    for ai in a.flat:
        if not np.isnan(ai):
            total += ai
            count += 1
    if count > 0:
        return total / count * (math.pi / np.pi) + (math.inf - np.inf if a.size < 0 else 0.0)
    return np.nan


def test_library_constants_are_not_guarded(rng):
    """np.nan, np.pi, math.pi, math.inf are constants: no guard keeps the
    call off the direct runner (each guard cost a call 115 us after other
    work: nanmean 185 -> 27 us)."""
    f = looptrace.jit(nanmean, backend="cpu")
    x = rng.standard_normal(50)
    x[x < -0.5] = np.nan
    for a in (x, np.full(3, np.nan)):
        got, want = f(a), nanmean(a)
        assert isinstance(got, float)  # the plain function's branches give np.float64 and float
        np.testing.assert_allclose(got, want, rtol=1e-12)
    f(x)
    assert all(d is not None for d in _direct(f)) and f._mono is not None
    assert f.explain(x).kernel_source is not None
    compiled = next(iter(f._fast.values()))[0]
    assert getattr(compiled.traced, "guards", None) is None


SOFTENING = 0.01
MODE = "sum"


def softened(x):
    r = np.sqrt(x * x + SOFTENING)
    return r.sum() if MODE == "sum" else r.max()


def test_guarded_globals_are_checked_by_the_direct_runner(rng):
    """A function reading module numbers keeps the direct runner, which
    checks them itself: rebinding one is seen by the next call (the plain
    and the last-signature runner alike), and rebinding it back finds the
    first program again. A warm call with the globals unchanged stays in
    the runner (its guard's names once clashed with the global's: every
    call went the general way)."""
    global SOFTENING, MODE
    f = looptrace.jit(softened, backend="cpu")
    x = rng.standard_normal(40)
    try:
        for soft, mode in [(0.01, "sum"), (0.01, "sum"), (0.5, "sum"), (0.5, "sum"), (0.5, "max"),
                           (float("nan"), "max"), (float("nan"), "max"), (2, "sum"), (0.01, "sum")]:
            SOFTENING, MODE = soft, mode
            got, want = f(x), softened(x)
            np.testing.assert_allclose(got, want, rtol=1e-12)
            assert type(got) is type(want)
            assert all(d is not None for d in _direct(f))
            f(x)  # (a call after a rebinding finds the program by the general path, the next keeps its runner)
            assert _general_calls(f, x) == 0
    finally:
        SOFTENING, MODE = 0.01, "sum"


def make_scaled(scale):
    def scaled_by(x):
        return x * scale
    return scaled_by


def test_a_closure_guard_is_checked_by_the_direct_runner(rng):
    x = rng.standard_normal(5)
    g = make_scaled(2.0)
    f = looptrace.jit(g, backend="cpu")
    for _ in range(3):
        np.testing.assert_array_equal(f(x), g(x))
    assert all(d is not None for d in _direct(f))
    g.__closure__[0].cell_contents = 3.0
    np.testing.assert_array_equal(f(x), x * 3.0)


TABLE = np.array([1.0, 2.0, 3.0])


def table_total(t):
    s = 0.0
    for i in range(t.shape[0]):
        s += t[i] * t[i]
    return s


table_total_jit = looptrace.jit(table_total, backend="cpu")


def uses_the_table(x):
    total = functools.partial(table_total_jit, TABLE)  # called from outside the converted code
    return total() + x.sum()


def test_a_warm_jitted_function_called_while_tracing_is_traced(rng):
    """table_total_jit is warm on TABLE (its direct runner exists). Called on
    that global array while uses_the_table is traced (through a partial, from
    outside the converted code), it must be traced into uses_the_table's
    program (which then sees TABLE change), not run once at trace time into
    a constant. (The converter already routes such calls to tracing; the warm
    path's own check of `ctx.TRACES` is the second line.)"""
    assert table_total_jit(TABLE) == table_total(TABLE) and table_total_jit(TABLE) == table_total(TABLE)
    assert _direct(table_total_jit) != [None]
    f = looptrace.jit(uses_the_table, backend="cpu")
    x = rng.standard_normal(4)
    try:
        assert f(x) == pytest.approx(uses_the_table(x))
        TABLE[1] = -5.0
        assert f(x) == pytest.approx(uses_the_table(x))
    finally:
        TABLE[:] = [1.0, 2.0, 3.0]


# --- the last signature's runner (JitFunction._mono): a guard, then the direct runner ----------------
def test_alternating_signatures_each_get_their_own_program(rng):
    """The runner kept for the last signature must miss every other one:
    another dtype, shape, type of scalar or int value, in any order."""
    f, g = looptrace.jit(decay, backend="cpu"), looptrace.jit(window_sums, backend="cpu")
    x = rng.standard_normal(12)
    calls = [(x, 0.5), (x.astype(np.float32), 0.5), (x[:7], 0.5), (x, np.float32(0.5)), (x, 2),
             (x, 0.75), (x[:7].copy(), 0.3)]
    for args in calls * 3 + calls[::-1] * 2:
        got, want = f(*args), decay(*args)
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_allclose(got, want, rtol=1e-5)
    for w in (3, 3, 5, 3, 5, 5, 4):
        np.testing.assert_allclose(g(x, w), window_sums(x, w), rtol=1e-12)
    assert f._mono is not None and g._mono is not None


def test_an_equal_dtype_of_another_object_or_an_unaligned_array_takes_the_general_path(rng):
    f = looptrace.jit(decay, backend="cpu")
    x = rng.standard_normal(6)
    for _ in range(2):
        assert f(x, 0.5) == pytest.approx(decay(x, 0.5), rel=1e-12)
    tagged = x.astype(np.dtype(np.float64, metadata={"unit": "m"}))
    assert tagged.dtype == x.dtype and tagged.dtype is not x.dtype
    raw = np.zeros(6 * 8 + 1, dtype=np.uint8)
    unaligned = raw[1:].view(np.float64)
    unaligned[:] = x
    assert not unaligned.flags.aligned
    for y in (tagged, unaligned, x, unaligned, tagged):
        assert f(y, 0.5) == pytest.approx(decay(x, 0.5), rel=1e-12)


def test_forgetting_the_warm_entries_forgets_the_last_runner(rng):
    f = looptrace.jit(decay, backend="cpu")
    x = rng.standard_normal(5)
    f(x, 0.5), f(x, 0.5)
    assert f._mono is not None
    compiled = next(iter(f._fast.values()))[0]
    f.forget_fast(compiled)
    assert f._mono is None and not f._fast
    assert f(x, 0.5) == pytest.approx(decay(x, 0.5), rel=1e-12)
    assert f(x, 0.5) == pytest.approx(decay(x, 0.5), rel=1e-12) and f._mono is not None


def mixed_tuple(x, k):
    s = 0.0
    n = 0
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            s += x[i]
            n += 1
    return s, n, n > 3, s * 1j, np.cumsum(x), x.shape[0], 2.5, s


def test_a_tuple_result_is_built_in_the_runner_as_the_plain_function_gives_it(rng):
    """float64, int64, bool and complex results as NumPy scalars, a Python
    int and float where the plain function returns those, an array, an
    output twice: the same types and values on the first, the warm and the
    last-signature calls, and after a new layout compiled."""
    f = looptrace.jit(mixed_tuple, backend="cpu")
    x = rng.standard_normal(11)
    for args in [(x, 1), (x, 1), (x, 1), (x[::2].copy(), 1), (x, 1), (x[1::2], 1), (x[1::2], 1)]:
        got, want = f(*args), mixed_tuple(*args)
        assert [type(v) for v in got] == [type(v) for v in want]
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-12)
    assert all(entry[3] is not None and entry[4] is not None for entry in f._fast.values())


def test_the_last_signature_s_runner_is_the_instance_s_call(rng):
    """A warm call goes from the instance straight to the runner of the
    signature called last (JitFunction._set_mono): the instance gets its own
    subclass, still a JitFunction by name, isinstance and pickling, whose
    __call__ is that runner's. Signatures called in turn swap it, keywords
    and a call while no runner is kept take the general path, and each gives
    what the plain function gives."""
    import pickle

    f = looptrace.jit(decay, backend="cpu")
    x, y = rng.standard_normal(10), rng.standard_normal(6)
    general = type(f).__call__
    for _ in range(3):
        assert f(x, 0.5) == pytest.approx(decay(x, 0.5), rel=1e-12)
    own = type(f)
    assert own is not looptrace.api.JitFunction and own.__name__ == "JitFunction"
    assert isinstance(f, looptrace.api.JitFunction) and own.__call__ is not general
    first = own.__call__
    f(y, 0.25)  # compiled by the general path, which keeps the runner it had
    for _ in range(2):
        assert f(y, 0.25) == pytest.approx(decay(y, 0.25), rel=1e-12)
        assert type(f) is own and own.__call__ is not first
        assert f(x, 0.5) == pytest.approx(decay(x, 0.5), rel=1e-12)
        assert own.__call__ is first  # made once per signature, swapped back
    assert f(x, a=0.75) == pytest.approx(decay(x, 0.75), rel=1e-12)
    assert f(x.astype(np.float32), 0.5) == pytest.approx(decay(x.astype(np.float32), 0.5), rel=1e-6)
    g = pickle.loads(pickle.dumps(f))
    assert g(y, 0.5) == pytest.approx(decay(y, 0.5), rel=1e-12)
    f.forget_fast()
    assert own.__call__ is looptrace.api.JitFunction.__call__
    assert f(y, 0.5) == pytest.approx(decay(y, 0.5), rel=1e-12)
    other = looptrace.jit(decay, backend="cpu")  # another instance keeps its own runner
    assert other(y, 0.5) == pytest.approx(decay(y, 0.5), rel=1e-12) and type(other) is not own


# --- the kernel's front door (kernel.py _Front): Numba types the arrays, the kernel checks shapes ---
def pointwise(a, b):
    return a * b + 1.0


def gathered(x, idx):
    return x[idx] * 2.0


class Tagged(np.ndarray):
    pass


def _front_of(f):
    from looptrace.codegen.cpu.kernel import _Front

    door = type(f).__call__.__globals__.get("kernel")
    return door if isinstance(door, _Front) else None


def test_a_warm_call_of_arrays_goes_through_the_kernel_s_front_door(rng):
    """The last signature's runner calls the kernel's front door with no test
    of dtypes, shapes or flags in Python. Every other argument must still
    give what the plain function gives: another shape, rank, dtype or layout,
    a read-only or unaligned array, an ndarray subclass (which Numba would
    type as an ndarray), a list, a scalar, keywords; and the door takes a
    layout once the kernel has compiled for it."""
    f = looptrace.jit(pointwise, backend="cpu")
    a, b = rng.standard_normal((2, 5, 4))
    for _ in range(3):
        np.testing.assert_allclose(f(a, b), pointwise(a, b), rtol=1e-12)
    door = _front_of(f)
    assert door is not None and len(door.overloads) == 1
    readonly = a.copy()
    readonly.flags.writeable = False
    raw = np.zeros(a.size * 8 + 1, dtype=np.uint8)
    unaligned = raw[1:].view(np.float64).reshape(a.shape)
    unaligned[:] = a
    others = [(a[:3], b[:3]), (a[0], b[0]), (a.astype(np.float32), b.astype(np.float32)), (a.T, b.T),
              (np.asfortranarray(a), np.asfortranarray(b)), (a[:, ::2], b[:, ::2]), (readonly, b),
              (unaligned, b), (a.view(Tagged), b), (a.tolist(), b), (a, 2.0), (a.astype(np.int64), b)]
    for args in others + others[::-1]:
        # the call, again, and back to the first signature
        for got, want in [(f(*args), pointwise(*args)), (f(*args), pointwise(*args)), (f(a, b), pointwise(a, b))]:
            assert type(got) is np.ndarray and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-6)
    assert f(a, b=b).shape == a.shape
    fortran = np.asfortranarray(a), np.asfortranarray(b)
    np.testing.assert_allclose(f(*fortran), pointwise(*fortran), rtol=1e-12)
    assert _front_of(f) is door and len(door.overloads) >= 2  # the F layout, taken from the kernel


def test_an_error_raised_through_the_front_door_is_the_general_path_s(rng):
    f = looptrace.jit(gathered, backend="cpu")
    x = rng.standard_normal(6)
    idx = rng.integers(0, 6, size=4)
    for _ in range(3):
        np.testing.assert_allclose(f(x, idx), gathered(x, idx), rtol=1e-12)
    assert _front_of(f) is not None
    bad = idx.copy()
    bad[2] = 9
    with pytest.raises(IndexError) as warm:
        f(x, bad)
    with pytest.raises(IndexError) as cold:
        looptrace.jit(gathered, backend="cpu")(x, bad)
    assert str(warm.value) == str(cold.value) and "test_cpu_call_path.py" in str(warm.value)
    # shown without the kernel's own exception as its context
    assert warm.value.__context__ is None or warm.value.__suppress_context__
    np.testing.assert_allclose(f(x, idx), gathered(x, idx), rtol=1e-12)


def test_a_family_s_generic_kernel_has_one_front_door_for_its_members(rng):
    """Shapes after the first share their family's shape-generic kernel
    (codegen/cpu/generic.py), whose sizes are passed at run time: its
    shape test checks the sizes each member passes, through one door."""
    f = looptrace.jit(pointwise, backend="cpu")
    sizes = [(7, 3), (9, 3), (11, 3), (9, 3), (7, 3)]
    doors = []
    for shape in sizes + sizes:
        a, b = rng.standard_normal((2, *shape))
        for _ in range(2):
            np.testing.assert_allclose(f(a, b), pointwise(a, b), rtol=1e-12)
        doors.append(_front_of(f))
    assert all(d is not None for d in doors)
    shared = [c.run for c in f._cache.values() if c.run.shared is not None]
    assert shared and len({id(run.front()) for run in shared}) == 1


def scale_into(x, out):
    for i in range(x.shape[0]):
        out[i] = x[i] * 2.0 + out[i]


@pytest.mark.parametrize("fn,make", [
    (bump, lambda r: (r.standard_normal(3), 0.5)),
    (running_max, lambda r: (r.standard_normal(40), r.integers(-5, 5, 40), np.full(5, -np.inf))),
    (keep_old, lambda r: (r.standard_normal(6), 1.5)),
    (shared_result, lambda r: (r.standard_normal(4), r.standard_normal(9))),
    (scale_into, lambda r: (r.standard_normal(8), r.standard_normal(8))),
])
def test_a_writing_program_s_warm_call_goes_through_the_front_door(fn, make, rng):
    """A program that writes into its arguments: the warm call's runner calls
    the kernel's front door (the kernel tests that the written argument
    shares no memory with another, templates.apart) and then does the write-
    backs itself; the same results, types and argument effects as the plain
    function."""
    f = looptrace.jit(fn, backend="cpu")
    for k in range(4):
        args = make(rng)
        plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        got, want = f(*args), fn(*plain)
        assert type(got) is type(want)
        for g, w in zip(got if isinstance(got, tuple) else [got], want if isinstance(want, tuple) else [want]):
            assert type(g) is type(w)
            if w is not None:
                np.testing.assert_allclose(g, w, rtol=1e-12)
        for a, p in zip(args, plain):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, p)
    assert _front_of(f) is not None


def test_through_the_front_door_a_written_argument_that_shares_memory_is_refused(rng):
    """The same shapes as the warm call, so the door is tried first: memory
    shared with the written argument (the same array, overlapping views) is
    refused with the general path's ValueError, a read-only one with NumPy's,
    a failing run leaves the argument as it was; arrays apart in one buffer
    are not refused."""
    f = looptrace.jit(running_max, backend="cpu")
    values, labels = rng.standard_normal(40), rng.integers(-5, 5, 40)
    for _ in range(3):
        f(values, labels, np.full(5, -np.inf))
    assert _front_of(f) is not None
    shared = rng.standard_normal(45)
    with pytest.raises(ValueError, match="share memory"):
        f(shared[:40], labels, shared[35:40])
    with pytest.raises(ValueError, match="share memory"):
        f(shared[:40][::-1], labels, shared[35:40][::-1])  # negative strides
    buffer = rng.standard_normal(45)
    out = buffer[40:]
    want = running_max(buffer[:40].copy(), labels, buffer[40:].copy())
    np.testing.assert_array_equal(f(buffer[:40], labels, out), want)
    np.testing.assert_array_equal(buffer[40:], want)
    _read_only_and_failing_runs(f, values, labels, rng)
    f2 = looptrace.jit(scale_into, backend="cpu")
    x = rng.standard_normal(8)
    for _ in range(3):
        f2(x, rng.standard_normal(8))
    plain = x.copy()
    scale_into(plain, plain)
    f2(x, x)  # one array passed twice: traced as one array (api.py `_execute_aliased`)
    np.testing.assert_array_equal(x, plain)


def with_defaults(x, a=0.5, n=3, w=None):
    y = x * a + n
    return y if w is None else y * w


def shifted(x, a=0.5, n=3):
    return x * a + n


def test_a_float_default_passed_by_position_is_no_constant_of_the_warm_path(rng):
    """The parameter's own default object passed by position, then another
    float: each call gives its own answer (the warm path keys floats by
    type only; it gave the first call's answer for the second)."""
    f = looptrace.jit(shifted, backend="cpu")
    x = rng.standard_normal(4)
    default = shifted.__defaults__[0]
    for a in (default, default, 0.7, 0.7, default, 0.9):
        np.testing.assert_allclose(f(x, a, 3), shifted(x, a, 3), rtol=1e-12)
        np.testing.assert_allclose(f(x, a), shifted(x, a), rtol=1e-12)


def test_keywords_and_defaults_take_the_warm_path(rng):
    """A call with keywords or relying on defaults is the plain call with
    them put in place: the same answers as the plain function, one program
    for all the spellings, and Python's TypeError for a bad call."""
    f = looptrace.jit(with_defaults, backend="cpu")
    x, w = rng.standard_normal(4), rng.standard_normal(4)
    calls = [((x,), {}), ((x, 0.25), {}), ((x,), {"a": 0.25}), ((x,), {"n": 5, "a": 1.5}), ((), {"x": x}),
             ((x, 0.5, 3), {}), ((x,), {"w": w}), ((x, 0.5), {"n": 3, "w": w})]
    for args, kwargs in calls * 2:
        np.testing.assert_allclose(f(*args, **kwargs), with_defaults(*args, **kwargs), rtol=1e-12)
    assert len({id(entry[0]) for entry in f._fast.values()}) <= 3  # n=3, n=5; w given or not
    for args, kwargs in [((x,), {"b": 1.0}), ((x, 0.5), {"a": 0.5}), ((), {}), ((x, 1, 2, w, 5), {})]:
        with pytest.raises(TypeError):
            with_defaults(*args, **kwargs)
        with pytest.raises(TypeError):
            f(*args, **kwargs)
    g = looptrace.jit(shifted, backend="cpu")
    for _ in range(3):
        np.testing.assert_allclose(g(x, a=0.25), shifted(x, a=0.25), rtol=1e-12)
        np.testing.assert_allclose(g(x), shifted(x), rtol=1e-12)
    assert _front_of(g) is not None and len(g._fast) == 1  # one program: a float default is an argument


def _general_calls(f, *args, **kwargs) -> int:
    """How many times a call of `f` enters JitFunction.__call__ (the general path)."""
    import sys

    from looptrace.api import JitFunction

    code, count = JitFunction.__call__.__code__, [0]

    def profile(frame, event, arg):
        if event == "call" and frame.f_code is code:
            count[0] += 1

    sys.setprofile(profile)
    try:
        f(*args, **kwargs)
    finally:
        sys.setprofile(None)
    return count[0]


def test_a_warm_call_with_an_int_keywords_or_defaults_stays_in_the_runner(rng):
    """The last signature's runner takes the call whole: with an int
    argument (its front-door guard read the ints' values from the wrong place
    in the key, a dtype, so every such call went the general way: 2.5 against
    1.3 us) and with keywords and defaults (put by position in the runner,
    no more through JitFunction.__call__ and back: 4.4 against 2.2 us)."""
    f = looptrace.jit(shifted, backend="cpu")
    x = rng.standard_normal(4)
    calls = [((x, 0.5, 3), {}), ((x,), {"a": 0.25, "n": 3}), ((x,), {}), ((x, 0.75), {"n": 3})]
    for args, kwargs in calls * 2:
        np.testing.assert_allclose(f(*args, **kwargs), shifted(*args, **kwargs), rtol=1e-12)
    for args, kwargs in calls:
        assert _general_calls(f, *args, **kwargs) == 0, (args, kwargs)
    assert _general_calls(f, x, 0.5, 4) == 1  # another int value: the general path decides
    with pytest.raises(TypeError, match="unexpected keyword argument 'b'"):  # Python's, from the general path
        f(x, b=1.0)


ZERO32 = np.int32(0)


def int32_total(a):
    total = ZERO32
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            total += a[i, j]
    return total


def float32_pair(x):
    return x.sum(), x.max()


def test_scalars_of_other_dtypes_take_the_direct_runner(rng):
    """An int32 or float32 scalar result (which Numba gives back as the
    Python number) is built as the NumPy scalar of its dtype by the direct
    runner, as the general path gives it: numba-benchmark's range2d sums an
    int32 array from a global `zero = np.int32(0)`."""
    a = rng.integers(-100, 100, (30, 20)).astype(np.int32)
    x = rng.standard_normal(17).astype(np.float32)
    for fn, args in ((int32_total, (a,)), (float32_pair, (x,))):
        f = looptrace.jit(fn, backend="cpu")
        for _ in range(3):
            got, want = f(*args), fn(*args)
            got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
            assert [type(v) for v in got] == [type(v) for v in want]
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=1e-6)
        assert all(entry[3] is not None for entry in f._fast.values())
        assert _general_calls(f, *args) == 0


def euler_decay(x0, rate, t_end, dt):
    n = int(t_end / dt)  # dt and t_end size the result: static floats
    out = np.empty((n, x0.shape[0]))
    x = x0
    for k in range(n):
        x = x + dt * (-rate * x)
        out[k] = x
    return out


def test_floats_that_size_arrays_take_the_warm_path_by_value(rng):
    """A float made static (it sizes an array) is in the warm call's key by
    value: a call with the same floats goes straight to the kernel, one with
    another value takes the general path and gets its own program (seir of
    the corpus took the general path on every call: 35 us over its kernel)."""
    x0 = rng.uniform(0.5, 1.5, 3)
    f = looptrace.jit(euler_decay, backend="cpu")
    for t_end, dt in ((1.0, 0.1), (1.0, 0.1), (1.0, 0.05), (2.0, 0.1), (1.0, 0.1), (1.0, 0.05)):
        got = f(x0, 0.3, t_end, dt)
        want = euler_decay(x0, 0.3, t_end, dt)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert _general_calls(f, x0, 0.7, 1.0, 0.05) == 0  # a runtime float changes: still warm
    np.testing.assert_allclose(f(x0, 0.7, 1.0, 0.05), euler_decay(x0, 0.7, 1.0, 0.05), rtol=1e-12)
    assert _general_calls(f, x0, 0.3, 1.0, 0.025) == 1  # a new step: the general path compiles it
    f(x0, 0.3, 1.0, 0.025)  # (the runner of the last signature changes: once through the general path)
    assert _general_calls(f, x0, 0.3, 1.0, 0.025) == 0
    np.testing.assert_allclose(f(x0, 0.3, 1.0, 0.025), euler_decay(x0, 0.3, 1.0, 0.025), rtol=1e-12)


def signed_prefix(x, step):
    n = int(2.0 + abs(step))
    return x[:n] * math.copysign(1.0, step)


def test_a_static_zero_and_minus_zero_get_their_own_programs(rng):
    """0.0 == -0.0, but a program made for one is not the other's: static
    floats are keyed by their bits, on the warm path and the general one."""
    x = rng.standard_normal(6)
    f = looptrace.jit(signed_prefix, backend="cpu")
    for step in (0.0, -0.0, 0.0, -0.0, 1.5, -1.5):
        np.testing.assert_array_equal(f(x, step), signed_prefix(x, step))


def _table():
    return _TABLE[1:]  # a view of a module array: its base is anyone's


_TABLE = np.array([5.0, 1.0, 2.0, 3.0])


@functools.lru_cache(maxsize=None)
def _cached_ramp(n):
    return np.linspace(0.0, 1.0, n)  # held by the cache: it may change


def windowed_frames(x, n):
    window = np.hanning(n)  # made by NumPy while tracing, held by nothing after
    return x[:n] * window


def through_an_unknown_function(x):
    return x * _table()


def kept_by_someone(x):
    return x * _cached_ramp(3)  # (a function the tracer does not enter)


def test_an_array_made_while_tracing_and_held_by_nothing_is_not_checked_per_call(rng):
    """`np.hanning(n)` of a static n is baked into the program; nothing holds
    it once the trace is done, so a warm call does not check it (it took the
    general path on every call: spectrogram of the corpus). Arrays that
    something else still holds are checked, and a change retraces."""
    x = rng.standard_normal(8)
    f = looptrace.jit(windowed_frames, backend="cpu")
    for _ in range(3):
        np.testing.assert_allclose(f(x, 6), windowed_frames(x, 6), rtol=1e-12)
    assert _general_calls(f, x, 6) == 0
    g = looptrace.jit(through_an_unknown_function, backend="cpu")
    y = rng.standard_normal(3)
    np.testing.assert_allclose(g(y), through_an_unknown_function(y), rtol=1e-12)
    _TABLE[2] = -4.0  # through the view
    np.testing.assert_allclose(g(y), through_an_unknown_function(y), rtol=1e-12)
    h = looptrace.jit(kept_by_someone, backend="cpu")
    np.testing.assert_allclose(h(y), y * np.linspace(0.0, 1.0, 3), rtol=1e-12)
    _cached_ramp(3)[1] = 9.0
    np.testing.assert_allclose(h(y), y * np.array([0.0, 9.0, 1.0]), rtol=1e-12)


def grid_steps(x, r0, c0):
    """Neighbour offsets made from Python values, indexed by the loop's index."""
    dr = np.array([1, -1, 0, 0])
    dc = np.array([0, 0, 1, -1])
    s = 0.0
    for d in range(4):
        r, c = r0 + dr[d], c0 + dc[d]
        if 0 <= r < x.shape[0] and 0 <= c < x.shape[1]:
            s += x[r, c]
    return s


@functools.lru_cache(maxsize=None)
def _cached_table():  # behind lru_cache's C wrapper (not entered): the same array at every call
    return np.array([0.5, 1.5, 2.5])


def from_table(x):
    t = _cached_table()
    s = 0.0
    for k in range(3):
        s += x[k] * t[k]
    return s


def test_arrays_made_from_python_values_are_not_checked_at_each_call(rng):
    """`dr = np.array([1, -1, 0, 0])` is made anew by every plain call: the
    program bakes it in without a captured-array check (which cost ~10 us of
    np.array_equal per array and per call, and the direct call path)."""
    f = looptrace.jit(grid_steps, backend="cpu")
    x = rng.standard_normal((5, 6))
    for r0, c0 in [(0, 0), (2, 3), (4, 5)]:
        assert f(x, r0, c0) == pytest.approx(grid_steps(x, r0, c0), rel=1e-12)
    assert f.trace([x, 2, 3]).captured == []


def test_an_array_from_a_function_not_entered_is_still_checked(rng):
    f = looptrace.jit(from_table, backend="cpu")
    x = rng.standard_normal(3)
    assert f(x) == pytest.approx(from_table(x), rel=1e-12)
    assert len(f.trace([x]).captured) == 1
    _cached_table()[1] = -4.0  # changed between calls: the program is traced again
    try:
        assert f(x) == pytest.approx(from_table(x), rel=1e-12)
    finally:
        _cached_table()[1] = 1.5
