"""Small Numba helpers that generated kernels call (real Python, compiled by
Numba, each exercised by tests/codegen). Generated modules import them all
with `from looptrace.codegen.cpu.templates import *`.

Invariant: every helper is `@njit(cache=True)` with no global state, so a
kernel loaded from the disk cache links against the same code. The SIMD-able
math functions (`exp_f64`, `tanh_f32`, ...) live in codegen/mathlib.py, which
keeps the same invariant, and are re-exported here.
"""
from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir as llvmir
from numba.core import cgutils, types
from numba.extending import intrinsic, overload
from numba.np.random.generator_core import next_uint32, next_uint64
from numba.np.random.random_methods import random_interval  # NumPy's random_interval (permutation_draw)

from looptrace.codegen.cpu.mathlib import (
    atan2_f32,
    atan2_f64,
    cabs_c64,
    cabs_c128,
    cos_f32,
    exp_f32,
    exp_f64,
    expm1_f32,
    expm1_f64,
    log1p_f32,
    log1p_f64,
    log_f32,
    log_f64,
    powc_f32,
    sin_f32,
    tanh_f32,
    tanh_f64,
)
from looptrace.codegen.cpu.blas import dot, dot_into, dot_value  # NumPy's BLAS (blas.py)
from looptrace.codegen.cpu.malloc import data_address, hugepages  # NumPy's madvise of large arrays
from looptrace.codegen.cpu.mathlib import _inline_into_callers, no_gathers, pick, wide_vectors
from looptrace.codegen.cpu.fft import side_by_side  # transforms at once, in object mode (fft.py)
from looptrace.codegen.cpu import numpy_linalg as nplinalg  # NumPy's batched linalg, in object mode
from looptrace.codegen.cpu.nprules import gcd_int, lcm_int  # np.gcd, np.lcm (codegen/scalar_algorithms.py)
from looptrace.codegen.cpu.nprules import cdiv, cpow, csqrt, floordiv_f, floordiv_int, fmod_int, ipow, remainder_f, remainder_int, shl, shr, sign_f  # NumPy's element rules (nprules.py)
from looptrace.codegen.cpu.nprules import float_to_int32, float_to_int64, float_to_uint32, float_to_uint64, wrap_add, wrap_mul, wrap_neg, wrap_sub  # int64 that wraps (nprules.py)
from looptrace.codegen.cpu.lapack import cholesky_batch, det_batch, inv_batch, solve_batch
from looptrace.codegen.cpu.lapack import lu_small_batch
from looptrace.codegen.cpu.helper import empty as _empty, kernel_helper as _kernel_helper, nonneg, reshaped, zeroed as _zeroed  # (helper.py)
from looptrace.codegen.cpu.lapack import (eigh_batch, eigvalsh_batch, pinv_batch, qr_batch, slogdet_batch,
                                         svd_batch, svdvals_batch)
from looptrace.codegen.cpu.selection import (argselect_lane, argsort_range, argtopk_lane, select_lane,
                                             small_range_argsort, small_range_sort, topk_lane)
from looptrace.codegen.cpu.extrema import (arg_of_blocks, max_blocks, max_lanes, max_rows, min_blocks, min_lanes,
                                           min_rows)  # a long float max or min, argmax, argmin (extrema.py)
from looptrace.codegen.cpu.specialfn import digamma, math_erf, math_erfc, math_gamma, math_lgamma, trigamma
from looptrace.codegen.cpu.exact_sum import fsum_row  # math.fsum of a row (exact_sum.py)

__all__ = ["CheckFailed", "argsort_lane", "sort_lane", "check_elem", "check_int", "check_start", "exp_f32", "exp_f64", "expm1_f32", "expm1_f64",
           "log1p_f32", "log1p_f64", "log_f32", "log_f64", "max_nan", "min_nan", "np", "numba", "pick", "tanh_f32",
           "tanh_f64", "trip_count", "range_span", "dot", "dot_into", "dot_value", "cabs_c64", "cabs_c128", "atan2_f64", "lane_add", "lane_min", "lane_max", "nonneg",
           "kept_branch"]
