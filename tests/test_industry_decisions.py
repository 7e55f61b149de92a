"""The industry's investors decide, money flies to quality, platforms enter (docs/industry.md).

Each mechanism by itself, the pooled positions deciding by the one trust and rule of ``[runs]``
(sim/runs/pooled.py): stopping reinvestment lowers active investors and new lending while the
balance runs off only as loans are repaid or written off; flight to quality moves money from weak
to strong platforms, conserved to the fen; entrants arrive at the calibrated rate; business models
depend on owner type. A queued redemption paid oldest first: tests/test_industry.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.industry.entrants import entry_rates
from sim.industry.investors import split_exactly
from sim.industry.population import BUSINESS_MODELS, draw_models, model_probabilities
from sim.industry.tracker import fate_table
from sim.kernels.positions import credit
from sim.ledger import Memo
from sim.model import P2PMarket
from sim.outputs.statistics import wave_measures
from sim.runs.contagion import REQUEST_REASONS
from sim.runs.rules import RULES, Decisions, ThresholdRule
from sim.runs.states import RunState
from sim.scenario.industry import CHANNELS, month_name

from .conftest import ROOT

THUNDERSTORM = ROOT / "scenarios" / "thunderstorm_2018.toml"
QUIET = {"industry.platforms": 100, "industry.investors": 6000, "industry.events": [],
         **{f"industry.channels.{c}.enabled": False for c in CHANNELS if c != "sentiment"},
         "industry.channels.sentiment.wear_multiplier": 0.0,
         "industry.channels.sentiment.impact": 0.0,
         "industry.channels.sentiment.news_per_failure": 0.0,
         "industry.channels.sentiment.decay_daily": 1.0,
         "industry.behaviour.withdrawal_daily": 0.0, "industry.behaviour.deposit_daily": 0.0}
"""A small industry where nothing but the mechanism under test moves money: no event, no channel
but a sentiment that stays where it is set and asks nothing itself, no ordinary flows."""


STILL = {"runs.recovery_daily": 0.0, "runs.threshold_sd": 0.0, "runs.herding_weight": 0.0,
         "runs.loss_weight": 0.0, "runs.late_weight": 0.0, "runs.disclosure_weight": 0.0,
         "runs.delay_weight_daily": 0.0, "runs.state_shock": 0.0}
"""Trust moves only where a test sets it: every news weight at zero, no recovery."""


def quiet(audit: str = "off", **overrides) -> P2PMarket:
    return P2PMarket(THUNDERSTORM, audit=audit, **{**QUIET, **STILL, "run.horizon_days": 150,
                                                   "runs.withdraw_below": 0.0,
                                                   "runs.stop_reinvest_margin": 0.5,
                                                   **overrides})


def _set_trust(model: P2PMarket, level: float, platforms=None) -> None:
    """The trust of the positions on ``platforms`` (bool per platform; default all) set to ``level``."""
    trust, pos = model.runs.pooled, model.industry.positions
    on = np.ones(len(pos), dtype=bool) if platforms is None else platforms[pos.platform]
    trust.level[on] = level


def _panic_from_day_60(model: P2PMarket, platforms=None) -> None:
    model.run(60)
    _set_trust(model, 0.3, platforms)  # below the rule's 0 + 0.5: they stop, none runs (< 0)
    model.run()


def test_one_rule_decides_for_pooled_positions_with_the_investors_own_thresholds():
    model = quiet(**{"runs.threshold_sd": 0.2, "runs.withdraw_below": 0.35,
                     "runs.stop_reinvest_margin": 0.15})
    trust, pos = model.runs.pooled, model.industry.positions
    assert trust.rule is not model.runs.rule and type(trust.rule) is type(model.runs.rule)
    threshold = trust.rule.threshold[pos.investor]
    decisions = trust.rule.decide(trust.level[:, None], pos.investor)
    assert np.array_equal(decisions.withdraw[:, 0], trust.level < threshold)
    assert np.array_equal(decisions.stop_reinvesting[:, 0],
                          trust.level < threshold + np.float32(0.15))
    two = np.flatnonzero(np.bincount(pos.investor) > 1)[0]  # one investor, two platforms
    mine = np.flatnonzero(pos.investor == two)
    assert len(set(trust.rule.threshold[pos.investor[mine]])) == 1


class _DecidesInNumPy(ThresholdRule):
    """The threshold rule written as a rule of one's own: no lines, decided through ``decide``."""

    def lines(self, rows=None):
        return None

    def decide(self, trust, rows=None):
        threshold = (self.threshold if rows is None else self.threshold[rows])[:, None]
        run = trust < threshold
        stop = trust < threshold + np.float32(self.config.stop_reinvest_margin)
        return Decisions(stop, run, run, run)


