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
        if out and node.lineno - 2 <= out[-1].last:  # `a = alloc(..); b = alloc(..)`: one line, one statement
            last = out[-1]  # (else each part would hold the line once per statement on it)
            out[-1] = _Stmt(last.first, max(last.last, node.end_lineno - 2), last.loads | loads, last.stores | stores,
                            last.returns or returns)
            continue
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


# --- parallel loop bodies -----------------------------------------------------------------------
# Numba's parfor pass works on the body of a prange loop as part of the
# kernel: it types it, analyses it for hoisting and reductions, and outlines
# it into a gufunc of its own, at a cost that grows with the body's length.
# np.interp of 10^6 points (a binary search of 150 statements per element,
# then a 30 statement interpolation, both threaded) took 6.4-7.1 s to compile
# and ran in 53-56 ms; with each body a function of its own, called once per
# iteration, 4.1 s and 40 ms (2026-12-03; the serial kernel: 3.0 s, 110 ms).
# Only a body that LLVM would not vectorize across iterations anyway moves: one
# with a gather (an array read at an index computed in the body) and no inner
# loop. A map of arithmetic and vectorized math stays (black_scholes_numpy,
# moved: 10.5 -> 32.9 ms), and so does a body with an inner fold loop
# (csr_matvec_slices, moved: 6.7 -> 8.0 ms), as does a short body.
BODY_MIN = 24  # body lines from which a prange body may become a function


def outline_bodies(lines: list[str], params: list[str], decorator: str, name: str,
                   guarded: dict[str, str] | None = None) -> Outlined | None:
    """The kernel body `lines` with each long prange body replaced by a call
    to a function of its own (decorated with the serial `decorator`), or
    None when there is none to replace. A body is replaced only when every
    name it binds is its own (no reduction into an outer variable, nothing
    read after the loop) and it holds no return, raise, break or continue
    of the loop; the call passes the loop index and the outer names the body
    reads, and arrays are passed by reference, so its writes land as before.
    Only a body with a gather and no inner loop moves (see BODY_MIN).
    `guarded` (prange variable -> failure array, regions.py `_guard_map`):
    those bodies move whatever their length, raises and loops included, into
    a function that catches what the body raises and returns 1 (0 when it
    ran through), stored in the failure array (a body mapped to "" cannot
    raise: it holds a loop, and its function is called as it is); one whose
    names are not all its own runs serially instead (`range`)."""
    guarded = guarded or {}
    text = f"def {name}({', '.join(params)}):\n" + "\n".join(lines) + "\n"
    try:
        fn = ast.parse(text).body[0]
    except SyntaxError:
        return None
    loops = [n for n in ast.walk(fn) if isinstance(n, ast.For) and _is_prange(n) and isinstance(n.target, ast.Name)
             and (n.target.id in guarded or n.body[-1].end_lineno - n.body[0].lineno + 1 >= BODY_MIN)]
    replaced: dict[int, tuple[int, str]] = {}  # first body line -> (last body line, call line)
    serial: set[int] = set()  # headers of guarded loops that run serially
    parts: list[list[tuple[str, int | None]]] = []
    for loop in loops:
        first, last = loop.body[0].lineno - 2, loop.body[-1].end_lineno - 2  # indices into lines
        if any(first <= f <= l for f, (l, _) in replaced.items()):
            continue
        guard = guarded.get(loop.target.id)
        free = _body_free(fn, loop, params, guard is not None)
        indent = len(lines[first]) - len(lines[first].lstrip())
        if free is None or any(ln.strip() and not ln.startswith(" " * indent) for ln in lines[first:last + 1]):
            if guard is not None:
                serial.add(loop.lineno - 2)
            continue
        fname = f"{name}_body{len(parts)}"
        args = ", ".join([loop.target.id, *free])
        call = f"{fname}({', '.join([f'np.{_index_type(loop)}({loop.target.id})', *free])})"
        parts.append([(decorator, None), (f"def {fname}({args}):", None),
                      *[("    " + lines[i][indent:], i) for i in range(first, last + 1)]])
        if guard:  # (the try in a function of its own: around the body, Numba took 9 s, not 3)
            parts.append(_catching(decorator, fname, args))
            call = f"{guard}[{loop.target.id}] = {call.replace(fname, fname + '_caught', 1)}"
        replaced[first] = (last, " " * indent + call)
    if not parts and not serial:
        return None
    kernel: list[tuple[str, int | None]] = []
    i = 0
    while i < len(lines):
        if i in replaced:
            last, call = replaced[i]
            kernel.append((call, None))
            i = last + 1
        else:
            kernel.append((lines[i].replace("numba.prange(", "range(", 1) if i in serial else lines[i], i))
            i += 1
    return Outlined(kernel, parts)


