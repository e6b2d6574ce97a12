"""Jitted functions a Dask worker imports by reference (pickled by name)."""
import numpy as np

import looptrace as lt


@lt.jit(backend="cpu")
def smooth_block(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        y = 0.0
        for t in range(x.shape[1]):
            y = 0.7 * y + x[i, t]
            out[i, t] = y
    return out


def smooth_plain(x):
    return smooth_block.py_func(x)


@lt.jit(backend="cpu")
def sequence_energy(seq, w):
    h = 0.0
    for t in range(seq.shape[0]):
        h = np.tanh(w * h + seq[t])
    return h


def kernel_stats():
    """(cache hits, cache misses) of this worker's compiled kernels."""
    hits = misses = 0
    for f in (smooth_block, sequence_energy):
        for compiled in f._cache.values():
            stats = compiled.run.kernel.stats
            hits += sum(stats.cache_hits.values())
            misses += sum(stats.cache_misses.values())
    return hits, misses
