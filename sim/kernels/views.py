"""What the kernels are given and what they return: grouped views of the book and named totals.

The kernels take the loan book, the notes, the investors' accounts and the arrears counts each as
one named tuple of arrays (the arrays themselves, not copies: kernels update them in place), and
return per-platform totals in int64 arrays whose columns are named by the ``*Totals`` enums.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np

ACTIVE, REPAID, PREPAID, DEFAULTED, SOLD = 1, 2, 3, 4, 5  # loan status codes (SOLD: runs)
NEVER_PAYS = 1e9  # a loan's hazard multiplier that marks the owners' own project (自融): it never cures
MAX_LAYERS = 3  # protection layers a platform may have (one reserve, one guarantor, one insurer)
POOLED_INVESTORS, POOLED_RESERVE = 0, 1  # a pooled platform's holders of its loans (loans.holder):
# its investors' positions, pro rata, and its reserve fund (风险准备金) once it bought a loan (代偿)


class LoanColumns(NamedTuple):
    """The loan book's columns the kernels read and write, one row per loan (amounts in fen)."""

    status: np.ndarray
    balance_fen: np.ndarray
    principal_fen: np.ndarray
    annual_rate: np.ndarray
    term: np.ndarray
    method: np.ndarray
    orig_day: np.ndarray
    n_paid: np.ndarray
    delinquent: np.ndarray
    first_missed_day: np.ndarray
    default_day: np.ndarray
    grade: np.ndarray
    platform: np.ndarray
    hazard_mult: np.ndarray
    held_fen: np.ndarray
    holder: np.ndarray         # which of the platform's holders holds ``held_fen`` (sim/book.py)
    covered: np.ndarray        # bit ``h`` set: protection layer ``h`` covers the loan
    note_start: np.ndarray
    note_end: np.ndarray
    paid_fen: np.ndarray       # what the borrower has paid: principal, interest, recovery


class NoteColumns(NamedTuple):
    """The notes (债权): who holds each and its outstanding principal (fen)."""

    investor: np.ndarray
    balance_fen: np.ndarray


class InvestorAccounts(NamedTuple):
    """Investors' money: cash by investor and platform, income and principal lost (fen)."""

    cash_fen: np.ndarray
    net_income_fen: np.ndarray
    principal_lost_fen: np.ndarray


class ArrearsByDay(NamedTuple):
    """Loans in arrears and their balance (fen) by the day of their first missed payment.

    Index ``day + offset``; a new miss adds to its day, a cure or write-off takes the loan out.
    """

    count: np.ndarray
    balance_fen: np.ndarray
    offset: int


class ServicingTerms(NamedTuple):
    """The month's behaviour and fee rates (see :class:`sim.market.risk_tables.RiskTables`)."""

    miss_hazard: np.ndarray          # (platform, grade), before the months lost to cured misses
    prepay_hazard: np.ndarray        # by grade
    cure_probability: np.ndarray     # (platform, grade)
    penalty_daily_rate: np.ndarray   # by platform
    management_fee: np.ndarray       # by platform, share of interest
    service_fee_monthly: np.ndarray  # by platform, share of original principal
    term_class: np.ndarray           # by term in months: row of the seasoning tables
    default_shape: np.ndarray        # (months on book, term class, grade): factor on miss_hazard
    prepay_shape: np.ndarray         # (months on book, term class, grade): factor on prepay_hazard
    pooled: np.ndarray               # by platform: its investors own its loans pro rata (no notes)
    still_curing: np.ndarray         # (platform, grade, K): a miss j due dates back will cure, not yet


class ServiceTotals(IntEnum):
    """Columns of the per-platform totals of :func:`service_due_loans` (fen, or counts ``N_*``)."""

    PRINCIPAL = 0
    INTEREST = 1          # penalty interest included
    FEE = 2               # management fee
    PENALTY = 3
    PREPAID_PRINCIPAL = 4
    N_DUE = 5
    N_MISSED = 6
    N_CURED = 7
    N_PREPAID = 8
    N_MATURED = 9
    SERVICE_FEE = 10
    HELD_PRINCIPAL = 11   # the holder's part (a layer that paid out, or a fund pool): holder 0's
    HELD_INTEREST = 12    # holder h's are at HELD_PRINCIPAL + 2 h, HELD_INTEREST + 2 h
    N = 11 + 2 * MAX_LAYERS


class WriteOffTotals(IntEnum):
    """Columns of the per-platform totals of :func:`write_off` (fen, or the count)."""

    PRINCIPAL = 0         # the notes' part
    RECOVERED = 1
    COLLECTION_FEE = 2
    COUNT = 3
    HELD_PRINCIPAL = 4    # holder 0's; holder h's at HELD_PRINCIPAL + 2 h, HELD_RECOVERED + 2 h
    HELD_RECOVERED = 5
    N = 4 + 2 * MAX_LAYERS


def by_holder(totals: np.ndarray, column: int) -> np.ndarray:
    """A held column of kernel totals for every holder: shape ``totals.shape[:-1] + (MAX_LAYERS,)``.

    ``column`` is holder 0's (e.g. ``ServiceTotals.HELD_PRINCIPAL``); holder ``h``'s is
    ``column + 2 h``.
    """
    return totals[..., column:column + 2 * MAX_LAYERS:2]


class BuyOutTotals(IntEnum):
    """Columns of the totals of :func:`buy_out` (fen, or the count)."""

    PRINCIPAL = 0
    INTEREST = 1
    ASKED = 2
    COUNT = 3
    LEFT = 4              # asked, not paid, and no later layer covers the loan: the investors' loss
    N = 5


class ListingTerms(NamedTuple):
    """What auto-invest reads of the listings: grade, annual rate and platform, by listing row."""

    grade: np.ndarray
    annual_rate: np.ndarray
    platform: np.ndarray


class Bidders(NamedTuple):
    """Investors as auto-invest sees them: cash by platform (fen, updated) and their appetite."""

    cash_fen: np.ndarray
    bid_size_fen: np.ndarray
    max_grade: np.ndarray
    min_rate: np.ndarray
    bidding: np.ndarray  # (investor, platform): False once they stop reinvesting there


class TrustSignals(NamedTuple):
    """What moves investors' trust today (:func:`sim.kernels.trust.update_trust`).

    Amounts in fen, per investor or (investor, platform); ``hit`` per platform (trust, 0-1).
    """

    principal_lost_fen: np.ndarray
    lost_seen: np.ndarray      # principal lost as of yesterday (updated)
    late_fen: np.ndarray       # balance of their notes on loans that missed today
    wealth_fen: np.ndarray
    weight: np.ndarray         # (investor, platform): > 0 where they use the platform
    queued_fen: np.ndarray
    queued_since: np.ndarray
    ran_day: np.ndarray        # (investor, platform): day they last started to run
    hit: np.ndarray            # per platform: disclosure, trust lost today
