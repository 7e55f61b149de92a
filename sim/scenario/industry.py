"""The scenario's ``[industry]`` tables: many platforms drawn from the WDZJ data around the market.

A scenario with an ``[industry]`` table is an industry (docs/industry.md): ``platforms`` platforms
are drawn from the reporting platforms of 2017 and run *pooled* (their investors own their books pro
rata), beside the scenario's own ``[[platforms]]``, run in full detail (notes, auto-invest, trust,
queues, statements). Every platform shares the market's ledger, loan book, servicing, clock and
credit model; the tables here say how the industry is drawn and how it behaves:

``[industry]``                 start month, how many platforms and investors, how they are drawn
``[industry.behaviour]``       the pooled platforms' investors and liquidity rules, with no news
``[industry.reserve_fund]``    a reserve-fund platform's reserve (:mod:`.industry_behaviour`)
``[industry.channels.NAME]``   the five contagion channels, each with ``enabled``
``[industry.policies]``        custody mandate, redemption gate, orderly exit
``[[industry.events]]``        dated events: regulators' actions on a class, named collapses
``[platforms.industry]``       where a detailed platform stands in the industry (owner, province ...)

Units are in the key names (``_cny``, ``_days``, ``_daily``, ``_monthly``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator, model_validator

from sim.industry.hazard import OWNER_TYPES, load_hazard
from sim.industry.population import BUSINESS_MODELS, DEFAULT_CUSTODY, DEFAULT_MODEL_SHARES
from sim.scenario.industry_behaviour import (
    IndustryBehaviour,
    IndustryReserveFund,
    Probability,
    Section,
)

MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"
CHANNELS = ("shared_investors", "network", "sentiment", "regulators", "co_debt")
PLATFORM_CLASSES = ("all", *BUSINESS_MODELS, *OWNER_TYPES, "custody", "no_custody", "registered",
                    "unregistered")
EVENT_KINDS = ("tighten", "ban", "shrink", "collapse", "investigation")


@lru_cache(maxsize=1)
def hazard_periods() -> tuple[str, ...]:
    """The calendar periods of the calibrated hazard (data/wdzj_hazard.json)."""
    return load_hazard().periods


class SharedInvestors(Section):
    """连锁挤兑: an investor hit by a failure loses trust in the other platforms they hold."""

    enabled: bool = True
    trust_lost: Probability = Field(0.3, description="trust (0-1) lost in each other platform "
                                    "they hold, on every platform alike; the decision rule acts")


class NetworkChannel(Section):
    """The social network ([runs.network]): an investor hit tells their friends, who lose trust too."""

    enabled: bool = True
    trust_lost: Probability = Field(0.15, description="trust (0-1) a friend loses in each platform "
                                    "they hold")


class Sentiment(Section):
    """Industry-wide sentiment (行业情绪) moved by the news of failures: 0 calm, 1 panic."""

    enabled: bool = True
    impact: float = Field(40.0, ge=0.0, le=1000.0, description="per unit share of the industry's "
                          "money on platforms that failed today")
    news_per_failure: Probability = Field(0.01, description="added by each failure, whatever its size")
    decay_daily: Probability = Field(0.97)
    wear_multiplier: float = Field(4.0, ge=0.0, le=100.0, description="trust lost a day: "
                                   "withdrawal_daily × this × sentiment × vulnerability")


class Regulators(Section):
    """Regulators' events on classes of platforms (the ``[[industry.events]]`` tighten and ban)."""

    enabled: bool = True


class CoDebt(Section):
    """共债: borrowers who owe on several platforms stop paying the others when one collapses."""

    enabled: bool = True
    share_of_loans: Probability = Field(0.25, description="loans of borrowers who owe elsewhere too")
    loans_per_borrower: int = Field(3, ge=2, le=20, description="loans such a borrower takes at once, "
                                    "on as many platforms")
    stop_probability: Probability = Field(0.5, description="such a borrower stops paying everywhere")
    wear_multiplier: float = Field(
        3.0, ge=0.0, le=100.0, description="the investors of a platform losing money to such "
        "borrowers lose this × the month's loss rate of trust, a 30th of it a day")


