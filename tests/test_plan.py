"""``p2psim plan``: uncertain inputs, the odds of each target, the spreadsheet, bad input."""

from __future__ import annotations

import math

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sim.cli import main
from sim.plan.analysis import drivers, runs_needed, target_odds, wilson
from sim.plan.inputs import apply, run_inputs
from sim.plan.study import PlanRequest, run_plan
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.plan import UncertainInput

from .test_hardening_iii import strict

PLAN = "scenarios/seed_business_plan.toml"
SMALL = {"investors.count": 3000}


def test_inputs_are_set_scaled_or_shifted_and_reproducible():
    scenario = load_scenario(PLAN)
    uncertain = scenario.plan.uncertain
    first, draws = run_inputs(uncertain, scenario, seed=7, run=3)
    again, _ = run_inputs(uncertain, scenario, seed=7, run=3)
    other, _ = run_inputs(uncertain, scenario, seed=7, run=4)
    assert first == again and first != other
    hazard = scenario.grades.default_hazard_monthly
    factor = draws["grades.default_hazard_monthly"]
    assert first["grades.default_hazard_monthly"] == [h * factor for h in hazard]
    growth = draws["borrowers.growth_per_year"]
    assert first["borrowers.growth_per_year"] == [g + growth for g in (0.15, 0.10, 0.08)]
    assert 0.04 <= first["platforms.0.marketing.channels.0.register_rate"] <= 0.12
    count = UncertainInput(key="investors.count", distribution="uniform", low=0.5, high=1.5,
                           how="scale")
    assert apply(count, 3000, 1.2345) == 3704  # an integer key stays an integer


@pytest.mark.parametrize("spec, words", [
    ({"distribution": "normal", "mean": 0.0}, "needs mean, sd; missing: sd"),
    ({"distribution": "normal", "mean": 0.0, "sd": -1.0}, "greater than or equal to 0"),
    ({"distribution": "uniform", "low": 2.0, "high": 1.0}, "must be below high"),
    ({"distribution": "triangular", "low": 0.0, "mode": 3.0, "high": 1.0}, "mode"),
    ({"distribution": "lognormal", "median": 1.0, "sigma": 0.2, "sd": 0.1}, "not sd"),
    ({"distribution": "poisson", "mean": 1.0}, "distribution"),
])
def test_a_distribution_with_bad_parameters_names_the_key(spec, words):
    with pytest.raises(ScenarioError, match="plan.uncertain.0") as error:
        load_scenario(PLAN, {"plan.uncertain": [{"key": "borrowers.dti_mean", **spec}]})
    assert words in str(error.value)


def test_wilson_interval_and_runs_needed():
    low, high = wilson(50, 100)
    assert math.isclose(low, 0.4038, abs_tol=1e-4) and math.isclose(high, 0.5962, abs_tol=1e-4)
    assert wilson(0, 20)[0] == 0.0 and 0 < wilson(0, 20)[1] < 0.17
    assert runs_needed(0.05) == 385


