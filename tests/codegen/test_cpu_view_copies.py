"""An array written in place whose old contents are still read afterwards,
only through views smaller than it (`pu = P[u].copy()` read after
`P[u] += ...`), has those views copied before the write, not the whole
array (codegen/cpu/emitter.py `_copy_views_instead`, planning/ownership.py
`Scope.blockers`). Values and the effects on arguments match the plain
function on fresh random data; the kernel source shows the copies."""
import re

import numpy as np
import pytest

import looptrace
from bench.corpus.learning import matrix_factorization_sgd


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def row_swap_update(P, Q, idx, lr):
    P = P.copy()
    for k in range(idx.shape[0]):
        u = idx[k]
        i = idx[(k + 3) % idx.shape[0]] % Q.shape[0]
        pu = P[u].copy()
        P[u] += lr * Q[i]
        Q[i] -= lr * pu
    return P


def column_after_write(A, idx):
    A = A.copy()
    total = np.zeros(A.shape[0])
    for k in range(idx.shape[0]):
        j = idx[k]
        col = A[:, j].copy()
        A[:, j] = A[:, j] * 0.5 + 0.1 * total
        total = 0.9 * total + col * A[:, j]
    return A, total


def whole_view_after_write(A, idx):
    A = A.copy()
    acc = 0.0
    for k in range(idx.shape[0]):
        old = A[:, :].copy()
        A[idx[k]] = A[idx[k]] + 1.0
        acc += old.sum() * 1e-3
    return A, acc


def _loop_copies(src: str) -> list[str]:
    """The `x = copied(...)` lines inside the kernel's loops."""
    body = src.split("def kernel", 1)[1]
    return [ln.strip() for ln in body.splitlines() if "copied(" in ln and ln.startswith(" " * 8)]


def _check(fn, args, mutable=()):
    ref_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    got_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    want = fn(*ref_args)
    jf = looptrace.jit(fn)
    got = jf(*got_args)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    for k in mutable:
        np.testing.assert_allclose(got_args[k], ref_args[k], rtol=1e-12, atol=1e-12)
    return jf.explain(*[a.copy() if isinstance(a, np.ndarray) else a for a in args]).kernel_source


def test_matrix_factorization_copies_the_row_not_the_matrix():
    rng = np.random.default_rng(11)
    n_u, n_i, n_r, f = 40, 30, 300, 5
    args = (rng.integers(0, n_u, n_r), rng.integers(0, n_i, n_r), rng.normal(3.0, 1.0, n_r),
            rng.normal(0, 0.3, (n_u, f)), rng.normal(0, 0.3, (n_i, f)), 0.02, 0.05, 3)
    src = _check(matrix_factorization_sgd, args, mutable=(3, 4))
    copies = _loop_copies(src)
    assert copies and all(re.match(r"old\d+_ = copied\(", c) for c in copies), copies


def test_row_copy_with_argument_written_back():
    rng = np.random.default_rng(12)
    P, Q = rng.normal(size=(25, 6)), rng.normal(size=(20, 6))
    idx = rng.integers(0, 25, 200)
    src = _check(row_swap_update, (P, Q, idx, 0.1), mutable=(1,))
    assert all(re.match(r"old\d+_ = copied\(", c) for c in _loop_copies(src)), _loop_copies(src)


def test_strided_column_view_is_copied_alone():
    rng = np.random.default_rng(13)
    A = rng.normal(size=(30, 12))
    idx = rng.integers(0, 12, 50)
    src = _check(column_after_write, (A, idx))
    copies = _loop_copies(src)
    assert copies and all(re.match(r"old\d+_ = copied\(", c) for c in copies), copies


def test_view_as_large_as_the_array_copies_the_array():
    rng = np.random.default_rng(14)
    A = rng.normal(size=(8, 4))
    idx = rng.integers(0, 8, 30)
    src = _check(whole_view_after_write, (A, idx))
    assert not any(c.startswith("old") for c in _loop_copies(src))
