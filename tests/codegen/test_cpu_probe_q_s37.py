"""Probe Q, cpu: a float32 buffer updated in place at `out[i - 1]` and read
ahead at `out[(i + 1) % n]` is a scan whose one-element select reads a
(1,)-array operand beside a scalar one; Numba could not type the select
(`float32(array)`, "Cannot unify float32 and array": InternalError on cpu,
interpret right). Fixed by e0e309b (nest.py `_emit_lazy_select` reads a
one-element view or constant operand as its element); these are its probe
Q shapes, compared with the plain function on both backends."""
import copy

import numpy as np
import pytest

import looptrace


def scan_f32(x):
    n = x.shape[0]
    s = 0.5
    out = np.ones(n, dtype=np.float32)
    for i in range(n):
        out[i - 1] = 2.0
        out[i - 1] += out[(i + 1) % n] + s
    return out


def scan_f32_from_input(x):
    n = x.shape[0]
    s = x[0]
    out = np.ones(n, dtype=np.float32)
    for i in range(n):
        out[i - 1] = x[i]
        out[i - 1] *= out[(i + 2) % n] + s
    return out


def scan_f64(x):
    n = x.shape[0]
    s = np.float32(0.5)
    out = np.ones(n)
    for i in range(n):
        out[i - 1] = 2.0
        out[i - 1] += out[(i + 1) % n] + s
    return out


def _same(fn, *args):
    want = fn(*copy.deepcopy(args))
    for backend in ("interpret", "cpu"):
        got = looptrace.jit(fn, backend=backend)(*copy.deepcopy(args))
        assert type(got) is type(want) and got.dtype == want.dtype, backend
        np.testing.assert_allclose(got, want, rtol=1e-6, err_msg=backend)


@pytest.mark.parametrize("fn", [scan_f32, scan_f32_from_input, scan_f64])
@pytest.mark.parametrize("n", [1, 3, 8])
def test_one_element_select_of_a_scan(fn, n, rng):
    _same(fn, rng.uniform(0.5, 1.5, n))
