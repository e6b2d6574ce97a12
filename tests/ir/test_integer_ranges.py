"""Integer ranges by interval arithmetic (ir/ranges.py): each range holds
every element the ops compute, checked by running the ops on the
interpreter's NumPy implementations over the whole leaf range."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import looptrace  # noqa: F401  (registers the primitives)
from looptrace.ir.builder import EagerBuilder, IRBuilder
from looptrace.ir.core import Value, literal
from looptrace.ir.ranges import Ranges, progression, range_in_block


def _leaf(v: Value, lo: int, hi: int):
    return lambda u: (lo, hi) if u.id == v.id else None


def _wrap_program(n: int):
    b = IRBuilder()
    s = Value(np.dtype(np.int64), ())
    neg = b.op("less", s, literal(np.int64(0)))
    wrapped = b.op("select", neg, b.op("add", s, literal(np.int64(n))), s)
    return b, s, wrapped


def test_negative_index_wrap_is_inside_the_axis():
    b, s, wrapped = _wrap_program(10)
    ranges = Ranges(_leaf(s, -10, 9))
    for op in b.ops:
        ranges.learn(op)
    assert ranges.of(wrapped) == (0, 9)
    ranges = Ranges(_leaf(s, -11, 9))
    for op in b.ops:
        ranges.learn(op)
    assert ranges.of(wrapped) == (-1, 9)  # -11 wraps to -1: not inside


def test_a_branch_never_taken_adds_nothing():
    b, s, wrapped = _wrap_program(10)
    ranges = Ranges(_leaf(s, 2, 7))
    for op in b.ops:
        ranges.learn(op)
    assert ranges.of(wrapped) == (2, 7)


def test_progressions():
    assert progression(literal(np.arange(5))) == (0, 1)
    assert progression(literal(np.arange(3, 20, 4))) == (3, 4)
    assert progression(literal(np.array([1, 2, 4]))) is None
    assert progression(literal(np.arange(5.0))) is None
    assert progression(literal(np.array([7]))) is None


OPS = ("add", "subtract", "multiply", "minimum", "maximum")


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(st.tuples(st.sampled_from(OPS), st.integers(-6, 6), st.booleans()), min_size=1, max_size=5),
       n=st.integers(1, 9), shift=st.integers(-5, 5))
def test_ranges_hold_every_computed_element(ops, n, shift):
    """A chain over an iota and constants: the computed range contains every element."""
    b = IRBuilder()
    v = b.op("add", b.op("iota", shape=(n,), dtype=np.dtype(np.int64), axis=0), literal(np.int64(shift)))
    for name, c, left in ops:
        k = literal(np.int64(c))
        v = b.op(name, k, v) if left else b.op(name, v, k)
    producer = {op.out.id: op for op in b.ops}
    r = range_in_block(v, producer)
    eager, env = EagerBuilder(), {}
    for op in b.ops:
        args = [env[u.id] if u.id in env else np.asarray(u.const) for u in op.inputs]
        env[op.out.id] = eager.op(op.prim.name, *args, **op.attrs)
    got = env[v.id]
    assert r is not None
    assert r[0] <= got.min() and got.max() <= r[1], (r, got)


@pytest.mark.parametrize("dtype", [np.int8, np.int64])
def test_arithmetic_that_could_wrap_has_no_range(dtype):
    b = IRBuilder()
    big = np.iinfo(dtype).max
    x = b.op("iota", shape=(4,), dtype=np.dtype(dtype), axis=0)
    v = b.op("add", x, literal(np.array(big, dtype=dtype)))
    assert range_in_block(v, {op.out.id: op for op in b.ops}) is None


def test_a_binary_search_index_stays_inside_the_table():
    """np.searchsorted's halvings (tracer/np_extra.py): lo, hi start at 0 and
    n and move to mid + 1 or mid by selects; the index min(mid, n - 1) read at
    every step is inside [0, n - 1] however many steps (each value is looked
    at once: both halves of every step read the last lo and hi)."""
    n, steps = 1000, 24
    b = IRBuilder()
    cond = Value(np.dtype(np.bool_), (5,))
    lo = b.op("broadcast_to", literal(np.int64(0)), shape=(5,))
    hi = b.op("broadcast_to", literal(np.int64(n)), shape=(5,))
    for _ in range(steps):
        mid = b.op("right_shift", b.op("add", lo, hi), literal(np.int64(1)))
        at = b.op("minimum", mid, literal(np.int64(n - 1)))
        lo = b.op("select", cond, b.op("add", mid, literal(np.int64(1))), lo)
        hi = b.op("select", cond, mid, hi)
    producer = {v.id: op for op in b.ops for v in op.outputs}
    assert range_in_block(at, producer) == (0, n - 1)
    assert range_in_block(lo, producer) == (0, n + 1)


def test_a_clipped_then_wrapped_index_is_inside_the_axis():
    """np.add.at's index past its bounds check (tracer/advanced.py
    `_checked`): clip(i, -n, n - 1) of an index of unknown range, then the
    negative wrap; range_in_block refines each branch of the select by its
    test, as Ranges does. The check before the clip is what makes it exact."""
    n = 64
    b = IRBuilder()
    i = Value(np.dtype(np.int64), (9,))
    clipped = b.op("minimum", b.op("maximum", i, literal(np.int64(-n))), literal(np.int64(n - 1)))
    wrapped = b.op("select", b.op("less", clipped, literal(np.int64(0))),
                   b.op("add", clipped, literal(np.int64(n))), clipped)
    producer = {v.id: op for op in b.ops for v in op.outputs}
    assert range_in_block(clipped, producer) == (-n, n - 1)
    assert range_in_block(wrapped, producer) == (0, n - 1)
    unclipped = b.op("select", b.op("less", i, literal(np.int64(0))), b.op("add", i, literal(np.int64(n))), i)
    producer = {v.id: op for op in b.ops for v in op.outputs}
    assert range_in_block(unclipped, producer) is None  # nothing known of i: no range
