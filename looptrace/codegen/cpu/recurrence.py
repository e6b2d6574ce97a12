"""CPU rules of the linear-recurrence family (looptrace/ops/recurrence.py):
`linear_scan` and `matrix_power_apply` written into the kernel as explicit loops.

linear_scan: the state is flattened to S elements and the kernel picks, from
the static sizes, one of
  sequential   for each block of STATE_BLOCK elements: for t: for j in
               the block: H[t, j] = A[t, j] * H[t-1, j] + B[t, j]
               (contiguous rows; below PARALLEL_MIN_WORK element-steps or
               with parallel=False); coefficients broadcast along time or
               along the state are read in place, not materialized;
  state blocks a prange over one block of the S independent elements per
               thread, each running the whole time loop (S >= 64 per thread,
               at least 4 threads);
  time chunks  reduce-then-scan over C chunks of time: each chunk composes
               its affine maps (prange), one short sequential pass carries
               the state into each chunk, each chunk rescans from its
               incoming state (prange). Twice the flops of the loop, so it
               cannot pay on two cores; it runs only when
               LOOPTRACE_SCAN_TIME_CHUNKS=1 is set (for measuring).
matrix_power_apply: binary exponentiation with templates.dot (BLAS), or the plain
chain when squaring costs more multiply-adds (same rule as the NumPy impl).

Invariant: every variant computes H[t] from the same terms as the NumPy
implementation, within the error bounds stated in ops/recurrence.py.
"""
from __future__ import annotations

import math
import os
from math import prod

import numba
import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.ir.core import Dim, Op, Value
from looptrace.ops.recurrence import scan_shape

from .emitter import Emitter
from .target import TARGET
from .text import cast, dtype_text, literal

STATE_BLOCKS_MIN = 64  # state elements per thread: enough independent chains for a prange
# Both parallel variants are memory-bound: measured on 2 cores (bench/README.md,
# "Beyond the anchors") neither beats the sequential loop, so they are chosen
# only with at least PARALLEL_MIN_THREADS threads (state blocks), or on request
# (LOOPTRACE_SCAN_TIME_CHUNKS=1).
PARALLEL_MIN_THREADS = 4
# The sequential loops run the whole time loop over one block of this many
# state elements before the next block: the block's state stays in L1 across
# the steps (polynomial_horner: 8 steps over 10^6 elements went from 8 passes
# over memory to one), and the loop over the block still vectorizes. Every
# element takes the same operations in the same order as unblocked.
STATE_BLOCK = 512
TIME_CHUNKS = bool(os.environ.get("LOOPTRACE_SCAN_TIME_CHUNKS"))


# --- linear_scan ---------------------------------------------------------------------------------
def emit_linear_scan(em: Emitter, op: Op) -> None:
    a, b, h0 = op.inputs
    history = op.attrs.get("history", True)
    out = op.out if history else Value(op.out.dtype, scan_shape(a.shape, b.shape, h0.shape))
    state = tuple(out.shape[1:])
    static = not any(isinstance(d, Dim) for d in out.shape)
    assert history or static, "linear_scan without history needs static shapes"
    size = prod(state) if static else None
    n = {"T": em.size(out, 0), "dt": dtype_text(out.dtype), "one": literal(1, out.dtype),
         "zero": literal(0, out.dtype)}
    n.update({k: em.fresh(k) for k in ("t", "j", "c", "h", "lo", "hi", "nb")})
    n.update({k: em.fresh(k) for k in ("nc", "L", "ca", "cb", "cin", "pa", "pb", "cur", "blo", "bhi")})
    n["step"], n["first"] = _step_text(a, b), _copies_first(em, a, b, h0)
    if not state and any(x.ndim and x.id in em.plan.inlined for x in (a, b)):
        _fused_scalar(em, op, out, n, history)
        return
    if not state:
        n.update(H=em.name(out), h0=cast(em.name(h0), out.dtype), S="1")
    else:
        n.update(H=em.fresh("of"), h0=em.fresh("hf"), S=str(size) if static else em.fresh("S"))
        if not static:
            em.line(f"{n['S']} = {em.name(h0)}.size")
        em.line(f"{n['h0']} = contiguous({em.name(h0)}).reshape(({n['S']},))")
    coef_a, coef_b = _coef_reader(em, a, out, n), _coef_reader(em, b, out, n)
    if not history:
        # the state starts in h0's own memory when nothing reads h0 after this op
        mine = h0.const is None and h0.id not in (a.id, b.id) and em.scope.can_consume(h0)
        _lines(em, _final_only(n, coef_a, coef_b, not state, em.name(op.out), state, copy=not mine))
    else:
        _emit_variant(em, n, out, size, coef_a, coef_b)
        if state:
            sizes = "".join(em.size(out, k) + ", " for k in range(out.ndim))
            em.line(f"{em.name(out)} = {n['H']}.reshape(({sizes}))")
    em.define(op.out, owned=op.out.ndim > 0)


