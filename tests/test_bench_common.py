"""bench.common.measure_in_turn: one call of each per round, figures per label."""

from bench.common import measure_in_turn


def test_calls_are_timed_in_turn_round_after_round():
    order = []
    calls = {label: (lambda label=label: order.append(label)) for label in ("floor", "stream", "search")}

    figures = measure_in_turn(calls, rounds=4)

    assert order == ["floor", "stream", "search"] * 4
    assert list(figures) == ["floor", "stream", "search"]
    for values in figures.values():
        assert set(values) == {"p50", "p95", "cpu"}
        assert 0 <= values["p50"] <= values["p95"]
