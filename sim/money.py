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


def _scale(amount_cny: float) -> tuple[float, str]:
    """The unit an amount reads in: M CNY from a million, 万 CNY from ten thousand, else CNY."""
    size = abs(amount_cny)
    if size >= 1e6:
        return 1e6, "M CNY"
    if size >= 1e4:
        return 1e4, "万 CNY"
    return 1.0, "CNY"


def _decimals(scaled_se: float | None, scaled_value: float) -> int:
    """Decimals that keep two significant digits of the error (three of the value without one)."""
    if scaled_se is not None and math.isfinite(scaled_se) and scaled_se > 0:
        return 1 - math.floor(math.log10(scaled_se))
    if scaled_value == 0 or not math.isfinite(scaled_value):
        return 0
    return 2 - math.floor(math.log10(abs(scaled_value)))


def _fixed(value: float, decimals: int) -> str:
    rounded = round(value, decimals)
    return f"{rounded:,.{max(decimals, 0)}f}"


def estimate_text(amount_cny: float, se_cny: float | None = None,
                  interval: tuple[float, float] | None = None) -> str:
    """An estimated amount rounded to what its error allows, in M CNY or 万 CNY.

    ``estimate_text(300_351_463.44, 21_609_326.99)`` is ``"300 ± 22 M CNY"``: the error keeps two
    significant digits and the estimate is rounded to the same place; without an error, three
    significant digits. ``interval`` (95 %) is shown in the same unit after the estimate.
    """
    if amount_cny is None or not math.isfinite(amount_cny):
        return "–"
    scale, unit = _scale(max(abs(amount_cny), abs(se_cny or 0.0)))
    se = se_cny / scale if se_cny is not None and math.isfinite(se_cny) else None
    decimals = min(_decimals(se, amount_cny / scale), 2 if scale > 1 else 0)
    text = _fixed(amount_cny / scale, decimals)
    if se is not None and se > 0:
        text += f" ± {_fixed(se, decimals)}"
    if interval is not None and all(math.isfinite(x) for x in interval):
        text += f" (95 % {_fixed(interval[0] / scale, decimals)}–" \
                f"{_fixed(interval[1] / scale, decimals)})"
    return f"{text} {unit}"
