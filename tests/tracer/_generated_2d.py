"""Random 2-D loop programs for tests/tracer/test_generated_mixed.py: rows
and columns of a matrix in nested loops (`out[i, j]` writes, `x[i].sum()`,
`x[:, j]`, recurrences along a row or down a column), reductions over an
axis, np.where/np.maximum/np.minimum on rows, slices with steps and windows
of static length (`x[::2]`, `w[i:i + 3]`, `out[i, 0:2] += ...`), while loops
on a traced condition with a counter, `break` in nested loops, `return`
inside an `if`, integer arrays with `//` and `%`, and a float32 input mixed
with float64. Also (added by the s23 round): `continue`, `elif`, `*=`/`-=`/
`/=` on elements and rows, triangular slices (`X[i, :j + 1]`), a local copy
of a row written then stored, dot products of rows, np.clip/np.sqrt/np.exp,
`enumerate` over a matrix and over a row, double buffering with `a, b = b, a`,
inner loops whose start depends on the outer index, a per-row accumulator
reset in the outer loop (with an argmax index), a 2-D dynamic program, a
while loop inside a for loop, an index computed from data, and scalars
swapped in a tuple assignment.
`program(random.Random(seed))` draws one; `args(n, m, seed)` its arguments
(m >= 3). An ad hoc run of 3,000 on interpret, 120 on cpu and 100 on the
CUDA simulator found a write through a name rebound on one side of a traced
`if` (tests/tracer/test_conditional_aliases.py) and window loops of zero
trips refused (tests/tracer/test_empty_static_ranges.py); the s23 round's
double buffering found carries copied out of order in a persistent kernel
(tests/codegen/cuda/test_cuda_fuzz_s23.py). The s25 round added
`widened_stmt`: masked writes on rows, slices of computed constant length,
np.where/np.clip/np.cumsum with a carried row, nested functions, a tuple of
rows carried, augmented assignment on views, bool rows in int and float
arithmetic, a while loop with a tolerance."""

import numpy as np

# arguments: X (n,m) f64, Y (n,m) f32, v (m,) f64, w (n,) f64, idx (n,) int, ia (n,) int,
#            out (n,m) f64, o1 (n,) f64, oc (m,) f64
SIG = "def f(X, Y, v, w, idx, ia, out, o1, oc):"
RET = "return out, o1, oc, acc, cnt, s"


def scal_ij(r, depth=2):
    leaves = ["X[i, j]", "Y[i, j]", "v[j]", "w[i]", "X[idx[i], j]", "X[n - 1 - i, m - 1 - j]", "float(j)",
              "0.5", "out[i, j]", "float(ia[i] % 3)", "X[i, (j + 1) % m]"]
    if depth == 0 or r.random() < 0.35:
        return r.choice(leaves)
    k = r.randrange(8)
    a, b = scal_ij(r, depth - 1), scal_ij(r, depth - 1)
    return ["({} + {})", "({} - {})", "({} * {})", "np.tanh({})", "max({}, {})", "min({}, {})",
            "abs({})", "({} if {} > 0 else 0.25)"][k].format(a, b, a)


def row(r, depth=2):
    """An (m,) expression in row i."""
    leaves = ["X[i]", "Y[i]", "v", "X[idx[i]]", "X[n - 1 - i]", "X[i, ::-1]", "out[i]", "(X[i] * w[i])",
              "Y[i].astype(np.float64)", "(X[i] * 2)"]
    if depth == 0 or r.random() < 0.35:
        return r.choice(leaves)
    k = r.randrange(9)
    a, b = row(r, depth - 1), row(r, depth - 1)
    return ["({} + {})", "({} - {})", "({} * {})", "np.tanh({})", "np.maximum({}, {})", "np.minimum({}, {})",
            "np.abs({})", "np.where({} > 0, {}, 0.5)", "np.where({1} > {0}, {0}, {1})"][k].format(a, b)


