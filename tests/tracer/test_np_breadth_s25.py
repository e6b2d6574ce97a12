"""The s25 widening of the NumPy surface (tools/numpy_survey.py): each function
against the undecorated function on fresh random data (interpret, and a few
grouped cases on cpu), gradients against central differences in float64, and
refusals of data-dependent shapes or dtypes that name the user's line."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad

from ._compare import assert_same, grad_check, raises_as_numpy
from ._compare import check as same
from tests.marks import INTERPRET_AND_SLOW_CPU


def complex_matrix(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# --- wrong answers found by the s25 survey --------------------------------------------------------------
def test_vdot_conjugates_its_first_argument(rng):
    """np.vdot of complex arrays summed a * b; NumPy's is conj(a) * b."""
    c, d, a = complex_matrix(rng, 4, 4), complex_matrix(rng, 4, 4), rng.standard_normal((4, 4))
    same(lambda c, d, a: (np.vdot(c, d), np.vdot(c, c * 2), np.vdot(a, c), np.vdot(c, a), np.vdot(a, a)), c, d, a,
         rtol=1e-12)


def test_var_and_std_of_complex_arrays_are_real(rng):
    """np.var of complex arrays averaged d * d (complex); NumPy's is |d| ** 2, real."""
    c = complex_matrix(rng, 4, 5)
    same(lambda c: (np.var(c), np.var(c, axis=0), np.std(c, axis=1, ddof=1), np.var(c.astype(np.complex64)),
                    np.std(c, dtype=np.complex128), c.var(axis=1, keepdims=True), c.std()), c)


def test_var_mean_and_correction_keywords(rng):
    a = rng.standard_normal((5, 4))
    same(lambda a: (np.var(a, axis=0, mean=np.mean(a, axis=0, keepdims=True)), np.std(a, correction=1),
                    np.var(a, axis=1, correction=2, keepdims=True),
                    np.std(a, axis=1, mean=a.mean(axis=1, keepdims=True), ddof=1)), a)
    with pytest.raises(ValueError, match="ddof and correction"):
        lt.jit(lambda a: np.var(a, ddof=1, correction=1), backend="interpret")(a)


def test_var_complex_gradient(rng):
    def loss(x, y):
        return np.var(x + 1j * y) + np.std(x * (1 - 2j) + y, axis=0).sum() + np.var(x, mean=x.mean())

    grad_check(loss, [rng.standard_normal((3, 4)), rng.standard_normal((3, 4))], (0, 1))


# --- out= and where= (tracer/np_writes.py) ---------------------------------------------------------------
def ufunc_outs(a, b):
    out = np.empty_like(a)
    np.add(a, b[0], out=out)
    r = np.multiply(a, 2.0, out)  # by position
    d = np.divide(a, b[0], out=np.zeros_like(a), where=b[0] > 0)
    fr, ex = np.empty_like(a), np.empty(a.shape, np.int32)
    np.frexp(a, out=(fr, ex))
    s = np.empty_like(a)
    np.sin(a, out=s, where=a > 0)  # the rest keeps s's values
    i = np.zeros(a.shape, np.float32)
    np.subtract(a, 1, out=i)  # same_kind: float64 into float32
    return out, r is out, d, fr, ex, np.where(a > 0, s, 0.0), i


def function_outs(a):
    o = np.empty(4)
    np.sum(a, axis=0, out=o)
    c = np.empty_like(a)
    np.cumsum(a, axis=1, out=c)
    m = np.empty((5, 5))
    np.matmul(a, a.T, out=m)
    i = np.zeros(4, int)
    np.sum(a * 3, axis=0, out=i)  # a reduction casts unsafely
    d = np.empty((5, 5))
    np.dot(a, a.T, out=d)
    cl = np.empty_like(a)
    np.clip(a, -0.5, 0.5, out=cl)
    mx = np.empty((1, 4))
    np.max(a, axis=0, keepdims=True, out=mx)
    st = np.empty(5)
    np.std(a, axis=1, ddof=1, out=st)
    return o, c, m, i, d, cl, mx, st


def outs_into_arguments(a, o):
    np.exp(a, out=o)
    np.sqrt(a, out=a, where=a > 0)
    np.mean(a, axis=0, out=o[0])
    return a.sum()


def outs_in_a_loop(a):
    out = np.zeros((3,) + a.shape)
    for t in range(3):
        np.multiply(a, t + 1.0, out=out[t])
        np.add(out[t], a[0], out=out[t], where=a > 0)
    return out


def writes(a, v):
    b, c, d, e, f = a.copy(), a.copy(), a.copy(), np.zeros_like(a), a.copy()
    np.put(b, [0, 5, -1, 5], v[:4])  # the last write of a repeated index wins
    b.put([1, 30], [2.0], mode="wrap")
    np.put(b, [2, 99], v[:2], mode="clip")
    np.place(c, c > 0, v[:3])  # the values repeat over the True elements
    np.putmask(d, d < 0, v)  # values[i % len(values)] at flat position i
    np.copyto(e, a, where=a > 0)
    np.copyto(e[0], 7)
    f.fill(2.5)
    f[1].fill(v[0])
    return b, c, d, e, f


def test_out_and_where_against_numpy(rng):
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 4))
    same(ufunc_outs, a, b)
    same(function_outs, a)
    same(outs_into_arguments, a, np.zeros((5, 4)))
    same(outs_in_a_loop, a)
    same(writes, a, rng.standard_normal(6))


def test_out_and_writes_on_cpu(rng):
    a, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 4))
    same(lambda a, b, o: (ufunc_outs(a, b), function_outs(a), outs_into_arguments(a, o), outs_in_a_loop(a),
                          writes(a, b[0])), a, b, np.zeros((5, 4)), backend="cpu")