def _fused_scalar(em: Emitter, op: Op, out: Value, n: dict, history: bool) -> None:
    """A scalar recurrence whose cheap coefficient maps are computed inside
    its loop (planning/fusion.py `_inline_into_scans`): no temporary array."""
    from .nest import Fuser

    a, b, h0 = op.inputs
    readers = {x.id: _coef_reader(em, x, out, n) for x in (a, b) if not (x.ndim and x.id in em.plan.inlined)}
    t, h = n["t"], n["h"]
    step, first = _step_text(a, b), _copies_first(em, a, b, h0)
    if history:
        em.line(f"{em.name(op.out)} = alloc(({n['T']},), {n['dt']})")
    em.line(f"{h} = {cast(em.name(h0), out.dtype)}")
    with em.loop(t, n["T"]):
        fz = Fuser(em)
        coef = [readers[x.id](t, "0") if x.id in readers else fz.value_at(x, [t]) for x in (a, b)]
        em.line(f"{h} = {coef[0]} if {t} == 0 else {step(coef[0], h, coef[1])}" if first else
                f"{h} = {step(coef[0], h, coef[1])}")
        if history:
            em.line(f"{em.name(op.out)}[{t}] = {h}")
    if not history:
        em.line(f"{em.name(op.out)} = {h}")
    em.define(op.out, owned=op.out.ndim > 0)


def _step_text(a: Value, b: Value):
    """`step(A, h, B)`: the source text of one step `A * h + B`, as NumPy's
    running sum and product compute it: `h + B` where A is the literal 1 and
    `A * h` where B is the literal -0.0 (the scans' coefficients, np_arrays._prefix).
    Exact either way, and a complex `1 * h` or `+0.0 + -0.0` would lose a -0.0."""
    if _literal(a, lambda c: c == 1):
        return lambda A, h, B: f"{h} + {B}"
    if _literal(b, lambda c: c == 0 and all(math.copysign(1.0, p) < 0 for p in (c.real, c.imag))) or \
            _literal(b, lambda c: c == 0) and b.dtype.kind in "biu":
        return lambda A, h, B: f"{A} * {h}"
    return lambda A, h, B: f"{A} * {h} + {B}"


def _copies_first(em: Emitter, a: Value, b: Value, h0: Value) -> bool:
    """A running product from ones (`A * h` from h0 = 1): NumPy's first
    element is x[0] itself, where a complex `x[0] * (1+0j)` loses a -0.0 and
    makes inf+0j inf+nanj."""
    if _step_text(a, b)("A", "h", "B") != "A * h":
        return False
    made = em.plan.everywhere.get(h0.id)
    one = h0 if h0.const is not None else made.inputs[0] if made is not None and made.prim.name == "broadcast_to" \
        else None
    return one is not None and one.const is not None and bool(np.all(np.asarray(one.const) == 1))


def _first_step(n: dict):
    """`first(A, h0, B)`: the first step's text (A itself where the product starts from ones)."""
    return (lambda A, h, B: A) if n["first"] else n["step"]


def _literal(x: Value, test) -> bool:
    """Is x a 0-d constant whose value (as a Python complex) passes `test`?"""
    if x.const is None or np.ndim(x.const) != 0:
        return False
    return bool(test(complex(np.asarray(x.const).item())))


