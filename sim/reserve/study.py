"""The reserve study: plan the paths, run them on an executor, estimate, write tables and figures."""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import strict_json
from sim.experiments.design import run_seeds
from sim.experiments.runner import execute
from sim.experiments.store import RunStore, file_hashes, kept_runs_folder
from sim.folders import atomic_folder, check_output_folder
from sim.outputs import git_revision
from sim.reserve import analysis, committee, figures
from sim.reserve.caveats import caveats
from sim.reserve.effects import measure_effects
from sim.reserve.paths import PathTask, run_path
from sim.reserve.request import LAYERS, Plan, ReserveError, ReserveRequest, check
from sim.reserve.sampling import draw_shocks, shock_count
from sim.reserve.solver import MAX_RUNS, Search, path_value, refine_band, undecided
from sim.reserve.text import relative_error
from sim.scenario.reads import files_read

SERIES = ("net_outflow", "max_net_outflow", "payouts", "inflows", "defaulted", "recovered")


def plan_paths(request: ReserveRequest, plan: Plan):
    """The macro design and one task per path (seeds: children of the study's SeedSequence)."""
    design_seq, path_seq = np.random.SeedSequence(plan.seed).spawn(2)
    horizon_days = 30 * plan.horizon_months
    months = shock_count(horizon_days)
    design = draw_shocks(plan.scenario.macro, months, plan.horizon_months, request.paths,
                         np.random.default_rng(design_seq), request.method,
                         max(plan.confidence), request.stratify)
    seeds = run_seeds(int(path_seq.generate_state(1, dtype=np.uint64)[0]), request.paths)
    source = str(Path(request.scenario).resolve())
    tasks = [PathTask(path=i, seed=seeds[i], shocks=design.shocks[i].tolist(), scenario=source,
                      overrides=dict(request.overrides or {}), platform=plan.platform,
                      horizon_days=horizon_days, initial_reserve_fen=plan.initial_reserve_fen,
                      contribution_rate=plan.contribution_rate, fee_share=plan.fee_share,
                      account=LAYERS[plan.layer], solve=plan.unknown)
             for i in range(request.paths)]
    return design, tasks


def run_reserve_study(request: ReserveRequest, kept_at: Path | None = None,
                      progress=None) -> dict[str, Any]:
    """Run the study and write its folder; return the results (also in ``summary.json``).

    Each path's record is kept as it finishes (:func:`path_store`), so a study interrupted by
    Ctrl-C resumes from the paths already run when the same command is given again. ``kept_at``:
    where they are kept (default: beside the results folder, deleted once it is written; a board
    gives its own and deletes it itself). ``progress``: a progress bar to advance (a board's,
    over all its schemes) instead of the study's own.
    """
    from tqdm import tqdm

    plan = check(request)
    name = plan.scenario.run.name
    label = study_label(request, plan)
    shown = Path(request.out) if request.out else Path("results") / f"reserve-{name}"
    out = check_output_folder(shown, "reserve")
    store = path_store(kept_at or kept_runs_folder(out), request, plan)  # before any path runs
    kept = len(store.done())
    if store.started_over and not request.quiet:
        print(f"{label}: starting over: {store.started_over}", file=sys.stderr)
    if kept and not request.quiet:
        print(f"{label}: resuming; {kept} path runs kept in {store.out} "
              f"from an interrupted study are not run again", file=sys.stderr)
    if request.executor == "dask" and request.scheduler:
        from sim.experiments.runner import connect_dask
        client, _ = connect_dask(request.workers, request.scheduler)
        client.close()
    started = time.perf_counter()
    design, tasks = plan_paths(request, plan)
    own = progress is None
    bar = tqdm(total=len(tasks), unit="path", disable=request.quiet, file=sys.stderr,
               desc=label) if own else progress
    try:
        records = run_paths(tasks, request, plan, design.weight, bar, store)
    finally:
        if own:
            bar.close()
    elapsed = time.perf_counter() - started
    results = estimate(records, design, plan, request)
    if request.effects:  # side studies, each with one effect off (sim.reserve.effects)
        results["effects"] = measure_effects(request, plan, results, run_reserve_study)
    results["elapsed_s"] = round(elapsed, 1)
    results["path_time_s"] = round(float(np.mean([r["elapsed_s"] for r in records])), 3)
    write_study(out, records, design, plan, request, results)
    if kept_at is None:
        store.discard()
    results["folder"] = str(shown)
    return results


