"""bench/_timing.py: round-robin medians and the ratio table."""

import json

from bench._timing import compare, print_table


def test_compare_runs_every_case_round_robin():
    calls = []
    cases = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    medians = compare(cases, repeats=3, warmup=1)
    assert set(medians) == {"a", "b", "c"}
    assert all(m >= 0 for m in medians.values())
    assert calls == ["a", "b", "c", "a", "b", "c", "b", "c", "a", "c", "a", "b"]


def test_each_case_follows_each_other_equally_often():
    """Over two turns every case is timed right after each other case as
    often: a slow case (the plain function) leaves the caches cold for
    whichever case comes next, and that must not fall on one of them."""
    calls = []
    cases = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    compare(cases, repeats=6, warmup=0)
    follows = {}
    for before, after in zip(calls, calls[1:]):
        follows[before, after] = follows.get((before, after), 0) + 1
    for after in "abc":
        counts = [follows.get((before, after), 0) for before in "abc" if before != after]
        assert max(counts) - min(counts) <= 1, (after, follows)


def test_print_table_ratios_and_json(tmp_path, capsys):
    rows = {"w": {"base": 2.0, "fast": 0.5}, "no_base": {"other": 1.0}}
    path = tmp_path / "results" / "out.json"
    print_table(rows, baseline="base", json_path=path)
    printed = capsys.readouterr().out
    assert "0.25x" in printed and "1.00x" in printed
    report = json.loads(path.read_text())
    assert report["baseline"] == "base"
    assert report["rows"]["w"]["fast"] == {"median_s": 0.5, "ratio": 0.25}
    assert report["rows"]["no_base"]["other"]["ratio"] is None


def test_whole_turns_balance_who_follows_the_slow_case():
    """With the repeats rounded up to whole double turns, each case is timed
    right after the first (slow) case exactly as often: a difference of one
    such cold call decides a median of mixed cold and warm calls."""
    from bench._timing import whole_turns

    for repeats in range(1, 20):
        rounds = whole_turns(repeats, 3)
        assert rounds >= repeats and (rounds == 1 or rounds % 6 == 0)
        calls = []
        cases = {name: (lambda name=name: calls.append(name)) for name in "pln"}
        compare(cases, repeats=rounds, warmup=2)
        timed = calls[3 * 2 - 1:]  # the last warmup call precedes the first timed one
        after_slow = [b for a, b in zip(timed, timed[1:]) if a == "p"]
        if rounds > 1:
            assert after_slow.count("l") == after_slow.count("n"), (repeats, after_slow)
