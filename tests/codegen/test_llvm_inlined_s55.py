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


SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import user_mod
import looptrace
from looptrace.codegen.cpu import mathlib, templates  # noqa: F401  (what the cpu backend imports)
pending = len(mathlib._RARE_PENDING)
f = looptrace.jit(user_mod.sin_cos, backend="cpu")
x = user_mod.data()
y = f(x)
(compiled,) = f._cache.values()
stats = compiled.run.kernel.stats
with np.errstate(invalid="ignore"):
    want = user_mod.sin_cos(x)
print(json.dumps({"pending": pending, "left": len(mathlib._RARE_PENDING), "compiled": sorted(mathlib._RARE_CALLBACKS),
                  "hits": sum(stats.cache_hits.values()),
                  "misses": sum(stats.cache_misses.values()),
                  "ok": bool(np.allclose(y, want, rtol=1e-14, atol=1e-15, equal_nan=True))}))
"""

USER = """
import numpy as np


def sin_cos(x):
    return np.sin(x) * 0.5 - np.cos(x)


def data():
    return np.array([1e300, -1e300, np.inf, np.nan, 2.0 ** 40, 0.5, -0.0, 3.0] * 4)
"""


def test_rare_callbacks_compiled_when_cached_code_needs_them(tmp_path, monkeypatch):
    """mathlib's rare-path C callbacks are compiled when first needed, not at import: a new
    process that loads a kernel calling them from the disk cache (no typing) registers them
    from the cached code's names (cache.py LOAD_HOOKS) before linking it; without, the rare
    path would call address 0."""
    import importlib.util
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "user_mod.py").write_text(USER)
    (tmp_path / "run.py").write_text(SCRIPT)
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path / "kernels"))
    spec = importlib.util.spec_from_file_location("user_mod", tmp_path / "user_mod.py")
    user = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(user)
    looptrace.jit(user.sin_cos, backend="cpu")(user.data())  # compiled here, written to the cache
    out = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path)], env=dict(os.environ),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["hits"] >= 1 and got["misses"] == 0, got
    # only the callbacks the cached code calls (its module defines only their vector variants)
    assert got["compiled"] == ["looptrace_cos_f64_huge", "looptrace_sin_f64_huge"], got
    assert got["left"] == got["pending"] - 2 > 0, got
    assert got["ok"], got