def study_label(request: ReserveRequest, plan: Plan) -> str:
    """What the progress bar and the messages call the study: a board's scheme, or the scenario."""
    return f"reserve {request.label or plan.scenario.run.name}"


STUDY_SETTINGS = ("paths", "horizon_months", "confidence", "method", "stratify",
                  "initial_reserve_cny", "platform", "seed", "overrides", "layer", "solve",
                  "solver", "refine")  # what a path's record depends on (not where, nor how fast)


def path_store(folder: Path, request: ReserveRequest, plan: Plan) -> RunStore:
    """The store of the study's finished paths (the experiment runner's, kind ``paths``).

    Path ``i`` of root-finding's round ``r`` is kept as run ``r * paths + i``. Paths kept by
    another study (another scenario file, or other settings) are deleted: a rerun of a changed
    study starts over.
    """
    folder = check_output_folder(folder, "paths", "the folder of kept paths")
    settings = {key: getattr(request, key) for key in STUDY_SETTINGS}
    settings.update(confidence=list(request.confidence), seed=plan.seed)
    manifest = {"study": "reserve", "settings": settings, "runs": request.paths * MAX_RUNS,
                "inputs": file_hashes(files_read(request.scenario, plan.scenario))}
    return RunStore(folder, manifest, overwrite=True, kind="paths",
                    required=frozenset({"path", "round", "seed", "elapsed_s"}))


def run_paths(tasks: list[PathTask], request: ReserveRequest, plan: Plan, weights: np.ndarray,
              bar, store: RunStore) -> list[dict]:
    """Every path's record, in path order.

    One run a path answers for every size; root-finding refines, round after round, only the
    paths whose bracket still meets a quantile asked for (:func:`refine_band`; ``request.refine
    = "every-path"`` solves each path to the end in one go). A path's round already in ``store``
    is read from there, not run again: the rounds, and so the answers, are those of a study that
    was never interrupted.
    """
    kept = {record["run"]: record for record in store.records()}
    refine = plan.unknown is not None and plan.refine == "near-quantiles"
    first = [dataclasses.replace(task, steps=1) for task in tasks] if refine else tasks
    records = _round(first, 0, request, bar, store, kept)
    base = getattr(bar, "desc", "").rstrip(": ") or study_label(request, plan)  # a board's too
    number = 1
    while refine:
        searches = [record["solver_search"] for record in records]
        band = refine_band(searches, weights, plan.confidence)
        pending = [i for i, search in enumerate(searches) if undecided(search, band)]
        if not pending:
            break
        bar.total += len(pending)
        bar.set_description(f"{base} (refining {len(pending)})")
        again = [dataclasses.replace(tasks[i], search=searches[i], steps=1) for i in pending]
        for record in _round(again, number, request, bar, store, kept):
            mine = records[record["path"]]
            mine.update({key: record[key] for key in record if key.startswith("solver_")})
            mine["elapsed_s"] += record["elapsed_s"]
        number += 1
    if plan.unknown is not None:
        for record in records:
            search = record["solver_search"]
            record[plan.unknown.answer] = path_value(search)
            record["solver_exact"] = search.done
    return records


def _round(tasks: list[PathTask], number: int, request: ReserveRequest, bar, store: RunStore,
           kept: dict[int, dict]) -> list[dict]:
    """Round ``number``'s records, sorted by path: those kept, and the others run and kept."""
    first = number * request.paths  # the round's run numbers in the store
    records = [_unstored(kept[first + task.path]) for task in tasks if first + task.path in kept]
    bar.update(len(records))
    todo = [task for task in tasks if first + task.path not in kept]
    for record in execute(todo, request.executor, request.workers, request.scheduler,
                          function=run_path):
        if record["status"] != "ok":  # e.g. a user's policy that faulted: stop, write nothing
            raise ReserveError(f"path {record['path']} (seed {record['seed']}) failed; "
                               f"nothing written:\n{record['error'].rstrip()}")
        stored = _stored(record, first + record["path"], number)
        store.write(stored)
        records.append(_unstored(stored))  # as a resumed study reads it: the same to the bit
        bar.update(1)
    return sorted(records, key=lambda r: r["path"])


