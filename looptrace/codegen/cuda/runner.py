"""The cuda target's compile step and its Runner.

`compile_program` picks the mode (a GPU when one is usable, else the CUDA
simulator where allowed: NUMBA_ENABLE_CUDASIM=1 or LOOPTRACE_CUDA_SIM=1),
emits the program (emitter.py), assembles and loads the module (module.py)
and returns a `CudaRunner`.

A call copies NumPy inputs to the device (pool buffers, reused by the next
call) and takes device arrays (anything with __cuda_array_interface__) as
they are, without a copy. Results are device arrays when some argument was a
device array, else NumPy arrays, as from the plain function; scalar results
come back to the host either way.

Invariants: numba's errors never reach the user raw: a kernel that fails to
compile is an InternalError naming the op and the user's line it came from;
a bad index found on the device is an IndexError naming the user's line,
and a failed check the user's exception, raised after the call (the call's
error flag); float16, and complex where
numba.cuda cannot compute it, are refused up front (dtypes.py).
"""
from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import numpy as np

from looptrace.codegen.target import CompileOptions, MissingLowering
from looptrace.errors import InternalError, LooptraceError
from looptrace.ir.core import RNG, Op, Program, SourceLoc

from . import dtypes, module, runtime
from .access import Buf, whole
from .emitter import CudaEmitter
from .host import CallRuntime, LaunchFailed
from .target import TARGET
from .values import HostScalar, Lit, RngLoc

REPORT = "this is a looptrace bug: please report it with this message and the generated module"
SIM_SWITCH = "LOOPTRACE_CUDA_SIM"


def simulator_allowed() -> bool:
    return bool(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or os.environ.get(SIM_SWITCH) == "1")


def select_mode() -> str:
    """"gpu" with a usable GPU; else "sim" where the simulator is allowed; else a clear error."""
    runtime.check_installation()
    if runtime.device_available():
        return "gpu"
    if simulator_allowed():
        return "sim"
    runtime.require_device()  # raises CudaUnavailableError saying why
    return "gpu"


_KERNEL_KINDS = {"grid": "fused grid-stride", "tree": "block tree reduction", "gemm": "tiled product",
                 "single": "persistent single-block", "coop": "cooperative persistent"}


def batched_notes(program: Program, kernels: list) -> dict:
    """For `explain`: each vectorized loop's GPU side, the kernels its batched ops
    became (those from the loop's body lines), where no strategy note names it."""
    notes = {}
    for info in program.loops:
        if info.kind not in ("vectorized", "reduction") or not info.body_lines:
            continue
        kinds = [rec.kind for rec in kernels if rec.op is not None and rec.op.loc is not None
                 and (rec.op.loc.file, rec.op.loc.line) in info.body_lines]
        if kinds:
            counts = ", ".join(f"{kinds.count(k)} {_KERNEL_KINDS.get(k, k)}" for k in dict.fromkeys(kinds))
            notes[(info.file, info.line)] = f"GPU: its batched ops run in {len(kinds)} " \
                                            f"kernel{'s' * (len(kinds) > 1)} ({counts})"
        else:
            notes[(info.file, info.line)] = "GPU: its batched ops run inside another kernel (a persistent " \
                                            "loop's) or as library calls (kernel_source and the notes list them)"
    return notes