def test_the_compiled_pass_of_a_rule_of_lines_decides_as_its_decide_does(monkeypatch):
    """A rule of lines decided in the compiled pass gives what its decide() gives.

    The threshold rule read as lines, and the same rule written as a rule of one's own (through
    decide()), give the same run: trust, decisions, the monthly table.
    """
    monkeypatch.setitem(RULES, "threshold_in_numpy", _DecidesInNumPy)
    wave = {"industry.platforms": 60, "industry.investors": 4000, "run.horizon_days": 400,
            "runs.withdraw_below": 0.45, "industry.events": [
                {"month": "2017-03", "kind": "collapse", "class": "all", "largest": 3, "news": 0.5}]}
    compiled = P2PMarket(THUNDERSTORM, audit="off", **wave)
    numpy = P2PMarket(THUNDERSTORM, audit="off", **wave, **{"runs.rule": "threshold_in_numpy"})
    assert compiled.runs.pooled.lines is not None and numpy.runs.pooled.lines is None
    compiled.run()
    numpy.run()
    monthly = compiled.industry.tracker.frame()
    assert monthly.stopped_reinvesting.sum() > 0 and monthly.asked_ran_cny.sum() > 0
    pd.testing.assert_frame_equal(monthly, numpy.industry.tracker.frame())
    assert np.array_equal(compiled.runs.pooled.level, numpy.runs.pooled.level)
    assert np.array_equal(compiled.industry.positions.lending, numpy.industry.positions.lending)


