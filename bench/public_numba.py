"""Run numba/numba-benchmark's kernels through looptrace, against the plain
function and against `numba.njit`, the way that collection runs them.

A third public check beside numpy-benchmarks (public_check.py) and npbench
(public_npbench.py), and the one written for Numba: scalar loops with
`math.*`, helpers called from the loop, module constants, float32 data,
`.flat`, `np.ndindex`, `zip`, `np.nditer`. It reads the collection from a
checkout (a work tree or a bare git directory: the files at HEAD) and copies
nothing of it into this repository: each benchmark file's `setup()` (or
`jit_setup()`) defines its kernels under `@jit`; the functions defined there
are written, decorators dropped, with the file's module-level code (its
constants and plain functions, its classes left out) into a module of their
own, and each case below calls one of them. `@vectorize` and `@guvectorize`
kernels are left out (ufunc definitions, not functions of arrays); so are
kernels that draw random numbers (bench_ising, bench_random: the draws would
differ) and the CUDA, compile-time, dispatch, jitclass, list and set files.

The cases and their arguments are ours, at the sizes the collection's
benchmark classes use. For each case, in a child process (bench/public_check.py's
run_children): the outcome on "interpret" and "cpu" (bench/corpus/run.py's
judge), then medians of the plain function, looptrace cpu and numba.njit of
the same function (its helpers njit'd too, as the collection does),
interleaved, and the ratios plain / looptrace and numba / looptrace.

float32 kernels are judged at rtol 1e-3: their sums are float32 in the plain
function too, and a different order of additions moves components near zero
(nbody: the plain float32 result is 4e-5 away from float64's, looptrace's
7e-5 from plain's at 256 bodies).

    python bench/public_numba.py --repo /path/to/numba-benchmark [--only a,b] [--repeats 5]
"""
from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.public_check import parser_for, run_children, selected  # noqa: E402

FILES = ("bench_blackscholes", "bench_centdiff", "bench_gameoflife", "bench_laplace", "bench_nbody", "bench_misc",
         "bench_arrayexprs", "bench_iterating", "bench_numbagg", "bench_sorting")


def source(repo: Path, name: str) -> str:
    path = repo / "benchmarks" / f"{name}.py"
    if path.is_file():
        return path.read_text()
    git = ["git", "--git-dir", str(repo)] if (repo / "HEAD").is_file() else ["git", "-C", str(repo)]
    return subprocess.run(git + ["show", f"HEAD:benchmarks/{name}.py"], capture_output=True, text=True,
                          check=True).stdout


def plain_module(text: str) -> str:
    """The file's module-level code without its classes and its calls of them,
    then the functions its setup defines, undecorated, at module level."""
    lines = text.splitlines()
    tree = ast.parse(text)
    top, inner = [], []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in ("setup", "jit_setup"):
            for fn in node.body:
                decorators = " ".join(ast.unparse(d) for d in getattr(fn, "decorator_list", ()))
                if isinstance(fn, ast.FunctionDef) and "vectorize" not in decorators:
                    inner.append(textwrap.dedent("\n".join(lines[fn.lineno - 1:fn.end_lineno])))
        elif isinstance(node, ast.ClassDef) or isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            continue
        else:
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
            top.append("\n".join(lines[first - 1:node.end_lineno]))
    return "\n\n".join(top + inner) + "\n"


