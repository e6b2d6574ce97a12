"""Session 51: four losses to numba.njit found in the corpus, fixed in the compiler.

- an argument a branch leaves unwritten (an early `return 0` before in-place
  work) is handed on, not copied and copied back (codegen/cpu/regions.py
  `_lent_outputs`; flood_fill_stack);
- scalar checks in a row raise from one guard, the first failing one still the
  one raised (codegen/cpu/check.py; gillespie_birth_death);
- np.minimum/np.maximum of integers in the IR's operand order (scalar.py;
  levenshtein_rows);
- float(round(x)) of a float is rint(x) + 0.0 with int()'s check kept, which
  is one comparison (vectorize/dead_reads.py `_float_round_trips`,
  check.py `_covering_test`; lj_periodic);
- one element of an iota read as a scalar is a constant (vectorize/iotas.py;
  jacobi_eigen's last `k`).

Semantics on the interpreter against the plain function (values, dtypes,
argument effects, the exception, its message and the user's line); two cpu
kernels check the generated code's shape and values.
"""
from __future__ import annotations

import copy
import math
import re
import traceback

import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu.scalar import ufunc_expr
from looptrace.ir.core import walk


def _outcome(fn, *args):
    """("ok", result, args after) or (exception class, message, the user's line, the exception)."""
    args = copy.deepcopy(args)
    try:
        return "ok", fn(*args), args
    except Exception as e:  # noqa: BLE001 (compared with the plain function's)
        return type(e), str(e).splitlines()[0], traceback.extract_tb(e.__traceback__)[-1].line, e


def _assert_same(fn, backend, *args):
    want = _outcome(fn, *args)
    got = _outcome(looptrace.jit(fn, backend=backend), *args)
    assert got[0] == want[0], (got, want)
    if want[0] == "ok":
        flat = lambda r: list(r) if isinstance(r, tuple) else [r]  # noqa: E731
        assert len(flat(got[1])) == len(flat(want[1]))
        for g, w in zip([*flat(got[1]), *got[2]], [*flat(want[1]), *want[2]]):
            if np.asarray(w).dtype.kind == "f":  # (a sum may be added in another order)
                np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-300)
            else:
                np.testing.assert_array_equal(g, w)
            assert np.asarray(g).dtype == np.asarray(w).dtype or np.ndim(w) == 0
            if np.ndim(w) == 0 and isinstance(w, float):  # signed zeros as Python has them
                assert math.copysign(1.0, g) == math.copysign(1.0, w), (g, w)
        return want[1]
    assert got[1] == want[1], (got[1], want[1])
    told = str(got[3]) + "\n".join(getattr(got[3], "__notes__", []))
    assert want[2] in told or want[2] == got[2], (told, want[2])
    return got[0]


# --- an argument passed on unchanged by one arm ---------------------------------------------------
def fill_column(grid, i, j, new):
    if grid[i, j] == new:
        return 0
    k = i
    while k < grid.shape[0] and grid[k, j] != new:  # (the bounds check: the kernel may raise)
        grid[k, j] = new
        k += 1
    return k - i


def view_or_scaled(x, c):
    if c > 0:
        y = x[1:]  # a view of the argument, returned as it is
    else:
        y = x * 2.0
        y[0] = -1.0
    return y.sum(), y


@pytest.mark.parametrize("seed", [0, 1])
def test_an_unwritten_argument_on_one_arm_interpret(seed):
    r = np.random.default_rng(seed)
    g = r.integers(0, 3, (7, 5))
    for i, j in ((0, 0), (3, 2), (6, 4)):
        for new in (int(g[i, j]), int(g[i, j]) + 1):  # the early return, then the writes
            _assert_same(fill_column, "interpret", g, i, j, new)
    x = r.standard_normal(6)
    for c in (1.0, -1.0):
        _assert_same(view_or_scaled, "interpret", x, c)


