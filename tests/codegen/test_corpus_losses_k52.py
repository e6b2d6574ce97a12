"""Corpus losses against numba.njit of the same function (session s52, helper K).

u8_loop_clip: `v = int(img[i, j] * gain); if v > 255: v = 255; out[i, j] = v`
into a uint8 array. The int64 v was stored (an 8 MB array at 1000 x 1000) only
so that the check of the store (NumPy's OverflowError for v < 0) could read it
after the nest: now the nest that computes v counts the elements that fail
(planning/fusion.py `_checks_in_nests`, cpu/nest.py `_check_counter`) and the
check searches for the first one only when that count is not 0.

bit_tricks: a parallel map whose body holds a while loop (a popcount) and
cannot raise calls its body function as it is: the catching wrapper's try
kept LLVM from inlining the body (cpu/regions.py `_guard_map`).

Checked against the plain function on interpret and cpu (one cpu kernel for
all the cases): values, dtypes, arguments left as they were, and the errors
(class, message, the user's line) for negative, NaN and infinite gains.
"""
import copy
import traceback

import numpy as np
import pytest

import looptrace

BACKENDS = ["interpret", "cpu"]


def _clip_and_count(img, gain, v, w):
    out = np.empty_like(img)
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            t = int(img[i, j] * gain)
            if t > 255:
                t = 255
            out[i, j] = t
    pop = np.zeros(v.shape[0], dtype=np.int64)
    for i in range(v.shape[0]):
        x = int(v[i])
        c = 0
        while x:  # (by shifts: x &= x - 1 is no loop to LLVM, and not threaded since 0e34682)
            c += x & 1
            x >>= 1
        pop[i] = c
    small = np.empty(w.shape, np.int8)
    total = 0
    for k in range(w.shape[0]):
        s = int(w[k]) - 100
        total += s  # (the value the check reads is read by a sum too: stored, checked as before)
        small[k] = s
    return out, pop, total, small


def _outcome(fn, *args):
    args = copy.deepcopy(args)
    try:
        return "ok", fn(*args), args
    except Exception as e:  # noqa: BLE001 (compared with the plain function's)
        notes = getattr(e, "__notes__", None)  # looptrace's: the user's line, quoted last
        line = notes[-1].splitlines()[-1].strip() if notes else traceback.extract_tb(e.__traceback__)[-1].line
        return type(e), str(e).splitlines()[0], line


def _assert_same(fn, jitted, *args):
    want, got = _outcome(fn, *args), _outcome(jitted, *args)
    assert got[0] == want[0], (got, want)
    if want[0] == "ok":
        for g, w in zip([*got[1], *got[2]], [*want[1], *want[2]]):
            np.testing.assert_array_equal(g, w)
            assert np.asarray(g).dtype == np.asarray(w).dtype or np.ndim(w) == 0
        return
    assert got[2] == want[2], (got, want)
    if "out of bounds for" in want[1]:  # (looptrace's message leaves the value out, interpret's as cpu's)
        assert got[1].endswith(want[1].split(" out of bounds ")[1]), (got, want)
    else:
        assert got[1] == want[1], (got, want)


@pytest.mark.parametrize("backend", BACKENDS)
def test_clip_and_popcount_against_plain(backend):
    rng = np.random.default_rng(52)
    img = rng.integers(0, 256, (40, 33)).astype(np.uint8)
    v = rng.integers(0, 2**20, 100_000 if backend == "cpu" else 300)  # (the cpu's: enough for a prange)
    v[:3] = [0, 2**62 + 5, 2**63 - 1]
    w = rng.integers(0, 200, 50).astype(np.int16)
    jitted = looptrace.jit(_clip_and_count, backend=backend)
    for gain in (1.37, 0.5, -0.5, 0.0, float("nan"), float("inf"), -float("inf")):
        _assert_same(_clip_and_count, jitted, img, gain, v, w)
    bad = img.copy()
    bad[:] = 0
    bad[17, 5] = 9  # the one negative product: the first failure's row-major place
    _assert_same(_clip_and_count, jitted, bad, -1.0, v, w)
    _assert_same(_clip_and_count, jitted, img, 1.37, v, np.full(50, 250, np.int16))  # 150: past int8
    if backend == "cpu":
        src = looptrace.explain(jitted, img, 1.37, v, w).kernel_source
        assert "(40, 33, ), np.int64)" not in src  # no int64 image stored for the check
        assert "nfail" in src  # the check's failures counted in the image's nest
        assert "_caught(" not in src and "fails" not in src  # the popcount body cannot raise
        assert "kernel_body0(" in src
