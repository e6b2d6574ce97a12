"""A concatenate read only elementwise by loop nests is never made on the CPU
(planning/fusion.py `_skip_join`, cpu/shape.py `join_element`): each element
is read from the piece holding it, the innermost loop split at the pieces'
boundaries (cpu/nest.py `_emit_split`). np.roll, an edge pad and
np.hstack each copied the whole array first (a 4-roll Laplacian of 1500 x
1500: 36 ms against NumPy's 5.3). The plain function is the specification:
values, dtypes and the effects on arguments, also where the result is
written over a piece (`u[:] = np.roll(u, 1) + 1`)."""
import numpy as np
import pytest

import looptrace
from looptrace.codegen.cpu import emitter

from .kernel_text import innermost_loop, kernel_body


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def r4(u):
    return np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1) + np.roll(u, -1, axis=1)


def laplacian(u):
    return np.roll(u, 1, axis=0) + np.roll(u, -1, axis=0) + np.roll(u, 1, axis=1) + np.roll(u, -1, axis=1) - 4 * u


def roll_last(u):
    return np.roll(u, 2, axis=-1) - u


def roll_3d(u):
    return np.roll(u, 1, axis=1) * np.roll(u, -2, axis=2) + np.roll(u, 1, axis=0)


def edge_pad(x):
    p = np.concatenate(([x[0]], x, [x[-1]]))
    return p[2:] - 2 * p[1:-1] + p[:-2]


def hstack_computed(a, b):
    return np.hstack((a * 2, np.exp(b))) * 3.0


def vstack_computed(a, b):
    return np.vstack((a * 2, b + 1)) - 1.0


def unit_pieces(a):
    return np.concatenate((a[:, :1], a, a[:, -1:]), axis=1) * 0.5


def mixed_dtypes(i, f):
    return np.concatenate((i, f)) + 1


def bool_pieces(m, x):
    return np.where(np.concatenate((m, ~m)), np.concatenate((x, x)), -x.sum())


def row_sums(a, b):
    return np.sum(np.concatenate((a, b), axis=1) ** 2, axis=1)


def total(a, b):
    return np.concatenate((a, b)).sum() + np.concatenate((b, a), axis=1).max()


def transposed(a, b, c):
    return np.concatenate((a, b), axis=0).T + c


def with_empty_piece(x):
    return np.concatenate((x, x[:0])) * 2.0


def roll_written_back(u):
    u[:] = np.roll(u, 1)


def roll_plus_written_back(u):
    u[:] = np.roll(u, 1, axis=0) + 1.0


def written_over_its_piece(u):
    u[1:-1] = np.concatenate((u[:1], u[2:-1])) * 2.0
    return u.sum()


def rolled_into_its_own_row(u):
    u[1:, :] = np.roll(u, 1, axis=1)[:-1] * 0.5 + u[:-1]


def piece_written_after(x):
    y = np.roll(x, 3) + 1.0
    x[0] = 5.0
    return y * x


def in_a_loop(x):
    acc = np.zeros(x.shape[1])
    for t in range(x.shape[0]):
        acc = acc + np.roll(x[t], 1) * x[t]
    return acc


def rng_args(*shapes):
    return lambda r: tuple(r.standard_normal(s) for s in shapes)


CASES = [
    (r4, rng_args((13, 11))),
    (laplacian, rng_args((9, 12))),
    (roll_last, rng_args((5, 17))),
    (roll_3d, rng_args((4, 6, 7))),
    (edge_pad, rng_args((40,))),
    (hstack_computed, rng_args((6, 3), (6, 5))),
    (vstack_computed, rng_args((3, 7), (5, 7))),
    (unit_pieces, rng_args((4, 9))),
    (mixed_dtypes, lambda r: (r.integers(-9, 9, 5).astype(np.int32), r.standard_normal(7))),
    (bool_pieces, lambda r: (r.random(8) < 0.5, r.standard_normal(8))),
    (row_sums, rng_args((6, 70), (6, 30))),
    (total, rng_args((5, 4), (5, 4))),
    (transposed, rng_args((3, 4), (2, 4), (4, 5))),
    (with_empty_piece, rng_args((9,))),
    (roll_written_back, rng_args((6, 5))),
    (roll_plus_written_back, rng_args((6, 5))),
    (written_over_its_piece, rng_args((7, 3))),
    (rolled_into_its_own_row, rng_args((6, 8))),
    (piece_written_after, rng_args((10,))),
    (in_a_loop, rng_args((7, 9))),
]
FUSED = {"r4", "laplacian", "roll_last", "roll_3d", "edge_pad", "hstack_computed", "vstack_computed",
         "unit_pieces", "mixed_dtypes", "row_sums", "transposed", "piece_written_after"}


