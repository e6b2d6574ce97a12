"""A probe for wrong answers (session 53): kernels written the way scientists
write them, aimed at the semantics a compiler can get wrong. Narrow integers
that wrap, `//` and `%` with negative operands and zero divisors, shifts past
the width, Python ints past 64 bits, NEP 50 promotion (a Python float with a
float32 array stays float32, uint64 with int64 is float64), float32 chaos that
any extra precision changes, complex64; NaN in max/min/argmax and in
branches (`not (a <= b)` is not `a > b`), the sign of zero, banker's
rounding; aliasing (`x[1:] += x[:-1]`, `A += A.T`, the same array passed
twice, a row swap through views, last-writer-wins scatters); early returns
and breaks in nested loops, zero- and one-trip loops, negative indices and
steps read from data; empty and keepdims reductions, argmax ties, the dtypes
of cumsum/sum/mean of narrow ints and bools; Generator streams; and Python's
own rules (round, int(), divmod, abs of the int minimum, late-binding
closures, sorted stability, chained comparisons, None defaults, the types of
returned Python scalars).
"""
import math

import numpy as np

from . import Kernel, error


def _n(m, test, bench):
    return test if m == "test" else bench


# --- integers: wraparound, division, shifts, powers -------------------------------------------

def int8_wrap_arrays(a, b):
    """int8 arrays: sums and products wrap, -(-128) and abs(-128) stay -128."""
    s = a + b
    p = a * b
    neg = -a
    ab = np.abs(a)
    d = a - b
    return s, p, neg, ab, d, (a * 3) // 2


def int16_python_int_accumulator(x):
    """A Python-int accumulator over int16 elements: NEP 50 keeps it int16, so it wraps."""
    s = 0
    big = 0
    for i in range(x.shape[0]):
        s += x[i]
        big += int(x[i])
    return s, big


def uint32_lcg(seed, n):
    """A 32-bit linear congruential generator in np.uint32: the multiply wraps mod 2**32."""
    out = np.empty(n, dtype=np.uint32)
    state = np.uint32(seed)
    a = np.uint32(1664525)
    c = np.uint32(1013904223)
    for i in range(n):
        state = state * a + c
        out[i] = state >> np.uint32(8)
    return out, state


def int_div_by_zero_arrays(a, b):
    """Integer // and % where some divisors are 0: NumPy gives 0 (with a warning)."""
    return a // b, a % b, np.floor_divide(a, b), np.remainder(a, b), np.fmod(a, b)


def int_floor_mod_loop(a, b):
    """// and % of negative np.int64 elements in a loop, Python ints and NumPy ints."""
    q = np.empty(a.shape[0], dtype=np.int64)
    r = np.empty(a.shape[0], dtype=np.int64)
    t = 0
    for i in range(a.shape[0]):
        q[i] = a[i] // b[i]
        r[i] = a[i] % b[i]
        t += int(a[i]) % -7 + (-int(b[i])) // 3
    return q, r, t