def _final_only(n: dict, A, B, scalar: bool, result: str, state: tuple, copy: bool = True) -> str:
    """The loop keeping only the current state (no history stored)."""
    T, S, t, j, h, cur = n["T"], n["S"], n["t"], n["j"], n["h"], n["cur"]
    step, steps = n["step"], f"range(1, {T})" if n["first"] else f"range({T})"
    if scalar:
        peel = f"\nif {T} > 0:\n    {h} = {A('0', '0')}" if n["first"] else ""
        return f"""
{h} = {n['h0']}{peel}
for {t} in {steps}:
    {h} = {step(A(t, '0'), h, B(t, '0'))}
{result} = {h}
"""
    blo, bhi = n["blo"], n["bhi"]
    peel = f"\n    if {T} > 0:\n        for {j} in range({blo}, {bhi}):\n            {cur}[{j}] = {A('0', j)}" \
        if n["first"] else ""
    return f"""
{cur} = {'copied(' + n['h0'] + ')' if copy else n['h0']}
for {blo} in range(0, {S}, {STATE_BLOCK}):
    {bhi} = min2({blo} + {STATE_BLOCK}, {S}){peel}
    for {t} in {steps}:
        for {j} in range({blo}, {bhi}):
            {cur}[{j}] = {step(A(t, j), f'{cur}[{j}]', B(t, j))}
{result} = {cur}.reshape(({''.join(f'{d}, ' for d in state)}))
"""


def _coef_reader(em: Emitter, x, out, n: dict):
    """`read(t, j)`: source text of coefficient x at step t, state element j
    (flat). A coefficient broadcast along time or along the whole state is
    read at its own index, never broadcast to (T, S) in memory."""
    scalar_state = out.ndim == 1
    if x.ndim == 0:
        return lambda t, j: em.name(x)
    if tuple(x.shape) == tuple(out.shape) and scalar_state:
        return lambda t, j: f"{em.name(x)}[{t}]"
    read = _unbroadcast_reader(em, x, out, n)
    if read is not None:
        return read
    flat = em.fresh("cf")
    src = em.name(x) if tuple(x.shape) == tuple(out.shape) else \
        f"np.broadcast_to({em.name(x)}, {em.shape_text(out)})"
    if scalar_state:
        em.line(f"{flat} = contiguous({src})")
        return lambda t, j: f"{flat}[{t}]"
    em.line(f"{flat} = contiguous({src}).reshape(({n['T']}, {n['S']}))")
    return lambda t, j: f"{flat}[{t}, {j}]"


def _unbroadcast_reader(em: Emitter, x, out, n: dict):
    """A reader of x in place when x (aligned right against (T, *state)) is
    either one value per step (its state axes all 1) or the whole state (its
    state axes those of the output), along time or not: x is only reshaped.
    None for any other broadcast."""
    aligned = (1,) * (out.ndim - x.ndim) + tuple(x.shape)
    steps, state = aligned[0], aligned[1:]
    over_time = not (isinstance(steps, int) and steps == 1)
    if over_time and steps is not out.shape[0] and steps != out.shape[0]:
        return None
    rows = n["T"] if over_time else "1"
    flat = em.fresh("cf")
    if all(isinstance(d, int) and d == 1 for d in state):
        em.line(f"{flat} = contiguous({em.name(x)}).reshape(({rows},))")
        return (lambda t, j: f"{flat}[{t}]") if over_time else (lambda t, j: f"{flat}[0]")
    if len(state) == out.ndim - 1 and all(a is b or a == b for a, b in zip(state, out.shape[1:])):
        em.line(f"{flat} = contiguous({em.name(x)}).reshape(({rows}, {n['S']}))")
        return (lambda t, j: f"{flat}[{t}, {j}]") if over_time else (lambda t, j: f"{flat}[0, {j}]")
    return None


def _shape_text(em: Emitter, v, first: int) -> str:
    return "(" + "".join(em.size(v, k) + ", " for k in range(first, v.ndim)) + ")"


