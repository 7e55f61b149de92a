"""The scenario's ``[stress]`` table: a recession, a funding freeze, a guarantee that fails, a strike.

Each event is dated by the run's month (months since day 0, 30 days each) and checked against the
run: an event after its last month would never happen, so it is refused, not ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Month = Annotated[int, Field(ge=0, le=1200)]  # a month of the run (100 years at most)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True)


class RecessionWindow(_Section):
    """Months in which every grade's default hazard is multiplied (on top of the macro factor)."""

    start_month: Month = Field(description="first month of the window")
    months: int = Field(ge=1, le=1200, description="length of the window, months")
    hazard_multiplier: float = Field(gt=0.0, le=100.0, description="e.g. 2 or 3")


class StressConfig(_Section):
    """Stress events: a recession, a funding freeze, a guarantee that fails, borrowers who stop paying.

    ``recession`` acts on the whole market; the other events hit the ``platforms`` named (all when
    empty). A platform is *in trouble* once its lending is frozen, its guarantee has failed or
    could not pay a claim in full, or its fund pool is overdue; borrowers of a platform in trouble
    miss instalments ``strike_hazard_multiplier`` times as often (逃废债: they stop paying a
    platform they think is going down).
    """

    recession: list[RecessionWindow] = Field(default_factory=list)
    funding_freeze_month: Month | None = Field(
        None, description="from this month the platform lists no new loans")
    guarantee_fails_month: Month | None = Field(
        None, description="in this month the platform's guarantee fails: it pays and "
                                "covers nothing more (担保公司倒闭, 准备金被挪用)")
    strike_hazard_multiplier: float = Field(
        1.0, ge=1.0, le=100.0, description="miss hazard multiplier on a platform in trouble")
    platforms: list[str] = Field(default_factory=list, description="platforms hit; empty: all")


def check_stress(stress: StressConfig, horizon_days: int, names: list[str]) -> None:
    """Stress events within the run and on named platforms; ValueError naming the key otherwise."""
    last = (horizon_days - 1) // 30
    for i, window in enumerate(stress.recession):
        if window.start_month > last:
            raise ValueError(f"stress.recession[{i}].start_month is {window.start_month}, past the "
                             f"run's last month {last} (run.horizon_days = {horizon_days})")
    for key in ("funding_freeze_month", "guarantee_fails_month"):
        month = getattr(stress, key)
        if month is not None and month > last:
            raise ValueError(f"stress.{key} is {month}, past the run's last month {last} "
                             f"(run.horizon_days = {horizon_days})")
    unknown = [name for name in stress.platforms if name not in names]
    if unknown:
        raise ValueError(f"stress.platforms names no such platform: {unknown}; platforms are "
                         f"{names}")
