"""Threads drawing from NumPy's legacy global state through jitted calls at
the same time lose no draw: a call holds the state's lock while it runs on
a copy of the state (api.py `_run_on_legacy_states`), as NumPy's own draws
hold it."""
import threading

import numpy as np

import looptrace as lt


def draws(n):
    s = 0.0
    for i in range(n):
        s += np.random.random()
    return s


def test_concurrent_calls_advance_the_global_state_by_every_draw():
    f = lt.jit(draws, backend="interpret")
    f(3)
    saved = np.random.get_state()
    try:
        np.random.seed(123)
        n, threads, rounds = 400, 4, 3

        def work():
            for _ in range(rounds):
                f(n)

        ts = [threading.Thread(target=work) for _ in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        ref = np.random.RandomState(123)
        ref.random_sample(n * threads * rounds)
        got, want = np.random.get_state(), ref.get_state()
        assert np.array_equal(got[1], want[1]) and got[2] == want[2]
    finally:
        np.random.set_state(saved)
