"""CPU rules of fft, rfft and irfft (ops/fft.py): NumPy's pocketfft, called
from the kernel in a `numba.objmode` block.

Numba has no FFT, and no loop of ours would match pocketfft's, so the kernel
leaves nopython mode for the call, as sort.py does for big sorts (entering
object mode costs a few microseconds; the vectorizer batches a transform per
iteration into one call over all iterations, so that cost is paid once).
Object mode is legal at the top level and inside serial loops (a scan whose
step transforms its state); inside a `numba.prange` loop Numba cannot lower
it, so such an op raises UnsupportedError at compile time naming np.fft and
the user's line. The planner only puts prange on fused loop nests, which
never hold a statement like this one, so that error is a guard.
"""
from __future__ import annotations

import math

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from .target import TARGET

def _call(which: str, src: str, op) -> str:
    """NumPy's call computing the op: its padding is NumPy's `n`, its scale
    NumPy's `norm` where one gives it (else a product inside the block)."""
    a = op.attrs
    inverse = which == "irfft" or a.get("inverse", False)
    fname = {"fft": "ifft" if inverse else "fft", "rfft": "rfft", "irfft": "irfft"}[which]
    n = a.get("n") or op.inputs[0].shape[-1]
    length = f", n={a['n']}" if a.get("n") else ""
    # the norm whose factor on this direction is `scale` (unscaled: backward forward, forward inverse)
    scale = a.get("scale", 1.0)
    norms = {1.0: "forward" if inverse else "backward", 1.0 / n: "backward" if inverse else "forward",
             1.0 / math.sqrt(n): "ortho"}
    norm = norms.get(scale)
    call = f"np.fft.{fname}({src}{length}, axis=-1, norm='{norm or norms[1.0]}')"
    return call if norm is not None else f"{call} * {scale!r}"
_USER_NAMES = {"fft": "np.fft.fft/ifft", "rfft": "np.fft.rfft", "irfft": "np.fft.irfft"}


def _lower(which: str):
    def lower(em, op) -> None:
        x, v = op.inputs[0], op.out
        if em.depth > 1 and _enclosed_by_prange(em):
            raise UnsupportedError(f"{_USER_NAMES[which]} inside a parallel loop is not supported by the "
                                   "cpu backend", op.loc, "use backend='interpret', or parallel=False")
        em.object_mode(v, _call(which, em.name(x), op))

    return lower


def _enclosed_by_prange(em) -> bool:
    """Does a `numba.prange` loop enclose the current emission point? Walks
    the emitted lines back, keeping the headers of the blocks still open."""
    depth = em.depth
    for line in reversed(em.lines):
        stripped = line.lstrip()
        level = (len(line) - len(stripped)) // 4
        if stripped and level < depth:
            if stripped.startswith("for ") and "numba.prange(" in stripped:
                return True
            depth = level
            if depth <= 1:
                break
    return False


TARGET.register("fft", StatementRule(_lower("fft")))
TARGET.register("rfft", StatementRule(_lower("rfft")))
TARGET.register("irfft", StatementRule(_lower("irfft")))
