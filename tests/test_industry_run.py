"""An industry on the one engine: contagion, books to the fen, keyed draws, bad input.

Contagion reaches only what it can, the books balance to the fen across every platform, keyed draws
keep variants comparable, bad input is refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import strict_json
from sim.cli import main
from sim.industry.failures import CAUSES
from sim.kernels import DEFAULTED, NEVER_PAYS, PREPAID, REPAID
from sim.ledger import AccountKind, LedgerError, Memo
from sim.model import P2PMarket
from sim.runs.contagion import REQUEST_REASONS
from sim.runs.states import RunState
from sim.scenario.industry import CHANNELS

from .conftest import ROOT
from .test_scenarios import _summary_ties_to_the_books

THUNDERSTORM = ROOT / "scenarios" / "thunderstorm_2018.toml"
SMALL = {"industry.platforms": 120, "industry.investors": 8000}
ALL_OFF = {f"industry.channels.{c}.enabled": False for c in CHANNELS}
NO_EVENTS = {"industry.events": []}
WAVE = [{"month": "2017-06", "kind": "tighten", "class": "unregistered", "hazard_multiplier": 3.0},
        {"month": "2017-09", "kind": "collapse", "class": "fund_pool", "largest": 3, "news": 0.4},
        {"month": "2017-10", "kind": "investigation", "class": "private", "largest": 2},
        {"month": "2018-01", "kind": "ban", "class": "fund_pool"}]
"""The 2018 wave's events, earlier: so that a run of 600 days holds them all."""


def industry(**overrides) -> P2PMarket:
    """A small thunderstorm industry; a shortened run drops the scenario's events unless given."""
    shortened = "run.horizon_days" in overrides and "industry.events" not in overrides
    return P2PMarket(THUNDERSTORM, audit="off",
                     **{**SMALL, **(NO_EVENTS if shortened else {}), **overrides})


def _collapse_first_day(**overrides) -> dict:
    return {**SMALL, "run.horizon_days": 90, **ALL_OFF, **overrides,
            "industry.events": [{"month": "2017-01", "kind": "collapse", "platforms": [0]}]}


def test_the_books_balance_to_the_fen_across_every_platform_every_day():
    model = P2PMarket(THUNDERSTORM, audit="full", **{**SMALL, "run.horizon_days": 600,
                                                     "industry.events": WAVE})
    model.run()  # audit="full": the ledger, every loan, and every platform's positions, each day
    ind = model.industry
    assert (ind.state >= RunState.CLOSED).sum() > 10
    assert model.ledger.total() == 0
    journal = model.ledger.journal()
    into_world = journal[journal.target == "world"].amount_fen.sum()
    out_of_world = journal[journal.source == "world"].amount_fen.sum()
    held = sum(int(a.sum()) for a in model.ledger.accounts.values())
    assert out_of_world - into_world == held  # what came in is held or went back out, to the fen
    assert set(journal.memo) <= {str(m) for m in Memo}  # no memo typed as text
    loans = model.book.loans
    assert (loans.note_end == loans.note_start).all()  # pooled: no notes


def test_a_posting_that_would_overdraw_a_platform_is_refused():
    model = industry(**{"run.horizon_days": 30})
    amounts = np.zeros(model.ledger.platforms, dtype=np.int64)
    amounts[5] = model.ledger.accounts[AccountKind.PLATFORM_CASH][5] + 1
    with pytest.raises(LedgerError, match="platform_cash:industry-5"):
        model.ledger.post(AccountKind.PLATFORM_CASH, AccountKind.WORLD, amounts,
                          Memo.OPERATING_COST)


