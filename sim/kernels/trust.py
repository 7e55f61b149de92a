"""Kernels of trust (:mod:`sim.runs.trust`): the daily update, its distribution, late notes."""

from __future__ import annotations

import numba
import numpy as np

from sim.kernels.positions import investors_in, over_investors, over_platforms


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


def update_position_trust(level, investor, balance, anchor, own_rate, mine, queued, queued_since,
                          shocked, hit, group_start, deciding, ran_day, last_ran, day, memory,
                          indptr, indices, degree, weights):
    """Move the trust of every position on the ``deciding`` pooled platforms by today's signals.

    The same formula as :func:`update_trust`, over positions (``level`` float32 per position,
    sorted by platform then investor, platform ``g``'s slice ``group_start[g] ..
    group_start[g + 1]``; ``anchor`` the investor's, copied per position so that it is read in
    order). An investor's own news today, per unit of their wealth, is ``own_rate[investor]``
    (:func:`own_news`); it moves every position of theirs that holds money (``mine``, per
    position, is scratch space; ``own_rate`` None: nobody heard any). ``shocked[g]`` (the news
    since the last update: events, 提现困难, sentiment) is taken first, as a detailed investor's
    trust takes a shock at once (:meth:`sim.runs.trust.Trust.shock`); ``hit[g]`` (the platform's
    disclosure) inside the update, as the dense kernel's. Herding reads the industry's network
    (``indptr``, ``indices``, ``degree`` per investor): a position that started to run in the last
    ``memory`` days (a platform's latest start: ``last_ran[g]``) pushes its investor's neighbours'
    positions on the same platform. ``weights`` = (recovery, delay, herding). Each platform
    touches only its own slice, so a large book runs in parallel chunks of platforms
    (:mod:`sim.kernels.positions`), the same bit for bit on any number of threads.
    """
    heard = own_rate is not None
    if heard:  # the investors' news in the order of the positions, apart from the update
        over_investors(_mine_range, _mine_chunks, len(own_rate), group_start, investor, balance,
                       own_rate, deciding, mine)
    recovery, delay_weight, herding_weight = weights  # as numbers: a parallel region takes no tuple
    over_platforms(_trust_range, _trust_chunks, group_start, level, investor, anchor, heard, mine,
                   queued, queued_since, shocked, hit, deciding, ran_day, last_ran, day, memory,
                   indptr, indices, degree, recovery, delay_weight, herding_weight)


def own_news(investor, balance, news_rate, group_start, deciding, wealth, own_rate):
    """Per investor, the news of their positions today per unit of ``wealth``, into ``own_rate``.

    ``news_rate[g]`` (the loss and late weights already applied, per fen of platform ``g``'s
    money) times the position's ``balance``, summed over the investor's positions in the order of
    the platforms, then divided by their wealth (fen). In ranges of investors
    (:func:`~sim.kernels.positions.over_investors`).
    """
    over_investors(_own_range, _own_chunks, len(own_rate), group_start, investor, balance,
                   news_rate, deciding, wealth, own_rate)


@numba.njit(cache=True)
def _own_range(low, high, group_start, investor, balance, news_rate, deciding, wealth, own_rate):
    """Investors ``low .. high`` of :func:`own_news`."""
    own_rate[low:high] = 0.0
    for g in range(group_start.shape[0] - 1):
        if deciding[g] and news_rate[g] > 0:
            first, last = investors_in(investor, group_start[g], group_start[g + 1], low, high)
            for i in range(first, last):
                own_rate[investor[i]] += news_rate[g] * balance[i]
    for j in range(low, high):
        own_rate[j] = own_rate[j] / wealth[j]


@numba.njit(cache=True, parallel=True)
def _own_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _own_range(bounds[c], bounds[c + 1], *args)


@numba.njit(cache=True)
def _mine_range(low, high, group_start, investor, balance, own_rate, deciding, mine):
    """Investors ``low .. high``: each position's investor's news, where it holds money."""
    for g in range(group_start.shape[0] - 1):
        if deciding[g]:
            first, last = investors_in(investor, group_start[g], group_start[g + 1], low, high)
            for i in range(first, last):
                mine[i] = own_rate[investor[i]] if balance[i] > 0 else 0.0


