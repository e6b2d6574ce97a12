"""`grad`, `value_and_grad` and `vjp` (see API.md).

The gradient is a program transform (`vjp.gradient_program`) fed into the
same compile path and cache as `jit`: `JitFunction.compiled_for(values,
transform)` traces the function (a jitted function, or any Python function
calling one), applies the transform, runs the passes and the backend, and
caches the result per signature and transform. Gradients come back with their
argument's shape and dtype.
"""
from __future__ import annotations

import copy
import inspect
import itertools
import linecache
import math
import re
import threading
import types
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from looptrace import guards, pytree, specialize
from looptrace.api import (_MISS, _NP_INTS, _VALUE_TYPES, Compiled, JitFunction, Transform, _flat_tuple,
                           _guard, _joined, _kernel_args, _outside_guard, _plain_key, has_effects, plain_results,
                           runtime_arg, transactional_run)
from looptrace.errors import ReplayNeeded, TraceError, UnsupportedError
from looptrace.ops.io import muted, prints
from looptrace.tracer import context as ctx
from looptrace import pickling
from looptrace.tracer.trace import ArgSpec, build_output

from .vjp import Options, gradient_program


class Transformed:
    """The function `grad`, `value_and_grad` return: callable, and pickled as
    the call that made it (by reference: looptrace/pickling.py)."""

    def __init__(self, kind: str, impl: Callable, fn: Callable, args: tuple):
        self._kind, self._impl, self._fn, self._args = kind, impl, fn, args
        self.__name__ = f"{kind}_{getattr(fn, '__name__', 'function')}"
        self.__wrapped__ = fn

    def __call__(self, *args, **kwargs):
        return self._impl(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<looptrace {self._kind} of {getattr(self._fn, '__qualname__', self._fn)!r}>"

    def __reduce__(self) -> tuple:
        return _rebuild_transformed, (self._kind, pickling.reference(self._fn, self._fn), self._args)


def _rebuild_transformed(kind: str, fn: Any, args: tuple) -> Transformed:
    return {"grad": grad, "value_and_grad": value_and_grad}[kind](pickling.resolve(fn), *args[:3], **(
        {"has_aux": args[3]} if len(args) > 3 else {}))


class _Differentiated:
    """The gradient machinery shared by grad, value_and_grad and vjp."""

    def __init__(self, fn: Callable, checkpoint: int | None, backend: str | None):
        _check_checkpoint(checkpoint)
        self.fn = fn
        self.backend = backend
        self.jit = fn if isinstance(fn, JitFunction) else _jit_of(fn, backend or "auto")
        if backend is not None and isinstance(fn, JitFunction):
            self.jit = JitFunction(fn.py_func, fn.static_argnames, backend)
        if isinstance(self.jit, JitFunction) and not self.jit.static_argnames and any(
                p.kind == p.VAR_POSITIONAL for p in inspect.signature(self.jit.py_func).parameters.values()):
            # a jitted *args function: argnums count the arguments passed, as for a plain one
            self.jit = _VarargsJit(self.jit.py_func, backend or self.jit.backend)
        self.opts = Options(checkpoint=checkpoint)
        self.name = getattr(fn, "__name__", "function")
        self._flats: dict = {}  # _FlatJit -> its _Differentiated (`flat`)
        # (grad's options, warm key of the leaves) -> the warm call of containers (`_by_leaves`) or False
        self.by_leaves: dict = {}
        self._lock = threading.Lock()

    def flat(self, values: list, wrt: tuple[int, ...]) -> tuple:
        """(differentiated, values, wrt, regroup) for a call whose arguments
        may be containers (looptrace/pytree.py): the differentiated containers
        and the others that hold arrays are passed leaf by leaf, each leaf of
        a differentiated one differentiated; regroup(gradients) gives one
        gradient per entry of `wrt`, a container like its argument's. Without
        such containers: self, unchanged, and the identity."""
        jf = self.jit.current if isinstance(self.jit, _VarargsJit) else self.jit
        at = {i for i, v in enumerate(values)
              if isinstance(v, pytree.CONTAINERS) and (i in wrt or pytree.holds_array(v))}
        route = jf._flat_route(values, at) if at else None
        if route is None:
            return self, values, wrt, lambda grads: grads
        sub, flat_values = route
        starts, pos = [], 0
        for tree in sub._trees:
            starts.append(pos)
            pos += 1 if tree is None else pytree.count_leaves(tree)
        flat_wrt: list[int] = []
        spans = []
        for i in wrt:
            tree = sub._trees[i]
            n = 1 if tree is None else pytree.count_leaves(tree)
            # a Python int or bool inside a differentiated container (a dataclass's `n: int = 2`) stays
            # concrete, as non-differentiated ints do (API.md); its gradient is None, as vjp gives
            taken = [p for p in range(starts[i], starts[i] + n)
                     if tree is None or not isinstance(flat_values[p], (int, np.integer))]
            spans.append((len(flat_wrt), n, tree and pytree.builder(tree), [p - starts[i] for p in taken]))
            flat_wrt += taken
        dd = self.of_flat(sub)

        def regroup(grads: list) -> list:
            out = []
            for k, n, build, taken in spans:
                if build is None:
                    out.append(grads[k])
                elif len(taken) == n:
                    out.append(build(grads[k:k + n]))
                else:
                    leaves = [None] * n
                    for j, p in enumerate(taken):
                        leaves[p] = grads[k + j]
                    out.append(build(leaves))
            return out

        return dd, flat_values, tuple(flat_wrt), regroup

    def of_flat(self, sub) -> "_Differentiated":
        """The machinery for `sub`, a _FlatJit of this function (one per structure)."""
        with self._lock:
            dd = self._flats.get(sub)
            if dd is None:
                dd = self._flats[sub] = _Differentiated(sub, self.opts.checkpoint, None)
                dd.name = self.name
            return dd

    def compiled(self, values: list, wrt: tuple[int, ...], caller: str) -> tuple[Compiled, list[ArgSpec], int]:
        """The gradient program for these values (and the number of the
        function's own outputs that lead its results)."""
        specs = specialize.grad_specs(self.jit, values, wrt)
        for i in wrt:
            _check_differentiable(caller, self.name, self.jit.display_names[i], i, specs[i])
        positions = tuple(_arg_pos(specs, i) for i in wrt)

        def apply(program, used):
            for i in wrt:  # tracing may make an argument static: a float that decides a shape
                if used[i].kind == "static":
                    raise TypeError(f"{caller}({self.name}): cannot differentiate with respect to argument "
                                    f"`{self.jit.display_names[i]}` (position {i}): it decides a shape "
                                    "(`int(n)` in np.linspace, np.zeros, ...), so it is a constant of the "
                                    "program; choose other argnums")
            return gradient_program(program, [_arg_pos(used, i) for i in wrt], self.opts)

        transform = Transform(("vjp", positions, self.opts.checkpoint), apply)
        made, specs_of = [specs], self._specs_of(wrt)

        def specs_again(vs: list) -> list[ArgSpec]:  # compiled_for's first look: the specs just made
            return made.pop() if made and vs is values else specs_of(vs)

        c, specs = self.jit.compiled_for(values, transform, specs_again)
        return c, specs, len(c.traced.body.results) - len(c.traced.writebacks)

    def _specs_of(self, wrt: tuple[int, ...]) -> Callable[[list], list[ArgSpec]]:
        return lambda values: specialize.grad_specs(self.jit, values, wrt)

    def forward(self, values: list, wrt: tuple[int, ...]) -> Any:
        """The function's value, compiled with the gradient's specs (its ints,
        tuples and strings concrete), as a jitted call would return it."""
        try:
            if [s.kind for s in self.jit.specs_of(values)] == \
                    [s.kind for s in specialize.grad_specs(self.jit, values, wrt)]:
                return self.jit(*values)  # nothing made concrete: the jitted function's own cache
        except TypeError:
            pass
        compiled, specs, extra = self._bound(values, lambda: self.jit.compiled_for(values, None, self._specs_of(wrt)))
        return self.jit.execute(compiled, specs, values, extra)

    def _bound(self, values: list, compile_: Callable) -> tuple:
        """(compiled, specs, implicit arguments): retraced when what the
        function reads from outside its arguments changed (looptrace/guards.py)."""
        for _ in range(4):
            compiled, specs, *_ = compile_()
            extra = guards.bind(compiled.traced, values)
            if extra is not None:
                return compiled, specs, extra
        raise TraceError(f"{self.name}: what it reads from outside its arguments keeps changing")

    def run(self, values: list, wrt: tuple[int, ...], cts: list | None, caller: str, outside: list | None = None,
            known: tuple | None = None):
        """(output leaves, gradients as arrays shaped like the arguments);
        `outside`: the arrays it reads from outside its arguments, as bound
        earlier (vjp's point), instead of as they are now; `known`: what
        `compiled` just gave for these values (not looked up again)."""
        extra = guards.bind(known[0].traced, values) if known is not None else None
        if extra is not None:
            c, specs = known[:2]
        else:
            c, specs, extra = self._bound(values, lambda: self.compiled(values, wrt, caller))
        if outside is not None and len(outside) == len(extra):
            extra = outside
        n_out = len(c.traced.body.results) - len(c.traced.writebacks)
        outs = c.program.body.results[:n_out]
        if cts is None:
            cts = [np.ones((), v.dtype) for v in outs]
        cts = [_cotangent(ct, v, k, len(outs)) for k, (ct, v) in enumerate(zip(cts, outs))]
        keep = getattr(c.run, "takes_device_arrays", False)
        args = [runtime_arg(s, v, keep) for s, v in zip(specs, values) if s.kind != "static"] + list(extra)
        res = transactional_run(c.run, args + cts)
        grads = [_like_argument(g, values[i], specs[i]) for g, i in zip(res[n_out:], wrt)]
        return res[:n_out], grads, c.program


def _refuse_aliasing(d: "_Differentiated", c, specs: list, values: list) -> None:
    """Arguments that share memory where the function writes one of them:
    refused for a gradient, even one array passed twice (which a call
    traces as one array, api.py `_execute_aliased`): the gradient is taken
    of the arguments as separate values."""
    if c.traced.writebacks:
        from looptrace.api import _check_aliasing

        _check_aliasing(d.jit.display_names, specs, values, c.traced, same_ok=False)


def _cotangent(ct: Any, out: Any, k: int, n: int) -> np.ndarray:
    """The cotangent given for output k, as an array of its shape and dtype;
    anything else (None, another shape) is refused, never reshaped."""
    what = "the cotangent" if n == 1 else f"the cotangent of output {k}"
    if ct is None or isinstance(ct, (tuple, list, dict)) and n == 1 and not np.ndim(ct):
        raise TypeError(f"vjp: {what} is {type(ct).__name__}; pass an array shaped like the output "
                        f"{tuple(out.shape)}")
    try:
        arr = np.asarray(ct)
    except Exception:  # noqa: BLE001 - an object NumPy cannot take
        raise TypeError(f"vjp: {what} is a {type(ct).__name__}, not an array") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"vjp: {what} has dtype {arr.dtype}; pass numbers")
    if tuple(arr.shape) != tuple(out.shape):
        raise ValueError(f"vjp: {what} has shape {tuple(arr.shape)}, but the output has shape "
                         f"{tuple(out.shape)}")
    return arr.astype(out.dtype, copy=False)


