"""A scan whose body updates each element of its state from that element
only runs point by point on the CPU (codegen/cpu/pointwise.py): blocks of
points, each through all the steps. Values, stacked rows, argument effects
and errors are the plain function's; gradients match finite differences."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import looptrace
from bench.pointwise_scan import mandelbrot, paths, quadratic

POINTWISE = "runs point by point"


@pytest.fixture(autouse=True)
def kernel_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("LOOPTRACE_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "kernels"))


def _note(f, *args) -> str:
    (loop,) = f.explain(*args).loops
    return loop.reason


# [7] with -m slow (0.3 s in 3eb5406's CI): [600]'s kernel but for the length (explain's sources equal but for the
# integers), point by point on one thread as [600]'s
@pytest.mark.parametrize("n", [pytest.param(7, marks=pytest.mark.slow), 600, 300_000])
def test_quadratic_map(n, rng):
    c = rng.uniform(-0.4, 0.4, n)
    f = looptrace.jit(quadratic, backend="cpu")
    np.testing.assert_array_equal(f(c), quadratic(c))
    note = _note(f, c)
    assert POINTWISE in note
    assert ("on the threads" in note) == (n == 300_000)
    assert ("numba.prange" in f.explain(c).kernel_source) == (n == 300_000)


# (9,) with -m slow (two kernels, 0.9 s in 0bc3f38's CI): (13, 40)'s lowering with one axis fewer, and
# test_quadratic_map runs 1-d states point by point
@pytest.mark.parametrize("shape", [pytest.param((9,), marks=pytest.mark.slow), (13, 40)])
def test_mandelbrot_counts(shape, rng, monkeypatch):
    """Numba's complex product rounds differently from NumPy's in the last
    bit, and 50 steps near the set's boundary amplify that: z is close to
    NumPy's, and the same bits as the kernel written step by step."""
    c = rng.uniform(-2, 0.6, shape) + 1j * rng.uniform(-1.2, 1.2, shape)
    f = looptrace.jit(mandelbrot, backend="cpu")
    (n, z), (n_want, z_want) = f(c), mandelbrot(c)
    np.testing.assert_array_equal(n, n_want)
    np.testing.assert_allclose(z, z_want, rtol=1e-6)
    assert POINTWISE in _note(f, c)
    monkeypatch.setenv("LOOPTRACE_NO_POINTWISE", "1")
    step_by_step = looptrace.jit(mandelbrot, backend="cpu")
    assert POINTWISE not in _note(step_by_step, c)
    for got, want in zip((n, z), step_by_step(c)):
        np.testing.assert_array_equal(got, want)


