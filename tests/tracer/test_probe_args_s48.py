"""How a jitted function treats its arguments (session 48, helper X): the
layouts NumPy hands out (Fortran order, transposed and reversed views, step
slices, 0-d, size-0 and size-1 axes, broadcast views), the same array passed
twice, overlapping views (refused), read-only arrays, NumPy and Python
scalars (NEP 50 promotion), containers, and one jitted function called again
with other dtypes and layouts. Every check builds the arguments twice, runs
the plain function on one set and the jitted one on the other, and compares
results (values, dtypes, shapes, which arguments a result shares memory
with) and every argument after the call. Interpret mostly; one cpu kernel
serves the layout/dtype re-calls."""
from collections import namedtuple
from dataclasses import dataclass

import numpy as np
import pytest

import looptrace

# complex scalars stored into real arrays, inf * 0: NumPy warns, plain and jitted alike
pytestmark = pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning", "ignore::RuntimeWarning")

# --- the comparison ------------------------------------------------------------------------
def _arrays(tree) -> list:
    if isinstance(tree, np.ndarray):
        return [tree]
    if isinstance(tree, (tuple, list)):
        return [a for t in tree for a in _arrays(t)]
    if isinstance(tree, dict):
        return [a for k in tree for a in _arrays(tree[k])]
    if hasattr(tree, "__dataclass_fields__"):
        return [a for k in tree.__dataclass_fields__ for a in _arrays(getattr(tree, k))]
    return []


def _same(got, exp, rtol):
    if isinstance(exp, (tuple, list)):
        assert type(got) is type(exp) and len(got) == len(exp)
        for g, e in zip(got, exp):
            _same(g, e, rtol)
        return
    assert type(got) is type(exp), (type(got), type(exp))
    if exp is None:
        return
    g, e = np.asarray(got), np.asarray(exp)
    assert (g.dtype, g.shape) == (e.dtype, e.shape)
    if rtol and e.dtype.kind in "fc":
        np.testing.assert_allclose(g, e, rtol=rtol, atol=rtol * 1e-3)
    else:
        np.testing.assert_array_equal(g, e)


def agree(fn, make, jf=None, backend="interpret", rtol=1e-12):
    """make() builds (args, bases): the arguments and any buffer they view,
    built afresh for each run; both runs must end with equal results, equal
    arguments and bases, and results sharing memory with the same arguments.
    Where the plain call raises, the jitted one raises the same class."""
    args_p, bases_p = make()
    args_j, bases_j = make()
    jf = jf or looptrace.jit(fn, backend=backend)
    try:
        with np.errstate(all="ignore"):
            expected = fn(*args_p)
    except Exception as e:  # noqa: BLE001 (NumPy's own error, whichever it is)
        with pytest.raises(type(e)), np.errstate(all="ignore"):
            jf(*args_j)
        return None
    with np.errstate(all="ignore"):
        got = jf(*args_j)
    _same(got, expected, rtol)
    for a_j, a_p in zip(_arrays(list(args_j)) + bases_j, _arrays(list(args_p)) + bases_p):
        assert a_j.dtype == a_p.dtype
        np.testing.assert_array_equal(a_j, a_p)
    ap, aj = _arrays(list(args_p)), _arrays(list(args_j))
    shares_p = [[np.shares_memory(r, a) for a in ap] for r in _arrays(expected)]
    shares_j = [[np.shares_memory(r, a) for a in aj] for r in _arrays(got)]
    assert shares_j == shares_p
    return got


def A(*args, bases=()):
    return list(args), list(bases)


def _rng(seed):
    return np.random.default_rng(seed)


# --- functions as scientists write them ----------------------------------------------------
def cumsum_loop(x):
    out = np.empty_like(x)
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i]
        out[i] = s
    return out


def scale_inplace(x):
    for i in range(x.shape[0]):
        x[i] = 2 * x[i] + 1
    return x


def stencil(x):
    out = np.zeros_like(x)
    for i in range(1, x.shape[0] - 1):
        out[i] = x[i - 1] - 2 * x[i] + x[i + 1]
    return out


def rowsum_colwrite(M):
    out = np.zeros(M.shape[0])
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            out[i] += M[i, j]
    for j in range(M.shape[1]):
        M[:, j] = M[:, j] * (j + 1)
    return out


def views_of(M):
    return M.T, M[0], M[:, ::-1], M


