"""Every shipped scenario validates and runs; every bad input is refused with a clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim import P2PMarket, strict_json
from sim.cli import main
from sim.scenario import ScenarioError, load_scenario

from .conftest import SCENARIOS

SHIPPED = sorted(p for p in SCENARIOS.glob("**/*.toml")  # industry scenarios: test_industry_run.py
                 if load_scenario(p).industry is None)  # its own [industry] or its base's


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenarios_run(path):
    scenario = load_scenario(path)
    stress = scenario.stress
    stress_months = [w.start_month for w in stress.recession] + [
        m for m in (stress.funding_freeze_month, stress.guarantee_fails_month) if m is not None]
    last_event = max([event.day for event in scenario.runs.events]
                     + [30 * m for m in stress_months], default=0)
    overrides = {"run__horizon_days": max(60, last_event + 10)}  # a run's events stay within it
    if scenario.initial_book.loans > 20000:
        overrides["initial_book__loans"] = 20000
    overrides["plan__targets"] = []  # a plan's targets and raises are dated within its own horizon
    for i in range(len(scenario.platforms)):
        overrides[f"platforms__{i}__company__capital_raises"] = []
    model = P2PMarket(path, audit="full", **overrides)
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    if scenario.borrowers.applications_per_day > 0:
        assert frame.funded_listings.sum() > 0
    else:  # the Vasicek limit case: a book running off
        assert frame.principal_repaid_cny.sum() > 0
    _summary_ties_to_the_books(model)


def _summary_ties_to_the_books(model) -> None:
    """Every money figure of the summary is the statements' (statements.csv), and those the ledger's."""
    from sim.company.report import company_books, yearly_statements
    from sim.outputs import platform_monthly, summarise

    summary = summarise(model)
    if not model.platforms:  # an industry without a detailed platform: no company's books
        assert summary["platform_profit_cny"] == summary["platform_revenue_cny"] == 0
        return
    by_year = yearly_statements(company_books(model)).set_index(["platform", "statement", "line"])
    years = [c for c in by_year.columns if c.startswith("year_")]

    def flow(line, platform=None):  # summed over the years, as a reader of statements.csv would
        rows = by_year.xs(("income", line), level=("statement", "line"))[years].sum(axis=1)
        return rows.sum() if platform is None else rows[platform]

    def at_end(line, platform):
        return by_year.loc[(platform, "balance_sheet", line), years[-1]]

    assert summary["platform_profit_cny"] == pytest.approx(flow("net_income"), abs=0.01)
    assert summary["platform_revenue_cny"] == pytest.approx(flow("revenue"), abs=0.01)
    monthly = platform_monthly(model)
    last = monthly[monthly.month == monthly.month.max()].set_index("platform")
    for platform in model.platforms:
        row = summary["platforms"][platform.name]
        assert row["net_income_cny"] == pytest.approx(flow("net_income", platform.name), abs=0.01)
        assert row["revenue_cny"] == pytest.approx(flow("revenue", platform.name), abs=0.01)
        cash = model.bookkeeper.balance(platform, "platform_cash") / 100  # and the ledger's
        assert row["platform_cash_cny"] == pytest.approx(at_end("cash", platform.name), abs=0.01)
        assert row["platform_cash_cny"] == pytest.approx(cash, abs=0.01)
        loans = model.book.loans  # the book, whoever holds it (a fund pool's too), in every table
        book = loans.balance_fen[loans.platform == platform.index].sum() / 100
        assert row["outstanding_principal_cny"] == pytest.approx(book, abs=0.01)
        assert last.loc[platform.name, "outstanding_principal_cny"] == pytest.approx(book, abs=0.01)
        written_off = platform.defaulted_fen_total / 100
        assert row["defaulted_principal_cny"] == pytest.approx(written_off, abs=0.01)
        assert monthly[monthly.platform == platform.name].defaulted_principal_cny.sum() == \
            pytest.approx(written_off, abs=0.01)
    assert summary["platform_cash_cny"] == pytest.approx(
        sum(summary["platforms"][p.name]["platform_cash_cny"] for p in model.platforms), abs=0.01)


BASE = """
[run]
name = "t"
horizon_days = 30

[borrowers]
applications_per_day = 5.0