def test_the_pooled_decisions_old_keys_are_refused_naming_what_replaced_them(tmp_path, capsys):
    from sim.cli import main

    code = main(["run", str(THUNDERSTORM), "--set", "industry.behaviour.stop_sensitivity=0.4",
                 "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == 2 and "stop_sensitivity" in error and "stop_reinvest_margin" in error
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("old, new", [
    ("industry.channels.shared_investors.pull_share=0.2", "trust_lost"),
    ("industry.channels.network.pull_share=0", "trust_lost"),
    ("industry.channels.sentiment.withdrawal_multiplier=5", "wear_multiplier"),
    ("industry.channels.co_debt.withdrawal_multiplier=0", "wear_multiplier")])
def test_the_channels_old_key_names_are_refused_naming_the_new_ones(tmp_path, capsys, old, new):
    from sim.cli import main

    code = main(["run", str(THUNDERSTORM), "--set", old, "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == 2 and old.split("=")[0].split(".")[-1] in error and f"renamed {new}" in error
    assert "Traceback" not in error and not (tmp_path / "out").exists()


def test_stopping_reinvestment_lowers_investors_and_lending_while_the_balance_only_runs_off():
    model = quiet()
    _panic_from_day_60(model)
    ind = model.industry
    monthly = ind.tracker.frame()
    assert monthly.active_investors[1] > 0.9 * 6000 and monthly.active_investors[2] == 0
    assert monthly.volume_cny[1] > 0 and monthly.volume_cny[3] == 0  # nothing lent again
    journal = model.ledger.journal(since_day=60)
    normal = [name for i, name in enumerate(ind.names) if ind.state[i] == RunState.NORMAL]
    claims = journal[journal.source.str.startswith("investor_claims:")
                     | journal.target.str.startswith("investor_claims:")]
    mine = claims[claims.source.str.split(":").str[1].isin(normal)
                  | claims.target.str.split(":").str[1].isin(normal)]
    into = mine[mine.target.str.startswith("investor_claims:")]
    out_of = mine[mine.source.str.startswith("investor_claims:")]
    assert into.amount_fen.sum() == 0  # no new loan on a platform whose investors stopped
    assert set(out_of.memo) <= {Memo.REPAYMENT_PRINCIPAL, Memo.DEFAULT_WRITE_OFF,
                                Memo.CLAIM_TO_GUARANTEE}  # or bought by a reserve (代偿)
    assert out_of.amount_fen.sum() > 0  # the balance runs off as loans are repaid or written off
    outstanding = monthly.outstanding_cny.to_numpy()
    assert 0.3 * outstanding[1] < outstanding[4] < outstanding[1]  # slowly: loans cannot be called
    assert monthly.asked_stopped_reinvesting_cny[2:].sum() > 0
    assert monthly.asked_ran_cny.sum() == 0  # nobody's trust is below their threshold


def test_investors_come_back_when_their_trust_is_back():
    model = quiet()
    model.run(60)
    _set_trust(model, 0.3)
    model.run(30)
    ind = model.industry
    normal = (ind.state == RunState.NORMAL)[ind.positions.platform]
    assert not ind.positions.lending[normal].any()
    _set_trust(model, 0.9)
    model.run()
    monthly = model.industry.tracker.frame()
    assert monthly.active_investors.iloc[-1] > 0.9 * monthly.active_investors[1]
    assert monthly.volume_cny.iloc[-1] > 0


def test_a_position_that_runs_asks_back_all_its_money_and_only_its_platform_is_asked():
    model = quiet(audit="full", **{"runs.withdraw_below": 0.5, "runs.stop_reinvest_margin": 0.1,
                                   "runs.trust_sd": 0.0})  # every anchor 0.8: nobody decides
    model.run(60)
    ind, pos = model.industry, model.industry.positions
    assert ind.requests.month[REQUEST_REASONS.index("ran")] == 0
    target = int(np.flatnonzero(ind.pooled & ind.operating & (ind.money_fen() > 0))[0])
    on = np.zeros(ind.n, dtype=bool)
    on[target] = True
    _set_trust(model, 0.2, on)
    mine = pos.platform == target
    free = int((pos.balance_fen - pos.queued_fen)[mine].sum())
    model.step()
    assert model.runs.pooled.running[mine].all() and not model.runs.pooled.running[~mine].any()
    assert not pos.lending[mine].any() and pos.lending[~mine & (pos.balance_fen > 0)].all()
    ran = ind.requests.recent[REQUEST_REASONS.index("ran")]
    assert ran[target] > 0.99 * free and (ran[~on] == 0).all()  # all its money, nobody else's


def test_at_zero_strength_the_decisions_change_nothing_to_the_fen():
    off = {"industry.platforms": 60, "industry.investors": 3000, "run.horizon_days": 300,
           "industry.events": [], "runs.enabled": False,
           "industry.behaviour.flight_share": 0.0, "industry.entrants.enabled": False}
    on = {**off, "runs.enabled": True, "runs.withdraw_below": 0.0, "runs.threshold_sd": 0.0,
          "runs.stop_reinvest_margin": 0.0,  # every trust is >= 0: nobody ever decides
          "industry.behaviour.quality_preference": 3.0, "industry.entrants.enabled": True,
          "industry.entrants.rate_multiplier": 0.0}  # switched on, at zero strength
    off, on = P2PMarket(THUNDERSTORM, audit="off", **off), P2PMarket(THUNDERSTORM, audit="off", **on)
    off.run()
    on.run()
    pd.testing.assert_frame_equal(off.industry.tracker.frame(), on.industry.tracker.frame())


def test_flight_to_quality_moves_money_from_weak_to_strong_platforms_conserved_to_the_fen():
    runs = {}
    for share in (0.0, 1.0):
        model = quiet(audit="full", **{"industry.behaviour.flight_share": share})
        ind = model.industry
        weak = ind.pooled & (ind.vulnerability >= np.median(ind.vulnerability[ind.pooled]))
        _panic_from_day_60(model, weak)  # the weak platforms' investors stop
        runs[share] = model
    ind = runs[1.0].industry
    strong = ind.pooled & (ind.vulnerability < np.median(ind.vulnerability[ind.pooled]))
    drawn = np.arange(ind.n) < ind.first_entrant  # an entrant lends on its opening day, then stops
    money = {share: m.industry.money_fen() for share, m in runs.items()}
    assert money[1.0][strong].sum() > money[0.0][strong].sum()
    monthly = ind.tracker.frame()
    assert monthly.redeposited_cny.sum() > 0
    journal = runs[1.0].ledger.journal()
    flown_to = journal[(journal.memo == Memo.FLIGHT_TO_QUALITY) & (journal.day > 60)]
    weak_names = {ind.names[p] for p in np.flatnonzero(~strong & drawn)}
    assert not set(flown_to.target.str.split(":").str[1]) & weak_names  # none to the stopped
    flown = journal[journal.memo == Memo.FLIGHT_TO_QUALITY].amount_fen.sum()
    paid = journal[journal.memo == Memo.WITHDRAWAL].amount_fen.sum()
    assert flown == round(monthly.redeposited_cny.sum() * 100)
    assert round(monthly.left_industry_cny.sum() * 100) == paid - flown  # the rest left, to the fen
    assert ind.positions.lending[np.isin(ind.positions.platform, np.flatnonzero(~strong))].mean() < \
        ind.positions.lending[np.isin(ind.positions.platform, np.flatnonzero(strong))].mean()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**12), st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8))
def test_flight_money_is_split_to_the_fen(total, weights):
    weight = np.array(weights)
    if weight.sum() == 0:
        return
    amount = split_exactly(total, weight / weight.sum())
    assert amount.sum() == total and (amount >= 0).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.data())