def loss_outs(a, v):
    o = np.zeros_like(a)
    np.multiply(a, v[0], out=o, where=a > 0)
    s = np.empty(a.shape[1])
    np.sum(o * a, axis=0, out=s)
    b = a * 1.0
    np.put(b, [0, 3], v[:2])
    np.place(b, b < 0, v[:2] * 3)
    np.putmask(b, b > 1, v)
    np.copyto(b[0], v[:4] ** 2)
    return np.sum(s ** 2) + np.sum(b ** 2)


def test_out_and_writes_gradient(rng):
    grad_check(loss_outs, [rng.standard_normal((3, 4)), rng.standard_normal(5)], (0, 1))


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: np.add(x, 1, out=np.zeros(x.shape, int)), TypeError, "Cannot cast ufunc 'add' output"),
    (lambda x: np.frexp(x, out=x), TypeError, "'out' must be a tuple of arrays"),
    (lambda x: np.frexp(x, out=(x,)), ValueError, "exactly one entry per ufunc output"),
    (lambda x: np.dot(x, x.T, out=np.zeros((4, 4), np.float32)), ValueError, "output array is not acceptable"),
    (lambda x: np.clip(x, 0, 1, out=np.zeros(x.shape, int)), TypeError, "Cannot cast"),
    (lambda x: np.putmask(x, x[0] > 0, 1.0), ValueError, "mask and data must be the same size"),
    (lambda x: np.copyto(np.zeros(x.shape, int), x), TypeError, "according to the rule 'same_kind'"),
])
def test_out_errors_are_numpys(call, exc, match, rng):
    x = rng.standard_normal((4, 5))
    with pytest.raises(exc, match=match):
        call(x.copy())
    with pytest.raises(exc, match=match):
        lt.jit(call, backend="interpret")(x.copy())


def test_put_out_of_range_raises_at_run_time(rng):
    f = lt.jit(lambda a, i: np.put(a, i, 1.0), backend="interpret")
    with pytest.raises(IndexError):
        f(rng.standard_normal(4), np.array([1, 9]))


def sqrt_where(x):
    return np.sqrt(x, where=x > 0)


def test_where_without_out_names_the_line(rng):
    with pytest.raises(lt.UnsupportedError, match="without out=") as e:
        lt.jit(sqrt_where, backend="interpret")(rng.standard_normal(3))
    assert "return np.sqrt(x, where=x > 0)" in str(e.value)


# --- shapes, selections, predicates (tracer/np_surface.py) ------------------------------------------------
def vectorized(a, v):
    # one lambda per statement: a lambda on a continuation line of a longer expression is not converted
    # (its source is not read), so a condition on its argument would not trace
    r1 = np.vectorize(lambda x: x * 2 + 1)(a)
    r2 = np.vectorize(lambda x, y: x * y - y)(a, v[:4])
    r3 = np.vectorize(lambda x: (x, x ** 2))(v)
    r4 = np.vectorize(np.sin, otypes=[np.float32])(v)
    r5 = np.vectorize(lambda x: 1.0 if x > 0 else -x)(a)
    r6 = np.vectorize(lambda x, k: x ** k, excluded={1})(v, 3)
    r7 = np.vectorize(lambda x: x + 1)(a[0, 0])
    r8 = np.vectorize(lambda r: r - a.mean())(v)
    r9 = np.vectorize(lambda x: 1 if x > 0 else 0)(v)
    return r1, r2, r3, r4, r5, r6, r7, r8, r9


