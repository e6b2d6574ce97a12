"""Wrong answers found by the s24 round's generated scalar programs
(tracer/_generated_scalar.py), on the interpreter:

- np.flip (and fliplr/flipud/rot90, which call it) returned a copy, so a
  write through its result (`np.flip(out)[0] = 3.0`) never reached `out`;
  NumPy's np.flip is a view (tracer/numpy_api.py); np.rot90 by 90 or 270
  degrees lost such writes too, now refused as a write through .T is;
- an array of a run-time length (np.array of a list appended to under a
  condition: its shape holds an ir/core.py Dim) crashed with a TypeError
  when indexed or sliced (`r[:1]`, `r[0]`, `np.flip(r)`), asked its len(),
  reshaped or passed to np.cumsum, and `r.shape[0]` returned the Dim object
  itself as a value; these are now refused with looptrace's UnsupportedError
  naming the user's line (tracer/array.py, indexing.py, runtime.py);
- np.array of such a list whose elements are not float64 numbers gave an
  array of the elements' dtype where no element had been appended; NumPy's
  is float64 of shape (0,) then. Such a list is refused unless dtype= is
  given; one statically empty is float64 (tracer/numpy_api.py);
- an exception Python raises on Python values (`0.0 / 0.0`, `0.0 ** -1`,
  `math.log(0.0)`) in code that may not run, the untaken side of a
  conditional expression on a traced condition, a branch of a traced `if`,
  the body of a loop of zero trips, was raised while tracing, so the call
  raised where the plain function returns. It is now a run-time check
  there, as a `raise` would be (tracer/checks.py `deferring`);
- a scalar name rebound in a loop of no iteration, known while tracing
  (`for i in range(1, n)` with n == 1), left the loop with the type an
  iteration would give it: `q = 0; q = q + b[i]` an int32, where Python
  keeps the int 0 (int64 as an array); it keeps its entry value now
  (tracer/control.py `_bind_outputs`);
- a float power of Python floats with base 0.0 and a negative exponent
  (`float(x[i]) ** -1`) gave inf where Python raises ZeroDivisionError
  (tracer/semantics.py, python_numbers.py);
- `z[i] ** 2` of a NumPy bool scalar was an int8 (np.square, NumPy's fast
  path for arrays only) where NumPy's scalar power gives an int64
  (tracer/methods.py);
- the run-time check of a Python division (or power) in the untaken side
  of a conditional expression, or in the lazy operand of `and` or of a
  chained comparison, ran anyway (tracer/control.py `_risky`)."""
import math

import numpy as np
import pytest

import looptrace as lt


def _same(f, *args, backend="interpret"):
    plain, compiled = [np.array(a, copy=True) for a in args], [np.array(a, copy=True) for a in args]
    want = f(*plain)
    got = lt.jit(f, backend=backend)(*compiled)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    for g, w in zip(compiled, plain):
        np.testing.assert_array_equal(g, w)


def write_through_flip(out):
    np.flip(out)[0] = 9.0
    return out.sum()


def write_through_named_flip(X, y):
    v = np.flip(X, axis=1)
    v[0] = y
    w = np.flipud(X)
    w[:, 0] += 1.0
    return X[0, 0] + v[1, 1]


def write_through_rot90(X):
    np.rot90(X, 2)[0, 1] = -5.0
    v = np.rot90(X, 0)
    v[1] += 1.0
    return X


def write_through_turned_rot90(X):
    np.rot90(X)[0, 1] = -5.0
    return X


def test_a_write_through_np_flip_reaches_the_array():
    _same(write_through_flip, np.arange(4.0))
    _same(write_through_named_flip, np.arange(12.0).reshape(3, 4), np.array([1.0, 2.0, 3.0, 4.0]))
    _same(write_through_rot90, np.arange(12.0).reshape(3, 4))


def test_a_write_through_a_turned_rot90_reaches_the_array():
    """np.rot90 by 90 degrees is a transposed view: writes through it were
    silently lost, then refused as through .T; since the s25 round they
    write through (tests/tracer/test_fuzz_s25.py)."""
    _same(write_through_turned_rot90, np.arange(12.0).reshape(3, 4))


def _grown(x):
    lst = []
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            lst.append(x[i] * 2.0)
    return np.array(lst)


