"""A dynamic start checked inside one branch of an `if`/`else` is not read
after the branches (codegen/cpu/emitter.py `_in_scope`): `out[i] = out[i - 1]
* 0.5 + x[i] if i > 0 else x[i]` in a loop with a `break` stored at the
start the else branch had checked, which the then branch never set (cpu
only: out[0] took out[1]'s value). Found by an ad-hoc generated-program
fuzz on the cpu backend (4 of 120 programs, all this)."""
import numpy as np
import pytest

import looptrace


def shifted_update(x, out):
    for i in range(1, x.shape[0]):
        out[i] = out[i - 1] * 0.5 + x[i] if i > 0 else x[i]
        if x[i] > 1.5:
            break
    return out


def backwards_with_return(x, y, idx, out):
    n = x.shape[0]
    m = -1e300
    for i in range(n - 1, -1, -1):
        out[i] = out[i - 1] * 0.5 + 0.0 * x[i] if i > 0 else 0.0 * x[i]
        m = max(m, x[i] * x[idx[i]])
        if min(y[n - 1 - i], float(i)) > 2.5:
            return out, m
    return out, m


@pytest.mark.parametrize("stop_at", [1, 3, None])
def test_a_branchs_checked_start_stays_in_its_branch(stop_at, rng):
    x = rng.uniform(-1.0, 1.0, 11)
    if stop_at is not None:
        x[stop_at] = 2.0
    out = rng.standard_normal(11)
    want_out = out.copy()
    want = shifted_update(x, want_out)
    got = looptrace.jit(shifted_update, backend="cpu")(x, out)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(out, want_out, rtol=1e-12)


def test_with_a_return_in_the_loop(rng):
    n = 6
    x, y, idx, out = rng.standard_normal(n), rng.standard_normal(n) * 2, rng.integers(0, n, n), rng.standard_normal(n)
    want = backwards_with_return(x, y, idx, out.copy())
    got = looptrace.jit(backwards_with_return, backend="cpu")(x, y, idx, out.copy())
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    assert got[1] == pytest.approx(want[1], rel=1e-12)
