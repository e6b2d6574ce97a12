"""A user's generator function driving a traced loop, traced once.

    def pairs(n):
        for i in range(n - 1):
            yield i, i + 1

    for i, j in pairs(n): ...

A generator whose body is some statements, then one `for` or `while` loop
whose iteration holds its one `yield` (at its end, in an `if` whose branch
ends in it, or followed by more statements), yields one item per iteration
of that loop. So the consumer's loop is the generator's loop: its `def` is
converted into a function returning (the loop's iterable, a step that gives
one iteration's item, what runs after the yield, and the names an iteration
leaves for the next: `a, b = b, a + b; yield a`), and the consumer's `for`
runs over that iterable with the step's item as its target (runtime.for_),
carrying those names beside its own. A loop whose iteration ends in an
inner loop holding the yield (all pairs i < j) is the consumer's nest. The
loop is traced once, as the consumer's own loop would be; the consumer's
break/continue are its own.

Anything else (several loops or yields, `yield from`, `return` or `break`
in the generator, an outer loop keeping state, a loop changing a list or
dict made before it, the generator object used other than by a `for`)
stays refused, naming the line, with a hint.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from typing import Any

from looptrace.errors import UnsupportedError

from . import context as ctx

STEP = "__lt_gen_step"
THEN = "__lt_gen_then"
AFTER = "__lt_gen_after"
GET = "__lt_gen_get"
SET = "__lt_gen_set"
TEST = "__lt_gen_test"

_SHAPES: dict = {}  # code -> its _Shape, or the reason it has none (str)


class _Shape:
    """A steppable generator's parts: statements before the loop, the loop,
    the statements of an iteration before the yield (or before its `if`),
    the `if` holding the yield (None where the yield is unconditional), the
    statements after the yield, and the names kept across iterations."""

    def __init__(self, pre: list, loop: ast.For, lead: list, branch: ast.If | None, tail: list, value: ast.expr,
                 after: list, kept: list[str]):
        self.pre, self.loop, self.lead, self.branch, self.tail, self.value = pre, loop, lead, branch, tail, value
        self.after = after  # the iteration's statements after the yield (run after the consumer's body)
        self.kept = kept  # the names an iteration leaves for the next (carried by the consumer's loop)
        self.inner: _Shape | None = None  # the loop ending each iteration, where the yield is in it


def is_generator_function(fn: Any) -> bool:
    return isinstance(fn, types.FunctionType) and bool(fn.__code__.co_flags & inspect.CO_GENERATOR)


def steppable(fn: Any) -> bool:
    """Is fn a generator function whose one loop yields once per iteration
    from that iteration alone (module docstring)?"""
    return is_generator_function(fn) and isinstance(_shape_of(fn), _Shape)


def _shape_of(fn: types.FunctionType) -> _Shape | str:
    code = fn.__code__
    if code not in _SHAPES:
        _SHAPES[code] = _read_shape(fn)
    return _SHAPES[code]


def _read_shape(fn: types.FunctionType) -> _Shape | str:
    try:
        lines, first = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError) as e:
        return f"its source cannot be read ({e})"
    fdef = tree.body[0] if tree.body else None
    if not isinstance(fdef, ast.FunctionDef):
        return "it is not a def statement"
    ast.increment_lineno(fdef, first - 1)
    return shape(fdef)


def _own(node: ast.AST):
    """The nodes of `node` outside functions, lambdas and classes nested in it."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            yield from _own(child)


def _has(stmts: list, kinds: tuple) -> bool:
    return any(isinstance(n, kinds) for s in stmts for n in _own(s))


def _stored(stmts: list) -> set[str]:
    return {n.id for s in stmts for n in _own(s) if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del))}


def _yield_value(s: ast.stmt) -> ast.expr | None:
    """E of a statement `yield E` (a bare `yield`: None), else None."""
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Yield):
        return s.value.value if s.value.value is not None else ast.copy_location(ast.Constant(None), s)
    return None


