"""Sizing any layer: root-finding over the size with common random numbers (sim.reserve.solver)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from sim.cli import main
from sim.model import P2PMarket
from sim.reserve import ReserveRequest, run_reserve_study
from sim.reserve.paths import run_path
from sim.reserve.request import check
from sim.reserve.study import plan_paths

RESERVE = "scenarios/reserve_fund.toml"
TOP_UP = "scenarios/reserve_top_up.toml"
LAYERED = "scenarios/layered_protection.toml"
SHORT = {"run.horizon_days": 450}


def _tasks(scenario, paths=3, overrides=None, **options):
    request = ReserveRequest(scenario=scenario, paths=paths, executor="local", quiet=True,
                             overrides={**SHORT, **(overrides or {})}, seed=11, **options)
    plan = check(request)
    return plan, plan_paths(request, plan)[1]


def _run(task):
    record = run_path(task)
    assert record["status"] == "ok", record.get("error")
    return record


def _real_run(task, key, value):
    """The path itself, without a float, at ``value`` of ``key``: the layers as they would be."""
    model = P2PMarket(task.scenario, rng=task.seed, audit="step", threads=1,
                      macro_shocks=np.asarray(task.shocks),
                      **{**task.overrides, "run.horizon_days": task.horizon_days, key: value})
    model.run()
    platform = model.platforms[task.platform]
    loans = model.book.loan_columns()
    mine = loans.platform == task.platform
    first = (loans.covered[mine] & 1) == 1  # covered by the first layer
    platform.turned_away = (loans.principal_fen[mine][~first].sum()
                            / loans.principal_fen[mine][first].sum())
    return platform


def _guarantor_enough(platform) -> bool:
    """Never failed, and its leverage limit left at most 0.5 % of the book uncovered."""
    return platform.layers[0].failed_day is None and platform.turned_away <= 0.005


def test_without_feedback_root_finding_gives_the_one_run_answer_in_two_runs():
    plan, tasks = _tasks(RESERVE, solver="root-finding")
    assert plan.solver == "root-finding" and "asked for" in plan.solver_reason
    _, plain = _tasks(RESERVE)
    for rooted, one_run in zip(tasks[:2], plain[:2], strict=True):
        found, once = _run(rooted), _run(one_run)
        assert found["required_reserve"] == once["required_reserve"] > 0
        assert found["solver_runs"] == 2 and found["solver_converged"]


def test_with_a_top_up_rule_the_size_found_is_just_enough_on_the_path():
    plan, tasks = _tasks(TOP_UP)
    assert plan.solver == "root-finding" and "funding rules" in plan.solver_reason
    task = tasks[0]
    record = _run(task)
    need, short = record["required_reserve"], record["solver_low"]
    assert record["solver_converged"] and need > 0 and need - short <= 0.005 * need + 1000
    key = plan.unknown.key
    assert _real_run(task, key, need).guarantee.unpaid_fen == 0
    assert _real_run(task, key, short * 0.99).guarantee.unpaid_fen > 0
    assert record["solver_runs"] > 2  # the rule makes the path depend on the size
    assert _run(task)["required_reserve"] == need  # same seed, same shocks: the same answer


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_solving_only_the_paths_near_the_quantiles_gives_the_quantiles_of_solving_every_one(
        tmp_path):
    import pandas as pd

    results = {}
    for refine in ("near-quantiles", "every-path"):
        results[refine] = run_reserve_study(ReserveRequest(
            scenario=TOP_UP, paths=20, executor="local", quiet=True, seed=5, refine=refine,
            overrides={"run.horizon_days": 360, "investors.count": 4000,
                       "platforms.0.guarantee.cap_coverage": 1.0},
            confidence=(0.5,), out=str(tmp_path / refine)))
    near, every = results["near-quantiles"], results["every-path"]
    for mine, theirs in zip(near["requirements"], every["requirements"], strict=True):
        for key in ("initial_reserve_cny", "initial_reserve_se", "initial_reserve_low",
                    "initial_reserve_high"):
            assert mine[key] == theirs[key]
    assert every["solver"]["solved_share"] == 1.0 > near["solver"]["solved_share"]
    assert near["solver"]["runs_per_path"] < every["solver"]["runs_per_path"]
    paths = pd.read_parquet(tmp_path / "near-quantiles" / "paths.parquet")
    need = near["requirements"][0]["initial_reserve_cny"]
    bounded = paths[~paths.solver_exact]  # each on its side of the median, by its bracket
    assert ((bounded.solver_high < need) | (bounded.solver_low > need)).all()
    mean = next(row for row in near["statistics"]["required_reserve"] if row["statistic"] == "mean")
    assert np.isnan(mean["estimate"])  # depends on every path: not estimated from bounds


def test_a_guarantor_s_capital_is_sized_by_root_finding_because_of_its_leverage_limit():
    plan, tasks = _tasks(LAYERED, layer="guarantor")
    assert plan.solver == "root-finding" and "leverage limit" in plan.solver_reason
    assert plan.unknown.key == "platforms.0.guarantee.layers.0.capital_cny"
    record = _run(tasks[0])
    need, short = record["required_reserve"], record["solver_low"]
    assert need > 5_000_000 and record["solver_converged"]
    assert need - short <= 0.02 * need + 1000  # a guarantor's capital to 2 %
    assert _guarantor_enough(_real_run(tasks[0], plan.unknown.key, need))
    assert not _guarantor_enough(_real_run(tasks[0], plan.unknown.key, short * 0.99))


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_behind_a_guarantor_that_never_fails_no_reserve_is_needed(tmp_path):
    rich = {**SHORT, "platforms.0.guarantee.layers.0.capital_cny": 1e10,
            "platforms.0.guarantee.layers.0.leverage_limit": 100.0}
    results = run_reserve_study(ReserveRequest(
        scenario=LAYERED, paths=4, executor="local", quiet=True, overrides=rich, seed=3,
        out=str(tmp_path / "rich")))
    assert results["solver"]["method"] == "one-run"
    for need in results["requirements"]:
        assert need["initial_reserve_cny"] == 0
        assert need["initial_reserve_relative_se"] in (0.0, None)  # never 0/0 = NaN
    assert "nan" not in (tmp_path / "rich" / "requirements.csv").read_text().lower()
    lean = run_reserve_study(ReserveRequest(
        scenario=LAYERED, paths=4, executor="local", quiet=True, overrides=dict(SHORT), seed=3,
        out=str(tmp_path / "lean")))
    assert lean["requirements"][0]["initial_reserve_cny"] > 0  # the lean guarantor fails


@pytest.mark.parametrize("scenario, args, message", [
    (RESERVE, ["--layer", "guarantor"], "no platform has a guarantor layer"),
    (LAYERED, ["--layer", "guarantor", "--solve", "fee_share"],
     "(guarantor) has no fee_share; allowed with --layer guarantor: size"),
    (RESERVE, ["--solve", "principal_share"], "--solve chooses the unknown of --solver root-finding"),
    (TOP_UP, ["--solver", "one-run"], "use --solver root-finding"),
])
def test_bad_sizing_requests_exit_2_and_write_nothing(tmp_path, capsys, scenario, args, message):
    out = tmp_path / "never"
    code = main(["reserve", scenario, "--paths", "4", "--out", str(out), "--quiet", *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_the_relative_error_of_a_zero_requirement_is_never_nan():
    from sim.reserve.text import relative_error, relative_error_text

    assert relative_error(5.0, 100.0) == pytest.approx(0.05)
    assert relative_error(0.0, 0.0) == 0.0
    assert relative_error(3.0, 0.0) is None
    assert "undefined: the estimate is 0" in relative_error_text(None)


def test_an_unknown_layer_is_refused_by_the_command_line(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["reserve", RESERVE, "--layer", "insurer"])
    assert stop.value.code == 2 and "invalid choice: 'insurer'" in capsys.readouterr().err


BOARD = """
scenario = "{scenario}"
paths = 4
confidence = [0.9]
seed = 2
[[schemes]]
name = "reserve alone"
[schemes.set]
"platforms.0.guarantee" = {{ policy = "reserve_fund", initial_cny = 2_000_000.0, fee_share = 0.3 }}
"run.horizon_days" = 360
[[schemes]]
name = "guarantor alone"
layer = "guarantor"
[schemes.set]
"platforms.0.guarantee" = {{ policy = "guarantor", capital_cny = 5_000_000.0 }}
"run.horizon_days" = 360
"""


def _board_file(tmp_path, text=None):
    from pathlib import Path

    path = tmp_path / "board.toml"
    path.write_text(text or BOARD.format(scenario=Path(LAYERED).resolve()), encoding="utf-8")
    return path


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_the_board_compares_schemes_in_a_table_and_a_figure(tmp_path, capsys):
    from pathlib import Path

    import pandas as pd

    out = tmp_path / "board"
    text = BOARD.format(scenario=Path(LAYERED).resolve())
    text = text.replace("seed = 2", "seed = 2\nequal_lending = true")
    assert main(["board", str(_board_file(tmp_path, text)), "--out", str(out), "--quiet",
                 "--workers", "1", "--executor", "local"]) == 0
    table = pd.read_csv(out / "board.csv")
    assert table.scheme.tolist() == ["reserve alone", "guarantor alone",
                                     "guarantor alone, at equal lending"]
    assert table.method.tolist() == ["one-run", "root-finding", "root-finding"]
    book = table["book sized (CNY)"]  # borrowers see the guarantee fee and borrow less ...
    assert book[1] < 0.98 * book[0] and abs(book[2] / book[0] - 1) <= 0.02  # ... unless demand
    assert table.basis[2].startswith("demand x 1.")                       # is scaled up
    table = table.iloc[:2]
    assert (table["size 0.9 (CNY)"] > 0).all() and table["size 0.9 se"].notna().all()
    assert (table["P(short within horizon) as configured"].between(0, 1)).all()
    reserve = table.iloc[0]  # 8 % of the size plus the platform's 30 % fee share, a year
    assert reserve["cost a year at 0.9 (CNY)"] == pytest.approx(
        0.08 * reserve["size 0.9 (CNY)"] + reserve["platform pays in a year (CNY)"])
    assert reserve["platform pays in a year (CNY)"] > 0
    assert (out / "board.png").stat().st_size > 10_000
    assert not (tmp_path / ".board.paths").exists()  # the paths kept while it ran are gone
    for (_, row), scheme in zip(table.iterrows(), ("reserve_alone", "guarantor_alone"),
                                strict=True):  # P(short) as configured agrees with the sizes
        paths = pd.read_parquet(out / "schemes" / scheme / "paths.parquet")
        short = (paths.required_reserve > row["configured size (CNY)"]) * paths.weight
        assert row["P(short within horizon) as configured"] == pytest.approx(
            short.sum() / paths.weight.sum())
    printed = capsys.readouterr().out
    assert "guarantor alone" in printed and "book sized (mean over the paths)" in printed
    assert "at equal lending" in printed and "its own book" in printed
    assert "against the closed form" in printed and "Warnings:" in printed  # few paths: said so
    page = tmp_path / "board.html"  # and a report a board can be handed
    assert main(["report", str(out), "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "guarantor alone" in html and "data:image/png;base64" in html
    assert "at equal lending" in html and "own is in the table" in html
    assert "leverage limit" in html  # how each was sized, and why
    assert 'id="warnings"' in html and "Against the closed form" in html


@pytest.mark.parametrize("change, message", [
    (lambda t: t.replace("seed = 2", "seeds = 2"), "seeds: unknown key"),
    (lambda t: t.split("[[schemes]]")[0], "schemes: give at least one"),
    (lambda t: t.replace('layer = "guarantor"', 'layer = "insurer"'),
     "schemes[1].layer: Input should be 'reserve_fund' or 'guarantor' (got 'insurer')"),
    (lambda t: t.replace('name = "guarantor alone"', 'name = "Reserve alone!"'),
     "differ only in case or punctuation"),  # one folder for two schemes
    (lambda t: t.replace("paths = ", "paths = 0 #"), "paths: Input should be greater than or"),
    (lambda t: t.replace("paths = ", 'paths = "4" #'), "paths: Input should be a valid integer"),
    (lambda t: t.replace("seed = 2", "seed = 2.5 #"), "seed: Input should be a valid integer"),
    (lambda t: "cost_of_capital = true\n" + t, "cost_of_capital: Input should be a valid number"),
    (lambda t: re.sub(r"confidence = \[[^]]*\]", "confidence = 0.99", t),
     "confidence: Input should be a valid list"),
    (lambda t: re.sub(r"confidence = \[[^]]*\]", "confidence = [0.5, 1.0]", t),
     "1.0: each level strictly between 0 and 1"),
    (lambda t: "horizon_months = \"36\"\n" + t, "horizon_months: Input should be a valid integer"),
    (lambda t: '[experiment]\nname = "x"\n', "this is an experiment file"),
    (lambda t: re.sub(r'scenario = "[^"]*"', 'scenario = "' + "x" * 400 + '"', t),
     "scenario: file name too long"),
    (lambda t: t.replace('name = "guarantor alone"', 'name = "\\u0000"'),
     "schemes[1].name: a control character"),
    (lambda t: t.replace('name = "guarantor alone"', 'name = "--- !"'),
     "schemes[1].name: no letter or digit"),
    (lambda t: t.replace('name = "guarantor alone"', 'name = "reserve alone"'),
     "schemes[1].name: 'reserve alone' is used twice"),
    (lambda t: t.replace('name = "reserve alone"', 'name = "reserve alone"\nlayer = "guarantor"'),
     "scheme 'reserve alone': "),  # and the study's own message
])
def test_a_bad_board_exits_2_and_writes_nothing(tmp_path, capsys, change, message):
    from pathlib import Path

    text = change(BOARD.format(scenario=Path(LAYERED).resolve()))
    out = tmp_path / "never"
    assert main(["board", str(_board_file(tmp_path, text)), "--out", str(out), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_board_of_zero_paths_is_refused_not_run_with_the_file_s(tmp_path, capsys):
    out = tmp_path / "never"
    assert main(["board", str(_board_file(tmp_path)), "--paths", "0", "--out", str(out),
                 "--quiet"]) == 2
    assert "--paths 0: must be 2 to" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_an_interrupted_study_resumes_from_its_kept_paths_to_the_same_numbers(tmp_path,
                                                                              monkeypatch):
    """Ctrl-C in a refining round, then the same command: the study an uninterrupted one gives."""
    import pandas as pd

    import sim.reserve.study as study

    def request(out):
        return ReserveRequest(scenario=TOP_UP, paths=8, executor="local", quiet=True, seed=5,
                              overrides={"run.horizon_days": 300, "investors.count": 3000},
                              confidence=(0.9,), out=str(tmp_path / out))

    calls = []
    real = study.run_path

    def counted(task):
        calls.append(task.path)
        return real(task)

    monkeypatch.setattr(study, "run_path", counted)
    whole = run_reserve_study(request("whole"))
    runs = len(calls)
    assert runs > 8 + 2  # a refining round after the first
    assert not (tmp_path / ".whole.paths").exists()  # the kept paths go once the study is written

    def interrupted(task):
        if len(calls) == runs + 10:  # two paths into the first refining round
            raise KeyboardInterrupt
        return counted(task)

    monkeypatch.setattr(study, "run_path", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_reserve_study(request("resumed"))
    assert not (tmp_path / "resumed").exists()
    assert len(list((tmp_path / ".resumed.paths" / "runs").glob("run-*.json"))) == 10
    monkeypatch.setattr(study, "run_path", counted)
    before = len(calls)
    resumed = run_reserve_study(request("resumed"))
    assert len(calls) - before == runs - 10  # only what was not kept is run
    for key in ("requirements", "statistics", "solver", "exhaustion_probability"):
        assert json.dumps(resumed[key]) == json.dumps(whole[key])  # NaN for NaN too
    columns = [c for c in pd.read_parquet(tmp_path / "whole" / "paths.parquet").columns
               if c != "elapsed_s"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "whole" / "paths.parquet")[columns],
                                  pd.read_parquet(tmp_path / "resumed" / "paths.parquet")[columns])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["resumed", "whole"]
