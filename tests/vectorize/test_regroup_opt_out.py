"""LOOPTRACE_NO_REGROUP=1 keeps the source's order of a recurrent sum
(vectorize/loop_rewrite.py `regroup`): `(5 * w + 140) - u` is not computed
as `5 * w + (140 - u)`; with LOOPTRACE_NO_PREFIX_SCAN=1 (a linear
recurrence's steps composed, vectorize/linear_recurrence.py) too, the values
are the plain function's bit for bit (probe W: an Izhikevich network's spike
count changed with the regrouping)."""
import numpy as np

import looptrace as lt


def izhikevich_step(v, u, drive):
    w = v.copy()
    for t in range(drive.shape[0]):
        w = (5 * w + 140) - u + drive[t]
        w = w * 0.2
    return w


def test_no_regroup_keeps_the_plain_order_bit_for_bit(rng, monkeypatch):
    v, u = rng.normal(-60, 5, 1000), rng.normal(-13, 1, 1000)
    drive = rng.normal(10, 3, (12, 1000))
    monkeypatch.setenv("LOOPTRACE_NO_REGROUP", "1")
    monkeypatch.setenv("LOOPTRACE_NO_PREFIX_SCAN", "1")
    got = lt.jit(izhikevich_step, backend="interpret")(v, u, drive)
    np.testing.assert_array_equal(got, izhikevich_step(v, u, drive))
