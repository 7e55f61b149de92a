"""What the WDZJ data say about the 2018 wave and the industry around it: the estimation's targets.

Run from the repository root::

    python calibration/wave_moments.py [--check]

It reads ``../shared/data/wdzj/`` and the background hazard this repository ships
(``data/wdzj_hazard.json``) and writes ``data/wdzj_moments.json`` (``--check`` compares instead):

* ``entrants``: platforms launched a month, 2016-01..2018-08 (the status file's registration date,
  or the problem file's launch where it has one), over the platforms operating at the start of
  2017; and the size of a young platform (operating under 12 months in 2017H1) against the median
  reporting platform, by series (docs/industry.md).
* ``monthly``: for each month of 2017-02..2017-06 and each series of the reporting platforms
  (``platData.csv``), the median over platforms of the month-on-month change (the arc change
  ``2 (x - x0) / (x + x0)``, which is the log change for small moves and stays defined when a
  series falls to 0; ``balance_change``: of the outstanding balance 待还余额; ``volume_change``: of
  the month's volume 成交量;
  ``investor_change``: of the active investors 投资人数; ``turnover``: volume over the outstanding
  balance; ``net_inflow_rate``: 30-day net inflow 资金净流入 over the balance;
  ``balance_change_gap``: the balance change of the platforms investors had reason to trust (the
  half with the lower calm hazard in January 2017: owner type, age, province, capital) less that of
  the other half), with its standard error from a bootstrap over platforms (500 resamples, seed
  2017).
* ``wave``: the reporting platforms followed from 2017-07 to 2018-08 (the hazard's stage two):
  how many failed (``wave_problem_ratio``: over the failures the calm 2017H1 hazard expects of
  them, Poisson error; every failure is a problem platform, 问题平台) and what share of the
  failures were disorderly (the status file's "problem": 跑路, 提现困难, 经侦介入) rather than
  closures (停业或转型) (``wave_disorderly_share``, binomial
  error).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from industry_hazard import WDZJ, load_cohort, load_population, month_index  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MOMENTS_FILE = ROOT / "data" / "wdzj_moments.json"
START_2017 = 2017 * 12
WAVE_MONTHS = range(2017 * 12 + 6, 2018 * 12 + 8)  # 2017-07 .. 2018-08
SERIES = {"balance_change": "stayStillOfTotal", "volume_change": "amount",
          "investor_change": "bidderNum"}
BOOTSTRAP, BOOTSTRAP_SEED = 500, 2017


def _name(month: int) -> str:
    return f"{month // 12}-{month % 12 + 1:02d}"


def entrants(folder: Path = WDZJ) -> dict:
    """Launches a month over the platforms operating in January 2017; young platforms' size."""
    population = load_population(folder)
    alive = (population.launch < START_2017) & ~((population.event == "exact")
                                                  & (population.problem_month < START_2017))
    stock = int(alive.sum())
    months = range(2016 * 12, 2018 * 12 + 8)
    launch = population.launch.to_numpy()
    counts = [int((launch == m).sum()) for m in months]
    data = pd.read_csv(folder / "platData.csv")
    young = data.timeOperation < 12
    size = {series: round(float(data[column][young].median() / data[column].median()), 4)
            for series, column in (("volume", "amount"), ("balance", "stayStillOfTotal"),
                                   ("investors", "bidderNum"))}
    return {"operating_2017_01": stock,
            "launches": {_name(m): c for m, c in zip(months, counts, strict=True)},
            "young_size": size, "young_platform_months": int(young.sum())}


def platform_months(folder: Path = WDZJ) -> pd.DataFrame:
    """The reporting platforms' months with each series' change from the month before."""
    data = pd.read_csv(folder / "platData.csv").sort_values(["wdzjPlatId", "month"])
    data["index"] = month_index(data.month)
    previous = data.groupby("wdzjPlatId").shift(1)
    consecutive = previous["index"] == data["index"] - 1
    out = pd.DataFrame({"platform": data.wdzjPlatId, "month": data.month})
    for name, column in SERIES.items():
        now, before = data[column], previous[column]
        ok = consecutive & (now >= 0) & (before >= 0) & (now + before > 0)
        out[name] = np.where(ok, arc_change(now.where(ok, 1), before.where(ok, 1)), np.nan)
    balance = data.stayStillOfTotal
    out["turnover"] = np.where(balance > 0, data.amount / balance.where(balance > 0, 1), np.nan)
    out["net_inflow_rate"] = np.where(balance > 0, data.netInflowOfThirty
                                      / balance.where(balance > 0, 1), np.nan)
    return out


def arc_change(now, before):
    """``2 (now - before) / (now + before)``: the log change for small moves, -2 for all gone."""
    return 2 * (now - before) / (now + before)


