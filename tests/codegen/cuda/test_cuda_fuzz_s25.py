"""An InternalError of the cuda backend found by the s25 fuzz round (the
widened scalar-program generator under the simulator; right on interpret
and cpu).

A device scalar read by host code is fetched once (codegen/cuda/emitter.py
`host_scalar`) and its host variable reused after. Fetched inside one branch
of a host `if` (the early `return` of a loop unrolled while tracing: one
cond per iteration), the variable was reused by the next cond's branch,
where it is unset when the first branch was not taken: "cannot access
local variable 'h14_'" under the simulator. A fetch now lasts only to the
end of the host block it was made in."""
import numpy as np

import looptrace as lt

from _cuda_support import assert_like_plain, cuda_backend


def early_return_of_an_accumulator(x, a):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += a[i]
        if a[i] < -2:
            return x[i:] * 2.0, acc
    return x, acc


def test_a_scalar_fetched_in_a_branch_is_fetched_again_after_it():
    cuda_backend()
    for a in (1.0, -3.0):
        assert_like_plain(early_return_of_an_accumulator, (np.array([1.0]), np.array([a])),
                          lt.jit(early_return_of_an_accumulator, backend="cuda"))
