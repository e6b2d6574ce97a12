"""Which corpus kernels change when the CPU threading threshold changes, and
what that does to their speed.

For every corpus kernel that runs on the cpu backend, the kernel source is
generated under two values of `emitter.PARALLEL_MIN_WORK` (element-ops above
which a loop nest runs under prange). Kernels whose source differs are then
compiled under both values in this one process and timed round-robin with
the plain function (bench/_timing.py `compare`), so the two variants see the
same machine. Ratios above 1 mean the second value is faster.

    PYTHONPATH=. python bench/threshold_ab.py [--old 1048576] [--new 524288] [--repeats 15] [--only a,b]

Numbers are of one run on one machine; rerun before trusting a small ratio.
"""
from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import looptrace  # noqa: E402
import looptrace.codegen.cpu.emitter as emitter  # noqa: E402
from bench._variants import corpus_ab  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--old", type=int, default=1 << 20)
    p.add_argument("--new", type=int, default=emitter.PARALLEL_MIN_WORK)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--only", default="")
    opts = p.parse_args()
    os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="lt_ab_"))
    print(f"PARALLEL_MIN_WORK old={opts.old} new={opts.new}")

    def build(kernel, args, variant: str):
        emitter.PARALLEL_MIN_WORK = opts.old if variant == "old" else opts.new
        f = looptrace.jit(kernel.fn, backend="cpu")
        return f, f.explain(*copy.deepcopy(args)).kernel_source or ""

    corpus_ab(build, ("old", "new"), opts.repeats, set(filter(None, opts.only.split(","))))


if __name__ == "__main__":
    main()
