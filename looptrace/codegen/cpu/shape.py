"""CPU rules of the shape primitives and of iota: reshape, transpose and
concatenate are statements; broadcast_to and iota are read element by element
inside a loop nest (`IndexRule`), so they are never stored. A concatenate the
plan never makes (planning/fusion.py `_skip_join`) is read element by element
too (`join_element`): from the piece holding the element, chosen statically
where the nest's loop runs over a range inside one piece (nest.py splits the
innermost loop at the pieces' boundaries), else by a test of the index."""
from __future__ import annotations

import re

import numpy as np

from looptrace.codegen.planning.fusion import broadcast_index
from looptrace.codegen.target import IndexRule, StatementRule
from looptrace.ir.core import Dim
from looptrace.ops.shape import is_reshape_like

from .target import TARGET
from .text import cast, dtype_text


def _reshape_lower(em, op) -> None:
    x, v = em.plan.reshape_from.get(id(op), op.inputs[0]), op.out
    ds = em.plan.slice_into.get(id(op))
    if ds is not None:  # reshape(dynamic_slice(x, t)) dropping unit axes: x[t]
        em.dynamic_view(v, ds)
    elif v.ndim == 0:
        at = f"[{', '.join('0' * x.ndim)}]" if x.ndim and x.id not in em.elements else ""
        em.line(f"{em.name(v)} = {em.name(x)}{at}")
        em.define(v)
    elif (x.id in em.elements or x.ndim == 0) and id(op) in em.plan.element_reads:  # written only as its element
        em.line(f"{em.name(v)} = {em.name(x)}")  # (planning/fusion.py `_element_reads`): no array
        em.define(v)
        em.elements.add(v.id)
    elif x.id in em.elements:  # a one-element read held as its scalar (indexing.py)
        em.line(f"{em.name(v)} = filled({em.shape_text(v)}, {em.name(x)})")
        em.define(v, owned=True)
    elif x.ndim == 0 and em.scalar_rows.get(v.id) is x:
        return  # only stored as a loop's row: the store writes x (regions.py `_scalar_rows`)
    elif x.ndim == 0:
        em.line(f"{em.name(v)} = filled({em.shape_text(v)}, {em.name(x)})")
        em.define(v, owned=True)
    elif tuple(x.shape) == tuple(v.shape):
        em.line(f"{em.name(v)} = {em.name(x)}")
        em.define(v, alias_of=x)
    else:
        sizes = "".join(("-1" if isinstance(d, Dim) else str(d)) + ", " for d in v.shape)
        index = _unit_axes_index(tuple(x.shape), tuple(v.shape))
        root = _argument_root(em, x)
        if index is not None and root is not None:
            # only unit axes come or go in a view of an argument: a view where the argument is not
            # C-ordered by its type (templates.unit_axes), as before where it is
            em.line(f"{em.name(v)} = unit_axes({em.name(x)}, ({sizes}), {em.name(x)}[{index}], {root})")
        elif index is not None and _strided_slice(em, x):
            # a column of an array the kernel made: a strided view, as in NumPy. contiguous()
            # copied it (seir's np.argmax(out[:, 2]) on 30000 x 4: an allocation and a copy
            # per call, 40 us warm and 170 us with the caches cold, against njit's view)
            em.line(f"{em.name(v)} = {em.name(x)}[{index}]")
        else:
            em.line(f"{em.name(v)} = reshaped(contiguous({em.name(x)}), ({sizes}))")
        em.define(v, alias_of=x)


def _strided_slice(em, x) -> bool:
    """Is x a static slice whose elements are apart in its base: a step
    other than 1 on an axis it keeps more than one position of, or a part of
    an axis after an axis it keeps more than one position of? (contiguous()
    would copy it.)"""
    op = em.plan.producer.get(x.id)
    if op is None or op.prim.name != "slice":
        return False
    base, out = op.inputs[0].shape, x.shape
    if not all(isinstance(d, int) for d in (*base, *out)):
        return False
    steps = op.attrs["steps"]
    wide = False  # an earlier axis keeps more than one position
    for a, (b, n) in enumerate(zip(base, out)):
        step = steps[a] if a < len(steps) else 1  # (the trailing axes a slice leaves whole)
        if n > 1 and step != 1 or wide and n < b:
            return True
        wide = wide or n > 1
    return False


def _argument_root(em, x) -> str | None:
    """The name of the kernel argument x is a view of, None for arrays the
    kernel made (C-ordered)."""
    root = em.scope.root.get(x.id, x.id)
    for a in em.program.body.args:
        if a.id == root and a.ndim:
            return em.name(a)
    return None


