"""The public entry points: jit, eval_shape, explain (see API.md)."""
from __future__ import annotations

import functools
import inspect
import math
import linecache
import re
import threading
import types
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from looptrace import guards, pickling, pipeline, pytree, specialize
from looptrace.codegen.target import CompileOptions, Runner
from looptrace.errors import InternalError, LooptraceError, ReplayNeeded, TraceError, format_message
from looptrace.ir import primitive
from looptrace.ir.core import RNG, Program, SourceLoc
from looptrace.ir.printer import print_program
from looptrace.ops.io import printed_once, prints, written
from looptrace.ops.vjp_helpers import building_for
from looptrace.sigcache import SignatureCache
from looptrace.tracer import context as ctx
from looptrace.tracer import layout
from looptrace.tracer.convert import deep_recursion
from looptrace.tracer.trace import (ArgSpec, arg_spec, build_output, device_array_spec, trace_function,
                                    without_kinds)

BACKENDS = ("auto", "cpu", "cuda", "interpret")


@dataclass(frozen=True)
class Transform:
    """A program transform applied between tracing and the passes (grad's
    gradient program): `apply(traced program, arg specs) -> program`. Its
    `key` tells cached transforms apart."""

    key: Any
    apply: Callable[[Program, list[ArgSpec]], Program]


@dataclass
class Compiled:
    """One signature's compiled program: after the passes, and as traced (its
    guards and implicit arguments), with the argument specs it was traced with."""

    program: Program
    run: Runner
    traced: Program
    specs: list[ArgSpec]
    built_key: Any = None  # where tracing made arguments static: their values in the call traced


