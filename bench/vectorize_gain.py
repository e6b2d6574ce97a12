"""The vectorizer's own gain: each seed workload on the interpret backend
(the NumPy reference interpreter) with the vectorize pass off and on.

Both versions run the same interpreter, so the ratio is what hoisting,
batching and folding buy independent of code generation. Timings are
interleaved medians (`_timing.compare`); "off" is the baseline, so a ratio
below 1 means the vectorized program is faster.

    python bench/vectorize_gain.py [--repeats 15] [--json bench/results/vectorize_gain.json]
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _timing import compare, print_table

import looptrace
from looptrace.examples import PROGRAMS


def compiled(fn, args, vectorize: bool):
    """A jitted function compiled (on its first call) with the pass on or off."""
    jf = looptrace.jit(fn, backend="interpret")
    old = os.environ.pop("LOOPTRACE_NO_VECTORIZE", None)
    if not vectorize:
        os.environ["LOOPTRACE_NO_VECTORIZE"] = "1"
    try:
        jf(*args)
    finally:
        os.environ.pop("LOOPTRACE_NO_VECTORIZE", None)
        if old is not None:
            os.environ["LOOPTRACE_NO_VECTORIZE"] = old
    return jf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", default=None)
    opts = parser.parse_args()
    rows = {}
    for name, entry in PROGRAMS.items():
        args = entry["make_args"](np.random.default_rng(0))
        off = compiled(entry["fn"], args, vectorize=False)
        on = compiled(entry["fn"], args, vectorize=True)
        check = [entry["make_args"](np.random.default_rng(1)) for _ in range(2)]
        np.testing.assert_allclose(np.asarray(on(*check[0])), np.asarray(entry["fn"](*check[1])), rtol=1e-9)
        cases = {"off": lambda f=off, a=args: f(*a), "on": lambda f=on, a=args: f(*a)}
        rows[name] = compare(cases, repeats=opts.repeats)
    print_table(rows, baseline="off", json_path=opts.json)


if __name__ == "__main__":
    main()
