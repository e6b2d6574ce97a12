"""Matrix products in kernels, through the BLAS library NumPy itself calls.

Numba's np.dot calls SciPy's BLAS (through scipy.linalg.cython_blas); NumPy's
wheels bundle another copy of OpenBLAS. Two OpenBLAS libraries in one process
are two thread pools, and an OpenBLAS worker busy-waits for a while after each
call (OPENBLAS_THREAD_TIMEOUT, about 2^28 cycles by default). A program that
alternates NumPy's products with a kernel's (a training loop calling a
looptrace kernel and `@` by turns, or a benchmark timing both) then runs each
product with the other pool's threads spinning on the same cores: on 2 cores NumPy's
(1000, 64) @ (64, 1000) took 1.4 ms alone and 3.9 ms right after a kernel
that multiplied through SciPy's library, and the kernel 4.2 ms right after
NumPy's product (bench/blas_pools.py). So a kernel multiplies through
NumPy's own library: one thread pool in the process, whose threads a user's
`threadpoolctl` limits on NumPy also govern.

How: NumPy's extension module is linked against its BLAS, so dlsym through it
finds the CBLAS entry points (`scipy_cblas_dgemm64_` in NumPy 2 wheels,
`cblas_dgemm64_` in NumPy 1 wheels, `cblas_dgemm` where NumPy links a system
or conda BLAS). Their addresses are registered with LLVM under fixed names
(`looptrace_cblas_dgemm`, ...) and called as external functions, so compiled
code refers to a name, not an address, and Numba's disk cache stays valid
across processes (the same mechanism as Numba's own helper library).

Where the symbols are not found (another platform, another BLAS) or
LOOPTRACE_BLAS=numba is set, `dot_into` and `dot_value` are Numba's np.dot,
as before; `choice()` says which, and the kernel cache's fingerprint includes
it.

`dot_into(a, b, out)` is np.dot(a, b, out) for float32/64 and complex64/128
operands of one dtype: 2-d @ 2-d (gemm), 2-d @ 1-d and 1-d @ 2-d (gemv). A
2-d operand is passed to BLAS as it is when it is row-major or column-major
with any leading dimension (a `.T` view, a row-strided slice), and copied
otherwise; `out` is written in place. `dot_value(a, b)` is the dot product
of two vectors. `dot(a, b)` allocates its result.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from dataclasses import dataclass

import llvmlite.binding as llvm_binding
import numba
import numpy as np
from numba.core import cgutils, types
from numba.extending import intrinsic, overload

ROW_MAJOR, NO_TRANS, TRANS, UPPER = 101, 111, 112, 121  # CBLAS enum values
_KINDS = {"s": types.float32, "d": types.float64, "c": types.complex64, "z": types.complex128}
_ROUTINES = ("gemm", "gemv", "syrk")


@dataclass(frozen=True)
class Library:
    """NumPy's CBLAS: the path of the library and its routines' addresses."""
    path: str
    int_bits: int  # 64 for an ILP64 build
    addresses: dict  # (routine, kind) -> address, routine in gemm/gemv/dot


def _candidates(config: str) -> list[tuple[str, str, int]]:
    """(prefix, suffix, int bits) of the CBLAS names NumPy's builds use."""
    plain_bits = 64 if "USE64BITINT" in config or "ilp64" in config.lower() else 32
    return [("scipy_cblas_", "64_", 64), ("cblas_", "64_", 64), ("scipy_cblas_", "", 32), ("cblas_", "", plain_bits)]


def _numpy_extension() -> str:
    try:
        from numpy._core import _multiarray_umath as module
    except ImportError:  # NumPy 1
        from numpy.core import _multiarray_umath as module
    return module.__file__


def _blas_config() -> str:
    try:
        return str(np.__config__.CONFIG["Build Dependencies"]["blas"])
    except (AttributeError, KeyError, TypeError):
        return ""


def _symbol_names(prefix: str, suffix: str) -> dict:
    names = {(r, k): f"{prefix}{k}{r}{suffix}" for r in _ROUTINES for k in _KINDS}
    names.update({("dot", k): f"{prefix}{k}dot{suffix}" for k in "sd"})
    names.update({("dot", k): f"{prefix}{k}dotu_sub{suffix}" for k in "cz"})
    return names


@functools.lru_cache(maxsize=1)
def numpy_library() -> Library | None:
    """NumPy's CBLAS, or None where its symbols cannot be found."""
    try:
        handle = ctypes.CDLL(_numpy_extension())
    except (OSError, ImportError, AttributeError):
        return None
    for prefix, suffix, bits in _candidates(_blas_config()):
        addresses = {}
        for key, name in _symbol_names(prefix, suffix).items():
            try:
                addresses[key] = ctypes.cast(getattr(handle, name), ctypes.c_void_p).value
            except AttributeError:
                break
        else:
            return Library(_library_path(addresses[("gemm", "d")]), bits, addresses)
    return None


