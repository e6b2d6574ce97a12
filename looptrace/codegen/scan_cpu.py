"""CPU lowering of the scan family (looptrace/ops/scan.py): `linear_scan` and
`matrix_power_apply` written into the kernel as explicit loops.

linear_scan: the state is flattened to S elements and the kernel picks, from
the static sizes, one of
  sequential   for t: for j: H[t, j] = A[t, j] * H[t-1, j] + B[t, j]
               (contiguous rows; below PARALLEL_MIN_WORK element-steps or
               with parallel=False);
  state blocks a prange over blocks of the S independent elements, each
               running the whole time loop (S >= STATE_BLOCKS_MIN);
  time chunks  reduce-then-scan over C chunks of time: each chunk composes
               its affine maps (prange), one short sequential pass carries
               the state into each chunk, each chunk rescans from its
               incoming state (prange). Twice the flops of the loop, so it
               only pays with more cores than this machine's two; it runs
               only when TIME_CHUNKS is set (the bench measures it).
matrix_power_apply: binary exponentiation with np.dot (BLAS), or the plain
chain when squaring costs more multiply-adds (same rule as the NumPy impl).

Invariant: every variant computes H[t] from the same terms as the NumPy
implementation, within the error bounds stated in ops/scan.py.
"""
from __future__ import annotations

import os
from math import prod

from looptrace.ir.core import Dim, Op

from .emitter import Emitter, cast, dtype_text, literal

STATE_BLOCKS_MIN = 64  # state elements: enough independent chains for a prange
TIME_CHUNKS = bool(os.environ.get("LOOPTRACE_SCAN_TIME_CHUNKS"))


def _lines(em: Emitter, text: str, **names: str) -> None:
    """Emit a block of source (4-space indents inside it are kept)."""
    for raw in text.strip("\n").splitlines():
        em.line(raw.format(**names))


# --- linear_scan ---------------------------------------------------------------------------------
def emit_linear_scan(em: Emitter, op: Op) -> None:
    a, b, h0 = op.inputs
    out = op.out
    state = tuple(out.shape[1:])
    static = not any(isinstance(d, Dim) for d in out.shape)
    size = prod(state) if static else None
    names = dict(T=em.size(out, 0), dt=dtype_text(out.dtype), one=literal(1, out.dtype),
                 zero=literal(0, out.dtype), t=em.fresh("t"), j=em.fresh("j"), c=em.fresh("c"),
                 h=em.fresh("h"), lo=em.fresh("lo"), hi=em.fresh("hi"))
    if not state:
        names.update(A=em.name(a), B=em.name(b), H=em.name(out), h0=cast(em.name(h0), out.dtype))
        _emit_variant(em, names, out, 1)
        em.define(out, owned=True)
        return
    flat = {k: em.fresh(k) for k in ("af", "bf", "hf", "of")}
    names.update(A=flat["af"], B=flat["bf"], H=flat["of"], h0=flat["hf"], S=str(size) if static else em.fresh("S"))
    if not static:
        em.line(f"{names['S']} = {em.name(h0)}.size")
    for key, v in (("af", a), ("bf", b)):
        em.line(f"{flat[key]} = np.ascontiguousarray({em.name(v)}).reshape(({names['T']}, {names['S']}))")
    em.line(f"{flat['hf']} = np.ascontiguousarray({em.name(h0)}).reshape(({names['S']},))")
    _emit_variant(em, names, out, size)
    sizes = "".join(em.size(out, k) + ", " for k in range(out.ndim))
    em.line(f"{em.name(out)} = {flat['of']}.reshape(({sizes}))")
    em.define(out, owned=True)


def _emit_variant(em: Emitter, names: dict, out, size: int | None) -> None:
    steps = out.shape[0]
    work = steps * size if isinstance(steps, int) and size is not None else 0
    scalar = not out.shape[1:]
    if not em.work_is_large(work):
        _lines(em, _SEQ_SCALAR if scalar else _SEQ_FLAT, **names)
    elif not scalar and size >= STATE_BLOCKS_MIN:
        em.uses_prange = True
        _lines(em, _STATE_BLOCKS, nb=em.fresh("nb"), **names)
    elif TIME_CHUNKS:
        em.uses_prange = True
        extra = {k: em.fresh(k) for k in ("nc", "L", "ca", "cb", "cin", "pa", "pb", "cur")}
        _lines(em, _CHUNKS_SCALAR if scalar else _CHUNKS_FLAT, **names, **extra)
    else:
        _lines(em, _SEQ_SCALAR if scalar else _SEQ_FLAT, **names)


_SEQ_SCALAR = """
{H} = np.empty(({T},), dtype={dt})
{h} = {h0}
for {t} in range({T}):
    {h} = {A}[{t}] * {h} + {B}[{t}]
    {H}[{t}] = {h}
"""

