"""Jitted and gradient functions pickle by reference and run in Dask worker
processes; workers on one machine share the disk cache, so each signature
compiles once per machine."""
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import looptrace as lt

from . import _dask_programs as programs

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")


def test_jitted_and_grad_functions_pickle_by_reference(rng):
    again = pickle.loads(pickle.dumps(programs.sequence_energy))
    assert again is programs.sequence_energy
    g = lt.grad(programs.sequence_energy, argnums=1, checkpoint=2, backend="interpret")
    g2 = pickle.loads(pickle.dumps(g))
    seq = rng.standard_normal(12)
    assert np.isclose(g2(seq, 0.3), g(seq, 0.3))
    vg = pickle.loads(pickle.dumps(lt.value_and_grad(programs.sequence_energy, argnums=1, backend="interpret")))
    assert np.isclose(vg(seq, 0.3)[0], programs.sequence_energy.py_func(seq, 0.3))
    assert b"JitFunction" not in pickle.dumps(programs.smooth_block)  # no compiled state travels


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """Two worker processes sharing one fresh kernel cache; they import the
    test programs (and this looptrace) through PYTHONPATH."""
    cache = tmp_path_factory.mktemp("dask_kernels")
    tests_dir = Path(programs.__file__).parent.parent
    root = Path(lt.__file__).parent.parent
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "LOOPTRACE_CACHE_DIR")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), str(tests_dir), saved["PYTHONPATH"]]))
    os.environ["LOOPTRACE_CACHE_DIR"] = str(cache)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       worker_dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def test_map_blocks_over_a_dask_array_in_worker_processes(client, rng):
    x = rng.standard_normal((8, 30))
    lazy = da.from_array(x, chunks=(2, 30)).map_blocks(programs.smooth_block, dtype=x.dtype)
    np.testing.assert_allclose(lazy.compute(), programs.smooth_plain(x), rtol=1e-12)
    # every worker that ran a block holds the compiled kernel; one signature compiled once per machine
    per_worker = client.run(programs.kernel_stats)
    misses = sum(m for _, m in per_worker.values())
    assert misses == 1, per_worker


def test_map_over_a_batch_of_sequences(client, rng):
    seqs = [rng.standard_normal(40) for _ in range(6)]
    futures = client.map(programs.sequence_energy, seqs, [0.5] * len(seqs))
    got = client.gather(futures)
    want = [programs.sequence_energy.py_func(s, 0.5) for s in seqs]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    g = lt.grad(programs.sequence_energy, argnums=1, backend="interpret")
    grads = client.gather(client.map(g, seqs, [0.5] * len(seqs)))
    np.testing.assert_allclose(grads, [g(s, 0.5) for s in seqs], rtol=1e-9)
