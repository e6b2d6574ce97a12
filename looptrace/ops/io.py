"""print() of traced values: text made at run time with Python's own formatting.

    print_token() -> t                                  the program's output stream, before any print
    print(t, v_1, ..., v_m) {line=PrintLine} -> t'      writes one print() call's text

The token (dtype RNG, like a generator's state) orders the prints of a program
as the plain function makes them: each print consumes the token and produces
the next, so a loop that prints carries it (a recurrence: the loop stays a
serial loop, its prints in iteration order), a branch that prints is a `cond`
(it prints only where it runs), and dead-code elimination keeps every print
(`effectful`). A program that never prints has no token.

The `PrintLine` holds everything known while tracing: each print argument as
literal text and slots (a value input, its Python type, `!r`/`!s`/`!a` and its
format spec), `sep`, `end`, the stream and `flush`. `render` boxes each value
as the type the plain function holds (a Python float, a np.float32, a 0-d
array, an ndarray) and formats it with Python's `format`, so the text is the
plain function's: `str(np.float32(0.1))` is '0.1', arrays follow NumPy's print
options as they are when the program runs. Every target calls `render` and
`emit_text` (the cpu kernel from a `numba.objmode` block).

Each print counts the characters it writes per stream and thread (`written`,
from the program's `print_token` on): where the compiled call raises, the
plain function runs again with those characters dropped (`printed_once`,
api.py), so the call prints what the plain function prints, each once.

Invariants: a print never moves out of its loop or branch and is never
batched (its batching rule refuses); it has no derivative, and a gradient
program runs it once, in its forward part.
"""
from __future__ import annotations

import contextlib
import sys
import threading
from dataclasses import dataclass

import numpy as np

from looptrace.ir.core import RNG
from looptrace.ir.primitive import NOT_DIFFERENTIABLE, Primitive, ShapeMismatch, register
from looptrace.ops.batching_helpers import NotBatchable

Key = tuple  # a 0-d value's type: (dtype str, a Python number, a 0-d ndarray) (tracer/kinds.py)


@dataclass(frozen=True)
class Slot:
    """One traced value in a print argument's text: `format(conv(value), spec)`.
    `keys`: the types it may have; with more than one, input `tag` (an int)
    names the one this run holds."""

    value: int  # index among the op's value inputs
    conv: str  # "" (format only), "s", "r" or "a"
    spec: str
    keys: tuple[Key, ...]
    tag: int | None = None

    def __repr__(self) -> str:
        tag = f"?{self.tag}" if self.tag is not None else ""
        return f"{{{self.value}{tag}{'!' + self.conv if self.conv else ''}{':' + self.spec if self.spec else ''}}}"


@dataclass(frozen=True)
class PrintLine:
    """One print() call: its arguments as text pieces and slots, and its keywords."""

    args: tuple[tuple, ...]  # per argument: str and Slot pieces, joined
    sep: str = " "
    end: str = "\n"
    stream: str = "stdout"  # sys.stdout or sys.stderr, as it is when the program runs
    flush: bool = False
    options: tuple = ()  # NumPy print options the function set around it: (name, value) pairs

    def __repr__(self) -> str:
        text = self.sep.join("".join(p if isinstance(p, str) else repr(p) for p in a) for a in self.args)
        extra = "" if self.stream == "stdout" else f" >{self.stream}"
        extra += f" {dict(self.options)}" if self.options else ""
        return f"print{(text + self.end)!r}{extra}"


def box(x, key: Key, shape: tuple):
    """x as the object the plain function holds: an ndarray, a 0-d array, a
    NumPy scalar or a Python number."""
    dtype = np.dtype(key[0])
    if shape:
        return np.asarray(x, dtype=dtype)
    if key[2]:
        return np.array(x, dtype=dtype)
    scalar = dtype.type(x)
    return scalar.item() if key[1] else scalar


def converted(x, conv: str):
    """x after an f-string's `!s`, `!r` or `!a` (none: conv "")."""
    if conv == "s":
        return str(x)
    if conv == "r":
        return repr(x)
    if conv == "a":
        return ascii(x)
    return x


def render(line: PrintLine, values) -> str:
    """The text print() writes, made with Python's formatting from the run's values."""
    def piece(p) -> str:
        if isinstance(p, str):
            return p
        x = values[p.value]
        key = p.keys[0] if p.tag is None else p.keys[int(values[p.tag])]
        return format(converted(box(x, key, np.shape(x)), p.conv), p.spec)

    if line.options:
        with np.printoptions(**dict(line.options)):
            return line.sep.join("".join(piece(p) for p in arg) for arg in line.args) + line.end
    return line.sep.join("".join(piece(p) for p in arg) for arg in line.args) + line.end


