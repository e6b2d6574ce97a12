"""Turn a Program into the Python source of one Numba kernel.

Invariants of the generated source:
- every SSA value has one variable (`v<id>`); 0-d values are Numba scalars,
  never 0-d arrays; array constants are extra kernel arguments (`k<id>`);
- the walk over blocks is codegen/planning/walker.py's; each op's CPU rule
  (registered in this folder) writes its code through this emitter's small
  API (`name`, `line`, `loop`, `size`, ...); fusion roots go to nest.py;
- an array is updated in place only when this code owns its memory and no
  later use can see the old contents (planning/ownership.py,
  `Scope.can_consume`); otherwise the update copies. Arguments of the
  user's function are never written.
- every emitted line records the op it came from, so a Numba error on a line
  of the generated file can name the user's line.
"""
from __future__ import annotations

import re

import contextlib
import itertools
from collections.abc import Iterable, Iterator

import numpy as np

from looptrace.codegen.planning.walker import BlockWalker
from looptrace.codegen.target import Target, loop_key
from looptrace.ir.core import (
    RNG,
    Block,
    Dim,
    Op,
    Program,
    SourceLoc,
    Value,
    free_values,
    walk,
)
from looptrace.codegen.wrapping import wrapping_ops
from looptrace.ir.ranges import nested_ranges

from .mathlib import NO_GATHERS, WIDE_VECTORS
from .objmode import outline_objmode
from .outline import outline, outline_bodies
from .text import cast, dtype_text, literal


