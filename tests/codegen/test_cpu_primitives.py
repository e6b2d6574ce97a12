"""CPU-specific lowering choices of single primitives, checked against the
NumPy interpreter (every primitive's rule on every target is compiled by
test_lowering_completeness.py)."""

import numpy as np
import pytest

import looptrace
from looptrace.codegen import cpu

from .samples import Builder, Sample
from .test_lowering_completeness import check_against_reference


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


# float32 with -m slow (0.6 s in 0bc3f38's CI): [float64]'s accumulators in another dtype; float32 terms in the
# 8 lanes keep their default cpu check, bit for bit, in test_cpu_long_sums.py test_float32_terms_accumulate_in_float64
@pytest.mark.parametrize("dtype", ["float64", pytest.param("float32", marks=pytest.mark.slow)])
def test_long_sums_use_eight_accumulators(dtype, rng):
    b = Builder((dtype, (101,)), (dtype, (101,)))
    x, y = b.args
    outs = [b.op("reduce_sum", x, axes=(0,)), b.op("einsum", x, y, spec="i,i->"),
            b.op("reduce_sum", b.op("exp", x), axes=(0,))]
    program = b.program(outs)
    assert "acc" in cpu.compile_program(program).source.split("* 8 + 7")[0]
    args = [rng.standard_normal(101).astype(dtype), rng.standard_normal(101).astype(dtype)]
    check_against_reference("cpu", Sample(program, args, 1e-9 if dtype == "float64" else 1e-5))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_small_integer_powers_are_products(dtype, rng):
    """x ** 3 and x ** 4 of floats are products (codegen/cpu/scalar.py
    `small_power`): within 2 ulp of NumPy's pow, and the same at inf, nan,
    signed zeros, overflow and underflow; other exponents are mathlib's pow."""

    def powers(x):
        return x ** 3, x ** 4, x ** 3.0, x ** 5

    big, tiny = (1e120, 1e-120) if dtype == np.float64 else (1e30, 1e-30)
    x = (rng.normal(size=3000) * 10).astype(dtype)
    x[:8] = [np.inf, -np.inf, np.nan, -0.0, 0.0, big, tiny, -big / 1e17]
    f = looptrace.jit(powers, backend="cpu")
    with np.errstate(over="ignore"):
        want = powers(x)
    for got, w in zip(f(x), want):
        assert got.dtype == w.dtype
        np.testing.assert_array_equal(got[:8], w[:8])
        np.testing.assert_array_max_ulp(got[8:], w[8:], maxulp=2)
    src = f.explain(x).kernel_source
    assert src.count("pow_f") == 1 and "np.power(" not in src  # x ** 5 only, as mathlib's pow
