"""The systematic factor from the tape: asset correlation and persistence, with standard errors.

Run from the repository root::

    python calibration/vintage_factor.py                 # estimate on the LendingClub tape, print
    python calibration/vintage_factor.py --check 2010    # and the 2010 vintage with the factor's path
    python calibration/vintage_factor.py --scenario scenarios/baseline_seasoned.toml  # write them in

Method (docs/calibration.md, "The systematic factor"). The engine's borrowers default in calendar
month ``t`` with the Vasicek hazard ``Phi((Phi^-1(h_g) - sqrt(rho) Z_t) / sqrt(1 - rho))`` times the
loan's term-and-age factor, and ``Z_t`` is a monthly AR(1) with persistence ``phi`` (``sim.macro``).
The tape is cut into loan-months (every loan at risk from issue to the miss that starts its
default, or to its last payment), dated by calendar month. Two stages:

1. each calendar month's effect ``w_t = sqrt(rho) Z_t`` by maximum likelihood of that month's
   defaults (binomial in cells of grade, term and age band, the grades' levels and the age factors
   held at the fit's), with its standard error from the Fisher information; months with fewer than
   ``MIN_EXPECTED_DEFAULTS`` expected defaults are left out (their effect is not identified);
2. the effects as a Gaussian state-space model, ``w_t = mu + sqrt(rho) Z_t + e_t`` with ``e_t`` the
   first stage's error and ``Z`` the AR(1): the exact likelihood by the Kalman filter, maximised over
   ``(mu, rho, phi)``; standard errors from the inverse of its Hessian; the factor's path ``Z_t`` by
   the Kalman smoother. ``rho`` enters the first stage's link too, so the two stages are iterated.

``mu`` is where the sample's months sat against the through-the-cycle levels (in ``Z`` units
``mu / sqrt(rho)``): the levels are the tape's averages, not the cycle's. Deterministic: the same
tape gives the same estimates to the last digit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import brentq, minimize, minimize_scalar
from scipy.special import ndtr, ndtri

sys.path.insert(0, str(Path(__file__).resolve().parent))
from calibrate_lendingclub import DEFAULT_PATH, load_tape  # noqa: E402
from seasoning import exits, fit, grade_levels  # noqa: E402

NEEDED = ("issue_d", "last_pymnt_d", "loan_status", "grade", "term", "total_pymnt", "funded_amnt")
MIN_EXPECTED_DEFAULTS = 10.0  # a month with fewer expected defaults does not pin its effect down
MIN_MONTHS = 24               # calendar months with an effect; fewer cannot separate rho from phi
START_RHO = 0.05
BOOTSTRAP_DRAWS = 200         # refits of histories drawn from the fit, for the errors


class TapeError(ValueError):
    """A tape this estimation cannot use: the message names the file and what is missing."""


def read_loans(path: Path) -> pd.DataFrame:
    """The tape's loans as :func:`seasoning.exits` gives them, with their issue month (``issued``)."""
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (OSError, ValueError) as error:
        raise TapeError(f"{path}: cannot read it as a CSV loan tape ({error})") from None
    missing = [c for c in NEEDED if c not in header]
    if missing:
        raise TapeError(f"{path}: the tape lacks the columns {', '.join(missing)} (needed: "
                        f"{', '.join(NEEDED)})")
    tape = load_tape(path)
    if tape.issue_d.isna().any():
        raise TapeError(f"{path}: issue_d is empty or not a date in some rows")
    loans = exits(tape)
    loans["issued"] = (tape.issue_d.dt.year * 12 + tape.issue_d.dt.month - 1).to_numpy()
    return loans