def surface_cases(rng):
    a, a3 = rng.standard_normal((5, 4)), rng.standard_normal((2, 3, 4))
    b, v = rng.standard_normal((4, 4)), rng.standard_normal(6)
    ints = rng.integers(-3, 4, (5, 4))
    c = complex_matrix(rng, 3, 4)
    return {
        "fortran_order": (lambda a, a3: (np.reshape(a, (4, 5), order="F"), np.ravel(a, order="F"), a.ravel("F"),
                                         a3.reshape(6, 4, order="F"), a.flatten("F"), a.reshape((2, 10), order="C"),
                                         a3.reshape(-1, order="F"), np.reshape(a[:, 1], (5, 1), order="F")), a, a3),
        "array_api_shapes": (lambda a, a3: (np.permute_dims(a3, (1, 2, 0)), np.concat([a, a * 2], axis=1),
                                            np.unstack(a3, axis=1), np.rollaxis(a3, 2), np.rollaxis(a3, 0, 3),
                                            np.rollaxis(a3, -1, 1), np.astype(a, np.float32),
                                            np.moveaxis(a3, [0, 1], [-1, -2]), np.moveaxis(a3, (2, 0), (0, 1)),
                                            np.size(a3, 1), np.size(a3, (0, 2))), a, a3),
        "resize": (lambda a, v: (np.resize(a, (3, 7)), np.resize(v, 9), np.resize(v, (2, 2)), np.resize(a, 0),
                                 np.resize(v[:0], (2, 3))), a, v),
        "choose": (lambda i, a: (np.choose(np.abs(i) % 3, [a, a * 2, -a]), np.choose(i, [a[0], a[1], 5.0], mode="clip"),
                                 np.choose(i, [a, -a], mode="wrap"), (np.abs(i) % 2).choose([a, -a])), ints, a),
        "compress_take": (lambda a: (np.compress([True, False, True, True], a, axis=1), np.compress([0, 1, 1], a),
                                     np.compress([False, True], a, axis=0), a.compress([1, 0, 1, 0, 1], axis=0),
                                     a.take([0, 2, 2], axis=1), a.take([3, -1]), a.take([0, 9], mode="wrap")), a),
        "predicates": (lambda a, c: (np.iscomplex(c), np.isreal(c), np.iscomplex(a), np.isreal(a), np.iscomplexobj(c),
                                     np.isrealobj(a), np.isposinf(1 / a * 1e308 * 1e10), np.isneginf(np.log(a * 0)),
                                     np.array_equal(a, a * 1.0), np.array_equal(a, a[:1]),
                                     np.array_equal(np.log(a), np.log(a), equal_nan=True), np.array_equiv(a, a[0]),
                                     np.array_equiv(a, a[:, :2])), a, c),
        "dtype_queries": (lambda a, i: (a.astype(np.result_type(a, i, 1.0)), np.result_type(i, 2.0),
                                        np.can_cast(a, np.float32), np.can_cast(i.dtype, np.float64, "safe"),
                                        np.isscalar(a), np.isscalar(a[0, 0]), np.isscalar(a.sum()),
                                        np.common_type(a, i), a.itemsize, a.nbytes, a[0].nbytes), a, ints),
        "indices_from": (lambda b: (b[np.diag_indices_from(b)], b[np.tril_indices_from(b, -1)],
                                    b[np.triu_indices_from(b, 1)]), b),
        "layout_copies": (lambda a: (np.ascontiguousarray(a.T), np.asfortranarray(a) * 2, np.ascontiguousarray(a[0, 0]),
                                     np.require(a, np.float32), np.asarray_chkfinite(a), a.view()), a),
        "sort_complex": (lambda v, i: (np.sort_complex(v), np.sort_complex(i.astype(np.int16)),
                                       np.sort_complex(v.astype(np.float32))), v, ints),
        "apply_over_axes": (lambda a3: (np.apply_over_axes(np.sum, a3, [0, 2]), np.apply_over_axes(np.mean, a3, 1),
                                        np.apply_over_axes(lambda x, k: np.max(x, axis=k, keepdims=True), a3, [-1])),
                            a3),
        "vectorize": (vectorized, a, v),
        "emath_complex": (lambda c: (np.emath.sqrt(c), np.emath.log(c), np.emath.log10(c), np.emath.logn(2, c),
                                     np.emath.power(c, 2), np.emath.arcsin(c)), c),
        "python_protocols": (lambda a: (divmod(a, 0.3), divmod(2.0, a + 3), a[0].tolist(), a[:2, :2].tolist(),
                                        np.array(a[1].tolist()) * 2, np.real_if_close(a)), a),
    }


@pytest.mark.parametrize("name", sorted(surface_cases(np.random.default_rng(0))))
def test_surface_against_numpy(name, rng):
    fn, *args = surface_cases(rng)[name]
    same(fn, *args, rtol=1e-12 if name == "emath_complex" else None)


@pytest.mark.slow  # 6 s of CPU: test_surface_against_numpy checks each case on the interpreter
def test_surface_on_cpu(rng):
    cases = surface_cases(rng)
    picked = ["fortran_order", "resize", "choose", "compress_take", "predicates", "vectorize"]
    args = [cases[n][1:] for n in picked]
    same(lambda *xs: tuple(cases[n][0](*x) for n, x in zip(picked, _split(xs, args))),
         *[x for group in args for x in group], backend="cpu")


def _split(xs, groups):
    out, k = [], 0
    for g in groups:
        out.append(xs[k:k + len(g)])
        k += len(g)
    return out


def fortran_writes(a, v):
    r = a.reshape(20, order="F")  # a copy: NumPy's F-order reshape of a C array
    r[0] = 99.0
    col = a[:, 1].reshape((5, 1), order="F")  # a view: the write reaches a
    col[2, 0] = v[0]
    t = a.T.reshape(20, order="F")  # a view of a C array's transpose
    t[3] = v[1]
    return a, r


def test_fortran_reshape_copies_and_views_as_numpy(rng):
    same(fortran_writes, rng.standard_normal((5, 4)), rng.standard_normal(3))


def loss_surface(a, v):
    r = np.reshape(a, (4, 3), order="F") @ np.resize(v, (3, 2))
    ch = np.choose((a > 0).astype(int), [a, a ** 2])
    vec = np.vectorize(lambda x, y: x * y + np.sin(x))(a, v[:4])
    return (np.sum(r ** 2) + np.sum(ch) + np.sum(vec) + np.sum(np.compress([1, 0, 1], a, axis=0) ** 3)
            + np.sum(np.apply_over_axes(np.sum, a ** 2, [1])) + np.sum(np.unstack(a)[1] * v[:4]))


def test_surface_gradient(rng):
    grad_check(loss_surface, [rng.standard_normal((3, 4)), rng.standard_normal(5)], (0, 1))


def set_op(x):
    return np.intersect1d(x[0], x[1])


def emath_real(x):
    return np.emath.sqrt(x)


def polydiv(x):
    return np.polydiv(x[0], x[1])


def real_if_close(x):
    return np.real_if_close(x + 0j)


def vectorize_signature(x):
    return np.vectorize(lambda r: r - r.mean(), signature="(n)->(n)")(x)


def reshape_order_a(x):
    return x.reshape(-1, order="A")


def chkfinite(x):
    return np.asarray_chkfinite(x / x[0, 0])


def test_asarray_chkfinite_raises_at_run_time(rng):
    x = rng.standard_normal((3, 3))
    f = lt.jit(chkfinite, backend="interpret")
    np.testing.assert_array_equal(f(x), chkfinite(x))
    x[0, 0] = 0.0
    with pytest.raises(ValueError, match="must not contain infs or NaNs"):
        f(x)


