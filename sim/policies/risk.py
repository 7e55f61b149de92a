"""Risk policies (风控): who gets a loan, how much, and how hard arrears are chased.

Protocol
--------
``review(applicants, rates, state) -> (approved, amount_fen)``
    A boolean mask of approved applicants and the principal granted to each (fen; at most the
    amount asked). ``applicants`` holds numpy columns ``grade``, ``score``, ``amount_fen``,
    ``term``, ``method``, ``income_fen`` (annual), ``dti`` (percent), ``kind`` (0 person,
    1 company) and ``debt_elsewhere_fen`` (owed on other platforms).
``collection(recovery_rate, cure_probability) -> (recovery_rate, cure_probability, cost_fen)`` (optional)
    The collection strategy (催收): recovery and cure by grade under this policy's intensity, and
    the monthly cost per loan in arrears (fen).
``end_of_month(state)`` (optional)
    Adapt, e.g. tighten approval when recent vintages go bad.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from sim.loans import instalments
from sim.money import to_fen
from sim.policies.base import PlatformState, Policy, PolicyContext, PolicyError, PolicyParams
from sim.policies.registry import register, register_base

PERSON, COMPANY = 0, 1


@register_base("risk")
class RiskPolicy(Policy):
    """Base class of risk policies: no collection change, no adaptation."""

    REQUIRED = ("review",)

    def review(self, applicants, rates, state):
        """Approve every applicant for the amount asked."""
        return np.ones(len(rates), dtype=bool), applicants["amount_fen"].copy()

    def collection(self, recovery_rate: np.ndarray, cure_probability: np.ndarray):
        """The market's recovery and cure, at no cost."""
        return recovery_rate, cure_probability, 0


