"""Conditional accumulation becomes a masked reduction; a delay line (a buffer
written at one offset from values that do not read it, read at another) is
a map. Each program runs plainly and jitted (interpret; a sample on cpu) on
fresh random data; `explain` must give the expected kind, and the programs
that must keep their loop keep it, with the same values."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace


def run(fn, *args, backend="interpret"):
    """Values (and effects on the arguments) equal to the plain function's; the loop kinds."""
    plain_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    jit_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    expected = fn(*plain_args)
    jitted = looptrace.jit(fn, backend=backend)
    got = jitted(*jit_args)
    exp_t = expected if isinstance(expected, tuple) else (expected,)
    got_t = got if isinstance(got, tuple) else (got,)
    assert len(exp_t) == len(got_t)
    for e, g in zip(exp_t, got_t):
        assert np.asarray(g).dtype == np.asarray(e).dtype
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    for p, j in zip(plain_args, jit_args):
        if isinstance(p, np.ndarray):
            np.testing.assert_array_equal(p, j)
    return [l.kind for l in looptrace.explain(jitted, *args).loops], looptrace.explain(jitted, *args)


# --- conditional accumulation ---------------------------------------------------------------------------
def masked_sum_and_count(c, v):
    acc = 0.0
    count = 0
    for i in range(v.shape[0]):
        if c[i]:
            acc += v[i]
            count += 1
    return acc, count


def threshold_sum(v):
    acc = 0.0
    for i in range(v.shape[0]):
        if v[i] > 0.3:
            acc += v[i] * v[i]
    return acc


def count_in_else(v):
    n = 0
    for i in range(v.shape[0]):
        if v[i] > 0:
            pass
        else:
            n += 1
    return n


def signed_sum(v):
    acc = 1.5
    for i in range(v.shape[0]):
        if v[i] > 0:
            acc += v[i]
        else:
            acc -= 2 * v[i]
    return acc


def elif_chain(v):
    pos, neg, small = 0.0, 0.0, 0
    for i in range(v.shape[0]):
        if v[i] > 0.5:
            pos += v[i]
        elif v[i] < -0.5:
            neg += v[i]
        else:
            small += 1
    return pos, neg, small


def nested_ifs(a, b):
    both = 0
    for i in range(a.shape[0]):
        if a[i] > 0:  # noqa: SIM102  (nested on purpose: the inner cond converts first)
            if b[i] > 0:
                both += 1
    return both


def masked_rows(x, w):
    total = np.zeros(x.shape[1])
    for i in range(x.shape[0]):
        if w[i] > 0:
            total += w[i] * x[i]
    return total


def masked_product_and_max(v):
    p = 1.0
    m = -np.inf
    for i in range(v.shape[0]):
        if abs(v[i]) < 1.0:
            p *= v[i]
            m = np.maximum(m, v[i])
    return p, m


def subtract_accumulator(v):
    energy = 10.0
    for i in range(v.shape[0]):
        energy -= v[i] ** 2
    return energy


