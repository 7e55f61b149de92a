"""The scenario's table of a platform's company: its staff, offices, other costs, taxes and capital.

``[platforms.company]`` (docs/business-plan.md). Every schedule is given by year of the run: the
first value is year 1 (months 0-11), the second year 2, and the last value holds for every later
year, so ``[20]`` means 20 throughout and ``[10, 15, 20]`` grows by year. Amounts in CNY, salaries
per head and month (with social insurance, 五险一金), tax rates as fractions. Without the table a
platform has none of these costs, no taxes and no later capital: the scenarios written before it run
as they did.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.loans import DAYS_PER_MONTH

DEPARTMENTS = ("market", "risk", "collection", "technology", "customer_service", "management")
"""The departments of a platform's staff (市场, 风控, 催收, 技术, 客服, 管理)."""

MAX_COMPANY_CNY = 1e12
Amount = Annotated[float, Field(ge=0.0, le=MAX_COMPANY_CNY)]
ByYear = Annotated[list[Amount], Field(min_length=1, max_length=100)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False,
                              validate_default=True)


class Department(_Section):
    """One department: its headcount by year and what a head costs a month (CNY)."""

    headcount: list[Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        min_length=1, max_length=100, description="people by year; the last value repeats")
    salary_monthly_cny: Amount = Field(description="cost of one head a month, CNY")


class CapitalRaise(_Section):
    """Owners' money paid in at the start of a month (增资, a financing round)."""

    month: int = Field(ge=0, le=1200, description="month of the run it arrives in")
    amount_cny: float = Field(gt=0.0, le=MAX_COMPANY_CNY)


class CompanyConfig(_Section):
    """The company behind a platform: staff, offices, technology, credit data, taxes, capital raises.

    Costs are paid on the first day of each month from the platform's own cash (with capital calls
    where it runs short, as every cost). ``credit_data_per_application_cny`` is paid for each
    application the platform reviewed last month (征信 queries). VAT (增值税) is paid each month at
    ``vat_rate`` of last month's fee revenue less the input VAT in last month's purchases
    (``vat_input_rate`` of their price before VAT; an excess credit is carried to the next
    month), with ``vat_surcharge_rate`` of it in surcharges (税金及附加); income tax (企业所得税)
    at the start of each year at ``income_tax_rate`` of last year's profit before tax, after
    losses of the five years before (亏损结转), shown in the statements in the year it is owed.
    A failed platform raises nothing more; winding down, it pays a wind-down's costs only
    (:mod:`sim.company.costs`).
    """

    staff: dict[str, Department] = Field(default_factory=dict,
                                         description=f"by department: {', '.join(DEPARTMENTS)}")
    technology_monthly_cny: ByYear = Field([0.0], description="servers, licences, outsourcing")
    rent_monthly_cny: ByYear = Field([0.0], description="head office rent and running costs")
    branches: list[Annotated[int, Field(ge=0, le=100_000)]] = Field(
        [0], min_length=1, max_length=100, description="offline branches (线下门店) by year")
    branch_monthly_cny: Amount = Field(0.0, description="rent and running cost of one branch")
    credit_data_per_application_cny: Amount = Field(0.0, description="credit bureau queries")
    vat_rate: float = Field(0.0, ge=0.0, le=0.5, description="VAT on fee revenue (6 % in China)")
    vat_input_rate: float = Field(
        0.0, ge=0.0, le=0.5, description="VAT rate inside its purchases (technology, rent, "
        "branches, credit data, custody, marketing, other costs), credited against its VAT")
    vat_surcharge_rate: float = Field(
        0.0, ge=0.0, le=0.5, description="surcharges on the VAT paid (12 %: city construction "
        "7 %, education 3 %, local education 2 %)")
    income_tax_rate: float = Field(0.0, ge=0.0, le=0.8, description="on each year's profit (25 %)")
    capital_raises: list[CapitalRaise] = Field(default_factory=list)

    @model_validator(mode="after")
    def _departments(self):
        unknown = sorted(set(self.staff) - set(DEPARTMENTS))
        if unknown:
            raise ValueError(f"staff names no such department: {unknown}; departments are "
                             f"{list(DEPARTMENTS)}")
        return self


def for_year(schedule: list, month: int):
    """The value of a by-year ``schedule`` in ``month`` of the run (the last value repeats)."""
    return schedule[min(month // 12, len(schedule) - 1)]


def check_raises(company: CompanyConfig, horizon_days: int, platform: int) -> None:
    """Capital raises within the run; raises ValueError naming the raise."""
    months = (horizon_days + DAYS_PER_MONTH - 1) // DAYS_PER_MONTH
    for i, raised in enumerate(company.capital_raises):
        if raised.month >= months:
            raise ValueError(f"platforms[{platform}].company.capital_raises[{i}].month is "
                             f"{raised.month}, past the run's last month {months - 1} "
                             f"(run.horizon_days = {horizon_days})")
