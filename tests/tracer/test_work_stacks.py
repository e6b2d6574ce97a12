"""Work stacks and queues: `stack.pop()`, `stack[-1]`, `q.pop(0)` and
`deque.popleft()` inside the loop that appends to the list
(carries.ListSpec._work_buffer). The list is a growable buffer (ops/indexing.py
`reserve`) holding its items from before the loop, then those appended; a
count (and a head for a queue) say which rows are the list. Before, every pop
there was refused. A pop from an empty list raises IndexError at the user's
line, as Python's does."""
import collections
import copy

import numpy as np
import pytest

import looptrace


# --- programs --------------------------------------------------------------------------------
def dfs_count(adj, start):
    n = adj.shape[0]
    seen = np.zeros(n, dtype=np.bool_)
    stack = [start]
    count = 0
    while stack:
        v = stack.pop()
        if seen[v]:
            continue
        seen[v] = True
        count += 1
        for u in range(n):
            if adj[v, u] and not seen[u]:
                stack.append(u)
    return count, seen


def flood_fill(grid, r0, c0):
    h, w = grid.shape
    filled = np.zeros((h, w), dtype=np.bool_)
    target = grid[r0, c0]
    stack = [(r0, c0)]
    while stack:
        r, c = stack.pop()
        if r < 0 or r >= h or c < 0 or c >= w:
            continue
        if filled[r, c] or grid[r, c] != target:
            continue
        filled[r, c] = True
        stack.append((r + 1, c))
        stack.append((r - 1, c))
        stack.append((r, c + 1))
        stack.append((r, c - 1))
    return filled, int(filled.sum())


def bfs_list(adj, s):
    n = adj.shape[0]
    dist = np.full(n, -1)
    dist[s] = 0
    q = [s]
    while q:
        v = q.pop(0)
        for u in range(n):
            if adj[v, u] and dist[u] < 0:
                dist[u] = dist[v] + 1
                q.append(u)
    return dist


def bfs_deque(adj, s):
    n = adj.shape[0]
    dist = np.full(n, -1)
    dist[s] = 0
    q = collections.deque([s])
    while q:
        v = q.popleft()
        for u in range(n):
            if adj[v, u] and dist[u] < 0:
                dist[u] = dist[v] + 1
                q.append(u)
    return dist


def quicksort(a):
    a = a.copy()
    stack = [(0, a.shape[0] - 1)]
    while stack:
        lo, hi = stack.pop()
        if lo >= hi:
            continue
        p = a[hi]
        i = lo
        for j in range(lo, hi):
            if a[j] < p:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
        t = a[i]
        a[i] = a[hi]
        a[hi] = t
        stack.append((lo, i - 1))
        stack.append((i + 1, hi))
    return a


def components(adj):
    """Connected components (union by search) with an explicit stack per root."""
    n = adj.shape[0]
    label = np.full(n, -1)
    c = 0
    for s in range(n):
        if label[s] >= 0:
            continue
        stack = [s]
        label[s] = c
        while stack:
            v = stack.pop()
            for u in range(n):
                if adj[v, u] and label[u] < 0:
                    label[u] = c
                    stack.append(u)
        c += 1
    return label, c


def brackets(a):
    """+k opens a bracket of kind k, -k closes one: the deepest nesting, -1
    at a mismatch, -2 where some stay open."""
    stack = []
    deepest = 0
    for i in range(a.shape[0]):
        c = a[i]
        if c > 0:
            stack.append(c)
            deepest = max(deepest, len(stack))
        else:
            if not stack:
                return -1
            if stack.pop() != -c:
                return -1
    if stack:
        return -2
    return deepest


def next_greater(x):
    """A monotonic stack, peeked with stack[-1] under `and`."""
    n = x.shape[0]
    out = np.full(n, -1.0)
    stack = []
    for i in range(n):
        while stack and x[stack[-1]] < x[i]:
            out[stack.pop()] = x[i]
        stack.append(i)
    return out, len(stack), stack


def interval_halving(x):
    """A stack of float tuples that starts with one item (probe K)."""
    stack = [(0.0, x)]
    n = 0
    total = 0.0
    while stack:
        lo, hi = stack.pop()
        n += 1
        total += hi - lo
        if hi - lo > 1.0:
            mid = 0.5 * (lo + hi)
            stack.append((lo, mid))
            stack.append((mid, hi))
    return n, total