def test_vectorize_is_one_batched_loop(rng):
    def f(a):
        return np.vectorize(lambda x: x * 2 if x > 0 else np.sin(x))(a)

    a = rng.standard_normal((6, 5))
    same(f, a)
    loops = lt.explain(lt.jit(f, backend="interpret"), a).loops
    assert [loop.kind for loop in loops] == ["vectorized"]


# --- numerical functions (tracer/np_numeric.py) --------------------------------------------------------------
def numeric_cases(rng):
    a, a3 = rng.standard_normal((5, 4)), rng.standard_normal((2, 3, 4))
    b, v, w = rng.standard_normal((4, 4)), rng.standard_normal(12), rng.standard_normal(12)
    spd = b @ b.T + 4 * np.eye(4)
    ints = rng.integers(-300, 300, (5, 4))
    return {
        "poly": (lambda v: (np.poly(v[:3]), np.poly(v[:1]), np.poly(v[:5].astype(np.float32)),
                            np.poly(np.array([1, 2, -3]) * v[0]), np.poly(v[:0]), np.poly(v[:2].astype(int))), v),
        "poly_arithmetic": (lambda v, w: (np.polyadd(v[:3], w[:5]), np.polysub(v[:4], w[:2]), np.polymul(v[:3], w[:4]),
                                          np.polyadd(v[:2], 1.5), np.polymul(v[:3], v[:3].astype(np.float32)),
                                          np.polyval(np.polymul(v[:3], w[:2]), w)), v, w),
        "histogram_edges": (lambda v, w: (np.histogram(v, bins=[-3, -1, 0, 0.5, 3]),
                                          np.histogram(v, bins=np.array([-1.0, 0.0, 1.0]), weights=np.abs(w)),
                                          np.histogram(v, bins=np.sort(w)[::3]),
                                          np.histogram(v, bins=[-2, 0, 2], density=True),
                                          np.histogram(v, bins=[-2.0, -0.5, 2.0], weights=w[:12] * 2, density=True),
                                          np.histogram(v, bins=[0, 1, 2], weights=np.arange(12))), v, w),
        "histogram_bin_edges": (lambda v: (np.histogram_bin_edges(v, bins=4, range=(-3, 3)),
                                           np.histogram_bin_edges(v, bins=5), np.histogram_bin_edges(v, [0, 1, 5]),
                                           np.histogram_bin_edges(v.astype(np.float32), 3),
                                           np.histogram_bin_edges(np.round(v * 3).astype(int), 4)), v),
        "cov_weights": (lambda a, v: (np.cov(a, ddof=0, aweights=np.abs(v[:4])), np.cov(a.T, fweights=[1, 2, 1, 3, 1]),
                                      np.cov(a.T, fweights=[1, 2, 1, 3, 1], aweights=np.abs(v[:5]) + 0.1),
                                      np.cov(a.T, fweights=np.array([1, 2, 0, 3, 1]), bias=True),
                                      np.cov(a[0], a[1], aweights=np.abs(v[:4]), ddof=2),
                                      np.cov(a, rowvar=False, aweights=np.abs(v[:5]), dtype=np.float32)), a, v),
        "interp_complex": (lambda v, w: (np.interp(v, np.sort(w), np.sort(w) + 1j * w),
                                         np.interp(v, np.sort(w), w * (1 - 2j), left=1j, right=2.0),
                                         np.interp(v, np.sort(w), (w + 1j * v).astype(np.complex64), period=2.0)), v, w),
        "tensor_solvers": (lambda s, a3, b: (np.linalg.tensorsolve(s, a3[0, 0]),
                                             np.linalg.tensorsolve(s.reshape(4, 2, 2), a3[0, 0]),
                                             np.linalg.tensorsolve(s.reshape(2, 2, 2, 2), a3[0, 0, :4].reshape(2, 2)),
                                             np.linalg.tensorsolve(s.reshape(2, 2, 4), a3[0, :2, :2], axes=(2,)),
                                             np.linalg.tensorinv(s.reshape(2, 2, 2, 2), ind=2),
                                             np.linalg.tensorinv(s, ind=1), np.linalg.tensordot(a3, b, axes=1),
                                             np.linalg.tensordot(a3, a3, axes=([1, 2], [1, 2]))), spd, a3, b),
        "matvec_vecmat": (lambda b, a3, v: (np.matvec(b, v[:4]), np.vecmat(v[:4], b), np.matvec(a3, v[:4]),
                                            np.vecmat(a3[:, :, :3], a3[0, :3]),
                                            np.vecmat(v[:4] * 1j, b), np.matvec(b * 1j, v[:4])), b, a3, v),
        "einsum_forms": (lambda a, b: (np.einsum(a, [0, 1], b, [1, 2], [0, 2]), np.einsum(a, [0, 1], [1]),
                                       np.einsum(b, [Ellipsis, 0], a, [2, 0], [Ellipsis, 2]),
                                       np.einsum("ij,jk", a, b, optimize=np.einsum_path("ij,jk", a, b)[0]),
                                       np.einsum_path("ij,jk,kl->il", a, b, b, optimize="optimal")), a, b),
        "bitwise_count": (lambda i: (np.bitwise_count(i), np.bitwise_count(i.astype(np.int8)),
                                     np.bitwise_count(i.astype(np.uint16)), np.bitwise_count(i > 0),
                                     np.bitwise_count(np.int64(-2) ** 62 * (i // 1000 + 1)),
                                     np.bitwise_count(i.astype(np.uint64) * np.uint64(2 ** 40 + 3))), ints),
    }


@pytest.mark.parametrize("name", sorted(numeric_cases(np.random.default_rng(0))))
def test_numeric_against_numpy(name, rng):
    fn, *args = numeric_cases(rng)[name]
    same(fn, *args, rtol=1e-12 if name in ("interp_complex", "matvec_vecmat") else None)


@pytest.mark.slow  # one kernel of 20 s of CPU: test_numeric_against_numpy checks each case on the interpreter
def test_numeric_on_cpu(rng):
    cases = numeric_cases(rng)
    picked = ["poly", "histogram_edges", "cov_weights", "tensor_solvers", "bitwise_count"]
    args = [cases[n][1:] for n in picked]
    same(lambda *xs: tuple(cases[n][0](*x) for n, x in zip(picked, _split(xs, args))),
         *[x for group in args for x in group], backend="cpu")


def loss_numeric(a, v, s):
    return (np.sum(np.poly(v[:3]) ** 2) + np.sum(np.polymul(v[:3], v[1:3]) * np.polyadd(v[:2], v[:4]))
            + np.sum(np.cov(a, aweights=np.abs(v[:4]) + 0.5) ** 2) + np.sum(np.cov(a.T, fweights=[1, 2, 1]))
            + np.sum(np.linalg.tensorsolve(s, v[:4]) ** 2) + np.sum(np.linalg.tensorinv(s.reshape(2, 2, 2, 2)))
            + np.sum(np.matvec(s, v[:4]) * np.vecmat(v[:4], s))
            + np.sum(np.interp(v, np.linspace(-3, 3, 7), a.ravel()[:7] * (1 + 2j)).real)
            + np.sum(np.histogram(v, bins=[-1.0, 0.0, 1.0], weights=v ** 2)[0]))


def test_numeric_gradient(rng):
    b = rng.standard_normal((4, 4))
    grad_check(loss_numeric, [rng.standard_normal((3, 4)), rng.standard_normal(6), b @ b.T + 4 * np.eye(4)],
               (0, 1, 2))


def poly_matrix(x):
    return np.poly(x)


def bins_auto(x):
    return np.histogram_bin_edges(x, bins="auto")


def poly_complex(x):
    return np.poly(x[0] + 1j * x[1])


@pytest.mark.parametrize("fn, match, line", [
    (set_op, "length depends on the data", "return np.intersect1d(x[0], x[1])"),
    (emath_real, "dtype that depends on the data", "return np.emath.sqrt(x)"),
    (polydiv, "length depends on the data", "return np.polydiv(x[0], x[1])"),
    (real_if_close, "dtype that depends on the data", "return np.real_if_close(x + 0j)"),
    (vectorize_signature, "signature=", 'return np.vectorize(lambda r: r - r.mean(), signature="(n)->(n)")(x)'),
    (reshape_order_a, "order='A'", 'return x.reshape(-1, order="A")'),
    (poly_matrix, "eigenvalues are complex", "return np.poly(x)"),
    (bins_auto, "number of bins from the data", 'return np.histogram_bin_edges(x, bins="auto")'),
    (poly_complex, "dtype that depends on the data", "return np.poly(x[0] + 1j * x[1])"),
], ids=lambda v: getattr(v, "__name__", None))
def test_refusals_name_the_line(fn, match, line, rng):
    with pytest.raises(lt.UnsupportedError, match=match) as e:
        lt.jit(fn, backend="interpret")(rng.standard_normal((4, 4)))
    assert line in str(e.value)



@pytest.mark.parametrize("call, exc, match", [
    (lambda x: np.histogram(x[0], bins=[0, 2, 1]), ValueError, "must increase monotonically"),
    (lambda x: np.cov(x, fweights=[1, 2, 3]), RuntimeError, "incompatible numbers of samples and fweights"),
    (lambda x: np.cov(x, fweights=[1, 2, 3, 4.5]), TypeError, "fweights must be integer"),
    (lambda x: np.cov(x, aweights=[1, -2, 3, 4]), ValueError, "aweights cannot be negative"),
    (lambda x: np.linalg.tensorsolve(x[:, :3], x[0]), np.linalg.LinAlgError, "prod"),
    (lambda x: np.linalg.tensorinv(x, ind=0), ValueError, "Invalid ind argument"),
    (lambda x: np.polyadd(x, x[0]), Exception, ""),
])
def test_numeric_errors_are_numpys(call, exc, match, rng):
    x = rng.standard_normal((4, 4))
    try:
        call(x.copy())
    except exc as e:
        want = e
    else:
        want = None
    if want is None:  # NumPy computes it: looptrace computes it or refuses clearly
        try:
            lt.jit(call, backend="interpret")(x.copy())
        except lt.UnsupportedError:
            pass
        return
    with pytest.raises(type(want), match=match):
        lt.jit(call, backend="interpret")(x.copy())


# --- weighted quantiles, outs of methods -----------------------------------------------------------------------
def weighted_quantiles(a, w, a3, w3):
    aw = np.abs(w)
    return (np.quantile(a[0], 0.4, weights=aw[:4], method="inverted_cdf"),
            np.quantile(a, [0.1, 0.5, 1.0, 0.0], axis=0, weights=aw[:5], method="inverted_cdf"),
            np.percentile(a, 30, axis=1, weights=np.abs(a), method="inverted_cdf", keepdims=True),
            np.quantile(a3, 0.7, axis=(0, 2), weights=np.abs(w3), method="inverted_cdf"),
            np.quantile(a, 0.5, weights=np.abs(a) * (a > 0), method="inverted_cdf"),  # leading zero weights
            np.quantile(np.where(a > 1.2, np.nan, a), 0.5, axis=0, weights=aw[:5], method="inverted_cdf"),
            np.percentile(np.round(a * 4).astype(int), [20, 80], axis=1, weights=aw[:4], method="inverted_cdf"),
            np.quantile(a.astype(np.float32), np.float32(0.4), weights=aw[:4].astype(np.float32), axis=1,
                        method="inverted_cdf"))


def method_outs(a, b):
    o, c, r, m, d, cl = np.empty(4), np.empty_like(a), np.empty_like(a), np.empty((1, 4)), np.empty((5, 4)), a * 0
    a.sum(axis=0, out=o)
    a.cumsum(axis=1, out=c)
    a.round(1, out=r)
    a.max(axis=0, keepdims=True, out=m)
    a.dot(b, out=d)
    a.clip(-0.5, 0.5, out=cl)
    return o, c, r, m, d, cl


def test_weighted_quantiles_and_method_outs(rng):
    a, b, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 4)), rng.standard_normal(8)
    a3, w3 = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 2))
    same(weighted_quantiles, a, w, a3, w3)
    same(method_outs, a, b)
    same(lambda a, w: np.quantile(a, 0.5, weights=np.abs(w), method="inverted_cdf"),
         np.round(rng.standard_normal(40)), rng.standard_normal(40))  # ties


