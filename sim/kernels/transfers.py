"""Kernels of the secondary market (债权转让): the notes offered, and who buys each."""

from __future__ import annotations

import numba
import numpy as np

from sim.kernels.views import ACTIVE


@numba.njit(cache=True)
def offered_notes(loans, notes, selling, plat, out_note):
    """Notes of current loans on platform ``plat`` whose holders sell (``selling[investor]``).

    Writes their rows to ``out_note`` in book order and returns how many.
    """
    n = 0
    for row in range(loans.status.shape[0]):
        if loans.status[row] != ACTIVE or loans.first_missed_day[row] >= 0 \
                or loans.platform[row] != plat:
            continue
        for j in range(loans.note_start[row], loans.note_end[row]):
            if notes.balance_fen[j] > 0 and selling[notes.investor[j]]:
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


def empty_notes(n: int) -> np.ndarray:
    """An output array for :func:`offered_notes`."""
    return np.empty(n, dtype=np.int64)