__all__ += ["alloc", "zeros", "contiguous", "reshaped", "copied", "filled", "reserved", "min2", "max2", "normal_draws", "uniform_draws",
            "exponential_draws", "integer_draws", "permutation_draw",
            "normal_draw", "uniform_draw", "exponential_draw", "integer_draw", "check_integer_bounds"]  # from the disk cache, not compiled per kernel
__all__ += ["ShapeMiss", "same_shape", "apart"]  # the shapes a kernel was made for (emitter.kernel_source)
__all__ += ["float_to_int32", "float_to_int64", "float_to_uint32", "float_to_uint64"]  # a float to an int as NumPy casts it (nprules.py, scalar.convert_expr)
__all__ += ["blas_matrix", "unit_axes"]  # an operand as it is where its layout allows (contract.py, shape.py)
__all__ += ["wide_vectors", "no_gathers"]  # codegen/cpu/mathlib.py: vector code in the function it is called in
__all__ += ["atan2_f32", "cos_f32", "powc_f32", "sin_f32"]  # mathlib.py's float32 functions (scalar.py)
__all__ += ["argselect_lane", "argtopk_lane", "select_lane", "small_range_argsort", "small_range_sort",
            "topk_lane"]  # codegen/cpu/selection.py
__all__ += ["arg_of_blocks", "max_blocks", "max_lanes", "max_rows", "min_blocks", "min_lanes", "min_rows"]  # codegen/cpu/extrema.py
__all__ += ["fsum_row"]  # codegen/cpu/exact_sum.py
__all__ += ["max_nan_last", "min_nan_last"]  # a max or min fold keeping the last of ties (nest.py `fold_step`)
__all__ += ["cholesky_batch", "det_batch", "inv_batch", "solve_batch"]  # codegen/cpu/lapack.py
__all__ += ["lu_small_batch"]  # codegen/cpu/lapack.py
__all__ += ["eigh_batch", "eigvalsh_batch", "pinv_batch", "qr_batch", "slogdet_batch", "svd_batch",
            "svdvals_batch"]  # codegen/cpu/lapack.py
__all__ += ["nplinalg"]  # codegen/cpu/numpy_linalg.py
__all__ += ["side_by_side"]  # codegen/cpu/fft.py
__all__ += ["cdiv", "cpow", "csqrt", "floordiv_f", "floordiv_int", "fmod_int", "ipow", "remainder_f", "remainder_int", "shl", "shr", "sign_f"]  # codegen/cpu/nprules.py
__all__ += ["wrap_add", "wrap_mul", "wrap_neg", "wrap_sub"]  # codegen/cpu/nprules.py
__all__ += ["gcd_int", "lcm_int"]  # codegen/cpu/nprules.py (codegen/scalar_algorithms.py)
__all__ += ["digamma", "math_erf", "math_erfc", "math_gamma", "math_lgamma", "trigamma"]  # codegen/cpu/specialfn.py
from looptrace.codegen.cpu.mathlib import acos_f32, acos_f64, asin_f32, asin_f64, pow_f32, pow_f64, spow_f32, spow_f64  # noqa: E402
from looptrace.codegen.cpu.mathlib import pow3_f64, pow4_f64  # noqa: E402  (scalar.py exact_small_power)
from looptrace.codegen.cpu import mathlib_exp, mathlib_trig  # noqa: E402
from looptrace.codegen.cpu.mathlib_exp import *  # noqa: E402,F401,F403  (its __all__: the functions scalar.py calls)
from looptrace.codegen.cpu.mathlib_trig import *  # noqa: E402,F401,F403
__all__ += [*mathlib_exp.__all__, *mathlib_trig.__all__]
__all__ += ["acos_f32", "acos_f64", "asin_f32", "asin_f64", "pow_f32", "pow_f64", "spow_f32", "spow_f64"]  # mathlib.py (scalar.py)
__all__ += ["pow3_f64", "pow4_f64"]  # mathlib.py (scalar.py exact_small_power)
from looptrace.codegen.cpu.legacy_random import legacy_normal_draw, legacy_normal_draws, legacy_randint_draw, legacy_randint_draws, legacy_seed, legacy_uniform_draw, legacy_uniform_draws  # noqa: E402
__all__ += ["legacy_normal_draw", "legacy_normal_draws", "legacy_randint_draw", "legacy_randint_draws", "legacy_seed", "legacy_uniform_draw", "legacy_uniform_draws"]  # codegen/cpu/legacy_random.py
from looptrace.codegen.cpu.argext import argmax_cols, argmax_rows, argmin_cols, argmin_rows  # noqa: E402
__all__ += ["argmax_cols", "argmax_rows", "argmin_cols", "argmin_rows"]  # codegen/cpu/argext.py (reductions.py)
from looptrace.codegen.cpu.draws_discrete import binomial_draw, binomial_draws, poisson_draw, poisson_draws  # noqa: E402
__all__ += ["binomial_draw", "binomial_draws", "poisson_draw", "poisson_draws"]  # codegen/cpu/draws_discrete.py (random.py)
from looptrace.codegen.cpu import llvm_inlined  # noqa: E402
__all__ += ["llvm_inlined"]  # mathlib's inline="always" functions, called (llvm_inlined.py, kernel.py `llvm_inlined`)


