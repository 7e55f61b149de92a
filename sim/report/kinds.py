"""What a report shows for each kind of results folder: its key numbers, tables and figures.

Every page opens with the facts that make the result reproducible (scenario, seed, p2psim's
version, the git revision) and ends with the scenario as it was run.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.company.targets import minimum_cash
from sim.loans import DAYS_PER_MONTH
from sim.outputs.labels import PLAN_COLUMNS, SCALE, SUFFIX, Column, column, key_label, statistic_column
from sim.outputs.statistics import STATISTICS, Kind
from sim.report.figures import cash_runway_png, loss_waterfall_png
from sim.report.folder import ResultsFolder
from sim.report.html import Page, facts, number_text
from sim.report.industry import industry_page
from sim.report.reserve import board_page, reserve_page
from sim.report.scenario_text import overrides_text, scenario_toml

RUN_FIGURES = (("overview.png", "The market day by day: volume, book, arrears, defaults, cash"),
               ("platforms.png", "Each platform month by month"),
               ("policies.png", "What the policies did"),
               ("company.png", "The company's statements"),
               ("runs.png", "Runs: trust, withdrawal queues, 债权转让 price, platform state"))


def run_page(folder: ResultsFolder) -> Page:
    """A run: key numbers, figures, then each platform, targets and statements as an appendix.

    Among the figures, the loss waterfall and the cash runway, drawn from the day rows.
    """
    meta = folder.json("metadata.json")  # read, and its keys used, before the next file
    name, scenario = meta["scenario"]["run"]["name"], meta["scenario"]
    page = Page(f"Run: {name}", facts("run", meta.get("scenario_file"), meta["seed"],
                                       meta.get("version"), meta.get("git_revision"),
                                       meta.get("created_utc"),
                                       overrides_text(meta.get("scenario_file"), scenario)))
    summary = folder.json("summary.json")
    if not any(s.name in summary for s in STATISTICS):  # a folder of an older p2psim lacks some
        raise folder.damaged("summary.json", "holds none of a run's statistics")
    page.heading("Key numbers")
    page.key_numbers([statistic_row(s, summary[s.name]) for s in STATISTICS
                      if s.name in summary and not (s.only_if_any and not summary[s.name])])
    page.figures(folder, RUN_FIGURES)
    if folder.has("timeseries.parquet"):
        daily = folder.parquet("timeseries.parquet", ("day", "platform_cash_cny")).set_index("day")
        page.figure_png(loss_waterfall_png(daily, "Losses by layer: guarantor → reserve → "
                                                  "insurer → investors"),
                        "The loss waterfall: who paid for the loans that went bad")
        floor = minimum_cash(scenario.get("plan", {}).get("targets", []),
                             scenario["run"]["horizon_days"] // DAYS_PER_MONTH)
        page.figure_png(cash_runway_png(daily["platform_cash_cny"], floor, "Own cash and the "
                                        "plan's minimum"),
                        "Cash runway: the platforms' own cash day by day"
                        + ("" if floor is not None else " (the plan sets no minimum cash)"))
    _run_appendix(page, folder, summary)
    page.preformatted(scenario_toml(scenario), "The scenario as run (every key)")
    return page


def statistic_row(statistic, value) -> tuple[str, str]:
    """A run's figure as a key number: amounts in M CNY, shares in %, counts as they are."""
    if statistic.kind is Kind.CNY:
        return statistic_column(statistic).header, f"{value / 1e6:,.2f}"
    return statistic.label, statistic.text(value)


def _run_appendix(page: Page, folder: ResultsFolder, summary: dict) -> None:
    """Each platform, the plan's targets, the statements with years as columns."""
    platforms = summary.get("platforms", {})
    if platforms:
        page.heading("Appendix: each platform")
        page.table(pd.DataFrame([
            {"platform": p, "funding": row["funding"], "guarantee": row["policies"]["guarantee"],
             "loans funded": row["loans_funded"], "defaults": row["defaults"],
             "revenue, CNY": row["revenue_cny"], "cash, CNY": row["platform_cash_cny"],
             "state": row["run"]["state"], "failed on day": row["run"]["failed_day"]}
            for p, row in platforms.items()]))
    if summary.get("plan"):
        page.heading("Appendix: the plan's targets")
        page.table(pd.DataFrame([{"target": t["target"], "value": t["value"],
                                  "met": "met" if t["met"] else "MISSED"}
                                 for t in summary["plan"]]))
    if folder.has("statements.csv"):
        statements = folder.table("statements.csv", ("line",)).drop(columns=["line"])
        years = [c for c in statements.columns if c.startswith("year_")]
        zero = (statements[years] == 0).all(axis=1)
        page.heading("Appendix: financial statements by year")
        page.table(statements[~zero])
        if zero.any():
            page.text(f"{int(zero.sum())} lines that are zero in every year are left out; "
                      f"statements.csv has them all.", "note")


