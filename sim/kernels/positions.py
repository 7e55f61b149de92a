"""Kernels over investors' positions on pooled platforms: pro-rata splits, requests, queue payments.

Positions are sorted by platform, so platform ``p``'s positions are the slice ``group_start[p] ..
group_start[p + 1]`` and every kernel is one pass over contiguous slices (DESIGN.md: memory layout
matters as much as vectorising). Amounts are int64 fen; every split adds up to its total exactly.
A platform's slice is its own. Each kernel is a loop over a range of platforms (``_NAME_range``);
a large book of positions (:data:`PARALLEL_MIN_POSITIONS` or more, more than one thread) is cut
into chunks of whole platforms run in parallel (``numba.prange``, ``_NAME_chunks``), each writing
only its platforms' slices and their entries of what it returns, so the result is the same, bit
for bit, on any number of threads. A small book runs serially (a parallel region costs more there).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from sim.kernels.queue_order import pay_oldest_first, pay_own_cash_first

PARALLEL_MIN_POSITIONS = 200_000  # positions from which the kernels run in parallel (4 chunks a thread)


def over_platforms(serial, parallel, group_start, *args):
    """A kernel over every platform: serially, or in parallel chunks of a large book."""
    bounds = _chunk_bounds(group_start)
    if bounds is None:
        return serial(0, len(group_start) - 1, group_start, *args)
    return parallel(bounds, group_start, *args)


def over_investors(serial, parallel, investors: int, group_start, *args):
    """A kernel over every investor's positions: serially, or in parallel ranges of investors.

    For a kernel that adds many platforms' positions into one investor's entry: each range of
    investor ids is its own (a platform's positions of the range are found by binary search in
    its slice, sorted by investor), so a range writes only its investors' entries, in the order
    of the platforms whatever the ranges: the same bit for bit on any number of threads. A range
    of a few million investors' entries also stays in the cache.
    """
    if _serially(group_start):
        return serial(0, investors, group_start, *args)
    bounds = np.linspace(0, investors, 4 * numba.get_num_threads() + 1).astype(np.int64)
    return parallel(bounds, group_start, *args)


def _serially(group_start: np.ndarray) -> bool:
    """Whether a book of positions runs serially: one thread, or a small book."""
    return numba.get_num_threads() == 1 or group_start[-1] < PARALLEL_MIN_POSITIONS


@numba.njit(cache=True)
def investors_in(investor, start, end, low, high):
    """Positions ``start .. end`` (sorted by investor) of investors ``low .. high``: their range."""
    return (start + np.searchsorted(investor[start:end], low),
            start + np.searchsorted(investor[start:end], high))


def _chunk_bounds(group_start: np.ndarray) -> np.ndarray | None:
    """Platform bounds of the parallel chunks (about equal positions each), or None: serial."""
    if _serially(group_start):
        return None
    cuts = np.linspace(0, group_start[-1], 4 * numba.get_num_threads() + 1)[1:-1]
    inner = np.searchsorted(group_start, cuts)
    n = len(group_start) - 1
    return np.unique(np.concatenate([[0], np.minimum(inner, n), [n]])).astype(np.int64)


@numba.njit(cache=True)
def _split(parts, weights, start, end, x, total, capped):
    """``x`` fen over positions ``start .. end`` pro rata ``weights`` (sum ``total``), into ``parts``."""
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


@numba.njit(cache=True)
def _group_sums_range(first, last, group_start, values, only, sums):
    """Platforms ``first .. last`` of :func:`group_sums` (``only`` empty: every position)."""
    every = len(only) == 0
    for g in range(first, last):
        total = np.int64(0)
        for i in range(group_start[g], group_start[g + 1]):
            if every or only[i]:
                total += values[i]
        sums[g] = total


@numba.njit(cache=True, parallel=True)
def _group_sums_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _group_sums_range(bounds[c], bounds[c + 1], *args)


def group_sums(group_start, values, only=None):
    """Sum of ``values`` over each platform's slice of positions, exactly (int64, fen).

    With ``only`` (bool per position) the positions where it is True alone: no masked copy.
    """
    sums = np.zeros(len(group_start) - 1, dtype=np.int64)
    only = np.zeros(0, dtype=np.bool_) if only is None else only
    over_platforms(_group_sums_range, _group_sums_chunks, group_start, values, only, sums)
    return sums


@numba.njit(cache=True, inline="always")
def _ask(i, balance, queued, queued_since, share, day):
    """Position ``i`` asks back ``floor(free * share)`` and queues it; what it asked (fen)."""
    part = np.int64(math.floor((balance[i] - queued[i]) * share))
    if part > 0:
        if queued[i] == 0:
            queued_since[i] = day  # a request waits from its oldest unpaid part
        queued[i] += part
        return part
    return np.int64(0)


@numba.njit(cache=True)
def _request_range(first, last, group_start, balance, queued, queued_since, share, day, asking,
                   asked):
    """Platforms ``first .. last`` of :func:`request`."""
    everyone = len(asking) == 0
    for g in range(first, last):
        s = share[g]
        if s <= 0.0:
            continue
        total = np.int64(0)
        for i in range(group_start[g], group_start[g + 1]):
            if not everyone and (not asking[i] or queued[i] > 0):
                continue
            total += _ask(i, balance, queued, queued_since, s, day)
        asked[g] = total


@numba.njit(cache=True, parallel=True)
def _request_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _request_range(bounds[c], bounds[c + 1], *args)


def request(group_start, balance, queued, queued_since, share, day, asking=None):
    """Each position of platform ``p`` asks back ``floor(free * share[p])`` (提现申请): it queues.

    ``free`` is the balance not yet asked for. With ``asking`` (bool per position) only those
    positions ask, and only where they are not already waiting (a decision to stop reinvesting or
    to run, :mod:`sim.runs.pooled`). The day asked is kept where nothing was queued before (a
    request waits from its oldest unpaid part). Returns what each platform was asked (fen).
    """
    asked = np.zeros(len(group_start) - 1, dtype=np.int64)
    asking = np.zeros(0, dtype=np.bool_) if asking is None else asking
    over_platforms(_request_range, _request_chunks, group_start, balance, queued, queued_since, share, day,
         asking, asked)
    return asked


@numba.njit(cache=True)
def _share_range(first, last, group_start, balance, queued, gain, loss):
    """Platforms ``first .. last`` of :func:`share`."""
    for g in range(first, last):
        net = gain[g] - loss[g]
        start, end = group_start[g], group_start[g + 1]
        if net == 0 or end == start:
            continue
        total = np.int64(0)
        for i in range(start, end):
            total += balance[i]
        if total <= 0:
            continue
        view = np.zeros(end - start, dtype=np.int64)
        _split(view, balance[start:end], 0, end - start, abs(net), total, net < 0)
        for i in range(start, end):
            if net > 0:
                balance[i] += view[i - start]
            else:
                balance[i] -= view[i - start]
                if queued[i] > balance[i]:
                    queued[i] = balance[i]


@numba.njit(cache=True, parallel=True)
def _share_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _share_range(bounds[c], bounds[c + 1], *args)


def share(group_start, balance, queued, gain, loss):
    """Each platform's net gain (``gain - loss``, fen) shared among its positions pro rata balance.

    A net loss takes no position below zero, and a position's queued request is cut to what it
    still holds. Returns nothing: ``balance`` and ``queued`` change in place.
    """
    over_platforms(_share_range, _share_chunks, group_start, balance, queued, gain, loss)


@numba.njit(cache=True)
def _ask_deposit_settle_range(first, last, group_start, balance, queued, queued_since, lending,
                              share, rate, cash, paying, own_first, day, asked, added, paid, left,
                              idle):
    """Platforms ``first .. last`` of :func:`ask_deposit_settle`: one pass over a slice, then its queue."""
    for g in range(first, last):
        start, end = group_start[g], group_start[g + 1]
        s, r = share[g], rate[g]
        owed = np.int64(0)
        for i in range(start, end):
            if s > 0.0:  # the request (提现申请) of the free balance
                asked[g] += _ask(i, balance, queued, queued_since, s, day)
            if r > 0.0 and lending[i]:  # new money, on the balance before today's payment
                new = np.int64(math.floor(balance[i] * r))
                balance[i] += new
                added[g] += new
            owed += queued[i]
        budget = min(cash[g] + added[g], owed) if paying[g] else np.int64(0)
        if budget == owed:  # the usual day: everything asked is paid
            for i in range(start, end):
                if queued[i]:
                    if not lending[i]:
                        idle[g] += queued[i]
                    balance[i] -= queued[i]
                    queued[i] = 0
                    queued_since[i] = -1
        elif budget > 0:
            rest = budget
            if own_first[g]:  # each from its own cash, then from the others' (at par) oldest first
                own, idle[g] = pay_own_cash_first(start, end, balance, queued, queued_since,
                                                   cash[g] + added[g], lending)
                rest -= own
            if rest > 0:
                idle[g] += pay_oldest_first(start, end, balance, queued, queued_since, rest,
                                             lending)
        paid[g] = budget
        left[g] = owed - budget


@numba.njit(cache=True, parallel=True)
def _ask_deposit_settle_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _ask_deposit_settle_range(bounds[c], bounds[c + 1], *args)


def ask_deposit_settle(group_start, balance, queued, queued_since, lending, share, rate, cash,
                       paying, own_first, day):
    """A pooled day's requests, new money and payments, in one pass over each platform's positions.

    In place, position by position, as three passes would give them:

    1. each position asks back ``floor(free * share[p])`` (提现申请; ``free`` is the balance not
       yet asked for) and queues; the day asked is kept where nothing was queued before;
    2. each lending position (``lending`` True) adds ``floor(balance * rate[p])`` of new money;
    3. each paying platform's queue is paid from its investors' cash (``cash[p]`` plus the new
       money, fen): ``min(cash, queued)``; where that is short, on a platform ``own_first`` (all
       but fund pools) each request first from its position's own share of the cash (as a
       detailed investor's idle cash pays their own withdrawal), then the oldest request first
       from what is left (the others' cash buys the rest at par, as 债权转让 would), the requests
       of one day sharing it pro rata (a failed platform's collections, which everyone asked for
       on the day it failed, are shared pro rata) (提现). What is paid leaves the balances.

    Returns (asked, new money, paid, still queued, paid to positions that stopped reinvesting)
    per platform, fen.
    """
    n = len(group_start) - 1
    asked, added, paid, left, idle = (np.zeros(n, dtype=np.int64) for _ in range(5))
    over_platforms(_ask_deposit_settle_range, _ask_deposit_settle_chunks, group_start, balance,
                   queued, queued_since, lending, np.asarray(share, dtype=np.float64),
                   np.asarray(rate, dtype=np.float64), cash, paying, own_first, day, asked, added,
                   paid, left, idle)
    return asked, added, paid, left, idle


def settle(group_start, balance, queued, queued_since, cash, paying, lending, own_first):
    """Pay each paying platform's queue from its investors' ``cash`` (fen), in place (提现).

    :func:`ask_deposit_settle` with nobody asking and no new money. Returns (paid, still queued,
    paid to positions that stopped reinvesting) per platform, fen.
    """
    none = np.zeros(len(group_start) - 1)
    return ask_deposit_settle(group_start, balance, queued, queued_since, lending, none, none,
                              cash, paying, own_first, -1)[2:]


@numba.njit(cache=True)
def _credit_range(first, last, group_start, balance, lending, amount):
    """Platforms ``first .. last`` of :func:`credit`."""
    for g in range(first, last):
        x = amount[g]
        start, end = group_start[g], group_start[g + 1]
        if x <= 0 or end == start:
            continue
        weights = np.zeros(end - start, dtype=np.int64)
        total = np.int64(0)
        for i in range(start, end):
            if lending[i]:
                weights[i - start] = balance[i]
                total += balance[i]
        if total <= 0:
            continue
        parts = np.zeros(end - start, dtype=np.int64)
        _split(parts, weights, 0, end - start, x, total, False)
        for i in range(start, end):
            balance[i] += parts[i - start]


@numba.njit(cache=True, parallel=True)
def _credit_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _credit_range(bounds[c], bounds[c + 1], *args)


def credit(group_start, balance, lending, amount):
    """``amount[p]`` fen of new money to platform ``p``'s lending positions, pro rata their balance.

    Exact to the fen (the floors' remainder goes a fen at a time); a platform whose lending
    positions hold nothing must be given nothing. Returns nothing: ``balance`` changes in place.
    """
    over_platforms(_credit_range, _credit_chunks, group_start, balance, lending, amount)
