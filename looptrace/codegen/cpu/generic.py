"""Shape-generic kernels: one compiled kernel for the signatures that differ
only in sizes and other numeric constants.

Every signature is traced, passed and emitted as before, so every decision
(fusion, parallel or not, unrolling, tiling) is made for its own shapes. But
a new Numba compile per signature costs seconds and resident memory that
Numba never gives back (LLVM MCJIT). So the generated source is compared
with the sources of earlier signatures: two kernels whose texts are the same
up to their int and float literals form a *family* (the same `skeleton`).
From the `SPECIALIZED`-th distinct member on, the family compiles one
generic kernel in which the literals that differed between members are
parameters (`lt_n0, lt_n1, ...`), and each later member whose own literals
fit it runs that kernel with its literals passed at run time.

Exact: a member runs the generic kernel on exactly its own source's values.
Its literal vector must equal the template's at every position that is not a
parameter, and give one value to all positions of a parameter; otherwise the
family widens (new parameters from all members seen, at most `MAX_GENERIC`
generic kernels) or the member is compiled specialized. Numba types an int
literal and an int64 argument alike and a float literal and a float64
argument alike; the two places where a literal changes typing are excluded:
a literal in a branch condition (Numba prunes constant branches before
typing) and an exponent (a constant power is expanded into products). A
generic kernel that does not compile marks its family specialized-only.
"""
from __future__ import annotations

import ast
import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

INT64 = (-(2 ** 63), 2 ** 63 - 1)
MAX_GENERIC = 4  # generic kernels per family (each widening compiles one)
MAX_MEMBERS = 16  # literal vectors a family remembers (the most recent)
DEFAULT_SPECIALIZED = 1  # members compiled specialized before the family goes generic


def specialized_members() -> int:
    """How many distinct members of a family are compiled for their own
    constants before the family shares a generic kernel
    (`LOOPTRACE_SPECIALIZED_SHAPES`; 0 never shares)."""
    raw = os.environ.get("LOOPTRACE_SPECIALIZED_SHAPES", "")
    try:
        return max(int(raw), 0) if raw else DEFAULT_SPECIALIZED
    except ValueError:
        return DEFAULT_SPECIALIZED


@dataclass(frozen=True)
class Literals:
    """The numeric literals of a kernel's source, in a fixed walk order."""

    skeleton: str  # digest of the source with every literal replaced by its kind
    values: tuple  # the literals (int or float), walk order
    free: tuple[bool, ...]  # may this literal become a parameter?


def literals(source: str) -> Literals:
    tree = ast.parse(source)
    nodes, free = _literal_nodes(tree)
    values = tuple(n.value for n in nodes)
    for n in nodes:
        n.value = "<int>" if type(n.value) is int else "<float>"
    skeleton = hashlib.sha256(ast.dump(tree).encode()).hexdigest()
    return Literals(skeleton, values, tuple(free))


def _literal_nodes(tree: ast.Module) -> tuple[list[ast.Constant], list[bool]]:
    """The int and float constants of `tree` and whether each may vary: only
    inside a top-level function's body, never in a branch condition, an
    exponent, a keyword argument or a default."""
    nodes: list[ast.Constant] = []
    free: list[bool] = []

    def visit(node: ast.AST, ok: bool) -> None:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            nodes.append(node)
            free.append(ok)
            return
        for name, child in ast.iter_fields(node):
            fixed = (isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)) and name == "test") or \
                    (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow) and name == "right") or \
                    (isinstance(node, ast.Call) and name == "keywords") or \
                    (isinstance(node, ast.FunctionDef) and name in ("decorator_list", "args", "returns"))
            for c in child if isinstance(child, list) else [child]:
                if isinstance(c, ast.AST):
                    visit(c, ok and not fixed)

    for stmt in tree.body:
        visit(stmt, isinstance(stmt, ast.FunctionDef))
    return nodes, free


@dataclass
class Generic:
    """A generic kernel: `groups[k]` lists the literal positions read from
    parameter k; `base` is the template's literal vector."""

    base: tuple
    groups: list[list[int]]
    source: str
    params: list[str]  # the kernel function's added parameters, in order (group names)
    kernel: object = None  # the Numba dispatcher (set by the CPU target)
    path: object = None

    def values_for(self, lits: Literals) -> tuple | None:
        """The parameter values that make this kernel `lits`' source, or None."""
        grouped = set()
        values = []
        for group in self.groups:
            v = lits.values[group[0]]
            if any(lits.values[p] != v or type(lits.values[p]) is not type(v) for p in group):
                return None
            if type(v) is int and not INT64[0] <= v <= INT64[1]:
                return None
            values.append(v)
            grouped.update(group)
        for p, (a, b) in enumerate(zip(self.base, lits.values)):
            if p not in grouped and (a != b or type(a) is not type(b)):
                return None
        by_name = dict(zip((f"lt_n{k}" for k in range(len(self.groups))), values))
        return tuple(by_name[n] for n in self.params)


