"""The decision to run a loop nest on threads weighs its elements by what
each costs (codegen/cpu/costs.py): a costly map goes parallel at sizes where
a cheap one stays serial. Values are the plain function's either way."""

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu.costs import cost_factor, element_cost


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def smooth(x, y):
    return np.sqrt(x * x + y * y) * np.exp(-0.5 * x) + np.sin(y)


def cheap(x, y):
    return (x * 2.0 + y) * (x - y) + x * y * 3.0 - 1.0


def test_costly_map_goes_parallel_where_a_cheap_one_does_not():
    r = np.random.default_rng(0)
    x, y = r.standard_normal(360_000), r.standard_normal(360_000)
    costly = looptrace.jit(smooth, backend="cpu", parallel=True)
    plain = looptrace.jit(cheap, backend="cpu", parallel=True)
    assert "numba.prange(" in costly.explain(x, y).kernel_source
    assert "numba.prange(" not in plain.explain(x, y).kernel_source
    # values on the interpreter: the two cpu kernels (~1.5 s of CPU) are plain maps of exp, sqrt and sin,
    # threaded and not, whose cpu values the mathlib and parallel-map tests check
    for fn in (smooth, cheap):
        np.testing.assert_allclose(looptrace.jit(fn, backend="interpret")(x, y), fn(x, y), rtol=1e-12, atol=1e-14)


def test_serial_flag_wins_over_cost():
    x = np.random.default_rng(1).standard_normal(400_000)
    f = looptrace.jit(smooth, backend="cpu", parallel=False)
    assert "numba.prange(" not in f.explain(x, x).kernel_source


def test_weights():
    class P:  # a stand-in primitive record
        def __init__(self, name, elementwise=True):
            self.name, self.elementwise = name, elementwise

    class O:
        def __init__(self, name, elementwise=True):
            self.prim = P(name, elementwise)

    assert element_cost(O("add")) == 1 and element_cost(O("sqrt")) == 1
    assert 1 < element_cost(O("exp")) < element_cost(O("lgamma"))
    assert element_cost(O("lgamma", elementwise=False)) == 1
    assert cost_factor.__doc__


def parity(a, b):
    return (a[:, None] + b[None, :]) % 2


def wrapped(a, b, k):
    return (a[:, None] + b[None, :]) % k


def test_integer_remainder_by_a_constant_is_cheap():
    """An int `% 2` is a multiply and shifts after LLVM (no libm call): a
    512x512 map of it stays serial (a prange costs compile time for nothing),
    while the same map on floats (fmod per element) goes parallel."""
    r = np.random.default_rng(2)
    a, b = r.integers(-1000, 1000, 512), r.integers(-1000, 1000, 512)
    f = looptrace.jit(parity, backend="cpu", parallel=True)
    assert "numba.prange(" not in f.explain(a, b).kernel_source
    np.testing.assert_array_equal(f(a, b), parity(a, b))
    x, y = a + r.random(512), b + r.random(512)
    assert "numba.prange(" in f.explain(x, y).kernel_source
    np.testing.assert_allclose(f(x, y), parity(x, y), rtol=1e-12, atol=1e-12)
    g = looptrace.jit(wrapped, backend="cpu", parallel=True)
    for k in (7, -3):  # a division per element, with Python's sign rule
        np.testing.assert_array_equal(g(a, b, k), wrapped(a, b, k))


def arc_distance(theta_1, phi_1, theta_2, phi_2):
    """numpy-benchmarks' arc_distance: five libm calls per element."""
    temp = np.sin((theta_2 - theta_1) / 2) ** 2 + np.cos(theta_1) * np.cos(theta_2) * np.sin((phi_2 - phi_1) / 2) ** 2
    return 2 * (np.arctan2(np.sqrt(temp), np.sqrt(1 - temp)))


