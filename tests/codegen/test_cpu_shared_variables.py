"""One Python variable for an array updated in place, a loop's carry that
takes over its initial value's memory, a branch's result and a generator after
a draw (codegen/cpu emitter.py `take_name`, `pass_token`; regions.py), and
one buffer for a loop body's temporaries that die within their iteration
(regions.py `reserve_rows`). Numba counts a reference at each assignment of
an array or a generator, and the counts it cannot pair across a loop body's
branches stay in the loop (probe W: grid_inflate 0.50 -> 0.03 ms,
birth_death_walk 0.49 -> 0.14 ms). Values and effects against the plain
function; the kernel's shape so the gain cannot silently fall away."""
from __future__ import annotations

import copy
import re

import numpy as np
import pytest

import looptrace as lt

from .kernel_text import kernel_body, loop_body

REBIND = re.compile(r"^\s+v\d+ = v\d+\s*$")  # an array or generator bound to another variable


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def _same(fn, args, backends=("interpret", "cpu")):
    want_args = copy.deepcopy(args)
    want = fn(*want_args)
    for backend in backends:
        got_args = copy.deepcopy(args)
        got = lt.jit(fn, backend=backend)(*got_args)
        for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
            np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
        for w, g in zip(want_args, got_args):
            if isinstance(w, np.random.Generator):
                assert g.bit_generator.state == w.bit_generator.state
            else:
                np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def _source(fn, *args) -> str:
    return lt.explain(lt.jit(fn, backend="cpu"), *copy.deepcopy(args)).kernel_source


def grid_inflate(grid):
    n = grid.shape[0]
    occ = grid > 0.7
    out = occ.copy()
    for i in range(n):
        for j in range(n):
            if occ[i, j]:
                for di in range(-1, 2):
                    for dj in range(-1, 2):
                        ii = i + di
                        jj = j + dj
                        if 0 <= ii < n and 0 <= jj < n:
                            out[ii, jj] = True
    return out


def test_guarded_writes_in_nested_loops_keep_one_variable():
    grid = np.random.default_rng(0).random((23, 23))
    _same(grid_inflate, [grid])
    src = _source(grid_inflate, grid)
    assert not [ln for ln in kernel_body(src).splitlines() if REBIND.match(ln)]


def in_place_or_fresh(x, flags):
    acc = x.copy()
    for t in range(flags.shape[0]):
        if flags[t] > 0.5:
            acc[t % acc.shape[0]] += flags[t]
        else:
            acc = acc * 0.5
    return acc, x


def test_branch_updates_in_place_on_one_arm_and_rebinds_on_the_other():
    r = np.random.default_rng(1)
    _same(in_place_or_fresh, [r.random(5), r.random(40)])


def swap_pair(a, b, flags):
    a = a.copy()
    b = b.copy()
    for t in range(flags.shape[0]):
        a[t % a.shape[0]] += 1.0
        if flags[t] > 0.5:
            a, b = b, a
    return a, b


def test_two_carries_swapped_under_a_branch():
    r = np.random.default_rng(2)
    _same(swap_pair, [r.random(4), r.random(4), r.random(25)])


def walk(n0, nmax, rng):
    n = n0
    path = []
    for k in range(nmax):
        if n == 0:
            break
        if rng.uniform() < 0.5:
            n += 1
        else:
            n -= 1
        path.append(n)
    return n, len(path)


def test_generator_drawn_on_a_branch_keeps_its_variable():
    _same(walk, [5, 300, np.random.default_rng(3)])
    src = _source(walk, 5, 300, np.random.default_rng(3))
    loop = re.split(r"\n\s*while .*:\n", src, maxsplit=1)[1]  # (`while True:` or `while test:`)
    drawn = set(re.findall(r"uniform_draw\((v\d+)", loop))
    assert len(drawn) == 1
    assert not [ln for ln in loop.splitlines() if REBIND.match(ln) and drawn & set(re.findall(r"v\d+", ln))]


def two_generators(g, h, c):
    x = 0.0
    for i in range(c.shape[0]):
        if c[i] > 0.5:
            x += g.random()
        else:
            x += h.random()
    return x + g.random() + h.random()


def test_two_generators_drawn_on_different_arms():
    r = np.random.default_rng(4)
    _same(two_generators, [np.random.default_rng(5), np.random.default_rng(6), r.random(30)])


def generator_kept_after_loop(g, n):
    s = 0.0
    h = g
    for i in range(n):
        s += h.normal()
    return s, g.random()


def test_generator_read_after_the_loop_that_draws_from_it():
    _same(generator_kept_after_loop, [np.random.default_rng(7), 12])


def viterbi(obs, A, B, pi):
    T = obs.shape[0]
    K = A.shape[0]
    lA = np.log(A)
    lB = np.log(B)
    delta = np.log(pi) + lB[:, obs[0]]
    back = np.zeros((T, K), dtype=np.int64)
    for t in range(1, T):
        new = np.empty(K)
        for j in range(K):
            best = -np.inf
            bi = 0
            for i in range(K):
                v = delta[i] + lA[i, j]
                if v > best:
                    best = v
                    bi = i
            new[j] = best + lB[j, obs[t]]
            back[t, j] = bi
        delta = new
    path = np.empty(T, dtype=np.int64)
    path[T - 1] = np.argmax(delta)
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path, delta.max()


def test_scan_temporaries_are_allocated_once():
    r = np.random.default_rng(8)
    A = r.random((4, 4))
    A /= A.sum(1, keepdims=True)
    B = r.random((4, 3))
    B /= B.sum(1, keepdims=True)
    args = [r.integers(0, 3, 60), A, B, np.full(4, 0.25)]
    _same(viterbi, args)
    body = loop_body(_source(viterbi, *args), r"range\(60 - 1\)")
    # the (K, K) scores and masks stacked each step: one buffer each, made before the loop;
    # only the new delta, which the next step reads, is allocated per step
    assert sum("alloc(" in ln for ln in body) <= 1, "\n".join(body)


def greedy(bids, reserve):
    nb = bids.shape[0]
    taken = np.zeros(nb, dtype=np.bool_)
    total = 0.0
    for j in np.argsort(-reserve) - reserve.shape[0] // 2:  # indices from the end too
        best = -1
        bv = -np.inf
        for i in range(nb):
            if not taken[i] and bids[i, j] > bv:
                bv = bids[i, j]
                best = i
        if best >= 0:
            taken[best] = True
            total += bv
    return total, taken


def test_clamped_index_from_the_end_is_read_on_its_branch_only():
    r = np.random.default_rng(9)
    _same(greedy, [r.random((6, 30)), r.random(30)])
    src = _source(greedy, r.random((6, 30)), r.random(30))
    inner = loop_body(src, r"range\(6\)")
    # the bids element is read under `not taken[i]` (no check: its index wraps as NumPy's does)
    assert not any("check_start" in ln for ln in inner), "\n".join(inner)


def greedy_out_of_range(bids, order):
    total = 0.0
    for j in order:
        for i in range(bids.shape[0]):
            if bids[i, 0] > 0.5 and bids[i, j] > total:
                total = bids[i, j]
    return total


def test_index_out_of_range_on_a_taken_branch_still_raises():
    bids = np.random.default_rng(10).random((5, 8))
    bids[:, 0] = 1.0
    order = np.array([3, -8, 9, 1])
    with pytest.raises(IndexError):
        greedy_out_of_range(bids, order)
    for backend in ("interpret", "cpu"):
        with pytest.raises(IndexError):
            lt.jit(greedy_out_of_range, backend=backend)(bids, order)
