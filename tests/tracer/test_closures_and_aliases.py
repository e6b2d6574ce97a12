"""NumPy arrays from the enclosing scope (module globals, closures) indexed
with a loop index: they become constants of the traced program."""

import numpy as np
import pytest

import looptrace

from ._loopcheck import check

WEIGHTS = np.linspace(0.5, 1.5, 5)


def weighted(x):
    s = 0.0
    for i in range(WEIGHTS.shape[0]):
        s += WEIGHTS[i] * x[i] + WEIGHTS[i:i + 1].sum() + WEIGHTS[..., i]
    return s


def test_global_array_indexed_by_the_loop_index(rng):
    check(weighted, rng.standard_normal(5))


def test_closure_array_indexed_by_a_traced_position(rng):
    table = rng.standard_normal((4, 3))

    def pick(x, k):
        out = np.zeros(3)
        for i in range(3):
            out[i] = table[k, i] * x[i]
        return out

    check(pick, rng.standard_normal(3), 2)


def test_local_alias_written_and_rebound_in_a_loop_is_refused(rng):
    import pytest

    import looptrace

    def f(x):
        a = x * 1.0
        b = a
        for i in range(3):
            b[0] = i
            b = b * 2.0
        return a, b

    with pytest.raises(looptrace.UnsupportedError, match="`b` is rebound inside this loop and the array it refers to is written in place"):
        looptrace.jit(f, backend="interpret")(rng.standard_normal(3))


START = np.linspace(-1.0, 1.0, 3)


def scaled_from_a_global(x):
    y = START
    for i in range(4):
        y = np.tanh(y * x + i)
    return y


def test_a_loop_carry_that_starts_as_a_global_array(rng):
    check(scaled_from_a_global, rng.standard_normal(3))


def test_grad_through_a_jitted_call_whose_carry_starts_as_a_closure_array(rng):
    import looptrace
    from looptrace.autodiff.check import assert_close, numerical_grad

    X, y0, W = rng.standard_normal((6, 2)), rng.standard_normal(3), 0.3 * rng.standard_normal((3, 3))
    V = rng.standard_normal((3, 2))

    @looptrace.jit
    def rnn(X, y0, W, V):
        y = y0
        for t in range(X.shape[0]):
            y = np.tanh(W @ y + V @ X[t])
        return y

    g = looptrace.grad(lambda W: rnn(X, y0, W, V).sum(), backend="interpret")(W)
    fd = numerical_grad(lambda W: float(rnn.py_func(X, y0, W, V).sum()), [W], 0)
    assert_close(g, fd, 1e-5, "W")


def test_a_global_array_modified_between_calls_is_seen(rng):
    import looptrace

    table = np.linspace(0.0, 1.0, 4)

    def f(x):
        s = 0.0
        for i in range(4):
            s += table[i] * x[i]
        return s

    x = rng.standard_normal(4)
    for backend in ("interpret", "cpu"):
        jitted = looptrace.jit(f, backend=backend)
        assert np.isclose(jitted(x), f(x))
        table[2] += 10.0
        assert np.isclose(jitted(x), f(x), rtol=1e-12)


def test_grad_sees_a_global_array_modified_between_calls(rng):
    import looptrace

    table = np.linspace(0.5, 1.5, 3)

    def f(x):
        s = 0.0
        for i in range(3):
            s += table[i] * x[i] ** 2
        return s

    g = looptrace.grad(looptrace.jit(f, backend="interpret"), backend="interpret")
    x = rng.standard_normal(3)
    np.testing.assert_allclose(g(x), 2 * table * x)
    table[1] = 7.0
    np.testing.assert_allclose(g(x), 2 * table * x)


def test_rebinding_a_data_global_between_calls_is_seen(rng):
    import looptrace

    from . import _rebound_globals as mod

    x = rng.standard_normal(3)
    jitted = looptrace.jit(mod.scaled, backend="interpret")
    saved = mod.SCALE, mod.TABLE
    try:
        assert np.isclose(jitted(x), mod.scaled(x))
        mod.SCALE = 5.0
        assert np.isclose(jitted(x), mod.scaled(x), rtol=1e-12)
        mod.TABLE = np.linspace(1.0, 2.0, 3)
        assert np.isclose(jitted(x), mod.scaled(x), rtol=1e-12)
    finally:
        mod.SCALE, mod.TABLE = saved