class JitFunction:
    """A function compiled per signature (shapes, dtypes, static values)."""

    # a call while tracing traces `py_func` instead (tracer/runtime.py reads this
    # marker on the type, so the tracer needs no import of this module)
    __looptrace_traceable__ = True

    def __init__(self, fn: Callable, static_argnames=(), backend: str = "auto", cache: bool = True,
                 parallel: bool = True, fastmath: bool = False):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        fn = fn.py_func if isinstance(fn, JitFunction) else fn
        fn = _numba_python(fn)
        _check_traceable(fn)
        self.py_func = fn
        self.static_argnames = (static_argnames,) if isinstance(static_argnames, str) else tuple(static_argnames)
        self.backend = backend
        self.cache = cache
        self.parallel = parallel
        self.fastmath = fastmath
        self.signature = inspect.signature(fn)
        self.param_names = list(self.signature.parameters)
        for n in self.static_argnames:
            if n not in self.param_names:
                raise ValueError(f"static_argnames names {n!r}, which is not a parameter of {fn.__name__}")
        self._auto_static: dict[str, str] = {}  # int arguments found to decide a shape -> why (specialize.py)
        if self.param_names[:1] == ["self"]:  # a method called through its class (M.apply(m, x)) too
            self._auto_static["self"] = "it is the object the method is bound to"
        self._layout_sensitive: set[str] = set()  # arguments whose layout decides a reshape (tracer/layout.py)
        plain = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        self._positional = all(p.kind in plain for p in self.signature.parameters.values())
        self._defaults = [p.default for p in self.signature.parameters.values()]  # _EMPTY: none
        self._defaults_of = _defaults_now(fn)  # (the objects; `_fresh_defaults`)
        # signature key of a plain call (arrays and floats by position) -> (compiled, specs)
        # key -> (compiled, specs, runtime arg positions or None, _direct_runner or None,
        #         the same with `_guard` or None, its `_mono_call` or None)
        self._fast: dict[tuple, tuple] = {}
        # positions of float arguments a program was made static for (a step that sizes an array):
        # in the warm-call keys by value (`_fast_key`)
        self._float_keys: tuple[int, ...] = ()
        # the last warm signature's runner: `_guard` then the kernel call (`_direct_runner`), or None
        self._mono: Callable | None = None
        # warm-call runners of its transformed programs (gradients: autodiff/api.py `_keep_warm`),
        # key -> (compiled, runner): dropped with them, as `_fast`'s entries
        self._warm_transformed: dict[tuple, tuple] = {}
        # compiled per signature (and transform): built once under its lock, bounded, LRU
        # (looptrace/sigcache.py)
        self._cache = SignatureCache(on_evict=_forget_in(self))
        self._fast_ok = self._positional and not self.static_argnames
        # (trees of the container arguments, static positions) -> _FlatJit (pytree.py)
        self._flats: dict[tuple, JitFunction] = {}
        # (a _FlatJit, its leaves' types) -> its warm call (`_keep_flat`), or () where there is none
        self._flat_calls: dict[tuple, tuple] = {}
        self._flat_last: tuple | None = None  # the key of the last call `_keep_flat` saw
        functools.update_wrapper(self, fn)

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        """`@lt.jit` on a method: bound to an object, a call with it as the
        first argument, which is static (keyed by identity; what the method
        reads of it is guarded, as any outside object's attributes are)."""
        if obj is None:
            return self
        first = self.param_names[0] if self.param_names else None
        if first is not None and first not in self._auto_static and first not in self.static_argnames:
            self._auto_static[first] = "it is the object the method is bound to"
            self.forget_fast()
        return BoundJit(self, obj)

    def __reduce__(self) -> tuple:
        """Pickled by reference: its function and options, never compiled code
        (looptrace/pickling.py)."""
        options = dict(static_argnames=self.static_argnames, backend=self.backend, cache=self.cache,
                       parallel=self.parallel, fastmath=self.fastmath)
        return _rebuild_jit, (pickling.reference(self.py_func, self), options)

    # calling -------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        try:
            if (kwargs or len(args) != len(self.param_names)) and self._fast_ok and not ctx.TRACES[0]:
                pos = self._by_position(args, kwargs)
                if pos is not None:  # keywords and defaults as a plain call: the warm path takes it
                    return self(*pos)
            if not kwargs:  # the warm call, first and with as little as possible on the way
                mono = self._mono
                if mono is not None:
                    out = mono(args)
                    if out is not _MISS:
                        return out
                hit = self._fast.get(self._fast_key(args))
                if hit is not None and hit[3] is not None and not ctx.TRACES[0]:
                    out = hit[3](args)
                    if out is not _MISS:  # else a guard on what it reads from outside failed: the general path
                        self._set_mono(hit[4], hit[5])
                        return out
            if ctx.tracing():
                from looptrace.tracer.runtime import call_converted

                return call_converted(self.py_func, args, kwargs)
            key = self._fast_key(args) if self._fast_ok and not kwargs and len(args) == len(self.param_names) else None
            hit = self._fast.get(key) if key is not None else None
            if hit is not None:  # no lock here: warm calls from many threads run side by side
                compiled, traced = hit[0], hit[0].traced
                extra = guards.bind(traced, args)
                if extra is not None and (not traced.captured or captured_unchanged(traced)):
                    run_plain = getattr(compiled.run, "call_plain", None)
                    if run_plain is None or compiled.program.writebacks or compiled.program.fresh_results \
                            or compiled.program.result_subviews or compiled.program.result_arg_views \
                            or compiled.program.sure_writes or not _plain_extra(traced):
                        return self.execute(compiled, hit[1], list(args), extra)
                    if hit[2] is not None:  # static ints are in the program, not the kernel's arguments
                        args = tuple(args[i] for i in hit[2])
                    return build_output(compiled.program.out_tree, run_plain(args + extra if extra else args))
            values = self._bind(args, kwargs)
            flat = self._flat_route(values)
            if flat is not None:  # containers of arrays among the arguments: leaf by leaf (pytree.py)
                if self._fast_ok and not kwargs and len(args) == len(self.param_names):
                    self._keep_flat(*flat)
                return flat[0](*flat[1])
            for _ in range(_MAX_RETRACES):
                compiled, specs = self.compiled_for(values)
                extra = guards.bind(compiled.traced, values)
                if extra is not None:  # else what it reads from outside changed just now: again
                    if key is not None and self._fast_ok and not compiled.traced.layout_args:
                        key = self._static_in_key(specs, values, key)
                    if key is not None and self._fast_ok and not compiled.traced.layout_args:
                        # (tracing may have made a float static; a layout-keyed program has no plain key)
                        if len(self._fast) >= _FAST_ENTRIES:  # int values are in the keys: stay bounded
                            self.forget_fast()
                        runtime = tuple(i for i, s in enumerate(specs) if s.kind != "static")
                        runtime = runtime if len(runtime) < len(specs) else None
                        direct = _direct_runner(compiled, runtime, key[0])
                        floats = self._float_keys
                        mono = _direct_runner(compiled, runtime, key[0], _guard(key, floats=floats)) \
                            if direct is not None else None
                        positions = (len(self.param_names), _to_positions)
                        call = None if mono is None else (
                            _direct_runner(compiled, runtime, key[0],
                                           _guard(key, test_arrays=False, floats=floats, counted=True),
                                           JitFunction.__call__, front=True, positions=positions)
                            or _direct_runner(compiled, runtime, key[0], _guard(key, floats=floats, counted=True),
                                              JitFunction.__call__, positions=positions)
                            or _mono_call(mono))
                        self._fast[key] = (compiled, specs, runtime, direct, mono, call)
                    return self.execute(compiled, specs, values, extra)
            raise TraceError(f"{self.py_func.__name__}: what it reads from outside its arguments changes "
                             "while it is being compiled (a global, closure or attribute)",
                             hint="pass the changing value as an argument")

        except ReplayNeeded as e:
            if ctx.tracing():
                raise
            return self._replay(e, args, kwargs)
        except Exception as e:
            if not getattr(e, "looptrace_located", False) or isinstance(e, LooptraceError) or ctx.tracing():
                raise
            return self._after_failure(e, args, kwargs)

    def _replay(self, failed: ReplayNeeded, args: tuple, kwargs: dict):
        """Compiled code reached a raise whose exception formats run-time values
        (tracer/checks.py `_made`): its arguments are as before the call (as
        `_after_failure` says), so the plain function runs on them and raises
        that exception itself."""
        printed = self._printed_by_run(args, kwargs)
        try:
            with printed_once(printed):
                self.py_func(*args, **kwargs)
        except Exception as e:
            e.add_note("looptrace: compiled code raised here; the plain function, run again on the same "
                       "arguments, made this exception (its message formats run-time values)")
            raise
        raise InternalError("compiled code raised where the plain function, run again on the same arguments, "
                            "did not", failed.loc)

    def _printed_by_run(self, args: tuple, kwargs: dict) -> dict[str, int]:
        """What the compiled run that just failed printed, per stream (none
        where its program does not print: the counts are another run's)."""
        printed = written()
        if not any(printed.values()):
            return {}
        try:
            compiled, _ = self.compiled_for(self._bind(args, kwargs))
        except Exception:
            return {}
        return printed if prints(compiled.program) else {}

    def _after_failure(self, e: Exception, args: tuple, kwargs: dict):
        """A run-time check of the compiled program raised the user's exception
        (an index out of range, a `raise`, an assert). A program that can
        raise writes its arguments, the arrays it reads from outside and its
        generators only after it ran through (kernel.py, `_written_back_args`):
        they are as before the call. Where the program has such effects, the
        plain function runs on them, so that they end as Python leaves them
        (the writes made before the error) and the exception is Python's own."""
        printed = written()
        try:
            values = self._bind(args, kwargs)
            compiled, specs = self.compiled_for(values)
        except Exception:
            raise e from None
        printing = prints(compiled.program)  # (its prints before the error: the plain function prints the rest)
        if not has_effects(compiled, specs) and not printing and not getattr(e, "looptrace_plain", False):
            raise e
        try:
            with printed_once(printed if printing else {}):
                return self.py_func(*args, **kwargs)
        except Exception as plain:
            if type(plain) is type(e):  # the compiled run's notes (the user's line) on Python's own error
                for note in getattr(e, "__notes__", ()):
                    if note not in getattr(plain, "__notes__", ()):
                        plain.add_note(note)
            raise

    def _by_position(self, args: tuple, kwargs: dict) -> tuple | None:
        """The call's arguments by position, keywords and defaults put in
        their places (what `_bind` gives: a default passed on stays a
        constant where it is one, specialize.is_unpassed_default), for the
        warm path; None where Python would refuse the call (the general path
        then says why). A call with a keyword took 13.7 us by the general
        path against 1.7 us by position (100 elements)."""
        self._fresh_defaults()
        names, defaults = self.param_names, self._defaults
        if len(args) > len(names):
            return None
        out = list(args)
        used = 0
        for k in range(len(args), len(names)):
            name = names[k]
            if name in kwargs:
                out.append(kwargs[name])
                used += 1
            elif defaults[k] is _EMPTY:
                return None
            else:
                out.append(defaults[k])
        if used != len(kwargs):
            return None  # an unknown keyword, or one also given by position
        return tuple(out)

    def _set_mono(self, mono: Callable | None, call: Callable | None = None) -> None:
        """Make `mono` (a `_direct_runner` with its `_guard`) the runner of the
        signature called last, or none. The instance's call goes straight to
        it: its class becomes its own subclass of its class (once), whose
        `__call__` is `call`: `mono`'s lines made as a `__call__`
        (`_direct_runner`'s `general`), or `_mono_call`. A call then runs
        one frame before the kernel's where JitFunction.__call__ ran three
        and read the runner from the instance: a call right after
        other Python work, with the objects a call touches out of the
        caches, paid about 4 us more that way (blur_3x3 of the corpus, 120 x
        120: 8 us in the kernel; bench/README.md, twenty-fourth session)."""
        self._mono = mono
        cls = type(self)
        if mono is None:
            if cls.__dict__.get("_lt_own_class"):
                cls.__call__ = JitFunction.__call__
            return
        if not cls.__dict__.get("_lt_own_class"):
            cls = type(cls.__name__, (cls,), {"_lt_own_class": True, "__module__": cls.__module__,
                                             "__qualname__": cls.__qualname__, "__doc__": cls.__doc__})
            self.__class__ = cls
        cls.__call__ = call

    def _fast_key(self, args: tuple) -> tuple | None:
        """A call's `_plain_key`, then the value of each float at a position
        some program was made static for (with its sign: -0.0 is not 0.0),
        or None (no warm call)."""
        key = _plain_key(args)
        floats = self._float_keys
        if key is None or not floats:
            return key
        if len(args) != len(self.param_names) or any(type(args[i]) is not float for i in floats):
            return None
        return key + tuple((args[i], math.copysign(1.0, args[i])) for i in floats)

    def _static_in_key(self, specs: list, values: list, key: tuple) -> tuple | None:
        """The warm-call key of a call whose program was made with `specs`,
        holding every value the program was made static for, or None. Ints
        are in a plain key by value; a Python float made static (a step that
        sizes an array: seir's `int(n_days / dt)`) is put in from then on
        (`_float_keys`); any other static value keeps the call on the
        general path: another float of the same type would find the program
        made for it (`f(x, f.__defaults__[0])` then `f(x, 0.7)` gave the
        first call's answer). seir's warm call took the general path, 35 us
        over its 240 us kernel, 170 us with the caches cold."""
        floats = set()
        for i, (s, v) in enumerate(zip(specs, values)):
            if type(v) in _VALUE_TYPES:
                if s.kind != "static":
                    return None  # (a runtime flag: the general path passes it)
                continue
            if s.kind != "static" or type(v) is int or type(v) in _NP_INTS:
                continue
            if type(v) is not float:
                return None
            floats.add(i)
        if floats <= set(self._float_keys):
            return key
        self.forget_fast()  # keys made before have fewer parts: none would be found again
        self._float_keys = tuple(sorted(floats | set(self._float_keys)))
        return self._fast_key(tuple(values))

    def forget_fast(self, compiled=None) -> None:
        """Drop the warm-call entries (of one compiled signature, or all)."""
        self._set_mono(None)
        if compiled is None:
            self._fast.clear()
            self._warm_transformed.clear()
            return
        for table in (self._fast, self._warm_transformed):
            for k, entry in list(table.items()):
                if entry[0] is compiled:
                    table.pop(k, None)

    def _fresh_defaults(self) -> None:
        """The function's defaults as they are now: `f.__defaults__ = (10.0,)`
        after a call is seen by the next, as by the plain function."""
        f = self.py_func
        was = self._defaults_of
        if f.__defaults__ is was[0] and f.__kwdefaults__ is was[1] and \
                (not was[1] or len(was[1]) == len(was[2]) and all(was[1].get(k, was) is v for k, v in was[2])):
            return
        self.signature = inspect.signature(f)
        self._defaults = [p.default for p in self.signature.parameters.values()]
        self._defaults_of = _defaults_now(f)
        self.forget_fast()

    def _bind(self, args, kwargs) -> list:
        if not kwargs and len(args) == len(self.param_names) and self._positional:
            return list(args)  # the common call: every parameter given by position
        self._fresh_defaults()
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{self.py_func.__name__}(): {e}") from None
        bound.apply_defaults()
        return [bound.arguments[n] for n in self.param_names]

    # containers of arrays as arguments (looptrace/pytree.py) -----------------------------------
    def _static_at(self, values: list) -> set[int]:
        """Positions of the arguments a call keeps static (as specs_of decides)."""
        params = self.signature.parameters
        return {i for i, (n, v) in enumerate(zip(self.param_names, values))
                if n in self.static_argnames or n in self._auto_static or specialize.is_unpassed_default(params[n], v)}

    def _flat_route(self, values: list, flatten_at: set[int] | None = None) -> tuple | None:
        """(the flat JitFunction, the flat values) for a call with container
        arguments to pass leaf by leaf (by default the containers not kept
        static), or None when there is none."""
        if flatten_at is None and not any(isinstance(v, pytree.CONTAINERS) for v in values):
            return None
        kept = self._static_at(values)
        if flatten_at is None:
            flatten_at = {i for i, v in enumerate(values) if isinstance(v, pytree.CONTAINERS) and i not in kept}
        if not flatten_at:
            return None
        static = kept - flatten_at
        trees, flat_values = [], []
        for i, (n, v) in enumerate(zip(self.param_names, values)):
            if i in flatten_at:
                leaves, tree = pytree.flatten(v, n)
                trees.append(tree)
                flat_values += leaves
            else:
                trees.append(None)
                flat_values.append(v)
        key = (tuple(trees), frozenset(static))
        sub = self._flats.get(key)
        if sub is None:
            names = [pytree.leaf_names(v, n) if t is not None else None
                     for n, v, t in zip(self.param_names, values, trees)]
            with _FLAT_LOCK:
                sub = self._flats.get(key)
                if sub is None:
                    if len(self._flats) >= _FLAT_ENTRIES:
                        self._flats.clear()
                    sub = self._flats[key] = _FlatJit(self, trees, names, static)
        return sub, flat_values

    def _keep_flat(self, sub: "_FlatJit", flat_values: list) -> None:
        """Make the call of `sub` (the flat JitFunction of a call with
        container arguments, by position) the warm call (`_set_mono`): the
        arguments' structures tested and their leaves read in generated lines
        (pytree.structure_test), then `sub` called with them; any other
        structure, leaf type or call form goes the general way. A call with a
        dict of two arrays flattened it and hashed its Tree every call: 8.3
        us against 4.7 for the plain function (bench/grad_call_cost.py).
        Made the warm call from the second call in a row of a structure."""
        if sub.static_argnames or sub._kept_static:
            return  # (a default not passed, kept static: `_static_at` decides per call)
        key = (sub, tuple(map(type, flat_values)))  # (made once per structure and leaf types)
        made = self._flat_calls.get(key)
        if made is None:
            test = pytree.structure_test(sub._trees, flat_values)
            if test is not None:
                lines, env, exprs = test
                call = f"SUB({''.join(e + ', ' for e in exprs)})"
                env.update(SUB=sub, MISS=_MISS, TRACES=ctx.TRACES, FALLBACK=JitFunction.__call__)
                fall = lines.replace("return MISS\n", "return FALLBACK(self, *a)\n")
                exec(f"def mono(a):\n    if TRACES[0]:\n        return MISS\n{lines}    return {call}\n"  # noqa: S102
                     f"def direct(self, *a, **kw):\n    if kw or TRACES[0]:\n        return FALLBACK(self, *a, **kw)\n"
                     f"{fall}    return {call}\n", env)
            made = (env["mono"], env["direct"]) if test is not None else ()
            if len(self._flat_calls) >= _FLAT_ENTRIES:
                self._flat_calls.clear()
            self._flat_calls[key] = made
        if made and self._flat_last == key:  # (the second call in a row: calls alternating between
            self._set_mono(*made)              # structures would change the class's __call__ at each)
        self._flat_last = key

    @property
    def display_names(self) -> list[str]:
        """The parameters as error messages name them."""
        return self.param_names

    def specs_of(self, values: list) -> list[ArgSpec]:
        params = self.signature.parameters
        return [arg_spec(n, v, n in self.static_argnames or n in self._auto_static
                         or specialize.is_unpassed_default(params[n], v))
                for n, v in zip(self.param_names, values)]

    def _key(self, specs: list[ArgSpec], values: list) -> tuple:
        key = []
        for n, s, v in zip(self.param_names, specs, values):
            if s.alias_of is not None:  # the same array as an earlier argument (`_aliases`)
                key.append(("alias", s.alias_of))
            elif s.kind == "static":
                try:
                    hash(v)
                except TypeError:
                    if n in self.static_argnames:
                        raise TypeError(f"static argument `{n}` must be hashable, got {type(v).__name__}") from None
                key.append(("s", type(v), specialize.static_key(v)))
            elif s.kind == "rng":
                key.append(("r", type(v.bit_generator).__name__))
            else:
                # (a NumPy scalar is not a 0-d array: `x *= 3` rebinds the one and writes into the other)
                key.append((s.kind, s.dtype, s.shape) + (("device",) if s.device else ())
                           + (("np_scalar",) if s.scalar else ()))
                if n in self._layout_sensitive:  # its layout decides a reshape (tracer/layout.py)
                    key.append(("layout", layout.pattern(v)))
        return tuple(key)

    def bind(self, args: tuple, kwargs: dict) -> list:
        """The call's argument values, one per parameter (defaults applied)."""
        return self._bind(args, kwargs)

    def compiled_for(self, values: list, transform: Transform | None = None,
                     specs_of: Callable[[list], list[ArgSpec]] | None = None) -> tuple[Compiled, list[ArgSpec]]:
        """The compiled program for these argument values (traced, transformed,
        passed and lowered on first use; then cached per signature).
        `specs_of(values)` decides which arguments are static (grad keeps more
        of them concrete than a call does)."""
        specs_of = specs_of or self.specs_of
        specs = specs_of(values)
        key = (transform.key if transform is not None else None, self._key(specs, values))

        def build() -> Compiled:
            with deep_recursion():  # passes walk expressions as deep as the user's
                traced, used = specialize.trace_specializing(self, values, specs, specs_of)
                if transform is not None:  # result types chosen at run time: the join's for a transform
                    traced = without_kinds(traced)
                backend = self.resolve_backend(values)
                with building_for(backend):
                    program = transform.apply(traced, used) if transform is not None else traced
                result = pipeline.compile(program, backend, self._options(values, backend))
                made = Compiled(result.program, result.run, traced, used)
                if [sp.kind for sp in used] != [sp.kind for sp in specs]:  # tracing made arguments static
                    made.built_key = _static_values(used, values)
                return made

        # a program whose guards fail (something it read from outside changed) is retraced
        compiled = self._cache.get_or_build(key, build, lambda c: _still_valid(c.traced, values))
        sensitive = {self.param_names[i] for i in compiled.traced.layout_args if not isinstance(i, tuple)}
        if compiled.built_key is not None and compiled.built_key != _static_values(compiled.specs, values):
            # traced meanwhile, by another thread's call under the key this one computed before that
            # trace made an argument static (or its layout a key): not this call's program
            return self.compiled_for(values, transform, specs_of)
        if not sensitive <= self._layout_sensitive:
            # tracing found arguments whose layout decides a reshape: keyed by it from now on
            self._layout_sensitive |= sensitive
            self._cache[(key[0], self._key(compiled.specs, values))] = compiled
            self._cache.pop(key)
        elif [s.kind for s in compiled.specs] != [s.kind for s in specs]:
            # tracing found arguments to specialize on: later calls look it up by the new key
            self._cache[(key[0], self._key(compiled.specs, values))] = compiled
            self._cache.pop(key)
        return compiled, compiled.specs

    def trace(self, values: list, specs: list[ArgSpec] | None = None) -> Program:
        specs = specs or self.specs_of(values)
        return trace_function(self.py_func, self.param_names, tuple(values), specs, self.py_func.__name__)

    def _options(self, values: list, backend: str) -> CompileOptions:
        """The disk key only for a backend that caches on disk: the interpreter has no disk
        cache, and reading the user's source for it was 1% of an interpreted test file's CPU."""
        key = self._disk_key(values) if backend != "interpret" else ""
        return CompileOptions(self.parallel, self.fastmath, self.cache, key)

    def _disk_key(self, values: list) -> str:
        """What a kernel on disk is keyed by besides its own source: the user's
        source and the call signature."""
        try:
            src = inspect.getsource(self.py_func)
        except (OSError, TypeError):
            src = self.py_func.__qualname__
        try:
            signature = self._key(self.specs_of(values), values)
        except TypeError:  # a gradient keeps tuples concrete (specialize.grad_specs): they are in the source
            signature = tuple(type(v).__name__ for v in values)
        return f"{src}\n{signature!r}"

    def resolve_backend(self, values: list) -> str:
        if self.backend != "auto":
            return self.backend
        if any(device_array_spec(v) is not None for v in values):
            return "cuda"
        from looptrace.codegen import cpu_available

        return "cpu" if cpu_available() else "interpret"

    def execute(self, compiled: Compiled, specs: list[ArgSpec], values: list, extra: tuple = ()) -> Any:
        """Run on the call's values plus the implicit arguments (guards.py);
        arguments are written back only after a successful run."""
        program = compiled.program
        if compiled.traced.layout_args:
            _check_layouts(self.display_names, values, extra, compiled.traced)
        keep = getattr(compiled.run, "takes_device_arrays", False)
        run_args = [runtime_arg(s, v, keep) for s, v in zip(specs, values) if s.kind != "static"] + list(extra)
        if program.writebacks:
            aliases = _check_aliasing(self.display_names, specs, values, program)
            if aliases:  # `f(x, x)`: traced again with both parameters one array, as Python has them
                return self._execute_aliased(values, aliases)
            if extra:
                _check_outside_aliasing(self.display_names, specs, values, extra, program)
        outs = transactional_run(compiled.run, run_args)
        if program.sure_writes:
            _refuse_read_only(program.sure_writes, values)
        targets = values + list(extra) if extra else values
        n_out = len(program.body.results) - len(program.writebacks)
        written = _written_values(outs, [targets[argi] for argi, _ in program.writebacks], program.writebacks)
        copied = {id(outs[res]): w for (_, res), w in zip(program.writebacks, written) if w is not outs[res]}
        results = [copied.get(id(r), r) for r in outs[:n_out]]  # a result that is a copied written value
        results = _unshared(results, [targets[argi] for argi, _ in program.writebacks], written,
                            frozenset(program.result_args) | frozenset(program.result_views))
        for (argi, _), value in zip(program.writebacks, written):
            _write_back(targets[argi], value, specs[argi] if argi < len(specs) else None)
        return build_output(program.out_tree, plain_results(program, results, targets))

    def _execute_aliased(self, values: list, aliases: dict[int, int]) -> Any:
        """A call passing the same array for two parameters (`step(x, out=x)`)
        to a program that writes one of them: the program traced with both
        names bound to one traced array (ArgSpec.alias_of), so that a read
        through either name sees the writes made through the other, as in
        the plain function. Its own compiled version, keyed by the aliases;
        such calls take the general path (the warm runners miss on shared
        memory)."""
        for _ in range(_MAX_RETRACES):
            compiled, specs = self._aliased_compiled(values, aliases)
            extra = guards.bind(compiled.traced, values)
            if extra is not None:
                return self.execute(compiled, specs, values, extra)
        raise TraceError(f"{self.py_func.__name__}: what it reads from outside its arguments changes "
                         "while it is being compiled (a global, closure or attribute)",
                         hint="pass the changing value as an argument")

    def _aliased_compiled(self, values: list, aliases: dict[int, int]) -> tuple[Compiled, list[ArgSpec]]:
        """The program traced with the parameters in `aliases` bound to the
        earlier one's traced array (ArgSpec.alias_of)."""
        def specs_of(vals: list) -> list[ArgSpec]:
            return [ArgSpec("static", alias_of=aliases[j]) if j in aliases else s
                    for j, s in enumerate(self.specs_of(vals))]

        return self.compiled_for(values, specs_of=specs_of)

    def explain(self, *args, **kwargs) -> "Explanation":
        values = self._bind(args, kwargs)
        flat = self._flat_route(values)
        if flat is not None:
            return flat[0].explain(*flat[1])
        compiled, specs = self.compiled_for(values)
        if compiled.program.writebacks:  # `f(x, x)`: the program such a call runs (`_execute_aliased`)
            aliases = _check_aliasing(self.display_names, specs, values, compiled.program)
            if aliases:
                compiled, _ = self._aliased_compiled(values, aliases)
        e = Explanation(compiled.program, getattr(compiled.run, "loop_notes", None),
                        getattr(compiled.run, "notes", None))
        e.kernel_source = getattr(compiled.run, "source", None)  # the generated code (cpu, cuda)
        return e

    def eval_shape(self, *args, **kwargs):
        values = self._bind(args, kwargs)
        flat = self._flat_route(values)
        if flat is not None:
            return flat[0].eval_shape(*flat[1])
        compiled, _ = self.compiled_for(values)
        p = compiled.program
        n_out = len(p.body.results) - len(p.writebacks)
        shapes = [ShapeDtype(tuple(v.shape), v.dtype) for v in p.body.results[:n_out]]
        return build_output(p.out_tree, shapes, scalars=False)


