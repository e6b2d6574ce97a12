"""Tracer clean-ups found by probes (s39): item assignment into a list the
loop appends to (`cnts[-1] += 1`: the work buffer of carries.LoopList), its
last item read after the loop (runtime._counted_item), a helper whose every
return is None, the hint of a Python list indexed at a traced index and the
unrolling limit in the message, TypeError-compatible errors for NumPy's type
refusals (errors.TraceTypeError), and pow(a, b, m) of traced ints."""
import numpy as np
import pytest

import looptrace
from looptrace.errors import ConcreteIndexError, TraceError, TraceTypeError, UnsupportedError


def _same(p, r):
    if isinstance(p, np.ndarray):
        return isinstance(r, np.ndarray) and p.dtype == r.dtype and np.array_equal(p, r)
    if isinstance(p, (tuple, list)):
        return type(p) is type(r) and len(p) == len(r) and all(_same(a, b) for a, b in zip(p, r))
    return p == r


def check(fn, *args, backends=("interpret",)):
    want = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    for be in backends:
        got = looptrace.jit(fn, backend=be)(*args)
        assert _same(want, got), (be, want, got)


# --- 1. item assignment into a list the loop appends to ------------------------------------------
def run_lengths(s):
    cnts = []
    prev = -1
    for x in s:
        if x == prev:
            cnts[-1] += 1
        else:
            cnts.append(1)
            prev = x
    return len(cnts)


def run_lengths_list(s):
    cnts = []
    prev = -1
    for x in s:
        if x == prev:
            cnts[-1] += 1
        else:
            cnts.append(1)
            prev = x
    return cnts, np.array(cnts, dtype=np.int64)


def set_at(s, idx):
    out = []
    for i in range(s.shape[0]):
        out.append(s[i])
        out[idx[i]] = out[idx[i]] * 2 + 1
    return out


def set_first(s):
    out = [100]
    for x in s:
        out.append(x)
        out[0] = out[0] - x
    return out[0], len(out)


def row_runs(X):
    rows = []
    for i in range(X.shape[0]):
        if i % 3 == 0:
            rows.append(X[i].copy())
        else:
            rows[-1] = rows[-1] + X[i]
    return np.stack(rows)


def while_set(n):
    out = [1]
    i = 0
    while out[-1] < n:
        if i % 2:
            out.append(out[-1] * 2)
        else:
            out[-1] += 1
        i += 1
    return out


def set_on_empty(s):
    out = []
    for x in s:
        if x > 1:
            out[-1] = x
        else:
            out.append(x)
    return out


def set_out_of_range(s, k):
    out = []
    for x in s:
        out.append(x)
        out[k] = 0
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_run_length_count(backend):
    s = np.random.default_rng(0).integers(0, 3, 60)
    check(run_lengths, s, backends=(backend,))
    check(run_lengths, np.array([0, 0, 1, 1, 1, 2]), backends=(backend,))


def test_run_length_list_and_array_after_loop():
    s = np.random.default_rng(1).integers(0, 3, 40)
    check(run_lengths_list, s, backends=("interpret", "cpu"))
    check(run_lengths_list, s[:0])


def test_set_at_traced_index():
    rng = np.random.default_rng(2)
    s = rng.integers(0, 50, 25)
    idx = np.array([rng.integers(-i - 1, i + 1) for i in range(25)])
    check(set_at, s, idx, backends=("interpret", "cpu"))


def test_set_item_held_before_loop():
    check(set_first, np.random.default_rng(3).integers(0, 9, 20))


def test_set_array_rows():
    check(row_runs, np.random.default_rng(4).standard_normal((8, 3)))


def test_set_in_while_loop():
    check(while_set, 1000)


def test_set_on_empty_list_index_error():
    check(set_on_empty, np.array([0, 2, 1]))
    with pytest.raises(IndexError, match="list assignment index out of range"):
        set_on_empty(np.array([2, 0, 1]))
    jf = looptrace.jit(set_on_empty, backend="interpret")
    with pytest.raises(IndexError, match="list assignment index out of range"):
        jf(np.array([2, 0, 1]))


def test_set_out_of_range_index_error():
    s = np.arange(1, 6)
    check(set_out_of_range, s, -1)
    for be in ("interpret", "cpu"):
        with pytest.raises(IndexError, match="list assignment index out of range"):
            looptrace.jit(set_out_of_range, backend=be)(s, 1)


# --- 4. the last item of a work list after the loop ----------------------------------------------
def prefix_sums_last(x):
    ps = [0.0]
    for v in x:
        ps.append(ps[-1] + v)
    return ps[-1], ps[-2], ps[0], len(ps)


def prefix_at(x, k):
    ps = [0]
    for v in x:
        ps.append(ps[-1] + v)
    return ps[k]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_last_item_after_loop(backend):
    check(prefix_sums_last, np.random.default_rng(5).standard_normal(20), backends=(backend,))


def test_item_after_loop_out_of_range():
    x = np.arange(1, 6)
    check(prefix_at, x, -6)
    check(prefix_at, x, 3)
    with pytest.raises(IndexError, match="list index out of range"):
        looptrace.jit(prefix_at, backend="interpret")(x, -7)


