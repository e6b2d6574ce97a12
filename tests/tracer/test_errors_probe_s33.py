"""What a probe of errors and bad input found (session 33), each against the
plain function: text made of traced values, exception arguments that are
traced, print, a float stored into an integer array, a division by zero
inside `try`, a singular matrix on the interpreter, and a recursion whose
base case is a traced condition."""
import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def _outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as e:  # noqa: BLE001 - the class and message are compared
        return type(e), e


def text_of_a_traced_value(x):
    return len(str(x[0]))


def percent_formatted(x):
    return "v %r" % x[0]


@pytest.mark.parametrize("fn", [text_of_a_traced_value, percent_formatted])
def test_text_of_a_traced_value_is_refused(fn):
    """str()/repr()/% of a traced value gave the tracer's own text
    ("Tracer(%3, ...)": len 35 for plain's 3)."""
    with pytest.raises(lt.TraceError, match="turned into text|str\\(\\) of a traced value"):
        lt.jit(fn, backend="interpret")(np.array([1.5, 2.0]))


def type_names(x, k):
    s = x.sum()
    return type(x[0]).__name__, type(k).__name__, type(x).__name__, type(s) is np.float64


def test_type_of_a_traced_value_is_the_plain_type():
    x = np.array([1.5, 2.0])
    assert lt.jit(type_names, backend="interpret")(x, 3) == type_names(x, 3)


def raise_with_the_index(x):
    for i in range(x.shape[0]):
        if x[i] < 0:
            raise ValueError("negative at", i)
    return x.sum()


def raise_with_a_flag(x):
    for i in range(x.shape[0]):
        if x[i] < 0:
            raise IndexError("negative", bool(x[i] < -5), "here")
    return x.sum()


def assert_with_the_value(x):
    for i in range(x.shape[0]):
        assert x[i] >= 0, x[i]
    return x.sum()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_traced_integer_in_an_exception(backend):
    """The exception's arguments held the dead tracer (str(e) raised
    InternalError): a traced int or bool is its value at the failing run."""
    for fn in (raise_with_the_index, raise_with_a_flag):
        for x in (np.array([1.0, -2.0, -7.0]), np.array([1.0, 2.0]), np.array([3.0, -9.0])):
            want, got = _outcome(fn, x), _outcome(lt.jit(fn, backend=backend), x)
            assert got[0] == want[0]
            if want[0] == "ok":
                assert got[1] == want[1]
            else:
                assert got[1].args == want[1].args and str(got[1]) == str(want[1])


def test_a_traced_float_in_an_exception_is_refused():
    with pytest.raises(lt.TraceError, match="traced float64 value as an argument"):
        lt.jit(assert_with_the_value, backend="interpret")(np.array([1.0, -2.0]))


def prints_a_traced_value(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        print("step", i, s)
    return s


def test_print_of_a_traced_value_prints_as_the_plain_function(capsys):
    """It printed nothing, on any call; now each call prints (tests/tracer/test_print.py)."""
    prints_a_traced_value(np.array([1.0, 2.0]))
    want = capsys.readouterr().out
    lt.jit(prints_a_traced_value, backend="interpret")(np.array([1.0, 2.0]))
    assert capsys.readouterr().out == want == "step 0 1.0\nstep 1 3.0\n"


def store_floats(x, y):
    for i in range(x.shape[0]):
        x[i] = y[i]
    return x


def store_a_product(x, y):
    x[1] = y[0] * 2.5
    return x


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", [store_floats, store_a_product])
def test_a_float_stored_into_an_int_array(fn, backend):
    """NumPy converts it with int(): NaN raises ValueError, an infinity
    OverflowError (INT_MIN was stored, and left in the caller's array)."""
    for y in (np.array([1.5, np.nan, 3.0]), np.array([1.5, -2.7, 3.9]), np.array([np.inf, 1.0, 2.0])):
        x1, x2 = np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64)
        want, got = _outcome(fn, x1, y), _outcome(lt.jit(fn, backend=backend), x2, y)
        assert got[0] == want[0]
        if want[0] == "ok":
            np.testing.assert_array_equal(got[1], want[1])
        else:
            assert str(got[1]).splitlines()[0] == str(want[1])
        np.testing.assert_array_equal(x2, x1)


def divides_in_try(x):
    s = 0.0
    for i in range(x.shape[0]):
        try:
            s += 1.0 / float(x[i])
        except ZeroDivisionError:
            s += 100.0
    return s


def _inverse(v):
    return 1.0 / float(v)


def divides_in_try_through_a_call(x):
    s = 0.0
    for i in range(x.shape[0]):
        try:
            s += _inverse(x[i])
        except ZeroDivisionError:
            s += 100.0
    return s


