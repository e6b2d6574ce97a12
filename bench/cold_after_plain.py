"""Each call right after a slow plain Python call (numba-benchmark's range2d,
an int32 sum of a 1000 x 1000 array from a global np.int32(0)): looptrace's
warm call, numba.njit's, the kernel's own Numba dispatcher (compiled again
from the kernel's source), and the kernel's front door (kernel.py `_Front`)
alone. Medians of 40 rounds, printed in us. At 0924929 the front door alone
ran at njit's time (104.5 vs 103.6 us) and looptrace's whole call 134-175
us: the direct runner's few Python lines cost 30-70 us when cold.

    PYTHONPATH=. python bench/cold_after_plain.py
"""
import numpy as np, looptrace, numba, time
zero = np.int32(0)
def range2d(arr):
    total = zero
    m, n = arr.shape
    for i in range(m):
        for j in range(n):
            total += arr[i, j]
    return total
a=np.random.randint(0,100,(1000,1000)).astype(np.int32)
small=a[:100]
f=looptrace.jit(range2d); g=numba.njit(range2d)
for _ in range(3): f(a); g(a)
env=type(f).__call__.__globals__
front=env.get("kernel")
src=f.explain(a).kernel_source
ns={}
exec(compile(src.replace("cache=True","cache=False"), "k", "exec"), ns)
raw=ns["kernel"]; raw(a)
cases=[("lt",f),("njit",g),("raw",raw),("front",front),("lt2",f)]
res={n:[] for n,_ in cases}
for it in range(40):
    for name,h in cases:
        range2d(small)
        t0=time.perf_counter(); h(a); res[name].append(time.perf_counter()-t0)
for k_,v in res.items(): print(k_, "%.1f us"%(np.median(v)*1e6))
