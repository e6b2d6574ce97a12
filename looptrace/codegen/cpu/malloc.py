"""glibc malloc settings for kernels that allocate large temporaries.

By default glibc serves every allocation at or above its mmap threshold
(128 KiB, raised on each free up to the size freed) with a fresh `mmap`, and
gives it back on `free`. A kernel that makes a 1.6 MB temporary on each call
then pays page faults for every page, every call: in rnn_taps (T=1001, y=200)
two such products took 3.2 ms instead of 1.6 ms. When the CPU backend loads,
`tune()` sets the threshold to 32 MiB and the trim threshold to 64 MiB, so
blocks below 32 MiB are reused from the heap, and up to 64 MiB of freed heap
may stay with the process instead of going back to the system. This is
process-wide (NumPy's own arrays benefit the same way). LOOPTRACE_MALLOC=0
leaves malloc as it was; on a C library other than glibc nothing happens.

Blocks of 32 MiB and more still come from a fresh `mmap` on each call, and
the kernel faults in their pages one 4 KiB page at a time: a (1.5M, 3)
float64 product (36 MB) spent 25 of its 28 ms in page faults, where NumPy's
own `x @ R.T` took 6 ms. NumPy asks the kernel for transparent huge pages
on arrays of 4 MiB and more (`madvise(MADV_HUGEPAGE)`, alloc.c
`indicate_hugepages`); `hugepages(data_address(a), a.nbytes)` does the same for a kernel's own
arrays (templates.py `alloc`): the same 36 MB then faulted in about 2 ms.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

from numba.core import types
from numba.extending import intrinsic

from looptrace.codegen.cpu.helper import kernel_helper

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest on 64-bit systems
TRIM_THRESHOLD = 64 << 20

_done = False


def tune() -> bool:
    """Set the thresholds once per process; True when glibc took them."""
    global _done
    if _done or os.environ.get("LOOPTRACE_MALLOC", "1") == "0":
        return False
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))


# --- huge pages for large arrays ------------------------------------------------------------------------
HUGEPAGE_MIN = 1 << 22  # bytes: NumPy's threshold
MADV_HUGEPAGE = 14  # Linux
PAGE = 4096


@intrinsic
def data_address(typingctx, arr):
    """The address of an array's first element, as an integer."""
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.ptrtoint(ary.data, context.get_value_type(types.intp))
    return types.intp(arr), codegen


if sys.platform.startswith("linux"):
    # the address passed as an integer: the same register as a pointer in the C ABI
    _madvise = types.ExternalFunction("madvise", types.intc(types.intp, types.uintp, types.intc))

    @kernel_helper
    def hugepages(start, nbytes):
        """Advise huge pages for the nbytes at address `start` (an array's
        data_address) when they are many (their whole pages: the first page
        boundary on). Errors are ignored: advice. Two integers, not the
        array: one compiled version for every array type (a version per
        array type cost about 0.05 s each of a machine's first compiles)."""
        if nbytes >= HUGEPAGE_MIN:
            offset = (PAGE - start % PAGE) % PAGE
            _madvise(start + offset, nbytes - offset, MADV_HUGEPAGE)
else:
    @kernel_helper
    def hugepages(start, nbytes):
        """No advice off Linux."""
