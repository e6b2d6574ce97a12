"""Corpus losses against numba.njit of the same function (session s52).

np.zeros in a CPU kernel: a fresh array of zero bits of a known shape is
calloc'd as NumPy's (templates.py `zeros`, helper.py `zeroed`), not filled by
a loop over every element (fem1d_assembly: a (3000, 3000) matrix of which the
assembly writes a band). Checked against the plain function on interpret and
cpu: every dtype's zero (float, int32, bool, complex), an empty array, a
fill of -0.0 (not zero bits: its sign kept), a temporary, a zeros made in each
step of a loop, the argument left as it was.

A while loop's test that is scalar code raising and writing nothing is the
`while` line's expression, `and`/`or` kept short-circuit (regions.py
`_test_expression`): insertion sort's `while j >= 0 and a[j] > key`, whose j
has the range [-1, entry] (ir/ranges.py `_while_counters`) so its reads need no
check; a test whose second operand would read past the end where the first
decides (`while i < n and x[i] < t`), an int's truth (`while m and ...`), an
`or`."""
import numpy as np
import pytest

import looptrace as lt

from .kernel_text import kernel_body

BACKENDS = ["interpret", "cpu"]


def _zeros_forms(x, idx):
    n = x.shape[0]
    K = np.zeros((n, n))
    for e in range(n - 1):  # fem1d_assembly's band
        K[e, e] += x[e]
        K[e, e + 1] -= x[e]
        K[e + 1, e] -= x[e]
    counts = np.zeros((n, 8), np.int32)
    for i in range(idx.shape[0]):
        counts[idx[i], i % 8] += 1
    flags = np.zeros((n, n), np.bool_)
    flags[::3, 1] = True
    z = np.zeros((n, n), np.complex128)
    z[:, 0] = x
    empty = np.zeros((0, n))
    negative = np.full(n, -0.0)
    negative[1] = x[1]
    t = np.zeros(n)
    t += x
    acc = np.zeros(n)
    for k in range(3):
        row = np.zeros(n)
        row[k] = x[k]
        acc += row * (k + 1)
    return K, counts, flags, z, empty, negative, t.sum(), acc


def _same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and g.shape == w.shape
        if g.ndim == 0 and g.dtype.kind == "f":  # a sum: the float-reduction contract, not NumPy's order
            np.testing.assert_allclose(g, w, rtol=1e-12)
            continue
        assert np.array_equal(g, w)
        if g.dtype.kind == "f":
            assert np.array_equal(np.signbit(g), np.signbit(w))


@pytest.mark.parametrize("backend", BACKENDS)
def test_zeros_are_calloced_and_match_numpy(backend):
    rng = np.random.default_rng(52)
    n = 700 if backend == "cpu" else 90  # (a small np.zeros is a constant the kernel copies)
    x = rng.standard_normal(n)
    idx = rng.integers(0, n, 3 * n)
    x0, idx0 = x.copy(), idx.copy()
    jf = lt.jit(_zeros_forms, backend=backend)
    _same(jf(x, idx), _zeros_forms(x0.copy(), idx0.copy()))
    assert np.array_equal(x, x0) and np.array_equal(idx, idx0)
    x2 = rng.standard_normal(n)  # fresh data through the same kernel
    _same(jf(x2, idx), _zeros_forms(x2.copy(), idx))
    if backend == "cpu":
        body = kernel_body(jf.explain(x, idx).kernel_source)
        assert "zeros((700, 700, ), np.float64)" in body
        for made in ("zeros((700, 8, ), np.int32)", "zeros((700, 700, ), np.bool)", "zeros((700, 700, ), np.complex128)"):
            assert made in body


def _while_forms(x, k):
    a = x.copy()
    for i in range(1, a.shape[0]):  # corpus insertion_sort
        key = a[i]
        j = i - 1
        while j >= 0 and a[j] > key:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = key
    n = x.shape[0]
    i = 0
    while i < n and x[i] < 0.97:  # x[n] is never read
        i += 1
    j = n - 1
    while j >= 0 and x[j] > 0.02:
        j -= 1
    m = k
    while m and x[m - 1] > 0.5:  # an int's truth
        m -= 1
    q = n + 2
    while q >= n or x[q] > 0.01:
        q -= 1
    return a, i, j, m, q


@pytest.mark.parametrize("backend", BACKENDS)
def test_while_tests_in_the_header(backend):
    rng = np.random.default_rng(520)
    jf = lt.jit(_while_forms, backend=backend)
    for x in (rng.random(80), rng.random(80) * 0.5, rng.random(80) + 0.1):
        x[40] = 0.0  # every loop stops inside the array (the last two walk down to it)
        x0 = x.copy()
        for k in (80, 0, 7):
            _same(jf(x, k), _while_forms(x0.copy(), k))
            assert np.array_equal(x, x0)
    if backend == "cpu":
        body = kernel_body(jf.explain(x, 3).kernel_source)
        headers = [ln.strip() for ln in body.splitlines() if ln.lstrip().startswith("while ")]
        assert sum(h != "while True:" and " and " in h for h in headers) == 2, headers  # (insertion sort, j)
        assert "check_start" not in "".join(h for h in headers)


def _walk_down(x, j, step):
    while j < x.shape[0] and x[j] > 0.0:  # bounded above only: j may walk off the front
        j -= step
    return j


@pytest.mark.parametrize("backend", BACKENDS)
def test_while_counter_without_its_bound_keeps_the_check(backend):
    x = np.random.default_rng(521).random(40) + 0.5
    jf = lt.jit(_walk_down, backend=backend)
    stop = x.copy()
    stop[3] = -1.0
    assert jf(stop, 30, 1) == _walk_down(stop, 30, 1) == 3
    with pytest.raises(IndexError):  # x[-41], as Python: no range lets the read go unchecked
        jf(x, 30, 1)
    with pytest.raises(IndexError):
        _walk_down(x, 30, 1)
