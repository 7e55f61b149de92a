"""Agent populations draw what the scenario says."""

from __future__ import annotations

import numpy as np

from sim.agents.borrowers import BorrowerPopulation
from sim.scenario import load_scenario

from .conftest import SCENARIOS


def test_applicants_follow_the_scenario_mixes():
    scenario = load_scenario(SCENARIOS / "two_platforms.toml")
    n = 200_000
    drawn = BorrowerPopulation(scenario.borrowers, scenario.grades,
                               np.random.default_rng(0)).draw_profiles(n)
    tolerance = 4 * np.sqrt(0.25 / n)  # four standard errors of a share
    terms = [np.mean(drawn["term"] == t) for t in scenario.borrowers.terms_months]
    assert np.allclose(terms, scenario.borrowers.term_share, atol=tolerance)
    methods = np.bincount(drawn["method"], minlength=4) / n
    assert np.allclose(methods[[0, 2, 3]], scenario.borrowers.method_share, atol=tolerance)
    grades = np.bincount(drawn["grade"], minlength=7) / n
    assert np.allclose(grades, scenario.grades.application_share, atol=tolerance)
    median = np.median(drawn["amount_fen"]) / 100
    assert abs(median / scenario.borrowers.amount_median_cny - 1) < 0.02
    assert abs(drawn["hazard_mult"].mean() - 1) < 0.01


def test_readable_views_of_one_agent():
    from sim import P2PMarket

    model = P2PMarket(rng=1, run__horizon_days=40, investors__count=200, initial_book__loans=50)
    model.run()
    loan = model.book[0]
    assert loan.status == "active" and len(loan.notes) == 20
    assert abs(sum(b for _, b in loan.notes) - loan.balance_cny) < 1e-6
    investor = model.investors[loan.notes[0][0]]
    assert investor.cash_cny["platform"] >= 0
    borrower = model.borrowers[0]
    assert borrower.grade in "ABCDEFG" and borrower.amount_cny > 0


def test_views_print_plain_numbers_and_cut_long_lists():
    """``repr`` of a loan and an investor: no numpy types, and a loan's 20 notes as 3 and a count."""
    from sim import P2PMarket

    model = P2PMarket(rng=1, run__horizon_days=40, investors__count=200, initial_book__loans=50)
    model.run()
    loan, text = model.book[0], repr(model.book[0])
    investor = model.investors[loan.notes[0][0]]
    assert "np." not in text and "np." not in repr(investor)
    assert text.endswith(f"notes=[{loan.notes[0]!r}, {loan.notes[1]!r}, {loan.notes[2]!r}, "
                         f"... and 17 more])")
    assert type(loan.annual_rate) is float and type(loan.notes[0][1]) is float
    assert type(investor.cash_cny["platform"]) is float
    assert f"balance_cny={loan.balance_cny!r}" in text
    assert repr(model.platforms[0]).startswith("Platform('platform': pricing grid, risk scorecard")
