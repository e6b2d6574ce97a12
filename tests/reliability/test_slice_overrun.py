"""A traced slice `x[s:s + k]` that runs past the end of its axis at run
time: NumPy would shorten it, looptrace keeps its static length. The plain
function runs, so this is looptrace's limit: a SliceOverrunError, an
UnsupportedError (so a LooptraceError) naming the user's file and line, and
an IndexError as the same run-time check raises for an index out of range.
An index out of range stays NumPy's IndexError."""
import numpy as np
import pytest

import looptrace
from looptrace import LooptraceError, SliceOverrunError, UnsupportedError


def minibatches(X, batch):
    out = 0.0
    for start in range(0, X.shape[0], batch):
        Xb = X[start:start + batch]
        out += (Xb @ Xb) / Xb.shape[0]
    return out


def windows(x, k):
    acc = 0.0
    for i in range(x.shape[0]):
        y = x[i:i + k] * 2.0
        acc += y[0]
    return acc


def pick(x, idx):
    s = 0.0
    for i in range(idx.shape[0]):
        s += x[idx[i]]
    return s


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,args", [(minibatches, (np.arange(40.0), 16)), (windows, (np.arange(10.0), 3))])
def test_short_last_slices_of_a_counted_loop_run_on_their_own(fn, args, backend):
    """The last iterations whose slices NumPy shortens (up to 4) run as
    straight-line code with static slices (s36: SliceOverrunError before)."""
    assert looptrace.jit(fn, backend=backend)(*args) == fn(*args)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,args", [(minibatches, (np.arange(40.0), 7)), (windows, (np.arange(10.0), 7))])
def test_a_slice_past_the_end_is_looptrace_s_limit(fn, args, backend):
    """A batch of 7 over 40 (the last of 5: run on its own) fits; 6 windows of 7 past the end do not."""
    if fn is minibatches:
        assert looptrace.jit(fn, backend=backend)(*args) == fn(*args)
        return
    fn(*args)  # the plain function runs (NumPy shortens the slice)
    with pytest.raises(SliceOverrunError) as e:
        looptrace.jit(fn, backend=backend)(*args)
    assert isinstance(e.value, UnsupportedError) and isinstance(e.value, LooptraceError)
    assert isinstance(e.value, IndexError)
    assert "test_slice_overrun.py" in str(e.value) and "would shorten" in str(e.value)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_an_index_out_of_range_stays_numpys_index_error(backend, rng):
    x, idx = rng.standard_normal(5), np.array([0, 3, 7])
    with pytest.raises(IndexError):
        pick(x, idx)
    with pytest.raises(IndexError) as e:
        looptrace.jit(pick, backend=backend)(x, idx)
    assert not isinstance(e.value, LooptraceError)
