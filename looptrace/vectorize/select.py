"""If-conversion: a `cond` in a loop body whose branches are pure becomes
both branches plus `select`s (filled in below)."""
from __future__ import annotations

from looptrace.ir.core import Op


def if_convert(loop: Op, n: int, start: int, step: int) -> None:
    return None
