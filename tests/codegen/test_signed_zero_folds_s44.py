"""Which zero a max/min fold keeps, on the CPU backend (session 44).

A loop `if v > m: m = v`, `m = max(m, v)` keeps the first of equal values,
`if v >= m: m = v`, `m = np.maximum(m, v)` the last: on data holding both
+0.0 and -0.0 the sign of the result says which (ops/reduce.py `ties`). The
CPU folds in lanes keep whichever zero their lanes meet first; where their
result is a zero they rescan for the first (last) zero (nest.py
`Fuser._tied_zero`), and the folds in order take the last of ties with
max_nan_last/min_nan_last (nest.py `fold_step`). Each program covers several
lowerings at once (short rows in order, rows of 64 or more in 8 lanes, the
flat fold of `X.flat`, a long vector in arrays of lanes, extrema.py's helper,
sibling groups, an argmax's loop) and is compiled once, then called on many
data sets drawn from {-0.0, +0.0, 1, -1, nan}: values, signs of zeros and
dtypes must be the plain function's."""
import numpy as np
import pytest

import looptrace as lt

POOLS = ([-0.0, 0.0], [-0.0, 0.0, -1.0], [-0.0, 0.0, 1.0], [-0.0, 0.0, 1.0, -1.0],
         [-0.0, 0.0, 1.0, -1.0, np.nan])
DATA_SETS = 20


def _row8(X):
    n, m = X.shape
    out = np.empty((8, n))
    for i in range(n):
        a = -np.inf
        b = -np.inf
        c = -np.inf
        d = -np.inf
        e = np.inf
        f = np.inf
        g = np.inf
        h = np.inf
        for j in range(m):
            v = X[i, j]
            if v > a:
                a = v
            if v >= b:
                b = v
            c = max(c, v)
            d = np.maximum(d, v)
            if v < e:
                e = v
            if v <= f:
                f = v
            g = min(g, v)
            h = np.minimum(h, v)
        out[0, i] = a
        out[1, i] = b
        out[2, i] = c
        out[3, i] = d
        out[4, i] = e
        out[5, i] = f
        out[6, i] = g
        out[7, i] = h
    return out


def rows(A, B):
    """Per-row folds, siblings: short rows (in order), rows of 70 (8 lanes)."""
    return _row8(A), _row8(B)


def _flat8(X):
    a = -np.inf
    b = -np.inf
    c = -np.inf
    d = -np.inf
    e = np.inf
    f = np.inf
    g = np.inf
    h = np.inf
    for v in X.flat:
        if v > a:
            a = v
        if v >= b:
            b = v
        c = max(c, v)
        d = np.maximum(d, v)
        if v < e:
            e = v
        if v <= f:
            f = v
        g = min(g, v)
        h = np.minimum(h, v)
    return a, b, c, d, e, f, g, h


def wholes(X, y, z):
    """Whole-array folds, siblings: X.flat (a flat group), a vector of 5000
    (arrays of lanes), a vector of 100 (8 lanes)."""
    return _flat8(X) + _flat8(y) + _flat8(z)


def alone(X, y, w):
    """One fold a loop: the max of a matrix (rows' maxes, then extrema.py's
    helper over the whole), rows in 8 lanes, a vector's min, a float32 max."""
    m = -np.inf
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            m = max(m, X[i, j])
    lo = np.inf
    for v in X.flat:
        lo = np.minimum(lo, v)
    k = np.inf
    for v in y:
        k = np.minimum(k, v)
    r = np.full(X.shape[0], -np.inf)
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            r[i] = np.maximum(r[i], X[i, j])
    m32 = np.float32(-np.inf)
    for v in w:
        if v >= m32:
            m32 = v
    return m, lo, k, r, m32


def with_argmax(S):
    """Max (min) folds over an argmax's (argmin's) own input and axis, updated in its loop."""
    n = S.shape[0]
    best = np.argmax(S, axis=0)
    worst = np.argmin(S, axis=0)
    hi = np.full(S.shape[1], -np.inf)
    hf = np.full(S.shape[1], -np.inf)
    lo = np.full(S.shape[1], np.inf)
    lf = np.full(S.shape[1], np.inf)
    for i in range(n):
        hi = np.maximum(hi, S[i])
        hf = np.maximum(S[i], hf)
        lo = np.minimum(lo, S[i])
        lf = np.minimum(S[i], lf)
    return best, worst, hi, hf, lo, lf


CASES = {
    "rows": (rows, [((5, 9), np.float64), ((3, 70), np.float64)]),
    "wholes": (wholes, [((20, 30), np.float64), ((5000,), np.float64), ((100,), np.float64)]),
    "alone": (alone, [((50, 100), np.float64), ((300,), np.float64), ((200,), np.float32)]),
    "with_argmax": (with_argmax, [((12, 10), np.float64)]),
}


def _flat(r):
    return list(r) if isinstance(r, tuple) else [r]


def _same(want, got) -> bool:
    """The same values, zeros of the same sign, NaN where NaN, and the same dtype."""
    w, g = np.asarray(want), np.asarray(got)
    if w.dtype != g.dtype or w.shape != g.shape:
        return False
    if w.dtype.kind != "f":
        return bool(np.array_equal(w, g))
    return bool(np.all((np.isnan(w) & np.isnan(g)) | ((w == g) & (np.signbit(w) == np.signbit(g)))))


def _data_sets(seed: int, specs):
    rng = np.random.default_rng(seed)
    for t in range(DATA_SETS):
        pool = np.array(POOLS[t % len(POOLS)])
        yield t, [rng.choice(pool, size=shape).astype(dt) for shape, dt in specs]


def _check(fn, specs, backend: str) -> None:
    jitted = lt.jit(fn, backend=backend)
    bad = []
    for t, args in _data_sets(44, specs):
        kept = [a.copy() for a in args]
        want = _flat(fn(*[a.copy() for a in args]))
        got = _flat(jitted(*args))
        assert len(want) == len(got)
        for k, (w, g) in enumerate(zip(want, got)):
            if not _same(w, g):
                bad.append((t, k, w, g))
        assert all(np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b))
                   for a, b in zip(args, kept)), "arguments changed"
    assert not bad, bad[:4]


# rows on cpu with -m slow (11 s of CPU in session 48): its interpreter twin below always runs
@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "rows" else n for n in CASES])
def test_cpu_keeps_the_plain_folds_zero(name):
    fn, specs = CASES[name]
    _check(fn, specs, "cpu")


@pytest.mark.parametrize("name", ["rows", "with_argmax"])
def test_interpret_keeps_the_plain_folds_zero(name):
    fn, specs = CASES[name]
    _check(fn, specs, "interpret")
