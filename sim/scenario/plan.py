"""The scenario's ``[plan]`` table: a founder's targets for one platform (docs/business-plan.md).

``targets`` are comparisons of the plan's figures (:mod:`sim.company.targets`), e.g.
``"net_margin[year=3] >= 0.05"`` or ``"payback_month <= 12"``; ``platform`` names the platform whose
company they are about (the first one when empty). Every run reports each target's figure and
whether it was met; ``p2psim plan`` gives the probability of meeting each.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sim.company.targets import parse_target
from sim.loans import DAYS_PER_MONTH


class PlanConfig(BaseModel):
    """The targets of a business plan."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=True)

    platform: str = Field("", description="whose plan; empty: the first platform")
    targets: list[str] = Field(default_factory=list, max_length=200)


def check_plan(plan: PlanConfig, horizon_days: int, platform_names: list[str]) -> None:
    """Targets that parse and read inside the run, on a platform that exists (ValueError)."""
    if plan.platform and plan.platform not in platform_names:
        raise ValueError(f"plan.platform names no such platform: {plan.platform!r}; platforms are "
                         f"{platform_names}")
    months = (horizon_days + DAYS_PER_MONTH - 1) // DAYS_PER_MONTH
    for i, text in enumerate(plan.targets):
        try:
            parse_target(text, months)
        except ValueError as error:
            raise ValueError(f"plan.targets[{i}]: {error}") from None