def _catching(decorator: str, fname: str, args: str) -> list[tuple[str, int | None]]:
    """`fname_caught(args)`: 1 where `fname(args)` raises, else 0."""
    return [(decorator, None), (f"def {fname}_caught({args}):", None), ("    try:", None),
            (f"        {fname}({args})", None), ("    except Exception:", None),
            ("        return np.uint8(1)", None), ("    return np.uint8(0)", None)]


def _index_type(loop: ast.For) -> str:
    """The type the body function takes its index as: the one Numba's parfor
    gives the loop index (uint64 from a start that is a literal >= 0, else
    int64). Numba types the kernel twice, before the loop becomes a parfor
    (the index is an int64 there) and after; with the index cast in the call
    both typings ask for the same signature, so the body compiles once, not
    twice (resample_interp: 1.05 s and 0.88 s for the two, 2026-12-03)."""
    bounds = loop.iter.args if isinstance(loop.iter, ast.Call) else []
    start = bounds[0] if len(bounds) > 1 else ast.Constant(0)
    unsigned = isinstance(start, ast.Constant) and type(start.value) is int and start.value >= 0
    return "uint64" if unsigned else "int64"


def _is_prange(loop: ast.For) -> bool:
    f = loop.iter.func if isinstance(loop.iter, ast.Call) else None
    return isinstance(f, ast.Attribute) and f.attr == "prange" or isinstance(f, ast.Name) and f.id == "prange"


def _body_free(fn: ast.FunctionDef, loop: ast.For, params: list[str], guarded: bool = False) -> list[str] | None:
    """The outer names loop's body reads (sorted), or None when the body
    binds an outer name or leaves the loop other than by finishing (a
    `guarded` body may raise: its function catches it) or, unless guarded,
    has no gather or has a loop."""
    inside = {id(n) for stmt in loop.body for n in ast.walk(stmt)}
    loads, stores = set(), set()
    for stmt in loop.body:
        for n in ast.walk(stmt):
            if isinstance(n, (ast.Return, ast.Yield, ast.FunctionDef, ast.Lambda, ast.Global, ast.Nonlocal)) \
                    or isinstance(n, ast.Raise) and not guarded:
                return None
            if isinstance(n, ast.Name):
                (stores if isinstance(n.ctx, ast.Store) else loads).add(n.id)
            elif isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name):
                loads.add(n.target.id)
    if _leaves(loop.body) or not guarded and not _gathers(loop.body, stores):
        return None
    outer = set(params)
    for n in ast.walk(fn):
        if id(n) not in inside and isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
            outer.add(n.id)
    if stores & (outer | set(params)):
        return None  # a reduction into an outer name, or a name read after the loop
    outer_loads = {n.id for n in ast.walk(fn) if id(n) not in inside and isinstance(n, ast.Name)
                   and isinstance(n.ctx, ast.Load)}
    if stores & outer_loads:
        return None
    return sorted((loads & outer) - {loop.target.id})


def _gathers(body: list[ast.stmt], bound: set[str]) -> bool:
    """Does body read an array at an index computed in it (`a[j]`, `a[i, j]`
    with j bound in the body), with no loop of its own?"""
    def computed(index: ast.expr) -> bool:
        parts = index.elts if isinstance(index, ast.Tuple) else [index]
        return any(isinstance(p, ast.Name) and p.id in bound for p in parts)

    nodes = [n for stmt in body for n in ast.walk(stmt)]
    return not any(isinstance(n, (ast.For, ast.While)) for n in nodes) and any(
        isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load) and computed(n.slice) for n in nodes)


def _leaves(stmts: list[ast.stmt]) -> bool:
    """Does a break or continue of the enclosing loop appear in stmts (not
    inside a loop of their own)?"""
    for s in stmts:
        if isinstance(s, (ast.Break, ast.Continue)):
            return True
        if isinstance(s, (ast.For, ast.While)):
            continue
        for field in ("body", "orelse", "handlers", "finalbody"):
            sub = getattr(s, field, None)
            if isinstance(sub, list) and _leaves([x for x in sub if isinstance(x, ast.stmt)]):
                return True
    return False
