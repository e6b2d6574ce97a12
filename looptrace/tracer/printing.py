"""print() in traced code: one `print` op per call the plain function makes
(ops/io.py), its text made when the program runs.

A traced value turned into text while tracing (`f"{err:.3e}"`, `str(x)`,
`"{}".format(x)`, `repr(x)`, a list of them printed) becomes a placeholder
string that names it: the value as it is then, its Python type and the
conversion and format spec asked. print() splits its arguments' text at the
placeholders into a `PrintLine` of literal pieces and slots, and emits one
`print` op on the program's print token (ops/io.py), so the prints run in the
plain function's order, each time the plain function would run them: in every
iteration of a loop, only where an `if` holds. A print of Python values only
is an op too, with no value inputs: it prints on every call, as the plain
function does, not once while tracing.

Text holding placeholders is a `Deferred` str (f-strings are converted to
`fstring` calls, convert.py, so theirs is too): it may be printed,
concatenated, joined and formatted without a width; any use that reads its
characters (len, indexing, comparing, hashing, str methods, a width, `%`)
is a TraceError naming the line. `sys.stdout.write(text)` and
`map(print, ...)` are print ops too (`takes_text`, from runtime.call).

Invariant: a placeholder never reaches the user. One that no print() used
by the end of the trace (a global, a returned string) or one in the message
of an exception raised while tracing is the TraceError that formatting a
traced value was before.
"""
from __future__ import annotations

import builtins
import contextlib
import dis
import itertools
import os
import re
import sys
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from looptrace.errors import TraceError, UnsupportedError
from looptrace.ir.core import RNG, Op, SourceLoc, Value
from looptrace.ops import get as prim
from looptrace.ops.io import PrintLine, Slot, box, converted

from .array import is_tracer
from .values import Segment

from . import context as ctx

_PLACEHOLDER = re.compile("\ue000lt(\\d+)\ue001")
_NUMBERS = itertools.count()  # placeholders of all traces: a stale one is never taken for another


@dataclass
class _Text:
    """What one placeholder stands for."""

    value: Value
    conv: str
    spec: str
    keys: tuple
    tag: Value | None
    loc: SourceLoc


@dataclass
class _PrintState:
    """The print side of one trace: its token's box, its placeholders."""

    box: ctx.Box | None = None
    texts: dict[int, _Text] = field(default_factory=dict)
    printed: set[int] = field(default_factory=set)
    formatting: int = 0  # inside print()'s own str() of its arguments: any repr() gives placeholders
    suspended: int = 0  # inside `no_text`: no placeholders
    options: dict | None = None  # NumPy's print options when the trace began


_STATES: "weakref.WeakKeyDictionary[ctx.TraceState, _PrintState]" = weakref.WeakKeyDictionary()


_STATES_LOCK = threading.Lock()  # (traces run in many threads at once: each has its own state)


def _state() -> _PrintState:
    st = ctx.state()
    ps = _STATES.get(st)
    if ps is None:
        with _STATES_LOCK:
            ps = _STATES[st] = _PrintState()
    return ps


# --- traced values as text -----------------------------------------------------------------------
def as_text(x: Any, conv: str, spec: str, caller) -> str | None:
    """The placeholder of `x` (a Tracer) formatted with `conv` and `spec`, or
    None where no print can take it: not tracing, or asked by code that is
    not the user's converted function (looptrace's own messages)."""
    if not ctx.tracing():
        return None
    ps = _state()
    if ps.suspended or not ps.formatting and not _users_call(caller):
        return None
    if _percent(caller):  # `"%8s" % x`: the width, not seen here, would count the placeholder's characters
        raise _percent_error()
    keys, tag = _types(x)
    _check_spec(x, keys, conv, spec)
    k = next(_NUMBERS)
    ps.texts[k] = _Text(x.value, conv, spec, keys, tag, ctx.current_loc())
    return (_Converted if conv and not spec else Deferred)(f"\ue000lt{k}\ue001")