class CheckFailed(Exception):
    """Raised by a kernel's `check` (looptrace/ops/check.py) with the code of
    the failure; the kernel's caller raises the user's exception instead."""


class ShapeMiss(Exception):
    """Raised by a kernel called with an argument of another shape than it
    was made for (`same_shape`): its caller takes the general path."""


# --- what a kernel would otherwise ask of Numba's NumPy ------------------------------------------
# A kernel makes its arrays (and its random draws, min and max) through these
# instead of writing np.empty & co.: Numba compiles its own implementations of
# those anew in every process for every kernel that uses them, 0.05-0.2 s per
# (function, rank, dtype) plus about 0.05 s for the array allocator (0.2-0.7 s
# of a kernel's first call in the corpus), while these come from the disk cache
# once compiled, as object code plus bitcode that LLVM still inlines.


@_kernel_helper
def alloc(shape, dtype):
    """np.empty(shape, dtype); a large one on huge pages, as NumPy's (malloc.py)."""
    out = _empty(shape, dtype)
    hugepages(data_address(out), out.nbytes)
    return out


@_kernel_helper
def zeros(shape, dtype):
    """np.zeros(shape, dtype), zeroed as NumPy's: calloc (helper.py `zeroed`),
    no fill loop over pages the OS gives zeroed."""
    return _zeroed(shape, dtype)


@_kernel_helper
def contiguous(a):
    """np.ascontiguousarray(a): a itself when it is C-contiguous, else a copy."""
    return np.ascontiguousarray(a)


def blas_matrix(a):
    """A 2-d operand of a BLAS product (contract.py): `a` itself where it is
    C- or F-contiguous by its type (blas.py passes an F one as transposed),
    else a C-contiguous copy. `contiguous` would copy an F one: X.T @ g in
    a loop, with X.T made once before it (logistic regression's gradient),
    copied X (20000 x 20) every iteration."""


@overload(blas_matrix)
def _ov_blas_matrix(a):
    if isinstance(a, types.Array) and a.layout in "CF":
        return lambda a: a
    return lambda a: np.ascontiguousarray(a)


def unit_axes(a, shape, view, root):
    """a, a view of the kernel's argument `root`, reshaped to `shape`, a
    change of unit axes only (shape.py): `view` (a[index], dropping and
    inserting those axes: a strided view) where root is not C-ordered by its
    type, else contiguous(a).reshape as any reshape (a C-typed view where a
    is contiguous: the loops reading it vectorize; a strided view of a
    C-ordered argument made some 8x slower). contiguous copied an F-ordered
    argument at every such reshape (numba-benchmark's centered difference on
    a Fortran array: three copies per call, 0.35x numba.njit)."""