def loan_months(loans: pd.DataFrame, seasoning: dict) -> pd.DataFrame:
    """Loan-months by calendar month and cell: loans at risk, defaults, and the cell's age factor.

    A loan with ``months`` on book is at risk at ages ``0 .. ceil(months) - 1`` and, if it
    defaulted, defaults at the last (the miss of instalment ``age + 1``, due in calendar month
    ``issued + age + 1``).
    """
    at_risk = np.maximum(1, np.ceil(loans.months.to_numpy())).astype(np.int64)
    row = np.repeat(np.arange(len(loans)), at_risk)
    age = np.arange(len(row)) - np.repeat(np.cumsum(at_risk) - at_risk, at_risk)
    last = age == at_risk[row] - 1
    terms = np.array(seasoning["terms_months"])
    term_row = np.abs(loans.term.to_numpy()[:, None] - terms[None, :]).argmin(axis=1)
    band = np.searchsorted(seasoning["age_bands_months"], age, side="right") - 1
    grades = sorted(loans.grade.unique())
    grade = pd.Categorical(loans.grade, categories=grades).codes
    factor = np.asarray(seasoning["default_multiplier"])[term_row[row], grade[row], band]
    frame = pd.DataFrame({"month": loans.issued.to_numpy()[row] + age + 1, "grade": grade[row],
                          "factor": factor, "at_risk": 1,
                          "defaults": (last & loans["default"].to_numpy()[row]).astype(int)})
    return frame.groupby(["month", "grade", "factor"], as_index=False).sum()


def _month_loglik(w: float, cells: pd.DataFrame, threshold: np.ndarray, scale: float) -> float:
    """Binomial log-likelihood of one month's defaults given its effect ``w``."""
    p = np.clip(cells.factor.to_numpy() * ndtr(scale * (threshold - w)), 1e-12, 1 - 1e-12)
    d, n = cells.defaults.to_numpy(), cells.at_risk.to_numpy()
    return float(np.sum(d * np.log(p) + (n - d) * np.log1p(-p)))


def monthly_effects(panel: pd.DataFrame, levels: np.ndarray, rho: float) -> pd.DataFrame:
    """Each identified month's effect ``w_t`` and its standard error (first stage)."""
    scale = 1.0 / np.sqrt(1.0 - rho)
    rows = []
    for month, cells in panel.groupby("month"):
        threshold = ndtri(levels[cells.grade.to_numpy()])
        expected = float((cells.factor * levels[cells.grade] * cells.at_risk).sum())
        if expected < MIN_EXPECTED_DEFAULTS:
            continue
        best = minimize_scalar(lambda w: -_month_loglik(w, cells, threshold, scale),
                               bounds=(-3.0, 3.0), method="bounded",
                               options={"xatol": 1e-9})
        step = 1e-4
        curvature = (_month_loglik(best.x + step, cells, threshold, scale)
                     - 2 * _month_loglik(best.x, cells, threshold, scale)
                     + _month_loglik(best.x - step, cells, threshold, scale)) / step ** 2
        rows.append({"month": int(month), "w": best.x, "se": 1.0 / np.sqrt(max(-curvature, 1e-12)),
                     "expected": expected, "defaults": int(cells.defaults.sum())})
    return pd.DataFrame(rows)