class Emitter(BlockWalker):
    """Accumulates the kernel's source lines while walking the program."""

    def __init__(self, program: Program, target: Target, parallel: bool = True, fastmath: bool = False):
        super().__init__(program, target)
        self.parallel = parallel
        self.fastmath = fastmath
        self.lines: list[str] = []
        self._together: tuple | None = None  # the last object-mode block others may join (`object_mode`)
        self.line_ops: list[Op | None] = []
        self.depth = 1
        self.const_args: list[tuple[str, np.ndarray]] = []
        self.error_sites: list[tuple[SourceLoc, int, int | str]] = []  # code -> (loc, axis, slice size)
        self.validated_gathers: set[int] = set()  # id(gather) whose indices a loop before its nest checked
        self.int_flag: str | None = None  # the variable counting int() failures of the nest (nest.py)
        self.counted_checks: dict[int, str] = {}  # id(array check) -> its failures' count (nest.py `_check_counter`)
        self.check_sites: list = []  # CheckFailed code -> ops.check.Failure
        # inside a top-level serial loop whose scalar checks are deferred (regions.py
        # `deferred_checks`): the variable holding the first failure's code + 1, and
        # each deferred check's (line index, predicate, code)
        self.deferring: str | None = None
        self.deferred_sites: list[tuple[int, str, int]] = []
        self.consumed: tuple[int, ...] = ()  # arguments written into directly (emit_program)
        self.uses_prange = False
        self.wide_vectors = WIDE_VECTORS  # 512-bit vectors in the kernel's functions (`_vector_tuning`)
        self.medium_regions = 0  # parallel decisions below 2 * PARALLEL_MIN_WORK so far (work_is_large)
        # value id -> the scalar it reshapes, for a loop's stacked row that is only a scalar
        # as a (1,) array (regions.py `_scalar_rows`): stored as the scalar, never made
        self.scalar_rows: dict[int, Value] = {}
        # ids of one-element arrays held as their scalar (a dynamic_slice the plan reads as
        # its element, planning/fusion.py `_element_reads`): read by name, never at [0]
        self.elements: set[int] = set()
        self.blas_in_prange = False  # BLAS called inside a prange loop (blas_threads.py)
        self.calls_blas = False  # BLAS called at all (blas_threads.fitted_blas)
        # id(einsum) -> (buffer, parity variable): products written into one of two
        # rows allocated before their loop (codegen/regions.py, `reusable_products`)
        self.pingpong: dict[int, tuple[str, str]] = {}
        # value id -> [line index, indentation, body depth, the loop's allocations so far]: an
        # array a loop body makes each iteration, given two rows allocated before the loop when
        # the body materializes it (`fresh_array`; regions.py `reserve_rows`)
        self.fresh_rows: dict[int, list] = {}
        # fold result id -> the array (scalar) an earlier statement computed it in (siblings.py
        # `extremes_beside`: an argmax's max), read by the nests in its place (`FoldGroups._made_before`)
        self.made_folds: dict[int, str] = {}
        # ids of arrays never made: an argmax's loop computes each element it reads (reductions.py `made_in_loop`)
        self.in_loop: set[int] = set()
        # value id -> the variable now holding it: a view of an array written in place,
        # copied before the write (`_copy_views_instead`)
        self.renamed: dict[int, str] = {}
        # id(write) of writes whose update a loop already stored in the buffer (destinations.py)
        self.direct_writes: set[int] = set()
        self._ids = itertools.count()
        self._consts_seen: set[int] = set()
        self._local: dict[int, int] = {}
        self.serial_loops = 0  # serial loop bodies being emitted (`serial`)
        self.carried: list[set[int]] = []  # their carried values' ids, innermost last (`serial`)
        # (start id, axis length, size) -> (variable, its line's index and text, depth): checked starts
        self._checked_starts: dict[tuple, tuple[str, int, str, int]] = {}
        # integer values whose range is known when emitting (ir/ranges.py
        # `nested_ranges`; affine in the index of a loop with constant bounds,
        # ir/affine.py, added per loop): their bound checks go
        self.ranges: dict[int, tuple[int, int]] = nested_ranges(program.body)
        self.wrapping: set[int] = wrapping_ops(program.body)  # id() of int64 ops that may wrap (codegen/wrapping.py)
        # the indices of loops whose start is computed: a range known >= 0 is told to LLVM where
        # one indexes an array (`start_in_bounds`)
        self.computed_starts: set[int] = {o.blocks[0].args[0].id for o in walk(program.body)
                                          if o.prim.name == "for_loop" and o.inputs[0].const is None}
        # (start id, axis length, size) -> the variable of a test before its loop that holds
        # when the start is inside the axis at every step (guards.py): checked only where it does not
        self.guarded: dict[tuple[int, str, str], str] = {}
        self.first_line = 0
        self.shape_checked = False  # the kernel refuses other shapes (kernel_source)
        self.line_origin: dict[int, int] = {}  # module line (1-based) -> index into self.lines
        self.loop_notes: dict[tuple, str] = {}  # (file, line) of a source loop -> how the kernel runs it
        # a parallel map's prange variable -> the array of its iterations' failures (regions.py `_guard_map`)
        self.guarded_maps: dict[str, str] = {}
        self.map_notes: dict[str, tuple] = {}  # ... and its source loop's (file, line), which explain notes

    # --- names and text ---------------------------------------------------------------------
    def name(self, v: Value) -> str:
        """The expression that reads `v` (a variable, or a literal)."""
        if v.const is not None and v.shape == ():
            return literal(v.const, v.dtype)
        if v.id in self.renamed:
            return self.renamed[v.id]
        # local numbering: the same program gives the same source in any process
        n = self._local.setdefault(v.id, len(self._local))
        if v.const is not None:
            if v.id not in self._consts_seen:
                self._consts_seen.add(v.id)
                self.const_args.append((f"k{n}", np.ascontiguousarray(v.const)))
            return f"k{n}"
        return f"v{n}"

    def share_name(self, v: Value, of: Value) -> None:
        """v is read under of's variable (v is an SSA copy of of that nothing
        writes while v is live): no `v = of` line."""
        self._local[v.id] = self._local.setdefault(of.id, len(self._local))

    def take_name(self, v: Value, of: Value) -> bool:
        """Read array v under of's variable, with no `v = of` line, where v
        takes over of's memory and of is read no more (an in-place update, a
        loop's carry from a consumed initial value): Numba counts a reference
        at each array assignment, and the counts it cannot pair up across a
        loop body's branches stay in the loop (probe W grid_inflate, a 3 x 3
        neighbourhood of guarded writes: 0.50 ms, 0.018 without; numba.njit
        0.018). False (nothing done) where v has a name already."""
        if v.id in self._local or v.id in self.renamed or of.const is not None or of.id in self.renamed:
            return False
        self.share_name(v, of)
        return True

    def pass_token(self, new: Value, token: Value) -> None:
        """A draw's generator after it: the same object as before, under the
        token's variable where the token is ours and read no more (a
        variable per draw, reassigned on a loop's branches, made Numba count
        references each step: probe W birth_death_walk 0.44 ms, 0.07 without)."""
        if not (self.scope.can_consume(token) and self.take_name(new, token)):
            self.line(f"{self.name(new)} = {self.name(token)}")
        self.define(new, alias_of=token)

    def note_loop(self, op: Op, text: str) -> None:
        """What the kernel does with a source loop, for `explain` (a gradient has two loops on one line)."""
        key = loop_key(op)
        self.loop_notes[key] = f"{self.loop_notes[key]} | {text}" if key in self.loop_notes else text

    def fresh(self, prefix: str = "t") -> str:
        return f"{prefix}{next(self._ids)}_"

    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)
        self.line_ops.append(self.op)

    @contextlib.contextmanager
    def serial(self, carried: bool, body: Block | None = None, carries: Iterable[Value] = ()) -> Iterator[None]:
        """Inside: the body of a loop whose iterations follow each other (a
        scan's carries, a while loop), where a scalar's math is on the
        critical path (`latency_bound`); `carries`: the body's carried
        values, whose dependents in `body` `waits_on_carry` knows."""
        self.serial_loops += int(carried)
        self.carried.append(_dependents(body, {v.id for v in carries}) if body is not None else set())
        try:
            yield
        finally:
            self.serial_loops -= int(carried)
            self.carried.pop()

    def waits_on_carry(self, op: Op) -> bool:
        """Is op a select whose condition is computed from a carried value of
        the enclosing serial loop (`lo = v if v < lo else lo`)? The next step
        then waits for it."""
        return op.prim.name == "select" and bool(self.carried) and op.inputs[0].id in self.carried[-1]

    def latency_bound(self, op: Op) -> bool:
        """Is op a scalar computed in a serial loop's body? Its exp, log,
        expm1 and log1p then call libm (LLVM's intrinsics), whose table-driven
        code has about half the latency of mathlib's polynomials (a recurrence
        through exp: 18 ns a step against 45 ns); a loop of them vectorizes
        no more than that recurrence."""
        return self.serial_loops > 0 and op.out.ndim == 0

    @contextlib.contextmanager
    def indented(self) -> Iterator[None]:
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def size(self, v: Value, axis: int) -> str:
        """Source text of v.shape[axis] (a number, or read at run time)."""
        d = v.shape[axis]
        if isinstance(d, Dim):
            return f"{self.name(v)}.shape[{axis}]"
        return str(d)

    def shape_text(self, v: Value) -> str:
        sizes = [self.size(v, k) for k in range(v.ndim)]
        return "(" + "".join(s + ", " for s in sizes) + ")"

    def error_code(self, axis: int, size: int | str = 1) -> int:
        """A code the kernel raises with IndexError, mapped back to the op's line."""
        self.error_sites.append((self.op.loc if self.op else None, axis, size))
        return len(self.error_sites) - 1

    def check_code(self, failure) -> int:
        """A code the kernel raises with CheckFailed, mapped back to the user's exception."""
        self.check_sites.append(failure)
        return len(self.check_sites) - 1

    def checked_start(self, start: Value, n: str, size: int | str, axis: int) -> str:
        """A variable holding a bounds-checked dynamic start (NumPy's rules);
        the one checked before where it is still in scope (group_max reads
        out[g] and writes it under an if: one check)."""
        known = self.start_in_bounds(start, n, size)
        if known is not None:
            return known
        key = (start.id, n, size)
        seen = self._checked_starts.get(key)
        if seen is not None and self._in_scope(*seen[1:]):
            return seen[0]
        var = self.fresh("s")
        check = f"check_start(np.int64({self.name(start)}), {n}, {size}, {self.error_code(axis, size)})"
        ok = self.guarded.get((start.id, str(n), str(size)))
        if ok is not None:
            check = f"{self.name(start)} if {ok} else {check}"
        self.line(f"{var} = {check}")
        self._checked_starts[key] = (var, len(self.lines) - 1, self.lines[-1], self.depth)
        return var

    def _in_scope(self, at: int, text: str, depth: int) -> bool:
        """Line `at` (still `text`: a dry run may have taken it back) is run
        before the next line wherever that lands: the next line is not less
        indented than it (a branch's check, read after the branch, is not run
        on the other branch: `v[s] = ...` after an `if`/`else` stored at the
        else branch's start, a wrong answer), and no line since has left its
        block (a line less indented than `depth`: an else, a loop's end)."""
        if at >= len(self.lines) or self.lines[at] is not text or self.depth < depth:
            return False
        indent = "    " * depth
        return all(ln.startswith(indent) for ln in itertools.islice(self.lines, at + 1, None))

    def start_in_bounds(self, start: Value, n: str, size: int | str) -> str | None:
        """The text of a dynamic start known to lie in bounds, which needs no
        check (a constant, or a loop index plus a constant); else None."""
        if start.const is not None and isinstance(n, str) and n.isdigit():
            i, nn = int(start.const), int(n)
            if i < 0 and size == 1:
                i += nn
            if 0 <= i <= nn - int(size):
                return str(i)
        known = self.ranges.get(start.id)
        if known is not None and isinstance(n, str) and n.isdigit() and 0 <= known[0] and known[1] <= int(n) - int(size):
            # a loop from a computed start (a sieve's `x[p*p::p] = False`, a loop over the positions
            # written): LLVM cannot see the index is >= 0, and Numba's wraparound select made the
            # store loop 2.36 ms against 1.46 with the index so marked (templates.nonneg)
            return f"nonneg({self.name(start)})" if start.id in self.computed_starts else self.name(start)
        if known is not None and isinstance(n, str) and n.isdigit() and size == 1 and -int(n) <= known[0] \
                and known[1] < int(n):
            # a clamped index that may count from the end (`bids[i, j]` for j of an argsort's order,
            # clipped to [-n, n - 1] by the vectorizer: probe W assignment_greedy): NumPy's wraparound,
            # and a read that needs no check can stay on the branch that reads it (regions.py)
            s = self.name(start)
            return f"pick({s} < 0, {s} + {n}, {s})"
        return None

    def dynamic_index(self, x: Value, starts: list[Value], sizes, drop: bool) -> list[str]:
        """Index texts of x[s0:s0+k0, ...] with checked starts; with `drop`,
        unit-size axes are plain integers (the axis disappears)."""
        idx = []
        for a, (s, k) in enumerate(zip(starts, sizes)):
            st = self.checked_start(s, self.size(x, a), k, a)
            idx.append(st if (drop and k == 1) else f"{st}:{st} + {k}")
        return idx or [":"]

    def store(self, target: str, idx: list[str], src: Value) -> None:
        """target[idx] = src, as explicit loops for an array src (Numba's array
        setitem costs seconds of compile time; these loops cost none)."""
        if src.ndim == 0:
            self.line(f"{target}[{', '.join(idx)}] = {self.name(src)}")
            return
        if src.id in self.scalar_rows:
            zeros = ", ".join("0" for _ in range(src.ndim))
            self.line(f"{target}[{', '.join(idx)}][{zeros}] = {self.name(self.scalar_rows[src.id])}")
            return
        if all(d == 1 for d in src.shape) and src.id not in self.plan.inlined:  # one element: no loop nest
            zeros = ", ".join("0" for _ in range(src.ndim))
            value = self.name(src) if src.id in self.elements else f"{self.name(src)}[{zeros}]"
            if src.const is not None:  # its literal: a load from an argument per store cannot be
                value = literal(src.const, src.dtype)  # hoisted past stores that may alias it (a sieve)
            parts = [_slice_part(p) for p in idx]
            if all(p is not None for p in parts):
                # the element itself (an index, or a slice's start; 0 on the axes the index leaves
                # whole): a view per write costs a reference count (group_max: 107 -> 93 us, 2*10^5 labels)
                sliced = sum(p[0] == "slice" for p in parts)
                at = [p[1] for p in parts] + ["0"] * (src.ndim - sliced)
                self.line(f"{target}[{', '.join(at)}] = {value}")
            else:
                self.line(f"{target}[{', '.join(idx)}][{zeros}] = {value}")
            return
        parts = [_slice_part(p) for p in idx]
        if any(p is None for p in parts):  # not index text we wrote: through a view
            view = self.fresh("dst")
            self.line(f"{view} = {target}[{', '.join(idx)}]")
        inlined = src.id in self.plan.inlined  # computed in this loop (planning/fusion.py)
        if inlined:
            from .nest import Fuser

        def nest(parallel: bool) -> None:
            with self.loop_nest([self.size(src, k) for k in range(src.ndim)], parallel_outer=parallel) as at:
                value = Fuser(self).value_at(src, at) if inlined else f"{self.name(src)}[{', '.join(at)}]"
                if any(p is None for p in parts):
                    self.line(f"{view}[{', '.join(at)}] = {value}")
                else:  # the target itself at shifted indices: a view costs Numba ~20 ms of compile each
                    self.line(f"{target}[{', '.join(_through_parts(parts, at))}] = {value}")

        start = len(self.lines)
        parallel = inlined and self._store_is_large(src)
        nest(parallel)
        if parallel:
            if may_raise(self.lines[start:]):  # a checked index or int(): on one thread, as before
                del self.lines[start:], self.line_ops[start:]
                nest(False)
            else:
                self.uses_prange = True

    def _store_is_large(self, src: Value) -> bool:
        """Is the nest computing the inlined `src` (the update of a slice
        write) worth threads, by the measure of a root's nest (nest.py
        `emit_fused`)? random_walk_msd's sums over every lag, stored into
        msd[1:], are 32 million element-ops."""
        from looptrace.codegen.planning.fusion import is_streaming, nest_work

        from .costs import MATHLIB, cost_factor
        from .nest import STREAMING_DISCOUNT

        op = self.plan.producer.get(src.id)
        if op is None or src.shape[0] == 1 or any(isinstance(d, Dim) for d in src.shape):
            return False
        factor = cost_factor(op, self.plan)
        work = nest_work(op, self.plan) * factor
        work = work // STREAMING_DISCOUNT if is_streaming(op, self.plan) else work
        return self.work_is_large(work, factor >= MATHLIB)

    def store_all(self, target: str, writes: list[tuple[list[str], Value]]) -> None:
        """target[idx_k] = src_k for each write, in one loop nest over their
        common shape (planning/fusion.py `_group_updates`: disjoint boxes);
        one write, or index text that is not ours, is `store`d write by write."""
        from .nest import Fuser

        parts = [[_slice_part(p) for p in idx] for idx, _ in writes]
        if len(writes) == 1 or any(p is None for part in parts for p in part):
            for idx, src in writes:
                self.store(target, idx, src)
            return
        shape = writes[0][1].shape
        with self.loop_nest([self.size(writes[0][1], k) for k in range(len(shape))]) as at:
            fz = Fuser(self)
            for part, (_, src) in zip(parts, writes):
                value = fz.value_at(src, at) if src.id in self.plan.inlined else \
                    (f"{self.name(src)}[{', '.join(at)}]" if src.ndim and src.id not in self.elements
                     else self.name(src))
                self.line(f"{target}[{', '.join(_through_parts(part, at))}] = {value}")

    def permuted_copy(self, src: str, sizes: list, perm: tuple, dtype) -> str:
        """A new C-contiguous array holding np.transpose(src, perm). Numba's
        np.transpose with axes costs about 5 s of compile time in each kernel
        that uses it; `.T` (all axes reversed) and explicit loops cost none."""
        perm = tuple(perm)
        t = self.fresh("tr")
        if perm == tuple(reversed(range(len(perm)))):
            self.line(f"{t} = contiguous({src}.T)")
            return t
        if not src.isidentifier():
            base = self.fresh("src")
            self.line(f"{base} = {src}")
            src = base
        out_sizes = [str(sizes[p]) for p in perm]
        self.line(f"{t} = alloc(({''.join(n + ', ' for n in out_sizes)}), {dtype_text(dtype)})")
        with self.loop_nest(out_sizes) as idx:
            at = [""] * len(perm)
            for k, p in enumerate(perm):
                at[p] = idx[k]
            self.line(f"{t}[{', '.join(idx)}] = {src}[{', '.join(at)}]")
        return t

    def dynamic_view(self, v: Value, ds: Op) -> None:
        """v = x[t0, ...]: a dynamic_slice whose unit axes a reshape drops."""
        x = ds.inputs[0]
        idx = self.dynamic_index(x, list(ds.inputs[1:]), ds.attrs["sizes"], drop=True)
        self.line(f"{self.name(v)} = {self.name(x)}[{', '.join(idx)}]")
        self.define(v, alias_of=x if v.ndim else None)

    # --- loops --------------------------------------------------------------------------------
    @contextlib.contextmanager
    def loop(self, var: str, count: str, parallel: bool = False) -> Iterator[None]:
        kind = "numba.prange" if parallel else "range"
        if parallel:
            self.uses_prange = True
        self.line(f"for {var} in {kind}({count}):")
        with self.indented():
            yield

    @contextlib.contextmanager
    def loop_nest(self, counts: list[str], parallel_outer: bool = False) -> Iterator[list[str]]:
        """Nested loops over `counts`; yields the index variables. An axis of
        length 1 gets no loop: its index is the literal 0 (a loop is a range,
        an iterator and a branch for Numba to type and lower, about 20 ms of
        compile each)."""
        idx = [self.fresh("i") for _ in counts]
        with contextlib.ExitStack() as stack:
            for k, (var, n) in enumerate(zip(idx, counts)):
                if str(n) == "1" and not (parallel_outer and k == 0):
                    idx[k] = "0"
                    continue
                stack.enter_context(self.loop(var, n, parallel_outer and k == 0))
            yield idx

    def work_is_large(self, elements: int, costly: bool = False) -> bool:
        """Worth starting threads for: the jit's parallel flag and enough
        work. From twice PARALLEL_MIN_WORK always; from PARALLEL_MIN_WORK
        only for a nest of costly elements (exp, log, libm calls: `costly`),
        and only the first MEDIUM_PARALLEL_REGIONS such nests of a kernel,
        since each parallel region costs Numba compile time. Call it once
        per decision: a yes below twice the threshold uses up one region."""
        if not self.parallel or elements < PARALLEL_MIN_WORK:
            return False
        if elements >= 2 * PARALLEL_MIN_WORK:
            return True
        if not costly or self.medium_regions >= MEDIUM_PARALLEL_REGIONS:
            return False
        self.medium_regions += 1
        return True

    # --- the walk's hooks ---------------------------------------------------------------------
    def emit_nest(self, op: Op) -> None:
        from .nest import emit_fused

        emit_fused(self, op)

    def block_started(self) -> int:
        return len(self.lines)

    def block_ended(self, start: int) -> None:
        if len(self.lines) == start:
            self.line("pass")

    # --- values and ownership -------------------------------------------------------------
    def object_mode(self, v: Value, expr: str, raises: bool = True, together: str | None = None) -> None:
        """v computed by Python in a `numba.objmode` block: `expr`, NumPy code
        on the kernel's arrays (NumPy's own sort, FFT, batched linalg), made a
        fresh C-contiguous array of v's dtype (a 0-d v: a scalar of it).
        The block may raise (`may_raise` sees "objmode"), unless `raises` is
        False (a sort: only out of memory, as any allocation). `together`:
        the call as an argument of fft.py's `side_by_side`; a block right
        after another such block, not reading its results, joins it, and
        the calls run at the same time."""
        out, dt = self.name(v), np.dtype(v.dtype).name
        kind = f"'{dt}[{', '.join([':'] * (v.ndim - 1) + ['::1'])}]'" if v.ndim else f"'{dt}'"
        last = self._together
        if together is not None and v.ndim and last is not None and self._joins(last, together):
            at, members = last[0], [*last[3], (out, kind, together)]
            self.lines[at] = "    " * self.depth + \
                f"with numba.objmode({', '.join(f'{o}={k}' for o, k, _ in members)}):"
            self.lines[at + 1] = "    " * self.depth + \
                f"    {''.join(o + ', ' for o, _, _ in members)}= side_by_side({', '.join(t for _, _, t in members)})"
            self._together = (at, self.lines[at], self.lines[at + 1], members, self.depth)
            self.define(v, owned=True)
            return
        if v.ndim:
            self.line(f"with numba.objmode({out}={kind}):" + ("" if raises else NO_RAISE))
            self.line(f"    {out} = np.ascontiguousarray({expr}, dtype=np.{dt})")
        else:
            self.line(f"with numba.objmode({out}={kind}):")
            self.line(f"    {out} = np.{dt}({expr})")
        self.define(v, owned=True)
        if together is not None and v.ndim:
            at = len(self.lines) - 2
            self._together = (at, self.lines[at], self.lines[at + 1], [(out, kind, together)], self.depth)

    def _joins(self, last: tuple, call: str) -> bool:
        """Can a block computing `call` join the block `last` made: the next
        lines (nothing emitted since, none taken back), at its depth, and not
        reading what it computes?"""
        at, head, body, members, depth = last
        return len(self.lines) == at + 2 and self.lines[at] is head and self.lines[at + 1] is body and \
            depth == self.depth and not any(re.search(rf"\b{o}\b", call) for o, _, _ in members)

    def fresh_array(self, v: Value) -> str:
        """`v = alloc(shape, dtype)` (np.empty, templates.py); v owns it. In a
        loop body that may reuse its memory (regions.py `reserve_rows`), v is
        the row of two, allocated once before the loop, that the previous
        iteration did not write."""
        rows = self.fresh_rows.get(v.id)
        if rows is not None and rows[2] == self.depth:
            at, indent, _, made, single = rows
            buf = self.fresh("fr")
            if single:  # it dies within the iteration: the next one may write the same memory
                made.append(f"{buf} = alloc({self.shape_text(v)}, {dtype_text(v.dtype)})")
                self.line(f"{self.name(v)} = {buf}")
            else:
                parity = self.fresh("fc")
                made.append(f"{buf} = alloc((2, {self.shape_text(v)[1:]}, {dtype_text(v.dtype)}); {parity} = 0")
                self.line(f"{self.name(v)} = {buf}[{parity}]")
                self.line(f"{parity} = 1 - {parity}")
            self.lines[at] = indent + "; ".join(made)
        else:
            self.line(f"{self.name(v)} = alloc({self.shape_text(v)}, {dtype_text(v.dtype)})")
        self.define(v, owned=True)
        return self.name(v)

    def scratch_beside(self, v: Value, shape: str, dtype) -> str:
        """A scratch array of the statement making v (its `fresh_array` just
        made): allocated once before the loop where v's memory is, else here.
        Written and read within one iteration."""
        buf, text = self.fresh("sc"), f"alloc({shape}, {dtype_text(np.dtype(dtype))})"
        rows = self.fresh_rows.get(v.id)
        if rows is not None and rows[2] == self.depth:
            at, indent, _, made, _ = rows
            made.append(f"{buf} = {text}")
            self.lines[at] = indent + "; ".join(made)
        else:
            self.line(f"{buf} = {text}")
        return buf

    def writable_copy(self, out: Value, x: Value) -> str:
        """`out` becomes x itself when x may be consumed here, else a copy of x."""
        disjoint = self.plan.disjoint_views.get(id(self.op), frozenset()) if self.op is not None else frozenset()
        if ((x.const is None or x.id in self.renamed) and self.scope.can_consume(x, disjoint)
                or x.const is None and self._copy_views_instead(x, disjoint)):
            if not self.take_name(out, x):
                self.line(f"{self.name(out)} = {self.name(x)}")
            self.define(out, alias_of=x)
        elif x.const is not None and self.op is not None and id(self.op) in self.plan.fill_boxes:
            self.fresh_array(out)  # a constant of one value: the write and the boxes around it fill it
        elif self._filled_with_constant(x) and x.ndim:
            # x is a constant fill (np.zeros, np.empty: one buffer for all of them, the
            # IR being SSA): filling a new one writes it once where a copy reads and writes
            value = self.name(self.plan.everywhere[x.id].inputs[0])
            self.fresh_array(out)
            with self.loop_nest([self.size(x, k) for k in range(x.ndim)]) as idx:
                self.line(f"{self.name(out)}[{', '.join(idx)}] = {value}")
        else:
            self.line(f"{self.name(out)} = copied({self.name(x)})")
            self.define(out, owned=True)
        return self.name(out)

    def _copy_views_instead(self, x: Value, disjoint) -> bool:
        """Where only views of x's memory smaller than x are read after this
        op (`pu = P[u].copy()` read after `P[u] += ...`: the old row), copy
        those views, not x: each later read of a view reads its copy (the
        view's variable is renamed, `renamed`), and x is written in place.
        Chosen by the elements copied; a view never made (read through x by
        a later nest) or of run-time size leaves x itself used later, or
        uncounted: then x is copied."""
        views = self.scope.blockers(x, disjoint)
        if not views or any(v.id == x.id or v.id not in self._local or v.id in self.renamed for v in views):
            return False
        sizes = [_elements(v.shape) for v in views]
        whole = _elements(x.shape)
        if whole is None or any(n is None for n in sizes) or sum(sizes) >= whole:
            return False
        for v in views:
            copy = self.fresh("old")
            self.line(f"{copy} = copied({self.name(v)})")
            self.renamed[v.id] = copy
            self.scope.detach(v)
        return True

    def _filled_with_constant(self, x: Value) -> bool:
        made = self.plan.everywhere.get(x.id)
        return (x.const is None and made is not None and made.prim.name == "broadcast_to"
                and made.inputs[0].is_const and made.inputs[0].ndim == 0 and made.inputs[0].dtype == x.dtype)

    def result_copy(self, v: Value, used: set[int]) -> str:
        """A carried array handed to the next iteration: ours, not aliased (the
        body may write it in place: a constant, an adjoint reset to zeros each
        step, is copied, or the next iteration would write the constant)."""
        if v.ndim and v.dtype != RNG and v.const is not None:
            return f"copied({self.name(v)})"
        if v.const is None and v.ndim and v.dtype != RNG:
            r = self.scope.root.get(v.id)
            if r is not None and r in self.scope.owned and r not in used:
                used.add(r)
                return self.name(v)
            return f"copied({self.name(v)})"
        if v.ndim == 0 and v.dtype != RNG:
            return cast(self.name(v), v.dtype)
        return self.name(v)

    def consume_or_copy(self, v: Value) -> str:
        """An array handed to a nested region (loop init, branch): no copy when
        this is its last use and we own it."""
        if v.dtype == RNG:
            return self.name(v)
        if v.ndim == 0:
            return cast(self.name(v), v.dtype)
        if v.const is None and self.scope.can_consume(v):
            return self.name(v)
        return f"copied({self.name(v)})"

    def consumable_free(self, block: Block) -> set[int]:
        """Outer values a nested block may mutate: owned, last used by this op."""
        return {v.id for v in free_values(block) if (v.ndim or v.dtype == RNG) and self.scope.can_consume(v)}


