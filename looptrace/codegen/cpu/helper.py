"""How the helpers that generated kernels call are made (templates.py,
lapack.py): `kernel_helper`, the njit of a helper only kernels call;
`empty`, np.empty inside such a helper without Numba's overload of it;
`zeroed`, np.zeros as NumPy makes it (calloc: pages the OS zeroes lazily);
`short_loops`, for a helper whose loops run a few steps each; and
`reshaped`, a.reshape(shape) with nothing for Numba to compile.

Invariant: what these make has no global state and is cached on disk, so a
kernel loaded from the disk cache links against the same code."""
from __future__ import annotations

import numba
from llvmlite import ir as llvmir
from numba.core import cgutils, types
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic
from numba.np.arrayobj import _empty_nd_impl, _parse_shape, get_itemsize, make_array, populate_array


def kernel_helper(fn=None, **options):
    """njit for a helper that only kernels call: cached on disk, without the
    CPython and C wrappers (never called from Python or through a pointer;
    about 0.1 s of the helper's first compile on a machine), and typed on its
    arguments' plain types: a shape (64, 3) written in the kernel is
    UniTuple(int64, 2), not a tuple of literal 64 and 3, which would compile
    (and cache) one version of the helper per shape (or per constant:
    lapack.py's `mode`). `options`: more of njit's (draws_discrete.py's
    error_model="numpy"), as `@kernel_helper(error_model="numpy")`."""
    if fn is None:
        return lambda f: kernel_helper(f, **options)
    return unliteral_typing(
        numba.njit(cache=True, nogil=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, **options)(fn))


def unliteral_typing(dispatcher):
    """`dispatcher`, typed where a kernel calls it on its arguments' plain
    types (kernel_helper's rule, for a helper that tests also call from
    Python: legacy_random.py's draws, whose shape (7,) was Literal[int](7),
    one 2-5 s compile per size drawn)."""
    typed = dispatcher.get_call_template

    def get_call_template(args, kws):
        return typed(tuple(types.unliteral(a) for a in args), {k: types.unliteral(v) for k, v in kws.items()})

    dispatcher.get_call_template = get_call_template
    return dispatcher


def _array_type(shape, dtype):
    """The C-contiguous array type np.empty/np.zeros(shape, dtype) make, for a
    shape of integers (an int or a tuple of them) and a dtype; else None."""
    dt = dtype.dtype if isinstance(dtype, (types.NumberClass, types.DType)) else None
    if isinstance(shape, types.Integer):
        ndim = 1
    elif isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer) for t in shape):
        ndim = len(shape)
    else:
        return None
    return None if dt is None else types.Array(dt, ndim, "C")


@intrinsic
def empty(typingctx, shape, dtype):
    """np.empty(shape, dtype) as Numba's own np.empty builds it (its shape
    parsing and allocation), without the overload's implementation: that is
    a function of its own that Numba compiled on a machine's first use of
    each (rank, dtype), 0.36 s of column_quantiles' first compile."""
    array = _array_type(shape, dtype)
    if array is None:
        return None

    def codegen(context, builder, sig, args):
        shapes = _parse_shape(context, builder, sig.args[0], args[0])
        return _empty_nd_impl(context, builder, array, shapes)._getvalue()
    return array(shape, dtype), codegen


_NRT_MANAGE_MEMORY = 2  # the slot of `manage_memory` in NRT_get_api()'s table (numba's nrt_external.h)


@intrinsic
def zeroed(typingctx, shape, dtype):
    """np.zeros(shape, dtype) as NumPy makes it: calloc, whose large blocks
    are fresh pages the OS zeroes when first touched, handed to Numba's
    runtime with `free` as its destructor (NRT's manage_memory). Numba's own
    np.zeros writes every byte (memset), and a kernel's np.zeros was a fill
    loop: fem1d_assembly's (3000, 3000) matrix, of which the assembly touches
    a band, cost 66 ms a call against 34 ms for the plain function."""
    array = _array_type(shape, dtype)
    if array is None:
        return None

    def codegen(context, builder, sig, args):
        shapes = _parse_shape(context, builder, sig.args[0], args[0])
        intp, i8p = context.get_value_type(types.intp), llvmir.IntType(8).as_pointer()
        itemsize = intp(get_itemsize(context, array))
        nbytes, overflow = itemsize, llvmir.Constant(llvmir.IntType(1), 0)
        for s in shapes:
            product = builder.smul_with_overflow(nbytes, s)
            nbytes = builder.extract_value(product, 0)
            overflow = builder.or_(overflow, builder.extract_value(product, 1))
        with builder.if_then(overflow, likely=False):  # (Numba's np.empty's message)
            context.call_conv.return_user_exc(builder, ValueError, (
                "array is too big; `arr.size * arr.dtype.itemsize` is larger than the maximum possible size.",))
        module = builder.module
        calloc = cgutils.get_or_insert_function(module, llvmir.FunctionType(i8p, [intp, intp]), "calloc")
        free = cgutils.get_or_insert_function(module, llvmir.FunctionType(llvmir.VoidType(), [i8p]), "free")
        get_api = cgutils.get_or_insert_function(module, llvmir.FunctionType(i8p, []), "NRT_get_api")
        asked = builder.select(builder.icmp_signed("==", nbytes, intp(0)), intp(1), nbytes)  # calloc(0) may be NULL
        data = builder.call(calloc, [asked, intp(1)])
        with builder.if_then(cgutils.is_null(builder, data), likely=False):
            context.call_conv.return_user_exc(builder, MemoryError, ("Allocation failed (probably too large).",))
        manage_t = llvmir.FunctionType(i8p, [i8p, i8p])
        table = builder.bitcast(builder.call(get_api, []), manage_t.as_pointer().as_pointer())
        manage = builder.load(builder.gep(table, [llvmir.Constant(llvmir.IntType(32), _NRT_MANAGE_MEMORY)]))
        meminfo = builder.call(manage, [data, builder.bitcast(free, i8p)])
        strides, step = [], itemsize
        for s in reversed(shapes):
            strides.append(step)
            step = builder.mul(step, s)
        out = make_array(array)(context, builder)
        populate_array(out, data=builder.bitcast(data, context.get_data_type(array.dtype).as_pointer()),
                       shape=cgutils.pack_array(builder, shapes, ty=intp),
                       strides=cgutils.pack_array(builder, strides[::-1], ty=intp),
                       itemsize=itemsize, meminfo=meminfo)
        return out._getvalue()
    return array(shape, dtype), codegen