@overload(unit_axes)
def _ov_unit_axes(a, shape, view, root):
    if isinstance(root, types.Array) and root.layout == "F" and root.ndim > 1:
        return lambda a, shape, view, root: view
    return lambda a, shape, view, root: reshaped(np.ascontiguousarray(a), shape)


@numba.njit(inline="always")
def cmul_c128(z, w):
    """z * w: scalar.py `_complex_product`'s call in a fastmath kernel (the
    operator, with the kernel's flags); other kernels call llvm_inlined.py's."""
    return z * w


@numba.njit(inline="always")
def cmul_c64(z, w):
    """z * w of complex64s (as cmul_c128)."""
    return z * w


__all__ += ["cmul_c128", "cmul_c64"]


@_kernel_helper
def copied(a):
    """a.copy(): a new C-contiguous array."""
    return a.copy()


@_kernel_helper
def reserved(a, count, extra):
    """ops/indexing.py `reserve`: a itself where it has room for `extra` rows
    after the first `count`, else a larger copy (twice the rows, or as many
    as needed) holding a's rows first."""
    need, cap = count + extra, a.shape[0]
    if need <= cap:
        return a
    out = np.zeros((max(2 * cap, need),) + a.shape[1:], a.dtype)  # (as ops/indexing.py's: the same bits)
    _copy_in_order(out.reshape(out.size), a)
    return out


def _copy_in_order(flat, a):
    """flat[:a.size] = a's elements in C order, element by element: the slice
    assignment `out[:cap] = a` it replaces made Numba compile its broadcast
    error message (str/repr/join of the shapes), ~5 of `reserved`'s ~7 s
    cold compile, paid once by every kernel that grows a list."""


@overload(_copy_in_order)
def _ov_copy_in_order(flat, a):
    if isinstance(a, types.Array) and a.layout == "C":  # an indexed loop over a's own flat view: vectorized
        def impl(flat, a):
            src = a.reshape(a.size)
            for k in range(src.size):
                flat[k] = src[k]
        return impl

    def impl_any(flat, a):
        k = 0
        for x in a.flat:
            flat[k] = x
            k += 1
    return impl_any


@_kernel_helper
def filled(shape, x):
    """np.full(shape, x)."""
    return np.full(shape, x)


@_kernel_helper
def same_shape(a, shape):
    """Raise ShapeMiss unless a.shape == shape: the first lines of a kernel,
    one per array argument (emitter.kernel_source), so that a warm call may
    go straight to the kernel with no shape test in Python (kernel.py
    `CpuKernel.front`). A kernel's loops are written for its arguments'
    shapes: it must not run on others."""
    if a.shape != shape:
        raise ShapeMiss()


@_kernel_helper
def apart(a, b):
    """Raise ShapeMiss where the memory of arrays a and b may overlap (their
    byte ranges meet, as np.may_share_memory decides by default): a kernel
    that writes into an argument tests it against each other array argument
    first (emitter.kernel_source), as the general path does before it runs
    (api.py `_check_aliasing`, which refuses such a call)."""
    if a.size == 0 or b.size == 0:
        return
    alo, ahi = _bytes_of(a)
    blo, bhi = _bytes_of(b)
    if alo < bhi and blo < ahi:
        raise ShapeMiss()


@_kernel_helper
def _bytes_of(a):
    """The addresses [lo, hi) of the bytes a non-empty array spans."""
    lo = hi = a.ctypes.data
    for k in range(a.ndim):
        step = (a.shape[k] - 1) * a.strides[k]
        if step < 0:
            lo += step
        else:
            hi += step
    return lo, hi + a.itemsize


@_kernel_helper
def min2(a, b):
    """min(a, b) of two numbers."""
    return b if b < a else a


