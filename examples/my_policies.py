"""Your own policies: an example of a pricing policy written outside the simulator.

A scenario names it as ``policy = "my_policies:TermPremium"``; the module is looked for on Python's
path and in the scenario file's folder (here, beside ``custom_policy.toml``). See docs/policies.md.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class TermPremium:
    """Price = the market's grade rate + a premium per year of term, under a cap.

    A pricing policy needs one method, ``price(applicants, state)``, returning one annual rate per
    applicant (NaN to decline). ``Params`` (optional) declares and validates the scenario's keys.
    """

    class Params(BaseModel):
        """Scenario keys: the premium per year of term and the legal cap (annual rates)."""

        model_config = ConfigDict(extra="forbid")
        premium_per_year: float = Field(0.01, ge=0.0, le=0.2)
        rate_cap: float = Field(0.24, gt=0.0, le=0.36)

    def __init__(self, params: Params, context) -> None:
        self.params = params
        self.grade_rate = context.grade_rate  # the market's rate of each grade, annual

    def price(self, applicants: dict[str, np.ndarray], state) -> np.ndarray:
        """Grade rate + premium x term in years, capped."""
        years = applicants["term"] / 12.0
        rate = self.grade_rate[applicants["grade"]] + self.params.premium_per_year * years
        return np.minimum(rate, self.params.rate_cap)

    def end_of_month(self, state) -> None:
        """Optional: called on the first day of every month with the platform's state."""


class LendToEveryone:
    """A risk policy without ``Params``: its scenario keys arrive as a plain dict."""

    def __init__(self, params: dict, context) -> None:
        self.max_amount_fen = int(params.get("max_amount_cny", 100_000) * 100)

    def review(self, applicants, rates, state):
        """Approve everyone, for at most ``max_amount_cny``."""
        amount = np.minimum(applicants["amount_fen"], self.max_amount_fen)
        return np.ones(len(amount), dtype=bool), amount
