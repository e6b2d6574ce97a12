"""What probe_s54 (bench/corpus/probe_s54.py) checks beyond the corpus judge.
The kernels themselves run through tests/test_corpus.py (interpret), whose
judge gives both calls deep copies of the arguments: a deep copy makes every
array a fresh writable contiguous one and cuts the aliasing between views of
one buffer. Here the arguments are built twice instead (`fresh_args`), so the
jitted call sees the caller's layouts (Fortran order, stepped and reversed
views, read-only flags) and aliasing (the same array twice, overlapping
views); the types of returned scalars (Python int or float, NumPy float32,
0-d arrays) are compared too; and a handful of the probe's semantics are
differentiated against central finite differences in float64.
"""
import numpy as np
import pytest

import looptrace
from bench.corpus import probe_s54 as probe
from bench.corpus.run import same

KERNELS = {k.name: k for k in probe.KERNELS}


def kinds(v):
    """The types a caller sees: tuple/list structure, ndarray dtype and ndim, scalar types."""
    if isinstance(v, (tuple, list)):
        return type(v), tuple(kinds(e) for e in v)
    if isinstance(v, np.ndarray):
        return np.ndarray, v.dtype, v.ndim
    return type(v)


def arrays(v):
    if isinstance(v, (tuple, list)):
        return [a for e in v for a in arrays(e)]
    return [v] if isinstance(v, np.ndarray) else []


def sharing(results, args):
    """For each result array and each argument array: the argument itself, a view of it, or neither."""
    return [tuple("is" if r is a else "view" if np.shares_memory(r, a) else "-" for a in arrays(list(args)))
            for r in arrays(results)]


def run_fresh(name, check_layout=None):
    """Plain and interpret-jitted calls on two builds of the arguments: values, types, argument
    effects and which results are (views of) arguments must agree."""
    k = KERNELS[name]
    plain_args, jit_args = probe.fresh_args(k)
    if check_layout is not None:
        assert check_layout(*jit_args), "the arguments do not have the layout this test is about"
    with np.errstate(all="ignore"):
        want = k.fn(*plain_args)
        got = looptrace.jit(k.fn, backend="interpret")(*jit_args)
    assert same(got, want, k.rtol, k.atol)
    assert kinds(got) == kinds(want)
    for p, j in zip(plain_args, jit_args):
        if isinstance(p, np.ndarray):
            assert same(j, p, k.rtol, k.atol)
    assert sharing(got, jit_args) == sharing(want, plain_args)


