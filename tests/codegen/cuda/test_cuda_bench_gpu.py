"""bench/bench_gpu.py in its dry-run mode (the simulator, tiny sizes): the script runs, every
competitor present here matches the plain function (backend="cuda" included), the missing ones are
skipped with a reason.
Speed is never looked at here."""
import pytest

from _cuda_support import require_cuda


# linear_recurrence and rnn_taps_grad with -m slow (6.7 and 7.2 s in session 54's CI): scalar_recurrence
# runs the script's dry-run path by default, and their cuda kernels are tested by test_cuda_linear_scan.py
# and test_cuda_splitk.py (test_rnn_taps_split, test_gradient_through_split_scans)
@pytest.mark.parametrize("workload", ["scalar_recurrence", pytest.param("linear_recurrence", marks=pytest.mark.slow),
                                      pytest.param("rnn_taps_grad", marks=pytest.mark.slow)])
def test_dry_run_workload(workload):
    require_cuda()
    from bench import bench_gpu
    from bench import gpu_competitors as gc

    info = bench_gpu.run_workload(workload, gc.make_env("sim"), dry=True, repeats=1)
    ran = {k: r for k, r in info.items() if "skipped" not in r}
    assert "persistent" in ran or "chunked scan" in ran
    for label, r in ran.items():
        assert r["matches"], f"{label} does not match the plain function"
        assert r["median_s"] > 0
    assert "looptrace cuda" in ran, info["looptrace cuda"]
    for r in info.values():
        if "skipped" in r:
            assert not r["skipped"].startswith("failed"), r["skipped"]
