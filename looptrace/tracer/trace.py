"""Trace a Python function into a `Program`: bind the arguments to tracers,
run the converted function once, and collect outputs and in-place writes to
arguments."""
from __future__ import annotations

import builtins
import dataclasses
import dis
import inspect
import itertools
import linecache
import numbers
import sys
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from looptrace.errors import TraceError, UnsupportedError
from looptrace.guards import Source
from looptrace.ir.core import RNG, Block, Program, SourceLoc, Value, walk

from . import context as ctx
from . import external, generators, kinds, printing, python_numbers, runtime
from . import semantics as sem
from .array import Tracer, is_tracer
from .convert import NotConvertible, convert
from .grown import DataTyped, picked_dtype
from .masked import is_selection
from .merge import MaybeNone
from .own_arrays import PromoteArray
from .numpy_api import LINALG, NAMESPACE, linalg_namespace, np_namespace
from .tuple_lists import ZippedColumn
from .row_lists import GrownRow
from .values import RngTracer, Segment, Undefined


def converted(fn: types.FunctionType) -> types.FunctionType:
    """`fn` with its loops and conditionals converted (or `fn` itself if its
    source is unavailable)."""
    try:
        _refuse_generator(fn)
        _refuse_outer_nonlocal_writes(fn)
        code = convert(fn)
    except NotConvertible as e:
        _unconverted(fn, str(e))
        # still run with NumPy's names resolved to the traced ones (np.empty
        # gives a traced array), and globals read and guarded as usual
        plain = types.FunctionType(fn.__code__, _patched_globals(fn.__globals__), fn.__name__,
                                   fn.__defaults__, fn.__closure__)
        plain.__kwdefaults__ = fn.__kwdefaults__
        return plain
    glb = _patched_globals(fn.__globals__)
    ns: dict[str, Any] = {}
    exec(code, glb, ns)
    factory = ns["__lt_factory"]
    ctx.register_user_code(factory.__code__)
    new = factory(*[_cell_value(fn, k, c) for k, c in enumerate(fn.__closure__ or ())])
    written = _nonlocal_writes(fn)
    if written:
        # the variables it assigns through `nonlocal` are the enclosing function's own: the
        # same cells, or the writes are lost (a nested `def add(v): nonlocal total; total += v`
        # called in a loop left total at 0.0); the others are read through their cells as before
        own = dict(zip(fn.__code__.co_freevars, fn.__closure__))
        closure = tuple(own[n] if n in written else c for n, c in zip(new.__code__.co_freevars, new.__closure__))
        new = types.FunctionType(new.__code__, new.__globals__, new.__name__, None, closure)
    new.__defaults__ = fn.__defaults__
    new.__kwdefaults__ = fn.__kwdefaults__
    # the converted function calls itself by its name (the factory's local): runtime.call maps it back,
    # so a recursion is converted once and counted (runtime.RECURSION_LIMIT)
    new.__lt_original__ = fn
    return new


def _refuse_generator(fn: types.FunctionType) -> None:
    """A generator function (`yield`), or an async one, called while tracing:
    refused at the call's line (its loops are not traced); one without
    loops or branches runs as Python (NotConvertible)."""
    flags = fn.__code__.co_flags
    if not flags & (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR):
        return
    if not _has_control_flow(fn.__code__):
        raise NotConvertible("a generator without loops or branches: it runs as Python, as it traces the same")
    if generators.steppable(fn):  # its loop, once per iteration: the consumer's loop (generators.py)
        return
    what = "a generator function (it uses `yield`)" if flags & inspect.CO_GENERATOR else "an async function"
    why = generators.refusal(fn) if flags & inspect.CO_GENERATOR else None
    raise UnsupportedError(
        f"`{fn.__name__}` is {what}: looptrace does not trace " +
        (f"this generator function: {why}" if why else "generator or async functions"),
        ctx.current_loc(),
        f"make `{fn.__name__}` return an array or a list of its items, or write its loop in the jitted function")


def _refuse_outer_nonlocal_writes(fn: types.FunctionType) -> None:
    """`nonlocal t; t += 1` in the jitted function (or a helper from outside
    the traced code, or a function nested in either) writing a variable of
    an enclosing function that is not traced: the write would run once,
    while tracing, and leave the variable holding a traced value; the
    compiled function would never change it. Refused at the write's line,
    as `global` writes are (convert._refuse_global_writes). A function the
    traced code defined writes the traced function's own variables: kept."""
    if ctx.USER_CODE.get(id(fn.__code__)) is fn.__code__:
        return
    code = fn.__code__
    if code not in _OUTER_STORES:  # (bytecode read once per function: converted() runs at every traced call)
        _OUTER_STORES[code] = _outer_cell_store(code, set(code.co_freevars))
    hit = _OUTER_STORES[code]
    if hit is None:
        return
    name, code, line = hit
    text = linecache.getline(code.co_filename, line).rstrip("\n")
    raise UnsupportedError(
        f"this function assigns `{name}` of an enclosing function (`nonlocal {name}`); "
        "a looptrace-compiled function cannot change Python variables outside it (the assignment "
        "would run once, when the function is traced, not on every call)",
        SourceLoc(code.co_filename, line, text),
        f"pass `{name}` in as an argument and return its new value (`{name} = f(x, {name})` after the call), "
        "or keep the counter in an array argument and write it in place")


_OUTER_STORES: dict = {}  # code -> its `_outer_cell_store`


def _outer_cell_store(code: types.CodeType, outer: set[str]) -> tuple | None:
    """(name, code, line) of the first STORE_DEREF/DELETE_DEREF in `code` (or
    a function nested in it) of one of the `outer` cells (free variables of
    the traced function: an enclosing function's), or None."""
    if not outer:
        return None
    for ins in dis.get_instructions(code):
        if ins.opname in ("STORE_DEREF", "DELETE_DEREF") and ins.argval in outer \
                and ins.argval in code.co_freevars:
            line = ins.positions.lineno if ins.positions and ins.positions.lineno else code.co_firstlineno
            return ins.argval, code, line
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            hit = _outer_cell_store(c, (outer & set(c.co_freevars)) - set(c.co_cellvars))
            if hit is not None:
                return hit
    return None


def _nonlocal_writes(fn: types.FunctionType) -> set[str]:
    """The closure variables `fn` assigns (`nonlocal x; x = ...`)."""
    code = fn.__code__
    if not code.co_freevars:
        return set()
    return {ins.argval for ins in dis.get_instructions(code) if ins.opname == "STORE_DEREF"} & \
        set(code.co_freevars)


_warned_unconverted: set = set()


