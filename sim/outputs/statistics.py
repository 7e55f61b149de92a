"""The end-of-run statistics: one registry from which the run's summary, its table and the docs come.

Each :class:`Statistic` has a name (the key in ``summary.json`` and in an experiment's
``outputs.statistics``), a label for the printed table, a kind (how it is written: a count, CNY, a
share) and how it is computed from the finished market and its daily time series. Adding a statistic
is adding one line to :data:`STATISTICS`; ``docs/experiments.md`` lists them (a test checks the list
is :func:`markdown_table`'s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from sim.company.report import company_books, remember, statement_total, summary_section
from sim.industry.failures import CAUSES
from sim.ledger import AccountKind
from sim.loans import DAYS_PER_YEAR
from sim.outputs.flows import platform_summary


class Kind(StrEnum):
    """How a statistic is written."""

    COUNT = "count"  # 1,234
    CNY = "CNY"      # 1,234.56
    SHARE = "share"  # 12.34 %


@dataclass(frozen=True)
class Statistic:
    """One end-of-run figure: ``compute(market, daily)`` with ``daily`` the time series frame."""

    name: str
    label: str
    kind: Kind
    compute: Callable[[object, pd.DataFrame], float | int]
    only_if_any: bool = False  # left out of the printed table when zero (a policy not in use)
    note: str = ""             # how it is made, where the label does not say (for the docs)
    industry: bool = False     # a figure of an industry's platforms (only a run with [industry])

    def text(self, value: float | int) -> str:
        """The value as the summary table writes it."""
        if self.kind is Kind.SHARE:
            return f"{value:.2%}"
        return f"{value:,.2f}" if isinstance(value, float) else f"{value:,}"


def _run_losses_fen(platform) -> int:
    return sum(amount for cause, amount in platform.run.losses_fen.items() if cause != "defaults")


def _banned(market, platform) -> bool:
    """Whether the regulators wound the platform down (a ban: not a failure of its own, 暴雷)."""
    return market.industry is not None and bool(market.industry.banned[platform.index])


def _listings(daily: pd.DataFrame) -> int:
    return daily["funded_listings"].sum() + daily["failed_listings"].sum()


def _failed_share(market, daily: pd.DataFrame) -> float:
    listings = _listings(daily)
    return float(daily["failed_listings"].sum() / listings) if listings else 0.0


def _annual_default_rate(market, daily: pd.DataFrame) -> float:
    """Defaulted principal a year over the average outstanding book."""
    years = max(market.day, 1) / DAYS_PER_YEAR
    average_book = daily["outstanding_principal_cny"].mean() if len(daily) else 0.0
    defaulted = daily["default_principal_cny"].sum()
    return float(defaulted / average_book / years) if average_book else 0.0


def _sum_of(column: str, cast: type = float) -> Callable:
    return lambda market, daily: cast(daily[column].sum())


def _statement(statement: str, line: str) -> Callable:
    """A line of the company's statements, summed over the platforms: ``statements.csv``'s numbers.

    A flow is summed over the run, a balance read at its end.
    """
    return lambda market, daily: statement_total(company_books(market), statement, line)


def _layer_payouts(column: str) -> Callable:
    """A layer's payouts, where some platform's protection has several layers (else 0: not shown)."""
    def payouts(market, daily: pd.DataFrame) -> float:
        layered = any(len(p.layers) > 1 for p in market.platforms)
        return float(daily[column].sum()) if layered else 0.0
    return payouts


def _account_cny(kind: AccountKind) -> Callable:
    return lambda market, daily: float(market.account_total(kind) / 100)


def _monthly(column: str, how: str = "sum", cast: type = float) -> Callable:
    """A figure of the industry's monthly table (:mod:`sim.industry.tracker`)."""
    def figure(market, daily: pd.DataFrame):
        monthly = market.industry.tracker.frame()
        if not len(monthly):
            return cast(0)
        column_ = monthly[column]
        return cast({"sum": column_.sum(), "max": column_.max(), "last": column_.iloc[-1]}[how])
    return figure


