"""A founder's plan targets: ``net_margin[year=3] >= 0.05``, ``payback_month <= 12``.

A target names a figure (:data:`FIGURES`), where it is read (``[year=N]`` or ``[month=N]``,
counting from 1 as a plan does: month 36 is the last month of a three-year plan), a comparison
(``>=``, ``<=``, ``>``, ``<``) and a number. Monthly figures can be read in a month or a year (a
year's flow is the sum of its months, a balance is read at its end); yearly figures in a year;
once-per-run figures without brackets. A figure that never happened (a payback that never came)
misses every target.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

MAX_THRESHOLD = 1e15
"""The largest target threshold in absolute value (CNY, a count or a share): 1,000 万亿."""


@dataclass(frozen=True)
class Figure:
    """A figure a target can name: ``per`` is ``month``, ``year`` or ``run``."""

    per: str
    description: str


FIGURES = {
    "revenue_cny": Figure("month", "revenue (营业收入), CNY; a year's is the sum of its months"),
    "costs_cny": Figure("month", "costs and losses before income tax, CNY"),
    "profit_before_tax_cny": Figure("month", "profit before tax, CNY"),
    "net_income_cny": Figure("month", "net income (净利润), CNY"),
    "volume_cny": Figure("month", "principal lent (成交额), CNY"),
    "daily_volume_cny": Figure("month", "principal lent a day, CNY (the month's / 30)"),
    "cash_cny": Figure("month", "own cash (自有资金) at the end of the month (a year's: at its end)"),
    "equity_cny": Figure("month", "equity at the end of the month (a year's: at its end)"),
    "outstanding_cny": Figure("month", "principal outstanding at the end of the month (待收本金)"),
    "net_margin": Figure("year", "net income / revenue of the year"),
    "revenue_growth": Figure("year", "revenue of the year / revenue of the year before - 1"),
    "cost_growth": Figure("year", "costs of the year / costs of the year before - 1"),
    "bad_debt_rate": Figure("year", "principal written off since the start / principal lent since "
                                    "the start, at the year's end (累计坏账率, as platforms disclose)"),
    "break_even_month": Figure("run", "first month after which the net income summed from month 1 "
                                      "stays at zero or more to the end of the run: the losses "
                                      "are earned back for good (never: fails)"),
    "profitable_month": Figure("run", "first month from which every month's net income is zero "
                                      "or more to the end of the run (never: fails)"),
    "payback_month": Figure("run", "first month by whose end the cash the business made (operating "
                                   "and investing cash flow, summed from month 1) has paid back the "
                                   "owners' money put in so far (paid-in capital) (never: fails)"),
    "owners_money_in_cny": Figure("run", "the most paid-in capital at a month's end: what the owners "
                                         "put in (capital, raises, calls), CNY"),
    "min_cash_cny": Figure("run", "lowest own cash at a month's end, CNY"),
    "cash_out_month": Figure("run", "first month the owners had to put in unplanned money (capital "
                                    "call) or the platform failed (never: no such month)"),
    "capital_called_cny": Figure("run", "unplanned money the owners put in, CNY"),
    "cash_ran_out": Figure("run", "1 when the owners had to put in unplanned money or the platform "
                                  "failed, else 0: 'cash_ran_out <= 0' is a plan whose cash lasts"),
    "capital_needed_cny": Figure("run", "unplanned money the owners put in, plus, where the "
                                        "platform failed, the costs and redemptions it could not "
                                        "pay then (at least what survival needed), CNY"),
}
"""Every figure a target can name."""

RENAMED = {"cumulative_profit_month": "break_even_month"}
"""Figures a target named before, and the figure that now has their meaning."""

COMPARISONS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
PATTERN = re.compile(r"^\s*(?P<figure>[a-z_]+)\s*(\[\s*(?P<per>year|month)\s*=\s*(?P<at>\d+)"
                     r"\s*\])?\s*(?P<op>>=|<=|>|<)\s*(?P<number>[-+]?[0-9][0-9_]*\.?[0-9]*"
                     r"([eE][-+]?[0-9]+)?)\s*$")
SYNTAX = "figure[year=N] >= number, figure[month=N] <= number or figure > number"


@dataclass(frozen=True)
class Target:
    """One parsed target."""

    text: str
    figure: str
    per: str | None
    at: int | None
    op: str
    threshold: float

    def met(self, value) -> bool:
        """Whether ``value`` meets it (None or NaN: never)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return bool(COMPARISONS[self.op](value, self.threshold))


