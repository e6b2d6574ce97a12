"""Warm gradient calls (autodiff/api.py `_keep_warm`): a call with the
signature of an earlier one runs the kept runner, without the general
path's binding, specs and lookup, and falls back to the general path
wherever the key or a guard says the program may differ."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff import api as A


@pytest.fixture
def general_calls(monkeypatch):
    """Counts the general path's program lookups (`_Differentiated.compiled`)."""
    calls = [0]
    compiled = A._Differentiated.compiled

    def counting(self, *args, **kwargs):
        calls[0] += 1
        return compiled(self, *args, **kwargs)

    monkeypatch.setattr(A._Differentiated, "compiled", counting)
    return calls


def fd(f, args, i, eps=1e-6):
    """Central finite differences of f with respect to args[i] (float64)."""
    x = np.array(args[i], dtype=np.float64)
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for k in range(flat.size):
        hi, lo = flat.copy(), flat.copy()
        hi[k] += eps
        lo[k] -= eps
        a_hi, a_lo = list(args), list(args)
        a_hi[i] = hi.reshape(x.shape) if x.ndim else float(hi[0])
        a_lo[i] = lo.reshape(x.shape) if x.ndim else float(lo[0])
        gflat[k] = (f(*a_hi) - f(*a_lo)) / (2 * eps)
    return g


def tanh_sq(x):
    return np.sum(np.tanh(x) ** 2)


def test_warm_call_skips_the_general_path(general_calls, rng):
    g = lt.grad(tanh_sq, backend="interpret")
    vg = lt.value_and_grad(tanh_sq, backend="interpret")
    x = rng.standard_normal(7)
    g(x), vg(x)
    n = general_calls[0]
    for _ in range(3):
        x = rng.standard_normal(7)
        gx = g(x)
        v, gv = vg(x)
        assert gx.dtype == np.float64 and gx.shape == (7,)
        np.testing.assert_allclose(gx, 2 * np.tanh(x) / np.cosh(x) ** 2, rtol=1e-12)
        np.testing.assert_array_equal(gx, gv)
        assert v == pytest.approx(tanh_sq(x), rel=1e-12) and type(v) is type(tanh_sq(x))
    assert general_calls[0] == n  # every call since the first ones: the warm runner


