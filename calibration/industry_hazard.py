"""Calibrate the industry's background failure hazard (平台倒闭风险) on the WDZJ data.

Run from the repository root::

    python calibration/industry_hazard.py [--check]

It reads ``../shared/data/wdzj/`` and writes two files the industry reads (``--check`` compares the
shipped files with a fresh fit instead of writing):

* ``data/wdzj_hazard.json``: the fitted monthly hazard, its standard errors, the failure types and
  the fit's quality tables (docs/industry.md);
* ``data/wdzj_platforms.csv``: the 514 platforms that reported monthly figures in 2017-01..06
  (platData.csv, their last month), with owner type, province, launch month, registered capital,
  volume, outstanding balance, investors, yield and status in August 2018: the pool an industry is
  drawn from.

The model, in two stages (docs/industry.md):

1. **Every platform** of ``platform_status_2018-08.csv`` (6,354), from its launch to its problem
   (``problemPlat.csv``, 2011-12..2017-06, exact month) or to August 2018. A platform whose status
   says it failed but which has no problem record failed between 2017-07 and 2018-08 (interval
   censored). Monthly hazard ``exp(age band + calendar period + province group)``: a piecewise-
   exponential model fitted by maximum likelihood, errors from the Hessian.
2. **The reporting platforms** of ``platData.csv`` (owner type and registered capital known) followed
   from 2017-07 to 2018-08: ``P(fail) = 1 - exp(-H * exp(owner type + capital band))`` where ``H`` is
   stage 1's cumulative hazard for the platform, so owner type and capital are measured beyond what
   age, period and province already explain.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize

ROOT = Path(__file__).resolve().parents[1]
WDZJ = ROOT.parent / "shared" / "data" / "wdzj"
HAZARD_FILE = ROOT / "data" / "wdzj_hazard.json"
PLATFORMS_FILE = ROOT / "data" / "wdzj_platforms.csv"

END = 2018 * 12 + 7  # August 2018, as a month index (year * 12 + month - 1)
WAVE_START = 2017 * 12 + 6  # July 2017: problems after June 2017 are known only as a status
AGE_BANDS = (0, 6, 12, 24, 36)  # months since launch: 0-5, 6-11, 12-23, 24-35, 36+
PERIODS = ("to 2013", "2014", "2015", "2016", "2017H1", "2017-07..2018-08")
PROVINCES = ("广东", "山东", "上海", "浙江", "北京", "江苏", "other")
OWNER_TYPES = {"民营系": "private", "国资系": "state", "银行系": "state", "上市系": "listed",
               "风投系": "vc_backed"}
CAPITAL_BANDS = (0.0, 10e6, 50e6, 100e6)  # CNY: under 10 M, 10-50 M, 50-100 M, 100 M and more
CAPITAL_NAMES = ("capital <10M", "capital 10-50M", "capital 50-100M", "capital >=100M")
FAILURE_TYPES = ("停业", "跑路", "提现困难", "经侦介入", "转型")


def month_index(text: pd.Series) -> np.ndarray:
    """``"2015-03..."`` -> ``2015 * 12 + 2``."""
    return (text.str[:4].astype(int) * 12 + text.str[5:7].astype(int) - 1).to_numpy()


def period_of(month: np.ndarray) -> np.ndarray:
    """Index into PERIODS of each calendar month."""
    year = month // 12
    out = np.clip(year - 2013, 0, 3)  # to 2013, 2014, 2015, 2016
    out = np.where(year >= 2017, 4, out)
    return np.where(month >= WAVE_START, 5, out)


def age_band(age: np.ndarray) -> np.ndarray:
    """Index into AGE_BANDS of each age in months."""
    return np.searchsorted(np.array(AGE_BANDS), age, side="right") - 1


def province_group(name: pd.Series) -> np.ndarray:
    """Index into PROVINCES (the six with most platforms, then the rest)."""
    short = name.fillna("").str.split("|").str[0].to_numpy()
    return np.array([PROVINCES.index(p) if p in PROVINCES else len(PROVINCES) - 1 for p in short])


def load_population(folder: Path = WDZJ) -> pd.DataFrame:
    """One row a platform: launch, province, outcome (censored, exact month, or in the wave)."""
    status = pd.read_csv(folder / "platform_status_2018-08.csv", dtype=str)
    status = status[status.status != "status"].drop_duplicates("wdzj_plat_id")
    problems = pd.read_csv(folder / "problemPlat.csv", dtype=str).drop_duplicates("platId")
    merged = status.merge(problems, left_on="wdzj_plat_id", right_on="platId", how="left")
    launch = np.where(merged.onlineTime.notna(), merged.onlineTime, merged.register_time)
    table = pd.DataFrame({"wdzj_id": merged.wdzj_plat_id.astype(int),
                          "launch": month_index(pd.Series(launch)),
                          "province": province_group(merged.register_location)})
    problem = merged.proTime.notna().to_numpy()
    table["event"] = np.where(problem, "exact", np.where(merged.status == "normal", "censored",
                                                         "wave"))
    table["problem_month"] = np.where(problem, month_index(merged.proTime.fillna("1900-01")), -1)
    table["launch"] = np.where(problem, np.minimum(table.launch, table.problem_month),
                               table.launch)
    return table[table.launch <= END].reset_index(drop=True)


@dataclass
class MonthRows:
    """Every platform-month at risk: its covariates and its role in the likelihood."""

    platform: np.ndarray
    month: np.ndarray
    columns: np.ndarray  # (rows, 3): age band, period, province column indices into the design
    role: np.ndarray  # 0 survived, 1 the month of an exact problem, 2 inside a wave interval


def month_rows(population: pd.DataFrame) -> MonthRows:
    """Expand each platform into its months at risk."""
    last = np.where(population.event == "exact", population.problem_month, END)
    counts = (last - population.launch + 1).to_numpy()
    platform = np.repeat(np.arange(len(population)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    month = np.repeat(population.launch.to_numpy(), counts) + np.arange(len(platform)) - start
    age = month - population.launch.to_numpy()[platform]
    role = np.zeros(len(platform), dtype=np.int8)
    exact = (population.event == "exact").to_numpy()[platform]
    role[exact & (month == last[platform])] = 1
    wave = (population.event == "wave").to_numpy()[platform]
    role[wave & (month >= WAVE_START)] = 2
    columns = np.stack([age_band(age), len(AGE_BANDS) + period_of(month),
                        len(AGE_BANDS) + len(PERIODS) + population.province.to_numpy()[platform]],
                       axis=1)
    return MonthRows(platform, month, columns, role)


def stage_one_names() -> list[str]:
    """Parameter names: every age band; periods and provinces against 2016 and "other"."""
    ages = [f"age {a}-{b - 1}" for a, b in zip(AGE_BANDS, AGE_BANDS[1:], strict=False)]
    return ([*ages, f"age {AGE_BANDS[-1]}+"] + [f"period {p}" for p in PERIODS]
            + [f"province {p}" for p in PROVINCES])


REFERENCE = ("period 2016", "province other")


def log_hazard(beta: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Log monthly hazard of each row: the sum of its three effects."""
    return beta[columns].sum(axis=1)


