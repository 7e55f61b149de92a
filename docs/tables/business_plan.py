"""The tables of docs/business-plan.md, written from the results folders of its commands.

    .venv/bin/p2psim plan scenarios/seed_business_plan.toml --runs 200 --workers 2
    .venv/bin/p2psim plan scenarios/plan_intermediary_custody.toml --runs 200 --workers 2
    .venv/bin/python docs/tables/business_plan.py results/seed_business_plan-plan \
        results/plan_intermediary_custody-plan

Prints Markdown: the first plan's targets (odds, error, interval, median figure), how often its
platform failed and why, its timing and capital needed; then both plans side by side. Every number
is read from the folders' CSV files, so the document says what one run of its commands gave.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def pct(x: float) -> str:
    """A share as the document writes it: 17.0 %."""
    return f"{100 * x:.1f} %"


def figure_text(target: str, value: float) -> str:
    """A target's figure in its unit: M CNY, a percentage, a month, or a plain number."""
    name = target.split("[")[0].split()[0]
    if name.endswith("_cny"):
        return f"{value / 1e6:,.2f} M CNY"
    if name in ("net_margin", "revenue_growth", "cost_growth", "bad_debt_rate"):
        return pct(value)
    if name.endswith("_month"):
        return f"month {value:.0f}"
    return f"{value:g}"


def targets_table(folder: Path) -> str:
    """Each target: P(met), its standard error, 95 % interval, the figure's median."""
    table = pd.read_csv(folder / "targets.csv")
    rows = ["| target | P(met) | ± s.e. | 95 % interval | median figure |",
            "| --- | --- | --- | --- | --- |"]
    for r in table.itertuples():
        median = "never in most runs" if r.never > 0.5 else figure_text(r.target, r.value_p50)
        rows.append(f"| `{r.target}` | {pct(r.probability)} | {pct(r.standard_error)} | "
                    f"{pct(r.ci95_low)} - {pct(r.ci95_high)} | {median} |")
    return "\n".join(rows)


def failures_table(folder: Path) -> str:
    """How often the platform failed, by cause, with the interval and the median month."""
    table = pd.read_csv(folder / "failures.csv")
    rows = ["| failed by | runs | share | 95 % interval | month, median |",
            "| --- | --- | --- | --- | --- |"]
    for r in table.itertuples():
        month = "" if pd.isna(r.median_month) else f"{r.median_month:.0f}"
        rows.append(f"| {r.cause} | {r.runs_failed} of {r.runs} | {pct(r.share)} | "
                    f"{pct(r.ci95_low)} - {pct(r.ci95_high)} | {month} |")
    return "\n".join(rows)


def timing_table(folder: Path) -> str:
    """Break-even, profitable, payback and cash-out months: in how many runs, and when."""
    table = pd.read_csv(folder / "timing.csv")
    rows = ["| figure | in runs | P10 | P50 | P90 |", "| --- | --- | --- | --- | --- |"]
    for r in table.itertuples():
        cells = ["" if pd.isna(v) else f"{v:.0f}" for v in (r.p10, r.p50, r.p90)]
        rows.append(f"| `{r.figure}` | {pct(r.share_of_runs)} | {' | '.join(cells)} |")
    capital = pd.read_csv(folder / "capital_needed.csv")
    rows += ["", "| capital needed beyond the plan | M CNY |", "| --- | --- |"]
    for r in capital.itertuples():
        bound = "at least " if r.lower_bound else ""
        rows.append(f"| {r.level.upper()} | {bound}{r.capital_needed_cny / 1e6:,.2f} |")
    return "\n".join(rows)


def side_by_side(folders: list[Path]) -> str:
    """Both plans' odds of each target, and how often each platform failed."""
    names = [json.loads((f / "experiment.json").read_text())["scenario"].rsplit("/", 1)[-1]
             for f in folders]
    tables = [pd.read_csv(f / "targets.csv").set_index("target") for f in folders]
    failed = [pd.read_csv(f / "failures.csv").iloc[0] for f in folders]
    rows = ["| target | " + " | ".join(f"`{n}`" for n in names) + " |",
            "| --- |" + " --- |" * len(folders)]
    for target in tables[0].index:
        cells = [pct(t.at[target, "probability"]) if target in t.index else "" for t in tables]
        rows.append(f"| `{target}` | " + " | ".join(cells) + " |")
    rows.append("| the platform failed | " + " | ".join(
        f"{pct(f.share)} ({f.runs_failed} of {f.runs})" for f in failed) + " |")
    return "\n".join(rows)


def main(argv: list[str]) -> None:
    """Print every table of the document from the folders given (the seed plan first)."""
    folders = [Path(a) for a in argv]
    first = folders[0]
    for title, text in (("targets", targets_table(first)), ("failures", failures_table(first)),
                        ("timing and capital", timing_table(first))):
        print(f"<!-- {title}: {first} -->\n{text}\n")
    if len(folders) > 1:
        print(f"<!-- side by side -->\n{side_by_side(folders)}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
