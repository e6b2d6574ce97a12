"""The Numba CPU target's compile step: a Program becomes one generated
`@numba.njit` kernel.

`compile_program` emits the kernel's source (emitter.py), writes it to the
cache directory (cache.py) so Numba's disk cache can serve later processes,
imports it, and returns a `CpuKernel`: the target's Runner, a callable taking
the program's runtime arguments and returning its results. A signature whose
source differs from an earlier one's only in numeric literals may run its
family's shape-generic kernel instead, with those literals as extra
arguments (generic.py).

Invariants: Numba's errors never reach the user raw. A compile failure is an
`InternalError` naming the op and the user's line it came from; an index out
of bounds in generated code is an `IndexError` naming the user's line. Set
LOOPTRACE_DUMP_KERNEL=1 to print each generated kernel to stderr (the source
is also `CpuKernel.source`, and `explain(...).kernel_source`).
"""
from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
from numba.core.errors import NumbaError, NumbaWarning
from numba.core.registry import CPUDispatcher

from looptrace.codegen.target import CompileOptions, MissingLowering
from looptrace.errors import InternalError, UnsupportedError, format_message, index_error_class
from looptrace.ir.core import RNG, Op, Program, SourceLoc, walk
from looptrace.ops.indexing import index_message

from looptrace.sigcache import max_entries

from . import cache as disk
from . import generic, malloc
from .blas_threads import fitted_blas, one_blas_thread
from .llvm_inlined import WRAPPED
from .emitter import Emitter, emit_program, kernel_source
from .threading_policy import fitted_threads, prepare_threads
from .target import TARGET
from .templates import CheckFailed, ShapeMiss

malloc.tune()  # large kernel temporaries come from the heap, not a fresh mmap each call

# scalar result dtypes whose Numba result (a Python float, int, bool, complex) needs no conversion
_PLAIN_SCALARS = {np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_), np.dtype(np.complex128)}

# Numba's LinAlgError for an input with an inf or a NaN (lapack.py's small LU raises it too)
NONFINITE = "Array must not contain infs or NaNs"
REPORT = "this is a looptrace bug: please report it with this message and the generated kernel"