def true_division_ints(a, b, n):
    """int / int is float64: arrays, NumPy scalars and Python ints (a loop fraction i / n)."""
    frac = np.empty(n)
    for i in range(n):
        frac[i] = i / n
    return a / b, a[0] / b[0], frac, np.int32(7) / np.int32(2), (a // 2) / 4


def int_powers(a, k):
    """** on ints: int arrays squared and cubed wrap in int64; 2 ** k Python ints; np.int64 ** 40."""
    sq = a ** 2
    cu = a ** 3
    pw = np.empty(k, dtype=np.int64)
    for i in range(k):
        pw[i] = 2 ** i - 1
    wrapped = np.int64(3) ** 40
    return sq, cu, pw, wrapped, np.power(a, 2)


def shifts_past_width(v, s):
    """Shifts of int64 and uint64 by amounts up to 70: NumPy gives 0 (or -1) past the width."""
    left = v << s
    right = v >> s
    u = v.astype(np.uint64)
    uright = u >> s.astype(np.uint64)
    return left, right, uright, (-v) >> 3


def uint64_int64_mix(u, i):
    """uint64 with int64 is float64 in NumPy; uint64 with a Python int stays uint64."""
    return u + i, u + 1, u - np.uint64(5), (u * 3) // 7, u.astype(np.int64) - i


def abs_int_min(v):
    """abs and negation of the int64 minimum wrap (np.int64 elements); Python ints do not."""
    out = np.empty(v.shape[0], dtype=np.int64)
    for i in range(v.shape[0]):
        out[i] = abs(v[i])
    return out, np.abs(v), -v


def uint8_diff_loop(a, b):
    """abs(a[i] - b[i]) on uint8 elements wraps before abs; int() first does not."""
    n = a.shape[0]
    wrapped = np.empty(n, dtype=np.uint8)
    exact = np.empty(n, dtype=np.int64)
    for i in range(n):
        wrapped[i] = abs(a[i] - b[i])
        exact[i] = abs(int(a[i]) - int(b[i]))
    return wrapped, exact


def binomial_row(n):
    """Pascal's triangle's middle entry with Python ints: past 64 bits for n > 66 (and the running
    product c * (n - k) before that)."""
    c = 1
    for k in range(n // 2):
        c = c * (n - k) // (k + 1)
    return c


def gcd_euclid_loop(a, b):
    """Euclid's algorithm with a tuple swap in a while loop, on signed ints (Python's % sign)."""
    out = np.empty(a.shape[0], dtype=np.int64)
    for i in range(a.shape[0]):
        x, y = int(a[i]), int(b[i])
        while y != 0:
            x, y = y, x % y
        out[i] = x
    return out, np.gcd(a, b), np.lcm(a, b)


def int_float_mixes(i8, i32, f32):
    """Promotion of int arrays with Python floats, np.float32 scalars and float32 arrays."""
    return i8 * 2.5, i32 * np.float32(2), i8 + f32, i32 + f32, i8 // 2.0, i8 + 1


# --- float32, complex64 -----------------------------------------------------------------------

def logistic_map_f32(r, v0, n):
    """A chaotic float32 recurrence: any float64 intermediate or fused multiply-add changes it."""
    v = v0
    out = np.empty(n, dtype=np.float32)
    for i in range(n):
        v = r * v * (1 - v)
        out[i] = v
    return out


def kahan_f32(x):
    """Kahan summation in float32: the compensation must not be reassociated away."""
    s = np.float32(0.0)
    c = np.float32(0.0)
    for i in range(x.shape[0]):
        y = x[i] - c
        t = s + y
        c = (t - s) - y
        s = t
    naive = np.float32(0.0)
    for i in range(x.shape[0]):
        naive += x[i]
    return s, naive


def float32_promotion(x32, x64):
    """NEP 50: Python floats keep float32; NumPy float64 scalars and arrays widen it."""
    a = x32 * 2.0
    b = x32 * np.float64(2.0)
    c = x32 + x64
    d = np.float32(1.0) / 3
    e = x32.sum()
    f = math.sqrt(abs(float(x32[0])))
    g = x32[0] + 1e-3
    return a, b, c, d, e, f, g, x32.mean(), np.float32(0.1) + 0.2


def f32_loop_mixed_scalars(x):
    """float32 elements with Python ints, Python floats and a np.float64 start in a loop."""
    s64 = np.float64(0.0)
    s32 = 0.0
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        s64 += x[i]
        s32 = s32 * 0.999 + x[i]
        out[i] = x[i] * 3 + 1.1
    return s64, s32, out


def complex64_ops(z, w):
    """complex64 stays complex64 with Python complex scalars; abs is float32; a loop sum."""
    a = z * (1 + 2j)
    b = np.abs(z)
    c = z.conj() * w
    s = 0j
    for i in range(z.shape[0]):
        s += z[i] * w[i]
    return a, b, c, s, np.angle(z), z.real * 2


def mandelbrot_escape(cre, cim, maxit):
    """Escape counts with a complex while condition (abs(z) <= 2 and k < maxit)."""
    out = np.empty(cre.shape[0], dtype=np.int64)
    for i in range(cre.shape[0]):
        c = complex(cre[i], cim[i])
        z = 0j
        k = 0
        while abs(z) <= 2.0 and k < maxit:
            z = z * z + c
            k += 1
        out[i] = k
    return out


def float16_sum(h):
    """float16 arrays: arithmetic and sums stay float16."""
    return h * 2, h.sum(), h + np.float16(1.0)


# --- NaN, inf, signed zero, rounding ------------------------------------------------------------

def python_max_with_nan(x):
    """max/min builtins with NaN depend on argument order; np.max propagates; np.fmax ignores."""
    m1 = -math.inf
    m2 = -math.inf
    m3 = math.inf
    for i in range(x.shape[0]):
        m1 = max(m1, x[i])
        m2 = max(x[i], m2)
        m3 = min(m3, x[i])
    return m1, m2, m3, np.max(x), np.fmax.reduce(x), np.nanmax(x), np.maximum(x[:-1], x[1:])


def argmax_with_nan(x, X):
    """argmax/argmin return the first NaN; nanargmax skips them; per row too."""
    return np.argmax(x), np.argmin(x), np.nanargmax(x), np.argmax(X, axis=1), np.argmin(X, axis=0)


def nan_branch_negation(x, t):
    """`not (v <= t)` and `v > t` differ for NaN; so do `v != v` and `v == v`."""
    a = 0
    b = 0
    c = 0
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        v = x[i]
        if not (v <= t):
            a += 1
        if v > t:
            b += 1
        if v != v:
            c += 1
        out[i] = v if v >= 0 else -v
    return a, b, c, out


def nan_min_loop(x):
    """A running minimum with `if v < best` skips NaN; min(best, v) keeps best; min(v, best) takes NaN."""
    best = math.inf
    kept = math.inf
    taken = math.inf
    for i in range(x.shape[0]):
        v = x[i]
        if v < best:
            best = v
        kept = min(kept, v)
        taken = min(v, taken)
    return best, kept, taken


def signed_zero(x):
    """The sign of zero through products, negation, abs, max and copysign (seen via 1/x)."""
    z = x * 0.0
    n = -z
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = math.copysign(1.0, max(-0.0 * x[i], 0.0))  # max keeps its first argument on a tie
    return 1.0 / z, 1.0 / n, 1.0 / np.abs(z), np.signbit(z), np.copysign(1.0, z), out, 1.0 / np.maximum(z, 0.0)


def round_half_even(x):
    """np.round, np.rint and Python round() at exact halves: ties to even; decimals too."""
    out = np.empty(x.shape[0], dtype=np.int64)
    out2 = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        out[i] = round(x[i])
        out2[i] = round(float(x[i]), 1)
    return np.round(x), np.rint(x), np.round(x, 1), np.round(x * 100, -1), out, out2


def float_floor_mod(x, y):
    """floor_divide, mod, fmod, remainder and divmod of floats with negatives and zero divisors."""
    q, r = np.divmod(x, y)
    return np.floor_divide(x, y), np.mod(x, y), np.fmod(x, y), np.remainder(x, -y), q, r, x // 0.0, x % 0.0


def float_mod_scalar_loop(x):
    """% and // of np.float64 elements by negative scalars in a loop; math.fmod for comparison."""
    s = np.empty((x.shape[0], 3))
    for i in range(x.shape[0]):
        s[i, 0] = x[i] % -1.5
        s[i, 1] = x[i] // -0.7
        s[i, 2] = math.fmod(x[i], -1.5)
    return s


def inf_arithmetic(x):
    """inf - inf, 0 * inf, exp overflow, log of 0 and of negatives, clip and nan_to_num."""
    e = np.exp(x * 1000.0)
    d = e - e
    lg = np.log(x)
    return e, d, 0.0 * e, lg, np.clip(lg, -5.0, 5.0), np.nan_to_num(lg), np.isfinite(lg).sum(), np.sqrt(x)


def nan_sort_unique(x):
    """np.sort and argsort put NaN last; unique collapses NaNs; median/percentile propagate NaN."""
    s = np.sort(x)
    o = np.argsort(x, kind="stable")
    u = np.unique(x)
    return s, o, u, np.median(x), np.percentile(x, 50.0), np.nanmedian(x)


def pow_negative_base(x):
    """np.float64 ** (1/3) of a negative is NaN (a Python float would be complex); np.cbrt is real."""
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] ** (1.0 / 3.0)
    return out, np.cbrt(x), np.power(x, 2), np.float64(0.0) ** 0, x ** 0.5


# --- aliasing: overlapping writes, views, the same array twice ------------------------------------

def overlap_add_prefix(x):
    """x[1:] += x[:-1]: NumPy reads the old values (not a running sum); the argument changes."""
    x[1:] += x[:-1]
    return x.sum()


def reverse_self_assign(a):
    """a[:] = a[::-1] in place, then a[1:] = a[:-1] (a shift right): NumPy copies the overlap."""
    a[:] = a[::-1]
    a[1:] = a[:-1]
    return a.copy()


def add_own_transpose(A):
    """A += A.T on the argument: NumPy buffers the overlap, so the result is symmetric."""
    A += A.T
    return np.abs(A - A.T).max()


def out_parameters(a, b, y):
    """ufuncs with out= into an argument and into one of their inputs; cumsum with out=."""
    np.add(a, b, out=a)
    np.multiply(a, 2.0, out=y)
    np.cumsum(b, out=b)
    np.subtract(y, a, out=y)
    return a.sum() + y.sum()


def view_writes(x, M):
    """Writes through slices, a reshape view and a transpose view of the arguments."""
    v = x[2:8]
    v *= 2.0
    w = M.reshape(-1)
    w[::3] = 0.0
    M.T[0] += 1.0
    x = x * 10.0  # rebinding: the caller keeps the doubled slice only
    x[0] = -1.0
    return v.sum(), x


def recurrence_through_argument(x, a):
    """x[i] = a * x[i - 1] + x[i] on the argument, reading x[i + 1] before it is written."""
    n = x.shape[0]
    ahead = np.empty(n - 1)
    for i in range(1, n):
        ahead[i - 1] = x[i] - x[i - 1]
        x[i] = a * x[i - 1] + x[i]
    return ahead


def same_array_twice(a, b):
    """Called with the same array as a and b: each write to a is seen through b."""
    for i in range(1, a.shape[0]):
        a[i] = b[i - 1] + 1.0
    return b.copy()


def row_swap_views(A, pairs):
    """A[i], A[j] = A[j], A[i] with row views copies row j into i and leaves j as it was."""
    for k in range(pairs.shape[0]):
        i, j = int(pairs[k, 0]), int(pairs[k, 1])
        A[i], A[j] = A[j], A[i]
    return A.copy()


def element_swap_ok(x, pairs):
    """x[i], x[j] = x[j], x[i] on scalars is a real swap."""
    for k in range(pairs.shape[0]):
        i, j = pairs[k, 0], pairs[k, 1]
        x[i], x[j] = x[j], x[i]
    return x.copy()


def last_writer_wins(idx, vals, n):
    """out[idx[i]] = vals[i] with repeated indices: the last i wins, as in a sequential loop."""
    out = np.zeros(n)
    for i in range(idx.shape[0]):
        out[idx[i]] = vals[i]
    fancy = np.zeros(n)
    fancy[idx] = vals
    return out, fancy


def scatter_add_repeats(idx, w, n):
    """counts[idx[i]] += w[i] with repeats; fancy += drops repeats; np.add.at keeps them."""
    counts = np.zeros(n)
    hits = np.zeros(n, dtype=np.int64)
    for i in range(idx.shape[0]):
        counts[idx[i]] += w[i]
        hits[idx[i]] += 1
    dropped = np.zeros(n)
    dropped[idx] += w
    return counts, hits, dropped


def normalize_in_place(x):
    """x /= x.sum() in place, no return value: the caller sees the change."""
    x /= x.sum()
    x[x < 0.01] = 0.0


# --- control flow -------------------------------------------------------------------------------

def early_return_nested(X, t):
    """Return (i, j) of the first element above t from inside two loops; (-1, -1) after them."""
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] > t:
                return i, j
    return -1, -1


def break_continue_nested(X, lo, hi):
    """An inner loop that breaks at the first value above hi and skips those below lo."""
    tot = 0.0
    rows_broken = 0
    for i in range(X.shape[0]):
        if X[i, 0] < lo:
            continue
        for j in range(X.shape[1]):
            v = X[i, j]
            if v < lo:
                continue
            if v > hi:
                rows_broken += 1
                break
            tot += v
    return tot, rows_broken


def for_else_nested(X, t):
    """for ... else inside a loop: count the rows with no element above t, and the first of them."""
    n_clean = 0
    first = -1
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] > t:
                break
        else:
            n_clean += 1
            if first < 0:
                first = i
    return n_clean, first


def while_short_circuit(x, flag):
    """while i < n and (x[i] > 0 or flag): x[n] must never be read."""
    i = 0
    n = x.shape[0]
    s = 0.0
    while i < n and (x[i] > 0.0 or flag) and s < 1e6:
        s += x[i]
        i += 1
    return i, s


def zero_and_one_trip(e, o, x):
    """Loops of 0 and 1 trips: accumulators keep their start values, for-else runs."""
    s = 1.5
    for i in range(e.shape[0]):
        s += e[i]
    p = 2.0
    for i in range(o.shape[0]):
        p *= o[i]
    hit = -1
    for i in range(e.shape[0]):
        if e[i] > 0:
            hit = i
            break
    else:
        hit = -2
    m = -math.inf
    for v in x[x.shape[0]:]:
        m = max(m, v)
    return s, p, hit, m, e.sum(), o.prod(), np.cumsum(e)


def negative_index_loop(x, k):
    """Negative indices read from the end: x[i - k] for i < k, and range(-k, k)."""
    n = x.shape[0]
    out = np.empty(n)
    for i in range(n):
        out[i] = x[i] - x[i - k]
    s = 0.0
    for i in range(-k, k):
        s += x[i] * (i + 0.5)
    return out, s