def kalman(params: np.ndarray, months: np.ndarray, y: np.ndarray, noise: np.ndarray,
           smooth: bool = False):
    """Log-likelihood of ``y`` under ``w_t = mu + sqrt(rho) Z_t + e_t``, Z an AR(1) (months may skip).

    With ``smooth``, also the smoothed ``Z_t`` and its standard error at every month from the first
    to the last (the months without an effect are predicted through).
    """
    mu, rho, phi = params
    loading = np.sqrt(rho)
    span = np.arange(months[0], months[-1] + 1)
    observed = dict(zip(months.tolist(), range(len(months))))
    a_pred, p_pred, a_filt, p_filt = (np.empty(len(span)) for _ in range(4))
    a, p, loglik = 0.0, 1.0, 0.0
    for t, month in enumerate(span):
        if t > 0:
            a, p = phi * a, phi * phi * p + 1.0 - phi * phi
        a_pred[t], p_pred[t] = a, p
        if month in observed:
            i = observed[month]
            f = rho * p + noise[i] ** 2
            v = y[i] - mu - loading * a
            loglik -= 0.5 * (np.log(2 * np.pi * f) + v * v / f)
            gain = p * loading / f
            a, p = a + gain * v, p - gain * loading * p
        a_filt[t], p_filt[t] = a, p
    if not smooth:
        return loglik
    z, var = a_filt.copy(), p_filt.copy()
    for t in range(len(span) - 2, -1, -1):  # Rauch-Tung-Striebel
        j = p_filt[t] * phi / p_pred[t + 1]
        z[t] = a_filt[t] + j * (z[t + 1] - a_pred[t + 1])
        var[t] = p_filt[t] + j * j * (var[t + 1] - p_pred[t + 1])
    return loglik, pd.DataFrame({"month": span, "z": z, "z_se": np.sqrt(np.maximum(var, 0.0))})


