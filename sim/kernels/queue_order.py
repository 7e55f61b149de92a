"""The order in which a pooled platform's queue is paid when its cash is short (提现排队).

:func:`pay_own_cash_first`: each request from its position's own share of the cash, as a detailed
investor's idle cash pays their own withdrawal; :func:`pay_oldest_first`: what is left by the day
asked, the requests of one day pro rata. Used by :func:`sim.kernels.positions.ask_deposit_settle`.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def pay_own_cash_first(start, end, balance, queued, queued_since, cash, lending):
    """Pay each request of positions ``start .. end`` from its own share of ``cash`` (fen).

    A position holds the platform's cash pro rata its balance: what that share covers of its
    request is paid, as a detailed investor's idle cash pays their own withdrawal. Returns (what
    was paid, what of it went to positions that stopped reinvesting).
    """
    total = np.int64(0)
    for i in range(start, end):
        total += balance[i]
    paid, idle = np.int64(0), np.int64(0)
    if total <= 0:
        return paid, idle
    for i in range(start, end):
        if queued[i] > 0:
            part = min(queued[i], np.int64(math.floor(balance[i] * (cash / total))))
            if part > 0:
                balance[i] -= part
                queued[i] -= part
                paid += part
                if not lending[i]:
                    idle += part
                if queued[i] == 0:
                    queued_since[i] = -1
    return paid, idle


@numba.njit(cache=True)
def pay_oldest_first(start, end, balance, queued, queued_since, budget, lending):
    """Pay ``budget`` (< what is queued) over positions ``start .. end``: by day asked, a day pro rata.

    Returns what went to positions that stopped reinvesting (fen).
    """
    waiting = np.empty(end - start, dtype=np.int64)
    n = 0
    for i in range(start, end):
        if queued[i] > 0:
            waiting[n] = i
            n += 1
    waiting = waiting[:n]
    order = waiting[np.argsort(queued_since[waiting], kind="mergesort")]
    parts = np.zeros(n, dtype=np.int64)
    left = budget
    k = 0
    while k < n and left > 0:
        day = queued_since[order[k]]
        j = k
        owed = np.int64(0)
        while j < n and queued_since[order[j]] == day:
            owed += queued[order[j]]
            j += 1
        if left >= owed:
            for m in range(k, j):
                parts[m] = queued[order[m]]
            left -= owed
        else:
            remaining = left
            for m in range(k, j):
                part = np.int64(math.floor(left * (queued[order[m]] / owed)))
                parts[m] = part
                remaining -= part
            m = k
            while remaining > 0:  # the fen the floors leave, one each, within each request
                if parts[m] < queued[order[m]]:
                    parts[m] += 1
                    remaining -= 1
                m = k if m + 1 == j else m + 1
            left = 0
        k = j
    idle = np.int64(0)
    for m in range(n):
        i = order[m]
        balance[i] -= parts[m]
        queued[i] -= parts[m]
        if not lending[i]:
            idle += parts[m]
        if queued[i] == 0:
            queued_since[i] = -1
    return idle