def _cases(mods, rs):
    """name -> (module, function name, arguments, rtol)."""
    import numpy as np

    bs, cd, gl, lp, nb, mi, ae, it, ng, so = (mods[f] for f in FILES)
    n = 16384  # bench_blackscholes.N
    u1 = rs.rand(250 * 250)  # bench_centdiff: N = 250
    u2 = u1.reshape(250, 250)
    pos, w = nb.make_nbody_samples(4096)  # NBody.n_bodies
    a1 = rs.randint(-100, 100, 10 ** 6).astype(np.int32)  # bench_iterating: N * N int32
    a2 = a1.reshape(1000, 1000)
    nans = rs.randn(10000)  # bench_numbagg: n = 10000, NaN below -1
    nans[nans < -1] = np.nan
    f32 = [rs.uniform(1.0, 2.0, 100000).astype(np.float32) for _ in range(2)]  # ArrayExpressions.n
    f64 = [rs.uniform(1.0, 2.0, 100000) for _ in range(2)]
    srt = rs.uniform(1.0, 100.0, 100000).astype(np.float32)  # ArraySorting.n
    return {
        "blackscholes": (bs, "blackscholes", (np.zeros(n), np.zeros(n), rs.uniform(5.0, 30.0, n),
                                              rs.uniform(1.0, 100.0, n), rs.uniform(0.25, 10.0, n),
                                              bs.RISKFREE, bs.VOLATILITY), 1e-9),
        "centdiff_1d": (cd, "centered_difference_range1d", (u1, np.zeros_like(u1), 1.5), 1e-9),
        "centdiff_2d_C": (cd, "centered_difference_range2d", (u2, np.zeros_like(u2), 1.5), 1e-9),
        "centdiff_2d_F": (cd, "centered_difference_range2d", (u2.T, np.zeros_like(u2.T), 1.5), 1e-9),
        "centdiff_2d_strided": (cd, "centered_difference_range2d",
                                (np.concatenate((u2, u2))[::2], np.zeros_like(u2), 1.5), 1e-9),
        "life_step": (gl, "numba_life_step", (rs.random_sample((300, 200)) > 0.5,), 1e-9),
        "laplace": (lp, "laplace", (150, 200), 1e-9),
        "nbody_loops": (nb, "run_numba_nbody", nb.make_nbody_samples(1024), 1e-3),  # the plain loops: 10^6 steps
        "nbody_numpy": (nb, "run_numpy_nbody", (pos, w), 1e-3),
        "grouped_sum": (mi, "grouped_sum", (rs.randn(200000), rs.randint(20, size=200000).astype(np.intp),
                                            np.zeros(20)), 1e-9),
        "grouped_sum_unsigned": (mi, "grouped_sum", (rs.randn(200000),
                                                     rs.randint(20, size=200000).astype(np.uintp), np.zeros(20)),
                                 1e-9),
        **{f"{fn}_{t}": (ae, fn, tuple(a), 1e-3 if t == "float32" else 1e-9)
           for fn in ("sum", "sq_diff", "rel_diff", "square", "cube") for t, a in (("float32", f32), ("float64", f64))},
        "array_iter_1d": (it, "array_iter_1d", (a1,), 1e-9),
        "flat_iter_2d_C": (it, "flat_iter", (a2,), 1e-9),
        "flat_iter_2d_F": (it, "flat_iter", (a2.T,), 1e-9),
        "flat_index_2d_C": (it, "flat_index", (a2,), 1e-9),
        "ndindex_2d": (it, "ndindex", (a2,), 1e-9),
        "range_index_2d": (it, "range2d", (a2,), 1e-9),
        "nditer_2d": (it, "nditer1", (a2,), 1e-9),
        "nditer_two_2d": (it, "nditer2", (a2, a2), 1e-9),
        "zip_iter_1d": (it, "zip_iter", (a1, a1), 1e-9),
        "zip_flat_2d": (it, "zip_flat", (a2, a2), 1e-9),
        "nanmean_1d": (ng, "nanmean", (nans,), 1e-9),
        "nanmean_2d_reversed": (ng, "nanmean", (nans.reshape(100, 100)[::-1],), 1e-9),
        # real_sort sorts its argument in place, so every timed call after the first sorts a sorted
        # array: Numba's quicksort is fast on that, NumPy's sort (which looptrace calls) is not. The
        # collection's own `sort` (real_sort of a copy) returns nothing: looptrace compiles it to nothing
        "sort": (so, "real_sort", (srt,), 1e-9),
        "argsort": (so, "argsort", (srt,), 1e-9),
        "median": (so, "median", (srt,), 1e-9),
    }


def load(repo: Path) -> dict:
    folder = tempfile.mkdtemp()
    sys.path.insert(0, folder)
    mods = {}
    for name in FILES:
        Path(folder, f"nbbench_{name}.py").write_text(plain_module(source(repo, name)))  # the tracer reads it
        mods[name] = importlib.import_module(f"nbbench_{name}")
    return mods


def names(repo: Path) -> list[str]:
    import numpy as np
    return list(_cases(load(repo), np.random.RandomState(0)))


def child(repo: Path, name: str, repeats: int) -> dict:
    import copy
    import warnings

    import numba
    import numpy as np

    from bench._timing import compare, whole_turns
    from bench.corpus import Kernel
    from bench.corpus.run import judge

    warnings.simplefilter("ignore")
    mods = load(repo)
    module, fn_name, args, rtol = _cases(mods, np.random.RandomState(0))[name]
    fn = getattr(module, fn_name)
    kernel = Kernel(name, fn, lambda r, m: args, "public", "public", rtol=rtol)
    out: dict = {"name": name}
    jitted = None
    for backend in ("interpret", "cpu"):
        outcome, jitted = judge(kernel, args, backend, explain=False)
        if outcome.kind == "wrong" and fn_name == "argsort":
            outcome = _judge_argsort(jitted, args[0])
        elif outcome.kind == "wrong" and _float32(args):
            outcome = _judge_float32(fn, jitted, args)
        out[backend] = outcome.kind
        if outcome.detail:
            out[backend + "_detail"] = outcome.detail
    if out["cpu"] != "ok":
        return out
    cases = {"plain": (fn, copy.deepcopy(args)), "looptrace": (jitted, copy.deepcopy(args))}
    njitted = _njit(module, fn)
    try:
        with np.errstate(all="ignore"):
            if _same_values(njitted(*copy.deepcopy(args)), fn(*copy.deepcopy(args)), rtol):
                cases["numba"] = (njitted, copy.deepcopy(args))
    except numba.core.errors.NumbaError:
        pass
    with np.errstate(all="ignore"):
        # whole double turns: looptrace and numba.njit each follow the slow plain call equally often
        # (bench/_timing.py whole_turns; with 5 rounds of 3 cases looptrace followed it once more)
        medians = compare({k: (lambda f=f, a=a: f(*a)) for k, (f, a) in cases.items()},
                          repeats=whole_turns(repeats, len(cases)))
    out.update({f"{k}_s": v for k, v in medians.items()})
    return out


