"""s51, cuda backend: fewer launches, more loops as one thread per iteration.

- iterations.py `thread_rows`: a loop nested in an iteration whose rows are
  folded (`acc += f(x[i, k])` with a `while` in f: a stacked row and a sum
  after the loop), picked (its last value read after it) or mapped on the
  way, runs in the thread with registers, no row stored;
- the lowest failing iteration's error is the call's (the cpu's), whatever
  the order in time the threads fail in (module.py `report_first`);
- maps over one shape in one kernel, writes into one buffer in one kernel,
  and writes into a constant of one value in one kernel with it
  (planning/fusion.py groups on cuda: nest.py, rules/indexing.py);
- a scan's input map computed in the scan's loop (fused_scan_inputs);
- a scalar select's costly operand computed on its branch only, in a kernel
  (lazy_selects).
Values under the simulator against the plain function (values, dtypes, the
argument arrays after the call); types and lowering by compiling the
kernels to sm_90 PTX (the simulator checks neither)."""
import math

import numpy as np
import pytest

import looptrace as lt
from bench.corpus.physics import ising_metropolis
from looptrace.codegen.cuda import ptxinfo
from tests.codegen.cuda.test_cuda_target_ptx import compile_all

from _cuda_support import assert_like_plain, cuda_backend

ITERATIONS = "GPU: one thread per iteration"


@pytest.fixture(autouse=True)
def _cuda():
    cuda_backend()


def row_stats(x, w):
    """Per row: a sum scaled by a scalar known before the nested loop, a max, a count of
    a test, the nested loop's last value; float32 rows and float64 folds."""
    n, m = x.shape
    s = np.empty(n, dtype=x.dtype)
    mx = np.empty(n)
    cnt = np.zeros(n, dtype=np.int64)
    last = np.empty(n, dtype=x.dtype)
    for i in range(n):
        a = w * 2.0
        acc = 0.0
        best = -np.inf
        c = 0
        t = x[i, 0]
        for k in range(m):
            t = x[i, k]
            while t > 1.0:
                t = t / 2.0
            acc += t * t * a
            best = max(best, t)
            c += t > 0.5
        s[i] = acc
        mx[i] = best
        cnt[i] = c
        last[i] = t + 1.0
    return s, mx, cnt, last


def late_failure(a, idx, reps):
    """Iteration i spins reps[i] times, then reads a[idx[i] + k] (IndexError) and takes a
    square root (ValueError where negative)."""
    out = np.empty(idx.shape[0])
    for i in range(idx.shape[0]):
        v = 0.0
        k = 0
        while k < reps[i]:
            v += 0.5
            k += 1
        out[i] = math.sqrt(a[idx[i] + k] + v)
    return out


def maps_and_writes(x, y):
    """Three maps over one shape (one kernel); writes of two columns into zeros (one kernel
    with the zeros); two pieces into a buffer made before (one kernel for both); rows into
    zeros (one kernel with the zeros). 6 launches (exp(x) and the product are one each), 12
    before s51."""
    n = x.shape[0]
    b = x * 2.0 + y
    c = np.sin(x) - y
    d = (x > y).astype(np.int32)
    out = np.zeros((n, 3), dtype=np.float32)
    out[:, 0] = b
    out[:, 2] = c
    pieces = np.exp(x)[:, None] * np.ones((n, 2))
    pieces[:, 0] = y
    pieces[:, 1] = b * c
    inner = np.zeros_like(pieces)
    inner[1:-1] = pieces[2:] - pieces[:-2]  # a write with one start (the rows) into zeros
    return b, c, d, out, pieces, inner


def ewma(x, alpha):
    """A scalar linear recurrence whose input map `alpha * x[t]` is computed in the scan's
    own loop (planning/fusion.py `_inline_into_scans` on cuda): one launch, not two."""
    out = np.empty_like(x)
    h = 0.0
    for t in range(x.shape[0]):
        h = alpha * x[t] + (1 - alpha) * h
        out[t] = h
    return out


def _reasons(jitted, args) -> str:
    return " | ".join(l.reason for l in jitted.explain(*args).loops)


def _launches(jitted, args) -> int:
    return jitted.explain(*args).kernel_source.count("rt.launch")


def test_nested_rows_folded_and_picked_in_the_thread(rng):
    jitted = lt.jit(row_stats, backend="cuda")
    for args in [(rng.uniform(0, 9, (5, 4)).astype(np.float32), 0.75), (rng.uniform(0, 3, (3, 1)), -1.5)]:
        assert_like_plain(row_stats, args, jitted, rtol=1e-5)
        assert f"{ITERATIONS} ({args[0].shape[0]} iterations" in _reasons(jitted, args)
        assert _launches(jitted, args) == 1