def _unit_axes_index(xs: tuple, vs: tuple) -> str | None:
    """The basic index that makes shape vs from xs by dropping axes of length 1
    (`0`) and inserting them (`None`), the other lengths in order and static;
    None where the reshape moves elements between axes."""
    if not all(isinstance(d, int) for d in (*xs, *vs)):
        return None
    parts, i, j = [], 0, 0
    while i < len(xs) or j < len(vs):
        if i < len(xs) and j < len(vs) and xs[i] == vs[j]:
            parts.append(":")
            i, j = i + 1, j + 1
        elif i < len(xs) and xs[i] == 1:
            parts.append("0")
            i += 1
        elif j < len(vs) and vs[j] == 1:
            parts.append("None")
            j += 1
        else:
            return None
    return ", ".join(parts) + ("," if len(parts) == 1 else "")


def _transpose_lower(em, op) -> None:
    if is_reshape_like(op):  # only unit axes move: a reshape (and folds with its neighbours)
        return _reshape_lower(em, op)
    x, perm = op.inputs[0], tuple(op.attrs["perm"])
    if perm == tuple(reversed(range(x.ndim))):  # a view, cheap to compile
        em.line(f"{em.name(op.out)} = {em.name(x)}.T")
        em.define(op.out, alias_of=x)
        return
    sizes = [em.size(x, k) for k in range(x.ndim)]  # np.transpose(x, perm) costs seconds of compile
    em.line(f"{em.name(op.out)} = {em.permuted_copy(em.name(x), sizes, perm, x.dtype)}")
    em.define(op.out, owned=True)


def _concat_lower(em, op) -> None:
    """np.concatenate as one new array and a copy loop nest per piece. Numba's
    np.concatenate of a tuple of k arrays costs compile time growing faster
    than k (24 pieces of 24: 47 s against 7 s for the loops, at load 7; a
    nested comprehension unrolled into 40 rows took 168 s), the loops about
    20 ms each; a loop copy runs as fast (contiguous rows vectorize). The
    comment `# joined` marks a concatenate made in the kernel's source."""
    v, axis = op.out, op.attrs["axis"] % op.out.ndim
    out = em.name(v)
    total: int | str = 0  # (a run-time length is the pieces', read before the array is made)
    for x in op.inputs:
        total = _plus(total, em.size(x, axis))
    sizes = [str(total) if k == axis else em.size(op.inputs[0], k) for k in range(v.ndim)]
    em.line(f"{out} = alloc(({''.join(n + ', ' for n in sizes)}), {dtype_text(v.dtype)})  # joined")
    offset: int | str = 0
    for x in op.inputs:
        src = em.name(x) if x.dtype == v.dtype else f"{em.name(x)}.astype(np.{v.dtype.name})"
        if not src.isidentifier():
            src, text = em.fresh("piece"), src
            em.line(f"{src} = {text}")
        sizes = [em.size(x, k) for k in range(x.ndim)]
        if sizes[axis] != "0":
            with em.loop_nest(sizes) as idx:
                at = list(idx)
                at[axis] = str(_plus(offset, idx[axis]))
                em.line(f"{out}[{', '.join(at)}] = {src}[{', '.join(idx)}]")
        offset = _plus(offset, sizes[axis])
    em.define(v, owned=True)


def _plus(a: int | str, b: str) -> int | str:
    """Source text of a + b, folded where both are numbers."""
    if isinstance(a, int) and b.isdigit():
        return a + int(b)
    return b if a == 0 else f"{a} + {b}"


# --- a concatenate never made, read element by element -----------------------------------------
def join_pieces(op) -> list[tuple[int, int, object]]:
    """(start, stop, piece) of each non-empty piece along the join's axis."""
    axis, pieces, start = join_axis(op), [], 0
    for x in op.inputs:
        if x.shape[axis]:
            pieces.append((start, start + x.shape[axis], x))
        start += x.shape[axis]
    return pieces


def join_axis(op) -> int:
    return op.attrs["axis"] % op.out.ndim


def join_element(fz, op, idx: list[str]) -> str:
    """Element `idx` of a concatenate never made: the element of the piece
    holding it. Where `fz.spans` bounds the index on the join's axis inside
    one piece, that piece, read at a constant offset; else a test of the
    index (a choice of the index where every piece reads one array at the
    same other indices, as np.roll's do: the select is invariant in the
    inner loop, which stays a contiguous read)."""
    axis, at = join_axis(op), idx[join_axis(op)]
    pieces, span = join_pieces(op), index_span(at, fz.spans)
    if span is not None:
        pieces = [p for p in pieces if p[0] < span[1] and span[0] < p[1]] or pieces
    fz.join_reads.append((op, at))

    def read(lo: int, x) -> str:
        text = fz.value_at(x, idx[:axis] + [offset_index(at, -lo)] + idx[axis + 1:])
        return text if x.dtype == op.out.dtype else cast(text, op.out.dtype)

    reads, stops = [read(lo, x) for lo, _, x in pieces], [hi for _, hi, _ in pieces]
    if len(reads) == 1:
        return reads[0]
    return _index_choice(reads, [lo for lo, _, _ in pieces], stops, at) or _value_choice(reads, stops, at)


