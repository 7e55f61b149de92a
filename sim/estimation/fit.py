"""Simulated method of moments with an emulator: the search, the estimate, its uncertainty.

A run is slow (seconds) and noisy, so the distance between simulated and observed moments is not
minimised run by run. Instead (docs/industry.md):

1. a Latin hypercube of design points in the parameters' bounds (and the start), each run with the
   same ``replications`` seeds (common random numbers: the points differ by their parameters only);
2. each moment's mean over the replications is fitted, over the design, by a quadratic in the
   parameters scaled to 0-1 (the *emulator*; its R² is reported);
3. optionally (``refine_points``) a second design in a box of 30 % of each parameter's bounds
   around the first estimate, the emulator fitted again on the points inside it, and searched
   there only: a quadratic is close over a small box, not over the whole range;
4. the estimate minimises ``r' W r`` (``r``: emulated less observed moments) over the bounds
   (L-BFGS-B from the best design point, the start and the centre), with the full weight matrix
   ``W = (D + (1 + 1 / replications) S)^-1``: ``D`` the data's errors² (diagonal), ``S`` the
   covariance of one run's moments (the data are one history of a random world, and moments of
   one run move together; :func:`sim.estimation.weights.moment_covariance`), from the design's
   runs for the first estimate and from the refinement's, near it, for the second (a run's spread
   differs across the bounds);
5. its uncertainty: the usual SMM sandwich, ``(J' W J)^-1`` with this matrix (J: the
   emulator's slopes at the estimate), with a weak prior on each parameter, centred on its start
   and half the bounds wide (it is in the distance of step 4 too); and the 95 % interval from the
   *profile* of the distance (:func:`profile_intervals`): the values of a parameter at which the
   distance, minimised over the others, rises by at most 3.84 (chi-squared, one degree of
   freedom). The profile stays inside the bounds and is one-sided where the estimate sits on one,
   where the sandwich's symmetric ``± 1.96 se`` is not an interval. A parameter whose interval
   covers half its bounds or more is one the moments cannot pin down (the prior holds it near its
   start), and is said so. The spread of the estimates made from each replication alone is the
   seeds' share of the uncertainty.

Everything is deterministic: the design from the seed, the runs from their seeds, the fits and the
search from the numbers. The same seed gives the same estimates.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.optimize import minimize

PRIOR_WIDTH = 0.5  # the weak prior's standard deviation, as a share of a parameter's bounds
PINNED = 0.5       # a 95 % interval narrower than this share of the bounds: pinned down
CHI2_95 = 3.841458820694124  # the distance's rise at a 95 % profile interval (one parameter)
PROFILE_POINTS = 81  # values of a parameter its profile is computed at, across the search's box
REFINE_HALF_WIDTH = 0.15  # the refinement's box: 15 % of the bounds either side of the estimate
IDENTIFIED_Z = 2.0  # a direction the data see moves the fitted moments this many errors or more


def design(points: int, dimensions: int, seed: int) -> np.ndarray:
    """``points`` rows of a Latin hypercube in ``[0, 1] ** dimensions`` (from ``seed``)."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=dimensions, seed=np.random.default_rng([seed, 27])).random(points)


def features(x: np.ndarray) -> np.ndarray:
    """The quadratic's columns: 1, each x, each product of two (squares included)."""
    x = np.atleast_2d(x)
    pairs = itertools.combinations_with_replacement(range(x.shape[1]), 2)
    return np.column_stack([np.ones(len(x)), x, *[x[:, i] * x[:, j] for i, j in pairs]])


