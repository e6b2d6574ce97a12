"""print() of traced values, what probe X found wrong (session 41): text of a
traced value used as a string, prints before an error (printed twice, or
not at all), print in an assert's message, sys.stdout.write and map(print,
...), NumPy's print options set in the function, clearer refusals."""
import sys

import numpy as np
import pytest

import looptrace
from looptrace.errors import LooptraceError, TraceError, UnsupportedError

X = np.array([0.1257302210933933, -2.0, 3.5])


def run(capsys, f, *args, calls=1):
    """(stdout, stderr, result or the exception) of `calls` calls of f."""
    capsys.readouterr()
    out = None
    for _ in range(calls):
        try:
            out = f(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
        except Exception as e:  # noqa: BLE001 (compared with the plain function's)
            out = (type(e), str(e))
    text = capsys.readouterr()
    return text.out, text.err, out


def same(capsys, f, *args, backend="interpret", calls=1):
    want = run(capsys, f, *args, calls=calls)
    got = run(capsys, looptrace.jit(f, backend=backend), *args, calls=calls)
    assert got[:2] == want[:2]
    if isinstance(want[2], tuple):
        assert got[2] == want[2]
    else:
        np.testing.assert_allclose(got[2], want[2])
    return want


# --- 1. a traced value's text is for print() only ----------------------------------------------------------
def _len(x):
    s = str(x[0])
    print(s)
    return len(s)


def _startswith(x):
    s = f"{x[0]:.2f}"
    print(s)
    return x * (1.0 if s.startswith("-") else 2.0)


def _slice(x):
    print(str(x[0])[:4])
    return x


def _upper(x):
    print(f"{x[0]}".upper())
    return x


def _padded_sum(x):
    print(f"[{'v=' + str(x[0]):>24}]")
    return x


def _rjust(x):
    print(str(x[0]).rjust(24))
    return x


def _percent_width(x):
    print("%-25s|" % x[0])
    return x


def _compare_fstring(x):
    s = f"v={x[0]:.3f}!"
    print(s)
    return 1 if s == "v=0.126!" else 0


def _len_fstring(x):
    s = f"v={x[0]:.3f}!"
    print(s)
    return len(s)


def _dict_key(x):
    s = "a" + str(x[0])
    d = {s: 1}  # noqa: F841 (hashing it is the use refused)
    print(s)
    return x


def _contains(x):
    s = f"{x[0]:.2f}"
    print("-" in s)
    return x


def _width_of_text(x):
    s = f"{x[0]:.2f}"
    print(f"{s:>10}")
    return x


def _iterate(x):
    for c in str(x[0]):
        print(c)
    return x


@pytest.mark.parametrize("f", [_len, _startswith, _slice, _upper, _padded_sum, _rjust, _percent_width,
                               _compare_fstring, _len_fstring, _dict_key, _contains, _width_of_text, _iterate])
def test_text_of_a_traced_value_used_as_a_string_is_refused(capsys, f):
    with pytest.raises(LooptraceError) as e:
        run_jit = looptrace.jit(f, backend="interpret")
        run_jit(X.copy())
    assert "test_print_s41.py" in str(e.value)  # (the user's line)
    assert "\ue000" not in capsys.readouterr().out


def _kept_text(x):
    s = f"v={x[0]}"
    t = "<" + s + ">" + "|".join([str(x[1]), f"{x[2]:.2f}"]) + "{}".format(x[0]) + s * 2
    print(t, f"{t}", "{}!".format(t), sep="/")
    print("%s|%-8s|" % (x[1], x[2]), f"{x[0]!r:>25}|{str(x[1]):<9}|{x[2]!s:^9}|")
    msgs = [f"{v:.2f}" for v in x]
    print(", ".join(msgs))
    return x


def test_text_kept_for_print_prints_the_plain_text(capsys):
    same(capsys, _kept_text, X)


def test_text_kept_for_print_on_cpu(capsys):
    same(capsys, _kept_text, X, backend="cpu")


def test_percent_of_a_traced_value_is_refused_clearly():
    def f(x):
        print("%s" % x[0])
        return x

    with pytest.raises(TraceError, match="%-formatting"):
        looptrace.jit(f, backend="interpret")(X.copy())


# --- 2, 3. prints before an error: each printed once, also in the arm that raises ----------------------
def _print_then_raise(x):
    if x[0] > 0:
        print("about to raise", x[0])
        raise RuntimeError("stop")
    return x


def _loop_raise_formatted(x):
    for i in range(x.shape[0]):
        print("step", i, x[i])
        if x[i] > 0.5:
            raise ValueError(f"too big at {i}")
    return x.sum()


def _loop_print_then_raise(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        if s > 0.6:
            print("raising at", i)
            raise RuntimeError("stop")
    return s


def _assert_formatted(x):
    for i in range(x.shape[0]):
        print(i, file=sys.stderr)
        assert x[i] < 0.5, f"bad {x[i]}"
    return x


def _index_write(x, idx):
    for i in range(x.shape[0]):
        print("at", i)
    if x[0] > 0:
        x[idx] = 1.0
    return x


@pytest.mark.parametrize("f, args", [(_print_then_raise, (np.array([0.5, 1.0]),)),
                                     (_loop_raise_formatted, (np.array([0.1, 0.2, 0.9, 0.3]),)),
                                     (_loop_print_then_raise, (np.array([0.1, 0.2, 0.4, 0.5]),)),
                                     (_assert_formatted, (np.array([0.1, 0.2, 0.9, 0.3]),)),
                                     (_index_write, (np.array([0.5, 1.0]), 7))])
def test_prints_before_an_error_print_once(capsys, f, args):
    out, err, exc = same(capsys, f, *args, calls=2)  # (the second call is a warm one)
    assert isinstance(exc, tuple) and (out or err)


@pytest.mark.parametrize("f, args", [(_print_then_raise, (np.array([0.5, 1.0]),)),
                                     (_loop_raise_formatted, (np.array([0.1, 0.2, 0.9, 0.3]),))])
def test_prints_before_an_error_print_once_on_cpu(capsys, f, args):
    same(capsys, f, *args, backend="cpu", calls=2)


def test_the_plain_rerun_leaves_the_streams_as_they_were():
    stdout, stderr = sys.stdout, sys.stderr
    with pytest.raises(ValueError):
        looptrace.jit(_loop_raise_formatted, backend="interpret")(np.array([0.1, 0.9]))
    assert sys.stdout is stdout and sys.stderr is stderr


# --- 4. a print in an assert's message prints where the assert fails only ---------------------------------
def _assert_message_prints(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i]
        print("s", s)
        assert s < 0.3, print("failed at", i, s)
    return s


def test_print_in_an_assert_message_prints_only_on_failure(capsys):
    same(capsys, _assert_message_prints, np.array([0.1, 0.1, 0.05]))  # (passes: never prints the message)
    same(capsys, _assert_message_prints, np.array([0.1, 0.1, 0.2, 0.3]))  # (fails at 2)


# --- 5. sys.stdout.write, sys.stderr.write, map(print, ...): every call ------------------------------------
def _writes(x):
    sys.stdout.write("static\n")
    sys.stderr.write(f"n={x.shape[0]}\n")
    list(map(print, ["a", "b"]))
    list(map(print, x))
    sys.stdout.write("w " + str(x[0]) + "\n")
    return x


def test_stream_writes_and_map_print_write_on_every_call(capsys):
    same(capsys, _writes, X, calls=2)


def test_stream_writes_on_cpu(capsys):
    same(capsys, _writes, X, backend="cpu", calls=2)


# --- 6. messages ----------------------------------------------------------------------------------------
def test_grad_of_a_while_loop_that_prints_names_print():
    def f(w, x):
        s = 0.0
        i = 0
        while i < x.shape[0]:
            s = s + w * x[i]
            print(i)
            if s > 1.0:
                break
            i += 1
        return s

    with pytest.raises(UnsupportedError, match="that prints"):
        looptrace.grad(looptrace.jit(f, backend="interpret"))(0.5, np.abs(X))


def test_types_print(capsys):
    def f(x):
        print(np.float64, type(x[0]), x.dtype)
        return x

    same(capsys, f, X)


@pytest.mark.parametrize("body, what", [(lambda x, w: print(1, 2, sep=str(x[0])), "sep="),
                                        (lambda x, w: print(f"{x[0]:>{w}.{w - 6}f}"), "format spec")])
def test_text_of_a_traced_value_as_a_spec_or_sep_is_refused_clearly(body, what):
    def f(x, w):
        body(x, w)
        return x

    with pytest.raises(UnsupportedError, match=what):
        looptrace.jit(f, backend="interpret")(X.copy(), 10)


# --- 7. NumPy's print options set in the function ----------------------------------------------------------
def _printoptions(x):
    with np.printoptions(precision=2, suppress=True):
        print(x, x[0])
    np.set_printoptions(precision=3)
    print(x)
    np.set_printoptions(precision=8)
    print(x)
    return x


def test_print_options_set_in_the_function(capsys):
    same(capsys, _printoptions, X, calls=2)


def test_print_options_on_cpu(capsys):
    same(capsys, _printoptions, X, backend="cpu")


def test_print_options_left_changed_are_refused_and_set_back():
    def f(x):
        np.set_printoptions(precision=3)
        print(x)
        return x

    before = np.get_printoptions()
    with pytest.raises(UnsupportedError, match="set_printoptions"):
        looptrace.jit(f, backend="interpret")(X.copy())
    assert np.get_printoptions() == before


def _format_method(x):
    s = "{}|{:.2f}".format(x[0], x[1])
    print(s)
    return len(s)


def _joined(x):
    s = "; ".join([str(x[0]), "a"])
    print(s)
    return len(s)


def _str_method_of_text(x):
    s = f"{x[0]:.2f}"
    print(s)
    return "-0.13".startswith(s)


def _float_of_text(x):
    s = f"{x[0]:.2f}"
    print(s)
    return float(s)


@pytest.mark.parametrize("f", [_format_method, _joined, _str_method_of_text, _float_of_text])
def test_text_built_by_str_methods_is_for_print_only(f):
    with pytest.raises(TraceError, match="used other than by print"):
        looptrace.jit(f, backend="interpret")(X.copy())
