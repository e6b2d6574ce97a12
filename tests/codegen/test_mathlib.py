"""looptrace.codegen.cpu.mathlib (exp, expm1, tanh, log, log1p): ulp error against NumPy, special
values, that a loop over it is vectorized, and that the CPU lowering uses it.

The bounds are the ones stated in mathlib's docstring: float64 results within
ULP64[name] ulp of NumPy's; float32 results within 1 ulp of the float64
reference rounded to float32 (NumPy's own float32 exp/tanh are up to ~2.5 ulp
from that reference, so they are not the oracle for float32).
"""
from __future__ import annotations

import functools

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import looptrace
from looptrace.codegen.cpu import TARGET as CPU
from looptrace.codegen.cpu import mathlib
from looptrace.codegen.cpu.templates import same_shape
from looptrace.ir.primitive import PRIMITIVES

ULP64 = {"exp": 1, "expm1": 2, "tanh": 2, "log": 1, "log1p": 2}
NUMPY = {"exp": np.exp, "expm1": np.expm1, "tanh": np.tanh, "log": np.log, "log1p": np.log1p}
NAMES = list(NUMPY)
FLOAT32_INSIDE = {"exp", "log", "tanh"}  # float32 in float32 arithmetic; the others in float64


@functools.cache
def _loop(name: str, dtype: str):
    fn = getattr(mathlib, f"{name}_f{np.dtype(dtype).itemsize * 8}")

    @numba.njit(error_model="numpy", boundscheck=False)
    def apply(x, out):
        for i in range(x.shape[0]):
            out[i] = fn(x[i])

    return apply


