"""What a report shows for each kind of results folder: its key numbers, tables and figures.

Every page opens with the facts that make the result reproducible (scenario, seed, p2psim's
version, the git revision) and ends with the scenario as it was run.
"""

from __future__ import annotations

import pandas as pd

from sim.outputs.statistics import STATISTICS
from sim.report.folder import ResultsFolder
from sim.report.html import Page, facts, number_text
from sim.report.industry import industry_page
from sim.report.reserve import board_page, reserve_page
from sim.report.scenario_text import scenario_toml

RUN_FIGURES = (("overview.png", "The market day by day: volume, book, arrears, defaults, cash"),
               ("platforms.png", "Each platform month by month"),
               ("policies.png", "What the policies did"),
               ("company.png", "The company's statements"),
               ("runs.png", "Runs: trust, withdrawal queues, 债权转让 price, platform state"))


def run_page(folder: ResultsFolder) -> Page:
    """A run: the summary's statistics, each platform, the plan's targets, statements, figures."""
    meta = folder.json("metadata.json")  # read, and its keys used, before the next file
    name, scenario = meta["scenario"]["run"]["name"], meta["scenario"]
    page = Page(f"Run: {name}", facts("run", meta.get("scenario_file"), meta["seed"],
                                       meta.get("version"), meta.get("git_revision"),
                                       meta.get("created_utc")))
    summary = folder.json("summary.json")
    if not any(s.name in summary for s in STATISTICS):  # a folder of an older p2psim lacks some
        raise folder.damaged("summary.json", "holds none of a run's statistics")
    page.heading("Key numbers")
    page.key_numbers([(s.label, s.text(summary[s.name])) for s in STATISTICS
                      if s.name in summary and not (s.only_if_any and not summary[s.name])])
    platforms = summary.get("platforms", {})
    if platforms:
        page.heading("Platforms")
        page.table(pd.DataFrame([
            {"platform": p, "funding": row["funding"], "guarantee": row["policies"]["guarantee"],
             "loans funded": row["loans_funded"], "defaults": row["defaults"],
             "revenue, CNY": row["revenue_cny"], "cash, CNY": row["platform_cash_cny"],
             "state": row["run"]["state"], "failed on day": row["run"]["failed_day"]}
            for p, row in platforms.items()]))
    if summary.get("plan"):
        page.heading("The plan's targets")
        page.table(pd.DataFrame([{"target": t["target"], "value": t["value"],
                                  "met": "met" if t["met"] else "MISSED"}
                                 for t in summary["plan"]]))
    if folder.has("statements.csv"):
        page.heading("Financial statements by year, CNY")
        page.table(folder.table("statements.csv", ("line",)).drop(columns=["line"]))
    page.figures(folder, RUN_FIGURES)
    page.preformatted(scenario_toml(scenario), "The scenario as run (every key)")
    return page


def experiment_page(folder: ResultsFolder) -> Page:
    """An experiment: its design, each point's statistics with errors, its figures."""
    manifest, done = folder.json("experiment.json"), _done(folder, "done.json")
    spec = manifest["experiment"]
    page = Page(f"Experiment: {spec['experiment']['name']}",
                facts("experiment", manifest.get("scenario"), spec["experiment"].get("seed"),
                       done.get("version", folder.made_by), done.get("git_revision"),
                       done.get("finished_utc")))
    page.heading("Key numbers")
    summary = folder.table("summary.csv", ("point",))
    page.key_numbers([("runs", number_text(manifest["runs"])),
                      ("runs failed", number_text(done.get("failed", 0))),
                      ("design", spec["design"]["kind"]),
                      ("points", number_text(int(summary["point"].nunique()))),
                      ("replications a point", number_text(spec["experiment"]["replications"])),
                      ("parameters", ", ".join(p["key"] for p in spec["parameters"])
                       or ", ".join(v["name"] for v in spec.get("variants", [])))])
    page.heading("Each point: mean, standard deviation, standard error, 5-50-95 % quantiles")
    page.table(summary)
    if folder.has("differences.csv"):
        page.heading("Each point minus the first, run by run on the same draws (paired)")
        page.table(folder.table("differences.csv"))
    figures = sorted((folder.path / "figures").glob("*.png")) if folder.has("figures") else []
    if figures:
        page.heading("Figures")
        for path in figures:
            page.figure(path, path.stem.replace("_", " "))
    page.preformatted(scenario_toml(spec), "The experiment as run")
    return page


def plan_page(folder: ResultsFolder) -> Page:
    """A business plan: the odds of each target with errors, timing, drivers, statement fans."""
    manifest, plan = folder.json("experiment.json"), folder.json("plan.json")
    name = manifest["scenario"].rsplit("/", 1)[-1].removesuffix(".toml")
    page = Page(f"Business plan: {name}",
                facts("plan", manifest["scenario"], manifest.get("seed"),
                       plan.get("version", folder.made_by), plan.get("git_revision"),
                       plan.get("finished_utc")))
    page.heading("Key numbers: the odds of each target")
    page.key_numbers([(f"P({t['target']})", f"{t['probability']:.1%} ± "
                       f"{t['standard_error']:.1%} (95 % {t['ci95_low']:.1%} - "
                       f"{t['ci95_high']:.1%})") for t in plan["targets"]]
                     + [("runs", number_text(plan["runs"])),
                        ("runs failed", number_text(plan["failed"]))])
    for title, file in (("Targets", "targets.csv"), ("Timing, months", "timing.csv"),
                        ("What drives each target (Kolmogorov-Smirnov distance)", "drivers.csv"),
                        ("Statements by year, CNY: mean and P10 / P50 / P90",
                         "statements_by_year.csv")):
        if folder.has(file):
            page.heading(title)
            page.table(folder.table(file))
    page.figures(folder, (("fans.png", "Statement lines: fans over the runs"),
                            ("targets.png", "Each target's probability, with its 95 % interval")))
    page.preformatted(scenario_toml(manifest["plan"]), "The plan as run")
    return page


PAGES = {"run": run_page, "experiment": experiment_page, "plan": plan_page,
         "reserve": reserve_page, "board": board_page, "industry": industry_page}


def _done(folder: ResultsFolder, name: str) -> dict:
    return folder.json(name) if folder.has(name) else {}