def _elements(shape: tuple) -> int | None:
    """The element count of a static shape (None for a run-time one)."""
    return None if any(isinstance(d, Dim) for d in shape) else int(np.prod(shape, dtype=np.int64))


# element-ops (codegen/cpu/costs.py): below this, thread start-up costs more
# than it saves. Measured on 2 cores (Intel, 2026-12-02; bench/README.md):
# x*2+1 over 3*10^5 float64 243 us serial, 113-137 us on two threads, at
# 10^5 39 us against 42; a 16-term window sum over 2*10^4 (320k element-ops)
# 91 us serial, 212 us threaded. Only nests of costly elements use this
# threshold; every other nest needs twice it (`work_is_large`).
PARALLEL_MIN_WORK = 1 << 19
# Parallel regions cost Numba compile time (its parfor pass: the first about
# 1 s here, each further one 0.3-0.5 s; masked_group_stats, six cheap
# regions at 2^19: cold compile 0.8-1.2 s -> 4.7-4.8 s for 5.8 -> 4.2 ms a
# call; column_quantiles' sorted lanes 1.4 -> 2.5-3.8 s): from 2^19 to 2^20
# element-ops only the first nest of costly elements gets threads
# (log_likelihood's exp and log: 0.78 -> 1.1-1.3x NumPy); cheap nests keep
# 2^20, as before this session.
MEDIUM_PARALLEL_REGIONS = 1