def test_a_python_division_inside_try_that_catches_it_is_refused():
    """The compiled code raised the ZeroDivisionError plain Python handles.
    Since session 53 `try: s += a / b` picks the handler (checks.try_record);
    a body that calls a function of the user's is still refused."""
    x = np.array([1.0, 0.0, 2.0])
    assert lt.jit(divides_in_try, backend="interpret")(x) == divides_in_try(x)
    with pytest.raises(lt.UnsupportedError, match="ZeroDivisionError at run time inside a `try`"):
        lt.jit(divides_in_try_through_a_call, backend="interpret")(x)


def inverts_each(As, out):
    for k in range(As.shape[0]):
        out[k] = np.linalg.inv(As[k])
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_singular_matrix_leaves_the_writes_before_it(backend):
    """The interpreter left `out` all zeros; plain Python wrote out[0] first."""
    A = np.stack([np.eye(2) * 2, np.zeros((2, 2)), np.eye(2)])
    out = np.zeros((3, 2, 2))
    with pytest.raises(np.linalg.LinAlgError):
        lt.jit(inverts_each, backend=backend)(A, out)
    np.testing.assert_array_equal(out[0], np.eye(2) * 0.5)
    np.testing.assert_array_equal(out[1:], 0.0)


def summed_down(x, i):
    if i == 0:
        return x[0]
    return x[i] + summed_down(x, i - 1)


def starts_at(x, k):
    return summed_down(x, k[0])


def test_a_recursion_on_a_traced_condition_is_a_clear_error():
    """The converted function called itself by its name, which held the
    converted function: each level was converted again and counted as the
    first (a hang, then a bare RecursionError)."""
    with pytest.raises(lt.UnsupportedError, match="calls itself more than"):
        lt.jit(starts_at, backend="interpret")(np.arange(3.0), np.array([2]))


def test_a_recursion_on_an_int_argument_specializes():
    f = lt.jit(summed_down, backend="interpret")
    x = np.arange(5.0)
    assert f(x, 3) == summed_down(x, 3)


def ambiguous_if(x):
    if x > 1:
        return x
    return -x


def breaks_in_a_block(x):
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] > 1.0:
            break
        s += x[i]
    i = 0
    while True:
        if i >= x.shape[0] or x[i] > 1.5:
            break
        if x[i] < 0:
            i += 1
            continue
        s += x[i]
        i += 1
    return s


def test_an_error_in_an_if_condition_quotes_the_if_line():
    with pytest.raises(lt.TraceError, match="ambiguous") as e:
        lt.jit(ambiguous_if, backend="interpret")(np.ones(3))
    assert "if x > 1:" in str(e.value)


def test_break_and_continue_in_blocks_after_the_header_change():
    """Ending the converted if's statement at its header made an invalid
    line range for the ifs the converter makes for break/continue (compile
    raised ValueError: a probe caught it, session 33)."""
    x = np.random.default_rng(0).standard_normal(8)
    assert lt.jit(breaks_in_a_block, backend="interpret")(x) == breaks_in_a_block(x)


def with_defaults(x, s=2.0, *, t=1.0):
    return x * s + t


def test_defaults_changed_after_a_call_are_seen():
    """They were read once, when jit wrapped the function (a probe of the API)."""
    f = lt.jit(with_defaults, backend="interpret")
    x = np.ones(3)
    saved = with_defaults.__defaults__, with_defaults.__kwdefaults__
    try:
        np.testing.assert_array_equal(f(x), with_defaults(x))
        with_defaults.__defaults__, with_defaults.__kwdefaults__ = (10.0,), {"t": 5.0}
        np.testing.assert_array_equal(f(x), with_defaults(x))
        np.testing.assert_array_equal(f(x), [15.0, 15.0, 15.0])
    finally:
        with_defaults.__defaults__, with_defaults.__kwdefaults__ = saved


def zeros_of(x, n):
    return np.zeros((n, 2)) + x


@pytest.mark.parametrize("n", [3.0, True, np.float64(3.0)])
def test_a_shape_that_is_not_an_integer_is_numpys_type_error(n):
    """A float or bool size gave an array; NumPy raises TypeError."""
    with pytest.raises(TypeError) as plain:
        zeros_of(np.ones(2), n)
    with pytest.raises(TypeError) as got:
        lt.jit(zeros_of, backend="interpret")(np.ones(2), n)
    assert str(got.value) == str(plain.value)


def sums_first(x, k):
    s = 0.0
    for i in range(k):
        s += x[i]
    return s


def test_range_of_a_python_bool_and_of_a_float():
    """range(True) runs once (it showed the tracer's text in a TraceError);
    range of a float is Python's TypeError."""
    x = np.arange(1.0, 4.0)
    assert lt.jit(sums_first, backend="interpret")(x, True) == sums_first(x, True) == 1.0
    with pytest.raises(TypeError, match="range\\(\\) arguments must be integers"):
        lt.jit(sums_first, backend="interpret")(x, x[0])
