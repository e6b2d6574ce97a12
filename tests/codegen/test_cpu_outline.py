"""Long CPU kernels are split into parts compiled one at a time
(codegen/cpu/outline.py), so compile time grows linearly with the body
(bench/compile_scaling.py). Here the limits are lowered so that small
programs are split; each must match the plain function, arguments included,
and raise what it raises."""
from __future__ import annotations

import numpy as np
import pytest

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