# --- scalar checks in a row ------------------------------------------------------------------------
def walk_bounded(u, lim):
    s = 0.0
    i = 0
    while i < u.shape[0]:
        if u[i] > 0.5:
            s += u[i]
        else:
            s -= 2.0 * u[i]
        if s > lim:
            raise ValueError("went over")
        if s < -lim:
            raise OverflowError("went under")
        i += 1
    return s, i


def for_bounded(u, lim):
    s = 0.0
    for i in range(u.shape[0]):
        s += u[i] - 0.5
        if s > lim:
            raise ValueError("went over")
        if s < -lim:
            raise OverflowError("went under")
    return s


def test_checks_in_a_row_raise_the_first_failure_interpret(rng):
    u = rng.random(40)
    for lim in (100.0, 3.0, 0.5):  # none, then the first crossing raises
        _assert_same(walk_bounded, "interpret", u, lim)
        _assert_same(for_bounded, "interpret", u - 0.3, lim)
        _assert_same(for_bounded, "interpret", u - 0.7, lim)


# --- float(round(x)), float(int(x)) --------------------------------------------------------------
def minimum_image(d, box):
    s = 0.0
    zeros = 0
    for i in range(d.shape[0]):
        x = d[i]
        x -= box * round(x / box)
        s += x * x
        w = 1.0 * round(d[i])  # -0.3: round() is the int 0, and 1.0 * 0 is +0.0
        t = 1.0 * int(d[i])  # int() truncates: -0.7 -> +0.0
        zeros += (w == 0.0) * (math.copysign(1.0, w) < 0) + (t == 0.0) * (math.copysign(1.0, t) < 0)
    return s, zeros


def test_round_trips_keep_values_signs_and_errors_interpret(rng):
    d = rng.standard_normal(50) * 4
    d[:6] = [-0.3, -0.7, 0.2, -0.0, 2.5, -2.5]
    out = _assert_same(minimum_image, "interpret", d, 1.5)
    assert out[1] == 0
    for bad, err in ((np.nan, ValueError), (np.inf, OverflowError), (-np.inf, OverflowError)):
        e = d.copy()
        e[7] = bad
        assert _assert_same(minimum_image, "interpret", e, 1.5) is err
    program = looptrace.explain(looptrace.jit(minimum_image, backend="interpret"), d, 1.5).program
    names = [o.prim.name for o in walk(program.body)]
    assert "pyint" not in names and "check" in names  # int()'s tests stay, as a check


# --- one element of an iota ------------------------------------------------------------------------
def rotations(a, sweeps):
    n = a.shape[0]
    k = 0
    for p in range(sweeps):
        for q in range(n - 1):
            for k in range(n):  # batched: its last k is the iota's last element
                a[k, q] = a[k, q] * 0.5 + a[k, q + 1] * 0.25 + p
    return a, k


def test_last_index_of_a_batched_loop_is_a_constant_interpret(rng):
    a = rng.standard_normal((6, 6))
    _assert_same(rotations, "interpret", a, 2)
    program = looptrace.explain(looptrace.jit(rotations, backend="interpret"), a, 2).program
    made = {v.id: o for o in walk(program.body) for v in o.outputs}
    assert not any(o.prim.name == "slice" and made.get(o.inputs[0].id) is not None
                   and made[o.inputs[0].id].prim.name == "iota" for o in walk(program.body))


# --- integer minimum/maximum in the IR's order ------------------------------------------------------
def test_integer_extrema_keep_the_ir_order_floats_numpys():
    i64, f64 = np.dtype(np.int64), np.dtype(np.float64)
    assert ufunc_expr("minimum")(["a", "b"], [i64, i64], i64) == "min_nan(a, b)"
    assert ufunc_expr("maximum")(["a", "b"], [np.dtype(np.bool_)] * 2, np.dtype(np.bool_)) == "max_nan(a, b)"
    assert ufunc_expr("minimum")(["a", "b"], [f64, f64], f64) == "min_nan(b, a)"  # NumPy's NaN/signed zeros


