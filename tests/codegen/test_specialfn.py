"""codegen/cpu/specialfn.py: digamma and trigamma (Numba has neither) against
scipy.special, including the reflection for negative arguments and the poles;
the wrappers of Numba's math.erf/erfc/gamma/lgamma against Python's math."""

import math

import numba
import numpy as np
import pytest
import scipy.special as sp

from looptrace.codegen.cpu.specialfn import digamma, math_erf, math_erfc, math_gamma, math_lgamma, trigamma


@numba.njit
def _apply(which, xs, out):
    for i in range(xs.shape[0]):
        out[i] = digamma(xs[i]) if which == 0 else trigamma(xs[i])


def _run(which, xs):
    out = np.empty_like(xs)
    _apply(which, xs, out)
    return out


def test_digamma_and_trigamma_match_scipy(rng):
    xs = np.concatenate([rng.uniform(-30, 60, 4000), np.geomspace(1e-8, 1e8, 200), -rng.uniform(0, 30, 500)])
    xs = xs[np.abs(xs - np.round(xs)) > 1e-3]
    psi, psi1 = _run(0, xs), _run(1, xs)
    ref, ref1 = sp.psi(xs), sp.polygamma(1, xs)
    # relative, except near digamma's root (x ~ 1.4616) where the value itself vanishes
    np.testing.assert_allclose(psi, ref, rtol=1e-12, atol=5e-15)  # scipy itself is ~1e-12 near the poles
    np.testing.assert_allclose(psi1, ref1, rtol=1e-12)


def test_poles_and_special_values():
    xs = np.array([0.0, -0.0, -1.0, -7.0, np.inf, -np.inf, np.nan])
    psi = _run(0, xs)
    np.testing.assert_array_equal(psi, [-np.inf, np.inf, np.nan, np.nan, np.inf, np.nan, np.nan])
    np.testing.assert_array_equal(_run(1, xs)[[0, 4, 6]], [np.inf, 0.0, np.nan])


@pytest.mark.parametrize("fn,name", [(math_erf, "erf"), (math_erfc, "erfc"), (math_gamma, "gamma"),
                                     (math_lgamma, "lgamma")])
def test_math_wrappers_match_python(fn, name, rng):
    for x in rng.uniform(0.1, 20, 50):
        assert fn(x) == pytest.approx(getattr(math, name)(x), rel=1e-14)
