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
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

MAX_RUNS = 16  # evaluations of g on one path, the first (at the scenario's value) included


@dataclass(frozen=True)
class Unknown:
    """What a path solves for by root-finding.

    ``name``: ``"size"``, ``"principal_share"`` or ``"fee_share"``. ``key``: the scenario key set
    for each run (``platforms.0.guarantee.layers.1.initial_cny``). ``answer``: the path record's
    one-run answer for it (``required_reserve``, ``required_rate``, ``required_fee_share``).
    ``start``: the scenario's value. ``unit_fen``: 100 for a size given in CNY (the records' unit),
    None for a share. ``tolerance``: relative width of the final bracket.
    """

    name: str
    key: str
    answer: str
    start: float
    unit_fen: int | None = None
    tolerance: float = 0.005

    def close_enough(self, low: float, high: float) -> bool:
        """Whether the bracket ``(low, high]`` is narrow enough to stop."""
        floor = 1000.0 if self.unit_fen else 1e-5  # 1,000 CNY, or 0.001 percentage points
        return math.isfinite(high) and high - low <= max(self.tolerance * high, floor)


def solve_path(task, run_once) -> dict[str, Any]:
    """Root-find the path's requirement for ``task.solve``; ``run_once(task)`` runs the path once.

    Returns the record of the first run (at the scenario's value: its series describe the scheme as
    the scenario has it) with the unknown's answer replaced by the root, and ``solver_runs``,
    ``solver_low`` (every value below it is short) and ``solver_converged`` added.
    """
    unknown = task.solve
    first = run_once(_at(task, unknown, unknown.start))
    short_below, enough = 0.0, math.inf  # the bracket: short below the first, enough at the second
    tried: list[tuple[float, float]] = []  # (x, h(x)), every value run
    inferring = True  # bracket by g (the monotone assumption) until a run contradicts it
    x, g = unknown.start, first[unknown.answer]
    runs = 1
    while True:
        if not math.isfinite(g):  # no value of it is enough on this path (e.g. short on day 0)
            short_below, enough, converged = math.inf, math.inf, False
            break
        tried.append((x, g - x))
        if g <= x:
            enough = min(enough, g if inferring else x)
        else:
            short_below = max(short_below, g if inferring else x)
        if enough < short_below or (enough == short_below and g > x):  # g is not monotone here
            inferring = False
            short_below = max([v for v, h in tried if h > 0], default=0.0)
            enough = min([v for v, h in tried if h <= 0], default=math.inf)
        converged = enough <= short_below or unknown.close_enough(short_below, enough)
        if converged and any(v == enough for v, _ in tried):
            break  # the answer is a value run and found enough
        if runs >= MAX_RUNS:
            converged = False
            break
        x = enough if converged else _next_value(tried, short_below, enough, unknown)
        g = run_once(_at(task, unknown, x))[unknown.answer]
        runs += 1
    record = dict(first)
    record[unknown.answer] = enough
    record.update(solver_runs=runs, solver_low=min(short_below, enough),
                  solver_converged=bool(converged))
    return record


def _next_value(tried: list, short_below: float, enough: float, unknown: Unknown) -> float:
    """The next value to run: a secant step on ``h`` kept inside the bracket, else its middle."""
    if len(tried) >= 2:
        (x0, h0), (x1, h1) = tried[-2], tried[-1]
        step = x1 - h1 * (x1 - x0) / (h1 - h0) if h1 != h0 else math.nan
    else:
        step = math.nan
    if not math.isfinite(enough):  # nothing found enough yet: up to the lower end, or past it
        x, h = tried[-1]
        if len(tried) >= 2 and h1 < h0 and math.isfinite(step):
            return max(short_below, step)  # the shortfall shrinks as the size grows: aim at zero
        if len(tried) >= 2:  # it does not (a guarantor covers more as its capital grows): double
            return max(short_below, 2 * x)
        return short_below if short_below > x else x + 2 * h
    if short_below == 0.0 and not any(h > 0 for _, h in tried):  # only enough so far: try lower
        return max(enough * (1 - 2 * unknown.tolerance), 0.0) if not (
            math.isfinite(step) and 0 <= step < enough) else step
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
    return dataclasses.replace(task, solve=None, **changes)
