"""Python containers and objects changed under a traced `if` or in a traced
loop (tracer/containers.py): both branches of the `if` are traced, one after
the other, and a loop body once for all iterations, so a change made there
was made once, unconditionally (16 of 19 probe variants gave silent wrong
answers). A change the `if` can choose between at run time (an item or an
attribute set to a number, a short list sorted) is merged exactly; any other
is refused with an UnsupportedError naming the line that made it; a `while`
over a deque the body empties runs as Python instead of looping forever."""
from __future__ import annotations

import inspect
from collections import deque

import numpy as np
import pytest

import looptrace
from looptrace.errors import UnsupportedError

BACKENDS = ("interpret", "cpu")


class State:
    def __init__(self):
        self.count = 0
        self.items = []


# --- exact ------------------------------------------------------------------------------------------
def item_set(x):
    lst = [0, 0]
    if x[0] > 0.5:
        lst[0] = 5
    return lst[0] + lst[1]


def item_set_traced(x):
    lst = [0.0, 1.0]
    if x[0] > 0.5:
        lst[1] = x[1] * 2.0
    else:
        lst[0] = x[2]
    return lst[0] - lst[1]


def attr_set(x):
    st = State()
    if x[0] > 0.5:
        st.count = 7
    return st.count


def _bump(st, v):
    st.count = v


def attr_set_in_helper(x):
    st = State()
    if x[0] > 0.5:
        _bump(st, 3)
    return st.count * 2


def sort_short(x):
    lst = [3.0, 1.0, 2.0]
    if x[0] > 0.5:
        lst.sort()
    return lst[0] * 100 + lst[1] * 10 + lst[2]


def reverse_short(x):
    lst = [1.0, 2.0]
    if x[0] > 0.5:
        lst.reverse()
    return lst[0]


def dict_value_set(x):
    d = {"a": 1.0, "b": 2.0}
    if x[0] > 0.5:
        d["b"] = x[1]
    return d["a"] + d["b"]


def list_in_branch_of_loop(x):
    out = []
    for v in x:
        if v > 0.5:
            out.append(v)
        else:
            out.append(-v)
    return np.array(out)


def number_dict_in_loop(x):
    d = {"hits": 0}
    for v in x:
        if v > 0.5:
            d["hits"] += 1
    return d["hits"]


def append_short_loop(x):
    q = deque()
    for i in range(4):
        q.append(i * x[i])
    return len(q)


def drain_deque(x):
    q = deque()
    q.append(x[0])
    q.append(x[1])
    s = 0.0
    while q:
        s += q.popleft()
    return s


EXACT = [item_set, item_set_traced, attr_set, attr_set_in_helper, sort_short, reverse_short, dict_value_set,
         list_in_branch_of_loop, number_dict_in_loop, append_short_loop, drain_deque]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", EXACT, ids=lambda f: f.__name__)
def test_exact(fn, backend):
    jf = looptrace.jit(fn, backend=backend)
    rng = np.random.default_rng(38)
    for _ in range(4):
        x = rng.random(4)
        x0, x1 = x.copy(), x.copy()
        want = fn(x0)
        got = jf(x1)
        np.testing.assert_allclose(np.asarray(got, dtype=float), np.asarray(want, dtype=float))
        np.testing.assert_array_equal(x0, x1)  # no argument effects, as plain


# --- refused ----------------------------------------------------------------------------------------
def list_append(x):
    lst = []
    if x[0] > 0.5:
        lst.append(1)
    return len(lst)


def list_pop(x):
    lst = [1, 2, 3]
    if x[0] > 0.5:
        lst.pop()
    return len(lst)


def dict_new_key(x):
    d = {}
    if x[0] > 0.5:
        d["a"] = 1.0
    return len(d)


def dict_del(x):
    d = {"a": 1.0}
    if x[0] > 0.5:
        del d["a"]
    return len(d)


def set_add(x):
    s = set()
    if x[0] > 0.5:
        s.add(3)
    return len(s)


def list_extend(x):
    lst = [1.0]
    if x[0] > 0.5:
        lst.extend([2.0, 3.0])
    return sum(lst)