class Deferred(str):
    """Text with a traced value's text in it (placeholders): known only when
    the program runs, so print() may take it, and so may what keeps it
    text to print: `+` either way, `*`, `sep.join(...)`, `.format(...)`,
    an f-string or format() without a width or precision. Every other use
    (len(), indexing, iteration, comparisons, hashing, `in`, `%`, the
    other str methods) needs its characters: a TraceError naming the line,
    never the placeholder's characters."""

    __slots__ = ()

    def __add__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return Deferred(str.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, str):
            return NotImplemented
        return Deferred(str.__add__(other, self))

    def __mul__(self, n):
        return Deferred(str.__mul__(self, n))

    __rmul__ = __mul__

    def join(self, items):
        return Deferred(str.join(self, items))

    def format(self, *args, **kwargs):
        return deferred_if(str.format(self, *args, **kwargs))

    def format_map(self, mapping):
        return deferred_if(str.format_map(self, mapping))

    def __format__(self, spec: str) -> str:
        if spec in ("", "s"):
            return Deferred(str.__str__(self))
        raise _use_error(f"formatting it with the spec {spec!r} (its width or precision counts its characters)")

    def __str__(self) -> str:
        caller = sys._getframe(1)
        if ctx.tracing() and _percent(caller):
            raise _percent_error()
        return self

    def __repr__(self) -> str:
        ps = _STATES.get(ctx.state()) if ctx.tracing() else None
        if ps is not None and (ps.formatting or _users_call(sys._getframe(1))):
            raise _use_error("repr() of it (repr() of text, or of a list holding it, quotes its characters)")
        return str.__repr__(self)

    def __mod__(self, args):
        raise _percent_error()

    def __rmod__(self, template):
        raise _percent_error()

    def __hash__(self):
        raise _use_error("hashing it (a dict key, a set member)")

    def __getnewargs__(self):
        return (str.__str__(self),)


Deferred.__name__ = Deferred.__qualname__ = "str"  # (what messages call it: it is the user's text)


def _refused(name: str) -> Callable:
    what = {"__len__": "len() of it", "__getitem__": "indexing or slicing it", "__iter__": "iterating over it",
            "__contains__": "`in` of it", "__eq__": "comparing it", "__ne__": "comparing it", "__lt__": "comparing it",
            "__le__": "comparing it", "__gt__": "comparing it", "__ge__": "comparing it"}.get(name, f".{name}() of it")

    def refuse(self, *args, **kwargs):
        raise _use_error(what)

    refuse.__name__ = name
    return refuse


for _name in [n for n in dir(str) if not n.startswith("_")] + ["__len__", "__getitem__", "__iter__", "__contains__",
                                                                "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
                                                                "__ge__"]:
    if _name not in Deferred.__dict__ and _name not in ("maketrans",):
        setattr(Deferred, _name, _refused(_name))


def deferred_if(text: str) -> str:
    """text, as Deferred where a traced value's text is in it."""
    return Deferred(text) if type(text) is str and _PLACEHOLDER.search(text) else text


def fstring(*parts) -> str:
    """An f-string in converted code (convert.py): `parts` are its literal
    text and (value, conversion, spec) triples. Python's own formatting,
    but the text is Deferred where a traced value's text is in it, so that
    what only print() may do with it is all that is done with it."""
    if not ctx.tracing():
        return "".join(p if type(p) is str else format(converted(p[0], p[1]), p[2]) for p in parts)
    ps = _state()
    out = []
    for p in parts:
        if type(p) is str:
            out.append(p)
            continue
        value, conv, spec = p
        if isinstance(spec, Deferred) or _PLACEHOLDER.search(spec):
            raise UnsupportedError("a format spec computed from a traced value (`f\"{x:>{w}}\"` with `w` traced) "
                                   "is not supported: compiled code formats with specs known when it compiles",
                                   ctx.current_loc(), "pass the width in `static_argnames`, or build it from "
                                   "shapes and Python values")
        ps.formatting += 1  # (a traced value's text, also in a list: its placeholder)
        try:
            text = format(converted(value, conv), spec)
        finally:
            ps.formatting -= 1
        out.append(text)
    return deferred_if("".join(out))


def _use_error(what: str) -> TraceError:
    return TraceError(f"a traced value turned into text (an f-string, str(), repr(), format()) is used other "
                      f"than by print(): {what} needs its characters, which are known only at run time",
                      ctx.current_loc(), "print it (or join it into printed text), and compute with the value "
                      "itself rather than with its text")


