"""CPU rules of sort and argsort (ops/sort.py)."""
from __future__ import annotations

import contextlib

import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.ir.core import literal

from .emitter import NO_RAISE
from .target import TARGET
from .text import dtype_text


# One lane (all axes but `axis` fixed) at a time, copied into a contiguous
# buffer: sorted in place by `sort_lane`, or ordered by the stable merge
# `argsort_lane` (templates.py and selection.py, NaNs last, compiled once per
# dtype and cached on disk), then copied out by explicit loops (Numba's array
# setitem costs seconds of compile time). When the program reads only some
# positions of the sorted axis (planning/order_stats.py: a median, a
# percentile, `np.argsort(d)[:k]`), only those are computed: a first few by
# one pass that keeps the k smallest (`topk_lane`, `argtopk_lane`), others by
# quickselect (`select_lane`, `argselect_lane`). Their values are the full
# sort's; the positions nobody reads hold other elements of the lane.
TOPK_MAX = 32  # a prefix this short is kept by one pass (cost up to n k on reversed data)

# A whole sort at the kernel's top level (not inside a loop) of at least this
# many elements is NumPy's own, called from the kernel in a `numba.objmode`
# block: NumPy sorts with SIMD networks (AVX-512 here) that no loop of ours
# matches, and so orders ties exactly as the plain function does. 10^5
# float32 (2026-12-03, one process): np.sort 0.64 ms, from the kernel 0.56 ms,
# sort_lane 14.2 ms; np.argsort 2.8 ms, from the kernel 2.9 ms, argsort_lane
# 21.7 ms. Entering object mode costs ~4 us (100 elements: 6.5 us against
# NumPy's 2.6), so short sorts stay in the kernel.
NUMPY_SORT_MIN = 4096
# np.partition at the positions read (a median, quartiles, percentiles) where there are at most this
# many; more (every other one, a slice) are NumPy's full sort: a kth per position is one more pass
PARTITION_KTH_MAX = 64
# A whole 1-D sort (or stable argsort: `small_range_argsort`) of integers whose
# range is narrower than their number is a counting sort (selection.py
# `small_range_sort`), tried before NumPy's
# (bench/array_speed.py, 10^6 int64 in 0..999, loaded machine, one process):
# np.sort 4.1 ms against NumPy's 104, np.unique(i).sum() 4.7 against NumPy
# 2.4's hashing 43 (0.52x before); a wider range costs one min/max pass more
# before NumPy's sort (sort_wide_ints 0.97x).
COUNTED_DTYPES = frozenset(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64,
                                                 np.uint8, np.uint16, np.uint32))
# (Numba's warning that such a block holds the GIL in a nogil kernel is
# silenced in looptrace/__init__.py.)


def _strategy(em, op, n: int | str) -> tuple[str, object]:
    """("full", None), ("topk", k) or ("select", positions array name)."""
    pos = em.plan.sort_positions.get(id(op)) if em.plan is not None else None
    if pos is None or 2 * len(pos) > int(n):  # most of the lane: the full sort is the faster path
        return "full", None
    if not pos:
        return "none", None
    if pos == tuple(range(len(pos))) and len(pos) <= TOPK_MAX:
        return "topk", len(pos)
    return "select", em.name(literal(np.asarray(pos, np.int64)))


