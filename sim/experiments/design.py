"""Design points and runs: what varies, and the seed of every run.

A design gives a list of *points* (one value per varying parameter); each point is run
``replications`` times. Runs are numbered point by point (run ``k`` is point ``k // replications``,
replication ``k % replications``), and run ``k`` gets the ``k``-th child of
``numpy.random.SeedSequence(experiment.seed)``, so a run's numbers depend only on the experiment and
its number, never on which worker ran it or in what order.

With ``common_random_numbers`` every point's replication ``r`` gets the ``r``-th child instead: the
points then differ only by their parameters (same borrowers, same macro path ...), which takes the
simulation noise out of comparisons between points (sensitivity analyses need far fewer runs).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim import footprint
from sim.experiments.spec import Experiment, ExperimentError
from sim.scenario import ScenarioError, load_scenario


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs to make one run (plain data: it travels to processes and Dask)."""

    run: int
    point: int
    replication: int
    seed: int
    scenario: str
    overrides: dict[str, Any]
    params: dict[str, Any]
    statistics: tuple[str, ...]
    timeseries: tuple[str, ...] = field(default_factory=tuple)


def sensitivity_problem(spec: Experiment) -> dict:
    """The SALib problem: parameter names and bounds."""
    return {"num_vars": len(spec.parameters), "names": [p.key for p in spec.parameters],
            "bounds": [[p.low, p.high] for p in spec.parameters]}


def design_size(spec: Experiment) -> int:
    """How many points :func:`design_points` would make, counted without making them."""
    params, kind, n = spec.parameters, spec.design.kind, spec.design.samples
    if kind == "variants":
        return len(spec.variants)
    if not params:
        return 1
    if kind == "grid":
        return math.prod(len(p.values) for p in params)
    if kind == "list":
        return min(len(p.values) for p in params)
    if kind == "sobol":
        return n * (len(params) + 2)
    if kind == "morris":
        return n * (len(params) + 1)
    return n


def design_points(spec: Experiment) -> list[dict[str, Any]]:
    """The parameter points of the design, in order (a variant: the keys it sets)."""
    params = spec.parameters
    kind, seed = spec.design.kind, spec.experiment.seed
    if kind == "variants":
        return [dict(variant.set) for variant in spec.variants]
    if not params:
        return [{}]
    if kind == "grid":
        return [dict(zip([p.key for p in params], combo))
                for combo in itertools.product(*(p.values for p in params))]
    if kind == "list":
        return [dict(zip([p.key for p in params], combo)) for combo in zip(*(p.values for p in params))]
    unit = _unit_samples(spec, seed)
    low = np.array([p.low for p in params])
    high = np.array([p.high for p in params])
    values = unit if kind in ("sobol", "morris") else low + unit * (high - low)
    points = []
    for row in values:
        point = {}
        for p, value in zip(params, row):
            point[p.key] = int(round(value)) if p.integer else float(value)
        points.append(point)
    return points


def _unit_samples(spec: Experiment, seed: int) -> np.ndarray:
    kind, n, d = spec.design.kind, spec.design.samples, len(spec.parameters)
    rng = np.random.default_rng([seed, 1])  # the design's own stream, apart from the runs'
    if kind == "random":
        return rng.random((n, d))
    if kind == "latin":
        from scipy.stats import qmc
        return qmc.LatinHypercube(d=d, seed=rng).random(n)
    problem = sensitivity_problem(spec)
    if kind == "sobol":
        from SALib.sample import sobol
        return sobol.sample(problem, n, calc_second_order=False, seed=seed)
    from SALib.sample import morris
    return morris.sample(problem, n, num_levels=spec.design.levels, seed=seed)


def run_seeds(seed: int, n_runs: int) -> list[int]:
    """The seed of each run: a 64-bit integer from the run's child of the experiment's SeedSequence."""
    children = np.random.SeedSequence(seed).spawn(n_runs)
    return [int(child.generate_state(1, dtype=np.uint64)[0]) for child in children]


def plan_runs(spec: Experiment, scenario: Path, label: str, workers: int = 1) -> list[RunTask]:
    """Every run of the experiment, each point checked against the scenario first.

    Raises
    ------
    ExperimentError
        If a point's overrides make an invalid scenario (an unknown key, a value out of range), or
        the runs would take longer than :data:`sim.footprint.MAX_HOURS` on ``workers``.
    """
    size, reps = design_size(spec), spec.experiment.replications
    try:
        footprint.check_study(load_scenario(scenario, spec.experiment.fixed), size * reps, workers,
                              f"{label}: {size:,} design points x {reps:,} replications")
    except ScenarioError as error:
        raise ExperimentError(f"{label}: {error}") from None
    except ValueError as error:
        raise ExperimentError(str(error)) from None
    points = design_points(spec)
    for index, point in enumerate(points):
        try:
            load_scenario(scenario, {**spec.experiment.fixed, **point})
        except ScenarioError as error:
            raise ExperimentError(f"{label}: design point {index} {point}: {error}") from None
    reps = spec.experiment.replications
    seeds = run_seeds(spec.experiment.seed, len(points) * reps)
    if spec.experiment.common_random_numbers:
        seeds = [seeds[k % reps] for k in range(len(points) * reps)]
    outputs = spec.outputs
    statistics = tuple(dict.fromkeys(outputs.statistics + outputs.sensitivity))
    _check_industry_statistics(spec, scenario, statistics, label)
    labels = point_labels(spec, points)
    return [RunTask(run=p * reps + r, point=p, replication=r, seed=seeds[p * reps + r],
                    scenario=str(scenario), overrides={**spec.experiment.fixed, **point},
                    params=labels[p], statistics=statistics, timeseries=tuple(outputs.timeseries))
            for p, point in enumerate(points) for r in range(reps)]


def point_labels(spec: Experiment, points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What names each point in the tables: its parameters, or a variant's name."""
    if spec.design.kind == "variants":
        return [{"variant": variant.name} for variant in spec.variants]
    return points


def parameter_columns(spec: Experiment) -> list[str]:
    """The columns that name a point in the experiment's tables."""
    return ["variant"] if spec.design.kind == "variants" else [p.key for p in spec.parameters]


def _check_industry_statistics(spec: Experiment, scenario: Path, statistics, label: str) -> None:
    """An industry's statistics need a scenario with an ``[industry]``."""
    from sim.outputs.statistics import BY_NAME

    wanted = [name for name in statistics if name in BY_NAME and BY_NAME[name].industry]
    series = [name for name in spec.outputs.timeseries if name.startswith("industry.")]
    if (wanted or series) and load_scenario(scenario, spec.experiment.fixed).industry is None:
        what = (f"outputs.statistics: {wanted[0]} is an industry's figure" if wanted
                else f"outputs.timeseries: {series[0]} is an industry's series")
        raise ExperimentError(f"{label}: {what}; the scenario {scenario} has no [industry]")
