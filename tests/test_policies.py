"""Policies: each built-in policy moves the market in the direction, and by the size, expected."""

from __future__ import annotations

import numpy as np
import pytest

from sim import P2PMarket
from sim.policies import PlatformState, PolicyContext, build

GRADES = ["A", "B", "C", "D", "E", "F", "G"]
# a risky market that lends a lot quickly: 5x the calibrated default hazards, cheap money everywhere
RISKY = {
    "borrowers__applications_per_day": 20.0,
    "investors__count": 2000,
    "investors__initial_cash_median_cny": 200000.0,
    "investors__bid_fraction": 0.05,
    "investors__target_rate_min": 0.0, "investors__target_rate_max": 0.0,
    "investors__max_grade_share": [0, 0, 0, 0, 0, 0, 1.0],
    "grades__default_hazard_monthly": [0.01, 0.02, 0.03, 0.035, 0.04, 0.05, 0.06],
    "platforms__0__operating_cost_monthly_cny": 0.0,
}


def context(**changes) -> PolicyContext:
    facts = dict(platform="p", grade_names=GRADES,
                 grade_rate=np.array([0.0765, 0.1094, 0.1316, 0.1486, 0.163, 0.1787, 0.1946]),
                 default_hazard_monthly=np.array([0.002, 0.004, 0.006, 0.007, 0.008, 0.012, 0.012]),
                 recovery_rate=np.full(7, 0.1), cure_probability=0.3, default_after_days=90)
    return PolicyContext(**(facts | changes))


def frame(model):
    return model.datacollector.get_model_vars_dataframe()


def loans_frame(model):
    return model.book.loans.frame()


# --------------------------------------------------------------------------- risk

def default_share(model) -> float:
    """Share of the loans lent in the run that defaulted or are 30+ days past due at the end."""
    loans = loans_frame(model)
    lent = loans[loans.orig_day >= 0]
    late = (lent.first_missed_day >= 0) & (model.day - lent.first_missed_day >= 30)
    return float(((lent.default_day >= 0) | late).mean())


def test_a_higher_score_cutoff_lowers_both_default_rate_and_volume():
    results = {}
    for cutoff in (300, 680, 740):
        model = P2PMarket(rng=5, audit="step", run__horizon_days=420, **RISKY,
                          platforms__0__risk={"policy": "scorecard", "approve_grades": GRADES,
                                              "min_score": cutoff})
        model.run()
        results[cutoff] = (frame(model).volume_cny.sum(), default_share(model))
    volumes = [results[c][0] for c in (300, 680, 740)]
    defaults = [results[c][1] for c in (300, 680, 740)]
    assert volumes[0] > volumes[1] > volumes[2] > 0
    assert defaults[0] > defaults[1] > defaults[2]
    assert defaults[0] - defaults[2] > 0.05  # a large effect, well beyond noise


def applicants(n=6, **columns):
    base = {"grade": np.zeros(n, np.int8), "score": np.full(n, 700, np.int16),
            "amount_fen": np.full(n, 5_000_000, np.int64), "term": np.full(n, 36, np.int16),
            "method": np.zeros(n, np.int8), "income_fen": np.full(n, 50_000_000, np.int64),
            "dti": np.zeros(n), "kind": np.zeros(n, np.int8),
            "debt_elsewhere_fen": np.zeros(n, np.int64)}
    return base | {k: np.asarray(v) for k, v in columns.items()}


