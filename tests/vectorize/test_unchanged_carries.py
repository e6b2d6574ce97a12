"""A name the loop may rebind but never does at run time of the trace (`cnt
+= 1` under a Python-level `if` that is False) is a carry the body yields
unchanged ("pass"), which the rewrite drops: its reads inside the scan that
stays (`if cnt > 0:`) read its initial value (vectorize/loop_rewrite.py
`Rewriter._scan`). They read the dropped argument, undefined: KeyError on
interpret, NameError from Numba on cpu. Found by a generated-program fuzz."""
import numpy as np
import pytest

import looptrace
from looptrace.ir.verify import verify


def counted_branch(x, y, idx, out):
    n = x.shape[0]
    acc = 0.0
    cnt = 0
    for i in range(1, n):
        if cnt > 0:
            out[idx[i]] += y[i]
        else:
            if acc > 0.3:  # a Python float: never true, so `cnt` never changes
                cnt += 1
    return out, acc, cnt


def unchanged_scale(x, out):
    scale = 2.0
    for i in range(1, x.shape[0]):
        if scale > 1.0:
            out[i] = out[i - 1] * 0.5 + x[i] * scale
        if scale < 0.0:
            scale = -scale
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_unchanged_carry_read_in_the_scan(backend, rng):
    n = 6
    args = [rng.standard_normal(n), rng.standard_normal(n), rng.integers(0, n, n), rng.standard_normal(n)]
    want = counted_branch(*[a.copy() for a in args])
    jitted = looptrace.jit(counted_branch, backend=backend)
    got = jitted(*[a.copy() for a in args])
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    assert got[1:] == want[1:]
    x, out = rng.standard_normal(7), rng.standard_normal(7)
    np.testing.assert_allclose(looptrace.jit(unchanged_scale, backend=backend)(x, out.copy()),
                               unchanged_scale(x, out.copy()), rtol=1e-12)
    for compiled in jitted._cache.values():
        verify(compiled.program)