def reductions(x):
    return x.min(), x.sum(), x.mean()


def zero_trips(x):
    s = 1.5
    for i in range(x.shape[0]):
        s = s * x[i]
    return s


_LAYOUTS_1D = {
    "C": lambda: _rng(1).standard_normal(10),
    "reversed": lambda: _rng(1).standard_normal(10)[::-1],
    "step3": lambda: _rng(1).standard_normal(30)[::3],
    "negstep": lambda: _rng(1).standard_normal(30)[::-2],
    "size1": lambda: _rng(1).standard_normal(1),
    "column": lambda: _rng(1).standard_normal((10, 4))[:, 1],
}
_LAYOUTS_2D = {
    "C": lambda: _rng(2).standard_normal((6, 8)),
    "F": lambda: np.asfortranarray(_rng(2).standard_normal((6, 8))),
    "T": lambda: _rng(2).standard_normal((8, 6)).T,
    "cols": lambda: _rng(2).standard_normal((6, 10))[:, 1:9],
    "step_neg": lambda: _rng(2).standard_normal((12, 8))[::2, ::-1],
    "one_row": lambda: _rng(2).standard_normal((1, 8)),
    "one_col": lambda: _rng(2).standard_normal((6, 1)),
}


@pytest.mark.parametrize("layout", list(_LAYOUTS_1D))
def test_loops_over_1d_layouts(layout):
    mk = _LAYOUTS_1D[layout]
    for fn in (cumsum_loop, scale_inplace, stencil):
        agree(fn, lambda: A(mk()))
    agree(zero_trips, lambda: A(mk()), rtol=1e-14)


@pytest.mark.parametrize("layout", list(_LAYOUTS_2D))
def test_loops_and_views_over_2d_layouts(layout):
    mk = _LAYOUTS_2D[layout]
    agree(rowsum_colwrite, lambda: A(mk()), rtol=1e-14)
    agree(views_of, lambda: A(mk()))  # views of a writable argument are views of it


def test_broadcast_views_are_read():
    mk = lambda: np.broadcast_to(_rng(3).standard_normal(8), (6, 8))  # noqa: E731
    agree(reductions, lambda: A(mk()), rtol=1e-14)
    agree(cumsum_loop, lambda: A(np.broadcast_to(_rng(3).standard_normal(1), (5,))))


def test_size_zero_arguments():
    for fn in (cumsum_loop, scale_inplace, stencil, zero_trips):
        agree(fn, lambda: A(np.empty(0)))
    agree(rowsum_colwrite, lambda: A(np.empty((4, 0))))
    jf = looptrace.jit(reductions, backend="interpret")
    with pytest.raises(ValueError, match="zero-size array"):
        reductions(np.empty(0))
    with pytest.raises(ValueError, match="empty axis"):  # a ShapeError (a ValueError) naming the line
        jf(np.empty(0))


@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int16, np.int32, np.float32, np.complex64])
def test_generic_functions_keep_unusual_dtypes(dtype):
    def mk():
        x = _rng(4).standard_normal(9) * 5
        return A((x + 1j * x[::-1]).astype(dtype) if np.dtype(dtype).kind == "c" else x.astype(dtype))

    def add_rev(x):
        return x + x[::-1]

    def bump(x):
        x += 1

    agree(add_rev, mk)
    agree(stencil, mk, rtol=1e-6)
    agree(bump, mk)  # (a bool array += 1: NumPy's casting error)


def test_zero_d_arguments():
    def arith(x, y):
        return x * 2 + y

    def write(x):
        x[()] = 7.0

    agree(arith, lambda: A(np.array(1.5), np.array(2.0)))
    agree(arith, lambda: A(np.array(1.5, np.float32), np.array(2, np.int8)))
    agree(write, lambda: A(np.array(1.5)))
    agree(lambda x: x, lambda: A(np.array(1.5)))


# --- aliasing ------------------------------------------------------------------------------
def shift_loop(a, b):
    for i in range(a.shape[0]):
        a[i] = b[i] + 1


def prefix_via_alias(a, b):
    for i in range(1, a.shape[0]):
        a[i] = a[i] + b[i - 1]


def vec_assign(a, b):
    a[:] = b[::-1] + 1


def iadd_ret(a, b):
    a += b
    return a


def sym_loop(a, b):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            a[i, j] += b[j, i]