@numba.njit(cache=True, parallel=True)
def _mine_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _mine_range(bounds[c], bounds[c + 1], *args)


@numba.njit(cache=True)
def _trust_range(first, last, group_start, level, investor, anchor, heard, mine, queued,
                 queued_since, shocked, hit, deciding, ran_day, last_ran, day, memory, indptr,
                 indices, degree, recovery, delay_weight, herding_weight):
    """Platforms ``first .. last`` of :func:`update_position_trust`: the update, then herding."""
    for g in range(first, last):
        start, end = group_start[g], group_start[g + 1]
        if not deciding[g]:
            continue
        for i in range(start, end):
            since = queued_since[i]  # -1: nothing waiting
            delayed = since >= 0 and since < day and queued[i] > 0
            t = level[i]
            if shocked[g] > 0:
                t = np.float32(min(1.0, max(0.0, t - shocked[g])))
            level[i] = _moved(t, anchor[i], mine[i] if heard else 0.0, delayed, hit[g], recovery,
                              delay_weight)
        if herding_weight <= 0 or last_ran[g] < day - memory:
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


def decide_positions(level, lines, given, group_start, deciding, lending, running, ran_day,
                     last_ran, day, stopping, ran):
    """Apply today's decisions to the positions on the ``deciding`` pooled platforms.

    The decisions are either ``lines`` (per position: run below the first, stop reinvesting below
    the second: a rule of lines in trust, :meth:`sim.runs.rules.DecisionRule.lines`) read against
    ``level``, or ``given`` (stop, run: bool per position, from a rule's ``decide``). A position
    that stops no longer lends (``lending`` False) until it is above its line again; one that
    starts to run gets ``ran_day`` = ``day`` (and its platform ``last_ran``); ``running`` is
    kept. ``stopping`` (stopped, not running) and ``ran`` (running) are today's askers, False off
    the deciding platforms. Returns per platform: positions that stopped today, that resumed, that
    are stopping, that are running (int64, (platforms, 4)).
    """
    counts = np.zeros((len(group_start) - 1, 4), dtype=np.int64)
    by_lines = lines is not None
    run_line, stop_line = lines if by_lines else (level, level)
    stop_given, run_given = given if not by_lines else (lending, lending)
    over_platforms(_decide_range, _decide_chunks, group_start, level, by_lines, run_line,
                   stop_line, stop_given, run_given, deciding, lending, running, ran_day, last_ran,
                   day, stopping, ran, counts)
    return counts


@numba.njit(cache=True)
def _decide_range(first, last, group_start, level, by_lines, run_line, stop_line, stop_given,
                  run_given, deciding, lending, running, ran_day, last_ran, day, stopping, ran,
                  counts):
    """Platforms ``first .. last`` of :func:`decide_positions`."""
    for g in range(first, last):
        start, end = group_start[g], group_start[g + 1]
        if not deciding[g]:
            stopping[start:end] = False
            ran[start:end] = False
            continue
        stopped = resumed = asking = runs = 0
        for i in range(start, end):
            if by_lines:
                stop, run = level[i] < stop_line[i], level[i] < run_line[i]
            else:
                stop, run = stop_given[i], run_given[i]
            stopped += lending[i] and stop
            resumed += not lending[i] and not stop
            lending[i] = not stop
            if run and not running[i]:
                ran_day[i] = day
                last_ran[g] = day
            running[i] = run
            stopping[i] = stop and not run
            ran[i] = run
            asking += stop and not run
            runs += run
        counts[g, 0], counts[g, 1], counts[g, 2], counts[g, 3] = stopped, resumed, asking, runs


@numba.njit(cache=True, parallel=True)
def _decide_chunks(bounds, *args):
    for c in numba.prange(len(bounds) - 1):
        _decide_range(bounds[c], bounds[c + 1], *args)


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
