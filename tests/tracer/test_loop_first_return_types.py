"""A `return` in a loop's first iteration of a value whose type the loop
changes in later iterations:

    acc = 0
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            return acc          # Python: the int 0 when x[0] > 0.5
        acc = acc + x[i]        # a np.float64 from here on

The compiled loop carries `acc` as a float64, so it returned np.float64(0.0)
(a np.float32 for `acc = 1`, then `acc * np.float32(1.5)`; an int for
`acc = True`) where Python returns the first iteration's type. That run now
raises looptrace's UnsupportedError, naming the loop (tracer/control.py
`LoopTrace._check_first_return`); a return in a later iteration, and a
loop whose returned type does not change, are as before. (A Python number
that becomes the NumPy scalar of its dtype, `acc = 0.0` then `acc + x[i]`,
is still returned as the np.float64: the same value, and a float.)"""
import warnings

import numpy as np
import pytest

import looptrace as lt


def int_then_float(x):
    acc = 0
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            return acc
        acc = acc + x[i]
    return acc


def while_loop(x):
    acc = 0
    i = 0
    while i < x.shape[0]:
        if x[i] > 0.5:
            return acc
        acc = acc * 2.0 + x[i]
        i += 1
    return acc


def int_then_float32_in_a_tuple(x):
    acc = 1
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            return acc, i
        acc = acc * np.float32(1.5)
    return acc, -1


def bool_then_int(x):
    acc = True
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            return acc
        acc = acc + 1
    return acc


def changed_before_the_return(x):
    acc = 0
    for i in range(x.shape[0]):
        acc = acc + 1
        if x[i] > 0.5:
            return acc
        acc = acc / 2
    return acc


def same_type_throughout(x):
    acc = np.float64(0.0)
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            return acc
        acc = acc + x[i]
    return acc


def _outcome(fn, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            r = fn(x.copy())
        except lt.UnsupportedError as e:
            return "refused", str(e)
    r = r if isinstance(r, tuple) else (r,)
    return tuple((type(e), repr(e)) for e in r)


@pytest.mark.parametrize("fn", [int_then_float, while_loop, int_then_float32_in_a_tuple, bool_then_int,
                                changed_before_the_return, same_type_throughout], ids=lambda f: f.__name__)
def test_a_return_in_the_first_iteration_keeps_its_type_or_is_refused(fn):
    jitted = lt.jit(fn, backend="interpret")
    rng = np.random.default_rng(5)
    refused = 0
    for _ in range(12):
        x = rng.random(4)
        want, got = _outcome(fn, x), _outcome(jitted, x)
        if got[0] == "refused":
            assert fn is not same_type_throughout and x[0] > 0.5  # only where the first iteration returns
            assert "first iteration" in got[1]
            refused += 1
        else:
            assert got == want, x
    assert refused > 0 or fn is same_type_throughout


def test_a_first_iteration_return_on_cpu():
    jitted = lt.jit(int_then_float, backend="cpu")
    with pytest.raises(lt.UnsupportedError, match="first iteration"):
        jitted(np.array([0.9, 0.1]))
    assert _outcome(jitted, np.array([0.1, 0.9, 0.3])) == _outcome(int_then_float, np.array([0.1, 0.9, 0.3]))