class CudaRunner:
    """A compiled program: call it with the program's runtime arguments."""

    takes_device_arrays = True  # api.py passes the caller's GPU arrays through

    def __init__(self, program: Program, em: CudaEmitter, source: str, ns: dict, mode: str):
        self.program = program
        self.em = em
        self.source = source
        self.ns = ns
        self.mode = mode
        self.host = ns["host"]
        self.kernels = {rec.code.name: rec for rec in em.kernels}
        self.plans = {name: rec.notes["plan"] for name, rec in self.kernels.items() if "plan" in rec.notes}
        self.loop_notes = {**batched_notes(program, em.kernels), **em.loop_notes}
        self.notes = list(dict.fromkeys(em.notes))
        self._consts: list | None = None

    def __call__(self, args: list) -> list:
        device_out = any(_is_device_array(a) for a in args)
        rt = CallRuntime(self.mode, self._device_consts(), self.em.host_ops, self.plans, self.em.error_sites)
        try:
            inputs = [self._input(rt, v, a) for v, a in zip(self.program.body.args, args)]
            try:
                results = self.host(rt, *inputs)
            except LaunchFailed as e:
                op = self._kernel_op(e.error) or self.kernels[e.kernel].op
                raise self._compile_error(op, e.error) from None
            except (LooptraceError, MemoryError, IndexError, runtime.CudaUnavailableError):
                raise
            except Exception as e:
                raise self._compile_error(self._host_op(e), e) from None
            err = rt.error()
            if err is not None:
                raise rt.call_error(*err)
            seen = {id(x) for x in inputs}  # a device result never aliases an argument or another result
            return [self._output(rt, v, r, device_out, seen) for v, r in zip(self.program.body.results, results)]
        finally:
            rt.finish()

    # --- arguments and results ------------------------------------------------------------------
    def _device_consts(self) -> list:
        if self._consts is None:
            ns = runtime.namespace(self.mode)
            self._consts = [ns.to_device(c) for c in self.em.consts]
        return self._consts

    def _input(self, rt: CallRuntime, v, a: Any) -> Any:
        if v.dtype == RNG:
            return a
        if v.ndim == 0:
            if _is_device_array(a):
                a = _as_numba(a, self.mode).copy_to_host()
            return np.asarray(a, dtype=v.dtype).reshape(())[()]
        if _is_device_array(a):
            return rt.flat_device(_as_numba(a, self.mode))
        return rt.upload(np.ascontiguousarray(a, dtype=v.dtype))

    def _output(self, rt: CallRuntime, v, r: tuple, device_out: bool, seen: set) -> Any:
        kind = r[0]
        if kind == "g":
            return r[1]
        if kind == "s":
            return np.asarray(r[1], dtype=v.dtype)
        if kind == "d":
            return np.asarray(rt.fetch(r[1], r[2], v.dtype), dtype=v.dtype)
        buf, shape = r[1], tuple(int(d) for d in r[2])
        n = int(np.prod(shape, dtype=np.int64))
        if device_out:
            if n == 0:
                return rt.ns.device_array(shape, dtype=v.dtype)
            if id(buf) in seen:
                out = rt.ns.device_array(n, dtype=v.dtype)
                out.copy_to_device(buf[:n])
                return out.reshape(shape)
            seen.add(id(buf))
            rt.detach(buf)
            return buf[:n].reshape(shape)
        if n == 0:
            return np.empty(shape, dtype=v.dtype)
        return buf[:n].copy_to_host().reshape(shape)

    # --- errors ---------------------------------------------------------------------------------
    def _host_op(self, e: Exception) -> Op | None:
        filename = self.ns["__looptrace_file__"]
        for frame in reversed(traceback.extract_tb(e.__traceback__)):
            if frame.filename == filename:
                return self.em.op_at_line(frame.lineno)
        return None

    def _kernel_op(self, e: BaseException) -> Op | None:
        """The op of the kernel line an error points at (a simulator traceback, or numba's message)."""
        import re

        filename = self.ns["__looptrace_file__"]
        lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == filename]
        lines += [int(n) for n in re.findall(r"line (\d+)", str(e))]
        for lineno in reversed(lines):
            op = self.em.kernel_op_at_line(lineno)
            if op is not None:
                return op
        return None

    def _compile_error(self, op: Op | None, e: BaseException) -> InternalError:
        what = f"`{op.prim.name}`" if op is not None else "the program"
        first = _summary(str(e)) or type(e).__name__
        return InternalError(f"the cuda backend could not compile {what} (numba.cuda: {first})",
                             op.loc if op is not None else None,
                             f"{REPORT}; backend='cpu' or 'interpret' runs it meanwhile")

    # --- for tests and explain ------------------------------------------------------------------
    def kernel_signatures(self) -> list[tuple[str, tuple, Op | None]]:
        """(kernel name, numba argument types, op) of every generated kernel, for PTX compilation."""
        from numba import from_dtype, types

        out = []
        for name, rec in self.kernels.items():
            sig = tuple(types.Array(from_dtype(p.dtype), 1, "C") if p.kind == "array" else from_dtype(p.dtype)
                        for p in rec.code.params)
            out.append((name, sig, rec.op))
        return out