def shape(fdef: ast.FunctionDef) -> _Shape | str:
    """fdef's _Shape, or why it has none (a phrase)."""
    from .convert import _reads, live_in

    body = list(fdef.body)
    if body and isinstance(body[-1], ast.Return) and body[-1].value is None:
        body = body[:-1]  # a bare `return` after the loop ends it as falling off does
    if not body or not isinstance(body[-1], (ast.For, ast.While)) or body[-1].orelse:
        return "its body does not end in one `for` or `while` loop (without `else`) that yields"
    pre, loop = body[:-1], _continue_as_if(body[-1])
    if _has(pre, (ast.Yield, ast.YieldFrom, ast.For, ast.While, ast.Return)):
        return "it yields, loops or returns before its loop"
    if _has([fdef], (ast.YieldFrom, ast.Global, ast.Nonlocal, ast.Await)):
        return "it uses `yield from`, `global` or `nonlocal`"
    changed = _changes_outside(pre, loop, _targets(loop) | _stored(loop.body))
    if changed:
        return f"its loop changes `{changed}`, a Python container from before the loop"
    nested = _nested_shape(fdef, loop, live_in)
    if nested is not None:
        return nested
    if _has(loop.body, (ast.Return, ast.Break, ast.Continue, ast.For, ast.While, ast.Try, ast.With)):
        return "its loop body returns, breaks, continues, or holds a loop (other than one ending it), try or with"
    if _has([_header(loop)], (ast.Yield, ast.NamedExpr)):
        return "its loop's iterable or test yields or assigns"
    yields = sum(isinstance(n, ast.Yield) for s in loop.body for n in _own(s))
    if yields != 1:
        return f"its loop holds {yields} yields (one per iteration is traced)"
    at = next(k for k, s in enumerate(loop.body) if any(isinstance(n, ast.Yield) for n in _own(s)))
    lead, last, after = loop.body[:at], loop.body[at], loop.body[at + 1:]
    branch = None
    tail: list = []
    value = _yield_value(last)
    if value is None and isinstance(last, ast.If) and not last.orelse and last.body and not after:
        branch, tail, value = last, last.body[:-1], _yield_value(last.body[-1])
        if value is None:
            return "its loop's `if` does not end in its yield"
    if value is None:
        return "its loop's yield is not a statement of the iteration (or the last of an `if` ending it)"
    target = _targets(loop)
    tested = _reads(loop.test) if isinstance(loop, ast.While) else set()  # (read before each iteration)
    kept = sorted(n for n in _stored(loop.body) - target if live_in(n, loop.body) or n in tested)
    unbound = [n for n in kept if n not in _stored(pre) | _params(fdef)]
    if unbound:
        return f"its loop reads `{unbound[0]}` before assigning it, and nothing assigns it before the loop"
    if branch is not None:
        clash = sorted(_stored(tail) & (_stored(pre + lead) | target | _params(fdef)))
        if clash:
            return f"its `if` assigns `{clash[0]}`, which it also assigns before the `if`"
    return _Shape(pre, loop, lead, branch, tail, value, after, kept)


_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "update", "add", "discard",
                       "setdefault", "popitem", "sort", "reverse", "appendleft", "popleft", "extendleft", "rotate"})
_CONTAINERS = frozenset({"list", "dict", "set", "deque", "defaultdict", "OrderedDict", "Counter"})


def _changes_outside(pre: list, loop: ast.AST, own: set[str]) -> str | None:
    """A name not bound by the iteration whose object the loop changes as a
    Python container (lst.append(v), d[k] = v of a list or dict made before
    the loop, or passed to a function), else None. The steps run once while
    tracing, so such a change would be made once, not per iteration (array
    writes are traced as any: not these)."""
    made = {t.id for s in pre if isinstance(s, ast.Assign) and _container_value(s.value)
            for t in s.targets if isinstance(t, ast.Name)}
    for n in (n for s in loop.body for n in _own(s)):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name) \
                and n.func.attr in _MUTATORS and n.func.value.id not in own:
            return n.func.value.id
        if isinstance(n, (ast.Subscript, ast.Attribute)) and isinstance(n.ctx, (ast.Store, ast.Del)) \
                and isinstance(n.value, ast.Name) and n.value.id in made - own:
            return n.value.id
        if isinstance(n, ast.Call) and not (isinstance(n.func, ast.Name) and n.func.id in ("len", "sum", "min", "max")):
            passed = [a for a in (*n.args, *(k.value for k in n.keywords)) if isinstance(a, ast.Name)]
            hit = next((a.id for a in passed if a.id in made - own), None)
            if hit:
                return hit
    return None


