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
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os

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