def _stored(record: dict, run: int, number: int) -> dict:
    """A path's record as the store keeps it (JSON: the solver's search as a table)."""
    stored = {**record, "run": run, "round": number}
    if "solver_search" in record:
        stored["solver_search"] = dataclasses.asdict(record["solver_search"])
    return stored


def _unstored(stored: dict) -> dict:
    """A path's record as the study uses it, from the store's."""
    record = {key: value for key, value in stored.items() if key not in ("run", "round")}
    if "solver_search" in stored:
        search = dict(stored["solver_search"])
        search["tried"] = [tuple(pair) for pair in search["tried"]]
        record["solver_search"] = Search(**search)
    return record


def estimate(records: list[dict], design, plan: Plan, request: ReserveRequest) -> dict[str, Any]:
    """Every estimate of the study, with its Monte-Carlo errors (plain numbers, for JSON)."""
    rng = np.random.default_rng(np.random.SeedSequence(plan.seed).spawn(3)[2])
    w = design.weight
    series = {key: np.array([r[key] for r in records]) for key in SERIES}
    defaulted = series["defaulted"].sum(axis=1)
    columns = {
        "credit_loss": defaulted - series["recovered"].sum(axis=1),
        "defaulted": defaulted,
        "reserve_payouts": series["payouts"].sum(axis=1),
        "net_outflow": series["net_outflow"][:, -1],
        "required_reserve": np.array([r["required_reserve"] for r in records]),
    }
    statistics = {key: analysis.describe(values, w, plan.confidence, rng)
                  for key, values in columns.items()}
    bounded = plan.unknown is not None and not all(r["solver_exact"] for r in records)
    if bounded:  # paths far from every quantile hold a bound: only the quantiles are estimates
        for row in statistics["required_reserve"]:
            if not row["statistic"].startswith("q"):
                row.update(estimate=math.nan, se=math.nan, low=math.nan, high=math.nan)
    required_rate = np.array([r["required_rate"] for r in records])
    required_fee_share = np.array([r["required_fee_share"] for r in records])
    if plan.unknown is not None:  # root-finding solved one unknown: the others are not answers
        nan = np.full(len(records), np.nan)
        if plan.unknown.name != "size":
            columns["required_reserve"] = nan
        required_rate = required_rate if plan.unknown.name == "principal_share" else nan
        required_fee_share = required_fee_share if plan.unknown.name == "fee_share" else nan
    reserve = plan.initial_reserve_fen / 100
    requirements = []
    quantiles = {row["statistic"]: row for row in statistics["required_reserve"]}
    sized = plan.unknown is None or plan.unknown.name == "size"
    nothing = {"estimate": math.nan, "se": math.nan, "low": math.nan, "high": math.nan}
    for level in plan.confidence:  # the size is the required reserve's quantile: one error
        need = quantiles[f"q{analysis.level_label(level)}"] if sized else nothing
        rate = analysis.bootstrap(lambda v, x, a=level: analysis.weighted_quantile(v, x, a),
                                  required_rate, w, rng)
        fee = analysis.bootstrap(lambda v, x, a=level: analysis.weighted_quantile(v, x, a),
                                 required_fee_share, w, rng)
        requirements.append({
            "confidence": level,
            "initial_reserve_cny": need["estimate"], "initial_reserve_se": need["se"],
            "initial_reserve_low": need["low"], "initial_reserve_high": need["high"],
            "initial_reserve_relative_se": relative_error(need["se"], need["estimate"]),
            "contribution_rate": rate["estimate"], "contribution_rate_se": rate["se"],
            "contribution_rate_low": rate["low"], "contribution_rate_high": rate["high"],
            "fee_share": fee["estimate"], "fee_share_se": fee["se"],
            "fee_share_low": fee["low"], "fee_share_high": fee["high"],
        })
    by_month = analysis.exhaustion_by_month(series["max_net_outflow"], w, reserve, rng)
    month_dist = analysis.exhaustion_month(series["max_net_outflow"], w, reserve)
    finite = required_rate[np.isfinite(required_rate)]
    top = max(plan.contribution_rate * 2, float(finite.max()) * 1.1 if len(finite) else 0.05, 0.01)
    frontier = [{"contribution_rate": c, **analysis.bootstrap(
        lambda v, x, c=c: analysis.exceedance(v, x, c), required_rate, w, rng, 200)}
        for c in np.linspace(0.0, min(top, 1.0), 41)] if not np.isnan(required_rate).all() else []
    balance = reserve - series["net_outflow"]
    results = {
        "scenario": request.scenario, "name": plan.scenario.run.name,
        "platform": plan.scenario.platforms[plan.platform].name,
        "paths": len(records), "horizon_months": plan.horizon_months,
        "confidence": plan.confidence, "seed": plan.seed,
        "method": design.method, "stratified": request.stratify,
        "tilt_shift": design.shift,
        "effective_sample_size": design.effective_sample_size,
        "initial_reserve_cny": reserve, "contribution_rate": plan.contribution_rate,
        "fee_share": plan.fee_share, "statistics": statistics, "requirements": requirements,
        "layer": plan.layer, "solver": _solver_summary(records, plan),
        "platform_funding_cny": analysis.weighted_mean(
            np.array([r["platform_funding"] for r in records]), w),
        "exhaustion_by_month": by_month, "exhaustion_month": month_dist,
        "exhaustion_probability": _short_as_configured(records, plan, w, by_month, rng),
        "frontier": frontier,
        "borrowers_react": _borrowers_react(plan.scenario),
        "_columns": columns, "_balance": balance, "_required_rate": required_rate,
        "_required_fee_share": required_fee_share,
    }
    committee.assess(records, w, plan, results, np.random.default_rng(
        np.random.SeedSequence(plan.seed).spawn(4)[3]))  # after the others: their draws unchanged
    results["warnings"] = caveats(results, columns)
    return results


