"""Long CPU kernels are split into parts compiled one at a time
(codegen/cpu/outline.py), so compile time grows linearly with the body
(bench/compile_scaling.py). Here the limits are lowered so that small
programs are split; each must match the plain function, arguments included,
and raise what it raises."""
from __future__ import annotations

import contextlib

import numpy as np
import pytest
from numba.core import event

import looptrace
from looptrace.codegen.cpu import outline


@pytest.fixture(autouse=True)
def short_parts(monkeypatch):
    monkeypatch.setattr(outline, "LIMIT", 12)
    monkeypatch.setattr(outline, "PART", 6)


def many_steps(x, acc):
    out = np.zeros((x.shape[0], 4))  # column 2 is never written
    y = 0.0
    peak = -np.inf
    for i in range(x.shape[0]):
        out[i, 0] = x[i] * 2.0
        out[i, 1] = np.sin(x[i])
        out[i, 3] = x[i] - 1.0
        y = 0.5 * y + x[i]  # a scalar carried across parts
        if x[i] > peak:  # rebound in a branch: kept where the part does not rebind it
            peak = x[i]
    acc[0] += y  # an in-place write into an argument
    view = out[1:, :2]
    view *= 3.0  # through a view made in one part, written in another
    total = out.sum() + peak
    return out, y, total


def checked(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s * 0.9 + x[i]
        if s > 5.0:
            raise ValueError("running sum above 5")
    return s + np.cos(x).sum() + np.exp(x).sum() + np.tanh(x).max()


def test_a_split_kernel_matches_the_plain_function(rng):
    x, acc = rng.standard_normal(9), rng.standard_normal(1)
    want_acc, got_acc = acc.copy(), acc.copy()
    want = many_steps(x, want_acc)
    f = looptrace.jit(many_steps, backend="cpu", cache=False)
    got = f(x, got_acc)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    np.testing.assert_allclose(got_acc, want_acc, rtol=1e-12)
    src = looptrace.explain(f, x, acc.copy()).kernel_source
    assert src.count("def kernel_part") >= 2
    assert "kernel_part0(" in src.split("def kernel_part0")[0]  # called from the kernel


def test_a_split_kernel_raises_what_the_plain_function_raises(rng):
    f = looptrace.jit(checked, backend="cpu", cache=False)
    ok = np.full(6, 0.1)
    np.testing.assert_allclose(f(ok), checked(ok), rtol=1e-12)
    assert "def kernel_part" in looptrace.explain(f, ok).kernel_source
    with pytest.raises(ValueError, match="running sum above 5"):
        f(np.full(6, 2.0))


def test_outline_keeps_short_kernels_and_returns_in_place():
    assert outline.outline(["    x = 1"] * 5, [], "@numba.njit()", "kernel") is None
    lines = ["    a = p + 1", "    b = a * 2", "    if b > 3:", "        a = 0", "    c = a + b"] * 4 + \
            ["    return (a, c, )"]
    split = outline.outline(lines, ["p"], "@numba.njit(cache=False, parallel=PARALLEL)", "k")
    assert split is not None and len(split.parts) >= 2
    assert split.kernel[-1] == ("    return (a, c, )", len(lines) - 1)
    namespace: dict = {}
    body = "\n".join(line for line, _ in split.kernel)
    parts = "\n".join(line for part in split.parts for line, _ in part).replace("@numba.njit(cache=False)", "")
    parts = parts.replace("@numba.njit(cache=False, parallel=PARALLEL)", "")
    exec(f"def k(p):\n{body}\n{parts}", namespace)
    plain: dict = {}
    exec("def k(p):\n" + "\n".join(lines), plain)
    assert all(namespace["k"](p) == plain["k"](p) for p in (-3, 0, 1, 5))


# --- long parallel loop bodies become functions of their own (outline_bodies) ----------------
class _FakeNumba:
    prange = range


def _run(body_lines, params, args, parts=()):
    namespace: dict = {"numba": _FakeNumba}
    text = f"def k({', '.join(params)}):\n" + "\n".join(body_lines) + "\n"
    for part in parts:
        text += "\n".join(line for line, _ in part[1:]) + "\n"
    exec(text, namespace)
    return namespace["k"](*args)


def test_a_long_prange_body_becomes_a_function(monkeypatch):
    monkeypatch.setattr(outline, "BODY_MIN", 4)
    lines = ["    out = np.empty(n)", "    s = 0.0",
             "    for i in numba.prange(n):",
             "        p = idx[i]", "        a = x[p] * 2.0", "        b = a + 1.0", "        if b > 1.0:",
             "            b = b * 3.0", "        out[i] = b - a",
             "    for j in numba.prange(n):",  # a reduction into s: stays
             "        k = idx[j]", "        t = x[k] + 1.0", "        u = t * t", "        w = u - t", "        s += w",
             "    for j in numba.prange(n):",  # no gather: stays (LLVM vectorizes it across j)
             "        t = x[j] + 1.0", "        u = t * t", "        w = u - t", "        out[j] += w",
             "    for j in numba.prange(n):",  # a short body: stays
             "        out[idx[j]] += 1.0",
             "    return out, s"]
    split = outline.outline_bodies(lines, ["x", "idx", "n", "np"], "@numba.njit(cache=False)", "k")
    assert split is not None and len(split.parts) == 1
    assert split.parts[0][1][0] == "def k_body0(i, idx, out, x):"
    body = [line for line, _ in split.kernel]
    # the index cast as the parfor types it: one signature for both of Numba's typings
    assert body[3] == "        k_body0(np.uint64(i), idx, out, x)" and len(body) == len(lines) - 5
    # every moved line keeps its origin (error messages name the op that emitted it)
    assert [k for _, k in split.parts[0][2:]] == list(range(3, 9))
    rng = np.random.default_rng(1)
    x, idx = rng.standard_normal(7), rng.integers(0, 7, 7)
    want = _run(lines, ["x", "idx", "n", "np"], (x, idx, 7, np))
    got = _run(body, ["x", "idx", "n", "np"], (x, idx, 7, np), split.parts)
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1] == want[1]


