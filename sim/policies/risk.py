"""Risk policies: who gets a loan."""

from __future__ import annotations

import numpy as np

from sim.loans import instalments


class CreditReview:
    """Approve applicants by grade and by debt-to-income after the loan.

    Parameters
    ----------
    grade_names : list of str
        The market's grades, best first.
    approve_grades : list of str
        Grades the platform lends to.
    max_dti : float
        Highest debt-to-income (percent of monthly income) after adding the first instalment.
    """

    def __init__(self, grade_names, approve_grades, max_dti: float) -> None:
        self.approved_grade = np.isin(np.asarray(grade_names), np.asarray(approve_grades))
        self.max_dti = float(max_dti)

    def approve(self, applicants: dict[str, np.ndarray], rate: np.ndarray) -> np.ndarray:
        """Boolean mask of approved applicants."""
        first = instalments(applicants["amount_fen"], rate, applicants["term"],
                            applicants["method"], np.ones(len(rate), dtype=np.int64))
        monthly_income = applicants["income_fen"] / 12.0
        dti_after = applicants["dti"] + 100.0 * first / np.maximum(monthly_income, 1.0)
        return self.approved_grade[applicants["grade"]] & (dti_after <= self.max_dti)
