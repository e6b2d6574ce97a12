"""Random programs of scalar code and dtype mixing, for tests/tracer/
test_generated_scalar.py (the s24 round): `math.*` functions, `abs`,
`min`/`max`, `int()`/`float()`/`round()`/`bool()`, `//` and `%` on negative
ints and floats (and zero denominators, where a NumPy scalar gives inf/nan
and a Python float raises), `**` with int and float exponents, chained
comparisons and conditional expressions in loops; int32/int64/uint8/bool/
float32/complex128 arrays mixed with Python scalars, `.astype`, wrapping
integer arithmetic, true division of ints, bool arithmetic; an early
`return` inside a loop whose arrays have other shapes than the final one's,
lists filled with `.append` then `np.array(lst)`, tuples of results; views
(`x[::-1]`, `out[1::2] += ...`, `np.flip`, reshape/transpose views written
in place, a write through one name read through another), `reversed(range(
...))`, `zip`/`enumerate` over arrays; reductions with `axis=`/`keepdims=True`,
`np.cumsum`/`np.cumprod`, `np.argmax` of ties, `np.where` of scalars of
different types, `np.select`, `np.clip` of ints.

`program(random.Random(seed))` draws one; `args(n, seed)` its arguments.
Each statement leaves its value in a result `rK` returned at the end (with
`out`, `acc`, `s`), so a result's dtype and shape are compared too.

The s25 round widened it (`widened`, one statement in seven): more `math.*`
functions, np.where/np.clip/np.cumsum on rows inside loops with a carried
row, masked writes `x[mask] = v` (also on `x[i:]`), slices of computed
constant length (`E[i * 2:i * 2 + 3]`), nested functions and closures, a
helper writing into its argument, tuples of arrays carried through loops
(and chosen by a conditional expression), augmented assignment on views
(rows, `.T`, `.real`/`.imag` of a complex array), int/float/bool arrays
mixed in loops, while loops with a tolerance (Newton, a fixed point,
bisection), complex arrays in loops, reductions of masked selections, bit
operations on ints, row views written in a nested loop, and rows stacked
from a list."""

import numpy as np

SIG = "def f(x, y, a, b, u, z, c, X, out):"

# float leaves (bounded, no carried value) and int leaves
FLEAF = ["x[i]", "y[i]", "float(a[i])", "0.5", "-1.5", "float(i)", "float(b[i])", "c[i].real", "float(u[i]) * 0.01",
         "x[n - 1 - i]", "X[i, 1]", "0.0"]
# (no bare u[i]: a Python int out of uint8's range meeting it raises OverflowError in NumPy 2, which
# looptrace's compiled code does not check; see test_generated_scalar.py)
ILEAF = ["a[i]", "int(b[i])", "i", "int(u[i])", "n", "-3", "7", "a[n - 1 - i]", "int(z[i])", "b[i]", "z[i]"]


def fe(r, depth=2):
    """A float-valued scalar expression of the loop index i. The sides of a
    conditional expression are Python floats (float()): one side a NumPy
    float and the other a Python float gives a value whose type depends on
    the data (Python raises ZeroDivisionError dividing the one by 0.0, NumPy
    gives inf for the other); looptrace types it once, as a NumPy float. So
    is the result of min/max of the two kinds."""
    if depth == 0 or r.random() < 0.3:
        return r.choice(FLEAF)
    a, b, c = fe(r, depth - 1), fe(r, depth - 1), fe(r, depth - 1)
    k = r.randrange(34)
    return [
        "math.exp(min({0}, 5.0))", "math.log(abs({0}) + 0.5)", "math.sqrt(abs({0}))", "math.sin({0})", "math.cos({0})",
        "math.tanh({0})", "math.atan2({0}, {1})", "math.hypot({0}, {1})", "float(math.floor({0}))",
        "math.ceil({0}) * 0.5", "math.fabs({0})", "math.copysign({0}, {1})", "(1.0 if math.isnan({0}) else float({1}))",
        "(0.0 if math.isinf({0}) else float({1}))", "math.pow(abs({0}), 1.5)", "math.erf({0})", "abs({0})",
        "float(min({0}, {1}))", "float(max({0}, {1}, {2}))", "float(int({0}))", "float(round({0}))", "round({0}, 1)",
        "(float({1}) if bool({0}) else 2.0)",
        "({0} // {1})", "({0} % {1})", "({0} ** 2)", "({0} ** 3)", "(abs({0}) ** 0.5)", "({0} ** -1)",
        "(float({1}) if {0} < {1} < {2} else float({2}))",
        "(float({0}) if {0} > {1} else -float({1}))", "({0} + {1})", "({0} * {1})",
        "({0} / {1})"][k].format(a, b, c)


