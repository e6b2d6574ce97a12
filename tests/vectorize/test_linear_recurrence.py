"""A residual linear recurrence h = a[t] * h + b[t] runs as a `linear_scan`
(looptrace/vectorize/linear.py, looptrace/ops/scan.py): the plain function's
values (float64 rtol 1e-9, float32 rtol 1e-4) on the interpreter and the CPU
backend, the rewrite seen in the IR and in `explain`, loops that must keep
their scan, gradients against finite differences, and every CPU variant of
the kernel compiled once.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.finance import ewma as ewma_loop
from looptrace.autodiff.check import numerical_grad
from looptrace.codegen import cpu
from looptrace.codegen.target import CompileOptions
from looptrace.codegen import reference as interpret
from looptrace.codegen.cpu import recurrence as scan_cpu
from looptrace.ir.core import Block, Op, Program, SourceLoc, Value, walk
from looptrace.ops import PRIMITIVES

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
RTOL = {np.dtype(np.float64): 1e-9, np.dtype(np.float32): 1e-4}


# --- the update spellings ---------------------------------------------------------------------
def mul_add(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
    return h


def h_first(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = h * a[t] + b[t]
    return h


def b_first(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = b[t] + a[t] * h
    return h


def add_only(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = h + b[t]
    return h


def mul_only(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h
    return h


def subtracted(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = b[t] - a[t] * h
    return h


def grouped(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = -((h - b[t]) * a[t]) / 1.5 + 0.25 * b[t]
    return h


def history(a, b, h0):
    h = h0
    Y = np.empty(b.shape, dtype=b.dtype)
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        Y[t] = h
    return Y, h


def history_before(a, b, h0):
    h = h0
    Y = np.empty(b.shape, dtype=b.dtype)
    Z = np.empty(b.shape, dtype=b.dtype)
    for t in range(a.shape[0]):
        Y[t] = 2.0 * h + b[t]
        h = a[t] * h + b[t]
        Z[t] = h * a[t]
    return Y, Z, h


def two_carries(a, b, h0):
    h = h0
    g = h0 * 2.0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        g = 0.5 * g - b[t]
    return h, g


SPELLINGS = [mul_add, h_first, b_first, add_only, mul_only, subtracted, grouped, history, history_before,
             two_carries]


def _args(rng, steps, state, dtype):
    a = rng.uniform(-1, 1, (steps, *state)).astype(dtype)
    b = rng.standard_normal((steps, *state)).astype(dtype)
    return a, b, rng.standard_normal(state).astype(dtype)


def _close(got, want, dtype):
    for g, w in zip(np.atleast_1d(got) if not isinstance(got, tuple) else got,
                    np.atleast_1d(want) if not isinstance(want, tuple) else want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=RTOL[np.dtype(dtype)], atol=RTOL[np.dtype(dtype)])


def scans_in(fn, args, backend="interpret"):
    """(number of linear_scan ops, number of for_loops) after the passes, and the loop reports."""
    e = looptrace.jit(fn, backend=backend).explain(*args)
    ops = list(walk(e.program.body))
    return sum(op.prim.name == "linear_scan" for op in ops), sum(op.prim.name == "for_loop" for op in ops), e.loops


@pytest.fixture
def low_threshold(monkeypatch):
    monkeypatch.setenv("LOOPTRACE_PREFIX_SCAN_MIN_TRIPS", "1")


# --- values -------------------------------------------------------------------------------------
@SETTINGS
@given(fn=st.sampled_from(SPELLINGS), steps=st.sampled_from([0, 1, 2, 5, 17, 40, 300]),
       state=st.sampled_from([(), (3,), (2, 3)]), dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**32 - 1))
def test_matches_plain_function(low_threshold, fn, steps, state, dtype, seed):
    args = _args(np.random.default_rng(seed), steps, state, dtype)
    _close(looptrace.jit(fn, backend="interpret")(*args), fn(*args), dtype)
    if steps:
        n_scans, n_loops, loops = scans_in(fn, args)
        assert n_loops == 0
        if fn in (add_only, mul_only):  # the vectorizer makes these a sum and a product
            assert loops[0].kind == "reduction"
        else:
            assert n_scans >= 1 and loops[0].kind == "scan" and "parallel prefix scan" in loops[0].reason


def ema(x, h0):
    h = h0
    Y = np.empty_like(x)
    for t in range(x.shape[0]):
        h = 0.9 * h + 0.1 * x[t]
        Y[t] = h
    return Y


def from_index(x, h0):
    h = h0
    for t in range(2, x.shape[0]):
        h = np.cos(0.01 * t) * h + np.sin(x[t - 1]) * x[t - 2]
    return h


def strided(x, h0):
    h = h0
    for t in range(x.shape[0] - 1, 0, -2):
        h = x[t] * h + 1.0
    return h


@pytest.mark.parametrize("fn", [ema, from_index, strided])
@pytest.mark.parametrize("steps", [64, 1001])
def test_invariant_and_index_coefficients(fn, steps, rng):
    args = (rng.uniform(-1, 1, (steps, 4)), rng.standard_normal(4))
    _close(looptrace.jit(fn, backend="interpret")(*args), fn(*args), np.float64)
    assert scans_in(fn, args)[:2] == (1, 0)


def batch_of_recurrences(a, x, h0):
    B, T = a.shape
    out = np.zeros((B, T))
    for i in range(B):
        h = h0[i]
        for t in range(T):
            h = a[i, t] * h + x[t]
            out[i, t] = h
    return out


def test_inner_recurrence_batched_by_the_outer_loop(rng):
    args = (rng.uniform(-1, 1, (5, 200)), rng.standard_normal(200), rng.standard_normal(5))
    _close(looptrace.jit(batch_of_recurrences, backend="interpret")(*args), batch_of_recurrences(*args), np.float64)
    n_scans, n_loops, loops = scans_in(batch_of_recurrences, args)
    assert (n_scans, n_loops) == (1, 0)
    assert [lp.kind for lp in loops] == ["vectorized", "scan"]


def long_run(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
    return h


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_million_steps(dtype, rng):
    a, b, h0 = _args(rng, 10**6, (), dtype)
    a = (0.5 + 0.5 * np.abs(a)).astype(dtype)  # well conditioned: 0.5 <= a <= 1
    _close(looptrace.jit(long_run, backend="interpret")(a, b, h0), long_run(a, b, h0), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("steps", [4096, 5000])
def test_wide_state_runs_in_blocks(dtype, steps, rng):
    """A state of >= 8 elements over >= 4096 steps takes the blocked scan
    (blocks of 64 steps, a partial block at the end)."""
    args = _args(rng, steps, (2, 5), dtype)
    _close(looptrace.jit(history, backend="interpret")(*args), history(*args), dtype)
    assert scans_in(history, args)[:2] == (1, 0)


# --- loops that keep their scan -----------------------------------------------------------------
def coefficient_reads_h(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = np.tanh(h) * a[t] + b[t]
    return h


def squared(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = h * h * a[t] + b[t]
    return h


def coupled(a, b, h0):
    h = h0
    g = h0
    for t in range(a.shape[0]):
        h, g = a[t] * h + g, 0.5 * g + b[t]
    return h, g


def integers(a, b, h0):
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
    return h


def runtime_trip(a, b, h0, k):
    h = h0
    for t in range(k):
        h = a[t] * h + b[t]
    return h


@pytest.mark.parametrize("fn", [coefficient_reads_h, squared, coupled, integers])
def test_not_linear_keeps_the_loop(fn, rng):
    a, b, h0 = _args(rng, 100, (3,), np.float64)
    a, b, h0 = 0.5 * a, 0.1 * b, 0.1 * h0  # bounded even for h * h
    if fn is integers:
        a, b, h0 = (rng.integers(-3, 4, x.shape) for x in (a, b, h0))
    got = looptrace.jit(fn, backend="interpret")(a, b, h0)
    _close(got, fn(a, b, h0), np.float64) if fn is not integers else \
        np.testing.assert_array_equal(got, fn(a, b, h0))
    n_scans, n_loops, loops = scans_in(fn, (a, b, h0))
    assert (n_scans, n_loops) == (0, 1)
    assert loops[0].kind == "scan" and "prefix scan" not in loops[0].reason


def test_runtime_trip_count_keeps_the_loop(rng):
    a, b, h0 = _args(rng, 100, (), np.float64)
    assert looptrace.jit(runtime_trip, backend="interpret")(a, b, h0, 50) == pytest.approx(runtime_trip(a, b, h0, 50))
    assert scans_in(runtime_trip, (a, b, h0, 50))[:2] == (0, 1)


def test_short_loops_and_the_switch_keep_the_loop(monkeypatch, rng):
    short = _args(rng, 4, (), np.float64)
    assert scans_in(mul_add, short)[:2] == (0, 1)  # below the default threshold
    longer = _args(rng, 100, (), np.float64)
    assert scans_in(mul_add, longer)[:2] == (1, 0)
    monkeypatch.setenv("LOOPTRACE_NO_PREFIX_SCAN", "1")
    assert scans_in(mul_add, longer)[:2] == (0, 1)


# --- gradients (the pass runs after autodiff) -----------------------------------------------------
# the gradient program on the interpreter, ema's on cpu too (its grad defaulted to auto: 4 cpu
# compiles, 6.3 s of CI until session 54; the pass runs before either backend)
@pytest.mark.parametrize("fn,backend", [(mul_add, "interpret"), (history, "interpret"),
                                        (grouped, "interpret"), (ema, "cpu")])
def test_gradients_match_finite_differences(fn, backend, rng):
    if fn is ema:
        args = [rng.uniform(-1, 1, (40, 3)), rng.standard_normal(3)]
    else:
        args = list(_args(rng, 40, (3,), np.float64))

    def loss(*xs):
        out = fn(*xs)
        return sum(np.sum(np.asarray(o) ** 2) for o in (out if isinstance(out, tuple) else (out,)))

    jitted = looptrace.jit(fn, backend="interpret")

    def jloss(*xs):
        out = jitted(*xs)
        return sum((o ** 2).sum() for o in (out if isinstance(out, tuple) else (out,)))

    grads = looptrace.grad(jloss, argnums=tuple(range(len(args))), backend=backend)(*args)
    for i, g in enumerate(grads):
        want = numerical_grad(loss, args, i)
        np.testing.assert_allclose(g, want, rtol=1e-6, atol=1e-6)


# --- CPU backend --------------------------------------------------------------------------------
@pytest.mark.parametrize("fn,state,dtype", [(mul_add, (), np.float64), (history_before, (4,), np.float64),
                                            (ema, (3,), np.float32)])
def test_cpu_backend(fn, state, dtype, rng):
    if fn is ema:
        args = (rng.uniform(-1, 1, (500, *state)).astype(dtype), rng.standard_normal(state).astype(dtype))
    else:
        args = _args(rng, 500, state, dtype)
    _close(looptrace.jit(fn, backend="cpu")(*args), fn(*args), dtype)
    assert scans_in(fn, args, backend="cpu")[:2] == (1, 0)


LOC = SourceLoc("test_linear_recurrence.py", 1, "")


def _scan_program(a_shape, b_shape, state, dtype, history=True):
    args = [Value(np.dtype(dtype), s) for s in (a_shape, b_shape, state)]
    prim = PRIMITIVES["linear_scan"]
    ((odt, oshape),) = prim.abstract(*args, history=history)
    out = Value(np.dtype(odt), tuple(oshape))
    return Program(Block(args, [Op(prim, tuple(args), (out,), {"history": history}, LOC)], [out]), name="scan")


_VARIANT_SHAPES = [((50,), (50,), ()), ((), (50, 6), (6,)), ((50, 1), (6,), (6,)), ((50, 2, 3), (50, 2, 3), (2, 3))]
# each variant on one shape and each shape under one variant by default (a compile each; two of each were
# 8.3 s of the suite, the four now slow 3.2 s); the rest with -m slow
_VARIANT_KEPT = {("sequential", 0), ("state_blocks", 1), ("time_chunks", 3), ("final_only", 2)}


@pytest.mark.parametrize("variant,a_shape,b_shape,state", [
    pytest.param(v, *shapes, marks=() if (v, k) in _VARIANT_KEPT else pytest.mark.slow)
    for v in ("sequential", "state_blocks", "time_chunks", "final_only") for k, shapes in enumerate(_VARIANT_SHAPES)])
def test_every_cpu_variant_matches_the_interpreter(variant, a_shape, b_shape, state, monkeypatch, rng):
    from looptrace.codegen.cpu import emitter

    if variant not in ("sequential", "final_only"):
        monkeypatch.setattr(emitter, "PARALLEL_MIN_WORK", 0)
        monkeypatch.setattr(scan_cpu, "PARALLEL_MIN_THREADS", 1)
        monkeypatch.setattr(scan_cpu, "STATE_BLOCKS_MIN", 1 if variant == "state_blocks" else 10**9)
        monkeypatch.setattr(scan_cpu, "TIME_CHUNKS", variant == "time_chunks")
    program = _scan_program(a_shape, b_shape, state, np.float64, history=variant != "final_only")
    args = [rng.uniform(-1, 1, a_shape), rng.standard_normal(b_shape), rng.standard_normal(state)]
    kernel = cpu.compile_program(program, CompileOptions(cache=False))
    if variant in ("state_blocks", "time_chunks") and state:
        assert "prange" in kernel.source
    np.testing.assert_allclose(kernel(args)[0], interpret.run_program(program, args)[0], rtol=1e-12, atol=1e-12)


_COEFFICIENT_SHAPES = [((50, 1, 1), (2, 3), (2, 3)), ((), (1, 2, 3), (2, 3)), ((2, 3), (50, 1, 1), (2, 3)),
                       ((50, 1, 3), (3,), (2, 3)), ((50, 2, 3), (50, 2, 3), (2, 3))]


# each coefficient form under one variant by default, alternating (a compile each; 4.2 s for all ten in
# session 55's CI: the two variants read the coefficients with the same code, scan_cpu's reads); the other
# variant of each with -m slow
@pytest.mark.parametrize("variant,a_shape,b_shape,state", [
    pytest.param(v, *shapes, marks=() if (k + (v == "final_only")) % 2 == 0 else pytest.mark.slow)
    for v in ("sequential", "final_only") for k, shapes in enumerate(_COEFFICIENT_SHAPES)])
def test_state_blocks_and_coefficients_read_in_place(variant, a_shape, b_shape, state, monkeypatch, rng):
    """Blocks of 4 state elements (a tail of 2), coefficients one per step or
    one per state element read where they are, others broadcast."""
    monkeypatch.setattr(scan_cpu, "STATE_BLOCK", 4)
    program = _scan_program(a_shape, b_shape, state, np.float64, history=variant != "final_only")
    args = [rng.uniform(-1, 1, a_shape), rng.standard_normal(b_shape), rng.standard_normal(state)]
    kernel = cpu.compile_program(program, CompileOptions(cache=False))
    assert ("broadcast_to" in kernel.source) == (a_shape == (50, 1, 3))
    np.testing.assert_allclose(kernel(args)[0], interpret.run_program(program, args)[0], rtol=1e-12, atol=1e-12)


def horner(coef, x):
    y = np.zeros_like(x)
    for k in range(coef.shape[0]):
        y = y * x + coef[k]
    return y


def test_horner_over_a_wide_state_is_exact(rng):
    """8 steps over 1500 points (blocks of 512, a tail): the same operations
    per point as the plain function, so the same values."""
    coef, x = rng.standard_normal(8), rng.uniform(-1, 1, 1500)
    f = looptrace.jit(horner, backend="cpu")
    np.testing.assert_array_equal(f(coef, x), horner(coef, x))
    src = f.explain(coef, x).kernel_source
    assert "broadcast_to" not in src and "range(0, 1500, 512)" in src


# --- cheap coefficient maps computed inside the scalar recurrence's loop -------------------------
def leaky(x, k, g):
    m = 0.0
    for i in range(x.shape[0]):
        m = (g - k[i] * 0.5) * m + (x[i] - k[i])  # both coefficients are maps
    return m  # the final value only: the recurrence keeps no history


def costly(x, alpha):
    m = 0.0
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        m = alpha * m + np.exp(x[i])
        out[i] = m
    return out


@pytest.mark.parametrize("fn,make", [
    (ewma_loop, lambda r: (r.standard_normal(3000), 0.05)),
    (leaky, lambda r: (r.standard_normal(3000), r.uniform(0, 1, 3000), 0.9)),
    (costly, lambda r: (r.uniform(-1, 1, 3000), 0.7)),
])
def test_cheap_coefficient_maps_are_computed_in_the_scan(fn, make, rng, tmp_path, monkeypatch):
    """No T-element temporary for `alpha * x[i]` (planning/fusion.py
    `_inline_into_scans`); a map with exp keeps its vectorized nest."""
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    args = make(rng)
    f = looptrace.jit(fn, backend="cpu")
    _close(f(*args), fn(*args), np.dtype(np.float64))
    assert scans_in(fn, args, backend="cpu")[:2] == (1, 0)
    src = f.explain(*args).kernel_source
    allocs = src.count("alloc((3000,")
    assert allocs == (2 if fn is costly else 1 if fn is ewma_loop else 0), src


# 6 examples: each a cpu compile (12 were 4.1 s of the CI log)
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), coef=st.sampled_from(["a", "b", "both"]))
def test_fused_coefficients_match_the_interpreter(low_threshold, steps, seed, coef):
    """Generated maps of cheap ops (a scale, a shift, a select) as a, b or both."""
    rng = np.random.default_rng(seed)

    def fn(x, y, h0):
        h = h0
        out = np.empty_like(x)
        for t in range(x.shape[0]):
            a = 0.5 * x[t] if coef != "b" else 0.8
            b = np.where(y[t] > 0, y[t] - 1.0, 2.0 * y[t]) if coef != "a" else y[t]
            h = a * h + b
            out[t] = h
        return out, h

    args = (rng.uniform(-1.5, 1.5, steps), rng.standard_normal(steps), float(rng.standard_normal()))
    f = looptrace.jit(fn, backend="cpu")
    got_cpu = f(*args)
    assert scans_in(fn, args, backend="cpu")[:2] == (1, 0)
    body = f.explain(*args).kernel_source.split("def kernel")[1]
    assert body.count("for ") == 1, body  # the recurrence's loop, with the maps in it
    got_ref = looptrace.jit(fn, backend="interpret")(*args)
    want = fn(*args)
    for g, r, w in zip(got_cpu, got_ref, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(r, w, rtol=1e-12, atol=1e-12)
