"""The use-map helpers every pass calls (ir/uses.py `users`, `use_map`; ir/dce.py
`dce`, `dead_raising`) cost time linear in a long straight-line block: a value
that every unrolled iteration reads (an argument) made `users` quadratic in its
readers (session-46 profile of a 400-iteration unrolled loop). Counted, not
timed: the Python lines these helpers run grow 2x when the block does; their
results stay the plain definitions'."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import looptrace
from looptrace import examples
from looptrace.ir import dce as dce_mod
from looptrace.ir import uses as uses_mod
from looptrace.ir.builder import IRBuilder
from looptrace.ir.core import Block, Value, walk
from looptrace.ir.dce import dce, dead_raising
from looptrace.ir.uses import Use, use_map, users

_FILES = {os.path.abspath(uses_mod.__file__), os.path.abspath(dce_mod.__file__)}


def lines_run(fn, *args, **kwargs) -> int:
    """How many Python lines of ir/uses.py and ir/dce.py `fn(*args)` runs."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if os.path.abspath(frame.f_code.co_filename) not in _FILES:
            return None
        if event == "line":
            count += 1
        return tracer

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        fn(*args, **kwargs)
    finally:
        sys.settrace(old)
    return count


def fan_block(n: int) -> Block:
    """n iterations each reading the argument `x` (twice in one op) and `w`,
    a chain through `acc`, and an unread op every iteration."""
    x, w = Value(np.dtype("float64"), (5,)), Value(np.dtype("float64"), (5,))
    b = IRBuilder()
    acc = x
    for _ in range(n):
        t = b.op("multiply", x, x)
        u = b.op("add", t, w)
        b.op("sin", x)  # unread
        acc = b.op("add", acc, u)
    return Block([x, w], b.ops, [acc])


def users_reference(block: Block) -> dict[int, list]:
    """The definition: value id -> distinct reading ops of `block`, first read first."""
    out: dict[int, list] = {}
    for vid, us in use_map(block).items():
        ops = out.setdefault(vid, [])
        for u in us:
            if u.op is not None and not any(o is u.op for o in ops):
                ops.append(u.op)
    return out


def same_users(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(len(a[k]) == len(b[k]) and all(p is q for p, q in zip(a[k], b[k])) for k in a)


def straight(x, w):
    acc = np.zeros(5)
    for j in list(range(x.shape[0] - 5)):  # a Python list: unrolled
        v = np.sin(x[j:j + 5]) * w[j] + x[j + 1]
        if x[j] > 0:
            acc = acc + np.abs(v)
        else:
            acc = acc - v * 0.5
    return acc


def small(x, a):
    y = x * a
    s = 0.0
    for i in range(x.shape[0]):
        if y[i] > 0:
            s = s + y[i] * x[0]
    return np.tanh(y) + s


def programs():
    rng = np.random.default_rng(46)
    x, w = rng.standard_normal(17), rng.standard_normal(17)
    X, y0 = rng.standard_normal((7, 3)), rng.standard_normal(4)
    W1, W2, W3 = rng.standard_normal((4, 4)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    yield looptrace.jit(straight, backend="interpret").trace([x, w])
    yield looptrace.jit(small, backend="interpret").trace([x, 0.5])
    yield looptrace.jit(examples.rnn_taps, backend="interpret").trace([X, y0, W1, W2, W3])


def test_users_are_the_definitions_on_traced_programs_nested_bodies_included():
    blocks = 0
    for p in programs():
        for blk in [p.body, *(b for op in walk(p.body) for b in op.blocks)]:
            assert same_users(users(blk), users_reference(blk))
            ref = {vid: [Use(u.op, u.nested) for u in us] for vid, us in use_map(blk).items()}
            assert use_map(blk) == ref
            blocks += 1
    assert blocks > 10


def test_users_of_a_fan_block_in_program_order_once_each():
    blk = fan_block(7)
    us, x = users(blk), blk.args[0]
    # x * x reads x once; the first `acc + u` reads it too (acc starts as x)
    assert [o.prim.name for o in us[x.id]] == ["multiply", "sin", "add"] + ["multiply", "sin"] * 6
    assert same_users(us, users_reference(blk))
    assert [u.op for u in use_map(blk)[blk.results[0].id]] == [None]


def test_use_helpers_run_lines_linear_in_the_block():
    small_blk, big_blk = fan_block(150), fan_block(300)
    for fn in (users, use_map, dead_raising, lambda b: dce(b, regions=False, loops=True), dce):
        a, b = lines_run(fn, small_blk), lines_run(fn, big_blk)
        assert b <= 2.1 * a, (fn, a, b)  # 4x when quadratic in the readers of `x`


def test_dce_drops_the_unread_ops_and_keeps_the_chain():
    blk = fan_block(6)
    kept = dce(blk)
    assert [o.prim.name for o in kept.ops] == ["multiply", "add", "add"] * 6
    assert dead_raising(blk) == frozenset()


@pytest.mark.parametrize("n", [3, 9])
def test_straight_line_program_equals_plain(n):
    rng = np.random.default_rng(n)
    x, w = rng.standard_normal(n + 5), rng.standard_normal(n + 5)
    got = looptrace.jit(straight, backend="interpret")(x, w)
    want = straight(x, w)
    assert got.dtype == want.dtype and np.allclose(got, want)
