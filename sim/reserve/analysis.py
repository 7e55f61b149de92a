"""Weighted statistics of the paths, with Monte-Carlo errors.

Every estimate is a weighted one (weights 1 under plain Monte Carlo, likelihood ratios under
importance sampling, normalised to add up to 1): the mean, quantiles (value at risk), expected
shortfall and exceedance probabilities. Their standard errors and 95 % intervals come from a
bootstrap over the paths (each resample recomputes the estimate with its own weights), which works
the same for every statistic; with stratified paths it is conservative.
"""

from __future__ import annotations

import numpy as np

BOOTSTRAP_RESAMPLES = 400


def weighted_quantile(values: np.ndarray, weights: np.ndarray, level: float) -> float:
    """Smallest ``x`` among ``values`` with weighted share of values ``<= x`` at least ``level``."""
    order = np.argsort(values, kind="stable")
    cdf = np.cumsum(weights[order])
    cdf /= cdf[-1]
    index = min(int(np.searchsorted(cdf, level - 1e-12, side="left")), len(values) - 1)
    return float(values[order][index])


def tail_weights(values: np.ndarray, weights: np.ndarray, level: float) -> np.ndarray:
    """Each path's weight in the worst ``1 - level`` share of outcomes (they add up to 1).

    Paths above the ``level`` quantile count whole; those at it share what the tail still needs.
    Expected shortfall is the tail's mean, and any split of a path's value into parts (grades,
    terms, vintages) splits it the same way: their tail means add up to it (Euler allocation).
    """
    q = weighted_quantile(values, weights, level)
    p = weights / weights.sum()
    above, at_q = values > q, values == q
    tail = np.where(above, p, 0.0)
    needed = max(1.0 - level - p[above].sum(), 0.0)  # the quantile's own share of the tail
    tail[at_q] = p[at_q] * needed / p[at_q].sum()
    return tail / (1.0 - level)


def expected_shortfall(values: np.ndarray, weights: np.ndarray, level: float) -> float:
    """Mean of the worst ``1 - level`` share of outcomes (the tail beyond the ``level`` quantile)."""
    return float(np.sum(tail_weights(values, weights, level) * values))


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted (self-normalised) mean."""
    return float(np.sum(weights * values) / np.sum(weights))


def exceedance(values: np.ndarray, weights: np.ndarray, threshold: float) -> float:
    """Weighted share of values strictly above ``threshold``."""
    return float(np.sum(weights * (values > threshold)) / np.sum(weights))


def bootstrap(statistic, values: np.ndarray, weights: np.ndarray, rng: np.random.Generator,
              resamples: int = BOOTSTRAP_RESAMPLES) -> dict[str, float]:
    """Estimate, standard error and 95 % interval of ``statistic(values, weights)``.

    Infinite values (a requirement no rate can meet) are allowed; the error is then NaN when any
    resample's estimate is infinite.
    """
    estimate = statistic(values, weights)
    n = len(values)
    if n < 2:
        return {"estimate": estimate, "se": float("nan"), "low": float("nan"),
                "high": float("nan")}
    draws = np.empty(resamples)
    for b in range(resamples):
        rows = rng.integers(0, n, n)
        draws[b] = statistic(values[rows], weights[rows])
    finite = np.isfinite(draws).all()
    se = float(np.std(draws, ddof=1)) if finite else float("nan")
    low, high = np.quantile(draws, [0.025, 0.975]) if finite else (float("nan"), float("nan"))
    return {"estimate": estimate, "se": se, "low": float(low), "high": float(high)}


def describe(values: np.ndarray, weights: np.ndarray, confidences: list[float],
             rng: np.random.Generator) -> list[dict]:
    """Mean, and per confidence the quantile and expected shortfall, each with its errors."""
    rows = [{"statistic": "mean", **bootstrap(weighted_mean, values, weights, rng)}]
    for level in confidences:
        rows.append({"statistic": f"q{level_label(level)}", **bootstrap(
            lambda v, w, a=level: weighted_quantile(v, w, a), values, weights, rng)})
        rows.append({"statistic": f"es{level_label(level)}", **bootstrap(
            lambda v, w, a=level: expected_shortfall(v, w, a), values, weights, rng)})
    return rows


def exhaustion_by_month(max_outflow: np.ndarray, weights: np.ndarray, reserve: float,
                        rng: np.random.Generator) -> list[dict]:
    """Probability that the reserve has run dry by the end of each month, with its errors.

    ``max_outflow[i, m]``: the largest net outflow of path ``i`` up to the end of month ``m``.
    """
    rows = []
    for month in range(max_outflow.shape[1]):
        result = bootstrap(lambda v, w: exceedance(v, w, reserve), max_outflow[:, month],
                           weights, rng)
        rows.append({"month": month + 1, **result})
    return rows


def exhaustion_month(max_outflow: np.ndarray, weights: np.ndarray, reserve: float) -> list[dict]:
    """Distribution of the month the reserve runs dry (probability of each month, and of never)."""
    dry = max_outflow > reserve
    first = np.where(dry.any(axis=1), dry.argmax(axis=1) + 1, 0)
    p = weights / weights.sum()
    rows = [{"month": m, "probability": float(p[first == m].sum())}
            for m in range(1, max_outflow.shape[1] + 1)]
    rows.append({"month": "never", "probability": float(p[first == 0].sum())})
    return rows


def level_label(level: float) -> str:
    """``0.999`` -> ``"99.9"``."""
    return f"{level * 100:.10g}"