_SEQ_FLAT = """
{H} = np.empty(({T}, {S}), dtype={dt})
if {T} > 0:
    for {j} in range({S}):
        {H}[0, {j}] = {A}[0, {j}] * {h0}[{j}] + {B}[0, {j}]
for {t} in range(1, {T}):
    for {j} in range({S}):
        {H}[{t}, {j}] = {A}[{t}, {j}] * {H}[{t} - 1, {j}] + {B}[{t}, {j}]
"""

_STATE_BLOCKS = """
{H} = np.empty(({T}, {S}), dtype={dt})
{nb} = min({S}, 8 * numba.get_num_threads())
for {c} in numba.prange({nb}):
    {lo} = {c} * {S} // {nb}
    {hi} = ({c} + 1) * {S} // {nb}
    if {T} > 0:
        for {j} in range({lo}, {hi}):
            {H}[0, {j}] = {A}[0, {j}] * {h0}[{j}] + {B}[0, {j}]
    for {t} in range(1, {T}):
        for {j} in range({lo}, {hi}):
            {H}[{t}, {j}] = {A}[{t}, {j}] * {H}[{t} - 1, {j}] + {B}[{t}, {j}]
"""

_CHUNKS_SCALAR = """
{H} = np.empty(({T},), dtype={dt})
{nc} = numba.get_num_threads()
{L} = ({T} + {nc} - 1) // {nc}
{ca} = np.empty(({nc},), dtype={dt})
{cb} = np.empty(({nc},), dtype={dt})
for {c} in numba.prange({nc}):
    {pa} = {one}
    {pb} = {zero}
    for {t} in range({c} * {L}, min(({c} + 1) * {L}, {T})):
        {pa} = {A}[{t}] * {pa}
        {pb} = {A}[{t}] * {pb} + {B}[{t}]
    {ca}[{c}] = {pa}
    {cb}[{c}] = {pb}
{cin} = np.empty(({nc},), dtype={dt})
{cur} = {h0}
for {c} in range({nc}):
    {cin}[{c}] = {cur}
    {cur} = {ca}[{c}] * {cur} + {cb}[{c}]
for {c} in numba.prange({nc}):
    {h} = {cin}[{c}]
    for {t} in range({c} * {L}, min(({c} + 1) * {L}, {T})):
        {h} = {A}[{t}] * {h} + {B}[{t}]
        {H}[{t}] = {h}
"""

_CHUNKS_FLAT = """
{H} = np.empty(({T}, {S}), dtype={dt})
{nc} = numba.get_num_threads()
{L} = ({T} + {nc} - 1) // {nc}
{ca} = np.empty(({nc}, {S}), dtype={dt})
{cb} = np.empty(({nc}, {S}), dtype={dt})
for {c} in numba.prange({nc}):
    for {j} in range({S}):
        {pa} = {one}
        {pb} = {zero}
        for {t} in range({c} * {L}, min(({c} + 1) * {L}, {T})):
            {pa} = {A}[{t}, {j}] * {pa}
            {pb} = {A}[{t}, {j}] * {pb} + {B}[{t}, {j}]
        {ca}[{c}, {j}] = {pa}
        {cb}[{c}, {j}] = {pb}
{cin} = np.empty(({nc}, {S}), dtype={dt})
for {j} in range({S}):
    {cur} = {h0}[{j}]
    for {c} in range({nc}):
        {cin}[{c}, {j}] = {cur}
        {cur} = {ca}[{c}, {j}] * {cur} + {cb}[{c}, {j}]
for {c} in numba.prange({nc}):
    for {j} in range({S}):
        {h} = {cin}[{c}, {j}]
        for {t} in range({c} * {L}, min(({c} + 1) * {L}, {T})):
            {h} = {A}[{t}, {j}] * {h} + {B}[{t}, {j}]
            {H}[{t}, {j}] = {h}
"""


# --- matrix_power_apply --------------------------------------------------------------------------
def emit_matrix_power(em: Emitter, op: Op) -> None:
    p0, a, count = op.inputs
    out = op.out
    side, bd = op.attrs["side"], op.attrs.get("batch_dims", 0)
    if bd == 0:
        _power_core(em, op, em.name(out), em.name(p0), em.name(a), em.name(count))
        em.define(out, owned=True)
        return
    em.line(f"{em.name(out)} = np.empty({em.shape_text(out)}, dtype={dtype_text(out.dtype)})")
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
    names = dict(r=r, P=p_text, A=a_text, k=em.fresh("k"), kk=em.fresh("kk"), lg=em.fresh("lg"),
                 pc=em.fresh("pc"), base=em.fresh("base"), i=em.fresh("i"), K=k_text,
                 cube=str(m ** 3), sq=str(rows * m * m),
                 step_r="np.dot({r}, {base})" if side == "right" else "np.dot({base}, {r})")
    names["step"] = names["step_r"].format(**names)
    names["chain"] = (f"np.dot({r}, {names['base']})" if side == "right" else f"np.dot({names['base']}, {r})")
    _lines(em, _POWER, **names)


_POWER = """
{r} = np.ascontiguousarray({P}).copy()
{base} = np.ascontiguousarray({A})
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
            {base} = np.dot({base}, {base})
else:
    for {i} in range({k}):
        {r} = {chain}
"""
