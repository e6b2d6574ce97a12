"""Primitives, one module per family; importing this registers them all."""
from looptrace.ir.primitive import (  # noqa: F401
    NOT_DIFFERENTIABLE,
    PRIMITIVES,
    Primitive,
    ShapeMismatch,
    get,
)

from . import (  # noqa: F401
    check,  # data-dependent raise and assert, run as checks
    control,
    creation,
    elementwise,
    fft,  # fft, rfft, irfft over the last axis
    fsum,  # math.fsum, rounded once as Python rounds it
    indexing,
    io,  # print() of traced values
    linalg,
    random,
    recurrence,  # noqa: F401  (linear recurrences and product chains without a loop)
    reduce,
    shape,
    decomp,  # solve, inv, det, cholesky
    factorizations,  # slogdet, eigh, eigvalsh, svd, svdvals, qr, pinv
    sort,  # sort, argsort
    special,  # erf, gamma, ...; complex parts
)