def parse_target(text: str, months: int) -> Target:
    """Parse ``text`` for a run of ``months`` months; ValueError says what is wrong and allowed."""
    match = PATTERN.match(text)
    if not match:
        raise ValueError(f"target {text!r} is not a comparison; write {SYNTAX}")
    name, per, op = match["figure"], match["per"], match["op"]
    if name in RENAMED:
        raise ValueError(f"target {text!r}: {name} is now {RENAMED[name]} "
                         f"({FIGURES[RENAMED[name]].description})")
    if name not in FIGURES:
        raise ValueError(f"target {text!r} names no figure {name!r}; figures are "
                         f"{', '.join(sorted(FIGURES))}")
    figure = FIGURES[name]
    at = int(match["at"]) if per else None
    if figure.per == "run" and per:
        raise ValueError(f"target {text!r}: {name} is read once per run, without [{per}=...]")
    if figure.per != "run" and not per:
        where = "[year=N]" if figure.per == "year" else "[month=N] or [year=N]"
        raise ValueError(f"target {text!r}: say where {name} is read: {where}")
    if figure.per == "year" and per == "month":
        raise ValueError(f"target {text!r}: {name} is a yearly figure; use [year=N]")
    if per:
        last = months if per == "month" else math.ceil(months / 12)
        if not 1 <= at <= last:
            raise ValueError(f"target {text!r}: {per} {at} is outside the run ({per}s 1 to "
                             f"{last}, counting from 1)")
        if name.endswith("_growth") and at == 1:
            raise ValueError(f"target {text!r}: {name} compares a year with the year before, and "
                             f"year 1 has none; give [year=2] or later")
    threshold = float(match["number"].replace("_", ""))
    if not math.isfinite(threshold) or abs(threshold) > MAX_THRESHOLD:
        raise ValueError(f"target {text!r}: the threshold {match['number']} is out of range; "
                         f"give a finite number within ±{MAX_THRESHOLD:g}")
    return Target(text, name, per, at, op, threshold)


def met_by_construction(target: Target, capital_call_limit_cny: float) -> str | None:
    """Why ``target`` is met in every run whatever happens (None if it is not).

    With no capital calls allowed (``capital_call_limit_cny = 0``, the default), the owners never
    put in unplanned money: a platform that runs short fails instead, so ``capital_called_cny <= X``
    (X >= 0) holds in every run, the failed ones included.
    """
    if target.figure == "capital_called_cny" and capital_call_limit_cny == 0 and target.met(0.0):
        return ("with liquidity.capital_call_limit_cny = 0 (the default) the owners never put in "
                "unplanned money: a platform that runs short fails instead, so it holds in every "
                "run; write 'cash_ran_out <= 0' (no capital call and no failure), or allow calls "
                "with liquidity.capital_call_limit_cny")
    return None


def target_value(target: Target, monthly, yearly, once: dict):
    """The figure ``target`` reads, from the run's monthly and yearly tables and its ``once`` dict."""
    if target.per is None:
        return once[target.figure]
    table = monthly if target.per == "month" else yearly
    value = table.at[target.at, target.figure]
    return None if value is None else float(value)


def parse_figure(name: str, months: int = 10**6) -> Target:
    """A figure named as an output (``net_income_cny[year=3]``, ``payback_month``): no comparison.

    ValueError names the output and what is allowed (as :func:`parse_target` does for a target).
    """
    try:
        return parse_target(f"{name} >= 0", months)
    except ValueError as error:
        raise ValueError(str(error).replace(f"target {name + ' >= 0'!r}", f"output {name!r}")
                         .replace(f"write {SYNTAX}", "write figure[year=N], figure[month=N] "
                                                     "or a run's figure")) from None


def figure_value(report, name: str, platform: str | None = None) -> float:
    """The value of figure ``name`` in a run's company ``report`` (NaN where it never happened).

    ``platform``: whose; the plan's platform by default, else the first.
    """
    months = max(len(table) for table in report.monthly.values())
    figure = parse_figure(name, months)
    platform = platform or next(iter(report.monthly))
    value = target_value(figure, report.monthly[platform], report.yearly[platform],
                         report.once[platform])
    return math.nan if value is None else float(value)


def minimum_cash(targets: list[str], months: int) -> float | None:
    """The plan's minimum own cash, CNY: the threshold of a ``min_cash_cny >= X`` target, or None."""
    for text in targets:
        target = parse_target(text, max(1, months))
        if target.figure == "min_cash_cny" and target.op in (">=", ">"):
            return target.threshold
    return None
