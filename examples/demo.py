"""Run every seed program plainly and through looptrace.jit, and compare.

For each entry of looptrace.examples.PROGRAMS this prints one line: the
program's name, whether the jitted call matched the plain one (return value
and effects on array arguments), and what looptrace.explain says became of
each source loop. `bad_join` is shown separately: it must raise
looptrace.ShapeError, whose message is printed.

Each program runs on its own: an exception is printed and counted, never
allowed to hide the programs after it. Exit status is non-zero if anything
mismatched or failed.

    python examples/demo.py [--backend interpret|cpu|cuda|auto]
"""

import argparse
import sys

import numpy as np

import looptrace
from looptrace.examples import PROGRAMS, bad_join

SEED = 0
RTOL = 1e-9


def fresh_args(make_args):
    """Arguments from a fresh seeded generator: identical on every call.

    Re-creating them (rather than reusing one tuple) gives each run its own
    copies of the array arguments and, for `noisy_rnn`, its own generator in
    the same state.
    """
    return make_args(np.random.default_rng(SEED))


def same_value(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=RTOL))


def same_effects(args_plain, args_jit):
    """Array arguments end up equal and generators end in the same state."""
    for a, b in zip(args_plain, args_jit, strict=True):
        if isinstance(a, np.ndarray) and not same_value(a, b):
            return False
        if isinstance(a, np.random.Generator) and a.bit_generator.state != b.bit_generator.state:
            return False
    return True


def check_program(name, entry, backend):
    """One line: name, match or mismatch, and the loop kinds explain reports."""
    fn, make_args = entry["fn"], entry["make_args"]
    args_plain, args_jit = fresh_args(make_args), fresh_args(make_args)
    expected = fn(*args_plain)
    got = looptrace.jit(fn, backend=backend)(*args_jit)
    ok = same_value(expected, got) and same_effects(args_plain, args_jit)
    kinds = [loop.kind for loop in looptrace.explain(fn, *fresh_args(make_args)).loops]
    print(f"{name:16s} {'ok' if ok else 'MISMATCH':9s} loops={kinds} (expect {entry['expect']})")
    return ok


def check_bad_join(backend):
    """bad_join must raise looptrace.ShapeError; print its message."""
    rng = np.random.default_rng(SEED)
    args = (rng.standard_normal((5, 4)), rng.standard_normal((3, 3)))
    try:
        looptrace.jit(bad_join, backend=backend)(*args)
    except looptrace.ShapeError as err:
        print(f"{'bad_join':16s} {'ok':9s} raised ShapeError:")
        print("    " + str(err).replace("\n", "\n    "))
        return True
    print(f"{'bad_join':16s} {'MISMATCH':9s} no ShapeError raised")
    return False


def run_guarded(name, check, *args):
    """Run one check; print an exception instead of letting it escape."""
    try:
        return check(*args)
    except Exception as err:  # noqa: BLE001 - the demo reports every failure
        print(f"{name:16s} {'FAILED':9s} {type(err).__name__}: {err}")
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backend", default="interpret", help="looptrace backend (default: interpret)"
    )
    backend = parser.parse_args(argv).backend

    results = [
        run_guarded(name, check_program, name, entry, backend) for name, entry in PROGRAMS.items()
    ]
    results.append(run_guarded("bad_join", check_bad_join, backend))
    failures = results.count(False)
    print(f"\n{len(results) - failures}/{len(results)} programs as expected on backend {backend!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
