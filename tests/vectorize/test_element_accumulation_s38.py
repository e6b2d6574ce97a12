"""An accumulation into an array block at a position the loop index does not
move (`out[i, k] += f(j)` over j, the row a nested loop over k updates) is a
reduction: out[i, :] + sum_j f(j), batched over i into one product.

The row the inner loop's rewrite builds reaches the outer loop through a
whole-array slice and transposes that only move unit axes (vectorize/
simplify.py reads them as the reshapes they are), and a conditional or
subtracting update of it through reshapes of the carried row (vectorize/
masked.py). The plain function is the oracle (interpreter and CPU backend,
fresh random data); a row read elsewhere in the loop stays a scan.
"""
import inspect
import math

import numpy as np
import pytest

import looptrace
from tests.tracer._loopcheck import check


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def attention(Q, K, V):
    T, d = Q.shape
    out = np.zeros((T, d))
    for i in range(T):
        s = np.empty(T)
        m = -np.inf
        for j in range(T):
            acc = 0.0
            for k in range(d):
                acc += Q[i, k] * K[j, k]
            s[j] = acc / math.sqrt(d)
            if s[j] > m:
                m = s[j]
        z = 0.0
        for j in range(T):
            s[j] = math.exp(s[j] - m)
            z += s[j]
        for j in range(T):  # accumulates
            for k in range(d):
                out[i, k] += s[j] / z * V[j, k]
    return out


def rows(S, V, out):
    for i in range(out.shape[0]):
        for j in range(V.shape[0]):  # accumulates
            for k in range(V.shape[1]):
                out[i, k] += S[i, j] * V[j, k]
    return out


def columns(S, V, out):
    for i in range(out.shape[1]):
        for j in range(V.shape[0]):  # accumulates
            for k in range(V.shape[1]):
                out[k, i] += S[i, j] * V[j, k]
    return out


def subtracted(V, out):
    for i in range(out.shape[0]):
        for j in range(V.shape[0]):  # accumulates
            for k in range(V.shape[1]):
                out[i, k] -= V[j, k] * i
    return out


def reassigned_3d(x, out):
    for i in range(out.shape[0]):
        for j in range(x.shape[0]):  # accumulates
            for k in range(out.shape[1]):
                for m in range(out.shape[2]):
                    out[i, k, m] = out[i, k, m] + x[j, k, m] * (i + j)
    return out


def masked_rows(cond, V, out):
    for i in range(out.shape[0]):
        for j in range(V.shape[0]):  # accumulates
            if cond[i, j]:
                for k in range(V.shape[1]):
                    out[i, k] += V[j, k]
    return out


def masked_elements(cond, V, out):
    for i in range(out.shape[0]):
        for j in range(V.shape[0]):  # accumulates
            for k in range(V.shape[1]):
                if cond[i, j]:
                    out[i, k] += V[j, k]
    return out


def window_rows(x, out):
    n, m = out.shape
    for i in range(n):
        for a in range(3):
            for b in range(2):  # accumulates
                for k in range(m):
                    out[i, k] += x[i + a, k + b] * (a - b)
    return out


def counts(lab, hist, c):
    for j in range(lab.shape[0]):  # accumulates
        if lab[j] > 2:
            hist[c] += 1
    return hist


def fixed_row(V, out, r):
    for i in range(out.shape[0]):
        for j in range(V.shape[0]):  # accumulates
            for k in range(V.shape[1]):
                out[r, k] += V[j, k] * (i + 1)
    return out


def read_in_the_loop(V, out):
    t = np.zeros((out.shape[0], V.shape[0]))
    for i in range(out.shape[0]):
        for j in range(V.shape[0]):  # accumulates
            for k in range(V.shape[1]):
                out[i, k] += V[j, k]
            t[i, j] = out[i, 1] * 2
    return out, t


def kind_of_marked_loop(f, fn, *args):
    """The kind explain gives the loop on the line marked `# accumulates`."""
    lines, first = inspect.getsourcelines(fn)
    line = first + next(k for k, text in enumerate(lines) if "# accumulates" in text)
    (loop,) = [loop for loop in f.explain(*args).loops if loop.line == line]
    return loop.kind