def emit_program(program: Program, target: Target, parallel: bool = True, fastmath: bool = False) -> Emitter:
    """Walk the program's body; returns the emitter holding lines and tables.

    Arguments written back are written into directly when nothing in the
    kernel can raise: the kernel is emitted once as usual, and if it holds no
    check, raise or LAPACK call, again with those arguments owned (the
    ownership rules of planning/ownership.py then let the first in-place
    write take the argument itself, not a copy, wherever nothing reads the
    old contents afterwards). The caller's array ends as it would have after
    the copy back, and no half-written state can be seen, since nothing
    raises in between (short of running out of memory). `em.consumed`: the
    positions of such arguments among the kernel's (the runner copies one
    that shares memory with another argument first, kernel.py)."""
    em = _emit_body(program, target, parallel, fastmath, frozenset())
    consumable = _written_back_args(program)
    if not consumable or may_raise(em.lines):
        return em
    wide = _emit_body(program, target, parallel, fastmath, frozenset(program.body.args[k].id for k in consumable))
    if may_raise(wide.lines):  # (the same ops as the first time: never, but never assume)
        return em
    wide.consumed = tuple(consumable)
    return wide


def _emit_body(program: Program, target: Target, parallel: bool, fastmath: bool, owned: frozenset) -> Emitter:
    em = Emitter(program, target, parallel, fastmath)
    body = program.body
    em.emit_block(body, owned)
    # scalars come back as 0-d arrays of their dtype (as the interpreter returns them)
    # a constant result is copied: the caller's array is writable, as NumPy's (np.eye(2) returned)
    outs = [("None" if v.dtype == RNG else f"copied({em.name(v)})" if v.const is not None and v.ndim
             else em.name(v)) for v in body.results]
    em.line("return (" + "".join(o + ", " for o in outs) + ")")
    return em


