"""Timing helpers for the benchmarks: interleaved runs, medians, ratio tables.

`compare` times several zero-argument callables round-robin, so that drift
in the machine (frequency scaling, other load) falls on all of them alike,
and returns each one's median time. `print_table` prints medians and their
ratio to a named baseline, one table row per (workload, case), and can write
the same numbers as JSON. Ratios are only meaningful within one run on one
machine: never compare numbers taken on different runs.
"""

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable


def compare(
    cases: dict[str, Callable[[], object]], repeats: int = 20, warmup: int = 2
) -> dict[str, float]:
    """Median seconds per call for each case, timed round-robin.

    Each round calls every case once, starting one case later than the round
    before; after a full turn of starting points the order is reversed, so
    that over every 2 * len(cases) rounds each case follows each other case
    equally often. (With the forward turn alone, of [plain, looptrace,
    numba] looptrace followed the plain function in 2 rounds of 3 and
    numba in 1: a kernel timed right after a slow Python function finds
    its data and the call path's objects out of the caches, tens of
    microseconds on a 100 us kernel, bench/README.md, twenty-fourth
    session.) `warmup` untimed rounds run first (JIT compilation, caches).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(-warmup, repeats):
        for name in _round_order(names, max(round_index, 0)):
            elapsed = _time_once(cases[name])
            if round_index >= 0:
                samples[name].append(elapsed)
    return {name: statistics.median(samples[name]) for name in names}


def whole_turns(repeats: int, n_cases: int) -> int:
    """`repeats` rounded up to whole double turns of `n_cases` cases (above 1).

    Only over whole double turns does each case follow each other case
    equally often. Cut short, one case follows the slow one (the plain
    function) once more than another: of [plain, looptrace, numba] over 7
    rounds looptrace came right after the plain function 4 times and numba
    3, and with a call after a slow one 2-3x slower than back to back, the
    median of 7 was one of looptrace's cold calls against one of numba's
    warm ones (pi_monte_carlo 110 against 43-58 us for kernels that run
    equally fast in either order, bench/call_cost.py). One round stays one.
    """
    if repeats <= 1 or n_cases <= 1:
        return max(repeats, 1)
    turn = 2 * n_cases
    return -(-repeats // turn) * turn


def _round_order(names: list[str], round_index: int) -> list[str]:
    """The order of timed round `round_index`: `names` rotated, forwards in
    the first turn of len(names) rounds, reversed in the next, and so on."""
    if not names:
        return names
    turn, shift = divmod(round_index, len(names))
    order = names if turn % 2 == 0 else names[::-1]
    return order[shift:] + order[:shift]


def _time_once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def print_table(
    rows: dict[str, dict[str, float]],
    baseline: str,
    json_path: str | os.PathLike | None = None,
) -> None:
    """Print medians and ratios to `baseline`; optionally write them as JSON.

    `rows` maps a workload name to the medians `compare` returned for it.
    The ratio is median / baseline median (above 1: slower than the
    baseline); it is left blank for a workload without the baseline case.
    """
    lines = [f"{'workload':20s} {'case':16s} {'median':>12s} {'vs ' + baseline:>12s}"]
    for workload, medians in rows.items():
        for case, median in medians.items():
            ratio = _ratio(medians, case, baseline)
            ratio_text = f"{ratio:11.2f}x" if ratio is not None else ""
            lines.append(
                f"{workload:20s} {case:16s} {_format_seconds(median):>12s} {ratio_text:>12s}"
            )
    print("\n".join(lines))
    if json_path is not None:
        _write_json(rows, baseline, Path(json_path))


def _ratio(medians: dict[str, float], case: str, baseline: str) -> float | None:
    reference = medians.get(baseline)
    if not reference:
        return None
    return medians[case] / reference


def _format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3f} {unit}"
    return f"{seconds / 1e-9:.1f} ns"


def _write_json(rows: dict[str, dict[str, float]], baseline: str, path: Path) -> None:
    report = {
        "baseline": baseline,
        "machine": _machine(),
        "rows": {
            workload: {
                case: {"median_s": median, "ratio": _ratio(medians, case, baseline)}
                for case, median in medians.items()
            }
            for workload, medians in rows.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")


def _machine() -> dict[str, object]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