def col(r):
    return r.choice(["X[:, j]", "Y[:, j]", "(X[:, j] * w)", "np.abs(X[:, j])", "(X[:, j] + X[:, (j + 1) % m])",
                     "X[::-1, j]", "out[:, j]"])


def reduce_(r, e):
    return r.choice(["{}.sum()", "{}.max()", "{}.min()", "{}.mean()", "np.sum({})", "np.max({})", "np.prod(np.tanh({}))",
                     "np.dot({}, {})", "{}[::2].sum()", "{}[1:3].sum()", "np.argmax({})"]).format(e, e)


def elem_stmt(r, depth=0):
    e = scal_ij(r)
    k = r.randrange(19 if depth == 0 else 9)
    if k == 14:
        return [f"if {scal_ij(r, 1)} > 0.8:", "    continue"]
    if k == 15:
        return [f"out[i, j] = {r.choice(['X[i, :j + 1]', 'X[:i + 1, j]', 'X[i, j:]', 'v[:j]'])}.sum() * 0.5 + {e}"]
    if k == 16:
        a, b, c = elem_stmt(r, depth + 1), elem_stmt(r, depth + 1), elem_stmt(r, depth + 1)
        return ([f"if {scal_ij(r, 1)} > 0.5:"] + ["    " + x for x in a] + [f"elif {scal_ij(r, 1)} < -0.5:"]
                + ["    " + x for x in b] + ["else:"] + ["    " + x for x in c])
    if k == 17:
        return [f"out[i, j] {r.choice(['*=', '-=', '/='])} {r.choice(['0.5', '(1.5 + np.tanh(' + e + '))', 'w[i] * 0.5 + 2.0'])}"]
    if k == 18:
        return [f"acc = acc * 0.5 + {e}", f"out[i, j] = acc"]
    if k == 0:
        return [f"out[i, j] = {e}"]
    if k == 1:
        return [f"out[i, j] += {e}"]
    if k == 2:
        return [f"acc += {e}"]
    if k == 3:
        return [f"out[i, j] = out[i, j - 1] * 0.5 + {e} if j > 0 else {e}"]
    if k == 4:
        return [f"out[i, j] = out[i - 1, j] * 0.5 + {e} if i > 0 else {e}"]
    if k == 5:
        return [f"if {e} > 0.3:", "    cnt += 1"]
    if k == 6:
        return [f"s += (ia[i] * (j + 1)) // 3 - ia[i] % 2 + int({scal_ij(r, 1)} * 2.0) // 2"]
    if k == 7:
        return [f"oc[j] += {e}"]
    if k == 8:
        return [f"o1[i] = max(o1[i], {e})"]
    if k == 9:
        a, b = elem_stmt(r, depth + 1), elem_stmt(r, depth + 1)
        return [f"if {scal_ij(r, 1)} > 0:"] + ["    " + x for x in a] + ["else:"] + ["    " + x for x in b]
    if k == 10:
        return [f"if {scal_ij(r, 1)} > 1.2:", "    break"]
    if k == 11:
        return [f"if {scal_ij(r, 1)} > 2.0:", "    " + RET]
    if k == 12:
        return [f"ia[i] = (ia[i] + j) % 7 - {r.choice(['1', 'j // 2', 'ia[i] // 3'])}"]
    return [f"out[i, j] = X[i, j] / (1.0 + abs({e}))"]