def _check_checkpoint(checkpoint: Any) -> None:
    """checkpoint= is None or a positive int (the number of steps between saved carries)."""
    if checkpoint is None:
        return
    if isinstance(checkpoint, bool) or not isinstance(checkpoint, (int, np.integer)):
        raise TypeError(f"checkpoint must be a positive int (steps between saved carries) or None, "
                        f"not {type(checkpoint).__name__} {checkpoint!r}")
    if checkpoint < 1:
        raise ValueError(f"checkpoint must be a positive int (steps between saved carries), not {checkpoint}")


def _jit_of(fn: Callable, backend: str) -> JitFunction:
    """A JitFunction of `fn`; a function taking *args gets positional
    parameters a0, a1, ... fixed at its first call's arity."""
    params = inspect.signature(fn).parameters.values()
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return _VarargsJit(fn, backend)
    if not isinstance(fn, types.FunctionType) and all(p.kind == p.POSITIONAL_OR_KEYWORD for p in params):
        # a bound method (`lt.grad(model.loss)`), a functools.partial, an object with __call__: a def
        # of its own parameters calling it, traced as the user's code (tracer/runtime.py `_user_callable`)
        names = ", ".join(p.name for p in params)
        return JitFunction(_calling(fn, getattr(fn, "__name__", "function"), names), backend=backend)
    return JitFunction(fn, backend=backend)


_WRAPPERS = itertools.count()


def _calling(fn: Callable, name: str, params: str) -> Callable:
    """`def name(params): return fn(params)`, whose source the tracer reads
    (linecache): traced as the user's code, the call into `fn` is converted
    (its traced `if`s, probe P E4) and what it reads of the object a method
    is bound to (`self.w`) is reached through `fn`, guarded, not baked in at
    the first call (probe P W1). Run from a string, it was plain Python."""
    if not name.isidentifier():
        name = "function"
    filename = f"<looptrace: calls {name}, #{next(_WRAPPERS)}>"
    src = f"def {name}({params}):\n    return fn({params})\n"
    linecache.cache[filename] = (len(src), None, src.splitlines(True), filename)
    ns: dict = {"fn": fn}
    exec(compile(src, filename, "exec"), ns)
    return ns[name]


