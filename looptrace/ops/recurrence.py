"""Linear recurrences that need no loop: a first-order linear recurrence as a parallel
prefix scan, and a matrix product chain by repeated squaring.

linear_scan(A, B, h0) -> H
    h0: s; A, B broadcast (NumPy's rule) to (T, *s), all of one dtype (float,
    or integer: np.cumsum of ints, exact, wrapping on overflow as NumPy does);
    T is the leading axis of the broadcast, so a coefficient that is the same
    at every step (of rank <= len(s), a constant) needs no time axis, but one
    of A and B must have it unless T == 1. H[t] = A[t] * H[t-1] + B[t] with
    H[-1] = h0 (elementwise), so H has shape (T, *s) and H[T-1] is the final
    carry. With history=False only the final carry is returned (shape s; h0
    when T == 0), and the CPU kernel stores no history. Every affine map h -> a*h + b composes associatively:
    (a2, b2) o (a1, b1) = (a2*a1, a2*b1 + b2), so the T maps are combined by
    an odd-even (Blelloch-style) reduction: pair neighbours, solve the half-size
    problem recursively, fill in the even positions. That is O(T) work in
    O(log T) whole-array NumPy passes (the interpreter's impl); the CPU kernel
    (codegen/cpu/recurrence.py) runs the plain loop over the stacked coefficients,
    or with enough threads a prange over blocks of the state, or on request a
    blocked reduce-then-scan over chunks of time.

matrix_power_apply(P0, A, n, side="right"|"left", batch_dims=0) -> P
    P = P0 @ A^n (side "right") or A^n @ P0 ("left"), n an integer scalar read
    at run time (n <= 0 gives P0), by binary exponentiation: O(log n) products
    instead of n. When repeated squaring costs more multiply-adds than the
    chain (a vector P0 and a small n), the chain itself runs, in its order.
    The leading `batch_dims` axes of P0, A (and n, when it is not a scalar)
    are a batch.

Error bounds (u = unit roundoff, 2^-53 in float64, 2^-24 in float32;
gamma_k = k*u / (1 - k*u)):
- linear_scan: the result is the same sum of terms
      H[t] = sum_{s=-1..t} (prod_{r=s+1..t} A[r]) * B[s]      (B[-1] := h0)
  grouped differently. The sequential loop puts each term through up to 2(t+1)
  roundings: |H_loop[t] - H[t]| <= gamma_{2(t+1)} * sum_s |prod A| |B[s]|.
  The odd-even scan with d = ceil(log2(T)) levels puts each term through at
  most 2 roundings per level on the way down (the pair composition, one
  multiply and one add), 2 per level on the way up (the fill-in of even
  positions) and 2 per step of the sequential base (fewer than
  SEQUENTIAL_BELOW = 16 steps): to first order
      |H_scan[t] - H[t]| <= gamma_{4d + 32} * sum_s |prod A| |B[s]|,
  O(log T) u against the loop's O(T) u (for T = 10^6: gamma_112 against
  gamma_2000000). A wide state (>= 8 elements) runs in blocks of L = 64
  steps: 2L roundings inside a block, 2 for the fix-up, plus the scan of the
  T/L block ends: gamma_{(2L + 2) ceil(log_L T) + 32} (for T = 10^6: gamma_428).
  The CPU kernel runs the loop itself (the same roundings)
  unless a parallel variant is chosen: state blocks are the loop per element;
  time chunks of L steps in c chunks give gamma_{2(L + c)}. Both bounds are
  relative to the sum of |terms|: tight when |A| <= 1 and the terms do not
  cancel, loose otherwise (for the loop as much as for the scan).
- matrix_power_apply: with m the contracted size, the chain gives
  |fl(P0 A^n) - P0 A^n| <= n * gamma_m * |P0| |A|^n (componentwise, to first
  order); repeated squaring is a product tree of depth
  D = floor(log2 n) + popcount(n) <= 2 floor(log2 n) + 1 (the squarings,
  then one product per set bit): |fl - exact| <= D * gamma_m * |P0| |A|^n
  (for n = 10^6: D = 26 against 10^6).
  Both are relative to |P0| |A|^n: tight for nonnegative matrices, loose when
  the powers cancel (then the loop and the squaring differ from the exact
  power, and from each other, by that much).

Invariant: each primitive is defined once here with its shape rule, NumPy
implementation, batching rule, VJP rule and CPU lowering (the interpreter and
the CPU kernel agree to the bounds above).
"""
from __future__ import annotations

