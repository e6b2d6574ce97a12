"""Reading generated CPU kernels in tests: the kernel's body, its innermost
loop, and a compiled run checked against the plain function."""
from __future__ import annotations

import re

import numpy as np

import looptrace


def kernel_body(src: str) -> str:
    """The source after `def kernel` (the helpers and imports above it left out)."""
    return src.split("def kernel", 1)[1]


def innermost_loop(src: str) -> list[str]:
    """The lines of the last, innermost `for` of the kernel."""
    lines = kernel_body(src).splitlines()
    at = max(k for k, ln in enumerate(lines) if ln.lstrip().startswith("for "))
    return _block_after(lines, at)


def loop_body(src: str, header: str) -> list[str]:
    """The lines of the kernel's first loop whose header line matches the regex `header`."""
    lines = kernel_body(src).splitlines()
    at = next(k for k, ln in enumerate(lines) if ln.lstrip().startswith("for ") and re.search(header, ln))
    return _block_after(lines, at)


def _block_after(lines: list[str], at: int) -> list[str]:
    """The lines indented under line `at`."""
    depth = len(lines[at]) - len(lines[at].lstrip())
    body = []
    for ln in lines[at + 1:]:
        if ln.strip() and len(ln) - len(ln.lstrip()) <= depth:
            break
        body.append(ln)
    return body


def checked_kernel(fn, args) -> str:
    """Run fn plain and compiled (cpu) on copies of args, compare every
    result, and return the compiled kernel's body."""
    want = fn(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    jf = looptrace.jit(fn)
    got = jf(*[a.copy() if isinstance(a, np.ndarray) else a for a in args])
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
    return kernel_body(jf.explain(*args).kernel_source)