def row_stmt(r, depth=0):
    e = row(r)
    k = r.randrange(24 if depth == 0 else 12)
    if k == 17:
        return [f"if {reduce_(r, row(r, 1))} > 1.0:", "    continue"]
    if k == 18:
        return [f"t = {e}.copy()", f"t[{r.choice(['0', 'm - 1', 'i % m'])}] = {reduce_(r, row(r, 1))}",
                f"out[i] {r.choice(['=', '+='])} t * 0.5"]
    if k == 19:
        return [f"out[i] {r.choice(['*=', '-=', '/='])} {r.choice(['0.5', '(2.0 + np.tanh(' + e + '))', '(w[i] * w[i] + 1.0)'])}"]
    if k == 20:
        return [f"o1[i] = {r.choice(['X[i, :i % m + 1]', 'X[i, i % m:]', 'v[:i % m]', 'X[:i + 1, 0]', 'w[i:]'])}"
                f".sum() + {reduce_(r, e)}"]
    if k == 21:
        return [f"o1[i] = {r.choice(['X[i] @ v', 'np.dot(Y[i], v)', 'X[i] @ X[n - 1 - i]', 'np.sum(X[i] * X[idx[i]])'])}"]
    if k == 22:
        return [f"out[i] = np.clip({e}, -0.5, {r.choice(['0.5', 'w[i]', '1.0'])})" if r.random() < 0.5
                else f"out[i] = np.sqrt(np.abs({e})) - np.exp(-np.abs({e}))"]
    if k == 23:
        inner = [x.replace("X[i, j]", "xv") for _ in range(r.randint(1, 2)) for x in elem_stmt(r)]
        return ["for j, xv in enumerate(X[i]):"] + ["    " + x for x in inner]
    if k == 0:
        return [f"out[i] = {e}"]
    if k == 1:
        return [f"out[i] += {e}"]
    if k == 2:
        return [f"o1[i] = {reduce_(r, e)}"]
    if k == 3:
        return [f"acc += {reduce_(r, e)}"]
    if k == 4:
        return [f"oc += {e}"]
    if k == 5:
        return [f"out[i, 0:2] += {e}[1:3]"]
    if k == 6:
        return [f"out[i, 1:] = {e}[:m - 1] * 0.5"]
    if k == 7:
        return [f"oc = np.maximum(oc, {e})"]
    if k == 8:
        return [f"s += int(ia[i] // 2) + int({reduce_(r, e)} > 0)"]
    if k == 9:
        return [f"out[i] = out[i - 1] * 0.5 + {e} if i > 0 else {e}"]
    if k == 10:
        return [f"o1[i] = {reduce_(r, e)} if {reduce_(r, row(r, 1))} > 0 else w[i]"]
    if k == 11:
        return [f"out[i, ::2] = {e}[::2]"]
    if k == 12:
        a, b = row_stmt(r, depth + 1), row_stmt(r, depth + 1)
        return [f"if {reduce_(r, row(r, 1))} > 0:"] + ["    " + x for x in a] + ["else:"] + ["    " + x for x in b]
    if k == 13:
        return [f"if {reduce_(r, row(r, 1))} > 2.0:", "    break"]
    if k == 14:
        return [f"if {reduce_(r, row(r, 1))} > 3.0:", "    " + RET]
    if k == 15:
        inner = [elem_stmt(r) for _ in range(r.randint(1, 2))]
        return [f"for j in range({r.choice(['m', '1, m', 'm - 1, -1, -1'])}):"] + ["    " + x for s in inner for x in s]
    return [f"ia[i] = ia[i] % 4 + {r.choice(['i // 2', '-(ia[i] // 3)', 'int(X[i, 0] > 0)'])}"]


def col_stmt(r):
    c = col(r)
    k = r.randrange(5)
    if k == 0:
        return [f"oc[j] = {reduce_(r, c)}"]
    if k == 1:
        return [f"out[:, j] = {c} * 0.5"]
    if k == 2:
        return [f"acc += {reduce_(r, c)}"]
    if k == 3:
        return [f"out[:, j] += {c}"]
    return [f"oc[j] = oc[j - 1] + {reduce_(r, c)} if j > 0 else 0.0"]


