"""Estimating the industry's behaviour: bad input refused, the same seed gives the same estimates.

The estimation's quality on the shipped file (moments within their errors, the held-out check) is
measured by `p2psim estimate estimation/wave_2018.toml` and written in docs/industry.md; here a
small one checks the machinery.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.estimation.fit import Emulator, design, estimate
from sim.estimation.moments import MOMENTS, observed

from .conftest import ROOT
from .test_hardening_iii import strict

SMALL = """
[estimation]
name = "small"
scenario = "{scenario}"
seed = 3
points = 6
replications = 2
check_replications = 2
refine_points = 7
fit_months = {fit}
held_out_months = {held}
fixed = {{ "industry.platforms" = 90, "industry.investors" = 5000, "run.horizon_days" = 750 }}

[[parameters]]
key = "industry.channels.sentiment.wear_multiplier"
start = {start}
bounds = [2.0, 12.0]

[[parameters]]
key = "industry.behaviour.deposit_daily"
start = 0.0027
bounds = [0.0015, 0.0045]

[moments]
fit = {fitted}
held_out = ["balance_change", "investor_change"]
"""
SCENARIO = (ROOT / "scenarios" / "thunderstorm_2018.toml").as_posix()


def _file(tmp_path, **changes) -> str:
    values = {"scenario": SCENARIO, "fit": '["2017-02", "2017-04"]',
              "held": '["2017-05", "2017-06"]', "start": 6.8,
              "fitted": '["balance_change", "wave_problem_ratio"]'} | changes
    path = tmp_path / "estimation.toml"
    path.write_text(SMALL.format(**values), encoding="utf-8")
    return str(path)


def test_an_estimation_too_big_to_run_is_refused_before_any_run(tmp_path, capsys):
    path = Path(_file(tmp_path))
    path.write_text(path.read_text().replace("points = 6", "points = 10000").replace(
        "replications = 2\ncheck", "replications = 1000\ncheck"))
    assert main(["estimate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "estimation.points × replications" in err and "hours are allowed" in err
    assert not (tmp_path / "out").exists() and not (tmp_path / ".out.paths").exists()


@pytest.mark.parametrize(("changes", "message"), [
    ({"fitted": '["balance_change", "wave_size"]'},
     "moments: fit[1]: unknown moment or series 'wave_size'; allowed: balance_change"),
    ({"start": 20.0}, "start 20.0 is outside bounds [2.0, 12.0]"),
    ({"held": '["2017-03", "2017-05"]'},
     "held_out_months 2017-03..2017-05 overlaps the fitting period 2017-02..2017-04"),
    ({"fit": '["2016-02", "2017-04"]'}, "the data's monthly moments are for 2017-02 to 2017-06"),
])
def test_bad_estimation_input_is_named_exits_2_and_writes_nothing(tmp_path, capsys, changes,
                                                                  message):
    out = tmp_path / "out"
    assert main(["estimate", _file(tmp_path, **changes), "--out", str(out), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert message in error and "estimation.toml" in error and "Traceback" not in error
    assert not out.exists()


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_the_same_seed_gives_the_same_estimates_on_one_worker_or_two(tmp_path, capsys,
                                                                    monkeypatch):
    import sim.estimation.study as study

    path = _file(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:  # Ctrl-C after the design: its runs are kept
        patch.setattr(study.fit, "estimate", interrupted)
        assert main(["estimate", path, "--out", str(tmp_path / "local"), "--quiet",
                     "--executor", "local"]) == 130
    assert "rerun the same command to resume" in capsys.readouterr().err
    kept = tmp_path / ".local.paths" / "runs"
    assert len(list(kept.glob("run-*.json"))) == 7 * 2  # the start and 6 points, twice each
    folders = []  # the local one resumes from them
    for executor, workers in (("local", "1"), ("process", "2")):
        out = tmp_path / executor
        assert main(["estimate", path, "--out", str(out), "--quiet", "--executor", executor,
                     "--workers", workers]) == 0
        folders.append(out)
    printed = capsys.readouterr().out
    assert "estimates:" in printed and "run the scenario at the estimate with: --set" in printed
    assert "held fixed, not estimated (assumptions" in printed  # the events' strengths (issue 42)
    assert "hazard_multiplier = 1.5 (2017-12 tighten (unregistered))" in printed
    one, two = (pd.read_csv(f / "estimates.csv") for f in folders)
    pd.testing.assert_frame_equal(one, two)
    moments = pd.read_csv(folders[0] / "moments.csv")
    assert list(moments.role) == ["fit", "fit", "held_out", "held_out"]
    assert moments.moment[0] == "balance_change@2017-02..2017-04"
    for row in moments.itertuples():
        name, months = (row.moment.split("@") + [None])[:2]
        period = months.split("..") if months else None
        assert (row.data, row.data_se) == pytest.approx(observed(name, period))
    assert (moments.fits == (moments.z.abs() <= np.where(moments.role == "fit", 1, 2))).all()
    assert (folders[0] / "fit.png").stat().st_size > 5_000
    design_table = pd.read_csv(folders[0] / "design.csv")
    assert 7 <= len(design_table) <= 14  # seven more, and those of the first seven in the box
    assert len(pd.read_csv(folders[0] / "runs.csv")) == (7 + 7) * 2 + 2
    assert not kept.parent.exists()  # the kept runs go once the results are written
    strict((folders[0] / "estimation.json").read_text(encoding="utf-8"))


def test_the_emulator_finds_a_known_minimum_and_flags_what_the_moments_cannot_see():
    x = design(30, 2, seed=1)
    truth = np.array([0.3, 0.7])
    y = np.column_stack([2 * x[:, 0] + x[:, 0] ** 2, 3 * x[:, 0] - 1])  # the 2nd parameter unseen
    target = np.array([2 * 0.3 + 0.09, 3 * 0.3 - 1])
    found = estimate(x, y, target, np.array([1e4, 1e4]), np.array([0.5, 0.5]))
    assert found["x"][0] == pytest.approx(truth[0], abs=1e-4)
    assert found["pinned"].tolist() == [True, False]
    assert Emulator(x, y).r2 == pytest.approx([1.0, 1.0])
    assert found["profile_low"][1] < 0.05 and found["profile_high"][1] > 0.95  # all of it
    seen = found["identification"]  # one direction seen (the first), one not: rank 1 of 2
    assert (seen["rank"], seen["parameters"], seen["moments"]) == (1, 2, 2)
    assert seen["singular_values"][0] > 100 and seen["singular_values"][1] < 1e-6
    both = estimate(x, np.column_stack([y[:, 0], x[:, 1]]), np.array([0.69, 0.7]),
                    np.array([1e4, 1e4]), np.array([0.5, 0.5]))["identification"]
    assert both["rank"] == 2 and 1 <= both["condition"] < 10


def test_the_full_weight_matrix_counts_two_moments_that_move_together_about_once():
    """Two moments that see one parameter, errors correlated 0.9, carry about one moment's worth.

    The diagonal weights would count them twice.
    """
    from sim.estimation.fit import PRIOR_WIDTH, uncertainty
    from sim.estimation.weights import error_squared, moment_covariance

    rng = np.random.default_rng(3)
    common = rng.standard_normal((400, 5))  # 400 design points, 5 replications, two moments
    own = rng.standard_normal((400, 5, 2))
    table = np.stack([common, common], axis=2) * 0.3 + own * 0.1  # correlation 0.9
    covariance = moment_covariance(table, np.zeros(2), 5)
    spread = table.var(axis=1, ddof=1).mean(axis=0)
    assert np.allclose(np.diag(covariance), error_squared(np.zeros(2), spread, 5))
    correlation = covariance[0, 1] / np.sqrt(covariance[0, 0] * covariance[1, 1])
    assert correlation == pytest.approx(0.9, abs=0.02)
    x = design(30, 1, seed=2)
    emulator = Emulator(x, np.column_stack([x[:, 0], x[:, 0]]))
    at = np.array([0.5])
    full, _ = uncertainty(emulator, at, np.linalg.inv(covariance))
    diagonal, _ = uncertainty(emulator, at, 1 / np.diag(covariance))
    information = {"full": 1 / full[0] ** 2, "diagonal": 1 / diagonal[0] ** 2}
    prior, ones = 1 / PRIOR_WIDTH ** 2, np.ones(2)
    assert information["full"] == pytest.approx(ones @ np.linalg.inv(covariance) @ ones + prior)
    assert information["diagonal"] == pytest.approx((1 / np.diag(covariance)).sum() + prior)
    one = 1 / covariance.diagonal().min() + prior  # what the better of the two tells alone
    assert one < information["full"] < 1.1 * one < information["diagonal"]  # about 2 / (1 + 0.9)


def test_a_parameter_pushed_onto_its_bound_gets_a_one_sided_interval():
    """Issue 42: the data want the first parameter below 0; its interval starts at the bound."""
    from sim.estimation.fit import CHI2_95, distance_of

    x = design(30, 2, seed=2)
    y = np.column_stack([x[:, 0] + 0.5 * x[:, 1], x[:, 1]])
    target = np.array([-0.1 + 0.5 * 0.6, 0.6])  # truth: -0.1 (past the bound 0), 0.6
    weight = np.array([400.0, 400.0])           # moments known to 0.05
    found = estimate(x, y, target, weight, np.array([0.5, 0.5]))
    assert found["x"][0] == pytest.approx(0.0, abs=1e-6)  # on its bound
    assert found["profile_low"][0] == 0.0                 # one-sided: the bound is in it
    assert 0.02 < found["profile_high"][0] < 0.5          # and ends where the distance rises
    assert found["profile_low"][1] <= found["x"][1] <= found["profile_high"][1]
    boxed = estimate(x, y, target, weight, np.array([0.5, 0.5]),
                     (np.array([0.0, 0.55]), np.array([0.3, 0.65])))  # a box narrower than the
    assert boxed["truncated"].tolist() == [False, True]  # second's interval: only "at least",
    assert not boxed["pinned"][1]                          # so not pinned down
    rise = distance_of(Emulator(x, y), target, weight, np.array([0.5, 0.5]))
    edge = found["x"].copy()
    edge[0] = found["profile_high"][0] + 0.05  # past the interval, the distance is higher by more
    assert rise(edge) - found["distance"] > CHI2_95 * 0.9


SYNTHETIC = """
[synthetic]
seed = {seed}
truth = {truth}
"""


@pytest.mark.parametrize(("seed", "truth", "message"), [
    (3, '{ "industry.channels.sentiment.wear_multiplier" = 6.0, '
        '"industry.behaviour.deposit_daily" = 0.003 }',
     "synthetic.seed 3: the same as estimation.seed; the data's run needs a seed of its own"),
    (7, '{ "industry.channels.sentiment.wear_multiplier" = 6.0 }',
     "synthetic.truth: give exactly the estimated parameters' values"),
    (7, '{ "industry.channels.sentiment.wear_multiplier" = 60.0, '
        '"industry.behaviour.deposit_daily" = 0.003 }',
     "synthetic.truth: industry.channels.sentiment.wear_multiplier = 60.0 is outside its bounds"),
])
def test_a_recovery_check_s_truth_is_checked_before_any_run(tmp_path, capsys, seed, truth, message):
    path = Path(_file(tmp_path))
    path.write_text(path.read_text() + SYNTHETIC.format(seed=seed, truth=truth), encoding="utf-8")
    assert main(["estimate", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error and not (tmp_path / "out").exists()


@pytest.mark.slow  # about 5 minutes: make test-slow (CI runs it after make test)
@pytest.mark.xfail(strict=True, reason=(
    "issue 42, open: on the one set of rules (2026-12-08) the calm 2017 balances depend on the "
    "run threshold too (investors run on disclosed losses in calm times), the new money and the "
    "threshold trade off along a ridge, and the estimation puts the threshold on its bound "
    "(0.05, 95 % interval 0.05-0.125/0.128) for truths 0.148 and 0.162: a confident wrong value. "
    "strict: this test reports when the procedure recovers them again"))
def test_the_estimation_recovers_known_values_and_says_what_it_cannot_pin_down(tmp_path, capsys):
    """Issue 42: simulate at known values, estimate, find them inside their intervals.

    ``estimation/recovery_2018.toml``: the new money and the run threshold of the thunderstorm
    industry at its estimated values, from the moments of one run at them. The new money is
    pinned down by the 2017 balances; the run threshold is not, by one history of the wave (its
    ratio to the calm hazard varies by about 2 between seeds): the estimation must say so, in
    its interval and its identification, rather than report a precise wrong value.
    """
    out = tmp_path / "recovery"
    assert main(["estimate", str(ROOT / "estimation" / "recovery_2018.toml"), "--out", str(out),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    estimates = pd.read_csv(out / "estimates.csv").set_index("parameter")
    assert estimates.recovered.all(), estimates
    deposit, threshold = estimates.loc["industry.behaviour.deposit_daily"], estimates.loc[
        "runs.withdraw_below"]
    assert deposit.pinned_down and deposit.ci95_high - deposit.ci95_low < 0.2 * (0.006 - 0.001)
    assert not threshold.pinned_down
    assert "recovery check: the data are one run at known values; 2 of 2 inside" in printed
    result = strict((out / "estimation.json").read_text(encoding="utf-8"))
    values = result["identification"]["singular_values"]  # the threshold's direction: barely seen
    assert result["synthetic"] and values[1] < 0.2 * values[0] and values[1] < 3


def test_every_moment_has_the_data_behind_it():
    for name, moment in MOMENTS.items():
        value, se = observed(name, ("2017-02", "2017-04") if moment.monthly else None)
        assert np.isfinite(value) and se > 0
