"""AST conversion: rewrite a user function so each loop and conditional
becomes one call into `tracer.control` with its state made explicit.

    for t in range(1, T):              def __lt_body_3(__lt_item):
        y = f(y, X[t])          ->         nonlocal t, y
                                           t = __lt_item
                                           y = __lt.call(f, y, X[t])
                                       __lt.for_(__lt.call(range, 1, T), __lt_body_3,
                                                 __lt_get_3, __lt_set_3, ('t', 'y'), ...)

Bodies become nested functions that declare the loop's assigned names
`nonlocal`, so they read and write the enclosing function's variables; the
runtime helpers bind those names to traced values, trace the body once, and
bind the results. `break`/`continue` become flags that guard the statements
after them. Every call goes through `__lt.call`, so helper functions are
converted too and builtins such as `range` or `min` accept traced values.
Line numbers are the user's own, so tracebacks and errors point at their code.
"""
from __future__ import annotations

import ast
import copy
import inspect
import itertools
import linecache
import sys
import textwrap
import threading
import types
from typing import Any

from looptrace.errors import UnsupportedError
from looptrace.ir.core import SourceLoc

from . import generators, grown_arrays, returns

_counter = itertools.count()


# --- name analysis ------------------------------------------------------------------
_LISTED = threading.local()  # .names: the names bound to a list display in the function being converted
_DICTS = threading.local()  # .names: ... to a dict display of constant keys whose items it sets

class _Names(ast.NodeVisitor):
    """Names stored and loaded in a statement list, not descending into
    nested function, lambda or comprehension scopes."""

    def __init__(self, appends: bool = True):
        self.stored: list[str] = []
        self.loaded: set[str] = set()
        self.appends = appends  # `name.append(x)` stores name (the converted code rebinds it)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Store):
            if node.id not in self.stored:
                self.stored.append(node.id)
        else:
            self.loaded.add(node.id)

    def visit_FunctionDef(self, node) -> None:
        if node.name not in self.stored:
            self.stored.append(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node) -> None:
        pass

    def _comp(self, node) -> None:
        inner = _Names()
        for gen in node.generators:
            inner.visit(gen.iter)
            for cond in gen.ifs:
                inner.visit(cond)
        for field in ("elt", "key", "value"):
            if hasattr(node, field):
                inner.visit(getattr(node, field))
        targets = set()
        for gen in node.generators:
            t = _Names()
            t.visit(gen.target)
            targets.update(t.stored)
        self.loaded.update(inner.loaded - targets)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comp

    def visit_Expr(self, node: ast.Expr) -> None:
        name = _append_target(node) if self.appends else None
        if name is not None and name not in self.stored:
            self.stored.append(name)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _work_list_target(node) if self.appends else None
        if name is not None and name not in self.stored:
            self.stored.append(name)  # a loop carries a list it pops from or heapq changes (carries.ListSpec)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Name):
            self.loaded.add(node.target.id)
        t = node.target
        if self.appends and isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and \
                t.value.id in getattr(_LISTED, "names", ()) and t.value.id not in self.stored:
            self.stored.append(t.value.id)  # `sums[k] += v` of a list display rebinds sums (_Converter)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        t = node.targets[0] if len(node.targets) == 1 else None
        if self.appends and isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and \
                t.value.id in getattr(_DICTS, "names", ()) and t.value.id not in self.stored:
            self.stored.append(t.value.id)  # `stats["best"] = v` of a dict display rebinds stats (_Converter)
        self.generic_visit(node)


def _append_target(node: ast.Expr) -> str | None:
    """`name` for a statement `name.append(x)`: it rebinds `name` in the
    converted code (name = __lt.append(name, x))."""
    call = node.value
    if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "append"
            and isinstance(call.func.value, ast.Name) and len(call.args) == 1 and not call.keywords):
        return call.func.value.id
    return None


_HEAPQ_CHANGING = frozenset(("heappush", "heappop", "heapreplace", "heappushpop", "heapify"))


def _work_list_target(call: ast.Call) -> str | None:
    """`name` for `name.pop()`, `name.pop(0)`, `name.popleft()` and
    `heapq.heappush(name, x)` (and heappop, heapreplace, heappushpop,
    heapify): a loop around it carries name as a work list (carries.py)."""
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and not call.keywords and (
            f.attr == "pop" and len(call.args) <= 1 and all(isinstance(a, (ast.Constant, ast.UnaryOp))
                                                           for a in call.args)
            or f.attr == "popleft" and not call.args):
        return f.value.id
    fname = f.attr if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "heapq" \
        else f.id if isinstance(f, ast.Name) else None
    if fname in _HEAPQ_CHANGING and call.args and isinstance(call.args[0], ast.Name):
        return call.args[0].id
    return None


def names_in(stmts: list[ast.stmt]) -> _Names:
    return _names_in(stmts)


def _names_in(stmts: list[ast.stmt], appends: bool = True) -> _Names:
    n = _Names(appends)
    for s in stmts:
        n.visit(s)
    return n


def _own_nodes(fdef: ast.FunctionDef):
    """The nodes of a function's body, not of the functions, lambdas and
    classes defined in it."""
    stack = list(fdef.body)
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


_COMPOUND = (ast.If, ast.For, ast.While, ast.Try, ast.With, ast.Match) + \
    ((ast.TryStar,) if hasattr(ast, "TryStar") else ())


def conditionally_assigned(own_nodes: list[ast.AST]) -> set[str]:
    """Names the function (its `_own_nodes`) assigns inside an if, loop, try, with or
    match: on some paths they may be unassigned, chosen at run time (values.MaybeBound);
    their reads go through `__lt.bound`."""
    out: set[str] = set()
    for node in own_nodes:
        if isinstance(node, _COMPOUND):
            inner = [s for f in ("body", "orelse", "finalbody") for s in getattr(node, f, []) or []]
            inner += [s for h in getattr(node, "handlers", []) for s in h.body]
            inner += [s for c in getattr(node, "cases", []) for s in c.body]
            out.update(names_in(inner).stored)
            if isinstance(node, ast.For):
                out.update(names_in([ast.Assign(targets=[node.target], value=ast.Constant(None))]).stored)
    return {n for n in out if not n.startswith("__lt")}


def passed_on(own_nodes: list[ast.AST]) -> set[str]:
    """Names the function binds to another name, to None or to a conditional
    expression (`y = x`, `found = None`, `v = a if c else None`): they may
    hold a value that is None at run time (values.MaybeNone) without being
    assigned under a condition; their reads go through `__lt.bound` too."""
    out: set[str] = set()
    for node in own_nodes:
        if isinstance(node, ast.Assign) and (isinstance(node.value, (ast.Name, ast.IfExp)) or _is_none_const(node.value)):
            out.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in out if not n.startswith("__lt")}


def _reads(node: ast.AST) -> set[str]:
    n = _Names()
    n.visit(node)
    return n.loaded


def live_in(name: str, stmts: list[ast.stmt]) -> bool:
    """Is `name` possibly read before it is (unconditionally) written? A
    nested loop reads it before writing it only where one of its iterations
    does (its writes are not unconditional: it may run no iteration, so the
    statements after it are looked at too); an `if`, where either branch
    followed by the statements after it does."""
    for k, s in enumerate(stmts):
        if isinstance(s, (ast.For, ast.AsyncFor, ast.While)):
            head = _reads(s.iter) | _reads(s.target) if isinstance(s, (ast.For, ast.AsyncFor)) else _reads(s.test)
            if name in head or live_in(name, s.body) or live_in(name, s.orelse):
                return True
            continue
        if isinstance(s, ast.If):
            if name in _reads(s.test):
                return True
            rest = stmts[k + 1:]
            return live_in(name, s.body + rest) or live_in(name, s.orelse + rest)
        if isinstance(s, (ast.Assign, ast.AnnAssign)):
            value = s.value
            if value is not None and name in _reads(value):
                return True
            targets = s.targets if isinstance(s, ast.Assign) else [s.target]
            if any(name in _reads(t) for t in targets):
                return True
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return False
            continue
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if name in _header_reads(s):
                return True
            if s.name == name:  # `def f(...)` in a loop body binds f afresh each iteration, as `f = lambda` does
                return False
            continue
        if name in _reads(s):
            return True
    return False


