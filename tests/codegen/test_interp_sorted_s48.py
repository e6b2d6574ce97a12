"""np.interp and np.searchsorted on keys in any order (codegen/cpu/sort.py's
bracket: a key between the samples around the previous key's insertion
point takes that point with two comparisons; others search). Sorted,
descending, nearly sorted, all-equal keys and keys outside the samples,
against the plain function bit for bit: ties in xp, NaN and infinities in x,
NaNs at the end of xp (searchsorted's order), -0.0 against 0.0, integer keys
at their dtype's extremes (the bracket's end bounds). One cpu kernel of fixed
shapes serves every hypothesis example (runs of 2048 keys: 5000 keys make
three); the rest runs on the interpreter. Speed: bench/replaced_s47.py."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace as lt

M, N = 5000, 40  # keys (two full runs and a part) and samples of the cpu kernel
ORDERS = ["sorted", "descending", "nearly", "equal", "outside", "random", "pieces"]


# float64 and int8 keys, each both sides (a float32 search, the float64 one's text in the narrower dtype,
# was an eighth of the cpu kernel's compile)
def _all(x, xp, fp, xi, xpi):
    return (np.interp(x, xp, fp), np.interp(x, xp, fp, left=-1.5, right=np.nan),
            np.searchsorted(xp, x, side="right"), np.searchsorted(xp, x, side="left"),
            np.searchsorted(xp, x.reshape(2, -1), side="right"),  # a leading axis of keys
            np.searchsorted(xpi.astype(np.int8), xi.astype(np.int8), side="right"),
            np.searchsorted(xpi.astype(np.int8), xi.astype(np.int8), side="left"))


def _bits(a):
    a = np.asarray(a)
    return a.view(np.uint64 if a.itemsize in (8, 16) else np.uint32) if a.dtype.kind in "fc" else a


def _same(want, got):
    for w, g in zip(want, got):
        w, g = np.asarray(w), np.asarray(g)
        assert w.dtype == g.dtype and w.shape == g.shape, (w.dtype, g.dtype, w.shape, g.shape)
        assert np.array_equal(_bits(w), _bits(g)), np.nonzero(_bits(w) != _bits(g))


def _order(x, order, rng):
    """x (float or int keys) put in the named order."""
    if order in ("sorted", "nearly", "outside", "pieces"):
        x = np.sort(x)
    if order == "nearly":  # sorted, then a few swapped with random others
        i, k = rng.integers(0, x.shape[0], (2, x.shape[0] // 50))
        x[i], x[k] = x[k], x[i]
    elif order == "descending":
        x = np.sort(x)[::-1].copy()
    elif order == "equal":
        x = np.full_like(x, x[rng.integers(x.shape[0])])
    elif order == "pieces":  # sorted stretches starting over, one of them descending
        x = np.concatenate([np.sort(p) for p in np.array_split(rng.permutation(x), 7)])
        x[1000:1900] = x[1000:1900][::-1]
    return x


def _case(seed, order, ties, specials, nan_xp):
    rng = np.random.default_rng(seed)
    xp = np.sort(np.round(rng.random(N) * 4, 1 if ties else 12))  # rounded: repeated samples
    xp[N // 2] = 0.0
    xp = np.sort(np.where(xp == 0.0, -0.0, xp) if specials else xp)
    if nan_xp:
        xp[-3:] = np.nan  # NaNs sort last
    fp = rng.standard_normal(N)
    if specials:
        fp[5], fp[9], fp[10] = np.inf, -np.inf, -np.inf
    x = rng.random(M) * 5 - 0.5
    if order == "outside":
        x = np.where(x < 2, x - 3, x + 3)
    if ties:
        x[::7] = xp[rng.integers(0, N, x[::7].shape[0])]  # keys equal to samples
    if specials:
        x[rng.integers(0, M, 40)] = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0] * 8)
    x = _order(x, order, rng)
    xpi = np.sort(rng.integers(-128, 128, N))
    xpi[0], xpi[-1] = -128, 127
    xi = rng.integers(-128, 128, M)
    xi[::11] = 127
    xi[::13] = -128
    return x, xp, fp, _order(xi, order, rng), xpi


_CPU = {}


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # (20 in session 48: 9.5 s of CPU)
@given(seed=st.integers(0, 2**32 - 1), order=st.sampled_from(ORDERS), ties=st.booleans(),
       specials=st.booleans(), nan_xp=st.booleans())
def test_interp_and_search_any_order_bits(seed, order, ties, specials, nan_xp):
    """Plain, interpret and one cpu kernel. With NaNs in xp NumPy's np.interp
    answers by its guessed index (its docs ask for increasing xp): there the
    two backends are held to each other, and searchsorted to NumPy."""
    args = _case(seed, order, ties, specials, nan_xp)
    cpu = _CPU.setdefault("f", lt.jit(_all, backend="cpu"))
    want, got = _all(*args), cpu(*args)
    ref = lt.jit(_all, backend="interpret")(*args)
    if nan_xp:
        _same(ref[:2], got[:2])
        want, ref, got = want[2:], ref[2:], got[2:]
    _same(want, ref)
    _same(want, got)
    if "source" not in _CPU:  # branch-free search beside the bracketed runs (as test_replaced_speed_s47.py's)
        _CPU["source"] = src = cpu.explain(*args).kernel_source
        assert "while len" in src and "blo" in src


@pytest.mark.parametrize("order", ORDERS)
def test_interp_orders_interpret(order, rng):
    """Every order with left/right, the slope from the right end (equal
    neighbours with infinite values) and the one-point rule."""
    xp = np.array([-1.0, 0.0, 1.0, 1.0, 2.0, 3.0, 4.0])
    fp = np.array([2.0, 1.0, np.inf, np.inf, -np.inf, 2.0, 2.0])
    x = _order(np.concatenate([np.linspace(-2, 5, 300), [np.nan, -0.0, 0.0, np.inf, -np.inf]]), order, rng)

    def f(x, xp, fp):
        return (np.interp(x, xp, fp), np.interp(x, xp, fp, left=-0.0, right=7.5),
                np.interp(x, xp[:1], fp[:1]), np.interp(x, xp[:1], fp[:1], left=3.0, right=-0.0))

    _same(f(x, xp, fp), lt.jit(f, backend="interpret")(x, xp, fp))


def test_interp_edges_interpret(rng):
    """Empty points, a 2-d array of points, a period, complex values, a
    sorter, and -0.0 against 0.0 in the samples and the points."""
    xp = np.sort(rng.random(9))
    xp[0] = -0.0
    fp = rng.standard_normal(9)
    x = np.sort(rng.random(40) * 1.4 - 0.2)
    x[:3] = [0.0, -0.0, 0.0]
    order = rng.permutation(9)

    def f(x, xp, fp, z):
        return (np.interp(x[:0], xp, fp), np.interp(x.reshape(4, 10), xp, fp),
                np.interp(x, xp, fp, period=0.7), np.interp(x, xp, fp + 1j * fp[::-1]),
                np.interp(x, xp, fp, left=z, right=z),
                np.searchsorted(xp[order], x, side="right", sorter=np.argsort(xp[order])),
                np.searchsorted(xp, x[::-1], side="left"))

    _same(f(x, xp, fp, -0.0), lt.jit(f, backend="interpret")(x, xp, fp, -0.0))


def test_interp_complex_interpret(rng):
    """Complex samples as NumPy's complex loop: slopes times the reciprocal
    of the step (table and per point), NaN points NaN + 0j, infinite parts
    kept (no arithmetic joins the parts), complex left/right and a period."""
    xp = np.sort(rng.random(12))
    xp[4] = xp[5]
    fp = rng.standard_normal(12) + 1j * rng.standard_normal(12)
    fp[7] = complex(np.inf, 1.0)
    fp[9] = complex(2.0, -np.inf)
    x = np.concatenate([rng.random(30) * 1.4 - 0.2, xp[::3], [np.nan, np.inf, -np.inf, -0.0]])

    def f(x, xp, fp):
        return (np.interp(x, xp, fp), np.interp(x[:5], xp, fp),  # the slope table, the per-point slope
                np.interp(x, xp, fp, left=1 - 2j, right=np.nan), np.interp(x, xp, fp, period=0.8),
                np.interp(x, xp[:1], fp[:1]))

    with np.errstate(invalid="ignore"):  # the period's remainder of the infinite points
        want = f(x, xp, fp)
    _same(want, lt.jit(f, backend="interpret")(x, xp, fp))


def _complex_loss(x, xp, fr, fi):
    z = np.interp(x, xp, fr + 1j * fi)
    return np.sum(z.real ** 2 + 3.0 * z.imag)


def test_interp_complex_gradient_against_differences(rng):
    """The parts joined by make_complex carry their gradients (points and
    both parts of the samples)."""
    xp, fr, fi = np.sort(rng.random(8)), rng.standard_normal(8), rng.standard_normal(8)
    x = rng.random(12) * 0.8 + 0.1
    args = [x, xp, fr, fi]
    got = lt.grad(lt.jit(_complex_loss, backend="interpret"), (0, 2, 3))(*args)
    for k, g in zip((0, 2, 3), got):
        def at(d, k=k):
            moved = list(args)
            moved[k] = args[k] + d
            return _complex_loss(*moved)
        fd = np.array([(at(e) - at(-e)) / 2e-6 for e in np.eye(args[k].size) * 1e-6])
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)
