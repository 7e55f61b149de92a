"""The systematic (macro) factor and the conditional default hazard it implies.

One-factor Gaussian copula, as in Basel's Vasicek model: borrower ``i`` defaults in a month when
``sqrt(rho) Z + sqrt(1 - rho) e_i < Phi^-1(h)``, with ``Z`` the month's macro factor shared by all
and ``e_i`` their own shock. Given ``Z`` the monthly hazard is

    h(Z) = Phi((Phi^-1(h) - sqrt(rho) Z) / sqrt(1 - rho)),

whose average over ``Z ~ N(0, 1)`` is ``h``: the calibrated hazard is the through-the-cycle one, and a
negative ``Z`` (a downturn) raises every grade's hazard together. ``Z`` follows a monthly AR(1) with
persistence ``phi`` (stationary N(0, 1)); ``phi = 1`` holds it for the whole run; a scenario's shock
path overrides chosen months.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr, ndtri

from sim.scenario import MacroConfig


def factor_path(config: MacroConfig, months: int, rng: np.random.Generator | None,
                shocks: np.ndarray | None = None) -> np.ndarray:
    """The macro factor ``Z[m]`` for months ``0 .. months-1``.

    ``shocks`` (standard normal, one per month: ``Z[0]`` itself, then the AR(1) innovations) are
    drawn from ``rng`` unless given; the reserve study gives them, to sample the factor's tail
    (importance sampling, :mod:`sim.reserve.sampling`). The map from shocks to ``Z`` is affine.
    """
    phi = config.persistence
    scale = np.sqrt(max(0.0, 1.0 - phi * phi))
    if shocks is None:
        shocks = rng.standard_normal(months)
    elif len(shocks) != months:
        raise ValueError(f"need {months} macro shocks, got {len(shocks)}")
    override = dict(config.shock_path)  # later months continue the AR(1) from a shocked value
    z = np.empty(months)
    for m in range(months):
        if m in override:
            z[m] = override[m]
        elif m == 0:
            z[0] = shocks[0] if config.initial_factor is None else config.initial_factor
        else:
            z[m] = phi * z[m - 1] + scale * shocks[m]
    return z


def conditional_hazard(hazard: np.ndarray, rho: float, z: np.ndarray) -> np.ndarray:
    """Vasicek conditional hazard, shape (months, grades), for unconditional ``hazard`` by grade."""
    hazard = np.clip(np.asarray(hazard, dtype=np.float64), 0.0, 1.0)
    if rho == 0.0:
        return np.broadcast_to(hazard, (len(z), len(hazard))).copy()
    threshold = ndtri(hazard)  # -inf for 0, +inf for 1: ndtr maps them back to 0 and 1
    return ndtr((threshold[None, :] - np.sqrt(rho) * z[:, None]) / np.sqrt(1.0 - rho))
