"""``p2psim plan``: run a business plan many times and say how likely each target is.

Each run draws the plan's uncertain inputs (:mod:`sim.plan.inputs`) and the market's own randomness
from its seed (run ``k`` gets the ``k``-th child of the plan's seed, as an experiment's runs do), so
the study is reproducible run by run on any executor. Finished runs are kept in the results folder
as they come (an interrupted study resumes); the tables, the spreadsheet and the charts are written
at the end, each file whole or not at all.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sim.plan.analysis as analysis
from sim import footprint, strict_json
from sim.company.report import plain_number
from sim.company.targets import minimum_cash
from sim.experiments.design import run_seeds
from sim.experiments.runner import EXECUTORS, execute
from sim.experiments.store import RunStore, input_hashes
from sim.folders import atomic_file, check_output_folder, seal, snapshot
from sim.loans import DAYS_PER_MONTH
from sim.outputs.run_folder import finished
from sim.plan.charts import plot_fans, plot_targets
from sim.plan.errors import PlanError
from sim.plan.inputs import InputError, run_inputs
from sim.plan.representative import SHEETS as RUN_SHEETS
from sim.plan.representative import formula_sheet, monthly_statements, representative_run
from sim.plan.runs import PlanTask, run_plan_one
from sim.plan.sources import inputs_sheet, written_keys
from sim.plan.workbook import (
    CNY,
    NOT_ADDITIVE,
    NUMBER,
    SHARE,
    STATEMENT_SHEETS,
    statement_sheet,
    write_workbook,
)
from sim.scenario import ScenarioError, load_scenario


@dataclass
class PlanRequest:
    """What ``p2psim plan`` was asked for."""

    scenario: str
    runs: int = 200
    workers: int = 2
    executor: str = "process"
    scheduler: str | None = None
    out: str | None = None
    seed: int | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    overwrite: bool = False
    quiet: bool = False


def run_plan(request: PlanRequest) -> dict[str, Any]:
    """Run (or finish) the study and write its results; return what the command prints."""
    from tqdm import tqdm

    scenario, tasks = plan_tasks(request)
    folder = check_output_folder(request.out or Path("results") / f"{scenario.run.name}-plan",
                                 "experiment", "--out" if request.out else "the results folder")
    path = Path(request.scenario)
    manifest = {"plan": scenario.plan.model_dump(mode="json"), "scenario": str(path.resolve()),
                "runs": len(tasks), "overrides": request.overrides, "seed": str(plan_seed(scenario, request)),
                "inputs": input_hashes(path, path, scenario)}
    store = RunStore(folder, manifest, overwrite=request.overwrite)
    done = store.done()
    todo = [task for task in tasks if task.run not in done]
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), unit="run", disable=request.quiet,
              file=sys.stderr, desc=f"{scenario.run.name} plan") as bar:
        for record in execute(todo, request.executor, request.workers, request.scheduler,
                              function=run_plan_one):
            store.write(record)
            bar.update(1)
    records = store.records()
    ok = [r for r in records if r["status"] == "ok"]
    if not ok:
        raise PlanError(f"every run failed; the first:\n{records[0].get('error', '')}")
    results = _analyse(ok, scenario)
    results.update(folder=folder, runs=len(records), failed=len(records) - len(ok),
                   skipped=len(tasks) - len(todo))
    platform = scenario.plan.platform or scenario.platforms[0].name
    failed = [r for r in ok if r["plan"].get("failure") is not None]
    for who, among in (("Representative", ok), ("Failed", failed)):
        if not among:
            continue
        chosen, ranks = representative_run(among)  # run again from its seed: month by month
        results[who] = {"run": chosen["run"], "ranks": ranks, "among": len(among),
                        "failure": chosen["plan"].get("failure"),
                        "statements": monthly_statements(tasks[chosen["run"]], platform)}
    before = snapshot(folder)
    _write(folder, results, scenario, request)
    seal(folder, "experiment", before)
    return results


def plan_tasks(request: PlanRequest, need_targets: bool = True):
    """The scenario and every run's task, each run's inputs checked against the scenario first."""
    if request.runs < 1:
        raise PlanError(f"--runs {request.runs}: must be at least 1")
    if request.workers < 1:
        raise PlanError(f"--workers {request.workers}: must be at least 1")
    if request.executor not in EXECUTORS:
        raise PlanError(f"--executor {request.executor!r}: allowed: {', '.join(EXECUTORS)}")
    scenario = load_scenario(request.scenario, request.overrides)
    try:
        footprint.check_study(scenario, request.runs, request.workers, f"--runs {request.runs}")
    except ValueError as error:
        raise PlanError(f"{request.scenario}: {error}") from None
    if need_targets and not scenario.plan.targets:
        raise PlanError(f"{request.scenario}: [plan] has no targets; add e.g. targets = "
                        f"[\"net_margin[year=3] >= 0.05\", \"payback_month <= 12\"]")
    seed = plan_seed(scenario, request)
    seeds = run_seeds(seed, request.runs)
    tasks = []
    for k in range(request.runs):
        try:
            overrides, draws = run_inputs(scenario.plan.uncertain, scenario, seed, k)
            load_scenario(request.scenario, {**request.overrides, **overrides})
        except InputError as error:
            raise PlanError(f"{request.scenario}: {error}") from None
        except ScenarioError as error:
            raise PlanError(f"run {k} drew {draws}, which the scenario refuses (narrow the "
                            f"distribution of [[plan.uncertain]]):\n{error}") from None
        tasks.append(PlanTask(run=k, seed=seeds[k], scenario=str(request.scenario),
                              overrides={**request.overrides, **overrides}, draws=draws))
    return scenario, tasks


def plan_seed(scenario, request: PlanRequest) -> int:
    """The plan's seed: ``--seed``, else the scenario's (each run's is drawn from it)."""
    return scenario.run.seed if request.seed is None else request.seed


def _analyse(records: list[dict], scenario) -> dict[str, Any]:
    targets = scenario.plan.targets
    months = (scenario.run.horizon_days + DAYS_PER_MONTH - 1) // DAYS_PER_MONTH
    return {
        "targets": analysis.target_odds(records, targets),
        "statements": analysis.statement_quantiles(records),
        "failures": analysis.failures(records),
        "timing": analysis.timing(records),
        "cash_out": analysis.cash_out_curve(records, months),
        "capital": analysis.capital_needed(records),
        "drivers": analysis.drivers(records, targets, [u.key for u in scenario.plan.uncertain]),
        "fans": analysis.monthly_fans(records),
        "runs_table": analysis.run_table(records, targets),
    }


def _write(folder: Path, results: dict, scenario, request: PlanRequest) -> None:
    """Every result file, each written under a temporary name and renamed into place."""
    name = scenario.run.name
    tables = {"targets.csv": results["targets"], "statements_by_year.csv": results["statements"],
              "failures.csv": results["failures"],
              "timing.csv": results["timing"], "cash_out.csv": results["cash_out"],
              "capital_needed.csv": results["capital"],
              "drivers.csv": results["drivers"], "runs.csv": results["runs_table"]}
    for file, table in tables.items():
        atomic_file(folder / file, lambda p, t=table: t.to_csv(p, index=False))
    sheets = {"Targets": (results["targets"], {"probability": SHARE, "standard_error": SHARE,
                                               "ci95_low": SHARE, "ci95_high": SHARE,
                                               "never": SHARE, "value_p10": NUMBER,
                                               "value_p50": NUMBER, "value_p90": NUMBER})}
    for statement, title in STATEMENT_SHEETS.items():
        sheets[title] = (statement_sheet(results["statements"], statement), {"*": CNY})
    sheets["Failures"] = (results["failures"], {"share": SHARE, "ci95_low": SHARE,
                                                "ci95_high": SHARE})
    sheets["Timing"] = (results["timing"], {"share_of_runs": SHARE})
    sheets["Cash out by month"] = (results["cash_out"], {"share_out_of_cash": SHARE})
    sheets["Capital needed"] = (results["capital"], {"probability": SHARE,
                                                     "capital_needed_cny": CNY})
    sheets["Drivers"] = (results["drivers"], {"ks_distance": NUMBER, "p_value": NUMBER})
    sheets["Runs"] = (results["runs_table"], {})
    for who in ("Representative", "Failed"):
        for statement, title in RUN_SHEETS.items() if who in results else ():
            sheets[title.format(who=who)] = (formula_sheet(results[who]["statements"][statement],
                                                           statement), {"*": CNY})
    sheets["Inputs"] = (inputs_sheet(scenario, written_keys(request.scenario, request.overrides)),
                        {})
    about = [("scenario", str(Path(request.scenario).resolve())), ("runs", str(results["runs"])),
             ("runs stopped with an error", str(results["failed"])),
             ("platform failed", failure_line(results["failures"]).strip()),
             ("seed", f"{plan_seed(scenario, request)} (the plan's; each run's own seed is "
                      f"drawn from it: runs.csv)"),
             ("probability", "share of runs that met the target; standard error sqrt(p(1-p)/n); "
                             "95 % Wilson interval"),
             ("P10 / P50 / P90", "quantiles over the runs; flows summed over each year, balances "
                                 "at its end; CNY. " + NOT_ADDITIVE),
             *chosen_runs_about(results),
             ("inputs", "every input's value, unit and source ([plan.sources] in the scenario); "
                        "'assumption: no source given' marks a number nobody has sourced"),
             ("drivers", "Kolmogorov-Smirnov distance between the inputs of runs that met a target "
                         "and runs that missed it (Monte-Carlo filtering)")]
    notes = dict.fromkeys(STATEMENT_SHEETS.values(), NOT_ADDITIVE)
    atomic_file(folder / "plan.xlsx", lambda p: write_workbook(p, sheets, about, notes))
    floor = minimum_cash(scenario.plan.targets, scenario.run.horizon_days // DAYS_PER_MONTH)
    atomic_file(folder / "fans.png", lambda p: plot_fans(results["fans"], p, f"{name}: "
                                                     f"{results['runs']} runs", floor))
    atomic_file(folder / "targets.png", lambda p: plot_targets(results["targets"], p,
                                                           f"{name}: the plan's targets"))
    summary = {**finished(results),
               "targets": results["targets"].to_dict(orient="records"),
               "failures": results["failures"].to_dict(orient="records"),
               "timing": results["timing"].to_dict(orient="records"),
               "capital_needed": results["capital"].to_dict(orient="records")}
    atomic_file(folder / "plan.json", lambda p: p.write_text(strict_json.dumps(
        summary, indent=2, default=plain_number)))


def format_plan(results: dict) -> str:
    """The study as the command prints it: each target's odds, timing, and what drives each."""
    odds = results["targets"]
    lines = [failure_line(results["failures"]),
             f"  {'target':<40}{'P(met)':>8}{'± s.e.':>9}   95 % interval"]
    for row in odds.itertuples():
        lines.append(f"  {row.target:<40}{row.probability:>8.1%}{row.standard_error:>9.1%}   "
                     f"{row.ci95_low:.1%} - {row.ci95_high:.1%}")
    worst = max(odds.standard_error)
    lines.append(f"  ({results['runs'] - results['failed']} runs; the largest standard error is "
                 f"{worst:.1%}; ±5 % at 95 % needs {analysis.runs_needed(0.05)} runs at p = 0.5)")
    for row in results["timing"].itertuples():
        when = "" if row.share_of_runs == 0 else (f": month {row.p50:.0f} at the median "
                                                  f"(P10 {row.p10:.0f}, P90 {row.p90:.0f})")
        lines.append(f"  {row.figure:<18} in {row.share_of_runs:.0%} of runs{when}")
    lines.append(capital_line(results["capital"]))
    for who in ("Representative", "Failed"):
        if who in results:
            lines.append(f"  {who.lower()} run in plan.xlsx: run {results[who]['run']} "
                         f"({among(results[who], who)}, the nearest to their median on each "
                         f"year's revenue and net income and the lowest cash jointly)")
    drivers = results["drivers"].dropna(subset=["ks_distance"])
    for target, rows in drivers.groupby("target", sort=False):
        top = rows.iloc[0]
        lines.append(f"  {target}: driven most by {top.input} (KS {top.ks_distance:.2f}, "
                     f"median {top.median_when_met:.4g} when met, "
                     f"{top.median_when_missed:.4g} when missed)")
    return "\n".join(lines)


def chosen_run_line(results: dict, who: str) -> str:
    """Which run a "Representative" or "Failed" sheet shows, by what rule, and its ranks."""
    chosen = results.get(who)
    if chosen is None:
        return "none: no run failed"
    ranks = chosen["ranks"]
    figures = ", ".join(f"{name.replace('_', ' ')} {rank:.2f}" for name, rank in ranks.items())
    failure = chosen["failure"]
    how = (f"failed on day {failure['day']} ({failure['state']}: {failure['reason']}); "
           if who == "Failed" else "")
    return (f"run {chosen['run']}: {how}{among(chosen, who)}, the nearest to their median on every "
            f"key figure at once (root mean square distance of its ranks from the median); its "
            f"ranks, 0 lowest, 0.5 median, 1 highest: {figures}")


def among(chosen: dict, who: str) -> str:
    """"of all 40 runs" or "of the 15 failed runs": whom a chosen run represents."""
    return (f"of the {chosen['among']} failed runs" if who == "Failed"
            else f"of all {chosen['among']} runs")


def chosen_runs_about(results: dict) -> list[tuple[str, str]]:
    """The About sheet's rows for the representative and the failed run."""
    return [("representative run", chosen_run_line(results, "Representative") + "; run again from "
             "its seed, its statements month by month (CNY), every total an Excel formula"),
            ("failed run", chosen_run_line(results, "Failed"))]


def failure_line(failures) -> str:
    """The plan's platform failed in k of n runs (share, interval), and why, by cause."""
    every = failures.iloc[0]
    if every.runs_failed == 0:
        return (f"  the platform failed in none of {every.runs} runs (95 % interval 0 - "
                f"{every.ci95_high:.1%})")
    causes = "; ".join(f"{row.cause} {row.runs_failed}" for row in failures.iloc[1:].itertuples())
    return (f"  the platform FAILED in {every.runs_failed} of {every.runs} runs ({every.share:.1%}, "
            f"95 % interval {every.ci95_low:.1%} - {every.ci95_high:.1%}), in month "
            f"{every.median_month:.0f} at the median: {causes}")


def capital_line(capital) -> str:
    """The owners' money needed beyond the plan at P50 / P90 / P95, and how far to trust it.

    A level that is only a lower bound (failed runs at or below it) is written "at least".
    """
    values = ", ".join(f"{row.level.upper()} " + ("at least " if row.lower_bound else "")
                       + f"{row.capital_needed_cny / 1e6:,.2f} M" for row in capital.itertuples())
    line = f"  capital needed beyond the plan (calls; CNY): {values}"
    bound = int(capital.lower_bound_runs.iloc[0])
    if bound:
        line += (f"\n    ({bound} of {capital.runs.iloc[0]} runs failed, calls being limited by "
                 f"liquidity.capital_call_limit_cny: their need is counted as what they could not "
                 f"pay when they failed, a lower bound; the capital that keeps the platform alive "
                 f"in 95 % of runs: --solve platforms.0.capital_cny --for \"cash_ran_out <= 0\" "
                 f"--probability 0.95)")
    return line


__all__ = ["PlanError", "PlanRequest", "format_plan", "run_plan"]