def _unconverted(fn: types.FunctionType, why: str) -> None:
    """A function whose source cannot be read runs as Python while tracing:
    its loops are unrolled. Warn once per function, and tell explain."""
    code = getattr(fn, "__code__", None)
    if code is not None and not _has_control_flow(code):
        return  # straight-line code traces the same either way
    where = f"{getattr(fn, '__qualname__', fn)} ({code.co_filename}:{code.co_firstlineno})" if code else str(fn)
    text = (f"looptrace cannot read the source of {where}: {why}. It runs as plain Python while tracing, "
            "so its loops are unrolled (trace and compile time grow with every iteration) and "
            "conditions on array values cannot be traced")
    if ctx.tracing() and text not in ctx.state().notes:
        ctx.state().notes.append(text)
    if code is not None and code not in _warned_unconverted:
        _warned_unconverted.add(code)
        import warnings

        from looptrace.errors import UnrollWarning

        warnings.warn(UnrollWarning(text + "; define it in a file or a notebook cell"), stacklevel=3)


def _has_control_flow(code: types.CodeType) -> bool:
    """Does this bytecode loop or branch (nested functions included)?"""
    import dis

    for ins in dis.get_instructions(code):
        if ins.opname == "FOR_ITER" or "JUMP" in ins.opname:
            return True
    return any(_has_control_flow(c) for c in code.co_consts if isinstance(c, types.CodeType))


def _cell_value(fn: types.FunctionType, k: int, cell) -> Any:
    """A closure variable, read through its cell (guarded, or an implicit argument)."""
    name = fn.__code__.co_freevars[k]
    if ctx.USER_CODE.get(id(fn.__code__)) is fn.__code__:
        # a function the traced code defined (`def get(): return cache` in f): its cells are the
        # traced function's own variables (an object f made is f's to change), read as they are
        return cell.cell_contents
    return external.read(_patch_value(cell.cell_contents), Source("cell", cell, name))


def _patched_globals(glb: dict) -> dict:
    """The globals the converted code runs with: the module's own, read lazily
    and guarded (tracer/external.py), plus the `__lt` runtime."""
    own = {"__lt": runtime, "__builtins__": glb.get("__builtins__", builtins)}
    return external.TracedGlobals(glb, own, _patch_value)


def _patch_value(v: Any) -> Any:
    if v is np:
        return np_namespace
    if v is np.linalg:
        return linalg_namespace
    if v is np.random:
        return external.RandomNamespace()
    if callable(v) and getattr(v, "__module__", None) in ("numpy", "numpy.linalg") or isinstance(v, np.ufunc):
        name = getattr(v, "__name__", None)
        table = LINALG if "linalg" in (getattr(v, "__module__", "") or "") else NAMESPACE
        if name in table:
            return table[name]
    return v


# --- arguments ----------------------------------------------------------------------------
@dataclass
class ArgSpec:
    """How one positional argument enters the traced program."""

    kind: str  # "array", "scalar", "rng", "static"
    dtype: Any = None
    shape: tuple = ()
    weak: bool = False
    device: bool = False  # an array in GPU memory (__cuda_array_interface__)
    scalar: bool = False  # a NumPy scalar (np.float64(2.0)): immutable, `k += 1` rebinds it
    alias_of: int | None = None  # kind "static": the very array of an earlier argument (api.py `_execute_aliased`)


def device_array_spec(x: Any) -> tuple[np.dtype, tuple] | None:
    """(dtype, shape) of a GPU array (anything with __cuda_array_interface__: numba,
    CuPy, PyTorch CUDA tensors; or the CUDA simulator's arrays), else None."""
    cai = getattr(x, "__cuda_array_interface__", None)
    if isinstance(cai, dict):
        return np.dtype(cai["typestr"]), tuple(int(d) for d in cai["shape"])
    if type(x).__name__ == "FakeCUDAArray":  # numba's CUDA simulator has no interface dict
        return np.dtype(x.dtype), tuple(x.shape)
    return None


def arg_spec(name: str, x: Any, static: bool) -> ArgSpec:
    if static:
        return ArgSpec("static")
    if isinstance(x, np.random.Generator):
        return ArgSpec("rng", RNG)
    if isinstance(x, bool | numbers.Integral | float | complex) and not isinstance(x, np.generic):
        if isinstance(x, int) and not isinstance(x, bool) and not -2**63 <= x < 2**63:
            raise ValueError(f"argument `{name}` = {x} does not fit in int64")
        return ArgSpec("scalar", np.asarray(x).dtype, (), weak=True)
    if isinstance(x, (np.ndarray, np.generic)):
        _check_array_class(name, x)
        if x.dtype.kind not in "biufc":
            raise TypeError(f"argument `{name}` has dtype {x.dtype}; looptrace compiles numeric arrays only")
        # a non-native byte order (big-endian data) is converted at the call (api.runtime_arg)
        return ArgSpec("array", x.dtype.newbyteorder("="), tuple(x.shape), scalar=isinstance(x, np.generic))
    device = device_array_spec(x)
    if device is not None:
        if device[0].kind not in "biufc":
            raise TypeError(f"argument `{name}` has dtype {device[0]}; looptrace compiles numeric arrays only")
        return ArgSpec("array", device[0], device[1], device=True)
    if is_tracer(x):
        raise UnsupportedError(f"argument `{name}` is a value being traced: a looptrace.grad (value_and_grad, "
                               "vjp) called inside a function looptrace is tracing or differentiating, such "
                               "as the gradient of a gradient, is not supported", None,
                               "differentiate once; for second derivatives use finite differences of the gradient")
    if isinstance(x, (list, tuple)):
        raise TypeError(f"argument `{name}` is a {type(x).__name__}; pass a NumPy array "
                        "(np.asarray(...)) or name it in static_argnames")
    if x is None or callable(x) or isinstance(x, (np.dtype, str, bytes)):
        return ArgSpec("static")  # a function, a dtype, a mode string: a constant of the program, keyed by value
    raise TypeError(f"argument `{name}` has unsupported type {type(x).__name__}; pass NumPy arrays or "
                    "numbers, or name it in static_argnames")


def _check_array_class(name: str, x: Any) -> None:
    """Array subclasses whose meaning NumPy's own functions would change."""
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"argument `{name}` is a masked array; looptrace compiles plain arrays and would "
                        "ignore its mask: pass np.ma.filled(x, fill) (or x.data and x.mask as two arrays)")
    if isinstance(x, np.matrix):
        raise TypeError(f"argument `{name}` is a np.matrix, whose `*` is a matrix product; pass "
                        "np.asarray(x)")
    why = external.subclass_refusal(type(x)) if isinstance(x, np.ndarray) and type(x) is not np.ndarray else None
    if why is not None:
        raise TypeError(f"argument `{name}` is {why}; pass np.asarray({name}) (a plain array), or call the "
                        "function without looptrace")


