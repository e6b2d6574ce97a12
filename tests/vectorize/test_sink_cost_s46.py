"""Session 46: the cost of vectorize/sink.py over one long block, and a short
loop whose window an int argument decides.

- An unrolled loop (48 iterations of four order statistics of a window) left
  about 3000 ops in one block, and the sink pass spent 44 s there: for every
  op it scanned the whole block and the free values of every branch, and it
  started over after each move. It now indexes each block's readers once:
  the work counted here (branches' free values taken, ops looked at) grows
  with the number of ops, and what moves where is what it was (the ops of
  a mask land at the front of the one branch that reads them, two levels
  down when only an inner branch reads them; an op both branches read
  stays).
- A loop of at most 64 iterations whose window `x[max(0, i - k):i + 1]`
  needs k concrete was unrolled (each iteration traced on its own, compile
  time growing with the trip count) where a longer one specialized on k and
  was traced once. It specializes first, as API.md promises for an int that
  decides a shape; an argument that cannot be made static (a 0-d array)
  still gets the unrolled loop.
"""

import numpy as np

import looptrace
from looptrace.ir.core import walk
from looptrace.vectorize import sink


def unrolled_segments(ptr, vals):
    out = np.zeros(ptr.size - 1)
    for i in list(range(ptr.size - 1)):  # a Python list: unrolled, one cond per segment in one block
        seg = vals[ptr[i]:ptr[i + 1]]
        if ptr[i + 1] > ptr[i]:  # the mask of seg is read in this branch only: computed there
            out[i] = seg.sum() + seg.max(initial=-np.inf)
    return out


def nested_segments(ptr, vals, t):
    out = np.zeros(ptr.size - 1)
    for i in list(range(ptr.size - 1)):
        seg = vals[ptr[i]:ptr[i + 1]]
        if ptr[i + 1] > ptr[i]:
            if vals[ptr[i]] > t:  # the mask is read in this inner branch only
                out[i] = seg.sum()
            else:
                out[i] = -1.0
    return out


def both_branches(ptr, vals, t):
    out = np.zeros(ptr.size - 1)
    for i in list(range(ptr.size - 1)):
        seg = vals[ptr[i]:ptr[i + 1]]
        m = vals * ptr[i] + t  # read by both branches: stays before the cond
        if ptr[i + 1] > ptr[i]:
            out[i] = seg.sum() + m[0]
        else:
            out[i] = m[1]
    return out


def _segments(m, seed):
    rng = np.random.default_rng(seed)
    ptr = np.concatenate([[0], np.cumsum(rng.integers(0, 4, m))])  # empty segments too
    return ptr, rng.standard_normal(ptr[-1] + 2)


def _conds(program):
    return [op for op in walk(program.body) if op.prim.name == "cond"]


def _branch_masks(cond):
    """The names of the first ops of cond's then-branch (the mask moved there)."""
    return [op.prim.name for op in cond.blocks[0].ops[:3]]


def test_sunk_masks_match_plain_and_sit_in_their_branch():
    ptr, vals = _segments(12, 0)
    f = looptrace.jit(unrolled_segments, backend="interpret")
    np.testing.assert_allclose(f(ptr, vals), unrolled_segments(ptr, vals), rtol=1e-12)
    program = f.explain(ptr, vals).program
    conds = _conds(program)
    assert len(conds) == 12 and all(c in program.body.ops for c in conds)  # one block: the unrolled loop
    assert all(_branch_masks(c) == ["greater_equal", "less", "logical_and"] for c in conds)
    assert not any(op.prim.name == "logical_and" for op in program.body.ops)

    g = looptrace.jit(nested_segments, backend="interpret")
    np.testing.assert_allclose(g(ptr, vals, 0.1), nested_segments(ptr, vals, 0.1), rtol=1e-12)
    program = g.explain(ptr, vals, 0.1).program
    inner = [c for c in _conds(program) if c not in program.body.ops]
    assert len(inner) == 12 and all(_branch_masks(c) == ["greater_equal", "less", "logical_and"] for c in inner)

    h = looptrace.jit(both_branches, backend="interpret")
    np.testing.assert_allclose(h(ptr, vals, 0.5), both_branches(ptr, vals, 0.5), rtol=1e-12)
    top = [op.prim.name for op in h.explain(ptr, vals, 0.5).program.body.ops]
    assert top.count("multiply") == 12  # vals * ptr[i], read by both branches, is not moved


def test_sink_work_grows_linearly_with_the_block(monkeypatch):
    """The branches' free values are taken once per branch, and each op is
    looked at a bounded number of times (before: once per op per branch,
    and again after every move: 384 -> 6144 free-value walks for 8 -> 32
    segments)."""
    counts = {"free": 0, "movable": 0}
    free_values, movable = sink.free_values, sink._movable

    def counted_free(block):
        counts["free"] += 1
        return free_values(block)

    def counted_movable(op):
        counts["movable"] += 1
        return movable(op)

    monkeypatch.setattr(sink, "free_values", counted_free)
    monkeypatch.setattr(sink, "_movable", counted_movable)
    seen = {}
    for m in (8, 32):
        counts.update(free=0, movable=0)
        ptr, vals = _segments(m, m)
        got = looptrace.jit(unrolled_segments, backend="interpret")(ptr, vals)
        np.testing.assert_allclose(got, unrolled_segments(ptr, vals), rtol=1e-12)
        seen[m] = dict(counts)
    assert seen[8]["free"] == 2 * 8 and seen[32]["free"] == 2 * 32  # two branches per cond, once each
    assert seen[32]["movable"] <= 4.5 * seen[8]["movable"]  # four times the ops: about four times the work


# --- a short loop whose window an int argument decides: specialized, traced once ----------------------------
def moving_median(x, k):
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = np.median(x[max(0, i - k):i + 1])
    return out


def test_short_window_loop_specializes_instead_of_unrolling():
    x = np.random.default_rng(3).standard_normal(24)  # 24 iterations: at most the 64 a loop may unroll
    f = looptrace.jit(moving_median, backend="interpret")
    for k in (0, 1, 5, 30):
        np.testing.assert_array_equal(f(x, k), moving_median(x, k))
    e = f.explain(x, 5)
    assert [lp.kind for lp in e.loops] == ["vectorized"]
    assert "unrolled" not in e.loops[0].reason
    assert any("specialized on `k`" in note for note in e.notes)
    assert "float64[24,6]" in str(e)  # one batched window of k + 1 elements per iteration


def test_short_window_loop_unrolls_where_k_cannot_be_static():
    """A 0-d array k is not made static (specialize.py): the loop is unrolled as before."""
    x = np.random.default_rng(4).standard_normal(10)
    k = np.array(3)
    got = looptrace.jit(moving_median, backend="interpret")(x, k)
    np.testing.assert_array_equal(got, moving_median(x, k))
    e = looptrace.explain(moving_median, x, k)
    assert "unrolled while tracing" in e.loops[0].reason and not e.notes