def ie(r, depth=2):
    """An int-valued scalar expression (NumPy or Python ints: both appear)."""
    if depth == 0 or r.random() < 0.3:
        return r.choice(ILEAF)
    a, b = ie(r, depth - 1), ie(r, depth - 1)
    k = r.randrange(17)
    # min/max/if-else of a NumPy int and a Python int has a type that depends on the data (which one is
    # picked); looptrace types it once, so both sides are made Python ints (int()) here
    return ["({0} // 3)", "({0} % -4)", "({0} // -2)", "({0} % 5)", "abs({0})", "min(int({0}), int({1}))",
            "max(int({0}), int({1}))", "int({2})", "round({2})", "({0} * {1})", "({0} - {1})", "({0} ** 2)",
            "({0} // {1})", "({0} % {1})", "(z[i] + z[(i + 1) % n])", "int(bool({0}))",
            "(int({0}) if {0} > {1} else int({1}))"][k].format(a, b, fe(r, 1))


def bounded(e):
    return f"math.tanh({e})"


def loop(r):
    return r.choice(["range(n)", "reversed(range(n))", "range(n - 1, -1, -1)", "range(1, n)"])


def stmt(r, k_res):
    """Lines of one statement; it binds r{k_res}."""
    rk = f"r{k_res}"
    k = r.randrange(28)
    if k >= 24:
        return widened(r, k_res)
    if k == 0:  # a float scalar loop
        body = [f"acc = 0.5 * acc + {bounded(fe(r))}", f"out[i] = {fe(r)}"]
        if r.random() < 0.4:
            body = [f"if {fe(r, 1)} > {fe(r, 1)}:", "    " + body[0], "else:", "    " + body[1]]
        return [f"for i in {loop(r)}:"] + ["    " + b for b in body] + [f"{rk} = acc"]
    if k == 1:  # an int scalar loop
        return [f"t = 0", f"for i in {loop(r)}:", f"    t = (t + {ie(r)}) % 1000", f"    s += {ie(r, 1)}",
                f"{rk} = t"]
    if k == 2:  # a float scalar with a conditional expression and chained comparison
        return [f"{rk} = 0.0", f"for i in {loop(r)}:",
                f"    {rk} += {fe(r, 1)} if {fe(r, 1)} < {fe(r, 1)} <= {fe(r, 1)} else {bounded(fe(r))}"]
    if k == 3:  # list append then np.array
        cond = r.choice([f"{fe(r, 1)} > 0", f"a[i] % 3 == 1", "z[i]", f"{ie(r, 1)} < 2"])
        item = r.choice([fe(r, 1), f"int({ie(r, 1)})", f"x[i] * {ie(r, 1)}", "a[i]", "b[i] * 2"])
        return ["lst = []", f"for i in {loop(r)}:", f"    if {cond}:", f"        lst.append({item})",
                f"{rk} = np.array(lst)"] + ([f"{rk} = {rk} * 2"] if r.random() < 0.3 else [])
    if k == 4:  # views written in place
        return [r.choice(["out[::-1] += x", "out[1::2] += y[1::2] * 2.0", "out[::2] = x[::2] - out[::2]",
                          "v = out[::-1]\nv[0] = x[0] + 1.0\nv[1:] = v[:-1] * 0.5", "np.flip(out)[0] = 3.0",
                          "w = out.reshape(-1, 1)\nw[:, 0] += y", "Xt = X.T\nXt[1] += x\nout += X[:, 1]",
                          "X[:, ::-1][0] = y[0]", "v = out\nv += 1.0\nout[0] = v[-1]",
                          "out[n // 2:] = out[:n - n // 2][::-1]", "out[:] = out[::-1] * x"]),
                f"{rk} = out.sum()"]
    if k == 5:  # zip/enumerate
        return [f"{rk} = 0.0", r.choice([f"for xi, ai in zip(x, a):\n    {rk} += xi * ai if ai > 0 else xi",
                                         f"for i, ai in enumerate(a[::-1]):\n    {rk} += float(ai % 3) * y[i]",
                                         f"for i, xi in enumerate(x):\n    out[n - 1 - i] = xi * 2.0 + {rk}\n    {rk} += 0.5",
                                         f"for zi, ui in zip(z, u):\n    s += int(zi) + int(ui) // 7"])]
    if k == 6:  # reductions along an axis
        return [f"{rk} = " + r.choice(["X.sum(axis=0, keepdims=True)", "X.max(axis=1, keepdims=True)",
                                       "np.min(X, axis=0)", "np.mean(X, axis=1, keepdims=True) - X",
                                       "np.prod(np.tanh(X), axis=1)", "X.sum(axis=1) + x",
                                       "np.argmax(X, axis=1)", "np.argmin(np.round(X), axis=0)",
                                       "np.sum(a.reshape(-1, 1) * X, axis=0)", "X.cumsum(axis=0)",
                                       "np.any(X > 1.0, axis=1)", "np.all(X > -1.0, axis=0, keepdims=True)"])]
    if k == 7:  # scans
        return [f"{rk} = " + r.choice(["np.cumsum(a)", "np.cumsum(x)", "np.cumprod(np.tanh(x) + 1.0)", "np.cumsum(z)",
                                       "np.cumprod(np.clip(a, -2, 2))", "np.cumsum(u)", "np.cumsum(b)",
                                       "np.cumsum(x[::-1])[::-1]", "np.cumsum(y) / (1.0 + np.arange(n))"])]
    if k == 8:  # argmax ties
        return [f"{rk} = " + r.choice(["np.argmax(np.round(x))", "np.argmax(a % 2)", "np.argmin(z)", "np.argmax(u // 64)",
                                       "int(np.argmax(np.abs(a))) + int(np.argmin(a))", "np.argmax(np.floor(y * 0.5))"])]
    if k == 9:  # where / select / clip
        return [f"{rk} = " + r.choice(["np.where(x > 0, 1, 0.5)", "np.where(z, a, 2.5)", "np.where(a > 0, a, -1)",
                                       "np.where(x > y, x, 0)", "np.where(z, 1, 0)", "np.where(b > 0, u, b)",
                                       "np.select([x > 0.5, x < -0.5], [a, y], default=3)",
                                       "np.select([a > 1, z], [b, u])", "np.clip(a, -2, 3)", "np.clip(b, 0, 5)",
                                       "np.clip(u, 10, 200)", "np.clip(a, -1.5, 2.5)", "np.clip(x, -1, 1)"])]
    if k == 10:  # dtype mixing, whole arrays
        return [f"{rk} = " + r.choice(["a / b", "a // b", "a % b", "b * 70000", "u + u", "u - 5", "-u", "u * 3",
                                       "u // 3", "z + z", "z * 1.5", "z.sum()", "a.astype(np.float32) * 0.5",
                                       "x.astype(np.int32)", "(x * 100).astype(np.uint8)", "b.astype(np.uint8)",
                                       "u.astype(np.int8)", "c * x", "np.abs(c)", "(c * c).imag", "c.real + a",
                                       "a ** 2", "np.abs(b)", "b + np.int32(1)", "u + np.uint8(250)", "a * 0.5 + b",
                                       "np.float32(0.5) * x", "x.astype(np.float32) + 1", "a > b", "~z", "z & (a > 0)",
                                       "a.astype(bool)", "b // 0 + a % 1", "x // 0.0", "np.sign(a) * u", "b ** 2",
                                       "a * 4611686018427387904", "np.int64(2) ** 62 * a"])]
    if k == 11:  # element-wise dtype mixing in a loop
        dst, val = r.choice([("a[i]", ie(r)), ("b[i]", ie(r)), ("u[i]", f"({ie(r)}) % 256"), ("z[i]", f"{fe(r, 1)} > 0"),
                             ("x[i]", ie(r)), ("c[i]", fe(r)), ("out[i]", "a[i] / b[i]"), ("out[i]", "b[i] // 2 * 1.5"),
                             ("b[i]", "b[i] * 1000"), ("u[i]", "u[i] + 100"), ("out[i]", "u[i] - 200"),
                             ("out[i]", "z[i] + z[i]"), ("out[i]", "a[i] ** 3"), ("out[i]", "x[i] // y[i]"),
                             ("out[i]", "x[i] % y[i]"), ("out[i]", "a[i] // b[i]"), ("out[i]", "a[i] % b[i]"),
                             ("out[i]", "float(a[i]) % -2.5"), ("out[i]", "float(i) // -0.75"),
                             ("out[i]", "y[i] ** 2.5"), ("out[i]", "x[i] ** -2"), ("out[i]", "abs(c[i])")])
        return [f"for i in {loop(r)}:", f"    {dst} = {val}", f"{rk} = {dst.split('[')[0]}.copy()"]
    if k == 12:  # integer scalar wrap: NumPy scalars
        return [f"{rk} = " + r.choice(["b[0] * np.int32(100000)", "u[0] + u[-1]", "u[0] - u[-1]", "a[0] * a[-1]",
                                       "np.int32(b[0]) + 2147483600", "u[0] * 3", "z[0] + z[-1]", "z[0] - 0",
                                       "b[0] // b[-1]", "a[0] % a[-1]", "b[0] / 2", "u[0] / u[-1]", "abs(b[0])",
                                       "-u[0]", "x[0] // 0.0 if x[0] != 0.0 else 1.0"])]
    if k == 13:  # early return in the loop (the last statement only: see program())
        return None
    if k == 14:  # aliasing: a write through one name read through another
        return [r.choice(["v = X[0]", "v = X[:, 0]", "v = out", "v = out[1:]", "v = X.reshape(-1)", "v = X.T[0]"]),
                f"for i in {loop(r)}:",
                "    " + r.choice(["v[i % v.shape[0]] = x[i] + X[0, 0]", "v[i % v.shape[0]] += out[0] * 0.5",
                               "out[i] = v[(i + 1) % v.shape[0]] + x[i]"]),
                f"{rk} = X.sum() + out.sum()"]
    if k == 15:  # bool arithmetic
        return [f"{rk} = 0", f"for i in {loop(r)}:",
                "    " + r.choice([f"{rk} += z[i] * 2 - (x[i] > 0)", f"{rk} += bool(a[i]) + (b[i] < 0)",
                               f"{rk} += (x[i] > y[i]) + (x[i] > 0) * 3", f"{rk} -= z[i]",
                               f"{rk} += True if a[i] < 0 else z[i]"])]
    if k == 16:  # tuple of results from a loop
        return ["p, q = 0.0, 0", f"for i in {loop(r)}:", f"    p, q = p * 0.5 + {bounded(fe(r))}, q + {ie(r, 1)}",
                f"{rk} = (p, q)"]
    if k == 17:  # power forms
        return [f"{rk} = 0.0", f"for i in {loop(r)}:",
                "    " + r.choice([f"{rk} += abs(x[i]) ** y[i]", f"{rk} += float(a[i] ** 2) * 0.01",
                               f"{rk} += 2.0 ** a[i]", f"{rk} += x[i] ** i", f"{rk} += (-2) ** i * 0.001",
                               f"{rk} += a[i] ** 0 + b[i] ** 1", f"{rk} += pow(x[i], 2)", f"{rk} += 0.5 ** float(u[i])",
                               f"{rk} += math.pow(x[i], 2.0)", f"{rk} += y[i] ** 0.5 if y[i] > 0 else 0.0",
                               f"{rk} += (i - 3) ** 3 * 0.01"])]
    if k == 18:  # float // and % with negatives and zero
        return [f"{rk} = 0.0", f"for i in {loop(r)}:",
                "    " + r.choice([f"{rk} += x[i] // 0.5 + x[i] % -0.75", f"{rk} += float(a[i]) // y[i]",
                               f"{rk} += (a[i] - 2) % 0.3", f"{rk} += x[i] % float(b[i])",
                               f"{rk} += a[i] / (b[i] + 0.5)", f"{rk} += float(a[i] // (b[i] if b[i] != 0 else 1))",
                               f"{rk} += divmod(a[i], 3)[0] + divmod(x[i], -1.5)[1]", f"{rk} += -7 // (i + 1) + -7 % (i + 2)",
                               f"{rk} += float(i) % -1.5"])]
    if k == 19:  # round/int/float of negatives
        return [f"{rk} = 0", f"for i in {loop(r)}:",
                "    " + r.choice([f"{rk} += round(x[i] * 2.5)", f"{rk} += int(x[i] * 3.0)", f"{rk} += int(-0.5 - i * 0.5)",
                               f"{rk} += round(float(i) + 0.5)", f"{rk} += int(round(y[i], 1) * 10)",
                               f"{rk} += int(float(a[i]) / 3)", f"{rk} += math.floor(x[i]) + math.ceil(y[i])",
                               f"{rk} += int(b[i] / -2)", f"{rk} += round(a[i] / 2)"])]
    if k == 20:  # while loop with scalar math
        return ["t = 1.0", "j = 0", f"while j < 3 * n and abs(t) > 1e-3:",
                "    t = " + r.choice(["t * 0.5 + math.sin(x[j % n]) * 0.1", "math.cos(t) - 0.75", "t - math.tanh(t) * 0.9",
                                       "math.atan2(t, 1.0 + abs(y[j % n]))"]), "    j += 1", f"{rk} = (t, j)"]
    if k == 21:  # complex scalars
        return [f"{rk} = 0j", f"for i in {loop(r)}:",
                "    " + r.choice([f"{rk} += c[i] * x[i]", f"{rk} = {rk} * 0.5 + c[i].conjugate()", f"{rk} += abs(c[i]) + 1j",
                               f"{rk} += c[i] ** 2", f"{rk} += c[i] * 1j - a[i]"])]
    if k == 22:  # int accumulator wrap in a NumPy int32 / uint8 array element
        return [f"for i in {loop(r)}:",
                "    " + r.choice(["b[0] += b[i] * 1000", "u[0] += u[i]", "u[i] -= 7", "b[i] *= 3000",
                               "a[0] = a[0] * 3 + a[i]", "u[0] = u[0] * 7 + i"]),
                f"{rk} = " + r.choice(["b.copy()", "u.copy()", "a.copy()", "int(u[0]) + int(b[0])"])]
    # a nested expression stored into out
    return [f"for i in {loop(r)}:", f"    out[i] = {fe(r, 3)}", f"{rk} = out[i]"]


