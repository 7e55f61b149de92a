"""Sizing by root-finding: when a layer's path depends on its own size.

The one-run method (:mod:`sim.reserve.paths`) reads, from one path run with a float that keeps the
layer from running dry, the size ``g`` the layer would have needed on that path. That is the answer
when the path does not depend on the size. It does when the layer's rules read its balance (a top-up
to a target coverage, a minimum, a cap) or its capital decides what it covers (a guarantor's
leverage limit). Then ``g`` depends on the size ``x`` the path was run with, and the size the path
needs is the smallest ``x`` with ``g(x) <= x``: the layer, started at ``x``, never runs short.

Each evaluation of ``g(x)`` runs the path again at ``x``, with the same seed and the same macro
shocks (common random numbers: sizes are compared on the same borrowers and the same economy), and
with the float, whose money the rules do not see: up to the first day the layer would have run
short, the run is the run at ``x``, so ``g(x) <= x`` says exactly whether ``x`` is enough.

Assumed: ``g`` does not decrease with ``x`` (more size means fewer top-ups, more loans a guarantor
covers), and more size never makes short what less left enough. Then one run at ``x`` brackets the
answer: if ``x`` is short, so is every size below ``g(x)``; if it is enough, so is ``g(x)``. The
search starts at the scenario's own value and steps to ``g`` (the one-run answer); where the path
does not depend on the size ``g(g(x)) = g(x)`` and two runs end it with exactly the one-run answer.
Otherwise it takes secant steps on ``h(x) = g(x) - x`` inside the bracket (bisecting where a step
falls outside; doubling while nothing is enough and the shortfall grows with the size, as a
guarantor's does when its capital lets it cover more) until the bracket is within the tolerance.
The answer is its upper end, always a value run and found enough; where a run contradicts the
assumption (``g`` fell as ``x`` grew) the bracket is rebuilt from the values run alone.

Unknowns: a layer's size (a reserve's ``initial_cny``, a guarantor's ``capital_cny``), a reserve's
``principal_share`` or its ``fee_share``; ``g`` is the one-run answer for that unknown.

A search is a :class:`Search` that can stop after any run and go on later: the study
(:func:`sim.reserve.study.run_paths`) runs it in rounds and, for a size, only goes on with the
paths whose bracket still meets the band around a quantile asked for (:func:`refine_band`); the
others keep a bound on their side of it (:func:`path_value`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

MAX_RUNS = 16  # evaluations of g on one path, the first (at the scenario's value) included


@dataclass(frozen=True)
class Unknown:
    """What a path solves for by root-finding.

    ``name``: ``"size"``, ``"principal_share"`` or ``"fee_share"``. ``key``: the scenario key set
    for each run (``platforms.0.guarantee.layers.1.initial_cny``). ``answer``: the path record's
    one-run answer for it (``required_reserve``, ``required_rate``, ``required_fee_share``).
    ``start``: the scenario's value. ``unit_fen``: 100 for a size given in CNY (the records' unit),
    None for a share. ``tolerance``: relative width of the final bracket. ``largest``: the most
    the scenario key allows.
    """

    name: str
    key: str
    answer: str
    start: float
    unit_fen: int | None = None
    tolerance: float = 0.005
    largest: float = 1e12  # the most its scenario key allows (beyond it: no value is enough)

    def close_enough(self, low: float, high: float) -> bool:
        """Whether the bracket ``(low, high]`` is narrow enough to stop."""
        floor = 1000.0 if self.unit_fen else 1e-5  # 1,000 CNY, or 0.001 percentage points
        return math.isfinite(high) and high - low <= max(self.tolerance * high, floor)


@dataclass
class Search:
    """One path's search, carried from round to round: the values run and the bracket.

    ``short_below``: every value below it is short. ``enough``: a value found (or, under the
    monotone assumption, inferred) enough; the answer lies in ``(short_below, enough]``.
    ``tried``: every value run, with ``h = g - x``. ``next_value``: the one to run next.
    """

    next_value: float
    short_below: float = 0.0
    enough: float = math.inf
    tried: list = field(default_factory=list)
    released: list = field(default_factory=list)  # what a cap sent back, each run (CNY)
    inferring: bool = True  # bracket by g (the monotone assumption) until a run contradicts it
    runs: int = 0
    done: bool = False
    converged: bool = False
    first_short: bool | None = None  # whether the first value run (the scenario's) was short

    def record(self, g: float, unknown: Unknown, released: float = 0.0) -> None:
        """Take in the run at ``next_value``: ``g``, its one-run answer; choose the next.

        ``released``: what the layer's cap sent back to the platform in that run (CNY).
        """
        x = self.next_value
        self.runs += 1
        self.released.append(released)
        if self.first_short is None:
            self.first_short = not g <= x
        if not math.isfinite(g):  # no value of it is enough on this path (e.g. short on day 0)
            self.short_below, self.enough, self.converged, self.done = (math.inf, math.inf,
                                                                        False, True)
            return
        self.tried.append((x, g - x))
        if g <= x:
            self.enough = min(self.enough, g if self.inferring else x)
        else:
            self.short_below = max(self.short_below, g if self.inferring else x)
        if self.enough < self.short_below:  # a run contradicts the monotone assumption here
            self.inferring = False
            self.short_below = max([v for v, h in self.tried if h > 0], default=0.0)
            self.enough = min([v for v, h in self.tried if h <= 0], default=math.inf)
        if self._size_does_not_matter():
            self.short_below, self.enough, self.converged, self.done = (math.inf, math.inf,
                                                                        False, True)
            return
        run = [v for v, _ in self.tried]
        self.converged = (self.enough <= self.short_below
                          or unknown.close_enough(self.short_below, self.enough))
        if self.converged and self.enough in run:
            self.done = True  # the answer is a value run and found enough
        elif self.runs >= MAX_RUNS:
            self.converged, self.done = False, True
        else:
            self._choose(unknown)

    def _size_does_not_matter(self) -> bool:
        """A cap sent the extra size back and the shortfall stayed: no size is enough here.

        The last two runs were short by the same amount, and the larger one's cap
        (``cap_coverage``) released to the fen what it started with beyond the smaller: the
        layer's balance is the same whatever it starts with from then on.
        """
        if math.isfinite(self.enough) or len(self.tried) < 2:
            return False
        (x0, h0), (x1, h1) = self.tried[-2], self.tried[-1]
        extra_released = self.released[-1] - self.released[-2]
        return (h1 > 0 and x1 > x0 and abs(h1 - h0) < 0.005
                and abs(extra_released - (x1 - x0)) < 0.005)

    def _choose(self, unknown: Unknown) -> None:
        x = self.enough if self.converged else _next_value(self.tried, self.short_below,
                                                           self.enough, unknown)
        if x > unknown.largest:  # the most the scenario allows, run if not yet
            if any(v >= unknown.largest for v, _ in self.tried):
                self.short_below, self.converged, self.done = math.inf, False, True
                return
            x = unknown.largest
        self.next_value = x

    def value(self) -> float:
        """The path's answer: the bracket's upper end (a value found enough)."""
        return self.enough


def solve_path(task, run_once) -> dict[str, Any]:
    """Root-find the path's requirement for ``task.solve``; ``run_once(task)`` runs the path once.

    Without ``task.search`` the search begins: the first run is at the scenario's value, and the
    record returned is that run's (its series describe the scheme as the scenario has it) with the
    unknown's answer replaced by the search's. With it, the search goes on from where the last
    round left it and the record holds only the answer. ``task.steps`` runs at most (None: until
    done). Added: ``solver_search`` (the :class:`Search`), ``solver_runs``, ``solver_low`` (every
    value below it is short), ``solver_converged``.
    """
    unknown = task.solve
    search, record, runs = task.search, {}, 0
    if search is None:
        search = Search(next_value=unknown.start)
        record = dict(run_once(_at(task, unknown, unknown.start)))
        search.record(record[unknown.answer], unknown, record.get("released", 0.0))
        runs = 1
    else:
        search = dataclasses.replace(search, tried=list(search.tried))
    while not search.done and (task.steps is None or runs < task.steps):
        again = run_once(_at(task, unknown, search.next_value))
        search.record(again[unknown.answer], unknown, again.get("released", 0.0))
        runs += 1
    record.update({unknown.answer: search.value(), "solver_search": search,
                   "solver_runs": search.runs,
                   "solver_low": min(search.short_below, search.enough),
                   "solver_converged": bool(search.converged and search.done)})
    return record


def _next_value(tried: list, short_below: float, enough: float, unknown: Unknown) -> float:
    """The next value to run, from the values run so far and the bracket."""
    x_last, h_last = tried[-1]
    if len(tried) >= 2:
        (x0, h0), (x1, h1) = tried[-2], tried[-1]
        step = x1 - h1 * (x1 - x0) / (h1 - h0) if h1 != h0 else math.nan
    else:
        step = math.nan
    if not math.isfinite(enough):  # nothing found enough yet: up to the lower end, or past it
        if len(tried) >= 2 and h1 <= h0 / 2:  # the fixed-point step g(x) is closing in: again
            return short_below
        if len(tried) >= 2 and h1 < h0 and math.isfinite(step):  # it shrinks slowly: aim at zero
            return min(max(short_below, step), max(short_below, 4 * x_last))
        if len(tried) >= 2:  # it does not (a guarantor covers more as its capital grows): double
            return max(short_below, 2 * x_last)
        return short_below if short_below > x_last else x_last + 2 * h_last
    run = [v for v, _ in tried]
    if not any(h > 0 for _, h in tried) and 0.0 not in run:
        return 0.0  # everything run is enough: whether nothing is (the ordinary path) decides most
    if enough not in run:
        return enough  # the answer inferred from a run above it: run it
    if x_last == enough and h_last == 0:  # g is flat there (g(x) = x): just below it
        return max(enough * (1 - 2 * unknown.tolerance), short_below)
    if not (math.isfinite(step) and short_below < step < enough):
        step = (short_below + enough) / 2
    width = enough - short_below  # no creeping: at least a tenth of the bracket from either end
    return min(max(step, short_below + width / 10), enough - width / 10)


def _at(task, unknown: Unknown, value: float):
    """The task run at ``value`` of the unknown (same seed, same shocks)."""
    changes: dict[str, Any] = {"overrides": {**task.overrides, unknown.key: float(value)}}
    if unknown.name == "size" and unknown.key.endswith("initial_cny"):
        changes["initial_reserve_fen"] = int(round(value * 100))
    elif unknown.name == "principal_share":
        changes["contribution_rate"] = value
    elif unknown.name == "fee_share":
        changes["fee_share"] = value
    return dataclasses.replace(task, solve=None, search=None, **changes)


def path_value(search: Search) -> float:
    """A path's value for the estimates: its answer, or where refinement stopped, a bound.

    A path left undecided by :func:`refine_band` has a bracket that meets none of the band's
    intervals, so every value in it is on the same side of each: its upper end where it is
    finite, else its lower end.
    """
    if search.done or math.isfinite(search.enough):
        return search.enough
    return search.short_below


def undecided(search: Search, band: list[tuple[float, float]]) -> bool:
    """Whether the path's bracket ``(short_below, enough]`` still meets an interval of the band."""
    return not search.done and any(search.short_below < high and search.enough >= low
                                   for low, high in band)