# --- data ------------------------------------------------------------------------------------
def _graph(seed, n=14, p=0.15):
    rng = np.random.default_rng(seed)
    adj = rng.random((n, n)) < p
    adj = adj | adj.T
    adj[3, :] = adj[:, 3] = False  # an isolated node: its stack empties after one pop
    return adj


def _same(want, got):
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(want) == len(got)
    for w, g in zip(want, got):
        if isinstance(w, list):
            assert isinstance(g, list) and len(g) == len(w)
            assert all(a == b for a, b in zip(w, g))
            continue
        assert np.shape(g) == np.shape(w) and np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(g, w)


def _check(fn, backend, *args):
    want = fn(*copy.deepcopy(args))
    got = looptrace.jit(fn, backend=backend)(*copy.deepcopy(args))
    _same(want, got)


GRAPH_PROGRAMS = [dfs_count, bfs_list, bfs_deque]


@pytest.mark.parametrize("fn", GRAPH_PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("seed", range(3))
def test_graph_searches_match_plain(fn, seed):
    adj = _graph(seed)
    for start in (0, 3, 7):  # 3 is isolated
        _check(fn, "interpret", adj, start)


@pytest.mark.parametrize("seed", range(3))
def test_flood_fill_quicksort_components_brackets(seed):
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 2, (9, 11))
    _check(flood_fill, "interpret", grid, 4, 5)
    _check(flood_fill, "interpret", np.arange(12).reshape(3, 4), 1, 1)  # one cell: the stack empties at once
    for n in (0, 1, 2, 25):
        _check(quicksort, "interpret", rng.random(n))
    _check(quicksort, "interpret", rng.integers(0, 4, 20))  # repeated keys
    _check(components, "interpret", _graph(seed))
    opens = rng.integers(1, 4, 6)
    good = np.concatenate([opens, -opens[::-1]])
    for a in (good, good[:-1], np.concatenate([good, -good[:1]]), np.array([-1, 1]), np.array([2, -1]),
              np.array([], dtype=np.int64)):
        _check(brackets, "interpret", a)
    _check(next_greater, "interpret", rng.random(15))
    _check(interval_halving, "interpret", 5.0 + seed)
    _check(interval_halving, "interpret", 0.5)  # popped once


def test_programs_on_cpu():
    """A stack and a queue on cpu (their interpreter twins above always run)."""
    adj = _graph(7)
    for fn in (dfs_count, bfs_deque):
        for start in (0, 3):
            _check(fn, "cpu", adj, start)


@pytest.mark.slow  # the same stack's and queue's lowering as test_programs_on_cpu; interpreter twins above
def test_sorts_and_monotonic_stacks_on_cpu():
    """A sort's ranges, a monotonic stack and a stack of floats on cpu."""
    rng = np.random.default_rng(7)
    _check(quicksort, "cpu", rng.random(40))
    _check(quicksort, "cpu", rng.random(0))
    _check(next_greater, "cpu", rng.random(12))
    _check(interval_halving, "cpu", 6.5)


@pytest.mark.slow  # four more cpu kernels (test_programs_on_cpu was 10 s of CPU in session 48's profile)
def test_more_programs_on_cpu():
    rng = np.random.default_rng(7)
    adj = _graph(7)
    for start in (0, 3):
        _check(bfs_list, "cpu", adj, start)
    _check(flood_fill, "cpu", rng.integers(0, 2, (12, 10)), 5, 5)
    _check(components, "cpu", adj)
    _check(brackets, "cpu", np.array([1, 2, -2, 3, -3, -1]))
    _check(brackets, "cpu", np.array([1, 2, -1]))


