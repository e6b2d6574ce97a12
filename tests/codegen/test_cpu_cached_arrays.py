"""A kernel makes its arrays through the cached helpers of
codegen/cpu/templates.py (`alloc`, `contiguous`, `copied`, `filled`;
a concatenate is a copy loop per piece), never through Numba's np.empty & co. written in the kernel, which
Numba compiles again in every process (0.05-0.2 s each). The helpers are
typed on plain argument types, one compiled version per rank and dtype
whatever the shape, so a new process with a warm helper cache compiles none of
Numba's array implementations. Values and effects are the plain function's."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numba.core import types

import looptrace
from looptrace.codegen.cpu import templates

HELPERS = ("alloc", "contiguous", "copied", "filled", "normal_draws", "uniform_draws")
NUMBA_SPELLINGS = ("np.empty(", "np.ascontiguousarray(", ".copy()", "np.full(", "np.concatenate(", ".standard_normal(",
                   ".random(")


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def arrays(x, y, n, g):
    """A copy written in place, a concatenation, a full, a scalar reshaped,
    a strided read made contiguous by a reshape, a fresh array carried
    through a loop, draws from a generator and a while loop per row (its
    counts stacked by the loop: `trip_count`)."""
    z = x.copy()
    z[0] += 1.0
    c = np.concatenate([x, y], axis=0)
    f = np.full((n, 3), x[0, 0]) + y[0, 0]
    s = np.reshape(x[0, 0] * y[0, 0], (1, 1))
    r = x[:, ::2].reshape(-1)
    acc = np.zeros(x.shape[1])
    for i in range(x.shape[0]):
        acc = acc * 0.5 + x[i]
    noise = g.standard_normal(x.shape[1]) + g.random(3).sum()
    steps = np.zeros(x.shape[0])
    for i in range(x.shape[0]):
        k = 0
        v = abs(x[i, 0]) + 0.5
        while v > 0.1 and k < 6:
            v = v * 0.5
            k += 1
        steps[i] = k
    return z, c, f, s, r.sum(), acc, noise, steps


# the tests share its compile for (6, 4) and (3, 4) operands (one kernel, ~3 s of CPU cold)
ARRAYS = looptrace.jit(arrays, backend="cpu", static_argnames=("n",))


def _literal(t) -> bool:
    if isinstance(t, types.Literal):
        return True
    return isinstance(t, types.BaseTuple) and any(_literal(e) for e in t)


# (9, 5) with -m slow: test_helpers_are_typed_without_literals compiles and checks the values of another size
@pytest.mark.parametrize("shape", [(6, 4), pytest.param((9, 5), marks=pytest.mark.slow)])
def test_values_and_no_numba_array_functions_in_the_kernel(rng, shape):
    x, y = rng.standard_normal(shape), rng.standard_normal((3, shape[1]))
    f = ARRAYS
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    for got, want in zip(f(x, y, 4, g1), arrays(x, y, 4, g2)):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert g1.bit_generator.state == g2.bit_generator.state
    src = f.explain(x, y, 4, g1).kernel_source
    assert not [s for s in NUMBA_SPELLINGS if s in src], src
    for helper in ("alloc(", "# joined", "filled(", "copied(", "contiguous(", "normal_draws(", "uniform_draws(", "trip_count("):
        assert helper in src, helper


def test_helpers_are_typed_without_literals(rng):
    """Two kernels whose arrays differ only in size share the helpers'
    compiled versions: no signature holds a literal size."""
    f = ARRAYS
    f(rng.standard_normal((6, 4)), rng.standard_normal((3, 4)), 4, np.random.default_rng(1))
    before = set(templates.alloc.signatures)
    x, y = rng.standard_normal((7, 4)), rng.standard_normal((2, 4))
    for got, want in zip(f(x, y, 5, np.random.default_rng(2)), arrays(x, y, 5, np.random.default_rng(2))):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert set(templates.alloc.signatures) == before  # other sizes, the same versions
    for h in HELPERS:
        sigs = getattr(templates, h).signatures
        assert sigs, h
        assert not [s for s in sigs if any(_literal(t) for t in s)], (h, sigs)


SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, sys.argv[1])
    import numba
    import numba.core.dispatcher as D
    compiled = []
    plain_compile = D.Dispatcher.compile
    def compile(self, sig):
        n = len(self.overloads)
        cres = plain_compile(self, sig)
        if len(self.overloads) > n and not self.py_func.__module__.startswith("looptrace_kernels"):
            compiled.append(self.py_func.__module__ + "." + self.py_func.__name__)
        return cres
    D.Dispatcher.compile = compile
    import user_mod, looptrace
    rng = np.random.default_rng(int(sys.argv[2]))
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((3, 4))
    f = looptrace.jit(user_mod.arrays, backend="cpu", static_argnames=("n",))
    got, want = f(x, y, 4, np.random.default_rng(7)), user_mod.arrays(x, y, 4, np.random.default_rng(7))
    ok = all(np.allclose(a, b, rtol=1e-12) for a, b in zip(got, want))
    kernel = list(compiled)
    numba.njit(lambda n: np.empty((n, 2)))(3)  # the control: a compile of Numba's own, seen by the probe
    print(json.dumps({"ok": ok, "compiled": kernel, "control": compiled[len(kernel):]}))
""")


