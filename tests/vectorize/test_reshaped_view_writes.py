"""Writes through a reshaped or transposed view are writes into its base.

`v = a.reshape(2, -1); for j in range(v.shape[1]): v[0, j] = v[1, j]` was
traced as one element read and replaced in a reshape of `a`'s current value,
reshaped back: the loop carried the whole array one step at a time (probe G:
21 ms against numba.njit's 0.028 ms at 4e5 elements). Each one-element access
of a reshape or transpose is now the same access of the array at the position
the view maps it to (vectorize/view_writes.py `_elements_through_reshapes`),
so the loop is analysed on `a` and, here, vectorized. Values, argument
effects and IndexErrors against the plain function."""
import numpy as np
import pytest

import looptrace


def halves(a):
    v = a.reshape(2, -1)
    for j in range(v.shape[1]):
        v[0, j] = v[1, j]
    return a


def thirds_mixed(a):
    v = a.reshape(3, -1)
    for j in range(v.shape[1]):
        v[0, j] = v[2, -j - 1] + v[1, j]
        v[1, j] += 1.0
    return a


def flat_recurrence(a):
    v = a.reshape(-1)
    for j in range(1, v.shape[0]):
        v[j] = v[j - 1] * 0.5 + v[j]
    return a


def transposed(a):
    v = a.T
    for j in range(v.shape[0]):
        v[j, 0] = v[j, 1] * 2 + v[j - 1, 0]
    return a


def transposed_3d(a):
    v = a.transpose(2, 0, 1)
    for k in range(v.shape[0]):
        v[k, 1, 0] = v[k, 0, 1] - v[k, 1, 1]
    return a


def reshaped_2d(a):
    v = a.reshape(4, 6)
    s = 0.0
    for i in range(4):
        s += v[i, 5]
        v[i, 0] = s
    return a, s


def out_of_range(a, k):
    v = a.reshape(2, -1)
    for j in range(k):
        v[1, j] = v[0, j] + 1.0
    return a


CASES = [
    (halves, lambda r: (r.standard_normal(40),)),
    (thirds_mixed, lambda r: (r.standard_normal(24),)),
    (flat_recurrence, lambda r: (r.standard_normal((4, 6)),)),
    (transposed, lambda r: (r.standard_normal((2, 9)),)),
    (transposed_3d, lambda r: (r.standard_normal((2, 3, 5)),)),
    (reshaped_2d, lambda r: (r.standard_normal((3, 8)),)),
    (out_of_range, lambda r: (r.standard_normal(10), 5)),
]


def _run(fn, args, backend):
    jf = fn if backend is None else looptrace.jit(fn, backend=backend)
    mine = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    try:
        out = jf(*mine)
    except IndexError as e:
        return ("IndexError", str(e)), mine
    return out, mine


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,make", CASES, ids=[c[0].__name__ for c in CASES])
def test_values_and_effects(fn, make, backend):
    args = make(np.random.default_rng(3))
    want, plain = _run(fn, args, None)
    got, mine = _run(fn, args, backend)
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12)
    for p, m in zip(plain, mine):
        if isinstance(p, np.ndarray):
            np.testing.assert_array_equal(m, p)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_index_error_past_the_view(backend):
    a = np.random.default_rng(4).standard_normal(10)
    with pytest.raises(IndexError):
        out_of_range(a.copy(), 6)
    with pytest.raises(IndexError):
        looptrace.jit(out_of_range, backend=backend)(a.copy(), 6)


def test_halves_vectorized():
    a = np.random.default_rng(5).standard_normal(400)
    jf = looptrace.jit(halves, backend="interpret")
    jf(a.copy())
    assert [loop.kind for loop in looptrace.explain(jf, a.copy()).loops] == ["vectorized"]
