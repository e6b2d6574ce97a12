"""A read-only argument that the program may write (`if a[i] > 100: a[i] = 0`)
raises NumPy's ValueError only where a write changed it: the plain function
runs the write only where the condition holds, and a read-only array it
never writes is fine (probe G, session 40: every call raised before)."""
import numpy as np
import pytest

import looptrace


def clip_big(a):
    for i in range(a.shape[0]):
        if a[i] > 100:
            a[i] = 0
    return a.sum()


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_write_that_never_runs_is_fine_and_one_that_runs_raises(backend):
    a = np.random.default_rng(41).standard_normal(12)
    a.flags.writeable = False
    jf = looptrace.jit(clip_big, backend=backend)
    for _ in range(2):  # the first call and the direct path
        assert jf(a) == pytest.approx(clip_big(a), rel=1e-12)
    b = a.copy()
    b[3] = 500.0
    b.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        clip_big(b)
    with pytest.raises(ValueError, match="read-only"):
        jf(b)
    assert b[3] == 500.0