[[platforms]]
name = "p"
"""

BAD = [
    ("unknown key", BASE.replace("horizon_days = 30", "horizon_days = 30\nhorizon = 5"),
     "run.horizon", "unknown key"),
    ("wrong type", BASE.replace("horizon_days = 30", 'horizon_days = "long"'),
     "run.horizon_days", "integer"),
    ("negative amount", BASE + "capital_cny = -5.0\n", "platforms[0].capital_cny",
     "greater than or equal to 0"),
    ("probability above 1", BASE + "service_fee = 1.2\n", "platforms[0].service_fee",
     "less than or equal to 1"),
    ("probability below 0", BASE.replace("[[platforms]]", "[grades]\ncure_probability = -0.1\n\n"
                                         "[[platforms]]"), "grades.cure_probability",
     "greater than or equal to 0"),
    ("term of 0", BASE.replace("applications_per_day = 5.0", "applications_per_day = 5.0\n"
                               "terms_months = [0]\nterm_share = [1.0]"),
     "borrowers.terms_months[0]", "greater than or equal to 1"),
    ("unknown method", BASE.replace("applications_per_day = 5.0", "applications_per_day = 5.0\n"
                                    'methods = ["balloon"]\nmethod_share = [1.0]'),
     "borrowers.methods", "等额本息"),
    ("unknown policy", BASE + '[platforms.pricing]\npolicy = "cheapest"\n',
     "platforms[0].pricing.policy", "built-in: grid, market_responsive, risk_based"),
    ("policy not importable", BASE + '[platforms.risk]\npolicy = "nowhere.rules:Strict"\n',
     "platforms[0].risk.policy", "cannot import module 'nowhere.rules'"),
    ("policy class missing", BASE + '[platforms.risk]\npolicy = "json:Strict"\n',
     "platforms[0].risk.policy", "module 'json' has no class 'Strict'"),
    ("not the protocol", BASE + '[platforms.guarantee]\npolicy = "json:JSONDecoder"\n',
     "platforms[0].guarantee.policy", "must subclass sim.policies.guarantee.GuaranteePolicy"),
    ("not the protocol either", BASE + '[platforms.marketing]\npolicy = "json:JSONDecoder"\n',
     "platforms[0].marketing.policy", "lacks plan_month()"),
    ("unknown policy parameter", BASE + '[platforms.pricing]\npolicy = "grid"\ncap = 0.2\n',
     "platforms[0].pricing.cap", "allowed here: policy, rate_cap, above_cap, spread"),
    ("policy parameter out of range", BASE + '[platforms.pricing]\nrate_cap = 1.5\n',
     "platforms[0].pricing.rate_cap", "less than or equal to 1"),
    ("policy choice not allowed", BASE + '[platforms.pricing]\nabove_cap = "ignore"\n',
     "platforms[0].pricing.above_cap", "'cap' or 'reject'"),
    ("trigger after write-off", BASE + '[platforms.guarantee]\npolicy = "reserve_fund"\n'
     "trigger_days = 120\n", "platforms[0].guarantee.trigger_days", "at most loans.default_after"),
    ("channel out of range", BASE + '[platforms.marketing]\npolicy = "channels"\n'
     '[[platforms.marketing.channels]]\nname = "ads"\nkind = "cpc"\n'
     "budget_monthly_cny = -1.0\nunit_cost_cny = 10.0\n",
     "platforms[0].marketing.channels[0].budget_monthly_cny", "greater than or equal to 0"),
    ("unknown channel kind", BASE + '[platforms.marketing]\npolicy = "channels"\n'
     '[[platforms.marketing.channels]]\nname = "ads"\nkind = "tv"\n'
     "budget_monthly_cny = 1.0\nunit_cost_cny = 10.0\n",
     "platforms[0].marketing.channels[0].kind", "'cpc', 'cpm', 'cpa'"),
    ("fund pool with a guarantee", BASE + 'funding = "fund_pool"\n[platforms.guarantee]\n'
     'policy = "reserve_fund"\n', "platforms[0].guarantee.policy", "must be 'none'"),
]


@pytest.mark.parametrize("label, text, key, allowed", BAD, ids=[b[0] for b in BAD])
def test_bad_scenarios_are_refused_with_exit_2_and_nothing_written(tmp_path, capsys, label, text,
                                                                   key, allowed):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and key in err and allowed in err, err
    assert "line " in err
    assert "Traceback" not in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_missing_file_is_refused(tmp_path, capsys):
    missing = tmp_path / "nope.toml"
    assert main(["run", str(missing), "--out", str(tmp_path / "out")]) == 2
    assert f"{missing}: no such scenario file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_invalid_toml_and_bad_override_are_refused(tmp_path, capsys):
    path = tmp_path / "broken.toml"
    path.write_text("[run\nname = 1\n")
    assert main(["run", str(path)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    with pytest.raises(ScenarioError, match=r"platforms\[0\].service_fee"):
        load_scenario(None, {"platforms.0.service_fee": 3.0})


def test_cross_checks_name_the_key():
    with pytest.raises(ScenarioError, match=r"platforms\[0\]\.risk\.approve_grades: names unknown"):
        load_scenario({"platforms": [{"risk": {"approve_grades": ["Z"]}}]})
    with pytest.raises(ScenarioError, match="market_share must add up to 1"):
        load_scenario({"platforms": [{"name": "a"}, {"name": "b"}]})


def test_run_writes_results_and_prints_a_summary(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["run", str(SCENARIOS / "baseline.toml"), "--seed", "4", "--out", str(out),
                 "--set", "run.horizon_days=90", "--quiet"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "loans funded" in printed and "investors' realised return" in printed
    for name in ["timeseries.parquet", "platforms.parquet", "journal.parquet", "loans.parquet",
                 "summary.json", "platforms.png",
                 "metadata.json", "overview.png"]:
        assert (out / name).stat().st_size > 0, name
    meta = strict_json.loads((out / "metadata.json").read_text())
    assert meta["seed"] == 4 and meta["scenario"]["run"]["horizon_days"] == 90
    assert meta["version"] and meta["git_revision"]
    import pandas as pd

    frame = pd.read_parquet(out / "timeseries.parquet")
    assert len(frame) == 90 and "arrears_m1" in frame
    journal = pd.read_parquet(out / "journal.parquet")
    assert journal.groupby("source").amount_fen.sum().sum() > 0
    assert list(tmp_path.iterdir()) == [out]  # no staging folder left behind


def test_schedule_command_prints_the_schedule(capsys):
    assert main(["schedule", "--principal", "10000", "--rate", "0.12", "--term", "12"]) == 0
    printed = capsys.readouterr().out
    assert "888.49" in printed and "total paid" in printed
    assert main(["schedule", "--principal", "10000", "--rate", "0.12", "--term", "0"]) == 2


def test_console_script_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run]\nhorizon_days = 0\n")
    done = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(bad)], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 2
    assert "run.horizon_days" in done.stderr and "Traceback" not in done.stderr
    assert not (Path(tmp_path) / "results").exists()


def test_per_platform_summary_adds_up_to_the_market():
    from sim.outputs import summarise

    model = P2PMarket(SCENARIOS / "two_platforms.toml", run__horizon_days=120,
                      initial_book__loans=2000)
    model.run()
    summary = summarise(model)
    platforms = summary["platforms"]
    assert set(platforms) == {"steady", "fast"}
    assert sum(p["revenue_cny"] for p in platforms.values()) == \
        pytest.approx(summary["platform_revenue_cny"], abs=0.005)
    assert sum(p["platform_cash_cny"] for p in platforms.values()) == \
        pytest.approx(summary["platform_cash_cny"], abs=0.005)
    assert sum(p["loans_funded"] for p in platforms.values()) == summary["loans_funded"]


def test_monthly_platform_table_ties_to_the_ledger():
    from sim.outputs import platform_monthly

    model = P2PMarket(SCENARIOS / "two_platforms.toml", run__horizon_days=95,
                      initial_book__loans=2000)
    model.run()
    monthly = platform_monthly(model)
    assert len(monthly) == 2 * 4  # months 0, 1, 2 and the last, partial one
    daily = model.datacollector.get_model_vars_dataframe()
    assert monthly.volume_cny.sum() == pytest.approx(daily.volume_cny.sum(), abs=0.005)
    assert monthly.defaulted_principal_cny.sum() == \
        pytest.approx(daily.default_principal_cny.sum(), abs=0.005)
    last = monthly[monthly.day == 94].set_index("platform")
    for platform in model.platforms:
        claims = model.ledger.balance("investor_claims", platform.index) / 100
        assert last.loc[platform.name, "outstanding_principal_cny"] == claims
    with pytest.raises(ScenarioError, match="name"):
        load_scenario({"platforms": [{"name": "a:b"}]})
    assert load_scenario({"platforms": [{"name": "人人贷"}]}).platforms[0].name == "人人贷"