@pytest.mark.parametrize("fn, make", [
    (masked_sum_and_count, lambda r: (r.random(40) > 0.4, r.standard_normal(40))),
    (threshold_sum, lambda r: (r.standard_normal(33),)),
    (count_in_else, lambda r: (r.standard_normal(25),)),
    (signed_sum, lambda r: (r.standard_normal(30),)),
    (elif_chain, lambda r: (r.standard_normal(50),)),
    (nested_ifs, lambda r: (r.standard_normal(20), r.standard_normal(20))),
    (masked_rows, lambda r: (r.standard_normal((15, 4)), r.standard_normal(15))),
    (masked_product_and_max, lambda r: (r.uniform(-1.5, 1.5, 30),)),
    (subtract_accumulator, lambda r: (r.standard_normal(12),)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_conditional_accumulation_is_a_reduction(fn, make, rng):
    kinds, e = run(fn, *make(rng))
    assert kinds == ["reduction"], str(e)
    assert "for_loop" not in str(e).split("loops:")[0]


def test_explain_names_the_masked_accumulators(rng):
    _, e = run(masked_sum_and_count, rng.random(10) > 0.5, rng.standard_normal(10))
    (loop,) = e.loops
    assert "`acc`" in loop.reason and "`count`" in loop.reason and "conditional accumulation" in loop.reason


def mask_reads_accumulator(v):
    acc = 0.0
    for i in range(v.shape[0]):
        if acc < 2.0:
            acc += v[i]
    return acc


def value_reads_accumulator(v):
    acc = 1.0
    for i in range(v.shape[0]):
        if v[i] > 0:
            acc += 0.5 * acc
    return acc


def accumulator_read_in_loop(c, v):
    acc = 0.0
    out = np.empty_like(v)
    for i in range(v.shape[0]):
        if c[i]:
            acc += v[i]
        out[i] = acc
    return out


@pytest.mark.parametrize("fn, make", [
    (mask_reads_accumulator, lambda r: (r.standard_normal(30),)),
    (value_reads_accumulator, lambda r: (r.standard_normal(12),)),
    (accumulator_read_in_loop, lambda r: (r.random(20) > 0.5, r.standard_normal(20))),
], ids=lambda v: getattr(v, "__name__", ""))
def test_conditional_updates_that_stay_recurrences(fn, make, rng):
    """The mask or the term reads the accumulator, or the running value is
    stored: not a reduction (a scan), and the same values."""
    kinds, _ = run(fn, *make(rng))
    assert kinds == ["scan"]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 12), threshold=st.floats(-1, 1), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from(["float64", "int64"]))
def test_generated_conditional_sums(n, threshold, seed, dtype):
    """Over generated lengths (zero trips included), thresholds and dtypes."""
    r = np.random.default_rng(seed)
    v = (r.standard_normal(n) * 5).astype(dtype)

    def f(v):
        s = v.dtype.type(0)
        hits = 0
        for i in range(v.shape[0]):
            if v[i] > threshold:
                s += v[i]
                hits += 1
        return s, hits

    exp = f(v)
    got = looptrace.jit(f, backend="interpret")(v)
    np.testing.assert_allclose(got[0], exp[0], rtol=1e-12)
    assert got[1] == exp[1]


# --- delay lines ----------------------------------------------------------------------------------------
def delay_read_after_write(s):
    n = s.shape[0]
    buf = np.zeros(n + 3)
    out = np.empty(n)
    for t in range(n):
        buf[t + 3] = s[t]
        out[t] = buf[t]
    return out


def delay_read_before_write(s, buf):
    n = s.shape[0]
    out = np.empty(n)
    for t in range(n):
        out[t] = buf[t] + buf[t + 1]
        buf[t + 2] = 2.0 * s[t]
    return out


def delay_two_taps(s):
    n = s.shape[0]
    line = np.zeros(n + 4)
    y = np.zeros(n)
    for t in range(n):
        line[t + 4] = s[t]
        y[t] = 0.5 * line[t + 2] + 0.25 * line[t + 1] + line[t + 4]
    return y, line


def delay_rows(x):
    n = x.shape[0]
    buf = np.zeros((n + 2, x.shape[1]))
    out = np.zeros((n, x.shape[1]))
    for t in range(n):
        buf[t + 2] = np.sin(x[t])
        out[t] = buf[t] - buf[t + 1]
    return out


def delay_strided(s):
    n = s.shape[0]
    buf = np.ones(2 * n + 2)
    out = np.zeros(n)
    for t in range(n):
        buf[2 * t + 2] = s[t]
        out[t] = buf[2 * t] + buf[2 * t + 1]  # the even slot written an iteration ago; odd slots never
    return out


def delay_reads_ahead(s):
    """Reads positions a later iteration writes: they hold the initial values."""
    n = s.shape[0]
    buf = np.arange(n + 6, dtype=np.float64)
    out = np.zeros(n)
    for t in range(n):
        buf[t + 1] = s[t]
        out[t] = buf[t + 3]
    return out


def delay_into_recurrence(s, a):
    n = s.shape[0]
    buf = np.zeros(n + 2)
    out = np.zeros(n)
    h = 0.0
    for t in range(n):
        buf[t + 2] = s[t]
        h = a * h + buf[t]
        out[t] = h
    return out


@pytest.mark.parametrize("fn, make, kind", [
    (delay_read_after_write, lambda r: (r.standard_normal(20),), "vectorized"),
    (delay_read_before_write, lambda r: (r.standard_normal(10), r.standard_normal(12)), "vectorized"),
    (delay_two_taps, lambda r: (r.standard_normal(17),), "vectorized"),
    (delay_rows, lambda r: (r.standard_normal((9, 3)),), "vectorized"),
    (delay_strided, lambda r: (r.standard_normal(8),), "vectorized"),
    (delay_reads_ahead, lambda r: (r.standard_normal(7),), "vectorized"),
    (delay_into_recurrence, lambda r: (r.standard_normal(25), 0.7), "scan"),
], ids=lambda v: getattr(v, "__name__", v if isinstance(v, str) else ""))
def test_delay_lines_are_maps(fn, make, kind, rng):
    kinds, e = run(fn, *make(rng))
    assert kinds == [kind], str(e)
    assert "delay line" in e.loops[0].reason
    if kind == "vectorized":
        assert "for_loop" not in str(e).split("loops:")[0]


def feedback(s):
    n = s.shape[0]
    buf = np.zeros(n + 1)
    for t in range(n):
        buf[t + 1] = 0.5 * buf[t] + s[t]  # the value written reads the buffer: a recurrence
    return buf


def data_dependent_read(s, idx):
    n = s.shape[0]
    buf = np.zeros(n + 2)
    out = np.zeros(n)
    for t in range(n):
        buf[t + 2] = s[t]
        out[t] = buf[idx[t]]
    return out


def wrapping_read(s):
    n = s.shape[0]
    buf = np.zeros(n + 1)
    out = np.zeros(n)
    for t in range(n):
        buf[t + 1] = s[t]
        out[t] = buf[t - 1]  # t = 0 reads buf[-1], the last element, written by the last iteration
    return out, buf


def conditional_write(s):
    n = s.shape[0]
    buf = np.zeros(n + 2)
    out = np.zeros(n)
    for t in range(n):
        if s[t] > 0:
            buf[t + 2] = s[t]
        out[t] = buf[t]
    return out


@pytest.mark.parametrize("fn, make", [
    (feedback, lambda r: (r.standard_normal(12),)),
    (data_dependent_read, lambda r: (r.standard_normal(10), r.integers(0, 12, 10))),
    (wrapping_read, lambda r: (r.standard_normal(6),)),
], ids=lambda v: getattr(v, "__name__", ""))
def test_buffers_that_are_not_delay_lines(fn, make, rng):
    """Not rewritten as a delay line (the loop keeps its recurrence), same values."""
    kinds, e = run(fn, *make(rng))
    assert kinds == ["scan"], str(e)
    assert "delay line" not in e.loops[0].reason


def test_conditional_write_keeps_exact_values(rng):
    _, e = run(conditional_write, rng.standard_normal(15))
    assert "delay line" not in e.loops[0].reason


def test_delay_line_and_mask_on_the_cpu_backend(rng, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))

    def both(s, c):
        n = s.shape[0]
        buf = np.zeros(n + 3)
        out = np.zeros(n)
        acc = 0.0
        for t in range(n):
            buf[t + 3] = s[t]
            out[t] = buf[t] + buf[t + 2]
            if c[t]:
                acc += s[t]
        return out, acc

    kinds, _ = run(both, rng.standard_normal(40), rng.random(40) > 0.5, backend="cpu")
    assert kinds == ["vectorized"] or kinds == ["reduction"]


def test_gradients_through_both_rewrites(rng):
    """The masked reduction and the split delay line differentiate like the plain loops."""
    from looptrace.autodiff.check import assert_close, numerical_grad

    def echo_loss(x, gain):
        n = x.shape[0]
        buf = np.zeros(n + 3)
        y = np.empty(n)
        for t in range(n):
            buf[t + 3] = x[t] * x[t]
            y[t] = x[t] + gain * buf[t]
        return (y * y).sum()

    def masked_loss(x):
        s = 0.0
        for i in range(x.shape[0]):
            if x[i] > 0.1:
                s += x[i] ** 2
            else:
                s -= 0.5 * x[i]
        return s

    x = rng.standard_normal(12)
    x = x + 0.05 * np.sign(x - 0.1)  # away from the mask's edge
    for f, args in [(echo_loss, (x, 0.7)), (masked_loss, (x,))]:
        got = looptrace.grad(looptrace.jit(f, backend="interpret"), backend="interpret")(*args)
        assert_close(got, numerical_grad(f, list(args), 0), 1e-5, f.__name__)