def _numpy_sort(em, op, which: str) -> bool:
    """Emit NumPy's sort of the whole array in object mode, if this op is one
    for it (see NUMPY_SORT_MIN); True when emitted. A sort of which only some
    positions are read (a median, a percentile) is NumPy's np.partition at
    those positions: its selection is SIMD too (10^5 float64, the median's
    two middle positions and the last: 0.94 ms against select_lane's 1.46),
    and the values there are the full sort's. Not an argsort's: NumPy's
    argpartition does not order ties as the stable sort does."""
    x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
    if em.depth != 1 or x.const is not None or any(not isinstance(d, (int, np.integer)) for d in x.shape):
        return False
    how = _strategy(em, op, x.shape[axis])[0]
    if how != "full" and len(em.plan.sort_positions[id(op)]) > PARTITION_KTH_MAX:
        how = "full"  # (`np.sort(x)[::2]`: 5*10^4 kth values written into the source ran Numba out of memory)
    if int(np.prod(x.shape, dtype=np.int64)) < NUMPY_SORT_MIN or how not in ("full", "select", "topk"):
        return False
    if how != "full" and which != "sort":
        return False
    src = em.name(x)
    if how != "full":
        kth = "(" + "".join(f"{int(k)}, " for k in em.plan.sort_positions[id(op)]) + ")"
        em.object_mode(v, f"np.partition({src}, {kth}, axis={axis})", raises=False)
        return True
    stable = which == "sort" or op.attrs.get("stable", True) is not False  # (ties: any order for a sort's values)
    counted = stable and x.ndim == 1 and np.dtype(x.dtype) in COUNTED_DTYPES
    if which == "sort" and em.scope.can_consume(x):
        # `x.sort()` of an array nothing reads afterwards (an argument written back: the
        # kernel owns it, emitter.emit_program): sorted where it is, as the plain function
        # does; a copy sorted, then copied back, cost 10^5 float32 0.90x NumPy
        with _unless_counted(em, counted, src, src):
            em.line(f"with numba.objmode():{NO_RAISE}")
            em.line(f"    {src}.sort(axis={axis})")
        em.line(f"{em.name(v)} = {src}")
        em.define(v, alias_of=x)
        return True
    if which == "sort":
        call = f"np.sort({src}, axis={axis})"
    else:
        call = f"np.argsort({src}, axis={axis}, kind={repr('stable') if stable else 'None'})"
    if counted:
        out, dt = em.fresh_array(v), np.dtype(v.dtype).name
        with _unless_counted(em, True, src, out, which):
            em.line(f"with numba.objmode({out}='{dt}[::1]'):{NO_RAISE}")
            em.line(f"    {out} = np.ascontiguousarray({call}, dtype=np.{dt})")
        return True
    em.object_mode(v, call, raises=False)
    return True


@contextlib.contextmanager
def _unless_counted(em, counted: bool, src: str, out: str, which: str = "sort"):
    """The lines emitted inside run only where `small_range_sort` (or
    `small_range_argsort`: selection.py) could not sort `src` into `out` by
    counting (its range is wider than its length); all of them where
    `counted` is False."""
    if not counted:
        yield
        return
    em.line(f"if not small_range_{which}({src}, {out}):")
    with em.indented():
        yield


def _lower(which: str):
    def lower(em, op) -> None:
        x, v, axis = op.inputs[0], op.out, op.attrs["axis"]
        if _numpy_sort(em, op, which):
            return
        out = em.fresh_array(v)
        kept = [k for k in range(x.ndim) if k != axis]
        lanes = int(np.prod([x.shape[k] for k in kept], dtype=np.int64)) if kept else 1
        n = em.size(x, axis)
        work = lanes * max(int(x.shape[axis]), 1)
        with em.loop_nest([em.size(x, k) for k in kept], parallel_outer=em.work_is_large(work)) as idx:
            at = list(idx)
            buf, j = em.fresh("lane"), em.fresh("j")
            at.insert(axis, j)
            em.line(f"{buf} = alloc({n}, {dtype_text(x.dtype)})")
            with em.loop(j, n):
                em.line(f"{buf}[{j}] = {em.name(x)}[{', '.join(at)}]")
            result = _sorted_lane(em, op, which, buf, n)
            with em.loop(j, n):
                em.line(f"{out}[{', '.join(at)}] = {result}[{j}]")

    return lower


def _sorted_lane(em, op, which: str, buf: str, n: str) -> str:
    """Emit the sort of one lane held in `buf`; the name of the sorted lane."""
    how, arg = _strategy(em, op, n)
    if which == "sort":
        call = {"full": f"sort_lane({buf})", "topk": f"topk_lane({buf}, {arg})",
                "select": f"select_lane({buf}, {arg})", "none": None}[how]
        if call:
            em.line(call)
        return buf
    result = em.fresh("order")
    em.line(f"{result} = alloc({n}, np.int64)")
    call = {"full": f"argsort_lane({buf}, {result})", "topk": f"argtopk_lane({buf}, {result}, {arg})",
            "select": f"argselect_lane({buf}, {result}, {arg})", "none": None}[how]
    if call:
        em.line(call)
    return result


