"""Marketing policies (推广 / 获客): paid channels and word of mouth.

Spending on channels brings investors and borrowers; word of mouth brings investors for free. Whether
investors stay is theirs to decide (churn: ``[investors]`` in the scenario,
:meth:`sim.agents.investors.InvestorPopulation.who_leave`).

Protocol
--------
``plan_month(state) -> MarketingPlan``
    On the first day of each month: what each channel spends and the *expected* number of users it
    brings and the expected organic arrivals (word of mouth). The engine draws the actual numbers
    (Poisson), adds the users, and books the spend.

Channels and their cost models
------------------------------
Every channel buys *units* with its monthly budget ``B``: the first units cost ``unit_cost_cny``
each, and a channel saturates at ``saturation_units`` a month, so units bought are
``S * (1 - exp(-B / (c * S)))`` and the cost per unit rises with spend (diminishing returns). Units
become people, people register, registered users make a first investment (or, for borrowers, apply):

============  =========================  ============================================================
kind          unit                       people per unit; where the money goes
============  =========================  ============================================================
cpc           a click (search ads, SEM)  1; the ad network
cpm           1,000 impressions          ``1000 * click_through``; the ad network
cpa           a registration             1 (already registered); the affiliate
cps           a first investment         1 (already active); commission to the affiliate
referral      a referred first investor  1 (already active); reward to an existing investor (邀请奖励)
red_packet    a new investor's bonus     1 (already active); the bonus to the new investor (红包/加息券)
offline       an event (线下活动)          ``reach_per_unit``; event costs
============  =========================  ============================================================

The funnel is ``register_rate`` (people -> registrations) then ``activation_rate`` (registrations
-> first investment or application); units that are already registrations or first investments
skip those steps.

Word of mouth: each month ``word_of_mouth * reputation * active investors`` new investors arrive
unpaid (the manuals say 80 % choose a platform on a friend's word). ``reputation`` is
``1 - reputation_sensitivity * loss rate`` (annual defaulted principal / book), within [0, 1].
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from sim.money import to_fen
from sim.policies.base import ChannelOutcome, MarketingPlan, PlatformState, Policy, PolicyParams
from sim.policies.registry import register, register_base

KINDS = ("cpc", "cpm", "cpa", "cps", "referral", "red_packet", "offline")
MOVED_TO_INVESTORS = ("churn_base", "churn_sensitivity", "trust_sensitivity", "target_return")
PAID_TO = {"referral": "referrers", "red_packet": "new_investors"}  # the rest: the world


@register_base("marketing")
class MarketingPolicy(Policy):
    """Base class: no spend, no word of mouth."""

    REQUIRED = ("plan_month",)

    def plan_month(self, state: PlatformState) -> MarketingPlan:
        """Nothing this month."""
        return MarketingPlan()


register("marketing", "none")(MarketingPolicy)


class ChannelParams(PolicyParams):
    """One channel of a ``channels`` marketing policy (see the module's table)."""

    name: str = Field(pattern=r"^[\w\-]+$", max_length=40)
    kind: Literal["cpc", "cpm", "cpa", "cps", "referral", "red_packet", "offline"]
    side: Literal["investors", "borrowers"] = "investors"
    budget_monthly_cny: float = Field(ge=0.0, le=1e10)
    unit_cost_cny: float = Field(gt=0.0, le=1e8, description="cost of the first unit")
    saturation_units: float = Field(1e6, gt=0.0, le=1e10, description="most units a month")
    click_through: float = Field(0.01, ge=0.0, le=1.0, description="cpm: clicks per impression")
    reach_per_unit: float = Field(100.0, ge=0.0, le=1e7, description="offline: people per event")
    register_rate: float = Field(0.1, ge=0.0, le=1.0, description="people -> registrations")
    activation_rate: float = Field(0.3, ge=0.0, le=1.0, description="registered -> active")
    start_month: int = Field(0, ge=0, le=1200)
    end_month: int | None = Field(None, ge=0, le=1200)

    @model_validator(mode="after")
    def _red_packets_for_investors(self):
        if self.kind in PAID_TO and self.side != "investors":
            raise ValueError(f"a {self.kind} channel acquires investors (side = 'investors')")
        return self


@register("marketing", "channels")
class ChannelMarketing(MarketingPolicy):
    """Paid channels with diminishing returns, word of mouth and churn (see the module docs).

    Parameters (scenario keys)
    --------------------------
    channels : list of tables
        ``[[platforms.marketing.channels]]`` entries: ``name``, ``kind``, ``side``,
        ``budget_monthly_cny``, ``unit_cost_cny``, ``saturation_units``, funnel rates, and the
        months it runs (``start_month``, ``end_month``).
    word_of_mouth : float
        New investors a month per active investor at full reputation.
    reputation_sensitivity : float
        How fast reputation falls with the annual loss rate (10: a 10 % loss rate zeroes it).
    """

    class Params(PolicyParams):
        """Scenario keys (parameters) of this policy."""

        channels: list[ChannelParams] = Field(default_factory=list)
        word_of_mouth: float = Field(0.0, ge=0.0, le=1.0)
        reputation_sensitivity: float = Field(10.0, ge=0.0, le=1000.0)

        @model_validator(mode="before")
        @classmethod
        def _churn_is_the_investors(cls, data):
            moved = sorted(set(data) & set(MOVED_TO_INVESTORS)) if isinstance(data, dict) else []
            if moved:
                raise ValueError(f"{', '.join(moved)}: investors decide when to leave; set "
                                 f"{'it' if len(moved) == 1 else 'them'} in [investors]")
            return data

        @model_validator(mode="after")
        def _distinct_names(self):
            names = [c.name for c in self.channels]
            if len(set(names)) != len(names):
                raise ValueError(f"channel names must be distinct, got {names}")
            return self

    def plan_month(self, state: PlatformState) -> MarketingPlan:
        """Spend each running channel's budget (cut pro rata to the platform's cash)."""
        p = self.params
        running = [c for c in p.channels if c.start_month <= state.month
                   and (c.end_month is None or state.month <= c.end_month)]
        wanted = sum(to_fen(c.budget_monthly_cny) for c in running)
        scale = min(1.0, state.platform_cash_fen / wanted) if wanted > 0 else 0.0
        outcomes = [self.channel_outcome(c, to_fen(c.budget_monthly_cny) * scale) for c in running]
        reputation = min(max(1.0 - p.reputation_sensitivity * state.loss_rate_annual, 0.0), 1.0)
        return MarketingPlan(channels=outcomes,
                             organic_investors=p.word_of_mouth * reputation * state.active_investors)

    @staticmethod
    def channel_outcome(c: ChannelParams, budget_fen: float) -> ChannelOutcome:
        """What channel ``c`` brings for ``budget_fen`` spent this month (units, expected users)."""
        budget = budget_fen / 100.0
        units = c.saturation_units * -math.expm1(-budget / (c.unit_cost_cny * c.saturation_units))
        if c.kind in ("cps", "referral", "red_packet"):
            users = units
        elif c.kind == "cpa":
            users = units * c.activation_rate
        else:
            people = units * (1000.0 * c.click_through if c.kind == "cpm" else
                              c.reach_per_unit if c.kind == "offline" else 1.0)
            users = people * c.register_rate * c.activation_rate
        return ChannelOutcome(c.name, c.kind, c.side, int(budget_fen), units, users,
                              PAID_TO.get(c.kind, "world"))