@pytest.mark.slow  # one kernel of 20 s of CPU: the interpreter's twin above always runs (tests/marks.py)
def test_weighted_quantiles_and_method_outs_on_cpu(rng):
    a, b, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 4)), rng.standard_normal(8)
    a3, w3 = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 2))
    same(lambda a, b, w, a3, w3: (weighted_quantiles(a, w, a3, w3), method_outs(a, b)), a, b, w, a3, w3,
         backend="cpu")


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: np.quantile(x, 0.5, weights=np.abs(x)), ValueError, "Only method 'inverted_cdf' supports weights"),
    (lambda x: np.quantile(x, 0.5, weights=x, method="inverted_cdf"), ValueError, "Weights must be non-negative"),
    (lambda x: np.quantile(x, 0.5, weights=x[:, 0] * 0, axis=0, method="inverted_cdf"), ValueError,
     "Weights included NaN, inf or were all zero"),
    (lambda x: np.quantile(x, 0.5, weights=np.abs(x[0]), method="inverted_cdf"), TypeError,
     "Axis must be specified"),
])
def test_weighted_quantile_errors_are_numpys(call, exc, match, rng):
    raises_as_numpy(call, exc, match, rng.standard_normal((4, 5)))


def qr_raw(x):
    return np.linalg.qr(x, mode="raw")


