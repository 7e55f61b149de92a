"""The industry's parts so far (issue 12).

The calibrated background hazard, platforms drawn from the data, investors' sparse positions
across platforms and the shared-investor channel.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.industry import draw_industry, draw_positions, load_hazard
from sim.industry.hazard import HAZARD_FILE, OWNER_TYPES
from sim.industry.population import BUSINESS_MODELS, PLATFORMS_FILE
from sim.industry.positions import Positions

from .conftest import ROOT


def test_the_shipped_hazard_and_platform_table_are_the_calibration_s():
    done = subprocess.run([sys.executable, "calibration/industry_hazard.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_calibrated_hazard_reproduces_the_problems_of_every_period_and_class():
    fitted = json.loads(HAZARD_FILE.read_text(encoding="utf-8"))
    for table in ("by period", "cohort by owner type", "cohort by capital"):
        for cell in fitted["quality"][table]:
            assert abs(cell["z"]) < 2, (table, cell)
    counts = fitted["counts"]
    assert counts["exact_problems"] + counts["wave_problems"] == sum(
        c["observed"] for c in fitted["quality"]["by period"])
    types = fitted["failure_types"]
    assert all(sum(shares.values()) == pytest.approx(1, abs=1e-3) for shares in types.values())


def test_a_platform_s_hazard_is_the_sum_of_its_effects():
    hazard = load_hazard()
    fitted = json.loads(HAZARD_FILE.read_text(encoding="utf-8"))
    one, two = fitted["stage_one"], fitted["stage_two"]
    expected = np.exp(one["age 12-23"]["estimate"] + one["period 2017H1"]["estimate"]
                      + one["province 上海"]["estimate"] + two["owner listed"]["estimate"]
                      + two["capital 50-100M"]["estimate"])
    got = hazard.monthly(np.array([15]), "2017H1", np.array([hazard.provinces.index("上海")]),
                         np.array([OWNER_TYPES.index("listed")]), np.array([60e6]))
    assert got[0] == pytest.approx(expected)
    rng = np.random.default_rng(0)
    kinds = hazard.failure_type("2016", 20_000, rng)
    share = np.bincount(kinds, minlength=5) / len(kinds)
    assert share == pytest.approx(hazard.failure_types["2016"], abs=0.01)


def test_an_industry_is_drawn_from_the_reporting_platforms_with_the_scenario_s_shares():
    hazard = load_hazard()
    pool = pd.read_csv(PLATFORMS_FILE)
    shares = {"pure_intermediary": 0.5, "fund_pool": 0.5}
    industry = draw_industry(4000, np.random.default_rng(3), hazard.provinces, model_shares=shares)
    assert len(industry) == 4000 and set(industry.source_id) <= set(pool.wdzj_id)
    drawn = np.bincount(industry.business_model, minlength=5) / 4000
    assert drawn[BUSINESS_MODELS.index("fund_pool")] == pytest.approx(0.5, abs=0.03)
    assert drawn[BUSINESS_MODELS.index("reserve_fund")] == 0
    private = pool.owner_type.eq("private").mean()
    assert np.mean(industry.owner == OWNER_TYPES.index("private")) == pytest.approx(private,
                                                                                    abs=0.03)
    assert industry.table().owner.isin(OWNER_TYPES).all()


def test_positions_are_sparse_pairs_most_on_one_to_three_platforms_with_a_tail():
    weight = np.random.default_rng(1).pareto(1.2, 300) + 1  # a few large platforms
    positions = draw_positions(50_000, weight, np.random.default_rng(2), mean_platforms=2.3)
    each = positions.platforms_per_investor()
    assert len(positions) == each.sum() < 3 * 50_000  # pairs, not 50,000 x 300 cells
    assert each.min() >= 1 and each.mean() == pytest.approx(2.3, rel=0.03)
    assert np.mean(each <= 3) > 0.75 and each.max() >= 10
    pairs = positions.investor * positions.platforms + positions.platform
    assert len(np.unique(pairs)) == len(pairs)  # an investor holds a platform once
    assert np.all(np.diff(positions.investor) >= 0)
    by_loop = np.array([positions.balance_fen[positions.platform == p].sum()
                        for p in range(positions.platforms)])
    assert np.array_equal(positions.platform_totals_fen(), by_loop)


def test_a_failure_raises_withdrawals_only_where_its_investors_also_are():
    # investors 0-1 on platforms 0 and 1; investor 2 on platforms 1 and 2; investor 3 on 3 alone
    positions = Positions(investor=np.array([0, 0, 1, 1, 2, 2, 3]),
                          platform=np.array([0, 1, 0, 1, 1, 2, 3], dtype=np.int32),
                          balance_fen=np.array([100, 200, 300, 400, 500, 600, 700]),
                          investors=4, platforms=4)
    failed = np.array([True, False, False, False])
    asked = positions.shared_investor_withdrawals(failed, pull_share=0.5)
    assert asked.tolist() == [0, 300, 0, 0]  # half of investors 0 and 1's 200 + 400 on platform 1
    assert not positions.shared_investor_withdrawals(failed, pull_share=0.0).any()
    assert positions.investors_on(failed).tolist() == [True, True, False, False]


def test_background_failures_alone_match_the_calibrated_hazard():
    hazard = load_hazard()
    rng = np.random.default_rng(5)
    industry = draw_industry(3000, rng, hazard.provinces)
    age_days = np.full(3000, 400)  # 13 months old, in the 12-23 band for the whole year below
    operating = np.ones(3000, dtype=bool)
    for day in range(300):
        operating &= ~hazard.failures_today(age_days + day, "2017H1", industry.province,
                                            industry.owner, industry.registered_capital_cny,
                                            operating, rng)
    monthly = hazard.monthly(np.full(3000, 13), "2017H1", industry.province, industry.owner,
                             industry.registered_capital_cny)
    p = -np.expm1(-monthly * 10)  # ten months
    expected, sd = p.sum(), np.sqrt((p * (1 - p)).sum())
    assert abs((~operating).sum() - expected) < 3 * sd, ((~operating).sum(), expected, sd)
