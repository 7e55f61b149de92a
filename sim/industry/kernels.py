"""Compiled kernels of the industry run: splitting platform amounts among positions, servicing loans.

Both work on contiguous slices: positions are sorted by platform, so a platform's positions are one
slice; loans are appended by origination day, so the loans due today are the blocks originated 30,
60, 90 ... days ago (the market's layout, DESIGN.md).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sim.loans import instalment

ACTIVE, REPAID, DEFAULTED = 0, 1, 2


@numba.njit(cache=True)
def allocate(group_start, weights, amounts, capped):
    """Split ``amounts[g]`` (fen, >= 0) among the positions of platform ``g``, pro rata ``weights``.

    ``group_start[g] .. group_start[g + 1]`` are platform ``g``'s positions. Each part is the floor
    of its pro-rata share, and the fen the floors leave go one each to the first positions, so the
    parts add up to the amount exactly. With ``capped`` a part never exceeds its weight (the amount
    must not exceed the weights' sum: paying queued requests, writing off balances).
    Returns the parts (int64, one per position).
    """
    parts = np.zeros(len(weights), dtype=np.int64)
    for g in range(len(amounts)):
        x = amounts[g]
        start, end = group_start[g], group_start[g + 1]
        if x <= 0 or end == start:
            continue
        total = np.int64(0)
        for i in range(start, end):
            total += weights[i]
        if total <= 0:
            continue
        left = x
        for i in range(start, end):
            part = np.int64(math.floor(x * (weights[i] / total)))
            if capped and part > weights[i]:
                part = weights[i]
            parts[i] = part
            left -= part
        while left != 0:  # at most a fen per position each pass
            for i in range(start, end):
                if left > 0 and weights[i] > 0 and (not capped or parts[i] < weights[i]):
                    parts[i] += 1
                    left -= 1
                elif left < 0 and parts[i] > 0:
                    parts[i] -= 1
                    left += 1
                if left == 0:
                    break
    return parts


@numba.njit(cache=True)
def service_day(day, seed, block_start, first_day, loans_platform, principal, rate, term, balance,
                orig_day, n_paid, status, borrower, default_monthly, keeps_paying, stopped,
                platforms):
    """Every loan due today pays its instalment, defaults, or (on a failed platform) stops paying.

    A loan on a platform that works defaults with ``default_monthly[p]`` at each due date; on a
    failed one it pays with ``keeps_paying[p]`` (borrowers stop paying a dead platform: 逃废债); a
    loan whose borrower stopped paying everywhere (``stopped[borrower]``: 共债) defaults. Returns per
    platform: principal repaid, interest paid, principal written off, of which by stopped borrowers
    on platforms still working (fen).
    """
    np.random.seed(seed)
    repaid = np.zeros(platforms, dtype=np.int64)
    interest = np.zeros(platforms, dtype=np.int64)
    written_off = np.zeros(platforms, dtype=np.int64)
    by_co_debt = np.zeros(platforms, dtype=np.int64)
    k = 1
    while True:
        due_day = day - 30 * k
        if due_day < first_day:
            break
        b = due_day - first_day
        for row in range(block_start[b], block_start[b + 1]):
            if status[row] != ACTIVE or k > term[row]:
                continue
            p = loans_platform[row]
            u = np.random.random()
            stop = borrower[row] >= 0 and stopped[borrower[row]]
            if stop or u < default_monthly[p] or u >= keeps_paying[p]:
                written_off[p] += balance[row]
                if stop and keeps_paying[p] >= 1.0:  # on a platform still working
                    by_co_debt[p] += balance[row]
                balance[row] = 0
                status[row] = DEFAULTED
                continue
            principal_part, interest_part = instalment(principal[row], rate[row], term[row], 0, k)
            repaid[p] += principal_part
            interest[p] += interest_part
            balance[row] -= principal_part
            n_paid[row] = k
            if k == term[row]:
                status[row] = REPAID
        k += 1
    return repaid, interest, written_off, by_co_debt


@numba.njit(cache=True)
def mark_stopped(loans_platform, borrower, status, failed, stopped, draws, stop_probability):
    """Borrowers with an active loan on a platform that failed today stop paying everywhere (共债).

    ``draws``: one uniform per borrower. Returns how many borrowers stopped.
    """
    count = 0
    for row in range(len(status)):
        b = borrower[row]
        if b < 0 or status[row] != ACTIVE or not failed[loans_platform[row]] or stopped[b]:
            continue
        if draws[b] < stop_probability:
            stopped[b] = True
            count += 1
    return count


@numba.njit(cache=True)
def group_sums(group_start, values):
    """Sum of ``values`` over each platform's slice of positions, exactly (int64, fen)."""
    sums = np.zeros(len(group_start) - 1, dtype=np.int64)
    for g in range(len(sums)):
        total = np.int64(0)
        for i in range(group_start[g], group_start[g + 1]):
            total += values[i]
        sums[g] = total
    return sums


@numba.njit(cache=True)
def portions(group_start, balance, queued, share, of_free):
    """``floor(x * share[p])`` for each position of platform ``p``, fen.

    ``x`` is the balance, or with ``of_free`` the balance not yet asked for (balance - queued).
    """
    out = np.zeros(len(balance), dtype=np.int64)
    for g in range(len(group_start) - 1):
        s = share[g]
        if s <= 0.0:
            continue
        for i in range(group_start[g], group_start[g + 1]):
            x = balance[i] - queued[i] if of_free else balance[i]
            out[i] = np.int64(math.floor(x * s))
    return out
