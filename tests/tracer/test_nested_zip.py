"""zip() and enumerate() of zips and enumerates over arrays and ranges are
traced loops (runtime.py `_zip`, `_enumerate`): a zip of two zips over a
track's consecutive points (probe W) was unrolled, one body per element
(n=500: 150 s of cpu compile)."""
import warnings

import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import UnrollWarning


def track(lat, lon):
    tot = 0.0
    for (a1, o1), (a2, o2) in zip(zip(lat[:-1], lon[:-1]), zip(lat[1:], lon[1:])):
        tot += np.hypot(a2 - a1, o2 - o1)
    return tot


def enumerate_of_enumerate(x, y):
    t = 0.0
    for k, (i, p) in enumerate(enumerate(x, 1)):
        t += k * i * p
    for (i, p), q in zip(enumerate(x), y):
        t -= i * p * q
    return t


def zipped_with_range(x, y):
    out = []
    for (p, q), r in zip(zip(x, y), range(3, 100)):
        out.append(p * q + r)
    return np.array(out)


@pytest.mark.parametrize("fn", [track, enumerate_of_enumerate, zipped_with_range])
def test_nested_zips_are_one_loop(rng, fn):
    x, y = rng.standard_normal(120), rng.standard_normal(97)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnrollWarning)
        got = lt.jit(fn, backend="interpret")(x, y)
    np.testing.assert_allclose(got, fn(x, y), rtol=1e-12)


def test_a_zip_of_zips_on_cpu(rng):
    lat, lon = rng.uniform(-90, 90, 300), rng.uniform(-180, 180, 300)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnrollWarning)
        got = lt.jit(track, backend="cpu")(lat, lon)
    np.testing.assert_allclose(got, track(lat, lon), rtol=1e-12)


def _strict(a, b):
    s = 0.0
    for x, y in zip(a, b, strict=True):
        s += x * y
    return s


def test_zip_strict_runs_on_equal_lengths_and_refuses_others(rng):
    """zip(strict=True) used to drop the flag and sum the shortest (probe X)."""
    a = rng.standard_normal(5)
    f = lt.jit(_strict, backend="interpret")
    assert f(a, a * 2) == pytest.approx(_strict(a, a * 2), rel=1e-13)  # (a dot product: summed in its own order)
    with pytest.raises(lt.UnsupportedError, match="strict=True"):
        f(a, a[:4])
