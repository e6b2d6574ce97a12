"""Wrong answers of persistent kernels (codegen/cuda/team.py and
team_loops.py), found by generated 2-D programs under the simulator and
right on interpret and cpu:

- a reshape that copies a strided value (a column of a gathered matrix,
  `X[i, (j + 1) % m]` over j, sliced per step) into the kernel's shared
  memory wrote the copy at offset 0 of the shared array (over a carry)
  instead of at the value's own offset (rules/shape.py);
- a nested while loop (a `for` with `break`) flipped the parity `par` of
  the outer loop's ping-pong carries at each of its own steps, so after an
  odd number of inner steps the outer loop read the half it had not
  written (team_loops.py `while_step`).

Also the zero-trip loops of tests/tracer/test_zero_trip_aliases.py on cuda."""
import numpy as np

import looptrace as lt

from _cuda_support import assert_like_plain, cuda_backend


def gathered_column_max(X, o1):
    n, m = X.shape
    for i in range(n):
        for j in range(m):
            o1[i] = max(0.5 * o1[i], X[i, (j + 1) % m])  # (a recurrence: a plain max is a reduction)
    return o1


def inner_break_under_pingpong(X, Y, idx, oc):
    n, m = X.shape
    for i in range(1, n):
        oc = np.maximum(oc, X[idx[i]])
        for j in range(m - 1, -1, -1):
            if X[i, (j + 1) % m] * Y[i, j] > 0.6:
                break
        if np.argmax(X[i, ::-1]) > 3.0:
            return oc, 0.0
    acc = 0.0
    for j in range(m):
        acc += Y[:, j].min()
    return oc, acc


def _same(f, *args):
    jitted = lt.jit(f, backend="cuda")
    assert_like_plain(f, args, jitted, rtol=1e-12)
    return jitted


def test_a_strided_reshape_copies_to_its_own_shared_offset():
    cuda_backend()
    r = np.random.default_rng(17)
    for n, m in [(2, 3), (3, 4), (5, 3)]:
        jitted = _same(gathered_column_max, r.standard_normal((n, m)), r.standard_normal(n))
    assert "a persistent single-block kernel" in str(jitted.explain(r.standard_normal((5, 3)),
                                                                      r.standard_normal(5)))


def test_a_nested_while_keeps_the_outer_parity():
    cuda_backend()
    r = np.random.default_rng(21)
    for n, m in [(3, 3), (5, 3), (6, 4)]:
        X, Y = r.standard_normal((n, m)), r.standard_normal((n, m)).astype(np.float32)
        jitted = _same(inner_break_under_pingpong, X, Y, r.integers(0, n, n), r.standard_normal(m))
    assert "a persistent single-block kernel" in str(jitted.explain(X, Y, r.integers(0, n, n),
                                                                      r.standard_normal(m)))


def test_zero_trip_loops_leave_the_argument_as_plain_does():
    """tests/tracer/test_zero_trip_aliases.py's programs on cuda: a name
    rebound in a loop that runs no iteration still refers to the argument."""
    from tests.tracer import test_zero_trip_aliases as zt

    cuda_backend()
    for f in zt.TRACED:
        for n in (0, 1, 3):
            r = np.random.default_rng(n + 10)
            zt._check(f, "cuda", r.standard_normal((4, 5)), r.standard_normal(5), n)
    r = np.random.default_rng(1)
    zt._check(zt.static_range, "cuda", r.standard_normal((1, 5)), r.standard_normal(5))