def test_the_lowest_failing_iteration_is_reported(rng):
    a = rng.uniform(1, 2, 10)
    jitted = lt.jit(late_failure, backend="cuda")
    assert_like_plain(late_failure, (a, rng.integers(0, 5, 8), np.zeros(8, np.int64)), jitted)
    assert ITERATIONS in _reasons(jitted, (a, np.zeros(8, np.int64), np.zeros(8, np.int64)))
    # iteration 2 spins, then reads past the end; 3 and 6 fail at once (in time, first): the
    # plain function raises iteration 2's error, and so must every call
    reps = np.array([0, 0, 300, 0, 0, 0, 0, 0])
    bad = a.copy()
    bad[5] = -4.0
    idx = np.array([0, 1, 0, 5, 2, 3, 40, 4])
    with pytest.raises(IndexError) as plain:
        late_failure(bad, idx, reps)
    for _ in range(2):
        with pytest.raises(IndexError) as got:
            jitted(bad, idx, reps)
        assert str(plain.value) in str(got.value)
    reps[2] = 0  # now iteration 3's square root of -4 is the first failure
    idx[2] = 1
    with pytest.raises(ValueError) as plain:
        late_failure(bad, idx, reps)
    with pytest.raises(ValueError) as got:
        jitted(bad, idx, reps)
    assert str(plain.value) == str(got.value)


def test_maps_and_writes_share_kernels(rng):
    args = (rng.normal(size=6), rng.normal(size=6))
    jitted = lt.jit(maps_and_writes, backend="cuda")
    assert_like_plain(maps_and_writes, args, jitted, rtol=1e-6)
    assert _launches(jitted, args) == 6, jitted.explain(*args).kernel_source.split("def host")[1]


def test_scan_input_maps_computed_in_the_scan(monkeypatch, rng):
    args = (rng.normal(size=20).astype(np.float32), 0.3)
    jitted = lt.jit(ewma, backend="cuda")
    assert_like_plain(ewma, args, jitted, rtol=1e-5)
    assert _launches(jitted, args) == 1
    monkeypatch.setenv("LOOPTRACE_CUDA_CHUNKED_SCAN_MIN", "4")  # the chunked scan: the map in its copy
    jitted = lt.jit(ewma, backend="cuda")
    assert_like_plain(ewma, args, jitted, rtol=1e-5)
    assert "chunked parallel prefix scan" in _reasons(jitted, args)


def test_a_select_runs_its_costly_operand_on_its_branch_only(rng):
    """`if de <= 0.0 or r < math.exp(-beta * de)` in a persistent kernel: the exp on the
    else branch (planning/fusion.py `_lazy_selects` on cuda, nest.py `_lazy_select`)."""
    args = (rng.choice([-1.0, 1.0], (4, 5)), 0.4, rng.uniform(size=(4, 5)))
    jitted = lt.jit(ising_metropolis, backend="cuda")
    assert_like_plain(ising_metropolis, args, jitted)
    kernel = jitted.explain(*args).kernel_source.split("def scan", 1)[1].split("def host")[0]
    lines = [l.strip() for l in kernel.splitlines()]
    at = [k for k, l in enumerate(lines) if "math.exp(" in l]
    assert at and all(lines[k - 1] == "else:" for k in at), at


def test_s51_kernels_compile_to_ptx(ptx_ok, rng):
    """Types and lowering (registers folds and picks, the failure record in shared memory
    and report_first's lock, the groups' branches): sm_90 PTX, no spills."""
    cases = {"row_stats": (row_stats, (rng.uniform(0, 9, (5, 4)).astype(np.float32), 0.75)),
             "late_failure": (late_failure, (rng.uniform(1, 2, 10), rng.integers(0, 5, 8), np.zeros(8, np.int64))),
             "maps_and_writes": (maps_and_writes, (rng.normal(size=6), rng.normal(size=6))),
             "ewma": (ewma, (rng.normal(size=20), 0.3)),
             "ising_metropolis": (ising_metropolis, (rng.choice([-1.0, 1.0], (4, 5)), 0.4, rng.uniform(size=(4, 5))))}
    for name, (fn, args) in cases.items():
        program = lt.jit(fn, backend="interpret").explain(*args).program
        ptx = compile_all(program, name)
        assert ptx, name
        for kname, text in ptx.items():
            res = ptxinfo.resources(text)
            assert not res.spills, (name, kname, res)
            print(name, kname, "registers", res.registers, "stack", res.stack_bytes)
        if name == "late_failure":
            assert any("atom.global.cas.b64" in t and "atom.global.exch.b64" in t and "atom.shared" in t for t in ptx.values())