def stage_one_loglik(free: np.ndarray, rows: MonthRows, fixed: np.ndarray):
    """Log-likelihood and gradient of the piecewise-exponential model with wave intervals."""
    beta = _expand(free, fixed)
    lam = np.exp(log_hazard(beta, rows.columns))
    weight = -lam  # d loglik / d log lambda, survived months
    ll = -lam[rows.role == 0].sum()
    exact = rows.role == 1
    ll += np.log(-np.expm1(-lam[exact])).sum()
    weight[exact] = lam[exact] / np.expm1(lam[exact])
    wave = rows.role == 2
    groups, inverse = np.unique(rows.platform[wave], return_inverse=True)
    total = np.bincount(inverse, lam[wave], minlength=len(groups))
    ll += np.log(-np.expm1(-total)).sum()
    weight[wave] = lam[wave] / np.expm1(total)[inverse]
    grad = np.zeros(len(beta))
    for k in range(rows.columns.shape[1]):
        grad += np.bincount(rows.columns[:, k], weight, minlength=len(beta))
    return ll, grad[~fixed]


def _expand(free: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    beta = np.zeros(len(fixed))
    beta[~fixed] = free
    return beta


def fit(loglik, start: np.ndarray, *args) -> tuple[np.ndarray, np.ndarray]:
    """Maximum likelihood: the estimate and its standard errors (numerical Hessian)."""
    result = minimize(lambda b: tuple(-v for v in loglik(b, *args)), start, jac=True,
                      method="BFGS", options={"gtol": 1e-7, "maxiter": 2000})
    eps = 1e-5
    hessian = np.array([(loglik(result.x + eps * e, *args)[1]
                         - loglik(result.x - eps * e, *args)[1]) / (2 * eps)
                        for e in np.eye(len(start))])
    cov = np.linalg.inv(-(hessian + hessian.T) / 2)
    return result.x, np.sqrt(np.diag(cov))


def load_cohort(folder: Path = WDZJ) -> pd.DataFrame:
    """The reporting platforms (platData.csv, last month) with their status in August 2018."""
    data = pd.read_csv(folder / "platData.csv", dtype={"month": str, "onlineTime": str})
    last = data.sort_values("month").drop_duplicates("wdzjPlatId", keep="last")
    status = pd.read_csv(folder / "platform_status_2018-08.csv", dtype=str)
    status = status[status.status != "status"].drop_duplicates("wdzj_plat_id")
    status["wdzj_plat_id"] = status.wdzj_plat_id.astype(int)
    cohort = last.merge(status, left_on="wdzjPlatId", right_on="wdzj_plat_id", how="inner")
    province = cohort.register_location.fillna("").str.split("|").str[0]
    return pd.DataFrame({
        "wdzj_id": cohort.wdzjPlatId.to_numpy(), "name": cohort.platName.to_numpy(),
        "owner_type": cohort.newbackground.map(OWNER_TYPES).fillna("private").to_numpy(),
        "province": np.where(province.isin(PROVINCES), province, "other"),
        "launch_month": _month_text(month_index(cohort.month) - cohort.timeOperation.to_numpy()),
        "registered_capital_cny": (cohort.regCapital * 1e4).round(0).to_numpy(),
        "monthly_volume_cny": (cohort.amount * 1e4).round(0).to_numpy(),
        "outstanding_cny": (cohort.stayStillOfTotal.fillna(0) * 1e4).round(0).to_numpy(),
        "investors": cohort.bidderNum.to_numpy(), "borrowers": cohort.borrowerNum.to_numpy(),
        "annual_yield": (cohort.incomeRate / 100).round(4).to_numpy(),
        "average_term_months": cohort.loanPeriod.round(2).to_numpy(),
        "top10_borrower_share": (cohort.top10DueInProportion / 100).round(4).to_numpy(),
        "status_2018_08": np.where(cohort.status_y == "normal", "normal",
                                   np.where(cohort.status_y == "问题平台", "problem", "closed")),
    })


def _month_text(month: np.ndarray) -> list[str]:
    """``2015 * 12 + 2`` -> ``"2015-03"``."""
    return [f"{m // 12}-{m % 12 + 1:02d}" for m in month]


def cohort_exposure(cohort: pd.DataFrame, beta: np.ndarray) -> np.ndarray:
    """Stage one's cumulative hazard of each cohort platform over 2017-07..2018-08."""
    launch = month_index(cohort.launch_month)
    province = np.array([PROVINCES.index(p) for p in cohort.province])
    months = np.arange(WAVE_START, END + 1)
    age = np.maximum(months[None, :] - launch[:, None], 0)
    lam = np.exp(beta[age_band(age)] + beta[len(AGE_BANDS) + period_of(months)][None, :]
                 + beta[len(AGE_BANDS) + len(PERIODS) + province][:, None])
    return (lam * (months[None, :] >= launch[:, None])).sum(axis=1)


def stage_two_design(cohort: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Owner type (every type) and capital band (against 10-50 M) columns of each platform."""
    owners = sorted(set(OWNER_TYPES.values()))
    band = np.searchsorted(np.array(CAPITAL_BANDS), cohort.registered_capital_cny, "right") - 1
    columns = np.stack([[owners.index(o) for o in cohort.owner_type], len(owners) + band], axis=1)
    return columns, [f"owner {o}" for o in owners] + list(CAPITAL_NAMES)


def stage_two_loglik(free: np.ndarray, columns: np.ndarray, exposure: np.ndarray,
                     failed: np.ndarray, fixed: np.ndarray):
    """Log-likelihood and gradient of ``P(fail) = 1 - exp(-H * exp(owner + capital))``."""
    delta = _expand(free, fixed)
    m = exposure * np.exp(delta[columns].sum(axis=1))
    ll = np.where(failed, np.log(-np.expm1(-m)), -m).sum()
    weight = np.where(failed, m / np.expm1(m), -m)
    grad = sum(np.bincount(columns[:, k], weight, minlength=len(delta)) for k in range(2))
    return ll, grad[~fixed]


def _table(labels, observed, expected) -> list[dict]:
    """Observed against expected counts, with the Poisson z of each cell."""
    return [{"cell": str(label), "observed": int(o), "expected": round(float(e), 2),
             "z": round(float((o - e) / np.sqrt(e)), 2) if e > 0 else None}
            for label, o, e in zip(labels, observed, expected, strict=True)]


def stage_one_quality(rows: MonthRows, beta: np.ndarray, population: pd.DataFrame) -> dict:
    """Problems observed against expected, by period, and before the wave by age and province."""
    lam = np.exp(log_hazard(beta, rows.columns))
    p = -np.expm1(-lam)
    period = period_of(rows.month)
    observed = np.bincount(period[rows.role == 1], minlength=len(PERIODS))
    observed[-1] += int((population.event == "wave").sum())
    expected = np.bincount(period, p, len(PERIODS))
    wave = period == len(PERIODS) - 1  # at most one problem in the interval, month unknown
    expected[-1] = (-np.expm1(-np.bincount(rows.platform[wave], lam[wave]))).sum()
    quality = {"by period": _table(PERIODS, observed, expected)}
    before = period < len(PERIODS) - 1
    for name, k, labels in (("by age band (before the wave)", 0, stage_one_names()[:5]),
                            ("by province (before the wave)", 2, PROVINCES)):
        index = rows.columns[:, k] - (len(AGE_BANDS) + len(PERIODS) if k else 0)
        quality[name] = _table(labels, np.bincount(index[before & (rows.role == 1)],
                                                   minlength=len(labels)),
                               np.bincount(index[before], p[before], len(labels)))
    return quality


def failure_types(population: pd.DataFrame, folder: Path = WDZJ) -> dict[str, dict[str, float]]:
    """Share of each type of failure per period; the wave's split by its status class."""
    problems = pd.read_csv(folder / "problemPlat.csv", dtype=str)
    period = period_of(month_index(problems.proTime))
    shares = {}
    for k, name in enumerate(PERIODS[:-1]):
        counts = problems.type[period == k].value_counts()
        shares[name] = {t: round(float(counts.get(t, 0) / counts.sum()), 4) for t in FAILURE_TYPES}
    status = pd.read_csv(folder / "platform_status_2018-08.csv", dtype=str).set_index(
        "wdzj_plat_id").status
    wave = status.reindex(population.wdzj_id[population.event == "wave"].astype(str))
    recent = problems.type[period >= 3].value_counts()  # 2016 and 2017H1: the latest mix
    problem_share = float((wave == "问题平台").mean())
    split = {"问题平台": ("跑路", "提现困难", "经侦介入"), "停业或转型": ("停业", "转型")}
    shares[PERIODS[-1]] = {}
    for status_name, types in split.items():
        part = problem_share if status_name == "问题平台" else 1 - problem_share
        total = sum(recent.get(t, 0) for t in types)
        for t in types:
            shares[PERIODS[-1]][t] = round(part * recent.get(t, 0) / total, 4)
    return shares


def calibrate(folder: Path = WDZJ) -> tuple[dict, pd.DataFrame]:
    """Both stages, the failure types and the quality tables; and the cohort's table."""
    population = load_population(folder)
    rows = month_rows(population)
    names = stage_one_names()
    fixed = np.array([n in REFERENCE for n in names])
    start = np.where(fixed, 0.0, -4.0)[~fixed] * np.r_[np.ones(len(AGE_BANDS)),
                                                     np.zeros((~fixed).sum() - len(AGE_BANDS))]
    free, se = fit(stage_one_loglik, start, rows, fixed)
    beta = _expand(free, fixed)
    cohort = load_cohort(folder)
    exposure = cohort_exposure(cohort, beta)
    failed = (cohort.status_2018_08 != "normal").to_numpy()
    columns, names_two = stage_two_design(cohort)
    fixed_two = np.array([n == "capital 10-50M" for n in names_two])
    free_two, se_two = fit(stage_two_loglik, np.zeros((~fixed_two).sum()), columns, exposure,
                           failed, fixed_two)
    delta = _expand(free_two, fixed_two)
    p = -np.expm1(-exposure * np.exp(delta[columns].sum(axis=1)))
    owners = [n.removeprefix("owner ") for n in names_two[:4]]
    quality = stage_one_quality(rows, beta, population)
    quality["cohort by owner type"] = _table(owners, np.bincount(columns[failed, 0], minlength=4),
                                             np.bincount(columns[:, 0], p, 4))
    quality["cohort by capital"] = _table(CAPITAL_NAMES, np.bincount(columns[failed, 1] - 4,
                                                                     minlength=4),
                                          np.bincount(columns[:, 1] - 4, p, 4))
    return {
        "source": "../shared/data/wdzj: platform_status_2018-08.csv, problemPlat.csv, platData.csv",
        "script": "python calibration/industry_hazard.py",
        "unit": "log of the monthly hazard (per platform-month)",
        "age_bands_months": list(AGE_BANDS), "periods": list(PERIODS),
        "provinces": list(PROVINCES), "capital_bands_cny": list(CAPITAL_BANDS),
        "stage_one": _parameters(names, beta, _expand(se, fixed), fixed),
        "stage_two": _parameters(names_two, delta, _expand(se_two, fixed_two), fixed_two),
        "failure_types": failure_types(population, folder),
        "counts": {"platforms": len(population), "platform_months": len(rows.month),
                   "exact_problems": int((population.event == "exact").sum()),
                   "wave_problems": int((population.event == "wave").sum()),
                   "cohort": len(cohort), "cohort_failed": int(failed.sum())},
        "quality": quality,
    }, cohort


def _parameters(names, estimate, se, fixed) -> dict[str, dict]:
    return {n: {"estimate": round(float(e), 6), "se": None if f else round(float(s), 6)}
            for n, e, s, f in zip(names, estimate, se, fixed, strict=True)}


def main(argv: list[str] | None = None) -> int:
    """Fit, then write the two files and print the quality tables (or, with --check, compare)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the shipped files with a fresh fit; write nothing")
    args = parser.parse_args(argv)
    fitted, cohort = calibrate()
    text = json.dumps(fitted, ensure_ascii=False, indent=1) + "\n"
    table = cohort.to_csv(index=False)
    if args.check:
        same = (HAZARD_FILE.read_text(encoding="utf-8") == text
                and PLATFORMS_FILE.read_text(encoding="utf-8") == table)
        print("the shipped files are the fit's" if same else "the shipped files differ")
        return 0 if same else 1
    HAZARD_FILE.parent.mkdir(exist_ok=True)
    HAZARD_FILE.write_text(text, encoding="utf-8")
    PLATFORMS_FILE.write_text(table, encoding="utf-8")
    for name, cells in fitted["quality"].items():
        print(name)
        for cell in cells:
            print(f"  {cell['cell']:>20} observed {cell['observed']:5d}  expected "
                  f"{cell['expected']:8.1f}  z {cell['z']}")
    for stage in ("stage_one", "stage_two"):
        for name, value in fitted[stage].items():
            print(f"{name:>24} {value['estimate']:8.3f}  se {value['se']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