def _bind_arg(spec: ArgSpec, x: Any) -> tuple[Any, Value | None]:
    if spec.kind == "static":
        return x, None
    v = Value(spec.dtype, spec.shape)
    if spec.kind == "rng":
        return RngTracer(v), v
    t = Tracer(v, weak=spec.weak)
    t.array0d = spec.kind == "array" and v.ndim == 0 and not spec.scalar  # a 0-d ndarray, which `+=` writes into
    if spec.kind == "array":
        from . import layout

        t.ghost = layout.arg_ghost(x)  # its layout decides which reshapes are views (layout.py)
        external.remember_class(t, x)  # an ndarray subclass's own methods (external.subclass_attribute)
    return t, v


# --- tracing ------------------------------------------------------------------------------------
def _call_by_kind(conv, fn, bound: list) -> Any:
    """conv(*bound), each value passed as its parameter takes it: a
    keyword-only one by name, *args and **kwargs unpacked."""
    params = list(inspect.signature(fn).parameters.values())
    if all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        return conv(*bound)
    pos, kw = [], {}
    for p, v in zip(params, bound):
        if p.kind == p.VAR_POSITIONAL:
            pos.extend(v)
        elif p.kind == p.KEYWORD_ONLY:
            kw[p.name] = v
        elif p.kind == p.VAR_KEYWORD:
            kw.update(v)
        else:
            pos.append(v)
    return conv(*pos, **kw)

def trace_function(fn: types.FunctionType, names: list[str], args: tuple, specs: list[ArgSpec],
                   name: str) -> Program:
    """The program of `fn` on arguments of these specs; traced again where an
    array it makes from Python values is written under traced control
    (own_arrays.py)."""
    promoted: set = set()
    while True:
        try:
            return _trace_once(fn, names, args, specs, name, promoted)
        except PromoteArray as e:
            if e.site in promoted:
                raise
            promoted.add(e.site)


def _trace_once(fn, names, args, specs, name, promoted: set) -> Program:
    with ctx.trace_scope() as st:
        st.promoted = promoted
        st.externals = ext = external.Externals(tuple(args))
        bound, arg_vals = [], []
        for i, (spec, x) in enumerate(zip(specs, args)):
            if spec.alias_of is not None:  # the same array as an earlier argument: the same traced array
                bound.append(bound[spec.alias_of])
                continue
            obj, v = _bind_arg(spec, x)
            bound.append(obj)
            if v is not None:
                arg_vals.append(v)
            elif x is not None:
                ext.register(x, Source("arg", i, names[i]))  # a static object: its attributes are guarded
        st.root.block.args = arg_vals
        st.arg_boxes = {id(obj._box): i for i, (obj, spec) in enumerate(zip(bound, specs)) if spec.kind == "array"}
        result = printing.checked_call(lambda: _call_by_kind(converted(fn), fn, bound))  # (text goes to print())
        program = Program(st.root.block, name)
        leaves, tree = _flatten_output(result)
        results = [sem.as_value(l) for l in leaves]
        n_leaves = len(leaves)
        leaves = leaves[:n_leaves - tree[2]] if tree[0] == "kinds" else leaves  # the tags: results only
        choices, tree = _result_choices(leaves, results, tree, st)  # (appends the choices to `results`)
        for v in results:
            st.check_visible(v)
        writebacks = _writebacks(bound, specs, len(results)) + _implicit_writebacks(ext, len(args))
        st.root.block.args = arg_vals + [arg for _, _, _, arg in ext.implicit]
        st.root.block.results = results + [v for _, v in writebacks]
        program.writebacks = [(argi, len(results) + k) for k, (argi, _) in enumerate(writebacks)]
        program.out_tree = tree
        program.result_args = _result_args(leaves, st, ext, len(args))
        program.result_views = _result_views(leaves, results, writebacks, st)
        program.result_subviews = _result_subviews(leaves, results, st)
        program.result_arg_views = _result_arg_views(leaves, results, program, st, len(args))
        program.fresh_results = _fresh_results(leaves, results, st)
        program.result_choices = choices
        program.sure_writes = dict(st.sure_writes)
        program.loops = list(st.loops.values())  # trace order: source order, helpers where called
        _note_body_lines(program, st.loops)
        program.arg_specs = specs
        program.captured = _held_elsewhere(st.captured)
        program.layout_args = dict(st.layout_args)
        program.notes = list(st.notes)
        program.guards = ext.guard_set({argi - len(args) for argi, _ in writebacks if argi >= len(args)})
        python_numbers.guard(program, st.python_ints, st.python_divs, st.python_sums, st.python_casts, st.python_steps)
        return program


def _note_body_lines(program: Program, loops: dict) -> None:
    """Each source loop's `body_lines`: where the ops traced inside it came from."""
    for op in walk(program.body):
        info = loops.get((op.loc.file, op.loc.line)) if op.blocks and op.loc is not None else None
        if info is not None:
            info.body_lines = info.body_lines | {(o.loc.file, o.loc.line) for b in op.blocks for o in walk(b)
                                                 if o.loc is not None}


_VIEW_STEPS = ("slice", "reshape", "transpose")


def _result_args(leaves: list, st, ext: external.Externals, n_args: int) -> dict:
    """The results that are an argument object itself (`s[1] = 7; return s`),
    or an outside array the function reads (`return G` of a global G: an
    implicit argument, its position counted after the explicit ones, as
    `_implicit_writebacks`): the call returns the caller's array, as Python
    does (it returned a copy of the global, and a write into the result did
    not reach it)."""
    boxes = _argument_boxes(st, ext, n_args)
    return {k: boxes[id(leaf._box)] for k, leaf in enumerate(leaves)
            if is_tracer(leaf) and leaf.base is None and id(leaf._box) in boxes}


def _argument_boxes(st, ext: external.Externals, n_args: int) -> dict:
    """id(box) -> position of the arguments' arrays, then of the outside arrays read (implicit arguments)."""
    boxes = dict(st.arg_boxes)
    for k, (_, kind, tracer, _) in enumerate(ext.implicit):
        if kind == "array" and is_tracer(tracer) and tracer._box is not None:
            boxes.setdefault(id(tracer._box), n_args + k)
    return boxes


def _result_views(leaves: list, results: list, writebacks: list, st) -> dict:
    """The results that are views of an argument the program writes into
    (`return a[1:]`, `return b[::2].T` after a loop writes `a`, `b`): position
    -> (the argument's position, the slices, reshapes and transposes that take
    the view from the argument's final value). The kernel's value of such a
    result is a copy of those contents; the call returns the view of the
    caller's array instead, after the write-back, so that a later write into
    either is seen by the other, as in NumPy (Program.result_views). A view
    through anything else (a traced start, a gather) keeps the copy."""
    finals = {v.id: argi for argi, v in writebacks}
    producer = {op.outputs[0].id: op for op in st.root.block.ops if len(op.outputs) == 1}
    views = {}
    for k, (leaf, v) in enumerate(zip(leaves, results)):
        root = leaf
        while is_tracer(root) and root.base is not None:  # a view of a view: its parent's root
            root = root.base
        if root is leaf or not is_tracer(root) or id(root._box) not in st.arg_boxes or v.ndim == 0:
            continue
        steps = []
        while v.id not in finals:
            op = producer.get(v.id)
            if op is None or op.prim.name not in _VIEW_STEPS or len(op.inputs) != 1 or op.blocks \
                    or any(not isinstance(d, int) for d in op.out.shape):
                break
            steps.append((op.prim.name, dict(op.attrs)))
            v = op.inputs[0]
        else:
            if finals[v.id] == st.arg_boxes[id(root._box)]:  # (no steps: `return x[:]`, a view of all of x)
                views[k] = (finals[v.id], tuple(reversed(steps)))
    return views