def _emit_variant(em: Emitter, n: dict, out, size: int | None, A, B) -> None:
    steps = out.shape[0]
    work = steps * size if isinstance(steps, int) and size is not None else 0
    scalar = out.ndim == 1
    threads = numba.config.NUMBA_NUM_THREADS
    if em.work_is_large(work) and not scalar and threads >= PARALLEL_MIN_THREADS \
            and size >= STATE_BLOCKS_MIN * threads:
        em.uses_prange = True
        _lines(em, _state_blocks(n, A, B))
    elif em.work_is_large(work) and TIME_CHUNKS:
        em.uses_prange = True
        _lines(em, _time_chunks(n, A, B, scalar))
    else:
        _lines(em, _sequential(n, A, B, scalar))


def _lines(em: Emitter, text: str) -> None:
    """Emit a block of source (4-space indents inside it are kept)."""
    for raw in text.strip("\n").splitlines():
        em.line(raw)


def _sequential(n: dict, A, B, scalar: bool) -> str:
    step, first = n["step"], _first_step(n)
    H, T, S, t, j, h = n["H"], n["T"], n["S"], n["t"], n["j"], n["h"]
    if scalar:
        peel = f"\nif {T} > 0:\n    {h} = {A('0', '0')}\n    {H}[0] = {h}" if n["first"] else ""
        return f"""
{H} = alloc(({T},), {n['dt']})
{h} = {n['h0']}{peel}
for {t} in {f"range(1, {T})" if n["first"] else f"range({T})"}:
    {h} = {step(A(t, '0'), h, B(t, '0'))}
    {H}[{t}] = {h}
"""
    blo, bhi = n["blo"], n["bhi"]
    return f"""
{H} = alloc(({T}, {S}), {n['dt']})
for {blo} in range(0, {S}, {STATE_BLOCK}):
    {bhi} = min2({blo} + {STATE_BLOCK}, {S})
    if {T} > 0:
        for {j} in range({blo}, {bhi}):
            {H}[0, {j}] = {first(A('0', j), f"{n['h0']}[{j}]", B('0', j))}
    for {t} in range(1, {T}):
        for {j} in range({blo}, {bhi}):
            {H}[{t}, {j}] = {step(A(t, j), f'{H}[{t} - 1, {j}]', B(t, j))}
"""


def _state_blocks(n: dict, A, B) -> str:
    step, first = n["step"], _first_step(n)
    H, T, S, t, j, c, lo, hi, nb = (n[k] for k in ("H", "T", "S", "t", "j", "c", "lo", "hi", "nb"))
    return f"""
{H} = alloc(({T}, {S}), {n['dt']})
{nb} = max2(1, min2({S} // 32, numba.get_num_threads()))
for {c} in numba.prange({nb}):
    {lo} = {c} * {S} // {nb}
    {hi} = ({c} + 1) * {S} // {nb}
    if {T} > 0:
        for {j} in range({lo}, {hi}):
            {H}[0, {j}] = {first(A('0', j), f"{n['h0']}[{j}]", B('0', j))}
    for {t} in range(1, {T}):
        for {j} in range({lo}, {hi}):
            {H}[{t}, {j}] = {step(A(t, j), f'{H}[{t} - 1, {j}]', B(t, j))}
"""