LAYOUTS = {
    "fortran_matvec": lambda A, x: A.flags.f_contiguous and not A.flags.c_contiguous,
    "strided_argument_write": lambda x, y: x.strides[0] == 3 * x.itemsize,
    "reversed_argument_scan": lambda x: x.strides[0] < 0,
    "readonly_argument": lambda x, w: not x.flags.writeable and not w.flags.writeable,
    "axpy_in_place": lambda y, x, a: y is x,
    "matmul_assign_self": lambda A, B: A is B,
    "swap_same_array": lambda x, y: x is y,
    "list_and_tuple_arguments": lambda xs, shape, w: isinstance(xs, list) and isinstance(shape, tuple),
    "numpy_scalar_arguments": lambda x, f32, f64, i8: isinstance(f32, np.float32) and isinstance(i8, np.int8),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_caller_layouts_and_aliasing(name):
    run_fresh(name, LAYOUTS[name])


@pytest.mark.parametrize("name", ["zero_d_arrays", "float32_statistics", "int_becomes_float", "mixed_type_carries",
                                  "numpy_scalar_carry", "tuple_carries", "int8_sum_prod", "sign_abs_edges",
                                  "zero_trip_previous_value", "argmax_loop_ties", "builtin_sum_max_on_arrays"])
def test_result_types(name):
    run_fresh(name)


@pytest.mark.parametrize("x", [np.ones(5), -np.ones(5), np.array([1.0, -1.0, 1.0])],
                         ids=["int_stays", "float_from_start", "float_later"])
def test_carry_type_that_depends_on_the_data(x):
    """v = 1; v = v * 2 or v * 0.5: a Python int until the first 0.5 branch, as in Python."""
    f = probe.data_dependent_carry_type
    want = f(x.copy())
    got = looptrace.jit(f, backend="interpret")(x.copy())
    assert type(got) is type(want) and got == want


@pytest.mark.parametrize("name", ["write_reads_reversed", "shifted_argument_views", "ufunc_out_overlap"])
def test_overlapping_argument_views_are_refused_before_any_write(name):
    """Overlapping views passed as two arguments, one written in place: a ValueError naming both,
    and the caller's buffer untouched."""
    k = KERNELS[name]
    args = k.make(np.random.default_rng(0), "test")
    base = args[0].base if args[0].base is not None else args[0]
    before = base.copy()
    with pytest.raises(ValueError, match="share memory"):
        looptrace.jit(k.fn, backend="interpret")(*args)
    np.testing.assert_array_equal(base, before)


def central_differences(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        g[i] = (f(up) - f(down)) / (2 * h)
    return g


def gather_repeats(x, idx):
    return np.sum(x[idx] ** 2)


def scatter_last_wins(v, x, idx):
    y = x.copy()
    y[idx] += v
    return np.sum(y ** 2)


def interp_loss(x, xp, fp):
    return np.sum(np.interp(x, xp, fp) ** 2)


def reversed_tuple_recurrence(x):
    a, b = 0.0, 1.0
    for i in reversed(range(x.shape[0])):
        a, b = b, a * 0.5 + b * np.tanh(x[i])
    return a + b * b


def axis0_ops(X):
    return np.sum(np.cumsum(X, axis=0) ** 2) + np.sum(np.sort(X, axis=0)[0] * 3.0) + np.sum(np.clip(X, -0.5, 0.5) ** 2)


def view_recurrence_loss(x):
    y = x.copy()
    v = y[1:]
    for i in range(1, v.shape[0]):
        v[i] = v[i - 1] * 0.5 + np.sin(y[i])
    return np.sum(y ** 2)


def stepped_writes_loss(x, y):
    z = x.copy()
    z[::2] = y[:(x.shape[0] + 1) // 2] * z[::2]
    z[::-1][:3] = 0.0
    return np.sum(z ** 3)


def _grad_cases():
    r = np.random.default_rng(1)
    x = r.standard_normal(7)
    idx = np.array([0, 2, 2, -1, 5, 0, 0])  # repeats and a negative index
    xp = np.cumsum(r.random(6) + 0.1)
    fp = r.standard_normal(6)
    xi = r.uniform(xp[0] + 0.01, xp[-1] - 0.01, 9)  # inside, away from the edges
    xi = xi[np.min(np.abs(xi[:, None] - xp[None, :]), axis=1) > 1e-3]  # and from the knots
    return {
        "gather_repeats": (gather_repeats, (x, idx), 0),
        "scatter_last_wins": (scatter_last_wins, (r.standard_normal(7), x, idx), 0),
        "interp_x": (interp_loss, (xi, xp, fp), 0),
        "interp_fp": (interp_loss, (xi, xp, fp), 2),
        "reversed_tuple_recurrence": (reversed_tuple_recurrence, (x,), 0),
        "axis0_ops": (axis0_ops, (r.standard_normal((5, 3)),), 0),
        "view_recurrence": (view_recurrence_loss, (x,), 0),
        "stepped_writes": (stepped_writes_loss, (x, r.standard_normal(7)), 1),
    }


GRAD_CASES = _grad_cases()


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradient_against_central_differences(name):
    fn, args, argnum = GRAD_CASES[name]

    def at(p):
        a = list(args)
        a[argnum] = p
        return fn(*a)

    want = central_differences(at, args[argnum])
    got = looptrace.grad(looptrace.jit(fn, backend="interpret"), argnums=argnum)(*args)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def inverse_of_singular(A):
    S = A.copy()
    S[1] = S[0]
    return np.linalg.inv(S)


def test_inverse_of_a_singular_matrix_raises_numpys_error():
    A = np.random.default_rng(2).standard_normal((3, 3))
    with pytest.raises(np.linalg.LinAlgError):
        looptrace.jit(inverse_of_singular, backend="interpret")(A)
