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
    global _depth, _saved
    lib = numba_blas()
    if lib is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = lib.get_num_threads()
            if _saved != 1:
                lib.set_num_threads(1)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _saved != 1:
                lib.set_num_threads(_saved)
