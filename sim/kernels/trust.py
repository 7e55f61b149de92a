"""Kernels of trust (:mod:`sim.runs.trust`): the daily update, its distribution, late notes."""

from __future__ import annotations

import numba
import numpy as np

from sim.kernels.positions import over_platforms


@numba.njit(cache=True)
def update_trust(level, anchor, signals, day, memory, indptr, indices, degree, weights):
    """Move every investor's trust in every platform by today's signals (docs/runs.md).

    ``level`` (investors, platforms) float32 is updated in place: back towards ``anchor`` by the
    recovery rate; less the investor's own news (principal lost since ``signals.lost_seen`` and
    ``signals.late_fen``, per unit of ``signals.wealth_fen``) on platforms they use; less the delay
    weight where a withdrawal of theirs has waited since before ``day``; less the platform's
    ``signals.hit``; then less the herding weight x the share of neighbours (symmetric CSR
    ``indptr``, ``indices``, with ``degree``) who started to run in the last ``memory`` days, pushed
    from the runners so that the cost is their links, not the network's. Trust stays in [0, 1].
    ``weights`` = (recovery, loss, late, delay, herding).
    """
    recovery, loss_weight, late_weight, delay_weight, herding_weight = weights
    # the loop reads the signals as locals, not through the named tuple (as servicing does)
    principal_lost, lost_seen, late = signals.principal_lost_fen, signals.lost_seen, signals.late_fen
    wealth, weight, hit = signals.wealth_fen, signals.weight, signals.hit
    queued, queued_since, ran_day = signals.queued_fen, signals.queued_since, signals.ran_day
    n, n_platforms = level.shape
    for i in range(n):
        lost = principal_lost[i] - lost_seen[i]
        own = 0.0
        if lost != 0 or late[i] != 0:  # most investors heard nothing of their own
            lost_seen[i] = principal_lost[i]
            own = (loss_weight * lost + late_weight * late[i]) / wealth[i]
        for p in range(n_platforms):
            delayed = queued[i, p] > 0 and queued_since[i, p] < day
            level[i, p] = _moved(level[i, p], anchor[i], own if weight[i, p] > 0 else 0.0,
                                 delayed, hit[p], recovery, delay_weight)
    if herding_weight <= 0:
        return
    for j in range(n):
        for p in range(n_platforms):
            if ran_day[j, p] < day - memory:
                continue
            for e in range(indptr[j], indptr[j + 1]):
                i = indices[e]
                level[i, p] = _herded(level[i, p], herding_weight, degree[i])


@numba.njit(cache=True, inline="always")
def _moved(t, anchor, own, delayed, hit, recovery, delay_weight):
    """One holding's trust after today's news, before herding: the one formula of both records.

    Back towards the investor's ``anchor`` by ``recovery`` of the gap, less their ``own`` news,
    less ``delay_weight`` where a withdrawal of theirs has waited since before today, less the
    platform's ``hit``; within [0, 1].
    """
    moved = t + recovery * (anchor - t)  # a new name: ``t`` stays float32, as the arrays are
    moved -= own
    if delayed:
        moved -= delay_weight
    moved -= hit
    return min(1.0, max(0.0, moved))


@numba.njit(cache=True, inline="always")
def _herded(t, herding_weight, degree):
    """A holding's trust after one neighbour on the same platform started to run."""
    return max(0.0, t - herding_weight / degree)


def update_position_trust(level, investor, balance, anchor, wealth, news_rate, queued,
                          queued_since, shocked, hit, group_start, deciding, ran_day, day, memory,
                          indptr, indices, degree, weights):
    """Move the trust of every position on the ``deciding`` pooled platforms by today's signals.

    The same formula as :func:`update_trust`, over positions (``level`` float32 per position,
    sorted by platform then investor, platform ``g``'s slice ``group_start[g] ..
    group_start[g + 1]``): an investor's own news is what their positions lost and saw turn late
    today, ``news_rate[g]`` (the loss and late weights already applied, per fen of the platform's
    money) times the position's ``balance``, summed over their positions and divided by their
    ``wealth``; it moves every position of theirs that holds money. ``shocked[g]`` (the news since
    the last update: events, 提现困难, sentiment) is taken first, as a detailed investor's trust takes
    a shock at once (:meth:`sim.runs.trust.Trust.shock`); ``hit[g]`` (the platform's disclosure)
    inside the update, as the dense kernel's. Herding reads the industry's network (``indptr``,
    ``indices``, ``degree`` per investor): a position that started to run in the last ``memory``
    days pushes its investor's neighbours' positions on the same platform. ``weights`` =
    (recovery, delay, herding). The own news are summed serially; the update and herding touch
    only a platform's own slice, so a large book runs in parallel chunks of platforms
    (:mod:`sim.kernels.positions`), the same bit for bit on any number of threads.
    """
    own = _own_news(investor, balance, news_rate, group_start, deciding, anchor.shape[0])
    recovery, delay_weight, herding_weight = weights  # as numbers: a parallel region takes no tuple
    over_platforms(_trust_range, _trust_chunks, group_start, level, investor, balance, anchor,
                   wealth, own, queued, queued_since, shocked, hit, deciding, ran_day, day, memory,
                   indptr, indices, degree, recovery, delay_weight, herding_weight)