def _same_values(got, expected, rtol: float) -> bool:
    """numba.njit's result as a timing reference: the plain function's values,
    in whatever types Numba's own typing gives them (nditer1 adds u.item(), an
    int64 in Numba, to an int32 total and returns a Python int where the plain
    function returns np.int32). Compared in the dtype both promote to, so no
    value is rounded or wrapped to make them agree."""
    import numpy as np

    from bench.corpus.run import same
    if isinstance(expected, (tuple, list)):
        return isinstance(got, (tuple, list)) and len(got) == len(expected) and \
            all(_same_values(g, e, rtol) for g, e in zip(got, expected))
    g, e = np.asarray(got), np.asarray(expected)
    try:
        common = np.result_type(g.dtype, e.dtype)
    except TypeError:
        return False
    return same(g.astype(common), e.astype(common), rtol)


def _float32(args) -> bool:
    import numpy as np
    return any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)


def _judge_float32(fn, jitted, args):
    """A float32 result further than rtol from the plain one: ok when it is
    no further from the same function run in float64 than the plain result
    is (the sums are float32 in both; their order differs), else wrong."""
    import copy

    import numpy as np

    from bench.corpus.run import Outcome
    wide = tuple(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype == np.float32 else a for a in args)
    with np.errstate(all="ignore"):
        ref, plain, got = fn(*copy.deepcopy(wide)), fn(*copy.deepcopy(args)), jitted(*copy.deepcopy(args))
    flat = [np.asarray(x, dtype=np.float64) for x in (ref, plain, got)]
    if any(x.shape != flat[0].shape for x in flat) or np.asarray(got).dtype != np.asarray(plain).dtype:
        return Outcome("wrong", "the result differs from the plain function's")
    e_plain, e_got = (float(np.abs(x - flat[0]).max()) for x in flat[1:])
    kind = "ok" if e_got <= e_plain else "wrong"
    return Outcome(kind, f"float32: {e_got:.2g} from the float64 run, plain {e_plain:.2g}")


def _judge_argsort(jitted, x):
    """x.argsort() with NumPy's default (unstable) kind orders equal keys as
    its implementation happens to (AVX-512 sorting networks here): ok when
    the result is a permutation that sorts x, as NumPy's does."""
    from bench.corpus.run import Outcome
    import numpy as np
    got = np.asarray(jitted(x.copy()))
    ok = got.dtype == np.intp and np.array_equal(np.sort(got), np.arange(x.size)) and \
        np.array_equal(x[got], np.sort(x))
    return Outcome("ok" if ok else "wrong",
                   "ties ordered otherwise than NumPy's unstable sort; a permutation that sorts x" if ok else
                   "not a permutation that sorts x")


def _njit(module, fn):
    """fn under numba.njit, from a second copy of its module whose other
    functions are njit'd too (its helpers, as the collection decorates them;
    the plain function keeps calling plain helpers)."""
    import importlib.util
    import types

    import numba
    spec = importlib.util.spec_from_file_location(module.__name__ + "_numba", module.__file__)
    twin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(twin)
    for k, v in list(vars(twin).items()):
        if isinstance(v, types.FunctionType) and v.__module__ == twin.__name__:
            setattr(twin, k, numba.njit(v))
    return getattr(twin, fn.__name__)


def _line(row: dict) -> str:
    lt = row.get("looptrace_s")
    vs_plain = f"{row['plain_s'] / lt:.2f}×" if lt else ""
    vs_numba = f"{row['numba_s'] / lt:.2f}×" if lt and row.get("numba_s") else ""
    detail = row.get("cpu_detail") or row.get("interpret_detail") or ""
    return f"| {row['name']} | {row['interpret']} | {row['cpu']} | {vs_plain} | {vs_numba} | {detail[:100]} |"


def main() -> None:
    parser = parser_for(__doc__, "a checkout of numba/numba-benchmark")
    args = parser.parse_args()
    repo = Path(args.repo)
    if args.child:
        print(json.dumps(child(repo, args.child, args.repeats)))
        return
    rows = run_children(selected(names(repo), args.only),
                        lambda name: [sys.executable, __file__, "--repo", args.repo, "--child", name,
                                      "--repeats", str(args.repeats)], args.timeout, args.json)
    print("\n| case | interpret | cpu | vs plain | vs numba | detail |\n| --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(_line(row))
    ratios = [r["numba_s"] / r["looptrace_s"] for r in rows if r.get("numba_s") and r.get("looptrace_s")]
    if ratios:
        import math
        geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        print(f"- cpu vs numba.njit (where it compiles and matches): geometric mean {geo:.2f}×, "
              f"{sum(x < 1.0 for x in ratios)} below 1.0×")


if __name__ == "__main__":
    main()
