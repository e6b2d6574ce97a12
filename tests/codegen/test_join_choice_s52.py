"""A concatenate never made, read element by element (codegen/cpu/shape.py
join_element): the choice of the piece holding an element is a balanced tree
of tests, not a chain nested once per piece (400 pieces stopped Python's
parser: "too many nested parentheses", a SyntaxError out of jit), and one
element per piece, each reading the literal of its position, is that
position: `np.array(xs)` of a list of traced numbers reads the array."""
import warnings

import numpy as np

import looptrace


def zip_star_unpack(pts):
    pairs = [(pts[i, 0], pts[i, 1]) for i in range(pts.shape[0])]
    xs, ys = zip(*pairs)
    return np.array(xs) - np.array(ys)


def uneven_pieces(x):
    """Pieces of several lengths, two broadcast from a constant index (no position to read)."""
    parts = [np.full(3, x[0]), x[1:4], np.full(2, x[7]), x[2:3] * 2.0] + [x[k:k + 1] for k in range(5, 9)]
    return np.concatenate(parts + [x[3:4] for _ in range(300)]) + 1.0


def test_hundreds_of_pieces_compile_and_match(rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the comprehension of tuples is unrolled: looptrace warns)
        pts = rng.standard_normal((400, 2))
        jitted = looptrace.jit(zip_star_unpack, backend="cpu")
        np.testing.assert_array_equal(jitted(pts), zip_star_unpack(pts))
        src = looptrace.explain(jitted, pts).kernel_source
        assert " if " not in "".join(line for line in src.splitlines() if "v0[" in line)
        x = rng.standard_normal(12)
        np.testing.assert_array_equal(looptrace.jit(uneven_pieces, backend="cpu")(x), uneven_pieces(x))