class CpuKernel:
    """A compiled program: call it with the program's runtime arguments."""

    def __init__(self, kernel, em: Emitter, source: str, path: Path | None, shared=None):
        self.kernel = kernel
        self.em = em
        self.source = source
        self.path = path
        self.consts = [c for _, c in em.const_args]
        # a family's generic kernel (generic.py): (Generic, its parameter values, Family, and
        # a thunk giving this signature's own (kernel, source, path) should it fail to compile)
        self.shared = shared
        self.loop_notes = dict(em.loop_notes)  # what `explain` adds to each loop's report
        self.holes = tuple(shared[1]) if shared is not None else ()
        # results that are scalars come back as 0-d arrays of their dtype (as in the interpreter)
        self._scalars = {k: v.dtype for k, v in enumerate(em.program.body.results)
                         if v.dtype != RNG and v.ndim == 0}
        self._front = None  # `front`, made on first use

    @property
    def consumed(self) -> tuple[int, ...]:
        """The arguments the kernel writes into directly (emitter.emit_program)."""
        return self.em.consumed

    def __call__(self, args: list) -> list:
        args = [a[()] if type(a) is np.ndarray and a.ndim == 0 else a for a in args]
        for k in self.em.consumed:  # written into directly (emitter.emit_program): unless it is
            a = args[k]             # read-only (the write back then raises NumPy's ValueError) or shares
            if not a.flags.writeable or any(  # memory with another argument, which must read the old values
                    j != k and isinstance(b, np.ndarray) and np.may_share_memory(a, b) for j, b in enumerate(args)):
                args[k] = a.copy()
        return self.call_plain(args)

    def call_plain(self, args) -> list:
        """Run on arguments Numba takes as they are: arrays (not 0-d) and scalars."""
        if not self.kernel.overloads:
            self._compile(args)
        n_compiled = len(self.kernel.overloads)
        kernel = self._threaded(self.kernel)
        try:
            if self.em.blas_in_prange:
                with one_blas_thread():
                    outs = kernel(*args, *self.consts, *self.holes)
            else:
                outs = kernel(*args, *self.consts, *self.holes)
        except Exception as e:
            return self._failed(e, args, n_compiled)
        if not self._scalars:
            return outs
        return [x if k not in self._scalars else np.asarray(x, dtype=self._scalars[k])
                for k, x in enumerate(outs)]

    def _threaded(self, kernel):
        """`kernel`, or for a kernel with a prange, `kernel` run on the cores
        other processes leave free (threading_policy.fitted_threads); one
        that calls BLAS outside a prange, with BLAS's threads so fitted too
        (blas_threads.fitted_blas)."""
        blas = self.em.calls_blas and not self.em.blas_in_prange
        if not self.em.uses_prange and not blas:
            return kernel
        held = self.__dict__.get("_fitted")
        if held is None or held[0] is not kernel:
            fitted = fitted_threads(kernel) if self.em.uses_prange else kernel
            held = self._fitted = (kernel, fitted_blas(fitted) if blas else fitted)
        return held[1]

    def front(self):
        """The kernel's front door for a warm call (`_Front`), one per Numba
        kernel (a family's generic kernel has one for all its members, each
        passing its own sizes); None where the kernel does not check its
        arguments' shapes itself. (A generic kernel that then fails to
        compile for a call's types gives way to the signature's own,
        `_specialize`: its door never has a version for them, and every call
        takes the general path.)"""
        if self._front is None and self.em.shape_checked and isinstance(self.kernel, CPUDispatcher):
            kernel = self.kernel
            with _Front._lock:
                door = getattr(kernel, "_lt_front", None)
                if door is None:
                    door = kernel._lt_front = _Front.of(kernel)
            self._front = door
        return self._front

    def fast(self, pick: int | None = None, args: list[str] | None = None,
             guard: tuple[str, dict] | None = None, build: tuple[str, dict, Callable] | None = None,
             fallback: Callable | None = None, front: bool = False, after: tuple[str, dict] | None = None,
             positions: tuple[int, Callable] | None = None):
        """`call_plain` for a warm call that needs none of its extra work (no
        BLAS thread limit, scalar results that Numba gives back as the Python
        float, int, bool or complex of their dtype), as one function: the
        kernel's call and, with `pick`, its output `pick` only; None where
        the extra work is needed. `args`: the kernel's arguments as
        expressions of the call's tuple `a` or of the names `guard` unpacks
        it into (api.py `_kernel_args`: some positions, NumPy scalars as
        Python numbers), else `a`'s items. The kernel is called with its
        arguments spelled out, constants included (`kernel(x0, x1, K0)`,
        not `kernel(*b, *tail)`, whose tuple is built per call): after other
        Python work a call touches as few objects as it can (bench/README.md
        twenty-fourth session: 1.5-2 us of a 10 us call, right after a plain
        Python loop). api.py calls it with nothing else on the way.
        `guard`: lines run first (indented, they may return) and the names
        they use (api.py `_guard`). `build`: the call's result as an
        expression of the kernel's outputs `o`, the names it uses, and the
        general builder for outputs that come another way (a new layout
        compiled, a generic kernel). `fallback`: made as a `__call__` (api.py
        JitFunction._set_mono), `(self, *a, **kw)`, that calls
        `fallback(self, *a, **kw)` with keywords or where a guard line would
        return MISS. `front` (with `fallback`): the call goes to `front()`,
        and the guard need not test the arrays' dtypes, shapes and flags
        (api.py `_guard(key, test_arrays=False)`): that door takes exactly the
        types the kernel was compiled for, and the kernel refuses other
        shapes; whatever it raises, the call is made again by `fallback`,
        which runs the kernel the general way (and raises the user's error
        where the kernel raised one). None where there is no front door.
        `after` (with `front`): lines that end the call from the outputs
        `o` and the arguments `a`, and their names (api.py `_after_writing`:
        a program that writes into its arguments, whose kernel tests that
        they share no memory with another argument, templates.apart).
        `positions` (with `fallback`): the function's parameter count and
        `to_positions(self, a, kw)` (api.py), which puts keywords and
        defaults in their places or gives None; a call with keywords or
        defaults then goes on in this frame (it went through `fallback` and
        back here: two more frames, 4.4 against 2.5 us by position)."""
        # a scalar of another dtype (int32, float32) comes back from Numba as the Python number;
        # only `build` turns it into the NumPy scalar of its dtype (api.py `_flat_tuple`)
        odd = any(d not in _PLAIN_SCALARS for d in self._scalars.values())
        if self.em.blas_in_prange or odd and (build is None or after is not None or self.shared is not None):
            return None
        if front and (fallback is None or guard is None or self.front() is None):
            return None
        at = "" if pick is None else f"[{pick}]"
        tail = (*self.consts, *self.holes)
        env: dict = {f"K{k}": c for k, c in enumerate(tail)}
        given = "*a" if args is None else "".join(e + ", " for e in args)
        b = "a" if args is None else f"({given})"
        call = f"kernel({given}{''.join(f'K{k}, ' for k in range(len(tail)))})"
        if front:
            env.update(kernel=self._threaded(self.front()), **(build[1] if build is not None else {}))
            # the general path runs outside the handler: its error is raised without this one as context
            env["MISS"] = ShapeMiss
            body = (f"    try:\n        o = {call}\n"
                    f"    except Exception:\n        o = MISS\n"
                    f"    if o is MISS:\n        return FALLBACK(self, *a)\n")
            if after is not None:
                body += after[0]
                env.update(after[1])
            else:
                body += f"    return {build[0] if build is not None else 'o' + at}\n"
        elif build is not None:
            expr, names, general = build
            if self.shared is not None:
                env.update(run=self._run_fast, general=general)
                body = f"    return general(run({b}))\n"
            else:
                env.update(kernel=self._threaded(self.kernel), failed=self._failed, general=general, **names)
                body = (f"    try:\n        o = {call}\n"
                        f"    except Exception as e:\n        return general(failed(e, {b}, None))\n"
                        f"    return {expr}\n")
        elif self.shared is not None:  # its generic kernel may give way to its own (`_specialize`)
            env.update(run=self._run_fast)
            body = f"    return run({b}){at}\n"
        else:
            env.update(kernel=self._threaded(self.kernel), failed=self._failed)
            body = (f"    try:\n        return {call}{at}\n"
                    f"    except Exception as e:\n        return failed(e, {b}, None){at}\n")
        head = "def direct(a):\n"
        if guard is not None:
            lines = guard[0]
            if fallback is not None:
                lines = lines.replace("return MISS\n", "return FALLBACK(self, *a)\n")
            body = lines + body
            env.update(guard[1])
        if fallback is not None:
            head = "def direct(self, *a, **kw):\n    if kw:\n        return FALLBACK(self, *a, **kw)\n"
            if positions is not None:
                head = ("def direct(self, *a, **kw):\n"
                        f"    if kw or len(a) != {positions[0]}:\n"
                        "        b = TO_POSITIONS(self, a, kw)\n"
                        "        if b is None:\n            return FALLBACK(self, *a, **kw)\n"
                        "        a = b\n")
                env["TO_POSITIONS"] = positions[1]
            env["FALLBACK"] = fallback
        exec(head + body, env)  # noqa: S102 (positions and names of our own)
        return env["direct"]

    def _run_fast(self, args) -> tuple:
        kernel = self.kernel
        n_compiled = len(kernel.overloads)
        try:
            return self._threaded(kernel)(*args, *self.consts, *self.holes)
        except Exception as e:
            return self._failed(e, args, n_compiled)

    def _failed(self, e: Exception, args, n_compiled: int | None):
        """The kernel call raised: a run-time check of the user's program, an
        index out of bounds, or a new argument layout that did not compile
        (nothing ran: compile for it, or specialize and run again).
        `n_compiled`: the kernel's compiled versions before the call (None:
        not counted; then only a Numba error is a compile failure)."""
        if isinstance(e, CheckFailed):  # a data-dependent raise/assert of the user's program
            raise self.em.check_sites[e.args[0]].make(*e.args[1:2]) from None
        if isinstance(e, IndexError):
            err = self._index_error(e)
            err.looptrace_located = True  # a run-time failure of the user's program (api.py `_after_failure`)
            raise err from None
        if isinstance(e, np.linalg.LinAlgError):
            err = self._linalg_error(e)
            err.looptrace_located = True
            # Numba's LAPACK wrappers (and lapack.py's small LU) refuse a matrix with an inf or a
            # NaN, where NumPy's compute on and return NaNs or raise their own error: nothing was
            # written yet (emitter.may_raise), so the caller runs the plain function (api.py)
            err.looptrace_plain = NONFINITE in str(e)
            raise err from None
        if not isinstance(e, NumbaError) and (n_compiled is None or len(self.kernel.overloads) == n_compiled):
            raise e
        if self.shared is not None:  # the generic kernel does not compile for these types
            self._specialize()
            return self.call_plain(args)
        raise self._compile_error(e) from None

    def _compile(self, args: list) -> None:
        """Compile (or load from disk) for these arguments' types."""
        sig = tuple(numba.typeof(a) for a in [*args, *self.consts, *self.holes])
        try:
            with warnings.catch_warnings(), disk.compile_lock(self.path):
                warnings.simplefilter("ignore", NumbaWarning)
                self.kernel.compile(sig)
        except Exception as e:  # nothing of the user's runs while compiling: any error is ours
            if self.shared is None:
                raise self._compile_error(e) from None
            self._specialize()
            self._compile(args)

    def _specialize(self) -> None:
        """The generic kernel failed to compile: its family goes back to
        specialized kernels, and this signature compiles its own."""
        g, _, fam, own = self.shared
        with fam.lock:
            fam.closed = True
            if g in fam.generics:
                fam.generics.remove(g)
        self.kernel, self.source, self.path = own()
        self.shared, self.holes = None, ()

    @property
    def notes(self) -> list[str]:
        if self.shared is None:
            return []
        g = self.shared[0]
        values = ", ".join(f"{n}={v!r}" for n, v in zip(g.params, self.holes))
        return [f"shape-generic kernel: this signature's sizes and constants {values} are passed at run "
                "time, so the signatures that differ only in them share one compiled kernel "
                "(codegen/cpu/generic.py)"]

    def _index_error(self, e: IndexError) -> IndexError:
        if len(e.args) != 3 or not isinstance(e.args[0], int):
            return e
        code, i, n = e.args
        loc, axis, size = self.em.error_sites[code]
        size = int(size) if str(size).isdigit() else 1
        return index_error_class(int(i), int(n), size)(format_message(index_message(int(i), int(n), axis, size), loc))

    def _linalg_error(self, e: np.linalg.LinAlgError) -> np.linalg.LinAlgError:
        """Numba's LAPACK error in NumPy's words, at the user's line when one op can raise it."""
        text = str(e)
        message = "Singular matrix" if "singular" in text else text.rstrip(".")
        sites = {op.loc for op in walk(self.em.program.body) if op.prim.name in ("solve", "inv", "cholesky")}
        return np.linalg.LinAlgError(format_message(message, sites.pop() if len(sites) == 1 else None))

    def _compile_error(self, e: Exception) -> InternalError:
        op = self._op_of_error(str(e))
        what = f"`{op.prim.name}`" if op is not None else "the program"
        first = _numba_summary(str(e)) or type(e).__name__
        return InternalError(f"the CPU backend could not compile {what} (Numba: {first})",
                             op.loc if op is not None else None,
                             f"{REPORT} ({self.path or 'not cached'}); backend='interpret' runs it meanwhile")

    def _op_of_error(self, message: str) -> Op | None:
        lines = [int(m) for m in re.findall(r"line (\d+)", message)]
        for ln in reversed(lines):
            k = self.em.line_origin.get(ln, -1)
            if 0 <= k < len(self.em.line_ops) and self.em.line_ops[k] is not None:
                return self.em.line_ops[k]
        # no line number (e.g. an attribute error): the first line naming the culprit
        for word in re.findall(r"'([A-Za-z_][A-Za-z0-9_.]*)'", message):
            for text, op in zip(self.em.lines, self.em.line_ops):
                if op is not None and word in text:
                    return op
        return None


