"""What the language probe (session 49, helper L) found wrong, fixed: each
construct either gives the plain function's values (sorted/min/max of
tuples, contextlib.suppress of what does not raise, a traced range step of
0 on cpu) or is refused with a clear error naming the user's line
(`nonlocal` writes to an enclosing function's variable, hidden-state
calls such as random.random() and time.time(), next() of an outside
iterator, `with` over context managers whose __enter__/__exit__ would run
only while tracing, np.errstate(divide="raise")). Interpret, except one cpu
kernel for the range step."""
import contextlib
import itertools
import os
import random
import threading
import time
import warnings

import numpy as np
import pytest

import looptrace as lt

from .test_closures_and_aliases import running_total  # (nonlocal writes of the jitted function's own locals)
from .test_probe_lang_s49 import _same

HERE = os.path.basename(__file__)


def agree(fn, *args, backend="interpret", **kw):
    pa = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    ja = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    exp = fn(*pa)
    got = lt.jit(fn, backend=backend, **kw)(*ja)
    _same(got, exp)
    for p, j in zip(pa, ja):
        if isinstance(p, np.ndarray):
            np.testing.assert_array_equal(j, p)
    return got


def refused(fn, *args, match, cls=lt.UnsupportedError, line=None, **kw):
    """jit(fn)(*args) raises `cls` whose message matches and names this file (and `line`'s text)."""
    with pytest.raises(cls, match=match) as info:
        lt.jit(fn, backend="interpret", **kw)(*args)
    text = str(info.value)
    assert HERE in text, text
    if line is not None:
        assert line in text, text
    return text


# --- W1: nonlocal writes of an enclosing function's variable ---------------------------------------
def _make_adam():
    t = 0

    def step(g):
        nonlocal t
        t += 1
        return g / (1 - 0.9 ** t)
    return step


def _make_through_nested():
    t = 0

    def f(x):
        def inc():
            nonlocal t
            t = t + 1
        inc()
        return x * 2.0
    return f


def _make_counter_helper():
    n = 0

    def counter():
        nonlocal n
        n += 1
        return n

    def f(x):
        return x * counter()
    return f


def test_nonlocal_write_of_an_outer_variable_is_refused_and_own_locals_kept(rng):
    step = _make_adam()
    refused(step, rng.standard_normal(2), match=r"assigns `t` of an enclosing function", line="t += 1")
    refused(_make_through_nested(), rng.standard_normal(2), match=r"`nonlocal t`", line="t = t + 1")
    refused(_make_counter_helper(), rng.standard_normal(2), match=r"assigns `n`", line="n += 1")
    assert step.__closure__[0].cell_contents == 0  # (nothing written while tracing)
    agree(running_total, rng.standard_normal(7))


# --- W2: calls whose value comes from hidden state -------------------------------------------------
_R = random.Random(5)
_CNT = itertools.count()
_IT = iter([1.0, 2.0, 3.0])


def draws_random_in_loop(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] + random.random()
    return out


def draws_gauss(x):
    return x * random.gauss(0.0, 1.0)


def draws_instance(x):
    return x * _R.uniform(0.0, 1.0)


def shuffles(x):
    order = [0, 1, 2]
    random.shuffle(order)
    return x[order[0]]


def reads_clock(x):
    return x + time.perf_counter()


def reads_os_urandom(x):
    return x + os.urandom(1)[0]


def takes_next_of_global(x):
    return x * next(_CNT)


def loops_over_global_iterator(x):
    s = 0.0
    for v in _IT:
        s += v
    return x * s


def sums_global_iterator(x):
    return x * sum(_IT)


def pure_module_constants(x):
    it = iter([1.0, 2.0])
    first = next(it)
    return x * np.pi + random.__name__.__len__() + time.localtime(0).tm_year + first


