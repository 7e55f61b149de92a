"""Industry experiments: the same industry under variants (a channel off, a policy on), replicated.

An experiment file (``experiments/thunderstorm_channels.toml``)::

    [experiment]
    name = "thunderstorm_channels"
    scenario = "../scenarios/thunderstorm_2018.toml"
    replications = 3
    set = { "industry.platforms" = 300 }        # applied to every variant

    [[variants]]
    name = "all channels"

    [[variants]]
    name = "no shared investors"
    set = { "channels.shared_investors.enabled" = false }

Every variant runs with the same seeds (common random numbers: replication ``r`` uses the scenario's
seed + r), so a difference between variants is the variant's, not the draw's. Each variant's
scenario is validated before anything runs. Results: runs.csv (one row per run), summary.csv (mean
and standard error per variant, and the difference from the first variant), comparison.png.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, ValidationError  # noqa: E402

from sim.folders import atomic_folder, check_output_folder  # noqa: E402
from sim.industry.results import summarise  # noqa: E402
from sim.industry.scenario import load_industry_scenario  # noqa: E402
from sim.scenario.loading import read_toml_file  # noqa: E402
from sim.scenario.messages import describe_errors  # noqa: E402
from sim.scenario.schema import ScenarioError  # noqa: E402

KIND = "industry_experiment"
MEASURES = ("failed", "failed_run", "peak_new_problem", "investors_losses_100m_cny",
            "stuck_at_end_100m_cny", "damage_100m_cny")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class ExperimentTable(_Strict):
    """Which scenario, how many replications, what every variant shares."""

    name: str = Field(pattern=r"^[\w\-]+$", max_length=100)
    scenario: str
    replications: int = Field(3, ge=1, le=1000)
    set: dict[str, Any] = Field(default_factory=dict)


class Variant(_Strict):
    """One variant: a name and the keys it sets."""

    name: str = Field(min_length=1, max_length=100)
    set: dict[str, Any] = Field(default_factory=dict)


class IndustryExperiment(_Strict):
    """An experiment file."""

    experiment: ExperimentTable
    variants: list[Variant] = Field(min_length=1)


def is_experiment(path: Path) -> bool:
    """Whether a TOML file is an industry experiment (it has an ``[experiment]`` table)."""
    _, raw = read_toml_file(path, "scenario or experiment", ScenarioError)
    return "experiment" in raw


def load_experiment(path: Path) -> tuple[IndustryExperiment, list]:
    """The experiment and every variant's validated scenario (raises ScenarioError naming the key)."""
    text, raw = read_toml_file(path, "experiment", ScenarioError)
    try:
        spec = IndustryExperiment.model_validate(raw)
    except ValidationError as error:
        raise ScenarioError(describe_errors(error, str(path), text, {}, IndustryExperiment)) from None
    scenario_path = (path.parent / spec.experiment.scenario)
    names = [v.name for v in spec.variants]
    if len(set(names)) < len(names):
        raise ScenarioError(f"{path}: variants: two variants are named alike; give each its own name")
    scenarios = []
    for i, variant in enumerate(spec.variants):
        try:
            scenarios.append(load_industry_scenario(scenario_path,
                                                    spec.experiment.set | variant.set))
        except ScenarioError as error:
            raise ScenarioError(f"{path}: variants[{i}] ({variant.name}): {error}") from None
    return spec, scenarios


def _one_run(job: tuple) -> dict:
    from sim.industry.market import IndustryMarket

    variant, replication, scenario = job
    model = IndustryMarket(scenario, rng=scenario.run.seed + replication)
    model.run()
    s = summarise(model)
    return {"variant": variant, "replication": replication, "seed": model.seed,
            "failed": s["failed"], "failed_run": s["failed_by_cause"].get("run", 0),
            "peak_month": s["peak_month"], "peak_new_problem": s["peak_new_problem"],
            "investors_losses_100m_cny": s["investors_losses_cny"] / 1e8,
            "stuck_at_end_100m_cny": s["stuck_at_end_cny"] / 1e8,
            "damage_100m_cny": sum(s["damage_cny"].values()) / 1e8,
            **{f"damage_{k}_100m_cny": v / 1e8 for k, v in s["damage_cny"].items()}}


def run_experiment(path: str | Path, out: str | Path | None = None, workers: int = 1,
                   progress=None) -> dict:
    """Run every variant × replication; write runs.csv, summary.csv, comparison.png."""
    path = Path(path)
    spec, scenarios = load_experiment(path)
    out = Path(out) if out else Path("results") / spec.experiment.name
    check_output_folder(out, KIND)
    jobs = [(v.name, r, s) for v, s in zip(spec.variants, scenarios)
            for r in range(spec.experiment.replications)]
    if workers > 1:
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            rows = []
            for row in pool.map(_one_run, jobs):
                rows.append(row)
                if progress:
                    progress(len(rows), len(jobs))
    else:
        rows = []
        for job in jobs:
            rows.append(_one_run(job))
            if progress:
                progress(len(rows), len(jobs))
    runs = pd.DataFrame(rows)
    summary = summarise_variants(runs, [v.name for v in spec.variants])
    with atomic_folder(out, KIND) as staging:
        runs.to_csv(staging / "runs.csv", index=False)
        summary.to_csv(staging / "summary.csv", index=False)
        comparison_figure(summary, staging / "comparison.png", spec.experiment.name)
    return {"folder": out, "runs": runs, "summary": summary}


def summarise_variants(runs: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """Mean and standard error of each measure per variant, and the difference from the first.

    The difference is paired (the same seeds), so its error is the pairs' spread, not the runs'.
    """
    rows = []
    first = runs[runs.variant == order[0]].set_index("replication")
    for name in order:
        mine = runs[runs.variant == name].set_index("replication")
        row: dict[str, Any] = {"variant": name, "runs": len(mine)}
        for m in MEASURES:
            n = len(mine)
            row[m] = mine[m].mean()
            row[f"{m}_se"] = mine[m].std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            diff = (mine[m] - first[m]).dropna()
            row[f"{m}_vs_first"] = diff.mean()
            row[f"{m}_vs_first_se"] = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 \
                else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_figure(summary: pd.DataFrame, path: Path, title: str) -> None:
    """Per variant: platforms failed, the paired difference from the first, investors' losses.

    Each with a 95 % interval (1.96 standard errors of the replications, or of the pairs).
    """
    panels = (("failed", "", "platforms failed"),
              ("failed", "_vs_first", f"failed minus '{summary.variant.iloc[0]}' (same seeds)"),
              ("investors_losses_100m_cny", "", "investors' losses, 亿 CNY"))
    fig, axes = plt.subplots(1, 3, figsize=(15, 0.5 * len(summary) + 2.5), constrained_layout=True)
    y = np.arange(len(summary))
    for ax, (m, kind, label) in zip(axes, panels):
        ax.barh(y, summary[m + kind], xerr=1.96 * summary[f"{m}{kind}_se"].fillna(0),
                color="tab:blue" if kind else "tab:red", alpha=0.7)
        ax.set_yticks(y, summary.variant if ax is axes[0] else [""] * len(y))
        ax.invert_yaxis()
        ax.set_xlabel(label)
        if kind:
            ax.axvline(0, color="black", linewidth=0.8)
    fig.suptitle(f"{title}: mean of the replications, 95 % intervals")
    fig.savefig(path, dpi=110)
    plt.close(fig)
