"""The credit model's richer form: hazards by term and months on book (``[grades.seasoning]``)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.cli import main
from sim.kernels import DEFAULTED, PREPAID
from sim.model import P2PMarket
from sim.scenario import ScenarioError, load_scenario

GRADES = 7
BANDS = [0, 6, 12, 24]


def seasoning(default=None, prepay=None) -> dict:
    """A [grades.seasoning] table for terms 36 and 60 (factors [term][grade][band])."""
    ones = [[[1.0] * len(BANDS) for _ in range(GRADES)] for _ in range(2)]
    return {"terms_months": [36, 60], "age_bands_months": BANDS,
            "default_multiplier": default or ones, "prepay_multiplier": prepay or ones}


def market(table: dict | None, **overrides) -> P2PMarket:
    """The baseline, smaller, with ``table`` as its seasoning, run to its horizon."""
    settings = {"run__horizon_days": 720, "investors__count": 6000, **overrides}
    if table is not None:
        settings["grades__seasoning"] = table
    model = P2PMarket("scenarios/baseline.toml", audit="off", **settings)
    model.run()
    return model


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_defaults_stop_after_the_months_whose_factor_is_zero():
    """Factor 3 in the first six months on book, 0 after: every default comes from a miss in them."""
    early = [[[3.0, 0.0, 0.0, 0.0] for _ in range(GRADES)] for _ in range(2)]
    loans = market(seasoning(default=early)).book.loans
    plain = market(None).book.loans
    for book in (loans, plain):
        assert (book.status == DEFAULTED).sum() > 50
    # a miss on instalment k <= 6 (due orig + 30 k) is written off the day after 90 days past due
    last = 6 * 30 + 90 + 1
    late = (loans.status == DEFAULTED) & (loans.default_day - loans.orig_day > last)
    assert late.sum() == 0
    plain_late = (plain.status == DEFAULTED) & (plain.default_day - plain.orig_day > last)
    assert plain_late.sum() > 0  # without the table, loans default later too


def test_prepayment_follows_the_term_row():
    """Prepayment factor 0 for 36-month loans: none prepays; 60-month loans still do."""
    prepay = [[[0.0] * len(BANDS) for _ in range(GRADES)],
              [[1.0] * len(BANDS) for _ in range(GRADES)]]
    loans = market(seasoning(prepay=prepay)).book.loans
    prepaid = loans.status == PREPAID
    assert prepaid[loans.term == 36].sum() == 0
    assert prepaid[loans.term == 60].sum() > 20


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_a_term_factor_doubles_the_default_hazard():
    """60-month loans at twice the hazard of 36-month loans: defaults per month at risk, 2x."""
    double = [[[1.0] * len(BANDS) for _ in range(GRADES)],
              [[2.0] * len(BANDS) for _ in range(GRADES)]]
    loans = market(seasoning(default=double), run__horizon_days=1080).book.loans
    rates = []
    for term in (36, 60):
        mine = loans.term == term
        defaulted = mine & (loans.status == DEFAULTED)
        months_at_risk = loans.n_paid[mine].sum() + defaulted.sum()
        rates.append(defaulted.sum() / months_at_risk)
    ratio = rates[1] / rates[0]
    assert 1.5 < ratio < 2.6, ratio  # about 2; cures and the mix of grades blur it a little


def test_without_the_table_nothing_changes():
    ones = market(seasoning(), run__horizon_days=360)
    plain = market(None, run__horizon_days=360)
    assert np.array_equal(ones.book.loans.status, plain.book.loans.status)
    assert np.array_equal(ones.book.loans.balance_fen, plain.book.loans.balance_fen)


@pytest.mark.parametrize("change, words", [
    ({"default_multiplier": [[[1.0] * 4] * 7]}, "must be [term][grade][band]"),
    ({"prepay_multiplier": [[[1.0] * 3] * 7] * 2}, "must be [term][grade][band]"),
    ({"default_multiplier": [[[-1.0] + [1.0] * 3] * 7] * 2}, "greater than or equal to 0"),
    ({"default_multiplier": [[[500.0] + [1.0] * 3] * 7] * 2}, "a hazard is at most 1"),
    ({"age_bands_months": [3, 6, 12, 24]}, "must start at 0"),
    ({"age_bands_months": [0, 6, 12, 61]}, "less than 60"),
    ({"terms_months": [60, 36]}, "must increase"),
])
def test_bad_seasoning_tables_name_the_key(change, words, tmp_path, capsys):
    table = {**seasoning(), **change}
    with pytest.raises(ScenarioError, match="grades.seasoning") as error:
        load_scenario("scenarios/baseline.toml", {"grades.seasoning": table})
    assert words in str(error.value)
    out = tmp_path / "out"
    text = open("scenarios/baseline.toml", encoding="utf-8").read()
    rows = "\n".join(f"{key} = {value}" for key, value in table.items())
    path = tmp_path / "bad.toml"
    path.write_text(text.replace("[investors]", f"[grades.seasoning]\n{rows}\n\n[investors]"),
                    encoding="utf-8")
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    assert "grades.seasoning" in capsys.readouterr().err and not out.exists()


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_the_engines_cohort_follows_the_fitted_curves():
    """A year's cohort of the seasoned baseline defaults and prepays as the fitted hazards say.

    The macro factor and the borrowers' own dispersion are switched off, so each loan's monthly
    hazards are exactly its grade's level times its term-and-age factor; the cohort's shares within
    12 months, per term, must match the competing-risks formula (calibration/seasoning.py) within
    three binomial standard errors.
    """
    import sys

    import pandas as pd

    sys.path.insert(0, "calibration")
    from seasoning import predicted_share

    model = P2PMarket("scenarios/baseline_seasoned.toml", audit="off", run__horizon_days=720,
                      macro__asset_correlation=0.0, borrowers__hazard_dispersion=0.0,
                      investors__count=8000)
    model.run()
    config, loans = model.config, model.book.loans
    cohort = (loans.orig_day >= 0) & (loans.orig_day < 180)
    defaulted = loans.status == DEFAULTED
    miss_month = (loans.default_day - 91 - loans.orig_day) // 30  # the instalment missed
    months = np.where(defaulted, miss_month, 99)
    frame = pd.DataFrame({
        "grade": np.array(config.grades.names)[loans.grade[cohort]], "term": loans.term[cohort],
        "months": months[cohort], "default": defaulted[cohort], "prepay": False})
    levels = {"default": dict(zip(config.grades.names, config.grades.default_hazard_monthly)),
              "prepay": dict(zip(config.grades.names, config.grades.prepay_hazard_monthly))}
    table = config.grades.seasoning.model_dump()
    for term in (36, 60):
        mine = frame[frame.term == term]
        observed = float(((mine.months <= 12) & mine.default).mean())
        fitted = predicted_share(mine, table, levels, "default", 12)
        error = np.sqrt(fitted * (1 - fitted) / len(mine))
        assert len(mine) > 500 and abs(observed - fitted) < 3 * error, (term, observed, fitted)


def test_recoveries_come_the_lag_after_their_write_offs():
    """With a 3-month lag every recovery is booked 90 days after its write-off, in full."""
    from sim.kernels import WriteOffTotals as W
    from sim.market.accounts import Memo

    model = P2PMarket("scenarios/baseline.toml", audit="full", run__horizon_days=600,
                      investors__count=4000, grades__recovery_lag_months=3)
    promised = []
    keep = model.arrears.recoveries.keep

    def counted(day, parts, n, totals):
        promised.append(int(totals[:, [W.RECOVERED, W.HELD_RECOVERED, W.COLLECTION_FEE]].sum()))
        keep(day, parts, n, totals)

    model.arrears.recoveries.keep = counted
    model.run()
    journal = model.ledger.journal()
    written_off = set(journal[journal.memo == Memo.DEFAULT_WRITE_OFF].day)
    recovered = journal[journal.memo == Memo.RECOVERY]
    assert written_off and set(recovered.day) == {d + 90 for d in written_off if d + 90 < 600}
    paid = journal[journal.memo.isin([Memo.RECOVERY, Memo.HELD_RECOVERY, Memo.COLLECTION_FEE])]
    pending = model.arrears.recoveries.pending_fen
    assert pending > 0 and paid.amount_fen.sum() + pending == sum(promised)


@pytest.mark.parametrize("lag", [-1, 61])
def test_a_recovery_lag_out_of_range_names_the_key(lag):
    with pytest.raises(ScenarioError, match="grades.recovery_lag_months"):
        load_scenario("scenarios/baseline.toml", {"grades.recovery_lag_months": lag})


@pytest.mark.parametrize("scenario", ["baseline", "reserve_fund", "fund_pool"])
def test_what_a_borrower_paid_ties_to_the_journal(scenario):
    """``paid_fen`` (the tape's total_pymnt) = repayments to investors and holders, their fees, recoveries."""
    from sim.market.accounts import Memo

    model = P2PMarket(f"scenarios/{scenario}.toml", audit="off", run__horizon_days=360)
    model.run()
    journal = model.ledger.journal()
    memo = journal.memo.str.split("_to_").str[0]  # a fee's share paid into a fund counts with it
    paid = journal[memo.isin([Memo.REPAYMENT_PRINCIPAL, Memo.REPAYMENT_INTEREST, Memo.MANAGEMENT_FEE,
                              Memo.HELD_REPAYMENT_PRINCIPAL, Memo.HELD_REPAYMENT_INTEREST,
                              Memo.RECOVERY, Memo.HELD_RECOVERY, Memo.COLLECTION_FEE])]
    assert model.book.loans.paid_fen.sum() == paid.amount_fen.sum() > 0