@pytest.mark.parametrize("fn, match, line", [
    (draws_random_in_loop, r"`random\.random\(\)` .* evaluated once", "random.random()"),
    (draws_gauss, r"`random\.gauss\(\)`", "random.gauss(0.0, 1.0)"),
    (draws_instance, r"`Random\.uniform\(\)`", "_R.uniform"),
    (shuffles, r"`random\.shuffle\(\)`", "random.shuffle(order)"),
    (reads_clock, r"`time\.perf_counter\(\)`", "time.perf_counter()"),
    (reads_os_urandom, r"`os\.urandom\(\)`", "os.urandom(1)"),
    (takes_next_of_global, r"next\(\) takes items of `_CNT`, an iterator from outside", "next(_CNT)"),
    (loops_over_global_iterator, r"a `for` loop takes items of `_IT`", "for v in _IT"),
    (sums_global_iterator, r"sum\(\) takes items of `_IT`", "sum(_IT)"),
])
def test_hidden_state_calls_are_refused(rng, fn, match, line):
    text = refused(fn, rng.standard_normal(3), match=match, line=line)
    assert "hint:" in text
    assert _IT.__length_hint__() == 3  # (the iterator was not advanced)


def test_pure_uses_of_random_and_time_modules_still_trace(rng):
    agree(pure_module_constants, rng.standard_normal(3))


# --- W3, M1, M3: `with` ----------------------------------------------------------------------------
class _Timer:
    elapsed = None

    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.elapsed = time.perf_counter() - self.t0


_TIMER = _Timer()
_LOCK = threading.Lock()


def with_outside_timer(x):
    with _TIMER:
        y = np.cumsum(x)
    return y


def with_lock_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        with _LOCK:
            s += x[i]
    return s


