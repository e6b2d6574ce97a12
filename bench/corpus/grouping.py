"""Grouping: sums and means per label, the ways people write them."""
import numpy as np

from . import Kernel, error


def group_sum(values, labels, n_groups):
    """Sums per label into an array sized by the caller's group count."""
    sums = np.zeros(n_groups)
    for i in range(values.shape[0]):
        sums[labels[i]] += values[i]
    return sums


def group_mean_into(values, labels, sums, counts):
    """Accumulate into arrays the caller passed in (written in place)."""
    for i in range(values.shape[0]):
        g = labels[i]
        sums[g] += values[i]
        counts[g] += 1
    return sums / np.maximum(counts, 1)


def group_max(values, labels, out):
    """Per-label maxima into a caller's array initialised to -inf."""
    for i in range(values.shape[0]):
        g = labels[i]
        if values[i] > out[g]:
            out[g] = values[i]
    return out


def group_onehot(values, labels, groups):
    """The vectorized way: a one-hot matrix and a product."""
    onehot = (labels[:, None] == groups[None, :]).astype(values.dtype)
    return values @ onehot, onehot.sum(axis=0)


def _groups(r, m, k=16):
    n = 60 if m == "test" else 200_000
    return r.standard_normal(n), r.integers(0, k, n)


KERNELS = [
    Kernel("group_sum", group_sum, lambda r, m: (*_groups(r, m), 16), "loop", "grouping"),
    Kernel("group_mean_into", group_mean_into, lambda r, m: (*_groups(r, m), np.zeros(16), np.zeros(16)), "loop",
           "grouping"),
    Kernel("group_max", group_max, lambda r, m: (*_groups(r, m), np.full(16, -np.inf)), "loop", "grouping"),
    Kernel("group_onehot", group_onehot, lambda r, m: (*_groups(r, m), np.arange(16)), "array", "grouping"),
]