def _container_value(v: ast.expr) -> bool:
    if isinstance(v, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    f = v.func if isinstance(v, ast.Call) else None
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return name in _CONTAINERS


def _header(loop: ast.For | ast.While) -> ast.expr:
    return loop.iter if isinstance(loop, ast.For) else loop.test


def _targets(loop: ast.For | ast.While) -> set[str]:
    if isinstance(loop, ast.While):
        return set()
    return _stored([ast.Assign(targets=[loop.target], value=ast.Constant(None))])


def _continue_as_if(loop: ast.For | ast.While) -> ast.For | ast.While:
    """`if c: continue` among the loop's statements (before its yield) as
    `if not c:` around the rest: the yield under an `if`, as Python skips
    it. The loop itself where it has none."""
    for k, s in enumerate(loop.body):
        if isinstance(s, ast.If) and not s.orelse and len(s.body) == 1 and isinstance(s.body[0], ast.Continue):
            rest = loop.body[k + 1:]
            if not rest or not any(isinstance(n, ast.Yield) for r in rest for n in _own(r)):
                return loop
            negated = ast.Call(ast.Attribute(ast.Name("__lt", ast.Load()), "not_", ast.Load()), [s.test], [])
            test = ast.copy_location(negated, s.test)  # (the step is not converted: runtime's `not`)
            guarded = ast.copy_location(ast.If(test, rest, []), s)
            body = [*loop.body[:k], guarded]
            new = ast.For(loop.target, loop.iter, body, [], None) if isinstance(loop, ast.For) else \
                ast.While(loop.test, body, [])
            new = ast.copy_location(new, loop)
            return new
        if any(isinstance(n, ast.Yield) for n in _own(s)):
            return loop
    return loop


def _nested_shape(fdef: ast.FunctionDef, loop: ast.For, live_in) -> _Shape | str | None:
    """`for a in A: lead; for b in B(a): ...; yield ...`: the inner loop's
    shape as a generator of its own (its `pre` the outer iteration's lead),
    run in each outer iteration; None where loop does not end in a loop.
    The outer iteration keeps nothing for the next."""
    last = loop.body[-1]
    if not isinstance(last, ast.For) or not isinstance(loop, ast.For):
        return None
    lead = loop.body[:-1]
    if last.orelse or _has(lead, (ast.Yield, ast.Return, ast.Break, ast.Continue, ast.For, ast.While, ast.Try, ast.With)):
        return "its loop's lead into the inner loop yields, loops, returns or jumps"
    target = _stored([ast.Assign(targets=[t, last.target], value=ast.Constant(None)) for t in [loop.target]])
    kept = sorted(n for n in _stored(loop.body) - target if live_in(n, loop.body))  # (nothing follows the inner loop)
    if kept:
        return f"its outer loop keeps `{kept[0]}` from one iteration to the next"
    inner = shape(ast.copy_location(ast.FunctionDef(STEP, ast.arguments([], [], None, [], [], None, []),
                                                    lead + [last], [], None), loop))
    if isinstance(inner, str):
        return "its inner loop: " + inner.replace("its loop", "the loop")
    sh = _Shape(fdef.body[:-1] if fdef.body[-1] is loop else fdef.body[:-2], loop, [], None, [], None, [], [])
    sh.inner = inner
    return sh


def _params(fdef: ast.FunctionDef) -> set[str]:
    a = fdef.args
    return {p.arg for p in a.posonlyargs + a.args + a.kwonlyargs + [a.vararg, a.kwarg] if p is not None}


def step_def(fdef: ast.FunctionDef) -> ast.FunctionDef:
    """fdef (a steppable generator's def) rewritten as a plain function
    returning (its loop's iterable, step): step(item) runs one iteration up
    to the yield and returns the yielded value, or, where the yield is under
    an `if`, (the test, a function giving the value)."""
    sh = shape(fdef)
    assert isinstance(sh, _Shape)
    loop = sh.loop
    at = lambda node: ast.copy_location(node, loop)  # noqa: E731
    bind = at(ast.Assign(targets=[loop.target], value=at(ast.Name("__lt_item", ast.Load())))) \
        if isinstance(loop, ast.For) else at(ast.Pass())
    if sh.inner is not None:  # the outer step: the inner loop's (iterable, step, after, get, set)
        inner_def = step_def(ast.copy_location(ast.FunctionDef(
            STEP, ast.arguments([], [], None, [], [], None, []), list(loop.body), [], None), loop))
        inner = [bind, *inner_def.body]
    elif sh.branch is None:
        inner = [bind, *sh.lead, ast.copy_location(ast.Return(sh.value), sh.value)]
    else:
        then = _plain_def(THEN, [], [*sh.tail, ast.copy_location(ast.Return(sh.value), sh.value)], sh.branch)
        pair = ast.Tuple([sh.branch.test, at(ast.Name(THEN, ast.Load()))], ast.Load())
        inner = [bind, *sh.lead, then, ast.copy_location(ast.Return(ast.copy_location(pair, sh.branch)), sh.branch)]
    kept = [at(ast.Nonlocal(sh.kept))] if sh.kept else []
    step = _plain_def(STEP, [ast.arg("__lt_item")], kept + inner, loop)
    after = _plain_def(AFTER, [], kept + (sh.after or [at(ast.Pass())]), loop)
    values = at(ast.Tuple([at(ast.Name(n, ast.Load())) for n in sh.kept], ast.Load()))
    get = _plain_def(GET, [], [at(ast.Return(values))], loop)
    put = [at(ast.Assign([at(ast.Tuple([at(ast.Name(n, ast.Store())) for n in sh.kept], ast.Store()))],
                         at(ast.Name("__lt_values", ast.Load()))))] if sh.kept else [at(ast.Pass())]
    set_ = _plain_def(SET, [ast.arg("__lt_values")], kept + put, loop)
    header = [loop.iter] if isinstance(loop, ast.For) else [at(ast.Name(TEST, ast.Load()))]
    parts = header + [at(ast.Name(n, ast.Load())) for n in (STEP, AFTER, GET, SET)]
    out = ast.Tuple(parts, ast.Load())
    step, after = _CallsTraced().visit(step), _CallsTraced().visit(after)  # (the converter does the rest)
    if isinstance(loop, ast.While):  # the test, read before each iteration: a function of the kept names
        after = [after, _CallsTraced().visit(_plain_def(TEST, [], [ast.copy_location(ast.Return(loop.test), loop)],
                                                        loop))]
    else:
        after = [after]
    new = ast.FunctionDef(fdef.name, fdef.args, [*sh.pre, step, *after, get, set_, at(ast.Return(at(out)))], [],
                          fdef.returns)
    new = ast.copy_location(new, fdef)
    ast.fix_missing_locations(new)
    return new


class _CallsTraced(ast.NodeTransformer):
    """`f(a, b)` -> `__lt.call(f, a, b)` in the step's statements and the
    loop's iterable, as the converter writes calls: the step functions are
    defined in the rewritten generator, which the converter leaves as they
    are (nested functions are converted when called, from their source,
    which these have none of), so range() of a traced bound is a traced
    range, min()/max() of traced values traced, a user's helper converted.
    (Conditions on traced values in them other than the `if` holding the
    yield stay Python's: a clear error, as in unconverted code.)"""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node = self.generic_visit(node)
        if any(isinstance(a, ast.Starred) for a in node.args) or \
                isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "__lt":
            return node
        call = ast.Call(ast.Attribute(ast.Name("__lt", ast.Load()), "call", ast.Load()), [node.func, *node.args],
                        node.keywords)
        return ast.copy_location(call, node)


def _plain_def(name: str, params: list, body: list, where: ast.AST) -> ast.FunctionDef:
    fn = ast.FunctionDef(name, ast.arguments([], params, None, [], [], None, []), body, [], None)
    return ast.copy_location(fn, where)


class GeneratorCall:
    """`gen(args)` of a steppable generator function, not run yet: a `for`
    over it runs the generator's loop (runtime.for_); any other use is
    refused at its line, as a generator was before."""

    def __init__(self, fn: types.FunctionType, args: tuple, kwargs: dict):
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def __iter__(self):
        name = self.fn.__name__
        raise UnsupportedError(
            f"`{name}(...)` is a generator used other than by a `for` loop over it: looptrace traces a "
            "generator function only as the iterable of a `for` (or a comprehension)", ctx.current_loc(),
            f"write `for item in {name}(...):` directly, or make `{name}` return an array or a list")

    def __next__(self):
        return next(iter(self))


def refusal(fn: types.FunctionType) -> str | None:
    """Why fn, a generator function, is not traced as its loop (None where it is)."""
    sh = _shape_of(fn)
    return sh if isinstance(sh, str) else None


def drive(call: GeneratorCall, body_fn, run_for, *args, **kwargs) -> Any:
    """The consumer's `for` over call: the generator's loop, each item its
    step's, the consumer's body after it (run_for: control.for_; args, kwargs:
    the consumer loop's get/set/names and meta)."""
    from .runtime import call_converted

    parts = call_converted(call.fn, call.args, call.kwargs)
    return _run(_shape_of(call.fn), parts, body_fn, run_for, args, kwargs, call.fn.__name__)


def _run(sh: _Shape, parts: tuple, body_fn, run_for, args: tuple, kwargs: dict, label: str) -> Any:
    """The consumer's loop over one generator loop (parts: its iterable,
    step, after, get and set of the names it keeps); a nested generator loop
    runs its inner loop in each outer iteration, as the consumer's own nest
    (the same carried names, break flag and location)."""
    from . import control

    iterable, step, after, get_kept, set_kept = parts
    get_fn, set_fn, names = args[0], args[1], args[2]
    if sh.inner is not None:
        inner_kwargs = dict(kwargs)  # (the next outer iteration and the code after read what it leaves)
        inner_kwargs["live_out"] = (*kwargs.get("live_out", ()), *kwargs.get("live", ()))

        def body(item: Any) -> None:
            _run(sh.inner, step(item), body_fn, run_for, args, inner_kwargs, label)
    elif sh.branch is not None:
        def body(item: Any) -> None:
            test, then = step(item)
            control.if_(test, lambda: body_fn(then()), lambda: None, get_fn, set_fn, names)
    else:
        def body(item: Any) -> None:
            body_fn(step(item))
            after()  # (after a `break`, too: it changes only the generator's own names, dead then)
    if isinstance(sh.loop, ast.While):  # `iterable` is the test: the consumer's loop is a while loop
        from .runtime import while_

        test, item_body = iterable, body
        run_for = lambda _, b, *a, **k: while_(test, lambda: b(None), *a, **k)  # noqa: E731
        body = item_body
    if not sh.kept:
        return run_for(iterable, body, *args, **kwargs)
    # the names the generator's iterations pass on are carried by the consumer's loop beside its own
    own = len(names)
    kept = tuple(f"{label}.{n}" for n in sh.kept)
    both_get = lambda: (*get_fn(), *get_kept())  # noqa: E731

    def both_set(values: tuple) -> None:
        set_fn(tuple(values[:own]))
        set_kept(tuple(values[own:]))

    kwargs = dict(kwargs)
    kwargs["live"] = (*kwargs.get("live", ()), *kept)
    return run_for(iterable, body, both_get, both_set, (*names, *kept), *args[3:], **kwargs)


