"""The month's opening (day 30 m): platforms review last month and adapt, then money moves.

Order: borrowers of platforms in trouble go on strike (逃废债, stress scenarios); each platform reads
its state and its policies adapt; investors deposit (scaled by their response to the platform's
rates) and withdraw (less the withdrawal fee), outside an industry (inside one they follow its
daily rule, :mod:`sim.runs.flows`); each platform pays its operating, collection and
insurance costs, applies its guarantee's funding rules (reserve top-ups), runs its marketing (new
investors and borrowers; churned investors leave) and, for a fund pool, its products; a fresh
random order of investors for auto-invest.
"""

from __future__ import annotations

import math

import numpy as np

from sim.company.costs import open_books
from sim.loans import DAYS_PER_MONTH
from sim.market.acquisition import run_marketing
from sim.market.fund_pool import run_fund_pool
from sim.market.guarantees import apply_funding_rules
from sim.market.review import review_platforms

PERCENT = 100.0  # rate premium in percentage points


def open_month(market, day: int) -> None:
    """Run the month's opening on ``day`` (a multiple of 30)."""
    month = day // DAYS_PER_MONTH
    for platform in market.platforms:
        open_books(market, platform, month)
    _strikes(market, day)
    review_platforms(market, day)
    _adapt(market)
    investors, treasury = market.investors, market.treasury
    withdrawals = np.zeros_like(investors.cash_fen)
    if market.industry is None:  # in an industry: its one rule, daily (:mod:`sim.runs.flows`)
        if day > 0:
            supply = np.array([p.supply_multiplier for p in market.platforms])
            treasury.deposit(investors.monthly_deposits(supply))
        withdrawals = investors.withdrawals()
        investors.cash_fen -= withdrawals
    for p, platform in enumerate(market.platforms):
        market.today.withdrawal_fee_fen += treasury.withdraw(platform, withdrawals[:, p])
        treasury.pay_costs(platform, market)
        apply_funding_rules(market, platform)
        run_marketing(market, platform, month)
        if platform.is_fund_pool:
            run_fund_pool(market, platform, month)
    market.marketplace.shuffle_investors()


def _strikes(market, day: int) -> None:
    """Borrowers of a stressed platform in trouble miss more (the scenario's strike multiplier)."""
    multiplier = market.config.stress.strike_hazard_multiplier
    for p, platform in enumerate(market.platforms):
        if platform.stressed and platform.in_trouble():
            market.risk_tables.strike_multiplier[p] = multiplier


def _adapt(market) -> None:
    """Each platform's policies adapt to its state; borrowers and investors respond to its rates."""
    borrowers, investors = market.config.borrowers, market.config.investors
    for platform in market.platforms:
        for policy in (platform.pricing, platform.risk, platform.guarantee):
            policy.end_of_month(platform.state)
        for layer, layer_state in zip(platform.layers, platform.layer_states, strict=True):
            if layer is not platform.guarantee:
                layer.end_of_month(layer_state)
        all_in = platform.state.all_in_premium * PERCENT  # borrowers see every fee ...
        platform.demand_multiplier = math.exp(-borrowers.rate_elasticity * all_in)
        premium = platform.state.rate_premium * PERCENT   # ... investors the interest
        platform.supply_multiplier = math.exp(investors.rate_elasticity * premium)
