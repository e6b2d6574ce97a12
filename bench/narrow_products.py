"""Products with a short contracted axis ((n, 3) @ (3,) and the like) against
plain NumPy, with a few large products as the control that must keep BLAS
(codegen/cpu/contract.py `_narrow`). Prints medians of round-robin runs and
whether the kernel still calls BLAS (`dot_into`).

    python bench/narrow_products.py [--repeats 15]
"""
import argparse
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("LOOPTRACE_CACHE_DIR", tempfile.mkdtemp())

import looptrace  # noqa: E402
from bench._timing import compare  # noqa: E402


def matmul(a, b):
    return a @ b


def cases(rng):
    yield "(1000,1000,3)@(3,)", rng.standard_normal((1000, 1000, 3)), rng.standard_normal(3)
    yield "(1e6,3)@(3,3)", rng.standard_normal((1000000, 3)), rng.standard_normal((3, 3))
    yield "(1e6,4)@(4,)", rng.standard_normal((1000000, 4)), rng.standard_normal(4)
    yield "(1e6,2)@(2,8)", rng.standard_normal((1000000, 2)), rng.standard_normal((2, 8))
    yield "(2e5,2)@(2,64)", rng.standard_normal((200000, 2)), rng.standard_normal((2, 64))
    yield ("f4 (1000,1000,3)@(3,)", rng.standard_normal((1000, 1000, 3)).astype(np.float32),
           rng.standard_normal(3).astype(np.float32))
    yield "(8,1e5,3)@(3,)", rng.standard_normal((8, 100000, 3)), rng.standard_normal(3)
    yield "(1e5,8)@(8,)", rng.standard_normal((100000, 8)), rng.standard_normal(8)
    yield "(1e5,16)@(16,)", rng.standard_normal((100000, 16)), rng.standard_normal(16)
    yield "(3,)@(3,1e6)", rng.standard_normal(3), rng.standard_normal((3, 1000000))
    yield "(2000,50)@(50,)", rng.standard_normal((2000, 50)), rng.standard_normal(50)
    yield "(500,500)@(500,500)", rng.standard_normal((500, 500)), rng.standard_normal((500, 500))
    yield "(1e5,50)@(50,)", rng.standard_normal((100000, 50)), rng.standard_normal(50)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--only", default="")
    args = p.parse_args()
    rng = np.random.default_rng(0)
    for name, a, b in cases(rng):
        if args.only and args.only not in name:
            continue
        j = looptrace.jit(matmul, backend="cpu")
        tol = 1e-4 if a.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(j(a, b), matmul(a, b), rtol=tol, atol=tol)
        blas = "dot_into(" in j.explain(a, b).kernel_source
        t = compare({"plain": lambda: matmul(a, b), "lt": lambda: j(a, b)}, repeats=args.repeats)
        print(f"{name:24s} plain {t['plain'] * 1e3:8.3f} ms  lt {t['lt'] * 1e3:8.3f} ms  "
              f"lt/plain {t['lt'] / t['plain']:6.2f}x  {'BLAS' if blas else 'loops'}", flush=True)


if __name__ == "__main__":
    main()
