"""In-place writes through a view of run-time length that reaches the
operator some other way than a bare name (session 47, helper S).

`x[p[0]:p[1]]` (bounds read from an array) and `x[a:b:2]` of traced bounds
are views of x in NumPy; their in-place operator gave a new selection, which
only the subscripted form `x[a:b] *= 2` (its setitem) and a bare name (a
converter rewrite) wrote back. Held by a list, a dict, an attribute, or a
method's `self.s`, `views[0] *= 2` left x unchanged. Now the selection's
in-place operator writes into x itself (masked.MaskedSelection.inplace), and
the setitem that follows `x[key] op= v` is x[key] = x[key], nothing
(indexing.setitem).

A traced `if` that chose between two views of one array (`s = x[0:2]`, then
`if c: s = x[p[0]:p[1]]`) refused the name ("different Python objects");
the joined name is now x of the selected bounds (masked.joined_views).

Every check runs the plain function beside the interpreter, values and the
argument arrays after the call; one cpu kernel serves several checks.
"""
import types

import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import UnsupportedError
from .test_slice_views_s46 import _run


def _same(f, *args, backend="interpret"):
    want, want_args = _run(f, args, None)
    got, got_args = _run(f, args, backend)
    if isinstance(want, Exception):
        assert isinstance(got, type(want)), (got, want)
        return
    assert not isinstance(got, Exception), got
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0)
        assert np.asarray(g).dtype == np.asarray(w).dtype
    for w, g in zip(want_args, got_args):
        if isinstance(w, np.ndarray):
            np.testing.assert_array_equal(g, w)


# --- 1. held by a container or an attribute -------------------------------------------------------------------------
def listed(x, p):
    views = [x[p[0]:p[1]], x[p[1]:p[2]]]
    views[0] *= 2.0
    views[1] += 1.0
    return x, views[0].sum()  # (the view, read after the write, sees it)


def listed_stepped(x, p):
    views = [x[p[0]:p[2]:2], x[p[1]:p[2]:3]]
    views[0] *= 2.0
    views[1] -= 1.0
    return x


def listed_in_a_loop(x, p):
    views = [x[p[i]:p[i + 1]] for i in range(2)]
    for k in range(2):
        views[k] *= 3.0
    return x


def nested(x, p):
    views = [[x[p[0]:p[1]]]]
    views[0][0] *= 2.0
    return x


def in_a_dict(x, p):
    d = {"a": x[p[0]:p[1]], "b": x[p[0]:p[2]:2]}
    d["a"] *= 2.0
    d["b"] += 1.0
    return x


def in_a_namespace(x, p):
    o = types.SimpleNamespace(s=x[p[0]:p[1]])
    o.t = x[p[1]:p[2]:2]
    o.s *= 2.0
    o.t /= 4.0
    return x


class _Holder:
    def __init__(self, s):
        self.s = s

    def scale(self, by):
        self.s *= by


def in_an_object(x, p):
    h = _Holder(x[p[0]:p[1]])
    h.scale(2.0)
    return x


def over_a_tuple(x, p):
    for v in (x[p[0]:p[1]], x[p[1]:p[2]:2]):
        v *= 2.0
    return x


def rows_and_columns(X, p):
    views = [X[p[0]:p[1]], X[:, p[0]:p[1]], X[1, p[1]:p[2]]]
    views[0] *= 2.0
    views[1] += 1.0
    views[2] -= 5.0
    return X


def integers(x, p):
    views = [x[p[0]:p[1]]]
    views[0] //= 2
    views[0] %= 7
    return x


def under_a_condition(x, p, c):
    views = [x[p[0]:p[1]]]
    if c[0] > 0:
        views[0] *= 2.0
    return x


def subscripted(x, p):  # (unchanged: its setitem stores the view into itself, nothing)
    x[p[0]:p[1]] *= 2.0
    x[p[0]:p[2]:2] += 1.0
    return x


HELD = [listed, listed_stepped, listed_in_a_loop, nested, in_a_dict, in_a_namespace, in_an_object, over_a_tuple,
        subscripted]


