"""Static values without ceremony: which arguments a compiled version is
specialized on, besides the ones named in `static_argnames`.

- An int argument that decides a shape (`np.zeros(n)`, `reshape(n, -1)`,
  `np.linspace(a, b, n)`, `range(n)` in a comprehension) is found while
  tracing (the ConcreteIndexError of tracer/static.py says which arguments
  the value came from) and made static: the function is traced again, and
  from then on there is one compiled version per value of it. `explain`
  says so.
- A default value the caller did not pass (a tuple, a function, a string, a
  number) is a constant of the program, not an argument to type-check.
  Arrays and generators given as defaults stay arguments (they are read, or
  advanced, at call time).
- `grad`, `value_and_grad` and `vjp` keep the non-differentiated Python ints
  (and tuples, lists, strings) concrete, as JAX's grad does.

- A float argument whose value decides a shape (`np.linspace(a, b, int(n))`
  with n = 100.0, as code written for other compilers types a count) is
  specialized the same way: only where a shape needs its value; any other
  float shares a compiled version by type alone.

Invariant: only numbers found to decide a shape are specialized automatically
(Python ints, bools and floats, NumPy integer and float scalars), and a name,
once specialized, stays static for the JitFunction's lifetime, so every later
key carries its value.
"""
from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np

from looptrace.errors import ConcreteIndexError
from looptrace.ir.core import Program


def is_unpassed_default(param: inspect.Parameter, value: Any) -> bool:
    """Is `value` the parameter's own default (so the caller did not pass it)?
    Arrays, generators and floats given as defaults stay arguments: a float
    default is a number like any other passed (`dt=0.01`), and the warm
    call path, which keys floats by type only, takes it by position
    (api.py `JitFunction._by_position`); an int default is static, by value."""
    if param.default is inspect.Parameter.empty or value is not param.default:
        return False
    return not isinstance(value, (np.ndarray, np.random.Generator, float, complex, np.inexact))


def is_int_like(value: Any) -> bool:
    return isinstance(value, (bool, numbers.Integral)) and not isinstance(value, np.ndarray)


def _number_like(value: Any) -> bool:
    """An int, bool or float (Python or NumPy scalar): may be made static where a shape needs it."""
    return is_int_like(value) or isinstance(value, (float, np.floating))


def static_key(value: Any) -> Any:
    """A hashable stand-in for a static value: the value itself, or for an
    unhashable default (a list, a dict) a frozen copy of its contents. A
    float by its bits: 0.0 == -0.0 (and a NaN equals no other NaN), but a
    program made for one may not answer for the other."""
    if isinstance(value, (float, np.floating)):
        return (type(value).__name__, float(value).hex())
    try:
        hash(value)
        return value
    except TypeError:
        pass
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(static_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((static_key(k), static_key(v)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", frozenset(static_key(v) for v in value))
    return ("id", id(value))


def trace_specializing(jf, values: list, specs: list, specs_of=None) -> tuple[Program, list]:
    """Trace `jf` on `values`; where an int argument must be concrete, make
    it static and trace again (`specs_of(values)` gives the new specs, jf's
    own by default). Returns the program and the specs it used."""
    from looptrace.tracer.control import SPECIALIZE_FIRST

    specialize_first = True
    while True:
        token = SPECIALIZE_FIRST.set(specialize_first)
        try:
            program = jf.trace(values, specs)
        except ConcreteIndexError as e:
            names = _specializable(jf, specs, values, e)
            if not names and getattr(e, "unrolls_instead", False) and specialize_first:
                specialize_first = False  # a short loop asked for them (tracer/control.py `for_`): it unrolls
                continue
            if not names:
                raise
            for n in names:
                if n in jf._auto_static:  # (made static by another thread's call meanwhile)
                    continue
                jf._auto_static[n] = _reason(e)
                if not is_int_like(values[jf.param_names.index(n)]):
                    jf.forget_fast()  # warm calls key it by value from now on (api.py `_static_in_key`)
            new = (specs_of or jf.specs_of)(values)
            if [sp.kind for sp in new] == [sp.kind for sp in specs]:
                raise  # nothing more to specialize on
            specs = new
            continue
        finally:
            SPECIALIZE_FIRST.reset(token)
        program.notes = program_notes(jf, values) + list(getattr(program, "notes", []))
        return program, specs


def _specializable(jf, specs: list, values: list, e: ConcreteIndexError) -> list[str]:
    positions = getattr(e, "arg_positions", None)
    if not positions:
        return []
    traced = [i for i, s in enumerate(specs) if s.kind != "static"]
    names = []
    for pos in positions:
        i = traced[pos]
        if not _number_like(values[i]):
            return []
        names.append(jf.param_names[i])
    return names


def _reason(e: ConcreteIndexError) -> str:
    loc, why = e.loc, getattr(e, "why", "it decides a shape")
    if loc is None or loc.line <= 0:
        return why
    return f"{why} at line {loc.line}: {loc.text.strip()}"


def program_notes(jf, values: list) -> list[str]:
    notes = []
    for name, reason in jf._auto_static.items():
        value = values[jf.param_names.index(name)]
        notes.append(f"specialized on `{name}` = {value!r} ({reason}); each value of `{name}` compiles "
                     "its own version")
    return notes


def grad_specs(jf, values: list, wrt: tuple[int, ...]) -> list:
    """The specs of a gradient's call: as `jf`'s, except that every argument
    not differentiated that is a Python int or a non-array Python value (a
    tuple, a list, a string) is static: grad keeps them concrete, as JAX's
    does. Floats stay traced (a changing learning rate must not recompile)."""
    from looptrace.tracer.trace import arg_spec

    params = jf.signature.parameters
    specs = []
    for i, (n, v) in enumerate(zip(jf.param_names, values)):
        concrete = i not in wrt and (is_int_like(v) and not isinstance(v, np.generic)
                                     or isinstance(v, (tuple, list, str, dict)))
        static = concrete or n in jf.static_argnames or n in jf._auto_static or \
            n in getattr(jf, "_kept_static", ()) or is_unpassed_default(params[n], v)
        specs.append(arg_spec(n, v, static))
    return specs


def differentiable(values: list) -> tuple[int, ...]:
    """Positions of the float arrays and numbers (what vjp differentiates)."""
    return tuple(i for i, v in enumerate(values)
                 if isinstance(v, (float, np.floating)) and not isinstance(v, bool)
                 or isinstance(v, np.ndarray) and v.dtype.kind == "f")