@dataclass(frozen=True)
class ShapeDtype:
    shape: tuple
    dtype: np.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)


# NumPy scalars a kernel takes as they come (typed by their own dtype, as a 0-d
# array is): the elements of float arrays, as `f(y, *params)` passes them
_NP_REALS = frozenset({np.float64, np.float32, np.complex128, np.complex64})
_NP_INTS = frozenset({np.int64, np.int32, np.intp})


_FLAT_LOCK = threading.Lock()
_FLAT_ENTRIES = 64  # container structures kept per function (constants in them are part of the key)


class _FlatJit(JitFunction):
    """`jf` called with its container arguments passed leaf by leaf: a
    JitFunction of a generated function with one parameter per leaf, which
    rebuilds the containers and calls jf's function with them (pytree.py).
    `static` are the positions jf keeps static (static_argnames, defaults not
    passed); they stay jf's parameters, static here too."""

    def __init__(self, jf: JitFunction, trees: list, leaf_names: list, static: set[int]):
        fn = jf.py_func
        sig = jf.signature.parameters
        params, display, call, static_names = [], [], [], []
        for i, (n, tree, names) in enumerate(zip(jf.param_names, trees, leaf_names)):
            kind = sig[n].kind
            if tree is None:
                params.append(n)
                display.append(n)
                expr = n
                if i in static:
                    static_names.append(n)
            else:
                leaves = [f"_lt_{i}_{k}" for k in range(len(names))]
                params += leaves
                display += names
                expr = f"_lt_rebuild({i}, [{', '.join(leaves)}])"
            if kind == inspect.Parameter.VAR_POSITIONAL:
                call.append(f"*{expr}")
            elif kind == inspect.Parameter.VAR_KEYWORD:
                call.append(f"**{expr}")
            elif kind == inspect.Parameter.KEYWORD_ONLY:
                call.append(f"{n}={expr}")
            else:
                call.append(expr)
        made = threading.local()  # the containers rebuilt for the call being traced (this thread's)

        def rebuild(i: int, leaves: list) -> Any:
            value = pytree.unflatten(trees[i], leaves)[0]
            if not hasattr(made, "now"):
                made.now = pytree.Rebuilt()
            made.now.add(jf.param_names[i], value)
            return value

        def run(args: tuple, kwargs: dict) -> Any:
            from looptrace.errors import UnsupportedError
            from looptrace.tracer.runtime import call_converted

            rebuilt = getattr(made, "now", None) or pytree.Rebuilt()
            made.__dict__.pop("now", None)
            out = call_converted(fn, args, kwargs)
            changed = rebuilt.changed()
            if changed is not None:
                loc = _mutation_line(fn, changed)
                raise UnsupportedError(f"{fn.__name__} changes its container argument `{changed}` (an item or field "
                                       "assigned, added or removed), which the caller would see; looptrace "
                                       "passes containers in by value", loc,
                                       "build a new container and return it, or pass the arrays separately")
            return out

        ns: dict[str, Any] = {"_lt_rebuild": rebuild, "_lt_run": run}
        src = (f"def _lt_flat({', '.join(params)}):\n"
               f"    return _lt_run(*_lt_split({', '.join(call)}))\n")
        ns["_lt_split"] = lambda *a, **k: (a, k)
        exec(src, ns)  # noqa: S102 - the parameters are generated names, the body fixed
        flat = ns["_lt_flat"]
        flat.__name__, flat.__qualname__, flat.__module__ = fn.__name__, fn.__qualname__, fn.__module__
        super().__init__(flat, [n for n in static_names if n in jf.static_argnames], jf.backend, jf.cache,
                         jf.parallel, jf.fastmath)
        # static in jf for this call without being named static (defaults not passed, shape ints)
        self._kept_static = frozenset(n for n in static_names if n not in jf.static_argnames)
        self._display = display
        self._user_fn = fn
        self._trees = tuple(trees)

    @property
    def display_names(self) -> list[str]:
        return self._display

    def _flat_route(self, values: list, flatten_at: set[int] | None = None) -> tuple | None:
        return None  # its containers are the ones kept static

    def specs_of(self, values: list) -> list[ArgSpec]:
        return [arg_spec(d, v, n in self.static_argnames or n in self._kept_static or n in self._auto_static)
                for n, d, v in zip(self.param_names, self._display, values)]

    def _disk_key(self, values: list) -> str:
        try:
            src = inspect.getsource(self._user_fn)
        except (OSError, TypeError):
            src = self._user_fn.__qualname__
        return f"{src}\n{self._trees!r}\n{super()._disk_key(values)}"


