"""Import circles in the looptrace package, from the source (nothing is imported).

Every `import`/`from ... import` of a looptrace module counts, wherever it is
written (module level or inside a function), because a deferred import is
still a dependency that someone reading the code must follow; only imports
under `if TYPE_CHECKING:` (annotations) do not. Prints the
strongly connected components of the module graph and of the package graph
(looptrace.ops, looptrace.codegen, ...), largest first.

    python tools/import_cycles.py            # both graphs
    python tools/import_cycles.py --packages # only the package graph
    python tools/import_cycles.py --root ../other/looptrace
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "looptrace"


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, mods: set[str]) -> set[str]:
    name = module_name(path)
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # an import for annotations only is no dependency at run time
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            # `from pkg import mod` depends on pkg.mod; on pkg itself only for a name defined there
            subs = [f"{base}.{a.name}" for a in node.names]
            targets = subs + ([base] if any(t not in mods for t in subs) else [])
        else:
            continue
        for t in targets:
            while t and t not in mods:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def graph() -> dict[str, set[str]]:
    files = sorted(ROOT.rglob("*.py"))
    mods = {module_name(f) for f in files}
    return {module_name(f): imports_of(f, mods) for f in files}


def package_of(mod: str) -> str:
    parts = mod.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else mod


def package_graph(g: dict[str, set[str]]) -> dict[str, set[str]]:
    pg: dict[str, set[str]] = {}
    for m, deps in g.items():
        p = package_of(m)
        pg.setdefault(p, set())
        for d in deps:
            q = package_of(d)
            if q != p and q != "looptrace":
                pg[p].add(q)
    return pg


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return sorted(out, key=len, reverse=True)


def main() -> None:
    global ROOT
    if "--root" in sys.argv:  # another checkout's package, e.g. to compare before and after
        ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
    g = graph()
    if "--packages" not in sys.argv:
        comps = cycles(g)
        print(f"module circles: {len(comps)}")
        for c in comps:
            print("  " + " <-> ".join(m.removeprefix("looptrace.") for m in c))
    pcomps = cycles(package_graph(g))
    print(f"package circles: {len(pcomps)}")
    for c in pcomps:
        print("  " + " <-> ".join(m.removeprefix("looptrace.") for m in c))


if __name__ == "__main__":
    main()