# --- semantics -------------------------------------------------------------------------------
def over_pop(x):
    stack = [x[0]]
    i = 0
    while i < x.shape[0]:
        v = stack.pop()
        if x[i] > 0.5:
            stack.append(v + x[i])
        i += 1
    return stack


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_pop_from_an_empty_list_raises_index_error(backend):
    x = np.array([0.9, 0.1, 0.2])
    with pytest.raises(IndexError, match="pop from empty list"):
        over_pop(x.copy())
    with pytest.raises(IndexError, match="pop from empty list") as e:
        looptrace.jit(over_pop, backend=backend)(x)
    assert "v = stack.pop()" in "".join(getattr(e.value, "__notes__", []))
    y = np.array([0.9, 0.8, 0.1])
    _same(over_pop(y.copy()), looptrace.jit(over_pop, backend=backend)(y))


def popleft_empty(x):
    q = collections.deque([0.0])
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            q.append(x[i])
        q.popleft()
    return 1


def test_popleft_from_an_empty_deque_raises_index_error():
    x = np.array([0.9, 0.1, 0.2])
    with pytest.raises(IndexError, match="pop from an empty deque"):
        popleft_empty(x)
    with pytest.raises(IndexError, match="pop from an empty deque"):
        looptrace.jit(popleft_empty, backend="interpret")(x)
    assert looptrace.jit(popleft_empty, backend="interpret")(np.array([0.9, 0.8])) == 1


def leftovers(x):
    st = [1.5, 2.5]
    q = [0.25]
    for i in range(x.shape[0]):
        if x[i] > 0.3:
            st.append(x[i])
        elif st:
            st.pop()
        q.append(x[i])
        if x[i] > 0.4:
            q.pop(0)
    return st, len(st), np.array(st), q, len(q), np.array(q)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_the_list_after_the_loop_holds_what_python_leaves(backend):
    for seed in range(3):
        x = np.random.default_rng(seed).random(9)
        _check(leftovers, backend, x)
    _check(leftovers, backend, np.zeros(4) + 0.1)  # the stack emptied, the queue kept whole


def peeks(x, k):
    st = [-1.0, 2.0]
    m = 0.0
    for i in range(x.shape[0]):
        st.append(x[i])
        m += st[-1] * st[0] + st[-2] + st[k]
        if x[i] > 0.7:
            st.pop()
    return m, len(st)


def test_reads_at_an_index_inside_the_loop():
    x = np.random.default_rng(1).random(8)
    for k in (0, 1, -1, -3):
        _check(peeks, "interpret", x, k)
    with pytest.raises(IndexError, match="list index out of range"):
        peeks(x, 40)
    with pytest.raises(IndexError, match="list index out of range") as e:
        looptrace.jit(peeks, backend="interpret")(x, 40)
    assert "st[k]" in "".join(getattr(e.value, "__notes__", []))


def inner_pops(x):
    st = [0]
    tot = 0
    for i in range(x.shape[0]):
        st.append(i)
        while len(st) > 2 and x[st[-1]] > 0.5:
            tot += st.pop()
    return tot, st


def widening(x):
    st = [0]  # a Python int, then floats: the buffer holds float64
    s = 0.0
    for i in range(x.shape[0]):
        st.append(x[i] * 2)
        if x[i] > 0.5:
            s += st.pop()
    return s, len(st)


def rows_stack(x):
    st = [x[0].copy()]
    acc = np.zeros(x.shape[1])
    i = 1
    while st:
        r = st.pop()
        acc += r
        if i < x.shape[0] and r[0] > 0.2:
            st.append(x[i] * 0.5)
            st.append(x[i] + 1.0)
        i += 1
    return acc, i


def break_out(x):
    st = [0]
    n = 0
    while True:
        if not st:
            break
        v = st.pop()
        n += 1
        if v + 1 < x.shape[0] and x[v] > 0.3:
            st.append(v + 1)
    return n


def ints_of_two_kinds(idx):
    """Tuples of a Python int and an int64 from an array: one int64 buffer."""
    st = [(0, 0)]
    s = 0
    while st:
        v, d = st.pop()
        s += v * d
        if d < 3:
            st.append((idx[v], d + 1))
    return s


def test_tuples_of_python_and_numpy_ints():
    for idx in (np.array([2, 0, 1]), np.array([1, 2, 0, 0])):
        _check(ints_of_two_kinds, "interpret", idx)


@pytest.mark.parametrize("seed", range(3))
def test_nested_pops_array_items_widening_and_break(seed):
    rng = np.random.default_rng(seed)
    x = rng.random(10)
    for fn in (inner_pops, widening, break_out):
        _check(fn, "interpret", x)
    _check(rows_stack, "interpret", rng.random((6, 3)))