@pytest.mark.parametrize("fn", HELD)
def test_held_view_writes_into_the_array(fn, rng):
    x = rng.standard_normal(9)
    for p in ([0, 3, 7], [2, 2, 9], [1, 5, 6]):
        _same(fn, x, np.array(p))


def test_rows_columns_and_integers(rng):
    X = rng.standard_normal((6, 7))
    _same(rows_and_columns, X, np.array([1, 3, 6]))
    _same(integers, rng.integers(-50, 50, 8), np.array([2, 6, 8]))


def test_under_a_condition(rng):
    x = rng.standard_normal(7)
    for c in (1.0, -1.0):
        _same(under_a_condition, x, np.array([1, 4, 6]), np.array([c]))


def casting(x, p):
    views = [x[p[0]:p[1]]]
    views[0] *= 1.5  # an int array: NumPy's UFuncTypeError (a TypeError)
    return x


def test_casting_refused_as_numpy_does(rng):
    _same(casting, rng.integers(0, 9, 6), np.array([1, 4, 6]))


# --- 2. a traced `if` that chose between views of one array -----------------------------------------------------------
def joined_static_and_read(x, p, c):
    s = x[0:2]
    if c[0] > 0:
        s = x[p[0]:p[1]]
    if c[0] > 0:
        s += 1.0
    return x


def joined_both_read(x, p, c):
    s = x[p[1]:p[2]]
    if c[0] > 0:
        s = x[p[0]:p[1]]
    s *= 2.0
    return x, s.sum()


def joined_stepped(x, p, c):
    s = x[p[0]:p[2]:2]
    if c[0] > 0:
        s = x[p[1]:p[2]:2]
    s *= 2.0
    return x


def joined_in_a_loop(x, p, c):
    for i in range(p.shape[0] - 1):
        s = x[p[i]:p[i + 1]]
        if x[i] > c[0]:
            s = x[p[0]:p[1]]
        s *= 2.0
    return x


@pytest.mark.parametrize("fn", [joined_static_and_read, joined_both_read, joined_stepped, joined_in_a_loop])
def test_if_joined_views(fn, rng):
    x = rng.standard_normal(8)
    for c in (1.0, -1.0, 0.0):
        _same(fn, x, np.array([1, 4, 7]), np.array([c]))


def joined_other_arrays(x, y, p, c):
    s = x[p[0]:p[1]]
    if c[0] > 0:
        s = y[p[0]:p[1]]
    s += 1.0
    return x, y


def test_views_of_two_arrays_refused_naming_the_line(rng):
    x, y = rng.standard_normal(6), rng.standard_normal(6)
    with pytest.raises(UnsupportedError, match="one of another array") as e:
        lt.jit(joined_other_arrays, backend="interpret")(x, y, np.array([1, 4, 6]), np.array([1.0]))
    assert "test_view_writes_s47.py" in str(e.value)


# --- 3. windows: another axis, a negative start's length, a negative length ------------------------------------------
def column_window(A, ss):
    w = A[:, ss[0]:ss[0] + 2]
    return w.sum(), w.sum(axis=1), w.mean(axis=-1), (w * 2.0 - 1.0).max(axis=1), np.abs(w).sum(axis=(0, 1))


def column_window_one(A, ss):
    return A[:, ss[0]:ss[0] + 1].sum(), A[:, ss[0] - 1:ss[0]].any(axis=1)


@pytest.mark.parametrize("s", [-7, -3, -2, -1, 0, 3, 4, 5, 9])
def test_reductions_over_a_window_of_another_axis(s, rng):
    # a window of axis 1 read NumPy's shortened (or, from a negative start, empty) slice only on axis 0: x[:, -1:0]
    # raised IndexError, x[:, 4:6] of 5 columns SliceOverrunError (its max over axis 1 of an empty one: ValueError)
    A = rng.standard_normal((3, 5))
    _same(column_window, A, np.array([s]))
    _same(column_window_one, A, np.array([s]))


def window_3d(X, ss):
    return X[:, :, ss[0]:ss[0] + 3].sum(axis=2), X[:, ss[0]:ss[0] + 2].mean(axis=1)