TARGET.register("sort", StatementRule(_lower("sort")))
TARGET.register("argsort", StatementRule(_lower("argsort")))


# searchsorted (ops/sort.py): a binary search per value, written in the kernel
# (no NumPy call, no helper to compile): [lo, hi) halves until empty. 'left'
# moves past a[mid] when a[mid] comes before the value, 'right' when the value
# does not come before a[mid]; "before" is `<` with NaNs last for floats, as
# NumPy's sort and search order them. a's leading axes are the value's.
def _before(p: str, q: str, dtype) -> str:
    if np.dtype(dtype).kind != "f":
        return f"{p} < {q}"
    return f"({p} < {q} or ({q} != {q} and {p} == {p}))"


def search_lines(em, a_read, key: str, n: str, dtype, side: str, hint: tuple[str, str] | None = None) -> str:
    """Emit the binary search of `key` in a row of n; a_read(mid) reads the
    row at `mid`. Returns the name of the insertion point. With a hint
    (previous key, its insertion point): a key not before the previous one
    goes at or after that point, found by galloping forward from it (1, 2,
    4, ... places) and halving the last step; others search the whole row.
    Without a hint: `_branchless_search`."""
    if hint is None:
        return _branchless_search(em, a_read, key, n, dtype, side)
    lo, hi, mid, at = em.fresh("lo"), em.fresh("hi"), em.fresh("mid"), em.fresh("am")

    def past(x: str) -> str:  # the insertion point is after a position holding x
        return _before(x, key, dtype) if side == "left" else f"not {_before(key, x, dtype)}"

    prev_key, prev_at = hint
    step = em.fresh("step")
    em.line(f"if {_before(key, prev_key, dtype)}:")
    em.line(f"    {lo} = 0")
    em.line(f"    {hi} = {n}")
    em.line("else:")
    with em.indented():
        em.line(f"{lo} = {prev_at}")
        em.line(f"{hi} = {lo}")
        em.line(f"{step} = 1")
        em.line(f"while {hi} < {n} and {past(a_read(hi))}:")
        em.line(f"    {lo} = {hi} + 1")
        em.line(f"    {hi} = {lo} + {step}")
        em.line(f"    {step} = {step} * 2")
        em.line(f"if {hi} > {n}:")
        em.line(f"    {hi} = {n}")
    em.line(f"while {lo} < {hi}:")
    with em.indented():
        em.line(f"{mid} = ({lo} + {hi}) >> 1")
        em.line(f"{at} = {a_read(mid)}")
        em.line(f"if {past(at)}:")
        em.line(f"    {lo} = {mid} + 1")
        em.line("else:")
        em.line(f"    {hi} = {mid}")
    return lo


def _past_flags(x: str, key: str, dtype, side: str) -> str:
    """Is the insertion point of key after a position holding x, written with
    `&`/`|` on bools (no branches: LLVM makes a select of the step)."""
    if np.dtype(dtype).kind != "f":
        return f"{x} < {key}" if side == "left" else f"not ({key} < {x})"
    if side == "left":
        return f"(({x} < {key}) | (({key} != {key}) & ({x} == {x})))"
    return f"not (({key} < {x}) | (({x} != {x}) & ({key} == {key})))"


