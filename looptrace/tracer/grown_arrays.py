"""An array grown one item at a time in a loop, traced once.

    out = np.zeros(0)
    for i in range(n):
        if x[i] > t:
            out = np.append(out, x[i])        # or np.concatenate([out, x[i:i + 1]])

`out` changes shape every iteration that grows it, and under a traced `if`
the two sides of the branch have different shapes: the loop was refused
(or unrolled while short). Where the loop uses `out` only in such
statements, what it computes is `out` followed by the items in the order
they were added: the loop appends the items to a Python list (a list grown
in a loop, or under a condition, is traced once: carries.py, grown.py) and
after the loop `out` is `out` and those items, concatenated (`grow_end`).

Sound where Python's answer is that concatenation: `out` is 1-D before the
loop (np.append flattens, so a 2-D `out` that grows by no item would stay
2-D), each added piece is one item (a number, a 0-d array, or an array of
shape (1,)), and adding items does not change `out`'s dtype (else no item
added would leave the old dtype, known only at run time). Otherwise refused
naming the line, with the rewrite the old error gave.
"""
from __future__ import annotations

import ast
from typing import Any

import numpy as np

from looptrace.errors import UnsupportedError

from . import context as ctx

_NUMPY = ("np", "numpy")
_HINT = ("append the items to a Python list instead (`items.append(v)`) and make the array after the loop "
         "(`out = np.array(items)`)")


def rewrite(fdef: ast.FunctionDef) -> None:
    """Each loop of fdef (and of functions nested in it) growing arrays
    only by np.append / np.concatenate rewritten in place (module docstring)."""
    for node in list(ast.walk(fdef)):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and any(isinstance(s, (ast.For, ast.While)) for s in stmts):
                setattr(node, field, _rewrite_stmts(stmts))


def _rewrite_stmts(stmts: list) -> list:
    out: list = []
    for s in stmts:
        if isinstance(s, (ast.For, ast.While)) and not s.orelse:
            names = _grown_names(s)
            if names:
                ends = [_end(n, s) for n in names]
                out += [_start(n, s) for n in names] + [_Grows(names).visit(s)] + ends
                continue
        out.append(s)
    return out