def edit_rows(a, b, lim):
    prev = np.arange(b.shape[0] + 1)
    cur = np.zeros(b.shape[0] + 1, dtype=np.int64)
    worst = 0
    for i in range(a.shape[0]):
        cur[0] = i + 1
        for j in range(1, b.shape[0] + 1):
            cost = 0 if a[i] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            worst = max(worst, cur[j])
        prev, cur = cur, prev
    return prev[b.shape[0]], worst


def test_integer_dp_interpret(rng):
    a, b = rng.integers(0, 4, 30), rng.integers(0, 4, 25)
    _assert_same(edit_rows, "interpret", a, b, 3)


# --- the cpu kernels -------------------------------------------------------------------------------
def test_cpu_early_return_hands_the_argument_on(rng):
    g = rng.integers(0, 3, (40, 30))
    jf = looptrace.jit(fill_column, backend="cpu")
    for i, j in ((0, 0), (5, 7), (39, 29)):
        for new in (int(g[i, j]), int(g[i, j]) + 1):
            want, got = g.copy(), g.copy()
            assert jf(got, i, j, new) == fill_column(want, i, j, new)
            np.testing.assert_array_equal(got, want)
    src = looptrace.explain(jf, g, 0, 0, int(g[0, 0])).kernel_source
    head, early = src.rsplit("\n    else:\n", 1)  # the early return's arm, at the kernel's top level
    early = re.split(r"\n    \S", early)[0]
    assert "copied(" in head and "copied(" not in early and re.search(r"v\d+ = v\d+\n", early), src


def loss_mix(u, d, box, x0):
    """A while loop: a Python int updated on the arms of a random `if` (two overflow tests after
    it), float(round(x)) in float arithmetic, an integer min chain."""
    s = 0.0
    i = 0
    x = x0
    best = 1 << 20
    run = 0
    while i < u.shape[0]:
        if u[i] > 0.5:
            x += 1
        else:
            x -= 1
        y = d[i] - box * round(d[i] / box)
        s += y * y + 1e-30 * x  # (x read every step: each step's update is checked, as gillespie's)
        run = min(run + 1, best, i * 3 + 1)
        best = min(best, run + 2)
        i += 1
    return s, x, best, run


def test_cpu_one_guard_one_comparison_and_values(rng):
    u, d = rng.random(200), rng.standard_normal(200) * 5
    u[0] = 0.9
    jf = looptrace.jit(loss_mix, backend="cpu")
    want, got = _outcome(loss_mix, u, d, 1.5, 7), _outcome(jf, u, d, 1.5, 7)
    assert got[0] == want[0] == "ok"
    np.testing.assert_allclose(got[1][0], want[1][0], rtol=1e-12)
    assert got[1][1:] == want[1][1:]
    for x0 in (2**63 - 1, -2**63):  # past int64 (every step one way: the end is past it too)
        v = u * 0.4 + (0.55 if x0 > 0 else 0.0)
        got, twin = (_outcome(f, v, d, 1.5, x0) for f in (jf, looptrace.jit(loss_mix, backend="interpret")))
        assert got[0] is twin[0] is looptrace.errors.BigIntError and str(got[3]) == str(twin[3]), (got, twin)
    for bad, err in ((np.nan, ValueError), (np.inf, OverflowError)):
        e = d.copy()
        e[17] = bad
        want, got = _outcome(loss_mix, u, e, 1.5, 7), _outcome(jf, u, e, 1.5, 7)
        assert got[0] is want[0] is err and got[1] == want[1], (got, want)
        assert want[2] in str(got[3]) + "\n".join(getattr(got[3], "__notes__", [])) or want[2] == got[2]
    src = looptrace.explain(jf, u, d, 1.5, 7).kernel_source
    assert re.search(r"if v\d+ \| v\d+:\n\s+raise CheckFailed\(\(\d+ if v\d+ else \d+\)\)", src), src
    assert "not (abs(" in src and "+ 0.0)" in src and "np.int64(t" not in src, src
