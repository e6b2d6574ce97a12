"""Integer element rules as NumPy defines them (codegen/cpu/nprules.py), and
the run-time error of an integer power with a negative exponent
(tracer/semantics.py): each was a wrong answer on the cpu backend before
(np.fmod(-7, 2) gave 1, 1 << 64 gave 1, 3 ** 50 lost its low bits,
MIN // -1 gave 0, 2 ** -1 of ints gave 0)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def int_ops(a, b, s, p):
    return np.fmod(a, b), a << s, a >> s, np.left_shift(b, s), np.right_shift(b, s), a ** p, a // b, a % b


DTYPES = ["int64", "int32", "int8", "uint64", "uint16"]
_compiled = {}


def _run(dtype, a, b, s, p):
    f = _compiled.setdefault(dtype, looptrace.jit(int_ops, backend="cpu"))
    with np.errstate(all="ignore"):
        want = int_ops(a, b, s, p)
        got = f(a, b, s, p)
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.dtype == w.dtype, k
        np.testing.assert_array_equal(g, w, err_msg=f"result {k} for {dtype}")


# a kernel per dtype (5.2 s of CPU for the five in 0bc3f38's CI): by default the widest and the narrowest
# signed dtypes and the widest unsigned one; int32 and uint16 (narrower than 64 bits, as int8 is) join them
# with -m slow
SOME_DTYPES = ["int64", "int8", "uint64"]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dtype=st.sampled_from(SOME_DTYPES), seed=st.integers(0, 2**32 - 1))
def test_integer_rules_match_numpy(dtype, seed):
    _integer_rules_match_numpy(dtype, seed)


@pytest.mark.slow
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dtype=st.sampled_from(DTYPES), seed=st.integers(0, 2**32 - 1))
def test_integer_rules_match_numpy_in_every_dtype(dtype, seed):
    _integer_rules_match_numpy(dtype, seed)


def _integer_rules_match_numpy(dtype, seed):
    r = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    n = 64
    a = r.integers(info.min, info.max, n, dtype=dtype, endpoint=True)
    a[:8] = np.array([info.min, info.max, 0, 1, 7, 5, 3, 2], dtype=dtype)
    if info.min < 0:
        a[8:12] = np.array([-1, -7, -3, -2]).astype(dtype)
    b = r.integers(max(info.min, -9), 10, n, dtype=dtype, endpoint=True)
    b[:4] = np.array([0, -1 if info.min < 0 else 1, 2, 3]).astype(dtype)
    s = r.integers(0, 8 * info.bits // 8 + 8, n).astype(dtype if info.min < 0 else np.int64)
    if info.min < 0:
        s[:3] = [-1, info.bits, info.bits + 5]
    p = r.integers(0, 70, n).astype(dtype) if info.bits > 8 else r.integers(0, 20, n).astype(dtype)
    _run(dtype, a, b, s.astype(dtype) if info.min >= 0 else s, p)


def test_integer_power_is_exact_past_the_float_mantissa():
    def pw(a, p):
        return a ** p

    a, p = np.array([3, 10, -7, 2, 5]), np.array([50, 20, 21, 62, 27])
    for backend in ("interpret", "cpu"):
        np.testing.assert_array_equal(looptrace.jit(pw, backend=backend)(a, p), pw(a, p))


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_negative_integer_exponent_raises(backend, rng):
    def arrays(a, p):
        return a ** p

    def python_ints(x):
        s = 0.0
        for i in range(x.shape[0]):
            s += x[i] * (2 ** (i - 3))
        return s

    def non_negative(x):
        s = 0
        for i in range(x.shape[0]):
            s += 3 ** i + (i - 2) ** 3
        return s

    # 5 elements, as test_integer_power_is_exact_past_the_float_mantissa: on cpu that test's kernel but for
    # the sizes (explain's sources), so one compile serves both (0.8 s in 3d8fb51's CI with 6)
    a = rng.integers(1, 5, 5)
    with pytest.raises(ValueError, match="Integers to negative integer powers"):
        arrays(a, np.array([1, 2, -1, 0, 1]))
    with pytest.raises(ValueError, match="Integers to negative integer powers"):
        looptrace.jit(arrays, backend=backend)(a, np.array([1, 2, -1, 0, 1]))
    np.testing.assert_array_equal(looptrace.jit(arrays, backend=backend)(a, a), arrays(a, a))
    x = rng.standard_normal(6)
    # plain Python gives a float there: looptrace's limit, an UnsupportedError naming the user's line
    with pytest.raises(looptrace.UnsupportedError, match=r"2\.0 \*\* n") as info:
        looptrace.jit(python_ints, backend=backend)(x)
    assert "s += x[i] * (2 ** (i - 3))" in str(info.value) + "".join(getattr(info.value, "__notes__", []))
    assert looptrace.jit(non_negative, backend=backend)(x) == non_negative(x)


def float_division(a, b):
    return a // b, a % b, np.divmod(b, a)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_float_floor_division_and_remainder_match_numpy(dtype, rng):
    """NumPy's npy_divmod: 89.0 // 0.1 is 889 (Numba's floor(a / b) gave
    890), inf // -1e-310 is NaN (gave -inf), zeros signed as NumPy's."""
    edges = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-310, -1e-310, 1e300, -1e300, np.inf, -np.inf, np.nan,
                      89.0, 0.1, 7.25, -7.25, 1e15 + 0.5, 3.0, -3.0])
    a, b = np.repeat(edges, edges.size), np.tile(edges, edges.size)
    n = 4000
    a = np.concatenate([a, rng.standard_normal(n) * 10 ** rng.uniform(-3, 6, n)]).astype(dtype)
    b = np.concatenate([b, rng.standard_normal(n) * 10 ** rng.uniform(-3, 3, n)]).astype(dtype)
    with np.errstate(all="ignore"):
        want = float_division(a, b)
        got = looptrace.jit(float_division, backend="cpu")(a, b)
    for g, w in zip(got[:2] + got[2], want[:2] + want[2]):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(w))


def test_sign_of_zeros_nan_and_large_unsigned_values():
    """np.sign(-0.0) is +0.0 and np.sign of a uint8 200 is 1 (Numba's gave
    -0.0 and 255)."""
    def signs(x, u, v):
        return np.sign(x), np.sign(x.astype(np.float32)), np.sign(u), np.sign(v)

    x = np.array([-0.0, 0.0, np.nan, np.inf, -np.inf, 2.5, -1e-310, 1e-310])
    u = np.array([0, 1, 127, 128, 200, 255], dtype=np.uint8)
    v = np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)
    for backend in ("interpret", "cpu"):
        with np.errstate(all="ignore"):
            got, want = looptrace.jit(signs, backend=backend)(x, u, v), signs(x, u, v)
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            np.testing.assert_array_equal(g, w)
            np.testing.assert_array_equal(np.signbit(g), np.signbit(w))
