"""The company's own guarantee arm (借贷担保): its reserves, as Chinese guarantee companies kept them.

A guarantor layer with ``owner = "company"`` is a guarantee company of the platform's group (the
seed plan's 设立专门的担保机构): its capital is the owners' money (paid-in capital), the guarantee
fees borrowers pay it are the company's revenue, its payouts (代偿) the company's cost, and the
claims it takes over the company's assets. Its books carry two liabilities that the ledger, which
holds money, does not: the provisions of the 2010 rules for financing guarantee companies
(《融资性担保公司管理暂行办法》, art. 32, CBRC and six ministries, order 2010 No. 3):

* **unearned guarantee fees** (未到期责任准备金): at each year's end, ``unearned_fee_share`` (50 %)
  of the guarantee fees received in the year, the last year's released;
* **compensation reserve** (担保赔偿准备金): at each year's end, ``compensation_reserve_rate`` (1 %)
  of the guaranteed principal outstanding (担保责任余额) added, until it reaches
  ``compensation_reserve_cap`` (10 %) of it (差额提取); never released within the run.

The run's last month closes the books as a year's end does (its part year's fees, its balance).
Their changes are a cost of the month (``guarantee_provisions``). The arm's leverage is limited by
its net assets: guaranteed principal at most ``leverage_limit`` times its capital account less the
provisions (the same rule's 10×, 融资性担保责任余额不得超过其净资产的10倍).

One function (:func:`provisions_by_month`) gives both the statements' figures (from the journal's
fees and the balances recorded at each month's end) and the layer's (for its leverage), so the two
cannot drift apart.
"""

from __future__ import annotations

import numpy as np


def provisions_by_month(fees_fen, balance_fen, unearned_share: float, rate: float, cap: float,
                        close_last: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Unearned-fee reserve and compensation reserve at each month's end (fen).

    Parameters
    ----------
    fees_fen : array of int
        Guarantee fees received by month (0 ..), fen.
    balance_fen : array of int
        Guaranteed principal outstanding at each month's end, fen.
    unearned_share, rate, cap : float
        The layer's ``unearned_fee_share``, ``compensation_reserve_rate`` and
        ``compensation_reserve_cap``.

    Months 11, 23, ... are closings, and the last month given with ``close_last`` (the run's
    end; the layer, mid-run, passes False); between closings both hold.
    """
    fees = np.asarray(fees_fen, dtype=np.int64)
    balance = np.asarray(balance_fen, dtype=np.int64)
    months = len(fees)
    unearned, compensation = np.zeros(months, np.int64), np.zeros(months, np.int64)
    held_unearned = held_compensation = year_fees = 0
    for month in range(months):
        year_fees += int(fees[month])
        if month % 12 == 11 or (close_last and month == months - 1):
            held_unearned = round(unearned_share * year_fees)
            ceiling = round(cap * int(balance[month]))
            added = held_compensation + round(rate * int(balance[month]))
            held_compensation = max(held_compensation, min(ceiling, added))
        unearned[month], compensation[month] = held_unearned, held_compensation
        if month % 12 == 11:
            year_fees = 0
    return unearned, compensation


def company_guarantor(platform):
    """The platform's company-owned guarantor layer, or None."""
    for layer in platform.layers:
        if getattr(getattr(layer, "params", None), "owner", None) == "company":
            return layer
    return None


def close_month(platform, month: int) -> None:
    """At ``month``'s opening: record the guarantor's last month (balance, fees) for its books.

    The layer's provisions are recomputed from its own months (:func:`provisions_by_month`, the
    last month closed), which its leverage limit reads.
    """
    layer = company_guarantor(platform)
    if layer is None or month == 0:
        return
    h = platform.layers.index(layer)
    balance = int(platform.layer_states[h].guaranteed_outstanding_fen)
    platform.company.guaranteed_fen[month - 1] = balance
    layer.month_closed(balance)


def month_end_balances(platform, months: int) -> np.ndarray:
    """The guarantor's guaranteed principal at each month's end (the last: now), fen."""
    layer = company_guarantor(platform)
    if layer is None:
        return np.zeros(months, np.int64)
    h = platform.layers.index(layer)
    now = int(platform.layer_states[h].guaranteed_outstanding_fen)
    recorded = platform.company.guaranteed_fen
    return np.array([recorded.get(m, now) for m in range(months)], dtype=np.int64)


__all__ = ["close_month", "company_guarantor", "month_end_balances", "provisions_by_month"]