class Emulator:
    """Each moment as a quadratic of the scaled parameters, fitted by least squares."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        a = features(x)
        self.coefficients = np.linalg.lstsq(a, y, rcond=None)[0]
        fitted = a @ self.coefficients
        spread = ((y - y.mean(axis=0)) ** 2).sum(axis=0)
        self.r2 = 1 - ((y - fitted) ** 2).sum(axis=0) / np.where(spread > 0, spread, 1.0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """(points, moments) emulated at ``x`` (scaled parameters)."""
        return features(x) @ self.coefficients

    def slopes(self, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
        """(moments, parameters) derivatives at ``x`` (central differences: exact for a quadratic)."""
        columns = []
        for j in range(len(x)):
            up, down = x.copy(), x.copy()
            up[j] += step
            down[j] -= step
            columns.append((self(up)[0] - self(down)[0]) / (2 * step))
        return np.column_stack(columns)


def as_matrix(weight: np.ndarray) -> np.ndarray:
    """The weight matrix: ``weight`` itself, or the diagonal matrix of a vector of weights."""
    weight = np.asarray(weight, dtype=float)
    return np.diag(weight) if weight.ndim == 1 else weight


def weighted_squares(residuals: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``r' W r`` for each row ``r`` of ``residuals`` (or the one vector)."""
    w = as_matrix(weight)
    return np.einsum("...i,ij,...j->...", residuals, w, residuals)


def search(emulator: Emulator, target: np.ndarray, weight: np.ndarray,
           starts: list[np.ndarray], prior: np.ndarray,
           box: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, float]:
    """The scaled parameters in ``[0, 1]`` that minimise the weighted distance; and the distance.

    The distance includes the weak prior: ``((x - prior) / PRIOR_WIDTH) ** 2`` summed, so that a
    parameter the moments do not move stays at its start instead of wandering along a ridge.
    """
    distance = distance_of(emulator, target, weight, prior)
    low, high = box if box is not None else (np.zeros(len(prior)), np.ones(len(prior)))
    best = None
    for start in starts:
        found = minimize(distance, np.clip(start, low, high), method="L-BFGS-B",
                         bounds=list(zip(low, high, strict=True)))
        if best is None or found.fun < best.fun - 1e-12:
            best = found
    return np.clip(best.x, low, high), float(best.fun)


def distance_of(emulator: Emulator, target: np.ndarray, weight: np.ndarray, prior: np.ndarray):
    """The weighted distance of the emulated moments from the data, with the weak prior."""
    def distance(x):
        return float(weighted_squares(emulator(x)[0] - target, weight)
                     + (((x - prior) / PRIOR_WIDTH) ** 2).sum())
    return distance


def profile_intervals(emulator: Emulator, x: np.ndarray, target: np.ndarray, weight: np.ndarray,
                      prior: np.ndarray, box: tuple[np.ndarray, np.ndarray] | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Each scaled parameter's 95 % profile interval, within the bounds (or the search's box).

    Parameter ``j`` is held at each of :data:`PROFILE_POINTS` values across the box, the distance
    minimised over the others; the interval is the values where it is within :data:`CHI2_95` of
    the estimate's. It reaches a bound where the data do not push the parameter off it.
    """
    distance = distance_of(emulator, target, weight, prior)
    low, high = box if box is not None else (np.zeros(len(x)), np.ones(len(x)))
    best = distance(x)
    lows, highs = np.array(x, dtype=float), np.array(x, dtype=float)
    for j in range(len(x)):
        for value in np.linspace(low[j], high[j], PROFILE_POINTS):
            bounds = [(value, value) if i == j else (low[i], high[i]) for i in range(len(x))]
            start = np.clip(np.where(np.arange(len(x)) == j, value, x), low, high)
            found = minimize(distance, start, method="L-BFGS-B", bounds=bounds)
            if found.fun - best <= CHI2_95:
                lows[j], highs[j] = min(lows[j], value), max(highs[j], value)
    return lows, highs


def local_box(x: np.ndarray, half: float = REFINE_HALF_WIDTH) -> tuple[np.ndarray, np.ndarray]:
    """The refinement's box: ``half`` of each parameter's bounds either side of ``x``, within them."""
    low = np.clip(x - half, 0.0, 1.0 - 2 * half)
    return low, low + 2 * half


def at_edge(x: np.ndarray, box: tuple[np.ndarray, np.ndarray]) -> list[int]:
    """The parameters at an edge of the box that is not a bound (the search wanted to go on)."""
    low, high = box
    return [i for i in range(len(x)) if (abs(x[i] - low[i]) < 1e-6 and low[i] > 0)
            or (abs(x[i] - high[i]) < 1e-6 and high[i] < 1)]


def uncertainty(emulator: Emulator, x: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each scaled parameter's sandwich standard error (share of its bounds), and ``se < 0.35``.

    The second is the old test of "pinned down", kept for comparison; :func:`estimate` judges by
    the profile interval's width instead (a symmetric error means little on a bound).
    """
    slopes = emulator.slopes(x)
    information = slopes.T @ as_matrix(weight) @ slopes + np.eye(len(x)) / PRIOR_WIDTH ** 2
    se = np.sqrt(np.diag(np.linalg.inv(information)))
    return se, se < 0.35