def slice_of_grown(x):
    r = _grown(x)
    return r[:1]


def item_of_grown(x):
    return _grown(x)[-1]


def len_of_grown(x):
    return len(_grown(x))


def shape_of_grown(x):
    return _grown(x).shape[0]


def cumsum_of_grown(x):
    return np.cumsum(_grown(x))


def reshape_of_grown(x):
    return _grown(x).reshape(-1, 1)


def flip_of_grown(x):
    return np.flip(_grown(x))


def early_return_of_grown(x, z):
    r = _grown(x)
    for i in range(x.shape[0]):
        if z[i]:
            return x[i:], r
    return x, r


def loop_return_of_grown(x, z):
    r = _grown(x)
    for i in range(x.shape[0]):
        return x[::2], r
    return x, r


def sum_of_grown(x):
    r = _grown(x)
    return r.sum() + (r * 2.0).max() + r @ r


@pytest.mark.parametrize("f", [slice_of_grown, item_of_grown, len_of_grown, shape_of_grown, cumsum_of_grown,
                               reshape_of_grown, flip_of_grown])
def test_a_run_time_length_is_refused_clearly(f):
    with pytest.raises(lt.UnsupportedError, match="known only at run time") as e:
        lt.jit(f, backend="interpret")(np.array([1.0, 0.0, 2.0, 3.0]))
    assert "test_fuzz_s24.py" in str(e.value)


def test_an_early_return_of_a_run_time_length_is_refused_clearly():
    """The path that does not return it needs a placeholder of its shape (tracer/merge.py)."""
    with pytest.raises(lt.UnsupportedError, match="known only at run time"):
        lt.jit(early_return_of_grown, backend="interpret")(np.array([1.0, 0.0]), np.array([False, True]))
    with pytest.raises(lt.UnsupportedError, match="known only at run time"):  # a loop's carry (carries.py)
        lt.jit(loop_return_of_grown, backend="interpret")(np.array([1.0, 0.0]), np.array([False, True]))


def test_whole_array_uses_of_a_run_time_length_still_run():
    _same(sum_of_grown, np.array([1.0, 0.0, 2.0, 3.0]))


def grown_ints(x, a):
    lst = []
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            lst.append(a[i])
    return np.array(lst)


def grown_ints_typed(x, a):
    lst = []
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            lst.append(a[i])
    return np.array(lst, dtype=np.int64)


def never_grown(x, a):
    lst = []
    for i in range(1, x.shape[0]):
        lst.append(a[i])
    return np.array(lst)


def test_an_empty_list_array_is_float64_as_numpy_makes_it():
    for x in (np.array([0.0, 0.0]), np.array([1.0, 0.0])):  # (returned: its dtype picked after the run)
        got = lt.jit(grown_ints, backend="interpret")(x, np.array([3, 4]))
        want = grown_ints(x, np.array([3, 4]))
        assert got.dtype == want.dtype and np.array_equal(got, want)
    for x in (np.array([0.0, 0.0]), np.array([1.0, 0.0])):
        got = lt.jit(grown_ints_typed, backend="interpret")(x, np.array([3, 4]))
        want = grown_ints_typed(x, np.array([3, 4]))
        assert got.dtype == want.dtype and np.array_equal(got, want)
    got = lt.jit(never_grown, backend="interpret")(np.array([1.0]), np.array([3]))
    assert got.dtype == np.float64 and got.shape == (0,)


def constant_error_in_untaken_side(x):
    r = 0.0
    for i in range(x.shape[0]):
        r += (0.0 / 0.0) if x[i] > 5.0 else x[i]
    return r


def constant_error_in_zero_trip_body(x):
    r = 0.0
    for i in range(1, x.shape[0]):
        r += 0.0 ** -1 + x[i]
    return r


def constant_error_in_untaken_branch(x):
    r = 0.0
    if x[0] > 5.0:
        r = math.log(0.0)
        x[0] = 1.0
    else:
        r = 2.0
    return r, x


def _outcome(f, x):
    try:
        return "value", f(x.copy())
    except Exception as e:  # noqa: BLE001 - the outcome is compared
        return "raised", type(e)


@pytest.mark.parametrize("f", [constant_error_in_untaken_side, constant_error_in_zero_trip_body,
                               constant_error_in_untaken_branch])