class _VarargsJit:
    """Dispatches a *args function to one JitFunction per number of arguments.
    The arity of the call in progress is per thread: threads calling with
    different numbers of arguments never see each other's."""

    def __init__(self, fn: Callable, backend: str):
        self.fn, self.backend, self.by_arity = fn, backend, {}
        self._lock = threading.Lock()
        self._local = threading.local()

    def bind(self, args, kwargs) -> list:
        if kwargs:
            raise TypeError(f"{self.fn.__name__}(): keyword arguments are not supported with *args")
        n = len(args)
        with self._lock:
            if n not in self.by_arity:
                names = ", ".join(f"a{i}" for i in range(n))
                self.by_arity[n] = JitFunction(_calling(self.fn, "wrapper", names), backend=self.backend)
        self._local.current = self.by_arity[n]
        return list(args)

    @property
    def current(self) -> JitFunction:
        current = getattr(self._local, "current", None)
        if current is None:
            raise AttributeError("call _bind first")
        return current

    @property
    def param_names(self) -> list[str]:
        current = getattr(self._local, "current", None)
        return current.param_names if current is not None else []

    def __call__(self, *args):
        self.bind(args, {})
        return self.current(*args)

    def __getattr__(self, name: str):
        if name in ("_local", "_lock", "by_arity", "fn", "backend"):
            raise AttributeError(name)  # not set yet (being built): never recurse into `current`
        return getattr(self.current, name)


def _arg_pos(specs: list[ArgSpec], i: int) -> int:
    return sum(1 for s in specs[:i] if s.kind != "static")


def _check_differentiable(caller: str, name: str, param: str, i: int, spec: ArgSpec) -> None:
    ok = spec.kind in ("array", "scalar") and np.dtype(spec.dtype).kind == "f"
    if not ok:
        what = f"dtype {spec.dtype}" if spec.kind in ("array", "scalar") else f"a {spec.kind} argument"
        where = "" if "[" in param else f" (position {i})"  # (a container's leaf: its path says where)
        raise TypeError(f"{caller}({name}): cannot differentiate with respect to argument `{param}`"
                        f"{where}, which has {what}; only floating-point arrays and "
                        "numbers can be differentiated (convert it with .astype(np.float64), "
                        "or choose other argnums)")


def _like_argument(g: np.ndarray, value: Any, spec: ArgSpec) -> Any:
    if spec.device and not isinstance(g, np.ndarray):  # a gradient on the GPU stays there
        return g.reshape(spec.shape) if tuple(g.shape) != tuple(spec.shape) else g
    g = np.asarray(g, dtype=spec.dtype).reshape(spec.shape)
    # a number (a Python float, np.float64, np.float32) gets a NumPy scalar of its dtype; a 0-d array, a 0-d array
    return g[()] if spec.kind == "scalar" or isinstance(value, np.generic) else g


