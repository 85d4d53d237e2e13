"""A small version of `make load`: concurrent OAuth sessions and tool calls, checked for correctness."""

from . import load


def test_concurrent_sessions_lose_nothing(odoo):
    stats, wrong = load.run(odoo, clients=4, calls=30)
    assert load.require_clean(stats, wrong) == []
    assert stats.creates == 4 * 3
    assert len(stats.latencies) == 4 * 30