def _value_choice(reads: list[str], stops: list[int], at: str) -> str:
    """reads[j] where `at` lies in piece j (below stops[j], at or above the
    stop before), as a balanced tree of tests: a chain nested one level per
    piece stopped Python's parser at ~200 pieces (`np.array(xs)` of a list of
    400 traced numbers: "too many nested parentheses") and tested every
    stop below the element's."""
    def choose(lo: int, hi: int) -> str:
        if hi - lo == 1:
            return reads[lo]
        mid = (lo + hi) // 2
        return f"({choose(lo, mid)} if {at} < {stops[mid - 1]} else {choose(mid, hi)})"

    return choose(0, len(reads))


_READ = re.compile(r"^(\w+)\[(.*)\]$")


def _index_choice(reads: list[str], starts: list[int], stops: list[int], at: str) -> str | None:
    """`a[i, (p if at < s else q)]` for reads `a[i, p]`, `a[i, q]` of one array
    differing in one index (`a[i, at + c]` where each piece is one element
    reading the literal of its position + c), else None."""
    parsed = [_READ.match(r) for r in reads]
    if not all(parsed) or len({m.group(1) for m in parsed}) != 1:
        return None
    indices = [_top_level_split(m.group(2)) for m in parsed]
    if any(ix is None or len(ix) != len(indices[0]) for ix in indices):
        return None
    differ = [k for k in range(len(indices[0])) if len({ix[k] for ix in indices}) > 1]
    if len(differ) != 1:
        return None
    k = differ[0]
    values = [ix[k] for ix in indices]
    if all(stop - start == 1 for start, stop in zip(starts, stops)) and all(
            re.fullmatch(r"-?\d+", v) and int(v) - start == int(values[0]) - starts[0]
            for v, start in zip(values, starts)):
        # one element per piece, each choosing the literal of its position + c: `at + c`, no choice at all
        c = int(values[0]) - starts[0]
        chosen = at if c == 0 else f"({at} + {c})" if c > 0 else f"({at} - {-c})"
    else:
        chosen = _value_choice(values, stops, at)
    return f"{parsed[0].group(1)}[{', '.join(indices[0][:k] + [chosen] + indices[0][k + 1:])}]"


def _top_level_split(text: str) -> list[str] | None:
    """The comma-separated items of `text` outside brackets (None if unbalanced)."""
    items, depth, start = [], 0, 0
    for k, ch in enumerate(text):
        depth += ch in "(["
        depth -= ch in ")]"
        if depth < 0:
            return None
        if ch == "," and depth == 0:
            items.append(text[start:k].strip())
            start = k + 1
    items.append(text[start:].strip())
    return items if depth == 0 else None


_AFFINE = re.compile(r"^\((-?\d+) \+ ([A-Za-z_@][\w@]*)\)$")


def affine_index(at: str) -> tuple[int, str | None] | None:
    """(c, var) for index text `var`, `(c + var)` or `nonneg(...)` of one, (c,
    None) for a literal c; None for anything else."""
    while at.startswith("nonneg(") and at.endswith(")"):
        at = at[len("nonneg("):-1]
    if re.fullmatch(r"-?\d+", at):
        return int(at), None
    if re.fullmatch(r"[A-Za-z_@][\w@]*", at):
        return 0, at
    m = _AFFINE.match(at)
    return (int(m.group(1)), m.group(2)) if m else None


def offset_index(at: str, k: int) -> str:
    """Index text for `at + k`, told non-negative (it indexes a piece holding it)."""
    form = affine_index(at)
    if form is None:
        return f"nonneg({at} + {k})" if k else at
    c, var = form
    if var is None:
        return str(c + k)
    if c + k == 0:
        return var
    return f"nonneg(({c + k} + {var}))"


def index_span(at: str, spans: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
    """[lo, hi) the index text `at` lies in, where it is a literal or an
    offset of a loop variable with a known range (`spans`), else None."""
    form = affine_index(at)
    if form is None:
        return None
    c, var = form
    if var is None:
        return c, c + 1
    if var not in spans:
        return None
    lo, hi = spans[var]
    return lo + c, hi + c


def _broadcast_element(fz, op, idx: list[str]) -> str:
    x = op.inputs[0]
    return fz.value_at(x, broadcast_index(x, op.out, idx))


def _iota_element(fz, op, idx: list[str]) -> str:
    i = idx[op.attrs["axis"]]
    return i if op.out.dtype == np.int64 else cast(i, op.out.dtype)  # loop variables are int64


TARGET.register("reshape", StatementRule(_reshape_lower))
TARGET.register("transpose", StatementRule(_transpose_lower))
TARGET.register("concatenate", StatementRule(_concat_lower))
TARGET.register("broadcast_to", IndexRule(_broadcast_element))
TARGET.register("iota", IndexRule(_iota_element))