def negative_step_ranges(x):
    """range(n - 1, -1, -2), range(n, 0, -3) and reversed(range(...)) with running values."""
    n = x.shape[0]
    a = 0.0
    for i in range(n - 1, -1, -2):
        a = a * 0.5 + x[i]
    b = 0.0
    for i in range(n - 1, 0, -3):
        b = b * 0.25 + x[i] * i
    c = []
    for i in reversed(range(1, n, 4)):
        c.append(x[i])
    return a, b, np.array(c)


def traced_step_range(x, steps):
    """A range whose step (and start) come from the data: positive and negative steps."""
    st = int(steps[0])
    back = int(steps[1])
    a = 0.0
    for i in range(int(steps[2]), x.shape[0], st):
        a += x[i]
    b = 0.0
    cnt = 0
    for i in range(x.shape[0] - 1, -1, back):
        b += x[i] * cnt
        cnt += 1
    return a, b, cnt


def newton_sqrt_while(x, tol):
    """Newton's square root per element with a two-part while header."""
    out = np.empty_like(x)
    iters = np.empty(x.shape[0], dtype=np.int64)
    for i in range(x.shape[0]):
        g = x[i] if x[i] > 1.0 else 1.0
        prev = g + 1.0
        it = 0
        while abs(g - prev) > tol * g and it < 50:
            prev = g
            g = 0.5 * (g + x[i] / g)
            it += 1
        out[i] = g
        iters[i] = it
    return out, iters


def _first_above_or_none(x, t):
    for i in range(x.shape[0]):
        if x[i] > t:
            return i
    return None


def find_first_or_none(x, t_hit, t_miss):
    """The index of the first value above t, or None when there is none: both paths in one call."""
    return _first_above_or_none(x, t_hit), _first_above_or_none(x, t_miss)


def _first_above_or_sum(x, t):
    for i in range(x.shape[0]):
        if x[i] > t:
            return i
    return float(x.sum())


def mixed_return_types(x, t_hit, t_miss):
    """An early `return i` (an int) from the loop, a float after it: the caller sees either type."""
    return _first_above_or_sum(x, t_hit), _first_above_or_sum(x, t_miss)


def while_data_countdown(x):
    """A while loop whose counter comes from the data and may start at zero or below."""
    out = np.empty(x.shape[0])
    for i in range(x.shape[0]):
        k = int(x[i])
        acc = 0.0
        while k > 0:
            acc += 1.0 / k
            k -= 1
        out[i] = acc
    return out


# --- reductions and dtypes ------------------------------------------------------------------------

def empty_axis_reductions(X, x):
    """Sums, products, any and all over empty axes and empty slices; a max with an initial."""
    E = X[:, :0]
    return (E.sum(axis=1), E.prod(axis=1), np.any(E, axis=1), np.all(E, axis=1), x[5:5].sum(),
            np.max(x[3:3], initial=-1.0), E.sum(), X[:0].sum(axis=0))


def keepdims_negative_axes(X):
    """keepdims, axis=-1, axis=(0, 2) and std with ddof=1 on a 3-D array."""
    c = X - X.mean(axis=-1, keepdims=True)
    m = X.max(axis=(0, 2), keepdims=True)
    return c, m, np.sum(X, axis=-2), X.std(axis=-1, ddof=1), X.min(axis=-3), np.argmax(X, axis=-1)


def argmax_ties(v, V):
    """Ties: np.argmax takes the first; a loop with > keeps the first, with >= the last."""
    first = 0
    last = 0
    for i in range(1, v.shape[0]):
        if v[i] > v[first]:
            first = i
        if v[i] >= v[last]:
            last = i
    return first, last, np.argmax(v), np.argmin(v), np.argmax(V, axis=1), np.argmin(V, axis=0)


def narrow_int_reduction_dtypes(i8, u8, u32, b):
    """cumsum and sum of int8/uint8/uint32/bool widen to int64/uint64; prod too; mean is float64."""
    return (np.cumsum(i8), np.cumsum(u8), u32.sum(), i8.sum(), np.prod(i8[:5]), i8.mean(), np.cumsum(b),
            b.sum(), b.mean(), np.sum(i8, dtype=np.int8), u8.max() - u8.min(), u8.min() - u8.max())


def bool_arithmetic(a, b, x):
    """bool + bool is or, bool * bool is and; a Python int plus a np.bool_ counts."""
    cnt = 0
    cnt2 = 0
    for i in range(x.shape[0]):
        cnt += a[i]
        cnt2 += x[i] > 0.0
    return a + b, a * b, a.sum(axis=0), np.count_nonzero(b), cnt, cnt2, ~a, a ^ b


def int_mean_median(v):
    """mean, median, var and std of int arrays are float64; // of the sum is int."""
    return v.mean(), np.median(v), v.var(), v.std(), v.sum() // v.shape[0], np.average(v, weights=v * 0 + 2)


# --- random --------------------------------------------------------------------------------------

def rng_interleaved_draws(seed, n):
    """A Generator made inside: scalar and array draws interleaved; the order decides the numbers."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.random() + a[i]
    b = rng.integers(0, 10, size=n)
    c = rng.uniform(-1.0, 2.0)
    d = rng.normal(1.0, 2.0, size=(2, 3))
    return out, b, c, d, rng.exponential(1.5, size=4)


def rng_rejection_argument(rng, p, n):
    """Rejection sampling with a Generator argument: a data-dependent number of draws."""
    out = np.empty(n)
    tries = 0
    for i in range(n):
        while True:
            u = rng.random()
            tries += 1
            if u < p:
                break
        out[i] = u
    return out, tries, rng.random()


def rng_shuffle_choice(seed, x):
    """permutation, shuffle of a copy and choice without replacement: NumPy's own streams."""
    rng = np.random.default_rng(seed)
    p = rng.permutation(x.shape[0])
    y = x.copy()
    rng.shuffle(y)
    q = rng.permutation(x)
    c = rng.choice(x, size=5, replace=False)
    return p, y, q, c


def rng_permute_shuffle(seed, x):
    """permutation of a length and of an array, and shuffle of a copy, in that order."""
    rng = np.random.default_rng(seed)
    p = rng.permutation(x.shape[0])
    y = x.copy()
    rng.shuffle(y)
    return p, y, rng.permutation(x), rng.random()


def legacy_random_state(seed, n):
    """np.random.RandomState(seed) inside the function: the legacy stream."""
    rs = np.random.RandomState(seed)
    return rs.rand(n), rs.randn(3), rs.randint(0, 100, size=n)


# --- Python semantics ----------------------------------------------------------------------------

def python_int_conversions(x):
    """int() truncates toward zero, math.floor toward -inf, divmod of floats, round of halves."""
    n = x.shape[0]
    t = np.empty(n, dtype=np.int64)
    f = np.empty(n, dtype=np.int64)
    q = np.empty(n)
    r = np.empty(n)
    for i in range(n):
        t[i] = int(x[i])
        f[i] = math.floor(x[i])
        q[i], r[i] = divmod(x[i], 0.75)
    return t, f, q, r, x.astype(np.int64), np.trunc(x), round(2.5), round(-0.5), round(3.5), -7 // 2, 7 % -3


def min_max_key_ties(x):
    """min/max with key return the first of equal keys; over tuples and indices."""
    n = x.shape[0]
    i_max = max(range(n), key=lambda i: round(x[i]))
    i_min = min(range(n), key=lambda i: round(x[i]))
    pairs = [(round(x[i]), i) for i in range(n)]
    return i_max, i_min, max(pairs)[1], min(pairs, key=lambda p: p[0])[1]


def sorted_stability(x):
    """sorted with a key keeps equal keys in order, reverse=True too; argsort stable."""
    n = x.shape[0]
    keys = np.floor(x)
    up = sorted(range(n), key=lambda i: keys[i])
    down = sorted(range(n), key=lambda i: keys[i], reverse=True)
    return np.array(up), np.array(down), np.argsort(keys, kind="stable"), np.argsort(-keys, kind="stable")


def chained_comparisons(x, lo, hi):
    """lo <= v < hi, a < b > c and v == v != 0 chains, each operand once."""
    inside = 0
    peaks = 0
    nonzero = 0
    for i in range(1, x.shape[0] - 1):
        if lo <= x[i] < hi:
            inside += 1
        if x[i - 1] < x[i] > x[i + 1]:
            peaks += 1
        if x[i] == x[i] != 0.0:
            nonzero += 1
    return inside, peaks, nonzero


def _weighted(x, w=None, out=None):
    if w is None:
        w = np.ones_like(x)
    if out is None:
        out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = x[i] * w[i]
    return out


def none_defaults(x, w, out):
    """`w is None` and `out=None` defaults: called with and without them; out is an argument."""
    a = _weighted(x)
    b = _weighted(x, w)
    _weighted(x, w=None, out=out)
    return a, b, out is None


def python_scalar_returns(x):
    """The types of returned Python scalars: int, float, bool, from shapes and from data."""
    n = x.shape[0]
    half = n / 2
    mid = n // 2
    count = 0
    for i in range(n):
        if x[i] > 0:
            count += 1
    frac = count / n
    return n, half, mid, count, frac, count > mid, [count, half], {"n": n, "frac": frac}


