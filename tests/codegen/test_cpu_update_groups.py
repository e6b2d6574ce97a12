"""Slice writes one after another into one buffer at disjoint static boxes
(a row written piece by piece, then batched) share one loop nest
(planning/fusion.py `_group_updates`); overlapping writes, and writes whose
value reads the buffer, keep their own nests and their order. The plain
function is the oracle."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def _made(src: str, tmp_path, name="f"):
    path = tmp_path / f"{name}_{abs(hash(src)) % 10**10}.py"
    path.write_text(src)
    ns = {"np": np}
    exec(compile(src, str(path), "exec"), ns)
    return ns[name]


def columns(n: int) -> str:
    body = "\n".join(f"        out[i, {k}] = x[i] * {k + 1}.5 - {k}" for k in range(n))
    return f"def f(x):\n    out = np.empty((x.shape[0], {n}))\n    for i in range(x.shape[0]):\n{body}\n    return out\n"


def grid(x, y):
    z = np.empty((x.shape[0], y.shape[0], 3))
    z[:, :, 0] = x[:, None] * y
    z[:, :, 1] = x[:, None] - y
    z[:, :, 2] = x[:, None] + y
    return z.reshape(-1, 3)


def _loops(src: str) -> int:
    return sum(1 for line in src.splitlines() if line.strip().startswith("for "))


# 70 writes split once at 64 (two nests): the nests read from the kernel's source through explain (planned,
# not compiled) and the values on the interpreter by default; its cpu compile (4.5 s in 3d8fb51's CI: Numba's
# time grows with the 70 writes) with -m slow, the same nest of column writes as [3]'s, which runs on cpu.
# 130 (three nests, 8.1 s of CPU in session 54's CI) with -m slow; 40 (one nest, as 3 and 70's first; 4.0 s
# in e17f737's CI) with -m slow
@pytest.mark.parametrize("n, backend", [(3, "cpu"), pytest.param(40, "cpu", marks=pytest.mark.slow), (70, "interpret"),
                                        pytest.param(70, "cpu", marks=pytest.mark.slow),
                                        pytest.param(130, "cpu", marks=pytest.mark.slow)])
def test_columns_written_one_by_one_share_one_nest(n, backend, tmp_path):
    f = _made(columns(n), tmp_path)
    x = np.random.default_rng(n).standard_normal(500)
    np.testing.assert_array_equal(looptrace.jit(f, backend=backend)(x), f(x))
    src = looptrace.jit(f, backend="cpu").explain(x).kernel_source
    assert _loops(src) <= 3 + n // 64  # the fill's two loops, then nests of up to 64 writes


def test_a_grid_of_three_planes_is_one_pass():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(40), rng.standard_normal(30)
    jg = looptrace.jit(grid, backend="cpu")
    np.testing.assert_allclose(jg(x, y), grid(x, y), rtol=1e-15)
    src = jg.explain(x, y).kernel_source
    body = src[src.index("def kernel"):]
    assert body.count("for ") == 2  # one nest over (i, j) writes the three planes


OVERLAP = """
def f(x):
    out = np.zeros((x.shape[0], 4))
    for i in range(x.shape[0]):
        out[i, 0] = x[i]
        out[i, 0:2] = x[i] * 2.0
        out[i, 2] = out[i, 0] + 1.0
        out[i, 3] = x[i] - 1.0
    return out
