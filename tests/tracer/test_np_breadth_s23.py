"""tracer/np_breadth.py and np.pad's statistic and ramp modes: np.polyfit,
np.put_along_axis, np.linalg.multi_dot and cond, ndarray.searchsorted,
np.logspace/geomspace, np.frexp/spacing/nextafter, np.piecewise and
np.apply_along_axis. Each against the undecorated function on fresh random
data (interpret, and a few cases on cpu), effects on arguments, exact float
formats on special values, gradients against central differences, and
errors that name the user's line."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt

from ._compare import check as same
from ._compare import grad_check, raises_as_numpy


def put_rows(a, v):
    np.put_along_axis(a, np.argsort(a, axis=1)[:, :2], v[:a.shape[0], None], axis=1)


def put_flat(a, v):
    b = a.copy()
    np.put_along_axis(b, np.array([3, -1, 0]), v[:3], axis=None)
    np.put_along_axis(b, np.argmax(b, axis=0)[None], 7.5, axis=0)
    return b


def pad_stats(a, i, a3):
    res = []
    for m in ("mean", "maximum", "minimum", "median"):
        res += [np.pad(a, 1, mode=m), np.pad(a, ((2, 1), (3, 2)), mode=m, stat_length=((2, 3), (1, 4))),
                np.pad(i, ((2, 1), (3, 2)), mode=m, stat_length=2),
                np.pad(a3, ((1, 0), (0, 2), (2, 2)), mode=m, stat_length=(3,))]
    return tuple(res)


def pad_stats_cpu(a, i, a3):
    """Each statistic mode once, each stat_length form once (the cpu compile of all
    sixteen pads cost ~25 s of the suite; the interpreter checks them all)."""
    return (np.pad(a, 1, mode="mean"),
            np.pad(a, ((2, 1), (3, 2)), mode="maximum", stat_length=((2, 3), (1, 4))),
            np.pad(i, ((2, 1), (3, 2)), mode="minimum", stat_length=2),
            np.pad(a3, ((1, 0), (0, 2), (2, 2)), mode="median", stat_length=(3,)))


def cases(rng):
    x = np.sort(rng.uniform(-2, 2, 12))
    y, v = rng.standard_normal(12), rng.standard_normal(8)
    a, b, c = rng.standard_normal((5, 4)), rng.standard_normal((4, 4)), rng.standard_normal((4, 6))
    ints = rng.integers(-9, 10, (4, 6))
    a3 = rng.standard_normal((3, 4, 5))
    return {
        "polyfit": (lambda x, y: (np.polyfit(x, y, 3), np.polyfit(x, y, 0), np.polyfit(x, np.stack([y, y * 2], 1), 2),
                                  np.polyfit(x.astype(np.float32), y, 1)), x, y),
        "polyfit_full_w_cov": (lambda x, y: (np.polyfit(x, y, 2, full=True), np.polyfit(x, y, 2, w=np.abs(y) + 1),
                                             np.polyfit(x, y, 2, cov=True), np.polyfit(x, y, 3, cov="unscaled"),
                                             np.polyval(np.polyfit(x, y, 4), x)), x, y),
        "put_along_axis": (put_rows, a, v),
        "put_along_axis_flat": (put_flat, a, v),
        "multi_dot": (lambda a, b, c, v: (np.linalg.multi_dot([a, b, c]), np.linalg.multi_dot([a.T, a, b, c]),
                                          np.linalg.multi_dot([v[:5], a, b, c, v[:6]]),
                                          np.linalg.multi_dot([v[:5], a, b]), np.linalg.multi_dot([b, c]),
                                          np.linalg.multi_dot([c.T, b.T, b, c, c.T])), a, b, c, v),
        "cond": (lambda b, a3: (np.linalg.cond(b), np.linalg.cond(b, 2), np.linalg.cond(b, -2), np.linalg.cond(b, 1),
                                np.linalg.cond(b, -np.inf), np.linalg.cond(b, "fro"), np.linalg.cond(a3),
                                np.linalg.cond(a3[:, :4, :4], np.inf), np.linalg.cond(b.astype(np.float32))), b, a3),
        "searchsorted_method": (lambda x, v: (x.searchsorted(v), x.searchsorted(v, side="right"),
                                              x.searchsorted(x[3]), x[::-1].searchsorted(v, sorter=np.arange(12)[::-1])),
                                x, v),
        "logspace": (lambda v: (np.logspace(0.0, v[0], 5), np.logspace(v[:3], 2.0, 4, base=2.0, axis=1),
                                np.logspace(v[0], v[1], 6, endpoint=False, dtype=np.float32),
                                np.logspace(0, v[2], 3, base=v[3:5] ** 2 + 1)), v),
        "geomspace": (lambda v: (np.geomspace(1.0, 2.0 + v[0] ** 2, 5), np.geomspace(-1.0 - v[:3] ** 2, -2.0, 5, axis=1),
                                 np.geomspace(v[0] ** 2 + 0.1, 9.0, 4, endpoint=False),
                                 np.geomspace(1.0 + v[1] ** 2, 10, 1), np.geomspace(1, 3 + v[:2] ** 2, 3, dtype=np.float32)),
                      v),
        "frexp_spacing_nextafter": (lambda a, i: (np.frexp(a * 1e4), np.frexp(i), np.spacing(a), np.spacing(a.astype(np.float32)),
                                                  np.nextafter(a, a[0]), np.nextafter(a, 0.0),
                                                  np.nextafter(a.astype(np.float32), np.float32(1))), a, ints),
        "piecewise": (lambda a, i: (np.piecewise(a, [a < 0, a >= 0], [lambda x: -x, lambda x: x * 2]),
                                    np.piecewise(a, [a < -0.5, a > 0.5], [np.sin, 3.0, lambda t: t ** 2]),
                                    np.piecewise(a[0], a[0] > 0, [lambda t, k: t * k, 1.5], 4.0),
                                    np.piecewise(i, [i < 0], [lambda t: t * 1.7]),
                                    np.piecewise(a[0, 0], [a[0, 0] > 0, a[0, 0] <= 0], [np.exp, np.cos])), a, ints),
        "apply_along_axis": (lambda a, a3: (np.apply_along_axis(lambda r: r.sum() * 2, 1, a),
                                            np.apply_along_axis(lambda r: np.sort(r)[::-1] * r[0], 0, a),
                                            np.apply_along_axis(lambda r: np.outer(r, r[:2]), 1, a3),
                                            np.apply_along_axis(lambda r, k: np.cumsum(r) * k, -1, a3, 3.0),
                                            np.apply_along_axis(lambda r: (r > 0).sum(), 2, a3)), a, a3),
        "pad_ramp": (lambda a, i, a3: (np.pad(a, 1, mode="linear_ramp"),
                                       np.pad(a, ((2, 3), (1, 0)), mode="linear_ramp", end_values=((1.5, -2), (3, 4))),
                                       np.pad(i, ((2, 3), (4, 1)), mode="linear_ramp", end_values=5),
                                       np.pad(a3.astype(np.float32), 2, mode="linear_ramp", end_values=(a3[0, 0, 0], 2.0))),
                     a, ints, a3),
        "pad_stats": (pad_stats, a, ints, a3),
        "pad_stats_cpu": (pad_stats_cpu, a, ints, a3),
    }


@pytest.mark.parametrize("name", sorted(cases(np.random.default_rng(0))))
def test_against_numpy_interpret(name, rng):
    fn, *args = cases(rng)[name]
    same(fn, *args)


# polyfit, cond and apply_along_axis: 13 s of CPU on cpu (session 48), their interpreter twins above always run
# put_along_axis: slow (1.3 s of session 55's CI), its gathers, scatter, argsort and checks are primitives
# tests/codegen's samples compile; test_float_formats_special_values[cpu] is this file's cpu compile
@pytest.mark.parametrize("name", [pytest.param("polyfit", marks=pytest.mark.slow),
                                  pytest.param("put_along_axis", marks=pytest.mark.slow),
                                  pytest.param("cond", marks=pytest.mark.slow), 
                                  # frexp_spacing_nextafter: slow, test_float_formats_special_values[cpu] compiles
                                  # the same frexp, spacing and nextafter in float64 and float32, bit for bit
                                  pytest.param("frexp_spacing_nextafter", marks=pytest.mark.slow),
                                  # piecewise: slow (4.7 s of CPU in session 55's CI at 0278d5f), its selects
                                  # compile on cpu in test_gradient_on_cpu (loss_functional: np.piecewise of
                                  # three conditions and np.sin, values and gradient); the interpreter runs it
                                  pytest.param("piecewise", marks=pytest.mark.slow),
                                  pytest.param("apply_along_axis", marks=pytest.mark.slow), "pad_stats_cpu"])
def test_against_numpy_cpu(name, rng):
    fn, *args = cases(rng)[name]
    same(fn, *args, backend="cpu")


# --- the float formats, exactly -----------------------------------------------------------------------
SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-310, 1.0,
                    -1.0, 0.75, 1024.0, -3.5, np.finfo(float).max, -np.finfo(float).max, 2.0 ** -1022 * 3])


def formats(a, b):
    return (np.frexp(a), np.spacing(a), np.nextafter(a, b), np.nextafter(a, 0.0), np.nextafter(a, np.inf),
            np.nextafter(a, -np.inf), np.frexp(a.astype(np.float32)), np.spacing(a.astype(np.float32)),
            np.nextafter(a.astype(np.float32), b.astype(np.float32)))


def formats16(a, b):
    h = a.astype(np.float16)
    return np.frexp(h), np.spacing(h), np.nextafter(h, b.astype(np.float16)), np.nextafter(h, np.float16(0))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_float_formats_special_values(backend):
    same(formats, SPECIAL, SPECIAL[::-1].copy(), backend=backend, rtol=0)


def test_float_formats_every_binade(rng):
    k = np.arange(-1074, 1024)
    a = np.concatenate([2.0 ** k, -(2.0 ** k) * 1.5, np.nextafter(2.0 ** k, 0), rng.standard_normal(50) * 1e300])
    same(formats, a, rng.permutation(a), rtol=0)
    h = np.concatenate([2.0 ** np.arange(-26, 17), -(2.0 ** np.arange(-26, 17)), np.arange(-70000.0, 70000, 37)])
    same(formats16, h, rng.permutation(h), rtol=0)


# --- effects on arguments, loops, random shapes ------------------------------------------------------
def put_in_loop(a, v):
    for t in range(a.shape[0]):
        np.put_along_axis(a[t], np.argmin(a[t], axis=0)[None], v[t], axis=0)
    return a.sum()


def test_put_along_axis_writes_through_views_and_loops(rng):
    same(put_in_loop, rng.standard_normal((5, 3, 4)), rng.standard_normal(5))
    same(lambda a, v: put_rows(a[1:], v), rng.standard_normal((6, 5)), rng.standard_normal(8))


def functions_in_a_loop(a):
    out = np.empty_like(a)
    for t in range(a.shape[0]):
        out[t] = np.piecewise(a[t], [a[t] < 0], [lambda v: v * 2, np.cos])
        out[t] += np.apply_along_axis(lambda r: r - r.mean(), 1, a[t])
    return out


def test_piecewise_and_apply_along_axis_in_a_loop(rng):
    same(functions_in_a_loop, rng.standard_normal((6, 3, 4)))


@settings(max_examples=15, deadline=None)
@given(dims=st.lists(st.integers(1, 6), min_size=3, max_size=6), seed=st.integers(0, 2**31))
def test_multi_dot_random_chains(dims, seed):
    r = np.random.default_rng(seed)
    ms = [r.standard_normal((p, q)) for p, q in zip(dims[:-1], dims[1:])]
    same(lambda *ms: np.linalg.multi_dot(list(ms)), *ms)


def test_apply_along_axis_is_one_loop_batched(rng):
    def f(a):
        return np.apply_along_axis(lambda r: np.sort(r)[:2] * r.sum(), 1, a)

    loops = lt.explain(lt.jit(f, backend="interpret"), rng.standard_normal((40, 5))).loops
    assert [loop.kind for loop in loops] == ["vectorized"]


# --- gradients ------------------------------------------------------------------------------------------
def loss_polyfit(x, y, w):
    return np.sum(np.polyfit(x, y, 3, w=np.abs(w) + 1) ** 2) + np.sum(np.polyval(np.polyfit(x, y, 2), x) * w)


def loss_put(a, v):
    b = a * 1.0
    np.put_along_axis(b, np.argsort(a, axis=1)[:, :2], v[:, None] * 2, axis=1)
    return np.sum(b ** 2 * v[:, None])


def loss_linalg(a, b, c):
    m = np.linalg.multi_dot([a, b, c, a.T])
    return np.sum(m ** 2) + np.linalg.cond(m + 9 * np.eye(3)) + np.linalg.cond(m + 9 * np.eye(3), 1)


def loss_spaces(v):
    return np.sum(np.logspace(v[0], v[1], 6)) + np.sum(np.geomspace(1.0 + v[2] ** 2, 3.0 + v[3] ** 2, 5) * v[:5])


def loss_pad_frexp(a):
    return (np.sum(np.pad(a, 2, mode="linear_ramp", end_values=(a[0, 0], 1.0)) ** 2)
            + np.sum(np.pad(a, (1, 2), mode="mean") ** 2) + np.sum(np.pad(a, 1, mode="maximum") * np.pad(a, 1, mode="median"))
            + np.sum(np.frexp(a * 7)[0] ** 2))


def loss_functional(a):
    return (np.sum(np.piecewise(a, [a < 0, a > 0.5], [lambda x: x ** 2, np.sin, lambda x: 3 * x]))
            + np.sum(np.apply_along_axis(lambda r: np.cumsum(r) * r[0], 1, a) ** 2))


@pytest.mark.parametrize("loss, shapes", [
    (loss_put, [(3, 5), (3,)]), (loss_linalg, [(3, 4), (4, 5), (5, 4)]), (loss_spaces, [(6,)]),
    (loss_pad_frexp, [(3, 4)]), (loss_functional, [(3, 4)]),
], ids=lambda v: getattr(v, "__name__", None))
def test_gradients(loss, shapes, rng):
    args = [rng.standard_normal(s) for s in shapes]
    grad_check(loss, args, tuple(range(len(args))))


def test_polyfit_gradient(rng):
    x = np.linspace(-1, 1, 9) + 0.05 * rng.standard_normal(9)
    grad_check(loss_polyfit, [x, rng.standard_normal(9), rng.standard_normal(9)], (0, 1, 2))


def test_gradient_on_cpu(rng):
    grad_check(loss_functional, [rng.standard_normal((3, 4))], (0,), backend="cpu")


# --- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, exc, match", [
    (lambda x: np.polyfit(x[0], x[0], -1), ValueError, "expected deg >= 0"),
    (lambda x: np.polyfit(x, x[0], 1), TypeError, "expected 1D vector for x"),
    (lambda x: np.polyfit(x[0], x[1, :3], 1), TypeError, "same length"),
    (lambda x: np.put_along_axis(x, np.zeros(3, int), 1.0, axis=0), ValueError, "same number of dimensions"),
    (lambda x: np.put_along_axis(x, np.zeros((4, 1), int), 1.0, axis=None), ValueError, "single dimension"),
    (lambda x: np.put_along_axis(x, np.full((4, 1), 7), 1.0, axis=1), IndexError,
     "index 7 is out of bounds for axis 1 with size 5"),
    (lambda x: np.linalg.multi_dot([x]), ValueError, "at least two arrays"),
    (lambda x: np.linalg.multi_dot([x[None], x.T, x]), np.linalg.LinAlgError, "Array must be two-dimensional"),
    (lambda x: np.linalg.cond(x, 1), np.linalg.LinAlgError, "must be square"),
    (lambda x: np.linalg.cond(x[:0, :0]), np.linalg.LinAlgError, "not defined on empty arrays"),
    (lambda x: x[0].searchsorted(x[1], side="middle"), ValueError, "side must be"),
    (lambda x: np.geomspace(x[0, 0] * 0, 2.0, 4), ValueError, "cannot include zero"),
    (lambda x: np.piecewise(x, [x > 0, x < 0], [np.sin]), ValueError, "either 2 or 3 functions"),
    (lambda x: np.apply_along_axis(np.sum, 0, x[:, :0]), ValueError, "iteration dimensions are 0"),
    (lambda x: np.pad(x, 1, mode="minimum", stat_length=0), ValueError, "stat_length of 0"),
    (lambda x: np.pad(x, 1, mode="mean", end_values=2), ValueError, "unsupported keyword arguments"),
])
def test_numpy_errors(call, exc, match, rng):
    raises_as_numpy(call, exc, match, rng.standard_normal((4, 5)))


def traced_degree(x, k):
    return np.polyfit(x, x * 2, k[0])


def pad_empty(x):
    return np.pad(x, 1, mode="empty")


def piecewise_mean(x):
    return np.piecewise(x, [x < 0], [lambda v: v - v.mean()])


def piecewise_closure(x, w):
    return np.piecewise(x, [x < 0], [lambda v: v * w])


def cond_traced_p(x, p):
    return np.linalg.cond(x, p[0])


def frexp_out(x):
    return np.frexp(x, where=x > 0)


@pytest.mark.parametrize("fn, nargs, match, line", [
    (traced_degree, 2, "deg must be a static integer", "return np.polyfit(x, x * 2, k[0])"),
    (pad_empty, 1, "mode='empty' is not supported", 'return np.pad(x, 1, mode="empty")'),
    (piecewise_mean, 1, "not elementwise in x", "return np.piecewise(x, [x < 0], [lambda v: v - v.mean()])"),
    (piecewise_closure, 2, "not elementwise in x", "return np.piecewise(x, [x < 0], [lambda v: v * w])"),
    (cond_traced_p, 2, "p must be known when compiling", "return np.linalg.cond(x, p[0])"),
    (frexp_out, 1, r"where=\) without out= is not supported", "return np.frexp(x, where=x > 0)"),
], ids=lambda v: getattr(v, "__name__", None))
def test_refusals_name_the_line(fn, nargs, match, line, rng):
    args = [rng.standard_normal((4, 4)), np.array([2])][:nargs]
    if fn is piecewise_closure:
        args[1] = rng.standard_normal((4, 4))
    with pytest.raises(lt.LooptraceError, match=match) as e:
        lt.jit(fn, backend="interpret")(*args)
    assert line in str(e.value)