def widened_stmt(r):
    """The s25 round's statements: masked writes on rows, slices of computed
    constant length, np.where/np.clip/np.cumsum in loops, a nested function
    and a closure, a tuple of rows carried through the loop, augmented
    assignment on row, column and transposed views."""
    k = r.randrange(8)
    if k == 0:  # masked writes
        return ["for i in range(n):", "    " + r.choice(["out[i][X[i] > 0] = 0.0", "out[i, X[i] > w[i]] += 1.0",
                                                          "X[i][X[i] < -1.0] *= 0.5", "oc[X[i] > 0.5] += w[i]",
                                                          "out[i][X[i] * ia[i] > 0] = Y[i][X[i] * ia[i] > 0]"]),
                "    " + r.choice(["acc += out[i].sum()", "o1[i] = X[i].max()", "cnt += 1"])]
    if k == 1:  # slices of a computed constant length
        return ["E = np.zeros(2 * n + m)", "for i in range(n):",
                "    " + r.choice(["E[i * 2:i * 2 + m] += X[i]", "E[2 * i:2 * i + 2] = X[i, :2] * 0.5 + E[2 * i + 1:2 * i + 3]",
                                   "o1[i] = E[i * 2:i * 2 + 3].sum() + X[i, 0]\n    E[i * 2 + 1:i * 2 + 3] += w[i]",
                                   "out[i, 1:3] = E[i:i + 2] + X[i, 0:2]\n    E[i:i + m] = np.maximum(E[i:i + m], X[i])"]),
                "oc += E[:m]"]
    if k == 2:  # np.where / np.clip / np.cumsum on rows in a loop, with a carried row
        step = r.choice(["h = np.cumsum(h * 0.5 + X[i]) * 0.25", "h = np.where(h > X[i], h, X[i]) * 0.9",
                         "h = np.clip(h + X[i], -1.0, 1.0)", "out[i] = np.cumsum(X[i]) - h\n    h = np.tanh(h + X[i])",
                         "out[i] = np.where(X[i] > h, X[i], h)\n    h = h * 0.5 + np.clip(Y[i], -0.5, 0.5)"])
        return ["h = np.zeros(m)", f"for i in {r.choice(['range(n)', 'range(n - 1, -1, -1)'])}:", "    " + step,
                "oc += h"]
    if k == 3:  # a nested function and a closure over the loop's arrays
        g = r.choice(["def g(row):\n    return np.tanh(row) * 0.5 + v", "def g(row, k=0.5):\n    return row * k - row.mean()",
                      "g = lambda row: np.maximum(row, 0.0) + w[0]"])
        return g.split("\n") + ["for i in range(n):", "    " + r.choice(["out[i] = g(X[i])", "oc += g(out[i]) * 0.1",
                                                                       "o1[i] = g(X[i]).sum()"])]
    if k == 4:  # a tuple of rows carried through the loop
        return ["st = (X[0].copy(), np.zeros(m))", "for i in range(1, n):",
                "    " + r.choice(["st = (st[1] * 0.5 + X[i], st[0])", "st = (np.tanh(st[0] + st[1]), st[1] + X[i] * 0.1)",
                                   "p, q = st\n    st = (q, p + Y[i])"]),
                "oc += st[0] - st[1]"]
    if k == 5:  # augmented assignment on views
        return [r.choice(["for i in range(n):\n    row = out[i]\n    row += X[i]\n    row[1:] -= row[:-1] * 0.5",
                          "col = out[:, 0]\nfor j in range(1, m):\n    col += X[:, j] * 0.5",
                          "Xt = out.T\nfor j in range(m):\n    Xt[j] *= 0.5 + j\n    Xt[j, 0] += w[0]",
                          "for i in range(n):\n    out[i].reshape(1, m)[0, ::2] += X[i, ::2]",
                          "out[1:, :] += out[:-1, :] * 0.5", "out[:, ::-1][0] -= v"])]
    if k == 6:  # int, float and bool rows mixed
        return ["for i in range(n):", "    " + r.choice(["o1[i] = (X[i] > 0).sum() + ia[i] // 2", "out[i] += X[i] > w[i]",
                                                          "s += int((X[i] > 0).sum()) * ia[i]",
                                                          "oc += (X[i] > 0) * ia[i] + (Y[i] < 0)"])]
    # a while loop with a tolerance
    return ["sq = np.abs(w) + 1.0", "g2 = sq.copy()", "it = 0",
            "while np.abs(g2 * g2 - sq).max() > 1e-10 and it < 60:", "    g2 = 0.5 * (g2 + sq / g2)", "    it += 1",
            "o1 += g2", "cnt += it"]