def _static_values(specs: list[ArgSpec], values: list) -> tuple:
    """The static arguments' values, as keys (what a program traced for them holds for)."""
    return tuple((i, specialize.static_key(values[i])) for i, s in enumerate(specs)
                 if s.kind == "static" and s.alias_of is None)


def has_effects(compiled: Compiled, specs: list) -> bool:
    """Does the program write its arguments or arrays it reads from outside, or
    draw from a generator (effects a call makes once, as the plain function)?"""
    gs = getattr(compiled.traced, "guards", None)
    legacy = gs is not None and any(imp.kind == "legacy" for imp in gs.implicit)  # draws from np.random.*
    return bool(compiled.traced.writebacks or any(s.kind == "rng" for s in specs) or legacy
                or gs is not None and gs.written)


def _numba_python(fn: Any) -> Any:
    """A @numba.njit function's Python code (`lt.jit(numba_fn)`): what is
    traced, as where such a function is called from a traced one
    (tracer/numba_functions.py); `fn` itself otherwise."""
    from looptrace.tracer.numba_functions import dispatcher_function

    return dispatcher_function(fn) or fn


def _check_traceable(fn: Any) -> None:
    """jit compiles Python functions (and methods): their code is what is traced."""
    f = getattr(fn, "__func__", fn)
    if inspect.isgeneratorfunction(f) or inspect.iscoroutinefunction(f) or inspect.isasyncgenfunction(f):
        kind = "a generator function" if inspect.isgeneratorfunction(f) else "an async function"
        raise TypeError(f"looptrace.jit compiles functions that return their results; {f.__name__} is {kind}")
    if isinstance(f, types.FunctionType):
        return
    if isinstance(fn, functools.partial):
        inner = getattr(fn.func, "__name__", type(fn.func).__name__)
        raise TypeError(f"looptrace.jit compiles Python functions, not a functools.partial (of {inner}): jit "
                        "the function itself and pass the bound values as arguments, or write a def that "
                        "calls it")
    if not callable(fn):
        raise TypeError(f"looptrace.jit compiles Python functions, not {fn!r:.60} (of type {type(fn).__name__})")
    name = getattr(fn, "__name__", None) or type(fn).__name__
    if getattr(fn, "__module__", None) == "numpy" or isinstance(fn, np.ufunc):
        name = f"np.{name}"
    raise TypeError(f"looptrace.jit compiles Python functions; {name} is a {type(fn).__name__}: write a "
                    f"def that calls it, e.g. `lt.jit(lambda x: {name}(x))`")


def _plain_key(args: tuple) -> tuple | None:
    """The signature of a call made of arrays (not 0-d), Python floats and
    ints, and NumPy float, complex and int scalars, read without building
    ArgSpecs; None otherwise. The key is the arguments' types, then each
    array's dtype and shape, then each int's value (it may be a static
    value, such as a count that sizes an array). Which positions hold arrays
    and ints is worked out once per tuple of types (`_key_plan`): a warm
    call of eight arguments builds its key in about half a microsecond.
    Equal keys mean equal `JitFunction._key`s."""
    types = tuple(map(type, args))
    plan = _KEY_PLANS.get(types, _UNSEEN)
    if plan is _UNSEEN:
        if len(_KEY_PLANS) >= _KEY_PLAN_ENTRIES:
            _KEY_PLANS.clear()
        plan = _KEY_PLANS[types] = _key_plan(types)
    if plan is None:
        return None
    arrays, ints, values = plan
    if not arrays and not ints and not values:
        return (types,)
    key = [types]
    for i in arrays:
        a = args[i]
        if not (a.ndim and a.dtype.isnative and a.flags.aligned):
            return None
        key.append(a.dtype)
        key.append(a.shape)
    for i in ints:
        key.append(args[i])
    for i in values:
        v = args[i]
        if type(v) is tuple and not all(type(e) in _FLAT_TYPES for e in v):
            return None  # (a float inside: 0.0 == -0.0; an array: unhashable)
        key.append(v)
    return tuple(key)


_UNSEEN = object()
_KEY_PLANS: dict[tuple, tuple | None] = {}  # argument types -> (array positions, int positions) or None
_KEY_PLAN_ENTRIES = 4096


def _key_plan(types: tuple) -> tuple | None:
    """(positions of arrays, positions of ints, positions of values keyed as
    they are) for a call with these argument types; None when one of them
    keeps the call off the plain path."""
    arrays, ints, values = [], [], []
    for i, t in enumerate(types):
        if t is np.ndarray:
            arrays.append(i)
        elif t is int or t in _NP_INTS:
            ints.append(i)
        elif t in _VALUE_TYPES:
            values.append(i)
        elif not (t is float or t in _NP_REALS):
            return None
    return tuple(arrays), tuple(ints), tuple(values)


# Arguments a program is made static for, keyed by value on the warm path (a flag, a mode string, None,
# a tuple of ints, a function default such as `mode=wrap`): a call with one of them took the general
# path, ~28 us a call against ~1 us (bench/array_speed.py's harness passed its function as a default).
# The programs must be static in them (`JitFunction._static_in_key`); a runtime flag keeps the general path.
_FLAT_TYPES = frozenset({int, bool, str, type(None), np.bool_})
_VALUE_TYPES = _FLAT_TYPES - {int} | {tuple, types.FunctionType, types.BuiltinFunctionType}


# NumPy scalars that Numba types as it types the Python number: its
# dispatcher reads a Python float, int or complex in C, and a NumPy scalar
# through its generic typeof (hasting's seven np.float64 arguments: 2.5 us
# per call against 1.1 us as floats). The kernel gets the Python number.
_AS_PYTHON = {np.float64: "float", np.int64: "int", np.complex128: "complex"}


def _kernel_args(types: tuple, runtime: tuple | None, unpacked: bool) -> list[str]:
    """The arguments a kernel gets from a plain call `a` with arguments of
    these types, as expressions: the runtime ones (all when `runtime` is
    None), NumPy scalars as the Python numbers Numba reads fastest.
    `unpacked`: the runner has the call's arguments in names x0, x1, ...
    (`_guard` unpacks them), else it reads them from `a`."""
    positions = range(len(types)) if runtime is None else runtime
    names = [f"x{i}" if unpacked else f"a[{i}]" for i in range(len(types))]
    return [f"{_AS_PYTHON[types[i]]}({names[i]})" if types[i] in _AS_PYTHON else names[i] for i in positions]


def _direct_runner(compiled, runtime: tuple | None, types: tuple,
                   guard: tuple[str, dict] | None = None, general: Callable | None = None,
                   front: bool = False, positions: tuple | None = None) -> Callable | None:
    """A warm call's whole work when there is nothing to check between calls
    (no guards on globals, no captured arrays, no write-backs) and the
    backend can run its kernel on the arguments as they come: one call, the
    kernel's, and its outputs unpacked. A call right after other work runs
    with cold caches, where every Python object a call path touches costs
    (tens of microseconds over the longer path, bench/README.md); None
    where the general path is needed. `types`: the call's argument types
    (the key's first part), for `_kernel_args`; `guard`: a `_guard`, run
    first (the runner then gives `_MISS` for another signature);
    `general`: the runner made as a `__call__` that calls `general` where
    it would give `_MISS` (`_set_mono`), None where it is not made so
    simply (a program that writes into its arguments). `front`: the kernel
    is called through its front door, which tests the arrays' types and
    shapes itself (`guard` then need not: `_guard(key, test_arrays=False)`);
    None where it has none (kernel.py `CpuKernel.fast`). `positions`: with
    `general`, how a call with keywords or defaults is put by position in
    the runner itself (kernel.py `fast`)."""
    traced, program = compiled.traced, compiled.program
    unpacked = guard is not None  # `_guard` unpacks the call into x0, x1, ...
    fast = getattr(compiled.run, "fast", None)
    if fast is None or traced.captured or traced.layout_args or program.fresh_results or program.result_choices \
            or _whole_argument_views(program) or any(i >= len(types) for i in program.result_args.values()):
        return None  # (fresh_results: `execute` copies a result that is an argument's memory; result_choices:
        # `execute` returns the argument a run chose; whole views: `execute` gives a new view object; a
        # returned global: `execute` gives the array itself)
    if program.result_subviews and program.writebacks:
        return None  # (views of another result beside write-backs: `execute` takes them)
    tested = ""
    if program.writebacks:
        written = _written_guard(compiled, runtime, types)
        if written is None:
            return None
        # (the kernel's front door refuses what these lines test: kernel.py; it has no version for a
        # read-only array where it writes into its argument, which `CpuKernel.__call__` copies)
        tested = written[0] if not front else "".join(_writeable_line(_positions_of(runtime, types)[k])
                                                      for k in getattr(compiled.run, "consumed", ()))
        if not front:
            guard = _joined(guard, written) if guard is not None else written
    if program.result_arg_views or program.sure_writes:  # a read-only argument: by the general path
        protected = _read_only_guard(program, types, tested)
        guard = _joined(guard, protected) if guard is not None else protected
    gs = getattr(traced, "guards", None)
    implicit: list[str] = []
    if gs is not None:
        outside = _outside_guard(gs, bool(program.writebacks))
        if outside is None:
            return None
        implicit = outside[2]
        guard = _joined(guard, outside[:2]) if guard is not None else outside[:2]
    tree = program.out_tree
    results = program.body.results
    args = _kernel_args(types, runtime, unpacked) + implicit  # the kernel's arguments, then the outside arrays
    if program.writebacks:
        if general is not None:
            return fast(None, args, guard, fallback=general, front=True, after=_after_writing(program),
                        positions=positions) if front else None
        whole = fast(None, args, guard)
        return None if whole is None else _writing_runner(whole, program)
    if front and general is None:
        return None
    if tree[0] == "leaf" and results[tree[1]].ndim > 0 and results[tree[1]].dtype != RNG:
        # one array, the common case: the kernel gives it
        return fast(tree[1], args, guard, fallback=general, front=front, positions=positions)
    build = _flat_tuple(tree, results, program.result_subviews)
    if build is not None:  # a scalar, or a tuple of arrays and scalars: built in the runner itself
        return fast(None, args, guard, build, fallback=general, front=front, positions=positions)
    if general is not None:
        return None
    whole = fast(None, args, guard)
    if whole is None:
        return None
    subviews = program.result_subviews
    if subviews:  # (`return {"y": y, "v": y[1:]}`: the views of another result, then the tree)
        return lambda a: _MISS if (out := whole(a)) is _MISS else build_output(tree, _with_subviews(list(out),
                                                                                                    subviews))
    if guard is None:
        return lambda a: build_output(tree, whole(a))
    return lambda a: _MISS if (out := whole(a)) is _MISS else build_output(tree, out)


