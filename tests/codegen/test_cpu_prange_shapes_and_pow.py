"""Three small CPU code-generation rules (session 40):
- a prange body repeats the `same_shape` test of each argument array it
  reads: its function gets the arrays with unknown shapes, and LLVM then
  left loops scalar (np.arctan2 of two columns of a (250000, 3) argument:
  9.7 -> 0.85 ms on one thread);
- `x ** 2.0` is `x * x` (NumPy's own square), and a pow in a serial loop's
  body is libm's (mathlib's pow_f64 is for SIMD loops: a Metropolis scan
  1.08 -> 6 ms with it);
- nprules' float-to-int conversions are inlined into the kernel (no call).
"""
import numpy as np

import looptrace


def spherical(x):
    r = np.sqrt((x ** 2).sum(axis=1))
    return r, np.arccos(x[:, 2] / r), np.arctan2(x[:, 1], x[:, 0])


def square_and_walk(x, a):
    y = x ** 2.0
    s = 0.5
    for i in range(a.shape[0]):
        s = (s + a[i]) ** 0.7
    return y, s


def test_prange_bodies_test_the_shapes_of_the_arguments_they_read():
    x = np.random.default_rng(51).standard_normal((1 << 18, 3))
    jf = looptrace.jit(spherical, backend="cpu")
    for got, want in zip(jf(x), spherical(x)):
        np.testing.assert_allclose(got, want, rtol=1e-13)
    src = looptrace.explain(jf, x).kernel_source
    lines = src.splitlines()
    heads = [k for k, line in enumerate(lines) if "numba.prange(" in line]
    assert heads
    for k in heads:
        body = lines[k + 1:k + 6]
        assert any(line.strip().startswith("same_shape(v") for line in body), "\n".join(lines[k:k + 6])


def test_squares_are_products_and_a_scan_pow_is_libm():
    r = np.random.default_rng(52)
    x, a = r.standard_normal(1000), r.uniform(0, 1, 50)
    jf = looptrace.jit(square_and_walk, backend="cpu")
    got, want = jf(x, a), square_and_walk(x, a)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], rtol=1e-14)
    src = looptrace.explain(jf, x, a).kernel_source
    assert "pow_f64" not in src and "np.power(" in src  # the scan's ** 0.7
    assert src.count("np.power(") == 1  # x ** 2.0 is a product


def to_int(x):
    acc = np.int64(0)
    for i in range(x.shape[0]):
        acc += np.int64(x[i] * 3.0)
    return acc


def test_float_to_int_conversions_are_inlined():
    x = np.random.default_rng(53).uniform(-300, 300, 999)
    jf = looptrace.jit(to_int, backend="cpu")
    assert jf(x) == to_int(x)
    kernel = jf.compiled_for(jf._bind((x,), {}))[0].run  # (internal: the CpuKernel)
    assert "float_to_int64(" in kernel.source
    for sig in kernel.kernel.signatures:
        ir = kernel.kernel.inspect_llvm(sig)
        assert not any("call" in line and "float_to_" in line for line in ir.splitlines())