def test_libm_map_of_ten_thousand_elements_goes_parallel():
    """At 10^4 elements of libm's sin, cos and arctan2 (about 0.5 ms serial) the
    threads paid; since session 53 all three are mathlib's, vectorized (~0.2 ms
    serial at 10^4, cost model under the threshold): at 10^5 the nest runs under prange."""
    args = np.random.default_rng(2).standard_normal((4, 100_000))
    f = looptrace.jit(arc_distance, backend="cpu", parallel=True)
    assert "numba.prange(" in f.explain(*args).kernel_source
    # values on the interpreter (the cpu kernel, 1.6 s of CPU in session 54's CI, is mathlib's sin, cos and
    # arctan2 under prange: test_mathlib*.py and test_cpu_prange_shapes_and_pow check those on cpu)
    ref = looptrace.jit(arc_distance, backend="interpret")
    np.testing.assert_allclose(ref(*args), arc_distance(*args), rtol=1e-13, atol=1e-15)


def four_sums(a, b, c, d):
    return (a * 2.0).sum(), np.exp(b).sum(), np.log(np.abs(c) + 1.0).sum(), np.tanh(d).sum()


# [2000-4-source] by default checks the kernel's source, which explain writes without a Numba compile;
# its values (4 threaded folds, 4.0 s of CPU in session 54's CI at e17f737) with -m slow: [300-1-values]
# runs a threaded fold of the same kind (the exp sum) against the plain function
@pytest.mark.parametrize("n, threaded, values", [(300, 1, True), (2000, 4, False),
                                                 pytest.param(2000, 4, True, marks=pytest.mark.slow)],
                         ids=["300-1-values", "2000-4-source", "2000-4-values"])
def test_one_medium_parallel_region_for_costly_nests_and_every_large_one(monkeypatch, n, threaded, values, rng):
    """A parallel region costs 0.3-1 s of Numba compile: between the
    threshold and twice it only the first nest of costly elements (exp,
    log, tanh) gets threads, and a cheap one none; larger nests always do.
    Values are the plain function's either way."""
    monkeypatch.setattr("looptrace.codegen.cpu.emitter.PARALLEL_MIN_WORK", 1000)
    args = [rng.standard_normal(n) for _ in range(4)]
    f = looptrace.jit(four_sums, backend="cpu")
    if values:
        for got, want in zip(f(*args), four_sums(*args)):
            np.testing.assert_allclose(got, want, rtol=1e-12)
    src = f.explain(*args).kernel_source
    assert src.count("numba.prange(") == threaded
    if n < 1000:  # the cheap first sum stays serial; the exp sum, the first costly one, is threaded
        after = src.split("numba.prange(")[1]
        assert "exp_f64" in after.split("\n    v")[0] and "log_f64" not in after.split("\n    v")[0]


def cube(a):
    return a ** 3


def pow_half(a):
    return a ** 2.5


def test_a_small_integer_power_is_products_not_pow():
    """`a ** 3` is written as multiplies (scalar.py small_power), so it costs
    as a multiply: 10^5 of them stay serial, where a real pow goes threaded."""
    a = np.random.default_rng(2).uniform(0.5, 2.0, 100_000)
    f, g = looptrace.jit(cube, backend="cpu"), looptrace.jit(pow_half, backend="cpu")
    assert "numba.prange(" not in f.explain(a).kernel_source
    assert "numba.prange(" in g.explain(a).kernel_source
    # values on the interpreter: cpu products for small powers are test_cpu_primitives' (x ** 3 and
    # x ** 4), a real pow test_mathlib_pow's
    for fn in (cube, pow_half):
        np.testing.assert_allclose(looptrace.jit(fn, backend="interpret")(a), fn(a), rtol=1e-15)


def test_float64_hypot_and_arctan2_weigh_as_the_vectorized_mathlib():
    """float64 np.hypot and np.arctan2 run mathlib's vectorized versions
    (scalar.py), weighted as exp is; float32 ones stay libm calls."""
    from looptrace.codegen.cpu.costs import LIBM, MATHLIB
    from looptrace.ir.core import walk

    for dtype, want in ((np.float64, MATHLIB), (np.float32, LIBM)):
        x = np.linspace(0.5, 2.0, 4).astype(dtype)
        f = looptrace.jit(lambda a, b: np.arctan2(a, b) + np.hypot(a, b), backend="interpret")
        ops = [op for op in walk(f.explain(x, x).program.body) if op.prim.name in ("arctan2", "hypot")]
        assert len(ops) == 2 and all(element_cost(op) == want for op in ops)
