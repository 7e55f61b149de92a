"""Slow checks, run by CI after the main suite (``make test-slow``)."""

from __future__ import annotations

import pytest

from sim import P2PMarket

from .conftest import SCENARIOS

BUSINESS_MODELS = ["pure_intermediary", "reserve_fund", "guarantor_p2b", "online_offline",
                   "fund_pool"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["baseline", "two_platforms", *BUSINESS_MODELS])
def test_full_scenarios_balance_to_the_fen_every_day(name):
    model = P2PMarket(SCENARIOS / f"{name}.toml", audit="full")
    model.run()
    assert model.day == model.horizon_days
    assert model.ledger.total() == 0


@pytest.mark.slow
def test_each_business_model_shows_its_mechanism():
    """Each of DOMAIN.md's five business models does what sets it apart, over its full horizon."""
    runs = {}
    for name in BUSINESS_MODELS:
        model = P2PMarket(SCENARIOS / f"{name}.toml", audit="off")
        model.run()
        runs[name] = (model, model.datacollector.get_model_vars_dataframe())
    model, frame = runs["pure_intermediary"]
    assert frame.guarantee_payout_cny.sum() == 0 and frame.investor_loss_cny.sum() > 0
    model, frame = runs["reserve_fund"]
    assert frame.guarantee_payout_cny.sum() > 0 and frame.reserve_fund_cny.max() > 0
    model, frame = runs["guarantor_p2b"]
    assert model.platforms[0].guarantor.failed  # the recession exhausts its capital
    model, frame = runs["online_offline"]
    table = model.datacollector.get_table_dataframe("marketing")
    assert table[table.side == "borrowers"].new_users.sum() > 0
    assert frame.guarantee_payout_cny.sum() > 0
    model, frame = runs["fund_pool"]
    months = model.datacollector.get_table_dataframe("platforms")
    assert months.pool_overdue_cny.max() > 0  # maturity mismatch: redemptions overdue (兑付逾期)


@pytest.mark.slow
def test_benchmark_book_balances_to_the_fen_on_two_threads():
    """The 100,000-loan benchmark book for a year, serviced on 2 threads, then fully audited."""
    import numba

    import sim.market.servicing

    threads = min(2, numba.config.NUMBA_NUM_THREADS)
    model = P2PMarket(SCENARIOS / "steady_state_100k.toml", run__horizon_days=360, threads=threads)
    sim.market.servicing.PARALLEL_MIN_ROWS, saved = 0, sim.market.servicing.PARALLEL_MIN_ROWS
    try:
        model.run()
    finally:
        sim.market.servicing.PARALLEL_MIN_ROWS = saved
    model.audit(full=True)
    assert model.totals["loan_months"] > 1_000_000