@numba.njit(cache=True)
def _own_news(investor, balance, news_rate, group_start, deciding, investors):
    """Per investor, the news of their positions today: ``news_rate`` × balance, summed (fen)."""
    own = np.zeros(investors)
    for g in range(group_start.shape[0] - 1):
        if deciding[g] and news_rate[g] > 0:
            for i in range(group_start[g], group_start[g + 1]):
                own[investor[i]] += news_rate[g] * balance[i]
    return own


@numba.njit(cache=True)
def _trust_range(first, last, group_start, level, investor, balance, anchor, wealth, own, queued,
                 queued_since, shocked, hit, deciding, ran_day, day, memory, indptr, indices,
                 degree, recovery, delay_weight, herding_weight):
    """Platforms ``first .. last`` of :func:`update_position_trust`: the update, then herding."""
    for g in range(first, last):
        start, end = group_start[g], group_start[g + 1]
        if not deciding[g]:
            continue
        for i in range(start, end):
            j = investor[i]
            mine = own[j] / wealth[j] if balance[i] > 0 else 0.0
            delayed = queued[i] > 0 and queued_since[i] < day
            t = level[i]
            if shocked[g] > 0:
                t = np.float32(min(1.0, max(0.0, t - shocked[g])))
            level[i] = _moved(t, anchor[j], mine, delayed, hit[g], recovery, delay_weight)
        if herding_weight <= 0:
            continue
        for i in range(start, end):
            if ran_day[i] < day - memory:
                continue
            for e in range(indptr[investor[i]], indptr[investor[i] + 1]):
                k = indices[e]
                at = start + np.searchsorted(investor[start:end], k)
                if at < end and investor[at] == k:
                    level[at] = _herded(level[at], herding_weight, degree[k])


@numba.njit(cache=True, parallel=True)
def _trust_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _trust_range(bounds[c], bounds[c + 1], *args)


@numba.njit(cache=True)
def trust_distribution(level, weight, active, bins, quantiles):
    """Per platform, the mean and the ``quantiles`` of trust of its ``active`` investors.

    An investor counts on a platform where their ``weight`` (share of deposits) is positive.

    The quantiles are read from a histogram of ``bins`` equal bins (each reported at its middle), so
    they are exact to ``1 / bins``. Returns a (platforms, 1 + len(quantiles)) array, NaN where no
    investor is counted.
    """
    n, n_platforms = level.shape
    counts = np.zeros((n_platforms, bins), dtype=np.int64)
    sums = np.zeros(n_platforms)
    members = np.zeros(n_platforms, dtype=np.int64)
    for i in range(n):
        for p in range(n_platforms):
            if active[i] and weight[i, p] > 0:
                t = level[i, p]
                counts[p, min(int(t * bins), bins - 1)] += 1
                sums[p] += t
                members[p] += 1
    result = np.full((n_platforms, 1 + quantiles.shape[0]), np.nan)
    for p in range(n_platforms):
        if members[p] == 0:
            continue
        result[p, 0] = sums[p] / members[p]
        seen, b = 0, 0
        for q in range(quantiles.shape[0]):
            while b < bins - 1 and seen + counts[p, b] < quantiles[q] * members[p]:
                seen += counts[p, b]
                b += 1
            result[p, 1 + q] = (b + 0.5) / bins
    return result


@numba.njit(cache=True)
def late_notes(starts, ends, day, first_missed_day, note_start, note_end, note_investor,
               note_balance, late_fen):
    """Add to ``late_fen[investor]`` the balance of their notes on loans that missed today.

    Only loans due today can miss: rows ``starts[r] .. ends[r]`` (:meth:`LoanBook.due_ranges`).
    """
    for r in range(starts.shape[0]):
        for row in range(starts[r], ends[r]):
            if first_missed_day[row] != day:
                continue
            for j in range(note_start[row], note_end[row]):
                late_fen[note_investor[j]] += note_balance[j]
