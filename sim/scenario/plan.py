"""The scenario's ``[plan]`` table: a founder's targets and the inputs they are unsure of.

``targets`` are comparisons of the plan's figures (:mod:`sim.company.targets`), e.g.
``"net_margin[year=3] >= 0.05"`` or ``"payback_month <= 12"``; ``platform`` names the platform whose
company they are about (the first one when empty). Every run reports each target's figure and
whether it was met; ``p2psim plan`` gives the probability of meeting each, drawing the inputs of
``[[plan.uncertain]]`` afresh for every run (docs/business-plan.md)::

    [[plan.uncertain]]
    key = "borrowers.applications_per_day"   # a scenario key, as --set writes it
    distribution = "lognormal"               # normal, lognormal, uniform or triangular
    median = 1.0
    sigma = 0.3
    how = "scale"                            # set (the draw is the value), scale or shift it
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.company.targets import met_by_construction, parse_target
from sim.loans import DAYS_PER_MONTH

PARAMETERS = {"normal": ("mean", "sd"), "lognormal": ("median", "sigma"),
              "uniform": ("low", "high"), "triangular": ("low", "mode", "high")}
"""What each distribution needs."""


class UncertainInput(BaseModel):
    """A scenario input the founder is unsure of: a key and the distribution of its value."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    key: str = Field(min_length=1, description="a scenario key, e.g. platforms.0.service_fee")
    distribution: Literal["normal", "lognormal", "uniform", "triangular"]
    how: Literal["set", "scale", "shift"] = Field(
        "set", description="set: the draw is the value; scale: the value (each item of a list) "
                           "times the draw; shift: plus the draw")
    mean: float | None = None
    sd: float | None = Field(None, ge=0.0)
    median: float | None = Field(None, gt=0.0)
    sigma: float | None = Field(None, ge=0.0)
    low: float | None = None
    mode: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _parameters(self):
        needed = PARAMETERS[self.distribution]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.distribution} distribution needs {', '.join(needed)}; "
                             f"missing: {', '.join(missing)}")
        extra = [name for names in PARAMETERS.values() for name in names
                 if name not in needed and getattr(self, name) is not None]
        if extra:
            raise ValueError(f"a {self.distribution} distribution takes {', '.join(needed)}, "
                             f"not {', '.join(sorted(set(extra)))}")
        if self.distribution in ("uniform", "triangular") and not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        if self.distribution == "triangular" and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({self.mode}) must lie between low and high")
        return self


CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""What a source's text may not hold: a workbook cannot (XML 1.0), and no one types it."""


class PlanConfig(BaseModel):
    """The targets of a business plan and the inputs it is unsure of."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)

    platform: str = Field("", description="whose plan; empty: the first platform")
    targets: list[str] = Field(default_factory=list, max_length=200)
    uncertain: list[UncertainInput] = Field(default_factory=list, max_length=100)
    sources: dict[str, str] = Field(
        default_factory=dict, max_length=2000, description="where an input's number came from, by "
        "key as --set writes it: the seed, a law, data, or an assumption (plan.xlsx, Inputs)")

    @field_validator("sources")
    @classmethod
    def _plain_text(cls, sources: dict[str, str]) -> dict[str, str]:
        """Sources are plain text: a control character (other than tab and new line) is refused."""
        for key, text in sources.items():
            found = CONTROL_CHARACTERS.search(key + text)
            if found:
                raise ValueError(f"the source of {key!r} holds the control character "
                                 f"U+{ord(found.group()):04X}; a source is plain text (tabs and "
                                 f"new lines allowed)")
        return sources


def check_plan(plan: PlanConfig, horizon_days: int, platforms: list) -> None:
    """Targets that parse, read inside the run and can be missed, on a platform that exists.

    A target met in every run by construction (:func:`~sim.company.targets.met_by_construction`)
    is refused: its 100 % would read as good news. ValueError says which and why.
    """
    platform_names = [p.name for p in platforms]
    if plan.platform and plan.platform not in platform_names:
        raise ValueError(f"plan.platform names no such platform: {plan.platform!r}; platforms are "
                         f"{platform_names}")
    if plan.targets and not platform_names:
        raise ValueError("plan.targets: a plan's targets are a platform's, and this scenario has "
                         "none of its own ([[platforms]]; an industry's drawn platforms keep no "
                         "company books); add the platform, e.g. scenarios/seed_plan_in_2018.toml")
    months = (horizon_days + DAYS_PER_MONTH - 1) // DAYS_PER_MONTH
    index = platform_names.index(plan.platform or platform_names[0]) if platform_names else None
    for i, text in enumerate(plan.targets):
        try:
            target = parse_target(text, months)
        except ValueError as error:
            raise ValueError(f"plan.targets[{i}]: {error}") from None
        limit = platforms[index].liquidity.capital_call_limit_cny if index is not None else -1.0
        why = met_by_construction(target, limit)
        if why:
            raise ValueError(f"plan.targets[{i}]: {text!r} is met by construction on "
                             f"platforms.{index}: {why}")