def _result_arg_views(leaves: list, results: list, program: Program, st, n_args: int) -> dict:
    """The results that are views of an argument the program does not write
    (`return A[0]`, `return x[1:].T`): position -> (the argument's position,
    the steps that take the view from it as in `_result_subviews`, None where
    they are not known). A view of a read-only argument (a broadcast_to, an
    array with writeable=False) is read-only in NumPy; the call gives it so
    (api.py `plain_results`), where the kernel's array was writable and
    wrote through into the caller's protected memory, or the interpreter's
    was a writable copy (probe s48)."""
    written = {argi for argi, _ in program.writebacks}
    boxes = _argument_boxes(st, st.externals, n_args)
    producer = None
    views = {}
    for k, (leaf, v) in enumerate(zip(leaves, results)):
        if k in program.result_views or not is_tracer(leaf) or leaf.base is None or v.ndim == 0:
            continue
        root = leaf
        while is_tracer(root) and root.base is not None:
            root = root.base
        argi = boxes.get(id(root._box)) if is_tracer(root) else None
        if argi is None or argi in written:  # (a global's view too: `return G[1:]` is a view of G)
            continue
        steps = _index_steps(leaf, root)
        if steps is None:
            producer = producer or {op.outputs[0].id: op for op in st.root.block.ops if len(op.outputs) == 1}
            steps = _view_steps(v, root._box.value.id, producer)
        views[k] = (argi, steps)
    return views


def _result_subviews(leaves: list, results: list, st) -> dict:
    """The results that are views of another result, an array the function
    makes (`y = x * 2; return y, y[1:], y.T, y.real`): position -> (the
    other result's position, the steps that take the view from it, each
    (primitive name, attrs as items): a slice, reshape, transpose, real or
    imag, or ("index", the user's basic index) for a view by indexing; none
    for `y[:]`). The kernel gives each as an array of its own; the call
    returns the view of the other result instead, as NumPy does
    (Program.result_subviews). A result that is an earlier result's very
    object (`return y, y`, `y.real` of a real y) maps to it with steps None:
    the call returns that object again (the kernel gave two arrays sharing
    one buffer)."""
    views = {}
    for k, leaf in enumerate(leaves):
        same = _same_leaf(leaves, results, k, st)
        if same is not None:
            views[k] = (same, None)
    owners = {}
    for j, (leaf, v) in enumerate(zip(leaves, results)):
        if is_tracer(leaf) and leaf.base is None and id(leaf._box) not in st.arg_boxes and v.ndim > 0:
            owners.setdefault(id(leaf), j)
    if not owners:
        return views
    producer = {op.outputs[0].id: op for op in st.root.block.ops if len(op.outputs) == 1}
    for k, (leaf, v) in enumerate(zip(leaves, results)):
        if k in views or not is_tracer(leaf):
            continue
        root = leaf
        while is_tracer(root) and root.base is not None:
            root = root.base
        j = owners.get(id(root)) if root is not leaf else None
        if j is None:
            continue
        # the user's indices first: the value may not be a slice of the other's (`y[..., 1]` of an
        # elementwise y reads the element of the operands), then the program's ops
        steps = _index_steps(leaf, root)
        steps = _view_steps(v, results[j].id, producer) if steps is None else steps
        if steps is not None:
            views[k] = (j, steps)
    return dict(sorted(views.items()))  # (in order: `return y, z, z` of z = y[1:] takes z's view first)


def _same_leaf(leaves: list, results: list, k: int, st) -> int | None:
    """The position of an earlier result that is leaf k's very array object
    (`return y, y`); None for a number, or for an argument (Program.result_args
    returns the caller's array for each)."""
    leaf = leaves[k]
    if not is_tracer(leaf) or (results[k].ndim == 0 and not leaf.array0d and leaf.base is None):
        return None
    if leaf.base is None and id(leaf._box) in st.arg_boxes:
        return None
    return next((j for j in range(k) if leaves[j] is leaf), None)


def _index_steps(leaf, root) -> tuple | None:
    """The basic indices (`y[1:]`, `y[..., 1]`, `y[None, ::2]`) that take the
    view `leaf` from `root`, as ("index", key) steps, each key a tuple of
    ints, None, Ellipsis and ("slice", start, stop, step) (hashable); None
    where a link is made another way (a reshape, a traced start)."""
    steps = []
    t = leaf
    while t is not root:
        if type(t) is not Tracer or t.base is None or t.index is None:
            return None
        key = _static_key(t.index)
        if key is None:
            return None
        steps.append(("index", key))
        t = t.base
    return tuple(reversed(steps))


def _static_key(key: Any) -> tuple | None:
    items = []
    for it in key if isinstance(key, tuple) else (key,):
        if it is None or it is Ellipsis:
            items.append(it)
        elif isinstance(it, (int, np.integer)) and not isinstance(it, (bool, np.bool_)):
            items.append(int(it))
        elif isinstance(it, slice):
            parts = (it.start, it.stop, it.step)
            if not all(p is None or isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))
                       for p in parts):
                return None
            items.append(("slice", *(None if p is None else int(p) for p in parts)))
        else:
            return None
    return tuple(items)


_SUBVIEW_STEPS = _VIEW_STEPS + ("real", "imag")


def _view_steps(v, target: int, producer: dict) -> tuple | None:
    """The slices, reshapes, transposes and complex parts (primitive name,
    attrs), from the value whose id is `target` outwards, that make `v`;
    None where `v` is made another way."""
    steps = []
    while v.id != target:
        op = producer.get(v.id)
        if op is None or op.prim.name not in _SUBVIEW_STEPS or len(op.inputs) != 1 or op.blocks \
                or any(not isinstance(d, int) for d in op.out.shape) \
                or op.prim.name in ("real", "imag") and np.dtype(op.inputs[0].dtype).kind != "c":
            return None
        steps.append((op.prim.name, tuple(op.attrs.items())))
        v = op.inputs[0]
    return tuple(reversed(steps))