def test_a_failure_costs_trust_where_its_investors_also_hold_money_and_nowhere_else():
    """Shared investors (连锁挤兑): the failed platform's investors lose trust_lost of their trust.

    In every other open platform they hold, at once; nobody else loses any; the channel itself
    asks for no money (what they do is the decision rule's, from the next day).
    """
    sizes = {"industry.platforms": 200, "industry.investors": 600,
             "industry.channels.shared_investors.enabled": True}
    collapse = [{"month": "2017-01", "kind": "collapse", "class": "all", "largest": 1}]
    quiet = industry(**{**_collapse_first_day(**sizes), "industry.events": []})
    shaken = industry(**{**_collapse_first_day(**sizes), "industry.events": collapse})
    quiet.step()
    shaken.step()
    failed = np.flatnonzero((shaken.industry.problem_day == 0) & (quiet.industry.problem_day < 0))
    assert len(failed) == 1
    pos = shaken.industry.positions
    hit_anyway = np.isin(pos.investor, pos.investor[(quiet.industry.problem_day == 0)[pos.platform]])
    theirs = np.isin(pos.investor, pos.investor[pos.platform == failed[0]]) & ~hit_anyway
    elsewhere = theirs & shaken.industry.open_pooled[pos.platform]
    before, after = quiet.runs.pooled.level, shaken.runs.pooled.level
    assert elsewhere.sum() >= 3 and (~theirs).sum() >= 3  # both kinds of position exist
    assert np.array_equal(after[elsewhere], np.clip(before[elsewhere] - 0.3, 0.0, 1.0))
    assert np.array_equal(after[~theirs], before[~theirs])
    assert np.array_equal(shaken.industry.requests.recent, quiet.industry.requests.recent)


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_with_every_channel_off_only_the_calibrated_background_hazard_fails_platforms():
    model = industry(**{"industry.platforms": 400, "industry.investors": 20000, **ALL_OFF})
    model.run()
    ind = model.industry
    failed = ind.problem_day >= 0
    causes = pd.Series(ind.cause[failed]).value_counts().to_dict()
    named = sum(len(e.platforms) + e.largest for e in model.config.industry.events
                if e.kind in ("collapse", "investigation"))
    background = CAUSES.index("background")
    assert set(causes) <= {background, CAUSES.index("named"), CAUSES.index("run")}, causes
    assert causes.get(CAUSES.index("named"), 0) == named
    observed, expected = causes.get(background, 0), ind.expected_background
    assert expected > 50
    assert abs(observed - expected) < 3 * np.sqrt(expected), (observed, expected)
    assert ind.tracker.frame().co_debt_losses_cny.sum() == 0


def test_borrowers_who_owe_elsewhere_stop_paying_there_when_one_platform_collapses():
    def run(enabled):
        model = industry(**_collapse_first_day(**{
            "run.horizon_days": 240, "industry.channels.co_debt.enabled": enabled,
            "industry.channels.co_debt.stop_probability": 1.0,
            "industry.channels.co_debt.share_of_loans": 0.5}))
        model.run()
        return model
    off, on = run(False), run(True)
    assert off.industry.tracker.frame().co_debt_losses_cny.sum() == 0
    assert not off.industry.co_debt.stopped.any()
    loans = on.book.loans
    stopped = on.industry.co_debt.stopped
    assert stopped.any()
    elsewhere = (loans.platform != on.industry.detailed) & (loans.borrower >= 0)
    mine = elsewhere & stopped[np.maximum(loans.borrower, 0)]
    marked = loans.hazard_mult == NEVER_PAYS
    assert not (marked & ~mine).any() and marked.sum() > 10  # the stopped co-debtors' loans ...
    repaid = (loans.status == REPAID) | (loans.status == PREPAID)
    assert not (marked & repaid).any()  # ... never paid off after they stopped
    assert ((loans.status == DEFAULTED) & marked).sum() >= 5  # 10 at this seed: written off
    assert on.industry.tracker.frame().co_debt_losses_cny.sum() > 0


@pytest.mark.slow  # over 10 s since the one decision rule (docs/performance.md)
def test_the_same_seed_gives_the_same_industry_bit_for_bit():
    short = {"run.horizon_days": 360, "industry.events": WAVE[:3]}
    one, two = industry(**short), industry(**short)
    one.run()
    two.run()
    pd.testing.assert_frame_equal(one.industry.tracker.frame(), two.industry.tracker.frame())
    assert one.ledger.balances() == two.ledger.balances()
    other = P2PMarket(THUNDERSTORM, rng=7, audit="off", **{**SMALL, **short})
    other.run()
    assert not one.industry.tracker.frame().equals(other.industry.tracker.frame())


