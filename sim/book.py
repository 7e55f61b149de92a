"""The loan book (借款台账) and its notes (债权): every disbursed loan, owned by investors via notes.

Layout: loans are appended in order of origination day, so a loan's id is its row, and all loans
originated on one day form one contiguous block of rows. A detailed platform's loans stay for the
whole run; in an industry, a pooled platform's finished loans leave the book now and then
(:meth:`LoanBook.drop`: its tracker holds their sums), and the rows after them move up, in order.
With the 30-day month, the loans due today are exactly the blocks originated 30, 60, 90 ... days
ago, so a day's servicing work is a few contiguous slices (DESIGN.md: memory layout matters as
much as vectorising). A loan's notes are the rows ``note_start .. note_end`` of the note table,
stored in the same order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.columns import Columns
from sim.kernels.views import ACTIVE, DEFAULTED, PREPAID, REPAID, SOLD, LoanColumns, NoteColumns
from sim.loans import DAYS_PER_MONTH, MAX_TERM_MONTHS, RepaymentMethod
from sim.readable import Readable

MAX_ROW = np.iinfo(np.int32).max  # the int32 columns' limit: note rows, and a loan's fen
STATUS_NAMES = {ACTIVE: "active", REPAID: "repaid", PREPAID: "prepaid", DEFAULTED: "defaulted",
                SOLD: "sold"}

LOAN_SCHEMA = {
    "borrower": np.int32,          # borrower row, -1 for the opening book
    "platform": np.int16,          # platform index
    "grade": np.int8,              # grade index, 0 = best
    "method": np.int8,             # RepaymentMethod
    "term": np.int16,              # months
    "annual_rate": np.float64,     # nominal annual rate
    "principal_fen": np.int32,     # original principal, fen (a loan is at most 5 M CNY: MAX_LOAN_CNY)
    "balance_fen": np.int32,       # outstanding principal, fen (0 once closed)
    "orig_day": np.int32,          # disbursement day; due dates are orig_day + 30 k
    "n_paid": np.int16,            # scheduled instalments settled
    "status": np.int8,             # ACTIVE, REPAID, PREPAID, DEFAULTED, SOLD (runs)
    "delinquent": np.int8,         # 1 while the borrower has stopped paying
    "first_missed_day": np.int32,  # due day of the oldest unpaid instalment, -1 if none
    "default_day": np.int32,       # day written off, -1 if not
    "hazard_mult": np.float64,     # idiosyncratic multiplier of the grade hazard
    "held_fen": np.int32,          # part of the balance held by a protection layer or fund pool, fen
    "holder": np.int8,             # which of its platform's holders holds held_fen: the h-th
                                   # (Platform.holder_account): a protection layer h, or, on a
                                   # platform with one holder of whole loans, that holder (0: a
                                   # fund pool's pool; a pooled platform's investors' positions)
    "covered": np.int8,            # bit h set: the platform's protection layer h covers the loan
    "note_start": np.int32,        # first note row (2^31 notes would need 16 GB: never reached)
    "note_end": np.int32,          # one past the last note row
    "paid_fen": np.int64,          # paid by the borrower so far: principal, interest (罚息 too),
                                   # the recovery; fen (what the tape calls total_pymnt)
}
NOTE_SCHEMA = {
    "investor": np.int32,          # investor row
    "balance_fen": np.int32,       # outstanding principal of the note, fen (loans are <= 5 M CNY)
}


@dataclass(frozen=True, repr=False)
class LoanView(Readable):
    """One loan, readable: amounts in CNY, its notes as (investor, balance CNY) pairs."""

    id: int
    platform: int
    grade: str
    method: str
    term_months: int
    annual_rate: float
    principal_cny: float
    balance_cny: float
    orig_day: int
    instalments_paid: int
    status: str
    days_past_due: int
    notes: list[tuple[int, float]]


class LoanBook:
    """All disbursed loans and their notes.

    Parameters
    ----------
    first_day : int
        Earliest origination day the book can hold (negative for an opening book).
    last_day : int
        Last day of the run.
    grade_names : list of str
        For the readable views.
    """

    def __init__(self, first_day: int, last_day: int, grade_names: list[str],
                 capacity: int = 1 << 14) -> None:
        self.loans = Columns(LOAN_SCHEMA, capacity)
        self.notes = Columns(NOTE_SCHEMA, capacity * 16)
        self.first_day = first_day
        self.grade_names = grade_names
        n_days = last_day - first_day + 2
        self.block_start = np.zeros(n_days, dtype=np.int64)
        self.block_end = np.zeros(n_days, dtype=np.int64)
        self.today = None
        self.renumbering: list = []  # f(new_row, kept) of each part that holds loans' rows
        self.left = 0            # loans that left the book (drop)
        self.first_new_row = 0   # rows from here on were appended since the last drop

    def __len__(self) -> int:
        return len(self.loans)

    def __getitem__(self, loan_id: int) -> LoanView:
        row = self.loans.row(loan_id)
        notes = self.notes
        held = [(int(notes.investor[j]), notes.balance_fen[j] / 100)
                for j in range(row["note_start"], row["note_end"])]
        dpd = 0
        if row["first_missed_day"] >= 0 and self.today is not None:
            dpd = self.today - row["first_missed_day"]
        return LoanView(
            id=loan_id, platform=row["platform"], grade=self.grade_names[row["grade"]],
            method=RepaymentMethod(row["method"]).name.lower(), term_months=row["term"],
            annual_rate=row["annual_rate"], principal_cny=row["principal_fen"] / 100,
            balance_cny=row["balance_fen"] / 100, orig_day=row["orig_day"],
            instalments_paid=row["n_paid"], status=STATUS_NAMES[row["status"]],
            days_past_due=dpd, notes=held)

    def append(self, loans: dict[str, np.ndarray], note_counts: np.ndarray,
               note_investor: np.ndarray, note_balance: np.ndarray) -> slice:
        """Append loans (sorted by ``orig_day``, none earlier than the book's last) and their notes.

        The money columns of a loan and its note indices are int32 (the loan book is the largest
        table of a full industry: 96 bytes a row became 80): a loan is at most 5 M CNY
        (``MAX_LOAN_CNY``, 5e8 fen), and what it has paid stays int64.

        ``note_counts[i]`` notes of loan ``i`` are the next rows of ``note_investor`` and
        ``note_balance``; their balances must add up to the loan's balance.
        """
        n = len(note_counts)
        if n == 0:
            return slice(len(self.loans), len(self.loans))
        first_note = len(self.notes)
        ends = first_note + np.cumsum(note_counts)
        if ends[-1] > MAX_ROW or np.max(loans["principal_fen"]) > MAX_ROW:
            raise OverflowError("the loan book's int32 columns cannot hold this book: more than "
                                f"{MAX_ROW:,} notes or a loan over {MAX_ROW / 100:,.0f} CNY")
        self.notes.append(investor=note_investor, balance_fen=note_balance)
        rows = self.loans.append(note_start=ends - note_counts, note_end=ends, **loans)
        days = self.loans.orig_day[rows]
        index = days - self.first_day
        first = np.searchsorted(days, days, side="left") + rows.start
        last = np.searchsorted(days, days, side="right") + rows.start
        existing = self.block_end[index] > self.block_start[index]
        self.block_start[index] = np.where(existing, self.block_start[index], first)
        self.block_end[index] = last
        return rows

    def drop(self, leaving: np.ndarray) -> None:
        """The loans where ``leaving`` (bool per row) is True leave the book; the others keep their order.

        Only loans without notes may leave (the notes keep their rows): finished loans of pooled
        platforms, whose sums the industry's tracker already holds (:meth:`sim.industry.part.
        Industry.open_month`). A day's loans stay one block of rows. Every part that holds rows
        is told their new numbers (``renumbering``: ``f(new_row, kept)``, see :func:`renumbered`).
        """
        loans = self.loans
        if (loans.note_end[leaving] != loans.note_start[leaving]).any():
            raise ValueError("a loan with notes cannot leave the loan book")
        kept = ~leaving
        self.left += int(np.count_nonzero(leaving))
        new_row = np.concatenate([[0], np.cumsum(kept)])  # old row i is new row new_row[i]
        loans.keep(kept)
        self.block_start = new_row[self.block_start]
        self.block_end = new_row[self.block_end]
        self.first_new_row = len(loans)
        for renumber in self.renumbering:
            renumber(new_row, kept)

    def serial(self, rows: np.ndarray) -> np.ndarray:
        """Loans' numbers in order of lending, counting those that left: the row none leaving gives.

        For keyed draws that must not move when loans leave. Only for rows appended since the
        last :meth:`drop` (a new day's loans).
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) and rows.min() < self.first_new_row:
            raise ValueError("serial numbers are known only for loans appended since the last drop")
        return rows + self.left

    def due_ranges(self, day: int, max_months: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row ranges due today and the instalment number due in each.

        Returns
        -------
        (starts, ends, months)
            Loans in rows ``starts[j] .. ends[j]`` were originated ``30 * months[j]`` days ago.
        """
        months = np.arange(1, max_months + 1)
        index = day - DAYS_PER_MONTH * months - self.first_day
        valid = index >= 0
        months, index = months[valid], index[valid]
        starts, ends = self.block_start[index], self.block_end[index]
        keep = ends > starts
        return starts[keep], ends[keep], months[keep]

    def loan_columns(self) -> LoanColumns:
        """The loans' columns the kernels work on (the arrays themselves, not copies)."""
        loans = self.loans
        return LoanColumns(*(getattr(loans, name) for name in LoanColumns._fields))

    def note_columns(self) -> NoteColumns:
        """The notes' columns (the arrays themselves)."""
        return NoteColumns(self.notes.investor, self.notes.balance_fen)

    def outstanding_by_platform(self, n_platforms: int) -> np.ndarray:
        """Outstanding principal per platform (fen), summed over the loans (for the audit)."""
        loans = self.loans
        return np.bincount(loans.platform, weights=loans.balance_fen,
                           minlength=n_platforms).astype(np.int64) if len(loans) else \
            np.zeros(n_platforms, dtype=np.int64)

    def note_sums(self) -> np.ndarray:
        """Sum of note balances of each loan (fen), for the audit."""
        running = np.concatenate([[0], np.cumsum(self.notes.balance_fen, dtype=np.int64)])
        return running[self.loans.note_end] - running[self.loans.note_start]


def renumbered(rows: np.ndarray, new_row: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """``rows`` after :meth:`LoanBook.drop`: those still in the book, by their new numbers, in order."""
    rows = np.asarray(rows, dtype=np.int64)
    return new_row[rows[kept[rows]]]


MAX_DUE_MONTHS = MAX_TERM_MONTHS + 13  # a term plus the longest arrears window (360 days) + 1
