"""A product inside a persistent step, split over the lanes of a group (split-K).

In a persistent kernel a matvec read by one elementwise consumer is computed
inside the consumer's element (team.py): `h[i] = tanh(sum_j W[i, j] h[j] +
u[t, i])`, one thread per output element. With n outputs that is n threads
each running a chain of K multiply-adds per step, and on the H200 the
single-block rnn_taps scan (n = K = 200) took 9.3 us per step (bench/README.md,
2026-12-04): few warps, long chains. Here each output element gets a group of
g lanes (consecutive threads of one warp, g a power of two): lane l sums the
terms j = l, l + g, l + 2g, ..., then the group adds its g partial sums by a
butterfly, and lane 0 finishes the element (the rest of the fused expression,
the store, the stacked row). n * g threads share a step's work; the chain of
each is K / g long, and a cooperative team can spread one step over many SMs.

The butterfly: for off = g/2, ..., 1 every lane adds the partial of lane
`l ^ off`. Both lanes of a pair compute the same sum of the same two values,
so after the last round every lane holds the same bits, whatever the order
threads run in: the result is deterministic. On a GPU the exchange is
`cuda.shfl_xor_sync`; the simulator has no warp operations, so under it the
same additions exchange through memory with a block barrier around each
round (em.sim picks the variant when the module is written; the arithmetic,
and so the bits, are the same). Every thread runs the same number of rounds
(the loop over groups has one trip count for all), so the barriers and the
full-warp shuffles never diverge.

Applies when the root's fused expression reaches exactly one such product of
its own shape through elementwise ops of that shape, with one summed letter
of at least SPLIT_MIN (static) and a float accumulator, and no other fold.
"""
from __future__ import annotations

import os
from math import prod
from typing import TYPE_CHECKING

from looptrace.codegen.planning.fusion import is_fold
from looptrace.ir.core import Op

from ..cpu.text import cast, dtype_text
from .contraction import acc_dtype, letter_sizes, spec_letters
from .fuse import Fuser
from .limits import HOPPER

if TYPE_CHECKING:
    from .emitter import CudaEmitter

SPLIT_MIN = 64  # summed length from which a product in a step is split
PER_LANE = 8  # multiply-adds each lane keeps at least
LANES_MAX = 32  # a group is part of one warp (the shuffles)


def lanes_for(n: int, k: int, capacity: int) -> int:
    """Lanes per output element: the largest power of two <= LANES_MAX with
    n * g <= capacity (threads the team can have) and k / g >= PER_LANE; 1 = no split."""
    g = 1
    while g * 2 <= LANES_MAX and n * g * 2 <= capacity and k // (g * 2) >= PER_LANE:
        g *= 2
    return g


def split_plan(em: CudaEmitter, root: Op) -> tuple[Op, int, int] | None:
    """(the product, its summed length, lanes) when `root` should run split, else None."""
    team, v = em.team, root.out
    if team is None or v.ndim == 0 or not all(isinstance(d, int) for d in v.shape):
        return None
    product = _only_product(em, root)
    if product is None:
        return None
    g = product_lanes(product, team.cooperative)
    return (product, summed_length(product), g) if g > 1 else None


def summed_length(product: Op) -> int | None:
    """The static length of the product's one summed letter (None: several, or not static)."""
    ins, _, summed = spec_letters(product)
    size = letter_sizes(product, ins)
    if len(summed) != 1 or not isinstance(size[summed[0]], int):
        return None
    return size[summed[0]]


def summed_letter(product: Op) -> str:
    (letter,) = spec_letters(product)[2]
    return letter


def product_lanes(product: Op, cooperative: bool) -> int:
    """Lanes per output element for this product in a persistent step (1: not split).
    Also what the kernel's prologue lays a staged operand out for (persistent.py)."""
    k = summed_length(product)
    v = product.out
    if (k is None or k < SPLIT_MIN or acc_dtype(product).kind != "f" or v.ndim == 0
            or not all(isinstance(d, int) for d in v.shape)):
        return 1
    from .team import COOP_THREADS, MAX_THREADS

    capacity = HOPPER.sm_count * COOP_THREADS if cooperative else MAX_THREADS
    g = lanes_for(prod(v.shape), k, capacity)
    cap = os.environ.get("LOOPTRACE_CUDA_LANES", "")  # at most this many (1: no split; bench_gpu compares)
    if cap.isdigit():
        while g > max(int(cap), 1):
            g //= 2
    return g


def _only_product(em: CudaEmitter, root: Op) -> Op | None:
    """The one product of the root's shape its fused expression reaches through
    same-shape elementwise ops (so it is read at the root's own index), if that
    is the expression's only fold."""
    plan, shape = em.plan, tuple(root.out.shape)
    found, stack, seen = [], [root], set()
    while stack:
        op = stack.pop()
        if id(op) in seen:
            continue
        seen.add(id(op))
        if op.prim.name == "einsum":
            if tuple(op.out.shape) != shape or op is root:
                return None
            found.append(op)
            continue
        if is_fold(op) or not op.prim.elementwise or tuple(op.out.shape) != shape:
            return None
        for u in op.inputs:
            if u.id in plan.inlined and u.id in plan.producer:
                if tuple(u.shape) != shape:
                    return None
                stack.append(plan.producer[u.id])
    return found[0] if len(found) == 1 else None