@pytest.mark.slow  # over 10 s since the one decision rule (docs/performance.md)
def test_a_variant_moves_no_draw_of_the_platforms_it_does_not_touch():
    """With the channels off, tightening one class changes nothing for the others, fen for fen.

    Flight to quality is off too: it carries the failed platforms' money to the others; and the
    investors' trust: what they lose on one platform moves their trust in every other.
    """
    base = {"industry.platforms": 300, "industry.investors": 12000, "run.horizon_days": 540,
            **ALL_OFF, "industry.channels.regulators.enabled": True, "industry.events": [],
            "industry.behaviour.flight_share": 0.0, "runs.enabled": False}
    calm = industry(**base)
    tight = industry(**{**base, "industry.events": [
        {"month": "2017-04", "kind": "tighten", "class": "fund_pool", "hazard_multiplier": 20.0,
         "months": 12}]})
    calm.run()
    tight.run()
    fund_pool = tight.industry.platforms.business_model == 4
    assert (tight.industry.problem_day[fund_pool] >= 0).sum() > (
        calm.industry.problem_day[fund_pool] >= 0).sum()  # the variant did something ...
    others = ~fund_pool
    assert np.array_equal(calm.industry.problem_day[others], tight.industry.problem_day[others])
    for kind, values in calm.ledger.accounts.items():  # ... and nothing to anyone else
        assert np.array_equal(values[others], tight.ledger.accounts[kind][others]), kind


@pytest.mark.parametrize("policy, check", [
    ("industry.policies.custody_mandate",
     lambda m: (m.industry.state != RunState.FLED).all()),
    ("industry.policies.orderly_exit",
     lambda m: m.ledger.journal().query("memo == 'taken_by_operators'").empty),
])
def test_policies_do_what_they_say(policy, check):
    model = industry(**{"run.horizon_days": 360, policy: True,
                        "industry.events": [{"month": "2017-01", "kind": "collapse",
                                             "platforms": [0, 1, 2, 3]}]})
    model.run()
    assert (model.industry.problem_day >= 0).sum() >= 4
    assert check(model)


def test_a_redemption_gate_caps_what_investors_can_ask_a_day():
    model = industry(**_collapse_first_day(**{
        "industry.policies.redemption_gate_daily": 0.001,
        "industry.behaviour.withdrawal_daily": 0.5,  # half of everyone's money asked for a day
        "industry.entrants.enabled": False}))  # an entrant opening today has no money yesterday
    money = model.industry.money_fen().astype(float)
    model.step()
    asked = model.industry.requests.recent.sum(axis=0)
    assert (asked[1:] <= 0.001 * 1.01 * money[1:] + 1).all()  # money grows by the day's deposits
    assert asked[1:].sum() > 0.0009 * money[1:].sum()  # they asked for more than the gate