class Channels(Section):
    """The five contagion channels; each can be switched off to measure its share of the damage."""

    shared_investors: SharedInvestors = Field(default_factory=SharedInvestors)
    network: NetworkChannel = Field(default_factory=NetworkChannel)
    sentiment: Sentiment = Field(default_factory=Sentiment)
    regulators: Regulators = Field(default_factory=Regulators)
    co_debt: CoDebt = Field(default_factory=CoDebt)


class IndustryPolicies(Section):
    """Policies that might have limited the wave."""

    custody_mandate: bool = Field(False, description="every platform's cash with a bank (银行存管): "
                                  "no operator can flee with it (跑路 becomes 停业)")
    redemption_gate_daily: Probability = Field(1.0, description="at most this share of a platform's "
                                               "money asked back a day; the rest is refused")
    orderly_exit: bool = Field(False, description="a failing platform is wound down (良性退出): "
                               "borrowers keep paying, nothing is taken")


class Entrants(Section):
    """New platforms launching during the run, at the monthly rate the WDZJ data give."""

    enabled: bool = Field(False, description="launch new platforms (small and young) each month")
    rate_multiplier: float = Field(1.0, ge=0.0, le=100.0, description="times the calibrated "
                                   "launches a month per platform operating at the start")
    size_factor: float | None = Field(None, gt=0.0, le=10.0, description="an entrant's size "
                                      "against a drawn platform's (default: the data's young "
                                      "platforms' median)")


class IndustryEvent(Section):
    """A dated event: a regulators' action on a class, a named platform's collapse or investigation.

    ``platforms`` names the platforms hit: a number is one of the drawn platforms (0 .. platforms
    - 1), a name one of the scenario's detailed platforms.
    """

    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM; it happens on the month's first day")
    kind: Literal["tighten", "ban", "shrink", "collapse", "investigation"]
    platform_class: str = Field("all", alias="class")
    platforms: list[Annotated[int, Field(ge=0)] | str] = Field(default_factory=list)
    largest: int = Field(0, ge=0, le=20_000, description="the N largest platforms of the class")
    hazard_multiplier: float = Field(3.0, ge=0.0, le=1000.0)
    months: int = Field(3, ge=1, le=120, description="how long a tightening or a shrinking lasts")
    news: Probability = Field(0.1, description="added to sentiment on the day")

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True, populate_by_name=True)

    @field_validator("platform_class")
    @classmethod
    def _known_class(cls, name: str) -> str:
        if name not in PLATFORM_CLASSES:
            raise ValueError(f"unknown class of platforms {name!r}; allowed: "
                             f"{', '.join(PLATFORM_CLASSES)}")
        return name

    @model_validator(mode="after")
    def _named_or_class(self) -> IndustryEvent:
        if self.kind == "collapse" and not self.platforms and not self.largest:
            raise ValueError("a collapse names its platforms (platforms = [ids or names]) or "
                             "largest = N")
        return self