class _Front(CPUDispatcher):
    """A kernel's front door for warm calls: a second Numba dispatcher over
    the kernel's own compiled versions, which never compiles. Numba's
    dispatcher types a call's arguments in C and calls the version compiled
    for exactly those types; a call with other types comes here
    (`_compile_for_args`), which takes the kernel's version for them if the
    kernel has one and otherwise raises ShapeMiss (the caller then takes the
    general path, which compiles the kernel for them: a new layout, say).
    With the kernel refusing other shapes (templates.same_shape), a warm
    call of arrays needs no test of dtypes, shapes or flags in Python: 0.3-0.5
    us of a call, right after other work (bench/README.md, twenty-fifth
    session). Arrays of NumPy subclasses are typed as ndarrays by Numba: the
    caller tests `type(x) is np.ndarray` itself."""

    _lock = threading.Lock()

    @classmethod
    def of(cls, kernel) -> _Front:
        front = cls(kernel.py_func, targetoptions=dict(kernel.targetoptions))
        front._main = kernel
        return front

    def _compile_for_args(self, *args, **kws):
        main = self._main
        if kws:
            raise ShapeMiss()
        try:
            types_ = tuple(main.typeof_pyval(a) for a in args)
        except Exception:
            raise ShapeMiss() from None
        cres = main.overloads.get(types_)
        if cres is None:
            raise ShapeMiss()
        with self._lock:
            if types_ not in self.overloads:
                self.add_overload(cres)
        return cres.entry_point


