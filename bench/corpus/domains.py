"""Kernels from domains the first modules lacked (written by probe W2, session
43, as scientists write them): finite elements, particle-in-cell, SPH,
molecular dynamics, MCMC, Gillespie, smoothers and HMMs, dynamic
programming, run-length coding, graphs, image labelling and warping,
rendering, root finding, Lattice Boltzmann, optimal transport, training
loops."""
import math

import numpy as np

from . import Kernel, error


# --------------------------------------------------------------------------- FEM
def fem1d_assembly(nodes, kappa, f):
    """P1 finite elements for -(k u')' = f on a nonuniform mesh: element loop scattering into K and F."""
    n = nodes.shape[0]
    K = np.zeros((n, n))
    F = np.zeros(n)
    for e in range(n - 1):
        h = nodes[e + 1] - nodes[e]
        k = kappa[e] / h
        K[e, e] += k
        K[e, e + 1] -= k
        K[e + 1, e] -= k
        K[e + 1, e + 1] += k
        fm = 0.5 * (f[e] + f[e + 1])
        F[e] += 0.5 * h * fm
        F[e + 1] += 0.5 * h * fm
    # Dirichlet rows
    K[0, :] = 0.0
    K[0, 0] = 1.0
    F[0] = 0.0
    K[n - 1, :] = 0.0
    K[n - 1, n - 1] = 1.0
    F[n - 1] = 0.0
    return K, F


def fem_tri_assembly(xy, tris, n_nodes):
    """P1 Laplace stiffness on a triangle mesh: per-element 3x3 matrix, scattered into a dense global matrix."""
    K = np.zeros((n_nodes, n_nodes))
    for t in range(tris.shape[0]):
        i0, i1, i2 = tris[t, 0], tris[t, 1], tris[t, 2]
        x0, y0 = xy[i0, 0], xy[i0, 1]
        x1, y1 = xy[i1, 0], xy[i1, 1]
        x2, y2 = xy[i2, 0], xy[i2, 1]
        area = 0.5 * abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0))
        b = np.array([y1 - y2, y2 - y0, y0 - y1])
        c = np.array([x2 - x1, x0 - x2, x1 - x0])
        ke = (np.outer(b, b) + np.outer(c, c)) / (4.0 * area)
        idx = np.array([i0, i1, i2])
        for a in range(3):
            for bb in range(3):
                K[idx[a], idx[bb]] += ke[a, bb]
    return K


def _fem1d(r, m):
    n = 40 if m == "test" else 3000
    nodes = np.sort(r.random(n))
    nodes[0], nodes[-1] = 0.0, 1.0
    return nodes, 1.0 + r.random(n - 1), r.standard_normal(n)


def _tri_mesh(r, m):
    g = 5 if m == "test" else 45
    xs, ys = np.meshgrid(np.linspace(0, 1, g), np.linspace(0, 1, g), indexing="ij")
    xy = np.stack([xs.ravel(), ys.ravel()], axis=1) + 0.01 * r.standard_normal((g * g, 2))
    tris = []
    for i in range(g - 1):
        for j in range(g - 1):
            a, b, c, d = i * g + j, (i + 1) * g + j, i * g + j + 1, (i + 1) * g + j + 1
            tris.append((a, b, d))
            tris.append((a, d, c))
    return xy, np.array(tris, dtype=np.int64), g * g


# --------------------------------------------------------------------------- particles
def pic1d_steps(x, v, n_cells, length, dt, n_steps):
    """1-d electrostatic particle-in-cell: CIC charge deposit, field by cumulative sum, gather, push."""
    x = x.copy()
    v = v.copy()
    dx = length / n_cells
    n_p = x.shape[0]
    energy = np.zeros(n_steps)
    for step in range(n_steps):
        rho = np.zeros(n_cells)
        for p in range(n_p):
            s = x[p] / dx
            j = int(math.floor(s))
            w = s - j
            rho[j % n_cells] += 1.0 - w
            rho[(j + 1) % n_cells] += w
        rho = rho / (n_p / n_cells) - 1.0
        E = np.cumsum(rho) * dx
        E = E - E.mean()
        for p in range(n_p):
            s = x[p] / dx
            j = int(math.floor(s))
            w = s - j
            Ep = (1.0 - w) * E[j % n_cells] + w * E[(j + 1) % n_cells]
            v[p] -= dt * Ep
            x[p] = (x[p] + dt * v[p]) % length
        energy[step] = 0.5 * np.sum(v * v) + 0.5 * np.sum(E * E) * dx
    return x, v, energy


def sph_density(pos, offsets, neighbors, h, mass):
    """SPH density with the cubic spline kernel over a CSR neighbor list; then the Tait pressure."""
    n = pos.shape[0]
    rho = np.zeros(n)
    sigma = 10.0 / (7.0 * math.pi * h * h)
    for i in range(n):
        acc = 0.0
        for k in range(offsets[i], offsets[i + 1]):
            j = neighbors[k]
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            q = math.sqrt(dx * dx + dy * dy) / h
            if q < 1.0:
                w = 1.0 - 1.5 * q * q + 0.75 * q * q * q
            elif q < 2.0:
                w = 0.25 * (2.0 - q) ** 3
            else:
                w = 0.0
            acc += mass * sigma * w
        rho[i] = acc
    p = 100.0 * ((rho / rho.mean()) ** 7 - 1.0)
    return rho, p


