"""Simple scans with branches (bench probe: numba.njit ran them 5-20x
faster): the cpu backend and the interpreter give the plain function's
values on random data and edge sizes, and the mechanisms that made the
kernels slow stay gone: a select of a serial loop's carry is a branch
(codegen/cpu/scalar.py `latency_call`), and an element copied from one array
into another is a scalar, not a one-element array per step (codegen/cpu/
shape.py, planning/fusion.py `_element_reads`)."""
import numpy as np
import pytest

import looptrace


def spiral_order(m):
    R, C = m.shape
    out = np.empty(R * C, dtype=m.dtype)
    top, bot, left, right = 0, R - 1, 0, C - 1
    k = 0
    while top <= bot and left <= right:
        for j in range(left, right + 1):
            out[k] = m[top, j]; k += 1
        top += 1
        for i in range(top, bot + 1):
            out[k] = m[i, right]; k += 1
        right -= 1
        if top <= bot:
            for j in range(right, left - 1, -1):
                out[k] = m[bot, j]; k += 1
            bot -= 1
        if left <= right:
            for i in range(bot, top - 1, -1):
                out[k] = m[i, left]; k += 1
            left += 1
    return out

def grid_bfs_shortest(m):
    g = m % 4 != 0
    R, C = g.shape
    dist = np.full((R, C), -1, dtype=np.int64)
    qr = np.empty(R * C, dtype=np.int64); qc = np.empty(R * C, dtype=np.int64)
    if not g[0, 0]:
        return -1
    dist[0, 0] = 0; qr[0] = 0; qc[0] = 0; h = 0; t = 1
    dr = np.array([1, -1, 0, 0]); dc = np.array([0, 0, 1, -1])
    while h < t:
        r = qr[h]; c = qc[h]; h += 1
        for d in range(4):
            nr = r + dr[d]; nc = c + dc[d]
            if nr >= 0 and nr < R and nc >= 0 and nc < C and g[nr, nc] and dist[nr, nc] < 0:
                dist[nr, nc] = dist[r, c] + 1
                qr[t] = nr; qc[t] = nc; t += 1
    return dist[R - 1, C - 1]

def stock_max_profit(a):
    lo = a[0]; best = 0.0
    for i in range(1, len(a)):
        if a[i] < lo:
            lo = a[i]
        elif a[i] - lo > best:
            best = a[i] - lo
    return best

def majority_vote(a):
    cand = 0; cnt = 0
    for x in a:
        if cnt == 0:
            cand = x; cnt = 1
        elif x == cand:
            cnt += 1
        else:
            cnt -= 1
    return cand

def longest_distinct_window(a, t):
    last = np.full(101, -1, dtype=np.int64)
    start = 0; best = 0
    for i in range(len(a)):
        v = a[i]
        if last[v] >= start:
            start = last[v] + 1
        last[v] = i
        if i - start + 1 > best:
            best = i - start + 1
    return best

def transitive_closure(w):
    n = w.shape[0]
    r = w < np.inf
    for k in range(n):
        for i in range(n):
            if r[i, k]:
                for j in range(n):
                    if r[k, j]:
                        r[i, j] = True
    return r

def horner_poly(a):
    c = np.array([1.0, -2.0, 0.5, 3.0, -0.25])
    out = np.empty_like(a)
    for i in range(len(a)):
        x = a[i] / 100
        r = 0.0
        for k in range(len(c)):
            r = r * x + c[k]
        out[i] = r
    return out


def _wmat(r, n, p=0.3):
    w = r.uniform(1, 10, (n, n))
    w = np.where(r.random((n, n)) < p, w, np.inf)
    np.fill_diagonal(w, 0.0)
    return w