def test_paths_read_a_row_of_noise_per_step_and_stack_history(rng):
    """State (4, 70): the step's row of `noise` is a view read at each point,
    `drift` (70,) broadcasts along the first axis, sin(0.1 t) is a step scalar."""
    x0, noise, drift = rng.normal(size=(4, 70)), rng.normal(size=(25, 4, 70)), rng.normal(size=70)
    f = looptrace.jit(paths, backend="cpu")
    for got, want in zip(f(x0, noise, 0.01, drift), paths(x0, noise, 0.01, drift)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    assert POINTWISE in _note(f, x0, noise, 0.01, drift)


def columns(x0, X):
    x = x0.copy()
    for t in range(X.shape[1]):
        x = np.tanh(0.9 * x + X[:, t] * x)
    return x


def test_a_column_per_step(rng):
    x0, X = rng.normal(size=300), rng.normal(size=(300, 12)) * 0.1
    f = looptrace.jit(columns, backend="cpu")
    np.testing.assert_allclose(f(x0, X), columns(x0, X), rtol=1e-13)
    assert POINTWISE in _note(f, x0, X)


def swaps(a, b):
    for _ in range(11):
        a, b = b, a + 0.5 * b
    p, q = a.copy(), b.copy()
    for _ in range(5):
        p, q = q, p
    return a, b, p, q


def test_carries_that_read_each_other(rng):
    """Every result is computed before any carry is stored: `a, b = b, a`."""
    a, b = rng.normal(size=(3, 50)), rng.normal(size=(3, 50))
    f = looptrace.jit(swaps, backend="cpu")
    for got, want in zip(f(a, b), swaps(a, b)):
        np.testing.assert_array_equal(got, want)
    assert POINTWISE in f.explain(a, b).loops[0].reason


def strided_steps(x0, n):
    x = x0.copy()
    out = np.zeros((n,) + x0.shape)
    for t in range(3, n, 2):
        x = np.cos(x) + t * 0.01
        out[t] = x
    return x, out


def test_start_and_step(rng):
    x0 = rng.normal(size=70)
    f = looptrace.jit(strided_steps, backend="cpu")
    for got, want in zip(f(x0, 20), strided_steps(x0, 20)):
        np.testing.assert_allclose(got, want, rtol=1e-14)
    assert POINTWISE in _note(f, x0, 20)


def relax_in_place(x, c):
    for _ in range(20):
        x[:] = np.tanh(0.5 * x) + c
    return x.sum()


def test_argument_updated_in_place(rng):
    x, c = rng.normal(size=1000), rng.normal(size=1000)
    x2 = x.copy()
    f = looptrace.jit(relax_in_place, backend="cpu")
    got = f(x, c)
    want = relax_in_place(x2, c)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(x, x2, rtol=1e-14)
    assert POINTWISE in _note(f, x, c)


def shifted_reads(x0, noise, k):
    x = x0.copy()
    for t in range(noise.shape[0]):
        x = np.sin(x) + noise[t + k]
    return x


def test_a_start_out_of_bounds_raises_index_error(rng):
    x0, noise = rng.normal(size=600), rng.normal(size=(10, 600))
    f = looptrace.jit(shifted_reads, backend="cpu")
    np.testing.assert_allclose(f(x0, noise, 0), shifted_reads(x0, noise, 0), rtol=1e-12)  # sin_f64: 1 ulp of libm's
    keep = x0.copy()
    with pytest.raises(IndexError):
        shifted_reads(x0, noise, 3)
    with pytest.raises(IndexError, match="shifted_reads|test_cpu_pointwise_scan"):
        f(x0, noise, 3)
    np.testing.assert_array_equal(x0, keep)
    assert POINTWISE in _note(f, x0, noise, 0)


def neighbours(x0):
    x = x0.copy()
    for _ in range(6):
        x = 0.5 * x + 0.25 * np.roll(x, 1)
    return x


def test_a_body_reading_other_points_runs_step_by_step(rng):
    x0 = rng.normal(size=40)
    f = looptrace.jit(neighbours, backend="cpu")
    np.testing.assert_allclose(f(x0), neighbours(x0), rtol=1e-14)
    assert POINTWISE not in _note(f, x0)


def loss(x0, c):
    x = x0
    for _ in range(8):
        x = np.tanh(x * c) + 0.1 * x
    return np.sum(x ** 2)


def test_gradient_matches_finite_differences(rng):
    x0, c = rng.normal(size=30), rng.normal(size=30)
    g = looptrace.grad(loss, argnums=(0, 1), backend="cpu")(x0, c)
    eps = 1e-6
    for k, a in enumerate((x0, c)):
        fd = np.empty_like(a)
        for i in range(a.size):
            up, dn = a.copy(), a.copy()
            up[i] += eps
            dn[i] -= eps
            args_up = (up, c) if k == 0 else (x0, up)
            args_dn = (dn, c) if k == 0 else (x0, dn)
            fd[i] = (loss(*args_up) - loss(*args_dn)) / (2 * eps)
        np.testing.assert_allclose(g[k], fd, rtol=1e-6, atol=1e-8)


def float32_counts(z0, c):
    z = z0
    n = np.zeros(z0.shape, np.int32)
    for _ in range(12):
        z = np.sin(z) * np.float32(0.9) + c
        n = n + (z > 0)
    return z, n


def test_mixed_dtypes(rng):
    z0, c = rng.normal(size=(5, 6)).astype(np.float32), rng.normal(size=(5, 6)).astype(np.float32)
    f = looptrace.jit(float32_counts, backend="cpu")
    (z, n), (z_want, n_want) = f(z0, c), float32_counts(z0, c)
    assert z.dtype == z_want.dtype and n.dtype == n_want.dtype
    np.testing.assert_allclose(z, z_want, rtol=1e-5)  # float32 sin: 1 ulp from NumPy's
    np.testing.assert_array_equal(n, n_want)
    assert POINTWISE in _note(f, z0, c)


def generated_program(steps: int, ops: list[str]):
    """A loop of `steps` steps whose body applies `ops` (element work) to
    carries x and y, reading c (the points' shape) and row (its last axis)."""

    def body(x, y, c, row):
        for op in ops:
            if op == "mul":
                x = x * c + 0.1
            elif op == "add":
                y = y + x * 0.5
            elif op == "sin":
                x = np.sin(x + y)
            elif op == "where":
                y = np.where(x > 0, y * 0.9, y - x)
            else:
                x = x + row
        return x, y

    def prog(x0, y0, c, row):
        x, y = x0.copy(), y0.copy()
        hist = np.empty((steps,) + x0.shape)
        for t in range(steps):
            x, y = body(x, y, c, row)
            hist[t] = x - y
        return x, y, hist

    return prog


GENERATED_OPS = st.lists(st.sampled_from(["mul", "add", "sin", "where", "bcast"]), min_size=1, max_size=4)


GENERATED = dict(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), steps=st.integers(0, 5),
                 ops=GENERATED_OPS, seed=st.integers(0, 2 ** 16))


