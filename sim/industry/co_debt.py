"""Borrowers who owe on several platforms at once (共债), and what they do when one platform fails.

A share of the pooled platforms' new loans belongs to such borrowers (:mod:`sim.industry.lending`);
when a platform they owe fails, each stops paying everywhere with ``stop_probability`` (the
``co_debt`` channel, :mod:`sim.runs.contagion`): their loans on every platform, pooled or detailed,
never pay again and are written off in time, and the losses make those platforms' investors leave.
"""

from __future__ import annotations

import numpy as np

from sim.book import renumbered
from sim.kernels import ACTIVE, NEVER_PAYS
from sim.randomness import keyed_uniforms

RECENT_DAYS = 30  # a detailed platform's co-debtor also borrowed on a pooled one this recently


class CoDebtors:
    """Borrowers who owe on several platforms at once (共债): their loans, and who stopped paying.

    A pooled loan's ``borrower`` is its co-debtor's id (-1: a borrower who owes only there). Ids
    are given in order, a day's new co-debtors after the last, so the loans kept here (book row,
    platform) sorted by co-debtor id find one co-debtor's loans by a binary search.

    A detailed platform's new loan belongs, with ``share_of_loans`` (a keyed draw by loan), to one
    of the co-debtors who borrowed on the pooled platforms in the last :data:`RECENT_DAYS` days:
    its borrower owes there too. Those loans are kept apart (their ``borrower`` is the borrower's
    row of the detailed market).
    """

    def __init__(self, industry) -> None:
        self.industry = industry
        self.next_id = 0
        self.stopped = np.zeros(1024, dtype=bool)
        self._size = 0
        self._rows = np.zeros(1024, dtype=np.int64)      # loans' book rows, by co-debtor id ...
        self._ids = np.zeros(1024, dtype=np.int64)       # ... their co-debtor ...
        self._platform = np.zeros(1024, dtype=np.int16)  # ... and their platform
        self.first_id_of_day: dict[int, int] = {}  # the first co-debtor id given on each day
        self.detailed_rows = np.zeros(0, dtype=np.int64)  # detailed platforms' loans ...
        self.detailed_ids = np.zeros(0, dtype=np.int64)   # ... and their co-debtors

    def renumber(self, new_row: np.ndarray, kept: np.ndarray) -> None:
        """Finished loans left the book (:meth:`LoanBook.drop`): the loans kept here, renumbered."""
        size = self._size
        still = kept[self._rows[:size]]
        n = int(still.sum())
        for name in ("_rows", "_ids", "_platform"):
            column = getattr(self, name)
            column[:n] = column[:size][still]
        self._rows[:n] = new_row[self._rows[:n]]
        self._size = n
        self.detailed_ids = self.detailed_ids[kept[self.detailed_rows]]
        self.detailed_rows = renumbered(self.detailed_rows, new_row, kept)

    @property
    def ids(self) -> np.ndarray:
        """The co-debtor of each loan kept (sorted)."""
        return self._ids[: self._size]

    def assign(self, loans: dict[str, np.ndarray], day: int = 0) -> None:
        """Give new loans' co-debtors ids (their ``borrower``), from where the draws grouped them."""
        self.first_id_of_day.setdefault(day, self.next_id)
        group = loans.pop("co_debt_group")
        loans["borrower"] = np.where(group >= 0, self.next_id + group, -1).astype(np.int64)
        self.next_id += int(group.max(initial=-1)) + 1
        if self.next_id > len(self.stopped):
            self.stopped = np.concatenate([self.stopped, np.zeros(
                max(self.next_id - len(self.stopped), len(self.stopped)), dtype=bool)])

    def register(self, borrower: np.ndarray, rows: np.ndarray, platform: np.ndarray) -> None:
        """The loan book's ``rows`` (on ``platform``) of loans whose co-debtors are ``borrower``."""
        shared = borrower >= 0
        order = np.argsort(borrower[shared], kind="stable")
        n = int(shared.sum())
        if self._size + n > len(self._rows):
            capacity = max(2 * len(self._rows), self._size + n)
            for name in ("_rows", "_ids", "_platform"):
                old = getattr(self, name)
                grown = np.zeros(capacity, dtype=old.dtype)
                grown[: self._size] = old[: self._size]
                setattr(self, name, grown)
        at = slice(self._size, self._size + n)
        self._rows[at] = rows[shared][order]
        self._ids[at] = borrower[shared][order]
        self._platform[at] = platform[shared][order]
        self._size += n

    def join_detailed(self, rows: np.ndarray, day: int) -> None:
        """A detailed platform's new loans (book ``rows``): some borrowers owe on pooled ones too."""
        industry = self.industry
        first = min((i for d, i in self.first_id_of_day.items() if d >= day - RECENT_DAYS),
                    default=self.next_id)
        if first >= self.next_id or not len(rows):
            return
        share = industry.config.channels.co_debt.share_of_loans
        serial = industry.market.book.serial(rows)  # the draws do not move when loans leave
        u = keyed_uniforms(industry.keys["co_debt"], serial, 1)
        joining = rows[u < share]
        pick = keyed_uniforms(industry.keys["co_debt"], serial[u < share], 2)
        ids = first + np.floor(pick * (self.next_id - first)).astype(np.int64)
        self.detailed_rows = np.concatenate([self.detailed_rows, joining])
        self.detailed_ids = np.concatenate([self.detailed_ids, ids])
        loans = industry.market.book.loans  # one who stopped paying elsewhere pays no new loan
        loans.hazard_mult[joining[self.stopped[ids]]] = NEVER_PAYS

    def _co_debtor_of(self, rows: np.ndarray) -> np.ndarray:
        """The co-debtor of each of ``rows`` (-1: a borrower who owes only there)."""
        industry = self.industry
        loans = industry.market.book.loans
        ids = np.where(industry.pooled[loans.platform[rows]], loans.borrower[rows], -1)
        if len(self.detailed_rows):
            at = np.searchsorted(self.detailed_rows, rows)  # rows joined in order of the book
            at = np.minimum(at, len(self.detailed_rows) - 1)
            found = self.detailed_rows[at] == rows
            ids = np.where(found, self.detailed_ids[at], ids)
        return ids

    def stopped_balance(self, rows: np.ndarray) -> np.ndarray:
        """Per platform, the balance of ``rows`` (being written off) owed by co-debtors who stopped."""
        industry = self.industry
        loans = industry.market.book.loans
        borrower = self._co_debtor_of(rows)
        mine = borrower >= 0
        stopped = np.zeros(len(rows), dtype=bool)
        stopped[mine] = self.stopped[borrower[mine]]
        return np.bincount(loans.platform[rows][stopped], loans.balance_fen[rows][stopped],
                           industry.n).astype(np.int64)

    def stop(self, failed: np.ndarray, day: int) -> None:
        """Co-debtors of today's failed platforms stop paying everywhere, each with its probability.

        A co-debtor with an active loan on a platform that failed today stops with
        ``stop_probability`` (a keyed draw per co-debtor): its loans on every platform never pay
        again (the hazard multiplier that marks a loan that never cures) and are written off in
        time, with their recovery.
        """
        industry = self.industry
        loans = industry.market.book.loans
        on_failed = np.flatnonzero(failed[self._platform[: self._size]])
        on_failed = on_failed[loans.status[self._rows[on_failed]] == ACTIVE]
        detailed = self.detailed_rows[failed[loans.platform[self.detailed_rows]]
                                      & (loans.status[self.detailed_rows] == ACTIVE)]
        candidates = np.unique(np.concatenate([self._ids[on_failed], self._co_debtor_of(detailed)]))
        candidates = candidates[~self.stopped[candidates]]
        if not len(candidates):
            return
        u = keyed_uniforms(industry.keys["co_debt"], candidates)
        stopping = candidates[u < industry.config.channels.co_debt.stop_probability]
        self.stopped[stopping] = True
        ids = self.ids
        first, last = np.searchsorted(ids, stopping, "left"), np.searchsorted(ids, stopping, "right")
        counts = last - first
        at = np.repeat(first - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) \
            + np.arange(int(counts.sum()))
        hit = np.concatenate([self._rows[at],
                              self.detailed_rows[np.isin(self.detailed_ids, stopping)]])
        hit = hit[loans.status[hit] == ACTIVE]
        loans.hazard_mult[hit] = NEVER_PAYS