def _joined(first: tuple[str, dict], then: tuple[str, dict]) -> tuple[str, dict]:
    """Guard lines `first` then `then`, with the names of both. A name both
    use must be the same object: `_guard`'s T0 (the first argument's type)
    was once overwritten by `_outside_guard`'s T0 (a global's type), and
    every warm call of a function reading a global guarded by value missed
    its runner and took the general path (range2d of numba-benchmark: 30-50
    us more a call right after other work)."""
    clash = [k for k in first[1].keys() & then[1].keys() if first[1][k] is not then[1][k]]
    assert not clash, f"guard lines name {clash} twice"
    return first[0] + then[0], {**first[1], **then[1]}


def _written_guard(compiled, runtime: tuple | None, types: tuple) -> tuple[str, dict] | None:
    """Lines that return `_MISS` where a call that writes into its array
    arguments needs the general path (`execute`): a written argument that
    shares memory with another array argument (refused there with
    ValueError), or a read-only one that the kernel would write into
    directly (the general path copies it, and the write-back raises NumPy's
    ValueError). None where only the general path can run it: a write into
    an outside array or an argument that is not a NumPy array."""
    written = [i for i, _ in compiled.program.writebacks]
    if any(i >= len(types) or types[i] is not np.ndarray for i in written):
        return None
    arrays = [j for j, t in enumerate(types) if t is np.ndarray]
    positions = _positions_of(runtime, types)
    consumed = [positions[k] for k in getattr(compiled.run, "consumed", ())]
    lines = [f"    if MAY_SHARE(a[{i}], a[{j}]):\n        return MISS\n" for i in written for j in arrays if j != i]
    lines += [_writeable_line(i) for i in consumed]
    return "".join(lines), {"MAY_SHARE": np.may_share_memory, "MISS": _MISS}


def _read_only_guard(program: Program, types: tuple, tested: str = "") -> tuple[str, dict]:
    """Lines that return `_MISS` where an argument that a result is a view of
    (Program.result_arg_views), or that a write always reaches
    (Program.sure_writes), is read-only: `execute` then gives that view
    read-only (`plain_results`), as NumPy, or raises NumPy's ValueError
    (`_refuse_read_only`); the kernel's view was writable, and a write into
    it reached the caller's broadcast or protected array."""
    viewed = sorted({argi for argi, _ in program.result_arg_views.values()} | set(program.sure_writes))
    viewed = [argi for argi in viewed if argi < len(types) and types[argi] is np.ndarray]
    lines = [_writeable_line(i) for i in viewed]
    return "".join(line for line in lines if line not in tested), {"MISS": _MISS}  # (`tested`: tested before)


def _writeable_line(i: int) -> str:
    return f"    if not a[{i}].flags.writeable:\n        return MISS\n"


def _positions_of(runtime: tuple | None, types: tuple):
    """The call's positions of the kernel's arguments (`runtime`: None for all)."""
    return range(len(types)) if runtime is None else runtime


def _writing_runner(whole: Callable, program: Program) -> Callable:
    """The direct runner of a program that writes into its arguments: the
    kernel's outputs (`whole`, with `_written_guard` among its guards), then
    what `execute` does after a run (`_after_writing`). group_max (corpus)
    right after a plain call: 202 us by the general path, numba.njit 102
    (bench/call_cost.py)."""
    lines, env = _after_writing(program)
    env.update(whole=whole, MISS=_MISS)
    exec(f"def direct(a):\n    o = whole(a)\n    if o is MISS:\n        return MISS\n{lines}", env)  # noqa: S102
    return env["direct"]


def _after_writing(program: Program) -> tuple[str, dict]:
    """What `execute` does after a run of a program that writes into its
    arguments, as straight-line code from the kernel's outputs `o` and the
    call's arguments `a`, ending in the call's return: each result that
    shares memory with a written argument but is not a written value copied
    (`_unshared`), then the write-backs (`_write_back`: none where the kernel
    wrote into the argument itself)."""
    n_out = len(program.body.results) - len(program.writebacks)
    env_views: dict[str, Any] = {}
    written = [f"o[{res}]" for _, res in program.writebacks]
    targets = [f"a[{argi}]" for argi, _ in program.writebacks]
    body = []
    kept = set(program.result_args) | set(program.result_views)
    for k in range(n_out):
        if program.body.results[k].ndim == 0:
            continue
        if k in kept:  # (replaced by the caller's array or its view below)
            body.append(f"    r{k} = o[{k}]\n")
            continue
        own = " or ".join(f"r{k} is {t}" for t in targets)  # the argument itself, written in place
        fresh = " and ".join(f"r{k} is not {w}" for w in written)
        shares = " or ".join(f"MAY_SHARE(r{k}, {t})" for t in targets)
        body.append(f"    r{k} = o[{k}]\n    if {own} or ({fresh} and ({shares})):\n        r{k} = r{k}.copy()\n")
    for w, t in zip(written, targets):
        body.append(f"    if {w} is not {t}:\n        COPY_BACK({t}, {w})\n")
    for k, argi in program.result_args.items():
        body.append(f"    r{k} = a[{argi}]\n")  # `s[1] = 7; return s`: the caller's array (execute)
    for k, (argi, steps) in program.result_views.items():
        body.append(f"    r{k} = VIEW_OF(a[{argi}], STEPS{k}, r{k})\n")  # `return a[1:]` (execute)
        env_views[f"STEPS{k}"] = steps
    names = [f"r{k}" if program.body.results[k].ndim or k in program.result_args else f"o[{k}]"
             for k in range(n_out)]
    env = {"MAY_SHARE": np.may_share_memory, "COPY_BACK": _copy_back, "build_output": build_output,
           "TREE": program.out_tree, "VIEW_OF": _view_of, **env_views}
    tree = program.out_tree
    flat = None if program.result_args else _flat_tuple(tree, program.body.results)
    if flat is not None and any(int(k) >= n_out for k in re.findall(r"o\[(\d+)\]", flat[0])):
        flat = None
    if tree[0] == "const" and tree[1] is None:  # the common in-place function: build_output costs 0.17 us
        body.append("    return None\n")
    elif flat is not None:  # `return s` or `return out, n`: built here (`_flat_tuple`)
        body.append("    return " + re.sub(r"o\[(\d+)\]", lambda m: names[int(m.group(1))], flat[0]) + "\n")
        env.update(flat[1])
    else:
        body.append(f"    return build_output(TREE, ({''.join(n + ', ' for n in names)}))\n")
    return "".join(body), env


def _outside_guard(gs: guards.GuardSet, writes: bool = False) -> tuple[str, dict, list[str]] | None:
    """Source lines (and their names) that return `_MISS` unless every guard
    of a program that reads Python values from outside its arguments holds
    (a module's `SOFTENING = 0.01`, a closure's function): the direct runner
    checks them itself, a dict read and a comparison each for a global, so
    such a function keeps the short path (the general one cost 115 us more
    a call right after other work, bench/README.md nineteenth session).
    Arrays it reads from outside (a module's weights, `self.table`) are
    fetched by the lines too, as `guards.Implicit.fetch` does (a global's
    by a dict read), into names given third, which the kernel takes after
    the call's arguments: `x * W + 1.0` with a global W, 100 elements, took
    4.6 us a warm call by the general path against 1.0 us for NumPy. None
    where the program writes an outside array, or writes into its arguments
    while reading one (the general path checks that they share no memory),
    where one is reached two ways, or is 0-d or a generator."""
    if gs.aliases or gs.written or not gs.plain or (writes and gs.implicit):
        return None
    if any(imp.kind != "array" for imp in gs.implicit):
        return None
    env: dict[str, Any] = {"MISS": _MISS}
    lines = []
    names = []
    fetches = []
    for k, imp in enumerate(gs.implicit):
        src = imp.source
        env[f"I{k}"], env[f"ID{k}"], env[f"IS{k}"] = imp, imp.dtype, tuple(imp.shape)
        names.append(f"e{k}")
        if src.kind == "global" and not src.steps:
            env[f"IH{k}"], env["ND"] = src.holder, np.ndarray
            fetches.append(f"    e{k} = IH{k}.get({src.name!r})")
            fetches.append(f"    if type(e{k}) is not ND or e{k}.dtype != ID{k} or e{k}.shape != IS{k}:")
        else:
            env["FAIL"] = guards._FAIL
            fetches.append(f"    e{k} = I{k}.fetch(a)")
            fetches.append(f"    if e{k} is FAIL:")
        fetches.append("        return MISS")
    for k, g in enumerate(gs.guards):
        src, expected = g.source, g.expected
        env[f"G{k}"] = g
        if src.kind == "global" and not src.steps and g.kind in ("id", "eq"):
            env[f"H{k}"], env[f"E{k}"], env[f"ET{k}"] = src.holder, expected, type(expected)
            lines.append(f"    v{k} = H{k}.get({src.name!r}, MISS)")
            if g.kind == "id":
                lines.append(f"    if v{k} is not E{k}:")
            elif type(expected) in (int, float, bool, str, complex) and expected == expected and \
                    not (type(expected) is float and expected == 0):  # (-0.0: the general test, by sign)
                lines.append(f"    if type(v{k}) is not ET{k} or v{k} != E{k}:")
            else:  # the very object traced holds (guards.same_value); another is compared by value
                # (a NumPy scalar's `==`, right after other Python work, cost a cold call ~10 us)
                lines.append(f"    if v{k} is not E{k} and not G{k}.holds(a):")
        else:
            lines.append(f"    if not G{k}.holds(a):")
        lines.append("        return MISS")
    lines += fetches  # after the guards, as GuardSet.bind
    return "".join(line + "\n" for line in lines), env, names


def _defaults_now(f) -> tuple:
    """A function's defaults as objects: the tuple, the keyword-only dict and
    that dict's items (`f.__kwdefaults__["c"] = 5.0` edits the dict in place;
    the items hold the old values, so `is` compares them safely)."""
    kw = f.__kwdefaults__
    return f.__defaults__, kw, tuple(kw.items()) if kw else ()


