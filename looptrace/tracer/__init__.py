"""The tracer: convert a user function's loops, run it once on tracers, and
collect the IR (see DESIGN.md, "Capturing loops")."""
from . import methods as _methods  # noqa: F401  (installs Tracer operators)