class _Muted(threading.local):
    depth = 0


_MUTED = _Muted()


@contextlib.contextmanager
def muted():
    """Prints in this thread do nothing inside: a vjp_fn runs the forward
    part again, which printed when the function was called (autodiff/api.py)."""
    _MUTED.depth += 1
    try:
        yield
    finally:
        _MUTED.depth -= 1


class _Written(threading.local):
    """How many characters the program this thread runs has printed to each
    stream, since its `print_token` op (its start)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}


_WRITTEN = _Written()


def start_run() -> None:
    """A program that prints starts (its `print_token` op): nothing printed yet."""
    _WRITTEN.counts = {}


def written() -> dict[str, int]:
    """Characters per stream that the last program this thread ran printed
    (read once: a later failure before any print token reads none)."""
    counts, _WRITTEN.counts = _WRITTEN.counts, {}
    return counts


def prints(program) -> bool:
    """Does `program` print (has it a print token)? Cached on the program."""
    from looptrace.ir.core import walk

    known = _PRINTS.get(id(program))
    if known is not None and known[0] is program:
        return known[1]
    result = any(op.prim.name == "print_token" for op in walk(program.body))
    if len(_PRINTS) > 4096:
        _PRINTS.clear()
    _PRINTS[id(program)] = (program, result)
    return result


_PRINTS: dict[int, tuple] = {}


def emit_text(line: PrintLine, text: str) -> None:
    if _MUTED.depth:
        return
    stream = getattr(sys, line.stream)
    if stream is None:  # (pythonw: print() without a stream does nothing)
        return
    stream.write(text)
    counts = _WRITTEN.counts
    counts[line.stream] = counts.get(line.stream, 0) + len(text)
    if line.flush:
        stream.flush()


class _Skipping:
    """sys.stdout or sys.stderr while a plain function runs again after its
    compiled run failed: the characters the compiled run printed (per
    thread) are dropped, so the call prints each character once."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._left: dict[int, int] = {}  # thread -> characters still to drop
        self._users = 0

    def write(self, text):
        me = threading.get_ident()
        left = self._left.get(me, 0)
        if left and isinstance(text, str):
            cut = min(left, len(text))
            self._left[me] = left - cut
            if cut == len(text):
                return len(text)
            self._stream.write(text[cut:])
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


_SKIP_LOCK = threading.Lock()


@contextlib.contextmanager
def printed_once(counts: dict[str, int]):
    """Inside, this thread's first `counts[s]` characters to sys.<s> are
    dropped (what the failed compiled run printed: `written()`); the plain
    function run again (api.py `_replay`, `_after_failure`) prints the rest,
    live. Other threads' text passes through."""
    me = threading.get_ident()
    held = []
    with _SKIP_LOCK:
        for name, k in counts.items():
            stream = getattr(sys, name, None)
            if not k or stream is None:
                continue
            if not isinstance(stream, _Skipping):
                stream = _Skipping(stream)
                setattr(sys, name, stream)
            stream._users += 1
            stream._left[me] = stream._left.get(me, 0) + k
            held.append((name, stream))
    try:
        yield
    finally:
        with _SKIP_LOCK:
            for name, stream in held:
                stream._users -= 1
                stream._left.pop(me, None)
                if not stream._users and getattr(sys, name, None) is stream:
                    setattr(sys, name, stream._stream)


def print_line(line: PrintLine, *values) -> None:
    """What the print op does, on every target."""
    emit_text(line, render(line, values))


# --- the primitives ------------------------------------------------------------------------------
def _token_impl():
    start_run()
    return np.int64(0)


def _token_abstract():
    return [(RNG, ())]


def _print_abstract(token, *values, line):
    if token.dtype != RNG:
        raise ShapeMismatch("print's first input must be the print token")
    for arg in line.args:
        for p in arg:
            if not isinstance(p, str) and not 0 <= p.value < len(values):
                raise ShapeMismatch(f"print slot {p!r} names no value input")
    return [(RNG, ())]


def _print_impl(token, *values, line):
    print_line(line, *values)
    return (token,)


def _refuse_batch(b, args, dims, **attrs):
    raise NotBatchable("a print stays in its loop: it prints once per iteration, in order")


print_token = register(Primitive("print_token", "io", _token_abstract, _token_impl, vjp=NOT_DIFFERENTIABLE,
                                 batch=_refuse_batch, doc="the output stream's token, before the first print"))
print_ = register(Primitive("print", "io", _print_abstract, _print_impl, multiple_results=True, effectful=True,
                            vjp=NOT_DIFFERENTIABLE, batch=_refuse_batch,
                            doc="print(...) of traced values: the text made with Python's formatting at run time"))
