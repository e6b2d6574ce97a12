"""The CPU target object; the rule modules of this folder register into it."""
from looptrace.codegen.target import Target

TARGET = Target("cpu", capabilities=frozenset({"parallel", "blas", "disk_cache", "unit_reshape_reads",
                                               "fused_gathers", "slice_reads", "fused_scan_inputs",
                                               "lazy_selects"}))