def emit_split(em: CudaEmitter, root: Op, product: Op, k: int, g: int) -> None:
    """The root's loop with its product split over groups of g lanes (see the module's docstring)."""
    team, v = em.team, root.out
    code = team.code
    n = prod(v.shape)
    total = n * g
    if team.counting:
        team.extent = max(team.extent, total)
    team.lanes = max(team.lanes, g)
    out = em.alloc(v)
    extra = team.destinations(v)
    acc_dt = acc_dtype(product)
    exchange = team.storage((1024,), acc_dt) if em.sim else None
    code.begin_phase()
    b, s, e, lane, part = (em.fresh(x) for x in ("b", "s", "e", "lane", "part"))
    code.line(f"for {b} in range(0, {total}, nth):")
    with code.indented():
        code.line(f"{s} = {b} + tid")
        code.line(f"{e} = {s} // {g}")
        code.line(f"{lane} = {s} % {g}")
        code.line(f"{part} = {dtype_text(acc_dt)}(0)")
        code.line(f"if {s} < {total}:")
        with code.indented():
            idx = em.index_of(code, e, v.shape)
            code.line(f"{part} = {_lane_sum(Fuser(em, code), product, idx, lane, g, k)}")
        _butterfly(code, part, g, exchange)
        code.line(f"if {s} < {total} and {lane} == 0:")
        with code.indented():
            idx = em.index_of(code, e, v.shape)
            fz = Fuser(em, code)
            fz.memo[(product.out.id, tuple(idx))] = cast(part, product.out.dtype)
            value = fz.value_at(v, idx, produce=True)
            code.store(out, idx, value)
            for dst in extra:
                code.store(dst, idx, value)
    code.begin_phase()
    if extra:
        team.written_rows.add(v.id)
    em.notes.append(f"line {root.loc.line}: the product in the step is split over {g} lanes per element "
                    f"({n} elements, {k} terms: {k // g} per lane)")


def _lane_sum(fz: Fuser, op: Op, idx: list[str], lane: str, g: int, k: int) -> str:
    """This lane's share of element `idx` of the product: terms lane, lane + g, ..., in
    `unroll` accumulators (independent add chains), with constant trip counts (numba's
    range with a run-time start costs a dozen instructions a term: seen in the PTX)."""
    em, code = fz.em, fz.code
    ins, out, (letter,) = spec_letters(op)
    size = letter_sizes(op, ins)
    acc_dt = acc_dtype(op)
    where = dict(zip(out, idx))
    rounds, rem = divmod(k, g)
    unroll = 4 if rounds >= 16 else 2 if rounds >= 8 else 1
    accs = [em.fresh("acc") for _ in range(unroll)]
    for a in accs:
        code.line(f"{a} = {dtype_text(acc_dt)}(0)")
    saved = dict(fz.memo)

    def add(acc: str, r: str) -> None:
        at = {**where, letter: r}
        parts = []
        for letters, x in zip(ins, op.inputs):
            pos = ["0" if x.shape[j] == 1 and size[c] != 1 else at[c] for j, c in enumerate(letters)]
            parts.append(cast(fz.value_at(x, pos), acc_dt))
        code.line(f"{acc} += {' * '.join(parts)}")
        fz.memo = dict(saved)

    j, q = em.fresh("j"), em.fresh("q")
    code.line(f"for {j} in range({rounds // unroll}):")
    with code.indented():
        code.line(f"{q} = {lane} + {j} * {g * unroll}")
        for u, a in enumerate(accs):
            add(a, q if u == 0 else f"{q} + {u * g}")
    if rounds % unroll:
        code.line(f"for {j} in range({rounds - rounds % unroll}, {rounds}):")
        with code.indented():
            add(accs[0], f"{lane} + {j} * {g}")
    if rem:
        code.line(f"if {lane} < {rem}:")
        with code.indented():
            add(accs[0], f"{lane} + {rounds * g}")
    fz.memo = saved
    if unroll == 1:
        return accs[0]
    total = em.fresh("acc")
    pairs = " + ".join(f"({accs[u]} + {accs[u + 1]})" for u in range(0, unroll, 2))
    code.line(f"{total} = {pairs}")
    return total


def _butterfly(code, part: str, g: int, exchange) -> None:
    """Every lane of a group ends with the sum of the group's partials (the same bits in every lane)."""
    offs = []
    off = g // 2
    while off >= 1:
        offs.append(off)
        off //= 2
    if exchange is None:
        for off in offs:
            code.line(f"{part} = {part} + cuda.shfl_xor_sync(0xffffffff, {part}, {off})")
        return
    slot = code.address(exchange, ["ltid"])
    for off in offs:
        code.line(f"{slot} = {part}")
        code.line("cuda.syncthreads()")
        code.line(f"{part} = {part} + {code.address(exchange, [f'ltid ^ {off}'])}")
        code.line("cuda.syncthreads()")


__all__ = ["emit_split", "lanes_for", "product_lanes", "split_plan", "summed_letter"]
