"""Probe K (session 50): loop dependences the vectorizer must respect.

Each function below is a loop in a style scientists write whose iterations
depend on each other in a way a wrong dependence analysis would miss: an
array read at one offset and written at another (Gauss-Seidel, reversed and
step-2 loops, 2-d row/column/diagonal orders), through a second name (a
slice, a transpose, a reshape, np.flip/moveaxis/fliplr/split views, unpacked
rows, names bound by a traced condition, dicts, helpers), scatters and
gathers with repeated or colliding indices (histograms, swaps, Fisher-Yates,
union-find, counting sort; `x[idx] += v` buffers as NumPy does), ping-pong buffers and
overlapping slice writes (NumPy copies the right side first), masked and
conditional updates with ties and NaN, break/continue after partial writes,
delay lines (misaligned, reversed, read before the write, wrapping negative
indices), block promotion at traced positions that collide at run time,
triangular and nested loops reading what the outer loop wrote, traced steps
and starts, iteration over an array the loop writes, wrapping negative
positions, stores that cast (an int array fed floats). Every case
ran correct when written (session 50, probe K); each is checked here against
the plain function on fresh random data: return values, dtypes, and every
argument array after the call. Interpret mostly; one cpu kernel batches a
sample of the loops.
"""
import copy

import numpy as np
import pytest

import looptrace

# int8/uint8 recurrences wrap, in the plain function as in the compiled one
pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")

CASES = []


def case(*makers):
    def deco(f):
        CASES.extend((f, k, mk) for k, mk in enumerate(makers))
        return f
    return deco


def _same(want, got, where):
    if isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), where
        for k, (w, g) in enumerate(zip(want, got)):
            _same(w, g, f"{where}[{k}]")
        return
    w, g = np.asarray(want), np.asarray(got)
    assert isinstance(got, np.ndarray) == isinstance(want, np.ndarray), where
    assert w.dtype == g.dtype and w.shape == g.shape, (where, g.dtype, w.dtype, g.shape, w.shape)
    if w.dtype.kind in "fc":  # (regrouped sums and parallel scans round differently)
        tol = 1e-5 if w.dtype.itemsize <= 8 and w.dtype.kind == "c" or w.dtype == np.float32 else 1e-12
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol, err_msg=where)
    else:
        np.testing.assert_array_equal(g, w, err_msg=where)


def _check(fn, args, backend):
    plain_args, jit_args = copy.deepcopy(args), copy.deepcopy(args)
    want = fn(*plain_args)
    got = looptrace.jit(fn, backend=backend)(*jit_args)
    _same(want, got, fn.__name__)
    for k, (w, g) in enumerate(zip(plain_args, jit_args)):
        if isinstance(w, np.ndarray):
            _same(w, g, f"{fn.__name__} argument {k}")


def v_ca(n=12): return lambda r: (r.standard_normal(n),)

def m_ca(a=5, b=6): return lambda r: (r.standard_normal((a, b)),)

def sc_cb(n=15, m=5):
    return (lambda r: (r.standard_normal(n), r.integers(0, m, n), np.zeros(m) + r.standard_normal(m)),
            lambda r: (r.standard_normal(n), np.full(n, 2), r.standard_normal(m)))

def v_cc(n=10): return lambda r: (r.standard_normal(n),)

def sq_cc(n=5): return lambda r: (r.standard_normal((n, n)),)

def ties_cd(): return lambda r: (np.array([1., 3., 3., 2., 3., 0., 3., -1.]),)

def v_cd(n=14): return lambda r: (r.standard_normal(n),)

def v_ce(n=16): return lambda r: (r.standard_normal(n),)

def m_cf(a=5, b=6): return lambda r: (r.standard_normal((a, b)),)

def jj_ch(a, b): return lambda r: (r.standard_normal(12), r.standard_normal(5), a, b)

def v_ch(n=12): return lambda r: (r.standard_normal(n),)

def v_ci(): return lambda r: (r.standard_normal(12),)

def m_ci(): return lambda r: (r.standard_normal((4, 4)),)

def fi_ck(): return (lambda r: (r.standard_normal(6), r.integers(0, 6, 10), r.standard_normal(10)),
                  lambda r: (r.standard_normal(6), np.array([2, 2, 2, 0, 0, 5, 5, 5, 5, 1]), r.standard_normal(10)))

def vs_cl(*steps):
    return tuple((lambda s: (lambda r: (r.standard_normal(12), s)))(s) for s in steps)

def vc_cm(*cs):
    return tuple((lambda c: (lambda r: (r.standard_normal(12), c)))(c) for c in cs)

def _tail(x):
    return x[1:]

def v_co(n=12): return lambda r: (r.standard_normal(n),)

def v_cp(n=12): return lambda r: (r.standard_normal(n),)


@case(v_ca())
def gs_pm1(a):
    for i in range(1, a.shape[0] - 1):
        a[i] = 0.5 * (a[i - 1] + a[i + 1])
    return a


@case(v_ca())
def gs_reversed(a):
    for i in range(a.shape[0] - 2, 0, -1):
        a[i] = 0.5 * (a[i - 1] + a[i + 1])
    return a


@case(v_ca())
def read_ahead_p1(a):
    for i in range(a.shape[0] - 1):
        a[i] = a[i + 1] * 2.0
    return a.sum()


@case(v_ca())
def read_behind_reversed(a):
    # reversed loop reading i-1: old values (no chain)
    for i in range(a.shape[0] - 1, 0, -1):
        a[i] = a[i - 1] * 3.0
    return a


@case(v_ca())
def read_ahead_reversed(a):
    # reversed loop reading i+1: new values (a chain)
    for i in range(a.shape[0] - 2, -1, -1):
        a[i] = a[i + 1] * 0.9 + a[i]
    return a