def median_with_error(values: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """The median of ``values`` and its bootstrap standard error."""
    values = values[np.isfinite(values)]
    draws = rng.integers(0, len(values), (BOOTSTRAP, len(values)))
    return float(np.median(values)), float(np.median(values[draws], axis=1).std(ddof=1))


def trusted(folder: Path = WDZJ) -> dict[int, bool]:
    """Per reporting platform (WDZJ id): in the half with the lower calm hazard in January 2017."""
    from sim.industry.hazard import OWNER_TYPES, load_hazard

    hazard = load_hazard()
    cohort = load_cohort(folder)
    province = np.array([hazard.provinces.index(p) if p in hazard.provinces
                         else len(hazard.provinces) - 1 for p in cohort.province])
    age = np.maximum(START_2017 - month_index(cohort.launch_month), 0)
    level = hazard.monthly(age, "2017H1", province,
                           np.array([OWNER_TYPES.index(o) for o in cohort.owner_type]),
                           cohort.registered_capital_cny.to_numpy())
    return dict(zip(cohort.wdzj_id, level < np.median(level), strict=True))


def gap_with_error(values: np.ndarray, better: np.ndarray,
                   rng: np.random.Generator) -> tuple[float, float]:
    """Median of ``values`` where ``better`` less the median elsewhere, and its bootstrap error."""
    ok = np.isfinite(values)
    values, better = values[ok], better[ok]
    draws = rng.integers(0, len(values), (BOOTSTRAP, len(values)))

    def gap(v, b):
        return np.median(v[b]) - np.median(v[~b])
    return float(gap(values, better)), float(np.std([gap(values[d], better[d]) for d in draws],
                                                   ddof=1))


def monthly(folder: Path = WDZJ) -> dict:
    """Each series' median change in each month of 2017-02..06, with its bootstrap error."""
    table = platform_months(folder)
    better = table.platform.map(trusted(folder)).eq(True).to_numpy()
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    out: dict[str, dict] = {}
    for name in (*SERIES, "turnover", "net_inflow_rate", "balance_change_gap"):
        out[name] = {}
        for month in sorted(table.month.unique())[1:]:
            rows = (table.month == month).to_numpy()
            if name == "balance_change_gap":
                value, se = gap_with_error(table.balance_change.to_numpy()[rows], better[rows], rng)
                count = int(table.balance_change[rows].notna().sum())
            else:
                value, se = median_with_error(table[name].to_numpy()[rows], rng)
                count = int(table[name][rows].notna().sum())
            out[name][month] = {"value": round(value, 6), "se": round(se, 6), "platforms": count}
    return out


def wave(folder: Path = WDZJ) -> dict:
    """The reporting platforms in the wave: failures over the calm hazard's, and their types."""
    from sim.industry.hazard import OWNER_TYPES, load_hazard

    hazard = load_hazard()
    cohort = load_cohort(folder)
    launch = month_index(cohort.launch_month)
    province = np.array([hazard.provinces.index(p) if p in hazard.provinces
                         else len(hazard.provinces) - 1 for p in cohort.province])
    owner = np.array([OWNER_TYPES.index(o) for o in cohort.owner_type])
    exposure = np.zeros(len(cohort))
    for month in WAVE_MONTHS:
        age = np.maximum(month - launch, 0)
        exposure += hazard.monthly(age, "2017H1", province, owner,
                                   cohort.registered_capital_cny.to_numpy()) * (month >= launch)
    expected = float(-np.expm1(-exposure).sum())
    failed = cohort.status_2018_08 != "normal"
    observed = int(failed.sum())
    disorderly = int((cohort.status_2018_08 == "problem").sum())  # the file's word for them
    share = disorderly / observed
    return {"wave_problem_ratio": {"value": round(observed / expected, 6),
                                   "se": round(np.sqrt(observed) / expected, 6),
                                   "observed": observed, "expected_calm": round(expected, 3)},
            "wave_disorderly_share": {"value": round(share, 6),
                                   "se": round(float(np.sqrt(share * (1 - share) / observed)), 6),
                                   "disorderly": disorderly, "failures": observed}}


def moments(folder: Path = WDZJ) -> dict:
    """Everything ``data/wdzj_moments.json`` holds."""
    return {"source": "../shared/data/wdzj: platData.csv, platform_status_2018-08.csv, "
                      "problemPlat.csv; data/wdzj_hazard.json",
            "script": "python calibration/wave_moments.py",
            "entrants": entrants(folder), "monthly": monthly(folder), "wave": wave(folder)}


def main(argv: list[str] | None = None) -> int:
    """Compute and write the moments (or, with --check, compare with the shipped file)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the shipped file with a fresh computation; write nothing")
    args = parser.parse_args(argv)
    text = json.dumps(moments(), ensure_ascii=False, indent=1) + "\n"
    if args.check:
        same = MOMENTS_FILE.read_text(encoding="utf-8") == text
        print("the shipped file is the data's" if same else "the shipped file differs")
        return 0 if same else 1
    MOMENTS_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {MOMENTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