@pytest.mark.parametrize("line", ["            break", "            continue", "            return 1",
                                  "            raise ValueError('x')"])
def test_a_prange_body_that_leaves_the_loop_stays(monkeypatch, line):
    monkeypatch.setattr(outline, "BODY_MIN", 2)
    lines = ["    for i in numba.prange(n):", "        j = idx[i]", "        a = x[j] * 2.0", "        if a > 1.0:",
             line, "        x[i] = a", "    return x"]
    assert outline.outline_bodies(lines, ["x", "idx", "n"], "@numba.njit(cache=False)", "k") is None
    lines[4] = "            a = 0.0"
    assert outline.outline_bodies(lines, ["x", "idx", "n"], "@numba.njit(cache=False)", "k") is not None


def test_a_name_bound_in_the_body_and_read_after_the_loop_stays(monkeypatch):
    monkeypatch.setattr(outline, "BODY_MIN", 2)
    lines = ["    for i in numba.prange(n):", "        j = idx[i]", "        a = x[j] * 2.0", "        x[i] = a",
             "    return a"]
    assert outline.outline_bodies(lines, ["x", "idx", "n"], "@numba.njit(cache=False)", "k") is None
    inner = ["    for i in numba.prange(n):", "        acc = 0.0", "        for j in range(n):",
             "            k = idx[j]", "            acc += x[k]", "        y[i] = acc",
             "    return y"]  # an inner loop: stays (a fold vectorizes there)
    assert outline.outline_bodies(inner, ["x", "idx", "y", "n"], "@numba.njit(cache=False)", "k") is None


@contextlib.contextmanager
def _compiles():
    """The names of the functions Numba compiles (or loads) inside the block, once per signature."""
    names: list[str] = []

    class Listener(event.Listener):
        def on_start(self, ev):
            names.append(ev.data["dispatcher"].py_func.__name__)

        def on_end(self, ev):
            pass

    with event.install_listener("numba:compile", Listener()):
        yield names