def with_catch_warnings(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = np.log(x)
    return y


def errstate_raise(x):
    with np.errstate(divide="raise"):
        return 1.0 / x


def errstate_all_raise(x):
    with np.errstate(all="raise"):
        y = x / (x - x[0])
    return y


def errstate_quiet(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = 1.0 / x
    with np.errstate(all="warn"), contextlib.nullcontext(2.0) as c:
        y = y * c
    return y


def suppress_data_dependent_raise(x):
    y = 1.0
    with contextlib.suppress(ValueError):
        if x[0] < 0:
            raise ValueError("negative")
        y = 2.0
    return y


def suppress_static(x, n):
    y = x * 1.0
    with contextlib.suppress(KeyError, ValueError):
        if n < 0:
            raise ValueError("negative n")
        y = x * 2.0
    return y


def suppress_in_loop_nothing_raised(x):
    s = 0.0
    for i in range(x.shape[0]):
        with contextlib.suppress(ZeroDivisionError):
            if x[i] > 0:
                s += x[i]
                continue
            s -= 1.0
    return s


def nditer_with(x):
    s = 0.0
    with np.nditer(x) as it:
        for v in it:
            s += v
    return s


def test_with_over_outside_context_managers_is_refused(rng):
    x = rng.standard_normal(4)
    _TIMER.elapsed = None
    refused(with_outside_timer, x, match=r"`with` over a .*_Timer object is not supported", line="with _TIMER:")
    assert _TIMER.elapsed is None  # (its __enter__/__exit__ never ran)
    refused(with_lock_in_loop, x, match=r"`with` over a _thread\.lock object", line="with _LOCK:")
    refused(with_catch_warnings, np.abs(x) + 0.5, match=r"warnings\.catch_warnings object",
            line="with warnings.catch_warnings():")
    assert not _LOCK.locked()


def test_errstate_raise_is_refused_and_quiet_modes_kept(rng):
    x = rng.standard_normal(4)
    refused(errstate_raise, x, match=r"np\.errstate\(divide='raise'\) .* FloatingPointError",
            line='with np.errstate(divide="raise"):')
    refused(errstate_all_raise, x, match=r"np\.errstate\(all='raise'\)")
    agree(errstate_quiet, np.r_[x, 0.0])


def test_contextlib_suppress_as_try_except(rng):
    x = rng.standard_normal(5)
    refused(suppress_data_dependent_raise, x, match=r"may raise ValueError at run time inside a "
            r"`with contextlib\.suppress\(ValueError\)`", line='raise ValueError("negative")')
    for n in (-1, 2):  # a Python value's exception, raised while tracing, is suppressed as in Python
        agree(suppress_static, x, n, static_argnames=("n",))
    agree(suppress_in_loop_nothing_raised, x)
    agree(nditer_with, x)


# --- W4: sorted / min / max of tuples -----------------------------------------------------------
def argsort_idiom(x):
    return [i for _, i in sorted([(x[i], i) for i in range(x.shape[0])], key=lambda p: p[0])]


def sorted_tuples_plain_order(x):
    return sorted([(x[i] > 0, x[i], i) for i in range(x.shape[0])]), \
        sorted([(x[i], i, "label") for i in range(x.shape[0])], reverse=True)


def minmax_of_pairs(x):
    ps = [(x[i], i) for i in range(x.shape[0])]
    return max(ps, key=lambda p: p[0]), min(ps, key=lambda p: p[0]), max(ps), min(ps)


def test_sorted_min_max_of_tuples_keep_each_elements_type(rng):
    x = np.round(rng.standard_normal(6), 1)
    x[4] = x[1]  # a tie: the stable order (and the first extreme) as Python's
    got = agree(argsort_idiom, x)
    assert all(type(i) is int for i in got)
    agree(sorted_tuples_plain_order, x)
    agree(minmax_of_pairs, x)
    agree(minmax_of_pairs, -x)


# --- messages ------------------------------------------------------------------------------------
def del_in_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0:
            t = x[i]
        s += 1.0
        del t
    return s


def or_of_shapes(x):
    v = x[0] or np.ones(2)
    return v


def zip_strict(x, y):
    s = 0.0
    for a, b in zip(x, y, strict=True):
        s += a * b
    return s


def test_clearer_messages(rng):
    text = refused(del_in_loop, np.abs(rng.standard_normal(3)), match=r"loop variable `t` is unbound at the end")
    assert "Unbound" not in text
    text = refused(or_of_shapes, rng.standard_normal(3), match=r"the value of the `or`/`and` has shape",
                   cls=lt.LooptraceError)
    assert "``" not in text
    with pytest.raises(ValueError, match=r"zip\(\) argument 2 is shorter than argument 1"):
        zip_strict(rng.standard_normal(3), rng.standard_normal(2))
    refused(zip_strict, rng.standard_normal(3), rng.standard_normal(2),
            match=r"zip\(\) argument 2 is shorter than argument 1", cls=ValueError)


# --- M2: a traced range step of 0 ------------------------------------------------------------------
def stepped(x, k):
    s = 0.0
    for i in range(0, x.shape[0], k[0]):
        s += x[i]
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_traced_zero_range_step_raises_pythons_error(rng, backend):
    x = rng.standard_normal(7)
    f = lt.jit(stepped, backend=backend)  # (cpu: one kernel for every step)
    for k in (2, -1, 3):
        assert f(x, np.array([k])) == pytest.approx(stepped(x, np.array([k])), rel=1e-12)
    with pytest.raises(ValueError, match=r"^range\(\) arg 3 must not be zero"):
        f(x, np.array([0]))


# --- min()/max() of a list grown under a condition ---------------------------------------------
def min_max_of_filtered(x, t):
    kept = [v for v in x if not v < t[0]]  # (a NaN is kept: `not nan < t`)
    return min(kept), max(kept), max([v for v in x if v > t[0] + 10.0], default=-1.0)


def min_of_filtered_ints(k, t):
    out = []
    for i in range(k.shape[0]):
        if k[i] > t[0]:
            out.append(int(k[i]))
    return min(out), max(out, default=-5)


def test_min_max_of_a_list_grown_under_a_condition(rng):
    x = np.round(rng.standard_normal(7), 1)
    for xs in (x, np.r_[np.nan, x], np.r_[x[:2], np.nan, x[2:]]):
        agree(min_max_of_filtered, xs, np.array([0.0]))
    with pytest.raises(ValueError, match=r"^min\(\) arg is an empty sequence") as info:  # (Python's own error)
        lt.jit(min_max_of_filtered, backend="interpret")(x, np.array([99.0]))
    assert HERE in "".join(getattr(info.value, "__notes__", [])) + str(info.value)  # (the line, in a note)
    k = rng.integers(0, 10, 8)
    agree(min_of_filtered_ints, k, np.array([3]))
    with pytest.raises(ValueError, match=r"^min\(\) arg is an empty sequence"):
        lt.jit(min_of_filtered_ints, backend="interpret")(k, np.array([10]))