def test_credited_money_goes_to_the_lending_positions_pro_rata_to_the_fen(sizes, data):
    group_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(group_start[-1])
    balance = np.array(data.draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)),
                       dtype=np.int64)
    lending = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    amount = np.array(data.draw(st.lists(st.integers(0, 10**8), min_size=len(sizes),
                                         max_size=len(sizes))), dtype=np.int64)
    lending_money = np.add.reduceat(np.where(lending, balance, 0), group_start[:-1])
    amount = np.where(lending_money > 0, amount, 0)  # a platform with no lender is given nothing
    before = balance.copy()
    credit(group_start, balance, lending, amount)
    added = balance - before
    assert (added[~lending] == 0).all() and (added >= 0).all()
    assert np.array_equal(np.add.reduceat(added, group_start[:-1]), amount)


def test_entrants_arrive_at_the_calibrated_rate_over_a_long_run():
    overrides = {"industry.platforms": 3000, "industry.investors": 20000,
                 "industry.entrants.enabled": True, "industry.entrants.rate_multiplier": 3.0}
    model = P2PMarket(THUNDERSTORM, audit="off", **overrides)  # drawn once, when built
    ind = model.industry
    months = [month_name(ind.first_month + m) for m in range(36)]
    rates, _ = entry_rates(months)
    expected = 3000 * 3.0 * rates.sum()
    arrived = len(ind.entrant_month)
    assert expected > 500 and abs(arrived - expected) <= 3 * np.sqrt(expected)
    by_month = np.bincount(ind.entrant_month, minlength=36)
    assert by_month[months.index("2017-09")] > by_month[months.index("2018-05")]
    assert by_month[months.index("2018-09"):].sum() == 0  # none after the data's last launches


