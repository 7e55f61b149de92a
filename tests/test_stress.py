"""Stress events: a recession, a funding freeze, a guarantee that fails, borrowers on strike."""

from __future__ import annotations

import numpy as np
import pytest

from sim import P2PMarket
from sim.scenario import ScenarioError, load_scenario

from .conftest import SCENARIOS

RESERVE = SCENARIOS / "reserve_fund.toml"
SHORT = {"run__horizon_days": 150, "investors__count": 3000}


def _frame(model):
    model.run()
    return model.datacollector.get_model_vars_dataframe()


def test_recession_multiplies_every_grades_default_hazard_in_its_months():
    calm = P2PMarket(RESERVE, rng=1, **SHORT)
    stressed = P2PMarket(RESERVE, rng=1, stress__recession=[
        {"start_month": 2, "months": 2, "hazard_multiplier": 3.0}], **SHORT)
    stressed.run(59)
    assert np.array_equal(stressed.risk_tables.miss_hazard, calm.risk_tables.miss_hazard)
    stressed.step()  # day 59; day 60 opens with the recession (a dated event)
    ratio = stressed.risk_tables.miss_hazard / calm.risk_tables.miss_hazard
    assert np.allclose(ratio[2:4], 3.0) and np.allclose(ratio[:2], 1.0) and np.allclose(ratio[4:], 1.0)


def test_funding_freeze_stops_new_lending_and_puts_the_platform_in_trouble():
    model = P2PMarket(RESERVE, rng=2, stress__funding_freeze_month=2, **SHORT)
    model.run(59)
    assert not model.platforms[0].in_trouble() and not model.platforms[0].frozen
    model.step()  # day 59; day 60 opens with the freeze (a dated event on Mesa's event list)
    assert model.platforms[0].frozen and model.platforms[0].in_trouble()
    frame = _frame(model)
    assert frame.new_listings[:60].sum() > 0 and frame.new_listings[60:].sum() == 0
    assert frame.funded_listings[66:].sum() == 0  # the last listings close within their window


def test_a_failed_guarantee_pays_nothing_more_and_investors_bear_the_rest():
    model = P2PMarket(RESERVE, rng=3, stress__guarantee_fails_month=3, **SHORT)
    frame = _frame(model)
    guarantee = model.platforms[0].guarantee
    assert guarantee.failed_day == 90
    assert frame.guarantee_payout_cny[:90].sum() > 0 and frame.guarantee_payout_cny[90:].sum() == 0
    assert frame.guarantee_unpaid_cny[90:].sum() > 0
    loans = model.book.loans
    assert not loans.covered[loans.orig_day >= 90].any()  # new loans are not covered


def test_borrowers_stop_paying_a_platform_in_trouble():
    missed = {}
    for strike in [1.0, 4.0]:
        model = P2PMarket(RESERVE, rng=4, stress__funding_freeze_month=2,
                          stress__strike_hazard_multiplier=strike, **SHORT)
        frame = _frame(model)
        assert model.risk_tables.strike_multiplier[0] == strike
        missed[strike] = (frame.missed_payments[:60].sum(), frame.missed_payments[60:].sum())
    assert missed[1.0][0] == missed[4.0][0]  # the same market until the trouble starts
    assert missed[4.0][1] > 2.5 * missed[1.0][1]


def test_stress_hits_only_the_platforms_named():
    model = P2PMarket(SCENARIOS / "two_platforms.toml", rng=5, run__horizon_days=90,
                      stress__funding_freeze_month=1, stress__platforms=["fast"])
    model.run(31)
    frozen = [p.frozen for p in model.platforms]
    assert [p.name for p in model.platforms] == ["steady", "fast"] and frozen == [False, True]
    with pytest.raises(ScenarioError, match="stress.platforms names no such platform"):
        load_scenario(SCENARIOS / "two_platforms.toml", {"stress.platforms": ["gamma"]})
    with pytest.raises(ScenarioError, match="hazard_multiplier"):
        load_scenario(RESERVE, {"stress.recession": [{"start_month": 1, "months": 2}]})


@pytest.mark.slow
def test_stress_scenarios_balance_and_show_their_mechanism():
    runs = {}
    for path in sorted((SCENARIOS / "stress").glob("*.toml")):
        model = P2PMarket(path, audit="full")
        runs[path.stem] = (model, _frame(model))
        assert model.ledger.total() == 0
    year2 = slice(360, 720)
    assert runs["recession_x3"][1].defaults[year2].sum() > runs["recession_x2"][1].defaults[year2].sum()
    model, frame = runs["funding_freeze"]
    assert frame.volume_cny[360:].sum() == 0 and frame.guarantee_payout_cny[360:].sum() > 0
    strike = runs["borrower_strike"][1]
    calm = _frame(P2PMarket(SCENARIOS / "stress" / "borrower_strike.toml", audit="off",
                            stress__strike_hazard_multiplier=1.0))
    assert strike.missed_payments[:360].sum() == calm.missed_payments[:360].sum()
    after = slice(360, 540)  # the six months after the freeze, before the book has run down
    assert strike.missed_payments[after].sum() > 2 * calm.missed_payments[after].sum()
    model, frame = runs["guarantor_fails"]
    assert model.platforms[0].guarantee.failed_day == 360
    assert frame.guarantee_payout_cny[360:].sum() == 0 and frame.investor_loss_cny[360:].sum() > 0
