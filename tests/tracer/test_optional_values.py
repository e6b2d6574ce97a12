"""A name that is None on one side of a traced `if` and a number or array
on the other (values.MaybeNone): a value and a traced flag, whether it is
not None. It is carried through loops (carries.OptionalSpec), merged again,
tested with `is None` / `is not None` (a traced test of the flag), returned
(None at run time where the flag does not hold), and read behind a run-time
check that raises Python's TypeError where it is None."""
import numpy as np
import pytest

import looptrace as lt
from looptrace.errors import UnsupportedError

from ._compare import assert_same, check, grad_check


# --- the idioms ------------------------------------------------------------------------------
def find_first(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] > t:
            found = i
            break
    return found


def running_best(x):
    best = None
    for v in x:
        if best is None or v > best:
            best = v
    return best


def first_above(x, t):
    idx = None
    for i in range(len(x)):
        if idx is None and x[i] > t:
            idx = i
    if idx is None:
        return -1
    return idx * 2


def last_above_value(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] <= t:
            continue
        found = x[i]
    return found


def best_in_while(x, stop):
    best = None
    i = 0
    while i < x.shape[0] and x[i] < stop:
        if best is None or x[i] > best:
            best = x[i]
        i += 1
    return best


def best_row(A, t):
    row = None
    for i in range(A.shape[0]):
        if A[i].sum() > t:
            row = A[i] * 2.0
    return row


def found_and_total(x, t):
    found = None
    total = 0.0
    for i in range(x.shape[0]):
        total += x[i]
        if found is None and x[i] > t:
            found = i
    return found, total


def chosen_by_ifexp(x, t):
    out = 0.0
    for i in range(x.shape[0]):
        v = x[i] if x[i] > t else None
        if v is not None:
            out += v
    return out


def merged_twice(x, t):
    a = None
    if x[0] > t:
        a = x[0]
    if x[1] > t:
        a = x[1]
    b = a
    return b


def is_not_none_test(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] > t:
            found = i
    if found is not None:
        return float(found) + 0.5
    return -1.0


def reset_to_none(x, t):
    last = x[0]
    for i in range(1, x.shape[0]):
        if x[i] > t:
            last = None
        elif last is None:
            last = x[i]
    return last


def nested_loops(A, t):
    hits = 0
    for i in range(A.shape[0]):
        col = None
        for j in range(A.shape[1]):
            if col is None and A[i, j] > t:
                col = j
        if col is not None:
            hits += col
    return hits


# thresholds: some where the value path is taken, some where the None path is
THRESHOLDS = (-0.5, 0.8, 9.0)


@pytest.mark.parametrize("fn", [find_first, first_above, last_above_value, found_and_total, chosen_by_ifexp,
                                merged_twice, is_not_none_test, reset_to_none])
@pytest.mark.parametrize("t", THRESHOLDS)
def test_interpret(fn, t):
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal(12)
        check(fn, x, t)


def test_both_paths_are_taken():
    x = np.random.default_rng(0).standard_normal(12)
    assert find_first(x, 9.0) is None and find_first(x, -0.5) is not None
    assert merged_twice(np.array([2.0, 0.0]), 1.0) is not None and merged_twice(x, 9.0) is None
    assert reset_to_none(np.array([0.0, 2.0]), 1.0) is None


@pytest.mark.parametrize("stop", [-9.0, 0.5, 9.0])
def test_while_loop(stop):
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal(15)
        check(best_in_while, x, stop)


@pytest.mark.parametrize("t", [-9.0, 0.5, 9.0])
def test_arrays(t):
    A = np.random.default_rng(4).standard_normal((6, 4))
    check(best_row, A, t)
    check(nested_loops, A, t)


def test_running_best_and_empty():
    x = np.random.default_rng(1).standard_normal(20)
    check(running_best, x)
    check(best_in_while, np.empty(0), 1.0)
    check(find_first, np.empty(0), 1.0)


@pytest.mark.parametrize("fn", [find_first, first_above, best_in_while, found_and_total, best_row])
def test_cpu(fn):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3) if fn is best_row else 16)
    jf = lt.jit(fn, backend="cpu")
    for t in (-0.5, 0.9, 9.0):
        with np.errstate(all="ignore"):
            assert_same(jf(x.copy(), t), fn(x.copy(), t))


# --- short circuits ----------------------------------------------------------------------------
def guarded_index(x, t):
    k = None
    out = 0.0
    for i in range(x.shape[0]):
        if k is not None and x[k] > t:  # x[k] only where k is set
            out += x[k]
        if x[i] > 0:
            k = i
    return out


def guarded_or(x, t):
    m = None
    n = 0
    for i in range(x.shape[0]):
        if m is None or m + t < x[i]:  # m + t only where m is set
            m = x[i]
            n += 1
    return n


@pytest.mark.parametrize("t", [-1.0, 0.3, 2.0])
def test_short_circuit_never_uses_none(t):
    for seed in range(3):
        x = np.random.default_rng(seed).standard_normal(14)
        check(guarded_index, x, t)
        check(guarded_or, x, t)
    check(guarded_or, x, t, backend="cpu")


