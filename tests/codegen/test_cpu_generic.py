"""Shape-generic kernels (codegen/cpu/generic.py): signatures whose kernels
differ only in int and float literals share one compiled kernel, with the
literals that vary passed at run time. The plain function is the oracle for
every shape; explain says which signatures share; the number of Numba
compiles is what the feature is for, so it is counted."""
import ast
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from bench.memory_churn import make_closure as make_scaled
from bench.memory_churn import smooth
from looptrace.codegen.cpu import generic


@pytest.fixture(autouse=True)
def fresh_families(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))
    monkeypatch.delenv("LOOPTRACE_SPECIALIZED_SHAPES", raising=False)
    generic.forget_families()
    yield
    generic.forget_families()


def blur_rows(a):
    out = a.copy()
    for i in range(1, a.shape[0] - 1):
        for j in range(a.shape[1]):
            out[i, j] = (a[i - 1, j] + a[i, j] + a[i + 1, j]) / 3.0
    return out


def window_sums(x, k):
    n = x.shape[0] - k + 1
    out = np.zeros(n)
    for i in range(n):
        out[i] = x[i:i + k].sum()
    return out


def kernels_compiled(f) -> int:
    """Distinct Numba dispatchers behind a jitted function's signatures."""
    return len({id(c.run.kernel) for c in f._cache.values()})


def shared(f, *args) -> bool:
    return any("shape-generic kernel" in n for n in f.explain(*args).notes)


def test_a_scan_over_many_lengths_compiles_two_kernels():
    f = looptrace.jit(smooth, backend="cpu")
    rng = np.random.default_rng(0)
    for n in [40, 41, 100, 257, 1000, 64]:  # (short loops are unrolled: kernels of their own)
        x = rng.standard_normal(n)
        np.testing.assert_allclose(f(x), smooth(x), rtol=1e-12)
    assert kernels_compiled(f) == 2  # the first length's own kernel, then one for all others
    assert not shared(f, rng.standard_normal(40))
    assert shared(f, rng.standard_normal(100))
    src = f.explain(rng.standard_normal(100)).kernel_source
    assert "lt_n0" in src and "range(100)" not in src


def test_two_dimensions_that_coincide_and_then_differ_are_told_apart():
    """22x20 then 42x40 (the loops run 20x20, then 40x40) group both trip
    counts in one parameter; 40x60 does not fit it, so the family widens
    with a parameter per size."""
    f = looptrace.jit(blur_rows, backend="cpu")
    rng = np.random.default_rng(1)
    for shape in [(22, 20), (42, 40), (40, 60), (50, 30), (30, 50)]:
        a = rng.standard_normal(shape)
        np.testing.assert_allclose(f(a), blur_rows(a), rtol=1e-12)
    assert kernels_compiled(f) == 3
    assert shared(f, rng.standard_normal((50, 30)))


def test_a_static_int_and_a_captured_float_are_constants_that_can_vary():
    f = looptrace.jit(window_sums, static_argnames="k", backend="cpu")
    rng = np.random.default_rng(2)
    for n, k in [(50, 3), (60, 5), (70, 2), (33, 33)]:
        x = rng.standard_normal(n)
        np.testing.assert_allclose(f(x, k), window_sums(x, k), rtol=1e-12)
    for scale in [0.5, 2.0, -3.25, 1e-3]:
        g = looptrace.jit(make_scaled(scale), backend="cpu")
        x = rng.standard_normal(20)
        assert g(x) == pytest.approx(make_scaled(scale)(x), rel=1e-12)
    assert shared(g, rng.standard_normal(20))  # closures with another constant share too


def test_index_errors_name_this_signatures_sizes():
    def gather(x, idx):
        out = np.empty(idx.shape[0])
        for i in range(idx.shape[0]):
            out[i] = x[idx[i]]
        return out

    f = looptrace.jit(gather, backend="cpu")
    for n in [10, 20, 30]:
        x = np.arange(n, dtype=np.float64)
        idx = np.arange(n)[::-1].copy()
        np.testing.assert_array_equal(f(x, idx), gather(x, idx))
    with pytest.raises(IndexError, match="40") as e:
        f(np.arange(40.0), np.array([1, 40, 2]))
    assert "size 40" in str(e.value) or "40" in str(e.value)


def test_none_shared_when_switched_off(monkeypatch):
    monkeypatch.setenv("LOOPTRACE_SPECIALIZED_SHAPES", "0")
    f = looptrace.jit(smooth, backend="cpu")
    for n in [5, 6, 7]:
        x = np.random.default_rng(n).standard_normal(n)
        np.testing.assert_allclose(f(x), smooth(x), rtol=1e-12)
    assert kernels_compiled(f) == 3 and not shared(f, np.ones(7))