def test_the_regulatory_caps_refuse_or_trim_by_person_and_company():
    ask = np.array([150_000, 250_000, 150_000, 900_000, 1_200_000, 900_000]) * 100
    kind = np.array([0, 0, 0, 1, 1, 1])
    elsewhere = np.array([0, 0, 900_000, 0, 0, 4_500_000]) * 100
    people = applicants(amount_fen=ask, kind=kind, debt_elsewhere_fen=elsewhere,
                        income_fen=np.full(6, 10**10))
    rates = np.full(6, 0.1)
    strict = build("risk", {"policy": "scorecard"}, context())
    approved, amount = strict.review(people, rates, PlatformState())
    # 200 k per person per platform, 1 M across; 1 M / 5 M for a company
    assert approved.tolist() == [True, False, False, True, False, False]
    trim = build("risk", {"policy": "scorecard", "cap_action": "trim"}, context())
    approved, amount = trim.review(people, rates, PlatformState())
    assert approved.all()
    assert (amount // 100).tolist() == [150_000, 200_000, 100_000, 900_000, 1_000_000, 500_000]


def test_income_multiple_and_dti_limits():
    policy = build("risk", {"policy": "scorecard", "max_income_multiple": 0.5, "max_dti": 30},
                   context())
    people = applicants(3, amount_fen=np.array([20_000, 30_000, 20_000]) * 100,
                        income_fen=np.array([50_000, 50_000, 50_000]) * 100,
                        dti=np.array([0.0, 0.0, 29.0]))
    approved, _ = policy.review(people, np.full(3, 0.1), PlatformState())
    assert approved.tolist() == [True, False, False]  # 0.6 x income; DTI over 30 % after the loan


def test_concentration_limit_closes_an_over_weight_grade_for_the_month():
    policy = build("risk", {"policy": "scorecard", "max_grade_share": 0.4}, context())
    state = PlatformState(outstanding_fen=100, outstanding_by_grade_fen=np.array([50, 30, 20, 0, 0, 0, 0]))
    policy.end_of_month(state)
    people = applicants(2, grade=np.array([0, 1], np.int8))
    approved, _ = policy.review(people, np.full(2, 0.1), state)
    assert approved.tolist() == [False, True]


def test_early_warning_tightens_when_recent_vintages_go_bad_and_relaxes_after():
    policy = build("risk", {"policy": "scorecard", "early_warning": True, "warning_bad_rate": 0.05,
                            "warning_step": 25, "warning_max_tightening": 50}, context())
    people = applicants(1, score=np.array([720]))
    for bad, expected in [(0.10, 25), (0.10, 50), (0.10, 50), (0.04, 50), (0.01, 25)]:
        policy.end_of_month(PlatformState(recent_bad_rate=bad))
        assert policy.tightening == expected
    approved, _ = build("risk", {"policy": "scorecard", "min_score": 700}, context()).review(
        people, np.full(1, 0.1), PlatformState())
    assert approved[0]
    policy.min_score[:] = 700
    assert not policy.review(people, np.full(1, 0.1), PlatformState())[0][0]  # 700 + 25 > 720


def test_early_warning_in_a_market_cuts_lending_after_bad_vintages():
    spec = {"policy": "scorecard", "approve_grades": GRADES, "early_warning": True, "min_score": 620,
            "warning_bad_rate": 0.02, "warning_step": 40, "warning_max_tightening": 120}
    runs = {}
    for warning in (False, True):
        model = P2PMarket(rng=8, audit="step", run__horizon_days=480, **RISKY,
                          platforms__0__risk=spec | {"early_warning": warning})
        model.run()
        data = frame(model)
        runs[warning] = data.volume_cny[data.day >= 240].sum()
        if warning:
            assert model.platforms[0].risk.tightening == 120
    assert runs[True] < 0.6 * runs[False]


def test_collection_intensity_raises_recovery_and_cure_and_costs_money():
    base = build("risk", {"policy": "scorecard"}, context())
    hard = build("risk", {"policy": "scorecard", "collection_intensity": 2.0,
                          "collection_cost_monthly_cny": 100.0}, context())
    recovery, cure = np.full(7, 0.1), np.full(7, 0.3)
    r1, c1, cost1 = base.collection(recovery, cure)
    r2, c2, cost2 = hard.collection(recovery, cure)
    assert np.allclose(r1, 0.1) and np.allclose(c1, 0.3) and cost1 == 0
    assert np.allclose(r2, 0.1 * 2 ** 0.5) and np.allclose(c2, 0.3 * 2 ** 0.3) and cost2 == 20000
    market = P2PMarket(rng=2, audit="full", run__horizon_days=300, **RISKY,
                       platforms__0__risk={"policy": "scorecard", "approve_grades": GRADES,
                                           "collection_intensity": 2.0,
                                           "collection_cost_monthly_cny": 100.0})
    market.run()
    journal = market.ledger.journal()
    assert journal[journal.memo == "collection_cost"].amount_fen.sum() > 0
    assert np.allclose(market.risk_tables.recovery_rate[0], np.minimum(
        np.asarray(market.config.grades.recovery_rate) * 2 ** 0.5, 0.95))


# --------------------------------------------------------------------------- pricing

def test_a_rate_cap_binds():
    policy = build("pricing", {"policy": "risk_based", "cost_of_funds": 0.1, "margin": 0.05,
                               "loss_loading": 3.0, "rate_cap": 0.24}, context())
    people = applicants(7, grade=np.arange(7, dtype=np.int8))
    rates = policy.price(people, PlatformState())
    uncapped = 0.15 + policy.expected_loss
    assert (uncapped[-2:] > 0.24).all() and uncapped[0] < 0.24
    assert np.allclose(rates, np.minimum(uncapped, 0.24))
    rejecting = build("pricing", {"policy": "risk_based", "cost_of_funds": 0.1, "margin": 0.05,
                                  "loss_loading": 3.0, "rate_cap": 0.24, "above_cap": "reject"},
                      context())
    rates = rejecting.price(people, PlatformState())
    assert np.isnan(rates[uncapped > 0.24]).all() and not np.isnan(rates[uncapped <= 0.24]).any()


def test_a_rate_cap_binds_in_the_market():
    pricing = {"policy": "grid", "spread": 0.10, "rate_cap": 0.20}
    model = P2PMarket(rng=4, audit="step", run__horizon_days=60, **RISKY,
                      borrowers__rate_tolerance_mean=1.0, platforms__0__pricing=pricing)
    model.run()
    rates = model.marketplace.listings.annual_rate[:len(model.marketplace.listings)]
    assert rates.max() == pytest.approx(0.20) and (rates <= 0.20).all()
    assert (rates == 0.20).mean() > 0.5  # grade rate + 10 points is above 20 % from grade B on
    rejecting = P2PMarket(rng=4, audit="step", run__horizon_days=60, **RISKY,
                          borrowers__rate_tolerance_mean=1.0,
                          platforms__0__pricing=pricing | {"above_cap": "reject"})
    rejecting.run()
    grades = rejecting.marketplace.listings.grade[:len(rejecting.marketplace.listings)]
    assert set(np.unique(grades)) <= {0}  # only grade A (7.65 % + 10) stays under 20 %


def test_risk_based_pricing_is_expected_loss_plus_cost_plus_margin():
    policy = build("pricing", {"policy": "risk_based", "cost_of_funds": 0.07, "margin": 0.02},
                   context())
    hazard = context().default_hazard_monthly
    expected = 0.09 + (1 - (1 - hazard) ** 12) * 0.9
    rates = policy.price(applicants(7, grade=np.arange(7, dtype=np.int8)), PlatformState())
    assert np.allclose(rates, expected)
    assert (np.diff(rates) >= 0).all()


def test_market_responsive_pricing_follows_the_fill_rate():
    policy = build("pricing", {"policy": "market_responsive", "step": 0.01, "max_spread": 0.02,
                               "min_spread": -0.01}, context())
    low = PlatformState(listings_closed=10, listings_funded=5, fill_rate=0.5, mean_days_to_fill=3)
    fast = PlatformState(listings_closed=10, listings_funded=10, fill_rate=1.0, mean_days_to_fill=1)
    moves = []
    for state in (low, low, low, fast, fast, fast, fast):
        policy.end_of_month(state)
        moves.append(round(policy.spread, 6))
    assert moves == [0.01, 0.02, 0.02, 0.01, 0.0, -0.01, -0.01]
    grade_a = applicants(1)
    assert policy.price(grade_a, fast)[0] == pytest.approx(0.0765 - 0.01)


def test_market_responsive_pricing_raises_rates_when_listings_fail():
    # investors want at least 12 %: most listings fail until the spread has risen
    settings = RISKY | {"investors__target_rate_min": 0.12, "investors__target_rate_max": 0.12}
    model = P2PMarket(rng=6, audit="step", run__horizon_days=300, **settings,
                      borrowers__rate_tolerance_mean=0.2,
                      platforms__0__pricing={"policy": "market_responsive", "step": 0.01})
    model.run()
    assert model.platforms[0].pricing.spread >= 0.04
    data = frame(model)
    early, late = data[data.day < 60], data[data.day >= 240]
    assert late.funded_listings.sum() / max(late.new_listings.sum(), 1) > \
        early.funded_listings.sum() / max(early.new_listings.sum(), 1)


def test_borrowers_and_investors_respond_to_the_rate_premium():
    runs = {}
    for spread in (0.0, 0.05):
        model = P2PMarket(rng=9, audit="step", run__horizon_days=240, **RISKY,
                          borrowers__rate_elasticity=0.1, investors__rate_elasticity=0.05,
                          borrowers__rate_tolerance_mean=1.0,
                          platforms__0__pricing={"policy": "grid", "spread": spread})
        model.run()
        journal = model.ledger.journal()
        runs[spread] = (frame(model).applications.sum(),
                        journal[journal.memo == "deposit"].amount_fen.sum())
    # 5 points above the market: applications fall to about exp(-0.5) = 61 %, deposits rise
    ratio = runs[0.05][0] / runs[0.0][0]
    assert 0.55 < ratio < 0.75
    assert runs[0.05][1] > runs[0.0][1]


def test_fees_monthly_service_fee_and_withdrawal_fee():
    settings = RISKY | {"platforms__0__service_fee": 0.005, "platforms__0__withdrawal_fee": 0.01,
                        "platforms__0__service_fee_timing": "monthly",
                        "investors__withdraw_share_monthly": 0.1}
    model = P2PMarket(rng=3, audit="full", run__horizon_days=200, **settings)
    model.run()
    journal = model.ledger.journal()
    fees = journal[journal.memo == "service_fee"]
    assert (fees.day % 30 != 0).any()  # paid on due dates, not only at disbursement
    loans = loans_frame(model)
    # each instalment settled pays 0.5 % of the original principal (rounded to the fen per loan)
    paid_instalments = loans.n_paid.clip(lower=0)
    opening = loans.orig_day < 0
    expected = (np.floor(loans.principal_fen * 0.005 + 0.5) * paid_instalments)[~opening].sum()
    assert fees.amount_fen.sum() == expected
    withdrawal = journal[journal.memo == "withdrawal"].amount_fen.sum()
    fee = journal[journal.memo == "withdrawal_fee"].amount_fen.sum()
    assert fee == pytest.approx(0.01 * (withdrawal + fee), rel=1e-3)


def test_every_built_in_policy_builds_with_its_defaults_and_is_documented():
    from sim.policies import FAMILIES, builtin_names

    from .conftest import ROOT

    docs = (ROOT / "docs" / "policies.md").read_text()
    for family in FAMILIES:
        names = builtin_names(family)
        assert names
        for name in names:
            needs = {"layers": [{"policy": "reserve_fund"}]} if name == "layered" else {}
            build(family, {"policy": name, **needs}, context())
            assert f"`{name}`" in docs, (family, name)
