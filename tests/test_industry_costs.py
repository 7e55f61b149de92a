"""A pooled platform pays its costs by the one rule of a detailed platform's treasury.

Its own cash first; where that is short, its owners put in what it lacks (增资) up to their
registered capital (注册资本) over the run; a platform still short cannot pay its costs and fails
(停业), as a detailed platform does (:func:`sim.runs.liquidity.own_cash_cover`).
"""

from __future__ import annotations

import numpy as np

from sim.industry.failures import CAUSES
from sim.ledger import AccountKind
from sim.model import P2PMarket
from sim.runs.liquidity import own_cash_cover
from sim.scenario.industry import CHANNELS

from .conftest import ROOT
from .test_industry_detailed import ROW, TWIN_COMMON

THUNDERSTORM = ROOT / "scenarios" / "thunderstorm_2018.toml"
QUIET = {"industry.platforms": 120, "industry.investors": 8000, "run.horizon_days": 360,
         "industry.events": [], **{f"industry.channels.{c}.enabled": False for c in CHANNELS}}


def test_owners_cover_what_the_cash_lacks_within_their_room_and_the_rest_is_unpaid():
    called, paid, unpaid = own_cash_cover(np.array([500, 100, 100, 0]), np.array([300, 300, 300, 50]),
                                          np.array([0, 1000, 150, -5]))
    assert called.tolist() == [0, 200, 150, 0]
    assert paid.tolist() == [300, 300, 250, 0] and unpaid.tolist() == [0, 0, 50, 50]
    assert own_cash_cover(100, 300, 1000) == (200, 300, 0)  # one detailed platform: scalars


def _run(cost_monthly: float, **overrides) -> P2PMarket:
    model = P2PMarket(THUNDERSTORM, audit="full",
                      **{**QUIET, "industry.behaviour.operating_cost_monthly": cost_monthly,
                         **overrides})
    model.run()
    return model


def test_a_pooled_platform_whose_costs_outrun_its_fees_calls_its_capital_then_fails(tmp_path):
    """Two platforms of 10,000 CNY registered capital whose costs are 2 % of their book a month."""
    (tmp_path / "twin.csv").write_text(ROW.replace("100000000.0", "10000.0"), encoding="utf-8")
    (tmp_path / "costly.toml").write_text(TWIN_COMMON.format(seed=5), encoding="utf-8")
    model = P2PMarket(tmp_path / "costly.toml", audit="full",
                      **{"industry.behaviour.operating_cost_monthly": 0.02})
    model.run()
    industry = model.industry
    by_costs = industry.cause == CAUSES.index("costs")
    assert by_costs.all()  # both: their fees bring in 0.2 % a month
    assert np.array_equal(industry.capital_called_fen, np.full(2, 10000 * 100))  # all of it
    assert (industry.problem_day[by_costs] >= 0).all()
    assert (industry.failure_type[by_costs] == 0).all()  # 停业
    journal = model.ledger.journal()
    assert journal[journal.memo == "capital_call"].amount_fen.sum() == 2 * 10000 * 100
    assert model.industry.tracker.frame().new_by_costs.sum() == 2


def test_with_costs_the_fees_pay_no_platform_fails_for_them():
    model = _run(0.0008, **{"industry.reserve_fund.opening_coverage": 0.0})  # the scenario's
    # costs, which the fees pay after the first month (no owners' money into opening reserves)
    industry = model.industry
    assert not (industry.cause == CAUSES.index("costs")).any()
    assert (model.ledger.accounts[AccountKind.PLATFORM_CASH][industry.pooled] >= 0).all()
    capital = industry.platforms.registered_capital_cny * 100
    assert (industry.capital_called_fen < 0.01 * capital).all()  # the first month's costs, little
