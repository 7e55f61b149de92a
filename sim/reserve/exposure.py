"""The book a reserve study sizes, and where each path's losses come from.

A risk committee reads a reserve as a share of the book it protects, and asks which loans make the
tail. :class:`BookWatch` follows one path's platform: the opening book (its balance, loans and
grades on day 0), the loans lent over the horizon, and every write-off (坏账核销) by grade, term and
vintage. A write-off's loss is its balance less the recovery its holders get (the grade's recovery
rate, less the platform's collection fee), so that the segments of each split add up to the path's
loss at write-off; with recoveries paid at once (no ``recovery_lag_months``) that is the study's
credit loss, to the fen a loan.

Vintages are the quarters of the horizon a loan was lent in, the opening book its own vintage.
"""

from __future__ import annotations

import numpy as np

from sim.kernels.views import ACTIVE
from sim.loans import DAYS_PER_MONTH

SPLITS = ("grade", "term", "vintage")
DAYS_PER_QUARTER = 3 * DAYS_PER_MONTH


def vintage_labels(horizon_days: int) -> list[str]:
    """The vintages of a study: the opening book, then each quarter of the horizon."""
    quarters = -(-horizon_days // DAYS_PER_QUARTER)
    return ["opening book"] + [f"lent in months {3 * q + 1}-{3 * q + 3}" for q in range(quarters)]


def segment_labels(scenario, horizon_days: int) -> dict[str, list[str]]:
    """The segments of each split (grade, term, vintage), in the order a path's record keeps them."""
    terms = sorted({int(t) for t in scenario.borrowers.terms_months})
    return {"grade": list(scenario.grades.names), "term": [f"{t} months" for t in terms],
            "vintage": vintage_labels(horizon_days)}


class BookWatch:
    """One platform's book over a path: opening book, lending, and losses by segment.

    Parameters
    ----------
    market : P2PMarket
        The path's market, just built (its opening book on the books, no day run yet).
    platform : int
        Index of the platform studied.
    """

    def __init__(self, market, platform: int) -> None:
        self.market = market
        self.platform = platform
        scenario = market.config
        self.grades = list(scenario.grades.names)
        self.terms = sorted({int(t) for t in scenario.borrowers.terms_months})  # the book's too
        self.segments = segment_labels(scenario, int(scenario.run.horizon_days))
        tables = market.risk_tables  # what a write-off brings back to the holders, by grade
        self.recovery_rate = tables.recovery_rate[platform] * (1 - tables.collection_fee[platform])
        loans = self._mine()
        opening = loans & (market.book.loans.status == ACTIVE)
        self.opening_balance_by_grade = self._by_grade(market.book.loans.balance_fen, opening)
        self.opening_loans = int(opening.sum())
        self.opening_loans_by_grade = np.bincount(market.book.loans.grade[opening],
                                                  minlength=len(self.grades))
        self.lost = {split: np.zeros(len(self.segments[split]), dtype=np.float64)
                     for split in SPLITS}
        self.defaulted_by_grade = np.zeros(len(self.grades), dtype=np.int64)
        market.hooks.before_write_off.append(self._written_off)

    def _mine(self) -> np.ndarray:
        return self.market.book.loans.platform == self.platform

    def _by_grade(self, amounts: np.ndarray, rows: np.ndarray) -> np.ndarray:
        grades = self.market.book.loans.grade[rows]
        return np.bincount(grades, weights=amounts[rows], minlength=len(self.grades)).astype(np.int64)

    def _written_off(self, rows: np.ndarray) -> None:
        """Count today's write-offs of the platform: balance less its recovery, by segment (fen)."""
        loans = self.market.book.loans
        rows = rows[loans.platform[rows] == self.platform]
        if not len(rows):
            return
        grade = loans.grade[rows].astype(np.int64)
        balance = loans.balance_fen[rows].astype(np.float64)
        loss = balance * (1.0 - self.recovery_rate[grade])
        term = np.searchsorted(self.terms, loans.term[rows])
        lent = loans.orig_day[rows]
        vintage = np.where(lent < 0, 0, lent // DAYS_PER_QUARTER + 1)
        for split, index in (("grade", grade), ("term", term), ("vintage", vintage)):
            self.lost[split] += np.bincount(index, weights=loss, minlength=len(self.lost[split]))
        self.defaulted_by_grade += np.bincount(grade, weights=balance,
                                               minlength=len(self.grades)).astype(np.int64)

    def record(self) -> dict:
        """What the path's record keeps (CNY): the book, and losses and defaults by segment."""
        loans = self.market.book.loans
        lent = self._mine() & (loans.orig_day >= 0)
        return {
            "book_opening_by_grade": (self.opening_balance_by_grade / 100).tolist(),
            "book_opening_loans": self.opening_loans,
            "book_lent_by_grade": (self._by_grade(loans.principal_fen, lent) / 100).tolist(),
            "book_loans_lent": int(lent.sum()),
            "book_loans_by_grade": (self.opening_loans_by_grade + np.bincount(
                loans.grade[lent], minlength=len(self.grades))).tolist(),
            "defaulted_by_grade": (self.defaulted_by_grade / 100).tolist(),
            **{f"loss_by_{split}": (self.lost[split] / 100).tolist() for split in SPLITS},
        }