"""


def test_overlapping_writes_and_reads_of_the_buffer_keep_their_order(tmp_path):
    f = _made(OVERLAP, tmp_path)
    x = np.random.default_rng(2).standard_normal(300)
    np.testing.assert_array_equal(looptrace.jit(f, backend="cpu")(x), f(x))


@st.composite
def write_programs(draw):
    """A row of 6 written piecewise: each piece a column range, its value
    either from x or from a column written before (a read of the buffer)."""
    lines = []
    for k in range(draw(st.integers(2, 6))):
        lo = draw(st.integers(0, 5))
        hi = draw(st.integers(lo + 1, 6))
        if draw(st.booleans()):
            value = f"x[i] * {k + 1}.0 + {lo}.0"
        else:
            value = f"out[i, {draw(st.integers(0, 5))}] * 0.5 + x[i]"
        lines.append(f"        out[i, {lo}:{hi}] = {value}")
    return ("def f(x):\n    out = np.ones((x.shape[0], 6))\n    for i in range(x.shape[0]):\n"
            + "\n".join(lines) + "\n    return out\n")


def _piecewise_writes_match_plain(backend, src, seed, tmp_path):
    f = _made(src, tmp_path)
    x = np.random.default_rng(seed).standard_normal(50)
    np.testing.assert_array_equal(looptrace.jit(f, backend=backend)(x), f(x))


# a cpu kernel per example (2.2 s at 4 in e17f737's CI): 2 of them; the interpreter runs 8 of the same generator
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(src=write_programs(), seed=st.integers(0, 2 ** 32 - 1))
def test_generated_piecewise_writes_match_plain(src, seed, tmp_path):
    _piecewise_writes_match_plain("cpu", src, seed, tmp_path)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(src=write_programs(), seed=st.integers(0, 2 ** 32 - 1))
def test_generated_piecewise_writes_match_plain_interpret(src, seed, tmp_path):
    _piecewise_writes_match_plain("interpret", src, seed, tmp_path)


def zero_grid(x):
    """numpy-benchmarks' create_grid: two of three columns written, the third
    stays the fill."""
    n = x.shape[0]
    z = np.zeros((n, n, 3))
    z[:, :, 0] = x.reshape(-1, 1)
    z[:, :, 1] = x
    return z.reshape(n * n, 3)


def filled_rows(x, y):
    """A non-zero fill, positions picked along the first axis, two rows left."""
    z = np.full((4, x.shape[0]), 7.5)
    z[0] = x * 2.0
    z[2] = y - x
    return z


def head_reads_the_fill(x):
    n = x.shape[0]
    z = np.ones((n, n, 3))
    z[:, :, 0] = z[:, :, 2] + x
    z[:, :, 1] = x.reshape(-1, 1)
    return z


def many_left(x):
    z = np.zeros((x.shape[0], 8))
    z[:, 1] = x
    return z


@pytest.mark.parametrize("fn,make,loops", [
    (zero_grid, lambda r: (r.standard_normal(300),), 2),  # one nest: the two writes and z[i, j, 2] = 0
    (filled_rows, lambda r: (r.standard_normal(2000), r.standard_normal(2000)), 1),  # rows 1 and 3 beside
    (head_reads_the_fill, lambda r: (r.standard_normal(300),), 5),  # the fill's 3 loops, then the group's 2
    (many_left, lambda r: (r.standard_normal(3000),), 1),  # 7 of 8 columns left: the fill's own, `zeros(...)`
])
def test_fill_written_beside_the_group(rng, fn, make, loops):
    """A fill read only by a group of slice writes that pick single positions
    along some axes is written in the group's nest, at the positions the
    writes leave (planning/fusion.py `_fills_with_writes`); a head that reads
    the fill, or more than 4 positions left, keeps the fill's own nest."""
    args = make(rng)
    f = looptrace.jit(fn, backend="cpu")
    np.testing.assert_array_equal(f(*args), fn(*args))
    body = f.explain(*args).kernel_source.split("def kernel", 1)[1]
    assert _loops(body) == loops, body
    if fn is zero_grid:
        assert "2] = 0.0" in body
    if fn is many_left:  # (np.zeros made zeroed, as NumPy's calloc: nest.py `_zero_fill`)
        assert "zeros((3000, 8, ), np.float64)" in body
    if fn is filled_rows:
        assert "[1, " in body and "[3, " in body and body.count("= 7.5") == 2
