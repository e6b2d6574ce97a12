"""How functions are called and what they read (found by probing calling
conventions), each against the plain function:

- keyword-only parameters (trace.py `_call_by_kind`);
- first calls from several threads whose int argument decides a shape: each
  gets the program traced for its own value (api.py `built_key`,
  specialize.py);
- a bound method, classmethod, functools.partial or callable object called
  inside a jitted function is traced as its function, so what it reads is
  guarded (runtime.py `_user_callable`);
- a global bound to a NumPy object (`FN = np.sin`, `DT = np.float32`) is
  guarded (external.py `_rebindable`); a global -0.0 is not 0.0;
- a recursion on an int argument specializes on it; on array data it is a
  clear error;
- `@lt.jit` on a method, lt.jit(obj.method); generator functions refused."""
import concurrent.futures as cf
import functools

import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import UnsupportedError
from tests.tracer.test_python_idioms_s32 import sum_of_factorials as factorials


def keyword_only(x, *, s=2.0):
    return x * s


def required_keyword(x, *, s):
    return x * s


def everything(x, *rest, k=1.0, **more):
    return x * k + sum(rest) + more.get("z", 0.0)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_keyword_only_parameters(backend):
    x = np.arange(3.0)
    np.testing.assert_array_equal(lt.jit(keyword_only, backend=backend)(x, s=3.0), x * 3)
    np.testing.assert_array_equal(lt.jit(keyword_only, backend=backend)(x), x * 2)
    np.testing.assert_array_equal(lt.jit(required_keyword, backend=backend)(x, s=4.0), x * 4)
    np.testing.assert_array_equal(lt.jit(everything, backend=backend)(x, 1.0, 2.0, k=3.0, z=5.0),
                                  everything(x, 1.0, 2.0, k=3.0, z=5.0))


def counted(n):
    return np.arange(n) * 2.0


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_first_calls_from_threads_specialize_each_value(backend):
    for _ in range(3):
        jf = lt.jit(counted, backend=backend)
        with cf.ThreadPoolExecutor(4) as ex:
            futures = {n: ex.submit(jf, n) for n in (3, 4, 5, 6)}
        for n, fu in futures.items():
            np.testing.assert_array_equal(fu.result(), np.arange(n) * 2.0)


K = 2.0


class Scaled:
    C = 3.0

    def __init__(self):
        self.w = np.arange(3.0)
        self.k = 2.0

    def apply(self, x):
        return x * self.w

    def scale(self, x):
        return x * self.k * K

    def total(self, x):
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i] * self.k
        return s

    def __call__(self, x):
        return x + self.k

    @classmethod
    def by_class(cls, x):
        return x * cls.C

    @lt.jit
    def jitted(self, x):
        return x * self.w + self.k


def _times(x, a):
    return x * a * K


OBJ = Scaled()
PARTIAL = functools.partial(_times, a=2.0)


def through_method(x):
    return OBJ.apply(x), OBJ.scale(x), OBJ.total(x), OBJ(x), Scaled.by_class(x), PARTIAL(x)


def test_methods_and_partials_read_at_call_time():
    global K
    x = np.arange(1.0, 4.0)
    f = lt.jit(through_method, backend="interpret")
    saved = (OBJ.w, OBJ.k, K, Scaled.C)
    try:
        for w, k, kk, c in ((np.arange(3.0), 2.0, 2.0, 3.0), (np.full(3, 5.0), 7.0, 9.0, 4.0)):
            OBJ.w, OBJ.k, K, Scaled.C = w, k, kk, c
            for got, want in zip(f(x), through_method(x)):
                np.testing.assert_array_equal(got, want)
    finally:
        OBJ.w, OBJ.k, K, Scaled.C = saved


DT = np.float32
FN = np.sin
ZERO = -0.0


def uses_numpy_globals(x):
    return x.astype(DT), FN(x), x * 0 + np.copysign(1.0, ZERO)


def test_globals_bound_to_numpy_objects_and_signed_zeros():
    global DT, FN, ZERO
    x = np.arange(3.0)
    f = lt.jit(uses_numpy_globals, backend="interpret")
    try:
        for DT, FN, ZERO in ((np.float32, np.sin, -0.0), (np.int64, np.cos, 0.0), (np.float32, np.sin, -0.0)):
            for got, want in zip(f(x), uses_numpy_globals(x)):
                assert got.dtype == want.dtype
                np.testing.assert_array_equal(got, want)
    finally:
        DT, FN, ZERO = np.float32, np.sin, -0.0


def depth(n):
    return 0 if n == 0 else depth(n - 1) + 1


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def scaled_by_fib(x, n):
    return x * fib(n)


def test_recursion():
    assert lt.jit(depth, backend="interpret")(7) == 7
    np.testing.assert_array_equal(lt.jit(scaled_by_fib)(np.ones(2), 10), np.full(2, 55.0))
    with pytest.raises(UnsupportedError, match="calls itself"):
        lt.jit(factorials, backend="interpret")(np.array([3, 4, 5]))


def test_jit_on_methods():
    x = np.arange(3.0)
    a, b = Scaled(), Scaled()
    b.w, b.k = np.full(3, 4.0), 1.0
    np.testing.assert_array_equal(a.jitted(x), x * a.w + a.k)
    np.testing.assert_array_equal(b.jitted(x), x * b.w + b.k)
    a.k = 10.0
    np.testing.assert_array_equal(a.jitted(x), x * a.w + a.k)
    bound = lt.jit(a.total, backend="interpret")
    assert bound(x) == a.total(x)
    a.k = -1.0
    assert bound(x) == a.total(x)
    np.testing.assert_array_equal(lt.jit(Scaled.by_class)(x), Scaled.by_class(x))


