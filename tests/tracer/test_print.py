"""print() of traced values (tracer/printing.py, ops/io.py): a jitted function
prints what the plain function prints, in its order, once per print it runs."""
import contextlib
import io
import sys

import numpy as np
import pytest

import looptrace
from looptrace.ir.core import walk


def printed(capsys, f, *args):
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    capsys.readouterr()
    out = f(*args)
    text = capsys.readouterr()
    return text.out, text.err, out


def check_same(capsys, f, *args, backend="interpret", calls=1):
    want = printed(capsys, f, *args)[:2]
    jf = looptrace.jit(f, backend=backend)
    for _ in range(calls):  # every call prints (the first one traces, the others do not)
        assert printed(capsys, jf, *args)[:2] == want
    return want


def line_of(f, text):
    import inspect

    lines, start = inspect.getsourcelines(f)
    return start + next(k for k, ln in enumerate(lines) if text in ln)


def scalars_and_arrays(x, n):
    a = np.float32(x[0])
    b = x[0] > 0.3
    d = x[1] + 1j * x[2]
    e = np.array(x[0])
    print(a, b, int(n), d, e, x.astype(np.float32), x.sum(), float(x[0]), x[0] * 2, 0.1 + x[1] * 0)
    print(f"{a!r} {b!r} {d!r} {e!r} {x[0]:>12.4e}|{n:05d}|{n:x}|{b}|{x[1]!s:>8}|{x[2]:.3f}")
    print("{} and {:.2f} and {!r}".format(x[0], x[1], x[2]), "%s|%-6s" % (x[1], x[2]), str(x[2]), repr(x[0]), sep="", end="!\n",
          flush=True)
    print([x[0], (x[1], 2)], {"k": x[2]}, x[:2] * 2, x.reshape(2, -1), x[:1])
    print()
    return x


def test_scalars_arrays_and_format_specs(capsys, rng):
    out, _ = check_same(capsys, scalars_and_arrays, rng.random(4), 7)
    assert "np.float32(" in out and "np.float64(" in out  # repr of NumPy scalars, as the plain function shows


def test_float32_text_is_numpys(capsys):
    def f(x):
        s = x[0] * np.float32(3)
        print(s, f"{s}", x)
        return s

    out, _ = check_same(capsys, f, np.array([0.1, 0.2], np.float32))
    assert out.startswith("0.3 ") and out.endswith(" [0.1 0.2]\n")  # str(np.float32(0.3)) is NumPy's shortest text


def prints_in_a_loop(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * 2
        if x[i] > 0.5:
            print(f"step {i}: s={s:.4f}", x[i], sep=" | ")
    print("end", s)
    return s


def test_loop_prints_each_iteration_under_its_if(capsys, rng):
    x = rng.random(9)
    out, _ = check_same(capsys, prints_in_a_loop, x, calls=2)
    assert out.count("step") == int((x > 0.5).sum())


def test_print_of_python_values_prints_on_every_call_and_iteration(capsys):
    def f(x, n):
        for i in range(n):
            print("hello")
        print("done", n, x.shape, sep=", ")
        return x * 2

    out, _ = check_same(capsys, f, np.ones(3), 3, calls=2)
    assert out == "hello\nhello\nhello\ndone, 3, (3,)\n"


def test_type_chosen_at_run_time(capsys, rng):
    def f(x):
        s = 0
        for i in range(x.shape[0]):
            if x[i] > 0.5:
                s = s + x[i]
            print(i, s, repr(s))
        return s

    check_same(capsys, f, rng.random(6))


def test_nested_loops_and_while(capsys, rng):
    def f(x):
        t = 0.0
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                if x[i, j] > 0.7:
                    print(f"({i},{j}) {x[i, j]:.4f}")
        k = 0
        while k < 3:
            t = t + x[k, 0]
            k += 1
            print("k", k, t)
        return t

    check_same(capsys, f, rng.random((3, 4)))


def test_break_helpers_and_unrolled_loops(capsys, rng):
    def helper(v, k):
        print(f"  helper {k}: {v:.5f}")
        return v * 2

    def f(x):
        out = 0.0
        for i in range(x.shape[0]):
            if x[i] > 0.9:
                print("break at", i)
                break
            out += helper(x[i], i)
        for a in (x[:2], x[2:4]):
            print("chunk", a)
        return out

    x = rng.random(8)
    x[5] = 0.95
    check_same(capsys, f, x)


def test_prints_before_a_run_time_error_as_the_plain_function(capsys):
    def f(x, ix):
        s = 0.0
        for i in range(ix.shape[0]):
            print("i", i)
            s += x[ix[i]]
        return s

    x, ix = np.array([0.1, 0.2, 0.3]), np.array([0, 1, 7, 2])
    for g in (f, looptrace.jit(f, backend="interpret")):
        with pytest.raises(IndexError):
            g(x, ix)
        assert capsys.readouterr().out == "i 0\ni 1\ni 2\n"


def test_print_to_stderr(capsys):
    def f(x):
        print("err", x[0], file=sys.stderr)
        return x

    out, err = check_same(capsys, f, np.array([1.5, 2.0]))
    assert out == "" and err == "err 1.5\n"


def test_compiled_on_cpu_prints_the_same(capsys, rng, tmp_path, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path))
    check_same(capsys, scalars_and_arrays, rng.random(4), 7, backend="cpu")
    check_same(capsys, prints_in_a_loop, rng.random(9), backend="cpu", calls=2)


