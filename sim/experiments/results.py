"""An experiment's results: tidy tables, summaries with Monte-Carlo errors, figures, sensitivity.

Files (in the experiment's folder)
----------------------------------
results.parquet     one row per run and statistic: run, point, replication, seed, status, the
                    parameters (one column each), output, value
timeseries.parquet  one row per run, month and time series: run, point, replication, month, output, value
summary.parquet     per point and statistic: n, mean, sd, se (Monte-Carlo standard error of the mean
summary.csv         = sd / sqrt(n)), q05, q50, q95, and the parameters
failures.csv        the runs that raised: run, parameters, seed, traceback
sensitivity.csv     sobol: S1, S1_conf, ST, ST_conf per output and parameter (SALib);
                    morris: mu_star, mu_star_conf, sigma
figures/            <output>_by_<parameter>.png (mean with 95 % error bars), fan_<series>.png,
                    mc_error_<output>.png (replication studies), sensitivity_<output>.png
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.experiments.design import parameter_columns, sensitivity_problem  # noqa: E402
from sim.experiments.spec import Experiment  # noqa: E402
from sim.outputs import save_figure  # noqa: E402
from sim.outputs.charts import plain_numbers  # noqa: E402
from sim.outputs.labels import SCALE, column, key_label  # noqa: E402

FAN_BANDS = 4  # points whose bands a fan chart draws; every point has its median line


def tidy(records: list[dict], spec: Experiment) -> pd.DataFrame:
    """One row per run and statistic."""
    keys = parameter_columns(spec)
    rows = []
    for r in records:
        base = {"run": r["run"], "point": r["point"], "replication": r["replication"],
                "seed": str(r["seed"]), "status": r["status"],
                **{k: r["params"].get(k) for k in keys}}
        for name, value in r["statistics"].items():
            rows.append({**base, "output": name, "value": np.nan if value is None else value})
    return pd.DataFrame(rows)


def timeseries_table(records: list[dict]) -> pd.DataFrame:
    """One row per run, month and time series."""
    rows = [(r["run"], r["point"], r["replication"], month, name, value)
            for r in records for name, values in r["timeseries"].items()
            for month, value in enumerate(values)]
    return pd.DataFrame(rows, columns=["run", "point", "replication", "month", "output", "value"])


def summarise_points(table: pd.DataFrame, spec: Experiment) -> pd.DataFrame:
    """Per point and statistic: mean, sd, Monte-Carlo standard error, quantiles (finished runs)."""
    ok = table[table.status == "ok"]
    keys = parameter_columns(spec)
    grouped = ok.groupby(["point", "output"])["value"]
    summary = grouped.agg(n="count", mean="mean", sd="std",
                          q05=lambda v: v.quantile(0.05), q50="median",
                          q95=lambda v: v.quantile(0.95)).reset_index()
    summary["sd"] = summary["sd"].fillna(0.0)
    summary["se"] = summary["sd"] / np.sqrt(summary["n"])
    params = table.drop_duplicates("point").set_index("point")[keys] if keys else None
    if params is not None:
        summary = summary.join(params, on="point")
    return summary[["point", *keys, "output", "n", "mean", "sd", "se", "q05", "q50", "q95"]]


def differences(table: pd.DataFrame, spec: Experiment) -> pd.DataFrame:
    """Each point's paired difference from the first, per statistic (common random numbers).

    Replication ``r`` of every point ran on the same draws, so the difference is taken run by run
    and its standard error is the pairs' spread / sqrt(pairs), not the runs' (the noise the points
    share cancels). The 95 % interval is Student's t with ``pairs - 1`` degrees of freedom (3 pairs:
    4.30 standard errors each side, not 1.96; no interval from fewer than 2). Empty unless the
    experiment uses common random numbers.
    """
    if not spec.experiment.common_random_numbers:
        return pd.DataFrame()
    ok = table[table.status == "ok"]
    keys = parameter_columns(spec)
    first = ok[ok.point == 0].set_index(["replication", "output"])["value"]
    rows = []
    for (point, output), group in ok.groupby(["point", "output"]):
        mine = group.set_index(["replication", "output"])["value"]
        paired = (mine - first.reindex(mine.index)).dropna()
        n = len(paired)
        row = {"point": point, **group.iloc[0][keys].to_dict(), "output": output, "pairs": n,
               "difference": paired.mean() if n else np.nan,
               "se": paired.std(ddof=1) / math.sqrt(n) if n > 1 else np.nan}
        half = t_quantile(n) * row["se"]
        row["ci95_low"], row["ci95_high"] = row["difference"] - half, row["difference"] + half
        rows.append(row)
    return pd.DataFrame(rows)


def t_quantile(pairs: int) -> float:
    """Student's t 97.5 % point with ``pairs - 1`` degrees of freedom (NaN below 2 pairs)."""
    from scipy.stats import t

    return float(t.ppf(0.975, pairs - 1)) if pairs > 1 else math.nan


