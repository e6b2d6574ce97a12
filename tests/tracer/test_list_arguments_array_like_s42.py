"""NumPy functions that take an array_like accept a list (or tuple) argument
of numbers where plain NumPy does (probe Z, session 42): np.empty_like(lst)
and the other *_like constructors, np.dot / np.matmul / np.stack, np.shape,
np.ndim, np.size and np.interp used to raise "a traced value was passed to
a function that needs a concrete NumPy array" (semantics.array_like)."""
import numpy as np
import pytest

import looptrace

FUNCTIONS = {
    "empty_like": lambda l: np.empty_like(l).shape,
    "zeros_like": lambda l: np.zeros_like(l),
    "ones_like": lambda l: np.ones_like(l),
    "full_like": lambda l: np.full_like(l, 7),
    "full_like_float": lambda l: np.full_like(l, 0.5, dtype=float),
    "nested_like": lambda l: np.zeros_like([l, l]),
    "dot": lambda l: np.dot(l, l),
    "matmul": lambda l: np.matmul(l, l),
    "stack": lambda l: np.stack([l, l]),
    "shape": lambda l: np.shape(l),
    "ndim": lambda l: np.ndim(l),
    "size": lambda l: np.size(l),
    "interp": lambda l: np.interp(2.5, [0, 1, 2, 3], l),
    "sort": lambda l: np.sort(l),
    "cumsum": lambda l: np.cumsum(l),
}
ARGS = {"ints": [1, 9, -3, 4], "floats": [1.5, -2.0, 3.25, 0.5], "tuple": (1, 9, -3, 4)}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("kind", list(ARGS))
def test_list_argument_as_array_like(name, kind):
    fn = FUNCTIONS[name]
    want = fn(ARGS[kind])
    got = looptrace.jit(fn, backend="interpret")(ARGS[kind])
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(got, want)


def doubled(idx):
    out = np.empty_like(idx)
    for i in range(len(idx)):
        out[i] = idx[i] * 2
    return out


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_empty_like_of_a_list_written_in_a_loop(backend):
    for lst in ([1, 9, -3, 4], [0.5, -1.25, 3.0]):
        want, got = doubled(lst), looptrace.jit(doubled, backend=backend)(lst)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