def late_binding_lambdas(x):
    """Lambdas made in a comprehension without a default all see the last c (Python's late binding)."""
    fs = [lambda v: v * c + 1.0 for c in (1.0, 2.0, 3.0)]
    gs = [lambda v: v - c2 for c2 in (1.0, 2.0, 4.0)]
    return [f(x) for f in fs], [g(x[0]) for g in gs]


def lambdas_appended_in_loop(x):
    """The same late binding, with the lambdas appended in a for loop."""
    fs = []
    for c in range(3):
        fs.append(lambda v: v * c + 1.0)
    return [f(x) for f in fs]


def mixed_list_append(x, t):
    """A list grown with ints in one branch and floats in the other: np.array makes float64."""
    vals = []
    for i in range(x.shape[0]):
        if x[i] > t:
            vals.append(i)
        else:
            vals.append(x[i])
    ints = [i for i in range(x.shape[0]) if x[i] > t]
    return np.array(vals), np.array(ints, dtype=np.int64), len(ints)


def nested_comprehension(x, y):
    """A nested list comprehension into a matrix, and a dict comprehension of sums."""
    M = np.array([[x[i] * y[j] - i for j in range(y.shape[0])] for i in range(x.shape[0])])
    d = {k: float(x[k::3].sum()) for k in range(3)}
    return M, d


def negative_fancy_indices(x, idx8):
    """Fancy indexing with negative int8 indices, and x[int(k)] with negative k in a loop."""
    a = x[idx8]
    out = np.empty(idx8.shape[0])
    for i in range(idx8.shape[0]):
        out[i] = x[int(idx8[i])] * 2.0
    return a, out


def where_clip_promotion(i32, x32, mask):
    """np.where and np.clip with mixed dtypes and Python scalars: NumPy's result types."""
    return (np.where(mask, i32, 0.5), np.where(mask, x32, 0), np.where(mask, x32, 0.0), np.clip(i32, 0.5, 10),
            np.clip(x32, 0, 1), np.where(mask, i32, np.int8(3)), np.maximum(i32, 2.5))


def zeros_then_conditional(x, t):
    """np.zeros (calloc'd) written only where a condition holds; zeros_like keeps float32; bool |=."""
    out = np.zeros(x.shape[0])
    flags = np.zeros(x.shape[0], dtype=bool)
    z32 = np.zeros_like(x, dtype=np.float32)
    cnt = np.zeros(4, dtype=np.int32)
    for i in range(x.shape[0]):
        if x[i] > t:
            out[i] = x[i]
            flags[i] |= True
            z32[i] = x[i]
        cnt[i % 4] += 1
    return out, flags, z32, cnt


def isclose_equal(x, y):
    """np.isclose/allclose/array_equal with NaN: bool scalars and arrays."""
    return np.isclose(x, y), np.allclose(x, y), np.allclose(x, x, equal_nan=True), np.array_equal(x, x), \
        np.array_equal(x, x, equal_nan=True)


def counted_prefix_check(x, limit):
    """Count the steps until a running sum passes the limit; -1 when it never does."""
    s = 0.0
    steps = -1
    for i in range(x.shape[0]):
        s += x[i]
        if s > limit:
            steps = i
            break
    return steps, s


def int8_loop_accumulator(x):
    """An np.int8 running value updated in a loop wraps at 127; a Python int copy does not."""
    acc = np.int8(0)
    hi = np.int8(0)
    for i in range(x.shape[0]):
        acc = acc + x[i]
        if acc > hi:
            hi = acc
    return acc, hi


def mixed_int_widths_loop(a8, b16, c32):
    """Loop arithmetic across int8, int16 and int32 elements: each pair promotes, then stores back."""
    out = np.empty(a8.shape[0], dtype=np.int16)
    out32 = np.empty(a8.shape[0], dtype=np.int32)
    for i in range(a8.shape[0]):
        out[i] = a8[i] * b16[i]
        out32[i] = a8[i] * a8[i] + c32[i] // b16[i]
    return out, out32


def parallel_map_int_wrap(v):
    """An elementwise loop over int32 with a multiply that wraps, large enough to run in parallel."""
    out = np.empty_like(v)
    for i in range(v.shape[0]):
        out[i] = v[i] * v[i] + np.int32(7)
    return out


def cumsum_int_wrap(v):
    """cumsum of int64 values near the top wraps; of int32 widens to int64 and does not."""
    return np.cumsum(v), np.cumsum(v.astype(np.int32)), v.sum()


# --- inputs -------------------------------------------------------------------------------------

def _ints(r, n, lo, hi, dtype):
    return r.integers(lo, hi, n, endpoint=True).astype(dtype)


def _int8_pair(r, m):
    n = _n(m, 40, 300_000)
    a = _ints(r, n, -128, 127, np.int8)
    a[:2] = [-128, 127]
    return a, _ints(r, n, -128, 127, np.int8)


def _zero_divisors(r, m):
    n = _n(m, 40, 300_000)
    b = r.integers(-5, 6, n)
    b[:3] = [0, 0, -1]
    a = r.integers(-1000, 1000, n)
    a[0] = np.iinfo(np.int64).min
    b[2] = -1
    return a, b


def _neg_pairs(r, m):
    n = _n(m, 40, 300_000)
    b = r.integers(1, 9, n) * np.where(r.random(n) < 0.5, -1, 1)
    return r.integers(-10**6, 10**6, n), b


def _shifts(r, m):
    n = _n(m, 40, 300_000)
    v = r.integers(-2**40, 2**40, n)
    s = r.integers(0, 71, n)
    s[:4] = [63, 64, 65, 70]
    return v, s


def _u64(r, m):
    n = _n(m, 30, 300_000)
    u = r.integers(0, 2**62, n, dtype=np.uint64)
    u[0] = np.uint64(2**64 - 1)
    return u, r.integers(-2**40, 2**40, n)


def _int_min(r, m):
    v = r.integers(-10**9, 10**9, _n(m, 30, 300_000))
    v[3] = np.iinfo(np.int64).min
    return (v,)


def _nan_mixed(r, m, shape):
    x = r.standard_normal(shape)
    x[r.random(shape) < 0.15] = np.nan
    x.flat[1] = np.nan
    return x


def _halves(r, m):
    n = _n(m, 40, 300_000)
    return (r.integers(-20, 21, n) / 2.0 + np.where(r.random(n) < 0.3, r.uniform(-0.3, 0.3, n), 0.0),)


def _floor_mod(r, m):
    n = _n(m, 40, 300_000)
    x = r.uniform(-10, 10, n)
    y = r.uniform(-3, 3, n)
    y[:3] = [0.0, -0.0, np.inf]
    x[3:5] = [np.inf, -0.0]
    return x, y


def _pos_with_special(r, m):
    x = r.uniform(-2, 3, _n(m, 40, 300_000))
    x[:4] = [0.0, -1.0, 1e-300, 0.5]
    return (x,)


def _tie_ints(r, m):
    n = _n(m, 40, 300_000)
    return r.integers(0, 5, n).astype(float), r.integers(0, 3, _n(m, (6, 7), (3000, 100)))


def _narrow(r, m):
    n = _n(m, 40, 300_000)
    return (_ints(r, n, -128, 127, np.int8), _ints(r, n, 0, 255, np.uint8),
            r.integers(0, 2**32 - 1, n, dtype=np.uint32), r.random(n) < 0.5)


def _bools(r, m):
    n = _n(m, (10, 4), (100_000, 8))
    return r.random(n) < 0.5, r.random(n) < 0.3, r.standard_normal(n[0])


def _swap_pairs(r, m):
    n, k = _n(m, (6, 4), (2000, 3000))
    A = r.standard_normal((n, _n(m, 3, 8)))
    return A, r.integers(0, n, (k, 2))


def _xpairs(r, m):
    n, k = _n(m, (20, 8), (100_000, 50_000))
    return r.standard_normal(n), r.integers(0, n, (k, 2))


def _scatter(r, m):
    n, k = _n(m, (8, 30), (1000, 300_000))
    return r.integers(0, n, k), r.standard_normal(k), n


def _mat(r, m, t, bench, test):
    return r.standard_normal(_n(m, test, bench)), t


def _empties(r, m):
    return r.standard_normal(_n(m, (5, 4), (50_000, 20))), r.standard_normal(_n(m, 10, 100))


def _trips(r, m):
    return r.standard_normal(0), r.standard_normal(1) + 2.0, r.standard_normal(_n(m, 5, 100_000))


def _traced_steps(r, m):
    return r.standard_normal(_n(m, 40, 300_000)), np.array([int(r.integers(2, 5)), -int(r.integers(1, 4)), 1])


def _mixed_widths(r, m):
    n = _n(m, 40, 300_000)
    b = _ints(r, n, -300, 300, np.int16)
    b[b == 0] = 7
    return _ints(r, n, -128, 127, np.int8), b, _ints(r, n, -10**6, 10**6, np.int32)


def _promo(r, m):
    n = _n(m, 30, 300_000)
    return r.integers(-100, 100, n).astype(np.int32), r.standard_normal(n).astype(np.float32), r.random(n) < 0.5


def _top_int64(r, m):
    v = r.integers(2**60, 2**62, _n(m, 30, 300_000))
    return (v,)