def _numba_summary(message: str) -> str:
    """The informative line of a Numba error (not its pipeline-stage banner)."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", ln).strip() for ln in message.splitlines()]
    lines = [ln for ln in lines if ln]
    for ln in lines:
        if re.match(r"^[A-Za-z]*Error:", ln) or ln.startswith(("No implementation", "Cannot", "Invalid")):
            return ln
    return lines[1] if len(lines) > 1 else (lines[0] if lines else "")


def compile_program(program: Program, options: CompileOptions = CompileOptions()) -> CpuKernel:
    """Emit, write, import and wrap the kernel of `program` (compiled lazily
    for the argument types of the first call)."""
    _check_dtypes(program)
    em = _emit(program, options.parallel, options.fastmath)
    if em.uses_prange:
        prepare_threads()  # before Numba loads its threading layer (threading_policy.py)
    cache = options.cache
    header = f"# looptrace kernel for {program.name}(): generated, do not edit"
    source = kernel_source(em, header, cache=cache)
    if not em.fastmath:
        source = llvm_inlined(source)
    if os.environ.get("LOOPTRACE_DUMP_KERNEL"):
        print(f"--- kernel for {program.name} ---\n{source}", file=sys.stderr)

    def own() -> tuple:
        path, kernel = _cached_kernel(source, options.key) if cache else (None, None)
        return (kernel if kernel is not None else _exec(source, program.name)), source, path

    shared = _shared_kernel(source, cache, program.name)
    if shared is not None:
        g, values, fam = shared
        return CpuKernel(g.kernel, em, g.source, g.path, (g, values, fam, own))
    kernel, _, path = own()
    return CpuKernel(kernel, em, source, path)


# mathlib's inline="always" functions, called through their wrappers that LLVM inlines
_LLVM_INLINED = re.compile(r"(?<![\w.])(" + "|".join(WRAPPED) + r")\(")


def llvm_inlined(source: str) -> str:
    """`source` calling llvm_inlined.py's wrappers of mathlib's inline="always"
    functions: Numba inlines each once, into its wrapper (disk-cached), not at
    every call site of every kernel; LLVM inlines the wrapper. Not for a
    fastmath kernel, whose flags Numba's inlining gives the function's body."""
    return _LLVM_INLINED.sub(r"llvm_inlined.\1(", source)


def _shared_kernel(source: str, cache: bool, name: str):
    """(generic kernel, its parameter values, family) when this signature
    runs its family's generic kernel (generic.py); else None."""
    if generic.specialized_members() == 0:
        return None
    lits = generic.literals(source)
    fam = generic.family(lits, max_entries())
    with fam.lock:
        g, values = generic.plan(fam, lits, source)
        if g is None:
            return None
        if g.kernel is None:
            g.path, g.kernel = _cached_kernel(g.source, "generic") if cache else (None, None)
            if g.kernel is None:
                g.kernel = _exec(g.source, name)
            fam.generics.append(g)
    return g, values, fam


