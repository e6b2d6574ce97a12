"""Early `return`, as AutoGraph converts it: a flag and a value slot.

    def f(x):                               def f(x):
        if x.sum() > 0:                         __lt_ret = False
            return x                            __lt_rv = __lt.NO_RETURN
        y = g(x)                   ->           if x.sum() > 0:
        return y * 2                                __lt_rv = x
                                                    __lt_ret = True
                                                if not __lt_ret:
                                                    y = g(x)
                                                    __lt_rv = y * 2
                                                    __lt_ret = True
                                                return __lt.returned(__lt_rv)

Inside a loop a `return` also breaks out of it, and of every loop around it
(`if __lt_ret: break` after the inner loop), so it means leaving the
function, as in Python. The conversion runs before the loop and branch
conversion (convert.py), which then handles the flags like any variable:
on a Python condition they are Python bools and the code runs as Python
does; on a traced condition the `if` becomes a conditional op and the value
slot a selected value (control.py fills the slot with zeros on the path that
has not returned yet, `NO_RETURN`, since the flag guards it).

Invariant: after `lower_returns`, the only `return` of the function (outside
nested functions) is its last statement.
"""
from __future__ import annotations

import ast

FLAG, SLOT, VALUED = "__lt_ret", "__lt_rv", "__lt_val"
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def needs_lowering(body: list[ast.stmt]) -> bool:
    """Does the function return anywhere but at its last top-level statement?"""
    returns = [n for s in body for n in _returns(s)]
    return bool(returns) and not (len(returns) == 1 and body and returns[0] is body[-1])


def lower_returns(body: list[ast.stmt], unsupported) -> list[ast.stmt]:
    """The function body with every `return` turned into flag and slot writes
    (see the module docstring); `unsupported(node, msg)` builds the error for
    a return looptrace cannot convert."""
    # a function that can reach its end without a `return` returns None there: on a traced
    # condition that is decided at run time (merge.returned); (judged before the returns in a loop
    # become breaks)
    falls_off = not (body and _never_ends(body[-1]))
    # `return None` beside `return value`: it leaves the slot empty, and a flag of its own says
    # whether a value was returned (`for ...: if c: return i` then `return None`)
    returns = [n for s in body for n in _returns(s)]
    apart = any(_is_none(r) for r in returns) and not all(_is_none(r) for r in returns)
    lowered = _block(body, in_loop=False, unsupported=unsupported, apart=apart)
    head = [_assign(FLAG, ast.Constant(False)), _assign(SLOT, _lt_attr("NO_RETURN"))]
    head += [_assign(VALUED, ast.Constant(False))] if apart else []
    flag = [ast.Name(VALUED if apart else FLAG, ast.Load())] if falls_off or apart else []
    tail = ast.Return(ast.Call(_lt_attr("returned"), [ast.Name(SLOT, ast.Load())] + flag, []))
    if body:  # the user's statements keep their own lines (a nested def's is where inspect finds its source)
        for s in head:
            ast.copy_location(s, body[0])
        ast.copy_location(tail, body[-1])
    return [ast.fix_missing_locations(s) for s in head + lowered + [tail]]


def _never_ends(stmt: ast.stmt) -> bool:
    """Is a function's last statement one it never runs past: a return, a
    raise, a `while True:` that no `break` of its own leaves?"""
    if isinstance(stmt, (ast.Return, ast.Raise)):
        return True
    if isinstance(stmt, ast.While) and isinstance(stmt.test, ast.Constant) and stmt.test.value is True \
            and not stmt.orelse:
        return not any(isinstance(n, ast.Break) for n in _own_loop_nodes(stmt.body))
    return False


def _own_loop_nodes(stmts: list[ast.stmt]):
    """The nodes of a loop body, not inside nested loops or scopes."""
    stack = list(stmts)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (ast.For, ast.While, *_SCOPES)):
            stack.extend(n.orelse if isinstance(n, (ast.For, ast.While)) else [])
            continue
        stack.extend(ast.iter_child_nodes(n))


def _is_none(r: ast.Return) -> bool:
    return r.value is None or isinstance(r.value, ast.Constant) and r.value.value is None