def _written_back_args(program: Program) -> list[int]:
    """Positions among the kernel's arguments of the user's array arguments
    that are written back (implicit ones, read from globals, excepted)."""
    specs = getattr(program, "arg_specs", None)
    if not specs or not program.writebacks:
        return []
    out = []
    for argi, _ in program.writebacks:
        if argi >= len(specs) or specs[argi].kind != "array" or specs[argi].device:
            continue
        pos = sum(1 for s in specs[:argi] if s.kind != "static")
        if pos < len(program.body.args) and program.body.args[pos].ndim:
            out.append(pos)
    return sorted(set(out))


# what in a kernel's lines can raise: the checks of templates.py and check.py, the
# user's raise/assert, LAPACK's LinAlgError, object mode (NumPy code); and the shape
# and overlap tests that kernel_source puts first (never among em.lines: they raise
# before any write)
_RAISING = ("raise ", "check_", "_batch(", "np.linalg", "objmode", "assert ", "same_shape(", "apart(")
NO_RAISE = "  # cannot raise"  # ends an object-mode line whose NumPy code raises only out of memory (a sort)
PRELUDE = "  # before any write"  # ends a raise that comes before anything is written (check.py)


def may_raise(lines: list[str]) -> bool:
    return any(token in line for line in lines if not line.endswith((NO_RAISE, PRELUDE)) for token in _RAISING)