@case(v_ca())
def step2_m2(a):
    for i in range(2, a.shape[0], 2):
        a[i] = a[i - 2] + a[i - 1]
    return a


@case(v_ca())
def alias_slice1(a):
    b = a[1:]
    for i in range(a.shape[0] - 1):
        b[i] = a[i] * 2.0   # b[i] is a[i+1]: chain
    return a


@case(v_ca())
def alias_slice_rev(a):
    b = a[::-1]
    n = a.shape[0]
    for i in range(n):
        a[i] = b[i] + 1.0   # reads a[n-1-i]: old for first half, new for second
    return a


@case(m_ca(5, 5))
def alias_T(a):
    b = a.T
    for i in range(5):
        for j in range(5):
            a[i, j] = b[i, j] + 1.0
    return a


@case(v_ca(12))
def alias_reshape(a):
    b = a.reshape(3, 4)
    for i in range(1, 3):
        b[i] = b[i - 1] + a[i]
    return a


@case(v_ca(12))
def view_before_loop(a):
    w = a[2:8]
    for i in range(1, 6):
        w[i] = w[i - 1] + a[i]
    return a, w.sum()


@case(m_ca(4, 6))
def grid_gs2d(a):
    for i in range(1, a.shape[0] - 1):
        for j in range(1, a.shape[1] - 1):
            a[i, j] = 0.25 * (a[i - 1, j] + a[i + 1, j] + a[i, j - 1] + a[i, j + 1])
    return a


@case(m_ca(4, 6))
def diag_dep(a):
    for i in range(1, a.shape[0]):
        for j in range(1, a.shape[1]):
            a[i, j] = a[i - 1, j - 1] + a[i, j]
    return a


@case(m_ca(4, 6))
def anti_diag_dep(a):
    for i in range(1, a.shape[0]):
        for j in range(a.shape[1] - 1):
            a[i, j] = a[i - 1, j + 1] - a[i, j]
    return a


@case(lambda r: (r.standard_normal(12), 7))
def traced_trip(a, n):
    for i in range(1, n):
        a[i] = a[i - 1] * 0.5 + a[i]
    return a


@case(v_ca(12))
def while_data(a):
    i = 0
    s = 0.0
    while i < a.shape[0] - 1 and s < 3.0:
        a[i + 1] = a[i] + abs(a[i + 1])
        s += abs(a[i])
        i += 1
    return a, i, s


@case(v_ca(12))
def neg_index(a):
    for i in range(a.shape[0]):
        a[i] = a[i - 1] + 1.0   # a[-1] at i=0: old last element
    return a


@case(v_ca(12))
def read_fixed_written(a):
    for i in range(a.shape[0]):
        a[i] = a[i] + a[3]   # a[3] changes at i=3
    return a


@case(v_ca(12))
def mod_wrap(a):
    n = a.shape[0]
    for i in range(n):
        a[i] = a[(i + 1) % n] + a[i]
    return a


@case(v_ca(12))
def two_arrays_cross(a):
    b = a * 2.0
    for i in range(1, a.shape[0]):
        a[i] = b[i - 1] + 1.0
        b[i] = a[i - 1] * 0.5
    return a, b


@case(*sc_cb())
def scatter_add(v, idx, y):
    for i in range(v.shape[0]):
        y[idx[i]] += v[i]
    return y


@case(*sc_cb())
def scatter_set_last_wins(v, idx, y):
    for i in range(v.shape[0]):
        y[idx[i]] = v[i]
    return y


@case(*sc_cb())
def scatter_read_other(v, idx, y):
    # y[idx[i]] = y[idx[j]] + 1 with j = i-1
    for i in range(1, v.shape[0]):
        y[idx[i]] = y[idx[i - 1]] + 1.0
    return y


@case(*sc_cb())
def scatter_add_then_read(v, idx, y):
    out = np.empty(v.shape[0])
    for i in range(v.shape[0]):
        y[idx[i]] += v[i]
        out[i] = y[idx[i]]
    return out, y


@case(lambda r: (r.integers(0, 6, 30),), lambda r: (np.full(20, 3),))
def histogram(x):
    h = np.zeros(6, dtype=np.int64)
    for i in range(x.shape[0]):
        h[x[i]] += 1
    return h


@case(lambda r: (r.standard_normal(10), r.permutation(10)), lambda r: (r.standard_normal(10), r.integers(0, 10, 10)))
def swap_perm(x, perm):
    for i in range(x.shape[0]):
        x[perm[i]], x[i] = x[i], x[perm[i]]
    return x


@case(lambda r: (r.standard_normal(10), r.integers(0, 10, 10)))
def fisher_yates(x, j):
    n = x.shape[0]
    for i in range(n - 1, 0, -1):
        k = j[i] % (i + 1)
        t = x[i]
        x[i] = x[k]
        x[k] = t
    return x


@case(lambda r: (r.integers(0, 8, (6, 2)),))
def union_find_compress(edges):
    parent = np.arange(8)
    for e in range(edges.shape[0]):
        a = edges[e, 0]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = edges[e, 1]
        while parent[b] != b:
            b = parent[b]
        parent[a] = b
    return parent


@case(lambda r: (r.standard_normal(10), r.integers(0, 10, 10)))
def gather_write_same(x, idx):
    for i in range(10):
        x[i] = x[idx[i]] * 2.0
    return x


@case(lambda r: (r.standard_normal(10), r.integers(0, 10, 10)), lambda r: (r.standard_normal(10), np.arange(10)[::-1].copy()))
def scatter_from_self(x, idx):
    for i in range(10):
        x[idx[i]] = x[i] + 1.0
    return x


