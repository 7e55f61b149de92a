"""What the market reports each day: counters of the day and the reporters of its DataCollector.

Amounts are reported in CNY (floats made from exact fen); the ledger's journal keeps the fen.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.loans import DAYS_PER_MONTH


@dataclass
class DayCounters:
    """Events and flows of one day (counts, and amounts in fen)."""

    day: int = 0
    applications: int = 0
    new_listings: int = 0
    funded_listings: int = 0
    failed_listings: int = 0       # 流标
    volume_fen: int = 0            # disbursed principal
    principal_repaid_fen: int = 0
    interest_fen: int = 0          # interest paid by borrowers, penalty interest included
    penalty_fen: int = 0           # 罚息
    service_fee_fen: int = 0
    management_fee_fen: int = 0
    collection_fee_fen: int = 0
    prepayments: int = 0
    missed: int = 0                # loans that missed an instalment for the first time
    cured: int = 0
    defaults: int = 0
    default_principal_fen: int = 0
    recoveries_fen: int = 0        # paid to investors and holders, after the collection fee
    investor_loss_fen: int = 0     # principal investors lost at write-off, after recoveries
    withdrawal_fee_fen: int = 0
    guarantee_payouts: int = 0     # loans the guarantees paid for (代偿) today
    guarantee_payout_fen: int = 0  # what they paid investors
    guarantee_unpaid_fen: int = 0  # what they were asked for and could not pay
    guarantee_income_fen: int = 0  # reserve contributions and guarantee fees received
    reserve_payout_fen: int = 0    # of guarantee_payout_fen, what each layer paid: the reserve fund
    guarantor_payout_fen: int = 0  # the guarantor
    insurer_payout_fen: int = 0    # the insurer
    insurance_premium_fen: int = 0  # premiums the platforms paid their insurers
    reserve_top_up_fen: int = 0    # moved from platform cash into the reserve by its rules
    reserve_release_fen: int = 0   # moved back to platform cash (over the cap)
    loan_months: int = 0           # due loans serviced today
    arrears_m1: int = 0
    arrears_m2: int = 0
    arrears_m3: int = 0
    arrears_m3_plus: int = 0
    arrears_m1_fen: int = 0
    arrears_m2_fen: int = 0
    arrears_m3_fen: int = 0
    arrears_m3_plus_fen: int = 0


def _cny(fen: int) -> float:
    return fen / 100.0


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else float("nan")


MODEL_REPORTERS = {
    "day": lambda m: m.today.day,
    "month": lambda m: m.today.day // DAYS_PER_MONTH,
    "macro_factor": lambda m: float(m.risk_tables.macro_factor[
        min(m.today.day // DAYS_PER_MONTH, len(m.risk_tables.macro_factor) - 1)]),
    "applications": lambda m: m.today.applications,
    "new_listings": lambda m: m.today.new_listings,
    "funded_listings": lambda m: m.today.funded_listings,
    "failed_listings": lambda m: m.today.failed_listings,
    "volume_cny": lambda m: _cny(m.today.volume_fen),
    "outstanding_principal_cny": lambda m: _cny(m.outstanding_fen()),
    "investor_claims_cny": lambda m: _cny(m.claims_fen()),
    "outstanding_loans": lambda m: m.totals["loans_outstanding"],
    "loans_due": lambda m: m.today.loan_months,
    "principal_repaid_cny": lambda m: _cny(m.today.principal_repaid_fen),
    "interest_paid_cny": lambda m: _cny(m.today.interest_fen),
    "prepayments": lambda m: m.today.prepayments,
    "missed_payments": lambda m: m.today.missed,
    "cured": lambda m: m.today.cured,
    "arrears_m1": lambda m: m.today.arrears_m1,
    "arrears_m2": lambda m: m.today.arrears_m2,
    "arrears_m3": lambda m: m.today.arrears_m3,
    "arrears_m1_cny": lambda m: _cny(m.today.arrears_m1_fen),
    "arrears_m2_cny": lambda m: _cny(m.today.arrears_m2_fen),
    "arrears_m3_cny": lambda m: _cny(m.today.arrears_m3_fen),
    "defaults": lambda m: m.today.defaults,
    "default_principal_cny": lambda m: _cny(m.today.default_principal_fen),
    "recoveries_cny": lambda m: _cny(m.today.recoveries_fen),
    "investor_loss_cny": lambda m: _cny(m.today.investor_loss_fen),
    "platform_fees_cny": lambda m: _cny(m.today.service_fee_fen + m.today.management_fee_fen
                                           + m.today.collection_fee_fen
                                           + m.today.withdrawal_fee_fen),
    "guarantee_payouts": lambda m: m.today.guarantee_payouts,
    "guarantee_payout_cny": lambda m: _cny(m.today.guarantee_payout_fen),
    "guarantee_unpaid_cny": lambda m: _cny(m.today.guarantee_unpaid_fen),
    "guarantee_income_cny": lambda m: _cny(m.today.guarantee_income_fen),
    "reserve_payout_cny": lambda m: _cny(m.today.reserve_payout_fen),
    "guarantor_payout_cny": lambda m: _cny(m.today.guarantor_payout_fen),
    "insurer_payout_cny": lambda m: _cny(m.today.insurer_payout_fen),
    "reserve_top_up_cny": lambda m: _cny(m.today.reserve_top_up_fen),
    "reserve_release_cny": lambda m: _cny(m.today.reserve_release_fen),
    "reserve_fund_cny": lambda m: _cny(m.account_total("reserve_fund")),
    "reserve_coverage": lambda m: _ratio(m.account_total("reserve_fund"), m.claims_fen()),
    "reserve_to_arrears": lambda m: _ratio(m.account_total("reserve_fund"), m.today.arrears_m1_fen
                                           + m.today.arrears_m2_fen + m.today.arrears_m3_fen),
    "guarantor_capital_cny": lambda m: _cny(m.account_total("guarantor_capital")),
    "held_claims_cny": lambda m: _cny(m.outstanding_fen() - m.claims_fen()),  # every holder's
    "pool_cash_cny": lambda m: _cny(m.account_total("pool_cash")),
    "active_investors": lambda m: int(m.investors.active.sum()),
    "platform_cash_cny": lambda m: _cny(m.account_total("platform_cash")),
    "investor_cash_cny": lambda m: _cny(m.account_total("investor_cash")),
    "investor_return_annual": lambda m: m.investor_return_annual(),
}

FLOW_REPORTERS = frozenset({
    "applications", "new_listings", "funded_listings", "failed_listings", "volume_cny",
    "loans_due", "principal_repaid_cny", "interest_paid_cny", "prepayments", "missed_payments",
    "cured", "defaults", "default_principal_cny", "recoveries_cny", "investor_loss_cny",
    "platform_fees_cny", "guarantee_payouts", "guarantee_payout_cny", "guarantee_unpaid_cny",
    "guarantee_income_cny", "reserve_payout_cny", "guarantor_payout_cny", "insurer_payout_cny",
    "reserve_top_up_cny", "reserve_release_cny"})
"""Reporters that count a day's events or flows: a month's value is the sum of its days (the others
are levels, read at the month's end)."""


def monthly(frame, name: str) -> list[float]:
    """The month-by-month values of reporter ``name`` in a run's daily ``frame``, complete months only.

    A flow (:data:`FLOW_REPORTERS`) is summed over the month's days; a level is its value on the
    month's last day.
    """
    month = frame["day"] // DAYS_PER_MONTH
    last_day = (frame["day"] + 1) % DAYS_PER_MONTH == 0
    if name in FLOW_REPORTERS:
        values = frame[name].groupby(month).sum().loc[month[last_day]]
    else:
        values = frame.loc[last_day, name]
    return [float(v) for v in values]


PLATFORM_COLUMNS = ["day", "month", "platform", "loans_outstanding", "outstanding_principal_cny",
                    "held_claims_cny", "platform_cash_cny", "investor_cash_cny",
                    "investor_committed_cny", "reserve_fund_cny", "guarantor_capital_cny",
                    "pool_cash_cny", "unpaid_costs_cny", "guarantee_paid_cny",
                    "guarantee_unpaid_cny", "guarantee_failed", "active_investors", "new_investors",
                    "churned_investors", "marketing_spend_cny", "pool_liabilities_cny",
                    "pool_overdue_cny"]
"""Columns of the month-end ``platforms`` table (one row per platform and month)."""

MARKETING_COLUMNS = ["month", "platform", "channel", "kind", "side", "spend_cny", "units",
                     "new_users", "cost_per_user_cny"]
"""Columns of the ``marketing`` table (one row per platform, channel and month)."""