def _damage_cny(market, daily: pd.DataFrame) -> float:
    monthly = market.industry.tracker.frame()
    return float(monthly.filter(like="damage_").sum().sum()) if len(monthly) else 0.0


def _wave(what: str) -> Callable:
    """The wave's timing and size (:func:`wave_measures`)."""
    def figure(market, daily: pd.DataFrame) -> float:
        return wave_measures(market.industry.tracker.frame())[what]
    return figure


def wave_measures(monthly: pd.DataFrame) -> dict[str, float]:
    """The wave in an industry's monthly table: when it peaked and how much lending and balance fell.

    ``peak_month``: months from the start to the month of the most new problem platforms (the
    first such month); ``volume_fall``: 1 - the new lending of the peak month and the two after
    over that of the three months before it; ``balance_fall``: 1 - the outstanding balance on live
    platforms two months after the peak over the balance the month before it; ``investors_fall``:
    the same for active investors. Shares of 0-1 (negative: a rise); NaN where the peak is too
    near the run's start or end to measure.
    """
    if not len(monthly):
        return dict.fromkeys(("peak_month", "volume_fall", "balance_fall", "investors_fall"),
                             np.nan)
    peak = int(monthly.new_problem.to_numpy().argmax())
    out = {"peak_month": float(peak)}
    measurable = 3 <= peak <= len(monthly) - 3
    volume = monthly.volume_cny.to_numpy()
    out["volume_fall"] = (1 - volume[peak:peak + 3].sum() / volume[peak - 3:peak].sum()
                          if measurable and volume[peak - 3:peak].sum() > 0 else np.nan)
    for name, column in (("balance_fall", "outstanding_cny"),
                         ("investors_fall", "active_investors")):
        series = monthly[column].to_numpy(dtype=float)
        out[name] = (1 - series[peak + 2] / series[peak - 1]
                     if measurable and series[peak - 1] > 0 else np.nan)
    return out


def _problem_platforms(cause: str | None = None) -> Callable:
    def count(market, daily: pd.DataFrame) -> int:
        industry = market.industry
        failed = industry.problem_day >= 0
        if cause is not None:
            failed &= industry.cause == CAUSES.index(cause)
        return int(failed.sum())
    return count