@case(lambda r: (r.standard_normal(10), r.integers(0, 10, 10)))
def counting_sort_like(x, key):
    cnt = np.zeros(10, dtype=np.int64)
    for i in range(10):
        cnt[key[i]] += 1
    for k in range(1, 10):
        cnt[k] += cnt[k - 1]
    out = np.empty(10)
    for i in range(9, -1, -1):
        cnt[key[i]] -= 1
        out[cnt[key[i]]] = x[i]
    return out, cnt


@case(lambda r: (r.integers(0, 6, 12), r.standard_normal(12)))
def first_seen(idx, v):
    first = np.full(6, np.nan)
    for i in range(12):
        if np.isnan(first[idx[i]]):
            first[idx[i]] = v[i]
    return first


@case(lambda r: (r.integers(0, 10, 10),), lambda r: (np.array([1, 2, 3, 0, 5, 6, 7, 8, 9, 4]),))
def pointer_chase(nxt):
    seen = np.zeros(10, dtype=np.int64)
    j = 0
    for t in range(10):
        seen[j] += 1
        j = nxt[j]
    return seen, j


@case(v_cc())
def pingpong(a):
    b = np.empty_like(a)
    for t in range(5):
        b[1:-1] = 0.5 * (a[:-2] + a[2:])
        b[0] = a[0]
        b[-1] = a[-1]
        a, b = b, a
    return a, b


@case(v_cc())
def copy_back(a):
    b = np.empty_like(a)
    for t in range(4):
        for i in range(1, a.shape[0]):
            b[i] = a[i] + a[i - 1]
        b[0] = a[0]
        a[:] = b
    return a


@case(v_cc())
def x_copy_then_write(x):
    hist = []
    for t in range(4):
        x = x.copy()
        x[t] = -x[t + 1]
        hist.append(x)
    return np.array(hist)


@case(v_cc())
def lu_like_slice(x):
    y = x * 0.5
    for i in range(x.shape[0]):
        x[i:] -= x[i] * y[i:]
    return x


@case(v_cc())
def shift_overlap(x):
    for t in range(3):
        x[1:] = x[:-1]
    return x


@case(v_cc())
def shift_overlap_add(x):
    for t in range(2):
        x[1:] += x[:-1]
    return x


@case(v_cc())
def prefix_slice_dep(x):
    for i in range(1, x.shape[0]):
        x[:i] += x[i]
    return x


@case(sq_cc())
def row_from_col(x):
    for i in range(x.shape[0]):
        x[i, :] = x[:, i]
    return x


@case(sq_cc())
def transpose_in_place(x):
    n = x.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            x[i, j], x[j, i] = x[j, i], x[i, j]
    return x


@case(v_cc())
def roll_inplace_assign(x):
    for t in range(3):
        x[:] = np.roll(x, 2)
        x[0] += 1.0
    return x


@case(sq_cc())
def gauss_elim(A):
    n = A.shape[0]
    A = A + n * np.eye(n)
    for k in range(n):
        for i in range(k + 1, n):
            f = A[i, k] / A[k, k]
            A[i, k:] -= f * A[k, k:]
    return A


@case(v_cc())
def reverse_slice_assign(x):
    for t in range(2):
        x[:] = x[::-1] + 1.0
    return x


@case(v_cc())
def fill_via_view_in_loop(x):
    for i in range(1, x.shape[0]):
        w = x[i - 1:i + 1]
        w[1] = w[0] * 2.0 + w[1]
    return x


@case(lambda r: (r.standard_normal((4, 5)),))
def col_view_in_loop(x):
    for j in range(1, x.shape[1]):
        col = x[:, j]
        col *= x[:, j - 1]
    return x


@case(v_cd(), ties_cd())
def argmax_first(x):
    best = x[0]
    where = 0
    for i in range(1, x.shape[0]):
        if x[i] > best:
            best = x[i]
            where = i
    return best, where


@case(v_cd(), ties_cd())
def argmax_last(x):
    best = x[0]
    where = 0
    for i in range(1, x.shape[0]):
        if x[i] >= best:
            best = x[i]
            where = i
    return best, where


@case(lambda r: (np.array([np.nan, 1., 2., np.nan, 2.]),), lambda r: (np.array([1., np.nan, 5.0, 2.]),))
def argmax_nan(x):
    best = x[0]
    where = 0
    for i in range(1, x.shape[0]):
        if x[i] > best:
            best = x[i]
            where = i
    return best, where


@case(lambda r: (np.array([1., 3., 3., 2., 3., 0., 3., -1.]), np.array([5., 4., 3., 2., 1., 0., 9., 9.])))
def argmax_second_key(x, y):
    best = -np.inf
    sec = 0.0
    for i in range(x.shape[0]):
        if x[i] > best or (x[i] == best and y[i] > sec):
            best = x[i]
            sec = y[i]
    return best, sec


@case(lambda r: (r.uniform(0, 1, 20),))
def reset_acc(x):
    acc = 0.0
    resets = 0
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        acc += x[i]
        if acc > 1.5:
            acc = 0.0
            resets += 1
        out[i] = acc
    return out, resets


@case(v_cd())
def break_partial_inplace(x):
    s = 0.0
    for i in range(1, x.shape[0]):
        x[i] += x[i - 1]
        s += x[i]
        if s > 2.0:
            break
    return x, s


@case(v_cd())
def continue_skip_inplace_chain(x):
    for i in range(1, x.shape[0]):
        if x[i] < 0:
            continue
        x[i] = x[i - 1] + x[i]
    return x


@case(v_cd())
def branch_only_write(x):
    for i in range(1, x.shape[0]):
        if x[i - 1] > 0:
            x[i] = x[i - 1] * 0.5
    return x


