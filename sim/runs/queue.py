"""Withdrawal queues (提现排队 / 兑付): requests wait and are paid, oldest first, from what there is.

An investor's request is ``queued_fen[i, p]`` with the day of its oldest unpaid part in
``queued_since[i, p]``. On a platform that lends investors' own money (auto-invest) a request moves
idle cash into the ``withdrawals_queued`` account, from which it is paid (less the withdrawal fee)
up to the platform's daily gate. In a fund pool a request redeems products: their value (promised
interest included) and what was paid for them (``queued_cost_fen``) wait, and are paid from the
pool's cash (see :mod:`sim.runs.liquidity` for where that cash comes from).
"""

from __future__ import annotations

import numpy as np

from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH

QUEUED, CASH = AccountKind.WITHDRAWALS_QUEUED, AccountKind.INVESTOR_CASH


class WithdrawalQueue:
    """Every platform's queue and today's requests and payments (fen, by platform).

    Parameters
    ----------
    market : P2PMarket
        Investors, bookkeeper, platforms.
    """

    def __init__(self, market) -> None:
        self.market = market
        n = len(market.platforms)
        self.requested_fen = np.zeros(n, dtype=np.int64)  # today's
        self.paid_fen = np.zeros(n, dtype=np.int64)       # today's

    def new_day(self) -> None:
        """Start today's counts."""
        self.requested_fen[:] = 0
        self.paid_fen[:] = 0

    def request_cash(self, platform, rows: np.ndarray, day: int) -> int:
        """Investors ``rows`` ask for all their idle cash on ``platform``; the amount (fen)."""
        inv, p = self.market.investors, platform.index
        amount = inv.cash_fen[rows, p]
        rows, amount = rows[amount > 0], amount[amount > 0]
        if len(rows) == 0:
            return 0
        inv.cash_fen[rows, p] = 0
        self._enqueue(rows, p, amount, day)
        total = int(amount.sum())
        self.market.bookkeeper.move(platform, CASH, QUEUED, total, Memo.WITHDRAWAL_REQUEST)
        return total

    def request_amounts(self, platform, rows: np.ndarray, amount: np.ndarray, day: int) -> int:
        """Investors ``rows`` ask for ``amount`` (fen, each at most their idle cash); the total."""
        inv, p = self.market.investors, platform.index
        rows, amount = rows[amount > 0], amount[amount > 0]
        if len(rows) == 0:
            return 0
        inv.cash_fen[rows, p] -= amount
        self._enqueue(rows, p, amount, day)
        total = int(amount.sum())
        self.market.bookkeeper.move(platform, CASH, QUEUED, total, Memo.WITHDRAWAL_REQUEST)
        return total

    def request_products(self, platform, rows: np.ndarray, day: int, lock_up: bool = True) -> int:
        """Investors ``rows`` redeem their fund-pool products; the value asked for (fen).

        Only products past the lock-up (锁定期) can be redeemed, unless ``lock_up`` is False.
        """
        inv, p = self.market.investors, platform.index
        month = day // DAYS_PER_MONTH
        locked = platform.config.liquidity.lock_up_months if lock_up else 0
        started = inv.product_maturity[rows, p] - platform.config.fund_pool.product_term_months
        value = inv.product_fen[rows, p]
        ok = (value > 0) & (month >= started + locked)
        rows, value = rows[ok], value[ok]
        if len(rows) == 0:
            return 0
        inv.queued_cost_fen[rows, p] += inv.product_cost_fen[rows, p]
        inv.product_fen[rows, p] = 0
        inv.product_cost_fen[rows, p] = 0
        inv.product_exiting[rows, p] = False
        self._enqueue(rows, p, value, day)
        return int(value.sum())

    def _enqueue(self, rows: np.ndarray, p: int, amount: np.ndarray, day: int) -> None:
        inv = self.market.investors
        inv.queued_fen[rows, p] += amount
        fresh = inv.queued_since[rows, p] < 0
        inv.queued_since[rows[fresh], p] = day
        self.requested_fen[p] += int(amount.sum())

    def total_fen(self, platform) -> int:
        """What ``platform``'s queue holds (fen)."""
        return int(self.market.investors.queued_fen[:, platform.index].sum())

    def oldest_wait_days(self, platform, day: int) -> int:
        """Days the oldest unpaid request on ``platform`` has waited (0 when none waits)."""
        since = self.market.investors.queued_since[:, platform.index]
        waiting = since[since >= 0]
        return int(day - waiting.min()) if len(waiting) else 0

    def pay(self, platform, budget_fen: int, day: int, pro_rata: bool = False) -> int:
        """Pay ``platform``'s queue up to ``budget_fen``: oldest first, or pro rata; what was paid.

        The money leaves from ``withdrawals_queued`` (auto-invest platforms, less the withdrawal
        fee) or from the pool's cash (fund pools, where income is settled against what was paid in).
        """
        inv, p = self.market.investors, platform.index
        rows = np.flatnonzero(inv.queued_fen[:, p])
        if len(rows) == 0 or budget_fen <= 0:
            return 0
        owed = inv.queued_fen[rows, p]
        paid = _share(owed, inv.queued_since[rows, p], int(budget_fen), pro_rata)
        total = int(paid.sum())
        if total == 0:
            return 0
        inv.queued_fen[rows, p] -= paid
        inv.queued_since[rows[inv.queued_fen[rows, p] == 0], p] = -1
        books = self.market.bookkeeper
        if platform.is_fund_pool:
            self._settle_income(platform, rows, paid, owed)
            books.move(platform, AccountKind.POOL_CASH, WORLD, total, Memo.PRODUCT_REDEMPTION)
        else:
            fee = int(np.floor(paid * platform.config.withdrawal_fee).sum())
            books.move(platform, QUEUED, WORLD, total - fee, Memo.WITHDRAWAL)
            books.move(platform, QUEUED, AccountKind.PLATFORM_CASH, fee, Memo.WITHDRAWAL_FEE)
            self.market.today.withdrawal_fee_fen += fee
        self.paid_fen[p] += total
        return total

    def _settle_income(self, platform, rows: np.ndarray, paid: np.ndarray,
                       owed: np.ndarray) -> None:
        """Fund pool: the part of what was paid in that a payment settles; the rest is income."""
        inv, p, market = self.market.investors, platform.index, self.market
        cost = inv.queued_cost_fen[rows, p]
        cost_part = np.floor(cost * (paid / owed)).astype(np.int64)
        cost_part = np.where(paid == owed, cost, cost_part)
        inv.queued_cost_fen[rows, p] -= cost_part
        income = paid - cost_part
        inv.net_income_fen[rows] += income
        market.totals["investor_income_fen"] += int(income.sum())
        platform.investor_income_fen += int(income.sum())


def _share(owed: np.ndarray, since: np.ndarray, budget: int, pro_rata: bool) -> np.ndarray:
    """Split ``budget`` over requests ``owed``: oldest first (by day asked, then row), or pro rata."""
    total = int(owed.sum())
    if budget >= total:
        return owed.copy()
    if pro_rata:
        return np.floor(owed * (budget / total)).astype(np.int64)
    order = np.argsort(since, kind="stable")
    before = np.concatenate([[0], np.cumsum(owed[order])[:-1]])
    paid = np.zeros_like(owed)
    paid[order] = np.clip(budget - before, 0, owed[order])
    return paid
