"""Bounded memory and no recursion limit: the in-memory caches are an LRU
of bounded size, the kernels of dropped functions are released, and
programs Python runs fine (400 chained statements, a 500-term expression, a
500-item list iterated in a loop) compile."""
import gc
import os
import weakref

import numpy as np
import pytest

import looptrace as lt
from looptrace import sigcache


def _made(src: str, name: str, tmp_path, **glb):
    """A function from source written to a file (so its source can be read)."""
    path = tmp_path / f"{name}_{abs(hash(src)) % 10**8}.py"
    path.write_text(src)
    ns = {"np": np, **glb}
    exec(compile(src, str(path), "exec"), ns)
    return ns[name]


def chained(n: int) -> str:
    body = "\n".join(f"        y = y * 0.5 + x[i] * {k % 7 + 1}" for k in range(n))
    return f"def f(x):\n    out = np.empty_like(x)\n    for i in range(x.shape[0]):\n        y = 0.0\n{body}\n        out[i] = y\n    return out\n"


def long_expression(n: int) -> str:
    expr = " + ".join(f"x[i] * {k % 5 + 1}" for k in range(n))
    return f"def f(x):\n    out = np.empty_like(x)\n    for i in range(x.shape[0]):\n        out[i] = {expr}\n    return out\n"


LIST_LOOP = "def f(x):\n    s = x * 0.0\n    for w in WEIGHTS:\n        s = s + w * x\n    return s\n"


@pytest.mark.parametrize("backend", ["interpret", pytest.param("cpu", marks=pytest.mark.slow)])
@pytest.mark.parametrize("what", ["400 chained statements", "500-term expression", "500-item list"])
def test_no_recursion_limit_on_programs_python_runs(what, backend, tmp_path, rng):
    if what.startswith("400"):
        f = _made(chained(400), "f", tmp_path)
    elif what.startswith("500-term"):
        f = _made(long_expression(500), "f", tmp_path)
    else:
        f = _made(LIST_LOOP, "f", tmp_path, WEIGHTS=[float(k) for k in range(500)])
    x = rng.standard_normal(6)
    np.testing.assert_allclose(lt.jit(f, backend=backend)(x), f(x), rtol=1e-9)


def test_deep_fused_chain_on_the_cpu_backend(tmp_path, rng):
    """The CPU backend's fusion emits a chain of any length without recursing
    once per link (a bounded default sample of the slow tests above)."""
    f = _made(chained(260), "f", tmp_path)
    x = rng.standard_normal(5)
    np.testing.assert_allclose(lt.jit(f, backend="cpu")(x), f(x), rtol=1e-9)


def test_the_recursion_limit_is_restored(tmp_path, rng):
    import sys

    before = sys.getrecursionlimit()
    lt.jit(_made(long_expression(300), "f", tmp_path), backend="interpret")(rng.standard_normal(3))
    assert sys.getrecursionlimit() == before


def smooth(x):
    y = 0.0
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        y = 0.5 * y + x[t]
        out[t] = y
    return out


def test_compiled_signatures_are_bounded_lru(monkeypatch, rng):
    monkeypatch.setenv("LOOPTRACE_MAX_COMPILED", "5")
    f = lt.jit(smooth, backend="interpret")
    traces = []
    original = f.trace
    f.trace = lambda *a, **k: traces.append(1) or original(*a, **k)
    for n in range(3, 15):
        x = rng.standard_normal(n)
        np.testing.assert_allclose(f(x), smooth(x))
    assert sigcache.total_entries() <= 5 and len(f._cache) <= 5
    x = rng.standard_normal(14)  # the most recent signature is still compiled
    np.testing.assert_allclose(f(x), smooth(x))
    assert len(traces) == 12
    x = rng.standard_normal(3)  # the oldest was evicted: compiled again, still right
    np.testing.assert_allclose(f(x), smooth(x))
    assert len(traces) == 13


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_kernels_of_dropped_functions_are_released(backend, rng):
    x = rng.standard_normal(6)
    refs = []
    for k in range(2):  # (two functions, each its own kernel: 4 were 2.3 s of session 55's CI on cpu)
        scale = float(k)

        def f(x):
            s = 0.0
            for i in range(x.shape[0]):
                s += scale * x[i]
            return s

        jitted = lt.jit(f, backend=backend)
        assert np.isclose(jitted(x), f(x))
        (compiled,) = jitted._cache.values()
        refs.append(weakref.ref(compiled))
        del jitted, compiled, f
    gc.collect()
    assert all(r() is None for r in refs)


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS read from /proc")
def test_resident_memory_is_flat_under_signature_churn(rng):
    """24 input lengths: two Numba compiles (the first length's own kernel,
    then one shape-generic kernel for the rest: codegen/cpu/generic.py), and
    resident memory after the third length stays put (a compile per length
    was about 1.7 MB each, bench/memory_churn.py: 21 lengths past the third,
    ~36 MB; 40 lengths were 4.2 s of session 55's CI)."""
    f = lt.jit(smooth, backend="cpu")
    lengths = range(40, 64)
    for k, n in enumerate(lengths):
        x = rng.standard_normal(n)
        np.testing.assert_allclose(f(x), smooth(x), rtol=1e-12)
        if k == 2:
            gc.collect()
            before = _rss_mb()
    gc.collect()
    assert _rss_mb() - before < 10
    assert len({id(c.run.kernel) for c in f._cache.values()}) == 2