def top_stmt(r):
    k = r.randrange(20)
    if k >= 17:
        return widened_stmt(r)
    if k == 12:  # a per-row accumulator reset in the outer loop
        inner = r.choice(["r_ += X[i, j] * v[j]", "r_ = max(r_, X[i, j] - out[i, j])", "r_ = r_ * 0.5 + Y[i, j]",
                          "if X[i, j] > r_:\n            r_ = X[i, j]\n            bj = j"])
        return ["for i in range(n):", "    r_ = " + r.choice(["0.0", "-1e30", "w[i]"]), "    bj = -1",
                "    for j in range(m):", "        " + inner,
                "    " + r.choice(["o1[i] = r_ + bj", "acc += r_ * 0.1", "out[i, bj] = r_", "cnt += bj"])]
    if k == 13:  # a 2-D dynamic program
        upd = r.choice(["min(out[i - 1, j], out[i, j - 1]) + X[i, j]", "max(out[i - 1, j - 1] + X[i, j], out[i - 1, j] * 0.5)",
                        "out[i - 1, j] + out[i, j - 1] * 0.5 - out[i - 1, j - 1] * 0.25"])
        return ["for i in range(1, n):", "    for j in range(1, m):", f"        out[i, j] = {upd}"]
    if k == 14:  # a while loop inside a for loop
        return ["for i in range(n):", "    k2 = 0", "    t2 = 0.0",
                f"    while k2 < m and {r.choice(['t2 < 1.5', 'X[i, k2] < 1.0', 'True'])}:",
                "        t2 += abs(X[i, k2])", "        " + r.choice(["out[i, k2] = t2", "k2 += 0", "oc[k2] += t2 * 0.5"]),
                "        k2 += 1", "    " + r.choice(["o1[i] = t2", "cnt += k2", "acc += t2 - k2"])]
    if k == 15:  # an index computed from data
        return ["for i in range(n):", f"    k2 = int(abs({scal_ij(r, 1).replace('j', '0')}) * 3.0) % m",
                "    " + r.choice(["out[i, k2] += 1.0", "o1[i] = X[i, k2]", "oc[k2] += w[i]", "s += k2"])]
    if k == 16:  # scalars swapped in a tuple assignment
        return ["p, q = 0.0, 1.0", "for i in range(n):", "    for j in range(m):",
                "        " + r.choice(["p, q = q, p * 0.5 + X[i, j]", "p, q = q * 0.9, np.tanh(p + Y[i, j])"]),
                "    o1[i] = p - q", "acc += p"]
    if k == 9:
        body = [row_stmt(r, 1) for _ in range(r.randint(1, 2))]
        head = r.choice(["for i, xr in enumerate(X):", "for i in range(n):\n    xr = X[i]"])
        return head.split("\n") + ["    " + x.replace("X[i]", "xr") for b in body for x in b]
    if k == 10:
        step = r.choice(["b[:] = a * 0.5 + X[i]", "b = np.tanh(a[::-1]) + X[i] * 0.5", "b[1:] = a[:-1] + Y[i, 1:]",
                         "b = np.maximum(a, X[i]) * 0.9"])
        return ["a = X[0].copy()", "b = np.zeros(m)", "for i in range(1, n):", "    " + step, "    a, b = b, a",
                "oc += a - b * 0.5"]
    if k == 11:
        return ["for i in range(n):", "    for j in range(i % m, m):",
                "        " + r.choice(["out[i, j] = out[i, j - 1] + X[i, j] if j > 0 else X[i, j]",
                                       "acc += X[i, j] * X[j % n, i % m]", "oc[j] += out[i, j] * 0.5",
                                       "if X[i, j] > 1.0:\n            break\n        cnt += 1"])]
    if k <= 2:
        body = [row_stmt(r) for _ in range(r.randint(1, 3))]
        loop = r.choice(["range(n)", "range(1, n)", "range(n - 1, -1, -1)"])
        return [f"for i in {loop}:"] + ["    " + x for s in body for x in s]
    if k == 3:
        body = [elem_stmt(r) for _ in range(r.randint(1, 3))]
        li = r.choice(["range(n)", "range(n - 1, -1, -1)"])
        lj = r.choice(["range(m)", "range(1, m)", "range(m - 1, -1, -1)"])
        return [f"for i in {li}:", f"    for j in {lj}:"] + ["        " + x for s in body for x in s]
    if k == 4:
        body = [col_stmt(r) for _ in range(r.randint(1, 2))]
        return ["for j in range(m):"] + ["    " + x for s in body for x in s]
    if k == 5:
        cond = r.choice(["k < n and acc < 3.0", "k < n", "acc < 2.0 and k < 3 * n", "k < n and X[k % n, 0] < 1.5"])
        step = r.choice(["acc += abs(X[k % n, 0]) + 0.1", "acc += np.abs(X[k % n]).sum() * 0.3",
                         "o1[k % n] += acc", "w[k % n] = w[k % n] * 0.5 + acc"])
        body = ["    " + step, "    k += 1"]
        if r.random() < 0.3:
            body.insert(1, "    if X[k % n, 1] > 1.0:\n        break")
        return ["k = 0", f"while {cond}:"] + body + ["cnt += k"]
    if k == 6:
        return [r.choice(["oc += X.sum(axis=0)", "o1 += X.max(axis=1)", "o1 = o1 + np.min(X, axis=1)",
                          "oc += np.mean(X * out, axis=0)", "acc += X.sum(axis=1).max()",
                          "o1 += Y.sum(axis=1)", "out[::2] = X[::2] * 2.0", "out[1::2] += Y[1::2]",
                          "oc += X[:, ::-1].sum(axis=0)", "s += int(ia.sum() // 3)", "w[::2] = w[::2] % 1.5",
                          "ia[1:] = ia[:-1] // 2"])]
    if k == 7:
        body = r.choice([["o1[i] = w[i:i + 3].sum()"], ["o1[i:i + 2] += v[:2] * w[i]"], ["w[i:i + 3] = w[i:i + 3] * 0.5 + 0.1"],
                         ["acc += np.max(w[i:i + 3]) - np.min(o1[i:i + 3])"], ["o1[i + 2] = o1[i + 1] + o1[i] * 0.5"],
                         ["out[i:i + 2, 0] = X[i:i + 2, 1] * acc", "acc += 0.1"]])
        return ["for i in range(n - 2):"] + ["    " + x for x in body]
    # integer-array loop
    body = r.choice([["s += ia[i] // 3 + ia[i] % 3"], ["ia[i] = ia[i] * 3 // 2 - ia[(i + 1) % n] % 4"],
                     ["o1[i] = ia[i] / 2 + ia[i] // 2"], ["s += (ia[i] - 5) // 2", "s = s % 1000"],
                     ["s += ia[idx[i]] % (i + 1)"], ["ia[idx[i]] += 1"]])
    return ["for i in range(n):"] + ["    " + x for x in body]


def program(r):
    body = [top_stmt(r) for _ in range(r.randint(1, 3))]
    lines = [SIG, "    n, m = X.shape", "    acc = 0.0", "    cnt = 0", "    s = 0"]
    for st in body:
        for x in st:
            lines += ["    " + y for y in x.split("\n")]
    lines.append("    " + RET)
    return "\n".join(lines) + "\n"


def args(n: int, m: int, seed: int) -> list:
    r = np.random.default_rng(seed)
    return [r.standard_normal((n, m)), r.standard_normal((n, m)).astype(np.float32), r.standard_normal(m),
            r.standard_normal(n), r.integers(0, n, n), r.integers(-5, 9, n), r.standard_normal((n, m)),
            r.standard_normal(n), r.standard_normal(m)]