@_kernel_helper
def max2(a, b):
    """max(a, b) of two numbers."""
    return b if b > a else a


@_kernel_helper
def normal_draws(gen, shape, dtype):
    """gen.standard_normal(shape, dtype=dtype) from the caller's np.random.Generator
    (Numba's generator methods were 0.7 s of gbm_rng's first call)."""
    return gen.standard_normal(shape, dtype=dtype)


@_kernel_helper
def uniform_draws(gen, shape, dtype):
    """gen.random(shape, dtype=dtype)."""
    return gen.random(shape, dtype=dtype)


@_kernel_helper
def exponential_draws(gen, shape, dtype):
    """gen.standard_exponential(shape, dtype=dtype)."""
    return gen.standard_exponential(shape, dtype=dtype)


@_kernel_helper
def permutation_draw(gen, n):
    """gen.permutation(n), as int64: NumPy's shuffle of arange(n) (the last
    element swapped with one drawn by random_interval, then the one before, ...),
    written as that loop because Numba's gen.permutation (shuffle of any rank
    through swapaxes) cost 11 s of Numba's compile, its shape errors' text
    included; the same draws, so the same values and final state."""
    out = np.empty(max(n, 0), np.int64)
    for i in range(out.size):
        out[i] = i
    for i in range(out.size - 1, 0, -1):
        j = np.int64(random_interval(gen.bit_generator, i))
        if j != i:
            out[i], out[j] = out[j], out[i]
    return out


@_kernel_helper
def integer_draws(gen, low, high, shape, dtype, endpoint):
    """gen.integers(low, high, shape, dtype, endpoint) for int64 low and high
    (checked first, `check_integer_bounds`), element by element as NumPy
    draws an array: `integer_draw`'s algorithm."""
    off, rng = _integer_range(low, high, endpoint)
    out = _empty(shape, dtype)
    flat = out.reshape(out.size)
    for i in range(out.size):
        flat[i] = dtype(off + _bounded_draw(gen, rng, dtype))
    return out


# --- one draw, no array -----------------------------------------------------------------------
# A scalar draw in a loop (a Gillespie step's `gen.random()`) was
# `uniform_draws(gen, (1,), dtype)[0]`: an array made per draw, 8-26x slower
# than numba.njit. Numba's scalar methods draw with NumPy's algorithms (the
# same values and final state as NumPy's, tests/codegen).
@_kernel_helper
def uniform_draw(gen, dtype):
    """gen.random(dtype=dtype)."""
    return gen.random(dtype=dtype)


@_kernel_helper
def normal_draw(gen, dtype):
    """gen.standard_normal(dtype=dtype)."""
    return gen.standard_normal(dtype=dtype)


@_kernel_helper
def exponential_draw(gen, dtype):
    """gen.standard_exponential(dtype=dtype)."""
    return gen.standard_exponential(dtype=dtype)


@_kernel_helper
def integer_draw(gen, low, high, dtype, endpoint):
    """gen.integers(low, high, dtype=dtype, endpoint=endpoint) for int64 low
    and high (checked first, `check_integer_bounds`). Not Numba's
    gen.integers: its scalar form makes a one-element array too, and it
    computes the 64-bit rejection threshold in float64 (uint64 - int64) and
    misses the full 64-bit range, so ranges of 2**62 and more drew other
    values than NumPy."""
    off, rng = _integer_range(low, high, endpoint)
    return dtype(off + _bounded_draw(gen, rng, dtype))


@_kernel_helper
def check_integer_bounds(low, high, endpoint, lowest, highest):
    """Raise NumPy's ValueError where the int64 bounds of `integer_draw(s)`
    lie outside its dtype's [lowest, highest] (cpu/random.py writes this
    line, with the dtype's bounds, before a draw of a dtype other than int64;
    the tracer checks low < high, and the draw itself never raises)."""
    last = high if endpoint else high - 1
    if low < lowest:
        raise ValueError("low is out of bounds")
    if last > highest:
        raise ValueError("high is out of bounds")