def sensitivity(table: pd.DataFrame, spec: Experiment) -> pd.DataFrame:
    """Sobol indices (first order and total) or Morris screening of the chosen outputs (SALib).

    Each point's output is its mean over the replications. A design with failed runs cannot be
    analysed (the estimators need every point); the table then says so.
    """
    if not spec.outputs.sensitivity:
        return pd.DataFrame()
    problem = sensitivity_problem(spec)
    rows = []
    for output in spec.outputs.sensitivity:
        values = table[table.output == output]
        if (values.status != "ok").any():
            rows.append({"output": output, "parameter": None,
                         "note": f"{int((values.status != 'ok').sum())} runs failed; not analysed"})
            continue
        by_point = values.groupby("point")["value"].mean().sort_index()
        y = by_point.to_numpy()
        if spec.design.kind == "sobol":
            from SALib.analyze import sobol
            result = sobol.analyze(problem, y, calc_second_order=False, seed=spec.experiment.seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"output": output, "parameter": name, "S1": result["S1"][i],
                             "S1_conf": result["S1_conf"][i], "ST": result["ST"][i],
                             "ST_conf": result["ST_conf"][i]})
        else:
            from SALib.analyze import morris
            x = np.array([[p[k] for k in problem["names"]] for p in
                          values.drop_duplicates("point").sort_values("point")
                          [problem["names"]].to_dict("records")], dtype=float)
            result = morris.analyze(problem, x, y, num_levels=spec.design.levels,
                                    seed=spec.experiment.seed)
            for i, name in enumerate(problem["names"]):
                rows.append({"output": output, "parameter": name, "mu_star": result["mu_star"][i],
                             "mu_star_conf": result["mu_star_conf"][i],
                             "sigma": result["sigma"][i]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures

def plot_all(out: Path, spec: Experiment, table: pd.DataFrame, summary: pd.DataFrame,
             series: pd.DataFrame, sens: pd.DataFrame,
             diffs: pd.DataFrame | None = None) -> list[Path]:
    """Write the figures that fit the experiment; return their paths."""
    folder = out / "figures"
    folder.mkdir(exist_ok=True)
    written = []
    diffs = pd.DataFrame() if diffs is None else diffs
    kind = spec.design.kind
    if kind == "variants":
        for output in summary.output.unique():
            written.append(_variants(folder, spec, summary[summary.output == output],
                                     diffs[diffs.output == output] if len(diffs) else diffs,
                                     output))
    if spec.parameters and kind in ("grid", "list"):
        for output in summary.output.unique():
            written.append(_by_parameter(folder, spec, summary[summary.output == output], output))
    elif spec.parameters and kind in ("random", "latin"):
        for output in summary.output.unique():
            written.append(_scatter(folder, spec, summary[summary.output == output], output))
    names = point_names(summary, spec) if len(summary) else {}
    if spec.experiment.replications >= 8:
        for output in table.output.unique():
            written.append(_mc_error(folder, table[(table.output == output)
                                                  & (table.status == "ok")], output, names))
    for output in series.output.unique() if len(series) else []:
        written.append(_fan(folder, series[series.output == output], output, names))
    if len(sens) and "parameter" in sens and sens.parameter.notna().any():
        for output in sens.output.unique():
            written.append(_sensitivity_bars(folder, sens[sens.output == output], output, kind))
    return written


def _by_parameter(folder: Path, spec: Experiment, rows: pd.DataFrame, output: str) -> Path:
    """The output's mean against the first parameter, one line per value of the others.

    With 95 % confidence bars (1.96 Monte-Carlo standard errors); amounts in M CNY, shares in %.
    """
    first, others = spec.parameters[0].key, [p.key for p in spec.parameters[1:]]
    shown, scale = column(output), SCALE.get(column(output).unit, 1.0)
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    groups = rows.groupby(others) if others else [((), rows)]
    for label, group in groups:
        group = group.sort_values(first)
        name = ", ".join(f"{key_label(k)} = {v:g}" for k, v in zip(others, np.atleast_1d(label)))
        ax.errorbar(group[first], group["mean"] * scale, yerr=1.96 * group["se"] * scale,
                    marker="o", capsize=3, label=name or None)
    ax.set_xlabel(key_label(first))
    ax.set_ylabel(shown.header)
    plain_numbers(ax)
    ax.set_title(f"{shown.label}: mean of {spec.experiment.replications} runs, 95 % interval",
                 fontsize=10)
    ax.grid(alpha=0.3)
    if others:
        ax.legend(fontsize=8)
    return save_figure(fig, folder / f"{output}_by_{_safe(first)}.png")


def point_names(summary: pd.DataFrame, spec: Experiment) -> dict[int, str]:
    """Each point as its parameters' values in words (or its variant's name)."""
    keys = [k for k in parameter_columns(spec) if k in summary]
    first = summary.drop_duplicates("point").set_index("point")
    if "variant" in first:
        return {int(p): str(v) for p, v in first["variant"].items()}
    single = len(first) == 1 and not keys  # replications of the scenario as it is
    return {int(p): ", ".join(f"{key_label(k)} = {row[k]:g}" if isinstance(row[k], float)
                              else f"{key_label(k)} = {row[k]}" for k in keys)
            or ("the scenario as it is" if single else f"point {p}")
            for p, row in first.iterrows()}


def _variants(folder: Path, spec: Experiment, rows: pd.DataFrame, diffs: pd.DataFrame,
              output: str) -> Path:
    """Per variant: the output's mean, and its paired difference from the first, 95 % intervals."""
    shown, scale = column(output), SCALE.get(column(output).unit, 1.0)
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.45 * len(rows) + 2.2), constrained_layout=True)
    y = np.arange(len(rows))
    axes[0].barh(y, rows["mean"] * scale, xerr=1.96 * rows["se"] * scale, color="tab:red",
                 alpha=0.7, capsize=3)
    axes[0].set_yticks(y, rows["variant"])
    axes[0].set_xlabel(f"{shown.header}, mean of {spec.experiment.replications} runs")
    if len(diffs):
        diffs = diffs.set_index("point").reindex(rows["point"])
        half = (diffs["ci95_high"] - diffs["difference"]).fillna(0)  # Student's t, by pairs
        axes[1].barh(y, diffs["difference"] * scale, xerr=half * scale,
                     color="tab:blue", alpha=0.7, capsize=3)
    axes[1].axvline(0, color="black", linewidth=0.8)
    axes[1].set_yticks(y, [""] * len(y))
    axes[1].set_xlabel(f"minus '{rows['variant'].iloc[0]}' (same draws, paired)")
    for ax in axes:
        ax.invert_yaxis()
        ax.grid(alpha=0.3, axis="x")
        plain_numbers(ax)
    fig.suptitle(f"{spec.experiment.name}: {shown.label}, 95 % intervals")
    return save_figure(fig, folder / f"{output}_by_variant.png")