def _library_path(address: int) -> str:
    """The file of the shared library holding `address` (dladdr), or ""."""
    class DlInfo(ctypes.Structure):
        _fields_ = [("fname", ctypes.c_char_p), ("fbase", ctypes.c_void_p),
                    ("sname", ctypes.c_char_p), ("saddr", ctypes.c_void_p)]
    for name in (None, ctypes.util.find_library("dl")):
        try:
            dladdr = ctypes.CDLL(name).dladdr
        except (OSError, AttributeError, TypeError):
            continue
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(DlInfo)]
        info = DlInfo()
        if dladdr(address, ctypes.byref(info)) and info.fname:
            return os.path.realpath(os.fsdecode(info.fname))
    return ""


def choice() -> str:
    """Which BLAS kernels multiply with: "numpy <path>" or "numba"."""
    if os.environ.get("LOOPTRACE_BLAS", "numpy") == "numba" or numpy_library() is None:
        return "numba"
    return f"numpy {numpy_library().path} int{numpy_library().int_bits}"


# --- the external functions ------------------------------------------------------------------------

_I32, VOIDP = types.int32, types.voidptr


def _signature(routine: str, kind: str, index) -> types.Signature:
    dt = _KINDS[kind]
    scalar = VOIDP if kind in "cz" else dt  # complex alpha and beta are passed by pointer
    if routine == "gemm":
        return types.void(_I32, _I32, _I32, index, index, index, scalar, VOIDP, index, VOIDP, index,
                          scalar, VOIDP, index)
    if routine == "gemv":
        return types.void(_I32, _I32, index, index, scalar, VOIDP, index, VOIDP, index, scalar, VOIDP, index)
    if routine == "syrk":
        return types.void(_I32, _I32, _I32, index, index, scalar, VOIDP, index, scalar, VOIDP, index)
    if kind in "cz":  # dotu_sub: the result through a pointer
        return types.void(index, VOIDP, index, VOIDP, index, VOIDP)
    return dt(index, VOIDP, index, VOIDP, index)


def _register() -> dict:
    """The external functions, their addresses registered with LLVM (always,
    where found, so that cached code naming them links in any process)."""
    lib = numpy_library()
    if lib is None:
        return {}
    index = types.int64 if lib.int_bits == 64 else types.int32
    functions = {}
    for (routine, kind), address in lib.addresses.items():
        name = f"looptrace_cblas_{kind}{routine}"
        llvm_binding.add_symbol(name, address)
        functions[(routine, _KINDS[kind])] = types.ExternalFunction(name, _signature(routine, kind, index))
    return functions


_EXTERNAL = _register()


@intrinsic
def _ptr(typingctx, arr):
    """The address of an array's first element, as void*."""
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.bitcast(ary.data, cgutils.voidptr_t)
    return VOIDP(arr), codegen


@intrinsic
def _address(typingctx, arr):
    """The address of an array's first element, as an integer."""
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.ptrtoint(ary.data, context.get_value_type(types.intp))
    return types.intp(arr), codegen


def _matrix(x):
    """(transposed, leading dimension, array) of a 2-d operand as row-major
    BLAS reads it: (False, ld, x) row-major, (True, ld, x) column-major,
    or a row-major copy."""


def _vector(x):
    """(increment, array) of a 1-d operand: its stride in elements, or a copy's."""