@numba.njit(cache=True, inline="always")
def _integer_range(low, high, endpoint):
    """(offset, range) of NumPy's bounded draw as uint64, for int64 low and
    high with low <= high (endpoint) or low < high."""
    last = high if endpoint else high - 1
    return np.uint64(low), np.uint64(last) - np.uint64(low)


def _bounded_draw(gen, rng, dtype):
    """A uniform integer in [0, rng] from NumPy's random_bounded_uint64 (a
    64-bit dtype) or random_bounded_uint32 (numpy/random/src/distributions/
    distributions.c): Lemire's rejection, unsigned throughout."""


@overload(_bounded_draw)
def _ov_bounded_draw(gen, rng, dtype):
    if np.dtype(str(dtype.dtype)).itemsize == 8:
        def impl(gen, rng, dtype):
            if rng == np.uint64(0):
                return np.uint64(0)
            if rng <= np.uint64(0xFFFFFFFF):
                return _lemire32(gen, rng)
            if rng == np.uint64(0xFFFFFFFFFFFFFFFF):
                return next_uint64(gen.bit_generator)
            return _lemire64(gen, rng)
    else:
        def impl(gen, rng, dtype):
            if rng == np.uint64(0):
                return np.uint64(0)
            return _lemire32(gen, rng & np.uint64(0xFFFFFFFF))
    return impl


@numba.njit(cache=True, inline="always")
def _lemire32(gen, rng):
    """NumPy's buffered_bounded_lemire_uint32: a draw in [0, rng], 0 < rng <= 2**32 - 1;
    the full range is one next_uint32."""
    if rng == np.uint64(0xFFFFFFFF):
        return np.uint64(next_uint32(gen.bit_generator))
    excl = rng + np.uint64(1)
    m = np.uint64(next_uint32(gen.bit_generator)) * excl
    leftover = m & np.uint64(0xFFFFFFFF)
    if leftover < excl:
        threshold = (np.uint64(0xFFFFFFFF) - rng) % excl
        while leftover < threshold:
            m = np.uint64(next_uint32(gen.bit_generator)) * excl
            leftover = m & np.uint64(0xFFFFFFFF)
    return m >> np.uint64(32)


@numba.njit(cache=True, inline="always")
def _lemire64(gen, rng):
    """NumPy's bounded_lemire_uint64: a draw in [0, rng], 2**32 <= rng < 2**64 - 1."""
    excl = rng + np.uint64(1)
    x = next_uint64(gen.bit_generator)
    leftover = x * excl
    if leftover < excl:
        threshold = (np.uint64(0xFFFFFFFFFFFFFFFF) - rng) % excl
        while leftover < threshold:
            x = next_uint64(gen.bit_generator)
            leftover = x * excl
    return _mulhi64(x, excl)


@numba.njit(cache=True, inline="always")
def _mulhi64(a, b):
    """The high 64 bits of the 128-bit product of two uint64."""
    low32 = np.uint64(0xFFFFFFFF)
    a0, a1, b0, b1 = a & low32, a >> np.uint64(32), b & low32, b >> np.uint64(32)
    t = a1 * b0 + ((a0 * b0) >> np.uint64(32))
    w1 = (t & low32) + a0 * b1
    return a1 * b1 + (t >> np.uint64(32)) + (w1 >> np.uint64(32))


def _lane_intrinsic(name: str, combine, doc: str):
    """An intrinsic `(lanes, j, x) -> lanes` with item j of the tuple `lanes`
    combined with x by `combine(builder, acc, x)` (x converted to the lanes'
    type first)."""

    def typer(typingctx, lanes, j, x):
        if not (isinstance(lanes, types.UniTuple) and isinstance(lanes.dtype, types.Float)
                and isinstance(j, types.Integer) and isinstance(x, types.Number)):
            return None

        def codegen(context, builder, sig, args):
            tup, idx, val = args
            val = context.cast(builder, val, sig.args[2], lanes.dtype)
            slot = cgutils.alloca_once(builder, tup.type)
            builder.store(tup, slot)
            lane = builder.gep(slot, [idx.type(0), idx], inbounds=True)
            builder.store(combine(builder, builder.load(lane), val), lane)
            return builder.load(slot)

        return lanes(lanes, j, x), codegen

    typer.__name__ = typer.__qualname__ = name
    typer.__doc__ = doc
    return intrinsic(typer)