def test_qr_raw_is_refused_naming_the_line(rng):
    """It raised a ValueError (not a looptrace error)."""
    with pytest.raises(lt.UnsupportedError, match="mode='raw'") as e:
        lt.jit(qr_raw, backend="interpret")(rng.standard_normal((4, 3)))
    assert 'return np.linalg.qr(x, mode="raw")' in str(e.value)


# --- ufunc.reduceat ------------------------------------------------------------------------------------------------
def reduceats(a, v, iv):
    return (np.add.reduceat(v, [0, 2, 5]), np.add.reduceat(v, [0, 4, 1, 5, 8]),
            np.multiply.reduceat(a, [1, 3], axis=0), np.maximum.reduceat(a, [0, 1, 2], axis=1),
            np.minimum.reduceat(iv, [0, 3, 3, 7]), np.add.reduceat(iv, [2, 6]), np.logical_or.reduceat(v > 0, [0, 5]),
            np.add.reduceat(v, [3], dtype=np.float32), np.add.reduceat(a, [0, 2], axis=-1))


def csr_row_sums(data, indptr, iv):
    """A sparse matrix's row sums and maxima from its CSR index pointer (traced)."""
    return (np.add.reduceat(data, indptr[:-1]), np.maximum.reduceat(iv, indptr[:-1]),
            np.add.reduceat(data, indptr[::-1][1:]), np.multiply.reduceat(data, indptr[1:-1]))


def test_reduceat_against_numpy(rng):
    a, v = rng.standard_normal((7, 3)), rng.standard_normal(9)
    iv = rng.integers(-5, 5, 9).astype(np.int32)
    same(reduceats, a, v, iv)
    same(csr_row_sums, v, np.array([0, 2, 2, 5, 9]), iv)


@pytest.mark.slow  # 5 s of CPU: test_reduceat_against_numpy checks them on the interpreter
def test_reduceat_on_cpu(rng):
    a, v = rng.standard_normal((7, 3)), rng.standard_normal(9)
    iv = rng.integers(-5, 5, 9).astype(np.int32)
    same(lambda a, v, iv, p: (reduceats(a, v, iv), csr_row_sums(v, p, iv)), a, v, iv, np.array([0, 3, 3, 4, 9]),
         backend="cpu")


def loss_reduceat(v, a):
    return (np.sum(np.add.reduceat(v, [0, 2, 5]) ** 2) + np.sum(np.multiply.reduceat(a, [0, 1], axis=1))
            + np.sum(np.add.reduceat(v * v, np.array([0, 4, 4, 7])) * v[:4]))


def test_reduceat_gradient(rng):
    grad_check(loss_reduceat, [rng.standard_normal(9), rng.standard_normal((3, 4))], (0, 1))


def test_reduceat_errors(rng):
    v = rng.standard_normal(5)
    for call in (lambda v: np.add.reduceat(v, [0, 7]), lambda v: np.add.reduceat(v, [-1])):
        with pytest.raises(IndexError, match="out-of-bounds"):
            call(v)
        with pytest.raises(IndexError, match="out-of-bounds"):
            lt.jit(call, backend="interpret")(v)
    with pytest.raises(IndexError, match="out-of-bounds"):
        lt.jit(lambda v, p: np.add.reduceat(v, p), backend="interpret")(v, np.array([0, 5]))
    with pytest.raises(lt.UnsupportedError, match="subtract.reduceat"):
        lt.jit(lambda v: np.subtract.reduceat(v, [0, 2]), backend="interpret")(v)


