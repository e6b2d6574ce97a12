"""Trace + passes time of a loop that must be unrolled, against its length,
for one or more checkouts side by side (fresh processes, rounds alternating
the trees). The loop takes four order statistics of a window whose stop may
be negative (`x[max(0, i - k):i - 1]`), so tracing unrolls it: every
iteration adds its ops to one block, and a pass that is quadratic in the
block's ops shows here (vectorize/sink.py was, before 7577951). The time is
the first interpret call (trace, passes, one run); values are checked
against the plain function.

    python bench/unrolled_passes.py [--trees /tmp/old,/work/main] [--n 8,16,24,32] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import sys, time, warnings, numpy as np
import looptrace

def nan_forms(x, k):
    out = np.empty((x.shape[0], 4))
    for i in range(x.shape[0]):
        w = x[max(0, i - k):i - 1]
        out[i, 0] = np.nanmedian(w)
        out[i, 1] = np.nanpercentile(w, 30)
        out[i, 2] = np.nanquantile(w, 0.7)
        out[i, 3] = np.median(w)
    return out

n = int(sys.argv[1])
x = np.random.default_rng(n).standard_normal(n)
with warnings.catch_warnings(), np.errstate(all="ignore"):
    warnings.simplefilter("ignore")
    t = time.perf_counter(); got = looptrace.jit(nan_forms, backend="interpret")(x, 5); dt = time.perf_counter() - t
    assert np.allclose(got, nan_forms(x, 5), equal_nan=True)
print(dt)
"""


def sample(script: str, tree: str, n: int) -> float:
    out = subprocess.run([sys.executable, script, str(n)], cwd=tree, capture_output=True, text=True,
                         env={"PYTHONPATH": tree, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())}, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trees", default=str(ROOT))
    ap.add_argument("--n", default="8,16,24,32")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    trees = a.trees.split(",")
    # (a file: looptrace reads the function's source, which `python -c` has not)
    script = Path(tempfile.mkdtemp()) / "unrolled_child.py"
    script.write_text(CHILD)
    for n in map(int, a.n.split(",")):
        times = {t: [] for t in trees}
        for r in range(a.rounds):
            for t in trees if r % 2 == 0 else trees[::-1]:
                times[t].append(sample(str(script), t, n))
        print(f"n={n:3d}  " + "  ".join(f"{t}: {statistics.median(v):6.2f} s" for t, v in times.items()), flush=True)


if __name__ == "__main__":
    main()
