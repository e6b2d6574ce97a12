"""cuda rules of solve, inv, det and cholesky (ops/decomp.py): one thread per matrix.

solve, inv and det copy the matrix into a scratch buffer in global memory
(shared or scratch memory inside a persistent kernel) and run Gaussian
elimination with partial pivoting on it, applying the same row operations
to the right-hand side (solve: b, inv: the identity), which live in the
output; back substitution then leaves the solution there. det is the
product of the pivots, its sign flipped once per row swap. cholesky is the
Cholesky-Banachiewicz loop, row by row, reading the input's lower triangle
and writing the factor (zeros above the diagonal) into the output.

A zero pivot (solve, inv) or a diagonal that is not positive (cholesky)
reports into the call's error flag (as a check does, rules/check.py): the
runner raises np.linalg.LinAlgError with NumPy's message after the call
("Singular matrix", "Matrix is not positive definite") and nothing reaches
the caller, as on the cpu target. A matrix singular only through rounding
(two equal columns) may give a tiny pivot here where LAPACK's order of
operations gives zero, or the other way round: then one raises and the other
returns huge values.

Cost: per matrix of size n with k right-hand sides, about 2n^3/3 + 2n^2 k
multiply-adds (solve; inv has k = n; det n^3/3; cholesky n^3/6), all on one
thread, the matrices of a batch in parallel, with n^2 elements of scratch per
matrix. That suits batches of small matrices (the point loop of
contour_integral); one large matrix runs on a single thread (no blocked or
multi-thread factorization). Complex operands are refused
(codegen/cuda/dtypes.py).
"""
from __future__ import annotations

import re

import numpy as np

from looptrace.codegen.target import StatementRule
from looptrace.ops.check import Failure

from ..device import ERR_FLAG
from ..emitter import CudaEmitter
from ..target import TARGET
from ..values import cast_to


_LOCALS = re.compile(r"\b(r|c|p|j|q|v|t|f|s|d|best|piv|sign)_\b")


class _Mats:
    """The device code of one thread and element access to its matrices (the
    batch index `lead`, then a row and a column). Local names written `r_`,
    `s_`, ... get a suffix of this op's own, so two ops in one persistent
    kernel never share a local variable (nor its type)."""

    def __init__(self, em: CudaEmitter, code, lead: list[str]):
        self.code, self.lead = code, lead
        self.suffix = em.fresh("")

    def local(self, text: str) -> str:
        return _LOCALS.sub(lambda mt: mt.group(1) + self.suffix, text)

    def line(self, text: str) -> None:
        self.code.line(self.local(text))

    def indented(self):
        return self.code.indented()

    def get(self, acc, i: str, j: str) -> str:
        return self.code.load(acc, self.lead + [self.local(i), self.local(j)])

    def put(self, acc, i: str, j: str, expr: str) -> None:
        self.code.store(acc, self.lead + [self.local(i), self.local(j)], cast_to(self.local(expr), acc.dtype))


def _failure_code(em: CudaEmitter, op, message: str) -> int:
    """The error code under which this op reports a LinAlgError (host.call_error makes it)."""
    return em.check_code(Failure(np.linalg.LinAlgError(message), op.loc, message))


def _fail(m: "_Mats", code_: int) -> str:
    """The device statement that reports failure `code_` (the first report wins)."""
    err = m.code.err()
    m.code.touch(ERR_FLAG, write=True)
    return f"cuda.atomic.compare_and_swap({err}, 0, {code_ + 1})"


def _scratch(em: CudaEmitter, shape: tuple, dtype):
    if em.team is not None:
        return em.team.storage(shape, dtype)
    return em.alloc_temp(shape, dtype)


def _copy(m: _Mats, dst, src, rows: str, cols: str) -> None:
    m.line(f"for r_ in range({rows}):")
    with m.indented():
        m.line(f"for c_ in range({cols}):")
        with m.indented():
            m.put(dst, "r_", "c_", m.get(src, "r_", "c_"))


def _identity(m: _Mats, dst, n: str) -> None:
    m.line(f"for r_ in range({n}):")
    with m.indented():
        m.line(f"for c_ in range({n}):")
        with m.indented():
            m.put(dst, "r_", "c_", "1 if r_ == c_ else 0")


def _eliminate(m: _Mats, w, x, n: str, k: str | None, sign: str | None, fail: str | None = None) -> None:
    """Reduce w to upper triangular form by partial pivoting, applying the row
    swaps and updates to x's k columns (none when k is None); `sign` names a
    variable flipped at each swap; `fail` is run at a zero pivot (the matrix
    is singular)."""
    m.line(f"for c_ in range({n}):")
    with m.indented():
        m.line("p_ = c_")
        m.line(f"best_ = abs({m.get(w, 'c_', 'c_')})")
        m.line(f"for r_ in range(c_ + 1, {n}):")
        with m.indented():
            m.line(f"v_ = abs({m.get(w, 'r_', 'c_')})")
            m.line("if v_ > best_:")
            m.line("    best_ = v_")
            m.line("    p_ = r_")
        m.line("if p_ != c_:")
        with m.indented():
            if sign is not None:
                m.line(f"{sign} = -{sign}")
            for acc, cols in ((w, n), (x, k)):
                if cols is None:
                    continue
                m.line(f"for j_ in range({cols}):")
                with m.indented():
                    m.line(f"t_ = {m.get(acc, 'c_', 'j_')}")
                    m.put(acc, "c_", "j_", m.get(acc, "p_", "j_"))
                    m.put(acc, "p_", "j_", "t_")
        m.line(f"piv_ = {m.get(w, 'c_', 'c_')}")
        m.line("if piv_ == 0:")  # the column is zero from here down: nothing to eliminate (det: 0)
        with m.indented():
            if fail is not None:
                m.line(fail)
            m.line("continue")
        m.line(f"for r_ in range(c_ + 1, {n}):")
        with m.indented():
            m.line(f"f_ = {m.get(w, 'r_', 'c_')} / piv_")
            for acc, first, cols in ((w, "c_ + 1", n), (x, "0", k)):
                if cols is None:
                    continue
                m.line(f"for j_ in range({first}, {cols}):")
                with m.indented():
                    m.put(acc, "r_", "j_", f"{m.get(acc, 'r_', 'j_')} - f_ * {m.get(acc, 'c_', 'j_')}")