def sym_iadd(a, b):
    a += b.T


@pytest.mark.parametrize("fn", [shift_loop, prefix_via_alias, vec_assign, iadd_ret])
def test_one_array_passed_twice_sees_its_own_writes(fn):
    def same():
        x = _rng(5).standard_normal(12)
        return A(x, x, bases=[x])

    def apart():  # interleaved views: no element shared
        x = _rng(5).standard_normal(12)
        return A(x[::2], x[1::2], bases=[x])

    agree(fn, same)
    agree(fn, apart)


def test_a_matrix_passed_twice_with_a_transposed_read():
    def same():
        m = _rng(6).standard_normal((4, 4))
        return A(m, m, bases=[m])

    agree(sym_loop, same)
    agree(sym_iadd, same)


@pytest.mark.parametrize("views", ["shifted", "reversed", "row_of_matrix"])
def test_overlapping_views_written_in_place_are_refused_untouched(views):
    def mk():
        if views == "row_of_matrix":
            m = _rng(7).standard_normal((5, 5))
            return m, m[:, 0], m
        x = _rng(7).standard_normal(12)
        return (x[1:], x[:-1], x) if views == "shifted" else (x, x[::-1], x)

    a, b, base = mk()
    before = base.copy()
    fn = _col_update if views == "row_of_matrix" else shift_loop
    with pytest.raises(ValueError, match="share memory"):
        looptrace.jit(fn, backend="interpret")(a, b)
    np.testing.assert_array_equal(base, before)


def _col_update(M, v):
    for j in range(M.shape[1]):
        M[:, j] += v


# --- read-only arguments -------------------------------------------------------------------
def _read_only(kind):
    if kind == "flag":
        x = _rng(8).standard_normal(8)
        x.flags.writeable = False
        return x
    if kind == "broadcast":
        return np.broadcast_to(_rng(8).standard_normal(1), (8,))
    return np.diagonal(_rng(8).standard_normal((8, 8)))


def _ro_write(x):
    x[0] = 1.0


def _ro_loop_write(x):
    for i in range(x.shape[0]):
        x[i] = x[i] * 2


def _ro_iadd(x):
    x += 1


def _ro_view_write(x):
    v = x[::2]
    v[0] = 5.0


def _ro_read(x):
    y = x.copy()
    y[0] = 5.0
    return x.sum() * 2, x[::-1] + 0, y


@pytest.mark.parametrize("kind", ["flag", "broadcast", "diagonal"])
def test_read_only_arguments_read_and_refuse_writes_as_numpy(kind):
    agree(_ro_read, lambda: A(_read_only(kind)))
    for fn in (_ro_write, _ro_loop_write, _ro_iadd, _ro_view_write):
        with pytest.raises(ValueError, match="read-only"):
            fn(_read_only(kind))
        x = _read_only(kind)
        before = x.copy()
        with pytest.raises(ValueError, match="read-only"):
            looptrace.jit(fn, backend="interpret")(x)
        np.testing.assert_array_equal(x, before)