def _run(name: str, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _loop(name, x.dtype.name)(x, out)
    return out


def _reference(name: str, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return NUMPY[name](x.astype(np.float64)).astype(x.dtype)


def _ordered(a: np.ndarray) -> np.ndarray:
    """Float bits as integers whose order and differences count ulps (+0 == -0)."""
    ints = a.view(np.int64 if a.dtype == np.float64 else np.int32).astype(np.int64)
    return np.where(ints < 0, -(ints & (2 ** (8 * a.itemsize - 1) - 1)), ints)


def ulp_distance(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    d = np.abs(_ordered(got) - _ordered(ref)).astype(np.float64)
    both_nan = np.isnan(got) & np.isnan(ref)
    d[both_nan] = 0
    d[np.isnan(got) != np.isnan(ref)] = np.inf
    return d


def _bound(name: str, dtype) -> int:
    return ULP64[name] if np.dtype(dtype) == np.float64 else 1


def _check(name: str, x: np.ndarray) -> None:
    got, ref = _run(name, x), _reference(name, x)
    d = ulp_distance(got, ref)
    worst = int(np.argmax(d))
    assert d[worst] <= _bound(name, x.dtype), (name, x[worst], got[worst], ref[worst], d[worst])


def _grids(name: str, dtype) -> list[np.ndarray]:
    f32 = np.dtype(dtype) == np.float32
    top = 88.8 if f32 else 709.9  # just past the overflow threshold
    bottom = -104.0 if f32 else -745.2  # just past the last subnormal result
    tiny = np.finfo(dtype).smallest_subnormal
    common = [np.linspace(-1, 1, 200_001), np.geomspace(tiny, 1e-3, 20_001),
              -np.geomspace(tiny, 1e-3, 20_001)]
    if name == "expm1":
        return common + [np.linspace(bottom, top, 400_001), np.linspace(top - 1, top, 20_001),
                         np.linspace(-70, -30, 20_001), np.linspace(30, 45, 20_001),
                         np.linspace(-1.2, 1.2, 100_001)]
    if name == "exp":
        return common + [np.linspace(bottom, top, 400_001), np.linspace(top - 1, top, 20_001),
                         np.linspace(bottom, bottom + 40, 100_001)]
    if name == "log1p":
        return common + [np.geomspace(tiny, float(np.finfo(dtype).max) / 2, 400_001),
                         np.linspace(-1, -0.99, 100_001), np.linspace(-1e-7, 1e-7, 100_001)]
    if name == "log":
        huge = float(np.finfo(dtype).max)
        return common + [np.geomspace(tiny, huge / 2, 400_001), np.linspace(0.99, 1.01, 100_001),
                         np.linspace(0.5, 2.0, 200_001), np.linspace(huge / 1e3, huge, 10_001)]
    switch = mathlib._TANH_SMALL
    near_switch = np.linspace(switch - 0.01, switch + 0.01, 20_001)
    return common + [np.linspace(-30, 30, 400_001), near_switch, -near_switch,
                     np.linspace(15, 25, 10_001)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_dense_grids(name, dtype):
    for grid in _grids(name, dtype):
        _check(name, grid.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_special_values(name, dtype):
    info = np.finfo(dtype)
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, info.max, -info.max,
                  info.smallest_subnormal, -info.smallest_subnormal, info.tiny], dtype=dtype)
    got = _run(name, x)
    _check(name, x)
    if name == "exp":
        np.testing.assert_array_equal(got[:4], [1.0, 1.0, np.inf, 0.0])
    elif name == "expm1":
        np.testing.assert_array_equal(got[:4], [0.0, -0.0, np.inf, -1.0])
        assert np.signbit(got[1]) and got[8] == x[8] and got[9] == x[9]
    elif name == "log":
        np.testing.assert_array_equal(got[:3], [-np.inf, -np.inf, np.inf])
        assert np.isnan(got[3]) and np.isnan(got[7])
    elif name == "log1p":
        np.testing.assert_array_equal(got[:3], [0.0, -0.0, np.inf])
        assert np.signbit(got[1]) and np.isnan(got[3]) and got[9] == x[9] and got[8] == x[8]
        assert _run(name, np.array([-1.0], dtype=dtype))[0] == -np.inf
    else:
        np.testing.assert_array_equal(got[:4], [0.0, -0.0, 1.0, -1.0])
        assert np.signbit(got[1]) and not np.signbit(got[0])
        np.testing.assert_array_equal(got[6:8], [1.0, -1.0])
    assert np.isnan(got[4:6]).all()


def test_exp_overflow_and_underflow_edges():
    x = np.array([709.782712893384, 709.7827128933841, -745.1332191019411, -745.1332191019412,
                  -708.3964185322641, -1000.0, 1000.0])
    got = _run("exp", x)
    assert np.isfinite(got[0]) and got[1] == np.inf
    assert got[2] == np.finfo(np.float64).smallest_subnormal and got[3] == 0.0
    assert got[5] == 0.0 and got[6] == np.inf
    x32 = np.array([88.72283, 88.72284, -103.97208, -103.97209, -87.33654], dtype=np.float32)
    _check("exp", x32)


def _finite_arrays(dtype):
    width = np.dtype(dtype).itemsize * 8
    return hnp.arrays(dtype, st.integers(1, 64), elements=st.floats(width=width, allow_nan=False,
                                                                      allow_infinity=False))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_hypothesis_finite_floats(name, dtype):
    @settings(max_examples=30, deadline=None)
    @given(x=_finite_arrays(dtype))
    def check(x):
        _check(name, x)

    check()


def test_hypothesis_bounded_floats():
    @settings(max_examples=30, deadline=None)
    @given(x=hnp.arrays(np.float64, st.integers(1, 64),
                        elements=st.floats(-800, 800, allow_nan=False)))
    def check(x):
        for name in NAMES:
            _check(name, x)
            _check(name, x.astype(np.float32))

    check()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", NAMES)
def test_loop_is_vectorized_without_libm_calls(name, dtype):
    _run(name, np.ones(4, dtype=dtype))  # compiles the loop
    loop = _loop(name, dtype)
    llvm = loop.inspect_llvm(loop.signatures[0])
    lanes = " x float>" if dtype == "float32" and name in FLOAT32_INSIDE else " x double>"
    assert lanes in llvm, "the loop over mathlib was not vectorized"
    assert f"@{name}(" not in llvm and f"@llvm.{name}." not in llvm


def _act(x):
    return np.tanh(x) + np.exp(-x * x) + np.log(x * x + 0.5) + np.log1p(x * x) + np.expm1(x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cpu_lowering_uses_mathlib(monkeypatch, dtype):
    x = np.random.default_rng(7).standard_normal(37).astype(dtype)
    monkeypatch.delenv("LOOPTRACE_LIBM", raising=False)
    f = looptrace.jit(_act, backend="cpu")
    bits = np.dtype(dtype).itemsize * 8
    src = f.explain(x).kernel_source
    for name in NAMES:
        assert f"{name}_f{bits}(" in src and f"np.{name}" not in src
    rtol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(f(x), _act(x), rtol=rtol)


def test_libm_switch_keeps_numpy(monkeypatch):
    x = np.random.default_rng(8).standard_normal(5)
    monkeypatch.setenv("LOOPTRACE_LIBM", "1")
    src = looptrace.jit(_act, backend="cpu").explain(x).kernel_source
    assert "_f64" not in src
    for name in NAMES:
        assert f"np.{name}(" in src


@pytest.mark.parametrize("dtype", [np.complex128, np.complex64, np.float16])
def test_other_dtypes_keep_numpy(monkeypatch, dtype):
    monkeypatch.delenv("LOOPTRACE_LIBM", raising=False)
    for name in NAMES:
        lowered = CPU.rule(PRIMITIVES[name]).expr(["a"], [np.dtype(dtype)], np.dtype(dtype))
        assert lowered == f"np.{name}(a)"


# --- |z| of a complex ------------------------------------------------------------------------------------
@functools.cache
def _cabs_loop(dtype: str):
    fn = mathlib.cabs_c128 if dtype == "complex128" else mathlib.cabs_c64

    @numba.njit(error_model="numpy", boundscheck=False)
    def apply(z, out):
        for i in range(z.shape[0]):
            out[i] = fn(z[i])

    return apply


def _cabs(z: np.ndarray) -> np.ndarray:
    out = np.empty(z.shape, np.float64 if z.dtype == np.complex128 else np.float32)
    _cabs_loop(z.dtype.name)(z, out)
    return out


@pytest.mark.parametrize("scale", [1.0, 1e-160, 1e160, 1e300, 1e-300, 1e-310])
def test_cabs_against_hypot(scale):
    """<= 1 ulp of hypot where the squares are safe, <= 2 where they would
    overflow or underflow; complex64 exact to float64's hypot rounded once."""
    rng = np.random.default_rng(int(-np.log10(scale) + 400))
    ratio = rng.choice([1.0, 1e-10, 1e10, 1e-200], 200_000)
    with np.errstate(over="ignore", under="ignore"):
        z = (rng.standard_normal(200_000) + 1j * rng.standard_normal(200_000) * ratio) * scale
    d = ulp_distance(_cabs(z), np.hypot(z.real, z.imag))
    assert d.max() <= (1 if scale == 1.0 else 2), z[np.argmax(d)]
    z32 = (rng.standard_normal(200_000) + 1j * rng.standard_normal(200_000)).astype(np.complex64)
    want = np.hypot(z32.real.astype(np.float64), z32.imag.astype(np.float64)).astype(np.float32)
    assert ulp_distance(_cabs(z32), want).max() == 0


def test_cabs_special_values():
    big, tiny = np.finfo(np.float64).max, np.finfo(np.float64).smallest_subnormal
    parts = [(np.inf, np.nan), (np.nan, -np.inf), (np.nan, 0.0), (0.0, np.nan), (0.0, 0.0), (-0.0, -0.0),
             (tiny, tiny), (big, big), (big, 1.0), (3.0, -4.0), (-np.inf, 2.0), (np.nan, np.nan)]
    z = np.array([complex(a, b) for a, b in parts])
    with np.errstate(over="ignore"):
        got, want = _cabs(z), np.hypot(z.real, z.imag)
        np.testing.assert_array_equal(got, want)  # inf beside NaN is inf; overflow to inf as hypot does
        z32 = z.astype(np.complex64)
    np.testing.assert_array_equal(_cabs(z32), np.abs(z32))


def test_cabs_loop_is_vectorized_and_lowered():
    _cabs(np.ones(4, np.complex128))
    loop = _cabs_loop("complex128")
    llvm = loop.inspect_llvm(loop.signatures[0])
    assert " x double>" in llvm and "hypot" not in llvm
    z = np.random.default_rng(3).standard_normal((9, 2)).view(np.complex128)[:, 0]
    src = looptrace.jit(lambda a: np.abs(a), backend="cpu").explain(z).kernel_source
    assert "cabs_c128(" in src
    np.testing.assert_allclose(looptrace.jit(lambda a: np.abs(a) * 2.0, backend="cpu")(z), np.abs(z) * 2.0,
                               rtol=1e-15)


def test_float64_hypot_is_lowered_to_cabs(rng):
    """np.hypot of float64 arrays runs mathlib's hypot (cabs_c128 of the pair,
    which vectorizes): within 2 ulp of NumPy's, its special values exact."""
    big, tiny = np.finfo(np.float64).max, np.finfo(np.float64).smallest_subnormal
    special = np.array([(np.inf, np.nan), (np.nan, -np.inf), (np.nan, 0.0), (0.0, 0.0), (-0.0, -0.0),
                        (tiny, tiny), (big, big), (3.0, -4.0), (-np.inf, 2.0), (np.nan, np.nan)]).T
    with np.errstate(over="ignore", under="ignore"):
        x = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-300, 300, 5000), special[0]])
        y = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-300, 300, 5000), special[1]])
        f = looptrace.jit(lambda a, b: np.hypot(a, b) + 0.0, backend="cpu")
        got, want = f(x, y), np.hypot(x, y)
    assert "cabs_c128(complex(" in f.explain(x, y).kernel_source
    assert ulp_distance(got, want).max() <= 2
    np.testing.assert_array_equal(got[-10:], want[-10:])
    x32 = x[:100].astype(np.float32)
    assert "cabs_c128(" not in looptrace.jit(lambda a, b: np.hypot(a, b), backend="cpu").explain(x32, x32).kernel_source


