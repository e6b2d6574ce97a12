"""Arrays the function makes from Python values and writes inside traced
loops or branches (tracer/own_arrays.py), and lists of arrays grown in a
loop whose elements are written in place (plain Python's list holds the
arrays themselves): each against the plain function, found by a probe of
indexing and loop nests (session 33), where looptrace answered wrong with no
error."""
import numpy as np
import pytest

import looptrace as lt

BACKENDS = ["interpret", "cpu"]


def counts_by_sign(x):
    counts = np.array([0, 0])
    for v in x:
        if v > 0:
            counts[0] += 1
        else:
            counts[1] += 1
    return counts


def whole_array_increments(x):
    a = np.array([0.0, 0.0, 0.0])
    for t in range(3):
        a += x[t]
    return a


def moving_gather(x):
    idx = np.array([0, 1, 2])
    s = 0.0
    for t in range(3):
        s += x[idx].sum()
        idx += 1
    return s


def while_counter(x):
    a = np.array([0.0, 0.0])
    i = 0
    while i < 4:
        a[0] += x[i]
        i += 1
    return a


def traced_value_stored(x):
    a = np.array([0.0, 0.0, 0.0])
    for t in range(5):
        a[t % 3] = x[t]
    return a


def in_a_branch(x):
    a = np.array([1.0, 2.0])
    if x[0] > 0:
        a[1] = 7.0
    return a * x[1]


def a_static_kernel(x):
    """Written at the top of the function: it stays a constant (np.convolve
    needs a static kernel)."""
    k = np.array([1.0, 2.0, 1.0]) / 4
    k[1] = 0.75
    return np.convolve(x, k, mode="same")


def copied_then_written(x):
    base = np.array([1.0, 2.0, 3.0])
    c = np.copy(base)
    for t in range(3):
        c[t] *= x[t]
    return c, base


CASES = [counts_by_sign, whole_array_increments, moving_gather, while_counter, traced_value_stored, in_a_branch,
         a_static_kernel, copied_then_written]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fn", CASES, ids=lambda f: f.__name__)
def test_made_arrays_written_under_traced_control(fn, backend, rng):
    for x in (rng.standard_normal(10), -rng.random(10)):
        want, got = fn(x), lt.jit(fn, backend=backend)(x)
        want, got = (want, got) if isinstance(want, tuple) else ((want,), (got,))
        for g, w in zip(got, want, strict=True):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-12)


def appends_the_running_array(x):
    acc = np.zeros(2)
    hist = []
    for i in range(4):
        acc += x[i]
        hist.append(acc)
    return np.array(hist)


def writes_after_appending(x):
    v = np.zeros(2)
    hist = []
    for i in range(3):
        hist.append(v)
        v[0] = x[i]
    return np.array(hist)


def writes_the_elements_after(x):
    out = []
    for i in range(3):
        out.append(np.full(2, x[i]))
    for o in out:
        o += 1.0
    return np.array(out)


def writes_one_element_after(x):
    out = []
    for i in range(3):
        out.append(np.full(2, x[i]))
    o = out[1]
    o *= 3
    return out[1]


def augments_an_element(x):
    out = []
    for i in range(3):
        out.append(np.full(2, x[i]))
    out[0] += 1.0
    return np.array(out)


@pytest.mark.parametrize("fn", [appends_the_running_array, writes_after_appending, writes_the_elements_after,
                                writes_one_element_after, augments_an_element], ids=lambda f: f.__name__)
def test_list_elements_written_in_place_are_refused(fn):
    """Plain Python's list holds the arrays: a write shows in it (every entry
    of `hist` is the final `acc`). looptrace stacks the values appended:
    such a program is refused, never answered with the stack's values."""
    with pytest.raises(lt.UnsupportedError, match="in place"):
        lt.jit(fn, backend="interpret")(np.random.default_rng(0).standard_normal(6))


def appends_copies(x):
    acc = np.zeros(2)
    hist = []
    for i in range(4):
        acc += x[i]
        hist.append(acc.copy())
    return np.array(hist)


def appends_new_arrays(x):
    acc = np.zeros(2)
    hist = []
    for i in range(4):
        acc = acc + x[i]
        hist.append(acc)
    return np.array(hist)


@pytest.mark.parametrize("fn", [appends_copies, appends_new_arrays])
def test_lists_of_values_still_work(fn):
    x = np.random.default_rng(1).standard_normal(6)
    np.testing.assert_allclose(lt.jit(fn, backend="interpret")(x), fn(x))