def _percent(frame) -> bool:
    """Is `frame` the user's code at a `%` (a BINARY_OP %, Python 3.11+, or BINARY_MODULO)?"""
    if frame is None or not _users_call(frame):
        return False
    while frame.f_code.co_filename == _ROUTER:
        frame = frame.f_back
    code, at = frame.f_code.co_code, frame.f_lasti
    if at < 0 or at + 1 >= len(code):
        return False
    return code[at] == _BINARY_OP and code[at + 1] == 6 or code[at] == _BINARY_MODULO


_BINARY_OP = dis.opmap.get("BINARY_OP", -1)
_BINARY_MODULO = dis.opmap.get("BINARY_MODULO", -1)


def _percent_error() -> TraceError:
    return TraceError("a traced value is turned into text by %-formatting, which is not supported: its widths "
                      "are counted on text known only at run time", ctx.current_loc(),
                      "use an f-string or str.format (`f\"{x:8.3f}\"`), which print() formats at run time")


class _Converted(Deferred):
    """The placeholder of str(x), repr(x) or ascii(x): formatted in turn
    (`f"{x!r:>12}"`, `"{!s:^9}".format(x)`), it is a placeholder of x with
    that conversion and that spec, so the padding is the run-time text's."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        m = _PLACEHOLDER.fullmatch(self)
        ps = _STATES.get(ctx.state()) if ctx.tracing() else None
        t = ps.texts.get(int(m.group(1))) if m is not None and ps is not None else None
        if not spec or t is None:
            return Deferred.__format__(self, spec)
        format(_sample(t.value.shape, t.keys[0], t.conv), spec)  # (a bad spec raises as it would at run time)
        k = next(_NUMBERS)
        ps.texts[k] = _Text(t.value, t.conv, spec, t.keys, t.tag, t.loc)
        ps.printed.add(int(m.group(1)))  # (the converted text itself is not printed: its formatted text is)
        return Deferred(f"\ue000lt{k}\ue001")


_ROUTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runtime.py")


@contextlib.contextmanager
def no_text():
    """Inside, a traced value turned into text raises TraceError, as before
    print() took such text: an exception's message (tracer/checks.py runs
    the plain function again where it raises)."""
    ps = _state()
    ps.suspended += 1
    try:
        yield
    finally:
        ps.suspended -= 1


def _users_call(frame) -> bool:
    """Is `frame` the user's converted code, or a call it made through
    runtime.py (`"{}".format(x)` is routed there)?"""
    while frame is not None and frame.f_code.co_filename == _ROUTER:
        frame = frame.f_back
    return frame is not None and id(frame.f_code) in ctx.USER_CODE


def _types(x: Any) -> tuple[tuple, Value | None]:
    """(the Python types x may have, the traced int naming this run's, or None)."""
    from . import semantics as sem
    from .kinds import key_of, kinds_of

    if x.ndim:
        return ((np.dtype(x.dtype).str, False, False),), None
    tagged = kinds_of(x)
    if tagged is not None:  # its type chosen at run time (tracer/kinds.py)
        tag, keys = tagged
        return tuple(keys), sem.as_value(tag, np.int64)
    from .python_numbers import side_flag

    flag = side_flag(x)
    if sem.is_tracer(flag):  # a Python number on some runs only (tracer/python_numbers.py)
        dt = np.dtype(x.dtype).str
        return ((dt, False, False), (dt, True, False)), sem.as_value(flag, np.int64)
    return (key_of(x),), None


def _sample(shape: tuple, key: tuple, conv: str) -> Any:
    """A value of that shape and type, converted (`!r`): what a spec is tried on."""
    shape = tuple(d if isinstance(d, int) else 1 for d in shape)
    return converted(box(np.zeros(shape, np.dtype(key[0])), key, shape), conv)


def _check_spec(x: Any, keys: tuple, conv: str, spec: str) -> None:
    """Raise now what formatting raises at run time for a bad spec
    (`f"{n:.3f}"` of an array, `f"{x:d}"` of a float), as the plain
    function raises it where it formats."""
    for key in keys:
        try:
            format(_sample(x.shape, key, conv), spec)
        except (ValueError, TypeError) as e:
            raise type(e)(*e.args) from None


def _text_of(fn, conv: str):
    """str(), repr() and ascii() in traced code: a traced value's placeholder;
    a container's text with its traced items' placeholders (`str([x[0], 1])`)."""
    def text(*args, **kwargs):
        if len(args) == 1 and not kwargs and is_tracer(args[0]):
            return args[0]._as_text(conv, "", sys._getframe(1))
        ps = _state()
        ps.formatting += 1
        try:
            return fn(*args, **kwargs)
        finally:
            ps.formatting -= 1

    return text


BUILTINS = {id(builtins.str): _text_of(builtins.str, "s"), id(builtins.repr): _text_of(builtins.repr, "r"),
            id(builtins.ascii): _text_of(builtins.ascii, "a")}


# --- print() -----------------------------------------------------------------------------------
def traced_print(args: tuple, sep: Any = " ", end: Any = "\n", file: Any = None, flush: Any = False) -> None:
    """print(*args, sep=, end=, file=, flush=) in traced code: one `print` op."""
    if _state().suspended:  # (checks.py `_made`: the plain function, run again where it raises, prints it)
        raise TraceError("print() in the message of a raise or assert: it prints only where that raises",
                         ctx.current_loc())
    sep, end = _keyword_text(sep, "sep", " "), _keyword_text(end, "end", "\n")
    stream = _stream(file)
    for a in args:
        _refuse_internal(a, 0)
    ps = _state()
    ps.formatting += 1
    try:
        texts = [str.__str__(a) if isinstance(a, str) else str.__str__(str(a)) for a in args]
    finally:
        ps.formatting -= 1
    values: list[Value] = []
    pieces = tuple(_pieces(t, ps, values) for t in texts)
    line = PrintLine(pieces, sep, end, stream, bool(flush), _print_options())
    box = _token_box(ps)
    ctx.touch(box)
    (token,) = ctx.emit(prim("print"), [box.value, *values], line=line)
    from .array import note_write

    note_write(box)
    box.set(token)


def takes_text(fn: Any, args: tuple) -> bool:
    """Is `fn(*args)` a call printing.py makes: `sys.stdout.write(...)` or
    `sys.stderr.write(...)`, a function given `print` (`map(print, x)`), or a
    method of a str (`"; ".join(parts)`, `"{}".format(x)`, `"-".startswith(s)`)
    whose result may hold a traced value's text?"""
    name = getattr(fn, "__name__", None)
    owner = getattr(fn, "__self__", None)
    if type(owner) is str:
        return name in _KEEPING or any(_has_text(a) for a in args)
    if name == "write" and _stream_of(owner) is not None:
        return True
    if id(fn) in _PARSING and args and _has_text(args[0]):  # float(text): its characters
        return True
    return any(a is builtins.print for a in args)


_PARSING = frozenset(map(id, (float, int, complex, ord, bytes, bytearray)))


_KEEPING = frozenset({"join", "format", "format_map"})  # (str methods that keep a traced value's text as text)


def _has_text(x: Any) -> bool:
    return isinstance(x, str) and (isinstance(x, Deferred) or _PLACEHOLDER.search(x) is not None)


def _stream_of(obj: Any) -> str | None:
    return "stdout" if obj is not None and obj is sys.stdout else "stderr" if obj is not None and obj is sys.stderr \
        else None


def text_call(fn: Any, args: tuple, kwargs: dict) -> Any:
    """The call `takes_text` picked: a stream's write is a print op with no
    sep and no end, so it writes on every call, in order, as the plain
    function; a function given `print` gets the traced print; a str method
    keeps the text Deferred, or is refused where it reads its characters."""
    name, owner = getattr(fn, "__name__", None), getattr(fn, "__self__", None)
    if id(fn) in _PARSING and args and _has_text(args[0]):
        raise _use_error(f"{name}() of it")
    if type(owner) is str:
        if name in _KEEPING:
            ps = _state()
            ps.formatting += 1  # (a traced value formatted by it: its placeholder)
            try:
                return deferred_if(fn(*args, **kwargs))
            finally:
                ps.formatting -= 1
        raise _use_error(f"str.{name}() of it")
    stream = _stream_of(owner)
    if stream is None or name != "write":
        from .runtime import call

        return call(fn, *(_traced_print if a is builtins.print else a for a in args), **kwargs)
    if kwargs or len(args) != 1:
        return fn(*args, **kwargs)  # (raises Python's TypeError)
    (text,) = args
    if not isinstance(text, str):
        raise TypeError(f"write() argument must be str, not {_type_name(text)}")
    traced_print((text,), sep="", end="", file=getattr(sys, stream))
    return _UnknownCount() if _has_text(text) else len(text)


class _UnknownCount:
    """What `sys.stdout.write(text)` returns for text made from a traced value:
    its length is known only at run time, so any use of it is refused."""

    def _refuse(self, *args, **kwargs):
        raise TraceError("the count sys.stdout.write() returns for text made from a traced value is used: "
                         "it is known only at run time", ctx.current_loc(), "count the characters outside")

    __bool__ = __int__ = __index__ = __float__ = __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __format__ = __str__ = __hash__ = _refuse


def _traced_print(*args, sep=" ", end="\n", file=None, flush=False):
    """print, handed to a function (`map(print, x)`): a print op per call."""
    traced_print(args, sep=sep, end=end, file=file, flush=flush)


def _refuse_internal(x: Any, depth: int) -> None:
    """Refuse what stands for a value of the plain function that print() cannot
    show (a list grown in a loop, a generator): its text would be looptrace's."""
    if is_tracer(x) or isinstance(x, (str, type)) or depth > 8:  # (a type: NumPy's, as the traced scalar types print)
        return
    if isinstance(x, Segment):  # a list held as one array: its elements' text (Segment.__repr__)
        return
    if type(x).__module__.startswith("looptrace."):
        raise UnsupportedError(f"print() of this value ({type(x).__name__}) is not supported in a traced function", ctx.current_loc(),
                               "print its items (or np.array(...) of the list), or print it outside")
    if isinstance(x, (list, tuple, set, frozenset)):
        for e in x:
            _refuse_internal(e, depth + 1)
    elif isinstance(x, dict):
        for e in (*x.keys(), *x.values()):
            _refuse_internal(e, depth + 1)


def _keyword_text(x: Any, name: str, default: str) -> str:
    if x is None:
        return default
    if not isinstance(x, str):
        raise TypeError(f"{name} must be None or a string, not {_type_name(x)}")
    if isinstance(x, Deferred) or _PLACEHOLDER.search(x):
        raise UnsupportedError(f"print(..., {name}=...) made from a traced value is not supported: compiled code "
                               f"prints with a {name} known when it compiles", ctx.current_loc(),
                               "print the value as an argument, or build the line with an f-string or join")
    return str.__str__(x)


def _type_name(x: Any) -> str:
    """The name of x's type as the plain function's error message gives it."""
    if not is_tracer(x):
        return type(x).__name__
    if x.ndim or x.array0d:
        return "numpy.ndarray"
    return type(np.dtype(x.dtype).type(0).item()).__name__ if x.weak else f"numpy.{np.dtype(x.dtype).name}"


def _stream(file: Any) -> str:
    """The stream's name: the program writes to sys.stdout or sys.stderr as they are when it runs."""
    if file is None or file is sys.stdout:
        return "stdout"
    if file is sys.stderr:
        return "stderr"
    raise UnsupportedError(f"print(..., file=...) of traced values to {type(file).__name__} is not supported: "
                           "compiled code prints to sys.stdout or sys.stderr only", ctx.current_loc(),
                           "print to sys.stdout or sys.stderr, or return the values and write them outside")


def _pieces(text: str, ps: _PrintState, values: list[Value]) -> tuple:
    """The text split at its placeholders into literal pieces and slots."""
    out: list = []
    at = 0
    for m in _PLACEHOLDER.finditer(text):
        if m.start() > at:
            out.append(text[at:m.start()])
        out.append(_slot(int(m.group(1)), ps, values))
        at = m.end()
    if at < len(text) or not out:
        out.append(text[at:])
    return tuple(out)


def _slot(k: int, ps: _PrintState, values: list[Value]) -> Slot:
    t = ps.texts.get(k)
    if t is None:  # made by another trace (a string kept in a global between traces)
        raise TraceError("print() of text made from a traced value of another trace", ctx.current_loc(),
                         "format traced values where they are printed")
    ps.printed.add(k)
    tag = None if t.tag is None else _input(t.tag, values)
    return Slot(_input(t.value, values), t.conv, t.spec, t.keys, tag)


def _input(v: Value, values: list[Value]) -> int:
    for k, w in enumerate(values):
        if w.id == v.id:
            return k
    values.append(v)
    return len(values) - 1


def _token_box(ps: _PrintState) -> ctx.Box:
    """The print token's box, owned by the function's frame: made with the
    first print, by a `print_token` op put first in the function's block."""
    if ps.box is None:
        st = ctx.state()
        token = Value(RNG, ())
        op = Op(prim("print_token"), (), (token,), {}, ctx.current_loc())
        st.root.block.ops.insert(0, op)
        st.producers[token.id] = op
        st.value_frames[token.id] = st.root
        ps.box = ctx.Box(token, st.root)
    return ps.box


# --- no placeholder leaves the trace --------------------------------------------------------------
def checked_call(call: Callable[[], Any]) -> Any:
    """call(), the trace of the user's function: a placeholder that no print
    took, one in what it returns, or one in the message of an exception
    raised while tracing, is refused as formatting a traced value was
    before print() took them."""
    _state().options = np.get_printoptions()
    try:
        result = call()
    except Exception as e:
        _options_kept()
        leaked = _PLACEHOLDER.search(_message(e))
        if leaked is None:
            raise
        raise _leak_error(int(leaked.group(1))) from None
    if not _options_kept():
        raise UnsupportedError("np.set_printoptions(...) in a traced function that leaves NumPy's print options "
                               "changed is not supported: compiled code would change them only when it compiles",
                               ctx.current_loc(), "set them back before it returns, or use `with "
                               "np.printoptions(...):` around the prints")
    ps = _STATES.get(ctx.state())
    if ps is None:
        return result
    for k in ps.texts:
        if k not in ps.printed:
            raise _leak_error(k)
    leaked = _text_in(result, 0)
    if leaked is not None:
        raise _leak_error(int(leaked.group(1)))
    return result


def _options_kept() -> bool:
    """Are NumPy's print options as when the trace began? (Else they are set back.)"""
    before = _state().options
    if before is None or np.get_printoptions() == before:
        return True
    np.set_printoptions(**before)
    return False


def _print_options() -> tuple:
    """NumPy's print options this print() runs under that the traced function
    set (`with np.printoptions(precision=2):`), as (name, value) pairs: the
    program prints under them, the others as they are when it runs."""
    before, now = _state().options, np.get_printoptions()
    if before is None or now == before:
        return ()
    changed = tuple(sorted((k, v) for k, v in now.items() if before.get(k, v) != v))
    for k, v in changed:
        if v is not None and type(v) not in (bool, int, float, str):
            raise UnsupportedError(f"print() under np.printoptions({k}=...) set in a traced function is not "
                                   "supported: compiled code prints with options written into it",
                                   ctx.current_loc(), f"set {k} outside the jitted function")
    return changed


def _text_in(x: Any, depth: int) -> re.Match | None:
    """A placeholder in a string among the results (in containers a few levels deep)."""
    if isinstance(x, str):
        return _PLACEHOLDER.search(x)
    if depth > 8 or not isinstance(x, (list, tuple, dict)):
        return None
    items = [*x.keys(), *x.values()] if isinstance(x, dict) else x
    return next((m for m in (_text_in(e, depth + 1) for e in items) if m is not None), None)


def _message(e: BaseException) -> str:
    try:
        return " ".join(str(a) for a in e.args) if e.args else str(e)
    except Exception:
        return ""


def _leak_error(k: int) -> TraceError:
    ps = _STATES.get(ctx.state()) if ctx.tracing() else None
    t = ps.texts.get(k) if ps is not None else None
    return TraceError("a traced value is turned into text (an f-string, str(), format(), repr()) that is used "
                      "other than by print(): its value is known only at run time",
                      t.loc if t is not None else ctx.current_loc(),
                      "print it (print() of traced values runs in the compiled code), or build the text from "
                      "shapes and Python values only")