@numba.njit(error_model="numpy", boundscheck=False)
def _atan2_loop(y, x, out):
    for i in range(y.shape[0]):
        out[i] = mathlib.atan2_f64(y[i], x[i])


@pytest.mark.parametrize("kind", ["normal", "tiny", "huge", "subnormal", "mixed", "near_one", "near_half"])
def test_atan2_against_numpy(kind):
    """mathlib's atan2 is within 2 ulp of NumPy's everywhere, on both sides of
    its reductions (t = 1/2, t = 1) and over the whole exponent range."""
    r = np.random.default_rng(len(kind))
    n = 200_000
    x = r.standard_normal(n)
    y = {"normal": lambda: r.standard_normal(n), "tiny": lambda: r.standard_normal(n),
         "huge": lambda: r.standard_normal(n), "subnormal": lambda: r.standard_normal(n),
         "mixed": lambda: r.standard_normal(n) * 10.0 ** r.integers(-300, 300, n),
         "near_one": lambda: x * (1 + r.standard_normal(n) * 1e-6),
         "near_half": lambda: x * (0.5 + r.standard_normal(n) * 1e-9)}[kind]()
    scale = {"tiny": 1e-300, "huge": 1e300, "subnormal": 1e-310}.get(kind, 1.0)
    with np.errstate(under="ignore", over="ignore"):
        x, y = x * scale, y * scale
        if kind == "mixed":
            x = x * 10.0 ** r.integers(-300, 300, n)
        out = np.empty(n)
        _atan2_loop(y, x, out)
        assert ulp_distance(out, np.arctan2(y, x)).max() <= 2


