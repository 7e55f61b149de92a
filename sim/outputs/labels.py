"""Every column a report shows: its label and its unit, from one place.

A column is named by its code name in the results files (``annual_default_rate``, ``value_p10``,
``platforms.0.service_fee``). :func:`column` gives what a reader sees: a run's figures come from the
statistics registry (:data:`sim.outputs.statistics.STATISTICS`), a plan's from its figures
(:data:`sim.company.targets.FIGURES`), the rest from :data:`COLUMNS`; a scenario key is named by its
words and its platform. The unit says how the values are shown: shares as percentages, amounts in
M CNY (亿 CNY for an industry, as the trackers print it), counts with thousands separated.
:func:`allowed_headers` lists every header the registries can give (the report tests check each
header against it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sim.company.targets import FIGURES
from sim.industry.tracker import INDUSTRY_SERIES
from sim.outputs.statistics import STATISTICS, Kind

SUFFIX = {"share": ", %", "cny": ", M CNY", "yi": ", 亿 CNY", "months": ", months",
          "days": ", days", "count": "", "number": "", "text": "", "rate": ", % a year"}
SCALE = {"share": 100.0, "rate": 100.0, "cny": 1e-6, "yi": 1e-8}
SHARE_FIGURES = {"net_margin", "revenue_growth", "cost_growth", "bad_debt_rate"}


@dataclass(frozen=True)
class Column:
    """A column as shown: ``label`` without its unit, ``unit`` a key of :data:`SUFFIX`."""

    label: str
    unit: str = "number"

    @property
    def header(self) -> str:
        """The header a reader sees: the label with its unit."""
        return f"{self.label}{SUFFIX[self.unit]}"


COLUMNS = {
    # identities and words
    "platform": Column("platform", "text"), "state": Column("state", "text"),
    "funding": Column("funding", "text"), "guarantee": Column("protection", "text"),
    "statement": Column("statement", "text"), "label": Column("line", "text"),
    "line": Column("line", "text"), "target": Column("target", "text"),
    "figure": Column("figure", "text"), "input": Column("input", "text"),
    "output": Column("figure", "text"), "met": Column("met", "text"),
    "cause": Column("cause", "text"), "type": Column("failure type", "text"),
    "cause or reason": Column("cause or reason", "text"), "segment": Column("segment", "text"),
    "by": Column("by", "text"), "quantity": Column("quantity", "text"),
    "statistic": Column("statistic", "text"), "confidence": Column("confidence", "text"),
    "method": Column("method", "text"), "run": Column("run", "text"),
    "point": Column("point", "count"), "month": Column("month", "text"),
    "year": Column("year", "count"), "seed": Column("seed", "count"),
    # counts
    "n": Column("runs", "count"), "runs": Column("runs", "count"),
    "runs_met": Column("runs that met it", "count"),
    "runs_missed": Column("runs that missed it", "count"),
    "never": Column("runs where it never happened", "count"),
    "platforms": Column("platforms", "count"), "defaults": Column("defaults", "count"),
    "loans funded": Column("loans funded", "count"),
    "failed on day": Column("failed on day", "count"),
    "operating": Column("platforms operating", "count"),
    "winding_down": Column("platforms winding down", "count"),
    "new_problem": Column("new problem platforms", "count"),
    "new_by_background": Column("new problems: background hazard", "count"),
    "new_by_regulators": Column("new problems: regulators", "count"),
    "new_by_named": Column("new problems: named events", "count"),
    "new_by_run": Column("new problems: runs", "count"),
    # statistics of a sample
    "mean": Column("mean"), "sd": Column("standard deviation"), "se": Column("standard error"),
    "q05": Column("5 % quantile"), "q50": Column("median"), "q95": Column("95 % quantile"),
    "p10": Column("P10"), "p50": Column("P50"), "p90": Column("P90"),
    "value_p10": Column("target's figure, P10"), "value_p50": Column("target's figure, P50"),
    "value_p90": Column("target's figure, P90"),
    "level": Column("level", "text"), "capital_needed_cny": Column("capital needed", "cny"),
    "lower_bound_runs": Column("runs failed: their need only a lower bound", "count"),
    "lower_bound": Column("only a lower bound", "text"),
    "probability": Column("probability", "share"),
    "standard_error": Column("standard error", "share"),
    "ci95_low": Column("95 % interval from", "share"),
    "ci95_high": Column("95 % interval to", "share"),
    "share_of_runs": Column("share of runs", "share"),
    "ks_distance": Column("Kolmogorov-Smirnov distance"), "p_value": Column("p-value"),
    "median_when_met": Column("median input when met"),
    "median_when_missed": Column("median input when missed"),
    # amounts
    "revenue, CNY": Column("revenue", "cny"), "cash, CNY": Column("cash", "cny"),
    "outstanding_cny": Column("outstanding", "yi"), "net_inflow_cny": Column("net inflow", "yi"),
    "losses_cny": Column("investors' losses", "yi"), "亿 CNY": Column("money", "yi"),
    "share": Column("share", "share"), "sentiment": Column("sentiment (0-1)"),
    "loans": Column("loans", "count"),
    # a reserve study's tables, written readable by sim.report.reserve (text cells)
    **{name: Column(name, "text") for name in (
        "contribution rate", "difference, combined se", "estimate ± se (95 % interval)",
        "fee share", "formula ± its granularity", "formula, factor averaged over the horizon",
        "in the shortfall", "initial reserve ± se (95 % interval)", "share of the book",
        "share of the expected shortfall", "share of the mean loss",
        "simulated loss ± se (95 % interval)", "grade", "exposure", "PD over the horizon",
        "LGD", "expected loss", "book (lent over the horizon and opening)", "basis",
        "effect switched off", "the study's less it", "part of the gap it makes",
        "mean loss without it")},
}
SOLVER = {  # how a reserve study was sized (its summary's "solver"), by sim.reserve.text's words
    "key": Column("key solved for", "text"), "unknown": Column("what is solved", "text"),
    "reason": Column("why this method", "text"), "refine": Column("paths refined", "text"),
    "runs_per_path": Column("runs a path"), "runs_max": Column("runs a path at most", "count"),
    "solved_share": Column("paths solved", "share"),
    "converged_share": Column("paths within the tolerance", "share"),
    "tolerance": Column("tolerance", "share")}
COLUMNS |= {f"industry.{name}": Column(f"industry: {label}", unit)
            for name, (label, unit) in INDUSTRY_SERIES.items()}
COLUMNS |= SOLVER | {"key number": Column("key number", "text"), "scheme": Column("scheme", "text"),
                     "layer sized": Column("layer sized", "text"),
                     "P(short) as configured": Column("P(short) as configured", "text")}
PLAN_COLUMNS = {  # a plan's tables where a code name means something else than elsewhere
    "targets.csv": {"met": Column("runs that met it", "count")},
    "timing.csv": {p: Column(f"{p.upper()} of the runs where it happened", "months")
                   for p in ("p10", "p50", "p90")},
    "failures.csv": {"cause": Column("failed by (exit: reason)", "text"),
                     "runs_failed": Column("runs it failed in", "count"),
                     "median_month": Column("month it failed, median", "months")}}
EXHAUSTION_COLUMNS = {"estimate": Column("P(run dry by the month's end)", "share"),
                      "se": Column("its standard error", "share"),
                      "low": Column("95 % interval from", "share"),
                      "high": Column("95 % interval to", "share")}
SCENARIO_KEY = r"[a-z_]+(\.[a-z0-9_]+)+"
MADE_HEADERS = (  # headers made from a value: a year, a confidence, a scenario key
    r"year \d+, (P\d0, )?M CNY", r"size for [\d.]+ %", r"of the book \([\d.]+ %\)",
    r"cost a year at [\d.]+ %", r"\(\d+\) .+", r"[a-z0-9 ]+ \((([a-z]+ \d+)(, )?)+\)",
    r"[a-z0-9 ]+ \([a-z_.]+\)")


def column(name: str) -> Column:
    """The column named ``name`` as a reader sees it."""
    if name in COLUMNS:
        return COLUMNS[name]
    for statistic in STATISTICS:
        if statistic.name == name:
            return statistic_column(statistic)
    year = re.fullmatch(r"year_(\d+)", name)
    if year:
        return Column(f"year {year[1]}", "cny")
    figure = re.fullmatch(r"(\w+)\[(year|month)=(\d+)\]|(\w+)", name)
    if figure and (figure[1] or figure[4]) in FIGURES:
        return figure_column(figure[1] or figure[4], figure[2], figure[3])
    if re.fullmatch(SCENARIO_KEY, name):
        return Column(key_label(name))
    return Column(name.replace("_", " "))


def figure_column(name: str, per: str | None = None, at: str | None = None) -> Column:
    """A plan's figure (``net_income_cny[year=3]``) as a column: its description's first words."""
    words = FIGURES[name].description.split(",")[0].split(": ")[0]
    if len(words) > 40:  # a long description: its words up to the first bracket
        words = words.split(" (")[0]
    unit = "cny" if name.endswith("_cny") else "share" if name in SHARE_FIGURES else "number"
    return Column(f"{words}{f' ({per} {at})' if per else ''}", unit)


def statistic_column(statistic) -> Column:
    """A run's figure as a column: its registered label, its kind as the unit."""
    unit = {Kind.SHARE: "share", Kind.CNY: "cny", Kind.COUNT: "count"}[statistic.kind]
    return Column(statistic.label.removesuffix(", CNY"), unit)