def _scatter(folder: Path, spec: Experiment, rows: pd.DataFrame, output: str) -> Path:
    """Each point's mean (95 % bars) against each parameter, for sampled designs."""
    keys = [p.key for p in spec.parameters]
    shown, scale = column(output), SCALE.get(column(output).unit, 1.0)
    fig, axes = plt.subplots(1, len(keys), figsize=(4.5 * len(keys), 4), squeeze=False,
                             constrained_layout=True)
    for ax, key in zip(axes[0], keys):
        ax.errorbar(rows[key], rows["mean"] * scale, yerr=1.96 * rows["se"] * scale, fmt="o",
                    ms=3, alpha=0.7)
        ax.set_xlabel(key_label(key))
        ax.set_ylabel(shown.header)
        plain_numbers(ax)
        ax.grid(alpha=0.3)
    return save_figure(fig, folder / f"{output}_by_parameters.png")


def _mc_error(folder: Path, rows: pd.DataFrame, output: str, names: dict[int, str]) -> Path:
    """How the Monte-Carlo standard error of the mean shrinks with the number of runs (per point)."""
    shown, scale = column(output), SCALE.get(column(output).unit, 1.0)
    fig, ax = plt.subplots(figsize=(6.5, 4.5), constrained_layout=True)
    for point, group in rows.groupby("point"):
        values = group.sort_values("replication")["value"].to_numpy() * scale
        n = np.arange(2, len(values) + 1)
        se = [np.std(values[:k], ddof=1) / math.sqrt(k) for k in n]
        ax.loglog(n, se, marker=".", label=names.get(int(point), f"point {point}"))
    if len(rows):
        first = rows.groupby("point")["value"].std().iloc[0] * scale
        n = np.arange(2, rows.groupby("point").size().max() + 1)
        ax.loglog(n, first / np.sqrt(n), ls="--", color="grey", label="sd / sqrt(n)")
    ax.set_xlabel("runs")
    ax.set_ylabel(f"standard error of the mean, {shown.header}")
    ax.set_title("Monte-Carlo error against the number of runs")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return save_figure(fig, folder / f"mc_error_{output}.png")