def _back_substitute(m: _Mats, w, x, n: str, k: str) -> None:
    m.line(f"for c_ in range({n} - 1, -1, -1):")
    with m.indented():
        m.line(f"for j_ in range({k}):")
        with m.indented():
            m.line(f"s_ = {m.get(x, 'c_', 'j_')}")
            m.line(f"for q_ in range(c_ + 1, {n}):")
            m.line(f"    s_ -= {m.get(w, 'c_', 'q_')} * {m.get(x, 'q_', 'j_')}")
            m.put(x, "c_", "j_", f"s_ / {m.get(w, 'c_', 'c_')}")


def _per_matrix(em: CudaEmitter, a, body) -> None:
    """`body(m, n)` once per matrix of `a`, one thread each."""
    lead = tuple(a.shape[:-2])
    with em.parallel(em.count(lead)) as (code, e):
        m = _Mats(em, code, em.index_of(code, e, lead))
        body(m, code.size(em.size(a, a.ndim - 1)))


def _solve_into(em: CudaEmitter, op, a, right_side) -> None:
    """Gaussian elimination of each matrix of `a` applied to the right-hand
    side that `right_side(m, out, n)` writes into the output (returning its
    column count), then back substitution: the solution is left there."""
    aa, out = em.acc(a), em.alloc(op.out)
    w = _scratch(em, tuple(a.shape), a.dtype)
    singular = _failure_code(em, op, "Singular matrix")

    def body(m, n):
        _copy(m, w, aa, n, n)
        k = right_side(m, out, n)
        _eliminate(m, w, out, n, k, None, _fail(m, singular))
        _back_substitute(m, w, out, n, k)

    _per_matrix(em, a, body)


def _lower_solve(em: CudaEmitter, op) -> None:
    a, b = op.inputs
    ba = em.acc(b)

    def right_side(m, out, n):
        k = m.code.size(em.size(b, b.ndim - 1))
        _copy(m, out, ba, n, k)
        return k

    _solve_into(em, op, a, right_side)


def _lower_inv(em: CudaEmitter, op) -> None:
    def right_side(m, out, n):
        _identity(m, out, n)
        return n

    _solve_into(em, op, op.inputs[0], right_side)


def _lower_det(em: CudaEmitter, op) -> None:
    (a,) = op.inputs
    aa, out = em.acc(a), em.alloc(op.out)
    w = _scratch(em, tuple(a.shape), a.dtype)

    def body(m, n):
        _copy(m, w, aa, n, n)
        m.line(f"sign_ = {cast_to(1, a.dtype)}")
        _eliminate(m, w, None, n, None, "sign_")
        m.line("d_ = sign_")
        m.line(f"for c_ in range({n}):")
        m.line(f"    d_ *= {m.get(w, 'c_', 'c_')}")
        m.code.store(out, m.lead, cast_to(m.local("d_"), op.out.dtype))

    _per_matrix(em, a, body)


def _lower_cholesky(em: CudaEmitter, op) -> None:
    (a,) = op.inputs
    aa, out = em.acc(a), em.alloc(op.out)
    indefinite = _failure_code(em, op, "Matrix is not positive definite")

    def body(m, n):
        fail = _fail(m, indefinite)
        m.line(f"for r_ in range({n}):")
        with m.indented():
            m.line("for c_ in range(r_ + 1):")
            with m.indented():
                m.line(f"s_ = {m.get(aa, 'r_', 'c_')}")
                m.line("for q_ in range(c_):")
                m.line(f"    s_ -= {m.get(out, 'r_', 'q_')} * {m.get(out, 'c_', 'q_')}")
                m.line("if r_ == c_:")
                with m.indented():
                    m.line("if not s_ > 0:")  # LAPACK's potrf stops there (nan included)
                    m.line(f"    {fail}")
                    m.put(out, "r_", "c_", "math.sqrt(s_) if s_ >= 0 else math.nan")
                m.line("else:")
                with m.indented():
                    m.put(out, "r_", "c_", f"s_ / {m.get(out, 'c_', 'c_')}")
            m.line(f"for c_ in range(r_ + 1, {n}):")
            with m.indented():
                m.put(out, "r_", "c_", "0")

    _per_matrix(em, a, body)


TARGET.register("solve", StatementRule(_lower_solve))
TARGET.register("inv", StatementRule(_lower_inv))
TARGET.register("det", StatementRule(_lower_det))
TARGET.register("cholesky", StatementRule(_lower_cholesky))