def test_a_new_process_compiles_nothing_of_numbas(tmp_path):
    """With the helpers in Numba's disk cache (this process put them there, or
    found them there, compiling the same kernel), a new process compiling the
    kernel afresh loads them and compiles nothing of Numba's own (np.empty,
    np.concatenate, the array allocator, builtin min). Its control, an
    np.empty compiled after the kernel, shows the probe sees Numba's compiles.
    (One process with a cold Numba cache before it cost ~10 s of the test's
    16 s in session 54's CI.)"""
    import inspect

    rng = np.random.default_rng(700)
    x, y = rng.standard_normal((6, 4)), rng.standard_normal((3, 4))
    ARRAYS(x, y, 4, np.random.default_rng(7))  # the helpers' versions this kernel calls, now in Numba's disk cache
    (tmp_path / "user_mod.py").write_text("import numpy as np\n\n" + inspect.getsource(arrays))
    (tmp_path / "run.py").write_text(SCRIPT)
    # an empty kernel cache: the kernel is compiled again; Numba's cache directory is this process's
    env = dict(os.environ, LOOPTRACE_CACHE_DIR=str(tmp_path / "kernels"))
    out = subprocess.run([sys.executable, str(tmp_path / "run.py"), str(tmp_path), "700"], env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    new = json.loads(out.stdout.strip().splitlines()[-1])
    assert new["ok"]
    assert "looptrace.codegen.cpu.templates.alloc" in new["compiled"]  # loaded from the disk cache
    assert not [c for c in new["compiled"] if c.startswith("numba.")], new["compiled"]
    assert any(c.startswith("numba.np.arrayobj") for c in new["control"]), new["control"]


def gather(x, idx):
    return x[idx] * 2.0


def test_bounds_checks_are_called_helpers(rng):
    """A gather's bounds check is the cached `check_elem`, compiled as a
    version of its own (not typed again inside every kernel): values, negative
    indices and the IndexError for an index out of range stay the plain
    function's."""
    x = rng.standard_normal(9)
    idx = rng.integers(-9, 9, 14)
    f = looptrace.jit(gather, backend="cpu")
    np.testing.assert_allclose(f(x, idx), gather(x, idx), rtol=1e-12)
    assert "check_elem(" in f.explain(x, idx).kernel_source
    assert templates.check_elem.signatures  # a compiled version, not inlined IR
    assert not [s for s in templates.check_elem.signatures if any(_literal(t) for t in s)]
    bad = idx.copy()
    bad[3] = 9
    with pytest.raises(IndexError, match=r"index 9 is out of bounds(.|\n)*return x\[idx\] \* 2.0"):
        f(x, bad)


def test_alloc_builds_arrays_as_np_empty_does():
    """`alloc` builds its array with Numba's own shape parsing and allocator
    (an intrinsic, not the np.empty overload's implementation): every rank,
    dtype and a 0-d shape; a negative size raises NumPy's ValueError."""
    import numba

    @numba.njit
    def make(n):
        a, b = templates.alloc((n, 2), np.float64), templates.alloc(n, np.int32)
        c, d = templates.alloc((), np.complex128), templates.alloc((n, 1, 2), np.bool_)
        e = templates.alloc((n, 0), np.float32)
        a[:] = 1.5
        b[:] = 2
        return a, b, c, d, e

    a, b, c, d, e = make(3)
    assert [x.shape for x in (a, b, c, d, e)] == [(3, 2), (3,), (), (3, 1, 2), (3, 0)]
    assert [x.dtype for x in (a, b, c, d, e)] == [np.float64, np.int32, np.complex128, np.bool_, np.float32]
    assert a.sum() == 9.0 and b.sum() == 6 and a.flags.c_contiguous and d.flags.c_contiguous
    with pytest.raises(ValueError, match="negative dimensions"):
        make(-1)