def _flat_tuple(tree: tuple, results: list, subviews: dict | None = None) -> tuple[str, dict, Callable] | None:
    """A result that is one of the kernel's outputs or a tuple of them
    (`return s`, `return s, n, x`), as
    an expression of the outputs `o` that builds what `build_output` would
    from the kernel's own return (arrays as they are; a float64, int64,
    bool or complex128 scalar, which Numba gives back as the Python number,
    as the NumPy scalar of its dtype, or as that Python number where the
    plain function returns one), with build_output for outputs that come
    another way; None for any other tree. A tuple result skips the general
    builder's recursion per call (linspace_samples: 1.5 of a 6.6 us call).
    `subviews`: Program.result_subviews, each such result the view of
    another (`return Y, Y[-1]`: by `execute` a warm call cost 139 us, against
    34 for `return Y, Y[-1].copy()`)."""
    leaves = [tree] if tree[0] == "leaf" else tree[1] if tree[0] == "tuple" and len(tree) == 2 else ()
    if not leaves or not all(t[0] == "leaf" for t in leaves):
        return None
    parts, names = {}, {}
    for t in leaves:
        k, v = t[1], results[t[1]]
        sub = subviews.get(k) if subviews else None
        if v.dtype == RNG or len(t) > 3 and sub is None:
            return None
        if sub is not None and sub[1] is None:  # `return y, y`: that result's object again
            j = sub[0]
            parts[j] = f"(r{j} := {parts[j]})" if not parts[j].startswith("(r") else parts[j]
            parts[k] = f"r{j}"
        elif sub is not None:
            j, steps = sub
            names[f"V{k}"] = _view_taker(steps)
            parts[k] = f"V{k}(o[{j}], o[{k}])"
            if len(t) > 3:  # a 0-d view (`y[..., 1]` of a 1-d y) is a 0-d ndarray
                names[f"A{k}"] = functools.partial(np.asarray, dtype=np.dtype(t[3]))
                parts[k] = f"A{k}({parts[k]})"
        elif v.ndim > 0 or t[2]:
            parts[k] = f"o[{k}]"
        else:
            names[f"C{k}"] = np.dtype(v.dtype).type
            parts[k] = f"C{k}(o[{k}])"
    order = [t[1] for t in leaves]
    if len(set(order)) != len(order):  # (one output twice in the tree: a builder of its own)
        return None
    expr = parts[order[0]] if tree[0] == "leaf" else "(" + "".join(parts[k] + ", " for k in order) + ")"
    if subviews:
        return expr, names, lambda outs: build_output(tree, _with_subviews(list(outs), subviews))
    return expr, names, lambda outs: build_output(tree, outs)


def plain_results(program: Program, results: list, targets: list) -> list:
    """The kernel's results as the plain function's objects, `targets` the
    call's arguments (then the outside arrays it reads): a new array that
    is an argument's or an earlier result's memory copied, an argument
    returned as the caller's array, a view of a written argument or of
    another result as that view (Program.fresh_results, result_args,
    result_views, result_subviews). Also the aux results of
    value_and_grad(has_aux=True) (autodiff/api.py)."""
    if not (program.result_args or program.fresh_results or program.result_views or program.result_subviews
            or program.result_arg_views or program.result_choices):
        return results
    results = list(results)
    for k in program.fresh_results:  # `return x.copy()`: x's value, a new array in the plain function
        r = results[k]
        if isinstance(r, np.ndarray) and any(isinstance(t, np.ndarray) and (r is t or np.may_share_memory(r, t))
                                             for t in (*targets, *results[:k])):  # (`r is t`: an empty one)
            results[k] = r.copy()
    for k, argi in program.result_args.items():
        if argi < len(targets) and isinstance(targets[argi], np.ndarray):
            results[k] = targets[argi]  # `s[1] = 7; return s` (or a global) returns the caller's array
    for k, (argi, steps) in program.result_views.items():  # `return a[1:]`: a view of the caller's array
        if argi < len(targets):  # (aux of a gradient: the outside arrays are not given)
            results[k] = _view_of(targets[argi], steps, results[k])
    for k, (argi, steps) in program.result_arg_views.items():  # `return A[0]` of a read-only A
        if argi < len(targets) and isinstance(targets[argi], np.ndarray) and not targets[argi].flags.writeable:
            results[k] = _read_only_view(targets[argi], steps, results[k])
        elif argi < len(targets) and results[k] is targets[argi]:  # `return x[:]`: a new view of x in NumPy
            results[k] = targets[argi].view()
    for k, (tag, steps) in program.result_choices.items():  # `u, v = v, u` in a loop, then `return u`
        if tag < len(results):  # (not for a gradient's aux: tracer/trace.py `without_kinds`)
            results[k] = _chosen_argument(targets, results[tag], steps, results[k])
    if program.result_subviews:  # `return y, y[1:]`: a view of another result
        results = _with_subviews(results, program.result_subviews)
    return results


def _whole_argument_views(program: Program) -> bool:
    """Is a result a view of all of an argument, its shape and dtype
    (`return x[:]`, `x.view()`, `x.T` of a 1-d x; Program.result_arg_views)?
    The kernel may give the caller's array object itself there, where NumPy
    gives a new view of it (`plain_results`): such a call takes the general
    path."""
    for k, (argi, _) in program.result_arg_views.items():
        spec = program.arg_specs[argi] if argi < len(program.arg_specs) else None
        r = program.body.results[k]
        if spec is None or getattr(spec, "kind", None) != "array" or \
                (tuple(r.shape) == tuple(spec.shape) and r.dtype == spec.dtype):
            return True
    return False


def _chosen_argument(targets: list, which: Any, steps: tuple | None, result: Any) -> Any:
    """A result that is at run time the argument at position `which` (-1:
    an array the function made), or the view `steps` of it
    (Program.result_choices): the caller's array or that view of it, taken
    after the write-back, as the plain function returns it; else the
    kernel's array."""
    which = int(np.asarray(which.copy_to_host() if hasattr(which, "copy_to_host") else which))  # (cuda: on device)
    if not 0 <= which < len(targets) or not isinstance(targets[which], np.ndarray):
        return result
    return targets[which] if steps is None else _view_taker(steps)(targets[which], result)


def _read_only_view(target: np.ndarray, steps: tuple | None, result: Any) -> Any:
    """A result that is a view of the read-only argument `target` as NumPy
    gives it: that view of the caller's array itself (read-only, as every
    view of it), else the kernel's array (a view it made, or a copy) marked
    read-only."""
    if not isinstance(result, np.ndarray):
        return result
    view = _view_taker(steps)(target, result) if steps is not None else result
    if view is result:
        view = result.view() if result.flags.writeable else result
        view.flags.writeable = False
    return view


def _with_subviews(outs: list, subviews: dict) -> list:
    """The kernel's outputs with each result of Program.result_subviews
    the view of the other result that it is (`return y, y[1:]`), or that
    result itself (`return y, y`: steps None)."""
    for k, (j, steps) in subviews.items():
        outs[k] = outs[j] if steps is None else _view_taker(steps)(outs[j], outs[k])
    return outs


def _view_taker(steps: tuple) -> Callable:
    """`_view_of` for these steps (each (primitive name, attrs as items):
    tracer/trace.py `_view_steps`) as one function of (target, result): the
    basic index, reshape and transpose taken by NumPy itself (`return Y,
    Y[-1]`: 5 us a call where `_view_of`, through the primitives, costs 23)."""
    try:
        return _cached_view_taker(steps)
    except TypeError:  # an attribute that is not hashable
        return _make_view_taker(steps)


@functools.lru_cache(maxsize=256)
def _cached_view_taker(steps: tuple) -> Callable:
    return _make_view_taker(steps)


def _make_view_taker(steps: tuple) -> Callable:
    ops = []
    for name, items in steps:
        attrs = dict(items) if name != "index" else {}
        if name == "slice":
            key = tuple(slice(a, b if b >= 0 else None, st) for a, b, st in
                        zip(attrs["starts"], attrs["stops"], attrs["steps"]))
            ops.append(lambda v, key=key: v[key])
        elif name == "reshape" and all(isinstance(d, int) for d in attrs["shape"]):
            ops.append(lambda v, shape=tuple(attrs["shape"]): v.reshape(shape))
        elif name == "transpose":
            ops.append(lambda v, perm=tuple(attrs["perm"]): v.transpose(perm))
        elif name in ("real", "imag"):  # a complex array's part (tracer/trace.py `_view_steps`)
            ops.append(lambda v, name=name: getattr(v, name))
        elif name == "index":  # the user's basic index (tracer/trace.py `_index_steps`)
            ops.append(lambda v, key=_index_key(items): v[key])
        else:
            as_dicts = tuple((n, dict(items)) for n, items in steps)
            return lambda target, result: _view_of(target, as_dicts, result)

    def take(target: Any, result: Any) -> Any:
        if type(target) is not np.ndarray:
            return result
        view = target if ops else target.view()
        for op in ops:
            view = op(view)
        if type(result) is np.ndarray:
            return view if view.shape == result.shape and view.dtype == result.dtype else result
        # a 0-d view the kernel gave as a number (`y[..., 1]` of a 1-d y)
        return view if view.ndim == 0 and isinstance(result, (float, int, complex, np.generic)) else result

    return take


def _index_key(items: tuple) -> tuple:
    """A basic index as tracer/trace.py `_static_key` keeps it, for NumPy."""
    return tuple(slice(*it[1:]) if type(it) is tuple else it for it in items)


_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
                       "setdefault", "popitem", "add", "discard", "appendleft", "popleft", "extendleft"})


def _mutation_line(fn: Callable, changed: str) -> SourceLoc:
    """The line of `fn` that changes its container argument `changed` (a
    method that mutates it, or an item assigned or deleted): the first such
    line, else the `def` line. (The error quoted the first line of the code
    object, a decorator above the `def` where it has one: probe R.)"""
    import ast
    import textwrap

    name = re.match(r"\w*", changed).group(0)
    code = fn.__code__
    try:
        lines, first = inspect.getsourcelines(fn)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        lines, first, tree = [], code.co_firstlineno, None

    def on_it(node: Any) -> bool:
        while isinstance(node, (ast.Subscript, ast.Attribute)):
            node = node.value
        return isinstance(node, ast.Name) and node.id == name

    line = None
    for node in ast.walk(tree) if tree is not None else ():
        hit = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS
               and on_it(node.func.value)) or \
            (isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)) and any(
                isinstance(t, ast.Subscript) and on_it(t) for t in getattr(node, "targets", [getattr(node, "target", None)])))
        if hit and (line is None or node.lineno < line):
            line = node.lineno
    if line is None and tree is not None:
        defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        line = defs[0].lineno if defs else 1
    lineno = first + line - 1 if line is not None else code.co_firstlineno
    return SourceLoc(code.co_filename, lineno, linecache.getline(code.co_filename, lineno).rstrip("\n"))


