"""Calibrate borrower grades, defaults, prepayment and recovery on the LendingClub 2007-2010 tape.

Run from the repository root::

    python calibration/calibrate_lendingclub.py [PATH_TO_CSV_GZ]

It prints the ``[grades]`` and ``[borrowers]`` numbers used by ``scenarios/baseline.toml`` (and by
the defaults in ``sim/scenario.py``); ``tests/test_calibration.py`` checks that the two agree.
The method is in ``docs/calibration.md``:

* default hazard (per month): charge-offs / borrower-months at risk, where a loan is at risk from
  issue to its last payment plus one month (charged-off loans) or to its last payment (paid loans);
* prepayment hazard (per month): loans paid in full two or more months before term / months at risk;
* recovery rate: recoveries / principal outstanding at charge-off, summed over charged-off loans;
* annual rate: mean ``int_rate`` of the grade; application share: the grade's share of loans;
* loan amount and income: log-normal (median, sigma of the log), USD converted at 6.8 CNY/USD
  (the 2010 average), rounded; debt-to-income: mean and standard deviation (percent).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

CNY_PER_USD = 6.8
DEFAULT_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "data" / \
    "lendingclub_2007_2010.csv.gz"


def load_tape(path: Path) -> pd.DataFrame:
    """Read the loan tape with months on book to the last payment (``months_to_last``)."""
    tape = pd.read_csv(path, parse_dates=["issue_d", "last_pymnt_d"])
    tape["charged_off"] = tape["loan_status"].str.contains("Charged Off")
    months = ((tape.last_pymnt_d.dt.year - tape.issue_d.dt.year) * 12
              + (tape.last_pymnt_d.dt.month - tape.issue_d.dt.month))
    tape["months_to_last"] = months.fillna(0).clip(lower=0)
    return tape


def calibrate(path: Path = DEFAULT_PATH) -> dict:
    """Return the calibrated grade table and borrower distributions as plain numbers."""
    tape = load_tape(path)
    at_risk = np.where(tape.charged_off, tape.months_to_last + 1,
                       np.minimum(tape.months_to_last, tape.term)).clip(min=1)
    tape["at_risk"] = at_risk
    tape["prepaid"] = (~tape.charged_off) & (tape.months_to_last <= tape.term - 2)
    tape["principal_at_default"] = np.where(tape.charged_off,
                                            tape.funded_amnt - tape.total_rec_prncp, 0.0)
    by_grade = tape.groupby("grade")
    grades = {
        "names": list(by_grade.groups),
        "application_share": (by_grade.size() / len(tape)).round(4).tolist(),
        "annual_rate": by_grade.int_rate.mean().round(4).tolist(),
        "default_hazard_monthly": (by_grade.charged_off.sum() / by_grade.at_risk.sum())
        .round(5).tolist(),
        "prepay_hazard_monthly": (by_grade.prepaid.sum() / by_grade.at_risk.sum()).round(5).tolist(),
        "recovery_rate": (by_grade.recoveries.sum() / by_grade.principal_at_default.sum())
        .round(4).tolist(),
    }
    # make the shares add up to 1 exactly after rounding
    shares = grades["application_share"]
    shares[int(np.argmax(shares))] = round(1.0 - sum(shares) + max(shares), 4)
    terms = tape.term.value_counts(normalize=True).sort_index()
    borrowers = {
        "amount_median_cny": float(round(tape.loan_amnt.median() * CNY_PER_USD, -2)),
        "amount_sigma": round(float(np.log(tape.loan_amnt).std()), 3),
        "income_median_cny": float(round(tape.annual_inc.median() * CNY_PER_USD, -3)),
        "income_sigma": round(float(np.log(tape.annual_inc).std()), 3),
        "dti_mean": round(float(tape.dti.mean()), 2),
        "dti_sd": round(float(tape.dti.std()), 2),
        "terms_months": [int(t) for t in terms.index],
        "term_share": terms.round(4).tolist(),
    }
    return {"grades": grades, "borrowers": borrowers, "loans": len(tape)}


def to_toml(calibrated: dict) -> str:
    """Format the calibration as TOML tables to paste into a scenario."""
    lines = [f"# calibrated on {calibrated['loans']} LendingClub loans (2007-2010)", "[grades]"]
    for key, value in calibrated["grades"].items():
        lines.append(f"{key} = {value!r}".replace("'", '"'))
    lines.append("\n[borrowers]  # calibrated part")
    for key, value in calibrated["borrowers"].items():
        lines.append(f"{key} = {value!r}")
    return "\n".join(lines)


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH
    print(to_toml(calibrate(source)))
