"""Reserve-fund sizing: the Vasicek limit case, sampling, the sizing identities, bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import ndtr

from sim.cli import main
from sim.model import P2PMarket
from sim.reserve import ReserveRequest, run_reserve_study
from sim.reserve.paths import PathTask, run_path
from sim.reserve.sampling import average_factor_loading, draw_shocks, shock_count
from sim.reserve.vasicek import due_count_shares, large_pool_quantile, loss_quantile
from sim.scenario import MacroConfig, load_scenario

LIMIT = "scenarios/vasicek_limit.toml"
RESERVE = "scenarios/reserve_fund.toml"
FEE_SHARE = 0.2  # the scenario's share of fees into the reserve


def _study(tmp_path, name, **kwargs):
    request = ReserveRequest(out=str(tmp_path / name), executor="local", quiet=True, **kwargs)
    return run_reserve_study(request)


def _row(results, quantity, statistic):
    return next(r for r in results["statistics"][quantity] if r["statistic"] == statistic)


# ----------------------------------------------------------------- the Vasicek limit case

LIMIT_CASES = [  # hazard, correlation, method, paths, levels checked
    (0.005, 0.05, "plain", 200, [0.5, 0.9, 0.99]),
    (0.01, 0.15, "importance", 160, [0.9, 0.99, 0.999]),
    (0.02, 0.30, "importance", 160, [0.99, 0.999]),
]


@pytest.fixture(scope="module")
def limit_studies(tmp_path_factory):
    folder = tmp_path_factory.mktemp("limit")
    results = []
    for hazard, rho, method, paths, levels in LIMIT_CASES:
        overrides = {"grades.default_hazard_monthly": [hazard], "macro.asset_correlation": rho}
        results.append(_study(folder, f"{hazard}-{rho}", scenario=LIMIT, paths=paths,
                              method=method, stratify=method != "plain", confidence=tuple(levels),
                              overrides=overrides, seed=3))
    return results


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
@pytest.mark.parametrize("case", range(len(LIMIT_CASES)))
def test_limit_case_losses_follow_the_one_factor_gaussian_model(limit_studies, case):
    hazard, rho, method, paths, levels = LIMIT_CASES[case]
    results = limit_studies[case]
    scenario = load_scenario(LIMIT)
    loans, amount = scenario.initial_book.loans, scenario.borrowers.amount_median_cny
    last_due = scenario.run.horizon_days - scenario.loans.default_after_days - 2
    shares = due_count_shares(36, last_due)
    for level in levels:
        row = _row(results, "defaulted", f"q{level * 100:g}")
        exact = loss_quantile(level, hazard, rho, loans, amount, shares)
        assert abs(row["estimate"] - exact) <= 3 * row["se"] + amount, (level, row, exact)
        assert row["se"] < 0.15 * exact  # precise enough for the comparison to mean something
        # and the large-pool (Vasicek) quantile is within the pool's granularity of the exact one
        assert abs(large_pool_quantile(level, hazard, rho, loans, amount, shares) - exact) \
            < 0.06 * exact
    # no recoveries: the credit loss is the principal written off, all of it paid by the reserve
    assert _row(results, "credit_loss", "mean")["estimate"] == \
        pytest.approx(_row(results, "defaulted", "mean")["estimate"])
    # the reserve pays at 90 days past due, the write-off follows a day later: a loan that missed
    # on the window's last day is paid but not yet written off
    paid = _row(results, "reserve_payouts", "mean")["estimate"]
    assert paid == pytest.approx(_row(results, "defaulted", "mean")["estimate"], rel=0.01)


@pytest.mark.slow  # over 20 s: make test-slow (CI runs it after make test)
def test_importance_sampling_agrees_with_plain_monte_carlo(tmp_path, limit_studies):
    """Same book (the first limit case), tilted sampling: mean and 90 % quantile agree."""
    hazard, rho, *_ = LIMIT_CASES[0]
    overrides = {"grades.default_hazard_monthly": [hazard], "macro.asset_correlation": rho}
    tilted = _study(tmp_path, "tilted", scenario=LIMIT, paths=200, method="importance",
                    confidence=(0.9, 0.99), overrides=overrides, seed=4)
    plain = limit_studies[0]
    assert tilted["method"] == "importance" and tilted["effective_sample_size"] < 200
    for statistic in ["mean", "q90", "q99"]:
        a, b = _row(plain, "defaulted", statistic), _row(tilted, "defaulted", statistic)
        assert abs(a["estimate"] - b["estimate"]) <= 3 * math.hypot(a["se"], b["se"]), statistic
    # the tilt pays off in the tail: a smaller error at 99 % for the same number of paths
    assert _row(tilted, "defaulted", "q99")["se"] < _row(plain, "defaulted", "q99")["se"]


# ----------------------------------------------------------------- sampling

def test_importance_weights_estimate_tail_probabilities_of_the_factor():
    macro = MacroConfig(persistence=0.9)
    months = shock_count(1080)
    design = draw_shocks(macro, months, 36, 4000, np.random.default_rng(1), "importance", 0.999)
    loading = average_factor_loading(macro, months, 36)
    s = design.shocks @ loading / np.linalg.norm(loading)  # standard normal under the true law
    w = design.weight
    assert w.max() <= 1.0 / 0.25 + 1e-9
    assert np.mean(w) == pytest.approx(1.0, abs=0.05)
    for t in [2.0, 3.0, 3.5]:
        estimate = np.mean(w * (s < -t))
        assert estimate == pytest.approx(ndtr(-t), rel=0.15), t
    assert 0.1 * 4000 < design.effective_sample_size < 4000


def test_stratified_draws_spread_the_factor_evenly():
    macro = MacroConfig(persistence=0.9)
    months = shock_count(360)
    design = draw_shocks(macro, months, 12, 100, np.random.default_rng(2), "plain", stratify=True)
    u = np.sort(design.shocks @ design.direction)
    strata = np.floor(ndtr(u) * 100).astype(int)
    assert np.array_equal(strata, np.arange(100))  # one path in each percentile of the law


def test_fixed_months_are_not_tilted():
    macro = load_scenario(RESERVE).macro  # months 12-17 fixed at -2 by the scenario
    loading = average_factor_loading(macro, shock_count(1080), 36)
    assert (loading[12:18] == 0).all() and (loading[:12] > 0).all()
    held = MacroConfig(persistence=1.0, initial_factor=-1.0)
    design = draw_shocks(held, 14, 12, 10, np.random.default_rng(0), "importance")
    assert design.method == "plain" and (design.weight == 1).all()  # nothing random to tilt


# ----------------------------------------------------------------- sizing identities

@pytest.fixture(scope="module")
def one_path():
    scenario = load_scenario(RESERVE)
    shocks = np.random.default_rng(5).standard_normal(shock_count(360)) - 0.5
    task = PathTask(path=0, seed=77, shocks=shocks.tolist(), scenario=RESERVE,
                    horizon_days=360, initial_reserve_fen=2_000_000_00, contribution_rate=0.02,
                    fee_share=FEE_SHARE)
    record = run_path(task)
    assert record["status"] == "ok", record.get("error")
    return scenario, shocks, record


def _min_reserve_balance(shocks, initial_cny, principal_share=0.02, **overrides):
    model = P2PMarket(RESERVE, rng=77, audit="step", threads=1, macro_shocks=shocks,
                      **{"run.horizon_days": 360, "platforms.0.capital_cny": 2e9,
                         "platforms.0.guarantee.initial_cny": initial_cny,
                         "platforms.0.guarantee.principal_share": principal_share,
                         "platforms.0.guarantee.fee_share": FEE_SHARE, **overrides})
    lowest = model.ledger.balance("reserve_fund", 0)
    for _ in range(360):
        model.step()
        lowest = min(lowest, model.ledger.balance("reserve_fund", 0))
    return lowest / 100, model.platforms[0].guarantee.unpaid_fen / 100


def test_required_reserve_is_exactly_enough_in_the_real_market(one_path):
    _, shocks, record = one_path
    need = record["required_reserve"]
    assert need > 1e6
    lowest, unpaid = _min_reserve_balance(shocks, need)
    assert unpaid == 0 and lowest < 0.01 * need  # enough, and little to spare at the month's end
    lowest, unpaid = _min_reserve_balance(shocks, need - 100)
    assert unpaid > 0  # 100 CNY less and a claim goes unpaid


def test_the_one_run_size_is_exact_when_the_feedback_starts_once_the_reserve_runs_dry():
    """A dry reserve shakes trust: the path is the sizing path's until that day (docs/reserve.md).

    With runs on, a reserve that leaves a claim unpaid costs every investor ``state_shock`` of trust
    and some run; before that day nothing differs, so the one-run size is still exact.
    """
    runs_on = {"runs.enabled": True}
    shocks = np.random.default_rng(5).standard_normal(shock_count(360)) - 0.5
    record = run_path(PathTask(path=0, seed=77, shocks=shocks.tolist(), scenario=RESERVE,
                               overrides=runs_on, horizon_days=360,
                               initial_reserve_fen=2_000_000_00, contribution_rate=0.02))
    need = record["required_reserve"]
    assert need > 1e6
    assert _min_reserve_balance(shocks, need, **runs_on)[1] == 0
    assert _min_reserve_balance(shocks, need - 100, **runs_on)[1] > 0


def test_required_fee_share_is_exactly_enough(one_path):
    _, shocks, record = one_path
    reserve = round(0.9 * record["required_reserve"])  # a little short at the scenario's 20 %
    share = run_path(PathTask(path=0, seed=77, shocks=shocks.tolist(), scenario=RESERVE,
                              horizon_days=360, initial_reserve_fen=reserve * 100,
                              contribution_rate=0.02, fee_share=FEE_SHARE))["required_fee_share"]
    assert FEE_SHARE < share < 1.0
    fee = "platforms.0.guarantee.fee_share"
    lowest, unpaid = _min_reserve_balance(shocks, reserve, **{fee: share + 1e-5})
    assert unpaid == 0 and lowest < 0.01 * reserve
    lowest, unpaid = _min_reserve_balance(shocks, reserve, **{fee: share - 1e-4})
    assert unpaid > 0


# borrowers pay the contribution (all-in cost): the one-run rate holds the book as lent, exact
# where they do not react to it (docs/reserve.md)
NO_REACTION = {"borrowers.rate_elasticity": 0.0, "borrowers.rate_tolerance_mean": 1.0}


def test_required_contribution_rate_is_exactly_enough():
    shocks = np.random.default_rng(5).standard_normal(shock_count(360)) - 0.5
    rate = run_path(PathTask(path=0, seed=77, shocks=shocks.tolist(), scenario=RESERVE,
                             overrides=NO_REACTION, horizon_days=360,
                             initial_reserve_fen=2_000_000_00, contribution_rate=0.02,
                             fee_share=FEE_SHARE))["required_rate"]
    assert 0.02 < rate < 0.2
    lowest, unpaid = _min_reserve_balance(shocks, 2_000_000, rate + 1e-6, **NO_REACTION)
    assert unpaid == 0 and lowest < 0.1 * 2_000_000
    lowest, unpaid = _min_reserve_balance(shocks, 2_000_000, rate - 1e-4, **NO_REACTION)
    assert unpaid > 0


def test_reacting_borrowers_are_a_warning_on_the_one_run_rate():
    from sim.reserve.caveats import book_held_fixed
    results = {"requirements": [{"confidence": 0.99, "contribution_rate": 0.05}],
               "solver": {"method": "one-run"}, "contribution_rate": 0.02, "borrowers_react": True}
    assert "borrow less at a higher one" in book_held_fixed(results)[0]
    assert book_held_fixed({**results, "borrowers_react": False}) == []
    assert book_held_fixed({**results, "solver": {"method": "root-finding"}}) == []


def test_float_is_not_seen_by_the_platform(one_path):
    model = P2PMarket(RESERVE, rng=1, audit="off", **{"run.horizon_days": 60})
    from sim.reserve.paths import ReserveWatch
    sizing = P2PMarket(RESERVE, rng=1, audit="off", collect=False, **{"run.horizon_days": 60})
    watch = ReserveWatch(sizing, platform=0)
    for m in (model, sizing):
        m.run()
    assert watch.balance_after_payouts_fen > ReserveWatch.float_fen  # the float is in the account
    assert sizing.platforms[0].state.guarantee_fund_fen == model.platforms[0].state.guarantee_fund_fen


# ----------------------------------------------------------------- the command and its outputs

def test_reserve_command_writes_tables_and_figures(tmp_path, capsys):
    out = tmp_path / "study"
    code = main(["reserve", LIMIT, "--paths", "24", "--out", str(out), "--executor", "local",
                 "--quiet", "--confidence", "0.9", "0.99", "--horizon-months", "15",
                 "--initial-reserve", "3000000"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "initial reserve for 99 %" in printed and "contribution rate for 90 %" in printed
    assert "book sized (mean over the paths): opening book 50.0 M CNY (5,000 loans)" in printed
    # 24 paths: the effective sample is flagged, with the paths it would take
    assert "Warnings:" in printed and "below the 100 a tail estimate needs" in printed
    for line in printed.splitlines():  # a share over 100 % is said to be infeasible, not printed
        if line.startswith(("fee share", "contribution rate")) and "infeasible" not in line:
            assert float(line.split(": ")[1].split("%")[0]) <= 100
    for name in ["summary.json", "requirements.csv", "statistics.csv", "exhaustion.csv",
                 "exhaustion_month.csv", "frontier.csv", "paths.parquet", "monthly.parquet",
                 "book.csv", "closed_form.csv", "tail_contributions.csv",
                 "losses.png", "balance_fan.png", "exhaustion.png", "frontier.png"]:
        assert (out / name).is_file(), name
    paths = pd.read_parquet(out / "paths.parquet")
    assert len(paths) == 24 and paths.weight.gt(0).all()
    by_month = pd.read_csv(out / "exhaustion.csv")
    assert len(by_month) == 15 and by_month.estimate.is_monotonic_increasing
    months = pd.read_csv(out / "exhaustion_month.csv")
    assert months.probability.sum() == pytest.approx(1.0)
    assert months.probability.iloc[-1] == pytest.approx(1 - by_month.estimate.iloc[-1])


@pytest.mark.slow  # over 10 s: make test-slow (CI runs it after make test)
def test_same_seed_same_study_on_one_worker_or_two(tmp_path):
    frames = []
    for executor, workers in [("local", 1), ("process", 2)]:
        out = tmp_path / executor
        run_reserve_study(ReserveRequest(scenario=LIMIT, out=str(out), paths=6, quiet=True,
                                         executor=executor, workers=workers, seed=9))
        frames.append(pd.read_parquet(out / "paths.parquet").drop(columns="elapsed_s"))
    pd.testing.assert_frame_equal(frames[0], frames[1])


@pytest.mark.parametrize("args, message", [
    (["--confidence", "1.2"], "strictly between 0 and 1"),
    (["--confidence", "0"], "strictly between 0 and 1"),
    (["--paths", "0"], "--paths 0: must be 2 to 1,000,000"),
    (["--paths", "100000000"], "--paths 100000000: must be 2 to 1,000,000"),
    (["--horizon-months", "16"], "must be 1 to 15"),
    (["--platform", "nowhere"], "no such platform"),
    (["--initial-reserve", "-5"], "non-negative"),
])
def test_bad_input_exits_2_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "never"
    code = main(["reserve", LIMIT, "--paths", "4", "--out", str(out), "--quiet", *args])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_scenario_without_reserve_is_refused(tmp_path, capsys):
    code = main(["reserve", "scenarios/baseline.toml", "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "platforms[0].guarantee.policy = 'none'" in err and "reserve_fund" in err
    assert not (tmp_path / "x").exists()


def test_a_released_market_frees_its_books_without_the_garbage_collector():
    import gc
    import weakref

    model = P2PMarket(LIMIT, rng=1, audit="off", **{"run.horizon_days": 30})
    model.run()
    loans = weakref.ref(model.book.loans)
    enabled = gc.isenabled()
    gc.disable()
    try:
        model.release()
        assert loans() is None  # freed by reference counting, at once
    finally:
        if enabled:
            gc.enable()


def test_a_reserve_with_funding_rules_is_refused_by_the_one_run_study(tmp_path, capsys):
    out = tmp_path / "x"
    code = main(["reserve", RESERVE, "--paths", "4", "--out", str(out), "--quiet",
                 "--solver", "one-run", "--set", "platforms.0.guarantee.target_coverage=0.05"])
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "funding rules (target_coverage" in err and "--solver root-finding" in err
