"""The reserve study: plan the paths, run them on an executor, estimate, write tables and figures."""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.design import run_seeds
from sim.experiments.runner import EXECUTORS, execute
from sim.folders import atomic_folder, check_output_folder
from sim.money import to_fen
from sim.outputs import git_revision
from sim.policies import build
from sim.policies.guarantee import ReserveFund
from sim.reserve import analysis, figures
from sim.reserve.paths import PathTask, run_path
from sim.reserve.sampling import METHODS, draw_shocks, shock_count
from sim.scenario import Scenario, load_scenario, policy_context

SERIES = ("net_outflow", "max_net_outflow", "payouts", "inflows", "defaulted", "recovered")


class ReserveError(ValueError):
    """A reserve study that cannot be run as asked; ``str(error)`` is the message for the user."""


@dataclass
class ReserveRequest:
    """What the user asked for (the command line's options)."""

    scenario: str
    out: str | None = None
    paths: int = 400
    horizon_months: int | None = None
    confidence: tuple[float, ...] = (0.99, 0.999)
    method: str = "importance"
    stratify: bool = True
    initial_reserve_cny: float | None = None
    platform: str | None = None
    seed: int | None = None
    workers: int = 2
    executor: str = "process"
    scheduler: str | None = None
    overrides: dict[str, Any] | None = None
    quiet: bool = False


@dataclass
class Plan:
    """A checked request: the scenario, the platform and the numbers the paths need."""

    scenario: Scenario
    platform: int
    horizon_months: int
    confidence: list[float]
    initial_reserve_fen: int
    contribution_rate: float
    fee_share: float
    seed: int


def check(request: ReserveRequest) -> Plan:
    """Validate the request against its scenario; raise :class:`ReserveError` (or ScenarioError)."""
    label = request.scenario
    if not request.confidence:
        raise ReserveError("--confidence: give at least one level, e.g. 0.99 0.999")
    for level in request.confidence:
        if not (isinstance(level, float | int) and 0.0 < level < 1.0):
            raise ReserveError(f"--confidence {level}: must be strictly between 0 and 1 "
                               f"(e.g. 0.99 for 99 %)")
    if request.paths < 2:
        raise ReserveError(f"--paths {request.paths}: must be at least 2 (Monte-Carlo errors need "
                           f"two paths; a study needs hundreds)")
    if request.method not in METHODS:
        raise ReserveError(f"--method {request.method!r}: allowed: {', '.join(METHODS)}")
    if request.executor not in EXECUTORS:
        raise ReserveError(f"--executor {request.executor!r}: allowed: {', '.join(EXECUTORS)}")
    if request.workers < 1:
        raise ReserveError(f"--workers {request.workers}: must be at least 1")
    if request.seed is not None and request.seed < 0:
        raise ReserveError(f"--seed {request.seed}: must be >= 0")
    scenario = load_scenario(request.scenario, request.overrides or {})
    months = scenario.run.horizon_days // 30
    horizon = months if request.horizon_months is None else request.horizon_months
    if not 1 <= horizon <= months:
        raise ReserveError(f"--horizon-months {horizon}: must be 1 to {months}, the scenario's "
                           f"horizon ({label}: run.horizon_days = {scenario.run.horizon_days})")
    platform = _reserve_platform(scenario, request.platform, label)
    policy = _reserve_policy(scenario, platform)
    if policy.has_funding_rules:
        raise ReserveError(f"{label}: platforms[{platform}].guarantee has funding rules "
                           f"(target_coverage, minimum_cny or cap_coverage): the reserve's path "
                           f"then depends on its own size, which the study's one run for every "
                           f"size assumes it does not; remove them to size the reserve")
    params = policy.params
    initial = (params.initial_cny if request.initial_reserve_cny is None
               else request.initial_reserve_cny)
    if not (math.isfinite(initial) and initial >= 0):
        raise ReserveError(f"--initial-reserve {initial}: must be a non-negative amount in CNY")
    return Plan(scenario=scenario, platform=platform, horizon_months=horizon,
                confidence=sorted(set(float(c) for c in request.confidence)),
                initial_reserve_fen=to_fen(initial),
                contribution_rate=float(params.principal_share),
                fee_share=float(params.fee_share),
                seed=scenario.run.seed if request.seed is None else request.seed)


def _reserve_policy(scenario: Scenario, index: int):
    """The platform's guarantee policy, built as the market builds it."""
    platform = scenario.platforms[index]
    return build("guarantee", platform.guarantee, policy_context(scenario, platform),
                 scenario.source_dir)


