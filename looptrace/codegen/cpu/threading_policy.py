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


# --- threads for the cores others leave free ---
# Passive waiting keeps idle threads off the cores, but a parallel loop split
# into as many chunks as there are cores still waits for its slowest chunk:
# with one of two cores taken by another process, the chunk on the taken
# core runs at half speed or less, and the loop loses more than that core
# (bench/README.md, "Threads on a busy machine": row_norms 2.8x slower
# threaded than serial with a core busy). Before a kernel with a prange runs,
# `fit_threads` sets Numba's thread count (for the calling thread) to the
# cores of this process's CPU set that other processes leave free, measured
# from /proc/stat over the last interval of at least SAMPLE_S: the busy time
# of those CPUs less this process's own CPU time. One read of /proc/stat
# (tens of microseconds) per interval; a parallel kernel runs for longer.
# LOOPTRACE_ADAPTIVE_THREADS=0 turns it off (Numba's count, as set by the
# user, is then left alone).
SAMPLE_S = 0.05
_ADAPTIVE = os.environ.get("LOOPTRACE_ADAPTIVE_THREADS", "1") != "0"
_sample = {"t": -1.0, "busy": 0, "own": 0.0, "free": None}
_applied = threading.local()


def _cpu_set() -> set[int]:
    try:
        return os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return set(range(os.cpu_count() or 1))


def _busy_ticks(cpus: set[int]) -> int | None:
    """Busy clock ticks of these CPUs since boot (user, nice, system, irq,
    softirq, steal), or None where /proc/stat cannot be read."""
    try:
        with open("/proc/stat", "rb") as f:
            text = f.read(1 << 16)
    except OSError:
        return None
    total = 0
    for line in text.split(b"\n"):
        if not line.startswith(b"cpu") or line.startswith(b"cpu "):
            continue
        name, *fields = line.split()
        try:
            if int(name[3:]) not in cpus:
                continue
            v = [int(x) for x in fields[:8]]
        except ValueError:
            continue
        total += v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
    return total


def free_cores(now: float | None = None) -> int | None:
    """The cores of this process's CPU set that other processes left free
    over the last interval (at least 1), or None before a first interval."""
    import time

    now = time.monotonic() if now is None else now
    s = _sample
    if now - s["t"] < SAMPLE_S:
        return s["free"]
    cpus = _cpu_set()
    busy, own = _busy_ticks(cpus), time.process_time()
    if busy is None:
        return None
    if s["t"] >= 0:
        wall = now - s["t"]
        others = (busy - s["busy"]) / _CLOCK_TICKS - (own - s["own"])
        s["free"] = max(1, min(len(cpus), len(cpus) - int(others / wall + 0.5)))
    s["t"], s["busy"], s["own"] = now, busy, own
    return s["free"]


def fit_threads() -> None:
    """Run the calling thread's next parallel region on the free cores."""
    if not _ADAPTIVE:
        return
    free = free_cores()
    if free is None:
        return
    import numba

    want = min(free, numba.config.NUMBA_NUM_THREADS)
    had = getattr(_applied, "n", None)
    if had != want:
        if numba.get_num_threads() != (numba.config.NUMBA_NUM_THREADS if had is None else had):
            return  # the user set the count for this thread (numba.set_num_threads): theirs stands
        numba.set_num_threads(want)
        _applied.n = want


try:
    _CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
except (AttributeError, ValueError, OSError):
    _CLOCK_TICKS = 100