# --- 2. a helper whose every return is None ------------------------------------------------------
def _sift_down(a, root, end):
    while 2 * root + 1 <= end:
        c = 2 * root + 1
        if c + 1 <= end and a[c] < a[c + 1]:
            c += 1
        if a[root] < a[c]:
            a[root], a[c] = a[c], a[root]
            root = c
        else:
            return


def heap_sort(x):
    a = x.copy()
    n = a.shape[0]
    for start in range((n - 2) // 2, -1, -1):
        _sift_down(a, start, n - 1)
    for end in range(n - 1, 0, -1):
        a[0], a[end] = a[end], a[0]
        _sift_down(a, 0, end - 1)
    return a


def sift_once(x):
    a = x.copy()
    r = _sift_down(a, 0, a.shape[0] - 1)
    return a, r is None


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_heap_sort_with_bare_return_helper(backend):
    check(heap_sort, np.random.default_rng(6).integers(0, 100, 33), backends=(backend,))


def test_helper_returns_none():
    check(sift_once, np.array([1, 5, 3, 7, 2]))


# --- 3. a Python list at a traced index ----------------------------------------------------------
def dp_list(a, n):
    dp = [0] * (n + 1)
    for i in range(1, n + 1):
        dp[i] = dp[a[i - 1]] + 1
    return dp[n]


def lis(a):
    n = a.shape[0]
    dp = [1] * n
    for i in range(n):
        for j in range(i):
            if a[j] < a[i]:
                dp[i] = max(dp[i], dp[j] + 1)
    return max(dp)


def test_python_list_traced_index_hint():
    a = np.random.default_rng(7).integers(0, 5, 200)
    with pytest.raises(ConcreteIndexError) as e:
        looptrace.jit(dp_list, backend="interpret")(a, 200)
    msg = str(e.value)
    assert "a Python list of 201 numbers is written at a traced index" in msg
    assert "dp[i] = dp[a[i - 1]] + 1" in msg
    assert "use a NumPy array" in msg and "np.zeros(201, dtype=np.int64)" in msg
    assert "not unrolled: it runs 200 iterations, more than the 64" in msg


def test_list_unroll_limit_in_message():
    a = np.random.default_rng(8).integers(0, 100, 15)
    check(lis, a)  # short: the loops run as Python (unrolled)
    with pytest.raises(ConcreteIndexError) as e:
        looptrace.jit(lis, backend="interpret")(np.random.default_rng(8).integers(0, 100, 64))
    msg = str(e.value)
    assert "a Python list of 64 numbers is read at a traced index" in msg
    assert "dp[i] = max(dp[i], dp[j] + 1)" in msg
    assert "this loop was not unrolled" in msg and "more than 128 copies of loop bodies" in msg
    assert "use a NumPy array" in msg


# --- 5. TypeError-compatible errors ---------------------------------------------------------------
def neg_bool(b):
    return -b


def sub_bool(b, c):
    return b - c


def div_in_place(a):
    a /= 2
    return a


@pytest.mark.parametrize("fn, args, words", [
    (neg_bool, (np.array([True, False]),), "np.negative is not defined"),
    (sub_bool, (np.array([True]), np.array([False])), "np.subtract is not defined"),
    (div_in_place, (np.arange(3),), "Cannot cast ufunc 'divide' output from dtype('float64') to dtype('int64')"),
])
def test_type_refusals_are_type_errors(fn, args, words):
    with pytest.raises(TypeError):
        fn(*[a.copy() for a in args])
    with pytest.raises(TypeError) as e:
        looptrace.jit(fn, backend="interpret")(*args)
    assert isinstance(e.value, TraceTypeError) and isinstance(e.value, TraceError)
    assert words in str(e.value)
    assert "line" in str(e.value) and fn.__code__.co_filename in str(e.value)


# --- 6. pow(a, b, m) of traced ints ---------------------------------------------------------------
def pow_sum(x, e, m):
    out = 0
    for i in range(x.shape[0]):
        out += pow(int(x[i]), e, m)
    return out


def pow3(a, e, m):
    return pow(a, e, m)


@pytest.mark.parametrize("e, m", [(65537, 1000003), (0, 7), (12345, 1), (10**18, 3037000499), (5, -97)])
def test_pow_mod(e, m):
    x = np.random.default_rng(9).integers(0, 10**6, 40)
    check(pow_sum, x, e, m)


def test_pow_mod_cpu():
    x = np.random.default_rng(10).integers(-10**6, 10**6, 40)
    check(pow_sum, x, 2**40 + 3, 999983, backends=("cpu",))


def test_pow_mod_errors():
    jf = looptrace.jit(pow3, backend="interpret")
    with pytest.raises(ValueError, match="pow\\(\\) 3rd argument cannot be 0"):
        jf(3, 4, 0)
    with pytest.raises(UnsupportedError, match="negative exponent and a modulus") as e:
        jf(3, -1, 7)
    assert "return pow(a, e, m)" in str(e.value)
    with pytest.raises(OverflowError, match="modulus past 3037000499"):
        jf(3, 4, 2**40)
