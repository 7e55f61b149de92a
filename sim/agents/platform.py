"""The platform (平台): credit review, listing, funding window, servicing, fees and collection.

A platform is a ``mesa.Agent``: there are few of them and each has its own policies and books. It
decides (who is approved, at what rate, how long a listing stays open, what fees it charges); the
model applies those decisions to the populations and the loan book and books the money in the ledger
accounts the platform owns (``platform_cash:<name>``, ``investor_cash:<name>`` ...).
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.money import to_fen
from sim.policies.pricing import RateGrid
from sim.policies.risk import CreditReview
from sim.scenario import GradesConfig, PlatformConfig

ACCOUNT_KINDS = ("investor_cash", "investor_committed", "investor_claims", "platform_cash",
                 "reserve_fund")


class Platform(mesa.Agent):
    """One P2P platform.

    Parameters
    ----------
    model : P2PMarket
        The market.
    index : int
        Position among the market's platforms (the ``platform`` column of loans and listings).
    config : PlatformConfig
        Its scenario section.
    grades : GradesConfig
        The market's grades.
    """

    def __init__(self, model, index: int, config: PlatformConfig, grades: GradesConfig) -> None:
        super().__init__(model)
        self.index = index
        self.name = config.name
        self.config = config
        self.pricing = RateGrid(grades.annual_rate, config.rate_spread)
        self.risk = CreditReview(grades.names, config.approve_grades, config.max_dti)
        self.funding_window_days = config.funding_window_days
        self.operating_cost_monthly_fen = to_fen(config.operating_cost_monthly_cny)
        self.unpaid_costs_fen = 0  # operating costs it could not pay for lack of cash
        self.accounts = {kind: f"{kind}:{self.name}" for kind in ACCOUNT_KINDS}

    def account(self, kind: str) -> str:
        """The ledger account of this platform for ``kind`` (e.g. ``platform_cash``)."""
        return self.accounts[kind]

    def review(self, applicants: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Credit review (信用评估 / 风控审核) and pricing of applicants.

        Returns
        -------
        (numpy.ndarray of bool, numpy.ndarray of float)
            Whether each applicant is listed (approved and accepts the rate), and the offered
            annual rate.
        """
        rate = self.pricing.price(applicants["grade"])
        approved = self.risk.approve(applicants, rate)
        accepts = rate <= self.pricing.grade_rate[applicants["grade"]] + applicants["rate_tolerance"]
        return approved & accepts, rate

    def service_fee_fen(self, principal_fen: np.ndarray) -> np.ndarray:
        """Borrower service fee (借款服务费), upfront, per loan in fen."""
        return np.floor(principal_fen * self.config.service_fee + 0.5).astype(np.int64)
