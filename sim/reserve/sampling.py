"""Sampling the macro factor for the reserve study: plain Monte Carlo, importance sampling, strata.

A path's macro factor is an affine function of its standard-normal shocks ``x`` (one per month,
:func:`sim.macro.factor_path`): ``Z = A x + b``. A book's losses over the horizon are driven mostly
by the factor's average over the horizon, ``S = a . x`` (``a`` = the mean of the rows of ``A``
over the horizon's months), so the far tail of the losses is where ``S`` is far below its mean.

Importance sampling (:func:`draw_shocks`, ``method = "importance"``) draws a share ``plain_share``
of the paths from the true law N(0, I) and the rest from N(mu, I), the law moved to the *design
point* ``mu = -t a / |a|`` with ``t = Phi^-1(confidence)`` (the most likely way for ``S`` to reach its
``1 - confidence`` quantile). Each path's likelihood-ratio weight for the mixture (the balance
heuristic) is

    w(x) = phi(x) / (s phi(x) + (1 - s) phi(x - mu)) = 1 / (s + (1 - s) exp(mu . x - |mu|^2 / 2)),

at most ``1 / s``: the plain share keeps every estimate safe where the tilt does not help. Averages
weighted by ``w`` estimate averages under the true law; the effective sample size is
``(sum w)^2 / sum w^2``.

Stratification (``stratify``): within each component, the projection ``u = a . x / |a|`` is drawn
in equal-probability strata (one path per stratum, ``u = mean + Phi^-1((k + U) / n)``), the rest of
``x`` independently. The paths' spread along the direction that matters most is then exactly the
law's, which cuts the error of averages (mean loss). Error bars computed as if the paths were
independent are then conservative (slightly too wide).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from sim.macro import factor_path
from sim.scenario import MacroConfig

METHODS = ("importance", "plain")
DEFAULT_PLAIN_SHARE = 0.25


@dataclass
class MacroDesign:
    """The shocks of every path and their weights.

    Attributes
    ----------
    shocks : numpy.ndarray, shape (paths, months)
        Standard-normal shocks of the macro factor of each path.
    weight : numpy.ndarray, shape (paths,)
        Likelihood-ratio weight of each path (1 for plain Monte Carlo).
    component : numpy.ndarray of int8, shape (paths,)
        0 for a path drawn from the true law, 1 for one from the tilted law.
    direction : numpy.ndarray, shape (months,)
        Unit vector ``a / |a|`` of the horizon's average factor (zeros if the factor is fixed).
    shift : float
        Distance ``t`` of the tilted law's mean from the origin (0 for plain Monte Carlo).
    method : str
        ``"importance"`` or ``"plain"`` (importance falls back to plain when nothing can be tilted).
    """

    shocks: np.ndarray
    weight: np.ndarray
    component: np.ndarray
    direction: np.ndarray
    shift: float
    method: str

    @property
    def effective_sample_size(self) -> float:
        """Kish's effective sample size of the weights, ``(sum w)^2 / sum w^2``."""
        return float(self.weight.sum() ** 2 / np.square(self.weight).sum())


def shock_count(horizon_days: int) -> int:
    """Shocks a market of ``horizon_days`` draws (the model's months plus two)."""
    return horizon_days // 30 + 2


def average_factor_loading(macro: MacroConfig, months: int, horizon_months: int) -> np.ndarray:
    """``a``: how the factor's average over months ``0 .. horizon_months - 1`` moves with each shock."""
    base = factor_path(macro, months, None, np.zeros(months))[:horizon_months].mean()
    loading = np.empty(months)
    for k in range(months):
        unit = np.zeros(months)
        unit[k] = 1.0
        loading[k] = factor_path(macro, months, None, unit)[:horizon_months].mean() - base
    loading[np.abs(loading) < 1e-12] = 0.0
    return loading


def draw_shocks(macro: MacroConfig, months: int, horizon_months: int, paths: int,
                rng: np.random.Generator, method: str = "importance", confidence: float = 0.999,
                stratify: bool = True, plain_share: float = DEFAULT_PLAIN_SHARE) -> MacroDesign:
    """Shocks and weights for ``paths`` paths (see the module's docstring).

    Parameters
    ----------
    macro : MacroConfig
        The scenario's macro section (persistence, initial factor, fixed months).
    months : int
        Shocks per path (:func:`shock_count`).
    horizon_months : int
        Months of the study; the tilt aims at the factor's average over them.
    paths : int
        Number of paths.
    rng : numpy.random.Generator
        Source of the draws.
    method : {"importance", "plain"}
        Importance sampling of the factor's tail, or plain Monte Carlo.
    confidence : float
        The tilted law's mean sits at the ``confidence`` quantile of the average factor's tail.
    stratify : bool
        Draw the projection on the loading direction in equal-probability strata.
    plain_share : float
        Share of paths drawn from the true law when importance sampling (the defensive part).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    loading = average_factor_loading(macro, months, horizon_months)
    norm = float(np.linalg.norm(loading))
    direction = loading / norm if norm > 0 else loading
    if method == "plain" or norm == 0.0:
        shocks = _component(rng, paths, months, direction, 0.0, stratify)
        return MacroDesign(shocks, np.ones(paths), np.zeros(paths, np.int8), direction, 0.0,
                           "plain")
    shift = float(ndtri(confidence))
    # at least one path from each part when there are two paths or more
    n_plain = min(max(round(paths * plain_share), 1), paths - 1) if paths > 1 else 0
    plain = _component(rng, n_plain, months, direction, 0.0, stratify)
    tilted = _component(rng, paths - n_plain, months, direction, -shift, stratify)
    shocks = np.vstack([plain, tilted])
    component = np.r_[np.zeros(n_plain, np.int8), np.ones(paths - n_plain, np.int8)]
    mu = -shift * direction
    share = n_plain / paths
    log_ratio = shocks @ mu - 0.5 * shift * shift  # log phi(x - mu) / phi(x)
    weight = 1.0 / (share + (1.0 - share) * np.exp(log_ratio))
    return MacroDesign(shocks, weight, component, direction, shift, "importance")


def _component(rng: np.random.Generator, n: int, months: int, direction: np.ndarray,
               along: float, stratify: bool) -> np.ndarray:
    """``n`` draws of N(along * direction, I), stratified along ``direction`` if asked."""
    x = rng.standard_normal((n, months))
    if n == 0 or not direction.any():
        return x
    if stratify:
        strata = rng.permutation(n)
        u = ndtri((strata + rng.random(n)) / n)
        x += np.outer(u - x @ direction, direction)
    return x + along * direction