def key_label(key: str) -> str:
    """A scenario key in words: ``platforms.0.service_fee`` is "service fee (platform 0)"."""
    parts = key.split(".")
    where = [f"{parts[i - 1].removesuffix('s')} {p}" for i, p in enumerate(parts) if p.isdigit()]
    words = parts[-1].replace("_", " ")
    if where:
        return f"{words} ({', '.join(where)})"
    return f"{words} ({'.'.join(parts[:-1])})" if len(parts) > 1 else words


def allowed_headers() -> set[str]:
    """Every header the registries give (those made from a value aside: :func:`is_allowed`)."""
    overrides = [*EXHAUSTION_COLUMNS.values(), *(c for table in PLAN_COLUMNS.values()
                                                 for c in table.values())]
    units = [c for c in COLUMNS.values() if c.unit == "number"]
    by_unit = {f"{c.label}{suffix}" for c in units for suffix in SUFFIX.values()}
    return ({c.header for c in [*COLUMNS.values(), *overrides]} | by_unit
            | {statistic_column(s).header for s in STATISTICS})


def is_allowed(header: str) -> bool:
    """Whether ``header`` is a registered label or one made from a value (:data:`MADE_HEADERS`)."""
    return header in allowed_headers() or any(re.fullmatch(p, header) for p in MADE_HEADERS)