def _nan_select(order: str):
    """x where `x <order> acc` or x is NaN, else acc: np.minimum / np.maximum
    (NaN propagates), as min_nan / max_nan."""
    def combine(builder, acc, x):
        take = builder.or_(builder.fcmp_ordered(order, x, acc), builder.fcmp_unordered("uno", x, x))
        return builder.select(take, x, acc)

    return combine


lane_add = _lane_intrinsic("lane_add", lambda builder, acc, x: builder.fadd(acc, x), """\
    `lanes` (a tuple of floats) with x added to its item j: the 8
    accumulators of a float sum (codegen/cpu/nest.py `Fuser._fold_8way`) as one
    value, so that the term is written once, in a loop over j of 8 steps,
    instead of 8 times (each copy is typed and lowered by Numba anew). LLVM
    unrolls that loop and keeps the 8 in registers: the same adds, in the same
    order, as 8 scalar accumulators. x is converted to the lanes' type first,
    as `acc += x` converts it (float32 to float64).""")
lane_min = _lane_intrinsic("lane_min", _nan_select("<"), "`lanes` with item j replaced by min_nan(item j, x): a min fold's 8 lanes.")
lane_max = _lane_intrinsic("lane_max", _nan_select(">"), "`lanes` with item j replaced by max_nan(item j, x): a max fold's 8 lanes.")




@intrinsic
def kept_branch(typingctx):
    """A statement that opens an `if` arm LLVM must keep as a branch: an
    empty inline asm with side effects, which SimplifyCFG cannot speculate,
    so it does not fold the if/else into selects (it emits no instruction).
    For a serial loop's if/elif chain on a carried value (nest.py
    `_emit_lazy_select`), where selects make each step wait for the compare
    of the carry and for every arm, while a predicted branch lets the steps
    overlap: a majority vote over 5*10^5 floats ran 1.2 ms as selects, 0.25
    ms so (numba.njit of the plain loop, whose three-way if/elif/else LLVM
    keeps as branches: 0.13). Not llvm.expect: its made-up branch weights
    misled LLVM's block placement and register allocation (a z-function's
    scan 1.4 -> 2.0-6.6 ms)."""
    def codegen(context, builder, sig, args):
        builder.asm(llvmir.FunctionType(llvmir.VoidType(), []), "", "", [], side_effect=True)
        return context.get_dummy_value()

    return types.none(), codegen


@_kernel_helper  # not inline="always": Numba would type and lower it again at every call
def check_start(i, n, size, code):
    """A dynamic slice start, normalized as NumPy does; raises IndexError(code, i, n)
    with the index as given."""
    j = i + n if i < 0 and size == 1 else i
    # 0 <= j <= n - size as one unsigned comparison (a negative j is a large
    # unsigned number), size > n apart: a loop of `out[g] = max(out[g], v[i])`
    # with two signed tests per element ran 477 us against 354 us for 2*10^5
    # elements (numba.njit without any check 269 us; bench/README.md,
    # seventeenth session): LLVM laid the signed tests out as taken branches
    if n < size or np.uint64(j) > np.uint64(n - size):
        raise IndexError(code, i, n)
    return j


@_kernel_helper  # not inline="always": Numba would type and lower it again at every call
def check_elem(i, n, code):
    """An element index of a gather/scatter (negative counts from the end)."""
    j = i + n if i < 0 else i
    if np.uint64(j) >= np.uint64(n):  # -n <= i < n in one test (check_start)
        raise IndexError(code, i, n)
    return j