def _borrowers_react(scenario) -> bool:
    """Whether borrowers would lend less at a higher contribution (they pay it: all-in cost)."""
    borrowers = scenario.borrowers
    return borrowers.rate_elasticity > 0 or borrowers.rate_tolerance_mean < 0.5


def _short_as_configured(records: list[dict], plan: Plan, w: np.ndarray, by_month: list[dict],
                         rng: np.random.Generator) -> dict[str, float]:
    """P(the layer as configured is short within the horizon), with its errors.

    One run: its reserve runs dry (the last month of ``by_month``). Root-finding: the first run,
    at the scenario's value, was short by the solver's own test, so the probability and the sizes
    agree (a guarantor is short when it fails or turns away part of the book it should cover).
    """
    if plan.unknown is None:
        return by_month[-1]
    short = np.array([float(r["solver_search"].first_short) for r in records])
    return analysis.bootstrap(analysis.weighted_mean, short, w, rng)


def _solver_summary(records: list[dict], plan: Plan) -> dict[str, Any]:
    """How the requirements were found, and why (with root-finding: runs a path, convergence)."""
    summary: dict[str, Any] = {"method": plan.solver, "reason": plan.solver_reason}
    if plan.unknown is not None:
        runs = [r["solver_runs"] for r in records]
        exact = [r for r in records if r["solver_exact"]]
        summary.update(unknown=plan.unknown.name, key=plan.unknown.key,
                       runs_per_path=float(np.mean(runs)), runs_max=int(np.max(runs)),
                       refine=plan.refine, solved_share=len(exact) / len(records),
                       converged_share=(float(np.mean([r["solver_converged"] for r in exact]))
                                        if exact else float("nan")),
                       tolerance=plan.unknown.tolerance)
    return summary