def both(fn, *args, rtol=1e-9, compiled=False):
    """Plain against the interpreter; the marked loop's kinds on the interpreter
    and in the CPU backend's plan (explain: plans and emits the kernel, no Numba
    compile). `compiled`: the CPU kernel's values too, for a representative few
    (a float64 and a float32 product, integers that wrap, a masked and a
    counting update): the other rows' kernels are the same products' lowering
    (each compile 0.3-1.7 s of session 55's CI)."""
    f = check(fn, *args, rtol=rtol, jitted=looptrace.jit(fn, backend="interpret"))
    g = looptrace.jit(fn, backend="cpu")
    if compiled:
        check(fn, *args, rtol=rtol, jitted=g)
    return [kind_of_marked_loop(f, fn, *args), kind_of_marked_loop(g, fn, *args)]


def floats(rng, *shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def test_attention_output_is_a_product(rng):
    Q, K, V = floats(rng, 40, 8), floats(rng, 40, 8), floats(rng, 40, 8)
    assert both(attention, Q, K, V, compiled=True) == ["reduction"] * 2
    f = looptrace.jit(attention, backend="cpu")
    program = f.explain(Q, K, V).program
    einsums = [op for op in program.body.ops if op.prim.name == "einsum"]
    assert any(tuple(op.out.shape) == (40, 8) for op in einsums)  # out: one (40, 40) @ (40, 8)


@pytest.mark.parametrize("fn,shapes", [
    (rows, [(5, 7), (7, 3), (5, 3)]),
    (columns, [(5, 7), (7, 3), (3, 5)]),
    (subtracted, [(7, 3), (5, 3)]),
    (reassigned_3d, [(6, 3, 4), (5, 3, 4)]),
    (window_rows, [(8, 9), (6, 7)]),
])
def test_rows_accumulated_over_an_index_they_do_not_depend_on(rng, fn, shapes):
    assert both(fn, *[floats(rng, *s) for s in shapes]) == ["reduction"] * 2


def test_float32_rows(rng):
    assert both(rows, floats(rng, 6, 9, dtype=np.float32), floats(rng, 9, 4, dtype=np.float32),
                floats(rng, 6, 4, dtype=np.float32), rtol=1e-4, compiled=True) == ["reduction"] * 2


def test_integer_rows_are_exact(rng):
    S, V, out = (rng.integers(-50, 50, s).astype(np.int32) for s in [(5, 7), (7, 3), (5, 3)])
    assert both(rows, S, V, out) == ["reduction"] * 2
    big = np.full((3, 4), 2**62, dtype=np.int64)  # products and sums wrap as the plain function's do
    with np.errstate(over="ignore"):
        both(rows, np.full((2, 3), 3, dtype=np.int64), big, rng.integers(-9, 9, (2, 4)), compiled=True)


@pytest.mark.parametrize("fn", [masked_rows, masked_elements])
def test_conditional_rows(rng, fn):
    cond = rng.random((5, 7)) > 0.5
    assert both(fn, cond, floats(rng, 7, 3), floats(rng, 5, 3), compiled=fn is masked_rows) == ["reduction"] * 2
    both(fn, np.zeros((5, 7), bool), floats(rng, 7, 3), floats(rng, 5, 3))  # never taken


def test_counts_at_a_loop_invariant_bin(rng):
    lab = rng.integers(0, 6, 50)
    assert both(counts, lab, rng.integers(0, 9, 5), 3, compiled=True) == ["reduction"] * 2
    assert both(counts, lab, rng.integers(0, 9, 5), -2) == ["reduction"] * 2


@pytest.mark.parametrize("r", [1, -3])
def test_a_fixed_row(rng, r):
    assert both(fixed_row, floats(rng, 7, 3), floats(rng, 5, 3), r) == ["reduction"] * 2


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,args", [(fixed_row, lambda rng: (floats(rng, 7, 3), floats(rng, 5, 3), 9)),
                                     (counts, lambda rng: (rng.integers(3, 6, 50), np.ones(5, np.int64), 5))])
def test_an_out_of_range_position_raises_as_plain(rng, backend, fn, args):
    a = args(rng)
    with pytest.raises(IndexError):
        fn(*a)
    with pytest.raises(IndexError):
        looptrace.jit(fn, backend=backend)(*a)


def test_a_row_read_in_the_loop_stays_a_scan(rng):
    assert both(read_in_the_loop, floats(rng, 7, 3), floats(rng, 5, 3)) == ["scan"] * 2