def captured_unchanged(program: Program) -> bool:
    """Arrays of unknown origin baked in as constants (one returned by a
    function the tracer does not enter) still hold what they held when traced.
    Arrays reached from globals, closures, attributes and containers are not
    baked in: they are implicit arguments (looptrace/guards.py)."""
    for a, snap in program.captured:
        if a.shape != snap.shape or a.dtype != snap.dtype:
            return False
        # (the same bytes first: a small array's check then costs a few hundred ns, which
        # matters for a container of many arrays baked in, tracer/external.py `baked`)
        if a.nbytes <= 1 << 16 and a.tobytes() == snap.tobytes():
            continue
        if not np.array_equal(a, snap, equal_nan=a.dtype.kind in "fc"):
            return False
    return True


def _still_valid(program: Program, values: list) -> bool:
    extra = guards.bind(program, values)
    return extra is not None and captured_unchanged(program) and \
        (not program.layout_args or layout.holds(program.layout_args, values, extra))


def _plain_extra(program: Program) -> bool:
    gs = program.guards
    return gs is None or gs.plain


def _forget_in(jf: JitFunction) -> Callable:
    """An eviction hook dropping the fast-path entries of an evicted signature
    (holding the function weakly: its cache holds the hook)."""
    ref = weakref.ref(jf)

    def forget(_key, compiled) -> None:
        owner = ref()
        if owner is not None:
            owner.forget_fast(compiled)

    return forget


_MISS = object()
_EMPTY = inspect.Parameter.empty


def _to_positions(fn: JitFunction, args: tuple, kwargs: dict) -> tuple | None:
    """A call's arguments by position (JitFunction._by_position) for a direct
    runner, or None where the general path must take it (while tracing, it
    traces the call as it was made)."""
    if ctx.TRACES[0]:
        return None
    return fn._by_position(args, kwargs)


def _mono_call(mono: Callable) -> Callable:
    """A `__call__` that runs `mono` (JitFunction._set_mono) and the general
    one where it misses (another signature, keywords)."""
    general = JitFunction.__call__

    def __call__(self, *args, **kwargs):
        if not kwargs:
            out = mono(args)
            if out is not _MISS:
                return out
        return general(self, *args, **kwargs)

    return __call__



def _guard(key: tuple, test_arrays: bool = True, floats: tuple = (), counted: bool = False) -> tuple[str, dict]:
    """Source lines (and the names they use) that return `_MISS` unless a
    call's argument tuple `a` has exactly the types, array dtypes and shapes
    and int values of `key` (a `_plain_key`), for the runner JitFunction
    keeps for the last signature called (`_mono`): a function called over
    and over with one signature, the common case, then skips building and
    hashing its key (for eight arguments, 1.5 us of a 6 us call on the 2-vCPU
    machine of bench/README.md's sixteenth session). Identity tests only: a
    dtype equal to the key's but another object misses, and the general
    path decides. `test_arrays=False`: not the arrays' dtypes, shapes and
    flags, for a runner whose kernel's front door tests them (kernel.py
    `CpuKernel.fast`, `front`). `floats`: the positions of static floats,
    whose values and signs end the key (`JitFunction._fast_key`).
    `counted`: the runner has made sure that `a` has one item per type
    (kernel.py `fast` with `positions`), not tested again."""
    types = key[0]
    arrays, ints, values = _key_plan(types)
    env: dict[str, Any] = {"MISS": _MISS, "TRACES": ctx.TRACES}
    tests = []
    for i, t in enumerate(types):
        env[f"T{i}"] = t
        tests.append(f"type(x{i}) is T{i}")
    for j, i in enumerate(arrays if test_arrays else ()):
        env[f"D{i}"], env[f"S{i}"] = key[1 + 2 * j], key[2 + 2 * j]
        tests.append(f"x{i}.dtype is D{i} and x{i}.shape == S{i} and x{i}.flags.aligned")
    for j, i in enumerate(ints):  # after every array's dtype and shape in the key, tested or not
        env[f"V{i}"] = key[1 + 2 * len(arrays) + j]
        tests.append(f"x{i} == V{i}")
    for j, i in enumerate(values):  # (after the types: `==` of a str or a tuple of ints, `is` of the rest)
        env[f"V{i}"] = key[1 + 2 * len(arrays) + len(ints) + j]
        tests.append(f"x{i} == V{i}" if types[i] in (str, tuple) else f"x{i} is V{i}")
    for j, i in enumerate(floats):
        env[f"FV{i}"], env[f"FS{i}"] = key[len(key) - len(floats) + j]
        tests.append(f"x{i} == FV{i} and COPYSIGN(1.0, x{i}) == FS{i}")
    if floats:
        env["COPYSIGN"] = math.copysign
    names = "".join(f"x{i}, " for i in range(len(types)))
    src = "    if TRACES[0]:\n" if counted else f"    if len(a) != {len(types)} or TRACES[0]:\n"
    src += "        return MISS\n"
    if types:
        src += f"    {names} = a\n    if not ({' and '.join(tests)}):\n        return MISS\n"
    return src, env


_MAX_RETRACES = 4
_FAST_ENTRIES = 256  # fast-path keys per function (ints by value): cleared when full


_RANDOM_STATES = (np.random.Generator, np.random.RandomState)


def transactional_run(run: Callable[[list], list], args: list) -> list:
    """Run a compiled program; if it raises, the generators among its
    arguments are put back as they were (arrays are written back only after a
    successful run): a call that fails changes nothing the caller can see.
    A RandomState (NumPy's legacy random state, guards.py) runs as a copy of
    its state, put back only after a successful run."""
    gens = [a for a in args if isinstance(a, _RANDOM_STATES)]  # (one pass: most calls have none)
    if not gens:
        return run(args)
    if any(isinstance(a, np.random.RandomState) for a in gens):
        return _run_on_legacy_states(run, args)
    states = [g.bit_generator.state for g in gens]
    try:
        return run(args)
    except BaseException:
        for g, s in zip(gens, states):
            g.bit_generator.state = s
        raise


def _run_on_legacy_states(run: Callable[[list], list], args: list) -> list:
    """The run on copies of the RandomStates' states, stored back after it,
    holding each state's lock meanwhile, as NumPy's own draws do: two
    threads calling at once would otherwise start from the same state and
    one's draws would be lost."""
    import contextlib

    from looptrace.tracer.legacy_random import state_array, store_state

    owners = {k: a for k, a in enumerate(args) if isinstance(a, np.random.RandomState)}
    with contextlib.ExitStack() as held:
        for rs in {id(a): a for a in owners.values()}.values():
            lock = getattr(getattr(rs, "_bit_generator", None), "lock", None)
            if lock is not None:
                held.enter_context(lock)
        args = [state_array(a) if k in owners else a for k, a in enumerate(args)]
        outs = transactional_run(run, args)
        for k, rs in owners.items():
            store_state(rs, args[k])
    return outs


def runtime_arg(spec: ArgSpec, v: Any, keep_device: bool = False) -> Any:
    """A call's argument as a runner takes it: NumPy, or a GPU array for a runner
    that takes them (`keep_device`; others get a host copy)."""
    if spec.kind == "rng":
        return v
    if spec.kind == "scalar":
        return np.asarray(v, dtype=spec.dtype)
    if spec.device:
        if keep_device:
            return v
        from looptrace.codegen.cuda.interop import to_host

        return to_host(v)
    a = np.asarray(v)
    if not a.dtype.isnative or not a.flags.aligned:  # big-endian or unaligned data: a native copy
        a = np.array(a, dtype=spec.dtype)
    return a


def _written_values(outs: list, targets: list, writebacks: list) -> list:
    """The values to write back, each a copy where it shares memory with
    another argument written back: a value that is a view of an argument
    (the interpreter's `out[i] = X[i, 1]` over a loop is the view X[:, 1])
    must be read before that argument is written (`X[:, 1] = 7.0` after the
    loop), or `out` gets the new values; the write-backs go one by one."""
    written = [outs[res] for _, res in writebacks]
    if len(written) < 2:
        return written
    hosts = [(k, t) for k, t in enumerate(targets) if isinstance(t, np.ndarray)]
    return [w.copy() if isinstance(w, np.ndarray) and any(j != k and np.may_share_memory(w, t) for j, t in hosts)
            else w for k, w in enumerate(written)]


def _unshared(results: list, targets: list, written: list, kept: frozenset = frozenset()) -> list:
    """The function's results, each a copy where it shares memory with an
    argument about to be written back. Such a result is that argument's
    contents from before the function's writes (`v = s.copy(); s[1] = 7;
    return v`: the kernel returns its argument `s` unchanged as `v`), which
    the write-back must not reach. A result that is itself a written-back
    value (`s[1] = 7; return s`) already holds the new contents and stays,
    unless it is the argument itself (`s[1] = 7; return s.copy()`, whose
    kernel wrote into s in place: the caller's later writes to s reached
    the returned copy, probe_s53). `kept`: the positions that become the
    caller's array or its view after (Program.result_args, result_views)."""
    hosts = [t for t in targets if isinstance(t, np.ndarray)]
    if not hosts:
        return results
    return [r.copy() if k not in kept and isinstance(r, np.ndarray) and _shares_an_argument(r, hosts, written)
            else r for k, r in enumerate(results)]


def _shares_an_argument(r: np.ndarray, hosts: list, written: list) -> bool:
    """`_unshared`'s test: r is a written argument itself, or shares memory
    with one without being a written-back value."""
    if any(r is t for t in hosts):
        return True
    return not any(r is w for w in written) and any(np.may_share_memory(r, t) for t in hosts)


def _view_of(target: Any, steps: tuple, result: Any) -> Any:
    """The view of the caller's array `target` that a result is
    (Program.result_views), taken by NumPy itself after the write-back, so a
    reshape copies exactly where NumPy's would; `result` (the kernel's copy)
    where `target` is not a NumPy array or the view does not come out as
    the kernel's value's shape and dtype."""
    if not isinstance(target, np.ndarray) or not isinstance(result, np.ndarray):
        return result
    view = target if steps else target.view()  # (`y[:]`: a view of all of it, another array object)
    for name, attrs in steps:
        view = primitive.get(name).impl(view, **attrs)
    return view if view.shape == result.shape and view.dtype == result.dtype else result


def _write_back(target: Any, result: Any, spec: ArgSpec | None) -> None:
    """An in-place write into an argument (or an implicit one: spec None), as the caller sees it."""
    if spec is not None and spec.device:
        from looptrace.codegen.cuda.interop import copy_into

        copy_into(target, result)
        return
    if result is target:  # the kernel wrote into the argument itself (codegen/cpu/emitter.py emit_program)
        return
    if device_array_spec(result) is not None:
        from looptrace.codegen.cuda.interop import to_host

        result = to_host(result)
    _copy_back(target, result)


def _refuse_read_only(sure_writes: dict, values: list) -> None:
    """NumPy's ValueError, at the user's line, for a read-only argument that
    a write always reaches (Program.sure_writes: `x[x < -1e9] = 0`, `x[2:2]
    = 0`, `x += 1` of an empty x), though it changes nothing there and
    `_copy_back` sees no change. A write under a traced condition or in a
    loop may not have run: only a change is refused there (`_copy_back`)."""
    for argi, loc in sure_writes.items():
        a = values[argi] if argi < len(values) else None
        if isinstance(a, np.ndarray) and not a.flags.writeable:
            raise ValueError(format_message("assignment destination is read-only", loc))


