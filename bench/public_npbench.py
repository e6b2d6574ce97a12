"""Run spcl/npbench's NumPy kernels through looptrace, unchanged.

The companion of bench/public_check.py (serge-sans-paille/numpy-benchmarks)
for the second public collection. It reads a checkout of spcl/npbench (a work
tree, or a git directory: the files at HEAD) at run time and copies nothing
of it into this repository. For each `bench_info/<name>.json`, in a child
process (a hang or a crash stays in it):
  - the arguments are built as npbench's own runner builds them
    (npbench/infrastructure/benchmark.py `Benchmark.get_data`): the preset's
    parameters, plus the outputs of the benchmark's init function, called
    with its `init.input_args` looked up among the parameters (its own
    defaults for the rest, e.g. `datatype=np.float64`); the kernel's
    `input_args` are then looked up by name in that data;
  - the init module `<module_name>.py` and the kernel module
    `<module_name>_numpy.py` are written as files into a temporary folder
    (the tracer reads the kernel's source from its file) and imported from
    there under names of their own;
  - the plain kernel and `looptrace.jit(kernel, backend=...)` run on deep
    copies of the arguments, judged as the corpus judges
    (bench/corpus/run.py: values, and the argument arrays after the call:
    many kernels write into their arguments and return nothing), on
    "interpret" and "cpu";
  - where cpu is ok, medians of the plain call and the jitted one,
    interleaved (bench/_timing.py), each call on a fresh deep copy of the
    arguments, and the ratio plain / looptrace.

Floats are compared to rtol 1e-7, or to the benchmark's own `rtol` where its
json names one (durbin: 1e-3). A kernel that differs at that rtol is ok when
it passes npbench's own validation (rtol 1e-5, or a norm-wise relative error
under 1e-5: float32 sums in another order, a chaotic simulation), and its
detail says so and by how much. A "wrong" outcome's detail names the first
output or argument that differs and by how much; a "crash" records where in
looptrace it was raised (the full traceback is in the --json file).

    python bench/public_npbench.py --repo /path/to/npbench [--preset S] [--only a,b] [--timeout 300]
                                   [--repeats 5] [--json out.json]
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.public_check import parser_for, run_children, selected  # noqa: E402

INFO_DIR = "bench_info"
BENCH_DIR = "npbench/benchmarks"
RTOL = 1e-7


class Checkout:
    """Files of an npbench checkout: a work tree, or a git directory (HEAD)."""

    def __init__(self, repo: Path):
        self.repo = repo
        self.tree = (repo / INFO_DIR).is_dir()

    def names(self) -> list[str]:
        if self.tree:
            return [p.stem for p in sorted((self.repo / INFO_DIR).glob("*.json"))]
        out = subprocess.run(["git", "--git-dir", str(self.repo), "ls-tree", "--name-only", f"HEAD:{INFO_DIR}"],
                             capture_output=True, text=True, check=True).stdout.split()
        return [Path(n).stem for n in sorted(out) if n.endswith(".json")]

    def read(self, path: str) -> str:
        if self.tree:
            return (self.repo / path).read_text()
        return subprocess.run(["git", "--git-dir", str(self.repo), "show", f"HEAD:{path}"],
                              capture_output=True, text=True, check=True).stdout


def _import(folder: str, filename: str, source: str, module_name: str):
    """Write `source` as folder/filename and import it as `module_name`."""
    import importlib.util

    path = Path(folder, filename)
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def build(checkout: Checkout, info: dict, preset: str, folder: str):
    """The kernel and its arguments, as npbench's Benchmark.get_data builds them."""
    base = f"{BENCH_DIR}/{info['relative_path']}/{info['module_name']}"
    data = dict(info["parameters"][preset])
    init = info.get("init")
    if init:
        init_module = _import(folder, f"{info['module_name']}.py", checkout.read(base + ".py"),
                              f"npbench_init_{info['module_name']}")
        result = getattr(init_module, init["func_name"])(*[data[a] for a in init["input_args"]])
        names = init["output_args"]
        values = result if len(names) > 1 else (result,)  # `a, b = f()` or `a = f()`
        if len(values) != len(names):
            raise ValueError(f"init returned {len(values)} values for {names}")
        data.update(zip(names, values))
    kernel_module = _import(folder, f"{info['module_name']}_numpy.py", checkout.read(base + "_numpy.py"),
                            f"npbench_numpy_{info['module_name']}")
    fn = getattr(kernel_module, info["func_name"])
    return fn, tuple(data[a] for a in info["input_args"])