MATH1 = ["math.expm1({0})", "math.log1p(abs({0}))", "math.log10(abs({0}) + 1.0)", "math.log2(abs({0}) + 0.25)",
         "math.degrees({0})", "math.radians({0})", "float(math.trunc({0}))", "(1.0 if math.isfinite({0}) else 0.0)",
         "math.fmod({0}, 0.75)", "math.asinh({0})", "math.acos(math.tanh({0}))", "math.atan({0})",
         "math.sinh(math.tanh({0}))", "math.cosh(math.tanh({0}))", "math.erfc({0})", "math.lgamma(abs({0}) + 0.5)",
         "math.gamma(abs(math.tanh({0})) + 0.5)", "math.exp2(math.tanh({0}))", "math.cbrt({0})",
         "math.log(abs({0}) + 1.0, 2)", "math.asin(math.tanh({0}))", "math.acosh(abs({0}) + 1.0)",
         "math.atanh(math.tanh({0}) * 0.5)", "math.modf({0})[1]", "math.dist([{0}], [0.5])",
         "(1.0 if math.isclose({0}, 0.0) else 2.0)", "math.prod([{0}, 2.0])", "math.ulp(1.0) * {0}",
         "math.sqrt({0} * {0})", "math.e * {0}", "math.pi + {0}", "math.inf if {0} > 100.0 else float({0})",
         "float(math.floor({0}) // 2)"]


