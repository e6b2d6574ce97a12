"""Static slices on the CPU target are read through their base, and slice
writes go to the target itself (planning/fusion.py `_skip_read_through_slices`,
cpu/nest.py, cpu/emitter.py `store`): a slice read only by loop nests is never
made, and `z[1:-1, 2:] = ...` writes z at shifted indices instead of through a
view. Each 2-d view cost Numba about 17 ms of compile time (harris_response:
35 views, 0.6 s). Values and the effects on arguments follow the plain
function, also when the base changes after the slice was taken."""
import re

import numpy as np
import pytest

import looptrace
from bench.corpus.stencils import harris_response

VIEW = re.compile(r"^\s*\w+ = \w+\[[^\]]*:[^\]]*\]\s*$", re.M)  # `a = b[1:3, ...]`


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def reversed_and_strided(x):
    return x[::-1] * 2.0 + x, x[::2, 1::3] - 1.0, x[5:1:-2, ::-1].sum()


def leading_axis_only(x):
    return (x[1:] - x[:-1]) * x[1:], x[2:].sum(axis=0)


def shifted_write(x, z):
    z[1:-1, 2:] = x[2:, :-2] + x[:-2, 2:]  # the argument is written at shifted indices
    out = np.zeros_like(x)
    out[::2, 1:] = x[::2, :-1] * 3.0
    return out


def base_written_after(x):
    y = x * 1.0
    a = y[1:]  # taken before the write below: must keep the old values
    y[:2] = -1.0
    return a * 2.0 + y[1:].sum(), y


def in_a_loop(x):
    acc = np.zeros(x.shape[1] - 1)
    for t in range(x.shape[0]):
        acc = acc + x[t, 1:] * x[t, :-1]
    return acc


CASES = [
    (reversed_and_strided, lambda r: (r.standard_normal((9, 7)),)),
    (leading_axis_only, lambda r: (r.standard_normal((6, 4)),)),
    (shifted_write, lambda r: (r.standard_normal((8, 6)), r.standard_normal((8, 6)))),
    (base_written_after, lambda r: (r.standard_normal((5, 3)),)),
    (in_a_loop, lambda r: (r.standard_normal((7, 5)),)),
]


@pytest.mark.parametrize("fn, make", CASES, ids=[c[0].__name__ for c in CASES])
def test_matches_the_plain_function(fn, make):
    rng = np.random.default_rng(3)
    args = make(rng)
    plain_args = [a.copy() for a in args]
    jit_args = [a.copy() for a in args]
    expected = fn(*plain_args)
    got = looptrace.jit(fn, backend="cpu")(*jit_args)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-12)
    for p, j in zip(plain_args, jit_args, strict=True):
        np.testing.assert_array_equal(j, p)


def test_harris_makes_no_views():
    img = np.random.default_rng(0).standard_normal((40, 30))
    f = looptrace.jit(harris_response, backend="cpu")
    np.testing.assert_allclose(f(img, 0.05), harris_response(img, 0.05), rtol=1e-10)
    src = f.explain(img, 0.05).kernel_source
    assert not VIEW.findall(src), VIEW.findall(src)


def test_shifted_write_has_no_destination_view():
    x, z = np.random.default_rng(1).standard_normal((2, 8, 6))
    src = looptrace.jit(shifted_write, backend="cpu").explain(x, z).kernel_source
    assert "dst" not in src and not VIEW.findall(src), src
