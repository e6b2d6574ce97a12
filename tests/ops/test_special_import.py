"""scipy.special is loaded when a special function first needs it, not by
`import looptrace` (0.14-0.2 s of its 0.5 s); a scipy.special ufunc the
user's code imported still traces as its primitive."""
import os
import subprocess
import sys

CODE = """
import math, sys
import numpy as np
import looptrace
assert "scipy.special" not in sys.modules, "imported by looptrace"

def gammas(x):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = math.gamma(x[i])
    return out

x = np.array([0.5, 2.5, 4.0])
np.testing.assert_allclose(looptrace.jit(gammas, backend="interpret")(x), [math.gamma(v) for v in x], rtol=1e-12)
from looptrace.ops.special import IMPLS
got = IMPLS["gamma"](np.array([-1.0, 3.0]))  # where math.gamma raises, the array op gives scipy's nan
assert np.isnan(got[0]) and got[1] == 2.0
import scipy.special as sp
y = np.random.default_rng(7).uniform(0.2, 3.0, 9)
f = looptrace.jit(lambda v: sp.erf(v) + sp.psi(v) * sp.gammaln(v), backend="interpret")
np.testing.assert_allclose(f(y), sp.erf(y) + sp.psi(y) * sp.gammaln(y), rtol=1e-12)
assert "erf" in str(f.explain(y).program)
print("ok")
"""


def test_scipy_special_is_imported_when_needed(tmp_path):
    script = tmp_path / "uses_special.py"  # a file: the tracer reads the loop's source
    script.write_text(CODE)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    out = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
