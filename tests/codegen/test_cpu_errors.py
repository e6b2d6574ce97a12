"""Errors on the CPU backend read like looptrace's own: an index out of bounds
in compiled code is an IndexError naming the user's line (never a crash), and
a kernel Numba cannot compile is an InternalError naming the op and line."""

import numpy as np
import pytest

import looptrace


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def read_past_end(x, k):
    s = 0.0
    for i in range(k):
        s += x[i]  # the line the error must name
    return s


def line_of(fn, marker):
    import inspect

    lines, first = inspect.getsourcelines(fn)
    return first + next(i for i, text in enumerate(lines) if marker in text)


def test_dynamic_index_out_of_bounds_is_index_error(rng):
    x = rng.standard_normal(3)
    f = looptrace.jit(read_past_end, backend="cpu")
    assert f(x, 3) == pytest.approx(x.sum(), rel=1e-12)
    with pytest.raises(IndexError) as plain:
        read_past_end(x, 5)
    with pytest.raises(IndexError, match="index 3 is out of bounds for axis 0 with size 3") as err:
        f(x, 5)
    assert f"line {line_of(read_past_end, 'the line the error must name')}" in str(err.value)
    assert "test_cpu_errors.py" in str(err.value)
    assert "out of bounds" in str(plain.value)


def squash(x):
    return np.tanh(x) * 2.0


def test_numba_compile_error_becomes_internal_error(rng, monkeypatch):
    from looptrace.codegen.cpu import TARGET as CPU
    from looptrace.codegen.target import ScalarRule

    monkeypatch.setitem(CPU.rules, "tanh", ScalarRule(lambda args, i, o: f"np.no_such_function({args[0]})"))
    f = looptrace.jit(squash, backend="cpu", cache=False)
    with pytest.raises(looptrace.errors.InternalError) as err:
        f(rng.standard_normal(4))
    message = str(err.value)
    assert "`tanh`" in message and f"line {line_of(squash, 'np.tanh')}" in message
    assert "Failed in nopython mode" not in message  # no pipeline-stage banner


def test_fastmath_only_when_asked(rng):
    x = rng.standard_normal(4)
    plain = looptrace.jit(squash, backend="cpu").explain(x).kernel_source
    fast = looptrace.jit(squash, backend="cpu", fastmath=True).explain(x).kernel_source
    assert "fastmath" not in plain and "fastmath={" in fast and "nnan" not in fast  # (NaN tests keep meaning)


def test_float16_is_a_clear_unsupported_error_naming_the_line():
    import looptrace

    def root(x):
        return np.sqrt(x)  # NumPy computes uint8 -> float16

    with pytest.raises(looptrace.UnsupportedError, match="float16") as info:
        looptrace.jit(root, backend="cpu")(np.array([1, 4], np.uint8))
    assert "np.sqrt(x)" in str(info.value)
    with pytest.raises(looptrace.UnsupportedError, match="float16"):
        looptrace.jit(root, backend="cpu")(np.ones(2, np.float16))
    np.testing.assert_array_equal(looptrace.jit(root, backend="interpret")(np.array([1, 4], np.uint8)),
                                  root(np.array([1, 4], np.uint8)))