@dataclass
class Family:
    """The kernels whose sources share one skeleton."""

    members: list[tuple] = field(default_factory=list)  # distinct literal vectors seen
    generics: list[Generic] = field(default_factory=list)
    closed: bool = False  # a generic kernel failed: members compile specialized
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, lits: Literals) -> None:
        if lits.values not in self.members:
            self.members.append(lits.values)
            del self.members[:-MAX_MEMBERS]


_families: "OrderedDict[str, Family]" = OrderedDict()
_families_lock = threading.Lock()


def family(lits: Literals, bound: int) -> Family:
    """The family of a skeleton (kept, least recently used first out, up to
    `bound` families: a family holds no more than its generic kernels)."""
    with _families_lock:
        fam = _families.get(lits.skeleton)
        if fam is None:
            fam = _families[lits.skeleton] = Family()
        _families.move_to_end(lits.skeleton)
        while len(_families) > bound:
            _families.popitem(last=False)
        return fam


def forget_families() -> None:
    """Drop every family (tests)."""
    with _families_lock:
        _families.clear()


def plan(fam: Family, lits: Literals, source: str) -> tuple[Generic | None, tuple]:
    """(generic kernel, parameter values) for this member, or (None, ()) to
    compile it specialized. A new Generic has no kernel yet: the caller
    compiles it and calls `adopt` (under `fam.lock`)."""
    for g in fam.generics:
        values = g.values_for(lits)
        if values is not None:
            return g, values
    known = lits.values in fam.members
    if fam.closed or known or len(fam.members) < specialized_members() or \
            specialized_members() == 0 or len(fam.generics) >= MAX_GENERIC:
        fam.note(lits)
        return None, ()
    g = widen([*fam.members, lits.values], lits, source)
    values = g.values_for(lits) if g is not None else None
    if values is None:  # (a literal this kernel cannot take as a parameter: an int past int64)
        fam.note(lits)
        return None, ()
    return g, values


def widen(members: list[tuple], lits: Literals, source: str) -> Generic | None:
    """A generic kernel made from `source` in which every literal that is not
    the same in all `members` is a parameter; positions whose values agree in
    every member share one. None when a varying literal may not vary."""
    columns: dict[tuple, list[int]] = {}
    for p in range(len(lits.values)):
        column = tuple((type(m[p]), m[p]) for m in members)
        if len(set(column)) == 1:
            continue
        if not lits.free[p] or len({t for t, _ in column}) > 1:
            return None
        columns.setdefault(column, []).append(p)
    if not columns:
        return None
    groups = list(columns.values())
    text = _parameterize(source, groups)
    if text is None:
        return None
    text, params = text
    return Generic(lits.values, groups, text, params)


def _parameterize(source: str, groups: list[list[int]]) -> tuple[str, list[str]] | None:
    """`source` with the literals of group k read from parameter `lt_n{k}`,
    threaded from the kernel through every function that needs it."""
    tree = ast.parse(source)
    nodes, _ = _literal_nodes(tree)
    group_of = {p: k for k, g in enumerate(groups) for p in g}
    funcs = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef)}
    owner: dict[int, str] = {}
    for name, fn in funcs.items():
        for n in ast.walk(fn):
            owner[id(n)] = name
    needs: dict[str, set[int]] = {name: set() for name in funcs}
    for p, n in enumerate(nodes):
        if p in group_of:
            needs[owner[id(n)]].add(group_of[p])
    calls: dict[str, set[str]] = {name: set() for name in funcs}
    for name, fn in funcs.items():
        called = {id(c.func) for c in ast.walk(fn) if isinstance(c, ast.Call)}
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and n.id in funcs and n.id != name:
                if id(n) not in called:
                    return None  # a function passed as a value: its parameters cannot be threaded
                calls[name].add(n.id)
    changed = True
    while changed:  # a caller needs what its callees need
        changed = False
        for name in funcs:
            extra = set().union(*(needs[c] for c in calls[name])) - needs[name]
            if extra:
                needs[name] |= extra
                changed = True
    if "kernel" not in funcs:
        return None
    tree = _Substitute({id(n): f"lt_n{group_of[p]}" for p, n in enumerate(nodes) if p in group_of}).visit(tree)
    for name, fn in funcs.items():
        a = fn.args
        if needs[name] and (a.vararg or a.kwarg or a.kwonlyargs or a.defaults or a.posonlyargs):
            return None
        fn.args.args += [ast.arg(f"lt_n{k}") for k in sorted(needs[name])]
        for c in ast.walk(fn):
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in needs:
                added = sorted(needs[c.func.id])
                if added and (c.keywords or any(isinstance(x, ast.Starred) for x in c.args)):
                    return None
                c.args += [ast.Name(f"lt_n{k}", ast.Load()) for k in added]
    header = source.split("\n", 1)[0] if source.startswith("#") else ""
    text = f"{header}\n# shape-generic: the sizes and constants that vary are the parameters lt_n<k>\n" + \
        ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return text, [f"lt_n{k}" for k in sorted(needs["kernel"])]


class _Substitute(ast.NodeTransformer):
    """Replaces the constants named in `names` (by id) with a read of a name."""

    def __init__(self, names: dict[int, str]):
        self.names = names

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        name = self.names.get(id(node))
        return node if name is None else ast.copy_location(ast.Name(name, ast.Load()), node)
