"""``p2psim report A B [C ...]``: results of one kind side by side.

The key numbers of each folder (the same rows its own report shows) in columns, with each one's
difference from the first where both are numbers (a share's in percentage points); then series
overlaid: a run's day rows, an industry's months, a plan's odds of each target. Each folder's own
report is still one command away.
"""

from __future__ import annotations

import re

import pandas as pd
from matplotlib.figure import Figure

from sim.outputs.charts import plain_numbers
from sim.outputs.labels import Column
from sim.report.figures import png_bytes
from sim.report.folder import ReportError, ResultsFolder
from sim.report.html import Page

NUMBER = re.compile(r"^\s*(-?[\d,]*\.?\d+(?:e-?\d+)?)\s*(%?)(?:\s*±.*|\s*\(.*\))?\s*$")
RUN_SERIES = {"outstanding_principal_cny": "outstanding principal, M CNY",
              "platform_cash_cny": "platform cash, M CNY",
              "arrears_m1_cny": "in arrears M1, M CNY",
              "reserve_fund_cny": "reserve fund, M CNY"}
INDUSTRY_SERIES = {"operating": "platforms operating", "new_problem": "new problem platforms",
                   "outstanding_cny": "loans outstanding, 亿 CNY",
                   "investors_money_cny": "investors' money on live platforms, 亿 CNY"}


def comparison_page(folders: list[ResultsFolder], pages: dict) -> Page:
    """The page comparing ``folders`` (at least two, of one kind; ``pages``: kind -> builder)."""
    kinds = sorted({f.kind for f in folders})
    if len(kinds) > 1:
        raise ReportError(f"RESULTS_DIR: a comparison needs folders of one kind; these are "
                          f"{', '.join(f'{f.path} ({f.kind})' for f in folders)}")
    built = [pages[f.kind](f) for f in folders]
    names = _names(folders)
    page = Page(f"Comparison of {len(folders)} {kinds[0]} results",
                {f"({i + 1})": _described(folder, one) for i, (folder, one) in
                 enumerate(zip(folders, built))})
    page.heading("Key numbers, and each one's difference from the first")
    page.text("A difference is given where both are numbers: an amount or count in its own unit, a "
              "share or probability in percentage points (pp).", "note")
    table = key_number_table(built, names)
    page.table(table, {c: Column(c, "text") for c in table.columns})
    _overlay(page, folders, names)
    return page


def _described(folder: ResultsFolder, page: Page) -> str:
    """A folder as the comparison's header names it: where, what, when, what was overridden."""
    facts = page.facts
    return (f"{folder.path} · {page.title} · seed {facts.get('seed', '?')} · made "
            f"{facts.get('made', 'not recorded')} · overridden: {facts.get('overridden', 'none')}")


def key_number_table(built: list[Page], names: list[str]) -> pd.DataFrame:
    """Rows: every key number of any folder; columns: each folder, then its difference."""
    labels = list(dict.fromkeys(label for b in built for label, _ in b.key_rows))
    values = [dict(b.key_rows) for b in built]
    rows = []
    for label in labels:
        row = {"key number": label}
        for name, shown in zip(names, values):
            row[name] = shown.get(label, "–")
        first = _number(values[0].get(label, ""))
        for name, shown in zip(names[1:], values[1:]):
            this = _number(shown.get(label, ""))
            row[f"{name} − {names[0]}"] = _difference(first, this)
        rows.append(row)
    return pd.DataFrame(rows)


def _number(text: str) -> tuple[float, bool] | None:
    """The number a key number's text leads with, and whether it is a percentage."""
    match = NUMBER.match(text or "")
    if not match:
        return None
    return float(match[1].replace(",", "")), match[2] == "%"


def _difference(first, this) -> str:
    if first is None or this is None or first[1] != this[1]:
        return "–"
    change = this[0] - first[0]
    return f"{change:+,.2f} pp" if this[1] else f"{change:+,.6g}"


def _names(folders: list[ResultsFolder]) -> list[str]:
    """Short names for the columns: each folder's name, numbered in the order given."""
    names = [f.path.name for f in folders]
    return [f"({i + 1}) {n}" for i, n in enumerate(names)]


def _overlay(page: Page, folders: list[ResultsFolder], names: list[str]) -> None:
    """Series of each folder on the same axes."""
    kind = folders[0].kind
    if kind == "run":
        frames = [f.parquet("timeseries.parquet", ("day", *RUN_SERIES)) for f in folders]
        page.heading("Figures")
        page.figure_png(_lines(frames, names, "day", RUN_SERIES, 1e-6, "day of the run"),
                        "Each run's day rows overlaid")
    elif kind == "industry":
        frames = [f.table("monthly.csv", ("month", *INDUSTRY_SERIES)) for f in folders]
        for frame in frames:
            frame["month_number"] = range(len(frame))
        page.heading("Figures")
        page.figure_png(_lines(frames, names, "month_number", INDUSTRY_SERIES, None,
                               "month of the run"), "Each industry run's months overlaid")
    elif kind == "plan":
        plans = [f.json("plan.json") for f in folders]
        page.heading("Figures")
        page.figure_png(_odds(plans, names), "Each plan's odds of each target, with its 95 % "
                                             "interval")
    else:
        page.text(f"A {kind}'s series are not overlaid; its own report has its figures.", "note")


def _lines(frames, names, x: str, series: dict[str, str], scale, xlabel: str) -> bytes:
    """One panel a series, one line a folder."""
    fig = Figure(figsize=(9, 2.2 * len(series) + 0.6), dpi=100)
    axes = fig.subplots(len(series), 1, sharex=True)
    for axis, (column, label) in zip(axes, series.items()):
        factor = scale if scale is not None else (1e-8 if column.endswith("_cny") else 1.0)
        for frame, name in zip(frames, names):
            axis.plot(frame[x], frame[column] * factor, label=name, linewidth=1.2)
        axis.set_ylabel(label, fontsize=8)
        plain_numbers(axis, "y")
    axes[0].legend(fontsize=8, loc="best")
    axes[-1].set_xlabel(xlabel)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.97, bottom=0.6 / (2.2 * len(series) + 0.6),
                        hspace=0.15)
    return png_bytes(fig)


def _odds(plans: list[dict], names: list[str]) -> bytes:
    """Grouped bars: each target's probability in each plan, with its 95 % interval."""
    targets = list(dict.fromkeys(t["target"] for p in plans for t in p["targets"]))
    fig = Figure(figsize=(9, 0.8 + 0.45 * len(targets) * len(plans)), dpi=100)
    axis = fig.subplots()
    height = 0.8 / len(plans)
    for k, (plan, name) in enumerate(zip(plans, names)):
        found = {t["target"]: t for t in plan["targets"]}
        for i, target in enumerate(targets):
            if target in found:
                t = found[target]
                y = i + k * height
                axis.barh(y, 100 * t["probability"], height=height * 0.9,
                          color=f"C{k}", label=name if i == 0 else None)
                axis.plot([100 * t["ci95_low"], 100 * t["ci95_high"]], [y, y], color="0.2",
                          linewidth=1)
    axis.set_yticks([i + 0.4 - height / 2 for i in range(len(targets))], targets, fontsize=8)
    axis.invert_yaxis()
    axis.set_xlim(0, 100)
    axis.set_xlabel("probability the target is met, % of runs (lines: 95 % intervals)")
    axis.legend(fontsize=8, loc="lower right")
    fig.subplots_adjust(left=0.35, right=0.97, top=0.97, bottom=0.12)
    return png_bytes(fig)
