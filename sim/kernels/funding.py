"""Kernels of the marketplace and the month: auto-invest (自动投标) and one pass over the book."""

from __future__ import annotations

import numba
import numpy as np

from sim.kernels.views import ACTIVE, MAX_LAYERS


@numba.njit(cache=True)
def fund_listings(rows, need, listings, investor_order, pointer, bidders, min_bid, max_scan,
                  out_listing, out_investor, out_amount):
    """Auto-invest (自动投标): investors bid on open listings in a rotating random order.

    Each listing of ``rows`` (in ``listings``, a ListingTerms) is offered to investors in turn from
    ``pointer`` on; an investor bids if the grade is within their appetite and the rate meets their
    target and they still bid there (``bidders.bidding``), bidding
    ``min(bid_size, need, cash)``. A bid must be at least ``min_bid`` fen unless it
    completes the listing. At most ``max_scan`` investors are asked per listing per day. Bid cash
    leaves ``bidders.cash_fen`` (it is then committed); ``need`` is reduced by what was bid.

    Returns
    -------
    (int, int)
        Number of bids written to the ``out_*`` arrays, and the pointer for the next call.
    """
    n_inv = investor_order.shape[0]
    n_bids = 0
    scan_limit = min(max_scan, n_inv)
    for li in range(rows.shape[0]):
        lrow = rows[li]
        remaining = need[li]
        g = listings.grade[lrow]
        rate = listings.annual_rate[lrow]
        plat = listings.platform[lrow]
        scanned = 0
        while remaining > 0 and scanned < scan_limit:
            inv = investor_order[pointer]
            pointer += 1
            if pointer == n_inv:
                pointer = 0
            scanned += 1
            if g > bidders.max_grade[inv] or rate < bidders.min_rate[inv]:
                continue
            if not bidders.bidding[inv, plat]:
                continue
            cash = bidders.cash_fen[inv, plat]
            bid = min(bidders.bid_size_fen[inv], remaining, cash)
            if bid <= 0 or (bid < min_bid and bid < remaining):
                continue
            bidders.cash_fen[inv, plat] = cash - bid
            remaining -= bid
            out_listing[n_bids] = li
            out_investor[n_bids] = inv
            out_amount[n_bids] = bid
            n_bids += 1
        need[li] = remaining
    return n_bids, pointer


@numba.njit(cache=True)
def book_state(loans, n_platforms, n_grades):
    """One pass over the loan book (LoanColumns) for the platforms' month-start state.

    Returns
    -------
    (by_grade, in_arrears, guaranteed, guaranteed_arrears)
        Outstanding principal by platform and grade (fen), active loans with an unpaid instalment
        by platform, the investors' principal of covered loans by platform and protection layer
        (fen), and that of the covered loans in arrears (fen: what the layer may yet be asked for).
    """
    by_grade = np.zeros((n_platforms, n_grades), dtype=np.int64)
    in_arrears = np.zeros(n_platforms, dtype=np.int64)
    guaranteed = np.zeros((n_platforms, MAX_LAYERS), dtype=np.int64)
    guaranteed_arrears = np.zeros((n_platforms, MAX_LAYERS), dtype=np.int64)
    for row in range(loans.status.shape[0]):
        if loans.status[row] != ACTIVE:
            continue
        p = loans.platform[row]
        by_grade[p, loans.grade[row]] += loans.balance_fen[row]
        if loans.first_missed_day[row] >= 0:
            in_arrears[p] += 1
        if loans.covered[row]:
            unpaid = loans.balance_fen[row] - loans.held_fen[row]
            for h in range(MAX_LAYERS):
                if (loans.covered[row] >> h) & 1:
                    guaranteed[p, h] += unpaid
                    if loans.first_missed_day[row] >= 0:
                        guaranteed_arrears[p, h] += unpaid
    return by_grade, in_arrears, guaranteed, guaranteed_arrears
