"""The market's risk tables: the macro path and, by month, platform and grade, what borrowers do.

Built once at the start of a run from the scenario; the servicing and write-off kernels read them.
"""

from __future__ import annotations

import numpy as np

from sim.kernels import ServicingTerms
from sim.loans import DAYS_PER_MONTH, MAX_TERM_MONTHS
from sim.macro import conditional_hazard, factor_path


class RiskTables:
    """Hazards, cure and recovery rates, and the platforms' fee rates, as arrays for the kernels.

    A borrower who misses an instalment defaults unless they cure on one of the
    ``K = default_after_days / 30`` later due dates, so the monthly miss hazard is the
    (macro-conditional) default hazard divided by ``(1 - cure_probability) ** K``. A miss that cures
    also spends due dates curing (1.16 expected at a cure of 0.3 and ``K = 3``), on which the
    borrower can neither miss anew nor prepay, while the loan tape the hazards were fitted on counts
    those months at risk. The servicing kernel makes them up: it divides a current loan's miss and
    prepayment hazards by one less the share of such loans still curing (:func:`still_curing`; at a
    steady hazard ``x``, ``1 - 1.16 x``), so that defaults (dated at the miss that starts them) and
    prepayments per month at risk are the fitted hazards, whatever the cure probability (tested in
    ``tests/test_cohorts.py``).

    Attributes
    ----------
    macro_factor : numpy.ndarray
        The macro factor by month (standard normal).
    miss_hazard : numpy.ndarray (month, grade)
        Monthly probability that a current borrower misses the instalment due.
    strike_multiplier : numpy.ndarray by platform
        Extra miss hazard of a platform's borrowers while it is in trouble (逃废债), 1 otherwise.
    prepay_hazard : numpy.ndarray by grade
        Monthly probability of repaying in full early.
    cure_probability, recovery_rate : numpy.ndarray (platform, grade)
        From each platform's risk policy's collection terms (催收).
    penalty_daily_rate, management_fee, collection_fee, service_fee_monthly : numpy.ndarray
        By platform: penalty interest a day (罚息), shares of interest, recoveries and principal.
    """

    def __init__(self, config, platforms: list, rng: np.random.Generator,
                 macro_shocks: np.ndarray | None) -> None:
        months = config.run.horizon_days // DAYS_PER_MONTH + 2
        self.macro_factor = factor_path(config.macro, months, rng, macro_shocks)
        self.default_hazard = conditional_hazard(config.grades.default_hazard_monthly,
                                                 config.macro.asset_correlation, self.macro_factor)
        cure = config.grades.cure_probability
        self.cure_draws = config.loans.default_after_days // DAYS_PER_MONTH
        self._not_cured = (1.0 - cure) ** self.cure_draws
        self.miss_hazard = np.minimum(1.0, self.default_hazard / self._not_cured)
        self.strike_multiplier = np.ones(len(platforms))
        self.prepay_hazard = np.asarray(config.grades.prepay_hazard_monthly, dtype=np.float64)
        self._collection_terms(config, platforms, cure)
        self.still_curing = still_curing(self.cure_probability, self.cure_draws)
        self.penalty_daily_rate = np.array([p.config.penalty_daily_rate for p in platforms])
        self.management_fee = np.array([p.config.management_fee for p in platforms])
        self.collection_fee = np.array([p.config.collection_fee for p in platforms])
        self.service_fee_monthly = np.array([p.service_fee_monthly for p in platforms])
        self.seasoning = seasoning_tables(config.grades)
        self.pooled = np.zeros(len(platforms), dtype=bool)  # platforms whose book is owned pro rata
        self.strike_floor = np.zeros(len(platforms))  # a failed platform's borrowers' miss hazard

    def add_pooled(self, n: int, behaviour, config) -> None:
        """Rows for ``n`` pooled platforms of an industry (after the detailed ones).

        Their borrowers are graded as a detailed platform's are and follow the same credit
        tables: the grades' default hazards by month (the macro factor and any recession in
        them), seasoning, prepayment, cure and recovery (the default collection), and the same
        strike when their platform is in trouble. What differs is only the platform's terms:
        no penalty interest nor service fee, and the platform keeps ``management_fee`` of the
        interest.
        """
        n_grades = self.cure_probability.shape[1]
        grow = {"strike_multiplier": 1.0, "penalty_daily_rate": 0.0,
                "management_fee": behaviour.management_fee, "collection_fee": 0.0,
                "service_fee_monthly": 0.0, "strike_floor": 0.0}
        for name, value in grow.items():
            setattr(self, name, np.concatenate([getattr(self, name), np.full(n, value)]))
        self.pooled = np.concatenate([self.pooled, np.ones(n, dtype=bool)])
        self.cure_probability = np.vstack([self.cure_probability,
                                           np.full((n, n_grades), config.grades.cure_probability)])
        self.recovery_rate = np.vstack([self.recovery_rate, np.broadcast_to(
            np.asarray(config.grades.recovery_rate, np.float64), (n, n_grades))])
        self.still_curing = still_curing(self.cure_probability, self.cure_draws)

    def _collection_terms(self, config, platforms: list, cure: float) -> None:
        """Recovery and cure by platform and grade, as each risk policy's collection sets them."""
        n_grades = len(config.grades.names)
        self.cure_probability = np.empty((len(platforms), n_grades))
        self.recovery_rate = np.empty((len(platforms), n_grades))
        for p, platform in enumerate(platforms):
            recovery = np.asarray(config.grades.recovery_rate, np.float64)
            cure_p = np.full(n_grades, cure)
            recovery, cure_p, cost = platform.risk.collection(recovery, cure_p)
            self.recovery_rate[p], self.cure_probability[p] = recovery, cure_p
            platform.collection_cost_per_case_fen = int(cost)

    def recession(self, start_month: int, months: int, hazard_multiplier: float) -> None:
        """A recession on top of the macro factor: the months' default hazards multiplied (at most 1)."""
        rows = slice(start_month, start_month + months)
        self.default_hazard[rows] = np.minimum(1.0, self.default_hazard[rows] * hazard_multiplier)
        self.miss_hazard[rows] = np.minimum(1.0, self.default_hazard[rows] / self._not_cured)

    def servicing_terms(self, day: int) -> ServicingTerms:
        """What servicing reads today.

        This month's miss hazard by platform and grade (strikes included), and the prepay, cure,
        penalty and fee rates.
        """
        month = min(day // DAYS_PER_MONTH, len(self.miss_hazard) - 1)
        miss_hazard = self.miss_hazard[month][None, :] * self.strike_multiplier[:, None]
        if self.pooled.any():  # an industry's failed platforms' borrowers (逃废债, by type)
            # a strike's floor is a miss hazard as it stands: undo what the kernel will add
            floor = self.strike_floor[:, None] / (1.0 + self.still_curing.sum(axis=-1)
                                                  * self.strike_floor[:, None])
            miss_hazard = np.minimum(np.maximum(miss_hazard, floor), 1.0)
        return ServicingTerms(miss_hazard, self.prepay_hazard, self.cure_probability,
                              self.penalty_daily_rate, self.management_fee,
                              self.service_fee_monthly, *self.seasoning, self.pooled,
                              self.still_curing)


def still_curing(cure: np.ndarray, draws: int) -> np.ndarray:
    """Probability that a miss ``j`` due dates back (``j = 1 .. draws``) has not cured yet but will.

    ``sum_(i >= j) c (1 - c) ** (i - 1)`` with ``c`` the cure probability per due date (by platform
    and grade), on a last axis of ``draws``; a miss not cured within ``draws`` due dates is written
    off. The sum over ``j`` is the expected number of due dates a miss spends curing.
    """
    cure = np.asarray(cure, dtype=np.float64)[..., None]
    steps = np.arange(1, draws + 1)
    cures_at = cure * (1.0 - cure) ** (steps - 1)  # cures on due date i after the miss
    return np.ascontiguousarray(np.cumsum(cures_at[..., ::-1], axis=-1)[..., ::-1])


def seasoning_tables(grades) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The seasoning factors as the servicing kernel reads them (``grades.seasoning``).

    ``term_class[term]`` is the row for a loan of ``term`` months (the nearest term the tables give;
    the shorter on a tie); ``default_shape`` and ``prepay_shape`` are (months on book 0 .. 60, rows,
    grades), each month the factor of its band (a month's factors side by side for the kernel).
    Without seasoning: a single factor of one, which the kernel skips.
    """
    ages = MAX_TERM_MONTHS + 1
    seasoning = grades.seasoning
    if seasoning is None:
        ones = np.ones((1, 1, 1))
        return np.zeros(ages, dtype=np.int64), ones, ones.copy()
    terms = np.asarray(seasoning.terms_months)
    term_class = np.abs(np.arange(ages)[:, None] - terms[None, :]).argmin(axis=1).astype(np.int64)
    band = np.searchsorted(seasoning.age_bands_months, np.arange(ages), side="right") - 1
    default = np.asarray(seasoning.default_multiplier, dtype=np.float64)[:, :, band]
    prepay = np.asarray(seasoning.prepay_multiplier, dtype=np.float64)[:, :, band]
    return (term_class, np.ascontiguousarray(default.transpose(2, 0, 1)),
            np.ascontiguousarray(prepay.transpose(2, 0, 1)))