STATISTICS = (
    Statistic("days", "days simulated", Kind.COUNT, lambda m, d: int(m.day)),
    Statistic("applications", "loan applications", Kind.COUNT, _sum_of("applications", int)),
    Statistic("loans_funded", "loans funded", Kind.COUNT, _sum_of("funded_listings", int)),
    Statistic("failed_listing_share", "failed listings (流标) share", Kind.SHARE, _failed_share),
    Statistic("volume_cny", "volume lent, CNY", Kind.CNY, _sum_of("volume_cny")),
    Statistic("outstanding_principal_cny", "outstanding principal, CNY", Kind.CNY,
              lambda m, d: float(m.outstanding_fen() / 100)),
    Statistic("outstanding_loans", "outstanding loans", Kind.COUNT,
              lambda m, d: int(m.totals["loans_outstanding"])),
    Statistic("defaults", "defaults (written off)", Kind.COUNT, _sum_of("defaults", int)),
    Statistic("defaulted_principal_cny", "defaulted principal, CNY", Kind.CNY,
              _sum_of("default_principal_cny")),
    Statistic("annual_default_rate", "annual default rate (of avg book)", Kind.SHARE,
              _annual_default_rate,
              note="principal written off a year / the average outstanding principal"),
    Statistic("recoveries_cny", "recoveries, CNY", Kind.CNY, _sum_of("recoveries_cny")),
    Statistic("recoveries_pending_cny", "recoveries still to come, CNY", Kind.CNY,
              lambda m, d: m.arrears.recoveries.pending_fen / 100, only_if_any=True,
              note="written off, recovered after `grades.recovery_lag_months`, not yet paid"),
    Statistic("investor_loss_cny", "investors' principal lost, CNY", Kind.CNY,
              _sum_of("investor_loss_cny")),
    Statistic("guarantee_payout_cny", "guarantee payouts (代偿), CNY", Kind.CNY,
              _sum_of("guarantee_payout_cny"), only_if_any=True),
    Statistic("guarantor_payout_cny", "  of which by the guarantor, CNY", Kind.CNY,
              _layer_payouts("guarantor_payout_cny"), only_if_any=True,
              note="shown where protection has several layers"),
    Statistic("reserve_payout_cny", "  of which by the reserve fund, CNY", Kind.CNY,
              _layer_payouts("reserve_payout_cny"), only_if_any=True,
              note="shown where protection has several layers"),
    Statistic("insurer_payout_cny", "  of which by the insurer, CNY", Kind.CNY,
              _layer_payouts("insurer_payout_cny"), only_if_any=True,
              note="shown where protection has several layers"),
    Statistic("guarantee_unpaid_cny", "guarantee claims unpaid, CNY", Kind.CNY,
              _sum_of("guarantee_unpaid_cny"), only_if_any=True),
    Statistic("reserve_fund_cny", "reserve fund at the end, CNY", Kind.CNY,
              _account_cny(AccountKind.RESERVE_FUND), only_if_any=True),
    Statistic("guarantor_capital_cny", "guarantor capital at the end, CNY", Kind.CNY,
              _account_cny(AccountKind.GUARANTOR_CAPITAL), only_if_any=True),
    Statistic("marketing_spend_cny", "marketing spend, CNY", Kind.CNY,
              lambda m, d: float(sum(p.marketing_spend_total_fen for p in m.platforms) / 100),
              only_if_any=True),
    Statistic("active_investors", "active investors at the end", Kind.COUNT,
              lambda m, d: int(m.investors.active.sum())),
    Statistic("platform_revenue_cny", "platform revenue (营业收入), CNY", Kind.CNY,
              _statement("income", "revenue"),
              note="the statements' revenue over the run: service, management, guarantee and "
                   "reserve, collection, transfer and withdrawal fees, and income on claims held"),
    Statistic("platform_cash_cny", "platform cash (自有资金), CNY", Kind.CNY,
              _statement("balance_sheet", "cash"),
              note="the statements' own cash at the end (a fund pool's cash and the reserve are "
                   "lines of their own)"),
    Statistic("platform_profit_cny", "platform net income over the run (净利润), CNY", Kind.CNY,
              _statement("income", "net_income"),
              note="the statements' net income summed over the run: the owners' money (capital, "
                   "raises, calls, the first reserve, 挪用 and 跑路) is equity, never profit"),
    Statistic("investor_return_annual", "investors' realised return, a year", Kind.SHARE,
              lambda m, d: float(m.investor_return_annual()),
              note="investors' income net of fees and losses / their average claims, a year"),
    Statistic("loan_months", "loan-months serviced", Kind.COUNT,
              lambda m, d: int(m.totals["loan_months"])),
    Statistic("platforms_failed", "platforms failed (暴雷)", Kind.COUNT,
              lambda m, d: sum(p.run.state.failed and not _banned(m, p) for p in m.platforms),
              only_if_any=True, note="wind-down, closure or flight of its own (docs/runs.md); "
                                     "a regulators' ban is platforms_banned"),
    Statistic("platforms_banned", "platforms wound down by the regulators' ban", Kind.COUNT,
              lambda m, d: sum(_banned(m, p) for p in m.platforms), industry=True, only_if_any=True,
              note="良性退出 ordered by a dated event: not a failure (问题平台)"),
    Statistic("run_losses_cny", "investors' losses in runs, CNY", Kind.CNY,
              lambda m, d: sum(_run_losses_fen(p) for p in m.platforms) / 100, only_if_any=True,
              note="notes sold below par, loans sold at a closure, money taken by operators, and "
                   "withdrawals and products unpaid at the end"),
    Statistic("taken_by_operators_cny", "taken by operators (跑路, 挪用), CNY", Kind.CNY,
              lambda m, d: sum(p.run.taken_fen for p in m.platforms) / 100, only_if_any=True),
    Statistic("capital_called_cny", "owners' capital calls, CNY", Kind.CNY,
              lambda m, d: sum(p.run.capital_called_fen for p in m.platforms) / 100,
              only_if_any=True, note="money owners put in when the platform's cash ran short"),
    Statistic("problem_platforms", "industry: problem platforms (问题平台)", Kind.COUNT,
              _problem_platforms(), industry=True,
              note="platforms of the industry that failed or froze in the run (a ban's "
                   "wind-down is not counted)"),
    Statistic("problem_platforms_in_runs", "industry: of which in runs (提现困难)", Kind.COUNT,
              _problem_platforms("run"), industry=True),
    Statistic("peak_new_problem", "industry: most new problem platforms in a month", Kind.COUNT,
              _monthly("new_problem", "max", int), industry=True),
    Statistic("wave_peak_month", "industry: month of the most new problems, from the start",
              Kind.COUNT, _wave("peak_month"), industry=True,
              note="months after the industry's first month (17 is June 2018 from January 2017)"),
    Statistic("wave_volume_fall", "industry: fall in new lending around the peak", Kind.SHARE,
              _wave("volume_fall"), industry=True,
              note="1 - lending in the peak month and the two after / the three months before"),
    Statistic("wave_balance_fall", "industry: fall in the outstanding balance around the peak",
              Kind.SHARE, _wave("balance_fall"), industry=True,
              note="1 - balance on operating platforms two months after the peak / the month "
                   "before"),
    Statistic("wave_investors_fall", "industry: fall in active investors around the peak",
              Kind.SHARE, _wave("investors_fall"), industry=True,
              note="1 - lending investors two months after the peak / the month before"),
    Statistic("industry_volume_cny", "industry: new lending over the run, CNY", Kind.CNY,
              _monthly("volume_cny"), industry=True,
              note="every platform's, pooled and detailed, from the trackers' monthly table"),
    Statistic("industry_losses_cny", "industry: investors' losses, CNY", Kind.CNY,
              _monthly("losses_cny"), industry=True,
              note="written off net of recoveries (after the reserves' 代偿), and taken by "
                   "operators"),
    Statistic("co_debt_losses_cny", "industry: of which from co-debtors (共债), CNY", Kind.CNY,
              _monthly("co_debt_losses_cny"), industry=True),
    Statistic("stuck_at_end_cny", "industry: money stuck on failed platforms, CNY", Kind.CNY,
              _monthly("stuck_cny", "last"), industry=True),
    Statistic("winding_down_at_end_cny", "industry: money on platforms winding down, CNY",
              Kind.CNY, _monthly("winding_down_cny", "last"), industry=True,
              note="良性退出: paid back as their loans mature"),
    Statistic("reserve_payouts_cny", "industry: reserves' payouts (代偿), CNY", Kind.CNY,
              _monthly("reserve_payouts_cny"), industry=True,
              note="the pooled reserve-fund platforms' reserves, buying loans 30 days late"),
    Statistic("damage_cny", "industry: money on platforms that failed, CNY", Kind.CNY,
              _damage_cny, industry=True,
              note="investors' money on each platform the day it failed, summed"),
)
"""Every end-of-run statistic, in the order the summary prints them."""