def test_atan2_special_values_and_lowering():
    values = [0.0, -0.0, 1.0, -1.0, 2.5, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 1.7e308, -1.7e308]
    Y, X = (a.ravel() for a in np.meshgrid(values, values))
    out = np.empty(Y.size)
    _atan2_loop(Y, X, out)
    np.testing.assert_array_equal(out, np.arctan2(Y, X))  # NaN where NumPy's is, and each signed zero
    assert (np.signbit(out) == np.signbit(np.arctan2(Y, X))).all()
    llvm = _atan2_loop.inspect_llvm(_atan2_loop.signatures[0])
    assert " x double>" in llvm and "@atan2" not in llvm
    f = looptrace.jit(lambda a, b: np.arctan2(a, b) * 2.0, backend="cpu")
    x, y = np.random.default_rng(5).standard_normal((2, 50))
    assert "atan2_f64(" in f.explain(y, x).kernel_source
    assert ulp_distance(f(y, x), np.arctan2(y, x) * 2.0).max() <= 2


@numba.njit(error_model="numpy")
def _muladd_scalar(a, b, c):
    return mathlib._muladd(a, b, c)


@numba.njit(error_model="numpy")
def _exp_scalar(x):
    return mathlib.exp_f64(x)


@settings(max_examples=60, deadline=None)
@given(st.tuples(*(st.floats(-1e3, 1e3, allow_nan=False) for _ in range(3))))
def test_muladd_rounds_once_where_the_cpu_has_fma(abc):
    """_muladd(a, b, c) is a*b + c rounded once (exact rational arithmetic as
    the oracle) where the host has FMA; a multiply then an add elsewhere."""
    from fractions import Fraction

    a, b, c = abc
    got = _muladd_scalar(a, b, c)
    if mathlib._HOST_FMA:
        assert got == float(Fraction(a) * Fraction(b) + Fraction(c))
    else:
        assert got == a * b + c