def _block(stmts: list[ast.stmt], in_loop: bool, unsupported, apart: bool = False) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for i, s in enumerate(stmts):
        if isinstance(s, ast.Return):
            out += _return(s, in_loop, apart)
            return out  # the rest of the block is unreachable
        if not _has_return(s):
            out.append(s)
            continue
        out.append(_statement(s, in_loop, unsupported, apart))
        rest = stmts[i + 1:]
        if in_loop:  # the return breaks out of this loop too, and the break guards what follows
            if isinstance(s, (ast.For, ast.While)):
                out.append(_copy(ast.If(ast.Name(FLAG, ast.Load()), [_copy(ast.Break(), s)], []), s))
            out += _block(rest, in_loop, unsupported, apart)
            return out
        rest = _block(rest, in_loop, unsupported, apart)
        if rest:
            guard = ast.UnaryOp(ast.Not(), ast.Name(FLAG, ast.Load()))
            out.append(_copy(ast.If(guard, rest, []), rest[0]))
        return out
    return out


def _return(node: ast.Return, in_loop: bool, apart: bool) -> list[ast.stmt]:
    value = node.value if node.value is not None else ast.Constant(None)
    out = [_copy(_assign(FLAG, ast.Constant(True)), node)]
    if not apart:
        out.insert(0, _copy(_assign(SLOT, value), node))
    elif not _is_none(node):
        out += [_copy(_assign(SLOT, value), node), _copy(_assign(VALUED, ast.Constant(True)), node)]
    if in_loop:
        out.append(_copy(ast.Break(), node))
    return out


def _statement(s: ast.stmt, in_loop: bool, unsupported, apart: bool) -> ast.stmt:
    """A compound statement with the returns inside it lowered."""
    if isinstance(s, ast.If):
        s.body = _block(s.body, in_loop, unsupported, apart) or [_copy(ast.Pass(), s)]
        s.orelse = _block(s.orelse, in_loop, unsupported, apart)
    elif isinstance(s, (ast.For, ast.While)):
        s.body = _block(s.body, True, unsupported, apart) or [_copy(ast.Pass(), s)]
        s.orelse = _block(s.orelse, in_loop, unsupported, apart)
    elif isinstance(s, ast.Match) and not in_loop:  # each case as a branch of an `if` (its subject is a Python value)
        for case in s.cases:
            case.body = _block(case.body, in_loop, unsupported, apart) or [_copy(ast.Pass(), case.pattern)]
    elif isinstance(s, ast.With) and not in_loop:
        s.body = _block(s.body, in_loop, unsupported, apart)
    elif isinstance(s, ast.Try) and not in_loop:
        s.body = _block(s.body, in_loop, unsupported, apart)
        for h in s.handlers:
            h.body = _block(h.body, in_loop, unsupported, apart) or [_copy(ast.Pass(), h)]
        s.orelse = _block(s.orelse, in_loop, unsupported, apart)
        s.finalbody = _block(s.finalbody, in_loop, unsupported, apart)
    else:
        ret = next(_returns(s))
        kind = type(s).__name__.lower()
        if in_loop:
            raise unsupported(ret, f"`return` inside `{kind}` in a loop is not supported",
                              "assign the result to a variable, `break`, and return after the loop")
        raise unsupported(ret, f"`return` inside `{kind}` is not supported where another statement follows "
                          "or the function may end without it", f"assign the result to a variable in each case "
                          f"and return it after the `{kind}`")
    return s


def _has_return(node: ast.AST) -> bool:
    return next(_returns(node), None) is not None


_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


def _returns(node: ast.AST):
    """The `return` statements in `node`, in ast.walk's preorder, not those of
    nested functions or classes (a nested `def` holds its own). Only statements
    and the clauses holding them are visited: an expression holds no `return`
    (a lambda's body is an expression), and expressions are most of the nodes."""
    todo = [node]  # (a stack: nested generators made each node cost the depth it is at)
    while todo:
        n = todo.pop()
        if isinstance(n, _SCOPES):
            continue
        if isinstance(n, ast.Return):
            yield n
            continue
        inner = [c for field in n._fields if isinstance(items := getattr(n, field, None), list)
                 for c in items if isinstance(c, _HOLDS_STATEMENTS)]
        todo.extend(reversed(inner))


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


def _lt_attr(name: str) -> ast.expr:
    return ast.Attribute(value=ast.Name("__lt", ast.Load()), attr=name, ctx=ast.Load())


def _copy(new: ast.AST, old: ast.AST) -> ast.AST:
    return ast.fix_missing_locations(ast.copy_location(new, old))