BY_NAME = {statistic.name: statistic for statistic in STATISTICS}


def summarise(market, company=None) -> dict:
    """End-of-run figures a person reads first (amounts in CNY, shares and rates as fractions).

    One key per :data:`STATISTICS` entry; ``platforms``: per platform, its policies, loans,
    defaults, revenue and cash (:func:`sim.outputs.flows.platform_summary`); ``company``: per
    platform, its figures by plan year and once per run, and ``plan``: each target, its figure and
    whether it was met (:mod:`sim.company.report`; ``company`` if already built).
    """
    if company is not None:
        remember(market, company)
    company = company_books(market)  # the statements every money figure below is read from
    daily = market.datacollector.get_model_vars_dataframe()
    summary = {statistic.name: statistic.compute(market, daily) for statistic in STATISTICS
               if market.industry is not None or not statistic.industry}
    summary["platforms"] = platform_summary(market)
    summary["company"] = summary_section(company)
    summary["plan"] = company.targets
    return summary


def format_summary(summary: dict) -> str:
    """The summary as an aligned two-column table, then a line per platform."""
    lines = [f"  {statistic.label:<38} {statistic.text(summary[statistic.name]):>20}"
             for statistic in STATISTICS if statistic.name in summary
             and not (statistic.only_if_any and not summary[statistic.name])]
    platforms = summary.get("platforms", {})
    for name, row in platforms.items():
        policies = ", ".join(f"{k} {v}" for k, v in row["policies"].items())
        lines.append(f"  {name}: {policies}; funding {row['funding']}"
                     + (f"; guarantee failed on day {row['guarantee_failed_day']}"
                        if row["guarantee_failed_day"] is not None else "")
                     + (f"; redemptions overdue {row['pool_overdue_cny']:,.2f} CNY"
                        if row["pool_overdue_cny"] else "")
                     + (f"; failed on day {row['run']['failed_day']} ({row['run']['state']}: "
                        f"{row['run']['failure_reason']})" if row["run"]["failed_day"] is not None
                        else ""))
    if len(platforms) > 1:
        lines.append(f"  {'platform':<14}{'loans':>10}{'defaults':>10}{'revenue, CNY':>18}"
                     f"{'cash, CNY':>18}")
        for name, row in platforms.items():
            lines.append(f"  {name:<14}{row['loans_funded']:>10,}{row['defaults']:>10,}"
                         f"{row['revenue_cny']:>18,.2f}{row['platform_cash_cny']:>18,.2f}")
    lines += owner_lines(summary)
    lines += target_lines(summary)
    return "\n".join(lines)