def _branchless_search(em, a_read, key: str, n: str, dtype, side: str) -> str:
    """The search of one key with no hint: the range [base, base + len]
    holding the insertion point halves by a select, not a branch, for
    ceil(log2 n) steps whatever the key (a random key's branch is a coin
    toss: 10^6 unsorted keys in 1000, 53 ms with the branch, 22 without;
    NumPy 56). Returns the name of the insertion point."""
    base, ln, half, at = em.fresh("lo"), em.fresh("len"), em.fresh("half"), em.fresh("am")
    em.line(f"{base} = 0")
    em.line(f"{ln} = {n}")
    em.line(f"while {ln} > 1:")
    with em.indented():
        em.line(f"{half} = {ln} >> 1")
        em.line(f"{at} = {a_read(f'{base} + {half}')}")
        em.line(f"{base} = {base} + {half} if {_past_flags(at, key, dtype, side)} else {base}")
        em.line(f"{ln} -= {half}")
    em.line(f"if {ln} == 1:")
    with em.indented():
        em.line(f"{at} = {a_read(base)}")
        em.line(f"{base} += np.int64({_past_flags(at, key, dtype, side)})")
    return base


# Keys along v's last axis are searched in runs of this many, each run on one
# thread. In a run whose first SEARCH_PROBE keys mostly follow in order or in
# reverse (at most PROBE_MISSES do not; equal keys count both ways), a key
# inside the bracket of the previous insertion point p (the keys that go
# there: a[p-1] <= key < a[p] for 'right') takes p with two comparisons:
# sorted, descending or nearly sorted keys into fewer samples (resampling
# positions, bin edges, a grid) mostly stay in their bracket, as NumPy's
# np.interp guesses its previous index (10^6 sorted keys in 1000, one thread:
# 1.2 ms with a gallop per key, 0.75 ms so; NumPy's searchsorted 8.4). A key
# outside it searches, galloping forward from p (a key before the previous
# one searches the whole row: descending keys leave their bracket once per
# sample). Other runs search each key without branches: a key's branch is a
# coin toss there (the bracket's test and its reload made 10^6 unsorted keys
# 22 -> 56 ms).
SEARCH_RUN = 2048
SEARCH_PROBE = 32
PROBE_MISSES = (SEARCH_PROBE - 1) // 4


def _searchsorted_lower(em, op) -> None:
    a, v = op.inputs
    out, side, nb = op.out, op.attrs["side"], a.ndim - 1
    n = em.size(a, nb)
    an, vn = em.name(a), em.name(v)
    if v.ndim == 0:
        pos = search_lines(em, lambda m: f"{an}[{m}]", vn, n, a.dtype, side)
        em.line(f"{em.name(out)} = {pos}")
        em.define(out)
        return
    res = em.fresh_array(out)
    count = int(np.prod([d if isinstance(d, (int, np.integer)) else 1 for d in v.shape], dtype=np.int64))
    steps = max(int(a.shape[nb]).bit_length() if isinstance(a.shape[nb], (int, np.integer)) else 16, 1)
    parallel = em.work_is_large(count * steps)
    if v.ndim == nb:  # one key per row: nothing to hint with
        with em.loop_nest([em.size(v, k) for k in range(v.ndim)], parallel_outer=parallel) as idx:
            key = em.fresh("key")
            em.line(f"{key} = {vn}[{', '.join(idx)}]")
            pos = search_lines(em, lambda m: f"{an}[{', '.join(idx[:nb] + [m])}]", key, n, a.dtype, side)
            em.line(f"{res}[{', '.join(idx)}] = {pos}")
        return
    lead = [em.size(v, k) for k in range(v.ndim - 1)]
    m = em.size(v, v.ndim - 1)
    run, start, stop, j = em.fresh("run"), em.fresh("start"), em.fresh("stop"), em.fresh("j")
    with em.loop_nest(lead, parallel_outer=parallel and bool(lead)) as idx:
        with em.loop(run, f"({m} + {SEARCH_RUN - 1}) // {SEARCH_RUN}", parallel and not lead):
            em.line(f"{start} = {run} * {SEARCH_RUN}")
            em.line(f"{stop} = min({start} + {SEARCH_RUN}, {m})")
            up, down = em.fresh("up"), em.fresh("down")
            em.line(f"{up} = 0")  # how many of the first keys come out of order, how many out of reverse
            em.line(f"{down} = 0")
            em.line(f"for {j} in range({start} + 1, min({start} + {SEARCH_PROBE}, {stop})):")
            with em.indented():
                cur, prev = f"{vn}[{_at(idx, j)}]", f"{vn}[{_at(idx, j + ' - 1')}]"
                em.line(f"{up} += np.int64({_before(cur, prev, v.dtype)})")
                em.line(f"{down} += np.int64({_before(prev, cur, v.dtype)})")
                em.line(f"if {up} > {PROBE_MISSES} and {down} > {PROBE_MISSES}:")  # an exit: no vector code
                em.line("    break")
            a_read = lambda p: f"{an}[{', '.join(idx[:nb] + [p])}]"  # noqa: E731
            em.line(f"if {up} <= {PROBE_MISSES} or {down} <= {PROBE_MISSES}:")
            with em.indented():
                _bracketed_run(em, idx, j, start, stop, res, a_read, vn, n, a.dtype, side)
            em.line("else:")
            with em.indented():
                em.line(f"for {j} in range({start}, {stop}):")
                with em.indented():
                    key = em.fresh("key")
                    em.line(f"{key} = {vn}[{_at(idx, j)}]")
                    pos = search_lines(em, a_read, key, n, a.dtype, side)
                    em.line(f"{res}[{_at(idx, j)}] = {pos}")


