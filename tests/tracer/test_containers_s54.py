"""Python containers and generators users write, captured once (issue 11,
session 54): a user's generator function whose one loop yields once per
iteration is that loop, traced once (tracer/generators.py); a list-of-lists
grid `[[0.0] * m for _ in range(n)]` is one stack its writes reach
(row_lists.py); an array grown by np.append / np.concatenate in a loop (under
a condition too) is a list of its items, concatenated after the loop
(grown_arrays.py); what stays unsupported is refused naming the line."""
import numpy as np
import pytest

import looptrace
from looptrace.errors import UnsupportedError


def _pairs(n):
    for i in range(n - 1):
        yield i, i + 1


def _evens(n):
    half = n // 2
    for k in range(half):
        j = 2 * k
        yield j


def _above(x, t):
    for i in range(x.shape[0]):
        v = x[i] * 2.0
        if v > t:
            w = v - t
            yield i, w


def _scaled(x, c):
    for v in x:
        yield v * c


def _positive(x):
    for i in range(x.shape[0]):
        v = x[i]
        if v <= 0.0:
            continue
        yield i, v * 2.0


def _newton(a, x0, tol):
    x = x0
    while abs(x * x - a) > tol:
        x = 0.5 * (x + a / x)
        yield x


def _fib(n):
    a, b = 0.0, 1.0
    for _ in range(n):
        a, b = b, a + b
        yield a


def _fib_after(n):
    a, b = 0, 1
    for _ in range(n):
        yield a
        a, b = b, a + b


def _running(x):
    total = 0.0
    for v in x:
        total += v
        yield total


def _triangle(n):
    for i in range(n):
        for j in range(i):
            yield i, j


def _row_prefix(X):
    for i in range(X.shape[0]):
        row = X[i] * 2.0
        s = 0.0
        for j in range(X.shape[1]):
            s += row[j]
            yield i, s


def _counted_pairs(n):
    k = 0
    for i in range(n):
        for j in range(i):
            k += 1
            yield k


def _history(x):
    seen = []
    for v in x:
        seen.append(v)
        yield sum(seen)


def _buffered(x):
    buf = np.zeros(3)
    for i in range(x.shape[0]):
        buf[i % 3] = x[i]
        yield buf.sum()


def _two_yields(n):
    for i in range(n):
        yield i
        yield -i


def squared_steps(x):
    s = 0.0
    for i, j in _pairs(x.shape[0]):
        s += (x[j] - x[i]) ** 2
    return s


def even_writes(x, out):
    for j in _evens(x.shape[0]):
        out[j] = x[j] * 3.0 - j
    return out.sum()


def filtered(x, t):
    s = 0.0
    c = 0
    for i, w in _above(x, t):
        s += w * x[i]
        c += 1
    return s, c


def with_break(x):
    s = 0.0
    for i, j in _pairs(x.shape[0]):
        if x[i] > 1.5:
            break
        s += x[i] * x[j]
    return s


def comprehension(x):
    return sum([x[i] * x[j] for i, j in _pairs(x.shape[0])]) + sum(v for v in _scaled(x, 0.5))


def skipped(x):
    s = 0.0
    for i, w in _positive(x):
        s += w * i
    return s


def newton_steps(x):
    n = 0
    last = 0.0
    s = 0.0
    for r in _newton(x[0] * x[0] + 2.0, 1.0, 1e-12):
        n += 1
        last = r
        s += r
        if s > 40.0:
            break
    return n, last, s


def nested_generator(x):
    def steps(n):
        for i in range(1, n):
            yield i - 1, i

    s = 0.0
    for i, j in steps(x.shape[0]):
        s += x[i] * x[j]
    return s


def state_kept(n):
    s = 0.0
    for v in _fib(n):
        s += v
    return s


def state_after_yield(n):
    out = []
    for v in _fib_after(n):
        if v > 1000:
            break
        out.append(v)
    return len(out), sum(out)


def running_squares(x):
    s = 0.0
    for c in _running(x):
        s += c * c
    return s