def _argnums(argnums: int | tuple, n: int, caller: str, name: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise TypeError(f"{caller}({name}): argnums {argnums!r} does not name one of its {n} arguments")
    return tuple(a % n for a in nums)


def _check_scalar(caller: str, name: str, outs: list) -> None:
    """grad needs one floating-point scalar output."""
    if len(outs) == 1 and outs[0].shape == () and outs[0].dtype.kind == "f":
        return
    types = ", ".join(f"{v.dtype}{list(v.shape)}" for v in outs) or "nothing"
    raise TraceError(f"{caller}({name}): the function must return a floating-point scalar to be "
                     f"differentiated, but it returns {types}",
                     hint="reduce it (for example .sum()), or use looptrace.vjp for other outputs")


# --- public ---------------------------------------------------------------------------------------
def value_and_grad(fn: Callable, argnums: int | tuple = 0, checkpoint: int | None = None,
                   backend: str | None = None, has_aux: bool = False) -> Callable:
    """`f(*args) -> (fn(*args), gradient)`; a tuple of gradients when
    `argnums` is a tuple. `checkpoint=k` saves every k-th carry of each
    top-level counted loop and recomputes in between. `has_aux=True`, as
    JAX's: `fn` returns a pair `(loss, aux)`, the gradient is the loss's and
    the value is that pair, `((loss, aux), gradient)`."""
    return _value_and_grad_as("value_and_grad", fn, argnums, checkpoint, backend, has_aux)


def _value_and_grad_as(caller: str, fn: Callable, argnums: int | tuple, checkpoint: int | None,
                       backend: str | None, has_aux: bool = False) -> Callable:
    """value_and_grad, its errors naming `caller` (the function the user
    called); grad (without has_aux) gets the gradient alone."""
    d = _shared(fn, checkpoint, backend)
    form = "grad" if caller == "grad" and not has_aux else "value_and_grad"
    pick = (lambda gs: gs[0]) if isinstance(argnums, int) else tuple
    jf = d.jit if isinstance(d.jit, JitFunction) and d.jit._fast_ok else None
    warm = jf._warm_transformed if jf is not None else {}  # (JitFunction.forget_fast drops its entries)
    n_params = len(jf.param_names) if jf is not None else -1
    # what a runner is kept for besides the signature (the jitted function the user passed, whose table
    # this is, is shared by its gradients of other options)
    tag = (form, argnums, has_aux, d.opts.checkpoint)
    last = ("last", tag)  # its entry: the runner of the signature called last
    leaves_last = ("leaves last", tag)  # the warm call of container arguments of the structure called last

    def value_and_grad_fn(*args, **kwargs):
        try:
            # the warm call: the runner kept for this signature, else the general path
            if not kwargs:
                mono = warm.get(last)
                if mono is not None:
                    out = mono[1](args)
                    if out is not _MISS:
                        return out
                by_leaves = warm.get(leaves_last)
                if by_leaves is not None:
                    out = by_leaves[1](args)
                    if out is not _MISS:
                        return out
            if jf is not None and not ctx.TRACES[0]:
                pos = args if not kwargs and len(args) == n_params else jf._by_position(args, kwargs)
                hit = warm.get((tag, jf._fast_key(pos))) if pos is not None else None
                if hit is not None:
                    out = hit[1].run(pos)
                    if out is not _MISS:
                        if hit[1].mono is not None:
                            warm[last] = (hit[0], hit[1].mono)
                        return out
            out = _value_and_grad(*args, **kwargs)
            return out[1] if form == "grad" else out
        except ReplayNeeded:
            # a raise whose exception formats run-time values (tracer/checks.py): nothing was written,
            # the plain function raises it itself
            plain = getattr(fn, "py_func", fn)
            plain(*args, **kwargs)
            raise

    def _value_and_grad(*args, **kwargs):
        values = d.jit.bind(args, kwargs)
        wrt = _argnums(argnums, len(values), caller, d.name)
        dd, values, wrt, regroup = d.flat(values, wrt)
        # containers: the leaves' warm call, keyed by the flat machinery's signature (its runner gives
        # the value and the leaves' gradients, regrouped here)
        key = (tag, _warm_key(d.jit, values)) if dd is d else \
            (("leaves", wrt, has_aux, d.opts.checkpoint), _warm_key(dd.jit, values))
        if dd is not d and key[1] is not None:
            hit = dd.jit._warm_transformed.get(key)
            out = hit[1].run(tuple(values)) if hit is not None else _MISS
            if out is not _MISS:
                _leaves_last(dd, values, key, regroup, not kwargs and len(args) == n_params)
                return out[0], pick(regroup(out[1]))
        c, specs, n_out = dd.compiled(values, wrt, caller)
        out = _general(dd, c, specs, n_out, values, wrt, regroup)
        if key[1] is not None:  # (after the general path went through: its refusals stay)
            _keep_warm(dd, key, c, specs, values, wrt, n_out, has_aux, None if dd is not d else pick)
            if dd is not d:
                _leaves_last(dd, values, key, regroup, not kwargs and len(args) == n_params)
        return out

    def _leaves_last(dd, values, key, regroup, by_position: bool) -> None:
        """Make the warm call of these containers' structure (`_by_leaves`,
        made once per structure) the one `value_and_grad_fn` tries first."""
        if not by_position or jf is None:
            return
        made = dd.by_leaves.get((tag, key[1]))
        if made is None:
            made = _by_leaves(dd, values, key[0], regroup, pick, form) or False
            if len(dd.by_leaves) >= _WARM_ENTRIES:
                dd.by_leaves.clear()
            dd.by_leaves[(tag, key[1])] = made
        if made:
            warm[leaves_last] = (None, made)

    def _general(dd, c, specs, n_out, values, wrt, regroup):
        if has_aux:
            return _with_aux(caller, dd, c, specs, n_out, values, wrt, regroup, argnums)
        if n_out == 0 and not has_effects(c, specs):
            value = build_output(c.program.out_tree, [])
            if isinstance(value, (float, np.floating)):  # a constant: its gradient is zeros (as JAX's)
                zeros = [_like_argument(np.zeros(specs[i].shape, specs[i].dtype), values[i], specs[i]) for i in wrt]
                return value, pick(regroup(zeros))
        _check_scalar(caller, d.name, c.program.body.results[:n_out])
        values = _effects_first(dd, c, specs, values, wrt)
        leaves, grads, program = dd.run(values, wrt, None, caller, known=(c, specs))
        value = build_output(program.out_tree, leaves)
        return value, pick(regroup(grads))

    return Transformed(caller if form == "grad" else "value_and_grad", value_and_grad_fn, fn,
                       (argnums, checkpoint, backend, has_aux))


# --- the warm call ---------------------------------------------------------------------------------
# A gradient called over and over with one signature (an optimizer's loop, often on small arrays) took
# ~21 us a call on the general path (binding, grad_specs, the signature cache's lookup, guards, the
# cotangent, the runner's argument conversion), against ~0.7 us for a warm jitted call of the same
# function. As for jit (api.py `JitFunction.__call__`), a call is keyed by the cheapest checks that
# decide its compiled program (`_warm_key`: the argument types, the arrays' dtypes and shapes, the ints'
# values, which grad keeps concrete, and the values of everything else made static), and the program's
# run for that key is kept (`_WarmRunners`); it checks the guards of what the function reads from
# outside its arguments and gives `_MISS` where one fails: the general path then retraces.
_WARM_ENTRIES = 256  # warm runners per function (ints by value): cleared when full


@dataclass(frozen=True)
class _WarmRunners:
    """A signature's warm call: `run(values)` for a call whose key is the
    signature's, `mono(args)` for any call (it tests the key itself, api.py
    `_guard`: kept for the signature called last); each gives the call's
    result, or `_MISS` where the general path must take the call."""

    run: Callable
    mono: Callable | None


def _warm_key(jf: Any, values: list) -> tuple | None:
    """The warm-call key of a call of `jf` with these values, one per
    parameter (JitFunction._fast_key), or None: the general path
    (containers, device arrays, 0-d arrays, a function taking *args or with
    static_argnames, while tracing)."""
    if not isinstance(jf, JitFunction) or not jf._fast_ok or ctx.TRACES[0]:
        return None
    return jf._fast_key(tuple(values))


def _keep_warm(dd: _Differentiated, key: tuple, c: Compiled, specs: list, values: list, wrt: tuple,
               n_out: int, has_aux: bool, pick: Callable | None) -> None:
    """Keep the warm runners of this call's program, where its key decides
    it and a run needs nothing of the general path: no effects (writes into
    arguments or outside arrays, generators: `_effects_first`), nothing
    baked in to compare (captured arrays), no layout in the key, only arrays
    read from outside (their guards and fetches are `guards.bind`), and
    every static argument keyed by value (an int, a flag, a string, a float
    the jit keys by value). `key`: ((form, argnums, has_aux, checkpoint),
    `_warm_key`); `pick`: how the gradients are returned, None for a container's leaves
    (the runner gives the value and the list of gradients)."""
    jf, traced = dd.jit, c.traced
    if n_out == 0 or has_effects(c, specs) or traced.captured or traced.layout_args or jf._layout_sensitive:
        return
    if has_aux and _loss_tree("", "", c.program.out_tree)[0] == "const":
        return
    gs = traced.guards
    if gs is not None and (gs.written or not gs.plain or any(imp.kind != "array" for imp in gs.implicit)):
        return
    plain = _plain_key(tuple(values))
    if plain is None:
        return
    if any(s.kind == "static" and type(v) is float and i not in jf._float_keys
           for i, (s, v) in enumerate(zip(specs, values))):
        # tracing made a float static (a step that sizes an array): the jit's keys hold its value from now
        # on, as after a jitted call that made it so (api.py `_static_in_key`), this one's too
        fast = jf._static_in_key(specs, values, plain)
        if fast is None:
            return
        key = (key[0], fast)
    floats = jf._float_keys  # (the jit's static floats, in the key by value: as they were for `key`)
    if key[1] != plain + tuple((values[i], math.copysign(1.0, values[i])) for i in floats):
        return
    for i, (s, v) in enumerate(zip(specs, values)):
        t = type(v)
        if s.kind == "static":
            if not (t is int or t in _NP_INTS or t in _VALUE_TYPES or t is float and i in floats):
                return  # a static value the key does not hold
        elif t in _VALUE_TYPES:
            return  # a flag passed at run time (np.bool_): its program is not the key's alone
    form = key[0][0]
    runners = None
    if not has_aux:
        run = _kernel_runner(c, specs, wrt, n_out, key[1], form, pick)
        if run is not None:
            mono = _kernel_runner(c, specs, wrt, n_out, key[1], form, pick, floats) \
                if pick is not None else None
            runners = _WarmRunners(run, mono)
    if runners is None:
        run = _python_runner(c, specs, wrt, n_out, has_aux, form, pick)
        runners = _WarmRunners(run, _keyed(run, _guard(key[1], floats=floats)) if pick is not None else None)
    table = jf._warm_transformed
    if len(table) >= _WARM_ENTRIES:
        table.clear()
    table[key] = (c, runners)
    if runners.mono is not None:
        table[("last", key[0])] = (c, runners.mono)


def _by_leaves(dd: _Differentiated, values: list, head: tuple, regroup: Callable, pick: Callable,
               form: str) -> Callable | None:
    """The warm call of a gradient whose arguments are containers of the
    structures of this call (dd: the machinery of their flat function,
    `values` the flat values): the structures tested and the leaves read
    (pytree.structure_reader), then the leaves' warm runner of their key
    (`head`: its first part, `_keep_warm`), its gradients regrouped into
    containers; `_MISS` for anything else (the general path). A dict
    argument's grad took 15 us a call, flattened and looked up each time."""
    sub = dd.jit
    read = pytree.structure_reader(sub._trees, values)
    if read is None:
        return None
    table, fast_key = sub._warm_transformed, sub._fast_key

    def by_leaves(args: tuple) -> Any:
        if ctx.TRACES[0]:
            return _MISS
        flat = read(args)
        hit = table.get((head, fast_key(flat))) if flat is not None else None
        out = hit[1].run(flat) if hit is not None else _MISS
        if out is _MISS:
            return _MISS
        grads = pick(regroup(out[1]))
        return grads if form == "grad" else (out[0], grads)

    return by_leaves


def _keyed(run: Callable, guard: tuple[str, dict]) -> Callable:
    """`run` behind a `_guard`'s lines (MISS for a call of another key)."""
    env = dict(guard[1], run=run)
    exec(f"def mono(a):\n{guard[0]}    return run(a)\n", env)  # noqa: S102 (lines of our own)
    return env["mono"]


def _finish(form: str, value: str, grads: list[str], pick: Callable | None) -> str:
    """The call's result, as an expression of the value's and the
    gradients' (`form`: what the function returns; `pick` None: the value
    and the list of gradients, for a container's leaves)."""
    listed = "[" + "".join(g + ", " for g in grads) + "]"
    if pick is None:
        return f"({value}, {listed})"
    picked = grads[0] if pick is not tuple else "(" + "".join(g + ", " for g in grads) + ")"
    return picked if form == "grad" else f"({value}, {picked})"


def _kernel_runner(c: Compiled, specs: list, wrt: tuple, n_out: int, key: tuple, form: str,
                   pick: Callable | None, floats: tuple | None = None) -> Callable | None:
    """A Numba kernel's warm call as one generated function (CpuKernel.fast,
    as jit's, api.py `_direct_runner`): the guards of what the function
    reads from outside and the fetches of the arrays it reads
    (`_outside_guard`), the kernel called with the arguments spelled out
    (NumPy float64 scalars as Python floats, `_kernel_args`) and the
    cotangent a NumPy scalar (immutable: made once), then the value
    (`_flat_tuple`) and the gradients (`_like_argument`) from its outputs.
    None where the kernel has no such call, or the guards need the general
    path. `key`: the call's `_warm_key`; `floats` (not None): the runner
    tests the key itself first (`_guard`, the jit's static floats)."""
    fast = getattr(c.run, "fast", None)
    if fast is None or getattr(c.run, "consumed", ()):
        return None
    program, gs = c.program, c.traced.guards
    types = key[0]
    guard = _guard(key, floats=floats) if floats is not None else None
    implicit = []
    if gs is not None and (gs.guards or gs.implicit or gs.aliases):
        outside = _outside_guard(gs)
        if outside is None:
            return None
        guard, implicit = (_joined(guard, outside[:2]) if guard is not None else outside[:2]), outside[2]
    results, tree = program.body.results, program.out_tree
    value = _flat_tuple(tree, results)
    if value is not None and any(int(k) >= n_out for k in re.findall(r"o\[(\d+)\]", value[0])):
        value = None
    names: dict[str, Any] = dict(value[1]) if value is not None else {"TREE": tree, "BUILD": build_output}
    value = value[0] if value is not None else f"BUILD(TREE, o[:{n_out}])"
    likes = [(specs[i], issubclass(types[i], np.generic)) for i in wrt]
    grads = []
    for k, (s, scalar) in enumerate(likes):
        names[f"GD{k}"], names[f"GS{k}"] = s.dtype, tuple(s.shape)
        r = results[n_out + k]
        if not scalar and s.kind == "array" and r.ndim and tuple(r.shape) == tuple(s.shape) and r.dtype == s.dtype:
            grads.append(f"o[{n_out + k}]")  # (the kernel's new array is the argument's shape and dtype)
            continue
        grads.append(f"ASARRAY(o[{n_out + k}], GD{k}).reshape(GS{k})"
                     + ("[()]" if scalar or s.kind == "scalar" else ""))
    names["ASARRAY"] = np.asarray
    for k, v in enumerate(results[:n_out]):
        names[f"ONE{k}"] = np.ones((), v.dtype)[()]
    runtime = tuple(i for i, s in enumerate(specs) if s.kind != "static")
    args = _kernel_args(types, runtime if len(runtime) < len(specs) else None, floats is not None) + implicit + \
        [f"ONE{k}" for k in range(n_out)]

    def general(outs) -> Any:  # (a family's generic kernel, a kernel that failed and compiled anew)
        v = build_output(tree, list(outs[:n_out]))
        gs_ = [_like_argument(g, np.float64(0) if scalar else None, s) for g, (s, scalar) in zip(outs[n_out:], likes)]
        if pick is None:
            return v, gs_
        return pick(gs_) if form == "grad" else (v, pick(gs_))

    return fast(None, args, guard, (_finish(form, value, grads, pick), names, general))


def _python_runner(c: Compiled, specs: list, wrt: tuple, n_out: int, has_aux: bool, form: str,
                 pick: Callable | None) -> Callable:
    """A warm call's work in Python, for any runner (`runtime_arg`,
    `transactional_run`, has_aux's cotangents and aux as `_with_aux`
    makes them): `run(values)` gives the call's result (`_finish`), or
    `_MISS` where a guard of what the function reads from outside fails."""
    program, traced = c.program, c.traced
    gs = traced.guards
    bind = gs.bind if gs is not None and (gs.guards or gs.implicit or gs.aliases) else None
    runtime = [(i, specs[i]) for i, s in enumerate(specs) if s.kind != "static"]
    outs = program.body.results[:n_out]
    tree = program.out_tree
    likes = [(i, specs[i]) for i in wrt]
    keep = getattr(c.run, "takes_device_arrays", False)
    shapes = [(tuple(int(d) for d in v.shape), v.dtype) for v in outs]
    at = _leaf_positions(_loss_tree("", "", tree))[0] if has_aux else 0

    def run(a):
        extra = () if bind is None else bind(a)
        if extra is None:
            return _MISS
        # (new cotangent arrays each call: a gradient may be one of them)
        cts = [np.ones(sh, dt) if k == at else np.zeros(sh, dt) for k, (sh, dt) in enumerate(shapes)]
        res = transactional_run(c.run, [runtime_arg(s, a[i], keep) for i, s in runtime] + [*extra, *cts])
        grads = [_like_argument(g, a[i], s) for g, (i, s) in zip(res[n_out:], likes)]
        if pick is not None and form == "grad":
            return pick(grads)
        leaves = res[:n_out]
        if has_aux:  # aux as the plain function's objects (`_with_aux`)
            leaves = plain_results(traced, leaves, list(a))
        value = build_output(tree, leaves)
        return (value, grads) if pick is None else (value, pick(grads))

    return run


def _effects_first(dd: _Differentiated, c, specs: list, values: list, wrt: tuple) -> list:
    """The values to differentiate at. A function that writes into its
    arguments or what it reads from outside, or draws from a generator: the
    gradient of the state before the call, then the call itself, which makes
    the effects once (and refuses aliased arguments), as the plain function."""
    if not has_effects(c, specs):
        return values
    _refuse_aliasing(dd, c, specs, values)
    before = _snapshot(values)
    legacy = _legacy_random_states(dd._bound(values, lambda: (c, specs))[2])
    states = [rs.get_state() for rs in legacy]
    dd.forward(values, wrt)
    for rs, state in zip(legacy, states):  # the gradient draws what the call drew, and ends as it did
        rs.set_state(state)
    return before


def _with_aux(caller: str, dd: _Differentiated, c, specs: list, n_out: int, values: list, wrt: tuple,
              regroup: Callable, argnums) -> tuple:
    """value_and_grad(has_aux=True): `((loss, aux), gradient)`, the
    gradient of the loss alone (the aux outputs get zero cotangents), aux
    computed once, by the same run."""
    tree = c.program.out_tree
    loss_tree = _loss_tree(caller, dd.name, tree)
    pick = (lambda gs: gs[0] if isinstance(argnums, int) else tuple(gs))
    if loss_tree[0] == "const" and isinstance(loss_tree[1], (float, np.floating)):
        value = dd.forward(values, wrt)  # a constant loss: zero gradients (as JAX's), aux as the call gives it
        zeros = [_like_argument(np.zeros(specs[i].shape, specs[i].dtype), values[i], specs[i]) for i in wrt]
        return value, pick(regroup(zeros))
    outs = c.program.body.results[:n_out]
    at = _leaf_positions(loss_tree)
    _check_scalar(caller, dd.name, [outs[k] for k in at])
    if any(not isinstance(d, (int, np.integer)) for v in outs for d in v.shape):
        raise UnsupportedError(f"{caller}({dd.name}, has_aux=True): an aux output has a length known only at "
                               "run time (x[mask], a list grown under a condition)", None,
                               "return it from a separate call of the function, or keep its shape "
                               "(np.where(mask, x, 0))")
    cts = [np.ones(v.shape, v.dtype) if k == at[0] else np.zeros(tuple(int(d) for d in v.shape), v.dtype)
           for k, v in enumerate(outs)]
    given = values
    values = _effects_first(dd, c, specs, values, wrt)
    leaves, grads, program = dd.run(values, wrt, cts, caller, known=(c, specs))
    # aux as the plain function's objects (`return loss, (y, y[1:], x)`: a view of y, the caller's x;
    # `x.copy()` the gradient run gave as x's memory copied): what the traced program says of its results
    leaves = plain_results(c.traced, leaves, given)
    return build_output(program.out_tree, leaves), pick(regroup(grads))


def _loss_tree(caller: str, name: str, tree: tuple) -> tuple:
    """The output tree of the loss in `(loss, aux)`, the pair a function
    differentiated with has_aux=True returns (JAX's TypeError otherwise)."""
    if tree[0] == "kinds":
        tree = tree[1]
    if tree[0] in ("tuple", "list") and len(tree) == 2 and len(tree[1]) == 2:
        return tree[1][0]
    what = f"a {tree[0]} of {len(tree[1])} items" if tree[0] in ("tuple", "list") and len(tree) == 2 else \
        "a single value" if tree[0] in ("leaf", "const") else "another structure"
    raise TypeError(f"{caller}({name}, has_aux=True): the function must return a pair (loss, aux), "
                    f"but it returns {what}")


def _leaf_positions(tree: tuple) -> list[int]:
    """The output positions of the leaves of an output tree (arrays and scalars)."""
    kind = tree[0]
    if kind == "leaf":
        return [tree[1]]
    if kind in ("tuple", "list"):
        return [k for t in tree[1] for k in _leaf_positions(t)]
    if kind == "dict":
        return [k for t in tree[1].values() for k in _leaf_positions(t)]
    return []


def grad(fn: Callable, argnums: int | tuple = 0, checkpoint: int | None = None,
         backend: str | None = None, has_aux: bool = False) -> Callable:
    """The gradient of scalar-valued `fn` with respect to `args[argnums]`;
    with `has_aux=True` (as JAX's), `fn` returns `(loss, aux)` and the
    gradient function returns `(gradient, aux)`."""
    if not has_aux:  # (the gradient alone: a warm call builds no value)
        return _value_and_grad_as("grad", fn, argnums, checkpoint, backend)
    vg = _value_and_grad_as("grad", fn, argnums, checkpoint, backend, has_aux)._impl

    def grad_fn(*args, **kwargs):
        (_, aux), g = vg(*args, **kwargs)
        return g, aux

    return Transformed("grad", grad_fn, fn, (argnums, checkpoint, backend, has_aux))


# `lt.grad(loss)(w)` written anew at every step of a training loop: the gradient machinery (its
# traced and compiled programs) of the function is kept, so that the second such call costs a
# signature lookup, not a trace. Keyed by what the function is made of (its code, globals,
# defaults and closure cells, by identity: a lambda written anew in a loop is the same function),
# the last _SHARED_MAX functions, held strongly (the cached machinery holds the function itself,
# which a weak key could then never drop).
_SHARED: "OrderedDict[tuple, tuple]" = OrderedDict()
_SHARED_MAX = 16
_SHARED_LOCK = threading.Lock()


def _shared(fn: Callable, checkpoint: int | None, backend: str | None) -> "_Differentiated":
    """The _Differentiated of `fn` with these options: one made before for
    the same function (or one made of the same parts), else a new one."""
    _check_checkpoint(checkpoint)
    key = (_identity(fn), checkpoint, backend)
    with _SHARED_LOCK:
        hit = _SHARED.get(key)
        if hit is not None:
            _SHARED.move_to_end(key)
            return hit[1]
    d = _Differentiated(fn, checkpoint, backend)
    with _SHARED_LOCK:
        hit = _SHARED.setdefault(key, (fn, d))  # (another thread's, made meanwhile, wins)
        _SHARED.move_to_end(key)
        while len(_SHARED) > _SHARED_MAX:
            _SHARED.popitem(last=False)
    return hit[1]


def _identity(fn: Callable) -> tuple:
    """What a function behaves by, as identities (kept alive by the entry's
    own function): a def or lambda's code, globals, defaults and closure
    cells; a bound method's object and function; anything else itself."""
    if isinstance(fn, types.FunctionType):
        # (keyword-only defaults edited in place keep the dict's id: the jit sees their values, api.py
        # `_fresh_defaults`)
        return ("function", id(fn.__code__), id(fn.__globals__), id(fn.__defaults__), id(fn.__kwdefaults__),
                tuple(id(c) for c in fn.__closure__ or ()))
    if isinstance(fn, types.MethodType):
        return ("method", id(fn.__self__), _identity(fn.__func__))
    return ("object", id(fn))


def vjp(fn: Callable, *args, checkpoint: int | None = None, backend: str | None = None):
    """`(out, vjp_fn)`; `vjp_fn(cotangent)` returns one cotangent per argument
    (None for arguments that cannot be differentiated: integers, generators;
    for a container of arrays, a container like it with None at such leaves)."""
    d = _shared(fn, checkpoint, backend)
    values = d.jit.bind(args, {})
    jf = d.jit.current if isinstance(d.jit, _VarargsJit) else d.jit
    at = {i for i, v in enumerate(values) if isinstance(v, pytree.CONTAINERS) and pytree.holds_array(v)}
    route = jf._flat_route(values, at) if at else None
    if route is None:
        return _vjp_of(d, values)
    # containers of arrays: leaf by leaf (looptrace/pytree.py); each one's cotangent is a
    # container like it, None at the leaves that cannot be differentiated
    sub, flat = route
    out, flat_fn = _vjp_of(d.of_flat(sub), flat)
    spans, pos = [], 0  # (first leaf, leaves, builder) of each argument (pytree.builder: made once)
    for tree in sub._trees:
        n = 1 if tree is None else pytree.count_leaves(tree)
        spans.append((pos, n, tree and pytree.builder(tree)))
        pos += n

    def vjp_fn(cotangent):
        cts = flat_fn(cotangent)
        return tuple(cts[k] if build is None else build(cts[k:k + n]) for k, n, build in spans)

    return out, vjp_fn


def _legacy_random_states(extra) -> list:
    """The RandomStates among a program's implicit arguments (guards.py "legacy")."""
    return [a for a in extra if isinstance(a, np.random.RandomState)]


def _snapshot(values: list) -> list:
    """The arguments as they are now: arrays and generators copied (a call
    that writes into them, or an optimizer step between vjp and vjp_fn,
    must not change the gradient of this point)."""
    return [copy.deepcopy(v) if isinstance(v, np.random.Generator) else
            v.copy() if isinstance(v, np.ndarray) else v for v in values]


def _vjp_of(d: _Differentiated, values: list):
    snapshot = _snapshot(values)
    wrt = specialize.differentiable(values)
    c0, specs0, _ = d.compiled(snapshot, wrt, "vjp")
    # NumPy's legacy random state as it is before the call: vjp_fn draws what the call drew
    legacy = {id(rs): copy.deepcopy(rs) for rs in _legacy_random_states(d._bound(snapshot, lambda: (c0, specs0))[2])}
    _refuse_aliasing(d, c0, specs0, values)
    out = d.forward(values, wrt)
    # what the function reads from outside its arguments, as it is now (bound once, copied)
    outside = [a.copy() if isinstance(a, np.ndarray) else legacy.get(id(a), a)
               for a in d._bound(snapshot, lambda: (c0, specs0))[2]]

    # a program of no effects that bakes nothing in: while what it reads from outside is as traced (its
    # guards hold), a later call of vjp_fn runs it again, not looked up again (a warm call of vjp_fn took
    # two lookups, ~15 us of ~20 over a small kernel)
    plain = not (has_effects(c0, specs0) or c0.traced.captured or c0.traced.layout_args)

    def vjp_fn(cotangent):
        if plain and guards.bind(c0.traced, snapshot) is not None:
            c, specs = c0, specs0
        else:
            c, specs, _ = d.compiled(snapshot, wrt, "vjp")
        leaves = _flatten_like(c.program.out_tree, cotangent)
        fresh = _snapshot(snapshot)
        kept = [copy.deepcopy(a) if isinstance(a, np.random.RandomState) else a for a in outside]
        with muted():  # its forward part printed when the function was called (ops/io.py)
            _, grads, _ = d.run(fresh, wrt, leaves, "vjp", outside=kept if c is c0 else None, known=(c, specs))
        by_pos = dict(zip(wrt, grads))
        return tuple(by_pos.get(i) for i in range(len(values)))

    quick = _quick_pullback(c0, specs0, snapshot, outside, wrt, len(values), vjp_fn) if plain else None
    return out, quick or vjp_fn


def _quick_pullback(c: Compiled, specs: list, saved: list, outside: list, wrt: tuple, n: int,
                    general: Callable) -> Callable | None:
    """vjp_fn's warm call for a program of no effects (`plain` in `_vjp_of`)
    that writes into none of its arguments and does not print:
    `pull(cotangent)` runs the program on the saved arguments (`saved`,
    copied when vjp was called: nothing the caller does to its arrays
    reaches them) and the outside arrays as vjp bound them, with the
    runner's arguments made once; `general(cotangent)` (vjp_fn) where a
    guard of what it reads from outside fails (it looks the program up
    again). The saved arrays are not copied again per call, as the general
    path does: the run writes into none of them, and a gradient that is
    one of them is copied (the caller may write into it). A pullback took
    11-15 us over a ~1 us kernel (bench/grad_call_cost.py)."""
    program = c.program
    if program.writebacks or getattr(c.run, "consumed", ()) or prints(program) or prints(c.traced):
        return None
    gs = c.traced.guards
    bind = gs.bind if gs is not None and (gs.guards or gs.implicit or gs.aliases) else None
    keep = getattr(c.run, "takes_device_arrays", False)
    args = [runtime_arg(s, v, keep) for s, v in zip(specs, saved) if s.kind != "static"] + list(outside)
    mine = {id(a) for a in args if isinstance(a, np.ndarray)}
    n_out = len(c.traced.body.results) - len(c.traced.writebacks)
    outs, tree, run = program.body.results[:n_out], program.out_tree, c.run
    likes = [(i, saved[i], specs[i]) for i in wrt]

    def grads_of(res: list) -> tuple:
        grads = [None] * n
        for g, (i, value, spec) in zip(res[n_out:], likes):
            g = _like_argument(g, value, spec)
            grads[i] = g.copy() if _is_saved(g, mine) else g
        return tuple(grads)

    kernel = _pullback_kernel(c, args, outs, likes, n)
    # the kernel's arguments: the saved ones (a 0-d array as its number, as CpuKernel.__call__ passes it),
    # the ids of the saved arrays (a gradient that is one of them is copied), then the cotangents
    saved_args = tuple(_as_kernel_arg(a) for a in args) + (mine,)
    # one output: a cotangent of its type, dtype and shape as it comes (`_cotangent` makes the others so)
    one = outs[0] if len(outs) == 1 and tree[0] == "leaf" else None
    same = None if one is None else ({float, np.float64} if one.ndim == 0 and one.dtype == np.float64 else
                                     {np.ndarray} if one.ndim else set())
    shape, dtype = (tuple(one.shape), one.dtype) if one is not None else ((), None)

    def pull(cotangent):
        if bind is not None and bind(saved) is None:
            return general(cotangent)
        t = type(cotangent)
        if same and t in same and (t is not np.ndarray or cotangent.dtype == dtype and cotangent.shape == shape):
            cts = (cotangent,)
        else:
            leaves = [cotangent] if tree[0] == "leaf" else _flatten_like(tree, cotangent)
            cts = tuple([_cotangent(ct, v, k, n_out) for k, (ct, v) in enumerate(zip(leaves, outs))])
        if kernel is not None:
            grads = kernel(saved_args + cts)
            return grads if type(grads) is not _Outputs else grads_of(grads.outs)
        return grads_of(transactional_run(run, args + list(cts)))

    return pull


def _is_saved(g: Any, saved: set) -> bool:
    """Is the array `g` (or an array it is a view of) one of the `saved` (ids)?"""
    while isinstance(g, np.ndarray):
        if id(g) in saved:
            return True
        g = g.base
    return False


def _as_kernel_arg(a: Any) -> Any:
    """A runner's argument as CpuKernel.__call__ passes it to the kernel: a
    0-d array as its NumPy scalar, a float64, int64 or complex128 one as the
    Python number (api.py `_AS_PYTHON`: what Numba reads fastest, typed alike)."""
    if type(a) is not np.ndarray or a.ndim:
        return a
    a = a[()]
    return a.item() if a.dtype in _PYTHON_NUMBER else a


@dataclass(frozen=True)
class _Outputs:
    """The kernel's outputs where they came another way than its direct call
    (a new layout compiled, a family's generic kernel): made into gradients
    by the pullback's `grads_of`."""

    outs: Any


_PYTHON_NUMBER = {np.dtype(np.float64): "float", np.dtype(np.int64): "int", np.dtype(np.complex128): "complex"}
# CpuKernel -> {the pullback's argument and gradient types -> `_pullback_kernel`}: made once per signature
_PULLBACKS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_PULLBACKS_LOCK = threading.Lock()


def _pullback_kernel(c: Compiled, args: list, outs: list, likes: list, n: int) -> Callable | None:
    """`run(a)` -> the gradients (a tuple, None where not differentiated),
    as one generated call of a Numba kernel (CpuKernel.fast), made once per
    compiled program and argument types: `a` holds the saved arguments as
    the kernel takes them (`_as_kernel_arg`), the ids of the saved arrays,
    then each cotangent (of its output's shape and dtype: an array, or for a
    0-d output a number or 0-d array); the gradients are read from the
    kernel's outputs as `_kernel_runner` reads them, a saved array among
    them copied. Outputs that come another way are given as `_Outputs`.
    None where the kernel has no such call. The general runner's argument
    conversion and scalar outputs took ~3 of a 10 us pullback."""
    fast = getattr(c.run, "fast", None)
    if fast is None or any(isinstance(a, (np.random.Generator, np.random.RandomState)) for a in args):
        return None
    key = (tuple(map(type, args)), tuple((i, type(v)) for i, v, _ in likes), n)
    with _PULLBACKS_LOCK:
        made = _PULLBACKS.setdefault(c.run, {})
        if key in made:
            return made[key]
    results = c.program.body.results
    mine = f"a[{len(args)}]"
    names: dict[str, Any] = {"SAVED": _is_saved, "ASARRAY": np.asarray}
    grads = ["None"] * n
    for k, (i, value, spec) in enumerate(likes):
        r, j = results[len(outs) + k], len(outs) + k
        if spec.device:
            return None
        if spec.kind == "array" and not isinstance(value, np.generic) and r.ndim and \
                tuple(r.shape) == tuple(spec.shape) and r.dtype == spec.dtype:
            grads[i] = f"(o[{j}] if id(o[{j}]) not in {mine} else o[{j}].copy())"
            continue
        names[f"GD{k}"], names[f"GS{k}"] = spec.dtype, tuple(spec.shape)
        scalar = "[()]" if spec.kind == "scalar" or isinstance(value, np.generic) else ""
        grads[i] = f"(g{k} if not SAVED(g{k} := ASARRAY(o[{j}], GD{k}).reshape(GS{k}), {mine}) else g{k}.copy()){scalar}"
    built = "(" + "".join(g + ", " for g in grads) + ")"
    exprs = [f"a[{k}]" for k in range(len(args))]
    for k, v in enumerate(outs):
        at = len(args) + 1 + k
        kind = _PYTHON_NUMBER.get(v.dtype) if v.ndim == 0 else None
        exprs.append(f"{kind}(a[{at}])" if kind else f"a[{at}][()]" if v.ndim == 0 else f"a[{at}]")
    run = fast(None, exprs, None, (built, names, _Outputs))
    with _PULLBACKS_LOCK:
        made = _PULLBACKS.setdefault(c.run, {})
        if len(made) >= _WARM_ENTRIES:
            made.clear()
        made[key] = run
    return run


def _flatten_like(tree: Any, x: Any) -> list:
    kind = tree[0]
    if kind == "leaf":
        return [x]
    if kind == "picked":  # x[mask] or x[a:b] of a run-time length (tracer/trace.py `_picked`)
        from looptrace.errors import UnsupportedError

        raise UnsupportedError(
            "vjp of a function that returns x[mask] or x[a:b] of a length known only at run time is not "
            "supported: the cotangent's shape is that run's", None,
            "return np.where(mask, x, 0) (or x * mask) over the whole array instead")
    if kind in ("tuple", "list"):
        if len(tree) > 2 and not isinstance(x, tuple):  # a dataclass (tracer/trace.py Record): its attributes
            x = [getattr(x, n) for n in tree[2].names]
        return [leaf for t, e in zip(tree[1], x) for leaf in _flatten_like(t, e)]
    if kind == "dict":
        return [leaf for k, t in tree[1].items() for leaf in _flatten_like(t, x[k])]
    return []
