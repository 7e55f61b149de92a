"""What many runs of a plan say: the odds of each target, the statements' spread, timing, drivers.

* Each target's probability is the share of runs that met it, ``p = k / n``, with its Monte-Carlo
  standard error ``sqrt(p (1 - p) / n)`` and a 95 % Wilson interval (which stays inside [0, 1] and
  is right near 0 and 1, where a normal interval is not).
* Every statement line by year: P10, P50 and P90 over the runs, and the mean.
* How often the plan's platform failed, and why (its exit and the reason), with a Wilson interval.
* Break-even, payback and cash-out months: the share of runs where it happened and its P10 / P50 /
  P90; the share of runs out of cash by each month.
* Drivers (Monte-Carlo filtering, regional sensitivity: Saltelli et al., *Global Sensitivity
  Analysis*, 2008, ch. 5): for each target and uncertain input, the runs that met the target and
  those that missed it are two samples of the input; the Kolmogorov-Smirnov distance between them
  (0: the input does not matter to this target; 1: it decides it) and its p-value. SALib's ``rsa``
  splits runs by quantiles of a continuous output; a target is met or missed, so the two-sample
  test is applied directly (scipy).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from sim.company.lines import label
from sim.loans import DAYS_PER_MONTH

Z95 = 1.959963984540054
QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}
TIMING = ("break_even_month", "profitable_month", "payback_month", "cash_out_month")


def target_odds(records: list[dict], targets: list[str]) -> pd.DataFrame:
    """Per target: runs, met, probability, its standard error and 95 % Wilson interval, values."""
    rows = []
    n = len(records)
    for i, text in enumerate(targets):
        met = sum(bool(r["plan"]["targets"][i]["met"]) for r in records)
        values = np.array([r["plan"]["targets"][i]["value"] for r in records
                           if r["plan"]["targets"][i]["value"] is not None], dtype=float)
        p = met / n if n else math.nan
        low, high = wilson(met, n)
        row = {"target": text, "runs": n, "met": met, "probability": p,
               "standard_error": math.sqrt(p * (1 - p) / n) if n else math.nan,
               "ci95_low": low, "ci95_high": high, "never": (n - len(values)) / n if n else math.nan}
        for name, q in QUANTILES.items():
            row[f"value_{name}"] = float(np.quantile(values, q)) if len(values) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``k / n`` (95 % by default)."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low = 0.0 if k == 0 else min(p, max(0.0, centre - half))  # exact at the ends, never past p
    high = 1.0 if k == n else max(p, min(1.0, centre + half))
    return low, high


def runs_needed(half_width: float, p: float = 0.5, z: float = Z95) -> int:
    """Runs for a 95 % interval of ``± half_width`` around a probability ``p`` (worst: 0.5)."""
    return math.ceil(z * z * p * (1 - p) / half_width ** 2)


def statement_quantiles(records: list[dict]) -> pd.DataFrame:
    """Every statement line by year: P10, P50, P90 and the mean over the runs (CNY)."""
    first = records[0]["plan"]["statements"]
    rows = []
    for key in first:
        statement, line = key.split(":", 1)
        table = np.array([r["plan"]["statements"][key] for r in records], dtype=float)
        for year in range(table.shape[1]):
            column = table[:, year]
            column = column[~np.isnan(column)]
            row = {"statement": statement, "line": line, "label": label(line),
                   "year": year + 1, "mean": float(column.mean()) if len(column) else math.nan}
            row.update({name: float(np.quantile(column, q)) if len(column) else math.nan
                        for name, q in QUANTILES.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def failures(records: list[dict]) -> pd.DataFrame:
    """How often the platform failed: a row for every failure, then one per cause (exit: reason).

    Columns: cause, runs (out of all), share, its 95 % Wilson interval, and the median month it
    failed (plan months, from 1).
    """
    n = len(records)
    failed = [r["plan"].get("failure") for r in records]
    failed = [f for f in failed if f is not None]
    causes = {"every failure": failed}
    for f in failed:
        causes.setdefault(f"{f['state']}: {f['reason']}", []).append(f)
    rows = []
    for cause, those in sorted(causes.items(), key=lambda kv: (kv[0] != "every failure",
                                                              -len(kv[1]), kv[0])):
        low, high = wilson(len(those), n)
        months = [f["day"] // DAYS_PER_MONTH + 1 for f in those]
        rows.append({"cause": cause, "runs_failed": len(those), "runs": n,
                     "share": len(those) / n if n else math.nan, "ci95_low": low,
                     "ci95_high": high,
                     "median_month": float(np.median(months)) if months else math.nan})
    return pd.DataFrame(rows)


def timing(records: list[dict]) -> pd.DataFrame:
    """Break-even, payback and cash-out: the share of runs where it came, and when (plan months)."""
    rows = []
    for name in TIMING:
        months = np.array([r["plan"]["once"][name] for r in records
                           if r["plan"]["once"][name] is not None], dtype=float)
        row = {"figure": name, "share_of_runs": len(months) / len(records)}
        row.update({name_q: float(np.quantile(months, q)) if len(months) else math.nan
                    for name_q, q in QUANTILES.items()})
        rows.append(row)
    return pd.DataFrame(rows)


CAPITAL_LEVELS = {"p50": 0.5, "p90": 0.9, "p95": 0.95}


def capital_needed(records: list[dict]) -> pd.DataFrame:
    """The owners' money needed beyond the plan: P50 / P90 / P95 over the runs (CNY).

    ``capital_needed_cny`` of each run: its capital calls, plus where it failed the costs and
    redemptions it could not pay then, which is only a lower bound on what survival needed (the
    run stopped there); ``lower_bound_runs`` counts those runs. The quantile at ``p`` is the
    capital that would have been enough in a share ``p`` of the runs; ``lower_bound`` says it is
    only a lower bound (a failed run's figure is at or below it).
    """
    once = [r["plan"]["once"] for r in records]
    needed = np.array([o["capital_needed_cny"] for o in once], dtype=float)
    bounded = np.array([r["plan"].get("failure") is not None for r in records])
    rows = []
    for name, q in CAPITAL_LEVELS.items():
        value = float(np.quantile(needed, q, method="inverted_cdf"))
        # a failed run's true need is at least its figure: the quantile is exact only if every
        # such figure lies above it (their true needs do too), else it is a lower bound
        rows.append({"level": name, "probability": q, "capital_needed_cny": value,
                     "lower_bound": bool((needed[bounded] <= value).any()),
                     "runs": len(records), "lower_bound_runs": int(bounded.sum())})
    return pd.DataFrame(rows)


def cash_out_curve(records: list[dict], months: int) -> pd.DataFrame:
    """The share of runs that have run out of own cash (a capital call or a failure) by each month."""
    when = np.array([r["plan"]["once"]["cash_out_month"] or math.inf for r in records])
    month = np.arange(1, months + 1)
    return pd.DataFrame({"plan_month": month,
                         "share_out_of_cash": [(when <= m).mean() for m in month]})


def drivers(records: list[dict], targets: list[str], inputs: list[str]) -> pd.DataFrame:
    """Per target and input: the KS distance between runs that met it and runs that missed it."""
    rows = []
    for i, text in enumerate(targets):
        met = np.array([bool(r["plan"]["targets"][i]["met"]) for r in records])
        for key in inputs:
            x = np.array([r["params"][key] for r in records], dtype=float)
            row = {"target": text, "input": key, "runs_met": int(met.sum()),
                   "runs_missed": int((~met).sum()), "ks_distance": math.nan, "p_value": math.nan,
                   "median_when_met": math.nan, "median_when_missed": math.nan}
            if met.sum() >= 2 and (~met).sum() >= 2:
                test = stats.ks_2samp(x[met], x[~met])
                row.update(ks_distance=float(test.statistic), p_value=float(test.pvalue),
                           median_when_met=float(np.median(x[met])),
                           median_when_missed=float(np.median(x[~met])))
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["target", "input", "runs_met", "runs_missed",
                                        "ks_distance", "p_value", "median_when_met",
                                        "median_when_missed"])
    if len(frame):
        rank = frame.target.map({text: i for i, text in enumerate(targets)})
        frame = (frame.assign(rank=rank)
                 .sort_values(["rank", "ks_distance"], ascending=[True, False], na_position="last")
                 .drop(columns="rank"))
    return frame.reset_index(drop=True)


def monthly_fans(records: list[dict]) -> dict[str, pd.DataFrame]:
    """Per monthly figure: P10, P50, P90 by plan month over the runs."""
    out = {}
    for name in records[0]["plan"]["monthly"]:
        table = np.array([r["plan"]["monthly"][name] for r in records], dtype=float)
        out[name] = pd.DataFrame({q: np.nanquantile(table, level, axis=0)
                                  for q, level in QUANTILES.items()},
                                 index=pd.RangeIndex(1, table.shape[1] + 1, name="plan_month"))
    return out


def run_table(records: list[dict], targets: list[str]) -> pd.DataFrame:
    """One row per run: its seed, the inputs it drew, each target's figure and whether met."""
    rows = []
    for r in records:
        row = {"run": r["run"], "seed": str(r["seed"]), **r["params"]}
        for text, result in zip(targets, r["plan"]["targets"]):
            row[f"{text} | value"] = result["value"]
            row[f"{text} | met"] = result["met"]
        row.update(r["plan"]["once"])
        rows.append(row)
    return pd.DataFrame(rows)
