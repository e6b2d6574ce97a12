"""The compiler pipeline, in order. Each pass is Program -> Program and can be
tested alone; set LOOPTRACE_DUMP=<pass name> (or "all") to print the IR after
it, and LOOPTRACE_VERIFY=1 to run the verifier after every pass (tests do)."""
from __future__ import annotations

import os
import sys
from typing import Callable

from looptrace.ir.core import Program
from looptrace.ir.printer import print_program
from looptrace.ir.verify import verify

# (name, pass); later stages register theirs here (vectorize, dce, ...).
PASSES: list[tuple[str, Callable[[Program], Program]]] = []


def run_passes(program: Program, upto: str | None = None) -> Program:
    _after("trace", program)
    for name, fn in PASSES:
        program = fn(program)
        _after(name, program)
        if name == upto:
            break
    return program


def _after(name: str, program: Program) -> None:
    if os.environ.get("LOOPTRACE_VERIFY"):
        verify(program)
    dump = os.environ.get("LOOPTRACE_DUMP", "")
    if dump and (dump == "all" or name in dump.split(",")):
        print(f"--- IR after {name} ---\n{print_program(program)}", file=sys.stderr)