def test_exp_is_the_same_in_scalar_and_vectorized_code():
    """The fused multiply-adds round as one operation in a SIMD lane and in
    scalar code: exp of every element equals exp of that element alone."""
    x = np.random.default_rng(3).uniform(-745.0, 709.0, 4099)
    out = np.empty_like(x)
    _loop("exp", "float64")(x, out)
    assert np.array_equal(out, np.array([_exp_scalar(v) for v in x]))


def _recurrence(x):
    y = np.empty_like(x)
    h = 0.5
    for t in range(x.shape[0]):
        h = np.log1p(np.exp(-h * x[t])) + 0.25  # on the critical path of the scan
        y[t] = h
    return y, np.exp(x)  # a map: vectorized, mathlib


def test_a_scalar_on_a_serial_loops_critical_path_calls_libm(rng):
    """exp/log1p of a float64 scalar in a scan's body: libm (half the
    latency of the polynomials in a chain); the elementwise map beside it
    keeps mathlib. Values as the plain function's."""
    x = rng.standard_normal(300)
    f = looptrace.jit(_recurrence, backend="cpu")
    for got, want in zip(f(x), _recurrence(x)):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    src = f.explain(x).kernel_source
    assert "np.exp(" in src and "np.log1p(" in src and "exp_f64(" in src


@numba.njit(error_model="numpy")
def _exp_loop_wide(x, out):
    mathlib.wide_vectors()
    for i in range(x.shape[0]):
        out[i] = mathlib.exp_f64(x[i])


@numba.njit(error_model="numpy")
def _exp_loop_narrow(x, out):
    for i in range(x.shape[0]):
        out[i] = mathlib.exp_f64(x[i])


def test_wide_vectors_marks_only_the_function_it_is_called_in():
    """wide_vectors() sets LLVM's prefer-vector-width=512 on its own function:
    on an AVX-512 host that loop uses zmm registers, the same loop without
    the call does not, and both give the same bits (lanewise arithmetic)."""
    x = np.random.default_rng(5).uniform(-700.0, 700.0, 1031)
    wide, narrow = np.empty_like(x), np.empty_like(x)
    _exp_loop_wide(x, wide)
    _exp_loop_narrow(x, narrow)
    assert np.array_equal(wide, narrow)
    assert '"prefer-vector-width"="512"' in _exp_loop_wide.inspect_llvm(_exp_loop_wide.signatures[0])
    assert '"prefer-vector-width"="512"' not in _exp_loop_narrow.inspect_llvm(_exp_loop_narrow.signatures[0])
    if "+avx512f" in mathlib._HOST_FEATURES:
        assert "zmm" in _exp_loop_wide.inspect_asm(_exp_loop_wide.signatures[0])


def _rows_of_columns(u, out):
    mathlib.wide_vectors()  # as in a kernel's functions: without the next line, LLVM 22 gathers and scatters
    mathlib.no_gathers()
    same_shape(u, (64, 64))  # a constant stride along a row of a Fortran array: LLVM would gather it
    same_shape(out, (64, 64))
    for i in range(1, 63):
        for j in range(1, 63):
            out[i, j] = u[i + 1, j] + u[i, j - 1] - 2.0 * u[i, j]


