"""The pooled platforms' finished loans leave the loan book, and nothing else moves.

A full industry lends about a hundred million loans over its years, four times what is ever
outstanding; the finished ones of pooled platforms leave the book (:meth:`LoanBook.drop`), and every
part that holds loans' rows (arrears, borrowers who owe on several platforms, the secondary market's
index) is told their new numbers. Dropping them every month or never must give the same run.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim.industry.part as industry_part
from sim.book import renumbered
from sim.columns import Columns
from sim.model import P2PMarket

from .conftest import ROOT

SEED_PLAN = ROOT / "scenarios" / "seed_plan_in_2018.toml"
MIXED = {"industry.platforms": 40, "industry.investors": 6000, "investors.count": 1500,
         "run.horizon_days": 390, "plan.targets": [], "plan.uncertain": [],
         "platforms.0.company.capital_raises": [],
         "industry.channels.co_debt.stop_probability": 1.0,  # the seed's borrowers owe elsewhere
         "industry.channels.co_debt.share_of_loans": 0.5,
         "industry.events": [{"month": "2017-05", "kind": "collapse", "class": "all",
                              "largest": 10}]}


def test_columns_keep_the_rows_asked_in_order():
    table = Columns({"a": np.int32, "b": np.float64}, capacity=4)
    table.append(a=np.arange(10, dtype=np.int32), b=np.arange(10) / 2)
    kept = np.arange(10) % 3 != 0
    table.keep(kept)
    assert len(table) == 6 and table.a.tolist() == [1, 2, 4, 5, 7, 8]
    assert table.b.tolist() == [0.5, 1.0, 2.0, 2.5, 3.5, 4.0]
    rows = table.append(a=np.array([99], dtype=np.int32), b=np.array([9.0]))
    assert rows == slice(6, 7) and table.a[-1] == 99


def test_rows_held_elsewhere_are_renumbered_and_the_ones_gone_left_out():
    kept = np.array([True, False, True, True, False, True])
    new_row = np.concatenate([[0], np.cumsum(kept)])
    assert renumbered(np.array([0, 1, 3, 4, 5]), new_row, kept).tolist() == [0, 2, 3]


def _run(monkeypatch, share: float) -> P2PMarket:
    monkeypatch.setattr(industry_part, "FINISHED_SHARE_TO_DROP", share)
    model = P2PMarket(SEED_PLAN, audit="full", **MIXED)
    model.run()
    return model


def test_dropping_finished_loans_every_month_changes_nothing_but_the_book(monkeypatch):
    every_month, never = _run(monkeypatch, 0.0), _run(monkeypatch, 2.0)
    assert every_month.book.left > 0 and never.book.left == 0
    assert len(every_month.book) + every_month.book.left == len(never.book)
    assert every_month.industry.tracker.frame().equals(never.industry.tracker.frame())
    for kind, values in never.ledger.accounts.items():
        assert np.array_equal(every_month.ledger.accounts[kind], values), kind
    seed = never.book.loans.frame().query("platform == 0").reset_index(drop=True)
    assert len(seed) > 1000
    assert every_month.book.loans.frame().query("platform == 0").reset_index(drop=True).equals(seed)
    co_debt = every_month.industry.co_debt
    assert len(co_debt.detailed_rows) > 50  # the seed's loans whose borrowers owe elsewhere too
    assert np.array_equal(co_debt.detailed_ids, never.industry.co_debt.detailed_ids)
    assert (every_month.book.loans.platform[co_debt.detailed_rows] == 0).all()
    assert every_month.datacollector.get_model_vars_dataframe().equals(
        never.datacollector.get_model_vars_dataframe())


def test_a_loan_with_notes_cannot_leave_the_book():
    model = P2PMarket(SEED_PLAN, audit="off", **{**MIXED, "run.horizon_days": 60, "industry.events": []})
    model.run()
    leaving = model.book.loans.platform == 0  # the seed's: they have notes
    assert leaving.any()
    with pytest.raises(ValueError, match="notes"):
        model.book.drop(leaving)
