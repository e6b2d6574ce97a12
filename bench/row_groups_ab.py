"""Which corpus kernels change when row groups are switched off, and what
that does to their speed and compile time.

Row groups (codegen/cpu/nest.py `_row_group`) run the roots over one leading
axis that read each other only in their own row in one loop over the rows.
For every corpus kernel that runs on the cpu backend, the kernel source is
generated with them (default) and without (LOOPTRACE_NO_ROW_GROUPS=1);
kernels whose source differs are compiled both ways in this one process and
timed round-robin with the plain function (bench/_timing.py `compare`), so
the two variants see the same machine. off/on above 1 means row groups are
faster. Compile times are of each variant's first call (the first kernel of
the process also pays Numba's start: read them as rough).

    PYTHONPATH=. python bench/row_groups_ab.py [--repeats 15] [--only a,b]

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
from bench._variants import corpus_ab  # noqa: E402

SWITCH = "LOOPTRACE_NO_ROW_GROUPS"


def build(kernel, args, variant: str):
    """"old": row groups off, "new": on (the kernel's source is made now)."""
    if variant == "old":
        os.environ[SWITCH] = "1"
    try:
        f = looptrace.jit(kernel.fn, backend="cpu")
        return f, f.explain(*copy.deepcopy(args)).kernel_source or ""
    finally:
        os.environ.pop(SWITCH, None)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--only", default="")
    opts = p.parse_args()
    os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp(prefix="lt_rows_"))
    corpus_ab(build, ("off", "on"), opts.repeats, set(filter(None, opts.only.split(","))))


if __name__ == "__main__":
    main()
