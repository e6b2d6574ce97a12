"""One BLAS thread while a kernel runs BLAS calls on its own threads.

A batch of independent products (batched_conv's 32 GEMMs) runs one product
per thread under `prange`. If BLAS also starts a thread per core for each
product, the two oversubscribe the cores: batched_conv took 8.0 ms that way,
against 4.4 ms with BLAS's own threads alone and 4.2 ms with prange over
one-thread BLAS (2 cores, bench/README.md). So a kernel that calls BLAS
inside a prange loop (`Emitter.blas_in_prange`) runs with the BLAS library
it calls set to one thread,
and the caller's setting is restored after the call, through threadpoolctl.
The library is the one kernels multiply with (blas.py): NumPy's, or SciPy's
where kernels use Numba's np.dot.
The switch costs about 3 microseconds per call; kernels without BLAS inside
prange never pay it.

The setting is process-wide: a BLAS call from another Python thread while
such a kernel runs also uses one thread (its result is the same).
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0  # kernels running with BLAS limited (calls from several threads nest)
_saved = 1


@functools.lru_cache(maxsize=1)
def numba_blas():
    """threadpoolctl's controller of the BLAS library kernels call (NumPy's
    through blas.py, or SciPy's through Numba's np.dot), or None when it
    cannot be found (then nothing is limited)."""
    from . import blas
    try:
        from threadpoolctl import ThreadpoolController
        if blas.choice() == "numba":
            import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's BLAS)
    except ImportError:
        return None
    controllers = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    if blas.choice() == "numba":
        libs = [lib for lib in controllers if "scipy" in lib.filepath and "numpy" not in lib.filepath]
    else:
        path = blas.numpy_library().path
        libs = [lib for lib in controllers if os.path.realpath(lib.filepath) == path]
    return libs[0] if len(libs) == 1 else None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    lib = numba_blas()
    if lib is None:
        yield
        return
    with _blas_threads_at_most(lib, 1):
        yield


# --- BLAS threads for the cores others leave free ------------------------------------------------
# A kernel that calls BLAS outside a prange gets OpenBLAS's own threads, one
# per core. On a machine whose other cores are taken they wait for a time
# slice at every call: (5, 20) @ (20, 20000).T took 20-24 ms (median of 15)
# on two cores at load 5-6 where one thread took 0.2-0.37 ms, and
# logreg_sgd_minibatch's one product per call was most of its time. So, as
# Numba's threads are (threading_policy.fitted_threads), such a kernel runs
# with the BLAS library limited to the free cores while fewer are free than
# it has threads, and the setting is put back after the call.
def fitted_blas(kernel):
    """`kernel` (a compiled kernel that calls BLAS outside a prange, or its
    front door) called with at most the free cores' BLAS threads."""
    from .threading_policy import _ADAPTIVE, free_now

    lib = numba_blas() if _ADAPTIVE else None
    if lib is None:
        return kernel
    import time

    last = [0.0]  # how long this kernel's last call took

    def call(*args):
        start = time.monotonic()
        free = free_now(start, last[0])
        try:
            if free is None or free >= _threads_now(lib):
                return kernel(*args)
            with _blas_threads_at_most(lib, free):
                return kernel(*args)
        finally:
            last[0] = time.monotonic() - start

    call.__wrapped__ = kernel
    return call


_known = {"threads": None}  # the library's thread count outside our limits (read once, then kept)


def _threads_now(lib) -> int:
    if _known["threads"] is None:
        _known["threads"] = lib.get_num_threads()
    return _depth and 1 or _known["threads"]


@contextlib.contextmanager
def _blas_threads_at_most(lib, n: int) -> Iterator[None]:
    """The library at most n threads while the block runs (nested and
    concurrent calls share the first limit, as one_blas_thread's)."""
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = lib.get_num_threads()
            _known["threads"] = _saved
            if _saved > n:
                lib.set_num_threads(n)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved > n:
                lib.set_num_threads(_saved)