def _mismatch(fn, jitted, args: tuple, names: list[str], rtol: float) -> str:
    """Which value or argument differs after a "wrong" outcome, and by how much."""
    import copy

    import numpy as np

    from bench.corpus.run import same

    plain_args, jit_args = copy.deepcopy(args), copy.deepcopy(args)
    with np.errstate(all="ignore"):
        expected = fn(*plain_args)
        got = jitted(*jit_args)
    pairs = []
    if isinstance(expected, (tuple, list)) and isinstance(got, (tuple, list)) and len(got) == len(expected):
        pairs += [(f"result[{i}]", g, e) for i, (g, e) in enumerate(zip(got, expected))]
    else:
        pairs.append(("result", got, expected))
    pairs += [(f"argument `{n}`", j, p) for n, j, p in zip(names, jit_args, plain_args) if isinstance(p, np.ndarray)]
    for what, g, e in pairs:
        if same(g, e, rtol):
            continue
        if isinstance(e, (tuple, list)) or isinstance(g, (tuple, list)):
            return f"{what}: got {type(g).__name__}, expected {type(e).__name__} of {len(e)}"
        g, e = np.asarray(g), np.asarray(e)
        if g.shape != e.shape or g.dtype != e.dtype:
            return f"{what}: got {g.dtype}{list(g.shape)}, expected {e.dtype}{list(e.shape)}"
        with np.errstate(all="ignore"):
            diff = np.abs(g.astype(complex if e.dtype.kind == "c" else float) - e)
            bad = ~np.isclose(g, e, rtol=rtol, atol=rtol * 1e-3, equal_nan=True) if e.dtype.kind in "fc" \
                else g != e
            worst = np.nanmax(diff) if diff.size and not np.all(np.isnan(diff)) else float("nan")
            scale = f", max rel {np.nanmax(diff[bad] / np.abs(e[bad])):.3g}" if e.dtype.kind in "fc" else ""
            if e.dtype.kind == "f":
                scale += f" ({np.nanmax(diff[bad] / np.spacing(np.abs(e[bad]))):.3g} ulp of {e.dtype})"
        where = tuple(int(i) for i in np.argwhere(bad)[0]) if bad.ndim else ()
        return (f"{what}: {int(bad.sum())} of {bad.size} elements differ, max |diff| {worst:.3g}{scale}; "
                f"first at {list(where)}: got {g[where]!r}, expected {e[where]!r}")
    return "no difference on a rerun"


def _npbench_agrees(fn, jitted, args: tuple) -> bool:
    """After a "wrong" outcome at rtol 1e-7: do the results and the array
    arguments after the call pass npbench's own validation (utilities.py
    `validate`: np.allclose at rtol 1e-5, atol 1e-8, or a norm-wise relative
    error under 1e-5)? Summed in another order, float32 results differ by a
    few ulp (looptrace sums float32 in float64), and a chaotic simulation
    (nbody, 40 leapfrog steps) grows a first step's 1-ulp differences to
    1e-6 relative."""
    import copy

    import numpy as np

    plain_args, jit_args = copy.deepcopy(args), copy.deepcopy(args)
    with np.errstate(all="ignore"):
        expected, got = fn(*plain_args), jitted(*jit_args)
    pairs = list(zip(got, expected)) if isinstance(expected, (tuple, list)) else [(got, expected)]
    pairs += [(j, p) for j, p in zip(jit_args, plain_args) if isinstance(p, np.ndarray)]
    for g, e in pairs:
        if e is None and g is None:
            continue
        g, e = np.asarray(g), np.asarray(e)
        if g.shape != e.shape or g.dtype != e.dtype:
            return False
        if e.dtype.kind not in "fc":
            if not np.array_equal(g, e):
                return False
            continue
        if np.allclose(g, e, rtol=1e-5, atol=1e-8, equal_nan=True):
            continue
        ref = np.linalg.norm(e.astype(np.float64).ravel())
        if not (ref > 0 and np.linalg.norm((g.astype(np.float64) - e).ravel()) / ref < 1e-5):
            return False
    return True