@intrinsic
def short_loops(typingctx):
    """No code: gives the function it is called in LLVM's `optsize` (and
    `noinline`), for a helper whose loops take a few steps each (lapack.py's
    LU of order <= 4). LLVM otherwise vectorizes every such loop whose trip
    count it does not know, with runtime checks and a scalar remainder, which
    never run for these orders: the LU's 60 lines became 3100 lines of IR
    (137 vector blocks), optimized and compiled again in every kernel that
    links it (0.3 s of kalman_filter's compile). With `optsize` LLVM makes no
    loop versions that add code; `noinline` keeps one copy where a kernel
    calls it in several places."""

    def codegen(context, builder, signature, args):
        builder.function.attributes.add("optsize")
        builder.function.attributes.add("noinline")
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def reshaped(typingctx, a, shape):
    """a.reshape(shape) for a C-contiguous a (a view; one size of the shape
    may be -1), as Numba's reshape but without its size check: Numba
    compiles that check (`normalize_reshape_value`) as a function of its own
    in every process whose kernel reshapes, 0.1-0.15 s of the first call;
    here it is a few instructions of the caller (constants fold), raising
    Numba's ValueError where the sizes do not fit. The strides
    of the view are those of its C order; `a` must be C-contiguous by its
    type (contiguous(x), alloc(...))."""
    if not (isinstance(a, types.Array) and a.layout == "C" and isinstance(shape, types.BaseTuple)
            and all(isinstance(t, types.Integer) for t in shape)):
        return None
    ndim = len(shape)
    sig = a.copy(ndim=ndim)(a, shape)

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(types.intp)
        ary = make_array(a)(context, builder, args[0])
        sizes = [context.cast(builder, v, t, types.intp)
                 for v, t in zip(cgutils.unpack_tuple(builder, args[1], ndim), shape)]
        zero, one = intp(0), intp(1)
        known, unknown = one, zero  # the product of the sizes given, how many are -1
        for s in sizes:
            neg = builder.icmp_signed("<", s, zero)
            known = builder.select(neg, known, builder.mul(known, s))
            unknown = builder.add(unknown, builder.zext(neg, intp))
        total = ary.nitems
        divisor = builder.select(builder.icmp_signed("==", known, zero), one, known)
        inferred = builder.select(builder.icmp_signed("==", known, zero), zero, builder.sdiv(total, divisor))
        sizes = [builder.select(builder.icmp_signed("<", s, zero), inferred, s) for s in sizes]
        product = one
        for s in sizes:
            product = builder.mul(product, s)
        bad = builder.or_(builder.icmp_signed(">", unknown, one), builder.icmp_signed("!=", product, total))
        with builder.if_then(bad, likely=False):
            context.call_conv.return_user_exc(builder, ValueError, ("total size of new array must be unchanged",))
        strides, step = [], ary.itemsize
        for s in reversed(sizes):
            strides.append(step)
            step = builder.mul(step, s)
        out = make_array(signature.return_type)(context, builder)
        populate_array(out, data=ary.data, shape=cgutils.pack_array(builder, sizes),
                       strides=cgutils.pack_array(builder, strides[::-1]), itemsize=ary.itemsize,
                       meminfo=ary.meminfo, parent=ary.parent)
        return impl_ret_borrowed(context, builder, signature.return_type, out._getvalue())
    return sig, codegen


@intrinsic
def nonneg(typingctx, i):
    """i, which the kernel's own construction makes >= 0 (`r * 8 + j` over
    rows r >= 0 and lanes j), told to LLVM (llvm.assume). Numba indexes with
    a signed integer through `i if i >= 0 else i + n`; where LLVM cannot prove
    i >= 0 (an index built from a prange chunk's rows: a gufunc's bounds are
    arguments), that select makes a contiguous read a gather: a loop of
    `inner[j] *= 1.0 + z[t, r * 64 + j]` ran 8.9 ms against 0.9 ms with the
    index so marked (codegen/cpu/nest.py). Never for an index that may be
    negative: LLVM would be free to read anywhere."""
    if not isinstance(i, types.Integer) or not i.signed:
        return None

    def codegen(context, builder, sig, args):
        (v,) = args
        assume = builder.module.declare_intrinsic("llvm.assume", fnty=llvmir.FunctionType(
            llvmir.VoidType(), [llvmir.IntType(1)]))
        builder.call(assume, [builder.icmp_signed(">=", v, v.type(0))])
        return v

    return i(i), codegen
