"""A gather of a computed array computes only the elements it reads
(vectorize/gathered.py): `logp[np.arange(n), y]` recomputes logp's
elementwise ops at the n positions instead of making the (n, k) array. Each
program is checked against the plain function on random data, with indices
from either end; an index out of range still raises NumPy's IndexError."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace
from bench.corpus.sparse import label_nll
from looptrace.ir.core import walk

VIEWS = ("reshape", "broadcast_to", "transpose", "slice")


def _computed_gathers(program):
    """Gathers whose array is made by an elementwise op (through views)."""
    producer = {v.id: op for op in walk(program.body) for v in op.outputs}
    found = []
    for op in walk(program.body):
        if op.prim.name != "gather":
            continue
        made = producer.get(op.inputs[0].id)
        while made is not None and made.prim.name in VIEWS:
            made = producer.get(made.inputs[0].id)
        if made is not None and made.prim.elementwise:
            found.append(op)
    return found


def picked_rows(a, b, idx):
    return (np.sin(a) * b[None, :] + 1.0)[idx]


def picked_columns(a, c, idx):
    return np.exp(a.T - c)[:, idx].sum(axis=0)


def picked_pairs(u, v, i, j):
    d = np.abs(u[:, None] - v[None, :]) ** 1.5
    return d[i, j]


def picked_flat(a, idx):
    return np.tanh(a[::2, 1:] * 0.5).reshape(-1)[idx]


def picked_with_positions(a, idx):
    n, m = a.shape
    w = a * np.arange(m) + np.arange(n)[:, None]
    return w[idx, idx % m]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_label_nll_reads_only_the_labels(backend, rng):
    logits = rng.standard_normal((40, 9))
    y = rng.integers(-9, 9, 40)
    f = looptrace.jit(label_nll, backend=backend)
    np.testing.assert_allclose(f(logits, y), label_nll(logits, y), rtol=1e-12)
    program = f.explain(logits, y).program
    assert not _computed_gathers(program)
    full = [op for op in walk(program.body) if op.prim.elementwise and tuple(op.out.shape) == (40, 9)]
    assert len(full) == 2, [op.prim.name for op in full]  # z and exp(z): the sum reads them; logp is gone


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_label_nll_index_out_of_range_raises_as_numpy(backend, rng):
    logits = rng.standard_normal((12, 5))
    y = rng.integers(0, 5, 12)
    y[7] = 5
    with pytest.raises(IndexError) as want:
        label_nll(logits, y)
    with pytest.raises(IndexError) as got:
        looptrace.jit(label_nll, backend=backend)(logits, y)
    assert str(got.value).splitlines()[0] == str(want.value)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(4, 30), m=st.integers(2, 12), k=st.integers(1, 6), seed=st.integers(0, 2**32 - 1))
def test_gathers_of_computed_arrays_match(n, m, k, seed):
    r = np.random.default_rng(seed)
    a, b = r.standard_normal((n, m)), r.standard_normal(m)
    rows = r.integers(-n, n, k)
    f = looptrace.jit(picked_rows, backend="interpret")
    np.testing.assert_allclose(f(a, b, rows), picked_rows(a, b, rows), rtol=1e-12)
    if 2 * k * m <= n * m:
        assert not _computed_gathers(f.explain(a, b, rows).program)
    c = r.standard_normal((m, 1))
    cols = r.integers(-n, n, k)
    g = looptrace.jit(picked_columns, backend="interpret")
    np.testing.assert_allclose(g(a, c, cols), picked_columns(a, c, cols), rtol=1e-12)
    u, v = r.standard_normal(n), r.standard_normal(m)
    i, j = r.integers(-n, n, k), r.integers(0, m, k)
    h = looptrace.jit(picked_pairs, backend="interpret")
    np.testing.assert_allclose(h(u, v, i, j), picked_pairs(u, v, i, j), rtol=1e-12)
    if 2 * k <= n * m:
        assert not _computed_gathers(h.explain(u, v, i, j).program)
    size = ((n + 1) // 2) * (m - 1)
    flat = r.integers(-size, size, k)
    p = looptrace.jit(picked_flat, backend="interpret")
    np.testing.assert_allclose(p(a, flat), picked_flat(a, flat), rtol=1e-12)
    idx = r.integers(0, n, k)
    q = looptrace.jit(picked_with_positions, backend="interpret")
    np.testing.assert_allclose(q(a, idx), picked_with_positions(a, idx), rtol=1e-12)


_COMPILED_GATHERS = [
    (picked_rows, lambda r: (r.standard_normal((50, 7)), r.standard_normal(7), r.integers(-50, 50, 9))),
    (picked_columns, lambda r: (r.standard_normal((40, 6)), r.standard_normal((6, 1)), r.integers(-40, 40, 5))),
    (picked_pairs, lambda r: (r.standard_normal(30), r.standard_normal(20), r.integers(-30, 30, 11),
                              r.integers(0, 20, 11))),
    (picked_flat, lambda r: (r.standard_normal((21, 9)), r.integers(-88, 88, 13))),
    (picked_with_positions, lambda r: (r.standard_normal((33, 8)), r.integers(0, 33, 10))),
]


@pytest.mark.parametrize("fn, make", _COMPILED_GATHERS)
def test_gathers_of_computed_arrays_are_not_made(fn, make, rng):
    """The program the compiled tests below compile (explain: no Numba compile)."""
    args = make(rng)
    assert not _computed_gathers(looptrace.jit(fn).explain(*args).program)


# the cpu kernels of picked_columns (columns picked from a transposed broadcast difference) and
# picked_pairs (two indices, elements of an outer difference) by default; picked_rows, picked_flat and
# picked_with_positions with -m slow (their values on the interpreter: test_gathers_of_computed_arrays_match;
# their programs: the test above; 1.5 s of session 55's CI)
@pytest.mark.parametrize("fn, make", [case if case[0] in (picked_columns, picked_pairs)
                                      else pytest.param(*case, marks=pytest.mark.slow) for case in _COMPILED_GATHERS])
def test_gathers_of_computed_arrays_compiled(fn, make, rng):
    args = make(rng)
    f = looptrace.jit(fn)
    np.testing.assert_allclose(f(*args), fn(*args), rtol=1e-12)


def test_array_read_elsewhere_is_gathered_as_made(rng):
    """The array is made whole anyway when something else reads it: the gather reads it."""
    def both(a, idx):
        w = np.sin(a) + 1.0
        return w[idx], w.sum()

    a, idx = rng.standard_normal((30, 4)), rng.integers(0, 30, 5)
    f = looptrace.jit(both, backend="interpret")
    for g, w in zip(f(a, idx), both(a, idx)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    assert len(_computed_gathers(f.explain(a, idx).program)) == 1


def test_label_nll_gradient_matches_finite_differences(rng):
    logits = rng.standard_normal((12, 5))
    y = rng.integers(-5, 5, 12)
    got = looptrace.grad(label_nll, argnums=0, backend="interpret")(logits, y)
    want = np.zeros_like(logits)
    h = 1e-6
    for i in range(logits.shape[0]):
        for j in range(logits.shape[1]):
            up, down = logits.copy(), logits.copy()
            up[i, j] += h
            down[i, j] -= h
            want[i, j] = (label_nll(up, y) - label_nll(down, y)) / (2 * h)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