def _check(fn, make, backend, seed=7):
    args = make(np.random.default_rng(seed))
    plain_args = [a.copy() for a in args]
    jit_args = [a.copy() for a in args]
    want = fn(*plain_args)
    f = looptrace.jit(fn, backend=backend)
    got = f(*jit_args)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    for w, g in zip(want, got, strict=True):
        if w is None:
            assert g is None
            continue
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    for p, j in zip(plain_args, jit_args, strict=True):
        np.testing.assert_array_equal(j, p)
    return f, args


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn, make", CASES, ids=[c[0].__name__ for c in CASES])
def test_matches_the_plain_function(fn, make, backend):
    f, args = _check(fn, make, backend)
    if backend == "cpu" and fn.__name__ in FUSED:
        src = kernel_body(f.explain(*args).kernel_source)
        assert "# joined" not in src, src


# the threaded kernels of laplacian and total with -m slow (1.5 and 1.4 s of CPU in session 54's CI; most
# cases' threaded kernels are their serial ones, loaded from the kernel cache). Each is its serial kernel
# (test_matches_the_plain_function) with the outer loop a prange: laplacian's rows, as hstack_computed's
# and row_sums' threaded kernels here; total's a prange sum over the joined axis, a threaded fold as
# test_cpu_costs' [300-1-values] runs
PARALLEL_SLOW = {"laplacian", "total"}


@pytest.mark.parametrize("fn, make", [pytest.param(*c, marks=pytest.mark.slow) if c[0].__name__ in PARALLEL_SLOW else c
                                      for c in CASES], ids=[c[0].__name__ for c in CASES])
def test_parallel_nests(fn, make, monkeypatch):
    """With threads for every nest: a split innermost loop that is also the
    parallel one (1-d) runs its long ranges as pranges of their own."""
    monkeypatch.setattr(emitter, "PARALLEL_MIN_WORK", 8)
    _check(fn, make, "cpu", seed=11)


def test_split_1d_parallel_axis(monkeypatch):
    monkeypatch.setattr(emitter, "PARALLEL_MIN_WORK", 8)
    f, args = _check(edge_pad, rng_args((4000,)), "cpu")
    src = kernel_body(f.explain(*args).kernel_source)
    assert "numba.prange(1, 3999)" in src and "# joined" not in src, src


def test_roll_along_the_inner_axis_reads_without_tests():
    """Each range of the split loop reads one piece at a constant offset: no
    per-element test in the innermost loop (it vectorizes). The kernel's source through explain (no Numba
    compile: 0.4 s in 3eb5406's CI), its values on the interpreter: the cpu kernel is
    test_matches_the_plain_function[roll_last-cpu]'s but for the row length (explain's sources)."""
    f, args = _check(roll_last, rng_args((5, 300)), "interpret")
    src = looptrace.explain(looptrace.jit(roll_last, backend="cpu"), *args).kernel_source
    inner = "\n".join(innermost_loop(src))
    assert " if " not in inner and "# joined" not in kernel_body(src), src


def test_roll_along_the_outer_axis_chooses_the_row():
    """A roll along an outer axis picks the row index (a test invariant in the
    inner loop), not between two reads."""
    f, args = _check(lambda u: np.roll(u, 1, axis=0) * 2.0, rng_args((50, 60)), "cpu")
    src = kernel_body(f.explain(*args).kernel_source)
    assert "# joined" not in src and "[(nonneg(" in src and "] if " not in src, src


def test_overlapping_write_keeps_the_copy():
    """`u[1:-1] = join(u[:1], u[2:-1]) * 2` writes u in place while the join
    would read it: the join is made first."""
    f, args = _check(written_over_its_piece, rng_args((7, 3)), "cpu")
    assert "# joined" in kernel_body(f.explain(*args).kernel_source)
