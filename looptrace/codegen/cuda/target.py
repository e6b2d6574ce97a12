"""The cuda target object; the rule modules of codegen/cuda/rules/ register into it."""
from looptrace.codegen.target import Target

TARGET = Target("cuda", capabilities=frozenset({"parallel", "device_memory", "persistent_scans",
                                                 "fused_gathers", "unit_reshape_reads", "slice_reads",
                                                 "fused_scan_inputs", "lazy_selects"}))
