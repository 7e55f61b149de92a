"""The moments an estimation fits: what the WDZJ data hold, computed the same way from a run.

Two kinds (``data/wdzj_moments.json``, written by ``python calibration/wave_moments.py``):

* **monthly** moments of the reporting platforms' 2017 series, for a period of months: each month's
  median over platforms, averaged over the period's months. A change is the arc change
  ``2 (x - x0) / (x + x0)`` (the log change for small moves; -2 when a series falls to 0). The
  data's error combines the bootstrap error of each month's median with how much the months differ
  among themselves (the model has no Chinese New Year, no quarter ends: a month's own swing is
  noise to it). In a run
  the same medians are taken over the drawn platforms (not the entrants, not the detailed ones)
  operating in both months, from the tracker's panel (:class:`sim.industry.tracker.Tracker`).
* **wave** moments of the reporting platforms followed from 2017-07 to 2018-08: failures over
  what the calm (2017H1) hazard expects of the same platforms, and the share of the failures that
  that were disorderly (跑路, 提现困难, 经侦介入) rather than closures (停业, 转型): every one of them
  is a problem platform (问题平台, :data:`sim.industry.hazard.FAILURE_TYPES`). In a run: the drawn
  platforms operating on the first day of 2017-07, their failures to the end of 2018-08, over the
  calm hazard's expectation for each over those months.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from sim.industry.hazard import DISORDERLY_TYPES, FAILURE_TYPES
from sim.scenario.industry import month_index, month_name

MOMENTS_FILE = Path(__file__).resolve().parents[2] / "data" / "wdzj_moments.json"
WAVE = ("2017-07", "2018-08")


@dataclass(frozen=True)
class Moment:
    """One moment: how it reads in words, its unit, whether it is monthly, and what it shows."""

    label: str
    unit: str
    monthly: bool
    series: str = ""  # the panel's series a monthly moment reads


MOMENTS = {
    "balance_change": Moment("monthly change of a platform's outstanding balance (待还余额), median",
                             "arc change", True, "outstanding_cny"),
    "volume_change": Moment("monthly change of a platform's volume (成交量), median", "arc change", True,
                            "volume_cny"),
    "investor_change": Moment("monthly change of a platform's active investors (投资人数), median",
                              "arc change", True, "active_investors"),
    "turnover": Moment("a platform's volume over its outstanding balance, median", "a month",
                       True),
    "net_inflow_rate": Moment("a platform's net inflow (资金净流入) over its balance, median",
                              "a month", True),
    "balance_change_gap": Moment("balance change of the trusted half (lower calm hazard) less the "
                                 "other half's, medians", "arc change", True, "outstanding_cny"),
    "wave_problem_ratio": Moment("failures 2017-07..2018-08 over the calm hazard's expectation",
                                 "ratio", False),
    "wave_disorderly_share": Moment("share of those failures that were disorderly (跑路, 提现困难, "
                                    "经侦介入), not closures", "share", False),
}
"""Every moment an estimation file may name."""


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(MOMENTS_FILE.read_text(encoding="utf-8"))


def data_months() -> list[str]:
    """The months the data's monthly moments exist for (a change needs the month before)."""
    return sorted(_data()["monthly"]["balance_change"])


def months_of(period: list[str] | tuple[str, str]) -> list[str]:
    """Every month of ``[first, last]``, as YYYY-MM."""
    return [month_name(m) for m in range(month_index(period[0]), month_index(period[1]) + 1)]


def observed(name: str, period) -> tuple[float, float]:
    """The data's value of moment ``name`` over ``period`` (monthly ones), and its standard error."""
    data = _data()
    if not MOMENTS[name].monthly:
        cell = data["wave"][name]
        return cell["value"], cell["se"]
    cells = [data["monthly"][name][m] for m in months_of(period)]
    values = np.array([c["value"] for c in cells])
    errors = np.array([c["se"] for c in cells])
    k = len(values)
    between = values.var(ddof=1) / k if k > 1 else 0.0
    return float(values.mean()), float(np.sqrt((errors ** 2).sum() / k ** 2 + between))


# --------------------------------------------------------------------------- from a run

def simulated(model, names: list[str], periods: list) -> dict[str, float]:
    """Each moment ``names[i]`` over ``periods[i]`` from a finished industry run."""
    return {f"{name}@{period[0]}..{period[1]}" if MOMENTS[name].monthly else name:
            _monthly(model.industry, name, period) if MOMENTS[name].monthly
            else _wave(model.industry, name)
            for name, period in zip(names, periods, strict=True)}


def cohort(industry) -> np.ndarray:
    """Bool per platform: the drawn ones, as the reporting platforms are (no entrant, no detailed)."""
    index = np.arange(industry.n)
    return industry.pooled & (index < industry.first_entrant)


def _monthly(industry, name: str, period) -> float:
    panel = {key: np.array(values) for key, values in industry.tracker.panel.items()}
    values = []
    for month in months_of(period):
        k = month_index(month) - industry.first_month
        both = cohort(industry) & panel["operating"][k] & panel["operating"][k - 1]
        values.append(_one_month(industry, name, panel, k, both))
    return float(np.mean(values))


def _one_month(industry, name: str, panel: dict, k: int, both: np.ndarray) -> float:
    if name in ("turnover", "net_inflow_rate"):
        balance = panel["outstanding_cny"][k]
        top = panel["volume_cny" if name == "turnover" else "net_inflow_cny"][k]
        ok = both & (balance > 0)
        return float(np.median(top[ok] / balance[ok])) if ok.any() else np.nan
    series = panel[MOMENTS[name].series].astype(float)
    ok = both & (series[k] + series[k - 1] > 0)
    change = np.full(industry.n, np.nan)
    change[ok] = 2 * (series[k][ok] - series[k - 1][ok]) / (series[k][ok] + series[k - 1][ok])
    if name != "balance_change_gap":
        return float(np.nanmedian(change[ok])) if ok.any() else np.nan
    from sim.industry.failures import monthly_hazard

    level = monthly_hazard(industry, 0)
    better = level < np.median(level[cohort(industry)])
    return float(np.nanmedian(change[ok & better]) - np.nanmedian(change[ok & ~better]))


def _wave(industry, name: str) -> float:
    first, last = (month_index(m) - industry.first_month for m in WAVE)
    day0, day1 = first * 30, (last + 1) * 30
    day = industry.problem_day
    alive = cohort(industry) & ((day < 0) | (day >= day0))
    failed = alive & (day >= day0) & (day < day1)
    if name == "wave_disorderly_share":
        disorderly = np.isin(industry.failure_type,
                             [FAILURE_TYPES.index(t) for t in DISORDERLY_TYPES])
        return float((failed & disorderly).sum() / failed.sum()) if failed.any() else np.nan
    p = industry.platforms
    exposure = np.zeros(industry.n)
    for month in range(first, last + 1):
        age = np.maximum(industry.first_month + month - p.launch_month, 0)
        exposure += industry.hazard.monthly(age, "2017H1", p.province, p.owner,
                                            p.registered_capital_cny)
    expected = -np.expm1(-exposure[alive]).sum()
    return float(failed.sum() / expected)