def _fresh_results(leaves: list, results: list, st) -> tuple:
    """The results (positions) that are new arrays in the plain function, not
    an argument or a view of one (`x.copy()`, `np.array(out)`): the passes
    keep those the kernel may give as an argument's memory (pipeline.py
    `_aliased_fresh_results`), which the call copies (api.py)."""
    return tuple(k for k, (leaf, v) in enumerate(zip(leaves, results))
                 if is_tracer(leaf) and leaf.base is None and id(leaf._box) not in st.arg_boxes
                 and (v.ndim > 0 or leaf.array0d)  # (a 0-d array: `x.copy()` of a 0-d x is x's value too)
                 and not any(leaf is other for other in leaves[:k]))  # (`return y, y`: one array twice)


def _result_choices(leaves: list, results: list, tree: Any, st) -> tuple[dict, Any]:
    """The results that are, at run time, one of the argument arrays or a
    view of one, which argument decided by a traced condition: a name a
    traced `if` bound to one argument or another (`r = x if s > 0 else y`),
    or the buffers of a loop of a run-time trip count that swaps them (`u,
    v = v, u`: control.py `_write_back_swaps` binds each name to the
    caller's array its parity picks). The kernel gives such a result as an
    array of its own (the right values, but a write into the argument
    afterwards is not seen through it, and `r is x` is False). For each,
    a traced int64 is appended to `results`, a tag as tracer/kinds.py's:
    the position of the argument the result is (or is a view of), -1 where
    it is an array the function made; position -> (the tag's result
    position, the steps taking the view from that argument as in
    `_result_subviews`, None for the argument itself) (Program.result_choices,
    api.py `plain_results`). `tree` with the tags counted as kinds tags."""
    choices: dict = {}
    producer = None
    for k, (leaf, v) in enumerate(zip(leaves, results)):
        if not is_tracer(leaf) or v.ndim == 0:
            continue
        root = leaf
        while is_tracer(root) and root.base is not None:
            root = root.base
        if not is_tracer(root) or root._box is None or id(root._box) in st.arg_boxes:
            continue
        which = _which_argument(root._box, st, {id(root._box)})
        if not is_tracer(which):  # (no traced choice: made by the function, or an argument known here)
            continue
        steps = None
        if root is not leaf:
            steps = _index_steps(leaf, root)
            if steps is None:
                producer = producer or {op.outputs[0].id: op for op in st.root.block.ops if len(op.outputs) == 1}
                steps = _view_steps(v, root._box.value.id, producer)
                if steps is None:
                    continue  # (a view made another way: the kernel's copy, as before)
        choices[k] = (which, steps)
    if not choices:
        return {}, tree
    at = len(results)
    positions = {}
    for j, (k, (which, steps)) in enumerate(choices.items()):
        results.append(sem.as_value(which, np.int64))
        positions[k] = (at + j, steps)
    n = len(choices)
    tree = ("kinds", tree[1], tree[2] + n) if tree[0] == "kinds" else ("kinds", tree, n)
    return positions, tree


_MAX_LINK_DEPTH = 16


def _which_argument(box: ctx.Box, st, seen: set) -> Any:
    """Which argument the array of `box` is at run time: its position (an
    int, or a traced int64 where conditions decide), -1 where it is an array
    the function made; from the roots its links choose (tracer/array.py
    `identity`: names bound by nested `if`s, each link's condition seen
    once). Where a link leads to no box (a view), `_which_argument_by_sides`."""
    from .array import identity, live_component, traced_truth

    if id(box) in st.arg_boxes:
        return st.arg_boxes[id(box)]
    if any(other is None for b in live_component(box) for _, _, other, _ in b.links or ()):
        return _which_argument_by_sides(box, st, seen)
    picks = [(st.arg_boxes[root], where) for root, where in identity(box, {}).items() if root in st.arg_boxes]
    which: Any = -1
    for argi, where in sorted(picks, key=lambda p: -p[0]):
        truth = traced_truth(where)
        if truth is None:
            return argi
        which = sem.select(truth, _as_int64(argi), _as_int64(which))
    return which


def _which_argument_by_sides(box: ctx.Box, st, seen: set, depth: int = 0) -> Any:
    """Which argument the array of `box` is at run time (tracer/array.py
    `link`: `box` is `other` where `cond == when`): its position (an int,
    or a traced int64 where a condition decides), -1 where it is an array
    the function made (on a side no link names), None where a side is a
    view or the links do not say."""
    if id(box) in st.arg_boxes:
        return st.arg_boxes[id(box)]
    if depth > _MAX_LINK_DEPTH:
        return None
    sides: dict = {}
    for cond, when, other, holder in box.links or ():
        f = st.value_frames.get(cond.id) if cond is not None else None
        if cond is None or (f is not None and not ctx.visible(f, st.frame)) \
                or (holder is not None and holder() is None) or (other is not None and id(other) in seen):
            continue  # (a link of a closed `if`, or back to where the walk came from)
        sides.setdefault(cond.id, (cond, {}))[1].setdefault(when, []).append(other)
    for cond, by_side in sides.values():
        picks = []
        for when in (True, False):
            others = by_side.get(when, [])
            if len(others) > 1 or (others and others[0] is None):
                break  # (two arrays on one side, or a view: not known)
            picks.append(_which_argument_by_sides(others[0], st, seen | {id(others[0])}, depth + 1) if others else -1)
        if len(picks) < 2 or any(p is None for p in picks):
            continue
        if not is_tracer(picks[0]) and not is_tracer(picks[1]) and picks[0] == picks[1]:
            if picks[0] == -1:
                continue  # (no argument on either side: another condition may say)
            return picks[0]
        return sem.select(Tracer(cond), _as_int64(picks[0]), _as_int64(picks[1]))
    return -1 if not sides else None


def _as_int64(x: Any) -> Any:
    return x if is_tracer(x) else sem.wrap(sem.as_value(np.int64(x)))


def _held_elsewhere(captured: list) -> list:
    """The arrays of unknown origin baked into the program (context.py
    `const_value`) that something besides the trace still holds once it is
    done, with their snapshots: only those can change between calls, and
    every warm call checks them (on the general path: 35 us a call for
    spectrogram's `np.hanning(n_fft)`, an array NumPy made while the
    function was traced and that died with its frame). An array owning its
    memory (no base) that nothing else refers to is dropped: nothing can
    write into it any more. A view is kept (its base may be anyone's)."""
    kept = []
    for pair in captured:
        a = pair[0]
        # references: the pair, `a`, getrefcount's argument
        if a.base is not None or sys.getrefcount(a) > 3:
            kept.append(pair)
        del a
    return kept


def _implicit_writebacks(ext: external.Externals, n_args: int) -> list[tuple[int, Value]]:
    """Outside arrays written in place: written back after the call (their
    index counts after the explicit arguments)."""
    out = []
    for k, (_, kind, tracer, arg) in enumerate(ext.implicit):
        if kind == "array" and tracer._box.value is not arg:
            out.append((n_args + k, tracer._box.value))
    return out


def _writebacks(bound: list, specs: list[ArgSpec], n_results: int) -> list[tuple[int, Value]]:
    out = []
    for i, (obj, spec) in enumerate(zip(bound, specs)):
        if spec.kind == "array" and obj._box.value is not ctx.state().root.block.args[_arg_pos(specs, i)]:
            out.append((i, obj._box.value))
    return out