def _extreme(dtype, high: bool) -> str:
    """The dtype's least (greatest) value, as kernel text: a bracket bound
    that every key passes (a strict test fails at that value only)."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return f"{dtype_text(dt)}({'' if high else '-'}np.inf)"
    if dt.kind == "b":
        return f"{dtype_text(dt)}({high})"
    info = np.iinfo(dt)
    return f"{dtype_text(dt)}({info.max if high else info.min})"


def _bracketed_run(em, idx, j, start, stop, res, a_read, vn, n, dtype, side) -> None:
    """Emit the keys of one run: each inside the bracket (lo_v, hi_v) of the
    last insertion point p takes p; any other searches, galloping from the
    last searched key's point (`search_lines` with a hint: a key before that
    one searches the whole row), and moves the bracket. The bracket's test is
    plain comparisons, which a NaN key fails, and a NaN bound too, so those
    search as before; a bound past the row's end is the dtype's extreme
    (`_extreme`): its comparison holds for every key or fails where a key
    equals it, which then searches. The run starts with an empty bracket."""
    p, lo_v, hi_v, key = em.fresh("p"), em.fresh("blo"), em.fresh("bhi"), em.fresh("key")
    prev_key, prev_at = em.fresh("pkey"), em.fresh("pat")
    low, high = _extreme(dtype, False), _extreme(dtype, True)
    em.line(f"{prev_key} = {vn}[{_at(idx, start)}]")
    em.line(f"{prev_at} = 0")
    em.line(f"{p} = 0")
    em.line(f"{lo_v} = {high}")
    em.line(f"{hi_v} = {low}")
    inside = f"{lo_v} <= {key} and {key} < {hi_v}" if side == "right" else f"{lo_v} < {key} and {key} <= {hi_v}"
    em.line(f"for {j} in range({start}, {stop}):")
    with em.indented():
        em.line(f"{key} = {vn}[{_at(idx, j)}]")
        em.line(f"if not ({inside}):")
        with em.indented():
            pos = search_lines(em, a_read, key, n, dtype, side, hint=(prev_key, prev_at))
            em.line(f"{p} = {pos}")
            em.line(f"{prev_key} = {key}")
            em.line(f"{prev_at} = {p}")
            em.line(f"{lo_v} = {low}")
            em.line(f"{hi_v} = {high}")
            em.line(f"if {p} > 0:")
            em.line(f"    {lo_v} = {a_read(f'{p} - 1')}")
            em.line(f"if {p} < {n}:")
            em.line(f"    {hi_v} = {a_read(p)}")
        em.line(f"{res}[{_at(idx, j)}] = {p}")


def _at(idx: list[str], j: str) -> str:
    return ", ".join(idx + [j])


TARGET.register("searchsorted", StatementRule(_searchsorted_lower))
