"""Scalars passed where a function expects arrays (probe Z, session 42).

- A NumPy scalar is not a 0-d array: after a call with a 0-d array (written
  in place by `x *= 3`), a call with np.float64 of the same dtype has its own
  compiled version (api.py `_key`), so `x *= 3` rebinds as in Python.
- A traced Python number has only its type's attributes: `x.sum()`,
  `x.shape` raise Python's AttributeError, `x[0]` and `len(x)` its TypeError,
  `hasattr(x, "shape")` is False; NumPy scalars keep ndarray's.
- np.clip(x, lo, hi, out=x): NumPy's exception classes (its ufunc casting
  error for an int or bool x and float bounds, TypeError for a number out).
"""
import itertools

import numpy as np
import pytest

import looptrace


def scale_in_place(x):
    x *= 3
    x += 1
    return x


def _kinds():
    return [1.5, 2, True, np.float64(1.5), np.float32(1.5), np.int64(2), np.bool_(True),
            np.array(1.3), np.array(1.3, np.float32), np.array(2), np.array(2, np.int32)]


def _outcome(fn, a):
    try:
        r = fn(a)
    except Exception as e:  # noqa: BLE001  (the class is compared)
        return "raises", type(e)
    return type(r), np.asarray(r).dtype, np.asarray(r).tolist(), np.asarray(a).tolist()


def _same(plain, jitted):
    if plain[0] == "raises":
        return jitted[0] == "raises" and issubclass(jitted[1], plain[1])
    return plain == jitted


@pytest.mark.parametrize("first,second", list(itertools.product(range(len(_kinds())), repeat=2)))
def test_scalar_kinds_in_every_order_interpret(first, second):
    jf = looptrace.jit(scale_in_place, backend="interpret")
    for k in (first, second):
        plain, jitted = _outcome(scale_in_place, _kinds()[k]), _outcome(jf, _kinds()[k])
        assert _same(plain, jitted), (_kinds()[first], _kinds()[second], plain, jitted)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_numpy_scalar_after_0d_array_rebinds(backend):
    jf = looptrace.jit(scale_in_place, backend=backend)
    a = np.array(1.3)
    assert jf(a) == pytest.approx(4.9) and a == pytest.approx(4.9)  # written in place
    assert jf(np.float64(1.5)) == 5.5  # was: ValueError "assignment destination is read-only"
    b = np.array(2.5)
    assert jf(b) == 8.5 and b == 8.5


def total_and_span(x):
    return x.sum(), x.max() - x.min()


def first_axis(x):
    return x.shape[0]


def zeros_then_loop(x):
    y = np.zeros_like(x)
    for i in range(x.shape[0]):
        y[i] = x[i]
    return y


def first_item(x):
    return x[0]


def store_first(x):
    x[0] = 1
    return x


def length(x):
    return len(x)


def has_shape(x):
    return hasattr(x, "shape"), getattr(x, "ndim", -1)


def numpy_results_keep_shape(x):
    return np.sum(x).shape, np.sqrt(x).shape, np.float64(x).shape, (x * 2).real


PROGRAMS = [total_and_span, first_axis, zeros_then_loop, first_item, store_first, length, has_shape,
            numpy_results_keep_shape]


@pytest.mark.parametrize("fn", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [1.5, 3, False, np.float64(1.5), np.int64(3)], ids=repr)
def test_python_and_numpy_scalars_as_the_plain_function(fn, x):
    try:
        want = fn(x)
    except Exception as e:  # noqa: BLE001
        with pytest.raises(type(e)) as got:
            looptrace.jit(fn, backend="interpret")(x)
        if isinstance(e, (AttributeError, TypeError)) and type(x) in (int, float, bool, np.float64):
            assert str(got.value) == str(e)  # Python's own message
        return
    assert looptrace.jit(fn, backend="interpret")(x) == want


def test_python_float_attribute_error_names_the_line():
    with pytest.raises(AttributeError, match="'float' object has no attribute 'sum'") as e:
        looptrace.jit(total_and_span, backend="interpret")(1.5)
    assert any("return x.sum(), x.max() - x.min()" in n for n in getattr(e.value, "__notes__", ()))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_python_float_where_an_array_is_needed(backend):
    with pytest.raises(AttributeError, match="'float' object has no attribute 'shape'"):
        looptrace.jit(zeros_then_loop, backend=backend)(1.5)  # was: a bare IndexError
    with pytest.raises(AttributeError, match="'float' object has no attribute 'sum'"):
        looptrace.jit(total_and_span, backend=backend)(1.5)  # was: (1.5, 0.0)
    assert looptrace.jit(total_and_span, backend=backend)(np.float64(1.5)) == (1.5, 0.0)


def loop_index_is_an_int(x):
    t = 0.0
    for i in range(x.shape[0]):
        t += x[i] * (i.real if hasattr(i, "real") else 100) + hasattr(i, "shape") + getattr(i, "ndim", 7)
    return t


def test_range_index_is_a_python_int(rng):
    x = rng.standard_normal(5)
    assert looptrace.jit(loop_index_is_an_int, backend="interpret")(x) == pytest.approx(loop_index_is_an_int(x))


def clip_in_place(x):
    return np.clip(x, 0.5, 1.5, out=x)


def scale_bool_in_place(x):
    x *= 3
    return x


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,x", [(clip_in_place, np.arange(3)), (clip_in_place, np.array([True, False])),
                                  (scale_bool_in_place, np.array(True)), (scale_bool_in_place, np.array([True]))])
def test_ufunc_output_casting_is_numpys_class(backend, fn, x):
    with pytest.raises(TypeError) as plain:
        fn(x.copy())
    with pytest.raises(type(plain.value)) as got:  # numpy's _UFuncOutputCastingError (a UFuncTypeError)
        looptrace.jit(fn, backend=backend)(x.copy())
    assert isinstance(got.value, looptrace.TraceTypeError)
    assert str(plain.value) in str(got.value)


@pytest.mark.parametrize("x", [1.5, 2, True, np.float64(1.5), np.int64(2)], ids=repr)
def test_out_that_is_a_number_is_numpys_type_error(x):
    with pytest.raises(TypeError, match="return arrays must be of ArrayType"):
        clip_in_place(x)
    with pytest.raises(TypeError, match="return arrays must be of ArrayType"):
        looptrace.jit(clip_in_place, backend="interpret")(x)  # was: a value, or ValueError (read-only)


def test_out_that_is_a_list_is_numpys_type_error():
    with pytest.raises(TypeError, match="return arrays must be of ArrayType"):
        clip_in_place([1.5, 0.2])
    with pytest.raises(TypeError, match="return arrays must be of ArrayType"):
        looptrace.jit(clip_in_place, backend="interpret")([1.5, 0.2])  # was: UnsupportedError
