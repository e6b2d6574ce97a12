"""The IR printer (one line per op, with shapes, dtypes and file:line) and
the verifier (SSA, types, shapes), including hand-broken programs it must
reject."""

import numpy as np
import pytest

import looptrace
from looptrace import examples
from looptrace.ir.core import Block, Op, Value, walk
from looptrace.ir.printer import print_program
from looptrace.ir.verify import VerifyError, verify
from looptrace.ops import get as prim


def traced(fn, *args):
    return looptrace.jit(fn, backend="interpret").trace(list(args))


def rnn_program(rng, T=7):
    X = rng.standard_normal((T, 3))
    y0 = rng.standard_normal(4)
    W1, W2, W3 = rng.standard_normal((4, 4)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    return traced(examples.rnn_taps, X, y0, W1, W2, W3)


def small(x, a):
    y = x * a
    s = 0.0
    for i in range(x.shape[0]):
        if y[i] > 0:
            s = s + y[i]
    return np.tanh(y) + s


# --- printer -----------------------------------------------------------------------------------
def test_printer_one_line_per_op_with_location(rng):
    p = rnn_program(rng)
    text = print_program(p)
    lines = text.splitlines()
    ops = list(walk(p.body))
    op_lines = [l for l in lines if " = " in l or l.strip().startswith(tuple(o.prim.name for o in ops))]
    assert len([l for l in lines if "#" in l]) == len(ops)  # every op: one line with its location
    for l in op_lines:
        if "yield" not in l:
            assert "examples.py:" in l, l
    assert sum(1 for l in lines if "for_loop(" in l) == 1  # the loop body is traced once
    assert "float64[4]" in text and "float64[7,3]" in text
    assert lines[0].startswith("def rnn_taps(")


def test_printer_shows_trip_independent_program(rng):
    a = print_program(rnn_program(rng, T=5)).splitlines()
    b = print_program(rnn_program(rng, T=500)).splitlines()
    assert len(a) == len(b)


def test_printer_nested_blocks(rng):
    p = traced(small, rng.standard_normal(3), 2.0)
    text = print_program(p)
    assert "body(" in text and "then(" in text and "else(" in text
    verify(p)


# --- verifier accepts what the tracer makes -------------------------------------------------------
@pytest.mark.parametrize("name", sorted(examples.PROGRAMS))
def test_verifier_accepts_seed_programs(name, rng):
    entry = examples.PROGRAMS[name]
    f = looptrace.jit(entry["fn"], backend="interpret")
    verify(f.trace(list(entry["make_args"](rng))))


# --- verifier rejects hand-broken IR ------------------------------------------------------------------
def _top_ops(p):
    return p.body.ops


def test_rejects_use_before_definition(rng):
    p = traced(small, rng.standard_normal(3), 2.0)
    ops = _top_ops(p)
    # move the last top-level op to the front: its inputs are not defined yet
    ops.insert(0, ops.pop())
    with pytest.raises(VerifyError, match="not defined"):
        verify(p)


def test_rejects_wrong_output_shape(rng):
    p = traced(small, rng.standard_normal(3), 2.0)
    op = next(o for o in _top_ops(p) if not o.prim.region)
    op.outputs[0].shape = (99,)
    with pytest.raises(VerifyError, match="rule says"):
        verify(p)


def test_rejects_wrong_output_dtype(rng):
    p = traced(small, rng.standard_normal(3), 2.0)
    op = next(o for o in _top_ops(p) if not o.prim.region)
    op.outputs[0].dtype = np.dtype(np.int8)
    with pytest.raises(VerifyError):
        verify(p)


def test_rejects_double_definition(rng):
    p = traced(small, rng.standard_normal(3), 2.0)
    plain = [o for o in _top_ops(p) if not o.prim.region]
    plain[1].outputs = plain[0].outputs
    with pytest.raises(VerifyError, match="defined twice"):
        verify(p)


def test_rejects_value_escaping_a_loop_body(rng):
    p = rnn_program(rng)
    loop = next(o for o in _top_ops(p) if o.prim.name == "for_loop")
    inner = loop.blocks[0].ops[-1].outputs[0]
    p.body.results = [inner]
    with pytest.raises(VerifyError, match="not defined"):
        verify(p)


def test_rejects_carry_type_change(rng):
    p = rnn_program(rng)
    loop = next(o for o in _top_ops(p) if o.prim.name == "for_loop")
    body = loop.blocks[0]
    body.results[0] = Value(np.dtype(np.float32), body.results[0].shape)
    body.ops.append(Op(prim("convert"), (body.args[1],), (body.results[0],), {"dtype": np.dtype(np.float32)},
                       loop.loc))
    with pytest.raises(VerifyError, match="changes type"):
        verify(p)


def test_rejects_bad_cond_branches(rng):
    p = traced(small, rng.standard_normal(3), 2.0)
    cond = next(o for o in walk(p.body) if o.prim.name == "cond")
    cond.blocks[0].results.append(cond.blocks[0].results[0])
    with pytest.raises(VerifyError, match="cond"):
        verify(p)


def test_rejects_while_condition_not_bool(rng):
    def w(x):
        i = 0
        while i < x.shape[0] and x[i] < 1.0:
            i += 1
        return i

    p = traced(w, rng.standard_normal(4))
    loop = next(o for o in walk(p.body) if o.prim.name == "while_loop")
    cond = loop.blocks[0]
    cond.results = [cond.args[0]]
    with pytest.raises(VerifyError, match="boolean"):
        verify(p)


def test_verify_error_shows_the_op(rng):
    p = traced(small, rng.standard_normal(3), 2.0)
    op = next(o for o in _top_ops(p) if not o.prim.region)
    op.outputs[0].shape = (99,)
    with pytest.raises(VerifyError) as e:
        verify(p)
    assert op.prim.name in str(e.value) and "test_printer_verify.py:" in str(e.value)