def _arg_pos(specs: list[ArgSpec], i: int) -> int:
    return sum(1 for s in specs[:i] if s.kind != "static")


def _flatten_output(x: Any) -> tuple[list, Any]:
    """Leaves (traced values) and a tree to rebuild the output from them."""
    leaves: list = []

    def _grown_part(seg: Segment) -> tuple:
        """A segment of a returned list, its length known only at run time:
        its stacked elements, one leaf, which build_output reads back as
        Python numbers, NumPy scalars, rows or tuples, as they were appended."""
        from .numpy_api import _segment_value

        if seg.mixed:
            raise UnsupportedError("returning a list of tuples of numbers of different types that a traced loop "
                                   "appended to under a condition is not supported", seg.loc or ctx.current_loc(),
                                   "return one list (or np.array) per field")
        leaves.append(_segment_value(seg))
        return ("seg", len(leaves) - 1, bool(seg.weak), seg.fields, getattr(seg, "depth", 0))

    def walk(v: Any) -> Any:
        if isinstance(v, Undefined):
            v._fail()
        if is_selection(v):
            return _picked(v)
        if isinstance(v, DataTyped):  # np.array of a list grown under a condition: typed after the run
            leaves.append(v.array)
            return ("dtyped", len(leaves) - 1, v.empty_dtype)
        if isinstance(v, GrownRow):  # a row of a comprehension of rows: Python's list (row_lists.py)
            leaves.append(v)
            return ("row", len(leaves) - 1, bool(v.weak))
        if is_tracer(v):
            leaves.append(v)
            k = kinds.kinds_of(v)
            if k is not None:  # its type is chosen at run time: by a tag, a result after the leaves
                tags.append(k[0])
                return ("kleaf", len(leaves) - 1, len(tags) - 1, k[1])
            if v.ndim == 0 and v.array0d and not v.weak:  # a 0-d ndarray stays one (build_output)
                return ("leaf", len(leaves) - 1, False, np.dtype(v.dtype).str)
            return ("leaf", len(leaves) - 1, v.weak)
        if isinstance(v, MaybeNone):  # None at run time unless the flag holds (merge.returned)
            leaves.append(v.flag)
            return ("maybe", len(leaves) - 1, walk(v.value))
        if isinstance(v, tuple):
            if hasattr(type(v), "_fields"):  # a NamedTuple: rebuilt as its class (build_output)
                return ("tuple", [walk(e) for e in v], type(v))
            return ("tuple", [walk(e) for e in v])
        if isinstance(v, ZippedColumn):  # a column of zip(*pairs): Python's tuple (tuple_lists.py)
            return ("tuple_of", walk(list(v)))
        if isinstance(v, list):
            if any(isinstance(e, Segment) for e in v):
                # a list a traced loop grew, of a length known while tracing (a comprehension over a
                # range): its elements, each read from the stack (grown.expand; a run-time length refused)
                from . import grown

                # (one of a run-time length, or too long to expand: `return x.tolist()`, built after the run)
                # (a list of rows, row_lists.py: each rebuilt as a list from the stack after the run)
                if any(isinstance(e, Segment) and (e.count is not None or getattr(e, "depth", 0)) for e in v) \
                        or sum(grown.sizes(v, "returning")) > grown.EXPAND_MAX:
                    return ("grown", [_grown_part(e) if isinstance(e, Segment) else ("item", walk(e)) for e in v])
                v = grown.expand(list(v), "returning")
            return ("list", [walk(e) for e in v])
        if isinstance(v, dict):
            return ("dict", {k: walk(e) for k, e in v.items()})
        if isinstance(v, RngTracer):
            raise UnsupportedError("returning a random generator from a traced function is not supported",
                                   ctx.current_loc())
        if isinstance(v, np.ndarray):  # an array made from Python values (own_arrays.OwnArray):
            return ("const", np.array(v))  # a plain ndarray, copied on each call (build_output)
        record = _record_of(v)
        if record is not None:  # a dataclass or SimpleNamespace the function made: rebuilt each call
            return ("tuple", [walk(getattr(v, n)) for n in record.names], record)
        _refuse_traced_inside(v)
        return ("const", v)

    def _picked(sel) -> tuple:
        """A returned x[mask] or x[a:b] whose length is known only at run time:
        the whole x and the mask (or the slice's clipped bounds) as leaves,
        which build_output picks from with NumPy after the run (a copy for a
        mask, a view for a slice, as NumPy's; bounds read from an array too,
        picked once here). A slice with a step other than 1 is still refused."""
        if sel.stepped is not None or (sel.bounds and not sel.span) or (sel.windowed and not sel.bounds):
            sel.escaped()
        if sel.bounds and _from_int_arguments(sel.bounds):
            sel.escaped()  # (bounds an int argument decides: specialized on it instead, api.py, as before)
        axis = None if sel.bounds else _positions_axis(sel)
        if axis is not None:  # np.nonzero(c)[k]: picked from the mask alone, no index array stored
            leaves.append(sel.mask)
            return ("picked", len(leaves) - 1, "positions", (len(leaves) - 1,), axis)
        leaves.append(sel.data)
        at = len(leaves) - 1
        if sel.bounds:
            for b in sel.span:
                leaves.append(b if is_tracer(b) else sem.wrap(sem.as_value(np.int64(b))))
            return ("picked", at, "slice", (at + 1, at + 2), sel.axis)
        leaves.append(sel.mask)
        return ("picked", at, "mask", (at + 1,), sel.axis)

    tags: list = []
    tree = walk(x)
    if tags:
        n = len(leaves)
        tree = ("kinds", _shift_tags(tree, n), len(tags))
        leaves += tags
    return leaves, tree


@dataclass(frozen=True)
class Record:
    """How to rebuild a returned dataclass instance or SimpleNamespace from
    its attributes' values (an output tree's "tuple" with a third item):
    made without calling __init__ again, its attributes set as the traced
    call left them (__post_init__'s included)."""

    cls: type
    names: tuple

    def __call__(self, *values: Any) -> Any:
        if self.cls is types.SimpleNamespace:
            return types.SimpleNamespace(**dict(zip(self.names, values)))
        obj = self.cls.__new__(self.cls)
        for name, v in zip(self.names, values):
            object.__setattr__(obj, name, v)  # (a frozen dataclass's too)
        return obj


def _record_of(v: Any) -> Record | None:
    """A Record for a returned object the function made (not one from
    outside it, returned as itself) that is a dataclass instance or a
    SimpleNamespace with plain attributes; else None."""
    ex = external.current()
    if ex is not None and ex.source_of(v) is not None:
        return None
    if type(v) is types.SimpleNamespace:
        return Record(types.SimpleNamespace, tuple(vars(v)))
    if not dataclasses.is_dataclass(v) or isinstance(v, type):
        return None
    if type(v).__new__ is not object.__new__:
        return None
    names = tuple(vars(v)) if hasattr(v, "__dict__") else tuple(f.name for f in dataclasses.fields(v))
    return Record(type(v), names)