class _Config:
    def __init__(self):
        self.W = np.linspace(0.5, 1.5, 3)
        self.scale = 2.0


CFG = _Config()


def _from_attributes(x):
    s = 0.0
    for i in range(3):
        s += CFG.scale * CFG.W[i] * x[i] + CFG.W.T[i] + np.pi
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_rebinding_an_attribute_between_calls_is_seen(rng, backend):
    """An array read through an attribute (cfg.W) is an implicit argument:
    rebinding it to an array of the same shape is read by the next call
    without retracing; a number (cfg.scale) is guarded, and rebinding it
    retraces. Reads that make a new object each time (W.T) do not retrace."""
    import looptrace

    x = rng.standard_normal(3)
    jitted = looptrace.jit(_from_attributes, backend=backend)
    traces = []
    original = jitted.trace
    jitted.trace = lambda *a, **k: traces.append(1) or original(*a, **k)
    saved = CFG.W, CFG.scale
    try:
        assert np.isclose(jitted(x), _from_attributes(x), rtol=1e-12)
        assert np.isclose(jitted(x), _from_attributes(x), rtol=1e-12)
        assert len(traces) == 1
        CFG.W = np.linspace(-1.0, 1.0, 3)
        assert np.isclose(jitted(x), _from_attributes(x), rtol=1e-12)
        assert len(traces) == 1
        CFG.scale = 5.0
        assert np.isclose(jitted(x), _from_attributes(x), rtol=1e-12)
        assert len(traces) == 2
    finally:
        CFG.W, CFG.scale = saved


def _plain_loop(x, w):
    out = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.tanh(w * x[i])
    return out


def test_a_lambda_calling_a_plain_function_with_loops_is_converted(rng):
    import looptrace
    from looptrace.autodiff.check import assert_close, numerical_grad

    x, w = rng.standard_normal(5), 0.7
    f = looptrace.jit(lambda x, w: _plain_loop(x, w).sum(), backend="interpret")
    assert np.isclose(f(x, w), _plain_loop(x, w).sum(), rtol=1e-12)
    g = looptrace.grad(lambda x: _plain_loop(x, w).sum(), backend="interpret")(x)
    assert_close(g, numerical_grad(lambda x: float(_plain_loop(x, w).sum()), [x], 0), 1e-5, "x")
    square = lambda v: v * v  # noqa: E731
    h = looptrace.jit(lambda v: square(v) + 1.0, backend="interpret")
    np.testing.assert_array_equal(h(x), x * x + 1.0)


def running_total(x):
    total = 0.0
    count = 0

    def add(v):
        nonlocal total, count
        total += v
        count += 1

    for i in range(x.shape[0]):
        if x[i] > 0:
            add(x[i])
    return total, count


def scaled_by_closure(x):
    scale = 1.0

    def grow():
        nonlocal scale
        scale = scale * 2.0

    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        grow()
        out[i] = x[i] * scale
    return out, scale


@pytest.mark.parametrize("fn", [running_total, scaled_by_closure])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_nested_function_assigning_nonlocal_in_a_loop(fn, backend):
    """A nested function that assigns its enclosing function's variables
    (`nonlocal`) inside a traced loop or branch: the writes reach the
    enclosing variables (its own cells), and the loop carries them. The
    total came back 0.0 (the writes went to a copy of the cell and were
    never carried)."""
    x = np.random.default_rng(31).standard_normal(9)
    got = looptrace.jit(fn, backend=backend)(x)
    want = fn(x)
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12)


def test_rows_summed_in_place_through_a_rebound_view_name_the_rebound_name_without_claiming_it_is_written(rng):
    """`row += prev; prev = row` over `a[1:]`: `row` is what the statement
    writes, `prev` the name rebound to a view; the refusal says exactly that
    (it said `prev` was written in place)."""
    import looptrace

    def f(a):
        prev = a[0]
        for row in a[1:]:
            row += prev
            prev = row
        return a

    with pytest.raises(looptrace.UnsupportedError,
                       match="`prev` is rebound inside this loop and the array it refers to is written in place "
                             r"\(through it or another name\) while it refers to a view"):
        looptrace.jit(f, backend="interpret")(rng.standard_normal((3, 4)))
