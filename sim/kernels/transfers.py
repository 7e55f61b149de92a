"""Kernels of the secondary market (债权转让): who holds which notes, and who buys each.

Finding a seller's notes by scanning the note table costs a pass over every note of every active
loan; a run asks for it daily. Instead the holdings are kept as one singly linked list per investor
in append-only records (:class:`~sim.runs.holdings.Holdings`): a record points to a note and to the
investor's previous record. New notes and notes bought on the market add records; a record whose
note has since changed hands is skipped when read (its note's ``investor`` is no longer the owner).
"""

from __future__ import annotations

import numba
import numpy as np

from sim.kernels.views import ACTIVE


@numba.njit(cache=True)
def link_records(note_rows, owners, head, record_note, record_next, n_records):
    """Add a record of note ``note_rows[k]`` to the list of ``owners[k]``; the new record count."""
    for k in range(note_rows.shape[0]):
        owner = owners[k]
        record_note[n_records] = note_rows[k]
        record_next[n_records] = head[owner]
        head[owner] = n_records
        n_records += 1
    return n_records


@numba.njit(cache=True)
def link_new_notes(first_loan, note_start, note_end, note_investor, head, record_note,
                   record_next, n_records):
    """Link the notes of loans ``first_loan ..`` to their holders (:mod:`sim.runs.holdings`)."""
    for row in range(first_loan, note_start.shape[0]):
        for j in range(note_start[row], note_end[row]):
            owner = note_investor[j]
            record_note[n_records] = j
            record_next[n_records] = head[owner]
            head[owner] = n_records
            n_records += 1
    return n_records


@numba.njit(cache=True)
def sellers_notes(sellers, head, record_note, record_next, notes, loans, plat, out_note):
    """Notes that ``sellers`` hold on current loans of platform ``plat``; writes rows, returns count.

    A note's loan is found by bisection of the loans' ``note_start`` (notes are stored in loan
    order). A note listed twice (sold and bought back) is written twice; the caller keeps unique
    rows. Returns -1 when ``out_note`` is too short.
    """
    n = 0
    for s in range(sellers.shape[0]):
        seller = sellers[s]
        record = head[seller]
        while record >= 0:
            j = record_note[record]
            record = record_next[record]
            if notes.investor[j] != seller or notes.balance_fen[j] <= 0:
                continue
            loan = np.searchsorted(loans.note_start, j, side="right") - 1
            if loans.status[loan] != ACTIVE or loans.first_missed_day[loan] >= 0 \
                    or loans.platform[loan] != plat:
                continue
            if n == out_note.shape[0]:
                return -1  # the caller grows the output and asks again
            out_note[n] = j
            n += 1
    return n


@numba.njit(cache=True)
def match_transfers(cost, buyer_order, cash, out_buyer):
    """Each note in turn goes to the next buyer whose cash covers its ``cost`` (fen).

    ``cash`` (by investor, on the platform) is reduced by what each buyer pays; ``out_buyer[j]``
    is the buyer of note ``j``. Returns the number of notes sold (a prefix of ``cost``).
    """
    b = 0
    n_buyers = buyer_order.shape[0]
    for j in range(cost.shape[0]):
        while b < n_buyers and cash[buyer_order[b]] < cost[j]:
            b += 1
        if b == n_buyers:
            return j
        out_buyer[j] = buyer_order[b]
        cash[buyer_order[b]] -= cost[j]
    return cost.shape[0]