def _reserve_platform(scenario: Scenario, name: str | None, label: str) -> int:
    """Index of the platform whose reserve fund is studied."""
    with_reserve = [i for i in range(len(scenario.platforms))
                    if isinstance(_reserve_policy(scenario, i), ReserveFund)]
    names = [p.name for p in scenario.platforms]
    if name is not None:
        if name not in names:
            raise ReserveError(f"--platform {name!r}: {label} has no such platform; it has "
                               f"{', '.join(names)}")
        index = names.index(name)
        if index not in with_reserve:
            policy = scenario.platforms[index].guarantee.get("policy")
            raise ReserveError(f"--platform {name}: {label}: platforms[{index}].guarantee.policy is "
                               f"{policy!r}; the reserve study needs policy = \"reserve_fund\" "
                               f"(风险准备金)")
        return index
    if not with_reserve:
        policies = ", ".join(f"platforms[{i}].guarantee.policy = {p.guarantee.get('policy')!r}"
                             for i, p in enumerate(scenario.platforms))
        raise ReserveError(f"{label}: no platform keeps a reserve fund ({policies}); the reserve "
                           f"study needs a platform with [platforms.guarantee] policy = "
                           f"\"reserve_fund\" (风险准备金)")
    if len(with_reserve) > 1:
        raise ReserveError(f"{label}: several platforms keep a reserve fund "
                           f"({', '.join(names[i] for i in with_reserve)}); choose one with "
                           f"--platform NAME")
    return with_reserve[0]


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
                      contribution_rate=plan.contribution_rate, fee_share=plan.fee_share)
             for i in range(request.paths)]
    return design, tasks


def run_reserve_study(request: ReserveRequest) -> dict[str, Any]:
    """Run the study and write its folder; return the results (also in ``summary.json``)."""
    from tqdm import tqdm

    plan = check(request)
    name = plan.scenario.run.name
    out = Path(request.out) if request.out else Path("results") / f"reserve-{name}"
    check_output_folder(out, "reserve")  # before any path runs
    if request.executor == "dask" and request.scheduler:
        from sim.experiments.runner import connect_dask
        client, _ = connect_dask(request.workers, request.scheduler)
        client.close()
    started = time.perf_counter()
    design, tasks = plan_paths(request, plan)
    records = []
    with tqdm(total=len(tasks), unit="path", disable=request.quiet, file=sys.stderr,
              desc=f"reserve {name}") as bar:
        for record in execute(tasks, request.executor, request.workers, request.scheduler,
                              function=run_path):
            if record["status"] != "ok":  # e.g. a user's policy that faulted: stop, write nothing
                raise ReserveError(f"path {record['path']} (seed {record['seed']}) failed; "
                                   f"nothing written:\n{record['error'].rstrip()}")
            records.append(record)
            bar.update(1)
    records.sort(key=lambda r: r["path"])
    elapsed = time.perf_counter() - started
    results = estimate(records, design, plan, request)
    results["elapsed_s"] = round(elapsed, 1)
    results["path_time_s"] = round(float(np.mean([r["elapsed_s"] for r in records])), 3)
    write_study(out, records, design, plan, request, results)
    results["folder"] = str(out)
    return results


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
    required_rate = np.array([r["required_rate"] for r in records])
    required_fee_share = np.array([r["required_fee_share"] for r in records])
    reserve = plan.initial_reserve_fen / 100
    requirements = []
    for level in plan.confidence:
        need = analysis.bootstrap(lambda v, x, a=level: analysis.weighted_quantile(v, x, a),
                                  columns["required_reserve"], w, rng)
        rate = analysis.bootstrap(lambda v, x, a=level: analysis.weighted_quantile(v, x, a),
                                  required_rate, w, rng)
        fee = analysis.bootstrap(lambda v, x, a=level: analysis.weighted_quantile(v, x, a),
                                 required_fee_share, w, rng)
        requirements.append({
            "confidence": level,
            "initial_reserve_cny": need["estimate"], "initial_reserve_se": need["se"],
            "initial_reserve_low": need["low"], "initial_reserve_high": need["high"],
            "initial_reserve_relative_se": (need["se"] / need["estimate"]
                                            if need["estimate"] > 0 else float("nan")),
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
        for c in np.linspace(0.0, min(top, 1.0), 41)]
    balance = reserve - series["net_outflow"]
    return {
        "scenario": request.scenario, "name": plan.scenario.run.name,
        "platform": plan.scenario.platforms[plan.platform].name,
        "paths": len(records), "horizon_months": plan.horizon_months,
        "confidence": plan.confidence, "seed": plan.seed,
        "method": design.method, "stratified": request.stratify,
        "tilt_shift": design.shift,
        "effective_sample_size": design.effective_sample_size,
        "initial_reserve_cny": reserve, "contribution_rate": plan.contribution_rate,
        "fee_share": plan.fee_share, "statistics": statistics, "requirements": requirements,
        "exhaustion_by_month": by_month, "exhaustion_month": month_dist,
        "exhaustion_probability": by_month[-1],
        "frontier": frontier,
        "_columns": columns, "_balance": balance, "_required_rate": required_rate,
        "_required_fee_share": required_fee_share,
    }


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
                  "frontier": results["frontier"]}
        for name, rows in tables.items():
            pd.DataFrame(rows).to_csv(staging / f"{name}.csv", index=False)
        _figures(staging, results, design.weight, columns, balance, plan)
        meta = {"request": dict(vars(request)), "git": git_revision()}
        (staging / "summary.json").write_text(json.dumps({**results, "metadata": meta}, indent=2,
                                                         ensure_ascii=False, default=str))


