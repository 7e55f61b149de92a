"""The dashboard's key numbers, each with its unit, read from the market's books and its day rows.

What a risk manager looks for first (the reserve and its coverage, arrears M1+, losses by layer) and
what a founder looks for (own cash and how many months it lasts). Amounts are in M CNY (百万元).
"""

from __future__ import annotations

import math

import pandas as pd

from sim.company.targets import minimum_cash
from sim.ledger import AccountKind
from sim.loans import DAYS_PER_MONTH
from sim.outputs.losses import loss_layers

MILLION = 1e6

def daily(market) -> pd.DataFrame:
    """The market's day rows (one per day run): :meth:`DashboardMarket.day_rows`."""
    return market.day_rows()


def key_numbers(market) -> list[tuple[str, str]]:
    """(label with unit, value) rows of the market now."""
    rows = daily(market)
    with market.lock:
        outstanding = market.outstanding_fen() / 100
        claims = market.claims_fen() / 100
        reserve = market.account_total(AccountKind.RESERVE_FUND) / 100
        cash = market.account_total(AccountKind.PLATFORM_CASH) / 100
        failed = sum(p.run.state.failed for p in market.platforms)
    last = rows.iloc[-1] if len(rows) else None
    arrears = 0.0 if last is None else float(sum(last[f"arrears_m{b}_cny"] for b in (1, 2, 3)))
    state = "finished" if market.finished else "running"
    out = [("day", f"{market.day:,} of {market.horizon_days:,} ({state})"),
           ("volume lent, M CNY", _m(rows["volume_cny"].sum() if len(rows) else 0.0)),
           ("outstanding principal, M CNY", _m(outstanding)),
           ("in arrears M1+ (逾期), M CNY", f"{_m(arrears)} ({_share(arrears, outstanding)})"),
           ("reserve fund, M CNY", _m(reserve)),
           ("reserve coverage, % of investors' claims", _share(reserve, claims)),
           ("platform cash, M CNY", _m(cash)),
           ("cash runway, months", runway_text(rows, cash)),
           ("platforms failed", f"{failed} of {len(market.platforms)}")]
    losses = loss_layers(rows)
    out += [(f"{label}, M CNY", _m(value)) for label, value in losses.items()]
    return out


def runway_months(rows: pd.DataFrame, cash_cny: float) -> float:
    """Months the platforms' cash lasts at the last 30 days' net outflow (inf: cash did not fall)."""
    if len(rows) < 2:
        return math.inf
    window = rows["platform_cash_cny"].iloc[-DAYS_PER_MONTH - 1:]
    burn = (window.iloc[0] - window.iloc[-1]) * DAYS_PER_MONTH / (len(window) - 1)
    return cash_cny / burn if burn > 0 else math.inf


def runway_text(rows: pd.DataFrame, cash_cny: float) -> str:
    """:func:`runway_months` in words."""
    months = runway_months(rows, cash_cny)
    if math.isinf(months):
        return "cash did not fall in the last 30 days"
    return f"{months:,.1f} at the last 30 days' outflow"


def minimum_cash_cny(market) -> float | None:
    """The plan's minimum own cash (a ``min_cash_cny >= X`` target), or None where it sets none."""
    return minimum_cash(market.config.plan.targets, market.horizon_days // DAYS_PER_MONTH)


def _m(cny: float) -> str:
    return f"{cny / MILLION:,.2f}"


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole > 0 else "n/a (nothing outstanding)"