def _header_reads(s: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> set[str]:
    """The names a `def` or `class` statement reads where it runs: its
    decorators, default values and base classes (not its body's names)."""
    parts = list(s.decorator_list)
    if isinstance(s, ast.ClassDef):
        parts += s.bases + [k.value for k in s.keywords]
    else:
        parts += s.args.defaults + [d for d in s.args.kw_defaults if d is not None]
    return set().union(*(_reads(p) for p in parts)) if parts else set()


# --- the transformer --------------------------------------------------------------------
class _Converter(ast.NodeTransformer):
    def __init__(self, filename: str, func_names: _Names, global_names: set[str]):
        self.filename = filename
        self.func_loads = func_names
        self.globals = global_names
        self.loop_stack: list[dict] = []
        self.params: set[str] = set()
        # names of this function that functions defined in it assign through `nonlocal`: a loop
        # or branch that calls anything may change them (`_closure_writes`)
        self.closure_writes: list[str] = []
        self.appended: set[str] = set()  # names the function appends to: lists a loop may grow
        self.listed: set[str] = set()  # names bound to a list display (`sums = [0.0, 0.0, 0.0]`)
        self.dicts: set[str] = set()  # ... to a dict display whose items it sets (`stats["best"] = v`)
        self.maybe_unbound: set[str] = set()  # names assigned on some paths only (conditionally_assigned)

    # calls --------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> ast.AST:
        if _reduced_comprehension(node) in ("any", "all"):
            # any(c(t) for t in x): a loop traced once, each item tested only while Python would (runtime.comp_any)
            gen = node.args[0]
            call = ast.Call(_attr("comp_any"), [ast.Constant(node.func.id), self._element_fn(gen),
                                                self.visit(gen.generators[0].iter), _loc(gen, self.filename),
                                                self._condition_fns(gen)], [])
            return _fix_locations(ast.copy_location(call, node))
        if _reduced_comprehension(node) == "sum":
            # sum(f(i) for i in range(n)): an accumulation traced once (runtime.comp_sum)
            gen = node.args[0]
            start = self.visit(node.args[1]) if len(node.args) == 2 else ast.Constant(0)
            call = ast.Call(_attr("comp_sum"), [self._element_fn(gen), self.visit(gen.generators[0].iter), start,
                                                _loc(gen, self.filename), self._condition_fns(gen)], [])
            return _fix_locations(ast.copy_location(call, node))
        if _fsum_of_generator(node):
            # math.fsum(f(i) for i in range(n)) reads every item, in order: the list comprehension
            # traced once (runtime.comp_list), whose stack the fsum primitive sums
            node.args[0] = ast.copy_location(ast.ListComp(node.args[0].elt, node.args[0].generators), node.args[0])
        self.generic_visit(node)
        if _zip_star(node):  # `zip(*pairs)`: the columns of a long list of tuples (tuple_lists.py)
            return ast.copy_location(ast.Call(_attr("zip_star"), [node.func, node.args[0].value], []), node)
        for a in [*node.args, *(k.value for k in node.keywords)]:
            _keep_none(a)  # (a value that may be None is passed on as it is: runtime.call decides)
        args = [ast.copy_location(ast.Starred(ast.Call(_attr("star"), [a.value], []), ast.Load()), a)
                if isinstance(a, ast.Starred) else a for a in node.args]  # `f(*lst)`: runtime.star
        return _fix_locations(ast.copy_location(ast.Call(
            func=_attr("call"), args=[node.func, *args], keywords=node.keywords), node))

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        """`a[k]` (a read) -> `__lt.getitem(a, k)`, so a NumPy array from the
        enclosing scope can be indexed with a traced value."""
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node
        key = _keep_none(_key_expr(node.slice), "index")
        return ast.copy_location(ast.Call(func=_attr("getitem"), args=[node.value, key], keywords=[]), node)

    def visit_MatchClass(self, node: ast.MatchClass) -> ast.AST:
        """`case np.ndarray(shape=s):` a class pattern left to Python (convert's
        _MatchAsIf): its class stays a name or a dotted name, as `match` requires."""
        node.patterns = [self.visit(p) for p in node.patterns]
        node.kwd_patterns = [self.visit(p) for p in node.kwd_patterns]
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        """`obj.name` (a read) -> `__lt.attr(obj, "name")`, so an array or number
        read from a module or object is recorded (a later rebinding retraces)."""
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node
        return ast.copy_location(ast.Call(func=_attr("attr"), args=[node.value, ast.Constant(node.attr)],
                                          keywords=[]), node)

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        """`parts[k] = v` of a list the function appends to -> `__lt.store(v,
        parts, k)`: a list a traced loop grew holds the loop's elements as
        one stack until they are read one by one (grown.py); a plain
        assignment replaced that stack by the one value. (Value first, then
        the list and the key: Python's order.)"""
        t = node.targets[0] if len(node.targets) == 1 else None
        if isinstance(t, ast.Name) and t.id in self.listed and _list_display(node.value):
            # a few numbers updated at an index: carried element by element (carries.NumberList)
            node = self.generic_visit(node)
            node.value = ast.copy_location(ast.Call(_attr("number_list"), [node.value], []), node.value)
            return node
        if isinstance(t, ast.Name) and t.id in self.listed and _dict_display(node.value):
            # `stats = {"loss": 0.0}`, then `stats["loss"] += l`: carried item by item (carries.NumberDict)
            node = self.generic_visit(node)
            node.value = ast.copy_location(ast.Call(_attr("number_dict"), [node.value], []), node.value)
            return node
        if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in self.dicts \
                and t.value.id not in self.appended:
            # `stats["best"] = v`: the same dict, rebound so a loop carries the item it changed
            name = t.value.id
            node = self.generic_visit(node)
            call = ast.Call(_attr("set_item"), [node.value, _name(name), _key_expr(t.slice)], [])
            return ast.copy_location(_assign(name, ast.copy_location(call, node)), node)
        if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in self.appended:
            name = t.value.id
            node = self.generic_visit(node)
            call = ast.Call(_attr("store"), [node.value, _name(name), _key_expr(t.slice)], [])
            return ast.copy_location(ast.Expr(ast.copy_location(call, node)), node)
        node = self.generic_visit(node)
        node.value = _keep_none(node.value)
        if any(isinstance(t, (ast.Tuple, ast.List)) for t in node.targets) and \
                not isinstance(node.value, (ast.Tuple, ast.List)):  # `a, *r = lst`: a grown list's elements
            node.value = ast.copy_location(ast.Call(_attr("star"), [node.value], []), node.value)
        for target in node.targets:
            _note_changed(target)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        """`sums[k] += v` of a name bound to a list display -> `sums =
        __lt.aug_item(sums, k, "iadd", v)`: Python's getitem, in-place op and
        setitem, where a traced k writes the list element by element
        (runtime.py); the same list, rebound so a loop carries its elements."""
        t = node.target
        op = _INPLACE.get(type(node.op))
        if isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in self.listed \
                and t.value.id not in self.appended and op is not None:
            name = t.value.id
            node = self.generic_visit(node)
            call = ast.Call(_attr("aug_item"), [node.target.value, _key_expr(node.target.slice), ast.Constant(op),
                                                node.value], [])
            # (the name is rebound to its list, so a loop carries the elements it changed)
            return ast.copy_location(_assign(name, ast.copy_location(call, node)), node)
        node = self.generic_visit(node)
        _note_changed(node.target)
        return node

    def visit_Delete(self, node: ast.Delete) -> ast.AST:
        node = self.generic_visit(node)
        for target in node.targets:
            _note_changed(target)
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        name = _append_target(node)
        if name is not None and name in self.globals:  # a list from outside: refused (runtime.py)
            arg = self.visit(node.value.args[0])
            new = ast.Call(func=_attr("append_outside"), args=[_name(name), arg, ast.Constant(name)], keywords=[])
            return ast.copy_location(ast.Expr(ast.copy_location(new, node)), node)
        if name is not None:
            arg = self.visit(node.value.args[0])
            new = ast.Call(func=_attr("append"), args=[_name(name), arg], keywords=[])
            return ast.copy_location(_assign(name, ast.copy_location(new, node)), node)
        return self.generic_visit(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        if isinstance(node.op, ast.Not):
            _only_tested(node.operand)
        self.generic_visit(node)
        if isinstance(node.op, ast.Not):  # (`not x` of a value that may be None: control.tested)
            return ast.copy_location(ast.Call(func=_attr("not_"), args=[_keep_none(node.operand)], keywords=[]),
                                     node)
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        fn = "and_" if isinstance(node.op, ast.And) else "or_"
        thunks = [ast.Lambda(args=_no_args(), body=_keep_none(v)) for v in node.values]
        # (its value only tested, `if a and b:`: its operands' truths; control._bool_op)
        truth = [ast.keyword("truth", ast.Constant(True))] if getattr(node, "_lt_truth", False) else []
        return ast.copy_location(ast.Call(func=_attr(fn), args=thunks, keywords=truth), node)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        """`a < b < c` and `x in (0, 1)` -> `__lt.compare(...)`, so a traced link
        is not asked for its Python truth value; one plain comparison stays.
        `x is None` / `x is not None` -> `__lt.is_none(x, negate)`: a traced
        test where x may be None at run time (values.MaybeNone); `x is True`
        -> `__lt.is_bool(x, True, negate)`."""
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Is, ast.IsNot)):
            left, right = node.left, node.comparators[0]
            operand = left if _is_none_const(right) else right if _is_none_const(left) else None
            if operand is not None:
                negate = ast.Constant(isinstance(node.ops[0], ast.IsNot))
                return ast.copy_location(ast.Call(_attr("is_none"), [_keep_none(operand), negate], []), node)
            flag = right if _is_bool_const(right) else left if _is_bool_const(left) else None
            if flag is not None:  # `b is True` (and a `case True:`): a traced Python bool's value
                operand = left if flag is right else right
                negate = ast.Constant(isinstance(node.ops[0], ast.IsNot))
                return ast.copy_location(ast.Call(_attr("is_bool"), [operand, flag, negate], []), node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            # (lists held as one array compare their items: runtime.eq)
            negate = ast.Constant(isinstance(node.ops[0], ast.NotEq))
            return ast.copy_location(ast.Call(_attr("eq"), [node.left, node.comparators[0], negate], []), node)
        if len(node.ops) == 1 and not isinstance(node.ops[0], (ast.In, ast.NotIn)):
            return node
        thunks = [ast.Lambda(args=_no_args(), body=v) for v in node.comparators]
        ops = ast.Tuple([ast.Constant(type(op).__name__) for op in node.ops], ast.Load())
        call = ast.Call(func=_attr("compare"), args=[ast.Lambda(args=_no_args(), body=node.left), ops,
                                                     ast.Tuple(thunks, ast.Load())], keywords=[])
        return ast.copy_location(call, node)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        """`f"a{v!r:>{w}}"` -> `__lt.printing.fstring("a", (v, "r", spec))`:
        text that holds a traced value's text is what only print() may use
        (tracer/printing.py `Deferred`)."""
        if not any(isinstance(v, ast.FormattedValue) for v in node.values):
            return node
        parts = []
        for v in node.values:
            if isinstance(v, ast.FormattedValue):
                conv = "" if v.conversion == -1 else chr(v.conversion)
                spec = self.visit(v.format_spec) if v.format_spec is not None else ast.Constant("")
                parts.append(ast.Tuple([self.visit(v.value), ast.Constant(conv), spec], ast.Load()))
            else:
                parts.append(v)
        call = ast.Call(ast.Attribute(_attr("printing"), "fstring", ast.Load()), parts, [])
        return _fix_locations(ast.copy_location(call, node))

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        _only_tested(node.test)
        self.generic_visit(node)
        _keep_none(node.test)
        thunks = [ast.Lambda(args=_no_args(), body=v) for v in (node.body, node.orelse)]
        return ast.copy_location(ast.Call(func=_attr("ifexp"), args=[node.test, *thunks], keywords=[]), node)

    def visit_FunctionDef(self, node):
        return node  # nested user functions are converted when called

    # raise / assert / try (tracer/checks.py) ----------------------------------------------
    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        """`raise E(...)` -> `__lt.raise_(E(...))`: a run-time check under a
        traced condition; a bare `raise` (re-raise) stays Python's."""
        if node.exc is None:
            return node
        node = self.generic_visit(node)
        call = ast.Call(_attr("raise_"), [ast.Lambda(_no_args(), node.exc)], [])
        return ast.copy_location(ast.Expr(ast.copy_location(call, node)), node)

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        if sys.flags.optimize:
            return None  # python -O drops asserts; so does the converted code
        _only_tested(node.test)
        node = self.generic_visit(node)
        args = [node.test] + ([ast.Lambda(_no_args(), node.msg)] if node.msg is not None else [])
        call = ast.copy_location(ast.Call(_attr("assert_"), args, []), node)
        return ast.copy_location(ast.Expr(call), node)

    def visit_Try(self, node: ast.Try) -> ast.AST:
        """The body runs inside `with __lt.try_block(handler classes)`, so an op
        that could raise what a handler catches is refused; each handler
        first passes looptrace's own errors on. `try: v = expr` with one
        `except E:` is `_recorded_try`."""
        if isinstance(node, ast.Try) and _recordable_try(node):
            return self._recorded_try(node)
        node = self.generic_visit(node)
        kinds = [h.type if h.type is not None else _name("BaseException") for h in node.handlers]
        classes = ast.Lambda(_no_args(), _flat_classes(kinds))
        item = ast.withitem(ast.Call(_attr("try_block"), [classes], []), None)
        node.body = [ast.copy_location(ast.With([item], node.body), node)]
        for h in node.handlers:
            guard = ast.copy_location(ast.Expr(ast.Call(_attr("passthrough"), [], [])), h)
            h.body = [guard] + h.body
        return _fix_locations(node)

    visit_TryStar = visit_Try

    def _recorded_try(self, node: ast.Try) -> list[ast.stmt]:
        """`try: v = expr` (or `v op= expr`) `except E: handler` ->
        `with __lt.try_record(lambda: E) as t: tmp = expr`, then
        `if t.raised(): handler else: v = tmp` (checks.try_record): the
        handler where a run-time check E catches fails, as Python jumps there
        before the assignment; a traced `if` like any other."""
        k = next(_counter)
        block, tmp = f"__lt_try_{k}", f"__lt_tried_{k}"
        stmt, handler = node.body[0], node.handlers[0]
        kind = handler.type if handler.type is not None else _name("BaseException")
        record = ast.Call(_attr("try_record"), [ast.Lambda(_no_args(), _flat_classes([kind]))], [])
        tried = ast.With([ast.withitem(record, ast.Name(block, ast.Store()))],
                         [ast.Assign([ast.Name(tmp, ast.Store())], stmt.value)])
        if isinstance(stmt, ast.AugAssign):
            store = ast.AugAssign(stmt.target, stmt.op, _name(tmp))
        else:
            store = ast.Assign(stmt.targets, _name(tmp))
        pick = ast.If(ast.Call(ast.Attribute(_name(block), "raised", ast.Load()), [], []), handler.body, [store])
        out = [_fix_locations(ast.copy_location(s, stmt)) for s in (tried, pick)]
        for s in out:
            for n in ast.walk(s):
                if not hasattr(n, "lineno"):
                    ast.copy_location(n, stmt)
        return [v for s in out for v in _as_list(self.visit(s))]

    def visit_Lambda(self, node):
        return node

    def visit_With(self, node: ast.With) -> ast.AST:
        """`with m as v:` -> `with __lt.with_(m) as v:`: only context managers
        whose meaning the compiled program keeps pass (tracer/withs.py)."""
        node = self.generic_visit(node)
        for item in node.items:
            expr = item.context_expr
            if not (isinstance(expr, ast.Call) and (_is_lt_call(expr, "try_block") or _is_lt_call(expr, "with_")
                                                    or _is_lt_call(expr, "try_record"))):
                item.context_expr = ast.copy_location(ast.Call(_attr("with_"), [item.context_expr], []),
                                                       item.context_expr)
        return _fix_locations(node)

    def _element_fn(self, comp) -> ast.Lambda:
        """`lambda t: elt` of a one-generator comprehension, elt converted."""
        return _item_lambda(comp.generators[0].target, self.visit(comp.elt))

    def _condition_fns(self, comp) -> ast.Tuple:
        """`(lambda t: cond, ...)`: a one-generator comprehension's `if` clauses, converted."""
        return ast.Tuple([_item_lambda(comp.generators[0].target, self.visit(cond))
                          for cond in comp.generators[0].ifs], ast.Load())

    def _comprehension(self, node):
        """`[f(i) for i in it]` over a range or an array is a loop traced once
        that appends (runtime.comp_list). Any other comprehension runs as
        Python while tracing (one trace of its element per item): each
        iterable goes through `__lt.comp_iter`, which counts the items of a
        range or an array, warns past UNROLL_WARN and tells explain the loop
        was unrolled."""
        if isinstance(node, ast.ListComp) and _rows_comprehension(node):  # (before: `list(v)` is a call)
            return self._fallback_call("comp_rows", node)
        if isinstance(node, ast.ListComp) and _simple_comprehension(node):
            call = ast.Call(_attr("comp_list"), [self._element_fn(node), self.visit(node.generators[0].iter),
                                                 _loc(node, self.filename), self._condition_fns(node)], [])
            return _fix_locations(ast.copy_location(call, node))
        if isinstance(node, ast.ListComp) and _tuple_comprehension(node):
            return self._tuple_comprehension(node)
        return self._python_comprehension(node)

    def _fallback_call(self, name: str, node: ast.ListComp) -> ast.AST:
        """`__lt.name(lambda t: elt, it, loc, conds, lambda it: [... as Python ...])`, the iterable
        evaluated once (row_lists.comp_rows: traced once where it can be, else Python's)."""
        python = copy.deepcopy(node)
        python.generators[0].iter = ast.copy_location(_name("__lt_iterable"), node.generators[0].iter)
        fallback = ast.Lambda(ast.arguments(posonlyargs=[], args=[ast.arg("__lt_iterable")], kwonlyargs=[],
                                            kw_defaults=[], defaults=[]), self._python_comprehension(python))
        call = ast.Call(_attr(name), [self._element_fn(node), self.visit(node.generators[0].iter),
                                      _loc(node, self.filename), self._condition_fns(node), fallback], [])
        return _fix_locations(ast.copy_location(call, node))

    def _tuple_comprehension(self, node: ast.ListComp) -> ast.AST:
        """`[(a, b) for t in it]`: `__lt.comp_tuples(lambda t: (a, b), it, loc,
        conds, lambda it: [... as Python ...])`, the iterable evaluated once
        (tuple_lists.py: traced once past COMP_UNROLL_LIMIT items, else Python's)."""
        python = copy.deepcopy(node)
        python.generators[0].iter = ast.copy_location(_name("__lt_iterable"), node.generators[0].iter)
        fallback = ast.Lambda(ast.arguments(posonlyargs=[], args=[ast.arg("__lt_iterable")], kwonlyargs=[],
                                            kw_defaults=[], defaults=[]), self._python_comprehension(python))
        call = ast.Call(_attr("comp_tuples"), [self._element_fn(node), self.visit(node.generators[0].iter),
                                               _loc(node, self.filename), self._condition_fns(node), fallback], [])
        return _fix_locations(ast.copy_location(call, node))

    def _python_comprehension(self, node):
        """A comprehension run as Python while tracing, each iterable through `__lt.comp_iter`."""
        node = self.generic_visit(node)
        for gen in node.generators:
            gen.iter = ast.copy_location(ast.Call(_attr("comp_iter"), [gen.iter, _loc(gen.iter, self.filename)], []),
                                         gen.iter)
        return _fix_locations(node)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Name(self, node: ast.Name) -> ast.AST:
        """A read of a name that may be unassigned on some paths: `__lt.bound(name)`."""
        if isinstance(node.ctx, ast.Load) and node.id in self.maybe_unbound and node.id not in self.globals:
            return ast.copy_location(ast.Call(_attr("bound"), [node, ast.Constant(node.id)], []), node)
        return node

    # control flow ---------------------------------------------------------------------
    def visit_Return(self, node: ast.Return) -> ast.AST:
        if self.loop_stack:  # returns.lower_returns has turned these into flags and breaks
            raise self._unsupported(node, "`return` inside a loop is not supported",
                                    "assign the result to a variable and `break`")
        node = self.generic_visit(node)
        if node.value is not None:  # checked here, so an unassigned name points at this line
            node.value = ast.copy_location(ast.Call(_attr("ret"), [_keep_none(node.value)], []), node.value)
        return node

    def visit_For(self, node: ast.For) -> list[ast.stmt]:
        key = next(_counter)
        body, flags = self._lower_jumps(node.body, key)
        target_names = names_in([ast.Assign(targets=[node.target], value=ast.Constant(None))]).stored
        assign_target = ast.Assign(targets=[node.target], value=_name("__lt_item"))
        ast.copy_location(assign_target, node)
        stmts = [assign_target, *body]
        return self._loop(node, key, stmts, flags, target_names, kind="for") + self._else(node, flags)

    def visit_While(self, node: ast.While) -> list[ast.stmt]:
        _only_tested(node.test)
        key = next(_counter)
        body, flags = self._lower_jumps(node.body, key)
        if not any(isinstance(n, ast.NamedExpr) or isinstance(n, ast.Call) and not _pure_call(n)
                   for n in ast.walk(node.test)):
            return self._loop(node, key, body, flags, [], kind="while") + self._else(node, flags)
        # a test that may act (a draw, a helper writing an array, a walrus): evaluated as Python
        # does, once before the loop and at the end of each iteration that did not break, into a
        # variable the loop carries and tests (a draw in the test was lost: the exit used the
        # draw of the iteration before)
        name = f"__lt_wtest_{key}"
        first = ast.copy_location(_assign(name, copy.deepcopy(node.test)), node)
        again: ast.stmt = ast.copy_location(_assign(name, copy.deepcopy(node.test)), node)
        if flags.get("brk"):
            again = ast.copy_location(ast.If(ast.UnaryOp(ast.Not(), _name(flags["brk"])), [again], []), node)
        loop = ast.copy_location(ast.While(test=_name(name), body=node.body, orelse=node.orelse), node)
        loop.test = ast.copy_location(loop.test, node.test)
        _fix_locations(first), _fix_locations(again)
        return self._visit_stmts([first]) + self._loop(loop, key, body + [again], flags, [], kind="while") + \
            self._else(node, flags)

    def _else(self, node: ast.For | ast.While, flags: dict) -> list[ast.stmt]:
        """A loop's `else:` runs when the loop ends without `break`."""
        if not node.orelse:
            return []
        if not flags.get("brk"):
            return self._visit_stmts(node.orelse)
        test = ast.UnaryOp(ast.Not(), _name(flags["brk"]))
        stmt = ast.copy_location(ast.If(test=test, body=node.orelse, orelse=[]), node.orelse[0])
        _fix_locations(stmt)
        return self._visit_stmts([stmt])

    def _loop(self, node, key: int, body: list[ast.stmt], flags: dict, targets: list[str],
              kind: str) -> list[ast.stmt]:
        original = body
        assigned = [n for n in names_in(original).stored if n not in self.globals]
        written = self._closure_writes(original, assigned)
        assigned += written
        if flags.get("brk") and flags["brk"] not in assigned:
            assigned.append(flags["brk"])
        test_reads = _reads(node.test) if kind == "while" else set()
        live = tuple(n for n in assigned  # the break flag is read by the loop's exit test
                     if n not in targets and (live_in(n, original) or n in test_reads
                                              or n == flags.get("brk") or n in written))
        outside = self._loads_outside(node) if assigned else set()  # (once: it walks the whole function)
        live_out = tuple(n for n in assigned if n in outside
                         or (n == flags.get("brk") and node.orelse))
        self.loop_stack.append(flags)
        new_body = self._visit_stmts(original)
        self.loop_stack.pop()
        if flags.get("cont"):
            new_body.insert(0, _assign(flags["cont"], ast.Constant(False)))
        param = [ast.arg("__lt_item")] if kind == "for" else []
        body_fn = _def(f"__lt_body_{key}", param, _nonlocal(assigned) + new_body)
        out: list[ast.stmt] = _hoist(assigned)
        if flags.get("brk"):
            out.append(_assign(flags["brk"], ast.Constant(False)))
        out += [body_fn, *_get_set(key, assigned)]
        names = ast.Tuple([ast.Constant(n) for n in assigned], ast.Load())
        common = [_name(f"__lt_body_{key}"), _name(f"__lt_get_{key}"), _name(f"__lt_set_{key}"), names]
        meta = [ast.keyword("live", _const_tuple(live)), ast.keyword("live_out", _const_tuple(live_out)),
                ast.keyword("loc", _loc(node, self.filename)),
                ast.keyword("brk", ast.Constant(flags.get("brk")))]
        others = self._others(node, assigned)
        if others:
            out.append(_scope_getter(key, others))
            meta.append(ast.keyword("scope", _name(f"__lt_scope_{key}")))
        if kind == "for":
            call = ast.Call(_attr("for_"), [self.visit(node.iter), *common], meta)
        else:
            test = ast.Lambda(_no_args(), _keep_none(self.visit(node.test)))
            call = ast.Call(_attr("while_"), [test, *common], meta)
        out.append(ast.Expr(call))
        done = [_fix_locations(ast.copy_location(s, node)) for s in out]
        _end_at(done[-1], node.iter if kind == "for" else node.test)  # (an error in it quotes the loop's line)
        return done

    def _closure_writes(self, stmts: list[ast.stmt], assigned: list[str]) -> list[str]:
        """The names a function defined in this one assigns through `nonlocal`,
        when `stmts` call anything: that call may change them, so the loop
        carries them (or the branch merges them) as if assigned here. A
        running total kept by a nested `def add(v): nonlocal total; total += v`
        called in a traced loop was written from inside the loop's trace and
        never carried: the function returned 0.0."""
        if not self.closure_writes or not any(isinstance(n, ast.Call) for s in stmts for n in ast.walk(s)):
            return []
        return [n for n in self.closure_writes if n not in assigned]

    def visit_If(self, node: ast.If) -> Any:
        key = next(_counter)
        assigned = [n for n in names_in(node.body + node.orelse).stored if n not in self.globals]
        assigned += self._closure_writes(node.body + node.orelse, assigned)
        then = self._visit_stmts(node.body) or [ast.Pass()]
        other = self._visit_stmts(node.orelse) or [ast.Pass()]
        out = _hoist(assigned)
        out.append(_def(f"__lt_then_{key}", [], _nonlocal(assigned) + then))
        out.append(_def(f"__lt_else_{key}", [], _nonlocal(assigned) + other))
        out += _get_set(key, assigned)
        names = ast.Tuple([ast.Constant(n) for n in assigned], ast.Load())
        test = _keep_none(self.visit(_only_tested(node.test)))
        call = ast.Call(_attr("if_"), [test, _name(f"__lt_then_{key}"),
                                       _name(f"__lt_else_{key}"), _name(f"__lt_get_{key}"),
                                       _name(f"__lt_set_{key}"), names], [])
        out.append(ast.Expr(call))
        done = [_fix_locations(ast.copy_location(s, node)) for s in out[:-1]]
        # the call spans the `if` line only: an error in the condition (the truth of an array)
        # quoted the statement's last line
        head = ast.copy_location(out[-1], node)
        _end_at(head, node.test)
        return done + [_fix_locations(head)]

    def _visit_stmts(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for s in stmts:
            r = self.visit(s)
            if r is None:
                continue
            out.extend(r if isinstance(r, list) else [r])
        return out

    # break / continue -----------------------------------------------------------------
    def _lower_jumps(self, body: list[ast.stmt], key: int) -> tuple[list[ast.stmt], dict]:
        flags: dict = {}
        if _has_jump(body, ast.Break):
            flags["brk"] = f"__lt_brk_{key}"
        if _has_jump(body, ast.Continue):
            flags["cont"] = f"__lt_cont_{key}"
        if not flags:
            return body, flags
        return _guard(body, flags), flags

    def _others(self, loop: ast.AST, assigned: list[str]) -> list[str]:
        """This function's variables that the loop does not assign but that are
        read outside it: what may still refer to an array the loop's variables
        hold when they enter it (control.LoopTrace._detach)."""
        local = set(self.func_loads.stored) | self.params
        return sorted(n for n in self._loads_outside(loop)
                      if n in local and n not in assigned and n not in self.globals)

    def _loads_outside(self, loop: ast.AST) -> set[str]:
        """Names read outside `loop` (its `else:` clause runs after it: outside)."""
        inside = {id(n) for n in ast.walk(loop)} - {id(n) for s in loop.orelse for n in ast.walk(s)}
        return {n.id for n in self._func_nodes if isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Load) and id(n) not in inside} | \
            {n.target.id for n in self._func_nodes if isinstance(n, ast.AugAssign)  # (`last += 1` reads `last`)
             and isinstance(n.target, ast.Name) and id(n) not in inside}

    def _unsupported(self, node: ast.AST, msg: str, hint: str = "") -> UnsupportedError:
        import linecache

        text = linecache.getline(self.filename, node.lineno).rstrip("\n")
        return UnsupportedError(msg, SourceLoc(self.filename, node.lineno, text), hint)


def _has_jump(stmts: list[ast.stmt], kind: type) -> bool:
    """Does a `break`/`continue` of the loop whose body is `stmts` occur?"""
    for s in stmts:
        for n in _walk_own(s):
            if isinstance(n, kind):
                return True
    return False


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _walk_own(node: ast.AST):
    """The nodes whose jumps belong to the loop around `node`: a nested loop's
    body has its own (its `else:` clause runs after it, so its jumps are the
    outer loop's); a nested function or class is not the loop's at all."""
    todo = [node]  # (a stack, in preorder: nested generators made each node cost the depth it is at)
    while todo:
        n = todo.pop()
        yield n
        if isinstance(n, _SCOPES):
            continue
        if isinstance(n, (ast.For, ast.While, ast.AsyncFor)):
            todo.extend(reversed(n.orelse))
            continue
        todo.extend(reversed(list(ast.iter_child_nodes(n))))


def _guard(stmts: list[ast.stmt], flags: dict) -> list[ast.stmt]:
    """Replace break/continue with flag assignments and guard what follows."""
    out: list[ast.stmt] = []
    for i, s in enumerate(stmts):
        if isinstance(s, ast.Break):
            out.append(ast.copy_location(_assign(flags["brk"], ast.Constant(True)), s))
            return out
        if isinstance(s, ast.Continue):
            out.append(ast.copy_location(_assign(flags["cont"], ast.Constant(True)), s))
            return out
        if isinstance(s, ast.If) and (_has_jump([s], ast.Break) or _has_jump([s], ast.Continue)):
            s = ast.If(test=s.test, body=_guard(s.body, flags), orelse=_guard(s.orelse, flags))
            s = ast.copy_location(s, stmts[i])
            out.append(s)
            rest = _guard(stmts[i + 1:], flags)
            if rest:
                cond = _not_flags(flags)
                out.append(ast.copy_location(ast.If(test=cond, body=rest, orelse=[]), stmts[i]))
            return out
        if isinstance(s, (ast.With, ast.Try)) and (_has_jump([s], ast.Break) or _has_jump([s], ast.Continue)):
            # the jump sets its flag; the rest of each block, and of the loop body, is guarded by
            # the flags (a `finally:` still runs, as Python runs it on the way out)
            s = copy.copy(s)
            s.body = _guard(s.body, flags) or [ast.copy_location(ast.Pass(), stmts[i])]
            if isinstance(s, ast.Try):
                s.handlers = [ast.copy_location(ast.ExceptHandler(h.type, h.name, _guard(h.body, flags)
                                                                  or [ast.copy_location(ast.Pass(), h)]), h)
                              for h in s.handlers]
                s.orelse, s.finalbody = _guard(s.orelse, flags), _guard(s.finalbody, flags)
            out.append(s)
            rest = _guard(stmts[i + 1:], flags)
            if rest:
                out.append(ast.copy_location(ast.If(test=_not_flags(flags), body=rest, orelse=[]), stmts[i]))
            return out
        if isinstance(s, (ast.For, ast.While)) and (_has_jump([s], ast.Break) or _has_jump([s], ast.Continue)):
            # a nested loop's `else:` clause jumps out of this loop: flags, as in an `if`
            s = ast.copy_location(type(s)(**{**{f: getattr(s, f) for f in s._fields},
                                             "orelse": _guard(s.orelse, flags)}), stmts[i])
            out.append(s)
            rest = _guard(stmts[i + 1:], flags)
            if rest:
                out.append(ast.copy_location(ast.If(test=_not_flags(flags), body=rest, orelse=[]), stmts[i]))
            return out
        out.append(s)
    return out


def _not_flags(flags: dict) -> ast.expr:
    names = [_name(f) for f in (flags.get("brk"), flags.get("cont")) if f]
    test = names[0] if len(names) == 1 else ast.BoolOp(ast.Or(), names)
    return ast.UnaryOp(ast.Not(), test)


def _flat_classes(kinds: list[ast.expr]) -> ast.expr:
    """A tuple of the classes named by `except` clauses (each may be a tuple)."""
    parts = [ast.Starred(k, ast.Load()) if isinstance(k, ast.Tuple) else k for k in kinds]
    return ast.Tuple(parts, ast.Load())


_INPLACE = {ast.Add: "iadd", ast.Sub: "isub", ast.Mult: "imul", ast.Div: "itruediv", ast.FloorDiv: "ifloordiv",
            ast.Mod: "imod", ast.Pow: "ipow", ast.BitAnd: "iand", ast.BitOr: "ior", ast.BitXor: "ixor",
            ast.LShift: "ilshift", ast.RShift: "irshift"}


def _note_changed(target: ast.expr) -> None:
    """`x[k] = v`, `x.a = v`, `del x[k]` -> `__lt.mutated_item(x)[k] = v`,
    `__lt.mutated(x).a = v`: the line that changes x, for the error that
    refuses a change to a Python object under a traced `if` or in a traced
    loop (tracer/containers.py). x is evaluated once, in Python's order."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for e in target.elts:
            _note_changed(e)
    elif isinstance(target, ast.Starred):
        _note_changed(target.value)
    elif isinstance(target, ast.Subscript):  # (a Python list's store at a traced index: runtime.ListItems)
        target.value = ast.copy_location(ast.Call(_attr("mutated_item"), [target.value], []), target.value)
    elif isinstance(target, ast.Attribute):
        target.value = ast.copy_location(ast.Call(_attr("mutated"), [target.value], []), target.value)


def _list_display(v: ast.expr) -> bool:
    return isinstance(v, ast.List) or isinstance(v, ast.BinOp) and isinstance(v.op, ast.Mult) and \
        isinstance(v.left, ast.List)


def _dict_display(v: ast.expr) -> bool:
    """`{"loss": 0.0, "n": 0}`: a dict display of constant keys."""
    return isinstance(v, ast.Dict) and bool(v.keys) and all(
        isinstance(k, ast.Constant) and isinstance(k.value, (str, int)) for k in v.keys)


def _listed_names(nodes: list[ast.AST]) -> set[str]:
    """Names the function (`nodes`: ast.walk's of it) binds to a list display or a repeated one
    (`counts = [0] * 3`) and updates an item of in place (`counts[k] += 1`),
    or binds to a dict display of constant keys and updates or sets an item
    of (`stats["loss"] += l`, `stats["best"] = v`)."""
    bound = {n.targets[0].id for n in nodes if isinstance(n, ast.Assign) and len(n.targets) == 1
             and isinstance(n.targets[0], ast.Name) and _list_display(n.value)}
    updated = {n.target.value.id for n in nodes if isinstance(n, ast.AugAssign)
               and isinstance(n.target, ast.Subscript) and isinstance(n.target.value, ast.Name)}
    return (bound & updated) | _dict_names(nodes, updated)


class _AnnotationsDropped(ast.NodeTransformer):
    """`s: float = v` -> `s = v`, `s: float` -> nothing: a local's annotation
    does nothing at run time (it is not evaluated in a function), and a loop
    body or branch made into a function declares its names nonlocal, which
    an annotated name cannot be (Python's SyntaxError). Nested defs and
    classes keep theirs."""

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        return ast.copy_location(ast.Assign([node.target], node.value), node)

    def visit_FunctionDef(self, node):
        return node if getattr(self, "_inside", False) else self._enter(node)

    visit_AsyncFunctionDef = visit_FunctionDef
    visit_Lambda = visit_FunctionDef

    def visit_ClassDef(self, node):
        return node

    def _enter(self, node):
        self._inside = True
        return self.generic_visit(node)


def _dict_names(nodes: list[ast.AST], updated: set[str]) -> set[str]:
    dicts = {n.targets[0].id for n in nodes if isinstance(n, ast.Assign) and len(n.targets) == 1
             and isinstance(n.targets[0], ast.Name) and _dict_display(n.value)}
    return dicts & (updated | _item_set(nodes))


def _item_set(nodes: list[ast.AST]) -> set[str]:
    return {n.targets[0].value.id for n in nodes if isinstance(n, ast.Assign) and len(n.targets) == 1
            and isinstance(n.targets[0], ast.Subscript) and isinstance(n.targets[0].value, ast.Name)}


def _key_expr(key: ast.expr) -> ast.expr:
    """A subscript's key as an ordinary expression (slices become slice(...))."""
    if isinstance(key, ast.Slice):
        parts = [p if p is not None else ast.Constant(None) for p in (key.lower, key.upper, key.step)]
        return ast.copy_location(ast.Call(func=ast.Name("slice", ast.Load()), args=parts, keywords=[]), key)
    if isinstance(key, ast.Tuple):
        return ast.copy_location(ast.Tuple([_key_expr(e) for e in key.elts], ast.Load()), key)
    return key


# --- small AST builders --------------------------------------------------------------------
def _is_none_const(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _is_bool_const(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, bool)


def _only_tested(node: ast.expr) -> ast.expr:
    """Mark the `and`/`or` of a test (`if`, `while`, `assert`, a conditional
    expression's, `not`'s operand), nested ones in its operands too: only its
    truth is used, so each operand is taken as its truth (`if x[:1] > 0 and
    flag:` of a one-element array; its value, that array or flag, need not
    have one shape), where `y = c and arr` keeps Python's value."""
    if isinstance(node, ast.BoolOp):
        node._lt_truth = True
        for v in node.values:
            _only_tested(v)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _only_tested(node.operand)
    return node


def _keep_none(node: ast.expr, mode: bool | str = True) -> ast.expr:
    """A converted expression that passes a value on (an assignment's or a
    return's value, a tuple of them, a side of a conditional expression, the
    operand of `is None`): its reads of names keep a None they may hold
    (`__lt.bound(x, 'x', True)`), as Python passes None on without using it.
    `mode="index"`: an index, where None is np.newaxis (values.bound)."""
    if isinstance(node, ast.Call) and _is_lt_call(node, "bound") and len(node.args) == 2:
        node.args.append(ast.Constant(mode))
    elif isinstance(node, (ast.Tuple, ast.List)):
        for e in node.elts:
            _keep_none(e, mode)
    elif isinstance(node, ast.Call) and _is_lt_call(node, "ifexp"):
        for side in node.args[1:]:
            if isinstance(side, ast.Lambda):
                _keep_none(side.body, mode)
    return node


def _fix_locations(node: ast.AST, whole: bool = False) -> ast.AST:
    """ast.fix_missing_locations, node for node (each node without a position
    takes its parent's, in the same preorder), walked without recursion or
    generators. The converter fixes each loop's, branch's and call's new
    statements as it makes them, so nested loops were walked once per level
    (a third of converting): a subtree an earlier call fixed, which has every
    position (where fixing it again writes nothing), is not walked again,
    unless `whole` (the last call, on the module: a node the converter added
    under a fixed one since gets its position there, never none)."""
    todo = [(node, 1, 0, 1, 0)]
    pop, push = todo.pop, todo.append
    while todo:
        n, line, col, end, end_col = pop()
        if not whole and n is not node and _FIXED in n.__dict__:
            continue
        cls = type(n)
        shape = _NODE_SHAPES.get(cls)
        if shape is None:
            shape = _NODE_SHAPES[cls] = ("lineno" in cls._attributes, cls._fields)
        located, fields = shape
        if located:  # (every ast class has all four positions or none)
            if hasattr(n, "lineno"):
                line = n.lineno
            else:
                n.lineno = line
            if getattr(n, "end_lineno", None) is None:
                n.end_lineno = end
            else:
                end = n.end_lineno
            if hasattr(n, "col_offset"):
                col = n.col_offset
            else:
                n.col_offset = col
            if getattr(n, "end_col_offset", None) is None:
                n.end_col_offset = end_col
            else:
                end_col = n.end_col_offset
        children = []
        for f in fields:
            v = getattr(n, f, None)
            if isinstance(v, ast.AST):
                children.append(v)
            elif isinstance(v, list):
                children.extend(x for x in v if isinstance(x, ast.AST))
        for c in reversed(children):  # (popped in order: ast's preorder, which a node shared by two
            push((c, line, col, end, end_col))  # parents makes matter)
    node.__dict__[_FIXED] = True
    return node


_NODE_SHAPES: dict[type, tuple] = {}  # ast class -> (has positions, its fields)
_FIXED = "_lt_fixed"  # an attribute of the root of each subtree _fix_locations fixed (compile ignores it)


def _is_lt_call(node: ast.Call, name: str) -> bool:
    f = node.func
    return isinstance(f, ast.Attribute) and f.attr == name and isinstance(f.value, ast.Name) and f.value.id == "__lt"


def _attr(name: str) -> ast.expr:
    return ast.Attribute(value=ast.Name("__lt", ast.Load()), attr=name, ctx=ast.Load())


def _name(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


def _no_args() -> ast.arguments:
    return ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[])


def _def(name: str, params: list[ast.arg], body: list[ast.stmt]) -> ast.FunctionDef:
    args = ast.arguments(posonlyargs=[], args=params, kwonlyargs=[], kw_defaults=[], defaults=[])
    return ast.FunctionDef(name=name, args=args, body=body or [ast.Pass()], decorator_list=[],
                           returns=None, type_params=[])


def _nonlocal(names: list[str]) -> list[ast.stmt]:
    return [ast.Nonlocal(names=list(names))] if names else []


def _end_at(stmt: ast.stmt, header: ast.expr) -> None:
    """`stmt` (a converted if/loop's call, located at the statement) ends
    where the statement's header does, where that is a valid range (a
    header the converter made itself, `not __lt_brk`, may lie elsewhere)."""
    end, col = getattr(header, "end_lineno", None), getattr(header, "end_col_offset", None)
    if end is None or col is None or end < stmt.lineno or end == stmt.lineno and col < stmt.col_offset:
        return
    stmt.end_lineno, stmt.end_col_offset = end, col


def _hoist(names: list[str]) -> list[ast.stmt]:
    """`if False: n = None` makes each name a local of the enclosing function,
    so the nested bodies' `nonlocal` declarations resolve to it."""
    if not names:
        return []
    return [ast.If(test=ast.Constant(False), body=[_assign(n, ast.Constant(None)) for n in names],
                   orelse=[])]


def _get_set(key: int, names: list[str]) -> list[ast.stmt]:
    loads = [ast.Call(_attr("ld"), [ast.Lambda(_no_args(), _name(n))], []) for n in names]
    get = _def(f"__lt_get_{key}", [], [ast.Return(ast.Tuple(loads, ast.Load()))])
    if names:
        store = ast.Assign(targets=[ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store())],
                           value=_name("__lt_v"))
        set_body = _nonlocal(names) + [store]
    else:
        set_body = [ast.Pass()]
    setter = _def(f"__lt_set_{key}", [ast.arg("__lt_v")], set_body)
    return [get, setter]


def _scope_getter(key: int, names: list[str]) -> ast.stmt:
    """`def __lt_scope_K(): return {"a": ld(lambda: a), ...}` (unbound names read as UNBOUND)."""
    loads = [ast.Call(_attr("ld"), [ast.Lambda(_no_args(), _name(n))], []) for n in names]
    table = ast.Dict([ast.Constant(n) for n in names], loads)
    return _def(f"__lt_scope_{key}", [], [ast.Return(table)])


def _const_tuple(items: tuple) -> ast.expr:
    return ast.Tuple([ast.Constant(i) for i in items], ast.Load())


# calls a while test may make without acting: evaluated where the loop tests (the test stays one
# that reads only shapes where it does: `while len(a) > 3`, which the loop may run as Python)
_PURE_CALLS = {"len", "abs", "min", "max", "int", "float", "bool", "round"}
_PURE_NP = {"abs", "absolute", "all", "any", "isnan", "isfinite", "isinf", "max", "min", "sum", "mean", "norm",
            "shape", "size", "ndim", "sqrt", "allclose", "isclose", "amax", "amin"}


def _item_lambda(target: ast.AST, body: ast.AST) -> ast.Lambda:
    """`lambda t: body` for a comprehension's target `t`; for a tuple target
    (`a, (b, c)`), `lambda item: [body for a, (b, c) in (item,)][0]`, which
    unpacks the item as the comprehension's `for` would (its errors too)."""
    def arguments(name: str) -> ast.arguments:
        return ast.arguments(posonlyargs=[], args=[ast.arg(name)], kwonlyargs=[], kw_defaults=[], defaults=[])

    if isinstance(target, ast.Name):
        return ast.Lambda(arguments(target.id), body)
    item = "__lt_item"
    once = ast.ListComp(body, [ast.comprehension(target, ast.Tuple([ast.Name(item, ast.Load())], ast.Load()), [],
                                                 0)])
    return ast.Lambda(arguments(item), ast.Subscript(once, ast.Constant(0), ast.Load()))


def _unpacking_target(t: ast.AST) -> bool:
    """A name, or a tuple of unpacking targets (`a, (b, c)`)."""
    return isinstance(t, ast.Name) or isinstance(t, ast.Tuple) and all(_unpacking_target(e) for e in t.elts)


def _rows_comprehension(node: ast.ListComp) -> bool:
    """`[elt for t in it if c]` whose element is a list (another
    comprehension, a display `[a, b]` without starred items, `list(v)`),
    the rest as a simple comprehension's (row_lists.comp_rows)."""
    elt = node.elt
    listy = isinstance(elt, ast.ListComp) or isinstance(elt, ast.List) and elt.elts and \
        not any(isinstance(e, ast.Starred) for e in elt.elts) or \
        isinstance(elt, ast.Call) and isinstance(elt.func, ast.Name) and elt.func.id == "list" and \
        len(elt.args) == 1 and not elt.keywords and not isinstance(elt.args[0], ast.Starred) or \
        _repeated_row(elt)
    if not listy or any(isinstance(n, (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await, ast.Lambda))
                        for n in ast.walk(elt)):
        return False
    bare = ast.ListComp(ast.Constant(0), node.generators)
    return _simple_comprehension(bare)


def _repeated_row(elt: ast.expr) -> bool:
    """`[0.0] * m` (or `m * [0.0]`): a display of numbers repeated, the
    beginner's row of a list-of-lists grid (row_lists.comp_rows stacks it)."""
    if not (isinstance(elt, ast.BinOp) and isinstance(elt.op, ast.Mult)):
        return False
    shown = [s for s in (elt.left, elt.right) if isinstance(s, ast.List)]
    return len(shown) == 1 and bool(shown[0].elts) and not any(isinstance(e, ast.Starred) for e in shown[0].elts)


def _simple_comprehension(node: ast.AST) -> bool:
    """One `for target in iterable` clause (with any `if`s), not async; the
    target a name or names unpacked (`for a, b in zip(x, y)`)."""
    if not isinstance(node, (ast.ListComp, ast.GeneratorExp)) or len(node.generators) != 1:
        return False
    gen = node.generators[0]
    # (an element that is itself a list, a tuple or another comprehension stays Python's: a traced
    # loop appends arrays and numbers; a tuple that is an index, `X[i, 1]`, is no such element)
    indices = {id(n.slice) for part in (node.elt, *gen.ifs) for n in ast.walk(part) if isinstance(n, ast.Subscript)}
    # (`sum(v * v for v in row)` in the element is a number: visit_Call makes it an accumulation traced once)
    reduced = {id(m) for part in (node.elt, *gen.ifs) for n in ast.walk(part) if _reduced_comprehension(n)
               for m in ast.walk(n.args[0])}
    return _unpacking_target(gen.target) and not gen.is_async and not any(
        isinstance(n, (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await, ast.List, ast.Tuple, ast.ListComp,
                       ast.GeneratorExp, ast.SetComp, ast.DictComp, ast.Dict, ast.Set, ast.Lambda))
        and id(n) not in indices and id(n) not in reduced for part in (node.elt, *gen.ifs) for n in ast.walk(part))


def _as_list(x: ast.AST | list | None) -> list:
    """A visit's result as a list of statements."""
    return [] if x is None else x if isinstance(x, list) else [x]


def _recordable_try(node: ast.Try) -> bool:
    """`try: name = expr` or `name op= expr`, one `except E:` without `as`,
    no else or finally (convert's `_recorded_try`)."""
    body = node.body[0] if len(node.body) == 1 else None
    one_name = isinstance(body, ast.AugAssign) and isinstance(body.target, ast.Name) or \
        isinstance(body, ast.Assign) and len(body.targets) == 1 and isinstance(body.targets[0], ast.Name)
    return one_name and len(node.handlers) == 1 and node.handlers[0].name is None and not node.orelse \
        and not node.finalbody and _without_effects(body.value)


_PURE_CALLS = frozenset({"float", "int", "abs", "min", "max", "round", "len", "complex", "bool", "pow", "divmod"})


def _without_effects(expr: ast.AST) -> bool:
    """Does evaluating `expr` change nothing, whatever it raises midway? Its
    calls are of the pure builtins and of math/cmath/NumPy functions (not
    np.random's): past the point Python leaves for the handler, nothing it
    skips may change state (convert's `_recorded_try` evaluates all of it)."""
    for n in ast.walk(expr):
        if isinstance(n, (ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.Await, ast.Lambda, ast.ListComp,
                          ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            return False
        if isinstance(n, ast.Call):
            f, path = n.func, []
            while isinstance(f, ast.Attribute):
                path.append(f.attr)
                f = f.value
            if not isinstance(f, ast.Name) or (path and (f.id not in ("math", "cmath", "np", "numpy")
                                                           or "random" in path)) \
                    or (not path and f.id not in _PURE_CALLS):
                return False
    return True


def _tuple_comprehension(node: ast.ListComp) -> bool:
    """`[(a, b, ...) for t in it if ...]`: one `for`, a tuple display whose
    items are each what a simple comprehension's element may be."""
    elt = node.elt
    return isinstance(elt, ast.Tuple) and bool(elt.elts) and not any(isinstance(e, ast.Starred) for e in elt.elts) \
        and all(_simple_comprehension(ast.ListComp(e, node.generators)) for e in elt.elts)


def _fsum_of_generator(node: ast.Call) -> bool:
    """`math.fsum(f(t) for t in it)` of a simple comprehension, no other argument."""
    f = node.func
    return isinstance(f, ast.Attribute) and f.attr == "fsum" and isinstance(f.value, ast.Name) \
        and f.value.id == "math" and len(node.args) == 1 and not node.keywords \
        and isinstance(node.args[0], ast.GeneratorExp) and _simple_comprehension(node.args[0])


def _zip_star(node: ast.Call) -> bool:
    """`zip(*x)`: the name zip, one starred argument, no keywords."""
    return isinstance(node.func, ast.Name) and node.func.id == "zip" and len(node.args) == 1 \
        and isinstance(node.args[0], ast.Starred) and not node.keywords


def _reduced_comprehension(node: ast.AST) -> str | None:
    """"sum", "any" or "all" for `sum(f(i) for i in it[, start])`, `any(...)`,
    `all(...)` of a simple comprehension (visit_Call traces it once, as
    runtime.comp_sum / comp_any); else None."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords and node.args):
        return None
    name, n_args = node.func.id, len(node.args)
    if not (name in ("any", "all") and n_args == 1 or name == "sum" and n_args <= 2):
        return None
    return name if _simple_comprehension(node.args[0]) else None


def _pure_call(node: ast.Call) -> bool:
    """A call of a builtin or NumPy function that neither draws nor writes."""
    f = node.func
    if isinstance(f, ast.Name):
        return f.id in _PURE_CALLS
    if isinstance(f, ast.Attribute) and f.attr in _PURE_NP:
        base = f.value
        while isinstance(base, ast.Attribute):
            base = base.value
        return isinstance(base, ast.Name) and base.id in ("np", "numpy", "math")
    return False


def _loc(node: ast.AST, filename: str) -> ast.expr:
    return ast.Tuple([ast.Constant(filename), ast.Constant(node.lineno)], ast.Load())


# --- entry point ---------------------------------------------------------------------------------
_CACHE: dict[Any, Any] = {}


class NotConvertible(Exception):
    pass


def _refuse_global_writes(fdef: ast.FunctionDef, filename: str) -> None:
    """`global n` then `n += 1`: the compiled function cannot write a module's
    variable (it would be set to a traced value, or not at all)."""
    for g in _own_nodes(fdef):
        if not isinstance(g, ast.Global):
            continue
        written = set(g.names) & set(_names_in(fdef.body, appends=False).stored)
        if written:
            name = sorted(written)[0]
            raise _Converter._unsupported(
                _Located(filename), g, f"this function assigns the module variable `{name}` (`global {name}`); "
                "a looptrace-compiled function cannot change Python variables outside it",
                f"return the new value and assign `{name}` after the call")


class _Located:
    """What `_Converter._unsupported` needs of a converter: the file name."""

    def __init__(self, filename: str):
        self.filename = filename


_WHOLE: dict[str, tuple[str, ast.AST]] = {}  # file name -> (its source, its tree), the last read


def _whole_source(fn: types.FunctionType) -> ast.AST | None:
    """The tree of the whole file (or notebook cell) `fn` is in, or None
    where it cannot be read or parsed. A lambda's own lines, as inspect
    gives them, start at its line, which may be the middle of an expression
    (`return (np.vectorize(lambda x: ...)(v),` then a second lambda on the
    next line): they do not parse by themselves."""
    filename = fn.__code__.co_filename
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        return None
    src = "".join(lines)
    cached = _WHOLE.get(filename)
    if cached is not None and cached[0] == src:
        return cached[1]
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        return None
    if len(_WHOLE) > 64:
        _WHOLE.clear()
    _WHOLE[filename] = (src, tree)
    return tree


def _check_same_def(fdef: ast.FunctionDef, code: types.CodeType) -> None:
    """Raise NotConvertible unless `fdef`, read from the function's file at
    its first line, is the def its code was compiled from: the same name and
    parameters, starting at the code's first line (its first decorator's),
    with every line the code runs inside it. A file edited after it was
    loaded (a notebook's module changed on disk, a test file rewritten while
    the tests run) holds other text at that line; converting it would
    compile another function than the one called. The function then runs as
    it is while tracing (trace.converted), its loops unrolled, with a warning.
    (An edit inside the function's own lines that keeps its lines, its name
    and its parameters is not seen.)"""
    a = fdef.args
    params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
    first = min([fdef.lineno] + [d.lineno for d in fdef.decorator_list])
    n = code.co_argcount + code.co_kwonlyargcount
    lines = [line for line, *_ in code.co_positions() if line is not None]
    if fdef.name != code.co_name or params != list(code.co_varnames[:n]) or first != code.co_firstlineno \
            or any(not first <= line <= fdef.end_lineno for line in lines):
        raise NotConvertible(f"its file no longer holds its source at line {code.co_firstlineno} "
                             "(the file changed after the function was defined)")


def _inside(inner: ast.AST, outer: ast.AST) -> bool:
    """Does `inner`'s source span lie within `outer`'s?"""
    return (outer.lineno, outer.col_offset) <= (inner.lineno, inner.col_offset) and \
        (inner.end_lineno, inner.end_col_offset) <= (outer.end_lineno, outer.end_col_offset)


def _may_hold_line(node: ast.AST, line: int) -> bool:
    """Can a node on `line` lie under `node`? A node's children lie within its own lines,
    except a def's or class's decorators (above its line) and, before Python 3.12, the
    parts of an f-string; nodes without a position (arguments, comprehensions) are entered."""
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    if start is None or end is None or start <= line <= end:
        return True
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.JoinedStr))


def _lambdas_on_line(tree: ast.AST, line: int) -> list[ast.Lambda]:
    """The lambdas starting at `line` in `tree`: ast.walk's, entering only the nodes whose
    lines may hold it (a lambda's whole file was walked per lambda converted: 16 s of a
    tracer test file's 90 s under the profiler, session 55)."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Lambda) and node.lineno == line:
            found.append(node)
        todo.extend(child for child in ast.iter_child_nodes(node) if _may_hold_line(child, line))
    return found


def _lambda_as_def(tree: ast.AST, fn: types.FunctionType) -> ast.FunctionDef:
    """`lambda args: expr` (the one on fn's line with fn's parameters) as
    `def __lt_lambda(args): return expr`, so calls inside it are converted."""
    code = fn.__code__
    params = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    found = [n for n in _lambdas_on_line(tree, code.co_firstlineno)
             if [a.arg for a in n.args.posonlyargs + n.args.args + n.args.kwonlyargs] == params]
    if len(found) > 1:  # several on the line: the one whose body holds the code's source positions
        spans = [(line, col, end_line, end_col) for line, end_line, col, end_col in code.co_positions()
                 if line is not None and col is not None and end_line is not None and end_col is not None
                 and (line, col) != (end_line, end_col)]
        found = [n for n in found if spans and all(
            (n.body.lineno, n.body.col_offset) <= (line, col)
            and (end_line, end_col) <= (n.body.end_lineno, n.body.end_col_offset)
            for line, col, end_line, end_col in spans)]
        # (a lambda inside another on the line, both with fn's parameters: the outer's body holds the
        # inner's positions too; fn is the innermost, the outer's own code reaches outside the inner)
        found = [n for n in found if not any(m is not n and _inside(m, n) for m in found)]
    if len(found) != 1:
        raise NotConvertible("cannot tell which lambda on its line this is")
    lam = copy.deepcopy(found[0])  # (converting changes nodes in place: the cached file tree keeps its own)
    ret = ast.copy_location(ast.Return(lam.body), lam)
    fdef = ast.FunctionDef(name="__lt_lambda", args=lam.args, body=[ret], decorator_list=[], returns=None,
                           type_params=[])
    return ast.copy_location(fdef, lam)


class _MatchAsIf(ast.NodeTransformer):
    """`match s:` whose cases are literals (`case 0 | 1:`), None/True/False,
    classes without sub-patterns (`case float():`), any of these captured
    (`case float() as v:`), a capture (`case n if n > 2:`) or `_`, as the
    if/elif chain Python's match means (the subject evaluated once, `==` for
    a literal (runtime.match_value), `is` for a singleton, isinstance as
    plain Python sees the subject for a class (runtime.match_class), a guard
    only where the pattern matched): so a traced subject becomes a traced
    condition, and `break`, `continue` and `return` in a case are those of
    an `if`. A match with other patterns (sequences, mappings, classes with
    sub-patterns) stays a `match` for a Python subject; for a traced one it
    is the chain of its other cases (no sequence or mapping pattern matches
    a number or an array; a class with sub-patterns is refused)."""

    def visit_Match(self, node: ast.Match) -> Any:
        self.generic_visit(node)
        subject = f"__lt_subject{node.lineno}_{node.col_offset}"
        first = ast.copy_location(ast.Assign([ast.Name(subject, ast.Store())], node.subject), node)
        if all(_simple_pattern(c.pattern) for c in node.cases):
            return [first] + _case_chain(node.cases, subject)
        # other patterns: Python's match for a Python subject; for a traced one (a number or an
        # array, which no sequence or mapping pattern matches) the chain of the other cases
        traced = [c if _simple_pattern(c.pattern) else _refusing_case(c) for c in copy.deepcopy(node.cases)
                  if not _sequence_or_mapping(c.pattern)]
        node.subject = ast.Name(subject, ast.Load())
        test = ast.Call(_attr("is_traced"), [ast.Name(subject, ast.Load())], [])
        return [first, ast.copy_location(ast.If(test, _case_chain(traced, subject) or [ast.Pass()], [node]), node)]


def _simple_pattern(p: ast.pattern) -> bool:
    if isinstance(p, ast.MatchAs):
        return p.pattern is None or _tested_pattern(p.pattern)
    return _tested_pattern(p)


def _sequence_or_mapping(p: ast.pattern) -> bool:
    """A pattern that never matches an array or a number (`case (a, b):`, `case {"k": v}:`)."""
    if isinstance(p, ast.MatchAs) and p.pattern is not None:
        return _sequence_or_mapping(p.pattern)
    if isinstance(p, ast.MatchOr):
        return all(_sequence_or_mapping(q) for q in p.patterns)
    return isinstance(p, (ast.MatchSequence, ast.MatchMapping))


def _refusing_case(case: ast.match_case) -> ast.match_case:
    """A case whose pattern a traced subject cannot be tested against (a class
    with sub-patterns, `case C(x=0):`): reached, it refuses (runtime.match_subject)."""
    refuse = ast.Expr(ast.Call(_attr("match_subject"), [ast.Constant(ast.unparse(case.pattern))], []))
    return ast.match_case(ast.MatchAs(None, None), None, [ast.copy_location(refuse, case.pattern)])


def _tested_pattern(p: ast.pattern) -> bool:
    """A pattern that binds nothing and is one test of the subject (or an `|` of them)."""
    if isinstance(p, (ast.MatchValue, ast.MatchSingleton)):
        return True
    if isinstance(p, ast.MatchClass):
        return not p.patterns and not p.kwd_patterns
    return isinstance(p, ast.MatchOr) and all(_tested_pattern(q) for q in p.patterns)


def _pattern_test(p: ast.pattern, subject: str) -> ast.expr:
    if isinstance(p, ast.MatchOr):
        return ast.BoolOp(ast.Or(), [_pattern_test(q, subject) for q in p.patterns])
    if isinstance(p, ast.MatchSingleton):
        return ast.Compare(ast.Name(subject, ast.Load()), [ast.Is()], [ast.Constant(p.value)])
    which, other = ("match_class", p.cls) if isinstance(p, ast.MatchClass) else ("match_value", p.value)
    return ast.Call(_attr(which), [ast.Name(subject, ast.Load()), other], [])


def _case_chain(cases: list, subject: str) -> list[ast.stmt]:
    """The statements for `cases` tried in order (none left: nothing)."""
    if not cases:
        return []
    case, rest = cases[0], cases[1:]
    p = case.pattern
    body = list(case.body)
    bind = [ast.copy_location(ast.Assign([ast.Name(p.name, ast.Store())], ast.Name(subject, ast.Load())), p)] \
        if isinstance(p, ast.MatchAs) and p.name else []
    if isinstance(p, ast.MatchAs) and p.pattern is None:  # `_` or a capture: it matches; the guard decides
        if case.guard is None:
            return bind + body
        return bind + [ast.copy_location(ast.If(case.guard, body, _case_chain(rest, subject)), p)]
    if isinstance(p, ast.MatchAs):  # `case float() as v:`: bound where the pattern matched, before the guard
        p = p.pattern
        if case.guard is not None:
            inner = [ast.copy_location(ast.If(case.guard, body, _case_chain(rest, subject)), p)]
            return [ast.copy_location(ast.If(_pattern_test(p, subject), bind + inner, _case_chain(rest, subject)), p)]
        body = bind + body
    test = _pattern_test(p, subject)
    if case.guard is not None:
        test = ast.BoolOp(ast.And(), [test, case.guard])
    return [ast.copy_location(ast.If(ast.copy_location(test, p), body, _case_chain(rest, subject)), p)]


def _drop_header_expressions(fdef: ast.FunctionDef) -> None:
    """Replace the defaults and annotations of the converted `def` by None.
    They were evaluated where the user's `def` ran, perhaps from locals of an
    enclosing function (`def f(x, c=k*2)`) that the converted code cannot
    see; the converted function gets the original's `__defaults__` and
    `__kwdefaults__` instead."""
    args = fdef.args
    args.defaults = [ast.Constant(None) for _ in args.defaults]
    args.kw_defaults = [None if d is None else ast.Constant(None) for d in args.kw_defaults]
    for a in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
        if a is not None:
            a.annotation = None
    fdef.returns = None


class deep_recursion:
    """Python's recursion limit raised to at least `depth` while converting or
    tracing: AST visitors recurse once per level of nesting, and a 500-term
    expression that Python runs fine must not fail here. (Since Python 3.11
    a Python-to-Python call uses no C stack, so the raised limit is safe.)
    Nested and concurrent uses share one raise; the last one out restores."""

    _lock = threading.Lock()
    _users = 0
    _saved = 0

    def __init__(self, depth: int = 20_000):
        self.depth = depth

    def __enter__(self) -> None:
        cls = type(self)
        with cls._lock:
            if cls._users == 0:
                cls._saved = sys.getrecursionlimit()
                sys.setrecursionlimit(max(cls._saved, self.depth))
            cls._users += 1

    def __exit__(self, *exc) -> None:
        cls = type(self)
        with cls._lock:
            cls._users -= 1
            if cls._users == 0:
                sys.setrecursionlimit(cls._saved)


def convert(fn: types.FunctionType) -> types.CodeType:
    """Code object of a factory that, called with the closure's cell values,
    returns the converted function."""
    key = fn.__code__
    if key in _CACHE:
        return _CACHE[key]
    with deep_recursion():
        return _convert(fn, key)


def _convert(fn: types.FunctionType, key) -> types.CodeType:
    whole = _whole_source(fn) if fn.__name__ == "<lambda>" else None
    if whole is not None:  # a lambda: found in its file's tree (its line may continue an expression)
        tree = whole
    else:
        try:
            lines, first = inspect.getsourcelines(fn)
        except (OSError, TypeError) as e:
            raise NotConvertible(str(e)) from None
        src = textwrap.dedent("".join(lines))
        try:
            tree = ast.parse(src)
        except SyntaxError as e:
            raise NotConvertible(str(e)) from None
        ast.increment_lineno(tree, first - 1)
    fdef = tree.body[0] if fn.__name__ != "<lambda>" else _lambda_as_def(tree, fn)
    if not isinstance(fdef, ast.FunctionDef):
        raise NotConvertible("not a def statement")
    if fn.__name__ != "<lambda>":
        _check_same_def(fdef, fn.__code__)
    if generators.steppable(fn):  # a generator whose loop yields once per iteration: (iterable, step)
        fdef = generators.step_def(fdef)
    filename = fn.__code__.co_filename
    fdef.decorator_list = []
    _AnnotationsDropped().visit(fdef)
    _drop_header_expressions(fdef)
    _MatchAsIf().visit(fdef)  # a `match` of literal cases: an if/elif chain (traced subjects, break, return)
    grown_arrays.rewrite(fdef)  # `out = np.append(out, v)` in a loop: items appended to a list (grown_arrays.py)
    global_names = {n for s in ast.walk(fdef) if isinstance(s, ast.Global) for n in s.names}
    _refuse_global_writes(fdef, filename)
    a = fdef.args
    params = {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if p is not None}
    # `name.append(x)` of a name the function never binds: a list from outside, left unbound
    # (it was rebound, which made it local: UnboundLocalError at its first read)
    bound = set(_names_in(fdef.body, appends=False).stored) | params
    global_names |= {n for s in _own_nodes(fdef) if isinstance(s, ast.Expr)
                     for n in [_append_target(s)] if n is not None and (n not in bound or n in global_names)}
    if returns.needs_lowering(fdef.body):  # early returns become a flag and a value slot
        unsupported = lambda node, msg, hint="": _Converter._unsupported(_Located(filename), node, msg, hint)  # noqa: E731
        fdef.body = returns.lower_returns(fdef.body, unsupported)
    # the analyses below read the function as it is now, walked once (8 walks were a tenth of converting)
    own, nodes = list(_own_nodes(fdef)), list(ast.walk(fdef))
    _LISTED.names = _listed_names(nodes) - {n for s in own if isinstance(s, ast.Expr)
                                            for n in [_append_target(s)] if n}
    _DICTS.names = _dict_names(nodes, set()) & _LISTED.names
    conv = _Converter(filename, names_in(fdef.body), global_names)
    conv.maybe_unbound = conditionally_assigned(own) | passed_on(own)
    conv._func_nodes = nodes
    conv.params = params
    conv.appended = {n for s in own if isinstance(s, ast.Expr) for n in [_append_target(s)] if n}
    conv.listed = _LISTED.names
    conv.dicts = _DICTS.names
    conv.closure_writes = sorted({n for d in own if isinstance(d, (ast.FunctionDef, ast.AsyncFunctionDef))
                                  for s in ast.walk(d) if isinstance(s, ast.Nonlocal) for n in s.names}
                                 & (bound - global_names))
    fdef.body = conv._visit_stmts(fdef.body)
    free = list(fn.__code__.co_freevars)
    factory = _def("__lt_factory", [ast.arg(n) for n in free], [fdef, ast.Return(_name(fdef.name))])
    module = ast.Module(body=[factory], type_ignores=[])
    _fix_locations(module, whole=True)
    code = compile(module, filename, "exec")
    _CACHE[key] = code
    return code