def _hessian(f, x: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x``."""
    n = len(x)
    h = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * steps[i], np.eye(n)[j] * steps[j]
            h[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * steps[i] * steps[j])
    return h


def _fit(months: np.ndarray, y: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """``(mu, rho, phi)`` maximising the Kalman likelihood (``rho`` and ``phi`` kept in range)."""
    def natural(theta):
        return np.array([theta[0], 1 / (1 + np.exp(-theta[1])), np.tanh(theta[2])])

    def negative(theta):
        return -kalman(natural(theta), months, y, noise)

    start = np.array([float(np.mean(y)), np.log(START_RHO / (1 - START_RHO)), np.arctanh(0.8)])
    best = minimize(negative, start, method="Nelder-Mead",
                    options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 20_000})
    return natural(best.x)


def _simulate_effects(params: np.ndarray, months: np.ndarray, noise: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """Effects drawn from the fitted state-space model at the same months, with the same errors."""
    mu, rho, phi = params
    span = np.arange(months[0], months[-1] + 1)
    z = np.empty(len(span))
    z[0] = rng.standard_normal()
    for t in range(1, len(span)):
        z[t] = phi * z[t - 1] + np.sqrt(1 - phi * phi) * rng.standard_normal()
    return mu + np.sqrt(rho) * z[months - months[0]] + noise * rng.standard_normal(len(months))


def factor_model(effects: pd.DataFrame, draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> dict:
    """Second stage: ``mu``, ``rho``, ``phi`` by maximum likelihood, their errors, the smoothed path.

    The errors are a parametric bootstrap's (``draws`` histories of the same months drawn from
    the fit and fitted again, seeded): with a persistent factor and a few years of months the
    Hessian's asymptotic errors are too small and ``rho`` and ``phi`` are biased low, which the
    bootstrap shows (``*_bias``: mean of the refits less the estimate). The Hessian's errors are
    kept as ``*_se_hessian``.
    """
    months, y, noise = (effects[c].to_numpy() for c in ("month", "w", "se"))
    estimate = _fit(months, y, noise)
    steps = np.array([1e-4, 1e-4 * max(estimate[1], 1e-3), 1e-4])
    covariance = np.linalg.pinv(_hessian(lambda x: -kalman(x, months, y, noise), estimate, steps))
    hessian_se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    rng = np.random.default_rng(seed)
    refits = np.array([_fit(months, _simulate_effects(estimate, months, noise, rng), noise)
                       for _ in range(draws)]).reshape(draws, 3)
    loglik, path = kalman(estimate, months, y, noise, smooth=True)
    result = {"loglik": loglik, "path": path, "months": len(months), "draws": draws,
              "refits": refits}
    for k, name in enumerate(("mu", "rho", "phi")):
        result[name] = estimate[k]
        result[f"{name}_se"] = float(refits[:, k].std(ddof=1)) if draws > 1 else np.nan
        result[f"{name}_bias"] = float(refits[:, k].mean() - estimate[k]) if draws else np.nan
        result[f"{name}_se_hessian"] = hessian_se[k]
    return result


def estimate(loans: pd.DataFrame, seasoning: dict | None = None, rounds: int = 3,
             draws: int = BOOTSTRAP_DRAWS) -> dict:
    """The factor model of ``loans`` (an :func:`read_loans` frame), stages iterated ``rounds`` times."""
    seasoning = seasoning or fit(loans)
    levels_by_grade = grade_levels(loans)["default"]
    levels = np.array([levels_by_grade[g] for g in sorted(levels_by_grade)])
    panel = loan_months(loans, seasoning)
    rho = START_RHO
    for round_ in range(rounds):
        effects = monthly_effects(panel, levels, rho)
        if len(effects) < MIN_MONTHS:
            raise TapeError(f"too few vintages: only {len(effects)} calendar months have "
                            f"{MIN_EXPECTED_DEFAULTS:.0f} or more expected defaults; the factor "
                            f"needs at least {MIN_MONTHS}")
        last = round_ == rounds - 1
        result = factor_model(effects, draws=draws if last else 0)
        rho = result["rho"]
    result.update(effects=effects, levels=levels, seasoning=seasoning)
    return result


def month_label(month: int) -> str:
    """``2009-03`` for a month index (year * 12 + month - 1)."""
    return f"{month // 12}-{month % 12 + 1:02d}"


def summary(result: dict) -> str:
    """The estimates with their errors, in words."""
    effects = result["effects"]
    return "\n".join([
        f"# the systematic factor, {result['months']} calendar months "
        f"({month_label(effects.month.min())} to {month_label(effects.month.max())}) with "
        f"{MIN_EXPECTED_DEFAULTS:.0f}+ expected defaults, {int(effects.defaults.sum())} defaults",
        f"asset_correlation (rho) = {result['rho']:.4f} ± {result['rho_se']:.4f} "
        f"(bootstrap, {result['draws']} refits; bias of the estimator {result['rho_bias']:+.4f}; "
        f"the Hessian says ± {result['rho_se_hessian']:.4f})",
        f"persistence (phi, monthly) = {result['phi']:.3f} ± {result['phi_se']:.3f} "
        f"(bias {result['phi_bias']:+.3f})",
        f"mean effect (mu) = {result['mu']:+.4f} ± {result['mu_se']:.4f} "
        f"(0 when the months average out at the fitted levels)",
        f"log-likelihood {result['loglik']:.2f}; first-stage error of a month's effect "
        f"{effects.se.median():.3f} (median) against its spread {effects.w.std():.3f}",
    ])


def simulated_loans(rho: float, phi: float, seed: int = 1, years: int = 6,
                    applications_per_day: float = 60.0) -> tuple[pd.DataFrame, dict]:
    """The seasoned baseline's own loans, as :func:`read_loans` gives a tape's, under a known factor.

    A market of ``scenarios/baseline_seasoned.toml`` with ``macro.asset_correlation = rho`` and
    ``macro.persistence = phi`` (borrowers' own dispersion off, every grade approved) lends for
    ``years``; each loan is at risk to the miss that starts its default, its prepayment, its term or
    the run's end (censored there, as the tape is not). Returns the loans and the scenario's
    seasoning table.
    """
    from sim import P2PMarket
    from sim.kernels import DEFAULTED, PREPAID

    model = P2PMarket(
        str(Path(__file__).resolve().parents[1] / "scenarios" / "baseline_seasoned.toml"), rng=seed,
        audit="off", run__horizon_days=360 * years, macro__asset_correlation=rho,
        macro__persistence=phi, borrowers__hazard_dispersion=0.0, borrowers__growth_per_year=0.0,
        borrowers__applications_per_day=applications_per_day,
        platforms__0__risk__approve_grades=list("ABCDEFG"), platforms__0__risk__max_dti=100.0,
        investors__count=20_000)
    model.run()
    book, config = model.book.loans, model.config
    issued = book.orig_day // 30
    # observed to the month before the last write-offs: a miss in the run's last default_after_days
    # may still default, so later months are censored for every loan
    last = (config.run.horizon_days - config.loans.default_after_days) // 30 - 1
    defaulted = book.status == DEFAULTED
    months = np.where(defaulted, (book.first_missed_day - book.orig_day) // 30,
                      np.where(book.status == PREPAID, book.n_paid, book.term))
    months = np.minimum(months, last - issued)  # at risk up to calendar month ``last``
    defaulted &= issued + months <= last
    loans = pd.DataFrame({"term": book.term, "grade": np.array(config.grades.names)[book.grade],
                          "months": months, "default": defaulted,
                          "prepay": book.status == PREPAID, "issued": issued,
                          "year": issued // 12})
    keep = (book.orig_day >= 0) & (months >= 1)
    loans = loans[keep].reset_index(drop=True)
    loans.attrs["factor"] = model.risk_tables.macro_factor  # the path drawn, for checks
    return loans, config.grades.seasoning.model_dump()


def check_with_factor(loans: pd.DataFrame, fitted_on: pd.DataFrame, checked_years: tuple[int, int],
                      result: dict, horizon: int = 36) -> pd.DataFrame:
    """The out-of-sample check of ``seasoning.py --check``, with and without the factor's path.

    Levels and age factors are fitted on ``fitted_on``; each later loan's hazard in calendar month
    ``t`` is its level moved by the smoothed factor ``Z_t`` (Vasicek link, ``rho`` and ``mu`` of
    ``result``), times its age factor; with the factor, the levels too are read through the path
    (:func:`through_the_cycle`), since the earlier loans' own averages carry the downturn they
    lived in. Per grade (36-month loans): observed share defaulted within
    ``horizon`` months, fitted without and with the factor, and z of each.
    """
    seasoning = fit(fitted_on)
    by_grade = grade_levels(fitted_on)
    path = result["path"].set_index("month").z
    rho, mu = result["rho"], result["mu"]
    cycle_free = through_the_cycle(fitted_on, seasoning, path, rho, mu)
    checked = loans[loans.year.between(*checked_years) & (loans.term == 36)]
    rows = []
    for grade, group in checked.groupby("grade"):
        g = sorted(by_grade["default"]).index(grade)
        base = by_grade["default"][grade]
        flat, moved = 0.0, 0.0
        for issued, cohort in group.groupby("issued"):
            alive_flat, alive_moved = 1.0, 1.0
            for age in range(horizon):
                band = np.searchsorted(seasoning["age_bands_months"], age, side="right") - 1
                factor = seasoning["default_multiplier"][0][g][band]
                prepay = by_grade["prepay"][grade] * seasoning["prepay_multiplier"][0][g][band]
                z = path.get(issued + age + 1, 0.0)
                h_moved = factor * ndtr((ndtri(cycle_free[g]) - mu - np.sqrt(rho) * z)
                                        / np.sqrt(1 - rho))
                flat += len(cohort) * alive_flat * factor * base
                moved += len(cohort) * alive_moved * h_moved
                alive_flat *= 1 - factor * base - prepay
                alive_moved *= 1 - h_moved - prepay
        n = len(group)
        observed = float(((group.months <= horizon) & group["default"]).mean())
        row = {"grade": grade, "loans": n, "observed": observed}
        for name, share in (("fitted", flat / n), ("with_factor", moved / n)):
            row[name] = share
            row[f"z_{name}"] = (share - observed) / np.sqrt(share * (1 - share) / n)
        rows.append(row)
    return pd.DataFrame(rows)


def through_the_cycle(loans: pd.DataFrame, seasoning: dict, path: pd.Series, rho: float,
                      mu: float) -> np.ndarray:
    """Each grade's level read through the factor's path (a tape's own levels carry its cycle).

    The level whose Vasicek hazards, in the months ``loans`` lived through, give their defaults.
    """
    panel = loan_months(loans, seasoning)
    z = path.reindex(panel.month).fillna(0.0).to_numpy()
    levels = []
    for g in range(panel.grade.max() + 1):
        mine = panel.grade.to_numpy() == g
        cells, shift = panel[mine], (mu + np.sqrt(rho) * z[mine])

        def excess(level, cells=cells, shift=shift):
            h = cells.factor * ndtr((ndtri(level) - shift) / np.sqrt(1 - rho))
            return float((h * cells.at_risk).sum() - cells.defaults.sum())

        levels.append(brentq(excess, 1e-7, 0.5, xtol=1e-10))
    return np.array(levels)


def write_into(scenario: Path, result: dict) -> None:
    """Set ``[macro]``'s ``asset_correlation`` and ``persistence`` of ``scenario`` to the estimates."""
    lines = scenario.read_text(encoding="utf-8").splitlines()
    section, found = None, set()
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line.split("]")[0].strip("[")
        key = line.split("=")[0].strip()
        if section == "macro" and key in ("asset_correlation", "persistence"):
            value = round(result["rho"], 4) if key == "asset_correlation" else round(result["phi"], 3)
            error = result["rho_se"] if key == "asset_correlation" else result["phi_se"]
            lines[i] = (f"{key} = {value}".ljust(29) + f"# calibration/vintage_factor.py: "
                        f"± {error:.{4 if key == 'asset_correlation' else 3}f} (docs/calibration.md)")
            found.add(key)
    if found != {"asset_correlation", "persistence"}:
        raise TapeError(f"{scenario}: no [macro] asset_correlation and persistence lines to set")
    scenario.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Estimate, print, and write into a scenario if asked; 2 on a tape this cannot use."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tape", nargs="?", default=str(DEFAULT_PATH))
    parser.add_argument("--check", default=None,
                        help="issue years to check out of sample (e.g. 2010): levels fitted on the "
                             "years before, with and without the factor's path")
    parser.add_argument("--scenario", default=None,
                        help="set this scenario's [macro] asset_correlation and persistence")
    parser.add_argument("--draws", type=int, default=BOOTSTRAP_DRAWS, help="bootstrap refits")
    args = parser.parse_args(argv)
    try:
        if args.scenario and not Path(args.scenario).is_file():
            raise TapeError(f"{args.scenario}: no such scenario file to write the estimates into")
        if args.draws < 2:
            raise TapeError(f"--draws {args.draws}: at least 2 refits give an error")
        loans = read_loans(Path(args.tape))
        result = estimate(loans, draws=args.draws)
    except TapeError as error:
        where = "" if str(error).startswith(f"{args.scenario}:") or str(error).startswith(
            f"{args.tape}:") else f"{args.tape}: "
        print(f"vintage_factor: {where}{error}", file=sys.stderr)
        return 2
    print(summary(result))
    path = result["path"].assign(month=result["path"].month.map(month_label))
    print("\n# the factor's smoothed path (Z, a downturn below 0), every third month")
    print(path.iloc[::3].to_string(index=False, float_format="%.2f"))
    if args.check:
        lo, hi = (int(y) for y in (args.check.split("-") if "-" in args.check
                                   else (args.check, args.check)))
        table = check_with_factor(loans, loans[loans.year < lo], (lo, hi), result)
        print(f"\n# loans issued {args.check}, 36 months: defaulted within 36 months; levels of "
              f"the years before as fitted, and read through the factor's path with it")
        print(table.to_string(index=False, float_format="%.4f"))
    if args.scenario:
        write_into(Path(args.scenario), result)
        print(f"\nwrote asset_correlation and persistence into {args.scenario}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
