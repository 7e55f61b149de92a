"""The industry's parts: the hazard, platforms drawn from the data, positions, keyed draws, kernels.

The calibrated hazard, platforms drawn from the data, investors' sparse positions, keyed draws, and
the kernels that split a platform's money among its investors.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.agents.positions import Positions, draw_positions
from sim.industry import draw_industry, load_hazard
from sim.industry.hazard import HAZARD_FILE, OWNER_TYPES
from sim.industry.population import BUSINESS_MODELS, PLATFORMS_FILE
from sim.kernels.positions import ask_deposit_settle, request, settle, share
from sim.randomness import keyed_normals, keyed_uniforms

from .conftest import ROOT


def test_the_shipped_hazard_and_platform_table_are_the_calibration_s():
    done = subprocess.run([sys.executable, "calibration/industry_hazard.py", "--check"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_shipped_moments_and_launches_are_the_data_s():
    done = subprocess.run([sys.executable, "calibration/wave_moments.py", "--check"], cwd=ROOT,
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
    share_ = np.bincount(kinds, minlength=5) / len(kinds)
    assert share_ == pytest.approx(hazard.failure_types["2016"], abs=0.01)


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
    assert np.all(np.diff(positions.platform) >= 0)  # a platform's positions are one slice
    by_loop = np.array([positions.balance_fen[positions.platform == p].sum()
                        for p in range(positions.platforms)])
    assert np.array_equal(positions.platform_totals_fen(), by_loop)
    some = np.array([3, 17, 49_999])
    rows = positions.rows_of_investors(some)
    assert sorted(rows.tolist()) == np.flatnonzero(np.isin(positions.investor, some)).tolist()


def test_the_investors_a_failure_touches_are_those_with_money_there():
    # investors 0-1 on platforms 0 and 1; investor 2 on platforms 1 and 2; investor 3 on 3 alone
    positions = Positions(investor=np.array([0, 0, 1, 1, 2, 2, 3]),
                          platform=np.array([0, 1, 0, 1, 1, 2, 3], dtype=np.int32),
                          balance_fen=np.array([100, 200, 300, 400, 500, 600, 700]),
                          investors=4, platforms=4)
    assert positions.investors_on(np.array([True, False, False, False])).tolist() == [
        True, True, False, False]
    assert sorted(positions.platform[positions.rows_of_investors(np.array([0, 1]))].tolist()) == [
        0, 0, 1, 1]


def test_keyed_draws_depend_only_on_their_key_and_coordinates():
    a = keyed_uniforms(7, np.arange(1000), 5)
    assert np.array_equal(a, keyed_uniforms(7, np.arange(1000), 5))
    assert np.array_equal(a[100:200], keyed_uniforms(7, np.arange(100, 200), 5))  # no stream
    assert not np.array_equal(a, keyed_uniforms(8, np.arange(1000), 5))
    assert not np.array_equal(a, keyed_uniforms(7, np.arange(1000), 6))
    many = keyed_uniforms(1, np.arange(200_000), 3)
    from scipy import stats
    assert stats.kstest(many, "uniform").pvalue > 0.001
    assert abs(np.corrcoef(many[:-1], many[1:])[0, 1]) < 0.01  # consecutive counters unrelated
    normals = keyed_normals(2, np.arange(200_000))
    assert stats.kstest(normals, "norm").pvalue > 0.001


def _groups(sizes):
    return np.concatenate([[0], np.cumsum(sizes)])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.data())
def test_settling_pays_the_oldest_first_a_day_pro_rata_and_adds_up(sizes, data):
    group_start = _groups(sizes)
    n = int(group_start[-1])
    balance = np.array(data.draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)),
                       dtype=np.int64)
    queued = np.array([data.draw(st.integers(0, int(b))) for b in balance], dtype=np.int64)
    since = np.where(queued > 0, np.array(data.draw(st.lists(st.integers(0, 3), min_size=n,
                                                             max_size=n)), dtype=np.int32), -1)
    cash = np.array(data.draw(st.lists(st.integers(0, 3 * 10**9), min_size=len(sizes),
                                       max_size=len(sizes))), dtype=np.int64)
    lending = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    before_balance, before_queued, before_since = balance.copy(), queued.copy(), since.copy()
    paid, left, idle = settle(group_start, balance, queued, since, cash, np.ones(len(sizes), bool),
                              lending, np.zeros(len(sizes), bool))
    parts = before_queued - queued
    for g in range(len(sizes)):
        mine = slice(group_start[g], group_start[g + 1])
        owed = before_queued[mine].sum()
        assert paid[g] == min(cash[g], owed) == parts[mine].sum()
        assert left[g] == owed - paid[g]
        assert idle[g] == parts[mine][~lending[mine]].sum()  # what the stopped ones were paid
        if 0 < paid[g] < owed:  # every earlier day is paid in full before a later day gets a fen
            days = before_since[mine]
            for day in np.unique(days[days >= 0]):
                short = (parts[mine] < before_queued[mine]) & (days == day)
                if short.any():
                    assert (parts[mine][days > day] == 0).all()
    assert (parts >= 0).all() and (parts <= before_queued).all()
    assert np.array_equal(before_balance - balance, parts)
    assert ((queued == 0) == (since == -1)).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.data())
def test_sharing_gains_and_losses_adds_up_to_the_fen_and_takes_no_one_below_zero(sizes, data):
    group_start = _groups(sizes)
    n = int(group_start[-1])
    balance = np.array(data.draw(st.lists(st.integers(0, 10**10), min_size=n, max_size=n)),
                       dtype=np.int64)
    queued = np.array([data.draw(st.integers(0, int(b))) for b in balance], dtype=np.int64)
    totals = np.array([balance[group_start[g]:group_start[g + 1]].sum()
                       for g in range(len(sizes))], dtype=np.int64)
    gain = np.array(data.draw(st.lists(st.integers(0, 10**10), min_size=len(sizes),
                                       max_size=len(sizes))), dtype=np.int64)
    loss = np.array([data.draw(st.integers(0, int(t) + int(g))) for t, g in zip(totals, gain)],
                    dtype=np.int64)
    before = balance.copy()
    share(group_start, balance, queued, gain, loss)
    for g in range(len(sizes)):
        mine = slice(group_start[g], group_start[g + 1])
        moved = balance[mine].sum() - before[mine].sum()
        expected = gain[g] - loss[g] if totals[g] > 0 else 0
        assert moved == expected
    assert (balance >= 0).all() and (queued <= balance).all()


def test_requests_queue_a_share_of_what_is_not_yet_asked_for():
    group_start = _groups([2, 1])
    balance = np.array([1000, 3000, 50], dtype=np.int64)
    queued = np.array([400, 0, 0], dtype=np.int64)
    since = np.array([3, -1, -1], dtype=np.int32)
    asked = request(group_start, balance, queued, since, np.array([0.5, 0.0]), 9)
    assert asked.tolist() == [300 + 1500, 0] and queued.tolist() == [700, 1500, 0]
    assert since.tolist() == [3, 9, -1]  # a request waits from its oldest part
    deciding = np.array([True, True, True])  # a decision asks only where nobody waits already
    asked = request(group_start, balance, queued, since, np.array([1.0, 1.0]), 10, deciding)
    assert asked.tolist() == [0, 50] and queued.tolist() == [700, 1500, 50]


def test_a_request_is_paid_from_its_own_cash_first_then_oldest_first():
    """Own cash first (all but fund pools): a runner's old request does not hold up a new one.

    Two positions of 1,000 fen each on a platform with 300 fen of cash (150 each): the first asked
    800 on day 1, the second 100 on day 2. Oldest first pays the first 300; own cash first pays
    the second its 100 from its own 150, then the first its own 150 and the 50 left.
    """
    group_start = np.array([0, 2])
    for own_first, expected in [(False, [500, 100]), (True, [600, 0])]:
        balance = np.array([1000, 1000], dtype=np.int64)
        queued = np.array([800, 100], dtype=np.int64)
        since = np.array([1, 2], dtype=np.int32)
        paid, left, _ = settle(group_start, balance, queued, since, np.array([300]),
                               np.array([True]), np.array([False, True]), np.array([own_first]))
        assert paid.tolist() == [300] and left.tolist() == [600]
        assert queued.tolist() == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.data())
def test_one_pass_asks_deposits_and_pays_as_the_three_steps_in_turn(sizes, data):
    """The day's pass equals asking, then new money, then paying from cash plus the new money."""
    group_start = _groups(sizes)
    n, m = int(group_start[-1]), len(sizes)
    balance = np.array(data.draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)),
                       dtype=np.int64)
    queued = np.array([data.draw(st.integers(0, int(b))) for b in balance], dtype=np.int64)
    since = np.where(queued > 0, 2, -1).astype(np.int32)
    lending = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    fractions = st.lists(st.sampled_from([0.0, 0.003, 0.25, 1.0]), min_size=m, max_size=m)
    share_, rate = np.array(data.draw(fractions)), np.array(data.draw(fractions)) / 10
    cash = np.array(data.draw(st.lists(st.integers(0, 3 * 10**9), min_size=m, max_size=m)),
                    dtype=np.int64)
    paying = np.array(data.draw(st.lists(st.booleans(), min_size=m, max_size=m)), dtype=bool)
    b, q, s = balance.copy(), queued.copy(), since.copy()
    asked = request(group_start, b, q, s, share_, 5)
    platform = np.repeat(np.arange(m), sizes)
    new = np.where(lending, np.floor(b * rate[platform]), 0).astype(np.int64)
    b += new
    added = np.bincount(platform, new, minlength=m).astype(np.int64)
    own_first = np.array(data.draw(st.lists(st.booleans(), min_size=m, max_size=m)), dtype=bool)
    expected = (asked, added, *settle(group_start, b, q, s, cash + added, paying, lending,
                                      own_first))
    got = ask_deposit_settle(group_start, balance, queued, since, lending, share_, rate, cash,
                             paying, own_first, 5)
    for mine, theirs in zip(got, expected, strict=True):
        assert np.array_equal(mine, theirs)
    assert np.array_equal(balance, b) and np.array_equal(queued, q) and np.array_equal(since, s)
