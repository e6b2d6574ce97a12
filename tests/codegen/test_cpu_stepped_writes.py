"""Writes through a slice with a step other than 1 and traced bounds
(`is_prime[p * p::p] = False`, `x[a:b:s] += v`, `x[a:b:s] = values`) are a
loop over the selected positions (tracer/stepped.py), so they cost the number
of elements written: before, each was a select over the whole axis, masked
to the positions (the corpus sieve ran at 0.002x numba.njit), and a value
array made the bounds specialized constants (a compile per slice).

Plain function against compiled, values and effects on arguments, on the
interpret and cpu backends; NumPy's errors (a step of 0, a value of the
wrong length) from both, naming the user's line.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.discrete import sieve
from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import Block, Value
from looptrace.ir.ranges import index_range
from tests.marks import INTERPRET_AND_SLOW_CPU

BACKENDS = ["interpret", "cpu"]


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def fill(x, a, b, s):
    x[a:b:s] = 7.5
    x[:a:s] += 1.0
    x[b::s] -= 2.0
    return x


def static_steps(x, a, b):
    x[a:b:3] = -1.0
    x[b:a:-2] = x[b:a:-2] * 3.0 + 1.0
    return x.sum()


def update(x, y, a, b, s):
    x[a:b:s] += 2.0 * y[a:b:s] + y[0]
    x[a:b:s] *= 0.5
    return x.sum()


def assign(x, v, a, b, s):
    x[a:b:s] = v
    return x


def rows(x, a, s):
    for i in range(x.shape[0]):
        x[i, a + i::s] = x[i, a + i::s] * 2.0 - 1.0
    x[a::s, 1] = -3.0
    x[1, a::s] = np.arange(3.0)[:, None][1]
    return x


JITS = {(f.__name__, be): looptrace.jit(f, backend=be)
        for f in (fill, static_steps, update, assign, rows, sieve) for be in BACKENDS}


def same(a, b):
    if isinstance(b, tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


def check(f, backend, *args):
    plain = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jitted = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want = f(*plain)
    got = JITS[(f.__name__, backend)](*jitted)
    same(got, want)
    for g, w in zip(jitted, plain):
        if isinstance(w, np.ndarray):
            same(g, w)


def count(n, a, b, s):
    return len(range(*slice(a, b, s).indices(n)))


@pytest.mark.parametrize("backend", BACKENDS)
def test_sieve_matches(backend):
    for n in (0, 2, 3, 30, 97, 1000):
        check(sieve, backend, n)
    if backend == "cpu":  # the strided fill in the while loop stores elements, not through views
        assert "][0] = False" not in JITS[("sieve", "cpu")].explain(1000).kernel_source


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_fixed_cases_match(backend, rng):
    for n, a, b, s in [(10, 1, 8, 3), (10, -1, 2, -2), (10, 12, -30, -4), (10, 30, 40, 2), (10, -30, 40, 7),
                       (10, 5, 5, 1), (10, 0, 10, -1), (1, 0, 1, 5), (0, 0, 3, 2)]:
        check(fill, backend, rng.standard_normal(n), a, b, s)
        check(update, backend, rng.standard_normal(n), rng.standard_normal(max(n, 1)), a, b, s)
        check(assign, backend, rng.standard_normal(n), rng.standard_normal(count(n, a, b, s)), a, b, s)
        check(static_steps, backend, rng.standard_normal(n), a, b)
    check(assign, backend, rng.standard_normal(12), rng.standard_normal(1), 2, 11, 3)  # broadcast
    check(assign, backend, rng.standard_normal(12), 4, -1, 2, -3)  # a Python int into floats
    check(rows, backend, rng.standard_normal((4, 9)), 1, 2)
    check(rows, backend, rng.standard_normal((4, 9)), -2, -3)


STEPPED = dict(n=st.sampled_from([0, 1, 2, 9, 16]), a=st.integers(-20, 20), b=st.integers(-20, 20),
               s=st.integers(-6, 6).filter(bool), seed=st.integers(0, 2**31))


def _stepped_writes(backend, n, a, b, s, seed):
    r = np.random.default_rng(seed)
    x, y = r.standard_normal(n), r.standard_normal(max(n, 1))
    v = r.standard_normal(count(n, a, b, s))
    check(fill, backend, x, a, b, s)
    check(update, backend, x, y, a, b, s)
    check(assign, backend, x, v, a, b, s)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**STEPPED)
def test_stepped_writes_match_numpy(n, a, b, s, seed):
    _stepped_writes("interpret", n, a, b, s, seed)


# (the cpu kernels' own examples: fewer, 18.6 s of CPU at 40 in session 48's profile, 12.7 s at 10 in
# session 54's CI: shapes are static, so each example's length is a compile of fill, update and assign,
# 21 kernels at 10, 9.0 s at 4 in e17f737's CI; the interpreter runs 40 examples of the same generator above)
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**STEPPED)
def test_stepped_writes_match_numpy_cpu(n, a, b, s, seed):
    _stepped_writes("cpu", n, a, b, s, seed)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_step_of_zero_raises_numpys_error_at_the_users_line(backend, rng):
    with pytest.raises(ValueError, match="slice step cannot be zero") as e:
        JITS[("fill", backend)](rng.standard_normal(10), 1, 8, 0)
    assert "x[a:b:s] = 7.5" in "".join(getattr(e.value, "__notes__", []))
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        fill(rng.standard_normal(10), 1, 8, 0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_value_of_the_wrong_length_raises_numpys_error(backend, rng):
    # x of 30 and v of 7: on cpu the kernel test_the_write_is_a_loop_over_the_selected_positions compiles
    # (shapes are static; shared through the kernel cache: ~0.6 s of CPU in 3eb5406's CI for one of its own)
    x, v = rng.standard_normal(30), rng.standard_normal(7)
    with pytest.raises(ValueError, match="could not broadcast"):
        assign(x.copy(), v, 0, 10, 2)
    with pytest.raises(ValueError, match="could not broadcast") as e:
        JITS[("assign", backend)](x.copy(), v, 0, 10, 2)
    assert "x[a:b:s] = v" in "".join(getattr(e.value, "__notes__", []))
    check(assign, backend, x, v, 0, 20, 3)  # the same compiled code, the right length


def test_the_write_is_a_loop_over_the_selected_positions(rng):
    """No mask over the whole axis (np.remainder of every position), no
    bounds check per element; a value array does not specialize the bounds."""
    source = JITS[("fill", "cpu")].explain(rng.standard_normal(50), 3, 40, 4).kernel_source
    assert "remainder(" not in source.split("for ")[-1]
    assert "check_start" not in source
    source = JITS[("sieve", "cpu")].explain(1000).kernel_source
    assert "check_start(np.int64(v0)" in source  # is_prime[p], but not the writes
    assert source.count("check_start") == 1
    f = looptrace.jit(assign, backend="cpu")
    for a in range(3):
        check_args = (rng.standard_normal(30), rng.standard_normal(count(30, a, 20, 3)), a, 20, 3)
        want = assign(*[c.copy() if isinstance(c, np.ndarray) else c for c in check_args])
        same(f(*check_args), want)
    assert not f._auto_static  # a, b and s stay traced: one compiled program for every slice


def test_an_ascending_loop_with_traced_bounds_has_an_index_range():
    b = IRBuilder()
    start, stop, step = (Value(np.dtype(np.int64), ()) for _ in range(3))
    lo = b.op("maximum", start, b.const(0))
    hi = b.op("minimum", b.op("maximum", stop, b.const(0)), b.const(10))
    up = b.op("maximum", step, b.const(1))
    body = Block([Value(np.dtype(np.int64), ())], [], [])
    loop = b.region("for_loop", (lo, hi, up), (), (body,))
    ranges = {lo.id: (0, 2**63 - 1), hi.id: (0, 10), up.id: (1, 2**63 - 1)}
    assert index_range(loop, lambda v: ranges.get(v.id)) == (0, 9)
    down = b.region("for_loop", (lo, hi, step), (), (body,))
    assert index_range(down, lambda v: ranges.get(v.id)) is None  # the step's sign is not known