def widened(r, k_res):
    """The s25 round's statements (module docstring)."""
    rk = f"r{k_res}"
    k = r.randrange(16)
    if k == 0:  # math.* on scalars in a loop
        e = r.choice(MATH1).format(fe(r, 1))
        return [f"{rk} = 0.0", f"for i in {loop(r)}:", f"    {rk} += {e}", f"    out[i] = {r.choice(MATH1).format('x[i]')}"]
    if k == 1:  # np.where / np.clip / np.cumsum on rows inside loops
        body = r.choice(["X[i] = np.where(X[i] > 0, X[i], 0.5 * X[i])", "X[i] = np.clip(X[i], -0.5, abs(y[i]))",
                         "out[i] = np.cumsum(X[i])[-1]", "X[i] = np.cumsum(X[i]) * 0.5",
                         "out[i] = np.where(x[i] > y[i], x[i], y[i])", "out[i] = np.clip(x[i], -1.0, 1.0)",
                         "row = np.cumsum(X[i, ::-1])\n    out[i] = row[1] - row[0]",
                         "X[i] = np.where(z[i], X[i], -X[i])", "X[i, :2] = np.clip(X[i, 2:], 0.0, None)",
                         "v = np.cumsum(v * 0.5 + X[i])", "v = np.where(v > X[i], v, X[i])",
                         "v = np.clip(v + X[i], -2.0, 2.0)", "out[i] = np.where(v > 0, v, 0.0).sum()\n    v = v * 0.5 + X[i]"])
        return ["v = np.zeros(X.shape[1])", f"for i in {loop(r)}:", "    " + body, f"{rk} = v + X.sum(axis=0)"]
    if k == 2:  # masked writes
        w = r.choice(["out[x > 0] = 1.0", "out[z] = y[z]", "a[a < 0] = 0", "X[X > 1.0] -= 1.0", "out[out > acc] = acc",
                      "b[b > 1] = b[b > 1] * 2", "u[z] = 7", "out[~z] += x[~z] * 0.5", "X[:, 0][x > 0] = 2.0",
                      "c[z] = 1j", "x[np.abs(x) < 0.5] *= 3.0", "a[z] += 1", "X[z] = 0.0", "X[z, 1] = y[z]",
                      "out[a > 0] = a[a > 0]", "z[x > 1.0] = True"])
        if r.random() < 0.5:
            w = w.replace("out[", "out[i:][").replace("x[", "x[i:][").replace("y[", "y[i:][").replace("z[", "z[i:][")
            w = w.replace("a[", "a[i:][").replace("b[", "b[i:][").replace("u[", "u[i:][")
            if "X" in w or "c[" in w:
                w = "out[i:][x[i:] > 0] = 1.0"
            return [f"for i in {loop(r)}:", "    " + w, f"    acc += out[i] * 0.1", f"{rk} = out.copy()"]
        return [w, f"{rk} = out.sum() + X.sum() + a.sum()"]
    if k == 3:  # slices with computed constant lengths
        body = r.choice(["E[i * 2:i * 2 + 3] += x[i]", "E[2 * i + 1:2 * i + 3] = E[2 * i:2 * i + 2] * 0.5 + y[i]",
                         "out[i:i + 1] = E[i * 2:i * 2 + 1] + x[i]", "E[i:i + 3] = np.maximum(E[i:i + 3], x[i])",
                         "acc += E[i * 2:i * 2 + 3].sum()", "E[i * 2:(i + 1) * 2] = X[i, :2]",
                         "E[i * 2:i * 2 + 3] = E[i * 2:i * 2 + 3][::-1] + 1.0", "X[i, 1:3] = X[i, 0:2] * 0.5 + E[i:i + 2]"])
        return ["E = np.zeros(2 * n + 3)", f"for i in {loop(r)}:", "    " + body, f"{rk} = E"]
    if k == 4:  # nested functions and closures
        g = r.choice(["def g(t):\n    return t * 0.5 + y[0]", "def g(t, k=2.0):\n    return math.tanh(t) * k",
                      "scale = 0.25\ndef g(t):\n    return t * scale", "g = lambda t: t * t * 0.1",
                      "def g(t):\n    if t > 0:\n        return t\n    return -0.5 * t",
                      "def g(t):\n    s2 = 0.0\n    for j in range(3):\n        s2 += t * j\n    return s2",
                      "def h(t):\n    return t + 1.0\ndef g(t):\n    return h(t) * h(-t)"])
        call = r.choice(["acc += g(x[i])", "out[i] = g(out[i])", f"{rk} += g({fe(r, 1)})", "X[i] = g(X[i])",
                         "acc = 0.5 * acc + math.tanh(g(x[i]))"])
        return g.split("\n") + [f"{rk} = 0.0", f"for i in {loop(r)}:", "    " + call]
    if k == 5:  # tuples of arrays carried through loops
        body = r.choice(["p, q = q * 0.5, p + q * 0.1", "st = (st[1], st[0] * 0.5 + x[i])",
                         "p, q = np.tanh(p + X[i, :2]), q - p", "p = p + x[i]\n    q[i % 2] = p[0]",
                         "p, q = (q, p) if x[i] > 0 else (p, q)"])
        init = "st = (x[:2].copy() if n >= 2 else np.ones(2), np.zeros(2))" if "st" in body else \
            "p, q = np.zeros(2), np.ones(2)"
        fin = "st[0] - st[1]" if "st" in body else "(p, q)"
        return [init, f"for i in {loop(r)}:", "    " + body, f"{rk} = {fin}"]
    if k == 6:  # augmented assignment on views
        w = r.choice(["v = X[:, 1]\nv += x", "v = out[::2]\nv *= 2.0", "X[1:, :2] -= X[:-1, :2]", "out[1:] += out[:-1]",
                      "v = X[0]\nv[1:] -= v[:-1]", "for i in range(n):\n    row = X[i]\n    row += y[i]\n    row[:2] *= 0.5",
                      "for i in range(n):\n    X[i][1:] += X[i][:-1]", "v = out[n // 2:]\nv /= 2.0",
                      "for i in range(1, n):\n    out[i:] -= out[i - 1] * 0.1", "a[::2] //= 2", "u[1:] += u[:-1]",
                      "b[::-1] *= 3", "v = X.T\nv[0] += 1.0", "X[::2, ::2] += 1.0", "c.real[:] += x", "c.imag[::2] *= -1.0"])
        return w.split("\n") + [f"{rk} = (out.copy(), X.copy())"]
    if k == 7:  # int/float/bool dtype mixing on arrays, in loops
        body = r.choice(["ia += z", "fa = fa * 0.5 + a[i] + z", "X[i] += z[i]", "a[i] += x[i] > 0", "ia[i] = a[i] // 2 + z[i]",
                         "u[i] = u[i] + z[i]", "b += True", "ia = ia * 2 + (x > x[i])", "fa += a * x[i]",
                         "ia[i] += int(x[i] * 4.0)", "fa[i] = a[i] / (b[i] if b[i] != 0 else 1)",
                         "ia = np.maximum(ia, a)", "fa = np.where(z, fa, a)", "z[i] = z[i] ^ (a[i] > 0)",
                         "ia += a * (b > 0)", "fa += u.astype(np.float64) / 255.0"])
        return ["ia = np.zeros(n, dtype=np.int64)", "fa = np.zeros(n)", f"for i in {loop(r)}:", "    " + body,
                f"{rk} = (ia, fa)"]
    if k == 8:  # while loops with a tolerance
        w = r.choice(["v = x.copy()\nit = 0\nwhile np.max(np.abs(v)) > 1e-3 and it < 60:\n    v = v * 0.5\n    it += 1",
                      "t = 2.0\nit = 0\nwhile abs(t * t - 2.0) > 1e-12 and it < 50:\n    t = 0.5 * (t + 2.0 / t)\n    it += 1",
                      "v = np.abs(x) + 1.0\nt = v.copy()\nit = 0\nwhile np.abs(t * t - v).max() > 1e-10 and it < 80:\n"
                      "    t = 0.5 * (t + v / t)\n    it += 1",
                      "t = 1.0\nit = 0\nwhile True:\n    t2 = math.cos(t)\n    it += 1\n    if abs(t2 - t) < 1e-9 or it > 200:\n"
                      "        break\n    t = t2",
                      "lo, hi = -3.0, 3.0\nit = 0\nwhile hi - lo > 1e-6:\n    mid = (lo + hi) / 2\n"
                      "    if math.tanh(mid) > y[0] * 0.5:\n        hi = mid\n    else:\n        lo = mid\n    it += 1\nt = lo"])
        fin = "(v, it)" if w.startswith("v = x") else "(t, it)"
        return w.split("\n") + [f"{rk} = {fin}"]
    if k == 9:  # complex arrays
        body = r.choice(["c[i] = complex(x[i], y[i])", "c[i] *= 1j", "acc += (c[i] * c[i].conjugate()).real",
                         "c[i] = np.exp(c[i] * 0.1)", "cc = cc * 0.5 + c[i]", "out[i] = np.angle(c[i])",
                         "c[i] = c[i] + x[i]", "cc += c * x[i]", "out[i] = abs(c[i]) ** 2", "c[i] = c[(i + 1) % n] * 0.5"])
        return ["cc = np.zeros(n, dtype=np.complex128)" if "cc += c" in body else "cc = 0j", f"for i in {loop(r)}:",
                "    " + body, f"{rk} = (cc, np.cumsum(c), c.imag.sum())"]
    if k == 10:  # cumsum/where/clip of whole arrays mixed with scalars from loops
        return [f"{rk} = " + r.choice(["np.cumsum(np.where(z, x, 0.0))", "np.clip(np.cumsum(a), -5, 5)",
                                       "np.where(np.cumsum(x) > 0, a, b)", "np.cumsum(z.astype(np.int32))",
                                       "np.clip(x, y, None)", "np.clip(a, b, 4)", "np.where(a > 0, 1.5, z)",
                                       "np.cumsum(X, axis=1)[:, -1] - X.sum(axis=1)", "np.cumprod(np.where(z, 1, 2))"])]
    if k == 11:  # a closure over a loop variable, and a helper writing into its argument
        return r.choice([["def put(dst, k, v):\n    dst[k] = v", f"for i in {loop(r)}:", "    put(out, i, x[i] * 2.0)",
                          f"{rk} = out.copy()"],
                         ["def step(h, t):\n    return np.tanh(h * 0.5 + t)", "h = np.zeros(X.shape[1])",
                          f"for i in {loop(r)}:", "    h = step(h, X[i])", f"{rk} = h"],
                         ["def both(t):\n    return t * 2.0, t - 1.0", f"{rk} = 0.0", f"for i in {loop(r)}:",
                          "    p2, q2 = both(x[i])", f"    {rk} += p2 * q2"]])
    if k == 12:  # reductions of masked selections
        return [f"{rk} = " + r.choice(["x[x > 0].sum()", "a[z].sum()", "np.mean(y[z]) if z.any() else 0.0",
                                       "X[X > 0].max() if (X > 0).any() else -1.0", "x[a > 0].shape[0]",
                                       "np.count_nonzero(x > 0.5)", "np.sum(x[z] * 2.0)"])]
    if k == 13:  # scalars of mixed dtype in a running int/bool/float expression
        return [f"{rk} = 0", f"for i in {loop(r)}:",
                "    " + r.choice([f"{rk} += a[i] * z[i] + u[i] // 16", f"{rk} = {rk} ^ int(a[i])", f"{rk} |= int(z[i]) << (i % 5)",
                               f"{rk} += int(x[i] > y[i]) - int(b[i] < 0)", f"{rk} = max({rk}, int(a[i]) * 3)",
                               f"{rk} += b[i] >> 1", f"{rk} += ~int(u[i]) & 15"])]
    if k == 14:  # row views written in a nested loop
        return ["for i in range(n):", "    r_ = X[i]", "    for j in range(1, X.shape[1]):",
                "        " + r.choice(["r_[j] += r_[j - 1] * 0.5", "r_[j] = max(r_[j], r_[j - 1])",
                                       "r_[j] -= x[i] * j", "if r_[j] > 0:\n            r_[j] = 0.0"]),
                f"{rk} = X.copy()"]
    # sort/argsort/unique-free but stable building: stack of rows built in a loop
    return ["rows = []", f"for i in {loop(r)}:", "    rows.append(" + r.choice(["X[i] * x[i]", "np.cumsum(X[i])",
                                                                               "np.where(X[i] > 0, X[i], 0.0)"]) + ")",
            f"{rk} = np.stack(rows) if rows else X[:0]"]