def _holds_traced(v: Any) -> bool:
    """Does v hold a traced value in its items or attributes (a few levels
    deep, a bounded number of objects looked at)?"""
    todo, seen = [(v, 0)], 0
    while todo and seen < 10000:
        x, depth = todo.pop()
        seen += 1
        if is_tracer(x) or isinstance(x, (RngTracer, MaybeNone, Segment)):
            return True
        if depth > 4 or isinstance(x, (str, bytes, numbers.Number, np.ndarray, type, types.ModuleType)):
            continue
        if isinstance(x, dict):
            items = x.values()
        elif isinstance(x, (tuple, list, set, frozenset)):
            items = x
        else:
            attrs = getattr(x, "__dict__", None)
            items = attrs.values() if isinstance(attrs, dict) else ()
        todo.extend((e, depth + 1) for e in itertools.islice(items, 1000))
    return False


def _refuse_traced_inside(v: Any) -> None:
    """A returned object looptrace cannot rebuild after the run (not a tuple,
    list, dict, NamedTuple, dataclass or SimpleNamespace) that holds traced
    values: refused, at the `return` line (it would hold placeholders)."""
    if not _holds_traced(v):
        return
    raise UnsupportedError(
        f"the function returns an object of class {type(v).__name__} that holds values computed from "
        "its arguments: looptrace can rebuild only tuples, lists, dicts, NamedTuples, dataclasses and "
        "SimpleNamespaces from a compiled run's results", _return_loc(),
        f"return the values (a tuple or a dataclass) and build the {type(v).__name__} outside the jitted function")


def _return_loc() -> Any:
    """The line of the traced function's `return` that ran (runtime.ret)."""
    import linecache

    from looptrace.ir.core import SourceLoc

    at = getattr(ctx.state(), "return_line", None)
    if at is None:
        return ctx.current_loc()
    file, line = at
    return SourceLoc(file, line, linecache.getline(file, line).rstrip("\n"))


def _shift_tags(tree: Any, n: int) -> Any:
    if tree[0] == "kleaf":
        return ("kleaf", tree[1], tree[2] + n, tree[3])
    if tree[0] == "maybe":
        return ("maybe", tree[1], _shift_tags(tree[2], n))
    if tree[0] in ("tuple", "list"):
        return (tree[0], [_shift_tags(t, n) for t in tree[1]], *tree[2:])
    if tree[0] == "dict":
        return ("dict", {k: _shift_tags(t, n) for k, t in tree[1].items()})
    return tree


def without_kinds(program: Program) -> Program:
    """`program` whose result types are the join's: no tags among its results
    (what a transform such as grad differentiates)."""
    tree = program.out_tree
    if tree[0] != "kinds":
        return program
    n_tags = tree[2]
    results = program.body.results
    n_out = len(results) - len(program.writebacks) - n_tags
    body = Block(program.body.args, program.body.ops, results[:n_out] + results[n_out + n_tags:])

    def plain(t: Any) -> Any:
        if t[0] == "kleaf":
            return ("leaf", t[1], False)
        if t[0] == "maybe":
            return ("maybe", t[1], plain(t[2]))
        if t[0] in ("tuple", "list"):
            return (t[0], [plain(e) for e in t[1]], *t[2:])
        if t[0] == "dict":
            return ("dict", {k: plain(e) for k, e in t[1].items()})
        return t

    return dataclasses.replace(program, body=body, out_tree=plain(tree[1]), result_choices={},
                               writebacks=[(a, r - n_tags) for a, r in program.writebacks])


def _host(v: Any) -> Any:
    return v.copy_to_host() if hasattr(v, "copy_to_host") else np.asarray(v)


def _as_key(v: Any, key: tuple) -> Any:
    """A 0-d result as the type `key` names (tracer/kinds.py)."""
    dt, weak, arr0 = key
    a = np.asarray(v).astype(dt)
    if arr0:
        return a
    return a[()].item() if weak else a[()]


# a Python scalar result as NumPy's scalar of the same kind (np.asarray(v)[()], without the array)
_PY_SCALARS = {float: np.float64, bool: np.bool_, complex: np.complex128,
               int: lambda v: np.int64(v) if -2**63 <= v < 2**63 else np.asarray(v)[()]}


def _grown_items(part: tuple, values: list, scalars: bool) -> list:
    """The elements of a returned list's segment (`_grown_part`)."""
    arr = values[part[1]]
    if not scalars:
        return [arr]
    arr = _host(arr)
    weak, fields = part[2], part[3]
    if len(part) > 4 and part[4]:  # rows (row_lists.py): lists, of Python numbers where those were appended
        return arr.tolist() if weak else [_rows_of(r, part[4] - 1) for r in arr]
    if fields:
        return [tuple(r) for r in (arr.tolist() if weak else arr)]
    return arr.tolist() if weak else list(arr)


def _rows_of(arr: Any, depth: int) -> list:
    """A returned row of NumPy scalars as Python's nested lists."""
    return list(arr) if depth == 0 else [_rows_of(r, depth - 1) for r in arr]


def _from_int_arguments(bounds: tuple) -> bool:
    """Are a slice's traced bounds computed from scalar arguments alone?"""
    from .static import arg_sources

    values = [b.value for b in bounds if is_tracer(b)]
    return bool(values) and bool(arg_sources(values))


def _positions_axis(sel: Any) -> int | None:
    """The axis k where a returned selection is np.nonzero(mask)[k]: its
    data each element's index along k (np.nonzero, np.where(c), np.flatnonzero
    build such data from np.arange), the mask covering all of it; else None.
    Picking those from the mask after the run (`_picked_output`) spares the
    kernel storing the index array and the compaction of it by the mask
    (where_one_arg, 300000 elements: 1.0-1.5 ms of a 2.2 ms call)."""
    data, mask = sel.data, sel.mask
    if sel.axis != 0 or tuple(data.shape) != tuple(mask.shape) or data.dtype != np.dtype(np.int64):
        return None
    ramp = _ramp(data.value, ctx.state().producers)
    return ramp[1] if ramp is not None and ramp[0] == tuple(data.shape) else None


