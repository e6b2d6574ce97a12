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
    before, so no case always runs first (or right after the same one).
    `warmup` untimed rounds run first (JIT compilation, caches).
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    names = list(cases)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(warmup + repeats):
        for name in _rotated(names, round_index):
            elapsed = _time_once(cases[name])
            if round_index >= warmup:
                samples[name].append(elapsed)
    return {name: statistics.median(samples[name]) for name in names}


def _rotated(names: list[str], shift: int) -> list[str]:
    if not names:
        return names
    shift %= len(names)
    return names[shift:] + names[:shift]


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