def test_drivers_find_the_input_that_decides_a_target():
    rng = np.random.default_rng(1)
    records = []
    for run in range(200):
        decisive, noise = rng.random(), rng.random()
        records.append({"run": run, "params": {"decisive": decisive, "noise": noise},
                        "plan": {"targets": [{"value": decisive, "met": decisive > 0.6}]}})
    table = drivers(records, ["x >= 0.6"], ["decisive", "noise"]).set_index("input")
    assert table.loc["decisive", "ks_distance"] == 1.0
    assert table.loc["noise", "ks_distance"] < 0.25 and table.loc["noise", "p_value"] > 0.01
    odds = target_odds(records, ["x >= 0.6"]).iloc[0]
    assert odds.met == sum(r["params"]["decisive"] > 0.6 for r in records)
    assert math.isclose(odds.standard_error, math.sqrt(odds.probability * (1 - odds.probability)
                                                       / 200))


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_a_plan_study_gives_odds_statements_and_a_spreadsheet(tmp_path):
    out = tmp_path / "plan"
    results = run_plan(PlanRequest(PLAN, runs=6, workers=1, executor="local", out=str(out),
                                   overrides=SMALL, quiet=True))
    assert results["failed"] == 0
    runs = pd.read_csv(out / "runs.csv")
    odds = pd.read_csv(out / "targets.csv")
    for row in odds.itertuples():
        assert row.met == runs[f"{row.target} | met"].sum()
        assert row.ci95_low <= row.probability <= row.ci95_high
    book = openpyxl.load_workbook(out / "plan.xlsx")
    assert {"Targets", "Income statement", "Cash flow", "Balance sheet", "Drivers",
            "Runs", "About"} <= set(book.sheetnames)
    sheet = book["Income statement"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["Line", "Year 1 P10", "Year 1 P50", "Year 1 P90"]
    assert sheet.freeze_panes == "B2" and sheet["C2"].number_format == "#,##0"
    lines = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    for title in ("Income statement", "Cash flow", "Balance sheet"):  # said where it is read
        last = book[title].cell(row=book[title].max_row, column=1).value
        assert "do not add up" in last and "P50 of costs" in last
    net = lines["Net income (净利润)"]
    assert net[1].value <= net[2].value <= net[3].value
    quantiles = pd.read_csv(out / "statements_by_year.csv")
    revenue = quantiles[(quantiles.line == "revenue") & (quantiles.year == 1)].iloc[0]
    assert math.isclose(lines["Revenue (营业收入)"][2].value, revenue.p50)
    for name in ("fans.png", "targets.png", "plan.json", "drivers.csv", "timing.csv",
                 "capital_needed.csv"):
        assert (out / name).stat().st_size > 0
    strict((out / "plan.json").read_text())
    inputs = {row[0].value: [cell.value for cell in row] for row in book["Inputs"].iter_rows()}
    assert inputs["platforms.0.company.vat_rate"][1:4] == [0.06, "rate (0.06 = 6 %)",
                                                           "营改增 (财税〔2016〕36号): financial "
                                                           "services, 6 %"]
    assert inputs["platforms.0.operating_cost_monthly_cny"][2:4] == ["CNY", "assumption: no source given"]
    assert inputs["run.horizon_days"][3] == "assumption: no source given"  # the file says 1080
    assert inputs["platforms.0.funding"][3] == "model default (docs/scenarios.md)"  # it is silent
    assert inputs["grades.default_hazard_monthly"][4] == "lognormal (scale)"  # drawn each run


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_a_plan_study_is_the_same_on_one_worker_or_two(tmp_path):
    one = run_plan(PlanRequest(PLAN, runs=4, workers=1, executor="local",
                               out=str(tmp_path / "one"), overrides=SMALL, quiet=True))
    two = run_plan(PlanRequest(PLAN, runs=4, workers=2, executor="process",
                               out=str(tmp_path / "two"), overrides=SMALL, quiet=True))
    pd.testing.assert_frame_equal(one["runs_table"].sort_values("run").reset_index(drop=True),
                                  two["runs_table"].sort_values("run").reset_index(drop=True))


@pytest.mark.parametrize("argv, words", [
    (["--set", "plan.targets=[]"], "[plan] has no targets"),
    (["--set", 'plan.targets=["net_margin[year=9] >= 0"]'], "plan.targets[0]"),
    (["--set", 'plan.uncertain=[{key = "borrowers.nothing", distribution = "normal", mean = 0.0, '
               'sd = 1.0}]'], "names no key of the scenario"),
    (["--set", 'plan.uncertain=[{key = "grades.cure_probability", distribution = "normal", '
               'mean = 0.0, sd = 5.0}]'], "which the scenario refuses"),
    (["--runs", "0"], "--runs 0"),
    (["--set", 'plan.sources={"platforms.0.nothing" = "a law"}'],
     "plan.sources: 'platforms.0.nothing' names no key"),
])
def test_bad_plan_requests_exit_2_and_write_nothing(argv, words, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["plan", PLAN, "--out", str(out), "--quiet", *argv])
    assert code == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_a_plan_study_resumes_and_refuses_another_plans_folder(tmp_path):
    out = str(tmp_path / "plan")
    first = run_plan(PlanRequest(PLAN, runs=2, workers=1, executor="local", out=out,
                                 overrides=SMALL, quiet=True))
    again = run_plan(PlanRequest(PLAN, runs=2, workers=1, executor="local", out=out,
                                 overrides=SMALL, quiet=True))
    assert again["skipped"] == 2
    pd.testing.assert_frame_equal(first["targets"], again["targets"])
    with pytest.raises(Exception, match="--overwrite"):
        run_plan(PlanRequest(PLAN, runs=2, workers=1, executor="local", out=out, seed=99,
                             overrides=SMALL, quiet=True))


# ----------------------------------------------------------------- --solve: answers, not brackets

# One year of the seed plan's platform, small, its raises and targets dropped, owners' calls
# unlimited and no marketing budgets (a platform spends on marketing only the cash it has): the
# path then does not read the platform's cash, and the capital a run needs is read from one run
# at any capital too low for it, which gives the solve a known answer.
KNOWN = {"investors.count": 2000, "run.horizon_days": 360,
         "platforms.0.company.capital_raises": [], "plan.targets": ["capital_needed_cny <= 0"],
         "platforms.0.liquidity.capital_call_limit_cny": -1,
         "platforms.0.marketing.channels.0.budget_monthly_cny": 0.0,
         "platforms.0.marketing.channels.1.budget_monthly_cny": 0.0}


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_solve_finds_the_capital_that_one_run_per_path_says_is_needed(tmp_path, monkeypatch):
    from sim.plan.evaluations import Evaluations
    from sim.plan.solve import SolveRequest, run_solve

    capital = 1_000_000  # every run needs more: its need is then its threshold less this
    plan = run_plan(PlanRequest(PLAN, runs=8, workers=2, out=str(tmp_path / "plan"), quiet=True,
                                overrides={**KNOWN, "platforms.0.capital_cny": capital}))
    assert (plan["runs_table"]["capital_needed_cny"] > 0).all()
    needed = np.sort(capital + plan["runs_table"]["capital_needed_cny"].to_numpy())
    known = needed[math.ceil(0.75 * 8) - 1]  # the 6th of 8: met in 75 % of the runs from there
    assert plan["capital"].set_index("level").loc["p50", "capital_needed_cny"] == \
        np.quantile(needed - capital, 0.5, method="inverted_cdf")
    request = PlanRequest(PLAN, runs=8, workers=2, out=str(tmp_path / "solve"), overrides=KNOWN,
                          quiet=True)
    solve = SolveRequest("platforms.0.capital_cny", "capital_needed_cny <= 0", 0.75,
                         tolerance=50_000)
    evaluate, calls = Evaluations.evaluate, []

    def interrupted(self, *args):  # Ctrl-C at the third value tried: two are kept
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return evaluate(self, *args)

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(Evaluations, "evaluate", interrupted)
        run_solve(request, solve)
    kept = tmp_path / ".solve.paths" / "runs"
    assert len(list(kept.glob("run-*.json"))) == 2 * 8
    result = run_solve(request, solve)  # resumes: the answer of a search never interrupted
    assert not kept.parent.exists()
    assert abs(result["answer"] - known) <= 50_000 and result["answer"] >= known
    assert result["share_at_answer"] == 0.75 and result["direction"] == "larger helps"
    low, high = result["interval"]
    assert low < result["answer"] < high
    # common random numbers: the share never falls as the capital grows, on every value tried
    assert result["monotone"] and result["contradictions"] == 0
    trials = pd.read_csv(tmp_path / "solve" / "trials.csv").sort_values("value")
    assert trials.share.is_monotonic_increasing and len(trials) == result["values_tried"]
    assert result["runs_run"] < 8 * len(trials)  # decided runs are not run again
    for name in ["solve.json", "trials.csv", "thresholds.csv", "solve.png"]:
        assert (tmp_path / "solve" / name).stat().st_size > 0
    strict((tmp_path / "solve" / "solve.json").read_text())


@pytest.mark.parametrize("argv, words", [
    (["--solve", "platforms.0.funding", "--for", "cash_ran_out <= 0"],
     "'platforms.0.funding' is 'auto_invest', not a number"),
    (["--solve", "platforms.0.nothing", "--for", "cash_ran_out <= 0"], "names no key"),
    (["--solve", "platforms.0.capital_cny"], "--solve KEY and --for TARGET go together"),
    (["--solve", "platforms.0.capital_cny", "--for", "cash_ran_out <= 0", "--probability", "1.5"],
     "--probability 1.5"),
    (["--solve", "platforms.0.capital_cny", "--for", "cash_lasts <= 0"], "names no figure"),
    (["--solve", "borrowers.applications_per_day", "--for", "cash_ran_out <= 0"],
     "draws it in [[plan.uncertain]]"),
    (["--solve", "platforms.0.capital_cny", "--for", "cash_ran_out <= 0", "--bracket", "0", "1",
      "--runs", "2", "--executor", "local", "--set", "run.horizon_days=360", "--set",
      "platforms.0.company.capital_raises=[]", "--set", "plan.targets=[]",
      "--set", "investors.count=1000"], "is not reached within the bracket"),
])
def test_bad_solve_requests_exit_2_and_write_nothing(argv, words, tmp_path, capsys):
    out = tmp_path / "solve"
    code = main(["plan", PLAN, "--out", str(out), "--quiet", *argv])
    assert code == 2
    assert words in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_the_representative_runs_statements_add_up_by_their_formulas(tmp_path):
    """plan.xlsx: the representative run month by month; every total a formula giving the books'."""
    import re

    out = tmp_path / "plan"
    results = run_plan(PlanRequest(PLAN, runs=3, workers=1, executor="local", out=str(out),
                                   overrides=SMALL, quiet=True))
    book = openpyxl.load_workbook(out / "plan.xlsx")
    for statement, title in (("income", "Representative run, income"),
                             ("cash_flow", "Representative run, cash flow"),
                             ("balance_sheet", "Representative run, balance")):
        sheet, books = book[title], results["Representative"]["statements"][statement]
        cells = {cell.coordinate: cell.value for row in sheet.iter_rows() for cell in row}

        def value(ref):  # a cell's number, formulas evaluated (SUM of ranges and cells)
            content = cells[ref]
            if not (isinstance(content, str) and content.startswith("=SUM(")):
                return content or 0.0
            total = 0.0
            for part in content[5:-1].split(","):
                first, _, last = part.partition(":")
                column, low = re.match(r"([A-Z]+)(\d+)", first).groups()
                end_column, high = re.match(r"([A-Z]+)(\d+)", last or first).groups()
                columns = [column] if column == end_column else [
                    openpyxl.utils.get_column_letter(j) for j in range(
                        openpyxl.utils.column_index_from_string(column),
                        openpyxl.utils.column_index_from_string(end_column) + 1)]
                total += sum(value(f"{c}{r}") for c in columns for r in range(int(low), int(high) + 1))
            return total

        totals = {"income": ["revenue", "profit_before_tax", "net_income"],
                  "cash_flow": ["net_cash_flow"],
                  "balance_sheet": ["total_assets", "total_liabilities", "total_equity"]}[statement]
        lines = list(books.index)
        for line in totals:
            row = lines.index(line) + 2
            assert str(cells[f"B{row}"]).startswith("=SUM(")
            for j, month in enumerate(books.columns):
                letter = openpyxl.utils.get_column_letter(j + 2)
                assert math.isclose(value(f"{letter}{row}"), books.at[line, month], abs_tol=0.005)
        if statement != "balance_sheet":  # the Total column adds the months
            last = openpyxl.utils.get_column_letter(len(books.columns) + 2)
            row = lines.index(totals[-1]) + 2
            assert math.isclose(value(f"{last}{row}"), books.loc[totals[-1]].sum(), abs_tol=0.05)
    net = results["Representative"]["statements"]["income"].loc["net_income"].sum()
    runs = pd.read_csv(out / "runs.csv")
    assert results["Representative"]["run"] in runs.run.tolist() and math.isfinite(net)


def _record(run, revenue, net, cash, failure=None):
    return {"run": run, "plan": {"statements": {"income:revenue": revenue,
                                                "income:net_income": net},
                                 "once": {"min_cash_cny": cash}, "failure": failure}}


def test_the_representative_run_is_nearest_the_median_of_every_key_figure_at_once():
    """Not the median of one figure: run 2 has the median net income but the lowest revenue."""
    from sim.plan.representative import representative_run

    records = [_record(0, [10, 20], [-5, 1], 3.0), _record(1, [12, 22], [-4, 2], 4.0),
               _record(2, [1, 2], [-4.5, 1.5], 0.5), _record(3, [11, 21], [-4.8, 1.2], 3.5),
               _record(4, [13, 23], [-3, 3], 5.0)]
    chosen, ranks = representative_run(records)
    assert chosen["run"] == 3
    assert ranks["revenue_year_1"] == 0.5 and ranks["net_income_year_1"] == 0.25


def test_failures_are_counted_by_cause_and_capital_marked_where_only_a_lower_bound():
    from sim.plan.analysis import capital_needed, failures
    from sim.plan.study import capital_line, failure_line

    costs = {"day": 400, "state": "清盘", "reason": "cannot pay its costs"}
    records = [{"plan": {"failure": f, "once": {"capital_needed_cny": need,
                                                 "capital_called_cny": 0.0}}}
               for f, need in [(None, 0.0)] * 6 + [(costs, 1e6), (costs, 5e6),
                                                    ({**costs, "reason": "提现困难 for 60 days",
                                                      "day": 700}, 2e5)]]
    table = failures(records)
    assert table.cause.tolist() == ["every failure", "清盘: cannot pay its costs",
                                    "清盘: 提现困难 for 60 days"]
    assert table.runs_failed.tolist() == [3, 2, 1] and table.share.iloc[0] == 3 / 9
    line = failure_line(table)
    assert "FAILED in 3 of 9 runs (33.3%" in line and "cannot pay its costs 2" in line
    capital = capital_needed(records)
    assert capital.lower_bound.tolist() == [False, True, True]  # P50 is 0: no failed run below
    assert "P50 0.00 M, P90 at least 5.00 M" in capital_line(capital)


def test_break_even_is_for_good_and_a_target_met_by_construction_is_refused():
    """Issue 43: break-even is the month after which the summed net income stays >= 0."""
    from sim.company.figures import first_for_good

    profit = np.array([5.0, -20, -10, 8, 9, 10, 12])  # month 1 earns, then the losses
    assert first_for_good(np.cumsum(profit) >= 0) == 6  # earned back in month 6, for good
    assert first_for_good(profit >= 0) == 4             # profitable every month from month 4
    assert first_for_good(np.cumsum(profit[:5]) >= 0) is None  # still under water at the end
    with pytest.raises(ScenarioError, match="met by construction.*cash_ran_out <= 0"):
        load_scenario(PLAN, {"plan.targets": ["capital_called_cny <= 0"]})
    load_scenario(PLAN, {"plan.targets": ["capital_called_cny <= 0"],  # calls allowed: it can miss
                         "platforms.0.liquidity.capital_call_limit_cny": -1.0})
    with pytest.raises(ScenarioError, match="cumulative_profit_month is now break_even_month"):
        load_scenario(PLAN, {"plan.targets": ["cumulative_profit_month <= 12"]})


@pytest.mark.slow  # about 30 s: make test-slow (CI runs it after make test)
def test_a_founder_edits_the_inputs_sheet_and_plans_again_from_the_workbook(tmp_path, capsys):
    """Issue 43: plan.xlsx as the founder's input, its sources carried, bad cells named."""
    first = tmp_path / "plan"
    run_plan(PlanRequest(PLAN, runs=2, workers=1, executor="local", out=str(first),
                         overrides=SMALL, quiet=True))
    book = openpyxl.load_workbook(first / "plan.xlsx")
    inputs = book["Inputs"]
    row = next(r for r in range(2, inputs.max_row + 1)
               if inputs.cell(r, 1).value == "platforms.0.service_fee")
    units = {inputs.cell(r, 1).value: inputs.cell(r, 3).value for r in range(2, inputs.max_row + 1)}
    assert all(units.values())  # every input has a unit
    assert units["platforms.0.service_fee_timing"] == "when charged (text)"
    sources = {inputs.cell(r, 1).value: inputs.cell(r, 4).value
               for r in range(2, inputs.max_row + 1)}
    assert sources["platforms.0.company.capital_raises.1.amount_cny"].startswith("the seed business")
    assert sources["platforms.0.management_fee"] == "assumption: no source given"  # the file says
    assert sources["platforms.0.funding"] == "model default (docs/scenarios.md)"  # the default
    # (the management fee is the default too: the founder wrote it, so it is their assumption)
    inputs.cell(row, 2).value = 0.05
    inputs.cell(row, 4).value = "founder: what the competitor charges"
    edited = tmp_path / "edited.xlsx"
    book.save(edited)
    second = tmp_path / "again"
    assert main(["plan", str(edited), "--runs", "2", "--workers", "1", "--executor", "local",
                 "--out", str(second), "--quiet"]) == 0
    assert "platforms.0.service_fee: 0.04 -> 0.05" in capsys.readouterr().out
    again = openpyxl.load_workbook(second / "plan.xlsx")["Inputs"]
    shown = {again.cell(r, 1).value: (again.cell(r, 2).value, again.cell(r, 4).value)
             for r in range(2, again.max_row + 1)}
    assert shown["platforms.0.service_fee"] == (0.05, "founder: what the competitor charges")
    assert shown["investors.count"][0] == 3000  # the first plan's --set, carried by the sheet
    for bad, words in (("a lot", "is not a number"), (5.0, "is refused")):
        inputs.cell(row, 2).value = bad
        book.save(edited)
        assert main(["plan", str(edited), "--runs", "2", "--out", str(tmp_path / "no")]) == 2
        err = capsys.readouterr().err
        assert f"sheet Inputs, cell B{row} (platforms.0.service_fee)" in err and words in err
        assert not (tmp_path / "no").exists()