# --- Generator.lognormal and Generator.triangular (tracer/random.py) ---------------------------------------------
def draws(g, a):
    return (g.lognormal(size=3), g.lognormal(a, 0.5), g.lognormal(0.2, np.abs(a[0]) + 0.1, size=(2, 4)), g.lognormal(),
            g.triangular(-2.0, 0.5, 3.0, 5), g.triangular(a - 1, a, a + 2), g.triangular(0.0, 0.0, 1.0),
            g.triangular(-1.0, a[0], 4.0, size=(3, 4)), g.normal(size=2))


@pytest.mark.parametrize("backend", INTERPRET_AND_SLOW_CPU)
def test_lognormal_and_triangular_follow_numpys_stream(backend, rng):
    a = rng.uniform(-0.5, 0.5, (3, 4))
    g_plain, g_jit = np.random.default_rng(11), np.random.default_rng(11)
    want = draws(g_plain, a.copy())
    got = lt.jit(draws, backend=backend)(g_jit, a.copy())
    assert_same(got, want, 1e-13)
    assert g_jit.random() == g_plain.random()  # the generator advanced as far


def loss_draws(mean, left, g):
    return np.sum(g.lognormal(mean, 0.3) ** 2) + np.sum(g.triangular(left, left + 1.0, left + 2.5) * mean)


def test_lognormal_and_triangular_gradients(rng):
    mean, left = rng.standard_normal(4) * 0.3, rng.standard_normal(4)
    grads = lt.grad(lt.jit(loss_draws, backend="interpret"), argnums=(0, 1))(mean, left, np.random.default_rng(5))
    for g, i in zip(grads, (0, 1)):
        want = numerical_grad(lambda m, lf: loss_draws(m, lf, np.random.default_rng(5)), [mean, left], i)
        assert_close(g, want, 1e-6, f"argument {i}")


@pytest.mark.parametrize("call, match", [
    (lambda g, a: g.triangular(a[0] + 1.0, a[0], 3.0), "left > mode"),
    (lambda g, a: g.triangular(0.0, a[0] * 0 + 2.0, 1.0), "mode > right"),
    (lambda g, a: g.triangular(a[0], a[0], a[0]), "left == right"),
])
def test_triangular_errors_are_numpys(call, match, rng):
    a = rng.uniform(0.1, 0.5, 3)
    with pytest.raises(ValueError, match=match):
        call(np.random.default_rng(0), a)
    with pytest.raises(ValueError, match=match):
        lt.jit(call, backend="interpret")(np.random.default_rng(0), a)


# --- np.pad with reflect_type="odd" (tracer/np_surface.py) ------------------------------------------------------
def pads_odd(a, i):
    return (np.pad(a, 1, mode="reflect", reflect_type="odd"), np.pad(a, ((5, 7), (2, 9)), mode="reflect", reflect_type="odd"),
            np.pad(a, ((5, 7), (2, 9)), mode="symmetric", reflect_type="odd"),
            np.pad(a[:1], 3, mode="reflect", reflect_type="odd"),  # a singleton axis: its edge
            np.pad(a[:, 0], (11, 2), mode="symmetric", reflect_type="odd"),
            np.pad(a[:2, :2], 9, mode="reflect", reflect_type="odd"), np.pad(i, 4, mode="reflect", reflect_type="odd"),
            np.pad(a, ((0, 4), (3, 0)), mode="reflect", reflect_type="even"))


def test_pad_odd_reflection(rng):
    a, i = rng.standard_normal((4, 3)), rng.integers(-9, 9, (3, 5))
    same(pads_odd, a, i)
    grad_check(lambda a: np.sum(np.pad(a, ((3, 4), (1, 5)), mode="symmetric", reflect_type="odd") ** 2), [a], (0,))


@pytest.mark.slow  # 8 s of CPU: the interpreter's twin above always runs
def test_pad_odd_reflection_on_cpu(rng):
    a, i = rng.standard_normal((4, 3)), rng.integers(-9, 9, (3, 5))
    same(pads_odd, a, i, backend="cpu")


# --- reductions of ufuncs without a reduction primitive (tracer/np_numeric.py) -----------------------------------
def folds(a, i, x):
    return (np.logaddexp.reduce(a, axis=0), np.logaddexp.reduce(a, axis=None), np.logaddexp2.reduce(a, axis=1, keepdims=True),
            np.logaddexp.reduce(x, axis=0), np.logaddexp.reduce(x, axis=1), np.logaddexp.reduce(a[:0], axis=0),
            np.fmax.reduce(x, axis=1), np.fmin.reduce(x, axis=0), np.fmax.reduce(i, axis=0),
            np.bitwise_or.reduce(i, axis=1), np.bitwise_and.reduce(i, axis=0), np.bitwise_xor.reduce(i, axis=None),
            np.logical_xor.reduce(a > 0, axis=0), np.bitwise_or.reduce(i[:, :0], axis=1),
            np.bitwise_xor.reduce(i.astype(np.uint8), axis=1, keepdims=True), np.bitwise_or.reduce(a > 0, axis=1),
            np.logaddexp2.outer(a[0], a[1]), np.logaddexp.reduce(a.astype(np.float32), axis=1))


def test_ufunc_folds(rng):
    a, i = rng.standard_normal((5, 4)) * 10, rng.integers(-100, 100, (5, 7))
    x = np.array([[-np.inf, -np.inf, 2.0], [1.0, -np.inf, np.inf], [np.nan, 1.0, 0.0]])
    same(folds, a, i, x)
    grad_check(lambda a: np.sum(np.logaddexp.reduce(a, axis=0) ** 2) + np.sum(np.logaddexp2.reduce(a, axis=None)),
               [a], (0,))


