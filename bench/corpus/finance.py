"""Finance: Black-Scholes (scalar math.* and NumPy), Monte Carlo paths, moving averages of prices."""
import math

import numpy as np

from . import Kernel, error

INV_SQRT_2PI = 0.3989422804014327


def black_scholes_scalar(S, K, T, r, sigma):
    """Call and put prices, one option at a time, with math.erf."""
    n = S.shape[0]
    call = np.empty(n)
    put = np.empty(n)
    for i in range(n):
        sq = sigma * math.sqrt(T[i])
        d1 = (math.log(S[i] / K[i]) + (r + 0.5 * sigma * sigma) * T[i]) / sq
        d2 = d1 - sq
        n1 = 0.5 * (1.0 + math.erf(d1 / math.sqrt(2.0)))
        n2 = 0.5 * (1.0 + math.erf(d2 / math.sqrt(2.0)))
        disc = K[i] * math.exp(-r * T[i])
        call[i] = S[i] * n1 - disc * n2
        put[i] = disc * (1.0 - n2) - S[i] * (1.0 - n1)
    return call, put


def _cnd(d):
    """The normal CDF by the Abramowitz-Stegun polynomial (the classic benchmark's)."""
    k = 1.0 / (1.0 + 0.2316419 * np.abs(d))
    poly = k * (0.31938153 + k * (-0.356563782 + k * (1.781477937 + k * (-1.821255978 + k * 1.330274429))))
    w = 1.0 - INV_SQRT_2PI * np.exp(-0.5 * d * d) * poly
    return np.where(d < 0, 1.0 - w, w)


def black_scholes_numpy(S, K, T, r, sigma):
    sq = sigma * np.sqrt(T)
    d1 = (np.log(S / K) + (r + 0.5 * sigma * sigma) * T) / sq
    d2 = d1 - sq
    disc = K * np.exp(-r * T)
    call = S * _cnd(d1) - disc * _cnd(d2)
    put = disc * _cnd(-d2) - S * _cnd(-d1)
    return call, put


def gbm_paths(S0, mu, sigma, dt, z):
    """Geometric Brownian motion over pre-drawn normals z[step, path]; the mean payoff."""
    S = np.full(z.shape[1], S0)
    for t in range(z.shape[0]):
        S = S * np.exp((mu - 0.5 * sigma * sigma) * dt + sigma * np.sqrt(dt) * z[t])
    return np.maximum(S - S0, 0.0).mean()


def gbm_rng(S0, mu, sigma, dt, rng, start):
    """The same with draws from a generator, one step at a time; `start` fixes the path count."""
    S = start * S0
    for _ in range(50):
        S = S * np.exp((mu - 0.5 * sigma * sigma) * dt + sigma * np.sqrt(dt) * rng.standard_normal(S.shape))
    return S.mean(), S.std()


def ewma(prices, alpha):
    """Exponentially weighted moving average, the obvious loop."""
    out = np.empty_like(prices)
    m = prices[0]
    for i in range(prices.shape[0]):
        m = alpha * prices[i] + (1.0 - alpha) * m
        out[i] = m
    return out


def max_drawdown(prices):
    peak = prices[0]
    worst = 0.0
    for i in range(prices.shape[0]):
        p = prices[i]
        if p > peak:
            peak = p
        dd = (peak - p) / peak
        if dd > worst:
            worst = dd
    return worst


def drawdown_numpy(prices):
    """The same measure vectorized: the running peak by np.maximum.accumulate."""
    peak = np.maximum.accumulate(prices)
    return ((peak - prices) / peak).max(), np.minimum.accumulate(prices)


def _options(r, m):
    n = 16 if m == "test" else 200_000
    return (r.uniform(50, 150, n), r.uniform(50, 150, n), r.uniform(0.1, 2.0, n), 0.03, 0.25)


def _prices(r, m):
    n = 50 if m == "test" else 200_000
    return 100.0 * np.exp(np.cumsum(0.01 * r.standard_normal(n)))


KERNELS = [
    Kernel("black_scholes_scalar", black_scholes_scalar, _options, "loop", "finance"),
    Kernel("black_scholes_numpy", black_scholes_numpy, _options, "array", "finance"),
    Kernel("gbm_paths", gbm_paths,
           lambda r, m: (100.0, 0.05, 0.2, 1 / 252, r.standard_normal((10, 16) if m == "test" else (250, 20000))),
           "mixed", "finance"),
    Kernel("gbm_rng", gbm_rng,
           lambda r, m: (100.0, 0.05, 0.2, 1 / 252, np.random.default_rng(7),
                         np.ones(16 if m == "test" else 20000)), "mixed", "finance"),
    Kernel("ewma", ewma, lambda r, m: (_prices(r, m), 0.05), "loop", "moving average"),
    Kernel("max_drawdown", max_drawdown, lambda r, m: (_prices(r, m),), "loop", "finance"),
    Kernel("drawdown_numpy", drawdown_numpy, lambda r, m: (_prices(r, m),), "array", "finance"),
]
