"""Object-mode blocks of a kernel as functions of their own.

NumPy code the kernel cannot compile (np.fft, NumPy's own sort of many
elements, batched linalg) runs in `with numba.objmode(...)` blocks. Numba
0.68 fails to lower a function holding two such blocks in different control
flow regions (two loops, a branch then another block): LLVM rejects the
function ("Instruction does not dominate all uses", numba/numba#9574; a
gradient of an FFT recurrence has one loop forward and one backward). A
block in a function of its own, called from the kernel, compiles: so a
kernel with more than one block calls one such function per block, which
takes the names the block reads and returns those it makes. Exact: the
same NumPy call on the same arrays (passed by reference).
"""
from __future__ import annotations

import ast
import builtins
import re

from . import templates

_WITH = re.compile(r"^(\s*)with numba\.objmode\((.*)\):(.*)$")
_KNOWN = set(dir(builtins)) | set(dir(templates)) | {"np", "numba", "print_text"}  # (printing.py)


def outline_objmode(lines: list[tuple[str, int | None]], decorator: str, name: str
                    ) -> tuple[list[tuple[str, int | None]], list[list[tuple[str, int | None]]]]:
    """(the kernel's lines with each object-mode block replaced by a call,
    the functions called) where the kernel has more than one block; the
    lines as they are otherwise. Each line is (text, origin)."""
    starts = [k for k, (line, _) in enumerate(lines) if _WITH.match(line)]
    if len(starts) < 2:
        return lines, []
    out: list[tuple[str, int | None]] = []
    functions: list[list[tuple[str, int | None]]] = []
    k = 0
    while k < len(lines):
        line, origin = lines[k]
        m = _WITH.match(line)
        if m is None:
            out.append((line, origin))
            k += 1
            continue
        indent, spec, comment = m.group(1), m.group(2), m.group(3)
        end = k + 1
        while end < len(lines) and (not lines[end][0].strip() or
                                    len(lines[end][0]) - len(lines[end][0].lstrip()) > len(indent)):
            end += 1
        body = lines[k + 1:end]
        made = _outputs(spec)
        reads = _reads([text for text, _ in body], made)
        if reads is None or made is None:  # (text this module does not follow: left as it is)
            out += lines[k:end]
            k = end
            continue
        fn = f"{name}_objmode{len(functions)}"
        call = f"{fn}({', '.join(reads)})"
        targets = made[0] if len(made) == 1 else "".join(v + ", " for v in made)
        out.append((f"{indent}{targets} = {call}" if made else f"{indent}{call}", origin))
        inner = len(indent) + 4
        functions.append([(decorator, None), (f"def {fn}({', '.join(reads)}):", None),
                          (f"    with numba.objmode({spec}):{comment}", origin)]
                         + [("        " + text[inner:] if text.strip() else text, o) for text, o in body]
                         + [(f"    return {', '.join(made)}" if made else "    return", None)])
        k = end
    return out, functions


def _outputs(spec: str) -> list[str] | None:
    """The names an objmode block's `name='type', ...` makes."""
    if not spec.strip():
        return []
    try:
        call = ast.parse(f"f({spec})", mode="eval").body
    except SyntaxError:
        return None
    return [kw.arg for kw in call.keywords] if not call.args else None


def _reads(body: list[str], made: list[str] | None) -> list[str] | None:
    """The kernel names a block's statements read, in order of first use."""
    indent = min(len(t) - len(t.lstrip()) for t in body if t.strip())
    try:
        tree = ast.parse("\n".join(t[indent:] for t in body))
    except SyntaxError:
        return None
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    out: list[str] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in _KNOWN \
                and n.id not in stored and n.id not in (made or ()) and n.id not in out:
            out.append(n.id)
    return out
