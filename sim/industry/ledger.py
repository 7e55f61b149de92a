"""The industry's ledger: every account is a vector over platforms, every posting a vector of fen.

The market's :class:`sim.ledger.Ledger` keeps one named account per platform and posts one amount
at a time; a thousand platforms would be a thousand postings per kind of flow per day. Here an
account *kind* (``investor_cash``, ``investor_claims`` ...) is one int64 array with a balance per
platform, and a posting moves an array of amounts (one per platform) from one kind to another, or to
and from ``world`` (a scalar: borrowers, banks, the operators who fled with the cash). The sum of
everything stays zero, to the fen; the journal keeps the totals per (month, source, target, memo).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from sim.ledger import LedgerError

WORLD = "world"
KINDS = ("investor_cash",     # investors' uninvested cash on the platform (出借人账户余额)
         "investor_claims",   # outstanding principal of the loans investors hold (待收本金)
         "platform_cash",     # the platform's own cash (自有资金)
         "reserve_fund")      # the risk reserve of a reserve_fund platform (风险准备金)


class VectorLedger:
    """Integer-fen double entry with one balance per platform per account kind."""

    def __init__(self, platforms: int) -> None:
        self.platforms = platforms
        self.accounts = {kind: np.zeros(platforms, dtype=np.int64) for kind in KINDS}
        self.world = 0
        self.month = 0
        self._journal: dict[tuple[int, str, str, str], int] = defaultdict(int)

    def post(self, source: str, target: str, amounts_fen: np.ndarray, memo: str) -> None:
        """Move ``amounts_fen[p]`` (>= 0) from ``source`` to ``target`` on each platform ``p``.

        Either side may be ``world``. Raises :class:`LedgerError` if an amount is negative or a
        platform account would go below zero.
        """
        amounts = np.asarray(amounts_fen, dtype=np.int64)
        if amounts.shape != (self.platforms,):
            raise LedgerError(f"{memo}: {amounts.shape} amounts for {self.platforms} platforms")
        if (amounts < 0).any():
            raise LedgerError(f"{memo}: negative amount from {source} to {target}")
        total = int(amounts.sum())
        if total == 0:
            return
        if source != WORLD:
            account = self.accounts[source]
            short = account < amounts
            if short.any():
                p = int(np.flatnonzero(short)[0])
                raise LedgerError(f"{source} of platform {p} holds {account[p]} fen, cannot pay "
                                  f"{amounts[p]} fen to {target} ({memo}) in month {self.month}")
            account -= amounts
        else:
            self.world -= total
        if target != WORLD:
            self.accounts[target] += amounts
        else:
            self.world += total
        self._journal[(self.month, source, target, memo)] += total

    def total(self) -> int:
        """Sum of every balance, fen: zero while no money was created or lost."""
        return self.world + sum(int(a.sum()) for a in self.accounts.values())

    def check(self) -> None:
        """Raise :class:`LedgerError` unless the books balance to the fen and nothing is negative."""
        if self.total() != 0:
            raise LedgerError(f"industry ledger out of balance by {self.total()} fen in month "
                              f"{self.month}")
        for kind, account in self.accounts.items():
            if (account < 0).any():
                raise LedgerError(f"{kind} negative on platform {int(np.argmin(account))}")

    def journal(self) -> pd.DataFrame:
        """Totals over all platforms per month, source, target and memo, fen."""
        rows = [(m, s, t, memo, a) for (m, s, t, memo), a in self._journal.items()]
        return pd.DataFrame(rows, columns=["month", "source", "target", "memo", "amount_fen"])

    def flows(self, month: int, memo: str) -> int:
        """Total posted with ``memo`` in ``month``, fen."""
        return sum(a for (m, _, _, k), a in self._journal.items() if m == month and k == memo)
