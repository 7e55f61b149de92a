"""Borrowers (借款人): applicants who arrive each day with a credit profile and a loan request.

Each applicant has a latent creditworthiness ``z ~ N(0, 1)``; the credit score is ``680 + 60 z``
(clipped to 300-850) and the grade is the score band that gives the scenario's grade mix (the best
``application_share[0]`` of applicants are grade A, and so on). Default risk within a grade varies by
a log-normal multiplier of mean 1 (``hazard_dispersion``) whose normal part has correlation
``-score_informativeness`` with the applicant's rank within the grade: a higher score within a grade
means a lower hazard, so a score cutoff selects better borrowers. A share ``company_share`` of
applicants are companies (the regulatory caps differ), and a share ``debt_elsewhere_share`` already
owe money on other platforms (log-normal, median ``debt_elsewhere_median_cny``). The request (amount, term,
repayment method) and income and debt-to-income follow the calibrated distributions. A borrower
accepts the offered annual rate if it is at most the grade rate plus their own rate tolerance
(their sensitivity to price).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

from sim.columns import Columns
from sim.loans import RepaymentMethod, parse_method
from sim.money import to_fen_array
from sim.scenario import BorrowersConfig, GradesConfig

SCHEMA = {
    "platform": np.int16,        # platform applied to
    "applied_day": np.int32,     # day of application
    "score": np.int16,           # credit score, 300-850
    "grade": np.int8,            # index into the scenario's grades, 0 = best
    "income_fen": np.int64,      # annual income, fen
    "dti": np.float64,           # debt-to-income before the loan, percent
    "amount_fen": np.int64,      # requested principal, fen
    "term": np.int16,            # requested term, months
    "method": np.int8,           # RepaymentMethod
    "hazard_mult": np.float64,   # idiosyncratic multiplier of the grade's default hazard
    "kind": np.int8,             # 0 a person, 1 a company
    "debt_elsewhere_fen": np.int64,  # owed on other platforms, fen
    "rate_tolerance": np.float64,  # annual rate above the grade rate the borrower still accepts
    "approved": np.bool_,        # passed the platform's credit review (信用评估)
    "listing": np.int64,         # listing row, -1 if none
}


def _pick(cdf: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """Index drawn from a discrete distribution given by its cumulative ``cdf``, one per uniform."""
    return np.minimum(np.searchsorted(cdf, uniform, side="right"), len(cdf) - 1)


@dataclass(frozen=True)
class BorrowerView:
    """One borrower, readable: amounts in CNY, rates as annual fractions."""

    id: int
    platform: int
    applied_day: int
    score: int
    grade: str
    annual_income_cny: float
    dti_percent: float
    amount_cny: float
    term_months: int
    method: str
    hazard_multiplier: float
    approved: bool
    listing: int


class BorrowerPopulation:
    """All loan applicants so far, one row each (struct of arrays).

    Parameters
    ----------
    config : BorrowersConfig
        Demand and applicant distributions.
    grades : GradesConfig
        Grade names and mix.
    rng : numpy.random.Generator
        The borrowers' own random stream.
    """

    def __init__(self, config: BorrowersConfig, grades: GradesConfig,
                 rng: np.random.Generator) -> None:
        self.config = config
        self.grade_names = list(grades.names)
        self.rng = rng
        # thresholds on z: the top application_share[0] are grade 0, and so on
        cumulative = np.cumsum(grades.application_share)[:-1]
        self._z_cuts = -ndtri(np.clip(cumulative, 1e-12, 1 - 1e-12))  # descending
        self._terms = np.asarray(config.terms_months, dtype=np.int16)
        self._term_cdf = np.cumsum(config.term_share) / np.sum(config.term_share)
        self._methods = np.asarray([int(parse_method(m)) for m in config.methods], dtype=np.int8)
        self._method_cdf = np.cumsum(config.method_share) / np.sum(config.method_share)
        self.table = Columns(SCHEMA, capacity=4096)

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, index: int) -> BorrowerView:
        row = self.table.row(index)
        return BorrowerView(
            id=index, platform=row["platform"], applied_day=row["applied_day"],
            score=row["score"], grade=self.grade_names[row["grade"]],
            annual_income_cny=row["income_fen"] / 100, dti_percent=row["dti"],
            amount_cny=row["amount_fen"] / 100, term_months=row["term"],
            method=RepaymentMethod(row["method"]).name.lower(),
            hazard_multiplier=row["hazard_mult"], approved=row["approved"], listing=row["listing"])

    def draw_profiles(self, n: int) -> dict[str, np.ndarray]:
        """Draw ``n`` applicant profiles (not yet stored), as columns of the schema."""
        cfg = self.config
        normal = self.rng.standard_normal((7, n))  # one draw of every normal, then the uniforms
        uniform = self.rng.random((4, n))
        z = normal[0]
        grade = np.searchsorted(-self._z_cuts, -z, side="right").astype(np.int8)
        amount = np.exp(np.log(cfg.amount_median_cny) + cfg.amount_sigma * normal[1])
        amount = np.clip(np.round(amount, -2), cfg.amount_min_cny, cfg.amount_max_cny)
        income = np.exp(np.log(cfg.income_median_cny) + cfg.income_sigma * normal[2])
        sigma, rho = cfg.hazard_dispersion, cfg.score_informativeness
        within = self._rank_within_grade(z, grade)
        risk = -rho * within + np.sqrt(1.0 - rho * rho) * normal[4]
        owes = uniform[3] < cfg.debt_elsewhere_share
        debt = np.exp(np.log(max(cfg.debt_elsewhere_median_cny, 1e-9)) + 0.8 * normal[6]) * owes
        return {
            "score": np.clip(np.round(680 + 60 * z), 300, 850).astype(np.int16),
            "grade": grade,
            "income_fen": to_fen_array(income),
            "dti": np.clip(cfg.dti_mean + cfg.dti_sd * normal[3], 0.0, None),
            "amount_fen": to_fen_array(amount),
            "term": self._terms[_pick(self._term_cdf, uniform[0])],
            "method": self._methods[_pick(self._method_cdf, uniform[1])],
            "hazard_mult": np.exp(sigma * risk - 0.5 * sigma * sigma),
            "kind": (uniform[2] < cfg.company_share).astype(np.int8),
            "debt_elsewhere_fen": to_fen_array(np.round(debt, -2)),
            "rate_tolerance": cfg.rate_tolerance_mean + cfg.rate_tolerance_sd * normal[5],
        }

    def _rank_within_grade(self, z: np.ndarray, grade: np.ndarray) -> np.ndarray:
        """Standard-normal score of each applicant's position within their grade's band of z."""
        upper = np.concatenate([[np.inf], self._z_cuts])[grade]
        lower = np.concatenate([self._z_cuts, [-np.inf]])[grade]
        lo, hi = ndtr(lower), ndtr(upper)
        position = (ndtr(z) - lo) / np.maximum(hi - lo, 1e-300)
        return ndtri(np.clip(position, 1e-12, 1 - 1e-12))

    def arrive(self, day: int, platform: int, expected: float) -> slice:
        """Draw today's applicants to ``platform`` (Poisson with mean ``expected``) and store them."""
        n = int(self.rng.poisson(expected)) if expected > 0 else 0
        profiles = self.draw_profiles(n)
        return self.table.append(platform=platform, applied_day=day, approved=False, listing=-1,
                                 **profiles)