def early_return(r, nres):
    rs = "".join(f", r{k}" for k in range(nres))
    # a shape other than the final return's is refused (ShapeError): one in three keeps it
    cut = r.choice(["out[:i + 1]", "out[i:]", "out[::2]", "x[i:] * 2.0", "out * 2.0", "x[::-1] + out", "np.cumsum(out)",
                    "np.where(out > 0, out, x)", "out.copy()", "y - out[::-1]", "out + i", "np.tanh(out)"])
    cond = r.choice([f"{fe(r, 1)} > 1.0", "a[i] < -2", "z[i] and x[i] > 0", f"{ie(r, 1)} == 2"])
    body = r.choice([f"acc += {bounded(fe(r))}", f"out[i] = {fe(r)}", f"s += {ie(r, 1)}"])
    head = [f"for i in {loop(r)}:", f"    {body}", f"    if {cond}:", f"        return {cut}, acc, s{rs}"]
    if r.random() < 0.3:
        head = [f"for i in {loop(r)}:", f"    if {cond}:", f"        if x[i] > 0:",
                f"            return {cut}, acc, s{rs}", f"        {body}", f"    {body}"]
    return head, f"return out, acc, s{rs}"


def program(r) -> str:
    lines = [SIG, "    n = x.shape[0]", "    acc = 0.0", "    s = 0"]
    count = r.randint(1, 4)
    ret = "return out, acc, s" + "".join(f", r{k}" for k in range(count))
    for k in range(count):
        st = stmt(r, k)
        while st is None:
            st = stmt(r, k)
        lines += ["    " + y for x in st for y in x.split("\n")]
    if r.random() < 0.25:
        head, ret = early_return(r, count)
        lines += ["    " + y for y in head]
    lines.append("    " + ret)
    return "\n".join(lines) + "\n"


def args(n: int, seed: int) -> list:
    g = np.random.default_rng(seed)
    x = g.standard_normal(n) * 1.5
    y = g.standard_normal(n)
    if n > 2 and g.random() < 0.3:
        x[g.integers(0, n)] = 0.0  # a zero denominator now and then
    a = g.integers(-6, 7, n)
    b = g.integers(-4, 5, n).astype(np.int32)
    if g.random() < 0.5:
        b[b == 0] = 1
    u = g.integers(0, 256, n).astype(np.uint8)
    z = g.random(n) < 0.5
    c = g.standard_normal(n) + 1j * g.standard_normal(n)
    X = g.standard_normal((n, 4))
    out = g.standard_normal(n)
    return [x, y, a, b, u, z, c, X, out]
