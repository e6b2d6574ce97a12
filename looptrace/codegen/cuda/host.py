"""What generated host code calls during one call: `rt` in `host(rt, *args)`.

`CallRuntime` is created per call. It hands out device buffers from the
process's pool for the mode (pool.py: a buffer of a given size is allocated
once and reused across calls and steps), launches kernels with launch
configurations from limits.py (small fixed ones under the simulator, whose
threads are OS threads), fetches the few scalars the host must see (a trip
count, a predicate), runs host-side scalar ops and random draws, and owns
the call's error flag: an int64[8] device buffer kernels write the first bad
index or failed check into (code + 1, index or value, size, and a check's
pending key: rules/check.py; then the failing iteration and the launch stamp
of an iterations kernel's report and its lock: module.py `report_first`),
read once after the call.

Invariant: every buffer taken during a call goes back to the pool when the
call ends, except those handed to the caller as results (`detach`); a buffer
is never released while a kernel queued on the default stream may still use
it, because every kernel of every call goes to that one stream.
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from . import limits, runtime
from .pool import DevicePool

_POOLS: dict[str, DevicePool] = {}
_POOL_LOCK = threading.Lock()
SIM_THREADS = 4  # the simulator runs a thread per CUDA thread: keep grids tiny there
SIM_BLOCKS = 2


def pool_for(mode: str) -> DevicePool:
    with _POOL_LOCK:
        if mode not in _POOLS:
            _POOLS[mode] = DevicePool(mode)
        return _POOLS[mode]


class LaunchFailed(Exception):
    """A kernel failed to compile or run; carries the kernel's name for the error message."""

    def __init__(self, kernel: str, error: BaseException):
        super().__init__(f"{kernel}: {type(error).__name__}: {error}")
        self.kernel = kernel
        self.error = error