@case(v_cd())
def compaction_inplace(x):
    k = 0
    for i in range(x.shape[0]):
        if x[i] > 0:
            x[k] = x[i]
            k += 1
    return x, k


@case(v_cd())
def cond_write_prev(x):
    for i in range(1, x.shape[0]):
        if x[i] > x[i - 1]:
            x[i - 1] = x[i]
    return x


@case(v_cd())
def bubble_pass(x):
    for i in range(x.shape[0] - 1):
        if x[i] > x[i + 1]:
            x[i], x[i + 1] = x[i + 1], x[i]
    return x


@case(v_cd())
def insertion_sort(x):
    for i in range(1, x.shape[0]):
        key = x[i]
        j = i - 1
        while j >= 0 and x[j] > key:
            x[j + 1] = x[j]
            j -= 1
        x[j + 1] = key
    return x


@case(v_cd())
def where_chain(x):
    run = 0
    best = 0
    for i in range(x.shape[0]):
        if x[i] > 0:
            run += 1
        else:
            run = 0
        if run > best:
            best = run
    return best, run


@case(v_cd())
def second_largest(x):
    a = -np.inf
    b = -np.inf
    for i in range(x.shape[0]):
        if x[i] > a:
            b = a
            a = x[i]
        elif x[i] > b:
            b = x[i]
    return a, b


@case(v_ce())
def delay_line(s):
    k = 3
    buf = np.zeros(s.shape[0] + k)
    out = np.empty(s.shape[0])
    for t in range(s.shape[0]):
        buf[t + k] = s[t]
        out[t] = buf[t]
    return out


@case(v_ce())
def delay_line_same_iter(s):
    buf = np.ones(s.shape[0] + 2)
    out = np.empty(s.shape[0])
    for t in range(s.shape[0]):
        out[t] = buf[t + 2]      # read before write at same position
        buf[t + 2] = s[t]
    return out, buf


@case(v_ce())
def circular_buffer(s):
    n = 4
    ring = np.zeros(n)
    out = np.empty(s.shape[0])
    for t in range(s.shape[0]):
        out[t] = ring[t % n]
        ring[t % n] = s[t]
    return out, ring


@case(v_ce())
def shift_register_forward_bug(s):
    # forward inner loop: propagates reg[0] through (user "bug", but the spec)
    reg = np.arange(4.0)
    out = np.empty(s.shape[0])
    for t in range(s.shape[0]):
        for k in range(1, 4):
            reg[k] = reg[k - 1]
        reg[0] = s[t]
        out[t] = reg.sum()
    return out


@case(v_ce())
def iir2_biquad(x):
    b0, b1, b2, a1, a2 = 0.2, 0.3, 0.2, -0.5, 0.1
    y = np.zeros(x.shape[0])
    for n in range(2, x.shape[0]):
        y[n] = b0 * x[n] + b1 * x[n - 1] + b2 * x[n - 2] - a1 * y[n - 1] - a2 * y[n - 2]
    return y


@case(v_ce())
def prefix_inplace_rev(x):
    for i in range(x.shape[0] - 2, -1, -1):
        x[i] += x[i + 1]
    return x


@case(v_ce())
def prefix_inplace_step2(x):
    for i in range(2, x.shape[0]):
        x[i] += x[i - 2]
    return x


@case(lambda r: (r.integers(-3, 4, 16).astype(np.int8),))
def int8_prefix_wrap(x):
    for i in range(1, x.shape[0]):
        x[i] = x[i] + x[i - 1] * 3
    return x


@case(lambda r: (r.integers(0, 200, 16).astype(np.uint8),))
def uint8_recurrence(x):
    y = np.zeros(16, dtype=np.uint8)
    for i in range(1, 16):
        y[i] = y[i - 1] + x[i]
    return y


@case(lambda r: (r.standard_normal(16), 3), lambda r: (r.standard_normal(16), 0), lambda r: (r.standard_normal(16), -2))
def delay_runtime_k(s, k):
    buf = np.zeros(s.shape[0] + 3)
    for t in range(3, s.shape[0]):
        buf[t + k] = s[t] + buf[t]
    return buf


@case(m_cf(6, 6))
def triangular_sum(A):
    s = np.zeros(6)
    for i in range(6):
        for j in range(i):
            s[i] += A[i, j] * s[j] * 0.1 + A[j, i]
    return s


@case(m_cf(6, 6))
def back_subst_inplace(A):
    U = np.triu(A) + 6 * np.eye(6)
    x = A[:, 1].copy()
    for i in range(5, -1, -1):
        for j in range(i + 1, 6):
            x[i] -= U[i, j] * x[j]
        x[i] /= U[i, i]
    return x


@case(m_cf(5, 6))
def inner_reads_prev_outer(A):
    for i in range(1, 5):
        for j in range(6):
            A[i, j] = A[i - 1, j] + A[i - 1, (j + 1) % 6]
    return A


@case(m_cf(5, 6))
def inner_acc_reset_conditional(A):
    out = np.empty(5)
    acc = 0.0
    for i in range(5):
        if A[i, 0] > 0:
            acc = 0.0
        for j in range(6):
            acc += A[i, j]
        out[i] = acc
    return out


@case(m_cf(5, 6))
def inner_writes_row_next_reads(A):
    B = np.zeros((5, 6))
    B[0] = A[0]
    for i in range(1, 5):
        for j in range(6):
            B[i, j] = B[i - 1, 5 - j] + A[i, j]
    return B


@case(m_cf(5, 6))
def outer_carry_inner_reads_updated_sum(A):
    h = np.ones(6)
    for i in range(5):
        for j in range(6):
            h[j] = A[i, j] * h.sum() / 6.0   # reads the partially-updated h
    return h