def test_dtype_shape_and_kind_changes_fall_back(general_calls, rng):
    g = lt.grad(tanh_sq, backend="interpret")
    x = rng.standard_normal(5)
    g(x)
    for y in (rng.standard_normal(6), rng.standard_normal((2, 3)), rng.standard_normal(5).astype(np.float32),
              np.asfortranarray(rng.standard_normal((3, 4))), float(rng.standard_normal()),
              np.float32(rng.standard_normal())):
        out = g(y)
        want = 2 * np.tanh(np.asarray(y, np.float64)) / np.cosh(np.asarray(y, np.float64)) ** 2
        assert np.shape(out) == np.shape(y) and np.asarray(out).dtype == np.asarray(y).dtype
        assert type(out) is (np.ndarray if isinstance(y, np.ndarray) else type(np.asarray(y)[()]))
        np.testing.assert_allclose(out, want, rtol=1e-5 if np.asarray(y).dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(g(x), 2 * np.tanh(x) / np.cosh(x) ** 2, rtol=1e-12)  # back to the first


SCALE = 1.5
W = np.linspace(0.5, 1.5, 6)


def reads_globals(x):
    return SCALE * np.sum((x * W) ** 2)


def test_a_changed_global_is_seen(general_calls, rng):
    global SCALE, W
    saved = SCALE, W
    try:
        g = lt.grad(reads_globals, backend="interpret")
        x = rng.standard_normal(6)
        g(x)
        n = general_calls[0]
        np.testing.assert_allclose(g(x), 2 * SCALE * W ** 2 * x, rtol=1e-12)
        assert general_calls[0] == n  # a global array: fetched and guarded by the warm runner
        W[:] = rng.random(6)  # in place: read at the call
        np.testing.assert_allclose(g(x), 2 * SCALE * W ** 2 * x, rtol=1e-12)
        W = rng.random(6)  # rebound, same shape
        np.testing.assert_allclose(g(x), 2 * SCALE * W ** 2 * x, rtol=1e-12)
        SCALE = 2.5  # a guarded number: the general path retraces
        np.testing.assert_allclose(g(x), 2 * SCALE * W ** 2 * x, rtol=1e-12)
        assert general_calls[0] > n
        W = rng.random(3)  # another shape: as the plain function (which fails to broadcast)
        with pytest.raises(ValueError):
            reads_globals(x)
        with pytest.raises(Exception):
            g(x)
        W = rng.random(6)
        np.testing.assert_allclose(g(x), 2 * SCALE * W ** 2 * x, rtol=1e-12)
    finally:
        SCALE, W = saved


def power_sum(x, n, scale=1.0):
    return scale * np.sum(x[:n] ** n)


def test_ints_keywords_and_defaults(general_calls, rng):
    g = lt.grad(power_sum, backend="interpret")
    x = rng.random(6) + 0.5
    for n in (2, 3, 2, 4, 3):  # each int its own program, concrete
        want = np.zeros(6)
        want[:n] = n * x[:n] ** (n - 1)
        np.testing.assert_allclose(g(x, n), want, rtol=1e-12)
        np.testing.assert_allclose(g(x, n, 2.0), 2 * want, rtol=1e-12)
        np.testing.assert_allclose(g(x, n=n, scale=0.5), 0.5 * want, rtol=1e-12)
        np.testing.assert_allclose(g(x, scale=3.0, n=n), 3 * want, rtol=1e-12)
    n_calls = general_calls[0]
    np.testing.assert_allclose(g(x, 3, scale=2.0)[:3], 2 * 3 * x[:3] ** 2, rtol=1e-12)
    assert general_calls[0] == n_calls
    with pytest.raises(TypeError):
        g(x, 3, bogus=1.0)
    with pytest.raises(TypeError):
        g(x.astype(np.int64), 2)  # an int array cannot be differentiated: every call says so
    with pytest.raises(TypeError):
        g(x.astype(np.int64), 2)


def draws(x, gen):
    return np.sum(x * gen.standard_normal(x.shape))


def writes(x, out):
    out[:] = x * 2
    return np.sum(x ** 2)


def test_effects_keep_the_general_path(rng):
    g = lt.grad(draws, backend="interpret")
    x = rng.random(5)
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    for _ in range(3):
        got = g(x, a)
        np.testing.assert_allclose(got, b.standard_normal(5), rtol=1e-12)  # what the call drew, once
    assert a.standard_normal() == b.standard_normal()
    gw = lt.value_and_grad(writes, backend="interpret")
    for _ in range(3):
        x = rng.random(4)
        out = np.zeros(4)
        v, gx = gw(x, out)
        np.testing.assert_allclose(out, 2 * x)
        np.testing.assert_allclose(gx, 2 * x, rtol=1e-12)
        assert v == pytest.approx(np.sum(x ** 2))


def two_args(a, b):
    return np.sum(a * b + np.sin(a) * b ** 2)


def test_argnums_tuple_has_aux_and_containers(general_calls, rng):
    g01 = lt.grad(two_args, argnums=(0, 1), backend="interpret")
    g1 = lt.grad(two_args, argnums=-1, backend="interpret")
    aux = lt.value_and_grad(lambda a, b: (two_args(a, b), a * 2), has_aux=True, backend="interpret")
    gaux = lt.grad(lambda a, b: (two_args(a, b), a * 2), has_aux=True, backend="interpret")
    tree = lt.grad(lambda p, x: np.sum(np.tanh(p["a"] * x + p["b"]) ** 2), backend="interpret")
    for k in range(3):
        a, b = rng.standard_normal(4), rng.standard_normal(4)
        da, db = b + np.cos(a) * b ** 2, a + 2 * np.sin(a) * b
        ga, gb = g01(a, b)
        np.testing.assert_allclose(ga, da, rtol=1e-12)
        np.testing.assert_allclose(gb, db, rtol=1e-12)
        np.testing.assert_allclose(g1(a, b), db, rtol=1e-12)
        (v, ax), gv = aux(a, b)
        assert v == pytest.approx(two_args(a, b)) and isinstance(gv, np.ndarray)
        np.testing.assert_allclose(ax, 2 * a)
        np.testing.assert_allclose(gv, da, rtol=1e-12)
        gg, ax2 = gaux(a, b)
        np.testing.assert_allclose(gg, da, rtol=1e-12)
        np.testing.assert_allclose(ax2, 2 * a)
        p, x = {"a": rng.standard_normal(3), "b": rng.standard_normal(3)}, rng.standard_normal(3)
        gp = tree(p, x)
        t = np.tanh(p["a"] * x + p["b"])
        assert list(gp) == ["a", "b"]
        np.testing.assert_allclose(gp["a"], 2 * t * (1 - t ** 2) * x, rtol=1e-12)
        np.testing.assert_allclose(gp["b"], 2 * t * (1 - t ** 2), rtol=1e-12)
        if k == 0:
            n = general_calls[0]
    assert general_calls[0] == n


def picks(x, idx):
    return np.sum(x[idx] ** 2)


def test_a_run_time_error_of_a_warm_call(rng):
    g = lt.grad(picks, backend="interpret")
    x = rng.random(5)
    for idx in ([0, 1], [2, 3], [1, 7], [4, 1]):
        if max(idx) >= 5:
            with pytest.raises(IndexError):
                g(x, np.array(idx))
            continue
        want = np.zeros(5)
        want[idx] = 2 * x[idx]
        np.testing.assert_allclose(g(x, np.array(idx)), want, rtol=1e-12)


def test_options_of_one_jitted_function_keep_their_own_runners(rng):
    jf = lt.jit(lambda x: np.sum(np.cumsum(x) ** 2), backend="interpret")
    plain, every2 = lt.grad(jf), lt.grad(jf, checkpoint=2)
    x = rng.random(6)
    for _ in range(2):
        np.testing.assert_allclose(plain(x), every2(x), rtol=1e-12)
    tags = {k[1] if k[0] == "last" else k[0] for k in jf._warm_transformed}
    assert tags == {("grad", 0, False, None), ("grad", 0, False, 2)}


def sized(x, n):
    return np.sum(x * np.linspace(0.0, 1.0, int(n)) ** 2)


def test_a_float_that_sizes_an_array_is_keyed_by_value(general_calls, rng):
    g = lt.grad(sized, backend="interpret")
    for n in (5.0, 6.0, 5.0, 6.0, 5.0):
        x = rng.random(int(n))
        np.testing.assert_allclose(g(x, n), np.linspace(0.0, 1.0, int(n)) ** 2, rtol=1e-12)
        if n == 6.0:
            calls = general_calls[0]
    assert general_calls[0] == calls  # both values warm
    with pytest.raises(TypeError, match="cannot differentiate with respect to argument `n`"):
        lt.grad(sized, argnums=1, backend="interpret")(rng.random(5), 5.0)


def test_two_threads_at_once(rng):
    g = lt.grad(tanh_sq, backend="interpret")
    xs = [rng.standard_normal(5), rng.standard_normal(8), rng.standard_normal(5).astype(np.float32)]
    for x in xs:
        g(x)
    errors = []
    start = threading.Barrier(2)

    def work(seed):
        r = np.random.default_rng(seed)
        start.wait()
        for _ in range(60):
            x = xs[r.integers(3)] * r.random()
            want = 2 * np.tanh(x.astype(np.float64)) / np.cosh(x.astype(np.float64)) ** 2
            got = g(x)
            if got.dtype != x.dtype or not np.allclose(got, want, rtol=1e-5):
                errors.append((x, got))

    threads = [threading.Thread(target=work, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_a_warm_entry_goes_with_its_evicted_program(rng):
    g = lt.grad(tanh_sq, backend="interpret")
    x = rng.standard_normal(3)
    g(x)
    jf = A._shared(tanh_sq, None, "interpret").jit
    assert jf._warm_transformed
    compiled = jf._warm_transformed[("last", ("grad", 0, False, None))][0]
    jf.forget_fast(compiled)  # (what the signature cache's eviction calls, api.py `_forget_in`)
    assert all(entry[0] is not compiled for entry in jf._warm_transformed.values())
    np.testing.assert_allclose(g(x), 2 * np.tanh(x) / np.cosh(x) ** 2, rtol=1e-12)


OFFSET = np.linspace(-1.0, 1.0, 5)


def logistic(w, X, y, lam):
    z = X @ w + OFFSET
    return np.mean(np.log1p(np.exp(-z)) + (1 - y) * z) + lam * np.sum(w ** 2)


def test_cpu_direct_runner(general_calls, rng):
    """One kernel: the generated warm runner (CpuKernel.fast) against the
    general path's results and finite differences."""
    X, y = rng.standard_normal((5, 3)), (rng.random(5) > 0.5).astype(np.float64)
    g = lt.grad(logistic, argnums=(0, 3), backend="cpu")
    vg = lt.value_and_grad(logistic, argnums=(0, 3), backend="cpu")
    w, lam = rng.standard_normal(3), 0.3
    first = g(w, X, y, lam)
    n = general_calls[0]
    jf = A._shared(logistic, None, "cpu").jit
    runners = [e[1] for k, e in jf._warm_transformed.items() if k[0][0] == "grad"]
    assert runners and runners[0].run.__name__ == "direct"  # the generated one
    for k in range(3):
        if k == 2:
            OFFSET[:] = rng.standard_normal(5)  # a global array, written in place: read at the call
        w, lam = rng.standard_normal(3), float(rng.random())
        gw, gl = g(w, X, y, lam)
        v, (gw2, gl2) = vg(w, X, y, lam)
        assert gw.dtype == np.float64 and gw.shape == (3,) and type(gl) is np.float64
        np.testing.assert_allclose(gw, fd(logistic, (w, X, y, lam), 0), rtol=1e-6, atol=1e-8)
        assert gl == pytest.approx(np.sum(w ** 2), rel=1e-9)
        np.testing.assert_array_equal(gw, gw2)
        assert gl == gl2 and v == pytest.approx(logistic(w, X, y, lam), rel=1e-12)
        assert type(v) is type(logistic(w, X, y, lam))
    assert general_calls[0] == n + 1  # (value_and_grad's first call: the same program, looked up)
    assert isinstance(first, tuple) and len(first) == 2