def list_insert(x):
    lst = [1.0, 2.0]
    if x[0] > 0.5:
        lst.insert(0, 5.0)
    return lst[0]


def attr_list_append(x):
    st = State()
    if x[0] > 0.5:
        st.items.append(1)
    return len(st.items)


def _push(q, v):
    q.append(v)


def append_in_helper(x):
    q = []
    if x[0] > 0.5:
        _push(q, 1.0)
    return len(q)


def pop_in_loop(x):
    lst = [1.0, 2.0, 3.0]
    for v in x:
        if v > 0.85:
            lst.pop()
    return len(lst)


def deque_append_in_loop(x):
    q = deque()
    for i in range(x.shape[0]):
        if x[i] > 0.5:
            q.append(i)
    return len(q)


def attr_incr_in_loop(x):
    st = State()
    for v in x:
        if v > 0.5:
            st.count += 1
    return st.count


def pop_in_long_loop(x):
    lst = list(range(200))
    for v in x:
        lst.pop()
    return len(lst)


def ternary_pop(x):
    lst = [1.0, 2.0]
    y = lst.pop() if x[0] > 0.5 else 0.0
    return y + len(lst)


def bfs(A, s):
    n = A.shape[0]
    dist = np.full(n, -1)
    dist[s] = 0
    q = deque([s])
    while q:
        u = q.popleft()
        for v in range(n):
            if A[u, v] and dist[v] < 0:
                dist[v] = dist[u] + 1
                q.append(v)
    return dist


REFUSED = [(list_append, "lst.append(1)"), (list_pop, "lst.pop()"), (dict_new_key, 'd["a"] = 1.0'),
           (dict_del, 'del d["a"]'), (set_add, "s.add(3)"), (list_extend, "lst.extend([2.0, 3.0])"),
           (list_insert, "lst.insert(0, 5.0)"), (attr_list_append, "st.items.append(1)"),
           (append_in_helper, "q.append(v)"), (pop_in_loop, "lst.pop()"), (deque_append_in_loop, "q.append(i)"),
           (attr_incr_in_loop, "st.count += 1"), (pop_in_long_loop, "lst.pop()"), (ternary_pop, "y = lst.pop()")]


def _line(fn_text: str) -> tuple[str, int]:
    src = inspect.getsource(inspect.getmodule(test_refused)).splitlines()
    for k, line in enumerate(src):
        if line.strip().startswith(fn_text):
            return line.strip(), k + 1
    raise AssertionError(fn_text)


@pytest.mark.parametrize("fn,text", REFUSED, ids=[f.__name__ for f, _ in REFUSED])
def test_refused(fn, text):
    x = np.array([0.9, 0.2, 0.95, 0.3, 0.1, 0.7])
    with pytest.raises(UnsupportedError) as e:
        looptrace.jit(fn, backend="interpret")(x)
    line, _ = _line(text)
    msg = str(e.value)
    assert __file__ in msg and line in msg, msg
    assert "line" in msg and "hint:" in msg


def test_refused_names_the_line_number():
    with pytest.raises(UnsupportedError) as e:
        looptrace.jit(list_pop, backend="interpret")(np.array([0.9]))
    _, n = _line("lst.pop()")
    assert e.value.loc.line == n and e.value.loc.file == __file__


def test_bfs_runs():
    """Refused before (a clear error, not an internal one); a queue now
    (tests/tracer/test_work_stacks.py)."""
    A = np.eye(4, k=1, dtype=np.int64)
    np.testing.assert_array_equal(looptrace.jit(bfs, backend="interpret")(A, 0), bfs(A, 0))


def test_objects_restored_after_refusal():
    """A refused trace leaves the objects the function reached as they were."""
    keep = [1.0, 2.0]

    def f(x):
        if x[0] > 0.5:
            keep.append(3.0)
        return x[0]

    with pytest.raises(UnsupportedError):
        looptrace.jit(f, backend="interpret")(np.array([0.9]))
    assert keep == [1.0, 2.0]