BAD = [
    ("model shares", "[industry.model_shares]\npure_intermediary = 0.5\nfund_pool = 0.4\n",
     "industry.model_shares", "add up to 0.9"),
    ("unknown class", '[[industry.events]]\nmonth = "2018-06"\nkind = "tighten"\nclass = "p2b"\n',
     "industry.events[0].class", "unknown class of platforms 'p2b'"),
    ("unknown channel", "[industry.channels.rumours]\nenabled = true\n",
     "industry.channels.rumours", "shared_investors, network, sentiment, regulators, co_debt"),
    ("event before the run", '[[industry.events]]\nmonth = "2016-01"\nkind = "ban"\n',
     "industry.events[0].month", "before the run"),
    ("a calendar period of no data", '[industry]\nbackground_period = "2030H9"\n',
     "industry.background_period", "unknown period '2030H9'"),
    ("transfers asked of pooled platforms", "[industry.behaviour]\ntransfers = true\n",
     "industry.behaviour", "债权转让"),
    ("trust asked of a pooled platform",
     '[runs]\nenabled = true\n[[runs.events]]\nday = 5\nkind = "bad_press"\n'
     'platforms = ["industry-3"]\ntrust_shock = 0.2\n',
     "runs.events[0].platforms", "pooled platform"),
    ("an event naming a platform not in the industry",
     '[[industry.events]]\nmonth = "2017-06"\nkind = "collapse"\nplatforms = ["nowhere"]\n',
     "industry.events[0].platforms", "'nowhere' is not one of the scenario's platforms"),
    ("a detailed platform that is not in the industry's table",
     '[runs]\nenabled = true\n[[platforms]]\nname = "mine"\n[platforms.industry]\nwdzj_id = 999999\n',
     "platforms[0].industry.wdzj_id", "999999 is not a platform of the industry"),
    ("a detailed platform without trust", '[[platforms]]\nname = "mine"\n', "runs.enabled",
     "needs [runs] enabled = true"),
]


