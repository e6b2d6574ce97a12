"""Long kernels split into parts that Numba compiles one at a time.

LLVM's optimization of one function grows faster than linearly with its
length: a kernel of 400 independent statements (3,200 lines) took 530 s to
compile as one function, against 7 s for 50 statements (bench/compile_scaling.py).
So a kernel body longer than `LIMIT` lines is cut, between top-level
statements, into parts of about `PART` lines; each part becomes a function
of its own, with the kernel's decorator, that takes the names it reads and
returns the names later statements read, and the kernel calls the parts in
order. Compile time then grows with the number of parts, i.e. linearly.

Exact: the statements run in the same order on the same values. Arrays are
passed by reference, so in-place writes need no return; rebound names
(scalars, new arrays, views) come back as results. A name a part may or may
not rebind (in a branch or a loop) is also passed in, so it keeps its value
when the part does not. Lines keep their text, so a Numba error in a part
maps to the op that emitted the line (`origin`).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass

LIMIT = 600  # body lines above which a kernel is split
PART = 250  # about this many lines per part


@dataclass
class Outlined:
    """The kernel's new body and the part functions, each line with the index
    of the body line it came from (None for the calls and signatures)."""

    kernel: list[tuple[str, int | None]]
    parts: list[list[tuple[str, int | None]]]


def outline(lines: list[str], params: list[str], decorator: str, name: str) -> Outlined | None:
    """Split the body `lines` of kernel `name` (its parameters `params`), or
    None when it is short enough or has no safe cut."""
    if len(lines) <= LIMIT:
        return None
    stmts = _statements(lines, params, name)
    if stmts is None:
        return None
    groups = _groups(stmts)
    if len(groups) < 2:
        return None
    return _assemble(lines, stmts, groups, params, decorator, name)


@dataclass
class _Stmt:
    first: int  # index into the body lines
    last: int  # inclusive
    loads: set[str]
    stores: set[str]
    returns: bool  # is or holds a return: stays in the kernel

    def indices(self) -> range:
        return range(self.first, self.last + 1)


def _statements(lines: list[str], params: list[str], name: str) -> list[_Stmt] | None:
    text = f"def {name}({', '.join(params)}):\n" + "\n".join(lines) + "\n"
    try:
        fn = ast.parse(text).body[0]
    except SyntaxError:
        return None
    out = []
    for node in fn.body:
        loads, stores, returns = set(), set(), False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                (stores if isinstance(sub.ctx, ast.Store) else loads).add(sub.id)
            elif isinstance(sub, (ast.FunctionDef, ast.Lambda, ast.Global, ast.Nonlocal, ast.Yield)):
                return None  # scopes of their own: never generated, never split
            elif isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
                loads.add(sub.target.id)
            returns = returns or isinstance(sub, ast.Return)
        out.append(_Stmt(node.lineno - 2, node.end_lineno - 2, loads, stores, returns))
    return out


def _groups(stmts: list[_Stmt]) -> list[list[int]]:
    """Runs of consecutive statements of about PART lines, up to the first
    statement that returns."""
    groups: list[list[int]] = [[]]
    size = 0
    for k, s in enumerate(stmts):
        if s.returns:
            break
        if size >= PART:
            groups.append([])
            size = 0
        groups[-1].append(k)
        size += len(s.indices())
    return [g for g in groups if g]


def _assemble(lines, stmts, groups, params, decorator, name) -> Outlined:
    kernel: list[tuple[str, int | None]] = []
    parts: list[list[tuple[str, int | None]]] = []
    defined = set(params)
    for g, group in enumerate(groups):
        chunk = [stmts[k] for k in group]
        later = set().union(*(s.loads for s in stmts[group[-1] + 1:]))
        loads = set().union(*(s.loads for s in chunk))
        stores = set().union(*(s.stores for s in chunk))
        outs = sorted(stores & later)
        ins = sorted((loads | set(outs)) & defined)
        fn = f"{name}_part{g}"
        uses_prange = any("prange(" in lines[i] for s in chunk for i in s.indices())
        deco = decorator if uses_prange else decorator.replace(", parallel=PARALLEL", "")
        results = "".join(o + ", " for o in outs)
        parts.append([(deco, None), (f"def {fn}({', '.join(ins)}):", None),
                      *[(lines[i], i) for s in chunk for i in s.indices()], (f"    return ({results})", None)])
        call = f"{fn}({', '.join(ins)})"
        kernel.append((f"    ({results}) = {call}" if outs else f"    {call}", None))
        defined |= stores
    rest = groups[-1][-1] + 1
    kernel.extend((lines[i], i) for s in stmts[rest:] for i in s.indices())
    return Outlined(kernel, parts)
