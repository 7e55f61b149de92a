"""The industry's loan book: every loan of every platform in one set of columns (no notes).

A loan belongs to a platform, not to named investors: the platform's investors own its book pro rata
their positions (:mod:`sim.industry.positions`), as a fund's holders own its assets, so a million
loans need no note table. Loans are annuities (等额本息) paid on the 30/360 clock, appended by
origination day so the loans due today are contiguous blocks (:func:`sim.industry.kernels.service_day`).
"""

from __future__ import annotations

import numpy as np

from sim.industry.kernels import ACTIVE, service_day
from sim.loans import balances_after

COLUMNS = {"platform": np.int32, "principal": np.int64, "rate": np.float64, "term": np.int16,
           "balance": np.int64, "orig_day": np.int32, "n_paid": np.int16, "status": np.int8,
           "borrower": np.int64}
LOAN_SIGMA = 0.8  # log-normal spread of loan amounts around the mean
MAX_TERM = 36


class IndustryLoans:
    """Columns of loans (fen, annual rates, months, days), grown by doubling."""

    def __init__(self, first_day: int, last_day: int, capacity: int = 1024) -> None:
        self.first_day = first_day
        self.columns = {name: np.zeros(capacity, dtype=kind) for name, kind in COLUMNS.items()}
        self.size = 0
        self.block_start = np.zeros(last_day - first_day + 2, dtype=np.int64)
        self.borrowers = 0  # borrower ids used so far (co-debt borrowers first)

    def __getattr__(self, name: str) -> np.ndarray:
        columns = self.__dict__.get("columns", {})
        if name in columns:
            return columns[name][: self.size]
        raise AttributeError(name)

    def append(self, day: int, values: dict[str, np.ndarray]) -> None:
        """Append loans originated on ``day`` (after every loan of earlier days)."""
        count = len(values["principal"])
        need = self.size + count
        if need > len(self.columns["principal"]):
            capacity = max(need, 2 * len(self.columns["principal"]))
            for name, column in self.columns.items():
                grown = np.zeros(capacity, dtype=column.dtype)
                grown[: self.size] = column[: self.size]
                self.columns[name] = grown
        for name, column in self.columns.items():
            column[self.size: need] = values[name]
        self.size = need
        self.block_start[day - self.first_day + 1:] = need

    def service(self, day: int, seed: int, default_monthly: np.ndarray, keeps_paying: np.ndarray,
                stopped: np.ndarray) -> tuple[np.ndarray, ...]:
        """Service today's due loans (see :func:`service_day`); amounts per platform, fen."""
        c = self.columns
        return service_day(day, seed, self.block_start, self.first_day, c["platform"], c["principal"],
                           c["rate"], c["term"], c["balance"], c["orig_day"], c["n_paid"],
                           c["status"], c["borrower"], default_monthly, keeps_paying, stopped,
                           len(default_monthly))

    def outstanding_by_platform(self, platforms: int) -> np.ndarray:
        """Outstanding principal per platform, fen."""
        return np.bincount(self.platform, self.balance, minlength=platforms).astype(np.int64)

    def active_count(self) -> int:
        """Loans outstanding."""
        return int(np.count_nonzero(self.status == ACTIVE))


def fits_within(amounts: np.ndarray, count: np.ndarray, budget_fen: np.ndarray) -> np.ndarray:
    """Bool per loan: the platform's loans up to and with this one stay within its budget (fen).

    Loans are grouped by platform, ``count[p]`` of them for platform ``p``, in order.
    """
    cumulative = np.cumsum(amounts)
    before = np.concatenate([[0], cumulative])[np.concatenate([[0], np.cumsum(count)])[:-1]]
    return cumulative - np.repeat(before, count) <= np.repeat(budget_fen, count)


def draw_loans(platform: np.ndarray, mean_loan_cny: float, term_months: np.ndarray,
               rate: np.ndarray, co_debt_share: float, loans_per_borrower: int,
               next_borrower: int, rng: np.random.Generator) -> dict:
    """New loans on ``platform`` (one entry per loan): amounts, terms, rates and borrowers.

    ``term_months`` and ``rate`` are per platform (the platform's average term, its borrowers' annual
    rate). A share ``co_debt_share`` of the loans belong to borrowers who borrow on several platforms
    at once (共债): shuffled, and every ``loans_per_borrower`` of them share a borrower. Every other
    loan has a borrower of its own. Borrower ids start at ``next_borrower``.
    """
    count = len(platform)
    principal = mean_loan_cny * 100 * np.exp(rng.normal(-LOAN_SIGMA ** 2 / 2, LOAN_SIGMA, count))
    term = np.clip(np.round(term_months[platform] * np.exp(rng.normal(0, 0.3, count))), 1, MAX_TERM)
    borrower = next_borrower + np.arange(count, dtype=np.int64)
    shared = np.flatnonzero(rng.random(count) < co_debt_share)
    rng.shuffle(shared)
    borrower[shared] = next_borrower + np.arange(len(shared)) // loans_per_borrower
    return {"platform": platform, "principal": np.round(principal).astype(np.int64),
            "rate": rate[platform], "term": term.astype(np.int16), "borrower": borrower,
            "n_paid": np.zeros(count, dtype=np.int16), "status": np.zeros(count, dtype=np.int8)}


def opening_book(target_fen: np.ndarray, mean_loan_cny: float, term_months: np.ndarray,
                 rate: np.ndarray, rng: np.random.Generator, co_debt: tuple[float, int]):
    """Loans already on each platform's books on day 0, outstanding about ``target_fen[p]`` each.

    Ages are uniform over the term; each loan's balance is the closed form after the instalments
    already paid; loans beyond a platform's target are dropped, so no platform's book exceeds it.
    Returns the columns (sorted by origination day) and the next free borrower id.
    """
    expected = target_fen / (mean_loan_cny * 100 * 0.55)
    count = rng.poisson(np.maximum(expected, 0) * 1.1)
    platform = np.repeat(np.arange(len(target_fen), dtype=np.int32), count)
    share, per_borrower = co_debt
    loans = draw_loans(platform, mean_loan_cny, term_months, rate, share, per_borrower, 0, rng)
    term = loans["term"].astype(np.int64)
    paid = rng.integers(0, term)  # instalments already paid
    balance = balances_after(loans["principal"], loans["rate"], term, np.zeros(len(term), np.int64),
                             paid)
    keep = fits_within(balance, count, target_fen)
    loans = {k: v[keep] for k, v in loans.items()}
    loans["balance"] = balance[keep]
    loans["n_paid"] = paid[keep].astype(np.int16)
    loans["orig_day"] = (-30 * paid[keep] - rng.integers(1, 31, int(keep.sum()))).astype(np.int32)
    order = np.argsort(loans["orig_day"], kind="stable")
    return {k: v[order] for k, v in loans.items()}, len(platform)