def _ramp(v: Value, producers: dict, depth: int = 8) -> tuple[tuple, int] | None:
    """(shape, k) where v is an int64 array whose elements are their own
    index along axis k (an iota, a constant np.arange, either reshaped or
    broadcast); else None."""
    shape = tuple(v.shape)
    if v.is_const:
        arr = np.asarray(v.const)
        ok = arr.ndim == 1 and arr.dtype == np.int64 and np.array_equal(arr, np.arange(arr.shape[0]))
        return (shape, 0) if ok else None
    op = producers.get(v.id)
    if op is None or depth == 0 or op.outputs[0] is not v:
        return None
    if op.prim.name == "iota":
        return (shape, op.attrs["axis"]) if v.dtype == np.dtype(np.int64) else None
    kept = _kept_operand(op)
    if kept is not None:  # (a long np.arange: `0 + iota * 1`, numpy_api._iota)
        return _ramp(kept, producers, depth - 1)
    if op.prim.name not in ("reshape", "broadcast_to"):
        return None
    inner = _ramp(op.inputs[0], producers, depth - 1)
    if inner is None:
        return None
    return (_reshaped_ramp if op.prim.name == "reshape" else _broadcast_ramp)(inner, shape)


def _kept_operand(op: Any) -> Value | None:
    """x where op is x + 0, 0 + x or x * 1, 1 * x of an int64 x (a scalar
    constant the other operand); else None."""
    unit = {"add": 0, "multiply": 1}.get(op.prim.name)
    if unit is None or len(op.inputs) != 2 or op.outputs[0].dtype != np.dtype(np.int64):
        return None
    for x, c in (op.inputs, op.inputs[::-1]):
        if c.is_const and c.shape == () and c.dtype.kind in "iu" and int(c.const) == unit \
                and tuple(x.shape) == tuple(op.outputs[0].shape) and x.dtype == np.dtype(np.int64):
            return x
    return None


def _reshaped_ramp(inner: tuple[tuple, int], shape: tuple) -> tuple[tuple, int] | None:
    """A ramp of length n along one axis (every other axis of length 1)
    reshaped to `shape`: the ramp along shape's one axis of length n."""
    s, k = inner
    n = s[k]
    if n < 2 or any(d != 1 for j, d in enumerate(s) if j != k):
        return None
    long = [j for j, d in enumerate(shape) if d != 1]
    return (shape, long[0]) if len(long) == 1 and shape[long[0]] == n else None


def _broadcast_ramp(inner: tuple[tuple, int], shape: tuple) -> tuple[tuple, int] | None:
    """A ramp along k broadcast to `shape` (NumPy's rule: axes aligned at
    the right): the ramp along k's axis there, where k's length is kept."""
    s, k = inner
    lead = len(shape) - len(s)
    if lead < 0 or any(d not in (1, shape[lead + j]) for j, d in enumerate(s)) or s[k] != shape[lead + k]:
        return None
    return shape, lead + k


def _mask_positions(mask: Any, axis: int, scalars: bool) -> Any:
    """np.nonzero(mask)[axis], as the plain function's np.nonzero gives it
    (`_positions_axis`); `scalars=False`: its ShapeDtype, of None elements."""
    if not scalars and hasattr(mask, "shape") and hasattr(mask, "dtype") and not isinstance(mask, np.ndarray):
        return type(mask)((None,), np.dtype(np.int64))
    return np.asarray(_host(mask), bool).nonzero()[axis]


def _picked_output(tree: tuple, values: list, scalars: bool) -> Any:
    """x[mask] (a copy) or x[a:b] (a view) of the whole x the run returned,
    picked by NumPy; np.nonzero(mask)[k] where x held the positions along k
    ("positions"); `scalars=False` (eval_shape's shapes): x's ShapeDtype
    with None for the selection's length."""
    _, at, how, parts, axis = tree
    if how == "positions":
        return _mask_positions(values[at], axis, scalars)
    data = values[at]
    if not scalars:
        if not hasattr(data, "shape") or not hasattr(data, "dtype") or isinstance(data, np.ndarray):
            return data
        cut = len(values[parts[0]].shape) if how == "mask" else 1
        shape = tuple(data.shape[:axis]) + (None,) + tuple(data.shape[axis + cut:])
        return type(data)(shape, data.dtype)
    data = _host(data)
    if how == "slice":
        lo, hi = (int(_host(values[k])) for k in parts)
        return data[(slice(None),) * axis + (slice(lo, hi),)]
    return data[(slice(None),) * axis + (np.asarray(_host(values[parts[0]]), bool),)]


def build_output(tree: Any, values: list, scalars: bool = True) -> Any:
    kind = tree[0]
    if kind == "grown":  # a list a traced loop grew to a run-time length (`_flatten_output`)
        out = []
        for part in tree[1]:
            if part[0] == "seg":
                out.extend(_grown_items(part, values, scalars))
            else:
                out.append(build_output(part[1], values, scalars))
        return out
    if kind == "kinds":
        return build_output(tree[1], values, scalars)
    if kind == "tuple_of":
        return tuple(build_output(tree[1], values, scalars))
    if kind == "row":  # (row_lists.GrownRow)
        arr = values[tree[1]]
        if not scalars:
            return arr
        arr = _host(arr)
        return arr.tolist() if tree[2] else _rows_of(arr, arr.ndim - 1)
    if kind == "kleaf":
        v = values[tree[1]]
        return _as_key(_host(v), tree[3][int(_host(values[tree[2]]))]) if scalars else v
    if kind == "leaf":
        v = values[tree[1]]
        if not scalars:
            return v
        if len(tree) > 3:  # a 0-d ndarray (np.zeros(()), a 0-d argument), not a NumPy scalar
            if (type(v) is np.ndarray and v.dtype.str == tree[3]) or hasattr(v, "__cuda_array_interface__"):
                return v  # (a device array stays on the device)
            return np.asarray(v, tree[3])
        t = type(v)
        if t is np.ndarray:  # the common cases first: a warm call's cost is mostly this
            if v.ndim:
                return v
            v = v[()]
        elif t in _PY_SCALARS:  # a compiled kernel's scalar result
            return v if tree[2] else _PY_SCALARS[t](v)
        elif not isinstance(v, np.generic):
            if np.ndim(v) != 0:
                return v
            v = np.asarray(v)[()]
        return v.item() if tree[2] else v
    if kind == "dtyped":  # np.array of a list grown under a condition (grown.DataTyped)
        return picked_dtype(_host(values[tree[1]]), *tree[2:]) if scalars else values[tree[1]]
    if kind == "picked":  # x[mask] or x[a:b] of a run-time length, returned (`_flatten_output`)
        return _picked_output(tree, values, scalars)
    if kind == "maybe":  # (the flag of a function that may reach its end without a `return`)
        if scalars and not bool(_host(values[tree[1]])):
            return None
        return build_output(tree[2], values, scalars)
    if kind == "tuple":
        items = tuple(build_output(t, values, scalars) for t in tree[1])
        return items if len(tree) == 2 else tree[2](*items)  # (a NamedTuple's class, a Record)
    if kind == "list":
        return [build_output(t, values, scalars) for t in tree[1]]
    if kind == "dict":
        return {k: build_output(t, values, scalars) for k, t in tree[1].items()}
    v = tree[1]
    return v.copy() if type(v) is np.ndarray else v  # (a fresh one each call, as the plain function's)