KERNELS = [
    Kernel("int8_wrap_arrays", int8_wrap_arrays, _int8_pair, "array", "int8 wraparound"),
    Kernel("int16_python_int_accumulator", int16_python_int_accumulator,
           lambda r, m: (_ints(r, _n(m, 40, 300_000), -30000, 30000, np.int16),), "loop", "int16 NEP 50"),
    Kernel("uint32_lcg", uint32_lcg, lambda r, m: (int(r.integers(0, 2**32 - 1)), _n(m, 30, 300_000)), "loop",
           "uint32 wraparound"),
    Kernel("int_div_by_zero_arrays", int_div_by_zero_arrays, _zero_divisors, "array", "integer division by zero"),
    Kernel("int_floor_mod_loop", int_floor_mod_loop, _neg_pairs, "loop", "negative floor division"),
    Kernel("true_division_ints", true_division_ints,
           lambda r, m: (r.integers(-100, 100, _n(m, 30, 300_000)), r.integers(1, 9, _n(m, 30, 300_000)),
                         _n(m, 7, 300_000)), "mixed", "true division"),
    Kernel("int_powers", int_powers, lambda r, m: (r.integers(-3 * 10**6, 3 * 10**6, _n(m, 30, 300_000)), 63),
           "mixed", "integer powers"),
    Kernel("shifts_past_width", shifts_past_width, _shifts, "array", "shifts"),
    Kernel("uint64_int64_mix", uint64_int64_mix, _u64, "array", "uint64 promotion", rtol=1e-12),
    Kernel("abs_int_min", abs_int_min, _int_min, "mixed", "int64 minimum"),
    Kernel("uint8_diff_loop", uint8_diff_loop,
           lambda r, m: tuple(_ints(r, _n(m, 40, 300_000), 0, 255, np.uint8) for _ in range(2)),
           "loop", "uint8 wraparound"),
    Kernel("binomial_row", binomial_row, lambda r, m: (_n(m, 60, 70),), "loop", "big Python ints",
           note="ok at the test size (n = 60 fits int64); at the bench size (n = 70) a clear BigIntError where "
                "c * (n - k) passes 64 bits"),
    Kernel("gcd_euclid_loop", gcd_euclid_loop,
           lambda r, m: (r.integers(-10**6, 10**6, _n(m, 30, 100_000)), r.integers(-10**4, 10**4, _n(m, 30, 100_000))),
           "loop", "gcd"),
    Kernel("int_float_mixes", int_float_mixes,
           lambda r, m: (_ints(r, _n(m, 30, 300_000), -128, 127, np.int8),
                         r.integers(-10**6, 10**6, _n(m, 30, 300_000)).astype(np.int32),
                         r.standard_normal(_n(m, 30, 300_000)).astype(np.float32)), "array", "int float promotion",
           rtol=1e-6),
    Kernel("logistic_map_f32", logistic_map_f32,
           lambda r, m: (np.float32(3.9), np.float32(r.uniform(0.1, 0.9)), _n(m, 60, 300_000)), "loop",
           "float32 chaos", rtol=1e-7, atol=0.0),
    Kernel("kahan_f32", kahan_f32, lambda r, m: (r.uniform(0, 1, _n(m, 40, 300_000)).astype(np.float32),), "loop",
           "float32 Kahan", rtol=1e-5),
    Kernel("float32_promotion", float32_promotion,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)).astype(np.float32),
                         r.standard_normal(_n(m, 30, 300_000))),
           "array", "float32 NEP 50", rtol=1e-5),
    Kernel("f32_loop_mixed_scalars", f32_loop_mixed_scalars,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)).astype(np.float32),), "loop", "float32 scalars",
           rtol=1e-4),
    Kernel("complex64_ops", complex64_ops,
           lambda r, m: tuple((r.standard_normal(_n(m, 30, 300_000)) + 1j * r.standard_normal(_n(m, 30, 300_000)))
                              .astype(np.complex64) for _ in range(2)), "mixed", "complex64", rtol=1e-4),
    Kernel("mandelbrot_escape", mandelbrot_escape,
           lambda r, m: (r.uniform(-2, 0.6, _n(m, 30, 30_000)), r.uniform(-1.2, 1.2, _n(m, 30, 30_000)), 100),
           "loop", "complex while"),
    Kernel("float16_sum", float16_sum, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)).astype(np.float16),),
           "array", "float16", rtol=1e-2, expect={"interpret": "ok", "cpu": "error"},
           note="float16 arrays: a clear error on cpu (Numba has no float16)"),
    Kernel("python_max_with_nan", python_max_with_nan, lambda r, m: (_nan_mixed(r, m, _n(m, 30, 300_000)),), "loop",
           "NaN max"),
    Kernel("argmax_with_nan", argmax_with_nan,
           lambda r, m: (_nan_mixed(r, m, _n(m, 30, 300_000)), _nan_mixed(r, m, _n(m, (6, 5), (3000, 100)))),
           "array", "NaN argmax"),
    Kernel("nan_branch_negation", nan_branch_negation, lambda r, m: (_nan_mixed(r, m, _n(m, 30, 300_000)), 0.2),
           "loop", "NaN branches"),
    Kernel("nan_min_loop", nan_min_loop, lambda r, m: (_nan_mixed(r, m, _n(m, 30, 300_000)),), "loop", "NaN min"),
    Kernel("signed_zero", signed_zero,
           lambda r, m: (np.where(r.random(_n(m, 30, 300_000)) < 0.5, -1.0, 1.0) * r.random(_n(m, 30, 300_000)),),
           "mixed", "signed zero"),
    Kernel("round_half_even", round_half_even, _halves, "mixed", "rounding"),
    Kernel("float_floor_mod", float_floor_mod, _floor_mod, "array", "float floor division"),
    Kernel("float_mod_scalar_loop", float_mod_scalar_loop, lambda r, m: (r.uniform(-10, 10, _n(m, 30, 300_000)),),
           "loop", "float modulo"),
    Kernel("inf_arithmetic", inf_arithmetic, _pos_with_special, "array", "inf"),
    Kernel("nan_sort_unique", nan_sort_unique, lambda r, m: (np.round(_nan_mixed(r, m, _n(m, 30, 100_000)), 1),),
           "array", "NaN sort"),
    Kernel("pow_negative_base", pow_negative_base, lambda r, m: (r.uniform(-8, 8, _n(m, 30, 300_000)),), "loop",
           "powers"),
    Kernel("overlap_add_prefix", overlap_add_prefix, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),), "array",
           "overlapping in-place"),
    Kernel("reverse_self_assign", reverse_self_assign, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),),
           "array", "overlapping in-place"),
    Kernel("add_own_transpose", add_own_transpose, lambda r, m: (r.standard_normal(_n(m, (5, 5), (600, 600))),),
           "array", "overlapping in-place"),
    Kernel("out_parameters", out_parameters,
           lambda r, m: tuple(r.standard_normal(_n(m, 30, 300_000)) for _ in range(3)), "array", "out=",
           rtol=1e-8),
    Kernel("view_writes", view_writes,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), r.standard_normal(_n(m, (4, 6), (600, 500)))),
           "array", "views"),
    Kernel("recurrence_through_argument", recurrence_through_argument,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 0.9), "loop", "argument recurrence", rtol=1e-8),
    Kernel("same_array_twice", same_array_twice,
           lambda r, m: (lambda x: (x, x))(r.standard_normal(_n(m, 30, 300_000))), "loop", "aliased arguments"),
    Kernel("row_swap_views", row_swap_views, _swap_pairs, "loop", "view swap"),
    Kernel("element_swap_ok", element_swap_ok, _xpairs, "loop", "element swap"),
    Kernel("last_writer_wins", last_writer_wins, _scatter, "loop", "scatter repeats"),
    Kernel("scatter_add_repeats", scatter_add_repeats, _scatter, "loop", "scatter repeats", rtol=1e-8),
    Kernel("normalize_in_place", normalize_in_place, lambda r, m: (r.random(_n(m, 30, 300_000)),), "array",
           "in-place", rtol=1e-8),
    Kernel("early_return_nested", early_return_nested,
           lambda r, m: (r.standard_normal(_n(m, (6, 5), (1000, 300))), _n(m, 1.5, 4.8)), "loop", "early return"),
    Kernel("break_continue_nested", break_continue_nested,
           lambda r, m: (r.standard_normal(_n(m, (6, 8), (3000, 100))), -1.0, 1.8), "loop", "break continue",
           rtol=1e-8),
    Kernel("for_else_nested", for_else_nested,
           lambda r, m: (r.standard_normal(_n(m, (8, 5), (30_000, 10))), 1.7), "loop", "for else"),
    Kernel("while_short_circuit", while_short_circuit,
           lambda r, m: (np.abs(r.standard_normal(_n(m, 30, 300_000))), True), "loop", "while short circuit",
           rtol=1e-8),
    Kernel("zero_and_one_trip", zero_and_one_trip, _trips, "loop", "zero trips"),
    Kernel("negative_index_loop", negative_index_loop, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 3),
           "loop", "negative indices"),
    Kernel("negative_step_ranges", negative_step_ranges, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),),
           "loop", "negative steps", rtol=1e-8),
    Kernel("traced_step_range", traced_step_range, _traced_steps, "loop", "traced step", rtol=1e-8),
    Kernel("newton_sqrt_while", newton_sqrt_while,
           lambda r, m: (r.uniform(0.01, 100, _n(m, 30, 100_000)), 1e-12), "loop", "while header"),
    Kernel("find_first_or_none", find_first_or_none,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 1.0, 10.0), "loop", "None return", expect=error(),
           note="a helper that returns None on some paths and an int on others, chosen by the data: refused (the "
                "same loop written in the jitted function itself returns None or the index correctly)"),
    Kernel("mixed_return_types", mixed_return_types,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 1.0, 10.0),
           "loop", "return types"),
    Kernel("while_data_countdown", while_data_countdown, lambda r, m: (r.uniform(-3, 20, _n(m, 30, 100_000)),),
           "loop", "data while", rtol=1e-8),
    Kernel("empty_axis_reductions", empty_axis_reductions, _empties, "array", "empty reductions"),
    Kernel("keepdims_negative_axes", keepdims_negative_axes,
           lambda r, m: (r.standard_normal(_n(m, (3, 4, 5), (60, 70, 80))),), "array", "keepdims", rtol=1e-8),
    Kernel("argmax_ties", argmax_ties, _tie_ints, "loop", "argmax ties"),
    Kernel("narrow_int_reduction_dtypes", narrow_int_reduction_dtypes, _narrow, "array", "reduction dtypes",
           rtol=1e-12),
    Kernel("bool_arithmetic", bool_arithmetic, _bools, "mixed", "bool arithmetic"),
    Kernel("int_mean_median", int_mean_median,
           lambda r, m: (r.integers(-10**6, 10**6, _n(m, 31, 300_001)),), "array", "integer means", rtol=1e-10),
    Kernel("rng_interleaved_draws", rng_interleaved_draws, lambda r, m: (int(r.integers(0, 10**6)), _n(m, 20, 100_000)),
           "mixed", "random"),
    Kernel("rng_rejection_argument", rng_rejection_argument,
           lambda r, m: (np.random.default_rng(int(r.integers(0, 10**6))), 0.3, _n(m, 20, 30_000)), "loop",
           "random"),
    Kernel("rng_shuffle_choice", rng_shuffle_choice,
           lambda r, m: (int(r.integers(0, 10**6)), r.standard_normal(_n(m, 20, 100_000))), "array", "random",
           expect=error(), note="Generator.choice is refused inside a traced function (permutation and shuffle "
                                "work: rng_permute_shuffle)"),
    Kernel("rng_permute_shuffle", rng_permute_shuffle,
           lambda r, m: (int(r.integers(0, 10**6)), r.standard_normal(_n(m, 20, 100_000))), "array", "random"),
    Kernel("legacy_random_state", legacy_random_state, lambda r, m: (int(r.integers(0, 10**6)), _n(m, 20, 100_000)),
           "array", "legacy random", expect=error(),
           note="np.random.RandomState inside a traced function is refused by name"),
    Kernel("python_int_conversions", python_int_conversions, lambda r, m: (r.uniform(-5, 5, _n(m, 30, 300_000)),),
           "loop", "int conversions"),
    Kernel("min_max_key_ties", min_max_key_ties, lambda r, m: (r.uniform(-3, 3, _n(m, 12, 30_000)),), "loop",
           "key ties", note="ok at the test size; at the bench size (30,000) the comprehension of tuples is refused"),
    Kernel("sorted_stability", sorted_stability, lambda r, m: (r.uniform(-3, 3, _n(m, 30, 30_000)),), "loop",
           "sorted stability"),
    Kernel("chained_comparisons", chained_comparisons,
           lambda r, m: (np.round(r.standard_normal(_n(m, 40, 300_000)), 1), -0.5, 0.5), "loop", "chained comparisons"),
    Kernel("none_defaults", none_defaults,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), r.random(_n(m, 30, 300_000)),
                         np.zeros(_n(m, 30, 300_000))), "loop", "None defaults"),
    Kernel("python_scalar_returns", python_scalar_returns, lambda r, m: (r.standard_normal(_n(m, 31, 300_001)),),
           "loop", "scalar types"),
    Kernel("late_binding_lambdas", late_binding_lambdas, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),),
           "array", "late binding"),
    Kernel("lambdas_appended_in_loop", lambdas_appended_in_loop, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),),
           "array", "late binding", expect=error(),
           note="a function appended to a list in a traced loop: a clear error at the append (the comprehension "
                "form, late_binding_lambdas, works)"),
    Kernel("mixed_list_append", mixed_list_append, lambda r, m: (r.standard_normal(_n(m, 30, 100_000)), 0.5), "loop",
           "mixed lists", expect=error(),
           note="ints appended in one branch and floats in the other: refused at the append (np.array of the plain "
                "list is float64)"),
    Kernel("nested_comprehension", nested_comprehension,
           lambda r, m: (r.standard_normal(_n(m, 10, 200)), r.standard_normal(_n(m, 5, 200))), "loop",
           "comprehensions", rtol=1e-8,
           note="the outer comprehension of rows is a loop traced once (tracer/row_lists.py): cold cpu compile "
                "about 5-6 s at 12, 40 and 200 rows (was 10 s, 168 s, past 400 s: one inner loop per row)"),
    Kernel("negative_fancy_indices", negative_fancy_indices,
           lambda r, m: (r.standard_normal(200), _ints(r, _n(m, 30, 300_000), -128, 127, np.int8)), "mixed",
           "negative indices"),
    Kernel("where_clip_promotion", where_clip_promotion, _promo, "array", "where promotion", rtol=1e-6),
    Kernel("zeros_then_conditional", zeros_then_conditional,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 0.3), "loop", "calloc zeros", rtol=1e-6),
    Kernel("isclose_equal", isclose_equal,
           lambda r, m: (_nan_mixed(r, m, _n(m, 30, 300_000)), _nan_mixed(r, m, _n(m, 30, 300_000))), "array",
           "isclose"),
    Kernel("counted_prefix_check", counted_prefix_check,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), _n(m, 3.0, 200.0)), "loop", "counted check",
           rtol=1e-8),
    Kernel("int8_loop_accumulator", int8_loop_accumulator,
           lambda r, m: (_ints(r, _n(m, 40, 300_000), -20, 30, np.int8),), "loop", "int8 scalar"),
    Kernel("mixed_int_widths_loop", mixed_int_widths_loop, _mixed_widths, "loop", "int widths"),
    Kernel("parallel_map_int_wrap", parallel_map_int_wrap,
           lambda r, m: (r.integers(-2**31, 2**31 - 1, _n(m, 30, 300_000)).astype(np.int32),), "loop",
           "int32 wraparound"),
    Kernel("cumsum_int_wrap", cumsum_int_wrap, _top_int64, "array", "int64 wraparound"),
]


