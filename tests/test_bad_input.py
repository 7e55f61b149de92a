"""A corpus of bad input over every command, each refused cleanly.

Each case exits with code 2, prints a message that names the key, no traceback, and writes or
changes nothing.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sim.cli import main

BASE = """\
[run]
name = "t"
horizon_days = 30

[borrowers]
applications_per_day = 4.0

[investors]
count = 200

[[platforms]]
name = "p"
"""

RESERVE = BASE.replace('name = "p"\n', 'name = "p"\n[platforms.guarantee]\npolicy = "reserve_fund"\n')

EXPERIMENT = """\
[experiment]
name = "e"
scenario = "scenario.toml"
seed = 3
replications = 2

[design]
kind = "grid"

[[parameters]]
key = "platforms.0.service_fee"
values = [0.01, 0.03]
"""

BAD_POLICIES = '''\
import numpy as np
from sim.policies.marketing import MarketingPlan


class _Price:
    def __init__(self, params, context):
        self.kind = params.get("kind", "inf")

    def price(self, applicants, state):
        n = len(applicants["grade"])
        if self.kind == "raise":
            return 1 / 0
        if self.kind == "short":
            return np.full(max(n - 1, 0), 0.1)
        return np.full(n, {"inf": np.inf, "negative": -0.1, "above_one": 3.0}[self.kind])


InfPrice = _Price


class BrokenBuild:
    def __init__(self, params, context):
        raise RuntimeError("no database connection")

    def price(self, applicants, state):
        return np.full(len(applicants["grade"]), 0.1)


class NanAmounts:
    def __init__(self, params, context):
        pass

    def review(self, applicants, rates, state):
        n = len(applicants["grade"])
        return np.ones(n, bool), np.full(n, np.nan)


class NoPlan:
    def __init__(self, params, context):
        pass

    def plan_month(self, state):
        return None


class FineMarketing:
    def __init__(self, params, context):
        pass

    def plan_month(self, state):
        return MarketingPlan()
'''


def _edit(text: str, section: str, line: str) -> str:
    """Add ``line`` under ``[section]`` (the section is made if the text lacks it)."""
    header = f"[{section}]\n"
    if header in text:
        return text.replace(header, header + line + "\n", 1)
    return text + f"\n{header}{line}\n"


def _platform(line: str, table: str = "") -> str:
    return BASE + (f"[platforms.{table}]\n" if table else "") + line + "\n"


# (id, scenario text, extra arguments, what the message must name)
SCENARIO_CASES = [
    ("horizon bool", BASE.replace("horizon_days = 30", "horizon_days = true"), [],
     "run.horizon_days"),
    ("horizon float", BASE.replace("horizon_days = 30", "horizon_days = 30.5"), [],
     "run.horizon_days"),
    ("count bool", BASE.replace("count = 200", "count = true"), [], "investors.count"),
    ("count float", BASE.replace("count = 200", "count = 1.5"), [], "investors.count"),
    ("count zero", BASE.replace("count = 200", "count = 0"), [], "investors.count"),
    ("initial factor nan", _edit(BASE, "macro", "initial_factor = nan"), [],
     "macro.initial_factor"),
    ("initial factor inf", _edit(BASE, "macro", "initial_factor = inf"), [],
     "macro.initial_factor"),
    ("initial factor huge", _edit(BASE, "macro", "initial_factor = 1e308"), [],
     "macro.initial_factor"),
    ("shock nan", _edit(BASE, "macro", "shock_path = [[12, nan]]"), [], "macro.shock_path"),
    ("shock inf", _edit(BASE, "macro", "shock_path = [[12, inf]]"), [], "macro.shock_path"),
    ("shock -inf", _edit(BASE, "macro", "shock_path = [[12, -inf]]"), [], "macro.shock_path"),
    ("shock negative month", _edit(BASE, "macro", "shock_path = [[-1, 1.0]]"), [],
     "macro.shock_path"),
    ("shock bool month", _edit(BASE, "macro", "shock_path = [[true, 1.0]]"), [],
     "macro.shock_path"),
    ("shock not pairs", _edit(BASE, "macro", "shock_path = 5"), [], "macro.shock_path"),
    ("shock triple", _edit(BASE, "macro", "shock_path = [[1, 2.0, 3.0]]"), [], "macro.shock_path"),
    ("correlation one", _edit(BASE, "macro", "asset_correlation = 1.0"), [],
     "macro.asset_correlation"),
    ("applications inf", BASE.replace("applications_per_day = 4.0", "applications_per_day = inf"),
     [], "borrowers.applications_per_day"),
    ("applications huge", BASE.replace("applications_per_day = 4.0",
                                       "applications_per_day = 1e308"),
     [], "borrowers.applications_per_day"),
    ("applications nan", BASE.replace("applications_per_day = 4.0", "applications_per_day = nan"),
     [], "borrowers.applications_per_day"),
    ("applications negative", BASE.replace("applications_per_day = 4.0",
                                           "applications_per_day = -1.0"),
     [], "borrowers.applications_per_day"),
    ("growth 100x a year", BASE.replace("horizon_days = 30", "horizon_days = 3600").replace(
        "applications_per_day = 4.0", "applications_per_day = 4.0\ngrowth_per_year = 100.0"), [],
     "borrowers.growth_per_year"),
    ("opening book of 50 M loans", _edit(BASE, "initial_book", "loans = 50000000"), [],
     "initial_book.loans"),
    ("amount sigma huge", _edit(BASE, "borrowers", "amount_sigma = 1e308"), [],
     "borrowers.amount_sigma"),
    ("dispersion inf", _edit(BASE, "borrowers", "hazard_dispersion = inf"), [],
     "borrowers.hazard_dispersion"),
    ("amount median huge", _edit(BASE, "borrowers", "amount_median_cny = 1e15"), [],
     "borrowers.amount_median_cny"),
    ("amount min below a fen", _edit(BASE, "borrowers", "amount_min_cny = 0.001"), [],
     "borrowers.amount_min_cny"),
    ("terms bool", _edit(BASE, "borrowers", "terms_months = [true]\nterm_share = [1.0]"), [],
     "borrowers.terms_months"),
    ("income nan", _edit(BASE, "borrowers", "income_median_cny = nan"), [],
     "borrowers.income_median_cny"),
    ("cash inf", _edit(BASE, "investors", "initial_cash_median_cny = inf"), [],
     "investors.initial_cash_median_cny"),
    ("cash huge", _edit(BASE, "investors", "initial_cash_median_cny = 1e308"), [],
     "investors.initial_cash_median_cny"),
    ("cash sigma huge", _edit(BASE, "investors", "initial_cash_sigma = 50.0"), [],
     "investors.initial_cash_sigma"),
    ("scan limit huge", _edit(BASE, "investors", "max_scan_per_listing = 1000000000000"), [],
     "investors.max_scan_per_listing"),
    ("minimum bid zero", _edit(BASE, "investors", "min_bid_cny = 0.0"), [],
     "investors.min_bid_cny"),
    ("deposit nan", _edit(BASE, "investors", "monthly_deposit_median_cny = nan"), [],
     "investors.monthly_deposit_median_cny"),
    ("word of mouth doubling every month",
     _platform('policy = "channels"\nword_of_mouth = 1.0', "marketing").replace(
         "horizon_days = 30", "horizon_days = 1080"), [], "word_of_mouth"),
    ("a CPS channel with a 10-billion budget", _platform(
        'policy = "channels"\n[[platforms.marketing.channels]]\nname = "cps"\nkind = "cps"\n'
        "budget_monthly_cny = 1e10\nunit_cost_cny = 1.0\nsaturation_units = 1e10",
        "marketing").replace("horizon_days = 30", "horizon_days = 1080"), [],
     "channels' budgets"),
    ("growth by year empty", _edit(BASE, "borrowers", "growth_per_year = []"), [],
     "at least 1 item"),
    ("an array nested 5,000 deep", _edit(BASE, "borrowers", "terms_months = " + "[" * 5000
                                         + "]" * 5000), [], "nested too deeply"),
    ("run name of 100 Chinese characters", BASE.replace('name = "t"', f'name = "{"长" * 100}"'),
     [], "run.name: 300 bytes in UTF-8; at most 200"),
    ("run name of 300 letters", BASE.replace('name = "t"', f'name = "{"a" * 300}"'), [],
     "run.name"),
    ("capital inf", _platform("capital_cny = inf"), [], "platforms[0].capital_cny"),
    ("capital huge", _platform("capital_cny = 1e308"), [], "platforms[0].capital_cny"),
    ("costs negative", _platform("operating_cost_monthly_cny = -1.0"), [],
     "platforms[0].operating_cost_monthly_cny"),
    ("fee nan", _platform("service_fee = nan"), [], "platforms[0].service_fee"),
    ("window bool", _platform("funding_window_days = true"), [],
     "platforms[0].funding_window_days"),
    ("platform name traversal", BASE.replace('name = "p"', 'name = "../../x"'), [],
     "platforms[0].name"),
    ("platform name space", BASE.replace('name = "p"', 'name = "a b"'), [], "platforms[0].name"),
    ("platform name circled digit", BASE.replace('name = "p"', 'name = "p①"'), [],
     "decimal digits"),
    ("run name traversal", BASE.replace('name = "t"', 'name = "../../x"'), [], "run.name"),
    ("run name absolute", BASE.replace('name = "t"', 'name = "/tmp/x"'), [], "run.name"),
    ("run name empty", BASE.replace('name = "t"', 'name = ""'), [], "run.name"),
    ("seed negative", BASE.replace("horizon_days = 30", "horizon_days = 30\nseed = -1"), [],
     "run.seed"),
    ("seed bool", BASE.replace("horizon_days = 30", "horizon_days = 30\nseed = true"), [],
     "run.seed"),
    ("seed float", BASE.replace("horizon_days = 30", "horizon_days = 30\nseed = 1e30"), [],
     "run.seed"),
    ("freeze far away", _edit(BASE, "stress", "funding_freeze_month = 1000000"), [],
     "stress.funding_freeze_month"),
    ("recession nan", _edit(BASE, "stress", "recession = [{start_month = 1, months = 2, "
                                             "hazard_multiplier = nan}]"), [],
     "stress.recession[0].hazard_multiplier"),
    ("grade rate nan", _edit(BASE, "grades", "annual_rate = [nan, 0.1, 0.13, 0.15, 0.16, 0.18, "
                                              "0.19]"), [], "grades.annual_rate[0]"),
    ("cure bool", _edit(BASE, "grades", "cure_probability = true"), [],
     "grades.cure_probability"),
    ("write-off not in months", _edit(BASE, "loans", "default_after_days = 45"), [],
     "loans.default_after_days"),
    ("notes per loan bool", _edit(BASE, "initial_book", "notes_per_loan = true"), [],
     "initial_book.notes_per_loan"),
    ("rate cap nan", _platform("rate_cap = nan", "pricing"), [], "platforms[0].pricing.rate_cap"),
    ("grade rates inf", _platform("grade_rates = [inf, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]",
                                  "pricing"), [], "platforms[0].pricing.grade_rates"),
    ("score cutoff nan", _platform("min_score = nan", "risk"), [], "platforms[0].risk.min_score"),
    ("person cap inf", _platform("person_cap_platform_cny = inf", "risk"), [],
     "platforms[0].risk.person_cap_platform_cny"),
    ("reserve nan", _platform('policy = "reserve_fund"\ninitial_cny = nan', "guarantee"), [],
     "platforms[0].guarantee.initial_cny"),
    ("reserve share bool", _platform('policy = "reserve_fund"\nprincipal_share = true',
                                     "guarantee"), [], "platforms[0].guarantee.principal_share"),
    ("channel budget inf", _platform('policy = "channels"\n[[platforms.marketing.channels]]\n'
                                     'name = "ads"\nkind = "cpc"\nbudget_monthly_cny = inf\n'
                                     'unit_cost_cny = 1.0', "marketing"), [],
     "platforms[0].marketing.channels"),
    ("pool rate nan", BASE.replace('name = "p"', 'name = "p"\nfunding = "fund_pool"')
     + "[platforms.fund_pool]\nproduct_rate = nan\n", [], "platforms[0].fund_pool.product_rate"),
    ("a thousand and one platforms", BASE.replace('[[platforms]]\nname = "p"\n', "")
     + "".join(f'[[platforms]]\nname = "p{i}"\nmarket_share = 0.0\ninvestor_share = 0.0\n'
               for i in range(1001)), [], "platforms"),
    ("not TOML", "[run\nname = 1", [], "not valid TOML"),
    ("set into a value", BASE, ["--set", "run.horizon_days.x=1"], "run.horizon_days"),
    ("set out of range", BASE, ["--set", "platforms.0.service_fee=1.5"],
     "override platforms.0.service_fee"),
    ("set nan", BASE, ["--set", "macro.initial_factor=nan"], "macro.initial_factor"),
    ("set empty key", BASE, ["--set", "=1"], "override"),
    ("set without value", BASE, ["--set", "novalue"], "KEY=VALUE"),
    ("set unknown key", BASE, ["--set", "run.horizon=5"], "run.horizon"),
    ("seed option negative", BASE, ["--seed", "-1"], "--seed"),
    ("seed option huge", BASE, ["--seed", str(2**70)], "--seed"),
    ("threads zero", BASE, ["--threads", "0"], "--threads"),
    ("empty file", "", [], "holds no settings"),
    ("comments only", "# a scenario, some day\n", [], "holds no settings"),
    ("plan input naming no key, for run too", BASE + "\n[plan]\ntargets = []\n[[plan.uncertain]]\n"
     'key = "platforms.0.no_such_fee"\ndistribution = "uniform"\nlow = 0.0\nhigh = 1.0\n', [],
     "plan.uncertain[0].key: 'platforms.0.no_such_fee' names no key of the scenario"),
    ("channel name of 41 characters", BASE + "[platforms.marketing]\npolicy = \"channels\"\n"
     '[[platforms.marketing.channels]]\nkind = "cpc"\nname = "' + "c" * 41 + '"\n'
     "unit_cost_cny = 1.0\nbudget_monthly_cny = 1000.0\n", [],
     "marketing.channels[0].name: String should have at most 40 characters"),
]


def _snapshot(folder: Path) -> dict[str, str]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            if p.is_file() else "dir" for p in sorted(folder.rglob("*"))}


def _refused(argv: list[str], capsys, watched: list[Path], *expected: str) -> str:
    """Run the command; check exit 2, no traceback, the message, and nothing written or changed."""
    before = {str(w): _snapshot(w) for w in watched}
    existed = {str(w): w.exists() for w in watched}
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err) < 5000, f"a message of {len(err)} characters"
    for text in expected:
        assert text in err, err
    for w in watched:
        assert w.exists() == existed[str(w)] and _snapshot(w) == before[str(w)], f"{w} changed"
    return err


@pytest.mark.parametrize("text, extra, key", [c[1:] for c in SCENARIO_CASES],
                         ids=[c[0] for c in SCENARIO_CASES])
def test_a_bad_scenario_is_refused_and_nothing_is_written(tmp_path, capsys, text, extra, key):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    _refused(["run", str(scenario), "--out", str(out), "--quiet", *extra], capsys, [out], key)


ENCODINGS = [
    ("latin-1", BASE.replace('name = "t"', 'name = "t" # café').encode("latin-1"), "not UTF-8"),
    ("gbk", ("# 这是一个用中文写的情景文件\n" + BASE).encode("gbk"), "not UTF-8"),
    ("binary", bytes(range(256)) * 4, "not UTF-8"),
    ("nul bytes", b'[run]\nname = "t"\x00\n', "not a text file"),
    ("gbk that is valid utf-8", BASE.replace('name = "p"', 'name = "平台"').encode("gbk"),
     "looks like GBK text read as UTF-8 (it reads '平台' in GBK)"),
]


@pytest.mark.parametrize("data, expected", [c[1:] for c in ENCODINGS], ids=[c[0] for c in ENCODINGS])
def test_a_scenario_that_is_not_utf8_text_is_refused_by_name(tmp_path, capsys, data, expected):
    scenario = tmp_path / "scenario.toml"
    scenario.write_bytes(data)
    out = tmp_path / "out"
    _refused(["run", str(scenario), "--out", str(out), "--quiet"], capsys, [out], expected,
             str(scenario))


def test_a_folder_or_a_missing_file_as_the_scenario_gets_the_right_message(tmp_path, capsys):
    _refused(["run", str(tmp_path)], capsys, [], "is a folder")
    _refused(["run", str(tmp_path / "nowhere.toml")], capsys, [], "no such scenario file")


def test_a_byte_order_mark_is_read_as_utf8(tmp_path, capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_bytes(b"\xef\xbb\xbf" + BASE.replace('name = "p"', 'name = "平台"').encode())
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 0


# --------------------------------------------------------------------------- output folders

def _folders(tmp_path: Path) -> dict[str, Path]:
    user = tmp_path / "mine"
    user.mkdir()
    (user / "important.txt").write_text("x")
    file = tmp_path / "file.txt"
    file.write_text("x")
    marked = tmp_path / "an_experiment"
    marked.mkdir()
    (marked / ".p2psim.json").write_text('{"kind": "experiment"}')
    (marked / "runs").mkdir()
    (marked / "runs" / "run-000000.json").write_text("{}")
    return {"user": user, "file": file, "experiment": marked}


OUT_CASES = [
    ("a user's folder", "user", "did not make"),
    ("a file", "file", "not a folder"),
    ("under a file", "file.txt/sub", "is a file"),
    ("an experiment's folder", "experiment", "holds the results of an experiment"),
    ("an unwritable place", "/proc/p2psim-out", "cannot write"),
]


@pytest.mark.parametrize("target, expected", [c[1:] for c in OUT_CASES], ids=[c[0] for c in OUT_CASES])
def test_run_refuses_an_out_that_is_not_its_own_before_running(tmp_path, capsys, target, expected):
    folders = _folders(tmp_path)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(BASE)
    out = Path(target) if target.startswith("/") else (
        folders[target] if target in folders else tmp_path / target)
    err = _refused(["run", str(scenario), "--out", str(out), "--quiet"], capsys,
                   list(folders.values()), expected)
    assert "seed" not in capsys.readouterr().out and "ran in" not in err  # refused before the run


def test_run_refuses_the_current_folder_when_it_holds_files(tmp_path, capsys, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "scenario.toml").write_text(BASE)
    monkeypatch.chdir(tmp_path)
    _refused(["run", "scenario.toml", "--out", ".", "--quiet"], capsys, [tmp_path], "did not make")


@pytest.mark.parametrize("target, expected", [c[1:] for c in OUT_CASES[:4]],
                         ids=[c[0] for c in OUT_CASES[:4]])
def test_reserve_refuses_an_out_that_is_not_its_own(tmp_path, capsys, target, expected):
    folders = _folders(tmp_path)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(RESERVE)
    out = folders[target] if target in folders else tmp_path / target
    _refused(["reserve", str(scenario), "--out", str(out), "--paths", "4", "--quiet",
              "--executor", "local"], capsys, list(folders.values()), expected)


@pytest.mark.parametrize("target, expected", [("user", "did not make"), ("file", "not a folder"),
                                              ("file.txt/sub", "is a file")],
                         ids=["a user's folder", "a file", "under a file"])
def test_experiment_refuses_an_out_that_is_not_its_own(tmp_path, capsys, target, expected):
    folders = _folders(tmp_path)
    (tmp_path / "scenario.toml").write_text(BASE)
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    out = folders[target] if target in folders else tmp_path / target
    _refused(["experiment", str(experiment), "--out", str(out), "--quiet", "--executor", "local"],
             capsys, list(folders.values()), expected)


# --------------------------------------------------------------------------- experiments

EXPERIMENT_CASES = [
    ("latin-1 file", None, "not UTF-8"),
    ("nan low", EXPERIMENT.replace('kind = "grid"', 'kind = "random"').replace(
        "values = [0.01, 0.03]", "low = nan\nhigh = 0.05"), "parameters.0.low"),
    ("inf high", EXPERIMENT.replace('kind = "grid"', 'kind = "random"').replace(
        "values = [0.01, 0.03]", "low = 0.01\nhigh = inf"), "parameters.0.high"),
    ("nan value", EXPERIMENT.replace("values = [0.01, 0.03]", "values = [0.01, nan]"),
     "service_fee"),
    ("replications bool", EXPERIMENT.replace("replications = 2", "replications = true"),
     "experiment.replications"),
    ("seed negative", EXPERIMENT.replace("seed = 3", "seed = -3"), "experiment.seed"),
    ("name traversal", EXPERIMENT.replace('name = "e"', 'name = "../e"'), "experiment.name"),
    ("missing scenario", EXPERIMENT.replace("scenario.toml", "nowhere.toml"),
     "experiment.scenario"),
    ("scenario name too long for the file system", EXPERIMENT.replace("scenario.toml", "x" * 400),
     "experiment.scenario: file name too long"),
    ("name of 90 Chinese characters", EXPERIMENT.replace('name = "e"', 'name = "' + "长" * 90 + '"'),
     "experiment.name: 270 bytes in UTF-8; at most 200"),
    ("random design of a million samples", EXPERIMENT.replace('kind = "grid"', 'kind = "random"\n'
     "samples = 1000000").replace("replications = 2", "replications = 10").replace(
        "values = [0.01, 0.03]", "low = 0.01\nhigh = 0.05"), "10,000,000 runs would take"),
    ("grid of ten billion points", EXPERIMENT.replace("values = [0.01, 0.03]", "values = [0.01, 0.03]"
     + "".join(f'\n[[parameters]]\nkey = "platforms.0.capital_cny"\nvalues = {list(range(1, 101))}'
               for _ in range(5))), "20,000,000,000 design points"),
    ("sobol bounds low = high", EXPERIMENT.replace('kind = "grid"', 'kind = "sobol"').replace(
        "values = [0.01, 0.03]", "low = 0.02\nhigh = 0.02"), "low = high = 0.02"),
    ("fixed value nan", EXPERIMENT.replace("replications = 2",
                                           'replications = 2\nfixed = { "macro.initial_factor" = nan }'),
     "macro.initial_factor"),
]


@pytest.mark.parametrize("text, key", [c[1:] for c in EXPERIMENT_CASES],
                         ids=[c[0] for c in EXPERIMENT_CASES])
def test_a_bad_experiment_is_refused_and_nothing_is_written(tmp_path, capsys, text, key):
    (tmp_path / "scenario.toml").write_text(BASE)
    experiment = tmp_path / "experiment.toml"
    if text is None:
        experiment.write_bytes((EXPERIMENT + "# café\n").encode("latin-1"))
    else:
        experiment.write_text(text)
    out = tmp_path / "out"
    _refused(["experiment", str(experiment), "--out", str(out), "--quiet", "--executor", "local"],
             capsys, [out], key)


def test_an_address_that_is_not_one_is_refused(tmp_path, capsys):
    (tmp_path / "scenario.toml").write_text(BASE)
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT)
    out = tmp_path / "out"
    _refused(["experiment", str(experiment), "--out", str(out), "--quiet", "--executor", "dask",
              "--scheduler", "notanaddress"], capsys, [out], "--scheduler notanaddress")


# --------------------------------------------------------------------------- industry, plan

INDUSTRY_CASES = [
    ('industry.events.0.month="2016-12"', "industry.events[0].month 2016-12 is before the run"),
    ('industry.background_period="2030H9"', "unknown period '2030H9'"),
    ("industry.channels.rumours={enabled=true}", "industry.channels.rumours: unknown key"),
    ("industry.model_shares.fund_pool=0.9", "the shares add up to 1.8"),
    ("industry.investors=5", "industry.investors"),
    ("industry.platforms=1", "industry.platforms"),
    ('industry.start="2017-13"', "industry.start: use a month YYYY-MM"),
    ('industry.events.1.class="martians"', "unknown class of platforms 'martians'"),
    ('industry.events.1.kind="nuke"', "industry.events[1].kind"),
    ("industry.channels.sentiment.decay_daily=1.5", "decay_daily"),
    ("industry.behaviour.transfers=true", "债权转让"),
    ("industry.mean_platforms_per_investor=0.5", "mean_platforms_per_investor"),
    ("industry.events.0.months=0", "industry.events[0].months"),
    ("industry.policies.redemption_gate_daily=2.0", "redemption_gate_daily"),
]


@pytest.mark.parametrize("setting, key", INDUSTRY_CASES, ids=[c[0] for c in INDUSTRY_CASES])
def test_a_bad_industry_is_refused_and_nothing_is_written(tmp_path, capsys, setting, key):
    out = tmp_path / "out"
    _refused(["industry", "scenarios/thunderstorm_2018.toml", "--set", setting, "--out", str(out),
              "--quiet"], capsys, [out], key)


PLAN_CASES = [
    (["--set", 'plan.targets=["net_income_cny[year=1] >= 1e999"]'], "1e999 is out of range"),
    (["--set", 'plan.targets=["net_margin[year=9] >= 0.05"]'], "year 9 is outside the run"),
    (["--set", "plan.targets=[]"], "[plan] has no targets"),
    (["--runs", "0"], "--runs 0: must be at least 1"),
    (["--workers", "0"], "--workers 0: must be at least 1"),
    (["--set", 'plan.uncertain=[{key = "borrowers.nothing", distribution = "normal", '
               'mean = 0.0, sd = 0.1, how = "shift"}]'], "borrowers.nothing"),
]


@pytest.mark.parametrize("extra, key", PLAN_CASES, ids=[" ".join(c[0])[:40] for c in PLAN_CASES])
def test_a_bad_plan_request_is_refused_and_nothing_is_written(tmp_path, capsys, extra, key):
    out = tmp_path / "out"
    _refused(["plan", "scenarios/seed_business_plan.toml", "--out", str(out), "--quiet",
              "--executor", "local", *extra], capsys, [out], key)


# --------------------------------------------------------------------------- reserve, schedule

RESERVE_CASES = [
    (["--paths", "1"], "--paths"),
    (["--confidence", "1.5"], "--confidence"),
    (["--confidence", "nan"], "--confidence"),
    (["--initial-reserve", "nan"], "--initial-reserve"),
    (["--initial-reserve", "inf"], "--initial-reserve"),
    (["--horizon-months", "0"], "--horizon-months"),
    (["--set", "run.horizon_days.x=1"], "run.horizon_days"),
    (["--set", "platforms.0.guarantee.initial_cny=nan"], "platforms[0].guarantee.initial_cny"),
    (["--platform", "nowhere"], "--platform"),
    (["--seed", "-2"], "--seed"),
    (["--paths", "100000000"], "--paths 100000000: must be 2 to 1,000,000"),
]


@pytest.mark.parametrize("extra, key", RESERVE_CASES, ids=[" ".join(c[0]) for c in RESERVE_CASES])
def test_a_bad_reserve_request_is_refused(tmp_path, capsys, extra, key):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(RESERVE)
    out = tmp_path / "out"
    _refused(["reserve", str(scenario), "--out", str(out), "--quiet", "--executor", "local",
              *extra], capsys, [out], key)


def test_a_plan_of_a_hundred_million_runs_is_refused_with_an_estimate(tmp_path, capsys):
    out = tmp_path / "out"
    _refused(["plan", "scenarios/seed_business_plan.toml", "--runs", "100000000", "--out",
              str(out), "--quiet"], capsys, [out], "--runs 100000000", "hours on 2 worker(s)")


def test_an_industry_too_big_for_the_machine_is_refused_with_its_size(tmp_path, capsys,
                                                                     monkeypatch):
    monkeypatch.setattr("sim.footprint.machine_memory_bytes", lambda: 24.0 * 2**30)
    out = tmp_path / "out"
    _refused(["industry", "scenarios/thunderstorm_2018.toml", "--set", "industry.platforms=20000",
              "--set", "industry.investors=20000000", "--out", str(out), "--quiet"], capsys, [out],
             "20,100,000 investors", "industry.investors")  # entrants' to 2020


def test_reserve_on_a_scenario_without_a_reserve_is_refused(tmp_path, capsys):
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(BASE)
    _refused(["reserve", str(scenario), "--out", str(tmp_path / "out"), "--quiet"], capsys,
             [tmp_path / "out"], "guarantee.policy")


SCHEDULE_CASES = [
    (["--principal", "0.001"], "--principal"),
    (["--principal", "1e15"], "--principal"),
    (["--principal", "nan"], "--principal"),
    (["--principal", "-5"], "--principal"),
    (["--rate", "inf"], "--rate"),
    (["--rate", "-0.1"], "--rate"),
    (["--term", "0"], "term_months"),
    (["--term", "61"], "term_months"),
    (["--method", "balloon"], "等额本息"),
]


@pytest.mark.parametrize("extra, key", SCHEDULE_CASES, ids=[" ".join(c[0]) for c in SCHEDULE_CASES])
def test_a_bad_schedule_request_is_refused(capsys, extra, key):
    argv = {"--principal": "10000", "--rate": "0.12", "--term": "12"}
    for name, value in zip(extra[::2], extra[1::2], strict=True):
        argv[name] = value
    flat = ["schedule", *[x for pair in argv.items() for x in pair]]
    _refused(flat, capsys, [], key)


def test_schedule_of_the_smallest_and_largest_amounts_is_exact_to_the_fen(capsys):
    assert main(["schedule", "--principal", "0.01", "--rate", "0.12", "--term", "2"]) == 0
    assert "0.01" in capsys.readouterr().out
    assert main(["schedule", "--principal", "10000000000", "--rate", "0.12", "--term", "1"]) == 0
    assert "10,100,000,000.00" in capsys.readouterr().out  # principal + 1 % interest, to the fen


# --------------------------------------------------------------------------- a user's policies

POLICY_CASES = [
    ("pricing", "bad_policies:InfPrice", {"kind": '"inf"'}, "returned a bad value"),
    ("pricing", "bad_policies:InfPrice", {"kind": '"negative"'}, "returned a bad value"),
    ("pricing", "bad_policies:InfPrice", {"kind": '"above_one"'}, "returned a bad value"),
    ("pricing", "bad_policies:InfPrice", {"kind": '"short"'}, "values (one per item)"),
    ("pricing", "bad_policies:InfPrice", {"kind": '"raise"'}, "raised ZeroDivisionError"),
    ("risk", "bad_policies:NanAmounts", {}, "holds NaN"),
    ("marketing", "bad_policies:NoPlan", {}, "must return a sim.policies.marketing.MarketingPlan"),
]


@pytest.mark.parametrize("family, name, params, fault", POLICY_CASES,
                         ids=[f"{c[1]} {c[2]}" for c in POLICY_CASES])
def test_a_faulty_user_policy_stops_the_run_with_its_name_platform_and_day(
        tmp_path, capsys, family, name, params, fault):
    (tmp_path / "bad_policies.py").write_text(BAD_POLICIES)
    extra = "".join(f"{k} = {v}\n" for k, v in params.items())
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(_platform(f'policy = "{name}"\n{extra}', family))
    out = tmp_path / "out"
    err = _refused(["run", str(scenario), "--out", str(out), "--quiet"], capsys, [out], fault,
                   f"{family} policy {name!r}", "platform 'p'")
    assert ", day " in err or "while the market was built" in err


def test_a_user_policy_that_cannot_be_built_is_refused_by_name(tmp_path, capsys):
    (tmp_path / "bad_policies.py").write_text(BAD_POLICIES)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(_platform('policy = "bad_policies:BrokenBuild"', "pricing"))
    _refused(["run", str(scenario), "--out", str(tmp_path / "out")], capsys, [tmp_path / "out"],
             "platforms[0].pricing.policy", "RuntimeError: no database connection")


def test_a_raising_policy_shows_the_users_own_traceback_below_the_message(tmp_path, capsys):
    (tmp_path / "bad_policies.py").write_text(BAD_POLICIES)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(_platform('policy = "bad_policies:InfPrice"\nkind = "raise"', "pricing"))
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "where, in your code:" in err and "bad_policies.py" in err and "return 1 / 0" in err
    assert "sim/model.py" not in err


def test_a_correct_user_policy_still_runs(tmp_path):
    (tmp_path / "bad_policies.py").write_text(BAD_POLICIES)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(_platform('policy = "bad_policies:FineMarketing"', "marketing"))
    assert main(["run", str(scenario), "--out", str(tmp_path / "out"), "--quiet"]) == 0



def test_a_faulty_user_policy_stops_a_reserve_study_and_nothing_is_written(tmp_path, capsys):
    (tmp_path / "bad_policies.py").write_text(BAD_POLICIES)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(RESERVE + '[platforms.pricing]\npolicy = "bad_policies:InfPrice"\n')
    out = tmp_path / "out"
    _refused(["reserve", str(scenario), "--out", str(out), "--paths", "3", "--quiet",
              "--executor", "local"], capsys, [out], "nothing written",
             "pricing policy 'bad_policies:InfPrice' of platform 'p', day 0", "holds inf")


def test_a_negative_zero_is_read_as_zero_in_every_file_and_option(tmp_path):
    """-0.0 passes ``>= 0`` but numpy refuses it as a scale: the trial found a plan's sd = -0.0."""
    import math

    from sim.plan.inputs import run_inputs
    from sim.scenario import load_scenario
    from sim.scenario.loading import parse_set

    assert math.copysign(1.0, parse_set("borrowers.amount_sigma=-0.0")[1]) == 1.0
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(BASE + '\n[plan]\ntargets = []\n[[plan.uncertain]]\nkey = '
                        '"platforms.0.service_fee"\ndistribution = "normal"\nmean = 0.0\n'
                        'sd = -0.0\nhow = "shift"\n', encoding="utf-8")
    loaded = load_scenario(scenario)
    assert math.copysign(1.0, loaded.plan.uncertain[0].sd) == 1.0
    overrides, _ = run_inputs(loaded.plan.uncertain, loaded, 1, 0)
    assert overrides["platforms.0.service_fee"] == loaded.platforms[0].service_fee