def kernel_source(em: Emitter, header: str, cache: bool = True, fn_name: str = "kernel") -> str:
    """The full module text: imports, the decorated kernel, its body."""
    args = [em.name(a) for a in em.program.body.args] + [n for n, _ in em.const_args]
    # no_cfunc_wrapper: the kernel (and its outlined parts) is called from Python or from
    # the kernel, never as a first-class function: Numba need not compile a C-callable
    # wrapper for it (ising_checkerboard: 0.04 s of its compile). Arrays are made by the
    # cached helpers of templates.py (alloc, contiguous, copied, filled), not by
    # Numba's np.empty & co., which it would compile again in every process
    flags = [f"cache={cache}", "nogil=True", "error_model='numpy'", "boundscheck=False", "no_cfunc_wrapper=True"]
    if em.fastmath:  # reordering and contraction, not LLVM's nnan/ninf: NaN tests still see NaNs
        flags.append("fastmath={'reassoc', 'contract', 'arcp', 'nsz', 'afn'}")
    if em.uses_prange:
        flags.append("parallel=PARALLEL")
    decorator = f"@numba.njit({', '.join(flags)})"
    head = [
        header,
        "import numpy as np",
        "import numba",
        "from looptrace.codegen.cpu.templates import *  # noqa: F403",
        *(["from looptrace.codegen.cpu.printing import print_text"] if _prints(em.lines) else []),
        "",
        "PARALLEL = dict(comprehension=False, reduction=False, inplace_binop=False, setitem=False,",
        "                numpy=False, stencil=False, fusion=False, prange=True)",
        "",
        "",
        decorator,
        f"def {fn_name}({', '.join(args)}):",
    ]
    # the kernel refuses arguments of other shapes (templates.same_shape): a literal in a call,
    # so that a family's generic kernel checks the shapes it is passed (generic.py); not among
    # em.lines, whose may_raise decides whether arguments are written into directly, and it
    # raises before anything is written
    arrays = [v for v in em.program.body.args if v.ndim]
    checked = [v for v in arrays if all(type(d) is int for d in v.shape)]
    em.shape_checked = len(checked) == len(arrays)
    head += [f"    same_shape({em.name(v)}, ({''.join(f'{d}, ' for d in v.shape)}))" for v in checked]
    # and an argument written in place shares no memory with another (templates.apart)
    written = [em.program.body.args[k] for k in _written_back_args(em.program)]
    head += [f"    apart({em.name(w)}, {em.name(v)})" for w in written for v in arrays if v is not w]
    em.first_line = len(head) + 1  # 1-based line of em.lines[0] in the module
    # long prange bodies become functions of their own, then a long kernel is cut
    # into parts compiled one at a time (outline.py); each line keeps its origin
    serial = decorator.replace(", parallel=PARALLEL", "")
    # (more than one object-mode block: each in a function of its own, objmode.py)
    base, objmode_parts = outline_objmode([(line, k) for k, line in enumerate(em.lines)], serial, fn_name)
    bodies = outline_bodies([line for line, _ in base], args, serial, fn_name, em.guarded_maps)

    def in_base(part):
        return [(line, None if k is None else base[k][1]) for line, k in part]
    lines = base if bodies is None else in_base(bodies.kernel)
    for var, key in em.map_notes.items():  # a guarded map outline.py could not move runs serially
        if not any(f"for {var} in numba.prange(" in line for line, _ in lines):
            em.loop_notes.pop(key, None)
    split = outline([line for line, _ in lines], args, decorator, fn_name)
    if split is None:
        module = [(line, None) for line in head] + lines
        parts = []
    else:
        def origin(part):
            return [(line, None if k is None else lines[k][1]) for line, k in part]
        module = [(line, None) for line in head] + origin(split.kernel)
        parts = [origin(part) for part in split.parts]
    for part in parts + ([in_base(b) for b in bodies.parts] if bodies is not None else []) + objmode_parts:
        module += [("", None), ("", None), *part]
    tuning = ["wide_vectors()"] * em.wide_vectors + ["no_gathers()"] * NO_GATHERS
    shapes = {em.name(v): f"same_shape({em.name(v)}, ({''.join(f'{d}, ' for d in v.shape)}))" for v in checked}
    module = _vector_tuning(module, tuning, shapes)
    em.line_origin = {n + 1: k for n, (_, k) in enumerate(module) if k is not None}
    return "\n".join(line for line, _ in module) + "\n"


