"""max()/min() with key= over a range or an array longer than looptrace
unrolls (pybuiltins.KEY_FOLD_LIMIT): a loop traced once, the first item
whose key is the extreme, as Python's. It raised 'a traced value is used as
a Python bool' past 256 items (probe O: `max(range(n), key=lambda i: x[i])`)."""
import numpy as np
import pytest

import looptrace


def best_positions(x):
    return max(range(x.shape[0]), key=lambda i: x[i]), min(range(1, x.shape[0], 2), key=lambda i: abs(x[i] - 0.5))


def closest_value(x):
    return max(x, key=lambda v: -abs(v))


# on cpu at n = 300 only (the other lengths compile their own kernels: 8 s of CPU in session 48)
@pytest.mark.parametrize("backend, n", [("interpret", 7), ("interpret", 300), ("interpret", 1000), ("cpu", 300)])
def test_key_extremes(backend, n, rng):
    x = rng.standard_normal(n)
    x[n // 3] = x.max()  # a tie: the first one is Python's
    for fn in (best_positions, closest_value):
        want, got = fn(x), looptrace.jit(fn, backend=backend)(x)
        assert got == want
        assert [type(v) for v in np.atleast_1d(got)] == [type(v) for v in np.atleast_1d(want)] or \
            type(got) is type(want)


def test_an_empty_range_gives_the_default():
    def empty(x):
        return max(range(x.shape[0] - 300), key=lambda i: x[i], default=-1)

    assert looptrace.jit(empty, backend="interpret")(np.ones(300)) == -1
