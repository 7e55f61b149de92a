"""Experiments: executors agree, a kill is resumed, failures are kept, bad input is refused.

Also: seeds as documented, and Sobol / Morris sensitivity analysis.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import strict_json
from sim.cli import main
from sim.experiments import load_experiment, plan_runs, run_experiment, run_seeds
from sim.experiments.spec import ExperimentError

from .conftest import ROOT, SCENARIOS

BASELINE = SCENARIOS / "baseline.toml"
TINY = f"""
[experiment]
name = "tiny"
scenario = "{BASELINE}"
seed = 3
replications = 2

[experiment.fixed]
"run.horizon_days" = 60
"borrowers.applications_per_day" = 10.0
"investors.count" = 2000

[[parameters]]
key = "platforms.0.service_fee"
values = [0.01, 0.05]

[outputs]
statistics = ["volume_cny", "platform_profit_cny", "annual_default_rate"]
timeseries = ["outstanding_principal_cny"]
"""


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def records(folder: Path) -> list[dict]:
    rows = [strict_json.loads(p.read_text()) for p in sorted((folder / "runs").glob("run-*.json"))]
    for row in rows:
        row.pop("elapsed_s")
    return rows


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_local_process_and_dask_give_identical_results(tmp_path):
    path = write(tmp_path, TINY)
    results = {}
    for executor in ("local", "process", "dask"):
        out = tmp_path / executor
        summary = run_experiment(path, out=out, executor=executor, workers=2, quiet=True)
        assert summary["runs"] == 4 and summary["failed"] == 0
        results[executor] = records(out)
    assert results["local"] == results["process"] == results["dask"]
    table = pd.read_parquet(tmp_path / "local" / "results.parquet")
    assert len(table) == 4 * 3 and set(table.status) == {"ok"}
    summary = pd.read_csv(tmp_path / "local" / "summary.csv")
    assert {"mean", "se", "q05", "q95", "platforms.0.service_fee"} <= set(summary.columns)
    fees = summary[summary.output == "platform_profit_cny"].set_index("platforms.0.service_fee")
    assert fees.loc[0.05, "mean"] > fees.loc[0.01, "mean"]  # higher fee, more profit
    assert (tmp_path / "local" / "figures" / "fan_outstanding_principal_cny.png").exists()


def test_run_k_gets_the_kth_child_seed_whatever_the_order():
    spec, scenario = load_experiment_text(TINY)
    tasks = plan_runs(spec, scenario, "tiny")
    children = np.random.SeedSequence(3).spawn(4)
    assert [t.seed for t in tasks] == [int(c.generate_state(1, np.uint64)[0]) for c in children]
    assert [t.seed for t in tasks] == run_seeds(3, 4)
    assert [(t.point, t.replication) for t in tasks] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    spec, scenario = load_experiment_text(TINY.replace("replications = 2", "replications = 2\n"
                                                       "common_random_numbers = true"))
    common = [t.seed for t in plan_runs(spec, scenario, "tiny")]
    assert common == [run_seeds(3, 4)[0], run_seeds(3, 4)[1]] * 2


def load_experiment_text(text: str):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "exp.toml"
        path.write_text(text)
        return load_experiment(path)


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_a_killed_experiment_completes_on_restart_with_every_run_once(tmp_path):
    text = TINY.replace("replications = 2", "replications = 6")
    path = write(tmp_path, text)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim.cli", "experiment", str(path), "--out", str(out),
               "--workers", "1", "--quiet"]
    process = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "runs").glob("run-*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    written = len(list((out / "runs").glob("run-*.json")))
    assert 3 <= written < 12, written  # killed half-way
    assert not (out / "done.json").exists()
    assert main(["experiment", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    runs = sorted(int(p.stem.split("-")[1]) for p in (out / "runs").glob("run-*.json"))
    assert runs == list(range(12))
    assert not list((out / "runs").glob(".*"))
    table = pd.read_parquet(out / "results.parquet")
    assert table.groupby(["run", "output"]).size().eq(1).all() and table.run.nunique() == 12
    clean = tmp_path / "clean"
    run_experiment(path, out=clean, executor="local", quiet=True)
    assert records(out) == records(clean)


FAILING_POLICY = '''
import numpy as np
from pydantic import BaseModel


class Exploding:
    class Params(BaseModel):
        explode: bool = False

    def __init__(self, params, context):
        self.explode = params.explode
        self.grade_rate = context.grade_rate

    def price(self, applicants, state):
        if self.explode and state.month >= 1:
            raise RuntimeError("the pricing desk exploded")
        return self.grade_rate[applicants["grade"]]
'''


def test_a_run_that_raises_is_recorded_and_the_others_finish(tmp_path):
    (tmp_path / "exploding.py").write_text(FAILING_POLICY)
    scenario = tmp_path / "scenario.toml"
    scenario.write_text('[[platforms]]\nname = "p"\n[platforms.pricing]\n'
                        'policy = "exploding:Exploding"\n')
    text = TINY.replace(str(BASELINE), str(scenario)).replace(
        'key = "platforms.0.service_fee"\nvalues = [0.01, 0.05]',
        'key = "platforms.0.pricing.explode"\nvalues = [false, true]')
    path = write(tmp_path, text)
    out = tmp_path / "out"
    assert main(["experiment", str(path), "--out", str(out), "--workers", "2", "--quiet"]) == 0
    rows = records(out)
    assert [r["status"] for r in rows] == ["ok", "ok", "failed", "failed"]
    assert all("the pricing desk exploded" in r["error"] for r in rows[2:])
    failures = pd.read_csv(out / "failures.csv")
    assert list(failures.run) == [2, 3] and failures.traceback.str.contains("RuntimeError").all()
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary.point) == {0}  # statistics only from the runs that finished


BAD = [
    ("unknown parameter", TINY.replace('key = "platforms.0.service_fee"',
                                       'key = "platforms.0.service_charge"'),
     "platforms[0].service_charge: unknown key"),
    ("value out of range", TINY.replace("values = [0.01, 0.05]", "values = [0.01, 1.5]"),
     "design point 1"),
    ("low above high", TINY.replace('[[parameters]]', '[design]\nkind = "random"\n\n[[parameters]]')
     .replace("values = [0.01, 0.05]", "low = 0.05\nhigh = 0.01"), "low (0.05) must not exceed high"),
    ("zero replications", TINY.replace("replications = 2", "replications = 0"),
     "experiment.replications: Input should be greater than or equal to 1"),
    ("unknown statistic", TINY.replace('"volume_cny",', '"volume",'), "unknown statistic 'volume'"),
    ("unknown key", TINY.replace("seed = 3", "seed = 3\nseeds = 4"), "experiment.seeds: unknown key"),
    ("missing scenario", TINY.replace(str(BASELINE), "nowhere.toml"),
     "experiment.scenario: no such file"),
    ("range for a grid", TINY.replace("values = [0.01, 0.05]", "low = 0.01\nhigh = 0.05"),
     "a grid design needs values"),
]


@pytest.mark.parametrize("label, text, message", BAD, ids=[b[0] for b in BAD])
def test_bad_experiments_are_refused_before_any_run(tmp_path, capsys, label, text, message):
    path = write(tmp_path, text)
    out = tmp_path / "out"
    assert main(["experiment", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err, err
    assert "Traceback" not in err
    assert not out.exists()


def test_an_unreachable_scheduler_is_refused(tmp_path, capsys):
    path = write(tmp_path, TINY)
    out = tmp_path / "out"
    code = main(["experiment", str(path), "--out", str(out), "--executor", "dask",
                 "--scheduler", "tcp://127.0.0.1:9", "--quiet"])
    assert code == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err
    assert not out.exists()


def test_a_folder_of_another_experiment_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    run_experiment(write(tmp_path, TINY), out=out, executor="local", quiet=True)
    other = write(tmp_path, TINY.replace("seed = 3", "seed = 4"), "other.toml")
    assert main(["experiment", str(other), "--out", str(out), "--quiet"]) == 2
    assert "different experiment" in capsys.readouterr().err


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_sobol_and_morris_sensitivity_with_salib(tmp_path):
    base = TINY.replace("replications = 2", "replications = 1").replace(
        '[[parameters]]\nkey = "platforms.0.service_fee"\nvalues = [0.01, 0.05]',
        '[design]\nkind = "KIND"\nsamples = SAMPLES\n\n'
        '[[parameters]]\nkey = "platforms.0.service_fee"\nlow = 0.0\nhigh = 0.1\n\n'
        '[[parameters]]\nkey = "platforms.0.management_fee"\nlow = 0.0\nhigh = 0.01\n').replace(
        "[outputs]", '[outputs]\nsensitivity = ["platform_profit_cny"]')
    sobol = write(tmp_path, base.replace("KIND", "sobol").replace("SAMPLES", "8"), "sobol.toml")
    result = run_experiment(sobol, out=tmp_path / "sobol", executor="process", workers=2,
                            quiet=True)
    assert result["runs"] == 8 * (2 + 2)
    table = pd.read_csv(tmp_path / "sobol" / "sensitivity.csv").set_index("parameter")
    # the service fee (0-10 % of every loan) drives the profit, a 0-1 % management fee hardly
    # (N = 8 is a small sample: the indices are rough, their order is not)
    fee, management = table.loc["platforms.0.service_fee"], table.loc["platforms.0.management_fee"]
    assert fee.ST > 5 * management.ST and fee.S1 > 0.3 and management.ST < 0.1
    assert (tmp_path / "sobol" / "figures" / "sensitivity_platform_profit_cny.png").exists()
    morris = write(tmp_path, base.replace("KIND", "morris").replace("SAMPLES", "4"), "morris.toml")
    run_experiment(morris, out=tmp_path / "morris", executor="local", quiet=True)
    table = pd.read_csv(tmp_path / "morris" / "sensitivity.csv").set_index("parameter")
    assert table.loc["platforms.0.service_fee", "mu_star"] > \
        table.loc["platforms.0.management_fee", "mu_star"]


def test_the_ready_experiments_are_valid():
    from sim.reserve.board import board_requests, load_board

    for path in sorted((ROOT / "experiments").glob("*.toml")):
        if "schemes" in tomllib.loads(path.read_text(encoding="utf-8")):
            assert board_requests(load_board(path), path), path
            with pytest.raises(ExperimentError, match="p2psim board"):
                load_experiment(path)  # a board given to `p2psim experiment` says what it is
            continue
        spec, scenario = load_experiment(path)
        tasks = plan_runs(spec, scenario, str(path))
        assert tasks, path


def test_designs_make_the_points_they_promise():
    from sim.experiments import design_points

    def spec_of(design: str, parameters: str):
        return load_experiment_text(TINY.split("[[parameters]]")[0] + design + parameters
                                    + "\n[outputs]\nstatistics = [\"volume_cny\"]\n")[0]

    two_lists = ('[[parameters]]\nkey = "platforms.0.service_fee"\nvalues = [0.01, 0.02, 0.03]\n'
                 '[[parameters]]\nkey = "platforms.0.management_fee"\nvalues = [0.1, 0.2, 0.3]\n')
    grid = design_points(spec_of('[design]\nkind = "grid"\n', two_lists))
    assert len(grid) == 9 and len({tuple(p.values()) for p in grid}) == 9
    listed = design_points(spec_of('[design]\nkind = "list"\n', two_lists))
    assert [tuple(p.values()) for p in listed] == [(0.01, 0.1), (0.02, 0.2), (0.03, 0.3)]
    ranges = ('[[parameters]]\nkey = "platforms.0.service_fee"\nlow = 0.01\nhigh = 0.05\n'
              '[[parameters]]\nkey = "platforms.0.funding_window_days"\nlow = 1\nhigh = 9\n'
              'integer = true\n')
    for kind in ("random", "latin"):
        points = design_points(spec_of(f'[design]\nkind = "{kind}"\nsamples = 20\n', ranges))
        fees = np.array([p["platforms.0.service_fee"] for p in points])
        days = [p["platforms.0.funding_window_days"] for p in points]
        assert len(points) == 20 and (fees >= 0.01).all() and (fees <= 0.05).all()
        assert all(isinstance(d, int) and 1 <= d <= 9 for d in days)
    latin = design_points(spec_of('[design]\nkind = "latin"\nsamples = 20\n', ranges))
    strata = np.floor((np.array([p["platforms.0.service_fee"] for p in latin]) - 0.01) / 0.002)
    assert sorted(strata.astype(int)) == list(range(20))  # one point in each of 20 strata
    assert design_points(spec_of('[design]\nkind = "sobol"\nsamples = 4\n', ranges)).__len__() == 16
    assert design_points(spec_of('[design]\nkind = "morris"\nsamples = 3\n', ranges)).__len__() == 9


def test_the_docs_list_every_statistic_from_the_registry():
    """docs/experiments.md's table is the registry's (regenerate it with markdown_table())."""
    from sim.outputs.statistics import STATISTICS, markdown_table

    from .conftest import ROOT

    text = (ROOT / "docs" / "experiments.md").read_text(encoding="utf-8")
    table = text.split("<!-- statistics -->\n", 1)[1].split("\n<!-- /statistics -->", 1)[0]
    assert table == markdown_table(), ("docs/experiments.md: paste the output of python -c 'from "
                                       "sim.outputs.statistics import markdown_table; "
                                       "print(markdown_table())'")
    assert len(STATISTICS) == table.count("\n| `")


def test_monthly_series_sum_a_flow_and_read_a_level_at_the_months_end():
    import pandas as pd

    from sim.reporters import monthly

    days = pd.DataFrame({"day": range(65), "volume_cny": [1.0] * 65,
                         "outstanding_principal_cny": [float(d) for d in range(65)]})
    assert monthly(days, "volume_cny") == [30.0, 30.0]  # the month's volume, complete months only
    assert monthly(days, "outstanding_principal_cny") == [29.0, 59.0]


def test_a_statement_line_is_an_experiment_output(tmp_path):
    """Figures of the company's statements (a year's net income, the payback) as outputs."""
    from sim.company.report import company_books
    from sim.company.targets import figure_value
    from sim.model import P2PMarket

    text = TINY.replace('statistics = ["volume_cny", "platform_profit_cny", "annual_default_rate"]',
                        'statistics = ["net_income_cny[year=1]", "revenue_cny[month=2]", '
                        '"payback_month", "platform_profit_cny"]')
    out = tmp_path / "figures"
    summary = run_experiment(write(tmp_path, text), out=out, executor="local", workers=1,
                             quiet=True)
    assert summary["runs"] == 4 and summary["failed"] == 0
    run = records(out)[0]
    market = P2PMarket(BASELINE, rng=run["seed"], audit="off", **{
        "run.horizon_days": 60, "borrowers.applications_per_day": 10.0,
        "investors.count": 2000, **run["params"]})
    market.run()
    books = company_books(market)
    year = books.yearly[market.platforms[0].name]
    assert run["statistics"]["net_income_cny[year=1]"] == pytest.approx(year.net_income_cny[1])
    assert run["statistics"]["net_income_cny[year=1]"] == pytest.approx(
        run["statistics"]["platform_profit_cny"])  # one year: the run's net income
    assert run["statistics"]["revenue_cny[month=2]"] == figure_value(books, "revenue_cny[month=2]")
    assert math.isnan(run["statistics"]["payback_month"])  # never, in two months


@pytest.mark.parametrize("name, words", [
    ("net_income_cny", "say where net_income_cny is read"),
    ("net_income[year=1]", "names no figure 'net_income'"),
    ("profits", "unknown statistic 'profits'"),
])
def test_an_unknown_output_names_the_statistics_and_the_figures(tmp_path, capsys, name, words):
    text = TINY.replace('statistics = ["volume_cny", "platform_profit_cny", "annual_default_rate"]',
                        f'statistics = ["{name}"]')
    out = tmp_path / "never"
    assert main(["experiment", str(write(tmp_path, text)), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err, err
    assert not out.exists()


def test_a_paired_difference_s_interval_is_student_s_t_by_its_pairs():
    """3 pairs: ± 4.30 standard errors (t with 2 degrees of freedom), not ± 1.96."""
    from types import SimpleNamespace

    from scipy.stats import t

    from sim.experiments.results import differences

    spec = SimpleNamespace(experiment=SimpleNamespace(common_random_numbers=True),
                           design=SimpleNamespace(kind="variants"))
    rows = [{"point": point, "variant": name, "replication": r, "output": "x", "status": "ok",
             "value": base + (shift if point else 0.0)}
            for point, name in enumerate(["as planned", "changed"])
            for r, (base, shift) in enumerate([(1.0, -5.0), (2.0, -9.0), (3.0, -8.0)])]
    diff = differences(pd.DataFrame(rows), spec)
    changed = diff[diff.point == 1].iloc[0]
    paired = np.array([-5.0, -9.0, -8.0])
    se = paired.std(ddof=1) / math.sqrt(3)
    assert changed["difference"] == pytest.approx(paired.mean())
    assert changed["ci95_high"] - changed["difference"] == pytest.approx(t.ppf(0.975, 2) * se)
    assert changed["ci95_high"] - changed["difference"] > 2 * 1.96 * se  # far wider than normal's