def _prints(lines: list[str]) -> bool:
    """Does the kernel print (codegen/cpu/printing.py)?"""
    return any("print_text(" in line for line in lines)


_PRANGE_LINE = re.compile(r"^\s*for .* in numba\.prange\(.*\):\s*$")


def _vector_tuning(module: list[tuple[str, int | None]], calls: list[str],
                   shapes: dict[str, str] | None = None) -> list[tuple[str, int | None]]:
    """`module` with `calls` (mathlib.py `wide_vectors()`: 512-bit vectors;
    `no_gathers()`) as the first statements of each njit function and of each
    prange body (Numba compiles a prange body as a function of its own), and
    in a prange body the `same_shape` test of each argument array it reads
    (`shapes`: name -> the test): the kernel tested them already, but the
    body's function gets the arrays with unknown shapes, and LLVM then
    leaves loops scalar that it vectorizes knowing them (np.arctan2 of two
    columns of a (250000, 3) argument: 9.7 -> 0.85 ms, one thread)."""
    out = []
    for n, (line, origin) in enumerate(module):
        out.append((line, origin))
        after_decorator = line.startswith("def ") and n and module[n - 1][0].startswith("@numba.njit")
        prange = bool(_PRANGE_LINE.match(line))
        if (after_decorator or prange) and n + 1 < len(module):
            body = module[n + 1][0]
            indent = body[: len(body) - len(body.lstrip())]
            out += [(indent + call, None) for call in calls]
            if prange and shapes:
                read = _body_names(module, n)
                out += [(indent + test, None) for name, test in shapes.items() if name in read]
    return out


