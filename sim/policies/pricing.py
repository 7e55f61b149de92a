"""Pricing policies: the annual rate a platform offers a borrower."""

from __future__ import annotations

import numpy as np


class RateGrid:
    """A rate grid by grade (利率表): the grade's calibrated rate plus the platform's spread.

    Parameters
    ----------
    grade_rate : sequence of float
        Annual rate of each grade (0.12 = 12 % a year).
    spread : float
        Added to every grade's rate, annual.
    """

    def __init__(self, grade_rate, spread: float = 0.0) -> None:
        self.grade_rate = np.asarray(grade_rate, dtype=np.float64)
        self.spread = float(spread)

    def price(self, grade: np.ndarray) -> np.ndarray:
        """Annual rate offered to each applicant, by their grade index; never below zero."""
        return np.maximum(self.grade_rate[grade] + self.spread, 0.0)