MAKERS = {
    spiral_order: lambda r, n: (r.integers(0, 20, (n, n + 1)),),
    grid_bfs_shortest: lambda r, n: (r.integers(0, 20, (n + 1, n + 2)),),
    stock_max_profit: lambda r, n: (r.standard_normal(n + 1),),
    majority_vote: lambda r, n: (r.integers(-3, 3, n).astype(np.float64),),
    longest_distinct_window: lambda r, n: (r.integers(1, 100, n), 5),
    transitive_closure: lambda r, n: (_wmat(r, n, 0.2),),
    horner_poly: lambda r, n: (r.uniform(1, 100, n),),
}
PROGRAMS = list(MAKERS)


def _outcome(f, args):
    try:
        return f(*args)
    except Exception as e:  # the plain function's exception is the specification too
        return type(e)


def _same(expected, got):
    if isinstance(expected, type):
        assert isinstance(got, type) and issubclass(got, expected), (expected, got)
        return
    assert type(np.asarray(got).dtype) is type(np.asarray(expected).dtype)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-12)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_interpret_matches_plain(f):
    jf = looptrace.jit(f, backend="interpret")
    for seed, n in [(0, 0), (1, 1), (2, 2), (3, 7), (4, 12)]:
        args = MAKERS[f](np.random.default_rng(seed), n)
        _same(_outcome(f, args), _outcome(jf, args))


# spiral_order with -m slow (3.6 s of CPU in session 54's CI at e17f737): its cpu kernel runs against the
# plain function in test_element_copied_between_arrays_is_a_scalar; the interpreter runs every size above
CPU_SLOW = {"spiral_order"}


@pytest.mark.parametrize("f", [pytest.param(f, marks=pytest.mark.slow) if f.__name__ in CPU_SLOW else f
                               for f in PROGRAMS], ids=lambda f: f.__name__)
def test_cpu_matches_plain(f):
    jf = looptrace.jit(f, backend="cpu")
    # two shapes, one of them three times: two compiles (n = 1 as well made three, 7.5 s of CPU for the seven
    # programs in session 54's CI; the interpreter runs n = 0, 1, 2, 7, 12 above)
    for seed, n in [(1, 2), (2, 9), (3, 9), (4, 9)]:
        args = MAKERS[f](np.random.default_rng(seed), n)
        _same(_outcome(f, args), _outcome(jf, args))


def _kernel_source(f, *args):
    return looptrace.explain(looptrace.jit(f, backend="cpu"), *args).kernel_source


def test_select_of_carry_in_serial_loop_is_a_branch():
    """The if-converted `elif` of stock_max_profit feeds its carries: as an
    LLVM select each step waited for the last one (3.5 ns a step against
    njit's 0.36), as a conditional expression Numba branches (0.5)."""
    a = np.random.default_rng(5).standard_normal(1000)
    src = _kernel_source(stock_max_profit, a)
    loop = src[src.index("for "):]
    assert "pick(" not in loop and " if " in loop


def test_element_copied_between_arrays_is_a_scalar():
    """out[k] = m[i, j] in a loop: the element is stored as it was read, not
    through a one-element array made per step (spiral_order 1.6 -> 0.1 ms)."""
    m = np.random.default_rng(6).integers(0, 100, (20, 20))
    src = _kernel_source(spiral_order, m)
    assert "filled(" not in src
    np.testing.assert_array_equal(looptrace.jit(spiral_order, backend="cpu")(m), spiral_order(m))


def test_a_select_not_computed_from_a_carry_stays_a_select():
    """histogram2d_loop's bin tests read only the data: as branches they
    mispredict on random points (1.43 -> 2.44 ms), so they stay LLVM selects."""
    from bench.corpus.algorithms import histogram2d_loop

    r = np.random.default_rng(7)
    x, y = r.random(1000) * 1.2 - 0.1, r.random(1000) * 1.2 - 0.1
    src = _kernel_source(histogram2d_loop, x, y, 8)
    loop = src[src.index("for "):]
    assert "pick(" in loop and " if v" not in loop
    np.testing.assert_array_equal(looptrace.jit(histogram2d_loop, backend="cpu")(x, y, 8), histogram2d_loop(x, y, 8))
