"""The pipeline: named passes and per-loop steps, the IR dump by name, and one
compile path (and cache) for jit and grad."""
import numpy as np

import looptrace
from looptrace import pipeline


def ema(x, a):
    h = 0.0
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        h = a * h + np.tanh(x[t])
        out[t] = h
    return out


def test_pass_and_step_names_are_unique():
    names = [p.name for p in pipeline.PASSES]
    steps = [s.name for s in pipeline.COUNTED_LOOP_STEPS + pipeline.WHILE_LOOP_STEPS]
    # dead reads get their checks before any pass can drop them (vectorize/dead_reads.py)
    assert len(set(names)) == len(names) and names[:3] == ["dead_reads", "small_vectors", "vectorize"]
    assert len(set(pipeline.COUNTED_LOOP_STEPS)) == len(pipeline.COUNTED_LOOP_STEPS)
    assert "rewrite" in steps and "classify_carries" in steps


def test_dump_names_one_step(monkeypatch, capsys, rng):
    monkeypatch.setenv("LOOPTRACE_DUMP", "vectorize.rewrite")
    looptrace.jit(ema, backend="interpret")(rng.standard_normal(5), 0.5)
    err = capsys.readouterr().err
    assert err.count("--- IR after vectorize.rewrite ---") == 1
    assert "IR after vectorize.simplify" not in err and "IR after linear_scans" not in err
    assert "tanh" in err  # the program is printed


def test_dump_names_passes(monkeypatch, capsys, rng):
    monkeypatch.setenv("LOOPTRACE_DUMP", "trace,linear_scans")
    looptrace.jit(ema, backend="interpret")(rng.standard_normal(5), 0.5)
    err = capsys.readouterr().err
    assert "--- IR after trace ---" in err and "--- IR after linear_scans ---" in err
    assert "IR after vectorize" not in err


def test_run_passes_can_stop_after_a_pass(rng):
    f = looptrace.jit(ema, backend="interpret")
    x = rng.standard_normal(20)
    traced = f.trace([x, 0.5])
    program = pipeline.run_passes(traced, upto="vectorize")
    assert program is traced  # passes rewrite in place and return the program


def test_grad_shares_the_jit_compile_path_and_cache(rng):
    loss = looptrace.jit(lambda x, a: ema(x, a).sum(), backend="interpret")
    x = rng.standard_normal(6)
    np.testing.assert_allclose(loss(x, 0.5), ema(x, 0.5).sum(), rtol=1e-12)
    g = looptrace.grad(loss)(x, 0.5)
    eps = 1e-6
    fd = np.array([(ema(x + eps * e, 0.5).sum() - ema(x - eps * e, 0.5).sum()) / (2 * eps)
                   for e in np.eye(6)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
    kinds = sorted(str(transform) for transform, _ in loss._cache.keys())
    assert kinds == ["('vjp', (0,), None)", "None"]  # one cache: the plain call and the gradient
    looptrace.grad(loss)(x, 0.5)
    assert len(loss._cache) == 2  # the gradient was cached, not compiled again


def test_verify_runs_after_every_step_or_where_the_stages_end(monkeypatch, rng):
    """LOOPTRACE_VERIFY=1 verifies after each pass and per-loop step (tests of the passes);
    =stages after tracing and after the last pass only (the rest of the suite, conftest.py)."""
    seen = []
    monkeypatch.setattr(pipeline, "verify", seen.append)
    x = rng.standard_normal(7)

    def verified(mode, upto=None):
        seen.clear()
        monkeypatch.setenv("LOOPTRACE_VERIFY", mode)
        pipeline.run_passes(looptrace.jit(ema, backend="interpret").trace([x, 0.5]), upto=upto)
        return len(seen)

    assert verified("1") > len(pipeline.PASSES) + len(pipeline.COUNTED_LOOP_STEPS)
    assert verified("stages") == 2
    assert verified("stages", upto="vectorize") == 2  # a run stopped after a pass ends its stage there
