"""Wrong answers found by the s25 fuzz round (generated programs widened
with masked writes, views written in place, complex arrays, closures,
tuples carried through loops), on the interpreter:

- `c.real` and `c.imag` of a complex array were fresh arrays, so a write
  through them (`c.real[:] += x`, `v = c.imag; v[0] = 1.0`, `c.real = x`)
  never reached `c`; NumPy's are views. They are views now that remake
  `c` from the written part and the other one (tracer/numpy_api.py
  `PartView`); `x.real` of a real array is `x` itself, as in NumPy.

- a reshape that NumPy makes a copy (`X.T.reshape(-1)`) was a view, which
  saw later writes to `X`; tracer/layout.py follows each view's strides so
  NumPy itself decides. Writes through reshape and transpose views (`X.T[1]
  += x`, `out.reshape(-1, 1)[:, 0] += y`) were refused; they write through
  now (tracer/numpy_api.py `DerivedView`).

- a conditional expression on a traced value giving tuples (`lo, hi =
  (mid, hi) if f(mid) < y else (lo, mid)`) was refused; it is chosen
  element by element now (tracer/control.py `choose`).
- a nested function calling a sibling nested function raised NameError
  in a function with an early `return` (tracer/returns.py gave the
  user's top-level statements the last return's line).
- a loop's zero-divisor check was merged with a later check past an
  int() of a float (math.trunc) that raises OverflowError on inf, so that
  error came first (vectorize/simplify.py `merge_checks`).
- x[mask].max() (and min) was refused; it checks at run time for an
  empty selection now (tracer/masked.py).
- `out[i, m] = Y[i, m]` (integers, then a boolean mask) was refused; it
  is x[i][m] as in NumPy (tracer/indexing.py, masked.py).
- a static zero-trip loop holding a `return` (`range(1, n)`, n == 1)
  returned `s = 0` as the loop's np.int32 (the return slot joined with the
  loop's `return`), not Python's int (tracer/control.py).

And a misleading refusal: an early `return` of a tuple holding a slice of
a traced length (`return out[:i + 1], acc` in a loop) was refused as a
returned value that "holds a tuple"; the element is named now."""
import math

import numpy as np
import pytest

import looptrace as lt


def _same(f, *args, backend="interpret"):
    plain, compiled = [np.array(a, copy=True) for a in args], [np.array(a, copy=True) for a in args]
    want = f(*plain)
    got = lt.jit(f, backend=backend)(*compiled)
    if not isinstance(want, tuple):
        got, want = (got,), (want,)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    for g, w in zip(compiled, plain):
        np.testing.assert_array_equal(g, w)


def add_to_real_part(c, x):
    c.real[:] += x
    return c.sum()


def negate_every_other_imag(c):
    c.imag[::2] *= -1.0
    return c.sum()


def write_a_named_part_in_a_loop(c, x):
    v = c.imag
    for i in range(x.shape[0]):
        v[i] = v[i] + x[i]
        c[i] *= 2
    return c, v


def assign_the_parts(c, x):
    c.real = x
    c.imag = 2 * x
    return c


def a_part_sees_later_writes(c):
    r = c.real
    c[0] = 7
    return r


def real_part_of_a_real_array(x):
    x.real[0] = 5.0
    return x.real


def test_writes_through_real_and_imag_reach_the_complex_array():
    c, x = np.array([1 + 2j, 3 - 4j, -1j]), np.array([1.0, 2.0, -0.5])
    _same(add_to_real_part, c, x)
    _same(negate_every_other_imag, c)
    _same(write_a_named_part_in_a_loop, c, x)
    _same(assign_the_parts, c, x)
    _same(a_part_sees_later_writes, c)
    _same(real_part_of_a_real_array, x)
    _same(add_to_real_part, c.astype(np.complex64), x.astype(np.float32))


def set_part_of_a_scalar(c):
    t = c[0]
    t.real = 3.0
    return t


def test_setting_a_part_of_a_numpy_scalar_raises_as_numpy_does():
    with pytest.raises(AttributeError, match="not writable"):
        lt.jit(set_part_of_a_scalar, backend="interpret")(np.array([1 + 2j]))


def early_return_of_a_traced_slice(x, out):
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            return out[:i + 1], 1.0
    return out, 2.0


