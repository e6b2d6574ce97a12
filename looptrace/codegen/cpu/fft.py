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

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from .target import TARGET

_CALLS = {
    "fft": lambda src, op: f"np.fft.ifft({src}, axis=-1, norm='forward')" if op.attrs["inverse"]
    else f"np.fft.fft({src}, axis=-1)",
    "rfft": lambda src, op: f"np.fft.rfft({src}, axis=-1)",
    "irfft": lambda src, op: f"np.fft.irfft({src}, n={op.attrs['n']}, axis=-1, norm='forward')",
}
_USER_NAMES = {"fft": "np.fft.fft/ifft", "rfft": "np.fft.rfft", "irfft": "np.fft.irfft"}


def _lower(which: str):
    def lower(em, op) -> None:
        x, v = op.inputs[0], op.out
        if em.depth > 1 and _enclosed_by_prange(em):
            raise UnsupportedError(f"{_USER_NAMES[which]} inside a parallel loop is not supported by the "
                                   "cpu backend", op.loc, "use backend='interpret', or parallel=False")
        em.object_mode(v, _CALLS[which](em.name(x), op))

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