def test_no_gathers_keeps_strided_loops_scalar():
    """no_gathers() gives its function LLVM's prefer-no-gather and
    prefer-no-scatter tunings on top of the target machine's features: a
    loop along the rows of a Fortran-ordered array has no vgather or
    vscatter, and the values are the plain loop's."""
    u = np.asfortranarray(np.random.default_rng(3).standard_normal((64, 64)))
    got, want = np.zeros_like(u), np.zeros_like(u)
    fn = numba.njit(error_model="numpy")(_rows_of_columns)
    fn(u, got)
    for i in range(1, 63):
        for j in range(1, 63):
            want[i, j] = u[i + 1, j] + u[i, j - 1] - 2.0 * u[i, j]
    assert np.array_equal(got, want)
    sig = fn.signatures[0]
    assert "+prefer-no-gather,+prefer-no-scatter" in fn.inspect_llvm(sig)
    asm = fn.inspect_asm(sig)
    assert "gather" not in asm and "scatter" not in asm


@pytest.mark.parametrize("no_gathers", [True, False])
def test_kernels_ask_for_no_gathers_in_every_function_and_prange_body(monkeypatch, rng, no_gathers):
    from looptrace.codegen.cpu import emitter
    monkeypatch.setattr(emitter, "NO_GATHERS", no_gathers)
    x, y = rng.standard_normal(600_000), rng.standard_normal(600_000)
    f = _jitted_under_the_flags()
    got, want = f(x, y), _parallel_and_serial(x, y)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    lines = f.explain(x, y).kernel_source.splitlines()
    starts = [k for k, line in enumerate(lines) if line.startswith("def ") or "in numba.prange(" in line]
    tuned = [any(ln.strip() == "no_gathers()" for ln in lines[k + 1:k + 3]) for k in starts]
    assert starts and all(t == no_gathers for t in tuned)


_UNDER_FLAGS = {}


def _jitted_under_the_flags():
    """_parallel_and_serial jitted once per (NO_GATHERS, WIDE_VECTORS): the two flags are all the four
    cases below change, and the host's defaults make one no_gathers case and one wide case the same
    kernel (on Zen 3: no_gathers=True, wide=False), so that one compiles once, not twice (0.7-1.1 s each
    in 3d8fb51's CI). cache=False: a fresh kernel under each pair, not one cached under other flags."""
    from looptrace.codegen.cpu import emitter
    key = (emitter.NO_GATHERS, emitter.WIDE_VECTORS)
    if key not in _UNDER_FLAGS:
        _UNDER_FLAGS[key] = looptrace.jit(_parallel_and_serial, backend="cpu", cache=False)
    return _UNDER_FLAGS[key]


def _parallel_and_serial(x, y):
    z = np.exp(x) * y + 1.0  # a prange map at this size
    s = 0.0
    for i in range(y.shape[0]):
        s = s * 0.5 + z[i]
    return z, s


@pytest.mark.parametrize("wide", [True, False])
def test_kernels_ask_for_wide_vectors_in_every_function_and_prange_body(monkeypatch, rng, wide):
    """With WIDE_VECTORS each njit function of a kernel's module and each
    prange body starts with wide_vectors(); without, none does. Values as
    the plain function's either way."""
    from looptrace.codegen.cpu import emitter
    monkeypatch.setattr(emitter, "WIDE_VECTORS", wide)
    x, y = rng.standard_normal(600_000), rng.standard_normal(600_000)
    f = _jitted_under_the_flags()
    got, want = f(x, y), _parallel_and_serial(x, y)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14, atol=1e-15)  # exp within 1 ulp, then + 1.0
    np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    lines = f.explain(x, y).kernel_source.splitlines()
    starts = [k for k, line in enumerate(lines) if line.startswith("def ") or "in numba.prange(" in line]
    assert starts and any("numba.prange(" in lines[k] for k in starts)
    assert all((lines[k + 1].strip() == "wide_vectors()") == wide for k in starts)  # (then no_gathers())
    assert sum(line.strip() == "wide_vectors()" for line in lines) == (len(starts) if wide else 0)
