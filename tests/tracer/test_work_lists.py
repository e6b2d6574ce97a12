"""Work lists whose length the data decides: heaps (heapq), stacks of mixed
tuples, a list grown in one loop and popped in another, and np.array of a
list appended to under a condition (tracer/worklists.py, tracer/heaps.py,
carries.ListSpec)."""
import collections
import copy
import heapq

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace as lt
from looptrace.errors import UnsupportedError


def _same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray) and got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        return
    # (np.float64 is a float: a number that is a Python float on one path of the data only)
    assert isinstance(got, type(want)) and (got == want or got != got and want != want), (got, want)


def check(fn, *args, backend="interpret"):
    """fn jitted vs plain on copies of args: the result, and each argument after."""
    plain_args = copy.deepcopy(args)
    want = fn(*plain_args)
    got = lt.jit(fn, backend=backend)(*args)
    _same(got, want)
    for a, b in zip(args, plain_args):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
    return got


# --- the functions ------------------------------------------------------------------------------
def dijkstra(indptr, indices, weights, src):
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    dist[src] = 0.0
    heap = [(0.0, src)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = d + weights[k]
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


def dijkstra_order(indptr, indices, weights, src):
    """The order nodes are settled in: ties between equal distances decided
    by the node number, as Python's tuple order decides them."""
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    dist[src] = 0.0
    heap = [(0.0, src)]
    order = []
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        order.append(u)
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = d + weights[k]
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return np.array(order), dist


def graph(rng, n, m, integer_weights=False):
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    w = rng.integers(1, 4, m).astype(np.float64) if integer_weights else rng.random(m)
    order = np.argsort(src, kind="stable")
    src, dst, w = src[order], dst[order], w[order]
    return np.searchsorted(src, np.arange(n + 1)), dst, w


def uf_find(parent, queries):
    out = np.empty(queries.shape[0], np.int64)
    for q in range(queries.shape[0]):
        x = queries[q]
        path = []
        while parent[x] != x:
            path.append(x)
            x = parent[x]
        while path:
            parent[path.pop()] = x
        out[q] = x
    return out


def stack_mixed(xs):
    stack = [(0, 0.0)]
    total = 0.0
    while stack:
        i, acc = stack.pop()
        if i < xs.shape[0]:
            stack.append((i + 1, acc + xs[i]))
        else:
            total = acc
    return total


def branch_and_bound(values, weights, cap):
    """0/1 knapsack by depth-first search over a stack of (item, value, weight)."""
    n = values.shape[0]
    best = 0.0
    stack = [(0, 0.0, 0.0)]
    while stack:
        i, v, w = stack.pop()
        if w > cap:
            continue
        if v > best:
            best = v
        if i < n:
            stack.append((i + 1, v, w))
            stack.append((i + 1, v + values[i], w + weights[i]))
    return best


def dfs_order(adj, s):
    n = adj.shape[0]
    seen = np.zeros(n, np.bool_)
    stack = [s]
    order = []
    while stack:
        u = stack.pop()
        if seen[u]:
            continue
        seen[u] = True
        order.append(u)
        for v in range(n):
            if adj[u, v] and not seen[v]:
                stack.append(v)
    return np.array(order)


def kept_above(x, t):
    out = []
    k = 0
    while k < x.shape[0]:
        if x[k] > t:
            out.append(k)
        k += 1
    return np.array(out)


def heap_int_pairs(keys, ids):
    heap = []
    for i in range(keys.shape[0]):
        heapq.heappush(heap, (keys[i], ids[i]))
    out = np.empty((keys.shape[0], 2), np.int64)
    k = 0
    while heap:
        a, b = heapq.heappop(heap)
        out[k, 0] = a
        out[k, 1] = b
        k += 1
    return out


def heap_triples(keys, a, b):
    heap = []
    for i in range(keys.shape[0]):
        heapq.heappush(heap, (keys[i], a[i], b[i]))
    out = np.empty(keys.shape[0])
    tag = np.empty((keys.shape[0], 2), np.int64)
    k = 0
    while heap:
        key, x, y = heapq.heappop(heap)
        out[k] = key
        tag[k, 0] = x
        tag[k, 1] = y
        k += 1
    return out, tag


def heap_ops(ops, vals):
    """A push (op 0), pop (op 1), replace (op 2) or pushpop (op 3) per step,
    on a heap of numbers; pops of an empty heap skipped."""
    heap = []
    out = np.full(ops.shape[0], -1.0)
    for k in range(ops.shape[0]):
        if ops[k] == 0:
            heapq.heappush(heap, vals[k])
        elif ops[k] == 1:
            if heap:
                out[k] = heapq.heappop(heap)
        elif ops[k] == 2:
            if heap:
                out[k] = heapq.heapreplace(heap, vals[k])
        else:
            out[k] = heapq.heappushpop(heap, vals[k])
    return out


def k_smallest_stream(x, k):
    """heappushpop keeps the k largest of a stream (a min-heap of size k)."""
    heap = []
    for i in range(x.shape[0]):
        if len(heap) < k:
            heapq.heappush(heap, x[i])
        else:
            heapq.heappushpop(heap, x[i])
    out = np.empty(k)
    j = 0
    while heap:
        out[j] = heapq.heappop(heap)
        j += 1
    return out


def bfs(adj, s):
    n = adj.shape[0]
    dist = np.full(n, -1)
    dist[s] = 0
    q = collections.deque([s])
    while q:
        u = q.popleft()
        for v in range(n):
            if adj[u, v] and dist[v] < 0:
                dist[v] = dist[u] + 1
                q.append(v)
    return dist


def pop_known_list(x):
    stack = [3, 1, 2]
    total = 0.0
    while stack:
        total += x[stack.pop()]
    return total


# --- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_dijkstra_random_graphs_interpret(seed):
    rng = np.random.default_rng(seed)
    n, m = [(1, 0), (12, 30), (40, 100), (60, 400)][seed]
    g = graph(rng, n, m, integer_weights=seed % 2 == 1)
    check(dijkstra, *g, 0)


def test_dijkstra_unreachable_nodes_and_ties_settle_in_pythons_order():
    rng = np.random.default_rng(7)
    g = graph(rng, 30, 45, integer_weights=True)  # (ties: integer weights; unreachable: few edges)
    order, dist = check(dijkstra_order, *g, 3)
    assert np.isinf(dist).any()


@pytest.mark.slow  # a heap of tuples on cpu: test_heap_triples_cpu's lowering; dijkstra on the interpreter above
def test_dijkstra_cpu():
    rng = np.random.default_rng(1)
    g = graph(rng, 50, 200, integer_weights=True)
    check(dijkstra_order, *g, 0, backend="cpu")


def test_dijkstra_traced_once():
    rng = np.random.default_rng(2)
    jf = lt.jit(dijkstra, backend="interpret")
    g = graph(rng, 20, 60)
    program = jf.trace([*g, 0])
    kinds = [op.prim.name for op in program.body.ops]
    assert kinds.count("while_loop") == 1  # (the sift loops are inside it)


def test_union_find_path_compression():
    par = np.array([0, 0, 1, 2, 3, 5, 5, 6])
    qs = np.array([4, 7, 3, 7, 0])
    check(uf_find, par, qs)
    rng = np.random.default_rng(3)
    n = 50
    par = np.array([rng.integers(0, i + 1) for i in range(n)])
    check(uf_find, par, rng.integers(0, n, 20))


def test_union_find_cpu():
    par = np.array([0, 0, 1, 2, 3, 5, 5, 6, 7, 8])
    check(uf_find, par, np.array([9, 4, 9, 2]), backend="cpu")


def test_mixed_tuple_stack_keeps_field_types():
    check(stack_mixed, np.random.default_rng(0).standard_normal(10))
    check(stack_mixed, np.zeros(0))
    rng = np.random.default_rng(4)
    check(branch_and_bound, rng.random(8), rng.random(8), 1.5)


@pytest.mark.slow  # a list of mixed-dtype tuples on cpu: test_heap_triples_cpu's; stack_mixed on the interpreter
def test_mixed_tuple_stack_cpu():
    check(stack_mixed, np.random.default_rng(1).standard_normal(12), backend="cpu")


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_returned_list_grown_under_condition_picks_its_dtype(backend):
    x = np.random.default_rng(5).standard_normal(10)
    jf = lt.jit(kept_above, backend=backend)
    for t in (0.0, 10.0):  # (some appended; none: NumPy's float64 empty array)
        _same(jf(x, t), kept_above(x, t))


def test_dfs_order_returned():
    rng = np.random.default_rng(6)
    adj = rng.random((25, 25)) < 0.1
    check(dfs_order, adj, 0)


def test_list_of_run_time_dtype_refused_in_arithmetic():
    def f(x, t):
        out = []
        k = 0
        while k < x.shape[0]:
            if x[k] > t:
                out.append(k)
            k += 1
        return np.array(out) * 2

    with pytest.raises(UnsupportedError, match="float64 array of shape"):
        lt.jit(f, backend="interpret")(np.ones(3), 0.5)


def test_heap_of_int_pairs_and_of_float_int_int_triples():
    rng = np.random.default_rng(8)
    check(heap_int_pairs, rng.integers(0, 5, 40), rng.integers(0, 3, 40))
    check(heap_triples, rng.integers(0, 4, 30).astype(np.float64), rng.integers(0, 3, 30), rng.integers(0, 9, 30))


def test_heap_triples_cpu():
    rng = np.random.default_rng(9)
    check(heap_triples, rng.integers(0, 4, 30).astype(np.float64), rng.integers(0, 3, 30), rng.integers(0, 9, 30),
          backend="cpu")


def test_heappushpop_keeps_k_largest():
    x = np.random.default_rng(10).standard_normal(50)
    check(k_smallest_stream, x, 5)


def test_pop_from_empty_heap_raises_indexerror():
    def f(x):
        heap = []
        for i in range(x.shape[0]):
            if x[i] > 0:
                heapq.heappush(heap, x[i])
        total = 0.0
        for i in range(3):
            total += heapq.heappop(heap)
        return total

    jf = lt.jit(f, backend="interpret")
    assert jf(np.array([1.0, 2.0, 3.0])) == f(np.array([1.0, 2.0, 3.0]))
    with pytest.raises(IndexError):
        jf(np.array([1.0, -2.0, 3.0]))


def test_deque_queue_still_works():
    rng = np.random.default_rng(11)
    check(bfs, rng.random((20, 20)) < 0.15, 0)


def test_pop_only_loop_on_a_known_list_runs_as_python():
    check(pop_known_list, np.arange(5.0))


@settings(max_examples=15, deadline=None)  # (25 were 2.3 s of the suite; CI draws new examples every run)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-3, 3)), min_size=1, max_size=30))
def test_heap_push_pop_sequences(steps):
    ops = np.array([s[0] for s in steps])
    vals = np.array([float(s[1]) for s in steps])
    check(heap_ops, ops, vals)


def heapify_then_pop(x, k):
    heap = []
    for i in range(x.shape[0]):
        heap.append((x[i], x[i] * 2 + i))
    heapq.heapify(heap)
    laid_out = np.array(heap)
    s = 0.0
    j = 0
    while heap and j < k:
        v, w = heapq.heappop(heap)
        s += v * w + j
        j += 1
    return laid_out, s


def test_heapify_of_a_grown_list_then_pops():
    x = np.random.default_rng(12).integers(0, 5, 12).astype(np.float64)
    check(heapify_then_pop, x, 5)
    check(heapify_then_pop, x, 20)


def test_heapq_of_a_grown_list_outside_a_loop_refused():
    def f(x):
        heap = []
        for i in range(x.shape[0]):
            heap.append(x[i])
        return heapq.heappop(heap)

    with pytest.raises(UnsupportedError, match="heappop of a list grown in a traced loop"):
        lt.jit(f, backend="interpret")(np.arange(3.0))


def pops_under_condition(x):
    st = [(0, 0.0)]
    popped = 0.0
    for i in range(x.shape[0]):
        if x[i] > 0.5 and st:
            k, v = st.pop()
            popped += v * k
        else:
            st.append((i, x[i]))
    return popped, len(st)


@pytest.mark.parametrize("seed", range(3))
def test_pops_under_a_condition(seed):
    check(pops_under_condition, np.random.default_rng(seed).random(20))


def heapify_traced_items(d, k):
    heap = [(d[i], i) for i in range(6)]
    heapq.heapify(heap)
    first = heap[0][1]
    out = 0.0
    j = 0
    while heap and j < k:
        v, i = heapq.heappop(heap)
        out += v * (i + 1) + j
        j += 1
    return out, first, len(heap)


def test_heapify_of_a_list_of_traced_items_then_pops():
    d = np.random.default_rng(13).integers(0, 3, 6).astype(np.float64)
    check(heapify_traced_items, d, 4)
    check(heapify_traced_items, d, 10)
