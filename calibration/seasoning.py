"""Seasoning: default and prepayment hazards by term and months on book, fitted on the tape.

Run from the repository root::

    python calibration/seasoning.py                  # fit on every loan, print [grades.seasoning]
    python calibration/seasoning.py --years 2007-2009 --check 2010   # fit early, check later

Method (docs/calibration.md, "Seasoning"): every loan leaves the book once, by default (charge-off,
at its last payment plus one month), by prepayment (paid in full two or more months before term, at
its last payment) or at maturity. Default and prepayment are competing exits: each is fitted as a
cause-specific hazard, the other exit and maturity censoring it, piecewise constant over bands of
months on book, per term and with the grades pooled, by lifelines' ``PiecewiseExponentialFitter``
(maximum likelihood with censoring). A band's factor is its hazard over the pooled constant hazard
of the term's loans (lifelines' ``ExponentialFitter``), times the grade's hazard on the term over
its hazard on every term: each grade keeps its own level (``grades.default_hazard_monthly``,
:mod:`calibrate_lendingclub`), and the factors give its level by term and the term's shape by age.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from calibrate_lendingclub import DEFAULT_PATH, load_tape  # noqa: E402

BANDS = [0, 6, 12, 24, 36, 48]
"""Months on book where each band starts (the last runs to the end of a 60-month loan)."""
CAUSES = ("default", "prepay")


def exits(tape: pd.DataFrame) -> pd.DataFrame:
    """Per loan: term, grade, issue year, months on book at exit, how it left, paid / funded."""
    charged_off = tape.charged_off.to_numpy()
    to_last = tape.months_to_last.to_numpy()
    term = tape.term.to_numpy()
    prepaid = ~charged_off & (to_last <= term - 2)
    months = np.where(charged_off, to_last + 1, np.minimum(to_last, term)).clip(min=0.5)
    return pd.DataFrame({"term": term, "grade": tape.grade.to_numpy(),
                         "year": tape.issue_d.dt.year.to_numpy(), "months": months,
                         "default": charged_off, "prepay": prepaid,
                         "paid": (tape.total_pymnt / tape.funded_amnt).to_numpy()})


def band_hazards(loans: pd.DataFrame, cause: str, bands: list[int]) -> np.ndarray:
    """The monthly hazard of ``cause`` in each band of months on book (lifelines, censored MLE)."""
    from lifelines import PiecewiseExponentialFitter

    fitter = PiecewiseExponentialFitter(breakpoints=bands[1:])
    fitter.fit(loans.months, event_observed=loans[cause])
    return 1.0 / fitter.params_.to_numpy()  # lifelines' lambda_i is the band's mean time (1 / hazard)


def pooled_hazard(loans: pd.DataFrame, cause: str) -> float:
    """The constant monthly hazard of ``cause`` over every loan (lifelines' ExponentialFitter)."""
    from lifelines import ExponentialFitter

    return 1.0 / float(ExponentialFitter().fit(loans.months, event_observed=loans[cause]).lambda_)


def fit(loans: pd.DataFrame, bands: list[int] = BANDS) -> dict:
    """The ``[grades.seasoning]`` factors for the terms in ``loans``.

    Factor = (the grade's hazard on this term / its hazard on every term) x (the term's hazard in
    this band / its hazard over all bands): each grade keeps its level, each term its own level per
    grade, and the shape by age is the term's, pooled over the grades (too few loans per grade and
    band otherwise).
    """
    terms = sorted(int(t) for t in loans.term.unique())
    grades = sorted(loans.grade.unique())
    factors = {}
    for cause in CAUSES:
        rows = []
        for term in terms:
            mine = loans[loans.term == term]
            usable = [b for b in bands if b < term]  # bands a loan of this term reaches
            shape = band_hazards(mine, cause, usable) / pooled_hazard(mine, cause)
            shape = np.concatenate([shape, np.repeat(shape[-1], len(bands) - len(usable))])
            row = []
            for grade in grades:
                level = pooled_hazard(loans[loans.grade == grade], cause)
                cell = mine[mine.grade == grade]
                ratio = pooled_hazard(cell, cause) / level if cell[cause].any() else 0.0
                row.append([round(float(ratio * s), 3) for s in shape])
            rows.append(row)
        factors[f"{cause}_multiplier"] = rows
    return {"terms_months": terms, "age_bands_months": list(bands),
            "default_multiplier": factors["default_multiplier"],
            "prepay_multiplier": factors["prepay_multiplier"]}


def cumulative_share(loans: pd.DataFrame, cause: str, months: int) -> float:
    """The share of ``loans`` that left by ``cause`` within ``months`` on book (observed)."""
    return float(((loans.months <= months) & loans[cause]).mean())


def predicted_share(loans: pd.DataFrame, seasoning: dict, levels: dict, cause: str,
                    months: int) -> float:
    """The share the fitted hazards give for ``loans`` (their own grade and term mix), by months.

    Competing risks month by month: a loan still on the book at the start of month ``k`` leaves by
    ``cause`` with its hazard, by the other with the other's, or goes on.
    """
    terms = seasoning["terms_months"]
    band_of = np.searchsorted(seasoning["age_bands_months"], np.arange(months), side="right") - 1
    total = 0.0
    for (grade, term), group in loans.groupby(["grade", "term"]):
        row = int(np.abs(np.array(terms) - term).argmin())
        alive, left = 1.0, 0.0
        g = sorted(levels["default"]).index(grade)
        for k in range(min(months, term)):
            h = {c: levels[c][grade] * seasoning[f"{c}_multiplier"][row][g][band_of[k]]
                 for c in CAUSES}
            left += alive * h[cause]
            alive *= 1.0 - h["default"] - h["prepay"]
        total += left * len(group)
    return total / len(loans)


def grade_levels(loans: pd.DataFrame) -> dict:
    """Each grade's constant hazard of each cause (the simple form's levels), events / months."""
    levels = {}
    for cause in CAUSES:
        by_grade = loans.groupby("grade")
        levels[cause] = (by_grade[cause].sum() / by_grade.months.sum()).to_dict()
    return levels


def check_table(fitted_on: pd.DataFrame, checked: pd.DataFrame, seasoning: dict,
                horizon: int = 36) -> pd.DataFrame:
    """Observed and fitted shares leaving by each cause within ``horizon`` months, by grade and term.

    The levels come from ``fitted_on`` too, so on later loans the table is out of sample. The
    sampling error of the observed share is the binomial ``sqrt(p (1 - p) / n)``.
    """
    levels = grade_levels(fitted_on)
    rows = []
    for (grade, term), group in checked.groupby(["grade", "term"]):
        for cause in CAUSES:
            observed = cumulative_share(group, cause, horizon)
            fitted = predicted_share(group, seasoning, levels, cause, horizon)
            error = np.sqrt(observed * (1 - observed) / len(group))
            rows.append({"grade": grade, "term": int(term), "cause": cause, "loans": len(group),
                         "observed": observed, "fitted": fitted, "standard_error": error,
                         "z": (fitted - observed) / error if error > 0 else np.nan})
    return pd.DataFrame(rows)


def main() -> None:
    """Fit on the years asked for, print the table, and check on the years asked for."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tape", nargs="?", default=str(DEFAULT_PATH))
    parser.add_argument("--years", default="2007-2010", help="issue years fitted, e.g. 2007-2009")
    parser.add_argument("--check", default=None, help="issue years checked, e.g. 2010")
    parser.add_argument("--engine", action="store_true",
                        help="also check with the engine's own runs (a simulated cohort)")
    parser.add_argument("--figure", default=None, help="write the fitted and observed curves here")
    parser.add_argument("--scenario", default=None,
                        help="write baseline.toml with the fitted table here (e.g. "
                             "scenarios/baseline_seasoned.toml)")
    args = parser.parse_args()
    loans = exits(load_tape(Path(args.tape)))
    first, last = (int(y) for y in args.years.split("-"))
    fitted_on = loans[loans.year.between(first, last)]
    seasoning = fit(fitted_on)
    print(f"# fitted on {len(fitted_on)} loans issued {first}-{last}")
    print("[grades.seasoning]")
    for key, value in seasoning.items():
        print(f"{key} = {value}")
    years = args.check or args.years
    lo, hi = (int(y) for y in (years.split("-") if "-" in years else (years, years)))
    table = check_table(fitted_on, loans[loans.year.between(lo, hi)], seasoning)
    print(f"\n# share leaving within 36 months, loans issued {lo}-{hi}: observed and fitted")
    print(table.to_string(index=False, float_format="%.4f"))
    if args.scenario:
        baseline = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
        Path(args.scenario).write_text(seasoned_scenario(baseline.read_text(encoding="utf-8"),
                                                         seasoning, len(fitted_on)),
                                       encoding="utf-8")
    if args.figure:
        plot_fit(fitted_on, seasoning, Path(args.figure),
                 f"LendingClub loans issued {first}-{last}: observed, fitted by term and age, flat")
    if args.engine:
        checked = loans[loans.year.between(lo, hi)]
        print(f"\n# the engine's cohort, fit of {first}-{last}, against loans issued {lo}-{hi}")
        print(engine_check(fitted_on, checked, seasoning).to_string(index=False,
                                                                    float_format="%.4f"))



def engine_check(fitted_on: pd.DataFrame, checked: pd.DataFrame, seasoning: dict, seed: int = 1,
                 horizon: int = 36) -> pd.DataFrame:
    """The engine's own runs against the tape: ``checked``'s mix simulated under the fit.

    A market of ``checked``'s grade and term mix, every grade approved, with the levels and factors
    fitted on ``fitted_on``; its first year of loans followed for ``horizon`` months. Per grade and
    term: the shares that defaulted (by the instalment missed) and prepaid within ``horizon``
    months, simulated against observed, and z with both binomial errors; where every simulated
    loan has closed, also total paid over funded (the mean per loan, with both standard errors).
    The macro factor and the borrowers' own dispersion are off: this checks the credit model, not
    the cycle.
    """
    from sim import P2PMarket
    from sim.kernels import ACTIVE, DEFAULTED, PREPAID

    levels = grade_levels(fitted_on)
    names = sorted(levels["default"])
    mix = checked.grade.value_counts(normalize=True).reindex(names, fill_value=0.0)
    terms = checked.term.value_counts(normalize=True).sort_index()
    shares = [round(float(v), 4) for v in mix]
    shares[int(np.argmax(shares))] += round(1.0 - sum(shares), 4)
    model = P2PMarket(
        str(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"), rng=seed,
        audit="off", run__horizon_days=360 + 30 * horizon + 120,
        grades__default_hazard_monthly=[float(levels["default"][g]) for g in names],
        grades__prepay_hazard_monthly=[float(levels["prepay"][g]) for g in names],
        grades__application_share=shares, grades__seasoning=seasoning,
        borrowers__terms_months=[int(t) for t in terms.index],
        borrowers__term_share=[round(float(v), 4) for v in terms], borrowers__growth_per_year=0.0,
        borrowers__hazard_dispersion=0.0, macro__asset_correlation=0.0,
        platforms__0__risk__approve_grades=names, platforms__0__risk__max_dti=100.0,
        investors__count=40000)
    model.run()
    loans = model.book.loans
    cohort = (loans.orig_day >= 0) & (loans.orig_day < 360)
    defaulted = (loans.status == DEFAULTED) & ((loans.default_day - 91 - loans.orig_day) // 30
                                                <= horizon)
    prepaid = (loans.status == PREPAID) & (loans.n_paid <= horizon)
    simulated = pd.DataFrame({"grade": np.array(names)[loans.grade[cohort]],
                              "term": loans.term[cohort], "default": defaulted[cohort],
                              "prepay": prepaid[cohort],
                              "paid": loans.paid_fen[cohort] / loans.principal_fen[cohort],
                              "closed": loans.status[cohort] != ACTIVE})
    rows = []
    for (grade, term), group in checked.groupby(["grade", "term"]):
        mine = simulated[(simulated.grade == grade) & (simulated.term == term)]
        if len(mine) > 1 and mine.closed.all():  # every loan closed: its total paid over funded
            observed, share = group.paid.mean(), mine.paid.mean()
            error = np.sqrt(group.paid.var() / len(group) + mine.paid.var() / len(mine))
            rows.append({"grade": grade, "term": int(term), "cause": "paid/funded",
                         "loans": len(group), "observed": observed, "simulated": share,
                         "simulated_loans": len(mine), "z": (share - observed) / error})
        for cause in CAUSES:
            observed = cumulative_share(group, cause, horizon)
            share = float(mine[cause].mean()) if len(mine) else np.nan
            error = np.sqrt(observed * (1 - observed) / len(group)
                            + share * (1 - share) / max(len(mine), 1))
            rows.append({"grade": grade, "term": int(term), "cause": cause, "loans": len(group),
                         "observed": observed, "simulated": share, "simulated_loans": len(mine),
                         "z": (share - observed) / error if error > 0 else np.nan})
    return pd.DataFrame(rows)


SEASONED_HEAD = "\n".join([
    "# The baseline with the richer credit model: default and prepayment by term and months on book.",
    "#",
    "# Everything as in baseline.toml; [grades.seasoning] multiplies each grade's monthly hazards by a",
    "# factor per term (36 or 60 months), grade and band of months on book, fitted by",
    "# calibration/seasoning.py with lifelines (cause-specific piecewise-exponential hazards, default and",
    "# prepayment competing). Defaults are low in a loan's first six months, prepayment rises with age,",
    "# and 60-month loans of grades A and B default more than 36-month ones. docs/calibration.md has the",
    "# fit and its out-of-sample check.",
]) + "\n"


def seasoned_scenario(baseline_text: str, seasoning: dict, loans: int) -> str:
    """``baseline.toml`` with the fitted ``[grades.seasoning]`` table (written by ``--scenario``)."""
    def rows(table: list) -> str:
        text = "[\n"
        for t, term in enumerate(table):
            text += f"  [  # term {seasoning['terms_months'][t]}\n"
            text += "".join(f"    {row},  # {chr(ord('A') + g)}\n" for g, row in enumerate(term))
            text += "  ],\n"
        return text + "]"

    table = (f"[grades.seasoning]           # calibration/seasoning.py on all {loans} loans "
             f"(docs/calibration.md)\n"
             f"terms_months = {seasoning['terms_months']}\n"
             f"age_bands_months = {seasoning['age_bands_months']}  # months on book where each "
             f"band starts\n"
             f"default_multiplier = {rows(seasoning['default_multiplier'])}\n"
             f"prepay_multiplier = {rows(seasoning['prepay_multiplier'])}\n")
    text = baseline_text.replace('name = "baseline"', 'name = "baseline_seasoned"')
    text = text.replace("[borrowers]", table + "\n[borrowers]", 1)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if not line.startswith("#"))
    return SEASONED_HEAD + "\n".join(lines[start:]) + "\n"


def plot_fit(loans: pd.DataFrame, seasoning: dict, path: Path, title: str) -> None:
    """Observed and fitted cumulative default and prepayment shares by months on book, per term."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    levels = grade_levels(loans)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    for ax, cause in zip(axes, CAUSES):
        for term, colour in ((36, "tab:blue"), (60, "tab:orange")):
            mine = loans[loans.term == term]
            months = np.arange(1, term + 1)
            observed = [cumulative_share(mine, cause, k) for k in months]
            fitted = [predicted_share(mine, seasoning, levels, cause, k) for k in months]
            ax.plot(months, observed, color=colour, label=f"{term} months: observed")
            ax.plot(months, fitted, color=colour, linestyle="--", label=f"{term} months: fitted")
            flat = {c: {g: levels[c][g] for g in levels[c]} for c in CAUSES}
            ones = {**seasoning, "default_multiplier": np.ones_like(
                np.array(seasoning["default_multiplier"])).tolist(), "prepay_multiplier": np.ones_like(
                np.array(seasoning["prepay_multiplier"])).tolist()}
            ax.plot(months, [predicted_share(mine, ones, flat, cause, k) for k in months],
                    color=colour, linestyle=":", label=f"{term} months: flat hazard")
        ax.set_title(f"share of loans that {'defaulted' if cause == 'default' else 'prepaid'}")
        ax.set_xlabel("months on book")
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
