"""A lambda is converted (its conditions traced, its calls entered) from its
file's tree: its own lines, as inspect gives them, start at its line, which
may continue an expression begun above (`return (f(lambda ...)(v),` then
another lambda on the next line) and do not parse alone; that lambda ran as
plain Python and a traced condition in it raised TraceError. Two lambdas on
one line with the same parameters are told apart by their code's source
positions."""
import numpy as np
import pytest

import looptrace


def two_vectorized_helpers(v):
    return (np.vectorize(lambda x: 1.0 if x > 0 else -x)(v),
            np.vectorize(lambda x: 1 if x > 0 else 0)(v))


def two_lambdas_on_a_line(v):
    h1, h2 = (lambda x: np.where(x > 0, x, 0.0) if x.sum() > 0 else x * 2), (lambda x: x * 3 if x.sum() > 0 else x)
    return h1(v) + h2(v)


def a_lambda_on_a_continuation_line(v, w):
    pick = max(v.sum(), 0.0), \
        (lambda a, b: a if a.sum() > b.sum() else b)
    return pick[1](v, w) * pick[0]


@pytest.mark.parametrize("fn, n_args", [(two_vectorized_helpers, 1), (two_lambdas_on_a_line, 1),
                                        (a_lambda_on_a_continuation_line, 2)])
@pytest.mark.parametrize("backend", ["interpret", "cpu"])
def test_lambdas_that_do_not_start_a_statement_are_converted(fn, n_args, backend, rng):
    for _ in range(3):
        args = [rng.standard_normal(7) for _ in range(n_args)]
        got, want = looptrace.jit(fn, backend=backend)(*args), fn(*args)
        for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(g, w, rtol=1e-12)