# --- second batch: loop variables, iteration over live arrays, copies vs views, builtins ------------

def loop_variable_after(x, n):
    """The loop variable after the loop is the last value (n - 1), the break index, or the last of a
    negative-step range; reassigning it in the body does not change the iteration."""
    for i in range(n):
        pass
    last = i
    for j in range(x.shape[0]):
        if x[j] > 1.0:
            break
    hit = j
    for k in range(x.shape[0] - 1, 2, -3):
        pass
    s = 0
    for m in range(n):
        m = m * 2
        s += m
    return last, hit, k, s


def range_bound_changed_inside(x):
    """range(n) is fixed when the loop starts: shrinking n inside the body changes nothing."""
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        n -= 1
        s += x[i] * n
    return s, n


def iterate_live_array(x):
    """for v in x reads each element when it gets there: writes ahead of the iteration are seen."""
    for v in x:
        x[-1] += v
    t = 0.0
    for i, v in enumerate(x):
        if i + 1 < x.shape[0]:
            x[i + 1] += 0.5 * v
        t += v
    return t


def copy_or_view(x, M):
    """np.asarray and ravel/reshape give views (writes reach the caller); np.array, flatten, fancy
    and boolean indexing give copies (they do not)."""
    a = np.asarray(x)
    a[0] = 100.0
    b = np.array(x)
    b[1] = -100.0
    r = M.ravel()
    r[0] = 7.0
    f = M.flatten()
    f[1] = 9.0
    c = x[[2, 3]]
    c[0] = 55.0
    x[::2][1] = -5.0
    x[[4, 5]][0] = 99.0
    return b.sum(), f.sum(), c


def scalar_element_not_view(x):
    """v = x[i]; v += 1 leaves x alone (a scalar); w = x[i:i + 1]; w += 1 writes into x."""
    s = 0.0
    for i in range(x.shape[0]):
        v = x[i]
        v += 1.0
        s += v
    for i in range(0, x.shape[0], 2):
        w = x[i:i + 1]
        w += 1.0
    return s


def builtin_sum_narrow(x8, x32):
    """sum() of an array iterates from the Python int 0: int8 elements wrap, float32 stays float32
    (summed in order, not pairwise); np.sum widens int8 to int64."""
    return sum(x8), np.sum(x8), sum(x32), max(x32), min(x8)