def search_and_scale(x, xp, fp, rows):
    """A binary search per element (np.interp: ~150 cheap ops an element), a
    cheap map, and row folds, each a nest of its own."""
    y = np.interp(x, xp, fp)
    z = x * 2.0 + 1.0
    return y, z, (rows * rows).sum(axis=1) + np.exp(rows).max(axis=1)


def _long_cheap_nests(monkeypatch, rng):
    from looptrace.codegen.cpu import emitter

    monkeypatch.setattr(emitter, "PARALLEL_MIN_WORK", 1 << 16)
    monkeypatch.setattr(outline, "BODY_MIN", 8)
    # (150k points: since session 47 the map reads np.interp's slopes from a table made once, no division
    # an element, and at 20k it stayed serial at this threshold)
    x, xp, fp = rng.random(150_000) * 1.2 - 0.1, np.sort(rng.random(300)), rng.standard_normal(300)
    return x, xp, fp, rng.standard_normal((300, 40))


# the parallel kernel's values with -m slow (10.8 s of CPU in 0bc3f38's CI, one kernel): np.interp's search
# keeps its cpu values in test_interp_sorted_s48.py (bits, every order), maps on threads theirs in
# test_cpu_parallel_map.py and test_cpu_costs.py; the nests' placement below is read from the emitted
# source (explain: no Numba compile) by default
@pytest.mark.slow
def test_long_cheap_nests_on_threads_match_the_plain_function(monkeypatch, rng):
    args = _long_cheap_nests(monkeypatch, rng)
    f = looptrace.jit(search_and_scale, backend="cpu", cache=False)
    assert "numba.prange" in looptrace.explain(f, *args).kernel_source
    for g, w in zip(f(*args), search_and_scale(*args)):
        np.testing.assert_allclose(g, w, rtol=1e-12)


def test_long_cheap_nests_go_parallel_and_run_as_outlined_bodies(monkeypatch, rng):
    """The search of np.interp (one searchsorted op since helper-26's
    primitive, a binary search per element in the kernel) runs on threads
    where the map of the same elements does not. (Before, np.interp was a
    nest of ~150 cheap ops whose long body ran as a function of its own,
    kernel_body0: outline_bodies keeps its own tests above.) Values match
    the plain function on the interpreter (the cpu kernel's: the slow test
    above)."""
    x, xp, fp, rows = _long_cheap_nests(monkeypatch, rng)
    for g, w in zip(looptrace.jit(search_and_scale, backend="interpret")(x, xp, fp, rows),
                    search_and_scale(x, xp, fp, rows)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    f = looptrace.jit(search_and_scale, backend="cpu", cache=False)
    src = looptrace.explain(f, x, xp, fp, rows).kernel_source
    loops = [ln.strip() for ln in src.splitlines() if ln.strip().startswith("for ")]  # kernel and parts
    assert sum("prange" in ln for ln in loops) >= 1
    # (the map after the search, np.interp's interpolation fused with `x * 2.0 + 1.0`, gathers at
    # the indices the search computed: costs.py `_computed_gather` counts its ops as work since
    # session 44, and at this test's lowered threshold it runs on threads too)
    assert sum("prange(150000)" in ln for ln in loops) == 1
    assert sum("prange" in ln for ln in src.splitlines() if "range(300)" in ln) == 0  # the row folds stay serial


def test_a_line_of_several_statements_goes_into_a_part_once():
    """`fr1_ = alloc(..); fr2_ = alloc(..)` (the rows reserved before a loop,
    regions.py `reserve_rows`) is one statement of the split: it was copied
    into its part once per statement on the line."""
    lines = ["    a = 1; b = 2; c = a + b", *[f"    d{i} = c + {i}" for i in range(20)], "    return (d3, )"]
    split = outline.outline(lines, [], "@numba.njit", "kernel")
    text = "\n".join(line for part in split.parts for line, _ in part)
    assert text.count("a = 1; b = 2; c = a + b") == 1
