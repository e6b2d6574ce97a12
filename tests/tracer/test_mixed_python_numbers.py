"""A scalar that is a Python number on some runs only: `v = x[0] if c > 0
else 1.5` is a NumPy float64 where c > 0 and a Python float elsewhere.
`v / 0.0` raises ZeroDivisionError in the plain function only where `v` is
the Python float (NumPy's gives inf); looptrace gave inf on every run. The
traced value now carries a flag, true where it is the Python number
(tracer/python_numbers.py `mixed_ufunc`), and a division by zero raises
there. Also: np.divide(a, 0.0) of two Python floats is NumPy's (inf, a
np.float64), not Python's `/` (looptrace raised ZeroDivisionError)."""
import warnings

import numpy as np
import pytest

import looptrace as lt


def div_ifexp(x, c):
    v = x[0] if c > 0 else 1.5
    return v / 0.0


def floordiv_if_statement(x, c):
    if c > 0:
        v = x[0]
    else:
        v = 1.5
    w = v * 2.0 - 1.0
    return w // (c - c)


def int_floordiv_mod(xi, c):
    v = xi[0] if c > 0 else 3
    return v // 0, v % 0


def in_loop(x, c):
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i] if x[i] > c else 0.5
        s += v / (x[i] - x[i])
    return s


def zero_power(x, c):
    v = x[0] if c > 0 else 0.0
    return (v * 0.0) ** -1.0


def nested_choice(x, c):
    v = x[0] if c > 0 else 2.0
    u = v if c < 1 else 7.0
    return u / (c - c)


def mod_in_branch_of_while(x, c):
    s = 0.0
    i = 0
    while i < x.shape[0]:
        v = x[i] if c > 0 else 1.0
        if x[i] > 0.5:
            s = v % 0.0
        i += 1
    return s


def float32_side(x32, c):
    v = x32[0] if c > 0 else 1.5
    return v / 0.0


def numpy_divide_of_python_floats(x, c):
    a = float(x[0])
    return np.divide(a, c - c), np.sqrt(a) - 1


def _outcome(fn, *args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            r = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
        except ZeroDivisionError as e:
            return ("raises", str(e))
    r = r if isinstance(r, tuple) else (r,)
    return tuple((np.asarray(e).dtype, repr(np.asarray(e).tolist()), isinstance(e, np.generic)) for e in r)


CASES = [div_ifexp, floordiv_if_statement, int_floordiv_mod, in_loop, zero_power, nested_choice,
         mod_in_branch_of_while, float32_side, numpy_divide_of_python_floats]


@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_python_number_on_some_runs(fn):
    rng = np.random.default_rng(27)
    jitted = lt.jit(fn, backend="interpret")
    seen = set()
    for c in (1.0, -1.0, 0.5, 0.0, *rng.uniform(-1, 2, 4)):
        x = rng.random(4)
        if fn is int_floordiv_mod:
            x = rng.integers(-5, 5, 4)
        elif fn is float32_side:
            x = x.astype(np.float32)
        want = _outcome(fn, x, c)
        assert _outcome(jitted, x, c) == want, (c, x)
        seen.add(want[0])
    if fn not in (in_loop, numpy_divide_of_python_floats):
        assert "raises" in seen and len(seen) > 1  # both kinds of run were met


@pytest.mark.parametrize("fn", [div_ifexp, in_loop, mod_in_branch_of_while], ids=lambda f: f.__name__)
def test_python_number_on_some_runs_cpu(fn):
    jitted = lt.jit(fn, backend="cpu")
    for c in (1.0, -1.0, 0.5):
        x = np.random.default_rng(1).random(4)
        assert _outcome(jitted, x, c) == _outcome(fn, x, c), c


# A Python complex on the left of a NumPy float64 scalar: complex's own operator takes np.float64 (a
# float subclass), so the plain function makes a Python complex (and raises ZeroDivisionError on a zero
# divisor); looptrace made a np.complex128 (and gave nan). On the right it is NumPy's np.complex128.
def complex_left_of_float64(x, c):
    z = 0j
    for i in range(x.shape[0]):
        z = z * c + x[i]
    return z, c + x[0], c - x[1], c * x[0], c / x[1], c ** x[0], x[0] + c, x[1] * 0.5j, c == x[0]


def complex_by_float64_zero(x, c):
    return c / (x[0] - x[0])


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_python_complex_left_of_a_float64(backend):
    rng = np.random.default_rng(3)
    for fn in (complex_left_of_float64, complex_by_float64_zero):
        jitted = lt.jit(fn, backend=backend)
        for c in (0.5 - 0.25j, complex(rng.random(), rng.random())):
            x = rng.random(5)
            got, want = _outcome(jitted, x, c), _outcome(fn, x, c)
            assert [g[::2] for g in got] == [w[::2] for w in want]  # dtypes and NumPy-or-Python
            if want[0] != "raises":
                for g, w in zip(got, want):
                    np.testing.assert_allclose(complex(eval(g[1])), complex(eval(w[1])), rtol=1e-14)