def _sph(r, m):
    n = 60 if m == "test" else 6000
    side = math.sqrt(n) * 0.5
    pos = r.uniform(0, side, (n, 2))
    h = 0.6
    # neighbor lists by brute force (setup, not the kernel)
    offs = [0]
    nb = []
    cell = {}
    for i in range(n):
        cell.setdefault((int(pos[i, 0] // (2 * h)), int(pos[i, 1] // (2 * h))), []).append(i)
    for i in range(n):
        cx, cy = int(pos[i, 0] // (2 * h)), int(pos[i, 1] // (2 * h))
        for ax in (-1, 0, 1):
            for ay in (-1, 0, 1):
                for j in cell.get((cx + ax, cy + ay), ()):
                    if (pos[i, 0] - pos[j, 0]) ** 2 + (pos[i, 1] - pos[j, 1]) ** 2 < (2 * h) ** 2:
                        nb.append(j)
        offs.append(len(nb))
    return pos, np.array(offs, dtype=np.int64), np.array(nb, dtype=np.int64), h, 1.0


def lj_periodic(pos, box, rc):
    """Lennard-Jones forces and energy with a cutoff and periodic boundaries (minimum image)."""
    n = pos.shape[0]
    forces = np.zeros_like(pos)
    energy = 0.0
    rc2 = rc * rc
    for i in range(n - 1):
        for j in range(i + 1, n):
            dx = pos[i, 0] - pos[j, 0]
            dy = pos[i, 1] - pos[j, 1]
            dz = pos[i, 2] - pos[j, 2]
            dx -= box * round(dx / box)
            dy -= box * round(dy / box)
            dz -= box * round(dz / box)
            r2 = dx * dx + dy * dy + dz * dz
            if r2 < rc2:
                inv2 = 1.0 / r2
                inv6 = inv2 * inv2 * inv2
                energy += 4.0 * (inv6 * inv6 - inv6)
                fmag = 24.0 * inv2 * (2.0 * inv6 * inv6 - inv6)
                forces[i, 0] += fmag * dx
                forces[i, 1] += fmag * dy
                forces[i, 2] += fmag * dz
                forces[j, 0] -= fmag * dx
                forces[j, 1] -= fmag * dy
                forces[j, 2] -= fmag * dz
    return forces, energy


def _lj(r, m):
    n = 12 if m == "test" else 450
    box = (n / 0.8) ** (1 / 3)
    g = int(math.ceil(n ** (1 / 3)))
    pts = np.array([(i, j, k) for i in range(g) for j in range(g) for k in range(g)], dtype=float)[:n]
    pos = (pts + 0.5) * (box / g) + 0.05 * r.standard_normal((n, 3))
    return pos, box, 2.5


def gravity_f32(pos, mass, eps):
    """O(n^2) softened gravity in float32, broadcast NumPy."""
    d = pos[None, :, :] - pos[:, None, :]
    r2 = (d * d).sum(axis=2) + eps * eps
    inv3 = r2 ** np.float32(-1.5)
    return (d * (mass[None, :] * inv3)[:, :, None]).sum(axis=1)


# --------------------------------------------------------------------------- MCMC / stochastic
def hmc_gaussian(q0, prec, momenta, uniforms, eps, n_leap):
    """Hamiltonian Monte Carlo on a correlated Gaussian; leapfrog inner loop, Metropolis accept."""
    n = momenta.shape[0]
    d = q0.shape[0]
    samples = np.empty((n, d))
    q = q0.copy()
    acc = 0
    for it in range(n):
        p = momenta[it].copy()
        qn = q.copy()
        h0 = 0.5 * q @ prec @ q + 0.5 * p @ p
        p = p - 0.5 * eps * (prec @ qn)
        for l in range(n_leap):
            qn = qn + eps * p
            if l < n_leap - 1:
                p = p - eps * (prec @ qn)
        p = p - 0.5 * eps * (prec @ qn)
        h1 = 0.5 * qn @ prec @ qn + 0.5 * p @ p
        if np.log(uniforms[it]) < h0 - h1:
            q = qn
            acc += 1
        samples[it] = q
    return samples, acc / n


def _hmc(r, m):
    d = 5
    A = r.standard_normal((d, d))
    prec = A @ A.T / d + np.eye(d)
    n = 20 if m == "test" else 3000
    return r.standard_normal(d), prec, r.standard_normal((n, d)), r.random(n), 0.15, 10


def gillespie_sir(S0, I0, beta, gamma, u, t_end):
    """SIR epidemic by Gillespie's direct method; the trajectory recorded at each event."""
    n_max = u.shape[0]
    t_hist = np.zeros(n_max + 1)
    I_hist = np.zeros(n_max + 1, dtype=np.int64)
    S, I, R = S0, I0, 0
    N = S0 + I0
    t = 0.0
    k = 0
    I_hist[0] = I
    while k < n_max and I > 0 and t < t_end:
        a_inf = beta * S * I / N
        a_rec = gamma * I
        a0 = a_inf + a_rec
        t += -math.log(u[k, 0]) / a0
        if u[k, 1] * a0 < a_inf:
            S -= 1
            I += 1
        else:
            I -= 1
            R += 1
        k += 1
        t_hist[k] = t
        I_hist[k] = I
    return t_hist[:k + 1], I_hist[:k + 1], S, R


# --------------------------------------------------------------------------- filtering / HMM
def rts_smoother(y, F, H, Q, R, m0, P0):
    """Kalman filter forward pass then Rauch-Tung-Striebel smoother backward pass."""
    T = y.shape[0]
    d = m0.shape[0]
    ms = np.zeros((T, d))
    Ps = np.zeros((T, d, d))
    mp = np.zeros((T, d))
    Pp = np.zeros((T, d, d))
    m = m0.copy()
    P = P0.copy()
    for t in range(T):
        m = F @ m
        P = F @ P @ F.T + Q
        mp[t] = m
        Pp[t] = P
        S = H @ P @ H.T + R
        K = P @ H.T @ np.linalg.inv(S)
        m = m + K @ (y[t] - H @ m)
        P = P - K @ S @ K.T
        ms[t] = m
        Ps[t] = P
    for t in range(T - 2, -1, -1):
        G = Ps[t] @ F.T @ np.linalg.inv(Pp[t + 1])
        ms[t] = ms[t] + G @ (ms[t + 1] - mp[t + 1])
        Ps[t] = Ps[t] + G @ (Ps[t + 1] - Pp[t + 1]) @ G.T
    return ms, Ps


def _rts(r, m):
    T = 30 if m == "test" else 3000
    dt = 0.1
    F = np.array([[1.0, dt], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    Q = 0.01 * np.array([[dt ** 3 / 3, dt ** 2 / 2], [dt ** 2 / 2, dt]])
    R = np.array([[0.5]])
    y = np.cumsum(r.standard_normal(T))[:, None] * 0.1 + r.standard_normal((T, 1)) * 0.7
    return y, F, H, Q, R, np.zeros(2), np.eye(2)


def hmm_forward_backward_log(log_A, log_B, log_pi, obs):
    """Posterior state marginals of an HMM, forward-backward in log space with a hand-rolled logsumexp."""
    T = obs.shape[0]
    S = log_pi.shape[0]
    la = np.zeros((T, S))
    lb = np.zeros((T, S))
    la[0] = log_pi + log_B[:, obs[0]]
    for t in range(1, T):
        M = la[t - 1][:, None] + log_A
        mx = M.max(axis=0)
        la[t] = mx + np.log(np.exp(M - mx).sum(axis=0)) + log_B[:, obs[t]]
    for t in range(T - 2, -1, -1):
        M = log_A + (log_B[:, obs[t + 1]] + lb[t + 1])[None, :]
        mx = M.max(axis=1)
        lb[t] = mx + np.log(np.exp(M - mx[:, None]).sum(axis=1))
    g = la + lb
    gm = g.max(axis=1, keepdims=True)
    log_z = gm[:, 0] + np.log(np.exp(g - gm).sum(axis=1))
    return np.exp(g - log_z[:, None]), log_z[0]


def _hmm(r, m):
    S, V = 6, 10
    T = 40 if m == "test" else 20000
    A = r.random((S, S)) + 0.1
    A /= A.sum(axis=1, keepdims=True)
    B = r.random((S, V)) + 0.1
    B /= B.sum(axis=1, keepdims=True)
    pi = np.full(S, 1.0 / S)
    return np.log(A), np.log(B), np.log(pi), r.integers(0, V, T)


# --------------------------------------------------------------------------- sequences / DP
def needleman_wunsch(a, b, match, mismatch, gap):
    """Global alignment score table over int-coded sequences (Needleman-Wunsch)."""
    n, m = a.shape[0], b.shape[0]
    D = np.zeros((n + 1, m + 1))
    for i in range(1, n + 1):
        D[i, 0] = i * gap
    for j in range(1, m + 1):
        D[0, j] = j * gap
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            s = match if a[i - 1] == b[j - 1] else mismatch
            D[i, j] = max(D[i - 1, j - 1] + s, D[i - 1, j] + gap, D[i, j - 1] + gap)
    return D[n, m], D


def dtw_distance(x, y, window):
    """Dynamic time warping with a Sakoe-Chiba band, absolute-difference cost."""
    n, m = x.shape[0], y.shape[0]
    D = np.full((n + 1, m + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        lo = max(1, i - window)
        hi = min(m, i + window)
        for j in range(lo, hi + 1):
            cost = abs(x[i - 1] - y[j - 1])
            D[i, j] = cost + min(D[i - 1, j], D[i, j - 1], D[i - 1, j - 1])
    return D[n, m]


def levenshtein_rows(a, b):
    """Levenshtein distance over int arrays with two rows that swap each iteration."""
    n, m = a.shape[0], b.shape[0]
    prev = np.arange(m + 1)
    cur = np.zeros(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        cur[0] = i
        for j in range(1, m + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        prev, cur = cur, prev
    return prev[m]


def matrix_profile_naive(ts, w):
    """Naive matrix profile: z-normalized distance of each window to its nearest non-trivial match."""
    n = ts.shape[0] - w + 1
    mu = np.array([ts[i:i + w].mean() for i in range(n)])
    sd = np.array([ts[i:i + w].std() for i in range(n)])
    profile = np.full(n, np.inf)
    index = np.zeros(n, dtype=np.int64)
    excl = w // 4
    for i in range(n):
        for j in range(n):
            if abs(i - j) <= excl:
                continue
            dot = np.dot(ts[i:i + w], ts[j:j + w])
            corr = (dot - w * mu[i] * mu[j]) / (w * sd[i] * sd[j])
            d = math.sqrt(max(2.0 * w * (1.0 - corr), 0.0))
            if d < profile[i]:
                profile[i] = d
                index[i] = j
    return profile, index


def rle_encode(x):
    """Run-length encoding of an int array: values and run lengths, built with list.append."""
    values = []
    counts = []
    cur = x[0]
    c = 1
    for i in range(1, x.shape[0]):
        if x[i] == cur:
            c += 1
        else:
            values.append(cur)
            counts.append(c)
            cur = x[i]
            c = 1
    values.append(cur)
    counts.append(c)
    return np.array(values), np.array(counts)


def rle_decode(values, counts):
    """Run-length decoding into a preallocated array with a write cursor."""
    out = np.empty(counts.sum(), dtype=values.dtype)
    pos = 0
    for k in range(values.shape[0]):
        for _ in range(counts[k]):
            out[pos] = values[k]
            pos += 1
    return out


def _runs(r, m):
    n = 200 if m == "test" else 500_000
    return np.repeat(r.integers(0, 5, n // 4), r.integers(1, 8, n // 4)),


def _rle_pairs(r, m):
    n = 50 if m == "test" else 300_000
    return r.integers(-100, 100, n), r.integers(1, 6, n)


def bellman_ford(n_nodes, src, dst, w, source):
    """Bellman-Ford shortest paths over an edge list with early exit when nothing relaxes."""
    dist = np.full(n_nodes, np.inf)
    dist[source] = 0.0
    for _ in range(n_nodes - 1):
        changed = False
        for e in range(src.shape[0]):
            u = src[e]
            v = dst[e]
            if dist[u] + w[e] < dist[v]:
                dist[v] = dist[u] + w[e]
                changed = True
        if not changed:
            break
    return dist


def _graph(r, m):
    n = 30 if m == "test" else 4000
    e = 4 * n
    return n, r.integers(0, n, e), r.integers(0, n, e), r.random(e), 0


# --------------------------------------------------------------------------- images
def union_find_labels(img):
    """4-connected components of a binary image with union-find (path halving), then relabel 1..k."""
    h, w = img.shape
    parent = np.arange(h * w)
    for i in range(h):
        for j in range(w):
            if not img[i, j]:
                continue
            p = i * w + j
            for q in ((i - 1) * w + j if i > 0 and img[i - 1, j] else -1,
                      i * w + j - 1 if j > 0 and img[i, j - 1] else -1):
                if q < 0:
                    continue
                a = p
                while parent[a] != a:
                    parent[a] = parent[parent[a]]
                    a = parent[a]
                b = q
                while parent[b] != b:
                    parent[b] = parent[parent[b]]
                    b = parent[b]
                if a != b:
                    parent[max(a, b)] = min(a, b)
    labels = np.zeros((h, w), dtype=np.int64)
    next_label = 0
    root_label = np.zeros(h * w, dtype=np.int64)
    for i in range(h):
        for j in range(w):
            if img[i, j]:
                a = i * w + j
                while parent[a] != a:
                    a = parent[a]
                if root_label[a] == 0:
                    next_label += 1
                    root_label[a] = next_label
                labels[i, j] = root_label[a]
    return labels, next_label


def flood_fill_stack(grid, si, sj, new):
    """Flood fill (4-connected) from a seed with an explicit stack array; fills grid in place, returns the count."""
    h, w = grid.shape
    old = grid[si, sj]
    if old == new:
        return 0
    stack = np.empty((h * w * 4 + 1, 2), dtype=np.int64)
    top = 0
    stack[0, 0] = si
    stack[0, 1] = sj
    top = 1
    filled = 0
    while top > 0:
        top -= 1
        i = stack[top, 0]
        j = stack[top, 1]
        if i < 0 or i >= h or j < 0 or j >= w:
            continue
        if grid[i, j] != old:
            continue
        grid[i, j] = new
        filled += 1
        stack[top, 0] = i + 1; stack[top, 1] = j; top += 1
        stack[top, 0] = i - 1; stack[top, 1] = j; top += 1
        stack[top, 0] = i; stack[top, 1] = j + 1; top += 1
        stack[top, 0] = i; stack[top, 1] = j - 1; top += 1
    return filled


def _binimg(r, m):
    s = (12, 15) if m == "test" else (500, 500)
    return r.random(s) < 0.55,


def _fill(r, m):
    s = (12, 15) if m == "test" else (450, 450)
    g = (r.random(s) < 0.7).astype(np.int64)
    g[s[0] // 2, s[1] // 2] = 1
    return g, s[0] // 2, s[1] // 2, 7


def affine_warp_bilinear(img, angle, scale):
    """Rotate-and-scale an image about its center with bilinear sampling; outside pixels are 0."""
    h, w = img.shape
    out = np.zeros((h, w))
    ca = math.cos(angle) / scale
    sa = math.sin(angle) / scale
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    for i in range(h):
        for j in range(w):
            y = ca * (i - cy) - sa * (j - cx) + cy
            x = sa * (i - cy) + ca * (j - cx) + cx
            i0 = int(math.floor(y))
            j0 = int(math.floor(x))
            if i0 < 0 or j0 < 0 or i0 >= h - 1 or j0 >= w - 1:
                continue
            fy = y - i0
            fx = x - j0
            out[i, j] = ((1 - fy) * ((1 - fx) * img[i0, j0] + fx * img[i0, j0 + 1])
                         + fy * ((1 - fx) * img[i0 + 1, j0] + fx * img[i0 + 1, j0 + 1]))
    return out


def hist_equalize_u8(img):
    """Histogram equalization of an 8-bit image: bincount, cumulative distribution, lookup table."""
    hist = np.bincount(img.ravel(), minlength=256)
    cdf = np.cumsum(hist)
    cdf_min = cdf[cdf > 0][0]
    lut = np.round((cdf - cdf_min) / (img.size - cdf_min) * 255.0)
    lut = np.clip(lut, 0, 255).astype(np.uint8)
    return lut[img]


def radial_profile(img, cy, cx, n_bins):
    """Azimuthal average of an image around a center, via bincount with weights."""
    h, w = img.shape
    yy, xx = np.indices((h, w))
    r = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    rmax = r.max()
    b = np.minimum((r / rmax * n_bins).astype(np.int64), n_bins - 1)
    sums = np.bincount(b.ravel(), weights=img.ravel(), minlength=n_bins)
    cnt = np.bincount(b.ravel(), minlength=n_bins)
    return sums / np.maximum(cnt, 1)


def hist2d_bincount(x, y, nx, ny):
    """2-d histogram of points in [0,1)^2 via a flattened bincount."""
    ix = np.clip((x * nx).astype(np.int64), 0, nx - 1)
    iy = np.clip((y * ny).astype(np.int64), 0, ny - 1)
    return np.bincount(ix * ny + iy, minlength=nx * ny).reshape(nx, ny)


def sphere_trace(width, height, max_steps):
    """Sphere tracing (ray marching) of a sphere over a plane, one ray per pixel; depth image."""
    depth = np.zeros((height, width))
    for py in range(height):
        for px in range(width):
            dx = (2.0 * (px + 0.5) / width - 1.0) * 1.2
            dy = (1.0 - 2.0 * (py + 0.5) / height) * 0.9
            dz = 1.0
            nrm = math.sqrt(dx * dx + dy * dy + dz * dz)
            dx, dy, dz = dx / nrm, dy / nrm, dz / nrm
            t = 0.0
            steps = 0
            hit = False
            while steps < max_steps and t < 50.0:
                x = dx * t
                y = dy * t + 0.5
                z = dz * t - 3.0
                ds = math.sqrt(x * x + (y - 0.5) ** 2 + (z - 2.0) ** 2) - 1.0
                dp = y + 0.8
                d = min(ds, dp)
                if d < 1e-4:
                    hit = True
                    break
                t += d
                steps += 1
            depth[py, px] = t if hit else -1.0
    return depth


# --------------------------------------------------------------------------- signal / numerics
def sos_cascade(x, sos):
    """Cascade of second-order sections (direct form II transposed), like scipy.signal.sosfilt."""
    y = x.copy()
    n_sec = sos.shape[0]
    for s in range(n_sec):
        b0, b1, b2 = sos[s, 0], sos[s, 1], sos[s, 2]
        a1, a2 = sos[s, 4], sos[s, 5]
        z1 = 0.0
        z2 = 0.0
        for n in range(y.shape[0]):
            xn = y[n]
            yn = b0 * xn + z1
            z1 = b1 * xn - a1 * yn + z2
            z2 = b2 * xn - a2 * yn
            y[n] = yn
    return y


def _sos(r, m):
    n = 100 if m == "test" else 150_000
    sos = np.array([[0.2, 0.4, 0.2, 1.0, -0.5, 0.1],
                    [0.3, 0.0, -0.3, 1.0, -0.9, 0.4],
                    [0.5, 0.5, 0.0, 1.0, 0.2, 0.05]])
    return r.standard_normal(n), sos


def cumtrapz_nonuniform(t, Y):
    """Cumulative trapezoid integral of each row of Y over nonuniform sample times t."""
    dt = np.diff(t)
    inc = 0.5 * (Y[:, 1:] + Y[:, :-1]) * dt[None, :]
    out = np.zeros_like(Y)
    out[:, 1:] = np.cumsum(inc, axis=1)
    return out


def kepler_newton(M, e, tol):
    """Solve Kepler's equation E - e sin E = M for every mean anomaly by Newton's method with a tolerance."""
    E = np.empty_like(M)
    iters = np.zeros(M.shape[0], dtype=np.int64)
    for i in range(M.shape[0]):
        Ei = M[i] if e[i] < 0.8 else math.pi
        k = 0
        while True:
            f = Ei - e[i] * math.sin(Ei) - M[i]
            step = f / (1.0 - e[i] * math.cos(Ei))
            Ei -= step
            k += 1
            if abs(step) < tol or k >= 50:
                break
        E[i] = Ei
        iters[i] = k
    return E, iters


def implied_vol_newton(price, S, K, T, r):
    """Black-Scholes implied volatility per option by Newton on vega, vectorized NumPy, iterations with an early break."""
    sigma = np.full_like(price, 0.3)
    for it in range(30):
        sq = np.sqrt(T)
        d1 = (np.log(S / K) + (r + 0.5 * sigma ** 2) * T) / (sigma * sq)
        d2 = d1 - sigma * sq
        cdf1 = 0.5 * (1.0 + _erf(d1 / math.sqrt(2.0)))
        cdf2 = 0.5 * (1.0 + _erf(d2 / math.sqrt(2.0)))
        model = S * cdf1 - K * np.exp(-r * T) * cdf2
        vega = S * sq * np.exp(-0.5 * d1 * d1) / math.sqrt(2.0 * math.pi)
        diff = model - price
        if np.max(np.abs(diff)) < 1e-10:
            break
        sigma = np.clip(sigma - diff / np.maximum(vega, 1e-8), 1e-4, 5.0)
    return sigma


def _erf(x):
    # Numerical Recipes erfc fit (relative error < 1.2e-7), vectorized
    t = 1.0 / (1.0 + 0.5 * np.abs(x))
    y = 1.0 - t * np.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))))
    return np.where(x >= 0, y, -y)


def _ivol(r, m):
    n = 20 if m == "test" else 200_000
    S = np.full(n, 100.0)
    K = r.uniform(80, 120, n)
    T = r.uniform(0.2, 2.0, n)
    sig = r.uniform(0.1, 0.6, n)
    rr = 0.02
    sq = np.sqrt(T)
    d1 = (np.log(S / K) + (rr + 0.5 * sig ** 2) * T) / (sig * sq)
    d2 = d1 - sig * sq
    price = S * 0.5 * (1 + _erf(d1 / math.sqrt(2))) - K * np.exp(-rr * T) * 0.5 * (1 + _erf(d2 / math.sqrt(2)))
    return price, S, K, T, rr


def jacobi_eigen(A, n_sweeps):
    """Cyclic Jacobi eigenvalue algorithm for a symmetric matrix: rotations applied with scalar loops."""
    a = A.copy()
    n = a.shape[0]
    V = np.eye(n)
    for sweep in range(n_sweeps):
        for p in range(n - 1):
            for q in range(p + 1, n):
                if abs(a[p, q]) < 1e-300:
                    continue
                theta = (a[q, q] - a[p, p]) / (2.0 * a[p, q])
                t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + math.sqrt(theta * theta + 1.0))
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for k in range(n):
                    akp = a[k, p]
                    akq = a[k, q]
                    a[k, p] = c * akp - s * akq
                    a[k, q] = s * akp + c * akq
                for k in range(n):
                    apk = a[p, k]
                    aqk = a[q, k]
                    a[p, k] = c * apk - s * aqk
                    a[q, k] = s * apk + c * aqk
                for k in range(n):
                    vkp = V[k, p]
                    vkq = V[k, q]
                    V[k, p] = c * vkp - s * vkq
                    V[k, q] = s * vkp + c * vkq
    return np.diag(a).copy(), V


def _sym(r, m):
    n = 6 if m == "test" else 45
    B = r.standard_normal((n, n))
    return B + B.T, 3 if m == "test" else 5


def lbm_d2q9(f, n_steps, omega):
    """Lattice Boltzmann D2Q9 with BGK collision and periodic streaming by np.roll."""
    cx = np.array([0, 1, 0, -1, 0, 1, -1, -1, 1])
    cy = np.array([0, 0, 1, 0, -1, 1, 1, -1, -1])
    wts = np.array([4 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 9, 1 / 36, 1 / 36, 1 / 36, 1 / 36])
    f = f.copy()
    for _ in range(n_steps):
        rho = f.sum(axis=0)
        ux = (f * cx[:, None, None]).sum(axis=0) / rho
        uy = (f * cy[:, None, None]).sum(axis=0) / rho
        usq = ux * ux + uy * uy
        for k in range(9):
            cu = cx[k] * ux + cy[k] * uy
            feq = wts[k] * rho * (1.0 + 3.0 * cu + 4.5 * cu * cu - 1.5 * usq)
            f[k] = f[k] + omega * (feq - f[k])
        for k in range(9):
            f[k] = np.roll(np.roll(f[k], cx[k], axis=1), cy[k], axis=0)
    return f


def _lbm(r, m):
    s = (8, 10) if m == "test" else (200, 200)
    return 1.0 / 9 + 0.01 * r.random((9,) + s), 3 if m == "test" else 20, 1.2


def sinkhorn(a, b, C, reg, n_iter):
    """Entropic optimal transport by Sinkhorn iterations; the plan and its cost."""
    K = np.exp(-C / reg)
    u = np.ones_like(a)
    v = np.ones_like(b)
    for _ in range(n_iter):
        u = a / (K @ v)
        v = b / (K.T @ u)
    P = u[:, None] * K * v[None, :]
    return P, (P * C).sum()


def _ot(r, m):
    n = 10 if m == "test" else 800
    x, y = r.random((n, 2)), r.random((n + 3, 2))
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2)
    a = r.random(n) + 0.1
    b = r.random(n + 3) + 0.1
    return a / a.sum(), b / b.sum(), C, 0.05, 10 if m == "test" else 100


def pagerank_edges(src, dst, n, damping, n_iter):
    """PageRank by power iteration over an edge list with np.add.at; dangling mass spread uniformly."""
    outdeg = np.bincount(src, minlength=n).astype(np.float64)
    r = np.full(n, 1.0 / n)
    for _ in range(n_iter):
        contrib = np.where(outdeg[src] > 0, r[src] / np.maximum(outdeg[src], 1.0), 0.0)
        new = np.zeros(n)
        np.add.at(new, dst, contrib)
        dangling = r[outdeg == 0].sum()
        r = (1.0 - damping) / n + damping * (new + dangling / n)
    return r


def _pr(r, m):
    n = 30 if m == "test" else 100_000
    e = 5 * n
    return r.integers(0, n, e), r.integers(0, n, e), n, 0.85, 20


# --------------------------------------------------------------------------- learning
def logreg_sgd_minibatch(X, y, perm, lr, batch, n_epochs):
    """Logistic regression by minibatch SGD over epochs; the order of each epoch passed in (perm)."""
    n, d = X.shape
    w = np.zeros(d)
    b = 0.0
    losses = np.zeros(n_epochs)
    for ep in range(n_epochs):
        order = perm[ep]
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            xb = X[idx]
            yb = y[idx]
            z = xb @ w + b
            p = 1.0 / (1.0 + np.exp(-z))
            g = p - yb
            w -= lr * (xb.T @ g) / idx.shape[0]
            b -= lr * g.mean()
        z = X @ w + b
        losses[ep] = np.mean(np.logaddexp(0.0, z) - y * z)
    return w, b, losses


def _lr(r, m):
    n, d = (64, 3) if m == "test" else (20000, 20)
    X = r.standard_normal((n, d))
    y = (X @ r.standard_normal(d) + 0.5 * r.standard_normal(n) > 0).astype(np.float64)
    E = 2 if m == "test" else 5
    return X, y, np.stack([r.permutation(n) for _ in range(E)]), 0.1, 32, E


def kmeans_reseed(X, C0, n_iter):
    """k-means where an empty cluster is re-seeded at the point farthest from its center."""
    C = C0.copy()
    k = C.shape[0]
    labels = np.zeros(X.shape[0], dtype=np.int64)
    for _ in range(n_iter):
        d = ((X[:, None, :] - C[None, :, :]) ** 2).sum(axis=2)
        labels = d.argmin(axis=1)
        dmin = d.min(axis=1)
        counts = np.bincount(labels, minlength=k)
        for c in range(k):
            if counts[c] == 0:
                far = np.argmax(dmin)
                C[c] = X[far]
                dmin[far] = 0.0
            else:
                C[c] = X[labels == c].mean(axis=0)
    return C, labels


def _km(r, m):
    n = 50 if m == "test" else 50000
    X = r.standard_normal((n, 2))
    C0 = np.vstack([X[:3], [[50.0, 50.0], [60.0, -40.0]]])
    return X, C0, 5 if m == "test" else 15


def pca_deflation(X, k, n_iter):
    """Top-k principal components by power iteration with deflation of the covariance."""
    Xc = X - X.mean(axis=0)
    Cv = Xc.T @ Xc / (X.shape[0] - 1)
    d = Cv.shape[0]
    comps = np.zeros((k, d))
    vals = np.zeros(k)
    for c in range(k):
        v = np.ones(d) / math.sqrt(d)
        for _ in range(n_iter):
            v = Cv @ v
            v = v / np.linalg.norm(v)
        lam = v @ Cv @ v
        comps[c] = v
        vals[c] = lam
        Cv = Cv - lam * np.outer(v, v)
    return vals, comps


def _pca(r, m):
    n, d = (40, 5) if m == "test" else (10000, 100)
    X = r.standard_normal((n, d)) @ np.diag(np.linspace(3, 0.1, d))
    return X, 3 if m == "test" else 10, 50 if m == "test" else 200


def softmax_xent_minibatch(X, labels, W, lr, batch):
    """One epoch of softmax regression: per minibatch a stable softmax, cross-entropy, gradient step."""
    W = W.copy()
    n = X.shape[0]
    total = 0.0
    for s in range(0, n, batch):
        xb = X[s:s + batch]
        lb = labels[s:s + batch]
        logits = xb @ W
        logits = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        p = e / e.sum(axis=1, keepdims=True)
        m = xb.shape[0]
        total += -np.log(p[np.arange(m), lb]).sum()
        p[np.arange(m), lb] -= 1.0
        W -= lr * xb.T @ p / m
    return W, total / n


def _sx(r, m):
    n, d, c = (50, 4, 3) if m == "test" else (30000, 50, 10)
    return r.standard_normal((n, d)), r.integers(0, c, n), 0.01 * r.standard_normal((d, c)), 0.1, 16 if m == "test" else 128


def forest_fire(grid, u_grow, u_light, p_grow, p_light):
    """Drossel-Schwabl forest fire CA on a periodic grid (0 empty, 1 tree, 2 burning); uniforms passed in."""
    g = grid.copy()
    burned = np.zeros(u_grow.shape[0], dtype=np.int64)
    for t in range(u_grow.shape[0]):
        burning = g == 2
        nb = (np.roll(burning, 1, 0) | np.roll(burning, -1, 0) | np.roll(burning, 1, 1) | np.roll(burning, -1, 1))
        new = g.copy()
        new[burning] = 0
        tree = g == 1
        new[tree & (nb | (u_light[t] < p_light))] = 2
        new[(g == 0) & (u_grow[t] < p_grow)] = 1
        burned[t] = burning.sum()
        g = new
    return g, burned


def _ff(r, m):
    s = (10, 12) if m == "test" else (300, 300)
    T = 4 if m == "test" else 30
    g = r.integers(0, 3, s)
    return g, r.random((T,) + s), r.random((T,) + s), 0.05, 0.001


KERNELS = [
    Kernel("fem1d_assembly", fem1d_assembly, _fem1d, "loop", "finite elements"),
    Kernel("fem_tri_assembly", fem_tri_assembly, _tri_mesh, "mixed", "finite elements"),
    Kernel("pic1d_steps", pic1d_steps,
           lambda r, m: (r.uniform(0, 10.0, 200 if m == "test" else 50_000), 0.1 * r.standard_normal(
               200 if m == "test" else 50_000), 32, 10.0, 0.05, 3 if m == "test" else 5), "loop", "plasma"),
    Kernel("sph_density", sph_density, _sph, "loop", "sph"),
    Kernel("lj_periodic", lj_periodic, _lj, "loop", "molecular dynamics"),
    Kernel("gravity_f32", gravity_f32,
           lambda r, m: (r.standard_normal((16 if m == "test" else 1500, 3)).astype(np.float32),
                         r.random(16 if m == "test" else 1500).astype(np.float32), np.float32(0.05)),
           "array", "n-body", rtol=1e-4, atol=1e-3),
    # float32 sums of 1500 terms in another order, with cancellation: an acceleration near 0 differs by more than
    # rtol of itself (plain NumPy's own error against float64 is 4.2e-4 at seed 1, looptrace's 2.2e-5)
    Kernel("hmc_gaussian", hmc_gaussian, _hmc, "mixed", "mcmc", rtol=1e-8),
    Kernel("gillespie_sir", gillespie_sir,
           lambda r, m: (990, 10, 0.3, 0.1, r.random((100, 2)), 1e9) if m == "test" else
           (100_000, 50, 0.3, 0.1, r.random((100_000, 2)), 1e9), "loop",
           "stochastic"),
    Kernel("rts_smoother", rts_smoother, _rts, "mixed", "filtering", rtol=1e-8),
    Kernel("hmm_forward_backward_log", hmm_forward_backward_log, _hmm, "mixed", "hmm", rtol=1e-8),
    Kernel("needleman_wunsch", needleman_wunsch,
           lambda r, m: (r.integers(0, 4, 20 if m == "test" else 800), r.integers(0, 4, 25 if m == "test" else 700),
                         1.0, -1.0, -2.0), "loop", "dynamic programming"),
    Kernel("dtw_distance", dtw_distance,
           lambda r, m: (np.cumsum(r.standard_normal(30 if m == "test" else 1500)),
                         np.cumsum(r.standard_normal(28 if m == "test" else 1400)), 10 if m == "test" else 150),
           "loop", "dynamic programming"),
    Kernel("levenshtein_rows", levenshtein_rows,
           lambda r, m: (r.integers(0, 4, 20 if m == "test" else 700), r.integers(0, 4, 17 if m == "test" else 700)),
           "loop", "dynamic programming"),
    Kernel("matrix_profile_naive", matrix_profile_naive,
           lambda r, m: (np.cumsum(r.standard_normal(40 if m == "test" else 400)), 8 if m == "test" else 32),
           "mixed", "time series"),
    Kernel("rle_encode", rle_encode, _runs, "loop", "encoding"),
    Kernel("rle_decode", rle_decode, _rle_pairs, "loop", "encoding", expect=error(),
           note="np.empty(counts.sum()): an array whose length is a traced value (static shapes)"),
    Kernel("bellman_ford", bellman_ford, _graph, "loop", "graphs"),
    Kernel("union_find_labels", union_find_labels, _binimg, "loop", "imaging"),
    Kernel("flood_fill_stack", flood_fill_stack, _fill, "loop", "imaging"),
    Kernel("affine_warp_bilinear", affine_warp_bilinear,
           lambda r, m: (r.random((12, 14) if m == "test" else (500, 500)), 0.3, 1.2), "loop", "imaging"),
    Kernel("hist_equalize_u8", hist_equalize_u8,
           lambda r, m: ((r.beta(2, 5, (20, 30) if m == "test" else (3000, 3000)) * 255).astype(np.uint8),),
           "array", "imaging"),
    Kernel("radial_profile", radial_profile,
           lambda r, m: (r.random((20, 24) if m == "test" else (1000, 1000)), 9.5, 11.0, 16 if m == "test" else 500),
           "array", "imaging"),
    Kernel("hist2d_bincount", hist2d_bincount,
           lambda r, m: (r.random(100 if m == "test" else 3_000_000), r.random(100 if m == "test" else 3_000_000),
                         8, 12 if m == "test" else 200), "array", "histogram"),
    Kernel("sphere_trace", sphere_trace, lambda r, m: (16, 12, 64) if m == "test" else (200, 150, 128), "loop",
           "rendering"),
    Kernel("sos_cascade", sos_cascade, _sos, "loop", "filter"),
    Kernel("cumtrapz_nonuniform", cumtrapz_nonuniform,
           lambda r, m: (np.cumsum(r.random(30 if m == "test" else 2000)),
                         r.standard_normal((5, 30) if m == "test" else (1000, 2000))), "array", "integration"),
    Kernel("kepler_newton", kepler_newton,
           lambda r, m: (r.uniform(0, 2 * math.pi, 30 if m == "test" else 150_000),
                         r.uniform(0, 0.95, 30 if m == "test" else 150_000), 1e-13), "loop", "root finding"),
    Kernel("implied_vol_newton", implied_vol_newton, _ivol, "array", "finance", rtol=1e-7),
    Kernel("jacobi_eigen", jacobi_eigen, _sym, "loop", "linear algebra", rtol=1e-7),
    Kernel("lbm_d2q9", lbm_d2q9, _lbm, "array", "fluids"),
    Kernel("sinkhorn", sinkhorn, _ot, "array", "optimal transport", rtol=1e-8),
    Kernel("pagerank_edges", pagerank_edges, _pr, "array", "graphs"),
    Kernel("logreg_sgd_minibatch", logreg_sgd_minibatch, _lr, "mixed", "machine learning", rtol=1e-8),
    Kernel("kmeans_reseed", kmeans_reseed, _km, "mixed", "clustering"),
    Kernel("pca_deflation", pca_deflation, _pca, "mixed", "linear algebra", rtol=1e-7),
    Kernel("softmax_xent_minibatch", softmax_xent_minibatch, _sx, "array", "machine learning", rtol=1e-8),
    Kernel("forest_fire", forest_fire, _ff, "array", "cellular automaton"),
]