def test_a_generic_kernel_that_does_not_compile_falls_back(monkeypatch):
    """A parameter where Numba needs a constant: the signature compiles its
    own kernel and the family goes back to specialized kernels."""
    real = generic._parameterize

    def broken(source, groups):
        text, params = real(source, groups)
        return text.replace("def kernel(", "def kernel(*broken_"), params  # never types

    monkeypatch.setattr(generic, "_parameterize", broken)
    f = looptrace.jit(smooth, backend="cpu")
    for n in [9, 10, 11]:
        x = np.random.default_rng(n).standard_normal(n)
        np.testing.assert_allclose(f(x), smooth(x), rtol=1e-12)
        assert not shared(f, x)


def test_threads_with_different_lengths_agree_with_plain():
    f = looptrace.jit(smooth, backend="cpu")
    f(np.ones(4))
    lengths = [16 + k for k in range(16)]
    results: dict[int, bool] = {}

    def work(n):
        x = np.random.default_rng(n).standard_normal(n)
        results[n] = np.allclose(f(x), smooth(x), rtol=1e-12)

    threads = [threading.Thread(target=work, args=(n,)) for n in lengths]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {n: True for n in lengths}
    assert kernels_compiled(f) == 3  # length 4's (another structure), one length's own, the shared one


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(3, 40), st.integers(1, 12)), min_size=1, max_size=5),
       st.integers(0, 2 ** 32 - 1))
def test_generated_shape_sequences_match_plain(shapes, seed):
    f = looptrace.jit(blur_rows, backend="cpu")
    rng = np.random.default_rng(seed)
    for shape in shapes:
        a = rng.standard_normal(shape)
        np.testing.assert_allclose(f(a), blur_rows(a), rtol=1e-12)


def row_norms(a):
    return np.sqrt((a * a).sum(axis=1)) * 0.5


def recurrent_loss(w, x):
    y = 0.0
    for t in range(x.shape[0]):
        y = np.tanh(w * y + x[t])
    return y * y


def test_threaded_kernels_share_one_generic_kernel():
    f = looptrace.jit(row_norms, backend="cpu")
    rng = np.random.default_rng(3)
    for shape in [(50000, 50), (40000, 30), (30000, 45)]:
        a = rng.standard_normal(shape)
        np.testing.assert_allclose(f(a), row_norms(a), rtol=1e-12)
    a = rng.standard_normal((30000, 45))
    assert shared(f, a) and "prange" in f.explain(a).kernel_source
    assert kernels_compiled(f) == 2


def test_gradients_through_a_shared_kernel_match_finite_differences():
    g = looptrace.grad(recurrent_loss, backend="cpu")
    rng = np.random.default_rng(4)
    for n in [30, 45, 60]:
        x = rng.standard_normal(n) * 0.5
        w, h = 0.7, 1e-6
        fd = (recurrent_loss(w + h, x) - recurrent_loss(w - h, x)) / (2 * h)
        assert g(w, x) == pytest.approx(fd, rel=1e-6, abs=1e-9)


# --- the literal analysis itself --------------------------------------------------------------
SOURCE = '''
import numpy as np
N = 5

@numba.njit(cache=True, boundscheck=False)
def kernel(v1):
    a = np.empty((10,), dtype=np.float64)
    for i in range(10):
        a[i] = v1[i] ** 2 + 0.5
    if 10 > 3:
        a[0] = 1.0
    np.sum(a, axis=0)
    return part(a, 4)


@numba.njit(cache=True)
def part(a, k):
    return a[7] * k
'''


def test_which_literals_may_vary():
    lits = generic.literals(SOURCE)
    free = dict(zip(range(len(lits.values)), lits.free))
    values = list(lits.values)
    assert values[0] == 5 and not free[0]  # module level
    fixed = {v for v, ok in zip(values, lits.free) if not ok}
    assert {5, 2, 3, 0} <= fixed  # module level, exponent, branch test, keyword
    assert [v for v, ok in zip(values, lits.free) if ok].count(10) == 2


def test_parameters_are_threaded_to_the_functions_that_need_them():
    lits = generic.literals(SOURCE)
    sizes = [p for p, (v, ok) in enumerate(zip(lits.values, lits.free)) if ok and v in (10, 7)]
    text, params = generic._parameterize(SOURCE, [sizes])
    tree = ast.parse(text)
    fns = {f.name: [a.arg for a in f.args.args] for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert fns == {"kernel": ["v1", "lt_n0"], "part": ["a", "k", "lt_n0"]}
    assert params == ["lt_n0"] and "part(a, 4, lt_n0)" in text


def test_a_family_remembers_a_bounded_number_of_members():
    fam = generic.Family()
    for k in range(3 * generic.MAX_MEMBERS):
        fam.note(generic.Literals("s", (k,), (True,)))
    assert len(fam.members) == generic.MAX_MEMBERS