def _summary(message: str) -> str:
    import re

    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in message.splitlines()]
    lines = [ln for ln in lines if ln]
    for ln in lines:
        if re.match(r"^[A-Za-z]*Error:", ln) or ln.startswith(("No implementation", "Cannot", "Invalid")):
            return ln
    return lines[0] if lines else ""


def _is_device_array(a: Any) -> bool:
    return hasattr(a, "__cuda_array_interface__") or type(a).__name__ == "FakeCUDAArray"


def _as_numba(a: Any, mode: str) -> Any:
    """A numba device array (or the simulator's) viewing `a` without a copy."""
    from .interop import as_numba

    return as_numba(a)


# --- compiling ---------------------------------------------------------------------------------------
def compile_program(program: Program, options: CompileOptions = CompileOptions()) -> CudaRunner:
    dtypes.check_program(program)
    mode = select_mode()
    em = emit_program(program, mode)
    source = module_source(em)
    if os.environ.get("LOOPTRACE_DUMP_KERNEL"):
        print(f"--- cuda module for {program.name} ---\n{source}", file=sys.stderr)
    return CudaRunner(program, em, source, module.load(source, program.name, mode), mode)


def emit_program(program: Program, mode: str) -> CudaEmitter:
    from .rules.contract import cublas_available

    em = CudaEmitter(program, TARGET, sim=mode == "sim")
    em.cublas = cublas_available(mode)
    for k, a in enumerate(program.body.args):
        name = f"a{k}"
        if a.dtype == RNG:
            em.locs[a.id] = RngLoc(name)
        elif a.ndim == 0:
            em.locs[a.id] = HostScalar(name, np.dtype(a.dtype))
        else:
            em.locs[a.id] = whole(Buf("host", name, np.dtype(a.dtype)), tuple(a.shape))
    try:
        em.emit_block(program.body, finish=lambda: _emit_return(em))
    except (NotImplementedError, MissingLowering, AssertionError, KeyError, TypeError, ValueError,
            AttributeError, StopIteration) as e:
        op: Op | None = getattr(e, "looptrace_op", None)
        loc: SourceLoc | None = op.loc if op is not None else None
        name = f"`{op.prim.name}`" if op is not None else "the program"
        raise InternalError(f"the cuda backend cannot lower {name}: {e}", loc, REPORT) from None
    return em


def _emit_return(em: CudaEmitter) -> None:
    outs = []
    for v in em.program.body.results:
        loc = em.loc(v)
        if isinstance(loc, RngLoc):
            outs.append(f"('g', {loc.name})")
        elif isinstance(loc, (HostScalar, Lit)):
            outs.append(f"('s', {loc.name if isinstance(loc, HostScalar) else loc.text})")
        elif v.ndim == 0:
            outs.append(f"('d', {loc.buf.name}, {em.host_offset(loc)})")
        else:
            if not loc.plain() or loc.buf.name.startswith("rt.consts"):
                dst = em.alloc_temp(tuple(v.shape), v.dtype)
                em.copy_access(dst, loc)
                loc = dst
            shape = "".join(em.size_of(d) + ", " for d in v.shape)
            outs.append(f"('a', {loc.buf.name}, ({shape}))")
    em.hline("return [" + ", ".join(outs) + "]")


def module_source(em: CudaEmitter) -> str:
    kernels = [rec.code.source() for rec in em.kernels]
    args = ", ".join(["rt"] + [f"a{k}" for k in range(len(em.program.body.args))])
    em.host_first_line = None
    lines = [f"def host({args}):"] + ["    " * d + t for d, t in em.hlines]
    host = "\n".join(lines) + "\n"
    source = module.assemble(em.program.name, kernels, host)
    text = source.splitlines()
    em.host_first_line = text.index(lines[0]) + 2  # 1-based line of hlines[0]
    for rec in em.kernels:  # 1-based line of each kernel's first body line
        head = text.index(f"def {rec.code.name}({', '.join(p.name for p in rec.code.params)}):")
        rec.notes["first_line"] = head + 2 + len(rec.code.preamble)
    return source


__all__ = ["CudaRunner", "compile_program"]
