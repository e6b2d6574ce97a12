"""The warm call path (api.JitFunction.__call__'s plain-call cache): a call of
arrays and floats by position skips the signature objects, and must behave
exactly like the full path: new shapes, dtypes and layouts compile anew,
modified captured arrays retrace, scalars come back as scalars, and arguments
written in place are written."""

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def decay(x, a):
    y = 0.0
    for t in range(x.shape[0]):
        y = a * y + x[t]
    return y


def test_plain_calls_follow_the_full_path():
    f = looptrace.jit(decay, backend="cpu")
    rng = np.random.default_rng(9)
    x = rng.standard_normal(10)
    for args in [(x, 0.5), (x, 0.25), (x[::2], 0.5), (x.astype(np.float32), 0.5),
                 (rng.standard_normal(7), 0.9), (x, np.float64(0.5)), (x, 1), (x, np.array(0.5))]:
        got, want = f(*args), decay(*args)
        assert type(got) is type(want) or np.isscalar(got)
        np.testing.assert_allclose(got, want, rtol=1e-6 if args[0].dtype == np.float32 else 1e-12)
    assert f(x, a=0.5) == pytest.approx(decay(x, 0.5), rel=1e-12)


SCALE = np.array([2.0, 3.0])


def scaled(x):
    return x * SCALE


def test_captured_array_changed_between_plain_calls_retraces():
    f = looptrace.jit(scaled, backend="cpu")
    x = np.random.default_rng(10).standard_normal(2)
    np.testing.assert_allclose(f(x), x * SCALE)
    SCALE[0] = -7.0
    np.testing.assert_allclose(f(x), x * SCALE)


def bump(state, k):
    for _ in range(3):
        state[0] += k
    return state.sum()


def test_plain_call_writes_arguments_in_place():
    f = looptrace.jit(bump, backend="cpu")
    s1 = np.random.default_rng(11).standard_normal(3)
    s2 = s1.copy()
    assert f(s1, 0.5) == pytest.approx(bump(s2, 0.5))
    assert f(s1, 0.5) == pytest.approx(bump(s2, 0.5))
    np.testing.assert_allclose(s1, s2)


def window_sums(x, w):  # w sizes the output: a static value, one program per value
    out = np.zeros(x.shape[0] - w + 1)
    for i in range(x.shape[0] - w + 1):
        out[i] = x[i:i + w].sum()
    return out


def powers(x, k):  # k is a traced int: one program for every value
    y = np.ones_like(x)
    for _ in range(k):
        y = y * x
    return y


def test_int_arguments_take_the_plain_path_by_value(rng):
    x = rng.standard_normal(30)
    f, g = looptrace.jit(window_sums, backend="cpu"), looptrace.jit(powers, backend="cpu")
    for w in (3, 5, 3, 7, 5):
        np.testing.assert_allclose(f(x, w), window_sums(x, w), rtol=1e-12)
    for k in (2, 4, 2, 0, 3):
        np.testing.assert_allclose(g(x, k), powers(x, k), rtol=1e-12)
    assert any(isinstance(part, tuple) and part[0] is int for key in f._fast for part in key)
    assert len(f._fast) == 3 and len(g._fast) == 4


def test_the_plain_path_stays_bounded(rng):
    from looptrace.api import _FAST_ENTRIES

    g = looptrace.jit(powers, backend="cpu")
    x = rng.standard_normal(4)
    for k in range(_FAST_ENTRIES + 10):
        assert g(x, k)[0] == pytest.approx(x[0] ** k, rel=1e-9)
    assert len(g._fast) <= _FAST_ENTRIES