def test_an_early_return_of_a_traced_length_slice_is_refused_naming_it():
    """The refusal named the returned tuple ("holds a tuple"), not its
    element of a length known only at run time (tracer/carries.py)."""
    x = np.array([0.5, 1.5, 2.0, -1.0] * 10)
    with pytest.raises(lt.LooptraceError, match="returns shape|length of this slice") as e:
        lt.jit(early_return_of_a_traced_slice, backend="interpret")(x, np.ones(40))
    assert "holds a tuple" not in str(e.value)


def reshape_of_a_transpose_is_a_copy(X):
    v = X.T.reshape(-1)
    X[0, 1] = 100.0
    v[0] = -1.0
    return X, v


def reshape_of_rows_is_a_view(X):
    v = X[1:].reshape(-1)
    X[1, 1] = 100.0
    v[0] = -1.0
    w = X[:, ::2].reshape(-1)  # strides that merge: a view as well
    w[1] = -2.0
    return X, v, w


def write_through_transpose(X, x):
    Xt = X.T
    Xt[1] += x
    np.transpose(X, (1, 0))[0, 2] = 7.0
    return X


def write_through_reshape(out, y):
    w = out.reshape(-1, 1)
    w[:, 0] += y
    return out


def write_through_reshape_in_a_loop(X, x):
    v = X.reshape(-1)
    for i in range(x.shape[0]):
        v[i % v.shape[0]] = x[i] + X[0, 0]
    return X


def write_through_a_transposed_row_in_a_loop(X, x):
    v = X.T[0]
    for i in range(x.shape[0]):
        v[i % v.shape[0]] += x[i] * 0.5
        X.T[i % X.shape[1], 0] = x[i]
    return X


def test_reshape_copies_where_numpy_does():
    """X.T.reshape(-1) is a copy in NumPy: it was a view of X, which saw the
    later write to X (tracer/layout.py ghosts decide it as NumPy does)."""
    X = np.arange(12.0).reshape(4, 3)
    _same(reshape_of_a_transpose_is_a_copy, X)
    _same(reshape_of_rows_is_a_view, X)


def test_writes_through_reshape_and_transpose_views_reach_the_array():
    """Refused before ('writing into a view made by reshape/transpose/.T'),
    4% of the s24 scalar generator's programs."""
    X, x = np.arange(12.0).reshape(4, 3), np.array([1.0, 2.0, 3.0, 4.0])
    _same(write_through_transpose, X, np.ones(4))
    _same(write_through_reshape, x, x * 2)
    _same(write_through_reshape_in_a_loop, X, x)
    _same(write_through_a_transposed_row_in_a_loop, X, x)


def bisection(y):
    lo, hi = -3.0, 3.0
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.tanh(mid) < y[0] else (lo, mid)
    return lo, hi


def swap_or_shift(x):
    p, q = np.zeros(2), np.ones(2)
    for i in range(x.shape[0]):
        p, q = (q, p) if x[i] > 0 else (p, q + x[i])
    return p, q


def nested_tuples(x):
    return (x[0], (x[1], 2)) if x[0] > x[1] else (x[1] * 2, (x[0], 3))


def guarded_read_in_a_tuple(x, a):
    s = 0.0
    for i in range(a.shape[0]):
        p, q = (x[a[i]], 1.5) if a[i] < x.shape[0] else (0.5, 2.0)
        s += p * q
    return s


def test_a_conditional_expression_gives_a_tuple():
    """`lo, hi = (mid, hi) if f(mid) < y else (lo, mid)` (bisection) was
    refused: a conditional expression on a traced value gave arrays or
    numbers only; a tuple is now chosen element by element (tracer/control.py)."""
    _same(bisection, np.array([0.3]))
    _same(swap_or_shift, np.array([0.5, -1.0, 2.0, 0.25]))
    _same(nested_tuples, np.array([0.5, -1.0]))
    _same(nested_tuples, np.array([-0.5, 1.0]))
    _same(guarded_read_in_a_tuple, np.array([1.0, 2.0]), np.array([5, 1, 0, 7]))
    with pytest.raises(lt.UnsupportedError, match="same structure"):
        lt.jit(lambda x: (x[0], 1.0) if x[0] > 0 else x[0], backend="interpret")(np.array([1.0]))


def sibling_helpers_and_an_early_return(x):
    def h(t):
        return t + 1.0

    def g(t):
        return h(t) * 2.0

    if x[0] > 5:
        return x[0]
    return g(x[0])