def builtin_max_nan_array(x):
    """max(x) over an array keeps the first NaN it starts with, and ignores later ones."""
    return max(x), min(x), max(x[1:]), min(x[2:])


def nan_truthiness(x):
    """if v: is true for NaN and false for -0.0; bool() and astype(bool) agree."""
    c = 0
    for i in range(x.shape[0]):
        if x[i]:
            c += 1
    return c, x.astype(bool), np.count_nonzero(x), bool(x[0]), not x[1]


def complex_branch_cuts(z):
    """np.sqrt and np.log of complex values on the negative real axis: the sign of the zero imaginary
    part picks the side; np.sqrt of a negative float is NaN."""
    return np.sqrt(z), np.log(z), np.sqrt(z.real), z ** 2 - z * z, np.abs(z * 1e200)


def list_methods_loop(x):
    """A Python list used as a work list: pop, insert, reverse, sort and slices."""
    lst = [float(v) for v in x[:8]]
    lst.reverse()
    first = lst.pop()
    lst.insert(0, first * 2.0)
    last = lst.pop(-1)
    lst.sort()
    return lst, first, last, lst[::-1][:3], lst[1:-1:2]


def sorted_tuple_keys(x, g):
    """sorted with a tuple key (group, -value) and a two-pass stable sort."""
    n = x.shape[0]
    order = sorted(range(n), key=lambda i: (int(g[i]), -x[i]))
    by_val = sorted(range(n), key=lambda i: x[i])
    two_pass = sorted(by_val, key=lambda i: int(g[i]))
    return np.array(order), np.array(two_pass)


def closure_mutates_list(x, t):
    """A nested helper that appends to a list of the enclosing function and reads its variable."""
    picked = []
    scale = 2.0

    def keep(v):
        if v > t:
            picked.append(v * scale)

    for i in range(x.shape[0]):
        keep(x[i])
    scale = 3.0  # too late for the appends above, seen by a later call
    keep(t + 1.0)
    return np.array(picked)


def data_trip_count(x, counts):
    """range(int(c)) with c from the data: negative and zero counts make empty loops."""
    out = np.empty(counts.shape[0])
    for k in range(counts.shape[0]):
        s = 0.5
        for i in range(int(counts[k])):
            s += x[i % x.shape[0]]
        out[k] = s
    return out


def return_from_while_in_for(X, t):
    """return from a while loop inside a for loop, with the while's counter."""
    for i in range(X.shape[0]):
        j = 0
        acc = 0.0
        while j < X.shape[1]:
            acc += X[i, j]
            if acc > t:
                return i, j, acc
            j += 1
    return -1, -1, 0.0


def while_true_else(x, t):
    """while ... else runs the else only when the condition fails, not after a break."""
    i = 0
    hit = False
    while i < x.shape[0]:
        if x[i] > t:
            break
        i += 1
    else:
        hit = True
    k = x.shape[0]
    while k > 0:
        k -= 2
        if k == 1:
            continue
    else:
        k = k - 100
    return i, hit, k


def float_int_compare_edges(v, f):
    """int64 against float64 near 2**53 and at 2**63 - 1: NumPy converts the int to float64 to compare."""
    return v < f, v == f, v.astype(np.float64) == f, (v + 1) > f


def integer_overflow_in_index(x, n):
    """An index computed as i * stride in int32 (np.int32 loop counter times a stride) wraps."""
    out = np.empty(n)
    stride = np.int32(2_000_000_000)
    for i in range(n):
        j = (np.int32(i) * stride) % x.shape[0]
        out[i] = x[j]
    return out


def _x_and_n(r, m):
    return r.standard_normal(_n(m, 30, 300_000)), _n(m, 7, 300_000)


def _x_m(r, m):
    return r.standard_normal(_n(m, 12, 300_000)), r.standard_normal(_n(m, (3, 4), (500, 600)))


def _narrow_sums(r, m):
    n = _n(m, 40, 300_000)
    return _ints(r, n, -128, 127, np.int8), r.uniform(0, 1, n).astype(np.float32)


def _nan_first(r, m):
    x = r.standard_normal(_n(m, 30, 300_000))
    x[0] = np.nan
    x[7] = np.nan
    return (x,)


def _truthy(r, m):
    n = _n(m, 30, 300_000)
    x = np.where(r.random(n) < 0.3, 0.0, r.standard_normal(n))
    x[:3] = [np.nan, -0.0, 0.0]
    x[r.random(n) < 0.1] = np.nan
    return (x,)


def _branch_cut(r, m):
    n = _n(m, 30, 300_000)
    z = r.standard_normal(n) + 1j * r.standard_normal(n)
    z[:4] = [complex(-4.0, 0.0), complex(-4.0, -0.0), complex(-1.0, 0.0), complex(0.0, -0.0)]
    return (z,)


def _groups(r, m):
    n = _n(m, 8, 30_000)
    return np.round(r.standard_normal(n), 1), r.integers(0, 4, n)


def _counts(r, m):
    return r.standard_normal(50), r.integers(-3, _n(m, 8, 300), _n(m, 12, 3000)).astype(float)


def _cmp_edges(r, m):
    n = _n(m, 30, 300_000)
    v = r.integers(2**53 - 50, 2**53 + 50, n)
    v[:2] = [2**63 - 1, -2**63]
    return v, v.astype(np.float64) + r.integers(-1, 2, n)


KERNELS += [
    Kernel("loop_variable_after", loop_variable_after, _x_and_n, "loop", "loop variable"),
    Kernel("range_bound_changed_inside", range_bound_changed_inside,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),), "loop", "range bound", rtol=1e-8),
    Kernel("iterate_live_array", iterate_live_array, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),), "loop",
           "live iteration", rtol=1e-8),
    Kernel("copy_or_view", copy_or_view, _x_m, "array", "copies and views"),
    Kernel("scalar_element_not_view", scalar_element_not_view,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),), "loop", "scalars and views", rtol=1e-8),
    Kernel("builtin_sum_narrow", builtin_sum_narrow, _narrow_sums, "loop", "builtin sum", rtol=1e-4,
           note="rtol 1e-4, the API's float32 promise: sum() of 300,000 float32 values in order (the plain "
                "function) and looptrace's reduction differ by 8e-6 relative on cpu"),
    Kernel("builtin_max_nan_array", builtin_max_nan_array, _nan_first, "loop", "builtin max NaN"),
    Kernel("nan_truthiness", nan_truthiness, _truthy, "loop", "truthiness"),
    Kernel("complex_branch_cuts", complex_branch_cuts, _branch_cut, "array", "branch cuts", rtol=1e-12),
    Kernel("list_methods_loop", list_methods_loop, lambda r, m: (r.standard_normal(_n(m, 10, 10)),), "loop",
           "list methods",
           note="lst.sort() of traced floats is sorted()'s network in place (runtime._sorts_traced_list; it was "
                "refused as a traced value used as a Python bool)"),
    Kernel("sorted_tuple_keys", sorted_tuple_keys, _groups, "loop", "sorted keys"),
    Kernel("closure_mutates_list", closure_mutates_list, lambda r, m: (r.standard_normal(_n(m, 30, 100_000)), 0.5),
           "loop", "closures", expect=error(),
           note="a nested def that appends to the enclosing function's list is refused at the append (the message "
                "says the function does not make the list, which it does)"),
    Kernel("data_trip_count", data_trip_count, _counts, "loop", "data trip counts", rtol=1e-8),
    Kernel("return_from_while_in_for", return_from_while_in_for,
           lambda r, m: (r.random(_n(m, (5, 6), (2000, 300))), _n(m, 5.0, 250.0)), "loop", "early return",
           rtol=1e-8),
    Kernel("while_true_else", while_true_else, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 3.0), "loop",
           "while else"),
    Kernel("float_int_compare_edges", float_int_compare_edges, _cmp_edges, "array", "int float comparison"),
    Kernel("integer_overflow_in_index", integer_overflow_in_index,
           lambda r, m: (r.standard_normal(1000), _n(m, 30, 300_000)), "loop", "int32 index"),
]


# --- third batch: dependences through memory that a vectorizer must keep ----------------------------

def pointer_chase_inplace(x, p):
    """x[i] = x[p[i]] + 1 with p[i] < i: each read sees a value this loop wrote (tree depths)."""
    for i in range(1, x.shape[0]):
        x[i] = x[p[i]] + 1.0
    return x.max()


def mirror_in_place(x):
    """for i in range(n): x[n - 1 - i] = x[i] runs past the middle: the second half reads back the
    first half's copies, so x becomes a palindrome of its first half (not its reverse)."""
    n = x.shape[0]
    for i in range(n):
        x[n - 1 - i] = x[i]
    return x.copy()


def distance_two_recurrence(x, a, b):
    """out[i] = a * out[i - 2] + b * x[i]: two interleaved chains, and a forward write out[i + 1]."""
    n = x.shape[0]
    out = np.zeros(n)
    out[0] = x[0]
    out[1] = x[1]
    for i in range(2, n):
        out[i] = a * out[i - 2] + b * x[i]
    fwd = x.copy()
    for i in range(n - 1):
        fwd[i + 1] = 0.5 * fwd[i] + fwd[i + 1]
    return out, fwd


