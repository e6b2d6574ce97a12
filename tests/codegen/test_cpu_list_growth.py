"""A Python list a loop appends to is a buffer with room for more rows
(ops/indexing.py `reserve`); the CPU kernel tests the room where it appends
and calls templates.reserved only to grow it (codegen/cpu/indexing.py
`_reserve_lower`): a call at every append cost its reference counts (a
monotone stack over 10^5 values: 2.5 ms, 1.1 with the test inline).
Values are compared with the plain function, through many growths."""

import re

import numpy as np

import looptrace


def monotone_stack(a):
    st = []
    c = 0
    for x in a:
        while st and st[-1] > x:
            st.pop()
            c += 1
        st.append(x)
    return c, len(st)


def rows_kept(a):
    out = []
    for i in range(a.shape[0]):
        if a[i, 0] > 0:
            out.append(a[i] * 2.0)
    return out


def test_stack_through_many_growths(rng):
    # cpu at one length (a second length compiled the shared generic kernel: 6.0 s of CPU for both in
    # session 54's CI at e17f737); 3000 pushes grow the buffer many times from its first reserve
    for n in (1, 7, 3000):
        a = rng.integers(0, 10**6, n)
        up = np.sort(a)  # every value pushed, none popped: the buffer grows to n
        for x in (a, up):
            for backend in ("interpret", "cpu") if n == 3000 else ("interpret",):
                assert looptrace.jit(monotone_stack, backend=backend)(x) == monotone_stack(x)


def test_growth_called_only_when_full(rng):
    a = rng.integers(0, 100, 50)
    src = looptrace.jit(monotone_stack, backend="cpu").explain(a).kernel_source
    lines = src.split("def kernel", 1)[1].splitlines()
    calls = [k for k, ln in enumerate(lines) if "reserved(" in ln and not ln.lstrip().startswith("#")]
    assert calls, src
    inside = [k for k in calls if re.match(r"\s*if .* > \w+\.shape\[0\]:", lines[k - 1])]
    assert len(inside) >= 1, src


def test_rows_appended(rng):
    a = rng.standard_normal((40, 3))
    got = looptrace.jit(rows_kept, backend="cpu")(a)
    want = rows_kept(a)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)