def test_a_python_error_is_raised_only_where_its_code_runs(f):
    for x in (np.array([1.0]), np.array([6.0, 2.0]), np.array([1.0, 2.0])):
        want = _outcome(f, x)
        got = _outcome(lt.jit(f, backend="interpret"), x)
        assert got[0] == want[0], (got, want)
        assert got[1] is want[1] if want[0] == "raised" else repr(got[1]) == repr(want[1]), (got, want)


def zero_trip_keeps_types(b):
    q = 0
    p = 0.5
    for i in range(1, b.shape[0]):
        q = q + b[i]
        p = np.float32(p) * 2
    return q, p


def test_a_static_zero_trip_loop_keeps_the_names_types():
    for b in (np.array([3], dtype=np.int32), np.array([3, 4], dtype=np.int32)):
        got = lt.jit(zero_trip_keeps_types, backend="interpret")(b.copy())
        want = zero_trip_keeps_types(b.copy())
        assert [np.asarray(g).dtype for g in got] == [np.asarray(w).dtype for w in want]
        assert got == want


def python_float_powers(x):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += float(x[i]) ** -1 + abs(float(x[i])) ** -1.5
    return acc


def test_a_python_float_power_of_zero_to_a_negative_exponent_raises():
    """0.0 ** -1 of Python floats raises ZeroDivisionError in Python (NumPy's
    float64 gives inf): the same run-time check as a Python float division
    (tracer/python_numbers.py); nonzero bases run unchecked in value."""
    f = lt.jit(python_float_powers, backend="interpret")
    with pytest.raises(ZeroDivisionError, match="negative power"):
        f(np.array([1.0, 0.0]))
    assert f(np.array([2.0, -4.0])) == python_float_powers(np.array([2.0, -4.0]))


def bool_scalar_squares(z):
    t = 0
    for i in range(z.shape[0]):
        t = t + z[i] ** 2
    return t, z[0] ** 2, z ** 2


def test_a_bool_scalar_squared_is_numpy_s_int64():
    """np.True_ ** 2 is np.power's int64; only an array's ** 2 is np.square
    (int8 for bool). A NumPy scalar took the array's fast path (tracer/
    methods.py `_fast_power`), so a sum of them was an int8 and could wrap."""
    z = np.array([True, True, False])
    got = lt.jit(bool_scalar_squares, backend="interpret")(z)
    want = bool_scalar_squares(z)
    assert [np.asarray(g).dtype for g in got] == [np.asarray(w).dtype for w in want]
    assert all(np.array_equal(g, w) for g, w in zip(got, want))


def zero_trip_loss(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + np.sin(w * x[i]) ** 2
    return s


def test_a_static_zero_trip_loop_keeps_a_traced_value_for_grad():
    """The kept entry value is a traced constant (a Python float stays weak),
    so grad of a loss that is the entry value still differentiates (zeros)."""
    gx, gw = lt.grad(zero_trip_loss, argnums=(0, 1))(np.zeros(0), 0.5)
    assert gx.shape == (0,) and gw == 0.0
    assert lt.jit(zero_trip_loss, backend="interpret")(np.zeros(0), 0.5) == 0.0


def division_in_untaken_side(x):
    r = 0.0
    for i in range(x.shape[0]):
        r += (1.0 / float(i)) if x[i] > 0 else 1.0
    return r


def power_in_lazy_comparison(x):
    r = 0.0
    for i in range(x.shape[0]):
        r += 1.0 if x[i] < 0 < float(i) ** -1 else 2.0
    return r


@pytest.mark.parametrize("f", [division_in_untaken_side, power_in_lazy_comparison])
def test_a_python_division_check_runs_only_on_its_side(f):
    """The zero-divisor check of a Python division added after the trace
    (tracer/python_numbers.py) sat after an op that the conditional
    expression had inlined into a select, so it ran where the side was not
    chosen: the side is now a `cond` (tracer/control.py `_risky`)."""
    for x in (np.array([-1.0]), np.array([1.0]), np.array([1.0, 2.0]), np.array([-1.0, 2.0])):
        want = _outcome(f, x)
        got = _outcome(lt.jit(f, backend="interpret"), x)
        assert got[0] == want[0] and (got[1] is want[1] if want[0] == "raised" else got[1] == want[1]), (x, got, want)