def _where(fn, jitted, args: tuple) -> tuple[str, str]:
    """Rerun a crashing jitted call: the innermost looptrace frame and the traceback."""
    import copy
    import traceback

    import numpy as np

    try:
        with np.errstate(all="ignore"):
            jitted(*copy.deepcopy(args))
    except Exception as e:  # noqa: BLE001
        frames = traceback.extract_tb(e.__traceback__)
        ours = [f for f in frames if "/looptrace/" in f.filename]
        last = ours[-1] if ours else (frames[-1] if frames else None)
        where = f"{Path(last.filename).name}:{last.lineno} in {last.name}" if last else ""
        return where, "".join(traceback.format_exception(type(e), e, e.__traceback__))[-4000:]
    return "", "no exception on a rerun"


def child(checkout: Checkout, name: str, preset: str, repeats: int) -> dict:
    import copy
    import warnings

    import numpy as np

    from bench._timing import compare
    from bench.corpus import Kernel
    from bench.corpus.run import judge

    warnings.simplefilter("ignore")
    info = json.loads(checkout.read(f"{INFO_DIR}/{name}.json"))["benchmark"]
    if preset not in info.get("parameters", {}):
        return {"name": name, "skipped": f"no {preset} preset"}
    try:
        fn, args = build(checkout, info, preset, tempfile.mkdtemp())
    except Exception as e:  # noqa: BLE001 - npbench's setup, not looptrace
        return {"name": name, "skipped": f"setup failed: {type(e).__name__}: {e}"[:200]}
    rtol = float(info.get("rtol", RTOL))
    kernel = Kernel(name, fn, lambda r, m: args, "public", "public", rtol=rtol)
    out: dict = {"name": name}
    jitted = None
    for backend in ("interpret", "cpu"):
        print(json.dumps(out), flush=True)  # so far: what the parent keeps if this one times out
        outcome, jitted = judge(kernel, args, backend, explain=False)
        out[backend] = outcome.kind
        detail = outcome.detail
        if outcome.kind == "wrong" and _npbench_agrees(fn, jitted, args):
            out[backend] = "ok"
            detail = "ok by npbench's own check (rtol 1e-5); at rtol 1e-7: " + \
                _mismatch(fn, jitted, args, info["input_args"], rtol)
        elif outcome.kind == "wrong":
            try:
                detail += ": " + _mismatch(fn, jitted, args, info["input_args"], rtol)
            except Exception as e:  # noqa: BLE001
                detail += f" (rerun: {type(e).__name__}: {e})"
        elif outcome.kind == "crash":
            where, trace = _where(fn, jitted, args)
            if where:
                detail += f" [at {where}]"
            out[backend + "_trace"] = trace
        if detail:
            out[backend + "_detail"] = detail
    if out["cpu"] == "ok":
        print(json.dumps(out), flush=True)
        calls = 2 + repeats  # compare's warmup rounds, then the timed ones
        plain_copies = [copy.deepcopy(args) for _ in range(calls)]
        jit_copies = [copy.deepcopy(args) for _ in range(calls)]
        with np.errstate(all="ignore"):
            medians = compare({"plain": lambda: fn(*plain_copies.pop()),
                               "looptrace": lambda: jitted(*jit_copies.pop())}, repeats=repeats, warmup=2)
        out["plain_s"], out["looptrace_s"] = medians["plain"], medians["looptrace"]
    return out


def _partial(name: str, stdout) -> dict:
    """A timed-out child's row: what it had printed (its outcomes so far); the
    rest timed out."""
    text = stdout.decode(errors="replace") if isinstance(stdout, bytes) else (stdout or "")
    row = {"name": name}
    for line in reversed(text.strip().splitlines()):
        try:
            row = json.loads(line)
            break
        except ValueError:
            continue
    if row.get("interpret") == "ok" and row.get("cpu") == "ok":  # only the timing was cut short
        row["cpu_detail"] = "ok, but timing plain vs looptrace did not finish in time"
    for backend in ("interpret", "cpu"):
        row.setdefault(backend, "timeout")
    return row


def main() -> None:
    parser = parser_for(__doc__, "a checkout of spcl/npbench (work tree or git directory)")
    parser.add_argument("--preset", default="S", help="npbench's data size: S, M, L or paper")
    args = parser.parse_args()
    checkout = Checkout(Path(args.repo))
    if args.child:
        print(json.dumps(child(checkout, args.child, args.preset, args.repeats)))
        return
    names = selected(checkout.names(), args.only)
    print("| kernel | interpret | cpu | vs plain | detail |\n|---|---|---|---|---|", flush=True)
    run_children(names, lambda name: [sys.executable, __file__, "--repo", args.repo, "--child", name,
                                      "--preset", args.preset, "--repeats", str(args.repeats)],
                 args.timeout, args.json, _partial)


if __name__ == "__main__":
    main()
