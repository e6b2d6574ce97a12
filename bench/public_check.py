"""Run a public benchmark collection's kernels through looptrace, unchanged.

Our corpus (bench/corpus/) is written by us; the public collections stay as
a check of how looptrace meets code written by other people. This reads the
kernels of serge-sans-paille/numpy-benchmarks from a checkout (a work tree,
or a bare git directory: the files at HEAD) and copies nothing of them into
this repository. Each file there holds one function and two comment lines,
`#setup: <statements>` and `#run: <call>`; for each file, in a child process
(a hang or a crash stays in it):
  - the setup runs, and the call's arguments are evaluated in its namespace;
  - the plain function and `looptrace.jit(fn, backend=...)` run on copies,
    judged as the corpus judges (bench/corpus/run.py: ok / error (a clear
    looptrace error) / crash (any other exception) / wrong / timeout), on
    "interpret" and "cpu", at the collection's own sizes;
  - where cpu is ok, medians of the plain call and the jitted one,
    interleaved (bench/_timing.py), and the ratio plain / looptrace.

    python bench/public_check.py --repo /path/to/numpy-benchmarks [--only a,b] [--timeout 300] [--repeats 5]
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DIR = "numpy_benchmarks/benchmarks"


def sources(repo: Path) -> dict[str, str]:
    """name -> source of every benchmark file of the collection."""
    tree = repo / BENCH_DIR
    if tree.is_dir():
        return {p.stem: p.read_text() for p in sorted(tree.glob("*.py")) if p.stem != "__init__"}
    git = ["git", "--git-dir", str(repo)]
    names = subprocess.run(git + ["ls-tree", "--name-only", f"HEAD:{BENCH_DIR}"], capture_output=True, text=True,
                           check=True).stdout.split()
    return {Path(n).stem: subprocess.run(git + ["show", f"HEAD:{BENCH_DIR}/{n}"], capture_output=True, text=True,
                                         check=True).stdout
            for n in sorted(names) if n.endswith(".py") and n != "__init__.py"}


def _directive(source: str, key: str) -> str | None:
    for line in source.splitlines():
        if line.startswith(f"#{key}:"):
            return line[len(key) + 2:].strip()
    return None


def child(name: str, source: str, repeats: int) -> dict:
    import importlib
    import warnings

    import numpy as np

    from bench._timing import compare
    from bench.corpus import Kernel
    from bench.corpus.run import judge

    warnings.simplefilter("ignore")
    setup, run = _directive(source, "setup"), _directive(source, "run")
    if setup is None or run is None:
        return {"name": name, "skipped": "no #setup/#run lines"}
    folder = tempfile.mkdtemp()
    Path(folder, f"pub_{name}.py").write_text(source)  # a file of its own: the tracer reads the source
    sys.path.insert(0, folder)
    module = importlib.import_module(f"pub_{name}")
    namespace: dict = {}
    exec(setup, namespace)  # noqa: S102 - the collection's own setup line
    call = ast.parse(run, mode="eval").body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.keywords:
        return {"name": name, "skipped": f"#run is not a plain call: {run}"}
    fn = getattr(module, call.func.id)
    args: tuple = ()
    for a in call.args:  # noqa: S307 - the collection's own arguments
        if isinstance(a, ast.Starred):
            args += tuple(eval(compile(ast.Expression(a.value), name, "eval"), namespace))
        else:
            args += (eval(compile(ast.Expression(a), name, "eval"), namespace),)
    kernel = Kernel(name, fn, lambda r, m: args, "public", "public", rtol=1e-7)
    out: dict = {"name": name}
    jitted = None
    for backend in ("interpret", "cpu"):
        outcome, jitted = judge(kernel, args, backend, explain=False)
        out[backend] = outcome.kind
        if outcome.detail:
            out[backend + "_detail"] = outcome.detail
    if out["cpu"] == "ok":
        import copy
        plain_args, jit_args = copy.deepcopy(args), copy.deepcopy(args)
        with np.errstate(all="ignore"):
            medians = compare({"plain": lambda: fn(*plain_args), "looptrace": lambda: jitted(*jit_args)},
                              repeats=repeats)
        out["plain_s"], out["looptrace_s"] = medians["plain"], medians["looptrace"]
    return out


def parser_for(doc: str, repo_help: str) -> argparse.ArgumentParser:
    """The options both public checks take (a script adds its own)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True, help=repo_help)
    parser.add_argument("--only", default="", help="kernels to run, comma-separated (default: all)")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser


def selected(names, only: str) -> list[str]:
    return [n for n in names if not only or n in only.split(",")]


def main() -> None:
    args = parser_for(__doc__, "a checkout of serge-sans-paille/numpy-benchmarks").parse_args()
    found = sources(Path(args.repo))
    if args.child:
        print(json.dumps(child(args.child, found[args.child], args.repeats)))
        return
    names = selected(found, args.only)
    run_children(names, lambda name: [sys.executable, __file__, "--repo", args.repo, "--child", name,
                                      "--repeats", str(args.repeats)], args.timeout, args.json)


def run_children(names: list[str], command, timeout: float, json_path: str | None, timed_out=None) -> list[dict]:
    """Each kernel in a child process of its own (`command(name)`, a fresh
    looptrace cache each) whose last stdout line is its row; a row per kernel
    printed as it ends, then the summary. `timed_out(name, stdout)`: the row
    of a child past `timeout` (default: timeout on both backends)."""
    rows = []
    for name in names:
        env = dict(os.environ, LOOPTRACE_CACHE_DIR=tempfile.mkdtemp())
        try:
            done = subprocess.run(command(name), capture_output=True, text=True, timeout=timeout, env=env)
            lines = done.stdout.strip().splitlines()
            row = json.loads(lines[-1]) if done.returncode == 0 and lines else \
                {"name": name, "interpret": "crash", "cpu": "crash",
                 "cpu_detail": (done.stderr.strip().splitlines() or ["no output"])[-1][:160],
                 "cpu_trace": done.stderr[-4000:]}
        except subprocess.TimeoutExpired as e:
            row = timed_out(name, e.stdout) if timed_out is not None else \
                {"name": name, "interpret": "timeout", "cpu": "timeout"}
        rows.append(row)
        print(_line(row), flush=True)
    _summary(rows)
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=1))
    return rows


def _line(row: dict) -> str:
    if "skipped" in row:
        return f"| {row['name']} | skipped: {row['skipped']} | | | |"
    ratio = f"{row['plain_s'] / row['looptrace_s']:.2f}×" if row.get("looptrace_s") else ""
    detail = row.get("cpu_detail") or row.get("interpret_detail") or ""
    return f"| {row['name']} | {row['interpret']} | {row['cpu']} | {ratio} | {detail[:110]} |"


def _summary(rows: list[dict]) -> None:
    judged = [r for r in rows if "skipped" not in r]
    for backend in ("interpret", "cpu"):
        kinds = [r[backend] for r in judged]
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in ("ok", "error", "crash", "wrong", "timeout"))
        print(f"- {backend}: {counts} of {len(judged)}")
    ratios = [r["plain_s"] / r["looptrace_s"] for r in judged if r.get("looptrace_s")]
    if ratios:
        import math
        geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        print(f"- cpu vs plain (ok ones): geometric mean {geo:.2f}×, {sum(x < 1.0 for x in ratios)} below 1.0×")


if __name__ == "__main__":
    main()