def read_in_the_test(x, t):
    """`out[-1]` in the while test only: the test's read makes it a work list too."""
    out = [0.0]
    i = 0
    while len(out) < 5 and out[-1] < t:
        if i < x.shape[0]:
            out.append(x[i])
        i += 1
    return len(out), i, np.array(out)


def test_a_read_in_the_while_test():
    x = np.random.default_rng(0).random(8)
    for t in (0.5, 0.7, 0.95, 2.0):
        _check(read_in_the_test, "interpret", x, t)


def and_of_a_list(x):
    """`cond and st` / `st and cond`: the list's truth (control._list_truth)."""
    st = []
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0.5 and st:
            s += st.pop()
        else:
            st.append(x[i])
        if st and st[-1] > 0.9:
            s -= 1.0
    return s, len(st)


def test_and_of_a_list_in_the_loop_that_appends():
    for seed in range(3):
        _check(and_of_a_list, "interpret", np.random.default_rng(seed).random(10))


def nested_if_appends(x):
    out = []
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            if x[i, j] > 0.5:
                out.append(x[i, j])
    return np.array(out), len(out)


def nested_while_appends(x):
    out = [0.0]
    i = 0
    while i < x.shape[0]:
        j = 0
        while j < x.shape[1] and x[i, j] > 0.2:
            out.append(x[i, j])
            j += 1
        i += 1
    return np.array(out), len(out)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_appends_under_a_condition_in_a_nested_loop(backend):
    """Refused before ("a list grown under a condition in a nested loop"): the
    enclosing loop's list is a growable buffer that the nested loop writes."""
    for seed in range(2):
        x = np.random.default_rng(seed).random((5, 4))
        _check(nested_if_appends, backend, x)
        _check(nested_while_appends, backend, x)
    _check(nested_if_appends, backend, np.zeros((3, 2)) + 0.1)


# --- refusals --------------------------------------------------------------------------------
def pop_at(x, k):
    st = [0.0]
    for i in range(x.shape[0]):
        st.append(x[i])
        if x[i] > 0.5:
            st.pop(k)
    return len(st)


def deque_after(x):
    q = collections.deque([0.0])
    for i in range(x.shape[0]):
        q.append(x[i])
        if x[i] > 0.5:
            q.popleft()
    return len(q)


def tuple_popped_first(x):
    st = []
    s = 0.0
    for i in range(x.shape[0]):
        if x[i] < 0.5 and st:
            a, b = st.pop()
            s += a * b
        else:
            st.append((x[i], 1.0 + i))
    return s


def int_and_float_tuples(x):
    st = [(0, 0.0)]
    s = 0.0
    while st:
        v, d = st.pop()
        s += d
        if v < 3:
            st.append((v + 1, x[v]))
    return s


def insert_in_loop(x):
    st = [0.0]
    for i in range(x.shape[0]):
        st.append(x[i])
        st.insert(0, x[i])
    return len(st)


def test_int_and_float_tuples_popped_keep_their_types():
    """Refused before (one array of their common type); one buffer per field
    now (tracer/worklists.py)."""
    x = np.random.default_rng(0).random(6)
    assert looptrace.jit(int_and_float_tuples, backend="interpret")(x) == int_and_float_tuples(x)


@pytest.mark.parametrize("fn, args, match, line", [
    (pop_at, (1,), "pop\\(i\\) of a list that a traced loop appends to", "st.pop(k)"),
    (deque_after, (), "deque `q` is used outside the traced loop that pops from it", "for i in range"),
    (tuple_popped_first, (), "popped from a list that is empty before the loop", "a, b = st.pop()"),
    (insert_in_loop, (), "`.insert\\(\\)` of a list that a traced loop appends to", "st.insert(0, x[i])"),
])
def test_what_is_not_supported_is_refused_at_the_users_line(fn, args, match, line):
    x = np.random.default_rng(0).random(6)
    fn(x, *args)  # plain Python runs it
    with pytest.raises(looptrace.UnsupportedError, match=match) as e:
        looptrace.jit(fn, backend="interpret")(x, *args)
    assert line in str(e.value)