def _time_chunks(n: dict, A, B, scalar: bool) -> str:
    """Reduce (compose each chunk's maps), carry across chunks, rescan."""
    step = n["step"]
    H, T, S, t, j, c, h = (n[k] for k in ("H", "T", "S", "t", "j", "c", "h"))
    nc, L, ca, cb, cin, pa, pb, cur = (n[k] for k in ("nc", "L", "ca", "cb", "cin", "pa", "pb", "cur"))
    h0 = n["h0"] if scalar else f"{n['h0']}[{j}]"
    out = f"{H}[{t}]" if scalar else f"{H}[{t}, {j}]"
    shape = f"({T},)" if scalar else f"({T}, {S})"
    return f"""
{H} = alloc({shape}, {n['dt']})
{nc} = numba.get_num_threads()
{L} = ({T} + {nc} - 1) // {nc}
{ca} = alloc(({nc}, {S}), {n['dt']})
{cb} = alloc(({nc}, {S}), {n['dt']})
for {c} in numba.prange({nc}):
    for {j} in range({S}):
        {pa} = {n['one']}
        {pb} = {n['zero']}
        for {t} in range({c} * {L}, min2(({c} + 1) * {L}, {T})):
            {pa} = {A(t, j)} * {pa}
            {pb} = {step(A(t, j), pb, B(t, j))}
        {ca}[{c}, {j}] = {pa}
        {cb}[{c}, {j}] = {pb}
{cin} = alloc(({nc}, {S}), {n['dt']})
for {j} in range({S}):
    {cur} = {h0}
    for {c} in range({nc}):
        {cin}[{c}, {j}] = {cur}
        {cur} = {step(f'{ca}[{c}, {j}]', cur, f'{cb}[{c}, {j}]')}
for {c} in numba.prange({nc}):
    for {j} in range({S}):
        {h} = {cin}[{c}, {j}]
        for {t} in range({c} * {L}, min2(({c} + 1) * {L}, {T})):
            {h} = {step(A(t, j), h, B(t, j))}
            {out} = {h}
"""


# --- matrix_power_apply --------------------------------------------------------------------------
def emit_matrix_power(em: Emitter, op: Op) -> None:
    p0, a, count = op.inputs
    out = op.out
    bd = op.attrs.get("batch_dims", 0)
    if bd == 0:
        _power_core(em, op, em.name(out), em.name(p0), em.name(a), em.name(count))
        em.define(out, owned=True)
        return
    em.line(f"{em.name(out)} = alloc({em.shape_text(out)}, {dtype_text(out.dtype)})")
    with em.loop_nest([em.size(out, k) for k in range(bd)]) as idx:
        at = ", ".join(idx)
        r = em.fresh("r")
        k = f"{em.name(count)}[{at}]" if count.ndim else em.name(count)
        _power_core(em, op, r, f"{em.name(p0)}[{at}]", f"{em.name(a)}[{at}]", k)
        core = out.ndim - bd
        with em.loop_nest([em.size(out, bd + q) for q in range(core)]) as inner:
            em.line(f"{em.name(out)}[{at}, {', '.join(inner)}] = {r}[{', '.join(inner)}]")
    em.define(out, owned=True)


def _power_core(em: Emitter, op: Op, r: str, p_text: str, a_text: str, k_text: str) -> None:
    """r = P @ A^k (or A^k @ P) for one batch member."""
    p0, a = op.inputs[0], op.inputs[1]
    side, bd = op.attrs["side"], op.attrs.get("batch_dims", 0)
    m = a.shape[-1]
    core = tuple(p0.shape[bd:])
    rows = 1 if len(core) == 1 else (core[0] if side == "right" else core[1])
    base = em.fresh("base")
    step = f"dot({r}, {base})" if side == "right" else f"dot({base}, {r})"
    names = {"r": r, "P": p_text, "A": a_text, "K": k_text, "base": base, "step": step,
             "cube": str(m ** 3), "sq": str(rows * m * m)}
    names.update({k: em.fresh(k) for k in ("k", "kk", "lg", "pc", "i")})
    _lines(em, _POWER.format(**names))


_POWER = """
{r} = copied({P})
{base} = contiguous({A})
{k} = np.int64({K})
{kk} = {k}
{lg} = -1
{pc} = 0
while {kk} > 0:
    {pc} += {kk} & 1
    {kk} >>= 1
    {lg} += 1
if {k} >= 2 and {lg} * {cube}.0 + {pc} * {sq}.0 < {k} * {sq}.0:
    while {k} > 0:
        if {k} & 1:
            {r} = {step}
        {k} >>= 1
        if {k} > 0:
            {base} = dot({base}, {base})
else:
    for {i} in range({k}):
        {r} = {step}
"""


TARGET.register("linear_scan", StatementRule(emit_linear_scan))
TARGET.register("matrix_power_apply", StatementRule(emit_matrix_power))
