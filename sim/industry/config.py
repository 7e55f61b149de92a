"""The industry scenario's schema (``scenarios/thunderstorm_2018.toml``): one pydantic model per table.

Tables: ``[run]`` (name, seed, start month, months), ``[industry]`` (how many platforms and investors,
how the platforms are drawn), ``[behaviour]`` (investors' ordinary deposits and withdrawals, the
platforms' liquidity rules), ``[channels.NAME]`` (the five contagion channels, each with ``enabled``),
``[policies]`` (custody mandate, redemption gate, orderly exit) and ``[[events]]`` (dated events).
Units are in the key names (``_cny``, ``_days``, ``_daily``, ``_monthly``).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from sim.industry.hazard import OWNER_TYPES
from sim.industry.population import BUSINESS_MODELS, DEFAULT_CUSTODY, DEFAULT_MODEL_SHARES

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
DailyRate = Annotated[float, Field(ge=0.0, le=0.5)]
CHANNELS = ("shared_investors", "network", "sentiment", "regulators", "co_debt")
PLATFORM_CLASSES = ("all", *BUSINESS_MODELS, *OWNER_TYPES, "custody", "no_custody", "registered",
                    "unregistered")
EVENT_KINDS = ("tighten", "ban", "collapse", "investigation")
MONTH_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])$"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True)


class RunTable(_Section):
    """Which months, with which seed."""

    name: str = Field("industry", pattern=r"^[\w\-]+$", max_length=100)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    start: str = Field("2017-01", pattern=MONTH_PATTERN, description="first month, YYYY-MM")
    months: int = Field(36, ge=1, le=120, description="months on the daily 30/360 clock")
    background_period: str = Field(
        "2017H1", description="the calibrated calendar level of the background hazard "
        "(a period of data/wdzj_hazard.json), or 'calendar' to follow the run's dates")


class IndustryTable(_Section):
    """How many platforms and investors, and how the platforms are drawn (data/wdzj_platforms.csv)."""

    platforms: int = Field(300, ge=2, le=20_000)
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


class BehaviourTable(_Section):
    """Investors' ordinary behaviour and the platforms' liquidity rules, with no news at all."""

    withdrawal_daily: DailyRate = Field(0.002, description="share of a balance asked back a day")
    deposit_daily: DailyRate = Field(0.0022, description="new money a day, share of the balance")
    cash_buffer: Probability = Field(0.08, description="share of investors' money kept as cash")
    loan_default_monthly: Probability = Field(0.004, description="borrowers' default hazard")
    service_fee: Probability = Field(0.2, description="platform's share of borrowers' interest")
    reserve_share_of_fees: Probability = Field(0.5, description="reserve_fund model: fees to 风险准备金")
    freeze_share: Probability = Field(0.05, description="unpaid requests, share of the investors' "
                                      "money, that count a day of stress")
    freeze_after_days: int = Field(10, ge=1, le=360, description="stressed days in a row before "
                                   "the platform freezes withdrawals (提现困难)")
    operating_cost_monthly: Probability = Field(0.0008, description="costs a month, share of the "
                                                "outstanding book")


class SharedInvestors(_Section):
    """连锁挤兑: an investor hit by a failure or a freeze asks back part of their other balances."""

    enabled: bool = True
    pull_share: Probability = 0.3


class Network(_Section):
    """The social network: an investor hit tells ``degree`` friends, who pull out too."""

    enabled: bool = True
    degree: int = Field(4, ge=1, le=50)
    pull_share: Probability = 0.15


class Sentiment(_Section):
    """Industry-wide sentiment (行业情绪) moved by the news of failures: 0 calm, 1 panic."""

    enabled: bool = True
    impact: float = Field(40.0, ge=0.0, le=1000.0, description="per unit share of the industry's "
                          "money on platforms that failed today")
    news_per_failure: Probability = Field(0.01, description="added by each failure, whatever its size")
    decay_daily: Probability = Field(0.97)
    withdrawal_multiplier: float = Field(4.0, ge=0.0, le=100.0, description="ordinary withdrawals "
                                         "times 1 + this x sentiment")


class Regulators(_Section):
    """Regulators' events on classes of platforms (the ``[[events]]`` of kind tighten and ban)."""

    enabled: bool = True


