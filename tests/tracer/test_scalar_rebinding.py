"""`acc += v` on a NumPy scalar (x[i], x.sum(), any ufunc's 0-d result)
rebinds `acc`, as in Python: another name for the old value keeps it. On a
0-d *array* (a 0-d argument, np.zeros(()), np.array(v)) it writes into the
array, as NumPy does (tracer/array.py `array0d`). A traced `if` whose one
branch writes such an array in place and whose other binds the name anew
merges the value each branch left (tracer/control.py `_as_written`).

Found by an ad-hoc generated-program fuzz: `if c: acc += v else: acc = ...`
in a loop returned the value from before the `if` (0.0 for 3.58)."""
import math

import numpy as np
import pytest

import looptrace


def branch_accumulate(x, y):
    acc = 0.0
    for i in range(1, x.shape[0]):
        if x[i] > 0:
            acc += abs(y[i])
        else:
            acc = 0.5 * acc + math.sin(x[i])
    return acc


def branch_accumulate_on_index(x, y):
    acc = 0.0
    for i in range(1, x.shape[0]):
        if i > 2:
            acc += abs(y[i])
        else:
            acc = 0.5 * acc + np.sin(x[i])
    return acc


def old_value_kept(x):
    acc = x[0] * 2.0
    before = acc
    acc += 1.0
    return before, acc


def deltas(x):
    total = x.sum()
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        old = total
        total += x[i] * x[i]
        out[i] = total - old
    return out, total


def float32_sum_promotes(x):
    acc = x[0]  # a float32 NumPy scalar
    acc += 1e-10 * np.float64(3.0)  # a float64 scalar: `acc` becomes float64, as NumPy's rebinding does
    return acc


def array0d_aliases(x):
    s = np.zeros(())
    alias = s
    for i in range(x.shape[0]):
        s += x[i]
    return alias * 1.0, s * 1.0


def array0d_in_one_branch(x):
    s = np.zeros(())
    if x[0] > 0:
        s += x[0]
    else:
        s = s * 0.5 + x[2]
    return s * 1.0


def array0d_argument_in_one_branch(x, s):
    if x[0] > 0:
        s += x[0]
    else:
        s = s * 0.5 + x[2]
    return s * 1.0


def array_in_one_branch(x):
    a = x.copy()
    if x[0] > 0:
        a += 1.0
    else:
        a = a * 2.0
    return a


def array0d_argument(s, x):
    for i in range(x.shape[0]):
        s += x[i]
    return x.sum()


PROGRAMS = [
    (branch_accumulate, lambda r: (r.standard_normal(9), r.standard_normal(9))),
    (branch_accumulate_on_index, lambda r: (r.standard_normal(9), r.standard_normal(9))),
    (old_value_kept, lambda r: (r.standard_normal(4),)),
    (deltas, lambda r: (r.standard_normal(7),)),
    (float32_sum_promotes, lambda r: (r.standard_normal(3).astype(np.float32),)),
    (array0d_aliases, lambda r: (r.standard_normal(6),)),
    (array0d_in_one_branch, lambda r: (r.standard_normal(8),)),
    (array0d_in_one_branch, lambda r: (-np.abs(r.standard_normal(8)),)),
    (array0d_argument, lambda r: (np.array(r.standard_normal()), r.standard_normal(5))),
    (array_in_one_branch, lambda r: (np.abs(r.standard_normal(4)),)),
    (array_in_one_branch, lambda r: (-np.abs(r.standard_normal(4)),)),
    (array0d_argument_in_one_branch, lambda r: (np.abs(r.standard_normal(4)), np.array(r.standard_normal()))),
    (array0d_argument_in_one_branch, lambda r: (-np.abs(r.standard_normal(4)), np.array(r.standard_normal()))),
]


def _same(got, want):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
        return
    assert np.asarray(got).dtype == np.asarray(want).dtype, (got, want)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12)


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,make", PROGRAMS, ids=[f"{p[0].__name__}-{k}" for k, p in enumerate(PROGRAMS)])
def test_like_the_plain_function(backend, fn, make, rng):
    args = make(rng)
    plain = [a.copy() for a in args]
    jitted = [a.copy() for a in args]
    _same(looptrace.jit(fn, backend=backend)(*jitted), fn(*plain))
    for g, w in zip(jitted, plain):  # a 0-d argument written in place: the caller sees it
        np.testing.assert_allclose(g, w, rtol=1e-12)


def written_and_rebound_0d(x):
    s = np.zeros(())
    for i in range(x.shape[0]):
        if x[i] > 0:
            s += x[i]
        else:
            s = s * 0.5
    return s * 1.0


def written_and_rebound_0d_kept(x):
    s = np.zeros(())
    first = s
    for i in range(x.shape[0]):
        if x[i] > 0:
            s += x[i]
        else:
            s = s * 0.5
    return s * 1.0, first * 1.0


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_a_0d_array_written_and_rebound_in_a_loop(backend, rng):
    """Nothing but `s` holds the array it entered the loop with (no variable
    of the function outside the loop reads anything): it is carried as a
    value. Before, this was refused as if another name might hold it."""
    for _ in range(3):
        x = rng.standard_normal(7)
        _same(looptrace.jit(written_and_rebound_0d, backend=backend)(x), written_and_rebound_0d(x))


def test_a_0d_array_written_and_rebound_in_a_loop_while_another_name_holds_it_is_a_clear_error(rng):
    with pytest.raises(looptrace.UnsupportedError, match="rebound inside this loop and the array it refers to is written in place"):
        looptrace.jit(written_and_rebound_0d_kept, backend="interpret")(rng.standard_normal(5))


def fill_0d(out, x):
    out[...] = x.sum()
    return out * 2.0


def set_0d_then_add(out, x):
    out[()] = x[0]
    for i in range(x.shape[0]):
        out += x[i]
    return out + 0.0


def fill_0d_int(out, x):
    out[...] = x.sum()  # cast to the array's dtype, as NumPy's setitem does
    return out + 0


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn,dtype", [(fill_0d, np.float64), (set_0d_then_add, np.float64), (fill_0d_int, np.int64)],
                         ids=["fill", "set_then_add", "fill_int"])
def test_writing_a_whole_0d_array_argument(backend, fn, dtype, rng):
    """`out[...] = v` and `out[()] = v` of a 0-d array argument: the caller's
    array holds v (cast to its dtype). On cpu this failed to compile (an
    update of a 0-d array the kernel takes as a scalar)."""
    x = rng.standard_normal(6) * 10
    start = rng.standard_normal(()) * 5
    out_plain, out_jit = np.array(start, dtype=dtype), np.array(start, dtype=dtype)
    want = fn(out_plain, x)
    got = looptrace.jit(fn, backend=backend)(out_jit, x)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(out_jit, out_plain)
