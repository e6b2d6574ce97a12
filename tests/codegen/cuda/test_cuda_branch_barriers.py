"""A persistent kernel's `if`/`else` (codegen/cuda/team_loops.py
`emit_team_cond`): each branch starts from the reads and writes pending at
the `if`, so the else branch gets its own barrier before it reads what a
thread wrote before the `if`. It used to start from the then branch's
state, whose barriers never run on the else path: `out[i] = y[...]`
(written by one thread), then `out[idx[i]] += ...` in the else branch (read
by every thread) raced. Found by the generated-program fuzz under the
simulator, which runs the block's threads concurrently: 9-19 wrong runs
of 30. Repeated runs here (a race shows in some, not all)."""
import numpy as np

import looptrace as lt

from _cuda_support import cuda_backend


def write_then_branch(x, y, idx, out):
    n = x.shape[0]
    for i in range(n - 1, -1, -1):
        out[i] = y[n - 1 - i]
        if x[idx[i]] > 0:
            out[i] = 0.0
        else:
            out[idx[i]] += np.tanh(x[i])
    return out


def test_the_else_branch_waits_for_writes_before_the_if(rng):
    cuda_backend()
    jitted = lt.jit(write_then_branch, backend="cuda")
    r = np.random.default_rng(272)
    n = 6
    x, y, idx, out = r.standard_normal(n), r.standard_normal(n), r.integers(0, n, n), r.standard_normal(n)
    want = write_then_branch(x, y, idx, out.copy())
    assert "a persistent single-block kernel" in str(jitted.explain(x, y, idx, out.copy()))
    # 12 runs (20 took 5.1 s in e17f737's CI): with 9-19 of 30 runs wrong, all 12 right by chance is under 1%
    for _ in range(12):
        np.testing.assert_allclose(jitted(x, y, idx, out.copy()), want, rtol=1e-12)
