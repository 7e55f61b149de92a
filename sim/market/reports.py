"""What the market reports: the day's row of the DataCollector, month-end platform rows, marketing rows.

The reporters themselves (the columns and how each is computed) are in :mod:`sim.reporters`.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.kernels import ACTIVE
from sim.ledger import AccountKind
from sim.loans import DAYS_PER_MONTH
from sim.reporters import MARKETING_COLUMNS, MODEL_REPORTERS, PLATFORM_COLUMNS
from sim.runs.report import RUNS_COLUMNS, runs_rows

SNAPSHOT_KINDS = (AccountKind.HELD_CLAIMS, AccountKind.PLATFORM_CASH,
                  AccountKind.INVESTOR_CASH, AccountKind.INVESTOR_COMMITTED,
                  AccountKind.RESERVE_FUND, AccountKind.GUARANTOR_CAPITAL, AccountKind.POOL_CASH)


class Reports:
    """The market's DataCollector, fed once a day and at each month's end.

    Parameters
    ----------
    market : P2PMarket
        The market.
    collect : bool
        False keeps nothing (a reserve study's paths read what they need themselves).
    """

    def __init__(self, market, collect: bool = True) -> None:
        self.market = market
        self.datacollector = (mesa.DataCollector(model_reporters=MODEL_REPORTERS,
                                                 tables={"platforms": PLATFORM_COLUMNS,
                                                         "marketing": MARKETING_COLUMNS,
                                                         "runs": RUNS_COLUMNS})
                              if collect else None)

    def close_day(self, day: int) -> None:
        """Claims accrue for investors' return; the day's row, and at a month's end the platforms'."""
        self._accrue_claim_days()
        if self.datacollector is None:
            return
        self.datacollector.collect(self.market)
        if self.market.runs.enabled:
            for row in runs_rows(self.market, day):
                self.datacollector.add_table_row("runs", row)
        if (day + 1) % DAYS_PER_MONTH == 0 or day + 1 == self.market.horizon_days:
            self._snapshot_platforms(day)

    def marketing_row(self, row: dict) -> None:
        """One channel's month (see :data:`sim.reporters.MARKETING_COLUMNS`)."""
        if self.datacollector is not None:
            self.datacollector.add_table_row("marketing", row)

    def _accrue_claim_days(self) -> None:
        market = self.market
        for platform in market.platforms:
            claims = market.bookkeeper.balance(platform, AccountKind.INVESTOR_CLAIMS)
            if platform.is_fund_pool:  # investors' money in the pool's products
                claims += int(market.investors.product_cost_fen[:, platform.index].sum())
            platform.claim_days_fen += claims
            market.totals["claim_days_fen"] += claims

    def _snapshot_platforms(self, day: int) -> None:
        """Month-end balances of each platform, one row each in the ``platforms`` table."""
        market, books = self.market, self.market.bookkeeper
        loans = market.book.loans
        active = np.bincount(loans.platform[loans.status == ACTIVE], minlength=len(market.platforms))
        for p, platform in enumerate(market.platforms):
            row = {"day": day, "month": day // DAYS_PER_MONTH, "platform": platform.name,
                   "loans_outstanding": int(active[p])}
            row["outstanding_principal_cny"] = books.outstanding(platform) / 100  # a pool's too
            for kind in SNAPSHOT_KINDS:
                row[f"{kind}_cny"] = books.balance(platform, kind) / 100
            held = platform.investors_pool_liability_fen() if platform.is_fund_pool else 0
            guarantee = platform.guarantee
            row.update({
                "unpaid_costs_cny": platform.unpaid_costs_fen / 100,
                "guarantee_paid_cny": guarantee.paid_fen / 100,
                "guarantee_unpaid_cny": guarantee.unpaid_fen / 100,
                "guarantee_failed": guarantee.failed_day is not None,
                "active_investors": platform.state.active_investors,
                "new_investors": platform.new_investors_month,
                "churned_investors": platform.churned_investors_month,
                "marketing_spend_cny": platform.marketing_spend_month_fen / 100,
                "pool_liabilities_cny": held / 100,
                "pool_overdue_cny": platform.pool_overdue_fen / 100,
            })
            self.datacollector.add_table_row("platforms", row)
