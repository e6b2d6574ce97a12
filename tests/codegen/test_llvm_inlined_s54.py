"""Kernels call mathlib's and nprules' inline="always" functions through
llvm_inlined.py's wrappers (compiled once, inlined by LLVM), and integer
rules as nprules' cached helpers, except in a fastmath kernel, which calls
them directly (Numba's inlining gives their body the kernel's flags).
Values against the plain function on random data, signed zeros and NaNs
included (mathlib's functions within a few ulp); one cpu compile."""

import numpy as np

import looptrace


def mixed(x, z, a, b):
    return (np.tanh(x) + np.abs(z) * (x // 0.3) + np.sign(x) + np.expm1(x * 0.01), np.sqrt(z) + z / (z + 1.0),
            np.remainder(a, b) + np.floor_divide(a, b) + (a << 3))


def _data(rng, n=37):
    x = rng.standard_normal(n)
    x[:3] = [0.0, -0.0, np.nan]
    z = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    a, b = rng.integers(-50, 50, n), rng.integers(-4, 5, n)
    return x, z, a, b


def test_wrapped_calls_and_values(rng):
    x, z, a, b = _data(rng)
    jf = looptrace.jit(mixed, backend="cpu")
    src = jf.explain(x, z, a, b).kernel_source
    for name in ("tanh_f64", "cabs_c128", "floordiv_f", "sign_f", "expm1_f64", "csqrt", "cdiv"):
        assert f"llvm_inlined.{name}(" in src, name
    with np.errstate(all="ignore"):
        want = mixed(x, z, a, b)
    got = jf(x, z, a, b)
    for g, w in zip(got[:2], want[:2]):  # mathlib's functions: within a few ulp of NumPy's
        np.testing.assert_allclose(g, w, rtol=1e-14, atol=0)
        assert np.array_equal(np.signbit(np.real(g)), np.signbit(np.real(w)))
    np.testing.assert_array_equal(got[2], want[2])


def test_fastmath_calls_directly(rng):
    x, z, a, b = _data(rng)
    src = looptrace.jit(mixed, backend="cpu", fastmath=True).explain(x, z, a, b).kernel_source
    assert "llvm_inlined." not in src and "tanh_f64(" in src and "cabs_c128(" in src