def _exec(source: str, name: str):
    """The kernel of `source`, compiled in memory (no disk cache)."""
    namespace: dict = {}
    exec(compile(source.replace("cache=True", "cache=False"), f"<looptrace kernel {name}>", "exec"), namespace)
    return namespace["kernel"]


def _cached_kernel(source: str, key: str):
    """(path, kernel) of the kernel module in the disk cache; (None, None),
    after one warning, when the cache cannot be used (codegen/cpu/cache.py)."""
    try:
        path = disk.write_module("lt_" + disk.digest(source, key), source)
        return path, disk.load_kernel(path)
    except disk.CACHE_FAULTS as e:
        disk.unwritable(disk.cache_root(), e)
        return None, None


def _no_numba_type(dtype) -> str | None:
    """The name of a dtype Numba has no type for (float16; np.longdouble and
    np.clongdouble where they are wider than float64/complex128), else None."""
    if not isinstance(dtype, np.dtype):
        return None
    if dtype == np.float16:
        return "float16"
    if dtype.kind in "fc" and dtype.itemsize > (8 if dtype.kind == "f" else 16):
        return f"{dtype.name} (np.{'longdouble' if dtype.kind == 'f' else 'clongdouble'})"
    return None


def _check_dtypes(program: Program) -> None:
    """Numba has no float16 and no long double: say so, naming the first op
    that makes one."""
    for v in program.body.args:
        name = _no_numba_type(v.dtype)
        if name is not None:
            raise UnsupportedError(f"{name} arrays are not supported by the CPU backend (Numba has no "
                                   f"{name.split()[0]})", None,
                                   "convert to float32 or float64, or use backend='interpret'")
    for op in walk(program.body):
        name = next((n for n in map(_no_numba_type, (v.dtype for v in op.outputs)) if n is not None), None)
        if name is not None:
            raise UnsupportedError(f"this computes in {name}, which the CPU backend does not support "
                                   f"(Numba has no {name.split()[0]})", op.loc,
                                   "convert to float32 or float64 first, or use backend='interpret'")
        if op.prim.name in _COMPLEX_ORDER and any(isinstance(v.dtype, np.dtype) and v.dtype.kind == "c"
                                                  for v in op.inputs):
            raise UnsupportedError(f"ordering complex values (`{op.prim.name}`: NumPy compares the real parts, "
                                   "then the imaginary ones) is not supported by the CPU backend", op.loc,
                                   "compare the real parts (z.real) or the magnitudes (abs(z)), or use "
                                   "backend='interpret'")


# ops that order their inputs: Numba has no complex `<` (they failed to compile)
_COMPLEX_ORDER = frozenset({"less", "less_equal", "greater", "greater_equal", "maximum", "minimum", "fmax", "fmin",
                            "reduce_max", "reduce_min", "argmax", "argmin", "sort", "argsort", "clip"})


def _emit(program: Program, parallel: bool, fastmath: bool) -> Emitter:
    try:
        return emit_program(program, TARGET, parallel, fastmath)
    except (NotImplementedError, MissingLowering, AssertionError, KeyError, TypeError, ValueError,
            StopIteration) as e:
        op: Op | None = getattr(e, "looptrace_op", None)
        loc: SourceLoc | None = op.loc if op is not None else None
        name = f"`{op.prim.name}`" if op is not None else "the program"
        raise InternalError(f"the CPU backend cannot lower {name}: {e}", loc, REPORT) from None