def _generated_pointwise_loops(backend, shape, steps, ops, seed):
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    prog = generated_program(steps, ops)
    args = (rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape[-1:]))
    f = looptrace.jit(prog, backend=backend)
    for got, want in zip(f(*args), prog(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# cpu kernels: 10.6 s at 12, 4.8 s at 6 (session 54's CI), 1.9 s at 3 (0bc3f38's); 2 now, and the interpreter
# runs 12 examples of the same generator below
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**GENERATED)
def test_generated_pointwise_loops(shape, steps, ops, seed):
    """Small generated bodies of element work on generated state shapes."""
    _generated_pointwise_loops("cpu", shape, steps, ops, seed)


@settings(max_examples=12, deadline=None)
@given(**GENERATED)
def test_generated_pointwise_loops_interpret(shape, steps, ops, seed):
    _generated_pointwise_loops("interpret", shape, steps, ops, seed)


def running_stats(x0, c):
    x = x0.copy()
    total = np.zeros_like(x0)
    peak = np.full(x0.shape, -np.inf)
    count = np.zeros(x0.shape, np.int64)
    for _ in range(25):
        x = np.sin(x * c) + 0.5
        total += x
        peak = np.maximum(peak, x)
        if_pos = x > 0.7
        count += if_pos
    return x, total, peak, count


def test_folds_over_the_steps_accumulate_in_the_point_loop(rng):
    """`total += x`, `count += (x > 0.7)` and a running maximum, which the
    vectorizer makes folds over stacked rows after the loop, accumulate per
    point inside it: no (steps, points) rows. (The kernel's sin is mathlib's, within 1 ulp of
    libm's, which 25 steps of x = sin(x * c) + 0.5 amplify to ~1e-11.)"""
    x0, c = rng.normal(size=(6, 90)), rng.normal(size=(6, 90))
    f = looptrace.jit(running_stats, backend="cpu")
    for got, want in zip(f(x0, c), running_stats(x0, c)):
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=1e-9)
    src = f.explain(x0, c).kernel_source
    assert POINTWISE in _note(f, x0, c)
    assert "trip_count" not in src  # no stacked rows left


def history_and_total(x0):
    x = x0.copy()
    hist = np.empty((12,) + x0.shape)
    total = np.zeros_like(x0)
    for t in range(12):
        x = np.cos(x)
        hist[t] = x
        total += x
    return hist, total


def test_rows_read_elsewhere_are_still_stacked(rng):
    x0 = rng.normal(size=50)
    f = looptrace.jit(history_and_total, backend="cpu")
    for got, want in zip(f(x0), history_and_total(x0)):
        np.testing.assert_allclose(got, want, rtol=1e-14)


def iterate(c, n):
    z = np.zeros_like(c)
    for _ in range(n):
        z = np.cos(z) * 0.5 + c
    return z


def test_a_trip_count_read_at_run_time(rng):
    """`range(n)` with n an argument: one kernel for every n (0 included);
    enough points put the blocks on the threads (UNKNOWN_TRIPS steps assumed)."""
    c = rng.normal(size=20_000)
    f = looptrace.jit(iterate, backend="cpu")
    for n in (0, 1, 7):
        np.testing.assert_allclose(f(c, n), iterate(c, n), rtol=1e-14)
    assert "on the threads" in _note(f, c, 3)


def euler_returning_time(x0, dt, n):
    x = x0.copy()
    t = 0.0
    for _ in range(n):
        x = x + dt * np.sin(t) * x * (1 - x)
        t += dt
    return x, t


def euler_in_time(x0, dt, n):
    return euler_returning_time(x0, dt, n)[0]  # the loop's last t is read by no one


# the one-block sizes below compile the serial lowering the other tests here compile at their small sizes (their
# many-block twins also run the blocks on the threads; 0.7-1.2 s each in session 54's CI): -m slow
@pytest.mark.parametrize("n_points", [pytest.param(50, marks=pytest.mark.slow), 40_000])
def test_a_scalar_carry_is_replicated_in_each_block(n_points, rng):
    """`t += dt` runs in every block (each its own copy); where its last
    value is read after the loop, a loop of the scalar steps alone gives it."""
    x0 = rng.uniform(0, 1, n_points)
    # euler_in_time: its note from the kernel it would compile (explain), its values on the interpreter; the
    # blocks' copies of t run on cpu in g below, which also returns x (a second parallel kernel, 1.5 s of CPU)
    f = looptrace.jit(euler_in_time, backend="interpret")
    np.testing.assert_allclose(f(x0, 0.01, 90), euler_in_time(x0, 0.01, 90), rtol=1e-13)
    assert POINTWISE in _note(looptrace.jit(euler_in_time, backend="cpu"), x0, 0.01, 90)
    g = looptrace.jit(euler_returning_time, backend="cpu")
    (x, t), (x_want, t_want) = g(x0, 0.01, 90), euler_returning_time(x0, 0.01, 90)
    np.testing.assert_allclose(x, x_want, rtol=1e-13)
    assert t == t_want
    assert POINTWISE in _note(g, x0, 0.01, 90)


