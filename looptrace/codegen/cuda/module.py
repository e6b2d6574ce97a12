"""The generated module: its source text, and the namespace it runs in per mode.

One Program becomes one module: a header of device helper functions, one
`@jit` kernel per parallel block (and per persistent scan), and the host
function `host(rt, *args)` that allocates through the pool, launches the
kernels in order and returns the results (emitter.py writes both).

The same source runs in both modes ("gpu": numba.cuda, "sim": the CUDA
simulator) and is compiled to sm_90 PTX by the tests: only the namespace it
is executed in differs. `cuda` is always the real numba.cuda module (the
simulator swaps it for its fake while a kernel runs), `jit` is the mode's
decorator, and under the simulator `math` and `lib` are NumPy-backed shims
so that a domain error gives NaN (as on the device) instead of Python's
ValueError. `TILE` (the product kernel's tile edge) and `SIM` are constants
of the namespace: smaller tiles under the simulator keep its thread count low.
"""
from __future__ import annotations

import hashlib
import linecache
import math
from types import SimpleNamespace

import numpy as np

from looptrace.codegen import scalar_algorithms

from . import runtime

HELPERS = '''
@jit(device=True)
def max_nan(a, b):
    if b > a or b != b:
        return b
    return a


@jit(device=True)
def min_nan(a, b):
    if b < a or b != b:
        return b
    return a


@jit(device=True)
def fmax_(a, b):
    if a != a or b > a:
        return b
    return a


@jit(device=True)
def fmin_(a, b):
    if a != a or b < a:
        return b
    return a


@jit(device=True)
def logaddexp_(a, b):
    if a == b:
        return a + math.log(2.0)
    d = a - b
    if d > 0:
        return a + math.log1p(math.exp(-d))
    if d <= 0:
        return b + math.log1p(math.exp(d))
    return d


@jit(device=True)
def fmod_i(a, b):
    """C's fmod of integers (the sign of the dividend); 0 for a zero divisor, as NumPy."""
    if b == 0:
        return a - a
    r = a % b
    if r != 0 and (a < 0) != (b < 0):
        r -= b
    return r


# one definition for every target (codegen/scalar_algorithms.py), compiled as device functions
digamma_ = jit(device=True)(scalar_algorithms.digamma)
trigamma_ = jit(device=True)(scalar_algorithms.trigamma)
gcd_ = jit(device=True)(scalar_algorithms.gcd)
lcm_ = jit(device=True)(scalar_algorithms.lcm)


@jit(device=True)
def report(err, code, i, n):
    if cuda.atomic.compare_and_swap(err, 0, code + 1) == 0:
        err[1] = i
        err[2] = n


@jit(device=True)
def report_first(err, code, i, n, key, stamp):
    """The failure of iteration `key` of launch `stamp` of an iterations kernel
    (iterations.py): the call's error unless an earlier kernel reported one or a
    lower iteration of this launch did (err[4], err[5]). Under a lock (err[7]);
    atomics read (a compare-and-swap of -1 by -1: no change) and write, so no
    thread sees a stale copy of the record."""
    while cuda.atomic.cas(err, 7, 0, 1) != 0:
        pass
    cuda.threadfence()
    held = cuda.atomic.cas(err, 0, -1, -1)
    if held == 0 or (cuda.atomic.cas(err, 5, -1, -1) == stamp and key < cuda.atomic.cas(err, 4, -1, -1)):
        cuda.atomic.exch(err, 0, code + 1)
        cuda.atomic.exch(err, 1, i)
        cuda.atomic.exch(err, 2, n)
        cuda.atomic.exch(err, 4, key)
        cuda.atomic.exch(err, 5, stamp)
    cuda.threadfence()
    cuda.atomic.exch(err, 7, 0)


@jit(device=True)
def check_start(i, n, size, code, err):
    """A dynamic slice start as NumPy normalizes it; a bad one is reported and clamped to 0."""
    i = np.int64(i)
    if i < 0 and size == 1:
        i += n
    if i < 0 or i > n - size:
        report(err, np.int64(code), i, np.int64(n))
        return np.int64(0)
    return i


@jit(device=True)
def check_int(x, code, err):
    """Python's int() of a whole float (ops/elementwise.py `pyint`): reports
    code for NaN, code + 1 for an infinity, code + 2 past int64, and gives 0."""
    if x >= -9.223372036854775808e18 and x < 9.223372036854775808e18:
        return np.int64(x)
    k = code + 2
    if x != x:
        k = code
    elif x == math.inf or x == -math.inf:
        k = code + 1
    report(err, np.int64(k), np.int64(0), np.int64(0))
    return np.int64(0)


@jit(device=True)
def check_elem(i, n, code, err):
    """An element index (negative counts from the end); a bad one is reported and clamped to 0."""
    i = np.int64(i)
    if i < -n or i >= n:
        report(err, np.int64(code), i, np.int64(n))
        return np.int64(0)
    if i < 0:
        return i + n
    return i
'''