@pytest.mark.parametrize("what, text, key, message", BAD, ids=[b[0] for b in BAD])
def test_bad_industry_input_names_the_key_exits_2_and_writes_nothing(tmp_path, capsys, what, text,
                                                                      key, message):
    scenario = tmp_path / "bad.toml"
    head = '[run]\nname = "bad"\nhorizon_days = 360\n'
    if "[industry]" not in text:
        head += '[industry]\nplatforms = 20\ninvestors = 500\n'
    scenario.write_text(head + text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["industry", str(scenario), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(scenario) in err and key in err and message in err, err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("column, value, message", [
    ("outstanding_cny", -5.0, "outstanding_cny must be a number >= 0"),
    ("annual_yield", 50.0, "annual_yield must be a number >= 0 and at most 1"),
    ("launch_month", "garbage", "launch_month must be YYYY-MM"),
    ("launch_month", "2030-01", "launch_month 2030-01 is after the run's last month 2019-12"),
    ("monthly_volume_cny", 1e300, "monthly_volume_cny must be a number >= 0 and at most 1e+13"),
])
def test_a_platform_table_that_does_not_add_up_is_refused(tmp_path, capsys, column, value,
                                                          message):
    table = pd.read_csv(ROOT / "data" / "wdzj_platforms.csv", dtype={"launch_month": str}).head(20)
    table[column] = table[column].astype(object)
    table.loc[3, column] = value
    table.to_csv(tmp_path / "platforms.csv", index=False)
    scenario = tmp_path / "s.toml"
    scenario.write_text('[industry]\nplatforms_file = "platforms.csv"\n', encoding="utf-8")
    assert main(["industry", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "industry.platforms_file" in err and "row 5" in err and message in err, err
    table.drop(columns=["investors"]).to_csv(tmp_path / "platforms.csv", index=False)
    assert main(["industry", str(scenario), "--quiet"]) == 2
    assert "lacks the columns investors" in capsys.readouterr().err


def test_a_platform_told_to_shrink_takes_no_new_money_until_the_order_ends():
    """三降: told to shrink for two months, the unregistered platforms take no new money.

    No deposits and no flight-to-quality money from 2017-03; the others go on; after it they take
    money again.
    """
    shrink = {"month": "2017-03", "kind": "shrink", "class": "unregistered", "months": 2}
    model = P2PMarket(THUNDERSTORM, audit="full", **{
        "industry.platforms": 40, "industry.investors": 3000, "run.horizon_days": 150,
        "industry.events": [shrink]})
    model.run()
    industry = model.industry
    journal = model.ledger.journal()
    new_money = journal[journal.memo.isin(["deposit", "flight_to_quality"]) & (journal.day > 0)]
    platform = new_money.target.str.split(":").str[1].map(industry.names.index)
    told = ~industry.registered[platform.to_numpy()]
    during = new_money.day.between(60, 119).to_numpy()
    assert new_money[told & during].amount_fen.sum() == 0
    assert new_money[~told & during].amount_fen.sum() > 0
    assert new_money[told & (new_money.day >= 120).to_numpy()].amount_fen.sum() > 0
    assert not industry.shrinking.any()  # the order has ended


def test_a_run_cut_short_of_the_history_says_which_dated_events_it_never_reached(tmp_path, capsys):
    out = tmp_path / "short"
    assert main(["run", str(THUNDERSTORM), "--out", str(out), "--quiet", "--set",
                 "industry.platforms=30", "--set", "industry.investors=2000", "--set",
                 "run.horizon_days=540"]) == 0  # to June 2018
    summary = strict_json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["dated_events"] == ["2017-12 tighten on unregistered (hazard x1.5, 6 months)",
                                       "2018-06 collapse of the 3 largest fund_pool"]
    assert summary["dated_events_not_reached"][0] == "2018-07 investigation of the 2 largest private"
    assert "dated events past the run's end, not reached: 2018-07" in capsys.readouterr().out


@pytest.mark.slow  # over 10 s since the one decision rule (docs/performance.md)
def test_the_command_writes_the_trackers_tables_and_the_wave(tmp_path, capsys):
    out = tmp_path / "wave"
    assert main(["industry", str(THUNDERSTORM), "--out", str(out), "--quiet",
                 "--set", "industry.platforms=80", "--set", "industry.investors=3000"]) == 0
    monthly = pd.read_csv(out / "monthly.csv")
    assert len(monthly) == 48 and monthly.month.iloc[-1] == "2020-12"  # to the industry's end
    assert monthly.operating.iloc[-1] == 0 and monthly.winding_down.iloc[-1] > 0
    for column in ("new_跑路", "new_fund_pool", "volume_cny", "outstanding_cny", "active_investors",
                   "net_inflow_cny", "losses_cny", *[f"asked_{c}_cny" for c in REQUEST_REASONS]):
        assert column in monthly
    summary = strict_json.loads((out / "summary.json").read_text(encoding="utf-8"))
    platforms = pd.read_csv(out / "platforms.csv")
    assert summary["problem_platforms"] == int((platforms.problem_day >= 0).sum())
    assert summary["industry_losses_cny"] == pytest.approx(monthly.losses_cny.sum())
    assert abs(sum(summary["damage_share"].values()) - 1) < 1e-9
    assert (out / "wave.png").stat().st_size > 10_000
    printed = capsys.readouterr().out
    assert "new problem platforms" in printed
    assert "dated events, inputs of the run" in printed and "2018-06 collapse of the 3 largest" \
        in printed and summary["dated_events"][0].startswith("2017-12 tighten")  # issue 42
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Industry: thunderstorm_2018" in page and "data:image/png;base64" in page
    assert "[industry.channels.co_debt]" in page  # the scenario as run


EXPERIMENT = """
[experiment]
name = "tiny"
scenario = "{scenario}"
seed = 11
replications = 2
common_random_numbers = true

[experiment.fixed]
"industry.platforms" = 60
"industry.investors" = 2000
"run.horizon_days" = 600
"industry.events" = [{{ month = "2017-06", kind = "collapse", class = "all", largest = 2, news = 0.3 }}]

[design]
kind = "variants"

[[variants]]
name = "all"

[[variants]]
name = "no sentiment"
set = {{ "industry.channels.sentiment.enabled" = false }}

[outputs]
statistics = ["problem_platforms", "industry_losses_cny"]
"""


@pytest.mark.slow  # over 10 s since the one decision rule (docs/performance.md)
def test_an_experiment_goes_through_the_one_runner_the_same_on_one_worker_or_two(tmp_path):
    spec = tmp_path / "exp.toml"
    spec.write_text(EXPERIMENT.format(scenario=THUNDERSTORM.as_posix()), encoding="utf-8")
    assert main(["industry", str(spec), "--out", str(tmp_path / "one"), "--quiet",
                 "--executor", "local"]) == 0
    assert main(["experiment", str(spec), "--out", str(tmp_path / "two"), "--quiet",
                 "--workers", "2"]) == 0
    one = pd.read_parquet(tmp_path / "one" / "results.parquet")
    two = pd.read_parquet(tmp_path / "two" / "results.parquet")
    pd.testing.assert_frame_equal(one, two)
    differences = pd.read_csv(tmp_path / "one" / "differences.csv")
    first = differences[differences.variant == "all"]
    assert (first.difference == 0).all() and set(differences.variant) == {"all", "no sentiment"}
    seeds = one.drop_duplicates("run").groupby("replication").seed.nunique()
    assert (seeds == 1).all()  # every variant's replication r on the same draws
    assert main(["report", str(tmp_path / "one")]) == 0
    assert "no sentiment" in (tmp_path / "one" / "report.html").read_text(encoding="utf-8")


def test_an_experiment_with_a_bad_variant_stops_before_any_run(tmp_path, capsys):
    spec = tmp_path / "exp.toml"
    spec.write_text(EXPERIMENT.format(scenario=THUNDERSTORM.as_posix()).replace(
        '"industry.channels.sentiment.enabled"', '"industry.channels.rumours.enabled"'),
        encoding="utf-8")
    assert main(["industry", str(spec), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "design point 1" in err and "industry.channels.rumours" in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # over 10 s since the one decision rule (docs/performance.md)
def test_p2psim_run_runs_an_industry_and_other_files_name_their_command(tmp_path, capsys):
    assert main(["industry", str(ROOT / "scenarios" / "baseline.toml"), "--quiet"]) == 2
    assert "run it with `p2psim run" in capsys.readouterr().err
    child = tmp_path / "child.toml"  # an industry by its base: run as one, not as a market
    child.write_text(f'based_on = "{THUNDERSTORM}"\n[industry]\nplatforms = 30\n'
                     f'investors = 2000\n')
    assert main(["run", str(child), "--out", str(tmp_path / "wave"), "--quiet"]) == 0
    assert (tmp_path / "wave" / "monthly.csv").exists() and "problem platforms" in \
        capsys.readouterr().out
    for path, command in (("estimation/wave_2018.toml", "p2psim estimate"),
                          ("experiments/protection_board.toml", "p2psim board"),
                          ("experiments/policy_grid.toml", "p2psim experiment")):
        assert main(["run", str(ROOT / path), "--quiet"]) == 2
        assert f"run it with `{command}" in capsys.readouterr().err
    assert main(["industry", str(ROOT / "estimation/wave_2018.toml"), "--quiet"]) == 2
    assert "run it with `p2psim estimate" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.toml")),
                         ids=lambda p: p.stem)
def test_the_shipped_industry_scenarios_run_small_with_every_book_checked(path):
    if "[industry]" not in path.read_text(encoding="utf-8"):
        pytest.skip("a market scenario (tests/test_scenarios.py)")
    model = P2PMarket(path, audit="full", **{"industry.platforms": 30, "industry.investors": 3000,
                                             "investors.count": 500})
    model.run()
    assert model.ledger.total() == 0
    assert len(model.industry.tracker.frame()) == model.horizon_days // 30
    _summary_ties_to_the_books(model)  # the detailed platforms' headlines are their statements'


def test_an_industry_with_trust_switched_on_and_no_detailed_platform_runs():
    model = P2PMarket(ROOT / "scenarios" / "seed_plan_in_2018.toml", audit="full", **{
        "industry.platforms": 20, "industry.investors": 2000, "platforms": [],
        "plan.targets": [], "plan.uncertain": []})
    model.run(90)
    assert model.runs.enabled and not model.platforms and model.ledger.total() == 0


def test_the_dashboard_sends_an_industry_to_its_command(capsys):
    assert main(["dashboard", str(THUNDERSTORM), "--no-browser", "--port", "8799"]) == 2
    err = capsys.readouterr().err
    assert "p2psim run" in err and "Traceback" not in err
