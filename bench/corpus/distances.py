"""Distances: pairwise matrices (loops, broadcasting, the dot trick), haversine, k nearest, cosine."""
import math

import numpy as np

from . import Kernel, error

K_NEAREST = 5
EARTH_RADIUS_KM = 6371.0


def pairwise_loops(X):
    n, d = X.shape
    D = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            s = 0.0
            for k in range(d):
                t = X[i, k] - X[j, k]
                s += t * t
            D[i, j] = np.sqrt(s)
    return D


def pairwise_broadcast(X, Y):
    diff = X[:, None, :] - Y[None, :, :]
    return np.sqrt((diff ** 2).sum(axis=-1))


def sqdist_dot(x1, x2):
    """The expansion ||a||^2 + ||b||^2 - 2 a.b, as written in kernel libraries."""
    return -2 * np.dot(x1, x2.T) + np.sum(np.square(x1), axis=1)[:, None] + np.sum(np.square(x2), axis=1)


def haversine(lat1, lon1, lat2, lon2):
    lat1, lon1, lat2, lon2 = np.radians(lat1), np.radians(lon1), np.radians(lat2), np.radians(lon2)
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def haversine_loop(lat1, lon1, lat2, lon2):
    n = lat1.shape[0]
    out = np.empty(n)
    for i in range(n):
        p1, p2 = math.radians(lat1[i]), math.radians(lat2[i])
        dp, dl = p2 - p1, math.radians(lon2[i] - lon1[i])
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        out[i] = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))
    return out


def knn_indices(X, q):
    d = ((X - q) ** 2).sum(axis=1)
    return np.argsort(d)[:K_NEAREST]


def cosine_similarity(A, B):
    An = A / np.linalg.norm(A, axis=1, keepdims=True)
    Bn = B / np.linalg.norm(B, axis=1, keepdims=True)
    return An @ Bn.T


def _points(r, m):
    n = 20 if m == "test" else 1_000_000
    return (r.uniform(-80, 80, n), r.uniform(-180, 180, n), r.uniform(-80, 80, n), r.uniform(-180, 180, n))


KERNELS = [
    Kernel("pairwise_loops", pairwise_loops, lambda r, m: (r.standard_normal((8, 3) if m == "test" else (300, 3)),),
           "loop", "distance matrix"),
    Kernel("pairwise_broadcast", pairwise_broadcast,
           lambda r, m: (r.standard_normal((8, 3) if m == "test" else (1000, 3)),
                         r.standard_normal((6, 3) if m == "test" else (800, 3))), "array", "distance matrix"),
    Kernel("sqdist_dot", sqdist_dot,
           lambda r, m: (r.standard_normal((1, 16) if m == "test" else (1, 512)),
                         r.standard_normal((30, 16) if m == "test" else (20000, 512))), "array",
           "distance matrix", rtol=1e-7),
    Kernel("haversine", haversine, _points, "array", "distance matrix"),
    Kernel("haversine_loop", haversine_loop, lambda r, m: _points(r, "test") if m == "test" else
           tuple(a[:200_000] for a in _points(r, m)), "loop", "distance matrix"),
    Kernel("knn_indices", knn_indices,
           lambda r, m: (r.standard_normal((30, 4) if m == "test" else (200_000, 4)), r.standard_normal(4)),
           "array", "distance matrix"),
    Kernel("cosine_similarity", cosine_similarity,
           lambda r, m: (r.standard_normal((7, 5) if m == "test" else (1000, 64)),
                         r.standard_normal((6, 5) if m == "test" else (1000, 64))), "array", "distance matrix"),
]
