"""Borrowers see the all-in cost: the APR of the schedule with its fees, the legal cap, demand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from sim.all_in_cost import all_in_apr
from sim.cli import main
from sim.loans import RepaymentMethod, schedule
from sim.model import P2PMarket


def test_without_fees_the_all_in_cost_is_the_nominal_rate():
    for method in (RepaymentMethod.ANNUITY, RepaymentMethod.EQUAL_PRINCIPAL,
                   RepaymentMethod.INTEREST_ONLY):
        for term in (1, 12, 36, 60):
            assert all_in_apr([0.15], [term], [method], 0.0, 0.0)[0] == pytest.approx(0.15,
                                                                                      abs=1e-9)
    # a bullet loan's simple interest compounds to less
    assert all_in_apr([0.12], [12], [RepaymentMethod.BULLET], 0.0, 0.0)[0] == pytest.approx(
        12 * (1.12 ** (1 / 12) - 1), abs=1e-9)


@pytest.mark.parametrize("method", ["annuity", "equal_principal", "interest_only", "bullet"])
def test_fees_against_the_schedule_s_own_cash_flows(method):
    """A 4 % upfront fee and 0.2 % a month on the schedule of sim.loans, solved independently."""
    table = schedule(100_000.0, 0.13, 24, method)
    flows = table.payment.to_numpy() + 0.002 * 100_000.0

    def value(monthly_rate):
        months = np.arange(1, len(flows) + 1)
        return np.sum(flows / (1 + monthly_rate) ** months) - 96_000.0

    expected = 12 * brentq(value, 1e-6, 0.5)
    code = int(RepaymentMethod[method.upper()])
    assert all_in_apr([0.13], [24], [code], 0.04, 0.002)[0] == pytest.approx(expected, abs=2e-6)


@pytest.mark.parametrize("term", [1, 7, 36])
def test_newton_and_bisection_both_solve_to_rounding(term):
    """Positive rates go by Newton from 0, a loan repaying less than it received by bisection."""
    flows = np.full(term, 1.0 / term) + 0.001
    months = np.arange(1, term + 1)
    for upfront in (0.05, -0.10):  # -0.10: the borrower received 110 % of principal
        monthly = brentq(lambda i: np.sum(flows / (1 + i) ** months) - (1 - upfront), -0.9, 0.9,
                         xtol=1e-15)
        solved = all_in_apr([0.0], [term], [RepaymentMethod.EQUAL_PRINCIPAL], upfront, 0.001)[0]
        assert solved == pytest.approx(12 * monthly, abs=1e-12)
        assert (solved < 0) == (upfront < 0)


def test_a_rate_below_rounding_is_a_rate_of_zero():
    """(1 + 1e-277)^n is 1: the annuity is then equal principal, not a division by zero."""
    tiny = all_in_apr([1.8e-277], [12], [RepaymentMethod.ANNUITY], 0.0, 0.0)[0]
    assert tiny == all_in_apr([0.0], [12], [RepaymentMethod.ANNUITY], 0.0, 0.0)[0] == 0.0


def _market(service_fee, **extra):
    return P2PMarket(None, rng=3, audit="off", **{
        "run.horizon_days": 61, "borrowers.applications_per_day": 400.0,
        "investors.count": 4000, "platforms.0.service_fee": service_fee, **extra})


def test_a_fee_rise_lowers_demand_by_the_documented_elasticity():
    low, high = _market(0.03), _market(0.06)
    for market in (low, high):
        market.run()
    elasticity = low.config.borrowers.rate_elasticity
    assert elasticity == 0.09
    raised = high.platforms[0].state.all_in_premium - low.platforms[0].state.all_in_premium
    assert 0.01 < raised < 0.03  # 3 points of principal upfront: 1-3 points a year all-in
    ratio = high.platforms[0].demand_multiplier / low.platforms[0].demand_multiplier
    assert ratio == pytest.approx(math.exp(-elasticity * 100 * raised), rel=1e-9)
    # and the applications of the second month fall by it, within their Poisson noise
    counts = []
    for market in (low, high):
        applied = market.borrowers.table.applied_day
        counts.append(int(((applied >= 30) & (applied < 60)).sum()))
    se = math.sqrt(counts[1] / counts[0] ** 2 + counts[1] ** 2 / counts[0] ** 3)
    assert abs(counts[1] / counts[0] - ratio) < 4 * se
    # fewer borrowers accept the dearer offer too: fewer loans
    assert len(high.book.loans) < len(low.book.loans)


def test_an_offer_above_the_all_in_cap_is_never_listed():
    capped = _market(0.10, **{"loans.all_in_cap": 0.24, "borrowers.rate_tolerance_mean": 0.5})
    capped.run()
    loans = capped.book.loans
    mine = loans.orig_day >= 0
    assert mine.sum() > 0
    cost = all_in_apr(loans.annual_rate[mine], loans.term[mine], loans.method[mine], 0.10, 0.0)
    assert cost.max() <= 0.24
    free = _market(0.10, **{"borrowers.rate_tolerance_mean": 0.5})
    free.run()
    loans = free.book.loans
    mine = loans.orig_day >= 0
    cost = all_in_apr(loans.annual_rate[mine], loans.term[mine], loans.method[mine], 0.10, 0.0)
    assert cost.max() > 0.24  # without the cap those offers were taken


def test_a_cap_below_a_grade_s_rate_is_refused(tmp_path, capsys):
    out = tmp_path / "never"
    code = main(["run", "scenarios/baseline.toml", "--out", str(out), "--quiet",
                 "--set", "loans.all_in_cap=0.1"])
    err = capsys.readouterr().err
    assert code == 2 and "loans.all_in_cap 0.1 is below grades.annual_rate[" in err
    assert "Traceback" not in err and not out.exists()
