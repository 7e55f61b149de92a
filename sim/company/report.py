"""What a run says about each platform's company: statements, figures, targets met, and a chart.

:func:`company_report` builds it once from the finished market; the run folder writes
``statements.parquet`` (every line, platform and month, CNY), ``statements.csv`` (by year, the
way a founder reads them) and ``company.png``; ``summary.json`` gets each platform's yearly figures
and the plan's targets.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.company.charts import plot_company
from sim.company.figures import monthly_figures, run_figures, yearly_figures
from sim.company.lines import label
from sim.company.statements import statements
from sim.company.targets import parse_target, target_value
from sim.loans import DAYS_PER_MONTH


@dataclass
class CompanyReport:
    """A finished run's company figures.

    Attributes
    ----------
    statements : pandas.DataFrame
        platform, month (from 0), year (from 1), statement, line, amount_fen.
    monthly, yearly : dict of str to pandas.DataFrame
        Per platform, the figures by plan month and plan year (from 1).
    once : dict of str to dict
        Per platform, the once-per-run figures.
    targets : list of dict
        The plan's targets: ``target``, ``value``, ``met``.
    """

    statements: pd.DataFrame
    monthly: dict
    yearly: dict
    once: dict
    targets: list


_BUILT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Each market's company report, with the day it was built on (one build a day, for all readers)."""


def company_books(market) -> CompanyReport:
    """The company report of ``market`` as it stands, built once a day whoever asks.

    The run's summary, its per-platform table and its statements all read this one report, so a
    headline figure and the statements cannot disagree.
    """
    built = _BUILT.get(market)
    if built is None or built[0] != market.day:
        built = (market.day, company_report(market))
        _BUILT[market] = built
    return built[1]


def remember(market, report: CompanyReport) -> None:
    """Keep ``report`` as ``market``'s of today (a report built by its caller, e.g. a run's writer)."""
    _BUILT[market] = (market.day, report)


def company_report(market) -> CompanyReport:
    """The company figures of a finished (or paused) run (:func:`company_books` keeps it)."""
    journal = market.ledger.journal(platforms=len(market.platforms))  # once, for all below
    frame = statements(market, journal)
    monthly, yearly, once = {}, {}, {}
    for platform in market.platforms:
        monthly[platform.name] = monthly_figures(journal, frame, platform)
        yearly[platform.name] = yearly_figures(monthly[platform.name])
        once[platform.name] = run_figures(monthly[platform.name], platform)
    plan = market.config.plan
    name = plan.platform or (market.platforms[0].name if market.platforms else None)
    months = max(1, (market.day - 1) // DAYS_PER_MONTH + 1)
    targets = []
    for text in plan.targets if name is not None else []:
        target = parse_target(text, months)
        value = target_value(target, monthly[name], yearly[name], once[name])
        targets.append({"target": text, "value": value, "met": target.met(value)})
    return CompanyReport(frame, monthly, yearly, once, targets)


def summary_section(report: CompanyReport) -> dict:
    """Per platform: its yearly figures and once-per-run figures (for ``summary.json``)."""
    out = {}
    for name, yearly in report.yearly.items():
        years = {str(year): {k: plain_number(v) for k, v in row.items()}
                 for year, row in yearly.to_dict(orient="index").items()}
        out[name] = {"years": years, **report.once[name]}
    return out


def yearly_statements(report: CompanyReport) -> pd.DataFrame:
    """The statements by year, as read: flows summed over the year, balances at its end (CNY)."""
    frame = report.statements
    flows = frame[frame.statement != "balance_sheet"].groupby(
        ["platform", "statement", "line", "year"], sort=False).amount_fen.sum()
    last_month = frame.groupby("year").month.transform("max")
    ends = frame[(frame.statement == "balance_sheet") & (frame.month == last_month)].groupby(
        ["platform", "statement", "line", "year"], sort=False).amount_fen.sum()
    table = (pd.concat([flows, ends]) / 100).unstack("year")
    table.columns = [f"year_{year}" for year in table.columns]
    table = table.reset_index()
    table.insert(3, "label", table.line.map(label))
    built = dict.fromkeys(zip(frame.platform, frame.statement, frame.line))  # in the order built
    rank = {key: i for i, key in enumerate(built)}
    table["rank"] = [rank[key] for key in zip(table.platform, table.statement, table.line)]
    return table.sort_values("rank").drop(columns="rank").reset_index(drop=True)


def write_company(report: CompanyReport, folder: Path, title: str) -> None:
    """``statements.parquet``, ``statements.csv`` and ``company.png`` in a run's ``folder``."""
    frame = report.statements.assign(amount_cny=report.statements.amount_fen / 100)
    frame.to_parquet(folder / "statements.parquet", index=False)
    yearly_statements(report).to_csv(folder / "statements.csv", index=False, float_format="%.2f")
    plot_company(report, folder / "company.png", title)


def plain_number(value):
    """A JSON-ready number: a plain float, or None for None and NaN."""
    if value is None or value != value:
        return None
    return float(value)


def statement_total(report: CompanyReport, statement: str, line: str,
                    platform: str | None = None) -> float:
    """A line summed over the run (a flow), or at its last month (a balance), in CNY.

    Summed over the platforms unless ``platform`` names one.
    """
    frame = report.statements
    rows = frame[(frame.statement == statement) & (frame.line == line)]
    if platform is not None:
        rows = rows[rows.platform == platform]
    if statement == "balance_sheet" and len(rows):
        rows = rows[rows.month == rows.month.max()]
    return float(rows.amount_fen.sum() / 100)