@_kernel_helper
def check_int(x, code):
    """Raises for a float whose Python int() looptrace cannot make (called only
    for such a float: the kernel tests it, codegen/cpu/scalar.py `pyint`):
    CheckFailed(code) for NaN, code + 1 for an infinity, code + 2 for a float
    past int64 (the op's three failures, given consecutive codes); returns for
    -2**63, which fits (the kernel's test, |x| < 2**63, is one instruction less)."""
    if x == -9.223372036854775808e18:
        return
    if x != x:
        raise CheckFailed(code)
    if x == np.inf or x == -np.inf:
        raise CheckFailed(code + 1)
    raise CheckFailed(code + 2)


# The scalar steps below are compiled once per signature (disk cache) and inlined by LLVM
# (`_inline_into_callers`), not by Numba (inline="always" typed and lowered them again at
# each call site: max_nan/min_nan are in a third of all kernels): the same vector code, and
# fold-heavy test files 83-91 -> 69-71 s of CPU (session 49).
@_kernel_helper(error_model="numpy")
def range_span(start, stop):
    """len(range(start, stop)): stop - start, or 0 (the difference of bounds of
    opposite signs wraps in int64: its true value is below 2**63 wherever the
    loop can finish)."""
    _inline_into_callers()
    return np.int64(np.uint64(stop) - np.uint64(start)) if stop > start else 0


@_kernel_helper(error_model="numpy")
def trip_count(start, stop, step):
    """len(range(start, stop, step)) for a nonzero step, in unsigned 64-bit
    differences: stop - start overflows int64 for bounds of opposite signs
    near the ends (range(-2**63, 2**63 - 1, 2**62) runs 4 times), and so
    does -step for step = -2**63."""
    _inline_into_callers()
    if step > 0:
        if stop <= start:
            return 0
        span = np.uint64(stop) - np.uint64(start)
        return np.int64((span - np.uint64(1)) // np.uint64(step) + np.uint64(1))
    if start <= stop:
        return 0
    span = np.uint64(start) - np.uint64(stop)
    return np.int64((span - np.uint64(1)) // (np.uint64(0) - np.uint64(step)) + np.uint64(1))


@_kernel_helper(error_model="numpy")
def max_nan(acc, x):
    """np.maximum: NaN propagates."""
    _inline_into_callers()
    if x > acc or x != x:
        return x
    return acc


@_kernel_helper(error_model="numpy")
def min_nan(acc, x):
    """np.minimum: NaN propagates."""
    _inline_into_callers()
    if x < acc or x != x:
        return x
    return acc


@_kernel_helper(error_model="numpy")
def max_nan_last(acc, x):
    """max_nan keeping x of equal values (+0.0 and -0.0): the step of a max
    fold whose ties keep the last (ops/reduce.py `ties`), `if v >= m`."""
    _inline_into_callers()
    if x >= acc or x != x:
        return x
    return acc


@_kernel_helper(error_model="numpy")
def min_nan_last(acc, x):
    """min_nan keeping x of equal values: a min fold's step keeping the last of ties."""
    _inline_into_callers()
    if x <= acc or x != x:
        return x
    return acc


@numba.njit(cache=True)
def argsort_lane(x, out):
    """out[:] = the stable sorting order of the 1-d x, NaNs last (NumPy's
    kind="stable"): insertion-sorted runs, then merges (selection.py).
    Numba's own np.sort/np.argsort cost about ten seconds of compile time per
    kernel; this compiles once per dtype and is cached on disk."""
    for i in range(x.shape[0]):
        out[i] = i
    argsort_range(x, out, 0, x.shape[0])


@numba.njit(cache=True)
def sort_lane(buf):
    """Sort the contiguous 1-d buf in place, NaNs last (Numba's np.sort
    algorithm, compiled once per dtype here and cached on disk, not in
    every kernel)."""
    buf.sort()


from looptrace.codegen.cpu.cache import harden_module  # noqa: E402  (their disk cache read through verified files)

harden_module(__name__)