def gauss_seidel_sweeps(u, f, sweeps):
    """In-place Gauss-Seidel on a grid argument: each update reads neighbours updated this sweep."""
    n, m = u.shape
    for _ in range(sweeps):
        for i in range(1, n - 1):
            for j in range(1, m - 1):
                u[i, j] = 0.25 * (u[i - 1, j] + u[i + 1, j] + u[i, j - 1] + u[i, j + 1] - f[i, j])
    return np.abs(u).sum()


def indirect_accumulate(v, p, q):
    """v[p[i]] += v[q[i]]: a read of an element an earlier iteration may have changed."""
    for i in range(p.shape[0]):
        v[p[i]] += 0.5 * v[q[i]]
    return v.copy()


def nan_seeded_running_max(x):
    """m = x[0], then `if x[i] > m` updates: a NaN first element stays (nothing compares above NaN);
    the index follows the same rule; >= takes the last of ties."""
    m = x[0]
    k = 0
    last = 0
    for i in range(1, x.shape[0]):
        if x[i] > m:
            m = x[i]
            k = i
        if x[i] >= x[last]:
            last = i
    return m, k, last


def union_find_roots(parent):
    """Path-halving union-find root lookups on an argument that the lookups themselves rewrite."""
    n = parent.shape[0]
    roots = np.empty(n, dtype=np.int64)
    for i in range(n):
        r = i
        while parent[r] != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        roots[i] = r
    return roots


def running_count_bins(x, nb):
    """A bin chosen from the count so far: each iteration reads what the previous ones wrote."""
    counts = np.zeros(nb, dtype=np.int64)
    for i in range(x.shape[0]):
        b = int(abs(x[i]) * nb) % nb
        if counts[b] > counts[(b + 1) % nb]:
            b = (b + 1) % nb
        counts[b] += 1
    return counts


def compact_in_place(x, t):
    """Stream compaction into the front of the argument itself: writes trail the reads."""
    k = 0
    for i in range(x.shape[0]):
        if x[i] > t:
            x[k] = x[i]
            k += 1
    return k, x.copy()


def prefix_max_inplace(x):
    """x[i] = max(x[i], x[i - 1]) in place: a running maximum through the argument."""
    for i in range(1, x.shape[0]):
        if x[i - 1] > x[i]:
            x[i] = x[i - 1]
    return x.copy()


def swap_loop_full_length(x):
    """A tuple swap loop over the whole length swaps every pair twice: x comes back unchanged."""
    n = x.shape[0]
    for i in range(n):
        x[i], x[n - 1 - i] = x[n - 1 - i], x[i]
    y = x.copy()
    for i in range(n // 2):
        y[i], y[n - 1 - i] = y[n - 1 - i], y[i]
    return y


def row_recurrence_2d(A):
    """Each row built from the row above, in place on a copy: A[i] = 0.5 * A[i - 1] + A[i]."""
    B = A.copy()
    for i in range(1, B.shape[0]):
        B[i] = 0.5 * B[i - 1] + B[i]
    C = A.copy()
    for j in range(1, C.shape[1]):
        C[:, j] += C[:, j - 1] * 0.25
    return B, C


def _tree_parents(r, m):
    n = _n(m, 30, 300_000)
    p = np.zeros(n, dtype=np.int64)
    p[1:] = (r.random(n - 1) * np.arange(1, n)).astype(np.int64)
    return np.zeros(n), p


def _indirect(r, m):
    n, k = _n(m, (12, 20), (1000, 300_000))
    return r.standard_normal(n), r.integers(0, n, k), r.integers(0, n, k)


def _uf(r, m):
    n = _n(m, 30, 100_000)
    parent = np.arange(n)
    for i in range(1, n):
        if r.random() < 0.8:
            parent[i] = r.integers(0, i)
    return (parent,)


def _nan0(r, m):
    x = np.round(r.standard_normal(_n(m, 30, 300_000)), 1)
    x[0] = np.nan
    return (x,)


KERNELS += [
    Kernel("pointer_chase_inplace", pointer_chase_inplace, _tree_parents, "loop", "memory dependence"),
    Kernel("mirror_in_place", mirror_in_place, lambda r, m: (r.standard_normal(_n(m, 31, 300_001)),), "loop",
           "memory dependence"),
    Kernel("distance_two_recurrence", distance_two_recurrence,
           lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 0.9, 0.3), "loop", "memory dependence",
           rtol=1e-8),
    Kernel("gauss_seidel_sweeps", gauss_seidel_sweeps,
           lambda r, m: (r.standard_normal(_n(m, (6, 7), (120, 130))), r.standard_normal(_n(m, (6, 7), (120, 130))),
                         _n(m, 2, 20)), "loop", "memory dependence", rtol=1e-8),
    Kernel("indirect_accumulate", indirect_accumulate, _indirect, "loop", "memory dependence", rtol=1e-8),
    Kernel("nan_seeded_running_max", nan_seeded_running_max, _nan0, "loop", "NaN max"),
    Kernel("union_find_roots", union_find_roots, _uf, "loop", "memory dependence"),
    Kernel("running_count_bins", running_count_bins, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 7), "loop",
           "memory dependence"),
    Kernel("compact_in_place", compact_in_place, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), 0.2), "loop",
           "memory dependence"),
    Kernel("prefix_max_inplace", prefix_max_inplace, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)),), "loop",
           "memory dependence"),
    Kernel("swap_loop_full_length", swap_loop_full_length, lambda r, m: (r.standard_normal(_n(m, 31, 300_001)),),
           "loop", "memory dependence"),
    Kernel("row_recurrence_2d", row_recurrence_2d, lambda r, m: (r.standard_normal(_n(m, (6, 5), (3000, 200))),),
           "loop", "memory dependence", rtol=1e-8),
]


# --- fourth batch: grown lists ----------------------------------------------------------------------

def pairs_from_nested_loops(X, t):
    """(i, j) pairs kept from two nested loops under a condition, then one (k, 2) array."""
    pairs = []
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            if X[i, j] > t:
                pairs.append((i, j))
    return np.array(pairs, dtype=np.int64), len(pairs)


def list_concat_and_extend(x):
    """out += [v] and out.extend([v, -v]) in a loop; the list's last element read back each step."""
    out = [0.0]
    ext = []
    for i in range(x.shape[0]):
        out += [out[-1] * 0.5 + x[i]]
        ext.extend([x[i], -x[i]])
    return np.array(out), np.array(ext)


def while_len_list(x, k):
    """while len(kept) < k: a list's length as the loop test, with a data-dependent step."""
    kept = []
    i = 0
    while len(kept) < k and i < x.shape[0]:
        if x[i] > 0.0:
            kept.append(x[i])
        i += 1
    return np.array(kept), i


def stacked_rows(X, t):
    """Rows appended under a condition, then np.stack of them along each axis."""
    rows = []
    for i in range(X.shape[0]):
        if X[i].sum() > t:
            rows.append(X[i] * 2.0)
    return np.stack(rows), np.stack(rows, axis=1)


def filtered_comprehension(x, t):
    """A comprehension with an if: its length depends on the data; sum() and len() of it."""
    kept = [v * 2.0 for v in x if v > t]
    return np.array(kept), sum(kept), len(kept), len([i for i, v in enumerate(x) if v < -t])


def helper_with_branches(v, lo, hi):
    if v < lo:
        return lo
    if v > hi:
        return hi
    return v * 1.5


def comprehension_over_helper(x, lo, hi):
    """np.array of a comprehension over a helper with early returns."""
    return np.array([helper_with_branches(v, lo, hi) for v in x])


def _pairs(r, m):
    return r.standard_normal(_n(m, (6, 5), (300, 200))), _n(m, 1.0, 2.5)


KERNELS += [
    Kernel("pairs_from_nested_loops", pairs_from_nested_loops, _pairs, "loop", "grown lists"),
    Kernel("list_concat_and_extend", list_concat_and_extend, lambda r, m: (r.standard_normal(_n(m, 6, 100_000)),),
           "loop", "grown lists", rtol=1e-8,
           note="ok at the test size (6: the loop unrolls); at the bench size a clear ChangedInLoop error for "
                "ext.extend; the unrolled cpu compile grows fast with the trips (5: 8 s, 10: 54 s, 20: 166 s at "
                "load 7; interpret 0.2 s), reported"),
    Kernel("while_len_list", while_len_list, lambda r, m: (r.standard_normal(_n(m, 30, 300_000)), _n(m, 5, 1000)),
           "loop", "grown lists"),
    Kernel("stacked_rows", stacked_rows, lambda r, m: (r.standard_normal(_n(m, (8, 3), (30_000, 8))), 0.5), "loop",
           "grown lists"),
    Kernel("filtered_comprehension", filtered_comprehension,
           lambda r, m: (r.standard_normal(_n(m, 30, 100_000)), 0.7), "loop", "comprehensions", rtol=1e-8),
    Kernel("comprehension_over_helper", comprehension_over_helper,
           lambda r, m: (r.standard_normal(_n(m, 30, 100_000)), -0.5, 0.8), "loop", "comprehensions"),
]