@case(m_cf(6, 6))
def floyd_warshall(A):
    D = np.abs(A)
    n = 6
    for k in range(n):
        for i in range(n):
            for j in range(n):
                if D[i, k] + D[k, j] < D[i, j]:
                    D[i, j] = D[i, k] + D[k, j]
    return D


@case(lambda r: (r.standard_normal(7), r.standard_normal(5)))
def convolution_inplace_overlap(x, h):
    y = np.zeros(11)
    y[:7] = x
    for i in range(6, -1, -1):
        for j in range(1, 5):
            y[i + j] += y[i] * h[j]
        y[i] *= h[0]
    return y


@case(m_cf(6, 6))
def dp_lcs_like(A):
    D = np.zeros((7, 7))
    for i in range(1, 7):
        for j in range(1, 7):
            if A[i - 1, j - 1] > 0.5:
                D[i, j] = D[i - 1, j - 1] + 1
            else:
                D[i, j] = max(D[i - 1, j], D[i, j - 1])
    return D


@case(m_cf(5, 6))
def inner_break_writes(A):
    for i in range(5):
        for j in range(1, 6):
            if A[i, j] < -1.0:
                break
            A[i, j] += A[i, j - 1]
    return A


@case(lambda r: (r.standard_normal(12), 1), lambda r: (r.standard_normal(12), -1), lambda r: (r.standard_normal(12), 0), lambda r: (r.standard_normal(12), -2))
def runtime_offset(a, s):
    for i in range(2, 10):
        a[i] = a[i + s] + 1.0
    return a


@case(lambda r: (r.standard_normal(20), 2), lambda r: (r.standard_normal(20), 1), lambda r: (r.standard_normal(20), 0))
def runtime_stride(a, k):
    for i in range(1, 6):
        a[k * i] = a[k * i - 1] + a[i]
    return a


@case(lambda r: (r.standard_normal(20),))
def double_index(a):
    for i in range(1, 10):
        a[2 * i] = a[i] + 1.0     # reads a[i] written at i/2 when i even
    return a