def hmm_forward(log_a, log_b, log_pi):
    """The forward algorithm in log space: a recurrence through np.logaddexp.reduce."""
    alpha = log_pi + log_b[0]
    for t in range(1, log_b.shape[0]):
        alpha = np.logaddexp.reduce(alpha[:, None] + log_a, axis=0) + log_b[t]
    return np.logaddexp.reduce(alpha)


@pytest.mark.slow  # 6 s of CPU: test_ufunc_folds checks them on the interpreter
def test_ufunc_folds_on_cpu(rng):
    a, i = rng.standard_normal((5, 4)) * 10, rng.integers(-100, 100, (5, 7))
    x = np.array([[-np.inf, -np.inf, 2.0], [1.0, -np.inf, np.inf], [np.nan, 1.0, 0.0]])
    same(folds, a, i, x, backend="cpu")


def test_logaddexp_reduce_in_a_recurrence(rng):
    log_a, log_b, log_pi = rng.standard_normal((3, 3)), rng.standard_normal((6, 3)), rng.standard_normal(3)
    same(hmm_forward, log_a, log_b, log_pi)
    grad_check(hmm_forward, [log_a, log_b, log_pi], (0, 1, 2))


def test_composed_ufunc_methods_are_refused_clearly(rng):
    with pytest.raises(lt.UnsupportedError, match="np.logaddexp2.accumulate"):
        lt.jit(lambda v: np.logaddexp2.accumulate(v), backend="interpret")(rng.standard_normal(4))
    with pytest.raises(lt.UnsupportedError, match="np.frexp.reduce"):
        lt.jit(lambda v: np.frexp.reduce(v), backend="interpret")(rng.standard_normal(4))
    with pytest.raises(ValueError, match="no identity"):
        lt.jit(lambda v: np.fmax.reduce(v[:0]), backend="interpret")(rng.standard_normal(4))


def test_broadcast_atleast_asanyarray_iterable(rng):
    """np.atleast_1d(a, b) raised a TypeError (one argument only); np.broadcast a TraceError."""
    a, v = rng.standard_normal((5, 4)), rng.standard_normal(4)
    same(lambda a, v: (np.atleast_1d(a[0, 0], v), np.atleast_2d(v, a), np.atleast_1d(v), np.asanyarray(a) * 2,
                       np.iterable(a), np.iterable(a[0, 0]), np.zeros(np.broadcast(a, v).shape) + a,
                       np.broadcast(a, v, 1.0).size), a, v)
    with pytest.raises(lt.UnsupportedError, match="iterating over np.broadcast"):
        lt.jit(lambda a, v: [x for x in np.broadcast(a, v)], backend="interpret")(a, v)


@np.vectorize
def soft_threshold(x, t=0.5):
    if x > t:
        return x - t
    if x < -t:
        return x + t
    return 0.0


clip_unit = np.vectorize(lambda x: min(max(x, -1.0), 1.0), otypes=[np.float32])


def uses_module_vectorize(a):
    return soft_threshold(a), soft_threshold(a, 1.0), clip_unit(a * 3)


def test_a_module_level_np_vectorize_is_traced(rng):
    """An @np.vectorize made outside the function raised a TraceError on traced arguments."""
    a = rng.standard_normal((4, 5))
    same(uses_module_vectorize, a)
    grad_check(lambda a: np.sum(soft_threshold(a) ** 2), [a], (0,))


def test_weighted_quantile_gradient(rng):
    a, w = rng.standard_normal((6, 3)), rng.uniform(0.5, 1.5, 6)

    def loss(a):
        return (np.sum(np.quantile(a, [0.3, 0.8], axis=0, weights=w, method="inverted_cdf") ** 2)
                + np.percentile(a, 40, weights=np.abs(a), method="inverted_cdf"))

    grad_check(loss, [a], (0,))


NAN_METHODS = ["inverted_cdf", "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf", "hazen",
               "weibull", "median_unbiased", "normal_unbiased", "lower", "higher", "midpoint", "nearest"]


@pytest.mark.parametrize("method", NAN_METHODS)
def test_nanquantile_methods(method, rng):
    """np.nanquantile/np.nanpercentile took method='linear' only."""
    a = rng.standard_normal((7, 5))
    a[rng.random((7, 5)) < 0.3] = np.nan
    a[:, 4] = np.nan  # a lane of NaN only

    def f(x):
        return (np.nanquantile(x, [0.0, 0.1, 0.25, 0.5, 0.77, 1.0], axis=0, method=method),
                np.nanquantile(x, 0.3, method=method), np.nanpercentile(x, 50.0, axis=1, method=method),
                np.nanpercentile(x.astype(np.float32), [10, 99.9], axis=0, method=method, keepdims=True))

    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        same(f, a)


@pytest.mark.slow  # 14 s of CPU: the interpreter's twin above checks every method
def test_nanquantile_methods_on_cpu(rng):
    a = rng.standard_normal((6, 4))
    a[rng.random((6, 4)) < 0.25] = np.nan
    with np.errstate(all="ignore"):
        same(lambda x: tuple(np.nanquantile(x, [0.2, 0.6], axis=0, method=m) for m in NAN_METHODS), a, backend="cpu")


def test_nanquantile_gradient(rng):
    b = rng.standard_normal((6, 4))
    grad_check(lambda b: np.sum(np.nanquantile(np.where(b > 1.2, np.nan, b), [0.3, 0.7], axis=0,
                                               method="hazen") ** 2), [b], (0,))