# --- scalars -------------------------------------------------------------------------------
def _axpy_loop(a, x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = a * x[i]
    return out, a * x + 1


def _store_scalar(x, a):
    for i in range(x.shape[0]):
        x[i] += a


_SCALARS = [3, -3, 1.5, True, 1 + 2j, np.float32(1.5), np.float64(1.5), np.int8(-3), np.uint8(200), np.int16(300),
            np.int64(7), np.bool_(True), np.complex64(1 + 1j), np.array(1.5, np.float32), np.array(-3, np.int8)]
_ARRAYS = {
    "f32": lambda: _rng(9).standard_normal(6).astype(np.float32),
    "i8": lambda: (_rng(9).standard_normal(6) * 10).astype(np.int8),
    "u8": lambda: (np.abs(_rng(9).standard_normal(6)) * 10).astype(np.uint8),
    "f64": lambda: _rng(9).standard_normal(6),
}


@pytest.mark.parametrize("arr", list(_ARRAYS))
def test_scalar_arguments_promote_as_numpy_does(arr):
    """NEP 50: a Python number is weak, a NumPy scalar or 0-d array is not;
    one jitted function per kernel, called with every kind (its cache keys)."""
    mk = _ARRAYS[arr]
    jf = looptrace.jit(_axpy_loop, backend="interpret")
    jg = looptrace.jit(_store_scalar, backend="interpret")
    for s in _SCALARS:
        fresh = (lambda s=s: s.copy() if isinstance(s, np.ndarray) else s)
        agree(_axpy_loop, lambda: A(fresh(), mk()), jf=jf, rtol=1e-6)  # (a complex into a float: TypeError)
        agree(_store_scalar, lambda: A(mk(), fresh()), jf=jg, rtol=1e-6)  # (uint8 += -3: OverflowError)


def test_special_float_scalars():
    def f(x, a):
        return np.maximum(x, a), np.fmax(x, a), a * x, -a

    for a in (np.nan, -0.0, np.inf, np.float32(np.nan), np.float32(-0.0)):
        agree(f, lambda a=a: A(np.array([1.0, np.nan, -0.0, 0.0]), a))


# --- containers ----------------------------------------------------------------------------
_Params = namedtuple("_Params", "W b")


@dataclass
class _State:
    h: np.ndarray
    c: np.ndarray


def test_containers_of_arrays():
    def tuple_sum(t):
        s = 0.0
        for a in t:
            s = s + a.sum()
        return s

    def affine(p, x):
        p.b[:] = p.b * 2
        return p.W @ x + p.b

    def dict_write(d):
        d["a"][:] = 0.0
        d["a"] += d["b"][: d["a"].shape[0]]

    def state_write(s):
        s.c[0] = 9.0
        return s.c.sum() + s.h[::-1]

    def list_write(lst):
        for i in range(lst[0].shape[0]):
            lst[0][i] = lst[1][i] + 1.0

    agree(tuple_sum, lambda: A((_rng(1).standard_normal(3), np.arange(4), np.ones(2, np.float32))), rtol=1e-14)
    agree(tuple_sum, lambda: A(()))
    agree(affine, lambda: A(_Params(np.asfortranarray(_rng(1).standard_normal((3, 4))), _rng(2).standard_normal(3)),
                            _rng(3).standard_normal(8)[::2]), rtol=1e-14)
    agree(state_write, lambda: A(_State(_rng(1).standard_normal(3), _rng(2).standard_normal(3))))

    def disjoint():
        b = _rng(1).standard_normal(6)
        return A({"a": b[:3], "b": b[3:]}, bases=[b])

    def one_array_twice():
        b = _rng(1).standard_normal(6)
        return A([b, b], bases=[b])

    agree(dict_write, disjoint)
    agree(list_write, one_array_twice)


# --- re-calls: one jitted function, many argument kinds ------------------------------------
def _kernel(x, out, a):
    s = 0
    for i in range(x.shape[0]):
        s = s + x[i]
        out[i] = a * out[i] + x[i]
    return s, x * 2 + a


_RECALLS = [
    (lambda: _rng(1).standard_normal(7), lambda n: _rng(5).standard_normal(n), 1.5),
    (lambda: _rng(1).standard_normal(7).astype(np.float32), lambda n: _rng(5).standard_normal(n).astype(np.float32)[::-1], 2),
    (lambda: (_rng(1).standard_normal(7) * 9).astype(np.int64), lambda n: (_rng(5).standard_normal(n) * 9).astype(np.int32),
     np.int8(3)),
    (lambda: _rng(1).standard_normal(21)[::3], lambda n: _rng(5).standard_normal(n) + 0j, np.float32(0.5)),
    (lambda: _rng(9).standard_normal(7)[::-1], lambda n: _rng(5).standard_normal(n), True),
    (lambda: np.empty(0), lambda n: np.empty(n), 1.5),
    (lambda: _rng(1).standard_normal(7), lambda n: _rng(6).standard_normal(n), 2.5),
]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_one_jitted_function_across_dtypes_and_layouts(backend):
    """Stale cache entries would be wrong values: each call gives plain's
    answer. (The cpu kernel compiles once per dtype/layout signature.)"""
    jf = looptrace.jit(_kernel, backend=backend)
    for mkx, mko, a in _RECALLS:
        def mk(mkx=mkx, mko=mko, a=a):
            x = mkx()
            return A(x, mko(x.shape[0]), a)

        agree(_kernel, mk, jf=jf, rtol=1e-5)

    def same():  # `out` is `x`
        x = _rng(1).standard_normal(7)
        return A(x, x, 0.5, bases=[x])

    agree(_kernel, same, jf=jf, rtol=1e-12)
