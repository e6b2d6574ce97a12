"""Kernels without fastmath call mathlib's sin/cos/tan (float64 and float32),
float32 exp2/log2/log10, nprules' gcd/lcm and specialfn.py's functions
through llvm_inlined.py's wrappers (session 55), and the rare path's vector
variants (mathlib.py `_vector_variant`) come once into a kernel however many
wrappers bring them (linkonce_odr; they were internal: one copy a wrapper).
Values against the plain function, the rare path (huge, inf, NaN) and signed
zeros included; one kernel compile and one small Numba compile."""

import re

import numba
import numpy as np

import looptrace
from looptrace.codegen.cpu import llvm_inlined


def trig_ints(x, y, a, b):
    return np.sin(x) * np.cos(y) + np.tan(x), np.gcd(a, b) + np.lcm(a, b)


def floats32(x):
    return np.sin(x) + np.cos(x) + np.tan(x) + np.exp2(x) + np.log2(np.abs(x)) + np.log10(np.abs(x))


def test_wrapped_calls_and_values(rng):
    n = 41
    x, y = rng.standard_normal(n) * 4, rng.standard_normal(n) * 40
    x[:5] = [1e300, -np.inf, np.nan, -0.0, 2.0**40]  # libm's out of line (rare path), and -0.0
    a, b = rng.integers(-10**6, 10**6, n), rng.integers(-999, 999, n)
    a[:2] = [0, np.iinfo(np.int64).min + 1]
    jf = looptrace.jit(trig_ints, backend="cpu")
    src = jf.explain(x, y, a, b).kernel_source
    for name in ("sin_f64", "cos_f64", "tan_f64", "gcd_int", "lcm_int"):
        assert f"llvm_inlined.{name}(" in src, name
    with np.errstate(all="ignore"):
        want = trig_ints(x, y, a, b)
    got = jf(x, y, a, b)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-13, atol=1e-15)
    assert np.array_equal(np.signbit(got[0]), np.signbit(want[0]))
    np.testing.assert_array_equal(got[1], want[1])


def test_float32_kernels_call_the_wrappers(rng):
    x = rng.standard_normal(9).astype(np.float32)
    src = looptrace.jit(floats32, backend="cpu").explain(x).kernel_source
    for name in ("sin_f32", "cos_f32", "tan_f32", "exp2_f32", "log2_f32", "log10_f32"):
        assert f"llvm_inlined.{name}(" in src, name
    assert "llvm_inlined." not in looptrace.jit(floats32, backend="cpu", fastmath=True).explain(x).kernel_source


def _sin_cos_loop(x, out):
    for i in range(x.shape[0]):
        out[i] = llvm_inlined.sin_f64(x[i]) - llvm_inlined.cos_f64(x[i])


def test_rare_variants_once_a_kernel(rng):
    x = rng.standard_normal(64) * 3
    x[:3] = [1e300, np.inf, -0.0]
    out = np.empty_like(x)
    fn = numba.njit(error_model="numpy")(_sin_cos_loop)
    fn(x, out)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(out, np.sin(x) - np.cos(x), rtol=1e-14, atol=1e-15)
    labels = re.findall(r"^(looptrace_\w+_v\d+)(\.\d+)*:", fn.inspect_asm(fn.signatures[0]), re.M)
    names = [name for name, _ in labels]
    assert any(name.startswith("looptrace_sin_f64_huge_v") for name in names)  # (the variants are there)
    assert len(names) == len(set(names)) and not any(suffix for _, suffix in labels), sorted(labels)