@pytest.mark.parametrize("s", [-4, -1, 1, 2, 4])
def test_window_of_a_middle_or_last_axis(s, rng):
    _same(window_3d, rng.standard_normal((2, 3, 5)), np.array([s]))


def length_at(x, ss):
    return len(x[ss[0]:ss[0] + 1]), x[ss[0]:ss[0] + 2].shape[0]


@pytest.mark.parametrize("s", [-4, -3, 0, 2])
def test_length_from_a_negative_start(s, rng):
    # x[-2:-1] is one element, x[-3:-1] two: their length raised SliceOverrunError ("runs past the end")
    _same(length_at, rng.standard_normal(4), np.array([s]))


@pytest.mark.parametrize("s", [-6, -2, -1, 3, 4])
def test_length_numpy_shortens_refused(s, rng):
    from looptrace.errors import SliceOverrunError  # (x[-2:0], x[-1:0] empty, x[3:5] of 4 shortened)

    assert length_at(rng.standard_normal(4), np.array([s])) != (1, 2)
    with pytest.raises(SliceOverrunError):
        lt.jit(length_at, backend="interpret")(rng.standard_normal(4), np.array([s]))


def backwards(x, ss):
    w = -2
    return x[ss[0]:ss[0] + w].sum(), x[ss[0]:ss[0] + w].shape[0]


@pytest.mark.parametrize("s", [-1, 2, 3, 9])
def test_negative_length_is_empty(s, rng):
    _same(backwards, rng.standard_normal(5), np.array([s]))  # (was ShapeError: "slice of length -2")


def test_negative_length_whose_stop_counts_from_the_end_refused(rng):
    from looptrace.errors import SliceOverrunError

    with pytest.raises(SliceOverrunError, match="counts from the end") as e:
        lt.jit(backwards, backend="interpret")(rng.standard_normal(5), np.array([1]))  # NumPy's x[1:-1]
    assert "test_view_writes_s47.py" in str(e.value)


def column_windows_loss(A, ss):
    acc = 0.0
    for j in range(A.shape[1]):
        acc += (A[:, j - 1:j + 1] ** 2).sum() + A[:, j:j + 2].max(axis=1).sum()
    return acc + A[:, ss[0]:ss[0] + 2].mean()


def test_gradient_through_windows_of_another_axis(rng):
    A, ss = rng.standard_normal((3, 5)), np.array([4])  # (j = 0: A[:, -1:1] empty; ss: A[:, 4:6] shortened)
    g = lt.grad(lt.jit(column_windows_loss, backend="interpret"))(A, ss)
    fd = np.zeros_like(A)
    for idx in np.ndindex(A.shape):
        up, down = A.copy(), A.copy()
        up[idx] += 1e-6
        down[idx] -= 1e-6
        fd[idx] = (column_windows_loss(up, ss) - column_windows_loss(down, ss)) / 2e-6
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-7)


# --- one cpu kernel: a list, a dict, an attribute, the subscripted form, a joined view, a column window ----------------------------
def several(x, p, c, A):
    views = [x[p[0]:p[1]]]
    views[0] *= 2.0
    d = {"t": x[p[1]:p[3]:2]}
    d["t"] += 1.0
    o = types.SimpleNamespace(s=x[p[2]:p[3]])
    o.s -= 0.5
    x[p[0]:p[2]] *= 3.0
    s = x[0:2]
    if c[0] > 0:
        s = x[p[1]:p[2]]
    s += 10.0
    return x, views[0].sum(), A[:, p[4]:p[4] + 2].sum(axis=1)


def test_several_cpu(rng):
    f = lt.jit(several, backend="cpu")
    A = rng.standard_normal((3, 4))
    for p, c in (([0, 3, 5, 9, -1], 1.0), ([2, 2, 7, 8, 3], -1.0), ([1, 6, 6, 9, 1], 2.0)):
        x = rng.standard_normal(9)
        want_x, got_x = x.copy(), x.copy()
        want = several(want_x, np.array(p), np.array([c]), A)
        got = f(got_x, np.array(p), np.array([c]), A)
        for w, g in zip(want, got):
            np.testing.assert_allclose(g, w, rtol=1e-12)
        np.testing.assert_array_equal(got_x, want_x)