def _fan(folder: Path, rows: pd.DataFrame, output: str, names: dict[int, str]) -> Path:
    """Fan chart: every point's median across replications, month by month.

    The 50 % and 90 % bands of the first ``FAN_BANDS`` points (more would hide each other: the
    title says so).
    """
    shown, scale = column(output), SCALE.get(column(output).unit, 1.0)
    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    points = sorted(rows.point.unique())
    for k, point in enumerate(points):
        wide = rows[rows.point == point].pivot(index="month", columns="run", values="value")
        q = wide.quantile([0.05, 0.25, 0.5, 0.75, 0.95], axis=1).T * scale
        line, = ax.plot(q.index, q[0.5], label=names.get(int(point), f"point {point}"))
        if k < FAN_BANDS:
            ax.fill_between(q.index, q[0.25], q[0.75], alpha=0.3, color=line.get_color())
            ax.fill_between(q.index, q[0.05], q[0.95], alpha=0.12, color=line.get_color())
    ax.set_xlabel("month of the run")
    ax.set_ylabel(shown.header)
    plain_numbers(ax)
    bands = (f"; bands for the first {FAN_BANDS} of {len(points)} points"
             if len(points) > FAN_BANDS else "")
    ax.set_title(f"{shown.label}: median, 50 % and 90 % of runs{bands}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=1 + len(points) // 8)
    return save_figure(fig, folder / f"fan_{output}.png")


def _sensitivity_bars(folder: Path, rows: pd.DataFrame, output: str, kind: str) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    x = np.arange(len(rows))
    if kind == "sobol":
        ax.bar(x - 0.2, rows["S1"], 0.4, yerr=rows["S1_conf"], capsize=3, label="first order S1")
        ax.bar(x + 0.2, rows["ST"], 0.4, yerr=rows["ST_conf"], capsize=3, label="total ST")
        ax.set_ylabel("Sobol index")
    else:
        ax.bar(x, rows["mu_star"], yerr=rows["mu_star_conf"], capsize=3, label="mu*")
        ax.set_ylabel("Morris mu* (mean absolute elementary effect)")
    ax.set_xticks(x, rows["parameter"], rotation=20, ha="right", fontsize=8)
    ax.set_title(f"Sensitivity of {output}")
    ax.grid(alpha=0.3, axis="y")
    ax.legend()
    safe = re.sub(r"[^\w]+", "_", output).strip("_")  # net_income_cny[year=3]: net_income_cny_year_3
    return save_figure(fig, folder / f"sensitivity_{safe}.png")


def _safe(key: str) -> str:
    return key.replace(".", "_")


def write_results(out: Path, spec: Experiment, records: list[dict]) -> dict[str, object]:
    """Combine the runs into the experiment's tables and figures; return a short summary."""
    table = tidy(records, spec)
    table.to_parquet(out / "results.parquet", index=False)
    series = timeseries_table(records)
    series.to_parquet(out / "timeseries.parquet", index=False)
    summary = summarise_points(table, spec)
    summary.to_parquet(out / "summary.parquet", index=False)
    summary.to_csv(out / "summary.csv", index=False)
    failed = [r for r in records if r["status"] != "ok"]
    pd.DataFrame([{"run": r["run"], "seed": str(r["seed"]), "params": r["params"],
                   "traceback": r["error"]} for r in failed],
                 columns=["run", "seed", "params", "traceback"]).to_csv(out / "failures.csv",
                                                                        index=False)
    sens = sensitivity(table, spec)
    if len(sens):
        sens.to_csv(out / "sensitivity.csv", index=False)
    diffs = differences(table, spec)
    if len(diffs):
        diffs.to_csv(out / "differences.csv", index=False)
    figures = plot_all(out, spec, table, summary, series, sens, diffs)
    return {"runs": len(records), "failed": len(failed), "summary": summary,
            "sensitivity": sens, "differences": diffs, "figures": figures}