def owner_lines(summary: dict) -> list[str]:
    """Each platform's owners: what they put in, and whether the business paid it back."""
    lines = []
    for name, company in summary.get("company", {}).items():
        if "owners_money_in_cny" not in company:
            continue
        month = company["payback_month"]
        back = (f"paid back by the business's cash in month {month}" if month is not None
                else "not paid back within the run")
        lines.append(f"  {name}: the owners put in {company['owners_money_in_cny']:,.2f} CNY "
                     f"(capital, raises, calls); {back}")
        row = summary.get("platforms", {}).get(name)
        if row is not None and row["run"]["failed_day"] is not None:
            missing = row["unpaid_costs_cny"] + row["pool_overdue_cny"]
            lines.append(f"  {name}: failed on day {row['run']['failed_day']}; to survive, its "
                         f"owners would have had to put in at least {missing:,.2f} CNY more then "
                         f"(costs and redemptions it could not pay; liquidity."
                         f"capital_call_limit_cny says what they could)")
            forgone = company.get("raises_forgone_cny") or 0.0
            lines.append(f"  {name}: after it failed, no marketing and a wind-down's costs only"
                         + (f"; {forgone:,.2f} CNY of planned raises never came" if forgone
                            else ""))
    return lines


def target_lines(summary: dict) -> list[str]:
    """The plan's targets as the summary prints them: each one's figure, met or MISSED."""
    lines = []
    for target in summary.get("plan", []):
        value = "never" if target["value"] is None else f"{target['value']:,.4g}"
        lines.append(f"  target {target['target']:<36} {value:>14}  "
                     f"{'met' if target['met'] else 'MISSED'}")
    return lines


def fate(row: dict) -> str:
    """A platform's end in words, from its row of the summary's ``platforms``."""
    run = row["run"]
    if run["failed_day"] is None:
        return f"survived ({run['state']})"
    if run["failure_reason"] == "regulators' ban":
        return f"wound down by the regulators' ban on day {run['failed_day']} (not a failure)"
    return f"failed on day {run['failed_day']} ({run['state']}: {run['failure_reason']})"


def markdown_table() -> str:
    """The statistics as a Markdown table (name, what it is, written as), for the docs."""
    rows = ["| statistic | what it is | written as |", "| --- | --- | --- |"]
    rows += [f"| `{s.name}` | {s.label}{'; ' + s.note if s.note else ''} | {s.kind} |"
             for s in STATISTICS]
    return "\n".join(rows)
