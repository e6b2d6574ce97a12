"""How Numba's threads wait, set once before the first kernel that uses them.

Numba's default threading layer here is OpenMP (libgomp) when TBB is not
installed. libgomp's idle threads spin for a while at each barrier before
they sleep. On a machine whose other cores are taken (two cores, one busy
elsewhere), the spinning thread and the thread that still has work compete
for the same core, and a short parallel loop loses by far more than the core
that was taken. Measured here (bench/busy_core.py, /tmp/h11d runs, 2 cores,
load 1.8-2 from other processes): `np.sqrt((a*a).sum(axis=1))` at 1024x1024
took 6.1-6.3 ms threaded against 1.0 ms serial, and 8-10 ms with one more
core spinning; with OMP_WAIT_POLICY=passive (threads sleep at once) 1.05 ms
and 1.10 ms. On a quiet moment passive costs a little (0.68 vs 0.52 ms,
serial 1.0 ms), still ahead of serial; GOMP_SPINCOUNT=10000 kept a cliff
(1.7 ms busy). The workqueue layer has no cliff either but must not be
entered from two Python threads at once (looptrace's Dask workers do), and
TBB, which Numba prefers when installed, behaves like passive OpenMP.

So before the first kernel with a `prange` is built, OMP_WAIT_POLICY is set
to "passive" in this process's environment, where libgomp reads it when
Numba loads it, unless the user chose (OMP_WAIT_POLICY or GOMP_SPINCOUNT
set) or an OpenMP runtime is already loaded (then the setting could not take
effect and nothing is changed). It changes only how idle threads wait, not
which layer Numba picks (NUMBA_THREADING_LAYER, Numba's priority: TBB first
when installed), and other OpenMP code loaded later in the process waits the
same way.
"""
from __future__ import annotations

import os
import threading

_done = False
_lock = threading.Lock()
USER_CHOICES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")  # a chosen layer (NUMBA_THREADING_LAYER) may be omp


def openmp_loaded() -> bool:
    """Is an OpenMP runtime mapped into this process already (Linux; False
    where /proc is absent)?"""
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return False
    return any(lib in maps for lib in ("libgomp", "libiomp", "libomp."))


def prepare_threads() -> str | None:
    """Apply the policy once; returns what was set ("passive") or None."""
    global _done
    with _lock:
        if _done:
            return None
        _done = True
        if any(k in os.environ for k in USER_CHOICES) or openmp_loaded():
            return None
        os.environ["OMP_WAIT_POLICY"] = "passive"
        return "passive"
