"""Who holds which notes: the secondary market's index (see :mod:`sim.kernels.transfers`).

Built on first use and brought up to date each time it is read: notes appended to the book since
(new loans) are linked to their investors, and every transfer links the note to its buyer. Reading a
seller's notes walks only their own records, not the book.
"""

from __future__ import annotations

import numpy as np

from sim import kernels

RECORD = np.int32  # a note's row and a record's index: half the memory of int64, checked on growth
MAX_RECORDS = np.iinfo(RECORD).max


class Holdings:
    """Per-investor linked lists of note records, append-only.

    Parameters
    ----------
    book : LoanBook
        The notes and the loans they belong to.
    investors : InvestorPopulation
        Who may hold them.
    """

    def __init__(self, book, investors) -> None:
        self.book, self.investors = book, investors
        self.head = np.full(0, -1, dtype=RECORD)
        self.record_note = np.zeros(1 << 16, dtype=RECORD)
        self.record_next = np.zeros(1 << 16, dtype=RECORD)
        self.n_records = 0
        self.loans_linked = 0
        book.renumbering.append(self._renumber)

    def _renumber(self, new_row: np.ndarray, kept: np.ndarray) -> None:
        """Finished loans left the book (none with notes): the loans linked so far, counted anew."""
        self.loans_linked = int(new_row[self.loans_linked])

    def notes_of(self, sellers: np.ndarray, platform: int) -> np.ndarray:
        """Rows of the notes ``sellers`` hold on current loans of ``platform``, in book order."""
        self._catch_up()
        out = np.empty(max(1024, 64 * len(sellers)), dtype=np.int64)
        while True:
            n = kernels.sellers_notes(sellers, self.head, self.record_note, self.record_next,
                                      self.book.note_columns(), self.book.loan_columns(),
                                      platform, out)
            if n >= 0:
                return np.unique(out[:n])
            out = np.empty(2 * len(out), dtype=np.int64)

    def moved(self, note_rows: np.ndarray, buyers: np.ndarray) -> None:
        """Notes ``note_rows`` now belong to ``buyers``."""
        self._link(note_rows, buyers)

    def _catch_up(self) -> None:
        """Link the notes of loans added to the book since the last read."""
        loans, notes = self.book.loans, self.book.notes
        self._grow_head(len(self.investors))
        if len(loans) == self.loans_linked:
            return
        need = self.n_records + int(loans.note_end[len(loans) - 1]
                                    - loans.note_start[self.loans_linked])
        self.record_note = _room(self.record_note, need)
        self.record_next = _room(self.record_next, need)
        self.n_records = kernels.link_new_notes(
            self.loans_linked, loans.note_start, loans.note_end, notes.investor, self.head,
            self.record_note, self.record_next, self.n_records)
        self.loans_linked = len(loans)

    def _link(self, note_rows: np.ndarray, owners: np.ndarray) -> None:
        self._grow_head(len(self.investors))
        need = self.n_records + len(note_rows)
        self.record_note = _room(self.record_note, need)
        self.record_next = _room(self.record_next, need)
        self.n_records = kernels.link_records(note_rows.astype(np.int64), owners.astype(np.int64),
                                              self.head, self.record_note, self.record_next,
                                              self.n_records)

    def _grow_head(self, n: int) -> None:
        if n > len(self.head):
            self.head = np.concatenate([self.head, np.full(n - len(self.head), -1, RECORD)])


def _room(array: np.ndarray, size: int) -> np.ndarray:
    """``array``, or a copy four times as long (or ``2 * size``), so that it holds ``size`` items.

    Records only grow, by every new note: growing by four copies a third as much as doubling.
    """
    if size <= len(array):
        return array
    if size > MAX_RECORDS:
        raise OverflowError(f"the secondary market's index holds at most {MAX_RECORDS:,} note "
                            f"records; this run needs {size:,}")
    grown = np.empty(min(max(2 * size, 4 * len(array)), MAX_RECORDS), dtype=array.dtype)
    grown[: len(array)] = array
    return grown