import numpy as np

from looptrace.ir.primitive import Primitive, ShapeMismatch, register

from .shape_arith import broadcast_shapes, fmt

SEQUENTIAL_BELOW = 16  # steps: below this the odd-even recursion stops and loops


# --- linear_scan: shape rule and NumPy implementation ------------------------------------------
def scan_shape(a_shape: tuple, b_shape: tuple, state: tuple) -> tuple:
    """(T, *state): A and B broadcast with (1, *state); the state may not grow."""
    state = tuple(state)
    try:
        full = broadcast_shapes(tuple(a_shape), tuple(b_shape), (1, *state))
    except ShapeMismatch:
        full = None
    if full is None or tuple(full[1:]) != state:
        raise ShapeMismatch(f"linear_scan needs A and B that broadcast to (T, *h0.shape); got A "
                            f"{fmt(a_shape)}, B {fmt(b_shape)}, h0 {fmt(state)}")
    return full


def _linear_abstract(a, b, h0, *, history: bool = True):
    if not (a.dtype == b.dtype == h0.dtype) or np.dtype(a.dtype).kind not in "fciu":
        raise ShapeMismatch(f"linear_scan needs one numeric dtype, got {a.dtype}, {b.dtype}, {h0.dtype}")
    full = scan_shape(a.shape, b.shape, h0.shape)
    return [(a.dtype, full if history else tuple(h0.shape))]


def linear_scan_impl(a, b, h0, *, history: bool = True) -> np.ndarray:
    """H[t] = a[t] * H[t-1] + b[t], H[-1] = h0, by odd-even reduction (a
    wide state: by blocks of BLOCK steps); H, or with history=False H[T-1]."""
    a, b, h0 = np.asarray(a), np.asarray(b), np.asarray(h0)
    full = scan_shape(a.shape, b.shape, h0.shape)
    if full[0] == 0:
        return np.empty(full, a.dtype) if history else h0.copy()
    a, b = np.broadcast_to(a, full), np.broadcast_to(b, full)
    running = _running(a, b, h0)
    if running is not None:
        return running if history else running[-1].copy()
    wide = h0.size >= WIDE_STATE and full[0] >= BLOCKED_FROM
    out = _blocked(a, b, h0) if wide else _odd_even(a, b, h0)
    return out if history else out[-1].copy()


def _running(a: np.ndarray, b: np.ndarray, h0: np.ndarray) -> np.ndarray | None:
    """A scan whose A is all ones (np.cumsum's) or whose B adds exactly
    (all zero, and -0.0 in floats: np.cumprod's) as NumPy's own running
    sum or product from h0, in the loop's order: the same numbers as the
    sequential loop, to the sign of a zero, which the odd-even grouping
    loses (a pair's B, a1 * -0.0 + -0.0, is +0.0 for a negative a1); None
    for any other scan."""
    if np.all(a == 1):
        return np.add.accumulate(np.concatenate([h0[None].astype(b.dtype), b]), axis=0, dtype=b.dtype)[1:]
    if np.all(b == 0) and (b.dtype.kind not in "fc" or np.all(np.signbit(b.real))
                           and (b.dtype.kind == "f" or np.all(np.signbit(b.imag)))):
        if np.all(h0 == 1):  # (x[0] itself first: a complex 1 * (-0.0 - 0.0j) is +0.0 - 0.0j)
            return np.multiply.accumulate(a, axis=0, dtype=a.dtype)
        return np.multiply.accumulate(np.concatenate([h0[None].astype(a.dtype), a]), axis=0, dtype=a.dtype)[1:]
    return None


# From these sizes on the blocked scan beats the odd-even one (measured on 2
# cores: T=1e5 x 16 47 vs 63 ms, x 256 0.59 vs 0.88 s; T=1e3 x 16 0.37 vs 0.16 ms)
BLOCK = 64  # steps per block
WIDE_STATE = 8  # state elements
BLOCKED_FROM = 4096  # steps