class CallRuntime:
    def __init__(self, mode: str, consts: list, host_ops: list, kernel_plans: dict, error_sites: list):
        self.mode = mode
        self.ns = runtime.namespace(mode)
        self.pool = pool_for(mode)
        self.consts = consts
        self.host_ops = host_ops
        self.plans = kernel_plans  # kernel name -> launch plan of persistent kernels
        self.error_sites = error_sites  # error code -> (SourceLoc, axis)
        self.taken: list[Any] = []
        self._pooled: set[int] = set()
        self._err = None
        self._stamps = 0

    # --- memory -----------------------------------------------------------------------------------
    def empty(self, n: int, dtype: Any, label: str = "buffer") -> Any:
        buf = self.pool.empty((max(int(n), 1),), dtype, label)
        self.taken.append(buf)
        self._pooled.add(id(buf))
        return buf

    def upload(self, host: np.ndarray) -> Any:
        host = np.ascontiguousarray(host).reshape(-1)
        buf = self.empty(host.size, host.dtype, "an uploaded array")
        if host.size:
            buf[: host.size].copy_to_device(host)
        return buf

    def flat_device(self, a: Any) -> Any:
        """A caller's device array as a flat C-contiguous buffer (a view; a copy if strided)."""
        if a.ndim == 0 or a.size == 0:
            return self.empty(1, a.dtype) if a.size == 0 else a.reshape(1)
        if a.is_c_contiguous():
            return a.reshape(a.size)
        buf = self.empty(a.size, a.dtype, "a contiguous copy of a strided argument")
        kernel = strided_copy_kernel(a.ndim, self.mode)
        self.launch(kernel, a.size, (a, buf))
        return buf

    def mark(self) -> int:
        """A point in this call's allocations (a step of a host-driven loop starts)."""
        return len(self.taken)

    def release_since(self, mark: int, keep: tuple) -> None:
        """Hand back what was taken since `mark`, except the buffers in `keep` (the carries)."""
        kept = {id(b) for b in keep}
        later = self.taken[mark:]
        self.taken = self.taken[:mark] + [b for b in later if b is not None and id(b) in kept]
        for buf in later:
            if buf is not None and id(buf) not in kept and id(buf) in self._pooled:
                self._pooled.discard(id(buf))
                self.pool.release(buf)

    def rotate(self, old: tuple, new: tuple) -> None:
        """Carries replaced by the next step's: release the old buffers no new carry uses."""
        alive = {id(b) for b in new}
        for buf in old:
            if id(buf) not in alive:
                self.release(buf)

    def release(self, buf: Any) -> None:
        """Hand a pool buffer back now (a carry replaced by the next step's)."""
        if id(buf) in self._pooled:
            self._pooled.discard(id(buf))
            self._forget(buf)
            self.pool.release(buf)

    def _forget(self, buf: Any) -> None:
        """Drop buf from the taken list in place (positions stay: marks remain valid)."""
        for k, b in enumerate(self.taken):
            if b is buf:
                self.taken[k] = None

    def detach(self, buf: Any) -> None:
        """A buffer handed to the caller: never returned to the pool."""
        if id(buf) in self._pooled:
            self._pooled.discard(id(buf))
            self._forget(buf)

    def finish(self) -> None:
        for buf in self.taken:
            if buf is not None and id(buf) in self._pooled:
                self.pool.release(buf)
        self.taken, self._pooled = [], set()

    # --- scalars ------------------------------------------------------------------------------
    def fetch(self, buf: Any, off: int, dtype: Any) -> Any:
        """One element of a device buffer, on the host (a synchronization)."""
        return np.dtype(dtype).type(buf[int(off): int(off) + 1].copy_to_host()[0])

    def fetch_array(self, buf: Any, off: int, n: int) -> np.ndarray:
        if int(n) == 0:
            return np.empty(0, dtype=buf.dtype)
        return buf[int(off): int(off) + int(n)].copy_to_host()

    def host_op(self, k: int, args: tuple) -> Any:
        op = self.host_ops[k]
        with np.errstate(all="ignore"):
            out = op.prim.impl(*[np.asarray(a) for a in args], **op.attrs)
        return np.asarray(out, dtype=op.out.dtype).reshape(())[()]

    # --- errors -------------------------------------------------------------------------------
    def check_start(self, i: Any, n: int, size: int, code: int) -> int:
        """A dynamic start known to the host, checked there (NumPy's rules)."""
        i = int(i)
        if i < 0 and size == 1:
            i += n
        if not 0 <= i <= n - size:
            raise self.index_error(code, i, n)
        return i

    def call_error(self, code: int, i: int, n: int) -> BaseException:
        """The exception of error code `code`: a check's failure (the user's
        exception, rules/check.py) or a bad index."""
        site = self.error_sites[code][1]
        if not isinstance(site, int):  # an ops.check.Failure; `i` is its value
            return site.make(i if site.valued else None)
        return self.index_error(code, i, n)

    def failed(self) -> bool:
        """Has a kernel reported an error so far (a synchronization)? A host-driven
        `while` stops there, as the cpu target's raise would."""
        return self._err is not None and int(self._err[:1].copy_to_host()[0]) != 0

    def index_error(self, code: int, i: int, n: int) -> IndexError:
        from looptrace.errors import format_message

        loc, axis = self.error_sites[code]
        return IndexError(format_message(f"index {i} is out of bounds for axis {axis} with size {n}", loc))

    @property
    def err(self) -> Any:
        if self._err is None:
            self._err = self.upload(np.zeros(8, np.int64))
        return self._err

    def stamp(self) -> int:
        """A number of its own for each launch that asks (1, 2, ...): an iterations
        kernel's reports tell its own from an earlier launch's (module.py `report_first`)."""
        self._stamps += 1
        return self._stamps

    def error(self) -> tuple[int, int, int] | None:
        """(code, index or value, size) of the first error a kernel reported, or None."""
        if self._err is None:
            return None
        code, i, n = self._err.copy_to_host()[:3]
        return None if code == 0 else (int(code) - 1, int(i), int(n))

    # --- launches -----------------------------------------------------------------------------
    def config(self, n: int) -> tuple[int, int]:
        if self.mode == "sim":
            return (SIM_BLOCKS if n > SIM_THREADS else 1), SIM_THREADS
        return limits.grid_stride_config(int(n))

    def launch(self, kernel: Any, n: int, args: tuple) -> None:
        """A grid-stride kernel over n elements."""
        if int(n) <= 0:
            return
        blocks, threads = self.config(n)
        self._run(kernel, (blocks, threads), args)

    def launch_grid(self, kernel: Any, grid: tuple, block: tuple, args: tuple) -> None:
        if min(grid) <= 0:
            return
        self._run(kernel, (grid, block), args)

    def chunks(self, n: int) -> int:
        """Chunks a tree-reduction pass leaves for n values (at least 1)."""
        per = self.ns_const("TREE") * self.ns_const("TREE_ITEMS")
        return max(1, -(-int(n) // per))

    def ns_const(self, name: str) -> int:
        from .module import TREE

        return TREE[self.mode][0 if name == "TREE" else 1]

    def launch_tree(self, kernel: Any, nchunks: int, args: tuple) -> None:
        blocks = min(int(nchunks), 2 if self.mode == "sim" else limits.HOPPER.sm_count * 4)
        self._run(kernel, (blocks, self.ns_const("TREE")), args)

    def chunked_scan(self, a: Any, b: Any, h0: Any, H: Any, T: int, S: int) -> None:
        from . import linear_scan

        shape = (int(T), int(S))
        n = shape[0] * shape[1]
        alloc = lambda shp, dt: self.empty(int(np.prod(shp)), dt)[: int(np.prod(shp))].reshape(shp)  # noqa: E731
        geometry = {} if self.mode == "gpu" else {"cx": 2, "ty": 2, "items": 2}
        linear_scan.chunked_scan(a[:n].reshape(shape), b[:n].reshape(shape), h0[: shape[1]],
                                 H[:n].reshape(shape), self.mode, alloc, **geometry)

    def matrix_power(self, step: Any, square: Any, out: Any, out_off: int, a: Any, a_off: int, k: int,
                     base: Any, tmp: Any, tmp2: Any, size: int, m: int, squaring_pays) -> None:
        """out[out_off:] = P @ A^k (or A^k @ P, as `step` multiplies) by squaring or the chain."""
        i64 = np.int64
        base[: m * m].copy_to_device(a[int(a_off): int(a_off) + m * m])
        r, ro, t = out, int(out_off), tmp
        to = 0
        if squaring_pays(k):
            while k > 0:
                if k & 1:
                    self.launch(step, size, (r, i64(ro), base, i64(0), t, i64(to)))
                    r, ro, t, to = t, to, r, ro
                k >>= 1
                if k > 0:
                    self.launch(square, m * m, (base, i64(0), base, i64(0), tmp2, i64(0)))
                    base, tmp2 = tmp2, base
        else:
            for _ in range(max(k, 0)):
                self.launch(step, size, (r, i64(ro), base, i64(0), t, i64(to)))
                r, ro, t, to = t, to, r, ro
        if r is not out:
            out[int(out_off): int(out_off) + size].copy_to_device(r[ro: ro + size])

    def cupy_einsum(self, spec: str, operands: tuple, out: tuple) -> None:
        """cuBLAS through CuPy: einsum of zero-copy strided views, written into `out`'s buffer."""
        cp = self.cupy()
        views = [_cupy_view(cp, *o) for o in operands]
        res = cp.einsum(spec, *views)
        _cupy_view(cp, *out)[...] = res

    def launch_team(self, kernel: Any, args: tuple) -> None:
        """A persistent kernel: one block (or a cooperative grid) for the whole loop."""
        plan = self.plans[kernel.__name__ if hasattr(kernel, "__name__") else kernel.py_func.__name__]
        blocks, threads, shared = plan.launch(self.mode)
        if self.mode == "gpu":  # the registers ptxas gave the kernel cap its block size
            compiled = kernel.compile(tuple(kernel.typeof_pyval(a) for a in args))
            cap = int(compiled.max_threads_per_block)
            threads = max(limits.WARP, min(threads, cap // limits.WARP * limits.WARP))
        if self.mode == "gpu" and plan.cooperative:
            blocks = max(1, min(blocks, limits.cooperative_grid_limit(kernel, args, threads, shared, self.mode)))
        if self.mode == "gpu":
            limits.prepare_launch(kernel, args, threads, shared, self.mode,
                                  cooperative_blocks=blocks if plan.cooperative else None)
        self._run(kernel, (blocks, threads, 0, shared), args)

    def _run(self, kernel: Any, config: tuple, args: tuple) -> None:
        try:
            kernel[config](*args)
        except Exception as e:  # a compile error, or (under the simulator) a failing thread
            from looptrace.errors import LooptraceError

            if isinstance(e, (LooptraceError, MemoryError)):
                raise
            name = getattr(getattr(kernel, "py_func", kernel), "__name__", str(kernel))
            raise LaunchFailed(name, e) from e

    # --- products -------------------------------------------------------------------------------
    def cupy(self) -> Any:
        import cupy

        return cupy


def _cupy_view(cp: Any, buf: Any, off: int, shape: tuple, strides: tuple) -> Any:
    """A CuPy array viewing (buf, element offset, shape, element strides) without a copy."""
    base = cp.asarray(buf)
    item = base.dtype.itemsize
    mem = base.data + int(off) * item
    return cp.ndarray(tuple(int(d) for d in shape), dtype=base.dtype, memptr=mem,
                      strides=tuple(int(s) * item for s in strides))


_STRIDED: dict = {}


def strided_copy_kernel(ndim: int, mode: str) -> Any:
    """Kernel (src N-d strided, dst flat): dst[e] = src[unravel(e)] in C order."""
    key = (ndim, mode)
    if key not in _STRIDED:
        idx = ", ".join(f"i{k}" for k in range(ndim))
        lines = ["def strided_copy(src, dst):",
                 "    for e in range(cuda.grid(1), dst.shape[0], cuda.gridsize(1)):",
                 "        r = e"]
        for k in range(ndim - 1, -1, -1):
            lines.append(f"        i{k} = r % src.shape[{k}]")
            lines.append(f"        r = r // src.shape[{k}]")
        lines.append(f"        dst[e] = src[{idx}]")
        ns = {"cuda": runtime.numba_cuda()}
        exec("\n".join(lines), ns)
        _STRIDED[key] = runtime.jit(mode)(ns["strided_copy"])
    return _STRIDED[key]
