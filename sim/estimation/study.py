"""``p2psim estimate FILE``: the runs of an estimation, on the one experiment runner, and its results.

The design's runs and the check's runs are :class:`sim.experiments.design.RunTask` s executed by
:func:`sim.experiments.runner.execute` (this process, a process pool or Dask), each returning the
moments of its run (:func:`simulate_moments`). Seeds: replication ``r`` of every point gets the
``r``-th child of ``SeedSequence(seed)`` (common random numbers), so the result does not depend on
the executor or the number of workers. The results folder (``results/NAME/`` unless ``--out``) is
written only once everything has run (:func:`sim.folders.atomic_folder`):

* ``estimates.csv``: each parameter's start, bounds, estimate, standard error, 95 % interval,
  whether the moments pin it down, and the spread of the estimates made from each replication;
* ``moments.csv``: each moment (fitted or held out, its months), the data's value and error, the
  simulated value at the estimate over ``check_replications`` runs, its error and the spread of one
  run (``model_spread``), z (the difference over the root of
  :func:`~sim.estimation.weights.error_squared`) and whether it fits (|z| <= 1 fitted, <= 2 held
  out);
* ``design.csv``: every design point's parameters and mean moments; ``runs.csv``: every run's
  moments (the design's and the check's); ``estimation.json``: all of it
  and the ``--set`` lines that run the scenario at the estimate; ``fit.png``: data against model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import footprint, strict_json
from sim.estimation import fit
from sim.estimation.moments import MOMENTS, observed, simulated
from sim.estimation.spec import Estimation, EstimationError, load_estimation
from sim.estimation.weights import error_squared, moment_covariance, weighable, weight_record
from sim.experiments.design import RunTask, run_seeds
from sim.experiments.store import RunStore
from sim.scenario import load_scenario

KIND = "estimation"


def moment_keys(spec: Estimation) -> list[tuple[str, str, tuple[str, str]]]:
    """(key, fitted or held out, period) of every moment: a monthly one's key names its months."""
    rows = []
    for role, names, period in (("fit", spec.moments.fit, spec.estimation.fit_months),
                                ("held_out", spec.moments.held_out,
                                 spec.estimation.held_out_months)):
        for name in names:
            key = f"{name}@{period[0]}..{period[1]}" if MOMENTS[name].monthly else name
            rows.append((key, role, tuple(period)))
    return rows


def simulate_moments(task: RunTask) -> dict[str, Any]:
    """Run one industry and return its moments (``task.statistics`` are the moments' keys)."""
    from sim.model import P2PMarket

    started = time.perf_counter()
    record = {"run": task.run, "point": task.point, "replication": task.replication}
    model = None
    try:
        model = P2PMarket(task.scenario, rng=task.seed, audit="off", threads=1, **task.overrides)
        model.run()
        names = [key.split("@")[0] for key in task.statistics]
        periods = [tuple(key.split("@")[1].split("..")) if "@" in key else None
                   for key in task.statistics]
        record["moments"] = simulated(model, names, periods)
        record["status"] = "ok"
    except Exception as error:  # noqa: BLE001 - a failed run is reported by the study
        record["status"] = "failed"
        record["error"] = f"{type(error).__name__}: {error}"
    finally:
        if model is not None:
            model.release()
    record["elapsed_s"] = round(time.perf_counter() - started, 2)
    return record


def _tasks(spec: Estimation, scenario: Path, points: np.ndarray, first_run: int,
           replications: int, seed: int | None = None) -> list[RunTask]:
    keys = tuple(key for key, _, _ in moment_keys(spec))
    seeds = run_seeds(spec.estimation.seed if seed is None else seed, replications)
    tasks = []
    for p, point in enumerate(points):
        values = dict(zip([q.key for q in spec.parameters], map(float, point), strict=True))
        for r in range(replications):
            tasks.append(RunTask(run=first_run + p * replications + r, point=p, replication=r,
                                 seed=seeds[r], scenario=str(scenario),
                                 overrides={**spec.estimation.fixed, **values}, params=values,
                                 statistics=keys))
    return tasks