def _growth(stmt: ast.AST) -> tuple[str, ast.expr, str] | None:
    """(name, piece, kind) of `name = np.append(name, piece)` or
    `name = np.concatenate([name, piece])` (a tuple too), else None."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
        return None
    name, call = stmt.targets[0].id, stmt.value
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and not call.keywords
            and isinstance(call.func.value, ast.Name) and call.func.value.id in _NUMPY):
        return None
    if call.func.attr == "append" and len(call.args) == 2:
        first, piece = call.args
    elif call.func.attr == "concatenate" and len(call.args) == 1 and isinstance(call.args[0], (ast.List, ast.Tuple)) \
            and len(call.args[0].elts) == 2:
        first, piece = call.args[0].elts
    else:
        return None
    if not (isinstance(first, ast.Name) and first.id == name) or isinstance(piece, ast.Starred):
        return None
    if any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(piece)):
        return None
    return name, piece, call.func.attr


def _grown_names(loop: ast.For | ast.While) -> list[str]:
    """The names loop changes only by growth statements, and reads nowhere else."""
    growths = [g for n in ast.walk(loop) for g in [_growth(n)] if g is not None]
    candidates = sorted({g[0] for g in growths})
    if not candidates:
        return []
    grown = {id(n.targets[0]) for n in ast.walk(loop) if _growth(n) is not None}
    firsts = {id(_first_arg(n.value)) for n in ast.walk(loop) if _growth(n) is not None}
    scoped = {name for n in ast.walk(loop) if isinstance(n, (ast.Global, ast.Nonlocal)) for name in n.names}
    keep = []
    for name in candidates:
        uses = [n for n in ast.walk(loop) if isinstance(n, ast.Name) and n.id == name]
        if name not in scoped and all(id(u) in grown or id(u) in firsts for u in uses) \
                and not _bound_elsewhere(loop, name):
            keep.append(name)
    return keep


def _bound_elsewhere(loop: ast.AST, name: str) -> bool:
    """Is name bound in loop other than by an assignment (a loop target, a def, an import, `with ... as`)?"""
    for n in ast.walk(loop):
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return True  # (a nested function could read or rebind it: left alone)
        if isinstance(n, (ast.For, ast.comprehension)) and any(
                isinstance(t, ast.Name) and t.id == name for t in ast.walk(n.target)):
            return True
    return False


def _first_arg(call: ast.Call) -> ast.expr:
    return call.args[0] if call.func.attr == "append" else call.args[0].elts[0]


def _items(name: str) -> str:
    return f"__lt_grown_{name}"


def _lt(attr: str) -> ast.expr:
    return ast.Attribute(ast.Name("__lt", ast.Load()), attr, ast.Load())


def _start(name: str, loop: ast.AST) -> ast.stmt:
    """`__lt_grown_out = []` before the loop."""
    stmt = ast.Assign([ast.Name(_items(name), ast.Store())], ast.List([], ast.Load()))
    return ast.fix_missing_locations(ast.copy_location(stmt, loop))


def _end(name: str, loop: ast.AST) -> ast.stmt:
    """`out = __lt.grow_end(out, __lt_grown_out)` after it (an error quotes the first growth's line)."""
    first = next(n for n in ast.walk(loop) if _growth(n) is not None and _growth(n)[0] == name)
    call = ast.Call(_lt("grow_end"), [ast.Name(name, ast.Load()), ast.Name(_items(name), ast.Load())], [])
    stmt = ast.Assign([ast.Name(name, ast.Store())], call)
    return ast.fix_missing_locations(ast.copy_location(stmt, first))


class _Grows(ast.NodeTransformer):
    """Each growth statement of `names`: `__lt_grown_out.append(__lt.grow_item(piece, kind))`."""

    def __init__(self, names: list[str]):
        self.names = set(names)

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        g = _growth(node)
        if g is None or g[0] not in self.names:
            return self.generic_visit(node)
        name, piece, kind = g
        item = ast.Call(_lt("grow_item"), [piece, ast.Constant(kind), ast.Name(name, ast.Load())], [])
        call = ast.Call(ast.Attribute(ast.Name(_items(name), ast.Load()), "append", ast.Load()), [item], [])
        return ast.fix_missing_locations(ast.copy_location(ast.Expr(call), node))


# --- run time ---------------------------------------------------------------------------------------
def grow_item(piece: Any, kind: str, start: Any) -> Any:
    """The one item a growth statement adds to `start` (the array before the
    loop): a number, a 0-d array, an array of one element, of a type that
    does not change start's."""
    listed = isinstance(piece, (list, tuple)) and len(piece) == 1  # `[v]`: one item where v is a number
    if listed:
        piece = piece[0]
    shape = getattr(piece, "shape", None)
    if shape is None and isinstance(piece, (int, float, bool, complex, np.number, np.bool_)):
        shape = ()
    if shape == () and (kind == "append" or listed) or shape == (1,) and not listed:
        _same_dtype(start, piece)
        return piece if shape == () else piece[0]
    what = "np.append" if kind == "append" else "np.concatenate"
    raise UnsupportedError(
        f"{what} in a loop adds pieces of shape {shape} here; looptrace traces an array grown in a loop one "
        "item at a time (a number or an array of one element)", ctx.current_loc(), _HINT)


def grow_end(start: Any, items: list) -> Any:
    """`start` followed by `items` (module docstring)."""
    from .numpy_api import NAMESPACE

    if not items:  # (no growth statement ran while tracing: Python's `out` is the one before the loop)
        return start
    start = NAMESPACE["asarray"](start)
    ndim = start.ndim
    if ndim != 1:
        raise UnsupportedError(
            f"this array grown in a loop is {ndim}-d before it: np.append flattens it only where an item is "
            "added, which the run decides", ctx.current_loc(), "make it 1-d before the loop (`out = out.ravel()`)")
    added = NAMESPACE["array"](items, dtype=start.dtype)
    return added if start.shape == (0,) else NAMESPACE["concatenate"]((start, added))


def _same_dtype(start: Any, piece: Any) -> None:
    """Adding piece keeps start's dtype (np.append makes an array of a
    Python number: int64, float64), else refused: where the run adds no item
    the array keeps its old dtype, which only the run knows."""
    if not hasattr(start, "dtype"):  # (a list or number: where no item is added Python keeps it, not an array)
        raise UnsupportedError(
            f"this np.append grows a {type(start).__name__}, not an array: where the run adds no item it "
            f"stays a {type(start).__name__}", ctx.current_loc(), f"start from an array (`out = np.zeros(0)`), or {_HINT}")
    old = np.dtype(start.dtype)
    added = np.dtype(piece.dtype) if hasattr(piece, "dtype") else np.asarray(piece).dtype
    dtype = np.result_type(old, added)
    if dtype != old:
        raise UnsupportedError(
            f"this array grown in a loop is {old} before it and adding {added} items makes it {dtype}; where "
            f"the run adds no item it stays {old}", ctx.current_loc(),
            f"make it {dtype} before the loop (`np.zeros(0, dtype=np.{dtype})`), or {_HINT}")
