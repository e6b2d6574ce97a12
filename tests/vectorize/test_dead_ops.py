"""After the passes no op is left that nothing reads (pipeline.py
`_drop_dead`), except those that may raise: a pass that moves a read
elsewhere can leave its old operand unread (thomas_columns kept a strided
copy of a (4096, 79) input per call). Values are compared with the plain
function; a read that may raise stays even when dead."""

import numpy as np
import pytest

import looptrace
from bench.corpus.sparse import thomas_columns
from looptrace.ir.core import walk
from looptrace.ir.dce import is_pure
from looptrace.ir.uses import used_values
from looptrace.pipeline import run_passes
from tests.vectorize.test_forwarded_reads import echo, row_delay


def dead_ops(block):
    """Pure ops of block (and its bodies) whose outputs nothing reads and that cannot raise."""
    read = {v.id for v in block.results} | {v.id for v in used_values(block.ops)}
    found = []
    for op in block.ops:
        if is_pure(op) and not op.prim.may_raise and not any(v.id in read for v in op.outputs) \
                and not any(o.prim.may_raise for b in op.blocks for o in walk(b)):
            found.append(op)
        for b in op.blocks:
            found += dead_ops(b)
    return found


@pytest.mark.parametrize("fn, make", [
    (thomas_columns, lambda r: (r.random((500, 12)), r.random((500, 12)) + 3.0, r.random((500, 12)),
                                r.standard_normal((500, 12)))),
    (echo, lambda r: (r.standard_normal(30), 0.5)),
    (row_delay, lambda r: (r.standard_normal((12, 5)),)),
])
def test_no_dead_op_is_left(fn, make, rng):
    args = make(rng)
    f = looptrace.jit(fn, backend="interpret")
    np.testing.assert_allclose(f(*args), fn(*args), rtol=1e-12)
    program = f.explain(*args).program
    assert not dead_ops(program.body), [op.prim.name for op in dead_ops(program.body)]
    assert not dead_ops(run_passes(program).body)


def test_the_column_sweep_fills_its_buffers_instead_of_copying_one(rng):
    """np.empty((n, K)) three times is one value in SSA; each buffer written in
    place is filled anew rather than copied from the shared one (codegen/cpu
    emitter.py `writable_copy`)."""
    shape = (500, 12)  # above the size of arrays kept as constants
    args = (rng.random(shape), rng.random(shape) + 3.0, rng.random(shape), rng.standard_normal(shape))
    f = looptrace.jit(thomas_columns, backend="cpu")
    np.testing.assert_allclose(f(*args), thomas_columns(*args), rtol=1e-10)
    src = f.explain(*args).kernel_source
    assert "copied(" not in src and "contiguous(" not in src
