"""How the estimation weighs its moments: their error covariance, model against data.

The data are one history of a random world; under the model it could have come out differently,
by one run's spread, and the moments of one run move together. The fit weighs the emulated
moments' distance from the data by the inverse of this covariance (the full weight matrix,
:mod:`sim.estimation.fit`); the moments table reports each moment's z by its diagonal.
"""

from __future__ import annotations

import numpy as np

from sim.estimation.spec import EstimationError


def moment_covariance(table: np.ndarray, data_se: np.ndarray, replications: int) -> np.ndarray:
    """The moments' error covariance, model against data: its inverse weighs the fit.

    ``table`` is (points, replications, moments). The data's errors² on the diagonal (one error
    per moment is all the data give); plus ``(1 + 1 / replications)`` times the covariance of one
    run's moments about its point's mean, pooled over the design points where every moment is
    defined (common random numbers: the replications of a point differ by their seed only). Its
    diagonal is :func:`error_squared`'s.
    """
    moments = table.shape[2]
    spread = np.zeros((moments, moments))
    if replications > 1:
        deviations = table - table.mean(axis=1, keepdims=True)
        whole = np.isfinite(deviations).all(axis=(1, 2))
        rows = deviations[whole].reshape(-1, moments)
        spread = rows.T @ rows / max(int(whole.sum()) * (replications - 1), 1)
    return np.diag(np.asarray(data_se, dtype=float) ** 2) + spread * (1 + 1 / replications)


def error_squared(data_se: np.ndarray, spread: np.ndarray, replications: int) -> np.ndarray:
    """A moment's error², model against data.

    The data's own error; the model's spread of one history (the data are one history of a random
    world: under the model it could have come out differently by that much); and the error of the
    mean of ``replications`` simulated histories.
    """
    return data_se ** 2 + spread * (1 + 1 / replications)


def weighable(errors_squared: np.ndarray, keys: list[str]) -> np.ndarray:
    """The moments' errors², or a clear error for one with none (it could not be weighed)."""
    if (errors_squared <= 0).any():
        key = keys[int(np.flatnonzero(errors_squared <= 0)[0])]
        raise EstimationError(f"moments: {key} has no error (the data's is 0 and no run differs "
                              f"from another): it cannot be weighed; leave it out")
    return errors_squared


def weight_record(covariance: np.ndarray, fitted: np.ndarray, keys: list[str]) -> dict:
    """The fitted moments' errors and correlations, as estimation.json keeps them."""
    part = covariance[np.ix_(fitted, fitted)]
    error = np.sqrt(np.diag(part))
    return {"moments": [key for key, chosen in zip(keys, fitted, strict=True) if chosen],
            "error": error.tolist(),
            "correlation": np.round(part / np.outer(error, error), 4).tolist()}