class CoDebt(_Section):
    """共债: borrowers who owe on several platforms stop paying the others when one collapses."""

    enabled: bool = True
    share_of_loans: Probability = Field(0.25, description="loans of borrowers who owe elsewhere too")
    loans_per_borrower: int = Field(3, ge=2, le=20, description="loans such a borrower takes at once, "
                                    "on as many platforms")
    stop_probability: Probability = Field(0.5, description="such a borrower stops paying everywhere")
    withdrawal_multiplier: float = Field(
        3.0, ge=0.0, le=100.0, description="the investors of a platform losing money to such "
        "borrowers ask back this × the month's loss rate, a 30th of it a day")


class ChannelsTable(_Section):
    """The five contagion channels; each can be switched off to measure its share of the damage."""

    shared_investors: SharedInvestors = Field(default_factory=SharedInvestors)
    network: Network = Field(default_factory=Network)
    sentiment: Sentiment = Field(default_factory=Sentiment)
    regulators: Regulators = Field(default_factory=Regulators)
    co_debt: CoDebt = Field(default_factory=CoDebt)


class PoliciesTable(_Section):
    """Policies that might have limited the wave."""

    custody_mandate: bool = Field(False, description="every platform's cash with a bank (银行存管): "
                                  "no operator can flee with it (跑路 becomes 停业)")
    redemption_gate_daily: Probability = Field(1.0, description="at most this share of a platform's "
                                               "money asked back a day; the rest is refused")
    orderly_exit: bool = Field(False, description="a failing platform is wound down (良性退出): "
                               "borrowers keep paying, nothing is taken")


class Event(_Section):
    """A dated event: a regulators' action on a class, a named platform's collapse or investigation."""

    month: str = Field(pattern=MONTH_PATTERN, description="YYYY-MM; it happens on the month's first day")
    kind: Literal["tighten", "ban", "collapse", "investigation"]
    platform_class: str = Field("all", alias="class")
    platforms: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    largest: int = Field(0, ge=0, le=10_000, description="the N largest platforms of the class")
    hazard_multiplier: float = Field(3.0, ge=0.0, le=1000.0)
    months: int = Field(3, ge=1, le=120, description="how long a tightening lasts")
    news: Probability = Field(0.1, description="added to sentiment on the day")

    @field_validator("platform_class")
    @classmethod
    def _known_class(cls, name: str) -> str:
        if name not in PLATFORM_CLASSES:
            raise ValueError(f"unknown class of platforms {name!r}; allowed: "
                             f"{', '.join(PLATFORM_CLASSES)}")
        return name

    @model_validator(mode="after")
    def _named_or_class(self) -> Event:
        if self.kind == "collapse" and not self.platforms and not self.largest:
            raise ValueError("a collapse names its platforms (platforms = [ids]) or largest = N")
        return self


class IndustryScenario(_Section):
    """A whole industry run."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True, populate_by_name=True)
    run: RunTable = Field(default_factory=RunTable)
    industry: IndustryTable = Field(default_factory=IndustryTable)
    behaviour: BehaviourTable = Field(default_factory=BehaviourTable)
    channels: ChannelsTable = Field(default_factory=ChannelsTable)
    policies: PoliciesTable = Field(default_factory=PoliciesTable)
    events: list[Event] = Field(default_factory=list)
    _source_dir: str = PrivateAttr(".")

    @property
    def source_dir(self) -> str:
        """The folder of the scenario file (a platforms_file is read relative to it)."""
        return self._source_dir

    @source_dir.setter
    def source_dir(self, folder: str) -> None:
        self._source_dir = folder

    @model_validator(mode="after")
    def _events_in_run(self) -> IndustryScenario:
        first = month_index(self.run.start)
        for i, event in enumerate(self.events):  # an event after the last month does not happen
            if month_index(event.month) < first:
                raise ValueError(f"events[{i}].month {event.month} is before the run starts "
                                 f"({self.run.start})")
            if any(p >= self.industry.platforms for p in event.platforms):
                raise ValueError(f"events[{i}].platforms: the industry has platforms 0 to "
                                 f"{self.industry.platforms - 1}")
        return self


def month_index(text: str) -> int:
    """``"2018-06"`` as months since 2000-01."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    return (int(match[1]) - 2000) * 12 + int(match[2]) - 1


def month_name(index: int) -> str:
    """Months since 2000-01 as ``"YYYY-MM"``."""
    return f"{2000 + index // 12}-{index % 12 + 1:02d}"