def triangle(x):
    e = 0.0
    for i, j in _triangle(x.shape[0]):
        e += 1.0 / (1.0 + (x[i] - x[j]) ** 2)
    return e


def triangle_break(x):
    c = 0
    for i, j in _triangle(x.shape[0]):
        if abs(x[i] - x[j]) < 0.01:
            break
        c += 1
    return c


def row_prefix_max(X):
    out = np.zeros(X.shape[0])
    for i, s in _row_prefix(X):
        out[i] = max(out[i], s)
    return out


def history(x):
    s = 0.0
    for v in _history(x):
        s += v
    return s


def buffered(x):
    s = 0.0
    for v in _buffered(x):
        s += v
    return s


def counted_pairs(n):
    s = 0
    for k in _counted_pairs(n):
        s += k
    return s


def two_yields(n):
    s = 0
    for v in _two_yields(n):
        s += v
    return s


def listed(x):
    return np.array(list(_pairs(x.shape[0])))


GENERATOR_CASES = [(squared_steps, "x"), (even_writes, "x_out"), (filtered, "x_t"), (with_break, "x"),
                   (comprehension, "x"), (nested_generator, "x"), (state_kept, "n"), (state_after_yield, "n"),
                   (running_squares, "x"), (skipped, "x"), (newton_steps, "x"), (buffered, "x"), (triangle, "x"), (triangle_break, "x"), (row_prefix_max, "X")]


def _args(which, n, rng):
    x = rng.standard_normal(n)
    return {"x": (x,), "x_out": (x, rng.standard_normal(n)), "x_t": (x, 0.3), "n": (n,),
            "X": (rng.standard_normal((n, 5)),)}[which]


def _same(a, b):
    a, b = (a, b) if isinstance(a, tuple) else ((a,), (b,))
    return all(np.allclose(np.asarray(u), np.asarray(v), rtol=1e-12, atol=1e-12) for u, v in zip(a, b))


def _run(fn, args, backend):
    """fn's value and its arguments after the call (fresh copies each)."""
    mine = tuple(np.copy(a) if isinstance(a, np.ndarray) else a for a in args)
    out = (looptrace.jit(fn, backend=backend) if backend else fn)(*mine)
    return out, mine


@pytest.mark.parametrize("fn,which", GENERATOR_CASES, ids=[c[0].__name__ for c in GENERATOR_CASES])
def test_generator_as_python(fn, which):
    args = _args(which, 40, np.random.default_rng(1))
    want, want_args = _run(fn, args, None)
    got, got_args = _run(fn, args, "interpret")
    assert _same(want, got) and all(_same(a, b) for a, b in zip(want_args, got_args))


@pytest.mark.parametrize("fn,which", GENERATOR_CASES, ids=[c[0].__name__ for c in GENERATOR_CASES])
def test_generator_traced_once(fn, which):
    """The same program at 40 and 4000 items: the loop is not unrolled."""
    rng = np.random.default_rng(2)
    small, big = (looptrace.explain(looptrace.jit(fn, backend="interpret"), *_args(which, n, rng)) for n in (40, 4000))
    assert not any("unrolled" in (loop.reason or "") for loop in small.loops + big.loops)
    assert len(str(small).splitlines()) == len(str(big).splitlines())