def _run(tasks: list[RunTask], store: RunStore, executor: str, workers: int,
         scheduler: str | None, quiet: bool, label: str) -> list[dict]:
    """Every task's record: those ``store`` kept from an interrupted estimation, the rest run."""
    from tqdm import tqdm

    from sim.experiments.runner import execute

    done = store.done()
    todo = [task for task in tasks if task.run not in done]
    with tqdm(total=len(tasks), initial=len(tasks) - len(todo), unit="run", disable=quiet,
              file=sys.stderr, desc=label) as bar:
        for record in execute(todo, executor, workers, scheduler, function=simulate_moments):
            if record["status"] != "ok":
                raise EstimationError(f"{label}: run {record['run']} failed: {record['error']}")
            store.write(record)
            bar.update(1)
    runs = {task.run for task in tasks}
    return [record for record in store.records() if record["run"] in runs]


def total_runs(spec: Estimation) -> int:
    """The runs an estimation makes at most: the truth's, design (and start), refinement, check."""
    cfg = spec.estimation
    return (int(spec.synthetic is not None) + (cfg.points + 1 + cfg.refine_points)
            * cfg.replications + cfg.check_replications)


def run_store(folder: Path, spec: Estimation, path: Path, scenario: Path, quiet: bool) -> RunStore:
    """The estimation's kept runs, beside its results folder, keyed by every file it reads."""
    from sim.experiments.store import file_hashes, kept_runs_folder
    from sim.folders import check_output_folder
    from sim.scenario.reads import files_read

    kept = check_output_folder(kept_runs_folder(folder), "paths", "the folder of kept runs")
    manifest = {"study": "estimation", "estimation": spec.model_dump(mode="json"),
                "runs": total_runs(spec),
                "inputs": file_hashes({"estimation file": path,
                                       **files_read(scenario, role="base scenario")})}
    store = RunStore(kept, manifest, overwrite=True, kind="paths",
                     required=frozenset({"point", "replication", "moments"}))
    if not quiet and store.started_over:
        print(f"{spec.estimation.name}: starting over: {store.started_over}", file=sys.stderr)
    if not quiet and store.done():
        print(f"{spec.estimation.name}: resuming; {len(store.done())} runs kept in {kept} from "
              f"an interrupted estimation are not run again", file=sys.stderr)
    return store