class IndustryConfig(Section):
    """How many platforms and investors, how they are drawn (data/wdzj_platforms.csv), what happens."""

    start: str = Field("2017-01", pattern=MONTH_PATTERN, description="the month of day 0, YYYY-MM")
    background_period: str = Field(
        "2017H1", description="the calibrated calendar level of the background hazard "
        "(a period of data/wdzj_hazard.json), or 'calendar' to follow the run's dates")
    platforms: int = Field(300, ge=2, le=20_000, description="platforms drawn, run pooled")
    investors: int = Field(100_000, ge=10, le=20_000_000)
    mean_platforms_per_investor: float = Field(2.3, ge=1.0, le=20.0)
    platform_dispersion: float = Field(0.6, gt=0.0, le=100.0,
                                       description="negative binomial size of the spread")
    median_wealth_cny: float = Field(30_000.0, gt=0.0, le=1e7)
    wealth_sigma: float = Field(1.0, ge=0.0, le=3.0)
    mean_loan_cny: float = Field(40_000.0, ge=1_000.0, le=5_000_000.0)
    model_shares: dict[str, Probability] = Field(default_factory=lambda: dict(DEFAULT_MODEL_SHARES))
    custody_by_owner: dict[str, Probability] = Field(default_factory=lambda: dict(DEFAULT_CUSTODY))
    registered_share: Probability = Field(0.5, description="share with the regulator's 备案 (filing)")
    platforms_file: str | None = Field(None, description="a CSV of platforms to draw from instead "
                                       "of data/wdzj_platforms.csv (same columns)")
    behaviour: IndustryBehaviour = Field(default_factory=IndustryBehaviour)
    reserve_fund: IndustryReserveFund = Field(default_factory=IndustryReserveFund)
    channels: Channels = Field(default_factory=Channels)
    policies: IndustryPolicies = Field(default_factory=IndustryPolicies)
    entrants: Entrants = Field(default_factory=Entrants)
    events: list[IndustryEvent] = Field(default_factory=list)

    @field_validator("background_period")
    @classmethod
    def _known_period(cls, period: str) -> str:
        allowed = (*hazard_periods(), "calendar")
        if period not in allowed:
            raise ValueError(f"unknown period {period!r}; allowed: {', '.join(allowed)}")
        return period

    @field_validator("model_shares")
    @classmethod
    def _shares_add_up(cls, shares: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(shares) - set(BUSINESS_MODELS))
        if unknown:
            raise ValueError(f"unknown business model {unknown[0]!r}; allowed: "
                             f"{', '.join(BUSINESS_MODELS)}")
        total = sum(shares.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the shares add up to {total:.4g}; they must add up to 1")
        return shares

    @field_validator("custody_by_owner")
    @classmethod
    def _every_owner(cls, shares: dict[str, float]) -> dict[str, float]:
        if set(shares) != set(OWNER_TYPES):
            raise ValueError(f"give one probability for each owner type: {', '.join(OWNER_TYPES)} "
                             f"(got {', '.join(sorted(shares)) or 'none'})")
        return shares

    @model_validator(mode="after")
    def _platforms_enough_to_hold(self) -> IndustryConfig:
        """The mean asked for is the mean drawn: an investor holds at most every drawn platform."""
        reached = mean_platforms_reached(self.mean_platforms_per_investor,
                                         self.platform_dispersion, self.platforms)
        if reached < 0.95 * self.mean_platforms_per_investor:
            raise ValueError(f"mean_platforms_per_investor: {self.mean_platforms_per_investor:g} "
                             f"cannot be had among {self.platforms} platforms (an investor holds "
                             f"each at most once; with platform_dispersion "
                             f"{self.platform_dispersion:g} the mean drawn would be {reached:.1f}): "
                             f"ask for fewer, or draw more platforms")
        return self


def mean_platforms_reached(mean: float, dispersion: float, platforms: int) -> float:
    """The mean of 1 + a negative binomial (``mean``, ``dispersion``) capped at ``platforms``.

    As :func:`sim.agents.positions.platforms_each` draws an investor's number of platforms.
    """
    from scipy.stats import nbinom

    extra = mean - 1.0
    if extra <= 0:
        return 1.0
    counts = np.arange(0, platforms - 1)  # P(1 + X > k + 1), summed: E[min(1 + X, platforms)]
    return 1.0 + float(nbinom.sf(counts, dispersion, dispersion / (dispersion + extra)).sum())


class PlatformInIndustry(Section):
    """Where a detailed platform stands in the industry: what classes it is in, its hazard's terms.

    With ``wdzj_id`` it is that platform of the pool (its owner, province, launch and capital are
    the pool's); otherwise it is a platform of its own, launched in ``launch`` (default: the run's
    first month). Its business model and custody are its own configuration's.
    """

    wdzj_id: int | None = Field(None, ge=0, description="the platform of the pool it stands for")
    owner: Literal["listed", "private", "state", "vc_backed"] = "private"
    province: str = Field("other", max_length=20, description="e.g. 浙江; others count as 'other'")
    launch: str | None = Field(None, pattern=MONTH_PATTERN, description="YYYY-MM")
    registered_capital_cny: float = Field(10_000_000.0, ge=0.0, le=1e11)
    registered: bool = Field(False, description="filed with the regulator (备案)")


def month_index(text: str) -> int:
    """``"2018-06"`` as months since 2000-01."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    return (int(match[1]) - 2000) * 12 + int(match[2]) - 1


def month_name(index: int) -> str:
    """Months since 2000-01 as ``"YYYY-MM"``."""
    return f"{2000 + index // 12}-{index % 12 + 1:02d}"


def reached(industry: IndustryConfig, horizon_days: int) -> list[bool]:
    """Per dated event: whether a run of ``horizon_days`` reaches its month."""
    last = month_index(industry.start) + (horizon_days + 29) // 30 - 1
    return [month_index(event.month) <= last for event in industry.events]


def check_industry(industry: IndustryConfig, horizon_days: int, platforms: list, runs,
                   default_after_days: int) -> None:
    """Cross-checks of the industry with the rest of the scenario (ValueError naming the key).

    ``platforms`` are the scenario's own (run in full detail); ``runs`` its ``[runs]``;
    ``default_after_days`` its ``[loans]`` write-off threshold.
    """
    names = [platform.name for platform in platforms]
    trigger = industry.reserve_fund.trigger_days
    if trigger > default_after_days:
        raise ValueError(f"industry.reserve_fund.trigger_days: {trigger} must be at most "
                         f"loans.default_after_days ({default_after_days}): the loan is written "
                         f"off after that")
    check_launches(industry, platforms)
    if horizon_days < 30:
        raise ValueError(f"run.horizon_days: {horizon_days}: an industry is recorded month by "
                         f"month (the trackers' table); run at least 30 days")
    if names and not runs.enabled:
        raise ValueError("runs.enabled: a detailed platform inside an industry needs [runs] "
                         "enabled = true: the contagion channels reach its investors through "
                         "their trust in it")
    drawn = {f"industry-{i}" for i in range(industry.platforms)}
    for i, name in enumerate(names):
        if re.fullmatch(r"(industry|entrant)-\d+", name):
            raise ValueError(f"platforms[{i}].name: {name!r} is how the industry names the "
                             f"platforms it draws (industry-N, entrant-N); give yours another "
                             f"name, so that the journal keeps one account each")
    for i, event in enumerate(runs.events):
        pooled = [name for name in event.platforms if name in drawn]
        if pooled:
            raise ValueError(f"runs.events[{i}].platforms: {pooled[0]} is a pooled platform: trust "
                             f"per investor is kept only for the scenario's own [[platforms]]; "
                             f"use an [[industry.events]] for the drawn ones")
    first = month_index(industry.start)
    for i, event in enumerate(industry.events):  # one past the end is not reached (a run cut
        if month_index(event.month) < first:     # short of the history: the output says so)
            raise ValueError(f"industry.events[{i}].month {event.month} is before the run "
                             f"(it starts in {industry.start})")
        for platform in event.platforms:
            if isinstance(platform, int) and platform >= industry.platforms:
                raise ValueError(f"industry.events[{i}].platforms: {platform}: the drawn platforms "
                                 f"are 0 to {industry.platforms - 1}")
            if isinstance(platform, str) and platform not in names:
                raise ValueError(f"industry.events[{i}].platforms: {platform!r} is not one of "
                                 f"the scenario's platforms ({', '.join(names) or 'none'})")
        if event.largest and event.largest > industry.platforms + len(names):
            raise ValueError(f"industry.events[{i}].largest: {event.largest} is more than the "
                             f"industry's {industry.platforms + len(names)} platforms")


def check_launches(industry: IndustryConfig, platforms: list) -> None:
    """A platform in full detail lends from the run's first day: its launch is not after it."""
    first = month_index(industry.start)
    for i, platform in enumerate(platforms):
        launch = platform.industry.launch if platform.industry else None
        if launch and month_index(launch) > first:
            raise ValueError(f"platforms[{i}].industry.launch {launch} is after the industry's "
                             f"start ({industry.start}): a platform run in full detail lends from "
                             f"the run's first day; give a launch at or before {industry.start}, "
                             f"or leave it out")
