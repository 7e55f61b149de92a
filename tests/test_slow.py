"""Slow checks, run by CI after the main suite (``make test-slow``)."""

from __future__ import annotations

import pytest

from sim import P2PMarket

from .conftest import SCENARIOS


@pytest.mark.slow
@pytest.mark.parametrize("name", ["baseline", "two_platforms"])
def test_full_scenarios_balance_to_the_fen_every_day(name):
    model = P2PMarket(SCENARIOS / f"{name}.toml", audit="full")
    model.run()
    assert model.day == model.horizon_days
    assert model.ledger.total() == 0


@pytest.mark.slow
def test_benchmark_book_balances_to_the_fen_on_two_threads():
    """The 100,000-loan benchmark book for a year, serviced on 2 threads, then fully audited."""
    import numba

    import sim.model

    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    model = P2PMarket(SCENARIOS / "steady_state_100k.toml", run__horizon_days=360, threads=threads)
    sim.model.PARALLEL_MIN_ROWS, saved = 0, sim.model.PARALLEL_MIN_ROWS
    try:
        model.run()
    finally:
        sim.model.PARALLEL_MIN_ROWS = saved
    model.audit(full=True)
    assert model.totals["loan_months"] > 1_000_000