def _copy_back(target: np.ndarray, result: Any) -> None:
    """np.copyto(target, result), but into a read-only array only a change
    raises NumPy's ValueError: the program writes it where the plain function
    may not (`if a[i] > 100: a[i] = 0`, never true), and values left as they
    were, bit for bit, mean no write changed it. (A plain write of the same
    value would raise; that one goes unseen.)"""
    if not target.flags.writeable:
        same = np.asarray(result, target.dtype)
        if same.shape == target.shape and same.tobytes() == target.tobytes():
            return
        raise ValueError("assignment destination is read-only")
    np.copyto(target, result, casting="unsafe")


def _may_share(a: Any, b: Any, sa: ArgSpec, sb: ArgSpec) -> bool:
    if sa.device or sb.device:
        from looptrace.codegen.cuda.interop import may_share_memory

        return sa.device and sb.device and may_share_memory(a, b)
    if not np.may_share_memory(a, b):
        return False
    try:  # exactly: interleaved views (`a[::2]`, `a[1::2]`) share bounds but no element
        return np.shares_memory(a, b, max_work=1000)
    except np.exceptions.TooHardError:
        return True


def _check_layouts(names, values, extra: tuple, traced: Program) -> None:
    """The arrays a program holds for the layout it was traced for
    (tracer/layout.py) have it: calls reach a program traced for their
    layout (JitFunction._key, `_still_valid`), but a device array's layout
    is not followed, and one that is not C-ordered is refused."""
    for argi, (loc, _) in traced.layout_args.items():
        v = extra[argi[1]] if isinstance(argi, tuple) else values[argi]
        if isinstance(v, np.ndarray) or _c_ordered(v):
            continue
        what = f"argument `{names[argi]}`" if not isinstance(argi, tuple) else \
            f"the array {traced.guards.implicit[argi[1]].source.describe()}"
        from looptrace.errors import UnsupportedError

        raise UnsupportedError(
            f"{what} is a device array that is not C-ordered, and the program reshapes it and then writes "
            "into it or into the reshape: what the write reaches depends on the memory order, which "
            "looptrace follows for NumPy arrays only", loc, "pass a C-ordered copy")
    if not layout.holds(traced.layout_args, values, extra):
        raise InternalError("a program traced for other argument layouts was run")


def _c_ordered(v: Any) -> bool:
    """A device array's layout (__cuda_array_interface__: no strides means C order)."""
    cai = getattr(v, "__cuda_array_interface__", None)
    if isinstance(cai, dict):
        if cai.get("strides") is None:
            return True
        step, want = np.dtype(cai["typestr"]).itemsize, []
        for d in reversed(cai["shape"]):
            want.insert(0, step)
            step *= d
        return all(d == 1 or s == w for d, s, w in zip(cai["shape"], cai["strides"], want))
    flags = getattr(v, "flags", None)
    return bool(getattr(flags, "c_contiguous", True))


def _check_aliasing(names, specs, values, program, same_ok: bool = True) -> dict[int, int]:
    """Array arguments that share memory where the program writes one of
    them: where each such pair is one array passed twice (the same memory,
    shape, strides and dtype: `step(x, out=x)`) and `same_ok`, the aliases
    to trace (later position -> the first); else ValueError. Arrays that
    share no element (`a[::2]` and `a[1::2]`) are not aliases."""
    written = {i for i, _ in program.writebacks if i < len(values)}  # implicit ones: guards.py
    arrays = [i for i, s in enumerate(specs) if s.kind == "array"]
    shared = False
    for i in written:
        for j in arrays:
            if j != i and _may_share(values[i], values[j], specs[i], specs[j]):
                if not (same_ok and _same_array(values[i], values[j], specs[i], specs[j])):
                    why = "" if same_ok else " (a gradient takes the arguments as separate values)"
                    raise ValueError(f"arguments `{names[i]}` and `{names[j]}` share memory and `{names[i]}` "
                                     f"is written in place; pass a copy of one of them{why}")
                shared = True
    if not shared:
        return {}
    aliases: dict[int, int] = {}
    for k, j in enumerate(arrays):
        first = next((i for i in arrays[:k] if i not in aliases and _same_array(values[i], values[j], specs[i],
                                                                                  specs[j])), None)
        if first is not None:
            aliases[j] = first
    return aliases


def _same_array(a: Any, b: Any, sa: ArgSpec, sb: ArgSpec) -> bool:
    """Two NumPy arrays over the same memory with the same shape, strides and dtype."""
    if sa.device or sb.device or not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    return a is b or (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
                      and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


def _check_outside_aliasing(names, specs, values, extra, program) -> None:
    """An argument written in place that shares memory with an array the
    function reads from outside its arguments (a global, a closure's, an
    attribute: the implicit arguments of guards.py), or an outside array
    written in place that shares memory with an argument: the plain function
    would see each write through the other name; the compiled one reads the
    values from before the call. Refused, as two aliasing arguments are."""
    written = {i for i, _ in program.writebacks}
    arrays = [i for i, s in enumerate(specs) if s.kind == "array"]
    outside = [k for k, x in enumerate(extra) if isinstance(x, np.ndarray)]
    for i in arrays:
        for k in outside:
            if (i in written or len(values) + k in written) and np.may_share_memory(values[i], extra[k]):
                raise ValueError(f"argument `{names[i]}` shares memory with an array the function reads from "
                                 "outside its arguments (a global, closure or attribute), and one of them is "
                                 "written in place; pass a copy")


def _rebuild_jit(ref: Any, options: dict) -> "JitFunction":
    obj = pickling.resolve(ref)
    if isinstance(obj, JitFunction) and all(getattr(obj, k) == v for k, v in options.items()):
        return obj  # the module's own jitted function: its compiled signatures are shared
    fn = obj.py_func if isinstance(obj, JitFunction) else obj
    return JitFunction(fn, **options)


def _with_note(reason: str, note: str | None) -> str:
    return reason if not note else (f"{reason}; {note}" if reason else note)


# --- public functions -------------------------------------------------------------------------
def jit(fn=None, *, static_argnames=(), backend="auto", cache=True, parallel=True, fastmath=False):
    """Compile `fn` (API.md). Beyond the contract: `fastmath=True` lets the
    cpu backend reorder and contract floating-point arithmetic (sums may
    differ from the plain function's in the last bits; NaN and infinity
    tests keep their meaning)."""
    def wrap(f):
        if isinstance(f, (staticmethod, classmethod)):  # @lt.jit above @staticmethod: the same kind, jitted
            return type(f)(wrap(f.__func__))
        if isinstance(f, types.MethodType):  # lt.jit(obj.method), lt.jit(Cls.classmethod)
            _check_traceable(f)
            return JitFunction(f.__func__, static_argnames, backend, cache, parallel, fastmath).__get__(f.__self__)
        if isinstance(f, functools.partial):  # lt.jit(partial(f, a, k=v)): f jitted, a and k=v passed on every call
            inner = f.func if isinstance(f.func, (JitFunction, BoundJit)) else wrap(f.func)
            return PartialJit(inner, *f.args, **f.keywords)
        call = getattr(type(f), "__call__", None)
        if not isinstance(f, (type, types.FunctionType, JitFunction)) and isinstance(call, types.FunctionType):
            # lt.jit(obj) of an object with a __call__ of the user's: that method, bound to obj
            return JitFunction(call, static_argnames, backend, cache, parallel, fastmath).__get__(f)
        return JitFunction(f, static_argnames, backend, cache, parallel, fastmath)

    return wrap(fn) if fn is not None else wrap


class BoundJit(functools.partial):
    """A jitted method bound to its object (`m.apply`): called, explained and
    shaped with the object as its first argument."""

    def explain(self, *args, **kwargs) -> "Explanation":
        return self.func.explain(*self.args, *args, **kwargs)

    def eval_shape(self, *args, **kwargs):
        return self.func.eval_shape(*self.args, *args, **kwargs)

    @property
    def py_func(self):
        return self.func.py_func.__get__(self.args[0])


class PartialJit(functools.partial):
    """`lt.jit(functools.partial(f, a, k=v))`: the jitted f called with the
    bound arguments first, as calling the partial calls f (a bound array f
    writes into is the caller's array; static_argnames name f's parameters)."""

    def explain(self, *args, **kwargs) -> "Explanation":
        return self.func.explain(*self.args, *args, **{**self.keywords, **kwargs})

    def eval_shape(self, *args, **kwargs):
        return self.func.eval_shape(*self.args, *args, **{**self.keywords, **kwargs})

    @property
    def py_func(self):
        return functools.partial(self.func.py_func, *self.args, **self.keywords)


def _as_jit(fn: Callable) -> tuple[JitFunction, tuple]:
    """(the jitted function, the arguments bound ahead of the call's): a
    jitted method bound to an object (`m.apply`, a partial of the
    JitFunction: __get__) or a plain bound method takes the object first."""
    if isinstance(fn, functools.partial) and isinstance(fn.func, JitFunction) and not fn.keywords:
        return fn.func, fn.args
    if inspect.ismethod(fn) and isinstance(fn.__func__, types.FunctionType):
        jf = JitFunction(fn.__func__, backend="interpret")
        jf.__get__(fn.__self__)  # (its first parameter is the static object)
        return jf, (fn.__self__,)
    return (fn if isinstance(fn, JitFunction) else JitFunction(fn, backend="interpret")), ()


def eval_shape(fn: Callable, *args, **kwargs):
    if isinstance(fn, PartialJit):
        return fn.eval_shape(*args, **kwargs)
    jf, lead = _as_jit(fn)
    return jf.eval_shape(*lead, *args, **kwargs)


def explain(fn: Callable, *args, **kwargs) -> "Explanation":
    if isinstance(fn, PartialJit):
        return fn.explain(*args, **kwargs)
    jf, lead = _as_jit(fn)
    return jf.explain(*lead, *args, **kwargs)


@dataclass(frozen=True)
class LoopReport:
    line: int
    kind: str
    reason: str
    file: str = ""


class Explanation:
    """What became of each source loop, and the program after the passes.
    `loop_notes` ((file, line) -> text) is what the backend did with each loop
    (the cuda backend: its GPU strategy and why), appended to the reason;
    `notes` lists other choices of the backend (cuBLAS or its own product
    kernel, staged operands)."""

    def __init__(self, program: Program, loop_notes: dict | None = None, notes: list | None = None):
        self.program = program
        loop_notes = loop_notes or {}
        self.loops = [LoopReport(l.line, l.kind, _with_note(l.reason, loop_notes.get((l.file, l.line))), l.file)
                      for l in program.loops]
        # what tracing decided (specializations, unrolled loops), then the backend's choices
        self.notes = list(program.notes) + list(notes or [])

    def __str__(self) -> str:
        lines = [print_program(self.program), "", "loops:"]
        for l in self.loops:
            lines.append(f"  line {l.line}: {l.kind}" + (f" ({l.reason})" if l.reason else ""))
        lines += ["", "notes:"] + [f"  {n}" for n in self.notes] if self.notes else []
        return "\n".join(lines)

    __repr__ = __str__

    def to_dot(self) -> str:
        from looptrace.ir.dot import to_dot

        return to_dot(self.program)
