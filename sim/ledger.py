"""The ledger: every movement of money, in integer fen, between named accounts.

Each posting moves an amount from one account to another, so the sum of all balances never changes:
it is zero from the first day, because money that enters the market comes out of the ``world``
account (borrowers' income, investors' deposits, capital injections) and money that leaves goes back
to it (withdrawals, operating costs, written-off principal). ``world`` is the only account allowed to
go negative. Accounts are named ``kind:platform`` where they belong to one platform, e.g.
``investor_cash:alpha`` or ``platform_cash:alpha``.

Account kinds
-------------
world                 the outside world (borrowers' income and spending, banks, suppliers)
investor_cash         investors' uninvested cash on a platform (出借人账户余额)
investor_committed    cash bid on listings still in their funding window (投标冻结)
investor_claims       outstanding principal of the notes investors hold (待收本金)
platform_cash         the platform's own operating cash (自有资金)
reserve_fund          the risk reserve fund (风险准备金) of a ``reserve_fund`` guarantee
guarantor_capital     a third-party guarantor's capital (担保公司资本金)
held_claims           outstanding principal held by the reserve fund (after 代偿) or the fund pool
guarantor_claims      outstanding principal a guarantor took over by paying (代偿债权)
insurer_claims        outstanding principal an outside insurer took over by paying
pool_cash             a fund pool's cash (资金池): products sold, repayments in, redemptions out
withdrawals_queued    withdrawals asked for and not yet paid (提现处理中, runs: docs/runs.md)

Postings are booked with a memo (``repayment_principal``, ``service_fee`` …) and kept in a journal of
one row per (day, debit, credit, memo), so statements can be rebuilt from it to the fen.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

WORLD = "world"


class LedgerError(RuntimeError):
    """Raised when a posting or an audit would break the books."""


class Ledger:
    """Integer-fen double-entry ledger with named accounts and a daily journal."""

    def __init__(self) -> None:
        self._balance: dict[str, int] = {WORLD: 0}
        self._journal: dict[tuple[int, str, str, str], int] = defaultdict(int)
        self.day = 0

    def open(self, account: str) -> str:
        """Open an account with a zero balance (idempotent) and return its name."""
        self._balance.setdefault(account, 0)
        return account

    def transfer(self, source: str, target: str, amount_fen: int, memo: str) -> None:
        """Move ``amount_fen`` (>= 0) from ``source`` to ``target``.

        Raises
        ------
        LedgerError
            If an account is unknown, the amount is negative, or ``source`` (other than
            ``world``) would go below zero.
        """
        amount = int(amount_fen)
        if amount == 0 or source == target == WORLD:
            return
        if amount < 0:
            raise LedgerError(f"negative transfer {amount} fen from {source} to {target} ({memo})")
        if source not in self._balance or target not in self._balance:
            raise LedgerError(f"unknown account in transfer {source} -> {target} ({memo})")
        if source != WORLD and self._balance[source] < amount:
            raise LedgerError(
                f"{source} holds {self._balance[source]} fen, cannot pay {amount} fen to {target} "
                f"({memo}) on day {self.day}")
        self._balance[source] -= amount
        self._balance[target] += amount
        self._journal[(self.day, source, target, memo)] += amount

    def balance(self, account: str) -> int:
        """Balance of one account, fen."""
        return self._balance[account]

    def balances(self) -> dict[str, int]:
        """A copy of every account's balance, fen."""
        return dict(self._balance)

    def total(self) -> int:
        """Sum of all balances, fen; zero while no money has been created or lost."""
        return sum(self._balance.values())

    def check(self) -> None:
        """Raise :class:`LedgerError` unless the books balance to the fen and no account is negative."""
        total = self.total()
        if total != 0:
            raise LedgerError(f"ledger out of balance by {total} fen on day {self.day}")
        negative = {a: b for a, b in self._balance.items() if a != WORLD and b < 0}
        if negative:
            raise LedgerError(f"negative balances on day {self.day}: {negative}")

    def journal(self, since_day: int | None = None) -> pd.DataFrame:
        """The journal: one row per day, debit account, credit account and memo, amounts in fen.

        With ``since_day``, only the days from it on: read from the end, so a month's rows cost
        that month, not the run (rows are kept in the order of their days).
        """
        if since_day is None:
            rows = [(d, s, t, m, a) for (d, s, t, m), a in self._journal.items()]
        else:
            rows = []
            for key in reversed(self._journal):
                if key[0] < since_day:
                    break
                rows.append((*key, self._journal[key]))
            rows.reverse()
        frame = pd.DataFrame(rows, columns=["day", "source", "target", "memo", "amount_fen"])
        return frame.astype({"day": np.int64, "amount_fen": np.int64})