def test_a_nested_function_calls_a_sibling_in_a_function_with_an_early_return():
    """Lowering early returns (tracer/returns.py) gave every top-level
    statement the last return's line, so `def h` had g's line and
    inspect found the wrong source: NameError: name 'h' is not defined."""
    _same(sibling_helpers_and_an_early_return, np.arange(3.0))
    _same(sibling_helpers_and_an_early_return, np.arange(6.0, 9.0))


def division_then_int_then_sqrt(x, u, out):
    r = 0.0
    for i in range(x.shape[0]):
        r += math.trunc(float(u[i]) // float(i))
        out[i] = math.sqrt(x[i] + 1.0)
    return r


def test_a_check_is_not_merged_past_an_op_that_may_raise():
    """vectorize/simplify.py merge_checks moved the zero-divisor check of
    `float(u[i]) // float(i)` past math.trunc's int() (which raises
    OverflowError on inf) to merge it with math.sqrt's domain check: the
    call raised OverflowError where Python raises ZeroDivisionError."""
    with pytest.raises(ZeroDivisionError):
        lt.jit(division_then_int_then_sqrt, backend="interpret")(
            np.array([0.0, -0.5, 1.3]), np.array([100, 99, 19], np.uint8), np.zeros(3))


def masked_extremes(x):
    return x[x > 0].max(), np.min(x[x < 0.5])


def guarded_masked_max(X):
    return X[X > 0].max() if (X > 0).any() else -1.0


def masked_max_in_a_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[x > i].max()
    return s


def test_the_max_of_a_masked_selection_checks_for_nothing_selected():
    """x[mask].max() was refused (it raises when nothing is selected, known
    only at run time), also where a condition guards it; it is a run-time
    check raising NumPy's ValueError now, inside the guarded side only
    (tracer/masked.py, control.py `_risky`)."""
    _same(masked_extremes, np.array([1.0, -2.0, 3.0]))
    _same(guarded_masked_max, np.array([[1.0, -2.0], [3.0, 0.5]]))
    _same(guarded_masked_max, -np.ones((2, 2)))
    _same(masked_max_in_a_loop, np.array([0.5, 2.0, 3.0]))
    for f, x in [(masked_extremes, np.array([-1.0, -2.0])), (masked_max_in_a_loop, np.array([0.5, 2.0, -1.0]))]:
        with pytest.raises(ValueError, match="zero-size array to reduction operation maximum"):
            lt.jit(f, backend="interpret")(x)


def masked_copy_in_rows(out, Y, X):
    for i in range(out.shape[0]):
        m = X[i] > 0
        out[i, m] = Y[i, m]
        out[i, X[i] < -1] += 1.0
    return out, Y[1, X[1] > 0].sum()


def masked_rows_of_a_3d_array(A, X):
    for i in range(A.shape[0]):
        A[i, X[i] > 0, :] = 0.0
    return A


def test_an_integer_then_a_mask_selects_as_row_then_mask():
    """`out[i, m] = Y[i, m]` was refused ('reading through a boolean mask
    gives an array whose shape depends on the data'); NumPy's x[i, mask] is
    x[i][mask], which looptrace supports (tracer/indexing.py)."""
    r = np.random.default_rng(25)
    _same(masked_copy_in_rows, np.zeros((3, 4)), r.standard_normal((3, 4)), r.standard_normal((3, 4)))
    _same(masked_rows_of_a_3d_array, r.standard_normal((3, 4, 2)), r.standard_normal((3, 4)))


def early_return_in_a_zero_trip_loop(b, out):
    s = 0
    for i in range(1, b.shape[0]):
        s += b[i]
        if b[i] > 5:
            return out, s
    return out, s


def test_a_static_zero_trip_loop_with_a_return_keeps_the_entry_types():
    """With one element, `range(1, n)` runs no iteration, known while
    tracing; the loop's `return` made the return slot's type int32 (s in the
    loop), so `s = 0` came out as np.int32(0), not Python's int 0
    (tracer/control.py: the return flag and slot keep their entry values)."""
    b = np.array([3], np.int32)
    _, s = lt.jit(early_return_in_a_zero_trip_loop, backend="interpret")(b, np.zeros(1))
    assert type(s) is int and s == 0
    _same(early_return_in_a_zero_trip_loop, np.array([3, 7], np.int32), np.zeros(2))