def experiment_page(folder: ResultsFolder) -> Page:
    """An experiment: its design, its figures, each figure's points with errors, the differences."""
    manifest, done = folder.json("experiment.json"), _done(folder, "done.json")
    spec = manifest["experiment"]
    fixed = spec["experiment"].get("fixed", {})
    page = Page(f"Experiment: {spec['experiment']['name']}",
                facts("experiment", manifest.get("scenario"), spec["experiment"].get("seed"),
                       done.get("version", folder.made_by), done.get("git_revision"),
                       done.get("finished_utc"),
                       ", ".join(f"{k} = {v}" for k, v in fixed.items()) or "none"))
    page.heading("Key numbers")
    summary = folder.table("summary.csv", ("point",))
    keys = [p["key"] for p in spec["parameters"]]
    page.key_numbers([("runs", number_text(manifest["runs"])),
                      ("runs failed", number_text(done.get("failed", 0))),
                      ("design", spec["design"]["kind"]),
                      ("points", number_text(int(summary["point"].nunique()))),
                      ("replications a point", number_text(spec["experiment"]["replications"])),
                      ("parameters", ", ".join(key_label(k) for k in keys)
                       or ", ".join(v["name"] for v in spec.get("variants", [])))])
    figures = sorted((folder.path / "figures").glob("*.png")) if folder.has("figures") else []
    if figures:
        page.heading("Figures")
        for path in figures:
            page.figure(path, path.stem.replace("_", " "))
    for output, rows in summary.groupby("output", sort=False):
        page.heading(f"{column(str(output)).header}: each point (mean rounded to its standard "
                     f"error)")
        page.table(point_table(rows, keys, column(str(output))))
    if folder.has("differences.csv"):
        page.heading("Appendix: each point minus the first, run by run on the same draws")
        page.table(folder.table("differences.csv"))
    page.preformatted(scenario_toml(spec), "The experiment as run")
    return page


def point_table(rows: pd.DataFrame, keys: list[str], output: Column) -> pd.DataFrame:
    """One figure's points: the parameters, then its statistics in the figure's unit, rounded."""
    stats = ["mean", "se", "sd", "q05", "q50", "q95"]
    table = rows[["point", *[k for k in keys if k in rows], "n"]].copy()
    scale = SCALE.get(output.unit, 1.0)
    for stat in stats:
        table[stat] = rows[stat] * scale
    return round_to_error(table, stats, "se").rename(
        columns={s: f"{column(s).label}{SUFFIX[output.unit]}" for s in stats})


def plan_page(folder: ResultsFolder) -> Page:
    """A business plan: the odds of each target, figures, then timing, drivers, statements."""
    manifest, plan = folder.json("experiment.json"), folder.json("plan.json")
    name = manifest["scenario"].rsplit("/", 1)[-1].removesuffix(".toml")
    overrides = manifest.get("overrides", {})
    page = Page(f"Business plan: {name}",
                facts("plan", manifest["scenario"], manifest.get("seed"),
                       plan.get("version", folder.made_by), plan.get("git_revision"),
                       plan.get("finished_utc"),
                       ", ".join(f"{k} = {v}" for k, v in overrides.items()) or "none"))
    page.heading("Key numbers: the odds of each target")
    page.key_numbers([(f"P({t['target']})", f"{t['probability']:.1%} ± "
                       f"{t['standard_error']:.1%} (95 % {t['ci95_low']:.1%} - "
                       f"{t['ci95_high']:.1%})") for t in plan["targets"]]
                     + platform_failed(plan)
                     + [("runs", number_text(plan["runs"])),
                        ("runs stopped with an error", number_text(plan["failed"]))])
    page.figures(folder, (("fans.png", "Statement lines: fans over the runs; own cash is the "
                                       "cash runway, with the plan's minimum cash in red"),
                            ("targets.png", "Each target's probability, with its 95 % interval")))
    for title, file in (("Targets", "targets.csv"),
                        ("How often the platform failed, and why", "failures.csv"),
                        ("Timing, months", "timing.csv"),
                        ("Capital needed", "capital_needed.csv"),
                        ("What drives each target (Kolmogorov-Smirnov distance)", "drivers.csv")):
        if folder.has(file):
            page.heading(f"Appendix: {title}")
            page.table(folder.table(file), PLAN_COLUMNS.get(file))
    if folder.has("statements_by_year.csv"):
        page.heading("Appendix: statements by year, P10 / P50 / P90 over the runs")
        page.table(*statements_by_year(folder.table("statements_by_year.csv")))
    page.preformatted(scenario_toml(manifest["plan"]), "The plan as run")
    return page


def platform_failed(plan: dict) -> list[tuple[str, str]]:
    """The key number "platform failed": in how many runs, with its interval (none if not kept)."""
    if not plan.get("failures"):
        return []
    every = plan["failures"][0]
    return [("platform failed", f"in {every['runs_failed']} of {every['runs']} runs "
                                f"({every['share']:.1%}; 95 % {every['ci95_low']:.1%} - "
                                f"{every['ci95_high']:.1%})")]


def statements_by_year(long: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Column]]:
    """Lines as rows, each year's P10, P50 and P90 as columns (CNY), zero lines left out."""
    wide = long.pivot_table(index=["statement", "label"], columns="year",
                            values=["p10", "p50", "p90"], sort=False)
    wide.columns = [f"year {year}, {stat.upper()}" for stat, year in wide.columns]
    wide = wide[sorted(wide.columns, key=lambda c: (int(c.split()[1].rstrip(",")), c))]
    wide = wide[(wide != 0).any(axis=1)]
    return wide.reset_index(), {c: Column(c, "cny") for c in wide.columns}


def round_to_error(table: pd.DataFrame, columns: list[str], se: str) -> pd.DataFrame:
    """Round each row's ``columns`` to two significant digits of its standard error ``se``."""
    table = table.copy()
    for index, error in table[se].items():
        if error > 0 and math.isfinite(error):
            digits = max(0, 1 - math.floor(math.log10(error)))
            table.loc[index, columns] = table.loc[index, columns].astype(float).round(digits)
    return table


PAGES = {"run": run_page, "experiment": experiment_page, "plan": plan_page,
         "reserve": reserve_page, "board": board_page, "industry": industry_page}


def _done(folder: ResultsFolder, name: str) -> dict:
    return folder.json(name) if folder.has(name) else {}