def _body_names(module: list[tuple[str, int | None]], n: int) -> set[str]:
    """The names used in the body of the loop header at module[n]."""
    head = module[n][0]
    depth = len(head) - len(head.lstrip())
    names: set[str] = set()
    for line, _ in module[n + 1:]:
        if line.strip() and len(line) - len(line.lstrip()) <= depth:
            break
        names.update(re.findall(r"[A-Za-z_]\w*", line))
    return names


# a start is a name, an integer, or a name marked non-negative (emitter.start_in_bounds: a sieve's
# `x[p*p::p] = False` stored through a view per element, `x[s:s + 1][0] = False`, a reference count each)
_START = r"-?\w+|nonneg\(\w+\)"
_SLICE_PART = re.compile(r"^\s*(" + _START + r")?\s*:\s*((?:nonneg\(\w+\))?[^:\[\]()]*?)\s*(?::\s*(-?\d+))?\s*$")
_INDEX_PART = re.compile(r"^\s*(" + _START + r")\s*$")


def _slice_part(part: str) -> tuple[str, str | None, int] | None:
    """("index", name, 0) for an integer index, ("slice", start, step) for
    `start:stop[:step]` (start a name or an integer), None for other text."""
    m = _INDEX_PART.match(part)
    if m:
        return ("index", m.group(1), 0)
    m = _SLICE_PART.match(part)
    if m:
        return ("slice", m.group(1) or "0", int(m.group(3) or 1))
    return None


def _through_parts(parts: list, at: list[str]) -> list[str]:
    """The target's index of element `at` of target[parts] (axes beyond the parts run whole)."""
    out, k = [], 0
    for kind, start, step in parts:
        if kind == "index":
            out.append(start)
            continue
        i = at[k] if step == 1 else f"{at[k]} * {step}"
        out.append(i if start == "0" else f"({start} + {i})")
        k += 1
    return out + at[k:]


def _dependents(body: Block, seeds: set[int]) -> set[int]:
    """Ids of the values of `body` (nested blocks included) computed from the
    values `seeds`: an op's outputs where an input or a result of one of its
    blocks is; a nested block's arguments where its op has such an input."""
    dep = set(seeds)

    def walk(block: Block, inherit: bool) -> None:
        if inherit:
            dep.update(a.id for a in block.args)
        for op in block.ops:
            d = any(v.id in dep for v in op.inputs)
            for inner in op.blocks:
                walk(inner, d)
            if d or any(r.id in dep for inner in op.blocks for r in inner.results):
                dep.update(v.id for v in op.outputs)

    walk(body, False)
    return dep