def test_entrants_open_small_and_young_in_their_month_with_their_investors_money():
    model = P2PMarket(THUNDERSTORM, audit="full", **{
        "industry.platforms": 150, "industry.investors": 10000, "run.horizon_days": 270,
        "industry.events": [], "industry.entrants.enabled": True,
        "industry.entrants.rate_multiplier": 4.0})
    ind = model.industry
    first = ind.first_entrant
    entrants = np.arange(ind.n) >= first
    assert not ind.launched[entrants].any() and ind.money_fen()[entrants].sum() == 0
    drawn_size = np.median(ind.platforms.investors[ind.detailed:first])
    assert np.median(ind.platforms.investors[entrants]) < 0.6 * drawn_size
    model.run()  # audit="full": every position against the ledger, every day
    opened = ind.launched[entrants]
    assert opened.all()
    assert (ind.platforms.launch_month[entrants] == ind.first_month + ind.entrant_month).all()
    monthly = ind.tracker.frame()
    assert monthly.entrants.sum() == len(ind.entrant_month)
    assert monthly.entrants_money_cny.sum() > 0
    fates = fate_table(ind)
    assert set(fates.fate) >= {"stayed healthy", "entrants"}
    by_month = fates.groupby("month", sort=False)[["volume_cny", "net_inflow_cny"]].sum()
    assert np.allclose(by_month.volume_cny, monthly.volume_cny.to_numpy())
    assert np.allclose(by_month.net_inflow_cny, monthly.net_inflow_cny.to_numpy())
    summed = fates.groupby("month", sort=False).investors_summed_over_platforms.sum()
    assert (summed.to_numpy() >= monthly.active_investors.to_numpy()).all()  # one name, one count
    assert "active_investors" not in fates.columns


def test_adding_entrants_moves_no_draw_of_the_other_platforms():
    base = {"industry.platforms": 80, "industry.investors": 4000, "run.horizon_days": 60,
            "industry.events": [], "industry.entrants.enabled": False}
    without = P2PMarket(THUNDERSTORM, audit="off", **base)
    with_ = P2PMarket(THUNDERSTORM, audit="off", **{**base, "industry.entrants.enabled": True,
                                                    "industry.entrants.rate_multiplier": 5.0})
    a, b = without.industry, with_.industry
    assert b.n > a.n
    for name in ("owner", "business_model", "custody", "launch_month", "investors"):
        assert np.array_equal(getattr(a.platforms, name), getattr(b.platforms, name)[: a.n])
    drawn = b.positions.platform < a.n
    assert np.array_equal(a.positions.balance_fen, b.positions.balance_fen[drawn])
    assert np.array_equal(a.positions.investor, b.positions.investor[drawn])


def test_a_listed_or_state_platform_is_seldom_a_fund_pool_and_the_shares_hold():
    rng = np.random.default_rng(5)
    owner = rng.integers(0, 4, 20000)
    volume = rng.lognormal(0, 1, 20000)
    shares = {"pure_intermediary": 0.15, "reserve_fund": 0.35, "guarantor_p2b": 0.25,
              "online_offline": 0.15, "fund_pool": 0.10}
    p = model_probabilities(owner, volume, shares)
    assert np.allclose(p.mean(axis=0), list(shares.values()), atol=1e-6)
    model = draw_models(owner, volume, shares, rng.random(20000))
    pool = BUSINESS_MODELS.index("fund_pool")
    share = {o: (model[owner == o] == pool).mean() for o in range(4)}
    listed, private, state = 0, 1, 2  # OWNER_TYPES order
    assert share[listed] < 0.35 * share[private] and share[state] < 0.35 * share[private]


def test_the_wave_is_measured_from_the_monthly_table():
    monthly = pd.DataFrame({"new_problem": [1, 2, 1, 3, 9, 4, 2, 1],
                            "volume_cny": [10, 10, 10, 10, 5, 3, 4, 5.0],
                            "outstanding_cny": [100, 100, 100, 100, 90, 60, 50, 50.0],
                            "active_investors": [50, 50, 50, 40, 30, 30, 20, 20]})
    wave = wave_measures(monthly)
    assert wave["peak_month"] == 4
    assert wave["volume_fall"] == 1 - 12 / 30
    assert wave["balance_fall"] == 1 - 50 / 100  # two months after the peak, the month before it
    assert wave["investors_fall"] == 1 - 20 / 40
