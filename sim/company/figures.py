"""A plan's figures: what a founder's targets are written in, read from the statements.

Monthly figures are given by month of the plan (1 = the first month), yearly ones by year of the
plan (1 = months 1-12), the rest once per run. Amounts in CNY, rates as fractions. Every figure is
listed in :data:`~sim.company.targets.FIGURES` with what it means; a target names one of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.ledger import HELD_KINDS, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH

FLOW_FIGURES = ("revenue_cny", "costs_cny", "profit_before_tax_cny", "net_income_cny",
                "volume_cny", "daily_volume_cny")
"""Monthly figures whose year is the sum of its months (the others are read at the year's end)."""


def monthly_figures(journal: pd.DataFrame, frame: pd.DataFrame, platform) -> pd.DataFrame:
    """The monthly figures of ``platform`` (rows: plan months 1 ..), from its statements ``frame``."""
    mine = frame[frame.platform == platform.name]
    line = mine.set_index(["statement", "line", "month"]).amount_fen.sort_index()
    months = int(mine.month.max()) + 1

    def series(statement: str, name: str) -> np.ndarray:
        return line.loc[(statement, name)].reindex(range(months), fill_value=0).to_numpy() / 100

    revenue = series("income", "revenue")
    before_tax = series("income", "profit_before_tax")
    volume, outstanding, defaulted = _lending(journal, platform, months)
    return pd.DataFrame({
        "revenue_cny": revenue,
        "costs_cny": revenue - before_tax,
        "profit_before_tax_cny": before_tax,
        "net_income_cny": series("income", "net_income"),
        "volume_cny": volume,
        "daily_volume_cny": volume / DAYS_PER_MONTH,
        "cash_cny": series("balance_sheet", "cash"),
        "equity_cny": series("balance_sheet", "total_equity"),
        "outstanding_cny": outstanding,
        "defaulted_cny": defaulted,
        "free_cash_flow_cny": series("cash_flow", "operating") + series("cash_flow", "investing"),
        "paid_in_capital_cny": series("balance_sheet", "paid_in_capital"),
    }, index=pd.RangeIndex(1, months + 1, name="plan_month"))


def yearly_figures(monthly: pd.DataFrame) -> pd.DataFrame:
    """The yearly figures (rows: plan years 1 ..) from the monthly ones; a part year counts too."""
    year = (monthly.index - 1) // 12 + 1
    flows = monthly[list(FLOW_FIGURES)].groupby(year).sum()
    flows["daily_volume_cny"] = flows["volume_cny"] / (
        monthly.groupby(year).size() * DAYS_PER_MONTH)
    ends = monthly[["cash_cny", "equity_cny", "outstanding_cny"]].groupby(year).last()
    table = flows.join(ends)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["net_margin"] = table.net_income_cny / table.revenue_cny
        table["revenue_growth"] = table.revenue_cny / table.revenue_cny.shift(1) - 1
        table["cost_growth"] = table.costs_cny / table.costs_cny.shift(1) - 1
        defaulted = monthly.defaulted_cny.groupby(year).sum().cumsum()
        table["bad_debt_rate"] = defaulted / monthly.volume_cny.groupby(year).sum().cumsum()
    table.index.name = "plan_year"
    return table.replace([np.inf, -np.inf], np.nan)


def run_figures(monthly: pd.DataFrame, platform) -> dict:
    """The once-per-run figures (months are plan months, 1 ..; None where it never happened)."""
    profit = monthly.net_income_cny.to_numpy()
    calls = _first_call_month(platform)
    failed = platform.run.failed_day
    out_month = min([m for m in (calls, None if failed is None else failed // DAYS_PER_MONTH + 1)
                     if m is not None], default=None)
    recovered = np.cumsum(monthly.free_cash_flow_cny.to_numpy())
    owners_in = monthly.paid_in_capital_cny.to_numpy()
    return {
        "break_even_month": first_for_good(np.cumsum(profit) >= 0),
        "profitable_month": first_for_good(profit >= 0),
        "payback_month": _first((recovered >= owners_in) & (recovered > 0)),
        "owners_money_in_cny": float(owners_in.max()) if len(owners_in) else 0.0,
        "min_cash_cny": float(monthly.cash_cny.min()),
        "cash_out_month": out_month,
        "capital_called_cny": platform.run.capital_called_fen / 100,
        "cash_ran_out": 0.0 if out_month is None else 1.0,
        "capital_needed_cny": (platform.run.capital_called_fen + (
            0 if failed is None else platform.unpaid_costs_fen + platform.pool_overdue_fen)) / 100,
        "raises_forgone_cny": _raises_forgone(platform, len(profit)),
    }


def _raises_forgone(platform, months: int) -> float:
    """The planned raises (CNY) a failed platform never received: due after it failed, in the run."""
    failed = platform.run.failed_day
    if failed is None:
        return 0.0
    return float(sum(raised.amount_cny for raised in platform.config.company.capital_raises
                     if failed // DAYS_PER_MONTH < raised.month < months))


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) + 1 if len(hits) else None


def first_for_good(mask: np.ndarray) -> int | None:
    """The first month (from 1) from which ``mask`` holds to the end; None if the last month fails."""
    if not len(mask) or not mask[-1]:
        return None
    misses = np.flatnonzero(~mask)
    return int(misses[-1]) + 2 if len(misses) else 1


def _first_call_month(platform) -> int | None:
    first = platform.run.first_capital_call_day
    return None if first is None else first // DAYS_PER_MONTH + 1


def _lending(journal: pd.DataFrame, platform,
             months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Principal lent, outstanding at the end and written off (坏账本金), by month (CNY)."""
    month = (journal.day // DAYS_PER_MONTH).to_numpy()
    amount = journal.amount_fen.to_numpy()
    claims = [platform.account(kind) for kind in (AccountKind.INVESTOR_CLAIMS, *HELD_KINDS)]
    into, out = journal.target.isin(claims), journal.source.isin(claims)

    def by_month(mask) -> np.ndarray:
        mask = mask.to_numpy()
        return np.bincount(month[mask], weights=amount[mask], minlength=months)[:months] / 100

    lent = by_month(journal.memo.isin([Memo.DISBURSEMENT, Memo.POOL_DISBURSEMENT]) & into)
    written_off = by_month(journal.memo.isin([Memo.DEFAULT_WRITE_OFF, Memo.HELD_WRITE_OFF]) & out)
    net = by_month(into & ~out) - by_month(out & ~into)
    return lent, np.cumsum(net), written_off
