"""Recoveries that come later (催收回款): paid ``grades.recovery_lag_months`` after the write-off.

With no lag (the default) the write-off pays the recovery at once and nothing waits here. With a lag
the write-off counts the investors' loss net of the recovery to come and leaves the money itself
(each note's part, the holder's part, the platform's collection fee) waiting until its day; the
ledger books it then, so the investors' cash and the ledger agree every day. What is still waiting
at the horizon is reported as ``pending_fen``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.kernels import WriteOffTotals as W
from sim.kernels import by_holder
from sim.ledger import WORLD, AccountKind, Memo
from sim.loans import DAYS_PER_MONTH


@dataclass
class Waiting:
    """One day's write-offs' recoveries, due on ``due_day`` (amounts in fen)."""

    due_day: int
    investor: np.ndarray
    platform: np.ndarray
    amount: np.ndarray
    totals: np.ndarray  # (platforms, WriteOffTotals.N): RECOVERED, HELD_RECOVERED, COLLECTION_FEE


class PendingRecoveries:
    """The recoveries not paid yet, oldest first.

    Parameters
    ----------
    market : P2PMarket
        The market (investors, platforms, bookkeeper, the day's counters).
    """

    def __init__(self, market) -> None:
        self.market = market
        self.lag_days = market.config.grades.recovery_lag_months * DAYS_PER_MONTH
        self.waiting: list[Waiting] = []

    def buffers(self, n_notes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Arrays for the write-off kernel to leave ``n_notes`` parts in (empty: pay at once)."""
        n = n_notes if self.lag_days else 0
        return (np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
                np.empty(n, dtype=np.int64))

    def keep(self, day: int, parts: tuple, n: int, totals: np.ndarray) -> None:
        """Today's write-offs' recoveries, to be paid ``lag_days`` from now."""
        investor, platform, amount = (a[:n].copy() for a in parts)
        self.waiting.append(Waiting(day + self.lag_days, investor, platform, amount, totals.copy()))

    def pay_due(self, day: int) -> None:
        """Pay the recoveries due today: investors' parts, holders' parts, collection fees."""
        market = self.market
        while self.waiting and self.waiting[0].due_day <= day:
            due = self.waiting.pop(0)
            np.add.at(market.investors.cash_fen, (due.investor, due.platform), due.amount)
            for platform in market.platforms:
                book_recovery(market, platform, due.totals[platform.index])

    @property
    def pending_fen(self) -> int:
        """Recoveries still to come (fen)."""
        return int(sum(w.totals[:, [W.RECOVERED, W.COLLECTION_FEE]].sum()
                       + by_holder(w.totals, W.HELD_RECOVERED).sum() for w in self.waiting))


def book_recovery(market, platform, t: np.ndarray) -> None:
    """Book a recovery's money: the notes' part, the collection fee, the holder's part."""
    books = market.bookkeeper
    books.move(platform, WORLD, AccountKind.INVESTOR_CASH, t[W.RECOVERED], Memo.RECOVERY)
    books.move(platform, WORLD, AccountKind.PLATFORM_CASH, t[W.COLLECTION_FEE], Memo.COLLECTION_FEE)
    held = by_holder(t, W.HELD_RECOVERED)
    for holder in np.flatnonzero(held):
        books.move(platform, WORLD, platform.holder_account(holder), held[holder],
                   Memo.HELD_RECOVERY)
    today = market.today
    today.recoveries_fen += int(t[W.RECOVERED] + held.sum())
    today.collection_fee_fen += int(t[W.COLLECTION_FEE])
    platform.recovered_fen_total += int(t[W.RECOVERED] + held.sum())