def generated(x):
    yield x * 2


def test_generator_functions_are_refused():
    with pytest.raises(TypeError, match="generator function"):
        lt.jit(generated)


def appended_trajectory(x, n):
    traj = []
    for _ in range(n):
        x = x * 0.5
        traj.append(x)
    return np.array(traj), len(traj)


def appended_rows(a, n):
    rows = []
    for i in range(n):
        rows.append(a * i)
    return np.vstack(rows), np.hstack(rows), np.stack(rows)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_lists_grown_over_an_int_argument_specialize_on_it(backend):
    f, g = lt.jit(appended_trajectory, backend=backend), lt.jit(appended_rows, backend=backend)
    for n in (3, 1, 4):
        got, want = f(1.5, n), appended_trajectory(1.5, n)
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1] == want[1]
        for p, q in zip(g(np.arange(3.0), n), appended_rows(np.arange(3.0), n)):
            np.testing.assert_array_equal(p, q)


def mean_of_positive(x):
    s = 0.0
    n = 0
    for v in x:
        if v > 0:
            s += v
            n += 1
    return s / n


def floor_mean_of_positive(x):
    total = 0
    n = 0
    for v in x:
        if v > 0:
            total += v
            n += 1
    return total // n


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_python_division_by_a_count_that_stayed_zero(backend):
    """`s` is a Python float unless the `if` ran (then a NumPy float): Python
    raises ZeroDivisionError for 0.0 / 0, NumPy gives nan (kinds tags)."""
    for fn, x in ((mean_of_positive, np.array([-1.0, 2.0, 3.0])), (floor_mean_of_positive, np.array([-1, 5, 6]))):
        assert lt.jit(fn, backend=backend)(x) == fn(x)
    for fn, x in ((mean_of_positive, np.array([-1.0])), (floor_mean_of_positive, np.array([-1, -2]))):
        with pytest.raises(ZeroDivisionError):
            fn(x)
        with pytest.raises(ZeroDivisionError):
            lt.jit(fn, backend=backend)(x)


def sqrt_until_negative(x, out):
    for i in range(x.shape[0]):
        if x[i] < 0:
            raise ValueError("negative")
        out[i] = np.sqrt(x[i])


def doubled_past_the_end(x, out):
    for i in range(5):
        out[i] = x[i] * 2


def draw_then_raise(rng, x):
    a = rng.random()
    if x[0] > 0:
        raise ValueError("positive")
    return a


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_error_leaves_the_writes_python_made(backend):
    """The compiled program writes its arguments only when it ran through: on
    a failure the plain function runs, so the state is Python's."""
    for fn, x, n, exc in ((sqrt_until_negative, np.array([1.0, 4.0, -1.0, 9.0]), 4, ValueError),
                          (doubled_past_the_end, np.arange(3.0), 5, IndexError)):
        want, got = np.zeros(n), np.zeros(n)
        with pytest.raises(exc):
            fn(x, want)
        with pytest.raises(exc):
            lt.jit(fn, backend=backend)(x, got)
        np.testing.assert_array_equal(got, want)
    r1, r2 = np.random.default_rng(0), np.random.default_rng(0)
    with pytest.raises(ValueError):
        draw_then_raise(r1, np.ones(1))
    with pytest.raises(ValueError):
        lt.jit(draw_then_raise, backend=backend)(r2, np.ones(1))
    assert r1.random() == r2.random()


def added(a, b):
    return a + b


BIG_ENDIAN = np.arange(3.0)


def plus_global(x):
    return x + BIG_ENDIAN


def constants(x):
    return np.eye(2), np.arange(3.0), np.zeros(3) + x[0], np.full(2, 7.0)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_big_ints_big_endian_globals_writable_results(backend):
    global BIG_ENDIAN
    assert lt.jit(added, backend=backend)(3, 4) == 7
    with pytest.raises(OverflowError):
        lt.jit(added, backend=backend)(2**62, 2**62)
    f = lt.jit(plus_global, backend=backend)
    np.testing.assert_array_equal(f(np.ones(3)), np.ones(3) + BIG_ENDIAN)
    try:
        BIG_ENDIAN = np.arange(3.0).astype(">f8")
        with pytest.raises(UnsupportedError, match="byte order"):
            f(np.ones(3))
    finally:
        BIG_ENDIAN = np.arange(3.0)
    for r in lt.jit(constants, backend=backend)(np.ones(2)):
        assert r.flags.writeable
        r[0] = 5.0


def first_assigned_in_the_loop(x, iters):
    for it in range(iters):
        counts = np.zeros(3)
        counts[0] = x[it]
    return counts


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_name_first_assigned_in_a_loop_over_an_int_argument(backend):
    x = np.arange(5.0)
    f = lt.jit(first_assigned_in_the_loop, backend=backend)
    for n in (2, 3, 1):
        np.testing.assert_array_equal(f(x, n), first_assigned_in_the_loop(x, n))
    with pytest.raises(UnboundLocalError, match="'counts'"):  # as Python: no iteration ran
        f(x, 0)