def refine_band(searches: list[Search], weights, confidence: list[float],
                resamples: int = 200) -> list[tuple[float, float]]:
    """The sizes that can still move a quantile asked for: one interval for each confidence.

    Centred on the weighted quantile of the paths' current values (:func:`path_value`) and
    widened by ``max(10 %, 4 standard errors)`` of it (a bootstrap over the paths), so that the
    bootstrap's resamples, which the study's errors come from, land on solved paths too. When no
    path's bracket meets the band, every path's side of each size in it is known, so the
    quantile, at the band's centre, is the one solving every path would give.
    """
    import numpy as np

    from sim.reserve.analysis import weighted_quantile

    weights = np.asarray(weights, dtype=float)
    values = np.array([path_value(s) for s in searches])
    rng = np.random.default_rng(0)
    rows = [rng.integers(0, len(values), len(values)) for _ in range(resamples)]
    band = []
    for level in confidence:
        middle = weighted_quantile(values, weights, level)
        if not math.isfinite(middle):  # paths no size is enough for weigh more than 1 - level
            continue
        draws = np.array([weighted_quantile(values[r], weights[r], level) for r in rows])
        finite = draws[np.isfinite(draws)]
        spread = 4 * float(np.std(finite)) / middle if middle > 0 and len(finite) > 1 else 0.0
        margin = max(0.10, spread)
        band.append((middle * max(0.0, 1 - margin), middle * (1 + margin)))
    return band