HEADER = """# looptrace cuda module for {name}(): generated, do not edit
import numpy as np
from numba import boolean, complex64, complex128, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64
# provided by the namespace (codegen/cuda/module.py): cuda, jit, math, lib, TILE, TILE1, TREE, TREE_ITEMS, SIM,
# scalar_algorithms
"""


def assemble(name: str, kernels: list[str], host: str) -> str:
    return "\n\n".join([HEADER.format(name=name).rstrip("\n"), HELPERS.strip("\n"), *kernels, host]) + "\n"


def _ignoring(f):
    def call(*args):
        with np.errstate(all="ignore"):
            return f(*args)

    return call


def _sim_math() -> SimpleNamespace:
    names = {"exp": np.exp, "exp2": np.exp2, "expm1": np.expm1, "log": np.log, "log2": np.log2,
             "log10": np.log10, "log1p": np.log1p, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
             "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan, "sinh": np.sinh,
             "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh, "acosh": np.arccosh,
             "atanh": np.arctanh, "atan2": np.arctan2, "hypot": np.hypot, "copysign": np.copysign,
             "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite, "fabs": np.fabs}
    names["fmod"] = np.fmod
    special = {k: _ieee(getattr(math, k), f) for k, f in _special_fallbacks().items()}
    return SimpleNamespace(pi=math.pi, e=math.e, inf=math.inf, nan=math.nan,
                           **{k: _ignoring(f) for k, f in names.items()}, **special)


def _special_fallbacks() -> dict:
    import scipy.special as sp

    return {"erf": sp.erf, "erfc": sp.erfc, "gamma": sp.gamma, "lgamma": sp.gammaln}


def _ieee(f, fallback):
    """Python's math.<f>, with the IEEE value where Python raises (libdevice's answer there)."""
    def call(x):
        try:
            return f(float(x))
        except (ValueError, OverflowError):
            return float(fallback(float(x)))

    return call


def _sim_lib() -> SimpleNamespace:
    names = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "rint": np.rint, "cbrt": np.cbrt}
    table = {}
    for k, f in names.items():
        table[k] = table[k + "f"] = _ignoring(f)
    return SimpleNamespace(**table)


TILE = {"gpu": 16, "sim": 4}
TREE = {"gpu": (256, 8), "sim": (4, 16)}  # threads per block, items per thread of a tree-reduction pass


def namespace(mode: str) -> dict:
    """Globals a generated module runs in, for `mode`."""
    cuda = runtime.numba_cuda()
    ns = {"np": np, "cuda": cuda, "jit": runtime.jit(mode), "TILE": TILE[mode], "TILE1": TILE[mode] + 1,
          "SIM": mode == "sim", "scalar_algorithms": scalar_algorithms,
          "TREE": TREE[mode][0], "TREE_ITEMS": TREE[mode][1]}
    if mode == "sim":
        ns.update(math=_sim_math(), lib=_sim_lib())
    else:
        from numba.cuda import libdevice

        ns.update(math=math, lib=libdevice)
    return ns


def load(source: str, name: str, mode: str) -> dict:
    """Execute the module's source in a fresh namespace of `mode`."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    filename = f"<looptrace cuda {name} {digest} {mode}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    ns = namespace(mode)
    exec(compile(source, filename, "exec"), ns)
    ns["__looptrace_file__"] = filename
    return ns
