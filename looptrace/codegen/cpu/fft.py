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
import os
import threading

import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.errors import UnsupportedError

from .target import TARGET

def _parts(which: str, op) -> tuple[str, int | None, str, float | None]:
    """NumPy's function computing the op, its `n` (its padding; None: the
    input's length), its `norm` where one gives the op's scale, and the
    factor applied after the call where none does (else None)."""
    a = op.attrs
    inverse = which == "irfft" or a.get("inverse", False)
    fname = {"fft": "ifft" if inverse else "fft", "rfft": "rfft", "irfft": "irfft"}[which]
    n = a.get("n") or op.inputs[0].shape[-1]
    # the norm whose factor on this direction is `scale` (unscaled: backward forward, forward inverse)
    scale = a.get("scale", 1.0)
    norms = {1.0: "forward" if inverse else "backward", 1.0 / n: "backward" if inverse else "forward",
             1.0 / math.sqrt(n): "ortho"}
    norm = norms.get(scale)
    return fname, a.get("n") or None, norm or norms[1.0], None if norm is not None else scale


def _call(which: str, src: str, op) -> str:
    """NumPy's call computing the op: its padding is NumPy's `n`, its scale
    NumPy's `norm` where one gives it (else a product inside the block)."""
    fname, n, norm, factor = _parts(which, op)
    length = f", n={n}" if n else ""
    call = f"np.fft.{fname}({src}{length}, axis=-1, norm='{norm}')"
    return call if factor is None else f"{call} * {factor!r}"


def _spec(which: str, src: str, op) -> str:
    """The op as an argument of `side_by_side`: (function, input, n, norm, factor, dtype)."""
    fname, n, norm, factor = _parts(which, op)
    return f"(np.fft.{fname}, {src}, {n!r}, '{norm}', {factor!r}, np.{np.dtype(op.out.dtype).name})"


# --- transforms side by side ---
# NumPy's pocketfft releases the GIL, so transforms that do not read each
# other's results run at once on a machine with more than one core: the two
# forward transforms of an FFT convolution (corpus fft_convolve, 2^20
# points: 33.9 ms one after the other, 18.3 ms side by side on 2 cores). The
# kernel computes consecutive such transforms in one object-mode block
# (Emitter.object_mode's `together`), which calls `side_by_side`.
# Below this many points (the transform's length, padded, times its batch) a
# transform runs in turn: handing one to the pool costs ~20 us here, an
# rfft of 2^13 points 44 us, of 2^15 430 us.
SIDE_BY_SIDE_MIN = 1 << 15


def _points(op) -> int:
    shape = op.inputs[0].shape
    if not all(isinstance(d, int) for d in shape):
        return 0
    n = op.attrs.get("n") or (shape[-1] if shape else 1)
    return math.prod(shape[:-1]) * n


_pool = None
_pool_pid = -1
_pool_lock = threading.Lock()


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _executor():
    """A thread pool of this process (made again in a forked child, which
    inherits no threads), or None on one core."""
    global _pool, _pool_pid
    if _cores() < 2:
        return None
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            from concurrent.futures import ThreadPoolExecutor

            _pool, _pool_pid = ThreadPoolExecutor(max_workers=_cores() - 1, thread_name_prefix="looptrace-fft"), \
                os.getpid()
        return _pool


def _one(spec):
    fn, x, n, norm, factor, dtype = spec
    y = fn(x, n=n, axis=-1, norm=norm)
    return np.ascontiguousarray(y if factor is None else y * factor, dtype=dtype)


def side_by_side(*specs) -> tuple:
    """Each transform (`_spec`) computed, the first on this thread and the
    others at the same time on the pool's; their results in order (an
    exception raised by one is raised here, after all have finished)."""
    pool = _executor()
    if pool is None:
        return tuple(_one(s) for s in specs)
    rest = [pool.submit(_one, s) for s in specs[1:]]
    try:
        first = _one(specs[0])
    finally:
        done = [f.exception() for f in rest]  # wait for all of them, whatever happened here
    for err in done:
        if err is not None:
            raise err
    return (first, *(f.result() for f in rest))
_USER_NAMES = {"fft": "np.fft.fft/ifft", "rfft": "np.fft.rfft", "irfft": "np.fft.irfft"}


def _lower(which: str):
    def lower(em, op) -> None:
        x, v = op.inputs[0], op.out
        if em.depth > 1 and _enclosed_by_prange(em):
            raise UnsupportedError(f"{_USER_NAMES[which]} inside a parallel loop is not supported by the "
                                   "cpu backend", op.loc, "use backend='interpret', or parallel=False")
        big = _points(op) >= SIDE_BY_SIDE_MIN
        em.object_mode(v, _call(which, em.name(x), op), together=_spec(which, em.name(x), op) if big else None)

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