def _solver_columns(records: list[dict], plan: Plan) -> dict[str, list]:
    """Root-finding's columns of ``paths.parquet``: the bracket, the runs, solved or a bound."""
    if plan.unknown is None:
        return {}
    return {"solver_low": [r["solver_low"] for r in records],
            "solver_high": [r["solver_search"].enough for r in records],
            "solver_runs": [r["solver_runs"] for r in records],
            "solver_exact": [r["solver_exact"] for r in records]}


def write_study(out: Path, records: list[dict], design, plan: Plan, request: ReserveRequest,
                results: dict[str, Any]) -> None:
    """Write the folder atomically (nothing half-written if anything fails)."""
    columns = results.pop("_columns")
    balance = results.pop("_balance")
    required_rate = results.pop("_required_rate")
    required_fee_share = results.pop("_required_fee_share")
    with atomic_folder(out, "reserve") as staging:
        paths = pd.DataFrame({"path": [r["path"] for r in records],
                              "seed": [str(r["seed"]) for r in records],
                              "weight": design.weight, "component": design.component,
                              **columns, "required_contribution_rate": required_rate,
                              "required_fee_share": required_fee_share,
                              "unpaid_claims": [r["unpaid_claims"] for r in records],
                              "platform_funding": [r["platform_funding"] for r in records],
                              **_solver_columns(records, plan),
                              "elapsed_s": [r["elapsed_s"] for r in records]})
        paths.to_parquet(staging / "paths.parquet", index=False)
        monthly = pd.DataFrame([{"path": r["path"], "month": m + 1,
                                 **{key: r[key][m] for key in SERIES}}
                                for r in records for m in range(len(r["net_outflow"]))])
        monthly.to_parquet(staging / "monthly.parquet", index=False)
        tables = {"requirements": results["requirements"],
                  "statistics": [{"quantity": key, **row}
                                 for key, rows in results["statistics"].items() for row in rows],
                  "exhaustion": results["exhaustion_by_month"],
                  "exhaustion_month": results["exhaustion_month"],
                  "frontier": results["frontier"], "book": results["book"]["grade_mix"],
                  "closed_form": results["closed_form"],
                  "closed_form_inputs": results["closed_form_inputs"],
                  **({"effects": results["effects"]} if "effects" in results else {}),
                  "tail_contributions": results["tail_contributions"]}
        for name, rows in tables.items():
            pd.DataFrame(rows).to_csv(staging / f"{name}.csv", index=False)
        _figures(staging, results, design.weight, columns, balance, plan)
        meta = {"request": dict(vars(request)), "git": git_revision()}
        (staging / "summary.json").write_text(strict_json.dumps({**results, "metadata": meta}, indent=2,
                                                                ensure_ascii=False, default=str))


def _figures(folder: Path, results: dict, weights: np.ndarray, columns: dict, balance: np.ndarray,
             plan: Plan) -> None:
    title = f"{results['name']}: {results['paths']} paths ({results['method']})"
    shown = {"credit loss (net of recoveries)": columns["credit_loss"],
             "reserve payouts": columns["reserve_payouts"],
             "initial reserve needed": columns["required_reserve"]}
    if results["solver"].get("solved_share", 1.0) < 1.0:  # bounds far from the quantiles
        del shown["initial reserve needed"]
    figures.plot_losses(shown, weights, plan.confidence, folder / "losses.png", title)
    figures.plot_balance_fan(balance, weights, plan.confidence, folder / "balance_fan.png",
                             f"{title}: reserve from {results['initial_reserve_cny']:,.0f} CNY")
    figures.plot_exhaustion(results["exhaustion_by_month"], results["exhaustion_month"],
                            plan.confidence, folder / "exhaustion.png",
                            f"{title}: reserve of {results['initial_reserve_cny']:,.0f} CNY")
    if results["frontier"]:
        figures.plot_frontier(results["frontier"], plan.confidence, plan.contribution_rate,
                              folder / "frontier.png",
                              f"{title}: initial reserve {results['initial_reserve_cny']:,.0f} CNY")
