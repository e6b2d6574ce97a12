"""Generator.normal, lognormal and uniform check their parameters as NumPy
does, before drawing (probe X2): a scale or sigma with its sign bit set
(-0.0 too) raises ValueError, a NaN passes; uniform's high - low raises
OverflowError where it is not finite and ValueError where it is negative.
The generator's state after a raising call is the plain function's."""
import numpy as np
import pytest

import looptrace


def normal_of(rng, s):
    return rng.normal(0.5, s[0])


def lognormal_of(rng, s):
    return rng.lognormal(0.0, s[0])


def uniform_to(rng, s):
    return rng.uniform(2.0, s[0])


def looped_normals(rng, s, out):
    for i in range(s.shape[0]):
        out[i] = rng.normal(1.0, s[i])
    return out


def _outcome(fn, *args):
    try:
        return fn(*args)
    except Exception as e:  # the class and message are compared
        return (type(e), str(e).splitlines()[0])


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [normal_of, lognormal_of, uniform_to])
@pytest.mark.parametrize("s", [-1.0, -0.0, np.nan, 0.7, 3.5, np.inf])
def test_parameters_checked_as_numpy(backend, fn, s):
    arg = np.array([s])
    want_rng, got_rng = np.random.default_rng(7), np.random.default_rng(7)
    want = _outcome(fn, want_rng, arg)
    got = _outcome(looptrace.jit(fn, backend=backend), got_rng, arg)
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and got[0] is want[0] and got[1].startswith(want[1])
    else:
        np.testing.assert_array_equal(got, want)
    assert got_rng.bit_generator.state == want_rng.bit_generator.state


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_negative_scale_inside_a_loop(backend, rng):
    s = rng.random(20) + 0.1
    s[13] = -0.5
    out_want, out_got = np.zeros(20), np.zeros(20)
    want_rng, got_rng = np.random.default_rng(3), np.random.default_rng(3)
    with pytest.raises(ValueError, match="scale < 0"):
        looped_normals(want_rng, s, out_want)
    with pytest.raises(ValueError, match="scale < 0"):
        looptrace.jit(looped_normals, backend=backend)(got_rng, s, out_got)
    np.testing.assert_array_equal(out_got, out_want)  # the draws before the bad one written, as plain
    assert got_rng.bit_generator.state == want_rng.bit_generator.state
