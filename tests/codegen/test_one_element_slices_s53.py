"""In-place updates through one-element slices, `x[i:i + 1] *= 2.0`, on cpu.

The vectorizer makes them a select whose condition is a (1,) test computed
where it is read; the lazy select (nest.py `_emit_lazy_select`) branched on
the test's name, never assigned, and Numba failed with NameError (an
InternalError to the user) unless an interpret call of the same function had
come first. One kernel holds the variants the probe found (compile cost)."""
import numpy as np

import looptrace


def one_element_updates(x, y, k):
    for i in range(x.shape[0]):
        x[i:i + 1] *= 2.0
    for i in range(1, y.shape[0] + 1):
        y[i - 1:i] = y[i - 1:i] * 3.0 + 1.0
    for i in range(k.shape[0]):
        k[i:i + 1] += 3
    return x.sum() + y.sum()


def test_one_element_slice_updates_match_plain(rng):
    args = (rng.standard_normal(7), rng.standard_normal(5), rng.integers(-9, 9, 6))
    want_args = [a.copy() for a in args]
    want = one_element_updates(*want_args)
    got = looptrace.jit(one_element_updates, backend="cpu")(*args)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    for a, b in zip(args, want_args):
        np.testing.assert_array_equal(a, b)
