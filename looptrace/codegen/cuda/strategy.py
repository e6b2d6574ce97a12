"""The strategy of each top-level loop (placeholder: host-driven)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScanPlan:
    kind: str  # "single" | "coop" | "host"
    reason: str = ""


def choose(em, op) -> ScanPlan:
    return ScanPlan("host", "")