# What a kernel passes is C- or F-contiguous (its own arrays, `.T` views),
# which the types say: then no test and no copy is compiled. Compile time
# matters here: each kernel that multiplies links this code in (an unused
# copy branch for every operand cost about 0.5 s per kernel).
@overload(_matrix)
def _ov_matrix(x):
    if x.layout == "C":
        return lambda x: (False, max(x.shape[1], 1), x)
    if x.layout == "F":
        return lambda x: (True, max(x.shape[0], 1), x)

    def impl(x):
        size = x.itemsize
        r, c = x.shape
        s0, s1 = x.strides
        if (c <= 1 or s1 == size) and (r <= 1 or (s0 > 0 and s0 % size == 0 and s0 // size >= c)):
            return False, max(c, 1) if r <= 1 else s0 // size, x
        if (r <= 1 or s0 == size) and (c <= 1 or (s1 > 0 and s1 % size == 0 and s1 // size >= r)):
            return True, max(r, 1) if c <= 1 else s1 // size, x
        return False, max(c, 1), np.ascontiguousarray(x)
    return impl


@overload(_vector)
def _ov_vector(x):
    if x.layout in "CF":
        return lambda x: (1, x)

    def impl(x):
        size = x.itemsize
        s = x.strides[0]
        if x.shape[0] <= 1:
            return 1, x
        if s > 0 and s % size == 0:
            return s // size, x
        return 1, np.ascontiguousarray(x)
    return impl


def _gemm(a, b, out):
    """out = a @ b for 2-d a, b, out (BLAS kinds, one dtype)."""


def _gemv(a, x, y, left):
    """y = a @ x (left False) or x @ a (left True): a 2-d, x and y 1-d."""


def _dot(a, b):
    """The dot product of two vectors."""


def _scalars(dtype):
    """alpha and beta as BLAS takes them: values, or arrays for complex."""


@overload(_scalars)
def _ov_scalars(dtype):
    kind = dtype.dtype
    if isinstance(kind, types.Complex):
        def impl(dtype):
            return np.ones(1, dtype), np.zeros(1, dtype)
    else:
        def impl(dtype):
            return kind(1), kind(0)
    return impl


@overload(_gemm)
def _ov_gemm(a, b, out):
    fn = _EXTERNAL[("gemm", a.dtype)]
    syrk = _EXTERNAL[("syrk", a.dtype)]
    complex_kind = isinstance(a.dtype, types.Complex)

    def run(a, b, target, ldc):
        m, k = a.shape
        n = b.shape[1]
        ta, lda, a_ = _matrix(a)
        tb, ldb, b_ = _matrix(b)
        alpha, beta = _scalars(target.dtype)
        if ta != tb and m == n and lda == ldb and _address(a_) == _address(b_):
            # x @ x.T or x.T @ x, as NumPy multiplies them: syrk computes the
            # upper triangle (half the work) and the lower one is its mirror
            if complex_kind:
                syrk(ROW_MAJOR, UPPER, TRANS if ta else NO_TRANS, n, k, _ptr(alpha), _ptr(a_), lda, _ptr(beta),
                     _ptr(target), ldc)
            else:
                syrk(ROW_MAJOR, UPPER, TRANS if ta else NO_TRANS, n, k, alpha, _ptr(a_), lda, beta, _ptr(target),
                     ldc)
            for i in range(n):
                for j in range(i + 1, n):
                    target[j, i] = target[i, j]
            return
        if complex_kind:
            fn(ROW_MAJOR, TRANS if ta else NO_TRANS, TRANS if tb else NO_TRANS, m, n, k, _ptr(alpha), _ptr(a_),
               lda, _ptr(b_), ldb, _ptr(beta), _ptr(target), ldc)
        else:
            fn(ROW_MAJOR, TRANS if ta else NO_TRANS, TRANS if tb else NO_TRANS, m, n, k, alpha, _ptr(a_),
               lda, _ptr(b_), ldb, beta, _ptr(target), ldc)

    run = numba.njit(run)
    if out.layout == "C":  # a kernel's own result: written in place
        def impl(a, b, out):
            if not _empty_product(a, b, out):
                run(a, b, out, max(b.shape[1], 1))
    else:
        def impl(a, b, out):
            if _empty_product(a, b, out):
                return
            m, n = out.shape
            size = out.itemsize
            s0, s1 = out.strides
            if (n <= 1 or s1 == size) and (m <= 1 or (s0 > 0 and s0 % size == 0 and s0 // size >= n)):
                run(a, b, out, max(n, 1) if m <= 1 else s0 // size)
            else:
                target = np.empty((m, n), out.dtype)
                run(a, b, target, max(n, 1))
                _copy_matrix(out, target)
    return impl


@numba.njit
def _empty_product(a, b, out):
    """True when a @ b has an empty dimension: out is then filled (zeros
    where only the summed one is empty) and BLAS is not called."""
    m, k = a.shape
    n = b.shape[1]
    if m == 0 or n == 0:
        return True
    if k == 0:
        out[...] = 0
        return True
    return False


@overload(_gemv)
def _ov_gemv(a, x, y, left):
    fn = _EXTERNAL[("gemv", a.dtype)]
    complex_kind = isinstance(a.dtype, types.Complex)

    def run(a, x, target, incy, left):
        r, c = a.shape
        transposed, lda, a_ = _matrix(a)
        incx, x_ = _vector(x)
        # a stored row-major as (r, c), or column-major: row-major (c, r) read transposed
        rows, cols = (c, r) if transposed else (r, c)
        trans = transposed != left  # x @ a is a.T @ x
        alpha, beta = _scalars(target.dtype)
        if complex_kind:
            fn(ROW_MAJOR, TRANS if trans else NO_TRANS, rows, cols, _ptr(alpha), _ptr(a_), lda, _ptr(x_), incx,
               _ptr(beta), _ptr(target), incy)
        else:
            fn(ROW_MAJOR, TRANS if trans else NO_TRANS, rows, cols, alpha, _ptr(a_), lda, _ptr(x_), incx,
               beta, _ptr(target), incy)

    run = numba.njit(run)
    if y.layout in "CF":  # contiguous: written in place
        def impl(a, x, y, left):
            if not _empty_vector_product(x, y):
                run(a, x, y, 1, left)
    else:
        def impl(a, x, y, left):
            if _empty_vector_product(x, y):
                return
            s = y.strides[0]
            if y.shape[0] <= 1 or (s > 0 and s % y.itemsize == 0):
                run(a, x, y, 1 if y.shape[0] <= 1 else s // y.itemsize, left)
            else:
                target = np.empty(y.shape[0], y.dtype)
                run(a, x, target, 1, left)
                for i in range(y.shape[0]):  # (as _copy_matrix)
                    y[i] = target[i]
    return impl


@numba.njit
def _copy_matrix(out, target):
    """out[...] = target (both m x n), element by element: the slice
    assignment made Numba compile its broadcast error message (str/repr/join
    of the shapes), ~3.8 s of the first strided-output product's compile."""
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = target[i, j]


@numba.njit
def _empty_vector_product(x, y):
    """True when a matrix-vector product has an empty dimension: y is then
    filled (zeros where only the summed one is empty)."""
    if y.shape[0] == 0:
        return True
    if x.shape[0] == 0:
        y[:] = 0
        return True
    return False


@overload(_dot)
def _ov_dot(a, b):
    fn = _EXTERNAL[("dot", a.dtype)]
    if isinstance(a.dtype, types.Complex):
        def impl(a, b):
            incx, x_ = _vector(a)
            incy, y_ = _vector(b)
            result = np.zeros(1, a.dtype)
            fn(a.shape[0], _ptr(x_), incx, _ptr(y_), incy, _ptr(result))
            return result[0]
    else:
        def impl(a, b):
            incx, x_ = _vector(a)
            incy, y_ = _vector(b)
            return fn(a.shape[0], _ptr(x_), incx, _ptr(y_), incy)
    return impl


def _product_into(a, b, out):
    """np.dot(a, b, out)."""


def _blas_kind(*arrays) -> bool:
    """Whether NumPy's CBLAS multiplies these arrays: one float or complex dtype."""
    return all(x.dtype == arrays[0].dtype for x in arrays) and ("gemm", arrays[0].dtype) in _EXTERNAL


@overload(_product_into)
def _ov_product_into(a, b, out):
    if not _blas_kind(a, b, out):
        return lambda a, b, out: np.dot(a, b, out)
    if a.ndim == 2 and b.ndim == 2:
        return lambda a, b, out: _gemm(a, b, out)
    if a.ndim == 2:
        return lambda a, b, out: _gemv(a, b, out, False)
    return lambda a, b, out: _gemv(b, a, out, True)


def _numpy_dot_into(a, b, out):
    _product_into(a, b, out)


def _numba_dot_into(a, b, out):
    np.dot(a, b, out)


def _numba_dot_value(a, b):
    return np.dot(a, b)


def _numpy_dot(a, b):
    """np.dot(a, b), allocating its result."""


@overload(_numpy_dot)
def _ov_numpy_dot(a, b):
    if not _blas_kind(a, b):
        return lambda a, b: np.dot(a, b)
    if a.ndim == 1 and b.ndim == 1:
        return lambda a, b: _dot(a, b)
    if a.ndim == 2 and b.ndim == 2:
        def impl(a, b):
            out = np.empty((a.shape[0], b.shape[1]), a.dtype)
            _gemm(a, b, out)
            return out
    elif a.ndim == 2:
        def impl(a, b):
            out = np.empty(a.shape[0], a.dtype)
            _gemv(a, b, out, False)
            return out
    else:
        def impl(a, b):
            out = np.empty(b.shape[1], a.dtype)
            _gemv(b, a, out, True)
            return out
    return impl


def _numpy_dot_value(a, b):
    return _dot(a, b)


def _numpy_dot_new(a, b):
    return _numpy_dot(a, b)


def _numba_dot_new(a, b):
    return np.dot(a, b)


def _bind():
    """The three entry points kernels call, from the BLAS `choice()` names."""
    jit = numba.njit(cache=True, nogil=True)
    if choice() == "numba":
        return jit(_numba_dot_into), jit(_numba_dot_value), jit(_numba_dot_new)
    return jit(_numpy_dot_into), jit(_numpy_dot_value), jit(_numpy_dot_new)


dot_into, dot_value, dot = _bind()
