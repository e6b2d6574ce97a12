"""Two `for v in z` loops reusing the loop variable: the first loop's last v
enters the second, so the gradient program carries its cotangent through a
scan whose carry becomes the constant 0.0 after one step. linear_scans
sliced that constant for the scan's history (`0.0[0:8]`: an InternalError on
cpu, an IndexError from the interpreter, from 8 elements on; session-35
probe K's log-sum-exp and softmax loops)."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.autodiff.check import assert_close, numerical_grad


def two_passes(z):
    s = 0.0
    for v in z:
        s += v
    t = 0.0
    for v in z:
        t += v * v
    return s + t


def log_sum_exp(z):
    m = -np.inf
    for v in z:
        m = max(m, v)
    s = 0.0
    for v in z:
        s += np.exp(v - m)
    return m + np.log(s)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [two_passes, log_sum_exp])
def test_reused_loop_variable(fn, backend):
    for n in (7, 8, 13):
        z = np.random.default_rng(n).standard_normal(n)
        g = lt.grad(lt.jit(fn, backend=backend))(z)
        assert_close(g, numerical_grad(fn, [z], 0), 1e-6, f"{fn.__name__} n={n}")