def renormalized(x0, c):
    x = x0.copy()
    for _ in range(3):
        for _ in range(5):
            x = np.sin(x) * c + 0.1
        x = x / np.max(np.abs(x))
    return x


# the threaded size's values with -m slow (its parallel kernel: 5.2 s in 0bc3f38's CI): threaded pointwise
# blocks keep their values in test_quadratic_map[300000], test_a_scalar_carry_is_replicated_in_each_block[40000]
# and test_a_trip_count_read_at_run_time; both sizes' notes (explain: no compile) run by default
@pytest.mark.parametrize("n", [40, pytest.param(300_000, marks=pytest.mark.slow)])
def test_a_pointwise_loop_inside_another_loop(n, rng):
    """The outer loop reads every point (a max): step by step; the inner one runs point by point."""
    x0, c = rng.normal(size=n), rng.normal(size=n)
    f = looptrace.jit(renormalized, backend="cpu")
    np.testing.assert_allclose(f(x0, c), renormalized(x0, c), rtol=1e-9, atol=1e-12)  # sin_f64, iterated
    for size in (40, 300_000):
        notes = [l.reason for l in f.explain(x0[:1].repeat(size), c[:1].repeat(size)).loops]
        assert sum(POINTWISE in r for r in notes) == 1, notes
        assert sum("on the threads" in r for r in notes) == (size == 300_000), notes


def backwards(x0, noise):
    x = x0.copy()
    hist = np.empty(noise.shape)
    for t in range(noise.shape[0] - 1, -1, -1):
        x = np.cos(x) + noise[t]
        hist[t] = x
    return x, hist


def floor_divisions(a, b):
    q = a.copy()
    for _ in range(3):
        q = q // b + 1
    return q


def test_a_backward_range_and_integer_state(rng):
    """range(n - 1, -1, -1) writes its rows from the last; integer carries
    floor-divide by zero as NumPy does (0, with a warning there)."""
    x0, noise = rng.normal(size=5), rng.normal(size=(6, 5))
    f = looptrace.jit(backwards, backend="cpu")
    for got, want in zip(f(x0, noise), backwards(x0, noise)):
        np.testing.assert_array_equal(got, want)
    assert POINTWISE in _note(f, x0, noise)
    a, b = rng.integers(-9, 9, 10), rng.integers(-2, 3, 10)
    g = looptrace.jit(floor_divisions, backend="cpu")
    with np.errstate(divide="ignore"):
        want = floor_divisions(a, b)
    got = g(a, b)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert POINTWISE in _note(g, a, b)


def particles(pos0, vel0, mass, gravity, noise):
    """(N, 3) states: mass (N, 1) and gravity (3,) broadcast, a noise row per step."""
    pos, vel = pos0.copy(), vel0.copy()
    path = np.empty(noise.shape)
    dist = np.zeros(pos0.shape)
    for t in range(noise.shape[0]):
        vel = vel * 0.99 + 0.01 * (gravity + noise[t] / mass)
        pos = pos + 0.01 * vel
        path[t] = pos
        dist += np.abs(vel)
    return pos, vel, path, dist


def _particle_args(rng, n):
    return (rng.normal(size=(n, 3)), rng.normal(size=(n, 3)), rng.uniform(1, 2, (n, 1)), rng.normal(size=3),
            rng.normal(size=(6, n, 3)))


# the threaded size's values with -m slow (its parallel kernel: 3.8 s in 0bc3f38's CI; threaded blocks keep
# their values in the tests named above test_a_pointwise_loop_inside_another_loop); both sizes' sources
# (explain: no compile) run by default
@pytest.mark.parametrize("n", [5, pytest.param(70_000, marks=pytest.mark.slow)])
def test_a_short_last_axis_is_taken_whole(n, rng):
    """The blocks cut the particles, not their 3 coordinates (SHORT_AXIS):
    each coordinate is written out in the loop over a block's rows."""
    args = _particle_args(rng, n)
    f = looptrace.jit(particles, backend="cpu")
    for got, want in zip(f(*args), particles(*args)):
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)
    for size in (5, 70_000):
        sized = _particle_args(rng, size)
        assert POINTWISE in _note(f, *sized)
        src = f.explain(*sized).kernel_source
        assert "nonneg(j" in src and ", 2] = " in src  # coordinate 2 written out in the loop over rows