def identification(emulator: Emulator, x: np.ndarray, weight: np.ndarray) -> dict:
    """What the fitted moments pin down at ``x``: the weighted Jacobian's singular values.

    The Jacobian is the emulated moments' slopes per whole range of each parameter, in standard
    errors of the moments taken together (``L' J`` with ``W = L L'``: for a diagonal ``W``, each
    slope over its moment's error). A direction whose singular value is below :data:`IDENTIFIED_Z` moves
    no moment by that many standard errors across the bounds: the data do not see it. ``rank`` is
    how many directions they see, ``condition`` the largest singular value over the smallest
    (None when that is 0).
    """
    jacobian = np.linalg.cholesky(as_matrix(weight)).T @ emulator.slopes(x)
    values = np.linalg.svd(jacobian, compute_uv=False)
    values = np.concatenate([values, np.zeros(len(x) - len(values))])  # fewer moments than x
    return {"singular_values": [float(v) for v in values],
            "rank": int((values > IDENTIFIED_Z).sum()), "parameters": len(x),
            "moments": int(jacobian.shape[0]),
            "condition": float(values[0] / values[-1]) if values[-1] > 0 else None}


def estimate(x: np.ndarray, y: np.ndarray, target: np.ndarray, weight: np.ndarray,
             start: np.ndarray, box: tuple[np.ndarray, np.ndarray] | None = None,
             profile: bool = True) -> dict:
    """Fit the emulator on the design's mean moments ``y`` and find the estimate (scaled).

    With ``box`` (a refinement's), the emulator is trusted and searched only inside it. Without
    ``profile`` only the point is found (a seed's estimate, for the seeds' spread).
    """
    emulator = Emulator(x, y)
    best_point = x[np.argmin(weighted_squares(y - target, weight))]
    centre = np.full(len(start), 0.5) if box is None else (box[0] + box[1]) / 2
    found, distance = search(emulator, target, weight, [best_point, start, centre], start, box)
    se, _ = uncertainty(emulator, found, weight)
    if not profile:
        return {"x": found, "distance": distance, "se": se}
    lows, highs = profile_intervals(emulator, found, target, weight, start, box)
    truncated = truncated_at_box(lows, highs, box)
    return {"x": found, "distance": distance, "se": se,
            "pinned": (highs - lows < PINNED) & ~truncated, "truncated": truncated,
            "profile_low": lows, "profile_high": highs, "r2": emulator.r2,
            "emulated": emulator(found)[0],
            "identification": identification(emulator, found, weight)}


def truncated_at_box(lows: np.ndarray, highs: np.ndarray,
                     box: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
    """Intervals that reach an edge of the refinement's box that is not a bound.

    The emulator is trusted only inside the box, so such an interval is only known to be at least
    that wide: the parameter is not pinned down by the moments.
    """
    if box is None:
        return np.zeros(len(lows), dtype=bool)
    low, high = box
    eps = 1e-9
    return ((lows <= low + eps) & (low > eps)) | ((highs >= high - eps) & (high < 1 - eps))
