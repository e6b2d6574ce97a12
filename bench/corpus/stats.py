"""Statistics: Welford, z-scores, quantiles per column, histograms, masked means, covariance, bootstrap."""
import numpy as np

from . import Kernel, error


def welford(x):
    """Running mean and variance in one pass."""
    mean = 0.0
    m2 = 0.0
    for i in range(x.shape[0]):
        d = x[i] - mean
        mean += d / (i + 1)
        m2 += d * (x[i] - mean)
    return mean, m2 / (x.shape[0] - 1)


def zscore_clip(X):
    mu = X.mean(axis=0)
    sd = X.std(axis=0, ddof=1)
    return np.clip((X - mu) / sd, -3.0, 3.0)


def column_quantiles(X):
    return np.median(X, axis=0), np.percentile(X, [5, 95], axis=0), np.var(X, axis=0, ddof=1)


def histogram_loop(x, lo, hi, nbins):
    """Counts per bin, with the bin computed by int()."""
    hist = np.zeros(nbins, dtype=np.int64)
    width = (hi - lo) / nbins
    for i in range(x.shape[0]):
        b = int((x[i] - lo) / width)
        if 0 <= b < nbins:
            hist[b] += 1
    return hist


def histogram_numpy(x):
    counts, edges = np.histogram(x, bins=32, range=(-4.0, 4.0))
    return counts, edges


def histogram_fixed(x, lo, hi):
    """A fixed number of bins into a preallocated array, the bin by floor division."""
    hist = np.zeros(32)
    width = (hi - lo) / 32
    for i in range(x.shape[0]):
        b = np.int64(np.floor((x[i] - lo) / width))
        if b >= 0 and b < 32:
            hist[b] += 1.0
    return hist


def masked_group_stats(x, y):
    """Mean and spread of x where y is positive, and where it is not."""
    pos = x[y > 0]
    neg = x[y <= 0]
    return pos.mean(), pos.std(), neg.mean(), np.count_nonzero(y > 0)


def covariance_loops(X):
    n, d = X.shape
    mean = np.zeros(d)
    for j in range(d):
        for i in range(n):
            mean[j] += X[i, j]
        mean[j] /= n
    cov = np.zeros((d, d))
    for a in range(d):
        for b in range(d):
            s = 0.0
            for i in range(n):
                s += (X[i, a] - mean[a]) * (X[i, b] - mean[b])
            cov[a, b] = s / (n - 1)
    return cov


def bootstrap_means(x, idx):
    """Means of resamples, one resample (a row of indices) at a time."""
    out = np.empty(idx.shape[0])
    for b in range(idx.shape[0]):
        out[b] = x[idx[b]].mean()
    return out


def conditional_sums(x, t):
    """Counting and summing above a threshold, the if-in-a-loop way."""
    s = 0.0
    c = 0
    for i in range(x.shape[0]):
        if x[i] > t:
            s += x[i]
            c += 1
    return s, c


def column_variance(X):
    """The issue's case: a variance over one axis of a 2000 x 2000 array."""
    return X.var(axis=0)


def row_variance(X):
    return np.var(X, axis=1, ddof=1)


def _x(r, m, test=50, bench=1_000_000):
    return r.standard_normal(test if m == "test" else bench)


KERNELS = [
    Kernel("welford", welford, lambda r, m: (_x(r, m, 50, 200_000),), "loop", "statistics", rtol=1e-8),
    Kernel("zscore_clip", zscore_clip, lambda r, m: (r.standard_normal((20, 4) if m == "test" else (2000, 2000)),),
           "array", "statistics"),
    Kernel("column_variance", column_variance,
           lambda r, m: (r.standard_normal((20, 7) if m == "test" else (2000, 2000)),), "array", "statistics"),
    Kernel("row_variance", row_variance,
           lambda r, m: (r.standard_normal((20, 7) if m == "test" else (2000, 2000)),), "array", "statistics"),
    Kernel("column_quantiles", column_quantiles,
           lambda r, m: (r.standard_normal((21, 5) if m == "test" else (2001, 500)),), "array", "statistics"),
    Kernel("histogram_loop", histogram_loop, lambda r, m: (_x(r, m, 50, 200_000), -4.0, 4.0, 32), "loop",
           "histogram"),
    Kernel("histogram_numpy", histogram_numpy, lambda r, m: (_x(r, m),), "array", "histogram"),
    Kernel("histogram_fixed", histogram_fixed, lambda r, m: (_x(r, m, 50, 100_000), -4.0, 4.0), "loop",
           "histogram"),
    Kernel("masked_group_stats", masked_group_stats, lambda r, m: (_x(r, m), _x(r, m)), "array", "statistics"),
    Kernel("covariance_loops", covariance_loops,
           lambda r, m: (r.standard_normal((10, 3) if m == "test" else (2000, 8)),), "loop", "statistics"),
    Kernel("bootstrap_means", bootstrap_means,
           lambda r, m: (_x(r, m, 20, 1000), r.integers(0, 20 if m == "test" else 1000,
                                                        (6, 20) if m == "test" else (500, 1000))), "mixed",
           "statistics"),
    Kernel("conditional_sums", conditional_sums, lambda r, m: (_x(r, m, 50, 200_000), 0.5), "loop", "statistics"),
]