@register("risk", "scorecard")
class Scorecard(RiskPolicy):
    """Credit review, collection and early warning (评分卡).

    Review by grade, score, affordability and the regulatory caps.

    An applicant is approved when all of these hold:

    * their grade is in ``approve_grades`` and their score is at least the grade's ``min_score``
      (plus the early-warning tightening in force);
    * debt-to-income after the first instalment is at most ``max_dti`` (percent of monthly income);
    * the amount is at most ``max_income_multiple`` times annual income;
    * the regulatory caps of the 2016 Interim Measures: a person owes at most
      ``person_cap_platform_cny`` on this platform and ``person_cap_total_cny`` on all platforms
      (a company ``company_cap_platform_cny`` and ``company_cap_total_cny``); an applicant over a cap
      is declined, or with ``cap_action = "trim"`` lent the most the caps allow;
    * concentration: a grade whose share of the platform's outstanding principal exceeds
      ``max_grade_share`` is closed to new loans for the month.

    Collection (催收): ``collection_intensity`` (1 = the market's calibrated practice) scales the
    recovery rate by ``intensity ** recovery_elasticity`` and the cure probability by
    ``intensity ** cure_elasticity`` (each capped), at ``collection_cost_monthly_cny * intensity``
    per loan in arrears per month, paid by the platform.

    Early warning: each month the share of the last ``warning_window_months`` months' loans (at least
    3 months on book) that are 30+ days past due or written off is compared with
    ``warning_bad_rate``; above it, every score cutoff rises by ``warning_step`` (up to
    ``warning_max_tightening``); below half of it, the tightening falls back by one step.
    """

    class Params(PolicyParams):
        """Scenario keys (parameters) of this policy."""

        approve_grades: list[str] | None = Field(None, description="default: every grade")
        min_score: float | list[Annotated[float, Field(ge=-1e6, le=1e6)]] = Field(
            300.0, ge=-1e6, le=1e6, description="cutoff, one or per grade")
        max_dti: float = Field(35.0, ge=0.0, le=1000.0)
        max_income_multiple: float = Field(2.0, gt=0.0, le=100.0)
        person_cap_platform_cny: float = Field(200_000.0, gt=0.0, le=1e10)
        person_cap_total_cny: float = Field(1_000_000.0, gt=0.0, le=1e10)
        company_cap_platform_cny: float = Field(1_000_000.0, gt=0.0, le=1e10)
        company_cap_total_cny: float = Field(5_000_000.0, gt=0.0, le=1e10)
        cap_action: Literal["reject", "trim"] = "reject"
        max_grade_share: float | list[Annotated[float, Field(ge=0.0, le=1.0)]] = Field(
            1.0, ge=0.0, le=1.0, description="share of outstanding")
        collection_intensity: float = Field(1.0, ge=0.0, le=5.0)
        recovery_elasticity: float = Field(0.5, ge=0.0, le=5.0)
        cure_elasticity: float = Field(0.3, ge=0.0, le=5.0)
        collection_cost_monthly_cny: float = Field(0.0, ge=0.0, le=100_000.0)
        early_warning: bool = False
        warning_window_months: int = Field(6, ge=1, le=60)
        warning_bad_rate: float = Field(0.05, gt=0.0, le=1.0)
        warning_step: float = Field(20.0, gt=0.0, le=500.0)
        warning_max_tightening: float = Field(100.0, ge=0.0, le=550.0)

    def __init__(self, params, context: PolicyContext) -> None:
        super().__init__(params, context)
        names = context.grade_names
        grades = names if params.approve_grades is None else params.approve_grades
        unknown = sorted(set(grades) - set(names))
        if unknown:
            raise PolicyError("approve_grades", f"names unknown grades {unknown}; allowed: {names}")
        self.approved_grade = np.isin(np.asarray(names), np.asarray(grades))
        self.min_score = self._per_grade(params.min_score, "min_score")
        self.max_grade_share = self._per_grade(params.max_grade_share, "max_grade_share")
        if (self.max_grade_share < 0).any() or (self.max_grade_share > 1).any():
            raise PolicyError("max_grade_share", "must be within [0, 1]")
        self.closed_grade = np.zeros(len(names), dtype=bool)  # by concentration, this month
        self.tightening = 0.0
        caps = [[params.person_cap_platform_cny, params.person_cap_total_cny],
                [params.company_cap_platform_cny, params.company_cap_total_cny]]
        self.cap_fen = np.array([[to_fen(c) for c in row] for row in caps], dtype=np.int64)

    def _per_grade(self, value, key: str) -> np.ndarray:
        n = len(self.context.grade_names)
        values = np.full(n, float(value)) if np.isscalar(value) else np.asarray(value, float)
        if len(values) != n:
            raise PolicyError(key, f"needs one value or one per grade {self.context.grade_names}")
        return values

    def review(self, applicants, rates, state):
        """Approve by grade, score, DTI, income multiple, caps and concentration; trim if asked."""
        p = self.params
        grade = applicants["grade"]
        amount = applicants["amount_fen"].copy()
        kind = applicants["kind"]
        room = np.minimum(self.cap_fen[kind, 0],
                          np.maximum(self.cap_fen[kind, 1] - applicants["debt_elsewhere_fen"], 0))
        over_cap = amount > room
        if p.cap_action == "trim":
            amount = np.where(over_cap, room // 10000 * 10000, amount)  # whole 100 CNY
            within_caps = amount >= 100_000  # a loan of at least 1,000 CNY
        else:
            within_caps = ~over_cap
        priced = ~np.isnan(rates)
        first = instalments(amount, np.where(priced, rates, 0.0), applicants["term"],
                            applicants["method"], np.ones(len(rates), dtype=np.int64))
        monthly_income = applicants["income_fen"] / 12.0
        dti_after = applicants["dti"] + 100.0 * first / np.maximum(monthly_income, 1.0)
        approved = (self.approved_grade[grade] & ~self.closed_grade[grade]
                    & (applicants["score"] >= self.min_score[grade] + self.tightening)
                    & (dti_after <= p.max_dti)
                    & (amount <= p.max_income_multiple * applicants["income_fen"])
                    & within_caps & priced)
        return approved, amount

    def collection(self, recovery_rate, cure_probability):
        """Recovery and cure scaled by the intensity, and the monthly cost per case (fen)."""
        p = self.params
        intensity = p.collection_intensity
        recovery = np.minimum(recovery_rate * intensity ** p.recovery_elasticity, 0.95)
        cure = np.minimum(cure_probability * intensity ** p.cure_elasticity, 0.95)
        return recovery, cure, to_fen(p.collection_cost_monthly_cny * intensity)

    def end_of_month(self, state: PlatformState) -> None:
        """Close over-concentrated grades for the month; run the early-warning rule."""
        p = self.params
        total = state.outstanding_fen
        if total > 0 and len(state.outstanding_by_grade_fen):
            self.closed_grade = state.outstanding_by_grade_fen / total > self.max_grade_share
        if p.early_warning and not np.isnan(state.recent_bad_rate):
            if state.recent_bad_rate > p.warning_bad_rate:
                self.tightening = min(self.tightening + p.warning_step, p.warning_max_tightening)
            elif state.recent_bad_rate < p.warning_bad_rate / 2:
                self.tightening = max(self.tightening - p.warning_step, 0.0)
