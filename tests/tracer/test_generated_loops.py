"""Hypothesis-generated loop programs (map, accumulate, recurrence, nested,
with break, while), built as Python source text, exec'd and compared: the
plain function against `looptrace.jit(fn, backend="interpret")`, values and
effects on the argument arrays."""

import itertools
import linecache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace

from ._loopcheck import check

_ids = itertools.count()
SETTINGS = settings(max_examples=30, deadline=None)


def compile_source(src: str, name: str = "f"):
    """exec `src` under a fresh file name registered with linecache, so the
    converter can read the function's source as it would a real file's."""
    filename = f"<generated-loop-{next(_ids)}>"
    lines = src.splitlines(keepends=True)
    linecache.cache[filename] = (len(src), None, lines, filename)
    ns = {"np": np}
    exec(compile(src, filename, "exec"), ns)
    return ns[name]


# --- expressions ------------------------------------------------------------------------------
UNARY = ["np.tanh({})", "np.sin({})", "0.5 * {}", "-{}", "np.abs({})", "({} * {})"]
BINARY = ["({} + {})", "({} - {})", "({} * {})", "np.maximum({}, {})", "np.minimum({}, {})",
          "(0.5 * {} + 0.25 * {})"]


@st.composite
def expr(draw, leaves: list[str], depth: int = 3):
    if depth == 0 or draw(st.integers(0, 3)) == 0:
        leaf = draw(st.sampled_from(leaves + ["0.5", "1.25"]))
        return leaf
    if draw(st.booleans()):
        form = draw(st.sampled_from(UNARY))
        a = draw(expr(leaves, depth - 1))
        return form.format(a, a)
    form = draw(st.sampled_from(BINARY))
    return form.format(draw(expr(leaves, depth - 1)), draw(expr(leaves, depth - 1)))


@st.composite
def range_text(draw, n: str):
    """A range over valid indices of an axis of length `n` (a Python expression)."""
    form = draw(st.sampled_from(["range({n})", "range(1, {n})", "range(0, {n}, 2)", "range({n} - 1, -1, -1)",
                                 "range({n} - 1, 0, -2)", "reversed(range({n}))", "range(2, {n}, 3)"]))
    return form.format(n=n)


def bounded(e: str) -> str:
    """Keep recurrences bounded so values stay comparable at rtol 1e-9."""
    return f"np.tanh({e})"


# --- program templates ---------------------------------------------------------------------------
@st.composite
def map_program(draw):
    rng_t = draw(range_text("x.shape[0]"))
    body = draw(expr(["x[i]", "y[i]", "x[i - 1]"]))
    target = draw(st.sampled_from(["out", "y"]))  # y: an in-place write into an argument
    init = "out = np.zeros_like(x)\n    " if target == "out" else ""
    return f"""def f(x, y):
    {init}for i in {rng_t}:
        {target}[i] = {body}
    return {target}
"""


@st.composite
def accumulate_program(draw):
    rng_t = draw(range_text("x.shape[0]"))
    op = draw(st.sampled_from(["+=", "-=", "*="]))
    body = draw(expr(["x[i]", "y[i]"]))
    body = bounded(body) if op == "*=" else body
    init = draw(st.sampled_from(["0.0", "1.0", "x[0]", "np.zeros(())"]))
    return f"""def f(x, y):
    acc = {init}
    for i in {rng_t}:
        acc {op} {body}
    return acc
"""


@st.composite
def recurrence_program(draw):
    rng_t = draw(range_text("x.shape[0]"))
    body = bounded(draw(expr(["h", "x[i]", "y[i]", "h * x[i]"])))
    store = draw(st.booleans())
    save = "\n        y[i] = h" if store else ""
    return f"""def f(x, y):
    h = x[0] * 0.5
    for i in {rng_t}:
        h = {body}{save}
    return h
"""


@st.composite
def vector_recurrence_program(draw):
    body = bounded(draw(expr(["W @ h", "X[t]", "h"])))
    return f"""def f(X, W):
    h = np.zeros(W.shape[0])
    Y = np.empty_like(X)
    for t in range(X.shape[0]):
        h = {body}
        Y[t] = h
    return Y, h
"""


@st.composite
def nested_program(draw):
    inner = draw(range_text("A.shape[1]")).replace("i", "j").replace("rangej", "range")
    inner = inner.replace("reversed(range(", "reversed(range(")
    body = bounded(draw(expr(["acc", "A[i, j]", "A[j % A.shape[0], i % A.shape[1]]"])))
    deep = draw(st.booleans())
    inner_stmt = f"acc = {body}"
    if deep:
        inner_stmt = f"""for k in range(2):
                acc = {body} + k * 0.1"""
    return f"""def f(A, b):
    out = np.zeros(A.shape[0])
    for i in range(A.shape[0]):
        acc = b[i]
        for j in {inner}:
            {inner_stmt}
        out[i] = acc
    return out
"""


@st.composite
def break_program(draw):
    rng_t = draw(range_text("x.shape[0]"))
    cond = draw(st.sampled_from(["x[i] > 1.0", "acc > 1.5", "y[i] < -1.2 or x[i] > 1.5", "acc < -1.0"]))
    jump = draw(st.sampled_from(["break", "continue"]))
    body = draw(expr(["x[i]", "y[i]", "acc"]))
    update = f"acc = acc * 0.5 + {bounded(body)}\n        n += 1"
    test = f"if {cond}:\n            {jump}"
    first, second = (test, update) if draw(st.booleans()) else (update, test)  # the jump may end the body
    return f"""def f(x, y):
    acc = 0.0
    n = 0
    for i in {rng_t}:
        {first}
        {second}
    return acc, n
"""


