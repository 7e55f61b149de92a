"""What every policy shares: the facts it is built with, the state it reads, the protocol's root.

Policies are built with the market's facts (:class:`PolicyContext`), read the platform's state at
the start of each month (:class:`PlatformState`), and are found by the name a scenario gives them.

A policy family (pricing, risk, guarantee, marketing) is a small protocol: a class with one or two
methods that *decide* (which rate, who is approved, how much the guarantee pays, how many users a
channel brings). Policies never move money; the engine applies the decision and books it.

A scenario names a policy in the platform's table of its family, with its parameters beside it::

    [platforms.pricing]
    policy = "risk_based"        # a built-in name, or "package.module:ClassName" for your own
    cost_of_funds = 0.08

A built-in policy declares its parameters as a pydantic model named ``Params``; the scenario's keys
are validated against it before the run (unknown keys, types and ranges), and the policy is
constructed as ``Policy(params, context)``. A user's class may declare ``Params`` too; without it,
the parameters arrive as a plain ``dict``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, ConfigDict

FAMILIES = ("pricing", "risk", "guarantee", "marketing")


class PolicyError(ValueError):
    """A policy that cannot be built: unknown name, import failure, wrong protocol or parameters.

    ``key`` is the parameter at fault (``"cap"``), or ``"policy"`` when the name itself is.
    """

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class PolicyParams(BaseModel):
    """Base of the built-in policies' parameter models: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True)


@dataclass(frozen=True)
class PolicyContext:
    """Market facts a policy is built with (the scenario's grades; rates annual, hazards monthly).

    Attributes
    ----------
    platform : str
        Name of the platform that uses the policy.
    grade_names : list of str
        Grades, best first.
    grade_rate : numpy.ndarray
        The market's annual rate of each grade (利率), before the platform's own pricing.
    default_hazard_monthly : numpy.ndarray
        Long-run monthly default hazard of each grade.
    recovery_rate : numpy.ndarray
        Share of a defaulted balance recovered, by grade.
    cure_probability : float
        Chance a delinquent borrower pays all arrears on a due date.
    default_after_days : int
        Days past due at which a loan is written off.
    source_dir : str or None
        The scenario's folder (where a policy that builds others looks for users' modules).
    """

    platform: str
    grade_names: list[str]
    grade_rate: np.ndarray
    default_hazard_monthly: np.ndarray
    recovery_rate: np.ndarray
    cure_probability: float
    default_after_days: int
    source_dir: str | None = None


@dataclass
class PlatformState:
    """What a platform knows about itself at the start of a month, for its policies to read.

    Amounts in fen, rates annual, shares as fractions. Updated by the engine on the first day of
    every month (``month`` 0 has no history yet: counts are zero and rates are NaN).
    """

    month: int = 0
    day: int = 0
    listings_closed: int = 0            # listings funded or failed last month
    listings_funded: int = 0
    fill_rate: float = float("nan")     # funded / closed, last month
    mean_days_to_fill: float = float("nan")  # days from listing to full, funded listings
    rate_premium: float = 0.0           # mean offered rate minus the grade's market rate, last month
    all_in_premium: float = 0.0         # mean offer's all-in cost over the market's, last month
    outstanding_fen: int = 0            # principal of active loans
    outstanding_by_grade_fen: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    loans_in_arrears: int = 0           # active loans with an unpaid instalment
    recent_bad_rate: float = float("nan")  # early-warning measure of recent vintages (see risk)
    loss_rate_annual: float = 0.0       # defaulted principal of the last 3 months / book, annual
    investor_return_annual: float = 0.0  # investors' realised return on this platform so far
    active_investors: int = 0
    platform_cash_fen: int = 0
    guarantee_fund_fen: int = 0         # balance of the guarantee's account (reserve, capital)
    guaranteed_outstanding_fen: int = 0  # principal of loans the guarantee covers
    guaranteed_arrears_fen: int = 0     # of those, the principal of loans in arrears (not yet paid)


@dataclass(frozen=True)
class ChannelOutcome:
    """What a channel does this month: spend (fen), units bought, expected new users."""

    name: str
    kind: str
    side: str            # "investors" or "borrowers"
    spend_fen: int
    units: float
    expected_users: float
    paid_to: str         # "world", "referrers" or "new_investors"


@dataclass
class MarketingPlan:
    """The month's marketing: channels and organic arrivals."""

    channels: list[ChannelOutcome] = field(default_factory=list)
    organic_investors: float = 0.0


class Policy:
    """Root of the four families' base classes: the protocol every policy follows.

    A policy is built as ``Policy(params, context)`` and may adapt on the first day of each month
    (:meth:`end_of_month`). Each family's base class (:class:`~sim.policies.pricing.PricingPolicy`,
    :class:`~sim.policies.risk.RiskPolicy`, :class:`~sim.policies.guarantee.GuaranteePolicy`,
    :class:`~sim.policies.marketing.MarketingPolicy`) names its required methods in ``REQUIRED`` and
    gives every optional one a default; a user's class that does not subclass it gets the defaults
    all the same (:func:`sim.policies.registry.build`).
    """

    REQUIRED: tuple[str, ...] = ()

    def __init__(self, params, context: PolicyContext) -> None:
        self.params = params
        self.context = context

    def end_of_month(self, state: PlatformState) -> None:
        """Adapt to last month (default: nothing)."""
