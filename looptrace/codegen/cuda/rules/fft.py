"""cuda rules of fft, rfft and irfft (ops/fft.py): a direct DFT, one thread
per output element.

The thread of output bin k of a lane (all axes but the last fixed) sums
x[j] exp(-+2 pi i j k / n) over the lane's n inputs, the twiddle's angle
taken from (j k) mod n so it stays in [0, 2 pi), with the sums of the real
and imaginary parts in float64 (cast once to the output's dtype). irfft's
thread of output sample j sums w_k Re(X_k exp(2 pi i j k / n)) over the
n // 2 + 1 bins, w_k = 2 except the zero and (n even) the Nyquist bin.
A padded transform sums over the input's samples only (the padding's zeros
add nothing); `scale` multiplies both sums. Every output element is written once: no scratch memory, no atomics, no
barrier, the same code at the top level and inside a persistent kernel.

Cost: n multiply-adds and one sincos per output element, n^2 per lane (all
lanes and bins in parallel): right for the short transforms of scientific
loops (frames of a few hundred to a few thousand samples); a radix-2 FFT
would do n log n (not done).
"""
from __future__ import annotations

import numpy as np

from looptrace.codegen.target import StatementRule

from ..emitter import CudaEmitter
from ..target import TARGET
from ..values import cast_to


def _dft(which: str):
    def lower(em: CudaEmitter, op) -> None:
        x, v = op.inputs[0], op.out
        xa, out = em.acc(x), em.alloc(v)
        shape = tuple(v.shape)
        n = op.attrs.get("n") or x.shape[-1]  # (fft/rfft: past the input's m samples, zeros, which add nothing)
        scale = op.attrs.get("scale", 1.0)
        sign = 1.0 if which == "irfft" or op.attrs.get("inverse") else -1.0
        real_in = np.dtype(x.dtype).kind != "c"
        with em.parallel(em.count(shape)) as (code, e):
            idx = em.index_of(code, e, shape)
            k = idx[-1]
            re, im, j, xv, ph, c, s = (em.fresh(p) for p in ("re", "im", "j", "xv", "ph", "c", "s"))
            code.line(f"{re} = 0.0")
            code.line(f"{im} = 0.0")
            code.line(f"for {j} in range({code.size(em.size(x, x.ndim - 1))}):")
            with code.indented():
                code.line(f"{xv} = {code.load(xa, idx[:-1] + [j])}")
                code.line(f"{ph} = (({j} * {k}) % {n}) * {sign * 2.0 * np.pi / n!r}")
                code.line(f"{c} = math.cos({ph})")
                code.line(f"{s} = math.sin({ph})")
                if which == "irfft":
                    weight = f"(1.0 if {j} == 0 or 2 * {j} == {n} else 2.0)"
                    code.line(f"{re} += {weight} * ({xv}.real * {c} - {xv}.imag * {s})")
                elif real_in:
                    code.line(f"{re} += {xv} * {c}")
                    code.line(f"{im} += {xv} * {s}")
                else:
                    code.line(f"{re} += {xv}.real * {c} - {xv}.imag * {s}")
                    code.line(f"{im} += {xv}.real * {s} + {xv}.imag * {c}")
            if scale != 1.0:
                code.line(f"{re} *= {scale!r}")
                code.line(f"{im} *= {scale!r}")
            value = re if which == "irfft" else f"complex({re}, {im})"
            code.store(out, idx, cast_to(value, v.dtype))

    return lower


TARGET.register("fft", StatementRule(_dft("fft")))
TARGET.register("rfft", StatementRule(_dft("rfft")))
TARGET.register("irfft", StatementRule(_dft("irfft")))