@case(lambda r: (r.standard_normal(20),))
def half_index_write(a):
    for i in range(10):
        a[i // 2] = a[i] + a[i // 2]   # non-injective write
    return a


@case(lambda r: (r.standard_normal(20),))
def half_index_read(a):
    for i in range(1, 20):
        a[i] = a[i // 2] + 1.0   # reads earlier write
    return a


@case(lambda r: (r.standard_normal(12),))
def abs_index(a):
    for i in range(12):
        a[abs(i - 5)] = a[i] + 1.0
    return a


@case(lambda r: (r.standard_normal(12), np.arange(12)), lambda r: (r.standard_normal(12), np.arange(12)[::-1].copy()), lambda r: (r.standard_normal(12), np.roll(np.arange(12), 1)))
def perm_gather_chain(a, p):
    for i in range(12):
        a[p[i]] = a[p[i - 1]] + 1.0
    return a


@case(lambda r: (r.standard_normal(12),))
def ptr_views_stride(a):
    b = a[::2]
    for i in range(1, 6):
        b[i] = a[2 * i - 1] + b[i - 1]
    return a


@case(lambda r: (r.standard_normal((4, 5)),))
def swap_rows_no_copy_bug(a):
    # user bug: tmp is a view; spec says rows end equal
    for k in range(3):
        p = 3 - k
        tmp = a[k]
        a[k] = a[p]
        a[p] = tmp
    return a


@case(lambda r: (r.standard_normal(10),))
def tuple_swap_views(a):
    for i in range(4):
        a[i:i + 2], a[i + 2:i + 4] = a[i + 2:i + 4], a[i:i + 2]
    return a


@case(lambda r: (r.standard_normal(10),))
def tuple_swap_elements_chain(a):
    for i in range(9):
        a[i], a[i + 1] = a[i + 1], a[i]   # bubbles a[0] to the end
    return a


@case(lambda r: (r.standard_normal(10), r.integers(0, 10, 10)), lambda r: (r.standard_normal(10), np.full(10, 4)))
def scatter_gather_same_iter_tuple(a, idx):
    for i in range(10):
        a[i], a[idx[i]] = a[idx[i]] + 1.0, a[i] - 1.0
    return a


@case(lambda r: (r.standard_normal(10),))
def np_add_out_overlap(a):
    for i in range(3):
        np.add(a[1:], a[:-1], out=a[1:])
    return a


@case(jj_ch(1, 3), jj_ch(2, 2), jj_ch(-1, 4), jj_ch(4, -1))
def promote_two_traced(x, acc, j0, j1):
    for i in range(x.shape[0]):
        acc[j0] += x[i]
        acc[j1] = acc[j1] * 0.5 + 1.0
    return acc


@case(jj_ch(1, 3), jj_ch(2, 2), jj_ch(-1, 4))
def promote_read_other(x, acc, j0, j1):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        acc[j0] += x[i]
        out[i] = acc[j1]
    return out, acc


@case(jj_ch(1, 3), jj_ch(2, 2), jj_ch(-1, 4))
def promote_read_before(x, acc, j0, j1):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = acc[j1]
        acc[j0] = x[i]
    return out, acc


@case(lambda r: (r.standard_normal(12), r.standard_normal((3, 4)), 1, 1), lambda r: (r.standard_normal(12), r.standard_normal((3, 4)), 1, 2), lambda r: (r.standard_normal(12), r.standard_normal((3, 4)), -1, 2))
def promote_rows_traced(x, acc, r0, r1):
    for i in range(x.shape[0]):
        acc[r0, 0] += x[i]
        acc[r1, :] *= 0.9
    return acc


@case(lambda r: (r.standard_normal(12), r.standard_normal(6), 1), lambda r: (r.standard_normal(12), r.standard_normal(6), 3))
def promote_slice_traced_overlap(x, acc, s):
    for i in range(x.shape[0]):
        acc[0:3] += x[i]
        acc[s:s + 2] *= 0.5
    return acc


@case(v_ch())
def delay_distance1_of2(s):
    buf = np.ones(s.shape[0] + 2)
    out = np.empty(s.shape[0])
    for t in range(s.shape[0]):
        buf[t + 2] = s[t]
        out[t] = buf[t + 1] + buf[t]
    return out


@case(v_ch())
def delay_stride2_misaligned(s):
    buf = np.arange(2 * s.shape[0] + 2) * 1.0
    out = np.empty(s.shape[0])
    for t in range(s.shape[0]):
        buf[2 * t + 2] = s[t]
        out[t] = buf[2 * t + 1] + buf[2 * t]
    return out, buf


@case(v_ch())
def delay_reversed(s):
    n = s.shape[0]
    buf = np.arange(n + 3) * 1.0
    out = np.empty(n)
    for t in range(n - 1, -1, -1):
        buf[t] = s[t]
        out[t] = buf[t + 2]
    return out, buf


@case(v_ch())
def delay_reversed_other(s):
    n = s.shape[0]
    buf = np.arange(n + 3) * 1.0
    out = np.empty(n)
    for t in range(n - 1, -1, -1):
        buf[t + 2] = s[t]
        out[t] = buf[t]
    return out, buf


@case(v_ch())
def delay_read_before_write_same(s):
    buf = np.arange(s.shape[0] + 1) * 1.0
    out = np.empty(s.shape[0])
    for t in range(s.shape[0]):
        out[t] = buf[t + 1]
        buf[t + 1] = s[t]
        out[t] += buf[t]
    return out


@case(v_ch())
def delay_wrap_neg_index(s):
    buf = np.arange(s.shape[0]) * 1.0
    out = np.empty(s.shape[0])
    for t in range(s.shape[0]):
        buf[t] = s[t]
        out[t] = buf[t - 2]     # t<2: reads buf[-2], buf[-1]: originals
    return out


@case(lambda r: (r.standard_normal(12), r.integers(0, 12, 12), r.integers(0, 12, 12)), lambda r: (r.standard_normal(12), np.arange(12), np.arange(12)))
def write_then_gather(x, a, b):
    out = np.empty(12)
    for i in range(12):
        x[a[i]] = i * 1.0
        out[i] = x[b[i]]
    return out, x


@case(lambda r: (r.standard_normal(12), r.integers(0, 4, 12)))
def masked_group_else(v, g):
    s = np.zeros(4)
    for i in range(12):
        if v[i] > 0:
            s[g[i]] += v[i]
        else:
            s[0] *= 0.5
    return s


@case(v_ch())
def linrec_via_alias(x):
    h = 1.0
    out = np.empty(12)
    for t in range(12):
        g = h
        h = 0.5 * h + g * x[t]
        out[t] = h
    return out


@case(v_ch())
def linrec_second_order_vars(x):
    h = 1.0
    prev = 0.5
    out = np.empty(12)
    for t in range(12):
        h, prev = 0.5 * h + x[t] * prev, h
        out[t] = h
    return out


@case(v_ci())
def v_flip_read(a):
    b = np.flip(a)
    for i in range(1, 12):
        a[i] = b[12 - i] * 0.5 + 1.0   # b[12-i] is a[i-1]
    return a


@case(m_ci())
def m_moveaxis(a):
    b = np.moveaxis(a, 0, 1)
    for i in range(1, 4):
        b[i] = b[i - 1] + a[i]  # writes a column of a, reads a's row via a[i]
    return a


@case(m_ci())
def m_fliplr(a):
    b = np.fliplr(a)
    for j in range(1, 4):
        a[:, j] = b[:, 4 - j] + 1.0   # b[:,4-j] is a[:, j-1]
    return a


@case(m_ci())
def m_diag_read(a):
    d = np.diagonal(a)
    s = np.empty(4)
    for i in range(4):
        a[i, i] += 1.0
        s[i] = d[i] + d[i - 1]
    return a, s


@case(lambda r: (r.standard_normal(12),))
def v_split_views(a):
    p, q = np.split(a, 2)
    for i in range(1, 6):
        q[i] = p[i] + q[i - 1]
        p[i] = q[i - 1] * 0.5
    return a


@case(lambda r: (r.standard_normal((3, 4)),))
def v_unpack_rows(a):
    r0, r1, r2 = a
    for j in range(1, 4):
        r1[j] = r0[j] + r1[j - 1]
        r2[j] = a[1, j] * 2.0
    return a


@case(*fi_ck())
def fancy_iadd_in_loop(x, idx, v):
    for t in range(3):
        x[idx] += v * t
    return x


@case(*fi_ck())
def fancy_imul_loop(x, idx, v):
    for t in range(2):
        x[idx] *= 2.0
    return x


@case(*fi_ck())
def np_add_at_loop(x, idx, v):
    for t in range(2):
        np.add.at(x, idx, v + t)
    return x


@case(*fi_ck())
def fancy_self_gather(x, idx, v):
    for t in range(2):
        x[idx[:6]] = x[idx[4:]] + 1.0
    return x


@case(lambda r: (r.standard_normal((5, 6)),))
def block_shift_overlap_2d(x):
    for t in range(2):
        x[1:, 1:] += x[:-1, :-1]
    return x


@case(lambda r: (r.standard_normal((5, 5)),))
def transpose_iadd_loop(x):
    for t in range(2):
        x += x.T * 0.5
    return x


@case(lambda r: (r.standard_normal(10),))
def out_arg_alias(x):
    for t in range(2):
        np.multiply(x[::-1], 2.0, out=x)
    return x


@case(*vs_cl(1, -1, 2, -2, 3))
def traced_step(a, s):
    lo, hi = (1, 11) if s > 0 else (10, 0)
    for i in range(lo, hi, s):
        a[i] = a[i - 1] * 0.5 + a[i]
    return a


@case(lambda r: (r.standard_normal(12), 12), lambda r: (r.standard_normal(12), 5), lambda r: (r.standard_normal(12), 0))
def traced_reverse(a, n):
    for i in range(n - 1, 0, -1):
        a[i - 1] = a[i] + a[i - 1]
    return a


@case(lambda r: (r.standard_normal(12), 3), lambda r: (r.standard_normal(12), 7))
def traced_start(a, k):
    for i in range(k, 12):
        a[i] = a[i - k] + a[i]
    return a


@case(lambda r: (r.standard_normal(12),))
def enumerate_mutating(a):
    for i, x in enumerate(a[:-1]):
        a[i + 1] += x   # x is read when iteration i starts: sees iteration i-1's write
    return a


@case(lambda r: (r.standard_normal(12),))
def for_x_in_a(a):
    s = 0.0
    k = 0
    for x in a:
        s += x
        if k + 1 < 12:
            a[k + 1] = s
        k += 1
    return a, s


@case(lambda r: (r.standard_normal((4, 3)),))
def rows_iter_mutating(a):
    k = 0
    for row in a:
        if k + 1 < 4:
            a[k + 1] += row
        k += 1
    return a


@case(lambda r: (r.standard_normal(12), np.array([3, 1, 4, 1, 5, 9, 2, 6])))
def for_over_index_array(a, idx):
    for j in idx:
        a[j] = a[j - 1] + 1.0
    return a


@case(*vc_cm(1.0, -1.0))
def alias_or_copy(a, c):
    b = a if c > 0 else a.copy()
    for i in range(1, 12):
        b[i] = a[i - 1] + 1.0
    return a, b


@case(*vc_cm(1.0, -1.0))
def alias_in_if_stmt(a, c):
    if c > 0:
        b = a
    else:
        b = np.zeros(12)
    for i in range(1, 12):
        b[i] = a[i - 1] + 1.0
    return a, b


@case(*vc_cm(1.0, -1.0))
def alias_inside_loop_by_flag(a, c):
    b = np.zeros(12)
    for i in range(1, 12):
        t = a if c * i > 3 else b
        t[i] = a[i - 1] + b[i - 1]
    return a, b


@case(*vc_cm(1.0))
def alias_dict(a, c):
    d = {"x": a, "y": a[::-1]}
    for i in range(1, 12):
        d["x"][i] = d["y"][12 - i] + c   # d.y[12-i] is a[i-1]
    return a


@case(*vc_cm(1.0))
def alias_helper_view(a, c):
    t = _tail(a)
    for i in range(11):
        t[i] = a[i] + c   # a[i+1] = a[i] + c: chain
    return a


@case(*vc_cm(1.0, -1.0))
def where_copy_not_alias(a, c):
    b = np.where(a > 0, a, c)
    for i in range(1, 12):
        b[i] = b[i - 1] + a[i]
        a[i] = 0.0
    return a, b


@case(lambda r: (r.integers(1, 9, 12),))
def int_array_float_linear(x):
    for i in range(1, 12):
        x[i] = x[i - 1] * 1.5 + x[i]     # truncated at each store
    return x


@case(lambda r: (r.integers(-9, 9, 12),))
def int_array_div(x):
    for i in range(1, 12):
        x[i] = x[i - 1] / 2 + x[i]      # float, truncated toward zero
    return x


@case(lambda r: (r.standard_normal(12).astype(np.float32), r.standard_normal(12)))
def f32_store_f64_math(x, c):
    for i in range(1, 12):
        x[i] = c[i] * x[i - 1] + x[i]    # float64 math, stored as float32 each step
    return x


@case(lambda r: (r.standard_normal(12) > 0,))
def bool_prefix_xor(c):
    m = np.zeros(12, dtype=np.bool_)
    m[0] = c[0]
    for i in range(1, 12):
        m[i] = m[i - 1] ^ c[i]
    return m


@case(lambda r: (r.standard_normal(12),), lambda r: (r.standard_normal(0),))
def acc_type_change(x):
    acc = 0
    for i in range(x.shape[0]):
        acc += x[i]
    return acc


@case(lambda r: (r.standard_normal(12),), lambda r: (r.standard_normal(0),))
def best_type_change(x):
    best = None
    for i in range(x.shape[0]):
        if best is None or x[i] > best:
            best = x[i]
    return best


@case(lambda r: (r.integers(0, 3, 40).astype(np.int8),))
def int8_scatter_wrap(x):
    h = np.zeros(3, dtype=np.int8)
    for i in range(40):
        h[x[i]] += 7
    return h


@case(lambda r: (r.standard_normal(8),))
def row_pieces_prev_row(x):
    out = np.ones((8, 3))
    for i in range(1, 8):
        out[i, 0] = x[i]
        out[i, 1] = out[i - 1, 2] + x[i]
        out[i, 2] = out[i, 0] * out[i, 1]
    return out


@case(lambda r: (r.standard_normal(8),))
def row_pieces_same_row_read(x):
    out = np.ones((8, 3))
    for i in range(8):
        out[i, 1] = out[i, 0] + x[i]     # reads the initial 1
        out[i, 0] = x[i]
        out[i, 2] = out[i, 1] + out[i, 0]
    return out


@case(v_co())
def three_writes_same_iter(a):
    for i in range(10):
        a[i] = 1.0
        a[i + 1] = a[i] * 2.0 + a[i + 2]
        a[i] = a[i + 1] + 3.0
    return a


@case(v_co())
def window_sum_write_ahead(x):
    out = np.empty(9)
    for i in range(9):
        out[i] = x[i:i + 3].sum()
        x[i + 3] = out[i] * 0.1
    return out, x


@case(v_co())
def window_write_inside(x):
    out = np.empty(9)
    for i in range(9):
        x[i + 1] = x[i] * 0.5
        out[i] = x[i:i + 3].sum()
    return out, x


@case(v_co())
def window_slice_write_rev(x):
    for i in range(8, -1, -1):
        x[i:i + 2] = x[i + 1:i + 3] + 1.0
    return x


@case(v_co())
def read_ahead_pair(a):
    for i in range(0, 10, 2):
        a[i] = a[i + 1]
        a[i + 1] = a[i + 2]
    return a


@case(v_cp())
def delay_write_wraps(s):
    n = s.shape[0]
    buf = np.arange(n) * 1.0
    out = np.empty(n)
    for t in range(n):
        buf[t - 3] = s[t]
        out[t] = buf[t]
    return out, buf


@case(v_cp())
def delay_read_wraps_ahead(s):
    n = s.shape[0]
    buf = np.arange(n) * 1.0
    out = np.empty(n)
    for t in range(n):
        buf[t] = s[t]
        out[t] = buf[t - n + 2]     # t-n+2 < 0 until t = n-2: position t+2 (ahead), then 0, 1
    return out, buf


@case(v_cp())
def map_write_wraps_reads_out(a):
    n = a.shape[0]
    out = np.arange(n) * 1.0
    for t in range(n):
        out[t - 4] = a[t] + out[t]
    return out


@case(v_cp())
def read_minus_half(a):
    n = a.shape[0]
    for t in range(n):
        a[t] = a[t - n // 2] * 0.5 + 1.0
    return a


@case(v_cp())
def write_neg_slice(a):
    n = a.shape[0]
    for t in range(1, n):
        a[t - n] = a[t - 1] + a[t - n]    # a[t] = a[t-1] + a[t]
    return a


@case(lambda r: (r.standard_normal(12), r.integers(-11, 12, 12)), lambda r: (r.standard_normal(12), np.array([-1, 11, -1, 11, 0, -11, 5, -7, 5, 3, -9, 3])))
def scatter_set_neg_data_idx(v, idx):
    y = np.zeros(12)
    for i in range(12):
        y[idx[i]] = v[i] + y[idx[i] - 1]
    return y


@case(lambda r: (r.standard_normal((4, 5)),))
def rows_neg_write(a):
    for i in range(4):
        a[i - 2] = a[i] + 1.0
    return a


@case(v_cp())
def delay_block_write_read_straddle(s):
    n = s.shape[0] // 2
    buf = np.arange(2 * n + 2) * 1.0
    out = np.empty((n, 2))
    for t in range(n):
        buf[2 * t + 2:2 * t + 4] = s[2 * t:2 * t + 2]
        out[t] = buf[2 * t + 1:2 * t + 3]
    return out, buf


def _masked_self_combine(r):
    return (r.standard_normal(12), r.random(12) > 0.5)


@case(_masked_self_combine)
def masked_update_of_a_read_with_itself(a, c):
    for i in range(12):
        if c[i]:
            t = a[i]
            a[i] = t * t  # (both operands the old read: select.py `_rmw` raised StopIteration)
    return a


@case(_masked_self_combine)
def masked_sum_of_a_read_with_itself(a, c):
    for i in range(12):
        if c[i]:
            t = a[i]
            a[i] = t + t
    return a


@pytest.mark.parametrize("fn, k, make", CASES, ids=[f"{f.__name__}-{k}" for f, k, _ in CASES])
def test_loop_dependences(fn, k, make, rng):
    _check(fn, make(rng), "interpret")


def _append_then_write(x):
    hist = []
    for t in range(3):
        x[t] = t * 1.0
        hist.append(x)  # one array appended three times: every row is its final contents
    return np.array(hist)


def test_append_of_an_array_written_later_is_refused(rng):
    with pytest.raises(looptrace.UnsupportedError, match="append"):
        looptrace.jit(_append_then_write, backend="interpret")(rng.standard_normal(5))


def _shifted_copy(x, y):
    for i in range(1, x.shape[0]):
        x[i] = y[i - 1] * 0.5 + 1.0
    return x


def test_caller_aliasing(rng):
    a = rng.standard_normal(12)
    f = looptrace.jit(_shifted_copy, backend="interpret")
    with pytest.raises(ValueError, match="share memory"):  # overlapping views: refused
        f(a[1:], a[:-1])
    _check(_shifted_copy, (a, a), "interpret")  # one array under two names: followed
    b, c = a.copy(), a.copy()
    _shifted_copy(b[::2], b[1::2])
    f(c[::2], c[1::2])  # disjoint views: run
    np.testing.assert_array_equal(c, b)


def _cpu_sample(a, g, s, p, x, idx, y, A, j0, j1, acc):
    return (gs_pm1(a.copy()), grid_gs2d(g.copy()), delay_line(s), circular_buffer(s),
            swap_perm(x.copy(), p), scatter_add(x, idx, y.copy()), argmax_first(x),
            reset_acc(np.abs(s)), lu_like_slice(x.copy()), inner_reads_prev_outer(A.copy()),
            promote_two_traced(x, acc.copy(), j0, j1), delay_stride2_misaligned(s))


def test_cpu_kernel(rng):
    n = 12
    args = (rng.standard_normal(n), rng.standard_normal((5, 6)), rng.standard_normal(16),
            rng.permutation(15), rng.standard_normal(15), rng.integers(0, 5, 15), rng.standard_normal(5),
            rng.standard_normal((5, 6)), -1, 4, rng.standard_normal(5))
    _check(_cpu_sample, args, "cpu")