def _blocked(a: np.ndarray, b: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """Blocks of BLOCK steps, all blocks at once: each scans from zero while
    its maps compose (P), the blocks' end states are one shorter scan, then
    H += P * (state entering the block). The last partial block steps alone."""
    steps, state = a.shape[0], a.shape[1:]
    k = steps // BLOCK
    if k < 2:
        return _odd_even(a, b, h0)
    a2, b2 = a[:k * BLOCK].reshape(k, BLOCK, *state), b[:k * BLOCK].reshape(k, BLOCK, *state)
    local = np.empty((k, BLOCK, *state), a.dtype)
    maps = np.empty((k, BLOCK, *state), a.dtype)
    h = local[:, 0] = b2[:, 0]
    p = maps[:, 0] = a2[:, 0]
    for j in range(1, BLOCK):
        h = local[:, j] = a2[:, j] * h + b2[:, j]
        p = maps[:, j] = a2[:, j] * p
    ends = _blocked(maps[:, -1], local[:, -1], h0)
    entering = np.concatenate([h0[None], ends[:-1]])
    local += maps * entering[:, None]
    out = np.empty(a.shape, a.dtype)
    out[:k * BLOCK] = local.reshape(k * BLOCK, *state)
    h = out[k * BLOCK - 1]
    for t in range(k * BLOCK, steps):
        h = out[t] = a[t] * h + b[t]
    return out


def _odd_even(a: np.ndarray, b: np.ndarray, h0: np.ndarray) -> np.ndarray:
    """One level: compose pairs (2k, 2k+1), solve the half problem for the odd
    positions, then each even position is one step from the odd one before."""
    n = a.shape[0]
    if n < SEQUENTIAL_BELOW:
        return _sequential(a, b, h0)
    half = n // 2
    a0, a1 = a[0:2 * half:2], a[1:2 * half:2]
    pair_a = a1 * a0
    pair_b = a1 * b[0:2 * half:2] + b[1:2 * half:2]
    out = np.empty(a.shape, a.dtype)
    out[1:2 * half:2] = _odd_even(pair_a, pair_b, h0)
    out[0] = a[0] * h0 + b[0]
    out[2::2] = a[2::2] * out[1:n - 1:2] + b[2::2]
    return out


def _sequential(a: np.ndarray, b: np.ndarray, h0: np.ndarray) -> np.ndarray:
    out = np.empty(a.shape, a.dtype)
    h = h0
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        out[t] = h
    return out


linear_scan = register(Primitive("linear_scan", "recurrence", _linear_abstract, linear_scan_impl,
                                 fresh=True, doc="H[t] = A[t] * H[t-1] + B[t] from H[-1] = h0, as a prefix scan"))


# --- matrix_power_apply: shape rule and NumPy implementation ---------------------------------------
def _power_abstract(p0, a, n, *, side: str = "right", batch_dims: int = 0):
    bd = batch_dims
    batch = tuple(p0.shape[:bd])
    core_p, core_a = tuple(p0.shape[bd:]), tuple(a.shape[bd:])
    if side not in ("right", "left"):
        raise ShapeMismatch(f"matrix_power_apply: side must be 'right' or 'left', not {side!r}")
    if len(core_a) != 2 or core_a[0] != core_a[1] or tuple(a.shape[:bd]) != batch:
        raise ShapeMismatch(f"matrix_power_apply needs square matrices A, got {fmt(a.shape)}")
    m = core_a[0]
    fits = len(core_p) in (1, 2) and (core_p[-1] if side == "right" else core_p[0]) == m
    if not fits:
        raise ShapeMismatch(f"matrix_power_apply: P0 {fmt(p0.shape)} does not fit A {fmt(a.shape)} ({side})")
    if tuple(n.shape) not in ((), batch) or np.dtype(n.dtype).kind not in "iu":
        raise ShapeMismatch(f"matrix_power_apply needs an integer count of shape () or {fmt(batch)}")
    if p0.dtype != a.dtype or np.dtype(a.dtype).kind not in "fc":
        raise ShapeMismatch(f"matrix_power_apply needs one float dtype, got {p0.dtype} and {a.dtype}")
    return [(p0.dtype, tuple(p0.shape))]


def squaring_pays(n: int, rows: int, m: int) -> bool:
    """Does P0 @ A^n by squaring take fewer multiply-adds than the chain?
    (P0 has `rows` rows of length m.)"""
    if n < 2:
        return False
    squarings = n.bit_length() - 1
    return squarings * m ** 3 + n.bit_count() * rows * m * m < n * rows * m * m


def matrix_power_apply_impl(p0, a, n, *, side: str = "right", batch_dims: int = 0) -> np.ndarray:
    p0, a, n = np.asarray(p0), np.asarray(a), np.asarray(n)
    if n.ndim:  # one count per batch member
        out = np.empty(p0.shape, p0.dtype)
        for idx in np.ndindex(*n.shape):
            out[idx] = _power_one(p0[idx], a[idx], int(n[idx]), side, 0)
        return out
    return _power_one(p0, a, int(n), side, batch_dims)


def _power_one(p0: np.ndarray, a: np.ndarray, n: int, side: str, bd: int) -> np.ndarray:
    vector = p0.ndim - bd == 1
    p = p0[..., None, :] if vector and side == "right" else p0[..., None] if vector else p0
    m = a.shape[-1]
    rows = p.shape[-2] if side == "right" else p.shape[-1]

    def mul(x, y):
        return x @ y if side == "right" else y @ x

    if squaring_pays(n, rows, m):
        base, k = a, n
        while k > 0:
            if k & 1:
                p = mul(p, base)
            k >>= 1
            if k:
                base = base @ base
    else:
        for _ in range(max(n, 0)):
            p = mul(p, a)
    p = p[..., 0, :] if vector and side == "right" else p[..., 0] if vector else p
    return np.array(p, dtype=p0.dtype, copy=True)


matrix_power_apply = register(Primitive("matrix_power_apply", "recurrence", _power_abstract, matrix_power_apply_impl,
                                        fresh=True, doc="P0 @ A^n (or A^n @ P0) by repeated squaring"))


# --- batching rules -----------------------------------------------------------------------------
def _linear_batch(b, args, dims, *, history: bool = True):
    """The scan runs over time (axis 0), so the batch goes to axis 1 of the
    coefficients; one without a time axis broadcasts as it is."""
    from looptrace.ops.batching_helpers import axis_size, base_shape, bcast, move_axis

    n = axis_size(b, args, dims)
    a, bb, h0 = args
    rank = 1 + len(base_shape(h0, dims[2]))
    coefs = [_batched_coef(b, x, d, rank, move_axis) for x, d in ((a, dims[0]), (bb, dims[1]))]
    h = b.op(linear_scan, *coefs, bcast(b, h0, dims[2], n), history=history)
    return [move_axis(b, h, 1, 0) if history else h], [0]


def _batched_coef(b, x, d, rank: int, move_axis):
    """A coefficient laid out as (T, batch, *s) for broadcasting."""
    from looptrace.ops.batching_helpers import expand_to_rank

    if d is None:
        if len(x.shape) < rank:
            return x  # the same at every step and batch member
        return b.op("reshape", x, shape=(x.shape[0], 1, *x.shape[1:]))
    return move_axis(b, expand_to_rank(b, x, rank), 0, 1)


def _power_batch(b, args, dims, *, side: str, batch_dims: int = 0):
    """One more leading batch axis; a batched count is one count per member."""
    from looptrace.ops.batching_helpers import axis_size, bcast

    size = axis_size(b, args, dims)
    p0, a, count = args
    p0, a = bcast(b, p0, dims[0], size), bcast(b, a, dims[1], size)
    if dims[2] is not None or count.shape != ():
        count = bcast(b, count, dims[2], size)
    return [b.op(matrix_power_apply, p0, a, count, side=side, batch_dims=batch_dims + 1)], [0]


linear_scan.batch = _linear_batch
matrix_power_apply.batch = _power_batch


# --- VJP rules --------------------------------------------------------------------------------------
# linear_scan: the adjoint L[t] = G[t] + A[t+1] * L[t+1] is the same recurrence
# run backwards, so it is one more linear_scan over reversed operands; then
# dB = L, dA[t] = L[t] * H[t-1], dh0 = A[0] * L[0].
def _linear_vjp(b, op, g, wanted):
    from looptrace.ops.vjp_helpers import unbroadcast

    a, bb, h0 = op.inputs
    full = scan_shape(a.shape, bb.shape, h0.shape)
    t = full[0]
    if t == 0:
        zeros = [b.zeros_like(v) if w else None for v, w in zip(op.inputs, wanted)]
        return zeros if op.attrs.get("history", True) else zeros[:2] + [g if wanted[2] else None]
    hist = op.out
    if not op.attrs.get("history", True):  # the history is recomputed; g is the last row's cotangent
        hist = b.emit("linear_scan", a, bb, h0, history=True)
        g = b.emit("concatenate", b.zeros((t - 1, *h0.shape), g.dtype), b.reshape(g, (1, *h0.shape)), axis=0)
    a_full = a if tuple(a.shape) == full else b.emit("broadcast_to", a, shape=full)
    lam = _reverse_scan(b, a_full, g, h0)
    d_a = None
    if wanted[0]:
        prev = b.emit("slice", hist, starts=(0,), stops=(t - 1,), steps=(1,))
        prev = b.emit("concatenate", b.reshape(h0, (1, *h0.shape)), prev, axis=0)
        d_a = unbroadcast(b, b.mul(lam, prev), a)
    d_h0 = None
    if wanted[2]:
        first = b.emit("slice", lam, starts=(0,), stops=(1,), steps=(1,))
        a0 = b.emit("slice", a_full, starts=(0,), stops=(1,), steps=(1,))
        d_h0 = b.reshape(b.mul(a0, first), tuple(h0.shape))
    return [d_a, unbroadcast(b, lam, bb) if wanted[1] else None, d_h0]


def _reverse_scan(b, a, g, h0):
    """L with L[T-1] = G[T-1], L[t] = G[t] + A[t+1] * L[t+1]."""
    t = a.shape[0]
    head = b.emit("slice", a, starts=(0,), stops=(1,), steps=(1,))  # multiplies the zero start
    tail = b.emit("slice", a, starts=(t - 1,), stops=(0,), steps=(-1,))
    a_rev = b.emit("concatenate", head, tail, axis=0)
    g_rev = b.emit("slice", g, starts=(t - 1,), stops=(-1,), steps=(-1,))
    lam_rev = b.emit("linear_scan", a_rev, g_rev, b.zeros_like(h0))
    return b.emit("slice", lam_rev, starts=(t - 1,), stops=(-1,), steps=(-1,))


# matrix_power_apply: d(P0 X)/dP0 is G X^T = G (A^T)^n (side right) and
# X^T G (side left); dA = sum_k (A^T)^k E (A^T)^(n-1-k) with E = P0^T G (right)
# or G P0^T (left): the upper right block of [[A^T, E], [0, A^T]]^n, itself
# one matrix_power_apply of twice the size (O(log n) products, no loop).
def _power_vjp(b, op, g, wanted):
    p0, a, count = op.inputs
    side, bd = op.attrs["side"], op.attrs.get("batch_dims", 0)
    a_t = _swap_last(b, a, bd)
    d_p0 = b.emit("matrix_power_apply", g, a_t, count, side=side, batch_dims=bd) if wanted[0] else None
    d_a = _power_vjp_a(b, p0, a_t, count, g, side, bd) if wanted[1] else None
    return [d_p0, d_a, None]


def _swap_last(b, x, bd: int):
    perm = tuple(range(bd)) + (bd + 1, bd)
    return b.emit("transpose", x, perm=perm)


def _power_vjp_a(b, p0, a_t, count, g, side: str, bd: int):
    batch = tuple(a_t.shape[:bd])
    m = a_t.shape[-1]
    letters = "ZYXWVUTS"[:bd]
    vector = p0.ndim - bd == 1
    if vector:
        spec = f"{letters}i,{letters}j->{letters}ij"
    else:
        spec = f"{letters}pi,{letters}pj->{letters}ij" if side == "right" else f"{letters}ip,{letters}jp->{letters}ij"
    e = b.emit("einsum", p0, g, spec=spec) if side == "right" else b.emit("einsum", g, p0, spec=spec)
    zero = b.zeros((*batch, m, m), a_t.dtype)
    top = b.emit("concatenate", a_t, e, axis=bd + 1)
    bottom = b.emit("concatenate", zero, a_t, axis=bd + 1)
    big = b.emit("concatenate", top, bottom, axis=bd)
    pick = np.concatenate([np.eye(m), np.zeros((m, m))], axis=1).astype(a_t.dtype)
    pick = b.emit("broadcast_to", b.lit(pick, a_t), shape=(*batch, m, 2 * m))
    block = b.emit("matrix_power_apply", pick, big, count, side="right", batch_dims=bd)
    return b.emit("slice", block, starts=(0,) * (bd + 1) + (m,), stops=(*batch, m, 2 * m),
                  steps=(1,) * (bd + 2))


linear_scan.vjp = _linear_vjp
matrix_power_apply.vjp = _power_vjp