# --- where the prints go: loops, gradients, other backends ------------------------------------------
def test_a_loop_that_prints_stays_a_loop_and_says_why(rng):
    def f(x):
        y = np.empty_like(x)
        for i in range(x.shape[0]):
            y[i] = np.sin(x[i]) * 2
            print("i =", i)
        return y

    (loop,) = looptrace.explain(looptrace.jit(f, backend="interpret"), rng.random(5)).loops
    assert loop.kind == "scan" and f"`print()` at line {line_of(f, 'print(')}" in loop.reason


def test_a_loop_without_print_has_no_token(rng):
    def f(x):
        y = np.empty_like(x)
        for i in range(x.shape[0]):
            y[i] = np.sin(x[i]) * 2
        return y

    jf = looptrace.jit(f, backend="interpret")
    x = rng.random(5)
    assert looptrace.explain(jf, x).loops[0].kind == "vectorized"
    assert not any(op.prim.name.startswith("print") for op in walk(jf.trace([x]).body))


def loss(w, x):
    h = 0.0
    for t in range(x.shape[0]):
        h = np.tanh(w * h + x[t])
        print(f"t={t} h={h:.6f}")
    return h * h


def test_gradients_print_the_primal_once_per_call(capsys, rng):
    x, w = rng.random(3), 0.7
    want = printed(capsys, loss, w, x)[0]
    jl = looptrace.jit(loss, backend="interpret")
    assert printed(capsys, looptrace.grad(jl), w, x)[0] == want
    assert printed(capsys, looptrace.value_and_grad(jl), w, x)[0] == want
    out, vjp_fn = looptrace.vjp(jl, w, x)
    assert capsys.readouterr().out == want
    vjp_fn(1.0)  # the backward pass prints nothing
    assert capsys.readouterr().out == ""


def test_cuda_refuses_naming_the_line():
    def f(x):
        print("s", x[0])
        return x * 2

    with pytest.raises(looptrace.UnsupportedError, match=r"print\(\) of traced values .*cuda") as e:
        looptrace.jit(f, backend="cuda")(np.ones(3))
    assert f"line {line_of(f, 'print(')}" in str(e.value)


def test_nothing_prints_while_tracing(capsys, rng):
    jf = looptrace.jit(prints_in_a_loop, backend="interpret")
    looptrace.explain(jf, rng.random(4))
    looptrace.eval_shape(jf, rng.random(4))
    assert capsys.readouterr().out == ""


# --- text of a traced value anywhere else ----------------------------------------------------------
def dict_key(x):
    d = {f"{x[0]}": 1}
    return x + len(d)


def returned_text(x):
    s = str(x[0])
    print(s)
    return s


def raised_text(x):
    for i in range(x.shape[0]):
        if x[i] > 2:
            raise ValueError(f"bad {x[i]}")
    return x


def length_of_text(x):
    print(len(repr(x[0])))
    return x


@pytest.mark.parametrize("f, where", [(dict_key, "d = {"), (returned_text, "s = str("), (length_of_text, "print(len")])
def test_text_used_other_than_by_print_is_refused(capsys, f, where):
    with pytest.raises(looptrace.TraceError, match="used other than by print") as e:
        looptrace.jit(f, backend="interpret")(np.array([0.5, 1.5]))
    assert f"line {line_of(f, where)}" in str(e.value)
    assert capsys.readouterr().out == ""


def test_a_raise_formatting_a_traced_value_raises_the_plain_functions_exception():
    x = np.array([0.5, 3.25])
    with pytest.raises(ValueError, match=r"bad 3\.25"):
        looptrace.jit(raised_text, backend="interpret")(x)


def test_unsupported_prints_are_refused():
    def other_file(x):
        print(x[0], file=io.StringIO())
        return x

    def grown_list(x):
        out = []
        for i in range(x.shape[0]):
            out.append(x[i])
        print(out)
        return x

    def traced_sep(x):
        print(1, 2, sep=x[0])
        return x

    with pytest.raises(looptrace.UnsupportedError, match="print"):
        looptrace.jit(other_file, backend="interpret")(np.ones(2))
    with contextlib.redirect_stdout(io.StringIO()) as want:  # (a grown list prints its items: s55 V1)
        grown_list(np.ones(2))
    with contextlib.redirect_stdout(io.StringIO()) as got:
        looptrace.jit(grown_list, backend="interpret")(np.ones(2))
    assert got.getvalue() == want.getvalue()
    with pytest.raises(TypeError, match="sep must be None or a string, not numpy.float64"):
        looptrace.jit(traced_sep, backend="interpret")(np.ones(2))
