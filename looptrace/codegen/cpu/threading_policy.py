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
import time

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


# --- threads for the cores others leave free ---------------------------------------------------
# Passive waiting keeps idle threads off the cores, but a parallel loop split
# into a chunk per thread still waits for its slowest chunk, and a thread
# woken on a machine whose cores are all taken waits for a time slice first.
# Measured here (/tmp/s39 runs, 2 cores, load 13-14 from other processes):
# np.exp over 2M float64 took 20-22 ms on two threads, 1.2 ms serial, 1.3 ms
# with the count set to 1 around the same kernel; NumPy 2.0-2.2 ms. So before
# a kernel with a prange runs, `fitted_threads` lowers the calling thread's
# Numba thread count to the cores of this process's CPU set that other
# processes left free over the last interval of at least SAMPLE_S (/proc/stat:
# those CPUs' busy time less this process's own CPU time), and puts the count
# back after the call: the user's own Numba code keeps the count they chose,
# and a lower count they chose is kept for ours too. /proc/stat (15-60 us a
# read) is read at most once per SAMPLE_S, and only after a slow call or
# once per REFRESH_S. LOOPTRACE_ADAPTIVE_THREADS=0 turns it off.
SAMPLE_S = 0.05
SLOW_CALL_S = 1e-3  # a call this long reads /proc/stat before the next one (fitted_threads)
REFRESH_S = 1.0  # and any call reads it when the last reading is this old
_ADAPTIVE = os.environ.get("LOOPTRACE_ADAPTIVE_THREADS", "1") != "0"
_sample = {"t": -1.0, "busy": 0, "own": 0.0, "free": None}
_sample_lock = threading.Lock()


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


def free_now(start: float, last_call_s: float):
    """The free cores at `start` (time.monotonic()), /proc/stat read again
    only after a call that took SLOW_CALL_S or more, or when the last
    reading is REFRESH_S old (free_cores); else the last reading."""
    if last_call_s >= SLOW_CALL_S or start - _sample["t"] >= REFRESH_S:
        return free_cores(start)
    return _sample["free"]


def free_cores(now: float | None = None) -> int | None:
    """The cores of this process's CPU set that other processes left free
    over the last interval (at least 1), or None before a first interval."""
    now = time.monotonic() if now is None else now
    s = _sample
    if now - s["t"] < SAMPLE_S:
        return s["free"]
    with _sample_lock:
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


def fitted_threads(kernel):
    """`kernel` (a compiled kernel with a prange, or its front door) called
    with the calling thread's Numba thread count at most the free cores, the
    count put back after the call. /proc/stat is read again (free_cores) only
    after a call of this kernel that took SLOW_CALL_S or more, or when the
    last reading is REFRESH_S old: a read right after other Python work
    costs ~50-60 us (newton_sqrt's 0.13 ms kernel, called after each 49 ms
    plain call, ran 0.21-0.34 ms when every call read it)."""
    if not _ADAPTIVE:
        return kernel
    import numba

    get, put, most = numba.get_num_threads, numba.set_num_threads, numba.config.NUMBA_NUM_THREADS
    last = [0.0]  # how long this kernel's last call took

    def call(*args):
        start = time.monotonic()
        free = free_now(start, last[0])
        try:
            if free is None or free >= most:  # a quiet machine: nothing more to read or set
                return kernel(*args)
            had = get()
            if free >= had:
                return kernel(*args)
            put(free)
            try:
                return kernel(*args)
            finally:
                put(had)
        finally:
            last[0] = time.monotonic() - start

    call.__wrapped__ = kernel
    return call


try:
    _CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
except (AttributeError, ValueError, OSError):
    _CLOCK_TICKS = 100
