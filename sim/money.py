"""Money in integer fen (分, 0.01 CNY), as a platform books it.

Every balance in the engine is an ``int64`` number of fen. Floats appear only in rates and in
closed-form formulas, and are rounded to the fen (half up) where a platform would round.
"""

from __future__ import annotations

import math

import numpy as np

FEN_PER_CNY = 100


def to_fen(amount_cny: float) -> int:
    """Convert an amount in CNY to integer fen, rounding half up (0.005 CNY -> 1 fen)."""
    return int(math.floor(amount_cny * FEN_PER_CNY + 0.5))


def to_fen_array(amount_cny: np.ndarray) -> np.ndarray:
    """Vectorised :func:`to_fen` for non-negative amounts, returning ``int64`` fen."""
    return np.floor(np.asarray(amount_cny, dtype=np.float64) * FEN_PER_CNY + 0.5).astype(np.int64)


def to_cny(amount_fen: int | np.ndarray) -> float | np.ndarray:
    """Convert fen to CNY (a float, for display and reporting only)."""
    return amount_fen / FEN_PER_CNY
