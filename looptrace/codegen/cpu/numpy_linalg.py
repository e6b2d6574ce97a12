"""NumPy's own batched linear algebra, called from a kernel in object mode.

A batch of small matrices factored at a kernel's top level (a vectorized
`np.linalg.solve(A, b)` over (20000, 3, 3), or a loop of per-matrix calls the
vectorizer batched) ran Numba's np.linalg on each matrix in turn: 0.45-0.87x
NumPy's batched gufuncs (20000 3x3: solve 15.6 vs 7.0 ms, det 9.9 vs 5.1,
svd 143 vs 99, eigvalsh 42 vs 31). Numba's wrappers allocate and check per
call, and have no svd without vectors, which np.linalg.norm(a, 2) needs. So
at the top level, for a batch of at least MIN_BATCH matrices, for work of
at least MIN_WORK (one large matrix) and for svdvals of any matrix worth
it, the kernel leaves nopython mode once and calls NumPy, whose result is packed as the primitive defines it
(ops/decomp.py, ops/factorizations.py). Inside a loop, and for one small
matrix, lapack.py's per-matrix helpers stay; float64 solve, inv and det of
order <= 4 run lapack.py's own LU loops wherever they are (decomp.py
`_small`). NumPy raises LinAlgError with
its own messages, as the plain function does; the kernel's runner reports it
(kernel.py).
"""
from __future__ import annotations

import numpy as np

MIN_BATCH = 64  # matrices; fewer: entering object mode (a few us) costs more than it saves
MIN_SVDVALS = 32 * 32  # elements of one matrix whose singular values alone are worth NumPy's call
# batch * rows * cols * min(rows, cols) from which a factorization goes to NumPy whatever the batch:
# entering object mode is then a few percent at most, and NumPy's LAPACK runs on NumPy's OpenBLAS
# threads. Numba's wrappers call SciPy's, another thread pool: right after NumPy's own calls its
# threads spin beside ours (codegen/cpu/blas.py), and npbench's cholesky2 (one 1000 x 1000
# matrix) ran at 0.23-1.27x NumPy between runs.
MIN_WORK = 1 << 20


# --- the packed results (the input is a C-contiguous (batch, rows, cols) array) ---------------------
def solve(a, b):
    return np.linalg.solve(a, b)


def inv(a):
    return np.linalg.inv(a)


def det(a):
    return np.linalg.det(a)


def cholesky(a):
    return np.linalg.cholesky(a)


def slogdet(a):
    sign, logabs = np.linalg.slogdet(a)
    return np.stack([sign, logabs], axis=-1)


def eigh(a):
    w, v = np.linalg.eigh(a)
    return np.concatenate([w[:, None, :], v], axis=1)


def eigvalsh(a):
    return np.linalg.eigvalsh(a)


def svd(a, full, width):
    u, s, vh = np.linalg.svd(a, full_matrices=full)
    rows = a.shape[1]
    out = np.zeros((a.shape[0], rows + 1 + vh.shape[1], width), dtype=a.dtype)
    out[:, :rows, :u.shape[2]] = u
    out[:, rows, :s.shape[1]] = s
    out[:, rows + 1:, :vh.shape[2]] = vh
    return out


def svdvals(a):
    return np.linalg.svd(a, compute_uv=False)


def qr(a, complete, width):
    q, r = np.linalg.qr(a, mode="complete" if complete else "reduced")
    rows = a.shape[1]
    out = np.zeros((a.shape[0], rows + r.shape[1], width), dtype=a.dtype)
    out[:, :rows, :q.shape[2]] = q
    out[:, rows:, :r.shape[2]] = r
    return out


def pinv(a, rcond):
    return np.linalg.pinv(a, rcond=rcond)


# --- the emitter's side ---------------------------------------------------------------------------
def emit_call(em, op, name: str, mats: list[str], extra: tuple = ()) -> bool:
    """Emit `name`'s NumPy call in object mode for op, if it is one for it
    (the kernel's top level, static shapes, a batch worth it); True when
    emitted. `mats`: the operands as (batch, rows, cols) arrays."""
    a, v = op.inputs[0], op.out
    shapes = [tuple(x.shape) for x in (*op.inputs, v)]
    if em.depth != 1 or not all(isinstance(d, (int, np.integer)) for s in shapes for d in s):
        return False
    batch = int(np.prod(a.shape[:-2], dtype=np.int64))
    rows, cols = int(a.shape[-2]), int(a.shape[-1])
    if batch < MIN_BATCH and batch * rows * cols * min(rows, cols) < MIN_WORK \
            and not (name == "svdvals" and rows * cols >= MIN_SVDVALS):
        return False
    if any(np.prod(s, dtype=np.int64) == 0 for s in shapes):
        return False  # empty matrices: the helpers' own rules
    if name in ("svd", "qr"):
        extra = (*extra, str(int(v.shape[-1])))
    shape = "(" + "".join(f"{int(d)}, " for d in v.shape) + ")"
    em.object_mode(v, f"nplinalg.{name}({', '.join([*mats, *extra])}).reshape({shape})")
    return True