def test_generator_and_grid_cpu():
    """One compile: the generator's loop, a grid of 300 x 200, an array grown under a condition."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(300), rng.standard_normal(200)

    def both(x, y):
        return squared_steps(x), float_grid(x, y), appended_if(x, 0.3)

    want, got = both(x, y), looptrace.jit(both, backend="cpu")(x, y)
    assert np.isclose(got[0], want[0], rtol=1e-12) and np.allclose(got[1], want[1], rtol=1e-12, atol=0)
    assert got[2].shape == want[2].shape and np.array_equal(got[2], want[2])


@pytest.mark.parametrize("fn", [squared_steps, running_squares, triangle])
def test_generator_gradient(fn):
    x = np.random.default_rng(4).standard_normal(12)
    g = looptrace.grad(fn, backend="interpret")(x)
    h = 1e-6
    fd = [(fn(x + h * e) - fn(x - h * e)) / (2 * h) for e in np.eye(12)]
    assert np.allclose(g, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn,arg,words", [
    (counted_pairs, 300, "its outer loop keeps `k`"),
    (history, np.ones(300), "its loop changes `seen`, a Python container from before the loop"),
    (two_yields, 300, "2 yields"),
])
def test_generator_refused_names_why(fn, arg, words):
    with pytest.raises(UnsupportedError) as e:
        looptrace.jit(fn, backend="interpret")(arg)
    assert words in str(e.value) and e.value.loc.text.strip().startswith("for ")  # (the consumer's line)


def test_generator_used_other_than_by_for():
    with pytest.raises(UnsupportedError) as e:
        looptrace.jit(listed, backend="interpret")(np.ones(300))
    assert "list(_pairs(x.shape[0]))" in str(e.value) and "used other than by a `for`" in str(e.value)


# --- a list-of-lists grid: [[0.0] * m for _ in range(n)], written grid[i][j] ------------------------------
def float_grid(x, y):
    grid = [[0.0] * y.shape[0] for _ in range(x.shape[0])]
    for i in range(x.shape[0]):
        for j in range(y.shape[0]):
            grid[i][j] = x[i] * y[j] - j
    return np.array(grid)


def int_grid(x, m):
    grid = [m * [0] for _ in range(x.shape[0])]
    for i in range(x.shape[0]):
        for j in range(m):
            grid[i][j] += i * j - 2
    s = 0
    for row in grid:
        s += sum(row)
    return s, grid[3], len(grid), grid


def diagonal_grid(x):
    grid = [[0.5, 0.0] * 2 for _ in range(x.shape[0])]
    for i in range(x.shape[0]):
        grid[i][i % 4] = x[i]
    total = 0.0
    for i in range(x.shape[0]):
        for j in range(4):
            total += grid[i][j] ** 2
    return total


def appended_grid(x, m):
    grid = []
    for i in range(x.shape[0]):
        grid.append([0.0] * m)
    for i in range(x.shape[0]):
        for j in range(m):
            grid[i][j] = x[i] * j
    return np.array(grid)


def test_appended_grid_hint_names_the_comprehension():
    with pytest.raises(UnsupportedError) as e:
        looptrace.jit(appended_grid, backend="interpret")(np.ones(100), 3)
    assert "grid = [[0.0] * m for _ in range(n)]" in str(e.value) and "grid[i][j] = x[i] * j" in e.value.loc.text


GRID_CASES = [(float_grid, "xy"), (int_grid, "x7"), (diagonal_grid, "x")]


def _grid_args(which, n, rng):
    x = rng.standard_normal(n)
    return {"xy": (x, rng.standard_normal(n // 2)), "x7": (x, 7), "x": (x,)}[which]


@pytest.mark.parametrize("fn,which", GRID_CASES, ids=[c[0].__name__ for c in GRID_CASES])
def test_grid_as_python(fn, which):
    args = _grid_args(which, 40, np.random.default_rng(5))
    want, got = fn(*args), looptrace.jit(fn, backend="interpret")(*args)
    if fn is int_grid:
        assert got[1:] == want[1:] and got[0] == want[0] and type(got[1][0]) is int
    else:
        assert _same(want, got)


@pytest.mark.parametrize("fn,which", GRID_CASES, ids=[c[0].__name__ for c in GRID_CASES])
def test_grid_traced_once(fn, which):
    """The comprehension of rows and the loops writing it: not unrolled, the same program at 40 and 400 rows."""
    rng = np.random.default_rng(6)
    small, big = (looptrace.explain(looptrace.jit(fn, backend="interpret"), *_grid_args(which, n, rng))
                  for n in (40, 400))
    assert not any("unrolled" in (loop.reason or "") for loop in small.loops + big.loops)
    assert len(str(small).splitlines()) == len(str(big).splitlines())


def test_grid_gradient():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal(12), rng.standard_normal(5)
    loss = lambda x, y: np.sum(float_grid(x, y) ** 2) + diagonal_grid(x)  # noqa: E731
    g = looptrace.grad(loss, backend="interpret")(x, y)
    h = 1e-6
    fd = [(loss(x + h * e, y) - loss(x - h * e, y)) / (2 * h) for e in np.eye(12)]
    assert np.allclose(g, fd, rtol=1e-5, atol=1e-6)


# --- an array grown in a loop: out = np.append(out, v), np.concatenate([out, x[i:i + 1]]) ------------------
def appended_if(x, t):
    out = np.zeros(0)
    for i in range(x.shape[0]):
        if x[i] > t:
            out = np.append(out, x[i] * 2.0)
    return out


def concatenated(x):
    kept = np.array([1.0, 2.0])
    low = np.empty(0)
    for i in range(0, x.shape[0], 3):
        kept = np.concatenate([kept, x[i:i + 1] * 2.0])
        if x[i] < 0.0:
            low = np.concatenate((low, [x[i] - 1.0]))
    return kept, low


def grown_while(x, t):
    out = np.zeros(0)
    i = 0
    while i < x.shape[0] and x[i] < t:
        out = np.append(out, [x[i]])
        i += 1
    return out, i


def int_items(x):
    idx = np.zeros(0, dtype=np.int64)
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            idx = np.append(idx, i)
    return idx


def grown_then_summed(x, t):
    out = appended_if(x, t)
    return np.sum(out ** 2) + x[0] * np.sum(out)


def int_start_float_items(x):
    out = np.zeros(0, dtype=np.int64)
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            out = np.append(out, x[i])
    return out


def three_at_a_time(x):
    out = np.zeros(0)
    for i in range(0, x.shape[0] - 3, 3):
        if x[i] > 0.0:
            out = np.append(out, x[i:i + 3])
    return out


def list_start(x):
    out = []
    for i in range(x.shape[0]):
        if x[i] > 0.0:
            out = np.append(out, x[i])
    return out


def read_inside(x):
    out = np.zeros(0)
    for i in range(x.shape[0]):
        if x[i] > 0.0 and out.shape[0] < 5:
            out = np.append(out, x[i])
    return out


GROWN_CASES = [(appended_if, "x_t"), (concatenated, "x"), (grown_while, "x_t"), (int_items, "x")]


@pytest.mark.parametrize("fn,which", GROWN_CASES, ids=[c[0].__name__ for c in GROWN_CASES])
def test_grown_array_as_python(fn, which):
    for t in (0.3, 5.0, -5.0):  # some items, all, none (grown_while: none, all; appended_if: all, none)
        args = {"x": (np.random.default_rng(8).standard_normal(90),),
                "x_t": (np.random.default_rng(8).standard_normal(90), t)}[which]
        want, got = fn(*args), looptrace.jit(fn, backend="interpret")(*args)
        want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
        for a, b in zip(want, got):
            assert np.shape(a) == np.shape(b) and np.asarray(a).dtype == np.asarray(b).dtype
            assert np.array_equal(a, b)


@pytest.mark.parametrize("fn,which", GROWN_CASES, ids=[c[0].__name__ for c in GROWN_CASES])
def test_grown_array_traced_once(fn, which):
    rng = np.random.default_rng(9)
    args = lambda n: (rng.standard_normal(n),) if which == "x" else (rng.standard_normal(n), 0.3)  # noqa: E731
    small, big = (looptrace.explain(looptrace.jit(fn, backend="interpret"), *args(n)) for n in (90, 3000))
    assert not any("unrolled" in (loop.reason or "") for loop in small.loops + big.loops)
    assert len(str(small).splitlines()) == len(str(big).splitlines())


def test_grown_array_gradient():
    x = np.random.default_rng(10).standard_normal(12)
    g = looptrace.grad(grown_then_summed, backend="interpret")(x, 0.1)
    h = 1e-6
    fd = [(grown_then_summed(x + h * e, 0.1) - grown_then_summed(x - h * e, 0.1)) / (2 * h) for e in np.eye(12)]
    assert np.allclose(g, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn,words,line", [
    (int_start_float_items, "int64 before it and adding float64 items", "out = np.append(out, x[i])"),
    (three_at_a_time, "pieces of shape (3,)", "out = np.append(out, x[i:i + 3])"),
    (list_start, "grows a list, not an array", "out = np.append(out, x[i])"),
    (read_inside, "has shape (1,) in one branch", "out.shape[0] < 5:"),  # (read in the loop: not rewritten)
])
def test_grown_array_refused_names_the_line(fn, words, line):
    with pytest.raises(looptrace.LooptraceError) as e:
        looptrace.jit(fn, backend="interpret")(np.random.default_rng(11).standard_normal(300))
    assert words in str(e.value) and e.value.loc.text.strip().endswith(line), (str(e.value), e.value.loc.text)


# --- a nested def appending to the enclosing function's list: refused with its own rewrite --------------------
def nested_append(x):
    out = []

    def add(v):
        out.append(v * 2.0)

    for i in range(x.shape[0]):
        add(x[i])
    return np.array(out)


_GLOBAL_LIST = []


def global_append(x):
    _GLOBAL_LIST.append(x[0])
    return x[0]


def test_nested_append_names_the_helper_and_the_rewrite():
    with pytest.raises(UnsupportedError) as e:
        looptrace.jit(nested_append, backend="interpret")(np.ones(300))
    text = str(e.value)
    assert "in `add` changes `out` of the function around it" in text and "out.append(add(...))" in text
    assert e.value.loc.text.strip() == "out.append(v * 2.0)"
    with pytest.raises(UnsupportedError, match="which the function does not make"):
        looptrace.jit(global_append, backend="interpret")(np.ones(3))


# --- sum() of tuples appended under a condition: Python's 0 where none was, its TypeError where any was --------
def summed_pairs(x, t):
    pairs = []
    for i in range(x.shape[0]):
        if x[i] > t:
            pairs.append((x[i], x[i] * 2))
    return sum(pairs)


def test_sum_of_conditional_tuples_is_checked_at_run_time():
    x = np.random.default_rng(12).standard_normal(100)
    f = looptrace.jit(summed_pairs, backend="interpret")
    assert f(x, 9.0) == summed_pairs(x, 9.0) == 0
    with pytest.raises(TypeError, match="unsupported operand type"):
        summed_pairs(x, 0.0)
    with pytest.raises(TypeError, match="unsupported operand type"):
        f(x, 0.0)


# --- zip(*pairs) of a long list of tuples of mixed types (i, x[i]): each column in its field's type ------------
def enumerated_pairs(x):
    pairs = [(i, v) for i, v in enumerate(x)]
    idx, vals = zip(*pairs)
    return np.array(idx).sum(), np.array(vals).sum(), idx[:3], len(vals), sum(idx), max(vals)


def big_int_pairs(x):
    pairs = [(i + 2 ** 60, x[i]) for i in range(x.shape[0])]
    idx, vals = zip(*pairs)
    return np.array(idx)


def test_zip_star_of_mixed_tuples():
    x = np.random.default_rng(13).standard_normal(3000)
    want, got = enumerated_pairs(x), looptrace.jit(enumerated_pairs, backend="interpret")(x)
    assert got[2] == want[2] and all(type(v) is int for v in got[2]) and got[4] == want[4]
    assert got[0] == want[0] and np.isclose(got[1], want[1], rtol=1e-12) and got[3:] == want[3:]
    loops = looptrace.explain(looptrace.jit(enumerated_pairs, backend="interpret"), x).loops
    assert not any("unrolled" in (loop.reason or "") for loop in loops)


def test_zip_star_of_mixed_tuples_past_float_precision_is_an_error():
    with pytest.raises(OverflowError, match="past 2"):
        looptrace.jit(big_int_pairs, backend="interpret")(np.ones(3000))
