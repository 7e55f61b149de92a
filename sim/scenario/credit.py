"""The richer form of the credit model: default and prepayment by term and loan age (``[grades.seasoning]``).

The simple form gives one monthly hazard per grade (``grades.default_hazard_monthly``,
``grades.prepay_hazard_monthly``), the same for every term and every month on book. The richer form
keeps those as each grade's level and multiplies them by a factor per term, grade and band of months
on book (seasoning: defaults cluster in a loan's first years, 60-month loans default more)::

    [grades.seasoning]
    terms_months = [36, 60]                 # a loan of another term uses the nearest
    age_bands_months = [0, 6, 12, 24, 36]   # months on book where each band starts (the last runs on)
    default_multiplier = [[[...], ...], [[...], ...]]   # [term][grade][band]
    prepay_multiplier = [[[...], ...], [[...], ...]]

The age of an instalment is the months on book before it (0 for the first). Without the table every
factor is 1 and a run gives the numbers it gave before the table existed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.loans import MAX_TERM_MONTHS

Multiplier = Annotated[float, Field(ge=0.0, le=1000.0)]


class SeasoningConfig(BaseModel):
    """Hazard factors by term, grade and band of months on book (see the module's docs)."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    terms_months: list[Annotated[int, Field(ge=1, le=MAX_TERM_MONTHS)]] = Field(
        min_length=1, max_length=MAX_TERM_MONTHS)
    age_bands_months: list[Annotated[int, Field(ge=0, lt=MAX_TERM_MONTHS)]] = Field(
        min_length=1, max_length=MAX_TERM_MONTHS)
    default_multiplier: list[list[list[Multiplier]]]
    prepay_multiplier: list[list[list[Multiplier]]]

    @model_validator(mode="after")
    def _ordered(self):
        if any(b <= a for a, b in zip(self.terms_months, self.terms_months[1:])):
            raise ValueError(f"terms_months must increase: {self.terms_months}")
        bands = self.age_bands_months
        if bands[0] != 0 or any(b <= a for a, b in zip(bands, bands[1:])):
            raise ValueError(f"age_bands_months must start at 0 and increase: {bands}")
        return self


def check_seasoning(seasoning: SeasoningConfig, grades: list[str], default_hazard: list[float],
                    prepay_hazard: list[float]) -> None:
    """Tables of shape [term][grade][band] whose hazards stay at most 1 (ValueError naming them)."""
    shape = (len(seasoning.terms_months), len(grades), len(seasoning.age_bands_months))
    for key, levels in (("default_multiplier", default_hazard), ("prepay_multiplier", prepay_hazard)):
        table = getattr(seasoning, key)
        if len(table) != shape[0] or any(len(rows) != shape[1] for rows in table) or any(
                len(row) != shape[2] for rows in table for row in rows):
            raise ValueError(f"grades.seasoning.{key} must be [term][grade][band]: {shape[0]} terms "
                             f"{seasoning.terms_months} x {shape[1]} grades {grades} x {shape[2]} "
                             f"bands {seasoning.age_bands_months}")
        for t, rows in enumerate(table):
            for g, row in enumerate(rows):
                for b, factor in enumerate(row):
                    if factor * levels[g] > 1.0:
                        raise ValueError(
                            f"grades.seasoning.{key}[{t}][{g}][{b}] = {factor:g} makes grade "
                            f"{grades[g]}'s monthly hazard {factor * levels[g]:.3g} (term "
                            f"{seasoning.terms_months[t]}, from month {seasoning.age_bands_months[b]}"
                            f"); a hazard is at most 1")


def check_all_in_cap(cap: float, annual_rates: list[float]) -> None:
    """Every grade's rate must be listable under the all-in cap (``loans.all_in_cap``)."""
    for g, rate in enumerate(annual_rates):
        if rate > cap:
            raise ValueError(f"loans.all_in_cap {cap:g} is below grades.annual_rate[{g}] = "
                             f"{rate:g}: no loan of that grade could be listed; raise the cap "
                             f"(0.36, or 0.24 for the courts' protected band) or lower the rate")
