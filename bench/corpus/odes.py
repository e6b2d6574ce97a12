"""Ordinary differential equations as modellers write them: an adaptive
Dormand-Prince RK45 with a `while t < t_end` loop and step-size control,
an SEIR epidemic, Lotka-Volterra by forward Euler, FitzHugh-Nagumo and
Hodgkin-Huxley neurons (the latter with math.* rate functions)."""
import math

import numpy as np

from . import Kernel


def rk45_van_der_pol(y0, mu, t_end, rtol, atol):
    """Dormand-Prince 5(4) with an embedded error estimate and a PI-free step controller."""
    def f(y):
        return np.array([y[1], mu * (1.0 - y[0] * y[0]) * y[1] - y[0]])

    t = 0.0
    h = 1e-3
    y = y0.copy()
    n_accept = 0
    n_reject = 0
    while t < t_end:
        if t + h > t_end:
            h = t_end - t
        k1 = f(y)
        k2 = f(y + h * (1 / 5 * k1))
        k3 = f(y + h * (3 / 40 * k1 + 9 / 40 * k2))
        k4 = f(y + h * (44 / 45 * k1 - 56 / 15 * k2 + 32 / 9 * k3))
        k5 = f(y + h * (19372 / 6561 * k1 - 25360 / 2187 * k2 + 64448 / 6561 * k3 - 212 / 729 * k4))
        k6 = f(y + h * (9017 / 3168 * k1 - 355 / 33 * k2 + 46732 / 5247 * k3 + 49 / 176 * k4 - 5103 / 18656 * k5))
        y5 = y + h * (35 / 384 * k1 + 500 / 1113 * k3 + 125 / 192 * k4 - 2187 / 6784 * k5 + 11 / 84 * k6)
        k7 = f(y5)
        y4 = y + h * (5179 / 57600 * k1 + 7571 / 16695 * k3 + 393 / 640 * k4 - 92097 / 339200 * k5
                      + 187 / 2100 * k6 + 1 / 40 * k7)
        scale = atol + rtol * np.maximum(np.abs(y), np.abs(y5))
        err = np.sqrt(np.mean(((y5 - y4) / scale) ** 2))
        if err <= 1.0:
            t += h
            y = y5
            n_accept += 1
        else:
            n_reject += 1
        factor = 0.9 * err ** -0.2 if err > 0.0 else 5.0
        h = h * min(5.0, max(0.2, factor))
    return y, n_accept, n_reject


def seir(beta, sigma, gamma, N, I0, dt, n_days):
    """An SEIR model integrated with forward Euler, recording each compartment every step."""
    S, E, I, R = N - I0, 0.0, I0, 0.0
    n = int(n_days / dt)
    out = np.zeros((n, 4))
    for k in range(n):
        new_inf = beta * S * I / N
        dS = -new_inf
        dE = new_inf - sigma * E
        dI = sigma * E - gamma * I
        dR = gamma * I
        S += dt * dS
        E += dt * dE
        I += dt * dI
        R += dt * dR
        out[k, 0] = S
        out[k, 1] = E
        out[k, 2] = I
        out[k, 3] = R
    peak_day = np.argmax(out[:, 2]) * dt
    return out, peak_day


def lotka_volterra(x0, y0, params, dt, n_steps):
    """Predator-prey for a batch of parameter sets: a time loop over whole arrays."""
    a, b, c, d = params[:, 0], params[:, 1], params[:, 2], params[:, 3]
    x = x0.copy()
    y = y0.copy()
    x_max = x.copy()
    for _ in range(n_steps):
        dx = a * x - b * x * y
        dy = d * x * y - c * y
        x = x + dt * dx
        y = y + dt * dy
        x_max = np.maximum(x_max, x)
    return x, y, x_max


def fitzhugh_nagumo(I_ext, a, b, tau, dt, n_steps):
    """A population of FitzHugh-Nagumo neurons with different input currents; spike counts."""
    n = I_ext.shape[0]
    v = np.full(n, -1.0)
    w = np.zeros(n)
    spikes = np.zeros(n, dtype=np.int64)
    above = np.zeros(n, dtype=np.bool_)
    for _ in range(n_steps):
        dv = v - v ** 3 / 3.0 - w + I_ext
        dw = (v + a - b * w) / tau
        v = v + dt * dv
        w = w + dt * dw
        crossing = (v > 1.0) & ~above
        spikes += crossing
        above = v > 1.0
    return v, w, spikes


def hodgkin_huxley(I_ext, dt, n_steps):
    """One Hodgkin-Huxley neuron with scalar math: gating rates recomputed each step."""
    V = -65.0
    m, h, n = 0.05, 0.6, 0.32
    trace = np.empty(n_steps)
    for k in range(n_steps):
        am = 0.1 * (V + 40.0) / (1.0 - math.exp(-(V + 40.0) / 10.0))
        bm = 4.0 * math.exp(-(V + 65.0) / 18.0)
        ah = 0.07 * math.exp(-(V + 65.0) / 20.0)
        bh = 1.0 / (1.0 + math.exp(-(V + 35.0) / 10.0))
        an = 0.01 * (V + 55.0) / (1.0 - math.exp(-(V + 55.0) / 10.0))
        bn = 0.125 * math.exp(-(V + 65.0) / 80.0)
        I_na = 120.0 * m ** 3 * h * (V - 50.0)
        I_k = 36.0 * n ** 4 * (V + 77.0)
        I_l = 0.3 * (V + 54.387)
        V += dt * (I_ext[k] - I_na - I_k - I_l)
        m += dt * (am * (1.0 - m) - bm * m)
        h += dt * (ah * (1.0 - h) - bh * h)
        n += dt * (an * (1.0 - n) - bn * n)
        trace[k] = V
    return trace


KERNELS = [
    Kernel("rk45_van_der_pol", rk45_van_der_pol,
           lambda r, m: (r.standard_normal(2), 1.0 + r.random(), 2.0 if m == "test" else 200.0, 1e-6, 1e-9),
           "mixed", "ode", rtol=1e-7),
    Kernel("seir", seir, lambda r, m: (0.3 + 0.1 * r.random(), 0.2, 0.1, 1e6, 10.0, 0.5 if m == "test" else 0.01,
                                       10.0 if m == "test" else 300.0), "loop", "epidemiology"),
    Kernel("lotka_volterra", lotka_volterra,
           lambda r, m: (1.0 + r.random(5 if m == "test" else 2000), 0.5 + r.random(5 if m == "test" else 2000),
                         0.5 + r.random((5 if m == "test" else 2000, 4)), 0.001, 20 if m == "test" else 5000),
           "array", "ode"),
    Kernel("fitzhugh_nagumo", fitzhugh_nagumo,
           lambda r, m: (r.random(6 if m == "test" else 5000), 0.7, 0.8, 12.5, 0.05, 50 if m == "test" else 4000),
           "array", "neuroscience"),
    Kernel("hodgkin_huxley", hodgkin_huxley,
           lambda r, m: (10.0 * r.random(40 if m == "test" else 50_000), 0.01, 40 if m == "test" else 50_000),
           "loop", "neuroscience"),
]
