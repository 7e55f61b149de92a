"""Pricing policies (定价): the annual rate a platform offers each applicant.

Protocol: ``price(applicants, state) -> numpy.ndarray`` of annual rates, one per applicant (NaN for
"no offer"), and optionally ``end_of_month(state)`` to adapt. ``applicants`` holds numpy columns
``grade`` (index, 0 = best), ``score``, ``amount_fen``, ``term``, ``method``, ``income_fen``, ``dti``.

Every built-in policy applies a legal cap (利率上限): under the 2015 rules of the Supreme People's
Court, rates up to 24 % a year are protected and above 36 % void. ``rate_cap`` is that ceiling and
``above_cap`` says what happens to a borrower whose price would exceed it: lend at the cap
(``"cap"``) or decline (``"reject"``).

The borrower then accepts the offer if it is at most the grade's market rate plus their own rate
tolerance; the market's demand and supply also respond to the platform's average premium over the
market rates (``borrowers.rate_elasticity``, ``investors.rate_elasticity``).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from sim.policies.base import PlatformState, Policy, PolicyContext, PolicyError, PolicyParams
from sim.policies.registry import register, register_base


@register_base("pricing")
class PricingPolicy(Policy):
    """Base class of pricing policies: subclasses implement :meth:`base_rate`."""

    REQUIRED = ("price",)

    class Params(PolicyParams):
        """Scenario keys (parameters) of this policy."""

        rate_cap: float = Field(0.36, gt=0.0, le=1.0, description="highest annual rate allowed")
        above_cap: Literal["cap", "reject"] = "cap"

    def base_rate(self, applicants: dict[str, np.ndarray], state: PlatformState) -> np.ndarray:
        """Annual rate before the cap, one per applicant (a subclass that keeps :meth:`price` gives it)."""
        raise NotImplementedError(f"{type(self).__name__} gives neither price() nor base_rate()")

    def price(self, applicants: dict[str, np.ndarray], state: PlatformState) -> np.ndarray:
        """Annual rate offered to each applicant after the legal cap (NaN: declined)."""
        rate = np.maximum(self.base_rate(applicants, state), 0.0)
        over = rate > self.params.rate_cap
        if self.params.above_cap == "reject":
            return np.where(over, np.nan, rate)
        return np.where(over, self.params.rate_cap, rate)


@register("pricing", "grid")
class RateGrid(PricingPolicy):
    """A rate grid by grade (利率表): each grade's rate plus a spread.

    Parameters (scenario keys)
    --------------------------
    spread : float
        Added to every grade's rate, annual (0.01 = one percentage point).
    grade_rates : list of float, optional
        The platform's own grid (annual, one per grade); the market's calibrated rates by default.
    """

    class Params(PricingPolicy.Params):
        """Scenario keys (parameters) of this policy."""

        spread: float = Field(0.0, ge=-1.0, le=1.0)
        grade_rates: list[Annotated[float, Field(ge=0.0, le=1.0)]] | None = None

    def __init__(self, params, context: PolicyContext) -> None:
        super().__init__(params, context)
        grid = context.grade_rate if params.grade_rates is None else params.grade_rates
        if len(grid) != len(context.grade_names):
            raise PolicyError("grade_rates", f"needs one rate per grade {context.grade_names}")
        self.grade_rate = np.asarray(grid, dtype=np.float64)

    def base_rate(self, applicants, state):
        """The grid rate of each applicant's grade plus the spread."""
        return self.grade_rate[applicants["grade"]] + self.params.spread


@register("pricing", "risk_based")
class RiskBasedPricing(PricingPolicy):
    """Risk-based pricing: expected loss + cost of funds + margin, by grade.

    The expected loss of a grade is its annual default probability ``1 - (1 - h) ** 12`` (``h`` the
    monthly hazard) times the loss given default ``1 - recovery_rate``, times ``loss_loading`` (a
    safety factor). A borrower whose all-in price exceeds ``rate_cap`` is lent to at the cap (and the
    platform bears the gap) or declined, by ``above_cap``.

    Parameters (scenario keys)
    --------------------------
    cost_of_funds : float
        Annual return investors are offered before losses (资金成本).
    margin : float
        The platform's annual margin over cost and expected loss.
    loss_loading : float
        Multiplier of the expected loss (1 = the calibrated loss).
    """

    class Params(PricingPolicy.Params):
        """Scenario keys (parameters) of this policy."""

        cost_of_funds: float = Field(0.08, ge=0.0, le=1.0)
        margin: float = Field(0.02, ge=-1.0, le=1.0)
        loss_loading: float = Field(1.0, ge=0.0, le=20.0)

    def __init__(self, params, context: PolicyContext) -> None:
        super().__init__(params, context)
        pd_annual = 1.0 - (1.0 - context.default_hazard_monthly) ** 12
        self.expected_loss = params.loss_loading * pd_annual * (1.0 - context.recovery_rate)

    def base_rate(self, applicants, state):
        """Cost of funds + margin + the grade's expected loss, annual."""
        p = self.params
        return p.cost_of_funds + p.margin + self.expected_loss[applicants["grade"]]


@register("pricing", "market_responsive")
class MarketResponsivePricing(RateGrid):
    """A rate grid whose spread follows the funding market, month by month.

    At the start of each month: if fewer than ``fill_rate_low`` of last month's listings filled
    (流标 too common: investors want more), the spread rises by ``step``; if at least
    ``fill_rate_high`` filled and they filled within ``fast_fill_days`` on average (money is waiting),
    it falls by ``step``. The spread stays within ``[min_spread, max_spread]``.

    Parameters (scenario keys)
    --------------------------
    spread : float
        Starting spread, annual.
    step : float
        Change per month, annual.
    fill_rate_low, fill_rate_high : float
        Shares of listings filled that trigger a rise or a cut.
    fast_fill_days : float
        Mean days to fill under which listings count as filling too fast.
    min_spread, max_spread : float
        Bounds of the spread, annual.
    """

    class Params(RateGrid.Params):
        """Scenario keys (parameters) of this policy."""

        step: float = Field(0.005, gt=0.0, le=0.1)
        fill_rate_low: float = Field(0.9, ge=0.0, le=1.0)
        fill_rate_high: float = Field(0.99, ge=0.0, le=1.0)
        fast_fill_days: float = Field(1.0, ge=0.0, le=60.0)
        min_spread: float = Field(-0.05, ge=-1.0, le=1.0)
        max_spread: float = Field(0.10, ge=-1.0, le=1.0)

    def __init__(self, params, context: PolicyContext) -> None:
        super().__init__(params, context)
        if params.min_spread > params.max_spread:
            raise PolicyError("min_spread", "must not exceed max_spread")
        if params.fill_rate_low > params.fill_rate_high:
            raise PolicyError("fill_rate_low", "must not exceed fill_rate_high")
        self.spread = float(np.clip(params.spread, params.min_spread, params.max_spread))

    def base_rate(self, applicants, state):
        """The grid rate plus the current spread."""
        return self.grade_rate[applicants["grade"]] + self.spread

    def end_of_month(self, state: PlatformState) -> None:
        """Move the spread by one step if last month's listings filled too slowly or too fast."""
        p = self.params
        if state.listings_closed == 0:
            return
        if state.fill_rate < p.fill_rate_low:
            self.spread = min(self.spread + p.step, p.max_spread)
        elif state.fill_rate >= p.fill_rate_high and state.mean_days_to_fill <= p.fast_fill_days:
            self.spread = max(self.spread - p.step, p.min_spread)
