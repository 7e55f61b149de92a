"""The industry run (issue 12).

Contagion reaches only the platforms it can, the background hazard alone when every channel is off,
the ledger to the fen across the industry, bad input refused.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.industry.channels import REQUEST_CHANNELS
from sim.industry.config import CHANNELS
from sim.industry.kernels import allocate
from sim.industry.market import IndustryMarket
from sim.industry.states import FAILED
from sim.ledger import LedgerError

from .conftest import ROOT

THUNDERSTORM = ROOT / "scenarios" / "thunderstorm_2018.toml"
SMALL = {"industry.platforms": 120, "industry.investors": 8000}
ALL_OFF = {f"channels.{c}.enabled": False for c in CHANNELS}


def _collapse_first_day(**overrides) -> dict:
    return {**SMALL, "run.months": 3, **ALL_OFF, **overrides,
            "events": [{"month": "2017-01", "kind": "collapse", "platforms": [0]}]}


def test_a_failure_raises_withdrawals_where_its_investors_also_hold_money_and_nowhere_else():
    sizes = {"industry.platforms": 200, "industry.investors": 600,
             "channels.shared_investors.enabled": True}
    collapse = [{"month": "2017-01", "kind": "collapse", "class": "all", "largest": 1}]
    quiet = IndustryMarket(THUNDERSTORM, **{**_collapse_first_day(**sizes), "events": []})
    shaken = IndustryMarket(THUNDERSTORM, **{**_collapse_first_day(**sizes), "events": collapse})
    quiet.step()
    shaken.step()
    failed = np.flatnonzero((shaken.state == FAILED) & (quiet.state != FAILED))
    assert len(failed) == 1
    extra = shaken.requests.recent.sum(axis=0) - quiet.requests.recent.sum(axis=0)
    pos = shaken.positions
    hit_anyway = np.isin(pos.investor, pos.investor[(quiet.state == FAILED)[pos.platform]])
    theirs = np.isin(pos.investor, pos.investor[pos.platform == failed[0]]) & ~hit_anyway
    shared = np.bincount(pos.platform[theirs], minlength=200) > 0
    held = np.bincount(pos.platform[theirs], pos.balance_fen[theirs], 200)
    shared[failed] = False
    none = ~shared & (shaken.state != FAILED)
    assert shared.sum() >= 3 and none.sum() >= 3  # both kinds of platform exist
    assert (extra[shared & (held >= 1000)] > 0).all()
    assert (extra[none] == 0).all()
    assert extra[shared].sum() == pytest.approx(0.3 * held[shared].sum(), rel=0.01)


def test_with_every_channel_off_only_the_calibrated_background_hazard_fails_platforms():
    model = IndustryMarket(THUNDERSTORM, **{"industry.platforms": 400, "industry.investors": 20000,
                                            **ALL_OFF})
    model.run()
    causes = pd.Series(model.cause[model.state == FAILED]).value_counts().to_dict()
    named = sum(len(e.platforms) + e.largest for e in model.config.events
                if e.kind in ("collapse", "investigation"))
    assert set(causes) <= {0, 2}, causes  # background and the scenario's named events only
    assert causes.get(2, 0) == named
    observed, expected = causes.get(0, 0), model.expected_background
    assert expected > 50
    assert abs(observed - expected) < 3 * np.sqrt(expected), (observed, expected)
    assert model.tracker.frame().co_debt_losses_cny.sum() == 0


def test_the_ledger_balances_to_the_fen_across_the_industry_every_day():
    model = IndustryMarket(THUNDERSTORM, audit=True, **SMALL)  # audit: check() after each day
    model.run()
    model.check()
    assert (model.state == FAILED).sum() > 10
    journal = model.ledger.journal()
    assert journal.amount_fen.sum() > 0
    into_world = journal[journal.target == "world"].amount_fen.sum()
    out_of_world = journal[journal.source == "world"].amount_fen.sum()
    held = sum(int(a.sum()) for a in model.ledger.accounts.values())
    assert out_of_world - into_world == held  # what came in is held or went back out, to the fen


def test_a_posting_that_would_overdraw_a_platform_is_refused():
    model = IndustryMarket(THUNDERSTORM, **{**SMALL, "run.months": 1})
    amounts = np.zeros(120, dtype=np.int64)
    amounts[5] = model.ledger.accounts["platform_cash"][5] + 1
    with pytest.raises(LedgerError, match="platform 5"):
        model.ledger.post("platform_cash", "world", amounts, "test")


def test_borrowers_who_owe_elsewhere_stop_paying_there_when_one_platform_collapses():
    def losses(enabled):
        model = IndustryMarket(THUNDERSTORM, **_collapse_first_day(**{
            "channels.co_debt.enabled": enabled, "channels.co_debt.stop_probability": 1.0,
            "channels.co_debt.share_of_loans": 0.5}))
        model.run()
        return model.tracker.frame().co_debt_losses_cny.sum(), model.stopped.sum()
    assert losses(False) == (0, 0)
    lost, stopped = losses(True)
    assert lost > 0 and stopped > 0


def test_the_same_seed_gives_the_same_industry_bit_for_bit():
    one = IndustryMarket(THUNDERSTORM, **{**SMALL, "run.months": 12})
    two = IndustryMarket(THUNDERSTORM, **{**SMALL, "run.months": 12})
    one.run()
    two.run()
    pd.testing.assert_frame_equal(one.tracker.frame(), two.tracker.frame())
    other = IndustryMarket(THUNDERSTORM, rng=7, **{**SMALL, "run.months": 12})
    other.run()
    assert not one.tracker.frame().equals(other.tracker.frame())


@pytest.mark.parametrize("policy, check", [
    ("policies.custody_mandate", lambda m, f: (m.failure_type[m.state == FAILED] != 1).all()),
    ("policies.orderly_exit", lambda m, f: m.ledger.flows(0, "absconded") == 0 and all(
        m.ledger.flows(k, "absconded") == 0 for k in range(12))),
])
def test_policies_do_what_they_say(policy, check):
    model = IndustryMarket(THUNDERSTORM, **{**SMALL, "run.months": 12, policy: True,
                                            "events": [{"month": "2017-01", "kind": "collapse",
                                                        "platforms": [0, 1, 2, 3]}]})
    model.run()
    assert (model.state == FAILED).sum() >= 4
    assert check(model, model.tracker.frame())


def test_a_redemption_gate_caps_what_investors_can_ask_a_day():
    model = IndustryMarket(THUNDERSTORM, **_collapse_first_day(**{
        "policies.redemption_gate_daily": 0.001, "channels.shared_investors.enabled": True,
        "channels.shared_investors.pull_share": 1.0}))
    money = model.money_fen().astype(float)
    model.step()
    asked = model.requests.recent.sum(axis=0)
    assert (asked[1:] <= 0.001 * 1.01 * money[1:] + 1).all()  # money grows by the day's deposits
    assert asked[1:].sum() > 0.0009 * money[1:].sum()  # the pull asked for more than the gate


def test_allocation_adds_up_to_the_fen_and_never_pays_a_position_more_than_it_asked():
    rng = np.random.default_rng(3)
    weights = rng.integers(0, 10**9, 5000).astype(np.int64)
    weights[::7] = 0
    group_start = np.array([0, 1000, 1000, 3000, 5000])
    totals = np.add.reduceat(weights, [0, 1000, 3000])
    amounts = np.array([totals[0], 5, totals[1] // 3, totals[2] - 1], dtype=np.int64)
    amounts[1] = 0  # an empty platform gets nothing
    parts = allocate(group_start, weights, amounts, True)
    assert (parts <= weights).all() and (parts >= 0).all()
    sums = [parts[0:1000].sum(), parts[1000:3000].sum(), parts[3000:].sum()]
    assert sums == [amounts[0], amounts[2], amounts[3]]
    gains = allocate(group_start, weights, np.array([7, 0, 10**14, 3]), False)
    assert gains[1000:3000].sum() == 10**14 and gains[:1000].sum() == 7


BAD = [
    ("model shares", "[industry.model_shares]\npure_intermediary = 0.5\nfund_pool = 0.4\n",
     "industry.model_shares", "add up to 0.9"),
    ("unknown class", '[[events]]\nmonth = "2018-06"\nkind = "tighten"\nclass = "p2b"\n',
     "events[0].class", "unknown class of platforms 'p2b'"),
    ("unknown channel", "[channels.rumours]\nenabled = true\n", "channels.rumours",
     "allowed here: shared_investors, network, sentiment, regulators, co_debt"),
    ("event before the run", '[[events]]\nmonth = "2016-01"\nkind = "ban"\n', "events[0].month",
     "before the run starts"),
]


@pytest.mark.parametrize("what, text, key, message", BAD, ids=[b[0] for b in BAD])
def test_bad_industry_input_names_the_key_exits_2_and_writes_nothing(tmp_path, capsys, what, text,
                                                                      key, message):
    scenario = tmp_path / "bad.toml"
    scenario.write_text('[run]\nname = "bad"\nmonths = 12\n' + text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["industry", str(scenario), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(scenario) in err and key in err and message in err, err
    assert "Traceback" not in err and not out.exists()


def test_a_platform_table_that_does_not_add_up_is_refused(tmp_path, capsys):
    table = pd.read_csv(ROOT / "data" / "wdzj_platforms.csv").head(20)
    table.loc[3, "outstanding_cny"] = -5.0
    table.to_csv(tmp_path / "platforms.csv", index=False)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[industry]\nplatforms_file = "platforms.csv"\n', encoding="utf-8")
    assert main(["industry", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "industry.platforms_file" in err and "row 5" in err and "outstanding_cny" in err, err
    table.drop(columns=["investors"]).to_csv(tmp_path / "platforms.csv", index=False)
    assert main(["industry", str(scenario), "--quiet"]) == 2
    assert "lacks the columns investors" in capsys.readouterr().err


def test_the_command_writes_the_trackers_tables_and_the_wave(tmp_path, capsys):
    out = tmp_path / "wave"
    assert main(["industry", str(THUNDERSTORM), "--out", str(out), "--quiet",
                 "--set", "industry.platforms=80", "--set", "industry.investors=3000"]) == 0
    monthly = pd.read_csv(out / "monthly.csv")
    assert len(monthly) == 36 and monthly.month.iloc[-1] == "2019-12"
    for column in ("new_跑路", "new_fund_pool", "volume_cny", "outstanding_cny", "active_investors",
                   "net_inflow_cny", "losses_cny", "recoveries_cny",
                   *[f"asked_{c}_cny" for c in REQUEST_CHANNELS]):
        assert column in monthly
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["failed"] == (pd.read_csv(out / "platforms.csv").state == "failed").sum()
    assert abs(sum(summary["damage_share"].values()) - 1) < 1e-9
    assert (out / "wave.png").stat().st_size > 10_000
    assert "new problem platforms" in capsys.readouterr().out
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Industry: thunderstorm_2018" in page and "data:image/png;base64" in page
    assert "[channels.co_debt]" in page  # the scenario as run


def test_an_experiment_gives_the_same_numbers_on_one_worker_or_two(tmp_path):
    from sim.industry.experiment import run_experiment

    spec = tmp_path / "exp.toml"
    spec.write_text(f"""
