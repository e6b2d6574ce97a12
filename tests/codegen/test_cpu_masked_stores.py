"""CPU writes whose update is `select(c, new, the element stored)` (the
vectorizer's form of `if c[j]: x[i, j] = new`): stored where c holds and
nowhere else, in place, with no temporary row (planning/fusion.py
`_masked_update`, codegen/cpu/indexing.py `_masked_store`). The target may
be read element for element (row k of x while row i is written, k == i
included); a read of the target that is not the element stored (another
row as the kept value, a shifted column) keeps the update off this path.
Values and effects on the arguments are compared with the plain function."""

import copy

import numpy as np

import looptrace


def closure(r):
    n = r.shape[0]
    for k in range(n):
        for i in range(n):
            if r[i, k]:
                for j in range(n):
                    if r[k, j]:
                        r[i, j] = True
    return r


def halve_where_above(x, t):
    for i in range(1, x.shape[0]):
        for j in range(x.shape[1]):
            if x[i - 1, j] > t:
                x[i, j] = x[i - 1, j] * 0.5 + x[i, j]
    return x


def unless_set(x, m):
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if m[i, j]:
                pass
            else:
                x[i, j] = -x[i, j]
    return x


def kept_from_another_row(x, y, m, k):
    for i in range(x.shape[0]):
        x[i, :] = np.where(m, y[i, :], x[k, :])  # x[k]: not the element stored (but where i == k)
    return x


def shifted_read(x, m):
    for i in range(x.shape[0]):
        for j in range(x.shape[1] - 1):
            if m[j]:
                x[i, j + 1] = x[i, j] + 1.0  # reads the column its neighbour stores
    return x


def _same(fn, *args, backend="cpu"):
    want_args = copy.deepcopy(args)
    want = fn(*want_args)
    got_args = copy.deepcopy(args)
    jf = looptrace.jit(fn, backend=backend)
    got = jf(*got_args)
    np.testing.assert_array_equal(got, want)
    for a, b in zip(got_args, want_args):
        np.testing.assert_array_equal(a, b)
    return jf


def test_closure_stores_where_the_row_holds_in_place(rng):
    r = rng.random((60, 60)) < 0.03
    _same(closure, r, backend="interpret")
    jf = _same(closure, r)
    src = jf.explain(r.copy()).kernel_source
    assert "alloc((1, 60" not in src and "pick(" not in src, src
    assert "= True" in src.split("def kernel", 1)[1], src


def test_float_update_reading_the_row_before(rng):
    x = rng.standard_normal((30, 17))
    for backend in ("interpret", "cpu"):
        _same(halve_where_above, x, 0.2, backend=backend)
    src = looptrace.jit(halve_where_above, backend="cpu").explain(x.copy(), 0.2).kernel_source
    assert "alloc(" not in src and "pick(" not in src, src


def test_the_kept_element_as_the_true_operand(rng):
    x = rng.standard_normal((9, 13))
    m = rng.random((9, 13)) < 0.5
    for backend in ("interpret", "cpu"):
        _same(unless_set, x, m, backend=backend)


def test_kept_value_from_another_row_is_written(rng):
    x, y = rng.standard_normal((2, 12, 40))
    m = rng.random(40) < 0.5
    for k in (0, 5, 11):
        _same(kept_from_another_row, x, y, m, k)


def test_shifted_reads_of_the_target(rng):
    x = rng.standard_normal((7, 25))
    m = rng.random(25) < 0.6
    for backend in ("interpret", "cpu"):
        _same(shifted_read, x, m, backend=backend)


def old_row_read_after(x, m):
    acc = np.zeros(x.shape[1])
    for i in range(1, x.shape[0]):
        old = x[i, :].copy()
        x[i, :] = np.where(x[i - 1, :] > acc, 0.0, old)
        acc = acc * 0.5 + old  # the row as it was before the write
    return x, acc


def test_a_view_read_after_the_write_sees_the_old_row(rng):
    x = rng.standard_normal((8, 21))
    m = rng.random(21) < 0.5
    want = old_row_read_after(x.copy(), m)
    for backend in ("interpret", "cpu"):
        got = looptrace.jit(old_row_read_after, backend=backend)(x.copy(), m)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def relax_rows(d):
    n = d.shape[0]
    for k in range(n):
        for i in range(n):
            dik = d[i, k]
            if dik == np.inf:
                continue
            for j in range(n):
                nd = dik + d[k, j]
                if nd < d[i, j]:
                    d[i, j] = nd
    return d


def test_nested_conditions_through_reshapes(rng):
    d = rng.random((40, 40)) * 10.0
    d[rng.random((40, 40)) < 0.7] = np.inf
    np.fill_diagonal(d, 0.0)
    for backend in ("interpret", "cpu"):
        _same(relax_rows, d, backend=backend)
    src = looptrace.jit(relax_rows, backend="cpu").explain(d.copy()).kernel_source
    inner = src.split("def kernel", 1)[1].split("for v", 2)[-1]
    assert "pick(" not in inner and "copied(" not in inner, src