class Stages:
    """The estimation's runs, stage by stage (design, refine, check), numbered in one sequence."""

    def __init__(self, spec, scenario, keys, low, high, store, executor, workers, scheduler,
                 quiet):
        self.spec, self.scenario, self.keys = spec, scenario, keys
        self.low, self.high, self.store = low, high, store
        self.where = (executor, workers, scheduler, quiet)
        self.next_run, self.left_out, self.rows = 0, 0, []

    def _records(self, stage: str, points: np.ndarray, replications: int,
                 seed: int | None = None) -> list[dict]:
        tasks = _tasks(self.spec, self.scenario, points, self.next_run, replications, seed)
        records = _run(tasks, self.store, *self.where, f"{self.spec.estimation.name}: {stage}")
        self.next_run += len(tasks)
        self.rows += [{"run": r["run"], "stage": stage, "point": r["point"],
                       "replication": r["replication"],
                       **dict(zip([p.key for p in self.spec.parameters],
                                  map(float, points[r["point"]]), strict=True)),
                       **r["moments"]} for r in records]
        return records

    def run(self, stage: str, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Run the design points ``unit`` (scaled); return those with every moment, and theirs."""
        replications = self.spec.estimation.replications
        records = self._records(stage, self.low + unit * (self.high - self.low), replications)
        table = _moment_table(records, self.keys, len(unit), replications)
        defined = np.isfinite(table).all(axis=(1, 2))  # a point with a moment undefined: left out
        if stage == "design":
            _enough(defined, len(self.low), self.keys, table)
        self.left_out += int((~defined).sum())
        return unit[defined], table[defined]

    def data(self, rows) -> np.ndarray:
        """(moments, 2): each moment's value and error: WDZJ's, or one run at a known truth.

        A ``[synthetic]`` file's data are one run at its ``truth`` with its own seed, with no
        error of their own (the model's spread of one history is in every moment's error).
        """
        synthetic = self.spec.synthetic
        if synthetic is None:
            return np.array([observed(key.split("@")[0], period) for key, _, period in rows])
        truth = np.array([synthetic.truth[p.key] for p in self.spec.parameters])
        records = self._records("truth", truth[None, :], 1, synthetic.seed)
        values = _moment_table(records, self.keys, 1, 1)[0, 0]
        if not np.isfinite(values).all():
            missing = self.keys[int(np.flatnonzero(~np.isfinite(values))[0])]
            raise EstimationError(f"synthetic.truth: the run at the truth gives {missing} no "
                                  f"value (no failure, or no platform left to measure it on)")
        return np.column_stack([values, np.zeros(len(values))])

    def check(self, theta: np.ndarray, replications: int) -> np.ndarray:
        """(replications, moments) at the estimate ``theta``."""
        records = self._records("check", theta[None, :], replications)
        return _moment_table(records, self.keys, 1, replications)[0]


def _moment_table(records: list[dict], keys: list[str], points: int,
                  replications: int) -> np.ndarray:
    """(points, replications, moments) of the records' moments."""
    table = np.full((points, replications, len(keys)), np.nan)
    for record in records:
        table[record["point"], record["replication"]] = [record["moments"][k] for k in keys]
    return table


def run_estimation(path: str | Path, out: str | Path | None = None, executor: str = "process",
                   workers: int = 2, scheduler: str | None = None, quiet: bool = False) -> dict:
    """Run an estimation file's design, fit, check the estimate, write the folder; return the result.

    Raises
    ------
    EstimationError, OutputFolderError
        On a bad file or folder, before any run starts; or when a run fails.
    """
    from sim.folders import atomic_folder, check_output_folder

    started = time.perf_counter()
    spec, scenario = load_estimation(path)
    cfg = spec.estimation
    folder = check_output_folder(Path(out or cfg.out or Path("results") / cfg.name), KIND,
                                 "--out" if out else "the results folder")
    try:  # its size first: a design too big to run in time is refused before anything runs
        footprint.check_study(load_scenario(scenario, cfg.fixed), total_runs(spec), workers,
                              "estimation.points × replications (with refine_points and "
                              "check_replications)")
    except ValueError as error:
        raise EstimationError(f"{path}: {error}") from None
    store = run_store(folder, spec, Path(path), scenario, quiet)
    low = np.array([p.bounds[0] for p in spec.parameters])
    high = np.array([p.bounds[1] for p in spec.parameters])
    start = (np.array([p.start for p in spec.parameters]) - low) / (high - low)
    rows = moment_keys(spec)
    keys = [key for key, _, _ in rows]
    fitted = np.array([role == "fit" for _, role, _ in rows])
    stages = Stages(spec, scenario, keys, low, high, store, executor, workers, scheduler, quiet)
    data = stages.data(rows)
    unit, table = stages.run("design", np.vstack([start, fit.design(cfg.points, len(low),
                                                                    cfg.seed)]))
    covariance, weight = _weights(table, data, cfg.replications, keys, fitted)
    best = fit.estimate(unit, table.mean(axis=1)[:, fitted], data[fitted, 0], weight, start)
    box = (np.zeros(len(low)), np.ones(len(low)))
    if cfg.refine_points:  # a second design around the first estimate: a closer emulator
        box = fit.local_box(best["x"])
        new_unit, new_table = stages.run("refine", box[0] + fit.design(
            cfg.refine_points, len(low), cfg.seed + 1) * (box[1] - box[0]))
        inside = ((unit >= box[0] - 1e-12) & (unit <= box[1] + 1e-12)).all(axis=1)
        unit = np.vstack([unit[inside], new_unit])
        table = np.concatenate([table[inside], new_table])
        needed = len(fit.features(unit[:1])[0]) + 1
        if len(unit) < needed:
            raise EstimationError(f"estimation.refine_points: the refinement's box holds "
                                  f"{len(unit)} points with every moment; its emulator needs "
                                  f"{needed}: give refine_points = {needed} or more")
        # the second step: the moments' covariance near the first estimate (a run's spread
        # differs across the bounds: where investors run at once it is large)
        covariance, weight = _weights(new_table, data, cfg.replications, keys, fitted)
        best = fit.estimate(unit, table.mean(axis=1)[:, fitted], data[fitted, 0],
                            weight, start, box)
    seeds = [fit.estimate(unit, table[:, r][:, fitted], data[fitted, 0], weight, start,
                          box, profile=False)["x"] for r in range(cfg.replications)]
    theta = low + best["x"] * (high - low)
    at = stages.check(theta, cfg.check_replications)
    result = _result(spec, scenario, rows, data, at, best, seeds, low, high, unit,
                     table.mean(axis=1), time.perf_counter() - started)
    result["points_left_out"] = stages.left_out
    result["runs"] = stages.next_run
    result["at_box_edge"] = fit.at_edge(best["x"], box)
    result["runs_table"] = pd.DataFrame(stages.rows)
    result["weights"] = weight_record(covariance, fitted, keys)
    result["weights"]["from"] = "the refinement's runs" if cfg.refine_points else "the design's"
    result["assumptions"] = held_fixed(scenario, spec)
    with atomic_folder(folder, KIND) as staging:
        _write(staging, result, spec)
    store.discard()
    result["folder"] = folder
    return result


def _weights(table, data, replications, keys, fitted):
    """The moments' error covariance from ``table``'s runs, and the fitted ones' weight matrix."""
    covariance = moment_covariance(table, data[:, 1], replications)
    weighable(np.diag(covariance), keys)
    return covariance, np.linalg.inv(covariance[np.ix_(fitted, fitted)])


def _enough(defined: np.ndarray, dimensions: int, keys: list[str], table: np.ndarray) -> None:
    """Enough design points with every moment defined to fit the emulator, or a clear error."""
    needed = len(fit.features(np.zeros((1, dimensions)))[0]) + 1
    if defined.sum() < needed:
        worst = keys[int(np.argmax((~np.isfinite(table)).sum(axis=(0, 1))))]
        raise EstimationError(f"only {int(defined.sum())} of {len(defined)} design points give "
                              f"every moment a value ({worst} most often has none: no failure, "
                              f"or no platform left to measure it on); the emulator needs "
                              f"{needed}: narrow the bounds, add points, or run more platforms "
                              f"(estimation.fixed)")


def _result(spec, scenario, rows, data, at, best, seeds, low, high, unit, means,
            elapsed) -> dict:
    scale = high - low
    seeds = np.array(seeds) * scale + low
    estimates = pd.DataFrame({
        "parameter": [p.key for p in spec.parameters], "start": [p.start for p in spec.parameters],
        "low": low, "high": high, "estimate": low + best["x"] * scale, "se": best["se"] * scale,
        "pinned_down": best["pinned"],
        "seed_spread": seeds.std(axis=0, ddof=1) if len(seeds) > 1 else np.nan})
    estimates["ci95_low"] = low + best["profile_low"] * scale  # the profile's: within bounds,
    estimates["ci95_high"] = low + best["profile_high"] * scale  # one-sided on a bound
    on = np.isclose(best["x"], 0.0, atol=1e-4) | np.isclose(best["x"], 1.0, atol=1e-4)
    estimates["at_bound"] = on
    estimates["interval_truncated"] = best["truncated"]  # at the refinement box: at least this
    if spec.synthetic is not None:  # a recovery check: is the truth inside its interval?
        estimates["truth"] = [spec.synthetic.truth[p.key] for p in spec.parameters]
        estimates["recovered"] = ((estimates.ci95_low <= estimates.truth)
                                  & (estimates.truth <= estimates.ci95_high))
    simulated_mean = np.nanmean(at, axis=0)
    runs = np.isfinite(at).sum(axis=0)
    spread = np.nanvar(at, axis=0, ddof=1)
    z = (simulated_mean - data[:, 0]) / np.sqrt(error_squared(data[:, 1], spread, runs))
    roles = [role for _, role, _ in rows]
    moments = pd.DataFrame({
        "moment": [key for key, _, _ in rows], "role": roles,
        "label": [MOMENTS[key.split("@")[0]].label for key, _, _ in rows],
        "data": data[:, 0], "data_se": data[:, 1], "simulated": simulated_mean,
        "simulated_se": np.sqrt(spread / runs), "model_spread": np.sqrt(spread), "z": z,
        "fits": np.abs(z) <= np.where(np.array(roles) == "fit", 1.0, 2.0)})
    fitted = np.array([role == "fit" for role in roles])
    moments.loc[fitted, "emulated"] = best["emulated"]  # the emulator's value at the estimate
    moments.loc[fitted, "emulator_r2"] = best["r2"]
    columns = {p.key: low[i] + unit[:, i] * scale[i] for i, p in enumerate(spec.parameters)}
    design = pd.DataFrame(columns | {key: means[:, k] for k, (key, _, _) in enumerate(rows)})
    return {"name": spec.estimation.name, "scenario": str(scenario), "seed": spec.estimation.seed,
            "estimates": estimates, "moments": moments, "design": design,
            "distance": best["distance"], "identification": best["identification"],
            "synthetic": spec.synthetic is not None, "elapsed_s": round(elapsed, 1),
            "set": [f"--set {k}={v:.6g}" for k, v in zip(estimates.parameter, estimates.estimate,
                                                          strict=True)]}


def _write(folder: Path, result: dict, spec: Estimation) -> None:
    from sim.estimation.figure import fit_figure

    result["estimates"].to_csv(folder / "estimates.csv", index=False)
    result["moments"].to_csv(folder / "moments.csv", index=False)
    result["design"].to_csv(folder / "design.csv", index=False)
    result["runs_table"].to_csv(folder / "runs.csv", index=False)
    plain = {k: (v.to_dict(orient="records") if isinstance(v, pd.DataFrame) else v)
             for k, v in result.items() if k not in ("design", "runs_table")}
    plain["estimation"] = spec.model_dump(mode="json")
    (folder / "estimation.json").write_text(strict_json.dumps(plain, indent=1, ensure_ascii=False,
                                                              default=_plain), encoding="utf-8")
    fit_figure(result["moments"], folder / "fit.png", f"{result['name']}: data against the "
                                                       f"model at the estimate")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


def held_fixed(scenario, spec) -> list[dict]:
    """The dated events' strengths, held fixed beside the estimates: assumptions, not estimates.

    Each tightening's hazard multiplier and length, each collapse's or investigation's size, each
    event's news: the replay takes them as given (docs/industry.md), and the estimates are
    conditional on them.
    """
    from sim.scenario import load_scenario
    from sim.scenario.industry import reached

    estimated = {p.key for p in spec.parameters}
    loaded = load_scenario(scenario, dict(spec.estimation.fixed))
    events = loaded.industry.events
    rows = []
    for i, event in enumerate(events):
        if not reached(loaded.industry, loaded.run.horizon_days)[i]:
            continue  # past the estimation's runs: nothing rests on it
        fields = {"tighten": ("hazard_multiplier", "months", "news"),
                  "collapse": ("largest", "news"), "investigation": ("largest", "news"),
                  "ban": ("news",), "shrink": ("months", "news")}[event.kind]
        for field in fields:
            key = f"industry.events.{i}.{field}"
            if key not in estimated:
                rows.append({"key": key, "value": getattr(event, field),
                             "what": f"{event.month} {event.kind} ({event.platform_class})"})
    return rows