@st.composite
def while_program(draw):
    cond = draw(st.sampled_from(["i < x.shape[0] and acc < 2.0", "i < x.shape[0]",
                                 "i < x.shape[0] and x[i] < 1.0"]))
    body = bounded(draw(expr(["x[i]", "y[i]", "acc"])))
    return f"""def f(x, y):
    acc = 0.0
    i = 0
    while {cond}:
        acc = acc + {body}
        i += 1
    return acc, i
"""


@st.composite
def conditional_program(draw):
    rng_t = draw(range_text("x.shape[0]"))
    cond = draw(st.sampled_from(["x[i] > 0", "acc > 0.5", "x[i] > y[i]", "i % 2 == 0", "x[i] > 0 and y[i] < 0"]))
    e1, e2 = draw(expr(["x[i]", "y[i]", "acc"])), draw(expr(["x[i]", "y[i]", "acc"]))
    elif_ = draw(st.booleans())
    middle = f"""
        elif y[i] > 1.0:
            acc = acc - 0.5""" if elif_ else ""
    return f"""def f(x, y):
    acc = 0.0
    out = x.copy()
    for i in {rng_t}:
        if {cond}:
            acc = np.tanh(acc + {e1})
            out[i] = acc{middle}
        else:
            y[i] = {e2}
    return acc, out
"""


@st.composite
def append_program(draw):
    rng_t = draw(range_text("x.shape[0]"))
    e = draw(expr(["x[i]", "y[i]", "acc"]))
    guard = draw(st.sampled_from(["", "if x[i] > -0.5:\n            ", "if i % 2 == 1:\n            "]))
    make = draw(st.sampled_from(["np.array", "np.stack"]))
    return f"""def f(x, y):
    ys = [x[0] * 0.0]
    acc = 0.0
    for i in {rng_t}:
        acc = acc * 0.5 + x[i]
        {guard}ys.append({e})
    return {make}(ys), acc
"""


@st.composite
def traced_bound_program(draw):
    form = draw(st.sampled_from(["range(n)", "range(1, n)", "range(n - 1, -1, -1)", "reversed(range(n))",
                                 "range(0, n, 2)"]))
    e = draw(expr(["x[i]", "acc"]))
    return f"""def f(x, y, n):
    acc = 1.0
    for i in {form}:
        acc = np.tanh({e})
        y[i] = acc
    return acc
"""


@st.composite
def nested_break_program(draw):
    cond = draw(st.sampled_from(["A[i, j] > 1.0", "acc > 1.0", "A[i, j] < b[i]", "j > i"]))
    jump = draw(st.sampled_from(["break", "continue"]))
    body = bounded(draw(expr(["acc", "A[i, j]", "b[i]"])))
    outer_jump = draw(st.sampled_from(["", "\n        if acc < -1.5:\n            break"]))
    return f"""def f(A, b):
    out = np.zeros(A.shape[0])
    total = 0.0
    for i in range(A.shape[0]):
        acc = b[i]
        for j in range(A.shape[1]):
            if {cond}:
                {jump}
            acc = {body}
            A[i, j] = acc
        out[i] = acc
        total = total + acc{outer_jump}
    return out, total
"""


def _data(seed, shape):
    return np.random.default_rng(seed).standard_normal(shape)


@SETTINGS
@given(src=st.one_of(map_program(), accumulate_program(), recurrence_program(), break_program(),
                     while_program()),
       n=st.integers(1, 7), seed=st.integers(0, 2**32 - 1))
def test_generated_1d(src, n, seed):
    f = compile_source(src)
    check(f, _data(seed, n), _data(seed + 1, n))


@SETTINGS
@given(src=st.one_of(conditional_program(), append_program()), n=st.integers(1, 7),
       seed=st.integers(0, 2**32 - 1))
def test_generated_conditional_and_append(src, n, seed):
    f = compile_source(src)
    check(f, _data(seed, n), _data(seed + 1, n))


@SETTINGS
@given(src=traced_bound_program(), n=st.integers(0, 6), seed=st.integers(0, 2**32 - 1))
def test_generated_traced_bounds(src, n, seed):
    f = compile_source(src)
    check(f, _data(seed, 6), _data(seed + 1, 6), n)


@SETTINGS
@given(src=nested_break_program(), shape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       seed=st.integers(0, 2**32 - 1))
def test_generated_nested_with_jumps(src, shape, seed):
    f = compile_source(src)
    check(f, _data(seed, shape), _data(seed + 1, shape[0]))


@SETTINGS
@given(src=nested_program(), shape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       seed=st.integers(0, 2**32 - 1))
def test_generated_nested(src, shape, seed):
    f = compile_source(src)
    check(f, _data(seed, shape), _data(seed + 1, shape[0]))


@settings(max_examples=15, deadline=None)
@given(src=vector_recurrence_program(), T=st.integers(1, 6), n=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_generated_vector_recurrence(src, T, n, seed):
    f = compile_source(src)
    X, W = _data(seed, (T, n)), _data(seed + 1, (n, n)) / n
    # (where h shrinks to a number, the short static range is unrolled: tests/tracer/test_shape_changing_loops.py)
    check(f, X, W)


def test_compile_source_is_converted():
    f = compile_source("def f(x):\n    s = 0.0\n    for i in range(x.shape[0]):\n        s += x[i]\n    return s\n")
    e = looptrace.explain(f, np.arange(3.0))
    assert len(e.loops) == 1