[experiment]
name = "tiny"
scenario = "{THUNDERSTORM.as_posix()}"
replications = 2
set = {{ "industry.platforms" = 60, "industry.investors" = 2000, "run.months" = 20 }}

[[variants]]
name = "all"

[[variants]]
name = "no sentiment"
set = {{ "channels.sentiment.enabled" = false }}
""", encoding="utf-8")
    one = run_experiment(spec, tmp_path / "one", workers=1)
    two = run_experiment(spec, tmp_path / "two", workers=2)
    pd.testing.assert_frame_equal(one["runs"], two["runs"])
    summary = pd.read_csv(tmp_path / "one" / "summary.csv")
    assert list(summary.variant) == ["all", "no sentiment"]
    assert summary.failed_vs_first.iloc[0] == 0
    assert main(["report", str(tmp_path / "one")]) == 0
    assert "no sentiment" in (tmp_path / "one" / "report.html").read_text(encoding="utf-8")


def test_an_experiment_with_a_bad_variant_stops_before_any_run(tmp_path, capsys):
    spec = tmp_path / "exp.toml"
    spec.write_text(f"""
[experiment]
name = "bad"
scenario = "{THUNDERSTORM.as_posix()}"

[[variants]]
name = "fine"

[[variants]]
name = "typo"
set = {{ "channels.rumours.enabled" = false }}
""", encoding="utf-8")
    assert main(["industry", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "variants[1] (typo)" in err and "channels.rumours" in err and "allowed here" in err, err
    assert not (tmp_path / "out").exists()


def test_a_market_scenario_and_an_industry_scenario_each_name_their_command(capsys):
    assert main(["industry", str(ROOT / "scenarios" / "baseline.toml"), "--quiet"]) == 2
    assert "run it with `p2psim run" in capsys.readouterr().err
    assert main(["run", str(THUNDERSTORM), "--quiet"]) == 2
    assert "run it with `p2psim industry" in capsys.readouterr().err