def _figures(folder: Path, results: dict, weights: np.ndarray, columns: dict, balance: np.ndarray,
             plan: Plan) -> None:
    title = f"{results['name']}: {results['paths']} paths ({results['method']})"
    figures.plot_losses({"credit loss (net of recoveries)": columns["credit_loss"],
                         "reserve payouts": columns["reserve_payouts"],
                         "initial reserve needed": columns["required_reserve"]},
                        weights, plan.confidence, folder / "losses.png", title)
    figures.plot_balance_fan(balance, weights, plan.confidence, folder / "balance_fan.png",
                             f"{title}: reserve from {results['initial_reserve_cny']:,.0f} CNY")
    figures.plot_exhaustion(results["exhaustion_by_month"], results["exhaustion_month"],
                            plan.confidence, folder / "exhaustion.png",
                            f"{title}: reserve of {results['initial_reserve_cny']:,.0f} CNY")
    figures.plot_frontier(results["frontier"], plan.confidence, plan.contribution_rate,
                          folder / "frontier.png",
                          f"{title}: initial reserve {results['initial_reserve_cny']:,.0f} CNY")


def format_results(results: dict[str, Any]) -> str:
    """The study's main numbers as a few lines of text for the terminal."""
    lines = [f"{results['name']} / {results['platform']}: {results['paths']} paths over "
             f"{results['horizon_months']} months, {results['method']}"
             f"{' + stratified' if results['stratified'] else ''} sampling, effective sample size "
             f"{results['effective_sample_size']:.0f}, {results['elapsed_s']:.0f} s",
             "", f"{'':28s}{'estimate':>16s}{'std error':>14s}{'95 % interval':>30s}"]
    for key, label in [("credit_loss", "credit loss, CNY"), ("reserve_payouts", "reserve payouts, CNY")]:
        for row in results["statistics"][key]:
            lines.append(f"{label + ' ' + row['statistic']:28s}{row['estimate']:16,.0f}"
                         f"{row['se']:14,.0f}{_interval(row['low'], row['high'], ',.0f'):>30s}")
    lines.append("")
    reserve = results["initial_reserve_cny"]
    for row in results["requirements"]:
        level = f"{row['confidence']:.4g}"
        lines.append(f"initial reserve for {level}: {row['initial_reserve_cny']:,.0f} CNY "
                     f"(se {row['initial_reserve_se']:,.0f}, relative "
                     f"{row['initial_reserve_relative_se']:.1%}; 95 % "
                     f"{_interval(row['initial_reserve_low'], row['initial_reserve_high'], ',.0f')})")
        lines.append(f"contribution rate for {level} with {reserve:,.0f} CNY: "
                     f"{_rate(row['contribution_rate'])} (se {_rate(row['contribution_rate_se'])})")
        lines.append(f"fee share for {level} with {reserve:,.0f} CNY and a "
                     f"{results['contribution_rate']:.2%} contribution: {_rate(row['fee_share'])} "
                     f"(se {_rate(row['fee_share_se'])})")
    p = results["exhaustion_probability"]
    lines.append(f"P(a reserve of {reserve:,.0f} CNY at a {results['contribution_rate']:.2%} "
                 f"contribution runs dry within {results['horizon_months']} months) = "
                 f"{p['estimate']:.4g} (se {p['se']:.2g})")
    return "\n".join(lines)


def _interval(low: float, high: float, spec: str) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "-"
    return f"{format(low, spec)} - {format(high, spec)}"


def _rate(value: float) -> str:
    return "no rate is enough" if math.isinf(value) else ("-" if math.isnan(value)
                                                           else f"{value:.3%}")