# --- using a value that is None: TypeError at run time ------------------------------------------
def adds_after_loop(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] > t:
            found = i
    return found + 1


def indexes_it(x, t):
    row = None
    for i in range(x.shape[0]):
        if x[i] > t:
            row = np.full(2, x[i])
    return row[0]


@pytest.mark.parametrize("backend", ["interpret", "cpu"])
@pytest.mark.parametrize("fn", [adds_after_loop, indexes_it])
def test_type_error_where_none(fn, backend):
    x = np.random.default_rng(2).standard_normal(10)
    jf = lt.jit(fn, backend=backend)
    assert_same(jf(x.copy(), -9.0), fn(x.copy(), -9.0))  # set: no error
    with pytest.raises(TypeError):
        fn(x.copy(), 9.0)
    with pytest.raises(TypeError, match="None") as e:
        jf(x.copy(), 9.0)
    assert "test_optional_values.py" in "".join(map(str, [e.value, *getattr(e.value, "__notes__", [])])) or \
        e.traceback[-1].path.name == "test_optional_values.py"


# --- what stays refused ------------------------------------------------------------------------
def none_or_list(x, t):
    out = None
    if x[0] > t:
        out = [1.0, 2.0]
    return out


def helper_maybe_none(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] > t:
            found = i
    return found


def calls_helper(x, t):
    k = helper_maybe_none(x, t)
    return 0 if k is None else k


def index_with_it(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] > t:
            found = i
    return x[found]


@pytest.mark.parametrize("fn, match", [
    (none_or_list, "`out` is set to different Python objects"),
    (calls_helper, "returns None on some paths"),
    (index_with_it, "indexing with None adds an axis"),
])
def test_refused_with_the_line(fn, match):
    x = np.random.default_rng(0).standard_normal(6)
    with pytest.raises(UnsupportedError, match=match) as e:
        lt.jit(fn, backend="interpret")(x, 0.0)
    assert "test_optional_values.py" in str(e.value)


# --- gradients ---------------------------------------------------------------------------------
def soft_best(x, w):
    best = None
    for i in range(x.shape[0]):
        v = np.tanh(w * x[i])
        if best is None or v > best:
            best = v
    return best * 3.0


def first_big(x, w):
    found = None
    for i in range(x.shape[0]):
        if found is None and x[i] * w > 0.5:
            found = x[i] * w
    if found is None:
        return w * 0.0
    return found * found


def test_grad():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(9)
    grad_check(soft_best, (x, 0.7), (1,))
    grad_check(first_big, (x, 1.3), (1,))
    grad_check(first_big, (x, 0.01), (1,))  # the None path: zero gradient


def update(best, v):
    return v if best is None or v > best else best


def passes_to_helper(x, t):
    best = None
    for i in range(x.shape[0]):
        if x[i] > t:
            best = x[i]
    return update(best, 0.0)


def numpy_of_it(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] > t:
            found = x[i]
    return np.sin(found) + abs(found)


def test_passed_to_functions():
    x = np.random.default_rng(6).standard_normal(8)
    with pytest.raises(UnsupportedError, match="passed to update()") as e:
        lt.jit(passes_to_helper, backend="interpret")(x, 0.0)
    assert "test_optional_values.py" in str(e.value)
    check(numpy_of_it, x, -9.0)
    with pytest.raises(TypeError):
        numpy_of_it(x, 9.0)
    with pytest.raises(TypeError):
        lt.jit(numpy_of_it, backend="interpret")(x, 9.0)


def truth_of_it(x, t):
    found = None
    n = 0
    for i in range(x.shape[0]):
        if x[i] > t:
            found = x[i] - x[0]  # 0.0 where i == 0: false too
        if found:
            n += 1
        if not found:
            n += 10
    return n


def test_truth_value():
    for seed in range(4):
        x = np.random.default_rng(seed).standard_normal(9)
        for t in (-9.0, 0.0, x[0] - 1e-9, 9.0):
            check(truth_of_it, x, t)


def or_of_it(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] > t:
            found = x[i]
    return found or 1.0


def test_and_or_refused():
    with pytest.raises(UnsupportedError, match="`and`/`or` of a value that may be None"):
        lt.jit(or_of_it, backend="interpret")(np.random.default_rng(0).standard_normal(5), 0.0)


def returns_it_early(x, t):
    found = None
    for i in range(x.shape[0]):
        if x[i] > t:
            found = i
    if x[0] > 0:
        return found
    for i in range(x.shape[0]):
        if x[i] < -t:
            return found
    return 0


def best_float32(x, t):
    best = None
    for i in range(x.shape[0]):
        if x[i] > t and (best is None or x[i] > best):
            best = x[i]
    return best


@pytest.mark.parametrize("t", [-0.3, 0.5, 9.0])
def test_early_returns_and_float32(t):
    for seed in range(4):
        x = np.random.default_rng(seed).standard_normal(10)
        check(returns_it_early, x, t)
        check(best_float32, x.astype(np.float32), t)
